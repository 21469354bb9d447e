/* The TLS 1.2 server (RFC 5246, ECDHE + AEAD only, RFC 7627 extended master
 * secret, RFC 5746 renegotiation_info, RFC 5077 tickets). After ClientHello
 * (client_hello.c chose 1.2):
 *
 *   full:        > ServerHello Certificate ServerKeyExchange
 *                  [CertificateRequest] ServerHelloDone
 *                < [Certificate] ClientKeyExchange [CertificateVerify]
 *                  ChangeCipherSpec Finished
 *                > [NewSessionTicket] ChangeCipherSpec Finished
 *   abbreviated: > ServerHello [NewSessionTicket] ChangeCipherSpec Finished
 *                < ChangeCipherSpec Finished
 *
 * The table at the end says which message each state accepts. */
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Last 8 bytes of the random when a 1.3-capable server negotiates 1.2. */
static const uint8_t downgrade_tls12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};

/* RFC 8422 §5.1.1: supported_groups also limits the curve of an ECDSA
 * certificate. */
static bool curve_acceptable(const crypto_key *key, const client_hello *ch) {
    static const uint16_t by_scheme[][2] = {
        {CERTA_SIG_ECDSA_SECP256R1_SHA256, CERTA_GROUP_SECP256R1},
        {CERTA_SIG_ECDSA_SECP384R1_SHA384, CERTA_GROUP_SECP384R1},
        {CERTA_SIG_ECDSA_SECP521R1_SHA512, CERTA_GROUP_SECP521R1}};
    const cursor *sg = ext_find(&ch->exts, EXT_SUPPORTED_GROUPS);
    cursor groups;
    if (!sg || !u16_list(*sg, 2, &groups)) return true; /* no list: any curve */
    for (size_t i = 0; i < 3; i++)
        if (sig_scheme_fits_key(by_scheme[i][0], key)) return list_has_u16(groups, by_scheme[i][1]);
    return true;
}

/* The first of our suites (our order) the client offers that one of our
 * identities can sign for with a scheme the client accepts. by_name: only
 * identities with a certificate for that server name. */
static bool choose_pass(certa_conn *c, const client_hello *ch, cursor schemes, const char *by_name,
                        bool *curve_missing) {
    const certa_config *cfg = c->cfg;
    size_t by_len = by_name ? strlen(by_name) : 0; /* valid: identities_know_name said so */
    for (size_t i = 0; i < cfg->cipher12_count; i++) {
        if (!list_has_u16(ch->suites, cfg->ciphers12[i])) continue;
        const cipher_suite *suite = cipher_suite_find(cfg->ciphers12[i]);
        for (size_t k = 0; k < cfg->id_count; k++) {
            const identity *id = &cfg->ids[k];
            if (!identity_complete(id)) continue;
            if (by_name && !identity_name_match_valid(id, by_name, by_len)) continue;
            if (suite->auth == AUTH_ECDSA && !curve_acceptable(id->key, ch)) {
                *curve_missing = true;
                continue;
            }
            /* An ECDSA key signs with its own curve's hash when the client
             * allows it (P-256 with SHA-256), else with the client's first fit. */
            uint16_t chosen = 0, s;
            for (cursor list = schemes; cur_u16(&list, &s);) {
                bool ours = false;
                for (size_t j = 0; j < tls12_sig_schemes_count; j++)
                    ours = ours || tls12_sig_schemes[j] == s;
                if (!ours || !tls12_scheme_matches_auth(s, suite->auth) ||
                    !sig_scheme_fits_key_tls12(s, id->key))
                    continue;
                if (!chosen) chosen = s;
                if (suite->auth == AUTH_ECDSA && sig_scheme_fits_key(s, id->key)) {
                    chosen = s;
                    break;
                }
            }
            if (chosen) {
                c->suite = suite;
                c->id = id;
                c->sig_scheme = chosen;
                return true;
            }
        }
    }
    return false;
}

