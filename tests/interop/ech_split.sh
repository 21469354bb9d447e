#!/usr/bin/env bash
# certa proxy in ECH split mode against BoringSSL's bssl: bssl client (ECH
# from certa's ech.configs) -> certa proxy (the ECH key, no certificate) ->
# bssl server backends (certificates, no ECH key: they answer the
# ClientHelloInner with the acceptance confirmation). The client must see
# "Encrypted ClientHello: yes" and data must cross, the backend named by the
# inner server_name must get it (two backends, the other one must not), an
# inner name no backend is for is refused with unrecognized_name, a hello
# without ECH goes to --ech-public-backend (or is refused without one), a
# stale config reaches the public backend, which answers with retry_configs,
# ECH is accepted across a backend's HelloRetryRequest (the second
# ClientHelloOuter opened with the first's HPKE context; test_ech_open has
# the tampered second hello), bytes that are not TLS are refused, and SIGHUP
# reads a rotated key (a broken one is refused, the old kept).
. "$(dirname "$0")/lib.sh"
need openssl
need_certa
need_bssl
K=$T_TMP/ech
"$CERTA" ech keygen --public-name public.example --out "$K" >/dev/null 2>&1 ||
  not_ok "certa ech keygen"
"$CERTA" ech keygen --public-name public.example --out "$T_TMP/stale" >/dev/null 2>&1
openssl pkey -in "$K/ech.key" -outform DER 2>/dev/null | tail -c 32 >"$T_TMP/ech.raw"
for n in secret other public; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T_TMP/$n.key" \
    -out "$T_TMP/$n.crt" -subj "/CN=$n.example" -days 2 \
    -addext "subjectAltName=DNS:$n.example" >/dev/null 2>&1
done
cat "$T_TMP/secret.crt" "$T_TMP/other.crt" "$T_TMP/public.crt" >"$T_TMP/roots.pem"

# backend NAME [ARGS...]: bssl server for NAME.example; sets PORT_<NAME>.
backend() {
  local n=$1 port
  shift
  port=$(free_port) || return 1
  bg "$T_TMP/$n.back.log" "$BSSL" server -accept "$port" -cert "$T_TMP/$n.crt" -key "$T_TMP/$n.key" -loop "$@"
  for _ in $(seq 50); do port_in_use "$port" && break; sleep 0.1; done
  printf -v "PORT_$n" %s "$port"
}
# split NAME ARGS...: certa proxy in split mode; sets SPLIT_PORT, SPLIT_LOG.
split() {
  local name=$1
  shift
  SPLIT_PORT=$(free_port) || return 1
  SPLIT_LOG=$T_TMP/$name.split.log
  bg "$SPLIT_LOG" "$CERTA" proxy --listen "127.0.0.1:$SPLIT_PORT" --ech-key "$K/ech.key" \
    --ech-config "$K/ech.configs" "$@"
  SPLIT_PID=$BG_PID
  wait_for "$SPLIT_LOG" "listening on" 10
}
# client NAME CONFIGS [ARGS...]: bssl client for NAME.example; sets OUT.
client() {
  local n=$1 list=$2
  shift 2
  local ech=()
  [ -n "$list" ] && ech=(-ech-config-list "$list")
  OUT=$( (echo "data-for-$n"; sleep 1) | timeout 10 "$BSSL" client -connect "127.0.0.1:$SPLIT_PORT" \
    -server-name "$n.example" "${ech[@]}" -root-certs "$T_TMP/roots.pem" "$@" 2>&1)
}

backend secret
backend other
backend public -ech-key "$T_TMP/ech.raw" -ech-config "$K/ech.config"
split main --ech-backend secret.example="127.0.0.1:$PORT_secret" \
  --ech-backend OTHER.example="127.0.0.1:$PORT_other" --ech-public-backend "127.0.0.1:$PORT_public" ||
  { not_ok "certa proxy in split mode did not start"; show "$SPLIT_LOG"; finish; }

