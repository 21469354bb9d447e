/* certa fingerprint FILE: JA4, JA4_r and JA3 of every ClientHello in a
 * capture. capture_file.c reads packets (libpcap), packet_decode.c finds
 * their TCP segments, tcp_streams.c puts each stream's first bytes back in
 * order and hello_finder.c takes the ClientHello(s) out of its records; the
 * library computes the fingerprints (certa_fingerprint_client_hello). */
#include "common/cli_common.h"
#include "fingerprint/capture_file.h"
#include "fingerprint/tcp_streams.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Per stream direction: enough for any ClientHello a browser or library
 * sends (post-quantum ones are ~1.8 KB), not for the 128 KiB the length
 * fields would allow. */
#define STREAM_MAX_BYTES (64 * 1024)
#define DEFAULT_MAX_FLOWS 1024

typedef struct fp_opts {
    const char *file;
    bool json;
    long port; /* 0 = every port */
    long max_flows;
} fp_opts;

typedef struct fp_run {
    const fp_opts *o;
    uint64_t printed, malformed;
} fp_run;

static void fp_usage(FILE *out) {
    fputs("usage: certa fingerprint [--json] [--port N] [--max-flows N] FILE\n"
          "\n"
          "Prints one line per TLS ClientHello in a capture (pcap or pcapng; \"-\" reads\n"
          "standard input): the frame that completed it, its time, the client and\n"
          "server addresses, which hello of the connection it is (2: after a\n"
          "HelloRetryRequest), SNI, ALPN, JA4, JA4_r, JA3 (MD5) and the JA3 string.\n"
          "Link types: Ethernet, Linux cooked (SLL, SLL2: tcpdump/tshark -i any),\n"
          "loopback/null and raw IP; IPv4 and IPv6. TCP streams are reassembled from\n"
          "their first byte (retransmitted, overlapping and out-of-order segments\n"
          "included), up to 64 KiB per direction; IP fragments are skipped.\n"
          "\n"
          "  --json          one JSON object per line instead of key=value text\n"
          "  --port N        only connections with N as either port\n"
          "  --max-flows N   directions followed at once (default 1024; the least\n"
          "                  recently active is dropped for a new one)\n"
          "\n"
          "A summary goes to stderr. Exit status: 0 when the whole file was read (even\n"
          "with no ClientHello), 1 when it cannot be read, 2 for a usage error.\n",
          out);
}

static int parse_args(int argc, char **argv, fp_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_flows = DEFAULT_MAX_FLOWS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fp_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--port", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!cli_parse_long(v, 1, 65535, &o->port)) {
                cli_err("fingerprint: --port wants a number from 1 to 65535, not '%s'", v);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--max-flows", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!cli_parse_long(v, 1, 1000000, &o->max_flows)) {
                cli_err("fingerprint: --max-flows wants a number from 1 to 1000000, not '%s'", v);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (a[0] == '-' && a[1] != 0) {
            cli_err("fingerprint: unknown option '%s' (see certa fingerprint --help)", a);
            return CLI_EXIT_USAGE;
        }
        if (o->file) {
            cli_err("fingerprint: one capture file at a time ('%s' and '%s')", o->file, a);
            return CLI_EXIT_USAGE;
        }
        o->file = a;
    }
    if (!o->file) {
        cli_err("fingerprint: which capture file? (certa fingerprint FILE.pcap)");
        return CLI_EXIT_USAGE;
    }
    return -1;
}

static void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* One output field: key=value (value "-" when empty) or "key":"value". */
static void field(FILE *out, const fp_opts *o, bool first, const char *key, const char *val) {
    if (o->json) {
        fputs(first ? "{" : ",", out);
        json_string(out, key);
        fputc(':', out);
        json_string(out, val);
    } else {
        fprintf(out, "%s%s=%s", first ? "" : " ", key, val[0] ? val : "-");
    }
}

