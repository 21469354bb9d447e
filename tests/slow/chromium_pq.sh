#!/usr/bin/env bash
# A real browser on the post-quantum hybrid: Debian's Chromium (headless)
# offers X25519MLKEM768 first, with an x25519 share beside it. It loads a
# page from certa serve --http, and one through certa proxy (terminating TLS
# in front of a plain HTTP backend); both certa sides must log
# X25519MLKEM768, and the pages must arrive. `make deps` installs chromium.
. "$(dirname "$0")/../interop/lib.sh"
need chromium python3
need_certa
gen_cert ecdsa srv || not_ok "generate the server certificate"

# chromium_get NAME URL: one headless page load (its own profile, nothing
# else to reach); the DOM lands in $T_TMP/NAME.out.
chromium_get() {
  bg "$T_TMP/$1.out" chromium --headless --disable-gpu --no-sandbox --no-first-run \
    --disable-extensions --disable-background-networking --disable-sync \
    --disable-component-update --user-data-dir="$T_TMP/$1-profile" \
    --ignore-certificate-errors --dump-dom "$2"
  local pid=$BG_PID
  for _ in $(seq 900); do
    alive "$pid" || break
    sleep 0.1
  done
  stop "$pid"
}

start_certa_serve serve-pq --http --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" || finish
chromium_get serve "https://127.0.0.1:$SERVE_PORT/"
wait_for "$SERVE_LOG" '^conn #' 5
if grep -q "certa: TLSv1.3 " "$T_TMP/serve.out" && grep -q "X25519MLKEM768" "$T_TMP/serve.out" &&
  grep '^conn #' "$SERVE_LOG" | grep -q " X25519MLKEM768 .*hrr=no"; then
  ok "chromium -> certa serve --http: X25519MLKEM768, no HelloRetryRequest, page loaded"
else
  not_ok "chromium -> certa serve: X25519MLKEM768"
  show "$T_TMP/serve.out" "$SERVE_LOG"
fi
stop_certa_serve serve-pq

# A plain HTTP backend (bounded by bg's timeout), then the proxy in front.
BACKEND_PORT=$(free_port)
mkdir -p "$T_TMP/www" && echo "<html><body>certa-pq-backend-page</body></html>" >"$T_TMP/www/index.html"
bg "$T_TMP/backend.log" python3 -m http.server --bind 127.0.0.1 --directory "$T_TMP/www" "$BACKEND_PORT"
BACKEND_PID=$BG_PID
for _ in $(seq 50); do port_in_use "$BACKEND_PORT" && break; sleep 0.1; done
if start_proxy proxy-pq --backend "127.0.0.1:$BACKEND_PORT" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key"; then
  chromium_get proxy "https://127.0.0.1:$PROXY_PORT/"
  wait_for "$PROXY_LOG" 'event=close' 5
  if grep -q "certa-pq-backend-page" "$T_TMP/proxy.out" && grep 'event=close' "$PROXY_LOG" | grep -q "group=X25519MLKEM768"; then
    ok "chromium -> certa proxy -> HTTP backend: X25519MLKEM768 in the proxy's log, page loaded"
  else
    not_ok "chromium through certa proxy: X25519MLKEM768"
    show "$T_TMP/proxy.out" "$PROXY_LOG"
  fi
  stop_proxy proxy-pq
else
  not_ok "certa proxy did not start"
  show "$PROXY_LOG"
fi
stop "$BACKEND_PID"
finish
