/* 0-RTT early data (RFC 8446 §2.3, §4.2.10, §8): the server's decision
 * (ticket, suite, ALPN, ticket age, anti-replay), EndOfEarlyData both ways,
 * the client's early key and writes, and the built-in anti-replay store —
 * a fixed table keyed by SHA-256 of the ticket, each entry kept for twice
 * the freshness window (a replay after that fails the ticket-age check), so
 * a ClientHello's early data is accepted at most once. */
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>

/* ---- the built-in anti-replay store ---- */

typedef struct replay_entry {
    uint8_t id[32];
    int64_t expires; /* config time; <= now: free */
} replay_entry;      /* 40 bytes: the per-entry cost certa.h states */

struct replay_store {
    unsigned cap;     /* entries: buckets x width */
    unsigned width;   /* entries per bucket */
    unsigned buckets; /* >= 1 */
    replay_entry e[];
};

/* Two buckets of REPLAY_BUCKET entries an id may live in (two independent
 * parts of its hash), and a new id goes to the emptier one: the default
 * table then takes ~75 % of its entries before an insert first finds no
 * room (one run of 16 slots from the hash: 30-45 %, bench/RESULTS.md). A
 * lookup reads 16 entries either way. */
#define REPLAY_BUCKET 8

void early_store_free(certa_config *cfg) {
    if (!cfg->replay) return;
    crypto_zero(cfg->replay->e, cfg->replay->cap * sizeof cfg->replay->e[0]);
    free(cfg->replay);
    cfg->replay = NULL;
}

static struct replay_store *replay_store_new(unsigned capacity) {
    unsigned width = capacity < REPLAY_BUCKET ? capacity : REPLAY_BUCKET;
    unsigned buckets = capacity / width, cap = buckets * width;
    struct replay_store *st = calloc(1, sizeof *st + cap * sizeof st->e[0]);
    if (!st) return NULL;
    st->cap = cap;
    st->width = width;
    st->buckets = buckets;
    return st;
}

static uint64_t id_part(const uint8_t *id) {
    uint64_t h = 0;
    for (int i = 0; i < 8; i++)
        h = h << 8 | id[i];
    return h;
}

/* Looks id up in a bucket: true if live there; *free_n counts the bucket's
 * free (expired) entries, *free_slot is the first. */
static bool bucket_scan(struct replay_store *st, uint64_t b, const uint8_t id[32], int64_t t,
                        replay_entry **free_slot, unsigned *free_n) {
    replay_entry *e = &st->e[b * st->width];
    *free_slot = NULL;
    *free_n = 0;
    for (unsigned i = 0; i < st->width; i++, e++) {
        if (e->expires > t) {
            if (!memcmp(e->id, id, 32)) return true;
        } else if ((*free_n)++ == 0) {
            *free_slot = e;
        }
    }
    return false;
}

int early_replay_builtin(certa_config *cfg, const uint8_t id[32], uint32_t keep, int64_t t) {
    pthread_mutex_lock(&cfg->replay_lock);
    struct replay_store *st = cfg->replay;
    if (!st && cfg->replay_capacity > 0 && (st = replay_store_new(cfg->replay_capacity)))
        cfg->replay = st;
    int r = -1;
    if (st) {
        uint64_t b1 = id_part(id) % st->buckets, b2 = id_part(id + 8) % st->buckets;
        replay_entry *f1, *f2;
        unsigned n1, n2 = 0;
        if (bucket_scan(st, b1, id, t, &f1, &n1) ||
            (b2 != b1 && bucket_scan(st, b2, id, t, &f2, &n2))) {
            r = 0;
        } else {
            replay_entry *slot = b2 != b1 && n2 > n1 ? f2 : f1;
            if (slot) { /* else both full: fail closed */
                memcpy(slot->id, id, 32);
                slot->expires = t + (int64_t)keep;
                r = 1;
            }
        }
    }
    pthread_mutex_unlock(&cfg->replay_lock);
    return r;
}

