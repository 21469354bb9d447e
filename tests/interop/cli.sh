#!/usr/bin/env bash
# The certa command itself: usage errors (never a crash), certa connect
# against certa serve (large data through the echo, HRR, ALPN refusal, SNI,
# HTTP), IPv6, timeouts, --max-conns, and clean stops on SIGTERM/SIGINT.
. "$(dirname "$0")/lib.sh"
need openssl python3
need_certa

gen_cert ecdsa srv || not_ok "generate certificate"
gen_cert rsa rsa || not_ok "generate RSA certificate"
pin=$(pin_of "$T_TMP/srv.crt")

# expect_exit NAME CODE PATTERN ARGS...: certa ARGS exits with CODE and its
# output matches PATTERN (grep -E); never a crash or sanitizer report.
expect_exit() {
  local name=$1 code=$2 pat=$3
  shift 3
  timeout 20 "$CERTA" "$@" </dev/null >"$T_TMP/usage.out" 2>&1
  local rc=$?
  if [ "$rc" -eq "$code" ] && grep -Eq -- "$pat" "$T_TMP/usage.out" &&
    ! grep -Eq 'Sanitizer|runtime error:' "$T_TMP/usage.out"; then
    ok "usage: $name (exit $code)"
  else
    not_ok "usage: $name: exit $rc (wanted $code), output:"
    show "$T_TMP/usage.out"
  fi
}

expect_exit "no command" 2 'usage: certa' 
expect_exit "unknown command" 2 "unknown command 'frobnicate'" frobnicate
expect_exit "help" 0 'usage: certa <command>' help
expect_exit "--help" 0 'certa connect HOST:PORT' --help
expect_exit "version" 0 '^certa [0-9]' version
expect_exit "connect --help" 0 '--pin sha256:B64' connect --help
expect_exit "serve --help" 0 'listening on HOST:PORT' serve --help
expect_exit "connect without target" 2 'give HOST:PORT' connect --insecure
expect_exit "connect --trust with --pin" 2 'choose one' connect 127.0.0.1:1 --trust "$T_TMP/srv.crt" --pin "$pin"
expect_exit "connect --cert without --key" 2 'needs both --cert FILE and --key FILE' connect 127.0.0.1:1 --cert "$T_TMP/srv.crt"
expect_exit "connect missing trust file" 1 'CERTA_E_FILE|cannot' connect 127.0.0.1:1 --trust "$T_TMP/none.pem"
expect_exit "connect missing client key" 1 'CERTA_E_FILE' connect 127.0.0.1:1 --insecure --cert "$T_TMP/srv.crt" --key "$T_TMP/none.key"
expect_exit "connect bad port" 2 'is not HOST:PORT' connect 127.0.0.1:99999 --insecure
expect_exit "connect port 0" 2 'is not HOST:PORT' connect 127.0.0.1:0 --insecure
expect_exit "connect unclosed bracket" 2 'is not HOST:PORT' connect '[::1:443' --insecure
expect_exit "connect two targets" 2 'one HOST:PORT only' connect a:1 b:2 --insecure
expect_exit "connect bad pin" 2 'CERTA_E_BAD_PIN' connect 127.0.0.1:1 --pin sha256:nope
expect_exit "connect pin without sha256:" 2 'CERTA_E_BAD_PIN' connect 127.0.0.1:1 --pin abc
expect_exit "connect pin and insecure" 2 'choose one' connect 127.0.0.1:1 --pin "$pin" --insecure
expect_exit "connect unknown group" 2 "unknown group 'nope'" connect 127.0.0.1:1 --insecure --groups nope
expect_exit "connect unknown cipher" 2 "unknown cipher suite" connect 127.0.0.1:1 --insecure --ciphers RC4
expect_exit "connect empty alpn" 2 'alpn' connect 127.0.0.1:1 --insecure --alpn ''
expect_exit "connect bad timeout" 2 '--timeout wants' connect 127.0.0.1:1 --insecure --timeout abc
expect_exit "connect missing value" 2 '--timeout needs a value' connect 127.0.0.1:1 --insecure --timeout
expect_exit "connect unknown option" 2 "unknown option '--frob'" connect 127.0.0.1:1 --frob
expect_exit "connect unresolvable" 1 'cannot resolve' connect no-such-host.invalid:443 --insecure
expect_exit "serve without cert" 2 '--cert FILE and --key FILE are required' serve
expect_exit "serve missing files" 1 'CERTA_E_FILE' serve --cert "$T_TMP/none.crt" --key "$T_TMP/none.key"
expect_exit "serve key mismatch" 1 'CERTA_E_KEY_MISMATCH' serve --cert "$T_TMP/srv.crt" --key "$T_TMP/rsa.key"
expect_exit "serve cert as key" 1 'CERTA_E_BAD' serve --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.crt"
expect_exit "serve bad port" 2 '--port wants' serve --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --port 70000
expect_exit "serve bad host" 1 "cannot use the address '300.1.1.1'" serve --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --host 300.1.1.1
expect_exit "serve bad cipher" 2 'unknown cipher suite' serve --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --ciphers nope
expect_exit "serve bad max-conns" 2 '--max-conns wants' serve --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --max-conns 0
expect_exit "serve stray argument" 2 "unexpected argument" serve --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" extra

