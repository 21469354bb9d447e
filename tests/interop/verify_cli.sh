#!/usr/bin/env bash
# certa verify end to end: the openssl CLI makes a small CA hierarchy
# (root -> intermediate -> leaf, ECDSA P-256) in a temp dir; certa verify
# must accept the good chain (exit 0, path printed), refuse expired / wrong
# host / wrong purpose / incomplete chains with an explanation (exit 1), and
# report unreadable input and bad options (exit 2).
# Env: CERTA = the certa binary (tests/run.sh sets it).
set -u
CERTA=${CERTA:-$(cd "$(dirname "$0")/../.." && pwd)/build/certa}
T=20 # seconds per command

if [ ! -x "$CERTA" ]; then
    echo "not ok - certa binary not found at $CERTA"
    exit 1
fi
if ! command -v openssl >/dev/null; then
    echo "not ok - openssl CLI not found (apt-get install openssl)"
    exit 1
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/certa-verify-cli.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1

ossl() { timeout "$T" openssl "$@" 2>>openssl.log; }
ec_key() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# ---- the hierarchy --------------------------------------------------------
setup() {
    ec_key root.key && ec_key int.key && ec_key leaf.key && ec_key client.key && ec_key other.key ||
        return 1
    ossl req -x509 -new -key other.key -out other-root.pem -days 3650 -subj "/CN=Some Other Root" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" || return 1
    ossl req -x509 -new -key root.key -out root.pem -days 3650 -subj "/O=Certa CLI Test/CN=CLI Test Root" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" || return 1
    printf '%s\n' "basicConstraints=critical,CA:TRUE,pathlen:0" \
        "keyUsage=critical,keyCertSign,cRLSign" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >int.ext
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=serverAuth" \
        "subjectAltName=DNS:svc.example.test,DNS:*.api.example.test,IP:127.0.0.1,IP:::1" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >leaf.ext
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature" \
        "extendedKeyUsage=clientAuth" \
        "subjectAltName=URI:spiffe://example.test/ns/prod/sa/api" \
        "subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid" >client.ext
    ossl req -new -key int.key -subj "/O=Certa CLI Test/CN=CLI Test Intermediate" -out int.csr &&
        ossl x509 -req -in int.csr -CA root.pem -CAkey root.key -set_serial 2 -days 1825 \
            -extfile int.ext -out int.pem || return 1
    ossl req -new -key leaf.key -subj "/CN=svc.example.test" -out leaf.csr &&
        ossl x509 -req -in leaf.csr -CA int.pem -CAkey int.key -set_serial 3 -days 30 \
            -extfile leaf.ext -out leaf.pem || return 1
    ossl req -new -key client.key -subj "/O=Certa CLI Workloads" -out client.csr &&
        ossl x509 -req -in client.csr -CA int.pem -CAkey int.key -set_serial 4 -days 30 \
            -extfile client.ext -out client.pem || return 1
    cat leaf.pem int.pem >chain.pem
    cat client.pem int.pem >client-chain.pem
    mkdir anchors && cp root.pem anchors/root.crt && echo "not a certificate" >anchors/README
}
if ! setup; then
    echo "not ok - openssl could not make the test hierarchy: $(tail -n 5 openssl.log)"
    exit 1
fi

# ---- helpers ----------------------------------------------------------------
pass=0 fail=0
# run NAME WANT_EXIT ARGS... : runs certa verify, keeps stdout+stderr in $out
out=""
run() {
    local name=$1 want=$2
    shift 2
    out=$(timeout "$T" "$CERTA" verify "$@" 2>&1)
    local rc=$?
    if [ "$rc" -eq "$want" ]; then
        return 0
    fi
    echo "not ok - $name: exit $rc, want $want"
    printf '%s\n' "$out" | sed 's/^/#   /'
    fail=$((fail + 1))
    return 1
}
# expect NAME PATTERN... : every (grep -E) pattern appears in $out
expect() {
    local name=$1
    shift
    local p
    for p in "$@"; do
        if ! printf '%s\n' "$out" | grep -qE -- "$p"; then
            echo "not ok - $name: output lacks /$p/"
            printf '%s\n' "$out" | sed 's/^/#   /'
            fail=$((fail + 1))
            return 1
        fi
    done
    echo "ok - $name"
    pass=$((pass + 1))
}

future=$(date -u -d '+60 days' +%Y-%m-%dT%H:%M:%SZ)
soon_offset=$(TZ=Asia/Kolkata date -d '+1 day' +%Y-%m-%dT%H:%M:%S%:z)
past=$(date -u -d '-2 days' +%Y-%m-%dT%H:%M:%SZ)

# ---- exit 0 -----------------------------------------------------------------
run "good chain" 0 --trust root.pem --host svc.example.test chain.pem &&
    expect "good chain: exit 0, path printed" \
        '^verified: CN=svc\.example\.test' \
        '0 leaf +CN=svc\.example\.test' \
        '1 intermediate +CN=CLI Test Intermediate' \
        '2 root +CN=CLI Test Root' \
        'expires in (29|30) days' 'expires in 18(24|25) days' 'expires in 36(49|50) days' \
        'checked: host svc\.example\.test, purpose server'
