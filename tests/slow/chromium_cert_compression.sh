#!/usr/bin/env bash
# Chromium (headless, Debian's chromium package) against certa serve --http:
# Chromium offers brotli certificate compression (RFC 8879), so certa serve
# must answer with a CompressedCertificate made with brotli — its --trace
# says so — and Chromium must accept it: the page it fetched is certa's
# answer. One page load only (Chromium takes seconds to start). `make deps`
# installs chromium.
. "$(dirname "$0")/../interop/lib.sh"
need chromium openssl
need_certa

gen_cert ecdsa srv || not_ok "generate the server certificate"
start_certa_serve chromium --http --trace --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" ||
  finish

# Its own profile directory and no background services: nothing to reach but
# this loopback server. The certificate is self-signed: errors ignored.
bg "$T_TMP/chromium.err" chromium --headless --disable-gpu --no-sandbox --no-first-run \
  --disable-extensions --disable-background-networking --disable-sync \
  --disable-component-update --user-data-dir="$T_TMP/chromium-profile" \
  --ignore-certificate-errors --dump-dom "https://127.0.0.1:$SERVE_PORT/"
CHROME_PID=$BG_PID
for _ in $(seq 900); do
  alive "$CHROME_PID" || break
  sleep 0.1
done
stop "$CHROME_PID"
# --dump-dom writes the page to stdout, which bg sends to the same log.
if grep -q "certa: TLSv1.3 " "$T_TMP/chromium.err"; then
  ok "chromium fetched the page from certa serve over TLS 1.3"
else
  not_ok "chromium did not fetch the page (exit $STOP_RC)"
  show "$T_TMP/chromium.err"
fi
if grep -Eq '> CompressedCertificate \(1 certificate; certificate [0-9]+ bytes, compressed to [0-9]+ with brotli\)' \
  "$SERVE_LOG"; then
  ok "certa serve sent Chromium a CompressedCertificate with brotli: $(grep -m1 -o 'certificate [0-9]* bytes, compressed to [0-9]* with brotli' "$SERVE_LOG")"
else
  not_ok "certa serve's trace shows no brotli CompressedCertificate to Chromium"
  show "$SERVE_LOG"
fi
if grep -q 'handshake complete: TLS 1.3' "$SERVE_LOG" && ! grep -q 'bad_certificate\|decompress' "$SERVE_LOG"; then
  ok "the handshake with Chromium completed"
else
  not_ok "no completed handshake with Chromium in certa serve's trace"
  show "$SERVE_LOG"
fi
stop_certa_serve chromium
finish
