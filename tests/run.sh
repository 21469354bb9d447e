#!/usr/bin/env bash
# Runs every unit test binary and every interop/behaviour/ct script, counting
# TAP-style "ok" / "not ok" lines. A binary or script that exits non-zero
# without reporting a failure counts as one failure (a crash, a sanitizer
# report). Last line: "N passed, N failed, N skipped".
set -u
BUILD=${1:-build}
cd "$(dirname "$0")/.."
export CERTA_BUILD=$PWD/$BUILD
export CERTA=$PWD/$BUILD/certa
pass=0 fail=0 skip=0
failed_names=()
run_one() {
  local name=$1; shift
  local out rc t0=$SECONDS
  out=$(mktemp)
  timeout -k 10 600 "$@" >"$out" 2>&1
  rc=$?
  local took=$((SECONDS - t0))
  local p f s
  p=$(grep -c '^ok - ' "$out")
  f=$(grep -c '^not ok - ' "$out")
  s=$(grep -c '^skip - ' "$out")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name exited with $rc" >>"$out"; fi
  if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then f=1; echo "not ok - $name asserted nothing" >>"$out"; fi
  pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
  if [ "$f" -gt 0 ]; then
    failed_names+=("$name")
    echo "=== $name: $p passed, $f failed (${took} s)"
    grep -v '^ok - ' "$out" | tail -n 60
  else
    echo "=== $name: $p passed${s:+, $s skipped} (${took} s)"
    grep '^skip - ' "$out"
  fi
  rm -f "$out"
}
for t in "$BUILD"/tests/test_*; do
  [ -x "$t" ] || continue
  run_one "$(basename "$t")" "$t"
done
for s in tests/interop/*.sh tests/behaviour/*.sh tests/ct/*.sh; do
  [ -f "$s" ] || continue
  run_one "$(basename "$s")" bash "$s"
done
# tests/slow/: the long suites against real peers (Chromium, testssl.sh, soak
# runs) run once, in the normal build; under the sanitizers the same code paths
# are covered by the interop scripts above.
case "$BUILD" in
  *-asan) echo "=== tests/slow: not run under the sanitizers (normal build only)" ;;
  *)
    for s in tests/slow/*.sh; do
      [ -f "$s" ] || continue
      run_one "$(basename "$s")" bash "$s"
    done
    ;;
esac
# X.509 path validation conformance (x509-limbo): one ok/not ok line for the bar.
run_one limbo bash tests/limbo/run.sh "$BUILD"
[ ${#failed_names[@]} -gt 0 ] && echo "failing: ${failed_names[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
