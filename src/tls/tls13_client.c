/* The TLS 1.3 client: ClientHello (and its retry), then the server's
 * flight checked message by message, as the state table below says. */
#include "crypto/hpke.h"
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Last 8 bytes of a TLS 1.3 server's random when it negotiates 1.2 / 1.1- (§4.1.3). */
static const uint8_t downgrade_tls12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
static const uint8_t downgrade_tls11[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00};

static bool sends_sni(const certa_conn *c) {
    return c->server_name[0] && !is_ip_literal(c->server_name);
}

/* Is the offered session still good to offer? (After HelloRetryRequest
 * only with a suite of the same hash, §4.1.4.) */
static hash_alg offered_hash(const certa_conn *c) {
    return cipher_suite_find(c->offered->suite)->hash; /* known: session_decode checked it */
}

bool client_offers_tls13(const certa_conn *c) {
    return c->cfg->max_version >= CERTA_TLS13;
}

/* An ECH inner hello offers TLS 1.3 only (RFC 9849 §6.1), and so does the
 * outer one: a 1.2 answer could not carry the confirmation. */
bool client_offers_tls12(const certa_conn *c) {
    return c->cfg->min_version <= CERTA_TLS12 && !ech_client_offers(c);
}

static bool offered_is_tls12(const certa_conn *c) {
    return c->offered && cipher_suite_find(c->offered->suite)->version == CERTA_TLS12;
}

/* A TLS 1.3 session goes in pre_shared_key; a 1.2 one in session_ticket. */
/* No session is offered with ECH: its PSK would need a GREASE twin in the
 * outer hello (RFC 9849 §6.1.2), and there is no 0-RTT with ECH here. */
static bool offering(const certa_conn *c) {
    return c->offered && !offered_is_tls12(c) && !ech_client_offers(c) &&
           (!c->suite || c->suite->hash == offered_hash(c));
}

static void put_u16_list(builder *b, const uint16_t *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        bld_u16(b, list[i]);
}

/* signature_algorithms: 1.3's schemes, then what only 1.2 signs with (or,
 * 1.3 only, the rsa_pkcs1 schemes certificates are signed with). */
static void put_sig_schemes(const certa_conn *c, builder *b) {
    bool v13 = client_offers_tls13(c), v12 = client_offers_tls12(c);
    if (v13) put_u16_list(b, tls13_sig_schemes, tls13_sig_schemes_count);
    if (!v12) {
        put_u16_list(b, tls13_cert_only_schemes, tls13_cert_only_schemes_count);
        return;
    }
    for (size_t i = 0; i < tls12_sig_schemes_count; i++) {
        bool dup = false;
        for (size_t j = 0; v13 && j < tls13_sig_schemes_count; j++)
            dup = dup || tls13_sig_schemes[j] == tls12_sig_schemes[i];
        if (!dup) bld_u16(b, tls12_sig_schemes[i]);
    }
}

/* What a TLS 1.2 server needs to see: extended_master_secret,
 * renegotiation_info, ec_point_formats, session_ticket (with the stored
 * 1.2 session's ticket, if one is offered). */
static void put_tls12_extensions(const certa_conn *c, builder *b) {
    bld_u16(b, EXT_EXTENDED_MASTER_SECRET);
    bld_u16(b, 0);
    bld_u16(b, EXT_RENEGOTIATION_INFO);
    bld_u16(b, 1);
    bld_u8(b, 0);
    bld_u16(b, EXT_EC_POINT_FORMATS);
    bld_u16(b, 2);
    bld_u8(b, 1);
    bld_u8(b, 0); /* uncompressed */
    bld_u16(b, EXT_SESSION_TICKET);
    bld_open(b, 2);
    if (offered_is_tls12(c)) bld_bytes(b, c->offered->ticket, c->offered->ticket_len);
    bld_close(b);
}

/* psk_key_exchange_modes (psk_dhe_ke only) and pre_shared_key, which must
 * be the last extension; its binder is computed over the ClientHello up to
 * the binders and written in place (§4.2.11.2). */
static void put_psk_extensions(certa_conn *c, builder *b) {
    const session_state *s = c->offered;
    hash_alg h = offered_hash(c);
    size_t hl = hash_len(h);
    int64_t age_ms = (c->cfg->time_fn(c->cfg->time_arg) - s->issued) * 1000;
    uint32_t obfuscated = (uint32_t)(age_ms < 0 ? 0 : age_ms) + s->age_add;
    bld_u16(b, EXT_PSK_KEY_EXCHANGE_MODES);
    bld_u16(b, 2);
    bld_u8(b, 1);
    bld_u8(b, 1); /* psk_dhe_ke */
    bld_u16(b, EXT_PRE_SHARED_KEY);
    bld_open(b, 2);
    bld_open(b, 2); /* identities */
    bld_open(b, 2);
    bld_bytes(b, s->ticket, s->ticket_len);
    bld_close(b);
    bld_u32(b, obfuscated);
    bld_close(b);
    bld_open(b, 2); /* binders */
    bld_open(b, 1);
    bld_zeros(b, hl);
    bld_close(b);
    bld_close(b);
    bld_close(b);
}

