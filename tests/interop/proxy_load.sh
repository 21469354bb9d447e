#!/usr/bin/env bash
# certa proxy under load: 500 concurrent connections through bridge ->
# terminate (mutual TLS) -> echo, 300 concurrent Python TLS clients with
# client certificates straight to terminate, the handshake and connection
# caps, and backpressure (a client that never reads does not make the
# proxies buffer without bound). Loopback only, every step bounded.
set -u
# This script measures the proxies' RSS. Under AddressSanitizer, freed
# blocks sit in a quarantine (up to 256 MB) instead of being reused, which
# looks like growth; turn it off here so the figure means what it says.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0:thread_local_quarantine_size_kb=0"
DIR=$(cd "$(dirname "$0")" && pwd)
source "$DIR/proxy_lib.bash"
CLIENT="$DIR/proxy_client.py"
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
proxy_setup
proxy_backend_echo || { not_ok "echo backend did not start"; exit 1; }

proxy_start term --backend "127.0.0.1:$ECHO_PORT" --cert "$T/server.crt" --key "$T/server.key" \
  --client-ca "$T/ca.crt" --allow spiffe://example.org/client --workers 4 \
  || { not_ok "terminate proxy started"; exit 1; }
TERM_PORT=$PROXY_PORT
TERM_PID=$PROXY_PID
proxy_start bridge --upstream "localhost:$TERM_PORT" --trust "$T/ca.crt" --cert "$T/client.crt" \
  --key "$T/client.key" --expect spiffe://example.org/server --workers 2 \
  || { not_ok "bridge proxy started"; exit 1; }
BRIDGE_PORT=$PROXY_PORT
BRIDGE_PID=$PROXY_PID

out=$(timeout 90 python3 "$CLIENT" many 127.0.0.1 "$BRIDGE_PORT" --conns 500 --bytes 4096 \
  --timeout 80 2>"$T/many.err")
check "500 concurrent connections through bridge -> terminate -> echo ($out)" \
  grep -q "many ok 500/500" <<<"$out"
sleep 0.5
n=$(grep -c 'reason=clean' "$T/term.log")
check "the terminate proxy logged 500 clean closes ($n)" test "$n" -eq 500
n=$(grep -c 'reason=clean' "$T/bridge.log")
check "the bridge logged 500 clean closes ($n)" test "$n" -eq 500

TLSOPTS=(--tls --ca "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key" --servername localhost)
out=$(timeout 90 python3 "$CLIENT" many 127.0.0.1 "$TERM_PORT" "${TLSOPTS[@]}" --conns 300 \
  --bytes 20000 --timeout 80 2>"$T/many_tls.err")
check "300 concurrent Python TLS clients with client certificates ($out)" \
  grep -q "many ok 300/300" <<<"$out"

# Caps: 2 handshakes and 20 connections at a time still serve 200 clients
# (the listener pauses at a cap and resumes when a slot frees).
proxy_start capped --backend "127.0.0.1:$ECHO_PORT" --cert "$T/server.crt" \
  --key "$T/server.key" --max-handshakes 2 --max-conns 20 --workers 2 \
  || not_ok "capped proxy started"
proxy_start capped_bridge --upstream "localhost:$PROXY_PORT" --trust "$T/ca.crt" \
  || not_ok "bridge to capped proxy started"
out=$(timeout 90 python3 "$CLIENT" many 127.0.0.1 "$PROXY_PORT" --conns 200 --bytes 1000 \
  --timeout 80 2>"$T/capped.err")
check "--max-handshakes 2 --max-conns 20 still serves 200 clients in turn ($out)" \
  grep -q "many ok 200/200" <<<"$out"

# Backpressure: a client writes for 3 s and never reads. The echo's replies
# back up into the proxies, which stop reading; memory stays bounded.
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
rss_t0=$(rss_kb "$TERM_PID")
rss_b0=$(rss_kb "$BRIDGE_PID")
timeout 30 python3 "$CLIENT" noread 127.0.0.1 "$BRIDGE_PORT" --seconds 3 --marker "$T/noread" \
  --wait 3 >"$T/noread.out" 2>&1 &
NPID=$!
for _ in $(seq 1 200); do [ -e "$T/noread" ] && break; sleep 0.05; done
rss_t1=$(rss_kb "$TERM_PID")
rss_b1=$(rss_kb "$BRIDGE_PID")
sent=$(awk '{print $3}' "$T/noread.out")
check "a client that never reads is throttled: it could write only ${sent:-?} bytes in 3 s" \
  test "${sent:-999999999}" -lt 67108864
check "proxy memory stays bounded meanwhile (terminate ${rss_t0}->${rss_t1} KiB, bridge ${rss_b0}->${rss_b1} KiB)" \
  test $((rss_t1 - rss_t0)) -lt 32768 -a $((rss_b1 - rss_b0)) -lt 32768
wait "$NPID"

# The proxies are still healthy afterwards.
out=$(timeout 30 python3 "$CLIENT" echo 127.0.0.1 "$BRIDGE_PORT" --bytes 100000 2>&1)
check "after the load the chain still echoes ($out)" grep -q "echo ok 100000" <<<"$out"

proxy_done
