#!/usr/bin/env bash
# certa proxy --spiffe-socket and certa svid fetch against a Workload API
# server written for the test (spiffe_workload_server.py: Debian's
# python3-grpcio, SVIDs from `certa ca`, a new one every 2 s, a federated
# bundle for another trust domain). The proxy serves mTLS with each new SVID
# while a load of handshakes and one long connection run; clients are
# allowed by SPIFFE ID, one from the federated trust domain; a mismatched
# key and a message that is not protobuf are refused and logged, the last
# good SVID serving on; the server stopped and started again is survived.
# Unix socket in the test's directory, loopback TCP only, bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotation_lib.bash"
need openssl protoc
need_certa
PY=/usr/bin/python3 # Debian's: python3-grpcio and python3-protobuf are for it
if ! $PY -c 'import grpc, google.protobuf' 2>/dev/null; then
  not_ok "/usr/bin/python3 lacks grpc or protobuf (scripts/deps.sh installs python3-grpcio python3-protobuf)"
  finish
fi

protoc --python_out="$T_TMP" --proto_path="$REPO_DIR/tools/spiffe" "$REPO_DIR/tools/spiffe/workload.proto" ||
  { not_ok "protoc --python_out workload.proto"; finish; }
rot_ca || { not_ok "certa ca init"; finish; }
"$CERTA" ca init "$T_TMP/fedca" --name "federated test CA" >"$T_TMP/fedca.log" 2>&1 ||
  { not_ok "federated CA"; finish; }
rot_leaf client --client --spiffe spiffe://example.org/client || { not_ok "client leaf"; finish; }
rot_leaf intruder --client --spiffe spiffe://example.org/intruder || { not_ok "intruder leaf"; finish; }
"$CERTA" ca issue "$T_TMP/fedca" --out "$T_TMP/partner" --spiffe spiffe://other.example/client \
  --client --ttl 1h >"$T_TMP/partner.log" 2>&1 || { not_ok "federated client leaf"; finish; }
"$CERTA" ca issue "$T_TMP/fedca" --out "$T_TMP/stranger" --spiffe spiffe://other.example/stranger \
  --client --ttl 1h >"$T_TMP/stranger.log" 2>&1 || { not_ok "federated stranger leaf"; finish; }
# other.example's next CA (the federated bundle rotates to it) and a client of it.
"$CERTA" ca init "$T_TMP/fedca2" --name "federated test CA 2" >"$T_TMP/fedca2.log" 2>&1 ||
  { not_ok "second federated CA"; finish; }
"$CERTA" ca issue "$T_TMP/fedca2" --out "$T_TMP/partner2" --spiffe spiffe://other.example/client \
  --client --ttl 1h >"$T_TMP/partner2.log" 2>&1 || { not_ok "client of the new federated CA"; finish; }
# The federated CA issuing an ID of our own trust domain: its bundle vouches
# for other.example only.
"$CERTA" ca issue "$T_TMP/fedca" --out "$T_TMP/impostor" --spiffe spiffe://example.org/client \
  --client --ttl 1h >"$T_TMP/impostor.log" 2>&1 || { not_ok "impostor leaf"; finish; }

SOCK=$T_TMP/agent.sock
STATE=$T_TMP/state
mkdir -p "$STATE"
start_agent() {
  rm -f "$SOCK"
  bg "$T_TMP/agent.$1.log" $PY "$LIB_DIR/spiffe_workload_server.py" --socket "$SOCK" \
    --certa "$CERTA" --ca "$T_TMP/ca" --id spiffe://example.org/web --dns localhost \
    --state "$STATE" --rotate 2 --pb2-dir "$T_TMP" \
    --federated "spiffe://other.example=$T_TMP/fedca/ca.crt" "${@:2}"
  AGENT_PID=$BG_PID
  wait_for "$T_TMP/agent.$1.log" 'serving on' 20
}
start_agent 1 || { not_ok "Workload API server started"; show "$T_TMP/agent.1.log"; finish; }
ok "the test's Workload API server serves on unix:$SOCK"

