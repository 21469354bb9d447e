#!/usr/bin/env python3
"""raw_peer12.py — raw TLS 1.2 peers for tests/behaviour/hostile_tls12.sh.

Builds on raw_peer.py (records, transport, alerts, x25519, ChaCha20-Poly1305):
a TLS 1.2 client (ECDHE + TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
extended master secret, RFC 5246 PRF, RFC 7905 record protection) that
misbehaves against `certa serve --min-version 1.2`, and TLS 1.2 servers that
misbehave against `certa connect --min-version 1.2`.

Usage:
  raw_peer12.py --list                       client cases (against a server)
  raw_peer12.py HOST PORT CASE [CASE...]     run them: "ok - CASE" / "not ok - CASE: ..."
  raw_peer12.py HOST PORT --handshake        a clean TLS 1.2 handshake + echo of "x\\n"
  raw_peer12.py --serve-list                 server cases: NAME<TAB>CODES<TAB>ALERTS
  raw_peer12.py --serve CASE                 print "port N", serve one connection
Options: --timeout SECONDS (default 5), --health (after each client case a clean
TLS 1.2 handshake + echo must work), --verbose.
Standard library only for the client side (pure-Python fallbacks from
raw_peer.py); the server cases sign ServerKeyExchange and need `cryptography`.
"""
import hashlib
import hmac
import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raw_peer as rp  # noqa: E402
from raw_peer import (CT_ALERT, CT_APPDATA, CT_CCS, CT_HANDSHAKE, CaseResult,  # noqa: E402
                      ClientHello, Peer, X25519Key, alert_name, describe_records, expect_alert,
                      ext, fail, handshake, observe, parse_handshake_msgs, record, u8, u16, vec8,
                      vec16, vec24)

rp.ALERTS.update({86: "inappropriate_fallback", 100: "no_renegotiation"})

HS_SKE, HS_SHD, HS_CKE = 12, 14, 16
EXT_EMS, EXT_TICKET, EXT_RI, EXT_POINT_FORMATS = 23, 35, 0xff01, 11
SUITE_CHACHA = 0xcca9  # TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
FALLBACK_SCSV = 0x5600
DOWNGRADE_TLS12 = bytes.fromhex("444f574e47524401")


# ------------------------------------------------------------ TLS 1.2 crypto --

def prf(secret, label, seed, n):
    """RFC 5246 §5, P_SHA256."""
    seed = label.encode() + seed
    out, a = b"", seed
    while len(out) < n:
        a = hmac.new(secret, a, "sha256").digest()
        out += hmac.new(secret, a + seed, "sha256").digest()
    return out[:n]


class Keys12:
    """One direction of ChaCha20-Poly1305 TLS 1.2 records (RFC 7905): nonce
    = iv XOR seq, AAD = seq || type || 0303 || length, outer type real."""

    def __init__(self, key, iv):
        self.aead, self.iv, self.seq = rp.make_aead("chacha", key), iv, 0

    def _nonce(self):
        return bytes(a ^ b for a, b in zip(self.iv, self.seq.to_bytes(12, "big")))

    def seal(self, ctype, data):
        aad = self.seq.to_bytes(8, "big") + struct.pack("!BHH", ctype, 0x0303, len(data))
        ct = self.aead.encrypt(self._nonce(), data, aad)
        self.seq += 1
        return record(ctype, ct, version=0x0303)

    def open(self, ctype, payload):
        aad = self.seq.to_bytes(8, "big") + struct.pack("!BHH", ctype, 0x0303, len(payload) - 16)
        pt = self.aead.decrypt(self._nonce(), payload, aad)
        self.seq += 1
        return pt


def key_block(master, client_random, server_random):
    kb = prf(master, "key expansion", server_random + client_random, 2 * 32 + 2 * 12)
    return kb[0:32], kb[32:64], kb[64:76], kb[76:88]  # client key, server key, client iv, server iv


# ---------------------------------------------------------------- the client --

