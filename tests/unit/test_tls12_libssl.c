/* TLS 1.2 against OpenSSL's libssl in one process over memory BIOs, both
 * directions: every suite x {ECDSA P-256, RSA-2048} x {x25519, secp256r1};
 * extended master secret required and refused; the RFC 8446 downgrade
 * sentinel; RFC 5077 tickets both ways; mutual TLS; renegotiation refused. */
#include "certa.h"
#include "lib_certs.h"
#include "lib_ossl.h"
#include "testlib.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

static SSL_CTX *ossl_ctx(bool server, int max_version, const char *cipher) {
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
    if (cipher) SSL_CTX_set_cipher_list(ctx, cipher);
    return ctx;
}

/* certa writes, libssl reads and answers, certa reads. */
static bool round_trip(certa_conn *c, peer *p, const char *msg) {
    uint8_t buf[256];
    size_t len = strlen(msg);
    if (certa_conn_write(c, (const uint8_t *)msg, len) != 0) return false;
    pump(c, p);
    int n = SSL_read(p->ssl, buf, sizeof buf);
    if (n != (int)len || memcmp(buf, msg, len) != 0) return false;
    SSL_write(p->ssl, buf, n);
    pump(c, p);
    size_t m = certa_conn_read(c, buf, sizeof buf);
    return m == len && memcmp(buf, msg, m) == 0;
}

static certa_config *certa_server_config(const char *cert, const char *key) {
    certa_config *cfg = certa_config_new();
    certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
    certa_config_set_private_key_pem(cfg, key, strlen(key));
    certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS13);
    return cfg;
}

static certa_config *certa_client_config(void) {
    certa_config *cfg = certa_config_new();
    certa_config_set_insecure(cfg, true);
    certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS13);
    return cfg;
}

