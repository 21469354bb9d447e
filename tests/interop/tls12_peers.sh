#!/usr/bin/env bash
# TLS 1.2 against the other peers, both directions, over loopback:
#   gnutls-cli -> certa serve --http and certa connect -> gnutls-serv --echo
#   (TLS 1.2 forced with --priority) for every suite x {ECDSA P-256, RSA};
#   gnutls-cli --resume (tickets); a gnutls-cli and a gnutls-serv without the
#   extended master secret (%NO_SESSION_HASH), and certa connect --allow-no-ems;
#   curl --tlsv1.2 --tls-max 1.2 -> certa serve --http (suite forced, ALPN,
#   verified), and refused by a TLS 1.3-only certa serve;
#   Python ssl with maximum_version = TLSv1_2 both ways (verified, ALPN,
#   close_notify both ways, resumption by session=);
#   stunnel4 (sslVersionMax = TLSv1.2) both ways with mutual TLS, against
#   certa serve/connect and certa proxy (terminate and bridge).
. "$(dirname "$0")/lib.sh"
need openssl python3
need_certa

CERTS=(ecdsa rsa)
declare -A GNUTLS_CIPHER=([AES_128_GCM_SHA256]=AES-128-GCM [AES_256_GCM_SHA384]=AES-256-GCM
  [CHACHA20_POLY1305_SHA256]=CHACHA20-POLY1305)
declare -A GNUTLS_KX=([ecdsa]=ECDHE-ECDSA [rsa]=ECDHE-RSA)
TLS12_ONLY='NORMAL:-VERS-ALL:+VERS-TLS1.2'
V12=(--min-version 1.2 --max-version 1.2)

for cert in "${CERTS[@]}"; do
  gen_cert "$cert" "srv-$cert" || not_ok "generate $cert certificate"
done
gen_ca ca && gen_leaf leaf ca && gen_leaf client ca clientAuth ||
  not_ok "generate the CA, server and client certificates"