def client_hello12(ems=True, ri=b"", suites=None, groups=None, extra=()):
    """A TLS 1.2-only ClientHello: no supported_versions, no key_share."""
    ch = ClientHello()
    ch.cipher_suites = list(suites or [SUITE_CHACHA])
    ch.groups = list(groups or [0x001d, 0x0017])
    ch.omit = {rp.EXT_VERSIONS, rp.EXT_KEY_SHARE, rp.EXT_PSK_MODES}
    ch.session_id = b""
    exts = [(EXT_POINT_FORMATS, vec8(b"\x00")), (EXT_RI, vec8(ri))]
    if ems:
        exts.append((EXT_EMS, b""))
    ch.extra_extensions = exts + list(extra)
    return ch


class Client12:
    """Drives a TLS 1.2 full handshake by hand, step by step."""

    def __init__(self, peer, ch=None):
        self.peer, self.ch = peer, ch or client_hello12()
        self.transcript = b""
        self.hs = b""

    def hello(self):
        msg = self.ch.encode()
        self.transcript += msg
        self.peer.send(record(CT_HANDSHAKE, msg))

    def read_msg(self, want):
        deadline = time.monotonic() + self.peer.timeout
        while True:
            msgs, _ = parse_handshake_msgs(self.hs)
            if msgs:
                t, body, raw = msgs[0]
                self.hs = self.hs[len(raw):]
                if t != want:
                    fail("server sent handshake message %d, expected %d" % (t, want))
                return body, raw
            r = self.peer.read_record(deadline)
            if r is None:
                fail("server sent no message %d: connection %s after %.2fs" % (want, self.peer.end,
                                                                              self.peer.elapsed()))
            if r[0] == CT_ALERT and len(r[2]) == 2:
                fail("server sent alert %s (level %d) instead of message %d"
                     % (alert_name(r[2][1]), r[2][0], want))
            if r[0] != CT_HANDSHAKE:
                fail("server sent record type %d, expected a handshake message" % r[0])
            self.hs += r[2]

    def server_flight(self):
        """ServerHello .. ServerHelloDone; returns the ServerHello's fields."""
        body, raw = self.read_msg(rp.HS_SERVER_HELLO)
        sh = rp.parse_server_hello(body)
        if sh["legacy_version"] != 0x0303 or rp.EXT_VERSIONS in sh["extensions"]:
            fail("the server did not answer TLS 1.2")
        if sh["suite"] != SUITE_CHACHA:
            fail("server chose suite 0x%04x" % sh["suite"])
        self.sh = sh
        self.transcript += raw
        _, raw = self.read_msg(rp.HS_CERT)
        self.transcript += raw
        body, raw = self.read_msg(HS_SKE)
        self.transcript += raw
        if body[0] != 3:
            fail("ServerKeyExchange curve type %d" % body[0])
        self.group = int.from_bytes(body[1:3], "big")
        self.server_point = body[4:4 + body[3]]
        _, raw = self.read_msg(HS_SHD)
        self.transcript += raw
        return sh

    def key_exchange(self, point=None):
        """Sends ClientKeyExchange (our x25519 share, or `point`) and derives keys."""
        key = X25519Key()
        pub = key.public if point is None else point
        cke = handshake(HS_CKE, vec8(pub))
        self.transcript += cke
        self.peer.send(record(CT_HANDSHAKE, cke, version=0x0303))
        if point is not None:
            return
        if self.group != 0x001d:
            fail("server chose group 0x%04x, not x25519" % self.group)
        pms = key.exchange(self.server_point)
        self.master = prf(pms, "extended master secret",
                          hashlib.sha256(self.transcript).digest(), 48)
        ck, sk, civ, siv = key_block(self.master, self.ch.random, self.sh["random"])
        self.tx, self.rx = Keys12(ck, civ), Keys12(sk, siv)

    def finished_msg(self, who="client", corrupt=False, length=12):
        vd = prf(self.master, who + " finished", hashlib.sha256(self.transcript).digest(), 12)
        if corrupt:
            vd = bytes([vd[0] ^ 1]) + vd[1:]
        return handshake(rp.HS_FINISHED, vd[:length])

    def ccs(self):
        self.peer.send(record(CT_CCS, b"\x01", version=0x0303))

    def finish(self):
        """CCS + Finished, then the server's [NewSessionTicket] CCS Finished."""
        fin = self.finished_msg()
        self.ccs()
        self.peer.send(self.tx.seal(CT_HANDSHAKE, fin))
        self.transcript += fin
        deadline = time.monotonic() + self.peer.timeout
        ccs_seen = False
        while True:
            r = self.peer.read_record(deadline)
            if r is None:
                fail("no server Finished: connection %s" % self.peer.end)
            ctype, _, payload = r
            if ctype == CT_ALERT and not ccs_seen:
                fail("server sent alert %s instead of its Finished" % alert_name(payload[1]))
            if ctype == CT_CCS:
                ccs_seen = True
                continue
            if ctype == CT_HANDSHAKE and not ccs_seen:
                msgs, _ = parse_handshake_msgs(payload)
                for t, _, raw in msgs:
                    self.transcript += raw  # NewSessionTicket
                continue
            if ctype == CT_HANDSHAKE and ccs_seen:
                want = self.finished_msg("server")
                try:
                    got = self.rx.open(CT_HANDSHAKE, payload)
                except Exception:
                    fail("the server's Finished record does not decrypt")
                if got != want:
                    fail("the server's Finished does not verify")
                return "TLS 1.2 handshake, suite 0x%04x" % self.sh["suite"]
            fail("unexpected %s during the handshake" % describe_records([r]))

    def echo(self, payload=b"x\n"):
        self.peer.send(self.tx.seal(CT_APPDATA, payload))
        got = b""
        deadline = time.monotonic() + self.peer.timeout
        while len(got) < len(payload):
            r = self.peer.read_record(deadline)
            if r is None:
                fail("no echo: connection %s (got %r)" % (self.peer.end, got))
            try:
                pt = self.rx.open(r[0], r[2])
            except Exception:
                fail("a record from the server does not decrypt")
            if r[0] == CT_APPDATA:
                got += pt
            elif r[0] == CT_ALERT:
                fail("server sent alert %s (level %d) instead of the echo" % (alert_name(pt[1]), pt[0]))
        if got != payload:
            fail("echo %r, wanted %r" % (got, payload))
        return "echoed"

    def encrypted_alert(self):
        """The next record: a protected alert, as (level, description)."""
        r = self.peer.read_record()
        if r is None:
            fail("no answer: connection %s after %.2fs" % (self.peer.end, self.peer.elapsed()))
        try:
            pt = self.rx.open(r[0], r[2])
        except Exception:
            fail("a record from the server does not decrypt (%s)" % describe_records([r]))
        if r[0] != CT_ALERT or len(pt) != 2:
            fail("server answered with %s, not an alert" % describe_records([(r[0], r[1], pt)]))
        return pt[0], pt[1]


