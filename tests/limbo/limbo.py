#!/usr/bin/env python3
"""x509-limbo conformance harness for certa_verify_chain (stdlib only).

Loads libcerta.so through ctypes, runs every testcase of limbo.json.gz and
prints right / wrong / skipped per family, every wrong case with its reason,
every skip reason with its count, and as the LAST line
"N passed, N failed, N skipped" (passed = right, failed = wrong).

  limbo.py [--lib build/libcerta.so] [--limbo path/limbo.json.gz]
           [--tap] [--only SUBSTRING] [--results FILE] [-v]

--tap also prints, just before the last line, one TAP line for tests/run.sh:
"ok - limbo: N right of 9780 (bar 9700), M of 208 non-bettertls (bar 190)"
(or "not ok - ..." when a bar is missed). --results writes one
"id RESULT [reason]" line per case (SUCCESS / FAILURE / SKIPPED), the format
other implementations' result files use.
"""
import argparse
import base64
import ctypes
import datetime
import gzip
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEFAULT_LIMBO = os.path.join(os.path.dirname(ROOT), "shared", "testdata", "x509-limbo", "limbo.json.gz")

BAR_ALL = 9700
BAR_NON_BETTERTLS = 190

# Feature tags certa implements (README: skip any case with another tag).
SUPPORTED_FEATURES = {
    "has-crl",                    # params.crls
    "denial-of-service",          # bounded path building and name-constraint work
    "max-chain-depth",            # params.max_depth
    "name-constraint-dn",         # directoryName constraints (RDN prefix match)
    "pedantic-serial-number",     # serial numbers: positive, non-zero, <= 20 bytes
    "pedantic-webpki-subscriber-key",  # the key policy applies to leaves too
}
FEATURE_REASONS = {
    "pedantic-webpki-eku": "pedantic CA/B EKU rules (leaf without EKU or with anyExtendedKeyUsage refused) "
                           "not applied: certa follows RFC 5280 for leaf EKU (machine identities often lack EKU)",
    "pedantic-public-suffix-wildcard": "wildcards on public suffixes need the Public Suffix List, which certa does not ship",
    "rfc5280-incompatible-with-webpki": "certa follows the Web PKI reading here (non-critical nameConstraints are honoured)",
    "pedantic-rfc5280": "a trust anchor is trusted by presence: certa does not require an AKI on a "
                        "cross-signed anchor (cve::cve-2024-0567 expects the opposite)",
    "has-policy-constraints": "certificate policy processing (policyConstraints) not implemented",
    "has-cert-policies": "certificate policy processing not implemented",
}
# The losing side of each conflicts_with pair (README: pick one profile).
PROFILE_SKIPS = {
    "rfc5280::ca-as-leaf": "conflicts with webpki::ca-as-leaf: certa refuses a CA certificate as a TLS leaf (Web PKI)",
    "rfc5280::nc::permitted-dns-match-noncritical": "conflicts with webpki::nc::permitted-dns-match-noncritical: certa honours non-critical name constraints (Web PKI)",
}
SERVER, CLIENT = 0, 1
REVOCATION_REQUIRE = 3  # certa_revocation


class Params(ctypes.Structure):
    _fields_ = [
        ("purpose", ctypes.c_int),
        ("dns_name", ctypes.c_char_p),
        ("ip", ctypes.c_char_p),
        ("spiffe_id", ctypes.c_char_p),
        ("time", ctypes.c_int64),
        ("cn_fallback", ctypes.c_bool),
        ("max_depth", ctypes.c_uint),
        ("max_work", ctypes.c_uint),
        ("email", ctypes.c_char_p),
        ("crls", ctypes.POINTER(ctypes.c_char_p)),
        ("crl_lens", ctypes.POINTER(ctypes.c_size_t)),
        ("crl_count", ctypes.c_size_t),
        ("revocation", ctypes.c_int),
    ]


class Result(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_int),
        ("text", ctypes.c_char * 512),
        ("path_len", ctypes.c_size_t),
        ("path_index", ctypes.c_size_t * 16),
        ("path_subject", (ctypes.c_char * 256) * 16),
        ("revocation_unknown", ctypes.c_uint32),
        ("revocation_text", ctypes.c_char * 384),
    ]


