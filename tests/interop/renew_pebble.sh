#!/usr/bin/env bash
# certa renew against Pebble (Debian `pebble`) issuing 20-second certificates
# (certificateValidityPeriod): the first run issues, a run on a fresh
# certificate is "not due" and writes nothing, a due certificate is renewed
# by --once, renewals swap current/ without a reader ever loading a
# mismatched pair, the previous pair is kept, the deploy hook sees its
# environment, every run prints one JSON status line, a failing CA is retried
# with backoff and the exit status and sentence say how long the current
# certificate still has, and the daemon renews several times and stops on
# SIGTERM.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.bash"
need_certa
need pebble pebble-challtestsrv curl openssl python3

if ! PEBBLE_VALIDITY=20 start_pebble renew; then
  not_ok "Pebble did not start"
  show "$PEBBLE_LOG"
  finish
fi
# Pebble validates http-01 on one port: each state gets its own challenge
# kind or name, the daemon uses tls-alpn-01 so that it never competes with
# the one-shot runs for the http-01 port.
C=(--directory "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --chain-trust "$PEBBLE_ROOTS" --timeout 20
  --agree-tos --listen 127.0.0.1)
HTTP=(--challenge http-01 --http-port "$PEBBLE_HTTP_PORT")
cat >"$T_TMP/hook.sh" <<'HOOK'
#!/bin/sh
env | grep '^CERTA_RENEW_' | sort >"$CERTA_RENEW_STATE/hook.env"
echo run >>"$CERTA_RENEW_STATE/hook.runs"
HOOK
chmod +x "$T_TMP/hook.sh"
# once NAME ARGS...: certa renew --once; stdout in NAME.json, stderr in NAME.err, RC.
once() {
  local name=$1
  shift
  "$CERTA" renew --once "$@" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err"
  RC=$?
}
json() { python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); print(d.get(sys.argv[2],""))' "$@"; }
one_json_line() {
  [ "$(wc -l <"$1")" = 1 ] && python3 -c 'import json,sys; json.loads(open(sys.argv[1]).read())' "$1"
}
pair_ok() { # DIR: cert.pem's key is key.pem
  [ "$(openssl x509 -in "$1/cert.pem" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum)" = \
    "$(openssl pkey -in "$1/key.pem" -pubout -outform der | sha256sum)" ]
}

# ---- the daemon, in the background from the start (tls-alpn-01) -------------
D=$T_TMP/daemon
bg "$T_TMP/daemon.log" "$CERTA" renew --state "$D" "${C[@]}" --domain daemon.certa.test \
  --challenge tls-alpn-01 --tls-port "$PEBBLE_TLS_PORT" --backoff 1
DAEMON_PID=$BG_PID

# ---- first run: issues ------------------------------------------------------
S=$T_TMP/s1
once first --state "$S" "${C[@]}" "${HTTP[@]}" --domain one.certa.test --deploy-hook "$T_TMP/hook.sh"
if [ $RC -eq 0 ] && one_json_line "$T_TMP/first.json" && [ "$(json "$T_TMP/first.json" result)" = renewed ] &&
  [ "$(readlink "$S/current")" = releases/1 ] && pair_ok "$S/current" &&
  [ "$(stat -c %a "$S/current/key.pem")" = 600 ] && [ "$(stat -c %a "$S/config")" = 600 ] &&
  [ "$(stat -c %a "$S/account.key")" = 600 ]; then
  ok "first run: issued into releases/1, current -> releases/1, key, account key and config 0600, one JSON line"
else
  not_ok "first run"
  show "$T_TMP/first.err" "$T_TMP/first.json"
fi
if [ "$(grep -c . "$S/hook.runs" 2>/dev/null)" = 1 ] &&
  grep -qx "CERTA_RENEW_CERT=$S/current/cert.pem" "$S/hook.env" &&
  grep -qx "CERTA_RENEW_KEY=$S/current/key.pem" "$S/hook.env" &&
  grep -qx "CERTA_RENEW_STATE=$S" "$S/hook.env" && grep -qx "CERTA_RENEW_DOMAINS=one.certa.test" "$S/hook.env" &&
  grep -qx "CERTA_RENEW_RELEASE=$S/releases/1" "$S/hook.env" &&
  grep -q "^CERTA_RENEW_NOT_AFTER=$(json "$T_TMP/first.json" not_after)\$" "$S/hook.env"; then
  ok "the deploy hook ran once with CERTA_RENEW_STATE/CERT/KEY/RELEASE/DOMAINS/NOT_AFTER"
