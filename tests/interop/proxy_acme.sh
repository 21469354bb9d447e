#!/usr/bin/env bash
# certa proxy --acme: the proxy obtains its own certificate from Pebble
# (Debian `pebble`, 30-second certificates), answering tls-alpn-01 on its
# own TLS listener. Checked: the option combinations refused with a
# sentence; a directory that is unreachable at start is retried with
# doubling backoff while handshakes are refused (alert internal_error, a
# close line saying why) and the proxy keeps running; against Pebble the
# validator's acme-tls/1 connections get the validation certificate (close
# reason "acme-tls/1 validation"), then the issued chain is served — it
# verifies against Pebble's root, and its serial is the one logged; the
# state directory holds the account key and pair 0600 behind current ->
# releases/1; a restart serves the stored certificate without a new order
# (Pebble sees no newOrder), but one started with another --acme-domain
# orders a certificate for the new names at once; and a renewal that cannot
# reach the CA is retried with backoff, each line saying how long the
# current certificate still has.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.bash"
need_certa
need pebble pebble-challtestsrv curl openssl python3

NAME=proxy.certa.test
start_echo_backend || not_ok "echo backend"
jget() { # FILE EVENT FIELD: the field of the last JSON line with that event
  python3 - "$@" <<'PY'
import json, sys
v = ""
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("event") == sys.argv[2]:
        v = d.get(sys.argv[3], "")
print(v)
PY
}
events() { grep -c "\"event\":\"$2\"" "$1"; }
served_serial() { # PORT: the serial of the leaf the proxy serves (verified chain)
  openssl s_client -connect "127.0.0.1:$1" -servername "$NAME" -CAfile "$PEBBLE_ROOTS" \
    -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null | sed 's/serial=//'
}

# ---- refused combinations ---------------------------------------------------
usage() { # NAME ARGS...: exit 2 with a sentence naming --acme
  "$CERTA" proxy --listen 127.0.0.1:0 "${@:2}" >"$T_TMP/$1.out" 2>&1
  local rc=$?
  if [ $rc -eq 2 ] && grep -q -- '--acme' "$T_TMP/$1.out"; then
    ok "$1: refused (exit 2): $(head -n1 "$T_TMP/$1.out")"
  else
    not_ok "$1: exit $rc"
    show "$T_TMP/$1.out"
  fi
}
usage with-cert --backend 127.0.0.1:1 --acme https://127.0.0.1:1/dir --acme-domain "$NAME" \
  --cert x.crt --key x.key
usage no-domain --backend 127.0.0.1:1 --acme https://127.0.0.1:1/dir
usage bridge --upstream 127.0.0.1:1 --acme https://127.0.0.1:1/dir --acme-domain "$NAME"
usage no-directory --backend 127.0.0.1:1 --acme-domain "$NAME"
usage with-ocsp --backend 127.0.0.1:1 --acme https://127.0.0.1:1/dir --acme-domain "$NAME" --ocsp-fetch

# ---- the directory unreachable at start -------------------------------------
DEAD=$(free_port)
SD=$T_TMP/systemd-state
mkdir -p "$SD"
STATE_DIRECTORY=$SD bg "$T_TMP/dead.log" "$CERTA" proxy --listen 127.0.0.1:0 \
  --backend "127.0.0.1:$ECHO_PORT" --acme "https://127.0.0.1:$DEAD/dir" --acme-domain "$NAME" \
  --agree-tos --log-format json
