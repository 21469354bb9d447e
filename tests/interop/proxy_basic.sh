#!/usr/bin/env bash
# certa proxy: terminate and bridge modes with curl and a Python echo client;
# mutual TLS, allow rules, refusals explained in the log, half-close, a large
# transfer with backpressure, JSON logs, timeouts, an unreachable backend,
# a refused reload and a clean SIGTERM. Loopback only, everything bounded.
set -u
DIR=$(cd "$(dirname "$0")" && pwd)
source "$DIR/proxy_lib.bash"
CLIENT="$DIR/proxy_client.py"
proxy_setup
proxy_backend_http || { not_ok "http backend did not start"; exit 1; }
proxy_backend_echo || { not_ok "echo backend did not start"; exit 1; }

CURL=(curl -sS -m 10 --cacert "$T/ca.crt")
MTLS=(--cert "$T/client.crt" --key "$T/client.key")

# last_close LOG: the last connection line of a proxy log.
last_close() { grep 'event=close\|"event":"close"' "$1" | tail -n 1; }

# ---- terminate, mutual TLS required -------------------------------------
proxy_start term --backend "127.0.0.1:$BACKEND_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --client-ca "$T/ca.crt" || { not_ok "terminate proxy started"; exit 1; }
TERM_PORT=$PROXY_PORT
ok "terminate proxy printed its listening line"

out=$("${CURL[@]}" "${MTLS[@]}" "https://localhost:$TERM_PORT/" 2>&1)
check "curl with a client certificate through terminate mode gets the backend's page" \
  grep -q "hello from the backend" <<<"$out"
sleep 0.3
line=$(last_close "$T/term.log")
check "close line names the client's SPIFFE ID" grep -q 'identity=spiffe://example.org/client' <<<"$line"
check "close line says clean, TLSv1.3 and a suite" \
  grep -q 'reason=clean' <<<"$line"
check "close line has handshake time and byte counts" \
  bash -c '[[ "$1" =~ handshake_ms=[0-9]+ ]] && [[ "$1" =~ bytes_in=[1-9] ]] && [[ "$1" =~ bytes_out=[1-9] ]] && [[ "$1" =~ version=TLSv1.3 ]] && [[ "$1" =~ suite=TLS_ ]]' _ "$line"

if "${CURL[@]}" "https://localhost:$TERM_PORT/" >/dev/null 2>&1; then
  not_ok "curl without a client certificate is refused"
else
  ok "curl without a client certificate is refused"
fi
sleep 0.3
check "the refusal is logged as CERTA_E_CERTIFICATE_REQUIRED" \
  grep -q 'reason="handshake failure" error=CERTA_E_CERTIFICATE_REQUIRED' "$T/term.log"

# ---- terminate with an allow rule -----------------------------------------
proxy_start allow --backend "127.0.0.1:$BACKEND_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --client-ca "$T/ca.crt" --allow spiffe://example.org/client \
  || not_ok "allow proxy started"
ALLOW_PORT=$PROXY_PORT
out=$("${CURL[@]}" "${MTLS[@]}" "https://localhost:$ALLOW_PORT/" 2>&1)
check "an allowed SPIFFE ID gets through" grep -q "hello from the backend" <<<"$out"
if "${CURL[@]}" --cert "$T/intruder.crt" --key "$T/intruder.key" \
  "https://localhost:$ALLOW_PORT/" >/dev/null 2>&1; then
  not_ok "a disallowed SPIFFE ID is refused"
else
  ok "a disallowed SPIFFE ID is refused"
fi
sleep 0.3
line=$(grep 'CERTA_E_IDENTITY_NOT_ALLOWED' "$T/allow.log" | tail -n 1)
check "the refusal is logged as CERTA_E_IDENTITY_NOT_ALLOWED" test -n "$line"
check "the explanation names the refused identity" grep -q 'spiffe://example.org/intruder' <<<"$line"

# ---- bridge -> terminate (mutual TLS both hops) ----------------------------
proxy_start bridge --upstream "localhost:$TERM_PORT" --trust "$T/ca.crt" \
  --cert "$T/client.crt" --key "$T/client.key" --expect spiffe://example.org/server \
  || not_ok "bridge proxy started"
BRIDGE_PORT=$PROXY_PORT
out=$(curl -sS -m 10 "http://127.0.0.1:$BRIDGE_PORT/" 2>&1)
check "plain curl through bridge -> terminate gets the backend's page" \
  grep -q "hello from the backend" <<<"$out"
