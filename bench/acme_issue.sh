#!/usr/bin/env bash
# Time from `certa acme issue` start to installed certificate against Pebble
# on loopback (tests/interop/acme_lib.bash starts it: PEBBLE_VA_NOSLEEP=1,
# its default 5 % nonce rejection), for each challenge type: a fresh name
# per run (no authorization reuse), the account made by the first run and
# found by its key afterwards. Median of ACME_RUNS (default 5); one line per
# challenge on stdout:
#   acme_issue_http01 median_ms=N runs_ms=a,b,c,d,e
# No target: a figure to keep honest (bench/RESULTS.md).
#   CERTA=build/certa bash bench/acme_issue.sh
set -u
. "$(dirname "$0")/../tests/interop/lib.sh"
. "$(dirname "$0")/../tests/interop/acme_lib.bash"
RUNS=${ACME_RUNS:-5}
for t in pebble pebble-challtestsrv curl; do
  command -v "$t" >/dev/null || { echo "acme_issue skipped: $t is not installed"; exit 0; }
done
start_pebble bench || { echo "acme_issue skipped: Pebble did not start"; exit 0; }
write_dns_hook
A=(--directory "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --chain-trust "$PEBBLE_ROOTS" --agree-tos
  --account-key "$T_TMP/bench-account.key" --listen 127.0.0.1 --timeout 60)
# Warm-up: creates the account (not timed), so every timed run is the same work.
"$CERTA" acme issue "${A[@]}" --domain warm.bench.test --challenge http-01 \
  --http-port "$PEBBLE_HTTP_PORT" --out "$T_TMP/warm" >/dev/null 2>&1
for ch in http-01 tls-alpn-01 dns-01; do
  case $ch in
    http-01) extra=(--http-port "$PEBBLE_HTTP_PORT") ;;
    tls-alpn-01) extra=(--tls-port "$PEBBLE_TLS_PORT") ;;
    dns-01) extra=(--dns-hook "$DNS_HOOK") ;;
  esac
  times=()
  for i in $(seq "$RUNS"); do
    t0=$(date +%s%N)
    if ! "$CERTA" acme issue "${A[@]}" --domain "r$i-${ch%%-*}.bench.test" --challenge "$ch" \
      "${extra[@]}" --out "$T_TMP/out-$ch-$i" >"$T_TMP/run.log" 2>&1; then
      echo "acme_issue_${ch//-/} failed: $(tail -n 1 "$T_TMP/run.log")"
      continue 2
    fi
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 1000000)))
  done
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "acme_issue_${ch//-/} median_ms=$median runs_ms=$(IFS=,; echo "${times[*]}")"
done
