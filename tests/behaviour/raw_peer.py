#!/usr/bin/env python3
"""raw_peer.py — a scriptable raw TLS 1.3 client that speaks records by hand.

Used by tests/behaviour/hostile_server.sh to send malformed or unusual input to
a TLS 1.3 server and check what comes back (an alert, a ServerHello, a close),
always with a bounded read timeout.

Standard library only. If the `cryptography` module is installed it is used for
X25519, AES-GCM and ChaCha20-Poly1305 and for checking the server's
CertificateVerify; otherwise pure-Python X25519 (RFC 7748) and
ChaCha20-Poly1305 (RFC 8439) are used and the full handshake offers only
TLS_CHACHA20_POLY1305_SHA256 (set RAW_PEER_PURE=1 to force that path).

Usage:
  raw_peer.py --list                           names of the hostile cases
  raw_peer.py HOST PORT CASE [CASE...]         run cases; print "ok - CASE" or
                                               "not ok - CASE: what happened"
  raw_peer.py HOST PORT --handshake [--label L] full handshake + echo of "x\\n";
                                               prints "ok - L" / "not ok - L: ..."
  raw_peer.py --selftest                       check the pure-Python crypto
Options: --timeout SECONDS (default 5), --health (after each case, a full
handshake + echo must still work: "ok - server still serves after CASE"), --verbose (hex of what was sent/received
on stderr).
"""
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

PURE = os.environ.get("RAW_PEER_PURE") == "1"
try:
    if PURE:
        raise ImportError
    from cryptography.hazmat.primitives.asymmetric import x25519 as _cx25519
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305
    from cryptography.hazmat.primitives import serialization as _ser
    HAVE_CRYPTO = True
except ImportError:  # pragma: no cover - depends on the host
    HAVE_CRYPTO = False

VERBOSE = False

# ---------------------------------------------------------------- constants --

CT_CCS, CT_ALERT, CT_HANDSHAKE, CT_APPDATA = 20, 21, 22, 23
HS_CLIENT_HELLO, HS_SERVER_HELLO, HS_NST = 1, 2, 4
HS_EE, HS_CERT, HS_CR, HS_CV, HS_FINISHED, HS_KEY_UPDATE = 8, 11, 13, 15, 20, 24
EXT_SNI, EXT_GROUPS, EXT_SIGALGS, EXT_VERSIONS, EXT_KEY_SHARE = 0, 10, 13, 43, 51
EXT_PSK_MODES = 45
HRR_RANDOM = bytes.fromhex(
    "CF21AD74E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C")
SUITES = {  # id -> (hash, key length, aead kind)
    0x1301: ("sha256", 16, "aesgcm"),
    0x1302: ("sha384", 32, "aesgcm"),
    0x1303: ("sha256", 32, "chacha"),
}
ALERTS = {0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac",
          22: "record_overflow", 40: "handshake_failure", 42: "bad_certificate",
          47: "illegal_parameter", 50: "decode_error", 51: "decrypt_error",
          70: "protocol_version", 80: "internal_error", 90: "user_canceled",
          109: "missing_extension", 110: "unsupported_extension",
          112: "unrecognized_name", 120: "no_application_protocol"}
DEFAULT_SIGALGS = [0x0403, 0x0503, 0x0804, 0x0805, 0x0806, 0x0807, 0x0401, 0x0501]


def alert_name(d):
    return "%s(%d)" % (ALERTS.get(d, "alert"), d)


def log(msg):
    if VERBOSE:
        sys.stderr.write(msg + "\n")


# ------------------------------------------------------ X25519 (RFC 7748) --

_P = 2**255 - 19
_A24 = 121665


def _x25519_pure(k, u):
    k = bytearray(k)
    k[0] &= 248
    k[31] &= 127
    k[31] |= 64
    k = int.from_bytes(k, "little")
    u = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x1, x2, z2, x3, z3, swap = u, 1, 0, u, 1, 0
    for t in reversed(range(255)):
        kt = (k >> t) & 1
        swap ^= kt
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = kt
        a, b = (x2 + z2) % _P, (x2 - z2) % _P
        aa, bb = a * a % _P, b * b % _P
        e = (aa - bb) % _P
        c, d = (x3 + z3) % _P, (x3 - z3) % _P
        da, cb = d * a % _P, c * b % _P
        x3 = (da + cb) ** 2 % _P
        z3 = x1 * (da - cb) ** 2 % _P
        x2 = aa * bb % _P
        z2 = e * (aa + _A24 * e) % _P
    if swap:
        x2, x3, z2, z3 = x3, x2, z3, z2
    return (x2 * pow(z2, _P - 2, _P) % _P).to_bytes(32, "little")


class X25519Key:
    def __init__(self):
        self.priv = os.urandom(32)
        if HAVE_CRYPTO:
            self._k = _cx25519.X25519PrivateKey.from_private_bytes(self.priv)
            self.public = self._k.public_key().public_bytes(
                _ser.Encoding.Raw, _ser.PublicFormat.Raw)
        else:
            self.public = _x25519_pure(self.priv, (9).to_bytes(32, "little"))

    def exchange(self, peer):
        if HAVE_CRYPTO:
            return self._k.exchange(_cx25519.X25519PublicKey.from_public_bytes(peer))
        return _x25519_pure(self.priv, peer)


# ------------------------------------------ ChaCha20-Poly1305 (RFC 8439) --

def _rotl(v, c):
    return ((v << c) & 0xffffffff) | (v >> (32 - c))


def _chacha_block(key, counter, nonce):
    s = list(struct.unpack("<4I", b"expand 32-byte k") + struct.unpack("<8I", key)
             + (counter,) + struct.unpack("<3I", nonce))
    w = s[:]

    def qr(a, b, c, d):
        w[a] = (w[a] + w[b]) & 0xffffffff; w[d] = _rotl(w[d] ^ w[a], 16)
        w[c] = (w[c] + w[d]) & 0xffffffff; w[b] = _rotl(w[b] ^ w[c], 12)
        w[a] = (w[a] + w[b]) & 0xffffffff; w[d] = _rotl(w[d] ^ w[a], 8)
        w[c] = (w[c] + w[d]) & 0xffffffff; w[b] = _rotl(w[b] ^ w[c], 7)
    for _ in range(10):
        qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15)
        qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14)
    return struct.pack("<16I", *[(w[i] + s[i]) & 0xffffffff for i in range(16)])


