#!/usr/bin/env bash
# The README's first command (`make demo`): a TLS 1.3 server and client on
# this machine, the client trusting the server by its key pin, with the full
# handshake trace. Usage: scripts/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail

BUILD=${1:-build}
cd "$(dirname "$0")/.."
CERTA=$PWD/$BUILD/certa
if [ ! -x "$CERTA" ]; then
  echo "demo: $CERTA not found: run 'make' (or 'make BUILD=$BUILD') first" >&2
  exit 1
fi
command -v openssl >/dev/null || {
  echo "demo: the openssl command is needed to make a certificate (make deps installs it)" >&2
  exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/certa-demo.XXXXXX")
SERVER_PID=
DEMO_PID=$BASHPID
cleanup() {
  # Only in this shell (not in a background job that has not exec'd yet).
  [ "$BASHPID" = "$DEMO_PID" ] || return 0
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bold=
plain=
if [ -t 1 ]; then
  bold=$(printf '\033[1m')
  plain=$(printf '\033[0m')
fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
say() { printf '   %s\n' "$*"; }

step "1. Make a throwaway identity for the server"
say "An ECDSA P-256 key and a self-signed certificate for CN=localhost, valid for 1 day,"
say "in $WORK (deleted at the end)."
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$WORK/server.key" -out "$WORK/server.crt" -days 1 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >"$WORK/openssl.log" 2>&1 || {
  cat "$WORK/openssl.log" >&2
  exit 1
}
openssl x509 -in "$WORK/server.crt" -noout -subject -enddate | sed 's/^/   /'

step "2. Compute the certificate's pin"
say "The client will accept this server only if its public key hashes to this value"
say "(SHA-256 of the DER SubjectPublicKeyInfo, the same as curl's --pinnedpubkey):"
PIN="sha256:$(openssl x509 -in "$WORK/server.crt" -pubkey -noout | openssl pkey -pubin -outform der |
  openssl dgst -sha256 -binary | base64 | tr -d '\n')"
say "$PIN"

step "3. Start the server: certa serve (echo mode) on a free loopback port"
timeout 60 "$CERTA" serve --cert "$WORK/server.crt" --key "$WORK/server.key" \
  --host 127.0.0.1 --port 0 --max-conns 1 2>"$WORK/serve.log" &
SERVER_PID=$!
PORT=
for _ in $(seq 100); do
  PORT=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$WORK/serve.log" | head -n1)
  [ -n "$PORT" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$PORT" ]; then
  echo "demo: the server did not start:" >&2
  cat "$WORK/serve.log" >&2
  exit 1
fi
say "$(head -n1 "$WORK/serve.log")"

step "4. Connect with certa connect, pinning the server's key"
say "\$ printf 'hello from the demo\\n' | certa connect 127.0.0.1:$PORT --pin $PIN"
say "Lines starting with '*' are the handshake trace and summary (stderr):"
echo
set +e
printf 'hello from the demo\n' |
  timeout 30 "$CERTA" connect "127.0.0.1:$PORT" --pin "$PIN" >"$WORK/answer.txt"
rc=$?
set -e
echo
if [ "$rc" -ne 0 ]; then
  echo "demo: certa connect failed (exit $rc)" >&2
  exit 1
fi

step "5. The data came back through the encrypted connection"
ANSWER=$(cat "$WORK/answer.txt")
say "sent:     hello from the demo"
say "received: $ANSWER"
if [ "$ANSWER" != "hello from the demo" ]; then
  echo "demo: the echo did not match" >&2
  exit 1
fi

step "6. What the server logged (one line per connection)"
for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
sed -n '2,$p' "$WORK/serve.log" | sed 's/^/   /'

step "7. Clean up"
cleanup
SERVER_PID=
say "server stopped, $WORK removed."
[ "$ANSWER" = "hello from the demo" ]