/* Identities for the client's server name first; the others only when none
 * of those fits and the config is not SNI-strict (identity.c's rule). */
static int choose_suite_and_identity(certa_conn *c, const client_hello *ch, cursor schemes) {
    const certa_config *cfg = c->cfg;
    bool curve_missing = false; /* an ECDSA identity fit but for its curve */
    bool by_name = c->server_name[0] && identities_know_name(cfg, c->server_name);
    if ((by_name && choose_pass(c, ch, schemes, c->server_name, &curve_missing)) ||
        ((!by_name || !cfg->sni_strict) && choose_pass(c, ch, schemes, NULL, &curve_missing))) {
        c->cert_name = identity_name_match(c->id, c->server_name);
        return 0;
    }
    char key[40] = "?";
    const identity *first = identity_first(cfg, c->server_name);
    if (first) key_describe(first->key, key, sizeof key);
    if (curve_missing)
        return conn_fail(c, CERTA_E_NO_COMMON_GROUP, ALERT_HANDSHAKE_FAILURE,
                         "the client's supported_groups leave out the curve of this server's %s "
                         "certificate, which in TLS 1.2 it must list to accept an ECDSA "
                         "signature (RFC 8422 §5.1): add that curve (e.g. P-256 / secp256r1) to "
                         "the client's groups",
                         key);
    return conn_fail(c, CERTA_E_NO_COMMON_CIPHER, ALERT_HANDSHAKE_FAILURE,
                     "the client offers no TLS 1.2 ECDHE+AEAD cipher suite and signature scheme "
                     "that this server's %s key can serve (certa has no CBC or RSA key "
                     "exchange): allow an ECDHE-%s AEAD suite on the client",
                     key, strncmp(key, "RSA", 3) == 0 ? "RSA" : "ECDSA");
}

static int choose_group(certa_conn *c, const client_hello *ch) {
    const certa_config *cfg = c->cfg;
    const cursor *sg = ext_find(&ch->exts, EXT_SUPPORTED_GROUPS);
    if (!sg) { /* RFC 8422 §4: the server may pick any curve */
        for (size_t i = 0; i < cfg->group_count; i++)
            if (!kex_group_tls13_only(cfg->groups[i])) {
                c->group = cfg->groups[i];
                return 0;
            }
    }
    cursor groups;
    if (sg && !u16_list(*sg, 2, &groups))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed supported_groups in ClientHello");
    /* FFDHE needs DHE suites in TLS 1.2 (RFC 7919), which certa lacks; the
     * hybrids are TLS 1.3 only. */
    for (size_t i = 0; sg && i < cfg->group_count; i++)
        if (!kex_group_tls13_only(cfg->groups[i]) && list_has_u16(groups, cfg->groups[i])) {
            c->group = cfg->groups[i];
            return 0;
        }
    return conn_fail(c, CERTA_E_NO_COMMON_GROUP, ALERT_HANDSHAKE_FAILURE,
                     "the client supports none of this server's ECDHE groups (%s%s%s): allow more "
                     "groups on one side",
                     certa_group_name(cfg->groups[0]), cfg->group_count > 1 ? ", " : "",
                     cfg->group_count > 1 ? certa_group_name(cfg->groups[1]) : "");
}

