#!/usr/bin/env bash
# certa scan against a fleet of ~200 loopback endpoints served by ONE
# process (tests/interop/scan_fleet.py): healthy, expiring, critical,
# expired, RSA-1024, wrong name, self-signed and TLS 1.2-only certificates,
# plus endpoints that refuse, never answer and answer in plaintext. Each
# endpoint's verdict is checked in the table, JSON (against
# docs/scan.schema.json), CSV and Prometheus outputs
# (tests/interop/scan_check.py); the per-host cap is counted at the server;
# the global cap, the rate limit, the exit codes, policies and profiles, and
# --diff after a rotation between two scans.
#
#   bash tests/interop/scan.sh [BUILD]
. "$(dirname "$0")/lib.sh"
[ $# -ge 1 ] && CERTA=$REPO_DIR/$1/certa
need python3
need_certa
if ! python3 -c 'import cryptography, jsonschema' 2>/dev/null; then
  skip "python3-cryptography and python3-jsonschema are needed (make deps installs them)"
  finish
fi
FLEET=$REPO_DIR/tests/interop/scan_fleet.py
CHECK=$REPO_DIR/tests/interop/scan_check.py
SCHEMA=$REPO_DIR/docs/scan.schema.json
D=$T_TMP/fleet
PER_HOST=8

python3 "$FLEET" make "$D" >"$T_TMP/make.log" 2>&1 || {
  not_ok "making the fleet"
  show "$T_TMP/make.log"
  finish
}
N=$(grep -c '^127' "$D/targets.txt")
start_fleet() {
  rm -f "$D/stats.json" "$D/ready"
  bg "$T_TMP/fleet.log" python3 "$FLEET" serve "$D"
  FLEET_PID=$BG_PID
  for _ in $(seq 100); do [ -s "$D/ready" ] && return 0; sleep 0.1; done
  not_ok "the fleet did not start"
  show "$T_TMP/fleet.log"
  finish
}
start_fleet
ok "one process serves $(cat "$D/ready") endpoints ($N targets with the closed ports)"

SCAN=(--targets "$D/targets.txt" --trust "$D/ca.crt" --per-host $PER_HOST --timeout 2
      --connect-timeout 2 --no-progress)

# ---- the table, bounded by its own timeout --------------------------------
t0=$(date +%s%N)
timeout 30 "$CERTA" scan "${SCAN[@]}" --prom "$T_TMP/scan.prom" >"$T_TMP/table.txt" \
  2>"$T_TMP/table.err"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ $rc -ne 124 ] && [ $ms -lt 30000 ]; then
  ok "the scan of $N endpoints finished in $ms ms (timeout 30 s)"
else
  not_ok "the scan did not finish within 30 s (rc $rc)"
fi
check "exit code 1: the worst finding is a failure (got $rc)" [ $rc -eq 1 ]
if python3 "$CHECK" "$D/plan.json" table "$T_TMP/table.txt" >"$T_TMP/check.table"; then
  ok "table: every endpoint's verdict and finding ($(grep -c '^ok' "$T_TMP/check.table") kinds)"
else
  not_ok "table: verdicts"
  sed 's/^/    /' "$T_TMP/check.table" | grep 'not ok'
  show "$T_TMP/table.txt"
fi
if python3 "$CHECK" "$D/plan.json" prom "$T_TMP/scan.prom" >"$T_TMP/check.prom"; then
  ok "prometheus: endpoint_up, days_left and findings_total{severity} for every endpoint"
else
  not_ok "prometheus textfile"
  grep 'not ok' "$T_TMP/check.prom" | sed 's/^/    /'
  show "$T_TMP/scan.prom"
fi
check "prometheus: certa_cert_not_after_seconds is the leaf's notAfter" \
  grep -Eq '^certa_cert_not_after_seconds\{endpoint="127.0.0.1:[0-9]+",subject="CN=healthy-0.fleet.test",serial="[0-9a-f]+"\} [0-9]{10}$' \
  "$T_TMP/scan.prom"

max_open=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["max_open"])' \
  "$D/stats.json" 2>/dev/null || echo 0)
if [ "$max_open" -le $PER_HOST ] && [ "$max_open" -ge 2 ]; then
  ok "per-host cap: at most $max_open connections open at once at the server (--per-host $PER_HOST)"
else
  not_ok "per-host cap: the server saw $max_open connections at once (--per-host $PER_HOST)"
fi

# ---- JSON, CSV ------------------------------------------------------------
timeout 30 "$CERTA" scan "${SCAN[@]}" --json >"$T_TMP/scan1.json" 2>"$T_TMP/json.err"
rc=$?
check "--json: exit code 1 too (got $rc)" [ $rc -eq 1 ]
if python3 "$CHECK" "$D/plan.json" json "$T_TMP/scan1.json" >"$T_TMP/check.json"; then
  ok "json: every endpoint's verdict, findings and TLS version"