client secret "$K/ech.configs"
if echo "$OUT" | grep -q "Encrypted ClientHello: yes" && wait_for "$T_TMP/secret.back.log" "data-for-secret" 5 &&
  grep -q "SNI: secret.example" "$T_TMP/secret.back.log" && ! grep -q "secret" "$T_TMP/other.back.log"; then
  ok "bssl client -> split proxy -> backend secret.example: ECH accepted (the backend's confirmation), data crossed"
else
  not_ok "ECH through the split proxy to secret.example"
  echo "$OUT" | grep -E "Encrypted|rror" | sed 's/^/# /'
  show "$SPLIT_LOG" "$T_TMP/secret.back.log"
fi
check "the split proxy logged ech=accepted and the secret backend, not the inner name" \
  sh -c "grep -q 'split #1 .* ech=accepted backend=127.0.0.1:$PORT_secret .*: clean' '$SPLIT_LOG' &&
         ! grep 'split #' '$SPLIT_LOG' | grep -q secret.example"
client other "$K/ech.configs"
if echo "$OUT" | grep -q "Encrypted ClientHello: yes" && wait_for "$T_TMP/other.back.log" "data-for-other" 5 &&
  grep -q "SNI: other.example" "$T_TMP/other.back.log"; then
  ok "inner name other.example (backend given as OTHER.example) goes to the other backend"
else
  not_ok "routing by the inner name to the second backend"
  show "$SPLIT_LOG"
fi
client nobody "$K/ech.configs"
if echo "$OUT" | grep -qi "UNRECOGNIZED_NAME" && grep -q "no --ech-backend is for the inner server_name" "$SPLIT_LOG"; then
  ok "an inner name no backend is for: unrecognized_name, logged"
else
  not_ok "unknown inner name refused"
  echo "$OUT" | grep -E "rror" | sed 's/^/# /'
fi
client public ""
if echo "$OUT" | grep -q "Encrypted ClientHello: no" && wait_for "$T_TMP/public.back.log" "data-for-public" 5 &&
  grep -q "ech=none backend=127.0.0.1:$PORT_public" "$SPLIT_LOG"; then
  ok "a hello without ECH goes unchanged to --ech-public-backend"
else
  not_ok "a hello without ECH to the public backend"
  echo "$OUT" | grep -E "Encrypted|rror" | sed 's/^/# /'
  show "$SPLIT_LOG"
fi
client secret "$T_TMP/stale/ech.configs"
if echo "$OUT" | grep -q "ECH_REJECTED" && grep -q "ech=not-decrypted backend=127.0.0.1:$PORT_public" "$SPLIT_LOG"; then
  ok "a stale ECH config reaches the public backend, which rejects ECH (the client gets retry_configs)"
else
  not_ok "a stale config through the public backend"
  echo "$OUT" | grep -E "Encrypted|rror" | sed 's/^/# /'
  show "$SPLIT_LOG"
fi
# Not TLS at all: the proxy answers with an alert record and closes.
timeout 5 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET / HTTP/1.1\r\nHost: x\r\n\r\n" >&3 &&
  cat <&3' _ "$SPLIT_PORT" >"$T_TMP/garbage.out" 2>/dev/null
if [ "$(od -An -tx1 "$T_TMP/garbage.out" | tr -d ' \n')" = "1503030002020a" ] &&
  grep -q "ech=refused .*not a TLS handshake record" "$SPLIT_LOG"; then
  ok "bytes that are not TLS: unexpected_message alert, logged"
else
  not_ok "non-TLS input refused"
  od -An -tx1 "$T_TMP/garbage.out" | head -n 2 | sed 's/^/# /'
fi
stop "$SPLIT_PID"

# Without a public backend, a hello without ECH is refused. (This proxy also
# has trial decryption on: a hello for its config still opens.)
split nopublic --ech-backend secret.example="127.0.0.1:$PORT_secret" --ech-trial-decryption
client secret "$K/ech.configs"
check "--ech-trial-decryption: the split proxy takes it, and ECH is still accepted" \
  sh -c "grep -q 'ech=accepted backend=127.0.0.1:$PORT_secret' '$SPLIT_LOG'"
