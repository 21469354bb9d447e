#!/usr/bin/env bash
# The ABI against a recorded baseline (abigail-tools):
#   scripts/abi.sh record LIB   write packaging/abi/libcerta.so.MAJOR.abixml
#                               (abidw) from LIB, a libcerta.so built with -g
#   scripts/abi.sh check LIB [BASELINE]
#                               abidiff BASELINE LIB and judge the result
#   scripts/abi.sh judge OLD NEW   the same for any two libraries or abixml
# A change is compatible when abidiff reports only additions (functions,
# variables, types reached only through them, enumerators at the end).
# Anything else — a function or variable removed or changed, including a
# type it reaches growing or changing (abidiff's exit bit 8, or bit 4 with
# "N Removed"/"N Changed") — is incompatible: check exits 1, unless the
# library's major version has no baseline yet (CERTA_VERSION_MAJOR was
# raised: record one). Exit 0 compatible, 1 incompatible, 2 tool error.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
HEADER=$REPO/include/certa.h
major=$(sed -n 's/^#define CERTA_VERSION_MAJOR \([0-9]*\)/\1/p' "$HEADER")
BASELINE_DEFAULT=$REPO/packaging/abi/libcerta.so.$major.abixml

judge() { # OLD NEW [abidiff options]
  local old=$1 new=$2 report rc
  shift 2
  report=$(abidiff "$@" "$old" "$new" 2>&1)
  rc=$?
  printf '%s\n' "$report"
  if [ $((rc & 3)) -ne 0 ]; then
    echo "abi: abidiff failed (exit $rc)"
    return 2
  fi
  if [ $((rc & 8)) -ne 0 ] || printf '%s\n' "$report" | grep -Eq '(^|[ ,])[1-9][0-9]* (Removed|Changed)'; then
    echo "abi: INCOMPATIBLE (abidiff exit $rc)"
    return 1
  fi
  if [ $((rc & 4)) -ne 0 ]; then
    echo "abi: compatible: additions only (abidiff exit $rc)"
  else
    echo "abi: compatible: no change (abidiff exit $rc)"
  fi
  return 0
}

case "${1:-}" in
record)
  lib=${2:?usage: abi.sh record LIB}
  mkdir -p "$(dirname "$BASELINE_DEFAULT")"
  abidw --no-corpus-path --no-comp-dir-path --headers-dir "$REPO/include" \
    --out-file "$BASELINE_DEFAULT" "$lib" || exit 2
  echo "abi: recorded $BASELINE_DEFAULT"
  ;;
check)
  lib=${2:?usage: abi.sh check LIB [BASELINE]}
  base=${3:-$BASELINE_DEFAULT}
  if [ ! -f "$base" ]; then
    if ls "$REPO"/packaging/abi/libcerta.so.*.abixml >/dev/null 2>&1; then
      echo "abi: no baseline for major $major (CERTA_VERSION_MAJOR was raised): record one with scripts/abi.sh record $lib"
      exit 0
    fi
    echo "abi: no baseline at $base"
    exit 2
  fi
  judge "$base" "$lib" --headers-dir2 "$REPO/include"
  ;;
judge)
  judge "${2:?}" "${3:?}"
  ;;
*)
  echo "usage: scripts/abi.sh record LIB | check LIB [BASELINE] | judge OLD NEW" >&2
  exit 2
  ;;
esac
