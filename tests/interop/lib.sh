#!/usr/bin/env bash
# Shared helpers for the interop scripts: TAP-style reporting, throwaway
# certificates made with the openssl CLI, background servers that are always
# stopped (trap), free loopback ports and bounded waits.
#
# Source it:   . "$(dirname "$0")/lib.sh"
# Run it directly and it checks itself (certificate generation, pins, ports).
#
# Environment: CERTA (path to the certa binary; default build/certa).

set -u

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$LIB_DIR/../.." && pwd)
CERTA=${CERTA:-$REPO_DIR/build/certa}
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/certa-interop.XXXXXX")
T_PIDS=()
T_PASS=0
T_FAIL=0
T_SKIP=0

# ---- reporting ------------------------------------------------------------

ok() {
  T_PASS=$((T_PASS + 1))
  echo "ok - $*"
}
not_ok() {
  T_FAIL=$((T_FAIL + 1))
  echo "not ok - $*"
}
skip() {
  T_SKIP=$((T_SKIP + 1))
  echo "skip - $*"
}
# Prints a file indented, for diagnostics after a failure (last 40 lines).
show() {
  local f
  for f in "$@"; do
    [ -f "$f" ] || continue
    echo "    --- $(basename "$f")"
    tail -n 40 "$f" | sed 's/^/    | /'
  done
}
# check NAME COMMAND...: ok if the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name"; fi
}
# Ends the script: exit status says whether anything failed.
finish() {
  echo "# $T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
  [ "$T_FAIL" -eq 0 ]
  exit $?
}
# need TOOL...: skips the whole script when a tool is missing.
need() {
  local t
  for t in "$@"; do
    if ! command -v "$t" >/dev/null 2>&1; then
      skip "$t is not installed (make deps installs it)"
      finish
    fi
  done
}
# need_bssl: sets BSSL to BoringSSL's bssl ($CERTA_BSSL, else
# ../shared/peers/bssl beside the repository); without it, not ok and finish.
need_bssl() {
  BSSL=${CERTA_BSSL:-$REPO_DIR/../shared/peers/bssl}
  if [ ! -x "$BSSL" ]; then
    not_ok "bssl not found at $BSSL (../shared/peers beside the repository, or set CERTA_BSSL)"
    finish
  fi
}
need_certa() {
  if [ ! -x "$CERTA" ]; then
    not_ok "certa binary not found at $CERTA (build it with make, or set CERTA)"
    finish
  fi
}

# ---- processes --------------------------------------------------------------

