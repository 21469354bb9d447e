#!/usr/bin/env bash
# Mutual TLS through the CLI against real peers, with identities from
# certa's own CA: openssl s_client presenting a client certificate to
# `certa serve --client-ca`, missing / disallowed / expired client
# certificates refused with the right alert and a logged reason, optional
# client auth, and `certa connect --cert/--key/--expect` against s_server.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

CA=$T_TMP/ca
"$CERTA" ca init "$CA" --ttl 48h >/dev/null 2>&1 || { not_ok "ca init"; finish; }
issue() { "$CERTA" ca issue "$CA" --out "$T_TMP/$1" "${@:2}" >/dev/null 2>&1; }
issue server --dns localhost --ip 127.0.0.1 --spiffe spiffe://example.org/api --server --ttl 1h &&
  issue web --spiffe spiffe://example.org/web --client --ttl 1h &&
  issue billing --spiffe spiffe://example.org/billing --client --ttl 1h &&
  issue brief --spiffe spiffe://example.org/web/brief --client --ttl 2s ||
  { not_ok "issue identities"; finish; }
ok "certa ca issued server and client identities"

# s_client: send a line, print what comes back; stderr+stdout to a file.
s_client() {
  local port=$1 out=$2
  shift 2
  printf 'ping-mtls\n' | timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_3 \
    -servername localhost -CAfile "$CA/ca.crt" -verify_return_error -quiet -ign_eof "$@" \
    >"$out" 2>&1
}

start_certa_serve require --cert "$T_TMP/server.crt" --key "$T_TMP/server.key" \
  --client-ca "$CA/ca.crt" --allow 'spiffe://example.org/web/*' --allow spiffe://example.org/web ||
  finish
s_client "$SERVE_PORT" "$T_TMP/web.out" -cert "$T_TMP/web.crt" -key "$T_TMP/web.key"
check "openssl s_client with a client certificate: echo round trip" grep -q '^ping-mtls$' "$T_TMP/web.out"
wait_for "$SERVE_LOG" 'client=spiffe://example.org/web \(verified\)' 5 &&
  ok "certa serve logs the verified client identity" ||
  { not_ok "certa serve logs the verified client identity"; show "$SERVE_LOG"; }

s_client "$SERVE_PORT" "$T_TMP/none.out"
if ! grep -q '^ping-mtls$' "$T_TMP/none.out" && grep -qi 'certificate required' "$T_TMP/none.out"; then
  ok "no client certificate: s_client gets certificate_required"
else
  not_ok "no client certificate: s_client gets certificate_required"; show "$T_TMP/none.out"
fi
check "no client certificate: logged as CERTA_E_CERTIFICATE_REQUIRED" \
  wait_for "$SERVE_LOG" 'CERTA_E_CERTIFICATE_REQUIRED' 5

s_client "$SERVE_PORT" "$T_TMP/billing.out" -cert "$T_TMP/billing.crt" -key "$T_TMP/billing.key"
if ! grep -q '^ping-mtls$' "$T_TMP/billing.out" && grep -qi 'access denied' "$T_TMP/billing.out"; then
  ok "disallowed SPIFFE ID: s_client gets access_denied"
else
  not_ok "disallowed SPIFFE ID: s_client gets access_denied"; show "$T_TMP/billing.out"
fi
check "disallowed SPIFFE ID: the log names it and the allowed rules" wait_for "$SERVE_LOG" \
  'client spiffe://example.org/billing is not allowed on this listener; allowed: spiffe://example.org/web/\*' 5

sleep 3 # the 2-second identity has now expired
s_client "$SERVE_PORT" "$T_TMP/brief.out" -cert "$T_TMP/brief.crt" -key "$T_TMP/brief.key"
if ! grep -q '^ping-mtls$' "$T_TMP/brief.out" && grep -qi 'certificate expired' "$T_TMP/brief.out"; then
  ok "expired client certificate: s_client gets certificate_expired"
else
  not_ok "expired client certificate: s_client gets certificate_expired"; show "$T_TMP/brief.out"
