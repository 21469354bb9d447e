#!/usr/bin/env bash
# certa proxy under systemd's readiness protocol, without systemd: the test
# plays systemd's part, reading NOTIFY_SOCKET (a datagram socket it binds):
# READY=1 with a STATUS once the proxy accepts, RELOADING=1 with
# MONOTONIC_USEC then READY=1 around a SIGHUP reload (which rereads every
# file even when none changed), STOPPING=1 on SIGTERM; the unit file in
# packaging/systemd passes systemd-analyze verify where systemd is there.
. "$(dirname "$0")/lib.sh"
need openssl python3
need_certa

D=$T_TMP
gen_ca ca || not_ok "generate CA"
gen_leaf srv ca || not_ok "generate leaf"
cat >"$D/notify.py" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
print("bound", flush=True)
end = time.time() + 60
while time.time() < end:
    try:
        m = s.recv(4096).decode()
    except socket.timeout:
        break
    print("MSG " + m.replace("\n", " | "), flush=True)
    if "STOPPING=1" in m:
        break
PY
bg "$D/notify.log" python3 "$D/notify.py" "$D/notify.sock"
NPID=$BG_PID
wait_for "$D/notify.log" '^bound' 10 || not_ok "notify socket"
start_echo_backend || not_ok "echo backend"
NOTIFY_SOCKET="$D/notify.sock" start_proxy px --backend "127.0.0.1:$ECHO_PORT" \
  --cert "$D/srv.crt" --key "$D/srv.key" || not_ok "proxy did not start"
if wait_for "$D/notify.log" '^MSG READY=1 \| STATUS=listening on 127\.0\.0\.1:[0-9]+' 10; then
  ok "READY=1 with a STATUS once the proxy accepts connections"
else
  not_ok "READY"
  show "$D/notify.log" "$PROXY_LOG"
fi
hup "$PROXY_PID"
if wait_for "$D/notify.log" '^MSG RELOADING=1 \| MONOTONIC_USEC=[0-9]+$' 10 &&
  wait_for "$PROXY_LOG" 'reloaded the config \(generation 1\)' 10 &&
  [ "$(grep -c '^MSG READY=1' "$D/notify.log")" -ge 2 ]; then
  ok "SIGHUP: RELOADING=1 (MONOTONIC_USEC), every file reread, then READY=1 again"
else
  not_ok "SIGHUP reload"
  show "$D/notify.log" "$PROXY_LOG"
fi
if echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
  --trust "$D/ca.crt" --timeout 10 >"$D/c.out" 2>"$D/c.err" && grep -q hello "$D/c.out"; then
  ok "the proxy serves after the reload"
else
  not_ok "serving after SIGHUP"
  show "$D/c.err"
fi
stop_proxy px
if wait_for "$D/notify.log" '^MSG STOPPING=1' 10; then
  ok "STOPPING=1 when it starts draining on SIGTERM"
else
  not_ok "STOPPING"
  show "$D/notify.log"
fi
stop "$NPID"
stop "$ECHO_PID"
unit="$REPO_DIR/packaging/systemd/certa-proxy@.service"
if grep -q '^Type=notify$' "$unit" && grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$unit" &&
  grep -q '^DynamicUser=yes$' "$unit" && grep -q '^NoNewPrivileges=yes$' "$unit" &&
  grep -q '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' "$unit"; then
  ok "the unit: Type=notify, reload by SIGHUP, DynamicUser, NoNewPrivileges, only CAP_NET_BIND_SERVICE"
else
  not_ok "unit file contents"
fi
if command -v systemd-analyze >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  cp "$unit" "$D/certa-proxy@test.service"
  if systemd-analyze verify "$D/certa-proxy@test.service" >"$D/verify.log" 2>&1 ||
    ! grep -qiE "unknown (key|section)|invalid|failed to parse" "$D/verify.log"; then
    ok "systemd-analyze verify accepts the unit"
  else
    not_ok "systemd-analyze verify"
    show "$D/verify.log"
  fi
fi
finish
