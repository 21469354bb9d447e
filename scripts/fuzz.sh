#!/usr/bin/env bash
# Builds and runs every libFuzzer target (or the ones named on the command
# line) for FUZZ_SECONDS seconds each.
#
#   scripts/fuzz.sh                 all fuzz/fuzz_*.c targets
#   scripts/fuzz.sh der_x509 pem    just these
#   FUZZ_SECONDS=300 scripts/fuzz.sh
#
# Conventions, so new targets need no change here:
#   fuzz/fuzz_NAME.c     defines LLVMFuzzerTestOneInput
#   fuzz/corpus/NAME/    seed inputs (committed, small); optional
#   fuzz/NAME.dict       libFuzzer dictionary; optional
# The library is built with clang into build-fuzz (FUZZ_BUILD=dir overrides) (-DCERTA_FUZZ lets code
# relax checks that block fuzzing, e.g. signature verification). New inputs
# found while fuzzing go to build-fuzz/corpus/NAME/ (not the seed directory);
# crash reproducers go to build-fuzz/artifacts/NAME/. Exits non-zero if any
# target fails to build or finds a crash, leak or timeout.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET=${FUZZ_SECONDS:-10}
BUILD=${FUZZ_BUILD:-build-fuzz}
CC=clang
SAN_COMPILE='-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined'
SAN_LINK='-fsanitize=fuzzer,address,undefined'
CPPFLAGS='-Iinclude -Isrc -Itools -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -DCERTA_FUZZ'

if ! command -v "$CC" >/dev/null; then
  echo "fuzz: clang not found (apt-get install clang libclang-rt-dev)" >&2
  exit 2
fi

echo "fuzz: building $BUILD/libcerta.a"
if ! make -s BUILD=$BUILD CC=$CC \
    OPT="-O1 -g -fno-omit-frame-pointer $SAN_COMPILE -DCERTA_FUZZ" \
    EXTRA_LDFLAGS='-fsanitize=address,undefined' lib; then
  echo "fuzz: library build failed" >&2
  exit 2
fi

targets=()
if [ $# -gt 0 ]; then
  for n in "$@"; do targets+=("fuzz/fuzz_${n#fuzz_}.c"); done
else
  targets=(fuzz/fuzz_*.c)
fi

failed=()
for src in "${targets[@]}"; do
  if [ ! -f "$src" ]; then
    echo "fuzz: no such target: $src" >&2
    failed+=("$src")
    continue
  fi
  name=$(basename "$src" .c)
  name=${name#fuzz_}
  bin=$BUILD/fuzz/fuzz_$name
  work=$BUILD/corpus/$name
  artifacts=$BUILD/artifacts/$name
  mkdir -p "$(dirname "$bin")" "$work" "$artifacts"
  if ! $CC -std=c11 -g -O1 -fno-omit-frame-pointer $SAN_LINK $CPPFLAGS -Wall -Wextra -Werror \
      "$src" -o "$bin" $BUILD/libcerta.a -lcrypto -lz -lbrotlienc -lbrotlidec -lpthread -lcjson; then
    echo "fuzz: $name: build failed" >&2
    failed+=("$name")
    continue
  fi
  seeds=()
  [ -d "fuzz/corpus/$name" ] && seeds=("fuzz/corpus/$name")
  dict=()
  [ -f "fuzz/$name.dict" ] && dict=("-dict=fuzz/$name.dict")
  echo "fuzz: $name for ${SECONDS_PER_TARGET}s"
  log=$BUILD/fuzz/$name.log
  ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$bin" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$artifacts/" -print_final_stats=1 "${dict[@]}" \
      "$work" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  stats=$(grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$log" | tail -n 2 | tr '\n' ' ')
  if [ $rc -ne 0 ]; then
    echo "fuzz: $name FAILED (exit $rc); reproducers in $artifacts/, log $log" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written|panic' "$log" | head -n 20 >&2
    failed+=("$name")
  else
    echo "fuzz: $name ok: $stats"
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all ${#targets[@]} targets ran clean"
