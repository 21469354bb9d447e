/* certa diagnose: probes on the wire, below what certa's client would ever
 * send — legacy versions (SSLv3, TLS 1.0, 1.1), every TLS 1.2 suite a server
 * might still take and its preference, TLS 1.3 suites and groups (learnt
 * from HelloRetryRequests, so no key is generated), TLS_FALLBACK_SCSV, the
 * downgrade sentinel, renegotiation_info and a ClientHello over 1,500 bytes
 * in two TCP segments. One connection per probe, never in parallel. */
#include "diagnose/diagnose.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define G_PROTO "protocols"
#define G_SUITES "cipher suites"
#define G_GROUPS "key exchange"
#define G_ROBUST "robustness and downgrade protection"

typedef struct suite_name {
    uint16_t id;
    const char *name;
    int strength; /* 0 good, 1 weak (CBC or no forward secrecy), 2 broken */
} suite_name;

static const suite_name suites[] = {
    {0x1301, "TLS_AES_128_GCM_SHA256", 0},
    {0x1302, "TLS_AES_256_GCM_SHA384", 0},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256", 0},
    {0x1304, "TLS_AES_128_CCM_SHA256", 0},
    {0x1305, "TLS_AES_128_CCM_8_SHA256", 1},
    {0xc02b, "ECDHE-ECDSA-AES128-GCM-SHA256", 0},
    {0xc02c, "ECDHE-ECDSA-AES256-GCM-SHA384", 0},
    {0xc02f, "ECDHE-RSA-AES128-GCM-SHA256", 0},
    {0xc030, "ECDHE-RSA-AES256-GCM-SHA384", 0},
    {0xcca9, "ECDHE-ECDSA-CHACHA20-POLY1305", 0},
    {0xcca8, "ECDHE-RSA-CHACHA20-POLY1305", 0},
    {0x009e, "DHE-RSA-AES128-GCM-SHA256", 0},
    {0x009f, "DHE-RSA-AES256-GCM-SHA384", 0},
    {0xccaa, "DHE-RSA-CHACHA20-POLY1305", 0},
    {0xc009, "ECDHE-ECDSA-AES128-SHA", 1},
    {0xc00a, "ECDHE-ECDSA-AES256-SHA", 1},
    {0xc013, "ECDHE-RSA-AES128-SHA", 1},
    {0xc014, "ECDHE-RSA-AES256-SHA", 1},
    {0xc023, "ECDHE-ECDSA-AES128-SHA256", 1},
    {0xc024, "ECDHE-ECDSA-AES256-SHA384", 1},
    {0xc027, "ECDHE-RSA-AES128-SHA256", 1},
    {0xc028, "ECDHE-RSA-AES256-SHA384", 1},
    {0x0033, "DHE-RSA-AES128-SHA", 1},
    {0x0039, "DHE-RSA-AES256-SHA", 1},
    {0x0067, "DHE-RSA-AES128-SHA256", 1},
    {0x006b, "DHE-RSA-AES256-SHA256", 1},
    {0x009c, "AES128-GCM-SHA256", 1},
    {0x009d, "AES256-GCM-SHA384", 1},
    {0x002f, "AES128-SHA", 1},
    {0x0035, "AES256-SHA", 1},
    {0x003c, "AES128-SHA256", 1},
    {0x003d, "AES256-SHA256", 1},
    {0xc012, "ECDHE-RSA-DES-CBC3-SHA", 2},
    {0x000a, "DES-CBC3-SHA", 2},
    {0xc011, "ECDHE-RSA-RC4-SHA", 2},
    {0x0005, "RC4-SHA", 2},
    {0x0004, "RC4-MD5", 2},
};
#define N_SUITES (sizeof suites / sizeof suites[0])
#define N_TLS13_SUITES 5

const char *raw_suite_name(uint16_t id) {
    for (size_t i = 0; i < N_SUITES; i++)
        if (suites[i].id == id) return suites[i].name;
    return "unknown";
}
static int suite_strength(uint16_t id) {
    for (size_t i = 0; i < N_SUITES; i++)
        if (suites[i].id == id) return suites[i].strength;
    return 1;
}

/* Groups a TLS 1.3 server might choose, hybrids first. */
static const uint16_t groups13[] = {0x11ec, 0x11eb, 0x11ed, 0x001d, 0x0017, 0x0018,
                                    0x0019, 0x001e, 0x0100, 0x0101, 0x0102};
