/* Session resumption state: the encoding shared by server tickets and
 * client-stored sessions, ticket sealing under the config's key, the
 * client's per-server-name cache, and the NewSessionTicket message both
 * ways. The handshake side (offering and accepting a PSK) is in client.c
 * and server.c. */
#include "tls/ticket_keys.h"
#include "tls/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Format of an encoded session; bumped when the layout changes so an old
 * stored session is refused (a full handshake) rather than misread. */
#define SESSION_FORMAT 3
/* Times in a session are Unix seconds up to the end of year 9999; larger
 * values (or negative ones, read as unsigned) would overflow the age and
 * expiry arithmetic (client.c put_psk_extensions, session_unusable). */
#define SESSION_MAX_TIME 253402300799ULL
/* Tickets are nonce || AES-256-GCM(session) || tag, with this as AAD. */
static const uint8_t ticket_aad[] = "certa ticket 1";

static void put_str8(builder *b, const char *s) {
    size_t n = strlen(s);
    bld_u8(b, (uint8_t)(n > 255 ? 255 : n));
    bld_bytes(b, s, n > 255 ? 255 : n);
}

static void put_str16(builder *b, const char *s) {
    size_t n = strlen(s);
    bld_u16(b, (uint16_t)n);
    bld_bytes(b, s, n);
}

/* A string field into a fixed array: must fit with its terminator and
 * hold no NUL. */
static bool get_str(cursor *c, bool wide, char *out, size_t cap) {
    cursor v;
    if (!(wide ? cur_vec16(c, &v) : cur_vec8(c, &v))) return false;
    if (v.len >= cap || memchr(v.data, 0, v.len)) return false;
    memcpy(out, v.data, v.len);
    out[v.len] = 0;
    return true;
}

void session_encode(builder *b, const session_state *s) {
    const certa_peer_identity *p = &s->peer;
    bld_u8(b, SESSION_FORMAT);
    bld_u16(b, s->suite);
    bld_u64(b, (uint64_t)s->auth_time);
    bld_u64(b, (uint64_t)s->issued);
    bld_u32(b, s->lifetime);
    bld_u32(b, s->age_add);
    bld_u8(b, s->psk_len);
    bld_bytes(b, s->psk, s->psk_len);
    put_str8(b, s->server_name);
    bld_u8(b, (uint8_t)((p->present ? 1 : 0) | (p->verified ? 2 : 0) | (s->ems ? 4 : 0) |
                        (s->name_matched ? 8 : 0)));
    bld_u64(b, (uint64_t)p->not_after);
    put_str8(b, p->spiffe_id);
    put_str16(b, p->dns_names);
    put_str8(b, p->subject);
    put_str8(b, p->issuer);
    put_str8(b, p->spki_sha256);
    bld_u32(b, s->max_early_data);
    put_str8(b, s->alpn);
    bld_u16(b, (uint16_t)s->ticket_len);
    bld_bytes(b, s->ticket, s->ticket_len);
}

