#!/usr/bin/env bash
# libcerta's socket helpers (certa_fd_handshake, certa_fd_flush) driven from
# Python ctypes over socketpairs: see fd_helpers.py.
. "$(dirname "$0")/lib.sh"
need openssl python3
BUILD_DIR=${CERTA_BUILD:-$(dirname "$CERTA")}
SO=$BUILD_DIR/libcerta.so
if [ ! -f "$SO" ]; then
  not_ok "libcerta.so not found in $BUILD_DIR"
  finish
fi
gen_cert ecdsa srv || not_ok "generate certificate"

# A sanitizer build of the library needs its runtime loaded first; Python's
# own allocations are not ours to leak-check.
preload=
if ldd "$SO" 2>/dev/null | grep -q libasan; then
  for lib in libasan.so libubsan.so; do
    p=$(gcc -print-file-name="$lib" 2>/dev/null)
    [ -f "$p" ] && preload="$preload $p"
  done
elif nm -D "$SO" 2>/dev/null | grep -q ' U __asan_init'; then
  # clang links its sanitizer runtime into executables only: use the shared one.
  p=$(clang -print-file-name=libclang_rt.asan-x86_64.so 2>/dev/null)
  [ -f "$p" ] && preload=" $p"
fi
out=$T_TMP/fd.out
if [ -n "$preload" ]; then
  LD_PRELOAD="${preload# }" ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" timeout 120 \
    python3 "$LIB_DIR/fd_helpers.py" "$SO" "$T_TMP/srv.crt" "$T_TMP/srv.key" >"$out" 2>&1
else
  timeout 120 python3 "$LIB_DIR/fd_helpers.py" "$SO" "$T_TMP/srv.crt" "$T_TMP/srv.key" >"$out" 2>&1
fi
rc=$?
# Pass the script's own results through, counted here.
while IFS= read -r line; do
  case $line in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) not_ok "${line#not ok - }" ;;
  esac
done <"$out"
if [ "$rc" -ne 0 ] && [ "$T_FAIL" -eq 0 ]; then
  not_ok "fd_helpers.py exited with $rc"
  show "$out"
elif [ "$T_FAIL" -gt 0 ]; then
  show "$out"
fi
finish
