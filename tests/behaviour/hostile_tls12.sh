#!/usr/bin/env bash
# Hostile TLS 1.2 peers (tests/behaviour/raw_peer12.py), both directions:
#
# 1. raw TLS 1.2 clients against `certa serve --min-version 1.2` (a 1.2+1.3
#    server): ChangeCipherSpec before ClientKeyExchange (the CCS-injection
#    attack) and right after ClientHello, Finished before ChangeCipherSpec,
#    ChangeCipherSpec twice, a garbled / truncated / wrongly keyed Finished,
#    invalid ECDHE points (P-256 off the curve, x25519 all zero), a non-empty
#    renegotiation_info, no extended_master_secret, TLS_FALLBACK_SCSV, and a
#    second ClientHello after the handshake (warning no_renegotiation, then
#    the connection still echoes). Each case asserts the exact alert (fatal,
#    then the close, within the timeout); after each, the same server must
#    complete a clean TLS 1.2 handshake and echo. The server's log must name
#    the reason for the EMS refusal.
# 2. raw TLS 1.2 servers against `certa connect --min-version 1.2` (which
#    offers 1.3 too): a control handshake, the downgrade sentinel, no EMS, a
#    session ID echoed without a ticket, a non-empty renegotiation_info, CCS
#    before ServerHelloDone, a bad ServerKeyExchange signature, a wrong
#    Finished; certa's exit status, CERTA_E_ code and alert are checked.
#
# Every process has a bounded timeout; the server is stopped by its PID.
# Env: CERTA (default build/certa). Needs python3 and openssl; part 2 needs
# python3's cryptography module (skipped without it). Loopback only.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
PEER="$ROOT/tests/behaviour/raw_peer12.py"
CERTA=${CERTA:-$ROOT/build/certa}
TIMEOUT=${HOSTILE_TIMEOUT:-5}
START=$SECONDS

if ! command -v python3 >/dev/null || ! command -v openssl >/dev/null; then
  echo "skip - hostile_tls12: python3 and openssl are needed"
  echo "ok - hostile_tls12: nothing to run without python3/openssl"
  exit 0
fi
if [ ! -x "$CERTA" ]; then
  echo "not ok - hostile_tls12: certa binary not found at $CERTA"
  exit 1
fi

TMP=$(mktemp -d)
SERVER_PID=""
SRV_PID=""
stop_pid() {
  local pid=$1
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
}
cleanup() {
  stop_pid "$SERVER_PID"
  stop_pid "$SRV_PID"
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
report() { "$@" | tee -a "$TMP/results"; return "${PIPESTATUS[0]}"; }

# ---- part 1: raw clients against certa serve --min-version 1.2 ----
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 2 -subj /CN=localhost \
      -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >"$TMP/req.log" 2>&1; then
  echo "not ok - hostile_tls12: could not make a test certificate: $(tail -n 3 "$TMP/req.log")"
  exit 1
fi
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$CERTA" serve --cert "$TMP/cert.pem" --key "$TMP/key.pem" --host 127.0.0.1 --port "$PORT" \
  --min-version 1.2 </dev/null >"$TMP/server.out" 2>"$TMP/server.err" &
SERVER_PID=$!
ready=""
for _ in $(seq 1 100); do
  grep -q "listening on" "$TMP/server.err" 2>/dev/null && { ready=1; break; }
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$ready" ]; then
  echo "not ok - hostile_tls12: certa serve --min-version 1.2 did not become ready: $(tail -n 3 "$TMP/server.err" | tr '\n' ' ')"
  exit 1
fi
server_alive() { kill -0 "$SERVER_PID" 2>/dev/null; }

report timeout 30 python3 "$PEER" --timeout "$TIMEOUT" 127.0.0.1 "$PORT" --handshake
mapfile -t CASES < <(python3 "$PEER" --list)
for c in "${CASES[@]}"; do
  if ! server_alive; then
    report echo "not ok - $c: not run, the server process is gone"
    continue
  fi
  report timeout 60 python3 "$PEER" --health --timeout "$TIMEOUT" 127.0.0.1 "$PORT" "$c"
  rc=$?
  [ "$rc" -gt 1 ] && report echo "not ok - $c: raw_peer12.py exited with $rc"
done
if grep -q "CERTA_E_NO_EXTENDED_MASTER_SECRET, alert handshake_failure: the client does not support the extended master secret (RFC 7627)" "$TMP/server.err"; then
  report echo "ok - the server's log names the EMS refusal: CERTA_E_NO_EXTENDED_MASTER_SECRET, handshake_failure, and why"
else
  report echo "not ok - the server's log does not explain the EMS refusal: $(grep -m1 -i 'master secret' "$TMP/server.err")"
fi
if grep -q "CERTA_E_UNEXPECTED_MESSAGE, alert unexpected_message: the peer sent ChangeCipherSpec before the keys were agreed" "$TMP/server.err"; then
  report echo "ok - the server's log names the early ChangeCipherSpec"
else
  report echo "not ok - the server's log does not name the early ChangeCipherSpec"
fi
if server_alive; then
  report echo "ok - certa serve --min-version 1.2 still running after all cases"
else
  report echo "not ok - certa serve exited during the run: $(tail -n 5 "$TMP/server.err" | tr '\n' ' ')"
fi
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/server.err"; then
  report echo "not ok - sanitizer report in the server's stderr: $(grep -m1 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/server.err")"
