#!/usr/bin/env bash
# tlsfuzzer (../shared/tlsfuzzer) against `certa serve`: each script listed in
# scripts.conf runs against a fresh server of the setup it names (certificate
# kind, EMS requirement, client certificates), with a time limit. One TAP line
# per script, its summary on failure, the time each took, and last
# "N passed, N failed". Scripts and probes left out are in KNOWN.md.
#
# usage: run.sh [BUILD]        (BUILD defaults to build)
# env:   CERTA                  the certa binary (default $REPO/$BUILD/certa)
#        CERTA_TLSFUZZER        the directory holding tlsfuzzer/ and tlslite-ng/
#                               (default $REPO/../shared/tlsfuzzer)
#        TLSFUZZER_PYTHON       a Python 3 with the ecdsa module (default: Debian's)
#        TF_ONLY                a regex: run only the scripts whose name matches
#        TF_TIMEOUT             seconds per script unless scripts.conf says (300)
#        TF_CONF                another script list in the scripts.conf format
#        TF_BUDGET              seconds for the whole run (900): a script that
#                               would start later fails unrun, and no script
#                               runs past it
#        TF_LOGS                where the per-script logs go
#                               (default $REPO/$BUILD/conformance/tlsfuzzer)
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$REPO/$BUILD ;; esac
CERTA=${CERTA:-$BUILD/certa}
TF_ROOT=${CERTA_TLSFUZZER:-$REPO/../shared/tlsfuzzer}
TF_ONLY=${TF_ONLY:-}
TF_TIMEOUT=${TF_TIMEOUT:-300}
TF_BUDGET=${TF_BUDGET:-900}
TF_LOGS=${TF_LOGS:-$BUILD/conformance/tlsfuzzer}
if [ -n "${TLSFUZZER_PYTHON:-}" ]; then
  PY=$TLSFUZZER_PYTHON
elif [ -x /usr/bin/python3 ]; then
  PY=/usr/bin/python3 # Debian's, where python3-ecdsa is installed
