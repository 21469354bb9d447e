#!/usr/bin/env bash
# certa benchmarks side by side with OpenSSL (make bench). One line per case:
#   CASE certa=<v> openssl=<v> ratio=<certa/openssl> [bound=<v> of_bound=<pct>] ...
# Details (units, what each side did) go to stderr.
#
#   bash bench/run.sh [BUILD]          (BUILD defaults to build)
# Environment: BENCH_SECONDS (per in-process measurement, default 2),
# BENCH_RESUMPTION=0 turns session resumption off on the proxies (wrk resumes
# TLS sessions when the server allows it; by default every proxy keeps its
# default: certa proxy and HAProxy send tickets, stunnel has a session cache;
# off = certa --tickets 0, HAProxy no-tls-tickets + tune.ssl.cachesize 0 —
# OpenSSL 3 turns "no tickets" alone into stateful tickets).
# PROXY_SECONDS (per wrk run, default 5), PROXY_CONNS (wrk connections,
# default 50), PROXY_ROUNDS (default 3, best kept per proxy),
# BENCH_ONLY=speed|mem|replay|mlkem|acme|scan|proxy (one group). scan: certa scan
# against sslscan and an openssl s_client loop (bench/scan_rate.sh, SCAN_ENDPOINTS). replay: the 0-RTT
# anti-replay store (bench_replay; REPLAY_HANDSHAKES, default 2000, for Redis).
# acme: certa acme issue against Pebble (bench/acme_issue.sh).
# mlkem: src/pq's ML-KEM (bench_mlkem) next to ../shared/peers/mlkem-anchor
# (MLKEM_ANCHOR overrides; BoringSSL, mlkem-native C and AVX2), one line per
# operation with ops/s and certa's ratio to each, then SHAKE128 vs EVP.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
CC=${CC:-cc}
OUT="$BUILD/bench"
mkdir -p "$OUT"

flags=(-std=c11 -Wall -Wextra -Werror -O2 -g -Iinclude -Isrc -Itests/unit -D_DEFAULT_SOURCE
       -D_POSIX_C_SOURCE=200809L)
common=(bench/bench_util.c tests/unit/lib_certs.c tests/unit/lib_chain.c)
libs=("$BUILD/libcerta.a" -lssl -lcrypto -lz -lbrotlienc -lbrotlidec -lpthread)
for b in bench_speed bench_mem bench_mlkem; do
  "$CC" "${flags[@]}" -o "$OUT/$b" "bench/$b.c" "${common[@]}" "${libs[@]}" || {
    echo "bench: building $b failed" >&2
    exit 1
  }
done