static int write_binder(certa_conn *c, builder *b) {
    const session_state *s = c->offered;
    hash_alg h = offered_hash(c);
    size_t hl = hash_len(h);
    /* b holds the ClientHello body; the binders vector (2 + 1 + hl bytes)
     * ends it. The hash covers the message header with the full length. */
    size_t body_len = b->len, truncated = body_len - (3 + hl);
    uint8_t hdr[4] = {HS_CLIENT_HELLO, (uint8_t)(body_len >> 16), (uint8_t)(body_len >> 8),
                      (uint8_t)body_len};
    uint8_t th[CRYPTO_MAX_HASH];
    int r;
    if (c->th_started) {
        r = transcript_current_with(&c->th, hdr, 4, b->buf, truncated, th);
    } else {
        transcript t;
        r = transcript_init(&t, h);
        if (!r) r = transcript_current_with(&t, hdr, 4, b->buf, truncated, th);
        transcript_free(&t);
    }
    if (!r) r = ks_binder(h, s->psk, th, b->buf + body_len - hl);
    return r ? CERTA_E_CRYPTO : 0;
}

/* The classical group a first ClientHello also sends a share for when its
 * first group is a hybrid: the first ECDHE group of the list (0 if none). */
static uint16_t second_share_group(const certa_conn *c) {
    const certa_config *cfg = c->cfg;
    if (c->hello_retry || !kex_group_is_hybrid(c->group)) return 0;
    for (size_t i = 0; i < cfg->group_count; i++)
        if (!kex_group_tls13_only(cfg->groups[i])) return cfg->groups[i];
    return 0;
}

/* Which ClientHello is being written: the only one, or (ECH) the inner one
 * that carries the real SNI and ALPN, or the outer one sent in clear. */
typedef enum hello_role { HELLO_PLAIN, HELLO_INNER, HELLO_OUTER } hello_role;

typedef struct hello_shares {
    const uint8_t *pub, *pub2;
    size_t pub_len, pub2_len;
} hello_shares;

static void put_server_name(builder *b, const char *name) {
    bld_u16(b, EXT_SERVER_NAME);
    bld_open(b, 2);
    bld_open(b, 2);
    bld_u8(b, 0); /* host_name */
    bld_open(b, 2);
    bld_bytes(b, name, strlen(name));
    bld_close(b);
    bld_close(b);
    bld_close(b);
}

/* The ClientHello body for role; an outer one ends with the ECH extension
 * (payload_len zero bytes at *payload_off, sealed afterwards). */
static int put_client_hello(certa_conn *c, builder *b, hello_role role, const hello_shares *ks,
                            bool psk, bool early, size_t payload_len, size_t *payload_off) {
    const certa_config *cfg = c->cfg;
    bool v13 = client_offers_tls13(c), v12 = client_offers_tls12(c);
    bld_u16(b, 0x0303);
    bld_bytes(b, role == HELLO_OUTER ? ech_client_outer_random(c) : c->client_random, 32);
    bld_u8(b, (uint8_t)c->session_id_len);
    bld_bytes(b, c->session_id, c->session_id_len);
    bld_open(b, 2);
    if (v13) put_u16_list(b, cfg->ciphers, cfg->cipher_count);
    if (v12) put_u16_list(b, cfg->ciphers12, cfg->cipher12_count);
    bld_close(b);
    bld_u8(b, 1);
    bld_u8(b, 0); /* null compression */
    bld_open(b, 2);
    if (role == HELLO_OUTER)
        put_server_name(b, ech_client_public_name(c));
    else if (sends_sni(c))
        put_server_name(b, c->server_name);
    bld_u16(b, EXT_SUPPORTED_GROUPS);
    bld_open(b, 2);
    bld_open(b, 2);
    for (size_t i = 0; i < cfg->group_count; i++)
        bld_u16(b, cfg->groups[i]);
    bld_close(b);
    bld_close(b);
    bld_u16(b, EXT_SIGNATURE_ALGORITHMS);
    bld_open(b, 2);
    bld_open(b, 2);
    put_sig_schemes(c, b);
    bld_close(b);
    bld_close(b);
    if (v13) { /* a 1.2-only hello says 1.2 with legacy_version alone */
        bld_u16(b, EXT_SUPPORTED_VERSIONS);
        bld_open(b, 2);
        bld_open(b, 1);
        bld_u16(b, CERTA_TLS13);
        if (v12) bld_u16(b, CERTA_TLS12);
        bld_close(b);
        bld_close(b);
    }
    if (v12) put_tls12_extensions(c, b);
    /* Always asked for (as browsers do): a staple costs nothing to ask for,
     * and must-staple certificates need one (ocsp_staple.c). */
    staple_put_request(b);
    sct_put_request(cfg, b); /* with CT logs configured: signed_certificate_timestamp */
    /* Always offered (6 bytes), so that a constrained server can tell us
     * its limit (RFC 8449 allows it only in answer to the client). */
    rsl_put(b, rsl_own_value(cfg, v13 ? CERTA_TLS13 : CERTA_TLS12));
    if (cfg->alpn_wire_len && role != HELLO_OUTER) { /* the protocols are the inner hello's */
        bld_u16(b, EXT_ALPN);
        bld_open(b, 2);
        bld_open(b, 2);
        bld_bytes(b, cfg->alpn_wire, cfg->alpn_wire_len);
        bld_close(b);
        bld_close(b);
    }
    if (v13) put_cert_compression(cfg, b); /* RFC 8879 is TLS 1.3 only */
    if (c->cookie) {
        bld_u16(b, EXT_COOKIE);
        bld_open(b, 2);
        bld_open(b, 2);
        bld_bytes(b, c->cookie, c->cookie_len);
        bld_close(b);
        bld_close(b);
    }
    if (v13) {
        bld_u16(b, EXT_KEY_SHARE);
        bld_open(b, 2);
        bld_open(b, 2);
        bld_u16(b, c->group);
        bld_open(b, 2);
        bld_bytes(b, ks->pub, ks->pub_len);
        bld_close(b);
        if (c->group2) {
            bld_u16(b, c->group2);
            bld_open(b, 2);
            bld_bytes(b, ks->pub2, ks->pub2_len);
            bld_close(b);
        }
        bld_close(b);
        bld_close(b);
    }
    if (role == HELLO_INNER) ech_client_put_inner_extension(b);
    if (role == HELLO_PLAIN && c->ech &&
        ech_client_put_grease(c, b,
                              v13 ? 8 + ks->pub_len + (c->group2 ? 4 + ks->pub2_len : 0) : 0) != 0)
        return CERTA_E_NOMEM;
    if (role == HELLO_OUTER) ech_client_put_outer_extension(c, b, payload_len, payload_off);
    if (early) { /* before pre_shared_key, which ends the list */
        bld_u16(b, EXT_EARLY_DATA);
        bld_u16(b, 0);
    }
    if (psk) put_psk_extensions(c, b);
    bld_close(b); /* extensions */
    return bld_ok(b) ? 0 : CERTA_E_NOMEM;
}

