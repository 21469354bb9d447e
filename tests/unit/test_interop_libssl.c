/* Interop with OpenSSL's libssl in one process over memory BIOs: certa
 * client against a libssl server and libssl client against a certa server,
 * for every suite x {x25519, secp256r1} x {ECDSA P-256, RSA-2048, Ed25519},
 * plus HelloRetryRequest both ways, ALPN and KeyUpdate. */
#include "certa.h"
#include "lib_certs.h"
#include "lib_ossl.h"
#include "testlib.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

static SSL_CTX *ossl_ctx(bool server, const char *cert, const char *key, const char *suite,
                         const char *groups) {
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    if (suite) SSL_CTX_set_ciphersuites(ctx, suite);
    if (groups) SSL_CTX_set1_groups_list(ctx, groups);
    if (cert) {
        BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
        X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
        EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
        SSL_CTX_use_certificate(ctx, x);
        SSL_CTX_use_PrivateKey(ctx, k);
        X509_free(x);
        EVP_PKEY_free(k);
        BIO_free(cb);
        BIO_free(kb);
    }
    return ctx;
}

/* Runs both engines until neither has anything to say. */
static bool echo_through(certa_conn *c, peer *p, const char *msg) {
    uint8_t buf[256];
    if (certa_conn_write(c, (const uint8_t *)msg, strlen(msg)) != 0) return false;
    pump(c, p);
    int n = SSL_read(p->ssl, buf, sizeof buf);
    if (n != (int)strlen(msg) || memcmp(buf, msg, (size_t)n) != 0) return false;
    SSL_write(p->ssl, buf, n);
    pump(c, p);
    size_t m = certa_conn_read(c, buf, sizeof buf);
    return m == (size_t)n && memcmp(buf, msg, m) == 0;
}

static const char *ossl_group(const char *g) {
    return !strcmp(g, "secp256r1") ? "P-256" : g;
}

static void certa_client_case(const char *kind, const char *suite, const char *group,
                              const char *server_groups, bool expect_hrr) {
    char *cert, *key;
    test_make_cert(kind, "localhost", &cert, &key);
    SSL_CTX *ctx =
        ossl_ctx(true, cert, key, suite, server_groups ? server_groups : ossl_group(group));
    peer p = ossl_peer(ctx, true);
    certa_config *cfg = certa_config_new();
    certa_config_set_insecure(cfg, true);
    certa_config_set_ciphers(cfg, suite);
    certa_config_set_groups(cfg, group);
    certa_conn *c = certa_client_new(cfg, "localhost");
    pump(c, &p);
    certa_info info;
    certa_conn_info(c, &info);
    bool ok = certa_conn_handshake_done(c) && SSL_is_init_finished(p.ssl);
    CHECK(ok, "certa client -> libssl server: %s %s %s%s: %s", kind, suite, group,
          expect_hrr ? " (HRR)" : "", certa_conn_error_text(c));
    CHECK(info.hello_retry == expect_hrr, "HelloRetryRequest %s", expect_hrr ? "used" : "not used");
    CHECK(ok && echo_through(c, &p, "ping from certa"), "data round trip with libssl server");
    certa_conn_free(c);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(ctx);
    free(cert);
    free(key);
}