# ---- certa connect <-> certa serve ------------------------------------------------
start_certa_serve serve-echo --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --groups secp256r1,x25519 --trace && {
  echo_port=$SERVE_PORT
  # 3 MB of data through the echo: backpressure on both sides.
  head -c 2300000 /dev/urandom | base64 >"$T_TMP/big.in"
  timeout 60 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --pin "$pin" --quiet <"$T_TMP/big.in" \
    >"$T_TMP/big.out" 2>"$T_TMP/big.err"
  rc=$?
  if [ "$rc" -eq 0 ] && cmp -s "$T_TMP/big.in" "$T_TMP/big.out"; then
    ok "certa connect -> certa serve: 3 MB echoed back intact"
  else
    not_ok "certa connect -> certa serve big echo (exit $rc, $(wc -c <"$T_TMP/big.out") bytes back)"
    show "$T_TMP/big.err" "$SERVE_LOG"
  fi
  # HRR between two certas: the server prefers secp256r1 but the client's share is x25519...
  # certa serve picks the client's share when it is acceptable, so force it:
  stop_certa_serve serve-echo
}
start_certa_serve serve-hrr --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --groups secp256r1 --alpn h2 && {
  tok=$(uniq_token)
  printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --pin "$pin" \
    --groups x25519,secp256r1 --alpn h2 --servername example.test >"$T_TMP/hrr.out" 2>"$T_TMP/hrr.err"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -qx -- "$tok" "$T_TMP/hrr.out" && grep -q "HelloRetryRequest: yes" "$T_TMP/hrr.err" &&
    grep -q "ALPN: *h2" "$T_TMP/hrr.err" && wait_for "$SERVE_LOG" '^conn #1 .*alpn=h2 sni=example.test hrr=yes' 5; then
    ok "certa connect -> certa serve: HelloRetryRequest, ALPN h2, --servername sent as SNI"
  else
    not_ok "certa <-> certa HRR/ALPN/SNI (exit $rc)"
    show "$T_TMP/hrr.err" "$SERVE_LOG"
  fi
  printf 'x\n' | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --pin "$pin" --alpn foo \
    >/dev/null 2>"$T_TMP/alpnfail.err"
  rc=$?
  if [ "$rc" -eq 1 ] &&
    grep -q '^certa: handshake failed: .*(CERTA_E_PEER_ALERT, alert no_application_protocol from the peer)' "$T_TMP/alpnfail.err" &&
    wait_for "$SERVE_LOG" '^conn #2 .*CERTA_E_NO_ALPN' 5; then
    ok "certa connect --alpn foo -> certa serve --alpn h2: both sides explain no_application_protocol"
  else
    not_ok "certa <-> certa ALPN refusal (exit $rc)"
    show "$T_TMP/alpnfail.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-hrr
}

# HTTP: the server closes (Connection: close); certa connect prints the answer, exits 0.
start_certa_serve serve-http --http --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --max-conns 2 && {
  printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
    timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --pin "$pin" >"$T_TMP/http.out" 2>"$T_TMP/http.err"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -q "^certa: TLSv1.3 " "$T_TMP/http.out" &&
    grep -q "server closed the connection (close_notify)" "$T_TMP/http.err"; then
    ok "certa connect -> certa serve --http: answer printed, server's close_notify, exit 0"
  else
    not_ok "certa connect HTTP (exit $rc)"
    show "$T_TMP/http.out" "$T_TMP/http.err" "$SERVE_LOG"
  fi
  # HTTP/1.0 without keep-alive also closes after one answer.
  printf 'GET / HTTP/1.0\r\n\r\n' | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --pin "$pin" \
    >"$T_TMP/http10.out" 2>/dev/null
  grep -q "^Connection: close" "$T_TMP/http10.out" && ok "HTTP/1.0 request answered with Connection: close" ||
    not_ok "HTTP/1.0 request"
  # --max-conns 2: the server now exits by itself.
  for _ in $(seq 50); do alive "$SERVE_PID" || break; sleep 0.1; done
  wait "$SERVE_PID" 2>/dev/null
  rc=$?
  if ! alive "$SERVE_PID" && [ "$rc" -eq 0 ]; then
    ok "certa serve --max-conns 2 exits 0 after two connections"
  else
    not_ok "certa serve --max-conns (alive or exit $rc)"
    show "$SERVE_LOG"
  fi
}

