#!/usr/bin/env bash
# certa fingerprint against captures of real handshakes, and certa serve's
# ja4= against both: two captures on loopback at once (tshark on lo, pcapng
# with Ethernet framing; tcpdump on any, pcap with Linux cooked v2), bounded
# by duration and stopped by PID, of curl, openssl s_client, gnutls-cli and
# certa connect talking to certa serve, one HelloRetryRequest handshake and
# one ClientHello split over two records and two TCP segments
# (split_hello_relay.py). Then: one line per ClientHello with the right SNI
# and ALPN, JA3 equal to tshark's own tls.handshake.ja3 / ja3_full, ja4=
# in serve's log equal to the capture's, the link types and reassembly
# cases of fingerprint_pcap.py, --json, --port and the errors.
# (tshark 4.0 has no tls.handshake.ja4 field; JA4 is checked against the
# vectors and against certa serve.)
. "$(dirname "$0")/lib.sh"
need tshark tcpdump curl openssl gnutls-cli python3
need_certa
VECTORS=${CERTA_JA4_VECTORS:-$REPO_DIR/../shared/testdata/ja4/vectors.tsv}
gen_cert ecdsa srv

# ---- servers and captures ----
start_certa_serve fp --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --http \
  --log-ja3 || finish
MAIN_LOG=$SERVE_LOG MAIN_PID=$SERVE_PID MAIN_PORT=$SERVE_PORT
# Only secp384r1: a client with an x25519 share gets a HelloRetryRequest.
start_certa_serve hrr --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" --groups secp384r1 || finish
HRR_LOG=$SERVE_LOG HRR_PID=$SERVE_PID HRR_PORT=$SERVE_PORT
RELAY_PORT=$(free_port)
FILTER="tcp port $MAIN_PORT or tcp port $HRR_PORT or tcp port $RELAY_PORT"

bg "$T_TMP/tshark.log" tshark -i lo -F pcapng -w "$T_TMP/lo.pcapng" -a duration:45 -f "$FILTER"
TSHARK_PID=$BG_PID
bg "$T_TMP/tcpdump.log" tcpdump -i any -y LINUX_SLL2 --immediate-mode -U -c 5000 \
  -w "$T_TMP/any.pcap" "$FILTER"
TCPDUMP_PID=$BG_PID
wait_for "$T_TMP/tshark.log" 'Capturing on' 15 || { not_ok "tshark did not start"; show "$T_TMP/tshark.log"; }
wait_for "$T_TMP/tcpdump.log" 'listening on' 15 || { not_ok "tcpdump did not start"; show "$T_TMP/tcpdump.log"; }
sleep 0.5

# ---- clients: each names its own server (SNI) ----
REQ=$'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'
timeout 10 curl -sk --http1.1 "https://localhost:$MAIN_PORT/" -o /dev/null
printf '%s' "$REQ" | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$MAIN_PORT" \
  -servername openssl.test -alpn h2,http/1.1 >/dev/null 2>&1
printf '%s' "$REQ" | timeout 10 gnutls-cli --insecure --sni-hostname gnutls.test --alpn http/1.1 \
  -p "$MAIN_PORT" 127.0.0.1 >/dev/null 2>&1
printf '%s' "$REQ" | timeout 10 "$CERTA" connect "127.0.0.1:$MAIN_PORT" --insecure \
  --servername certa.test --alpn http/1.1 >/dev/null 2>&1
echo hello | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$HRR_PORT" \
  -servername hrr.test -groups X25519:P-384 >/dev/null 2>&1
# The split hello: certa connect -> relay -> certa serve.
bg "$T_TMP/relay.log" python3 "$LIB_DIR/split_hello_relay.py" "$RELAY_PORT" "$MAIN_PORT" \
  "$T_TMP/relay.report"
RELAY_PID=$BG_PID
wait_for "$T_TMP/relay.log" 'relay listening' 10 || not_ok "the split-hello relay did not start"
printf '%s' "$REQ" | timeout 10 "$CERTA" connect "127.0.0.1:$RELAY_PORT" --insecure \
  --servername split.test --alpn http/1.1 >/dev/null 2>&1
