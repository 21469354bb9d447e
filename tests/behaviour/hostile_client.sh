#!/usr/bin/env bash
# Hostile-server behaviour of `certa connect`: for each server case in
# tests/behaviour/raw_peer.py (--serve-list: a bad ServerHello, a downgrade
# sentinel, an unknown or unoffered cipher suite, unsolicited or duplicated
# extensions, HelloRetryRequest twice, a CertificateVerify over the wrong
# transcript, a wrong Finished, oversize records, a server that sends one byte
# per second, ...), a raw Python server answers one `certa connect --insecure`
# and this script checks certa's exit status and that its stderr names the
# expected CERTA_E_ code and the alert. One "ok - <case>" / "not ok - <case>:
# ..." line per case.
#
# Env: CERTA (default build/certa). Needs python3 with the cryptography module
# (for the certificate and CertificateVerify); skipped without it.
set -u
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
PEER="$ROOT/tests/behaviour/raw_peer.py"
CERTA=${CERTA:-$ROOT/build/certa}
START=$SECONDS

if ! command -v python3 >/dev/null || ! python3 -c 'import cryptography' 2>/dev/null; then
  echo "skip - hostile_client: python3 with the cryptography module is needed"
  echo "ok - hostile_client: nothing to run"
  exit 0
fi
if [ ! -x "$CERTA" ]; then
  echo "not ok - hostile_client: certa binary not found at $CERTA"
  exit 1
fi

TMP=$(mktemp -d)
SRV_PID=""
cleanup() {
  if [ -n "$SRV_PID" ]; then kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

failed=0
while IFS=$'\t' read -r name codes alerts; do
  : >"$TMP/srv.out"
  python3 "$PEER" --serve "$name" --timeout 5 >"$TMP/srv.out" 2>"$TMP/srv.err" &
  SRV_PID=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$TMP/srv.out")
    [ -n "$port" ] && break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    echo "not ok - $name: the raw server did not start: $(tail -n 3 "$TMP/srv.err" | tr '\n' ' ')"
    failed=$((failed + 1))
    kill "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; SRV_PID=""
    continue
  fi
  t0=$SECONDS
  timeout 30 "$CERTA" connect "127.0.0.1:$port" --insecure --servername localhost --timeout 4 \
    </dev/null >"$TMP/out" 2>"$TMP/err"
  rc=$?
  took=$((SECONDS - t0))
  wait "$SRV_PID" 2>/dev/null
  SRV_PID=""
  err=$(tr '\n' ' ' <"$TMP/err" | cut -c1-400)
  srv=$(grep '^# server' "$TMP/srv.out" | head -n 1 | cut -c1-200)
  why=""
  matched=""
  if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/err"; then
    why="sanitizer report: $(grep -m1 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$TMP/err")"
  elif [ "$rc" -eq 124 ]; then
    why="certa connect hung (killed after 30 s)"
  elif [ -z "$codes" ]; then
    [ "$rc" -eq 0 ] || why="expected success, got exit $rc: $err"
  else
    # codes: alternatives separated by '|'; an empty alternative allows success.
    matched=""
    IFS='|' read -ra alts <<<"$codes"
    for c in "${alts[@]}"; do
      if [ -n "$c" ] && [ "$rc" -ne 0 ] && grep -q "$c" "$TMP/err"; then matched=$c; fi
    done
    if [ -z "$matched" ] && [ "${codes: -1}" = "|" ] && [ "$rc" -eq 0 ]; then matched="success"; fi
    if [ -z "$matched" ]; then
      why="expected exit != 0 naming $codes, got exit $rc: $err"
    elif [ -n "$alerts" ] && [ "$matched" != success ]; then
      ok_alert=""
      IFS='|' read -ra als <<<"$alerts"
      for a in "${als[@]}"; do grep -q "alert $a" "$TMP/err" && ok_alert=$a; done
      [ -n "$ok_alert" ] || why="named $matched but not the alert $alerts: $err"
    fi
  fi
  if [ -z "$why" ]; then
    echo "ok - $name (exit $rc${matched:+, $matched}, ${took}s)"
  else
    echo "not ok - $name: $why [$srv]"
    failed=$((failed + 1))
  fi
done < <(python3 "$PEER" --serve-list)
echo "# hostile_client: $failed failed in $((SECONDS - START))s"
[ "$failed" -eq 0 ]
