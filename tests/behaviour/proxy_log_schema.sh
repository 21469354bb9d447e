#!/usr/bin/env bash
# certa proxy --log-format json against its documented schema
# (docs/log-schema.md, read by log_schema.py): a handshake, a refusal, a
# reload and a failed reload, a PROXY-protocol refusal, start-up and
# shutdown — every line must be valid JSON with only documented fields of
# the documented types, and the lines the test caused must be there with
# the values it caused. The checker is first shown to refuse bad lines.
. "$(dirname "$0")/../interop/lib.sh"
need openssl python3
need_certa

D=$T_TMP
SCHEMA=$REPO_DIR/docs/log-schema.md
CHECK=$(dirname "$0")/log_schema.py
if python3 "$CHECK" "$SCHEMA" --self-test >"$D/self.txt" 2>&1; then
  ok "the checker reads docs/log-schema.md and refuses undocumented fields, wrong types, missing fields, unknown events"
else
  not_ok "checker self-test"
  show "$D/self.txt"
fi

C="$D/ca"
"$CERTA" ca init "$C" >"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/srv" --dns localhost --server >>"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/web" --spiffe spiffe://t.example/web --client >>"$D/ca.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/bad" --spiffe spiffe://t.example/bad --client >>"$D/ca.log" 2>&1 ||
  not_ok "CA"
cp "$D/srv.crt" "$D/live.crt"
cp "$D/srv.key" "$D/live.key"
start_echo_backend || not_ok "echo backend"
client() { # NAME CERT
  echo hi | timeout 20 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
    --trust "$C/ca.crt" --cert "$D/$2.crt" --key "$D/$2.key" --timeout 10 >"$D/$1.out" 2>&1
}
MPORT=$(free_port)
if start_proxy json --backend "127.0.0.1:$ECHO_PORT" --cert "$D/live.crt" --key "$D/live.key" \
  --client-ca "$C/ca.crt" --allow spiffe://t.example/web --log-format json \
  --metrics "127.0.0.1:$MPORT"; then
  client good web
  client refused bad
  hup "$PROXY_PID" # the proxy itself, once (lib.sh)
  wait_for "$PROXY_LOG" '"event":"reload"' 10
  echo "not a certificate" >"$D/live.crt" # the watcher notices within a second or two
  wait_for "$PROXY_LOG" '"event":"reload-failed"' 10
  stop_proxy json
  # certa proxy writes only JSON lines: the sanitizer's report, if any, is caught by stop_proxy
  if python3 "$CHECK" "$SCHEMA" "$PROXY_LOG" >"$D/check.txt" 2>&1; then
    ok "every line of the JSON log matches docs/log-schema.md ($(tail -n 1 "$D/check.txt"))"
  else
    not_ok "JSON log lines outside the schema"
    cat "$D/check.txt" | head -n 20 | sed 's/^/    | /'
  fi
  python3 - "$PROXY_LOG" >"$D/facts.txt" 2>&1 <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
ev = lambda e: [l for l in lines if l.get("event") == e]
good = [l for l in ev("close") if l.get("reason") == "clean" and l.get("identity") == "spiffe://t.example/web"]
bad = [l for l in ev("close") if l.get("reason") == "handshake failure"]
rel = ev("reload")
checks = {
  "handshake": bool(good) and good[0]["verified"] is True and good[0]["version"] == "TLSv1.3"
      and good[0]["bytes_in"] == 3 and good[0]["bytes_out"] == 3 and good[0]["handshake_ms"] >= 0,
  "refusal": bool(bad) and bad[0]["identity"] == "spiffe://t.example/bad"
      and bad[0]["error"].startswith("CERTA_E_") and "not allowed" in bad[0]["detail"]
      and bad[0]["handshake_ms"] == -1,
  "reload": len(rel) == 1 and rel[0]["files"] == "(SIGHUP)" and rel[0]["generation"] == "1",
  "reload-failed": len(ev("reload-failed")) == 1 and "live.crt" in ev("reload-failed")[0]["files"],
  "start and stop": len(ev("listening")) == 1 and len(ev("shutdown")) == 1 and len(ev("stopped")) == 1,
}
for k, v in checks.items(): print(k, "ok" if v else "MISSING")
sys.exit(0 if all(checks.values()) else 1)
PY
  if [ $? -eq 0 ]; then
    ok "the lines are there: a verified handshake (close, clean, 3 bytes each way), a refusal (handshake failure, CERTA_E_*, detail), a SIGHUP reload (generation 1), a failed reload, start and stop"
  else
    not_ok "expected lines"
    show "$D/facts.txt" "$PROXY_LOG"
  fi
fi

# A PROXY-protocol refusal (close line with lb=) and the helpers' lines in JSON.
if start_proxy json-pp --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --accept-proxy-protocol --log-format json; then
  echo hi | timeout 10 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
    --trust "$C/ca.crt" --timeout 5 >/dev/null 2>&1
  wait_for "$PROXY_LOG" '"reason":"proxy protocol"' 5
  stop_proxy json-pp
  if python3 "$CHECK" "$SCHEMA" "$PROXY_LOG" >"$D/check-pp.txt" 2>&1 &&
    grep -q '"lb":"127.0.0.1:' "$PROXY_LOG"; then
    ok "a PROXY-protocol refusal's close line (with lb) matches the schema"
  else
    not_ok "PROXY-protocol refusal line"
    show "$D/check-pp.txt" "$PROXY_LOG"
  fi
fi
# --acme before its first certificate, the CA unreachable: the waiting and
# failure lines, and a refused handshake's close line (the lines of a working
# order are checked against the schema by tests/interop/proxy_acme*.sh).
DEAD=$(free_port)
if start_proxy json-acme --backend "127.0.0.1:$ECHO_PORT" --acme "https://127.0.0.1:$DEAD/dir" \
  --acme-domain acme.certa.test --agree-tos --acme-state "$D/acme-state" --log-format json; then
  wait_for "$PROXY_LOG" '"event":"acme-failed"' 10
  echo hi | timeout 10 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername acme.certa.test \
    --trust "$C/ca.crt" --timeout 5 >/dev/null 2>&1
  wait_for "$PROXY_LOG" '"reason":"no certificate"' 5
  stop_proxy json-acme
  if python3 "$CHECK" "$SCHEMA" "$PROXY_LOG" >"$D/check-acme.txt" 2>&1 &&
    grep -q '"event":"acme-waiting"' "$PROXY_LOG" && grep -q '"event":"acme-failed".*"retry_in_s":"2"' "$PROXY_LOG" &&
    grep -q '"reason":"no certificate"' "$PROXY_LOG"; then
    ok "--acme without a certificate: acme-waiting, acme-failed (retry_in_s) and the 'no certificate' close line match the schema"
  else
    not_ok "--acme lines"
    show "$D/check-acme.txt" "$PROXY_LOG"
  fi
fi
stop "$ECHO_PID"
finish
