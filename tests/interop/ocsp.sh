#!/usr/bin/env bash
# OCSP stapling with real peers: `openssl ocsp -index -port` as the responder
# `certa serve --ocsp-fetch` fetches from; `openssl s_client -status` and
# `curl --cert-status` against `certa serve --ocsp FILE`; `certa connect`
# against `openssl s_server -status_file` in TLS 1.3 and 1.2 (good, revoked,
# delegated responder); a must-staple certificate without a staple refused.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

D=$T_TMP
RPORT=$(free_port)
# CA, a leaf naming the responder (AIA), a must-staple leaf, a delegated responder.
gen_ca ca || not_ok "generate CA"
mk_leaf() { # NAME SERIAL EXTRA-EXT-LINES...
  local name=$1 serial=$2
  shift 2
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$name.key" \
    -out "$D/$name.csr" -subj "/CN=localhost" >"$D/$name.gen.log" 2>&1 || return 1
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1" "$@" >"$D/$name.ext"
  openssl x509 -req -in "$D/$name.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -set_serial "$serial" \
    -days 2 -extfile "$D/$name.ext" -out "$D/$name.crt" >>"$D/$name.gen.log" 2>&1 || return 1
  cat "$D/$name.crt" "$D/ca.crt" >"$D/$name.chain"
}
mk_leaf leaf 0x51 "extendedKeyUsage=serverAuth" \
  "authorityInfoAccess=OCSP;URI:http://127.0.0.1:$RPORT/" || not_ok "generate leaf"
mk_leaf staple 0x52 "extendedKeyUsage=serverAuth" "tlsfeature=status_request" ||
  not_ok "generate must-staple leaf"
