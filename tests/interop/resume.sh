#!/usr/bin/env bash
# TLS 1.3 session resumption through the CLI against real peers, both ways:
# openssl s_client -sess_out/-sess_in, gnutls-cli --resume and Python ssl
# (session=) resuming certa serve's tickets; certa connect --session
# resuming openssl s_server's and gnutls-serv's; a restarted certa serve
# (new random ticket key) and --tickets 0 never resuming; mutual TLS where
# the resumed connection keeps the client identity; certa proxy keeping its
# ticket key across a certificate rotation, and bridge mode resuming the
# upstream from its client cache. Every resumption claim is checked on
# both sides (the peer's output and certa's log).
. "$(dirname "$0")/lib.sh"
need openssl
need_certa

gen_cert ecdsa srv || { not_ok "generate the server certificate"; finish; }
gen_cert ecdsa srv2 || { not_ok "generate the second server certificate"; finish; }
SRV_ARGS=(--cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key")

# sc NAME PORT ARGS...: openssl s_client (TLS 1.3) sends a unique line and
# waits (bounded) for it to come back; tickets arrive before the echo, so
# -sess_out has the session by then. Output in $SC_OUT.
sc() {
  local name=$1 port=$2 tok
  shift 2
  tok=$(uniq_token)
  SC_OUT=$T_TMP/$name.out
  : >"$SC_OUT"
  feed_until "$SC_OUT" "^$tok\$" 10 "$tok" |
    timeout 20 openssl s_client -connect "127.0.0.1:$port" -tls1_3 "$@" >"$SC_OUT" 2>&1
  SC_RC=$?
  grep -qx -- "$tok" "$SC_OUT"
}

# ---- openssl s_client -> certa serve ------------------------------------------
start_certa_serve serve-a "${SRV_ARGS[@]}" && {
  if sc sc-full "$SERVE_PORT" -sess_out "$T_TMP/a.sess" && grep -q '^New, TLSv1.3' "$SC_OUT" &&
    [ -s "$T_TMP/a.sess" ] && [[ $(conn_line "$SERVE_LOG" 1) == *" resumed=no "* ]]; then
    ok "s_client -sess_out -> certa serve: full handshake (New), a ticket saved, logged resumed=no"
  else
    not_ok "s_client -sess_out -> certa serve: first connection (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  if sc sc-reuse "$SERVE_PORT" -sess_in "$T_TMP/a.sess" && grep -q '^Reused, TLSv1.3' "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 2) == *" resumed=yes "* ]]; then
    ok "s_client -sess_in -> certa serve: Reused, TLSv1.3; echo; logged resumed=yes"
  else
    not_ok "s_client -sess_in -> certa serve: not resumed (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi

  # certa connect <-> certa serve, and the stored session file itself.
  CS=$T_TMP/certa-self.sess
  echo ping | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --trust "$T_TMP/srv.crt" \
    --session "$CS" >"$T_TMP/self1.out" 2>"$T_TMP/self1.err"
  rc1=$?
  echo ping | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --trust "$T_TMP/srv.crt" \
    --session "$CS" >"$T_TMP/self2.out" 2>"$T_TMP/self2.err"
  rc2=$?
  if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && grep -q '^\* resumed: *no$' "$T_TMP/self1.err" &&
    grep -q '^\* resumed: *yes (session ticket)$' "$T_TMP/self2.err" &&
    grep -q '^\* server identity: *verified (in the full handshake the session came from)' \
      "$T_TMP/self2.err" && grep -q '^\*   subject: *CN=localhost$' "$T_TMP/self2.err" &&
    grep -q '^\* certificate: *none sent (resumed)' "$T_TMP/self2.err" &&
    [ "$(stat -c %a "$CS")" = 600 ] && [ "$(head -n1 "$CS")" = "certa session 1" ] &&
    [[ $(conn_line "$SERVE_LOG" 4) == *" resumed=yes "* ]] &&
    ! ls "$CS".tmp.* >/dev/null 2>&1; then
    ok "certa connect --session -> certa serve: full, then resumed with the stored server identity; file 0600, no temp left"
  else
    not_ok "certa connect --session -> certa serve (exit $rc1/$rc2)"
    show "$T_TMP/self1.err" "$T_TMP/self2.err" "$SERVE_LOG"
  fi
  stop_certa_serve serve-a
}

