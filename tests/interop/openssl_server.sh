#!/usr/bin/env bash
# certa connect against openssl s_server: every TLS 1.3 cipher suite x group
# {x25519, secp256r1} x server certificate {ECDSA P-256, RSA-2048, Ed25519},
# with a data round trip through `s_server -rev`; pins (right and wrong);
# HelloRetryRequest forced by the server; ALPN; a TLS 1.2-only server.
. "$(dirname "$0")/lib.sh"
need openssl rev
need_certa

SUITES=(TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256)
GROUPS_=(x25519 secp256r1)
CERTS=(ecdsa rsa ed25519)
declare -A SIG=([ecdsa]=ecdsa_secp256r1_sha256 [rsa]=rsa_pss_rsae_sha256 [ed25519]=ed25519)
declare -A KEYTYPE=([ecdsa]="ECDSA P-256" [rsa]="RSA 2048" [ed25519]=Ed25519)

# connect_rev NAME ARGS...: sends a unique line through certa connect to an
# s_server -rev at $SRV_PORT and checks the reversed line comes back.
# Leaves the client's stderr in $T_TMP/NAME.err, stdout in NAME.out.
connect_rev() {
  local name=$1
  shift
  local tok
  tok=$(uniq_token)
  CONNECT_ERR=$T_TMP/$name.err
  printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --timeout 10 "$@" \
    >"$T_TMP/$name.out" 2>"$CONNECT_ERR"
  CONNECT_RC=$?
  [ "$CONNECT_RC" -eq 0 ] && grep -qxF -- "$(rev_str "$tok")" "$T_TMP/$name.out"
}

for cert in "${CERTS[@]}"; do
  gen_cert "$cert" "srv-$cert" || {
    not_ok "generate $cert certificate"
    continue
  }
  pin=$(pin_of "$T_TMP/srv-$cert.crt")
  start_openssl_server "s_server-$cert" -tls1_3 -rev -cert "$T_TMP/srv-$cert.crt" \
    -key "$T_TMP/srv-$cert.key" -groups X25519:P-256 || continue
  for suite in "${SUITES[@]}"; do
    for group in "${GROUPS_[@]}"; do
      name="connect-$cert-$suite-$group"
      if connect_rev "$name" --pin "$pin" --ciphers "$suite" --groups "$group" &&
        grep -q "cipher suite: *$suite\$" "$CONNECT_ERR" &&
        grep -q "key exchange: *$group\$" "$CONNECT_ERR" &&
        grep -q "server signature: *${SIG[$cert]}\$" "$CONNECT_ERR" &&
        grep -q "key type: *${KEYTYPE[$cert]}\$" "$CONNECT_ERR" &&
        grep -q "HelloRetryRequest: no" "$CONNECT_ERR"; then
        ok "certa connect -> openssl s_server: $cert $suite $group, pinned, data round trip"
      else
        not_ok "certa connect -> openssl s_server: $cert $suite $group (exit $CONNECT_RC)"
        show "$CONNECT_ERR" "$T_TMP/$name.out" "$SRV_LOG"
      fi
    done
  done

  # The pin shown in the summary is the one openssl computes.
  if grep -q "SPKI pin: *$pin\$" "$CONNECT_ERR"; then
    ok "certa connect: $cert summary shows the certificate's SPKI pin"
  else
    not_ok "certa connect: $cert summary pin differs from openssl's $pin"
    show "$CONNECT_ERR"
  fi

  # A wrong pin (another key's) must fail with CERTA_E_PIN_MISMATCH.
  gen_cert ecdsa "other-$cert"
  wrong=$(pin_of "$T_TMP/other-$cert.crt")
  connect_rev "wrongpin-$cert" --pin "$wrong"
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*CERTA_E_PIN_MISMATCH" "$CONNECT_ERR" &&
    ! [ -s "$T_TMP/wrongpin-$cert.out" ]; then
    ok "certa connect: wrong pin against $cert server fails with CERTA_E_PIN_MISMATCH"
  else
    not_ok "certa connect: wrong pin against $cert server (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  # Several pins: any one may match.
  if connect_rev "twopins-$cert" --pin "$wrong" --pin "$pin"; then
    ok "certa connect: one matching pin among several is accepted ($cert)"
  else
    not_ok "certa connect: two pins ($cert), exit $CONNECT_RC"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
