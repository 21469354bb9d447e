/* certa_conn_probe_renegotiation against libssl servers in memory (one that
 * allows client-initiated renegotiation, its default that refuses it, one
 * with SSL_OP_NO_RENEGOTIATION) and against certa's own server; plus the
 * calls it refuses. */
#include "certa.h"
#include "lib_certs.h"
#include "lib_ossl.h"
#include "lib_pair.h"
#include "testlib.h"

#include <openssl/ssl.h>

static certa_config *client12(void) {
    certa_config *cfg = certa_config_new();
    certa_config_set_insecure(cfg, true);
    certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS12);
    return cfg;
}

/* libssl acts on a renegotiation ClientHello only inside SSL_read. */
static void server_reads(peer *p) {
    uint8_t buf[256];
    for (int i = 0; i < 4; i++) {
        (void)SSL_read(p->ssl, buf, sizeof buf);
    }
}

static int against_libssl(uint64_t options, uint8_t *alert, char *text, size_t cap) {
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    SSL_CTX *sctx = SSL_CTX_new(TLS_server_method());
    SSL_CTX_set_min_proto_version(sctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(sctx, TLS1_2_VERSION);
    SSL_CTX_set_options(sctx, options);
    use_pem(sctx, cert, key);
    peer p = ossl_peer(sctx, true);
    certa_config *cfg = client12();
    certa_conn *c = certa_client_new(cfg, "localhost");
    pump(c, &p);
    int r = -1;
    if (certa_conn_handshake_done(c) && certa_conn_probe_renegotiation(c) == CERTA_OK) {
        CHECK(certa_conn_probe_renegotiation(c) == CERTA_E_STATE, "a second probe is refused");
        pump(c, &p);
        server_reads(&p);
        pump(c, &p);
        r = certa_conn_failed(c) ? certa_conn_error(c) : CERTA_OK;
        *alert = certa_conn_alert_received(c);
        snprintf(text, cap, "%s", certa_conn_error_text(c));
    }
    certa_conn_free(c);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(sctx);
    free(cert);
    free(key);
    return r;
}

static void libssl_servers(void) {
    uint8_t alert;
    char text[400];
    int r = against_libssl(SSL_OP_ALLOW_CLIENT_RENEGOTIATION, &alert, text, sizeof text);
    CHECK(r == CERTA_E_RENEGOTIATION_ACCEPTED && strstr(text, "accepted a renegotiation"),
          "libssl allowing client renegotiation: accepted, secure (%s: %s)", certa_error_name(r),
          text);
    r = against_libssl(0, &alert, text, sizeof text);
    CHECK(r == CERTA_E_RENEGOTIATION_REFUSED && strstr(text, "warning alert no_renegotiation"),
          "libssl 3 by default: refused with a warning no_renegotiation (%s: %s)",
          certa_error_name(r), text);
    r = against_libssl(SSL_OP_NO_RENEGOTIATION, &alert, text, sizeof text);
    CHECK(r == CERTA_E_RENEGOTIATION_REFUSED && strstr(text, "no_renegotiation"),
          "libssl with SSL_OP_NO_RENEGOTIATION: refused (%s: %s)", certa_error_name(r), text);
}

static void certa_server(void) {
    char *cert, *key;
    test_make_cert("p256", "localhost", &cert, &key);
    certa_config *scfg = certa_config_new();
    certa_config_set_cert_chain_pem(scfg, cert, strlen(cert));
    certa_config_set_private_key_pem(scfg, key, strlen(key));
    certa_config_set_versions(scfg, CERTA_TLS12, CERTA_TLS13);
    certa_config *ccfg = client12();
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    CHECK(certa_conn_probe_renegotiation(p.client) == CERTA_E_STATE,
          "no probe before the handshake");
    pair_pump(&p);
    CHECK(certa_conn_handshake_done(p.client), "TLS 1.2 handshake with certa's server");
    CHECK(certa_conn_probe_renegotiation(p.server) == CERTA_E_STATE, "no probe on a server");
    CHECK(certa_conn_probe_renegotiation(p.client) == CERTA_OK, "the probe is queued");
    pair_pump(&p);
    CHECK(certa_conn_error(p.client) == CERTA_E_RENEGOTIATION_REFUSED &&
              strstr(certa_conn_error_text(p.client), "warning alert no_renegotiation"),
          "certa's server refuses with the warning no_renegotiation (%s)",
          certa_conn_error_text(p.client));
    CHECK(!certa_conn_failed(p.server), "and its connection goes on");
    pair_free(&p);

    /* TLS 1.3: there is no renegotiation to probe. */
    certa_config *ccfg13 = certa_config_new();
    certa_config_set_insecure(ccfg13, true);
    pair q = {certa_client_new(ccfg13, "localhost"), certa_server_new(scfg)};
    pair_pump(&q);
    certa_info info;
    CHECK(certa_conn_handshake_done(q.client) && certa_conn_info(q.client, &info) == 0 &&
              info.version == CERTA_TLS13 &&
              certa_conn_probe_renegotiation(q.client) == CERTA_E_STATE,
          "no probe on a TLS 1.3 connection");
    pair_free(&q);
    certa_config_free(ccfg13);
    certa_config_free(ccfg);
    certa_config_free(scfg);
    free(cert);
    free(key);
}

int main(void) {
    libssl_servers();
    certa_server();
    return test_failures ? 1 : 0;
}
