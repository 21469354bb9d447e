#!/usr/bin/env bash
# The README's first command (`make demo`): workload identity with mutual
# TLS, end to end, on this machine.
#
#   1. a throwaway CA (certa ca) issues short-lived SPIFFE identities
#   2. a plaintext backend sits behind `certa proxy` terminating mTLS, which
#      only lets in spiffe://demo.example/web
#   3. a plaintext client (curl) goes through a bridging `certa proxy` that
#      wraps its connection in mTLS as spiffe://demo.example/web: it works,
#      and both proxies log the verified identities; a second request
#      resumes the TLS session (identities carried over, no certificates)
#   4. a client holding spiffe://demo.example/billing is refused, with the
#      reason
#   5. a TLS 1.2-only client is refused by the default (TLS 1.3-only)
#      listener, with the reason, and let in by one that allows TLS 1.2
#   6. the web identity is revoked (certa ca revoke + crl): the terminating
#      proxy picks up the new CRL by itself and refuses web, naming the
#      serial, the time, the reason and the CRL
#   7. the CA's own OCSP responder (certa ca ocsp) answers for a must-staple
#      server identity; certa serve --ocsp-fetch staples its answer and the
#      client checks it ("OCSP staple: ... is good")
#   8. certa diagnose audits the mTLS listener: versions, post-quantum group,
#      certificate lifetime, the client certificates it requires
# Every process it starts is stopped and every file removed on exit.
# Usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
cd "$(dirname "$0")/.."
CERTA=$PWD/$BUILD/certa
if [ ! -x "$CERTA" ]; then
  echo "demo: $CERTA not found: run 'make' first" >&2
  exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/certa-demo.XXXXXX")
