#!/usr/bin/env bash
# Rotation by a writer that replaces the certificate and the key in two steps,
# in place (spiffe-helper writes svid.pem, then svid_key.pem, then
# svid_bundle.pem), under load, for certa serve and certa proxy: between the
# two steps the pair does not match. It is never loaded: the old pair serves
# on, the log says the server waits for a matching pair (once, not per
# retry), and the new pair is loaded as soon as the key is there. A mismatched
# pair left in place for seconds is never loaded either. Every handshake of
# the load succeeds throughout. Loopback only, bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotation_lib.bash"
need openssl
need_certa

rot_ca || { not_ok "certa ca init"; finish; }
rot_leaf client --client --spiffe spiffe://example.org/client || { not_ok "client leaf"; finish; }

# write_in_place SRC DST: truncate and write, as os.WriteFile does.
write_in_place() { cat "$1" >"$2"; }

# run_two_step NAME PORT LOG ARGS...
run_two_step() {
  local name=$1 port=$2 log=$3 d=$T_TMP/$1-svid k s old waits loaded_ok=0
  shift 3
  rot_load_start "$name" "$port" "$@"
  rot_stream_start "$name" "$port" 10 "$@"
  sleep 0.5
  old=$(rot_serial "$port" "$@")
  for k in 1 2 3; do
    rot_leaf "$name-$k" --server --spiffe spiffe://example.org/server || continue
    waits=$(grep -c 'waiting for a matching pair' "$log")
    if [ "$k" -eq 2 ]; then # the key first, then the certificate
      write_in_place "$T_TMP/$name-$k.key" "$d/svid_key.pem"
      sleep 0.6
      s=$(rot_serial "$port" "$@")
      [ "$s" = "$old" ] || not_ok "$name: between the steps of rotation $k the old serial ($old) should serve, saw '$s'"
      write_in_place "$T_TMP/$name-$k.crt" "$d/svid.pem"
    else
      write_in_place "$T_TMP/$name-$k.crt" "$d/svid.pem"
      sleep 0.6
      s=$(rot_serial "$port" "$@")
      [ "$s" = "$old" ] || not_ok "$name: between the steps of rotation $k the old serial ($old) should serve, saw '$s'"
      write_in_place "$T_TMP/$name-$k.key" "$d/svid_key.pem"
    fi
    write_in_place "$T_TMP/ca/ca.crt" "$d/svid_bundle.pem"
    if wait_for "$log" "reloaded the config \(generation $k\).*after waiting" 10 &&
      [ "$(rot_serial "$port" "$@")" = "$ROT_SERIAL" ] &&
      [ "$(grep -c 'waiting for a matching pair' "$log")" -eq $((waits + 1)) ]; then
      loaded_ok=$((loaded_ok + 1))
    else
      not_ok "$name: rotation $k: waited once for the matching pair, then served serial $ROT_SERIAL"
      show "$log"
    fi
    old=$ROT_SERIAL
    sleep 0.3
  done
  check "$name: 3 two-step rotations (certificate first, key first, certificate first): the mismatched pair was never loaded, the wait logged once each, the new pair loaded once complete" \
    test "$loaded_ok" -eq 3

  # A mismatched pair left in place: a new certificate whose key never comes.
  rot_leaf "$name-orphan" --server --spiffe spiffe://example.org/server
  local orphan=$ROT_SERIAL
  waits=$(grep -c 'waiting for a matching pair' "$log")
  write_in_place "$T_TMP/$name-orphan.crt" "$d/svid.pem"
  sleep 3.5 # about three retries
  s=$(rot_serial "$port" "$@")
  check "$name: with a mismatched pair left in place the old pair still serves ($s)" test "$s" = "$old"
  check "$name: the mismatch is logged, once across its retries" \
    test "$(grep -c 'waiting for a matching pair' "$log")" -eq $((waits + 1))
  if grep -q "serial $orphan" "$log"; then
    not_ok "$name: the certificate without its key was loaded"
  else
    ok "$name: the certificate without its key was never loaded"
  fi
  # Its key arrives late: loaded at the next event.
  write_in_place "$T_TMP/$name-orphan.key" "$d/svid_key.pem"
  if wait_for "$log" "serial $orphan" 5 && [ "$(rot_serial "$port" "$@")" = "$orphan" ]; then
    ok "$name: once the key arrived the pair was loaded"
  else
    not_ok "$name: the late key was not picked up"
    show "$log"
  fi
  rot_stream_check "$name"
  rot_load_stop "$name"
  rot_load_report "$name"
}

setup_svid() {
  local d=$T_TMP/$1-svid
  mkdir -p "$d"
  rot_leaf "$1-0" --server --spiffe spiffe://example.org/server || return 1
  cp "$T_TMP/$1-0.crt" "$d/svid.pem"
  cp "$T_TMP/$1-0.key" "$d/svid_key.pem"
  chmod 600 "$d/svid_key.pem"
  cp "$T_TMP/ca/ca.crt" "$d/svid_bundle.pem"
}

# ---- certa serve ---------------------------------------------------------
setup_svid serve || { not_ok "serve leaf"; finish; }
start_certa_serve serve --cert "$T_TMP/serve-svid/svid.pem" --key "$T_TMP/serve-svid/svid_key.pem" ||
  finish
run_two_step serve "$SERVE_PORT" "$SERVE_LOG"
stop_certa_serve serve

# ---- certa proxy (mTLS, the bundle as client CA) -------------------------
start_echo_backend || { not_ok "echo backend"; finish; }
setup_svid proxy || { not_ok "proxy leaf"; finish; }
start_proxy proxy --log-format json --backend "127.0.0.1:$ECHO_PORT" \
  --cert "$T_TMP/proxy-svid/svid.pem" --key "$T_TMP/proxy-svid/svid_key.pem" \
  --client-ca "$T_TMP/proxy-svid/svid_bundle.pem" ||
  { not_ok "proxy started"; show "$PROXY_LOG"; finish; }
run_two_step proxy "$PROXY_PORT" "$PROXY_LOG" --cert "$T_TMP/client.crt" --key "$T_TMP/client.key"
stop_proxy proxy
# The JSON lines of the waits and reloads are the documented ones (docs/log-schema.md).
SCHEMA_DIR=$(cd "$(dirname "$0")/../.." && pwd)
if grep -q '"event":"reload-waiting"' "$PROXY_LOG" &&
  python3 "$SCHEMA_DIR/tests/behaviour/log_schema.py" "$SCHEMA_DIR/docs/log-schema.md" "$PROXY_LOG" \
    >"$T_TMP/schema.txt" 2>&1; then
  ok "proxy: its reload-waiting and reload lines follow docs/log-schema.md"
else
  not_ok "proxy: JSON log lines outside the schema"
  show "$T_TMP/schema.txt"
fi
finish
