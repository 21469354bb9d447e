/* OCSP stapling: the server's configured responses (one per identity) and
 * their CertificateStatus, the client's status_request and its judgement
 * of what the server stapled (RFC 6066 §8, RFC 8446 §4.4.2.1, RFC 7633).
 *
 *   CertificateStatus ::= struct { uint8 status_type = ocsp(1);
 *                                  opaque OCSPResponse<1..2^24-1>; }
 *
 * The responses may be replaced while a config is in use (a fetcher
 * refreshing them), so they are read and written under one lock; the
 * server copies the bytes out while holding it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"
#include "x509/cert.h"
#include "x509/extensions.h"
#include "x509/ocsp.h"

#define STATUS_TYPE_OCSP 1

static pthread_mutex_t staple_lock = PTHREAD_MUTEX_INITIALIZER;

int certa_config_set_identity_ocsp_response(certa_config *cfg, size_t index, const uint8_t *der,
                                            size_t len) {
    if (!cfg || (!der && len)) return CERTA_E_INVALID_ARGUMENT;
    if (index >= cfg->id_count || cfg->ids[index].count == 0)
        return config_err(cfg, CERTA_E_CONFIG,
                          "no certificate %zu to staple an OCSP response for: load the "
                          "certificate first",
                          index);
    identity *id = &cfg->ids[index];
    uint8_t *copy = NULL;
    int64_t expiry = 0;
    if (der) {
        if (len == 0 || len >= (1u << 24))
            return config_err(cfg, CERTA_E_CERT_STATUS,
                              "an OCSP response of %zu bytes cannot be "
                              "stapled",
                              len);
        expiry = ocsp_expiry(der, len);
        if (expiry < 0)
            return config_err(cfg, CERTA_E_CERT_STATUS,
                              "the OCSP response to staple is not a successful DER OCSPResponse "
                              "(RFC 6960): fetch it again from the responder");
        x509_cert leaf, issuer;
        if (id->count > 1 && x509_parse(&leaf, id->chain[0], id->lens[0]) == 0 &&
            x509_parse(&issuer, id->chain[1], id->lens[1]) == 0) {
            ocsp_result res;
            ocsp_outcome o =
                ocsp_check(der, len, &leaf, &issuer, cfg->time_fn(cfg->time_arg), &res);
            if (o != OCSP_OK && o != OCSP_E_REVOKED && o != OCSP_E_UNKNOWN)
                return config_err(cfg, CERTA_E_CERT_STATUS, "cannot staple it: %s", res.text);
        }
        copy = malloc(len);
        if (!copy) return CERTA_E_NOMEM;
        memcpy(copy, der, len);
    }
    pthread_mutex_lock(&staple_lock);
    uint8_t *old = id->ocsp;
    id->ocsp = copy;
    id->ocsp_len = copy ? len : 0;
    id->ocsp_expiry = expiry;
    pthread_mutex_unlock(&staple_lock);
    free(old);
    return CERTA_OK;
}

int certa_config_set_ocsp_response(certa_config *cfg, const uint8_t *der, size_t len) {
    return certa_config_set_identity_ocsp_response(cfg, 0, der, len);
}

bool staple_available(const certa_conn *c) {
    if (!c->status_requested || !c->id) return false;
    int64_t now = c->cfg->time_fn(c->cfg->time_arg);
    pthread_mutex_lock(&staple_lock);
    bool ok = c->id->ocsp && now <= c->id->ocsp_expiry;
    pthread_mutex_unlock(&staple_lock);
    return ok;
}

bool staple_put(certa_conn *c, builder *b) {
    if (!c->status_requested || !c->id) return false;
    int64_t now = c->cfg->time_fn(c->cfg->time_arg);
    bool done = false;
    pthread_mutex_lock(&staple_lock);
    if (c->id->ocsp && now <= c->id->ocsp_expiry) {
        bld_u8(b, STATUS_TYPE_OCSP);
        bld_open(b, 3);
        bld_bytes(b, c->id->ocsp, c->id->ocsp_len);
        bld_close(b);
        done = true;
    }
    pthread_mutex_unlock(&staple_lock);
    return done;
}

void staple_put_request(builder *b) {
    /* status_type ocsp, no responder_id_list, no request_extensions */
    static const uint8_t body[] = {STATUS_TYPE_OCSP, 0, 0, 0, 0};
    bld_u16(b, EXT_STATUS_REQUEST);
    bld_u16(b, sizeof body);
    bld_bytes(b, body, sizeof body);
}

int staple_receive(certa_conn *c, cursor status, const char *where) {
    uint8_t type;
    cursor resp;
    if (!cur_u8(&status, &type) || type != STATUS_TYPE_OCSP || !cur_vec24(&status, &resp) ||
        resp.len == 0 || !cur_empty(&status))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the server's %s is not a well-formed OCSP CertificateStatus", where);
    if (c->peer_ocsp)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the server stapled a second OCSP response");
    c->peer_ocsp = malloc(resp.len);
    if (!c->peer_ocsp) return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    memcpy(c->peer_ocsp, resp.data, resp.len);
    c->peer_ocsp_len = resp.len;
    return 0;
}

