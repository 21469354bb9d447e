/* The TLS 1.3 server: ClientHello checks and negotiation (suite, group,
 * signature scheme, ALPN, SNI), HelloRetryRequest, the server flight, and
 * the client's Finished — as the state table at the end says. */
#include "tls/tls.h"

#include "x509/cert.h"
#include "x509/trust.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* SHA-256 over what ClientHello2 must repeat from ClientHello1 (§4.1.2):
 * everything but key_share, cookie, early_data, pre_shared_key, padding. */
static int hello_fingerprint(const client_hello *ch, uint8_t out[32]) {
    builder b;
    bld_init_alloc(&b, 512);
    bld_u16(&b, ch->legacy_version);
    bld_bytes(&b, ch->random, 32);
    bld_u8(&b, (uint8_t)ch->session_id.len);
    bld_bytes(&b, ch->session_id.data, ch->session_id.len);
    bld_u16(&b, (uint16_t)ch->suites.len);
    bld_bytes(&b, ch->suites.data, ch->suites.len);
    bld_u8(&b, (uint8_t)ch->compression.len);
    bld_bytes(&b, ch->compression.data, ch->compression.len);
    cursor block = ch->ext_block, body; /* well-formed: parse_client_hello checked it */
    uint16_t t;
    while (cur_u16(&block, &t) && cur_vec16(&block, &body)) {
        if (t == EXT_KEY_SHARE || t == EXT_COOKIE || t == EXT_EARLY_DATA ||
            t == EXT_PRE_SHARED_KEY || t == EXT_PADDING ||
            t == EXT_ENCRYPTED_CLIENT_HELLO) /* RFC 9849 §6.1.5: a fresh payload, empty enc */
            continue;
        bld_u16(&b, t);
        bld_u16(&b, (uint16_t)body.len);
        bld_bytes(&b, body.data, body.len);
    }
    int r = bld_ok(&b) && hash_oneshot(HASH_SHA256, b.buf, b.len, out) == 0 ? 0 : CERTA_E_NOMEM;
    bld_free(&b);
    return r;
}

static int check_version(certa_conn *c, const client_hello *ch) {
    const cursor *sv = ext_find(&ch->exts, EXT_SUPPORTED_VERSIONS);
    if (!sv)
        return conn_fail(c, CERTA_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                         "the client offered only TLS 0x%04x or older (no supported_versions "
                         "extension): certa speaks TLS 1.3 only — enable TLS 1.3 on the client",
                         ch->legacy_version);
    cursor versions;
    if (!u16_list(*sv, 1, &versions))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed supported_versions in ClientHello");
    if (!list_has_u16(versions, CERTA_TLS13))
        return conn_fail(c, CERTA_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                         "the client does not offer TLS 1.3: certa speaks TLS 1.3 only — enable "
                         "TLS 1.3 on the client");
    if (ch->compression.len != 1 || ch->compression.data[0] != 0)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "a TLS 1.3 ClientHello must offer only null compression");
    return 0;
}

static int choose_suite(certa_conn *c, const client_hello *ch) {
    const certa_config *cfg = c->cfg;
    for (size_t i = 0; i < cfg->cipher_count; i++)
        if (list_has_u16(ch->suites, cfg->ciphers[i])) {
            c->suite = cipher_suite_find(cfg->ciphers[i]);
            return 0;
        }
    return conn_fail(c, CERTA_E_NO_COMMON_CIPHER, ALERT_HANDSHAKE_FAILURE,
                     "the client offers no TLS 1.3 cipher suite this server allows (%s%s%s): "
                     "allow more suites on one side",
                     certa_cipher_suite_name(cfg->ciphers[0]), cfg->cipher_count > 1 ? ", " : "",
                     cfg->cipher_count > 1 ? certa_cipher_suite_name(cfg->ciphers[1]) : "");
}

