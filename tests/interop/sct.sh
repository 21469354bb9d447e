#!/usr/bin/env bash
# Certificate Transparency end to end: test logs (P-256 keys made here, in a
# v3 log-list JSON), SCTs over a leaf signed with `openssl dgst`, served by
# `certa serve --sct` (TLS 1.3 and 1.2) and by `openssl s_server
# -serverinfo` (the signed_certificate_timestamp extension); `certa connect
# --ct-logs --require-sct` accepts two operators, refuses one operator and a
# tampered signature with certificate_unknown and a sentence, and only
# reports without --require-sct; `openssl s_client -ct` validates what
# certa serve sends; `certa proxy` (bridge) applies --require-sct to its
# upstream; a damaged log list is a usage error.
. "$(dirname "$0")/lib.sh"
need openssl
need python3
need_certa

D=$T_TMP
gen_ca ca || not_ok "CA"
gen_leaf web ca || not_ok "leaf"
openssl x509 -in "$D/web.crt" -outform der -out "$D/web.der" || not_ok "leaf DER"
for l in alpha beta alpha2; do
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$D/log-$l.key" \
    >/dev/null 2>&1 || not_ok "log key $l"
  openssl pkey -in "$D/log-$l.key" -pubout -outform der -out "$D/log-$l.spki" || not_ok "spki $l"
done

# The log list, the SCT lists (binary) and OpenSSL serverinfo files.
python3 - "$D" <<'EOF' || not_ok "making the log list and SCTs"
import base64, hashlib, json, struct, subprocess, sys, time
d = sys.argv[1]
leaf = open(f"{d}/web.der", "rb").read()
logs = {"alpha": ("Alpha", "Alpha Test Log"), "beta": ("Beta", "Beta Test Log"),
        "alpha2": ("Alpha", "Alpha Test Log 2")}
spki = {n: open(f"{d}/log-{n}.spki", "rb").read() for n in logs}
ops = {}
for n, (op, desc) in logs.items():
    ops.setdefault(op, []).append({
        "description": desc, "log_id": base64.b64encode(hashlib.sha256(spki[n]).digest()).decode(),
        "key": base64.b64encode(spki[n]).decode(), "url": "https://ct.invalid/" + n + "/",
        "mmd": 86400, "state": {"usable": {"timestamp": "2024-01-01T00:00:00Z"}},
        "temporal_interval": {"start_inclusive": "2020-01-01T00:00:00Z",
                              "end_exclusive": "2040-01-01T00:00:00.5Z"}})
ops["Rejected Corp"] = [{"description": "Rejected Log", "log_id": "", "key": "", "mmd": 86400,
                        "state": {"rejected": {"timestamp": "2024-01-01T00:00:00Z"}}}]
ops["Rejected Corp"][0]["key"] = base64.b64encode(spki["beta"]).decode()
del ops["Rejected Corp"][0]["log_id"]
json.dump({"version": "test", "log_list_timestamp": "2026-01-01T00:00:00Z",
           "operators": [{"name": k, "email": [], "logs": v} for k, v in ops.items()]},
          open(f"{d}/logs.json", "w"), indent=1)

def sct(name, tamper=False):
    ts = struct.pack(">Q", int(time.time() * 1000) - 60000)
    signed = b"\0\0" + ts + b"\0\0" + struct.pack(">I", len(leaf))[1:] + leaf + b"\0\0"
    open(f"{d}/tbs.bin", "wb").write(signed)
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{d}/log-{name}.key", f"{d}/tbs.bin"],
                         check=True, capture_output=True).stdout
    if tamper:
        sig = sig[:-1] + bytes([sig[-1] ^ 1])
    body = (b"\0" + hashlib.sha256(spki[name]).digest() + ts + b"\0\0" + b"\x04\x03" +
            struct.pack(">H", len(sig)) + sig)
    return struct.pack(">H", len(body)) + body

def write(fname, scts):
    lst = b"".join(scts)
    lst = struct.pack(">H", len(lst)) + lst
    open(f"{d}/{fname}.bin", "wb").write(lst)
    ext = struct.pack(">HH", 18, len(lst)) + lst
    b64 = base64.encodebytes(ext).decode()
    open(f"{d}/{fname}.serverinfo", "w").write(
        "-----BEGIN SERVERINFO FOR CT-----\n" + b64 + "-----END SERVERINFO FOR CT-----\n")
    # v2: a 4-byte context first (ClientHello | TLS 1.3 Certificate | TLS 1.2 ServerHello)
    v2 = struct.pack(">I", 0x0080 | 0x1000 | 0x0100) + ext
    open(f"{d}/{fname}.serverinfo2", "w").write(
        "-----BEGIN SERVERINFOV2 FOR CT-----\n" + base64.encodebytes(v2).decode() +
        "-----END SERVERINFOV2 FOR CT-----\n")

