#!/usr/bin/env bash
# openssl s_client against certa serve: every TLS 1.3 cipher suite x group
# {x25519, P-256} x server certificate {ECDSA P-256, RSA-2048, Ed25519}, with
# an echo round trip; HelloRetryRequest sent by certa; ALPN overlap and
# no_application_protocol; the server survives failing clients; clean stop.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

SUITES=(TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256)
declare -A OSSL_GROUP=([x25519]=X25519 [secp256r1]=P-256)
declare -A TEMP_KEY=([x25519]="X25519" [secp256r1]="prime256v1")
CERTS=(ecdsa rsa ed25519)

# s_client_echo NAME ARGS...: s_client to certa serve at $SERVE_PORT sends a
# unique line and waits (bounded) for it to come back. Output in NAME.out.
s_client_echo() {
  local name=$1
  shift
  local tok
  tok=$(uniq_token)
  SC_OUT=$T_TMP/$name.out
  : >"$SC_OUT"
  feed_until "$SC_OUT" "^$tok\$" 10 "$tok" |
    timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_3 "$@" >"$SC_OUT" 2>&1
  SC_RC=$?
  grep -qx -- "$tok" "$SC_OUT"
}

conn_no=0
for cert in "${CERTS[@]}"; do
  gen_cert "$cert" "srv-$cert" || {
    not_ok "generate $cert certificate"
    continue
  }
  start_certa_serve "serve-$cert" --cert "$T_TMP/srv-$cert.crt" --key "$T_TMP/srv-$cert.key" ||
    continue
  conn_no=0
  for suite in "${SUITES[@]}"; do
    for group in x25519 secp256r1; do
      conn_no=$((conn_no + 1))
      name="sclient-$cert-$suite-$group"
      if s_client_echo "$name" -ciphersuites "$suite" -groups "${OSSL_GROUP[$group]}" &&
        grep -q "Cipher is $suite" "$SC_OUT" &&
        grep -q "Server Temp Key: .*${TEMP_KEY[$group]}" "$SC_OUT" &&
        wait_for "$SERVE_LOG" "^conn #$conn_no from .*: TLSv1.3 $suite $group .*closed by the client" 5; then
        ok "openssl s_client -> certa serve: $cert $suite $group, echo round trip"
      else
        not_ok "openssl s_client -> certa serve: $cert $suite $group (exit $SC_RC)"
        show "$SC_OUT" "$SERVE_LOG"
      fi
    done
  done
  stop_certa_serve "serve-$cert"
done

# ---- HelloRetryRequest sent by certa ----------------------------------------
start_certa_serve serve-hrr --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" \
  --groups secp256r1 --trace && {
  # s_client's only key share is for X25519 (its first group).
  if s_client_echo sclient-hrr -groups X25519:P-256 -trace &&
    [ "$(grep -c '^ *ServerHello, Length' "$SC_OUT")" -eq 2 ] &&
    grep -q 'random_bytes (len=28): E59A6111BE1D8C021E65B891C2A211167ABB8C5E079E09E2C8A8339C' "$SC_OUT" &&
    grep -q "Server Temp Key: ECDH, prime256v1" "$SC_OUT" &&
    wait_for "$SERVE_LOG" '> HelloRetryRequest' 5 &&
    wait_for "$SERVE_LOG" '^conn #1 .* secp256r1 .*hrr=yes' 5; then
    ok "openssl s_client -groups X25519:P-256 -> certa serve --groups secp256r1: HelloRetryRequest, echo"
  else
    not_ok "certa serve HelloRetryRequest (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-hrr
}

# ---- KeyUpdate from s_client (its "K" and "k" commands) ------------------------
start_certa_serve serve-keyupdate --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" --trace && {
  out=$T_TMP/sclient-keyupdate.out
  : >"$out"
  t1=$(uniq_token)
  t2=$(uniq_token)
  {
    printf 'K\n'
    wait_for "$out" KEYUPDATE 10
    printf '%s\n' "$t1"
    wait_for "$out" "^$t1\$" 10
    printf 'k\n'
    wait_for "$SERVE_LOG" '< KeyUpdate \(update_not_requested\)' 10
    printf '%s\n' "$t2"
    wait_for "$out" "^$t2\$" 10
  } | timeout 30 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_3 >"$out" 2>&1
  if grep -qx -- "$t1" "$out" && grep -qx -- "$t2" "$out" &&
    grep -q '< KeyUpdate (update_requested)' "$SERVE_LOG" &&
    grep -q '> KeyUpdate (update_not_requested)' "$SERVE_LOG"; then
    ok "openssl s_client KeyUpdate (requested and not) -> certa serve: answered, data flows after"
  else
    not_ok "KeyUpdate with openssl s_client"
    show "$out" "$SERVE_LOG"
  fi
  stop_certa_serve serve-keyupdate
}

