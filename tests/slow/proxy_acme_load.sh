#!/usr/bin/env bash
# Short-lived certificates under load: Pebble issues certificates valid for
# 20 s (certificateValidityPeriod), certa proxy --acme renews each when half
# of its lifetime is left, answering tls-alpn-01 on its own listener, while
# a bounded load generator (acme_load_client.py: 4 threads of new
# connections, each one request verified against Pebble's root and echoed
# back, plus 2 connections held open for the whole run) keeps requests
# flowing for 40 s. Asserted: zero failed requests, zero mismatched
# request/answer pairs, both held connections alive across every swap; at
# least 3 renewals, every one before the certificate it replaced expired;
# every issuance and renewal followed by a reload for new connections
# (every rotation in the log); the clients saw at least as many distinct
# serials as there were renewals, and only serials the proxy logged.
. "$(dirname "$0")/../interop/lib.sh"
. "$(dirname "$0")/../interop/acme_lib.bash"
need_certa
need pebble pebble-challtestsrv curl openssl python3

NAME=load.certa.test
VALIDITY=20
LOAD_S=${ACME_LOAD_SECONDS:-40}
if ! PEBBLE_VALIDITY=$VALIDITY start_pebble load; then
  not_ok "Pebble did not start"
  show "$PEBBLE_LOG"
  finish
fi
start_echo_backend || not_ok "echo backend"
LOG=$T_TMP/proxy.log
bg "$LOG" "$CERTA" proxy --listen "127.0.0.1:$PEBBLE_TLS_PORT" --backend "127.0.0.1:$ECHO_PORT" \
  --acme "$PEBBLE_DIR" --acme-ca-bundle "$PEBBLE_CA" --acme-chain-trust "$PEBBLE_ROOTS" \
  --acme-domain "$NAME" --agree-tos --acme-state "$T_TMP/state" --log-format json
PROXY_PID=$BG_PID
if ! wait_for "$LOG" '"event":"reload"' 30; then
  not_ok "no first certificate"
  show "$LOG" "$PEBBLE_LOG"
  finish
fi
ok "first certificate obtained and serving"

timeout $((LOAD_S + 30)) python3 "$(dirname "$0")/acme_load_client.py" 127.0.0.1 "$PEBBLE_TLS_PORT" \
  "$NAME" "$PEBBLE_ROOTS" "$LOAD_S" 4 2 >"$T_TMP/load.out" 2>&1
RESULT=$(head -n1 "$T_TMP/load.out")
field() { sed -n "s/.*\b$1=\([^ ]*\).*/\1/p" <<<"$RESULT"; }
REQ=$(field requests) FAIL=$(field failures) MIS=$(field mismatched) HELD=$(field held_ok)
SEEN=$(field serials)
echo "# load: $RESULT"
if [ -n "$REQ" ] && [ "$REQ" -ge 200 ] && [ "$FAIL" = 0 ] && [ "$MIS" = 0 ] && [ "$HELD" = 2/2 ]; then
  ok "$REQ requests over $LOAD_S s: 0 failed, 0 mismatched; both held connections answered every round ($(field held_rounds) rounds) across the swaps"
else
  not_ok "load: $RESULT"
  show "$T_TMP/load.out"
fi

# The proxy's own account of the run.
python3 - "$LOG" "$SEEN" >"$T_TMP/check.out" 2>&1 <<'PY'
import json, sys, datetime
def t(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
installed, reloads, problems = [], 0, []
for d in lines:
    if d.get("event") in ("acme-issued", "acme-renewed"):
        installed.append(d)
    elif d.get("event") == "reload" and d.get("files") == "(acme)":
        reloads += 1
renewals = [d for d in installed if d["event"] == "acme-renewed"]
for prev, cur in zip(installed, installed[1:]):
    at = t(cur["time"][:19] + "Z")
    if at >= t(prev["not_after"]):
        problems.append("serial %s renewed at %s, after %s expired at %s" % (cur["serial"], cur["time"], prev["serial"], prev["not_after"]))
logged = {d["serial"] for d in installed}
seen = set(filter(None, sys.argv[2].split(",")))
print("installed=%d renewals=%d reloads=%d seen=%d stray=%s" % (len(installed), len(renewals), reloads, len(seen), ",".join(sorted(seen - logged)) or "-"))
for p in problems:
    print(p)
ok = len(renewals) >= 3 and reloads == len(installed) and not problems and len(seen) >= len(renewals) and seen <= logged
sys.exit(0 if ok else 1)
PY
RC=$?
if [ $RC -eq 0 ]; then
  ok "rotations: $(head -n1 "$T_TMP/check.out") — each renewal before the old certificate expired, each followed by its reload line"
else
  not_ok "rotations: $(cat "$T_TMP/check.out")"
  grep -E '"event":"(acme|reload)' "$LOG" | sed 's/^/# /'
fi
if grep -q '"event":"acme-failed"' "$LOG"; then
  echo "# a renewal attempt failed and was retried: $(grep '"event":"acme-failed"' "$LOG" | head -n1)"
fi
PROXY_LOG=$LOG
stop_proxy load # exit 0, no sanitizer report
check_log_schema "$LOG"
finish
