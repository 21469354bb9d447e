#!/usr/bin/env bash
# certa proxy --accept-proxy-protocol: HAProxy (Debian) in front of certa
# sends PROXY v2 (send-proxy-v2) and v1 (send-proxy); certa takes the
# client's address from the header, logs it (peer=, with lb= the balancer),
# and passes it on with --proxy-protocol to nginx behind it, which logs it.
# The client connects from 127.0.0.2, HAProxy reaches certa from 127.0.0.1,
# so an address seen anywhere tells which one it came from. Then the
# refusals: no header (a TLS client straight to certa), a malformed header,
# a header that never comes (--handshake-timeout), a forged header from an
# address outside --accept-proxy-protocol-from; and a v2 LOCAL header and a
# header arriving in pieces, both followed by TLS. Each is counted in the
# metrics and logged once.
. "$(dirname "$0")/lib.sh"
need openssl python3 curl haproxy
need_certa
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
[ -n "$NGINX" ] || { skip "nginx is not installed (make deps installs nginx-light)"; finish; }

D=$T_TMP
C="$D/ca"
"$CERTA" ca init "$C" >"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/srv" --dns localhost --ip 127.0.0.1 --server >>"$D/ca.log" 2>&1 ||
  not_ok "CA"

# ---- nginx behind certa: logs the PROXY header's address ----
NPORT=$(free_port)
mkdir -p "$D/nginx/www" "$D/nginx/logs" "$D/nginx/tmp"
echo "hello from nginx" >"$D/nginx/www/index.html"
cat >"$D/nginx.conf" <<NG
daemon off;
worker_processes 1;
pid $D/nginx/nginx.pid;
error_log $D/nginx/logs/error.log;
events { worker_connections 64; }
http {
  log_format pp 'pp=\$proxy_protocol_addr:\$proxy_protocol_port "\$request" \$status';
  access_log $D/nginx/logs/access.log pp;
  client_body_temp_path $D/nginx/tmp; proxy_temp_path $D/nginx/tmp;
  fastcgi_temp_path $D/nginx/tmp; uwsgi_temp_path $D/nginx/tmp; scgi_temp_path $D/nginx/tmp;
  server { listen 127.0.0.1:$NPORT proxy_protocol; root $D/nginx/www; }
}
NG
chmod 755 "$D" "$D/nginx" "$D/nginx/www"
chmod 644 "$D/nginx/www/index.html"
bg "$D/nginx.out" "$NGINX" -p "$D/nginx" -c "$D/nginx.conf" -e "$D/nginx/logs/error.log"
NGINX_PID=$BG_PID
for _ in $(seq 50); do port_in_use "$NPORT" && break; sleep 0.1; done

# ---- certa, trusting HAProxy's address only ----
MPORT=$(free_port)
if ! start_proxy accept --backend "127.0.0.1:$NPORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --accept-proxy-protocol --accept-proxy-protocol-from 127.0.0.1/32,::1 --proxy-protocol \
  --handshake-timeout 2 --metrics "127.0.0.1:$MPORT"; then
  not_ok "certa proxy --accept-proxy-protocol did not start"
  show "$PROXY_LOG"
  finish
fi
grep -q "PROXY v1/v2 headers required, from 127.0.0.1/32,::1" "$PROXY_LOG" &&
  ok "the start-up line says PROXY headers are required, and from where" ||
  not_ok "start-up line"

# ---- HAProxy in front ----
HP1=$(free_port)
HP2=$(free_port)
cat >"$D/haproxy.cfg" <<HA
global
  maxconn 64
defaults
  mode tcp
  timeout connect 5s
  timeout client 20s
  timeout server 20s
frontend v2
  bind 127.0.0.1:$HP2
  default_backend certa_v2
backend certa_v2
  server certa 127.0.0.1:$PROXY_PORT send-proxy-v2
frontend v1
  bind 127.0.0.1:$HP1
  default_backend certa_v1
backend certa_v1
  server certa 127.0.0.1:$PROXY_PORT send-proxy
HA
bg "$D/haproxy.log" haproxy -db -f "$D/haproxy.cfg"
HAPROXY_PID=$BG_PID
for _ in $(seq 50); do port_in_use "$HP1" && port_in_use "$HP2" && break; sleep 0.1; done

