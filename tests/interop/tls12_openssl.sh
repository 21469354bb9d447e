#!/usr/bin/env bash
# TLS 1.2 against OpenSSL, both directions, over loopback:
#   certa connect --min-version 1.2 -> openssl s_server -tls1_2 -rev and
#   openssl s_client -tls1_2 -> certa serve --min-version 1.2, for every TLS 1.2
#   suite x {ECDSA P-256, RSA-2048} x {x25519, secp256r1, secp384r1} (an
#   ECDSA P-256 server needs secp256r1 among the client's groups in TLS 1.2,
#   RFC 8422 section 5.1: checked both ways too);
# mutual TLS both ways (and allow rules refusing, on either side), resumed
# with the client identity kept; ALPN and SNI; resumption by RFC 5077 ticket
# (-sess_out/-sess_in, certa connect --session), declined after a restart,
# and no session-ID cache; renegotiation refused both ways (s_client "R", s_server "r"); a peer
# without the extended master secret refused with the sentence, accepted with
# --allow-no-ems; TLS_FALLBACK_SCSV; the downgrade sentinel: a 1.3-capable
# certa serve forced to 1.2 puts it in ServerHello.random, a 1.2-only one does
# not, and certa connect refuses a downgraded ServerHello (a raw server, and a
# man in the middle stripping supported_versions in front of s_server).
. "$(dirname "$0")/lib.sh"
need openssl python3 rev
need_certa

CERTS=(ecdsa rsa)
GROUPS_=(x25519 secp256r1 secp384r1)
declare -A OSSL_GROUP=([x25519]=X25519 [secp256r1]=P-256 [secp384r1]=P-384)
declare -A TEMP_KEY=([x25519]="X25519" [secp256r1]="ECDH, prime256v1" [secp384r1]="ECDH, secp384r1")
declare -A SIG=([ecdsa]=ecdsa_secp256r1_sha256 [rsa]=rsa_pss_rsae_sha256)
declare -A KEYTYPE=([ecdsa]="ECDSA P-256" [rsa]="RSA 2048")
# groups_for CERT GROUP: the client's group list for a case. In TLS 1.2 the
# supported_groups extension also names the curves the client accepts in the
# server's ECDSA certificate (RFC 8422 section 5.1), so an ECDSA P-256 case
# lists secp256r1 after the group it wants (the server follows the client's
# order, or its own that starts with secp384r1, then x25519).
groups_for() {
  if [ "$1" = ecdsa ] && [ "$2" != secp256r1 ]; then echo "$2,secp256r1"; else echo "$2"; fi
}
SENTINEL=444F574E47524401
V12=(--min-version 1.2 --max-version 1.2)

for cert in "${CERTS[@]}"; do
  gen_cert "$cert" "srv-$cert" || not_ok "generate $cert certificate"
done
gen_ca ca && gen_leaf leaf ca && gen_leaf client ca clientAuth && gen_leaf client2 ca clientAuth ||
  not_ok "generate the CA, server and client certificates"

# connect_rev NAME ARGS...: certa connect to the s_server -rev at $SRV_PORT;
# ok when the reversed line comes back. stderr in $CONNECT_ERR.
connect_rev() {
  local name=$1 tok
  shift
  tok=$(uniq_token)
  CONNECT_ERR=$T_TMP/$name.err
  printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --timeout 10 "$@" \
    >"$T_TMP/$name.out" 2>"$CONNECT_ERR"
  CONNECT_RC=$?
  [ "$CONNECT_RC" -eq 0 ] && grep -qxF -- "$(rev_str "$tok")" "$T_TMP/$name.out"
}
# s_client_echo NAME ARGS...: openssl s_client to certa serve at $SERVE_PORT
# sends a unique line and waits (bounded) for the echo, or for an OpenSSL
# error line (a refused handshake). Output in $SC_OUT.
s_client_echo() {
  local name=$1 tok
  shift
  tok=$(uniq_token)
  SC_OUT=$T_TMP/$name.out
  : >"$SC_OUT"
  feed_until "$SC_OUT" "^$tok\$|:error:[0-9A-F]{8}:" 10 "$tok" |
    timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" "$@" >"$SC_OUT" 2>&1
  SC_RC=$?
  grep -qx -- "$tok" "$SC_OUT"
}
# server_random FILE: the ServerHello random_bytes of an s_client -trace log
# (the second "random_bytes" line; the first is the ClientHello's).
server_random() {
  grep -o 'random_bytes (len=28): [0-9A-F]*' "$1" | sed -n '2s/.*: //p'
}