done

# ---- --insecure: works, warns loudly, shows the pin -------------------------
start_openssl_server s_server-insecure -tls1_3 -rev -cert "$T_TMP/srv-ecdsa.crt" \
  -key "$T_TMP/srv-ecdsa.key" && {
  pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
  if connect_rev insecure --insecure && grep -q "WARNING" "$CONNECT_ERR" &&
    grep -qF "$pin" "$CONNECT_ERR"; then
    ok "certa connect --insecure: round trip, loud warning, pin in the trace"
  else
    not_ok "certa connect --insecure (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  # The trace: ServerHello .. Finished, prefixed "* ".
  if grep -q '^\* < ServerHello' "$CONNECT_ERR" && grep -q '^\* < CertificateVerify' "$CONNECT_ERR" &&
    grep -q '^\* > Finished' "$CONNECT_ERR" && grep -q '^\* handshake time: *[0-9]* ms' "$CONNECT_ERR"; then
    ok "certa connect: readable trace and summary on stderr"
  else
    not_ok "certa connect: trace lines missing"
    show "$CONNECT_ERR"
  fi
  # --quiet: data only.
  tok=$(uniq_token)
  out=$(printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --pin "$pin" --quiet 2>"$T_TMP/quiet.err")
  if [ "$out" = "$(rev_str "$tok")" ] && ! grep -q '^\*' "$T_TMP/quiet.err"; then
    ok "certa connect --quiet: only the data"
  else
    not_ok "certa connect --quiet"
    show "$T_TMP/quiet.err"
  fi
  # localhost by name: SNI is sent.
  tok=$(uniq_token)
  printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "localhost:$SRV_PORT" --pin "$pin" \
    >"$T_TMP/byname.out" 2>"$T_TMP/byname.err"
  if grep -q "server name (SNI): localhost" "$T_TMP/byname.err" &&
    grep -qxF "$(rev_str "$tok")" "$T_TMP/byname.out"; then
    ok "certa connect localhost:PORT sends SNI localhost"
  else
    not_ok "certa connect localhost:PORT"
    show "$T_TMP/byname.err"
  fi
  stop "$SRV_PID"
}