def load_lib(path):
    lib = ctypes.CDLL(path)
    lib.certa_trust_new.restype = ctypes.c_void_p
    lib.certa_trust_free.argtypes = [ctypes.c_void_p]
    lib.certa_trust_add_pem.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t]
    lib.certa_trust_add_pem.restype = ctypes.c_int
    lib.certa_verify_chain.argtypes = [
        ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.POINTER(ctypes.c_size_t),
        ctypes.c_size_t, ctypes.POINTER(Params), ctypes.POINTER(Result)]
    lib.certa_verify_chain.restype = ctypes.c_int
    lib.certa_error_name.restype = ctypes.c_char_p
    lib.certa_error_name.argtypes = [ctypes.c_int]
    return lib


PEM_RE = re.compile(r"-----BEGIN (?:CERTIFICATE|X509 CRL)-----(.*?)-----END (?:CERTIFICATE|X509 CRL)-----", re.S)


def pem_to_der(pem):
    m = PEM_RE.search(pem or "")
    if not m:
        return None
    try:
        return base64.b64decode("".join(m.group(1).split()), validate=True)
    except Exception:
        return None


def parse_time(s):
    if not s:
        return 0
    s = s.replace("Z", "+00:00")
    s = re.sub(r"\.\d+", "", s)  # README: floor to the second
    dt = datetime.datetime.fromisoformat(s)
    return int(dt.timestamp())


def skip_reason(tc):
    for f in tc.get("features") or []:
        if f not in SUPPORTED_FEATURES:
            return "feature %s: %s" % (f, FEATURE_REASONS.get(f, "unknown feature tag"))
    if tc["id"] in PROFILE_SKIPS:
        return "profile: " + PROFILE_SKIPS[tc["id"]]
    if tc.get("signature_algorithms"):
        return "signature_algorithms allow-list not expressible in certa_verify_params"
    ku = tc.get("key_usage") or []
    if ku and ku != ["digitalSignature"]:
        return "key_usage %s not expressible (certa always requires digitalSignature when keyUsage is present)" % ku
    kind = tc.get("validation_kind", "SERVER")
    eku = tc.get("extended_key_usage") or []
    want = "serverAuth" if kind == "SERVER" else "clientAuth"
    if eku and eku != [want]:
        return "extended_key_usage %s not expressible (purpose implies %s)" % (eku, want)
    names = [tc.get("expected_peer_name")] if kind == "SERVER" else (tc.get("expected_peer_names") or [])
    names = [n for n in names if n]
    if len([n for n in names if n["kind"] != "RFC822"]) > 1:
        return "several DNS/IP peer names in one case"
    for n in names:
        if n["kind"] not in ("DNS", "IP", "RFC822"):
            return "peer name kind %s not supported" % n["kind"]
    return None


def run_case(lib, tc):
    """Returns (code, text). With several expected email names (CLIENT
    cases), every one must verify (README: requiring all is safe)."""
    names = [tc.get("expected_peer_name")] if tc.get("validation_kind", "SERVER") == "SERVER" else (tc.get("expected_peer_names") or [])
    names = [n for n in names if n]
    emails = [n for n in names if n["kind"] == "RFC822"] or [None]
    others = [n for n in names if n["kind"] != "RFC822"]
    for em in emails:
        code, text = run_one(lib, tc, others + ([em] if em else []))
        if code != 0:
            return code, text
    return code, text