def _chacha20(key, counter, nonce, data):
    out = bytearray()
    for i in range(0, len(data), 64):
        ks = _chacha_block(key, counter + i // 64, nonce)
        out += bytes(a ^ b for a, b in zip(data[i:i + 64], ks))
    return bytes(out)


def _poly1305(key, msg):
    r = int.from_bytes(key[:16], "little") & 0x0ffffffc0ffffffc0ffffffc0fffffff
    s = int.from_bytes(key[16:], "little")
    p, acc = (1 << 130) - 5, 0
    for i in range(0, len(msg), 16):
        n = int.from_bytes(msg[i:i + 16] + b"\x01", "little")
        acc = (acc + n) * r % p
    return ((acc + s) & ((1 << 128) - 1)).to_bytes(16, "little")


class _PureChaChaPoly:
    def __init__(self, key):
        self.key = key

    def _tag(self, nonce, aad, ct):
        otk = _chacha_block(self.key, 0, nonce)[:32]
        pad = lambda b: b + b"\x00" * (-len(b) % 16)  # noqa: E731
        return _poly1305(otk, pad(aad) + pad(ct) + struct.pack("<QQ", len(aad), len(ct)))

    def encrypt(self, nonce, pt, aad):
        ct = _chacha20(self.key, 1, nonce, pt)
        return ct + self._tag(nonce, aad, ct)

    def decrypt(self, nonce, data, aad):
        ct, tag = data[:-16], data[-16:]
        if len(data) < 16 or not hmac.compare_digest(tag, self._tag(nonce, aad, ct)):
            raise ValueError("bad tag")
        return _chacha20(self.key, 1, nonce, ct)


def make_aead(kind, key):
    if HAVE_CRYPTO:
        return AESGCM(key) if kind == "aesgcm" else ChaCha20Poly1305(key)
    if kind == "chacha":
        return _PureChaChaPoly(key)
    raise RuntimeError("AES-GCM needs the cryptography module")


# ---------------------------------------------------------- key schedule --

def hkdf_extract(h, salt, ikm):
    return hmac.new(salt, ikm, h).digest()


def hkdf_expand_label(h, secret, label, context, length):
    full = b"tls13 " + label.encode()
    info = struct.pack("!H", length) + bytes([len(full)]) + full + bytes([len(context)]) + context
    out, t, i = b"", b"", 1
    while len(out) < length:
        t = hmac.new(secret, t + info + bytes([i]), h).digest()
        out += t
        i += 1
    return out[:length]


def derive_secret(h, secret, label, transcript):
    return hkdf_expand_label(h, secret, label, hashlib.new(h, transcript).digest(),
                             hashlib.new(h).digest_size)


class RecordKeys:
    """One direction's traffic keys plus sequence number."""

    def __init__(self, suite, secret):
        h, klen, kind = SUITES[suite]
        self.key = hkdf_expand_label(h, secret, "key", b"", klen)
        self.iv = hkdf_expand_label(h, secret, "iv", b"", 12)
        self.aead = make_aead(kind, self.key)
        self.seq = 0

    def _nonce(self):
        return bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big")))

    def seal(self, ctype, data, pad=0):
        inner = data + bytes([ctype]) + b"\x00" * pad
        hdr = struct.pack("!BHH", CT_APPDATA, 0x0303, len(inner) + 16)
        ct = self.aead.encrypt(self._nonce(), inner, hdr)
        self.seq += 1
        return hdr + ct

    def open(self, payload):
        """Decrypt an application_data record; returns (type, content). Raises on bad tag."""
        hdr = struct.pack("!BHH", CT_APPDATA, 0x0303, len(payload))
        inner = self.aead.decrypt(self._nonce(), payload, hdr)
        self.seq += 1
        inner = inner.rstrip(b"\x00")
        if not inner:
            raise ValueError("inner plaintext has no content type")
        return inner[-1], inner[:-1]


# -------------------------------------------------------------- encoding --

def u8(n):
    return struct.pack("!B", n)


def u16(n):
    return struct.pack("!H", n)


def u24(n):
    return struct.pack("!I", n)[1:]


def vec8(b):
    return u8(len(b)) + b


def vec16(b):
    return u16(len(b)) + b


def ext(etype, data):
    return u16(etype) + vec16(data)


def handshake(htype, body):
    return u8(htype) + u24(len(body)) + body


def record(ctype, payload, version=0x0301, length=None):
    return struct.pack("!BHH", ctype, version, len(payload) if length is None else length) + payload


def records(ctype, payload, frag=16384, version=0x0301):
    return b"".join(record(ctype, payload[i:i + frag], version)
                    for i in range(0, len(payload), frag))


def u16list(vals):
    return b"".join(u16(v) for v in vals)


# P-256 generator point: a valid uncompressed secp256r1 public key.
P256_G = bytes.fromhex(
    "04"
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5")


class ClientHello:
    """A ClientHello with every field overridable. Build with .encode()."""

    def __init__(self, server_name="localhost"):
        self.legacy_version = 0x0303
        self.random = os.urandom(32)
        self.session_id = os.urandom(32)
        self.cipher_suites = [0x1301, 0x1302, 0x1303]
        self.compression = b"\x00"
        self.key = X25519Key()
        self.server_name = server_name
        self.versions = [0x0304]
        self.groups = [0x001d, 0x0017, 0x0018]
        self.key_shares = [(0x001d, self.key.public)]
        self.sigalgs = list(DEFAULT_SIGALGS)
        self.extra_extensions = []    # appended (type, data) pairs
        self.leading_extensions = []  # prepended (type, data) pairs
        self.omit = set()             # extension types to leave out
        self.extensions_len_delta = 0  # added to the extensions length field

    def extensions(self):
        exts = list(self.leading_extensions)
        if self.server_name is not None and EXT_SNI not in self.omit:
            name = self.server_name.encode()
            exts.append((EXT_SNI, vec16(u8(0) + vec16(name))))
        if EXT_VERSIONS not in self.omit:
            exts.append((EXT_VERSIONS, vec8(u16list(self.versions))))
        if EXT_GROUPS not in self.omit:
            exts.append((EXT_GROUPS, vec16(u16list(self.groups))))
        if EXT_SIGALGS not in self.omit:
            exts.append((EXT_SIGALGS, vec16(u16list(self.sigalgs))))
        if EXT_KEY_SHARE not in self.omit:
            exts.append((EXT_KEY_SHARE, vec16(b"".join(u16(g) + vec16(k) for g, k in self.key_shares))))
        if EXT_PSK_MODES not in self.omit:
            exts.append((EXT_PSK_MODES, vec8(b"\x01")))
        exts += self.extra_extensions
        return exts

    def body(self):
        exts = b"".join(ext(t, d) for t, d in self.extensions())
        return (u16(self.legacy_version) + self.random + vec8(self.session_id)
                + vec16(u16list(self.cipher_suites)) + vec8(self.compression)
                + u16(len(exts) + self.extensions_len_delta) + exts)

    def encode(self):
        """The handshake message (type + length + body)."""
        return handshake(HS_CLIENT_HELLO, self.body())


# ------------------------------------------------------------- transport --

class Peer:
    """A TCP connection plus an incremental TLS record reader."""

    def __init__(self, host, port, timeout):
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.end = None  # "eof" | "reset" | "timeout" once the read side ended
        self.send_error = None
        self.t0 = time.monotonic()

    def send(self, data):
        log(">> %s" % data[:96].hex() + ("..." if len(data) > 96 else ""))
        try:
            self.sock.sendall(data)
            return True
        except OSError as e:  # the server may close on us mid-send: not itself a failure
            self.send_error = e.__class__.__name__
            return False

    def shutdown_write(self):
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self, deadline):
        if self.end:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            self.end = "timeout"
            return False
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            self.end = "timeout"
            return False
        except (ConnectionResetError, BrokenPipeError):
            self.end = "reset"
            return False
        except OSError as e:
            self.end = "reset (%s)" % e
            return False
        if not data:
            self.end = "eof"
            return False
        log("<< %s" % data[:96].hex() + ("..." if len(data) > 96 else ""))
        self.buf += data
        return True

    def read_record(self, deadline=None):
        """Next record as (type, version, payload), or None when the stream ended
        (self.end says how; a partial record left over shows in self.buf)."""
        if deadline is None:
            deadline = time.monotonic() + self.timeout
        while True:
            if len(self.buf) >= 5:
                ctype, ver, n = struct.unpack("!BHH", self.buf[:5])
                if len(self.buf) >= 5 + n:
                    payload = self.buf[5:5 + n]
                    self.buf = self.buf[5 + n:]
                    return ctype, ver, payload
            if not self._fill(deadline):
                return None

    def wait_close(self, deadline):
        """Drain until the server closes; returns extra bytes seen."""
        extra = b""
        while not self.end:
            before = len(self.buf)
            if self._fill(deadline):
                extra += self.buf[before:]
        return extra

    def elapsed(self):
        return time.monotonic() - self.t0


def describe_records(recs):
    out = []
    for ctype, ver, payload in recs:
        if ctype == CT_ALERT and len(payload) == 2:
            out.append("alert level %d %s" % (payload[0], alert_name(payload[1])))
        elif ctype == CT_HANDSHAKE and payload:
            out.append("handshake record (type %d, %d bytes)" % (payload[0], len(payload)))
        else:
            out.append("record type %d (%d bytes)" % (ctype, len(payload)))
    return ", ".join(out) if out else "no records"


def observe(peer, stop=None):
    """Read records until the stream ends, the deadline passes, or stop(recs) is true.
    Returns the list of records."""
    deadline = time.monotonic() + peer.timeout
    recs = []
    while True:
        r = peer.read_record(deadline)
        if r is None:
            return recs
        recs.append(r)
        if stop and stop(recs):
            return recs


# ------------------------------------------------------------ assertions --

class CaseResult(Exception):
    pass


def fail(msg):
    raise CaseResult(msg)


def expect_alert(peer, allowed, allow_silent_close=False, what=""):
    """The server must answer with a fatal plaintext alert whose description is in
    `allowed` and then close, or (if allow_silent_close) just close, all within
    the timeout."""
    recs = observe(peer, stop=lambda rs: rs[-1][0] == CT_ALERT)
    want = " or ".join(alert_name(a) for a in sorted(allowed)) or "a close"
    if allow_silent_close and allowed:
        want += " or a close"
    if not recs:
        if peer.end in ("eof", "reset") or (peer.end or "").startswith("reset"):
            if allow_silent_close:
                return "closed without alert after %.2fs" % peer.elapsed()
            fail("connection %s without an alert after %.2fs (wanted %s)%s"
                 % ("closed" if peer.end == "eof" else "reset", peer.elapsed(), want,
                    "; %d stray bytes %s" % (len(peer.buf), peer.buf[:16].hex()) if peer.buf else ""))
        fail("no response and no close within %.1fs (hang; wanted %s)" % (peer.timeout, want))
    last = recs[-1]
    if last[0] != CT_ALERT:
        fail("server answered with %s instead of %s" % (describe_records(recs), want))
    if len(last[2]) != 2:
        fail("alert record with %d-byte payload %s" % (len(last[2]), last[2].hex()))
    level, desc = last[2]
    if desc not in allowed:
        fail("got alert %s (level %d), wanted %s" % (alert_name(desc), level, want))
    if level != 2:
        fail("alert %s sent with level %d, RFC 8446 §6 requires fatal(2)" % (alert_name(desc), level))
    if len(recs) > 1:
        fail("records before the alert: %s" % describe_records(recs))
    peer.wait_close(time.monotonic() + peer.timeout)
    if peer.end == "timeout":
        fail("alert %s sent but the connection was left open for %.1fs" % (alert_name(desc), peer.timeout))
    return "alert %s, then %s, after %.2fs" % (alert_name(desc), peer.end, peer.elapsed())


def parse_handshake_msgs(data):
    """Split a byte string into complete handshake messages; returns (msgs, rest)."""
    msgs = []
    while len(data) >= 4:
        n = int.from_bytes(data[1:4], "big")
        if len(data) < 4 + n:
            break
        msgs.append((data[0], data[4:4 + n], data[:4 + n]))
        data = data[4 + n:]
    return msgs, data


def parse_server_hello(body):
    """Returns dict with random, session_id, suite, extensions{type: data}."""
    p = 0

    def take(n):
        nonlocal p
        if p + n > len(body):
            raise ValueError("ServerHello truncated")
        v = body[p:p + n]
        p += n
        return v
    legacy = int.from_bytes(take(2), "big")
    random = take(32)
    sid = take(take(1)[0])
    suite = int.from_bytes(take(2), "big")
    comp = take(1)[0]
    exts = {}
    elen = int.from_bytes(take(2), "big")
    eend = p + elen
    if eend != len(body):
        raise ValueError("ServerHello extensions length %d does not match body" % elen)
    while p < eend:
        t = int.from_bytes(take(2), "big")
        d = take(int.from_bytes(take(2), "big"))
        if t in exts:
            raise ValueError("ServerHello repeats extension %d" % t)
        exts[t] = d
    return {"legacy_version": legacy, "random": random, "session_id": sid, "suite": suite,
            "compression": comp, "extensions": exts}


def read_server_hello(peer, ch, allow_hrr=False):
    """Reads records until a complete ServerHello; fails on anything else.
    Returns (parsed ServerHello, raw message bytes, leftover handshake bytes)."""
    deadline = time.monotonic() + peer.timeout
    hs = b""
    while True:
        r = peer.read_record(deadline)
        if r is None:
            fail("no ServerHello: connection %s after %.2fs%s" % (
                peer.end, peer.elapsed(), " (partial data %s)" % hs.hex()[:40] if hs else ""))
        ctype, ver, payload = r
        if ctype == CT_ALERT and len(payload) == 2:
            fail("server sent alert %s (level %d) instead of ServerHello"
                 % (alert_name(payload[1]), payload[0]))
        if ctype != CT_HANDSHAKE:
            fail("server sent a record of type %d before ServerHello" % ctype)
        hs += payload
        msgs, rest = parse_handshake_msgs(hs)
        if msgs:
            htype, body, raw = msgs[0]
            if htype != HS_SERVER_HELLO:
                fail("first handshake message has type %d, not ServerHello" % htype)
            try:
                sh = parse_server_hello(body)
            except ValueError as e:
                fail("malformed ServerHello: %s" % e)
            leftover = hs[len(raw):]
            if not (allow_hrr and sh["random"] == HRR_RANDOM):
                check_server_hello(sh, ch)
            return sh, raw, leftover


def check_server_hello(sh, ch):
    if sh["random"] == HRR_RANDOM:
        fail("server sent HelloRetryRequest (group %s) although a usable x25519 share was offered"
             % sh["extensions"].get(EXT_KEY_SHARE, b"").hex())
    if sh["legacy_version"] != 0x0303:
        fail("ServerHello legacy_version 0x%04x, want 0x0303" % sh["legacy_version"])
    if sh["session_id"] != ch.session_id:
        fail("ServerHello legacy_session_id_echo does not echo ours")
    if sh["suite"] not in ch.cipher_suites or sh["suite"] not in SUITES:
        fail("ServerHello selected cipher suite 0x%04x that we did not offer" % sh["suite"])
    if sh["compression"] != 0:
        fail("ServerHello compression %d" % sh["compression"])
    sv = sh["extensions"].get(EXT_VERSIONS)
    if sv != b"\x03\x04":
        fail("ServerHello supported_versions is %s, want 0304" % (sv.hex() if sv is not None else "missing"))
    ks = sh["extensions"].get(EXT_KEY_SHARE)
    if ks is None or len(ks) != 4 + 32 or ks[:2] != b"\x00\x1d" or ks[2:4] != b"\x00\x20":
        fail("ServerHello key_share is not a 32-byte x25519 share: %s" % (ks.hex() if ks else "missing"))
    if ks[4:] == b"\x00" * 32:
        fail("ServerHello x25519 share is all zero")


# ---------------------------------------------------- full TLS 1.3 client --

class Handshake:
    """Drives a TLS 1.3 handshake by hand, with hooks for misbehaving."""

    def __init__(self, peer, ch):
        self.peer, self.ch = peer, ch
        self.transcript = b""
        self.skip_appdata = False

    def send_client_hello(self, split=None):
        msg = self.ch.encode()
        self.transcript += msg
        if split:
            self.peer.send(records(CT_HANDSHAKE, msg, split))
        else:
            self.peer.send(record(CT_HANDSHAKE, msg))

    def recv_server_hello(self):
        sh, raw, leftover = read_server_hello(self.peer, self.ch)
        if leftover:
            fail("handshake data after ServerHello in the same plaintext record (%d bytes)" % len(leftover))
        self.sh = sh
        self.transcript += raw
        self.suite = sh["suite"]
        self.h = SUITES[self.suite][0]
        h = self.h
        hlen = hashlib.new(h).digest_size
        shared = self.ch.key.exchange(sh["extensions"][EXT_KEY_SHARE][4:])
        early = hkdf_extract(h, b"\x00" * hlen, b"\x00" * hlen)
        hs_secret = hkdf_extract(h, derive_secret(h, early, "derived", b""), shared)
        self.c_hs = derive_secret(h, hs_secret, "c hs traffic", self.transcript)
        self.s_hs = derive_secret(h, hs_secret, "s hs traffic", self.transcript)
        self.master = hkdf_extract(h, derive_secret(h, hs_secret, "derived", b""), b"\x00" * hlen)
        self.rx = RecordKeys(self.suite, self.s_hs)
        self.tx = RecordKeys(self.suite, self.c_hs)
        return sh

    def recv_encrypted(self, keys_list=None):
        """Next protected record decrypted: (type, content), skipping CCS records.
        keys_list: RecordKeys to try in turn (the server may already use its
        application keys for an alert sent after its Finished)."""
        deadline = time.monotonic() + self.peer.timeout
        while True:
            r = self.peer.read_record(deadline)
            if r is None:
                return None
            ctype, ver, payload = r
            if ctype == CT_CCS:
                if payload != b"\x01":
                    fail("server sent a ChangeCipherSpec record with payload %s" % payload.hex())
                continue
            if ctype == CT_ALERT and len(payload) == 2:
                return ("plaintext-alert", payload)
            if ctype != CT_APPDATA:
                fail("server sent a plaintext record of type %d after ServerHello" % ctype)
            for keys in (keys_list or [self.rx]):
                saved = keys.seq
                try:
                    return keys.open(payload)
                except Exception:
                    keys.seq = saved
            fail("could not decrypt a %d-byte record from the server" % len(payload))

    def recv_server_flight(self):
        h = self.h
        buf = b""
        seen = []
        while True:
            r = self.recv_encrypted()
            if r is None:
                fail("server flight incomplete: connection %s after %s" % (self.peer.end, seen))
            ctype, content = r
            if ctype == "plaintext-alert":
                fail("plaintext alert %s in the server flight" % alert_name(content[1]))
            if ctype == CT_ALERT:
                fail("encrypted alert %s in the server flight" % alert_name(content[1]))
            if ctype != CT_HANDSHAKE:
                fail("record type %d in the server flight" % ctype)
            buf += content
            msgs, buf = parse_handshake_msgs(buf)
            for htype, body, raw in msgs:
                seen.append(htype)
                if htype == HS_CV:
                    self.check_cert_verify(body)
                if htype == HS_CERT:
                    self.cert_body = body
                if htype == HS_FINISHED:
                    fk = hkdf_expand_label(h, self.s_hs, "finished", b"", hashlib.new(h).digest_size)
                    want = hmac.new(fk, hashlib.new(h, self.transcript).digest(), h).digest()
                    if not hmac.compare_digest(want, body):
                        fail("server Finished does not verify")
                    self.transcript += raw
                    if buf:
                        fail("handshake data after server Finished in the same flight")
                    if seen[:1] != [HS_EE] or HS_CERT not in seen or HS_CV not in seen:
                        fail("unexpected server flight order %s" % seen)
                    self.s_ap = derive_secret(h, self.master, "s ap traffic", self.transcript)
                    self.c_ap = derive_secret(h, self.master, "c ap traffic", self.transcript)
                    return seen
                self.transcript += raw

    def check_cert_verify(self, body):
        if not HAVE_CRYPTO or not hasattr(self, "cert_body"):
            self.transcript_for_cv = None
            return
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding, ed25519
        scheme = int.from_bytes(body[:2], "big")
        sig = body[4:4 + int.from_bytes(body[2:4], "big")]
        cb = self.cert_body
        ctx_len = cb[0]
        p = 1 + ctx_len + 3
        clen = int.from_bytes(cb[p:p + 3], "big")
        der = cb[p + 3:p + 3 + clen]
        cert = x509.load_der_x509_certificate(der)
        content = (b"\x20" * 64 + b"TLS 1.3, server CertificateVerify\x00"
                   + hashlib.new(self.h, self.transcript).digest())
        key = cert.public_key()
        try:
            if scheme in (0x0403, 0x0503, 0x0603):
                hh = {0x0403: hashes.SHA256(), 0x0503: hashes.SHA384(), 0x0603: hashes.SHA512()}[scheme]
                key.verify(sig, content, ec.ECDSA(hh))
            elif scheme in (0x0804, 0x0805, 0x0806):
                hh = {0x0804: hashes.SHA256(), 0x0805: hashes.SHA384(), 0x0806: hashes.SHA512()}[scheme]
                key.verify(sig, content, padding.PSS(padding.MGF1(hh), hh.digest_size), hh)
            elif scheme == 0x0807 and isinstance(key, ed25519.Ed25519PublicKey):
                key.verify(sig, content)
            else:
                fail("server CertificateVerify uses scheme 0x%04x" % scheme)
        except CaseResult:
            raise
        except Exception as e:
            fail("server CertificateVerify (scheme 0x%04x) does not verify: %s" % (scheme, e.__class__.__name__))

    def client_finished(self, corrupt=False):
        h = self.h
        fk = hkdf_expand_label(h, self.c_hs, "finished", b"", hashlib.new(h).digest_size)
        vd = hmac.new(fk, hashlib.new(h, self.transcript).digest(), h).digest()
        if corrupt:
            vd = bytes([vd[0] ^ 1]) + vd[1:]
        return handshake(HS_FINISHED, vd)

    def switch_to_application(self):
        self.tx = RecordKeys(self.suite, self.c_ap)
        self.rx_ap = RecordKeys(self.suite, self.s_ap)

    def expect_encrypted_alert(self, allowed):
        """After the server's Finished: the server must send an (encrypted) alert in
        `allowed` and close. Tries both its handshake and application keys."""
        if not hasattr(self, "rx_ap"):
            self.rx_ap = RecordKeys(self.suite, self.s_ap)
        keys = [self.rx, self.rx_ap]
        want = " or ".join(alert_name(a) for a in sorted(allowed))
        while True:
            r = self.recv_encrypted(keys)
            if r is None:
                if self.peer.end == "timeout":
                    fail("no alert and no close within %.1fs (hang; wanted %s)" % (self.peer.timeout, want))
                fail("connection %s without an alert (wanted %s)" % (self.peer.end, want))
            ctype, content = r
            if ctype == "plaintext-alert":
                fail("server sent a plaintext alert %s after ServerHello (must be encrypted)"
                     % alert_name(content[1]))
            if ctype == CT_HANDSHAKE and content[:1] == bytes([HS_NST]):
                continue  # a NewSessionTicket sent before the server saw our Finished
            if ctype == CT_APPDATA and self.skip_appdata:
                continue
            if ctype == CT_APPDATA:
                fail("server sent application data instead of %s" % want)
            if ctype != CT_ALERT or len(content) != 2:
                fail("server sent inner type %d (%s) instead of %s" % (ctype, content[:8].hex(), want))
            if content[1] not in allowed:
                fail("got encrypted alert %s, wanted %s" % (alert_name(content[1]), want))
            if content[0] != 2:
                fail("alert %s with level %d, want fatal(2)" % (alert_name(content[1]), content[0]))
            self.peer.wait_close(time.monotonic() + self.peer.timeout)
            if self.peer.end == "timeout":
                fail("alert sent but connection left open for %.1fs" % self.peer.timeout)
            return "encrypted alert %s then %s after %.2fs" % (alert_name(content[1]), self.peer.end,
                                                               self.peer.elapsed())


def full_handshake(host, port, timeout, payload=b"x\n"):
    """Handshake, send payload, expect it echoed, close_notify. Returns a summary."""
    peer = Peer(host, port, timeout)
    try:
        return handshake_and_echo(peer, payload)
    finally:
        peer.close()


def handshake_and_echo(peer, payload=b"x\n", ch=None, before_finished=b""):
    """Handshake on an open connection, send payload, expect it echoed, send close_notify."""
    if ch is None:
        ch = ClientHello()
    if not HAVE_CRYPTO:
        ch.cipher_suites = [0x1303]
    hs = Handshake(peer, ch)
    hs.send_client_hello()
    hs.recv_server_hello()
    hs.recv_server_flight()
    fin = hs.client_finished()
    peer.send(before_finished + hs.tx.seal(CT_HANDSHAKE, fin))
    hs.transcript += fin
    hs.switch_to_application()
    echo(hs, payload)
    peer.send(hs.tx.seal(CT_ALERT, b"\x01\x00"))
    return "suite 0x%04x, echo ok, %.2fs" % (hs.suite, peer.elapsed())


def echo(hs, payload, records_out=None):
    """Send payload (or the given pre-sealed records) and expect it echoed."""
    peer = hs.peer
    peer.send(records_out if records_out is not None else hs.tx.seal(CT_APPDATA, payload))
    got = b""
    while len(got) < len(payload):
        r = hs.recv_encrypted([hs.rx_ap])
        if r is None:
            fail("echo: connection %s after %d of %d bytes" % (peer.end, len(got), len(payload)))
        ctype, content = r
        if ctype == CT_HANDSHAKE:
            if content[:1] in (bytes([HS_NST]), bytes([HS_KEY_UPDATE])):
                continue
            fail("unexpected post-handshake message type %d" % content[0])
        if ctype == CT_ALERT:
            fail("alert %s instead of echo" % alert_name(content[1]))
        if ctype != CT_APPDATA:
            fail("inner type %d instead of echo" % ctype)
        got += content
        if not payload.startswith(got):
            i = next(i for i in range(len(got)) if got[i] != payload[i])
            fail("echo differs at byte %d of %d: sent %r..., got %r..."
                 % (i, len(payload), payload[i:i + 16], got[i:i + 16]))


# ------------------------------------------------------------ the cases --

def garbage_bytes(seed, n):
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(b"%s-%d" % (seed, i)).digest()
        i += 1
    return out[:n]


CASES = []


def case(name):
    def reg(fn):
        CASES.append((name, fn))
        return fn
    return reg


@case("garbage: HTTP request")
def _(peer):
    peer.send(b"GET / HTTP/1.1\r\n\r\n")
    return expect_alert(peer, {10, 50}, allow_silent_close=True)


@case("garbage: 64 random bytes")
def _(peer):
    data = garbage_bytes(b"raw_peer", 64)
    assert data[0] not in (20, 21, 22, 23)  # deterministic: not a valid content type
    peer.send(data)
    return expect_alert(peer, {10, 50}, allow_silent_close=True)


@case("truncated record then half-close")
def _(peer):
    ch = ClientHello().encode()
    peer.send(record(CT_HANDSHAKE, ch[:10], length=100))
    peer.shutdown_write()
    return expect_alert(peer, {50}, allow_silent_close=True)


@case("oversize record (2^14+1 bytes)")
def _(peer):
    n = 2**14 + 1
    body = ClientHello().body()
    body += b"\x00" * (n - 4 - len(body))
    msg = handshake(HS_CLIENT_HELLO, body)
    assert len(msg) == n
    peer.send(record(CT_HANDSHAKE, msg))
    return expect_alert(peer, {22})


@case("Finished as first handshake message")
def _(peer):
    peer.send(record(CT_HANDSHAKE, handshake(HS_FINISHED, b"\x00" * 32)))
    return expect_alert(peer, {10})


@case("Certificate as first handshake message")
def _(peer):
    peer.send(record(CT_HANDSHAKE, handshake(HS_CERT, b"\x00" + u24(0))))
    return expect_alert(peer, {10})


@case("ClientHello without supported_versions (TLS 1.2 style)")
def _(peer):
    ch = ClientHello()
    ch.omit = {EXT_VERSIONS, EXT_KEY_SHARE, EXT_PSK_MODES}
    ch.cipher_suites = [0xc02b, 0xc02f, 0x009c, 0x1301]
    ch.extra_extensions = [(11, b"\x01\x00")]  # ec_point_formats: uncompressed
    peer.send(record(CT_HANDSHAKE, ch.encode()))
    return expect_alert(peer, {70})


@case("ClientHello with supported_versions = {0x0303} only")
def _(peer):
    ch = ClientHello()
    ch.versions = [0x0303]
    peer.send(record(CT_HANDSHAKE, ch.encode()))
    return expect_alert(peer, {70})


@case("ClientHello with duplicated supported_groups extension")
def _(peer):
    ch = ClientHello()
    ch.extra_extensions = [(EXT_GROUPS, vec16(u16list([0x001d])))]
    peer.send(record(CT_HANDSHAKE, ch.encode()))
    return expect_alert(peer, {47})


@case("ClientHello with duplicated server_name extension")
def _(peer):
    ch = ClientHello()
    ch.extra_extensions = [(EXT_SNI, vec16(u8(0) + vec16(b"localhost")))]
    peer.send(record(CT_HANDSHAKE, ch.encode()))
    return expect_alert(peer, {47})


@case("ClientHello key_share group not in supported_groups")
def _(peer):
    ch = ClientHello()
    ch.groups = [0x0017]             # secp256r1 only ...
    ch.key_shares = [(0x001d, ch.key.public)]  # ... but an x25519 share
    peer.send(record(CT_HANDSHAKE, ch.encode()))
    return expect_alert(peer, {47})


@case("ClientHello extensions length overruns the message")
def _(peer):
    ch = ClientHello()
    ch.extensions_len_delta = 10
    peer.send(record(CT_HANDSHAKE, ch.encode()))
    return expect_alert(peer, {50})


@case("ClientHello with GREASE everywhere")
def _(peer):
    ch = ClientHello()
    ch.cipher_suites = [0x0a0a, 0x1301, 0x1302, 0x1303, 0xfafa]
    ch.groups = [0x1a1a, 0x001d, 0x0017]
    ch.key_shares = [(0x1a1a, b"\x00"), (0x001d, ch.key.public)]
    ch.versions = [0x2a2a, 0x0304, 0x3a3a]
    ch.sigalgs = [0x4a4a] + DEFAULT_SIGALGS
    ch.leading_extensions = [(0x5a5a, b"")]
    ch.extra_extensions = [(0x6a6a, b"\x00")]
    peer.send(record(CT_HANDSHAKE, ch.encode()))
    sh, _, _ = read_server_hello(peer, ch)
    if sh["suite"] & 0x0f0f == 0x0a0a:
        fail("server selected a GREASE cipher suite")
    return "ServerHello, suite 0x%04x, version 0304, after %.2fs" % (sh["suite"], peer.elapsed())


@case("ClientHello with no common cipher suite (0x1304 only)")
def _(peer):
    ch = ClientHello()
    ch.cipher_suites = [0x1304]
    peer.send(record(CT_HANDSHAKE, ch.encode()))
    return expect_alert(peer, {40})


@case("ClientHello split into 1-byte records")
def _(peer):
    ch = ClientHello()
    peer.send(records(CT_HANDSHAKE, ch.encode(), 1))
    sh, _, _ = read_server_hello(peer, ch)
    return "ServerHello after %.2fs" % peer.elapsed()


@case("zero-length handshake record before ClientHello")
def _(peer):
    ch = ClientHello()
    peer.send(record(CT_HANDSHAKE, b"") + record(CT_HANDSHAKE, ch.encode()))
    return expect_alert(peer, {10, 50})


@case("close_notify before any handshake")
def _(peer):
    peer.send(record(CT_ALERT, b"\x01\x00"))
    recs = observe(peer, stop=None)
    if peer.end == "timeout":
        fail("connection still open %.1fs after close_notify (%s)" % (peer.timeout, describe_records(recs)))
    bad = [r for r in recs if not (r[0] == CT_ALERT and len(r[2]) == 2)]
    if bad:
        fail("server answered close_notify with %s" % describe_records(recs))
    return "%s, %s after %.2fs" % (describe_records(recs), peer.end, peer.elapsed())


# ---- beyond the ServerHello: the server's alerts are encrypted; we decrypt them.

def _after_server_flight(peer):
    ch = ClientHello()
    if not HAVE_CRYPTO:
        ch.cipher_suites = [0x1303]
    hs = Handshake(peer, ch)
    hs.send_client_hello()
    hs.recv_server_hello()
    hs.recv_server_flight()
    return hs


@case("client Finished with a wrong verify_data")
def _(peer):
    hs = _after_server_flight(peer)
    peer.send(hs.tx.seal(CT_HANDSHAKE, hs.client_finished(corrupt=True)))
    return hs.expect_encrypted_alert({51})


@case("client Finished record with a corrupted AEAD tag")
def _(peer):
    hs = _after_server_flight(peer)
    rec = bytearray(hs.tx.seal(CT_HANDSHAKE, hs.client_finished()))
    rec[-1] ^= 0x80
    peer.send(bytes(rec))
    return hs.expect_encrypted_alert({20})


@case("plaintext handshake record after ServerHello")
def _(peer):
    hs = _after_server_flight(peer)
    peer.send(record(CT_HANDSHAKE, hs.client_finished(), version=0x0303))
    return hs.expect_encrypted_alert({10})


@case("ChangeCipherSpec with a bad payload before client Finished")
def _(peer):
    hs = _after_server_flight(peer)
    peer.send(record(CT_CCS, b"\x02", version=0x0303))
    return hs.expect_encrypted_alert({10})


@case("application data before client Finished")
def _(peer):
    hs = _after_server_flight(peer)
    ap = RecordKeys(hs.suite, hs.c_ap)
    peer.send(ap.seal(CT_APPDATA, b"early\n"))
    # The server still reads with our handshake keys: the record does not decrypt.
    return hs.expect_encrypted_alert({20, 10})


@case("ChangeCipherSpec compatibility record before client Finished")
def _(peer):
    # RFC 8446 §5 / D.4: a CCS record with the single byte 0x01 received between
    # the first ClientHello and the peer's Finished must be dropped.
    return handshake_and_echo(peer, before_finished=record(CT_CCS, b"\x01", version=0x0303))


# ---- more ClientHello violations (plaintext alerts).

def _send_ch(peer, ch, trailing=b""):
    peer.send(record(CT_HANDSHAKE, ch.encode() + trailing))


@case("ClientHello with compression methods {1, 0}")
def _(peer):
    ch = ClientHello()
    ch.compression = b"\x01\x00"
    _send_ch(peer, ch)
    return expect_alert(peer, {47})  # RFC 8446 §4.1.2


@case("ClientHello with a 33-byte legacy_session_id")
def _(peer):
    ch = ClientHello()
    ch.session_id = os.urandom(33)
    _send_ch(peer, ch)
    return expect_alert(peer, {50, 47})


@case("ClientHello with an empty cipher_suites vector")
def _(peer):
    ch = ClientHello()
    ch.cipher_suites = []
    _send_ch(peer, ch)
    return expect_alert(peer, {50, 40, 47})


@case("ClientHello with an odd-length cipher_suites vector")
def _(peer):
    ch = ClientHello()
    body = bytearray(ch.body())
    # cipher_suites length sits after version(2) random(32) sid(1+32): make it 5
    # and drop a byte at the end of the list so the rest stays aligned.
    off = 2 + 32 + 1 + len(ch.session_id)
    n = int.from_bytes(body[off:off + 2], "big")
    body[off:off + 2] = u16(n - 1)
    del body[off + 2 + n - 1]
    peer.send(record(CT_HANDSHAKE, handshake(HS_CLIENT_HELLO, bytes(body))))
    return expect_alert(peer, {50})


@case("ClientHello with bytes after the extensions block")
def _(peer):
    ch = ClientHello()
    peer.send(record(CT_HANDSHAKE, handshake(HS_CLIENT_HELLO, ch.body() + b"\x00\x00\x00")))
    return expect_alert(peer, {50})


@case("ClientHello followed by another handshake message in the same record")
def _(peer):
    ch = ClientHello()
    # RFC 8446 §5.1: a message preceding a key change must end on a record boundary.
    # Best: a plaintext unexpected_message at once. Also accepted: the server
    # answers the ClientHello, then notices at its key change and sends the alert
    # encrypted (noted in the result).
    if not HAVE_CRYPTO:
        ch.cipher_suites = [0x1303]
    hs = Handshake(peer, ch)
    hs.transcript += ch.encode()
    _send_ch(peer, ch, trailing=handshake(HS_FINISHED, b"\x00" * 32))
    r = peer.read_record()
    if r is None or r[0] != CT_HANDSHAKE:
        if r is not None:
            peer.buf = record(r[0], r[2], version=r[1]) + peer.buf
        return expect_alert(peer, {10})
    peer.buf = record(r[0], r[2], version=r[1]) + peer.buf
    hs.recv_server_hello()
    hs.recv_server_flight()
    return "late: " + hs.expect_encrypted_alert({10}) + ", after sending its whole flight"


@case("ClientHello without signature_algorithms")
def _(peer):
    ch = ClientHello()
    ch.omit = {EXT_SIGALGS}
    _send_ch(peer, ch)
    return expect_alert(peer, {109})  # RFC 8446 §9.2


@case("ClientHello with supported_groups but no key_share")
def _(peer):
    ch = ClientHello()
    ch.omit = {EXT_KEY_SHARE}
    _send_ch(peer, ch)
    return expect_alert(peer, {109})  # RFC 8446 §9.2


@case("ClientHello with an x25519 share of 31 bytes")
def _(peer):
    ch = ClientHello()
    ch.key_shares = [(0x001d, ch.key.public[:31])]
    _send_ch(peer, ch)
    return expect_alert(peer, {47, 50})


@case("ClientHello with an all-zero (low-order) x25519 share")
def _(peer):
    ch = ClientHello()
    ch.key_shares = [(0x001d, b"\x00" * 32)]
    _send_ch(peer, ch)
    # RFC 8446 §7.4.2: the all-zero shared secret must be refused.
    return expect_alert(peer, {47, 40})


# X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem): ML-KEM-768 ek (1,184 bytes)
# then an x25519 key. A share of the wrong length, an ek that fails FIPS
# 203's modulus check, and a valid ek with an all-zero x25519 half are each
# illegal_parameter (RFC 8446 4.2.8). The all-zero ek passes the modulus
# check (every coefficient 0 < q), which isolates the x25519 half.
X25519MLKEM768 = 0x11ec


def _hybrid_ch(share):
    ch = ClientHello()
    ch.groups = [X25519MLKEM768, 0x001d]
    ch.key_shares = [(X25519MLKEM768, share)]
    return ch


@case("ClientHello with an X25519MLKEM768 share one byte short")
def _(peer):
    _send_ch(peer, _hybrid_ch(b"\x00" * 1184 + X25519Key().public[:31]))
    return expect_alert(peer, {47})


@case("ClientHello with an X25519MLKEM768 share one byte long")
def _(peer):
    _send_ch(peer, _hybrid_ch(b"\x00" * 1184 + X25519Key().public + b"\x00"))
    return expect_alert(peer, {47})


@case("ClientHello with an X25519MLKEM768 ek failing the modulus check")
def _(peer):
    _send_ch(peer, _hybrid_ch(b"\xff" * 1184 + X25519Key().public))
    return expect_alert(peer, {47})


@case("ClientHello with an X25519MLKEM768 share whose x25519 half is all zero")
def _(peer):
    _send_ch(peer, _hybrid_ch(b"\x00" * 1184 + b"\x00" * 32))
    return expect_alert(peer, {47})


@case("ClientHello with two key_share entries for the same group")
def _(peer):
    ch = ClientHello()
    ch.key_shares = [(0x001d, ch.key.public), (0x001d, X25519Key().public)]
    _send_ch(peer, ch)
    # RFC 8446 §4.2.8: servers MAY check this (illegal_parameter); a ServerHello
    # using our first share is also conforming.
    r = peer.read_record()
    if r and r[0] == CT_HANDSHAKE and r[2][:1] == bytes([HS_SERVER_HELLO]):
        sh = parse_server_hello(r[2][4:4 + int.from_bytes(r[2][1:4], "big")])
        check_server_hello(sh, ch)
        return "accepted (not checked; allowed by RFC 8446 §4.2.8)"
    if r:
        peer.buf = record(r[0], r[2], version=r[1]) + peer.buf
    return expect_alert(peer, {47})


@case("ClientHello with pre_shared_key not the last extension")
def _(peer):
    ch = ClientHello()
    identity = vec16(b"\x01" * 16) + struct.pack("!I", 0)
    psk = vec16(identity) + vec16(vec8(b"\x00" * 32))
    ch.extra_extensions = [(41, psk), (0x0015, b"\x00" * 4)]  # then padding
    _send_ch(peer, ch)
    return expect_alert(peer, {47})  # RFC 8446 §4.2.11


@case("ClientHello with a 16 MiB length, streamed")
def _(peer):
    ch = ClientHello().body()
    first = u8(HS_CLIENT_HELLO) + u24(0xffffff) + ch
    peer.send(record(CT_HANDSHAKE, first))
    # Keep streaming 16 KiB records (up to 1 MiB) while the server has not answered:
    # it must give up at its handshake size cap rather than buffer 16 MiB.
    peer.sock.setblocking(False)
    sent = len(first)
    chunk = record(CT_HANDSHAKE, b"\x00" * 16384)
    while sent < (1 << 20):
        try:
            peer.sock.send(chunk)  # a partial send only garbles later records; fine
        except BlockingIOError:
            break
        except OSError:
            break
        sent += 16384
        try:
            if peer.sock.recv(1, socket.MSG_PEEK):
                break
        except BlockingIOError:
            pass
        except OSError:
            break
    peer.sock.setblocking(True)
    return expect_alert(peer, {10, 22, 47, 50, 80})


@case("application_data record before any handshake")
def _(peer):
    peer.send(record(CT_APPDATA, b"hello", version=0x0303))
    return expect_alert(peer, {10})


@case("alert record of 3 bytes before any handshake")
def _(peer):
    peer.send(record(CT_ALERT, b"\x02\x28\x00"))
    return expect_alert(peer, {50, 10}, allow_silent_close=True)


@case("ClientHello with an empty key_share list gets a HelloRetryRequest")
def _(peer):
    ch = ClientHello()
    ch.key_shares = []
    _send_ch(peer, ch)
    sh, raw, _ = read_server_hello(peer, ch, allow_hrr=True)
    if sh["random"] != HRR_RANDOM:
        fail("server answered an empty key_share with a ServerHello, not a HelloRetryRequest")
    ks = sh["extensions"].get(EXT_KEY_SHARE)
    if ks is None or len(ks) != 2 or int.from_bytes(ks, "big") not in ch.groups:
        fail("HelloRetryRequest key_share %s does not name one of our groups"
             % (ks.hex() if ks is not None else "missing"))
    if sh["extensions"].get(EXT_VERSIONS) != b"\x03\x04":
        fail("HelloRetryRequest without supported_versions 0304")
    if sh["session_id"] != ch.session_id:
        fail("HelloRetryRequest does not echo legacy_session_id")
    return "HelloRetryRequest for group 0x%04x after %.2fs" % (int.from_bytes(ks, "big"), peer.elapsed())


# ---- after the handshake: the record layer under application keys.

def _established(peer):
    hs = _after_server_flight(peer)
    fin = hs.client_finished()
    peer.send(hs.tx.seal(CT_HANDSHAKE, fin))
    hs.transcript += fin
    hs.switch_to_application()
    return hs


@case("zero-length application_data record, then data")
def _(peer):
    hs = _established(peer)
    echo(hs, b"x\n", hs.tx.seal(CT_APPDATA, b"") + hs.tx.seal(CT_APPDATA, b"x\n"))
    return "echo ok after an empty record, %.2fs" % peer.elapsed()


@case("application_data with 4000 bytes of zero padding")
def _(peer):
    hs = _established(peer)
    echo(hs, b"pap\n", hs.tx.seal(CT_APPDATA, b"pap\n", pad=4000))
    return "echo ok, %.2fs" % peer.elapsed()


@case("16384 bytes of application data in one record")
def _(peer):
    hs = _established(peer)
    # Palindromic lines, so that `openssl s_server -rev` (the harness self-check) echoes them too.
    lines = [b"%05d-ab" % i for i in range(1024)]
    data = b"".join(x + x[::-1] + b"\n" for x in lines)[:16383] + b"\n"
    data = data[:data.rindex(b"\n", 0, 16383) + 1]
    data += b"z" * (16383 - len(data)) + b"\n"
    echo(hs, data, hs.tx.seal(CT_APPDATA, data))
    return "echo of 16384 bytes ok, %.2fs" % peer.elapsed()


@case("protected record with inner plaintext of 2^14+1 bytes")
def _(peer):
    hs = _established(peer)
    peer.send(hs.tx.seal(CT_APPDATA, b"A" * (2**14 + 1)))
    hs.skip_appdata = True
    return hs.expect_encrypted_alert({22})


@case("protected record with ciphertext over 2^14+256 bytes")
def _(peer):
    hs = _established(peer)
    # 2^14 + 240 bytes of padding: legal inner size would be exceeded at the record
    # layer (ciphertext 2^14+257) before decryption.
    peer.send(hs.tx.seal(CT_APPDATA, b"B" * 16384, pad=241))
    hs.skip_appdata = True
    return hs.expect_encrypted_alert({22})


@case("protected record whose inner plaintext is all zeros")
def _(peer):
    hs = _established(peer)
    h = hs.tx
    hdr = struct.pack("!BHH", CT_APPDATA, 0x0303, 8 + 16)
    ct = h.aead.encrypt(h._nonce(), b"\x00" * 8, hdr)
    h.seq += 1
    peer.send(hdr + ct)
    return hs.expect_encrypted_alert({10})


@case("KeyUpdate(update_requested) then data under new keys")
def _(peer):
    hs = _established(peer)
    peer.send(hs.tx.seal(CT_HANDSHAKE, handshake(HS_KEY_UPDATE, b"\x01")))
    h = hs.h
    hlen = hashlib.new(h).digest_size
    hs.c_ap = hkdf_expand_label(h, hs.c_ap, "traffic upd", b"", hlen)
    hs.tx = RecordKeys(hs.suite, hs.c_ap)
    peer.send(hs.tx.seal(CT_APPDATA, b"kuk\n"))
    # Expect the server's KeyUpdate(update_not_requested), then the echo under its new keys.
    deadline_keys = hs.rx_ap
    while True:
        r = hs.recv_encrypted([deadline_keys])
        if r is None:
            fail("no KeyUpdate from the server: connection %s" % peer.end)
        ctype, content = r
        if ctype == CT_HANDSHAKE and content[:1] == bytes([HS_NST]):
            continue
        if ctype == CT_HANDSHAKE and content[:1] == bytes([HS_KEY_UPDATE]):
            if content != handshake(HS_KEY_UPDATE, b"\x00"):
                fail("server KeyUpdate is %s, want update_not_requested" % content.hex())
            break
        fail("got inner type %d (%s) before the server's KeyUpdate" % (ctype, content[:8].hex()))
    hs.s_ap = hkdf_expand_label(h, hs.s_ap, "traffic upd", b"", hlen)
    hs.rx_ap = RecordKeys(hs.suite, hs.s_ap)
    echo(hs, b"kuk\n", b"")
    return "server updated its keys and echoed, %.2fs" % peer.elapsed()


@case("stalled partial ClientHello does not block other clients")
def _(peer):
    # Half a ClientHello, then silence: while it hangs open, a second client must
    # still get a full handshake and echo (the server must not serve one client
    # at a time or block on a read).
    ch = ClientHello().encode()
    peer.send(record(CT_HANDSHAKE, ch)[:40])
    host, port = peer.sock.getpeername()[:2]
    other = full_handshake(host, port, peer.timeout)
    return "second client served while the first stalled (%s)" % other


# ---- hardening cases (issue: hostile peers): sizes, fragments, every state,
# versions, floods, slow peers.

@case("record header announcing 65535 bytes (over 2^14+256) before ClientHello")
def _(peer):
    # The length alone is illegal: refuse at the header, do not wait for 64 KiB.
    peer.send(struct.pack("!BHH", CT_HANDSHAKE, 0x0301, 0xffff) + b"\x01" * 100)
    return expect_alert(peer, {22, 50}, allow_silent_close=True)


@case("handshake header alone (4 bytes) then half-close")
def _(peer):
    peer.send(record(CT_HANDSHAKE, u8(HS_CLIENT_HELLO) + u24(200)))
    peer.shutdown_write()
    return expect_alert(peer, {50, 10}, allow_silent_close=True)


@case("ClientHello fragments that never complete, then half-close")
def _(peer):
    ch = ClientHello().encode()
    peer.send(records(CT_HANDSHAKE, ch[:len(ch) // 2], 7))
    peer.shutdown_write()
    return expect_alert(peer, {50, 10}, allow_silent_close=True)


@case("zero-length handshake record between ClientHello fragments")
def _(peer):
    ch = ClientHello().encode()
    peer.send(record(CT_HANDSHAKE, ch[:20]) + record(CT_HANDSHAKE, b"") + record(CT_HANDSHAKE, ch[20:]))
    return expect_alert(peer, {10, 50})


for _htype, _hname in [(HS_SERVER_HELLO, "ServerHello"), (HS_NST, "NewSessionTicket"),
                       (5, "EndOfEarlyData"), (HS_EE, "EncryptedExtensions"),
                       (HS_CR, "CertificateRequest"), (HS_CV, "CertificateVerify"),
                       (HS_KEY_UPDATE, "KeyUpdate"), (254, "message_hash"), (99, "unknown type 99")]:
    def _mk(htype):
        def fn(peer):
            peer.send(record(CT_HANDSHAKE, handshake(htype, b"\x00" * 8)))
            return expect_alert(peer, {10})
        return fn
    case("%s as first handshake message" % _hname)(_mk(_htype))


@case("ClientHello with 3000 unknown extensions")
def _(peer):
    ch = ClientHello()
    ch.extra_extensions = [(0x7000 + i, b"") for i in range(3000)]
    peer.send(records(CT_HANDSHAKE, ch.encode()))
    # A real client never sends that many: refusing (decode_error) is as good
    # as answering; hanging or crashing is not.
    r = peer.read_record()
    if r and r[0] == CT_HANDSHAKE and r[2][:1] == bytes([HS_SERVER_HELLO]):
        return "answered with a ServerHello after %.2fs" % peer.elapsed()
    if r:
        peer.buf = record(r[0], r[2], version=r[1]) + peer.buf
    return expect_alert(peer, {50, 47})


@case("ClientHello with 20000 cipher suites (across records)")
def _(peer):
    ch = ClientHello()
    ch.cipher_suites = [0x0a00 + (i % 0xf000) for i in range(20000)] + [0x1301]
    peer.send(records(CT_HANDSHAKE, ch.encode()))
    r = peer.read_record()
    if r and r[0] == CT_HANDSHAKE and r[2][:1] == bytes([HS_SERVER_HELLO]):
        sh = parse_server_hello(r[2][4:4 + int.from_bytes(r[2][1:4], "big")])
        if sh["suite"] != 0x1301:
            fail("server chose suite 0x%04x, not the only one it knows (0x1301)" % sh["suite"])
        return "ServerHello with 0x1301 after %.2fs" % peer.elapsed()
    if r:
        peer.buf = record(r[0], r[2], version=r[1]) + peer.buf
    return expect_alert(peer, {50})


@case("ClientHello with 5000 supported_groups and 500 signature algorithms")
def _(peer):
    ch = ClientHello()
    ch.groups = [0x0100 + i for i in range(5000)] + [0x001d]
    ch.sigalgs = [0x0900 + i for i in range(500)] + DEFAULT_SIGALGS
    peer.send(records(CT_HANDSHAKE, ch.encode()))
    r = peer.read_record()
    if r and r[0] == CT_HANDSHAKE and r[2][:1] == bytes([HS_SERVER_HELLO]):
        return "ServerHello after %.2fs" % peer.elapsed()
    if r:
        peer.buf = record(r[0], r[2], version=r[1]) + peer.buf
    return expect_alert(peer, {50})


@case("ClientHello legacy_version 0x0301 with supported_versions 0304")
def _(peer):
    ch = ClientHello()
    ch.legacy_version = 0x0301  # RFC 8446 §4.2.1: supported_versions decides
    _send_ch(peer, ch)
    read_server_hello(peer, ch)
    return "ServerHello (TLS 1.3) after %.2fs" % peer.elapsed()


@case("ClientHello offering only TLS 1.1 and 1.0 in supported_versions")
def _(peer):
    ch = ClientHello()
    ch.versions = [0x0302, 0x0301]
    _send_ch(peer, ch)
    return expect_alert(peer, {70})


@case("ClientHello offering only draft TLS 1.3 (0x7f1c)")
def _(peer):
    ch = ClientHello()
    ch.versions = [0x7f1c]
    _send_ch(peer, ch)
    return expect_alert(peer, {70})


@case("ClientHello with TLS_FALLBACK_SCSV and legacy_version 0x0302, no supported_versions")
def _(peer):
    ch = ClientHello()
    ch.legacy_version = 0x0302
    ch.omit = {EXT_VERSIONS}
    ch.cipher_suites = [0xc02b, 0x5600]
    _send_ch(peer, ch)
    return expect_alert(peer, {70, 86, 40})


@case("ClientHello with supported_versions listed twice")
def _(peer):
    ch = ClientHello()
    ch.extra_extensions = [(EXT_VERSIONS, vec8(u16list([0x0304])))]
    _send_ch(peer, ch)
    return expect_alert(peer, {47})


@case("ChangeCipherSpec before ClientHello")
def _(peer):
    peer.send(record(CT_CCS, b"\x01", version=0x0303) + record(CT_HANDSHAKE, ClientHello().encode()))
    return expect_alert(peer, {10})


@case("100 ChangeCipherSpec records before client Finished")
def _(peer):
    hs = _after_server_flight(peer)
    peer.send(record(CT_CCS, b"\x01", version=0x0303) * 100)
    # One is legal; a flood may be refused (unexpected_message) or dropped.
    fin = hs.client_finished()
    peer.send(hs.tx.seal(CT_HANDSHAKE, fin))
    hs.transcript += fin
    hs.switch_to_application()
    try:
        echo(hs, b"ccs\n")
        return "all dropped, echo ok, %.2fs" % peer.elapsed()
    except CaseResult as e:
        if "alert unexpected_message" in str(e) or "alert" in str(e) and "(10)" in str(e):
            return "refused with unexpected_message"
        raise


@case("ChangeCipherSpec after the handshake")
def _(peer):
    hs = _established(peer)
    peer.send(record(CT_CCS, b"\x01", version=0x0303))
    hs.skip_appdata = True
    return hs.expect_encrypted_alert({10})


@case("1000 warning-level alerts before ClientHello")
def _(peer):
    peer.send(record(CT_ALERT, b"\x01\x5a") * 1000)  # user_canceled, warning
    # Best: refuse the flood at once (BoringSSL allows 4 warning alerts in a
    # row). Acceptable: ignore them and close at the handshake timeout (10 s
    # for certa serve). Not acceptable: answer, or stay open past that.
    peer.timeout = max(peer.timeout, 13.0)
    recs = observe(peer)
    if peer.end == "timeout":
        fail("connection still open %.1fs after an alert flood (%s)" % (peer.timeout, describe_records(recs)))
    bad = [r for r in recs if r[0] != CT_ALERT]
    if bad:
        fail("server answered the alert flood with %s" % describe_records(recs))
    how = "refused at once" if peer.elapsed() < 5 else "ignored until the handshake timeout"
    return "%s: %s, %s after %.2fs" % (how, describe_records(recs) or "no records", peer.end, peer.elapsed())


@case("encrypted warning alerts flood after the handshake")
def _(peer):
    hs = _established(peer)
    peer.send(b"".join(hs.tx.seal(CT_ALERT, b"\x01\x5a") for _ in range(500)))
    recs = observe(peer)
    if peer.end == "timeout":
        fail("connection still open %.1fs after 500 encrypted user_canceled alerts" % peer.timeout)
    return "%s after %.2fs" % (peer.end, peer.elapsed())


for _htype, _hname, _body in [(HS_CLIENT_HELLO, "ClientHello (renegotiation-style)", None),
                              (HS_FINISHED, "a second Finished", b"\x00" * 32),
                              (HS_CERT, "Certificate", b"\x00" + u24(0)),
                              (HS_NST, "NewSessionTicket from the client", b"\x00" * 16),
                              (HS_SERVER_HELLO, "ServerHello", b"\x03\x03" + b"\x00" * 36),
                              (5, "EndOfEarlyData", b"")]:
    def _mk2(htype, body):
        def fn(peer):
            hs = _established(peer)
            msg = ClientHello().encode() if body is None else handshake(htype, body)
            peer.send(hs.tx.seal(CT_HANDSHAKE, msg))
            hs.skip_appdata = True
            return hs.expect_encrypted_alert({10})
        return fn
    case("%s after the handshake" % _hname)(_mk2(_htype, _body))


for _htype, _hname, _body in [(HS_CLIENT_HELLO, "ClientHello", None),
                              (HS_CERT, "unrequested client Certificate", b"\x00" + u24(0)),
                              (HS_CV, "CertificateVerify without Certificate", b"\x04\x03\x00\x00"),
                              (HS_KEY_UPDATE, "KeyUpdate", b"\x00"),
                              (HS_EE, "EncryptedExtensions", b"\x00\x00")]:
    def _mk3(htype, body):
        def fn(peer):
            hs = _after_server_flight(peer)
            msg = ClientHello().encode() if body is None else handshake(htype, body)
            peer.send(hs.tx.seal(CT_HANDSHAKE, msg))
            return hs.expect_encrypted_alert({10})
        return fn
    case("%s instead of client Finished" % _hname)(_mk3(_htype, _body))


@case("client Finished of the wrong length")
def _(peer):
    hs = _after_server_flight(peer)
    peer.send(hs.tx.seal(CT_HANDSHAKE, handshake(HS_FINISHED, b"\x00" * 31)))
    return hs.expect_encrypted_alert({50, 51})


@case("one byte per second: the handshake timeout closes the connection")
def _(peer):
    # certa serve gives a handshake 10 s. Trickle a ClientHello one byte a second
    # and expect the server to give up (alert or close) within 16 s, not before 5 s.
    import select
    ch = record(CT_HANDSHAKE, ClientHello().encode())
    start = time.monotonic()
    i, got, how = 0, b"", None
    while time.monotonic() - start < 16 and how is None:
        if i < len(ch):
            try:
                peer.sock.sendall(ch[i:i + 1])
            except OSError as e:
                how = "send failed: %s" % e.__class__.__name__
                break
            i += 1
        if select.select([peer.sock], [], [], 1.0)[0]:
            try:
                data = peer.sock.recv(4096)
            except OSError as e:
                how = "reset (%s)" % e.__class__.__name__
                break
            if not data:
                how = "closed"
            got += data
    took = time.monotonic() - start
    if how is None:
        fail("still open after %.1fs of one byte per second (%d bytes sent)" % (took, i))
    if took < 5:
        fail("%s after only %.1fs: too eager for a slow but live peer" % (how, took))
    alert = ""
    if len(got) >= 7 and got[0] == CT_ALERT:
        alert = ", alert %s" % alert_name(got[6])
    return "%s after %.1fs and %d bytes%s" % (how, took, i, alert)

# ============================================================================
# A raw TLS 1.3 SERVER for tests/behaviour/hostile_client.sh: it answers one
# `certa connect` with a scripted (usually broken) ServerHello or flight.
#   raw_peer.py --serve-list                 names of the server cases
#   raw_peer.py --serve CASE [--timeout S]   listen on 127.0.0.1:0, print
#                                            "port N", serve one connection
# Each case has the CERTA_E_ code and alert certa connect must report.

DOWNGRADE_TLS12 = bytes.fromhex("444f574e47524401")
SERVER_CASES = []


def server_case(name, code, alert=None):
    def reg(fn):
        SERVER_CASES.append((name, code, alert, fn))
        return fn
    return reg


def parse_client_hello(body):
    p = 0

    def take(n):
        nonlocal p
        v = body[p:p + n]
        if len(v) != n:
            raise ValueError("ClientHello truncated")
        p += n
        return v
    take(2)
    random = take(32)
    sid = take(take(1)[0])
    suites = take(int.from_bytes(take(2), "big"))
    take(take(1)[0])
    exts = {}
    end = p + 2 + int.from_bytes(body[p:p + 2], "big")
    p += 2
    while p < end:
        t = int.from_bytes(take(2), "big")
        exts[t] = take(int.from_bytes(take(2), "big"))
    shares = {}
    ks = exts.get(EXT_KEY_SHARE, b"")
    q = 2
    while q + 4 <= len(ks):
        g = int.from_bytes(ks[q:q + 2], "big")
        n = int.from_bytes(ks[q + 2:q + 4], "big")
        shares[g] = ks[q + 4:q + 4 + n]
        q += 4 + n
    return {"random": random, "session_id": sid, "exts": exts, "shares": shares,
            "suites": [int.from_bytes(suites[i:i + 2], "big") for i in range(0, len(suites), 2)]}


def read_handshake_msg(peer, want=None):
    """Next complete plaintext handshake message: (type, body, raw)."""
    hs = b""
    deadline = time.monotonic() + peer.timeout
    while True:
        msgs, _ = parse_handshake_msgs(hs)
        if msgs:
            return msgs[0]
        r = peer.read_record(deadline)
        if r is None:
            fail("client sent no %s: connection %s" % (want or "handshake message", peer.end))
        if r[0] == CT_CCS:
            continue
        if r[0] != CT_HANDSHAKE:
            fail("client sent record type %d, expected a handshake message" % r[0])
        hs += r[2]


def server_hello(ch, suite=0x1301, share=None, legacy=0x0303, random=None, versions=0x0304,
                 extra=(), session_id=None, compression=0, hrr=False, group=0x001d):
    exts = []
    if versions is not None:
        exts.append(ext(EXT_VERSIONS, u16(versions)))
    if hrr:
        exts.append(ext(EXT_KEY_SHARE, u16(group)))
    elif share is not None:
        exts.append(ext(EXT_KEY_SHARE, u16(group) + vec16(share)))
    exts += [ext(t, d) for t, d in extra]
    body = (u16(legacy) + (HRR_RANDOM if hrr else (random or os.urandom(32)))
            + vec8(ch["session_id"] if session_id is None else session_id)
            + u16(suite) + u8(compression) + vec16(b"".join(exts)))
    return handshake(HS_SERVER_HELLO, body)


class ServerSide:
    """Server half of a TLS 1.3 handshake (x25519, TLS_AES_128_GCM_SHA256)."""

    def __init__(self, peer):
        self.peer = peer
        self.transcript = b""

    def hello(self, **kw):
        t, body, raw = read_handshake_msg(self.peer, "ClientHello")
        if t != HS_CLIENT_HELLO:
            fail("first message from the client has type %d" % t)
        self.ch = parse_client_hello(body)
        self.transcript += raw
        return self.ch

    def send_plain(self, msg, add=True):
        if add:
            self.transcript += msg
        self.peer.send(record(CT_HANDSHAKE, msg, version=0x0303))

    def key_exchange(self, sh_kw=None):
        """Sends a good ServerHello and keys the handshake."""
        if 0x001d not in self.ch["shares"]:
            fail("client offered no x25519 share")
        key = X25519Key()
        sh = server_hello(self.ch, share=key.public, **(sh_kw or {}))
        self.send_plain(sh)
        h = "sha256"
        shared = key.exchange(self.ch["shares"][0x001d])
        early = hkdf_extract(h, b"\x00" * 32, b"\x00" * 32)
        hs_secret = hkdf_extract(h, derive_secret(h, early, "derived", b""), shared)
        self.c_hs = derive_secret(h, hs_secret, "c hs traffic", self.transcript)
        self.s_hs = derive_secret(h, hs_secret, "s hs traffic", self.transcript)
        self.master = hkdf_extract(h, derive_secret(h, hs_secret, "derived", b""), b"\x00" * 32)
        self.tx = RecordKeys(0x1301, self.s_hs)
        self.rx = RecordKeys(0x1301, self.c_hs)

    def send_enc(self, msg, add=True):
        if add:
            self.transcript += msg
        self.peer.send(self.tx.seal(CT_HANDSHAKE, msg))

    def certificate(self, kind="ec"):
        c = server_identity(kind)
        return handshake(HS_CERT, b"\x00" + vec24(vec24(c["der"]) + u16(0)))

    def cert_verify(self, transcript=None, scheme=0x0403, corrupt=False, kind="ec"):
        """kind "ec": ECDSA P-256 with SHA-256; "rsa": RSA-2048 with SHA-256,
        PKCS#1 v1.5 padding for the rsa_pkcs1 schemes (0x0401), else PSS."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec, padding
        th = hashlib.sha256(self.transcript if transcript is None else transcript).digest()
        content = b"\x20" * 64 + b"TLS 1.3, server CertificateVerify\x00" + th
        key = server_identity(kind)["key"]
        if kind == "rsa" and scheme & 0xff == 0x01:
            sig = key.sign(content, padding.PKCS1v15(), hashes.SHA256())
        elif kind == "rsa":
            sig = key.sign(content, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                salt_length=32), hashes.SHA256())
        else:
            sig = key.sign(content, ec.ECDSA(hashes.SHA256()))
        if corrupt:
            sig = sig[:-1] + bytes([sig[-1] ^ 1])
        return handshake(HS_CV, u16(scheme) + vec16(sig))

    def finished(self, corrupt=False):
        fk = hkdf_expand_label("sha256", self.s_hs, "finished", b"", 32)
        vd = hmac.new(fk, hashlib.sha256(self.transcript).digest(), "sha256").digest()
        if corrupt:
            vd = bytes([vd[0] ^ 1]) + vd[1:]
        return handshake(HS_FINISHED, vd)

    def close_notify(self):
        """After a complete flight: wait for the client's Finished (and
        whatever follows), then send close_notify under the application keys."""
        s_ap = derive_secret("sha256", self.master, "s ap traffic", self.transcript)
        deadline = time.monotonic() + self.peer.timeout
        seen = 0
        while True:
            r = self.peer.read_record(min(deadline, time.monotonic() + (0.5 if seen else 5)))
            if r is None:
                self.peer.end = None if self.peer.end == "timeout" else self.peer.end
                break
            seen += 1
        self.peer.send(RecordKeys(0x1301, s_ap).seal(CT_ALERT, b"\x01\x00"))
        return "flight sent, %d records from the client, close_notify sent" % seen

    def full_flight(self, ee_exts=b"", cv=None, fin=None, skip=()):
        if "ee" not in skip:
            self.send_enc(handshake(HS_EE, vec16(ee_exts)))
        if "cert" not in skip:
            self.send_enc(self.certificate())
        if "cv" not in skip:
            self.send_enc(cv if cv is not None else self.cert_verify())
        if "fin" not in skip:
            self.send_enc(fin if fin is not None else self.finished())


def vec24(b):
    return u24(len(b)) + b


_IDENTITIES = {}


def server_identity(kind="ec"):
    """A self-signed localhost certificate and its key: ECDSA P-256 ("ec")
    or RSA-2048 ("rsa"), made once per kind."""
    if kind not in _IDENTITIES:
        import datetime
        from cryptography import x509
        from cryptography.x509.oid import NameOID
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        if kind == "rsa":
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(days=1))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), False)
                .sign(key, hashes.SHA256()))
        _IDENTITIES[kind] = dict(key=key, der=cert.public_bytes(serialization.Encoding.DER))
    return _IDENTITIES[kind]


@server_case("good handshake (control)", None)
def _(srv):
    srv.hello()
    srv.key_exchange()
    srv.full_flight()
    return srv.close_notify()


# ---- certificate compression (RFC 8879), compressed here with Python's zlib --

HS_COMPRESSED_CERT, EXT_COMPRESS_CERT = 25, 27


def compressed_certificate(srv, alg=1, declared=None, stream=None):
    """The server's Certificate as a CompressedCertificate (RFC 8879 §4):
    algorithm, uncompressed_length of the Certificate body, the zlib
    (RFC 1950) stream of that body."""
    import zlib
    body = srv.certificate()[4:]
    data = zlib.compress(body, 9) if stream is None else stream
    return handshake(HS_COMPRESSED_CERT,
                     u16(alg) + u24(len(body) if declared is None else declared) + vec24(data))


def compressed_flight(srv, **kw):
    """EncryptedExtensions, CompressedCertificate, CertificateVerify and
    Finished over the transcript with the compressed message as sent. A
    client that did not offer zlib in compress_certificate gets an alert
    instead, so the case fails."""
    offered = srv.ch["exts"].get(EXT_COMPRESS_CERT, b"")
    algs = [int.from_bytes(offered[i:i + 2], "big") for i in range(1, len(offered) - 1, 2)]
    if 1 not in algs:
        fail("the client offered no zlib in compress_certificate: %r" % algs)
    srv.send_enc(handshake(HS_EE, vec16(b"")))
    srv.send_enc(compressed_certificate(srv, **kw))
    srv.send_enc(srv.cert_verify())
    srv.send_enc(srv.finished())


@server_case("CompressedCertificate (zlib, from Python) in place of Certificate", None)
def _(srv):
    srv.hello()
    srv.key_exchange()
    compressed_flight(srv)
    return srv.close_notify()


@server_case("CompressedCertificate declaring one byte more than it decompresses to",
             "CERTA_E_BAD_CERTIFICATE", "bad_certificate")
def _(srv):
    srv.hello()
    srv.key_exchange()
    compressed_flight(srv, declared=len(srv.certificate()) - 4 + 1)


@server_case("CompressedCertificate declaring 70000 bytes (over the 64 KiB cap)",
             "CERTA_E_HANDSHAKE_TOO_BIG", "bad_certificate")
def _(srv):
    srv.hello()
    srv.key_exchange()
    compressed_flight(srv, declared=70000)


@server_case("CompressedCertificate with a corrupt zlib stream", "CERTA_E_BAD_CERTIFICATE",
             "bad_certificate")
def _(srv):
    import zlib
    good = zlib.compress(srv.certificate()[4:], 9)
    srv.hello()
    srv.key_exchange()
    compressed_flight(srv, stream=good[:20] + bytes(b ^ 0x5a for b in good[20:40]) + good[40:])


@server_case("CompressedCertificate with zstd (3), which the client did not offer",
             "CERTA_E_ILLEGAL_PARAMETER", "illegal_parameter")
def _(srv):
    srv.hello()
    srv.key_exchange()
    compressed_flight(srv, alg=3)


@server_case("ServerHello selecting TLS 1.2 in supported_versions",
             "CERTA_E_ILLEGAL_PARAMETER|CERTA_E_PROTOCOL_VERSION", "illegal_parameter|protocol_version")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=X25519Key().public, versions=0x0303))


@server_case("TLS 1.2 ServerHello with the downgrade sentinel in its random", "CERTA_E_DOWNGRADE",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, suite=0xc02b, versions=None,
                                random=os.urandom(24) + DOWNGRADE_TLS12))


@server_case("TLS 1.3 ServerHello whose random ends like a downgrade sentinel (legal)", None)
def _(srv):
    # RFC 8446 §4.1.3: only a ServerHello for TLS 1.2 or below is checked for
    # the sentinel; in a TLS 1.3 ServerHello those are just random bytes.
    srv.hello()
    srv.key_exchange({"random": os.urandom(24) + DOWNGRADE_TLS12})
    srv.full_flight()
    return srv.close_notify()


@server_case("ServerHello with a cipher suite the client did not offer (0x1304)",
             "CERTA_E_ILLEGAL_PARAMETER", "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, suite=0x1304, share=X25519Key().public))


@server_case("ServerHello with an unknown cipher suite (0xfefe)", "CERTA_E_ILLEGAL_PARAMETER",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, suite=0xfefe, share=X25519Key().public))


@server_case("ServerHello with an unsolicited extension (ALPN)", "CERTA_E_UNSUPPORTED_EXTENSION",
             "unsupported_extension")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=X25519Key().public, extra=[(16, vec16(vec8(b"h2")))]))


@server_case("ServerHello with an unknown extension 0x7777", "CERTA_E_UNSUPPORTED_EXTENSION",
             "unsupported_extension")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=X25519Key().public, extra=[(0x7777, b"")]))


@server_case("ServerHello with a duplicated extension", "CERTA_E_ILLEGAL_PARAMETER",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=X25519Key().public, extra=[(EXT_VERSIONS, u16(0x0304))]))


@server_case("ServerHello not echoing legacy_session_id", "CERTA_E_ILLEGAL_PARAMETER",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=X25519Key().public, session_id=os.urandom(32)))


@server_case("ServerHello with compression method 1", "CERTA_E_ILLEGAL_PARAMETER",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=X25519Key().public, compression=1))


@server_case("ServerHello key_share for a group the client did not offer", "CERTA_E_ILLEGAL_PARAMETER",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=b"\x04" + b"\x01" * 64, group=0x0019))


@server_case("ServerHello with an all-zero x25519 share", "CERTA_E_ILLEGAL_PARAMETER",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=b"\x00" * 32))


@server_case("ServerHello without key_share", "CERTA_E_MISSING_EXTENSION", "missing_extension")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, share=None))


@server_case("HelloRetryRequest twice", "CERTA_E_UNEXPECTED_MESSAGE", "unexpected_message")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, hrr=True, group=0x0017))
    read_handshake_msg(srv.peer, "second ClientHello")
    srv.send_plain(server_hello(ch, hrr=True, group=0x0018))


@server_case("HelloRetryRequest for the group the client already sent", "CERTA_E_ILLEGAL_PARAMETER",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, hrr=True, group=0x001d))


@server_case("HelloRetryRequest for a group the client did not offer", "CERTA_E_ILLEGAL_PARAMETER",
             "illegal_parameter")
def _(srv):
    ch = srv.hello()
    srv.send_plain(server_hello(ch, hrr=True, group=0x0019))


@server_case("plaintext record over 2^14 bytes", "CERTA_E_RECORD_OVERFLOW", "record_overflow")
def _(srv):
    srv.hello()
    srv.peer.send(record(CT_HANDSHAKE, b"\x02" + u24(2**14 + 1) + b"\x00" * (2**14 + 1), version=0x0303))


@server_case("handshake alert from the server", "CERTA_E_PEER_ALERT", None)
def _(srv):
    srv.hello()
    srv.peer.send(record(CT_ALERT, b"\x02\x28", version=0x0303))


@server_case("EncryptedExtensions carrying key_share", "CERTA_E_UNSUPPORTED_EXTENSION|CERTA_E_ILLEGAL_PARAMETER",
             "unsupported_extension|illegal_parameter")
def _(srv):
    srv.hello()
    srv.key_exchange()
    srv.full_flight(ee_exts=ext(EXT_KEY_SHARE, u16(0x001d) + vec16(b"\x01" * 32)))


@server_case("Certificate missing (CertificateVerify after EncryptedExtensions)",
             "CERTA_E_UNEXPECTED_MESSAGE", "unexpected_message")
def _(srv):
    srv.hello()
    srv.key_exchange()
    srv.full_flight(skip=("cert",))


@server_case("CertificateVerify over the wrong transcript", "CERTA_E_BAD_SIGNATURE", "decrypt_error")
def _(srv):
    srv.hello()
    srv.key_exchange()
    srv.send_enc(handshake(HS_EE, vec16(b"")))
    srv.send_enc(srv.certificate())
    srv.send_enc(srv.cert_verify(transcript=srv.transcript + b"x"))
    srv.send_enc(srv.finished())


@server_case("CertificateVerify with a scheme the client did not offer (0x0201)",
             "CERTA_E_ILLEGAL_PARAMETER|CERTA_E_BAD_SIGNATURE", "illegal_parameter|decrypt_error")
def _(srv):
    srv.hello()
    srv.key_exchange()
    srv.full_flight(cv=srv.cert_verify(scheme=0x0201))


@server_case("RSA certificate, CertificateVerify rsa_pss_rsae_sha256 (control)", None)
def _(srv):
    srv.hello()
    srv.key_exchange()
    srv.send_enc(handshake(HS_EE, vec16(b"")))
    srv.send_enc(srv.certificate("rsa"))
    srv.send_enc(srv.cert_verify(scheme=0x0804, kind="rsa"))
    srv.send_enc(srv.finished())
    return srv.close_notify()


# The client lists rsa_pkcs1_sha256 in signature_algorithms (for certificate
# signatures), but RFC 8446 4.4.3 never allows it in a CertificateVerify:
# a valid PKCS#1 v1.5 signature over the right content must still be refused.
@server_case("RSA certificate, CertificateVerify rsa_pkcs1_sha256 in TLS 1.3 (valid signature)",
             "CERTA_E_ILLEGAL_PARAMETER", "illegal_parameter")
def _(srv):
    srv.hello()
    sa = srv.ch["exts"].get(EXT_SIGALGS, b"")[2:]
    if 0x0401 not in [int.from_bytes(sa[i:i + 2], "big") for i in range(0, len(sa), 2)]:
        fail("the client did not list rsa_pkcs1_sha256 in signature_algorithms")
    srv.key_exchange()
    srv.send_enc(handshake(HS_EE, vec16(b"")))
    srv.send_enc(srv.certificate("rsa"))
    srv.send_enc(srv.cert_verify(scheme=0x0401, kind="rsa"))
    srv.send_enc(srv.finished())


@server_case("wrong server Finished", "CERTA_E_BAD_FINISHED", "decrypt_error")
def _(srv):
    srv.hello()
    srv.key_exchange()
    srv.full_flight(fin=srv.finished(corrupt=True))


@server_case("ChangeCipherSpec in the middle of the encrypted flight after EE",
             "CERTA_E_UNEXPECTED_MESSAGE|", None)
def _(srv):
    # One CCS may appear anywhere before Finished (RFC 8446 §5): allowed.
    srv.hello()
    srv.key_exchange()
    srv.send_enc(handshake(HS_EE, vec16(b"")))
    srv.peer.send(record(CT_CCS, b"\x01", version=0x0303))
    srv.send_enc(srv.certificate())
    srv.send_enc(srv.cert_verify())
    srv.send_enc(srv.finished())
    return srv.close_notify()


@server_case("ChangeCipherSpec with payload 0x02", "CERTA_E_UNEXPECTED_MESSAGE", "unexpected_message")
def _(srv):
    srv.hello()
    srv.peer.send(record(CT_CCS, b"\x02", version=0x0303))


@server_case("ServerHello then one byte per second", "CERTA_E_TIMEOUT", None)
def _(srv):
    ch = srv.hello()
    msg = record(CT_HANDSHAKE, server_hello(ch, share=X25519Key().public), version=0x0303)
    for i in range(len(msg)):
        if not srv.peer.send(msg[i:i + 1]):
            break
        time.sleep(1)
        if i > 12:
            break


def serve_one(name, timeout):
    table = {n: fn for n, _, _, fn in SERVER_CASES}
    fn = table[name]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print("port %d" % ls.getsockname()[1])
    sys.stdout.flush()
    ls.settimeout(30)
    try:
        conn, _ = ls.accept()
    except socket.timeout:
        print("# no connection within 30 s")
        return 1
    peer = Peer.__new__(Peer)
    peer.timeout, peer.sock, peer.buf, peer.end, peer.send_error = timeout, conn, b"", None, None
    peer.t0 = time.monotonic()
    try:
        note = fn(ServerSide(peer))
        # Wait for the client's alert / close, then report what it sent.
        recs = observe(peer)
        print("# server: %s; then the client sent %s and %s" % (note or "case sent", describe_records(recs), peer.end))
    except CaseResult as e:
        print("# server: %s" % e)
    except Exception as e:
        print("# server harness error %s: %s" % (e.__class__.__name__, e))
    finally:
        peer.close()
        ls.close()
    return 0

def run_case(name, fn, host, port, timeout):
    try:
        peer = Peer(host, port, timeout)
    except OSError as e:
        return False, "cannot connect: %s" % e
    try:
        return True, fn(peer)
    except CaseResult as e:
        return False, str(e)
    except Exception as e:  # a bug in this harness, reported as such
        return False, "harness error %s: %s" % (e.__class__.__name__, e)
    finally:
        peer.close()


def selftest():
    # RFC 7748 §5.2 vector 1 and §6.1 Diffie-Hellman.
    k = bytes.fromhex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4")
    u = bytes.fromhex("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c")
    assert _x25519_pure(k, u).hex() == "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"
    a = bytes.fromhex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    b = bytes.fromhex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    nine = (9).to_bytes(32, "little")
    assert _x25519_pure(a, nine).hex() == "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    assert _x25519_pure(a, _x25519_pure(b, nine)).hex() == \
        "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
    # RFC 8439 §2.8.2 AEAD vector.
    key = bytes(range(0x80, 0xa0))
    nonce = bytes.fromhex("070000004041424344454647")
    aad = bytes.fromhex("50515253c0c1c2c3c4c5c6c7")
    pt = (b"Ladies and Gentlemen of the class of '99: If I could offer you only one tip "
          b"for the future, sunscreen would be it.")
    ct = _PureChaChaPoly(key).encrypt(nonce, pt, aad)
    assert ct[-16:].hex() == "1ae10b594f09e26a7e902ecbd0600691", ct[-16:].hex()
    assert ct[:16].hex() == "d31a8d34648e60db7b86afbc53ef7ec2"
    assert _PureChaChaPoly(key).decrypt(nonce, ct, aad) == pt
    print("ok - raw_peer selftest (X25519 RFC 7748, ChaCha20-Poly1305 RFC 8439)")


def health_check(host, port, timeout, label):
    try:
        print("ok - %s (%s)" % (label, full_handshake(host, port, timeout)))
        ok = True
    except CaseResult as e:
        print("not ok - %s: %s" % (label, e))
        ok = False
    except Exception as e:
        print("not ok - %s: %s: %s" % (label, e.__class__.__name__, e))
        ok = False
    sys.stdout.flush()
    return ok


def main(argv):
    global VERBOSE
    timeout = 5.0
    label = None
    health = False
    args = []
    it = iter(argv)
    for a in it:
        if a == "--timeout":
            timeout = float(next(it))
        elif a == "--label":
            label = next(it)
        elif a == "--verbose":
            VERBOSE = True
        elif a == "--health":
            health = True
        else:
            args.append(a)
    if args == ["--list"]:
        for name, _ in CASES:
            print(name)
        return 0
    if args == ["--serve-list"]:
        for name, code, alert, _ in SERVER_CASES:
            print("%s\t%s\t%s" % (name, code or "", alert or ""))
        return 0
    if len(args) == 2 and args[0] == "--serve":
        return serve_one(args[1], timeout)
    if args == ["--selftest"]:
        selftest()
        return 0
    if len(args) < 3:
        sys.stderr.write(__doc__)
        return 2
    host, port, rest = args[0], int(args[1]), args[2:]
    if rest == ["--handshake"]:
        return 0 if health_check(host, port, timeout, label or "full handshake and echo") else 1
    table = dict(CASES)
    rc = 0
    for name in rest:
        if name not in table:
            print("not ok - %s: no such case" % name)
            rc = 1
            continue
        ok, msg = run_case(name, table[name], host, port, timeout)
        print("%s - %s%s" % ("ok" if ok else "not ok", name, (" (%s)" if ok else ": %s") % msg))
        sys.stdout.flush()
        if not ok:
            rc = 1
        if health and not health_check(host, port, timeout, "server still serves after " + name):
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
