/* Session resumption in memory: tickets from a full handshake resume the
 * next one (via the client cache and via stored sessions), the identity
 * verified by the full handshake carries over (mTLS, SPIFFE ID), and every
 * reason to refuse a ticket leads to a full handshake — or, for a forged
 * binder, to decrypt_error. */
#include "certa.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"

#include <time.h>

static test_cert root, server_leaf, billing;
static certa_trust *trust;

/* The version of the current pass (TLS 1.3, then TLS 1.2 with RFC 5077
 * tickets: the same rules must hold). */
static uint16_t version;

/* A clock the tests move. */
static int64_t clock_now;
static int64_t test_clock(void *arg) {
    (void)arg;
    return clock_now;
}

static certa_config *server_config(void) {
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, version, version);
    pair_use_identity(cfg, &server_leaf);
    certa_config_set_trust(cfg, trust);
    certa_config_set_time_fn(cfg, test_clock, NULL);
    return cfg;
}

static certa_config *client_config(void) {
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, version, version);
    certa_config_set_trust(cfg, trust);
    certa_config_set_time_fn(cfg, test_clock, NULL);
    return cfg;
}

static bool roundtrip(pair *p) {
    static const char msg[] = "ping";
    uint8_t buf[16];
    if (certa_conn_write(p->client, (const uint8_t *)msg, 4) != 0) return false;
    pair_pump(p);
    if (certa_conn_read(p->server, buf, sizeof buf) != 4 || memcmp(buf, msg, 4)) return false;
    if (certa_conn_write(p->server, buf, 4) != 0) return false;
    pair_pump(p);
    return certa_conn_read(p->client, buf, sizeof buf) == 4 && !memcmp(buf, msg, 4);
}

static pair connect(certa_config *ccfg, certa_config *scfg, const char *name) {
    pair p = {certa_client_new(ccfg, name), certa_server_new(scfg)};
    pair_pump(&p);
    return p;
}

static bool resumed(const pair *p) {
    certa_info ci, si;
    certa_conn_info(p->client, &ci);
    certa_conn_info(p->server, &si);
    return certa_conn_handshake_done(p->client) && certa_conn_handshake_done(p->server) &&
           ci.resumed && si.resumed;
}

static bool full(const pair *p) {
    certa_info ci, si;
    certa_conn_info(p->client, &ci);
    certa_conn_info(p->server, &si);
    return certa_conn_handshake_done(p->client) && certa_conn_handshake_done(p->server) &&
           !ci.resumed && !si.resumed && ci.peer_cert_count > 0;
}

