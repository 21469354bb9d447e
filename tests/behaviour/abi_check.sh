#!/usr/bin/env bash
# ABI check: abidiff (abigail-tools) between the recorded baseline
# packaging/abi/libcerta.so.MAJOR.abixml and the library just built, judged
# by scripts/abi.sh: additions pass, a removed or changed function (or a
# type it reaches changing) fails unless CERTA_VERSION_MAJOR was raised.
# First the judge itself, on small libraries and on libcerta with a function
# added and one removed, so a pass means something.
. "$(dirname "$0")/../interop/lib.sh"
need abidw abidiff cc
BUILD_DIR=${CERTA_BUILD:-$REPO_DIR/build}
SO=$BUILD_DIR/libcerta.so
ABI=$REPO_DIR/scripts/abi.sh
D=$T_TMP
[ -f "$SO" ] || { not_ok "no $SO (make lib)"; finish; }

# ---- the judge on a small library: each kind of change ----
mkdir -p "$D/mini"
cat >"$D/mini/v1.h" <<'H'
typedef struct mini_info { int a; int b; } mini_info;
typedef enum mini_err { MINI_OK = 0, MINI_E_ONE, MINI_E_TWO } mini_err;
int mini_info_get(mini_info *out);
int mini_do(int x);
mini_err mini_check(int x);
H
cat >"$D/mini/lib.c" <<'C'
#include "lib.h"
int mini_info_get(mini_info *out) { out->a = 1; out->b = 2; return 0; }
int mini_do(TYPE x) { return (int)x + 1; }
mini_err mini_check(int x) { return x ? MINI_E_ONE : MINI_OK; }
#ifdef ADDED
typedef struct mini_new { int z; } mini_new;
int mini_added(const mini_new *n) { return n->z; }
#endif
#ifndef REMOVED
int mini_old(void) { return 7; }
#endif
C
mini() { # NAME SED-ON-HEADER CFLAGS...
  local name=$1 edit=$2
  shift 2
  mkdir -p "$D/mini/$name"
  sed "$edit" "$D/mini/v1.h" >"$D/mini/$name/lib.h"
  cc -g -shared -fPIC -I"$D/mini/$name" -DTYPE=int "$@" -o "$D/mini/$name/lib.so" "$D/mini/lib.c"
}
mini base ''
mini added '' -DADDED
mini enum_appended 's/MINI_E_TWO }/MINI_E_TWO, MINI_E_THREE }/'
mini removed '' -DREMOVED
mini prototype 's/int mini_do(int x)/int mini_do(long x)/' -UTYPE -DTYPE=long
mini struct_grown 's/int b; }/int b; int c; }/'
mini enum_inserted 's/MINI_E_ONE, MINI_E_TWO/MINI_E_NEW, MINI_E_ONE, MINI_E_TWO/'
abidw --no-corpus-path --out-file "$D/mini/base.abixml" "$D/mini/base/lib.so"
expect() { # VARIANT EXPECTED-EXIT WHAT
  bash "$ABI" judge "$D/mini/base.abixml" "$D/mini/$1/lib.so" >"$D/mini/$1.txt" 2>&1
  local rc=$?
  if [ $rc -eq "$2" ]; then ok "judge: $3 -> $(tail -n 1 "$D/mini/$1.txt" | sed 's/^abi: //')"; else
    not_ok "judge: $3 gave exit $rc, expected $2"
    show "$D/mini/$1.txt"
  fi
}
expect added 0 "a function (and its new type) added"
expect enum_appended 0 "an enumerator appended"
expect removed 1 "a function removed"
expect prototype 1 "a parameter's type changed"
expect struct_grown 1 "a caller-allocated struct grown"
expect enum_inserted 1 "an enumerator inserted (values shift)"

# ---- the same on libcerta: its objects relinked with one function more, and
# with certa_version no longer exported ----
objs=$(find "$BUILD_DIR/obj/src" -name '*.o' | sort)
san=()
case "$(basename "$BUILD_DIR")" in *-asan) san=(-fsanitize=address,undefined) ;; esac
cat >"$D/added.c" <<'C'
#include <stddef.h>
typedef struct certa_abi_probe { int field; } certa_abi_probe;
int certa_abi_probe_added(const certa_abi_probe *p);
int certa_abi_probe_added(const certa_abi_probe *p) { return p ? p->field : 0; }
C
printf 'CERTA_0 {\n  global:\n    certa_*;\n  local:\n    certa_version;\n    *;\n};\n' >"$D/removed.map"
link() { # OUT EXTRA...
  local out=$1
  shift
  # shellcheck disable=SC2086
  cc -shared "${san[@]}" -Wl,-soname,libcerta.so.0 -o "$out" $objs "$@" \
    -lcrypto -lz -lbrotlienc -lbrotlidec -lpthread
}
cc -g -fPIC "${san[@]}" -c "$D/added.c" -o "$D/added.o"
if link "$D/libcerta-added.so" "$D/added.o" -Wl,--version-script,"$REPO_DIR/src/libcerta.map" &&
  link "$D/libcerta-removed.so" -Wl,--version-script,"$D/removed.map"; then
  bash "$ABI" check "$D/libcerta-added.so" >"$D/real-added.txt" 2>&1
  rc_added=$?
  bash "$ABI" check "$D/libcerta-removed.so" >"$D/real-removed.txt" 2>&1
  rc_removed=$?
  if [ $rc_added -eq 0 ] && grep -q "certa_abi_probe_added" "$D/real-added.txt" &&
    [ $rc_removed -eq 1 ] && grep -q "certa_version" "$D/real-removed.txt"; then
    ok "libcerta with a function added passes against the baseline; without certa_version it fails"
  else
    not_ok "libcerta experiments: added exit $rc_added, removed exit $rc_removed (expected 0, 1)"
    show "$D/real-added.txt" "$D/real-removed.txt"
  fi
else
  not_ok "relinking libcerta for the experiments"
fi

# ---- the library as built against the baseline ----
bash "$ABI" check "$SO" >"$D/check.txt" 2>&1
rc=$?
if [ $rc -eq 0 ]; then
  ok "$(basename "$(readlink -f "$SO")") against packaging/abi: $(tail -n 1 "$D/check.txt" | sed 's/^abi: //')"
else
  not_ok "$(basename "$(readlink -f "$SO")") is not ABI-compatible with packaging/abi (exit $rc): raise CERTA_VERSION_MAJOR, or undo the change (DESIGN.md, The ABI)"
  sed -n '1,60p' "$D/check.txt" | sed 's/^/    | /'
fi
finish