DEAD_PID=$BG_PID
if wait_for "$T_TMP/dead.log" '"retry_in_s":"4"' 15; then
  DPORT=$(jget "$T_TMP/dead.log" listening listen | sed 's/.*://')
  openssl s_client -connect "127.0.0.1:$DPORT" -servername "$NAME" </dev/null >"$T_TMP/dead.client" 2>&1
  sleep 0.3
  if grep -q '"event":"acme-waiting"' "$T_TMP/dead.log" &&
    grep -q 'the first order failed: cannot read the ACME directory .*Connection refused; retrying in 2 s; there is no certificate yet' "$T_TMP/dead.log" &&
    grep -q '"retry_in_s":"2"' "$T_TMP/dead.log" && grep -qi 'alert internal error' "$T_TMP/dead.client" &&
    grep -q '"reason":"no certificate"' "$T_TMP/dead.log" && alive "$DEAD_PID" &&
    [ -d "$SD/proxy-acme/$NAME/releases" ]; then
    ok "unreachable directory: the proxy runs, says why, retries after 2 s then 4 s; a handshake meanwhile gets alert internal_error and a 'no certificate' close line; state under \$STATE_DIRECTORY/proxy-acme/NAME"
  else
    not_ok "unreachable directory"
    show "$T_TMP/dead.log" "$T_TMP/dead.client"
  fi
else
  not_ok "unreachable directory: no second retry logged"
  show "$T_TMP/dead.log"
fi
stop "$DEAD_PID"
[ "$STOP_RC" -eq 0 ] && ok "stopped cleanly while retrying (exit 0)" || not_ok "exit $STOP_RC while retrying"

# ---- against Pebble -----------------------------------------------------------
if ! PEBBLE_VALIDITY=30 start_pebble pacme; then
  not_ok "Pebble did not start"
  show "$PEBBLE_LOG"
  finish
fi
S=$T_TMP/state
ACME=(--backend "127.0.0.1:$ECHO_PORT" --acme "$PEBBLE_DIR" --acme-ca-bundle "$PEBBLE_CA"
  --acme-chain-trust "$PEBBLE_ROOTS" --acme-domain "$NAME" --agree-tos --acme-state "$S"
  --log-format json)
P1=$T_TMP/first.log
bg "$P1" "$CERTA" proxy --listen "127.0.0.1:$PEBBLE_TLS_PORT" "${ACME[@]}"
PID1=$BG_PID
if wait_for "$P1" '"event":"acme-issued"' 20 && wait_for "$P1" '"files":"\(acme\)"' 5; then
  SERIAL=$(jget "$P1" acme-issued serial)
  GOT=$(served_serial "$PEBBLE_TLS_PORT")
  ECHO=$(echo "through-$RANDOM" | timeout 10 "$CERTA" connect "127.0.0.1:$PEBBLE_TLS_PORT" \
    --servername "$NAME" --trust "$PEBBLE_ROOTS" --timeout 5 2>/dev/null)
  if [ -n "$SERIAL" ] && [ "$GOT" = "$SERIAL" ] && [[ "$ECHO" == through-* ]] &&
    grep -q '"reason":"acme-tls/1 validation"' "$P1" && grep -q '"event":"acme-challenge"' "$P1" &&
    [ "$(events "$P1" acme-waiting)" = 1 ]; then
    ok "first order: Pebble's acme-tls/1 connections answered on the proxy's listener, serial $SERIAL served (verifies against Pebble's root) and proxied"
  else
    not_ok "first order: logged $SERIAL, served '$GOT', echo '$ECHO'"
    show "$P1"
  fi
else
  not_ok "no certificate obtained"
  show "$P1" "$PEBBLE_LOG"
fi
if [ "$(readlink "$S/current")" = releases/1 ] && [ "$(stat -c %a "$S/current/key.pem")" = 600 ] &&
  [ "$(stat -c %a "$S/account.key")" = 600 ] && [ "$(stat -c %a "$S")" = 700 ] &&
  [ "$(openssl x509 -in "$S/current/cert.pem" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum)" = \
    "$(openssl pkey -in "$S/current/key.pem" -pubout -outform der | sha256sum)" ]; then
  ok "state: current -> releases/1 (matching pair), key.pem and account.key 0600, the directory 0700"
else
  not_ok "state directory"
  ls -laR "$S" | sed 's/^/# /'
fi
if grep -q '"event":"acme-scheduled".*"basis":"half"' "$P1"; then
  ok "scheduled at half of the 30 s lifetime: $(jget "$P1" acme-scheduled msg)"
else
  not_ok "no renewal scheduled"