# ---- GnuTLS ---------------------------------------------------------------------
if command -v gnutls-cli >/dev/null && command -v gnutls-serv >/dev/null; then
  # gnutls_prio CERT SUITE: a TLS 1.2-only priority string for one suite. The
  # groups list x25519 and then secp256r1 (the ECDSA certificate's curve,
  # RFC 8422 section 5.1).
  gnutls_prio() {
    local aead=${2#TLS_ECDHE_*_WITH_}
    echo "$TLS12_ONLY:-CIPHER-ALL:+${GNUTLS_CIPHER[$aead]}:-KX-ALL:+${GNUTLS_KX[$1]}:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1"
  }
  for cert in "${CERTS[@]}"; do
    start_certa_serve "serve-gnutls-$cert" --http --min-version 1.2 --cert "$T_TMP/srv-$cert.crt" \
      --key "$T_TMP/srv-$cert.key" || continue
    for suite in $(tls12_suites "$cert"); do
      name="gnutls-cli-$cert-$suite"
      printf 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
        timeout 20 gnutls-cli --x509cafile "$T_TMP/srv-$cert.crt" --priority "$(gnutls_prio "$cert" "$suite")" \
          -p "$SERVE_PORT" 127.0.0.1 >"$T_TMP/$name.out" 2>&1
      rc=$?
      if [ "$rc" -eq 0 ] && grep -q "^HTTP/1.1 200 OK" "$T_TMP/$name.out" &&
        grep -q "^- Description: (TLS1.2[^)]*)-(ECDHE-X25519)" "$T_TMP/$name.out" &&
        grep -q "^certa: TLSv1.2 $suite x25519 alpn=none" "$T_TMP/$name.out"; then
        ok "gnutls-cli (TLS 1.2 only, verified) -> certa serve --http: $cert $suite x25519"
      else
        not_ok "gnutls-cli -> certa serve --http: $cert $suite (exit $rc)"
        show "$T_TMP/$name.out" "$SERVE_LOG"
      fi
    done
    stop_certa_serve "serve-gnutls-$cert"
  done

  start_certa_serve serve-gnutls-more "${V12[@]}" --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" && {
    out=$T_TMP/gnutls-resume.out
    printf 'ping\n' | timeout 20 gnutls-cli --x509cafile "$T_TMP/srv-ecdsa.crt" --resume \
      --priority "$TLS12_ONLY" -p "$SERVE_PORT" 127.0.0.1 >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q 'This is a resumed session' "$out" &&
      grep -q "^- Description: (TLS1.2" "$out" &&
      [[ $(conn_line "$SERVE_LOG" 1) == *": TLSv1.2 "*" resumed=no "* ]] &&
      [[ $(conn_line "$SERVE_LOG" 2) == *": TLSv1.2 "*" resumed=yes "* ]]; then
      ok "gnutls-cli --resume (TLS 1.2) -> certa serve: 'This is a resumed session', logged resumed=no then yes"
    else
      not_ok "gnutls-cli --resume (TLS 1.2) -> certa serve (exit $rc)"
      show "$out" "$SERVE_LOG"
    fi
    out=$T_TMP/gnutls-noems.out
    timeout 20 gnutls-cli --x509cafile "$T_TMP/srv-ecdsa.crt" --priority "$TLS12_ONLY:%NO_SESSION_HASH" \
      -p "$SERVE_PORT" 127.0.0.1 </dev/null >"$out" 2>&1
    rc=$?
    if [ "$rc" -ne 0 ] && grep -qi "handshake failed" "$out" &&
      [[ $(conn_line "$SERVE_LOG" 3) == *"CERTA_E_NO_EXTENDED_MASTER_SECRET"*"--allow-no-ems"* ]]; then
      ok "gnutls-cli %NO_SESSION_HASH (no EMS) -> certa serve: refused, CERTA_E_NO_EXTENDED_MASTER_SECRET"
    else
      not_ok "gnutls-cli without EMS -> certa serve (exit $rc)"
      show "$out" "$SERVE_LOG"
    fi
    stop_certa_serve serve-gnutls-more
  }

  for cert in "${CERTS[@]}"; do
    pin=$(pin_of "$T_TMP/srv-$cert.crt")
    start_gnutls_server "gnutls-serv-$cert" --echo --disable-client-cert --priority "$TLS12_ONLY" \
      --x509certfile "$T_TMP/srv-$cert.crt" --x509keyfile "$T_TMP/srv-$cert.key" || continue
    for suite in $(tls12_suites "$cert"); do
      name="connect-gnutls-$cert-$suite"
      tok=$(uniq_token)
      (printf '%s\n' "$tok"; sleep 0.3) | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --pin "$pin" \
        --min-version 1.2 --ciphers "$suite" --groups x25519,secp256r1 >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
      rc=$?
      if [ "$rc" -eq 0 ] && grep -qx -- "$tok" "$T_TMP/$name.out" &&
        grep -q "^\* protocol: *TLSv1.2\$" "$T_TMP/$name.err" &&
        grep -q "^\* cipher suite: *$suite\$" "$T_TMP/$name.err" &&
        grep -q "^\* key exchange: *x25519\$" "$T_TMP/$name.err" &&
        grep -q "ServerHello (TLS 1.2, $suite, extended master secret)" "$T_TMP/$name.err"; then
        ok "certa connect --min-version 1.2 -> gnutls-serv (TLS 1.2 only): $cert $suite, EMS, round trip"
      else
        not_ok "certa connect -> gnutls-serv (TLS 1.2): $cert $suite (exit $rc)"
        show "$T_TMP/$name.err" "$T_TMP/$name.out" "$SRV_LOG"
      fi
    done
    stop "$SRV_PID"
  done
  # A gnutls-serv without the extended master secret.
  pin=$(pin_of "$T_TMP/srv-ecdsa.crt")
  start_gnutls_server gnutls-serv-noems --echo --disable-client-cert --priority "$TLS12_ONLY:%NO_SESSION_HASH" \
    --x509certfile "$T_TMP/srv-ecdsa.crt" --x509keyfile "$T_TMP/srv-ecdsa.key" && {
    (echo ping; sleep 0.3) | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --pin "$pin" --min-version 1.2 \
      >"$T_TMP/gnutls-noems.out" 2>"$T_TMP/gnutls-noems.err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "handshake failed: .*--allow-no-ems.*(CERTA_E_NO_EXTENDED_MASTER_SECRET" "$T_TMP/gnutls-noems.err"; then
      ok "certa connect -> gnutls-serv %NO_SESSION_HASH (no EMS): refused with the sentence"
    else
      not_ok "certa connect -> gnutls-serv without EMS (exit $rc)"
      show "$T_TMP/gnutls-noems.err" "$SRV_LOG"
    fi
    (echo ping; sleep 0.3) | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --pin "$pin" --min-version 1.2 \
      --allow-no-ems >"$T_TMP/gnutls-allownoems.out" 2>"$T_TMP/gnutls-allownoems.err"
    rc=$?
    if [ "$rc" -eq 0 ] && grep -qx ping "$T_TMP/gnutls-allownoems.out" &&
      grep -q '^\* protocol: *TLSv1.2$' "$T_TMP/gnutls-allownoems.err" &&
      ! grep -q "ServerHello (TLS 1.2, .*extended master secret" "$T_TMP/gnutls-allownoems.err"; then
      ok "certa connect --allow-no-ems -> gnutls-serv without EMS: accepted, round trip"
    else
      not_ok "certa connect --allow-no-ems -> gnutls-serv without EMS (exit $rc)"
      show "$T_TMP/gnutls-allownoems.err" "$SRV_LOG"
    fi
    stop "$SRV_PID"
  }
else
  not_ok "gnutls-cli / gnutls-serv not installed (scripts/deps.sh installs gnutls-bin)"
fi

# ---- curl --tls-max 1.2 ------------------------------------------------------------
if command -v curl >/dev/null; then
  curl_get() {
    local name=$1
    shift
    timeout 20 curl -sS -v --max-time 10 "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
    CURL_RC=$?
    CURL_OUT=$T_TMP/$name.out
    CURL_ERR=$T_TMP/$name.err
  }
  for cert in "${CERTS[@]}"; do
    start_certa_serve "serve-curl-$cert" --http --alpn http/1.1 --min-version 1.2 \
      --cert "$T_TMP/srv-$cert.crt" --key "$T_TMP/srv-$cert.key" || continue
    for suite in $(tls12_suites "$cert"); do
      osuite=${TLS12_OSSL[$suite]}
      curl_get "curl-$cert-$suite" --tlsv1.2 --tls-max 1.2 --ciphers "$osuite" \
        --cacert "$T_TMP/srv-$cert.crt" "https://localhost:$SERVE_PORT/"
      if [ "$CURL_RC" -eq 0 ] && grep -q "^certa: TLSv1.2 $suite x25519 alpn=http/1.1\$" "$CURL_OUT" &&
        grep -q "SSL connection using TLSv1.2 / $osuite" "$CURL_ERR" &&
        grep -q "ALPN: server accepted http/1.1" "$CURL_ERR"; then
        ok "curl --tls-max 1.2 --ciphers $osuite --cacert -> certa serve --http ($cert): TLSv1.2, ALPN http/1.1"
      else
        not_ok "curl --tls-max 1.2 -> certa serve: $cert $suite (exit $CURL_RC)"
        show "$CURL_OUT" "$CURL_ERR" "$SERVE_LOG"
      fi
    done
    stop_certa_serve "serve-curl-$cert"
  done
  start_certa_serve serve-curl-13 --http --cert "$T_TMP/srv-ecdsa.crt" --key "$T_TMP/srv-ecdsa.key" && {
    curl_get curl-13only -k --tlsv1.2 --tls-max 1.2 "https://127.0.0.1:$SERVE_PORT/"
    if [ "$CURL_RC" -ne 0 ] && [[ $(conn_line "$SERVE_LOG" 1) == *"CERTA_E_PROTOCOL_VERSION, alert protocol_version"* ]]; then
      ok "curl --tls-max 1.2 -> certa serve (default, TLS 1.3 only): refused, protocol_version"
    else
      not_ok "curl --tls-max 1.2 -> TLS 1.3-only certa serve (exit $CURL_RC)"
      show "$CURL_ERR" "$SERVE_LOG"
    fi
    stop_certa_serve serve-curl-13
  }
else
  not_ok "curl is not installed"
fi

# ---- Python ssl, maximum_version = TLSv1_2 ------------------------------------------
start_certa_serve serve-py "${V12[@]}" --alpn h2,http/1.1 --cert "$T_TMP/srv-ecdsa.crt" \
  --key "$T_TMP/srv-ecdsa.key" && {
  timeout 60 python3 - "$SERVE_PORT" "$T_TMP/srv-ecdsa.crt" >"$T_TMP/py-client.out" 2>&1 <<'EOF'
import socket, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
ctx = ssl.create_default_context(cafile=ca)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.set_alpn_protocols(["http/1.1"])
def once(n, session=None):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="localhost", session=session) as t:
            t.sendall(b"python says hi\n")
            got = b""
            while not got.endswith(b"\n"):
                d = t.recv(100)
                if not d:
                    break
                got += d
            print("conn%d version=%s cipher=%s alpn=%s reused=%s echo=%s" % (
                n, t.version(), t.cipher()[0], t.selected_alpn_protocol(), t.session_reused,
                got.decode().strip()))
            sess = t.session
            t.unwrap()  # close_notify both ways
            print("conn%d unwrapped" % n)
            return sess
s1 = once(1)
print("ticket", s1.has_ticket)
once(2, s1)
EOF
  out=$T_TMP/py-client.out
  if grep -qx "conn1 version=TLSv1.2 cipher=ECDHE-ECDSA-AES128-GCM-SHA256 alpn=http/1.1 reused=False echo=python says hi" "$out" &&
    grep -qx "conn1 unwrapped" "$out" && grep -qx "ticket True" "$out" &&
    [[ $(conn_line "$SERVE_LOG" 1) == *": TLSv1.2 "*"alpn=http/1.1 sni=localhost"*" resumed=no "* ]]; then
    ok "python ssl maximum_version=TLSv1_2 (verifying, SNI, ALPN) -> certa serve: TLSv1.2, echo, close_notify both ways, a ticket"
  else
    not_ok "python ssl (TLS 1.2) -> certa serve"
    show "$out" "$SERVE_LOG"
  fi
  if grep -q "^conn2 version=TLSv1.2 .* reused=True echo=python says hi" "$out" &&
    [[ $(conn_line "$SERVE_LOG" 2) == *": TLSv1.2 "*" resumed=yes "* ]]; then
    ok "python ssl (TLS 1.2) wrap_socket(session=) -> certa serve: session_reused True, logged resumed=yes"
  else
    not_ok "python ssl (TLS 1.2) resumption -> certa serve"
    show "$out" "$SERVE_LOG"
  fi
  stop_certa_serve serve-py
}

