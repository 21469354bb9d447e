#!/usr/bin/env bash
# --crl-fetch: CRLs fetched over HTTP from the cRLDistributionPoints that
# certificates name (certa ca issue --crl-url), served by a plain HTTP
# server (Python's http.server) started here. certa serve and certa proxy
# learn the URL from their own chain at start, or from a client whose
# status was unknown, and refuse a revoked client through the CRL they
# fetched; certa connect fetches after the handshake, before sending
# anything, and refuses a revoked server; a responder down or answering
# junk is logged, never fatal at start.
. "$(dirname "$0")/lib.sh"
need openssl python3
need_certa

D=$T_TMP
C="$D/ca"
HPORT=$(free_port)
WEBROOT="$D/www"
mkdir -p "$WEBROOT"
URL="http://127.0.0.1:$HPORT/ca.crl"
issue() { "$CERTA" ca issue "$C" "$@" >>"$D/issue.log" 2>&1; }
if "$CERTA" ca init "$C" --name "certa crl-fetch test CA" >"$D/init.log" 2>&1 &&
  issue --out "$D/web" --dns localhost --ip 127.0.0.1 --server --crl-url "$URL" &&
  issue --out "$D/web-nodp" --dns localhost --ip 127.0.0.1 --server &&
  issue --out "$D/web-revoked" --dns localhost --ip 127.0.0.1 --server --crl-url "$URL" &&
  issue --out "$D/good" --spiffe spiffe://test.example/good --client --crl-url "$URL" &&
  issue --out "$D/bad" --spiffe spiffe://test.example/bad --client --crl-url "$URL"; then
  ok "a CA whose certificates name $URL as their CRL distribution point"
else
  not_ok "set up the CA"
  show "$D/init.log" "$D/issue.log"
  finish
fi
for n in web web-nodp web-revoked; do cat "$D/$n.crt" "$C/ca.crt" >"$D/$n.chain"; done
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
"$CERTA" ca revoke "$C" "$(serial_of "$D/bad.crt")" --reason keyCompromise >>"$D/issue.log" 2>&1
"$CERTA" ca revoke "$C" "$(serial_of "$D/web-revoked.crt")" --reason superseded >>"$D/issue.log" 2>&1
"$CERTA" ca crl "$C" --ttl 2h >>"$D/issue.log" 2>&1 && cp "$C/ca.crl" "$WEBROOT/ca.crl"
if openssl x509 -in "$D/web.crt" -noout -ext crlDistributionPoints 2>/dev/null | grep -q "$URL" &&
  openssl crl -in "$WEBROOT/ca.crl" -noout -text 2>/dev/null | grep -q "Key Compromise"; then
  ok "openssl reads the distribution point certa ca wrote, and the CRL lists the revoked client"
else
  not_ok "distribution point / CRL"
  show "$D/issue.log"
fi

start_http() {
  bg "$D/http.log" python3 -u -m http.server "$HPORT" --bind 127.0.0.1 --directory "$WEBROOT"
  HTTP_PID=$BG_PID
  wait_for "$D/http.log" "Serving HTTP" 10
}
client() { # NAME PORT CERT [connect options...]
  local name=$1 port=$2 cert=$3
  shift 3
  echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$port" --servername localhost \
    --trust "$C/ca.crt" --cert "$D/$cert.crt" --key "$D/$cert.key" --timeout 10 "$@" \
    >"$D/$name.out" 2>"$D/$name.err"
}

if ! start_http; then
  not_ok "python3 http.server did not start"
  show "$D/http.log"
  finish
fi

# ---- serve: the URL from its own chain, fetched at start ----
if start_certa_serve serve-own --cert "$D/web.chain" --key "$D/web.key" --client-ca "$C/ca.crt" \
  --crl-fetch; then
  if wait_for "$SERVE_LOG" "crl: fetched $URL \\([0-9]+ bytes" 10 &&
    grep -q "will fetch $URL (the cRLDistributionPoints of 'CN=localhost')" "$SERVE_LOG"; then
    ok "serve --crl-fetch fetches the CRL its own certificate names, at start"
  else
    not_ok "serve fetch at start"
    show "$SERVE_LOG"
  fi
  client own-good "$SERVE_PORT" good
  if grep -q hello "$D/own-good.out" && ! grep -q "revocation:.*WARNING" "$D/own-good.err"; then
    ok "a client the fetched CRL does not list: accepted, with no warning"
  else
    not_ok "good client through the fetched CRL"
    show "$D/own-good.err" "$SERVE_LOG"
  fi
  client own-bad "$SERVE_PORT" bad
  if grep -q "alert certificate_revoked" "$D/own-bad.err" &&
    wait_for "$SERVE_LOG" "CERTA_E_CERT_REVOKED.*keyCompromise\\), per the CRL from 'CN=certa crl-fetch test CA'" 5; then
    ok "the revoked client is refused through the CRL serve fetched (certificate_revoked)"
  else
    not_ok "revoked client through the fetched CRL"
    show "$D/own-bad.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-own
fi