# ---- certa connect -> openssl s_server -tls1_2 ----------------------------------
for cert in "${CERTS[@]}"; do
  pin=$(pin_of "$T_TMP/srv-$cert.crt")
  start_openssl_server "s_server-$cert" -tls1_2 -rev -cert "$T_TMP/srv-$cert.crt" \
    -key "$T_TMP/srv-$cert.key" -groups X25519:P-256:P-384 || continue
  i=0
  for suite in $(tls12_suites "$cert"); do
    for group in "${GROUPS_[@]}"; do
      i=$((i + 1))
      # Alternate the two spellings --ciphers accepts (IANA, OpenSSL).
      name=$suite
      [ $((i % 2)) -eq 0 ] && name=${TLS12_OSSL[$suite]}
      if connect_rev "connect-$cert-$suite-$group" --pin "$pin" --min-version 1.2 \
        --ciphers "$name" --groups "$(groups_for "$cert" "$group")" &&
        grep -q "^\* protocol: *TLSv1.2\$" "$CONNECT_ERR" &&
        grep -q "^\* cipher suite: *$suite\$" "$CONNECT_ERR" &&
        grep -q "^\* key exchange: *$group\$" "$CONNECT_ERR" &&
        grep -q "^\* server signature: *${SIG[$cert]}\$" "$CONNECT_ERR" &&
        grep -q "^\*   key type: *${KEYTYPE[$cert]}\$" "$CONNECT_ERR" &&
        grep -q "^\* < ServerHello (TLS 1.2, $suite, extended master secret)" "$CONNECT_ERR"; then
        ok "certa connect --ciphers $name --groups $(groups_for "$cert" "$group") -> s_server -tls1_2 ($cert): TLSv1.2 $group, EMS, round trip"
      else
        not_ok "certa connect -> s_server -tls1_2: $cert $suite $group (exit $CONNECT_RC)"
        show "$CONNECT_ERR" "$SRV_LOG"
      fi
    done
  done
  if [ "$cert" = ecdsa ]; then
    connect_rev "connect-ecdsa-x25519-only" --pin "$pin" --min-version 1.2 --max-version 1.2 --groups x25519
    if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*alert handshake_failure" "$CONNECT_ERR" &&
      grep -q "no shared cipher" "$SRV_LOG"; then
      ok "certa connect --groups x25519 -> ECDSA P-256 s_server -tls1_2: no usable ECDSA suite (RFC 8422), handshake_failure"
    else
      not_ok "certa connect --groups x25519 -> ECDSA P-256 s_server -tls1_2 (exit $CONNECT_RC)"
      show "$CONNECT_ERR" "$SRV_LOG"
    fi
    # certa offered TLS 1.2 only here: its explanation must not say otherwise.
    if ! grep -q "certa offers TLS 1.3 only" "$CONNECT_ERR"; then
      ok "certa connect --max-version 1.2: the peer's handshake_failure is explained without 'certa offers TLS 1.3 only'"
    else
      not_ok "certa connect --max-version 1.2: the explanation of the peer's handshake_failure says 'certa offers TLS 1.3 only'"
      show "$CONNECT_ERR"
    fi
  fi
  stop "$SRV_PID"
done

