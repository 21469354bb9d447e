#!/usr/bin/env bash
# packaging/systemd/certa-renew.service and .timer: the unit runs certa renew
# --once over a state root with the proxy unit's hardening, the timer runs it
# twice a day with a random delay; the ExecStart line's options are accepted
# by this certa (an empty root: "no state directory with a config", exit 1,
# not a usage error); one broken state under --all does not stop the others;
# systemd-analyze verify where systemd runs.
. "$(dirname "$0")/lib.sh"
need_certa
unit=$REPO_DIR/packaging/systemd/certa-renew.service
timer=$REPO_DIR/packaging/systemd/certa-renew.timer
if grep -q '^Type=oneshot$' "$unit" && grep -q '^ExecStart=/usr/local/bin/certa renew --once --all /var/lib/certa/renew$' "$unit" &&
  grep -q '^StateDirectory=certa/renew$' "$unit" && grep -q '^NoNewPrivileges=yes$' "$unit" &&
  grep -q '^ProtectSystem=strict$' "$unit" && grep -q '^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$' "$unit" &&
  [ -z "$(comm -13 <(grep -E '^(Protect|Private|Restrict|Lock|Memory|SystemCall|NoNew)' "$unit" | sort) \
    <(grep -E '^(Protect|Private|Restrict|Lock|Memory|SystemCall|NoNew)' "$REPO_DIR/packaging/systemd/certa-proxy@.service" | sort))" ]; then
  ok "the service: oneshot certa renew --once --all over its StateDirectory, every hardening line of certa-proxy@.service"
else
  not_ok "service unit contents"
fi
if grep -q '^OnCalendar=' "$timer" && grep -q '^RandomizedDelaySec=' "$timer" && grep -q '^Persistent=true$' "$timer" &&
  grep -q '^WantedBy=timers.target$' "$timer"; then
  ok "the timer: OnCalendar, RandomizedDelaySec, Persistent, wanted by timers.target"
else
  not_ok "timer unit contents"
fi
mkdir -p "$T_TMP/root"
cmd=$(sed -n 's|^ExecStart=/usr/local/bin/certa ||p' "$unit" | sed "s|/var/lib/certa/renew|$T_TMP/root|")
# shellcheck disable=SC2086
"$CERTA" $cmd >"$T_TMP/run.out" 2>&1
RC=$?
if [ $RC = 1 ] && grep -q 'no state directory with a config' "$T_TMP/run.out"; then
  ok "the ExecStart options are this certa's: an empty root is exit 1, not a usage error"
else
  not_ok "ExecStart options (exit $RC)"
  show "$T_TMP/run.out"
fi
# --all over a root where one state's config is broken: reported, the others still run.
mkdir -p "$T_TMP/root/bad" "$T_TMP/root/good"
printf -- '--bogus-option 1\n' >"$T_TMP/root/bad/config"
DEAD=$(free_port)
printf -- '--directory https://127.0.0.1:%s/dir\n--domain good.certa.test\n--challenge http-01\n' "$DEAD" \
  >"$T_TMP/root/good/config"
"$CERTA" renew --once --all "$T_TMP/root" --attempts 1 >"$T_TMP/all.json" 2>"$T_TMP/all.err"
RC=$?
if [ $RC = 3 ] && grep -q "bad/config: unknown option '--bogus-option'" "$T_TMP/all.err" &&
  [ "$(wc -l <"$T_TMP/all.json")" = 1 ] && grep -q '"state":"[^"]*/good","result":"failed"' "$T_TMP/all.json"; then
  ok "--all: a broken config is reported and skipped, the other certificate still tried (exit 3: none valid)"
else
  not_ok "--all with a broken config (exit $RC)"
  show "$T_TMP/all.err" "$T_TMP/all.json"
fi
if command -v systemd-analyze >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  cp "$unit" "$timer" "$T_TMP/"
  if systemd-analyze verify "$T_TMP/certa-renew.service" "$T_TMP/certa-renew.timer" >"$T_TMP/verify.log" 2>&1 ||
    ! grep -qiE "unknown (key|section)|invalid|failed to parse" "$T_TMP/verify.log"; then
    ok "systemd-analyze verify accepts the units"
  else
    not_ok "systemd-analyze verify"
    show "$T_TMP/verify.log"
  fi
fi
finish
