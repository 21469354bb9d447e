/* Each configurable limit against hostile peers, at its edge: handshake
 * message size, chain length, path-building work, records without data. */
#include "certa.h"
#include "lib_certs.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"

/* A server whose chain is its (RSA) certificate repeated `copies` times. */
static certa_config *server_with_chain(int copies) {
    char *cert, *key;
    test_make_cert("rsa2048", "localhost", &cert, &key);
    size_t n = strlen(cert);
    char *chain = malloc(n * (size_t)copies + 1);
    for (int i = 0; i < copies; i++)
        memcpy(chain + n * (size_t)i, cert, n);
    chain[n * (size_t)copies] = 0;
    certa_config *cfg = certa_config_new();
    certa_config_set_cert_chain_pem(cfg, chain, strlen(chain));
    certa_config_set_private_key_pem(cfg, key, strlen(key));
    free(chain);
    free(cert);
    free(key);
    return cfg;
}

static pair run(certa_config *c, certa_config *s) {
    pair p = {certa_client_new(c, "localhost"), certa_server_new(s)};
    pair_pump(&p);
    return p;
}

int main(void) {
    /* Handshake message size: three RSA certificates are ~2.4 kB. */
    certa_config *s3 = server_with_chain(3);
    certa_config *small = certa_config_new();
    certa_config_set_insecure(small, true);
    certa_config_set_max_handshake_size(small, 1024);
    certa_config_set_cert_compression(small, "off"); /* the plain Certificate */
    certa_config_set_groups(small, "x25519");        /* a hybrid ServerHello is over 1 KiB itself */
    pair p = run(small, s3);
    CHECK(certa_conn_error(p.client) == CERTA_E_HANDSHAKE_TOO_BIG &&
              certa_conn_alert_sent(p.client) == 50,
          "Certificate over a 1 KiB cap: CERTA_E_HANDSHAKE_TOO_BIG, decode_error: %s",
          certa_conn_error_text(p.client));
    pair_free(&p);
    /* Compressed (the repeated chain shrinks well under 1 KiB), the
     * declared uncompressed length meets the same cap: bad_certificate
     * (RFC 8879 §4). */
    certa_config *small_zip = certa_config_new();
    certa_config_set_insecure(small_zip, true);
    certa_config_set_max_handshake_size(small_zip, 1024);
    certa_config_set_groups(small_zip, "x25519");
    p = run(small_zip, s3);
    CHECK(certa_conn_error(p.client) == CERTA_E_HANDSHAKE_TOO_BIG &&
              certa_conn_alert_sent(p.client) == 42 &&
              strstr(certa_conn_error_text(p.client), "CompressedCertificate") != NULL,
          "CompressedCertificate declaring more than a 1 KiB cap: CERTA_E_HANDSHAKE_TOO_BIG, "
          "bad_certificate: %s",
          certa_conn_error_text(p.client));
    pair_free(&p);
    certa_config_free(small_zip);
    certa_config *roomy = certa_config_new();
    certa_config_set_insecure(roomy, true);
    certa_config_set_max_handshake_size(roomy, 8192);
    p = run(roomy, s3);
    CHECK(certa_conn_handshake_done(p.client), "the same chain under an 8 KiB cap passes");
    pair_free(&p);

    /* Chain length. */
    certa_config *two = certa_config_new();
    certa_config_set_insecure(two, true);
    certa_config_set_max_chain_length(two, 2);
    p = run(two, s3);
    CHECK(certa_conn_error(p.client) == CERTA_E_BAD_CERTIFICATE &&
              strstr(certa_conn_error_text(p.client), "more than 2 certificates") != NULL,
          "three certificates over a cap of 2 refused: %s", certa_conn_error_text(p.client));
    pair_free(&p);
    certa_config *def = certa_config_new();
    certa_config_set_insecure(def, true);
    p = run(def, s3);
    CHECK(certa_conn_handshake_done(p.client), "three certificates pass the default cap of 10");
    pair_free(&p);

    /* Path-building work: a root -> intermediate -> leaf chain needs two
     * signature checks. */
    test_chain ch;
    chain_opts leaf = chain_leaf_opts("localhost", "DNS:localhost");
    chain_make(&ch, NULL, NULL, &leaf);
    certa_trust *trust = certa_trust_new();
    certa_trust_add_pem(trust, ch.root.pem, strlen(ch.root.pem));
    char *leaf_key = tc_key_pem(&ch.leaf);
    size_t chain_len = strlen(ch.leaf.pem) + strlen(ch.inter.pem);
    char *chain_pem = malloc(chain_len + 1);
    strcpy(chain_pem, ch.leaf.pem);
    strcat(chain_pem, ch.inter.pem);
    certa_config *srv = certa_config_new();
    certa_config_set_cert_chain_pem(srv, chain_pem, chain_len);
    certa_config_set_private_key_pem(srv, leaf_key, strlen(leaf_key));
    certa_config *lazy = certa_config_new();
    certa_config_set_trust(lazy, trust);
    certa_config_set_max_verify_work(lazy, 1);
    p = run(lazy, srv);
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_TOO_COMPLEX,
          "one signature check is not enough for a two-link chain: %s (%s)",
          certa_error_name(certa_conn_error(p.client)), certa_conn_error_text(p.client));
    pair_free(&p);
    certa_config *normal = certa_config_new();
    certa_config_set_trust(normal, trust);
    p = run(normal, srv);
    CHECK(certa_conn_handshake_done(p.client), "the default work budget verifies it: %s",
          certa_conn_error_text(p.client));
    pair_free(&p);

    /* Records without data (here KeyUpdates) in a row. */
    certa_config *strict = server_with_chain(1);
    certa_config_set_max_idle_records(strict, 5);
    p = run(def, strict);
    int sent = 0;
    for (; sent < 10 && !certa_conn_failed(p.server); sent++) {
        certa_conn_key_update(p.client, false);
        pair_pump(&p);
    }
    CHECK(certa_conn_failed(p.server) && sent == 6,
          "a cap of 5 no-data records cuts off the sixth KeyUpdate (%d sent)", sent);
    pair_free(&p);

    certa_config *late = certa_config_new();
    certa_conn *c = certa_client_new(late, "x");
    certa_config_set_max_chain_length(late, 1); /* frozen: ignored */
    certa_conn_free(c);

    certa_config_free(s3);
    certa_config_free(small);
    certa_config_free(roomy);
    certa_config_free(two);
    certa_config_free(def);
    certa_config_free(srv);
    certa_config_free(lazy);
    certa_config_free(normal);
    certa_config_free(strict);
    certa_config_free(late);
    certa_trust_free(trust);
    free(leaf_key);
    free(chain_pem);
    chain_free(&ch);
    TEST_EXIT();
}