# ---- HelloRetryRequest: the server wants secp256r1, certa's share is x25519 ---
start_openssl_server s_server-hrr -tls1_3 -rev -cert "$T_TMP/srv-ecdsa.crt" \
  -key "$T_TMP/srv-ecdsa.key" -groups P-256 && {
  pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
  if connect_rev hrr --pin "$pin" --groups x25519,secp256r1 &&
    grep -q '^\* < HelloRetryRequest' "$CONNECT_ERR" &&
    grep -q "HelloRetryRequest: yes" "$CONNECT_ERR" &&
    grep -q "key exchange: *secp256r1" "$CONNECT_ERR"; then
    ok "certa connect -> openssl s_server -groups P-256: HelloRetryRequest, then secp256r1"
  else
    not_ok "certa connect HelloRetryRequest (exit $CONNECT_RC)"
    show "$CONNECT_ERR" "$SRV_LOG"
  fi
  # No common group at all: a clear failure.
  connect_rev nogroup --pin "$pin" --groups x25519
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*(CERTA_E_" "$CONNECT_ERR"; then
    ok "certa connect: no common group fails with an explanation"
  else
    not_ok "certa connect: no common group (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}

# ---- message shapes and server options ------------------------------------------
gen_cert ecdsa384 srv-p384
# name | expected trace/summary regex | s_server options
shape_case() {
  local name=$1 want=$2 cert=$3
  shift 3
  start_openssl_server "s_server-$name" -tls1_3 -rev -cert "$T_TMP/$cert.crt" -key "$T_TMP/$cert.key" "$@" || return
  if connect_rev "shape-$name" --pin "$(pin_of "$T_TMP/$cert.crt")" && grep -Eq -- "$want" "$CONNECT_ERR"; then
    ok "certa connect -> openssl s_server $*: $name"
  else
    not_ok "certa connect -> openssl s_server $*: $name (exit $CONNECT_RC)"
    show "$CONNECT_ERR" "$SRV_LOG"
  fi
  stop "$SRV_PID"
}
shape_case "handshake fragmented over 512-byte records" 'rsa_pss_rsae_sha256, valid' srv-rsa -max_send_frag 512
shape_case "stateless server: HelloRetryRequest with a cookie" 'HelloRetryRequest: yes' srv-ecdsa -stateless -groups P-256
shape_case "ECDSA P-384 certificate" 'ecdsa_secp384r1_sha384, valid' srv-p384
shape_case "optional client certificate requested: certa sends none" '> Certificate' srv-ecdsa -verify 1
start_openssl_server s_server-certreq -tls1_3 -rev -cert "$T_TMP/srv-ecdsa.crt" -key "$T_TMP/srv-ecdsa.key" -Verify 1 && {
  connect_rev certreq --pin "$(pin_of "$T_TMP/srv-ecdsa.crt")"
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "certificate_required" "$CONNECT_ERR"; then
    ok "certa connect -> s_server -Verify (client certificate required): fails, explains certificate_required"
  else
    not_ok "certa connect -> s_server -Verify (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}

# ---- chain validation (the default without --pin / --insecure) -------------------
gen_ca ca && gen_leaf leaf ca && gen_leaf client ca clientAuth || not_ok "generate CA chain"
start_openssl_server s_server-chain -tls1_3 -rev -cert "$T_TMP/leaf.crt" -key "$T_TMP/leaf.key" \
  -cert_chain "$T_TMP/ca.crt" && {
  if connect_rev chain-ip --trust "$T_TMP/ca.crt" && grep -q '^\*   verified: CN=localhost' "$CONNECT_ERR" &&
    grep -q "server identity: *verified" "$CONNECT_ERR"; then
    ok "certa connect --trust CA: chain validated for IP 127.0.0.1"
  else
    not_ok "certa connect --trust CA (IP) (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  tok=$(uniq_token)
  printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "localhost:$SRV_PORT" --trust "$T_TMP/ca.crt" \
    >"$T_TMP/chain-name.out" 2>"$T_TMP/chain-name.err"
  if grep -qxF "$(rev_str "$tok")" "$T_TMP/chain-name.out" && grep -q "server identity: *verified" "$T_TMP/chain-name.err"; then
    ok "certa connect localhost --trust CA: chain validated for the DNS name"
  else
    not_ok "certa connect localhost --trust CA"
    show "$T_TMP/chain-name.err"
  fi
  connect_rev chain-wrongname --trust "$T_TMP/ca.crt" --servername other.example
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*(CERTA_E_CERT_NAME_MISMATCH" "$CONNECT_ERR"; then
    ok "certa connect --servername other.example: CERTA_E_CERT_NAME_MISMATCH"
  else
    not_ok "certa connect name mismatch (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  gen_ca otherca
  connect_rev chain-otherca --trust "$T_TMP/otherca.crt"
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*(CERTA_E_CERT_UNKNOWN_ISSUER" "$CONNECT_ERR"; then
    ok "certa connect --trust another CA: CERTA_E_CERT_UNKNOWN_ISSUER"
  else
    not_ok "certa connect with the wrong CA (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}
# A self-signed server certificate: refused by the system bundle, accepted
# when it is itself the trust anchor.
start_openssl_server s_server-selfsigned -tls1_3 -rev -cert "$T_TMP/srv-ecdsa.crt" -key "$T_TMP/srv-ecdsa.key" && {
  connect_rev selfsigned-system
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*(CERTA_E_CERT_SELF_SIGNED" "$CONNECT_ERR"; then
    ok "certa connect (system bundle) -> self-signed server: CERTA_E_CERT_SELF_SIGNED, explained"
  else
    not_ok "certa connect default validation vs self-signed (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  if connect_rev selfsigned-trusted --trust "$T_TMP/srv-ecdsa.crt"; then
    ok "certa connect --trust (the self-signed certificate itself) -> accepted"
  else
    not_ok "certa connect --trust self-signed (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}
# A client certificate when the server requires one.
start_openssl_server s_server-mtls -tls1_3 -rev -cert "$T_TMP/leaf.crt" -key "$T_TMP/leaf.key" \
  -Verify 1 -CAfile "$T_TMP/ca.crt" -verify_return_error && {
  if connect_rev mtls --trust "$T_TMP/ca.crt" --cert "$T_TMP/client.crt" --key "$T_TMP/client.key" &&
    grep -q '^\* > Certificate' "$CONNECT_ERR"; then
    ok "certa connect --cert/--key -> s_server -Verify: client certificate accepted, round trip"
  else
    not_ok "certa connect with a client certificate (exit $CONNECT_RC)"
    show "$CONNECT_ERR" "$SRV_LOG"
  fi
  stop "$SRV_PID"
}

# ---- KeyUpdate from openssl s_server (its "K" command on stdin) ---------------
fifo=$T_TMP/s_server.in
mkfifo "$fifo"
exec 7<>"$fifo"
BG_STDIN=$fifo start_openssl_server s_server-keyupdate -tls1_3 -cert "$T_TMP/srv-ecdsa.crt" \
  -key "$T_TMP/srv-ecdsa.key" && {
  pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
  tc=$(uniq_token)
  ts=$(uniq_token)
  out=$T_TMP/keyupdate.out
  err=$T_TMP/keyupdate.err
  : >"$out"
  : >"$err"
  { printf '%s\n' "$tc"; wait_for "$out" "^$ts\$" 15; } |
    timeout 30 "$CERTA" connect "127.0.0.1:$SRV_PORT" --pin "$pin" >"$out" 2>"$err" &
  cpid=$!
  wait_for "$SRV_LOG" "^$tc\$" 10 # s_server printed what certa sent
  printf 'K\n' >&7                 # KeyUpdate, update_requested
  wait_for "$err" '> KeyUpdate' 10
  printf '%s\n' "$ts" >&7          # data under the new keys
  wait "$cpid"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -qx -- "$ts" "$out" && grep -q '< KeyUpdate (update_requested)' "$err" &&
    grep -q '> KeyUpdate (update_not_requested)' "$err"; then
    ok "openssl s_server KeyUpdate (update_requested) -> certa connect: answered, data after it"
  else
    not_ok "KeyUpdate from openssl s_server (exit $rc)"
    show "$err" "$SRV_LOG"
  fi
  stop "$SRV_PID"
}
exec 7>&-

# ---- ALPN ---------------------------------------------------------------------
start_openssl_server s_server-alpn -tls1_3 -rev -cert "$T_TMP/srv-ecdsa.crt" \
  -key "$T_TMP/srv-ecdsa.key" -alpn http/1.1 && {
  pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
  if connect_rev alpn --pin "$pin" --alpn h2,http/1.1 && grep -q "ALPN: *http/1.1" "$CONNECT_ERR"; then
    ok "certa connect --alpn h2,http/1.1 -> s_server -alpn http/1.1: http/1.1 negotiated"
  else
    not_ok "certa connect ALPN overlap (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}

# ---- a TLS 1.2-only server --------------------------------------------------
start_openssl_server s_server-tls12 -tls1_2 -rev -cert "$T_TMP/srv-ecdsa.crt" \
  -key "$T_TMP/srv-ecdsa.key" && {
  pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
  connect_rev tls12 --pin "$pin"
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "^certa: handshake failed: .*protocol_version" "$CONNECT_ERR"; then
    ok "certa connect -> TLS 1.2-only s_server: exit 1, explains protocol_version"
  else
    not_ok "certa connect -> TLS 1.2-only server (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}

# ---- nothing listening --------------------------------------------------------
p=$(free_port)
timeout 20 "$CERTA" connect "127.0.0.1:$p" --insecure </dev/null >/dev/null 2>"$T_TMP/refused.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -qi "refused" "$T_TMP/refused.err"; then
  ok "certa connect to a closed port: exit 1, connection refused"
else
  not_ok "certa connect to a closed port (exit $rc)"
  show "$T_TMP/refused.err"
fi

finish