# A restarted certa serve has a new random ticket key: the old session is
# offered and declined, and the full handshake still works.
start_certa_serve serve-a2 "${SRV_ARGS[@]}" && {
  if sc sc-restarted "$SERVE_PORT" -sess_in "$T_TMP/a.sess" && grep -q '^New, TLSv1.3' "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 1) == *" resumed=no "* ]]; then
    ok "s_client -sess_in with a ticket from before a certa serve restart: New (full handshake), echo"
  else
    not_ok "s_client -sess_in after a certa serve restart (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  cp "$CS" "$T_TMP/before.sess"
  echo ping | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --trust "$T_TMP/srv.crt" \
    --session "$CS" >"$T_TMP/self3.out" 2>"$T_TMP/self3.err"
  rc=$?
  if [ "$rc" -eq 0 ] && grep -qx ping "$T_TMP/self3.out" &&
    grep -q 'offers a session ticket' "$T_TMP/self3.err" &&
    grep -q '^\* resumed: *no (the server declined the stored session' "$T_TMP/self3.err" &&
    ! cmp -s "$CS" "$T_TMP/before.sess"; then
    ok "certa connect --session after a certa serve restart: offered, declined, full handshake, new session stored"
  else
    not_ok "certa connect --session after a certa serve restart (exit $rc)"
    show "$T_TMP/self3.err" "$SERVE_LOG"
  fi

  # Unusable session files never fail the connection.
  echo "not a session" >"$T_TMP/junk.sess"
  printf 'certa session 1\nxxxxxxxx' >"$T_TMP/trunc.sess"
  bad=""
  for f in junk trunc nodir; do
    sess=$T_TMP/$f.sess
    [ "$f" = nodir ] && sess=$T_TMP/no-such-dir/x.sess
    echo ping | timeout 20 "$CERTA" connect "127.0.0.1:$SERVE_PORT" --trust "$T_TMP/srv.crt" \
      --session "$sess" >"$T_TMP/bad-$f.out" 2>"$T_TMP/bad-$f.err"
    [ $? -eq 0 ] && grep -qx ping "$T_TMP/bad-$f.out" || bad="$bad $f"
  done
  if [ -z "$bad" ] && grep -q 'not a certa session file' "$T_TMP/bad-junk.err" &&
    [ "$(cat "$T_TMP/junk.sess")" = "not a session" ] &&
    grep -q 'stored session is not usable (it is malformed' "$T_TMP/bad-trunc.err" &&
    grep -q 'session: *stored in' "$T_TMP/bad-trunc.err" &&
    grep -q 'cannot create .*No such file or directory' "$T_TMP/bad-nodir.err"; then
    ok "certa connect --session with a foreign, a corrupt and an unwritable file: said on stderr, connection fine, foreign file untouched"
  else
    not_ok "certa connect --session with bad files (failed:$bad)"
    show "$T_TMP/bad-junk.err" "$T_TMP/bad-trunc.err" "$T_TMP/bad-nodir.err"
  fi
  stop_certa_serve serve-a2
}

