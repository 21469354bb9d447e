#!/usr/bin/env bash
# certa proxy --proxy-protocol: the backend gets a PROXY protocol v2 header
# before the first plaintext byte. A Python backend parses it (addresses,
# PP2_TYPE_AUTHORITY = SNI, PP2_TYPE_SSL with verify 0 and VERSION, CN and
# CIPHER sub-TLVs, certa's identity TLV 0xE0 = the verified SPIFFE ID) and
# echoes the data after it; nginx with `listen ... proxy_protocol` logs the
# client address from it and serves the request.
. "$(dirname "$0")/lib.sh"
need openssl python3 curl
need_certa

D=$T_TMP
C="$D/ca"
"$CERTA" ca init "$C" >"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/srv" --dns localhost --ip 127.0.0.1 --server >>"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/web" --spiffe spiffe://test.example/web --client \
    --cn web-client >>"$D/ca.log" 2>&1 || not_ok "CA"
BPORT=$(free_port)
cat >"$D/pp2.py" <<'PY'
import socket, struct, sys, ipaddress
port = int(sys.argv[1])
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(8); s.settimeout(60)
print("ready", flush=True)
c, _ = s.accept(); c.settimeout(30)
def read(n):
    b = b""
    while len(b) < n:
        x = c.recv(n - len(b))
        if not x: raise SystemExit("short")
        b += x
    return b
h = read(16)
assert h[:12] == b"\r\n\r\n\x00\r\nQUIT\n", "signature"
ver, fam, ln = h[12], h[13], struct.unpack("!H", h[14:16])[0]
body = read(ln)
print(f"version={ver:#x} family={fam:#x}")
if fam == 0x11:
    src, dst = ipaddress.ip_address(body[0:4]), ipaddress.ip_address(body[4:8])
    sp, dp = struct.unpack("!HH", body[8:12]); rest = body[12:]
    print(f"src={src}:{sp} dst={dst}:{dp}")
def tlvs(b):
    while b:
        t, l = b[0], struct.unpack("!H", b[1:3])[0]
        yield t, b[3:3 + l]; b = b[3 + l:]
for t, v in tlvs(rest):
    if t == 0x20:
        print(f"ssl client={v[0]:#x} verify={struct.unpack('!I', v[1:5])[0]}")
        for st, sv in tlvs(v[5:]):
            print(f"ssl_sub {st:#x}={sv.decode()}")
    else:
        print(f"tlv {t:#x}={v.decode()}")
print("data=" + c.recv(100).decode().strip(), flush=True)
c.sendall(b"pong\n"); c.close()
PY
bg "$D/backend.log" python3 -u "$D/pp2.py" "$BPORT"
BACK_PID=$BG_PID
wait_for "$D/backend.log" '^ready' 10 || not_ok "backend"
if start_proxy pp --backend "127.0.0.1:$BPORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --client-ca "$C/ca.crt" --proxy-protocol; then
  echo ping | timeout 20 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
    --trust "$C/ca.crt" --cert "$D/web.crt" --key "$D/web.key" --timeout 10 \
    >"$D/c.out" 2>"$D/c.err"
  wait_for "$D/backend.log" '^data=' 10
  cport=$(sed -n 's/^\* TCP connected.*//p' "$D/c.err" >/dev/null; true)
  if grep -q '^version=0x21 family=0x11$' "$D/backend.log" &&
    grep -Eq "^src=127\.0\.0\.1:[0-9]+ dst=127\.0\.0\.1:$PROXY_PORT$" "$D/backend.log"; then
    ok "PROXY v2 over TCP/IPv4: the client's address and the address it reached ($PROXY_PORT)"
  else
    not_ok "PROXY v2 addresses"
    show "$D/backend.log" "$PROXY_LOG"
  fi
  if grep -q '^tlv 0x2=localhost$' "$D/backend.log" &&
    grep -q '^ssl client=0x3 verify=0$' "$D/backend.log" &&
    grep -q '^ssl_sub 0x21=TLSv1.3$' "$D/backend.log" &&
    grep -q '^ssl_sub 0x22=web-client$' "$D/backend.log" &&
    grep -q '^ssl_sub 0x23=TLS_' "$D/backend.log" &&
    grep -q '^tlv 0xe0=spiffe://test.example/web$' "$D/backend.log"; then
    ok "TLVs: SNI (AUTHORITY), SSL (certificate sent and verified; TLSv1.3, CN, cipher), identity 0xE0"
  else
    not_ok "PROXY v2 TLVs"
    show "$D/backend.log"
  fi
  if grep -q '^data=ping$' "$D/backend.log" && grep -q '^pong$' "$D/c.out"; then
    ok "the data follows the header, both ways"
  else
    not_ok "data after the header"
    show "$D/backend.log" "$D/c.out"
  fi
  stop_proxy pp