# Without --min-version 1.2 (the default, TLS 1.3 only) the same server is refused.
start_openssl_server s_server-default -tls1_2 -rev -cert "$T_TMP/srv-ecdsa.crt" \
  -key "$T_TMP/srv-ecdsa.key" && {
  connect_rev default13 --pin "$(pin_of "$T_TMP/srv-ecdsa.crt")"
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*protocol_version" "$CONNECT_ERR"; then
    ok "certa connect (default: TLS 1.3 only) -> s_server -tls1_2: refused, protocol_version"
  else
    not_ok "certa connect default -> TLS 1.2 server (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  # A TLS 1.3 suite only: no TLS 1.2 suite left to offer the 1.2 server.
  connect_rev only13suite --pin "$(pin_of "$T_TMP/srv-ecdsa.crt")" --min-version 1.2 \
    --ciphers TLS_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*(CERTA_E_" "$CONNECT_ERR"; then
    ok "certa connect --ciphers with no ECDSA 1.2 suite -> ECDSA s_server -tls1_2: fails, explained"
  else
    not_ok "certa connect without a usable TLS 1.2 suite (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}

# ---- openssl s_client -tls1_2 -> certa serve --min-version 1.2 ---------------------
for cert in "${CERTS[@]}"; do
  start_certa_serve "serve-$cert" --min-version 1.2 --groups secp384r1,x25519,secp256r1 \
    --cert "$T_TMP/srv-$cert.crt" --key "$T_TMP/srv-$cert.key" || continue
  n=0
  for suite in $(tls12_suites "$cert"); do
    for group in "${GROUPS_[@]}"; do
      n=$((n + 1))
      osuite=${TLS12_OSSL[$suite]}
      og=""
      IFS=, read -ra glist <<<"$(groups_for "$cert" "$group")"
      for g in "${glist[@]}"; do og+="${og:+:}${OSSL_GROUP[$g]}"; done
      if s_client_echo "sclient-$cert-$suite-$group" -tls1_2 -cipher "$osuite" -groups "$og" &&
        grep -q "^New, TLSv1.2, Cipher is $osuite\$" "$SC_OUT" &&
        grep -q "Server Temp Key: ${TEMP_KEY[$group]}" "$SC_OUT" &&
        grep -q "Extended master secret: yes" "$SC_OUT" &&
        grep -q "^Secure Renegotiation IS supported" "$SC_OUT" &&
        [[ $(conn_line "$SERVE_LOG" $n) == *": TLSv1.2 $suite $group "*"ended: closed by the client"* ]]; then
        ok "openssl s_client -tls1_2 -cipher $osuite -groups $og -> certa serve ($cert): $group, echo, EMS, secure renegotiation"
      else
        not_ok "openssl s_client -tls1_2 -> certa serve: $cert $suite $group (exit $SC_RC)"
        show "$SC_OUT" "$SERVE_LOG"
      fi
    done
  done
  # A suite for the other certificate type: no common suite.
  other=ECDHE-RSA-AES128-GCM-SHA256
  [ "$cert" = rsa ] && other=ECDHE-ECDSA-AES128-GCM-SHA256
  s_client_echo "sclient-$cert-wrongauth" -tls1_2 -cipher "$other"
  n=$((n + 1))
  if [ "$SC_RC" -ne 0 ] && grep -q "alert handshake failure" "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" $n) == *"handshake failed"*"alert handshake_failure"* ]]; then
    ok "openssl s_client -tls1_2 -cipher $other -> $cert certa serve: handshake_failure, logged"
  else
    not_ok "s_client with only a suite for the other key type -> $cert certa serve (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  if [ "$cert" = ecdsa ]; then
    # RFC 8422 section 5.1: the client accepts no curve of this certificate.
    s_client_echo sclient-ecdsa-x25519-only -tls1_2 -groups X25519
    n=$((n + 1))
    line=$(conn_line "$SERVE_LOG" $n)
    if [ "$SC_RC" -ne 0 ] && grep -q "alert handshake failure" "$SC_OUT" &&
      [[ $line == *"handshake failed"*"alert handshake_failure"* ]]; then
      ok "openssl s_client -tls1_2 -groups X25519 -> ECDSA P-256 certa serve: refused (RFC 8422: no P-256 in supported_groups)"
    else
      not_ok "s_client -tls1_2 -groups X25519 -> ECDSA P-256 certa serve (exit $SC_RC)"
      show "$SC_OUT" "$SERVE_LOG"
    fi
    # The client did offer ECDHE-ECDSA AEAD suites and ecdsa_secp256r1_sha256:
    # the explanation must point at the groups (the certificate's curve).
    if [[ $line == *"handshake failed"* && $line =~ (group|curve|secp256r1|P-256.*supported) &&
      $line != *"allow an ECDHE-ECDSA AEAD suite on the client"* ]]; then
      ok "certa serve: the refusal of a client without P-256 in supported_groups names the groups"
    else
      not_ok "certa serve: a client offering ECDHE-ECDSA suites but no P-256 group is told to allow an ECDHE-ECDSA suite (wrong cause): ${line#*: }"
    fi
  fi
  stop_certa_serve "serve-$cert"
done