fi
check "expired client certificate: logged as CERTA_E_CERT_EXPIRED with the date" \
  wait_for "$SERVE_LOG" "CERTA_E_CERT_EXPIRED.*expired on" 5

# certa connect with the client identity against certa serve.
printf 'hello-peer\n' | timeout 10 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
  --trust "$CA/ca.crt" --cert "$T_TMP/web.crt" --key "$T_TMP/web.key" \
  --expect spiffe://example.org/api >"$T_TMP/cc.out" 2>"$T_TMP/cc.err"
check "certa connect --cert/--key/--expect against certa serve" grep -q '^hello-peer$' "$T_TMP/cc.out"
check "certa connect shows the server's SPIFFE ID" grep -q 'SPIFFE ID: *spiffe://example.org/api' "$T_TMP/cc.err"
printf 'x\n' | timeout 10 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
  --trust "$CA/ca.crt" --cert "$T_TMP/web.crt" --key "$T_TMP/web.key" \
  --expect spiffe://example.org/db >"$T_TMP/cx.out" 2>"$T_TMP/cx.err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'CERTA_E_IDENTITY_NOT_ALLOWED' "$T_TMP/cx.err" &&
  grep -q 'server spiffe://example.org/api is not allowed' "$T_TMP/cx.err"; then
  ok "certa connect --expect refuses a server with another identity (exit 1, explained)"
else
  not_ok "certa connect --expect refuses a server with another identity (rc=$rc)"; show "$T_TMP/cx.err"
fi
stop_certa_serve require

start_certa_serve optional --cert "$T_TMP/server.crt" --key "$T_TMP/server.key" \
  --client-ca "$CA/ca.crt" --client-auth optional || finish
s_client "$SERVE_PORT" "$T_TMP/opt.out"
check "optional client auth: a client without certificate is served" grep -q '^ping-mtls$' "$T_TMP/opt.out"
s_client "$SERVE_PORT" "$T_TMP/opt2.out" -cert "$T_TMP/web.crt" -key "$T_TMP/web.key"
check "optional client auth: a client with one is verified" \
  wait_for "$SERVE_LOG" 'client=spiffe://example.org/web \(verified\)' 5
stop_certa_serve optional

# certa as the mTLS client of openssl s_server -Verify 1.
if start_openssl_server sverify -cert "$T_TMP/server.crt" -key "$T_TMP/server.key" \
  -CAfile "$CA/ca.crt" -Verify 1 -verify_return_error -tls1_3 -rev; then
  printf 'level\n' | timeout 10 "$CERTA" connect "127.0.0.1:$SRV_PORT" --servername localhost \
    --trust "$CA/ca.crt" --cert "$T_TMP/web.crt" --key "$T_TMP/web.key" \
    >"$T_TMP/sv.out" 2>"$T_TMP/sv.err"
  check "certa connect presents its certificate to s_server -Verify 1" grep -q '^level$' "$T_TMP/sv.out"
  check "s_server saw the client certificate" grep -qi 'CN *= *web\|subject=.*web' "$SRV_LOG"
  stop "$SRV_PID"
fi
if start_openssl_server sverify2 -cert "$T_TMP/server.crt" -key "$T_TMP/server.key" \
  -CAfile "$CA/ca.crt" -Verify 1 -verify_return_error -tls1_3 -rev; then
  printf 'level\n' | timeout 10 "$CERTA" connect "127.0.0.1:$SRV_PORT" --servername localhost \
    --trust "$CA/ca.crt" >"$T_TMP/sv2.out" 2>"$T_TMP/sv2.err"
  rc=$?
  [ "$rc" -ne 0 ] && ! grep -q '^level$' "$T_TMP/sv2.out" &&
    ok "without --cert, s_server -Verify 1 refuses certa connect (exit $rc)" ||
    { not_ok "without --cert, s_server -Verify 1 refuses certa connect"; show "$T_TMP/sv2.err"; }
  stop "$SRV_PID"
fi
finish
