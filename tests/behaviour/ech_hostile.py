#!/usr/bin/env python3
"""ech_hostile.py — hostile encrypted_client_hello extensions against a server
holding an ECH key (certa serve --ech-key --ech-config), with raw_peer.py's
ClientHello and record helpers.

Usage: ech_hostile.py HOST PORT CONFIG_FILE|--no-keys [--timeout S]
  CONFIG_FILE: the server's ECHConfig (raw), for its config_id; --no-keys: the
  server holds none, and every case must go on with the hello.
Each case prints "ok - ..." / "not ok - ...", then a full handshake must still
work ("ok - server still serves after ...").
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import raw_peer as rp  # noqa: E402

EXT_ECH = 0xfe0d


def outer(config_id, enc=None, payload=None, kdf=1, aead=1):
    enc = os.urandom(32) if enc is None else enc
    payload = os.urandom(200) if payload is None else payload
    return (rp.u8(0) + rp.u16(kdf) + rp.u16(aead) + rp.u8(config_id) + rp.vec16(enc)
            + rp.vec16(payload))


def hello_with(ech_body):
    ch = rp.ClientHello(server_name="public.example")
    ch.extra_extensions.append((EXT_ECH, ech_body))
    return ch


def expect_alert_case(body, alerts):
    def run(peer):
        rp._send_ch(peer, hello_with(body))
        return rp.expect_alert(peer, alerts)
    return run


def expect_hello_case(body):
    """Not decrypted: the server goes on with the outer hello (a ServerHello)."""
    def run(peer):
        ch = hello_with(body)
        rp._send_ch(peer, ch)
        rp.read_server_hello(peer, ch)
        return "ServerHello: the outer hello is used"
    return run


def cases(config_id):
    other = (config_id + 1) % 256
    return [
        ("ECH extension empty", expect_alert_case(b"", {50})),
        ("ECH extension of unknown type 7", expect_alert_case(b"\x07", {47})),
        ("ECH inner type in clear to a server holding ECH keys", expect_alert_case(b"\x01", {47})),
        ("ECH outer truncated after the cipher suite",
         expect_alert_case(rp.u8(0) + rp.u16(1) + rp.u16(1), {50})),
        ("ECH outer with an empty payload", expect_alert_case(outer(config_id, payload=b""), {50})),
        ("ECH outer with trailing bytes", expect_alert_case(outer(config_id) + b"\x00", {50})),
        ("ECH outer, wrong config_id, random payload", expect_hello_case(outer(other))),
        ("ECH outer, right config_id, corrupted payload", expect_hello_case(outer(config_id))),
        ("ECH outer, unsupported cipher suite", expect_hello_case(outer(config_id, kdf=0x99))),
        ("ECH outer, enc of the wrong length", expect_hello_case(outer(config_id, enc=b"\x01" * 7))),
    ]


def keyless_cases():
    """A server without ECH keys does not implement the extension: whatever it
    holds, the handshake goes on (RFC 8446 §4.2), as tlsfuzzer's
    unassigned-extension tests expect."""
    return [
        ("no keys: ECH extension empty", expect_hello_case(b"")),
        ("no keys: ECH extension of unknown type 7", expect_hello_case(b"\x07")),
        ("no keys: ECH extension of random bytes", expect_hello_case(b"\x07" + os.urandom(99))),
        ("no keys: ECH outer truncated after the cipher suite",
         expect_hello_case(rp.u8(0) + rp.u16(1) + rp.u16(1))),
        ("no keys: ECH inner type with trailing bytes", expect_hello_case(b"\x01\x00")),
    ]


def main(argv):
    timeout = 5.0
    args = []
    it = iter(argv)
    for a in it:
        if a == "--timeout":
            timeout = float(next(it))
        else:
            args.append(a)
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    host, port = args[0], int(args[1])
    if args[2] == "--no-keys":
        todo = keyless_cases()
    else:
        with open(args[2], "rb") as f:
            config = f.read()
        todo = cases(config[4])  # version (2), length (2), then config_id
    rc = 0
    for name, fn in todo:
        ok, msg = rp.run_case(name, fn, host, port, timeout)
        print("%s - %s%s" % ("ok" if ok else "not ok", name, (" (%s)" if ok else ": %s") % msg))
        sys.stdout.flush()
        if not ok:
            rc = 1
        if not rp.health_check(host, port, timeout, "server still serves after " + name):
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
