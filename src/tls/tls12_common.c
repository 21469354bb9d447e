/* TLS 1.2 pieces both sides share: signature schemes, Certificate,
 * CertificateVerify over the handshake log, ChangeCipherSpec, Finished,
 * and the end of a handshake. */
#include "tls/tls.h"
#include "x509/cert.h"

#include <stdlib.h>
#include <string.h>

/* TLS 1.3's schemes in the same order — ECDSA with any curve here (1.2
 * binds only the hash), EdDSA (RFC 8422), RSA-PSS with either key type —
 * then PKCS#1 v1.5, which TLS 1.2 still signs with; never SHA-1. One
 * ClientHello offering both versions lists exactly this. */
const uint16_t tls12_sig_schemes[] = {
    CERTA_SIG_ECDSA_SECP256R1_SHA256,
    CERTA_SIG_ECDSA_SECP384R1_SHA384,
    CERTA_SIG_ECDSA_SECP521R1_SHA512,
    CERTA_SIG_ED25519,
    CERTA_SIG_ED448,
    CERTA_SIG_RSA_PSS_RSAE_SHA256,
    CERTA_SIG_RSA_PSS_RSAE_SHA384,
    CERTA_SIG_RSA_PSS_RSAE_SHA512,
    CERTA_SIG_RSA_PSS_PSS_SHA256,
    CERTA_SIG_RSA_PSS_PSS_SHA384,
    CERTA_SIG_RSA_PSS_PSS_SHA512,
    CERTA_SIG_RSA_PKCS1_SHA256,
    CERTA_SIG_RSA_PKCS1_SHA384,
    CERTA_SIG_RSA_PKCS1_SHA512,
};
const size_t tls12_sig_schemes_count = sizeof tls12_sig_schemes / sizeof tls12_sig_schemes[0];

static bool scheme_known(uint16_t scheme) {
    for (size_t i = 0; i < tls12_sig_schemes_count; i++)
        if (tls12_sig_schemes[i] == scheme) return true;
    return false;
}

/* ECDHE_ECDSA suites take ECDSA and EdDSA (RFC 8422 §5.1); ECDHE_RSA
 * suites take PKCS#1 v1.5 and RSA-PSS with either key type. */
bool tls12_scheme_matches_auth(uint16_t scheme, suite_auth auth) {
    bool ecdsa = ((scheme & 0xff) == 0x03 && scheme >> 8 >= 4 && scheme >> 8 <= 6) ||
                 scheme == CERTA_SIG_ED25519 || scheme == CERTA_SIG_ED448;
    bool rsa =
        ((scheme & 0xff) == 0x01 && scheme >> 8 >= 4 && scheme >> 8 <= 6) ||
        (scheme >= CERTA_SIG_RSA_PSS_RSAE_SHA256 && scheme <= CERTA_SIG_RSA_PSS_RSAE_SHA512) ||
        (scheme >= CERTA_SIG_RSA_PSS_PSS_SHA256 && scheme <= CERTA_SIG_RSA_PSS_PSS_SHA512);
    return auth == AUTH_ANY || (auth == AUTH_ECDSA ? ecdsa : rsa);
}

int tls12_send_ccs(certa_conn *c) {
    static const uint8_t one = 1;
    int r = record_write(&c->tx, &c->out, CONTENT_CHANGE_CIPHER_SPEC, &one, 1);
    if (!r) r = tls12_set_tx(c);
    if (!r) conn_trace(c, "> ChangeCipherSpec");
    return r;
}

int tls12_on_ccs(certa_conn *c, const uint8_t *data, size_t len) {
    if (len != 1 || data[0] != 1)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the peer sent a malformed ChangeCipherSpec (%zu bytes)", len);
    if (c->state != ST12_CLIENT_WAIT_CCS && c->state != ST12_SERVER_WAIT_CCS)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the peer sent ChangeCipherSpec before the keys were agreed (or twice)");
    int r = tls12_set_rx(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "< ChangeCipherSpec");
    c->state = c->is_server ? ST12_SERVER_WAIT_FINISHED : ST12_CLIENT_WAIT_FINISHED;
    return 0;
}

int tls12_send_finished(certa_conn *c) {
    uint8_t data[TLS12_FINISHED_LEN];
    int r = tls12_finished_data(c, !c->is_server, data);
    if (!r) r = conn_send_handshake(c, HS_FINISHED, data, sizeof data);
    if (!r) reneg_keep_verify_data(c, true, data);
    crypto_zero(data, sizeof data);
    if (!r) conn_trace(c, "> Finished");
    return r;
}

