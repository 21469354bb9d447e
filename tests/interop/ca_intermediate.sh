#!/usr/bin/env bash
# certa ca: a three-level hierarchy (root -> intermediate -> leaf) made with
# `ca init --intermediate --parent`, accepted by certa verify, openssl verify
# and curl against certa serve sending the chain; path length and name
# constraints written into the certificates and enforced by both verifiers;
# `ca renew` of the root and of the intermediate keeps the key, so that what
# was issued before verifies under the old and the new CA certificate.
# Loopback only, bounded.
. "$(dirname "$0")/lib.sh"
need openssl curl
need_certa
D=$T_TMP

"$CERTA" ca init "$D/root" --name "Test Root" >"$D/root.log" 2>&1 || { not_ok "root"; show "$D/root.log"; finish; }
if "$CERTA" ca init "$D/inter" --intermediate --parent "$D/root" --name "Test Inter" \
  --permit-dns example.org --permit-dns localhost --exclude-dns secret.example.org \
  --permit-uri example.org >"$D/inter.log" 2>&1; then
  ok "ca init --intermediate --parent: an intermediate signed by the root"
else
  not_ok "ca init --intermediate"
  show "$D/inter.log"
  finish
fi
openssl x509 -in "$D/inter/ca.crt" -noout -text >"$D/inter.txt"
check "the intermediate: issuer is the root, pathlen:0, name constraints (permitted DNS, URI; excluded DNS)" \
  bash -c "grep -q 'Issuer: CN = Test Root' '$D/inter.txt' && grep -q 'CA:TRUE, pathlen:0' '$D/inter.txt' &&
    grep -A8 'Name Constraints: critical' '$D/inter.txt' | grep -q 'DNS:example.org' &&
    grep -A8 'Name Constraints: critical' '$D/inter.txt' | grep -q 'URI:example.org' &&
    grep -A8 'Excluded' '$D/inter.txt' | grep -q 'DNS:secret.example.org'"

"$CERTA" ca issue "$D/inter" --out "$D/web" --dns web.example.org --dns localhost \
  --spiffe spiffe://example.org/web --server >"$D/web.log" 2>&1 || { not_ok "leaf"; show "$D/web.log"; }
check "the leaf's file carries the intermediate after it (2 certificates)" \
  test "$(grep -c 'BEGIN CERTIFICATE' "$D/web.crt")" -eq 2
quiet() { "$@" >"$D/quiet.out" 2>&1 || { show "$D/quiet.out"; return 1; }; }
check "certa verify: root -> intermediate -> leaf for web.example.org" \
  quiet "$CERTA" verify --trust "$D/root/ca.crt" --host web.example.org "$D/web.crt"
check "certa verify: the SPIFFE ID within the permitted URI host" \
  quiet "$CERTA" verify --trust "$D/root/ca.crt" --spiffe spiffe://example.org/web "$D/web.crt"
check "openssl verify -CAfile root -untrusted inter" \
  quiet openssl verify -CAfile "$D/root/ca.crt" -untrusted "$D/inter/ca.crt" "$D/web.crt"

# Names outside the constraints: certa ca issue refuses to sign them, with
# the verifier's reason, and writes nothing ...
for n in "outside --dns evil.test outside" "excluded --dns api.secret.example.org excluded" \
  "otherdomain --spiffe spiffe://other.org/x outside"; do
  read -r f opt v why <<<"$n"
  if "$CERTA" ca issue "$D/inter" --out "$D/refused-$f" "$opt" "$v" --server >"$D/refused-$f.log" 2>&1; then
    not_ok "ca issue signed $v, outside the intermediate's name constraints"
  elif grep -q "name constraints do not allow.*$why" "$D/refused-$f.log" && [ ! -e "$D/refused-$f.crt" ] &&
    [ ! -e "$D/refused-$f.key" ]; then
    ok "ca issue refuses $v ($(grep -o "is outside the [a-z]* subtrees\|is in an excluded subtree" "$D/refused-$f.log" | head -1)), writing nothing"
  else
    not_ok "ca issue's refusal of $v"
    show "$D/refused-$f.log"
  fi