stop "$RELAY_PID"
wait_for "$MAIN_LOG" '^conn #6 ' 5
wait_for "$HRR_LOG" '^conn #1 ' 5
sleep 1 # the last packets reach both captures
stop "$TSHARK_PID"
stop "$TCPDUMP_PID"
stop_certa_serve fp-main
SERVE_PID=$HRR_PID SERVE_LOG=$HRR_LOG stop_certa_serve fp-hrr

# ---- (1) one line per ClientHello, SNI and ALPN ----
for cap in lo.pcapng any.pcap; do
  "$CERTA" fingerprint "$T_TMP/$cap" >"$T_TMP/$cap.out" 2>"$T_TMP/$cap.err"
  rc=$?
  # 6 connections to the main server (the split one twice: client->relay
  # and relay->server), 1 with two hellos to the HRR server.
  n_main=$(grep -c "server=127.0.0.1:$MAIN_PORT " "$T_TMP/$cap.out")
  n_relay=$(grep -c "server=127.0.0.1:$RELAY_PORT " "$T_TMP/$cap.out")
  n_hrr=$(grep -c "server=127.0.0.1:$HRR_PORT " "$T_TMP/$cap.out")
  if [ $rc -eq 0 ] && [ "$n_main" -eq 5 ] && [ "$n_relay" -eq 1 ] && [ "$n_hrr" -eq 2 ] &&
    [ "$(wc -l <"$T_TMP/$cap.out")" -eq 8 ]; then
    ok "$cap: one line per ClientHello (5 + 1 relayed to serve, 2 with a HelloRetryRequest)"
  else
    not_ok "$cap: rc=$rc, $n_main/$n_relay/$n_hrr lines for serve/relay/hrr (want 5/1/2)"
    show "$T_TMP/$cap.out" "$T_TMP/$cap.err" "$T_TMP/tshark.log" "$T_TMP/tcpdump.log"
  fi
  for want in "sni=localhost alpn=http/1.1" "sni=openssl.test alpn=h2,http/1.1" \
    "sni=gnutls.test alpn=http/1.1" "sni=certa.test alpn=http/1.1" "sni=split.test alpn=http/1.1"; do
    if grep -q "server=127.0.0.1:$MAIN_PORT .* $want ja4=" "$T_TMP/$cap.out"; then
      ok "$cap: $want"
    else
      not_ok "$cap: no ClientHello with $want"
    fi
  done
  if grep -q "hello=1 sni=hrr.test" "$T_TMP/$cap.out" && grep -q "hello=2 sni=hrr.test" "$T_TMP/$cap.out"; then
    ok "$cap: both ClientHellos of the HelloRetryRequest handshake (hello=1, hello=2)"
  else
    not_ok "$cap: the HelloRetryRequest handshake's two hellos"
  fi
done
if cmp -s <(cut -d' ' -f3- "$T_TMP/lo.pcapng.out" | sort) <(cut -d' ' -f3- "$T_TMP/any.pcap.out" | sort); then
  ok "the pcapng (Ethernet) and the pcap (Linux cooked v2) capture give the same lines"
else
  not_ok "the two captures differ"
  diff <(cut -d' ' -f3- "$T_TMP/lo.pcapng.out" | sort) <(cut -d' ' -f3- "$T_TMP/any.pcap.out" | sort) | head
fi

# ---- (2) JA3 against tshark's own ----
tshark -r "$T_TMP/lo.pcapng" -Y 'tls.handshake.type == 1' -T fields -E separator=' ' \
  -e tcp.srcport -e tls.handshake.ja3 -e tls.handshake.ja3_full 2>/dev/null | sort >"$T_TMP/tshark.ja3"
sed -n 's/.* client=[^ ]*:\([0-9]*\) .* ja3=\([^ ]*\) ja3_full=\([^ ]*\).*/\1 \2 \3/p' \
  "$T_TMP/lo.pcapng.out" | sort >"$T_TMP/certa.ja3"
if [ "$(wc -l <"$T_TMP/tshark.ja3")" -eq 8 ] && cmp -s "$T_TMP/tshark.ja3" "$T_TMP/certa.ja3"; then
  ok "JA3 and the JA3 string of all 8 ClientHellos equal tshark's tls.handshake.ja3 / ja3_full"