# ---- certa svid fetch ------------------------------------------------------
OUT=$T_TMP/svid-files
if SPIFFE_ENDPOINT_SOCKET="unix://$SOCK" timeout 30 "$CERTA" svid fetch --out "$OUT" \
  >"$T_TMP/fetch.out" 2>"$T_TMP/fetch.err" &&
  grep -q '^SVID spiffe://example.org/web (serial [0-9A-F]*) expires in' "$T_TMP/fetch.out"; then
  ok "svid fetch (SPIFFE_ENDPOINT_SOCKET): one SVID, and it says when it expires"
else
  not_ok "svid fetch"
  show "$T_TMP/fetch.out" "$T_TMP/fetch.err"
fi
check "svid fetch: svid_key.pem is 0600" test "$(stat -c %a "$OUT/svid_key.pem" 2>/dev/null)" = 600
check "svid fetch: svid.pem validates against svid_bundle.pem for clientAuth (openssl verify)" \
  openssl verify -purpose sslclient -CAfile "$OUT/svid_bundle.pem" "$OUT/svid.pem"
key_pub=$(openssl pkey -in "$OUT/svid_key.pem" -pubout 2>/dev/null)
crt_pub=$(openssl x509 -in "$OUT/svid.pem" -noout -pubkey 2>/dev/null)
check "svid fetch: svid_key.pem is svid.pem's key" test -n "$key_pub" -a "$key_pub" = "$crt_pub"
check "svid fetch: svid.pem carries the agent's SPIFFE ID" \
  sh -c "openssl x509 -in '$OUT/svid.pem' -noout -ext subjectAltName | grep -q 'URI:spiffe://example.org/web'"
check "svid fetch: the bundles are FetchX509Bundles' (the agent offers it)" \
  grep -qx 'bundles from FetchX509Bundles' "$T_TMP/fetch.out"
check "svid fetch: federated_bundle.pem is the other trust domain's CA" \
  cmp -s <(openssl x509 -in "$OUT/federated_bundle.pem" -outform DER) <(openssl x509 -in "$T_TMP/fedca/ca.crt" -outform DER)
if timeout 30 "$CERTA" svid fetch --spiffe-socket "unix://$T_TMP/nobody.sock" --timeout 2 --out "$T_TMP/none" \
  >"$T_TMP/fetch2.out" 2>&1; then
  not_ok "svid fetch from a socket nobody serves should fail"
else
  if grep -q 'unreachable' "$T_TMP/fetch2.out" && [ ! -e "$T_TMP/none/svid.pem" ]; then
    ok "svid fetch from a socket nobody serves: fails, says the agent is unreachable, writes nothing"
  else
    not_ok "svid fetch unreachable: message"
    show "$T_TMP/fetch2.out"
  fi
fi

# An agent that is not there: the proxy waits for its first SVID, saying so,
# and a SIGTERM meanwhile stops it at once.
bg "$T_TMP/nowhere.log" "$CERTA" proxy --listen 127.0.0.1:0 --backend 127.0.0.1:9 \
  --spiffe-socket "unix://$T_TMP/nobody.sock"
nowhere=$BG_PID
wait_for "$T_TMP/nowhere.log" 'unreachable.*no SVID yet; reconnecting in' 10
t0=$SECONDS
stop "$nowhere"
if [ $((SECONDS - t0)) -le 3 ] && grep -q 'stopped while waiting for the first SVID' "$T_TMP/nowhere.log" &&
  ! grep -Eq 'Sanitizer|runtime error:' "$T_TMP/nowhere.log"; then
  ok "proxy with no agent: logs the retries, and SIGTERM while it waits for the first SVID stops it at once"
else
  not_ok "proxy with no agent: stop while waiting"
  show "$T_TMP/nowhere.log"
fi

