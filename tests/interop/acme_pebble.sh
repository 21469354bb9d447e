#!/usr/bin/env bash
# certa acme against Pebble (Debian `pebble`, RFC 8555 test CA) on loopback:
# accounts, orders for DNS names, a wildcard and an IP address, each
# challenge (http-01 by listener and by webroot, tls-alpn-01, dns-01 through
# a hook into pebble-challtestsrv), key types, EAB, key rollover and
# revocation; then bad input — an unreachable directory, a challenge the CA
# refuses, unagreed terms, a failing DNS hook, a rate limit, badNonce and
# Retry-After, a chain for another key (a small fake ACME server,
# acme_fake.py) — each a clear error with the old certificate untouched.
# Pebble keeps its default 5 % nonce rejection, so badNonce retries happen
# against the real thing too (counted at the end).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/acme_lib.bash"
need_certa
need pebble pebble-challtestsrv curl openssl python3

if ! start_pebble main; then
  not_ok "Pebble did not start"
  show "$PEBBLE_LOG" "$T_TMP/main-chall.log"
  finish
fi
write_dns_hook
A=(--directory "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --chain-trust "$PEBBLE_ROOTS" --timeout 40)
BADNONCES=0
# issue NAME ARGS...: certa acme issue, output in $T_TMP/NAME.out; status in RC.
issue() {
  local name=$1
  shift
  "$CERTA" acme issue "${A[@]}" "$@" >"$T_TMP/$name.out" 2>&1
  RC=$?
  local n
  n=$(sed -n 's/.*requests, \([0-9]*\) badNonce retried.*/\1/p' "$T_TMP/$name.out")
  BADNONCES=$((BADNONCES + ${n:-0}))
}
# chain_ok DIR NAME: cert.pem validates with openssl against Pebble's root
# for NAME, and key.pem is its key, mode 0600.
chain_ok() {
  local d=$1 name=$2
  awk '/BEGIN/{n++} n>1' "$d/cert.pem" >"$d/chain-only.pem"
  openssl verify -CAfile "$PEBBLE_ROOTS" -untrusted "$d/chain-only.pem" -purpose sslserver \
    "$d/cert.pem" >/dev/null 2>&1 || return 1
  openssl x509 -in "$d/cert.pem" -noout -checkhost "$name" 2>/dev/null | grep -q 'does match' ||
    openssl x509 -in "$d/cert.pem" -noout -checkip "$name" 2>/dev/null | grep -q 'does match' ||
    return 1
  [ "$(openssl x509 -in "$d/cert.pem" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum)" = \
    "$(openssl pkey -in "$d/key.pem" -pubout -outform der | sha256sum)" ] || return 1
  [ "$(stat -c %a "$d/key.pem")" = 600 ]
}
digest() { cat "$1/cert.pem" "$1/key.pem" | sha256sum; }

# ---- issuance --------------------------------------------------------------
issue http --domain http.certa.test --challenge http-01 --http-port "$PEBBLE_HTTP_PORT" \
  --listen 127.0.0.1 --out "$T_TMP/http" --agree-tos --email ops@certa.test --verbose
if [ $RC -eq 0 ] && chain_ok "$T_TMP/http" http.certa.test &&
  grep -q 'http-01: GET /.well-known/acme-challenge/.*: answered' "$T_TMP/http.out"; then
  ok "http-01 (certa's listener): account created, certificate issued, chain validates, key 0600"
else
  not_ok "http-01 issuance"
  show "$T_TMP/http.out" "$PEBBLE_LOG"
fi
if [ "$(stat -c %a "$T_TMP/http/account.key" 2>/dev/null)" = 600 ] &&
  grep -q '(created)' "$T_TMP/http.out"; then
  ok "the account key was created 0600 on first use"
else
  not_ok "account key file"
fi
issue http2 --domain http2.certa.test --challenge http-01 --http-port "$PEBBLE_HTTP_PORT" \
  --listen 127.0.0.1 --out "$T_TMP/http" --verbose
if [ $RC -eq 0 ] && grep -q '(existing)' "$T_TMP/http2.out" && chain_ok "$T_TMP/http" http2.certa.test; then
  ok "a second order reuses the account (found by its key, no --agree-tos needed)"
else
  not_ok "second order with the same account"
  show "$T_TMP/http2.out"
fi

mkdir -p "$T_TMP/webroot"
bg "$T_TMP/webroot.log" python3 -u -m http.server --bind 127.0.0.1 --directory "$T_TMP/webroot" \
  "$PEBBLE_HTTP_PORT"
WEB_PID=$BG_PID
wait_for "$T_TMP/webroot.log" '^Serving HTTP' 15
issue webroot --domain webroot.certa.test --challenge http-01 --webroot "$T_TMP/webroot" \
  --out "$T_TMP/webroot-out" --agree-tos
if [ $RC -eq 0 ] && chain_ok "$T_TMP/webroot-out" webroot.certa.test &&
  grep -q 'GET /.well-known/acme-challenge/' "$T_TMP/webroot.log" &&
  [ -z "$(ls -A "$T_TMP/webroot/.well-known/acme-challenge")" ]; then
  ok "http-01 (--webroot served by another server): issued, token files removed afterwards"
else
  not_ok "http-01 --webroot"
  show "$T_TMP/webroot.out" "$T_TMP/webroot.log"
fi
stop "$WEB_PID"

issue alpn --domain alpn.certa.test --domain alpn2.certa.test --challenge tls-alpn-01 \
  --tls-port "$PEBBLE_TLS_PORT" --listen 127.0.0.1 --out "$T_TMP/alpn" --agree-tos \
  --key-type p384 --verbose
if [ $RC -eq 0 ] && chain_ok "$T_TMP/alpn" alpn.certa.test && chain_ok "$T_TMP/alpn" alpn2.certa.test &&
  openssl x509 -in "$T_TMP/alpn/cert.pem" -noout -text | grep -q 'ASN1 OID: secp384r1' &&
  [ "$(grep -c "offering 'acme-tls/1': answered" "$T_TMP/alpn.out")" -ge 2 ]; then
  ok "tls-alpn-01 for two names (one validation certificate each, by SNI), P-384 key"
else
  not_ok "tls-alpn-01"
  show "$T_TMP/alpn.out"
fi

issue dns --domain dns.certa.test --domain '*.dns.certa.test' --challenge dns-01 \
  --dns-hook "$DNS_HOOK" --out "$T_TMP/dns" --agree-tos --key-type rsa2048
if [ $RC -eq 0 ] && chain_ok "$T_TMP/dns" dns.certa.test && chain_ok "$T_TMP/dns" x.dns.certa.test &&
  [ "$(grep -c '^add _acme-challenge.dns.certa.test ' "$T_TMP/dns-hook.calls")" = 2 ] &&
  [ "$(grep -c '^remove _acme-challenge.dns.certa.test ' "$T_TMP/dns-hook.calls")" = 2 ] &&
  openssl x509 -in "$T_TMP/dns/cert.pem" -noout -text | grep -q 'Public-Key: (2048 bit)'; then
  ok "dns-01 through the hook (challtestsrv TXT records added, then removed), wildcard, RSA 2048"
else
  not_ok "dns-01"
  show "$T_TMP/dns.out" "$T_TMP/dns-hook.calls"
fi

issue ip --domain 127.0.0.1 --challenge http-01 --http-port "$PEBBLE_HTTP_PORT" --listen 127.0.0.1 \
  --out "$T_TMP/ip" --agree-tos
if [ $RC -eq 0 ] && chain_ok "$T_TMP/ip" 127.0.0.1; then
  ok "an order for an IP address (RFC 8738), certificate with the IP SAN"
else
  not_ok "IP address order"
  show "$T_TMP/ip.out"
fi

# ---- rollover and revocation -----------------------------------------------
ACCT=$T_TMP/http/account.key
URL1=$(sed -n 's/^\* account \(.*\) (.*/\1/p' "$T_TMP/http2.out")
cp "$ACCT" "$T_TMP/old-account.key"
"$CERTA" acme account "${A[@]}" --account-key "$ACCT" --rollover >"$T_TMP/roll.out" 2>&1
RC=$?
URL2=$(sed -n 's/^certa: account \(https:.*\)/\1/p' "$T_TMP/roll.out")
if [ $RC -eq 0 ] && [ -n "$URL1" ] && [ "$URL1" = "$URL2" ] && ! cmp -s "$ACCT" "$T_TMP/old-account.key" &&
  [ "$(stat -c %a "$ACCT")" = 600 ] && [ ! -e "$ACCT.new" ]; then
  ok "key rollover: the account file holds a new key (0600)"
else
  not_ok "key rollover"
  show "$T_TMP/roll.out"
fi
"$CERTA" acme account "${A[@]}" --account-key "$ACCT" --verbose >"$T_TMP/roll2.out" 2>&1
if grep -q "^\* account $URL1 (existing)" "$T_TMP/roll2.out"; then
  ok "after rollover the new key finds the same account"
else
  not_ok "new key after rollover"
  show "$T_TMP/roll2.out"
fi

SERIAL=$(openssl x509 -in "$T_TMP/http/cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
"$CERTA" acme revoke "${A[@]}" --account-key "$ACCT" --cert "$T_TMP/http/cert.pem" --reason 4 \
  >"$T_TMP/revoke.out" 2>&1
RC=$?
STATUS=$(curl -s --cacert "$PEBBLE_CA" "$PEBBLE_MGMT/cert-status-by-serial/$SERIAL")
if [ $RC -eq 0 ] && echo "$STATUS" | grep -q '"Status": "Revoked"' &&
  echo "$STATUS" | grep -q '"Reason": 4'; then
  ok "revocation (by the rolled-over account key): Pebble lists the certificate as revoked, reason 4"
else
  not_ok "revocation"
  show "$T_TMP/revoke.out"
  echo "$STATUS" | head -5
fi
"$CERTA" acme revoke "${A[@]}" --account-key "$ACCT" --cert "$T_TMP/http/cert.pem" \
  >"$T_TMP/revoke2.out" 2>&1
if [ $? -ne 0 ] && grep -q 'urn:ietf:params:acme:error:alreadyRevoked' "$T_TMP/revoke2.out"; then
  ok "revoking it again: the problem document shown with its type (alreadyRevoked)"
else
  not_ok "second revocation"
  show "$T_TMP/revoke2.out"
fi

# ---- bad input: clear errors, the installed certificate untouched ----------
KEEP=$T_TMP/alpn
BEFORE=$(digest "$KEEP")
untouched() { [ "$(digest "$KEEP")" = "$BEFORE" ]; }
DEAD=$(free_port)
"$CERTA" acme issue --directory "https://127.0.0.1:$DEAD/dir" --ca-bundle "$PEBBLE_CA" \
  --domain x.certa.test --challenge http-01 --out "$KEEP" --agree-tos >"$T_TMP/dead.out" 2>&1
if [ $? -eq 1 ] && grep -q "cannot read the ACME directory https://127.0.0.1:$DEAD/dir: cannot connect" \
  "$T_TMP/dead.out" && grep -qi 'refused' "$T_TMP/dead.out" && untouched; then
  ok "unreachable directory: '$(tail -n1 "$T_TMP/dead.out" | cut -c1-110)...'"
else
  not_ok "unreachable directory"
  show "$T_TMP/dead.out"
fi

WRONG=$(free_port)
issue refused --domain refused.certa.test --challenge http-01 --http-port "$WRONG" \
  --listen 127.0.0.1 --out "$KEEP" --agree-tos
if [ $RC -eq 1 ] && grep -q 'the CA refused the http-01 challenge for refused.certa.test' "$T_TMP/refused.out" &&
  grep -q 'urn:ietf:params:acme:error:connection' "$T_TMP/refused.out" && untouched; then
  ok "a challenge the CA refuses (nothing on its http-01 port): the CA's reason and type shown"
else
  not_ok "refused challenge"
  show "$T_TMP/refused.out"
fi

"$CERTA" acme issue "${A[@]}" --domain tos.certa.test --challenge http-01 --out "$T_TMP/tos" \
  >"$T_TMP/tos.out" 2>&1
if [ $? -eq 1 ] && grep -q 'terms of service (data:.*pass --agree-tos' "$T_TMP/tos.out" &&
  [ ! -e "$T_TMP/tos/cert.pem" ]; then
  ok "terms not agreed: refused before an account is made, naming the terms"
else
  not_ok "terms of service"
  show "$T_TMP/tos.out"
fi

issue hookfail --domain hook.certa.test --challenge dns-01 --dns-hook false --out "$KEEP" --agree-tos
if [ $RC -eq 1 ] && grep -q "the dns hook 'false add _acme-challenge.hook.certa.test ...' failed (exit status 1)" \
  "$T_TMP/hookfail.out" && untouched; then
  ok "a failing dns-01 hook: its exit status shown"
else
  not_ok "failing dns hook"
  show "$T_TMP/hookfail.out"
fi

# The fake ACME server: its listener and a chain for another key.
gen_leaf fake-listener main-ca
gen_ca other-issuer && gen_leaf other-leaf other-issuer && cat "$T_TMP/other-leaf.crt" \
  "$T_TMP/other-issuer.crt" >"$T_TMP/other-chain.pem"
# fake MODE: starts acme_fake.py; FAKE_DIR, FAKE_PID, FAKE_LOG.
fake() {
  FAKE_LOG=$T_TMP/fake-$1.log
  rm -f "$T_TMP/fake-$1.port"
  bg "$FAKE_LOG" python3 "$LIB_DIR/acme_fake.py" "$T_TMP/fake-listener.crt" "$T_TMP/fake-listener.key" \
    "$T_TMP/fake-$1.port" "$1" "$T_TMP/other-chain.pem"
  FAKE_PID=$BG_PID
  for _ in $(seq 100); do [ -s "$T_TMP/fake-$1.port" ] && break; sleep 0.05; done
  FAKE_DIR=https://127.0.0.1:$(cat "$T_TMP/fake-$1.port" 2>/dev/null)/dir
}
F=(--ca-bundle "$PEBBLE_CA" --chain-trust "$T_TMP/other-issuer.crt" --domain fake.certa.test
  --challenge http-01 --out "$KEEP" --agree-tos --account-key "$T_TMP/fake-account.key" --timeout 20)
fake ratelimit
"$CERTA" acme issue --directory "$FAKE_DIR" "${F[@]}" >"$T_TMP/rl.out" 2>&1
if [ $? -eq 1 ] && grep -q 'too many new orders (5) .* (urn:ietf:params:acme:error:rateLimited, HTTP 429)' \
  "$T_TMP/rl.out" && grep -q 'retry after 3600 s' "$T_TMP/rl.out" && untouched; then
  ok "a rate limit: the problem document as a sentence, its type and Retry-After"
else
  not_ok "rate limit"
  show "$T_TMP/rl.out" "$FAKE_LOG"
fi
stop "$FAKE_PID"

fake badnonce
"$CERTA" acme issue --directory "$FAKE_DIR" "${F[@]}" --verbose >"$T_TMP/bn.out" 2>&1
RC=$?
WAIT=$(sed -n 's/^fake: poll \([0-9.]*\) s after finalize/\1/p' "$FAKE_LOG" | head -n1)
BUSY=$(sed -n 's/^fake: newOrder again \([0-9.]*\) s after 503/\1/p' "$FAKE_LOG" | head -n1)
if [ "$(grep -c 'badNonce from .*: retrying with a fresh nonce' "$T_TMP/bn.out")" = 2 ] &&
  ! grep -q VIOLATION "$FAKE_LOG" && [ -n "$WAIT" ] && awk -v w="$WAIT" 'BEGIN{exit !(w >= 1.0)}' &&
  [ -n "$BUSY" ] && awk -v w="$BUSY" 'BEGIN{exit !(w >= 1.0)}'; then
  ok "badNonce twice: retried with the fresh nonces (none reused); Retry-After: 1 waited on a 503 (${BUSY} s) and while processing (${WAIT} s)"
else
  not_ok "badNonce / Retry-After"
  show "$T_TMP/bn.out" "$FAKE_LOG"
fi
if [ $RC -eq 1 ] && grep -q 'the certificate the CA returned is for another key' "$T_TMP/bn.out" && untouched; then
  ok "a chain for another key: refused before anything is installed"
else
  not_ok "chain for another key"
  show "$T_TMP/bn.out"
fi
stop "$FAKE_PID"

# ---- External Account Binding (a Pebble that requires it) ------------------
if start_pebble eab eab; then
  E=(--directory "$PEBBLE_DIR" --ca-bundle "$PEBBLE_CA" --chain-trust "$PEBBLE_ROOTS" --timeout 40)
  "$CERTA" acme account "${E[@]}" --account-key "$T_TMP/eab.key" --agree-tos >"$T_TMP/eab0.out" 2>&1
  if [ $? -eq 1 ] && grep -q 'requires External Account Binding: pass --eab-kid and --eab-hmac' "$T_TMP/eab0.out"; then
    ok "EAB required, none given: a clear error"
  else
    not_ok "EAB missing"
    show "$T_TMP/eab0.out"
  fi
  "$CERTA" acme account "${E[@]}" --account-key "$T_TMP/eab.key" --agree-tos --eab-kid "$EAB_KID" \
    --eab-hmac AAAA"${EAB_HMAC:4}" >"$T_TMP/eab1.out" 2>&1
  if [ $? -eq 1 ] && grep -q 'urn:ietf:params:acme:error:unauthorized' "$T_TMP/eab1.out"; then
    ok "EAB with a wrong MAC key: refused by the CA"
  else
    not_ok "EAB wrong key"
    show "$T_TMP/eab1.out"
  fi
  "$CERTA" acme issue "${E[@]}" --account-key "$T_TMP/eab.key" --agree-tos --eab-kid "$EAB_KID" \
    --eab-hmac "$EAB_HMAC" --domain eab.certa.test --challenge http-01 \
    --http-port "$PEBBLE_HTTP_PORT" --listen 127.0.0.1 --out "$T_TMP/eab" >"$T_TMP/eab2.out" 2>&1
  if [ $? -eq 0 ] && chain_ok "$T_TMP/eab" eab.certa.test; then
    ok "EAB (HS256 over the account key): account bound, certificate issued"
  else
    not_ok "EAB issuance"
    show "$T_TMP/eab2.out" "$PEBBLE_LOG"
  fi
else
  not_ok "the EAB Pebble did not start"
  show "$PEBBLE_LOG"
fi
echo "# Pebble's random nonce rejection: $BADNONCES badNonce answers retried in this run"
finish