write("sct-good", [sct("alpha"), sct("beta")])
write("sct-oneop", [sct("alpha"), sct("alpha2")])
write("sct-bad", [sct("alpha"), sct("beta", tamper=True)])
# OpenSSL's own CT log file for s_client -ctlogfile
with open(f"{d}/ossl-logs.cnf", "w") as f:
    f.write("enabled_logs = alpha,beta\n")
    for n in ("alpha", "beta"):
        f.write(f"[{n}]\ndescription = {logs[n][1]}\nkey = {base64.b64encode(spki[n]).decode()}\n")
EOF

# client NAME PORT ARGS...: certa connect to localhost with the test CA.
client() {
  local name=$1 port=$2
  shift 2
  echo hello | timeout 20 "$CERTA" connect "127.0.0.1:$port" --servername localhost \
    --trust "$D/ca.crt" --timeout 10 "$@" >"$D/$name.out" 2>"$D/$name.err"
}
valid_line="SCT 1 \(TLS extension\): log 'Alpha Test Log' \(operator Alpha\), 20[0-9-]+ [0-9:]+ UTC: valid"

# ---- certa serve --sct, TLS 1.3 and 1.2 ----
for v in 1.3 1.2; do
  if start_certa_serve "serve-good-$v" --cert "$D/web.crt" --key "$D/web.key" \
    --sct "$D/sct-good.bin" --min-version "$v" --max-version "$v"; then
    if client "good-$v" "$SERVE_PORT" --ct-logs "$D/logs.json" --require-sct --max-version "$v" &&
      { [ -z "${SCT_SHOW:-}" ] || cat "$D/good-$v.err" >&2; } &&
      grep -Eq "$valid_line" "$D/good-$v.err" &&
      grep -q "SCT 2 (TLS extension): log 'Beta Test Log' (operator Beta), .*: valid" "$D/good-$v.err" &&
      grep -q "CT: leaf 'CN=localhost' has 2 valid SCTs (from operators Alpha, Beta); certificates of 2 days need 2 from distinct operators: met" "$D/good-$v.err"; then
      ok "TLS $v: connect --require-sct accepts SCTs from two operators sent by serve --sct, each traced"
    else
      not_ok "TLS $v: two operators"
      show "$D/good-$v.err" "$SERVE_LOG"
    fi
    if client "nolog-$v" "$SERVE_PORT" --max-version "$v" && ! grep -q "SCT" "$D/nolog-$v.err"; then
      ok "TLS $v: without --ct-logs the client asks for nothing and hears nothing"
    else
      not_ok "TLS $v: without --ct-logs"
      show "$D/nolog-$v.err"
    fi
    stop_certa_serve "serve-good-$v"
  fi
done

if start_certa_serve serve-oneop --cert "$D/web.crt" --key "$D/web.key" --sct "$D/sct-oneop.bin"; then
  client oneop "$SERVE_PORT" --ct-logs "$D/logs.json" --require-sct
  rc=$?
  if [ $rc -ne 0 ] && grep -q "CERTA_E_CERT_TRANSPARENCY" "$D/oneop.err" &&
    grep -q "leaf 'CN=localhost' has 2 valid SCTs (from operator Alpha); certificates of 2 days need 2 from distinct operators" "$D/oneop.err" &&
    grep -q "certificate_unknown" "$D/oneop.err"; then
    ok "two logs of one operator: refused with certificate_unknown and the reason"
  else
    not_ok "one operator (exit $rc)"
    show "$D/oneop.err"
  fi
  if client oneop-report "$SERVE_PORT" --ct-logs "$D/logs.json" &&
    grep -q "CT: .*need 2 from distinct operators: not met" "$D/oneop-report.err"; then
    ok "... and without --require-sct it is let in and reported"
  else
    not_ok "one operator, report only"
    show "$D/oneop-report.err"
  fi
  stop_certa_serve serve-oneop
fi

