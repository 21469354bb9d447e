#!/usr/bin/env bash
# Hostile encrypted_client_hello extensions against `certa serve --ech-key
# --ech-config` (tests/behaviour/ech_hostile.py): malformed extensions get
# decode_error / illegal_parameter, undecryptable ones (a foreign config_id, a
# corrupted payload, an unknown suite) let the handshake go on with the outer
# hello; after every case the same server still completes a handshake. A
# server without keys goes on with the hello whatever the extension holds.
# Needs python3, openssl and ../shared/peers/bssl (generate-ech).
. "$(dirname "$0")/../interop/lib.sh"
need python3 openssl
need_certa
BSSL=${CERTA_BSSL:-$REPO_DIR/../shared/peers/bssl}
if [ ! -x "$BSSL" ]; then
  not_ok "bssl not found at $BSSL (for generate-ech)"
  finish
fi
gen_cert ecdsa srv
"$BSSL" generate-ech -out-ech-config "$T_TMP/ech.config" -out-private-key "$T_TMP/ech.key" \
  -out-ech-config-list "$T_TMP/ech.list" -public-name public.example -config-id 42 >/dev/null 2>&1 ||
  not_ok "bssl generate-ech"
# Twice: matching config_id only (the default), then with trial decryption
# (the foreign config_id is then tried with the key too, and still goes on
# with the outer hello).
for mode in default trial; do
  extra=()
  [ "$mode" = trial ] && extra=(--ech-trial-decryption)
  start_certa_serve "hostile-ech-$mode" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" \
    --ech-key "$T_TMP/ech.key" --ech-config "$T_TMP/ech.config" "${extra[@]}" || finish
  out=$(timeout 200 python3 "$REPO_DIR/tests/behaviour/ech_hostile.py" 127.0.0.1 "$SERVE_PORT" \
    "$T_TMP/ech.config" --timeout 5 2>&1)
  while IFS= read -r l; do
    case $l in
      "ok - "*) ok "$mode: ${l#ok - }" ;;
      "not ok - "*) not_ok "$mode: ${l#not ok - }" ;;
      *) echo "# $l" ;;
    esac
  done <<<"$out"
  alive "$SERVE_PID" && ok "$mode: certa serve is still running after every hostile ECH case" ||
    not_ok "$mode: certa serve died during the hostile ECH cases"
  stop_certa_serve "hostile-ech-$mode"
done
# A server without ECH keys ignores the extension, whatever it holds.
start_certa_serve hostile-ech-nokeys --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" || finish
out=$(timeout 200 python3 "$REPO_DIR/tests/behaviour/ech_hostile.py" 127.0.0.1 "$SERVE_PORT" \
  --no-keys --timeout 5 2>&1)
while IFS= read -r l; do
  case $l in
    "ok - "*) ok "${l#ok - }" ;;
    "not ok - "*) not_ok "${l#not ok - }" ;;
    *) echo "# $l" ;;
  esac
done <<<"$out"
stop_certa_serve hostile-ech-nokeys
finish
