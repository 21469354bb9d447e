/* 0-RTT early data in memory (RFC 8446 §2.3, §4.2.10, §8), with supplied
 * clocks: accepted once per ticket, a replayed ticket gets a 1-RTT
 * handshake with its early data rejected, a record kept for twice the
 * freshness window (a later replay fails the age check), a stale ticket age, another
 * ALPN or cipher suite, a HelloRetryRequest all reject (and skip) it,
 * too much accepted early data fails with unexpected_message, and a full
 * or unavailable anti-replay store rejects (fails closed). */
#include "certa.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"

#include <time.h>

static test_cert root, server_leaf;
static certa_trust *trust;
static const uint8_t ticket_key[32] = {7};

/* The server's clock, and the client's (stopped when client_frozen). */
static int64_t clock_now, client_frozen;
static int64_t server_clock(void *arg) {
    (void)arg;
    return clock_now;
}
static int64_t client_clock(void *arg) {
    (void)arg;
    return client_frozen ? client_frozen : clock_now;
}

static certa_config *server_config(uint32_t max_early) {
    certa_config *cfg = certa_config_new();
    pair_use_identity(cfg, &server_leaf);
    certa_config_set_time_fn(cfg, server_clock, NULL);
    certa_config_set_ticket_key(cfg, ticket_key);
    certa_config_set_max_early_data(cfg, max_early);
    return cfg;
}

static certa_config *client_config(uint32_t max_early) {
    certa_config *cfg = certa_config_new();
    certa_config_set_trust(cfg, trust);
    certa_config_set_time_fn(cfg, client_clock, NULL);
    certa_config_set_max_early_data(cfg, max_early);
    return cfg;
}

/* Moves bytes both ways, acknowledging only what the receiver took, and
 * drains the server's early data (into early, up to cap) and its ordinary
 * data (into data) as it comes. */
typedef struct got {
    uint8_t early[4096], data[4096];
    size_t early_n, data_n;
} got;

static void pump(pair *p, got *g) {
    for (int round = 0; round < 50; round++) {
        bool moved = false;
        certa_conn *from[2] = {p->client, p->server}, *to[2] = {p->server, p->client};
        for (int d = 0; d < 2; d++) {
            const uint8_t *out;
            size_t n = certa_conn_outgoing(from[d], &out);
            if (n && !certa_conn_failed(to[d])) {
                size_t used = 0;
                certa_conn_recv(to[d], out, n, &used);
                certa_conn_outgoing_done(from[d], certa_conn_failed(to[d]) ? n : used);
                moved = moved || used > 0;
            } else if (n) {
                certa_conn_outgoing_done(from[d], n);
            }
        }
        size_t k;
        while ((k = certa_conn_read_early(p->server, g->early + g->early_n,
                                          sizeof g->early - g->early_n)) > 0) {
            g->early_n += k;
            moved = true;
        }
        while ((k = certa_conn_read(p->server, g->data + g->data_n, sizeof g->data - g->data_n)) >
               0) {
            g->data_n += k;
            moved = true;
        }
        uint8_t sink[256];
        while (certa_conn_read(p->client, sink, sizeof sink) > 0)
            moved = true;
        if (!moved) return;
    }
}

static bool done(const pair *p) {
    return certa_conn_handshake_done(p->client) && certa_conn_handshake_done(p->server);
}

/* A full handshake on ccfg/scfg; the client's newest session into blob. */
static size_t first_session(certa_config *ccfg, certa_config *scfg, uint8_t *blob) {
    pair p = {certa_client_new_resume(ccfg, "localhost", NULL, 0), certa_server_new(scfg)};
    got g = {0};
    pump(&p, &g);
    size_t len = 0;
    certa_conn_session(p.client, blob, CERTA_SESSION_MAX, &len);
    pair_free(&p);
    return len;
}

static const char early_msg[] = "GET /early HTTP/1.1\r\n\r\n";

/* Resumes with blob and sends early_msg as early data (if allowed). */
static pair resume_early(certa_config *ccfg, certa_config *scfg, const uint8_t *blob, size_t len,
                         got *g, int *write_rc) {
    pair p = {certa_client_new_resume(ccfg, "localhost", blob, len), certa_server_new(scfg)};
    *write_rc = certa_conn_write_early(p.client, (const uint8_t *)early_msg, strlen(early_msg));
    memset(g, 0, sizeof *g);
    pump(&p, g);
    return p;
}

