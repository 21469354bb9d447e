#!/usr/bin/env bash
# Versions and profiles on the command line: --min-version / --max-version /
# --profile / --allow-no-ems on serve, connect and proxy (bad values are
# usage errors with a sentence), the help texts list the profiles, and
# handshakes between certa serve, certa connect and a bridging certa proxy
# under profiles: TLS 1.3 for internal, TLS 1.2 when asked, key sizes.
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

gen_cert ecdsa srv || not_ok "generate ECDSA certificate"
gen_cert rsa rsa || not_ok "generate RSA 2048 certificate"
gen_cert ecdsa384 srv384 || not_ok "generate ECDSA P-384 certificate"
pin=$(pin_of "$T_TMP/srv.crt")
pin384=$(pin_of "$T_TMP/srv384.crt")

# expect_exit NAME CODE PATTERN ARGS...: certa ARGS exits with CODE and its
# output matches PATTERN (grep -E).
expect_exit() {
  local name=$1 code=$2 pat=$3
  shift 3
  timeout 20 "$CERTA" "$@" </dev/null >"$T_TMP/usage.out" 2>&1
  local rc=$?
  if [ "$rc" -eq "$code" ] && grep -Eq -- "$pat" "$T_TMP/usage.out" &&
    ! grep -Eq 'Sanitizer|runtime error:' "$T_TMP/usage.out"; then
    ok "$name (exit $code)"
  else
    not_ok "$name: exit $rc (wanted $code), output:"
    show "$T_TMP/usage.out"
  fi
}