def run_one(lib, tc, names):
    trust = lib.certa_trust_new()
    try:
        for pem in tc.get("trusted_certs") or []:
            b = pem.encode()
            lib.certa_trust_add_pem(trust, b, len(b))  # a refused anchor is simply absent
        ders = [pem_to_der(tc["peer_certificate"])] + [pem_to_der(p) for p in tc.get("untrusted_intermediates") or []]
        ders = [d if d is not None else b"" for d in ders]
        n = len(ders)
        arr = (ctypes.c_char_p * n)(*ders)
        lens = (ctypes.c_size_t * n)(*[len(d) for d in ders])
        p = Params()
        p.purpose = SERVER if tc.get("validation_kind", "SERVER") == "SERVER" else CLIENT
        keep = []
        for nm in names:
            v = nm["value"].encode()
            keep.append(v)
            if nm["kind"] == "DNS":
                p.dns_name = v
            elif nm["kind"] == "IP":
                p.ip = v
            elif nm["kind"] == "RFC822":
                p.email = v
        p.time = parse_time(tc.get("validation_time"))
        mcd = tc.get("max_chain_depth")
        if mcd is not None:
            p.max_depth = mcd + 2  # limbo counts intermediates; certa counts leaf and anchor too
        crls = [pem_to_der(c) or b"" for c in tc.get("crls") or []]
        if crls:
            carr = (ctypes.c_char_p * len(crls))(*crls)
            clens = (ctypes.c_size_t * len(crls))(*[len(c) for c in crls])
            p.crls = carr
            p.crl_lens = clens
            p.crl_count = len(crls)
            p.revocation = REVOCATION_REQUIRE  # has-crl: the CRLs given decide
        r = Result()
        code = lib.certa_verify_chain(trust, arr, lens, n, ctypes.byref(p), ctypes.byref(r))
        return code, r.text.decode("utf-8", "replace")
    finally:
        lib.certa_trust_free(trust)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lib", default=os.path.join(ROOT, os.environ.get("CERTA_BUILD", "build"), "libcerta.so"))
    ap.add_argument("--limbo", default=os.environ.get("LIMBO_JSON", DEFAULT_LIMBO))
    ap.add_argument("--tap", action="store_true")
    ap.add_argument("--only", default=None)
    ap.add_argument("--results", default=None)
    ap.add_argument("-v", "--verbose", action="store_true")
    a = ap.parse_args()

    lib = load_lib(a.lib)
    opener = gzip.open if a.limbo.endswith(".gz") else open
    with opener(a.limbo, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("version") != 1:
        print("limbo: unexpected version %r" % doc.get("version"))
    cases = doc["testcases"]
    fam = {}
    wrong, skipped, results = [], {}, []
    right_all = right_nb = total_nb = 0
    t0 = time.time()
    for tc in cases:
        tid = tc["id"]
        if a.only and a.only not in tid:
            continue
        family = tid.split("::", 1)[0]
        st = fam.setdefault(family, [0, 0, 0])
        if family != "bettertls":
            total_nb += 1
        reason = skip_reason(tc)
        if reason:
            st[2] += 1
            skipped.setdefault(reason, []).append(tid)
            results.append("%s SKIPPED %s" % (tid, reason))
            continue
        code, text = run_case(lib, tc)
        got = "SUCCESS" if code == 0 else "FAILURE"
        results.append("%s %s" % (tid, got))
        if got == tc["expected_result"]:
            st[0] += 1
            right_all += 1
            if family != "bettertls":
                right_nb += 1
            if a.verbose:
                print("right: %s %s (%s)" % (tid, got, text))
        else:
            st[1] += 1
            name = lib.certa_error_name(code).decode() if code else "CERTA_OK"
            wrong.append((tid, tc["expected_result"], got, name, text))
    elapsed = time.time() - t0

    print("x509-limbo: %d cases in %.1fs (%s)" % (sum(sum(v) for v in fam.values()), elapsed, a.limbo))
    print("%-14s %7s %7s %8s" % ("family", "right", "wrong", "skipped"))
    for k in sorted(fam):
        print("%-14s %7d %7d %8d" % (k, fam[k][0], fam[k][1], fam[k][2]))
    if wrong:
        print("\nwrong (%d):" % len(wrong))
        for tid, exp, got, name, text in wrong:
            print("wrong: %s expected %s, got %s (%s: %s)" % (tid, exp, got, name, text))
    if skipped:
        print("\nskipped (%d), by reason:" % sum(len(v) for v in skipped.values()))
        for reason in sorted(skipped):
            ids = skipped[reason]
            print("skipped %d: %s" % (len(ids), reason))
            for tid in ids:
                print("    %s" % tid)
    if a.results:
        with open(a.results, "w") as f:
            f.write("\n".join(results) + "\n")
    nwrong = len(wrong)
    nskip = sum(len(v) for v in skipped.values())
    if a.tap:
        ok = right_all >= BAR_ALL and right_nb >= BAR_NON_BETTERTLS and not a.only
        print("%s - limbo: %d right of %d (bar %d), %d of %d non-bettertls (bar %d)" % (
            "ok" if ok else "not ok", right_all, right_all + nwrong + nskip, BAR_ALL,
            right_nb, total_nb, BAR_NON_BETTERTLS))
    print("%d passed, %d failed, %d skipped" % (right_all, nwrong, nskip))
    return 0


if __name__ == "__main__":
    sys.exit(main())
