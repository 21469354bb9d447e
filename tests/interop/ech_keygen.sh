#!/usr/bin/env bash
# certa ech keygen against BoringSSL's bssl (../shared/peers/bssl): a key
# and config certa made serve bssl server (-ech-key, -ech-config), and bssl
# client with certa's ech.configs (binary, and the base64 decoded) connects
# with "Encrypted ClientHello: yes" and the inner server name at the server;
# a config from another key is refused (the control: the check can fail).
# The other way: bssl generate-ech's files (raw key, ECHConfig,
# ECHConfigList) load with certa's loader (certa ech check, show), and a
# pairing of keys that do not belong together is refused with a sentence.
# Both KEMs for the keygen side where bssl has them (X25519; P-256 files
# are checked with openssl).
. "$(dirname "$0")/lib.sh"
need openssl base64
need_certa
need_bssl

# keygen: the files, their modes and their forms.
K=$T_TMP/keys
if "$CERTA" ech keygen --public-name public.example --out "$K" --config-id 42 >"$T_TMP/keygen.out" 2>&1 &&
  [ "$(stat -c %a "$K/ech.key")" = 600 ] && [ -s "$K/ech.config" ] && [ -s "$K/ech.configs" ] &&
  grep -q "^ech=\|HTTPS record: ech=" "$T_TMP/keygen.out"; then
  ok "certa ech keygen: ech.key (0600), ech.config, ech.configs, ech.configs.b64"
else
  not_ok "certa ech keygen"
  show "$T_TMP/keygen.out"
fi
check "ech.key is a PKCS#8 X25519 key openssl reads" \
  sh -c "openssl pkey -in '$K/ech.key' -noout -text 2>/dev/null | grep -q 'X25519 Private-Key'"
# ech.configs = 2-byte length || ech.config; the base64 file decodes to ech.configs.
len=$(stat -c %s "$K/ech.config")
check "ech.configs is the length-prefixed ech.config" \
  sh -c "[ \"\$(head -c 2 '$K/ech.configs' | od -An -tx1 | tr -d ' ')\" = \"$(printf '%04x' "$len")\" ] &&
         tail -c +3 '$K/ech.configs' | cmp -s - '$K/ech.config'"
check "ech.configs.b64 decodes to ech.configs" \
  sh -c "base64 -d '$K/ech.configs.b64' | cmp -s - '$K/ech.configs'"
if "$CERTA" ech show "$K/ech.configs.b64" >"$T_TMP/show.out" 2>&1 &&
  grep -q "config_id 42, DHKEM(X25519, HKDF-SHA256).*public name public.example" "$T_TMP/show.out"; then
  ok "certa ech show reads the base64 list: config_id 42, X25519, public.example"
else
  not_ok "certa ech show"
  show "$T_TMP/show.out"
fi
if "$CERTA" ech keygen --public-name public.example --out "$K" >"$T_TMP/again.out" 2>&1; then
  not_ok "a second keygen into the same directory is refused without --force"
else
  grep -q "exists" "$T_TMP/again.out" && ok "a second keygen into the same directory is refused without --force" ||
    not_ok "keygen refusal says why"
fi
if "$CERTA" ech keygen --public-name 192.0.2.1 --out "$T_TMP/ip" >"$T_TMP/ip.out" 2>&1; then
  not_ok "an IPv4 public name is refused"
else
  ok "an IPv4 public name is refused: $(head -n 1 "$T_TMP/ip.out")"
fi
"$CERTA" ech keygen --public-name public.example --out "$T_TMP/p256" --kem p256 >/dev/null 2>&1
check "--kem p256: a P-256 PKCS#8 key, and check matches it to its config" \
  sh -c "openssl pkey -in '$T_TMP/p256/ech.key' -noout -text 2>/dev/null | grep -q 'NIST CURVE: P-256' &&
         '$CERTA' ech check --ech-key '$T_TMP/p256/ech.key' --ech-config '$T_TMP/p256/ech.configs' >/dev/null"

# bssl server with certa's key: bssl's -ech-key is the raw 32 bytes, which
# are the last 32 of the PKCS#8 DER of an X25519 key (RFC 8410).
openssl pkey -in "$K/ech.key" -outform DER 2>/dev/null | tail -c 32 >"$T_TMP/ech.raw"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_TMP/srv.key" \
  -out "$T_TMP/srv.crt" -subj "/CN=public.example" -days 2 \
  -addext "subjectAltName=DNS:public.example,DNS:secret.example" >/dev/null 2>&1

