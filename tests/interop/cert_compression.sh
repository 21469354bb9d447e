#!/usr/bin/env bash
# Certificate compression (RFC 8879) through the CLI: certa connect against
# certa serve with each algorithm (connect's summary and serve's trace say
# what was sent and at which sizes), off on either side, a client
# certificate compressed for the server, a bad --cert-compression value; and
# GnuTLS both ways when its build has zlib or brotli (Debian 12's GnuTLS
# 3.7.9 has neither: gnutls-cli says "Unknown compression method", and the
# GnuTLS cases are skipped with that reason). Chromium is
# chromium_cert_compression.sh; Python-built CompressedCertificates, good
# and hostile, are cases of tests/behaviour/raw_peer.py (hostile_client.sh).
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

gen_ca ca || not_ok "generate the CA"
gen_leaf srv ca serverAuth || not_ok "generate the server certificate"
gen_leaf cli ca clientAuth || not_ok "generate the client certificate"

# connect_case NAME SERVE_LOG CONNECT_ARGS... : certa connect to $SERVE_PORT,
# sending "hi"; output in $T_TMP/NAME.err.
connect_case() {
  local name=$1
  shift
  echo hi | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$T_TMP/ca.crt" --timeout 5 "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
}

start_certa_serve serve --trace --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" \
  --client-ca "$T_TMP/ca.crt" --client-auth optional || finish
for alg in brotli zlib; do
  connect_case "connect-$alg" --cert-compression "$alg"
  if [ $? -eq 0 ] &&
    grep -Eq "^\* +compressed: +certificate [0-9]+ bytes, compressed to [0-9]+ with $alg$" \
      "$T_TMP/connect-$alg.err" &&
    grep -q "^\* < CompressedCertificate (certificate [0-9]* bytes, compressed to [0-9]* with $alg)" \
      "$T_TMP/connect-$alg.err"; then
    ok "certa connect --cert-compression $alg: $(grep -o "certificate [0-9]* bytes, compressed to [0-9]* with $alg" "$T_TMP/connect-$alg.err" | head -n1), verified"
  else
    not_ok "certa connect --cert-compression $alg"
    show "$T_TMP/connect-$alg.err"
  fi
done
if grep -q "> CompressedCertificate (1 certificate[^;]*; certificate [0-9]* bytes, compressed to [0-9]* with brotli)" "$SERVE_LOG" &&
  grep -q "> CompressedCertificate (1 certificate[^;]*; certificate [0-9]* bytes, compressed to [0-9]* with zlib)" "$SERVE_LOG"; then
  ok "certa serve's trace shows a brotli and a zlib CompressedCertificate"
else
  not_ok "certa serve's trace lacks the CompressedCertificate lines"
  show "$SERVE_LOG"
fi
connect_case connect-off --cert-compression off
if [ $? -eq 0 ] && grep -q "compressed: *no (sent as a plain Certificate)" "$T_TMP/connect-off.err" &&
  ! grep -q "CompressedCertificate" "$T_TMP/connect-off.err"; then
  ok "certa connect --cert-compression off: a plain Certificate"
else
  not_ok "certa connect --cert-compression off"
  show "$T_TMP/connect-off.err"
fi
connect_case connect-mtls --cert "$T_TMP/cli.crt" --key "$T_TMP/cli.key"
if [ $? -eq 0 ] &&
  wait_for "$SERVE_LOG" "< CompressedCertificate \(certificate [0-9]+ bytes, compressed to [0-9]+ with brotli\)" 5 &&
  grep -q "> CompressedCertificate (1 certificate" "$T_TMP/connect-mtls.err"; then
  ok "client certificate compressed with brotli for certa serve (offered in its CertificateRequest)"
else
  not_ok "client certificate compression"
  show "$T_TMP/connect-mtls.err" "$SERVE_LOG"
fi
stop_certa_serve serve

start_certa_serve serve-off --trace --cert-compression off --cert "$T_TMP/srv.crt" \
  --key "$T_TMP/srv.key" || finish
connect_case connect-to-off
if [ $? -eq 0 ] && grep -q "compressed: *no" "$T_TMP/connect-to-off.err" &&
  ! grep -q "CompressedCertificate" "$SERVE_LOG"; then
  ok "certa serve --cert-compression off: a plain Certificate to a client that offers"
else
  not_ok "certa serve --cert-compression off"
  show "$T_TMP/connect-to-off.err" "$SERVE_LOG"
fi
stop_certa_serve serve-off

"$CERTA" connect 127.0.0.1:1 --cert-compression lz4 >/dev/null 2>"$T_TMP/bad.err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "unknown certificate compression algorithm 'lz4'" "$T_TMP/bad.err"; then
  ok "--cert-compression lz4: usage error naming it"
else
  not_ok "--cert-compression lz4: exit $rc"
  show "$T_TMP/bad.err"
fi

# ---- GnuTLS, when built with the codecs -------------------------------------
if ! command -v gnutls-cli >/dev/null || ! command -v gnutls-serv >/dev/null; then
  skip "GnuTLS cases: gnutls-cli/gnutls-serv not installed (make deps)"
  finish
fi
start_certa_serve serve-gnutls --trace --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" || finish
for alg in brotli zlib; do
  echo hi | timeout 20 gnutls-cli --insecure --compress-cert "$alg" \
    -p "$SERVE_PORT" 127.0.0.1 >"$T_TMP/gnutls-cli-$alg.out" 2>&1
  rc=$?
  if grep -q "Unknown compression method" "$T_TMP/gnutls-cli-$alg.out"; then
    skip "gnutls-cli --compress-cert $alg: this GnuTLS ($(gnutls-cli --version | head -n1)) is built without it"
  elif [ "$rc" -eq 0 ] &&
    grep -q "> CompressedCertificate (1 certificate; .* with $alg)" "$SERVE_LOG"; then
    ok "gnutls-cli --compress-cert $alg: certa serve sent a $alg CompressedCertificate"
  else
    not_ok "gnutls-cli --compress-cert $alg against certa serve (exit $rc)"
    show "$T_TMP/gnutls-cli-$alg.out" "$SERVE_LOG"
  fi
done
stop_certa_serve serve-gnutls
for alg in brotli zlib; do
  grep -q "Unknown compression method" "$T_TMP/gnutls-cli-$alg.out" && continue
  start_gnutls_server "gnutls-serv-$alg" --echo --x509certfile "$T_TMP/srv.crt" \
    --x509keyfile "$T_TMP/srv.key" --compress-cert "$alg" || continue
  echo hi | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --servername localhost \
    --trust "$T_TMP/ca.crt" --timeout 5 --cert-compression "$alg" \
    >"$T_TMP/to-gnutls-$alg.out" 2>"$T_TMP/to-gnutls-$alg.err"
  if [ $? -eq 0 ] && grep -q "compressed: *certificate [0-9]* bytes, compressed to [0-9]* with $alg" \
    "$T_TMP/to-gnutls-$alg.err"; then
    ok "certa connect to gnutls-serv --compress-cert $alg: decompressed and verified"
  else
    not_ok "certa connect to gnutls-serv --compress-cert $alg"
    show "$T_TMP/to-gnutls-$alg.err" "$SRV_LOG"
  fi
  stop "$SRV_PID"
done
finish
