# Shared by the rotation tests (rotation_k8s.sh, rotation_spiffe_helper.sh);
# sourced after lib.sh, not run. Leaves come from `certa ca`, whose output
# names each serial; a bounded load generator (a loop of `certa connect`)
# records every handshake's result and the serial it saw.
#
#   rot_ca                      a CA in $T_TMP/ca
#   rot_leaf NAME [ARGS...]     $T_TMP/NAME.crt/.key for localhost; ROT_SERIAL
#   rot_serial PORT [ARGS...]   the serial a new handshake sees (empty: failed)
#   rot_load_start NAME PORT [ARGS...] / rot_load_stop
#                               connect in a loop until stopped (at most 90 s);
#                               $T_TMP/NAME.load: "ok SERIAL" or "FAIL rc" lines
#   rot_stream_start NAME PORT [ARGS...] / rot_stream_check NAME
#                               one connection kept open across the rotations

rot_ca() {
  "$CERTA" ca init "$T_TMP/ca" --name "rotation test CA" >"$T_TMP/ca.init.log" 2>&1
}
rot_leaf() {
  local name=$1
  shift
  "$CERTA" ca issue "$T_TMP/ca" --out "$T_TMP/$name" --dns localhost --ttl 2h "$@" \
    >"$T_TMP/$name.issue.log" 2>&1 || return 1
  ROT_SERIAL=$(sed -n 's/^  serial: *//p' "$T_TMP/$name.issue.log")
  [ -n "$ROT_SERIAL" ]
}
rot_serial() {
  local port=$1
  shift
  echo ping | timeout 10 "$CERTA" connect "127.0.0.1:$port" --servername localhost \
    --trust "$T_TMP/ca/ca.crt" "$@" 2>&1 >/dev/null | sed -n 's/^\*   serial: *//p'
}
rot_load_start() {
  local name=$1 port=$2
  shift 2
  rm -f "$T_TMP/$name.stop" "$T_TMP/$name.load"
  (
    end=$((SECONDS + 90))
    while [ ! -e "$T_TMP/$name.stop" ] && [ $SECONDS -lt $end ]; do
      out=$(echo ping | timeout 10 "$CERTA" connect "127.0.0.1:$port" --servername localhost \
        --trust "$T_TMP/ca/ca.crt" "$@" 2>&1)
      rc=$?
      if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -qx ping; then
        echo "ok $(printf '%s\n' "$out" | sed -n 's/^\*   serial: *//p')" >>"$T_TMP/$name.load"
      else
        echo "FAIL $rc" >>"$T_TMP/$name.load"
        printf '%s\n' "$out" | tail -n 3 >>"$T_TMP/$name.failures"
      fi
    done
  ) &
  ROT_LOAD_PID=$!
  T_PIDS+=("$ROT_LOAD_PID")
}
rot_load_stop() {
  touch "$T_TMP/$1.stop"
  wait "$ROT_LOAD_PID" 2>/dev/null
}
# A connection opened before the first rotation that sends a line every
# 0.25 s for $2 seconds and reads the echo: it must see every line back.
rot_stream_start() {
  local name=$1 port=$2 secs=$3
  shift 3
  ROT_STREAM_LINES=$((secs * 4))
  (
    for i in $(seq 1 "$ROT_STREAM_LINES"); do
      echo "line $i"
      sleep 0.25
    done
  ) | timeout $((secs + 20)) "$CERTA" connect "127.0.0.1:$port" --servername localhost \
    --trust "$T_TMP/ca/ca.crt" "$@" >"$T_TMP/$name.stream" 2>"$T_TMP/$name.stream.err" &
  ROT_STREAM_PID=$!
  T_PIDS+=("$ROT_STREAM_PID")
}
rot_stream_check() {
  local name=$1 rc
  wait "$ROT_STREAM_PID"
  rc=$?
  if [ $rc -eq 0 ] && [ "$(grep -c '^line ' "$T_TMP/$name.stream")" -eq "$ROT_STREAM_LINES" ]; then
    ok "$name: a connection opened before the rotations carried all $ROT_STREAM_LINES lines across them"
  else
    not_ok "$name: the long-lived connection ended with $rc after $(grep -c '^line ' "$T_TMP/$name.stream") of $ROT_STREAM_LINES lines"
    show "$T_TMP/$name.stream.err"
  fi
}
# rot_load_report NAME: every handshake of the load succeeded.
rot_load_report() {
  local name=$1 total fails
  total=$(wc -l <"$T_TMP/$name.load")
  fails=$(grep -c '^FAIL' "$T_TMP/$name.load")
  if [ "$total" -gt 0 ] && [ "$fails" -eq 0 ]; then
    ok "$name: $total handshakes under load during the rotations, none failed"
  else
    not_ok "$name: $fails of $total handshakes under load failed"
    show "$T_TMP/$name.failures"
  fi
}
