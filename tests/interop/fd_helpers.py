#!/usr/bin/env python3
"""Exercises libcerta's blocking socket helpers (certa_fd_handshake,
certa_fd_flush) through ctypes over socketpairs: blocking and non-blocking
sockets, a deadline against a silent peer, a peer that closes, an alert, and
bulk data flushed through a small socket buffer. Prints TAP-style lines.

usage: fd_helpers.py LIBCERTA_SO CERT KEY
"""
import ctypes
import os
import socket
import sys
import threading
import time

lib = ctypes.CDLL(sys.argv[1])
CERT, KEY = sys.argv[2].encode(), sys.argv[3].encode()

vp = ctypes.c_void_p
lib.certa_config_new.restype = vp
lib.certa_config_free.argtypes = [vp]
lib.certa_config_load_cert_chain.argtypes = [vp, ctypes.c_char_p]
lib.certa_config_load_private_key.argtypes = [vp, ctypes.c_char_p]
lib.certa_config_set_insecure.argtypes = [vp, ctypes.c_bool]
lib.certa_config_set_alpn.argtypes = [vp, ctypes.c_char_p]
lib.certa_client_new.restype = vp
lib.certa_client_new.argtypes = [vp, ctypes.c_char_p]
lib.certa_server_new.restype = vp
lib.certa_server_new.argtypes = [vp]
lib.certa_conn_free.argtypes = [vp]
lib.certa_fd_handshake.argtypes = [vp, ctypes.c_int, ctypes.c_int]
lib.certa_fd_flush.argtypes = [vp, ctypes.c_int]
lib.certa_conn_write.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t]
lib.certa_conn_recv.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
lib.certa_conn_read.restype = ctypes.c_size_t
lib.certa_conn_read.argtypes = [vp, ctypes.c_char_p, ctypes.c_size_t]
lib.certa_conn_handshake_done.restype = ctypes.c_bool
lib.certa_conn_handshake_done.argtypes = [vp]
lib.certa_conn_error_text.restype = ctypes.c_char_p
lib.certa_conn_error_text.argtypes = [vp]
lib.certa_error_name.restype = ctypes.c_char_p
lib.certa_conn_alert_received.restype = ctypes.c_uint8
lib.certa_conn_alert_received.argtypes = [vp]

failures = 0


def report(good, name, detail=""):
    global failures
    if good:
        print("ok - fd helpers: " + name)
    else:
        failures += 1
        print("not ok - fd helpers: %s %s" % (name, detail))
    sys.stdout.flush()


def name_of(code):
    return lib.certa_error_name(code).decode()


def configs(server_alpn=None, client_alpn=None):
    s = lib.certa_config_new()
    assert lib.certa_config_load_cert_chain(s, CERT) == 0
    assert lib.certa_config_load_private_key(s, KEY) == 0
    if server_alpn:
        lib.certa_config_set_alpn(s, server_alpn)
    c = lib.certa_config_new()
    lib.certa_config_set_insecure(c, True)
    if client_alpn:
        lib.certa_config_set_alpn(c, client_alpn)
    return s, c


def both_handshakes(nonblocking, timeout_ms=5000, server_alpn=None, client_alpn=None):
    scfg, ccfg = configs(server_alpn, client_alpn)
    a, b = socket.socketpair()
    if nonblocking:
        a.setblocking(False)
        b.setblocking(False)
    server = lib.certa_server_new(scfg)
    client = lib.certa_client_new(ccfg, b"localhost")
    lib.certa_config_free(scfg)
    lib.certa_config_free(ccfg)
    result = {}

    def run_server():
        result["server"] = lib.certa_fd_handshake(server, a.fileno(), timeout_ms)

    t = threading.Thread(target=run_server)
    t.start()
    result["client"] = lib.certa_fd_handshake(client, b.fileno(), timeout_ms)
    t.join()
    return server, client, a, b, result


