#!/usr/bin/env bash
# Replaying a 0-RTT first flight (RFC 8446 §8), as an attacker on the path
# can: `certa connect --session --early-data` goes through a relay
# (early_data_replay.py) that records its ClientHello + early-data records;
# those exact bytes are then sent again on fresh TCP connections by a raw
# peer that has no keys. Servers: S1 and S2 are `certa serve --store
# redis://` on one redis-server (started here on loopback, stopped by PID):
# they share ticket keys and the anti-replay record. The early data must be
# read by a server once in all: by S1 for the real client, never for a
# replay to S1 or to S2 (each says it is a replay). Freshness: S3 has the
# same ticket keys from the key file but no Redis (an empty replay store)
# and --early-data-window 1; the flight replayed there seconds later is
# refused for its ticket age. S4 is S3 with the default 10 s window: the
# same replay, in time, is accepted there — one process's store does not
# know another's, which is why a fleet shares Redis — and shows that S3's
# refusal is the age check's.
# "Read" is serve's trace line "read N bytes of 0-RTT early data before the
# handshake completed: "<its bytes>"": the moment a replay would do harm,
# even though a replayer can never finish the handshake.
. "$(dirname "$0")/lib.sh"
need python3 redis-server redis-cli
need_certa

D=$T_TMP
PEER="$(dirname "$0")/early_data_replay.py"
gen_ca ca || not_ok "generate CA"
gen_leaf srv ca || not_ok "generate leaf"
MARK=$(uniq_token)
echo "GET /once?$MARK" >"$D/early.txt"
EARLY_LEN=$(wc -c <"$D/early.txt")

# The fleet's ticket key, made by the tool and put into Redis before any member starts.
"$CERTA" ticket-keys new "$D/fleet.keys" >"$D/keys.out" 2>&1 || not_ok "ticket-keys new"
RPORT=$(free_port)
mkdir -p "$D/redis"
bg "$D/redis.log" redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$D/redis"
REDIS_PID=$BG_PID
if ! wait_for "$D/redis.log" "Ready to accept connections" 10; then
  not_ok "redis-server did not start"
  show "$D/redis.log"
  finish
fi
STORE="redis://127.0.0.1:$RPORT/3"
redis-cli -p "$RPORT" -n 3 -x SET certa:ticket-keys <"$D/fleet.keys" >/dev/null

SRV=(--cert "$D/srv.crt" --key "$D/srv.key" --early-data 4096 --trace)
start_certa_serve s1 "${SRV[@]}" --store "$STORE" || finish
S1_PID=$SERVE_PID S1_PORT=$SERVE_PORT S1_LOG=$SERVE_LOG
start_certa_serve s2 "${SRV[@]}" --store "$STORE" || finish
S2_PID=$SERVE_PID S2_PORT=$SERVE_PORT S2_LOG=$SERVE_LOG
start_certa_serve s3 "${SRV[@]}" --ticket-keys "$D/fleet.keys" --early-data-window 1 || finish
S3_PID=$SERVE_PID S3_PORT=$SERVE_PORT S3_LOG=$SERVE_LOG
start_certa_serve s4 "${SRV[@]}" --ticket-keys "$D/fleet.keys" || finish
S4_PID=$SERVE_PID S4_PORT=$SERVE_PORT S4_LOG=$SERVE_LOG
if grep -q "1 ticket key from $STORE" "$S1_LOG" && grep -q "1 ticket key from $STORE" "$S2_LOG"; then
  ok "S1 and S2 read the fleet's ticket key (the key file's) from Redis"
else
  not_ok "fleet keys from Redis"
  show "$S1_LOG" "$S2_LOG"
fi

# A session whose ticket allows early data, then the 0-RTT connection through the recorder.
connect() { # NAME PORT [ARGS...]
  local name=$1 port=$2
  shift 2
  echo "after-$name" | timeout 20 "$CERTA" connect "127.0.0.1:$port" --servername localhost \
    --trust "$D/ca.crt" --session "$D/sess" --timeout 10 "$@" >"$D/$name.out" 2>"$D/$name.err"
}
connect full "$S1_PORT"
RELAY_PORT=$(free_port)
bg "$D/relay.log" python3 "$PEER" capture "$RELAY_PORT" "$S1_PORT" "$D/flight.bin"
RELAY_PID=$BG_PID
wait_for "$D/relay.log" "relay listening" 10
connect zero "$RELAY_PORT" --early-data "$D/early.txt"
stop "$RELAY_PID"
T_CAPTURED=$(date +%s)
if grep -q "bytes sent as 0-RTT, accepted" "$D/zero.err" && grep -qx "GET /once?$MARK" "$D/zero.out" &&
  grep -Eq "^captured [0-9]+ bytes: records 22,20,23(,23)*$" "$D/relay.log" &&
  wait_for "$S1_LOG" "resumed=yes .*early_data=$EARLY_LEN " 5; then
  ok "certa connect through the recorder: 0-RTT accepted by S1 and echoed; flight recorded ($(sed -n 's/^captured //p' "$D/relay.log"))"