static void certa_server_case(const char *kind, const char *suite, const char *group,
                              const char *server_groups, bool expect_hrr) {
    char *cert, *key;
    test_make_cert(kind, "localhost", &cert, &key);
    SSL_CTX *ctx = ossl_ctx(false, NULL, NULL, suite, group);
    peer p = ossl_peer(ctx, false);
    SSL_set_tlsext_host_name(p.ssl, "localhost");
    certa_config *cfg = certa_config_new();
    certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
    certa_config_set_private_key_pem(cfg, key, strlen(key));
    if (server_groups) certa_config_set_groups(cfg, server_groups);
    certa_config_set_ciphers(cfg, suite);
    certa_conn *s = certa_server_new(cfg);
    pump(s, &p);
    certa_info info;
    certa_conn_info(s, &info);
    bool ok = certa_conn_handshake_done(s) && SSL_is_init_finished(p.ssl);
    CHECK(ok, "libssl client -> certa server: %s %s %s%s: %s", kind, suite, group,
          expect_hrr ? " (HRR)" : "", certa_conn_error_text(s));
    CHECK(info.hello_retry == expect_hrr, "HelloRetryRequest %s", expect_hrr ? "used" : "not used");
    CHECK(info.server_name && !strcmp(info.server_name, "localhost"), "SNI seen by certa");
    /* libssl writes first here: certa echoes. */
    uint8_t buf[64];
    SSL_write(p.ssl, "ping from libssl", 16);
    pump(s, &p);
    size_t n = certa_conn_read(s, buf, sizeof buf);
    certa_conn_write(s, buf, n);
    pump(s, &p);
    int m = SSL_read(p.ssl, buf, sizeof buf);
    CHECK(ok && n == 16 && m == 16 && !memcmp(buf, "ping from libssl", 16),
          "data round trip with libssl client");
    certa_conn_free(s);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(ctx);
    free(cert);
    free(key);
}

static void alpn_and_key_update(void) {
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    SSL_CTX *ctx = ossl_ctx(false, NULL, NULL, NULL, NULL);
    static const unsigned char protos[] = "\x02h2\x08http/1.1";
    SSL_CTX_set_alpn_protos(ctx, protos, sizeof protos - 1);
    peer p = ossl_peer(ctx, false);
    certa_config *cfg = certa_config_new();
    certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
    certa_config_set_private_key_pem(cfg, key, strlen(key));
    certa_config_set_alpn(cfg, "http/1.1");
    certa_conn *s = certa_server_new(cfg);
    pump(s, &p);
    const unsigned char *sel;
    unsigned sel_len;
    SSL_get0_alpn_selected(p.ssl, &sel, &sel_len);
    CHECK(sel_len == 8 && !memcmp(sel, "http/1.1", 8),
          "libssl client got ALPN http/1.1 from certa");
    /* libssl asks certa to update keys; certa must answer and keep working. */
    SSL_key_update(p.ssl, SSL_KEY_UPDATE_REQUESTED);
    SSL_write(p.ssl, "after", 5);
    pump(s, &p);
    uint8_t buf[16];
    size_t n = certa_conn_read(s, buf, sizeof buf);
    certa_conn_write(s, buf, n);
    pump(s, &p);
    int m = SSL_read(p.ssl, buf, sizeof buf);
    CHECK(n == 5 && m == 5, "KeyUpdate from libssl answered; data still flows (%zu/%d)", n, m);
    certa_conn_close(s);
    pump(s, &p);
    char tmp[4];
    CHECK(SSL_read(p.ssl, tmp, sizeof tmp) <= 0 &&
              SSL_get_error(p.ssl, -1) == SSL_ERROR_ZERO_RETURN,
          "libssl sees certa's close_notify");
    certa_conn_free(s);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(ctx);
    free(cert);
    free(key);
}

/* The new signature schemes against libssl, TLS 1.3 and 1.2: a libssl
 * client that offers only the scheme (SSL_CTX_set1_sigalgs_list) and a
 * certa server with such a key; then certa's client against a libssl
 * server with it that signs only with that scheme, checking the scheme
 * certa saw. */
