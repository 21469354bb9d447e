#!/usr/bin/env bash
# Python's ssl module both ways: a Python TLS 1.3 client against certa serve
# (verified with the certificate as CA, then 300 clients at once, more than
# certa serve runs concurrently), and certa connect against a Python server.
. "$(dirname "$0")/lib.sh"
need openssl python3
need_certa

gen_cert ecdsa srv || not_ok "generate certificate"
pin=$(pin_of "$T_TMP/srv.crt")

start_certa_serve serve-py --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --alpn h2,http/1.1 --quiet && {
  timeout 60 python3 - "$SERVE_PORT" "$T_TMP/srv.crt" >"$T_TMP/py-client.out" 2>&1 <<'EOF'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.set_alpn_protocols(["http/1.1"])
with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
    with ctx.wrap_socket(s, server_hostname="localhost") as t:
        t.sendall(b"python says hi\n")
        got = b""
        while not got.endswith(b"\n"):
            d = t.recv(100)
            if not d:
                break
            got += d
        print("version", t.version())
        print("cipher", t.cipher()[0])
        print("alpn", t.selected_alpn_protocol())
        print("echo", got.decode().strip())
        t.unwrap()  # close_notify both ways
        print("unwrapped")
EOF
  out=$T_TMP/py-client.out
  if grep -qx "version TLSv1.3" "$out" && grep -qx "echo python says hi" "$out" &&
    grep -qx "alpn http/1.1" "$out" && grep -qx "unwrapped" "$out"; then
    ok "python ssl client (verifying, SNI localhost, ALPN) -> certa serve: echo, close_notify both ways"
  else
    not_ok "python ssl client -> certa serve"
    show "$out" "$SERVE_LOG"
  fi

  timeout 120 python3 - "$SERVE_PORT" >"$T_TMP/py-many.out" 2>&1 <<'EOF'
import socket, ssl, sys, threading, time
port = int(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
good, errors, lock = [0], [], threading.Lock()
def run(i):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            with ctx.wrap_socket(s) as t:
                time.sleep(0.5)
                msg = b"client %d\n" % i
                t.sendall(msg)
                got = b""
                while len(got) < len(msg):
                    d = t.recv(100)
                    if not d:
                        break
                    got += d
                if got == msg:
                    with lock:
                        good[0] += 1
    except Exception as e:
        with lock:
            errors.append(repr(e))
threads = [threading.Thread(target=run, args=(i,)) for i in range(300)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("good", good[0])
print("errors", len(errors), sorted(set(errors))[:3])
EOF
  if grep -qx "good 300" "$T_TMP/py-many.out"; then
    ok "300 simultaneous python ssl clients -> certa serve: all echoed"
  else
    not_ok "300 simultaneous clients"
    show "$T_TMP/py-many.out" "$SERVE_LOG"
  fi
  stop_certa_serve serve-py
}

# certa connect -> a Python TLS 1.3 echo server.
py_port=$(free_port)
cat >"$T_TMP/py_server.py" <<'EOF'
import socket, ssl, sys
port, crt, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_cert_chain(crt, key)
ctx.set_alpn_protocols(["h2"])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(5)
print("ready", flush=True)
while True:
    c, _ = ls.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        print("accepted", t.version(), t.cipher()[0], t.selected_alpn_protocol(), flush=True)
        while True:
            d = t.recv(4096)
            if not d:
                break
            t.sendall(d.upper())
        t.unwrap()
        print("closed cleanly", flush=True)
    except Exception as e:
        print("error", repr(e), flush=True)
    finally:
        c.close()
EOF
bg "$T_TMP/py-server.log" python3 -u "$T_TMP/py_server.py" "$py_port" "$T_TMP/srv.crt" "$T_TMP/srv.key"
py_pid=$BG_PID
if wait_for "$T_TMP/py-server.log" '^ready' 10; then
  printf 'shout this\n' | timeout 20 "$CERTA" connect "127.0.0.1:$py_port" --pin "$pin" --alpn h2 \
    >"$T_TMP/py-connect.out" 2>"$T_TMP/py-connect.err"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -qx "SHOUT THIS" "$T_TMP/py-connect.out" && grep -q "ALPN: *h2" "$T_TMP/py-connect.err" &&
    wait_for "$T_TMP/py-server.log" '^closed cleanly' 5; then
    ok "certa connect -> python ssl server: TLS 1.3, ALPN h2, data, close_notify both ways"
  else
    not_ok "certa connect -> python ssl server (exit $rc)"
    show "$T_TMP/py-connect.err" "$T_TMP/py-server.log"
  fi
else
  not_ok "python ssl server did not start"
  show "$T_TMP/py-server.log"
fi
stop "$py_pid"

finish
