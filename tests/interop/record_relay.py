#!/usr/bin/env python3
"""A TCP relay on 127.0.0.1 that forwards one connection between a client and
a server and writes, per direction, the largest body of the records it saw
after the first ChangeCipherSpec or application_data record (the protected
ones), one line per direction to the report file at the end:
    c2s RECORDS LARGEST
    s2c RECORDS LARGEST
Usage: record_relay.py LISTEN_PORT TARGET_PORT REPORT_FILE (exits after one
connection or 60 s)."""
import socket, sys, threading

listen_port, target_port, report = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
stats = {"c2s": [0, 0], "s2c": [0, 0]}


def pump(src, dst, name):
    buf, protected = b"", False
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            buf += data
            while len(buf) >= 5:
                n = int.from_bytes(buf[3:5], "big")
                if len(buf) < 5 + n:
                    break
                rtype = buf[0]
                if rtype in (20, 23) or protected:
                    if rtype == 23:  # protected records (TLS 1.3: all of them)
                        stats[name][0] += 1
                        stats[name][1] = max(stats[name][1], n)
                    protected = True
                buf = buf[5 + n:]
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", listen_port))
srv.listen(1)
srv.settimeout(60)
print("relay listening", flush=True)
client, _ = srv.accept()
upstream = socket.create_connection(("127.0.0.1", target_port), timeout=60)
client.settimeout(60)
a = threading.Thread(target=pump, args=(client, upstream, "c2s"))
b = threading.Thread(target=pump, args=(upstream, client, "s2c"))
a.start(); b.start(); a.join(60); b.join(60)
with open(report, "w") as f:
    for k in ("c2s", "s2c"):
        f.write("%s %d %d\n" % (k, stats[k][0], stats[k][1]))
