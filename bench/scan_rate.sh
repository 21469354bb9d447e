#!/usr/bin/env bash
# scan_rate: certa scan against sslscan and an openssl s_client loop over
# one loopback fleet of SCAN_ENDPOINTS (default 1000) TLS endpoints served
# by ONE process (tests/interop/scan_fleet.py: python3 asyncio + ssl, ECDSA
# P-256, TLS 1.3), in the same run, one after another.
#
#   bash bench/scan_rate.sh [BUILD]      (bench/run.sh runs it: BENCH_ONLY=scan)
#
# certa scan covers the whole fleet (--concurrency and --per-host at the
# fleet's size: every endpoint in flight at once); sslscan (Debian's, a full
# audit of one host at a time) and the s_client loop are slow, so they are
# timed on a sample (SSLSCAN_SAMPLE, default 20; SCLIENT_SAMPLE, default
# 200) of the same endpoints and their endpoints/s computed from it. One
# line:
#   scan_rate endpoints=N certa=<eps> sslscan=<eps> s_client=<eps>
#     ratio_sslscan=<x> ratio_s_client=<x> rss_kb_per_1000_in_flight=<kb> ...
# The fleet's python server is the likely bound on certa's figure (it does
# every server handshake on one core): server_bound says so when certa's
# wall time is mostly the server's CPU time.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CERTA=${CERTA:-$PWD/$BUILD/certa}
N=${SCAN_ENDPOINTS:-1000}
SSLSCAN_SAMPLE=${SSLSCAN_SAMPLE:-20}
SCLIENT_SAMPLE=${SCLIENT_SAMPLE:-200}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/certa-scan-bench.XXXXXX")
FLEET_PID=
cleanup() {
  if [ -n "$FLEET_PID" ] && kill -0 "$FLEET_PID" 2>/dev/null; then
    kill -TERM "$FLEET_PID"
    wait "$FLEET_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

python3 tests/interop/scan_fleet.py make "$TMP/fleet" --bench "$N" >"$TMP/make.log" 2>&1 || {
  echo "scan_rate: making the fleet failed" >&2
  cat "$TMP/make.log" >&2
  exit 1
}
timeout 900 python3 tests/interop/scan_fleet.py serve "$TMP/fleet" >"$TMP/fleet.log" 2>&1 &
FLEET_PID=$!
for _ in $(seq 200); do [ -s "$TMP/fleet/ready" ] && break; sleep 0.1; done
[ -s "$TMP/fleet/ready" ] || { echo "scan_rate: the fleet did not start" >&2; cat "$TMP/fleet.log" >&2; exit 1; }
grep '^127' "$TMP/fleet/targets.txt" | cut -d' ' -f1 >"$TMP/all.txt"
server_cpu() { awk '{print $14 + $15}' "/proc/$(pgrep -P "$FLEET_PID" | head -n 1 || echo "$FLEET_PID")/stat" 2>/dev/null || echo 0; }
hz=$(getconf CLK_TCK)

# ---- certa scan: the whole fleet, everything in flight --------------------
scan() {
  "$CERTA" scan --targets "$TMP/all.txt" --trust "$TMP/fleet/ca.crt" --concurrency "$1" \
    --per-host "$1" --timeout 10 --connect-timeout 5 --no-progress --json >"$TMP/scan.json"
}
scan 50 >/dev/null 2>&1 # warm-up (page cache, the server's contexts)
cpu0=$(server_cpu)
t0=$(now_ms)
TIMEFORMAT='%U %S'
{ time scan "$N" 2>"$TMP/scan.err"; } 2>"$TMP/scan.time"
rc=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(0 if d["summary"]["fail"] == 0 else 1)' "$TMP/scan.json" 2>/dev/null || echo 2)
t1=$(now_ms)
certa_cpu_ms=$(awk '{printf "%d", ($1 + $2) * 1000}' "$TMP/scan.time")
cpu1=$(server_cpu)
read -r ok inflight rss < <(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["summary"]["ok"], d["max_in_flight"], d["peak_rss_kb"])' "$TMP/scan.json")
certa_ms=$((t1 - t0))
server_ms=$(( (cpu1 - cpu0) * 1000 / hz ))
# the same scan one at a time: the memory that is not per connection
scan 1
rss1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["peak_rss_kb"])' "$TMP/scan.json")
if [ "$ok" -ne "$N" ]; then
  echo "scan_rate: certa scan judged $ok of $N endpoints ok (rc $rc)" >&2
fi
echo "scan_rate: certa scan: $N endpoints in $certa_ms ms, $inflight in flight at most," \
  "peak RSS $rss kB (one at a time: $rss1 kB); certa used $certa_cpu_ms ms CPU, the fleet's" \
  "server $server_ms ms" >&2

# ---- sslscan: a sample, one endpoint after another --------------------------
head -n "$SSLSCAN_SAMPLE" "$TMP/all.txt" >"$TMP/sample.txt"
t0=$(now_ms)
while read -r ep; do
  sslscan --no-colour "$ep" >"$TMP/sslscan.out" 2>&1 </dev/null || true
done <"$TMP/sample.txt"
sslscan_ms=$(( $(now_ms) - t0 ))
grep -q 'Subject:' "$TMP/sslscan.out" || echo "scan_rate: sslscan saw no certificate" >&2
echo "scan_rate: sslscan $(sslscan --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -n 1):" \
  "$SSLSCAN_SAMPLE endpoints one after another in $sslscan_ms ms" >&2

# ---- openssl s_client: a sample in a shell loop -----------------------------
head -n "$SCLIENT_SAMPLE" "$TMP/all.txt" >"$TMP/sample2.txt"
t0=$(now_ms)
while read -r ep; do
  openssl s_client -connect "$ep" -CAfile "$TMP/fleet/ca.crt" </dev/null >"$TMP/sclient.out" 2>&1 || true
done <"$TMP/sample2.txt"
sclient_ms=$(( $(now_ms) - t0 ))
grep -q 'Verify return code: 0' "$TMP/sclient.out" || echo "scan_rate: s_client did not verify" >&2
echo "scan_rate: openssl s_client loop: $SCLIENT_SAMPLE endpoints in $sclient_ms ms" >&2

awk -v n="$N" -v cm="$certa_ms" -v s="$SSLSCAN_SAMPLE" -v sm="$sslscan_ms" \
    -v c="$SCLIENT_SAMPLE" -v cl="$sclient_ms" -v rss="$rss" -v rss1="$rss1" -v inf="$inflight" \
    -v srv="$server_ms" -v ccpu="$certa_cpu_ms" 'BEGIN {
  ce = n / (cm / 1000); se = s / (sm / 1000); oe = c / (cl / 1000)
  per = inf > 0 ? rss * 1000 / inf : 0
  add = inf > 0 ? (rss - rss1) * 1000 / inf : 0
  printf "scan_rate endpoints=%d certa=%.0f sslscan=%.2f s_client=%.1f ratio_sslscan=%.0f " \
         "ratio_s_client=%.1f in_flight=%d peak_rss_kb=%d rss_kb_per_1000_in_flight=%.0f " \
         "added_rss_kb_per_1000_in_flight=%.0f certa_cpu_ms=%d server_cpu_share=%.2f\n",
         n, ce, se, oe, ce / se, ce / oe, inf, rss, per, add, ccpu, srv / cm
}'