# ---- certa serve --spiffe-socket -------------------------------------------
start_certa_serve serve --spiffe-socket "unix://$SOCK" --allow spiffe://example.org/client \
  --allow spiffe://example.org/web || finish
CLIENT=(--cert "$T_TMP/client.crt" --key "$T_TMP/client.key")
s1=$(rot_serial "$SERVE_PORT" "${CLIENT[@]}")
check "serve --spiffe-socket: an allowed client is served with the agent's SVID ($s1)" \
  grep -qix "${s1:-none}" "$STATE/serials"
n=$(grep -c 'new SVID' "$SERVE_LOG")
wait_for "$SERVE_LOG" 'reloaded the config \(generation 2\)' 10
s2=$(rot_serial "$SERVE_PORT" "${CLIENT[@]}")
check "serve --spiffe-socket: after rotations a new SVID serves ($s2, was $s1)" \
  sh -c "[ -n '$s2' ] && [ '$s2' != '$s1' ] && grep -qix '$s2' '$STATE/serials'"
if echo hi | timeout 10 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
  --trust "$T_TMP/ca/ca.crt" --cert "$T_TMP/intruder.crt" --key "$T_TMP/intruder.key" \
  >"$T_TMP/i.out" 2>&1 && grep -qx hi "$T_TMP/i.out"; then
  not_ok "serve --spiffe-socket: spiffe://example.org/intruder should be refused"
else
  check "serve --spiffe-socket: spiffe://example.org/intruder is refused by the allow rule" \
    wait_for "$SERVE_LOG" 'spiffe://example.org/intruder is not allowed' 5
fi
check "serve: each SVID logged with its expiry" test "$n" -ge 1

# Bridge mode: the proxy's client certificate and the upstream's trust from the stream.
start_proxy bridge --upstream "127.0.0.1:$SERVE_PORT" --servername localhost \
  --spiffe-socket "unix://$SOCK" --expect spiffe://example.org/web ||
  { not_ok "bridge proxy --spiffe-socket started"; show "$PROXY_LOG"; finish; }
BRIDGE_PORT=$PROXY_PORT
bridge_out=$(timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=8)
s.sendall(b"through the bridge\n")
print(s.recv(100).decode().strip())' "$BRIDGE_PORT" 2>&1)
check "proxy bridge --spiffe-socket: mTLS to serve with the SVID as client certificate, the upstream checked against the bundle ($bridge_out)" \
  test "$bridge_out" = "through the bridge"
stop_proxy bridge
stop_certa_serve serve

# ---- certa proxy --spiffe-socket -------------------------------------------
start_echo_backend || { not_ok "echo backend"; finish; }
start_proxy proxy --backend "127.0.0.1:$ECHO_PORT" --spiffe-socket "unix://$SOCK" \
  --allow spiffe://example.org/client --allow spiffe://other.example/client ||
  { not_ok "proxy --spiffe-socket started"; show "$PROXY_LOG"; finish; }
ok "proxy --spiffe-socket: listening once the first SVID arrived"
CLIENT=(--cert "$T_TMP/client.crt" --key "$T_TMP/client.key")
rot_load_start proxy "$PROXY_PORT" "${CLIENT[@]}"
rot_stream_start proxy "$PROXY_PORT" 10 "${CLIENT[@]}"
# Five rotations (2 s apart), each a new config.
gen0=$(grep -c 'new SVID spiffe://example.org/web' "$PROXY_LOG")
for _ in $(seq 150); do
  [ "$(grep -c 'new SVID spiffe://example.org/web' "$PROXY_LOG")" -ge $((gen0 + 5)) ] && break
  sleep 0.1
done
check "proxy: five SVID updates arrived, each logged with its expiry (new SVID ... expires in)" \
  test "$(grep -c 'new SVID spiffe://example.org/web (serial [0-9A-F]*) expires in [0-9]' "$PROXY_LOG")" -ge $((gen0 + 5))
check "proxy: each update became a config for new connections" \
  test "$(grep -c 'reloaded the config (generation' "$PROXY_LOG")" -ge 5