# ---- mutual TLS ---------------------------------------------------------------
start_certa_serve serve-mtls "${V12[@]}" --cert "$T_TMP/leaf.crt" --key "$T_TMP/leaf.key" \
  --client-ca "$T_TMP/ca.crt" --allow "$(pin_of "$T_TMP/client.crt")" && {
  M=(-tls1_2 -CAfile "$T_TMP/ca.crt" -verify_return_error -servername localhost)
  if s_client_echo sclient-mtls "${M[@]}" -cert "$T_TMP/client.crt" -key "$T_TMP/client.key" &&
    grep -q '^New, TLSv1.2' "$SC_OUT" && grep -q 'Verify return code: 0 (ok)' "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 1) == *": TLSv1.2 "*"client="*"(verified)"* ]]; then
    ok "mTLS 1.2: s_client -cert -> certa serve --client-ca --allow PIN: both verified, echo"
  else
    not_ok "mTLS 1.2: s_client -cert -> certa serve --client-ca (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  # In TLS 1.2 the client's flight ends before the server can object: s_client
  # prints its session, then reads the alert.
  s_client_echo sclient-mtls-nocert "${M[@]}"
  if [ "$SC_RC" -ne 0 ] && grep -q "alert handshake failure" "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 2) == *"handshake failed"*"CERTA_E_CERTIFICATE_REQUIRED"* ]]; then
    ok "mTLS 1.2: s_client without a certificate -> certa serve --client-ca: refused, logged"
  else
    not_ok "mTLS 1.2: s_client without a certificate (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  s_client_echo sclient-mtls-other "${M[@]}" -cert "$T_TMP/client2.crt" -key "$T_TMP/client2.key"
  if [ "$SC_RC" -ne 0 ] &&
    [[ $(conn_line "$SERVE_LOG" 3) == *"CERTA_E_IDENTITY_NOT_ALLOWED"* ]]; then
    ok "mTLS 1.2: a valid client certificate not matching --allow: CERTA_E_IDENTITY_NOT_ALLOWED"
  else
    not_ok "mTLS 1.2: client not allowed (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  # Resumption keeps the client identity the full handshake verified.
  s_client_echo sclient-mtls-full "${M[@]}" -cert "$T_TMP/client.crt" -key "$T_TMP/client.key" \
    -sess_out "$T_TMP/mtls12.sess"
  if s_client_echo sclient-mtls-resumed "${M[@]}" -cert "$T_TMP/client.crt" -key "$T_TMP/client.key" \
    -sess_in "$T_TMP/mtls12.sess" && grep -q '^Reused, TLSv1.2' "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 5) == *": TLSv1.2 "*" resumed=yes "*"client=localhost (verified)"* ]]; then
    ok "mTLS 1.2: s_client -cert -sess_in -> certa serve --client-ca: Reused, the log keeps client=localhost (verified)"
  else
    not_ok "mTLS 1.2 resumption (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-mtls
}
start_openssl_server s_server-mtls -tls1_2 -rev -cert "$T_TMP/leaf.crt" -key "$T_TMP/leaf.key" \
  -Verify 1 -CAfile "$T_TMP/ca.crt" -verify_return_error && {
  if connect_rev connect-mtls --min-version 1.2 --trust "$T_TMP/ca.crt" --cert "$T_TMP/client.crt" \
    --key "$T_TMP/client.key" && grep -q '^\* protocol: *TLSv1.2$' "$CONNECT_ERR" &&
    grep -q '^\* > Certificate' "$CONNECT_ERR" && grep -q '^\* > CertificateVerify' "$CONNECT_ERR" &&
    grep -q "server identity: *verified" "$CONNECT_ERR"; then
    ok "mTLS 1.2: certa connect --cert -> s_server -Verify: client certificate accepted, round trip"
  else
    not_ok "mTLS 1.2: certa connect --cert -> s_server -Verify (exit $CONNECT_RC)"
    show "$CONNECT_ERR" "$SRV_LOG"
  fi
  connect_rev connect-mtls-nocert --min-version 1.2 --trust "$T_TMP/ca.crt"
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed" "$CONNECT_ERR"; then
    ok "mTLS 1.2: certa connect without a certificate -> s_server -Verify: fails, explained"
  else
    not_ok "mTLS 1.2: certa connect without a certificate (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}

# ---- resumption (RFC 5077 tickets) ----------------------------------------------
start_certa_serve serve-resume "${V12[@]}" --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" && {
  if s_client_echo sc-full -tls1_2 -sess_out "$T_TMP/t12.sess" && grep -q '^New, TLSv1.2' "$SC_OUT" &&
    grep -q 'TLS session ticket lifetime hint' "$SC_OUT" && [ -s "$T_TMP/t12.sess" ] &&
    [[ $(conn_line "$SERVE_LOG" 1) == *" resumed=no "* ]]; then
    ok "s_client -tls1_2 -sess_out -> certa serve: New, a session ticket received, logged resumed=no"
  else
    not_ok "s_client -tls1_2 -sess_out -> certa serve (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  if s_client_echo sc-reuse -tls1_2 -sess_in "$T_TMP/t12.sess" && grep -q '^Reused, TLSv1.2' "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 2) == *": TLSv1.2 "*" resumed=yes "* ]]; then
    ok "s_client -tls1_2 -sess_in -> certa serve: Reused, TLSv1.2, echo, logged resumed=yes"
  else
    not_ok "s_client -tls1_2 -sess_in -> certa serve: not resumed (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  # No session-ID cache: without a ticket the server gives no session ID,
  # so there is no session to resume (s_client -sess_out writes nothing).
  rm -f "$T_TMP/noticket.sess"
  if s_client_echo sc-noticket -tls1_2 -no_ticket -sess_out "$T_TMP/noticket.sess" &&
    grep -q '^New, TLSv1.2' "$SC_OUT" && grep -q '^ *Session-ID: *$' "$SC_OUT" &&
    ! grep -q 'TLS session ticket' "$SC_OUT" && [ ! -e "$T_TMP/noticket.sess" ] &&
    [[ $(conn_line "$SERVE_LOG" 3) == *" resumed=no "* ]]; then
    ok "s_client -tls1_2 -no_ticket -> certa serve: empty session ID, no ticket, nothing to resume (no session-ID cache)"
  else
    not_ok "s_client -no_ticket -> certa serve (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  # certa connect --session against certa serve in 1.2.
  CS=$T_TMP/self12.sess
  for i in 1 2; do
    echo ping | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" "${V12[@]}" \
      --trust "$T_TMP/srv-ecdsa.crt" --session "$CS" >"$T_TMP/self12-$i.out" 2>"$T_TMP/self12-$i.err"
    eval "rc$i=$?"
  done
  if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && grep -qx ping "$T_TMP/self12-2.out" &&
    grep -q '^\* resumed: *no$' "$T_TMP/self12-1.err" &&
    grep -q '^\* resumed: *yes (session ticket)$' "$T_TMP/self12-2.err" &&
    grep -q '^\* protocol: *TLSv1.2$' "$T_TMP/self12-2.err" &&
    [[ $(conn_line "$SERVE_LOG" 5) == *": TLSv1.2 "*" resumed=yes "* ]]; then
    ok "certa connect --session -> certa serve (TLS 1.2): full, then resumed by ticket"
  else
    not_ok "certa connect --session -> certa serve in TLS 1.2 (exit $rc1/$rc2)"
    show "$T_TMP/self12-1.err" "$T_TMP/self12-2.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-resume
}
start_openssl_server s_server-resume -tls1_2 -rev -cert "$T_TMP/srv-ecdsa.crt" -key "$T_TMP/srv-ecdsa.key" && {
  F=$T_TMP/ossl12.sess
  for i in 1 2; do
    connect_rev "to-ossl12-$i" --min-version 1.2 --trust "$T_TMP/srv-ecdsa.crt" --session "$F"
    eval "rc$i=$CONNECT_RC"
  done
  if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && grep -q '^\* resumed: *no$' "$T_TMP/to-ossl12-1.err" &&
    grep -q '^\* resumed: *yes (session ticket)$' "$T_TMP/to-ossl12-2.err" &&
    grep -q '^\* protocol: *TLSv1.2$' "$T_TMP/to-ossl12-2.err" && [ "$(stat -c %a "$F")" = 600 ]; then
    ok "certa connect --session -> openssl s_server -tls1_2: second run resumed by the server's ticket"
  else
    not_ok "certa connect --session -> s_server -tls1_2 (exit $rc1/$rc2)"
    show "$T_TMP/to-ossl12-1.err" "$T_TMP/to-ossl12-2.err" "$SRV_LOG"
  fi
  stop "$SRV_PID"
}

