#!/usr/bin/env bash
# Installs the Debian packages certa's build, tests and demo need, only when
# something is missing (so repeated runs are quick and need no network).
# `deps.sh demo`: only what the build and `make demo` need (no test peers,
# no Chromium).
set -euo pipefail
pkgs=(build-essential libssl-dev zlib1g-dev libbrotli-dev openssl curl python3 ca-certificates
      libhiredis-dev # hiredis: the tools' --store redis://
      libcjson-dev # cJSON: the tools' CT log lists
      libpcap-dev # libpcap: certa fingerprint reads capture files
      # the SPIFFE Workload API client (serve/proxy --spiffe-socket, certa svid):
      # gRPC's C core, protobuf-c, and protoc-c to generate its messages at build time
      libgrpc-dev libprotobuf-c-dev protobuf-c-compiler)
if [ "${1:-}" != demo ]; then
  pkgs+=(gnutls-bin clang chromium libclang-rt-dev procps iproute2 netcat-openbsd stunnel4
         python3-ecdsa python3-gmpy2 python3-brotli # these three: tlsfuzzer (make conformance)
         redis-server # the fleet tests' store
         pkg-config cmake # building the examples against the installed library
         nginx-light # a backend reading PROXY protocol headers
         wrk # tests/slow/proxy_faults.sh: reload under load, a new TLS connection per request
         tshark # tests/interop/keylog.sh: capture loopback, decrypt with the key log;
                # fingerprint.sh: captures for certa fingerprint, JA3 to compare
         tcpdump # fingerprint.sh: a second capture, Linux cooked v2 (-i any -y LINUX_SLL2)
         python3-cryptography python3-jsonschema # diagnose.sh: broken certificates, the schema
         testssl.sh # tests/slow/diagnose_testssl.sh: an independent second opinion
         pebble # the ACME test CA (and pebble-challtestsrv) for certa acme
         haproxy # a load balancer in front of certa proxy sending PROXY v1/v2
         groff-base man-db # rendering the generated man pages (tests/behaviour/man_pages.sh)
         abigail-tools # abidw/abidiff: the ABI against packaging/abi/ (abi_check.sh)
         # tests/interop/pkcs11.sh: keys on a SoftHSM token (--key pkcs11:...) through
         # libcrypto's pkcs11 engine (libp11); pkcs11-tool imports the keys, and
         # libp11-kit-dev's pkcs11.h builds the test's small PKCS#11 helper
         softhsm2 libengine-pkcs11-openssl opensc p11-kit libp11-kit-dev
         # tests/interop/spiffe_workload.sh: a Workload API server in Python
         # (Debian's /usr/bin/python3), its messages from protoc --python_out
         python3-grpcio python3-protobuf protobuf-compiler)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
