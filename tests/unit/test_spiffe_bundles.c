/* Trust anchors per SPIFFE trust domain (certa_config_add_spiffe_bundle):
 * a client's SPIFFE ID picks its trust domain's bundle, so a federated
 * partner's CA is trusted for the partner's IDs and nothing else; an ID of
 * a trust domain without a bundle is refused; a client without a SPIFFE ID
 * is judged by the config's trust set as before. In memory, TLS 1.3. */
#include "certa.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"

static test_cert own_root, partner_root, server_leaf;

static test_cert client_of(const char *cn, const char *san, const test_cert *issuer) {
    test_cert c;
    chain_opts o = chain_leaf_opts(cn, san);
    o.eku = "clientAuth";
    if (tc_make(&c, &o, issuer) != 0) {
        printf("not ok - test certificate %s\n", cn);
        exit(1);
    }
    return c;
}

static certa_config *server_cfg_with(bool partner) {
    certa_config *cfg = certa_config_new();
    pair_use_identity(cfg, &server_leaf);
    certa_config_load_trust_pem(cfg, own_root.pem, strlen(own_root.pem));
    certa_config_add_spiffe_bundle(cfg, "spiffe://prod.example", own_root.pem,
                                   strlen(own_root.pem));
    if (partner)
        certa_config_add_spiffe_bundle(cfg, "partner.example", partner_root.pem,
                                       strlen(partner_root.pem));
    certa_config_set_client_auth(cfg, CERTA_CLIENT_AUTH_REQUIRE);
    return cfg;
}

static certa_config *server_cfg(void) {
    return server_cfg_with(true);
}

/* One handshake of ccfg (its ticket cache kept) with scfg: the server's
 * error (0 = served), *resumed whether it resumed. */
static int serve_again(certa_config *ccfg, certa_config *scfg, bool *resumed) {
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump(&p);
    certa_info info;
    int code = certa_conn_handshake_done(p.server) ? 0 : certa_conn_error(p.server);
    *resumed = code == 0 && certa_conn_info(p.server, &info) == 0 && info.resumed;
    pair_free(&p);
    return code;
}

/* Handshakes with the client certificate c; the server's error code (0 = served). */
static int serve(certa_config *scfg, const test_cert *c, const char **text) {
    certa_config *ccfg = certa_config_new();
    certa_config_load_trust_pem(ccfg, own_root.pem, strlen(own_root.pem));
    pair_use_identity(ccfg, c);
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump(&p);
    static char saved[512];
    int code = certa_conn_handshake_done(p.server) ? 0 : certa_conn_error(p.server);
    snprintf(saved, sizeof saved, "%s", certa_conn_error_text(p.server));
    *text = saved;
    pair_free(&p);
    certa_config_free(ccfg);
    return code;
}