# A restarted certa serve (new random ticket key) declines the old ticket.
start_certa_serve serve-restarted "${V12[@]}" --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" && {
  if s_client_echo sc-restarted -tls1_2 -sess_in "$T_TMP/t12.sess" && grep -q '^New, TLSv1.2' "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 1) == *" resumed=no "* ]]; then
    ok "s_client -tls1_2 -sess_in with a ticket from before a certa serve restart: New (full handshake), echo"
  else
    not_ok "s_client -tls1_2 -sess_in after a certa serve restart (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-restarted
}

# ---- ALPN and the client's allow rules in 1.2 ------------------------------------------
start_certa_serve serve-alpn "${V12[@]}" --alpn h2,http/1.1 --cert "$T_TMP/srv-ecdsa.crt" \
  --key "$T_TMP/srv-ecdsa.key" && {
  if s_client_echo sclient-alpn -tls1_2 -alpn foo,http/1.1 -servername foo.example &&
    grep -q "ALPN protocol: http/1.1" "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 1) == *": TLSv1.2 "*"alpn=http/1.1 sni=foo.example"* ]]; then
    ok "s_client -tls1_2 -alpn foo,http/1.1 -servername -> certa serve --alpn h2,http/1.1: http/1.1, SNI logged"
  else
    not_ok "certa serve ALPN/SNI in TLS 1.2 (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  s_client_echo sclient-noalpn -tls1_2 -alpn foo
  if [ "$SC_RC" -ne 0 ] && grep -q "no application protocol" "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 2) == *"CERTA_E_NO_ALPN, alert no_application_protocol"* ]]; then
    ok "s_client -tls1_2 -alpn foo -> certa serve --alpn h2,http/1.1: no_application_protocol"
  else
    not_ok "certa serve ALPN mismatch in TLS 1.2 (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-alpn
}
start_openssl_server s_server-expect -tls1_2 -rev -cert "$T_TMP/leaf.crt" -key "$T_TMP/leaf.key" \
  -alpn http/1.1 && {
  if connect_rev expect-ok --min-version 1.2 --trust "$T_TMP/ca.crt" --servername localhost \
    --expect dns:localhost --alpn h2,http/1.1 && grep -q '^\* protocol: *TLSv1.2$' "$CONNECT_ERR" &&
    grep -q "ALPN: *http/1.1" "$CONNECT_ERR"; then
    ok "certa connect --min-version 1.2 --expect dns:localhost --alpn h2,http/1.1 -> s_server -tls1_2 -alpn http/1.1: accepted, http/1.1"
  else
    not_ok "certa connect --expect dns:localhost in TLS 1.2 (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  connect_rev expect-wrong --min-version 1.2 --trust "$T_TMP/ca.crt" --servername localhost \
    --expect dns:other.example
  if [ "$CONNECT_RC" -eq 1 ] && grep -q "handshake failed: .*(CERTA_E_IDENTITY_NOT_ALLOWED" "$CONNECT_ERR" &&
    ! [ -s "$T_TMP/expect-wrong.out" ]; then
    ok "certa connect --min-version 1.2 --expect dns:other.example: CERTA_E_IDENTITY_NOT_ALLOWED, no data"
  else
    not_ok "certa connect --expect mismatch in TLS 1.2 (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}

# ---- renegotiation is refused -------------------------------------------------
start_certa_serve serve-reneg "${V12[@]}" --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" --trace && {
  out=$T_TMP/sclient-reneg.out
  t1=$(uniq_token)
  : >"$out"
  {
    printf '%s\n' "$t1"
    wait_for "$out" "^$t1\$" 10
    printf 'R\n' # s_client: renegotiate (a new ClientHello under the current keys)
    wait_for "$out" "RENEGOTIATING" 10
    wait_for "$SERVE_LOG" '^conn #1 .*ended' 10
  } | timeout 30 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_2 >"$out" 2>&1
  # certa answers the ClientHello with a no_renegotiation warning; OpenSSL
  # then gives up the connection itself (ssl3_read_bytes: no renegotiation).
  if grep -qx -- "$t1" "$out" && grep -q RENEGOTIATING "$out" &&
    grep -q "no renegotiation" "$out" &&
    grep -q '^\* \[#1\] < ClientHello: renegotiation refused (no_renegotiation)' "$SERVE_LOG" &&
    [[ $(conn_line "$SERVE_LOG" 1) == *": TLSv1.2 "* ]]; then
    ok "s_client -tls1_2 'R' (renegotiate) -> certa serve: refused with no_renegotiation, traced"
  else
    not_ok "renegotiation from s_client not refused with no_renegotiation"
    show "$out" "$SERVE_LOG"
  fi
  # OpenSSL answers the refusal with a fatal handshake_failure: the line that
  # ends the connection must say it followed a refused renegotiation, not
  # send the reader to compare suites and groups of a handshake that worked.
  line=$(conn_line "$SERVE_LOG" 1)
  if [[ ${line#*ended: } == *renegotiat* ]]; then
    ok "certa serve: the connection's end after a refused renegotiation names the renegotiation"
  else
    not_ok "certa serve: after refusing s_client's renegotiation the log blames handshake parameters: ${line#*ended: }"
  fi
  stop_certa_serve serve-reneg
}
fifo=$T_TMP/s_server.in
mkfifo "$fifo"
exec 7<>"$fifo"
BG_STDIN=$fifo start_openssl_server s_server-reneg -tls1_2 -cert "$T_TMP/srv-ecdsa.crt" \
  -key "$T_TMP/srv-ecdsa.key" && {
  tc=$(uniq_token)
  ts=$(uniq_token)
  out=$T_TMP/reneg-client.out
  err=$T_TMP/reneg-client.err
  : >"$out"
  : >"$err"
  { printf '%s\n' "$tc"; wait_for "$out" "^$ts\$" 15; } |
    timeout 30 "$CERTA" connect "127.0.0.1:$SRV_PORT" --min-version 1.2 \
      --pin "$(pin_of "$T_TMP/srv-ecdsa.crt")" >"$out" 2>"$err" &
  cpid=$!
  wait_for "$SRV_LOG" "^$tc\$" 10 # s_server printed what certa sent
  printf 'r\n' >&7                 # s_server: HelloRequest
  # OpenSSL treats the no_renegotiation answer to its HelloRequest as the
  # end of the connection (ssl3_read_bytes: no renegotiation, then a fatal
  # handshake_failure): no data can follow, whatever the client.
  wait_for "$SRV_LOG" "no renegotiation" 10
  printf '%s\n' "$ts" >&7
  wait "$cpid"
  rc=$?
  if grep -q "ssl3_read_bytes:no renegotiation" "$SRV_LOG" &&
    grep -q '^\* < HelloRequest: renegotiation refused (no_renegotiation)' "$err" &&
    grep -q '^\* protocol: *TLSv1.2$' "$err"; then
    ok "openssl s_server 'r' (HelloRequest) -> certa connect: refused with a no_renegotiation alert"
  else
    not_ok "HelloRequest from s_server not answered with no_renegotiation (exit $rc)"
    show "$err" "$SRV_LOG"
  fi
  last=$(grep '^certa: ' "$err" | tail -n1)
  if [[ $last == *renegotiat* ]]; then
    ok "certa connect: the error ending the connection after a refused renegotiation names the renegotiation"
  else
    not_ok "certa connect: after refusing s_server's HelloRequest the error blames handshake parameters: $last"
  fi
  stop "$SRV_PID"
}
exec 7>&-

# ---- extended master secret -------------------------------------------------------
NOEMS=$(no_ems_openssl_conf)
start_certa_serve serve-ems "${V12[@]}" --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" && {
  OPENSSL_CONF=$NOEMS s_client_echo sclient-noems -tls1_2
  if [ "$SC_RC" -ne 0 ] && ! grep -q '^New, TLSv1.2' "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 1) == *"CERTA_E_NO_EXTENDED_MASTER_SECRET"*"extended master secret"*"--allow-no-ems"* ]]; then
    ok "s_client -tls1_2 without EMS -> certa serve: refused, the log explains (CERTA_E_NO_EXTENDED_MASTER_SECRET, --allow-no-ems)"
  else
    not_ok "s_client without EMS -> certa serve (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-ems
}
start_certa_serve serve-allownoems "${V12[@]}" --allow-no-ems --cert "$T_TMP/srv-ecdsa.crt" \
  --key "$T_TMP/srv-ecdsa.key" && {
  if OPENSSL_CONF=$NOEMS s_client_echo sclient-allownoems -tls1_2 && grep -q '^New, TLSv1.2' "$SC_OUT" &&
    grep -q "Extended master secret: no" "$SC_OUT" && grep -q WARNING "$SERVE_LOG"; then
    ok "s_client -tls1_2 without EMS -> certa serve --allow-no-ems: accepted (EMS no), with a warning"
  else
    not_ok "s_client without EMS -> certa serve --allow-no-ems (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-allownoems
}
OPENSSL_CONF=$NOEMS start_openssl_server s_server-noems -tls1_2 -rev -cert "$T_TMP/srv-ecdsa.crt" \
  -key "$T_TMP/srv-ecdsa.key" && {
  pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
  connect_rev connect-noems --min-version 1.2 --pin "$pin"
  if [ "$CONNECT_RC" -eq 1 ] &&
    grep -q "handshake failed: .*extended master secret.*--allow-no-ems.*(CERTA_E_NO_EXTENDED_MASTER_SECRET" "$CONNECT_ERR"; then
    ok "certa connect -> s_server -tls1_2 without EMS: refused with the sentence"
  else
    not_ok "certa connect -> s_server without EMS (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  if connect_rev connect-allownoems --min-version 1.2 --pin "$pin" --allow-no-ems &&
    grep -q '^\* protocol: *TLSv1.2$' "$CONNECT_ERR" && grep -q 'WARNING.*--allow-no-ems\|--allow-no-ems.*WARNING\|WARNING.*extended master' "$CONNECT_ERR" &&
    ! grep -q "ServerHello (TLS 1.2, .*extended master secret" "$CONNECT_ERR"; then
    ok "certa connect --allow-no-ems -> s_server without EMS: accepted, warned, round trip"
  else
    not_ok "certa connect --allow-no-ems -> s_server without EMS (exit $CONNECT_RC)"
    show "$CONNECT_ERR"
  fi
  stop "$SRV_PID"
}

# ---- TLS_FALLBACK_SCSV and the downgrade sentinel, certa serving ---------------------
start_certa_serve serve-both --min-version 1.2 --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" && {
  if s_client_echo sclient-sentinel -tls1_2 -trace && grep -q '^New, TLSv1.2' "$SC_OUT" &&
    [[ $(server_random "$SC_OUT") == *$SENTINEL ]]; then
    ok "s_client -tls1_2 -> certa serve (1.2 and 1.3): ServerHello.random ends with the sentinel 44 4F 57 4E 47 52 44 01"
  else
    not_ok "certa serve (1.2 and 1.3) forced to 1.2: no downgrade sentinel (random $(server_random "$SC_OUT"))"
    show "$SC_OUT"
  fi
  if s_client_echo sclient-13 -trace && grep -q '^New, TLSv1.3' "$SC_OUT" &&
    [[ $(server_random "$SC_OUT") != *$SENTINEL ]]; then
    ok "s_client (1.3 capable) -> certa serve --min-version 1.2: TLSv1.3, no sentinel"
  else
    not_ok "s_client (1.3) -> certa serve --min-version 1.2 (exit $SC_RC)"
    show "$SC_OUT"
  fi
  s_client_echo sclient-fallback -tls1_2 -fallback_scsv
  if [ "$SC_RC" -ne 0 ] && grep -q "inappropriate fallback" "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 3) == *"CERTA_E_INAPPROPRIATE_FALLBACK"* ]]; then
    ok "s_client -tls1_2 -fallback_scsv -> certa serve (1.3 capable): inappropriate_fallback"
  else
    not_ok "TLS_FALLBACK_SCSV not honoured (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-both
}
start_certa_serve serve-only12 "${V12[@]}" --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" && {
  if s_client_echo sclient-only12 -tls1_2 -trace && grep -q '^New, TLSv1.2' "$SC_OUT" &&
    [[ -n $(server_random "$SC_OUT") && $(server_random "$SC_OUT") != *$SENTINEL ]]; then
    ok "s_client -tls1_2 -> certa serve --max-version 1.2: no sentinel (the server cannot do 1.3)"
  else
    not_ok "certa serve --max-version 1.2 sent the sentinel or failed (random $(server_random "$SC_OUT"))"
    show "$SC_OUT"
  fi
  # A 1.3-capable client (which checks the sentinel) gets TLS 1.2.
  if s_client_echo sclient-13-to-12 && grep -q '^New, TLSv1.2' "$SC_OUT"; then
    ok "s_client (1.3 capable, checks the sentinel) -> certa serve --max-version 1.2: TLSv1.2, echo"
  else
    not_ok "s_client (1.3 capable) -> certa serve --max-version 1.2 (exit $SC_RC)"
    show "$SC_OUT"
  fi
  if s_client_echo sclient-fallback12 -tls1_2 -fallback_scsv && grep -q '^New, TLSv1.2' "$SC_OUT"; then
    ok "s_client -tls1_2 -fallback_scsv -> certa serve --max-version 1.2: accepted (1.2 is its best)"
  else
    not_ok "TLS_FALLBACK_SCSV refused by a 1.2-only certa serve (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-only12
}

