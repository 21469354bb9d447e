#!/usr/bin/env bash
# `certa ca ocsp`, the CA's own OCSP responder, with real peers: `openssl
# ocsp` as the client (POST with a nonce, GET, unknown serial, another CA's
# certificate, malformed requests, a delegated signer); `certa serve
# --ocsp-fetch` and `certa proxy --ocsp-fetch` stapling its answers to
# `certa connect` (must-staple accepted, a revocation seen at the next
# fetch, a rotated certificate fetched for anew); `certa verify --ocsp`
# offline on the answers it saved.
. "$(dirname "$0")/lib.sh"
need openssl curl
need_certa

D=$T_TMP
C="$D/ca"
RPORT=$(free_port)
URL="http://127.0.0.1:$RPORT/"
if "$CERTA" ca init "$C" --name "certa responder test CA" >"$D/init.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/web" --dns localhost --ip 127.0.0.1 --server \
    --ocsp-url "$URL" --must-staple >"$D/web.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/web2" --dns localhost --ip 127.0.0.1 --server \
    --ocsp-url "$URL" >"$D/web2.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/app" --spiffe spiffe://test.example/app --client \
    --ocsp-url "$URL" >"$D/app.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/rsp" --ocsp-signing --ttl 2h >"$D/rsp.log" 2>&1 &&
  "$CERTA" ca init "$D/other" --name "another CA" >"$D/other.log" 2>&1 &&
  "$CERTA" ca issue "$D/other" --out "$D/stranger" --dns localhost >>"$D/other.log" 2>&1; then
  ok "a CA with a must-staple server identity, a client identity and a delegated responder"
else
  not_ok "set up the CA"
  show "$D/init.log" "$D/web.log" "$D/web2.log" "$D/app.log" "$D/rsp.log" "$D/other.log"
  finish
