#!/usr/bin/env bash
# Rotation in the Kubernetes layout (a cert-manager Secret or csi-driver-spiffe
# volume: tls.crt, tls.key and ca.crt are symlinks into ..data, itself a symlink
# to a timestamped directory that the kubelet swaps with one rename), under
# load: certa serve and certa proxy (mTLS, --client-ca from the same volume)
# are rotated four times each while a loop of `certa connect` keeps
# handshaking and one connection stays open. Every handshake succeeds, after
# each rotation a new handshake sees the new serial, the log names what it
# loaded, and the long-lived connection carries on. Loopback only, bounded.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rotation_lib.bash"
need openssl
need_certa

# publish DIR NAME: what the kubelet's atomic writer does — a new timestamped
# directory with the files, ..data_tmp pointing at it renamed over ..data,
# the old directory removed; the top-level names are symlinks through ..data.
publish() {
  local d=$1 name=$2 ts old
  ts="..$(date +%Y_%m_%d_%H_%M_%S.%N)"
  mkdir -p "$d/$ts"
  cp "$T_TMP/$name.crt" "$d/$ts/tls.crt"
  cp "$T_TMP/$name.key" "$d/$ts/tls.key"
  cp "$T_TMP/ca/ca.crt" "$d/$ts/ca.crt"
  old=$(readlink "$d/..data" 2>/dev/null)
  ln -s "$ts" "$d/..data_tmp" && mv -T "$d/..data_tmp" "$d/..data"
  [ -n "$old" ] && rm -rf "${d:?}/$old"
  for f in tls.crt tls.key ca.crt; do [ -L "$d/$f" ] || ln -s "..data/$f" "$d/$f"; done
}

rot_ca || { not_ok "certa ca init"; finish; }
rot_leaf client --client --spiffe spiffe://example.org/client || { not_ok "client leaf"; finish; }

# run_rotations NAME PORT LOG ARGS...: four rotations under load.
run_rotations() {
  local name=$1 port=$2 log=$3 k s seen_ok=0 logged=0
  shift 3
  rot_load_start "$name" "$port" "$@"
  rot_stream_start "$name" "$port" 8 "$@"
  sleep 0.5
  for k in 1 2 3 4; do
    rot_leaf "$name-$k" --server --spiffe spiffe://example.org/server || {
      not_ok "$name: leaf $k"
      continue
    }
    publish "$T_TMP/$name-secret" "$name-$k"
    if ! wait_for "$log" "reloaded the config \(generation $k\)" 10; then
      not_ok "$name: rotation $k was not reloaded"
      show "$log"
      continue
    fi
    s=$(rot_serial "$port" "$@")
    if [ "$s" = "$ROT_SERIAL" ]; then
      seen_ok=$((seen_ok + 1))
    else
      not_ok "$name: after rotation $k a new handshake saw serial '$s', not $ROT_SERIAL"
    fi
    if grep -q "serial $ROT_SERIAL" "$log"; then
      logged=$((logged + 1))
    else
      not_ok "$name: the log does not name serial $ROT_SERIAL as loaded"
      show "$log"
    fi
    sleep 0.7
  done
  check "$name: after each of the 4 rotations new handshakes saw the new serial at once" \
    test "$seen_ok" -eq 4
  check "$name: the log names each loaded certificate's serial" test "$logged" -eq 4
  rot_stream_check "$name"
  rot_load_stop "$name"
  rot_load_report "$name"
  # The load saw each generation's serial in order, never an older one after a newer.
  if awk '{print $2}' "$T_TMP/$name.load" | uniq | awk 'seen[$1]++ { bad = 1 } END { exit bad }'; then
    ok "$name: the load's serials moved forward only ($(awk '{print $2}' "$T_TMP/$name.load" | uniq | wc -l) distinct runs)"
  else
    not_ok "$name: the load saw an old serial again after a newer one"
  fi
}

# ---- certa serve ---------------------------------------------------------
rot_leaf serve-0 --server || not_ok "first leaf"
publish "$T_TMP/serve-secret" serve-0
start_certa_serve serve --cert "$T_TMP/serve-secret/tls.crt" --key "$T_TMP/serve-secret/tls.key" ||
  finish
check "serve: says it watches with inotify" wait_for "$SERVE_LOG" 'watching 2 files.*inotify' 5
run_rotations serve "$SERVE_PORT" "$SERVE_LOG"
stop_certa_serve serve

# ---- the fallback: no inotify, the stamp poll alone ----------------------
rot_leaf poll-0 --server || not_ok "poll leaf"
publish "$T_TMP/poll-secret" poll-0
CERTA_NO_INOTIFY=1 start_certa_serve poll --cert "$T_TMP/poll-secret/tls.crt" \
  --key "$T_TMP/poll-secret/tls.key" || finish
check "poll: says it polls without inotify" wait_for "$SERVE_LOG" 'polled every second: inotify is off' 5
rot_leaf poll-1 --server || not_ok "poll leaf 1"
publish "$T_TMP/poll-secret" poll-1
if wait_for "$SERVE_LOG" "reloaded the config \(generation 1\)" 5 &&
  [ "$(rot_serial "$SERVE_PORT")" = "$ROT_SERIAL" ]; then
  ok "poll: without inotify the ..data swap is still picked up (within the poll interval)"
else
  not_ok "poll: the swap was not picked up by the poll"
  show "$SERVE_LOG"
fi
stop_certa_serve poll

# ---- certa proxy (mTLS, client CA from the volume) -----------------------
start_echo_backend || { not_ok "echo backend"; finish; }
rot_leaf proxy-0 --server --spiffe spiffe://example.org/server || not_ok "first proxy leaf"
publish "$T_TMP/proxy-secret" proxy-0
start_proxy proxy --backend "127.0.0.1:$ECHO_PORT" --cert "$T_TMP/proxy-secret/tls.crt" \
  --key "$T_TMP/proxy-secret/tls.key" --client-ca "$T_TMP/proxy-secret/ca.crt" ||
  { not_ok "proxy started"; show "$PROXY_LOG"; finish; }
check "proxy: says it watches with inotify" wait_for "$PROXY_LOG" '3 files watched \(inotify' 5
run_rotations proxy "$PROXY_PORT" "$PROXY_LOG" --cert "$T_TMP/client.crt" --key "$T_TMP/client.key"
if grep -q 'reload-failed\|reload refused' "$PROXY_LOG"; then
  not_ok "proxy: a swap of ..data never shows a half-done pair"
  show "$PROXY_LOG"
else
  ok "proxy: no rotation was refused (the ..data swap is atomic)"
fi
stop_proxy proxy
finish
