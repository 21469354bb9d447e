#!/usr/bin/env bash
# certa ca against OpenSSL: init a CA, issue server and client identities
# (DNS, IP, SPIFFE ID; every key type), check them with `openssl x509`,
# `openssl verify` (with purposes), revoke one and check the CRL with
# `openssl crl` and `openssl verify -crl_check`; bad inputs give the right
# exit codes and messages; TTLs are honoured. Prints ok/not ok/skip lines.
# Env: CERTA = the certa binary (default build/certa).
set -u
cd "$(dirname "$0")/../.."
CERTA=${CERTA:-$PWD/build/certa}
T=$(mktemp -d "${TMPDIR:-/tmp}/certa-ca.XXXXXX")
trap 'rm -rf "$T"' EXIT
fails=0

ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@" >"$T/last.out" 2>&1; then ok "$what"; else notok "$what"; sed 's/^/#   /' "$T/last.out" | head -20; fi
}
# run: runs certa with a time bound; output in $T/out, status in $rc.
run() {
  timeout -k 5 60 "$CERTA" "$@" >"$T/out" 2>&1
  rc=$?
}
expect_rc() { # expect_rc WANT DESCRIPTION (after run)
  if [ "$rc" -eq "$1" ]; then ok "$2 (exit $rc)"; else notok "$2: exit $rc, wanted $1"; sed 's/^/#   /' "$T/out" | head -20; fi
}
expect_out() { # expect_out REGEX DESCRIPTION
  if grep -Eq -- "$1" "$T/out"; then ok "$2"; else notok "$2: no /$1/ in output"; sed 's/^/#   /' "$T/out" | head -20; fi
}
ossl() { timeout 30 openssl "$@"; }

if [ ! -x "$CERTA" ]; then notok "certa binary $CERTA not found"; exit 1; fi
if ! command -v openssl >/dev/null; then echo "skip - openssl not installed"; exit 0; fi

CA=$T/ca
cd "$T" || exit 1

# ---- init ----
run ca init "$CA" --name "certa test CA"
expect_rc 0 "ca init creates a CA"
expect_out "ca\.crt" "ca init names the certificate"
expect_out "expires in 365 days" "ca init says when the CA expires"
check "ca.key is mode 0600" test "$(stat -c %a "$CA/ca.key")" = 600
check "CA directory is mode 0700" test "$(stat -c %a "$CA")" = 700
check "ca.key is PKCS#8 PEM" grep -q "BEGIN PRIVATE KEY" "$CA/ca.key"
check "openssl reads ca.key as EC P-256" sh -c "openssl pkey -in '$CA/ca.key' -noout -text | grep -q 'NIST CURVE: P-256'"
check "state files exist" test -f "$CA/serials.txt" -a -f "$CA/revoked.txt"
ossl x509 -in "$CA/ca.crt" -noout -text >"$T/ca.txt" 2>&1
check "openssl x509 parses ca.crt" grep -q "Subject: CN = certa test CA" "$T/ca.txt"
check "root: basicConstraints critical CA:TRUE" sh -c "grep -A1 'Basic Constraints: critical' '$T/ca.txt' | grep -q 'CA:TRUE'"
check "root: keyUsage keyCertSign+cRLSign critical" sh -c "grep -A1 'Key Usage: critical' '$T/ca.txt' | grep -q 'Certificate Sign, CRL Sign'"
check "root: subject key identifier" grep -q "Subject Key Identifier" "$T/ca.txt"
check "root is self-signed and verifies" sh -c "openssl verify -CAfile '$CA/ca.crt' '$CA/ca.crt' | grep -q ': OK'"
check "root: ecdsa-with-SHA256" grep -q "Signature Algorithm: ecdsa-with-SHA256" "$T/ca.txt"

run ca init "$CA"
expect_rc 1 "ca init refuses an existing CA"
expect_out "already exists" "existing CA: the message says so"
run ca init
expect_rc 2 "ca init without DIR is a usage error"
run ca init "$T/ca-badttl" --ttl 10x
expect_rc 2 "ca init --ttl 10x is refused"
check "a refused init creates nothing" test ! -e "$T/ca-badttl"

