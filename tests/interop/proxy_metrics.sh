#!/usr/bin/env bash
# certa proxy --metrics: Prometheus text on GET /metrics, scraped with curl
# after traffic whose counts are known: two good handshakes (one resumed), a
# client refused for its identity, a revoked one, a reload; each counter
# says exactly that, the histogram's count matches the handshakes, and each
# certificate's notAfter is exported. Other paths get 404.
. "$(dirname "$0")/lib.sh"
need openssl curl
need_certa

D=$T_TMP
C="$D/ca"
"$CERTA" ca init "$C" >"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/srv" --dns localhost --ip 127.0.0.1 --server >>"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/web" --spiffe spiffe://t.example/web --client >>"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/bad" --spiffe spiffe://t.example/bad --client >>"$D/ca.log" 2>&1 ||
  not_ok "CA"
MPORT=$(free_port)
start_echo_backend || not_ok "echo backend"
client() { # NAME CERT [options]
  local name=$1 cert=$2
  shift 2
  echo hi | timeout 20 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
    --trust "$C/ca.crt" --cert "$D/$cert.crt" --key "$D/$cert.key" --timeout 10 "$@" \
    >"$D/$name.out" 2>"$D/$name.err"
}
metric() { # NAME{labels} -> value
  awk -v k="$1" '$1 == k {print $2}' "$D/metrics.txt"
}
if start_proxy pm --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --client-ca "$C/ca.crt" --allow spiffe://t.example/web --metrics "127.0.0.1:$MPORT"; then
  client good1 web --session "$D/sess"
  client good2 web --session "$D/sess"
  client denied bad
  hup "$PROXY_PID"
  wait_for "$PROXY_LOG" "reloaded the config" 10
  sleep 0.3
  if timeout 10 curl -sf "http://127.0.0.1:$MPORT/metrics" >"$D/metrics.txt"; then
    ok "GET /metrics answers"
  else
    not_ok "scrape"
    show "$PROXY_LOG"
  fi
  if [ "$(metric 'certa_proxy_handshakes_total{result="ok",version="TLSv1.3"}')" = 2 ] &&
    [ "$(metric 'certa_proxy_handshakes_resumed_total')" = 1 ] &&
    [ "$(metric 'certa_proxy_handshake_seconds_count')" = 2 ] &&
    [ "$(metric 'certa_proxy_handshake_seconds_bucket{le="+Inf"}')" = 2 ]; then
    ok "two handshakes, one resumed; the histogram counts both"
  else
    not_ok "handshake counters"
    show "$D/metrics.txt"
  fi
  if [ "$(metric 'certa_proxy_handshakes_total{result="failed",version="TLSv1.3"}')" = 1 ] &&
    [ "$(metric 'certa_proxy_refused_total{error="CERTA_E_IDENTITY_NOT_ALLOWED"}')" = 1 ]; then
    ok "the client the allow rule refused: one failed handshake, by cause CERTA_E_IDENTITY_NOT_ALLOWED"
  else
    not_ok "refusal counters"
    grep -E "failed|refused" "$D/metrics.txt"
  fi
  if [ "$(metric 'certa_proxy_reloads_total{result="ok"}')" = 1 ] &&
    [ "$(metric 'certa_proxy_config_generation')" = 1 ] &&
    [ "$(metric 'certa_proxy_bytes_total{direction="in"}')" -ge 6 ] &&
    [ "$(metric 'certa_proxy_connections_active')" = 0 ]; then
    ok "one reload, generation 1, bytes counted, no connection open"
  else
    not_ok "reload/bytes/active"
    grep -E "reload|generation|bytes|active" "$D/metrics.txt"
  fi
  na=$(date -d "$(openssl x509 -in "$D/srv.crt" -noout -enddate | cut -d= -f2)" +%s)
  if grep -Eq "^certa_proxy_certificate_not_after_seconds\{cert=\"$D/srv.crt\",subject=\"CN=localhost\"\} $na$" \
    "$D/metrics.txt"; then
    ok "the certificate's notAfter is exported ($na)"
  else
    not_ok "certificate notAfter"
    grep not_after "$D/metrics.txt"
  fi
  if grep -q '^# TYPE certa_proxy_handshake_seconds histogram$' "$D/metrics.txt" &&
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")" = 404 ]; then
    ok "Prometheus TYPE lines; another path gets 404"
  else
    not_ok "format / 404"
  fi
  stop_proxy pm
fi
if ! timeout 10 "$CERTA" proxy --listen 127.0.0.1:0 --backend "127.0.0.1:$ECHO_PORT" \
  --cert "$D/srv.crt" --key "$D/srv.key" --metrics "127.0.0.1:$ECHO_PORT" >"$D/busy.out" 2>&1 &&
  grep -q -- "--metrics 127.0.0.1:$ECHO_PORT: cannot listen" "$D/busy.out"; then
  ok "--metrics on a port in use: the proxy does not start, and says why"
else
  not_ok "metrics port in use"
  show "$D/busy.out"
fi
stop "$ECHO_PID"
finish