#define N_GROUPS13 (sizeof groups13 / sizeof groups13[0])
static const uint16_t aes_chacha13[] = {0x1301, 0x1302, 0x1303};
static const uint16_t ec_groups[] = {0x001d, 0x0017, 0x0018, 0x0019};

static bool is_hybrid(uint16_t g) {
    return g == 0x11ec || g == 0x11eb || g == 0x11ed;
}

static void sleep_ms(int ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static bool send_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

void raw_probe(diag_ctx *ctx, const raw_hello *h, raw_answer *a) {
    memset(a, 0, sizeof *a);
    a->outcome = RAW_NO_CONN;
    uint8_t hello[4096];
    size_t len;
    const char *sni = ctx->servername;
    if (raw_build_hello(h, sni, hello, sizeof hello, &len) != 0) return;
    char why[256];
    int fd = diag_connect(ctx, NULL, why, sizeof why);
    if (fd < 0) return;
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bool sent;
    if (h->split) {
        /* Two segments: the record header and part of the body, then the rest. */
        size_t first = len / 2;
        sent = send_all(fd, hello, first);
        sleep_ms(20);
        sent = sent && send_all(fd, hello + first, len - first);
    } else {
        sent = send_all(fd, hello, len);
    }
    uint8_t in[65536];
    size_t got = 0;
    int64_t end = cli_now_ms() + ctx->timeout_ms;
    a->outcome = RAW_TIMEOUT;
    while (sent) {
        int64_t left = end - cli_now_ms();
        if (left <= 0) break;
        struct pollfd pf = {.fd = fd, .events = POLLIN, .revents = 0};
        int pr = poll(&pf, 1, (int)left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) break;
        ssize_t n = read(fd, in + got, sizeof in - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            a->outcome = RAW_CLOSED;
            break;
        }
        got += (size_t)n;
        raw_answer parsed;
        int r = raw_parse_answer(in, got, h->want_ske, &parsed);
        if (r == 1) {
            *a = parsed;
            if (a->outcome != RAW_ALERT) ctx->hello_answered = true;
            break;
        }
        if (r < 0 || got == sizeof in) {
            a->outcome = RAW_GARBAGE;
            break;
        }
    }
    if (!sent) a->outcome = RAW_CLOSED;
    close(fd);
}

static const char *outcome_text(const raw_answer *a, char *buf, size_t cap) {
    switch (a->outcome) {
    case RAW_SERVER_HELLO:
        snprintf(buf, cap, "a ServerHello");
        break;
    case RAW_HELLO_RETRY:
        snprintf(buf, cap, "a HelloRetryRequest");
        break;
    case RAW_ALERT:
        snprintf(buf, cap, "alert %s (%s)", certa_alert_name(a->alert),
                 a->alert_level == 2 ? "fatal" : "warning");
        break;
    case RAW_CLOSED:
        snprintf(buf, cap, "the connection closed without an answer");
        break;
    case RAW_TIMEOUT:
        snprintf(buf, cap, "no answer in time");
        break;
    case RAW_GARBAGE:
        snprintf(buf, cap, "an answer that is not TLS");
        break;
    case RAW_NO_CONN:
        snprintf(buf, cap, "no connection (budget spent or TCP failure)");
        break;
    }
    return buf;
}

static void legacy_versions(diag_ctx *ctx, diag_report *r) {
    static const struct {
        uint16_t v;
        const char *id, *name;
    } legacy[] = {{0x0300, "PROTO-SSL3", "SSLv3"},
                  {0x0301, "PROTO-TLS10", "TLS 1.0"},
                  {0x0302, "PROTO-TLS11", "TLS 1.1"}};
    uint16_t list[N_SUITES];
    size_t n = 0;
    for (size_t i = N_TLS13_SUITES; i < N_SUITES; i++)
        list[n++] = suites[i].id;
    for (size_t i = 0; i < 3; i++) {
        raw_hello h = {.record_version = legacy[i].v == 0x0300 ? 0x0300 : 0x0301,
                       .legacy_version = legacy[i].v,
                       .suites = list,
                       .suite_count = n,
                       .groups = ec_groups,
                       .group_count = 4,
                       .reneg_info = true};
        raw_answer a;
        char why[128], sum[96];
        raw_probe(ctx, &h, &a);
        if (a.outcome == RAW_NO_CONN) return;
        if (a.outcome == RAW_SERVER_HELLO && a.version == legacy[i].v) {
            snprintf(sum, sizeof sum, "%s is accepted", legacy[i].name);
            diag_addf(r, legacy[i].id, G_PROTO, SEV_FAIL, sum,
                      "SSLv3, TLS 1.0 and TLS 1.1 are broken or deprecated (RFC 7568, RFC 8996): "
                      "a client that can be pushed down to them loses the protections of TLS 1.2",
                      "disable them on the server and keep TLS 1.2 and 1.3 (nginx: ssl_protocols "
                      "TLSv1.2 TLSv1.3; openssl s_server: drop -tls1/-tls1_1)",
                      "a ClientHello for %s was answered with a %s ServerHello (%s)",
                      legacy[i].name, legacy[i].name, raw_suite_name(a.suite));
        } else {
            snprintf(sum, sizeof sum, "%s is refused", legacy[i].name);
            diag_addf(r, legacy[i].id, G_PROTO, SEV_OK, sum, NULL, NULL,
                      "a ClientHello for %s got %s", legacy[i].name,
                      outcome_text(&a, why, sizeof why));
        }
    }
}

/* TLS 1.2 suites: offer the list, remove the chosen one, repeat; then the
 * accepted ones reversed to see whose preference counts. */
static void tls12_suites(diag_ctx *ctx, diag_report *r, bool tls13) {
    uint16_t offer[N_SUITES], chosen[N_SUITES];
    size_t n = 0, got = 0;
    for (size_t i = N_TLS13_SUITES; i < N_SUITES; i++)
        offer[n++] = suites[i].id;
    bool first = true, complete = false;
    while (n > 0) {
        /* the first answer (sentinel, renegotiation_info) whatever the list costs */
        if (!(first ? diag_budget_left(ctx, 1) : diag_list_budget_left(ctx))) {
            diag_skip(ctx, "the rest of the TLS 1.2 suites");
            break;
        }
        /* the first answer's ServerKeyExchange names the server's favourite
         * group and scheme (probe_groups_sigs.c starts from them) */
        raw_hello h = {.record_version = 0x0301,
                       .legacy_version = 0x0303,
                       .suites = offer,
                       .suite_count = n,
                       .groups = ec_groups,
                       .group_count = 4,
                       .reneg_info = true,
                       .want_ske = first};
        raw_answer a;
        raw_probe(ctx, &h, &a);
        if (a.outcome != RAW_SERVER_HELLO || a.version != 0x0303) {
            complete = a.outcome != RAW_NO_CONN;
            break;
        }
        if (first) {
            first = false;
            if (a.ske_seen) {
                ctx->ske_group_first = a.ske_group;
                ctx->ske_sig_first = a.ske_sig;
            }
            if (tls13) {
                if (a.downgrade_tls12)
                    diag_add(r, "DOWNGRADE-SENTINEL", G_ROBUST, SEV_OK,
                             "TLS 1.3 downgrade sentinel present",
                             "a TLS 1.2-only ClientHello got a ServerHello whose random ends in "
                             "DOWNGRD\\1 (RFC 8446 4.1.3)",
                             NULL, NULL);
                else
                    diag_add(r, "DOWNGRADE-SENTINEL", G_ROBUST, SEV_FAIL,
                             "TLS 1.3 downgrade sentinel missing",
                             "a TLS 1.2-only ClientHello got a ServerHello whose random does not "
                             "end in DOWNGRD\\1, although the server speaks TLS 1.3",
                             "a man in the middle who strips TLS 1.3 from a ClientHello goes "
                             "unnoticed by clients (RFC 8446 4.1.3)",
                             "update the TLS library of the server (or of the TLS-terminating "
                             "proxy in front of it)");
            }
            if (a.reneg_info)
                diag_add(r, "RENEGOTIATION-INFO", G_ROBUST, SEV_OK,
                         "secure renegotiation indication (RFC 5746) sent",
                         "the TLS 1.2 ServerHello carries renegotiation_info", NULL, NULL);
            else
                diag_add(r, "RENEGOTIATION-INFO", G_ROBUST, SEV_WARN,
                         "no secure renegotiation indication (RFC 5746)",
                         "the TLS 1.2 ServerHello has no renegotiation_info, although the "
                         "ClientHello offered it",
                         "without RFC 5746 a renegotiation can be spliced onto a victim's "
                         "connection (CVE-2009-3555)",
                         "update the server's TLS library, or disable renegotiation");
        }
        chosen[got++] = a.suite;
        const char *nm = raw_suite_name(a.suite);
        if (!strncmp(nm, "ECDHE-", 6)) ctx->ecdhe_accepted = true;
        if (!strncmp(nm, "DHE-", 4)) ctx->dhe_accepted = true;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (offer[i] != a.suite) offer[k++] = offer[i];
        if (k == n) break; /* chose something not offered: stop */
        n = k;
    }
    if (got == 0) return;
    /* A list cut short may not have reached the weak suites a server
     * prefers least: ask for the broken, then the weak ones, directly. */
    for (int strength = 2; !complete && strength >= 1; strength--) {
        uint16_t only[N_SUITES];
        size_t m = 0;
        bool seen = false;
        for (size_t i = 0; i < got; i++)
            seen |= suite_strength(chosen[i]) == strength;
        for (size_t i = 0; i < n; i++)
            if (suite_strength(offer[i]) == strength) only[m++] = offer[i];
        if (seen || m == 0) continue;
        if (!diag_budget_left(ctx, 1)) {
            diag_skip(ctx, strength == 2 ? "TLS 1.2 broken suites" : "TLS 1.2 weak suites");
            continue;
        }
        raw_hello h = {.record_version = 0x0301,
                       .legacy_version = 0x0303,
                       .suites = only,
                       .suite_count = m,
                       .groups = ec_groups,
                       .group_count = 4,
                       .reneg_info = true};
        raw_answer a;
        raw_probe(ctx, &h, &a);
        if (a.outcome == RAW_SERVER_HELLO && a.version == 0x0303 &&
            suite_strength(a.suite) == strength && got < N_SUITES)
            chosen[got++] = a.suite;
    }
    char list[1024] = "", weak_list[1024] = "", broken_list[512] = "";
    size_t weak = 0, broken = 0;
    for (size_t i = 0; i < got; i++) {
        int s = suite_strength(chosen[i]);
        const char *nm = raw_suite_name(chosen[i]);
        if (s == 1)
            snprintf(weak_list + strlen(weak_list), sizeof weak_list - strlen(weak_list), "%s%s",
                     weak++ ? ", " : "", nm);
        if (s == 2)
            snprintf(broken_list + strlen(broken_list), sizeof broken_list - strlen(broken_list),
                     "%s%s", broken++ ? ", " : "", nm);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", nm);
    }
    /* Whose order: the accepted suites offered reversed. */
    const char *order = "";
    if (got >= 2 && complete && diag_list_budget_left(ctx)) {
        uint16_t rev[N_SUITES];
        for (size_t i = 0; i < got; i++)
            rev[i] = chosen[got - 1 - i];
        raw_hello h = {.record_version = 0x0301,
                       .legacy_version = 0x0303,
                       .suites = rev,
                       .suite_count = got,
                       .groups = ec_groups,
                       .group_count = 4,
                       .reneg_info = true};
        raw_answer a;
        raw_probe(ctx, &h, &a);
        if (a.outcome == RAW_SERVER_HELLO)
            order = a.suite == chosen[0] ? "; the server's preference decides (listed in its "
                                           "order)"
                                         : "; the client's preference decides";
    }
    diag_addf(r, "SUITES-TLS12", G_SUITES, SEV_INFO, "TLS 1.2 cipher suites accepted", NULL, NULL,
              "%s%s%s", list, order,
              complete ? "" : " (list cut short by --max-conns or a failure)");
    if (broken)
        diag_addf(r, "SUITES-TLS12-BROKEN", G_SUITES, SEV_FAIL,
                  "TLS 1.2 suites with 3DES or RC4 accepted",
                  "RC4 is prohibited (RFC 7465) and 3DES falls to Sweet32 (CVE-2016-2183)",
                  "remove them from the server's cipher list (e.g. ECDHE+AESGCM:ECDHE+CHACHA20)",
                  "%zu of the accepted suites: %s", broken, broken_list);
    if (weak)
        diag_addf(r, "SUITES-TLS12-WEAK", G_SUITES, SEV_WARN,
                  "TLS 1.2 suites without AEAD or without forward secrecy accepted",
                  "CBC suites have a history of padding-oracle attacks, and RSA key exchange "
                  "gives no forward secrecy: a stolen key decrypts recorded traffic",
                  "offer only ECDHE with AES-GCM or ChaCha20-Poly1305 in TLS 1.2",
                  "%zu of the accepted suites are CBC or RSA key exchange: %s", weak, weak_list);
}

/* TLS 1.3 suites and groups, from HelloRetryRequests. */
static void tls13_suites_groups(diag_ctx *ctx, diag_report *r) {
    uint16_t offer[N_TLS13_SUITES], chosen[N_TLS13_SUITES];
    size_t n = 0, got = 0;
    for (size_t i = 0; i < N_TLS13_SUITES; i++)
        offer[n++] = suites[i].id;
    bool complete = false;
    while (n > 0) {
        if (!diag_list_budget_left(ctx)) {
            diag_skip(ctx, "the rest of the TLS 1.3 suites");
            break;
        }
        raw_hello h = {.record_version = 0x0301,
                       .legacy_version = 0x0303,
                       .suites = offer,
                       .suite_count = n,
                       .groups = groups13,
                       .group_count = N_GROUPS13,
                       .tls13 = true};
        raw_answer a;
        raw_probe(ctx, &h, &a);
        if ((a.outcome != RAW_HELLO_RETRY && a.outcome != RAW_SERVER_HELLO) ||
            a.version != 0x0304) {
            complete = a.outcome != RAW_NO_CONN;
            break;
        }
        chosen[got++] = a.suite;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (offer[i] != a.suite) offer[k++] = offer[i];
        if (k == n) break;
        n = k;
        if (n == 0) complete = true;
    }
    if (got) {
        char list[512] = "";
        for (size_t i = 0; i < got; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     raw_suite_name(chosen[i]));
        diag_addf(r, "SUITES-TLS13", G_SUITES, SEV_INFO, "TLS 1.3 cipher suites accepted", NULL,
                  NULL, "%s%s", list, complete ? "" : " (list cut short by --max-conns)");
    }
    uint16_t goffer[N_GROUPS13], gchosen[N_GROUPS13];
    size_t gn = 0, ggot = 0;
    for (size_t i = 0; i < N_GROUPS13; i++)
        goffer[gn++] = groups13[i];
    complete = false;
    while (gn > 0) {
        if (!diag_list_budget_left(ctx)) {
            diag_skip(ctx, "the rest of the TLS 1.3 groups");
            break;
        }
        raw_hello h = {.record_version = 0x0301,
                       .legacy_version = 0x0303,
                       .suites = aes_chacha13,
                       .suite_count = 3,
                       .groups = goffer,
                       .group_count = gn,
                       .tls13 = true};
        raw_answer a;
        raw_probe(ctx, &h, &a);
        if (a.outcome != RAW_HELLO_RETRY || a.group == 0) {
            complete = a.outcome != RAW_NO_CONN;
            break;
        }
        gchosen[ggot++] = a.group;
        size_t k = 0;
        for (size_t i = 0; i < gn; i++)
            if (goffer[i] != a.group) goffer[k++] = goffer[i];
        if (k == gn) break;
        gn = k;
        if (gn == 0) complete = true;
    }
    if (!ggot) return;
    char list[512] = "";
    bool pq = false;
    for (size_t i = 0; i < ggot; i++) {
        pq |= is_hybrid(gchosen[i]);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 certa_group_name(gchosen[i]));
    }
    diag_addf(r, "GROUPS", G_GROUPS, SEV_INFO, "TLS 1.3 key exchange groups accepted", NULL, NULL,
              "%s, in the order the server chose them%s", list,
              complete ? "" : " (list cut short by --max-conns)");
    if (pq)
        diag_add(r, "GROUPS-PQ", G_GROUPS, SEV_OK, "a post-quantum hybrid group is accepted",
                 "the server chose an ML-KEM hybrid when offered", NULL, NULL);
    else
        diag_add(r, "GROUPS-PQ", G_GROUPS, SEV_INFO, "no post-quantum hybrid group",
                 "X25519MLKEM768, SecP256r1MLKEM768 and SecP384r1MLKEM1024 were offered and "
                 "not chosen: traffic recorded today could be decrypted by a future quantum "
                 "computer",
                 NULL, NULL);
}