# Stops every background process this script started, and removes temp files.
# Only in the script's own shell: a background job killed before it has
# exec'd its command is still a copy of this shell with these traps.
T_MAIN_PID=$BASHPID
t_cleanup() {
  [ "$BASHPID" = "$T_MAIN_PID" ] || return 0
  local pid
  for pid in "${T_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${T_PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    # Only while our process still exists: its id cannot have been reused.
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
    fi
  done
  rm -rf "$T_TMP"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# bg LOG COMMAND...: runs COMMAND in its own process group (at most 300 s),
# output to LOG, input from $BG_STDIN (default /dev/null); sets BG_PID.
bg() {
  local log=$1
  shift
  setsid timeout 300 "$@" >"$log" 2>&1 <"${BG_STDIN:-/dev/null}" &
  BG_PID=$!
  T_PIDS+=("$BG_PID")
}
# hup PID: SIGHUP to the command bg started, once. (Sent to bg's PID, GNU
# timeout would pass it on to the command and again to its process group:
# the command would see two reloads.)
hup() {
  local child
  child=$(pgrep -P "$1" | head -n 1)
  kill -HUP "${child:-$1}"
}
# stop PID: SIGTERM (timeout passes it on to the command once), wait up to
# 10 s (sanitizer builds check for leaks at exit), then SIGKILL to the whole
# group. Sets STOP_RC to the exit status (143 etc. when it died of the signal).
stop() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL -- "-$pid" 2>/dev/null; fi
  wait "$pid" 2>/dev/null
  STOP_RC=$?
}
# wait_for FILE PATTERN [SECONDS]: waits until FILE matches PATTERN (grep -E).
wait_for() {
  local file=$1 pat=$2 secs=${3:-10} i
  for i in $(seq $((secs * 10))); do
    grep -Eq -- "$pat" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
# alive PID
alive() { kill -0 "$1" 2>/dev/null; }

# ---- ports ------------------------------------------------------------------

port_in_use() {
  local p=$1
  if command -v ss >/dev/null 2>&1; then
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && return 0
    return 1
  fi
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && return 0
  return 1
}
# free_port: prints a port from a random high range that nothing uses.
free_port() {
  local i p
  for i in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    port_in_use "$p" || {
      echo "$p"
      return 0
    }
  done
  return 1
}

# ---- certificates ---------------------------------------------------------

# gen_cert KIND NAME [DAYS]: KIND is ecdsa (P-256), rsa (2048), ed25519,
# ecdsa384, ecdsa521, ed448, rsapss (RSASSA-PSS 2048, no parameters) or
# rsapss384 (RSASSA-PSS 2048 restricted to SHA-384, MGF1 SHA-384, salt >=
# 48); writes $T_TMP/NAME.crt and NAME.key, a self-signed CN=localhost
# with SAN DNS:localhost, IP:127.0.0.1 and IP:::1.
gen_cert() {
  local kind=$1 name=$2 days=${3:-2} newkey
  case $kind in
    ecdsa) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
    ecdsa384) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-384) ;;
    ecdsa521) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-521) ;;
    rsa) newkey=(-newkey rsa:2048) ;;
    ed25519) newkey=(-newkey ed25519) ;;
    ed448) newkey=(-newkey ed448) ;;
    rsapss) newkey=(-newkey rsa-pss -pkeyopt rsa_keygen_bits:2048) ;;
    rsapss384) newkey=(-newkey rsa-pss -pkeyopt rsa_keygen_bits:2048 -pkeyopt rsa_pss_keygen_md:sha384
      -pkeyopt rsa_pss_keygen_mgf1_md:sha384 -pkeyopt rsa_pss_keygen_saltlen:48 -sha384) ;;
    *) echo "gen_cert: unknown kind $kind" >&2; return 1 ;;
  esac
  openssl req -x509 "${newkey[@]}" -nodes -keyout "$T_TMP/$name.key" -out "$T_TMP/$name.crt" \
    -days "$days" -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
    -addext "basicConstraints=critical,CA:FALSE" >"$T_TMP/$name.gen.log" 2>&1
}
# gen_ca NAME: a self-signed ECDSA P-256 CA ($T_TMP/NAME.crt, NAME.key).
gen_ca() {
  local name=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T_TMP/$name.key" -out "$T_TMP/$name.crt" -days 3 -subj "/CN=certa test CA $name" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    >"$T_TMP/$name.gen.log" 2>&1
}
# gen_leaf NAME CA [PURPOSE]: an ECDSA P-256 leaf for localhost / 127.0.0.1 /
# ::1 issued by CA; PURPOSE is serverAuth (default) or clientAuth.
gen_leaf() {
  local name=$1 ca=$2 purpose=${3:-serverAuth}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_TMP/$name.key" \
    -out "$T_TMP/$name.csr" -subj "/CN=localhost" >"$T_TMP/$name.gen.log" 2>&1 || return 1
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=$purpose" "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" >"$T_TMP/$name.ext"
  openssl x509 -req -in "$T_TMP/$name.csr" -CA "$T_TMP/$ca.crt" -CAkey "$T_TMP/$ca.key" \
    -CAcreateserial -days 2 -extfile "$T_TMP/$name.ext" -out "$T_TMP/$name.crt" \
    >>"$T_TMP/$name.gen.log" 2>&1
}
# pin_of CERT: prints sha256:BASE64 of the certificate's SubjectPublicKeyInfo.
pin_of() {
  printf 'sha256:%s\n' "$(openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64 -w0)"
}

# ---- TLS 1.2 -------------------------------------------------------------------

# The TLS 1.2 suites certa has (ECDHE + AEAD only): IANA name -> OpenSSL name.
declare -A TLS12_OSSL=(
  [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]=ECDHE-ECDSA-AES128-GCM-SHA256
  [TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384]=ECDHE-ECDSA-AES256-GCM-SHA384
  [TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256]=ECDHE-ECDSA-CHACHA20-POLY1305
  [TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]=ECDHE-RSA-AES128-GCM-SHA256
  [TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384]=ECDHE-RSA-AES256-GCM-SHA384
  [TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]=ECDHE-RSA-CHACHA20-POLY1305
)
# tls12_suites KIND: the IANA names of the TLS 1.2 suites for a certificate
# kind (ecdsa or rsa), one per line, AES-128-GCM, AES-256-GCM, ChaCha20.
tls12_suites() {
  local auth
  case $1 in ecdsa) auth=ECDSA ;; rsa) auth=RSA ;; *) return 1 ;; esac
  printf 'TLS_ECDHE_%s_WITH_%s\n' "$auth" AES_128_GCM_SHA256 "$auth" AES_256_GCM_SHA384 \
    "$auth" CHACHA20_POLY1305_SHA256
}
# no_ems_openssl_conf: prints the path of an OPENSSL_CONF file whose system
# default turns the extended master secret off (RFC 7627) for every OpenSSL
# 3 peer started with it in the environment (s_client, s_server, Python ssl).
no_ems_openssl_conf() {
  local f=$T_TMP/no-ems.cnf
  [ -f "$f" ] || printf '%s\n' 'openssl_conf = openssl_init' '[openssl_init]' 'ssl_conf = ssl_sect' \
    '[ssl_sect]' 'system_default = system_default_sect' '[system_default_sect]' \
    'Options = -ExtendedMasterSecret' >"$f"
  echo "$f"
}
# conn_line LOG N: certa serve's line for connection N, once it has ended
# (waits up to 5 s).
conn_line() {
  wait_for "$1" "^conn #$2 from .*ended" 5
  grep "^conn #$2 from " "$1" | head -n1
}