if start_certa_serve serve-bad --cert "$D/web.crt" --key "$D/web.key" --sct "$D/sct-bad.bin" \
  --min-version 1.2; then
  if ! client bad "$SERVE_PORT" --ct-logs "$D/logs.json" --require-sct &&
    grep -q "SCT 2 (invalid signature, log 'Beta Test Log')" "$D/bad.err" &&
    grep -q "SCT 2 (TLS extension): log 'Beta Test Log' (operator Beta), .*: invalid signature" "$D/bad.err"; then
    ok "a tampered SCT signature: refused, the SCT named"
  else
    not_ok "tampered SCT"
    show "$D/bad.err"
  fi
  # openssl s_client validates what certa serve sends (its own CT code).
  for v in tls1_3 tls1_2; do
    echo | timeout 20 openssl s_client -connect "127.0.0.1:$SERVE_PORT" -servername localhost \
      -"$v" -ct -ctlogfile "$D/ossl-logs.cnf" -CAfile "$D/ca.crt" >"$D/sclient-bad-$v.out" 2>&1
    if grep -q "SCTs present (2)" "$D/sclient-bad-$v.out" &&
      grep -q "SCT validation status: invalid" "$D/sclient-bad-$v.out" &&
      grep -q "SCT validation status: valid" "$D/sclient-bad-$v.out"; then
      ok "openssl s_client -ct ($v) reads certa serve's SCTs: one valid, the tampered one invalid"
    else
      not_ok "openssl s_client -ct ($v) against certa serve --sct"
      show "$D/sclient-bad-$v.out"
    fi
  done
  stop_certa_serve serve-bad
fi

# ---- openssl s_server -serverinfo ----
for v in 1.2 1.3; do
  info=$D/sct-good.serverinfo
  [ "$v" = 1.3 ] && info=$D/sct-good.serverinfo2
  if start_openssl_server "ossl-$v" -cert "$D/web.crt" -key "$D/web.key" -serverinfo "$info" \
    -tls${v/./_} -www; then
    if client "ossl-$v" "$SRV_PORT" --ct-logs "$D/logs.json" --require-sct --max-version "$v" &&
      grep -Eq "$valid_line" "$D/ossl-$v.err" && grep -q "CT: .*: met" "$D/ossl-$v.err"; then
      ok "TLS $v: connect --require-sct accepts the SCTs openssl s_server -serverinfo sends"
    else
      not_ok "TLS $v: openssl s_server -serverinfo"
      show "$D/ossl-$v.err" "$SRV_LOG"
    fi
    stop "$SRV_PID"
  fi
done

# ---- certa proxy, bridge mode: the upstream's SCTs ----
say_hello() { # PORT: one line through the proxy, prints what comes back
  python3 -c '
import socket, sys
try:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    s.sendall(b"hello\n")
    print(s.recv(100).decode(errors="replace").strip())
except OSError as e:
    print("error", e)' "$1"
}
for case in good oneop; do
  if start_certa_serve "serve-proxy-$case" --cert "$D/web.crt" --key "$D/web.key" \
    --sct "$D/sct-$case.bin"; then
    if start_proxy "proxy-$case" --upstream "127.0.0.1:$SERVE_PORT" --servername localhost \
      --trust "$D/ca.crt" --ct-logs "$D/logs.json" --require-sct; then
      got=$(say_hello "$PROXY_PORT")
      sleep 0.3
      if [ $case = good ] && [ "$got" = hello ]; then
        ok "proxy --require-sct bridges to an upstream with SCTs from two operators"
      elif [ $case = oneop ] && [ "$got" != hello ] &&
        grep -q "CERTA_E_CERT_TRANSPARENCY" "$PROXY_LOG" &&
        grep -q "has 2 valid SCTs (from operator Alpha)" "$PROXY_LOG"; then
        ok "proxy --require-sct refuses an upstream whose SCTs come from one operator (logged)"
      else
        not_ok "proxy bridge, $case SCTs (got '$got')"
        show "$PROXY_LOG"
      fi
      stop_proxy "proxy-$case"
    else
      not_ok "proxy-$case did not start"
      show "$PROXY_LOG"
    fi
    stop_certa_serve "serve-proxy-$case"
  fi
done

# ---- the log list ----
# usage_error NAME WHAT PATTERN ARGS...: connect ARGS exits 2 saying PATTERN.
usage_error() {
  local name=$1 what=$2 pat=$3 rc
  shift 3
  "$CERTA" connect 127.0.0.1:1 "$@" >"$D/$name.out" 2>"$D/$name.err"
  rc=$?
  if [ $rc -eq 2 ] && grep -q -- "$pat" "$D/$name.err"; then
    ok "$what: usage error, saying so"
  else
    not_ok "$what (exit $rc)"
    show "$D/$name.err"
  fi
}
printf '{"operators": [' >"$D/broken.json"
usage_error broken "a log list that is not JSON" "--ct-logs $D/broken.json: not valid JSON" \
  --ct-logs "$D/broken.json"
printf '{"operators": [{"name": "X", "logs": [{"description": "d", "key": "AAAA"}]}]}' >"$D/badkey.json"
usage_error badkey "a log whose key is not a P-256 or RSA key" "CT log 'd' has an unreadable key" \
  --ct-logs "$D/badkey.json"
usage_error req "--require-sct without --ct-logs" "--require-sct needs the logs" --require-sct
finish
