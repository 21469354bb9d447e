#!/usr/bin/env bash
# Post-quantum key exchange against BoringSSL's bssl (../shared/peers/bssl),
# X25519MLKEM768 (the hybrid it has), both directions, with and without a
# HelloRetryRequest (certa's client is sent to the hybrid by one; bssl's,
# which always sends the hybrid share, away from it), and with client
# certificates; data round-trips and both
# sides name the hybrid. Then the peers without post-quantum groups (openssl
# 3.0, GnuTLS 3.7) still get x25519 with no extra round trip.
. "$(dirname "$0")/lib.sh"
need openssl gnutls-cli
need_certa
BSSL=${CERTA_BSSL:-$REPO_DIR/../shared/peers/bssl}
if [ ! -x "$BSSL" ]; then
  not_ok "bssl not found at $BSSL (../shared/peers beside the repository, or set CERTA_BSSL)"
  finish
fi
gen_ca ca
gen_leaf srv ca serverAuth
gen_leaf cli ca clientAuth

# bssl_to_serve NAME CURVES SERVE_ARGS... : bssl client -> certa serve (echo);
# sets OUT (bssl's output) and LINE (certa serve's connection line).
bssl_to_serve() {
  local name=$1 curves=$2 token
  shift 2
  start_certa_serve "$name" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" "$@" || return 1
  token=$(uniq_token)
  OUT=$( (echo "$token"; sleep 1) | timeout 20 "$BSSL" client -connect "127.0.0.1:$SERVE_PORT" \
    -curves "$curves" -root-certs "$T_TMP/ca.crt" "${BSSL_ARGS[@]}" 2>&1)
  wait_for "$SERVE_LOG" '^conn #1 ' 5
  LINE=$(grep '^conn #1 ' "$SERVE_LOG")
  echo "$OUT" | grep -q "$token" # the echo came back
}

BSSL_ARGS=()
if bssl_to_serve serve-pq X25519MLKEM768:X25519 &&
  echo "$OUT" | grep -q "ECDHE group: X25519MLKEM768" && echo "$LINE" | grep -q " X25519MLKEM768 .*hrr=no"; then
  ok "bssl client -> certa serve: X25519MLKEM768 without HelloRetryRequest, data echoed"
else
  not_ok "bssl client -> certa serve: X25519MLKEM768"
  echo "$OUT" | grep -E "group|rror" | sed 's/^/# /'
  show "$SERVE_LOG"
fi
stop_certa_serve serve-pq

# bssl always sends a share for the hybrid it offers, so from bssl a
# HelloRetryRequest can only lead away from it: a server that takes only
# P-384 asks for that (the hybrid ClientHello, then the second one).
if bssl_to_serve serve-hrr X25519MLKEM768:X25519:P-384 --groups secp384r1 &&
  echo "$OUT" | grep -q "ECDHE group: P-384" && echo "$LINE" | grep -q " secp384r1 .*hrr=yes"; then
  ok "bssl client (X25519MLKEM768 share) -> certa serve --groups secp384r1: HelloRetryRequest to P-384"
else
  not_ok "bssl client -> certa serve: HelloRetryRequest from the hybrid to P-384"
  echo "$OUT" | grep -E "group|rror" | sed 's/^/# /'
  show "$SERVE_LOG"
fi
stop_certa_serve serve-hrr

BSSL_ARGS=(-cert "$T_TMP/cli.crt" -key "$T_TMP/cli.key")
if bssl_to_serve serve-mtls X25519MLKEM768:X25519 --client-ca "$T_TMP/ca.crt" &&
  echo "$OUT" | grep -q "ECDHE group: X25519MLKEM768" && echo "$LINE" | grep -q " X25519MLKEM768 " &&
  grep -q "verified" "$SERVE_LOG"; then
  ok "bssl client with a certificate -> certa serve --client-ca: mTLS over X25519MLKEM768"
else
  not_ok "bssl client -> certa serve, mTLS over X25519MLKEM768"
  echo "$OUT" | grep -E "group|rror" | sed 's/^/# /'
  show "$SERVE_LOG"
fi
stop_certa_serve serve-mtls

# certa connect -> bssl server (its stdin held open: it prints what it gets).
# connect_to_bssl NAME CURVES CONNECT_ARGS...: sets OUT (certa's stderr) and
# SRV_OUT (bssl's output).
connect_to_bssl() {
  local name=$1 curves=$2 token rc
  shift 2
  local port
  port=$(free_port) || return 1
  rm -f "$T_TMP/$name.fifo"
  mkfifo "$T_TMP/$name.fifo"
  sleep 30 >"$T_TMP/$name.fifo" &
  T_PIDS+=($!)
  BG_STDIN=$T_TMP/$name.fifo bg "$T_TMP/$name.log" "$BSSL" server -accept "$port" \
    -cert "$T_TMP/srv.crt" -key "$T_TMP/srv.key" -curves "$curves" "${BSSL_SERVER_ARGS[@]}"
  local bpid=$BG_PID i
  for i in $(seq 50); do port_in_use "$port" && break; sleep 0.1; done
  token=$(uniq_token)
  OUT=$( (echo "$token"; sleep 1) | timeout 20 "$CERTA" connect "127.0.0.1:$port" --servername localhost \
    --trust "$T_TMP/ca.crt" --timeout 10 "$@" 2>&1 >/dev/null)
  rc=$?
  wait_for "$T_TMP/$name.log" "$token" 5
  SRV_OUT=$(cat "$T_TMP/$name.log")
  stop "$bpid"
  # bssl server ends without close_notify when its input ends: certa says
  # so (exit 1), after the handshake and the data, which is what counts.
  { [ $rc -eq 0 ] || echo "$OUT" | grep -q CERTA_E_PEER_CLOSED; } && echo "$SRV_OUT" | grep -q "$token"
}