/* The leaf's status is still unknown after the CRLs (leaf_status_pending)
 * and the staple did not settle it: require refuses, prefer notes. */
static int leaf_unvouched(certa_conn *c, const char *whose, certa_revocation mode,
                          const char *staple) {
    if (!c->leaf_status_pending) return 0;
    char *why = c->leaf_status_pending;
    c->leaf_status_pending = NULL;
    int r = 0;
    if (mode == CERTA_REVOCATION_REQUIRE)
        r = conn_fail(c, CERTA_E_CERT_STATUS, ALERT_CERTIFICATE_UNKNOWN,
                      "the %s's certificate was refused: %s, and %s (revocation is required)",
                      whose, why, staple);
    else
        conn_revocation_note(c, "%s", why);
    free(why);
    return r;
}

int staple_check(certa_conn *c) {
    if (c->staple_checked) return 0;
    c->staple_checked = true;
    if (c->peer_cert_count == 0) return 0;
    x509_cert leaf, issuer;
    x509_exts e;
    char why[160];
    if (x509_parse(&leaf, c->peer_certs[0], c->peer_cert_lens[0]) != 0 ||
        x509_parse_extensions(&leaf, &e, why, sizeof why) != X509_EXT_OK)
        e.must_staple = false; /* validation already judged the certificate */
    const char *whose = c->is_server ? "client" : "server";
    certa_revocation mode = conn_revocation_mode(c, 0);
    if (!c->peer.verified || !c->peer_issuer) {
        /* Pinned, insecure or self-issued: there is no issuer to check a staple against. */
        if (c->peer_ocsp)
            conn_trace(c,
                       "  OCSP staple: %zu bytes, not checked (the %s's key is pinned or not "
                       "verified)",
                       c->peer_ocsp_len, whose);
        return 0;
    }
    if (!c->peer_ocsp) {
        if (e.must_staple)
            return conn_fail(c, CERTA_E_CERT_STATUS, ALERT_BAD_CERTIFICATE_STATUS_RESPONSE,
                             "the %s's certificate requires an OCSP staple (TLS Feature "
                             "status_request, RFC 7633 must-staple) and none was sent: have the "
                             "%s staple a fresh OCSP response (e.g. certa serve --ocsp-fetch)",
                             whose, whose);
        conn_trace(c, "  OCSP staple: none");
        return leaf_unvouched(c, whose, mode, "no OCSP staple was sent");
    }
    if (mode == CERTA_REVOCATION_OFF && !e.must_staple) {
        conn_trace(c, "  OCSP staple: %zu bytes, not checked (revocation off)", c->peer_ocsp_len);
        return 0;
    }
    if (x509_parse(&issuer, c->peer_issuer, c->peer_issuer_len) != 0)
        return conn_fail(c, CERTA_E_INTERNAL, ALERT_INTERNAL_ERROR, NULL);
    ocsp_result res;
    /* The same staple comes on every connection to a server until it is
     * refreshed: its signature is verified once per config (ocsp.h). */
    ocsp_outcome o =
        ocsp_check_cached(c->peer_ocsp, c->peer_ocsp_len, &leaf, &issuer,
                          c->cfg->time_fn(c->cfg->time_arg), &c->cfg->ocsp_cache, &res);
    if (o == OCSP_OK) {
        conn_trace(c, "  OCSP staple: %s", res.text);
        c->staple_good = true;
        if (c->leaf_status_pending) {
            conn_trace(c, "  revocation: the %s's leaf is vouched for by its OCSP staple", whose);
            free(c->leaf_status_pending);
            c->leaf_status_pending = NULL;
        }
        return 0;
    }
    if (o == OCSP_E_REVOKED)
        return conn_fail(c, CERTA_E_CERT_REVOKED, ALERT_CERTIFICATE_REVOKED,
                         "the %s's certificate was refused: %s", whose, res.text);
    /* Stale or "unknown": no status, which prefer notes and require refuses;
     * a must-staple certificate demands a good one whatever the mode. */
    if ((o == OCSP_E_STALE || o == OCSP_E_UNKNOWN) && !e.must_staple &&
        mode != CERTA_REVOCATION_REQUIRE) {
        conn_revocation_note(c, "the OCSP staple gives no status: %s", res.text);
        return leaf_unvouched(c, whose, mode, "its OCSP staple gave no status");
    }
    return conn_fail(c, CERTA_E_CERT_STATUS, ALERT_BAD_CERTIFICATE_STATUS_RESPONSE,
                     "the %s's OCSP staple was refused: %s", whose, res.text);
}

int tls12_send_certificate_status(certa_conn *c) {
    builder b;
    bld_init_alloc(&b, 2048);
    bool put = staple_put(c, &b);
    int r = !put         ? 0
            : bld_ok(&b) ? conn_send_handshake(c, HS_CERTIFICATE_STATUS, b.buf, b.len)
                         : CERTA_E_NOMEM;
    size_t n = b.len;
    bld_free(&b);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    if (put) conn_trace(c, "> CertificateStatus (OCSP response, %zu bytes)", n - 4);
    return 0;
}
