#!/usr/bin/env bash
# Faults around certa proxy, each handled, counted in the metrics and logged
# once: a backend refusing connections, a backend resetting mid-stream, a
# backend slow to read (the proxy's memory stays bounded: backpressure), a
# client sending its ClientHello one byte per second (the handshake timeout),
# a client vanishing without FIN (stopped with SIGSTOP — there is no packet
# filter to drop its packets here — so the proxy hears nothing more: the
# idle timeout). Then reload
# under load: wrk opens a new TLS connection per request through the proxy to
# nginx while SIGHUP arrives twice and the certificate is rotated twice —
# zero failed requests, and the rotated certificate is served.
# Figures: bench/RESULTS.md ("Faults and reload under load").
. "$(dirname "$0")/../interop/lib.sh"
need python3 curl openssl
need_certa
D=$T_TMP
PEERS=$(dirname "$0")/fault_peers.py
"$CERTA" ca init "$D/ca" >/dev/null 2>&1 &&
  "$CERTA" ca issue "$D/ca" --out "$D/srv" --dns localhost --server >/dev/null 2>&1 ||
  not_ok "CA"
CA=$D/ca/ca.crt
scrape() { timeout 10 curl -sf "http://127.0.0.1:$1/metrics" >"$D/metrics.txt"; }
metric() { awk -v k="$1 " 'index($0, k) == 1 { print $NF }' "$D/metrics.txt"; }
lines() { grep -c -- "$1" "$PROXY_LOG"; }

# ---- a backend refusing connections ----
DEAD=$(free_port)
M1=$(free_port)
if start_proxy refuse --backend "127.0.0.1:$DEAD" --cert "$D/srv.crt" --key "$D/srv.key" \
  --metrics "127.0.0.1:$M1"; then
  echo hi | timeout 20 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
    --trust "$CA" --timeout 10 >"$D/refuse.out" 2>&1
  wait_for "$PROXY_LOG" 'reason="backend unreachable"' 5
  scrape "$M1"
  if [ "$(lines 'reason="backend unreachable" detail="cannot connect to backend 127.0.0.1:'"$DEAD"': Connection refused"')" = 1 ] &&
    [ "$(metric 'certa_proxy_closed_total{reason="backend unreachable"}')" = 1 ] &&
    [ "$(metric 'certa_proxy_connections_active')" = 0 ]; then
    ok "backend refusing: the client's connection closed, one line (backend unreachable, Connection refused), counted"
  else
    not_ok "backend refusing"
    show "$PROXY_LOG" "$D/refuse.out"
  fi
  stop_proxy refuse
fi

# ---- the misbehaving backend and clients ----
bg "$D/backend.log" python3 "$PEERS" backend
BACK_PID=$BG_PID
wait_for "$D/backend.log" '^backend on [0-9]+' 10 || not_ok "fault backend"
BPORT=$(sed -n 's/^backend on //p' "$D/backend.log")
M2=$(free_port)
if ! start_proxy faults --backend "127.0.0.1:$BPORT" --cert "$D/srv.crt" --key "$D/srv.key" \
  --handshake-timeout 2 --idle-timeout 6 --metrics "127.0.0.1:$M2"; then
  not_ok "certa proxy (faults) did not start"
  show "$PROXY_LOG"
  finish
fi
CERTA_PID=$(pgrep -P "$PROXY_PID" | head -n 1)

timeout 20 python3 "$PEERS" reset "$PROXY_PORT" "$CA" >"$D/reset.out" 2>&1
wait_for "$PROXY_LOG" 'reason="backend reset"' 5
scrape "$M2"
if grep -q "partial answer" "$D/reset.out" && [ "$(lines 'reason="backend reset"')" = 1 ] &&
  [ "$(metric 'certa_proxy_closed_total{reason="backend reset"}')" = 1 ]; then
  ok "backend resetting mid-stream: the client got what came before and the end ($(cut -c1-40 "$D/reset.out")), one line (backend reset), counted"