client public ""
if echo "$OUT" | grep -qi "HANDSHAKE_FAILURE" && grep -q "ech=none .*refused: the hello has no ECH, and there is no --ech-public-backend" "$SPLIT_LOG"; then
  ok "no --ech-public-backend: a hello without ECH is refused with handshake_failure"
else
  not_ok "no public backend: refusal"
  echo "$OUT" | grep -E "rror" | sed 's/^/# /'
  show "$SPLIT_LOG"
fi
stop "$SPLIT_PID"

# A backend that asks for another group: HelloRetryRequest; the client's
# second ClientHelloOuter is opened with the first's context.
cp "$T_TMP/secret.crt" "$T_TMP/hrr.crt"
cp "$T_TMP/secret.key" "$T_TMP/hrr.key"
backend hrr -curves P-384
split hrr --ech-backend secret.example="127.0.0.1:$PORT_hrr"
client secret "$K/ech.configs" -curves X25519:P-384
if echo "$OUT" | grep -q "Encrypted ClientHello: yes" && echo "$OUT" | grep -q "ECDHE group: P-384" &&
  wait_for "$T_TMP/hrr.back.log" "data-for-secret" 5 && grep -q "ech=accepted .*: clean" "$SPLIT_LOG"; then
  ok "bssl client -> split proxy -> bssl server -curves P-384: ECH accepted across a HelloRetryRequest"
else
  not_ok "ECH across a HelloRetryRequest in split mode"
  echo "$OUT" | grep -E "Encrypted|ECDHE|rror" | sed 's/^/# /'
  show "$SPLIT_LOG"
fi
stop "$SPLIT_PID"

# SIGHUP: a rotated key is read again; a broken key file keeps the keys in use.
R=$T_TMP/rot
"$CERTA" ech keygen --public-name public.example --out "$R" >/dev/null 2>&1
cp "$R/ech.configs" "$T_TMP/rot-old.configs"
SPLIT_PORT=$(free_port)
SPLIT_LOG=$T_TMP/rot.split.log
bg "$SPLIT_LOG" "$CERTA" proxy --listen "127.0.0.1:$SPLIT_PORT" --ech-key "$R/ech.key" \
  --ech-config "$R/ech.configs" --ech-backend secret.example="127.0.0.1:$PORT_secret"
SPLIT_PID=$BG_PID
wait_for "$SPLIT_LOG" "listening on" 10
"$CERTA" ech keygen --public-name public.example --out "$R" --force >/dev/null 2>&1
hup "$SPLIT_PID"
wait_for "$SPLIT_LOG" "reloaded 1 ECH key" 10
client secret "$R/ech.configs"
new_ok=$(echo "$OUT" | grep -c "Encrypted ClientHello: yes")
client secret "$T_TMP/rot-old.configs"
if [ "$new_ok" = 1 ] && ! echo "$OUT" | grep -q "Encrypted ClientHello: yes" &&
  grep -q "ech=not-decrypted .*refused: no ECH key opened the hello" "$SPLIT_LOG"; then
  ok "SIGHUP: the rotated key is used, the old config no longer opens"
else
  not_ok "SIGHUP key rotation in split mode"
  show "$SPLIT_LOG"
fi
echo "not a key" >"$R/ech.key"
hup "$SPLIT_PID"
wait_for "$SPLIT_LOG" "reload failed, the keys in use are kept" 10
client secret "$R/ech.configs"
if echo "$OUT" | grep -q "Encrypted ClientHello: yes" && grep -q "reload failed, the keys in use are kept: .*ech.key" "$SPLIT_LOG"; then
  ok "SIGHUP with a broken key file: logged, the keys in use kept"
else
  not_ok "a failed reload keeps the keys"
  show "$SPLIT_LOG"
fi
stop "$SPLIT_PID"