/* renegotiation_info, extended_master_secret, ec_point_formats. */
static int check_hello_extensions(certa_conn *c, const client_hello *ch) {
    const cursor *ri = ext_find(&ch->exts, EXT_RENEGOTIATION_INFO);
    if (ri) {
        cursor e = *ri, v;
        if (!cur_vec8(&e, &v) || !cur_empty(&e))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed renegotiation_info in ClientHello");
        if (v.len != 0) /* RFC 5746 §3.6: an initial handshake has it empty */
            return conn_fail(c, CERTA_E_RENEGOTIATION, ALERT_HANDSHAKE_FAILURE,
                             "the client's renegotiation_info is not empty on a new connection");
        c->secure_reneg = true;
    }
    if (list_has_u16(ch->suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV)) c->secure_reneg = true;
    const cursor *ems = ext_find(&ch->exts, EXT_EXTENDED_MASTER_SECRET);
    if (ems && ems->len != 0)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the client's extended_master_secret extension is not empty");
    c->ems = ems != NULL;
    if (!c->ems && c->cfg->require_ems)
        return conn_fail(c, CERTA_E_NO_EXTENDED_MASTER_SECRET, ALERT_HANDSHAKE_FAILURE,
                         "the client does not support the extended master secret (RFC 7627), "
                         "which this server requires for TLS 1.2: upgrade the client, or allow "
                         "legacy clients with --allow-no-ems");
    const cursor *pf = ext_find(&ch->exts, EXT_EC_POINT_FORMATS);
    if (pf) {
        cursor e = *pf, formats;
        if (!cur_vec8(&e, &formats) || !cur_empty(&e) || formats.len == 0)
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed ec_point_formats in ClientHello");
        if (!memchr(formats.data, 0, formats.len))
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client does not accept uncompressed EC points, which RFC 8422 "
                             "requires");
    }
    bool null_compression = memchr(ch->compression.data, 0, ch->compression.len) != NULL;
    if (!null_compression)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client does not offer null compression");
    return 0;
}

/* session_ticket (RFC 5077): resume from a ticket this server sealed, if
 * it is still good for this connection; otherwise a full handshake. */
static void try_ticket(certa_conn *c, const client_hello *ch) {
    const cursor *st = ext_find(&ch->exts, EXT_SESSION_TICKET);
    c->ticket_ext = st && c->cfg->tickets > 0 && c->cfg->ticket_keys != NULL;
    if (!st || st->len == 0 || c->cfg->tickets == 0) return;
    session_state s;
    const char *why = "it is not one of this server's tickets";
    if (ticket_open(c->cfg, st->data, st->len, &s) == 0) {
        why = ticket_unusable(c, &s, CERTA_TLS12);
        if (!why && !list_has_u16(ch->suites, s.suite))
            why = "the client no longer offers its suite";
        if (!why && s.ems != c->ems) why = "its extended master secret use differs (RFC 7627)";
        if (!why) {
            /* A ticket younger than half its lifetime stays in use: no new
             * one (and no session_ticket in ServerHello, RFC 5077 §3.2). */
            int64_t age = c->cfg->time_fn(c->cfg->time_arg) - s.issued;
            if (age < (int64_t)s.lifetime / 2) c->ticket_ext = false;
            c->resumed = true;
            c->suite = cipher_suite_find(s.suite);
            memcpy(c->master_secret, s.psk, TLS12_MASTER_LEN);
            c->peer = s.peer;
            c->auth_time = s.auth_time;
        }
        crypto_zero(&s, sizeof s);
    }
    if (c->resumed)
        conn_trace(c, "  resuming a TLS 1.2 session%s%s (identity verified %lld s ago)",
                   c->peer.present ? " of client " : "",
                   c->peer.present ? identity_label(&c->peer) : "",
                   (long long)(c->cfg->time_fn(c->cfg->time_arg) - c->auth_time));
    else
        conn_trace(c, "  session ticket not used: %s: full handshake", why);
}