else
  not_ok "json: verdicts"
  grep 'not ok' "$T_TMP/check.json" | sed 's/^/    /'
fi
if python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
  "$T_TMP/scan1.json" "$SCHEMA" 2>"$T_TMP/schema.err"; then
  ok "json: the output validates against docs/scan.schema.json"
else
  not_ok "json: schema"
  show "$T_TMP/schema.err"
fi
check "json: a leaf's facts (serial, SANs, key, signature algorithm, lifetime)" python3 -c '
import json, sys
e = [x for x in json.load(open(sys.argv[1]))["endpoints"] if x["leaf"] and
     x["leaf"]["subject"] == "CN=healthy-0.fleet.test"][0]
l = e["leaf"]
assert e["chain_valid"] and e["tls"]["group"], e
assert l["dns_names"] == ["localhost", "healthy-0.fleet.test"] and l["ip_addresses"] == ["127.0.0.1"], l
assert l["key_type"] == "ECDSA P-256" and l["key_bits"] == 256, l
assert l["signature_algorithm"] == "ecdsa-with-SHA256" and len(l["serial"]) >= 30, l
assert 79 < l["days_left"] <= 80 and 0.87 < l["lifetime_left"] < 0.9, l
' "$T_TMP/scan1.json"
timeout 30 "$CERTA" scan "${SCAN[@]}" --csv >"$T_TMP/scan.csv" 2>"$T_TMP/csv.err"
if python3 "$CHECK" "$D/plan.json" csv "$T_TMP/scan.csv" >"$T_TMP/check.csv"; then
  ok "csv: every endpoint's verdict, findings and TLS version"
else
  not_ok "csv: verdicts"
  grep 'not ok' "$T_TMP/check.csv" | sed 's/^/    /'
fi

# ---- exit codes, caps, rate ----------------------------------------------
port_of() { python3 -c 'import json,sys; print([e["port"] for e in json.load(open(sys.argv[1])) if e["name"] == sys.argv[2]][0])' "$D/plan.json" "$1"; }
H0=127.0.0.1:$(port_of healthy-0)
H1=127.0.0.1:$(port_of healthy-1)
E0=127.0.0.1:$(port_of expiring-0)
"$CERTA" scan --trust "$D/ca.crt" "$H0" "$H1" >"$T_TMP/ok.txt" 2>&1
check "exit code 0 when every endpoint is healthy (got $?)" [ $? -eq 0 ]
"$CERTA" scan --trust "$D/ca.crt" "$H0" "$E0" >"$T_TMP/warn.txt" 2>&1
rc=$?
check "exit code 3 when the worst finding is a warning (got $rc)" [ $rc -eq 3 ]
"$CERTA" scan --trust "$D/ca.crt" --rate 1/minute "$H0" >/dev/null 2>&1
rc=$?
check "exit code 2 on a usage error (got $rc)" [ $rc -eq 2 ]
printf '# a policy\nfail_days = 30   # the expiring ones have 22 days\n' >"$T_TMP/strict.policy"
"$CERTA" scan --trust "$D/ca.crt" --policy "$T_TMP/strict.policy" --json "$E0" >"$T_TMP/strict.json"
rc=$?
check "--policy: fail_days = 30 makes a certificate with 22 days left fail (rc $rc)" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["endpoints"][0]
assert e["verdict"] == "fail" and any(f["id"] == "CERT-LIFETIME" and f["severity"] == "fail" for f in e["findings"]), e
' "$T_TMP/strict.json"
printf 'min_rsa_bits = 2048\nno_such_key = 1\n' >"$T_TMP/bad.policy"
"$CERTA" scan --policy "$T_TMP/bad.policy" "$H0" >/dev/null 2>"$T_TMP/bad.err"
rc=$?
check "--policy: an unknown key is refused with its line (rc $rc)" grep -q "line 2: unknown key 'no_such_key'" "$T_TMP/bad.err"
T12=127.0.0.1:$(port_of tls12-0)
"$CERTA" scan --trust "$D/ca.crt" --profile high-security --json "$T12" >"$T_TMP/hs.json"
check "--profile high-security: TLS 1.2 is a TLS-VERSION warning" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["endpoints"][0]
assert e["tls"]["version"] == "TLSv1.2" and [f["id"] for f in e["findings"]] == ["TLS-VERSION"], e
' "$T_TMP/hs.json"
"$CERTA" scan --trust "$D/ca.crt" --profile high-security --json "$H0" >"$T_TMP/hs13.json"
check "--profile high-security: a TLS 1.3 endpoint that also accepts a TLS 1.2-only handshake warns" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["endpoints"][0]
assert e["tls"]["version"] == "TLSv1.3" and e["tls"]["tls12_accepted"] is True, e["tls"]
assert [f["id"] for f in e["findings"]] == ["TLS-VERSION"] and "1.2-only" in e["findings"][0]["text"], e
' "$T_TMP/hs13.json"
check "the default policy makes one handshake per endpoint (tls12_accepted null)" python3 -c '
import json, sys
assert all(e["tls"] is None or e["tls"]["tls12_accepted"] is None for e in json.load(open(sys.argv[1]))["endpoints"])
' "$T_TMP/scan1.json"
grep healthy "$D/targets.txt" | head -40 >"$T_TMP/forty.txt"
"$CERTA" scan --targets "$T_TMP/forty.txt" --trust "$D/ca.crt" --concurrency 3 --per-host 100 \
  --json >"$T_TMP/c3.json"