/* A handshake message (header and body) in one buffer. */
static int hello_message(const builder *body, builder *msg) {
    bld_init_alloc(msg, body->len + 4);
    bld_u8(msg, HS_CLIENT_HELLO);
    bld_u24(msg, (uint32_t)body->len);
    bld_bytes(msg, body->buf, body->len);
    return bld_ok(msg) ? 0 : CERTA_E_NOMEM;
}

/* ECH: the inner hello (in inner) goes into the transcript — or, once the
 * server rejected ECH at a HelloRetryRequest, the outer one — and the outer
 * hello, carrying it sealed, onto the wire. */
static int send_ech_hellos(certa_conn *c, const builder *inner, const hello_shares *ks) {
    builder enc, outer, inner_msg, outer_msg;
    bld_init_alloc(&enc, inner->len + 64);
    bld_init_alloc(&outer, inner->len + 256);
    memset(&inner_msg, 0, sizeof inner_msg);
    memset(&outer_msg, 0, sizeof outer_msg);
    size_t payload_off = 0;
    int r = ech_client_encode_inner(c, inner->buf, inner->len, &enc);
    if (!r)
        r = put_client_hello(c, &outer, HELLO_OUTER, ks, false, false, enc.len + HPKE_TAG,
                             &payload_off);
    if (!r) r = ech_client_seal(c, outer.buf, outer.len, payload_off, &enc);
    if (!r) r = hello_message(inner, &inner_msg);
    if (!r) r = hello_message(&outer, &outer_msg);
    if (!r) r = ech_client_keep_outer(c, outer_msg.buf, outer_msg.len);
    if (!r) {
        bool outer_path = c->ech_status == CERTA_ECH_REJECTED;
        const builder *kept = outer_path ? &outer_msg : &inner_msg;
        r = transcript_add(c, kept->buf, kept->len);
    }
    if (!r) r = record_write(&c->tx, &c->out, CONTENT_HANDSHAKE, outer_msg.buf, outer_msg.len);
    bld_free(&enc);
    bld_free(&outer);
    bld_free(&inner_msg);
    bld_free(&outer_msg);
    return r;
}

/* Builds and sends ClientHello for the current c->group (a fresh key; and
 * a second, classical one next to a hybrid in the first ClientHello). */
