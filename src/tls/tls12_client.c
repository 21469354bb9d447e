/* The TLS 1.2 client, after a ServerHello that chose 1.2 (tls13_client.c
 * sends the ClientHello for both versions and reads the ServerHello):
 *
 *   full:        < Certificate ServerKeyExchange [CertificateRequest]
 *                  ServerHelloDone
 *                > [Certificate] ClientKeyExchange [CertificateVerify]
 *                  ChangeCipherSpec Finished
 *                < [NewSessionTicket] ChangeCipherSpec Finished
 *   abbreviated: < [NewSessionTicket] ChangeCipherSpec Finished
 *                > ChangeCipherSpec Finished
 *
 * The table at the end says which message each state accepts. */
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>

static bool offered_suite12(const certa_config *cfg, uint16_t id) {
    for (size_t i = 0; i < cfg->cipher12_count; i++)
        if (cfg->ciphers12[i] == id) return true;
    return false;
}

/* An ECDHE group we offered: a named-curve ServerKeyExchange cannot carry
 * an FFDHE group (RFC 8422 5.4, RFC 7919 4) or a hybrid (TLS 1.3 only). */
static bool offered_group(const certa_config *cfg, uint16_t g) {
    if (kex_group_tls13_only(g)) return false;
    for (size_t i = 0; i < cfg->group_count; i++)
        if (cfg->groups[i] == g) return true;
    return false;
}

static bool offered_session12(const certa_conn *c) {
    return c->offered && cipher_suite_find(c->offered->suite)->version == CERTA_TLS12;
}

/* The ServerHello's extensions: only what we offered, each well-formed. */
static int read_extensions(certa_conn *c, const server_hello *sh) {
    for (size_t i = 0; i < sh->exts.count; i++) {
        cursor e = sh->exts.bodies[i], v;
        switch (sh->exts.types[i]) {
        case EXT_RENEGOTIATION_INFO:
            if (!cur_vec8(&e, &v) || !cur_empty(&e))
                return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                                 "malformed renegotiation_info in ServerHello");
            if (v.len != 0) /* RFC 5746 §3.4 */
                return conn_fail(c, CERTA_E_RENEGOTIATION, ALERT_HANDSHAKE_FAILURE,
                                 "the server's renegotiation_info is not empty on a new "
                                 "connection");
            c->secure_reneg = true;
            break;
        case EXT_EXTENDED_MASTER_SECRET:
        case EXT_SESSION_TICKET:
            if (e.len != 0)
                return conn_fail(
                    c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "the server's %s extension is not empty",
                    sh->exts.types[i] == EXT_SESSION_TICKET ? "session_ticket"
                                                            : "extended_master_secret");
            if (sh->exts.types[i] == EXT_SESSION_TICKET)
                c->ticket_ext = true;
            else
                c->ems = true;
            break;
        case EXT_EC_POINT_FORMATS:
            if (!cur_vec8(&e, &v) || !cur_empty(&e) || v.len == 0)
                return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                                 "malformed ec_point_formats in ServerHello");
            if (!memchr(v.data, 0, v.len))
                return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                                 "the server does not accept uncompressed EC points");
            break;
        case EXT_ALPN:
            if (client_read_alpn(c, e) != 0) return c->error;
            break;
        case EXT_RECORD_SIZE_LIMIT:
            if (rsl_client_read(c, e, "ServerHello") != 0) return c->error;
            break;
        case EXT_STATUS_REQUEST: /* a CertificateStatus may follow Certificate */
            if (e.len != 0)
                return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                                 "the server's status_request extension is not empty");
            c->staple_expected = true;
            break;
        case EXT_SCT:
            if (sct_receive(c, e, "ServerHello") != 0) return c->error;
            break;
        case EXT_SERVER_NAME:
            if (e.len != 0 || !c->server_name[0])
                return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                                 "the server acknowledged a server_name we did not send");
            break;
        default:
            return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                             "the server's TLS 1.2 ServerHello carries extension %u, which was "
                             "not offered",
                             sh->exts.types[i]);
        }
    }
    if (!c->ems && c->cfg->require_ems)
        return conn_fail(c, CERTA_E_NO_EXTENDED_MASTER_SECRET, ALERT_HANDSHAKE_FAILURE,
                         "the server does not support the extended master secret (RFC 7627), "
                         "which certa requires for TLS 1.2: upgrade the server, or allow it "
                         "explicitly with --allow-no-ems");
    if (!c->secure_reneg)
        conn_trace(c, "  the server does not signal secure renegotiation (RFC 5746); harmless, "
                      "certa never renegotiates");
    return 0;
}