# ---- certa serve --tickets 0 ------------------------------------------------
start_certa_serve serve-notickets "${SRV_ARGS[@]}" --tickets 0 && {
  rm -f "$T_TMP/none.sess"
  if sc sc-notickets "$SERVE_PORT" -sess_out "$T_TMP/none.sess" &&
    grep -q '^New, TLSv1.3' "$SC_OUT" && ! grep -q 'New Session Ticket' "$SC_OUT" &&
    [ ! -e "$T_TMP/none.sess" ]; then
    ok "certa serve --tickets 0: s_client gets no NewSessionTicket (no session to save)"
  else
    not_ok "certa serve --tickets 0 sent a ticket (exit $SC_RC)"
    show "$SC_OUT"
  fi
  # A session it could not have issued (the serve-a tickets) is declined.
  if sc sc-notickets2 "$SERVE_PORT" -sess_in "$T_TMP/a.sess" && grep -q '^New, TLSv1.3' "$SC_OUT" &&
    [[ $(conn_line "$SERVE_LOG" 2) == *" resumed=no "* ]]; then
    ok "certa serve --tickets 0: s_client -sess_in is not reused (New), full handshake works"
  else
    not_ok "certa serve --tickets 0 with s_client -sess_in (exit $SC_RC)"
    show "$SC_OUT" "$SERVE_LOG"
  fi
  stop_certa_serve serve-notickets
}

# ---- certa connect --session -> openssl s_server --------------------------------
if start_openssl_server s_server -tls1_3 -rev -cert "$T_TMP/srv.crt" -key "$T_TMP/srv.key"; then
  F=$T_TMP/ossl.sess
  for i in 1 2; do
    echo abc | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" --trust "$T_TMP/srv.crt" \
      --session "$F" >"$T_TMP/to-ossl$i.out" 2>"$T_TMP/to-ossl$i.err"
    eval "rc$i=$?"
  done
  if [ "$rc1" -eq 0 ] && grep -q '^\* resumed: *no$' "$T_TMP/to-ossl1.err" &&
    grep -q 'stored in' "$T_TMP/to-ossl1.err" && [ "$(stat -c %a "$F")" = 600 ]; then
    ok "certa connect --session -> openssl s_server: full handshake, the server's ticket stored (0600)"
  else
    not_ok "certa connect --session -> openssl s_server: first run (exit $rc1)"
    show "$T_TMP/to-ossl1.err" "$SRV_LOG"
  fi
  if [ "$rc2" -eq 0 ] && grep -qx cba "$T_TMP/to-ossl2.out" &&
    grep -q '^\* resumed: *yes (session ticket)$' "$T_TMP/to-ossl2.err" &&
    grep -q 'ServerHello (TLS 1.3, .*, resumed)' "$T_TMP/to-ossl2.err"; then
    ok "certa connect --session -> openssl s_server: second run resumed, data flows"
  else
    not_ok "certa connect --session -> openssl s_server: second run not resumed (exit $rc2)"
    show "$T_TMP/to-ossl2.err" "$SRV_LOG"
  fi
  stop "$SRV_PID"
fi

# ---- GnuTLS both ways ---------------------------------------------------------
if command -v gnutls-cli >/dev/null && command -v gnutls-serv >/dev/null; then
  start_certa_serve serve-gnutls "${SRV_ARGS[@]}" && {
    out=$T_TMP/gnutls-cli.out
    # --waitresumption: wait for the TLS 1.3 ticket before reconnecting.
    printf 'ping\n' | timeout 20 gnutls-cli --x509cafile "$T_TMP/srv.crt" --resume \
      --waitresumption --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' -p "$SERVE_PORT" 127.0.0.1 \
      >"$out" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && grep -q 'This is a resumed session' "$out" &&
      [[ $(conn_line "$SERVE_LOG" 2) == *" resumed=yes "* ]]; then
      ok "gnutls-cli --resume -> certa serve: 'This is a resumed session', logged resumed=yes"
    else
      not_ok "gnutls-cli --resume -> certa serve (exit $rc)"
      show "$out" "$SERVE_LOG"
    fi
    stop_certa_serve serve-gnutls
  }
  # gnutls-serv asks for a client certificate unless told not to; it sends
  # TLS 1.3 tickets by default.
  if start_gnutls_server gnutls-serv --echo --disable-client-cert \
    --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.3' \
    --x509certfile "$T_TMP/srv.crt" --x509keyfile "$T_TMP/srv.key"; then
    F=$T_TMP/gnutls.sess
    for i in 1 2; do
      # gnutls-serv closes at once after our close_notify: keep stdin open
      # briefly so its tickets and the echo arrive first.
      (echo ping; sleep 0.3) | timeout 20 "$CERTA" connect "127.0.0.1:$SRV_PORT" \
        --trust "$T_TMP/srv.crt" --session "$F" >"$T_TMP/to-gnutls$i.out" 2>"$T_TMP/to-gnutls$i.err"
      eval "rc$i=$?"
    done
    if [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] && grep -q '^\* resumed: *no$' "$T_TMP/to-gnutls1.err" &&
      grep -q '^\* resumed: *yes (session ticket)$' "$T_TMP/to-gnutls2.err" &&
      grep -qx ping "$T_TMP/to-gnutls2.out"; then
      ok "certa connect --session -> gnutls-serv: full, then resumed"
    else
      not_ok "certa connect --session -> gnutls-serv (exit $rc1/$rc2)"
      show "$T_TMP/to-gnutls1.err" "$T_TMP/to-gnutls2.err" "$SRV_LOG"
    fi
    stop "$SRV_PID"
  fi
