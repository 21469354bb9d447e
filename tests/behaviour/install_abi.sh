#!/usr/bin/env bash
# The library as a dependency: libcerta.so exports certa_* and nothing else,
# under the soname libcerta.so.MAJOR of certa.h's CERTA_VERSION_MAJOR, and
# certa_version() says the header's version; `make install` (PREFIX, and
# DESTDIR for packagers) lays out the header, both libraries and their
# links, certa.pc and the CMake package; examples/blocking_client.c built
# against the installed library — once with pkg-config, once with CMake's
# find_package(certa) — talks to `certa serve`.
. "$(dirname "$0")/../interop/lib.sh"
need openssl pkg-config python3
need_certa

BUILD_DIR=${CERTA_BUILD:-$REPO_DIR/build}
BUILD_NAME=$(basename "$BUILD_DIR")
D=$T_TMP
SO="$BUILD_DIR/libcerta.so"
san=() make_san=()
case "$BUILD_NAME" in *-asan)
  san=(-fsanitize=address,undefined)
  make_san=(SAN=1 BUILD="${BUILD_NAME%-asan}")
  ;;
*) make_san=(BUILD="$BUILD_NAME") ;;
esac
version=$(sed -n 's/^#define CERTA_VERSION "\(.*\)"/\1/p' "$REPO_DIR/include/certa.h")
major=$(sed -n 's/^#define CERTA_VERSION_MAJOR \([0-9]*\)/\1/p' "$REPO_DIR/include/certa.h")

# ---- exports, soname, version ----
nm -D --defined-only "$SO" | awk '{print $3}' | grep -v '^CERTA_[0-9]*$' >"$D/exports"
if [ -s "$D/exports" ] && ! grep -qv '^certa_' "$D/exports"; then
  ok "libcerta.so exports only certa_* ($(wc -l <"$D/exports") symbols)"
else
  not_ok "libcerta.so exports other symbols: $(grep -v '^certa_' "$D/exports" | head -n 8 | tr '\n' ' ')"
fi
if readelf -d "$SO" | grep -q "Library soname: \[libcerta.so.$major\]" &&
  [ "$(readlink "$SO")" = "libcerta.so.$major" ] &&
  [ "$(readlink "$BUILD_DIR/libcerta.so.$major")" = "libcerta.so.$version" ]; then
  ok "soname libcerta.so.$major, with libcerta.so -> libcerta.so.$major -> libcerta.so.$version"
else
  not_ok "soname or links"
  readelf -d "$SO" | grep SONAME
fi
got=$(LD_PRELOAD="$(cc "${san[@]}" -print-file-name=libasan.so 2>/dev/null | grep -v '^libasan.so$')" \
  ASAN_OPTIONS=detect_leaks=0 python3 -c "import ctypes,sys; l=ctypes.CDLL(sys.argv[1]); \
l.certa_version.restype=ctypes.c_char_p; print(l.certa_version().decode())" "$SO" 2>&1)
if [ "$got" = "$version" ] && "$CERTA" version | grep -q "^certa $version$"; then
  ok "certa_version() and certa version say $version, as certa.h does"
else
  not_ok "version: library '$got', header '$version', tool '$("$CERTA" version)'"
fi

# ---- make install ----
P="$D/prefix"
if make -s -C "$REPO_DIR" "${make_san[@]}" install PREFIX="$P" >"$D/install.log" 2>&1; then
  missing=""
  for f in include/certa.h lib/libcerta.a "lib/libcerta.so.$version" "lib/libcerta.so.$major" \
    lib/libcerta.so lib/pkgconfig/certa.pc lib/cmake/certa/certaConfig.cmake \
    lib/cmake/certa/certaConfigVersion.cmake bin/certa; do
    [ -e "$P/$f" ] || missing="$missing $f"
  done
  if [ -z "$missing" ] && PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --modversion certa |
    grep -qx "$version"; then
    ok "make install PREFIX=...: header, libraries and links, certa.pc ($version), CMake package, certa"
  else
    not_ok "make install layout: missing$missing"
  fi
else
  not_ok "make install failed"
  show "$D/install.log"
fi
if make -s -C "$REPO_DIR" "${make_san[@]}" install PREFIX=/usr DESTDIR="$D/stage" \
  >"$D/stage.log" 2>&1 && [ -f "$D/stage/usr/lib/libcerta.so.$version" ] &&
  grep -qx "prefix=/usr" "$D/stage/usr/lib/pkgconfig/certa.pc"; then
  ok "make install DESTDIR=... PREFIX=/usr stages under DESTDIR, certa.pc saying /usr"
else
  not_ok "DESTDIR install"
  show "$D/stage.log"
fi

# ---- the example, built against the installed library, against certa serve ----
gen_ca ca || not_ok "generate CA"
gen_leaf srv ca || not_ok "generate leaf"
run_example() { # NAME BINARY
  if start_certa_serve "serve-$1" --cert "$D/srv.crt" --key "$D/srv.key"; then
    if timeout 20 "$2" localhost "$SERVE_PORT" "$D/ca.crt" "ping-$1" >"$D/$1.out" 2>&1 &&
      grep -qx "ping-$1" "$D/$1.out" && grep -qx "library $version" "$D/$1.out" &&
      ldd "$2" | grep -q "libcerta.so.$major => $P/lib/libcerta.so.$major"; then
      ok "examples/blocking_client ($1) against the installed libcerta.so.$major: echoed by certa serve"
    else
      not_ok "example ($1)"
      show "$D/$1.out" "$SERVE_LOG"
    fi
    stop_certa_serve "serve-$1"
  fi
}
if cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L "${san[@]}" -o "$D/pc-client" \
  "$REPO_DIR/examples/blocking_client.c" \
  $(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs certa) -Wl,-rpath,"$P/lib" \
  >"$D/pc.log" 2>&1; then
  run_example pkg-config "$D/pc-client"
else
  not_ok "the example does not build with pkg-config"
  show "$D/pc.log"
fi
if command -v cmake >/dev/null 2>&1; then
  if cmake -S "$REPO_DIR/examples" -B "$D/cmake" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_C_FLAGS="${san[*]}" -DCMAKE_EXE_LINKER_FLAGS="${san[*]}" \
    -DCMAKE_BUILD_RPATH="$P/lib" >"$D/cmake.log" 2>&1 &&
    cmake --build "$D/cmake" >>"$D/cmake.log" 2>&1; then
    run_example cmake "$D/cmake/blocking_client"
  else
    not_ok "the example does not build with CMake (find_package(certa))"
    show "$D/cmake.log"
  fi
else
  not_ok "cmake is not installed (scripts/deps.sh installs it)"
fi
finish