int session_decode(const uint8_t *data, size_t len, session_state *s) {
    memset(s, 0, sizeof *s);
    cursor c, psk, ticket;
    cur_init(&c, data, len);
    uint8_t format, flags;
    uint64_t auth_time, issued, not_after;
    certa_peer_identity *p = &s->peer;
    if (!cur_u8(&c, &format) || format != SESSION_FORMAT || !cur_u16(&c, &s->suite) ||
        !cur_u64(&c, &auth_time) || !cur_u64(&c, &issued) || !cur_u32(&c, &s->lifetime) ||
        !cur_u32(&c, &s->age_add) || !cur_vec8(&c, &psk) ||
        !get_str(&c, false, s->server_name, sizeof s->server_name) || !cur_u8(&c, &flags) ||
        !cur_u64(&c, &not_after) || !get_str(&c, false, p->spiffe_id, sizeof p->spiffe_id) ||
        !get_str(&c, true, p->dns_names, sizeof p->dns_names) ||
        !get_str(&c, false, p->subject, sizeof p->subject) ||
        !get_str(&c, false, p->issuer, sizeof p->issuer) ||
        !get_str(&c, false, p->spki_sha256, sizeof p->spki_sha256) ||
        !cur_u32(&c, &s->max_early_data) || !get_str(&c, false, s->alpn, sizeof s->alpn) ||
        !cur_vec16(&c, &ticket) || !cur_empty(&c))
        goto bad;
    const cipher_suite *suite = cipher_suite_find(s->suite);
    /* TLS 1.3: a PSK of the suite's hash length; TLS 1.2: the master secret. */
    size_t secret_len = suite && suite->version == CERTA_TLS12 ? TLS12_MASTER_LEN
                        : suite                                ? hash_len(suite->hash)
                                                               : 0;
    if (!suite || psk.len != secret_len || flags > 15 || s->lifetime == 0 ||
        s->lifetime > MAX_TICKET_LIFETIME || auth_time > SESSION_MAX_TIME ||
        issued > SESSION_MAX_TIME)
        goto bad;
    memcpy(s->psk, psk.data, psk.len);
    s->psk_len = (uint8_t)psk.len;
    s->auth_time = (int64_t)auth_time;
    s->issued = (int64_t)issued;
    p->present = flags & 1;
    p->verified = (flags & 2) != 0;
    p->not_after = (int64_t)not_after;
    s->ems = (flags & 4) != 0;
    s->name_matched = (flags & 8) != 0;
    s->ticket = ticket.len ? ticket.data : NULL;
    s->ticket_len = ticket.len;
    return 0;
bad:
    crypto_zero(s, sizeof *s);
    return -1;
}

/* A ticket: the sealing key's id, a nonce, and the session state sealed
 * with AES-256-GCM under that key. */
int ticket_seal(const certa_config *cfg, const session_state *s, builder *b) {
    ticket_key key;
    if (!cfg->ticket_keys || ticket_keys_sealing(cfg->ticket_keys, cfg->time_fn(cfg->time_arg),
                                                 cfg->ticket_lifetime, &key) != 0)
        return -1;
    builder plain;
    bld_init_alloc(&plain, 512);
    session_state copy = *s;
    copy.ticket = NULL;
    copy.ticket_len = 0;
    session_encode(&plain, &copy);
    crypto_zero(&copy, sizeof copy);
    uint8_t nonce[CRYPTO_AEAD_NONCE];
    aead_ctx aead = {0};
    int r = -1;
    if (bld_ok(&plain) && config_random(cfg, nonce, sizeof nonce) == 0 &&
        aead_init(&aead, AEAD_AES256GCM, key.key, true) == 0) {
        bld_bytes(b, key.id, sizeof key.id);
        bld_bytes(b, nonce, sizeof nonce);
        uint8_t *out = bld_reserve(b, plain.len + CRYPTO_AEAD_TAG);
        if (out &&
            aead_seal(&aead, nonce, ticket_aad, sizeof ticket_aad, plain.buf, plain.len, out) == 0)
            r = 0;
    }
    aead_free(&aead);
    crypto_zero(&key, sizeof key);
    bld_free(&plain); /* zeroizes: it held the PSK */
    return r;
}

int ticket_open(const certa_config *cfg, const uint8_t *ticket, size_t len, session_state *s) {
    const size_t head = TICKET_KEY_ID + CRYPTO_AEAD_NONCE;
    ticket_key key;
    if (!cfg->ticket_keys || len < head + CRYPTO_AEAD_TAG + 1 || len > 4096 ||
        ticket_keys_find(cfg->ticket_keys, ticket, cfg->time_fn(cfg->time_arg),
                         cfg->ticket_lifetime, &key) != 0) /* rotated out, or not ours */
        return -1;
    size_t plain_len = len - head - CRYPTO_AEAD_TAG;
    uint8_t *plain = malloc(plain_len + CRYPTO_AEAD_TAG);
    if (!plain) {
        crypto_zero(&key, sizeof key);
        return -1;
    }
    aead_ctx aead = {0};
    int r = -1;
    if (aead_init(&aead, AEAD_AES256GCM, key.key, false) == 0 &&
        aead_open(&aead, ticket + TICKET_KEY_ID, ticket_aad, sizeof ticket_aad, ticket + head,
                  len - head, plain) == 0 &&
        session_decode(plain, plain_len, s) == 0 && s->ticket_len == 0)
        r = 0;
    aead_free(&aead);
    crypto_zero(&key, sizeof key);
    crypto_zero(plain, plain_len + CRYPTO_AEAD_TAG);
    free(plain);
    if (r) crypto_zero(s, sizeof *s);
    return r;
}