static int choose_identity(certa_conn *c, const client_hello *ch) {
    const cursor *sa = ext_find(&ch->exts, EXT_SIGNATURE_ALGORITHMS);
    cursor schemes;
    if (!sa)
        return conn_fail(c, CERTA_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                         "the client's ClientHello has no signature_algorithms extension");
    if (!u16_list(*sa, 2, &schemes))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed signature_algorithms in ClientHello");
    if (sni_strict_check(c) != 0) return c->error;
    c->id = identity_choose(c->cfg, schemes, NULL, c->server_name, &c->sig_scheme);
    if (c->id) {
        c->cert_name = identity_name_match(c->id, c->server_name);
        return 0;
    }
    char key[40] = "?";
    const identity *first = identity_first(c->cfg, c->server_name);
    if (first) key_describe(first->key, key, sizeof key);
    return conn_fail(c, CERTA_E_NO_COMMON_SIGALG, ALERT_HANDSHAKE_FAILURE,
                     "the client accepts no signature scheme that fits this server's %s key: "
                     "use a certificate type the client supports",
                     key);
}

/* CertificateRequest: our signature schemes, and the trust anchors' names
 * so the client can pick the right certificate (when they fit in 8 KiB). */
static int send_certificate_request(certa_conn *c) {
    builder b;
    bld_init_alloc(&b, 1024);
    bld_u8(&b, 0); /* certificate_request_context */
    bld_open(&b, 2);
    bld_u16(&b, EXT_SIGNATURE_ALGORITHMS);
    bld_open(&b, 2);
    bld_open(&b, 2);
    for (size_t i = 0; i < tls13_sig_schemes_count; i++)
        bld_u16(&b, tls13_sig_schemes[i]);
    for (size_t i = 0; i < tls13_cert_only_schemes_count; i++)
        bld_u16(&b, tls13_cert_only_schemes[i]);
    bld_close(&b);
    bld_close(&b);
    if (config_trust(c->cfg) && certa_trust_count(config_trust(c->cfg)) > 0) {
        builder names;
        bld_init_alloc(&names, 1024);
        put_ca_names(c, &names, false);
        if (names.len > 2) {
            bld_u16(&b, EXT_CERTIFICATE_AUTHORITIES);
            bld_open(&b, 2);
            bld_bytes(&b, names.buf, names.len);
            bld_close(&b);
        }
        bld_free(&names);
    }
    put_cert_compression(c->cfg, &b); /* we decompress a client certificate too */
    bld_close(&b);
    int r =
        bld_ok(&b) ? conn_send_handshake(c, HS_CERTIFICATE_REQUEST, b.buf, b.len) : CERTA_E_NOMEM;
    bld_free(&b);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "> CertificateRequest (client certificate %s)",
               c->cfg->client_auth == CERTA_CLIENT_AUTH_REQUIRE ? "required" : "optional");
    return 0;
}

/* Checks key_share against supported_groups and picks the group: one the
 * client already sent a share for if possible (no extra round trip), else
 * the first mutually supported one (HelloRetryRequest). */