# ---- servers ----------------------------------------------------------------

# start_certa_serve NAME ARGS...: starts `certa serve --port 0 ARGS` on
# 127.0.0.1 (unless ARGS has --host), waits for "listening on", sets
# SERVE_PID, SERVE_PORT and SERVE_LOG ($T_TMP/NAME.log).
start_certa_serve() {
  local name=$1
  shift
  SERVE_LOG=$T_TMP/$name.log
  bg "$SERVE_LOG" "$CERTA" serve --port 0 "$@"
  SERVE_PID=$BG_PID
  SERVE_PORT=
  if ! wait_for "$SERVE_LOG" '^listening on ' 10; then
    not_ok "$name: certa serve did not start"
    show "$SERVE_LOG"
    return 1
  fi
  SERVE_PORT=$(sed -n 's/^listening on .*:\([0-9][0-9]*\) .*/\1/p' "$SERVE_LOG" | head -n1)
  [ -n "$SERVE_PORT" ]
}
# stop_certa_serve NAME: SIGTERM; reports whether it exited cleanly (status
# 0, no sanitizer report).
stop_certa_serve() {
  local name=$1
  stop "$SERVE_PID"
  if [ "$STOP_RC" -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error:' "$SERVE_LOG"; then
    ok "$name: certa serve stopped cleanly on SIGTERM"
  else
    not_ok "$name: certa serve exit status $STOP_RC or sanitizer report"
    show "$SERVE_LOG"
  fi
}
# start_port_server NAME READY_REGEX CMD... (CMD may use @PORT@): picks a free
# port, starts CMD and waits for READY_REGEX in its output; retries on
# another port if it fails to start. Sets SRV_PID, SRV_PORT, SRV_LOG.
start_port_server() {
  local name=$1 ready=$2 try a
  shift 2
  SRV_LOG=$T_TMP/$name.log
  for try in 1 2 3 4 5; do
    SRV_PORT=$(free_port) || return 1
    local args=()
    for a in "$@"; do args+=("${a//@PORT@/$SRV_PORT}"); done
    bg "$SRV_LOG" "${args[@]}"
    SRV_PID=$BG_PID
    local i
    for i in $(seq 100); do
      grep -Eq -- "$ready" "$SRV_LOG" 2>/dev/null && return 0
      alive "$SRV_PID" || break
      sleep 0.1
    done
    stop "$SRV_PID"
  done
  not_ok "$name: server did not start"
  show "$SRV_LOG"
  return 1
}
# start_openssl_server NAME ARGS...: openssl s_server on 127.0.0.1.
start_openssl_server() {
  local name=$1
  shift
  start_port_server "$name" '^ACCEPT' openssl s_server -accept "127.0.0.1:@PORT@" "$@"
}
# start_held_openssl_server NAME ARGS...: openssl s_server with its stdin
# held open by a bounded writer (s_server quits at EOF on stdin, and prints
# some things, e.g. exported keying material, only while it reads stdin).
# stop_held_openssl_server stops both.
start_held_openssl_server() {
  rm -f "$T_TMP/held-stdin"
  mkfifo "$T_TMP/held-stdin" || return 1
  sleep 60 >"$T_TMP/held-stdin" &
  HOLD_PID=$!
  T_PIDS+=("$HOLD_PID")
  BG_STDIN=$T_TMP/held-stdin start_openssl_server "$@"
}
stop_held_openssl_server() {
  stop "$SRV_PID"
  kill "$HOLD_PID" 2>/dev/null
  wait "$HOLD_PID" 2>/dev/null
}
# start_gnutls_server NAME ARGS...: gnutls-serv (it listens on every address;
# the tests only connect to 127.0.0.1).
start_gnutls_server() {
  local name=$1
  shift
  start_port_server "$name" 'listening' gnutls-serv -p @PORT@ "$@"
}

# start_echo_backend: a plaintext TCP echo service (Python asyncio) on
# 127.0.0.1, for proxies and stunnel to forward to; sets ECHO_PID, ECHO_PORT.
start_echo_backend() {
  cat >"$T_TMP/echo.py" <<'EOF'
import asyncio
async def handle(r, w):
    while True:
        b = await r.read(65536)
        if not b:
            break
        w.write(b)
        await w.drain()
    w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("echo on", srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()
asyncio.run(main())
EOF
  bg "$T_TMP/echo.log" python3 "$T_TMP/echo.py"
  ECHO_PID=$BG_PID
  wait_for "$T_TMP/echo.log" '^echo on [0-9]+' 10 || return 1
  ECHO_PORT=$(sed -n 's/^echo on //p' "$T_TMP/echo.log")
}
# start_proxy NAME ARGS...: certa proxy --listen 127.0.0.1:0 ARGS; waits for
# "listening on"; sets PROXY_PID, PROXY_PORT, PROXY_LOG ($T_TMP/NAME.log).
start_proxy() {
  local name=$1
  shift
  PROXY_LOG=$T_TMP/$name.log
  bg "$PROXY_LOG" "$CERTA" proxy --listen 127.0.0.1:0 "$@"
  PROXY_PID=$BG_PID
  wait_for "$PROXY_LOG" 'listening on 127\.0\.0\.1:[0-9]+' 10 || return 1
  PROXY_PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$PROXY_LOG" | head -n1 | sed 's/.*://')
  [ -n "$PROXY_PORT" ]
}
# stop_proxy NAME: SIGTERM; reports whether it exited cleanly.
stop_proxy() {
  stop "$PROXY_PID"
  if [ "$STOP_RC" -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error:' "$PROXY_LOG"; then
    ok "$1: certa proxy stopped cleanly on SIGTERM"
  else
    not_ok "$1: certa proxy exit status $STOP_RC or sanitizer report"
    show "$PROXY_LOG"
  fi
}

# ---- clients ----------------------------------------------------------------

# feed_until FILE PATTERN SECONDS LINE...: prints the lines, then keeps stdin
# open until FILE matches PATTERN (or SECONDS pass). For clients that quit at
# the end of their input before the answer has arrived.
feed_until() {
  local file=$1 pat=$2 secs=$3
  shift 3
  printf '%s\n' "$@"
  wait_for "$file" "$pat" "$secs" || true
}
# uniq_token: a unique word for round-trip checks.
uniq_token() {
  echo "certa-$$-$RANDOM-$RANDOM"
}
# rev_str STRING: reversed (what openssl s_server -rev answers).
rev_str() {
  echo "$1" | rev
}

# ---- self-check when run directly --------------------------------------------

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  need openssl
  for k in ecdsa rsa ed25519; do
    if gen_cert "$k" "self-$k" && openssl x509 -in "$T_TMP/self-$k.crt" -noout -ext subjectAltName |
      grep -q 'IP Address:127.0.0.1'; then
      ok "lib: gen_cert $k makes a certificate with the loopback SAN"
    else
      not_ok "lib: gen_cert $k"
      show "$T_TMP/self-$k.gen.log"
    fi
    pin=$(pin_of "$T_TMP/self-$k.crt")
    if [[ $pin =~ ^sha256:[A-Za-z0-9+/]{43}=$ ]]; then
      ok "lib: pin_of $k is sha256:BASE64 of 32 bytes"
    else
      not_ok "lib: pin_of $k gave '$pin'"
    fi
  done
  if gen_ca selfca && gen_leaf selfleaf selfca &&
    openssl verify -CAfile "$T_TMP/selfca.crt" -purpose sslserver "$T_TMP/selfleaf.crt" >/dev/null 2>&1; then
    ok "lib: gen_ca + gen_leaf make a chain openssl verifies"
  else
    not_ok "lib: gen_ca + gen_leaf"
    show "$T_TMP/selfca.gen.log" "$T_TMP/selfleaf.gen.log"
  fi
  p=$(free_port)
  if [ -n "$p" ] && [ "$p" -ge 20000 ] && ! port_in_use "$p"; then
    ok "lib: free_port gives an unused high port ($p)"
  else
    not_ok "lib: free_port gave '$p'"
  fi
  bg "$T_TMP/sleep.log" bash -c 'echo started; exec sleep 100'
  sp=$BG_PID
  wait_for "$T_TMP/sleep.log" started 10
  stop "$sp"
  if ! alive "$sp"; then ok "lib: stop ends a background process"; else not_ok "lib: stop"; fi
  finish
fi
