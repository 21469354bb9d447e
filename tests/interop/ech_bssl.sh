#!/usr/bin/env bash
# Encrypted Client Hello (RFC 9849) against BoringSSL's bssl, both directions.
# The server holds two certificates, one for the public name (public.example)
# and one for the real name (secret.example): which one a handshake gets shows
# which ClientHello the server used.
#   bssl client -> certa serve: accepted (inner SNI picks the certificate; the
#     log says ech=accepted and marks the outer name as public_name), a stale
#     config (retry_configs come back), ECH across a HelloRetryRequest.
#   certa connect -> bssl server: accepted, rejected then retried with the
#     retry_configs, HelloRetryRequest with ECH accepted and rejected, GREASE
#     against servers with and without ECH.
#   certa connect -> certa serve: accepted, and a loopback capture of it holds
#     the public name but never the real one.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa
BSSL=${CERTA_BSSL:-$REPO_DIR/../shared/peers/bssl}
if [ ! -x "$BSSL" ]; then
  not_ok "bssl not found at $BSSL (../shared/peers beside the repository, or set CERTA_BSSL)"
  finish
fi
gen_ca ca
# gen_named NAME DNS [DNS2]: a leaf for DNS (and DNS2) signed by ca.
gen_named() {
  local name=$1 dns=$2 san="DNS:$2${3:+,DNS:$3}"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_TMP/$name.key" \
    -out "$T_TMP/$name.csr" -subj "/CN=$dns" >"$T_TMP/$name.gen.log" 2>&1 || return 1
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=$san" >"$T_TMP/$name.ext"
  openssl x509 -req -in "$T_TMP/$name.csr" -CA "$T_TMP/ca.crt" -CAkey "$T_TMP/ca.key" \
    -CAcreateserial -days 2 -extfile "$T_TMP/$name.ext" -out "$T_TMP/$name.crt" \
    >>"$T_TMP/$name.gen.log" 2>&1
}
gen_named pub public.example
gen_named sec secret.example
gen_named both secret.example public.example # bssl server holds one certificate
# Two ECH key pairs for the same public name: "cur" is what the servers hold,
# "old" is a stale config a client may still have.
for k in cur:7 old:9; do
  "$BSSL" generate-ech -out-ech-config-list "$T_TMP/${k%%:*}.list" \
    -out-ech-config "$T_TMP/${k%%:*}.config" -out-private-key "$T_TMP/${k%%:*}.key" \
    -public-name public.example -config-id "${k##*:}" -max-name-length 32 >/dev/null 2>&1 ||
    not_ok "bssl generate-ech ${k%%:*}"
done
SERVE_ECH=(--ech-key "$T_TMP/cur.key" --ech-config "$T_TMP/cur.config")
SERVE_CERTS=(--cert "$T_TMP/pub.crt" --key "$T_TMP/pub.key" --cert "$T_TMP/sec.crt" --key "$T_TMP/sec.key")

# ---- bssl client -> certa serve --------------------------------------------
# bssl_to_serve NAME LIST BSSL_ARGS... (certa serve running): OUT, LINE (conn #N).
N_CONN=0
bssl_to_serve() {
  local list=$1 token
  shift
  token=$(uniq_token)
  N_CONN=$((N_CONN + 1))
  OUT=$( (echo "$token"; sleep 1) | timeout 20 "$BSSL" client -connect "127.0.0.1:$SERVE_PORT" \
    -server-name secret.example -root-certs "$T_TMP/ca.crt" -ech-config-list "$list" "$@" 2>&1)
  wait_for "$SERVE_LOG" "^conn #$N_CONN " 5
  LINE=$(grep "^conn #$N_CONN " "$SERVE_LOG")
  echo "$OUT" | grep -q "$token"
}

start_certa_serve serve-ech "${SERVE_CERTS[@]}" "${SERVE_ECH[@]}" --trace
if bssl_to_serve "$T_TMP/cur.list" && echo "$OUT" | grep -q "Encrypted ClientHello: yes" &&
  echo "$LINE" | grep -q "sni=secret.example .*cert=secret.example" &&
  echo "$LINE" | grep -q "ech=accepted public_name=public.example"; then
  ok "bssl client -> certa serve: ECH accepted, the inner name picks the certificate, data echoed"
else
  not_ok "bssl client -> certa serve: ECH accepted"
  echo "$OUT" | tail -5 | sed 's/^/# /'
  show "$SERVE_LOG"