void certa_config_set_replay_store(certa_config *cfg, certa_replay_check_fn fn, void *arg) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->replay_fn = fn;
    cfg->replay_arg = arg;
}

void certa_config_set_replay_capacity(certa_config *cfg, unsigned entries) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->replay_capacity = entries > (1u << 24) ? 1u << 24 : entries;
}

void certa_config_set_max_early_data(certa_config *cfg, uint32_t bytes) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->max_early_data = bytes > MAX_EARLY_DATA ? MAX_EARLY_DATA : bytes;
}

void certa_config_set_early_data_window(certa_config *cfg, uint32_t seconds) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->early_age_window = seconds ? seconds : 1;
}

/* ---- server ---- */

/* Why early data cannot be accepted, or NULL (then it is recorded as used). */
static const char *early_refusal(certa_conn *c, const early_offer *o) {
    certa_config *cfg = c->cfg;
    const session_state *s = &o->s;
    if (!cfg->max_early_data) return "early data is off on this server";
    if (!c->resumed) return "its session ticket was not used";
    if (c->psk_index != 0) return "the ticket used is not the first one offered";
    if (c->hello_retry) return "a HelloRetryRequest was needed";
    if (!s->max_early_data) return "its ticket does not allow early data";
    if (s->suite != c->suite->id) return "the cipher suite differs from the ticket's";
    if (strcmp(s->alpn, c->alpn)) return "the ALPN protocol differs from the ticket's";
    if (strcasecmp(s->server_name, c->server_name)) return "the server name differs";
    int64_t t = cfg->time_fn(cfg->time_arg);
    /* §8.3: the client's view of the ticket's age against ours (ours in
     * whole seconds: one more second of slack). */
    int64_t client_ms = (int64_t)(uint32_t)(o->obfuscated_age - s->age_add);
    int64_t server_ms = (t - s->issued) * 1000;
    int64_t window_ms = ((int64_t)cfg->early_age_window + 1) * 1000;
    if (client_ms - server_ms > window_ms || server_ms - client_ms > window_ms)
        return "the client's ticket age is not fresh (a replayed or delayed ClientHello)";
    /* The record need outlive only the window: a ClientHello carries a
     * fixed ticket age, so its replay passes the check above for at most
     * 2 x (window + 1) s after it was first accepted (+1 s: whole seconds
     * here, real time in a shared store), and the ticket's expiry bounds it
     * too. */
    int64_t left = s->issued + (int64_t)s->lifetime - t;
    int64_t fresh = 2 * ((int64_t)cfg->early_age_window + 1) + 2;
    uint32_t keep = left < 1 ? 1 : (uint32_t)(left < fresh ? left : fresh);
    int r = cfg->replay_fn
                ? cfg->replay_fn(cfg->replay_arg, o->ticket_id, sizeof o->ticket_id, keep)
                : early_replay_builtin(cfg, o->ticket_id, keep, t);
    if (r == 0) return "this ticket's early data was accepted before (a replay)";
    if (r != 1) return "the anti-replay store is full or unavailable";
    return NULL;
}

/* Rejected early data is skipped unread: as much as the ticket could have
 * allowed, with each record's overhead, or the usual budget. */
static uint32_t skip_budget(const certa_config *cfg) {
    return EARLY_DATA_SKIP_MAX + cfg->max_early_data + cfg->max_early_data / 64;
}

