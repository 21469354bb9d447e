#!/usr/bin/env bash
# certa proxy interop with stunnel (OpenSSL) in both roles, mutual TLS:
#   curl -> stunnel (client) -> certa proxy (terminate) -> http backend
#   curl -> certa proxy (bridge) -> stunnel (server) -> http backend
# Loopback only; every process is bounded and killed on exit.
set -u
DIR=$(cd "$(dirname "$0")" && pwd)
source "$DIR/proxy_lib.bash"
STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
if [ -z "$STUNNEL" ]; then
  echo "not ok - stunnel4 is not installed (scripts/deps.sh installs it)"
  exit 1
fi
proxy_setup
proxy_backend_http || { not_ok "http backend did not start"; exit 1; }

# stunnel_start NAME CONFIG-BODY: foreground stunnel, log in $T/NAME.stunnel.log
stunnel_start() {
  local name=$1 body=$2
  {
    echo "foreground = yes"
    echo "pid ="
    echo "debug = 6"
    echo "$body"
  } >"$T/$name.conf"
  "$STUNNEL" "$T/$name.conf" >"$T/$name.stunnel.log" 2>&1 &
  PIDS+=($!)
}

wait_port() {
  local port=$1 i
  for ((i = 0; i < 100; i++)); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1',$port),1).close()" \
      2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# ---- stunnel as the client in front of certa terminate -----------------------
proxy_start term --backend "127.0.0.1:$BACKEND_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --client-ca "$T/ca.crt" --allow spiffe://example.org/client \
  || not_ok "terminate proxy started"
TERM_PORT=$PROXY_PORT
SC_PORT=$(proxy_free_port)
stunnel_start sclient "[c]
client = yes
accept = 127.0.0.1:$SC_PORT
connect = 127.0.0.1:$TERM_PORT
cert = $T/client.crt
key = $T/client.key
CAfile = $T/ca.crt
verifyChain = yes
checkHost = localhost
sslVersionMin = TLSv1.3"
check "stunnel client started" wait_port "$SC_PORT"
out=$(curl -sS -m 10 "http://127.0.0.1:$SC_PORT/" 2>&1)
check "curl -> stunnel client -> certa terminate (mTLS) -> backend" \
  grep -q "hello from the backend" <<<"$out"
sleep 0.3
check "certa logs stunnel's client identity" \
  grep -q 'identity=spiffe://example.org/client verified=true' "$T/term.log"

# stunnel with the refused identity: the handshake fails, certa explains.
SC2_PORT=$(proxy_free_port)
stunnel_start sclient2 "[c]
client = yes
accept = 127.0.0.1:$SC2_PORT
connect = 127.0.0.1:$TERM_PORT
cert = $T/intruder.crt
key = $T/intruder.key
CAfile = $T/ca.crt
verifyChain = yes
checkHost = localhost
sslVersionMin = TLSv1.3"
wait_port "$SC2_PORT"
out=$(curl -sS -m 10 "http://127.0.0.1:$SC2_PORT/" 2>&1)
check "stunnel with a disallowed SPIFFE ID gets no page" bash -c '! grep -q "hello from the backend" <<<"$1"' _ "$out"
sleep 0.3
check "certa logs the disallowed identity (CERTA_E_IDENTITY_NOT_ALLOWED)" \
  grep -q 'CERTA_E_IDENTITY_NOT_ALLOWED.*spiffe://example.org/intruder\|spiffe://example.org/intruder.*CERTA_E_IDENTITY_NOT_ALLOWED' "$T/term.log"

# ---- certa bridge in front of a stunnel server ----------------------------------
SS_PORT=$(proxy_free_port)
stunnel_start sserver "[s]
accept = 127.0.0.1:$SS_PORT
connect = 127.0.0.1:$BACKEND_PORT
cert = $T/server.crt
key = $T/server.key
CAfile = $T/ca.crt
verifyChain = yes
requireCert = yes
sslVersionMin = TLSv1.3"
check "stunnel server started" wait_port "$SS_PORT"
proxy_start bridge --upstream "localhost:$SS_PORT" --trust "$T/ca.crt" --cert "$T/client.crt" \
  --key "$T/client.key" --expect spiffe://example.org/server || not_ok "bridge proxy started"
out=$(curl -sS -m 10 "http://127.0.0.1:$PROXY_PORT/" 2>&1)
check "curl -> certa bridge (mTLS) -> stunnel server -> backend" \
  grep -q "hello from the backend" <<<"$out"
for i in 1 2 3 4 5; do
  curl -sS -m 10 "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1
done
sleep 0.3
n=$(grep -c 'reason=clean' "$T/bridge.log")
check "six bridge connections to stunnel closed cleanly ($n)" test "$n" -eq 6
check "stunnel accepted certa's client certificate" \
  grep -q 'Certificate accepted at depth=0.*OU=client' "$T/sserver.stunnel.log"

# Bridge without a client certificate: stunnel (requireCert) refuses; logged.
proxy_start bridge_nocert --upstream "localhost:$SS_PORT" --trust "$T/ca.crt" \
  || not_ok "bridge without a certificate started"
curl -sS -m 10 "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1
sleep 0.5
check "a bridge without a client certificate is refused by stunnel and says why" \
  grep -q 'certificate_required' "$T/bridge_nocert.log"

proxy_done