# ---- serve: the URL learned from a client whose status was unknown ----
if start_certa_serve serve-learn --cert "$D/web-nodp.chain" --key "$D/web-nodp.key" \
  --client-ca "$C/ca.crt" --crl-fetch --revocation require; then
  if grep -q "URLs will be learned from peers" "$SERVE_LOG"; then
    ok "no distribution point in serve's own chain: it says URLs come from peers"
  else
    not_ok "serve learn notice"
    show "$SERVE_LOG"
  fi
  client learn-first "$SERVE_PORT" bad
  if grep -q "alert certificate_unknown" "$D/learn-first.err" &&
    wait_for "$SERVE_LOG" "will fetch $URL \\(the cRLDistributionPoints of 'CN=bad'\\)" 5 &&
    wait_for "$SERVE_LOG" "crl: fetched $URL" 10; then
    ok "require: the first client of unknown status is refused, and its CRL URL is fetched"
  else
    not_ok "learn from the first client"
    show "$D/learn-first.err" "$SERVE_LOG"
  fi
  client learn-bad "$SERVE_PORT" bad
  client learn-good "$SERVE_PORT" good
  if grep -q "alert certificate_revoked" "$D/learn-bad.err" && grep -q hello "$D/learn-good.out"; then
    ok "then: the revoked client is refused as revoked, the good one accepted under require"
  else
    not_ok "after learning"
    show "$D/learn-bad.err" "$D/learn-good.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-learn
fi

# ---- proxy ----
if start_echo_backend && start_proxy proxy-fetch --backend "127.0.0.1:$ECHO_PORT" \
  --cert "$D/web.chain" --key "$D/web.key" --client-ca "$C/ca.crt" --crl-fetch; then
  wait_for "$PROXY_LOG" "crl: fetched $URL" 10
  client px-bad "$PROXY_PORT" bad
  client px-good "$PROXY_PORT" good
  if grep -q "alert certificate_revoked" "$D/px-bad.err" && ! grep -q hello "$D/px-bad.out" &&
    grep -q hello "$D/px-good.out"; then
    ok "proxy --crl-fetch: the revoked client is refused, the good one reaches the backend"
  else
    not_ok "proxy --crl-fetch"
    show "$D/px-bad.err" "$D/px-good.err" "$PROXY_LOG"
  fi
  stop_proxy proxy-fetch
  stop "$ECHO_PID"
else
  not_ok "echo backend or proxy did not start"
  show "$PROXY_LOG"
fi

# ---- connect: fetched after the handshake, before any data ----
if start_certa_serve serve-revoked --cert "$D/web-revoked.chain" --key "$D/web-revoked.key"; then
  if ! echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$C/ca.crt" --crl-fetch --timeout 10 >"$D/c-rev.out" 2>"$D/c-rev.err" &&
    grep -q "refused after the handshake (--crl-fetch): .*was revoked on .*superseded" \
      "$D/c-rev.err" && ! grep -q hello "$D/c-rev.out" &&
    wait_for "$SERVE_LOG" "in=0 out=0 bytes" 5; then
    ok "connect --crl-fetch: a revoked server is refused after the handshake; nothing is sent"
  else
    not_ok "connect --crl-fetch revoked server"
    show "$D/c-rev.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-revoked
fi
if start_certa_serve serve-web --cert "$D/web.chain" --key "$D/web.key"; then
  if echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$C/ca.crt" --crl-fetch --revocation require --timeout 10 \
    >"$D/c-good.out" 2>"$D/c-good.err" && grep -q hello "$D/c-good.out" &&
    grep -q "crl: fetched $URL" "$D/c-good.err" && grep -q "crl-fetch: .*1 CRL fetched" "$D/c-good.err"; then
    ok "connect --crl-fetch --revocation require: the fetched CRL establishes the status"
  else
    not_ok "connect --crl-fetch good server"
    show "$D/c-good.err"
  fi
  stop "$HTTP_PID"
  if ! echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$C/ca.crt" --crl-fetch --revocation require --timeout 10 \
    >"$D/c-down.out" 2>"$D/c-down.err" && grep -q "fetch from $URL failed" "$D/c-down.err" &&
    grep -q "revocation is required" "$D/c-down.err" && ! grep -q hello "$D/c-down.out"; then
    ok "the CRL server down under require: the fetch failure is said, the server refused"
  else
    not_ok "connect --crl-fetch with the CRL server down"
    show "$D/c-down.err"
  fi
  if echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$C/ca.crt" --crl-fetch --timeout 10 >"$D/c-down-pref.out" 2>"$D/c-down-pref.err" &&
    grep -q hello "$D/c-down-pref.out"; then
    ok "the CRL server down under prefer: connected, with the failure logged"
  else
    not_ok "connect --crl-fetch prefer with the CRL server down"
    show "$D/c-down-pref.err"
  fi
  stop_certa_serve serve-web
fi

# ---- a responder down or answering junk at start ----
if start_certa_serve serve-down --cert "$D/web.chain" --key "$D/web.key" --client-ca "$C/ca.crt" \
  --crl-fetch; then
  if grep -q "crl: fetch from $URL failed: .*no CRL for .* retry in 30 s" "$SERVE_LOG"; then
    ok "the CRL server down at start: one log line, serve runs and retries"
  else
    not_ok "serve with the CRL server down"
    show "$SERVE_LOG"
  fi
  stop_certa_serve serve-down
fi
echo "this is not a CRL" >"$WEBROOT/ca.crl"
if start_http && start_certa_serve serve-junk --cert "$D/web.chain" --key "$D/web.key" \
  --client-ca "$C/ca.crt" --crl-fetch; then
  if grep -q "$URL did not answer with a CRL" "$SERVE_LOG"; then
    ok "junk at the distribution point: said so, not used"
  else
    not_ok "junk CRL"
    show "$SERVE_LOG"
  fi
  stop_certa_serve serve-junk
fi
stop "$HTTP_PID"

finish
