#!/usr/bin/env bash
# record_size_limit (RFC 8449) against GnuTLS, TLS 1.3 and 1.2, through a
# relay that measures the largest protected record each way (record_relay.py):
#   1. certa connect --record-size-limit 1024 -> gnutls-serv --echo: gnutls
#      cuts its records to certa's 1024 (GnuTLS ignores limits under 512);
#   2. certa connect -> gnutls-serv --recordsize=512: certa (which always
#      offers the extension) cuts its own records to the server's 512.
# (gnutls-cli as the client proves nothing here: it sends its input in
# chunks of at most 512 bytes whatever the limit. The server side is held to
# its peer's limit by tlsfuzzer's test-record-size-limit.py.)
. "$(dirname "$0")/lib.sh"
need gnutls-cli gnutls-serv python3
need_certa
gen_cert ecdsa srv
RELAY=$LIB_DIR/record_relay.py
payload=$(head -c 3000 /dev/zero | tr '\0' 'x')

# start_relay NAME TARGET_PORT: sets RELAY_PORT, RELAY_PID, RELAY_REPORT.
start_relay() {
  RELAY_REPORT=$T_TMP/$1.report
  start_port_server "$1" 'relay listening' python3 "$RELAY" @PORT@ "$2" "$RELAY_REPORT"
  RELAY_PORT=$SRV_PORT RELAY_PID=$SRV_PID
}
# within DIRECTION LIMIT: the largest protected record the relay saw that
# way carried data and at most LIMIT bytes of it (+ the AEAD overhead).
within() {
  LARGEST=$(awk -v d="$1" '$1 == d {print $3}' "$RELAY_REPORT" 2>/dev/null)
  [ -n "$LARGEST" ] && [ "$LARGEST" -gt 0 ] && [ "$LARGEST" -le $(($2 + over)) ]
}
# via_certa_connect NAME GNUTLS_SERV_ARGS... -- CERTA_CONNECT_ARGS...: runs
# certa connect through the relay to gnutls-serv --echo; sets OUT.
via_certa_connect() {
  local name=$1 sargs=() cargs=()
  shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do sargs+=("$1") && shift; done
  shift
  cargs=("$@")
  start_gnutls_server "gserv-$name" --echo --x509certfile "$T_TMP/srv.crt" \
    --x509keyfile "$T_TMP/srv.key" --priority "$prio" "${sargs[@]}" || return 1
  local gpid=$SRV_PID
  start_relay "relay-$name" "$SRV_PORT" || return 1
  OUT=$( (echo "$payload"; sleep 2) | timeout 20 "$CERTA" connect "127.0.0.1:$RELAY_PORT" \
    --insecure --timeout 10 --min-version 1.2 --max-version "$v" "${cargs[@]}" 2>&1)
  wait "$RELAY_PID" 2>/dev/null
  stop "$gpid"
}

for v in 1.3 1.2; do
  prio="NORMAL:-VERS-ALL:+VERS-TLS$v"
  over=17                   # tag + TLS 1.3 content type
  [ "$v" = 1.2 ] && over=24 # tag + AES-GCM explicit nonce

  via_certa_connect "limit-$v" -- --record-size-limit 1024
  if echo "$OUT" | grep -q "$payload" && within s2c 1024; then
    ok "TLS $v: gnutls-serv cuts its records to certa connect's 1024 (largest $LARGEST bytes)"
  else
    not_ok "TLS $v: gnutls-serv -> certa connect within 1024 (largest ${LARGEST:-none})"
    echo "$OUT" | grep -v xxxx | tail -5 | sed 's/^/# /'
  fi

  via_certa_connect "peer-$v" --recordsize=512 --
  if echo "$OUT" | grep -q "$payload" && within c2s 512; then
    ok "TLS $v: certa connect cuts its records to gnutls-serv's 512 (largest $LARGEST bytes)"
  else
    not_ok "TLS $v: certa connect -> gnutls-serv within 512 (largest ${LARGEST:-none})"
    echo "$OUT" | grep -v xxxx | tail -5 | sed 's/^/# /'
  fi
done
finish