done
# ... and such certificates, signed with the intermediate's key by openssl,
# are refused by both verifiers.
rogue_leaf() { # NAME SAN
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/$1.key" \
    -out "$D/$1.csr" -subj "/CN=$1" >/dev/null 2>&1
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" "subjectAltName=$2" >"$D/$1.ext"
  openssl x509 -req -in "$D/$1.csr" -CA "$D/inter/ca.crt" -CAkey "$D/inter/ca.key" -CAcreateserial \
    -days 1 -extfile "$D/$1.ext" -out "$D/$1.leaf" >/dev/null 2>&1
  cat "$D/$1.leaf" "$D/inter/ca.crt" >"$D/$1.crt"
}
rogue_leaf outside DNS:evil.test
rogue_leaf excluded DNS:api.secret.example.org
rogue_leaf otherdomain URI:spiffe://other.org/x
for n in outside:evil.test excluded:api.secret.example.org; do
  f=${n%%:*} h=${n#*:}
  if "$CERTA" verify --trust "$D/root/ca.crt" --host "$h" "$D/$f.crt" >"$D/$f.v" 2>&1; then
    not_ok "certa verify accepted $h, outside the intermediate's name constraints"
  elif grep -q 'CERTA_E_CERT_NAME_CONSTRAINTS' "$D/$f.v"; then
    ok "certa verify refuses $h: $(grep -o "is outside the [a-z]* subtrees\|is in an excluded subtree" "$D/$f.v" | head -1)"
  else
    not_ok "certa verify refused $h, but not for the name constraints"
    show "$D/$f.v"
  fi
  if openssl verify -CAfile "$D/root/ca.crt" -untrusted "$D/inter/ca.crt" "$D/$f.crt" >"$D/$f.o" 2>&1; then
    not_ok "openssl verify accepted $h"
  elif grep -q 'subtree violation' "$D/$f.o"; then
    ok "openssl verify refuses $h ($(grep -o '[a-z]* subtree violation' "$D/$f.o" | head -1))"
  else
    not_ok "openssl verify refused $h for another reason"
    show "$D/$f.o"
  fi
done
if "$CERTA" verify --trust "$D/root/ca.crt" --spiffe spiffe://other.org/x "$D/otherdomain.crt" >"$D/od.v" 2>&1; then
  not_ok "certa verify accepted spiffe://other.org/x under a CA limited to example.org"
else
  check "certa verify refuses spiffe://other.org/x (URI outside example.org)" grep -q CERTA_E_CERT_NAME_CONSTRAINTS "$D/od.v"
fi
check "openssl verify refuses the URI outside example.org" \
  bash -c "! openssl verify -CAfile '$D/root/ca.crt' -untrusted '$D/inter/ca.crt' '$D/otherdomain.crt' >/dev/null 2>&1"

# Path length: the intermediate (pathlen 0) may not sign a CA; ca init says so.
if "$CERTA" ca init "$D/sub" --intermediate --parent "$D/inter" >"$D/sub.log" 2>&1; then
  not_ok "ca init made a CA under a pathlen:0 intermediate"
else
  check "ca init refuses a CA under a pathlen:0 intermediate, with the fix" grep -q 'pathLenConstraint 0.*--path-len 1' "$D/sub.log"
fi
if "$CERTA" ca init "$D/deep" --intermediate --parent "$D/root" --path-len 1 >"$D/deep.log" 2>&1; then
  not_ok "ca init let an intermediate claim as many levels as its root (pathlen 1)"
else
  ok "ca init refuses an intermediate's --path-len beyond what the root allows"
fi
# ... and verifiers refuse a chain that breaks it (a sub-CA made with openssl).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/sub.key" \
  -out "$D/sub.csr" -subj "/CN=Rogue Sub" >/dev/null 2>&1
printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" >"$D/sub.ext"
openssl x509 -req -in "$D/sub.csr" -CA "$D/inter/ca.crt" -CAkey "$D/inter/ca.key" -CAcreateserial \
  -days 1 -extfile "$D/sub.ext" -out "$D/sub.crt" >/dev/null 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$D/deep.key" \
  -out "$D/deep.csr" -subj "/CN=web.example.org" >/dev/null 2>&1
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
  "extendedKeyUsage=serverAuth" "subjectAltName=DNS:web.example.org" >"$D/deep.ext"
openssl x509 -req -in "$D/deep.csr" -CA "$D/sub.crt" -CAkey "$D/sub.key" -CAcreateserial -days 1 \
  -extfile "$D/deep.ext" -out "$D/deep.crt" >/dev/null 2>&1
cat "$D/deep.crt" "$D/sub.crt" "$D/inter/ca.crt" >"$D/deep.chain"
if "$CERTA" verify --trust "$D/root/ca.crt" --host web.example.org "$D/deep.chain" >"$D/deep.v" 2>&1; then
  not_ok "certa verify accepted a CA below a pathlen:0 intermediate"
else
  check "certa verify refuses a CA below the pathlen:0 intermediate" grep -q CERTA_E_CERT_PATH_LENGTH "$D/deep.v"
fi
check "openssl verify refuses it too" bash -c "! openssl verify -CAfile '$D/root/ca.crt' -untrusted '$D/inter/ca.crt' -untrusted '$D/sub.crt' '$D/deep.crt' >/dev/null 2>&1"

# curl against certa serve sending leaf + intermediate, trusting the root only.
start_certa_serve chain --http --cert "$D/web.crt" --key "$D/web.key" || finish
if curl -sS --max-time 10 --cacert "$D/root/ca.crt" --resolve "web.example.org:$SERVE_PORT:127.0.0.1" \
  "https://web.example.org:$SERVE_PORT/" >"$D/curl.out" 2>"$D/curl.err"; then
  ok "curl --cacert root accepts certa serve's leaf + intermediate"
else
  not_ok "curl against the three-level chain"
  show "$D/curl.err"
fi
stop_certa_serve chain

# ca renew: the same key, a new certificate; old leaves verify under both.
old_root_key=$(openssl x509 -in "$D/root/ca.crt" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum)
old_root_serial=$(openssl x509 -in "$D/root/ca.crt" -noout -serial)
"$CERTA" ca renew "$D/root" >"$D/renew-root.log" 2>&1 || { not_ok "ca renew root"; show "$D/renew-root.log"; }
new_root_key=$(openssl x509 -in "$D/root/ca.crt" -noout -pubkey | openssl pkey -pubin -outform der | sha256sum)
check "ca renew (root): a new serial, the same key, the old certificate kept as ca.prev.crt" \
  bash -c "[ '$old_root_key' = '$new_root_key' ] && [ '$old_root_serial' != \"\$(openssl x509 -in '$D/root/ca.crt' -noout -serial)\" ] &&
    [ '$old_root_serial' = \"\$(openssl x509 -in '$D/root/ca.prev.crt' -noout -serial)\" ]"
check "ca renew (root): constraints kept (CA:TRUE, pathlen:1)" \
  bash -c "openssl x509 -in '$D/root/ca.crt' -noout -text | grep -q 'CA:TRUE, pathlen:1'"
"$CERTA" ca renew "$D/inter" >"$D/renew-inter.log" 2>&1 || { not_ok "ca renew intermediate"; show "$D/renew-inter.log"; }
check "ca renew (intermediate): signed again by the root it recorded, name constraints kept" \
  bash -c "openssl x509 -in '$D/inter/ca.crt' -noout -text | grep -A8 'Name Constraints' | grep -q 'DNS:secret.example.org' &&
    openssl verify -CAfile '$D/root/ca.crt' '$D/inter/ca.crt' >/dev/null"
for pair in "new root, new intermediate:root/ca.crt:inter/ca.crt" "old root, old intermediate:root/ca.prev.crt:inter/ca.prev.crt" \
  "new root, old intermediate:root/ca.crt:inter/ca.prev.crt" "old root, new intermediate:root/ca.prev.crt:inter/ca.crt"; do
  what=${pair%%:*} rest=${pair#*:} i=${pair##*:}
  r=${rest%%:*}
  if openssl verify -CAfile "$D/$r" -untrusted "$D/$i" "$D/web.crt" >/dev/null 2>&1 &&
    "$CERTA" verify --trust "$D/$r" --untrusted "$D/$i" --host web.example.org <(openssl x509 -in "$D/web.crt") >/dev/null 2>&1; then
    ok "the leaf issued before the renewals verifies with the $what (certa and openssl)"
  else
    not_ok "the leaf issued before the renewals with the $what"
  fi
done
"$CERTA" ca issue "$D/inter" --out "$D/web2" --dns web.example.org --server >/dev/null 2>&1
check "a leaf issued after the renewal verifies against the old root too (same key, same name)" \
  quiet openssl verify -CAfile "$D/root/ca.prev.crt" -untrusted "$D/inter/chain.crt" "$D/web2.crt"
finish
