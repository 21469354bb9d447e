#!/usr/bin/env bash
# certa proxy and client fingerprints: ja4=/ja3= in the close line (JSON
# here), --deny-ja4 refusing curl's JA4 and admitting openssl's (with an
# access_denied alert, before the server's flight), --allow-ja4 @FILE the
# reverse, a JA4_a prefix, --ja4-log-only admitting both and logging, the
# second ClientHello after a HelloRetryRequest judged too, the refusals in
# --metrics, and malformed lists refused at start (exit 2).
. "$(dirname "$0")/lib.sh"
need curl openssl python3
need_certa
gen_cert ecdsa srv
start_echo_backend || { not_ok "echo backend"; finish; }
P=(--backend "127.0.0.1:$ECHO_PORT" --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key")

# The clients: curl (rc and stderr) and openssl s_client (does "hi" come back?
# -brief: closes with close_notify at the end of its input).
run_curl() { timeout 10 curl -sSk --max-time 3 "https://localhost:$PROXY_PORT/" -o /dev/null 2>&1; }
run_openssl() {
  (echo hi; sleep 1) | timeout 10 openssl s_client -brief -connect "127.0.0.1:$PROXY_PORT" "$@" 2>&1
}
# json_field LOG ID FIELD: FIELD of the close line of connection ID.
json_field() {
  python3 - "$@" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if o.get("event") == "close" and str(o.get("id")) == sys.argv[2]:
        print(o.get(sys.argv[3], ""))
PY
}
scrape() { timeout 5 curl -s "http://127.0.0.1:$1/metrics"; }

# ---- learn each client's JA4 through a proxy that refuses nothing ----
start_proxy learn "${P[@]}" --log-format json --log-ja3 || { not_ok "proxy"; finish; }
run_curl >/dev/null
wait_for "$PROXY_LOG" '"id":1,' 5
run_openssl >/dev/null
wait_for "$PROXY_LOG" '"id":2,' 5
stop_proxy learn
CURL_JA4=$(json_field "$PROXY_LOG" 1 ja4)
OSSL_JA4=$(json_field "$PROXY_LOG" 2 ja4)
CURL_JA3=$(json_field "$PROXY_LOG" 1 ja3)
if [[ $CURL_JA4 =~ ^t1[23][di][0-9]{4}[0-9a-z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$ ]] &&
  [[ $OSSL_JA4 =~ ^t1[23] ]] && [[ $CURL_JA3 =~ ^[0-9a-f]{32}$ ]] && [ "$CURL_JA4" != "$OSSL_JA4" ]; then
  ok "JSON close lines carry ja4 (curl $CURL_JA4, openssl $OSSL_JA4) and ja3 (--log-ja3)"
else
  not_ok "ja4/ja3 in the JSON log: curl '$CURL_JA4' '$CURL_JA3', openssl '$OSSL_JA4'"
  show "$PROXY_LOG"
  finish
fi

# ---- --deny-ja4: curl refused, openssl admitted ----
MPORT=$(free_port)
start_proxy deny "${P[@]}" --deny-ja4 "$CURL_JA4" --metrics "127.0.0.1:$MPORT" || not_ok "proxy"
out=$(run_curl)
if [[ $out == *"access denied"* ]]; then ok "--deny-ja4: curl is refused with alert access_denied"; else not_ok "--deny-ja4: curl said '$out'"; fi
if run_openssl | grep -qx hi; then ok "--deny-ja4: openssl s_client is admitted"; else not_ok "--deny-ja4: openssl refused"; fi
wait_for "$PROXY_LOG" 'id=2 ' 5
if grep -q "reason=\"ja4 refused\" detail=\"client 127.0.0.1:[0-9]* refused by its JA4 $CURL_JA4, which is on --deny-ja4\"" "$PROXY_LOG" &&
  grep "id=1 " "$PROXY_LOG" | grep -q "bytes_out=0" && grep "id=2 " "$PROXY_LOG" | grep -q "ja4=$OSSL_JA4 .*reason=clean"; then
  ok "--deny-ja4: the close lines say why (ja4 refused, the sentence) and who got in"
else
  not_ok "--deny-ja4 log"
  show "$PROXY_LOG"
fi
scrape "$MPORT" >"$T_TMP/m1"
if grep -qx 'certa_proxy_refused_total{error="ja4"} 1' "$T_TMP/m1" &&
  grep -qx 'certa_proxy_ja4_would_refuse_total 0' "$T_TMP/m1"; then
  ok "metrics: certa_proxy_refused_total{error=\"ja4\"} 1"
else
  not_ok "metrics after one JA4 refusal"
  grep -E 'refused|ja4' "$T_TMP/m1"
fi
stop_proxy deny

# ---- --allow-ja4 @FILE: the reverse, curl only ----
printf '# curl only\n\n%s   # its JA4\n' "$CURL_JA4" >"$T_TMP/allow.list"
start_proxy allow "${P[@]}" --allow-ja4 "@$T_TMP/allow.list" || not_ok "proxy"
out=$(run_curl)
o2=$(run_openssl)
wait_for "$PROXY_LOG" 'id=2 ' 5
# curl gets through the handshake (the echo backend's answer is no HTTP, so
# curl itself complains afterwards): resumed= is only in a finished one.
if [[ $out != *"access denied"* ]] && grep "id=1 " "$PROXY_LOG" | grep -q "resumed=false .*ja4=$CURL_JA4 .*bytes_in=[1-9]"; then
  ok "--allow-ja4 @FILE: curl is admitted"
else
  not_ok "--allow-ja4: curl said '$out'"
  show "$PROXY_LOG"
fi
if [[ $o2 == *"access denied"* ]] && [[ $o2 != *hi* ]]; then ok "--allow-ja4 @FILE: openssl is refused"; else not_ok "--allow-ja4: openssl got in"; fi
if grep -q "refused by its JA4 $OSSL_JA4, which is not on --allow-ja4" "$PROXY_LOG"; then
  ok "--allow-ja4: 'is not on --allow-ja4'"
else
  not_ok "--allow-ja4 log"
  show "$PROXY_LOG"
fi
stop_proxy allow

# ---- a JA4_a prefix ----
if [ "${CURL_JA4:0:10}" != "${OSSL_JA4:0:10}" ]; then
  start_proxy prefix "${P[@]}" --deny-ja4 "t13d0000h2,${CURL_JA4:0:10}" || not_ok "proxy"
  out=$(run_curl)
  if [[ $out == *"access denied"* ]] && run_openssl | grep -qx hi; then
    ok "--deny-ja4 ${CURL_JA4:0:10} (JA4_a): refuses curl, admits openssl"
  else
    not_ok "JA4_a prefix: curl said '$out'"
  fi
  stop_proxy prefix
else
  not_ok "curl and openssl share the JA4_a ${CURL_JA4:0:10}: the prefix test needs them to differ"
fi

# ---- --ja4-log-only: both admitted, both logged ----
MPORT=$(free_port)
start_proxy logonly "${P[@]}" --deny-ja4 "$CURL_JA4,$OSSL_JA4" --ja4-log-only \
  --metrics "127.0.0.1:$MPORT" || not_ok "proxy"
out=$(run_curl)
o2=$(run_openssl)
wait_for "$PROXY_LOG" 'id=2 ' 5
n=$(grep -c "client 127.0.0.1:[0-9]* would be refused by its JA4 .*, which is on --deny-ja4" "$PROXY_LOG")
if [[ $out != *"access denied"* ]] && [[ $o2 == *hi* ]] && [ "$n" -eq 2 ] &&
  ! grep -q 'reason="ja4 refused"' "$PROXY_LOG"; then
  ok "--ja4-log-only: both admitted, two 'would be refused' lines"
else
  not_ok "--ja4-log-only: curl '$out', $n would-refuse lines"
  show "$PROXY_LOG"
fi
scrape "$MPORT" >"$T_TMP/m2"
if grep -qx 'certa_proxy_ja4_would_refuse_total 2' "$T_TMP/m2" && ! grep -q 'error="ja4"' "$T_TMP/m2"; then
  ok "metrics: certa_proxy_ja4_would_refuse_total 2, no refusal"
else
  not_ok "metrics under --ja4-log-only"
  grep -E 'refused|ja4' "$T_TMP/m2"
fi
stop_proxy logonly

# ---- a HelloRetryRequest: the second ClientHello is judged too ----
HRR_ARGS=(-groups X25519:P-384)
start_proxy hrr-learn "${P[@]}" --groups secp384r1 --log-format json || not_ok "proxy"
run_openssl "${HRR_ARGS[@]}" >/dev/null
wait_for "$PROXY_LOG" '"id":1,' 5
stop_proxy hrr-learn
HRR1=$(json_field "$PROXY_LOG" 1 ja4)
HRR2=$(json_field "$PROXY_LOG" 1 ja4_retry)
if [ -n "$HRR1" ] && [ -n "$HRR2" ]; then
  ok "HelloRetryRequest: ja4 ($HRR1) and ja4_retry ($HRR2) both logged"
else
  not_ok "HelloRetryRequest: ja4 '$HRR1' ja4_retry '$HRR2'"
  show "$PROXY_LOG"
fi
if [ -n "$HRR2" ] && [ "$HRR1" != "$HRR2" ]; then
  # The first hello is allowed, only the second is not.
  start_proxy hrr "${P[@]}" --groups secp384r1 --allow-ja4 "$HRR1" || not_ok "proxy"
  out=$(run_openssl "${HRR_ARGS[@]}")
  wait_for "$PROXY_LOG" 'id=1 ' 5
  if [[ $out == *"access denied"* ]] && grep -q "refused by its second ClientHello's JA4 $HRR2" "$PROXY_LOG"; then
    ok "HelloRetryRequest: a second ClientHello off --allow-ja4 is refused"
  else
    not_ok "HelloRetryRequest refusal: '$out'"
    show "$PROXY_LOG"
  fi
  stop_proxy hrr
fi
# Whatever the JA4s, each hello is judged: under --ja4-log-only a list
# holding the first hello's JA4 logs both, the second as such.
start_proxy hrr-log "${P[@]}" --groups secp384r1 --deny-ja4 "$HRR1,${HRR2:-$HRR1}" --ja4-log-only ||
  not_ok "proxy"
out=$(run_openssl "${HRR_ARGS[@]}")
wait_for "$PROXY_LOG" 'id=1 ' 5
if [[ $out == *hi* ]] && grep -q "would be refused by its JA4 $HRR1," "$PROXY_LOG" &&
  grep -q "would be refused by its second ClientHello's JA4 $HRR2," "$PROXY_LOG"; then
  ok "HelloRetryRequest: both ClientHellos are judged (two would-refuse lines, the second named)"
else
  not_ok "HelloRetryRequest: the second hello was not judged"
  show "$PROXY_LOG"
fi
stop_proxy hrr-log
start_proxy hrr-deny "${P[@]}" --groups secp384r1 --deny-ja4 "$HRR1" --log-format json || not_ok "proxy"
out=$(run_openssl "${HRR_ARGS[@]}")
wait_for "$PROXY_LOG" '"id":1,' 5
if [[ $out == *"access denied"* ]] && [ "$(json_field "$PROXY_LOG" 1 reason)" = "ja4 refused" ]; then
  ok "HelloRetryRequest server: a denied JA4 is refused (alert access_denied)"
else
  not_ok "HelloRetryRequest refusal: '$out'"
  show "$PROXY_LOG"
fi
stop_proxy hrr-deny

# ---- lists checked at start ----
expect_usage() { # NAME SENTENCE ARGS...
  local name=$1 want=$2
  shift 2
  timeout 10 "$CERTA" proxy --listen 127.0.0.1:0 "$@" >"$T_TMP/u.out" 2>&1
  local rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$want" "$T_TMP/u.out"; then ok "$name: exit 2, '$want'"; else not_ok "$name: rc=$rc"; show "$T_TMP/u.out"; fi
}
expect_usage "malformed JA4" "'t13d1516h2_8daaf615277' is not a JA4 fingerprint" "${P[@]}" \
  --deny-ja4 "$CURL_JA4,t13d1516h2_8daaf615277"
expect_usage "non-hex part" "12 hexadecimal digits" "${P[@]}" --allow-ja4 t13d1516h2_8daaf615277x_02713d6af862
printf '%s\nnot-a-ja4\n' "$OSSL_JA4" >"$T_TMP/bad.list"
expect_usage "@FILE with a bad line" "bad.list line 2" "${P[@]}" --deny-ja4 "@$T_TMP/bad.list"
expect_usage "@FILE missing" "cannot read the file" "${P[@]}" --deny-ja4 "@$T_TMP/nope.list"
expect_usage "bridge mode" "need terminate mode" --upstream 127.0.0.1:1 --deny-ja4 "$CURL_JA4"
expect_usage "log-only alone" "give one of them" "${P[@]}" --ja4-log-only
finish
