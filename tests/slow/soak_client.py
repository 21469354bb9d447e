#!/usr/bin/env python3
"""Soak load for tests/slow/proxy_soak.sh.

  soak_client.py HOST PORT PROXY_PID N WAVES CA.pem

Each wave opens N TLS 1.3 connections through certa proxy (200 handshakes
at a time), sends one line on each and reads it back from the echo backend,
holds them all open and idle for two seconds, then closes them all. Before
and after each wave it waits for the proxy to settle (its descriptor count
stops moving) and reads its RSS (/proc/PID/status) and descriptor count
(/proc/PID/fd); at the peak too. One line per wave:
  wave=W open=N failed=F base_rss_kib= base_fds= peak_rss_kib= peak_fds=
  after_rss_kib= after_fds= open_s= close_s=
"""
import asyncio, os, ssl, sys, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))

async def settle(pid, want=None, limit=20.0):
    """Waits until the fd count is `want` (or stops changing), up to limit s."""
    t0, last, same = time.time(), -1, 0
    while time.time() - t0 < limit:
        n = fds(pid)
        if want is not None and n == want:
            return n
        same = same + 1 if n == last else 0
        if want is None and same >= 5:
            return n
        last = n
        await asyncio.sleep(0.2)
    return fds(pid)

async def one(host, port, ctx, k):
    r, w = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx, server_hostname="localhost"), 60)
    msg = b"soak %d\n" % k
    w.write(msg)
    await w.drain()
    got = await asyncio.wait_for(r.readexactly(len(msg)), 60)
    if got != msg:
        raise RuntimeError("echo mismatch")
    return w

async def main():
    host, port, pid, n, waves, ca = (sys.argv[1], int(sys.argv[2]), int(sys.argv[3]),
                                     int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    ctx = ssl.create_default_context(cafile=ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    for wave in range(1, waves + 1):
        base_fds = await settle(pid)
        base_rss = rss_kib(pid)
        t0 = time.time()
        conns, failed = [], 0
        for k in range(0, n, 200):
            res = await asyncio.gather(*[one(host, port, ctx, j) for j in range(k, min(n, k + 200))],
                                       return_exceptions=True)
            for x in res:
                if isinstance(x, Exception):
                    failed += 1
                else:
                    conns.append(x)
        open_s = time.time() - t0
        await asyncio.sleep(2.0)  # idle, all open
        peak_fds, peak_rss = fds(pid), rss_kib(pid)
        t1 = time.time()
        for w in conns:
            w.close()
        await asyncio.gather(*[w.wait_closed() for w in conns], return_exceptions=True)
        after_fds = await settle(pid, want=base_fds)
        close_s = time.time() - t1
        await asyncio.sleep(0.5)
        after_rss = rss_kib(pid)
        print(f"wave={wave} open={len(conns)} failed={failed} base_rss_kib={base_rss} "
              f"base_fds={base_fds} peak_rss_kib={peak_rss} peak_fds={peak_fds} "
              f"after_rss_kib={after_rss} after_fds={after_fds} open_s={open_s:.1f} "
              f"close_s={close_s:.1f}", flush=True)
        del conns

asyncio.run(main())
