#!/usr/bin/env bash
# A second opinion on certa diagnose from an independent tool: testssl.sh
# (Debian testssl.sh) on two of the broken servers of tests/interop/diagnose.sh,
# restricted to the checks that matter so each run stays well under a minute:
#   TLS 1.0 enabled   certa: PROTO-TLS10 fail    testssl --protocols: TLS1 "offered"
#   expired leaf      certa: CERT-EXPIRED fail   testssl -S: cert_expirationStatus "expired"
. "$(dirname "$0")/../interop/lib.sh"
need_certa
need openssl python3 testssl
python3 -c 'import cryptography' 2>/dev/null || { skip "python3-cryptography is needed"; finish; }
python3 "$REPO_DIR/tests/interop/diagnose_certs.py" "$T_TMP" "http://127.0.0.1:1/unused.der" ||
  { not_ok "diagnose_certs.py made the certificates"; finish; }

# testssl_field JSON ID: prints the "finding" of entry ID in testssl's --jsonfile.
testssl_field() {
  python3 -c 'import json, sys
for f in json.load(open(sys.argv[1])):
    if f.get("id") == sys.argv[2]:
        print(f.get("finding", ""))' "$1" "$2"
}
certa_severity() { # JSON ID
  python3 -c 'import json, sys
print(" ".join(f["severity"] for f in json.load(open(sys.argv[1]))["findings"] if f["id"] == sys.argv[2]))' "$1" "$2"
}
run_testssl() { # NAME PORT CHECK...
  local name=$1 port=$2
  shift 2
  timeout 120 testssl --openssl /usr/bin/openssl --warnings off --quiet --color 0 --ip one \
    --jsonfile "$T_TMP/$name.testssl.json" "$@" "127.0.0.1:$port" >"$T_TMP/$name.testssl.out" 2>&1
}

# 1. TLS 1.0 enabled (openssl s_server; Debian's openssl 3.0 needs SECLEVEL=0 for it).
start_held_openssl_server tls10 -cert "$T_TMP/good.crt" -key "$T_TMP/good.key" \
  -cipher 'DEFAULT@SECLEVEL=0' -min_protocol TLSv1 || finish
"$CERTA" diagnose "127.0.0.1:$SRV_PORT" --servername localhost --trust "$T_TMP/root.crt" --json \
  >"$T_TMP/tls10.json" 2>"$T_TMP/tls10.err"
run_testssl tls10 "$SRV_PORT" --protocols
stop_held_openssl_server
ours=$(certa_severity "$T_TMP/tls10.json" PROTO-TLS10)
theirs=$(testssl_field "$T_TMP/tls10.testssl.json" TLS1)
if [ "$ours" = fail ] && [[ $theirs == offered* ]]; then
  ok "TLS 1.0 enabled: certa PROTO-TLS10 fail, testssl TLS1 '$theirs'"
else
  not_ok "TLS 1.0 enabled: certa PROTO-TLS10 '$ours', testssl TLS1 '$theirs'"
  show "$T_TMP/tls10.testssl.out"
fi

# 2. Expired leaf (certa serve).
start_certa_serve expired --cert "$T_TMP/expired.crt" --key "$T_TMP/expired.key" || finish
"$CERTA" diagnose "127.0.0.1:$SERVE_PORT" --servername localhost --trust "$T_TMP/root.crt" --json \
  >"$T_TMP/expired.json" 2>"$T_TMP/expired.err"
run_testssl expired "$SERVE_PORT" -S
stop "$SERVE_PID"
ours=$(certa_severity "$T_TMP/expired.json" CERT-EXPIRED)
theirs=$(testssl_field "$T_TMP/expired.testssl.json" cert_expirationStatus)
if [ "$ours" = fail ] && [[ $theirs == expired* ]]; then
  ok "expired leaf: certa CERT-EXPIRED fail, testssl cert_expirationStatus '$theirs'"
else
  not_ok "expired leaf: certa CERT-EXPIRED '$ours', testssl cert_expirationStatus '$theirs'"
  show "$T_TMP/expired.testssl.out"
fi
finish
