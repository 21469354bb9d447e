#!/usr/bin/env bash
# CI: every libFuzzer target briefly, one TAP-style line per target.
#
#   bash scripts/ci_fuzz.sh [SECONDS]      (default 10 per target)
#
# Runs scripts/fuzz.sh (which builds the library with clang, ASan, UBSan and
# -DCERTA_FUZZ) and prints "ok - fuzz NAME" or "not ok - fuzz NAME: ..." for
# each fuzz/fuzz_NAME.c, then the fuzz.sh log tail of any failure. Exit status
# is fuzz.sh's. FUZZ_BUILD (default build-fuzz) picks the build directory.
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$SECONDS
FUZZ_SECONDS=$secs bash scripts/fuzz.sh >"$log" 2>&1
rc=$?
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  name=${name#fuzz_}
  if line=$(grep -m1 -E "^fuzz: $name ok: " "$log"); then
    echo "ok - fuzz $name (${secs}s: ${line#fuzz: $name ok: })"
  elif grep -q -E "^fuzz: $name: build failed" "$log"; then
    echo "not ok - fuzz $name: the target does not build"
  elif line=$(grep -m1 -E "^fuzz: $name FAILED" "$log"); then
    echo "not ok - fuzz $name: ${line#fuzz: $name }"
  else
    echo "not ok - fuzz $name: not run ($(grep -m1 -E '^fuzz: .*(failed|not found)' "$log" || echo "see the log"))"
  fi
done
if [ "$rc" -ne 0 ]; then
  echo "# scripts/fuzz.sh exited with $rc; its log:"
  tail -n 40 "$log" | sed 's/^/# /'
fi
echo "# ci_fuzz: ${secs}s per target, $((SECONDS - start))s in all"
exit "$rc"