srv=(--cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key")
known='known profiles are public, internal, legacy, iot, high-security'

# ---- usage errors: exit 2 and a sentence, on each command ----------------------
expect_exit "serve --min-version 1.4" 2 "serve: --min-version wants 1.2 or 1.3 .* not '1.4'" serve "${srv[@]}" --min-version 1.4
expect_exit "connect --max-version ssl3" 2 "connect: --max-version wants 1.2 or 1.3 .* not 'ssl3'" connect 127.0.0.1:1 --insecure --max-version ssl3
expect_exit "proxy --min-version 1.1" 2 "proxy: --min-version wants 1.2 or 1.3" proxy --listen 127.0.0.1:1 --upstream 127.0.0.1:2 --min-version 1.1
expect_exit "connect --min-version without a value" 2 "--min-version needs a value" connect 127.0.0.1:1 --insecure --min-version
expect_exit "serve --min-version 1.3 --max-version 1.2" 2 'above --max-version .*swap them' serve "${srv[@]}" --min-version 1.3 --max-version TLSv1.2
expect_exit "connect min above max" 2 'swap them' connect 127.0.0.1:1 --insecure --max-version tls1.2 --min-version 1.3
expect_exit "serve --profile paranoid" 2 "serve: --profile: unknown profile 'paranoid': $known" serve "${srv[@]}" --profile paranoid
expect_exit "connect --profile paranoid" 2 "connect: --profile: unknown profile 'paranoid': $known" connect 127.0.0.1:1 --insecure --profile paranoid
expect_exit "proxy --profile paranoid" 2 "proxy: --profile: unknown profile 'paranoid': $known" proxy --listen 127.0.0.1:1 --upstream 127.0.0.1:2 --profile paranoid
expect_exit "connect --profile ''" 2 "--profile needs a name" connect 127.0.0.1:1 --insecure --profile ''
# A well-formed set of options gets past parsing (here to the connection).
expect_exit "connect accepts TLSv1.2 / tls1.3 spellings" 1 'cannot connect' connect 127.0.0.1:1 --insecure --min-version TLSv1.2 --max-version tls1.3 --profile public --timeout 2

# ---- help texts -----------------------------------------------------------------
profiles_re='public, internal, legacy, iot, high-security'
expect_exit "certa help lists the profiles" 0 "profiles: $profiles_re" help
expect_exit "serve --help lists the profiles and the flags" 0 "profiles: $profiles_re" serve --help
grep -q -- '--allow-no-ems' "$T_TMP/usage.out" && grep -q -- '--min-version V' "$T_TMP/usage.out" &&
  ok "serve --help shows --min-version and --allow-no-ems" || not_ok "serve --help misses the version flags"
expect_exit "connect --help lists the profiles" 0 "profiles: $profiles_re" connect --help
expect_exit "proxy --help lists the profiles" 0 "profiles: $profiles_re" proxy --help
expect_exit "certa help profiles says what high-security sets" 0 'TLS_AES_256_GCM_SHA384; groups: SecP384r1MLKEM1024,' help profiles
tr -s ' \n' ' ' <"$T_TMP/usage.out" | grep -q 'TLS_AES_256_GCM_SHA384, TLS_AES_128_CCM_SHA256;' && grep -q '^  legacy$' "$T_TMP/usage.out" &&
  ok "certa help profiles: every profile, iot's CCM suite said" || not_ok "certa help profiles"

# ---- handshakes -------------------------------------------------------------------
# connect_to NAME PORT ARGS...: sends a token through certa connect; sets RC,
# OUT and ERR files, TOKEN.
connect_to() {
  local name=$1 port=$2
  shift 2
  TOKEN=$(uniq_token)
  OUT=$T_TMP/$name.out ERR=$T_TMP/$name.err
  printf '%s\n' "$TOKEN" | timeout 20 "$CERTA" connect "127.0.0.1:$port" "$@" >"$OUT" 2>"$ERR"
  RC=$?
}

start_certa_serve internal --profile internal "${srv[@]}" && {
  connect_to internal-ok "$SERVE_PORT" --pin "$pin"
  if [ "$RC" -eq 0 ] && grep -qx -- "$TOKEN" "$OUT" && grep -Eq 'protocol: +TLSv1.3' "$ERR" &&
    wait_for "$SERVE_LOG" '^conn #1 .*TLSv1.3' 5; then
    ok "certa serve --profile internal <- certa connect: TLS 1.3, data echoed"
  else
    not_ok "serve --profile internal + connect (exit $RC)"
    show "$ERR" "$SERVE_LOG"
  fi
  connect_to internal-12 "$SERVE_PORT" --pin "$pin" --max-version 1.2
  if [ "$RC" -eq 1 ] && grep -q 'protocol_version' "$ERR" &&
    wait_for "$SERVE_LOG" '^conn #2 .*CERTA_E_PROTOCOL_VERSION.*this server allows TLS 1.3 only' 5; then
    ok "certa serve --profile internal refuses a TLS 1.2-only client, both sides say why"
  else
    not_ok "internal vs --max-version 1.2 (exit $RC)"
    show "$ERR" "$SERVE_LOG"
  fi
  stop_certa_serve internal
}

start_certa_serve public --profile public "${srv[@]}" && {
  connect_to public-12 "$SERVE_PORT" --pin "$pin" --max-version 1.2
  if [ "$RC" -eq 0 ] && grep -qx -- "$TOKEN" "$OUT" && grep -Eq 'protocol: +TLSv1.2' "$ERR" &&
    wait_for "$SERVE_LOG" '^conn #1 .*TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256' 5; then
    ok "certa serve --profile public <- connect --max-version 1.2: TLS 1.2, ECDHE-ECDSA"
  else
    not_ok "serve --profile public + connect --max-version 1.2 (exit $RC)"
    show "$ERR" "$SERVE_LOG"
  fi
  connect_to public-13 "$SERVE_PORT" --pin "$pin" --profile public
  grep -Eq 'protocol: +TLSv1.3' "$ERR" && [ "$RC" -eq 0 ] &&
    ok "certa serve --profile public <- connect --profile public: TLS 1.3 preferred" ||
    { not_ok "public <-> public (exit $RC)"; show "$ERR"; }
  # The explicit flag beats the profile, whatever the order on the line.
  connect_to override "$SERVE_PORT" --max-version 1.2 --pin "$pin" --profile internal
  if [ "$RC" -eq 0 ] && grep -Eq 'protocol: +TLSv1.2' "$ERR"; then
    ok "connect --max-version 1.2 ... --profile internal: the explicit flag wins (TLS 1.2)"
  else
    not_ok "explicit --max-version before --profile (exit $RC)"
    show "$ERR"
  fi
  connect_to hs-client "$SERVE_PORT" --pin "$pin" --profile high-security
  if [ "$RC" -eq 1 ] && grep -q "the server's certificate has an ECDSA P-256 key; the high-security profile requires" "$ERR" &&
    grep -q 'insufficient_security' "$ERR"; then
    ok "connect --profile high-security refuses a P-256 server with the sentence"
  else
    not_ok "high-security client vs P-256 server (exit $RC)"
    show "$ERR"
  fi
  connect_to ems "$SERVE_PORT" --pin "$pin" --max-version 1.2 --allow-no-ems
  if [ "$RC" -eq 0 ] && grep -q 'WARNING: --allow-no-ems' "$ERR"; then
    ok "connect --allow-no-ems prints its warning (and still connects)"
  else
    not_ok "--allow-no-ems (exit $RC)"
    show "$ERR"
  fi
  connect_to ems13 "$SERVE_PORT" --pin "$pin" --allow-no-ems
  if [ "$RC" -eq 0 ] && grep -q 'no effect while TLS 1.2 is not enabled' "$ERR" &&
    ! grep -q 'no effect' "$T_TMP/ems.err"; then
    ok "--allow-no-ems without TLS 1.2 says it has no effect (and not with --max-version 1.2)"
  else
    not_ok "--allow-no-ems note (exit $RC)"
    show "$ERR"
  fi
  stop_certa_serve public
}

# Our own certificate below the profile's minimum: refused at start-up (the
# engine refuses each connection too: test_profile).
expect_exit "serve --profile high-security with an RSA 2048 certificate refuses to start" 1 \
  "serve: --cert: the certificate has an RSA 2048 key; the high-security profile requires at least 3072 bits: reissue it with a larger key \(CERTA_E_CONFIG\)" \
  serve --profile high-security --cert "$T_TMP/rsa.crt" --key "$T_TMP/rsa.key"
expect_exit "proxy --profile high-security with a P-256 certificate refuses to start" 1 \
  "the certificate has an ECDSA P-256 key; the high-security profile requires a curve of at least 384 bits" \
  proxy --listen 127.0.0.1:1 --backend 127.0.0.1:2 --profile high-security "${srv[@]}"
expect_exit "connect --profile high-security with a P-256 client certificate" 1 \
  "certa: --cert: the certificate has an ECDSA P-256 key" \
  connect 127.0.0.1:1 --insecure --profile high-security "${srv[@]}"
start_certa_serve legacy --profile legacy --cert "$T_TMP/rsa.crt" --key "$T_TMP/rsa.key" && {
  connect_to legacy "$SERVE_PORT" --pin "$(pin_of "$T_TMP/rsa.crt")" --max-version 1.2 \
    --ciphers ECDHE-RSA-CHACHA20-POLY1305
  if [ "$RC" -eq 0 ] && grep -qx -- "$TOKEN" "$OUT" &&
    wait_for "$SERVE_LOG" '^conn #1 .*TLSv1.2 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256' 5; then
    ok "serve --profile legacy with RSA 2048 serves ECDHE-RSA-CHACHA20 over TLS 1.2"
  else
    not_ok "legacy RSA server (exit $RC)"
    show "$ERR" "$SERVE_LOG"
  fi
  stop_certa_serve legacy
}

start_certa_serve hs --profile high-security --cert "$T_TMP/srv384.crt" --key "$T_TMP/srv384.key" && {
  connect_to hs-ok "$SERVE_PORT" --pin "$pin384" --profile high-security
  if [ "$RC" -eq 0 ] && grep -qx -- "$TOKEN" "$OUT" && grep -Eq 'TLS_AES_256_GCM_SHA384' "$ERR" &&
    wait_for "$SERVE_LOG" '^conn #1 .*TLSv1.3 TLS_AES_256_GCM_SHA384 SecP384r1MLKEM1024' 5; then
    ok "high-security on both sides with P-384: TLS 1.3, AES-256-GCM, SecP384r1MLKEM1024"
  else
    not_ok "high-security <-> high-security (exit $RC)"
    show "$ERR" "$SERVE_LOG"
  fi
  connect_to hs-aes128 "$SERVE_PORT" --pin "$pin384" --ciphers TLS_AES_128_GCM_SHA256
  if [ "$RC" -eq 1 ] && wait_for "$SERVE_LOG" '^conn #2 .*CERTA_E_NO_COMMON_CIPHER' 5; then
    ok "a high-security server refuses an AES-128-only client"
  else
    not_ok "high-security server vs AES-128 client (exit $RC)"
    show "$ERR" "$SERVE_LOG"
  fi

  # certa proxy (bridge) with the same flags in front of it.
  pport=$(free_port)
  bg "$T_TMP/proxy.log" "$CERTA" proxy --listen "127.0.0.1:$pport" --upstream "127.0.0.1:$SERVE_PORT" \
    --pin "$pin384" --profile internal --max-version 1.3
  proxy_pid=$BG_PID
  if wait_for "$T_TMP/proxy.log" 'listening on' 10; then
    tok=$(uniq_token)
    got=$(timeout 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$pport; printf '%s\n' '$tok' >&3; read -r -t 5 line <&3; echo \"\$line\"")
    if [ "$got" = "$tok" ] && wait_for "$T_TMP/proxy.log" 'TLSv1.3' 5; then
      ok "certa proxy --profile internal bridges into the high-security server (TLS 1.3)"
    else
      not_ok "proxy --profile internal bridge (got '$got')"
      show "$T_TMP/proxy.log" "$SERVE_LOG"
    fi
  else
    not_ok "certa proxy --profile internal did not start"
    show "$T_TMP/proxy.log"
  fi
  stop "$proxy_pid"
  stop_certa_serve hs
}

finish
