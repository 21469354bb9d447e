#!/usr/bin/env bash
# Soak: 9,000 concurrent TLS 1.3 connections through certa proxy to an echo
# backend (each sends a line and gets it back), held idle, then closed —
# three waves. The proxy needs 18,000 descriptors for them (the hard limit
# here is 20,000 per process; client and backend are processes of their own).
# After each wave the proxy's descriptor count must return exactly to its
# baseline and its active-connection gauge to 0; its RSS must come back
# within a fifth of the way from the baseline to the peak (the proxy gives
# free pages back once a crowd has gone), stay within 5 % (or 2 MiB) of
# where wave 1 left it, and each wave's peak within 5 % of the first's. Figures: bench/RESULTS.md ("Soak").
. "$(dirname "$0")/../interop/lib.sh"
need python3 curl
need_certa
N=${SOAK_CONNS:-9000}
WAVES=${SOAK_WAVES:-3}
D=$T_TMP
"$CERTA" ca init "$D/ca" >/dev/null 2>&1 &&
  "$CERTA" ca issue "$D/ca" --out "$D/srv" --dns localhost --server >/dev/null 2>&1 ||
  not_ok "CA"
cat >"$D/hold_echo.py" <<'PY'
import asyncio
async def handle(r, w):
    try:
        while True:
            b = await r.read(4096)
            if not b: break
            w.write(b); await w.drain()
    except ConnectionError:
        pass
    w.close()
async def main():
    srv = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
    print("echo on", srv.sockets[0].getsockname()[1], flush=True)
    await srv.serve_forever()
asyncio.run(main())
PY
bg "$D/echo.log" python3 "$D/hold_echo.py"
ECHO_PID=$BG_PID
wait_for "$D/echo.log" '^echo on [0-9]+' 10 || not_ok "echo backend"
ECHO_PORT=$(sed -n 's/^echo on //p' "$D/echo.log")
MPORT=$(free_port)
if ! start_proxy soak --backend "127.0.0.1:$ECHO_PORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --quiet --max-conns 9900 --metrics "127.0.0.1:$MPORT"; then
  not_ok "certa proxy did not start"
  show "$PROXY_LOG"
  finish
fi
CERTA_PID=$(pgrep -P "$PROXY_PID" | head -n 1) # bg runs it under timeout(1)
[ -n "$CERTA_PID" ] && [ -d "/proc/$CERTA_PID/fd" ] || not_ok "the proxy's own PID"
timeout 170 python3 "$(dirname "$0")/soak_client.py" 127.0.0.1 "$PROXY_PORT" "$CERTA_PID" "$N" \
  "$WAVES" "$D/ca/ca.crt" >"$D/soak.txt" 2>"$D/soak.err"
cat "$D/soak.txt" | sed 's/^/# /'
val() { sed -n "s/.*\b$2=\([0-9.]*\).*/\1/p" <<<"$1"; }
w1=$(grep '^wave=1 ' "$D/soak.txt")
[ "$(wc -l <"$D/soak.txt")" -eq "$WAVES" ] || not_ok "soak client finished $(wc -l <"$D/soak.txt") of $WAVES waves"
while read -r line; do
  w=$(val "$line" wave)
  if [ "$(val "$line" open)" = "$N" ] && [ "$(val "$line" failed)" = 0 ] &&
    [ "$(val "$line" peak_fds)" -ge $(($(val "$line" base_fds) + 2 * N)) ]; then
    ok "wave $w: $N connections open at once through the proxy ($(val "$line" peak_fds) proxy descriptors), all echoed"
  else
    not_ok "wave $w: $line"
    show "$D/soak.err" "$PROXY_LOG"
  fi
  if [ "$(val "$line" after_fds)" = "$(val "$line" base_fds)" ]; then
    ok "wave $w: the proxy's descriptors return to baseline ($(val "$line" base_fds)) after all close"
  else
    not_ok "wave $w: descriptors $(val "$line" base_fds) before, $(val "$line" after_fds) after"
  fi
  # the free pages go back to the kernel once the crowd has gone (malloc_trim)
  base=$(val "$w1" base_rss_kib) peak=$(val "$line" peak_rss_kib) after=$(val "$line" after_rss_kib)
  if [ "$after" -le $((base + (peak - base) / 5)) ]; then
    ok "wave $w: RSS back to ${after} KiB after close (baseline ${base}, peak ${peak}: $(((peak - base) * 1024 / N)) bytes per open connection)"
  else
    not_ok "wave $w: RSS ${after} KiB after close, not near the baseline ${base} (peak ${peak})"
  fi
  if [ "$w" -gt 1 ]; then
    ref=$(val "$w1" after_rss_kib) now=$(val "$line" after_rss_kib)
    pk1=$(val "$w1" peak_rss_kib) pk=$(val "$line" peak_rss_kib)
    if [ "$now" -le $((ref + ref / 20 > ref + 2048 ? ref + ref / 20 : ref + 2048)) ] &&
      [ "$pk" -le $((pk1 + pk1 / 20)) ]; then
      ok "wave $w: RSS after close ${now} KiB vs ${ref} after wave 1, peak ${pk} vs ${pk1} KiB: no growth"
    else
      not_ok "wave $w: RSS after close ${now} KiB (wave 1: ${ref}), peak ${pk} (wave 1: ${pk1})"
    fi
  fi
done <"$D/soak.txt"
active=$(timeout 10 curl -sf "http://127.0.0.1:$MPORT/metrics" | awk '$1 == "certa_proxy_connections_active" { print $2 }')
hs_ok=$(timeout 10 curl -sf "http://127.0.0.1:$MPORT/metrics" | grep -F 'certa_proxy_handshakes_total{result="ok",version="TLSv1.3"}' | awk '{ print $2 }')
if [ "$active" = 0 ] && [ "$hs_ok" = $((N * WAVES)) ]; then
  ok "metrics: $hs_ok handshakes, 0 connections active at the end"
else
  not_ok "metrics: active=$active handshakes=$hs_ok (expected 0, $((N * WAVES)))"
fi
stop_proxy soak
stop "$ECHO_PID"
finish