else
  not_ok "JA3 differs from tshark's"
  diff "$T_TMP/tshark.ja3" "$T_TMP/certa.ja3" | head -20
fi
if tshark -G fields 2>/dev/null | grep -q $'\ttls.handshake.ja4\t'; then
  tshark -r "$T_TMP/lo.pcapng" -Y 'tls.handshake.type == 1' -T fields -E separator=' ' \
    -e tcp.srcport -e tls.handshake.ja4 2>/dev/null | sort >"$T_TMP/tshark.ja4"
  sed -n 's/.* client=[^ ]*:\([0-9]*\) .* ja4=\([^ ]*\) .*/\1 \2/p' "$T_TMP/lo.pcapng.out" |
    sort >"$T_TMP/certa.ja4"
  check "JA4 equals tshark's tls.handshake.ja4" cmp -s "$T_TMP/tshark.ja4" "$T_TMP/certa.ja4"
else
  echo "# this tshark ($(tshark --version | head -n1)) has no tls.handshake.ja4 field"
fi

# ---- (3) certa serve's ja4= against the capture ----
# serve: "conn #N from 127.0.0.1:PORT: ...; ja4=X ja3=Y [ja4_retry=...]"
serve_fps() {
  sed -n 's/^conn #[0-9]* from 127\.0\.0\.1:\([0-9]*\): .*; ja4=\([^ ]*\) ja3=\([^ ]*\).*/\1 \2 \3/p' "$1"
}
capture_fps() { # hello=1 lines to server port $2
  sed -n "s/.* client=127\.0\.0\.1:\([0-9]*\) server=127\.0\.0\.1:$2 hello=1 .* ja4=\([^ ]*\) .* ja3=\([^ ]*\) .*/\1 \2 \3/p" "$1"
}
serve_fps "$MAIN_LOG" | sort >"$T_TMP/serve.fps"
capture_fps "$T_TMP/lo.pcapng.out" "$MAIN_PORT" | sort >"$T_TMP/capture.fps"
if [ "$(wc -l <"$T_TMP/serve.fps")" -eq 5 ] && cmp -s "$T_TMP/serve.fps" "$T_TMP/capture.fps"; then
  ok "ja4= and ja3= in certa serve's log equal the capture's, for each of the 5 connections"
else
  not_ok "certa serve's fingerprints differ from the capture's"
  diff "$T_TMP/serve.fps" "$T_TMP/capture.fps"
  show "$MAIN_LOG"
fi
hrr_line=$(grep '^conn #1 ' "$HRR_LOG")
hrr2=$(sed -n "s/.* server=127\.0\.0\.1:$HRR_PORT hello=2 .* ja4=\([^ ]*\) .*/\1/p" "$T_TMP/lo.pcapng.out")
if [[ $hrr_line == *"hrr=yes"* ]] && [ -n "$hrr2" ] && [[ $hrr_line == *"ja4_retry=$hrr2"* ]]; then
  ok "HelloRetryRequest: serve's ja4_retry= is the second hello's JA4 in the capture"
else
  not_ok "HelloRetryRequest: ja4_retry= in '$hrr_line' vs capture '$hrr2'"
fi

# ---- (4) the ClientHello split over two records and two segments ----
split_size=$(awk '/clienthello/ {print $2}' "$T_TMP/relay.report" 2>/dev/null)
segs=$(tshark -r "$T_TMP/lo.pcapng" -Y "tcp.dstport == $MAIN_PORT && tcp.len > 0 && tls.record.content_type == 22 && !tls.handshake.type == 1" \
  -T fields -e frame.number 2>/dev/null | wc -l)
ja4_client_leg=$(sed -n "s/.* server=127\.0\.0\.1:$RELAY_PORT hello=1 .* ja4=\([^ ]*\) .*/\1/p" "$T_TMP/lo.pcapng.out")
ja4_split_leg=$(sed -n "s/.* sni=split.test .* ja4=\([^ ]*\) .*/\1/p" <(grep "server=127.0.0.1:$MAIN_PORT " "$T_TMP/lo.pcapng.out"))
if [ -n "$split_size" ] && [ "$split_size" -gt 0 ] && [ "$segs" -ge 1 ] && [ -n "$ja4_split_leg" ] &&
  [ "$ja4_split_leg" = "$ja4_client_leg" ]; then
  ok "a $split_size-byte ClientHello cut into two records and segments is found, same JA4 as unsplit"
