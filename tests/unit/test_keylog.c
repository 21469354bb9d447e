/* The key log (certa_config_set_keylog):
 *   - known answers: the key schedule run on RFC 8448 §3's messages logs
 *     exactly the lines made from the RFC's printed secrets and the
 *     ClientHello's random, in order; nothing without a callback;
 *   - against libssl: in certa<->libssl handshakes in memory the lines
 *     certa logs and those SSL_CTX_set_keylog_callback logs are the same
 *     set — TLS 1.3 and 1.2, certa as client and as server, full,
 *     resumed, after a HelloRetryRequest, and 0-RTT;
 *   - KeyUpdate logs nothing more. */
#include "lib_certs.h"
#include "lib_ossl.h"
#include "rfc8448_simple.h"
#include "testlib.h"
#include "tls/tls.h"

#include <openssl/ssl.h>

#define MAX_LINES 16
#define LINE_CAP 256

typedef struct lines {
    char v[MAX_LINES][LINE_CAP];
    size_t n;
    bool overflow;
} lines;

static void keep_line(lines *l, const char *line) {
    if (l->n == MAX_LINES || strlen(line) >= LINE_CAP) {
        l->overflow = true;
        return;
    }
    strcpy(l->v[l->n++], line);
}

static void certa_keep(void *arg, const char *line) {
    keep_line(arg, line);
}

/* libssl's callback has no argument: one collector per test case. */
static lines ossl_lines;
static void ossl_keep(const SSL *ssl, const char *line) {
    (void)ssl;
    keep_line(&ossl_lines, line);
}

static int cmp_line(const void *a, const void *b) {
    return strcmp(a, b);
}

static size_t count_label(const lines *l, const char *label) {
    size_t n = 0, len = strlen(label);
    for (size_t i = 0; i < l->n; i++)
        if (!strncmp(l->v[i], label, len) && l->v[i][len] == ' ') n++;
    return n;
}

/* Sorted, both non-empty and equal line by line. */
static bool same_set(lines *a, lines *b) {
    if (a->overflow || b->overflow || !a->n || a->n != b->n) return false;
    qsort(a->v, a->n, LINE_CAP, cmp_line);
    qsort(b->v, b->n, LINE_CAP, cmp_line);
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i])) return false;
    return true;
}

static void show(const char *who, const lines *l) {
    for (size_t i = 0; i < l->n; i++)
        printf("#   %s: %s\n", who, l->v[i]);
}

/* ---- RFC 8448 §3 ---- */

/* The hex string without its spaces, lowercase as the log writes it. */
static void squeeze(const char *hex, char *out) {
    for (; *hex; hex++)
        if (*hex != ' ') *out++ = *hex;
    *out = '\0';
}

static void expect_line(const lines *l, size_t i, const char *label, const char *random_hex,
                        const char *secret_hex) {
    char want[LINE_CAP], r[80], s[140];
    squeeze(random_hex, r);
    squeeze(secret_hex, s);
    snprintf(want, sizeof want, "%s %s %s", label, r, s);
    CHECK(i < l->n && !strcmp(l->v[i], want), "RFC 8448 §3: line %zu is %s", i + 1, label);
    if (i < l->n && strcmp(l->v[i], want)) printf("#   got  %s\n#   want %s\n", l->v[i], want);
}

/* A connection object for calling the key schedule directly (as in
 * test_rfc8448_resume.c): only what the functions under test read is set. */
static certa_conn *bare_conn(certa_config *cfg) {
    certa_conn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->cfg = cfg;
    c->suite = cipher_suite_find(0x1301);
    return c;
}

static void bare_conn_free(certa_conn *c) {
    if (c->th_started) transcript_free(&c->th);
    free(c->early_trace);
    crypto_zero(c, sizeof *c);
    free(c);
}