else
  skip "gnutls-cli / gnutls-serv not installed: GnuTLS resumption cases"
fi

# ---- Python ssl -> certa serve --------------------------------------------------
if command -v python3 >/dev/null; then
  start_certa_serve serve-python "${SRV_ARGS[@]}" && {
    timeout 30 python3 - "$SERVE_PORT" "$T_TMP/srv.crt" >"$T_TMP/py.out" 2>&1 <<'EOF'
import socket, ssl, sys
port = int(sys.argv[1])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
ctx.load_verify_locations(sys.argv[2])
def once(n, session=None):
    with socket.create_connection(("127.0.0.1", port), 10) as s:
        t = ctx.wrap_socket(s, server_hostname="localhost", session=session)
        # The TLS 1.3 ticket arrives after the handshake: read the echo.
        t.sendall(b"ping\n")
        buf = b""
        while not buf.endswith(b"\n"):
            d = t.recv(100)
            if not d:
                break
            buf += d
        print("conn%d echo=%s reused=%s" % (n, buf.decode().strip(), t.session_reused))
        sess = t.session
        t.unwrap()
        return sess
s1 = once(1)
print("ticket", s1.has_ticket)
once(2, s1)
EOF
    if grep -qx 'conn1 echo=ping reused=False' "$T_TMP/py.out" &&
      grep -qx 'ticket True' "$T_TMP/py.out" &&
      grep -qx 'conn2 echo=ping reused=True' "$T_TMP/py.out" &&
      [[ $(conn_line "$SERVE_LOG" 2) == *" resumed=yes "* ]]; then
      ok "python ssl wrap_socket(session=) -> certa serve: session_reused is True, logged resumed=yes"
    else
      not_ok "python ssl resumption -> certa serve"
      show "$T_TMP/py.out" "$SERVE_LOG"
    fi
    stop_certa_serve serve-python
  }
fi

# ---- mutual TLS: the resumed connection keeps the client's identity ---------------
CA=$T_TMP/ca
if "$CERTA" ca init "$CA" --ttl 48h >/dev/null 2>&1 &&
  "$CERTA" ca issue "$CA" --out "$T_TMP/mserver" --dns localhost --ip 127.0.0.1 --server \
    --ttl 1h >/dev/null 2>&1 &&
  "$CERTA" ca issue "$CA" --out "$T_TMP/web" --spiffe spiffe://example.org/web --client \
    --ttl 1h >/dev/null 2>&1; then
  start_certa_serve serve-mtls --cert "$T_TMP/mserver.crt" --key "$T_TMP/mserver.key" \
    --client-ca "$CA/ca.crt" --allow spiffe://example.org/web && {
    M=(-servername localhost -CAfile "$CA/ca.crt" -verify_return_error -cert "$T_TMP/web.crt"
      -key "$T_TMP/web.key")
    sc sc-mtls1 "$SERVE_PORT" "${M[@]}" -sess_out "$T_TMP/mtls.sess"
    l1=$(conn_line "$SERVE_LOG" 1)
    if sc sc-mtls2 "$SERVE_PORT" "${M[@]}" -sess_in "$T_TMP/mtls.sess" &&
      grep -q '^Reused, TLSv1.3' "$SC_OUT" && [[ $l1 == *" resumed=no "* ]] &&
      [[ $l1 == *"client=spiffe://example.org/web (verified)"* ]] &&
      [[ $(conn_line "$SERVE_LOG" 2) == *" resumed=yes "*"client=spiffe://example.org/web (verified)"* ]]; then
      ok "mTLS: s_client -cert -sess_in -> certa serve --client-ca: Reused, the log keeps client=spiffe://example.org/web (verified)"
    else
      not_ok "mTLS resumption (exit $SC_RC)"
      show "$T_TMP/sc-mtls1.out" "$SC_OUT" "$SERVE_LOG"
    fi
    stop_certa_serve serve-mtls
  }
