#!/usr/bin/python3
"""A SPIFFE Workload API server for tests/interop/spiffe_workload.sh.

Serves FetchX509SVID on a Unix socket with SVIDs that `certa ca issue`
makes, a new one every --rotate seconds (0: never), pushed to every open
stream (as a SPIRE agent does), and FetchX509Bundles: the own bundle (keyed
by the bare trust domain name, which the spec allows beside spiffe://TD)
and the federated ones, a new message whenever they change. Calls without the "workload.spiffe.io: true" metadata are
refused with InvalidArgument, as the specification requires.

Signals make the next update a bad one, to test refusals:
  SIGUSR1  an SVID whose key belongs to another certificate
  SIGUSR2  bytes that are not protobuf at all
  SIGHUP   from then on, no federated bundles (the federation ended)
  SIGALRM  the federated CA rotates (--federated-next), bundles only, the
           SVID unchanged: first old and new CA, at the second signal the
           new one alone
  SIGWINCH a malformed bundles update (no bundle for the own trust domain)
Each update issued is written to STATE/svid-PID-N.crt (and the serial appended
to STATE/serials) so the test can tell which SVID a handshake saw.

Runs under Debian's /usr/bin/python3 (python3-grpcio, python3-protobuf);
workload_pb2 comes from `protoc --python_out` at test time (--pb2-dir).
"""
import argparse
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
from concurrent import futures

ap = argparse.ArgumentParser()
ap.add_argument("--socket", required=True)
ap.add_argument("--certa", required=True)
ap.add_argument("--ca", required=True, help="certa ca directory issuing the SVIDs")
ap.add_argument("--id", required=True, help="the workload's SPIFFE ID")
ap.add_argument("--state", required=True, help="directory for issued SVIDs")
ap.add_argument("--rotate", type=float, default=3.0)
ap.add_argument("--ttl", default="1h")
ap.add_argument("--dns", action="append", default=[], help="DNS SANs beside the SPIFFE ID")
ap.add_argument("--federated", action="append", default=[],
                help="spiffe://TD=BUNDLE.pem, sent as a federated bundle")
ap.add_argument("--federated-next", default=None,
                help="spiffe://TD=BUNDLE.pem, the federated CA that SIGALRM rotates to")
ap.add_argument("--no-bundles-rpc", action="store_true",
                help="no FetchX509Bundles (UNIMPLEMENTED, as an older agent)")
ap.add_argument("--pb2-dir", required=True)
args = ap.parse_args()
sys.path.insert(0, args.pb2_dir)
import grpc  # noqa: E402
import workload_pb2 as pb  # noqa: E402


def pem_certs_to_der(pem_text):
    out = b""
    marker = "-----END CERTIFICATE-----"
    for block in pem_text.split(marker)[:-1]:
        out += ssl.PEM_cert_to_DER_cert(block.strip() + "\n" + marker + "\n")
    return out


def key_to_pkcs8_der(path):
    return subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-outform", "DER",
                           "-in", path], check=True, capture_output=True).stdout


class Issuer:
    def __init__(self):
        self.n = 0
        with open(os.path.join(args.ca, "ca.crt")) as f:
            self.bundle = pem_certs_to_der(f.read())
        self.federated = {}
        for spec in args.federated:
            td, path = spec.split("=", 1)
            with open(path) as f:
                self.federated[td] = pem_certs_to_der(f.read())

    def issue(self):
        self.n += 1
        name = os.path.join(args.state, "svid-%d-%d" % (os.getpid(), self.n))
        subprocess.run([args.certa, "ca", "issue", args.ca, "--out", name, "--spiffe", args.id,
                        "--ttl", args.ttl] + [a for d in args.dns for a in ("--dns", d)], check=True, capture_output=True)
        with open(name + ".crt") as f:
            chain = pem_certs_to_der(f.read())
        return name, chain, key_to_pkcs8_der(name + ".key")

    def response(self, bad=None):
        name, chain, key = self.issue()
        if bad == "mismatch":  # another SVID's key beside this certificate
            _, _, key = self.issue()
        serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", name + ".crt"],
                                check=True, capture_output=True, text=True).stdout.strip()
        if not bad:
            with open(os.path.join(args.state, "serials"), "a") as f:
                f.write(serial.split("=", 1)[1] + "\n")
        msg = pb.X509SVIDResponse(svids=[pb.X509SVID(spiffe_id=args.id, x509_svid=chain,
                                                     x509_svid_key=key, bundle=self.bundle)])
        for td, der in ({} if federation_ended else self.federated).items():
            msg.federated_bundles[td] = der
        return msg.SerializeToString()