fi
stop "$BACK_PID"

# ---- nginx behind certa, reading the client address from the header ----
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
if [ -n "$NGINX" ]; then
  NPORT=$(free_port)
  mkdir -p "$D/nginx/www" "$D/nginx/logs"
  echo "hello through PROXY" >"$D/nginx/www/index.html"
  cat >"$D/nginx.conf" <<NG
daemon off;
worker_processes 1;
pid $D/nginx/nginx.pid;
error_log $D/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log $D/nginx/logs/access.log pp;
  log_format pp 'pp=\$proxy_protocol_addr:\$proxy_protocol_port "\$request" \$status';
  client_body_temp_path $D/nginx/tmp; proxy_temp_path $D/nginx/tmp;
  fastcgi_temp_path $D/nginx/tmp; uwsgi_temp_path $D/nginx/tmp; scgi_temp_path $D/nginx/tmp;
  server {
    listen 127.0.0.1:$NPORT proxy_protocol;
    root $D/nginx/www;
  }
}
NG
  sed -i 's/access_log \(.*\) pp;/access_log \1 pp;/' "$D/nginx.conf"
  # log_format must come before its use
  python3 - "$D/nginx.conf" <<'PY'
import sys
p = sys.argv[1]; s = open(p).read().split("\n")
i = [k for k, l in enumerate(s) if "access_log" in l][0]; j = [k for k, l in enumerate(s) if "log_format" in l][0]
s[i], s[j] = s[j], s[i]; open(p, "w").write("\n".join(s))
PY
  mkdir -p "$D/nginx/tmp"
  chmod 755 "$D" "$D/nginx" "$D/nginx/www" # nginx's workers are not root
  chmod 644 "$D/nginx/www/index.html"
  bg "$D/nginx.out" "$NGINX" -p "$D/nginx" -c "$D/nginx.conf" -e "$D/nginx/logs/error.log"
  NGINX_PID=$BG_PID
  for _ in $(seq 50); do port_in_use "$NPORT" && break; sleep 0.1; done
  if start_proxy pp-nginx --backend "127.0.0.1:$NPORT" --cert "$D/srv.crt" --key "$D/srv.key" \
    --proxy-protocol; then
    if timeout 20 curl -s --cacert "$C/ca.crt" --resolve "localhost:$PROXY_PORT:127.0.0.1" \
      "https://localhost:$PROXY_PORT/" >"$D/curl.out" 2>"$D/curl.err" &&
      grep -q "hello through PROXY" "$D/curl.out" && sleep 0.3 &&
      grep -Eq '^pp=127\.0\.0\.1:[0-9]+ "GET / HTTP/1\.1" 200$' "$D/nginx/logs/access.log"; then
      ok "nginx (listen ... proxy_protocol) behind certa proxy logs the client's address and serves"
    else
      not_ok "nginx behind --proxy-protocol"
      show "$D/curl.err" "$D/nginx/logs/access.log" "$D/nginx/logs/error.log" "$PROXY_LOG"
    fi
    stop_proxy pp-nginx
  fi
  stop "$NGINX_PID"
else
  skip "nginx is not installed (make deps installs nginx-light)"
fi
if ! "$CERTA" proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:1 --proxy-protocol >"$D/bad.out" 2>&1 &&
  grep -q "needs terminate mode" "$D/bad.out"; then
  ok "--proxy-protocol in bridge mode: a usage error that says why"
else
  not_ok "bridge --proxy-protocol"
  show "$D/bad.out"
fi
finish