static void on_hello(void *arg, void *ctx, const flow_key *key, unsigned index, const uint8_t *msg,
                     size_t len) {
    fp_run *run = arg;
    const capture_packet *pkt = ctx;
    const fp_opts *o = run->o;
    char client[64], server[64];
    flow_format_end(key, true, client, sizeof client);
    flow_format_end(key, false, server, sizeof server);
    certa_fingerprint fp;
    if (certa_fingerprint_client_hello(msg, len, &fp) != CERTA_OK) {
        run->malformed++;
        fprintf(stderr,
                "certa fingerprint: frame %llu: a ClientHello from %s to %s that does not parse "
                "(%zu bytes): no fingerprint\n",
                (unsigned long long)pkt->number, client, server, len);
        return;
    }
    char frame[24], when[48], base[32], hello[8];
    snprintf(frame, sizeof frame, "%llu", (unsigned long long)pkt->number);
    time_t t = (time_t)pkt->sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when, sizeof when, "%s.%06ldZ", base, pkt->usec);
    snprintf(hello, sizeof hello, "%u", index + 1);
    FILE *out = stdout;
    field(out, o, true, "frame", frame);
    field(out, o, false, "time", when);
    field(out, o, false, "client", client);
    field(out, o, false, "server", server);
    field(out, o, false, "hello", hello);
    field(out, o, false, "sni", fp.server_name);
    field(out, o, false, "alpn", fp.alpn);
    field(out, o, false, "ja4", fp.ja4);
    field(out, o, false, "ja4_r", fp.ja4_r);
    field(out, o, false, "ja3", fp.ja3_md5);
    field(out, o, false, "ja3_full", fp.ja3);
    if (fp.truncated) field(out, o, false, "truncated", "yes");
    fputs(o->json ? "}\n" : "\n", out);
    run->printed++;
}

int cmd_fingerprint(int argc, char **argv) {
    fp_opts o;
    int r = parse_args(argc, argv, &o);
    if (r >= 0) return r;
    char why[600];
    capture_file *cap = capture_open(o.file, why, sizeof why);
    if (!cap) {
        cli_err("fingerprint: %s", why);
        return CLI_EXIT_FAIL;
    }
    fp_run run = {.o = &o};
    stream_table *t = stream_table_new((size_t)o.max_flows, STREAM_MAX_BYTES, on_hello, &run);
    if (!t) {
        cli_err("fingerprint: out of memory");
        capture_close(cap);
        return CLI_EXIT_FAIL;
    }
    uint64_t packets = 0, not_tcp = 0, fragments = 0, malformed = 0, filtered = 0;
    capture_packet pkt;
    int got;
    while ((got = capture_next(cap, &pkt, why, sizeof why)) == 1) {
        packets++;
        tcp_segment seg;
        switch (packet_decode(capture_file_link(cap), pkt.data, pkt.caplen, pkt.wire_len, &seg)) {
        case PACKET_TCP:
            if (o.port && seg.key.sport != o.port && seg.key.dport != o.port)
                filtered++;
            else
                stream_table_add(t, &seg, &pkt);
            break;
        case PACKET_NOT_TCP:
            not_tcp++;
            break;
        case PACKET_FRAGMENT:
            fragments++;
            break;
        case PACKET_MALFORMED:
            malformed++;
            break;
        }
    }
    fflush(stdout);
    stream_stats st;
    stream_table_stats(t, &st);
    fprintf(stderr,
            "certa fingerprint: %s: %llu packets, %llu TCP segments in %llu stream directions, "
            "%llu ClientHellos\n",
            o.file, (unsigned long long)packets, (unsigned long long)st.segments,
            (unsigned long long)st.flows, (unsigned long long)run.printed);
    /* What was not looked at, so a missing hello has a reason. */
    struct {
        uint64_t n;
        const char *what;
    } notes[] = {
        {filtered, "TCP segments on other ports (--port)"},
        {fragments, "IP fragments skipped (not reassembled)"},
        {malformed, "packets whose headers do not parse"},
        {run.malformed, "ClientHellos that do not parse"},
        {st.too_big, "ClientHellos larger than 64 KiB, not read"},
        {st.evicted, "streams dropped unfinished for room (--max-flows)"},
        {st.dropped_holes, "segments dropped: more than 16 holes in one stream"},
        {st.unfinished, "streams that end before a complete ClientHello (capture cut short?)"},
    };
    for (size_t k = 0; k < sizeof notes / sizeof notes[0]; k++)
        if (notes[k].n)
            fprintf(stderr, "certa fingerprint: %llu %s\n", (unsigned long long)notes[k].n,
                    notes[k].what);
    (void)not_tcp;
    stream_table_free(t);
    capture_close(cap);
    if (got < 0) {
        cli_err("fingerprint: %s: %s", o.file, why);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}