issuer = Issuer()
lock = threading.Condition()
current = {"gen": 0, "bytes": None}
bundles_current = {"gen": 0, "bytes": None}
bad_next = []
OWN_TD = args.id[len("spiffe://"):].split("/", 1)[0]


def bundles_response(bad=None):
    msg = pb.X509BundlesResponse()
    if bad != "no-own":
        msg.bundles[OWN_TD] = issuer.bundle
    for td, der in ({} if federation_ended else issuer.federated).items():
        msg.bundles[td] = der
    return msg.SerializeToString()


def publish_bundles(bad=None):
    data = bundles_response(bad)
    with lock:
        bundles_current["gen"] += 1
        bundles_current["bytes"] = data
        lock.notify_all()


rotation_stage = [0]


def rotate_federated(*_):
    td, path = args.federated_next.split("=", 1)
    with open(path) as f:
        new = pem_certs_to_der(f.read())
    rotation_stage[0] += 1
    issuer.federated[td] = (issuer.federated.get(td, b"") + new) if rotation_stage[0] == 1 else new
    with open(os.path.join(args.state, "bundles-stage"), "w") as f:
        f.write("%d\n" % rotation_stage[0])
    publish_bundles()


def publish(bad=None):
    data = b"\x0a\xff\xff\xff\x0fnot protobuf" if bad == "garbage" else issuer.response(bad)
    with lock:
        current["gen"] += 1
        current["bytes"] = data
        lock.notify_all()


def stream(feed, context):
    md = dict(context.invocation_metadata())
    if md.get("workload.spiffe.io") != "true":
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "security header missing from request")
    seen = 0
    while context.is_active():
        with lock:
            if feed["gen"] == seen:
                lock.wait(0.5)
                continue
            seen, data = feed["gen"], feed["bytes"]
        yield data


def fetch_x509_svid(request, context):
    yield from stream(current, context)


def fetch_x509_bundles(request, context):
    yield from stream(bundles_current, context)


def rotator():
    while args.rotate > 0:
        time.sleep(args.rotate)
        bad = bad_next.pop(0) if bad_next else None
        publish(bad)


signal.signal(signal.SIGUSR1, lambda *_: bad_next.append("mismatch"))
signal.signal(signal.SIGUSR2, lambda *_: bad_next.append("garbage"))
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
signal.signal(signal.SIGALRM, rotate_federated)
signal.signal(signal.SIGWINCH, lambda *_: publish_bundles("no-own"))


def end_federation(*_):
    global federation_ended
    federation_ended = True
    publish_bundles()


federation_ended = False
signal.signal(signal.SIGHUP, end_federation)

publish()
publish_bundles()
server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
methods = {
    "FetchX509SVID": grpc.unary_stream_rpc_method_handler(
        fetch_x509_svid, request_deserializer=pb.X509SVIDRequest.FromString,
        response_serializer=None),
}
if not args.no_bundles_rpc:
    methods["FetchX509Bundles"] = grpc.unary_stream_rpc_method_handler(
        fetch_x509_bundles, request_deserializer=pb.X509BundlesRequest.FromString,
        response_serializer=None)
handler = grpc.method_handlers_generic_handler("SpiffeWorkloadAPI", methods)
server.add_generic_rpc_handlers((handler,))
server.add_insecure_port("unix:" + args.socket)
server.start()
threading.Thread(target=rotator, daemon=True).start()
print("workload api: serving on unix:%s" % args.socket, flush=True)
server.wait_for_termination()