else
  not_ok "deploy hook environment"
  show "$S/hook.env"
fi

# ---- a fresh certificate: not due, nothing written --------------------------
BEFORE=$(cd "$S" && find . -printf '%p %T@ %l\n' | sort | sha256sum)
once notdue --state "$S"
AFTER=$(cd "$S" && find . -printf '%p %T@ %l\n' | sort | sha256sum)
if [ $RC -eq 0 ] && grep -q "not due, renews at 20..-..-.. ..:..:.. UTC (in .*; half of the lifetime left)" "$T_TMP/notdue.err" &&
  one_json_line "$T_TMP/notdue.json" && [ "$(json "$T_TMP/notdue.json" result)" = not_due ] &&
  [ "$(json "$T_TMP/notdue.json" basis)" = half ] && [ "$BEFORE" = "$AFTER" ]; then
  ok "fresh certificate: '$(grep -o 'not due, renews at [^(]*UTC' "$T_TMP/notdue.err")', exit 0, nothing written"
else
  not_ok "not due"
  show "$T_TMP/notdue.err" "$T_TMP/notdue.json"
fi

# ---- renewals under a reader: never a mismatched pair ------------------------
bg "$T_TMP/reader.out" python3 "$LIB_DIR/renew_reader.py" "$S" 6
READER=$BG_PID
FORCED=0
for i in 1 2 3 4; do
  once "force$i" --state "$S" --force
  [ $RC -eq 0 ] && [ "$(json "$T_TMP/force$i.json" result)" = renewed ] && FORCED=$((FORCED + 1))
done
wait "$READER"
READ=$(cat "$T_TMP/reader.out")
if [ $FORCED = 4 ] && echo "$READ" | grep -q ' mismatches=0 ' &&
  [ "$(echo "$READ" | sed 's/.*releases=\([0-9]*\).*/\1/')" -ge 3 ] &&
  [ "$(echo "$READ" | sed 's/reads=\([0-9]*\).*/\1/')" -ge 20 ]; then
  ok "4 renewals while a reader loaded current/ in a loop: $READ"
else
  not_ok "renewals under a reader ($FORCED of 4 renewed): $READ"
  show "$T_TMP/force1.err" "$T_TMP/reader.out"
fi
if [ "$(readlink "$S/current")" = releases/5 ] && [ "$(readlink "$S/previous")" = releases/4 ] &&
  pair_ok "$S/previous" && pair_ok "$S/current" && ! cmp -s "$S/previous/cert.pem" "$S/current/cert.pem" &&
  [ "$(ls "$S/releases" | sort -n | tr '\n' ' ')" = "4 5 " ] && [ "$(grep -c . "$S/hook.runs")" = 5 ] &&
  grep -qx "CERTA_RENEW_PREVIOUS=$S/releases/4" "$S/hook.env"; then
  ok "the previous pair kept (previous -> releases/4, a matching pair), older releases removed, hook ran per renewal"
else
  not_ok "previous pair"
  ls -l "$S" "$S/releases"
fi

# ---- a deploy hook that hangs is stopped at --hook-timeout ------------------
cat >"$T_TMP/hang.sh" <<'HOOK'
#!/bin/sh
sleep 60 &
echo $! >"$CERTA_RENEW_STATE/hang.pid"
wait
HOOK
chmod +x "$T_TMP/hang.sh"
H="$T_TMP/state-hang"
# running PID: the process exists and is not a zombie waiting to be reaped.
running() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null)
  [ -n "$st" ] && [ "${st#Z}" = "$st" ]
}
T0=$SECONDS
once hang --state "$H" "${C[@]}" "${HTTP[@]}" --domain hang.certa.test \
  --deploy-hook "$T_TMP/hang.sh" --hook-timeout 1