static int send_client_hello(certa_conn *c) {
    const certa_config *cfg = c->cfg;
    uint8_t pub[CRYPTO_MAX_PUBKEY], pub2[CRYPTO_MAX_ECDH_PUBKEY];
    size_t pub_len = sizeof pub, pub2_len = sizeof pub2;
    bool v13 = client_offers_tls13(c), v12 = client_offers_tls12(c);
    kex_free(c->kex_key);
    c->kex_key = NULL;
    kex_free(c->kex_key2);
    c->kex_key2 = NULL;
    c->group2 = v13 ? second_share_group(c) : 0;
    if (v13 && kex_generate(c->group, &c->kex_key, pub, &pub_len) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_NONE, "generating a %s key share failed",
                         certa_group_name(c->group));
    if (c->group2 && kex_generate_beside(c->group2, c->kex_key, &c->kex_key2, pub2, &pub2_len) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_NONE, "generating a %s key share failed",
                         certa_group_name(c->group2));
    hello_shares ks = {pub, pub2, pub_len, pub2_len};
    bool psk = offering(c);
    bool early = psk && early_client_offers(c);
    bool ech = ech_client_offers(c);
    builder b;
    bld_init_alloc(&b, 512);
    int r = put_client_hello(c, &b, ech ? HELLO_INNER : HELLO_PLAIN, &ks, psk, early, 0, NULL);
    if (!r && psk) r = write_binder(c, &b);
    if (!r)
        r = ech ? send_ech_hellos(c, &b, &ks)
                : conn_send_handshake(c, HS_CLIENT_HELLO, b.buf, b.len);
    bld_free(&b);
    if (r) return conn_fail(c, r, ALERT_NONE, NULL);
    if (early && early_client_start(c) != 0) return c->error;
    conn_trace(c, "> ClientHello (%s, %zu suites, %s%s%s%s%s%s%s%s)",
               v13 && v12 ? "TLS 1.3 and 1.2"
               : v13      ? "TLS 1.3"
                          : "TLS 1.2",
               (v13 ? cfg->cipher_count : 0) + (v12 ? cfg->cipher12_count : 0),
               !v13        ? "first group "
               : c->group2 ? "key shares "
                           : "key share ",
               certa_group_name(c->group), c->group2 ? " and " : "",
               c->group2 ? certa_group_name(c->group2) : "", sends_sni(c) ? ", SNI " : "",
               sends_sni(c) ? c->server_name : "",
               psk || offered_is_tls12(c) ? ", offers a session ticket" : "",
               ech      ? ", ECH (outer SNI is the public name)"
               : c->ech ? ", GREASE ECH"
                        : "");
    if (early) conn_trace(c, "  offers early data (up to %u bytes)", (unsigned)c->early_left);
    return 0;
}

/* Why a stored session cannot be offered on this connection, or NULL. */
static const char *session_unusable(const certa_conn *c, const session_state *s) {
    const certa_config *cfg = c->cfg;
    int64_t t = cfg->time_fn(cfg->time_arg);
    bool suite_ok = false;
    const cipher_suite *suite = cipher_suite_find(s->suite);
    bool v12 = suite->version == CERTA_TLS12;
    const uint16_t *list = v12 ? cfg->ciphers12 : cfg->ciphers;
    size_t n = v12 ? cfg->cipher12_count : cfg->cipher_count;
    for (size_t i = 0; i < n; i++)
        suite_ok = suite_ok || list[i] == s->suite;
    if (v12 ? !client_offers_tls12(c) : !client_offers_tls13(c))
        return v12 ? "it is a TLS 1.2 session and TLS 1.2 is not allowed"
                   : "it is a TLS 1.3 session and TLS 1.3 is not allowed";
    if (!s->ticket_len) return "it has no ticket";
    if (strcasecmp(s->server_name, c->server_name)) return "it is for another server name";
    if (!suite_ok) return "its cipher suite is no longer allowed";
    if (t >= s->issued + (int64_t)s->lifetime) return "its ticket expired";
    if (s->peer.present && t >= s->peer.not_after) return "the server's certificate expired";
    if (cfg->pin_count > 0) {
        if (!pins_match(cfg, s->peer.spki_sha256)) return "the server's key matches no pin";
    } else if (!cfg->insecure && !s->peer.verified) {
        return "the server was not verified when it was stored";
    }
    /* Resuming skips the server's chain: once the CRLs change, the
     * certificate the session was made with must be checked against them. */
    if (s->peer.present && cfg->revocation != CERTA_REVOCATION_OFF &&
        atomic_load(&((certa_config *)cfg)->crls_changed) > s->auth_time)
        return "the CRLs changed since the server's certificate was checked";
    if (!policy_allows(cfg, &s->peer)) return "the allow rules refuse the server's identity";
    return NULL;
}

/* Takes a stored session (blob, owned) as the one to offer, if usable. */
void client_offer_session(certa_conn *c, uint8_t *blob, size_t len) {
    session_state *s = calloc(1, sizeof *s + len);
    if (!s) goto done;
    uint8_t *copy = (uint8_t *)(s + 1);
    memcpy(copy, blob, len);
    const char *why = "it is malformed or from another version";
    if (session_decode(copy, len, s) == 0 && !(why = session_unusable(c, s))) {
        c->offered = s;
        c->offered_len = len;
        c->session_offered = true;
        goto done;
    }
    conn_trace(c, "  stored session not offered: %s", why);
    crypto_zero(s, sizeof *s + len);
    free(s);
done:
    crypto_zero(blob, len);
    free(blob);
}

int client_start(certa_conn *c) {
    const certa_config *cfg = c->cfg;
    if (cfg->pin_count == 0 && !cfg->insecure) {
        /* The default: validate the server's chain for the name we dial. */
        const certa_trust *trust = config_trust(c->cfg);
        if (!trust || certa_trust_count(trust) == 0)
            return conn_fail(c, CERTA_E_TRUST_EMPTY, ALERT_NONE,
                             "cannot verify the server: no trust anchors are loaded — pass a CA "
                             "bundle (--trust), install ca-certificates, or pin the key (--pin)");
        if (!c->server_name[0])
            return conn_fail(c, CERTA_E_INVALID_ARGUMENT, ALERT_NONE,
                             "a server name or IP address is needed to verify the server's "
                             "certificate: pass one (--servername), or pin the key (--pin)");
    }
    if (config_random(cfg, c->client_random, 32) != 0 || config_random(cfg, c->session_id, 32) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_NONE, "no randomness available");
    c->session_id_len = 32; /* middlebox compatibility mode (§D.4) */
    c->group = cfg->groups[0];
    if (ech_client_start(c) != 0) return c->error;
    if (c->session_offered && ech_client_offers(c)) { /* offering() keeps it off the wire */
        c->session_offered = false;
        conn_trace(c, "  stored session not offered: ECH is offered (no resumption with ECH)");
    }
    return send_client_hello(c);
}

