#!/usr/bin/env bash
# Certificate selection by SNI: certa serve with three certificates (a
# default, a.example.test, *.wild.example.test) answers curl and openssl
# s_client with the certificate for the name they ask (TLS 1.3 and 1.2),
# the default for other names and for no SNI; --sni-strict refuses an
# unknown name with unrecognized_name; certa proxy does the same and
# reloads a rotated second pair. Loopback only.
. "$(dirname "$0")/lib.sh"
need openssl curl
need_certa

# named_leaf NAME CN SANS [SERIAL]: an ECDSA P-256 serverAuth leaf from the
# test CA.
named_leaf() {
  local name=$1 cn=$2 sans=$3 serial=${4:-}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_TMP/$name.key" \
    -out "$T_TMP/$name.csr" -subj "/CN=$cn" >"$T_TMP/$name.gen.log" 2>&1 || return 1
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=$sans" >"$T_TMP/$name.ext"
  local serial_opt=(-CAcreateserial)
  [ -n "$serial" ] && serial_opt=(-set_serial "$serial")
  openssl x509 -req -in "$T_TMP/$name.csr" -CA "$T_TMP/ca.crt" -CAkey "$T_TMP/ca.key" \
    "${serial_opt[@]}" -days 2 -extfile "$T_TMP/$name.ext" -out "$T_TMP/$name.crt" \
    >>"$T_TMP/$name.gen.log" 2>&1
}

gen_ca ca || not_ok "generate CA"
named_leaf dflt default.example.test "DNS:default.example.test,DNS:localhost,IP:127.0.0.1" &&
  named_leaf a a.example.test "DNS:a.example.test" &&
  named_leaf wild wild.example.test "DNS:*.wild.example.test" ||
  not_ok "generate leaves"
PAIRS=(--cert "$T_TMP/dflt.crt" --key "$T_TMP/dflt.key" --cert "$T_TMP/a.crt" --key "$T_TMP/a.key"
  --cert "$T_TMP/wild.crt" --key "$T_TMP/wild.key")

# subject_for PORT SNI [s_client options]: the subject CN of the certificate
# s_client gets ("none" without one). SNI "-" sends none.
subject_for() {
  local port=$1 sni=$2
  shift 2
  local snopt=(-servername "$sni")
  [ "$sni" = "-" ] && snopt=(-noservername)
  timeout 10 openssl s_client -connect "127.0.0.1:$port" "${snopt[@]}" "$@" </dev/null \
    2>"$T_TMP/sclient.err" | openssl x509 -noout -subject -nameopt multiline 2>/dev/null |
    sed -n 's/^ *commonName *= *//p' | grep . || echo none
}

# curl_sni NAME HOST [curl options]: GET https://HOST:PORT/ resolved to
# loopback, verifying against the test CA; verbose log in NAME.err.
curl_sni() {
  local name=$1 host=$2
  shift 2
  timeout 20 curl -sS -v --max-time 10 --cacert "$T_TMP/ca.crt" \
    --resolve "$host:$SERVE_PORT:127.0.0.1" "$@" "https://$host:$SERVE_PORT/" \
    >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
  CURL_RC=$?
}

# ---- certa serve, SNI selection -------------------------------------------

start_certa_serve sni --http --min-version 1.2 "${PAIRS[@]}" || finish
if grep -q "^listening on .*3 certificates chosen by SNI, default $T_TMP/dflt.crt" "$SERVE_LOG"; then
  ok "certa serve says it holds 3 certificates and which is the default"
else
  not_ok "listening line"
  show "$SERVE_LOG"
fi

curl_sni exact a.example.test
if [ "$CURL_RC" -eq 0 ] && grep -q "subject: CN=a.example.test" "$T_TMP/exact.err" &&
  grep -q "subjectAltName: host \"a.example.test\" matched" "$T_TMP/exact.err"; then
  ok "curl https://a.example.test (verifying): gets CN=a.example.test"
else
  not_ok "curl a.example.test (exit $CURL_RC)"
  show "$T_TMP/exact.err" "$SERVE_LOG"
fi
curl_sni wildcard x.wild.example.test
if [ "$CURL_RC" -eq 0 ] && grep -q "subject: CN=wild.example.test" "$T_TMP/wildcard.err"; then
  ok "curl https://x.wild.example.test (verifying): gets the *.wild.example.test certificate"