rot_stream_check proxy
rot_load_stop proxy
rot_load_report proxy
served=$(sed -n 's/^ok //p' "$T_TMP/proxy.load" | sort -u | grep -c .)
check "proxy: the load saw $served different SVIDs (at least 3), all issued by the agent" \
  sh -c "[ $served -ge 3 ] && sed -n 's/^ok //p' '$T_TMP/proxy.load' | sort -u | while read -r s; do grep -qix \"\$s\" '$STATE/serials' || exit 1; done"
now=$(rot_serial "$PROXY_PORT" "${CLIENT[@]}")
# Read after the handshake: an SVID issued meanwhile is then among the two.
latest=$(tail -n 1 "$STATE/serials")
prev=$(tail -n 2 "$STATE/serials" | head -n 1)
check "proxy: a new handshake sees the latest SVID ($now; agent's last two: $prev $latest)" \
  sh -c "[ -n '$now' ] && { [ '$now' = '$latest' ] || [ '$now' = '$prev' ]; }"

# Identity rules across trust domains.
conn_ok() { echo hi | timeout 10 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
  --trust "$T_TMP/ca/ca.crt" "$@" >"$T_TMP/c.out" 2>"$T_TMP/c.err" && grep -qx hi "$T_TMP/c.out"; }
check "proxy: spiffe://other.example/client (the federated trust domain's CA, allowed) is served" \
  conn_ok --cert "$T_TMP/partner.crt" --key "$T_TMP/partner.key"
if conn_ok --cert "$T_TMP/intruder.crt" --key "$T_TMP/intruder.key"; then
  not_ok "proxy: spiffe://example.org/intruder should be refused"
else
  wait_for "$PROXY_LOG" 'spiffe://example.org/intruder is not allowed' 5
  check "proxy: spiffe://example.org/intruder (own trust domain, no rule) is refused and logged" \
    grep -q 'spiffe://example.org/intruder is not allowed' "$PROXY_LOG"
fi
if conn_ok --cert "$T_TMP/stranger.crt" --key "$T_TMP/stranger.key"; then
  not_ok "proxy: spiffe://other.example/stranger should be refused"
else
  ok "proxy: spiffe://other.example/stranger (federated, no rule) is refused"
fi

if conn_ok --cert "$T_TMP/impostor.crt" --key "$T_TMP/impostor.key"; then
  not_ok "proxy: spiffe://example.org/client issued by the federated CA should be refused"
else
  check "proxy: spiffe://example.org/client issued by other.example's CA is refused: a federated bundle vouches for its own trust domain only" \
    wait_for "$PROXY_LOG" "client.s certificate was refused: no issuer for .CN=client" 5
fi

# A malformed update: refused, logged, the last good SVID serving on.
bad_update() { # SIGNAL PATTERN WHAT
  local before
  before=$(grep -c 'refused an update from the Workload API' "$PROXY_LOG")
  kill "-$1" "$(pgrep -P "$AGENT_PID" | head -n 1)"
  if wait_for "$PROXY_LOG" "refused an update from the Workload API, keeping the SVID spiffe://example.org/web .*expires in.*$2" 10; then
    ok "proxy: $3 is refused and logged, naming the SVID kept and when it expires"
  else
    not_ok "proxy: $3 refused"
    show "$PROXY_LOG"
  fi
  s=$(rot_serial "$PROXY_PORT" "${CLIENT[@]}")
  check "proxy: after $3 a handshake still succeeds with an agent's SVID ($s)" grep -qix "$s" "$STATE/serials"
}
bad_update USR1 'does not belong to its certificate' "an update whose key belongs to another certificate"
bad_update USR2 'does not decode as protobuf' "an update that is not protobuf"