static int send_server_hello(certa_conn *c, const client_hello *ch) {
    builder b;
    bld_init_alloc(&b, 256);
    bld_u16(&b, CERTA_TLS12);
    bld_bytes(&b, c->t12->server_random, 32);
    /* Resuming: echo the client's session ID (RFC 5077 §3.4); otherwise none
     * (no session cache: resumption is by ticket only). */
    size_t sid_len = c->resumed ? ch->session_id.len : 0;
    bld_u8(&b, (uint8_t)sid_len);
    bld_bytes(&b, ch->session_id.data, sid_len);
    bld_u16(&b, c->suite->id);
    bld_u8(&b, 0);
    bld_open(&b, 2);
    if (c->secure_reneg) {
        bld_u16(&b, EXT_RENEGOTIATION_INFO);
        bld_u16(&b, 1);
        bld_u8(&b, 0);
    }
    if (c->ems) {
        bld_u16(&b, EXT_EXTENDED_MASTER_SECRET);
        bld_u16(&b, 0);
    }
    if (ext_find(&ch->exts, EXT_EC_POINT_FORMATS) && !c->resumed) {
        bld_u16(&b, EXT_EC_POINT_FORMATS);
        bld_u16(&b, 2);
        bld_u8(&b, 1);
        bld_u8(&b, 0); /* uncompressed */
    }
    if (c->ticket_ext) {
        bld_u16(&b, EXT_SESSION_TICKET);
        bld_u16(&b, 0);
    }
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
    if (c->server_name[0] && !c->resumed) {
        bld_u16(&b, EXT_SERVER_NAME);
        bld_u16(&b, 0);
    }
    if (c->peer_record_limit) rsl_put(&b, rsl_own_value(c->cfg, CERTA_TLS12));
    if (c->staple_sent) { /* a CertificateStatus follows Certificate */
        bld_u16(&b, EXT_STATUS_REQUEST);
        bld_u16(&b, 0);
    }
    sct_put_list(c, &b); /* RFC 6962 §3.3.1, when asked */
    bld_close(&b);
    rsl_server_apply(c); /* from the first protected record on */
    int r = bld_ok(&b) ? conn_send_handshake(c, HS_SERVER_HELLO, b.buf, b.len) : CERTA_E_NOMEM;
    bld_free(&b);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "> ServerHello (TLS 1.2, %s%s%s%s)", c->suite->name,
               c->resumed ? ", resumed" : "", c->ems ? ", extended master secret" : "",
               c->cfg->max_version >= CERTA_TLS13 ? ", downgrade sentinel" : "");
    return 0;
}

/* ECParameters (named_curve) and our point, signed with the randoms. */
static int send_server_key_exchange(certa_conn *c) {
    uint8_t pub[CRYPTO_MAX_PUBKEY];
    size_t pub_len = sizeof pub;
    if (kex_generate(c->group, &c->kex_key, pub, &pub_len) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL);
    builder b;
    bld_init_alloc(&b, 1024);
    bld_bytes(&b, c->client_random, 32);
    bld_bytes(&b, c->t12->server_random, 32);
    size_t params = b.len;
    bld_u8(&b, 3); /* named_curve */
    bld_u16(&b, c->group);
    bld_u8(&b, (uint8_t)pub_len);
    bld_bytes(&b, pub, pub_len);
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    int r = bld_ok(&b) ? 0 : CERTA_E_NOMEM;
    if (!r && sig_sign_tls12(c->sig_scheme, c->id->key, b.buf, b.len, sig, &sig_len) != 0)
        r = CERTA_E_CRYPTO;
    if (!r) {
        bld_u16(&b, c->sig_scheme);
        bld_u16(&b, (uint16_t)sig_len);
        bld_bytes(&b, sig, sig_len);
        r = bld_ok(&b)
                ? conn_send_handshake(c, HS_SERVER_KEY_EXCHANGE, b.buf + params, b.len - params)
                : CERTA_E_NOMEM;
    }
    bld_free(&b);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "> ServerKeyExchange (%s, signed %s)", certa_group_name(c->group),
               certa_sig_scheme_name(c->sig_scheme));
    return 0;
}

static int send_certificate_request(certa_conn *c) {
    builder b;
    bld_init_alloc(&b, 1024);
    bld_u8(&b, 2);
    bld_u8(&b, 1);  /* rsa_sign */
    bld_u8(&b, 64); /* ecdsa_sign */
    bld_open(&b, 2);
    for (size_t i = 0; i < tls12_sig_schemes_count; i++)
        bld_u16(&b, tls12_sig_schemes[i]);
    bld_close(&b);
    put_ca_names(c, &b, true);
    int r =
        bld_ok(&b) ? conn_send_handshake(c, HS_CERTIFICATE_REQUEST, b.buf, b.len) : CERTA_E_NOMEM;
    bld_free(&b);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "> CertificateRequest (client certificate %s)",
               c->cfg->client_auth == CERTA_CLIENT_AUTH_REQUIRE ? "required" : "optional");
    return 0;
}