# ---- the downgrade sentinel, certa connecting ---------------------------------------
# A raw server answering TLS 1.2 with the sentinel (tests/behaviour/raw_peer.py).
PEER=$REPO_DIR/tests/behaviour/raw_peer.py
if python3 -c 'import cryptography' 2>/dev/null; then
  bg "$T_TMP/raw-sentinel.log" python3 "$PEER" --serve \
    "TLS 1.2 ServerHello with the downgrade sentinel in its random" --timeout 5
  rp=$BG_PID
  if wait_for "$T_TMP/raw-sentinel.log" '^port [0-9]+$' 10; then
    port=$(sed -n 's/^port //p' "$T_TMP/raw-sentinel.log")
    timeout 20 "$CERTA" connect "127.0.0.1:$port" --min-version 1.2 --insecure --timeout 5 </dev/null \
      >/dev/null 2>"$T_TMP/raw-sentinel.err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "handshake failed: .*(CERTA_E_DOWNGRADE, alert illegal_parameter)" "$T_TMP/raw-sentinel.err"; then
      ok "certa connect --min-version 1.2 (1.3 capable) -> a TLS 1.2 ServerHello with the sentinel: CERTA_E_DOWNGRADE"
    else
      not_ok "certa connect did not refuse a downgraded ServerHello (exit $rc)"
      show "$T_TMP/raw-sentinel.err" "$T_TMP/raw-sentinel.log"
    fi
  else
    not_ok "raw_peer.py server did not start"
    show "$T_TMP/raw-sentinel.log"
  fi
  stop "$rp"