else
  not_ok "the 0-RTT connection to record"
  show "$D/full.err" "$D/zero.err" "$D/relay.log" "$S1_LOG"
fi

# replay NAME PORT LOG: the recorded flight on a fresh connection; waits for the server's line.
replay() {
  python3 "$PEER" replay "$2" "$D/flight.bin" >"$D/$1.out" 2>&1
  wait_for "$3" "handshake failed" 5
}
marks() { grep "read [0-9]* bytes of 0-RTT early data" "$@" | grep -c -- "$MARK"; }

replay r1 "$S1_PORT" "$S1_LOG"
if grep -q "early data rejected: this ticket's early data was accepted before (a replay)" "$S1_LOG" &&
  grep -q "^got records 22" "$D/r1.out" && [ "$(marks "$S1_LOG")" = 1 ]; then
  ok "the flight replayed to S1: resumed (ServerHello sent) but early data rejected as a replay, not read"
else
  not_ok "replay to the same server"
  show "$D/r1.out" "$S1_LOG"
fi
replay r2 "$S2_PORT" "$S2_LOG"
if grep -q "early data rejected: this ticket's early data was accepted before (a replay)" "$S2_LOG" &&
  grep -q "^got records 22" "$D/r2.out" && [ "$(marks "$S2_LOG")" = 0 ]; then
  ok "the flight replayed to S2 (sharing Redis): early data rejected as a replay (the fleet's record), not read"
else
  not_ok "replay to the second server sharing Redis"
  show "$D/r2.out" "$S2_LOG"
fi
total=$(marks "$S1_LOG" "$S2_LOG")
if [ "$total" = 1 ] && [ "$(redis-cli -p "$RPORT" -n 3 --scan --pattern 'certa:replay:*' | wc -l)" = 1 ]; then
  ok "across S1 and S2 the early data was read exactly once (1 replay record in Redis)"
else
  not_ok "early data read $total times across the fleet"
  show "$S1_LOG" "$S2_LOG"
fi

# Control: a server with the keys but not the fleet's store accepts the replay in time.
replay r4 "$S4_PORT" "$S4_LOG"
if grep -q "early data accepted" "$S4_LOG" && [ "$(marks "$S4_LOG")" = 1 ]; then
  ok "control: S4 (same keys, no Redis, its own empty store) accepts the prompt replay — the store is what stops it"
else
  not_ok "control replay to S4"
  show "$D/r4.out" "$S4_LOG"
fi

# Freshness: 1 s window (+1 s slack in whole seconds): replay 4 s after the capture.
while [ $(($(date +%s) - T_CAPTURED)) -lt 4 ]; do sleep 0.2; done
replay r3 "$S3_PORT" "$S3_LOG"
if grep -q "early data rejected: the client's ticket age is not fresh" "$S3_LOG" &&
  grep -q "^got records 22" "$D/r3.out" && [ "$(marks "$S3_LOG")" = 0 ]; then
  ok "the flight replayed after the window to S3 (empty replay store, --early-data-window 1): refused for its ticket age, not read"
else
  not_ok "late replay to S3"
  show "$D/r3.out" "$S3_LOG"
fi
if timeout 5 "$CERTA" serve --port 0 --cert "$D/srv.crt" --key "$D/srv.key" --early-data-window 0 \
  >"$D/badwin.out" 2>&1 || ! grep -q "early-data-window wants a number of seconds" "$D/badwin.out"; then
  not_ok "--early-data-window 0 should be a usage error"
  show "$D/badwin.out"
else
  ok "--early-data-window 0: a usage error naming the range"
fi

for s in 4 3 2 1; do
  eval "SERVE_PID=\$S${s}_PID SERVE_LOG=\$S${s}_LOG"
  stop_certa_serve "s$s"
done
stop "$REDIS_PID"
finish
