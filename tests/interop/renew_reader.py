#!/usr/bin/env python3
"""Reads a certa renew state directory's current pair in a loop, the way a
server should: resolve STATE/current once, then load cert.pem and key.pem
from that release directory; a mismatched pair is an ssl.SSLError from
load_cert_chain. A release that was removed between resolving and reading
(kept are only current and previous) is counted as "gone" and read again.

usage: renew_reader.py STATE SECONDS  ->  "reads=N mismatches=M gone=G releases=R"
"""
import os, ssl, sys, time

state, seconds = sys.argv[1], float(sys.argv[2])
reads = mismatches = gone = 0
seen = set()
end = time.time() + seconds
while time.time() < end:
    d = os.path.realpath(os.path.join(state, "current"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        ctx.load_cert_chain(os.path.join(d, "cert.pem"), os.path.join(d, "key.pem"))
        reads += 1
        seen.add(d)
    except FileNotFoundError:
        gone += 1
    except ssl.SSLError as e:
        mismatches += 1
        sys.stderr.write("mismatch in %s: %s\n" % (d, e))
print("reads=%d mismatches=%d gone=%d releases=%d" % (reads, mismatches, gone, len(seen)))
