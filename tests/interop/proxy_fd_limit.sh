#!/usr/bin/env bash
# certa proxy at its descriptor limit: started under `ulimit -n 200`, it says
# at start how many proxied connections the limit allows and caps
# --max-conns to it; 120 clients at once get that many handshakes, the rest
# wait in the listen backlog (no "Too many open files", no handshake it
# cannot serve), and are served once the first ones close.
. "$(dirname "$0")/lib.sh"
need openssl python3
need_certa

D=$T_TMP
gen_ca ca || not_ok "generate CA"
gen_leaf srv ca || not_ok "generate leaf"
start_echo_backend || not_ok "echo backend"
PROXY_LOG=$D/px.log
( ulimit -n 200 && exec setsid timeout 300 "$CERTA" proxy --listen 127.0.0.1:0 \
  --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" --workers 1 \
  --handshake-timeout 30 ) >"$PROXY_LOG" 2>&1 &
PROXY_PID=$!
T_PIDS+=("$PROXY_PID")
wait_for "$PROXY_LOG" 'listening on 127\.0\.0\.1:[0-9]+' 10 || not_ok "proxy did not start"
PROXY_PORT=$(grep -o 'listening on 127\.0\.0\.1:[0-9]*' "$PROXY_LOG" | head -n1 | sed 's/.*://')
allowed=$(sed -n 's/.*at most \([0-9]*\) proxied connections at once (what the descriptor limit 200 allows).*/\1/p' "$PROXY_LOG")
if [ -n "$allowed" ] && [ "$allowed" -gt 20 ] && [ "$allowed" -lt 100 ]; then
  ok "at start: the limit (200) allows $allowed proxied connections, and the proxy says so"
else
  not_ok "no cap announced"
  show "$PROXY_LOG"
fi
cat >"$D/flood.py" <<'PY'
import asyncio, ssl, sys
port, ca, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ctx = ssl.create_default_context(cafile=ca)
async def one():
    r, w = await asyncio.open_connection("127.0.0.1", port)  # TCP: the backlog takes it
    try:
        await asyncio.wait_for(w.start_tls(ctx, server_hostname="localhost"), 4)
        return ("served", r, w)
    except Exception:
        return ("waiting", r, w)
async def main():
    got = await asyncio.gather(*[one() for _ in range(n)])
    served = [g for g in got if g[0] == "served"]
    waiting = [g for g in got if g[0] == "waiting"]
    print(f"first: served={len(served)} waiting={len(waiting)}", flush=True)
    for _, r, w in served:
        w.close()
    for _, r, w in waiting:
        w.close()
    await asyncio.sleep(1)
    # the ones that waited: new connections now get through
    again = await asyncio.gather(*[one() for _ in range(len(waiting))])
    print(f"then: served={sum(1 for g in again if g[0] == 'served')} of {len(waiting)}", flush=True)
    for _, r, w in again:
        w.close()
asyncio.run(main())
PY
timeout 120 python3 "$D/flood.py" "$PROXY_PORT" "$D/ca.crt" 120 >"$D/flood.out" 2>&1
first=$(sed -n 's/^first: served=\([0-9]*\) .*/\1/p' "$D/flood.out")
waiting=$(sed -n 's/^first: .*waiting=\([0-9]*\)/\1/p' "$D/flood.out")
if [ -n "$first" ] && [ "$first" -le "$allowed" ] && [ "$first" -ge $((allowed - 5)) ] &&
  [ "$waiting" -gt 0 ] && ! grep -q "Too many open files" "$PROXY_LOG"; then
  ok "120 clients at once: $first handshakes (the cap), $waiting left waiting, no descriptor errors"
else
  not_ok "at the limit: $(cat "$D/flood.out")"
  show "$PROXY_LOG"
fi
if grep -q "^then: served=$waiting of $waiting" "$D/flood.out"; then
  ok "once the first ones close, the waiting clients' successors are served"
else
  not_ok "after the first ones closed: $(tail -n 1 "$D/flood.out")"
fi
stop_proxy px
if ! ( ulimit -n 200 && timeout 5 "$CERTA" proxy --listen 127.0.0.1:0 --backend 127.0.0.1:1 \
  --cert "$D/srv.crt" --key "$D/srv.key" --max-conns 500 >"$D/capped.log" 2>&1 ); true; then :; fi
if grep -q "allows [0-9]* proxied connections: --max-conns 500 is capped to [0-9]* (raise ulimit -n" \
  "$D/capped.log"; then
  ok "an explicit --max-conns over the limit: a warning names both numbers and the fix"
else
  not_ok "explicit --max-conns cap"
  show "$D/capped.log"
fi
stop "$ECHO_PID"
finish