# ---- record shapes, SNI, signature schemes --------------------------------------
start_certa_serve serve-shapes --cert "$T_TMP/srv-rsa.crt" --key "$T_TMP/srv-rsa.key" && {
  if s_client_echo sclient-shapes -record_padding 512 -max_send_frag 512 -servername foo.example &&
    wait_for "$SERVE_LOG" '^conn #1 .*sni=foo.example' 5; then
    ok "openssl s_client -record_padding 512 -max_send_frag 512 -servername: echo, SNI logged"
  else
    not_ok "s_client padding/fragments/SNI (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  s_client_echo sclient-sigalgs -sigalgs RSA+SHA256
  if [ "$SC_RC" -ne 0 ] && grep -q "alert handshake failure" "$SC_OUT" &&
    wait_for "$SERVE_LOG" '^conn #2 .*CERTA_E_NO_COMMON_SIGALG, alert handshake_failure' 5; then
    ok "openssl s_client -sigalgs RSA+SHA256 (PKCS#1 only) -> RSA certa serve: CERTA_E_NO_COMMON_SIGALG"
  else
    not_ok "s_client PKCS#1-only sigalgs (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-shapes
}

# ---- ALPN ---------------------------------------------------------------------
start_certa_serve serve-alpn --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" \
  --alpn h2,http/1.1 && {
  if s_client_echo sclient-alpn -alpn foo,http/1.1 && grep -q "ALPN protocol: http/1.1" "$SC_OUT" &&
    wait_for "$SERVE_LOG" '^conn #1 .*alpn=http/1.1' 5; then
    ok "openssl s_client -alpn foo,http/1.1 -> certa serve --alpn h2,http/1.1: http/1.1"
  else
    not_ok "certa serve ALPN overlap (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  if s_client_echo sclient-alpn-none && grep -q "No ALPN negotiated" "$SC_OUT" &&
    wait_for "$SERVE_LOG" '^conn #2 .*alpn=none' 5; then
    ok "openssl s_client without ALPN -> certa serve --alpn: accepted, no ALPN"
  else
    not_ok "certa serve: client without ALPN (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-alpn
}
start_certa_serve serve-noalpn --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" \
  --alpn h2 && {
  s_client_echo sclient-noalpn -alpn foo
  if [ "$SC_RC" -ne 0 ] && grep -q "no application protocol" "$SC_OUT" &&
    wait_for "$SERVE_LOG" '^conn #1 .*handshake failed.*CERTA_E_NO_ALPN, alert no_application_protocol' 5; then
    ok "openssl s_client -alpn foo -> certa serve --alpn h2: no_application_protocol, CERTA_E_NO_ALPN logged"
  else
    not_ok "certa serve ALPN mismatch (s_client exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  # The server keeps serving after a failed handshake.
  if s_client_echo sclient-after -alpn h2 && grep -q "ALPN protocol: h2" "$SC_OUT"; then
    ok "certa serve keeps serving after a failed handshake"
  else
    not_ok "certa serve after a failed handshake (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-noalpn
}

# ---- a TLS 1.2-only client ----------------------------------------------------
start_certa_serve serve-tls12 --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" && {
  timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_2 </dev/null \
    >"$T_TMP/sclient-tls12.out" 2>&1
  rc=$?
  if [ "$rc" -ne 0 ] && grep -q "protocol version" "$T_TMP/sclient-tls12.out" &&
    wait_for "$SERVE_LOG" '^conn #1 .*handshake failed.*CERTA_E_PROTOCOL_VERSION, alert protocol_version' 5; then
    ok "openssl s_client -tls1_2 -> certa serve: refused with protocol_version"
  else
    not_ok "certa serve vs TLS 1.2 client (s_client exit $rc)"
    show "$T_TMP/sclient-tls12.out" "$SERVE_LOG"
  fi
  stop_certa_serve serve-tls12
}

finish
