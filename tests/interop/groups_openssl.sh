#!/usr/bin/env bash
# secp521r1 and x448 key exchange against openssl, both ways, TLS 1.3 and
# TLS 1.2: openssl must report the group certa chose (and certa the one
# openssl chose). The P-256 group is offered too where TLS 1.2 needs it: RFC
# 8422 5.1 lets an ECDSA P-256 certificate be used only with a client that
# names P-256 in supported_groups; the server allows only the group tested.
# Then the RFC 7919 FFDHE groups, TLS 1.3 only: openssl must see a DH key of
# the group's size, both ways; and a TLS 1.2 handshake with a server that
# lists ffdhe2048 first must settle on an ECDHE group (certa has no DHE suites).
. "$(dirname "$0")/lib.sh"
need openssl
need_certa
gen_cert ecdsa srv
for g in secp521r1 x448; do
  start_certa_serve "serve-$g" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" \
    --min-version 1.2 --groups "$g" || continue
  for v in 1.3 1.2; do
    out=$(echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls${v/./_} \
      -groups "$g:prime256v1" 2>&1)
    want=$g
    [ "$g" = x448 ] && want=X448
    if echo "$out" | grep -q "Server Temp Key: .*$want" && echo "$out" | grep -Eq "Protocol *: TLSv$v|New, TLSv$v"; then
      ok "openssl s_client -> certa serve, TLS $v, $g"
    else
      not_ok "openssl s_client -> certa serve, TLS $v, $g"
      echo "$out" | grep -E "Temp Key|Protocol|error|alert" | sed 's/^/# /' | head -5
      show "$SERVE_LOG"
    fi
  done
  stop_certa_serve "serve-$g"
  for v in 1.3 1.2; do
    start_held_openssl_server "s-$g-$v" -tls${v/./_} -groups "$g" -cert "$T_TMP/srv.crt" \
      -key "$T_TMP/srv.key" || continue
    echo | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --insecure --timeout 10 \
      --min-version 1.2 --groups "$g,secp256r1" >/dev/null 2>"$T_TMP/c-$g-$v.err"
    rc=$?
    if [ $rc -eq 0 ] && grep -q "$g" "$T_TMP/c-$g-$v.err" && grep -q "TLS $v\|TLSv$v\|TLS$v" "$T_TMP/c-$g-$v.err"; then
      ok "certa connect -> openssl s_server, TLS $v, $g"
    else
      not_ok "certa connect -> openssl s_server, TLS $v, $g (rc $rc)"
      show "$T_TMP/c-$g-$v.err" "$SRV_LOG"
    fi
    stop_held_openssl_server
  done
done
for bits in 2048 3072 4096; do
  g=ffdhe$bits
  start_certa_serve "serve-$g" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --groups "$g" || continue
  out=$(echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -groups "$g" 2>&1)
  if echo "$out" | grep -q "Server Temp Key: DH, $bits bits" && echo "$out" | grep -q "New, TLSv1.3"; then
    ok "openssl s_client -> certa serve, TLS 1.3, $g"
  else
    not_ok "openssl s_client -> certa serve, TLS 1.3, $g"
    echo "$out" | grep -E "Temp Key|Protocol|error|alert" | sed 's/^/# /' | head -5
    show "$SERVE_LOG"
  fi
  stop_certa_serve "serve-$g"
  start_held_openssl_server "s-$g" -tls1_3 -groups "$g" -cert "$T_TMP/srv.crt" \
    -key "$T_TMP/srv.key" || continue
  echo | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --insecure --timeout 10 \
    --groups "x25519,$g" >/dev/null 2>"$T_TMP/c-$g.err"
  rc=$?
  # openssl has no x25519 here: certa's first share is refused by a HelloRetryRequest.
  if [ $rc -eq 0 ] && grep -q "$g" "$T_TMP/c-$g.err" && grep -q "HelloRetryRequest" "$T_TMP/c-$g.err"; then
    ok "certa connect -> openssl s_server, TLS 1.3, $g after a HelloRetryRequest"
  else
    not_ok "certa connect -> openssl s_server, TLS 1.3, $g (rc $rc)"
    show "$T_TMP/c-$g.err" "$SRV_LOG"
  fi
  stop_held_openssl_server
done
start_certa_serve "serve-ff12" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" \
  --min-version 1.2 --groups "ffdhe2048,secp256r1"
out=$(echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_2 \
  -groups "ffdhe2048:prime256v1" 2>&1)
if echo "$out" | grep -q "Server Temp Key: ECDH, prime256v1" && echo "$out" | grep -q "New, TLSv1.2"; then
  ok "TLS 1.2: ffdhe2048 listed first is skipped, secp256r1 chosen"
else
  not_ok "TLS 1.2: ffdhe2048 listed first is skipped, secp256r1 chosen"
  echo "$out" | grep -E "Temp Key|Protocol|error|alert" | sed 's/^/# /' | head -5
  show "$SERVE_LOG"
fi
stop_certa_serve "serve-ff12"
finish