static void sig_case(const char *kind, const char *scheme, uint16_t id, int version) {
    char *cert, *key;
    const char *v = version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2";
    uint16_t cv = version == TLS1_3_VERSION ? CERTA_TLS13 : CERTA_TLS12;
    test_make_cert(kind, "localhost", &cert, &key);

    SSL_CTX *ctx = ossl_ctx(false, NULL, NULL, NULL, NULL);
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    CHECK(SSL_CTX_set1_sigalgs_list(ctx, scheme) == 1, "libssl knows %s", scheme);
    peer p = ossl_peer(ctx, false);
    certa_config *cfg = certa_config_new();
    certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
    certa_config_set_private_key_pem(cfg, key, strlen(key));
    certa_config_set_versions(cfg, cv, cv);
    certa_conn *s = certa_server_new(cfg);
    pump(s, &p);
    int nid = 0;
    bool ok = certa_conn_handshake_done(s) && SSL_is_init_finished(p.ssl);
    CHECK(ok && SSL_get_peer_signature_type_nid(p.ssl, &nid) == 1,
          "%s: libssl client offering only %s -> certa server (%s): %s", v, scheme, kind,
          certa_conn_error_text(s));
    certa_conn_free(s);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(ctx);

    ctx = ossl_ctx(true, cert, key, NULL, NULL);
    SSL_CTX_set_min_proto_version(ctx, version);
    SSL_CTX_set_max_proto_version(ctx, version);
    /* TLS 1.2 ECDSA binds only the hash: without this libssl would sign
     * with P-521 and SHA-256, the first hash certa lists. */
    SSL_CTX_set1_sigalgs_list(ctx, scheme);
    p = ossl_peer(ctx, true);
    cfg = certa_config_new();
    certa_config_set_insecure(cfg, true);
    certa_config_set_versions(cfg, cv, cv);
    if (!strcmp(kind, "p521")) certa_config_set_groups(cfg, "x25519,secp521r1"); /* RFC 8422 */
    certa_conn *c = certa_client_new(cfg, "localhost");
    pump(c, &p);
    certa_info info;
    certa_conn_info(c, &info);
    ok = certa_conn_handshake_done(c) && SSL_is_init_finished(p.ssl);
    CHECK(ok && info.peer_sig_scheme == id, "%s: certa client -> libssl server (%s) signs %s (%s)",
          v, kind, scheme,
          ok ? certa_sig_scheme_name(info.peer_sig_scheme) : certa_conn_error_text(c));
    CHECK(ok && echo_through(c, &p, "signed by libssl"), "%s %s: data round trip", v, scheme);
    certa_conn_free(c);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(ctx);
    free(cert);
    free(key);
}

int main(void) {
    static const struct {
        const char *kind, *scheme;
        uint16_t id;
    } sigs[] = {
        {"p521", "ecdsa_secp521r1_sha512", CERTA_SIG_ECDSA_SECP521R1_SHA512},
        {"ed448", "ed448", CERTA_SIG_ED448},
        {"ed25519", "ed25519", CERTA_SIG_ED25519},
        {"rsapss", "rsa_pss_pss_sha256", CERTA_SIG_RSA_PSS_PSS_SHA256},
        {"rsapss384", "rsa_pss_pss_sha384", CERTA_SIG_RSA_PSS_PSS_SHA384},
    };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        sig_case(sigs[i].kind, sigs[i].scheme, sigs[i].id, TLS1_3_VERSION);
        sig_case(sigs[i].kind, sigs[i].scheme, sigs[i].id, TLS1_2_VERSION);
    }
    /* TLS_AES_128_CCM_SHA256 both ways (certa allows it when asked). */
    certa_client_case("p256", "TLS_AES_128_CCM_SHA256", "x25519", NULL, false);
    certa_server_case("p256", "TLS_AES_128_CCM_SHA256", "x25519", NULL, false);
    const char *kinds[] = {"p256", "rsa2048", "ed25519"};
    const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                            "TLS_CHACHA20_POLY1305_SHA256"};
    const char *groups[] = {"x25519", "secp256r1"};
    for (int k = 0; k < 3; k++)
        for (int s = 0; s < 3; s++)
            for (int g = 0; g < 2; g++) {
                certa_client_case(kinds[k], suites[s], groups[g], NULL, false);
                certa_server_case(kinds[k], suites[s], groups[g], NULL, false);
            }
    /* certa offers x25519 first; libssl accepts only P-256 -> HRR from libssl. */
    certa_client_case("p256", "TLS_AES_128_GCM_SHA256", "x25519,secp256r1", "P-256", true);
    /* libssl sends an x25519 share; certa accepts only secp256r1 -> HRR from certa. */
    certa_server_case("p256", "TLS_AES_128_GCM_SHA256", "x25519:P-256", "secp256r1", true);
    alpn_and_key_update();
    TEST_EXIT();
}