def full_handshake(host, port, timeout):
    peer = Peer(host, port, timeout)
    try:
        c = Client12(peer)
        c.hello()
        c.server_flight()
        c.key_exchange()
        note = c.finish()
        return "%s, %s" % (note, c.echo())
    finally:
        peer.close()


CASES = []


def case(name):
    def reg(fn):
        CASES.append((name, fn))
        return fn
    return reg


@case("1.2 control: full handshake and echo")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.key_exchange()
    return "%s, %s" % (c.finish(), c.echo())


@case("ChangeCipherSpec before ClientKeyExchange (CCS injection)")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.ccs()
    return expect_alert(peer, {10})


@case("ChangeCipherSpec right after ClientHello")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.ccs()
    recs = observe(peer, stop=lambda rs: rs[-1][0] == CT_ALERT)
    alerts = [p for t, _, p in recs if t == CT_ALERT and len(p) == 2]
    if not alerts or alerts[-1] != b"\x02\x0a":
        fail("wanted unexpected_message(10) after the server flight, got %s" % describe_records(recs))
    return "server flight, then alert unexpected_message(10)"


@case("Finished before ChangeCipherSpec")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.key_exchange()
    peer.send(record(CT_HANDSHAKE, c.finished_msg(), version=0x0303))
    return expect_alert(peer, {10})