static int send_full_flight(certa_conn *c) {
    builder b;
    bld_init_alloc(&b, 4096);
    int r = tls12_build_certificate(c, &b);
    if (!r) r = conn_send_handshake(c, HS_CERTIFICATE, b.buf, b.len);
    bld_free(&b);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    char why[320];
    identity_choice_note(c, why, sizeof why);
    conn_trace(c, "> Certificate (%zu certificate%s%s)", c->id->count, c->id->count == 1 ? "" : "s",
               why);
    if (c->staple_sent && tls12_send_certificate_status(c) != 0) return c->error;
    if (send_server_key_exchange(c) != 0) return c->error;
    bool ask = c->cfg->client_auth != CERTA_CLIENT_AUTH_NONE;
    if (ask && send_certificate_request(c) != 0) return c->error;
    r = conn_send_handshake(c, HS_SERVER_HELLO_DONE, NULL, 0);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "> ServerHelloDone");
    c->state = ask ? ST12_SERVER_WAIT_CERT : ST12_SERVER_WAIT_CKE;
    return 0;
}

/* Abbreviated handshake: our Finished first, from the ticket's secret. */
static int send_resumed_flight(certa_conn *c) {
    int r = tls12_key_block(c);
    if (!r && c->ticket_ext) r = tls12_send_ticket(c);
    if (!r) r = tls12_send_ccs(c);
    if (!r) r = tls12_send_finished(c);
    if (r) return c->state == ST_FAILED ? c->error : conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->state = ST12_SERVER_WAIT_CCS;
    return 0;
}

