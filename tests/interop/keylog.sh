#!/usr/bin/env bash
# Key logs (--keylog FILE, SSLKEYLOGFILE) decrypt a capture: tshark captures
# loopback while curl fetches a marker from `certa serve --http` over TLS 1.3
# and over TLS 1.2, and `certa connect` sends one; with the server's (or the
# client's) key log tshark finds the markers in the decrypted HTTP, without it
# they are nowhere in the capture. Also: the file is 0600, lines are NSS
# format, a group-readable file is refused, `certa proxy` logs every parallel
# connection in whole lines, and `serve --http` speaks ALPN http/1.1 only.
. "$(dirname "$0")/lib.sh"
need_certa
need openssl curl tshark

gen_cert ecdsa srv || { not_ok "certificate"; finish; }
KL=$T_TMP/server.keys
CAP=$T_TMP/cap.pcapng
M13=marker13-$(uniq_token)
M12=marker12-$(uniq_token)
MC=markerC-$(uniq_token)

# Formatted NSS lines only: LABEL, 32-byte client random, secret.
well_formed() {
  [ -s "$1" ] && ! grep -Evq '^[A-Z_0-9]+ [0-9a-f]{64} ([0-9a-f]{64}|[0-9a-f]{96})$' "$1"
}

start_certa_serve serve --http --min-version 1.2 --keylog "$KL" \
  --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" || finish
check "serve warns that the key log decrypts the traffic" \
  grep -q "warning: key log $KL (--keylog): anyone with this file can decrypt the traffic" "$SERVE_LOG"
check "the key log is created with mode 0600" test "$(stat -c %a "$KL")" = 600

# Capture loopback for this port only, bounded in time and packets.
bg "$T_TMP/tshark.log" tshark -i lo -f "tcp port $SERVE_PORT" -a duration:40 -c 2000 -w "$CAP"
TS_PID=$BG_PID
wait_for "$T_TMP/tshark.log" "Capturing on" 15 || not_ok "tshark did not start capturing"
sleep 0.5

curl -sS -k -v --max-time 10 --tlsv1.3 "https://127.0.0.1:$SERVE_PORT/$M13" \
  >"$T_TMP/c13.out" 2>"$T_TMP/c13.err"
check "curl TLS 1.3 (offering h2,http/1.1) gets http/1.1 from serve --http" \
  grep -q "ALPN: server accepted http/1.1" "$T_TMP/c13.err"
check "curl TLS 1.3: answered over TLSv1.3" grep -q "^certa: TLSv1.3 .*alpn=http/1.1" "$T_TMP/c13.out"
curl -sS -k --max-time 10 --tls-max 1.2 "https://127.0.0.1:$SERVE_PORT/$M12" >"$T_TMP/c12.out" 2>&1
check "curl TLS 1.2: answered over TLSv1.2" grep -q "^certa: TLSv1.2 " "$T_TMP/c12.out"
# certa connect, its own key log from SSLKEYLOGFILE.
CKL=$T_TMP/client.keys
printf 'GET /%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$MC" |
  SSLKEYLOGFILE=$CKL timeout 15 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --trust "$T_TMP/srv.crt" \
    --timeout 5 --quiet >"$T_TMP/cc.out" 2>"$T_TMP/cc.err"
check "certa connect (SSLKEYLOGFILE) got its answer" grep -q "^certa: TLSv1.3" "$T_TMP/cc.out"
check "certa connect warns about SSLKEYLOGFILE" \
  grep -q "warning: key log $CKL (SSLKEYLOGFILE): anyone with this file" "$T_TMP/cc.err"
conn_line "$SERVE_LOG" 3 >/dev/null
sleep 1
stop "$TS_PID"
[ -s "$CAP" ] || { not_ok "no capture written"; show "$T_TMP/tshark.log"; finish; }

check "server key log: NSS lines only" well_formed "$KL"
n13=$(grep -c '^CLIENT_TRAFFIC_SECRET_0 ' "$KL")
n12=$(grep -c '^CLIENT_RANDOM ' "$KL")
check "server key log: two TLS 1.3 connections and one TLS 1.2 ($n13, $n12)" \
  test "$n13" = 2 -a "$n12" = 1
check "client key log: the five TLS 1.3 lines" test "$(wc -l <"$CKL")" = 5
check "client key log: its secrets are the server's lines for that connection" \
  bash -c "sort '$CKL' | comm -23 - <(sort '$KL') | grep -q . && exit 1 || exit 0"

uris() { # FILE [keylog]: the decrypted HTTP request URIs
  tshark -r "$1" ${2:+-o "tls.keylog_file:$2"} -Y http.request -T fields -e http.request.uri 2>/dev/null
}
uris "$CAP" "$KL" >"$T_TMP/dec.txt"
check "tshark with the server's key log decrypts the TLS 1.3 request" grep -q "/$M13" "$T_TMP/dec.txt"
check "tshark with the server's key log decrypts the TLS 1.2 request" grep -q "/$M12" "$T_TMP/dec.txt"
check "... and certa connect's request" grep -q "/$MC" "$T_TMP/dec.txt"
uris "$CAP" "$CKL" >"$T_TMP/dec-client.txt"
check "tshark with certa connect's key log decrypts its request (only)" \
  bash -c "grep -q '/$MC' '$T_TMP/dec-client.txt' && ! grep -q '/$M13' '$T_TMP/dec-client.txt'"