int tls12_check_finished(certa_conn *c, const uint8_t *msg, size_t len) {
    if (len != 4 + TLS12_FINISHED_LEN)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the peer's Finished has the wrong length (%zu, expected %d)", len - 4,
                         TLS12_FINISHED_LEN);
    uint8_t data[TLS12_FINISHED_LEN];
    if (tls12_finished_data(c, c->is_server, data) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL);
    bool ok = crypto_equal_ct(data, msg + 4, sizeof data);
    if (ok) reneg_keep_verify_data(c, false, data);
    crypto_zero(data, sizeof data);
    if (!ok)
        return conn_fail(c, CERTA_E_BAD_FINISHED, ALERT_DECRYPT_ERROR,
                         "the peer's Finished does not match the transcript: the handshake was "
                         "altered in transit or the peer derived different keys");
    conn_trace(c, "< Finished (verified)");
    return transcript_add(c, msg, len) == 0
               ? 0
               : conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL);
}

int tls12_build_certificate(certa_conn *c, builder *b) {
    bld_open(b, 3);
    for (size_t i = 0; c->id && i < c->id->count; i++) {
        bld_open(b, 3);
        bld_bytes(b, c->id->chain[i], c->id->lens[i]);
        bld_close(b);
    }
    bld_close(b);
    return bld_ok(b) ? 0 : CERTA_E_NOMEM;
}

/* The log holds every handshake message so far, CertificateVerify's input. */
int tls12_send_certificate_verify(certa_conn *c) {
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    if (!bld_ok(&c->t12->hs_log) || sig_sign_tls12(c->sig_scheme, c->id->key, c->t12->hs_log.buf,
                                                   c->t12->hs_log.len, sig, &sig_len) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR,
                         "signing CertificateVerify with %s failed in libcrypto",
                         certa_sig_scheme_name(c->sig_scheme));
    int r = send_signature_message(c, HS_CERTIFICATE_VERIFY, c->sig_scheme, sig, sig_len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    conn_trace(c, "> CertificateVerify (%s)", certa_sig_scheme_name(c->sig_scheme));
    return 0;
}

int tls12_verify_certificate_verify(certa_conn *c, const uint8_t *msg, size_t len) {
    cursor body, sig;
    uint16_t scheme;
    cur_init(&body, msg + 4, len - 4);
    if (!cur_u16(&body, &scheme) || !cur_vec16(&body, &sig) || !cur_empty(&body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the peer's CertificateVerify is malformed");
    if (!scheme_known(scheme) || !sig_scheme_fits_key_tls12(scheme, c->peer_key))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the peer signed with %s (0x%04x), which was not offered or does not "
                         "fit its certificate's key",
                         certa_sig_scheme_name(scheme), scheme);
    if (!bld_ok(&c->t12->hs_log) || sig_verify_tls12(scheme, c->peer_key, c->t12->hs_log.buf,
                                                     c->t12->hs_log.len, sig.data, sig.len) != 0)
        return conn_fail(c, CERTA_E_BAD_SIGNATURE, ALERT_DECRYPT_ERROR,
                         "the peer's CertificateVerify (%s) does not verify with its "
                         "certificate's key: the peer does not hold that key, or the handshake "
                         "was altered",
                         certa_sig_scheme_name(scheme));
    c->peer_sig_scheme = scheme;
    conn_trace(c, "< CertificateVerify (%s, valid)", certa_sig_scheme_name(scheme));
    return transcript_add(c, msg, len) == 0
               ? 0
               : conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL);
}

int tls12_handshake_start(certa_conn *c) {
    if (c->t12) return 0;
    if (!(c->t12 = calloc(1, sizeof *c->t12)))
        return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    bld_init_alloc(&c->t12->hs_log, 0);
    return 0;
}

void tls12_handshake_free(certa_conn *c) {
    tls12_handshake *t = c->t12;
    if (!t) return;
    bld_free(&t->hs_log);
    free(t->peer_share);
    free(t->new_ticket); /* a ticket is sealed: no secret in it */
    crypto_zero(t, sizeof *t);
    free(t);
    c->t12 = NULL;
}

void tls12_connected(certa_conn *c) {
    exporter_keep_tls12(c);
    tls12_handshake_free(c);
    conn_handshake_finished(c);
    c->state = ST_CONNECTED;
    conn_trace(c, "handshake complete: TLS 1.2, %s, %s%s%s%s%s", c->suite->name,
               certa_group_name(c->group), c->alpn[0] ? ", ALPN " : "", c->alpn,
               c->resumed ? ", resumed" : "",
               c->ems ? "" : ", WITHOUT extended master secret (allowed for a legacy peer)");
}