static void rfc8448_simple(bool with_keylog) {
    lines got = {.n = 0};
    certa_config *cfg = certa_config_new();
    if (with_keylog) certa_config_set_keylog(cfg, certa_keep, &got);
    test_buf ch = test_hex(CLIENT_HELLO), sh = test_hex(SERVER_HELLO),
             ee = test_hex(ENCRYPTED_EXTENSIONS), cert = test_hex(CERTIFICATE),
             cv = test_hex(CERTIFICATE_VERIFY), sfin = test_hex(SERVER_FINISHED),
             shared = test_hex(ECDHE);
    certa_conn *c = bare_conn(cfg);
    /* ClientHello: type, 3-byte length, legacy_version, then the random. */
    memcpy(c->client_random, ch.b + 6, 32);
    CHECK(transcript_add(c, ch.b, ch.n) == 0 && transcript_start(c) == 0 &&
              transcript_add(c, sh.b, sh.n) == 0 &&
              ks_handshake_secrets(c, shared.b, shared.n) == 0 &&
              transcript_add(c, ee.b, ee.n) == 0 && transcript_add(c, cert.b, cert.n) == 0 &&
              transcript_add(c, cv.b, cv.n) == 0 && transcript_add(c, sfin.b, sfin.n) == 0 &&
              ks_application_secrets(c) == 0,
          "RFC 8448 §3: key schedule over the trace's messages%s",
          with_keylog ? " (key log on)" : " (no key log)");
    if (!with_keylog) {
        CHECK(got.n == 0, "no key-log callback: nothing is logged");
    } else {
        /* The random as printed in the trace's ClientHello. */
        const char *random = "cb 34 ec b1 e7 81 63 ba 1c 38 c6 da cb 19 6a 6d"
                             "ff a2 1a 8d 99 12 ec 18 a2 ef 62 83 02 4d ec e7";
        CHECK(got.n == 5 && !got.overflow, "RFC 8448 §3: five key-log lines (got %zu)", got.n);
        expect_line(&got, 0, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", random, C_HS_TRAFFIC);
        expect_line(&got, 1, "SERVER_HANDSHAKE_TRAFFIC_SECRET", random, S_HS_TRAFFIC);
        expect_line(&got, 2, "CLIENT_TRAFFIC_SECRET_0", random, C_AP_TRAFFIC);
        expect_line(&got, 3, "SERVER_TRAFFIC_SECRET_0", random, S_AP_TRAFFIC);
        expect_line(&got, 4, "EXPORTER_SECRET", random, EXP_MASTER);
    }
    ks_wipe(c);
    bare_conn_free(c);
    certa_config_free(cfg);
}

/* ---- against libssl ---- */

typedef struct kcase {
    const char *name;
    bool tls12;
    bool certa_server;
    bool resume; /* a second connection resumes the first's session */
    bool hrr;    /* the server wants a key share the client did not send */
    bool early;  /* the second connection sends 0-RTT data */
} kcase;

static SSL_CTX *ossl_ctx(const kcase *k, const char *cert, const char *key) {
    SSL_CTX *ctx = SSL_CTX_new(k->certa_server ? TLS_client_method() : TLS_server_method());
    int v = k->tls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    SSL_CTX_set_min_proto_version(ctx, v);
    SSL_CTX_set_max_proto_version(ctx, v);
    SSL_CTX_set_keylog_callback(ctx, ossl_keep);
    if (cert) use_pem(ctx, cert, key);
    if (k->hrr) /* libssl server: P-256 only; libssl client: an x25519 share first */
        SSL_CTX_set1_groups_list(ctx, k->certa_server ? "X25519:P-256" : "P-256");
    if (k->early && !k->certa_server) SSL_CTX_set_max_early_data(ctx, 1024);
    return ctx;
}

static certa_config *certa_cfg(const kcase *k, const char *cert, const char *key, lines *got) {
    certa_config *cfg = certa_config_new();
    if (k->certa_server) {
        certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
        certa_config_set_private_key_pem(cfg, key, strlen(key));
        if (k->hrr) certa_config_set_groups(cfg, "secp256r1");
    } else {
        certa_config_set_insecure(cfg, true);
        if (k->hrr) certa_config_set_groups(cfg, "x25519,secp256r1");
    }
    if (k->tls12) certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS12);
    if (k->early) certa_config_set_max_early_data(cfg, 1024);
    certa_config_set_keylog(cfg, certa_keep, got);
    return cfg;
}

/* One connection; returns whether the handshake completed. */
static bool connect_once(const kcase *k, SSL_CTX *ctx, certa_config *cfg, SSL_SESSION **sess,
                         int round, certa_info *info) {
    peer p = ossl_peer(ctx, !k->certa_server);
    certa_conn *c;
    char early[64] = "";
    bool send_early = k->early && round == 1;
    if (k->certa_server) {
        SSL_set_tlsext_host_name(p.ssl, "localhost");
        if (*sess) SSL_set_session(p.ssl, *sess);
        c = certa_server_new(cfg);
        if (send_early) {
            size_t written = 0;
            SSL_write_early_data(p.ssl, "early hello", 11, &written);
        }
    } else {
        c = certa_client_new(cfg, "localhost");
        if (send_early) certa_conn_write_early(c, (const uint8_t *)"early hello", 11);
    }
    if (send_early && k->certa_server) {
        pump_reading_early(c, &p, early, sizeof early);
    } else if (send_early) {
        /* libssl's server reads early data before finishing its handshake. */
        uint8_t buf[64];
        size_t got = 0;
        for (int i = 0; i < 10; i++) {
            const uint8_t *out;
            size_t len = certa_conn_outgoing(c, &out);
            if (len) {
                BIO_write(p.to_ssl, out, (int)len);
                certa_conn_outgoing_done(c, len);
            }
            int r = SSL_read_early_data(p.ssl, buf, sizeof buf, &got);
            if (r == SSL_READ_EARLY_DATA_SUCCESS && got) {
                memcpy(early, buf, got < sizeof early - 1 ? got : sizeof early - 1);
                early[got < sizeof early - 1 ? got : sizeof early - 1] = '\0';
            }
            if (r == SSL_READ_EARLY_DATA_FINISH) break;
            pump(c, &p);
        }
        pump(c, &p);
    } else {
        pump(c, &p);
    }
    /* A little data both ways, so both sides read the tickets. */
    uint8_t buf[64];
    if (certa_conn_handshake_done(c)) {
        certa_conn_write(c, (const uint8_t *)"ping", 4);
        pump(c, &p);
        SSL_read(p.ssl, buf, sizeof buf);
        SSL_write(p.ssl, "pong", 4);
        pump(c, &p);
        certa_conn_read(c, buf, sizeof buf);
    }
    certa_conn_info(c, info);
    bool ok = certa_conn_handshake_done(c) && SSL_is_init_finished(p.ssl);
    if (!ok) printf("# %s round %d: %s\n", k->name, round, certa_conn_error_text(c));
    if (send_early)
        CHECK(!strcmp(early, "early hello"), "%s: the early data arrived (got \"%s\")", k->name,
              early);
    if (k->certa_server && !*sess) *sess = SSL_get1_session(p.ssl);
    certa_conn_free(c);
    peer_free(&p);
    return ok;
}