fi
for n in web web2; do cat "$D/$n.crt" "$C/ca.crt" >"$D/$n.chain"; done
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
# wait_count FILE PATTERN N [SECONDS]: waits until PATTERN matches N lines of FILE.
wait_count() {
  local i
  for i in $(seq $((${4:-10} * 10))); do
    [ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
    sleep 0.1
  done
  return 1
}
WEB_SERIAL=$(serial_of "$D/web.crt")

# start_responder NAME ARGS...: certa ca ocsp on RPORT; sets RESP_PID, RESP_LOG.
start_responder() {
  local name=$1
  shift
  RESP_LOG="$D/$name.log"
  bg "$RESP_LOG" "$CERTA" ca ocsp "$C" --port "$RPORT" "$@"
  RESP_PID=$BG_PID
  wait_for "$RESP_LOG" '^OCSP responder for ' 10
}
stop_responder() {
  stop "$RESP_PID"
  if [ "$STOP_RC" -eq 0 ] && grep -q '^ocsp: stopped after [0-9]* answer' "$RESP_LOG" &&
    ! grep -Eq 'Sanitizer|runtime error:' "$RESP_LOG"; then
    ok "$1: the responder stopped cleanly on SIGTERM"
  else
    not_ok "$1: responder exit status $STOP_RC or sanitizer report"
    show "$RESP_LOG"
  fi
}
# ask NAME CERT [ISSUER] [openssl ocsp options...]: openssl ocsp as the client.
ask() {
  local name=$1 cert=$2 issuer=${3:-$C/ca.crt}
  shift 3 2>/dev/null || shift $#
  timeout 20 openssl ocsp -issuer "$issuer" -cert "$cert" -url "$URL" -CAfile "$C/ca.crt" \
    -respout "$D/$name.der" "$@" >"$D/$name.out" 2>&1
}

# ---- openssl ocsp against the responder signing with the CA key ----
if start_responder resp-ca; then
  ok "certa ca ocsp starts on $URL"
  if ask good "$D/web.crt" && grep -q "Response verify OK" "$D/good.out" &&
    grep -q "web.crt: good" "$D/good.out" && ! grep -q "WARNING: no nonce" "$D/good.out" &&
    grep -q "Next Update" "$D/good.out"; then
    ok "openssl ocsp (POST, nonce): good, signed by the CA, nonce echoed, nextUpdate set"
  else
    not_ok "openssl ocsp good answer"
    show "$D/good.out" "$RESP_LOG"
  fi
  # GET /base64 (RFC 6960 §A.1), url-encoded
  if openssl ocsp -issuer "$C/ca.crt" -cert "$D/app.crt" -no_nonce -reqout "$D/get.req" \
    >/dev/null 2>&1; then
    enc=$(base64 -w0 "$D/get.req" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
    if timeout 10 curl -sf -o "$D/get.der" "$URL$enc" &&
      openssl ocsp -respin "$D/get.der" -issuer "$C/ca.crt" -cert "$D/app.crt" \
        -CAfile "$C/ca.crt" >"$D/get.out" 2>&1 && grep -q "app.crt: good" "$D/get.out"; then
      ok "HTTP GET with the url-encoded base64 request: good"
    else
      not_ok "GET request"
      show "$D/get.out" "$RESP_LOG"
    fi
  else
    not_ok "openssl ocsp -reqout"
  fi
  if ask unknown-serial "$D/web.crt" "$C/ca.crt" -serial 0x7777 &&
    grep -q "0x7777: unknown" "$D/unknown-serial.out" &&
    grep -q "serial 7777: unknown (not issued by this CA)" "$RESP_LOG"; then
    ok "a serial the CA never issued: unknown (and the log says why)"
  else
    not_ok "unknown serial"
    show "$D/unknown-serial.out" "$RESP_LOG"
  fi
  # (openssl ocsp's exit status on a responder error varies by version: the text decides)
  ask stranger "$D/stranger.crt" "$D/other/ca.crt"
  if grep -q "unauthorized (6)" "$D/stranger.out" &&
    grep -q "of another CA: answered unauthorized" "$RESP_LOG"; then
    ok "a certificate of another CA: unauthorized"
  else
    not_ok "another CA's certificate"
    show "$D/stranger.out" "$RESP_LOG"
  fi
  if timeout 10 curl -s -o "$D/junk.der" -H 'Content-Type: application/ocsp-request' \
    --data-binary 'not an OCSP request' "$URL" &&
    openssl ocsp -respin "$D/junk.der" -resp_text >"$D/junk.out" 2>&1;
    grep -q "malformedrequest (1)" "$D/junk.out" && grep -q "a malformed request" "$RESP_LOG"; then
    ok "a malformed request: malformedRequest"
  else
    not_ok "malformed request"
    show "$D/junk.out" "$RESP_LOG"
  fi
  if timeout 10 curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary x "$URL" \
    >"$D/put.code" && grep -q 405 "$D/put.code"; then
    ok "a PUT: HTTP 405"
  else
    not_ok "PUT"
    show "$D/put.code"
  fi
  # a slow client is dropped after its deadline, and the responder keeps answering
  exec 7<>"/dev/tcp/127.0.0.1/$RPORT" && printf 'POST / HTTP/1.1\r\n' >&7
  if wait_for "$RESP_LOG" 'no complete HTTP request within 5 s' 8 && ask after-slow "$D/web.crt" &&
    grep -q "web.crt: good" "$D/after-slow.out"; then
    ok "a client that never finishes its request is dropped after 5 s; answers go on"
  else
    not_ok "slow client"
    show "$RESP_LOG"
  fi
  exec 7>&-

  # ---- certa serve --ocsp-fetch: the must-staple leaf's staple comes from certa ca ocsp ----
  if start_certa_serve serve-fetch --cert "$D/web.chain" --key "$D/web.key" --ocsp-fetch; then
    if grep -q "ocsp: fetched from $URL .* is good" "$SERVE_LOG" &&
      echo | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
        --trust "$C/ca.crt" --timeout 10 >"$D/serve-good.out" 2>"$D/serve-good.err" &&
      grep -q "OCSP staple: .* is good, per 'CN=certa responder test CA'" "$D/serve-good.err"; then
      ok "serve --ocsp-fetch staples certa ca ocsp's answer; connect accepts the must-staple leaf"
    else
      not_ok "serve --ocsp-fetch from certa ca ocsp"
      show "$SERVE_LOG" "$D/serve-good.err" "$RESP_LOG"
    fi
    if echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -servername localhost \
      -status -CAfile "$C/ca.crt" >"$D/sclient.out" 2>&1 &&
      grep -q "Cert Status: good" "$D/sclient.out"; then
      ok "openssl s_client -status reads the staple as good"
    else
      not_ok "openssl s_client -status"
      show "$D/sclient.out"
    fi
    stop_certa_serve serve-fetch
  fi

  # ---- certa proxy --ocsp-fetch, and a rotation fetched for anew ----
  cp "$D/web2.chain" "$D/px.chain"
  cp "$D/web2.key" "$D/px.key"
  if start_echo_backend &&
    start_proxy proxy-ocsp --backend "127.0.0.1:$ECHO_PORT" --cert "$D/px.chain" \
      --key "$D/px.key" --ocsp-fetch; then
    if wait_for "$PROXY_LOG" "ocsp: fetched from $URL .* is good" 10 &&
      echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
        --trust "$C/ca.crt" --timeout 10 >"$D/px-good.out" 2>"$D/px-good.err" &&
      grep -q hello "$D/px-good.out" && grep -q "OCSP staple: .* is good" "$D/px-good.err"; then
      ok "proxy --ocsp-fetch staples a good answer for its certificate"
    else
      not_ok "proxy --ocsp-fetch"
      show "$PROXY_LOG" "$D/px-good.err"
    fi
    W2=$(serial_of "$D/web2.crt")
    # rotate to the must-staple identity: the proxy must fetch for the new leaf
    cp "$D/web.key" "$D/px.key.new" && cp "$D/web.chain" "$D/px.chain.new" &&
      mv "$D/px.key.new" "$D/px.key" && mv "$D/px.chain.new" "$D/px.chain"
    if wait_for "$PROXY_LOG" 'reloaded the config' 10 &&
      wait_count "$PROXY_LOG" "ocsp: fetched from $URL .* is good" 2 10 &&
      echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$PROXY_PORT" --servername localhost \
        --trust "$C/ca.crt" --timeout 10 >"$D/px-rot.out" 2>"$D/px-rot.err" &&
      grep -q hello "$D/px-rot.out" &&
      grep -q "OCSP staple: .*(serial ${WEB_SERIAL:0:16}.*) is good" "$D/px-rot.err"; then
      ok "after a certificate rotation the proxy fetches for the new leaf (must-staple accepted)"
    else
      not_ok "proxy rotation with --ocsp-fetch (old serial $W2, new $WEB_SERIAL)"
      show "$PROXY_LOG" "$D/px-rot.err" "$RESP_LOG"
    fi
    stop_proxy proxy-ocsp
  else
    not_ok "echo backend or proxy did not start"
    show "$PROXY_LOG"
  fi

  # ---- a revocation shows at the next request ----
  "$CERTA" ca revoke "$C" "$WEB_SERIAL" --reason keyCompromise >"$D/revoke.log" 2>&1
  if ask revoked "$D/web.crt" && grep -q "web.crt: revoked" "$D/revoked.out" &&
    grep -q "Reason: keyCompromise" "$D/revoked.out" &&
    grep -q "re-read the CA's records: .* 1 revoked" "$RESP_LOG"; then
    ok "after certa ca revoke, the next answer is revoked (keyCompromise)"
  else
    not_ok "revoked answer"
    show "$D/revoke.log" "$D/revoked.out" "$RESP_LOG"
  fi
  if start_certa_serve serve-revoked --cert "$D/web.chain" --key "$D/web.key" --ocsp-fetch; then
    if ! echo | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
      --trust "$C/ca.crt" --timeout 10 >"$D/serve-rev.out" 2>"$D/serve-rev.err" &&
      grep -q "was revoked on .* (keyCompromise), per the OCSP response" "$D/serve-rev.err"; then
      ok "a revoked server certificate, stapled as revoked: connect refuses it and says why"
    else
      not_ok "connect with a revoked staple"
      show "$D/serve-rev.err" "$SERVE_LOG"
    fi
    stop_certa_serve serve-revoked
  fi
  stop_responder resp-ca
else
  not_ok "certa ca ocsp did not start"
  show "$RESP_LOG"
fi

# ---- the delegated responder (--signer) ----
if start_responder resp-delegated --signer "$D/rsp" --ttl 10m; then
  if grep -q "signing with: CN=certa OCSP responder (delegated, OCSPSigning)" "$RESP_LOG" &&
    ask delegated "$D/app.crt" && grep -q "Response verify OK" "$D/delegated.out" &&
    grep -q "app.crt: good" "$D/delegated.out"; then
    ok "--signer: answers signed by the delegated responder verify with openssl"
  else
    not_ok "delegated responder"
    show "$D/delegated.out" "$RESP_LOG"
  fi
  if "$CERTA" verify --trust "$C/ca.crt" --purpose client --spiffe spiffe://test.example/app \
    --ocsp "$D/delegated.der" --revocation require "$D/app.crt" >"$D/v-good.out" 2>&1 &&
    grep -q "ocsp: .* is good, per the delegated responder of 'CN=certa responder test CA'" \
      "$D/v-good.out"; then
    ok "certa verify --ocsp --revocation require: the delegated answer vouches for the leaf"
  else
    not_ok "verify --ocsp with the delegated answer"
    show "$D/v-good.out"
  fi
  stop_responder resp-delegated
fi
if ! "$CERTA" ca ocsp "$C" --port 0 --signer "$D/app" >"$D/bad-signer.out" 2>&1 &&
  grep -q "lacks extKeyUsage OCSPSigning" "$D/bad-signer.out"; then
  ok "--signer with a certificate without OCSPSigning is refused, with the fix"
else
  not_ok "bad --signer"
  show "$D/bad-signer.out"
fi
if ! "$CERTA" ca ocsp "$C" --port 0 --signer "$D/stranger" >"$D/foreign-signer.out" 2>&1 &&
  grep -q "was not issued by the CA in" "$D/foreign-signer.out"; then
  ok "--signer with another CA's certificate is refused"
else
  not_ok "foreign --signer"
  show "$D/foreign-signer.out"
fi
if ! "$CERTA" ca ocsp "$C" >"$D/noport.out" 2>&1 && grep -q -- "--port N" "$D/noport.out"; then
  ok "no --port: a usage error naming it"
else
  not_ok "missing --port"
  show "$D/noport.out"
fi

# ---- certa verify --ocsp, offline ----
if ! "$CERTA" verify --trust "$C/ca.crt" --host localhost --ocsp "$D/revoked.der" "$D/web.crt" \
  >"$D/v-rev.out" 2>&1 && grep -q "verification failed: .* was revoked on" "$D/v-rev.out" &&
  ! grep -q "^verified:" "$D/v-rev.out"; then
  ok "verify --ocsp with a revoked answer: refused, and no path printed as verified"
else
  not_ok "verify --ocsp revoked"
  show "$D/v-rev.out"
fi
if ! "$CERTA" verify --trust "$C/ca.crt" --host localhost --ocsp "$D/good.der" "$D/web2.crt" \
  >"$D/v-wrong.out" 2>&1 && grep -q "holds no status for" "$D/v-wrong.out"; then
  ok "verify --ocsp with another certificate's answer: refused (CertID)"
else
  not_ok "verify --ocsp wrong CertID"
  show "$D/v-wrong.out"
fi
later=$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)
if "$CERTA" verify --trust "$C/ca.crt" --host localhost --ocsp "$D/after-slow.der" --at "$later" \
  "$D/web.crt" >"$D/v-stale.out" 2>&1 && grep -q "ocsp: warning: .* is stale" "$D/v-stale.out" &&
  ! "$CERTA" verify --trust "$C/ca.crt" --host localhost --ocsp "$D/after-slow.der" \
    --at "$later" --revocation require "$D/web.crt" >"$D/v-stale-req.out" 2>&1 &&
  grep -q "revocation status required: the leaf .* is stale" "$D/v-stale-req.out"; then
  ok "a stale answer: a warning under prefer, refused under require"
else
  not_ok "verify --ocsp stale"
  show "$D/v-stale.out" "$D/v-stale-req.out"
fi
if ! "$CERTA" proxy --listen 127.0.0.1:0 --upstream 127.0.0.1:1 --ocsp-fetch >"$D/bridge.out" 2>&1 &&
  grep -q "need terminate mode" "$D/bridge.out"; then
  ok "proxy --ocsp-fetch in bridge mode: a usage error that says why"
else
  not_ok "proxy bridge --ocsp-fetch"
  show "$D/bridge.out"
fi

finish