PIDS=()
DEMO_PID=$BASHPID
cleanup() {
  [ "$BASHPID" = "$DEMO_PID" ] || return 0
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold= plain= dim=
if [ -t 1 ]; then
  bold=$(printf '\033[1m') plain=$(printf '\033[0m') dim=$(printf '\033[2m')
fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
run() { printf '%s$ %s%s\n' "$dim" "$*" "$plain"; "$@"; }

# A free loopback port: ask the kernel, via python (always installed by deps).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Waits (bounded) until a log file shows "listening on".
wait_listening() {
  for _ in $(seq 100); do
    grep -q "listening on" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  echo "demo: $2 did not start:" >&2
  cat "$1" >&2
  exit 1
}

# Waits (bounded: 10 s) until FILE has a line matching PATTERN (grep -E).
wait_for_line() {
  for _ in $(seq 200); do
    grep -Eq "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# The serial of the server certificate in a certa connect trace.
served_serial() { sed -n 's/^\*   serial: *//p' "$1" | head -n 1; }

CA=$WORK/ca
step "1. A development CA and short-lived workload identities (certa ca)"
run "$CERTA" ca init "$CA" --name "certa demo CA" --ttl 24h
run "$CERTA" ca issue "$CA" --out "$WORK/api" --spiffe spiffe://demo.example/api \
  --dns localhost --ip 127.0.0.1 --server --ttl 1h
run "$CERTA" ca issue "$CA" --out "$WORK/web" --spiffe spiffe://demo.example/web --client --ttl 1h |
  tee "$WORK/web.issue"
run "$CERTA" ca issue "$CA" --out "$WORK/billing" --spiffe spiffe://demo.example/billing \
  --client --ttl 1h
run "$CERTA" ca crl "$CA" --ttl 1h

step "2. A plaintext backend, and certa proxy terminating mTLS in front of it"
BACKEND_PORT=$(free_port)
mkdir -p "$WORK/www"
echo "hello from the backend service" >"$WORK/www/index.html"
python3 -m http.server "$BACKEND_PORT" --bind 127.0.0.1 --directory "$WORK/www" \
  >"$WORK/backend.log" 2>&1 &
PIDS+=($!)
TLS_PORT=$(free_port)
echo "${dim}\$ certa proxy --listen 127.0.0.1:$TLS_PORT --backend 127.0.0.1:$BACKEND_PORT \\"
echo "    --cert api.crt --key api.key --client-ca ca.crt --crl ca.crl \\"
echo "    --allow spiffe://demo.example/web${plain}"
"$CERTA" proxy --listen "127.0.0.1:$TLS_PORT" --backend "127.0.0.1:$BACKEND_PORT" \
  --cert "$WORK/api.crt" --key "$WORK/api.key" --client-ca "$CA/ca.crt" --crl "$CA/ca.crl" \
  --allow spiffe://demo.example/web --workers 1 >"$WORK/terminate.log" 2>&1 &
PIDS+=($!)
wait_listening "$WORK/terminate.log" "the terminating proxy"
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1',$BACKEND_PORT),1)" \
    2>/dev/null && break
  sleep 0.05
done

step "3. A plaintext client through a bridging certa proxy (mTLS as spiffe://demo.example/web)"
BRIDGE_PORT=$(free_port)
echo "${dim}\$ certa proxy --listen 127.0.0.1:$BRIDGE_PORT --upstream 127.0.0.1:$TLS_PORT \\"
echo "    --servername localhost --cert web.crt --key web.key --trust ca.crt \\"
echo "    --expect spiffe://demo.example/api${plain}"
"$CERTA" proxy --listen "127.0.0.1:$BRIDGE_PORT" --upstream "127.0.0.1:$TLS_PORT" \
  --servername localhost --cert "$WORK/web.crt" --key "$WORK/web.key" --trust "$CA/ca.crt" \
  --expect spiffe://demo.example/api --workers 1 >"$WORK/bridge.log" 2>&1 &
PIDS+=($!)
wait_listening "$WORK/bridge.log" "the bridging proxy"
run curl -sS --max-time 10 "http://127.0.0.1:$BRIDGE_PORT/"
sleep 0.3 # the proxies log a connection when it closes
echo "bridge log (the server it verified):"
grep -v "listening on" "$WORK/bridge.log" | sed 's/^/  /'
echo "terminating proxy log (the client it verified):"
grep -v "listening on" "$WORK/terminate.log" | sed 's/^/  /'
echo "Both logs say group=X25519MLKEM768: the key exchange is post-quantum by default (ML-KEM-768"
echo "with x25519), so traffic recorded today stays private against a future quantum computer."
echo "The same request again: the bridge offers the session ticket it was given, so no"
echo "certificates or signatures are exchanged, and both sides keep the identity verified above:"
run curl -sS --max-time 10 "http://127.0.0.1:$BRIDGE_PORT/"
sleep 0.3
grep "id=2 " "$WORK/bridge.log" | sed 's/^/  /'
grep "id=2 " "$WORK/terminate.log" | sed 's/^/  /'

step "4. A client with another identity (spiffe://demo.example/billing) is refused"
set +e
printf 'GET / HTTP/1.0\r\n\r\n' |
  run "$CERTA" connect "127.0.0.1:$TLS_PORT" --servername localhost --trust "$CA/ca.crt" \
    --cert "$WORK/billing.crt" --key "$WORK/billing.key" --quiet --timeout 5
status=$?
set -e
sleep 0.3
echo "certa connect exited with status $status; the terminating proxy logged:"
grep "billing" "$WORK/terminate.log" | sed 's/^/  /'

step "5. A TLS 1.2-only device: refused by default, let in where TLS 1.2 is allowed"
echo "certa listens TLS 1.3 only unless told otherwise. The same web identity, from a"
echo "client limited to TLS 1.2 (--max-version 1.2):"
set +e
printf 'GET / HTTP/1.0\r\n\r\n' |
  run "$CERTA" connect "127.0.0.1:$TLS_PORT" --servername localhost --trust "$CA/ca.crt" \
    --cert "$WORK/web.crt" --key "$WORK/web.key" --max-version 1.2 --quiet --timeout 5
legacy_status=$?
set -e
sleep 0.3
echo "the terminating proxy logged:"
grep "TLS 1.2" "$WORK/terminate.log" | tail -n 1 | sed 's/^/  /'
LEGACY_PORT=$(free_port)
echo "A listener for legacy devices allows TLS 1.2 (ECDHE + AEAD, extended master secret):"
echo "${dim}\$ certa proxy --listen 127.0.0.1:$LEGACY_PORT --backend 127.0.0.1:$BACKEND_PORT \\"
echo "    --min-version 1.2 --cert api.crt --key api.key --client-ca ca.crt \\"
echo "    --allow spiffe://demo.example/web${plain}"
"$CERTA" proxy --listen "127.0.0.1:$LEGACY_PORT" --backend "127.0.0.1:$BACKEND_PORT" \
  --min-version 1.2 --cert "$WORK/api.crt" --key "$WORK/api.key" --client-ca "$CA/ca.crt" \
  --allow spiffe://demo.example/web --workers 1 >"$WORK/legacy.log" 2>&1 &
PIDS+=($!)
wait_listening "$WORK/legacy.log" "the TLS 1.2 listener"
set +e
printf 'GET / HTTP/1.0\r\nHost: localhost\r\n\r\n' |
  run "$CERTA" connect "127.0.0.1:$LEGACY_PORT" --servername localhost --trust "$CA/ca.crt" \
    --cert "$WORK/web.crt" --key "$WORK/web.key" --max-version 1.2 --quiet --timeout 5 |
  tail -n 1
legacy_ok=${PIPESTATUS[1]}
set -e
sleep 0.3
echo "its log (the version, and the identity verified in TLS 1.2):"
grep "TLSv1.2" "$WORK/legacy.log" | tail -n 1 | sed 's/^/  /'

step "6. api's one-hour certificate is renewed in place: nothing is dropped"
echo "A connection opened now, with api's current certificate, stays open across the renewal:"
mkfifo "$WORK/held.in"
"$CERTA" connect "127.0.0.1:$TLS_PORT" --servername localhost --trust "$CA/ca.crt" \
  --cert "$WORK/web.crt" --key "$WORK/web.key" --timeout 20 <"$WORK/held.in" \
  >"$WORK/held.out" 2>"$WORK/held.err" &
HELD=$!
PIDS+=($HELD)
exec 3>"$WORK/held.in"
wait_for_line "$WORK/held.err" "handshake complete" || true
old_serial=$(served_serial "$WORK/held.err")
echo "  open connection: the server presented serial $old_serial"
run "$CERTA" ca issue "$CA" --out "$WORK/api" --spiffe spiffe://demo.example/api \
  --dns localhost --ip 127.0.0.1 --server --ttl 1h --force | tee "$WORK/api.renew" | head -n 2
new_serial=$(awk '/serial:/ {print $2}' "$WORK/api.renew")
wait_for_line "$WORK/terminate.log" "reloaded the config.*serial $new_serial" || true
echo "the terminating proxy saw the new files and swapped them in for new handshakes:"
grep "reloaded the config.*serial $new_serial" "$WORK/terminate.log" | tail -n 1 | sed 's/^/  /'
set +e
echo | "$CERTA" connect "127.0.0.1:$TLS_PORT" --servername localhost --trust "$CA/ca.crt" \
  --cert "$WORK/web.crt" --key "$WORK/web.key" --timeout 5 >/dev/null 2>"$WORK/fresh.err"
fresh_serial=$(served_serial "$WORK/fresh.err")
echo "  a new connection: the server presented serial $fresh_serial"
printf 'GET / HTTP/1.0\r\n\r\n' >&3
exec 3>&-
wait "$HELD"
held_status=$?
set -e
echo "  the connection opened before the renewal still answers: $(tail -n 1 "$WORK/held.out")"

step "7. web's key leaks: revoke it, and the proxy refuses it from the new CRL"
web_serial=$(awk '/serial:/ {print $2}' "$WORK/web.issue")
sleep 1 # the CRL must be newer than the sessions made above, which it then invalidates
run "$CERTA" ca revoke "$CA" "$web_serial" --reason keyCompromise
run "$CERTA" ca crl "$CA" --ttl 1h
wait_for_line "$WORK/terminate.log" "reloaded the config.*files=.*ca\.crl" || true
echo "the terminating proxy noticed the new CRL:"
grep "reloaded the config.*files=.*ca\.crl" "$WORK/terminate.log" | tail -n 1 | sed 's/^/  /'
set +e
printf 'GET / HTTP/1.0\r\n\r\n' |
  run "$CERTA" connect "127.0.0.1:$TLS_PORT" --servername localhost --trust "$CA/ca.crt" \
    --cert "$WORK/web.crt" --key "$WORK/web.key" --quiet --timeout 5
revoked_status=$?
set -e
sleep 0.3
echo "certa connect exited with status $revoked_status; the terminating proxy logged:"
grep "CERTA_E_CERT_REVOKED" "$WORK/terminate.log" | tail -n 1 | sed 's/^/  /'

step "8. OCSP: the CA answers for a must-staple identity, the server staples it"
OCSP_PORT=$(free_port)
run "$CERTA" ca issue "$CA" --out "$WORK/status" --dns localhost --ip 127.0.0.1 --server \
  --ttl 1h --ocsp-url "http://127.0.0.1:$OCSP_PORT/" --must-staple >/dev/null
cat "$WORK/status.crt" "$CA/ca.crt" >"$WORK/status.chain"
echo "${dim}\$ certa ca ocsp ca --port $OCSP_PORT &${plain}"
"$CERTA" ca ocsp "$CA" --port "$OCSP_PORT" >"$WORK/responder.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do
  grep -q "OCSP responder for" "$WORK/responder.log" 2>/dev/null && break
  sleep 0.05
done
echo "${dim}\$ certa serve --cert status.chain --key status.key --ocsp-fetch &${plain}"
"$CERTA" serve --port 0 --cert "$WORK/status.chain" --key "$WORK/status.key" --ocsp-fetch \
  >"$WORK/stapler.log" 2>&1 &
PIDS+=($!)
wait_listening "$WORK/stapler.log" "the stapling server"
STAPLE_PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\) .*/\1/p' "$WORK/stapler.log" | head -n1)
grep "ocsp: fetched" "$WORK/stapler.log" | sed 's/^/  /'
echo "${dim}\$ certa connect 127.0.0.1:$STAPLE_PORT --trust ca.crt${plain}"
set +e
echo | "$CERTA" connect "127.0.0.1:$STAPLE_PORT" --servername localhost --trust "$CA/ca.crt" \
  --timeout 5 2>"$WORK/staple.err" >/dev/null
staple_status=$?
set -e
grep -E "OCSP staple:|handshake complete" "$WORK/staple.err" | sed 's/^\* */  /'

step "9. Hide the name too: Encrypted Client Hello (ECH)"
echo "The server name travels in clear in every TLS ClientHello; with ECH it is encrypted to a"
echo "key the server publishes (in DNS, as an HTTPS record), and only a public name shows:"
run "$CERTA" ech keygen --public-name public.example --out "$WORK/ech" | sed -n '2,3p'
echo "${dim}\$ certa serve --cert api.crt --key api.key --ech-key ech/ech.key --ech-config ech/ech.config &${plain}"
"$CERTA" serve --port 0 --cert "$WORK/api.crt" --key "$WORK/api.key" \
  --ech-key "$WORK/ech/ech.key" --ech-config "$WORK/ech/ech.config" >"$WORK/ech-serve.log" 2>&1 &
PIDS+=($!)
wait_listening "$WORK/ech-serve.log" "the ECH server"
ECH_PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\) .*/\1/p' "$WORK/ech-serve.log" | head -n1)
echo "${dim}\$ certa connect 127.0.0.1:$ECH_PORT --servername localhost --trust ca.crt --ech-config ech/ech.configs.b64${plain}"
set +e
echo hello | "$CERTA" connect "127.0.0.1:$ECH_PORT" --servername localhost --trust "$CA/ca.crt" \
  --ech-config "$WORK/ech/ech.configs.b64" --timeout 5 >/dev/null 2>"$WORK/ech-connect.err"