# The federation ends (the agent stops sending partner.example's bundle): a
# partner session made before must not resume, and a new handshake fails.
SESS=$T_TMP/partner.session
PARTNER=(--cert "$T_TMP/partner.crt" --key "$T_TMP/partner.key" --session "$SESS")
conn_ok "${PARTNER[@]}" && conn_ok "${PARTNER[@]}" && grep -q 'resumed: *yes' "$T_TMP/c.err"
check "proxy: the partner resumes its session while federated" test $? -eq 0
conn_ok "${PARTNER[@]}" # a fresh ticket in $SESS
kill -HUP "$(pgrep -P "$AGENT_PID" | head -n 1)"
n_fed=$(grep -c 'new SVID' "$PROXY_LOG")
for _ in $(seq 100); do
  [ "$(grep 'new SVID' "$PROXY_LOG" | tail -n 1 | grep -c 'federated bundles')" -eq 0 ] &&
    [ "$(grep -c 'new SVID' "$PROXY_LOG")" -gt "$n_fed" ] && break
  sleep 0.1
done
if conn_ok "${PARTNER[@]}"; then
  not_ok "proxy: the partner should be refused once its trust domain's bundle is gone (resumed: $(grep -c 'resumed: *yes' "$T_TMP/c.err"))"
else
  check "proxy: once the agent drops partner.example's bundle, the partner is refused, its ticket included (no bundle for its trust domain)" \
    wait_for "$PROXY_LOG" 'SPIFFE ID spiffe://other.example/client is in a trust domain this side has no bundle for' 5
fi

# The agent goes away and comes back.
stop "$AGENT_PID"
if wait_for "$PROXY_LOG" 'unreachable.*still serving with the SVID spiffe://example.org/web .*expires in .*reconnecting in' 15; then
  ok "proxy: the agent gone: logged, with the SVID still served and when it expires"
else
  not_ok "proxy: agent gone not logged"
  show "$PROXY_LOG"
fi
sleep 2
s=$(rot_serial "$PROXY_PORT" "${CLIENT[@]}")
check "proxy: with the agent gone, a handshake still succeeds with the last SVID ($s)" grep -qix "$s" "$STATE/serials"
n_before=$(grep -c 'new SVID spiffe://example.org/web' "$PROXY_LOG")
start_agent 2 || { not_ok "Workload API server restarted"; finish; }
for _ in $(seq 200); do
  [ "$(grep -c 'new SVID spiffe://example.org/web' "$PROXY_LOG")" -gt "$n_before" ] && break
  sleep 0.1
done
check "proxy: the agent back: the proxy reconnected and took its SVID" \
  test "$(grep -c 'new SVID spiffe://example.org/web' "$PROXY_LOG")" -gt "$n_before"
sleep 0.5
s=$(rot_serial "$PROXY_PORT" "${CLIENT[@]}")
check "proxy: after the reconnect new handshakes see a new SVID ($s)" \
  sh -c "tail -n 3 '$STATE/serials' | grep -qix '$s'"
stop_proxy proxy

# The JSON log: the stream's lines are events of their own (docs/log-schema.md).
# (--spiffe-socket env: the socket from SPIFFE_ENDPOINT_SOCKET)
SPIFFE_ENDPOINT_SOCKET="unix://$SOCK" start_proxy proxyjson --log-format json \
  --backend "127.0.0.1:$ECHO_PORT" --spiffe-socket env ||
  { not_ok "proxy --log-format json started"; show "$PROXY_LOG"; finish; }
wait_for "$PROXY_LOG" '"generation":"1"' 10
stop_proxy proxyjson
if grep -q '"event":"spiffe".*new SVID spiffe://example.org/web' "$PROXY_LOG" &&
  python3 "$REPO_DIR/tests/behaviour/log_schema.py" "$REPO_DIR/docs/log-schema.md" "$PROXY_LOG" \
    >"$T_TMP/schema.txt" 2>&1; then
  ok "proxy --log-format json: the SVID lines are spiffe events, every line follows docs/log-schema.md"
else
  not_ok "proxy JSON log lines outside the schema"
  show "$T_TMP/schema.txt" "$PROXY_LOG"