@case("ChangeCipherSpec twice")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.key_exchange()
    c.ccs()
    c.ccs()
    return expect_alert(peer, {10})


@case("garbled Finished (one bit of verify_data)")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.key_exchange()
    c.ccs()
    peer.send(c.tx.seal(CT_HANDSHAKE, c.finished_msg(corrupt=True)))
    return expect_alert(peer, {51})


@case("truncated Finished (11 bytes of verify_data)")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.key_exchange()
    c.ccs()
    peer.send(c.tx.seal(CT_HANDSHAKE, c.finished_msg(length=11)))
    return expect_alert(peer, {50})


@case("Finished under the wrong keys (bad_record_mac)")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.key_exchange()
    c.ccs()
    peer.send(Keys12(os.urandom(32), os.urandom(12)).seal(CT_HANDSHAKE, c.finished_msg()))
    return expect_alert(peer, {20})


@case("invalid ECDHE point in ClientKeyExchange (P-256, not on the curve)")
def _(peer):
    c = Client12(peer, client_hello12(groups=[0x0017]))
    c.hello()
    c.server_flight()
    if c.group != 0x0017:
        fail("server chose group 0x%04x, not secp256r1" % c.group)
    bad = b"\x04" + b"\x01" * 64
    c.key_exchange(point=bad)
    return expect_alert(peer, {47})


@case("invalid ECDHE point in ClientKeyExchange (x25519, all zero)")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.key_exchange(point=b"\x00" * 32)
    return expect_alert(peer, {47})


@case("non-empty renegotiation_info on the first ClientHello")
def _(peer):
    c = Client12(peer, client_hello12(ri=os.urandom(12)))
    c.hello()
    return expect_alert(peer, {40})


@case("ClientHello without extended_master_secret")
def _(peer):
    c = Client12(peer, client_hello12(ems=False))
    c.hello()
    return expect_alert(peer, {40})


@case("TLS_FALLBACK_SCSV in a 1.2 ClientHello to a 1.2+1.3 server")
def _(peer):
    c = Client12(peer, client_hello12(suites=[SUITE_CHACHA, FALLBACK_SCSV]))
    c.hello()
    return expect_alert(peer, {86})


@case("second ClientHello after the handshake (renegotiation)")
def _(peer):
    c = Client12(peer)
    c.hello()
    c.server_flight()
    c.key_exchange()
    c.finish()
    peer.send(c.tx.seal(CT_HANDSHAKE, client_hello12().encode()))
    level, desc = c.encrypted_alert()
    if (level, desc) != (1, 100):
        fail("wanted warning no_renegotiation(100), got level %d %s" % (level, alert_name(desc)))
    return "warning no_renegotiation(100), then %s" % c.echo()


# ---------------------------------------------------------------- servers --

SERVER_CASES = []


def server_case(name, code, alert=None):
    def reg(fn):
        SERVER_CASES.append((name, code, alert, fn))
        return fn
    return reg


