#!/usr/bin/env python3
"""Checks certa scan's outputs against the fleet's plan (tests/interop/scan.sh).

  scan_check.py PLAN.json table|json|csv|prom FILE

Prints one "ok - ..." or "not ok - ..." line per kind of endpoint; exits 1
if any is wrong. The expectations are the kind's: its verdict, the finding
that must be there, the TLS version (TLS endpoints)."""
import csv
import json
import re
import sys

# kind: (verdict, a finding ID that must be present at warn/fail or None, TLS version)
EXPECT = {
    "healthy": ("ok", None, "TLSv1.3"),
    "tls12": ("ok", None, "TLSv1.2"),
    "expiring": ("warn", "CERT-LIFETIME", "TLSv1.3"),
    "critical": ("fail", "CERT-LIFETIME", "TLSv1.3"),
    "expired": ("fail", "CERT-EXPIRED", "TLSv1.3"),
    "rsa1024": ("fail", "CERT-KEY-SIZE", None),
    "wrongname": ("fail", "CERT-NAME-MISMATCH", "TLSv1.3"),
    "selfsigned": ("fail", "CERT-SELF-SIGNED", "TLSv1.3"),
    "refused": ("fail", "SCAN-REFUSED", None),
    "silent": ("fail", "SCAN-TIMEOUT", None),
    "plain": ("fail", "SCAN-NOT-TLS", None),
}


def rows_table(text):
    out = {}
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 9 or not f[0].startswith("127.0.0.1:"):
            continue
        verdict = {"ok": "ok", "WARN": "warn", "FAIL": "fail"}.get(f[1], f[1])
        out[f[0]] = (verdict, set(f[-1].split(",")) - {"-"}, None if f[2] == "-" else f[2])
    return out


def rows_json(text):
    out = {}
    for e in json.loads(text)["endpoints"]:
        ids = {x["id"] for x in e["findings"] if x["severity"] in ("warn", "fail")}
        out[e["target"]] = (e["verdict"], ids, e["tls"]["version"] if e["tls"] else None)
    return out


def rows_csv(text):
    out = {}
    for r in csv.DictReader(text.splitlines()):
        ids = {x.split(":")[0] for x in r["findings"].split() if x.split(":")[1] in ("warn", "fail")}
        out[r["endpoint"]] = (r["verdict"], ids, r["tls_version"] or None)
    return out


def rows_prom(text):
    """verdict from the findings counts; TLS from endpoint_up; IDs are not in it."""
    up, fails, warns, days = {}, {}, {}, {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r'(\w+)\{(.*)\} (\S+)$', line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
        v = float(m.group(3))
        ep = labels.get("endpoint")
        if m.group(1) == "certa_scan_endpoint_up":
            up[ep] = v
        elif m.group(1) == "certa_scan_findings_total":
            (fails if labels["severity"] == "fail" else warns if labels["severity"] == "warn"
             else {})[ep] = v
        elif m.group(1) == "certa_cert_days_left":
            days[ep] = v
    out = {}
    for ep in up:
        verdict = "fail" if fails.get(ep) else "warn" if warns.get(ep) else "ok"
        out[ep] = (verdict, days.get(ep), up[ep])
    return out


def main():
    plan = json.load(open(sys.argv[1]))
    fmt, text = sys.argv[2], open(sys.argv[3]).read()
    rows = {"table": rows_table, "json": rows_json, "csv": rows_csv, "prom": rows_prom}[fmt](text)
    bad = 0
    by_kind = {}
    for ep in plan:
        by_kind.setdefault(ep["kind"], []).append(ep)
    for kind, eps in by_kind.items():
        verdict, finding, tls = EXPECT[kind]
        wrong = []
        for ep in eps:
            got = rows.get("127.0.0.1:%d" % ep["port"])
            if got is None:
                wrong.append("%s: missing" % ep["name"])
                continue
            if got[0] != verdict:
                wrong.append("%s: verdict %s, not %s" % (ep["name"], got[0], verdict))
            if fmt == "prom":
                has_cert = kind not in ("refused", "silent", "plain")
                if (got[1] is not None) != has_cert:
                    wrong.append("%s: certa_cert_days_left %s" % (ep["name"], got[1]))
                if got[2] != (1 if tls else 0):
                    wrong.append("%s: certa_scan_endpoint_up %s" % (ep["name"], got[2]))
                if kind == "expired" and got[1] is not None and got[1] > -9:
                    wrong.append("%s: days_left %s for one expired 10 days ago" % (ep["name"], got[1]))
                if kind == "healthy" and got[1] is not None and not 79 <= got[1] <= 80.1:
                    wrong.append("%s: days_left %s, not 80" % (ep["name"], got[1]))
                continue
            if finding and finding not in got[1]:
                wrong.append("%s: no %s in %s" % (ep["name"], finding, sorted(got[1])))
            if not finding and got[1]:
                wrong.append("%s: unexpected %s" % (ep["name"], sorted(got[1])))
            if tls and got[2] != tls:
                wrong.append("%s: TLS %s, not %s" % (ep["name"], got[2], tls))
        what = "%s: %d %s endpoint(s) %s%s" % (fmt, len(eps), kind, verdict,
                                               " with " + finding if finding else "")
        if wrong:
            bad += 1
            print("not ok - %s (%s)" % (what, "; ".join(wrong[:3])))
        else:
            print("ok - %s" % what)
    if len(rows) != len(plan):
        bad += 1
        print("not ok - %s: %d rows for %d endpoints" % (fmt, len(rows), len(plan)))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