through_haproxy() { # NAME PORT
  local name=$1 port=$2 lport
  lport=$(timeout 20 curl -s --interface 127.0.0.2 --cacert "$C/ca.crt" \
    --resolve "localhost:$port:127.0.0.1" -o "$D/$name.body" -w '%{local_port}' \
    "https://localhost:$port/$name" 2>"$D/$name.err")
  # nginx has no /send-proxy*: its 404 page is the answer, the log line the proof
  if [ -n "$lport" ] && grep -q "404 Not Found" "$D/$name.body" && wait_for "$D/nginx/logs/access.log" "^pp=127\.0\.0\.2:$lport \"GET /$name " 5 &&
    wait_for "$PROXY_LOG" "event=close .*peer=127\.0\.0\.2:$lport lb=127\.0\.0\.1:[0-9]+ .*reason=clean" 5; then
    ok "HAProxy $name -> certa -> nginx: certa logs peer=127.0.0.2:$lport (lb=127.0.0.1), nginx logs pp=127.0.0.2:$lport"
  else
    not_ok "HAProxy $name: client 127.0.0.2:${lport:-?} not seen end to end"
    show "$D/$name.err" "$D/nginx/logs/access.log" "$PROXY_LOG" "$D/haproxy.log"
  fi
}
through_haproxy send-proxy-v2 "$HP2"
through_haproxy send-proxy "$HP1"

# ---- refusals, and the header's other forms, from a raw Python client ----
cat >"$D/raw.py" <<'PY'
import socket, ssl, struct, sys, time
mode, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
src = sys.argv[4] if len(sys.argv) > 4 else "127.0.0.1"
s = socket.socket(); s.bind((src, 0)); s.connect(("127.0.0.1", port)); s.settimeout(10)
sig = b"\r\n\r\n\x00\r\nQUIT\n"
def v2_tcp4(a, b, sp, dp):
    body = socket.inet_aton(a) + socket.inet_aton(b) + struct.pack("!HH", sp, dp)
    return sig + b"\x21\x11" + struct.pack("!H", len(body)) + body
def tls():
    ctx = ssl.create_default_context(cafile=ca)
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"GET /" + mode.encode() + b" HTTP/1.0\r\nHost: localhost\r\n\r\n")
    data = b""
    while True:
        x = t.recv(4096)
        if not x: break
        data += x
    print("status", data.split(b"\r\n")[0].decode())
def closed():  # the proxy refused: the connection ends without any TLS answer
    try: print("read", len(s.recv(100)))
    except (ConnectionResetError, socket.timeout) as e: print("read", type(e).__name__)
if mode == "pieces":      # a v2 header a byte at a time, then TLS
    for b in v2_tcp4("203.0.113.9", "127.0.0.1", 4242, port):
        s.send(bytes([b])); time.sleep(0.005)
    tls()
elif mode == "local":     # v2 LOCAL (a health check): the connection's own address stands
    s.sendall(sig + b"\x20\x00\x00\x00"); tls()
elif mode == "malformed":
    s.sendall(b"PROXY TCP4 300.1.2.3 127.0.0.1 1 2\r\n"); closed()
elif mode == "forged":    # from an address the proxy does not trust
    s.sendall(v2_tcp4("198.51.100.7", "127.0.0.1", 1, port)); closed()
elif mode == "silent":    # says nothing: the header timeout ends it
    t0 = time.time(); closed(); print("after %.1f" % (time.time() - t0))
PY
raw() { timeout 20 python3 "$D/raw.py" "$1" "$PROXY_PORT" "$C/ca.crt" "${@:2}" >"$D/raw-$1.out" 2>&1; }

raw pieces
if grep -q "^status HTTP/1.1 404" "$D/raw-pieces.out" &&
  wait_for "$D/nginx/logs/access.log" '^pp=203\.0\.113\.9:4242 "GET /pieces ' 5 &&
  wait_for "$PROXY_LOG" 'peer=203\.0\.113\.9:4242 lb=127\.0\.0\.1:' 5; then
  ok "a v2 header arriving a byte at a time, then TLS: 203.0.113.9:4242 reaches the log and nginx"
else
  not_ok "v2 header in pieces"
  show "$D/raw-pieces.out" "$PROXY_LOG"
fi
raw local
if grep -q "^status HTTP/1.1 404" "$D/raw-local.out" &&
  wait_for "$D/nginx/logs/access.log" '^pp=127\.0\.0\.1:[0-9]+ "GET /local ' 5; then
  ok "a v2 LOCAL header (health check): served, with the connection's own address"
else
  not_ok "v2 LOCAL"
  show "$D/raw-local.out" "$PROXY_LOG"
fi
raw malformed
if wait_for "$PROXY_LOG" 'reason="proxy protocol" detail="PROXY v1 address not of its protocol.s family \(load balancer 127\.0\.0\.1:' 5; then
  ok "a malformed v1 header is refused with a log line saying what was wrong"
else
  not_ok "malformed header"
  show "$D/raw-malformed.out" "$PROXY_LOG"
fi
"$CERTA" connect "127.0.0.1:$PROXY_PORT" --trust "$C/ca.crt" --servername localhost --timeout 5 \
  </dev/null >"$D/direct.out" 2>&1
