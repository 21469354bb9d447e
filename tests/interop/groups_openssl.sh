#!/usr/bin/env bash
# secp521r1 and x448 key exchange against openssl, both ways, TLS 1.3 and
# TLS 1.2: openssl must report the group certa chose (and certa the one
# openssl chose). The P-256 group is offered too where TLS 1.2 needs it: RFC
# 8422 5.1 lets an ECDSA P-256 certificate be used only with a client that
# names P-256 in supported_groups; the server allows only the group tested.
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
finish
