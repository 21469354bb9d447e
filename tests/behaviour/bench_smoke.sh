#!/usr/bin/env bash
# The benchmarks still build and run to the end: every case prints its line
# with both libraries' figures (bench_speed dies if, say, a resumed handshake
# did not resume, or a library's handshake fails). Values are only checked to
# be positive numbers: no timing assertions (DESIGN.md). bench_mlkem (ML-KEM
# ops/s, SHAKE128 vs EVP) likewise.
set -u
cd "$(dirname "$0")/../.."
BUILD_DIR=${CERTA_BUILD:-$PWD/build}
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; }

lib="$BUILD_DIR/libcerta.a"
if [ ! -f "$lib" ]; then
  bad "bench smoke: $lib is missing (make all)"
  exit 1
fi
san=()
case "$BUILD_DIR" in *-asan) san=(-fsanitize=address,undefined) ;; esac
D=$(mktemp -d /tmp/certa-bench-smoke.XXXXXX)
trap 'rm -rf "$D"' EXIT

flags=(-std=c11 -Wall -Wextra -Werror -O1 -g -Iinclude -Isrc -Itests/unit -D_DEFAULT_SOURCE
  -D_POSIX_C_SOURCE=200809L "${san[@]}")
for b in bench_speed bench_mem bench_mlkem; do
  if cc "${flags[@]}" -o "$D/$b" "bench/$b.c" bench/bench_util.c tests/unit/lib_certs.c tests/unit/lib_chain.c "$lib" \
    -lssl -lcrypto -lz -lbrotlienc -lbrotlidec -lpthread 2>"$D/$b.cc"; then
    ok "bench smoke: $b builds against this build's libcerta"
  else
    bad "bench smoke: $b does not build: $(head -c 400 "$D/$b.cc")"
  fi
done

# case_line FILE CASE: the case's line has certa= and openssl= above zero.
case_line() {
  local line
  line=$(grep "^$2 " "$1")
  if [ -z "$line" ]; then
    bad "bench smoke: no $2 line ($(tail -n 2 "$1" | tr '\n' ' '))"
    return
  fi
  if awk -v l="$line" 'BEGIN {
        n = split(l, f, " "); c = o = -1
        for (i = 1; i <= n; i++) {
          split(f[i], kv, "=")
          if (kv[1] == "certa") c = kv[2] + 0
          if (kv[1] == "openssl") o = kv[2] + 0
        }
        exit !(c > 0 && o > 0)
      }'; then
    ok "bench smoke: $2 measured both libraries"
  else
    bad "bench smoke: $2 line without two positive figures: $line"
  fi
}

if [ -x "$D/bench_speed" ]; then
  BENCH_SECONDS=0.05 BENCH_ROUNDS=1 timeout 120 "$D/bench_speed" >"$D/speed.out" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || bad "bench smoke: bench_speed exited with $rc: $(tail -n 5 "$D/speed.out" | tr '\n' ' ')"
  for c in handshake_full handshake_full_secp256r1 handshake_full_rsa2048 handshake_resumed \
    handshake_0rtt handshake_full_tls12 handshake_resumed_tls12 bulk_16k_aes128gcm bulk_16k_chacha20poly1305; do
    case_line "$D/speed.out" "$c"
  done
fi
if [ -x "$D/bench_speed" ]; then
  # the OCSP case asserts from the trace that the staple was checked and good
  BENCH_SECONDS=0.05 BENCH_ROUNDS=1 timeout 120 "$D/bench_speed" ocsp >"$D/ocsp.out" 2>&1
  if [ $? -eq 0 ] && grep -Eq '^handshake_full_ocsp certa=[1-9][0-9]* handshake_full=[1-9][0-9]* .*staple_of_full=' "$D/ocsp.out"; then
    ok "bench smoke: handshake_full_ocsp ran with a checked staple, next to handshake_full"
  else
    bad "bench smoke: bench_speed ocsp: $(tail -n 3 "$D/ocsp.out" | tr '\n' ' ')"
  fi
fi
if [ -x "$D/bench_speed" ]; then
  # the server key in a SoftHSM token the case makes for itself
  BENCH_SECONDS=0.05 BENCH_ROUNDS=1 timeout 120 "$D/bench_speed" pkcs11 >"$D/pkcs11.out" 2>&1
  if [ $? -eq 0 ] && grep -Eq '^handshake_full_pkcs11 certa=[1-9][0-9]* handshake_full=[1-9][0-9]* cost_vs_full=' "$D/pkcs11.out"; then
    ok "bench smoke: handshake_full_pkcs11 ran with the key on a SoftHSM token, next to handshake_full"
  else
    bad "bench smoke: bench_speed pkcs11: $(tail -n 3 "$D/pkcs11.out" | tr '\n' ' ')"
  fi