check "--concurrency 3: at most 3 handshakes in flight" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert 1 <= d["max_in_flight"] <= 3 and d["summary"]["ok"] == 40, (d["max_in_flight"], d["summary"])
' "$T_TMP/c3.json"
grep healthy "$D/targets.txt" | head -20 >"$T_TMP/twenty.txt"
"$CERTA" scan --targets "$T_TMP/twenty.txt" --trust "$D/ca.crt" --rate 40 --json >"$T_TMP/rate.json"
check "--rate 40: 20 endpoints take at least 19/40 s" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["duration_ms"] >= 450 and d["summary"]["ok"] == 20, (d["duration_ms"], d["summary"])
' "$T_TMP/rate.json"
"$CERTA" scan --trust "$D/ca.crt" --json "127.0.0.1:$(port_of healthy-5),healthy-5.fleet.test" \
  "[::1]:1" >"$T_TMP/sni.json"
check "SNI after the port is the name verified; an IPv6 target that refuses" python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1]))["endpoints"]
assert a["servername"] == "healthy-5.fleet.test" and a["verdict"] == "ok", a
assert b["host"] == "::1" and b["status"] in ("refused", "error"), b
' "$T_TMP/sni.json"

# Names are resolved once each, in parallel: the same name on several ports,
# a name that does not resolve (reported, the others scanned), literals.
P5=$(port_of healthy-5) P6=$(port_of healthy-6)
"$CERTA" scan --trust "$D/ca.crt" --json "localhost:$P5,healthy-5.fleet.test" \
  "localhost:$P6,healthy-6.fleet.test" "no-such-host.invalid:443" "127.0.0.1:$P6,healthy-6.fleet.test" \
  >"$T_TMP/names.json" 2>"$T_TMP/names.err"
check "names: localhost on two ports scanned, an unresolvable name reported, the rest scanned" python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["endpoints"]
assert [x["verdict"] for x in e if x["host"] != "no-such-host.invalid"] == ["ok"] * 3, e
bad = [x for x in e if x["host"] == "no-such-host.invalid"]
assert len(bad) == 1 and bad[0]["status"] == "unresolved" and "cannot resolve" in bad[0]["error"], bad
' "$T_TMP/names.json"

# ---- --diff after a rotation ----------------------------------------------
stop "$FLEET_PID"
python3 "$FLEET" rotate "$D" >"$T_TMP/rotate.log" 2>&1 || not_ok "rotating"
start_fleet
timeout 30 "$CERTA" scan "${SCAN[@]}" --json --diff "$T_TMP/scan1.json" >"$T_TMP/scan2.json" \
  2>"$T_TMP/diff.err"
check "--diff: the changes since the first scan" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
plan = {"127.0.0.1:%d" % e["port"]: e["name"] for e in json.load(open(sys.argv[2]))}
got = sorted((plan[c["target"]], c["change"], c["detail"]) for c in d["diff"])
want = {("healthy-0", "rotated"), ("healthy-1", "rotated"), ("healthy-2", "expiring"),
        ("healthy-2", "rotated"), ("healthy-3", "disappeared"), ("refused-0", "new")}
assert {(n, c) for n, c, _ in got} == want, got
det = {n: x for n, c, x in got if c == "rotated"}
assert det["healthy-0"].startswith("serial changed, key changed"), det
assert det["healthy-1"].startswith("serial changed, key unchanged"), det
' "$T_TMP/scan2.json" "$D/plan.json"
timeout 30 "$CERTA" scan "${SCAN[@]}" --diff "$T_TMP/scan1.json" >"$T_TMP/diff.txt" 2>&1
check "--diff in the table: a 'changes since the previous scan' section" \
  grep -Eq '^  rotated +127\.0\.0\.1:[0-9]+  serial changed, key changed' "$T_TMP/diff.txt"
echo '{"schema": "other"}' >"$T_TMP/other.json"
"$CERTA" scan --trust "$D/ca.crt" --diff "$T_TMP/other.json" "$H0" >/dev/null 2>"$T_TMP/other.err"
rc=$?
check "--diff refuses a file that is not a certa scan output (rc $rc)" [ $rc -eq 2 ]
stop "$FLEET_PID"
finish
