/* What a client learns about the server through the API rather than the
 * trace: the CA names of a CertificateRequest (certa_conn_requested_ca_*)
 * and the ticket lifetime hint (certa_conn_ticket_lifetime), against libssl
 * servers in memory, TLS 1.3 and 1.2. */
#include "certa.h"
#include "lib_certs.h"
#include "lib_ossl.h"
#include "testlib.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

static void add_ca_name(SSL_CTX *ctx, const char *cn) {
    X509_NAME *n = X509_NAME_new();
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, (const unsigned char *)"Example", -1, -1, 0);
    STACK_OF(X509_NAME) *list = SSL_CTX_get0_CA_list(ctx) ? NULL : sk_X509_NAME_new_null();
    if (list) {
        sk_X509_NAME_push(list, n);
        SSL_CTX_set_client_CA_list(ctx, list);
    } else {
        STACK_OF(X509_NAME) *cur = SSL_dup_CA_list(SSL_CTX_get_client_CA_list(ctx));
        sk_X509_NAME_push(cur, n);
        SSL_CTX_set_client_CA_list(ctx, cur);
    }
}

static void run(int version, int n_names) {
    const char *label = version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2";
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(sctx, version);
    SSL_CTX_set_max_proto_version(sctx, version);
    use_pem(sctx, cert, key);
    SSL_CTX_set_timeout(sctx, 5400); /* the ticket lifetime hint */
    SSL_CTX_set_verify(sctx, SSL_VERIFY_PEER, NULL);
    if (n_names >= 1) add_ca_name(sctx, "First CA");
    if (n_names >= 2) add_ca_name(sctx, "Second CA");
    peer p = ossl_peer(sctx, true);
    certa_config *cfg = certa_config_new();
    certa_config_set_insecure(cfg, true);
    certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS13);
    certa_conn *c = certa_client_new(cfg, "localhost");
    CHECK(certa_conn_requested_ca_count(c) == 0, "%s: no names before a CertificateRequest", label);
    pump(c, &p);
    uint8_t buf[64];
    (void)SSL_read(p.ssl, buf, sizeof buf); /* TLS 1.3 tickets go after the handshake */
    pump(c, &p);
    (void)certa_conn_read(c, buf, sizeof buf);
    CHECK(certa_conn_handshake_done(c), "%s handshake with a CertificateRequest (%s)", label,
          certa_conn_error_text(c));
    size_t n = certa_conn_requested_ca_count(c);
    CHECK(n == (size_t)n_names, "%s: %zu CA names kept (%d sent)", label, n, n_names);
    char name[128];
    if (n_names >= 1) {
        int r = certa_conn_requested_ca_name(c, 0, name, sizeof name);
        CHECK(r == CERTA_OK && strstr(name, "CN=First CA") && strstr(name, "O=Example"),
              "%s: the first name reads '%s'", label, name);
    }
    if (n_names >= 2) {
        int r = certa_conn_requested_ca_name(c, 1, name, sizeof name);
        CHECK(r == CERTA_OK && strstr(name, "CN=Second CA"), "%s: the second '%s'", label, name);
        r = certa_conn_requested_ca_name(c, 0, name, 8);
        CHECK(r == CERTA_OK && strlen(name) < 8, "%s: cut to the buffer ('%s')", label, name);
    }
    CHECK(certa_conn_requested_ca_name(c, (size_t)n_names, name, sizeof name) ==
                  CERTA_E_INVALID_ARGUMENT &&
              name[0] == 0,
          "%s: past the count is refused", label);
    CHECK(certa_conn_cert_requested(c), "%s: a certificate was requested", label);
    CHECK(certa_conn_ticket_lifetime(c) == 5400,
          "%s: ticket lifetime hint %u s (libssl's timeout 5400)", label,
          certa_conn_ticket_lifetime(c));
    certa_conn_free(c);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(sctx);
    free(cert);
    free(key);
}

int main(void) {
    run(TLS1_3_VERSION, 2);
    run(TLS1_3_VERSION, 0);
    run(TLS1_2_VERSION, 1);
    run(TLS1_2_VERSION, 0);
    return test_failures ? 1 : 0;
}