/* ---- the client's cache ---- */

static void entry_clear(session_cache_entry *e) {
    if (e->blob) {
        crypto_zero(e->blob, e->len);
        free(e->blob);
    }
    memset(e, 0, sizeof *e);
}

void session_cache_put(certa_config *cfg, const char *name, const uint8_t *blob, size_t len) {
    session_cache *sc = &cfg->cache;
    if (sc->cap == 0 || !name[0] || strlen(name) >= sizeof sc->entries[0].name) return;
    uint8_t *copy = malloc(len);
    if (!copy) return;
    memcpy(copy, blob, len);
    pthread_mutex_lock(&sc->lock);
    if (!sc->entries) sc->entries = calloc(sc->cap, sizeof *sc->entries);
    if (!sc->entries) {
        pthread_mutex_unlock(&sc->lock);
        crypto_zero(copy, len);
        free(copy);
        return;
    }
    /* The slot to use: a free one, else the oldest of this name once it
     * has its share, else the oldest overall. */
    session_cache_entry *free_slot = NULL, *oldest = NULL, *oldest_same = NULL;
    unsigned same = 0;
    for (unsigned i = 0; i < sc->cap; i++) {
        session_cache_entry *e = &sc->entries[i];
        if (!e->blob) {
            if (!free_slot) free_slot = e;
            continue;
        }
        if (!oldest || e->seq < oldest->seq) oldest = e;
        if (!strcasecmp(e->name, name)) {
            same++;
            if (!oldest_same || e->seq < oldest_same->seq) oldest_same = e;
        }
    }
    session_cache_entry *slot = same >= SESSION_CACHE_PER_NAME ? oldest_same
                                : free_slot                    ? free_slot
                                                               : oldest;
    entry_clear(slot);
    strcpy(slot->name, name);
    slot->blob = copy;
    slot->len = len;
    slot->seq = ++sc->seq;
    pthread_mutex_unlock(&sc->lock);
}

uint8_t *session_cache_take(certa_config *cfg, const char *name, size_t *len) {
    session_cache *sc = &cfg->cache;
    if (sc->cap == 0 || !name || !name[0]) return NULL;
    pthread_mutex_lock(&sc->lock);
    session_cache_entry *best = NULL;
    for (unsigned i = 0; sc->entries && i < sc->cap; i++) {
        session_cache_entry *e = &sc->entries[i];
        if (e->blob && !strcasecmp(e->name, name) && (!best || e->seq > best->seq)) best = e;
    }
    uint8_t *blob = NULL;
    if (best) {
        blob = best->blob;
        *len = best->len;
        best->blob = NULL; /* ownership moves to the caller */
        entry_clear(best);
    }
    pthread_mutex_unlock(&sc->lock);
    return blob;
}

void session_cache_clear(session_cache *sc) {
    for (unsigned i = 0; sc->entries && i < sc->cap; i++)
        entry_clear(&sc->entries[i]);
    free(sc->entries);
    sc->entries = NULL;
}

/* ---- NewSessionTicket ---- */

static int64_t now(const certa_conn *c) {
    return c->cfg->time_fn(c->cfg->time_arg);
}

/* How long tickets from this handshake may live: the configured lifetime,
 * counted from the full handshake that verified the peer, and never past
 * the peer certificate's expiry. 0 = issue none. */