fi
stop "$PID1"

# ---- a restart reuses the stored certificate ------------------------------------
ORDERS=$(grep -c 'POST /order-plz' "$PEBBLE_LOG")
P2=$T_TMP/restart.log
bg "$P2" "$CERTA" proxy --listen "127.0.0.1:$PEBBLE_TLS_PORT" "${ACME[@]}"
PID2=$BG_PID
if wait_for "$P2" '"event":"acme-scheduled"' 10; then
  GOT=$(served_serial "$PEBBLE_TLS_PORT")
  if grep -q '"event":"acme-reused"' "$P2" && ! grep -q '"event":"acme-issued"' "$P2" &&
    [ "$GOT" = "$SERIAL" ] && [ "$ORDERS" -ge 1 ] && [ "$(grep -c "POST /order-plz" "$PEBBLE_LOG")" = "$ORDERS" ] &&
    [ "$(readlink "$S/current")" = releases/1 ]; then
    ok "restart: the stored certificate $SERIAL is served at once, no new order ($ORDERS newOrder in Pebble's log before and after)"
  else
    not_ok "restart: served '$GOT', want $SERIAL; orders $ORDERS -> $(grep -c 'POST /order-plz' "$PEBBLE_LOG")"
    show "$P2"
  fi
else
  not_ok "restart"
  show "$P2"
fi

# ---- a restart with another name: the stored certificate serves, a new one is ordered
stop "$PID2"
P3=$T_TMP/names.log
bg "$P3" "$CERTA" proxy --listen "127.0.0.1:$PEBBLE_TLS_PORT" "${ACME[@]}" --acme-domain "www.$NAME"
PID3=$BG_PID
if wait_for "$P3" '"event":"acme-renewed"' 20 && wait_for "$P3" '"files":"\(acme\)"' 5; then
  SANS=$(openssl s_client -connect "127.0.0.1:$PEBBLE_TLS_PORT" -servername "$NAME" -CAfile "$PEBBLE_ROOTS" \
    -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -ext subjectAltName 2>/dev/null | tail -n1)
  if grep -q '"event":"acme-reused"' "$P3" && grep -q '"basis":"names"' "$P3" &&
    [[ "$SANS" == *"DNS:$NAME"* && "$SANS" == *"DNS:www.$NAME"* ]] && [ "$(readlink "$S/current")" = releases/2 ]; then
    ok "a new --acme-domain: the stored certificate serves at start, one for both names is ordered at once (basis names) and swapped in: $SANS"
  else
    not_ok "new name: SANs '$SANS'"
    show "$P3"
  fi
else
  not_ok "new name: no new certificate"
  show "$P3"
fi
PID2=$PID3 P2=$P3
SERIAL=$(jget "$P3" acme-renewed serial)

# ---- a renewal that cannot reach the CA ---------------------------------------
stop "$PEBBLE_PID"
if wait_for "$P2" '"event":"acme-failed"' 30 && wait_for "$P2" 'renewal failed: .*retrying in 4 s; the current certificate is still valid for' 10; then
  REM=$(jget "$P2" acme-failed remaining_s)
  if [ -n "$REM" ] && [ "$REM" -gt 0 ] && [ "$REM" -le 30 ] && alive "$PID2" &&
    [ "$(served_serial "$PEBBLE_TLS_PORT")" = "$SERIAL" ]; then
    ok "renewal with the CA gone: retried after 2 s, 4 s, saying the current certificate still has ${REM} s; the old certificate serves meanwhile"
  else
    not_ok "renewal failure lines (remaining_s '$REM')"
    show "$P2"
  fi
else
  not_ok "no failed renewal logged"
  show "$P2"
fi
stop "$PID2"
[ "$STOP_RC" -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error:' "$P1" "$T_TMP/restart.log" "$P3" &&
  ok "the proxies stopped cleanly (exit 0, no sanitizer report)" || not_ok "exit $STOP_RC or sanitizer report"
check_log_schema "$P1" "$T_TMP/restart.log" "$P3"
finish
