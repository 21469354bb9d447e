#!/usr/bin/env bash
# A ClientHello over 1,500 bytes — the post-quantum default's — cut into two
# records and two TCP segments 300 ms apart (split_hello_relay.py) must get
# through every server path: certa serve (its echo comes back) and certa
# proxy (terminating, to an echo backend), from certa connect and from
# bssl's client.
. "$(dirname "$0")/lib.sh"
need python3
need_certa
BSSL=${CERTA_BSSL:-$REPO_DIR/../shared/peers/bssl}
gen_cert ecdsa srv
RELAY=$LIB_DIR/split_hello_relay.py

# through NAME TARGET_PORT CLIENT...: the client (which reads its data from
# stdin and talks to 127.0.0.1:@PORT@) through the relay; sets OUT, CH_SIZE.
through() {
  local name=$1 target=$2 a args=()
  shift 2
  start_port_server "relay-$name" 'relay listening' python3 "$RELAY" @PORT@ "$target" \
    "$T_TMP/$name.report" || return 1
  local rpid=$SRV_PID rport=$SRV_PORT
  for a in "$@"; do args+=("${a//@PORT@/$rport}"); done
  TOKEN=$(uniq_token)
  OUT=$( (echo "$TOKEN"; sleep 2) | timeout 20 "${args[@]}" 2>&1)
  wait "$rpid" 2>/dev/null
  CH_SIZE=$(awk '/clienthello/ {print $2}' "$T_TMP/$name.report" 2>/dev/null)
}
big() { [ -n "$CH_SIZE" ] && [ "$CH_SIZE" -gt 1500 ]; }

start_certa_serve serve --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key"
through c-serve "$SERVE_PORT" "$CERTA" connect 127.0.0.1:@PORT@ --insecure --timeout 10 \
  --alpn h2,http/1.1,spiffe-demo/1 --servername a-rather-long-workload-name.payments.internal.example.com
wait_for "$SERVE_LOG" '^conn #1 ' 5
if big && echo "$OUT" | grep -q "^$TOKEN" && grep '^conn #1 ' "$SERVE_LOG" | grep -q X25519MLKEM768; then
  ok "certa connect -> certa serve, a $CH_SIZE-byte ClientHello in two records and segments"
else
  not_ok "certa connect -> certa serve through the splitting relay (ClientHello ${CH_SIZE:-?} bytes)"
  echo "$OUT" | tail -4 | sed 's/^/# /'
  show "$SERVE_LOG"
fi
if [ -x "$BSSL" ]; then
  through b-serve "$SERVE_PORT" "$BSSL" client -connect 127.0.0.1:@PORT@ \
    -curves X25519MLKEM768:X25519 -server-name a-rather-long-workload-name.payments.internal.example.com
  if [ -n "$CH_SIZE" ] && echo "$OUT" | grep -q "ECDHE group: X25519MLKEM768" && echo "$OUT" | grep -q "$TOKEN"; then
    ok "bssl client -> certa serve, a $CH_SIZE-byte ClientHello in two records and segments"
  else
    not_ok "bssl client -> certa serve through the splitting relay"
    echo "$OUT" | tail -4 | sed 's/^/# /'
  fi
fi
stop_certa_serve serve

start_echo_backend
start_proxy proxy --backend "127.0.0.1:$ECHO_PORT" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key"
through c-proxy "$PROXY_PORT" "$CERTA" connect 127.0.0.1:@PORT@ --insecure --timeout 10 \
  --alpn h2,http/1.1,spiffe-demo/1 --servername a-rather-long-workload-name.payments.internal.example.com
wait_for "$PROXY_LOG" 'event=close' 5
if big && echo "$OUT" | grep -q "^$TOKEN" && grep 'event=close' "$PROXY_LOG" | grep -q "group=X25519MLKEM768"; then
  ok "certa connect -> certa proxy -> echo backend, a $CH_SIZE-byte ClientHello in two records and segments"
else
  not_ok "certa connect -> certa proxy through the splitting relay (ClientHello ${CH_SIZE:-?} bytes)"
  echo "$OUT" | tail -4 | sed 's/^/# /'
  show "$PROXY_LOG"
fi
stop_proxy proxy
finish