int early_server_decide(certa_conn *c, const early_offer *o) {
    if (!o->offered) return 0;
    const char *why = early_refusal(c, o);
    if (why) {
        c->early_rejected = true;
        c->early_skip_left = skip_budget(c->cfg);
        conn_trace(c, "  early data rejected: %s: skipping it, 1-RTT handshake", why);
        return 0;
    }
    uint8_t th[CRYPTO_MAX_HASH];
    int r = transcript_hash(c, th);
    if (!r) r = ks_client_early_secret(c->suite->hash, c->psk, th, c->client_early_secret);
    if (!r) r = keylog_tls13_early(c, c->suite->hash, c->psk, th);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->early_accepted = true;
    c->early_skip_left = 0;
    c->early_left =
        c->cfg->max_early_data < o->s.max_early_data ? c->cfg->max_early_data : o->s.max_early_data;
    conn_trace(c, "  early data accepted (up to %u bytes)", (unsigned)c->early_left);
    return 0;
}

int early_on_end_of_early_data(certa_conn *c, const uint8_t *msg, size_t len) {
    if (len != 4)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed EndOfEarlyData");
    int r = transcript_add(c, msg, len);
    if (!r) r = conn_set_rx(c, c->client_hs_secret);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    crypto_zero(c->client_early_secret, sizeof c->client_early_secret);
    conn_trace(c, "< EndOfEarlyData (%zu bytes of early data)", c->early_bytes);
    c->state = ST_SERVER_WAIT_FINISHED;
    return 0;
}

/* ---- client ---- */

bool early_client_offers(const certa_conn *c) {
    return c->cfg->max_early_data > 0 && !c->hello_retry && c->offered &&
           c->offered->max_early_data > 0;
}

int early_client_start(certa_conn *c) {
    const session_state *s = c->offered;
    const cipher_suite *suite = cipher_suite_find(s->suite);
    uint8_t th[CRYPTO_MAX_HASH];
    /* Before ServerHello the transcript is the ClientHello alone. */
    int r =
        hash_oneshot(suite->hash, c->first_hello, c->first_hello_len, th) == 0 ? 0 : CERTA_E_CRYPTO;
    if (!r) r = ks_client_early_secret(suite->hash, s->psk, th, c->client_early_secret);
    if (!r) r = keylog_tls13_early(c, suite->hash, s->psk, th);
    /* Compatibility mode: the ChangeCipherSpec right after the ClientHello
     * when early data follows (§D.4). */
    if (!r) r = conn_send_ccs(c);
    if (!r) r = record_set_secret(&c->tx, suite->aead, suite->hash, c->client_early_secret);
    if (r) return conn_fail(c, r, ALERT_NONE, NULL);
    c->early_offered = true;
    c->early_left =
        c->cfg->max_early_data < s->max_early_data ? c->cfg->max_early_data : s->max_early_data;
    return 0;
}

int early_client_end(certa_conn *c) {
    const cipher_suite *suite = c->suite;
    int r = record_set_secret(&c->tx, suite->aead, suite->hash, c->client_early_secret);
    c->tx.seq = c->early_seq;
    static const uint8_t empty[1];
    if (!r) r = conn_send_handshake(c, HS_END_OF_EARLY_DATA, empty, 0);
    if (!r) r = conn_set_tx(c, c->client_hs_secret);
    crypto_zero(c->client_early_secret, sizeof c->client_early_secret);
    if (!r) conn_trace(c, "> EndOfEarlyData (%zu bytes of early data accepted)", c->early_bytes);
    return r;
}

size_t certa_conn_early_allowed(const certa_conn *c) {
    if (!c || c->is_server || !c->early_offered || c->state != ST_CLIENT_WAIT_SH || c->hello_retry)
        return 0;
    return c->early_left;
}

int certa_conn_write_early(certa_conn *c, const uint8_t *data, size_t len) {
    if (!c || (!data && len)) return CERTA_E_INVALID_ARGUMENT;
    if (c->state == ST_FAILED) return c->error;
    if (len > certa_conn_early_allowed(c) || !certa_conn_early_allowed(c)) return CERTA_E_STATE;
    if (len == 0) return 0;
    int r = record_write(&c->tx, &c->out, CONTENT_APPLICATION_DATA, data, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->early_left -= (uint32_t)len;
    c->early_bytes += len;
    c->early_seq = c->tx.seq;
    return 0;
}