mk_leaf rsp 0x53 "extendedKeyUsage=OCSPSigning" || not_ok "generate responder"
exp=$(date -u -d '+2 days' +%y%m%d%H%M%SZ)
rev=$(date -u -d '-1 hour' +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t51\tunknown\t/CN=localhost\nV\t%s\t\t52\tunknown\t/CN=localhost\n' "$exp" "$exp" \
  >"$D/index.good"
printf 'R\t%s\t%s,keyCompromise\t51\tunknown\t/CN=localhost\n' "$exp" "$rev" >"$D/index.revoked"
# Every certificate here is CN=localhost: tell openssl's index not to insist on unique subjects.
for i in index.good index.revoked; do echo "unique_subject = no" >"$D/$i.attr"; done
# respond NAME INDEX CERT [SIGNER]: a DER response made by openssl ocsp.
respond() {
  local signer=${4:-ca}
  openssl ocsp -index "$D/$2" -rsigner "$D/$signer.crt" -rkey "$D/$signer.key" -CA "$D/ca.crt" \
    -issuer "$D/ca.crt" -cert "$D/$3.crt" -ndays 1 -respout "$D/$1.der" -noverify \
    >"$D/$1.resp.log" 2>&1
}
respond good index.good leaf || not_ok "openssl ocsp: good response"
respond revoked index.revoked leaf || not_ok "openssl ocsp: revoked response"
respond delegated index.good leaf rsp || not_ok "openssl ocsp: delegated response"
respond staple-good index.good staple || not_ok "openssl ocsp: response for the must-staple leaf"

# connect NAME ARGS...: certa connect to $SRV_PORT; stderr in $D/NAME.err.
connect() {
  local name=$1
  shift
  echo | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --servername localhost \
    --trust "$D/ca.crt" --timeout 10 "$@" >"$D/$name.out" 2>"$D/$name.err"
}

# ---- certa connect against openssl s_server -status_file ----
for v in 1.3 1.2; do
  flag=-tls1_3
  [ $v = 1.2 ] && flag=-tls1_2
  vargs=()
  [ $v = 1.2 ] && vargs=(--max-version 1.2)
  start_openssl_server "s_server-good-$v" $flag -cert "$D/leaf.crt" -key "$D/leaf.key" -www \
    -status_file "$D/good.der" || continue
  if connect good-$v "${vargs[@]}" && grep -q "OCSP staple: .* is good, per 'CN=certa test CA ca'" \
    "$D/good-$v.err"; then
    ok "TLS $v: certa connect validates s_server's good staple (trace names the responder)"
  else
    not_ok "TLS $v: good staple"
    show "$D/good-$v.err"
  fi
  [ $v = 1.2 ] && grep -q "< CertificateStatus" "$D/good-$v.err" &&
    ok "TLS 1.2: the staple came in a CertificateStatus message"
  stop "$SRV_PID"
  start_openssl_server "s_server-revoked-$v" $flag -cert "$D/leaf.crt" -key "$D/leaf.key" -www \
    -status_file "$D/revoked.der" || continue
  if ! connect revoked-$v "${vargs[@]}" &&
    grep -q "was revoked on .*(keyCompromise), per the OCSP response" "$D/revoked-$v.err" &&
    grep -q "CERTA_E_CERT_REVOKED, alert certificate_revoked" "$D/revoked-$v.err"; then
    ok "TLS $v: a revoked staple is refused with its time, reason and certificate_revoked"
  else
    not_ok "TLS $v: revoked staple"
    show "$D/revoked-$v.err"
  fi
  stop "$SRV_PID"
done
start_openssl_server s_server-delegated -tls1_3 -cert "$D/leaf.crt" -key "$D/leaf.key" -www \
  -status_file "$D/delegated.der" &&
  if connect delegated && grep -q "per the delegated responder of" "$D/delegated.err"; then
    ok "a response signed by a delegated responder (id-kp-OCSPSigning) is accepted"
  else
    not_ok "delegated responder"
    show "$D/delegated.err"
  fi
stop "$SRV_PID"

# ---- must-staple ----
start_openssl_server s_server-nostaple -tls1_3 -cert "$D/staple.crt" -key "$D/staple.key" -www &&
  if ! connect nostaple && grep -q "RFC 7633 must-staple) and none was sent" "$D/nostaple.err" &&
    grep -q "alert bad_certificate_status_response" "$D/nostaple.err"; then
    ok "must-staple certificate without a staple: refused (bad_certificate_status_response)"
  else
    not_ok "must-staple without a staple"
    show "$D/nostaple.err"
  fi
stop "$SRV_PID"
if start_certa_serve serve-mustgood --cert "$D/staple.chain" --key "$D/staple.key" \
  --ocsp "$D/staple-good.der"; then
  SRV_PORT=$SERVE_PORT
  if connect mustgood && grep -q "OCSP staple: .* is good" "$D/mustgood.err"; then
    ok "must-staple certificate with certa serve's staple: accepted"
  else
    not_ok "must-staple with a staple"
    show "$D/mustgood.err"
  fi
  stop_certa_serve serve-mustgood
fi

# ---- openssl s_client -status and curl --cert-status against certa serve --ocsp ----
if start_certa_serve serve-file --cert "$D/leaf.chain" --key "$D/leaf.key" --ocsp "$D/good.der" \
  --min-version 1.2 --http; then
  for v in 1.3 1.2; do
    flag=-tls1_3
    [ $v = 1.2 ] && flag=-tls1_2
    echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" $flag -status \
      -CAfile "$D/ca.crt" -servername localhost >"$D/s_client-$v.out" 2>&1
    if grep -q "OCSP Response Status: successful" "$D/s_client-$v.out" &&
      grep -q "Cert Status: good" "$D/s_client-$v.out"; then
      ok "TLS $v: openssl s_client -status sees certa serve's staple (good)"
    else
      not_ok "TLS $v: s_client -status"
      show "$D/s_client-$v.out"
    fi
  done
  echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -tls1_3 \
    -CAfile "$D/ca.crt" >"$D/s_client-noreq.out" 2>&1
  grep -q "OCSP response: no response sent" "$D/s_client-noreq.out" ||
    ! grep -q "OCSP Response Status" "$D/s_client-noreq.out" &&
    ok "a client that does not ask (no -status) gets no staple"
  if command -v curl >/dev/null; then
    if timeout 20 curl -sS --max-time 10 --cert-status --cacert "$D/ca.crt" \
      "https://localhost:$SERVE_PORT/" --resolve "localhost:$SERVE_PORT:127.0.0.1" \
      >"$D/curl.out" 2>"$D/curl.err"; then
      ok "curl --cert-status accepts certa serve's staple"
    else
      not_ok "curl --cert-status"
      show "$D/curl.err"
    fi
  else
    skip "curl is not installed"
  fi
  stop_certa_serve serve-file
fi

# ---- certa serve --ocsp-fetch from openssl ocsp -port ----
start_ocsp_responder() { # INDEX
  bg "$D/responder.log" openssl ocsp -index "$D/$1" -port "$RPORT" -rsigner "$D/ca.crt" \
    -rkey "$D/ca.key" -CA "$D/ca.crt" -nmin 60
  OCSPD_PID=$BG_PID
  wait_for "$D/responder.log" 'waiting for OCSP client connections' 10
}
if start_ocsp_responder index.good; then
  if start_certa_serve serve-fetch --cert "$D/leaf.chain" --key "$D/leaf.key" --ocsp-fetch; then
    SRV_PORT=$SERVE_PORT
    grep -q "ocsp: fetched from http://127.0.0.1:$RPORT/ .* is good" "$SERVE_LOG" &&
      ok "certa serve --ocsp-fetch logs the fetch from openssl ocsp -port"
    if connect fetched && grep -q "OCSP staple: .* is good" "$D/fetched.err"; then
      ok "certa connect validates the staple certa serve fetched"
    else
      not_ok "fetched staple"
      show "$D/fetched.err" "$SERVE_LOG"
    fi
    stop_certa_serve serve-fetch
  fi
  stop "$OCSPD_PID"
else
  not_ok "openssl ocsp -port did not start"
  show "$D/responder.log"
fi
# a responder that is down: logged, nothing stapled, the server still serves
if start_certa_serve serve-down --cert "$D/leaf.chain" --key "$D/leaf.key" --ocsp-fetch; then
  SRV_PORT=$SERVE_PORT
  grep -q "ocsp: fetch from http://127.0.0.1:$RPORT/ failed: .*nothing to staple, retry" \
    "$SERVE_LOG" && ok "--ocsp-fetch with the responder down: one log line, retried later"
  connect down && grep -q "OCSP staple: none" "$D/down.err" &&
    ok "... and the server still serves, without a staple"
  stop_certa_serve serve-down
fi

# ---- the CA side: certa ca issue --ocsp-url --must-staple, a delegated responder
# certificate from certa ca issue --ocsp-signing signing openssl ocsp's answers ----
RPORT2=$(free_port)
C="$D/certa-ca"
if "$CERTA" ca init "$C" --name "certa OCSP test CA" >"$D/cinit.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/web" --dns localhost --ip 127.0.0.1 --server \
    --ocsp-url "http://127.0.0.1:$RPORT2/" --must-staple >"$D/cweb.log" 2>&1 &&
  "$CERTA" ca issue "$C" --out "$D/cresp" --ocsp-signing --ttl 2h >"$D/cresp.log" 2>&1; then
  ok "certa ca issue --ocsp-url --must-staple and --ocsp-signing"
else
  not_ok "certa ca issue with OCSP options"
  show "$D/cinit.log" "$D/cweb.log" "$D/cresp.log"
fi
if openssl x509 -in "$D/web.crt" -noout -text >"$D/web.txt" 2>&1 &&
  grep -q "OCSP - URI:http://127.0.0.1:$RPORT2/" "$D/web.txt" &&
  grep -A1 "TLS Feature" "$D/web.txt" | grep -q status_request; then
  ok "openssl reads the AIA OCSP URL and the TLS Feature status_request certa ca wrote"
else
  not_ok "AIA/TLS Feature in the issued certificate"
  show "$D/web.txt"
fi
if openssl x509 -in "$D/cresp.crt" -noout -text >"$D/cresp.txt" 2>&1 &&
  grep -A1 "Extended Key Usage" "$D/cresp.txt" | grep -q "OCSP Signing" &&
  grep -q "OCSP No Check" "$D/cresp.txt" &&
  openssl verify -CAfile "$C/ca.crt" -purpose ocsphelper "$D/cresp.crt" >>"$D/cresp.txt" 2>&1; then
  ok "the responder certificate has OCSPSigning and ocsp-nocheck, and openssl verifies it"
else
  not_ok "responder certificate"
  show "$D/cresp.txt"
fi
wserial=$(awk '/serial:/ {print $2}' "$D/cweb.log")
wexp=$(date -u -d "$(openssl x509 -in "$D/web.crt" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
printf 'V\t%s\t\t%s\tunknown\t/CN=localhost\n' "$wexp" "$wserial" >"$D/cindex"
echo "unique_subject = no" >"$D/cindex.attr"
cat "$D/web.crt" "$C/ca.crt" >"$D/web.chain"
bg "$D/cresponder.log" openssl ocsp -index "$D/cindex" -port "$RPORT2" -rsigner "$D/cresp.crt" \
  -rkey "$D/cresp.key" -CA "$C/ca.crt" -nmin 30
CRESP_PID=$BG_PID
if wait_for "$D/cresponder.log" 'waiting for OCSP client connections' 10 &&
  start_certa_serve serve-ca --cert "$D/web.chain" --key "$D/web.key" --ocsp-fetch; then
  SRV_PORT=$SERVE_PORT
  if echo | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --servername localhost \
    --trust "$C/ca.crt" --timeout 10 >"$D/ca-fetched.out" 2>"$D/ca-fetched.err" &&
    grep -q "OCSP staple: .* is good, per the delegated responder of" "$D/ca-fetched.err"; then
    ok "must-staple certificate from certa ca, stapled by serve --ocsp-fetch, delegated responder: accepted"
  else
    not_ok "certa ca must-staple + delegated responder"
    show "$D/ca-fetched.err" "$SERVE_LOG" "$D/cresponder.log"
  fi
  stop_certa_serve serve-ca
else
  not_ok "responder with the certa-issued delegated certificate, or serve, did not start"
  show "$D/cresponder.log"
fi
stop "$CRESP_PID"
if start_certa_serve serve-ca-nostaple --cert "$D/web.chain" --key "$D/web.key"; then
  SRV_PORT=$SERVE_PORT
  if ! echo | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --servername localhost \
    --trust "$C/ca.crt" --timeout 10 >"$D/ca-nostaple.out" 2>"$D/ca-nostaple.err" &&
    grep -q "must-staple" "$D/ca-nostaple.err"; then
    ok "the same certificate served without a staple: refused (must-staple)"
  else
    not_ok "certa ca must-staple without a staple"
    show "$D/ca-nostaple.err"
  fi
  stop_certa_serve serve-ca-nostaple
fi

finish