static uint32_t ticket_lifetime(const certa_conn *c, int64_t t) {
    int64_t end = c->auth_time + (int64_t)c->cfg->ticket_lifetime;
    if (c->peer.present && c->peer.not_after < end) end = c->peer.not_after;
    if (end <= t) return 0;
    int64_t left = end - t;
    return left > MAX_TICKET_LIFETIME ? MAX_TICKET_LIFETIME : (uint32_t)left;
}

int send_session_tickets(certa_conn *c) {
    const certa_config *cfg = c->cfg;
    if (cfg->tickets == 0 || !cfg->ticket_keys) return 0;
    int64_t t = now(c);
    uint32_t lifetime = ticket_lifetime(c, t);
    if (lifetime == 0) return 0;
    hash_alg h = c->suite->hash;
    uint8_t rms[CRYPTO_MAX_HASH];
    if (ks_resumption_secret(c, rms) != 0) return CERTA_E_CRYPTO;
    session_state s;
    memset(&s, 0, sizeof s);
    s.suite = c->suite->id;
    s.auth_time = c->auth_time;
    s.issued = t;
    s.lifetime = lifetime;
    s.psk_len = (uint8_t)hash_len(h);
    snprintf(s.server_name, sizeof s.server_name, "%s", c->server_name);
    s.name_matched = c->cert_name != NULL;
    s.peer = c->peer;
    s.max_early_data = cfg->max_early_data;
    snprintf(s.alpn, sizeof s.alpn, "%s", c->alpn);
    builder msg;
    bld_init_alloc(&msg, 512);
    int r = 0;
    for (unsigned i = 0; i < cfg->tickets && !r; i++) {
        uint8_t nonce = (uint8_t)i, age_add[4];
        r = config_random(cfg, age_add, 4);
        if (r) break;
        s.age_add = (uint32_t)age_add[0] << 24 | (uint32_t)age_add[1] << 16 |
                    (uint32_t)age_add[2] << 8 | age_add[3];
        if (ks_ticket_psk(h, rms, &nonce, 1, s.psk) != 0) {
            r = CERTA_E_CRYPTO;
            break;
        }
        msg.len = 0;
        bld_u8(&msg, HS_NEW_SESSION_TICKET);
        bld_open(&msg, 3);
        bld_u32(&msg, lifetime);
        bld_u32(&msg, s.age_add);
        bld_u8(&msg, 1);
        bld_u8(&msg, nonce);
        bld_open(&msg, 2);
        if (ticket_seal(cfg, &s, &msg) != 0) {
            r = CERTA_E_CRYPTO;
            break;
        }
        bld_close(&msg);
        bld_open(&msg, 2);
        if (cfg->max_early_data) { /* early_data (§4.2.10): max_early_data_size */
            bld_u16(&msg, EXT_EARLY_DATA);
            bld_u16(&msg, 4);
            bld_u32(&msg, cfg->max_early_data);
        }
        bld_close(&msg);
        bld_close(&msg);
        r = bld_ok(&msg) ? record_write(&c->tx, &c->out, CONTENT_HANDSHAKE, msg.buf, msg.len)
                         : CERTA_E_NOMEM;
    }
    bld_free(&msg);
    crypto_zero(rms, sizeof rms);
    crypto_zero(&s, sizeof s);
    if (!r)
        conn_trace(c, "> NewSessionTicket x%u (lifetime %us)", cfg->tickets, (unsigned)lifetime);
    return r;
}

