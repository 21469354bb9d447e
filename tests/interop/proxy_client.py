#!/usr/bin/env python3
"""Test clients for the certa proxy tests (tests/interop/proxy_*.sh).

  echo HOST PORT [--bytes N] [TLS options]
      send N random bytes, half-close (or close_notify is left to the peer),
      read until EOF, check the echo; prints "echo ok N".
  many HOST PORT --conns N [--bytes N] [TLS options]
      N connections open at once (all connected before any sends), each
      echoes its bytes and half-closes; prints "many ok N/N".
  stream HOST PORT --seconds S [TLS options]
      one long-lived connection echoing a chunk every 50 ms for S seconds;
      prints "stream ok CHUNKS". With --marker FILE, writes FILE after the
      first second so the caller can act during the stream.
  noread HOST PORT --seconds S [--marker FILE] [--wait S]
      write without reading for S seconds; print the bytes taken, touch
      FILE, keep the connection open --wait seconds more.
  silent HOST PORT [--wait S]
      connect, send nothing; prints "closed after X.Xs" when the peer closes,
      or "still open after S s".
TLS options: --tls --ca FILE [--cert FILE --key FILE] [--servername NAME]
Every operation has a timeout (--timeout, default 30 s); exit 1 on failure.
"""
import argparse
import asyncio
import hashlib
import os
import socket
import ssl
import sys
import time


def tls_context(a):
    if not a.tls:
        return None
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    return ctx


async def open_conn(a, ctx):
    if ctx:
        return await asyncio.open_connection(
            a.host, a.port, ssl=ctx, server_hostname=a.servername or a.host)
    return await asyncio.open_connection(a.host, a.port)


async def echo_one(a, ctx, data, r, w):
    """Writes data while reading the echo concurrently (so neither side's
    buffers have to hold everything); plaintext half-closes after writing
    and reads until EOF, TLS reads exactly len(data)."""

    async def writer():
        view = memoryview(data)
        for off in range(0, len(data), 65536):
            w.write(view[off:off + 65536])
            await w.drain()
        if not ctx:
            w.write_eof()  # the proxy turns this into close_notify

    async def reader():
        if ctx:
            return await r.readexactly(len(data))
        return await r.read(-1)  # until EOF: the close_notify/half-close came back

    _, got = await asyncio.gather(writer(), reader())
    w.close()
    try:
        await w.wait_closed()
    except (ConnectionError, ssl.SSLError):
        pass
    return hashlib.sha256(got).digest() == hashlib.sha256(data).digest(), len(got)


async def cmd_echo(a):
    ctx = tls_context(a)
    data = os.urandom(a.bytes)
    r, w = await open_conn(a, ctx)
    good, n = await echo_one(a, ctx, data, r, w)
    if not good:
        print(f"echo mismatch: sent {len(data)}, got {n}")
        return 1
    print(f"echo ok {n}")
    return 0


async def cmd_many(a):
    ctx = tls_context(a)
    sem_ok = 0
    opened = []

    async def opener(i):
        try:
            opened.append(await open_conn(a, ctx))
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as e:
            print(f"connect {i}: {e!r}", file=sys.stderr)

    await asyncio.gather(*(opener(i) for i in range(a.conns)))
    print(f"open at once: {len(opened)}", file=sys.stderr)

    async def one(rw):
        try:
            data = os.urandom(a.bytes)
            good, _ = await echo_one(a, ctx, data, *rw)
            return good
        except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as e:
            print(f"echo: {e!r}", file=sys.stderr)
            return False

    results = await asyncio.gather(*(one(rw) for rw in opened))
    sem_ok = sum(1 for x in results if x)
    print(f"many {'ok' if sem_ok == a.conns else 'failed'} {sem_ok}/{a.conns}")
    return 0 if sem_ok == a.conns else 1


async def cmd_stream(a):
    ctx = tls_context(a)
    r, w = await open_conn(a, ctx)
    start = time.monotonic()
    chunks = 0
    marked = False
    while time.monotonic() - start < a.seconds:
        data = os.urandom(1024)
        w.write(data)
        await w.drain()
        got = await r.readexactly(len(data))
        if got != data:
            print("stream mismatch")
            return 1
        chunks += 1
        if a.marker and not marked and time.monotonic() - start > 1:
            open(a.marker, "w").close()
            marked = True
        await asyncio.sleep(0.05)
    w.close()
    print(f"stream ok {chunks}")
    return 0


def cmd_noread(a):
    """Writes for --seconds without ever reading; prints the bytes the
    network path took. With backpressure working this plateaus at a few
    MiB (socket buffers plus the proxies' caps) instead of growing."""
    s = socket.create_connection((a.host, a.port), timeout=5)
    s.setblocking(False)
    chunk = os.urandom(65536)
    sent = 0
    end = time.monotonic() + a.seconds
    while time.monotonic() < end:
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            time.sleep(0.01)
    print(f"noread sent {sent}")
    if a.marker:
        open(a.marker, "w").close()
    time.sleep(a.wait)  # hold the connection while the caller measures
    s.close()
    return 0


def cmd_silent(a):
    s = socket.create_connection((a.host, a.port), timeout=a.wait)
    start = time.monotonic()
    try:
        while True:
            b = s.recv(4096)
            if not b:
                break
    except socket.timeout:
        print(f"still open after {a.wait} s")
        return 1
    except OSError:
        pass
    print(f"closed after {time.monotonic() - start:.1f}s")
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("cmd", choices=["echo", "many", "stream", "silent", "noread"])
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--bytes", type=int, default=100000)
    p.add_argument("--conns", type=int, default=100)
    p.add_argument("--seconds", type=float, default=3)
    p.add_argument("--wait", type=float, default=10)
    p.add_argument("--marker")
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--servername")
    a = p.parse_args()
    if a.cmd == "silent":
        return cmd_silent(a)
    if a.cmd == "noread":
        return cmd_noread(a)
    fn = {"echo": cmd_echo, "many": cmd_many, "stream": cmd_stream}[a.cmd]
    try:
        return asyncio.run(asyncio.wait_for(fn(a), a.timeout))
    except asyncio.TimeoutError:
        print(f"{a.cmd}: timed out after {a.timeout} s")
        return 1
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError) as e:
        print(f"{a.cmd}: {e!r}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