# certa at both ends. The public backend holds the current ECH key (and a
# certificate for the public name): a stale config is rejected there with
# retry_configs.
cat "$T_TMP/secret.crt" "$T_TMP/public.crt" >"$T_TMP/both.crt"
SPORT=$(free_port)
bg "$T_TMP/serve-secret.log" "$CERTA" serve --cert "$T_TMP/secret.crt" --key "$T_TMP/secret.key" --port "$SPORT"
wait_for "$T_TMP/serve-secret.log" "listening on" 10
PPORT=$(free_port)
bg "$T_TMP/serve-public.log" "$CERTA" serve --cert "$T_TMP/public.crt" --key "$T_TMP/public.key" \
  --port "$PPORT" --ech-key "$K/ech.key" --ech-config "$K/ech.configs"
wait_for "$T_TMP/serve-public.log" "listening on" 10
split certa --ech-backend secret.example="127.0.0.1:$SPORT" --ech-public-backend "127.0.0.1:$PPORT"
# connect_split CONFIG: certa connect to secret.example through the split proxy; sets OUT.
connect_split() {
  OUT=$( (echo "certa-data-$1"; sleep 1) | timeout 15 "$CERTA" connect "127.0.0.1:$SPLIT_PORT" \
    --servername secret.example --ech-config "$2" --trust "$T_TMP/roots.pem" 2>&1)
}
connect_split one "$K/ech.configs"
if echo "$OUT" | grep -q "ECH: *accepted" && echo "$OUT" | grep -q "^certa-data-one" &&
  wait_for "$T_TMP/serve-secret.log" "sni=secret.example .*ech=accepted" 5; then
  ok "certa connect -> split proxy -> certa serve (no ECH key): ECH accepted, the backend confirmed it, data echoed"
else
  not_ok "certa connect through the split proxy to certa serve"
  echo "$OUT" | grep -E "ECH|rror|CERTA_E" | sed 's/^/# /'
  show "$SPLIT_LOG" "$T_TMP/serve-secret.log"
fi
# Across a HelloRetryRequest from certa serve --groups secp384r1.
HPORT=$(free_port)
bg "$T_TMP/serve-hrr.log" "$CERTA" serve --cert "$T_TMP/secret.crt" --key "$T_TMP/secret.key" \
  --port "$HPORT" --groups secp384r1
wait_for "$T_TMP/serve-hrr.log" "listening on" 10
SAVED_PORT=$SPLIT_PORT SAVED_PID=$SPLIT_PID SAVED_LOG=$SPLIT_LOG
split certa-hrr --ech-backend secret.example="127.0.0.1:$HPORT"
connect_split hrr "$K/ech.configs"
if echo "$OUT" | grep -q "ECH: accepted (HelloRetryRequest confirms it)" && echo "$OUT" | grep -q "^certa-data-hrr" &&
  wait_for "$T_TMP/serve-hrr.log" "secp384r1 .*hrr=yes.*ech=accepted" 5; then
  ok "certa connect -> split proxy -> certa serve --groups secp384r1: ECH accepted across a HelloRetryRequest"
else
  not_ok "certa ECH across a HelloRetryRequest in split mode"
  echo "$OUT" | grep -E "ECH|Hello|rror|CERTA_E" | sed 's/^/# /'
  show "$SPLIT_LOG" "$T_TMP/serve-hrr.log"
fi
stop "$SPLIT_PID"
SPLIT_PORT=$SAVED_PORT SPLIT_PID=$SAVED_PID SPLIT_LOG=$SAVED_LOG

connect_split two "$T_TMP/stale/ech.configs"
if echo "$OUT" | grep -q "retrying once with the server's retry_configs" && echo "$OUT" | grep -q "ECH: *accepted" &&
  echo "$OUT" | grep -q "^certa-data-two" && grep -q "ech=not-decrypted backend=127.0.0.1:$PPORT" "$SPLIT_LOG" &&
  [ "$(grep -c "ech=accepted backend=127.0.0.1:$SPORT" "$SPLIT_LOG")" = 2 ]; then
  ok "a stale config: the public backend sends retry_configs, certa connect retries, the retry is accepted through the split proxy"
else
  not_ok "stale config, retry through the split proxy"
  echo "$OUT" | grep -E "ECH|rror|CERTA_E|retry" | sed 's/^/# /'
  show "$SPLIT_LOG" "$T_TMP/serve-public.log"
fi
stop "$SPLIT_PID"
finish