static bool offered_suite(const certa_config *cfg, uint16_t id) {
    for (size_t i = 0; i < cfg->cipher_count; i++)
        if (cfg->ciphers[i] == id) return true;
    return false;
}

static bool offered_group(const certa_config *cfg, uint16_t g) {
    for (size_t i = 0; i < cfg->group_count; i++)
        if (cfg->groups[i] == g) return true;
    return false;
}

static int on_hello_retry(certa_conn *c, const uint8_t *msg, size_t len, const ext_list *exts) {
    if (c->hello_retry)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the server sent a second HelloRetryRequest");
    for (size_t i = 0; i < exts->count; i++) {
        uint16_t t = exts->types[i];
        if (t != EXT_SUPPORTED_VERSIONS && t != EXT_KEY_SHARE && t != EXT_COOKIE &&
            !(t == EXT_ENCRYPTED_CLIENT_HELLO && c->ech))
            return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                             "the server's HelloRetryRequest carries extension %u, which was not "
                             "offered",
                             t);
    }
    const cursor *ks = ext_find(exts, EXT_KEY_SHARE);
    const cursor *ck = ext_find(exts, EXT_COOKIE);
    uint16_t selected = c->group;
    if (ks) {
        cursor k = *ks;
        if (!cur_u16(&k, &selected) || !cur_empty(&k))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed key_share in HelloRetryRequest");
        if (!offered_group(c->cfg, selected) || selected == c->group ||
            (c->group2 && selected == c->group2))
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the server's HelloRetryRequest asks for group %s (0x%04x), which "
                             "was not offered or already sent",
                             certa_group_name(selected), selected);
    }
    if (ck) {
        cursor k = *ck, cookie;
        if (!cur_vec16(&k, &cookie) || cookie.len == 0 || !cur_empty(&k))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed cookie in HelloRetryRequest");
        c->cookie = malloc(cookie.len);
        if (!c->cookie) return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
        memcpy(c->cookie, cookie.data, cookie.len);
        c->cookie_len = cookie.len;
    }
    if (!ks && !ck)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server's HelloRetryRequest asks for no change");
    int r = transcript_start(c);
    if (!r) r = transcript_replace_with_message_hash(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    if (c->ech && ech_client_on_hrr(c, msg, len, exts) != 0) return c->error;
    r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->hello_retry = true;
    conn_trace(c, "< HelloRetryRequest (%s, wants key share %s)", c->suite->name,
               certa_group_name(selected));
    c->group = selected;
    if (c->early_offered) { /* the server skips it; the second hello goes in clear */
        c->early_rejected = true;
        record_protection_clear(&c->tx);
        conn_trace(c, "  early data rejected (HelloRetryRequest)");
    }
    r = conn_send_ccs(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    return send_client_hello(c);
}

static int on_server_hello(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body, session_id, ext_block;
    /* What follows ServerHello is under its keys, not the early one. */
    if (c->early_offered && !c->hello_retry) {
        record_protection_clear(&c->tx);
        c->early_rejected = true; /* until EncryptedExtensions says otherwise */
    }
    uint16_t legacy_version, suite_id;
    const uint8_t *random;
    uint8_t compression;
    cur_init(&body, msg + 4, len - 4);
    if (!cur_u16(&body, &legacy_version) || !cur_bytes(&body, 32, &random) ||
        !cur_vec8(&body, &session_id) || !cur_u16(&body, &suite_id) || !cur_u8(&body, &compression))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed ServerHello");
    if (cur_empty(&body)) {
        ext_block.data = NULL;
        ext_block.len = 0;
    } else if (!cur_vec16(&body, &ext_block) || !cur_empty(&body)) {
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed ServerHello");
    }
    ext_list exts;
    if (ext_parse(c, "ServerHello", &ext_block, &exts) != 0) return c->error;
    const cursor *sv = ext_find(&exts, EXT_SUPPORTED_VERSIONS);
    bool sentinel =
        !memcmp(random + 24, downgrade_tls12, 8) || !memcmp(random + 24, downgrade_tls11, 8);
    if (!sv && legacy_version == CERTA_TLS12 && client_offers_tls12(c) &&
        c->state == ST_CLIENT_WAIT_SH && !c->hello_retry) {
        /* RFC 8446 §4.1.3: a server that could do 1.3 but answers 1.2 marks
         * its random; if we offered 1.3, someone removed it on the way. */
        if (sentinel && client_offers_tls13(c))
            return conn_fail(c, CERTA_E_DOWNGRADE, ALERT_ILLEGAL_PARAMETER,
                             "the server answered with TLS 1.2 but its random carries the TLS 1.3 "
                             "downgrade sentinel: something on the path removed TLS 1.3 from our "
                             "ClientHello — do not trust this network path");
        server_hello sh = {legacy_version, random, session_id, suite_id, compression, exts};
        return tls12_client_server_hello(c, &sh, msg, len);
    }
    if (sv && !client_offers_tls13(c))
        return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                         "the server answered with supported_versions (TLS 1.3), which we did not "
                         "offer: this client allows TLS 1.2 only");
    if (!sv) {
        if (sentinel)
            return conn_fail(c, CERTA_E_DOWNGRADE, ALERT_ILLEGAL_PARAMETER,
                             "the server answered with TLS version 0x%04x but its random carries "
                             "the TLS 1.3 downgrade sentinel: something on the path is forcing an "
                             "older version — do not trust this network path",
                             legacy_version);
        return conn_fail(c, CERTA_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                         "the server chose TLS version 0x%04x (%s), and this client allows %s — "
                         "%s",
                         legacy_version,
                         legacy_version == 0x0303 ? "TLS 1.2" : "older than TLS 1.2",
                         client_offers_tls12(c) ? "TLS 1.2 and 1.3" : "TLS 1.3 only",
                         legacy_version == 0x0303 && !client_offers_tls12(c)
                             ? "enable TLS 1.3 on the server, or allow TLS 1.2 here "
                               "(--min-version 1.2)"
                             : "enable TLS 1.2 or 1.3 on the server");
    }
    uint16_t version;
    cursor svc = *sv;
    if (!cur_u16(&svc, &version) || !cur_empty(&svc))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed supported_versions in ServerHello");
    if (version != CERTA_TLS13 || legacy_version != 0x0303)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server selected version 0x%04x, which was not offered", version);
    if (session_id.len != c->session_id_len ||
        memcmp(session_id.data, c->session_id, c->session_id_len) != 0)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server did not echo our legacy_session_id");
    const cipher_suite *suite = cipher_suite_find(suite_id);
    if (!suite || !offered_suite(c->cfg, suite_id) || (c->suite && c->suite != suite))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server selected cipher suite 0x%04x, which was not offered%s",
                         suite_id, c->suite ? " or differs from its HelloRetryRequest" : "");
    if (compression != 0)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server selected compression method %u", compression);
    c->suite = suite;
    c->version = CERTA_TLS13;
    if (!memcmp(random, hello_retry_random, 32)) return on_hello_retry(c, msg, len, &exts);

    for (size_t i = 0; i < exts.count; i++) {
        uint16_t t = exts.types[i];
        if (t != EXT_SUPPORTED_VERSIONS && t != EXT_KEY_SHARE &&
            !(t == EXT_PRE_SHARED_KEY && offering(c)))
            return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                             "the server's ServerHello carries extension %u, which was not "
                             "offered there",
                             t);
    }
    const cursor *psk = ext_find(&exts, EXT_PRE_SHARED_KEY);
    if (psk) {
        cursor p = *psk;
        uint16_t selected;
        if (!cur_u16(&p, &selected) || !cur_empty(&p))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed pre_shared_key in ServerHello");
        if (selected != 0)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the server selected pre-shared key %u, but we offered only one",
                             selected);
        if (offered_hash(c) != suite->hash)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the server resumed our session with %s, whose hash differs from "
                             "the session's",
                             suite->name);
        c->resumed = true;
        memcpy(c->psk, c->offered->psk, c->offered->psk_len);
        c->peer = c->offered->peer;
        c->auth_time = c->offered->auth_time;
    }
    const cursor *ks = ext_find(&exts, EXT_KEY_SHARE);
    if (!ks)
        return conn_fail(c, CERTA_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                         "the server's ServerHello has no key_share");
    cursor k = *ks, share;
    uint16_t group;
    if (!cur_u16(&k, &group) || !cur_vec16(&k, &share) || !cur_empty(&k))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed key_share in ServerHello");
    if (group != c->group && (!c->group2 || group != c->group2))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server's key share is for %s, but we sent %s%s%s",
                         certa_group_name(group), certa_group_name(c->group),
                         c->group2 ? " and " : "", c->group2 ? certa_group_name(c->group2) : "");
    if (group == c->group2) { /* the classical share was taken */
        kex_free(c->kex_key);
        c->kex_key = c->kex_key2;
        c->kex_key2 = NULL;
        c->group = group;
    }
    int r = transcript_start(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    /* ECH: the ServerHello decides which hello the transcript holds. */
    if (c->ech && ech_client_on_server_hello(c, msg, len) != 0) return c->error;
    r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    uint8_t shared[CRYPTO_MAX_SHARED];
    size_t shared_len = sizeof shared;
    if (kex_derive(group, c->kex_key, share.data, share.len, shared, &shared_len) != 0)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server's %s key share is not a valid public key",
                         certa_group_name(group));
    r = ks_handshake_secrets(c, shared, shared_len);
    crypto_zero(shared, sizeof shared);
    kex_free(c->kex_key);
    c->kex_key = NULL;
    kex_free(c->kex_key2);
    c->kex_key2 = NULL;
    if (!r) r = conn_set_rx(c, c->server_hs_secret);
    if (!r) r = conn_set_tx(c, c->client_hs_secret);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "< ServerHello (TLS 1.3, %s, %s%s)", suite->name, certa_group_name(group),
               c->resumed   ? ", resumed"
               : c->offered ? ", session ticket declined"
                            : "");
    c->state = ST_CLIENT_WAIT_EE;
    return 0;
}