else
  not_ok "curl x.wild.example.test (exit $CURL_RC)"
  show "$T_TMP/wildcard.err"
fi
curl_sni deep x.y.wild.example.test
if [ "$CURL_RC" -ne 0 ] && grep -q "subject: CN=default.example.test" "$T_TMP/deep.err"; then
  ok "curl https://x.y.wild.example.test: two labels under the wildcard get the default (curl refuses it)"
else
  not_ok "curl x.y.wild.example.test (exit $CURL_RC)"
  show "$T_TMP/deep.err"
fi
curl_sni unknown unknown.example.test -k
if [ "$CURL_RC" -eq 0 ] && grep -q "subject: CN=default.example.test" "$T_TMP/unknown.err"; then
  ok "curl -k https://unknown.example.test: the default certificate"
else
  not_ok "curl -k unknown.example.test (exit $CURL_RC)"
  show "$T_TMP/unknown.err"
fi

s=$(subject_for "$SERVE_PORT" A.Example.Test)
check "s_client -servername A.Example.Test: $s (case does not matter)" test "$s" = a.example.test
s=$(subject_for "$SERVE_PORT" -)
check "s_client without SNI: $s (the default)" test "$s" = default.example.test
s=$(subject_for "$SERVE_PORT" a.example.test -tls1_2)
check "s_client -tls1_2 -servername a.example.test: $s" test "$s" = a.example.test
s=$(subject_for "$SERVE_PORT" q.wild.example.test -tls1_2)
check "s_client -tls1_2 -servername q.wild.example.test: $s" test "$s" = wild.example.test
s=$(subject_for "$SERVE_PORT" other.example.test -tls1_2)
check "s_client -tls1_2 -servername other.example.test: $s (the default)" test "$s" = default.example.test

if [[ $(conn_line "$SERVE_LOG" 1) == *" sni=a.example.test hrr=no resumed=no cert=a.example.test "* ]] &&
  [[ $(conn_line "$SERVE_LOG" 2) == *" sni=x.wild.example.test hrr=no resumed=no cert=*.wild.example.test "* ]] &&
  [[ $(conn_line "$SERVE_LOG" 4) == *" sni=unknown.example.test hrr=no resumed=no cert=default "* ]]; then
  ok "the connection lines say which certificate each name got (cert=NAME / default)"
else
  not_ok "connection lines"
  show "$SERVE_LOG"
fi
stop_certa_serve sni

# The trace names the choice.
start_certa_serve sni-trace --trace "${PAIRS[@]}" || finish
subject_for "$SERVE_PORT" z.wild.example.test >/dev/null
if wait_for "$SERVE_LOG" 'Certificate \(1 certificate, DNS \*\.wild\.example\.test matches SNI z\.wild\.example\.test\)' 5; then
  ok "certa serve --trace: '> Certificate (..., DNS *.wild.example.test matches SNI z.wild.example.test)'"
else
  not_ok "trace line for the chosen certificate"
  show "$SERVE_LOG"
fi
stop_certa_serve sni-trace

# ---- strict mode ----------------------------------------------------------

start_certa_serve sni-strict --sni-strict --min-version 1.2 "${PAIRS[@]}" || finish
s=$(subject_for "$SERVE_PORT" a.example.test)
check "--sni-strict: a known name is served ($s)" test "$s" = a.example.test
s=$(subject_for "$SERVE_PORT" -)
check "--sni-strict: no SNI gets the default ($s)" test "$s" = default.example.test
s=$(subject_for "$SERVE_PORT" nobody.example.test)
if [ "$s" = none ] && grep -q "unrecognized name.*SSL alert number 112" "$T_TMP/sclient.err"; then
  ok "--sni-strict: s_client -servername nobody.example.test gets the unrecognized_name alert (112)"
else
  not_ok "--sni-strict unknown name (got $s)"
  show "$T_TMP/sclient.err"
fi
s=$(subject_for "$SERVE_PORT" nobody.example.test -tls1_2)
if [ "$s" = none ] && grep -q "unrecognized name.*SSL alert number 112" "$T_TMP/sclient.err"; then
  ok "--sni-strict, TLS 1.2: unrecognized name as well"
