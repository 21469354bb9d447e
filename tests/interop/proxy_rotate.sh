#!/usr/bin/env bash
# certa proxy: certificate rotation during traffic. The certificate and key
# files are replaced (new key, new serial) while a long-lived connection is
# streaming and short connections keep arriving: the long-lived one survives
# on its old config, new connections see the new certificate's serial (via
# openssl s_client -showcerts), and no connection fails. Loopback only.
set -u
DIR=$(cd "$(dirname "$0")" && pwd)
source "$DIR/proxy_lib.bash"
CLIENT="$DIR/proxy_client.py"
proxy_setup
proxy_backend_echo || { not_ok "echo backend did not start"; exit 1; }
proxy_gen_leaf server1 spiffe://example.org/server serverAuth localhost 0x1001
proxy_gen_leaf server2 spiffe://example.org/server serverAuth localhost 0x2002
cp "$T/server1.crt" "$T/live.crt"
cp "$T/server1.key" "$T/live.key"

serial_seen() {
  timeout 10 openssl s_client -connect "127.0.0.1:$1" -servername localhost -showcerts \
    -cert "$T/client.crt" -key "$T/client.key" -CAfile "$T/ca.crt" </dev/null 2>/dev/null |
    openssl x509 -noout -serial 2>/dev/null
}

proxy_start rot --backend "127.0.0.1:$ECHO_PORT" --cert "$T/live.crt" --key "$T/live.key" \
  --client-ca "$T/ca.crt" || { not_ok "proxy started"; exit 1; }
PORT=$PROXY_PORT
s=$(serial_seen "$PORT")
check "before rotation the proxy serves serial 1001 ($s)" test "$s" = "serial=1001"

TLSOPTS=(--tls --ca "$T/ca.crt" --cert "$T/client.crt" --key "$T/client.key" --servername localhost)
timeout 30 python3 "$CLIENT" stream 127.0.0.1 "$PORT" "${TLSOPTS[@]}" --seconds 6 \
  --marker "$T/streaming" >"$T/stream.out" 2>&1 &
SPID=$!
# Short connections all through the rotation.
(
  end=$((SECONDS + 6))
  n=0 bad=0
  while [ $SECONDS -lt $end ]; do
    if timeout 10 python3 "$CLIENT" echo 127.0.0.1 "$PORT" "${TLSOPTS[@]}" --bytes 2000 \
      --timeout 8 >/dev/null 2>&1; then n=$((n + 1)); else bad=$((bad + 1)); fi
  done
  echo "$n $bad" >"$T/short.out"
) &
LPID=$!
for _ in $(seq 1 100); do [ -e "$T/streaming" ] && break; sleep 0.05; done

# Replace both files (each by rename, as deployment tools do). The proxy may
# see the new certificate before the new key: that attempt is refused and
# the next check, once the key is there too, succeeds.
cp "$T/server2.crt" "$T/live.crt.new" && mv "$T/live.crt.new" "$T/live.crt"
cp "$T/server2.key" "$T/live.key.new" && mv "$T/live.key.new" "$T/live.key"
check "the proxy logs the reload" wait_for "$T/rot.log" "reloaded the config" 5
s=$(serial_seen "$PORT")
check "a new connection after rotation sees serial 2002 ($s)" test "$s" = "serial=2002"

wait "$SPID"
check "the connection streaming across the rotation survived ($(cat "$T/stream.out"))" \
  grep -q "stream ok" "$T/stream.out"
wait "$LPID"
read -r n bad <"$T/short.out"
check "short connections during the rotation all succeeded ($n ok, $bad failed)" \
  test "$bad" -eq 0 -a "$n" -gt 5

# A broken key is refused; the proxy keeps serving the last good certificate.
echo "garbage" >"$T/live.key.new" && mv "$T/live.key.new" "$T/live.key"
check "a broken key file is refused with a log line" wait_for "$T/rot.log" "reload refused" 5
s=$(serial_seen "$PORT")
check "after the refused reload the proxy still serves serial 2002 ($s)" test "$s" = "serial=2002"

proxy_done