ech_status=$?
set -e
grep -E "^\* ECH: " "$WORK/ech-connect.err" | sed 's/^\* */  /'
wait_for_line "$WORK/ech-serve.log" "ech=accepted" || true
echo "the server logged the real name (sni=) and what an observer saw (public_name=):"
grep -o "conn #1 .*TLSv1.3.* sni=[^ ]*\|ech=.*" "$WORK/ech-serve.log" | sed 's/^/  /'

step "10. Why would a client fail here? certa diagnose audits the endpoint"
echo "${dim}\$ certa diagnose 127.0.0.1:$TLS_PORT --servername localhost --trust ca.crt${plain}"
set +e
"$CERTA" diagnose "127.0.0.1:$TLS_PORT" --servername localhost --trust "$CA/ca.crt" \
  --timeout 5 >"$WORK/diagnose.txt" 2>&1
diagnose_status=$?
set -e
echo "(the findings that matter here, of $(grep -c '^  \[' "$WORK/diagnose.txt") — each with the evidence, the cause and the fix)"
# Each finding is its "  [level] ID: title" line and the indented lines under it.
awk '/^  \[/ { keep = ($2 ~ /^(PROTO-TLS13|GROUPS-PQ|CLIENT-AUTH-REQUIRED|CERT-LIFETIME):$/) }
     /^[^ ]/ || /^$/ { keep = 0 }
     keep' "$WORK/diagnose.txt"