static int choose_group(certa_conn *c, client_hello *ch, bool *need_retry) {
    const cursor *sg = ext_find(&ch->exts, EXT_SUPPORTED_GROUPS);
    const cursor *ks = ext_find(&ch->exts, EXT_KEY_SHARE);
    if (!sg || !ks)
        return conn_fail(c, CERTA_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                         "the client's ClientHello lacks %s, which TLS 1.3 requires without a "
                         "pre-shared key",
                         !sg ? "supported_groups" : "key_share");
    cursor k = *ks;
    if (!u16_list(*sg, 2, &ch->groups) || !cur_vec16(&k, &ch->shares) || !cur_empty(&k))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed supported_groups or key_share in ClientHello");
    /* Validate every share: in supported_groups, no group twice. A legal
     * hello may carry thousands of each (2^16 bytes of 5-byte shares), so
     * both checks use a bitmap over all 2^16 group values (16 KiB of stack,
     * linear time) instead of a cap or a quadratic search. */
    uint64_t offered[65536 / 64], seen[65536 / 64];
    memset(offered, 0, sizeof offered);
    memset(seen, 0, sizeof seen);
    cursor list = ch->groups;
    uint16_t g;
    while (cur_u16(&list, &g))
        offered[g / 64] |= (uint64_t)1 << (g % 64);
    cursor shares = ch->shares;
    while (!cur_empty(&shares)) {
        cursor key;
        if (!cur_u16(&shares, &g) || !cur_vec16(&shares, &key))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed key_share entry in ClientHello");
        /* Well-formed framing around a share no group accepts: a bad
         * parameter (as for any other invalid share), not a decode error. */
        if (key.len == 0)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client sent an empty key share for group %s (0x%04x)",
                             certa_group_name(g), g);
        uint64_t bit = (uint64_t)1 << (g % 64);
        if (!(offered[g / 64] & bit))
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client sent a key share for group 0x%04x that is not in its "
                             "supported_groups",
                             g);
        if (seen[g / 64] & bit)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client sent two key shares for group 0x%04x", g);
        seen[g / 64] |= bit;
    }
    const certa_config *cfg = c->cfg;
    for (size_t i = 0; i < cfg->group_count; i++) {
        shares = ch->shares;
        cursor key;
        while (cur_u16(&shares, &g) && cur_vec16(&shares, &key))
            if (g == cfg->groups[i]) {
                c->group = g;
                ch->share_for_choice = key;
                *need_retry = false;
                return 0;
            }
    }
    for (size_t i = 0; i < cfg->group_count; i++)
        if (list_has_u16(ch->groups, cfg->groups[i])) {
            c->group = cfg->groups[i];
            *need_retry = true;
            return 0;
        }
    return conn_fail(c, CERTA_E_NO_COMMON_GROUP, ALERT_HANDSHAKE_FAILURE,
                     "the client supports none of this server's key-exchange groups (%s%s%s): "
                     "allow more groups on one side",
                     certa_group_name(cfg->groups[0]), cfg->group_count > 1 ? ", " : "",
                     cfg->group_count > 1 ? certa_group_name(cfg->groups[1]) : "");
}

/* pre_shared_key (§4.2.11): resume with the first offered ticket that is
 * ours and still good, once its binder proves the client holds its PSK.
 * Anything else is a full handshake; a bad binder fails (decrypt_error). */