fi

# ---- FetchX509Bundles: the federated CA rotates, the SVID stays ------------
stop "$AGENT_PID"
start_agent 3 --rotate 0 --federated-next "spiffe://other.example=$T_TMP/fedca2/ca.crt" ||
  { not_ok "Workload API server (no SVID rotation) started"; finish; }
start_proxy fedproxy --backend "127.0.0.1:$ECHO_PORT" --spiffe-socket "unix://$SOCK" \
  --allow spiffe://example.org/client --allow spiffe://other.example/client ||
  { not_ok "proxy for the bundle rotation started"; show "$PROXY_LOG"; finish; }
OLDP=(--cert "$T_TMP/partner.crt" --key "$T_TMP/partner.key")
NEWP=(--cert "$T_TMP/partner2.crt" --key "$T_TMP/partner2.key")
svid0=$(rot_serial "$PROXY_PORT" "${CLIENT[@]}")
check "bundles: before the rotation the old federated CA's client is served" conn_ok "${OLDP[@]}"
if conn_ok "${NEWP[@]}"; then not_ok "bundles: the new federated CA's client should be refused before the rotation"
else ok "bundles: before the rotation the new federated CA's client is refused"; fi
# certa serve beside it: the same updates, and a ticket of the old CA's
# client must not resume once that CA is gone.
start_certa_serve fedserve --spiffe-socket "unix://$SOCK" --allow spiffe://other.example/client ||
  { not_ok "serve for the bundle rotation started"; finish; }
serve_ok() { echo hi | timeout 10 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
  --trust "$T_TMP/ca/ca.crt" "$@" >"$T_TMP/s.out" 2>"$T_TMP/s.err" && grep -qx hi "$T_TMP/s.out"; }
SSESS=$T_TMP/old-partner.session
serve_ok "${OLDP[@]}" --session "$SSESS" && serve_ok "${OLDP[@]}" --session "$SSESS" &&
  grep -q 'resumed: *yes' "$T_TMP/s.err"