fi
# A stale config: the server goes on with the outer hello (the public name's
# certificate) and sends retry_configs; bssl then refuses with ech_required.
bssl_to_serve "$T_TMP/old.list"
if echo "$OUT" | grep -q "ECH_REJECTED\|ech_required\|ECH_REQUIRED" &&
  echo "$LINE" | grep -q "ech=not-decrypted public_name=public.example" &&
  grep -q "retry_configs will be sent" "$SERVE_LOG"; then
  ok "bssl client with a stale ECH config -> certa serve: not decrypted, retry_configs sent, the client aborts with ech_required"
else
  not_ok "bssl client with a stale ECH config -> certa serve"
  echo "$OUT" | tail -5 | sed 's/^/# /'
  show "$SERVE_LOG"
fi
# bssl -ech-config-list with the retry_configs would now work: it is the cur list.
stop_certa_serve serve-ech
# HelloRetryRequest: bssl offers X25519 only, the server wants P-384.
start_certa_serve serve-ech-hrr "${SERVE_CERTS[@]}" "${SERVE_ECH[@]}" --groups secp384r1 --trace
N_CONN=0
if bssl_to_serve "$T_TMP/cur.list" -curves X25519:P-384 && echo "$OUT" | grep -q "Encrypted ClientHello: yes" &&
  echo "$LINE" | grep -q "secp384r1 .*sni=secret.example .*hrr=yes" && echo "$LINE" | grep -q "ech=accepted"; then
  ok "bssl client -> certa serve --groups secp384r1: ECH accepted across a HelloRetryRequest"
else
  not_ok "bssl client -> certa serve: ECH with a HelloRetryRequest"
  echo "$OUT" | tail -5 | sed 's/^/# /'
  show "$SERVE_LOG"
fi
stop_certa_serve serve-ech-hrr

# certa proxy (terminate) with ECH: the JSON log names the inner SNI and marks
# the outer one as public_name.
if start_echo_backend && start_proxy proxy-ech --backend "127.0.0.1:$ECHO_PORT" --log-format json \
  "${SERVE_CERTS[@]}" "${SERVE_ECH[@]}"; then
  token=$(uniq_token)
  OUT=$( (echo "$token"; sleep 1) | timeout 20 "$BSSL" client -connect "127.0.0.1:$PROXY_PORT" \
    -server-name secret.example -root-certs "$T_TMP/ca.crt" -ech-config-list "$T_TMP/cur.list" 2>&1)
  wait_for "$PROXY_LOG" '"event":"close"' 5
  line=$(grep '"event":"close"' "$PROXY_LOG" | head -n1)
  if echo "$OUT" | grep -q "$token" && echo "$line" | grep -q '"sni":"secret.example"' &&
    echo "$line" | grep -q '"ech":"accepted"' && echo "$line" | grep -q '"public_name":"public.example"'; then
    ok "bssl client -> certa proxy --ech-key: accepted, the log has sni=secret.example, ech=accepted, public_name=public.example"
  else
    not_ok "bssl client -> certa proxy with ECH"
    echo "$OUT" | tail -4 | sed 's/^/# /'
    show "$PROXY_LOG"
  fi
  stop_proxy proxy-ech
  stop "$ECHO_PID"
else
  not_ok "certa proxy with ECH did not start"
  show "$PROXY_LOG"
fi

