/* Mutual TLS in memory: client certificates validated for clientAuth,
 * require/optional modes, allow rules on SPIFFE IDs, server validation by
 * trust bundle and name, certificate choice by certificate_authorities —
 * all of it once in TLS 1.3 and once in TLS 1.2, which must behave alike. */
#include "certa.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"

static test_cert root, other_root, server_leaf, billing, web, expired, other_client;
static certa_trust *trust, *other_trust;
/* The version every config of the current pass is pinned to. */
static uint16_t version;

static certa_config *new_cfg(void) {
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, version, version);
    return cfg;
}

static void make_pki(void) {
    chain_opts ca = chain_ca_opts("mTLS Test Root");
    tc_make(&root, &ca, NULL);
    chain_opts ca2 = chain_ca_opts("Other Root");
    tc_make(&other_root, &ca2, NULL);
    chain_opts s = chain_leaf_opts("localhost", "DNS:localhost,IP:127.0.0.1");
    tc_make(&server_leaf, &s, &root);
    chain_opts b = chain_leaf_opts("billing", "URI:spiffe://prod.example/billing");
    b.eku = "clientAuth";
    tc_make(&billing, &b, &root);
    chain_opts w = chain_leaf_opts("web", "URI:spiffe://prod.example/api/web");
    w.eku = "clientAuth";
    tc_make(&web, &w, &root);
    chain_opts o = chain_leaf_opts("other", "URI:spiffe://other.example/x");
    o.eku = "clientAuth";
    tc_make(&other_client, &o, &other_root);
    chain_opts e = chain_leaf_opts("old", "URI:spiffe://prod.example/api/old");
    e.eku = "clientAuth";
    e.not_before = 1600000000;
    e.not_after = 1700000000;
    tc_make(&expired, &e, &root);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, root.pem, strlen(root.pem));
    other_trust = certa_trust_new();
    certa_trust_add_pem(other_trust, other_root.pem, strlen(other_root.pem));
}

static certa_config *server_cfg(certa_client_auth mode, const char *allow) {
    certa_config *cfg = new_cfg();
    certa_config_set_cert_chain_pem(cfg, server_leaf.pem, strlen(server_leaf.pem));
    char *k = tc_key_pem(&server_leaf);
    certa_config_set_private_key_pem(cfg, k, strlen(k));
    free(k);
    certa_config_set_trust(cfg, trust);
    certa_config_set_client_auth(cfg, mode);
    if (allow) certa_config_add_allow(cfg, allow);
    return cfg;
}

static certa_config *client_cfg(const test_cert *id, const char *expect) {
    certa_config *cfg = new_cfg();
    certa_config_set_trust(cfg, trust);
    if (id) pair_use_identity(cfg, id);
    if (expect) certa_config_add_allow(cfg, expect);
    return cfg;
}

static pair run(certa_config *ccfg, certa_config *scfg, const char *name) {
    pair p = {certa_client_new(ccfg, name), certa_server_new(scfg)};
    pair_pump(&p);
    certa_info info;
    if (certa_conn_handshake_done(p.server) && certa_conn_info(p.server, &info) == 0 &&
        info.version != version)
        printf("not ok - negotiated 0x%04x, expected 0x%04x\n", info.version, version);
    return p;
}

static void done(pair *p, certa_config *a, certa_config *b) {
    pair_free(p);
    certa_config_free(a);
    certa_config_free(b);
}

