#!/usr/bin/env bash
# Man pages: scripts/man.sh makes certa(1), certa-CMD(1) for every command
# `certa --help` lists, and libcerta(3). Each page must render without
# warnings (groff, and man -l when man-db is there), each command must have
# its prose source man/certa-CMD.txt, every option `certa CMD --help` prints
# must appear in the rendered page, and every function libcerta.so exports
# in libcerta(3). `make install` puts them under PREFIX/share/man.
. "$(dirname "$0")/../interop/lib.sh"
need groff
need_certa

D=$T_TMP
M=$D/man
if bash "$REPO_DIR/scripts/man.sh" "$CERTA" "$M" 2>"$D/gen.err"; then
  ok "scripts/man.sh generated $(ls "$M" | wc -l) pages"
else
  not_ok "scripts/man.sh failed"
  show "$D/gen.err"
fi

# Rendered text, one long line per paragraph, hyphenation off (the pages say .nh).
render() {
  if command -v man >/dev/null 2>&1; then
    MANWIDTH=200 MAN_KEEP_FORMATTING= man -l "$1" 2>"$D/render.err" | col -b
  else
    groff -man -Tutf8 -rLL=200n "$1" 2>"$D/render.err" | col -b
  fi
}
check_rendered() { # PAGE
  local warn
  warn=$(groff -man -ww -z "$1" 2>&1)
  render "$1" >"$D/page.txt"
  if [ -n "$warn" ] || [ -s "$D/render.err" ] || [ "$(wc -l <"$D/page.txt")" -lt 10 ]; then
    not_ok "$(basename "$1") does not render cleanly"
    echo "$warn" | head -n 5 | sed 's/^/    | /'
    show "$D/render.err"
    return 1
  fi
}
# The options a --help text names: every --word in it.
options_in() { grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u; }

commands=$("$CERTA" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit }
  on && $1 != "version" && $1 != "help" { print $1 }')
[ -n "$commands" ] || not_ok "certa --help lists no commands"
for cmd in $commands; do
  page=$M/certa-$cmd.1
  if [ ! -f "$REPO_DIR/man/certa-$cmd.txt" ]; then
    not_ok "certa $cmd has no man page source: add man/certa-$cmd.txt (its DESCRIPTION and EXAMPLES; the options come from certa $cmd --help, see scripts/man.sh)"
    continue
  fi
  [ -f "$page" ] || { not_ok "certa-$cmd.1 was not generated"; continue; }
  check_rendered "$page" || continue
  "$CERTA" "$cmd" --help 2>&1 | options_in >"$D/opts"
  # subcommands the prose file pulls in with @help
  grep '^@help ' "$REPO_DIR/man/certa-$cmd.txt" | while read -r _ args; do
    # shellcheck disable=SC2086
    "$CERTA" $args --help 2>&1 | options_in
  done >>"$D/opts"
  missing=$(sort -u "$D/opts" | while read -r o; do grep -qF -- "$o" "$D/page.txt" || echo "$o"; done)
  if [ -s "$D/opts" ] && [ -z "$missing" ] && grep -q "^DESCRIPTION" "$D/page.txt"; then
    ok "certa-$cmd(1) renders and names all $(sort -u "$D/opts" | wc -l) options of certa $cmd --help"
  else
    not_ok "certa-$cmd(1) lacks options certa $cmd --help prints:" $missing
  fi
done

# certa(1): every command, and the options of certa --help.
if check_rendered "$M/certa.1"; then
  "$CERTA" --help | options_in >"$D/opts"
  missing=$( (cat "$D/opts"; for c in $commands; do echo "certa-$c(1)"; done) |
    while read -r o; do grep -qF -- "$o" "$D/page.txt" || echo "$o"; done)
  if [ -z "$missing" ]; then
    ok "certa(1) renders, refers to every command's page and names certa --help's options"
  else
    not_ok "certa(1) lacks:" $missing
  fi
fi

# libcerta(3): every exported function.
SO=${CERTA_BUILD:-$REPO_DIR/build}/libcerta.so
if check_rendered "$M/libcerta.3" && [ -f "$SO" ]; then
  nm -D --defined-only "$SO" | awk '$2 == "T" { sub(/@.*/, "", $3); print $3 }' | sort -u >"$D/funcs"
  missing=$(while read -r f; do grep -qF -- "$f()" "$D/page.txt" || echo "$f"; done <"$D/funcs")
  if [ -s "$D/funcs" ] && [ -z "$missing" ]; then
    ok "libcerta(3) renders and lists all $(wc -l <"$D/funcs") exported functions"
  else
    not_ok "libcerta(3) lacks exported functions (declare them in include/certa.h):" $missing
  fi
fi

# make install puts the pages under share/man.
P=$D/prefix
all_installed() {
  local c
  for c in $commands; do [ -f "$P/share/man/man1/certa-$c.1" ] || return 1; done
}
BUILD_NAME=$(basename "${CERTA_BUILD:-$REPO_DIR/build}")
case "$BUILD_NAME" in *-asan) mk=(SAN=1 BUILD="${BUILD_NAME%-asan}") ;; *) mk=(BUILD="$BUILD_NAME") ;; esac
if make -s -C "$REPO_DIR" "${mk[@]}" install PREFIX="$P" >"$D/install.log" 2>&1 &&
  [ -f "$P/share/man/man1/certa.1" ] && [ -f "$P/share/man/man3/libcerta.3" ] &&
  all_installed; then
  ok "make install puts certa(1), certa-CMD(1) and libcerta(3) in PREFIX/share/man/man1, man3"
else
  not_ok "make install does not install the man pages"
  show "$D/install.log"
fi
finish
