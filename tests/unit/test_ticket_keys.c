/* Session-ticket keys that rotate (src/tls/ticket_keys.c), driven by a
 * supplied clock, in TLS 1.3 and TLS 1.2: a ticket resumes under the key
 * that sealed it after a rotation, new tickets use the new key, a retired
 * key is erased (zeroized) once the tickets it sealed have expired; two
 * configs sharing a ring resume each other's tickets, two rings given the
 * same keys (a fleet's key file) too, a future-epoch key seals only from its
 * epoch; a ring without the ticket's key gives a full handshake. */
#include "certa.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"

#include <time.h>
#include "tls/ticket_keys.h"
#include "tls/tls.h"

static test_cert root, server_leaf;
static certa_trust *trust;
static uint16_t version;
static int64_t clock_now;

static int64_t test_clock(void *arg) {
    (void)arg;
    return clock_now;
}

static certa_config *server_config(certa_ticket_keys *ring) {
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, version, version);
    pair_use_identity(cfg, &server_leaf);
    certa_config_set_time_fn(cfg, test_clock, NULL);
    certa_config_set_ticket_lifetime(cfg, 300);
    if (ring) certa_config_set_ticket_keys(cfg, ring);
    return cfg;
}

static certa_config *client_config(void) {
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, version, version);
    certa_config_set_trust(cfg, trust);
    certa_config_set_time_fn(cfg, test_clock, NULL);
    return cfg;
}

/* One connection; true if both sides resumed. Tickets are pumped in. */
static bool resumes(certa_config *c, certa_config *s) {
    pair p = {certa_client_new(c, "localhost"), certa_server_new(s)};
    pair_pump(&p);
    pair_pump(&p);
    certa_info ci, si;
    bool ok = certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server) &&
              certa_conn_info(p.client, &ci) == 0 && certa_conn_info(p.server, &si) == 0;
    bool r = ok && ci.resumed && si.resumed;
    if (!ok)
        printf("# handshake failed: %s / %s\n", certa_conn_error_text(p.client),
               certa_conn_error_text(p.server));
    pair_free(&p);
    return r;
}

static const char *vname(void) {
    return version == CERTA_TLS13 ? "1.3" : "1.2";
}

static void rotation(void) {
    const int64_t t0 = (int64_t)time(NULL);
    clock_now = t0;
    certa_ticket_keys *ring = certa_ticket_keys_new(100); /* rotate every 100 s */
    certa_ticket_keys_set_time_fn(ring, test_clock, NULL);
    certa_config *s = server_config(ring), *c = client_config();
    uint8_t first[32];
    memcpy(first, ring->keys[0].key, 32);
    CHECK(!resumes(c, s) && certa_ticket_keys_count(ring) == 1, "TLS %s: a full handshake; one key",
          vname());
    clock_now += 50;
    CHECK(resumes(c, s) && certa_ticket_keys_count(ring) == 1,
          "TLS %s: 50 s later the ticket resumes; no rotation yet", vname());
    clock_now += 100;
    /* the ticket in the client's cache was sealed at +50 under the first key;
     * sealing the next ones (after this handshake) rotates */
    CHECK(resumes(c, s), "TLS %s: after the rotation is due, the old key's ticket resumes",
          vname());
    CHECK(certa_ticket_keys_count(ring) == 2 && memcmp(ring->keys[1].key, first, 32) != 0,
          "TLS %s: ... and a second key now seals (2 keys)", vname());
    clock_now += 10;
    CHECK(resumes(c, s), "TLS %s: a ticket sealed under the new key resumes", vname());
    /* the first key retired at +150; its tickets (300 s) are over at +450 */
    clock_now = t0 + 449;
    resumes(c, s);
    bool still = false;
    for (size_t i = 0; i < ring->count; i++)
        still |= !memcmp(ring->keys[i].key, first, 32);
    CHECK(still, "TLS %s: the retired key is kept while its tickets may live", vname());
    clock_now = t0 + 451;
    resumes(c, s);
    still = false;
    for (size_t i = 0; i < ring->count; i++)
        still |= !memcmp(ring->keys[i].key, first, 32);
    bool zeroed = true; /* the slots past the count hold nothing */
    for (size_t i = ring->count; i < TICKET_KEYS_MAX; i++)
        for (size_t b = 0; b < 32; b++)
            zeroed &= ring->keys[i].key[b] == 0;
    CHECK(!still && zeroed, "TLS %s: once they have expired it is erased (zeroized)", vname());
    certa_config_free(s);
    certa_config_free(c);
    certa_ticket_keys_free(ring);
}

