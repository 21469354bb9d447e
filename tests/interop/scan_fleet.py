#!/usr/bin/env python3
"""A fleet of loopback endpoints in ONE process, for certa scan's test
(tests/interop/scan.sh) and benchmark (bench/scan_rate.sh).

  scan_fleet.py make DIR [--bench N]   certificates and DIR/plan.json (ports reserved)
  scan_fleet.py serve DIR              serve every endpoint of the plan until SIGTERM
  scan_fleet.py rotate DIR             change a few endpoints (for certa scan --diff)

Kinds: healthy, expiring (a quarter of its lifetime left), critical (5 days
left), expired, rsa1024, wrongname, selfsigned, tls12 (TLS 1.2 only),
refused (nothing listens), silent (accepts, never answers), plain (answers
in plaintext). Every key but the RSA-1024 one is ECDSA P-256, and leaves
share keys (a rotation gets a new one): the fleet is made in about a second.

serve writes DIR/ready once listening and, whenever the number of open
connections reaches a new high, DIR/stats.json {"max_open": N}: the
connections open at once as the server counts them (accept to close), which
tests the scanner's per-host cap.
"""
import asyncio
import datetime
import json
import logging
import os
import select
import signal
import socket
import ssl
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

DAY = datetime.timedelta(days=1)

TEST_PLAN = [("healthy", 120), ("expiring", 15), ("critical", 5), ("expired", 10),
             ("rsa1024", 5), ("wrongname", 10), ("selfsigned", 10), ("tls12", 10),
             ("refused", 5), ("silent", 5), ("plain", 5)]


