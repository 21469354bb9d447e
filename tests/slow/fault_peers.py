#!/usr/bin/env python3
"""Misbehaving peers for tests/slow/proxy_faults.sh.

  fault_peers.py backend             a backend whose first line picks what it does:
                                     ECHO (echo), RESET (read it, then RST mid-stream),
                                     SLOW (read 4 KiB per 0.2 s for 4 s, then RST)
  fault_peers.py reset PORT CA       a client the backend resets; prints how it ended
  fault_peers.py slow PORT CA PID    floods a slow backend for 4 s, sampling the proxy's
                                     RSS (PID): prints sent= rss_before= rss_max=
  fault_peers.py trickle PORT        a ClientHello one byte per second; prints when the
                                     proxy hung up
  fault_peers.py vanish PORT CA      a handshake and an echo, then "ready" and silence
                                     (the test stops the process: no FIN ever comes)
"""
import socket, ssl, struct, sys, threading, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()

def backend():
    srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0)); srv.listen(64)
    print("backend on", srv.getsockname()[1], flush=True)
    def serve(c):
        f = b""
        while b"\n" not in f:
            x = c.recv(4096)
            if not x: return c.close()
            f += x
        mode, rest = f.split(b"\n", 1)
        if mode == b"ECHO":
            c.sendall(rest)
            while True:
                x = c.recv(65536)
                if not x: break
                c.sendall(x)
            c.close()
        elif mode == b"RESET":
            c.sendall(b"partial answer\n"); time.sleep(0.3); rst_close(c)
        elif mode == b"SLOW":
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            t0 = time.time()
            while time.time() - t0 < 4:
                c.recv(4096); time.sleep(0.2)
            rst_close(c)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()

def tls(port, ca):
    ctx = ssl.create_default_context(cafile=ca)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return ctx.wrap_socket(s, server_hostname="localhost")

def reset(port, ca):
    t = tls(port, ca)
    t.sendall(b"RESET\nsome request\n")
    got = b""
    try:
        while True:
            x = t.recv(4096)
            if not x: break
            got += x
        print("ended clean", got.decode().strip())
    except (ssl.SSLError, ConnectionError) as e:
        print("ended", type(e).__name__, got.decode().strip())

def slow(port, ca, pid):
    t = tls(port, ca)
    t.sendall(b"SLOW\n")
    before = rss_kib(pid)
    peak, sent, stop = [before], [0], time.time() + 4
    def sample():
        while time.time() < stop:
            peak[0] = max(peak[0], rss_kib(pid)); time.sleep(0.05)
    th = threading.Thread(target=sample); th.start()
    t.settimeout(0.5)
    chunk = b"x" * 16384
    while time.time() < stop:
        try:
            sent[0] += t.send(chunk)
        except (socket.timeout, ssl.SSLWantWriteError):
            continue
        except (ssl.SSLError, ConnectionError):
            break
    th.join()
    print(f"sent={sent[0]} rss_before={before} rss_max={peak[0]}", flush=True)
    try: t.close()
    except OSError: pass

def trickle(port):
    hello = bytes.fromhex("16030100c8010000c40303") + bytes(32) + b"\x00" + bytes(120)
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    t0 = time.time()
    for b in hello:
        try:
            s.send(bytes([b]))
            s.settimeout(1.0)
            if s.recv(100) == b"":
                break
        except socket.timeout:
            continue
        except ConnectionError:
            break
    print("hung up after %.1f s" % (time.time() - t0), flush=True)

def vanish(port, ca):
    t = tls(port, ca)
    t.sendall(b"ECHO\nstill here\n")
    got = b""
    while b"\n" not in got:
        got += t.recv(100)
    print("ready", got.decode().strip(), flush=True)
    time.sleep(3600)

mode = sys.argv[1]
if mode == "backend": backend()
elif mode == "reset": reset(int(sys.argv[2]), sys.argv[3])
elif mode == "slow": slow(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
elif mode == "trickle": trickle(int(sys.argv[2]))
elif mode == "vanish": vanish(int(sys.argv[2]), sys.argv[3])
