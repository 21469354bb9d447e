#!/usr/bin/env bash
# Signature schemes and TLS_AES_128_CCM_SHA256 against openssl, both ways.
#
# For each key type (P-521, Ed448, RSA-PSS without and with parameters, and
# RSA for rsa_pkcs1_* in TLS 1.2): `certa serve` with such a certificate
# against `openssl s_client -sigalgs SCHEME` (the client offers that scheme
# alone, so the handshake succeeds only if certa signs with it; openssl's
# "Peer signature type" / "Peer signing digest" and certa's trace must say
# so), and `certa connect` against `openssl s_server -sigalgs SCHEME` with
# the same certificate (certa's summary must name the scheme). TLS 1.3, and
# TLS 1.2 where the scheme exists there (all of these do). Refusals: an
# RSA-PSS key restricted to SHA-384 never signs SHA-256, and rsa_pkcs1 is
# never a TLS 1.3 CertificateVerify (handshake_failure).
# certa verify accepts chains openssl signed with P-521, Ed448 and RSA-PSS
# keys, and refuses them under a same-name CA with another key.
# CCM: certa serve --ciphers / --profile iot and certa connect --ciphers with
# openssl -ciphersuites TLS_AES_128_CCM_SHA256, data both ways; a default
# certa serve refuses a CCM-only client.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

# s_client_to PORT VERSION ARGS...: one bounded s_client run, "hello" on its
# stdin; output in $OUT.
s_client_to() {
  local port=$1 v=$2
  shift 2
  OUT=$( (echo hello; sleep 1) | timeout 20 openssl s_client -connect "127.0.0.1:$port" \
    -tls${v/./_} "$@" 2>&1)
}

# serve_case KIND SCHEME TYPE DIGEST: certa serve with KIND's certificate;
# TYPE/DIGEST are what s_client prints ("Peer signature type: TYPE",
# "Peer signing digest: DIGEST"; DIGEST empty for EdDSA).
serve_case() {
  local kind=$1 scheme=$2 type=$3 digest=$4 v n=0
  start_certa_serve "serve-$kind-$scheme" --cert "$T_TMP/$kind.crt" --key "$T_TMP/$kind.key" \
    --min-version 1.2 --trace || return
  for v in 1.3 1.2; do
    n=$((n + 1))
    s_client_to "$SERVE_PORT" "$v" -sigalgs "$scheme"
    local want_trace="CertificateVerify \($scheme\)"
    [ "$v" = 1.2 ] && want_trace="ServerKeyExchange \(.*signed $scheme\)"
    if echo "$OUT" | grep -q "Peer signature type: $type" &&
      { [ -z "$digest" ] || echo "$OUT" | grep -q "Peer signing digest: $digest"; } &&
      echo "$OUT" | grep -Eq "New, TLSv$v" && wait_for "$SERVE_LOG" "\[#$n\] > $want_trace" 5 &&
      conn_line "$SERVE_LOG" "$n" | grep -q "in=6 out=6"; then
      ok "openssl s_client -sigalgs $scheme -> certa serve ($kind), TLS $v: signed $scheme, echo"
    else
      not_ok "openssl s_client -sigalgs $scheme -> certa serve ($kind), TLS $v"
      echo "$OUT" | grep -E "Peer sig|New,|alert|error" | sed 's/^/#   /' | head -6
      show "$SERVE_LOG"
    fi
  done
  stop_certa_serve "serve-$kind-$scheme"
}