static int try_resume(certa_conn *c, const client_hello *ch, const uint8_t *msg, early_offer *eo) {
    const cursor *pe = ext_find(&ch->exts, EXT_PRE_SHARED_KEY);
    if (!pe) return 0;
    const cursor *me = ext_find(&ch->exts, EXT_PSK_KEY_EXCHANGE_MODES);
    if (!me)
        return conn_fail(c, CERTA_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                         "the client offers a pre-shared key without psk_key_exchange_modes");
    cursor e = *me, modes, p = *pe, identities, binders;
    uint8_t mode;
    bool dhe = false;
    if (!cur_vec8(&e, &modes) || !cur_empty(&e) || modes.len == 0)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed psk_key_exchange_modes in ClientHello");
    while (cur_u8(&modes, &mode))
        dhe = dhe || mode == 1;
    if (!cur_vec16(&p, &identities) || !cur_vec16(&p, &binders) || !cur_empty(&p) ||
        identities.len == 0 || binders.len == 0)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed pre_shared_key in ClientHello");
    size_t n_ids = 0, n_binders = 0;
    for (cursor i = identities, id; !cur_empty(&i); n_ids++) {
        uint32_t age;
        if (!cur_vec16(&i, &id) || id.len == 0 || !cur_u32(&i, &age))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed PSK identity in ClientHello");
    }
    for (cursor i = binders, b; !cur_empty(&i); n_binders++)
        if (!cur_vec8(&i, &b) || b.len < 32)
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed PSK binder in ClientHello");
    if (n_ids != n_binders)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client offers %zu pre-shared keys but %zu binders", n_ids, n_binders);
    if (!dhe || c->cfg->tickets == 0) {
        conn_trace(c, "  session ticket not used: %s: full handshake",
                   !dhe ? "the client allows only psk_ke (no forward secrecy)"
                        : "resumption is off on this server");
        return 0;
    }
    session_state s;
    const char *why = "it is not one of this server's tickets";
    size_t index = 0;
    cursor ids = identities, ticket;
    uint32_t age;
    for (; cur_vec16(&ids, &ticket) && cur_u32(&ids, &age); index++) {
        if (ticket_open(c->cfg, ticket.data, ticket.len, &s) != 0) continue;
        if (!(why = ticket_unusable(c, &s, CERTA_TLS13))) break;
        crypto_zero(&s, sizeof s);
    }
    if (index == n_ids) {
        conn_trace(c, "  session ticket not used: %s: full handshake", why);
        return 0;
    }
    cursor bs = binders, binder;
    for (size_t i = 0; i <= index; i++)
        cur_vec8(&bs, &binder);
    /* The binder covers the ClientHello up to the binders list (and the
     * transcript before it, after HelloRetryRequest). */
    hash_alg h = c->suite->hash;
    size_t hl = hash_len(h), truncated = (size_t)(binders.data - 2 - msg);
    uint8_t th[CRYPTO_MAX_HASH], expected[CRYPTO_MAX_HASH];
    int r = c->th_started ? transcript_current_with(&c->th, msg, truncated, NULL, 0, th)
                          : hash_oneshot(h, msg, truncated, th);
    if (!r) r = ks_binder(h, s.psk, th, expected);
    bool ok = !r && binder.len == hl && crypto_equal_ct(binder.data, expected, hl);
    crypto_zero(expected, sizeof expected);
    if (!ok) {
        crypto_zero(&s, sizeof s);
        return r ? conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL)
                 : conn_fail(c, CERTA_E_BAD_FINISHED, ALERT_DECRYPT_ERROR,
                             "the client's PSK binder does not verify: the session ticket was "
                             "replayed by someone without its key, or the ClientHello was altered");
    }
    c->resumed = true;
    c->psk_index = (uint16_t)index;
    memcpy(c->psk, s.psk, s.psk_len);
    if (eo->offered) { /* what early data will be judged by */
        eo->obfuscated_age = age;
        eo->s = s;
        crypto_zero(eo->s.psk, sizeof eo->s.psk);
        if (hash_oneshot(HASH_SHA256, ticket.data, ticket.len, eo->ticket_id) != 0)
            eo->offered = false;
    }
    c->peer = s.peer;
    c->auth_time = s.auth_time;
    crypto_zero(&s, sizeof s);
    conn_trace(c, "  resuming a session%s%s (identity verified %lld s ago)",
               c->peer.present ? " of client " : "",
               c->peer.present ? identity_label(&c->peer) : "",
               (long long)(c->cfg->time_fn(c->cfg->time_arg) - c->auth_time));
    return 0;
}

/* ServerHello and HelloRetryRequest start alike: legacy_version, random,
 * the echoed session id, the suite, null compression. */
static void put_hello_head(builder *b, const uint8_t random[32], const client_hello *ch,
                           uint16_t suite) {
    bld_u16(b, 0x0303);
    bld_bytes(b, random, 32);
    bld_u8(b, (uint8_t)ch->session_id.len);
    bld_bytes(b, ch->session_id.data, ch->session_id.len);
    bld_u16(b, suite);
    bld_u8(b, 0);
}

static void put_supported_versions(builder *b) {
    bld_u16(b, EXT_SUPPORTED_VERSIONS);
    bld_u16(b, 2);
    bld_u16(b, CERTA_TLS13);
}

/* Writes the ECH acceptance confirmation (RFC 9849 §7.2) over the
 * transcript and the message in b (whose confirmation bytes at `at` are
 * still zero). */
