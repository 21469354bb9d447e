#!/usr/bin/env python3
"""Certificates for tests/interop/diagnose.sh: a root and an intermediate CA,
and leaves that are broken on purpose (expired, wrong name, RSA-1024, issued
by the intermediate with an AIA caIssuers URL, self-signed), plus an OCSP
response for the good leaf whose nextUpdate has passed.

usage: diagnose_certs.py OUTDIR AIA_URL"""
import datetime
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

out, aia_url = sys.argv[1], sys.argv[2]
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def save(stem, cert, key=None):
    with open(f"{out}/{stem}.crt", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(f"{out}/{stem}.der", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.DER))
    if key is not None:
        with open(f"{out}/{stem}.key", "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))


def make(cn, issuer_name, issuer_key, key, ca=False, start=None, end=None, sans=None, aia=None):
    b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer_name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start or now - day).not_valid_after(end or now + 30 * day))
    b = b.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    b = b.add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                        critical=False)
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                            critical=True)
    else:
        b = b.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        names = sans if sans is not None else ["localhost"]
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(n) for n in names] +
            ([x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))] if sans is None else [])),
            critical=False)
    if aia:
        b = b.add_extension(x509.AuthorityInformationAccess(
            [x509.AccessDescription(AuthorityInformationAccessOID.CA_ISSUERS,
                                    x509.UniformResourceIdentifier(aia))]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def p256():
    return ec.generate_private_key(ec.SECP256R1())


root_key = p256()
root = make("diagnose test root", name("diagnose test root"), root_key, root_key, ca=True)
save("root", root, root_key)
int_key = p256()
inter = make("diagnose test intermediate", root.subject, root_key, int_key, ca=True)
save("intermediate", inter, int_key)

k = p256()
good = make("localhost", root.subject, root_key, k)
save("good", good, k)
k = p256()
save("expired", make("localhost", root.subject, root_key, k, start=now - 10 * day, end=now - 2 * day), k)
k = p256()
save("wrongname", make("other.example", root.subject, root_key, k, sans=["other.example"]), k)
k = rsa.generate_private_key(public_exponent=65537, key_size=1024)
save("rsa1024", make("localhost", root.subject, root_key, k), k)
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
save("rsa2048", make("localhost", root.subject, root_key, k), k)
k = p256()
save("aialeaf", make("localhost", inter.subject, int_key, k, aia=aia_url), k)
k = p256()
save("selfsigned", make("localhost", name("localhost"), k, k), k)
k = p256()
# 3 days left of a 6-day lifetime: renewal should have happened
save("ageing", make("localhost", root.subject, root_key, k, start=now - 4 * day, end=now + 2 * day), k)

# An OCSP response for the good leaf, signed by the root, expired yesterday.
resp = (ocsp.OCSPResponseBuilder()
        .add_response(cert=good, issuer=root, algorithm=hashes.SHA1(),
                      cert_status=ocsp.OCSPCertStatus.GOOD, this_update=now - 3 * day,
                      next_update=now - day, revocation_time=None, revocation_reason=None)
        .responder_id(ocsp.OCSPResponderEncoding.HASH, root)
        .sign(root_key, hashes.SHA256()))
with open(f"{out}/good-ocsp-expired.der", "wb") as f:
    f.write(resp.public_bytes(serialization.Encoding.DER))