if wait_for "$PROXY_LOG" 'reason="proxy protocol" detail="no PROXY header: the connection began with a TLS record' 5; then
  ok "a TLS client straight to certa (no header) is refused: 'the connection began with a TLS record'"
else
  not_ok "no header"
  show "$D/direct.out" "$PROXY_LOG"
fi
raw forged 127.0.0.3
if wait_for "$PROXY_LOG" 'peer=127\.0\.0\.3:[0-9]+ lb=127\.0\.0\.3:[0-9]+ .*reason="proxy protocol" detail="127\.0\.0\.3:[0-9]+ may not send PROXY headers' 5 &&
  ! grep -q "198.51.100.7" "$PROXY_LOG" "$D/nginx/logs/access.log"; then
  ok "a forged header from 127.0.0.3 (not in --accept-proxy-protocol-from) is refused, its address never used"
else
  not_ok "untrusted source"
  show "$D/raw-forged.out" "$PROXY_LOG"
fi
raw silent
after=$(sed -n 's/^after //p' "$D/raw-silent.out")
if wait_for "$PROXY_LOG" 'reason="proxy protocol timeout" detail="no PROXY header within 2000 ms' 5 &&
  awk -v a="${after:-99}" 'BEGIN { exit !(a >= 1.5 && a < 5) }'; then
  ok "a connection that sends no header is closed after the header timeout (${after}s, --handshake-timeout 2)"
else
  not_ok "header timeout (closed after ${after:-?}s)"
  show "$D/raw-silent.out" "$PROXY_LOG"
fi

# ---- metrics and one line each ----
timeout 10 curl -sf "http://127.0.0.1:$MPORT/metrics" >"$D/metrics.txt"
metric() { awk -v k="$1 " 'index($0, k) == 1 { print $NF }' "$D/metrics.txt"; }
v2=$(metric 'certa_proxy_proxy_headers_total{result="v2"}')
v1=$(metric 'certa_proxy_proxy_headers_total{result="v1"}')
loc=$(metric 'certa_proxy_proxy_headers_total{result="local"}')
inv=$(metric 'certa_proxy_proxy_headers_total{result="invalid"}')
unt=$(metric 'certa_proxy_proxy_headers_total{result="untrusted"}')
tmo=$(metric 'certa_proxy_proxy_headers_total{result="timeout"}')
closed_pp=$(metric 'certa_proxy_closed_total{reason="proxy protocol"}')
hs_failed=$(metric 'certa_proxy_handshakes_total{result="failed",version="TLSv1.2"}')
if [ "$v2" = 2 ] && [ "$v1" = 1 ] && [ "$loc" = 1 ] && [ "$inv" = 2 ] && [ "$unt" = 1 ] &&
  [ "$tmo" = 1 ] && [ "$closed_pp" = 3 ] && [ "$hs_failed" = 0 ]; then
  ok "metrics: headers v2=2 v1=1 local=1, refused invalid=2 untrusted=1 timeout=1; not counted as failed handshakes"
else
  not_ok "metrics: v2=$v2 v1=$v1 local=$loc invalid=$inv untrusted=$unt timeout=$tmo closed{proxy protocol}=$closed_pp failed handshakes=$hs_failed"
  grep -E "proxy_headers|closed_total|handshakes_total" "$D/metrics.txt"
fi
n=$(grep -c 'reason="proxy protocol' "$PROXY_LOG")
if [ "$n" = 4 ]; then
  ok "each refusal logged once (4 lines)"
else
  not_ok "refusal lines: $n (expected 4)"
  show "$PROXY_LOG"
fi

# ---- usage errors ----
if ! "$CERTA" proxy --listen 127.0.0.1:0 --backend 127.0.0.1:1 --cert "$D/srv.crt" --key "$D/srv.key" \
  --accept-proxy-protocol-from 10.0.0.0/8 >"$D/u1.out" 2>&1 && grep -q "give --accept-proxy-protocol too" "$D/u1.out" &&
  ! "$CERTA" proxy --listen 127.0.0.1:0 --backend 127.0.0.1:1 --cert "$D/srv.crt" --key "$D/srv.key" \
    --accept-proxy-protocol --accept-proxy-protocol-from 10.0.0.0/33 >"$D/u2.out" 2>&1 &&
  grep -q "'10.0.0.0/33' is not an address" "$D/u2.out"; then
  ok "usage errors: -from without --accept-proxy-protocol, a bad range"
else
  not_ok "usage errors"
  show "$D/u1.out" "$D/u2.out"
fi

stop "$HAPROXY_PID"
stop_proxy accept
stop "$NGINX_PID"
finish