# ---- issue: server with DNS, IP and SPIFFE ID ----
run ca issue "$CA" --out "$T/server" --dns localhost --ip 127.0.0.1 --spiffe spiffe://example.org/api --server
expect_rc 0 "issue a server identity"
expect_out "serial: +[0-9A-F]{32}" "issue prints the serial"
expect_out "DNS:localhost, IP:127.0.0.1, URI:spiffe://example.org/api" "issue prints the SANs"
expect_out "expires in 2[34]h" "issue says when it expires"
check "server.key is mode 0600" test "$(stat -c %a "$T/server.key")" = 600
ossl x509 -in "$T/server.crt" -noout -text >"$T/server.txt" 2>&1
check "openssl x509 parses server.crt" grep -q "Version: 3" "$T/server.txt"
check "server: SANs shown by openssl" grep -q "DNS:localhost, IP Address:127.0.0.1, URI:spiffe://example.org/api" "$T/server.txt"
check "server: EKU serverAuth only" sh -c "grep -A1 'Extended Key Usage' '$T/server.txt' | tail -1 | grep -qx ' *TLS Web Server Authentication'"
check "server: basicConstraints critical CA:FALSE" sh -c "grep -A1 'Basic Constraints: critical' '$T/server.txt' | grep -q 'CA:FALSE'"
check "server: keyUsage digitalSignature critical" sh -c "grep -A1 'Key Usage: critical' '$T/server.txt' | grep -q 'Digital Signature'"
check "server: subject CN = first DNS name" grep -q "Subject: CN = localhost" "$T/server.txt"
check "server: authority key id = CA's subject key id" sh -c "
  a=\$(grep -A1 'Authority Key Identifier' '$T/server.txt' | tail -1 | tr -d ' ' | sed 's/^keyid://')
  s=\$(grep -A1 'Subject Key Identifier' '$T/ca.txt' | tail -1 | tr -d ' ')
  [ -n \"\$a\" ] && [ \"\$a\" = \"\$s\" ]"
check "server: serial is 16 bytes, positive" sh -c "openssl x509 -in '$T/server.crt' -noout -serial | grep -Eq '^serial=[0-7][0-9A-F]{31}$'"
check "openssl verify server.crt: OK" sh -c "openssl verify -CAfile '$CA/ca.crt' '$T/server.crt' | grep -q ': OK'"
check "openssl verify -purpose sslserver: OK" sh -c "openssl verify -purpose sslserver -CAfile '$CA/ca.crt' '$T/server.crt' | grep -q ': OK'"
check "openssl verify -purpose sslclient refuses a server-only cert" sh -c "! openssl verify -purpose sslclient -CAfile '$CA/ca.crt' '$T/server.crt' >/dev/null 2>&1"
check "openssl verify -verify_hostname localhost: OK" sh -c "openssl verify -verify_hostname localhost -CAfile '$CA/ca.crt' '$T/server.crt' | grep -q ': OK'"
check "openssl verify -verify_ip 127.0.0.1: OK" sh -c "openssl verify -verify_ip 127.0.0.1 -CAfile '$CA/ca.crt' '$T/server.crt' | grep -q ': OK'"
check "key matches certificate" sh -c "[ \"\$(openssl pkey -in '$T/server.key' -pubout)\" = \"\$(openssl x509 -in '$T/server.crt' -noout -pubkey)\" ]"
check "serial recorded in serials.txt" grep -q "$(ossl x509 -in "$T/server.crt" -noout -serial | cut -d= -f2)" "$CA/serials.txt"

# ---- issue: client identity (SPIFFE only), every key type ----
for kt in p256 p384 ed25519 rsa2048; do
  run ca issue "$CA" --out "$T/client-$kt" --spiffe "spiffe://example.org/ns/prod/sa/$kt" --client --key-type "$kt"
  expect_rc 0 "issue a $kt client identity"
  check "$kt client: verify -purpose sslclient: OK" sh -c "openssl verify -purpose sslclient -CAfile '$CA/ca.crt' '$T/client-$kt.crt' | grep -q ': OK'"
  check "$kt client: verify -purpose sslserver refused" sh -c "! openssl verify -purpose sslserver -CAfile '$CA/ca.crt' '$T/client-$kt.crt' >/dev/null 2>&1"
done
ossl x509 -in "$T/client-p256.crt" -noout -text >"$T/client.txt" 2>&1
check "client: CN = last SPIFFE path segment" grep -q "Subject: CN = p256" "$T/client.txt"
check "client: EKU clientAuth" sh -c "grep -A1 'Extended Key Usage' '$T/client.txt' | grep -q 'TLS Web Client Authentication'"
check "client: SAN URI" grep -q "URI:spiffe://example.org/ns/prod/sa/p256" "$T/client.txt"
check "p384 key is P-384" sh -c "openssl pkey -in '$T/client-p384.key' -noout -text | grep -q 'NIST CURVE: P-384'"
check "ed25519 key is Ed25519" sh -c "openssl pkey -in '$T/client-ed25519.key' -noout -text | grep -q ED25519"
check "RSA leaf: keyUsage digitalSignature + keyEncipherment" sh -c "openssl x509 -in '$T/client-rsa2048.crt' -noout -text | grep -A1 'Key Usage: critical' | grep -q 'Digital Signature, Key Encipherment'"

# Both purposes by default; IPv6; empty subject with a critical SAN.
run ca issue "$CA" --out "$T/both" --dns api.internal --dns '*.api.internal' --ip ::1
expect_rc 0 "issue a server+client identity"
check "both: verify -purpose sslserver: OK" sh -c "openssl verify -purpose sslserver -CAfile '$CA/ca.crt' '$T/both.crt' | grep -q ': OK'"
check "both: verify -purpose sslclient: OK" sh -c "openssl verify -purpose sslclient -CAfile '$CA/ca.crt' '$T/both.crt' | grep -q ': OK'"
check "both: IPv6 SAN shown" sh -c "openssl x509 -in '$T/both.crt' -noout -text | grep -q 'IP Address:0:0:0:0:0:0:0:1'"
check "both: wildcard DNS SAN" sh -c "openssl x509 -in '$T/both.crt' -noout -text | grep -q 'DNS:\*.api.internal'"
run ca issue "$CA" --out "$T/svid" --spiffe spiffe://example.org/workload --empty-subject
expect_rc 0 "issue an SVID with an empty subject"
ossl x509 -in "$T/svid.crt" -noout -text >"$T/svid.txt" 2>&1
check "empty subject: SAN is critical" grep -q "Subject Alternative Name: critical" "$T/svid.txt"
check "empty subject: openssl shows no subject" grep -Eq "Subject: *$" "$T/svid.txt"
check "empty subject: verify OK" sh -c "openssl verify -CAfile '$CA/ca.crt' '$T/svid.crt' | grep -q ': OK'"

# ---- TTL honoured ----
now=$(date +%s)
run ca issue "$CA" --out "$T/short" --dns short.test --ttl 15m
expect_rc 0 "issue with --ttl 15m"
na=$(date -d "$(ossl x509 -in "$T/short.crt" -noout -enddate | cut -d= -f2)" +%s)
nb=$(date -d "$(ossl x509 -in "$T/short.crt" -noout -startdate | cut -d= -f2)" +%s)
d=$((na - now - 900)); [ $d -lt 0 ] && d=$((-d))
if [ $d -le 60 ]; then ok "notAfter within a minute of now+15m"; else notok "notAfter is $d s off now+15m"; fi
d=$((now - nb - 300)); [ $d -lt 0 ] && d=$((-d))
if [ $d -le 60 ]; then ok "notBefore is now-5m (clock skew)"; else notok "notBefore is $d s off now-5m"; fi
run ca issue "$CA" --out "$T/week" --dns week.test --ttl 7d
na=$(date -d "$(ossl x509 -in "$T/week.crt" -noout -enddate | cut -d= -f2)" +%s)
d=$((na - $(date +%s) - 7 * 86400)); [ $d -lt 0 ] && d=$((-d))
if [ "$rc" -eq 0 ] && [ $d -le 60 ]; then ok "--ttl 7d honoured"; else notok "--ttl 7d: rc $rc, $d s off"; fi
run ca issue "$CA" --out "$T/mixed" --dns mixed.test --ttl 1h30m
expect_rc 0 "--ttl 1h30m accepted"
expect_out "expires in 1h 30m" "--ttl 1h30m reported"

# A TTL beyond the CA's validity is refused.
run ca init "$T/shortca" --ttl 1h
expect_rc 0 "init a CA valid for 1h"
run ca issue "$T/shortca" --out "$T/toolong" --dns x.test --ttl 2h
expect_rc 1 "a TTL beyond the CA's validity is refused"
expect_out "outlive the CA" "beyond-CA TTL: the message says why"
check "refused issue writes no files" test ! -e "$T/toolong.crt" -a ! -e "$T/toolong.key"
run ca crl "$T/shortca" --ttl 2h
expect_rc 1 "a CRL outliving the CA is refused"

# ---- bad inputs ----
bad_issue() { # bad_issue DESCRIPTION REGEX ARGS...
  local what=$1 re=$2; shift 2
  run ca issue "$CA" --out "$T/bad" "$@"
  expect_rc 2 "$what"
  expect_out "$re" "$what: message"
}
bad_issue "SPIFFE ID with uppercase trust domain" "lowercase" --spiffe spiffe://Example.org/api
bad_issue "SPIFFE ID without a path" "path" --spiffe spiffe://example.org
bad_issue "SPIFFE ID with a port" "port" --spiffe spiffe://example.org:8080/api
bad_issue "SPIFFE ID with a query" "query" --spiffe "spiffe://example.org/api?x=1"
bad_issue "SPIFFE ID with an empty segment" "empty segment" --spiffe spiffe://example.org/a//b
bad_issue "SPIFFE ID with a trailing slash" "end with" --spiffe spiffe://example.org/a/
bad_issue "SPIFFE ID with a dot segment" "'\\.'" --spiffe spiffe://example.org/a/../b
bad_issue "SPIFFE ID with another scheme" "spiffe://" --spiffe https://example.org/api
bad_issue "two SPIFFE IDs" "only one" --spiffe spiffe://example.org/a --spiffe spiffe://example.org/b
bad_issue "DNS name with an underscore" "_" --dns bad_name.test
bad_issue "DNS name with a trailing dot" "trailing dot" --dns example.com.
bad_issue "DNS label starting with '-'" "'-'" --dns -x.example.com
bad_issue "IP address given as --dns" "use --ip" --dns 10.0.0.1
bad_issue "bad IP literal" "IP address" --ip 300.1.1.1
bad_issue "bad TTL unit" "ttl" --dns a.test --ttl 10y
bad_issue "TTL without unit" "ttl" --dns a.test --ttl 10
bad_issue "TTL zero" "ttl" --dns a.test --ttl 0s
bad_issue "unknown key type" "key-type" --dns a.test --key-type dsa
bad_issue "no identity" "identity" --ttl 1h
bad_issue "--ocsp-url that is not http://" "http:// URL" --dns a.test --ocsp-url ftp://ocsp.test/
bad_issue "--ocsp-signing with a TLS identity" "OCSP responder certificate" --ocsp-signing --dns a.test
bad_issue "--ocsp-signing with --must-staple" "must-staple" --ocsp-signing --must-staple
check "refused issues write no files" test ! -e "$T/bad.crt" -a ! -e "$T/bad.key"
run ca issue "$CA" --dns a.test
expect_rc 2 "issue without --out is a usage error"
run ca issue "$T/nope" --out "$T/x" --dns a.test
expect_rc 1 "issue from a missing CA fails"
expect_out "certa ca init" "missing CA: the message says how to create one"
run ca issue "$CA" --out "$T/short" --dns short.test
expect_rc 1 "issue refuses to overwrite NAME.crt"
expect_out "--force" "overwrite refusal mentions --force"
run ca issue "$CA" --out "$T/short" --dns short.test --force
expect_rc 0 "issue --force replaces NAME.crt"
run ca frobnicate
expect_rc 2 "unknown ca subcommand"
run ca
expect_rc 2 "ca without a subcommand"

# ---- revoke + CRL ----
serial=$(ossl x509 -in "$T/client-p256.crt" -noout -serial | cut -d= -f2)
run ca crl "$CA"
expect_rc 0 "ca crl with nothing revoked"
check "empty CRL: openssl crl says No Revoked Certificates" sh -c "openssl crl -in '$CA/ca.crl' -noout -text | grep -q 'No Revoked Certificates'"
check "client verifies with -crl_check before revocation" sh -c "openssl verify -crl_check -CRLfile '$CA/ca.crl' -CAfile '$CA/ca.crt' '$T/client-p256.crt' | grep -q ': OK'"
run ca revoke "$CA" "$serial" --reason keyCompromise
expect_rc 0 "ca revoke $serial"
expect_out "revoked serial $serial" "revoke prints the serial"
run ca revoke "$CA" "$(echo "$serial" | tr 'A-F' 'a-f' | sed 's/../&:/g; s/:$//')"
expect_rc 0 "revoking again (lowercase, colons) is a no-op"
expect_out "already revoked" "second revoke says already revoked"
run ca revoke "$CA" 0123456789ABCDEF
expect_rc 1 "revoking an unknown serial fails"
expect_out "not issued" "unknown serial: the message says so"
run ca revoke "$CA" xyz
expect_rc 2 "revoking a non-hex serial is a usage error"
run ca crl "$CA" --ttl 12h
expect_rc 0 "ca crl writes ca.crl"
expect_out "CRL number: +2" "CRL number increases"
expect_out "revoked: +1 certificate" "crl counts the revoked certificate"
ossl crl -in "$CA/ca.crl" -noout -text >"$T/crl.txt" 2>&1
check "openssl crl lists the serial" grep -q "Serial Number: $serial" "$T/crl.txt"
check "openssl crl shows the reason" grep -q "Key Compromise" "$T/crl.txt"
check "openssl crl shows CRL number and AKI" sh -c "grep -q 'CRL Number' '$T/crl.txt' && grep -q 'Authority Key Identifier' '$T/crl.txt'"
check "openssl crl -CAfile verifies the CRL signature" sh -c "openssl crl -in '$CA/ca.crl' -CAfile '$CA/ca.crt' -noout 2>&1 | grep -q 'verify OK'"
na=$(date -d "$(ossl crl -in "$CA/ca.crl" -noout -nextupdate | cut -d= -f2)" +%s)
d=$((na - $(date +%s) - 12 * 3600)); [ $d -lt 0 ] && d=$((-d))
if [ $d -le 60 ]; then ok "CRL nextUpdate honours --ttl 12h"; else notok "CRL nextUpdate $d s off"; fi
ossl verify -crl_check -CRLfile "$CA/ca.crl" -CAfile "$CA/ca.crt" "$T/client-p256.crt" >"$T/out" 2>&1
check "openssl verify -crl_check reports the revoked cert" grep -q "certificate revoked" "$T/out"
check "other certs still verify with -crl_check" sh -c "openssl verify -crl_check -CRLfile '$CA/ca.crl' -CAfile '$CA/ca.crt' '$T/client-p384.crt' | grep -q ': OK'"

# ---- certa's own validator, when this build has `certa verify` ----
if timeout 10 "$CERTA" verify --help 2>&1 | grep -q -- "--spiffe"; then
  cverify() { # cverify DESCRIPTION WANT_RC ARGS...
    local what=$1 want=$2; shift 2
    run verify --trust "$CA/ca.crt" "$@"
    expect_rc "$want" "certa verify: $what"
  }
  cverify "server cert for localhost" 0 --host localhost "$T/server.crt"
  cverify "server cert for 127.0.0.1" 0 --ip 127.0.0.1 "$T/server.crt"
  cverify "server cert for its SPIFFE ID" 0 --spiffe spiffe://example.org/api "$T/server.crt"
  cverify "server cert refused for another name" 1 --host other.test "$T/server.crt"
  for kt in p384 ed25519 rsa2048; do
    cverify "$kt client cert, purpose client" 0 --purpose client --spiffe "spiffe://example.org/ns/prod/sa/$kt" "$T/client-$kt.crt"
  done
  cverify "client cert refused for purpose server" 1 --purpose server "$T/client-p384.crt"
  cverify "empty-subject SVID (critical SAN)" 0 --purpose client --spiffe spiffe://example.org/workload "$T/svid.crt"
  cverify "IPv6 SAN" 0 --ip ::1 "$T/both.crt"
  # revocation: the CRL certa ca wrote, read by certa's own validator
  cverify "the revoked client cert is refused with --crl" 1 --purpose client --crl "$CA/ca.crl" "$T/client-p256.crt"
  expect_out "leaf '.*' \(serial $(echo "$serial" | cut -c1-16).*\) was revoked on .* keyCompromise\), per the CRL from 'CN=.*' issued .* ago" \
    "certa verify --crl: the refusal names serial, time, reason and the CRL's issuer and age"
  expect_out "CERTA_E_CERT_REVOKED" "certa verify --crl: CERTA_E_CERT_REVOKED"
  cverify "another cert of the same CA passes with --crl" 0 --purpose client --crl "$CA/ca.crl" "$T/client-p384.crt"
  expect_out "revocation: not listed by 1 CRL" "certa verify --crl says the CRL was checked"
  ossl crl -in "$CA/ca.crl" -outform DER -out "$T/ca.crl.der" 2>/dev/null
  cverify "a DER CRL works too" 1 --purpose client --crl "$T/ca.crl.der" "$T/client-p256.crt"
  cverify "the revoked cert is not refused without --crl" 0 --purpose client "$T/client-p256.crt"
  later=$(date -u -d '+13 hours' +%Y-%m-%dT%H:%M:%SZ)
  cverify "a stale CRL (--at past its nextUpdate) is only warned about under prefer" 0 --purpose client \
    --crl "$CA/ca.crl" --at "$later" "$T/client-p384.crt"
  expect_out "revocation: warning: .* is unknown: the CRL of .* is out of date" "stale CRL under prefer: the warning says why"
  cverify "a stale CRL is refused under --revocation require" 1 --purpose client --crl "$CA/ca.crl" \
    --revocation require --at "$later" "$T/client-p384.crt"
  expect_out "out of date .*revocation is required.*CERTA_E_CERT_STATUS" "stale CRL under require: CERTA_E_CERT_STATUS, saying why"
  cverify "a revoked cert is refused even from a stale CRL" 1 --purpose client --crl "$CA/ca.crl" \
    --at "$later" "$T/client-p256.crt"
  cverify "require without any CRL is refused" 1 --purpose client --revocation require "$T/client-p384.crt"
  expect_out "no CRL from its issuer" "require without a CRL: the sentence says none is loaded"
  cverify "--revocation off ignores the CRL" 0 --purpose client --crl "$CA/ca.crl" --revocation off "$T/client-p256.crt"
  cverify "--revocation sometimes is a usage error" 2 --revocation sometimes "$T/client-p384.crt"
  echo garbage >"$T/bad.crl"
  cverify "an unreadable --crl is a usage error" 2 --crl "$T/bad.crl" "$T/client-p384.crt"
else
  echo "skip - certa verify is not part of this build"
fi

# ---- a TLS handshake with an issued identity: certa serve, openssl s_client ----
SERVE_PID=
# SIGTERM, then SIGKILL after 10 s: a sanitizer build's exit-time leak check
# has been seen to hang, and a test must never wait forever.
stop_serve() {
  [ -n "$SERVE_PID" ] || return 0
  kill "$SERVE_PID" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$SERVE_PID" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVE_PID" 2>/dev/null
  pkill -KILL -P "$SERVE_PID" 2>/dev/null
  wait "$SERVE_PID" 2>/dev/null
  SERVE_PID=
}
trap 'stop_serve; rm -rf "$T"' EXIT
if timeout 10 "$CERTA" serve --help 2>&1 | grep -q -- "--cert"; then
  for kt in p256 ed25519 rsa2048; do
    run ca issue "$CA" --out "$T/tls-$kt" --dns localhost --server --key-type "$kt" --ttl 1h
    served=0
    for attempt in 1 2 3; do
      port=$((20000 + RANDOM % 30000))
      timeout -k 5 60 "$CERTA" serve --cert "$T/tls-$kt.crt" --key "$T/tls-$kt.key" --port "$port" --quiet >"$T/serve.log" 2>&1 &
      SERVE_PID=$!
      for _ in $(seq 1 50); do
        grep -q "listening" "$T/serve.log" 2>/dev/null && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.1
      done
      if grep -q "listening" "$T/serve.log"; then served=1; break; fi
      stop_serve
    done
    if [ $served -eq 1 ]; then
      echo | timeout 15 openssl s_client -connect "127.0.0.1:$port" -CAfile "$CA/ca.crt" \
        -verify_return_error -verify_hostname localhost >"$T/sclient.out" 2>&1
      if grep -q "Verify return code: 0 (ok)" "$T/sclient.out"; then
        ok "openssl s_client verifies certa serve's $kt identity from this CA"
      else
        notok "openssl s_client did not verify the $kt identity"; sed 's/^/#   /' "$T/sclient.out" | tail -8
      fi
    else
      notok "certa serve did not start with the $kt identity"; sed 's/^/#   /' "$T/serve.log" | tail -5
    fi
    stop_serve
  done
else
  echo "skip - certa serve is not part of this build"
fi

[ $fails -eq 0 ]
