#!/usr/bin/env python3
"""A small fake ACME server (HTTPS on loopback) for what Pebble cannot be
made to do on demand: a rate limit, badNonce answers to good nonces,
Retry-After while an order is processing, and a certificate for another key.

usage: acme_fake.py CERT KEY PORTFILE MODE CHAIN_PEM [CA_CERT CA_KEY WINDOW_FILE]
MODE: ratelimit  newOrder answers 429 rateLimited with Retry-After: 3600
      badnonce   the first two POSTs get badNonce (with a fresh nonce); the
                 first newOrder is 503 with Retry-After: 1; the order stays
                 "processing" (Retry-After: 1) for one poll; the certificate
                 is CHAIN_PEM
      wrongkey   like badnonce without the badNonce answers (CHAIN_PEM is for
                 another key)
      ari        RFC 9773: the directory has renewalInfo; GET renewalInfo/<certID>
                 answers the window in WINDOW_FILE ({"start": epoch, "end":
                 epoch, "retry_after": s}) with Retry-After, and logs "fake:
                 renewalInfo <certID>"; newOrder logs "fake: newOrder replaces=X"
                 (X "-" when absent); finalize signs the CSR with CA_CERT/CA_KEY
                 (a certificate for a day, with the CA's key identifier as AKI)
                 and the order is valid at once
Authorizations are valid from the start: no challenge is needed. Every POST
must carry a nonce this server issued and nobody used before, and the url
of the request it was sent to; a violation is logged ("VIOLATION ...") and
answered 400 malformed. It stops after 120 s.
"""
import base64, http.server, json, os, secrets, ssl, sys, threading, time

cert, key, portfile, mode, chain_file = sys.argv[1:6]
ca_cert, ca_key, window_file = (sys.argv[6:9] + [None] * 3)[:3]
issued_pem = {}
issued, used = set(), set()
state = {"posts": 0, "polls": 0, "processing_at": 0.0, "busy_at": 0.0}
lock = threading.Lock()


