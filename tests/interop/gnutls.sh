#!/usr/bin/env bash
# GnuTLS both ways: gnutls-cli (suite and group forced with --priority)
# against certa serve --http, and certa connect against gnutls-serv --echo
# (TLS 1.3 only), for every suite x group {x25519, secp256r1} x certificate
# {ECDSA P-256, RSA-2048, Ed25519}; HelloRetryRequest from gnutls-serv.
. "$(dirname "$0")/lib.sh"
need openssl gnutls-cli gnutls-serv
need_certa

SUITES=(TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256)
declare -A GNUTLS_CIPHER=([TLS_AES_128_GCM_SHA256]=AES-128-GCM [TLS_AES_256_GCM_SHA384]=AES-256-GCM
  [TLS_CHACHA20_POLY1305_SHA256]=CHACHA20-POLY1305)
declare -A GNUTLS_GROUP=([x25519]=GROUP-X25519 [secp256r1]=GROUP-SECP256R1)
CERTS=(ecdsa rsa ed25519)
TLS13_ONLY='NORMAL:-VERS-ALL:+VERS-TLS1.3'

for cert in "${CERTS[@]}"; do
  gen_cert "$cert" "srv-$cert" || not_ok "generate $cert certificate"
done

# ---- gnutls-cli -> certa serve --http ------------------------------------------
for cert in "${CERTS[@]}"; do
  start_certa_serve "serve-$cert" --http --cert "$T_TMP/srv-$cert.crt" \
    --key "$T_TMP/srv-$cert.key" || continue
  for suite in "${SUITES[@]}"; do
    for group in x25519 secp256r1; do
      name="gnutls-cli-$cert-$suite-$group"
      prio="$TLS13_ONLY:-CIPHER-ALL:+${GNUTLS_CIPHER[$suite]}:-GROUP-ALL:+${GNUTLS_GROUP[$group]}"
      # The first case of each certificate validates it as a trust anchor.
      if [ "$suite$group" = "${SUITES[0]}x25519" ]; then
        auth=(--x509cafile "$T_TMP/srv-$cert.crt")
      else
        auth=(--insecure)
      fi
      printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
        timeout 20 gnutls-cli "${auth[@]}" --priority "$prio" -p "$SERVE_PORT" 127.0.0.1 \
          >"$T_TMP/$name.out" 2>&1
      rc=$?
      if [ "$rc" -eq 0 ] && grep -q "^HTTP/1.1 200 OK" "$T_TMP/$name.out" &&
        grep -q "^certa: TLSv1.3 $suite $group alpn=none" "$T_TMP/$name.out"; then
        ok "gnutls-cli ${auth[0]} -> certa serve --http: $cert $suite $group"
      else
        not_ok "gnutls-cli -> certa serve --http: $cert $suite $group (exit $rc)"
        show "$T_TMP/$name.out" "$SERVE_LOG"
      fi
    done
  done
  stop_certa_serve "serve-$cert"
done

# gnutls-cli with ALPN, echo mode.
start_certa_serve serve-alpn --alpn h2,http/1.1 --cert "$T_TMP/srv-ecdsa.crt" \
  --key "$T_TMP/srv-ecdsa.key" && {
  tok=$(uniq_token)
  out=$T_TMP/gnutls-cli-alpn.out
  : >"$out"
  feed_until "$out" "^$tok\$" 10 "$tok" |
    timeout 20 gnutls-cli --insecure --alpn http/1.1 --priority "$TLS13_ONLY" -p "$SERVE_PORT" \
      127.0.0.1 >"$out" 2>&1
  if grep -q "^- Application protocol: http/1.1" "$out" && grep -qx -- "$tok" "$out"; then
    ok "gnutls-cli --alpn http/1.1 -> certa serve --alpn h2,http/1.1 (echo): http/1.1, round trip"
  else
    not_ok "gnutls-cli ALPN -> certa serve"
    show "$out" "$SERVE_LOG"
  fi
  stop_certa_serve serve-alpn
}

# ---- certa connect -> gnutls-serv --echo -----------------------------------------
for cert in "${CERTS[@]}"; do
  pin=$(pin_of "$T_TMP/srv-$cert.crt")
  start_gnutls_server "gnutls-serv-$cert" --echo --priority "$TLS13_ONLY" \
    --x509certfile "$T_TMP/srv-$cert.crt" --x509keyfile "$T_TMP/srv-$cert.key" || continue
  for suite in "${SUITES[@]}"; do
    for group in x25519 secp256r1; do
      name="connect-gnutls-$cert-$suite-$group"
      tok=$(uniq_token)
      printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --pin "$pin" \
        --ciphers "$suite" --groups "$group" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
      rc=$?
      if [ "$rc" -eq 0 ] && grep -qx -- "$tok" "$T_TMP/$name.out" &&
        grep -q "cipher suite: *$suite\$" "$T_TMP/$name.err" &&
        grep -q "key exchange: *$group\$" "$T_TMP/$name.err"; then
        ok "certa connect -> gnutls-serv --echo: $cert $suite $group, round trip"
      else
        not_ok "certa connect -> gnutls-serv --echo: $cert $suite $group (exit $rc)"
        show "$T_TMP/$name.err" "$T_TMP/$name.out" "$SRV_LOG"
      fi
    done
  done
  stop "$SRV_PID"
done

# HelloRetryRequest: gnutls-serv accepts only secp256r1.
pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
start_gnutls_server gnutls-serv-hrr --echo --priority "$TLS13_ONLY:-GROUP-ALL:+GROUP-SECP256R1" \
  --x509certfile "$T_TMP/srv-ecdsa.crt" --x509keyfile "$T_TMP/srv-ecdsa.key" && {
  tok=$(uniq_token)
  printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --pin "$pin" \
    --groups x25519,secp256r1 >"$T_TMP/hrr.out" 2>"$T_TMP/hrr.err"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -qx -- "$tok" "$T_TMP/hrr.out" &&
    grep -q '^\* < HelloRetryRequest' "$T_TMP/hrr.err" && grep -q "HelloRetryRequest: yes" "$T_TMP/hrr.err"; then
    ok "certa connect -> gnutls-serv (secp256r1 only): HelloRetryRequest, round trip"
  else
    not_ok "certa connect -> gnutls-serv HelloRetryRequest (exit $rc)"
    show "$T_TMP/hrr.err" "$SRV_LOG"
  fi
  stop "$SRV_PID"
}

finish