int tls12_client_server_hello(certa_conn *c, const server_hello *sh, const uint8_t *msg,
                              size_t len) {
    c->version = CERTA_TLS12;
    if (tls12_handshake_start(c) != 0) return c->error;
    const cipher_suite *suite = cipher_suite_find(sh->suite);
    if (!suite || suite->version != CERTA_TLS12 || !offered_suite12(c->cfg, sh->suite))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server selected cipher suite 0x%04x for TLS 1.2, which was not "
                         "offered",
                         sh->suite);
    if (sh->compression != 0)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server selected compression method %u", sh->compression);
    c->suite = suite;
    memcpy(c->t12->server_random, sh->random, 32);
    if (read_extensions(c, sh) != 0) return c->error;
    /* RFC 5077 §3.4: the server echoes our session ID to accept the ticket. */
    bool echoed = sh->session_id.len == c->session_id_len && c->session_id_len > 0 &&
                  memcmp(sh->session_id.data, c->session_id, c->session_id_len) == 0;
    if (echoed) {
        const session_state *s = c->offered;
        if (!offered_session12(c))
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the server claims to resume a TLS 1.2 session we did not offer");
        if (s->suite != sh->suite || s->ems != c->ems)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the server resumed our session with another cipher suite or "
                             "extended master secret setting");
        c->resumed = true;
        memcpy(c->master_secret, s->psk, TLS12_MASTER_LEN);
        c->peer = s->peer;
        c->auth_time = s->auth_time;
    } else if (!c->resumed) {
        /* Until ServerHelloDone we do not know if a CertificateRequest
         * comes: keep the messages a CertificateVerify would sign. */
        c->t12->hs_log_on = true;
        if (c->first_hello) bld_bytes(&c->t12->hs_log, c->first_hello, c->first_hello_len);
    }
    int r = transcript_start(c);
    if (!r) r = transcript_add(c, msg, len);
    if (!r && c->resumed) r = tls12_key_block(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "< ServerHello (TLS 1.2, %s%s%s)", suite->name,
               c->resumed   ? ", resumed"
               : c->offered ? ", session ticket declined"
                            : "",
               c->ems ? ", extended master secret" : "");
    if (c->resumed) {
        trace_resumed_server(c);
        c->state = ST12_CLIENT_WAIT_CCS;
    } else {
        c->state = ST12_CLIENT_WAIT_CERT;
    }
    return 0;
}

static int on_certificate(certa_conn *c, const uint8_t *msg, size_t len) {
    if (client_on_server_certificate(c, msg, len) != 0) return c->error;
    c->state = ST12_CLIENT_WAIT_SKE;
    return 0;
}

/* The stapled OCSP response (RFC 6066 §8): only after the server echoed
 * status_request, at most once. */
static int on_certificate_status(certa_conn *c, const uint8_t *msg, size_t len) {
    if (!c->staple_expected || c->peer_ocsp)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the server sent CertificateStatus without acknowledging "
                         "status_request in its ServerHello");
    cursor body;
    cur_init(&body, msg + 4, len - 4);
    if (staple_receive(c, body, "CertificateStatus") != 0) return c->error;
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "< CertificateStatus (OCSP response, %zu bytes)", c->peer_ocsp_len);
    if (staple_check(c) != 0) return c->error;
    return sct_check(c);
}

/* ECParameters + point, signed over the randoms with the certificate key:
 * this is where a TLS 1.2 server proves it holds its key. */
