# Helpers for the ACME tests and benchmark: a Pebble CA (Debian `pebble`) on
# loopback with pebble-challtestsrv as its DNS server, both bounded (bg) and
# stopped by PID. Source after lib.sh.
#
# start_pebble NAME [eab]: generates a test CA and a leaf for 127.0.0.1
# (Pebble's HTTPS listener), picks free ports, starts challtestsrv (DNS and
# its management API only: every name resolves to 127.0.0.1) and Pebble with
# PEBBLE_VA_NOSLEEP=1 and the default nonce rejection (5 %: badNonce retries
# are exercised). With "eab", Pebble requires External Account Binding with
# the key id "kid-1" (EAB_KID, EAB_HMAC). Sets PEBBLE_DIR (directory URL),
# PEBBLE_CA (the bundle for --ca-bundle), PEBBLE_ROOTS (the issuing root, for
# --chain-trust), PEBBLE_HTTP_PORT, PEBBLE_TLS_PORT, CHALL_MGMT (URL of
# challtestsrv's API), PEBBLE_MGMT, PEBBLE_PID, CHALL_PID, PEBBLE_LOG.
# PEBBLE_VALIDITY=SEC (when set) is the issued certificates' lifetime
# (Pebble's certificateValidityPeriod), for renewal tests. check_log_schema
# LOG...: certa proxy JSON logs against docs/log-schema.md.

EAB_KID=kid-1
EAB_HMAC=zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W

start_pebble() {
  local name=$1 eab=${2:-}
  gen_ca "$name-ca" && gen_leaf "$name-listener" "$name-ca" || return 1
  PEBBLE_CA=$T_TMP/$name-ca.crt
  local port mgmt dns cmgmt
  port=$(free_port) mgmt=$(free_port) dns=$(free_port) cmgmt=$(free_port)
  PEBBLE_HTTP_PORT=$(free_port) PEBBLE_TLS_PORT=$(free_port)
  local validity=
  [ -n "${PEBBLE_VALIDITY:-}" ] && validity='"certificateValidityPeriod": '$PEBBLE_VALIDITY,
  local eab_json='"externalAccountBindingRequired": false'
  [ "$eab" = eab ] && eab_json='"externalAccountBindingRequired": true,
    "externalAccountMACKeys": {"'$EAB_KID'": "'$EAB_HMAC'"}'
  cat >"$T_TMP/$name-pebble.json" <<JSON
{"pebble": {
  "listenAddress": "127.0.0.1:$port",
  "managementListenAddress": "127.0.0.1:$mgmt",
  "certificate": "$T_TMP/$name-listener.crt",
  "privateKey": "$T_TMP/$name-listener.key",
  "httpPort": $PEBBLE_HTTP_PORT,
  "tlsPort": $PEBBLE_TLS_PORT,
  "ocspResponderURL": "",$validity
  $eab_json
}}
JSON
  bg "$T_TMP/$name-chall.log" pebble-challtestsrv -defaultIPv4 127.0.0.1 -defaultIPv6 "" \
    -dns01 "127.0.0.1:$dns" -management "127.0.0.1:$cmgmt" -http01 "" -https01 "" -tlsalpn01 ""
  CHALL_PID=$BG_PID
  CHALL_MGMT=http://127.0.0.1:$cmgmt
  PEBBLE_LOG=$T_TMP/$name-pebble.log
  PEBBLE_VA_NOSLEEP=1 bg "$PEBBLE_LOG" pebble -config "$T_TMP/$name-pebble.json" \
    -dnsserver "127.0.0.1:$dns"
  PEBBLE_PID=$BG_PID
  PEBBLE_DIR=https://127.0.0.1:$port/dir
  PEBBLE_MGMT=https://127.0.0.1:$mgmt
  wait_for "$PEBBLE_LOG" 'Listening on: 127.0.0.1:'"$port" 15 || return 1
  wait_for "$T_TMP/$name-chall.log" 'Creating TCP and UDP DNS-01 challenge server' 10 || true
  PEBBLE_ROOTS=$T_TMP/$name-roots.pem
  local i
  for i in $(seq 50); do
    curl -sf --cacert "$PEBBLE_CA" "$PEBBLE_MGMT/roots/0" -o "$PEBBLE_ROOTS" && return 0
    sleep 0.1
  done
  return 1
}

# A dns-01 hook for challtestsrv: add|remove NAME VALUE.
write_dns_hook() {
  local f=$T_TMP/dns-hook.sh
  cat >"$f" <<HOOK
#!/bin/sh
# certa's dns-01 hook for pebble-challtestsrv: \$1 add|remove, \$2 name, \$3 value.
echo "\$@" >>"$T_TMP/dns-hook.calls"
case "\$1" in
  add) curl -sf -X POST -d "{\"host\":\"\$2.\",\"value\":\"\$3\"}" $CHALL_MGMT/set-txt ;;
  remove) curl -sf -X POST -d "{\"host\":\"\$2.\"}" $CHALL_MGMT/clear-txt ;;
  *) exit 2 ;;
esac
HOOK
  chmod +x "$f"
  DNS_HOOK=$f
}

# check_log_schema LOG...: every JSON line of each certa proxy log matches
# docs/log-schema.md (tests/behaviour/log_schema.py), one TAP line per log.
check_log_schema() {
  local f
  for f in "$@"; do
    if python3 "$REPO_DIR/tests/behaviour/log_schema.py" "$REPO_DIR/docs/log-schema.md" "$f" >"$T_TMP/schema.out" 2>&1; then
      ok "$(basename "$f"): every JSON line matches docs/log-schema.md ($(tail -n1 "$T_TMP/schema.out"))"
    else
      not_ok "$(basename "$f"): lines outside docs/log-schema.md"
      show "$T_TMP/schema.out"
    fi
  done
}
