#!/usr/bin/env bash
# Debian packages the benchmarks need beyond scripts/deps.sh: the proxies
# certa proxy is compared with, the backend and the load generator. Missing
# ones are installed when possible; bench/run.sh skips a case whose tool is
# still absent (and says why).
set -uo pipefail
pkgs=(nginx-light haproxy stunnel4 wrk util-linux valgrind)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "bench deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || echo "bench deps: apt-get update failed" >&2
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
  echo "bench deps: could not install ${missing[*]} (cases needing them are skipped)" >&2
# The Debian packages start services; the benchmarks run their own instances.
for s in nginx haproxy; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$s" 2>/dev/null; then
    $SUDO systemctl stop "$s" 2>/dev/null || true
  fi
done
exit 0