def pem_key(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_cert(subject_key, cn, issuer_name, issuer_key, not_before, not_after, sans, ca=False):
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer_name)
         .public_key(subject_key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()),
                        critical=False)
         .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
             issuer_key.public_key()), critical=False))
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    if ca:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                          False), critical=True)
    else:
        b = b.add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                            critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def local_sans():
    import ipaddress
    return [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


class Fleet:
    def __init__(self, d):
        self.d = d
        self.now = datetime.datetime.now(datetime.timezone.utc)

    def load_ca(self):
        with open(os.path.join(self.d, "ca.key"), "rb") as f:
            self.ca_key = serialization.load_pem_private_key(f.read(), None)
        with open(os.path.join(self.d, "ca.crt"), "rb") as f:
            self.ca = x509.load_pem_x509_certificate(f.read())

    def key(self, fname, rsa_bits=0):
        path = os.path.join(self.d, fname)
        if os.path.exists(path):
            with open(path, "rb") as f:
                return serialization.load_pem_private_key(f.read(), None), path
        k = (rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits) if rsa_bits
             else ec.generate_private_key(ec.SECP256R1()))
        with open(path, "wb") as f:
            f.write(pem_key(k))
        return k, path

    def leaf(self, ep, kind, key_file="leaf.key"):
        """Writes the endpoint's certificate; returns (cert path, key path)."""
        now = self.now
        life = {"healthy": (-10, 80), "tls12": (-10, 80), "wrongname": (-10, 80),
                "selfsigned": (-10, 80), "rsa1024": (-10, 80), "expiring": (-68, 22),
                "critical": (-85, 5), "expired": (-100, -10)}[kind]
        nb, na = now + life[0] * DAY, now + life[1] * DAY
        key, key_path = self.key("rsa1024.key", 1024) if kind == "rsa1024" else self.key(key_file)
        cn = "%s.fleet.test" % ep
        sans = local_sans() + [x509.DNSName(cn)]
        if kind == "wrongname":
            sans = [x509.DNSName("other.example")]
        if kind == "selfsigned":
            cert = make_cert(key, cn, name(cn), key, nb, na, sans)
        else:
            cert = make_cert(key, cn, self.ca.subject, self.ca_key, nb, na, sans)
        path = os.path.join(self.d, ep + ".crt")
        with open(path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        return path, key_path


def reserve_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def cmd_make(d, bench):
    os.makedirs(d, exist_ok=True)
    fl = Fleet(d)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = make_cert(ca_key, "certa scan fleet CA", name("certa scan fleet CA"), ca_key,
                   fl.now - 30 * DAY, fl.now + 3650 * DAY, None, ca=True)
    with open(os.path.join(d, "ca.key"), "wb") as f:
        f.write(pem_key(ca_key))
    with open(os.path.join(d, "ca.crt"), "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    fl.load_ca()
    plan = [("healthy", bench)] if bench else TEST_PLAN
    total = sum(n for _, n in plan)
    ports = reserve_ports(total)
    eps = []
    for kind, n in plan:
        for i in range(n):
            ep = {"name": "%s-%d" % (kind, i), "kind": kind, "port": ports[len(eps)]}
            if kind in ("refused", "silent", "plain"):
                ep["mode"] = kind
            else:
                ep["mode"] = "tls"
                # bench: one certificate for all (the scanner's cost is the same)
                if bench and eps:
                    ep["cert"], ep["key"] = eps[0]["cert"], eps[0]["key"]
                else:
                    ep["cert"], ep["key"] = fl.leaf(ep["name"], kind)
            eps.append(ep)
    with open(os.path.join(d, "plan.json"), "w") as f:
        json.dump(eps, f, indent=1)
    with open(os.path.join(d, "targets.txt"), "w") as f:
        f.write("# the fleet: one endpoint a line\n")
        for ep in eps:
            f.write("127.0.0.1:%d  # %s\n" % (ep["port"], ep["name"]))


def cmd_rotate(d):
    """healthy-0: new key and serial; healthy-1: new serial, same key;
    healthy-2: reissued with a quarter of its lifetime left (newly expiring);
    healthy-3: stops listening (disappeared); refused-0: starts (new)."""
    fl = Fleet(d)
    fl.load_ca()
    with open(os.path.join(d, "plan.json")) as f:
        eps = json.load(f)
    by = {e["name"]: e for e in eps}
    by["healthy-0"]["cert"], by["healthy-0"]["key"] = fl.leaf("healthy-0", "healthy",
                                                              "rotated.key")
    by["healthy-1"]["cert"], by["healthy-1"]["key"] = fl.leaf("healthy-1", "healthy")
    by["healthy-2"]["cert"], by["healthy-2"]["key"] = fl.leaf("healthy-2", "expiring")
    by["healthy-3"]["mode"] = "refused"
    r = by["refused-0"]
    r["mode"], r["kind"] = "tls", "healthy"
    r["cert"], r["key"] = fl.leaf("refused-0", "healthy")
    with open(os.path.join(d, "plan.json"), "w") as f:
        json.dump(eps, f, indent=1)


async def serve(d):
    # asyncio's streams warn about eof_received() under TLS, once a connection
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)
    with open(os.path.join(d, "plan.json")) as f:
        eps = json.load(f)
    state = {"open": 0, "max": 0, "accepted": 0}
    stats_path = os.path.join(d, "stats.json")

    live = {}  # fd -> socket of the connections not yet closed here

    def snapshot():
        # Counted as the kernel sees it: a connection whose peer has closed
        # (FIN or reset queued) is not open any more, even if this loop has
        # not run its handler's cleanup yet.
        p = select.poll()
        for fd in live:
            p.register(fd, select.POLLRDHUP)
        gone = sum(1 for _, ev in p.poll(0)
                   if ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR | select.POLLNVAL))
        n = len(live) - gone
        if n > state["max"]:
            state["max"] = n
            with open(stats_path + ".tmp", "w") as f:
                json.dump({"max_open": state["max"]}, f)
            os.replace(stats_path + ".tmp", stats_path)

    def opened(sock):
        live[sock.fileno()] = sock
        state["accepted"] += 1
        # a moment for packets already on their way through loopback (a
        # close on one CPU, a connect on another) to land before counting
        asyncio.get_running_loop().call_later(0.002, snapshot)

    def closed(sock):
        live.pop(sock.fileno(), None)

    ctxs = {}

    def context(ep):
        k = (ep["cert"], ep["key"], ep["kind"])
        if k not in ctxs:
            c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            if ep["kind"] == "rsa1024":
                c.set_ciphers("DEFAULT:@SECLEVEL=0")
            if ep["kind"] == "tls12":
                c.maximum_version = ssl.TLSVersion.TLSv1_2
            c.load_cert_chain(ep["cert"], ep["key"])
            ctxs[k] = c
        return ctxs[k]

    def handler_for(ep):
        async def handle(reader, writer):
            sock = writer.get_extra_info("socket")
            opened(sock)
            try:
                if ep["mode"] == "plain":
                    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
                    await asyncio.wait_for(reader.read(65536), 5)
                elif ep["mode"] == "silent":
                    await asyncio.wait_for(reader.read(1 << 20), 30)
                    while await asyncio.wait_for(reader.read(1 << 20), 30):
                        pass
                else:
                    await writer.start_tls(context(ep), ssl_handshake_timeout=10)
                    while await asyncio.wait_for(reader.read(65536), 10):
                        pass
            except Exception:
                pass
            finally:
                closed(sock)
                writer.transport.abort()
        return handle

    servers = []
    for ep in eps:
        if ep["mode"] == "refused":
            continue
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", ep["port"]))
        s.listen(1024)
        servers.append(await asyncio.start_server(handler_for(ep), sock=s))
    with open(os.path.join(d, "ready"), "w") as f:
        f.write("%d\n" % len(servers))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    for s in servers:
        s.close()


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "make":
        bench = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--bench" else 0
        cmd_make(d, bench)
    elif cmd == "rotate":
        cmd_rotate(d)
    elif cmd == "serve":
        try:
            os.unlink(os.path.join(d, "ready"))
        except FileNotFoundError:
            pass
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        asyncio.run(serve(d))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