static bool alpn_offered(const certa_config *cfg, const uint8_t *name, size_t len) {
    cursor list;
    cur_init(&list, cfg->alpn_wire, cfg->alpn_wire_len);
    cursor item;
    while (cur_vec8(&list, &item))
        if (item.len == len && memcmp(item.data, name, len) == 0) return true;
    return false;
}

int client_read_alpn(certa_conn *c, cursor e) {
    cursor list, name;
    if (!c->cfg->alpn_wire_len)
        return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                         "the server selected an ALPN protocol but we offered none");
    if (!cur_vec16(&e, &list) || !cur_vec8(&list, &name) || name.len == 0 || !cur_empty(&list) ||
        !cur_empty(&e))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed ALPN from the server");
    if (!alpn_offered(c->cfg, name.data, name.len))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server selected an ALPN protocol we did not offer");
    memcpy(c->alpn, name.data, name.len);
    c->alpn[name.len] = 0;
    return 0;
}

static int on_encrypted_extensions(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body, block;
    cur_init(&body, msg + 4, len - 4);
    if (!cur_vec16(&body, &block) || !cur_empty(&body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed EncryptedExtensions");
    ext_list exts;
    if (ext_parse(c, "EncryptedExtensions", &block, &exts) != 0) return c->error;
    for (size_t i = 0; i < exts.count; i++) {
        uint16_t t = exts.types[i];
        cursor e = exts.bodies[i];
        switch (t) {
        case EXT_SUPPORTED_GROUPS:
            break; /* the server's preferences: informational */
        case EXT_SERVER_NAME:
            if (!sends_sni(c) || e.len != 0)
                return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                                 "the server acknowledged a server_name we did not send");
            break;
        case EXT_ALPN:
            if (client_read_alpn(c, e) != 0) return c->error;
            break;
        case EXT_RECORD_SIZE_LIMIT:
            if (rsl_client_read(c, e, "EncryptedExtensions") != 0) return c->error;
            break;
        case EXT_ENCRYPTED_CLIENT_HELLO: /* retry_configs (RFC 9849 §6.1.6) */
            if (ech_client_on_retry_configs(c, e) != 0) return c->error;
            break;
        case EXT_EARLY_DATA:
            if (!c->early_offered || c->hello_retry || !c->resumed || e.len != 0)
                return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                                 "the server accepted early data we did not send, or for a "
                                 "session we did not resume");
            c->early_accepted = true;
            c->early_rejected = false;
            break;
        case EXT_KEY_SHARE:
        case EXT_SUPPORTED_VERSIONS:
        case EXT_SIGNATURE_ALGORITHMS:
        case EXT_PRE_SHARED_KEY:
        case EXT_COOKIE:
        case EXT_PSK_KEY_EXCHANGE_MODES:
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the server sent extension %u in EncryptedExtensions, where it is "
                             "not allowed",
                             t);
        default:
            return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                             "the server's EncryptedExtensions carries extension %u, which was "
                             "not offered",
                             t);
        }
    }
    /* §4.2.10: early data went with the ticket's ALPN protocol. */
    if (c->early_accepted &&
        (strcmp(c->alpn, c->offered->alpn) || c->suite->id != c->offered->suite))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server accepted early data under another ALPN protocol or cipher "
                         "suite than the session's");
    if (c->early_offered && !c->early_accepted) c->early_rejected = true;
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "< EncryptedExtensions%s%s%s", c->alpn[0] ? " (ALPN " : "",
               c->alpn[0] ? c->alpn : "",
               c->early_accepted   ? ", early data accepted"
               : c->early_rejected ? ", early data rejected"
                                   : "");
    if (c->alpn[0]) conn_trace(c, "  ALPN: %s", c->alpn);
    if (c->resumed) {
        /* The server proved its identity in the handshake the ticket came
         * from: no Certificate now (§2.2). */
        trace_resumed_server(c);
        c->state = ST_CLIENT_WAIT_FINISHED;
        return 0;
    }
    c->state = ST_CLIENT_WAIT_CERT_CR;
    return 0;
}