# bench_replay also links the tools' Redis store (tools/tickets/), as serve and proxy do.
ar rcs "$OUT/libtools.a" "$BUILD"/obj/tools/*/*.o &&
  "$CC" "${flags[@]}" -Itools -o "$OUT/bench_replay" bench/bench_replay.c "${common[@]}" \
    "$OUT/libtools.a" "${libs[@]}" -lhiredis -lcjson || {
  echo "bench: building bench_replay failed" >&2
  exit 1
}

only=${BENCH_ONLY:-}
if [ -z "$only" ] || [ "$only" = speed ]; then
  "$OUT/bench_speed" handshake
  "$OUT/bench_speed" bulk
fi
if [ -z "$only" ] || [ "$only" = mem ]; then
  "$OUT/bench_mem" 1000
fi
if [ -z "$only" ] || [ "$only" = replay ]; then
  # The anti-replay store: the built-in table, then the Redis store's added
  # latency per 0-RTT handshake against a redis-server of our own (loopback,
  # its own port and directory, stopped by PID).
  "$OUT/bench_replay" memory
  if command -v redis-server >/dev/null 2>&1; then
    rdir=$(mktemp -d /tmp/certa-bench-redis.XXXXXX)
    rport=$((20000 + RANDOM % 40000))
    timeout 600 redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$rdir" >"$rdir/redis.log" 2>&1 &
    rpid=$!
    for _ in $(seq 50); do grep -q "Ready to accept" "$rdir/redis.log" && break; sleep 0.1; done
    "$OUT/bench_replay" redis "redis://127.0.0.1:$rport/0" "${REPLAY_HANDSHAKES:-2000}" 2>&1 |
      grep -v '^certa bench_replay: store:'
    kill "$rpid" 2>/dev/null
    wait "$rpid" 2>/dev/null
    rm -rf "$rdir"
  else
    echo "replay: no redis-server (Debian redis-server): the Redis case is skipped" >&2
  fi
fi
if [ -z "$only" ] || [ "$only" = mlkem ]; then
  # certa before and after the anchor (best kept per operation): a burst of
  # load elsewhere then costs one run, not the comparison.
  anchor=${MLKEM_ANCHOR:-../shared/peers/mlkem-anchor/mlkem-anchor}
  "$OUT/bench_mlkem" kem >"$OUT/mlkem.certa" || { echo "bench: bench_mlkem failed" >&2; exit 1; }
  if [ -x "$anchor" ]; then
    "$anchor" -t "$(awk -v s="${BENCH_SECONDS:-1}" 'BEGIN { print (s > 0 ? s : 1) }')" \
      >"$OUT/mlkem.anchor" 2>&1 || echo "mlkem: $anchor failed: $(tail -n 2 "$OUT/mlkem.anchor")" >&2
  else
    echo "mlkem: no anchor at $anchor (../shared/peers/mlkem-anchor)" >&2
    : >"$OUT/mlkem.anchor"
  fi
  "$OUT/bench_mlkem" kem >>"$OUT/mlkem.certa"
  grep -h '^#' "$OUT/mlkem.anchor" "$OUT/mlkem.certa" | sort -u >&2
  # One line per certa operation and build (impl=certa: the default path,
  # AVX2 when the CPU has it; impl=certa-portable: forced portable C), with
  # the anchors' rates and ratios. *_prepared (certa's prepared decapsulation
  # key, as the TLS client keeps it) is set against the anchors' plain
  # operation: BoringSSL's decaps uses its parsed private key too.
  awk '
    /^mlkem[0-9]+ (keygen|encaps|decaps)(_prepared)? impl=/ {
      split($3, i, "="); split($4, v, "=")
      k = $1 "_" $2
      if (v[2] + 0 > r[k, i[2]]) r[k, i[2]] = v[2] + 0
      if (i[2] ~ /^certa/ && !((k, i[2]) in seen)) { seen[k, i[2]] = 1; order[++n] = k SUBSEP i[2] }
    }
    END {
      split("boringssl mlkem-native-c mlkem-native-avx2", impls, " ")
      for (j = 1; j <= n; j++) {
        split(order[j], ki, SUBSEP); k = ki[1]; c = r[k, ki[2]]
        base = k; sub(/_prepared$/, "", base)
        line = sprintf("%s %s=%.0f", k, ki[2], c)
        for (m = 1; m <= 3; m++) {
          o = r[base, impls[m]]; name = impls[m]; gsub("-", "_", name)
          if (o > 0) line = line sprintf(" %s=%.0f ratio_%s=%.2f", name, o, name, c / o)
        }
        print line
      }
    }' "$OUT/mlkem.certa" "$OUT/mlkem.anchor"
  "$OUT/bench_mlkem" shake
fi
# certa acme issue against Pebble on loopback, start to installed certificate.
if [ -z "$only" ] || [ "$only" = acme ]; then
  CERTA="$PWD/$BUILD/certa" bash bench/acme_issue.sh
fi
# certa scan vs sslscan and an openssl s_client loop over a loopback fleet
# of SCAN_ENDPOINTS (1000) TLS endpoints (bench/scan_rate.sh).
if [ -z "$only" ] || [ "$only" = scan ]; then
  CERTA="$PWD/$BUILD/certa" bash bench/scan_rate.sh "$BUILD"
fi
[ -z "$only" ] || [ "$only" = proxy ] || exit 0

# ---- proxies: certa proxy vs HAProxy vs stunnel in front of nginx ----------
PROXY_SECONDS=${PROXY_SECONDS:-5}
PROXY_CONNS=${PROXY_CONNS:-50}
skip_proxy() {
  echo "proxy_conn_rate skipped: $1"
  echo "proxy_throughput skipped: $1"
  exit 0
}
CERTA="$BUILD/certa"
NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null || true)
HAPROXY=$(command -v haproxy || ls /usr/sbin/haproxy 2>/dev/null || true)
STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
WRK=$(command -v wrk || true)
[ -x "$CERTA" ] || skip_proxy "$CERTA is missing (make all)"
"$CERTA" proxy --help >/dev/null 2>&1 || skip_proxy "certa proxy is not available in $CERTA"
[ -n "$NGINX" ] || skip_proxy "nginx is not installed (bash bench/deps.sh)"
[ -n "$WRK" ] || skip_proxy "wrk is not installed (bash bench/deps.sh)"
command -v taskset >/dev/null || skip_proxy "taskset (util-linux) is missing"

ncpu=$(nproc)
if [ "$ncpu" -ge 3 ]; then
  CPU_LOAD=0 CPU_PROXY=1 CPU_BACKEND=2
else
  # The issue's setup on 2 cores: the load generator alone on core 0, the
  # proxy and nginx sharing core 1.
  CPU_LOAD=0 CPU_PROXY=$((ncpu - 1)) CPU_BACKEND=$((ncpu - 1))
fi

D=$(mktemp -d /tmp/certa-bench.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$D"
}
trap cleanup EXIT

# Below the ephemeral range (32768+), and in no socket's use at all: after
# thousands of wrk connections a port can sit in TIME_WAIT, and a proxy that
# does not set SO_REUSEADDR (stunnel) then fails to bind it.
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    ss -tan 2>/dev/null | awk '{print $4}' | grep -q ":$p\$" || { echo "$p"; return; }
  done
}
wait_port() { # port seconds
  local i
  for ((i = 0; i < $2 * 20; i++)); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
cpu_ticks() { # pid -> utime+stime of the process and its threads
  awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/key.pem" \
  -out "$D/cert.pem" -subj /CN=localhost -days 2 2>/dev/null || skip_proxy "openssl req failed"
cat "$D/cert.pem" "$D/key.pem" >"$D/combined.pem"
mkdir -p "$D/www" "$D/nginx"
printf 'hello from nginx, a small static file for the proxy benchmark\n' >"$D/www/small.txt"

BPORT=$(free_port)
cat >"$D/nginx.conf" <<EOF
worker_processes 1;
master_process off;
daemon off;
pid $D/nginx/nginx.pid;
error_log $D/nginx/error.log warn;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http {
  access_log off;
  client_body_temp_path $D/nginx/body;
  proxy_temp_path $D/nginx/proxy;
  fastcgi_temp_path $D/nginx/fastcgi;
  uwsgi_temp_path $D/nginx/uwsgi;
  scgi_temp_path $D/nginx/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 60s;
  server {
    listen 127.0.0.1:$BPORT backlog=4096;
    root $D/www;
    location / { }
  }
}
EOF
ulimit -n 65536 2>/dev/null || true
taskset -c "$CPU_BACKEND" "$NGINX" -p "$D/nginx" -c "$D/nginx.conf" -e "$D/nginx/error.log" \
  >"$D/nginx.out" 2>&1 &
PIDS+=($!)
wait_port "$BPORT" 5 || skip_proxy "nginx did not start: $(tail -n 3 "$D/nginx.out" "$D/nginx/error.log" 2>/dev/null | tr '\n' ' ')"

# run_wrk PORT EXTRA... -> "requests/s errors"
run_wrk() {
  local port=$1
  shift
  local out
  local TIMEFORMAT='%U %S' cpu
  # wrk's own CPU time too: the load generator shares a core with nginx, so
  # what a proxy costs the *client* per connection matters to the rate.
  local trace=()
  [ -n "${BENCH_STRACE:-}" ] && trace=(strace -c -f -o "$D/wrk.strace.$port.$#")
  cpu=$({ time taskset -c "$CPU_LOAD" "${trace[@]}" "$WRK" -t1 -c"$PROXY_CONNS" -d"${PROXY_SECONDS}s" "$@" \
    "https://127.0.0.1:$port/small.txt" >"$D/wrk.out" 2>&1; } 2>&1)
  out=$(cat "$D/wrk.out")
  local rps errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  local reqs
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  [ -n "${BENCH_STRACE:-}" ] && head -n 12 "$D/wrk.strace.$port.$#" | sed 's/^/      /' >&2
  [ -n "${BENCH_VERBOSE:-}" ] && echo "    wrk on :$port: ${reqs:-0} requests, cpu user+sys ${cpu}; $(grep -E 'Socket errors|Non-2xx' "$D/wrk.out" | tr '\n' ' ')" >&2
  errs=$(awk '/Socket errors:/ {sub(/.*Socket errors: /, ""); print} /Non-2xx/ {print "non2xx=" $NF}' <<<"$out" | tr '\n' ' ')
  echo "${rps:-0} ${errs:-none}" | sed 's/ *$//'
}

HA_BIND_OPTS="" HA_GLOBAL="" CERTA_OPTS=()
if [ "${BENCH_RESUMPTION:-1}" = 0 ]; then
  HA_BIND_OPTS=" no-tls-tickets" HA_GLOBAL="  tune.ssl.cachesize 0" CERTA_OPTS=(--tickets 0)
fi

# start_proxy NAME PORT -> pid in PROXY_PID, or empty with reason in PROXY_WHY
start_proxy() {
  local name=$1 port=$2
  PROXY_PID="" PROXY_WHY=""
  case $name in
  certa)
    taskset -c "$CPU_PROXY" "$CERTA" proxy --listen "127.0.0.1:$port" --backend "127.0.0.1:$BPORT" \
      --cert "$D/cert.pem" --key "$D/key.pem" --workers 1 --quiet \
      --ciphers TLS_AES_128_GCM_SHA256 "${CERTA_OPTS[@]}" >"$D/certa.out" 2>&1 &
    ;;
  haproxy)
    [ -n "$HAPROXY" ] || { PROXY_WHY="haproxy is not installed"; return; }
    cat >"$D/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 5000
  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256
  ssl-default-bind-options ssl-min-ver TLSv1.3$HA_BIND_OPTS
$HA_GLOBAL
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
listen tls
  bind 127.0.0.1:$port ssl crt $D/combined.pem
  server nginx 127.0.0.1:$BPORT
EOF
    taskset -c "$CPU_PROXY" "$HAPROXY" -db -f "$D/haproxy.cfg" >"$D/haproxy.out" 2>&1 &
    ;;
  stunnel)
    [ -n "$STUNNEL" ] || { PROXY_WHY="stunnel4 is not installed"; return; }
    cat >"$D/stunnel.conf" <<EOF
foreground = yes
pid =
debug = 3
[tls]
accept = 127.0.0.1:$port
connect = 127.0.0.1:$BPORT
cert = $D/cert.pem
key = $D/key.pem
sslVersionMin = TLSv1.3
ciphersuites = TLS_AES_128_GCM_SHA256
EOF
    taskset -c "$CPU_PROXY" "$STUNNEL" "$D/stunnel.conf" >"$D/stunnel.out" 2>&1 &
    ;;
  esac
  PROXY_PID=$!
  if ! wait_port "$port" 5; then
    PROXY_WHY="$name did not start: $(tail -n 2 "$D/$name.out" 2>/dev/null | tr '\n' ' ')"
    kill "$PROXY_PID" 2>/dev/null
    wait "$PROXY_PID" 2>/dev/null
    PROXY_PID=""
  fi
}

stop_proxy() {
  [ -n "$PROXY_PID" ] || return
  kill "$PROXY_PID" 2>/dev/null
  wait "$PROXY_PID" 2>/dev/null
  PROXY_PID=""
}

declare -A CONN THRU CONN_CPU THRU_CPU NOTE
hz=$(getconf CLK_TCK)
# keep_best ARRAY CPU_ARRAY NAME RATE CPU: the round with the higher rate wins.
keep_best() {
  local -n best=$1 best_cpu=$2
  if awk -v a="$4" -v b="${best[$3]:-0}" 'BEGIN { exit !(a > b) }'; then
    best[$3]=$4
    best_cpu[$3]=$5
  fi
}
cpu_pct() { awk -v a="$1" -v b="$2" -v hz="$hz" -v s="$PROXY_SECONDS" 'BEGIN {printf "%.0f", 100 * (b - a) / hz / s}'; }

# PROXY_ROUNDS rounds, the proxies in turn within each, best round kept per
# proxy: a burst of load from this VM's neighbours costs one round, not the
# comparison.
PROXY_ROUNDS=${PROXY_ROUNDS:-3}
for ((round = 1; round <= PROXY_ROUNDS; round++)); do
  for name in certa haproxy stunnel; do
    port=$(free_port)
    start_proxy "$name" "$port"
    if [ -z "$PROXY_PID" ]; then
      NOTE[$name]=$PROXY_WHY
      continue
    fi
    # Sanity: one request through the proxy.
    if ! out=$(taskset -c "$CPU_LOAD" "$WRK" -t1 -c1 -d1s "https://127.0.0.1:$port/small.txt" 2>&1) ||
      ! grep -q '^Requests/sec' <<<"$out"; then
      NOTE[$name]="$name: wrk could not fetch through it"
      stop_proxy
      continue
    fi
    t0=$(cpu_ticks "$PROXY_PID")
    read -r rate errs <<<"$(run_wrk "$port" -H "Connection: close")"
    t1=$(cpu_ticks "$PROXY_PID")
    keep_best CONN CONN_CPU "$name" "$rate" "$(cpu_pct "$t0" "$t1")"
    [ "$errs" = none ] || NOTE[$name]="${NOTE[$name]:-}conn_rate errors: $errs; "
    t0=$(cpu_ticks "$PROXY_PID")
    read -r rate errs <<<"$(run_wrk "$port")"
    t1=$(cpu_ticks "$PROXY_PID")
    keep_best THRU THRU_CPU "$name" "$rate" "$(cpu_pct "$t0" "$t1")"
    [ "$errs" = none ] || NOTE[$name]="${NOTE[$name]:-}throughput errors: $errs; "
    stop_proxy
  done
done

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
per_cpu() { awk -v r="${1:-0}" -v c="${2:-0}" 'BEGIN { if (c > 0) printf "%.0f", r * 100 / c; else print "n/a" }'; }
for kind in conn_rate throughput; do
  if [ $kind = conn_rate ]; then
    declare -n R=CONN C=CONN_CPU
  else
    declare -n R=THRU C=THRU_CPU
  fi
  if [ -z "${R[certa]:-}" ]; then
    echo "proxy_$kind skipped: ${NOTE[certa]:-certa proxy failed}"
  elif [ -z "${R[haproxy]:-}" ]; then
    printf 'proxy_%s certa=%.0f openssl=skipped (%s) certa_cpu=%s%%\n' $kind "${R[certa]}" \
      "${NOTE[haproxy]:-haproxy failed}" "${C[certa]}"
  else
    printf 'proxy_%s certa=%.0f openssl=%.0f ratio=%s certa_cpu=%s%% haproxy_cpu=%s%% per_cpu_second: certa=%s haproxy=%s\n' \
      $kind "${R[certa]}" "${R[haproxy]}" "$(ratio "${R[certa]}" "${R[haproxy]}")" \
      "${C[certa]}" "${C[haproxy]}" "$(per_cpu "${R[certa]}" "${C[certa]}")" \
      "$(per_cpu "${R[haproxy]}" "${C[haproxy]}")"
  fi
  if [ -n "${R[stunnel]:-}" ]; then
    printf 'proxy_%s_stunnel stunnel=%.0f certa=%.0f ratio=%s stunnel_cpu=%s%% per_cpu_second=%s\n' \
      $kind "${R[stunnel]}" "${R[certa]:-0}" "$(ratio "${R[certa]:-0}" "${R[stunnel]}")" \
      "${C[stunnel]}" "$(per_cpu "${R[stunnel]}" "${C[stunnel]}")"
  else
    echo "proxy_${kind}_stunnel skipped: ${NOTE[stunnel]:-stunnel failed}"
  fi
  unset -n R C
done
for n in certa haproxy stunnel; do
  [ -z "${NOTE[$n]:-}" ] || echo "  note: $n: ${NOTE[$n]}" >&2
done

# Memory per idle proxied connection: PROXY_IDLE_CONNS (default 2000) TLS
# connections through each proxy, one keep-alive request each, then idle;
# RSS per connection in the first wave and after PROXY_IDLE_WAVES waves.
IDLE_CONNS=${PROXY_IDLE_CONNS:-2000}
IDLE_WAVES=${PROXY_IDLE_WAVES:-4}
declare -A MEM
for name in certa haproxy stunnel; do
  port=$(free_port)
  start_proxy "$name" "$port"
  [ -n "$PROXY_PID" ] || continue
  sleep 0.5
  pid=$PROXY_PID
  [ "$name" = haproxy ] && pid=$(pgrep -n -P "$PROXY_PID" haproxy || echo "$PROXY_PID")
  MEM[$name]=$(python3 "$(dirname "$0")/proxy_idle.py" 127.0.0.1 "$port" "$pid" "$IDLE_CONNS" \
    "$IDLE_WAVES" 2>"$D/idle.$name.err" || echo "failed")
  stop_proxy
done
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
cf=$(field first "${MEM[certa]:-}") cc=$(field churn "${MEM[certa]:-}")
hf=$(field first "${MEM[haproxy]:-}") hc=$(field churn "${MEM[haproxy]:-}")
sf=$(field first "${MEM[stunnel]:-}") sc=$(field churn "${MEM[stunnel]:-}")
printf 'proxy_memory_idle certa_first=%s certa_churn=%s haproxy_first=%s haproxy_churn=%s stunnel_first=%s stunnel_churn=%s ratio_vs_haproxy=%s\n' \
  "${cf:-?}" "${cc:-?}" "${hf:-?}" "${hc:-?}" "${sf:-?}" "${sc:-?}" "$(ratio "${cc:-0}" "${hc:-0}")"
echo "  proxy_memory_idle: bytes of proxy RSS per idle proxied TLS 1.3 connection ($IDLE_CONNS connections," \
  "one keep-alive request each through the proxy to nginx, then idle): first = the first wave," \
  "churn = after $IDLE_WAVES waves of opening and closing; ratio_vs_haproxy = certa churn / HAProxy churn" >&2
echo "  proxies: best of $PROXY_ROUNDS rounds of requests/s of a ${PROXY_SECONDS}s wrk run (-t1 -c$PROXY_CONNS) for a 63-byte file from nginx;" \
  "conn_rate adds 'Connection: close' (one TLS handshake per request, resumed when the proxy allows:" \
  "BENCH_RESUMPTION=${BENCH_RESUMPTION:-1}); cores: wrk $CPU_LOAD," \
  "proxy $CPU_PROXY, nginx $CPU_BACKEND of $ncpu; *_cpu = proxy CPU use during the run" >&2
