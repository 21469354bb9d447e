#!/usr/bin/env bash
# certa diagnose against servers broken on purpose on loopback (certa serve,
# openssl s_server): each problem is named with its finding ID, severity and
# a fix; a healthy server has no fail finding and exit 0; a fail finding
# exits 1, an unreachable port 2; --max-conns is respected, counted on the
# server side; the JSON output validates against docs/diagnose.schema.json.
. "$(dirname "$0")/lib.sh"
need_certa
need openssl python3
if ! python3 -c 'import cryptography, jsonschema' 2>/dev/null; then
  skip "python3-cryptography and python3-jsonschema are needed (make deps installs them)"
  finish
fi
SCHEMA=$REPO_DIR/docs/diagnose.schema.json

# An HTTP server for the AIA caIssuers URL of the leaf with the missing intermediate.
start_port_server aia 'Serving HTTP' python3 -u -m http.server --bind 127.0.0.1 \
  --directory "$T_TMP" @PORT@ || finish
AIA_PORT=$SRV_PORT
python3 "$LIB_DIR/diagnose_certs.py" "$T_TMP" "http://127.0.0.1:$AIA_PORT/intermediate.der" ||
  { not_ok "diagnose_certs.py made the certificates"; finish; }

# diag NAME PORT [ARGS...]: certa diagnose --json, trusting the test root;
# output in $T_TMP/NAME.json, exit status in DIAG_RC.
diag() {
  local name=$1 port=$2
  shift 2
  timeout 60 "$CERTA" diagnose "127.0.0.1:$port" --servername localhost --trust "$T_TMP/root.crt" \
    --json --timeout 3 "$@" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err"
  DIAG_RC=$?
}
# has NAME ID SEVERITY: the report holds finding ID at SEVERITY, with a fix
# when it is warn or fail.
has() {
  python3 - "$T_TMP/$1.json" "$2" "$3" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
for f in report["findings"]:
    if f["id"] == sys.argv[2] and f["severity"] == sys.argv[3]:
        if f["severity"] in ("warn", "fail") and not f["fix"]:
            sys.exit(1)
        sys.exit(0)
sys.exit(1)
PY
}
# expect NAME ID SEVERITY [RC]: one ok/not ok line.
expect() {
  local name=$1 id=$2 sev=$3 rc=${4:-}
  if has "$name" "$id" "$sev" && { [ -z "$rc" ] || [ "$DIAG_RC" -eq "$rc" ]; }; then
    ok "$name: $id ($sev)${rc:+, exit $rc}"
  else
    not_ok "$name: expected $id ($sev)${rc:+, exit $rc}; exit was $DIAG_RC"
    show "$T_TMP/$name.err"
    python3 -c 'import json,sys; [print("    ", f["severity"], f["id"], f["evidence"][:110]) for f in json.load(open(sys.argv[1]))["findings"]]' \
      "$T_TMP/$name.json" 2>/dev/null | head -40
  fi
}
valid_json() {
  if python3 -c 'import json, sys, jsonschema
jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))' \
    "$T_TMP/$1.json" "$SCHEMA" 2>"$T_TMP/$1.schema.err"; then
    ok "$1: the JSON output validates against docs/diagnose.schema.json"
  else
    not_ok "$1: the JSON output does not validate"
    show "$T_TMP/$1.schema.err"
  fi
}
no_fail() {
  if ! grep -q '"severity": *"fail"' "$T_TMP/$1.json" && [ "$DIAG_RC" -eq 0 ]; then
    ok "$1: no fail finding, exit 0"
  else
    not_ok "$1: a fail finding or exit $DIAG_RC"
    grep -B3 -A5 '"fail"' "$T_TMP/$1.json" | head -30
  fi
}

# 1. Healthy: certa serve with the good leaf, TLS 1.2 and 1.3, ALPN.
start_certa_serve healthy --cert "$T_TMP/good.crt" --key "$T_TMP/good.key" --min-version 1.2 \
  --alpn h2,http/1.1 --early-data 1024 || finish
diag healthy "$SERVE_PORT"
no_fail healthy
valid_json healthy
expect healthy CERT-TRUST ok
expect healthy PROTO-TLS13 ok
expect healthy RESUMPTION ok
if has healthy EARLY-DATA info && grep -q '0-RTT early data is accepted' "$T_TMP/healthy.json"; then
  ok "healthy: 0-RTT acceptance seen (certa serve --early-data)"
else
  not_ok "healthy: 0-RTT acceptance not seen"
fi
expect healthy DOWNGRADE-SENTINEL ok
expect healthy FALLBACK-SCSV ok
expect healthy BIG-CLIENTHELLO ok
expect healthy GROUPS-PQ ok
expect healthy RENEGOTIATION ok
expect healthy GROUPS-TLS12 info
expect healthy SIG-SCHEMES-TLS13 info
if has healthy SIG-SCHEMES-WEAK warn || has healthy GROUPS-TLS12-WEAK warn; then
  not_ok "healthy: a weak signature scheme or group reported against certa serve"