/* OpenSSL's name for one of certa's TLS 1.2 suites. */
static const char *ossl_name(const char *iana) {
    static const char *const map[][2] = {
        {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"},
        {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"},
        {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"},
        {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
        {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"},
        {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(map[i][0], iana)) return map[i][1];
    return iana;
}

static void suite_case(const char *kind, const char *suite, const char *group) {
    char *cert, *key;
    test_make_cert(kind, "localhost", &cert, &key);
    /* certa client -> libssl server (TLS 1.2 only) */
    SSL_CTX *sctx = ossl_ctx(true, TLS1_2_VERSION, ossl_name(suite));
    use_pem(sctx, cert, key);
    /* ECDHE on the group tested; P-256 stays acceptable for the ECDSA
     * certificate's curve, which TLS 1.2 also checks against supported_groups. */
    SSL_CTX_set1_groups_list(sctx, !strcmp(group, "x25519") ? "X25519" : "P-256");
    peer p = ossl_peer(sctx, true);
    certa_config *cfg = certa_client_config();
    certa_config_set_groups(cfg, !strcmp(group, "x25519") ? "x25519,secp256r1" : group);
    certa_conn *c = certa_client_new(cfg, "localhost");
    pump(c, &p);
    certa_info info;
    certa_conn_info(c, &info);
    bool ok = certa_conn_handshake_done(c) && SSL_is_init_finished(p.ssl);
    CHECK(ok && info.version == CERTA_TLS12 &&
              !strcmp(certa_cipher_suite_name(info.cipher_suite), suite),
          "certa client -> libssl TLS 1.2 server: %s %s %s: %s", kind, suite, group,
          certa_conn_error_text(c));
    CHECK(ok && round_trip(c, &p, "ping over TLS 1.2"), "data both ways (%s, %s)", suite, kind);
    certa_conn_free(c);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(sctx);

    /* libssl client (TLS 1.2 only) -> certa server */
    SSL_CTX *cctx = ossl_ctx(false, TLS1_2_VERSION, ossl_name(suite));
    SSL_CTX_set1_groups_list(cctx, !strcmp(group, "x25519") ? "X25519:P-256" : "P-256");
    p = ossl_peer(cctx, false);
    SSL_set_tlsext_host_name(p.ssl, "localhost");
    cfg = certa_server_config(cert, key);
    certa_config_set_groups(cfg, group);
    certa_conn *s = certa_server_new(cfg);
    pump(s, &p);
    certa_conn_info(s, &info);
    ok = certa_conn_handshake_done(s) && SSL_is_init_finished(p.ssl);
    CHECK(ok && info.version == CERTA_TLS12 && SSL_version(p.ssl) == TLS1_2_VERSION &&
              info.group == (!strcmp(group, "x25519") ? CERTA_GROUP_X25519 : CERTA_GROUP_SECP256R1),
          "libssl TLS 1.2 client -> certa server: %s %s %s: %s", kind, suite, group,
          certa_conn_error_text(s));
    CHECK(ok && round_trip(s, &p, "pong over TLS 1.2"), "data both ways, certa serving (%s)",
          suite);
    /* a 1.3-capable certa server answering 1.2 marks its random (RFC 8446 §4.1.3) */
    uint8_t random[32];
    SSL_get_server_random(p.ssl, random, sizeof random);
    CHECK(ok && !memcmp(random + 24, "DOWNGRD\x01", 8),
          "ServerHello.random ends with the downgrade sentinel");
    certa_conn_free(s);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(cctx);
    free(cert);
    free(key);
}

static void ems_cases(void) {
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    for (int allow = 0; allow < 2; allow++) {
        /* libssl server without EMS */
        SSL_CTX *sctx = ossl_ctx(true, TLS1_2_VERSION, NULL);
        use_pem(sctx, cert, key);
        SSL_CTX_set_options(sctx, SSL_OP_NO_EXTENDED_MASTER_SECRET);
        peer p = ossl_peer(sctx, true);
        certa_config *cfg = certa_client_config();
        if (allow) certa_config_set_require_ems(cfg, false);
        certa_conn *c = certa_client_new(cfg, "localhost");
        pump(c, &p);
        if (allow)
            CHECK(certa_conn_handshake_done(c) && round_trip(c, &p, "legacy"),
                  "certa client with require_ems off accepts a server without EMS: %s",
                  certa_conn_error_text(c));
        else
            CHECK(certa_conn_error(c) == CERTA_E_NO_EXTENDED_MASTER_SECRET &&
                      strstr(certa_conn_error_text(c), "extended master secret"),
                  "certa client refuses a TLS 1.2 server without EMS: %s",
                  certa_conn_error_text(c));
        certa_conn_free(c);
        certa_config_free(cfg);
        peer_free(&p);
        SSL_CTX_free(sctx);
        /* libssl client without EMS */
        SSL_CTX *cctx = ossl_ctx(false, TLS1_2_VERSION, NULL);
        SSL_CTX_set_options(cctx, SSL_OP_NO_EXTENDED_MASTER_SECRET);
        p = ossl_peer(cctx, false);
        cfg = certa_server_config(cert, key);
        if (allow) certa_config_set_require_ems(cfg, false);
        certa_conn *s = certa_server_new(cfg);
        pump(s, &p);
        if (allow)
            CHECK(certa_conn_handshake_done(s) && round_trip(s, &p, "legacy"),
                  "certa server with require_ems off accepts a client without EMS: %s",
                  certa_conn_error_text(s));
        else
            CHECK(certa_conn_error(s) == CERTA_E_NO_EXTENDED_MASTER_SECRET &&
                      certa_conn_alert_sent(s) == 40,
                  "certa server refuses a client without EMS (handshake_failure): %s",
                  certa_conn_error_text(s));
        certa_conn_free(s);
        certa_config_free(cfg);
        peer_free(&p);
        SSL_CTX_free(cctx);
    }
    free(cert);
    free(key);
}

static void trace_print(void *arg, const char *line) {
    (void)arg;
    printf("# %s\n", line);
}

static void resumption_cases(void) {
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    /* certa client resumes with a libssl server's ticket (the config's cache) */
    SSL_CTX *sctx = ossl_ctx(true, TLS1_2_VERSION, NULL);
    use_pem(sctx, cert, key);
    certa_config *cfg = certa_client_config();
    bool resumed[2] = {false, false};
    for (int i = 0; i < 2; i++) {
        peer p = ossl_peer(sctx, true);
        certa_conn *c = certa_client_new(cfg, "localhost");
        pump(c, &p);
        certa_info info;
        certa_conn_info(c, &info);
        resumed[i] = info.resumed && SSL_session_reused(p.ssl);
        CHECK(certa_conn_handshake_done(c) && round_trip(c, &p, "again"),
              "certa client connection %d to libssl: %s", i + 1, certa_conn_error_text(c));
        certa_conn_free(c);
        peer_free(&p);
    }
    CHECK(!resumed[0] && resumed[1], "the second connection resumed the TLS 1.2 session");
    certa_config_free(cfg);
    SSL_CTX_free(sctx);

    /* libssl client resumes with certa's RFC 5077 ticket */
    SSL_CTX *cctx = ossl_ctx(false, TLS1_2_VERSION, NULL);
    cfg = certa_server_config(cert, key);
    SSL_SESSION *sess = NULL;
    for (int i = 0; i < 2; i++) {
        peer p = ossl_peer(cctx, false);
        SSL_set_tlsext_host_name(p.ssl, "localhost");
        if (sess) SSL_set_session(p.ssl, sess);
        certa_conn *s = certa_server_new(cfg);
        if (getenv("TRACE")) certa_conn_set_trace(s, trace_print, NULL);
        pump(s, &p);
        certa_info info;
        certa_conn_info(s, &info);
        resumed[i] = info.resumed && SSL_session_reused(p.ssl);
        CHECK(certa_conn_handshake_done(s) && round_trip(s, &p, "again"),
              "libssl client connection %d to certa: %s", i + 1, certa_conn_error_text(s));
        if (!sess) sess = SSL_get1_session(p.ssl);
        certa_conn_free(s);
        peer_free(&p);
    }
    CHECK(!resumed[0] && resumed[1], "libssl resumed with certa's TLS 1.2 ticket");
    SSL_SESSION_free(sess);
    certa_config_free(cfg);
    SSL_CTX_free(cctx);
    free(cert);
    free(key);
}

static char renego_trace[4096];
static void trace_keep(void *arg, const char *line) {
    (void)arg;
    size_t n = strlen(renego_trace);
    snprintf(renego_trace + n, sizeof renego_trace - n, "%s\n", line);
}

static void renegotiation_refused(void) {
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    SSL_CTX *cctx = ossl_ctx(false, TLS1_2_VERSION, NULL);
    peer p = ossl_peer(cctx, false);
    certa_config *cfg = certa_server_config(cert, key);
    certa_conn *s = certa_server_new(cfg);
    certa_conn_set_trace(s, trace_keep, NULL);
    pump(s, &p);
    CHECK(certa_conn_handshake_done(s), "TLS 1.2 handshake before renegotiation");
    renego_trace[0] = 0;
    SSL_renegotiate(p.ssl);
    SSL_do_handshake(p.ssl);
    pump(s, &p);
    /* libssl gives up on its renegotiation with a fatal alert (its choice);
     * certa answered the warning no_renegotiation and sent no handshake. */
    CHECK(strstr(renego_trace, "renegotiation refused (no_renegotiation)") &&
              !strstr(renego_trace, "> ServerHello"),
          "a second ClientHello gets no_renegotiation, never a second handshake");
    CHECK(certa_conn_alert_received(s) == 40 || !certa_conn_failed(s),
          "the connection ends only by libssl's own choice (%s)", certa_conn_error_text(s));
    certa_conn_free(s);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(cctx);
    free(cert);
    free(key);
}

int main(void) {
    const char *ecdsa[] = {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
                           "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
                           "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"};
    const char *rsa[] = {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                         "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                         "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"};
    const char *groups[] = {"x25519", "secp256r1"};
    for (int i = 0; i < 3; i++)
        for (int g = 0; g < 2; g++) {
            suite_case("p256", ecdsa[i], groups[g]);
            suite_case("rsa2048", rsa[i], groups[g]);
        }
    ems_cases();
    resumption_cases();
    renegotiation_refused();
    TEST_EXIT();
}