grep '^verdict:' "$WORK/diagnose.txt" || true
echo "certa diagnose exited with status $diagnose_status (0: no finding at fail level)."

step "Done"
if [ "$status" -ne 0 ] && grep -q "not allowed" "$WORK/terminate.log" &&
  [ "$staple_status" -eq 0 ] && grep -q "OCSP staple: .* is good" "$WORK/staple.err" &&
  [ "$revoked_status" -ne 0 ] && grep -q "was revoked on .*keyCompromise" "$WORK/terminate.log" &&
  grep -q "group=X25519MLKEM768" "$WORK/terminate.log" &&
  [ "$legacy_status" -ne 0 ] && [ "$legacy_ok" -eq 0 ] && grep -q "TLSv1.2" "$WORK/legacy.log" &&
  [ "$diagnose_status" -eq 0 ] && grep -q "CLIENT-AUTH-REQUIRED" "$WORK/diagnose.txt" &&
  [ "$held_status" -eq 0 ] && grep -q "hello from the backend" "$WORK/held.out" &&
  [ -n "$old_serial" ] && [ "$fresh_serial" = "$new_serial" ] && [ "$old_serial" != "$new_serial" ] &&
  [ "$ech_status" -eq 0 ] && grep -q "ech=accepted public_name=public.example" "$WORK/ech-serve.log"; then
  echo "web was let in with its verified identity, over a post-quantum key exchange; billing"
  echo "was refused, with the reason;"
  echo "a TLS 1.2-only client was refused by the TLS 1.3-only listener and let in, still"
  echo "by its verified identity, where TLS 1.2 is allowed; api's certificate was renewed"
  echo "under an open connection, which carried on while new handshakes got the new one;"
  echo "once revoked, web was refused from the CRL the proxy reloaded by itself; a"
  echo "must-staple server was accepted with the good OCSP answer the CA's own responder"
  echo "gave it; with ECH the server name crossed the wire encrypted, only the public name in"
  echo "clear; certa diagnose found the mTLS listener healthy and said which client"
  echo "certificates it asks for."
else
  echo "demo: a client was not refused or let in as expected" >&2
  exit 1
fi
