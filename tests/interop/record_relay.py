#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 that forwards one connection between a client and
a server and writes, per direction, the largest body of the records it saw
after the first ChangeCipherSpec or application_data record (the protected
ones), one line per direction to the report file at the end:
    c2s RECORDS LARGEST
    s2c RECORDS LARGEST
Usage: record_relay.py LISTEN_PORT TARGET_PORT REPORT_FILE (exits after one
connection or 60 s)."""
import socket, sys

from relay_lib import accept_one, relay_both_ways

listen_port, target_port, report = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
stats = {"c2s": [0, 0], "s2c": [0, 0]}


def record_counter(name):
    """Counts the protected records of one direction as its bytes pass."""
    state = {"buf": b"", "protected": False}

    def seen(data):
        buf = state["buf"] + data
        while len(buf) >= 5:
            n = int.from_bytes(buf[3:5], "big")
            if len(buf) < 5 + n:
                break
            rtype = buf[0]
            if rtype in (20, 23) or state["protected"]:
                if rtype == 23:  # protected records (TLS 1.3: all of them)
                    stats[name][0] += 1
                    stats[name][1] = max(stats[name][1], n)
                state["protected"] = True
            buf = buf[5 + n:]
        state["buf"] = buf
    return seen


client = accept_one(listen_port, 60)
upstream = socket.create_connection(("127.0.0.1", target_port), timeout=60)
relay_both_ways(client, upstream, 60, record_counter("c2s"), record_counter("s2c"))
with open(report, "w") as f:
    for k in ("c2s", "s2c"):
        f.write("%s %d %d\n" % (k, stats[k][0], stats[k][1]))
