#!/usr/bin/env bash
# 0-RTT in a fleet on Redis, and Redis going away and coming back. Two
# `certa proxy --early-data` share one redis-server (started here on loopback
# with its own port, socket and directory, stopped by PID): A over TCP
# (redis://) with --ticket-rotation 4, B over the unix socket (unix:/PATH?db=N)
# with the default 6 h, so any rotation is A's.
#   - a session from A sends 0-RTT to B: accepted (fleet keys), and its copy
#     to A is rejected (the shared replay record, across TCP and unix);
#   - the rotation A makes is read by B, and A's tickets under the new key
#     resume on B;
#   - redis-server killed: each member says so once (keys, and anti-replay),
#     0-RTT is rejected while full and resumed handshakes go on;
#   - redis-server back (empty: it had no persistence): each says so once,
#     the fleet's keys are made again and 0-RTT is accepted again;
#   - a Redis that accepts and never answers: certa serve's handshakes go on
#     (each call times out) and 0-RTT is rejected.
. "$(dirname "$0")/lib.sh"
need python3 redis-server redis-cli
need_certa

D=$T_TMP
gen_ca ca || not_ok "generate CA"
gen_leaf srv ca || not_ok "generate leaf"
RPORT=$(free_port)
SOCK="$D/redis.sock"
start_redis() {
  bg "$D/redis.log" redis-server --port "$RPORT" --bind 127.0.0.1 --unixsocket "$SOCK" \
    --unixsocketperm 700 --save "" --appendonly no --dir "$D"
  REDIS_PID=$BG_PID
  wait_for "$D/redis.log" "Ready to accept connections" 10
}
if ! start_redis; then
  not_ok "redis-server did not start"
  show "$D/redis.log"
  finish
fi
TCP_URL="redis://127.0.0.1:$RPORT/4"
UNIX_URL="unix:$SOCK?db=4"
UNIX_RE="unix:$SOCK\\?db=4" # for wait_for's grep -E
EARLY="$D/early.txt"
echo "early-$(uniq_token)" >"$EARLY"

# zero NAME PORT SESSION: certa connect sending $EARLY (0-RTT if the session allows).
zero() {
  timeout 20 "$CERTA" connect "127.0.0.1:$2" --servername localhost --trust "$D/ca.crt" \
    --session "$3" --early-data "$EARLY" --timeout 10 </dev/null >"$D/$1.out" 2>"$D/$1.err"
}
accepted() { grep -q "bytes sent as 0-RTT, accepted" "$D/$1.err"; }
rejected() { grep -q "bytes sent as 0-RTT, rejected by the server: sent again after the handshake" "$D/$1.err"; }
resumed() { grep -q '^\* resumed: *yes (session ticket)$' "$D/$1.err"; }
echoed() { grep -qx -- "$(cat "$EARLY")" "$D/$1.out"; }