static int put_ech_confirmation(certa_conn *c, builder *b, size_t at, bool hrr) {
    uint8_t hdr[4] = {HS_SERVER_HELLO, (uint8_t)(b->len >> 16), (uint8_t)(b->len >> 8),
                      (uint8_t)b->len};
    builder msg;
    bld_init_alloc(&msg, b->len + 4);
    bld_bytes(&msg, hdr, 4);
    bld_bytes(&msg, b->buf, b->len);
    int r = bld_ok(&msg) ? ech_accept_confirmation(c->suite->hash, c->client_random, &c->th,
                                                   msg.buf, msg.len, hrr, b->buf + at)
                         : CERTA_E_NOMEM;
    bld_free(&msg);
    return r;
}

static int send_hello_retry(certa_conn *c, const client_hello *ch) {
    builder b;
    bld_init_alloc(&b, 128);
    put_hello_head(&b, hello_retry_random, ch, c->suite->id);
    bld_open(&b, 2);
    put_supported_versions(&b);
    bld_u16(&b, EXT_KEY_SHARE);
    bld_u16(&b, 2);
    bld_u16(&b, c->group);
    size_t confirm_at = 0;
    if (c->ech_confirm) { /* RFC 9849 §7.2.1: 8 zero bytes, then the confirmation */
        bld_u16(&b, EXT_ENCRYPTED_CLIENT_HELLO);
        bld_u16(&b, ECH_CONFIRMATION_LEN);
        confirm_at = b.len;
        bld_zeros(&b, ECH_CONFIRMATION_LEN);
    }
    bld_close(&b);
    int r = bld_ok(&b) ? 0 : CERTA_E_NOMEM;
    if (!r) r = transcript_replace_with_message_hash(c);
    if (!r && confirm_at) r = put_ech_confirmation(c, &b, confirm_at, true);
    if (!r) r = conn_send_handshake(c, HS_SERVER_HELLO, b.buf, b.len);
    bld_free(&b);
    if (!r) r = conn_send_ccs(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->hello_retry = true;
    conn_trace(c, "> HelloRetryRequest (%s, asks for key share %s)", c->suite->name,
               certa_group_name(c->group));
    return 0;
}

/* ServerHello, then the encrypted flight: EncryptedExtensions,
 * Certificate, CertificateVerify, Finished. */
static int send_server_flight(certa_conn *c, const client_hello *ch) {
    uint8_t pub[CRYPTO_MAX_PUBKEY], shared[CRYPTO_MAX_SHARED], random[32];
    size_t pub_len = sizeof pub, shared_len = sizeof shared;
    int kr = kex_respond(c->group, ch->share_for_choice.data, ch->share_for_choice.len, pub,
                         &pub_len, shared, &shared_len);
    if (kr == KEX_BAD_PEER)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client's %s key share is not a valid public key",
                         certa_group_name(c->group));
    if (kr != 0) return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL);
    if (config_random(c->cfg, random, sizeof random) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, "no randomness available");

    builder b;
    bld_init_alloc(&b, 8192);
    put_hello_head(&b, random, ch, c->suite->id);
    bld_open(&b, 2);
    put_supported_versions(&b);
    bld_u16(&b, EXT_KEY_SHARE);
    bld_open(&b, 2);
    bld_u16(&b, c->group);
    bld_open(&b, 2);
    bld_bytes(&b, pub, pub_len);
    bld_close(&b);
    bld_close(&b);
    if (c->resumed) {
        bld_u16(&b, EXT_PRE_SHARED_KEY);
        bld_u16(&b, 2);
        bld_u16(&b, c->psk_index);
    }
    bld_close(&b);
    int r = bld_ok(&b) ? 0 : CERTA_E_NOMEM;
    /* ECH accepted: the last 8 bytes of ServerHello.random (zero so far, at
     * 2 + 24 in the body) confirm it, RFC 9849 §7.2. */
    if (!r && c->ech_confirm) {
        memset(b.buf + 2 + 24, 0, ECH_CONFIRMATION_LEN);
        r = put_ech_confirmation(c, &b, 2 + 24, false);
    }
    if (!r) r = conn_send_handshake(c, HS_SERVER_HELLO, b.buf, b.len);
    if (!r) r = conn_send_ccs(c);
    if (!r) r = ks_handshake_secrets(c, shared, shared_len);
    crypto_zero(shared, sizeof shared);
    if (!r) r = conn_set_tx(c, c->server_hs_secret);
    if (!r) r = conn_set_rx(c, c->client_hs_secret);
    if (r) goto fail;
    /* The client's limit binds our first encrypted record; ours binds the
     * client once it has read EncryptedExtensions, i.e. from its Finished. */
    rsl_server_apply(c);
    conn_trace(c, "> ServerHello (TLS 1.3, %s, %s%s)", c->suite->name, certa_group_name(c->group),
               c->resumed ? ", resumed" : "");

    b.len = 0; /* EncryptedExtensions */
    bld_open(&b, 2);
    if (c->alpn[0]) {
        bld_u16(&b, EXT_ALPN);
        bld_open(&b, 2);
        bld_open(&b, 2);
        bld_open(&b, 1);
        bld_bytes(&b, c->alpn, strlen(c->alpn));
        bld_close(&b);
        bld_close(&b);
        bld_close(&b);
    }
    if (c->server_name[0]) { /* acknowledge SNI (RFC 6066 §3) */
        bld_u16(&b, EXT_SERVER_NAME);
        bld_u16(&b, 0);
    }
    if (c->peer_record_limit) rsl_put(&b, rsl_own_value(c->cfg, CERTA_TLS13));
    if (c->early_accepted) {
        bld_u16(&b, EXT_EARLY_DATA);
        bld_u16(&b, 0);
    }
    ech_server_put_retry_configs(c, &b);
    bld_close(&b);
    r = bld_ok(&b) ? conn_send_handshake(c, HS_ENCRYPTED_EXTENSIONS, b.buf, b.len) : CERTA_E_NOMEM;
    if (r) goto fail;
    conn_trace(c, "> EncryptedExtensions%s%s%s", c->alpn[0] ? " (ALPN " : "",
               c->alpn[0] ? c->alpn : "", c->early_accepted ? ", early data accepted" : "");

    if (c->resumed) { /* both sides' identities come from the ticket (§2.2) */
        bld_free(&b);
        if (send_finished(c, c->server_hs_secret) != 0) return c->error;
        r = ks_application_secrets(c);
        if (!r) r = conn_set_tx(c, c->server_app_secret);
        /* Accepted early data comes first, under its own key. */
        if (!r && c->early_accepted) r = conn_set_rx(c, c->client_early_secret);
        if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
        c->state = c->early_accepted ? ST_SERVER_WAIT_EOED : ST_SERVER_WAIT_FINISHED;
        return 0;
    }
    if (c->cfg->client_auth != CERTA_CLIENT_AUTH_NONE && send_certificate_request(c) != 0) {
        bld_free(&b);
        return c->error;
    }
    bld_free(&b);
    if (send_own_certificate(c, NULL, 0) != 0) return c->error;
    if (send_certificate_verify(c) != 0 || send_finished(c, c->server_hs_secret) != 0)
        return c->state == ST_FAILED ? c->error
                                     : conn_fail(c, CERTA_E_INTERNAL, ALERT_INTERNAL_ERROR, NULL);
    r = ks_application_secrets(c);
    if (!r) r = conn_set_tx(c, c->server_app_secret);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->state = c->cfg->client_auth != CERTA_CLIENT_AUTH_NONE ? ST_SERVER_WAIT_CERT
                                                             : ST_SERVER_WAIT_FINISHED;
    return 0;
