#!/usr/bin/env bash
# A fleet's session-ticket keys: `certa ticket-keys new/rotate/show` write a
# 0600 key file; two `certa serve` (and two `certa proxy`) processes given it
# with --ticket-keys resume each other's sessions; a rotation is picked up
# without a restart and old tickets keep resuming until their key is
# dropped; a file others can read, or that is not a key file, is refused
# with the reason.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

D=$T_TMP
K="$D/fleet.keys"
gen_ca ca || not_ok "generate CA"
gen_leaf srv ca || not_ok "generate leaf"

if "$CERTA" ticket-keys new "$K" >"$D/new.out" 2>&1 && [ "$(stat -c %a "$K")" = 600 ] &&
  grep -q '^certa-ticket-keys 1$' "$K" && [ "$(grep -c '^key ' "$K")" = 1 ]; then
  ok "ticket-keys new: one key, mode 0600, the versioned format"
else
  not_ok "ticket-keys new"
  show "$D/new.out" "$K"
fi
if ! "$CERTA" ticket-keys new "$K" >"$D/again.out" 2>&1 && grep -q "exists: rotate it" "$D/again.out"; then
  ok "ticket-keys new on an existing file refuses, pointing at rotate"
else
  not_ok "ticket-keys new twice"
  show "$D/again.out"
fi
"$CERTA" ticket-keys show "$K" >"$D/show.out" 2>&1
if grep -q "^key 1: seals from .* (fingerprint [0-9a-f]\{8\})$" "$D/show.out" &&
  ! grep -qi "$(sed -n 's/^key [0-9]* //p' "$K")" "$D/show.out"; then
  ok "ticket-keys show: epochs and fingerprints, never the key"
else
  not_ok "ticket-keys show"
  show "$D/show.out"
fi

# connect NAME PORT: one connection storing/offering the session in $D/sess
connect_to() {
  echo hi | timeout 20 "$CERTA" connect "127.0.0.1:$2" --servername localhost \
    --trust "$D/ca.crt" --session "$D/sess" --timeout 10 >"$D/$1.out" 2>"$D/$1.err"
}
resumed() { grep -q '^\* resumed: *yes (session ticket)$' "$D/$1.err"; }

if start_certa_serve serve-a --cert "$D/srv.crt" --key "$D/srv.key" --ticket-keys "$K"; then
  A_PID=$SERVE_PID A_PORT=$SERVE_PORT A_LOG=$SERVE_LOG
  if start_certa_serve serve-b --cert "$D/srv.crt" --key "$D/srv.key" --ticket-keys "$K"; then
    B_PID=$SERVE_PID B_PORT=$SERVE_PORT B_LOG=$SERVE_LOG
    rm -f "$D/sess"
    connect_to a1 "$A_PORT"
    connect_to b1 "$B_PORT"
    if ! resumed a1 && resumed b1; then
      ok "a ticket from server A resumes on server B (one key file)"
    else
      not_ok "cross-server resumption"
      show "$D/a1.err" "$D/b1.err"
    fi
    connect_to a2 "$A_PORT" # a fresh ticket from A, under the first key
    cp "$D/sess" "$D/sess.key1"
    "$CERTA" ticket-keys rotate "$K" >"$D/rot.out" 2>&1
    if grep -q "rotated .*: a new key seals from .*; 2 keys kept" "$D/rot.out" &&
      wait_for "$A_LOG" "changed: reread the ticket keys \\(2\\)" 10 &&
      wait_for "$B_LOG" "changed: reread the ticket keys \\(2\\)" 10; then
      ok "ticket-keys rotate: both servers reread the file by themselves"
    else
      not_ok "rotation picked up"
      show "$D/rot.out" "$A_LOG" "$B_LOG"
    fi
    connect_to b2 "$B_PORT"
    if resumed b2; then
      ok "after the rotation a ticket under the old key still resumes"
    else
      not_ok "old ticket after rotation"
      show "$D/b2.err"
    fi
    connect_to b3 "$B_PORT" # B issued this ticket under the new key
    connect_to a3 "$A_PORT"
    if resumed a3; then
      ok "a ticket under the new key from B resumes on A"
    else
      not_ok "new-key ticket across servers"
      show "$D/a3.err"
    fi
    "$CERTA" ticket-keys rotate "$K" --keep 1 >"$D/rot2.out" 2>&1
    wait_for "$B_LOG" "changed: reread the ticket keys \\(1\\)" 10
    cp "$D/sess.key1" "$D/sess"
    connect_to b4 "$B_PORT"
    if grep -q "oldest dropped" "$D/rot2.out" && grep -q '^\* resumed: *no' "$D/b4.err" &&
      grep -q hi "$D/b4.out"; then
      ok "rotate --keep 1 drops the old keys: their tickets fail over to a full handshake"
    else
      not_ok "dropped key"
      show "$D/rot2.out" "$D/b4.err"
    fi
    chmod 644 "$K"
    if wait_for "$B_LOG" "readable by group or others .*chmod 600" 10 &&
      connect_to b5 "$B_PORT" && grep -q hi "$D/b5.out"; then
      ok "a key file made readable by others is refused on reread; the server keeps its keys"
    else
      not_ok "world-readable reread"
      show "$B_LOG" "$D/b5.err"
    fi
    chmod 600 "$K"
    SERVE_PID=$B_PID SERVE_LOG=$B_LOG
    stop_certa_serve serve-b
  fi
  SERVE_PID=$A_PID SERVE_LOG=$A_LOG
  stop_certa_serve serve-a