static void sharing(void) {
    clock_now = (int64_t)time(NULL);
    /* two configs, one ring: a reload keeps resumption */
    certa_ticket_keys *ring = certa_ticket_keys_new(0);
    certa_config *a = server_config(ring), *b = server_config(ring), *c = client_config();
    resumes(c, a);
    CHECK(resumes(c, b), "TLS %s: a ticket from config A resumes on config B (one ring)", vname());
    certa_config_free(a);
    certa_config_free(b);
    certa_config_free(c);
    certa_ticket_keys_free(ring);

    /* two rings given the same keys (a fleet's key file), one still in the future */
    uint8_t keys[2][32];
    for (int i = 0; i < 32; i++) {
        keys[0][i] = (uint8_t)i;
        keys[1][i] = (uint8_t)(0xA0 + i);
    }
    int64_t epochs[2] = {clock_now - 1000, clock_now + 60};
    certa_ticket_keys *r1 = certa_ticket_keys_new(0), *r2 = certa_ticket_keys_new(0);
    CHECK(certa_ticket_keys_set(r1, (const uint8_t(*)[32])keys, epochs, 2) == CERTA_OK &&
              certa_ticket_keys_set(r2, (const uint8_t(*)[32])keys, epochs, 2) == CERTA_OK &&
              certa_ticket_keys_count(r1) == 2,
          "TLS %s: two rings get the same two keys", vname());
    a = server_config(r1);
    b = server_config(r2);
    c = client_config();
    resumes(c, a);
    CHECK(resumes(c, b), "TLS %s: a ticket from process A resumes on process B (same keys)",
          vname());
    ticket_key k;
    CHECK(ticket_keys_sealing(r1, clock_now, 300, &k) == 0 && !memcmp(k.key, keys[0], 32),
          "TLS %s: the key whose epoch is still ahead does not seal yet", vname());
    CHECK(ticket_keys_sealing(r1, clock_now + 61, 300, &k) == 0 && !memcmp(k.key, keys[1], 32),
          "TLS %s: from its epoch on it does", vname());
    uint8_t bad[1][32];
    int64_t one = 0;
    CHECK(certa_ticket_keys_set(r1, (const uint8_t(*)[32])keys, epochs, 0) ==
                  CERTA_E_INVALID_ARGUMENT &&
              certa_ticket_keys_set(r1, (const uint8_t(*)[32])bad, &one, TICKET_KEYS_MAX + 1) ==
                  CERTA_E_INVALID_ARGUMENT &&
              certa_ticket_keys_count(r1) == 2,
          "TLS %s: no keys, or more than %d, are refused and change nothing", vname(),
          TICKET_KEYS_MAX);
    certa_config_free(a);
    certa_config_free(b);
    certa_config_free(c);

    /* a ring that lacks the ticket's key: a full handshake, not a failure */
    a = server_config(r1);
    certa_ticket_keys *other = certa_ticket_keys_new(0);
    b = server_config(other);
    c = client_config();
    resumes(c, a);
    pair p = {certa_client_new(c, "localhost"), certa_server_new(b)};
    pair_pump(&p);
    certa_info si;
    CHECK(certa_conn_handshake_done(p.server) && certa_conn_info(p.server, &si) == 0 && !si.resumed,
          "TLS %s: a ticket under a key this ring does not hold: a full handshake", vname());
    pair_free(&p);
    certa_config_free(a);
    certa_config_free(b);
    certa_config_free(c);
    certa_ticket_keys_free(r1);
    certa_ticket_keys_free(r2);
    certa_ticket_keys_free(other);
}

static void defaults(void) {
    certa_config *cfg = certa_config_new();
    CHECK(cfg->ticket_keys && cfg->ticket_keys->rotate_every == 6 * 3600 &&
              certa_ticket_keys_count(cfg->ticket_keys) == 1,
          "a config's own ring: one key, rotating every 6 h");
    certa_config_set_ticket_rotation(cfg, 0);
    CHECK(cfg->ticket_keys->rotate_every == 0, "set_ticket_rotation 0: never");
    uint8_t key[32] = {1};
    CHECK(certa_config_set_ticket_key(cfg, key) == CERTA_OK &&
              certa_ticket_keys_count(cfg->ticket_keys) == 1 &&
              !memcmp(cfg->ticket_keys->keys[0].key, key, 32) &&
              cfg->ticket_keys->rotate_every == 0,
          "set_ticket_key: that key alone, not rotating");
    CHECK(certa_ticket_keys_rotate(cfg->ticket_keys) == CERTA_OK &&
              certa_ticket_keys_count(cfg->ticket_keys) == 2,
          "rotate adds a key");
    certa_config_free(cfg);
}

int main(void) {
    chain_opts ca = chain_ca_opts("Ticket Keys Root");
    tc_make(&root, &ca, NULL);
    chain_opts l = chain_leaf_opts("localhost", "DNS:localhost");
    tc_make(&server_leaf, &l, &root);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, root.pem, strlen(root.pem));
    defaults();
    version = CERTA_TLS13;
    rotation();
    sharing();
    version = CERTA_TLS12;
    rotation();
    sharing();
    certa_trust_free(trust);
    tc_free(&server_leaf);
    tc_free(&root);
    TEST_EXIT();
}
