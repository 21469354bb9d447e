#!/usr/bin/env bash
# The library as a dependency: libcerta.so exports certa_* and nothing else,
# under the soname libcerta.so.MAJOR of certa.h's CERTA_VERSION_MAJOR, and
# certa_version() says the header's version; `make install` (PREFIX, and
# DESTDIR for packagers) lays out the header, both libraries and their
# links, certa.pc, the CMake package and the man pages; examples/ (a
# blocking client, an epoll server, an mTLS server with an allow rule),
# each under 150 lines, built against the installed library — once with
# pkg-config, once with CMake's find_package(certa) — talk to `certa serve`
# and `certa connect`.
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
    lib/cmake/certa/certaConfigVersion.cmake bin/certa share/man/man1/certa.1 \
    share/man/man1/certa-proxy.1 share/man/man3/libcerta.3; do
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

# ---- the examples, built against the installed library ----
# blocking_client against certa serve; epoll_server (several clients at
# once) and mtls_server (its allow rule admits one SPIFFE ID, refuses
# another and a client without a certificate) against certa connect.
gen_ca ca || not_ok "generate CA"
gen_leaf srv ca || not_ok "generate leaf"
"$CERTA" ca init "$D/idca" >/dev/null &&
  "$CERTA" ca issue "$D/idca" --out "$D/fe" --spiffe spiffe://example.org/frontend --client >/dev/null &&
  "$CERTA" ca issue "$D/idca" --out "$D/other" --spiffe spiffe://example.org/other --client >/dev/null ||
  not_ok "certa ca: client identities"
linked_to_installed() { ldd "$1" | grep -q "libcerta.so.$major => $P/lib/libcerta.so.$major"; }
run_blocking_client() { # HOW BINARY
  if start_certa_serve "serve-$1" --cert "$D/srv.crt" --key "$D/srv.key"; then
    if timeout 20 "$2" localhost "$SERVE_PORT" "$D/ca.crt" "ping-$1" >"$D/$1.out" 2>&1 &&
      grep -qx "ping-$1" "$D/$1.out" && grep -qx "library $version" "$D/$1.out" &&
      linked_to_installed "$2"; then
      ok "examples/blocking_client ($1) against the installed libcerta.so.$major: echoed by certa serve"
    else
      not_ok "blocking_client ($1)"
      show "$D/$1.out" "$SERVE_LOG"
    fi
    stop_certa_serve "serve-$1"
  fi
}
run_epoll_server() { # HOW BINARY
  local port i good=0
  port=$(free_port)
  bg "$D/epoll-$1.log" "$2" "$port" "$D/srv.crt" "$D/srv.key" 4
  local pid=$BG_PID
  if wait_for "$D/epoll-$1.log" "^listening on .*library $version" 10; then
    for i in 1 2 3 4; do
      (printf 'echo-%s-%s\n' "$1" "$i" | timeout 20 "$CERTA" connect "localhost:$port" \
        --trust "$D/ca.crt" --quiet >"$D/epoll-$1-$i.out" 2>&1) &
    done
    wait $(jobs -p | grep -v "^$pid$") 2>/dev/null
    for i in 1 2 3 4; do grep -qx "echo-$1-$i" "$D/epoll-$1-$i.out" && good=$((good + 1)); done
  fi
  for i in $(seq 50); do alive "$pid" || break; sleep 0.1; done
  if [ $good -eq 4 ] && ! alive "$pid" && linked_to_installed "$2"; then
    ok "examples/epoll_server ($1): 4 concurrent certa connect clients echoed, exited after them"
  else
    not_ok "epoll_server ($1): $good of 4 echoed"
    show "$D/epoll-$1.log" "$D/epoll-$1-1.out"
  fi
  stop "$pid"
}
run_mtls_server() { # HOW BINARY
  local port pid
  port=$(free_port)
  bg "$D/mtls-$1.log" "$2" "$port" "$D/srv.crt" "$D/srv.key" "$D/idca/ca.crt" \
    spiffe://example.org/frontend 3
  pid=$BG_PID
  if wait_for "$D/mtls-$1.log" "^listening on .*library $version" 10; then
    timeout 20 "$CERTA" connect "localhost:$port" --trust "$D/ca.crt" --cert "$D/fe.crt" \
      --key "$D/fe.key" </dev/null >"$D/mtls-$1-fe.out" 2>"$D/mtls-$1-fe.err"
    local rc_fe=$?
    timeout 20 "$CERTA" connect "localhost:$port" --trust "$D/ca.crt" --cert "$D/other.crt" \
      --key "$D/other.key" </dev/null >/dev/null 2>"$D/mtls-$1-other.err"
    local rc_other=$?
    timeout 20 "$CERTA" connect "localhost:$port" --trust "$D/ca.crt" </dev/null >/dev/null \
      2>"$D/mtls-$1-none.err"
    local rc_none=$?
  fi
  if [ "${rc_fe:-1}" -eq 0 ] && grep -qx "hello spiffe://example.org/frontend" "$D/mtls-$1-fe.out" &&
    [ "${rc_other:-0}" -ne 0 ] && grep -q "access_denied" "$D/mtls-$1-other.err" &&
    [ "${rc_none:-0}" -ne 0 ] && grep -q "certificate_required" "$D/mtls-$1-none.err" &&
    wait_for "$D/mtls-$1.log" "refused: client spiffe://example.org/other is not allowed" 5 &&
    linked_to_installed "$2"; then
    ok "examples/mtls_server ($1): admits spiffe://example.org/frontend, refuses another identity (access_denied) and no certificate (certificate_required)"
  else
    not_ok "mtls_server ($1): exits frontend ${rc_fe:-?}, other ${rc_other:-?}, none ${rc_none:-?}"
    show "$D/mtls-$1.log" "$D/mtls-$1-fe.err" "$D/mtls-$1-other.err"
  fi
  stop "$pid"
}
run_examples() { # HOW DIR
  run_blocking_client "$1" "$2/blocking_client"
  run_epoll_server "$1" "$2/epoll_server"
  run_mtls_server "$1" "$2/mtls_server"
}
mkdir -p "$D/pc"
pc_ok=1
for ex in blocking_client epoll_server mtls_server; do
  cc -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L "${san[@]}" -o "$D/pc/$ex" \
    "$REPO_DIR/examples/$ex.c" \
    $(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs certa) -Wl,-rpath,"$P/lib" \
    >>"$D/pc.log" 2>&1 || pc_ok=0
  n=$(wc -l <"$REPO_DIR/examples/$ex.c")
  [ "$n" -lt 150 ] || not_ok "examples/$ex.c has $n lines (at most 149)"
done
if [ $pc_ok = 1 ]; then
  run_examples pkg-config "$D/pc"
else
  not_ok "the examples do not build with pkg-config"
  show "$D/pc.log"
fi
if command -v cmake >/dev/null 2>&1; then
  if cmake -S "$REPO_DIR/examples" -B "$D/cmake" -DCMAKE_PREFIX_PATH="$P" \
    -DCMAKE_C_FLAGS="${san[*]}" -DCMAKE_EXE_LINKER_FLAGS="${san[*]}" \
    -DCMAKE_BUILD_RPATH="$P/lib" >"$D/cmake.log" 2>&1 &&
    cmake --build "$D/cmake" >>"$D/cmake.log" 2>&1; then
    run_examples cmake "$D/cmake"
  else
    not_ok "the examples do not build with CMake (find_package(certa))"
    show "$D/cmake.log"
  fi
else
  not_ok "cmake is not installed (scripts/deps.sh installs it)"
fi
finish