# 1, 2: handshake over blocking and non-blocking sockets, then data both ways.
for nb in (False, True):
    mode = "non-blocking" if nb else "blocking"
    server, client, a, b, res = both_handshakes(nb)
    good = res == {"server": 0, "client": 0} and lib.certa_conn_handshake_done(server) and \
        lib.certa_conn_handshake_done(client)
    report(good, "handshake over a %s socketpair" % mode, res)
    # The helpers must not have read past the handshake: no byte is lost.
    msg = b"x" * 100000
    lib.certa_conn_write(client, msg, len(msg))
    flushed = {}

    def flush():
        flushed["r"] = lib.certa_fd_flush(client, b.fileno())

    t = threading.Thread(target=flush)
    t.start()  # 100 kB does not fit a socketpair buffer: flush must wait for room
    got = b""
    a.setblocking(True)
    a.settimeout(10)
    buf = ctypes.create_string_buffer(16384)
    used = ctypes.c_size_t()
    while len(got) < len(msg):
        data = a.recv(65536)
        if not data:
            break
        off = 0
        while off < len(data):
            r = lib.certa_conn_recv(server, data[off:], len(data) - off, ctypes.byref(used))
            if r:
                break
            off += used.value
            while True:
                n = lib.certa_conn_read(server, buf, len(buf))
                if not n:
                    break
                got += buf.raw[:n]
    t.join()
    report(flushed.get("r") == 0 and got == msg,
           "certa_fd_flush delivers 100 kB through a full %s socket" % mode,
           "flush=%s got=%d" % (flushed.get("r"), len(got)))
    lib.certa_conn_free(server)
    lib.certa_conn_free(client)
    a.close()
    b.close()

# 3: a silent peer: the deadline is kept.
scfg, ccfg = configs()
a, b = socket.socketpair()
client = lib.certa_client_new(ccfg, b"localhost")
t0 = time.monotonic()
r = lib.certa_fd_handshake(client, b.fileno(), 300)
took = time.monotonic() - t0
report(name_of(r) == "CERTA_E_TIMEOUT" and 0.25 <= took < 3,
       "silent peer: CERTA_E_TIMEOUT after the 300 ms deadline", "%s in %.2fs" % (name_of(r), took))
lib.certa_conn_free(client)
a.close()
b.close()

# 4: the peer closes: CERTA_E_PEER_CLOSED with a sentence.
a, b = socket.socketpair()
client = lib.certa_client_new(ccfg, b"localhost")


def closer():
    a.recv(4096)  # the ClientHello
    a.close()


t = threading.Thread(target=closer)
t.start()
r = lib.certa_fd_handshake(client, b.fileno(), 5000)
t.join()
text = lib.certa_conn_error_text(client).decode()
report(name_of(r) == "CERTA_E_PEER_CLOSED" and "closed" in text,
       "peer closes during the handshake: CERTA_E_PEER_CLOSED", "%s: %s" % (name_of(r), text))
lib.certa_conn_free(client)
b.close()

# 5: not TLS at all: the engine's error comes back (and no hang).
a, b = socket.socketpair()
client = lib.certa_client_new(ccfg, b"localhost")
a.sendall(b"HTTP/1.1 400 Bad Request\r\n\r\n")
r = lib.certa_fd_handshake(client, b.fileno(), 5000)
report(r != 0 and name_of(r) != "CERTA_E_TIMEOUT", "plain-text peer: an error, not a hang",
       name_of(r))
lib.certa_conn_free(client)
a.close()
b.close()
lib.certa_config_free(scfg)
lib.certa_config_free(ccfg)

# 6: ALPN refusal: the server's alert reaches the client through the helpers.
server, client, a, b, res = both_handshakes(True, server_alpn=b"h2", client_alpn=b"foo")
report(name_of(res["server"]) == "CERTA_E_NO_ALPN" and res["client"] != 0 and
       lib.certa_conn_alert_received(client) == 120,
       "alert delivered: server CERTA_E_NO_ALPN, client receives no_application_protocol",
       "%s / %s" % (name_of(res["server"]), name_of(res["client"])))
lib.certa_conn_free(server)
lib.certa_conn_free(client)
a.close()
b.close()

# 7: argument checks.
report(lib.certa_fd_handshake(None, 0, 0) != 0 and lib.certa_fd_flush(None, 0) != 0,
       "NULL connection refused")
sys.exit(1 if failures else 0)
