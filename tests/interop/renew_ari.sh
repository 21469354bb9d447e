#!/usr/bin/env bash
# certa renew with ACME Renewal Information (RFC 9773) against the fake ACME
# server (acme_fake.py ari: Debian's Pebble 2.4 has no ARI): the certID
# asked for is base64url(AKI keyIdentifier) "." base64url(serial), a window
# in the future means "not due" with renew_at inside it (not at half the
# lifetime), Retry-After is reported, a window that has begun renews with
# `replaces` = the old certificate's certID, and a window past expiry is
# cut to before expiry.
. "$(dirname "$0")/lib.sh"
need_certa
need openssl python3
if ! python3 -c 'import cryptography' 2>/dev/null; then
  skip "python3-cryptography is not installed (make deps installs it)"
  finish
fi

gen_ca ari-ca && gen_ca listener-ca && gen_leaf fake-listener listener-ca
WIN=$T_TMP/window.json
window() { # START_OFFSET END_OFFSET RETRY_AFTER (seconds from now)
  local now
  now=$(date +%s)
  echo "{\"start\": $((now + $1)), \"end\": $((now + $2)), \"retry_after\": $3}" >"$WIN"
}
window 3600 7200 120
FAKE_LOG=$T_TMP/fake.log
bg "$FAKE_LOG" python3 "$LIB_DIR/acme_fake.py" "$T_TMP/fake-listener.crt" "$T_TMP/fake-listener.key" \
  "$T_TMP/fake.port" ari /dev/null "$T_TMP/ari-ca.crt" "$T_TMP/ari-ca.key" "$WIN"
FAKE_PID=$BG_PID
for _ in $(seq 100); do [ -s "$T_TMP/fake.port" ] && break; sleep 0.05; done
S=$T_TMP/state
once() {
  local name=$1
  shift
  "$CERTA" renew --once --state "$S" "$@" >"$T_TMP/$name.json" 2>"$T_TMP/$name.err"
  RC=$?
}
json() { python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).read()); print(d.get(sys.argv[2],""))' "$@"; }
epoch() { date -d "$1" +%s; }
cert_id() {
  python3 - "$1" <<'PY'
import base64, sys
from cryptography import x509
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
n = c.serial_number
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(b64(aki) + "." + b64(n.to_bytes((n.bit_length() + 8) // 8, "big")))
PY
}

once first --directory "https://127.0.0.1:$(cat "$T_TMP/fake.port")/dir" --ca-bundle "$T_TMP/listener-ca.crt" \
  --chain-trust "$T_TMP/ari-ca.crt" --domain ari.certa.test --challenge http-01 --agree-tos --timeout 20
if [ $RC -eq 0 ] && [ "$(json "$T_TMP/first.json" result)" = renewed ] &&
  grep -q '^fake: newOrder replaces=-$' "$FAKE_LOG" && ! grep -q VIOLATION "$FAKE_LOG"; then
  ok "first issuance from the ARI directory: no replaces (there is no old certificate)"
else
  not_ok "first issuance"
  show "$T_TMP/first.err" "$FAKE_LOG"
fi
ID=$(cert_id "$S/current/cert.pem")

# A window an hour ahead: not due, renew_at inside it, Retry-After reported.
BEFORE=$(cd "$S" && find . -printf '%p %T@ %l\n' | sort | sha256sum)
once future --verbose
AFTER=$(cd "$S" && find . -printf '%p %T@ %l\n' | sort | sha256sum)
START=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["start"])' "$WIN")
AT=$(epoch "$(json "$T_TMP/future.json" renew_at)")
if [ $RC -eq 0 ] && grep -qx "fake: renewalInfo $ID" "$FAKE_LOG" && [ "$(json "$T_TMP/future.json" ari_cert_id)" = "$ID" ] &&
  [ "$(json "$T_TMP/future.json" result)" = not_due ] && [ "$(json "$T_TMP/future.json" basis)" = ari ] &&
  [ "$AT" -ge "$START" ] && [ "$AT" -le $((START + 3600)) ] &&
  [ "$(json "$T_TMP/future.json" retry_after)" = 120 ] && [ "$BEFORE" = "$AFTER" ] &&
  grep -q 'not due, renews at .*inside the CA.s suggested window' "$T_TMP/future.err"; then
  ok "renewalInfo/$ID (AKI.serial, RFC 9773 4.1) asked; window in an hour: not due, renews at $(json "$T_TMP/future.json" renew_at) (inside it, not at half the day), Retry-After 120 s, nothing written"
else
  not_ok "ARI future window"
  show "$T_TMP/future.err" "$T_TMP/future.json" "$FAKE_LOG"
fi

# A window past the certificate's expiry: renew_at cut to before it.
window 172800 259200 3600
once late
NA=$(epoch "$(json "$T_TMP/late.json" not_after)")
AT=$(epoch "$(json "$T_TMP/late.json" renew_at)")
if [ $RC -eq 0 ] && [ "$(json "$T_TMP/late.json" basis)" = ari ] && [ "$AT" -lt "$NA" ] && [ "$AT" -ge $((NA - 2)) ]; then
  ok "a window after expiry: renew_at $(json "$T_TMP/late.json" renew_at) is before not_after $(json "$T_TMP/late.json" not_after)"
else
  not_ok "ARI window past expiry"
  show "$T_TMP/late.err" "$T_TMP/late.json"
fi

# The window has begun: renewed, the order names the old certificate.
window -120 -60 60
once due
if [ $RC -eq 0 ] && [ "$(json "$T_TMP/due.json" result)" = renewed ] && [ "$(json "$T_TMP/due.json" replaces)" = "$ID" ] &&
  grep -qx "fake: newOrder replaces=$ID" "$FAKE_LOG" && [ "$(readlink "$S/current")" = releases/2 ] &&
  [ "$(cert_id "$S/current/cert.pem")" != "$ID" ] && ! grep -q VIOLATION "$FAKE_LOG"; then
  ok "the window has begun: renewed, newOrder carried replaces=$ID"
else
  not_ok "ARI renewal with replaces"
  show "$T_TMP/due.err" "$T_TMP/due.json" "$FAKE_LOG"
fi
stop "$FAKE_PID"
finish
