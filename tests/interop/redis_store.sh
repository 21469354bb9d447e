#!/usr/bin/env bash
# Fleet mode on Redis: a redis-server started here on loopback (and stopped
# at the end) holds the ticket keys of two `certa proxy` processes and a
# `certa serve` given --store redis://...: a session from proxy A resumes on
# proxy B and on serve; a rotation made by one member (--ticket-rotation) is
# seen by the others; with redis-server killed every member keeps serving
# full and resumed handshakes, and says so once.
. "$(dirname "$0")/lib.sh"
need openssl redis-server redis-cli
need_certa

D=$T_TMP
gen_ca ca || not_ok "generate CA"
gen_leaf srv ca || not_ok "generate leaf"
RPORT=$(free_port)
bg "$D/redis.log" redis-server --port "$RPORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$D"
REDIS_PID=$BG_PID
if ! wait_for "$D/redis.log" "Ready to accept connections" 10; then
  not_ok "redis-server did not start"
  show "$D/redis.log"
  finish
fi
STORE="redis://127.0.0.1:$RPORT/2"
connect_to() { # NAME PORT: one connection offering/storing the session in $D/sess
  echo hi | timeout 20 "$CERTA" connect "127.0.0.1:$2" --servername localhost \
    --trust "$D/ca.crt" --session "$D/sess" --timeout 10 >"$D/$1.out" 2>"$D/$1.err"
}
resumed() { grep -q '^\* resumed: *yes (session ticket)$' "$D/$1.err"; }

if ! start_echo_backend; then
  not_ok "echo backend"
  finish
fi
start_proxy px-a --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --store "$STORE" --ticket-rotation 4 || not_ok "proxy A did not start"
A_PID=$PROXY_PID A_PORT=$PROXY_PORT A_LOG=$PROXY_LOG
start_proxy px-b --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --store "$STORE" --ticket-rotation 4 || not_ok "proxy B did not start"
B_PID=$PROXY_PID B_PORT=$PROXY_PORT B_LOG=$PROXY_LOG
start_certa_serve serve-c --cert "$D/srv.crt" --key "$D/srv.key" --store "$STORE" \
  --ticket-rotation 4 || not_ok "serve did not start"

if grep -q "store: no ticket keys in $STORE yet: created them" "$A_LOG" &&
  grep -q "store: 1 ticket key from $STORE" "$B_LOG" &&
  redis-cli -p "$RPORT" -n 2 GET certa:ticket-keys | grep -q '^certa-ticket-keys 1$'; then
  ok "the first member creates the fleet's keys in Redis; the others read them"
else
  not_ok "keys in Redis"
  show "$A_LOG" "$B_LOG"
fi
rm -f "$D/sess"
connect_to a1 "$A_PORT"
connect_to b1 "$B_PORT"
connect_to c1 "$SERVE_PORT"
if ! resumed a1 && resumed b1 && resumed c1 && grep -q hi "$D/b1.out"; then
  ok "a session from proxy A resumes on proxy B, then on certa serve"
else
  not_ok "fleet resumption"
  show "$D/b1.err" "$D/c1.err" "$B_LOG"
fi
cp "$D/sess" "$D/sess.before"
if wait_for "$A_LOG" "rotated the fleet's ticket keys" 15 || wait_for "$B_LOG" "rotated the fleet's ticket keys" 5 ||
  grep -q "rotated the fleet's ticket keys" "$SERVE_LOG"; then
  rotations=$(cat "$A_LOG" "$B_LOG" "$SERVE_LOG" | grep -c "rotated the fleet's ticket keys")
  ok "a member rotates the fleet's keys when due ($rotations rotation(s) by then)"
else
  not_ok "rotation through Redis"
  show "$A_LOG" "$B_LOG" "$SERVE_LOG"
fi
if wait_for "$B_LOG" "store: 2 ticket keys from" 10 && wait_for "$SERVE_LOG" "store: 2 ticket keys from" 10; then
  ok "the rotation is seen by the other members"
else
  not_ok "rotation seen"
  show "$B_LOG" "$SERVE_LOG"
fi
sleep 6 # the new key seals from 5 s after it was published
connect_to b2 "$B_PORT"
if resumed b2; then
  ok "after the rotation the older ticket still resumes"
else
  not_ok "older ticket after rotation"
  show "$D/b2.err"
fi
connect_to a2 "$A_PORT" # a ticket under the new key from A... resumed, on to B
connect_to b3 "$B_PORT"
if resumed b3; then
  ok "a ticket sealed after the rotation resumes on another member"
else
  not_ok "new-key ticket across members"
  show "$D/b3.err" "$B_LOG"
fi