# bssl_pair NAME SERVER_CONFIG CLIENT_LIST: bssl server (certa's key and
# SERVER_CONFIG) and bssl client (CLIENT_LIST, SNI secret.example); sets OUT
# (the client's output) and SRV (the server log).
bssl_pair() {
  local name=$1 srv_cfg=$2 list=$3 port
  port=$(free_port) || return 1
  SRV=$T_TMP/$name.srv.log
  bg "$SRV" "$BSSL" server -accept "$port" -cert "$T_TMP/srv.crt" -key "$T_TMP/srv.key" \
    -ech-key "$T_TMP/ech.raw" -ech-config "$srv_cfg"
  local pid=$BG_PID
  for _ in $(seq 50); do port_in_use "$port" && break; sleep 0.1; done
  OUT=$( (echo "hello-$name"; sleep 1) | timeout 10 "$BSSL" client -connect "127.0.0.1:$port" \
    -server-name secret.example -ech-config-list "$list" -root-certs "$T_TMP/srv.crt" 2>&1)
  stop "$pid"
}

if bssl_pair bin "$K/ech.config" "$K/ech.configs" &&
  echo "$OUT" | grep -q "Encrypted ClientHello: yes" && grep -q "SNI: secret.example" "$SRV"; then
  ok "bssl server with certa's ech.key/ech.config; bssl client -ech-config-list ech.configs: ECH accepted, inner SNI secret.example"
else
  not_ok "bssl client -> bssl server with certa's ECH key: ECH accepted"
  echo "$OUT" | grep -E "Encrypted|rror" | sed 's/^/# /'
  show "$SRV"
fi
base64 -d "$K/ech.configs.b64" >"$T_TMP/from-b64.configs"
if bssl_pair b64 "$K/ech.config" "$T_TMP/from-b64.configs" &&
  echo "$OUT" | grep -q "Encrypted ClientHello: yes"; then
  ok "the list from ech.configs.b64 (decoded) is accepted by bssl too"
else
  not_ok "the list from ech.configs.b64"
  echo "$OUT" | grep -E "Encrypted|rror" | sed 's/^/# /'
fi
# Control: a client with another key's config must not get ECH accepted.
"$CERTA" ech keygen --public-name public.example --out "$T_TMP/other" --config-id 42 >/dev/null 2>&1
bssl_pair other "$K/ech.config" "$T_TMP/other/ech.configs"
if echo "$OUT" | grep -q "Encrypted ClientHello: yes"; then
  not_ok "a client with another key's config has ECH accepted (the check cannot fail)"
else
  ok "control: a client with another key's config gets no ECH ($(echo "$OUT" | grep -Eo 'ECH_REJECTED|ech_required|Encrypted ClientHello: no' | head -n 1))"
fi

# bssl generate-ech's files through certa's loader.
B=$T_TMP/bssl
mkdir -p "$B"
if "$BSSL" generate-ech -out-ech-config-list "$B/list" -out-ech-config "$B/config" \
  -out-private-key "$B/key" -public-name ech.example.net -config-id 7 -max-name-length 64 >/dev/null 2>&1; then
  for cfg in list config; do
    if "$CERTA" ech check --ech-key "$B/key" --ech-config "$B/$cfg" >"$T_TMP/check.$cfg" 2>&1 &&
      grep -q "config_id 7 (DHKEM(X25519, HKDF-SHA256), public name ech.example.net)" "$T_TMP/check.$cfg"; then
      ok "bssl generate-ech's raw key with its $cfg file (-out-ech-config or -out-ech-config-list) loads with certa's loader"
    else
      not_ok "bssl generate-ech's key and $cfg through certa's loader"
      show "$T_TMP/check.$cfg"
    fi
  done
  base64 -w0 "$B/list" >"$B/list.b64"
  check "bssl's list in base64 shows: config_id 7, max name length 64" \
    sh -c "'$CERTA' ech show '$B/list.b64' | grep -q 'config_id 7, .*max name length 64'"
  if "$CERTA" ech check --ech-key "$K/ech.key" --ech-config "$B/list" >"$T_TMP/mismatch" 2>&1; then
    not_ok "certa's key with bssl's config is refused"
  else
    grep -q "not the key of any ECHConfig" "$T_TMP/mismatch" &&
      ok "certa's key with bssl's config is refused with a sentence" || not_ok "mismatch sentence"
  fi
else
  not_ok "bssl generate-ech"
fi
finish