fail:
    bld_free(&b);
    return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
}

/* A ClientHello that chose TLS 1.3 (the first, via client_hello.c, or the
 * second after HelloRetryRequest). */
int tls13_server_hello(certa_conn *c, client_hello *chp, const uint8_t *msg, size_t len) {
    client_hello ch = *chp;
    bool second = c->state == ST_SERVER_WAIT_CH2;
    const cipher_suite *retry_suite = c->suite;
    uint16_t retry_group = c->group;
    /* SNI first: it picks the certificate (the second ClientHello repeats
     * the first's, which the fingerprint below holds it to). */
    if (check_version(c, &ch) != 0 || choose_suite(c, &ch) != 0 ||
        (!second && read_server_name(c, &ch) != 0) || choose_identity(c, &ch) != 0)
        return c->error;
    bool need_retry = false;
    if (choose_group(c, &ch, &need_retry) != 0) return c->error;
    if (read_cert_compression(c, &ch.exts, "ClientHello") != 0) return c->error;
    if (!second && choose_alpn(c, &ch) != 0) return c->error;
    conn_trace(c, "< ClientHello%s (%zu suites, %zu groups%s%s)", second ? " (second)" : "",
               ch.suites.len / 2, ch.groups.len / 2, c->server_name[0] ? ", SNI " : "",
               c->server_name);
    /* Only a HelloRetryRequest needs ClientHello1's fingerprint, to hold
     * ClientHello2 against it. */
    uint8_t fingerprint[32];
    if ((second || need_retry) && hello_fingerprint(&ch, fingerprint) != 0)
        return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    if (second) {
        /* §4.1.2: the second ClientHello repeats the first except for the
         * key share (exactly the group asked for) and the cookie. */
        cursor one = ch.shares, key;
        uint16_t g;
        bool single = cur_u16(&one, &g) && cur_vec16(&one, &key) && cur_empty(&one);
        if (memcmp(fingerprint, c->hello_fingerprint, 32) != 0 || c->suite != retry_suite)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client's second ClientHello differs from its first beyond "
                             "the key share");
        if (need_retry || !single || g != retry_group || c->group != retry_group)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client's second ClientHello does not carry exactly the %s key "
                             "share the HelloRetryRequest asked for",
                             certa_group_name(retry_group));
    } else {
        if (need_retry) memcpy(c->hello_fingerprint, fingerprint, 32);
        memcpy(c->client_random, ch.random, 32);
        c->session_id_len = ch.session_id.len;
        memcpy(c->session_id, ch.session_id.data, ch.session_id.len);
    }
    early_offer eo;
    memset(&eo, 0, sizeof eo);
    eo.offered = !second && ext_find(&ch.exts, EXT_EARLY_DATA);
    if (!need_retry && try_resume(c, &ch, msg, &eo) != 0) return c->error;
    /* Early data not accepted is skipped (§4.2.10), until a record opens
     * with the handshake keys, or, after a HelloRetryRequest, until the
     * second ClientHello (which may offer none). */
    c->early_skip_left = eo.offered ? EARLY_DATA_SKIP_MAX : 0;
    int r = transcript_add(c, msg, len);
    if (!r) r = transcript_start(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    if (eo.offered && need_retry) {
        c->early_rejected = true;
        conn_trace(c, "  early data rejected: a HelloRetryRequest is needed: skipping it");
    } else if (early_server_decide(c, &eo) != 0) {
        crypto_zero(&eo, sizeof eo);
        return c->error;
    }
    crypto_zero(&eo, sizeof eo);
    if (need_retry) {
        if (send_hello_retry(c, &ch) != 0) return c->error;
        c->state = ST_SERVER_WAIT_CH2;
        return 0;
    }
    return send_server_flight(c, &ch);
}