static void libssl_case(const kcase *k) {
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    lines got = {.n = 0};
    memset(&ossl_lines, 0, sizeof ossl_lines);
    SSL_CTX *ctx = ossl_ctx(k, k->certa_server ? NULL : cert, key);
    certa_config *cfg = certa_cfg(k, cert, key, &got);
    SSL_SESSION *sess = NULL;
    int rounds = k->resume ? 2 : 1;
    for (int round = 0; round < rounds; round++) {
        got.n = 0;
        ossl_lines.n = 0;
        certa_info info;
        bool ok = connect_once(k, ctx, cfg, &sess, round, &info);
        CHECK(ok, "%s: connection %d completes", k->name, round + 1);
        if (round == 1) CHECK(info.resumed, "%s: connection 2 resumed", k->name);
        if (k->hrr) CHECK(info.hello_retry, "%s: a HelloRetryRequest was used", k->name);
        if (k->early && round == 1)
            CHECK(info.early_data_accepted, "%s: early data accepted", k->name);
        size_t want = k->tls12 ? 1 : (k->early && round == 1) ? 7 : 5;
        CHECK(got.n == want, "%s, connection %d: certa logged %zu lines (want %zu)", k->name,
              round + 1, got.n, want);
        if (k->tls12) CHECK(count_label(&got, "CLIENT_RANDOM") == 1, "%s: CLIENT_RANDOM", k->name);
        if (k->early && round == 1)
            CHECK(count_label(&got, "CLIENT_EARLY_TRAFFIC_SECRET") == 1 &&
                      count_label(&got, "EARLY_EXPORTER_SECRET") == 1,
                  "%s: the early secrets are logged", k->name);
        lines mine = got, theirs = ossl_lines;
        bool same = same_set(&mine, &theirs);
        CHECK(same, "%s, connection %d: certa's key-log lines are libssl's", k->name, round + 1);
        if (!same) {
            show("certa", &got);
            show("libssl", &ossl_lines);
        }
    }
    SSL_SESSION_free(sess);
    certa_config_free(cfg);
    SSL_CTX_free(ctx);
    free(cert);
    free(key);
}

/* After a KeyUpdate both sides go on; no further lines (NSS convention). */
static void key_update_logs_nothing(void) {
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    kcase k = {.name = "KeyUpdate"};
    lines got = {.n = 0};
    memset(&ossl_lines, 0, sizeof ossl_lines);
    SSL_CTX *ctx = ossl_ctx(&k, cert, key);
    certa_config *cfg = certa_cfg(&k, cert, key, &got);
    peer p = ossl_peer(ctx, true);
    certa_conn *c = certa_client_new(cfg, "localhost");
    pump(c, &p);
    size_t before = got.n;
    uint8_t buf[64];
    int r = certa_conn_key_update(c, true);
    certa_conn_write(c, (const uint8_t *)"after", 5);
    pump(c, &p);
    int n = SSL_read(p.ssl, buf, sizeof buf);
    SSL_write(p.ssl, "back", 4);
    pump(c, &p);
    size_t m = certa_conn_read(c, buf, sizeof buf);
    CHECK(before == 5 && r == 0 && n == 5 && m == 4, "KeyUpdate both ways, data still flows");
    CHECK(got.n == before, "KeyUpdate adds no key-log line (%zu before, %zu after)", before, got.n);
    certa_conn_free(c);
    peer_free(&p);
    certa_config_free(cfg);
    SSL_CTX_free(ctx);
    free(cert);
    free(key);
}

int main(void) {
    rfc8448_simple(false);
    rfc8448_simple(true);
    static const kcase cases[] = {
        {"TLS 1.3 certa client", false, false, true, false, false},
        {"TLS 1.3 certa server", false, true, true, false, false},
        {"TLS 1.3 certa client, HRR", false, false, false, true, false},
        {"TLS 1.3 certa server, HRR", false, true, false, true, false},
        {"TLS 1.3 certa client, 0-RTT", false, false, true, false, true},
        {"TLS 1.3 certa server, 0-RTT", false, true, true, false, true},
        {"TLS 1.2 certa client", true, false, true, false, false},
        {"TLS 1.2 certa server", true, true, true, false, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        libssl_case(&cases[i]);
    key_update_logs_nothing();
    TEST_EXIT();
}