class Server12:
    """Server half of a TLS 1.2 handshake (x25519, ECDSA P-256, ChaCha20)."""

    def __init__(self, peer):
        self.peer = peer
        self.srv = rp.ServerSide(peer)
        self.transcript = b""

    def hello(self):
        ch = self.srv.hello()
        self.ch = ch
        self.transcript = self.srv.transcript
        if SUITE_CHACHA not in ch["suites"]:
            fail("client did not offer TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256")
        return ch

    def send(self, msg):
        self.transcript += msg
        self.peer.send(record(CT_HANDSHAKE, msg, version=0x0303))

    def server_hello(self, ems=True, ri=True, session_id=b"", random=None, ticket=False):
        exts = []
        if ri:
            exts.append(ext(EXT_RI, vec8(b"")))
        if ems:
            exts.append(ext(EXT_EMS, b""))
        if ticket:
            exts.append(ext(EXT_TICKET, b""))
        self.random = random or os.urandom(32)
        body = (u16(0x0303) + self.random + vec8(session_id) + u16(SUITE_CHACHA) + u8(0)
                + vec16(b"".join(exts)))
        self.send(handshake(rp.HS_SERVER_HELLO, body))

    def flight(self):
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        ident = rp.server_identity()
        self.send(handshake(rp.HS_CERT, vec24(vec24(ident["der"]))))
        self.key = X25519Key()
        params = b"\x03" + u16(0x001d) + vec8(self.key.public)
        sig = ident["key"].sign(self.ch["random"] + self.random + params, ec.ECDSA(hashes.SHA256()))
        self.send(handshake(HS_SKE, params + u16(0x0403) + vec16(sig)))
        self.send(handshake(HS_SHD, b""))

    def client_flight(self):
        t, body, raw = rp.read_handshake_msg(self.peer, "ClientKeyExchange")
        if t != HS_CKE:
            fail("client sent message %d, not ClientKeyExchange" % t)
        self.transcript += raw
        pms = self.key.exchange(body[1:1 + body[0]])
        self.master = prf(pms, "extended master secret", hashlib.sha256(self.transcript).digest(), 48)
        ck, sk, civ, siv = key_block(self.master, self.ch["random"], self.random)
        self.tx, self.rx = Keys12(sk, siv), Keys12(ck, civ)
        deadline = time.monotonic() + self.peer.timeout
        while True:
            r = self.peer.read_record(deadline)
            if r is None:
                fail("client sent no Finished: connection %s" % self.peer.end)
            if r[0] == CT_CCS:
                continue
            fin = self.rx.open(r[0], r[2])
            want = prf(self.master, "client finished", hashlib.sha256(self.transcript).digest(), 12)
            if fin[4:] != want:
                fail("the client's Finished does not verify")
            self.transcript += fin
            return

    def finish(self, corrupt=False):
        vd = prf(self.master, "server finished", hashlib.sha256(self.transcript).digest(), 12)
        if corrupt:
            vd = bytes([vd[0] ^ 1]) + vd[1:]
        self.peer.send(record(CT_CCS, b"\x01", version=0x0303))
        self.peer.send(self.tx.seal(CT_HANDSHAKE, handshake(rp.HS_FINISHED, vd)))

    def close_notify(self):
        self.peer.send(self.tx.seal(CT_ALERT, b"\x01\x00"))
        return "handshake done, close_notify sent"


@server_case("1.2 control: a good TLS 1.2 server", None)
def _(srv):
    s = Server12(srv.peer)
    s.hello()
    s.server_hello()
    s.flight()
    s.client_flight()
    s.finish()
    return s.close_notify()


@server_case("1.2 ServerHello with the downgrade sentinel to a client that offered 1.3",
             "CERTA_E_DOWNGRADE", "illegal_parameter")
def _(srv):
    s = Server12(srv.peer)
    ch = s.hello()
    if rp.EXT_VERSIONS not in ch["exts"] or b"\x03\x04" not in ch["exts"][rp.EXT_VERSIONS]:
        fail("the client did not offer TLS 1.3")
    s.server_hello(random=os.urandom(24) + DOWNGRADE_TLS12)
    s.flight()


@server_case("1.2 server without extended_master_secret", "CERTA_E_NO_EXTENDED_MASTER_SECRET",
             "handshake_failure")
def _(srv):
    s = Server12(srv.peer)
    s.hello()
    s.server_hello(ems=False)
    s.flight()


@server_case("1.2 server echoing a session ID it was offered no ticket for",
             "CERTA_E_ILLEGAL_PARAMETER", "illegal_parameter")
