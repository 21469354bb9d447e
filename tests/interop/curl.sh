#!/usr/bin/env bash
# curl against certa serve --http: TLS 1.3 by default and with a forced
# suite/group, ALPN (offered list, --http1.1, --no-alpn), SPKI pinning,
# keep-alive, HEAD, and many concurrent clients.
. "$(dirname "$0")/lib.sh"
need openssl curl
need_certa

gen_cert ecdsa srv || not_ok "generate certificate"
pin=$(pin_of "$T_TMP/srv.crt")
curl_pin="sha256//${pin#sha256:}"

start_certa_serve serve-http --http --alpn http/1.1 --cert "$T_TMP/srv.crt" --key "$T_TMP/srv.key" || finish
URL="https://127.0.0.1:$SERVE_PORT/"

# curl_get NAME ARGS...: body in NAME.out, verbose log in NAME.err.
curl_get() {
  local name=$1
  shift
  timeout 20 curl -sS -v --max-time 10 --tlsv1.3 "$@" >"$T_TMP/$name.out" 2>"$T_TMP/$name.err"
  CURL_RC=$?
  CURL_OUT=$T_TMP/$name.out
  CURL_ERR=$T_TMP/$name.err
}

curl_get plain -k "$URL"
if [ "$CURL_RC" -eq 0 ] && grep -q "^certa: TLSv1.3 TLS_AES_128_GCM_SHA256 x25519 alpn=http/1.1\$" "$CURL_OUT"; then
  ok "curl --tlsv1.3 -k -> certa serve --http: 200, body names TLSv1.3 and the parameters"
else
  not_ok "curl --tlsv1.3 -k (exit $CURL_RC)"
  show "$CURL_OUT" "$CURL_ERR" "$SERVE_LOG"
fi
if grep -q "ALPN: server accepted http/1.1" "$CURL_ERR" && grep -q "SSL connection using TLSv1.3" "$CURL_ERR"; then
  ok "curl offering h2,http/1.1: certa picks http/1.1"
else
  not_ok "curl ALPN negotiation"
  show "$CURL_ERR"
fi

curl_get forced -k --tls13-ciphers TLS_CHACHA20_POLY1305_SHA256 --curves P-256 "$URL"
if [ "$CURL_RC" -eq 0 ] && grep -q "^certa: TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 secp256r1 alpn=http/1.1\$" "$CURL_OUT"; then
  ok "curl --tls13-ciphers CHACHA20 --curves P-256 -> certa serve: as asked"
else
  not_ok "curl forced suite/group (exit $CURL_RC)"
  show "$CURL_OUT" "$CURL_ERR"
fi

curl_get http11 -k --http1.1 "$URL"
if [ "$CURL_RC" -eq 0 ] && grep -q "alpn=http/1.1" "$CURL_OUT"; then
  ok "curl --http1.1 -> certa serve --alpn http/1.1"
else
  not_ok "curl --http1.1 (exit $CURL_RC)"
  show "$CURL_OUT" "$CURL_ERR"
fi

curl_get noalpn -k --no-alpn "$URL"
if [ "$CURL_RC" -eq 0 ] && grep -q "alpn=none" "$CURL_OUT"; then
  ok "curl --no-alpn -> certa serve: no ALPN, still served"
else
  not_ok "curl --no-alpn (exit $CURL_RC)"
  show "$CURL_OUT" "$CURL_ERR"
fi

curl_get pinned -k --pinnedpubkey "$curl_pin" "$URL"
if [ "$CURL_RC" -eq 0 ] && grep -q "^certa: TLSv1.3" "$CURL_OUT"; then
  ok "curl --pinnedpubkey (the SPKI pin certa prints) accepts certa serve"
else
  not_ok "curl --pinnedpubkey (exit $CURL_RC)"
  show "$CURL_ERR"
fi

curl_get cafile --cacert "$T_TMP/srv.crt" "https://localhost:$SERVE_PORT/"
if [ "$CURL_RC" -eq 0 ] && grep -q "^certa: TLSv1.3" "$CURL_OUT"; then
  ok "curl --cacert (verified, SNI localhost) -> certa serve"
else
  not_ok "curl --cacert (exit $CURL_RC)"
  show "$CURL_ERR" "$SERVE_LOG"
fi
if wait_for "$SERVE_LOG" 'sni=localhost' 5; then
  ok "certa serve logs the SNI curl sent"
else
  not_ok "certa serve SNI in the log"
  show "$SERVE_LOG"
fi

# Keep-alive: two requests, one connection.
curl_get keepalive -k "$URL" "${URL}again"
if [ "$CURL_RC" -eq 0 ] && [ "$(grep -c '^certa: TLSv1.3' "$CURL_OUT")" -eq 2 ] &&
  grep -q "Re-using existing connection" "$CURL_ERR"; then
  ok "curl: two requests over one kept-alive connection"
else
  not_ok "curl keep-alive (exit $CURL_RC)"
  show "$CURL_ERR"
fi

# HEAD: headers only, with the length of the body a GET would get.
curl_get head -k -I "$URL"
if [ "$CURL_RC" -eq 0 ] && grep -q "^HTTP/1.1 200 OK" "$CURL_OUT" &&
  grep -qi "^Content-Length: [1-9]" "$CURL_OUT"; then
  ok "curl -I (HEAD) -> 200 with Content-Length"
else
  not_ok "curl HEAD (exit $CURL_RC)"
  show "$CURL_OUT" "$CURL_ERR"
fi

# POST with a body: the body is skipped, the answer still comes.
curl_get post -k --data-binary "hello=world" "$URL"
if [ "$CURL_RC" -eq 0 ] && grep -q "^certa: TLSv1.3" "$CURL_OUT"; then
  ok "curl POST with a body -> 200"
else
  not_ok "curl POST (exit $CURL_RC)"
  show "$CURL_OUT" "$CURL_ERR"
fi

# Concurrency: 24 clients at once.
pids=()
for i in $(seq 24); do
  timeout 30 curl -sS -k --tlsv1.3 --max-time 20 "$URL" >"$T_TMP/par-$i.out" 2>&1 &
  pids+=($!)
done
good=0
for i in $(seq 24); do
  wait "${pids[$((i - 1))]}" && grep -q "^certa: TLSv1.3" "$T_TMP/par-$i.out" && good=$((good + 1))
done
if [ "$good" -eq 24 ]; then
  ok "24 concurrent curl clients all served"
else
  not_ok "concurrent curl: $good of 24 served"
  show "$SERVE_LOG"
fi

# A plain-HTTP client: the handshake fails with an explanation, the server lives on.
timeout 10 curl -sS --max-time 5 "http://127.0.0.1:$SERVE_PORT/" >/dev/null 2>&1
if wait_for "$SERVE_LOG" 'handshake failed.*plain HTTP' 5; then
  ok "plain http:// to certa serve: logged as plain HTTP"
else
  not_ok "plain HTTP client not explained"
  show "$SERVE_LOG"
fi
curl_get after -k "$URL"
if [ "$CURL_RC" -eq 0 ] && grep -q "^certa: TLSv1.3" "$CURL_OUT"; then
  ok "certa serve still answers after a failing client"
else
  not_ok "certa serve after a failing client (exit $CURL_RC)"
fi
stop_certa_serve serve-http

finish
