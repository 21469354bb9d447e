#!/usr/bin/env bash
# x509-limbo conformance for certa_verify_chain, for tests/run.sh:
#
#   bash tests/limbo/run.sh [BUILD]      (BUILD defaults to $CERTA_BUILD, then build)
#
# Runs tests/limbo/limbo.py (Python 3 stdlib + ctypes over BUILD/libcerta.so)
# on ../shared/testdata/x509-limbo/limbo.json.gz (or $LIMBO_JSON). Prints the
# per-family table, every wrong and skipped case with its reason, then one
# "ok - limbo: ..." / "not ok - limbo: ..." line (the bar: 9700 of 9780 right
# and 190 of the 208 non-bettertls cases), then "N passed, N failed, N skipped".
# An ASan build of the library is run with libasan preloaded into python.
set -u
cd "$(dirname "$0")/../.."
build=${1:-${CERTA_BUILD:-build}}
lib=$build/libcerta.so
limbo=${LIMBO_JSON:-$(dirname "$PWD")/shared/testdata/x509-limbo/limbo.json.gz}
if [ ! -f "$lib" ]; then
  echo "not ok - limbo: $lib not found (run make first)"
  exit 1
fi
if [ ! -f "$limbo" ]; then
  echo "skip - limbo: $limbo not found"
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "not ok - limbo: python3 not found (apt-get install python3)"
  exit 1
fi
preload=
if ldd "$lib" 2>/dev/null | grep -q libasan; then
  preload=$(${CC:-cc} -print-file-name=libasan.so 2>/dev/null)
  [ -f "$preload" ] || preload=$(ldd "$lib" | awk '/libasan/ {print $3}')
  export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
fi
LD_PRELOAD=$preload timeout 300 python3 tests/limbo/limbo.py --lib "$lib" --limbo "$limbo" --tap
rc=$?
if [ $rc -ne 0 ]; then
  echo "not ok - limbo: the harness exited with $rc (crash or timeout)"
fi
exit $rc