def b64d(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("fake: " + (fmt % args) + "\n")

    def base(self):
        return "https://127.0.0.1:%d" % self.server.server_address[1]

    def nonce(self):
        n = secrets.token_urlsafe(16)
        with lock:
            issued.add(n)
        return n

    def send(self, status, body=b"", ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Replay-Nonce", self.nonce())
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def problem(self, status, kind, detail, headers=()):
        self.send(status, {"type": "urn:ietf:params:acme:error:" + kind, "detail": detail},
                  "application/problem+json", headers)

    def do_HEAD(self):
        self.send(200)

    def do_GET(self):
        b = self.base()
        if self.path == "/dir":
            d = {"newNonce": b + "/nonce", "newAccount": b + "/new-account",
                 "newOrder": b + "/new-order", "revokeCert": b + "/revoke",
                 "keyChange": b + "/key-change"}
            if mode == "ari":
                d["renewalInfo"] = b + "/renewal-info/"
            self.send(200, d)
        elif mode == "ari" and self.path.startswith("/renewal-info/"):
            cert_id = self.path[len("/renewal-info/"):]
            sys.stderr.write("fake: renewalInfo %s\n" % cert_id)
            with open(window_file) as f:
                w = json.load(f)
            iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            self.send(200, {"suggestedWindow": {"start": iso(w["start"]), "end": iso(w["end"])},
                            "explanationURL": b + "/why"},
                      headers=[("Retry-After", str(w["retry_after"]))])
        else:
            self.send(404, b"no", "text/plain")

    def order(self, status):
        b = self.base()
        o = {"status": status, "identifiers": [{"type": "dns", "value": "fake.certa.test"}],
             "authorizations": [b + "/authz/1"], "finalize": b + "/finalize/1"}
        if status == "valid":
            o["certificate"] = b + "/cert/1"
        return o

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        prot = json.loads(b64d(body.get("protected", "")) or b"{}")
        n, url = prot.get("nonce"), prot.get("url")
        with lock:
            fresh = n in issued and n not in used
            used.add(n)
            state["posts"] += 1
            posts = state["posts"]
        if not fresh or url != self.base() + self.path:
            sys.stderr.write("VIOLATION nonce=%s fresh=%s url=%s path=%s\n" % (n, fresh, url, self.path))
            return self.problem(400, "malformed", "nonce reused or url mismatch")
        if mode == "badnonce" and posts <= 2:
            return self.problem(400, "badNonce", "JWS has an invalid anti-replay nonce")
        b = self.base()
        if self.path == "/new-account":
            return self.send(201, {"status": "valid"}, headers=[("Location", b + "/acct/1")])
        if self.path == "/new-order":
            if mode == "ari":
                payload = json.loads(b64d(body.get("payload", "")) or b"{}")
                sys.stderr.write("fake: newOrder replaces=%s\n" % payload.get("replaces", "-"))
                with lock:  # each order starts afresh: ready, then finalized
                    state["processing_at"] = 0.0
                    state["polls"] = 0
            if mode == "ratelimit":
                return self.problem(429, "rateLimited",
                                    "too many new orders (5) for fake.certa.test in the last 3 hours",
                                    [("Retry-After", "3600")])
            if mode == "badnonce":
                with lock:
                    busy = state["busy_at"]
                    if not busy:
                        state["busy_at"] = time.time()
                if not busy:
                    return self.problem(503, "serverInternal", "busy: come back in a second",
                                        [("Retry-After", "1")])
                sys.stderr.write("fake: newOrder again %.2f s after 503\n" % (time.time() - busy))
            return self.send(201, self.order("pending"), headers=[("Location", b + "/order/1")])
        if self.path == "/authz/1":
            return self.send(200, {"status": "valid",
                                   "identifier": {"type": "dns", "value": "fake.certa.test"},
                                   "challenges": []})
        if self.path == "/order/1":
            with lock:
                state["polls"] += 1
                started = state["processing_at"]
            if not started:
                return self.send(200, self.order("ready"))
            if state["polls"] == 2:  # the first poll after finalize
                return self.send(200, self.order("processing"), headers=[("Retry-After", "1")])
            sys.stderr.write("fake: poll %.2f s after finalize\n" % (time.time() - started))
            return self.send(200, self.order("valid"))
        if self.path == "/finalize/1" and mode == "ari":
            payload = json.loads(b64d(body.get("payload", "")) or b"{}")
            issued_pem["chain"] = sign_csr(b64d(payload["csr"]))
            with lock:
                state["processing_at"] = time.time()
                state["polls"] = 5
            return self.send(200, self.order("valid"))
        if self.path == "/finalize/1":
            with lock:
                state["processing_at"] = time.time()
                state["polls"] = 1
            return self.send(200, self.order("processing"), headers=[("Retry-After", "1")])
        if self.path == "/cert/1" and mode == "ari":
            return self.send(200, issued_pem["chain"], "application/pem-certificate-chain")
        if self.path == "/cert/1":
            with open(chain_file, "rb") as f:
                return self.send(200, f.read(), "application/pem-certificate-chain")
        self.problem(404, "malformed", "no such resource")


def sign_csr(der):
    """A day-long certificate for the CSR's key and names, issued by CA_CERT."""
    import datetime
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    csr = x509.load_der_x509_csr(der)
    with open(ca_cert, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    with open(ca_key, "rb") as f:
        cakey = serialization.load_pem_private_key(f.read(), None)
    now = datetime.datetime.now(datetime.timezone.utc)
    san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    c = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(ca.subject)
         .public_key(csr.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(minutes=1))
         .not_valid_after(now + datetime.timedelta(days=1))
         .add_extension(san, critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
         .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
         .sign(cakey, hashes.SHA256()))
    return c.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + ".tmp", portfile)
threading.Timer(120, srv.shutdown).start()
srv.serve_forever()