static int on_second_client_hello(certa_conn *c, const uint8_t *msg, size_t len) {
    conn_keep_client_fingerprint(c, 1, msg, len);
    client_hello ch;
    memset(&ch, 0, sizeof ch);
    if (parse_client_hello(c, msg, len, &ch) != 0) return c->error;
    return ech_server_dispatch(c, &ch, msg, len, false, tls13_server_hello);
}

/* The client's Certificate body (from msg, or decompressed from it); msg
 * goes into the transcript as received. */
static int on_client_certificate_body(certa_conn *c, const uint8_t *body_bytes, size_t body_len,
                                      const uint8_t *msg, size_t len) {
    cursor body;
    cur_init(&body, body_bytes, body_len);
    if (peer_certificate_parse(c, &body) != 0) return c->error;
    if (c->peer_cert_count == 0) {
        if (c->cfg->client_auth == CERTA_CLIENT_AUTH_REQUIRE)
            return conn_fail(c, CERTA_E_CERTIFICATE_REQUIRED, 116,
                             "the client sent no certificate, and this server requires one: "
                             "configure the client's certificate and key");
        conn_trace(c, "< Certificate (empty: client chose not to authenticate)");
        if (policy_check(c) != 0) return c->error;
        c->state = ST_SERVER_WAIT_FINISHED;
    } else {
        if (peer_certificate_check(c) != 0) return c->error;
        c->state = ST_SERVER_WAIT_CV;
    }
    int r = transcript_add(c, msg, len);
    return r ? conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL) : 0;
}

