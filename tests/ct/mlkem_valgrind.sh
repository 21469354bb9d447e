#!/usr/bin/env bash
# Constant time of ML-KEM (src/pq/) in its secrets, checked by valgrind's
# memcheck: tests/ct/mlkem_ct.c marks the keygen seed, dk, the encapsulation
# entropy and the shared secrets undefined, and memcheck reports every
# conditional jump, and every memory address, computed from them. The driver
# is compiled here together with src/pq/*.c (and src/crypto/rand.c for
# crypto_zero) with -DCERTA_CT_VALGRIND, as the library builds them (-O3)
# and at -O0, with gcc and clang when present: a compiler may turn a mask
# into a branch at one level and not another. It never loads the build's
# libcerta, so it runs the same under an ASan build (valgrind cannot run ASan
# binaries; this one has no sanitizer). -gdwarf-4: this valgrind cannot read
# the DWARF 5 clang emits by default.
#
# First a control: a branch on a secret byte must be reported, or the check
# proves nothing.
set -u
cd "$(dirname "$0")/../.."
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; }

if ! command -v valgrind >/dev/null || [ ! -f /usr/include/valgrind/memcheck.h ]; then
  bad "mlkem ct: valgrind (and its memcheck.h) not installed (apt-get install valgrind)"
  exit 1
fi
D=$(mktemp -d /tmp/certa-ct.XXXXXX)
trap 'rm -rf "$D"' EXIT

vg() { # log binary args...
  local log=$1
  shift
  timeout 300 valgrind --tool=memcheck --error-exitcode=99 --track-origins=yes \
    --log-file="$log" "$@" >"$log.out" 2>&1
}
leaks_in() { # log -> number of reports tied to secret data
  grep -cE 'Conditional jump or move depends on uninitialised|Use of uninitialised value|Syscall param .* uninitialised' "$1"
}

compilers=(gcc)
command -v clang >/dev/null && compilers+=(clang)
first=1
for cc in "${compilers[@]}"; do
  for opt in -O3 -O0; do
    bin="$D/mlkem_ct_${cc}${opt}"
    if ! "$cc" -std=c11 -Wall -Wextra -Werror $opt -gdwarf-4 -Iinclude -Isrc -D_DEFAULT_SOURCE \
      -D_POSIX_C_SOURCE=200809L -DCERTA_CT_VALGRIND -o "$bin" tests/ct/mlkem_ct.c src/pq/*.c \
      src/crypto/rand.c -lcrypto 2>"$D/cc.log"; then
      bad "mlkem ct: $cc $opt build failed: $(head -c 400 "$D/cc.log")"
      continue
    fi
    if [ "$first" = 1 ]; then
      first=0
      vg "$D/control.log" "$bin" control
      if [ "$(leaks_in "$D/control.log")" -ge 1 ]; then
        ok "mlkem ct: valgrind reports a branch on a secret byte (control)"
      else
        bad "mlkem ct: valgrind missed the control's secret branch: $(tail -n 5 "$D/control.log" | tr '\n' ' ')"
      fi
    fi
    # Both paths (src/pq/cpu.h): AVX2 (when the CPU, as valgrind reports it,
    # has it) and the portable C forced by CERTA_NO_AVX2.
    for path in avx2 portable; do
      if [ "$path" = portable ]; then
        CERTA_NO_AVX2=1 vg "$D/run.log" "$bin"
      else
        CERTA_NO_AVX2= vg "$D/run.log" "$bin"
      fi
      rc=$?
      n=$(leaks_in "$D/run.log")
      what="$(head -n 1 "$D/run.log.out" | sed 's/^path: //')"
      if [ "$rc" -eq 0 ] && [ "$n" -eq 0 ]; then
        ok "mlkem ct: $cc $opt, $what path: keygen, encaps, decaps (valid, rejected, bad dk), prepared keygen/parse/decaps for 768 and 1024: no branch or index on secrets"
      else
        bad "mlkem ct: $cc $opt, $what path: exit $rc, $n reports on secret data"
        grep -A12 -m3 -E 'Conditional jump|Use of uninitialised' "$D/run.log" | sed 's/^/#   /' | head -n 40
        sed 's/^/#   /' "$D/run.log.out" | head -n 5
      fi
    done
  done
done