else
  not_ok "split hello: size=$split_size first-part segments=$segs ja4 '$ja4_split_leg' vs '$ja4_client_leg'"
fi

# ---- (5) link types and hard reassembly, against the vectors ----
python3 "$LIB_DIR/fingerprint_pcap.py" "$T_TMP" "$VECTORS" chrome_2020_pre_alps >"$T_TMP/synthetic.list"
while read -r file ja4 ja3 ja3_full; do
  out=$("$CERTA" fingerprint "$file" 2>/dev/null)
  rc=$?
  if [ $rc -eq 0 ] && [ "$(printf '%s\n' "$out" | grep -c .)" -eq 1 ] && [[ $out == *" ja4=$ja4 "* ]] &&
    [[ $out == *" ja3=$ja3 ja3_full=$ja3_full"* ]]; then
    ok "$(basename "$file"): the vector's JA4 and JA3 (3 records, 4 segments out of order, wrap)"
  else
    not_ok "$(basename "$file"): got '$out'"
  fi
done <"$T_TMP/synthetic.list"

# ---- (6) --json, --port ----
if "$CERTA" fingerprint --json "$T_TMP/any.pcap" >"$T_TMP/json.out" 2>/dev/null &&
  python3 - "$T_TMP/json.out" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
keys = {"frame", "time", "client", "server", "hello", "sni", "alpn", "ja4", "ja4_r", "ja3", "ja3_full"}
assert len(objs) == 8 and all(keys <= set(o) for o in objs), objs
assert any(o["sni"] == "gnutls.test" and o["alpn"] == "http/1.1" for o in objs)
PY
then ok "--json: 8 objects, one per line, with every field"; else not_ok "--json output"; show "$T_TMP/json.out"; fi
n=$("$CERTA" fingerprint --port "$HRR_PORT" "$T_TMP/any.pcap" 2>/dev/null | wc -l)
if [ "$n" -eq 2 ]; then ok "--port $HRR_PORT: only that server's 2 hellos"; else not_ok "--port: $n lines"; fi

# ---- (7) errors ----
"$CERTA" fingerprint "$T_TMP/missing.pcap" >/dev/null 2>"$T_TMP/e1"
rc=$?
if [ $rc -eq 1 ] && grep -q "cannot read .*missing.pcap" "$T_TMP/e1"; then ok "a missing file: exit 1, said"; else not_ok "missing file: rc=$rc"; show "$T_TMP/e1"; fi
head -c 100 /dev/urandom >"$T_TMP/junk.pcap"
"$CERTA" fingerprint "$T_TMP/junk.pcap" >/dev/null 2>"$T_TMP/e2"
rc=$?
if [ $rc -eq 1 ] && grep -q "cannot read" "$T_TMP/e2"; then ok "a file that is no capture: exit 1, said"; else not_ok "junk file: rc=$rc"; show "$T_TMP/e2"; fi
python3 -c "import struct,sys; open(sys.argv[1],'wb').write(struct.pack('<IHHiIII',0xA1B2C3D4,2,4,0,0,65535,105))" "$T_TMP/wifi.pcap"
"$CERTA" fingerprint "$T_TMP/wifi.pcap" >/dev/null 2>"$T_TMP/e3"
rc=$?
if [ $rc -eq 1 ] && grep -q "link type 105 .*not one certa fingerprint reads" "$T_TMP/e3"; then ok "802.11 link type: exit 1, named"; else not_ok "link type: rc=$rc"; show "$T_TMP/e3"; fi
head -c 2000 "$T_TMP/any.pcap" >"$T_TMP/cut.pcap"
"$CERTA" fingerprint "$T_TMP/cut.pcap" >/dev/null 2>"$T_TMP/e4"
rc=$?
if [ $rc -eq 1 ] && grep -q "truncated" "$T_TMP/e4"; then ok "a capture cut mid-packet: exit 1, said"; else not_ok "cut file: rc=$rc"; show "$T_TMP/e4"; fi
"$CERTA" fingerprint >/dev/null 2>&1
check "no file: usage error (exit 2)" [ $? -eq 2 ]
finish
