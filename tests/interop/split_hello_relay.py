#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 for one connection that delivers the client's
ClientHello the way a path with a 1,500-byte MTU and a fragmenting
middlebox can: the handshake message is cut into two TLS records, sent as
two TCP segments 300 ms apart. Everything after it is relayed as is. Writes
"clienthello BYTES" to the report file (the handshake message's size).
Usage: split_hello_relay.py LISTEN_PORT TARGET_PORT REPORT (one connection,
at most 60 s)."""
import socket, sys, time

from relay_lib import accept_one, relay_both_ways

listen_port, target_port, report = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError
        buf += d
    return buf


client = accept_one(listen_port, 60)
up = socket.create_connection(("127.0.0.1", target_port), timeout=60)
up.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
hdr = read_exact(client, 5)
body = read_exact(client, int.from_bytes(hdr[3:5], "big"))
with open(report, "w") as f:
    f.write("clienthello %d\n" % len(body))
half = len(body) // 2
for i, part in enumerate((body[:half], body[half:])):
    up.sendall(hdr[:3] + len(part).to_bytes(2, "big") + part)
    if i == 0:
        time.sleep(0.3)
relay_both_ways(client, up, 60)
