#!/usr/bin/env python3
"""Memory per idle proxied TLS 1.3 connection (bench/run.sh, proxy group).

  proxy_idle.py HOST PORT PID N WAVES

Opens N TLS connections through the proxy at HOST:PORT (certificate not
checked: the bench's own), each fetching /small.txt with keep-alive from the
backend behind it and then staying open and idle; reads the proxy's RSS
(/proc/PID/status) one second later; closes them all and starts the next
wave. Prints one line: first=<bytes per connection in wave 1>
churn=<bytes per connection in the last wave> waves=WAVES conns=N.
"""
import asyncio
import ssl
import sys


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def one(host, port, ctx):
    r, w = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost"), 30)
    w.write(b"GET /small.txt HTTP/1.1\r\nHost: localhost\r\n\r\n")
    await w.drain()
    head = await asyncio.wait_for(r.readuntil(b"\r\n\r\n"), 30)
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await asyncio.wait_for(r.readexactly(length), 30)
    return w


async def main():
    host, port, pid, n, waves = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    base = rss_kib(pid)
    per = []
    for _ in range(waves):
        conns = []
        for k in range(0, n, 100):
            conns += await asyncio.gather(*[one(host, port, ctx) for _ in range(k, min(n, k + 100))])
        await asyncio.sleep(1.0)
        per.append((rss_kib(pid) - base) * 1024 / n)
        for w in conns:
            w.close()
        await asyncio.sleep(1.5)
    print(f"first={per[0]:.0f} churn={per[-1]:.0f} waves={waves} conns={n}")


asyncio.run(main())