static int on_server_key_exchange(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body, point, sig;
    uint8_t curve_type;
    uint16_t group, scheme;
    if (staple_check(c) != 0 || sct_check(c) != 0) return c->error; /* no CertificateStatus */
    cur_init(&body, msg + 4, len - 4);
    if (!cur_u8(&body, &curve_type) || curve_type != 3 || !cur_u16(&body, &group) ||
        !cur_vec8(&body, &point) || point.len == 0)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the server's ServerKeyExchange is malformed (certa accepts named "
                         "curves only)");
    size_t params_len = (size_t)(point.data + point.len - (msg + 4));
    if (!cur_u16(&body, &scheme) || !cur_vec16(&body, &sig) || !cur_empty(&body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the server's ServerKeyExchange signature is malformed");
    if (!offered_group(c->cfg, group))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server chose group %s (0x%04x), which was not offered",
                         certa_group_name(group), group);
    bool known = false;
    for (size_t i = 0; i < tls12_sig_schemes_count; i++)
        known = known || tls12_sig_schemes[i] == scheme;
    if (!known || !tls12_scheme_matches_auth(scheme, c->suite->auth) ||
        !sig_scheme_fits_key_tls12(scheme, c->peer_key))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server signed with %s (0x%04x), which was not offered or does not "
                         "fit its certificate's key",
                         certa_sig_scheme_name(scheme), scheme);
    builder signed_data;
    bld_init_alloc(&signed_data, 64 + params_len);
    bld_bytes(&signed_data, c->client_random, 32);
    bld_bytes(&signed_data, c->t12->server_random, 32);
    bld_bytes(&signed_data, msg + 4, params_len);
    int v = bld_ok(&signed_data) ? sig_verify_tls12(scheme, c->peer_key, signed_data.buf,
                                                    signed_data.len, sig.data, sig.len)
                                 : -2;
    bld_free(&signed_data);
    if (v != 0)
        return conn_fail(c, CERTA_E_BAD_SIGNATURE, ALERT_DECRYPT_ERROR,
                         "the server's ServerKeyExchange signature (%s) does not verify with its "
                         "certificate's key: the server does not hold that key, or the handshake "
                         "was altered",
                         certa_sig_scheme_name(scheme));
    c->peer_sig_scheme = scheme;
    c->group = group;
    if (!(c->t12->peer_share = malloc(point.len)))
        return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    memcpy(c->t12->peer_share, point.data, point.len);
    c->t12->peer_share_len = point.len;
    conn_trace(c, "< ServerKeyExchange (%s, %s, valid)", certa_group_name(group),
               certa_sig_scheme_name(scheme));
    if (policy_check(c) != 0) return c->error;
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->state = ST12_CLIENT_WAIT_CR_SHD;
    return 0;
}