run "intermediate via --untrusted" 0 --trust root.pem --untrusted int.pem --host svc.example.test leaf.pem &&
    expect "intermediate via --untrusted: exit 0" '^verified: CN=svc\.example\.test' '1 intermediate'
run "trust directory" 0 --trust anchors --host svc.example.test chain.pem &&
    expect "trust directory (non-PEM files skipped): exit 0" '^verified: ' '2 root +CN=CLI Test Root'
run "wildcard" 0 --trust root.pem --host x.api.example.test chain.pem &&
    expect "wildcard SAN: exit 0" '^verified: '
run "IPv4" 0 --trust root.pem --ip 127.0.0.1 chain.pem && expect "IP SAN 127.0.0.1: exit 0" '^verified: '
run "IPv6" 0 --trust root.pem --ip ::1 chain.pem && expect "IP SAN ::1: exit 0" '^verified: '
run "SPIFFE" 0 --trust root.pem --purpose client --spiffe spiffe://example.test/ns/prod/sa/api \
    client-chain.pem && expect "SPIFFE ID, client purpose: exit 0" '^verified: O=Certa CLI Workloads'
run "--at with offset" 0 --trust root.pem --host svc.example.test --at "$soon_offset" chain.pem &&
    expect "--at $soon_offset: exit 0" '^verified: ' 'expires in (28|29) days'
ossl x509 -in leaf.pem -outform DER -out leaf.der
run "DER leaf" 0 --trust root.pem --untrusted int.pem --host svc.example.test leaf.der &&
    expect "DER leaf: exit 0" '^verified: CN=svc\.example\.test'
run "--help" 0 --help && expect "--help prints usage" '^usage: certa verify' '--trust' '--at'

# ---- exit 1 -----------------------------------------------------------------
run "expired leaf" 1 --trust root.pem --host svc.example.test --at "$future" chain.pem &&
    expect "expired leaf (--at +60 days): exit 1 with the reason" \
        '^certa: verification failed: .*svc\.example\.test' '\(CERTA_E_CERT_EXPIRED\)$'
run "not yet valid" 1 --trust root.pem --host svc.example.test --at "$past" chain.pem &&
    expect "not yet valid (--at -2 days): exit 1" '\(CERTA_E_CERT_NOT_YET_VALID\)$'
run "wrong host" 1 --trust root.pem --host other.example.test chain.pem &&
    expect "wrong host: exit 1 naming the host" \
        '^certa: verification failed: .*other\.example\.test' '\(CERTA_E_CERT_NAME_MISMATCH\)$'
run "wrong IP" 1 --trust root.pem --ip 10.9.9.9 chain.pem &&
    expect "wrong IP: exit 1" '10\.9\.9\.9' '\(CERTA_E_CERT_NAME_MISMATCH\)$'
run "wrong SPIFFE ID" 1 --trust root.pem --purpose client --spiffe spiffe://example.test/ns/prod/sa/web \
    client-chain.pem && expect "wrong SPIFFE ID: exit 1" '\(CERTA_E_CERT_NAME_MISMATCH\)$'
run "wrong purpose" 1 --trust root.pem --purpose client chain.pem &&
    expect "serverAuth leaf as a client: exit 1" '\(CERTA_E_CERT_PURPOSE\)$'
run "missing intermediate" 1 --trust root.pem --host svc.example.test leaf.pem &&
    expect "missing intermediate: exit 1" '\(CERTA_E_CERT_UNKNOWN_ISSUER\)$'
run "other root" 1 --trust other-root.pem --host svc.example.test chain.pem &&
    expect "chain to a root not in the trust set: exit 1" '\(CERTA_E_CERT_UNKNOWN_ISSUER\)$'

# ---- exit 2 -----------------------------------------------------------------
run "unreadable leaf" 2 --trust root.pem missing.pem &&
    expect "unreadable LEAF.pem: exit 2 with the reason" 'missing\.pem' 'No such file'
run "unreadable trust" 2 --trust nowhere.pem chain.pem &&
    expect "unreadable --trust: exit 2" 'nowhere\.pem'
run "not PEM" 2 --trust root.pem int.ext && expect "leaf file without PEM: exit 2" 'no .*CERTIFICATE'
for bad in "2026-13-01T00:00:00Z" "2026-02-29T00:00:00Z" "2026-11-23 10:00:00Z" \
    "2026-11-23T10:00:00" "2026-11-23T25:00:00Z" "2026-11-23T10:00:00+2:00" "tomorrow" \
    "2026-11-23T10:00:00Zjunk"; do
    run "bad --at $bad" 2 --trust root.pem --at "$bad" chain.pem &&
        expect "bad --at '$bad': exit 2" 'RFC 3339'
done
run "two names" 2 --trust root.pem --host a.example --ip 127.0.0.1 chain.pem &&
    expect "--host and --ip together: exit 2" 'one of --host'
run "bad purpose" 2 --trust root.pem --purpose email chain.pem && expect "--purpose email: exit 2" 'purpose'
run "bad --ip" 2 --trust root.pem --ip 300.1.1.1 chain.pem && expect "--ip 300.1.1.1: exit 2" 'not an IPv4'
run "unknown option" 2 --frobnicate chain.pem && expect "unknown option: exit 2" 'unknown option'
run "no leaf" 2 --trust root.pem && expect "no LEAF.pem: exit 2" 'which certificate'

echo "# verify_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