else
  not_ok "backend reset"
  show "$D/reset.out" "$PROXY_LOG"
fi

timeout 30 python3 "$PEERS" slow "$PROXY_PORT" "$CA" "$CERTA_PID" >"$D/slow.out" 2>&1
read -r sent before peak < <(sed -n 's/^sent=\([0-9]*\) rss_before=\([0-9]*\) rss_max=\([0-9]*\)/\1 \2 \3/p' "$D/slow.out")
for _ in $(seq 80); do [ "$(lines 'reason="backend reset"')" = 2 ] && break; sleep 0.1; done
scrape "$M2"
# what the backend read in 4 s is ~80 KiB; the rest of what the client got
# off its hands sits in socket buffers and the proxy's 256 KiB relay cap
if [ -n "${peak:-}" ] && [ $((peak - before)) -lt 4096 ] && [ "$sent" -lt $((16 * 1024 * 1024)) ] &&
  [ "$(metric 'certa_proxy_closed_total{reason="backend reset"}')" = 2 ]; then
  ok "backend slow to read (20 KiB/s): the client pushed $((sent / 1024)) KiB in 4 s, held by backpressure in socket buffers; proxy RSS grew $((peak - before)) KiB (bounded); the reset logged and counted"
else
  not_ok "slow backend: sent=${sent:-?} rss ${before:-?} -> ${peak:-?} KiB"
  show "$D/slow.out" "$PROXY_LOG"
fi

timeout 30 python3 "$PEERS" trickle "$PROXY_PORT" >"$D/trickle.out" 2>&1
after=$(sed -n 's/^hung up after \([0-9.]*\) s/\1/p' "$D/trickle.out")
wait_for "$PROXY_LOG" 'the handshake did not complete within 2000 ms' 5
scrape "$M2"
if awk -v a="${after:-99}" 'BEGIN { exit !(a >= 1.5 && a < 5) }' &&
  [ "$(lines 'detail="the handshake did not complete within 2000 ms"')" = 1 ] &&
  [ "$(metric 'certa_proxy_refused_total{error="CERTA_E_TIMEOUT"}')" = 1 ]; then
  ok "a ClientHello at one byte per second: hung up after ${after} s (--handshake-timeout 2), one line, counted (refused CERTA_E_TIMEOUT)"
else
  not_ok "trickling client: hung up after ${after:-?} s"
  show "$D/trickle.out" "$PROXY_LOG"
fi

bg "$D/vanish.out" python3 "$PEERS" vanish "$PROXY_PORT" "$CA"
VPID=$BG_PID
if wait_for "$D/vanish.out" '^ready still here' 10; then
  kill -STOP "$(pgrep -P "$VPID" | head -n 1)" "$VPID" 2>/dev/null # no FIN, no RST: gone silent
  t0=$(date +%s.%N)
  wait_for "$PROXY_LOG" 'detail="no data either way for 6000 ms"' 10
  t1=$(date +%s.%N)
  scrape "$M2"
  if [ "$(lines 'detail="no data either way for 6000 ms"')" = 1 ] &&
    [ "$(metric 'certa_proxy_closed_total{reason="timeout"}')" = 2 ] &&
    [ "$(metric 'certa_proxy_connections_active')" = 0 ]; then
    ok "a client vanishing without FIN: closed by the idle timeout after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s, one line, counted; nothing left open"
  else
    not_ok "vanished client"
    show "$PROXY_LOG"
  fi
else
  not_ok "vanishing client did not connect"
  show "$D/vanish.out"
fi
kill -KILL -- "-$VPID" 2>/dev/null
wait "$VPID" 2>/dev/null
n=$(grep -c 'event=close' "$PROXY_LOG")
[ "$n" = 4 ] && ok "four faults, four close lines" || not_ok "$n close lines for four faults"
stop_proxy faults
stop "$BACK_PID"

