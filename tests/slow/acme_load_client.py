#!/usr/bin/env python3
"""Bounded load for tests/interop/proxy_acme_load.sh.

  acme_load_client.py HOST PORT SERVERNAME ROOTS.pem SECONDS WORKERS HELD

WORKERS threads each loop for SECONDS: a new TLS connection to HOST:PORT
(the chain verified against ROOTS.pem for SERVERNAME), one unique line sent
and read back through the echo backend, closed, then the next. HELD more
connections are opened at the start and kept for the whole run, each
sending a unique line every 0.2 s and reading it back: they must survive
every certificate swap. Every answer must be exactly the line sent (a
mismatched pair is counted), every failure is counted with its reason.
The leaf's serial of each handshake is read from the DER. Prints one line:
  requests=N failures=F mismatched=M held_ok=H/HELD held_rounds=R serials=S1,S2,...
then up to 10 failure reasons, one per line.
"""
import socket, ssl, sys, threading, time


def der_len(b, i):
    n = b[i]
    if n < 0x80:
        return n, i + 1
    k = n & 0x7F
    return int.from_bytes(b[i + 1:i + 1 + k], "big"), i + 1 + k


def serial_of(der):
    """Certificate ::= SEQ { tbs SEQ { [0] version?, serial INTEGER, ... } }"""
    i = 1
    _, i = der_len(der, i)  # into the certificate
    i += 1
    _, i = der_len(der, i)  # into the TBSCertificate
    if der[i] == 0xA0:  # explicit version
        n, j = der_len(der, i + 1)
        i = j + n
    n, j = der_len(der, i + 1)
    return der[j:j + n].lstrip(b"\0").hex().upper()


host, port, name, roots = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
seconds, workers, held = float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
ctx = ssl.create_default_context(cafile=roots)
lock = threading.Lock()
stats = {"requests": 0, "failures": 0, "mismatched": 0, "held_rounds": 0}
serials, reasons = {}, []
end = time.time() + seconds


def fail(why):
    with lock:
        stats["failures"] += 1
        if len(reasons) < 10:
            reasons.append(why)


def connect():
    raw = socket.create_connection((host, port), timeout=10)
    s = ctx.wrap_socket(raw, server_hostname=name)
    serial = serial_of(s.getpeercert(binary_form=True))
    with lock:
        serials[serial] = serials.get(serial, 0) + 1
    return s


def exchange(s, line):
    s.sendall(line)
    got = b""
    while not got.endswith(b"\n"):
        b = s.recv(4096)
        if not b:
            break
        got += b
    if got != line:
        with lock:
            stats["mismatched"] += 1
        return False
    return True


def worker(w):
    k = 0
    while time.time() < end:
        k += 1
        line = b"w%d-%d-%f\n" % (w, k, time.time())
        try:
            s = connect()
            try:
                if exchange(s, line):
                    with lock:
                        stats["requests"] += 1
                else:
                    fail("worker %d: answer did not match request %d" % (w, k))
            finally:
                s.close()
        except Exception as e:  # a failed request, whatever the cause
            fail("worker %d request %d: %r" % (w, k, e))
        time.sleep(0.01)


held_ok = [False] * held


def keeper(h):
    try:
        s = connect()
        k = 0
        while time.time() < end:
            k += 1
            if not exchange(s, b"held%d-%d\n" % (h, k)):
                fail("held %d: round %d did not match" % (h, k))
                return
            with lock:
                stats["held_rounds"] += 1
            time.sleep(0.2)
        s.close()
        held_ok[h] = True
    except Exception as e:
        fail("held connection %d: %r" % (h, e))


threads = [threading.Thread(target=keeper, args=(h,)) for h in range(held)]
threads += [threading.Thread(target=worker, args=(w,)) for w in range(workers)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("requests=%d failures=%d mismatched=%d held_ok=%d/%d held_rounds=%d serials=%s" % (
    stats["requests"], stats["failures"], stats["mismatched"], sum(held_ok), held,
    stats["held_rounds"], ",".join(sorted(serials))))
for r in reasons:
    print(r)