else
  PY=python3
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/certa-tlsfuzzer.XXXXXX")
SERVE_PID=
MAIN_PID=$BASHPID
cleanup() {
  [ "$BASHPID" = "$MAIN_PID" ] || return 0
  [ -n "$SERVE_PID" ] && stop_server
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0 fail=0
failed=()
bail() { # a harness problem: one failure line, then the totals
  echo "not ok - tlsfuzzer: $*"
  echo "0 passed, 1 failed"
  exit 1
}

# ---- prerequisites ------------------------------------------------------------

[ -x "$CERTA" ] || bail "certa binary not found at $CERTA (build it with make, or set CERTA)"
if ! [ -d "$TF_ROOT/tlsfuzzer/tlsfuzzer/_apps" ] || ! [ -d "$TF_ROOT/tlslite-ng/tlslite" ]; then
  bail "no tlsfuzzer at $TF_ROOT (expected ../shared/tlsfuzzer beside the repository; or set CERTA_TLSFUZZER)"
fi
TF_DIR=$(cd "$TF_ROOT/tlsfuzzer" && pwd)
TLSLITE_DIR=$(cd "$TF_ROOT/tlslite-ng" && pwd)
export PYTHONPATH=$TF_DIR:$TLSLITE_DIR
"$PY" -c 'import ecdsa, tlsfuzzer.runner' >"$TMP/py.log" 2>&1 ||
  bail "$PY cannot import ecdsa and tlsfuzzer (apt-get install python3-ecdsa; make deps): $(tail -n 1 "$TMP/py.log")"
command -v openssl >/dev/null || bail "openssl is not installed (make deps)"
mkdir -p "$TF_LOGS" || bail "cannot create $TF_LOGS"
rm -f "$TF_LOGS"/*.log

# ---- throwaway certificates -----------------------------------------------------

# key KIND FILE: a new private key, ec (P-256) or rsa (2048).
key() {
  case $1 in
    ec) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$2" ;;
    rsa) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
    p384) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$2" ;;
    p521) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out "$2" ;;
    ed25519 | ed448) openssl genpkey -algorithm "$1" -out "$2" ;;
    rsapss) openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out "$2" ;;
  esac
}
# leaf NAME KIND PURPOSE: $TMP/NAME.key and NAME.crt, issued by $TMP/ca for
# localhost / 127.0.0.1, extendedKeyUsage PURPOSE.
leaf() {
  local name=$1 kind=$2 purpose=$3 ku=digitalSignature
  [ "$kind" = rsa ] && ku=digitalSignature,keyEncipherment
  key "$kind" "$TMP/$name.key" &&
    openssl req -new -key "$TMP/$name.key" -subj "/CN=localhost" -out "$TMP/$name.csr" &&
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,$ku" \
      "extendedKeyUsage=$purpose" "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$TMP/$name.ext" &&
    openssl x509 -req -in "$TMP/$name.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" -CAcreateserial \
      -days 2 -extfile "$TMP/$name.ext" -out "$TMP/$name.crt"
}
{
  key ec "$TMP/ca.key" &&
    openssl req -x509 -new -key "$TMP/ca.key" -subj "/CN=certa tlsfuzzer CA" -days 3 \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out "$TMP/ca.crt" &&
    leaf server-ec ec serverAuth && leaf server-rsa rsa serverAuth &&
    leaf client-ec ec clientAuth && leaf client-rsa rsa clientAuth &&
    for k in p384 p521 ed25519 ed448 rsapss; do leaf "server-$k" "$k" serverAuth || exit 1; done &&
    for k in p384 p521 ed25519 ed448; do leaf "client-$k" "$k" clientAuth || exit 1; done
} >"$TMP/certs.log" 2>&1 || bail "making certificates failed: $(tail -n 3 "$TMP/certs.log")"

# ---- server setups ----------------------------------------------------------------

# setup_args SETUP: the `certa serve` arguments for a setup named in scripts.conf.
setup_args() {
  local base=(--http --min-version 1.2 --max-version 1.3)
  case $1 in
    ecdsa) SETUP_ARGS=("${base[@]}" --cert "$TMP/server-ec.crt" --key "$TMP/server-ec.key") ;;
    rsa) SETUP_ARGS=("${base[@]}" --cert "$TMP/server-rsa.crt" --key "$TMP/server-rsa.key") ;;
    ecdsa-no-ems-required) setup_args ecdsa && SETUP_ARGS+=(--allow-no-ems) ;;
    rsa-no-ems-required) setup_args rsa && SETUP_ARGS+=(--allow-no-ems) ;;
    mtls) setup_args ecdsa && SETUP_ARGS+=(--client-ca "$TMP/ca.crt" --client-auth require) ;;
    mtls-rsa) setup_args rsa && SETUP_ARGS+=(--client-ca "$TMP/ca.crt" --client-auth require) ;;
    mtls-optional) setup_args ecdsa && SETUP_ARGS+=(--client-ca "$TMP/ca.crt" --client-auth optional) ;;
    mtls-no-ems-required) setup_args mtls && SETUP_ARGS+=(--allow-no-ems) ;;
    mtls-rsa-optional) setup_args rsa && SETUP_ARGS+=(--client-ca "$TMP/ca.crt" --client-auth optional) ;;
    mtls-rsa-no-ems-required) setup_args mtls-rsa && SETUP_ARGS+=(--allow-no-ems) ;;
    ecdsa-echo | rsa-echo | tls13-rsa-echo) # echo mode: the scripts that expect their data back
      setup_args "${1%-echo}" && SETUP_ARGS=("${SETUP_ARGS[@]:1}") ;;
    tls13) SETUP_ARGS=(--http --cert "$TMP/server-ec.crt" --key "$TMP/server-ec.key") ;;
    tls13-rsa) SETUP_ARGS=(--http --cert "$TMP/server-rsa.crt" --key "$TMP/server-rsa.key") ;;
    tls13-p384 | tls13-p521 | tls13-ed25519 | tls13-ed448 | tls13-rsapss) # other key types
      SETUP_ARGS=(--http --cert "$TMP/server-${1#tls13-}.crt" --key "$TMP/server-${1#tls13-}.key") ;;
    tls13-ecdsa-all) # P-256, P-384 and P-521 certificates: a client's scheme picks one
      SETUP_ARGS=(--http)
      for k in ec p384 p521; do SETUP_ARGS+=(--cert "$TMP/server-$k.crt" --key "$TMP/server-$k.key"); done ;;
    tls13-mtls | tls13-mtls-rsa) # TLS 1.3 only, client certificate required
      setup_args "tls13${1#tls13-mtls}" && SETUP_ARGS+=(--client-ca "$TMP/ca.crt" --client-auth require) ;;
    tls13-mtls-optional | tls13-mtls-optional-rsa) # ... or optional
      setup_args "tls13${1#tls13-mtls-optional}" &&
        SETUP_ARGS+=(--client-ca "$TMP/ca.crt" --client-auth optional) ;;
    tls13-eddsa) # Ed25519 and Ed448 certificates: the client's scheme picks one
      SETUP_ARGS=(--http --cert "$TMP/server-ed25519.crt" --key "$TMP/server-ed25519.key"
        --cert "$TMP/server-ed448.crt" --key "$TMP/server-ed448.key") ;;
    tls13-rsa-and-rsapss) # rsaEncryption and RSASSA-PSS keys (rsapss-signatures -b)
      SETUP_ARGS=(--http --cert "$TMP/server-rsa.crt" --key "$TMP/server-rsa.key"
        --cert "$TMP/server-rsapss.crt" --key "$TMP/server-rsapss.key") ;;
    tls13-rsa-all-ciphers) # TLS_AES_128_CCM_SHA256 too (off by default)
      setup_args tls13-rsa && SETUP_ARGS+=(--ciphers
        TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_CCM_SHA256) ;;
    tls13-all-groups) # every group certa has, the opt-in ones too
      setup_args tls13-rsa && SETUP_ARGS+=(--groups
        x25519,secp256r1,secp384r1,secp521r1,x448,ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192) ;;
    tls13-ffdhe) # FFDHE only: a client must use it or get a HelloRetryRequest
      setup_args tls13-rsa && SETUP_ARGS+=(--groups ffdhe2048,ffdhe3072,ffdhe4096,ffdhe6144,ffdhe8192) ;;
    *) return 1 ;;
  esac
}

# start_server SETUP LOG: `certa serve` on a free loopback port (--port 0),
# bounded in time; waits for "listening on"; sets SERVE_PID and PORT.
start_server() {
  local log=$2 i
  setup_args "$1" || return 1
  setsid timeout $((TF_MAX + 60)) "$CERTA" serve --host 127.0.0.1 --port 0 "${SETUP_ARGS[@]}" \
    >"$log" 2>&1 </dev/null &
  SERVE_PID=$!
  PORT=
  for i in $(seq 100); do
    PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$log" 2>/dev/null | head -n 1)
    [ -n "$PORT" ] && return 0
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  return 1
}
# stop_server: SIGTERM, up to 10 s, then SIGKILL to its process group; sets
# SERVE_RC. Only while our own child still exists (its id cannot be reused).
stop_server() {
  local i
  kill -TERM "$SERVE_PID" 2>/dev/null
  for i in $(seq 100); do
    kill -0 "$SERVE_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$SERVE_PID" 2>/dev/null && kill -KILL -- "-$SERVE_PID" 2>/dev/null
  wait "$SERVE_PID" 2>/dev/null
  SERVE_RC=$?
  SERVE_PID=
}

# ---- the script list ----------------------------------------------------------------

# scripts.conf calls `tf SETUP[/TAG] SCRIPT [--timeout SEC] [ARGS...]`.
E_SETUP=() E_SCRIPT=() E_ARGS=() E_TIMEOUT=()
TF_MAX=$TF_TIMEOUT
tf() {
  local setup=$1 script=$2 t=$TF_TIMEOUT
  shift 2
  if [ "${1:-}" = --timeout ]; then t=$2 && shift 2; fi
  [ "$t" -gt "$TF_MAX" ] && TF_MAX=$t
  E_SETUP+=("$setup") E_SCRIPT+=("$script") E_TIMEOUT+=("$t")
  if [ $# -gt 0 ]; then E_ARGS+=("$(printf '%q ' "$@")"); else E_ARGS+=(""); fi
}
# shellcheck source=tests/conformance/tlsfuzzer/scripts.conf
. "${TF_CONF:-$HERE/scripts.conf}"

# ---- running ----------------------------------------------------------------------------

# subst ARG: the certificate placeholders scripts.conf may use.
subst() {
  local a=$1
  a=${a//@CLIENT_EC_KEY@/$TMP/client-ec.key}
  a=${a//@CLIENT_EC_CRT@/$TMP/client-ec.crt}
  a=${a//@CLIENT_RSA_KEY@/$TMP/client-rsa.key}
  a=${a//@CLIENT_RSA_CRT@/$TMP/client-rsa.crt}
  for k in p384 p521 ed25519 ed448; do
    K=$(echo "$k" | tr a-z A-Z)
    a=${a//@CLIENT_${K}_KEY@/$TMP/client-$k.key}
    a=${a//@CLIENT_${K}_CRT@/$TMP/client-$k.crt}
  done
  a=${a//@SERVER_EC_CRT@/$TMP/server-ec.crt}
  a=${a//@SERVER_RSA_CRT@/$TMP/server-rsa.crt}
  a=${a//@SERVER_RSA_KEY@/$TMP/server-rsa.key}
  printf '%s' "$a"
}

t_all=$(date +%s)
for i in "${!E_SCRIPT[@]}"; do
  setup=${E_SETUP[$i]} script=${E_SCRIPT[$i]} limit=${E_TIMEOUT[$i]}
  name="tlsfuzzer $script [$setup]"
  [ -n "$TF_ONLY" ] && ! [[ "$script [$setup]" =~ $TF_ONLY ]] && continue
  tag=$(printf '%s' "${script%.py}-$setup" | tr -c 'A-Za-z0-9_.-' '_')
  log=$TF_LOGS/$tag.log slog=$TF_LOGS/$tag.server.log
  module=tlsfuzzer._apps.$(basename "$script" .py | tr '-' '_')
  raw=()
  eval "raw=(${E_ARGS[$i]})"
  args=()
  for a in "${raw[@]}"; do args+=("$(subst "$a")"); done
  t0=$(date +%s)
  left=$((TF_BUDGET - (t0 - t_all)))
  if [ "$left" -le 0 ]; then
    fail=$((fail + 1)) failed+=("$script [$setup]")
    echo "not ok - $name: not run, the run's budget of $TF_BUDGET s is spent (TF_BUDGET)"
    continue
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  if ! start_server "${setup%%/*}" "$slog"; then
    fail=$((fail + 1)) failed+=("$script [$setup]")
    echo "not ok - $name: certa serve did not start"
    tail -n 5 "$slog" | sed 's/^/    | /'
    [ -n "$SERVE_PID" ] && stop_server
    continue
  fi
  (cd "$TF_DIR" && exec timeout -k 10 "$limit" "$PY" -u -m "$module" -h 127.0.0.1 -p "$PORT" \
    "${args[@]}") >"$log" 2>&1 </dev/null
  rc=$?
  alive=yes
  kill -0 "$SERVE_PID" 2>/dev/null || alive=no
  stop_server # certa serve exits 0 on SIGTERM; anything else is worth a look
  secs=$(($(date +%s) - t0))
  summary=$(sed -n 's/^\(TOTAL\|PASS\|FAIL\|SKIP\|XFAIL\|XPASS\): *\([0-9]*\)$/\1 \2/p' "$log" | paste -sd ' ' -)
  why=
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    why="timed out after ${limit} s"
  elif [ "$rc" -ne 0 ]; then
    why="exit $rc"
  fi
  if [ "$alive" = no ]; then
    why="${why:+$why; }certa serve died during the script (status $SERVE_RC)"
  elif [ "$SERVE_RC" -ne 0 ]; then
    why="${why:+$why; }certa serve exited with status $SERVE_RC on SIGTERM"
  fi
  grep -Eq 'Sanitizer|runtime error:' "$slog" && why="${why:+$why; }sanitizer report in the server log"
  if [ -z "$why" ] && [ -z "$summary" ]; then why="no summary from the script"; fi
  if [ -z "$why" ] && [[ "$summary" =~ ^TOTAL\ 0\  ]]; then why="the script ran no probe"; fi
  if [ -z "$why" ]; then
    pass=$((pass + 1))
    echo "ok - $name (${secs} s; $summary)"
  else
    fail=$((fail + 1)) failed+=("$script [$setup]")
    echo "not ok - $name: $why (${secs} s; ${summary:-no summary})"
    # The failed probes the script names, or its last lines.
    if grep -q '^FAILED:' "$log"; then
      sed -n '/^FAILED:/,$p' "$log" | head -n 40 | sed 's/^/    | /'
    else
      tail -n 15 "$log" | sed 's/^/    | /'
    fi
    echo "    | (full log: $log; server: $slog)"
  fi
done
echo "# tlsfuzzer: $(($(date +%s) - t_all)) s in total"
[ ${#failed[@]} -gt 0 ] && echo "# failing: ${failed[*]}"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