else
  not_ok "--sni-strict TLS 1.2 unknown name (got $s)"
  show "$T_TMP/sclient.err"
fi
line=$(conn_line "$SERVE_LOG" 3)
if [[ $line == *"CERTA_E_UNRECOGNIZED_NAME, alert unrecognized_name: no certificate for 'nobody.example.test': the server has certificates for default.example.test, localhost, a.example.test, *.wild.example.test"* ]]; then
  ok "the refusal is logged with the names the server has"
else
  not_ok "strict refusal log line: $line"
fi
curl_sni strict-curl nobody.example.test -k
if [ "$CURL_RC" -ne 0 ] && grep -qi "unrecognized name" "$T_TMP/strict-curl.err"; then
  ok "--sni-strict: curl to an unknown name fails with unrecognized name"
else
  not_ok "curl to strict server (exit $CURL_RC)"
  show "$T_TMP/strict-curl.err"
fi
stop_certa_serve sni-strict

# Unpaired options are a usage error.
"$CERTA" serve --cert "$T_TMP/dflt.crt" --key "$T_TMP/dflt.key" --cert "$T_TMP/a.crt" \
  >"$T_TMP/unpaired.out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "2 --cert but 1 --key: give them in pairs" "$T_TMP/unpaired.out"; then
  ok "serve: a --cert without its --key is a usage error (exit 2)"
else
  not_ok "unpaired --cert (exit $rc)"
  show "$T_TMP/unpaired.out"
fi

# ---- certa proxy: selection, strict, and reload of a second pair -----------

start_echo_backend || not_ok "echo backend"
cp "$T_TMP/a.crt" "$T_TMP/live-a.crt"
cp "$T_TMP/a.key" "$T_TMP/live-a.key"
if start_proxy sni-proxy --backend "127.0.0.1:$ECHO_PORT" --cert "$T_TMP/dflt.crt" \
  --key "$T_TMP/dflt.key" --cert "$T_TMP/live-a.crt" --key "$T_TMP/live-a.key" --sni-strict; then
  s=$(subject_for "$PROXY_PORT" a.example.test)
  check "proxy: -servername a.example.test gets $s" test "$s" = a.example.test
  s=$(subject_for "$PROXY_PORT" -)
  check "proxy: no SNI gets $s (the default)" test "$s" = default.example.test
  s=$(subject_for "$PROXY_PORT" nobody.example.test)
  if [ "$s" = none ] && grep -q "unrecognized name.*SSL alert number 112" "$T_TMP/sclient.err"; then
    ok "proxy --sni-strict: unknown name refused with unrecognized name"
  else
    not_ok "proxy strict (got $s)"
    show "$T_TMP/sclient.err"
  fi
  if wait_for "$PROXY_LOG" 'sni=a\.example\.test cert=a\.example\.test' 5; then
    ok "proxy log line: sni=a.example.test cert=a.example.test"
  else
    not_ok "proxy log sni/cert fields"
    show "$PROXY_LOG"
  fi
  serial() {
    timeout 10 openssl s_client -connect "127.0.0.1:$PROXY_PORT" -servername "$1" </dev/null \
      2>/dev/null | openssl x509 -noout -serial 2>/dev/null
  }
  before_default=$(serial default.example.test)
  # Rotate the second pair only (by rename, as deployment tools do).
  named_leaf a2 a.example.test "DNS:a.example.test" 0x5A5A || not_ok "generate rotated leaf"
  cp "$T_TMP/a2.crt" "$T_TMP/live-a.crt.new" && cp "$T_TMP/a2.key" "$T_TMP/live-a.key.new" &&
    mv "$T_TMP/live-a.key.new" "$T_TMP/live-a.key" && mv "$T_TMP/live-a.crt.new" "$T_TMP/live-a.crt"
  got=""
  for _ in $(seq 50); do
    got=$(serial a.example.test)
    [ "$got" = "serial=5A5A" ] && break
    sleep 0.2
  done
  check "proxy: the rotated second pair is reloaded (a.example.test now $got)" test "$got" = "serial=5A5A"
  check "proxy: the default is still served after the reload" \
    test "$(serial default.example.test)" = "$before_default"
  stop_proxy sni-proxy
else
  not_ok "certa proxy with two pairs did not start"
  show "$PROXY_LOG"
fi

finish