fi

# ---- two proxies sharing the file ----
if start_echo_backend; then
  if start_proxy px-a --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" \
    --ticket-keys "$K"; then
    PA_PID=$PROXY_PID PA_PORT=$PROXY_PORT PA_LOG=$PROXY_LOG
    if start_proxy px-b --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" \
      --ticket-keys "$K"; then
      rm -f "$D/sess"
      connect_to pa1 "$PA_PORT"
      connect_to pb1 "$PROXY_PORT"
      if resumed pb1 && grep -q hi "$D/pb1.out" && grep -q "resumed=true" "$PROXY_LOG"; then
        ok "a ticket from proxy A resumes on proxy B, and B logs resumed=true"
      else
        not_ok "cross-proxy resumption"
        show "$D/pb1.err" "$PROXY_LOG"
      fi
      "$CERTA" ticket-keys rotate "$K" >/dev/null 2>&1
      if wait_for "$PROXY_LOG" "reread the ticket keys" 10 &&
        ! grep -q "reloaded the config" "$PROXY_LOG"; then
        ok "the proxy rereads a rotated key file in place (no config reload)"
      else
        not_ok "proxy key reread"
        show "$PROXY_LOG"
      fi
      stop_proxy px-b
    fi
    PROXY_PID=$PA_PID PROXY_LOG=$PA_LOG
    stop_proxy px-a
  fi
  stop "$ECHO_PID"
fi

# ---- bad files ----
printf 'not a key file\n' >"$D/junk.keys"
chmod 600 "$D/junk.keys"
if ! timeout 10 "$CERTA" serve --port 0 --cert "$D/srv.crt" --key "$D/srv.key" \
  --ticket-keys "$D/junk.keys" >"$D/junk.out" 2>&1 &&
  grep -q "junk.keys line 1: expected 'certa-ticket-keys 1'" "$D/junk.out"; then
  ok "a file that is not a key file: refused at start-up, naming the line"
else
  not_ok "junk key file"
  show "$D/junk.out"
fi
printf 'certa-ticket-keys 1\nkey 1 %064d\nkey 2 %s\n' 0 "$(printf 'zz%.0s' $(seq 32))" >"$D/hex.keys"
chmod 600 "$D/hex.keys"
if ! timeout 10 "$CERTA" ticket-keys show "$D/hex.keys" >"$D/hex.out" 2>&1 &&
  grep -q "hex.keys line 3: the key is not hexadecimal" "$D/hex.out"; then
  ok "a key that is not hexadecimal: refused, naming the line"
else
  not_ok "non-hex key"
  show "$D/hex.out"
fi
cp "$K" "$D/open.keys"
chmod 640 "$D/open.keys"
if ! timeout 10 "$CERTA" proxy --listen 127.0.0.1:0 --backend 127.0.0.1:1 --cert "$D/srv.crt" \
  --key "$D/srv.key" --ticket-keys "$D/open.keys" >"$D/open.out" 2>&1 &&
  grep -q "readable by group or others (mode 0640).*chmod 600" "$D/open.out"; then
  ok "a group-readable key file: the proxy refuses to start and says chmod 600"
else
  not_ok "group-readable key file"
  show "$D/open.out"
fi

finish