# ---- certa connect -> bssl server -------------------------------------------
# connect_to_bssl NAME BSSL_SERVER_ARGS... -- CONNECT_ARGS...: OUT (certa's
# stderr), SRV_OUT (bssl's output), RC.
connect_to_bssl() {
  local name=$1 token port sargs=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do sargs+=("$1"); shift; done
  shift
  port=$(free_port) || return 1
  rm -f "$T_TMP/$name.fifo"
  mkfifo "$T_TMP/$name.fifo"
  sleep 30 >"$T_TMP/$name.fifo" &
  T_PIDS+=($!)
  BG_STDIN=$T_TMP/$name.fifo bg "$T_TMP/$name.log" "$BSSL" server -accept "$port" -loop \
    -cert "$T_TMP/${BSSL_CERT:-sec}.crt" -key "$T_TMP/${BSSL_CERT:-sec}.key" "${sargs[@]}"
  local bpid=$BG_PID i
  for i in $(seq 50); do port_in_use "$port" && break; sleep 0.1; done
  token=$(uniq_token)
  OUT=$( (echo "$token"; sleep 1) | timeout 20 "$CERTA" connect "127.0.0.1:$port" \
    --servername secret.example --trust "$T_TMP/ca.crt" --timeout 10 "$@" 2>&1 >/dev/null)
  RC=$?
  wait_for "$T_TMP/$name.log" "$token" 5
  SRV_OUT=$(cat "$T_TMP/$name.log")
  stop "$bpid"
  # bssl server ends without close_notify when its input ends: certa says so
  # (exit 1) after the handshake and the data, which is what counts.
  echo "$SRV_OUT" | grep -q "$token"
}
BSSL_ECH=(-ech-key "$T_TMP/cur.key" -ech-config "$T_TMP/cur.config")
if connect_to_bssl c-ech "${BSSL_ECH[@]}" -- --ech-config "$T_TMP/cur.list" &&
  echo "$SRV_OUT" | grep -q "Encrypted ClientHello: yes" && echo "$SRV_OUT" | grep -q "SNI: secret.example" &&
  echo "$OUT" | grep -q "ECH: *accepted"; then
  ok "certa connect --ech-config -> bssl server: ECH accepted, the server saw the inner name"
else
  not_ok "certa connect --ech-config -> bssl server"
  echo "$OUT" | tail -8 | sed 's/^/# /'
  echo "$SRV_OUT" | tail -5 | sed 's/^/# /'
fi
# base64 on the command line, as a DNS HTTPS record gives it
if connect_to_bssl c-ech64 "${BSSL_ECH[@]}" -- --ech-config "$(base64 -w0 "$T_TMP/cur.list")" &&
  echo "$SRV_OUT" | grep -q "Encrypted ClientHello: yes"; then
  ok "certa connect --ech-config BASE64 -> bssl server: ECH accepted"
else
  not_ok "certa connect --ech-config BASE64 -> bssl server"
  echo "$OUT" | tail -5 | sed 's/^/# /'
fi
# The rejected handshake authenticates for the public name: a certificate
# with both names.
if BSSL_CERT=both connect_to_bssl c-retry "${BSSL_ECH[@]}" -- \
  --ech-config "$T_TMP/old.list" &&
  echo "$OUT" | grep -q "CERTA_E_ECH_REJECTED.*public name public.example.*retry with them" &&
  echo "$OUT" | grep -q "alert ech_required" &&
  echo "$OUT" | grep -q "retrying once with the server's retry_configs" &&
  echo "$OUT" | grep -q "ECH: *accepted"; then
  ok "certa connect with a stale config -> bssl server: rejected (ech_required), retried once with retry_configs, accepted"
else
  not_ok "certa connect with a stale config -> bssl server: rejection and retry"
  echo "$OUT" | tail -12 | sed "s/^/# /"; echo "$SRV_OUT" | tail -4 | sed "s/^/# /"
fi
if connect_to_bssl c-hrr "${BSSL_ECH[@]}" -curves P-384 -- --ech-config "$T_TMP/cur.list" &&
  echo "$OUT" | grep -q "ECH: accepted (HelloRetryRequest confirms it)" &&
  echo "$OUT" | grep -q "HelloRetryRequest: yes" && echo "$SRV_OUT" | grep -q "Encrypted ClientHello: yes"; then
  ok "certa connect -> bssl server -curves P-384: ECH accepted across a HelloRetryRequest"
else
  not_ok "certa connect -> bssl server: ECH with a HelloRetryRequest"
  echo "$OUT" | grep -E "ECH|Hello|rror" | sed 's/^/# /'