# connect_case KIND SCHEME [CERTA ARGS...]: openssl s_server with KIND's
# certificate, signing with SCHEME only; certa connect must report it.
connect_case() {
  local kind=$1 scheme=$2 v
  shift 2
  for v in 1.3 1.2; do
    start_held_openssl_server "s-$kind-$scheme-$v" -tls${v/./_} -sigalgs "$scheme" \
      -cert "$T_TMP/$kind.crt" -key "$T_TMP/$kind.key" || continue
    echo "ping-$kind" | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --insecure --timeout 10 \
      --min-version 1.2 "$@" >/dev/null 2>"$T_TMP/c-$kind-$v.err"
    local rc=$?
    if [ $rc -eq 0 ] && grep -q "server signature:  $scheme\$" "$T_TMP/c-$kind-$v.err" &&
      grep -q "protocol:          TLSv$v" "$T_TMP/c-$kind-$v.err" &&
      wait_for "$SRV_LOG" "ping-$kind" 5; then
      ok "certa connect -> openssl s_server -sigalgs $scheme ($kind), TLS $v"
    else
      not_ok "certa connect -> openssl s_server -sigalgs $scheme ($kind), TLS $v (rc $rc)"
      show "$T_TMP/c-$kind-$v.err" "$SRV_LOG"
    fi
    stop_held_openssl_server
  done
}

for k in ecdsa521 ed448 rsapss rsapss384 rsa ecdsa; do
  gen_cert "$k" "$k" || { not_ok "gen_cert $k"; show "$T_TMP/$k.gen.log"; }
done

# ---- signature schemes ---------------------------------------------------------
serve_case ecdsa521 ecdsa_secp521r1_sha512 ECDSA SHA512
serve_case ed448 ed448 ed448 ""
serve_case rsapss rsa_pss_pss_sha256 RSA-PSS SHA256
serve_case rsapss rsa_pss_pss_sha512 RSA-PSS SHA512
serve_case rsapss384 rsa_pss_pss_sha384 RSA-PSS SHA384
# RFC 8422 5.1.1: in TLS 1.2 a P-521 certificate needs a client naming secp521r1.
connect_case ecdsa521 ecdsa_secp521r1_sha512 --groups x25519,secp521r1
connect_case ed448 ed448
connect_case rsapss rsa_pss_pss_sha256
connect_case rsapss rsa_pss_pss_sha384
connect_case rsapss384 rsa_pss_pss_sha384

# An RSA-PSS key restricted to SHA-384 signs nothing else: a client that
# offers only rsa_pss_pss_sha256 is refused (handshake_failure, a sentence).
start_certa_serve serve-restricted --cert "$T_TMP/rsapss384.crt" --key "$T_TMP/rsapss384.key" && {
  s_client_to "$SERVE_PORT" 1.3 -sigalgs rsa_pss_pss_sha256
  if echo "$OUT" | grep -q "alert handshake failure" &&
    wait_for "$SERVE_LOG" "no signature scheme that fits this server's RSA-PSS 2048 \(SHA-384 only\) key" 5; then
    ok "RSA-PSS key restricted to SHA-384: s_client -sigalgs rsa_pss_pss_sha256 refused (handshake_failure)"
  else
    not_ok "RSA-PSS key restricted to SHA-384 vs rsa_pss_pss_sha256"
    echo "$OUT" | grep -E "alert|error|New," | sed 's/^/#   /' | head -4
    show "$SERVE_LOG"
  fi
  stop_certa_serve serve-restricted
}