static int on_client_certificate(certa_conn *c, const uint8_t *msg, size_t len) {
    return on_client_certificate_body(c, msg + 4, len - 4, msg, len);
}

static int on_client_compressed_certificate(certa_conn *c, const uint8_t *msg, size_t len) {
    uint8_t *body;
    size_t body_len;
    if (open_peer_compressed_certificate(c, msg, len, &body, &body_len) != 0) return c->error;
    int r = on_client_certificate_body(c, body, body_len, msg, len);
    free(body);
    return r;
}

static int on_client_certificate_verify(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body;
    cur_init(&body, msg + 4, len - 4);
    if (verify_peer_cv(c, &body) != 0 || policy_check(c) != 0) return c->error;
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->state = ST_SERVER_WAIT_FINISHED;
    return 0;
}

static int on_client_finished(certa_conn *c, const uint8_t *msg, size_t len) {
    if (check_finished(c, c->client_hs_secret, msg, len) != 0) return c->error;
    int r = transcript_add(c, msg, len);
    if (!r) r = conn_set_rx(c, c->client_app_secret);
    if (!r) r = send_session_tickets(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_handshake_finished(c);
    c->state = ST_CONNECTED;
    conn_trace(c, "handshake complete: TLS 1.3, %s, %s%s%s%s", c->suite->name,
               certa_group_name(c->group), c->alpn[0] ? ", ALPN " : "", c->alpn,
               c->resumed ? ", resumed" : "");
    return 0;
}

static const transition server_table[] = {
    {ST_SERVER_WAIT_CH, HS_CLIENT_HELLO, server_on_first_client_hello},
    {ST_SERVER_WAIT_CH2, HS_CLIENT_HELLO, on_second_client_hello},
    {ST_SERVER_WAIT_CERT, HS_CERTIFICATE, on_client_certificate},
    {ST_SERVER_WAIT_CERT, HS_COMPRESSED_CERTIFICATE, on_client_compressed_certificate},
    {ST_SERVER_WAIT_CV, HS_CERTIFICATE_VERIFY, on_client_certificate_verify},
    {ST_SERVER_WAIT_FINISHED, HS_FINISHED, on_client_finished},
    {ST_SERVER_WAIT_EOED, HS_END_OF_EARLY_DATA, early_on_end_of_early_data},
};

static const char *server_expects(conn_state s) {
    switch (s) {
    case ST_SERVER_WAIT_CH:
        return "ClientHello";
    case ST_SERVER_WAIT_CH2:
        return "the second ClientHello";
    case ST_SERVER_WAIT_CERT:
        return "the client's Certificate";
    case ST_SERVER_WAIT_CV:
        return "the client's CertificateVerify";
    case ST_SERVER_WAIT_FINISHED:
        return "Finished";
    case ST_SERVER_WAIT_EOED:
        return "EndOfEarlyData";
    default:
        return "nothing";
    }
}

int server_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len) {
    return run_transition(c, server_table, sizeof server_table / sizeof server_table[0], type, msg,
                          len, "client", server_expects(c->state));
}
