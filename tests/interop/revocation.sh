#!/usr/bin/env bash
# Revocation in handshakes, end to end with certa ca's own CRLs: a revoked
# client certificate refused by certa serve (TLS 1.3 and 1.2) and by certa
# proxy; a revoked server certificate refused by certa connect; a revoked
# intermediate; a stale CRL noted under prefer and refused under require;
# require without a CRL; the proxy picking up a new CRL without a restart.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

D=$T_TMP
C="$D/ca"
"$CERTA" ca init "$C" --name "certa revocation test CA" >"$D/init.log" 2>&1 || not_ok "ca init"
issue() { # NAME ARGS...: prints the serial
  local name=$1
  shift
  "$CERTA" ca issue "$C" --out "$D/$name" "$@" >"$D/$name.issue.log" 2>&1 &&
    awk '/serial:/ {print $2}' "$D/$name.issue.log"
}
issue web --dns localhost --ip 127.0.0.1 --server >/dev/null || not_ok "issue server"
good_serial=$(issue good --spiffe spiffe://test.example/good --client) || not_ok "issue good client"
bad_serial=$(issue bad --spiffe spiffe://test.example/bad --client) || not_ok "issue bad client"
rweb_serial=$(issue rweb --dns localhost --ip 127.0.0.1 --server) || not_ok "issue revoked server"
"$CERTA" ca crl "$C" --ttl 1h >"$D/crl0.log" 2>&1 && cp "$C/ca.crl" "$D/empty.crl" ||
  not_ok "empty CRL"
"$CERTA" ca revoke "$C" "$bad_serial" --reason keyCompromise >"$D/rev1.log" 2>&1 &&
  "$CERTA" ca revoke "$C" "$rweb_serial" --reason superseded >>"$D/rev1.log" 2>&1 &&
  "$CERTA" ca crl "$C" --ttl 1h >"$D/crl1.log" 2>&1 && cp "$C/ca.crl" "$D/revoked.crl" ||
  not_ok "revoke and CRL"
# A CRL that is out of date: two seconds of validity, then wait them out.
"$CERTA" ca crl "$C" --ttl 2s >"$D/crl2.log" 2>&1 && cp "$C/ca.crl" "$D/stale.crl" ||
  not_ok "short CRL"
stale_at=$(($(date +%s) + 3))

# client NAME PORT CERT ARGS...: certa connect with a client certificate.
client() {
  local name=$1 port=$2 cert=$3
  shift 3
  echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$port" --servername localhost \
    --trust "$C/ca.crt" --cert "$D/$cert.crt" --key "$D/$cert.key" --timeout 10 "$@" \
    >"$D/$name.out" 2>"$D/$name.err"
}

# ---- certa serve refuses a revoked client certificate ----
for v in 1.3 1.2; do
  if start_certa_serve "serve-$v" --cert "$D/web.crt" --key "$D/web.key" --client-ca "$C/ca.crt" \
    --crl "$D/revoked.crl" --min-version "$v" --max-version "$v"; then
    if client "good-$v" "$SERVE_PORT" good --min-version "$v" --max-version "$v"; then
      ok "TLS $v: serve --crl lets a client whose certificate is not on the CRL in"
    else
      not_ok "TLS $v: good client refused"
      show "$D/good-$v.err" "$SERVE_LOG"
    fi
    client "bad-$v" "$SERVE_PORT" bad --min-version "$v" --max-version "$v"
    if wait_for "$SERVE_LOG" "CERTA_E_CERT_REVOKED" 5 &&
      grep -q "serial ${bad_serial:0:16}.*was revoked on .*keyCompromise), per the CRL from 'CN=certa revocation test CA' issued" "$SERVE_LOG" &&
      grep -q "alert certificate_revoked" "$D/bad-$v.err"; then
      ok "TLS $v: a revoked client certificate is refused: serial, reason and CRL in the log, certificate_revoked to the client"
    else
      not_ok "TLS $v: revoked client certificate"
      show "$D/bad-$v.err" "$SERVE_LOG"
    fi
    stop_certa_serve "serve-$v"
  fi
done

# ---- certa connect refuses a revoked server certificate ----
if start_certa_serve serve-rweb --cert "$D/rweb.crt" --key "$D/rweb.key"; then
  echo | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$C/ca.crt" --crl "$D/revoked.crl" --timeout 10 >"$D/rweb.out" 2>"$D/rweb.err"
  if grep -q "server's certificate was refused: leaf 'CN=localhost' (serial ${rweb_serial:0:16}.*superseded" "$D/rweb.err" &&
    grep -q CERTA_E_CERT_REVOKED "$D/rweb.err"; then
    ok "connect --crl refuses a revoked server certificate, naming serial and reason"
  else
    not_ok "connect: revoked server certificate"
    show "$D/rweb.err"
  fi
  if echo | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$C/ca.crt" --timeout 10 >"$D/rweb-nocrl.out" 2>"$D/rweb-nocrl.err"; then
    ok "... and without --crl the same server is accepted (nothing to know it by)"
  else
    not_ok "connect without --crl"
    show "$D/rweb-nocrl.err"
  fi
  stop_certa_serve serve-rweb
fi

# ---- a revoked intermediate ----
# root -> intermediate (revoked by the root's CRL) -> leaf, made with openssl.
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/root.key" \
  -out "$D/root.crt" -subj "/CN=rev root" -days 2 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  >"$D/pki.log" 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/int.key" \
  -out "$D/int.csr" -subj "/CN=rev intermediate" >>"$D/pki.log" 2>&1
printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" >"$D/int.ext"
openssl x509 -req -in "$D/int.csr" -CA "$D/root.crt" -CAkey "$D/root.key" -set_serial 0x77 -days 2 \
  -extfile "$D/int.ext" -out "$D/int.crt" >>"$D/pki.log" 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/ileaf.key" \
  -out "$D/ileaf.csr" -subj "/CN=localhost" >>"$D/pki.log" 2>&1
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost" >"$D/ileaf.ext"
openssl x509 -req -in "$D/ileaf.csr" -CA "$D/int.crt" -CAkey "$D/int.key" -set_serial 0x78 -days 2 \
  -extfile "$D/ileaf.ext" -out "$D/ileaf.crt" >>"$D/pki.log" 2>&1
cat "$D/ileaf.crt" "$D/int.crt" >"$D/ileaf.chain"
mkdir -p "$D/rootdb"
: >"$D/rootdb/index"
echo 01 >"$D/rootdb/crlnumber"
cat >"$D/rootdb/ca.cnf" <<EOF
[ca]
default_ca = d
[d]
database = $D/rootdb/index
crlnumber = $D/rootdb/crlnumber
default_md = sha256
default_crl_days = 1
crl_extensions = crlext
[crlext]
authorityKeyIdentifier = keyid
EOF
openssl ca -config "$D/rootdb/ca.cnf" -keyfile "$D/root.key" -cert "$D/root.crt" \
  -revoke "$D/int.crt" -crl_reason keyCompromise >>"$D/pki.log" 2>&1
openssl ca -config "$D/rootdb/ca.cnf" -keyfile "$D/root.key" -cert "$D/root.crt" -gencrl \
  -out "$D/root.crl" >>"$D/pki.log" 2>&1 || not_ok "openssl ca -gencrl"
if start_certa_serve serve-int --cert "$D/ileaf.chain" --key "$D/ileaf.key"; then
  echo | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$D/root.crt" --crl "$D/root.crl" --timeout 10 >"$D/int.out" 2>"$D/int.err"
  if grep -q "intermediate 'CN=rev intermediate' (serial 77) was revoked on .*keyCompromise), per the CRL from 'CN=rev root'" "$D/int.err"; then
    ok "a revoked intermediate (openssl ca's CRL) is refused, and named as the intermediate"
  else
    not_ok "revoked intermediate"
    show "$D/int.err" "$D/pki.log"
  fi
  stop_certa_serve serve-int
fi

# ---- stale CRL: prefer notes it, require refuses; require without any CRL ----
while [ "$(date +%s)" -lt "$stale_at" ]; do sleep 0.2; done
if start_certa_serve serve-stale --cert "$D/web.crt" --key "$D/web.key" --client-ca "$C/ca.crt" \
  --crl "$D/stale.crl"; then
  if client stale-prefer "$SERVE_PORT" good && wait_for "$SERVE_LOG" "revocation warning: .*is unknown: the CRL of 'CN=certa revocation test CA' is out of date" 5; then
    ok "prefer (the default with --crl): a stale CRL is logged, the client let in"
  else
    not_ok "stale CRL under prefer"
    show "$D/stale-prefer.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-stale
fi
if start_certa_serve serve-stale-req --cert "$D/web.crt" --key "$D/web.key" --client-ca "$C/ca.crt" \
  --crl "$D/stale.crl" --revocation require; then
  client stale-require "$SERVE_PORT" good
  if wait_for "$SERVE_LOG" "CERTA_E_CERT_STATUS" 5 && grep -q "out of date.*revocation is required" "$SERVE_LOG" &&
    grep -q "alert certificate_unknown" "$D/stale-require.err"; then
    ok "require: a stale CRL refuses the client (CERTA_E_CERT_STATUS, certificate_unknown)"
  else
    not_ok "stale CRL under require"
    show "$D/stale-require.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-stale-req
fi
if start_certa_serve serve-web --cert "$D/web.crt" --key "$D/web.key"; then
  echo | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$C/ca.crt" --revocation require --timeout 10 >"$D/req-none.out" 2>"$D/req-none.err"
  if grep -q "no CRL from its issuer 'CN=certa revocation test CA' is loaded.*no OCSP staple was sent (revocation is required)" "$D/req-none.err"; then
    ok "connect --revocation require without CRL or staple: refused, saying what is missing"
  else
    not_ok "require without data"
    show "$D/req-none.err"
  fi
  if echo | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --servername localhost \
    --trust "$C/ca.crt" --revocation require --crl "$D/revoked.crl" --timeout 10 \
    >"$D/req-crl.out" 2>"$D/req-crl.err"; then
    ok "connect --revocation require with a fresh CRL not listing the server: accepted"
  else
    not_ok "require with a fresh CRL"
    show "$D/req-crl.err"
  fi
  stop_certa_serve serve-web
fi

# ---- certa proxy: revoked client refused; a new CRL picked up without restart ----
if start_echo_backend; then
  cp "$D/empty.crl" "$D/proxy.crl"
  if start_proxy proxy-crl --backend "127.0.0.1:$ECHO_PORT" --cert "$D/web.crt" --key "$D/web.key" \
    --client-ca "$C/ca.crt" --crl "$D/proxy.crl"; then
    if client px-before "$PROXY_PORT" bad && grep -q hello "$D/px-before.out"; then
      ok "proxy with an empty CRL: the (not yet revoked) client gets through"
    else
      not_ok "proxy before revocation"
      show "$D/px-before.err" "$PROXY_LOG"
    fi
    cp "$D/revoked.crl" "$D/proxy.crl.new" && mv "$D/proxy.crl.new" "$D/proxy.crl"
    if wait_for "$PROXY_LOG" "reloaded the config" 10; then
      ok "proxy reloads when the --crl file changes"
    else
      not_ok "proxy CRL reload"
      show "$PROXY_LOG"
    fi
    client px-after "$PROXY_PORT" bad
    if grep -q "alert certificate_revoked" "$D/px-after.err" && ! grep -q hello "$D/px-after.out"; then
      ok "proxy: after the reload the revoked client is refused (certificate_revoked), nothing reaches the backend"
    else
      not_ok "proxy after revocation"
      show "$D/px-after.err" "$PROXY_LOG"
    fi
    if client px-good "$PROXY_PORT" good && grep -q hello "$D/px-good.out"; then
      ok "proxy: a client that is not revoked still gets through"
    else
      not_ok "proxy good client"
      show "$D/px-good.err" "$PROXY_LOG"
    fi
    stop_proxy proxy-crl
  else
    not_ok "proxy did not start"
    show "$PROXY_LOG"
  fi
  stop "$ECHO_PID"
fi

# ---- certa serve: a new CRL picked up without restart; a broken one keeps the old ----
cp "$D/empty.crl" "$D/serve.crl"
if start_certa_serve serve-reload --cert "$D/web.crt" --key "$D/web.key" --client-ca "$C/ca.crt" \
  --crl "$D/serve.crl"; then
  if client sv-before "$SERVE_PORT" bad && grep -q hello "$D/sv-before.out"; then
    ok "serve with an empty CRL: the (not yet revoked) client gets through"
  else
    not_ok "serve before revocation"
    show "$D/sv-before.err" "$SERVE_LOG"
  fi
  cp "$D/revoked.crl" "$D/serve.crl.new" && mv "$D/serve.crl.new" "$D/serve.crl"
  if wait_for "$SERVE_LOG" "serve.crl changed: reloaded the CRLs \(1\) for new connections" 10; then
    ok "serve reloads when the --crl file changes"
  else
    not_ok "serve CRL reload"
    show "$SERVE_LOG"
  fi
  client sv-after "$SERVE_PORT" bad
  if grep -q "alert certificate_revoked" "$D/sv-after.err" && ! grep -q hello "$D/sv-after.out"; then
    ok "serve: after the reload the revoked client is refused (certificate_revoked)"
  else
    not_ok "serve after revocation"
    show "$D/sv-after.err" "$SERVE_LOG"
  fi
  echo "not a crl any more" >"$D/serve.crl.new" && mv "$D/serve.crl.new" "$D/serve.crl"
  wait_for "$SERVE_LOG" "does not load, keeping the previous CRLs" 10
  client sv-kept "$SERVE_PORT" bad
  if grep -q "does not load, keeping the previous CRLs" "$SERVE_LOG" &&
    grep -q "alert certificate_revoked" "$D/sv-kept.err"; then
    ok "serve: a --crl file that no longer loads is reported, and the previous CRLs stay in force"
  else
    not_ok "serve broken CRL reload"
    show "$D/sv-kept.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-reload
fi

# ---- bad input ----
echo "not a crl" >"$D/junk.crl"
if ! timeout 10 "$CERTA" serve --port 0 --cert "$D/web.crt" --key "$D/web.key" --crl "$D/junk.crl" \
  >"$D/junk.out" 2>&1 && grep -q -- "--crl .*junk.crl.*X509 CRL" "$D/junk.out"; then
  ok "serve --crl with a file that is not a CRL: refused at start-up, naming the file"
else
  not_ok "junk CRL"
  show "$D/junk.out"
fi
if ! timeout 10 "$CERTA" connect 127.0.0.1:1 --revocation maybe >"$D/mode.out" 2>&1 &&
  grep -q "must be off, prefer or require" "$D/mode.out"; then
  ok "--revocation maybe: a usage error"
else
  not_ok "bad --revocation"
  show "$D/mode.out"
fi

finish