int main(void) {
    chain_opts ca = chain_ca_opts("prod.example CA");
    chain_opts pa = chain_ca_opts("partner.example CA");
    chain_opts s = chain_leaf_opts("localhost", "DNS:localhost");
    if (tc_make(&own_root, &ca, NULL) || tc_make(&partner_root, &pa, NULL) ||
        tc_make(&server_leaf, &s, &own_root)) {
        printf("not ok - test PKI\n");
        return 1;
    }
    test_cert web = client_of("web", "URI:spiffe://prod.example/web", &own_root);
    test_cert partner = client_of("p", "URI:spiffe://partner.example/billing", &partner_root);
    test_cert impostor = client_of("i", "URI:spiffe://prod.example/web", &partner_root);
    test_cert stranger = client_of("s", "URI:spiffe://third.example/x", &own_root);
    test_cert plain = client_of("plain", "DNS:plain.example", &own_root);
    test_cert plain_partner = client_of("pp", "DNS:pp.example", &partner_root);

    certa_config *scfg = server_cfg();
    const char *text;
    int r = serve(scfg, &web, &text);
    CHECK(r == 0, "an own-domain SVID issued by the own bundle is served (%s)", text);
    r = serve(scfg, &partner, &text);
    CHECK(r == 0, "a partner SVID issued by the partner's bundle is served (%s)", text);
    r = serve(scfg, &impostor, &text);
    CHECK(r == CERTA_E_CERT_UNKNOWN_ISSUER,
          "spiffe://prod.example/web issued by the partner's CA is refused: %s", text);
    r = serve(scfg, &stranger, &text);
    CHECK(r == CERTA_E_CERT_UNKNOWN_ISSUER && strstr(text, "no bundle"),
          "an ID of a trust domain without a bundle is refused: %s", text);
    r = serve(scfg, &plain, &text);
    CHECK(r == 0, "a client without a SPIFFE ID is judged by the trust set (%s)", text);
    r = serve(scfg, &plain_partner, &text);
    CHECK(r == CERTA_E_CERT_UNKNOWN_ISSUER, "...and the partner's CA is not in that set for it: %s",
          text);
    certa_config_free(scfg);

    /* Replacing a trust domain's bundle: the partner's IDs now need the own CA. */
    scfg = server_cfg();
    CHECK(certa_config_add_spiffe_bundle(scfg, "spiffe://partner.example", own_root.pem,
                                         strlen(own_root.pem)) == CERTA_OK,
          "a trust domain's bundle is replaced");
    r = serve(scfg, &partner, &text);
    CHECK(r == CERTA_E_CERT_UNKNOWN_ISSUER, "the replaced bundle no longer vouches: %s", text);
    certa_config_free(scfg);

    /* A session made while the partner was federated does not outlive its
     * bundle: the ticket is declined, and the full handshake refused. */
    certa_ticket_keys *ring = certa_ticket_keys_new(3600);
    certa_config *federated = server_cfg_with(true), *alone = server_cfg_with(false);
    certa_config_set_ticket_keys(federated, ring);
    certa_config_set_ticket_keys(alone, ring);
    certa_config *pcfg = certa_config_new();
    certa_config_load_trust_pem(pcfg, own_root.pem, strlen(own_root.pem));
    pair_use_identity(pcfg, &partner);
    bool resumed = false;
    int r1 = serve_again(pcfg, federated, &resumed);
    int r2 = serve_again(pcfg, federated, &resumed);
    CHECK(r1 == 0 && r2 == 0 && resumed, "the partner resumes while federated");
    r = serve_again(pcfg, alone, &resumed);
    CHECK(r == CERTA_E_CERT_UNKNOWN_ISSUER && !resumed,
          "without the partner's bundle its ticket is declined and the full handshake refused "
          "(%s)",
          certa_error_name(r));
    certa_config_free(pcfg);
    certa_config_free(federated);
    certa_config_free(alone);
    certa_ticket_keys_free(ring);

    scfg = certa_config_new(); /* not yet used by a connection: still mutable */
    CHECK(certa_config_add_spiffe_bundle(scfg, "spiffe://Prod.Example", own_root.pem,
                                         strlen(own_root.pem)) == CERTA_E_INVALID_ARGUMENT,
          "an upper-case trust domain is refused: %s", certa_config_error_text(scfg));
    CHECK(certa_config_add_spiffe_bundle(scfg, "spiffe://prod.example/web", own_root.pem,
                                         strlen(own_root.pem)) == CERTA_E_INVALID_ARGUMENT,
          "a SPIFFE ID with a path is not a trust domain");
    CHECK(certa_config_add_spiffe_bundle(scfg, "x.example", "no pem", 6) == CERTA_E_BAD_PEM,
          "a bundle without certificates: %s", certa_config_error_text(scfg));
    CHECK(certa_config_load_trust_pem(scfg, "no pem", 6) == CERTA_E_BAD_PEM,
          "certa_config_load_trust_pem without certificates: %s", certa_config_error_text(scfg));
    certa_config_free(scfg);

    tc_free(&web);
    tc_free(&partner);
    tc_free(&impostor);
    tc_free(&stranger);
    tc_free(&plain);
    tc_free(&plain_partner);
    tc_free(&own_root);
    tc_free(&partner_root);
    tc_free(&server_leaf);
    return test_failures ? 1 : 0;
}