# ---- reload under load ----
if command -v wrk >/dev/null && NGINX=$(command -v nginx || ls /usr/sbin/nginx 2>/dev/null); then
  NPORT=$(free_port)
  mkdir -p "$D/nginx/www" "$D/nginx/tmp"
  echo "under load" >"$D/nginx/www/index.html"
  cat >"$D/nginx.conf" <<NG
daemon off;
worker_processes 1;
pid $D/nginx/nginx.pid;
error_log $D/nginx/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $D/nginx/tmp; proxy_temp_path $D/nginx/tmp;
  fastcgi_temp_path $D/nginx/tmp; uwsgi_temp_path $D/nginx/tmp; scgi_temp_path $D/nginx/tmp;
  server { listen 127.0.0.1:$NPORT; root $D/nginx/www; }
}
NG
  chmod 755 "$D" "$D/nginx" "$D/nginx/www"
  chmod 644 "$D/nginx/www/index.html"
  bg "$D/nginx.out" "$NGINX" -p "$D/nginx" -c "$D/nginx.conf" -e "$D/nginx/error.log"
  NGINX_PID=$BG_PID
  for _ in $(seq 50); do port_in_use "$NPORT" && break; sleep 0.1; done
  cp "$D/srv.crt" "$D/live.crt"
  cp "$D/srv.key" "$D/live.key"
  M3=$(free_port)
  if start_proxy reload --backend "127.0.0.1:$NPORT" --cert "$D/live.crt" --key "$D/live.key" \
    --quiet --metrics "127.0.0.1:$M3"; then
    rotate() { # a new leaf: key and certificate renamed into place together
      "$CERTA" ca issue "$D/ca" --out "$D/new$1" --dns localhost --server --force >/dev/null 2>&1
      cp "$D/new$1.key" "$D/live.key.tmp" && cp "$D/new$1.crt" "$D/live.crt.tmp" &&
        mv "$D/live.key.tmp" "$D/live.key" && mv "$D/live.crt.tmp" "$D/live.crt"
    }
    CERTA_PID=$(pgrep -P "$PROXY_PID" | head -n 1) # timeout(1) passes on one signal only
    bg "$D/wrk.out" wrk -t1 -c16 -d9s -H "Connection: close" "https://localhost:$PROXY_PORT/"
    WRK_PID=$BG_PID
    sleep 1.5
    kill -HUP "$CERTA_PID"
    sleep 1.5
    rotate 1
    sleep 2
    kill -HUP "$CERTA_PID"
    sleep 1.5
    rotate 2
    for _ in $(seq 120); do alive "$WRK_PID" || break; sleep 0.1; done
    stop "$WRK_PID"
    reqs=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$D/wrk.out")
    served=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$PROXY_PORT" -servername localhost \
      2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null)
    want=$(openssl x509 -in "$D/new2.crt" -noout -fingerprint -sha256)
    scrape "$M3"
    reloads=$(metric 'certa_proxy_reloads_total{result="ok"}')
    if [ -n "$reqs" ] && [ "$reqs" -gt 100 ] && ! grep -Eq 'Socket errors|Non-2xx' "$D/wrk.out" &&
      [ "${reloads:-0}" -ge 4 ] && [ "$served" = "$want" ]; then
      ok "reload under load: $reqs requests, each a new TLS connection, 0 failed, across $reloads reloads (2 SIGHUP, 2 certificate rotations); the newest certificate is served"
    else
      not_ok "reload under load: requests=${reqs:-?} reloads=${reloads:-?} served=${served:-none}"
      show "$D/wrk.out" "$PROXY_LOG"
    fi
    grep -E 'requests in|Requests/sec|Socket errors|Non-2xx' "$D/wrk.out" | sed 's/^/# wrk: /'
    stop_proxy reload
  fi
  stop "$NGINX_PID"
else
  not_ok "wrk and nginx are needed for reload under load (scripts/deps.sh, bench/deps.sh)"
fi
finish
