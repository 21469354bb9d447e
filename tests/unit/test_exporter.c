/* Keying-material exporters (RFC 8446 §7.5, RFC 5705) against libssl's
 * SSL_export_keying_material in one process, both directions, TLS 1.3 and
 * TLS 1.2, with and without a context; label/context change the output;
 * reserved labels and an unfinished handshake are refused. */
#include "certa.h"
#include "lib_certs.h"
#include "lib_ossl.h"
#include "testlib.h"

#include <openssl/ssl.h>

static void agree(certa_conn *c, peer *p, const char *what) {
    static const char *const labels[] = {"EXPERIMENTAL-certa", "EXPORTER-Channel-Binding"};
    const uint8_t ctx[] = "some context";
    uint8_t a[48], b[48], prev[48] = {0};
    for (int l = 0; l < 2; l++)
        for (int use = 0; use < 2; use++) {
            const char *label = labels[l];
            int r = certa_conn_export_keying_material(c, a, sizeof a, label, strlen(label), ctx,
                                                      sizeof ctx - 1, use != 0);
            int o = SSL_export_keying_material(p->ssl, b, sizeof b, label, strlen(label), ctx,
                                               sizeof ctx - 1, use);
            CHECK(r == CERTA_OK && o == 1 && !memcmp(a, b, sizeof a),
                  "%s: certa and libssl export the same bytes (label %s, context %d)", what, label,
                  use);
            CHECK(memcmp(a, prev, sizeof a) != 0, "%s: label/context change the output", what);
            memcpy(prev, a, sizeof a);
        }
    int r = certa_conn_export_keying_material(c, a, sizeof a, "key expansion", 13, NULL, 0, false);
    CHECK(r == CERTA_E_INVALID_ARGUMENT, "%s: reserved label 'key expansion' refused", what);
    r = certa_conn_export_keying_material(c, a, sizeof a, "master secret", 13, NULL, 0, false);
    CHECK(r == CERTA_E_INVALID_ARGUMENT, "%s: reserved label 'master secret' refused", what);
}

static void run(int version) {
    const char *v = version == TLS1_3_VERSION ? "TLS 1.3" : "TLS 1.2";
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    /* certa client -> libssl server */
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(sctx, version);
    SSL_CTX_set_max_proto_version(sctx, version);
    use_pem(sctx, cert, key);
    peer p = ossl_peer(sctx, true);
    certa_config *cfg = certa_config_new();
    certa_config_set_insecure(cfg, true);
    certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS13);
    certa_conn *c = certa_client_new(cfg, "localhost");
    uint8_t out[32];
    CHECK(certa_conn_export_keying_material(c, out, 32, "x", 1, NULL, 0, false) == CERTA_E_STATE,
          "%s: refused before the handshake", v);
    pump(c, &p);
    CHECK(certa_conn_handshake_done(c), "%s client handshake: %s", v, certa_conn_error_text(c));
    agree(c, &p, version == TLS1_3_VERSION ? "1.3 client" : "1.2 client");
    certa_conn_free(c);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(sctx);

    /* libssl client -> certa server */
    SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(cctx, version);
    SSL_CTX_set_max_proto_version(cctx, version);
    p = ossl_peer(cctx, false);
    SSL_set_tlsext_host_name(p.ssl, "localhost");
    cfg = certa_config_new();
    certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
    certa_config_set_private_key_pem(cfg, key, strlen(key));
    certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS13);
    certa_conn *s = certa_server_new(cfg);
    pump(s, &p);
    CHECK(certa_conn_handshake_done(s), "%s server handshake: %s", v, certa_conn_error_text(s));
    agree(s, &p, version == TLS1_3_VERSION ? "1.3 server" : "1.2 server");
    certa_conn_free(s);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(cctx);
    free(cert);
    free(key);
}

int main(void) {
    run(TLS1_3_VERSION);
    run(TLS1_2_VERSION);
    TEST_EXIT();
}