TOOK=$((SECONDS - T0))
sleep 0.2
if [ $RC -eq 4 ] && [ "$TOOK" -lt 20 ] && pair_ok "$H/current" && [ -s "$H/hang.pid" ] &&
  ! running "$(cat "$H/hang.pid")" && grep -q "deploy hook ran for 1 s: stopping it" "$T_TMP/hang.err"; then
  ok "a hanging deploy hook: stopped after --hook-timeout 1 with what it started, exit 4 (renewed, hook failed), ${TOOK} s"
else
  not_ok "hanging deploy hook (exit $RC, ${TOOK} s)"
  show "$T_TMP/hang.err" "$T_TMP/hang.json"
  [ -s "$H/hang.pid" ] && kill "$(cat "$H/hang.pid")" 2>/dev/null
fi

# ---- a short lifetime: --once renews when due ------------------------------
AT=$(json "$T_TMP/force4.json" renew_at)
WAIT=$(($(date -d "$AT" +%s) - $(date +%s) + 1))
[ "$WAIT" -gt 0 ] && [ "$WAIT" -lt 20 ] && sleep "$WAIT"
once due --state "$S"
if [ $RC -eq 0 ] && [ "$(json "$T_TMP/due.json" result)" = renewed ] && [ "$(readlink "$S/current")" = releases/6 ]; then
  ok "a due certificate (20 s lifetime, renew_at $AT): --once renewed it without --force"
else
  not_ok "due renewal (waited $WAIT s for $AT)"
  show "$T_TMP/due.err" "$T_TMP/due.json"
fi

# ---- a failing CA: retries with backoff, the sentence, the exit status -----
DEAD=$(free_port)
OLD=$(readlink "$S/current")
once dead --state "$S" "${C[@]}" "${HTTP[@]}" --domain one.certa.test --directory "https://127.0.0.1:$DEAD/dir" \
  --force --attempts 3 --backoff 0.3
MS=$(json "$T_TMP/dead.json" ms)
if [ $RC -eq 1 ] && [ "$(json "$T_TMP/dead.json" result)" = failed ] && [ "$(json "$T_TMP/dead.json" attempts)" = 3 ] &&
  [ "$(grep -c 'attempt [12] of 3 failed: cannot read the ACME directory' "$T_TMP/dead.err")" = 2 ] &&
  grep -q 'renewal failed (3 attempts): .*; the current certificate is still valid for [0-9]* s (until ' "$T_TMP/dead.err" &&
  awk -v m="${MS:-0}" 'BEGIN{exit !(m >= 900)}' && [ "$(readlink "$S/current")" = "$OLD" ] && pair_ok "$S/current"; then
  ok "failing CA: 3 attempts (backoff 0.3 s doubling: ${MS} ms), exit 1, '$(grep -o 'the current certificate is still valid for [^)]*)' "$T_TMP/dead.err" | tail -n1)', current untouched"
else
  not_ok "failing CA"
  show "$T_TMP/dead.err" "$T_TMP/dead.json"
fi
once dead2 --state "$T_TMP/s-none" "${C[@]}" "${HTTP[@]}" --domain none.certa.test \
  --directory "https://127.0.0.1:$DEAD/dir" --attempts 1
if [ $RC -eq 3 ] && grep -q 'there is no current certificate' "$T_TMP/dead2.err" && one_json_line "$T_TMP/dead2.json"; then
  ok "failing CA and no certificate at all: exit 3, 'there is no current certificate'"
else
  not_ok "failing CA without a certificate (exit $RC)"
  show "$T_TMP/dead2.err"
fi

# ---- the daemon: several renewals, then SIGTERM ----------------------------
for _ in $(seq 40); do
  [ "$(grep -c '^{"state".*"result":"renewed"' "$T_TMP/daemon.log")" -ge 3 ] && break
  sleep 0.5
done
N=$(grep -c '^{"state".*"result":"renewed"' "$T_TMP/daemon.log")
stop "$DAEMON_PID"
if [ "$N" -ge 3 ] && [ "$STOP_RC" = 0 ] && grep -q 'certa renew: stopped' "$T_TMP/daemon.log" &&
  pair_ok "$D/current" && ! grep -q '"result":"failed"' "$T_TMP/daemon.log"; then
  ok "daemon: $N renewals of a 20 s certificate (tls-alpn-01), stopped cleanly on SIGTERM (exit 0)"
else
  not_ok "daemon ($N renewals, exit $STOP_RC)"
  show "$T_TMP/daemon.log"
fi
finish