static void cache_cases(void) {
    certa_config *scfg = server_config(), *ccfg = client_config();
    pair p = connect(ccfg, scfg, "localhost");
    CHECK(full(&p), "first connection: full handshake (%s / %s)", certa_conn_error_text(p.client),
          certa_conn_error_text(p.server));
    uint8_t blob[CERTA_SESSION_MAX];
    size_t len = 0;
    CHECK(certa_conn_session(p.client, blob, sizeof blob, &len) == CERTA_OK && len > 0,
          "the client holds a session after the handshake (%zu bytes)", len);
    size_t small = 0;
    CHECK(certa_conn_session(p.client, blob, 8, &small) == CERTA_E_INVALID_ARGUMENT && small == len,
          "too small a buffer is refused and the size reported");
    CHECK(roundtrip(&p), "data flows on the full connection");
    certa_peer_identity first;
    certa_conn_peer_identity(p.client, &first);
    pair_free(&p);

    p = connect(ccfg, scfg, "localhost");
    CHECK(resumed(&p), "second connection resumes from the client cache (%s / %s)",
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    certa_info ci;
    certa_conn_info(p.client, &ci);
    certa_peer_identity again;
    certa_conn_peer_identity(p.client, &again);
    CHECK(ci.peer_cert_count == 0 && ci.peer_sig_scheme == 0,
          "resumed: no certificate and no signature exchanged");
    CHECK(again.verified && !strcmp(again.spki_sha256, first.spki_sha256) &&
              !strcmp(again.subject, first.subject),
          "resumed: the server identity is the one verified before (%s)", again.subject);
    CHECK(roundtrip(&p), "data flows on the resumed connection");
    len = 0;
    CHECK(certa_conn_session(p.client, blob, sizeof blob, &len) == CERTA_OK,
          "a resumed connection gets new tickets too");
    pair_free(&p);

    /* Two tickets per connection, each used once: three more connections
     * in a row all resume (each brings two new ones). */
    bool all = true;
    for (int i = 0; i < 3; i++) {
        p = connect(ccfg, scfg, "localhost");
        all = all && resumed(&p);
        pair_free(&p);
    }
    CHECK(all, "repeated connections keep resuming");

    p = connect(ccfg, scfg, "127.0.0.1");
    CHECK(full(&p), "another server name: no ticket offered, full handshake");
    pair_free(&p);
    certa_config_free(ccfg);

    /* Cache off: every connection is full; the explicit API still works. */
    ccfg = client_config();
    certa_config_set_session_cache(ccfg, 0);
    p = connect(ccfg, scfg, "localhost");
    len = 0;
    certa_conn_session(p.client, blob, sizeof blob, &len);
    pair_free(&p);
    p = connect(ccfg, scfg, "localhost");
    CHECK(full(&p), "cache off: the next connection is a full handshake");
    pair_free(&p);
    p.client = certa_client_new_resume(ccfg, "localhost", blob, len);
    p.server = certa_server_new(scfg);
    pair_pump(&p);
    certa_conn_info(p.client, &ci);
    CHECK(resumed(&p) && ci.session_offered, "cache off: a stored session resumes explicitly");
    pair_free(&p);

    /* A stored session for another name is not offered. */
    p.client = certa_client_new_resume(ccfg, "127.0.0.1", blob, len);
    p.server = certa_server_new(scfg);
    pair_pump(&p);
    certa_info oi;
    certa_conn_info(p.client, &oi);
    CHECK(full(&p) && !oi.session_offered, "a session for localhost is not offered to 127.0.0.1");
    pair_free(&p);

    /* Garbage or truncated sessions: a full handshake, never a crash. */
    uint8_t junk[64] = {1, 2, 3};
    bool ok = true;
    for (size_t cut = 0; cut < len; cut += 7) {
        p.client = certa_client_new_resume(ccfg, "localhost", blob, cut);
        p.server = certa_server_new(scfg);
        pair_pump(&p);
        ok = ok && full(&p);
        pair_free(&p);
    }
    p.client = certa_client_new_resume(ccfg, "localhost", junk, sizeof junk);
    p.server = certa_server_new(scfg);
    pair_pump(&p);
    CHECK(ok && full(&p), "truncated and garbage sessions fall back to a full handshake");
    pair_free(&p);

    /* A session whose PSK was altered: the binder does not verify. */
    uint8_t bad[CERTA_SESSION_MAX];
    memcpy(bad, blob, len);
    bad[28] ^= 1; /* first byte of the PSK (after format, suite, times, lifetime, age_add, len) */
    p.client = certa_client_new_resume(ccfg, "localhost", bad, len);
    p.server = certa_server_new(scfg);
    pair_pump(&p);
    /* TLS 1.3: the binder (decrypt_error); TLS 1.2: the client's altered
     * master secret gives other record keys, so the server's first protected
     * record (its Finished) fails authentication (bad_record_mac). */
    if (version == CERTA_TLS12)
        CHECK(certa_conn_error(p.client) == CERTA_E_BAD_RECORD_MAC &&
                  certa_conn_alert_sent(p.client) == 20 && !certa_conn_handshake_done(p.server),
              "a wrong master secret fails at the server's Finished with bad_record_mac (%s)",
              certa_conn_error_text(p.client));
    else
        CHECK(certa_conn_error(p.server) == CERTA_E_BAD_FINISHED &&
                  certa_conn_alert_sent(p.server) == 51,
              "a wrong PSK fails the binder check with decrypt_error (%s)",
              certa_conn_error_text(p.server));
    pair_free(&p);

    /* The client's clock past the ticket lifetime: not offered. */
    int64_t saved = clock_now;
    clock_now += 7201;
    p.client = certa_client_new_resume(ccfg, "localhost", blob, len);
    p.server = certa_server_new(scfg);
    pair_pump(&p);
    CHECK(full(&p), "an expired session is not offered");
    pair_free(&p);
    clock_now = saved;
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

static void server_refusals(void) {
    certa_config *scfg = server_config(), *ccfg = client_config();
    certa_config_set_session_cache(ccfg, 0);
    pair p = connect(ccfg, scfg, "localhost");
    uint8_t blob[CERTA_SESSION_MAX];
    size_t len = 0;
    certa_conn_session(p.client, blob, sizeof blob, &len);
    pair_free(&p);

    /* Another server (another ticket key) cannot read the ticket. */
    certa_config *other = server_config();
    p.client = certa_client_new_resume(ccfg, "localhost", blob, len);
    p.server = certa_server_new(other);
    pair_pump(&p);
    certa_info di;
    certa_conn_info(p.client, &di);
    CHECK(full(&p) && di.session_offered,
          "a ticket from another server key: offered, declined, full handshake");
    pair_free(&p);
    certa_config_free(other);

    /* The same key on a new config (a reload) resumes. */
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    certa_config *a = server_config(), *b = server_config();
    certa_config_set_ticket_key(a, key);
    certa_config_set_ticket_key(b, key);
    p = connect(ccfg, a, "localhost");
    certa_conn_session(p.client, blob, sizeof blob, &len);
    pair_free(&p);
    p.client = certa_client_new_resume(ccfg, "localhost", blob, len);
    p.server = certa_server_new(b);
    pair_pump(&p);
    CHECK(resumed(&p), "a shared ticket key resumes across configs");
    pair_free(&p);

    /* The server's clock past the lifetime (the client's is not). */
    p.client = certa_client_new_resume(ccfg, "localhost", blob, len);
    certa_config *late = server_config();
    certa_config_set_ticket_key(late, key);
    certa_config_set_ticket_lifetime(late, 60);
    p.server = certa_server_new(late);
    clock_now += 61;
    pair_pump(&p);
    CHECK(full(&p), "a ticket older than the server's lifetime: full handshake");
    pair_free(&p);
    clock_now -= 61;
    certa_config_free(late);
    certa_config_free(a);
    certa_config_free(b);

    /* Tickets off. */
    certa_config *none = server_config();
    certa_config_set_tickets(none, 0);
    p = connect(ccfg, none, "localhost");
    CHECK(certa_conn_session(p.client, blob, sizeof blob, &len) == CERTA_E_STATE,
          "a server with tickets off sends none");
    pair_free(&p);
    certa_config_free(none);
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

static void hello_retry_case(void) {
    certa_config *scfg = server_config(), *ccfg = client_config();
    certa_config_set_groups(scfg, "x25519");
    certa_config_set_groups(ccfg, "secp256r1,x25519");
    pair p = connect(ccfg, scfg, "localhost");
    CHECK(full(&p), "full handshake with HelloRetryRequest");
    pair_free(&p);
    p = connect(ccfg, scfg, "localhost");
    certa_info ci;
    certa_conn_info(p.client, &ci);
    CHECK(resumed(&p) && ci.hello_retry,
          "resumption after HelloRetryRequest (binder over the new transcript): %s / %s",
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    pair_free(&p);
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

static void mtls_cases(void) {
    uint8_t key[32] = {42};
    certa_config *scfg = server_config();
    certa_config_set_client_auth(scfg, CERTA_CLIENT_AUTH_REQUIRE);
    certa_config_set_ticket_key(scfg, key);
    certa_config *ccfg = client_config();
    pair_use_identity(ccfg, &billing);
    pair p = connect(ccfg, scfg, "localhost");
    CHECK(full(&p), "mTLS: full handshake with a client certificate");
    pair_free(&p);
    p = connect(ccfg, scfg, "localhost");
    certa_peer_identity id;
    certa_conn_peer_identity(p.server, &id);
    CHECK(resumed(&p) && id.present && id.verified &&
              !strcmp(id.spiffe_id, "spiffe://prod.example/billing"),
          "mTLS resumed: the server still knows the client as %s", id.spiffe_id);
    pair_free(&p);

    /* A server (same ticket key) whose rules no longer allow billing: the
     * ticket is declined, and the full handshake refuses the client. */
    certa_config *strict = server_config();
    certa_config_set_client_auth(strict, CERTA_CLIENT_AUTH_REQUIRE);
    certa_config_set_ticket_key(strict, key);
    certa_config_add_allow(strict, "spiffe://prod.example/api/*");
    p.client = certa_client_new(ccfg, "localhost");
    p.server = certa_server_new(strict);
    pair_pump(&p);
    certa_info si;
    certa_conn_info(p.server, &si);
    CHECK(!si.resumed && certa_conn_error(p.server) == CERTA_E_IDENTITY_NOT_ALLOWED,
          "a ticket whose identity the rules now refuse is not resumed: %s",
          certa_conn_error_text(p.server));
    pair_free(&p);

    /* A ticket made without a client certificate does not satisfy a server
     * that requires one. */
    certa_config *open_srv = server_config();
    certa_config_set_ticket_key(open_srv, key);
    certa_config *anon = client_config();
    p = connect(anon, open_srv, "localhost");
    pair_free(&p);
    p.client = certa_client_new(anon, "localhost");
    p.server = certa_server_new(scfg);
    pair_pump(&p);
    certa_conn_info(p.server, &si);
    CHECK(!si.resumed && certa_conn_error(p.server) == CERTA_E_CERTIFICATE_REQUIRED,
          "a ticket without a client identity does not pass client-auth require");
    pair_free(&p);
    certa_config_free(anon);
    certa_config_free(open_srv);
    certa_config_free(strict);
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

int main(void) {
    clock_now = (int64_t)time(NULL);
    chain_opts ca = chain_ca_opts("Resume Test Root");
    tc_make(&root, &ca, NULL);
    chain_opts s = chain_leaf_opts("localhost", "DNS:localhost,IP:127.0.0.1");
    tc_make(&server_leaf, &s, &root);
    chain_opts b = chain_leaf_opts("billing", "URI:spiffe://prod.example/billing");
    b.eku = "clientAuth";
    tc_make(&billing, &b, &root);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, root.pem, strlen(root.pem));

    version = CERTA_TLS13;
    cache_cases();
    server_refusals();
    hello_retry_case();
    mtls_cases();
    printf("# TLS 1.2 pass\n");
    version = CERTA_TLS12;
    cache_cases();
    server_refusals();
    mtls_cases();

    certa_trust_free(trust);
    tc_free(&root);
    tc_free(&server_leaf);
    tc_free(&billing);
    TEST_EXIT();
}