else
  not_ok "certa ca: issue the mTLS identities"
fi

# ---- certa proxy: tickets survive a certificate rotation ----------------------------
if start_echo_backend; then
  cp "$T_TMP/srv.crt" "$T_TMP/live.crt"
  cp "$T_TMP/srv.key" "$T_TMP/live.key"
  if start_proxy proxy-term --backend "127.0.0.1:$ECHO_PORT" --cert "$T_TMP/live.crt" \
    --key "$T_TMP/live.key" --log-format json; then
    sc px1 "$PROXY_PORT" -sess_out "$T_TMP/px.sess"
    sc px2 "$PROXY_PORT" -sess_in "$T_TMP/px.sess" -sess_out "$T_TMP/px2.sess"
    if grep -q '^Reused, TLSv1.3' "$T_TMP/px2.out" && wait_for "$PROXY_LOG" '"resumed":true' 5 &&
      grep -q '"resumed":false' "$PROXY_LOG"; then
      ok "certa proxy (terminate): s_client -sess_in Reused; JSON log has resumed false, then true"
    else
      not_ok "certa proxy (terminate) resumption"
      show "$T_TMP/px1.out" "$T_TMP/px2.out" "$PROXY_LOG"
    fi
    # Rotate the certificate (by rename, as deployment tools do).
    cp "$T_TMP/srv2.crt" "$T_TMP/live.crt.new" && mv "$T_TMP/live.crt.new" "$T_TMP/live.crt"
    cp "$T_TMP/srv2.key" "$T_TMP/live.key.new" && mv "$T_TMP/live.key.new" "$T_TMP/live.key"
    wait_for "$PROXY_LOG" 'reloaded the config' 5
    # Let a refused half-done reload (new cert, old key) settle into a good one.
    sleep 1.2
    sc px3 "$PROXY_PORT" -sess_in "$T_TMP/px2.sess"
    rs=$(grep -c '"resumed":true' "$PROXY_LOG")
    if grep -q 'reloaded the config' "$PROXY_LOG" && grep -q '^Reused, TLSv1.3' "$T_TMP/px3.out" &&
      wait_for "$PROXY_LOG" '"id":3,.*"resumed":true' 5; then
      ok "certa proxy: a ticket from before the certificate rotation resumes after the reload"
    else
      not_ok "certa proxy: ticket after rotation not resumed ($rs resumed lines)"
      show "$T_TMP/px3.out" "$PROXY_LOG"
    fi
    # And a full handshake after the reload sees the new certificate.
    sc px4 "$PROXY_PORT"
    fp_new=$(openssl x509 -in "$T_TMP/srv2.crt" -noout -fingerprint -sha256 | sed 's/.*=//')
    fp_seen=$(openssl x509 -in "$T_TMP/px4.out" -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//')
    check "certa proxy: a new full handshake after the rotation gets the new certificate" \
      test -n "$fp_new" -a "$fp_new" = "$fp_seen"
    stop_proxy proxy-term
  else
    not_ok "certa proxy (terminate) did not start"
    show "$T_TMP/proxy-term.log"
  fi

  # New client trust (--client-ca replaced) means a new ticket key: an
  # identity verified under the old anchors must not come back by ticket.
  if [ -s "$CA/ca.crt" ]; then
    cp "$CA/ca.crt" "$T_TMP/live-ca.crt"
    if start_proxy proxy-mtls --backend "127.0.0.1:$ECHO_PORT" --cert "$T_TMP/mserver.crt" \
      --key "$T_TMP/mserver.key" --client-ca "$T_TMP/live-ca.crt"; then
      M=(-servername localhost -CAfile "$CA/ca.crt" -cert "$T_TMP/web.crt" -key "$T_TMP/web.key")
      sc pxm1 "$PROXY_PORT" "${M[@]}" -sess_out "$T_TMP/pxm.sess"
      sc pxm2 "$PROXY_PORT" "${M[@]}" -sess_in "$T_TMP/pxm.sess" -sess_out "$T_TMP/pxm2.sess"
      cp "$CA/ca.crt" "$T_TMP/live-ca.crt.new" && mv "$T_TMP/live-ca.crt.new" "$T_TMP/live-ca.crt"
      wait_for "$PROXY_LOG" 'reloaded the config' 5
      sc pxm3 "$PROXY_PORT" "${M[@]}" -sess_in "$T_TMP/pxm2.sess"
      if grep -q '^Reused, TLSv1.3' "$T_TMP/pxm2.out" && grep -q 'reloaded the config' "$PROXY_LOG" &&
        grep -q '^New, TLSv1.3' "$T_TMP/pxm3.out" &&
        wait_for "$PROXY_LOG" 'id=3 .*identity=spiffe://example.org/web .*resumed=false' 5; then
        ok "certa proxy: after --client-ca is replaced, an older ticket is not resumed (New, the client certificate checked again)"
      else
        not_ok "certa proxy: ticket across a --client-ca reload"
        show "$T_TMP/pxm2.out" "$T_TMP/pxm3.out" "$PROXY_LOG"
      fi
      stop_proxy proxy-mtls
    else
      not_ok "certa proxy (mTLS) did not start"
      show "$T_TMP/proxy-mtls.log"
    fi
  fi

  # Bridge mode: the proxy is the TLS client; its config's cache resumes the
  # upstream (certa serve) on the next connection.
  start_certa_serve serve-upstream "${SRV_ARGS[@]}" && {
    if start_proxy proxy-bridge --upstream "127.0.0.1:$SERVE_PORT" --trust "$T_TMP/srv.crt"; then
      timeout 20 python3 - "$PROXY_PORT" >"$T_TMP/bridge.out" 2>&1 <<'EOF'
import socket, sys
for i in range(3):
    with socket.create_connection(("127.0.0.1", int(sys.argv[1])), 10) as s:
        s.sendall(b"bridge-%d\n" % i)
        buf = b""
        while not buf.endswith(b"\n"):
            d = s.recv(100)
            if not d:
                break
            buf += d
        print(buf.decode().strip())
EOF
      if grep -qx bridge-2 "$T_TMP/bridge.out" &&
        [[ $(conn_line "$SERVE_LOG" 1) == *" resumed=no "* ]] &&
        [[ $(conn_line "$SERVE_LOG" 2) == *" resumed=yes "* ]] &&
        [[ $(conn_line "$SERVE_LOG" 3) == *" resumed=yes "* ]] &&
        wait_for "$PROXY_LOG" 'resumed=true' 5; then
        ok "certa proxy (bridge): connections 2 and 3 resume the upstream from the config's cache (serve and proxy logs)"
      else
        not_ok "certa proxy (bridge) resumption"
        show "$T_TMP/bridge.out" "$SERVE_LOG" "$PROXY_LOG"
      fi
      stop_proxy proxy-bridge
    else
      not_ok "certa proxy (bridge) did not start"
      show "$T_TMP/proxy-bridge.log"
    fi
    stop_certa_serve serve-upstream
  }
else
  not_ok "python echo backend did not start"
fi
stop "$ECHO_PID"

finish