else
  skip "python3 cryptography module missing: raw downgraded ServerHello case"
fi
# A man in the middle strips supported_versions in front of a 1.3-capable
# s_server, which then answers TLS 1.2 with the sentinel.
start_openssl_server s_server-mitm -rev -cert "$T_TMP/srv-ecdsa.crt" -key "$T_TMP/srv-ecdsa.key" && {
  pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
  for mode in pass strip; do
    log=$T_TMP/mitm-$mode.log
    margs=()
    [ "$mode" = strip ] && margs=(--strip)
    bg "$log" python3 "$LIB_DIR/downgrade_mitm.py" "$SRV_PORT" "${margs[@]}" --timeout 15
    mp=$BG_PID
    if ! wait_for "$log" '^port [0-9]+$' 10; then
      not_ok "downgrade_mitm.py ($mode) did not start"
      show "$log"
      continue
    fi
    mport=$(sed -n 's/^port //p' "$log")
    tok=$(uniq_token)
    printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "127.0.0.1:$mport" --min-version 1.2 --pin "$pin" \
      --timeout 10 >"$T_TMP/mitm-$mode.out" 2>"$T_TMP/mitm-$mode.err"
    rc=$?
    wait_for "$log" 'closed|timeout' 5
    if [ "$mode" = pass ]; then
      if [ "$rc" -eq 0 ] && grep -qxF "$(rev_str "$tok")" "$T_TMP/mitm-pass.out" &&
        grep -q '^\* protocol: *TLSv1.3$' "$T_TMP/mitm-pass.err"; then
        ok "certa connect --min-version 1.2 -> relay -> s_server (1.3 capable): TLSv1.3 (control)"
      else
        not_ok "certa connect through the unchanged relay (exit $rc)"
        show "$T_TMP/mitm-pass.err" "$log"
      fi
    else
      if [ "$rc" -eq 1 ] && grep -q '^# forwarded supported_versions: no' "$log" &&
        grep -q "^# server hello version 0x0303 random ends ${SENTINEL,,}" "$log" &&
        grep -q "handshake failed: .*(CERTA_E_DOWNGRADE, alert illegal_parameter)" "$T_TMP/mitm-strip.err" &&
        ! [ -s "$T_TMP/mitm-strip.out" ]; then
        ok "certa connect -> MITM stripping supported_versions -> s_server: the sentinel is seen, CERTA_E_DOWNGRADE"
      else
        not_ok "certa connect did not refuse the downgrade by a man in the middle (exit $rc)"
        show "$T_TMP/mitm-strip.err" "$log"
      fi
    fi
    stop "$mp"
  done
  stop "$SRV_PID"
}

finish