BSSL_SERVER_ARGS=()
if connect_to_bssl c-pq X25519MLKEM768 && echo "$OUT" | grep -q "ServerHello (TLS 1.3, .*X25519MLKEM768)" &&
  echo "$OUT" | grep -q "HelloRetryRequest: no" && echo "$SRV_OUT" | grep -q "ECDHE group: X25519MLKEM768"; then
  ok "certa connect -> bssl server: X25519MLKEM768 without HelloRetryRequest, data delivered"
else
  not_ok "certa connect -> bssl server: X25519MLKEM768"
  echo "$OUT" | tail -5 | sed 's/^/# /'
  echo "$SRV_OUT" | tail -5 | sed 's/^/# /'
fi
if connect_to_bssl c-hrr X25519MLKEM768 --groups x25519,X25519MLKEM768 &&
  echo "$OUT" | grep -q "HelloRetryRequest (.*wants key share X25519MLKEM768)" &&
  echo "$SRV_OUT" | grep -q "ECDHE group: X25519MLKEM768"; then
  ok "certa connect --groups x25519,X25519MLKEM768 -> bssl server: HelloRetryRequest, then the hybrid"
else
  not_ok "certa connect -> bssl server: HelloRetryRequest to the hybrid"
  echo "$OUT" | tail -5 | sed 's/^/# /'
fi
BSSL_SERVER_ARGS=(-require-any-client-cert)
if connect_to_bssl c-mtls X25519MLKEM768 --cert "$T_TMP/cli.crt" --key "$T_TMP/cli.key" &&
  echo "$OUT" | grep -q "X25519MLKEM768" && echo "$OUT" | grep -q "> Certificate (1 certificate"; then
  ok "certa connect with a certificate -> bssl server -require-any-client-cert: mTLS over X25519MLKEM768"
else
  not_ok "certa connect -> bssl server, mTLS over X25519MLKEM768"
  echo "$OUT" | tail -5 | sed 's/^/# /'
fi
BSSL_SERVER_ARGS=()

# Peers without post-quantum groups: x25519, and no HelloRetryRequest.
start_certa_serve serve-classic --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key"
out=$(echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -CAfile "$T_TMP/ca.crt" 2>&1)
wait_for "$SERVE_LOG" '^conn #1 ' 5
if echo "$out" | grep -q "Server Temp Key: X25519" && grep '^conn #1 ' "$SERVE_LOG" | grep -q " x25519 .*hrr=no"; then
  ok "openssl 3.0 s_client -> certa serve: x25519, no HelloRetryRequest"
else
  not_ok "openssl s_client -> certa serve: x25519 without HelloRetryRequest"
  show "$SERVE_LOG"
fi
out=$(echo | timeout 20 gnutls-cli --x509cafile "$T_TMP/ca.crt" -p "$SERVE_PORT" localhost 2>&1)
wait_for "$SERVE_LOG" '^conn #2 ' 5
if grep '^conn #2 ' "$SERVE_LOG" | grep -q " x25519 .*hrr=no"; then
  ok "gnutls-cli -> certa serve: x25519, no HelloRetryRequest"
else
  not_ok "gnutls-cli -> certa serve: x25519 without HelloRetryRequest"
  echo "$out" | tail -3 | sed 's/^/# /'
  show "$SERVE_LOG"
fi
stop_certa_serve serve-classic
start_held_openssl_server s-classic -cert "$T_TMP/srv.crt" -key "$T_TMP/srv.key"
out=$(echo | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --servername localhost \
  --trust "$T_TMP/ca.crt" --timeout 10 2>&1 >/dev/null)
if echo "$out" | grep -q "key shares X25519MLKEM768 and x25519" &&
  echo "$out" | grep -q "ServerHello (TLS 1.3, .*x25519)" && echo "$out" | grep -q "HelloRetryRequest: no"; then
  ok "certa connect -> openssl 3.0 s_server: both shares sent, x25519 taken, no HelloRetryRequest"
else
  not_ok "certa connect -> openssl s_server: x25519 without HelloRetryRequest"
  echo "$out" | tail -5 | sed 's/^/# /'
fi
stop_held_openssl_server
finish