int on_new_session_ticket(certa_conn *c, cursor *body) {
    uint32_t lifetime, age_add;
    cursor nonce, ticket, exts;
    if (!cur_u32(body, &lifetime) || !cur_u32(body, &age_add) || !cur_vec8(body, &nonce) ||
        !cur_vec16(body, &ticket) || ticket.len == 0 || !cur_vec16(body, &exts) || !cur_empty(body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed NewSessionTicket");
    ext_list list;
    if (ext_parse(c, "NewSessionTicket", &exts, &list) != 0) return c->error;
    if (lifetime == 0 || ticket.len > 4096) {
        conn_trace(c, "< NewSessionTicket (%s: not kept)",
                   lifetime == 0 ? "lifetime 0" : "ticket over 4 KiB");
        return 0;
    }
    if (lifetime > MAX_TICKET_LIFETIME) lifetime = MAX_TICKET_LIFETIME; /* §4.6.1 */
    uint32_t max_early = 0;
    const cursor *ed = ext_find(&list, EXT_EARLY_DATA);
    if (ed) {
        cursor e = *ed;
        if (!cur_u32(&e, &max_early) || !cur_empty(&e))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed early_data in NewSessionTicket");
    }
    session_state s;
    memset(&s, 0, sizeof s);
    s.max_early_data = max_early;
    snprintf(s.alpn, sizeof s.alpn, "%s", c->alpn);
    s.suite = c->suite->id;
    s.auth_time = c->auth_time;
    s.issued = now(c);
    s.lifetime = lifetime;
    s.age_add = age_add;
    s.psk_len = (uint8_t)hash_len(c->suite->hash);
    snprintf(s.server_name, sizeof s.server_name, "%s", c->server_name);
    s.peer = c->peer;
    s.ticket = ticket.data;
    s.ticket_len = ticket.len;
    builder b;
    bld_init_alloc(&b, 512 + ticket.len);
    int r = ks_ticket_psk(c->suite->hash, c->resumption_secret, nonce.data, nonce.len, s.psk);
    if (!r) session_encode(&b, &s);
    crypto_zero(&s, sizeof s);
    if (r || !bld_ok(&b)) {
        bld_free(&b);
        return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    }
    if (c->session) {
        crypto_zero(c->session, c->session_len);
        free(c->session);
    }
    c->session = bld_take(&b, &c->session_len);
    session_cache_put(c->cfg, c->server_name, c->session, c->session_len);
    c->ticket_lifetime = lifetime;
    conn_trace(c, "< NewSessionTicket (lifetime %us%s%s)", lifetime,
               max_early ? ", allows early data" : "",
               c->cfg->cache.cap && c->server_name[0] ? ", kept for resumption" : "");
    return 0;
}

/* ---- TLS 1.2 (RFC 5077): the ticket carries the master secret ---- */

/* Why a ticket this server sealed cannot resume this connection in
 * version, or NULL: the same identity rules for TLS 1.3 PSKs and TLS 1.2
 * tickets, so a session never crosses versions. */
const char *ticket_unusable(const certa_conn *c, const session_state *s, uint16_t version) {
    const certa_config *cfg = c->cfg;
    int64_t t = now(c);
    const cipher_suite *suite = cipher_suite_find(s->suite);
    if (!suite || suite->version != version) return "it was made for another TLS version";
    if (version == CERTA_TLS13 && suite->hash != c->suite->hash)
        return "it was made with another hash";
    if (version == CERTA_TLS12) {
        bool allowed = false;
        for (size_t i = 0; i < cfg->cipher12_count; i++)
            allowed = allowed || cfg->ciphers12[i] == s->suite;
        if (!allowed) return "its cipher suite is no longer allowed";
    }
    if (t >= s->issued + (int64_t)s->lifetime || t >= s->auth_time + (int64_t)cfg->ticket_lifetime)
        return "it expired";
    if (strcasecmp(s->server_name, c->server_name)) return "it was issued for another server name";
    /* Resuming skips our certificate, so it must still be one for the name:
     * a session made under a certificate for this SNI does not outlive it. */
    if (s->name_matched && !c->cert_name)
        return "this server no longer has a certificate for its server name";
    if (cfg->client_auth == CERTA_CLIENT_AUTH_REQUIRE && !(s->peer.present && s->peer.verified))
        return "it carries no verified client certificate, which this server requires";
    if (s->peer.present && t >= s->peer.not_after) return "the client's certificate has expired";
    /* A session skips the client's chain: once the CRLs change, the
     * certificate it was made with must be checked against them again. */
    if (s->peer.present && cfg->revocation != CERTA_REVOCATION_OFF &&
        atomic_load(&((certa_config *)cfg)->crls_changed) > s->auth_time)
        return "the CRLs changed since the client's certificate was checked";
    bool no_bundle = false;
    if (s->peer.present && s->peer.verified) spiffe_bundle_for(cfg, s->peer.spiffe_id, &no_bundle);
    if (no_bundle) return "no trust domain bundle is loaded for the SPIFFE ID it carries";
    if (!policy_allows(cfg, &s->peer)) return "the allow rules refuse the identity it carries";
    return NULL;
}

static void tls12_session_fill(certa_conn *c, session_state *s, int64_t t, uint32_t lifetime) {
    memset(s, 0, sizeof *s);
    s->suite = c->suite->id;
    s->auth_time = c->auth_time;
    s->issued = t;
    s->lifetime = lifetime;
    s->psk_len = TLS12_MASTER_LEN;
    memcpy(s->psk, c->master_secret, TLS12_MASTER_LEN);
    s->ems = c->ems;
    snprintf(s->server_name, sizeof s->server_name, "%s", c->server_name);
    s->name_matched = c->is_server && c->cert_name != NULL;
    s->peer = c->peer;
}

/* NewSessionTicket: lifetime hint, ticket; part of the handshake. A ticket
 * that cannot be made is an empty one ("none this time", §3.3). */
int tls12_send_ticket(certa_conn *c) {
    int64_t t = now(c);
    uint32_t lifetime = ticket_lifetime(c, t);
    session_state s;
    tls12_session_fill(c, &s, t, lifetime ? lifetime : 1);
    builder b;
    bld_init_alloc(&b, 512);
    bld_u32(&b, lifetime);
    bld_open(&b, 2);
    if (lifetime && ticket_seal(c->cfg, &s, &b) != 0) {
        crypto_zero(&s, sizeof s);
        bld_free(&b);
        return CERTA_E_CRYPTO;
    }
    crypto_zero(&s, sizeof s);
    bld_close(&b);
    int r =
        bld_ok(&b) ? conn_send_handshake(c, HS_NEW_SESSION_TICKET, b.buf, b.len) : CERTA_E_NOMEM;
    bld_free(&b);
    if (!r) conn_trace(c, "> NewSessionTicket (lifetime %us)", (unsigned)lifetime);
    return r;
}

int tls12_on_new_session_ticket(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body, ticket;
    uint32_t lifetime;
    cur_init(&body, msg + 4, len - 4);
    if (!c->ticket_ext || c->t12->new_ticket)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the server sent a NewSessionTicket it had not announced");
    if (!cur_u32(&body, &lifetime) || !cur_vec16(&body, &ticket) || !cur_empty(&body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed NewSessionTicket");
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    if (ticket.len == 0 || ticket.len > 4096) {
        conn_trace(c, "< NewSessionTicket (%s: not kept)",
                   ticket.len ? "ticket over 4 KiB" : "empty");
        return 0;
    }
    if (!(c->t12->new_ticket = malloc(ticket.len)))
        return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    memcpy(c->t12->new_ticket, ticket.data, ticket.len);
    c->t12->new_ticket_len = ticket.len;
    /* RFC 5077 §3.3: 0 means unspecified; keep it no longer than the 1.3 cap. */
    c->t12->new_ticket_lifetime =
        lifetime == 0 || lifetime > MAX_TICKET_LIFETIME
            ? (lifetime == 0 ? DEFAULT_TICKET_LIFETIME : MAX_TICKET_LIFETIME)
            : lifetime;
    c->ticket_lifetime = lifetime;
    conn_trace(c, "< NewSessionTicket (lifetime %us)", (unsigned)lifetime);
    return 0;
}

/* Client, once the server's Finished verified: the session to resume. */
int tls12_store_session(certa_conn *c) {
    if (!c->t12->new_ticket) {
        /* A resumption without a new ticket: the one offered stays good
         * (RFC 5077 §3.4; a TLS 1.2 ticket is reusable, it travels in clear
         * anyway), so it goes back where it came from. */
        if (!c->resumed || !c->offered) return 0;
        const uint8_t *blob = (const uint8_t *)(c->offered + 1);
        uint8_t *copy = malloc(c->offered_len);
        if (!copy) return CERTA_E_NOMEM;
        memcpy(copy, blob, c->offered_len);
        if (c->session) {
            crypto_zero(c->session, c->session_len);
            free(c->session);
        }
        c->session = copy;
        c->session_len = c->offered_len;
        session_cache_put(c->cfg, c->server_name, c->session, c->session_len);
        return 0;
    }
    session_state s;
    tls12_session_fill(c, &s, now(c), c->t12->new_ticket_lifetime);
    s.ticket = c->t12->new_ticket;
    s.ticket_len = c->t12->new_ticket_len;
    builder b;
    bld_init_alloc(&b, 512 + c->t12->new_ticket_len);
    session_encode(&b, &s);
    crypto_zero(&s, sizeof s);
    free(c->t12->new_ticket);
    c->t12->new_ticket = NULL;
    if (!bld_ok(&b)) {
        bld_free(&b);
        return CERTA_E_NOMEM;
    }
    if (c->session) {
        crypto_zero(c->session, c->session_len);
        free(c->session);
    }
    c->session = bld_take(&b, &c->session_len);
    session_cache_put(c->cfg, c->server_name, c->session, c->session_len);
    if (c->cfg->cache.cap && c->server_name[0]) conn_trace(c, "  session kept for resumption");
    return 0;
}

/* ---- public ---- */

void certa_config_set_tickets(certa_config *cfg, unsigned count) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->tickets = count > 8 ? 8 : count;
}

void certa_config_set_ticket_lifetime(certa_config *cfg, uint32_t seconds) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    if (seconds == 0) seconds = 1;
    cfg->ticket_lifetime = seconds > MAX_TICKET_LIFETIME ? MAX_TICKET_LIFETIME : seconds;
}

int certa_config_set_ticket_key(certa_config *cfg, const uint8_t key[32]) {
    CHECK_MUTABLE(cfg);
    if (!key) return CERTA_E_INVALID_ARGUMENT;
    certa_ticket_keys *ring = certa_ticket_keys_new(0); /* that key alone, not rotating */
    const int64_t epoch = 0;
    if (!ring) return CERTA_E_NOMEM;
    int rc = certa_ticket_keys_set(ring, (const uint8_t(*)[32])key, &epoch, 1);
    if (rc == CERTA_OK) rc = certa_config_set_ticket_keys(cfg, ring);
    certa_ticket_keys_free(ring); /* the config holds its own reference */
    return rc;
}

int certa_config_set_ticket_keys(certa_config *cfg, certa_ticket_keys *keys) {
    CHECK_MUTABLE(cfg);
    if (!keys) return CERTA_E_INVALID_ARGUMENT;
    ticket_keys_retain(keys);
    certa_ticket_keys_free(cfg->ticket_keys);
    cfg->ticket_keys = keys;
    return CERTA_OK;
}

void certa_config_set_ticket_rotation(certa_config *cfg, uint32_t seconds) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    certa_ticket_keys_set_rotation(cfg->ticket_keys, seconds);
}

void certa_config_set_session_cache(certa_config *cfg, unsigned tickets) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    session_cache_clear(&cfg->cache);
    cfg->cache.cap = tickets > 4096 ? 4096 : tickets;
}

int certa_conn_session(const certa_conn *c, uint8_t *buf, size_t cap, size_t *len) {
    if (!c || !len) return CERTA_E_INVALID_ARGUMENT;
    *len = c->session_len;
    if (!c->session) return CERTA_E_STATE;
    if (!buf || cap < c->session_len) return CERTA_E_INVALID_ARGUMENT;
    memcpy(buf, c->session, c->session_len);
    return CERTA_OK;
}