cat >"$T_TMP/py_server.py" <<'EOF'
import socket, ssl, sys
port, crt, key, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
ctx.load_cert_chain(crt, key)
ctx.load_verify_locations(ca)
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.set_alpn_protocols(["h2"])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(5)
print("ready", flush=True)
while True:
    c, _ = ls.accept()
    try:
        t = ctx.wrap_socket(c, server_side=True)
        peer = dict(x[0] for x in t.getpeercert()["subject"])
        print("accepted", t.version(), t.cipher()[0], t.selected_alpn_protocol(),
              "client", peer.get("commonName"), flush=True)
        while True:
            d = t.recv(4096)
            if not d:
                break
            t.sendall(d.upper())
        t.unwrap()
        print("closed cleanly", flush=True)
    except Exception as e:
        print("error", repr(e), flush=True)
    finally:
        c.close()
EOF
start_port_server py-server '^ready' python3 -u "$T_TMP/py_server.py" @PORT@ "$T_TMP/leaf.crt" \
  "$T_TMP/leaf.key" "$T_TMP/ca.crt" && {
  printf 'shout this\n' | timeout 20 "$CERTA" connect "localhost:$SRV_PORT" --min-version 1.2 \
    --trust "$T_TMP/ca.crt" --cert "$T_TMP/client.crt" --key "$T_TMP/client.key" --alpn h2 \
    >"$T_TMP/py-connect.out" 2>"$T_TMP/py-connect.err"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -qx "SHOUT THIS" "$T_TMP/py-connect.out" &&
    grep -q '^\* protocol: *TLSv1.2$' "$T_TMP/py-connect.err" && grep -q "ALPN: *h2" "$T_TMP/py-connect.err" &&
    grep -q '^accepted TLSv1.2 ECDHE-ECDSA-.* h2 client localhost' "$SRV_LOG" &&
    wait_for "$SRV_LOG" '^closed cleanly' 5; then
    ok "certa connect --min-version 1.2 --cert -> python ssl server (max TLSv1_2, CERT_REQUIRED): mTLS, ALPN h2, data, close_notify"
  else
    not_ok "certa connect -> python ssl TLS 1.2 server (exit $rc)"
    show "$T_TMP/py-connect.err" "$SRV_LOG"
  fi
  stop "$SRV_PID"
}