static void fallback_scsv(diag_ctx *ctx, diag_report *r) {
    uint16_t list[N_SUITES];
    size_t n = 0;
    for (size_t i = N_TLS13_SUITES; i < N_SUITES; i++)
        list[n++] = suites[i].id;
    raw_hello h = {.record_version = 0x0301,
                   .legacy_version = 0x0303,
                   .suites = list,
                   .suite_count = n,
                   .groups = ec_groups,
                   .group_count = 4,
                   .fallback_scsv = true,
                   .reneg_info = true};
    raw_answer a;
    char why[128];
    raw_probe(ctx, &h, &a);
    if (a.outcome == RAW_NO_CONN) return;
    if (a.outcome == RAW_ALERT && a.alert == 86)
        diag_add(r, "FALLBACK-SCSV", G_ROBUST, SEV_OK, "TLS_FALLBACK_SCSV is honoured",
                 "a TLS 1.2 ClientHello with TLS_FALLBACK_SCSV was refused with "
                 "inappropriate_fallback",
                 NULL, NULL);
    else
        diag_addf(r, "FALLBACK-SCSV", G_ROBUST, SEV_WARN, "TLS_FALLBACK_SCSV is not honoured",
                  "a client that retries with a lower version after a failure can be pushed "
                  "down by a man in the middle (RFC 7507)",
                  "update the server's TLS library; TLS 1.3 clients also rely on the downgrade "
                  "sentinel",
                  "a TLS 1.2 ClientHello with TLS_FALLBACK_SCSV to a TLS 1.3 server got %s",
                  outcome_text(&a, why, sizeof why));
}

