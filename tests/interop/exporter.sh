#!/usr/bin/env bash
# Keying-material exporters against openssl, TLS 1.3 and TLS 1.2, both
# sides: certa connect --export-keying-material against s_server
# -keymatexport, and certa serve --export-keying-material against s_client
# -keymatexport: the same bytes.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa
gen_cert ecdsa srv
for v in 1.3 1.2; do
  # s_server prints the exported bytes only in its interactive mode
  start_held_openssl_server "s$v" -tls${v/./_} -cert "$T_TMP/srv.crt" -key "$T_TMP/srv.key" \
    -keymatexport EXPERIMENTAL-certa -keymatexportlen 32 || continue
  echo | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --insecure --timeout 10 --min-version 1.2 \
    --export-keying-material EXPERIMENTAL-certa:32 >/dev/null 2>"$T_TMP/c$v.err"
  wait_for "$SRV_LOG" 'Keying material: [0-9A-F]{64}' 5
  theirs=$(grep -oE 'Keying material: [0-9A-F]{64}' "$SRV_LOG" | head -1)
  ours=$(grep -oE 'Keying material: [0-9A-F]{64}' "$T_TMP/c$v.err" | head -1)
  if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then
    ok "TLS $v: certa connect exports what openssl s_server exports"
  else
    not_ok "TLS $v: exporter mismatch (certa '$ours', openssl '$theirs')"
    show "$T_TMP/c$v.err" "$SRV_LOG"
  fi
  stop_held_openssl_server
done
start_certa_serve serve-ekm --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --min-version 1.2 \
  --export-keying-material EXPERIMENTAL-certa:48 || finish
for v in 1.3 1.2; do
  theirs=$(echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls${v/./_} \
    -keymatexport EXPERIMENTAL-certa -keymatexportlen 48 2>/dev/null |
    grep -oE 'Keying material: [0-9A-F]{96}' | head -1)
  wait_for "$SERVE_LOG" "Keying material: [0-9A-F]{96}" 5
  ours=$(grep -oE 'Keying material: [0-9A-F]{96}' "$SERVE_LOG" | grep -F "${theirs:-none}" | head -1)
  if [ -n "$theirs" ] && [ "$ours" = "$theirs" ]; then
    ok "TLS $v: certa serve exports what openssl s_client exports"
  else
    not_ok "TLS $v: serve exporter mismatch (openssl '$theirs')"
    show "$SERVE_LOG"
  fi
done
stop_certa_serve serve-ekm
finish