int tls12_server_hello(certa_conn *c, client_hello *ch, const uint8_t *msg, size_t len) {
    if (tls12_handshake_start(c) != 0) return c->error;
    memcpy(c->client_random, ch->random, 32);
    if (read_server_name(c, ch) != 0 || sni_strict_check(c) != 0 || choose_alpn(c, ch) != 0 ||
        check_hello_extensions(c, ch) != 0)
        return c->error;
    const cursor *sa = ext_find(&ch->exts, EXT_SIGNATURE_ALGORITHMS);
    cursor schemes;
    if (!sa)
        return conn_fail(c, CERTA_E_NO_COMMON_SIGALG, ALERT_HANDSHAKE_FAILURE,
                         "the client sent no signature_algorithms, which in TLS 1.2 means SHA-1 "
                         "signatures only; certa does not sign with SHA-1");
    if (!u16_list(*sa, 2, &schemes))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed signature_algorithms in ClientHello");
    if (choose_suite_and_identity(c, ch, schemes) != 0 || choose_group(c, ch) != 0) return c->error;
    conn_trace(c, "< ClientHello (TLS 1.2, %zu suites%s%s)", ch->suites.len / 2,
               c->server_name[0] ? ", SNI " : "", c->server_name);
    try_ticket(c, ch);
    if (config_random(c->cfg, c->t12->server_random, 32) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, "no randomness available");
    if (c->cfg->max_version >= CERTA_TLS13) memcpy(c->t12->server_random + 24, downgrade_tls12, 8);
    /* The ClientHello joins the transcript now that the suite fixes its hash. */
    int r = transcript_add(c, msg, len);
    if (!r && !c->resumed && c->cfg->client_auth != CERTA_CLIENT_AUTH_NONE) {
        c->t12->hs_log_on = true;
        bld_bytes(&c->t12->hs_log, msg, len);
    }
    if (!r) r = transcript_start(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->staple_sent = !c->resumed && staple_available(c);
    if (send_server_hello(c, ch) != 0) return c->error;
    return c->resumed ? send_resumed_flight(c) : send_full_flight(c);
}

static int on_client_certificate(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body;
    cur_init(&body, msg + 4, len - 4);
    if (peer_certificate_parse(c, &body) != 0) return c->error;
    if (c->peer_cert_count == 0) {
        if (c->cfg->client_auth == CERTA_CLIENT_AUTH_REQUIRE)
            return conn_fail(c, CERTA_E_CERTIFICATE_REQUIRED, ALERT_HANDSHAKE_FAILURE,
                             "the client sent no certificate, and this server requires one: "
                             "configure the client's certificate and key");
        conn_trace(c, "< Certificate (empty: client chose not to authenticate)");
        if (policy_check(c) != 0) return c->error;
    } else if (peer_certificate_check(c) != 0) {
        return c->error;
    }
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->state = ST12_SERVER_WAIT_CKE;
    return 0;
}

static int on_client_key_exchange(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body, point;
    cur_init(&body, msg + 4, len - 4);
    if (!cur_vec8(&body, &point) || point.len == 0 || !cur_empty(&body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the client's ClientKeyExchange is malformed");
    uint8_t pms[CRYPTO_MAX_SHARED];
    size_t pms_len = sizeof pms;
    if (kex_derive(c->group, c->kex_key, point.data, point.len, pms, &pms_len) != 0)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client's %s public key is not valid", certa_group_name(c->group));
    kex_free(c->kex_key);
    c->kex_key = NULL;
    conn_trace(c, "< ClientKeyExchange (%s)", certa_group_name(c->group));
    int r = transcript_add(c, msg, len);
    if (!r) r = tls12_master_secret(c, pms, pms_len);
    crypto_zero(pms, sizeof pms);
    if (!r) r = tls12_key_block(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->state = c->peer_cert_count > 0 ? ST12_SERVER_WAIT_CV : ST12_SERVER_WAIT_CCS;
    return 0;
}

static int on_client_certificate_verify(certa_conn *c, const uint8_t *msg, size_t len) {
    if (tls12_verify_certificate_verify(c, msg, len) != 0 || policy_check(c) != 0) return c->error;
    c->state = ST12_SERVER_WAIT_CCS;
    return 0;
}

static int on_client_finished(certa_conn *c, const uint8_t *msg, size_t len) {
    if (tls12_check_finished(c, msg, len) != 0) return c->error;
    if (!c->resumed) {
        int r = c->ticket_ext ? tls12_send_ticket(c) : 0;
        if (!r) r = tls12_send_ccs(c);
        if (!r) r = tls12_send_finished(c);
        if (r)
            return c->state == ST_FAILED ? c->error : conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    }
    tls12_connected(c);
    return 0;
}

static const transition tls12_server_table[] = {
    {ST12_SERVER_WAIT_CERT, HS_CERTIFICATE, on_client_certificate},
    {ST12_SERVER_WAIT_CKE, HS_CLIENT_KEY_EXCHANGE, on_client_key_exchange},
    {ST12_SERVER_WAIT_CV, HS_CERTIFICATE_VERIFY, on_client_certificate_verify},
    {ST12_SERVER_WAIT_FINISHED, HS_FINISHED, on_client_finished},
};

static const char *server_expects(conn_state s) {
    switch (s) {
    case ST12_SERVER_WAIT_CERT:
        return "the client's Certificate";
    case ST12_SERVER_WAIT_CKE:
        return "ClientKeyExchange";
    case ST12_SERVER_WAIT_CV:
        return "the client's CertificateVerify";
    case ST12_SERVER_WAIT_CCS:
        return "ChangeCipherSpec";
    case ST12_SERVER_WAIT_FINISHED:
        return "Finished";
    default:
        return "nothing";
    }
}

int tls12_server_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len) {
    return run_transition(c, tls12_server_table,
                          sizeof tls12_server_table / sizeof tls12_server_table[0], type, msg, len,
                          "client", server_expects(c->state));
}