# ---- timeouts ------------------------------------------------------------------
# A TCP server that accepts and never answers.
silent_port=$(free_port)
bg "$T_TMP/silent.log" python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $silent_port)); s.listen(5); print('ready', flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
"
silent_pid=$BG_PID
if wait_for "$T_TMP/silent.log" ready 10; then
  start=$(date +%s)
  timeout 20 "$CERTA" connect "127.0.0.1:$silent_port" --insecure --timeout 1 </dev/null >/dev/null 2>"$T_TMP/to.err"
  rc=$?
  took=$(($(date +%s) - start))
  if [ "$rc" -eq 1 ] && grep -q "CERTA_E_TIMEOUT" "$T_TMP/to.err" && [ "$took" -le 5 ]; then
    ok "certa connect --timeout 1 against a silent server: CERTA_E_TIMEOUT in ${took}s"
  else
    not_ok "certa connect timeout (exit $rc, ${took}s)"
    show "$T_TMP/to.err"
  fi
else
  not_ok "silent test server did not start"
fi
stop "$silent_pid"

# certa serve: a client that never speaks is dropped after 10 s; others are served meanwhile.
start_certa_serve serve-slow --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" && {
  bg "$T_TMP/idle-client.log" python3 -c "
import socket, time
c = socket.create_connection(('127.0.0.1', $SERVE_PORT)); print('connected', flush=True)
c.settimeout(15)
try:
    d = c.recv(100)
    print('eof' if not d else 'data', flush=True)
except Exception as e:
    print('error', e, flush=True)
"
  idle_pid=$BG_PID
  wait_for "$T_TMP/idle-client.log" connected 10
  tok=$(uniq_token)
  out=$(printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --pin "$pin" --quiet 2>/dev/null)
  [ "$out" = "$tok" ] && ok "certa serve answers while another client stalls its handshake" ||
    not_ok "certa serve blocked by a stalled client"
  if wait_for "$T_TMP/idle-client.log" '^eof' 14 && wait_for "$SERVE_LOG" 'handshake failed after [0-9]+ ms: handshake timeout' 2; then
    ok "certa serve drops a client that stalls the handshake after 10 s"
  else
    not_ok "certa serve handshake timeout"
    show "$T_TMP/idle-client.log" "$SERVE_LOG"
  fi
  stop "$idle_pid"
  stop_certa_serve serve-slow
}

# ---- signals: open connections are closed politely ------------------------------
for sig in TERM INT; do
  start_certa_serve "serve-sig$sig" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" || continue
  bg "$T_TMP/held-$sig.log" bash -c "sleep 30 | '$CERTA' connect 127.0.0.1:$SERVE_PORT --pin '$pin'"
  held=$BG_PID
  if wait_for "$T_TMP/held-$sig.log" 'handshake time' 10; then
    kill -"$sig" "$SERVE_PID"
    for _ in $(seq 50); do alive "$SERVE_PID" || break; sleep 0.1; done
    wait "$SERVE_PID" 2>/dev/null
    rc=$?
    if ! alive "$SERVE_PID" && [ "$rc" -eq 0 ] && wait_for "$T_TMP/held-$sig.log" 'server closed the connection \(close_notify\)' 5 &&
      grep -q 'server stopping' "$SERVE_LOG" && ! grep -Eq 'Sanitizer|runtime error:' "$SERVE_LOG"; then
      ok "SIG$sig: certa serve sends close_notify to open connections and exits 0"
    else
      not_ok "SIG$sig: certa serve (exit $rc)"
      show "$SERVE_LOG" "$T_TMP/held-$sig.log"
    fi
  else
    not_ok "SIG$sig: client did not connect"
    show "$T_TMP/held-$sig.log" "$SERVE_LOG"
  fi
  stop "$held"
done

# ---- IPv6 loopback ----------------------------------------------------------------
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
  start_certa_serve serve-v6 --host ::1 --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" && {
    grep -q '^listening on \[::1\]:' "$SERVE_LOG" && ok "certa serve --host ::1 listens on [::1]" ||
      not_ok "certa serve --host ::1 listening line"
    tok=$(uniq_token)
    printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "[::1]:$SERVE_PORT" --pin "$pin" \
      >"$T_TMP/v6.out" 2>"$T_TMP/v6.err"
    rc=$?
    if [ "$rc" -eq 0 ] && grep -qx -- "$tok" "$T_TMP/v6.out" && grep -q "server name (SNI): (not sent)" "$T_TMP/v6.err" &&
      wait_for "$SERVE_LOG" '^conn #1 from \[::1\]:' 5; then
      ok "certa connect [::1]:PORT -> certa serve --host ::1: round trip, no SNI for an IP"
    else
      not_ok "IPv6 round trip (exit $rc)"
      show "$T_TMP/v6.err" "$SERVE_LOG"
    fi
    stop_certa_serve serve-v6
  }
else
  skip "IPv6 loopback is not available"
fi

finish