static int on_certificate_request(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body, types, schemes, cas;
    cur_init(&body, msg + 4, len - 4);
    if (!cur_vec8(&body, &types) || types.len == 0 || !cur_vec16(&body, &schemes) ||
        schemes.len < 2 || schemes.len % 2 || !cur_vec16(&body, &cas) || !cur_empty(&body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed CertificateRequest");
    c->cert_requested = true;
    c->id = identity_choose_tls12(c->cfg, schemes, &cas, &c->sig_scheme);
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    certificate_request_seen(c, &cas);
    c->state = ST12_CLIENT_WAIT_SHD;
    return 0;
}

/* Our flight: [Certificate] ClientKeyExchange [CertificateVerify]
 * ChangeCipherSpec Finished. */
static int on_server_hello_done(certa_conn *c, const uint8_t *msg, size_t len) {
    if (len != 4)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the server's ServerHelloDone is not empty");
    int r = transcript_add(c, msg, len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "< ServerHelloDone");
    builder b;
    bld_init_alloc(&b, 4096);
    if (c->cert_requested) {
        r = tls12_build_certificate(c, &b);
        if (!r) r = conn_send_handshake(c, HS_CERTIFICATE, b.buf, b.len);
        if (!r)
            conn_trace(c, "> Certificate (%zu certificate%s)", c->id ? c->id->count : 0,
                       c->id && c->id->count == 1 ? "" : "s");
    }
    uint8_t pub[CRYPTO_MAX_PUBKEY], pms[CRYPTO_MAX_SHARED];
    size_t pub_len = sizeof pub, pms_len = sizeof pms;
    kex_free(c->kex_key); /* the TLS 1.3 key shares, if 1.3 was offered too */
    c->kex_key = NULL;
    kex_free(c->kex_key2);
    c->kex_key2 = NULL;
    if (!r && kex_generate(c->group, &c->kex_key, pub, &pub_len) != 0) r = CERTA_E_CRYPTO;
    if (!r && kex_derive(c->group, c->kex_key, c->t12->peer_share, c->t12->peer_share_len, pms,
                         &pms_len) != 0) {
        bld_free(&b);
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server's %s public key is not valid", certa_group_name(c->group));
    }
    if (!r) {
        b.len = 0;
        bld_u8(&b, (uint8_t)pub_len);
        bld_bytes(&b, pub, pub_len);
        r = bld_ok(&b) ? conn_send_handshake(c, HS_CLIENT_KEY_EXCHANGE, b.buf, b.len)
                       : CERTA_E_NOMEM;
    }
    bld_free(&b);
    if (!r) conn_trace(c, "> ClientKeyExchange (%s)", certa_group_name(c->group));
    if (!r) r = tls12_master_secret(c, pms, pms_len);
    crypto_zero(pms, sizeof pms);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    if (c->cert_requested && c->id && tls12_send_certificate_verify(c) != 0) return c->error;
    kex_free(c->kex_key);
    c->kex_key = NULL;
    r = tls12_key_block(c);
    if (!r) r = tls12_send_ccs(c);
    if (!r) r = tls12_send_finished(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->t12->hs_log_on = false;
    bld_free(&c->t12->hs_log);
    bld_init_alloc(&c->t12->hs_log, 0);
    c->state = ST12_CLIENT_WAIT_CCS;
    return 0;
}

static int on_finished(certa_conn *c, const uint8_t *msg, size_t len) {
    if (tls12_check_finished(c, msg, len) != 0) return c->error;
    int r = 0;
    if (c->resumed) {
        r = tls12_send_ccs(c);
        if (!r) r = tls12_send_finished(c);
    }
    if (!r) r = tls12_store_session(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    tls12_connected(c);
    return 0;
}

static const transition tls12_client_table[] = {
    {ST12_CLIENT_WAIT_CERT, HS_CERTIFICATE, on_certificate},
    {ST12_CLIENT_WAIT_SKE, HS_CERTIFICATE_STATUS, on_certificate_status},
    {ST12_CLIENT_WAIT_SKE, HS_SERVER_KEY_EXCHANGE, on_server_key_exchange},
    {ST12_CLIENT_WAIT_CR_SHD, HS_CERTIFICATE_REQUEST, on_certificate_request},
    {ST12_CLIENT_WAIT_CR_SHD, HS_SERVER_HELLO_DONE, on_server_hello_done},
    {ST12_CLIENT_WAIT_SHD, HS_SERVER_HELLO_DONE, on_server_hello_done},
    {ST12_CLIENT_WAIT_CCS, HS_NEW_SESSION_TICKET, tls12_on_new_session_ticket},
    {ST12_CLIENT_WAIT_FINISHED, HS_FINISHED, on_finished},
};

static const char *client_expects(conn_state s) {
    switch (s) {
    case ST12_CLIENT_WAIT_CERT:
        return "the server's Certificate";
    case ST12_CLIENT_WAIT_SKE:
        return "ServerKeyExchange";
    case ST12_CLIENT_WAIT_CR_SHD:
        return "CertificateRequest or ServerHelloDone";
    case ST12_CLIENT_WAIT_SHD:
        return "ServerHelloDone";
    case ST12_CLIENT_WAIT_CCS:
        return "NewSessionTicket or ChangeCipherSpec";
    case ST12_CLIENT_WAIT_FINISHED:
        return "Finished";
    default:
        return "nothing";
    }
}

int tls12_client_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len) {
    return run_transition(c, tls12_client_table,
                          sizeof tls12_client_table / sizeof tls12_client_table[0], type, msg, len,
                          "server", client_expects(c->state));
}