else
  ok "healthy: no weak signature scheme or group (certa signs with no SHA-1)"
fi
# The text report: grouped, 80 columns at most.
timeout 60 "$CERTA" diagnose "127.0.0.1:$SERVE_PORT" --servername localhost \
  --trust "$T_TMP/root.crt" >"$T_TMP/healthy.txt" 2>&1
if [ $? -eq 0 ] && grep -q '^certificate chain$' "$T_TMP/healthy.txt" &&
  [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T_TMP/healthy.txt")" -le 80 ]; then
  ok "healthy: text report grouped, no line over 80 columns"
else
  not_ok "healthy: text report"
  show "$T_TMP/healthy.txt"
fi
# --max-conns: certa serve logs one line per accepted connection.
before=$(grep -c '^conn #' "$SERVE_LOG")
diag budget "$SERVE_PORT" --max-conns 7
sleep 0.5
after=$(grep -c '^conn #' "$SERVE_LOG")
used=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["connections"])' "$T_TMP/budget.json")
if [ $((after - before)) -le 7 ] && [ "$used" -le 7 ] && has budget BUDGET info; then
  ok "--max-conns 7: the server saw $((after - before)) connections, the report says $used and names the skipped probes"
else
  not_ok "--max-conns 7: the server saw $((after - before)) connections, the report says $used"
fi
stop_certa_serve healthy

# 2. Certificates broken on purpose, served by certa serve.
serve_case() { # NAME CERTSTEM ID SEVERITY [SERVE ARGS...]
  local name=$1 stem=$2 id=$3 sev=$4
  shift 4
  start_certa_serve "$name" --cert "$T_TMP/$stem.crt" --key "$T_TMP/$stem.key" "$@" || return
  diag "$name" "$SERVE_PORT"
  expect "$name" "$id" "$sev"
  stop "$SERVE_PID"
}
serve_case expired expired CERT-EXPIRED fail
if [ "$DIAG_RC" -eq 1 ]; then ok "expired: a fail finding exits 1"; else not_ok "expired: exit $DIAG_RC"; fi
valid_json expired
serve_case missing-intermediate aialeaf CHAIN-INCOMPLETE fail
if grep -q 'diagnose test intermediate' "$T_TMP/missing-intermediate.json"; then
  ok "missing-intermediate: names the missing issuer, fetched from the AIA caIssuers URL"
else
  not_ok "missing-intermediate: the intermediate is not named"
fi
serve_case wrong-name wrongname CERT-NAME-MISMATCH fail
serve_case self-signed selfsigned CERT-SELF-SIGNED fail
serve_case ageing ageing CERT-LIFETIME warn
serve_case tls12-only good PROTO-TLS13 warn --max-version 1.2
# certa never renegotiates: its TLS 1.2 server answers the warning no_renegotiation.
if has tls12-only RENEGOTIATION ok && grep -q 'warning alert no_renegotiation' "$T_TMP/tls12-only.json"; then
  ok "tls12-only: RENEGOTIATION ok, refused with the warning no_renegotiation"
else
  not_ok "tls12-only: RENEGOTIATION not refused with no_renegotiation"
fi
expect tls12-only SIG-SCHEMES-TLS12 info
serve_case no-alpn-overlap good ALPN-NO-OVERLAP warn --alpn imap
start_certa_serve client-auth --cert "$T_TMP/good.crt" --key "$T_TMP/good.key" \
  --client-ca "$T_TMP/root.crt" || finish
diag client-auth "$SERVE_PORT"
expect client-auth CLIENT-AUTH-REQUIRED warn
if grep -q 'certificate authorities (1): CN=diagnose test root' "$T_TMP/client-auth.json"; then
  ok "client-auth: the CA names of the CertificateRequest are listed"
else
  not_ok "client-auth: the CA names are not listed"
fi
diag client-auth-cert "$SERVE_PORT" --cert "$T_TMP/good.crt" --key "$T_TMP/good.key"
expect client-auth-cert CLIENT-AUTH info
stop "$SERVE_PID"

# 3. What certa serve will not do: openssl s_server.
start_held_openssl_server rsa1024 -cert "$T_TMP/rsa1024.crt" -key "$T_TMP/rsa1024.key" \
  -cipher 'DEFAULT@SECLEVEL=0' || finish
diag rsa1024 "$SRV_PORT"
expect rsa1024 CERT-KEY-SIZE fail 1
stop_held_openssl_server
start_held_openssl_server tls10 -cert "$T_TMP/good.crt" -key "$T_TMP/good.key" \
  -cipher 'DEFAULT@SECLEVEL=0' -min_protocol TLSv1 || finish