# ---- stunnel4, sslVersionMax = TLSv1.2, mutual TLS ----------------------------------
# echo_through PORT LINE: sends LINE over plain TCP to 127.0.0.1:PORT and
# prints the first line that comes back (bounded).
echo_through() {
  timeout 20 python3 - "$1" "$2" <<'EOF'
import socket, sys
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10) as s:
    s.settimeout(10)
    s.sendall(sys.argv[2].encode() + b"\n")
    buf = b""
    while not buf.endswith(b"\n"):
        d = s.recv(100)
        if not d:
            break
        buf += d
    print(buf.decode().strip())
EOF
}
STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
if [ -n "$STUNNEL" ]; then
  # start_stunnel NAME CONFIG-BODY: foreground stunnel on a free port (%PORT%
  # in the body); SRV_PID, SRV_PORT, SRV_LOG.
  start_stunnel() {
    local name=$1 body=$2
    printf 'foreground = yes\npid =\ndebug = 6\n%s\n' "$body" >"$T_TMP/$name.conf.in"
    start_port_server "$name" 'Configuration successful' bash -c \
      'sed "s/%PORT%/$1/g" "$2" >"$3" && exec "$4" "$3"' _ @PORT@ "$T_TMP/$name.conf.in" \
      "$T_TMP/$name.conf" "$STUNNEL"
  }
  start_certa_serve serve-stunnel --http "${V12[@]}" --cert "$T_TMP/leaf.crt" --key "$T_TMP/leaf.key" \
    --client-ca "$T_TMP/ca.crt" && {
    start_stunnel stunnel-client "[c]
client = yes
accept = 127.0.0.1:%PORT%
connect = 127.0.0.1:$SERVE_PORT
cert = $T_TMP/client.crt
key = $T_TMP/client.key
CAfile = $T_TMP/ca.crt
verifyChain = yes
checkHost = localhost
sslVersionMax = TLSv1.2" && {
      timeout 20 curl -sS --max-time 10 "http://127.0.0.1:$SRV_PORT/" >"$T_TMP/stunnel-c.out" 2>&1
      if grep -q "^certa: TLSv1.2 TLS_ECDHE_ECDSA_WITH_" "$T_TMP/stunnel-c.out" &&
        [[ $(conn_line "$SERVE_LOG" 1) == *": TLSv1.2 "*"client=localhost (verified)"* ]]; then
        ok "curl -> stunnel client (sslVersionMax TLSv1.2, client certificate) -> certa serve --client-ca: TLSv1.2, mTLS"
      else
        not_ok "stunnel client (TLS 1.2) -> certa serve"
        show "$T_TMP/stunnel-c.out" "$SRV_LOG" "$SERVE_LOG"
      fi
      stop "$SRV_PID"
    }
    stop_certa_serve serve-stunnel
  }
  if start_echo_backend; then
    start_stunnel stunnel-server "[s]