fi
if BSSL_CERT=both connect_to_bssl c-hrr-rej "${BSSL_ECH[@]}" -curves P-384 -- \
  --ech-config "$T_TMP/old.list" &&
  echo "$OUT" | grep -q "ECH: rejected by the server" && echo "$OUT" | grep -q "ECH: *accepted" &&
  [ "$(echo "$OUT" | grep -c "HelloRetryRequest (")" -eq 2 ]; then
  ok "certa connect with a stale config -> bssl server -curves P-384: rejected at the HelloRetryRequest, retried and accepted"
else
  not_ok "certa connect -> bssl server: ECH rejected at a HelloRetryRequest"
  echo "$OUT" | grep -E "ECH|Hello|rror" | sed 's/^/# /'
fi
if connect_to_bssl c-grease -- --ech-grease && echo "$OUT" | grep -q "GREASE ECH" &&
  echo "$OUT" | grep -q "handshake complete" && echo "$SRV_OUT" | grep -q "Encrypted ClientHello: no"; then
  ok "certa connect --ech-grease -> bssl server without ECH: GREASE ignored, handshake completes"
else
  not_ok "certa connect --ech-grease -> bssl server without ECH"
  echo "$OUT" | tail -5 | sed 's/^/# /'
fi
if connect_to_bssl c-grease-ech "${BSSL_ECH[@]}" -- --ech-grease && echo "$OUT" | grep -q "handshake complete" &&
  ! echo "$OUT" | grep -q "retry_configs"; then
  ok "certa connect --ech-grease -> bssl server with ECH: its retry_configs checked and ignored, handshake completes"
else
  not_ok "certa connect --ech-grease -> bssl server with ECH"
  echo "$OUT" | tail -5 | sed 's/^/# /'
fi

# ---- certa connect -> certa serve, and what the wire shows -----------------
start_certa_serve serve-self "${SERVE_CERTS[@]}" "${SERVE_ECH[@]}"
CAP=$T_TMP/ech.pcap
CAPTURED=no
if command -v tcpdump >/dev/null; then
  bg "$T_TMP/tcpdump.log" tcpdump -i lo --immediate-mode -U -w "$CAP" "tcp port $SERVE_PORT"
  TD_PID=$BG_PID
  for i in $(seq 50); do grep -q "listening on" "$T_TMP/tcpdump.log" 2>/dev/null && break; sleep 0.1; done
  grep -q "listening on" "$T_TMP/tcpdump.log" && CAPTURED=yes
fi
token=$(uniq_token)
out=$( (echo "$token"; sleep 0.5) | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" \
  --servername secret.example --trust "$T_TMP/ca.crt" --timeout 10 --alpn secret-proto,h2 \
  --ech-config "$T_TMP/cur.list" 2>&1)
wait_for "$SERVE_LOG" '^conn #1 ' 5
line=$(grep '^conn #1 ' "$SERVE_LOG")
if echo "$out" | grep -q "$token" && echo "$out" | grep -q "ECH: *accepted" &&
  echo "$line" | grep -q "sni=secret.example .*cert=secret.example" && echo "$line" | grep -q "ech=accepted"; then
  ok "certa connect -> certa serve: ECH accepted, the inner name's certificate, data echoed"
else
  not_ok "certa connect -> certa serve: ECH accepted"
  echo "$out" | tail -8 | sed 's/^/# /'
  show "$SERVE_LOG"
fi
if [ $CAPTURED = yes ]; then
  sleep 0.5
  stop "$TD_PID"
  if [ -s "$CAP" ] && grep -aq "public.example" "$CAP" && ! grep -aq "secret.example" "$CAP" &&
    ! grep -aq "secret-proto" "$CAP"; then
    ok "loopback capture of the ECH connection: the public name in clear, the real name and ALPN nowhere"
  else
    not_ok "loopback capture of the ECH connection shows the real name (or is empty)"
    ls -la "$CAP" | sed 's/^/# /'
  fi
else
  not_ok "tcpdump could not capture on lo (scripts/deps.sh installs it; root is needed)"
fi
# The control: without ECH the same capture shows the name, so the check above can fail.
if [ $CAPTURED = yes ]; then
  CAP2=$T_TMP/plain.pcap
  bg "$T_TMP/tcpdump2.log" tcpdump -i lo --immediate-mode -U -w "$CAP2" "tcp port $SERVE_PORT"
  TD_PID=$BG_PID
  for i in $(seq 50); do grep -q "listening on" "$T_TMP/tcpdump2.log" 2>/dev/null && break; sleep 0.1; done
  echo | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername secret.example \
    --trust "$T_TMP/ca.crt" --timeout 10 >/dev/null 2>&1
  sleep 0.5
  stop "$TD_PID"
  if grep -aq "secret.example" "$CAP2"; then
    ok "control: the same connection without ECH shows secret.example in the capture"
  else
    not_ok "control capture without ECH does not show the name: the capture check proves nothing"
    show "$T_TMP/tcpdump2.log"; ls -la "$CAP2" | sed "s/^/# /"
  fi
fi
stop_certa_serve serve-self
finish