diag tls10 "$SRV_PORT"
expect tls10 PROTO-TLS10 fail 1
stop_held_openssl_server
# Renegotiation: OpenSSL 3 refuses a client's by default and with -no_renegotiation,
# allows it (RFC 5746, secure) with -client_renegotiation.
reneg_case() { # NAME SEVERITY EVIDENCE S_SERVER-ARGS...
  local name=$1 sev=$2 evidence=$3
  shift 3
  start_held_openssl_server "$name" -cert "$T_TMP/good.crt" -key "$T_TMP/good.key" -tls1_2 "$@" ||
    return
  diag "$name" "$SRV_PORT"
  expect "$name" RENEGOTIATION "$sev"
  if grep -q "$evidence" "$T_TMP/$name.json"; then
    ok "$name: the evidence says '$evidence'"
  else
    not_ok "$name: no '$evidence' in the report"
  fi
  stop_held_openssl_server
}
reneg_case reneg-allowed warn 'proving both Finished messages' -client_renegotiation
reneg_case reneg-default ok 'no_renegotiation'
reneg_case reneg-none ok 'no_renegotiation' -no_renegotiation
# Weak signature schemes: SHA-1 allowed in TLS 1.2, RSA PKCS#1 v1.5 in TLS 1.3; the
# lists with what the server was told to allow.
start_held_openssl_server weak-sigs -cert "$T_TMP/rsa2048.crt" -key "$T_TMP/rsa2048.key" \
  -cipher 'DEFAULT@SECLEVEL=0' -sigalgs 'RSA-PSS+SHA256:RSA+SHA256:RSA+SHA1' || finish
diag weak-sigs "$SRV_PORT" --max-conns 60
expect weak-sigs SIG-SCHEMES-WEAK warn
if grep -q 'rsa_pkcs1_sha1' "$T_TMP/weak-sigs.json" &&
  python3 - "$T_TMP/weak-sigs.json" <<'PY'
import json, sys
f = {x["id"]: x["evidence"] for x in json.load(open(sys.argv[1]))["findings"]}
t12, t13 = f.get("SIG-SCHEMES-TLS12", ""), f.get("SIG-SCHEMES-TLS13", "")
ok = ("rsa_pss_rsae_sha256" in t12 and "rsa_pkcs1_sha256" in t12 and "sha384" not in t12
      and t13.startswith("rsa_pss_rsae_sha256") and "refused when offered alone" in t13
      and "rsa_pss_rsae_sha384" in t13.split("refused")[1])
sys.exit(0 if ok else 1)
PY
then
  ok "weak-sigs: SHA-1 named; TLS 1.2 and 1.3 lists match -sigalgs"
else
  not_ok "weak-sigs: the signature scheme lists"
  grep -A2 'SIG-SCHEMES' "$T_TMP/weak-sigs.json" | head -20
fi
stop_held_openssl_server
start_held_openssl_server ocsp-expired -cert "$T_TMP/good.crt" -key "$T_TMP/good.key" \
  -status_file "$T_TMP/good-ocsp-expired.der" || finish
diag ocsp-expired "$SRV_PORT"
expect ocsp-expired OCSP-STAPLE-INVALID fail 1
stop_held_openssl_server

# 4. Not TLS at all (the AIA HTTP server): the handshake fails, with the library's sentence.
diag not-tls "$AIA_PORT" --timeout 2
expect not-tls TLS-HANDSHAKE fail 1
if grep -q 'not a TLS record' "$T_TMP/not-tls.json" && ! has not-tls BIG-CLIENTHELLO fail; then
  ok "not-tls: says the answer is not TLS, and blames nothing else on it"
else
  not_ok "not-tls: the report"
fi

# 5. Could not run: nothing listens.
port=$(free_port)
diag unreachable "$port" --timeout 2
if [ "$DIAG_RC" -eq 2 ] && has unreachable CONN-TCP fail; then
  ok "unreachable port: CONN-TCP fail, exit 2"
else
  not_ok "unreachable port: exit $DIAG_RC"
fi
valid_json unreachable
# Usage errors exit 2 with a sentence.
"$CERTA" diagnose >/dev/null 2>"$T_TMP/usage.err"
rc1=$?
"$CERTA" diagnose 127.0.0.1:1 --max-conns 0 >/dev/null 2>>"$T_TMP/usage.err"
rc2=$?
if [ "$rc1" -eq 2 ] && [ "$rc2" -eq 2 ] && grep -q 'max-conns' "$T_TMP/usage.err"; then
  ok "usage errors exit 2 with a sentence"
else
  not_ok "usage errors"
  show "$T_TMP/usage.err"
fi
if grep -Eq 'Sanitizer|runtime error:' "$T_TMP"/*.err; then
  not_ok "a sanitizer report from certa diagnose"
  grep -l -E 'Sanitizer|runtime error:' "$T_TMP"/*.err
fi
finish