sleep 0.3
check "the bridge logs the upstream's SPIFFE ID" \
  grep -q 'identity=spiffe://example.org/server verified=true' "$T/bridge.log"

proxy_start bridge_bad --upstream "localhost:$TERM_PORT" --trust "$T/ca.crt" \
  --cert "$T/client.crt" --key "$T/client.key" --expect spiffe://example.org/other \
  || not_ok "bridge with a wrong --expect started"
curl -sS -m 10 "http://127.0.0.1:$PROXY_PORT/" >/dev/null 2>&1
sleep 0.3
check "a bridge whose --expect does not match refuses the upstream (logged)" \
  grep -q 'CERTA_E_IDENTITY_NOT_ALLOWED' "$T/bridge_bad.log"

# ---- echo: half-close and a large transfer (backpressure) ------------------
proxy_start term_echo --backend "127.0.0.1:$ECHO_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --client-ca "$T/ca.crt" || not_ok "echo terminate proxy started"
TERM_ECHO=$PROXY_PORT
TERM_ECHO_PID=$PROXY_PID
proxy_start bridge_echo --upstream "localhost:$TERM_ECHO" --trust "$T/ca.crt" \
  --cert "$T/client.crt" --key "$T/client.key" || not_ok "echo bridge proxy started"
BRIDGE_ECHO=$PROXY_PORT
out=$(timeout 30 python3 "$CLIENT" echo 127.0.0.1 "$BRIDGE_ECHO" --bytes 1000 2>&1)
check "half-close passes through bridge -> terminate -> echo and back ($out)" \
  grep -q "echo ok 1000" <<<"$out"
out=$(timeout 60 python3 "$CLIENT" echo 127.0.0.1 "$BRIDGE_ECHO" --bytes 33554432 --timeout 50 2>&1)
check "32 MiB echo through both proxies arrives intact ($out)" grep -q "echo ok 33554432" <<<"$out"
sleep 0.3
check "the terminate side logged the 32 MiB both ways" \
  grep -q 'bytes_in=33554432 bytes_out=33554432 reason=clean' "$T/term_echo.log"

# One-way TLS (no client certificates): the data path alone.
proxy_start term_1way --backend "127.0.0.1:$ECHO_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" || not_ok "one-way terminate proxy started"
T1=$PROXY_PORT
proxy_start bridge_1way --upstream "localhost:$T1" --trust "$T/ca.crt" \
  || not_ok "one-way bridge proxy started"
out=$(timeout 60 python3 "$CLIENT" echo 127.0.0.1 "$PROXY_PORT" --bytes 8388608 2>&1)
check "one-way TLS: 8 MiB echo through bridge -> terminate ($out)" grep -q "echo ok 8388608" <<<"$out"
out=$(timeout 30 python3 "$CLIENT" echo localhost "$T1" --tls --ca "$T/ca.crt" --bytes 200000 2>&1)
check "one-way TLS: Python ssl client straight to terminate ($out)" grep -q "echo ok 200000" <<<"$out"

# A client that resets, and one that closes without close_notify.
timeout 10 python3 - "$T1" "$T/ca.crt" <<'EOF'
import socket, ssl, struct, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
for mode in ("reset", "fin"):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5),
                        server_hostname="localhost")
    s.sendall(b"hello")
    s.recv(5)
    if mode == "reset":
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    else:
        socket.socket(fileno=s.detach()).close()  # TCP FIN, no close_notify
    time.sleep(0.3)
EOF
sleep 0.3
check "a client's TCP reset is logged as peer reset" grep -q 'reason="peer reset"' "$T/term_1way.log"
check "a close without close_notify is logged as truncated" \
  grep -q 'reason=truncated error=CERTA_E_PEER_CLOSED' "$T/term_1way.log"

# ---- JSON log format --------------------------------------------------------
proxy_start json --backend "127.0.0.1:$BACKEND_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --client-ca "$T/ca.crt" --log-format json || not_ok "json proxy started"
JSON_PORT=$PROXY_PORT
"${CURL[@]}" "${MTLS[@]}" "https://localhost:$PROXY_PORT/" >/dev/null 2>&1
"${CURL[@]}" "https://localhost:$PROXY_PORT/" >/dev/null 2>&1
sleep 0.3
check "--log-format json: every line is a JSON object, close lines have the fields" \
  python3 - "$T/json.log" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