static bool got_early(const got *g) {
    return g->early_n == strlen(early_msg) && !memcmp(g->early, early_msg, g->early_n);
}

/* The 1-RTT fallback works: data both ways. */
static bool roundtrip(pair *p) {
    got g = {0};
    if (certa_conn_write(p->client, (const uint8_t *)"ping", 4) != 0) return false;
    pump(p, &g);
    return g.data_n == 4 && !memcmp(g.data, "ping", 4) && g.early_n == 0;
}

/* Early data rejected, the handshake resumed 1-RTT, and data flows after it. */
static bool rejected(pair *p, const got *g, int write_rc) {
    certa_info ci, si;
    certa_conn_info(p->client, &ci);
    certa_conn_info(p->server, &si);
    return write_rc == CERTA_OK && done(p) && ci.resumed && si.resumed && !ci.early_data_accepted &&
           !si.early_data_accepted && ci.early_data_rejected && si.early_data_rejected &&
           g->early_n == 0 && roundtrip(p);
}

static void accepted_once(void) {
    certa_config *scfg = server_config(4096), *ccfg = client_config(4096);
    uint8_t blob[CERTA_SESSION_MAX];
    size_t len = first_session(ccfg, scfg, blob);
    CHECK(len > 0, "a full handshake leaves a session (%zu bytes)", len);
    got g;
    int rc;
    pair p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    certa_info ci, si;
    certa_conn_info(p.client, &ci);
    certa_conn_info(p.server, &si);
    CHECK(rc == CERTA_OK && done(&p) && ci.resumed && si.resumed,
          "resumed with early data (%s / %s)", certa_conn_error_text(p.client),
          certa_conn_error_text(p.server));
    CHECK(ci.early_data_accepted && si.early_data_accepted && !ci.early_data_rejected &&
              si.early_data_bytes == strlen(early_msg) && ci.early_data_bytes == strlen(early_msg),
          "both sides say the early data was accepted (%zu bytes)", si.early_data_bytes);
    CHECK(got_early(&g) && g.data_n == 0,
          "the early data arrives through certa_conn_read_early only (%zu early, %zu ordinary)",
          g.early_n, g.data_n);
    CHECK(roundtrip(&p), "ordinary data flows after EndOfEarlyData and Finished");
    pair_free(&p);

    /* The same ticket again: a replay. */
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    CHECK(rejected(&p, &g, rc),
          "the same ticket's early data a second time is rejected, the handshake resumes 1-RTT "
          "and carries data (the client resends) (%s / %s)",
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    pair_free(&p);

    /* Accepted with no early data written: EndOfEarlyData alone. */
    len = first_session(ccfg, scfg, blob);
    p.client = certa_client_new_resume(ccfg, "localhost", blob, len);
    p.server = certa_server_new(scfg);
    CHECK(certa_conn_early_allowed(p.client) == 4096, "4096 bytes of early data allowed (%zu)",
          certa_conn_early_allowed(p.client));
    CHECK(certa_conn_write_early(p.client, blob, 4097) == CERTA_E_STATE,
          "more than the ticket's max_early_data is refused before sending");
    memset(&g, 0, sizeof g);
    pump(&p, &g);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_accepted && si.early_data_bytes == 0,
          "accepted with no early data: EndOfEarlyData alone ends it");
    CHECK(certa_conn_write_early(p.client, blob, 1) == CERTA_E_STATE,
          "no early data after the handshake");
    pair_free(&p);
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

static void refusals(void) {
    certa_config *scfg = server_config(4096), *ccfg = client_config(4096);
    uint8_t blob[CERTA_SESSION_MAX];
    got g;
    int rc;
    certa_info ci, si;

    /* Stale: the server's clock ran 60 s, the client's stood still. */
    client_frozen = clock_now;
    size_t len = first_session(ccfg, scfg, blob);
    clock_now += 60;
    pair p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    CHECK(rejected(&p, &g, rc),
          "a ticket age 60 s off the server's is rejected (skipped), the handshake resumes");
    pair_free(&p);
    client_frozen = 0;

    /* Within the window (5 s of skew) it is accepted. */
    client_frozen = clock_now;
    len = first_session(ccfg, scfg, blob);
    clock_now += 5;
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_accepted && got_early(&g),
          "5 s of skew is within the 10 s window: accepted");
    pair_free(&p);
    client_frozen = 0;

    /* ALPN: the ticket's was h2, this connection negotiates http/1.1. */
    certa_config_free(scfg);
    scfg = server_config(4096);
    certa_config_set_alpn(scfg, "h2,http/1.1");
    certa_config *c_h2 = client_config(4096), *c_http = client_config(4096);
    certa_config_set_alpn(c_h2, "h2");
    certa_config_set_alpn(c_http, "http/1.1");
    len = first_session(c_h2, scfg, blob);
    p = resume_early(c_http, scfg, blob, len, &g, &rc);
    CHECK(rejected(&p, &g, rc), "another ALPN protocol than the ticket's: early data rejected (%s)",
          certa_conn_error_text(p.server));
    pair_free(&p);
    len = first_session(c_h2, scfg, blob);
    p = resume_early(c_h2, scfg, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_accepted && got_early(&g), "the same ALPN: accepted");
    pair_free(&p);
    certa_config_free(c_h2);
    certa_config_free(c_http);
    certa_config_free(scfg);

    /* Cipher suite: the ticket's AES-128-GCM, the server now prefers
     * ChaCha20 (same hash: it still resumes). */
    scfg = server_config(4096);
    certa_config_set_ciphers(scfg, "TLS_AES_128_GCM_SHA256");
    certa_config *ccfg2 = client_config(4096);
    certa_config_set_ciphers(ccfg2, "TLS_AES_128_GCM_SHA256,TLS_CHACHA20_POLY1305_SHA256");
    len = first_session(ccfg2, scfg, blob);
    certa_config *scfg2 = server_config(4096);
    certa_config_set_ciphers(scfg2, "TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_GCM_SHA256");
    p = resume_early(ccfg2, scfg2, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(si.cipher_suite == 0x1303 && rejected(&p, &g, rc),
          "another cipher suite than the ticket's: early data rejected (%s)",
          certa_conn_error_text(p.server));
    pair_free(&p);
    certa_config_free(scfg2);
    certa_config_free(ccfg2);
    certa_config_free(scfg);

    /* HelloRetryRequest: the early records are skipped before the second
     * ClientHello. */
    scfg = server_config(4096);
    certa_config_set_groups(scfg, "x25519");
    certa_config *chrr = client_config(4096);
    certa_config_set_groups(chrr, "secp256r1,x25519");
    len = first_session(chrr, scfg, blob);
    p = resume_early(chrr, scfg, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(si.hello_retry && rejected(&p, &g, rc),
          "early data with a HelloRetryRequest is skipped, the handshake resumes (%s / %s)",
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    pair_free(&p);
    certa_config_free(chrr);
    certa_config_free(scfg);

    /* Off on the server: its tickets allow none, the client cannot send. */
    scfg = server_config(0);
    len = first_session(ccfg, scfg, blob);
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    certa_conn_info(p.client, &ci);
    CHECK(rc == CERTA_E_STATE && done(&p) && ci.resumed && !ci.early_data_rejected,
          "a ticket without early_data: certa_conn_write_early refuses, nothing is offered");
    pair_free(&p);
    certa_config_free(scfg);
    certa_config_free(ccfg);
}

static void too_much(void) {
    /* The ticket allows 4096; this server accepts at most 8 now. */
    certa_config *scfg = server_config(4096), *ccfg = client_config(4096);
    uint8_t blob[CERTA_SESSION_MAX];
    size_t len = first_session(ccfg, scfg, blob);
    certa_config *small = server_config(8);
    got g;
    int rc;
    pair p = resume_early(ccfg, small, blob, len, &g, &rc);
    CHECK(certa_conn_error(p.server) == CERTA_E_UNEXPECTED_MESSAGE &&
              certa_conn_alert_sent(p.server) == 10 && g.early_n == 0,
          "more accepted early data than allowed: unexpected_message (%s)",
          certa_conn_error_text(p.server));
    pair_free(&p);
    certa_config_free(small);
    certa_config_free(scfg);
    certa_config_free(ccfg);
}

static int store_calls, store_answer;
static size_t store_id_len;
static uint32_t store_keep;
static int test_store(void *arg, const uint8_t *id, size_t id_len, uint32_t keep) {
    (void)arg;
    (void)id;
    store_calls++;
    store_keep = keep;
    store_id_len = id_len;
    return keep > 0 ? store_answer : -1;
}

static void stores(void) {
    /* The built-in store with room for one ticket: a second is refused. */
    certa_config *scfg = server_config(4096), *ccfg = client_config(4096);
    certa_config_set_replay_capacity(scfg, 1);
    uint8_t blob[CERTA_SESSION_MAX], blob2[CERTA_SESSION_MAX];
    size_t len = first_session(ccfg, scfg, blob);
    size_t len2 = first_session(ccfg, scfg, blob2);
    got g;
    int rc;
    certa_info si;
    pair p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_accepted && got_early(&g), "store of one: the first accepted");
    pair_free(&p);
    p = resume_early(ccfg, scfg, blob2, len2, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.resumed && si.early_data_rejected && g.early_n == 0,
          "store full: another ticket's early data is rejected (fail closed), the handshake goes "
          "on");
    pair_free(&p);
    certa_config_free(scfg);

    /* A record is kept for 2 x (window + 1) + 2 s = 24 s, not the ticket's
     * lifetime: a replay is refused by the store until then and by its
     * ticket age after (the age a ClientHello carries is fixed: here the
     * client's clock stands still, as a recorded ClientHello's does). */
    scfg = server_config(4096);
    certa_config_set_replay_capacity(scfg, 1);
    client_frozen = clock_now;
    len = first_session(ccfg, scfg, blob);
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_accepted, "store of one, ticket A: accepted");
    pair_free(&p);
    client_frozen = 0;
    clock_now += 23;
    len2 = first_session(ccfg, scfg, blob2);
    p = resume_early(ccfg, scfg, blob2, len2, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_rejected, "23 s later A's record still holds the only slot");
    pair_free(&p);
    clock_now += 1;
    len2 = first_session(ccfg, scfg, blob2);
    p = resume_early(ccfg, scfg, blob2, len2, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_accepted && got_early(&g),
          "24 s later A's record has expired: its slot is reused");
    pair_free(&p);
    client_frozen = clock_now - 24;
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    CHECK(rejected(&p, &g, rc),
          "A replayed with the ticket age it had then, after its record expired: rejected "
          "(ticket age), the handshake resumes");
    pair_free(&p);
    client_frozen = 0;
    certa_config_free(scfg);

    /* A caller's store: asked with SHA-256 of the ticket; unavailable rejects. */
    scfg = server_config(4096);
    certa_config_set_replay_store(scfg, test_store, NULL);
    store_answer = 1;
    len = first_session(ccfg, scfg, blob);
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_accepted && store_calls == 1 && store_id_len == 32,
          "a caller's store says first use: accepted (id of %zu bytes)", store_id_len);
    CHECK(store_keep == 24, "the record is to be kept 2 x (window + 1) + 2 = 24 s (%u)",
          (unsigned)store_keep);
    pair_free(&p);
    store_answer = -1;
    len = first_session(ccfg, scfg, blob);
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_rejected && g.early_n == 0 && store_calls == 2,
          "a store that is unavailable: rejected, the handshake goes on");
    pair_free(&p);
    certa_config_free(scfg);
    scfg = server_config(4096);
    certa_config_set_replay_store(scfg, test_store, NULL);
    certa_config_set_early_data_window(scfg, 1);
    store_answer = 1;
    len = first_session(ccfg, scfg, blob);
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    CHECK(store_calls == 3 && store_keep == 6, "a 1 s window: kept 6 s (%u)", (unsigned)store_keep);
    pair_free(&p);
    store_answer = 0;
    len = first_session(ccfg, scfg, blob);
    p = resume_early(ccfg, scfg, blob, len, &g, &rc);
    certa_conn_info(p.server, &si);
    CHECK(done(&p) && si.early_data_rejected && g.early_n == 0, "a store that saw it: rejected");
    pair_free(&p);
    certa_config_free(scfg);
    certa_config_free(ccfg);
}

int main(void) {
    clock_now = (int64_t)time(NULL);
    chain_opts ca = chain_ca_opts("Early Data Test Root");
    tc_make(&root, &ca, NULL);
    chain_opts s = chain_leaf_opts("localhost", "DNS:localhost,IP:127.0.0.1");
    tc_make(&server_leaf, &s, &root);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, root.pem, strlen(root.pem));

    accepted_once();
    refusals();
    too_much();
    stores();

    certa_trust_free(trust);
    tc_free(&root);
    tc_free(&server_leaf);
    TEST_EXIT();
}