# rsa_pkcs1_*: TLS 1.2 ServerKeyExchange both ways; never TLS 1.3.
start_certa_serve serve-pkcs1 --cert "$T_TMP/rsa.crt" --key "$T_TMP/rsa.key" --min-version 1.2 --trace && {
  for s in rsa_pkcs1_sha256 rsa_pkcs1_sha384 rsa_pkcs1_sha512; do
    s_client_to "$SERVE_PORT" 1.2 -sigalgs "RSA+${s#rsa_pkcs1_}"
    d=${s#rsa_pkcs1_}
    if echo "$OUT" | grep -q "Peer signature type: RSA$" &&
      echo "$OUT" | grep -q "Peer signing digest: ${d^^}" && echo "$OUT" | grep -q "New, TLSv1.2" &&
      wait_for "$SERVE_LOG" "signed $s\)" 5; then
      ok "openssl s_client -sigalgs RSA+${d^^} -> certa serve (RSA), TLS 1.2: signed $s"
    else
      not_ok "openssl s_client $s -> certa serve, TLS 1.2"
      echo "$OUT" | grep -E "Peer sig|New,|alert|error" | sed 's/^/#   /' | head -4
    fi
  done
  s_client_to "$SERVE_PORT" 1.3 -sigalgs rsa_pkcs1_sha256
  if echo "$OUT" | grep -q "alert handshake failure" && ! echo "$OUT" | grep -q "New, TLSv1.3"; then
    ok "TLS 1.3 client offering only rsa_pkcs1_sha256 -> certa serve (RSA): handshake_failure"
  else
    not_ok "TLS 1.3 rsa_pkcs1_sha256 only was not refused"
    echo "$OUT" | grep -E "Peer sig|New,|alert|error" | sed 's/^/#   /' | head -4
  fi
  stop_certa_serve serve-pkcs1
}
start_held_openssl_server s-pkcs1 -tls1_2 -sigalgs RSA+SHA384 -cert "$T_TMP/rsa.crt" -key "$T_TMP/rsa.key" && {
  echo ping-pkcs1 | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --insecure --timeout 10 \
    --min-version 1.2 >/dev/null 2>"$T_TMP/c-pkcs1.err"
  rc=$?
  if [ $rc -eq 0 ] && grep -q "server signature:  rsa_pkcs1_sha384\$" "$T_TMP/c-pkcs1.err"; then
    ok "certa connect -> openssl s_server -sigalgs RSA+SHA384, TLS 1.2: rsa_pkcs1_sha384"
  else
    not_ok "certa connect -> openssl s_server rsa_pkcs1_sha384 (rc $rc)"
    show "$T_TMP/c-pkcs1.err" "$SRV_LOG"
  fi
  stop_held_openssl_server
}

# ---- certa verify: chains openssl signed with these keys ---------------------------
# chain_case CA_KIND LEAF_KIND: a CA of one kind issues a leaf of the other
# (openssl x509 -req: RSASSA-PSS signatures for an RSA-PSS CA, Ed448 for an
# Ed448 CA, ecdsa-with-SHA256 for P-521); certa verify must accept it, and
# refuse it against another CA of the same kind.
chain_case() {
  local ca=$1 leaf=$2 name=chain-$1-$2 c alg
  # CA:TRUE certificates for two keys of the kind, with the same name: the
  # second differs only in its key, so the leaf's signature is what fails
  # under it.
  for c in ca other; do
    gen_cert "$ca" "$name-$c" &&
      openssl req -x509 -key "$T_TMP/$name-$c.key" -out "$T_TMP/$name-$c.crt" -days 2 \
        -subj "/CN=certa sigs CA $ca" -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign" >>"$T_TMP/$name.gen.log" 2>&1 ||
      { not_ok "$name: CA"; show "$T_TMP/$name.gen.log"; return; }
  done
  gen_cert "$leaf" "$name-leaf" && openssl x509 -x509toreq -in "$T_TMP/$name-leaf.crt" \
    -signkey "$T_TMP/$name-leaf.key" -out "$T_TMP/$name.csr" >>"$T_TMP/$name.gen.log" 2>&1 &&
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=DNS:localhost" >"$T_TMP/$name.ext" &&
    openssl x509 -req -in "$T_TMP/$name.csr" -CA "$T_TMP/$name-ca.crt" -CAkey "$T_TMP/$name-ca.key" \
      -CAcreateserial -days 2 -extfile "$T_TMP/$name.ext" -out "$T_TMP/$name-issued.crt" \
      >>"$T_TMP/$name.gen.log" 2>&1 || { not_ok "$name: issue"; show "$T_TMP/$name.gen.log"; return; }
  alg=$(openssl x509 -in "$T_TMP/$name-issued.crt" -noout -text |
    sed -n 's/^ *Signature Algorithm: *\([^ ]*\).*/\1/p' | head -n1)
  if "$CERTA" verify --trust "$T_TMP/$name-ca.crt" --host localhost "$T_TMP/$name-issued.crt" \
    >"$T_TMP/$name.out" 2>&1; then
    ok "certa verify: $ca CA -> $leaf leaf ($alg) accepted"
  else
    not_ok "certa verify: $ca CA -> $leaf leaf ($alg)"
    show "$T_TMP/$name.out"
  fi
  if ! "$CERTA" verify --trust "$T_TMP/$name-other.crt" --host localhost "$T_TMP/$name-issued.crt" \
    >"$T_TMP/$name.bad" 2>&1 && grep -q CERTA_E_CERT_BAD_SIGNATURE "$T_TMP/$name.bad"; then
    ok "certa verify: $ca CA -> $leaf leaf refused under a same-name $ca CA (bad signature)"
  else
    not_ok "certa verify: $ca CA -> $leaf leaf under the wrong CA"
    show "$T_TMP/$name.bad"
  fi
}
chain_case ed448 rsapss
chain_case rsapss ecdsa521
chain_case rsapss384 ed448
chain_case ecdsa521 rsapss384

# ---- TLS_AES_128_CCM_SHA256 ----------------------------------------------------
CCM=TLS_AES_128_CCM_SHA256
for how in "--ciphers $CCM" "--profile iot"; do
  # shellcheck disable=SC2086 # two words on purpose
  start_certa_serve "serve-ccm" --cert "$T_TMP/ecdsa.crt" --key "$T_TMP/ecdsa.key" $how || continue
  s_client_to "$SERVE_PORT" 1.3 -ciphersuites "$CCM"
  if echo "$OUT" | grep -q "New, TLSv1.3, Cipher is $CCM" && echo "$OUT" | grep -q "^hello$" &&
    conn_line "$SERVE_LOG" 1 | grep -q "TLSv1.3 $CCM .*in=6 out=6"; then
    ok "openssl s_client -ciphersuites $CCM -> certa serve $how: echo"
  else
    not_ok "openssl s_client -ciphersuites $CCM -> certa serve $how"
    echo "$OUT" | grep -E "Cipher|alert|error" | sed 's/^/#   /' | head -4
    show "$SERVE_LOG"
  fi
  stop_certa_serve "serve-ccm"
done
start_certa_serve serve-noccm --cert "$T_TMP/ecdsa.crt" --key "$T_TMP/ecdsa.key" && {
  s_client_to "$SERVE_PORT" 1.3 -ciphersuites "$CCM"
  if echo "$OUT" | grep -q "alert handshake failure" &&
    wait_for "$SERVE_LOG" "no TLS 1.3 cipher suite this server allows" 5; then
    ok "certa serve with the default suites refuses a CCM-only client (handshake_failure)"
  else
    not_ok "default certa serve and a CCM-only client"
    show "$SERVE_LOG"
  fi
  stop_certa_serve serve-noccm
}
start_held_openssl_server s-ccm -tls1_3 -ciphersuites "$CCM" -cert "$T_TMP/ecdsa.crt" \
  -key "$T_TMP/ecdsa.key" && {
  echo ping-ccm | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --insecure --timeout 10 \
    --ciphers "$CCM" >/dev/null 2>"$T_TMP/c-ccm.err"
  rc=$?
  if [ $rc -eq 0 ] && grep -q "cipher suite:      $CCM" "$T_TMP/c-ccm.err" &&
    wait_for "$SRV_LOG" "ping-ccm" 5; then
    ok "certa connect --ciphers $CCM -> openssl s_server -ciphersuites $CCM: data arrives"
  else
    not_ok "certa connect --ciphers $CCM -> openssl s_server (rc $rc)"
    show "$T_TMP/c-ccm.err" "$SRV_LOG"
  fi
  stop_held_openssl_server
}
finish