closes = [l for l in lines if l.get("event") == "close"]
assert any(l.get("event") == "listening" for l in lines)
assert len(closes) >= 2, closes
for c in closes:
    for k in ("time", "peer", "identity", "version", "suite", "handshake_ms", "bytes_in",
              "bytes_out", "reason"):
        assert k in c, (k, c)
    assert c["time"].endswith("Z") and "T" in c["time"]
assert any(c.get("error") == "CERTA_E_CERTIFICATE_REQUIRED" and c.get("detail") for c in closes)
EOF

# ---- optional client auth, IP upstream, JSON escaping --------------------------
proxy_start optional --backend "127.0.0.1:$BACKEND_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --client-ca "$T/ca.crt" --client-auth optional \
  || not_ok "optional proxy started"
OPT_PORT=$PROXY_PORT
out=$("${CURL[@]}" "https://localhost:$OPT_PORT/" 2>&1)
check "--client-auth optional: a client without a certificate gets through" \
  grep -q "hello from the backend" <<<"$out"
out=$("${CURL[@]}" "${MTLS[@]}" "https://localhost:$OPT_PORT/" 2>&1)
check "--client-auth optional: a client with a certificate gets through" \
  grep -q "hello from the backend" <<<"$out"
sleep 0.3
check "--client-auth optional: both logged (identity - and the SPIFFE ID)" \
  bash -c 'grep -q "identity=- .*reason=clean" "$1" && grep -q "identity=spiffe://example.org/client verified=true" "$1"' _ "$T/optional.log"

proxy_start bridge_ip --upstream "127.0.0.1:$TERM_PORT" --trust "$T/ca.crt" \
  --cert "$T/client.crt" --key "$T/client.key" || not_ok "bridge to an IP upstream started"
out=$(curl -sS -m 10 "http://127.0.0.1:$PROXY_PORT/" 2>&1)
check "a bridge to an IP literal upstream verifies the IP SAN" grep -q "hello from the backend" <<<"$out"

# A self-signed client certificate with quotes, a backslash and UTF-8 in its
# subject: refused, and the JSON line still parses with the subject intact.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -utf8 \
  -subj "/O=evil \"quoted\" \\\\ näme/OU=x" -keyout "$T/evil.key" -out "$T/evil.crt" \
  -addext "extendedKeyUsage=clientAuth" 2>/dev/null
"${CURL[@]}" --cert "$T/evil.crt" --key "$T/evil.key" "https://localhost:$JSON_PORT/" \
  >/dev/null 2>&1
sleep 0.3
check "JSON log escapes a hostile certificate subject" python3 - "$T/json.log" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
evil = [l for l in lines if l.get("event") == "close" and "quoted" in l.get("identity", "")]
assert evil, lines
# certa renders subjects RFC 2253-style (O=evil \"quoted\" \\ n\C3\A4me): the
# quotes and backslashes must survive the JSON round trip.
ident = evil[-1]["identity"]
assert '"quoted\\"' in ident and "\\\\" in ident, ident
EOF

# ---- timeouts and failures --------------------------------------------------
proxy_start slow --backend "127.0.0.1:$BACKEND_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --handshake-timeout 1 || not_ok "slow proxy started"
out=$(timeout 10 python3 "$CLIENT" silent 127.0.0.1 "$PROXY_PORT" --wait 5 2>&1)
check "a silent client is disconnected by --handshake-timeout 1 within 2.5 s ($out)" \
  python3 -c 'import sys; w=sys.argv[1].split(); sys.exit(0 if w[0]=="closed" and float(w[2][:-1]) <= 2.5 else 1)' "$out"
sleep 0.2
check "the handshake timeout is logged" grep -q 'reason=timeout error=CERTA_E_TIMEOUT' "$T/slow.log"

proxy_start idle --backend "127.0.0.1:$ECHO_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --idle-timeout 1 || not_ok "idle proxy started"
out=$(timeout 20 python3 "$CLIENT" stream localhost "$PROXY_PORT" --tls --ca "$T/ca.crt" --seconds 2 2>&1)
check "traffic every 50 ms keeps a connection alive past --idle-timeout 1 ($out)" grep -q "stream ok" <<<"$out"
out=$(timeout 10 python3 - "$PROXY_PORT" "$T/ca.crt" <<'EOF'
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5),
                    server_hostname="localhost")