check "bundles: serve: the old federated CA's client is served and resumes" test $? -eq 0
serve_ok "${OLDP[@]}" --session "$SSESS" # a fresh ticket
agent_child() { pgrep -P "$AGENT_PID" | head -n 1; }
bundles_step() { # N: wait for the Nth bundles update
  kill -ALRM "$(agent_child)"
  for _ in $(seq 100); do
    [ "$(grep -c 'new bundles for the SVID spiffe://example.org/web' "$PROXY_LOG")" -ge "$1" ] &&
      [ "$(grep -c 'reloaded the config (generation' "$PROXY_LOG")" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}
if bundles_step 1; then
  ok "bundles: the agent's FetchX509Bundles update (old and new federated CA) is logged and reloads the config"
else
  not_ok "bundles: no bundles update taken"
  show "$PROXY_LOG"
fi
check "bundles: with old and new federated CA, the new CA's client is served" conn_ok "${NEWP[@]}"
check "bundles: ... and the old CA's client still" conn_ok "${OLDP[@]}"
bundles_step 2 || { not_ok "bundles: second bundles update not taken"; show "$PROXY_LOG"; }
check "bundles: the old federated CA removed, the new CA's client is served" conn_ok "${NEWP[@]}"
if conn_ok "${OLDP[@]}"; then not_ok "bundles: the old federated CA's client should be refused once the CA is removed"
else ok "bundles: the old federated CA removed, its client is refused"; fi
OUT3=$T_TMP/svid-files-3
SPIFFE_ENDPOINT_SOCKET="unix://$SOCK" timeout 30 "$CERTA" svid fetch --out "$OUT3" >"$T_TMP/fetch3.out" 2>&1
# The test agent's SVID response still names the old CA (sent once, before
# the rotation); FetchX509Bundles has the new one alone.
check "svid fetch after the rotation: federated_bundle.pem is FetchX509Bundles' (the new federated CA alone)" \
  test "$(grep -c 'BEGIN CERTIFICATE' "$OUT3/federated_bundle.pem" 2>/dev/null)" = 1 -a \
  "$(openssl x509 -in "$OUT3/federated_bundle.pem" -noout -fingerprint 2>/dev/null)" = \
  "$(openssl x509 -in "$T_TMP/fedca2/ca.crt" -noout -fingerprint)"
for _ in $(seq 50); do
  [ "$(grep -c 'new bundles for the SVID' "$SERVE_LOG")" -ge 2 ] && break
  sleep 0.1
done
sleep 0.3
check "bundles: serve took both bundles updates (FetchX509Bundles)" \
  test "$(grep -c 'new bundles for the SVID' "$SERVE_LOG")" -ge 2
check "bundles: serve: the new CA's client is served" serve_ok "${NEWP[@]}"
if serve_ok "${OLDP[@]}" --session "$SSESS"; then
  not_ok "bundles: serve: the old CA's client should be refused once its CA is removed, its ticket included ($(grep -c 'resumed: *yes' "$T_TMP/s.err") resumed)"
else
  ok "bundles: serve: the old CA removed, its client is refused, its ticket included"
fi
stop_certa_serve fedserve
svid1=$(rot_serial "$PROXY_PORT" "${CLIENT[@]}")
check "bundles: the SVID served is unchanged by bundle updates ($svid0, $svid1) and was never re-sent" \
  sh -c "[ -n '$svid0' ] && [ '$svid0' = '$svid1' ] && [ \$(grep -c 'new SVID' '$PROXY_LOG') -eq 1 ]"
kill -WINCH "$(agent_child)"
if wait_for "$PROXY_LOG" "refused a bundles update from the Workload API, keeping the SVID spiffe://example.org/web .*expires in.*no bundle for the workload.s own trust domain spiffe://example.org" 10; then
  ok "bundles: an update without the own trust domain's bundle is refused and logged, naming the SVID kept"
else
  not_ok "bundles: malformed bundles update refused"
  show "$PROXY_LOG"
fi
check "bundles: after the refused update the last good set serves (new CA's client)" conn_ok "${NEWP[@]}"
if conn_ok "${OLDP[@]}"; then not_ok "bundles: after the refused update the old CA's client should still be refused"
else ok "bundles: after the refused update the old CA's client is still refused"; fi
check "bundles: no sanitizer reports in the proxy's log" sh -c "! grep -Eq 'Sanitizer|runtime error:' '$PROXY_LOG'"
stop_proxy fedproxy

# An agent without FetchX509Bundles (UNIMPLEMENTED): the SVID's bundles serve.
stop "$AGENT_PID"
start_agent 4 --no-bundles-rpc || { not_ok "Workload API server without FetchX509Bundles started"; finish; }
SPIFFE_ENDPOINT_SOCKET="unix://$SOCK" timeout 30 "$CERTA" svid fetch --out "$T_TMP/svid-files-4" \
  >"$T_TMP/fetch4.out" 2>&1
check "svid fetch from an agent without FetchX509Bundles: the SVID response's bundles, and it says so" \
  grep -q 'bundles from the X509SVIDResponse (the agent does not offer FetchX509Bundles)' "$T_TMP/fetch4.out"
start_proxy oldagent --backend "127.0.0.1:$ECHO_PORT" --spiffe-socket "unix://$SOCK" \
  --allow spiffe://other.example/client ||
  { not_ok "proxy against an agent without FetchX509Bundles started"; show "$PROXY_LOG"; finish; }
check "proxy against an agent without FetchX509Bundles: logged once, the bundles stream ends" \
  wait_for "$PROXY_LOG" 'FetchX509Bundles: the agent does not offer it' 10
check "proxy against an agent without FetchX509Bundles: the federated client is served (the SVID's bundles)" \
  conn_ok "${OLDP[@]}"
stop_proxy oldagent
stop "$AGENT_PID"
finish