def _(srv):
    s = Server12(srv.peer)
    ch = s.hello()
    if not ch["session_id"]:
        fail("the client sent an empty session ID")
    s.server_hello(session_id=ch["session_id"])
    s.flight()


@server_case("1.2 server with a non-empty renegotiation_info", "CERTA_E_RENEGOTIATION",
             "handshake_failure")
def _(srv):
    s = Server12(srv.peer)
    s.hello()
    s.random = os.urandom(32)
    body = (u16(0x0303) + s.random + vec8(b"") + u16(SUITE_CHACHA) + u8(0)
            + vec16(ext(EXT_RI, vec8(os.urandom(24))) + ext(EXT_EMS, b"")))
    s.send(handshake(rp.HS_SERVER_HELLO, body))


@server_case("1.2 server: ChangeCipherSpec before ServerHelloDone", "CERTA_E_UNEXPECTED_MESSAGE",
             "unexpected_message")
def _(srv):
    s = Server12(srv.peer)
    s.hello()
    s.server_hello()
    s.send(handshake(rp.HS_CERT, vec24(vec24(rp.server_identity()["der"]))))
    s.peer.send(record(CT_CCS, b"\x01", version=0x0303))


@server_case("1.2 server: ServerKeyExchange signed over the wrong randoms", "CERTA_E_BAD_SIGNATURE",
             "decrypt_error")
def _(srv):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    s = Server12(srv.peer)
    s.hello()
    s.server_hello()
    ident = rp.server_identity()
    s.send(handshake(rp.HS_CERT, vec24(vec24(ident["der"]))))
    params = b"\x03" + u16(0x001d) + vec8(X25519Key().public)
    sig = ident["key"].sign(os.urandom(64) + params, ec.ECDSA(hashes.SHA256()))
    s.send(handshake(HS_SKE, params + u16(0x0403) + vec16(sig)))
    s.send(handshake(HS_SHD, b""))


@server_case("1.2 server: wrong Finished", "CERTA_E_BAD_FINISHED", "decrypt_error")
def _(srv):
    s = Server12(srv.peer)
    s.hello()
    s.server_hello()
    s.flight()
    s.client_flight()
    s.finish(corrupt=True)


def serve_one(name, timeout):
    table = {n: fn for n, _, _, fn in SERVER_CASES}
    saved = rp.SERVER_CASES[:]
    rp.SERVER_CASES[:] = [(name, None, None, table[name])]
    try:
        return rp.serve_one(name, timeout)
    finally:
        rp.SERVER_CASES[:] = saved


def main(argv):
    timeout, health, args = 5.0, False, []
    it = iter(argv)
    for a in it:
        if a == "--timeout":
            timeout = float(next(it))
        elif a == "--verbose":
            rp.VERBOSE = True
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
    if len(args) < 3:
        sys.stderr.write(__doc__)
        return 2
    host, port, rest = args[0], int(args[1]), args[2:]

    def healthy(label):
        try:
            print("ok - %s (%s)" % (label, full_handshake(host, port, timeout)))
            return True
        except (CaseResult, OSError) as e:
            print("not ok - %s: %s" % (label, e))
        except Exception as e:
            print("not ok - %s: harness error %s: %s" % (label, e.__class__.__name__, e))
        return False

    if rest == ["--handshake"]:
        return 0 if healthy("TLS 1.2 handshake and echo") else 1
    table = dict(CASES)
    rc = 0
    for name in rest:
        if name not in table:
            print("not ok - %s: no such case" % name)
            rc = 1
            continue
        ok, msg = rp.run_case(name, table[name], host, port, timeout)
        print("%s - %s%s" % ("ok" if ok else "not ok", name, (" (%s)" if ok else ": %s") % msg))
        sys.stdout.flush()
        rc |= 0 if ok else 1
        if health and not healthy("server still serves TLS 1.2 after " + name):
            rc = 1
        sys.stdout.flush()
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