t = time.monotonic()
s.settimeout(5)
try:
    while s.recv(100):
        pass
except (OSError, ssl.SSLError):
    pass
print(f"idle closed after {time.monotonic() - t:.1f}s")
EOF
)
check "an idle established connection is closed by --idle-timeout 1 ($out)" \
  python3 -c 'import sys; v=float(sys.argv[1].split()[3][:-1]); sys.exit(0 if v <= 2.5 else 1)' "$out"

DEAD_PORT=$(proxy_free_port)
proxy_start dead --backend "127.0.0.1:$DEAD_PORT" --cert "$T/server.crt" --key "$T/server.key" \
  || not_ok "dead-backend proxy started"
"${CURL[@]}" "https://localhost:$PROXY_PORT/" >/dev/null 2>&1
sleep 0.3
check "an unreachable backend is logged as such" grep -q 'reason="backend unreachable"' "$T/dead.log"

# ---- reload refused, then SIGTERM -------------------------------------------
cp "$T/server.crt" "$T/r.crt"
cp "$T/server.key" "$T/r.key"
proxy_start reload --backend "127.0.0.1:$BACKEND_PORT" --cert "$T/r.crt" --key "$T/r.key" \
  || not_ok "reload proxy started"
echo "not a certificate" >"$T/r.crt.tmp" && mv "$T/r.crt.tmp" "$T/r.crt"
check "a bad new certificate file is refused with a log line" wait_for "$T/reload.log" "reload refused" 5
out=$("${CURL[@]}" "https://localhost:$PROXY_PORT/" 2>&1)
check "the proxy keeps serving with the previous config" grep -q "hello from the backend" <<<"$out"

# A stream in flight when SIGTERM arrives finishes; then the proxy exits 0.
timeout 20 python3 "$CLIENT" stream localhost "$TERM_ECHO" --tls --ca "$T/ca.crt" \
  --cert "$T/client.crt" --key "$T/client.key" --seconds 2 >"$T/drain.out" 2>&1 &
SPID=$!
sleep 1
TPID=$TERM_ECHO_PID
kill -TERM "$TPID"
wait "$SPID"
check "a stream in flight at SIGTERM completes ($(cat "$T/drain.out"))" grep -q "stream ok" "$T/drain.out"
for _ in $(seq 1 100); do kill -0 "$TPID" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$TPID" 2>/dev/null; then
  not_ok "the proxy exits after SIGTERM once drained"
else
  wait "$TPID" 2>/dev/null
  rc=$?
  check "the proxy exits 0 after SIGTERM once drained (rc=$rc)" test "$rc" -eq 0
fi
check "the shutdown is logged" grep -q 'no longer accepting' "$T/term_echo.log"

# An idle connection does not hold the proxy past --drain-timeout.
proxy_start drain --backend "127.0.0.1:$ECHO_PORT" --cert "$T/server.crt" --key "$T/server.key" \
  --drain-timeout 1 || not_ok "drain proxy started"
DRAIN_PID=$PROXY_PID
timeout 20 python3 - "$PROXY_PORT" "$T/ca.crt" "$T/held" <<'EOF' &
import socket, ssl, sys, time
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5),
                    server_hostname="localhost")
s.sendall(b"ping")
s.recv(4)
open(sys.argv[3], "w").close()
s.settimeout(10)
try:
    while s.recv(100):
        pass
except (OSError, ssl.SSLError):
    pass
EOF
HPID=$!
for _ in $(seq 1 100); do [ -e "$T/held" ] && break; sleep 0.05; done
start=$(date +%s%N)
kill -TERM "$DRAIN_PID"
for _ in $(seq 1 100); do kill -0 "$DRAIN_PID" 2>/dev/null || break; sleep 0.05; done
ms=$((($(date +%s%N) - start) / 1000000))
if kill -0 "$DRAIN_PID" 2>/dev/null; then
  not_ok "with an idle connection open, SIGTERM + --drain-timeout 1 ends the proxy"
else
  wait "$DRAIN_PID"
  rc=$?
  check "with an idle connection open, SIGTERM + --drain-timeout 1 ends the proxy in ${ms} ms (rc=$rc)" \
    test "$rc" -eq 0 -a "$ms" -ge 900 -a "$ms" -lt 3000
fi
check "the held connection is logged with reason shutdown" grep -q 'reason=shutdown' "$T/drain.log"
wait "$HPID" 2>/dev/null

proxy_done