accept = 127.0.0.1:%PORT%
connect = 127.0.0.1:$ECHO_PORT
cert = $T_TMP/leaf.crt
key = $T_TMP/leaf.key
CAfile = $T_TMP/ca.crt
verifyChain = yes
requireCert = yes
sslVersionMax = TLSv1.2" && {
      tok=$(uniq_token)
      printf '%s\n' "$tok" | timeout 20 "$CERTA" connect "localhost:$SRV_PORT" --min-version 1.2 \
        --trust "$T_TMP/ca.crt" --cert "$T_TMP/client.crt" --key "$T_TMP/client.key" \
        >"$T_TMP/to-stunnel.out" 2>"$T_TMP/to-stunnel.err"
      rc=$?
      if [ "$rc" -eq 0 ] && grep -qx -- "$tok" "$T_TMP/to-stunnel.out" &&
        grep -q '^\* protocol: *TLSv1.2$' "$T_TMP/to-stunnel.err" &&
        grep -q 'Certificate accepted at depth=0' "$SRV_LOG" &&
        grep -q 'TLSv1.2 ciphersuite: ECDHE-ECDSA-' "$SRV_LOG"; then
        ok "certa connect --min-version 1.2 --cert -> stunnel server (sslVersionMax TLSv1.2, requireCert): mTLS, round trip"
      else
        not_ok "certa connect -> stunnel server (TLS 1.2) (exit $rc)"
        show "$T_TMP/to-stunnel.err" "$SRV_LOG"
      fi
      # Without a client certificate stunnel refuses, and certa says so.
      timeout 20 "$CERTA" connect "localhost:$SRV_PORT" --min-version 1.2 --trust "$T_TMP/ca.crt" \
        </dev/null >"$T_TMP/to-stunnel-nocert.out" 2>"$T_TMP/to-stunnel-nocert.err"
      rc=$?
      if [ "$rc" -eq 1 ] && grep -q "failed: .*alert" "$T_TMP/to-stunnel-nocert.err"; then
        ok "certa connect without a certificate -> stunnel requireCert (TLS 1.2): refused, the peer's alert explained"
      else
        not_ok "certa connect without a certificate -> stunnel (exit $rc)"
        show "$T_TMP/to-stunnel-nocert.err" "$SRV_LOG"
      fi
      # certa proxy (bridge, TLS 1.2 only, client certificate) -> this stunnel server.
      start_proxy proxy-bridge "${V12[@]}" --upstream "localhost:$SRV_PORT" --trust "$T_TMP/ca.crt" \
        --cert "$T_TMP/client.crt" --key "$T_TMP/client.key" && {
        tok=$(uniq_token)
        echo_through "$PROXY_PORT" "$tok" >"$T_TMP/bridge.out" 2>&1
        if grep -qx -- "$tok" "$T_TMP/bridge.out" &&
          [ "$(grep -c 'TLSv1.2 ciphersuite: ECDHE-ECDSA-' "$SRV_LOG")" -ge 2 ]; then
          ok "plaintext -> certa proxy --upstream --max-version 1.2 --cert -> stunnel server (TLS 1.2, requireCert) -> echo: data"
        else
          not_ok "certa proxy bridge (TLS 1.2) -> stunnel server"
          show "$T_TMP/bridge.out" "$PROXY_LOG" "$SRV_LOG"
        fi
        stop_proxy proxy-bridge
      }
      stop "$SRV_PID"
    }
    # stunnel as the client in front of certa proxy (terminate), TLS 1.2 only.
    start_proxy proxy-term "${V12[@]}" --backend "127.0.0.1:$ECHO_PORT" --cert "$T_TMP/leaf.crt" \
      --key "$T_TMP/leaf.key" --client-ca "$T_TMP/ca.crt" && {
      start_stunnel stunnel-to-proxy "[c]
client = yes
accept = 127.0.0.1:%PORT%
connect = 127.0.0.1:$PROXY_PORT
cert = $T_TMP/client.crt
key = $T_TMP/client.key
CAfile = $T_TMP/ca.crt
verifyChain = yes
checkHost = localhost
sslVersionMax = TLSv1.2" && {
        tok=$(uniq_token)
        echo_through "$SRV_PORT" "$tok" >"$T_TMP/stunnel-proxy.out" 2>&1
        if grep -qx -- "$tok" "$T_TMP/stunnel-proxy.out" &&
          grep -q 'TLSv1.2 ciphersuite: ECDHE-ECDSA-' "$SRV_LOG" &&
          wait_for "$PROXY_LOG" 'identity=dns:localhost verified=true version=TLSv1.2 suite=TLS_ECDHE_ECDSA_' 5; then
          ok "stunnel client (TLS 1.2, client certificate) -> certa proxy --max-version 1.2 --client-ca -> echo backend: data, identity verified"
        else
          not_ok "stunnel client (TLS 1.2) -> certa proxy terminate"
          show "$T_TMP/stunnel-proxy.out" "$SRV_LOG" "$PROXY_LOG"
        fi
        stop "$SRV_PID"
      }
      stop_proxy proxy-term
    }
  else
    not_ok "python echo backend did not start"
  fi
  stop "$ECHO_PID"
else
  not_ok "stunnel4 is not installed (scripts/deps.sh installs it)"
fi

finish