static void big_hello(diag_ctx *ctx, diag_report *r, bool tls13) {
    uint16_t list[N_SUITES];
    size_t n = 0;
    for (size_t i = 0; i < N_SUITES; i++)
        list[n++] = suites[i].id;
    raw_hello h = {.record_version = 0x0301,
                   .legacy_version = 0x0303,
                   .suites = list,
                   .suite_count = n,
                   .groups = tls13 ? groups13 : ec_groups,
                   .group_count = tls13 ? N_GROUPS13 : 4,
                   .tls13 = true, /* a TLS 1.2 server ignores it */
                   .reneg_info = true,
                   .pad_to = 1700,
                   .split = true};
    raw_answer a;
    char why[128];
    raw_probe(ctx, &h, &a);
    if (a.outcome == RAW_NO_CONN) return;
    if (a.outcome == RAW_SERVER_HELLO || a.outcome == RAW_HELLO_RETRY)
        diag_add(r, "BIG-CLIENTHELLO", G_ROBUST, SEV_OK,
                 "a ClientHello over 1,500 bytes in two segments is accepted",
                 "a 1,700-byte ClientHello sent in two TCP segments 20 ms apart was answered", NULL,
                 NULL);
    else
        diag_addf(r, "BIG-CLIENTHELLO", G_ROBUST, SEV_FAIL,
                  "a ClientHello over 1,500 bytes in two segments is refused",
                  "post-quantum key shares make ClientHellos larger than one packet: browsers "
                  "sending X25519MLKEM768 will fail to connect",
                  "update the server or the middlebox in front of it so that it reassembles a "
                  "ClientHello across TCP segments",
                  "a 1,700-byte ClientHello sent in two TCP segments got %s",
                  outcome_text(&a, why, sizeof why));
}

void raw_probes(diag_ctx *ctx, diag_report *r, bool tls13, bool tls12) {
    diag_progress(ctx, "legacy versions");
    legacy_versions(ctx, r);
    /* TLS 1.3's lists are short (5 suites, 11 groups); TLS 1.2's may take
     * any budget left, so they come second. */
    if (tls13) {
        diag_progress(ctx, "TLS 1.3 suites and groups");
        tls13_suites_groups(ctx, r);
    }
    if (tls12) {
        diag_progress(ctx, "TLS 1.2 cipher suites");
        tls12_suites(ctx, r, tls13);
    }
    if (tls13 && tls12 && diag_budget_left(ctx, 1)) {
        diag_progress(ctx, "fallback SCSV");
        fallback_scsv(ctx, r);
    }
    /* Only where a ClientHello of ours is answered at all: otherwise a
     * refusal would say nothing about the size. */
    if ((tls13 || ctx->hello_answered) && diag_budget_left(ctx, 1)) {
        diag_progress(ctx, "large ClientHello");
        big_hello(ctx, r, tls13);
    }
}