fi
stop_pid "$SERVER_PID"
SERVER_PID=""

# ---- part 2: raw servers against certa connect --min-version 1.2 ----
if ! python3 -c 'import cryptography' 2>/dev/null; then
  report echo "skip - hostile_tls12 servers: python3's cryptography module is needed"
else
  while IFS=$'\t' read -r name codes alerts; do
    : >"$TMP/srv.out"
    python3 "$PEER" --serve "$name" --timeout "$TIMEOUT" >"$TMP/srv.out" 2>"$TMP/srv.err" &
    SRV_PID=$!
    port=""
    for _ in $(seq 1 100); do
      port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$TMP/srv.out")
      [ -n "$port" ] && break
      sleep 0.05
    done
    if [ -z "$port" ]; then
      report echo "not ok - $name: the raw server did not start: $(tail -n 3 "$TMP/srv.err" | tr '\n' ' ')"
      stop_pid "$SRV_PID"
      SRV_PID=""
      continue
    fi
    t0=$SECONDS
    timeout 30 "$CERTA" connect "127.0.0.1:$port" --insecure --servername localhost --timeout 4 \
      --min-version 1.2 </dev/null >"$TMP/out" 2>"$TMP/err"
    rc=$?
    took=$((SECONDS - t0))
    # the raw server ends by itself (its reads time out); bounded anyway
    for _ in $(seq 1 100); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
    stop_pid "$SRV_PID"
    SRV_PID=""
    err=$(tr '\n' ' ' <"$TMP/err" | cut -c1-400)
    srv=$(grep '^# server' "$TMP/srv.out" | head -n 1 | cut -c1-200)
    why=""
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/err"; then
      why="sanitizer report: $(grep -m1 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/err")"
    elif [ "$rc" -eq 124 ]; then
      why="certa connect hung (killed after 30 s)"
    elif grep -q "harness error" "$TMP/srv.out"; then
      why="raw server: $srv"
    elif [ -z "$codes" ]; then
      [ "$rc" -eq 0 ] && grep -q "TLSv1.2\|TLS 1.2" "$TMP/err" || why="expected a TLS 1.2 success, got exit $rc: $err"
    elif [ "$rc" -eq 0 ]; then
      why="expected exit != 0 naming $codes, got success: $err"
    elif ! grep -q "$codes" "$TMP/err"; then
      why="expected $codes, got exit $rc: $err"
    elif [ -n "$alerts" ] && ! grep -q "alert $alerts" "$TMP/err"; then
      why="named $codes but not the alert $alerts: $err"
    elif [ -n "$alerts" ] && ! grep -q -e "level 2 $alerts" -e "record type 21 (18 bytes)" "$TMP/srv.out"; then
      # a fatal alert in clear, or a protected one (2 bytes + tag) after certa's ChangeCipherSpec
      why="the raw server did not receive a fatal $alerts alert: $srv"
    fi
    if [ -z "$why" ]; then
      report echo "ok - $name (exit $rc${codes:+, $codes}${alerts:+, alert $alerts}, ${took}s)"
    else
      report echo "not ok - $name: $why [$srv]"
    fi
  done < <(python3 "$PEER" --serve-list)
fi

passed=$(grep -c '^ok - ' "$TMP/results")
failed=$(grep -c '^not ok - ' "$TMP/results")
echo "# hostile_tls12: $passed passed, $failed failed in $((SECONDS - START))s"
[ "$failed" -eq 0 ]