static void handshakes(void) {
    printf("# pass: %s\n", version == CERTA_TLS12 ? "TLS 1.2" : "TLS 1.3");
    const char *api_rule = "spiffe://prod.example/api/*";

    certa_config *s = server_cfg(CERTA_CLIENT_AUTH_REQUIRE, api_rule);
    certa_config *c = client_cfg(&web, NULL);
    pair p = run(c, s, "localhost");
    CHECK(certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server),
          "mTLS with an allowed SPIFFE ID: %s / %s", certa_conn_error_text(p.client),
          certa_conn_error_text(p.server));
    certa_peer_identity id;
    certa_conn_peer_identity(p.server, &id);
    CHECK(id.present && id.verified && !strcmp(id.spiffe_id, "spiffe://prod.example/api/web"),
          "server sees the verified client SPIFFE ID '%s'", id.spiffe_id);
    CHECK(strstr(id.issuer, "mTLS Test Root") != NULL, "client issuer reported: %s", id.issuer);
    certa_conn_peer_identity(p.client, &id);
    CHECK(id.verified && strstr(id.dns_names, "localhost") != NULL,
          "client sees the verified server DNS SAN '%s'", id.dns_names);
    done(&p, c, s);

    s = server_cfg(CERTA_CLIENT_AUTH_REQUIRE, api_rule);
    c = client_cfg(&billing, NULL);
    p = run(c, s, "localhost");
    CHECK(certa_conn_error(p.server) == CERTA_E_IDENTITY_NOT_ALLOWED,
          "disallowed SPIFFE ID refused (%s)", certa_error_name(certa_conn_error(p.server)));
    CHECK(strstr(certa_conn_error_text(p.server),
                 "client spiffe://prod.example/billing is not allowed on this listener; allowed: "
                 "spiffe://prod.example/api/*") != NULL,
          "explanation: %s", certa_conn_error_text(p.server));
    CHECK(certa_conn_alert_received(p.client) == 49, "client got access_denied");
    done(&p, c, s);

    s = server_cfg(CERTA_CLIENT_AUTH_REQUIRE, NULL);
    c = client_cfg(NULL, NULL);
    p = run(c, s, "localhost");
    CHECK(certa_conn_error(p.server) == CERTA_E_CERTIFICATE_REQUIRED,
          "no client certificate: CERTA_E_CERTIFICATE_REQUIRED");
    /* TLS 1.2 has no certificate_required alert: handshake_failure (RFC 5246 §7.4.6). */
    CHECK(certa_conn_alert_received(p.client) == (version == CERTA_TLS12 ? 40 : 116),
          "client got %s", version == CERTA_TLS12 ? "handshake_failure" : "certificate_required");
    done(&p, c, s);

    s = server_cfg(CERTA_CLIENT_AUTH_OPTIONAL, NULL);
    c = client_cfg(NULL, NULL);
    p = run(c, s, "localhost");
    certa_conn_peer_identity(p.server, &id);
    CHECK(certa_conn_handshake_done(p.server) && !id.present,
          "optional mode: a client without certificate is accepted, anonymous");
    done(&p, c, s);

    s = server_cfg(CERTA_CLIENT_AUTH_REQUIRE, NULL);
    c = client_cfg(&expired, NULL);
    p = run(c, s, "localhost");
    CHECK(certa_conn_error(p.server) == CERTA_E_CERT_EXPIRED,
          "expired client certificate refused (%s: %s)",
          certa_error_name(certa_conn_error(p.server)), certa_conn_error_text(p.server));
    CHECK(certa_conn_alert_received(p.client) == 45, "client got certificate_expired");
    done(&p, c, s);

    s = server_cfg(CERTA_CLIENT_AUTH_REQUIRE, NULL);
    c = client_cfg(&other_client, NULL);
    p = run(c, s, "localhost");
    CHECK(certa_conn_error(p.server) == CERTA_E_CERT_UNKNOWN_ISSUER,
          "client certificate from an untrusted CA refused (%s)",
          certa_error_name(certa_conn_error(p.server)));
    done(&p, c, s);

    /* Server authentication by trust bundle and name (the client default). */
    s = server_cfg(CERTA_CLIENT_AUTH_NONE, NULL);
    c = client_cfg(NULL, NULL);
    p = run(c, s, "other.example");
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_NAME_MISMATCH,
          "server certificate for the wrong name refused: %s", certa_conn_error_text(p.client));
    done(&p, c, s);
    s = server_cfg(CERTA_CLIENT_AUTH_NONE, NULL);
    c = client_cfg(NULL, NULL);
    p = run(c, s, "127.0.0.1");
    CHECK(certa_conn_handshake_done(p.client), "server verified by IP SAN 127.0.0.1: %s",
          certa_conn_error_text(p.client));
    done(&p, c, s);
    s = server_cfg(CERTA_CLIENT_AUTH_NONE, NULL);
    c = new_cfg();
    certa_config_set_trust(c, other_trust);
    p = run(c, s, "localhost");
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_UNKNOWN_ISSUER,
          "server from an untrusted CA refused; alert %s",
          certa_alert_name(certa_conn_alert_sent(p.client)));
    done(&p, c, s);

    /* Client-side expectation on the server's identity. */
    s = server_cfg(CERTA_CLIENT_AUTH_NONE, NULL);
    c = client_cfg(NULL, "dns:db.internal");
    p = run(c, s, "localhost");
    CHECK(certa_conn_error(p.client) == CERTA_E_IDENTITY_NOT_ALLOWED &&
              strstr(certa_conn_error_text(p.client), "server localhost") != NULL,
          "client refuses a server outside --expect: %s", certa_conn_error_text(p.client));
    done(&p, c, s);

    /* Choice by certificate_authorities: the client holds identities from
     * two CAs and must present the one the server's CA issued. */
    s = server_cfg(CERTA_CLIENT_AUTH_REQUIRE, NULL);
    c = client_cfg(&other_client, NULL);
    pair_use_identity(c, &web);
    p = run(c, s, "localhost");
    certa_conn_peer_identity(p.server, &id);
    CHECK(certa_conn_handshake_done(p.server) &&
              !strcmp(id.spiffe_id, "spiffe://prod.example/api/web"),
          "client picked the identity issued by the CA the server named: '%s'", id.spiffe_id);
    done(&p, c, s);
}

int main(void) {
    make_pki();
    version = CERTA_TLS13;
    handshakes();
    version = CERTA_TLS12;
    handshakes();

    certa_config *bad = certa_config_new();
    CHECK(certa_config_add_allow(bad, "spiffe://Prod/x") == CERTA_E_BAD_RULE,
          "uppercase trust domain refused");
    CHECK(certa_config_add_allow(bad, "spiffe://prod/a*") == CERTA_E_BAD_RULE,
          "partial wildcard refused");
    CHECK(certa_config_add_allow(bad, "http://x") == CERTA_E_BAD_RULE, "unknown rule kind refused");
    CHECK(certa_config_add_allow(bad, "spiffe://prod.example/*") == 0,
          "trust-domain rule accepted");
    certa_config_free(bad);

    certa_trust_free(trust);
    certa_trust_free(other_trust);
    tc_free(&root);
    tc_free(&other_root);
    tc_free(&server_leaf);
    tc_free(&billing);
    tc_free(&web);
    tc_free(&expired);
    tc_free(&other_client);
    TEST_EXIT();
}
