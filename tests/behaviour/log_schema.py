"""Checks certa proxy JSON log lines against docs/log-schema.md.

    log_schema.py SCHEMA.md LOG        every line of LOG valid, else the reasons
    log_schema.py SCHEMA.md --self-test  the checker refuses what it must

The schema is read from the document's tables: "## Every line" (all lines),
"## `close`" (close lines), "## Event lines" (all other lines) and one
"### `name`" heading per event (names comma-separated), each optionally
followed by a table of | `field` | type | always/optional | meaning |."""
import json, re, sys

def load_schema(path):
    common, close, event_common, events = {}, {}, {}, {}
    target = None
    for line in open(path, encoding="utf-8"):
        if line.startswith("## "):
            title = line[3:]
            target = {"Every line": common, "Event lines": event_common}.get(title.strip())
            if title.startswith("`close`"):
                target = close
            continue
        if line.startswith("### "):
            head = line[4:].split(":")[0]
            names = re.findall(r"`([^`]+)`", head)
            target = {}
            for n in names:
                events[n] = target
            continue
        m = re.match(r"\|\s*`([a-z0-9_]+)`\s*\|\s*([a-z ]+?)\s*\|\s*(always|optional)\s*\|", line)
        if m and target is not None:
            target[m.group(1)] = (m.group(2), m.group(3) == "always")
    return common, close, event_common, events

def type_ok(value, t):
    if t == "string": return isinstance(value, str)
    if t == "boolean": return isinstance(value, bool)
    if t == "integer": return isinstance(value, int) and not isinstance(value, bool)
    if t == "integer or string": return type_ok(value, "integer") or type_ok(value, "string")
    raise SystemExit("schema: unknown type " + t)

def check(schema, text):
    common, close, event_common, events = schema
    try:
        obj = json.loads(text)
    except ValueError as e:
        return ["not JSON: %s" % e]
    if not isinstance(obj, dict):
        return ["not a JSON object"]
    ev = obj.get("event")
    if ev == "close":
        fields = dict(common, **close)
    elif ev in events:
        fields = dict(common, **event_common, **events[ev])
    else:
        return ["event %r is not in the schema" % (ev,)]
    errs = []
    for k, v in obj.items():
        if k not in fields:
            errs.append("%s: field %r is not in the schema" % (ev, k))
        elif not type_ok(v, fields[k][0]):
            errs.append("%s: %r is %r, not %s" % (ev, k, v, fields[k][0]))
    for k, (_, always) in fields.items():
        if always and k not in obj:
            errs.append("%s: %r missing" % (ev, k))
    if "time" in obj and not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", str(obj["time"])):
        errs.append("time %r is not RFC 3339 UTC with ms" % obj["time"])
    return errs

def main():
    schema = load_schema(sys.argv[1])
    if sys.argv[2] == "--self-test":
        good = '{"time":"2026-01-01T00:00:00.000Z","event":"reload","msg":"m","files":"f","generation":"1"}'
        bad = {
            "undocumented field": good[:-1] + ',"extra":"x"}',
            "wrong type": good.replace('"generation":"1"', '"generation":1'),
            "missing field": good.replace(',"files":"f"', ""),
            "unknown event": good.replace('"reload"', '"reloaded"'),
            "bad time": good.replace("00.000Z", "00Z"),
            "not JSON": "time=x event=reload",
        }
        ok = not check(schema, good) and all(check(schema, b) for b in bad.values())
        print("self-test", "ok" if ok else "FAILED", "(%d events, %d close fields)" % (len(schema[3]), len(schema[1])))
        for name, b in bad.items():
            print(" ", name, "->", check(schema, b)[:1])
        sys.exit(0 if ok else 1)
    bad = 0
    n = 0
    for i, line in enumerate(open(sys.argv[2], encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line: continue
        n += 1
        errs = check(schema, line)
        if errs:
            bad += 1
            print("line %d: %s\n    %s" % (i, "; ".join(errs), line[:300]))
    print("%d lines, %d invalid" % (n, bad))
    sys.exit(1 if bad or not n else 0)

main()
