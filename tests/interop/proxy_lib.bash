# Shared helpers for the certa proxy tests (tests/interop/proxy_*.sh); sourced,
# not run (tests/run.sh runs *.sh only). Everything listens on loopback, every
# wait is bounded, and every process started here is killed by the EXIT trap.
#
#   proxy_setup              temp dir $T, certificates, cleanup trap
#   proxy_gen_ca / proxy_gen_leaf NAME SPIFFE EKU [DNS]
#   proxy_free_port          a free TCP port on 127.0.0.1
#   proxy_start NAME ARGS..  start `certa proxy ARGS` (log $T/NAME.log), wait
#                            for "listening on", set PROXY_PORT
#   proxy_backend_http / proxy_backend_echo   plaintext backends on $BACKEND_PORT
#   ok / not_ok / check      TAP lines

CERTA=${CERTA:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/certa}
PIDS=()
PROXY_PIDS=()
PROXY_NAMES=()
T=""
pass_count=0
fail_count=0

ok() {
  echo "ok - $*"
  pass_count=$((pass_count + 1))
}
not_ok() {
  echo "not ok - $*"
  fail_count=$((fail_count + 1))
}
# check "description" command...: ok if the command succeeds.
check() {
  local d=$1
  shift
  if "$@"; then ok "$d"; else not_ok "$d"; fi
}

proxy_cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  sleep 0.2
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "$T" ] && [ -z "${KEEP_TMP:-}" ] && rm -rf "$T"
}

proxy_setup() {
  T=$(mktemp -d /tmp/certa-proxy-test.XXXXXX)
  trap proxy_cleanup EXIT
  trap 'exit 1' INT TERM
  if [ ! -x "$CERTA" ]; then
    echo "not ok - certa binary not found at $CERTA"
    exit 1
  fi
  proxy_gen_ca
  proxy_gen_leaf server spiffe://example.org/server serverAuth localhost
  proxy_gen_leaf client spiffe://example.org/client clientAuth
  proxy_gen_leaf intruder spiffe://example.org/intruder clientAuth
}

proxy_gen_ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=certa proxy test CA" -keyout "$T/ca.key" -out "$T/ca.crt" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# proxy_gen_leaf NAME SPIFFE-ID EKU [DNS-NAME] [SERIAL] -> $T/NAME.crt, $T/NAME.key
proxy_gen_leaf() {
  local name=$1 spiffe=$2 eku=$3 dns=${4:-} serial=${5:-}
  local san="URI:$spiffe"
  [ -n "$dns" ] && san="$san,DNS:$dns,IP:127.0.0.1"
  # A commonName must copy a SAN (CA/B BR 7.1.4.3, enforced by certa): the
  # server's CN is its DNS name, the SPIFFE-only certificates have none.
  local subj="/O=certa proxy test/OU=$name"
  [ -n "$dns" ] && subj="/O=certa proxy test/CN=$dns"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$subj" \
    -keyout "$T/$name.key" -out "$T/$name.csr" 2>/dev/null
  local ext="$T/$name.ext"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature"
    echo "extendedKeyUsage=$eku"
    echo "subjectAltName=$san"
  } >"$ext"
  local serial_opt=(-CAcreateserial)
  [ -n "$serial" ] && serial_opt=(-set_serial "$serial")
  openssl x509 -req -in "$T/$name.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" "${serial_opt[@]}" \
    -days 1 -extfile "$ext" -out "$T/$name.crt" 2>/dev/null
}

proxy_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# wait_for FILE PATTERN SECONDS: true once FILE contains PATTERN.
wait_for() {
  local f=$1 pat=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 20; i++)); do
    grep -q -- "$pat" "$f" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# proxy_start NAME ARGS...: starts the proxy on a free port (--listen is
# added), waits for its "listening on" line; PROXY_PORT, PROXY_PID set.
proxy_start() {
  local name=$1
  shift
  PROXY_PORT=$(proxy_free_port)
  "$CERTA" proxy --listen "127.0.0.1:$PROXY_PORT" "$@" 2>"$T/$name.log" &
  PROXY_PID=$!
  PIDS+=("$PROXY_PID")
  PROXY_PIDS+=("$PROXY_PID")
  PROXY_NAMES+=("$name")
  if ! wait_for "$T/$name.log" "listening on" 10; then
    echo "# proxy $name did not start:"
    sed 's/^/#   /' "$T/$name.log"
    return 1
  fi
}

# A plaintext HTTP backend serving $T/www on $BACKEND_PORT.
proxy_backend_http() {
  BACKEND_PORT=$(proxy_free_port)
  mkdir -p "$T/www"
  echo "hello from the backend" >"$T/www/index.html"
  python3 -m http.server "$BACKEND_PORT" --bind 127.0.0.1 --directory "$T/www" \
    >"$T/http.log" 2>&1 &
  PIDS+=($!)
  local i
  for ((i = 0; i < 100; i++)); do
    curl -s -m 1 -o /dev/null "http://127.0.0.1:$BACKEND_PORT/" && return 0
    sleep 0.05
  done
  return 1
}

# A plaintext echo backend on $ECHO_PORT (asyncio; half-close aware: echoes
# until EOF, then closes its side).
proxy_backend_echo() {
  ECHO_PORT=$(proxy_free_port)
  cat >"$T/echo.py" <<'EOF'
import asyncio, sys
async def handle(r, w):
    try:
        while True:
            b = await r.read(65536)
            if not b:
                break
            w.write(b)
            await w.drain()
        w.close()
    except Exception:
        w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
EOF
  python3 "$T/echo.py" "$ECHO_PORT" >"$T/echo.log" 2>&1 &
  PIDS+=($!)
  local i
  for ((i = 0; i < 100; i++)); do
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$ECHO_PORT),1).close()" \
      2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# Stops every proxy with SIGTERM: each must exit 0 within 15 s (drain) and
# its log must be free of sanitizer reports (leaks are checked at exit).
proxy_stop_all() {
  local i pid name rc bad=0 stuck=0
  for pid in "${PROXY_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for i in "${!PROXY_PIDS[@]}"; do
    pid=${PROXY_PIDS[$i]}
    name=${PROXY_NAMES[$i]}
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "# proxy $name did not exit after SIGTERM"
      stuck=$((stuck + 1))
      continue
    fi
    wait "$pid" 2>/dev/null
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 127 ]; then # 127: reaped earlier by the test
      echo "# proxy $name exited with $rc"
      bad=$((bad + 1))
    fi
    if grep -q 'Sanitizer\|runtime error:' "$T/$name.log" 2>/dev/null; then
      echo "# proxy $name: sanitizer report:"
      grep -A20 'Sanitizer\|runtime error:' "$T/$name.log" | head -n 40 | sed 's/^/#   /'
      bad=$((bad + 1))
    fi
  done
  check "all ${#PROXY_PIDS[@]} proxies exited cleanly on SIGTERM (no sanitizer reports)" \
    test "$bad" -eq 0 -a "$stuck" -eq 0
}

proxy_done() {
  proxy_stop_all
  echo "# $pass_count passed, $fail_count failed"
  [ "$fail_count" -eq 0 ]
}