static int on_certificate_request(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body, context, block;
    cur_init(&body, msg + 4, len - 4);
    if (!cur_vec8(&body, &context) || !cur_vec16(&body, &block) || !cur_empty(&body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed CertificateRequest");
    ext_list exts;
    if (ext_parse(c, "CertificateRequest", &block, &exts) != 0) return c->error;
    const cursor *sa = ext_find(&exts, EXT_SIGNATURE_ALGORITHMS);
    const cursor *ca = ext_find(&exts, EXT_CERTIFICATE_AUTHORITIES);
    cursor schemes, cas, e;
    if (!sa)
        return conn_fail(c, CERTA_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                         "the server's CertificateRequest has no signature_algorithms");
    e = *sa;
    if (!cur_vec16(&e, &schemes) || !cur_empty(&e) || schemes.len < 2 || schemes.len % 2)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed signature_algorithms in CertificateRequest");
    if (ca) {
        e = *ca;
        if (!cur_vec16(&e, &cas) || !cur_empty(&e) || cas.len == 0)
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed certificate_authorities in CertificateRequest");
    }
    if (read_cert_compression(c, &exts, "CertificateRequest") != 0) return c->error;
    memcpy(c->cr_context, context.data, context.len);
    c->cr_context_len = (uint8_t)context.len;
    c->cert_requested = true;
    c->id = identity_choose(c->cfg, schemes, ca ? &cas : NULL, NULL, &c->sig_scheme);
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    certificate_request_seen(c, ca ? &cas : NULL);
    c->state = ST_CLIENT_WAIT_CERT;
    return 0;
}

static int on_certificate(certa_conn *c, const uint8_t *msg, size_t len) {
    if (client_on_server_certificate(c, msg, len) != 0) return c->error;
    c->state = ST_CLIENT_WAIT_CV;
    return 0;
}

static int on_compressed_certificate(certa_conn *c, const uint8_t *msg, size_t len) {
    uint8_t *body;
    size_t body_len;
    if (open_peer_compressed_certificate(c, msg, len, &body, &body_len) != 0) return c->error;
    int r = client_on_server_certificate_body(c, body, body_len, msg, len);
    free(body);
    if (r) return c->error;
    c->state = ST_CLIENT_WAIT_CV;
    return 0;
}

static int on_certificate_verify(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body;
    cur_init(&body, msg + 4, len - 4);
    /* ECH rejected: the server proves the public name only, to send its
     * retry_configs; the allow rules are for the real server (§6.1.7). */
    bool for_public_name = c->ech_status == CERTA_ECH_REJECTED;
    if (verify_peer_cv(c, &body) != 0 || (!for_public_name && policy_check(c) != 0))
        return c->error;
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->state = ST_CLIENT_WAIT_FINISHED;
    return 0;
}

static int on_finished(certa_conn *c, const uint8_t *msg, size_t len) {
    if (check_finished(c, c->server_hs_secret, msg, len) != 0) return c->error;
    /* ECH rejected: the server proved the public name; nothing more is sent
     * but ech_required (RFC 9849 §6.1.6). */
    if (ech_client_check_rejected(c) != 0) return c->error;
    int r = transcript_add(c, msg, len);
    if (!r) r = ks_application_secrets(c);
    if (!r) r = conn_set_rx(c, c->server_app_secret);
    if (!r) r = conn_send_ccs(c);
    if (!r && c->cert_requested) {
        /* Our chain, or an empty list when no identity fits. */
        if (send_own_certificate(c, c->cr_context, c->cr_context_len) != 0) return c->error;
        if (c->id && send_certificate_verify(c) != 0) return c->error;
    }
    if (!r && c->early_accepted) r = early_client_end(c);
    if (!r) r = send_finished(c, c->client_hs_secret);
    if (!r) r = conn_set_tx(c, c->client_app_secret);
    /* Tickets may follow: keep what their PSKs derive from. */
    if (!r) r = ks_resumption_secret(c, c->resumption_secret);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_handshake_finished(c);
    c->state = ST_CONNECTED;
    conn_trace(c, "handshake complete: TLS 1.3, %s, %s%s", c->suite->name,
               certa_group_name(c->group), c->resumed ? ", resumed" : "");
    return 0;
}

static const transition client_table[] = {
    {ST_CLIENT_WAIT_SH, HS_SERVER_HELLO, on_server_hello},
    {ST_CLIENT_WAIT_EE, HS_ENCRYPTED_EXTENSIONS, on_encrypted_extensions},
    {ST_CLIENT_WAIT_CERT_CR, HS_CERTIFICATE_REQUEST, on_certificate_request},
    {ST_CLIENT_WAIT_CERT_CR, HS_CERTIFICATE, on_certificate},
    {ST_CLIENT_WAIT_CERT, HS_CERTIFICATE, on_certificate},
    {ST_CLIENT_WAIT_CERT_CR, HS_COMPRESSED_CERTIFICATE, on_compressed_certificate},
    {ST_CLIENT_WAIT_CERT, HS_COMPRESSED_CERTIFICATE, on_compressed_certificate},
    {ST_CLIENT_WAIT_CV, HS_CERTIFICATE_VERIFY, on_certificate_verify},
    {ST_CLIENT_WAIT_FINISHED, HS_FINISHED, on_finished},
};

static const char *client_expects(conn_state s) {
    switch (s) {
    case ST_CLIENT_WAIT_SH:
        return "ServerHello";
    case ST_CLIENT_WAIT_EE:
        return "EncryptedExtensions";
    case ST_CLIENT_WAIT_CERT_CR:
        return "Certificate or CertificateRequest";
    case ST_CLIENT_WAIT_CERT:
        return "Certificate";
    case ST_CLIENT_WAIT_CV:
        return "CertificateVerify";
    case ST_CLIENT_WAIT_FINISHED:
        return "Finished";
    default:
        return "nothing";
    }
}

int client_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len) {
    return run_transition(c, client_table, sizeof client_table / sizeof client_table[0], type, msg,
                          len, "server", client_expects(c->state));
}