# ---- 0-RTT across the fleet: one ticket's early data accepted once ----
EARLY="$D/early.txt"
echo "early-$RANDOM$RANDOM" >"$EARLY"
early() { # NAME PORT SESSION
  timeout 20 "$CERTA" connect "127.0.0.1:$2" --servername localhost --trust "$D/ca.crt" \
    --session "$3" --early-data "$EARLY" --timeout 10 </dev/null >"$D/$1.out" 2>"$D/$1.err"
}
if start_certa_serve serve-e1 --cert "$D/srv.crt" --key "$D/srv.key" --store "$STORE" \
  --early-data 4096; then
  E1_PID=$SERVE_PID E1_PORT=$SERVE_PORT E1_LOG=$SERVE_LOG
  if start_certa_serve serve-e2 --cert "$D/srv.crt" --key "$D/srv.key" --store "$STORE" \
    --early-data 4096; then
    rm -f "$D/esess"
    early e0 "$E1_PORT" "$D/esess" # a full handshake: the ticket allows early data
    cp "$D/esess" "$D/esess.copy"
    early e1 "$E1_PORT" "$D/esess"
    early e2 "$SERVE_PORT" "$D/esess.copy" # the same ticket, at the other member
    if grep -q "bytes sent as 0-RTT, accepted" "$D/e1.err" &&
      grep -q "bytes sent as 0-RTT, rejected by the server: sent again after the handshake" \
        "$D/e2.err" && grep -q "resumed=yes .*early_data=rejected" "$SERVE_LOG" &&
      grep -q "$(cat "$EARLY")" "$D/e2.out" &&
      [ "$(redis-cli -p "$RPORT" -n 2 --scan --pattern 'certa:replay:*' | wc -l)" -ge 1 ]; then
      ok "a ticket's early data accepted by one server is rejected by the other (shared replay record); resent after the handshake"
    else
      not_ok "fleet anti-replay"
      show "$D/e1.err" "$D/e2.err" "$SERVE_LOG"
    fi
    stop_certa_serve serve-e2
  fi
  SERVE_PID=$E1_PID SERVE_LOG=$E1_LOG
  stop_certa_serve serve-e1
fi
# the proxy forwards accepted early data to its backend, and logs it
if start_proxy px-e --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --store "$STORE" --early-data 4096; then
  rm -f "$D/psess"
  early pe0 "$PROXY_PORT" "$D/psess"
  early pe1 "$PROXY_PORT" "$D/psess"
  if grep -q "bytes sent as 0-RTT, accepted" "$D/pe1.err" && grep -q "$(cat "$EARLY")" "$D/pe1.out" &&
    grep -Eq "early_data=[0-9]+" "$PROXY_LOG"; then
    ok "proxy --early-data: accepted 0-RTT reaches the backend (echoed), logged early_data=N"
  else
    not_ok "proxy early data"
    show "$D/pe1.err" "$PROXY_LOG"
  fi
  stop_proxy px-e
fi

# ---- Redis goes away ----
stop "$REDIS_PID"
if wait_for "$A_LOG" "store: $STORE unreachable .*handshakes go on" 10 &&
  wait_for "$B_LOG" "store: $STORE unreachable" 10; then
  ok "redis-server killed: each member says so once"
else
  not_ok "store down log"
  show "$A_LOG" "$B_LOG"
fi
sleep 3
n_down=$(grep -c "store: $STORE unreachable" "$A_LOG")
connect_to b4 "$B_PORT"
rm -f "$D/sess"
connect_to a3 "$A_PORT"
connect_to a4 "$A_PORT"
if grep -q hi "$D/b4.out" && grep -q hi "$D/a3.out" && resumed a4 && [ "$n_down" -eq 1 ]; then
  ok "with Redis down the members keep serving full and resumed handshakes (one log line)"
else
  not_ok "serving with Redis down ($n_down down lines)"
  show "$D/a4.err" "$A_LOG"
fi
stop_certa_serve serve-c
PROXY_PID=$B_PID PROXY_LOG=$B_LOG
stop_proxy px-b
PROXY_PID=$A_PID PROXY_LOG=$A_LOG
stop_proxy px-a
stop "$ECHO_PID"

if ! timeout 10 "$CERTA" proxy --listen 127.0.0.1:0 --backend 127.0.0.1:1 --cert "$D/srv.crt" \
  --key "$D/srv.key" --store "memcached://x" >"$D/bad.out" 2>&1 &&
  grep -q "expected redis://HOST:PORT" "$D/bad.out"; then
  ok "--store with another scheme: a usage error naming the forms"
else
  not_ok "bad --store"
  show "$D/bad.out"
fi
finish
