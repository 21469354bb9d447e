#!/usr/bin/env python3
"""downgrade_mitm.py — a man in the middle that downgrades TLS 1.3 to 1.2.

Listens on 127.0.0.1 (port 0 = any), prints "port N", accepts one client and
connects it to UPSTREAM_PORT on 127.0.0.1. With --strip it removes the
supported_versions extension (43) from the client's ClientHello (lengths
fixed up), so a TLS 1.3-capable server answers with TLS 1.2 and, per RFC 8446
§4.1.3, the downgrade sentinel in ServerHello.random; without --strip it
relays unchanged (the control). Everything after the ClientHello is relayed
as is. Prints "# client offered supported_versions: yes|no", "# forwarded
supported_versions: yes|no" and "# server hello version 0x0303 random ends
HEX" for the test to check. Bounded by --timeout (default 10 s).

Usage: downgrade_mitm.py UPSTREAM_PORT [--strip] [--timeout S]
"""
import select
import socket
import sys
import time

EXT_SUPPORTED_VERSIONS = 43


def read_exact(s, n, deadline):
    buf = b""
    while len(buf) < n:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError("closed after %d of %d bytes" % (len(buf), n))
        buf += d
    return buf


def read_record(s, deadline):
    hdr = read_exact(s, 5, deadline)
    return hdr, read_exact(s, int.from_bytes(hdr[3:5], "big"), deadline)


def strip_ext(ch_body, drop):
    """ClientHello body without extension `drop`; (new body, whether it was there)."""
    p = 2 + 32
    p += 1 + ch_body[p]                                   # session id
    p += 2 + int.from_bytes(ch_body[p:p + 2], "big")      # cipher suites
    p += 1 + ch_body[p]                                   # compression methods
    head = ch_body[:p]
    ext_len = int.from_bytes(ch_body[p:p + 2], "big")
    exts, q, end, found = [], p + 2, p + 2 + ext_len, False
    while q < end:
        t = int.from_bytes(ch_body[q:q + 2], "big")
        n = int.from_bytes(ch_body[q + 2:q + 4], "big")
        if t == drop:
            found = True
        else:
            exts.append(ch_body[q:q + 4 + n])
        q += 4 + n
    rest = b"".join(exts)
    return head + len(rest).to_bytes(2, "big") + rest, found


def main(argv):
    upstream = int(argv[0])
    strip = "--strip" in argv
    timeout = float(argv[argv.index("--timeout") + 1]) if "--timeout" in argv else 10.0
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    print("port %d" % ls.getsockname()[1], flush=True)
    ls.settimeout(timeout)
    c, _ = ls.accept()
    deadline = time.monotonic() + timeout
    u = socket.create_connection(("127.0.0.1", upstream), timeout=timeout)
    # The ClientHello: certa sends it in one record.
    hdr, body = read_record(c, deadline)
    if hdr[0] != 22 or body[0] != 1:
        print("# first record is not a ClientHello", flush=True)
        return 1
    ch = body[4:4 + int.from_bytes(body[1:4], "big")]
    new_ch, had = strip_ext(ch, EXT_SUPPORTED_VERSIONS)
    print("# client offered supported_versions: %s" % ("yes" if had else "no"), flush=True)
    if not strip:
        new_ch = ch
    msg = b"\x01" + len(new_ch).to_bytes(3, "big") + new_ch
    u.sendall(hdr[:3] + len(msg).to_bytes(2, "big") + msg)
    _, still = strip_ext(new_ch, EXT_SUPPORTED_VERSIONS)
    print("# forwarded supported_versions: %s" % ("yes" if still else "no"), flush=True)
    # The ServerHello, noted and passed on.
    hdr, body = read_record(u, deadline)
    if hdr[0] == 22 and body[0] == 2:
        print("# server hello version 0x%s random ends %s"
              % (body[4:6].hex(), body[6 + 24:6 + 32].hex()), flush=True)
    c.sendall(hdr + body)
    # Then relay both ways until one side closes or time runs out.
    socks = [c, u]
    while time.monotonic() < deadline:
        r, _, _ = select.select(socks, [], [], max(0.05, deadline - time.monotonic()))
        for s in r:
            try:
                d = s.recv(65536)
            except OSError:
                d = b""
            if not d:
                print("# %s closed" % ("client" if s is c else "server"), flush=True)
                c.close()
                u.close()
                return 0
            (u if s is c else c).sendall(d)
    print("# timeout", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