start_echo_backend || {
  not_ok "echo backend"
  finish
}
PX=(--backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" --early-data 4096)
start_proxy px-a "${PX[@]}" --store "$TCP_URL" --ticket-rotation 4 || not_ok "proxy A did not start"
A_PID=$PROXY_PID A_PORT=$PROXY_PORT A_LOG=$PROXY_LOG
start_proxy px-b "${PX[@]}" --store "$UNIX_URL" || not_ok "proxy B did not start"
B_PID=$PROXY_PID B_PORT=$PROXY_PORT B_LOG=$PROXY_LOG
if wait_for "$B_LOG" "store: 1 ticket key from $UNIX_RE" 5; then
  ok "proxy B reads the fleet's key over the unix socket ($UNIX_URL)"
else
  not_ok "unix: store"
  show "$A_LOG" "$B_LOG"
fi

rm -f "$D/s1"
zero a0 "$A_PORT" "$D/s1" # full handshake: a ticket that allows early data
cp "$D/s1" "$D/s1.copy"
zero b1 "$B_PORT" "$D/s1"
zero a1 "$A_PORT" "$D/s1.copy"
if accepted b1 && echoed b1 && rejected a1 && resumed a1 && echoed a1; then
  ok "a session from A: its 0-RTT accepted by B; the same ticket's at A rejected (one record over TCP and unix), resent after the handshake"
else
  not_ok "0-RTT across the fleet"
  show "$D/b1.err" "$D/a1.err" "$A_LOG" "$B_LOG"
fi

# ---- rotation on A, seen by B ----
if wait_for "$A_LOG" "rotated the fleet's ticket keys in $TCP_URL" 15 &&
  wait_for "$B_LOG" "store: 2 ticket keys from $UNIX_RE" 10 &&
  ! grep -q "rotated the fleet's ticket keys" "$B_LOG"; then
  ok "A rotates the fleet's keys (--ticket-rotation 4); B reads the new set (2 keys) and did not rotate"
else
  not_ok "rotation on A seen by B"
  show "$A_LOG" "$B_LOG"
fi
sleep 6 # the new key seals from 5 s after it was published
rm -f "$D/s2"
zero a2 "$A_PORT" "$D/s2"
zero b2 "$B_PORT" "$D/s2"
if accepted b2 && resumed b2; then
  ok "a ticket A sealed after its rotation resumes on B, with 0-RTT"
else
  not_ok "post-rotation ticket from A on B"
  show "$D/b2.err" "$B_LOG"
fi

# ---- Redis goes away ----
rm -f "$D/s3" "$D/s4"
zero a3 "$A_PORT" "$D/s3" # sessions taken while Redis is up
zero b3 "$B_PORT" "$D/s4"
stop "$REDIS_PID"
wait_for "$A_LOG" "store: $TCP_URL unreachable" 10
wait_for "$B_LOG" "store: $UNIX_RE unreachable" 10
zero a4 "$A_PORT" "$D/s3"
zero b4 "$B_PORT" "$D/s4"
rm -f "$D/s5"
zero a5 "$A_PORT" "$D/s5" # full handshake
zero a6 "$A_PORT" "$D/s5" # resumed, 0-RTT attempted again
sleep 2.5 # more polls of the keys thread: still one line
if rejected a4 && resumed a4 && echoed a4 && rejected b4 && resumed b4 && echoed b4 &&
  echoed a5 && ! resumed a5 && rejected a6 && resumed a6; then
  ok "Redis down: 0-RTT rejected on both (fail closed), resumed and full handshakes go on, the data resent"
else
  not_ok "serving with Redis down"
  show "$D/a4.err" "$D/b4.err" "$D/a6.err" "$A_LOG"
fi
na=$(grep -c "store: $TCP_URL unreachable" "$A_LOG")
nb=$(grep -c "store: $UNIX_URL unreachable" "$B_LOG")
ra=$(grep -c "anti-replay on $TCP_URL unavailable" "$A_LOG")
rb=$(grep -c "anti-replay on $UNIX_URL unavailable" "$B_LOG")
if [ "$na" = 1 ] && [ "$nb" = 1 ] && [ "$ra" = 1 ] && [ "$rb" = 1 ] &&
  grep -q "handshakes go on with the ticket keys held here" "$A_LOG" &&
  grep -q "early data is rejected until it is back" "$B_LOG"; then
  ok "each member says once that Redis is unreachable (keys) and once that anti-replay is unavailable"
else
  not_ok "down log lines: keys $na/$nb, anti-replay $ra/$rb (want 1 each)"
  show "$A_LOG" "$B_LOG"
fi

# ---- Redis comes back (empty) ----
# wait_count FIXED N SECS FILE...: until the files have N lines containing FIXED.
wait_count() {
  local fixed=$1 n=$2 secs=$3 i
  shift 3
  for i in $(seq $((secs * 10))); do
    [ "$(cat "$@" | grep -cF -- "$fixed")" -ge "$n" ] && return 0
    sleep 0.1
  done
  return 1
}
nb_keys=$(grep -cF "ticket key" "$B_LOG")
# Whichever member polls first remakes the keys (the first start made them once).
if start_redis && wait_count "yet: created them" 2 10 "$A_LOG" "$B_LOG"; then
  # B takes the remade keys on its next poll; the anti-replay connection
  # retries a second after its last failure.
  wait_count "ticket key" $((nb_keys + 1)) 10 "$B_LOG"
  sleep 1.2
  rm -f "$D/s6"
  zero a7 "$A_PORT" "$D/s6"
  zero b7 "$B_PORT" "$D/s6"
  if accepted b7 && echoed b7 && grep -q "anti-replay on $UNIX_URL is back" "$B_LOG" &&
    [ "$(grep -c "$TCP_URL reachable" "$A_LOG")" = 2 ] &&
    [ "$(grep -c "$UNIX_URL reachable" "$B_LOG")" = 2 ] &&
    [ "$(grep -c "anti-replay on $UNIX_URL is back" "$B_LOG")" = 1 ]; then
    ok "Redis back: each member says so once (reachable again, anti-replay back), the fleet's keys are remade and 0-RTT is accepted again"
  else
    not_ok "Redis back"
    show "$D/b7.err" "$A_LOG" "$B_LOG"
  fi
else
  not_ok "redis-server did not restart, or no member remade the keys"
  show "$D/redis.log" "$A_LOG"
fi
PROXY_PID=$B_PID PROXY_LOG=$B_LOG
stop_proxy px-b
PROXY_PID=$A_PID PROXY_LOG=$A_LOG
stop_proxy px-a
stop "$REDIS_PID"
stop "$ECHO_PID"

# ---- a Redis that never answers ----
HPORT=$(free_port)
cat >"$D/hung.py" <<'EOF'
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
print("hung redis listening", flush=True)
held = []
end = time.time() + 60
s.settimeout(1)
while time.time() < end:
    try:
        c, _ = s.accept()
        held.append(c)  # read nothing, answer nothing
    except socket.timeout:
        pass
EOF
bg "$D/hung.log" python3 "$D/hung.py" "$HPORT"
HUNG_PID=$BG_PID
wait_for "$D/hung.log" "hung redis listening" 10
if start_certa_serve serve-hung --cert "$D/srv.crt" --key "$D/srv.key" --early-data 4096 \
  --store "redis://127.0.0.1:$HPORT"; then
  rm -f "$D/s7"
  zero h1 "$SERVE_PORT" "$D/s7"
  zero h2 "$SERVE_PORT" "$D/s7"
  wait_for "$SERVE_LOG" "^conn #2 from .*ended" 5
  # handshake=N ms: a liveness bound (50 x the 20 ms call timeout), not a speed claim
  ms=$(sed -n 's/^conn #2 from .* handshake=\([0-9]*\) ms.*/\1/p' "$SERVE_LOG")
  if echoed h1 && rejected h2 && resumed h2 && echoed h2 && [ -n "$ms" ] && [ "$ms" -lt 1000 ] &&
    grep -q "anti-replay on redis://127.0.0.1:$HPORT unavailable" "$SERVE_LOG" &&
    grep -q "store: redis://127.0.0.1:$HPORT unreachable" "$SERVE_LOG"; then
    ok "a Redis that never answers: handshakes go on (the 0-RTT one in $ms ms), 0-RTT rejected, both unavailable lines logged"
  else
    not_ok "hung Redis (handshake ${ms:-?} ms)"
    show "$D/h1.err" "$D/h2.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-hung
fi
stop "$HUNG_PID"
finish
