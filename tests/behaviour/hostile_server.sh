#!/usr/bin/env bash
# Hostile-client behaviour of `certa serve`: one server, then one connection per
# case from tests/behaviour/raw_peer.py (malformed records, bad ClientHellos,
# GREASE, fragmentation, bad Finished, ...). Each case prints "ok - <case>" or
# "not ok - <case>: <what happened>"; after each one the same server must still
# complete a full handshake and echo ("ok - server still serves after <case>").
#
# Env: CERTA (the certa binary; default build/certa). HOSTILE_SERVER=openssl
# runs the same cases against `openssl s_server -tls1_3 -rev` instead, to
# check the harness itself. HOSTILE_TIMEOUT: per-read timeout (default 5 s).
# Needs: python3, openssl (CLI, for the test certificate). Loopback only.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
PEER="$ROOT/tests/behaviour/raw_peer.py"
CERTA=${CERTA:-$ROOT/build/certa}
MODE=${HOSTILE_SERVER:-certa}
TIMEOUT=${HOSTILE_TIMEOUT:-5}
BUDGET=120         # seconds for the whole script; later cases get less time (two cases wait out the 10 s handshake timeout)
START=$SECONDS

if ! command -v python3 >/dev/null || ! command -v openssl >/dev/null; then
  echo "skip - hostile_server: python3 and openssl are needed"
  echo "ok - hostile_server: nothing to run without python3/openssl"
  exit 0
fi
if [ "$MODE" = certa ] && [ ! -x "$CERTA" ]; then
  echo "not ok - hostile_server: certa binary not found at $CERTA"
  exit 1
fi

TMP=$(mktemp -d)
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# ECDSA P-256 self-signed certificate.
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 -subj /CN=localhost \
      -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >"$TMP/req.log" 2>&1; then
  echo "not ok - hostile_server: could not make a test certificate: $(tail -n 3 "$TMP/req.log")"
  exit 1
fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Start the server and wait (bounded) until it is ready.
start_server() {
  PORT=$(free_port)
  : >"$TMP/server.err"
  if [ "$MODE" = openssl ]; then
    openssl s_server -tls1_3 -accept "127.0.0.1:$PORT" -cert "$TMP/cert.pem" \
      -key "$TMP/key.pem" -rev </dev/null >"$TMP/server.out" 2>"$TMP/server.err" &
    READY_FILE=$TMP/server.out READY_TEXT="ACCEPT"
  else
    "$CERTA" serve --cert "$TMP/cert.pem" --key "$TMP/key.pem" --host 127.0.0.1 \
      --port "$PORT" </dev/null >"$TMP/server.out" 2>"$TMP/server.err" &
    READY_FILE=$TMP/server.err READY_TEXT="listening on"
  fi
  SERVER_PID=$!
  for _ in $(seq 1 100); do
    grep -q "$READY_TEXT" "$READY_FILE" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}

if ! start_server; then
  echo "not ok - hostile_server: server did not become ready within 10 s: $(tail -n 5 "$TMP/server.err" | tr '\n' ' ')"
  exit 1
fi

server_alive() { kill -0 "$SERVER_PID" 2>/dev/null; }

# Per-case timeout, shrunk so the whole script stays within the budget.
case_timeout() {
  local left=$((BUDGET - (SECONDS - START)))
  if [ "$left" -le 1 ]; then echo 1; elif [ "$left" -lt "$TIMEOUT" ]; then echo "$left"; else echo "$TIMEOUT"; fi
}

health() {  # $1: label
  if ! server_alive; then
    echo "not ok - $1: the server process is gone ($(tail -n 3 "$TMP/server.err" | tr '\n' ' '))"
    return 1
  fi
  timeout 30 python3 "$PEER" --timeout "$(case_timeout)" --label "$1" 127.0.0.1 "$PORT" --handshake \
    || { server_alive || echo "# the server process died: $(tail -n 3 "$TMP/server.err" | tr '\n' ' ')"; }
}

# Every result line also goes to $TMP/results, to set the exit status.
report() { "$@" | tee -a "$TMP/results"; return "${PIPESTATUS[0]}"; }

report python3 "$PEER" --selftest
report health "baseline handshake and echo"

mapfile -t CASES < <(python3 "$PEER" --list)
for c in "${CASES[@]}"; do
  if [ $((SECONDS - START)) -ge "$BUDGET" ]; then
    report echo "not ok - $c: not run, the ${BUDGET}s time budget is spent (earlier cases hung)"
    continue
  fi
  if ! server_alive; then
    report echo "not ok - $c: not run, the server process is gone"
    continue
  fi
  report timeout 40 python3 "$PEER" --health --timeout "$(case_timeout)" 127.0.0.1 "$PORT" "$c"
  rc=$?
  [ "$rc" -gt 1 ] && report echo "not ok - $c: raw_peer.py exited with $rc"
  server_alive || echo "# the server process died: $(tail -n 3 "$TMP/server.err" | tr '\n' ' ')"
done

# The project's own client against the same server, as the brief's health check.
if [ "$MODE" = certa ] && server_alive; then
  out=$(printf 'x\n' | timeout 15 "$CERTA" connect "127.0.0.1:$PORT" --insecure --quiet --timeout 5 2>"$TMP/connect.err")
  if [ "$out" = x ]; then
    report echo "ok - certa connect --insecure: handshake and echo after all cases"
  else
    report echo "not ok - certa connect --insecure: got '$out': $(tail -n 3 "$TMP/connect.err" | tr '\n' ' ')"
  fi
fi

if server_alive; then
  report echo "ok - server process still running after all cases"
else
  report echo "not ok - server process exited during the run: $(tail -n 5 "$TMP/server.err" | tr '\n' ' ')"
fi
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/server.err"; then
  report echo "not ok - sanitizer report in the server's stderr: $(grep -m1 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/server.err")"
fi
passed=$(grep -c '^ok - ' "$TMP/results")
failed=$(grep -c '^not ok - ' "$TMP/results")
echo "# hostile_server: $passed passed, $failed failed in $((SECONDS - START))s against $MODE"
[ "$failed" -eq 0 ]