fi
if [ -x "$D/bench_mlkem" ]; then
  BENCH_SECONDS=0.05 timeout 120 "$D/bench_mlkem" >"$D/mlkem.out" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || bad "bench smoke: bench_mlkem exited with $rc: $(tail -n 3 "$D/mlkem.out" | tr '\n' ' ')"
  n=$(awk '/^mlkem(768|1024) (keygen|encaps|decaps) impl=certa ops_per_s=/ {
        split($4, v, "="); if (v[2] + 0 > 0) n++ } END { print n + 0 }' "$D/mlkem.out")
  if [ "$n" -eq 6 ] && grep -q '^shake128_entry_per_block certa_ns=[1-9]' "$D/mlkem.out"; then
    ok "bench smoke: bench_mlkem measured the six ML-KEM operations and SHAKE128"
  else
    bad "bench smoke: bench_mlkem printed $n of 6 operations: $(head -c 300 "$D/mlkem.out")"
  fi
fi
# bench_replay: the built-in anti-replay table (checks/s; bytes per entry
# from mallinfo2, which reads 0 under ASan), then the Redis store's latency
# against a redis-server of its own, on loopback, stopped by PID.
if ar rcs "$D/libtools.a" "$BUILD_DIR"/obj/tools/*/*.o 2>"$D/ar.err" &&
  cc "${flags[@]}" -Itools -o "$D/bench_replay" bench/bench_replay.c bench/bench_util.c \
    tests/unit/lib_certs.c tests/unit/lib_chain.c "$D/libtools.a" "$lib" -lssl -lcrypto -lz \
    -lbrotlienc -lbrotlidec -lpthread -lhiredis -lcjson 2>"$D/bench_replay.cc"; then
  ok "bench smoke: bench_replay builds against this build's libcerta and the tools' store"
  BENCH_SECONDS=0.05 timeout 120 "$D/bench_replay" memory >"$D/replay.out" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ] && grep -Eq '^replay_store_ops certa_new_per_s=[1-9][0-9]* certa_seen_per_s=[1-9]' "$D/replay.out" &&
    { [ ${#san[@]} -gt 0 ] || grep -Eq '^replay_store_memory certa_bytes_per_entry=[1-9][0-9.]* openssl_bytes_per_entry=[1-9]' "$D/replay.out"; }; then
    ok "bench smoke: bench_replay memory measured the built-in store (and libssl's bytes per entry)"
  else
    bad "bench smoke: bench_replay memory (exit $rc): $(tail -n 3 "$D/replay.out" | tr '\n' ' ')"
  fi
  if command -v redis-server >/dev/null 2>&1; then
    rport=$((20000 + RANDOM % 40000))
    timeout 120 redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no \
      --dir "$D" >"$D/redis.log" 2>&1 &
    rpid=$!
    for _ in $(seq 50); do grep -q "Ready to accept" "$D/redis.log" && break; sleep 0.1; done
    timeout 120 "$D/bench_replay" redis "redis://127.0.0.1:$rport/0" 100 >"$D/replay-redis.out" 2>&1
    rc=$?
    kill "$rpid" 2>/dev/null
    wait "$rpid" 2>/dev/null
    if [ "$rc" -eq 0 ] && grep -Eq '^replay_store_redis handshakes=100 builtin_median_us=[1-9].* call_median_us=[0-9]*[1-9]' "$D/replay-redis.out"; then
      ok "bench smoke: bench_replay redis timed 0-RTT handshakes with the Redis store"
    else
      bad "bench smoke: bench_replay redis (exit $rc): $(tail -n 3 "$D/replay-redis.out" | tr '\n' ' ')"
    fi
  fi
else
  bad "bench smoke: bench_replay does not build: $(head -c 400 "$D/bench_replay.cc")"
fi
if [ ${#san[@]} -gt 0 ]; then
  # bench_mem replaces malloc to count certa's bytes, which AddressSanitizer
  # also does: it only runs in the plain build.
  echo "skip - bench smoke: bench_mem under AddressSanitizer"
elif [ -x "$D/bench_mem" ]; then
  timeout 120 "$D/bench_mem" 20 >"$D/mem.out" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || bad "bench smoke: bench_mem exited with $rc: $(tail -n 5 "$D/mem.out" | tr '\n' ' ')"
  case_line "$D/mem.out" memory_idle_server
  case_line "$D/mem.out" memory_idle_client
fi