tshark -r "$CAP" -o "tls.keylog_file:$KL" -Y http.response -T fields -e http.file_data \
  2>/dev/null >"$T_TMP/bodies.txt"
check "the decrypted answers name both versions" \
  bash -c "grep -q 'TLSv1.3' '$T_TMP/bodies.txt' && grep -q 'TLSv1.2' '$T_TMP/bodies.txt'"
# Negative: the same capture without the key log shows none of it.
uris "$CAP" >"$T_TMP/plain.txt"
check "without the key log tshark sees no HTTP request" test ! -s "$T_TMP/plain.txt"
check "without the key log the markers are nowhere in the capture" \
  bash -c "! grep -aq -e '$M13' -e '$M12' -e '$MC' '$CAP'"
stop_certa_serve serve

# A key log that others may read is refused; one that is 0600 is appended to.
printf 'old line\n' >"$T_TMP/open.keys"
chmod 644 "$T_TMP/open.keys"
timeout 10 "$CERTA" serve --port 0 --keylog "$T_TMP/open.keys" --cert "$T_TMP/srv.crt" \
  --key "$T_TMP/srv.key" >"$T_TMP/open.out" 2>&1
rc=$?
check "serve refuses a group/world-readable key log (exit $rc)" \
  bash -c "[ $rc = 1 ] && grep -q 'is open to group or others (mode 0644).*chmod 600' '$T_TMP/open.out'"
SSLKEYLOGFILE=$T_TMP/open.keys timeout 10 "$CERTA" connect 127.0.0.1:1 --insecure \
  >"$T_TMP/open2.out" 2>&1
rc=$?
check "connect refuses it from SSLKEYLOGFILE too (exit $rc)" \
  bash -c "[ $rc = 1 ] && grep -q 'open.keys (SSLKEYLOGFILE) is open to group or others' '$T_TMP/open2.out'"
timeout 10 "$CERTA" serve --port 0 --keylog "$T_TMP/no/such/dir/k" --cert "$T_TMP/srv.crt" \
  --key "$T_TMP/srv.key" >"$T_TMP/nodir.out" 2>&1
check "an unopenable key log is an error sentence (exit $?)" \
  grep -q "key log .*/no/such/dir/k (--keylog): cannot open it: No such file or directory" "$T_TMP/nodir.out"
timeout 5 "$CERTA" serve --keylog "" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" \
  >"$T_TMP/empty.out" 2>&1
check "--keylog with an empty name is a usage error (exit $?)" \
  bash -c "grep -q 'keylog wants a file name' '$T_TMP/empty.out'"

# The proxy: parallel connections, each line whole; appended after a line already there.
start_echo_backend || { not_ok "echo backend"; finish; }
PKL=$T_TMP/proxy.keys
printf 'CLIENT_RANDOM %064d %096d\n' 0 0 >"$PKL"
chmod 600 "$PKL"
start_proxy proxy --backend "127.0.0.1:$ECHO_PORT" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" \
  --workers 2 --keylog "$PKL" || { not_ok "proxy did not start"; show "$PROXY_LOG"; finish; }
check "proxy warns about its key log" grep -q "key log $PKL (--keylog): anyone with this file" "$PROXY_LOG"
pids=()
for i in $(seq 12); do
  (echo "hello $i" | timeout 15 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --trust "$T_TMP/srv.crt" \
    --timeout 5 --quiet >"$T_TMP/p$i.out" 2>&1) &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
echoed=$(cat "$T_TMP"/p*.out | grep -c '^hello ')
check "12 parallel connections through the proxy echoed ($echoed)" test "$echoed" = 12
check "proxy key log: whole NSS lines, the old one kept" well_formed "$PKL"
check "proxy key log: 1 + 12 x 5 lines ($(wc -l <"$PKL"))" test "$(wc -l <"$PKL")" = 61
check "proxy key log: 12 distinct client randoms with CLIENT_TRAFFIC_SECRET_0" \
  test "$(grep '^CLIENT_TRAFFIC_SECRET_0 ' "$PKL" | cut -d' ' -f2 | sort -u | wc -l)" = 12
stop_proxy proxy

# serve --http and ALPN: h2 refused with a sentence, exit 2.
timeout 5 "$CERTA" serve --http --alpn h2,http/1.1 --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" \
  >"$T_TMP/h2.out" 2>&1
rc=$?
check "serve --http --alpn h2,http/1.1 is refused with exit 2 ($rc)" \
  bash -c "[ $rc = 2 ] && grep -q 'speaks HTTP/1.1 only, so it cannot accept h2 in --alpn' '$T_TMP/h2.out'"
start_certa_serve serve-noalpn --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" || finish
curl -sS -k -v --max-time 5 "https://127.0.0.1:$SERVE_PORT/" -o /dev/null 2>"$T_TMP/noalpn.err"
check "echo mode without --alpn still selects no protocol" \
  bash -c "! grep -q 'ALPN: server accepted' '$T_TMP/noalpn.err'"
stop "$SERVE_PID"
finish
