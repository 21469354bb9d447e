/* Handshake pieces both sides share: extension blocks, the Certificate
 * message, CertificateVerify over the transcript, and Finished. */
#include "tls/tls.h"
#include "x509/verify.h"
#include "x509/cert.h"
#include "x509/trust.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const uint8_t hello_retry_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

int run_transition(certa_conn *c, const transition *table, size_t count, uint8_t type,
                   const uint8_t *msg, size_t len, const char *peer, const char *awaited) {
    for (size_t i = 0; i < count; i++)
        if (table[i].state == c->state && table[i].type == type)
            return table[i].handle(c, msg, len);
    return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the %s sent %s (type %u) while waiting for %s", peer, hs_message_name(type),
                     type, awaited);
}

bool is_ip_literal(const char *name) {
    uint8_t buf[16];
    return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

int ext_parse(certa_conn *c, const char *message, cursor *block, ext_list *out) {
    out->count = 0;
    while (!cur_empty(block)) {
        uint16_t type;
        cursor body;
        if (!cur_u16(block, &type) || !cur_vec16(block, &body))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "the peer's %s has a malformed extension list", message);
        for (size_t i = 0; i < out->count; i++)
            if (out->types[i] == type)
                return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                                 "the peer's %s carries extension %u twice", message, type);
        if (out->count == MAX_EXTENSIONS)
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "the peer's %s carries more than %d extensions", message,
                             MAX_EXTENSIONS);
        out->types[out->count] = type;
        out->bodies[out->count] = body;
        out->count++;
        out->last_type = type;
    }
    return 0;
}

/* The extension types a server looks at in a ClientHello. */
static bool hello_extension_read(uint16_t type) {
    switch (type) {
    case EXT_SERVER_NAME:
    case EXT_SUPPORTED_GROUPS:
    case EXT_EC_POINT_FORMATS:
    case EXT_SIGNATURE_ALGORITHMS:
    case EXT_ALPN:
    case EXT_EXTENDED_MASTER_SECRET:
    case EXT_SESSION_TICKET:
    case EXT_PRE_SHARED_KEY:
    case EXT_EARLY_DATA:
    case EXT_SUPPORTED_VERSIONS:
    case EXT_COOKIE:
    case EXT_PSK_KEY_EXCHANGE_MODES:
    case EXT_KEY_SHARE:
    case EXT_RENEGOTIATION_INFO:
    case EXT_RECORD_SIZE_LIMIT:
    case EXT_COMPRESS_CERTIFICATE:
    case EXT_STATUS_REQUEST:
    case EXT_SCT:
    case EXT_ENCRYPTED_CLIENT_HELLO:
        return true;
    default:
        return false;
    }
}

int ext_parse_client_hello(certa_conn *c, cursor *block, ext_list *out) {
    uint64_t seen[65536 / 64] = {0}; /* 8 KiB: one bit per extension type */
    out->count = 0;
    while (!cur_empty(block)) {
        uint16_t type;
        cursor body;
        if (!cur_u16(block, &type) || !cur_vec16(block, &body))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "the peer's ClientHello has a malformed extension list");
        uint64_t bit = (uint64_t)1 << (type % 64);
        if (seen[type / 64] & bit)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the peer's ClientHello carries extension %u twice", type);
        seen[type / 64] |= bit;
        out->last_type = type;
        if (!hello_extension_read(type)) continue;
        out->types[out->count] = type; /* fewer known types than MAX_EXTENSIONS */
        out->bodies[out->count] = body;
        out->count++;
    }
    return 0;
}

const cursor *ext_find(const ext_list *l, uint16_t type) {
    for (size_t i = 0; i < l->count; i++)
        if (l->types[i] == type) return &l->bodies[i];
    return NULL;
}

/* Certificate with our chosen identity's chain (none if c->id is NULL). */
int build_certificate(certa_conn *c, builder *b, const uint8_t *context, size_t context_len) {
    bld_open(b, 1);
    bld_bytes(b, context, context_len);
    bld_close(b);
    bld_open(b, 3);
    for (size_t i = 0; c->id && i < c->id->count; i++) {
        bld_open(b, 3);
        bld_bytes(b, c->id->chain[i], c->id->lens[i]);
        bld_close(b);
        bld_open(b, 2);
        if (i == 0 && c->is_server && c->status_requested) { /* RFC 8446 §4.4.2.1 */
            size_t at = b->len;
            bld_u16(b, EXT_STATUS_REQUEST);
            bld_open(b, 2);
            c->staple_sent = staple_put(c, b);
            bld_close(b);
            if (!c->staple_sent) b->len = at; /* nothing to staple: no extension */
        }
        if (i == 0 && c->is_server) sct_put_list(c, b); /* RFC 6962 §3.3.1, when asked */
        bld_close(b);
    }
    bld_close(b);
    return bld_ok(b) ? 0 : CERTA_E_NOMEM;
}

/* TLS 1.3: context, then entries of certificate + extensions; TLS 1.2: a
 * plain list of certificates (RFC 5246 §7.4.2). */
int peer_certificate_parse(certa_conn *c, cursor *body) {
    bool tls12 = c->version == CERTA_TLS12;
    cursor context = {NULL, 0}, list;
    if ((!tls12 && !cur_vec8(body, &context)) || !cur_vec24(body, &list) || !cur_empty(body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the peer's Certificate message is malformed");
    /* Servers send an empty context; ours to clients is empty too. */
    if (context.len != 0)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the peer's Certificate has an unexpected request context");
    while (!cur_empty(&list)) {
        cursor der, exts;
        exts.len = 0;
        if (!cur_vec24(&list, &der) || der.len == 0 || (!tls12 && !cur_vec16(&list, &exts)))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "the peer's Certificate message has a malformed entry");
        while (!cur_empty(&exts)) { /* as a client we ask for OCSP and SCTs only */
            uint16_t type;
            cursor ext;
            if (!cur_u16(&exts, &type) || !cur_vec16(&exts, &ext))
                return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                                 "the peer's Certificate has a malformed entry extension list");
            if (type == EXT_SCT && !c->is_server) {
                if (c->peer_cert_count == 0 && sct_receive(c, ext, "certificate entry") != 0)
                    return c->error;
                continue;
            }
            if (type != EXT_STATUS_REQUEST || c->is_server)
                return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                                 "the peer's certificate entry carries extension %u, which was "
                                 "not requested",
                                 type);
            if (c->peer_cert_count == 0 && staple_receive(c, ext, "stapled OCSP response") != 0)
                return c->error; /* intermediates' staples are ignored */
        }
        if (c->peer_cert_count == c->cfg->max_chain)
            return conn_fail(c, CERTA_E_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE,
                             "the peer sent more than %u certificates, the configured limit: "
                             "trim the chain, or raise max_chain_length",
                             c->cfg->max_chain);
        uint8_t *copy = malloc(der.len);
        if (!copy) return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
        memcpy(copy, der.data, der.len);
        c->peer_certs[c->peer_cert_count] = copy;
        c->peer_cert_lens[c->peer_cert_count] = der.len;
        c->peer_cert_count++;
    }
    if (c->peer_cert_count == 0) return 0; /* the caller decides if that is allowed */
    x509_cert leaf;
    if (x509_parse(&leaf, c->peer_certs[0], c->peer_cert_lens[0]) != 0)
        return conn_fail(c, CERTA_E_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE,
                         "the peer's certificate is not valid DER X.509");
    c->peer_key = key_from_spki(leaf.spki.data, leaf.spki.len);
    if (!c->peer_key)
        return conn_fail(c, CERTA_E_BAD_CERTIFICATE, ALERT_UNSUPPORTED_CERTIFICATE,
                         "the peer's certificate has a public key type certa does not support "
                         "(use ECDSA P-256/P-384, RSA or Ed25519)");
    char subject[200];
    if (x509_name_to_string(&leaf.subject, subject, sizeof subject) != 0) strcpy(subject, "?");
    conn_trace(c, "< Certificate (%zu certificate%s; leaf subject: %s)", c->peer_cert_count,
               c->peer_cert_count == 1 ? "" : "s", subject);
    return 0;
}

/* The leaf's issuer on the validated path, for checking an OCSP staple:
 * a certificate the peer sent, or the trust anchor whose subject it names. */
static void find_issuer(certa_conn *c, const certa_trust *trust, const certa_verify_result *res) {
    c->peer_issuer = NULL;
    if (res->path_len < 2) return; /* the leaf is itself trusted */
    size_t idx = res->path_index[1];
    if (idx < c->peer_cert_count) {
        c->peer_issuer = c->peer_certs[idx];
        c->peer_issuer_len = c->peer_cert_lens[idx];
        return;
    }
    x509_cert leaf, a;
    if (x509_parse(&leaf, c->peer_certs[0], c->peer_cert_lens[0]) != 0) return;
    for (size_t i = 0; i < trust_anchor_count(trust); i++) {
        size_t len;
        const uint8_t *der = trust_anchor_der(trust, i, &len);
        char subject[256];
        if (!der || x509_parse(&a, der, len) != 0 || a.subject.len != leaf.issuer.len ||
            memcmp(a.subject.data, leaf.issuer.data, a.subject.len) != 0)
            continue;
        /* several anchors may share the name: the one path validation used prints the same */
        if (x509_name_to_string(&a.subject, subject, sizeof subject) == 0 &&
            strcmp(subject, res->path_subject[1]) != 0)
            continue;
        c->peer_issuer = der;
        c->peer_issuer_len = len;
        return;
    }
}

/* Chain validation against the trust set (for the server name, on the
 * client), unless the user chose an SPKI pin or insecure mode instead. */
static int validate_chain(certa_conn *c) {
    certa_config *cfg = c->cfg;
    const char *whose = c->is_server ? "client" : "server";
    const certa_trust *trust = config_trust(cfg);
    bool no_bundle = false;
    const certa_trust *td_trust = spiffe_bundle_for(cfg, c->peer.spiffe_id, &no_bundle);
    if (no_bundle)
        return conn_fail(c, CERTA_E_CERT_UNKNOWN_ISSUER,
                         alert_for_error(CERTA_E_CERT_UNKNOWN_ISSUER),
                         "the %s's SPIFFE ID %s is in a trust domain this side has no bundle "
                         "for: federate with that trust domain (its bundle), or the peer has "
                         "the wrong identity",
                         whose, c->peer.spiffe_id);
    if (td_trust) {
        trust = td_trust;
        conn_trace(c, "  trust: the bundle of %s's trust domain", c->peer.spiffe_id);
    }
    if (!trust || certa_trust_count(trust) == 0)
        return conn_fail(c, CERTA_E_TRUST_EMPTY, 48,
                         "cannot verify the %s's certificate: no trust anchors are loaded — pass "
                         "a CA bundle (--trust), or install the system bundle (ca-certificates)",
                         whose);
    certa_verify_params params;
    memset(&params, 0, sizeof params);
    params.purpose = c->is_server ? CERTA_PURPOSE_CLIENT : CERTA_PURPOSE_SERVER;
    if (!c->is_server) {
        if (is_ip_literal(c->server_name))
            params.ip = c->server_name;
        else
            params.dns_name = c->server_name;
    }
    params.time = cfg->time_fn(cfg->time_arg);
    params.max_work = cfg->max_verify_work;
    /* The CRLs as they are now: a reload during this validation waits for the next one. */
    crl_set *crls = config_crls_acquire(cfg);
    params.crl_count = crl_set_items(crls, &params.crls, &params.crl_lens);
    certa_revocation mode = conn_revocation_mode(c, params.crl_count);
    /* The verifier never refuses an unknown status here: a client's leaf may
     * still be vouched for by its OCSP staple, judged after the chain. */
    params.revocation =
        mode == CERTA_REVOCATION_OFF ? CERTA_REVOCATION_OFF : CERTA_REVOCATION_PREFER;
    /* prefer without CRLs (a client's default): only the staple speaks, and
     * "no CRL loaded" for every certificate would be noise. */
    if (mode == CERTA_REVOCATION_PREFER && params.crl_count == 0)
        params.revocation = CERTA_REVOCATION_OFF;
    certa_verify_result res;
    int code =
        x509_verify_chain_indexed(trust, (const uint8_t *const *)c->peer_certs, c->peer_cert_lens,
                                  c->peer_cert_count, &params, crl_set_indexes(crls), &res);
    crl_set_release(crls);
    if (code != CERTA_OK)
        return conn_fail(c, code, alert_for_error(code), "the %s's certificate was refused: %s",
                         whose, res.text);
    c->peer.verified = true;
    find_issuer(c, trust, &res);
    for (size_t i = 0; i < res.path_len; i++)
        conn_trace(c, "  %s %s", i == 0 ? "verified:" : "   issued by", res.path_subject[i]);
    if (res.revocation_unknown) {
        /* Only a client's leaf may still be vouched for, by its staple: staple_check decides. */
        if (!c->is_server && res.revocation_unknown == 1u) {
            if (!(c->leaf_status_pending = strdup(res.revocation_text)))
                return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
        } else if (mode == CERTA_REVOCATION_REQUIRE) {
            return conn_fail(c, CERTA_E_CERT_STATUS, ALERT_CERTIFICATE_UNKNOWN,
                             "the %s's certificate was refused: %s (revocation is required)", whose,
                             res.revocation_text);
        } else {
            conn_revocation_note(c, "%s", res.revocation_text);
        }
    } else if (mode != CERTA_REVOCATION_OFF && params.crl_count && res.path_len > 1) {
        conn_trace(c, "  revocation: not revoked per the CRLs of every issuer on the path");
    }
    return 0;
}

int peer_certificate_check(certa_conn *c) {
    const certa_config *cfg = c->cfg;
    x509_cert leaf;
    char pin[64];
    if (x509_parse(&leaf, c->peer_certs[0], c->peer_cert_lens[0]) != 0 ||
        x509_spki_pin(&leaf, pin, sizeof pin) != 0 ||
        peer_identity_fill(c->peer_certs[0], c->peer_cert_lens[0], &c->peer) != 0)
        return conn_fail(c, CERTA_E_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE, NULL);
    if (peer_key_size_check(c) != 0) return c->error; /* even when pinned or insecure */
    if (cfg->pin_count > 0) {
        uint8_t hash[32];
        if (hash_oneshot(HASH_SHA256, leaf.spki.data, leaf.spki.len, hash) != 0)
            return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL);
        for (size_t i = 0; i < cfg->pin_count; i++)
            if (crypto_equal_ct(hash, cfg->pins[i], 32)) {
                conn_trace(c, "  peer key matches pin %s", pin);
                c->peer.verified = true;
                return 0;
            }
        /* ECH rejected: this is the public name's certificate, which the pins
         * (the real server's keys) do not speak for; RFC 9849 §6.1.7 has the
         * client verify it for the public name, so the trust anchors do. */
        if (ech_client_rejected(c)) {
            const certa_trust *trust = config_trust(c->cfg);
            if (trust && certa_trust_count(trust) > 0 && validate_chain(c) == 0) return 0;
            return ech_client_public_name_unverified(c, pin); /* or validate_chain's error */
        }
        return conn_fail(c, CERTA_E_PIN_MISMATCH, ALERT_BAD_CERTIFICATE,
                         "the peer's public key %s matches none of the %zu pinned key%s: the "
                         "peer's key changed, or this is not the peer you meant",
                         pin, cfg->pin_count, cfg->pin_count == 1 ? "" : "s");
    }
    if (cfg->insecure) {
        conn_trace(c, "  WARNING: peer identity NOT verified (insecure mode); its key is %s", pin);
        return 0;
    }
    if (validate_chain(c) != 0) return c->error;
    /* A client judges SCTs once the OCSP staple (which may carry some) is in. */
    return c->is_server ? sct_check(c) : 0;
}

/* 64 spaces, the context string, a zero byte, the transcript hash (§4.4.3). */
int cv_content(certa_conn *c, bool server_side, uint8_t *out, size_t *len) {
    static const char server_ctx[] = "TLS 1.3, server CertificateVerify";
    static const char client_ctx[] = "TLS 1.3, client CertificateVerify";
    const char *ctx = server_side ? server_ctx : client_ctx;
    memset(out, 0x20, 64);
    memcpy(out + 64, ctx, sizeof server_ctx); /* includes the zero byte */
    size_t n = 64 + sizeof server_ctx;
    if (transcript_hash(c, out + n) != 0) return CERTA_E_CRYPTO;
    *len = n + hash_len(c->suite->hash);
    return 0;
}

static bool scheme_offered(uint16_t scheme) {
    for (size_t i = 0; i < tls13_sig_schemes_count; i++)
        if (tls13_sig_schemes[i] == scheme) return true;
    return false;
}

int verify_peer_cv(certa_conn *c, cursor *body) {
    uint16_t scheme;
    cursor sig;
    if (!cur_u16(body, &scheme) || !cur_vec16(body, &sig) || !cur_empty(body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the peer's CertificateVerify is malformed");
    if (!scheme_offered(scheme) || !sig_scheme_fits_key(scheme, c->peer_key))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the peer signed with %s (0x%04x), which was not offered or does not "
                         "fit its certificate's key",
                         certa_sig_scheme_name(scheme), scheme);
    uint8_t content[200];
    size_t content_len;
    if (cv_content(c, !c->is_server, content, &content_len) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL);
    int r = sig_verify(scheme, c->peer_key, content, content_len, sig.data, sig.len);
    if (r != 0)
        return conn_fail(c, CERTA_E_BAD_SIGNATURE, ALERT_DECRYPT_ERROR,
                         "the peer's CertificateVerify (%s) does not verify with its "
                         "certificate's key: the peer does not hold that key, or the handshake "
                         "was altered",
                         certa_sig_scheme_name(scheme));
    c->peer_sig_scheme = scheme;
    conn_trace(c, "< CertificateVerify (%s, valid)", certa_sig_scheme_name(scheme));
    return 0;
}

int send_certificate_verify(certa_conn *c) {
    uint8_t content[200];
    size_t content_len;
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    if (cv_content(c, c->is_server, content, &content_len) != 0 ||
        sig_sign(c->sig_scheme, c->id->key, content, content_len, sig, &sig_len) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR,
                         "signing CertificateVerify with %s failed in libcrypto",
                         certa_sig_scheme_name(c->sig_scheme));
    int r = send_signature_message(c, HS_CERTIFICATE_VERIFY, c->sig_scheme, sig, sig_len);
    if (!r) conn_trace(c, "> CertificateVerify (%s)", certa_sig_scheme_name(c->sig_scheme));
    return r;
}

int send_finished(certa_conn *c, const uint8_t *base_secret) {
    uint8_t mac[CRYPTO_MAX_HASH];
    int r = ks_finished_mac(c, base_secret, mac);
    if (!r) r = conn_send_handshake(c, HS_FINISHED, mac, hash_len(c->suite->hash));
    crypto_zero(mac, sizeof mac);
    if (!r) conn_trace(c, "> Finished");
    return r;
}

int check_finished(certa_conn *c, const uint8_t *base_secret, const uint8_t *msg, size_t len) {
    size_t hl = hash_len(c->suite->hash);
    if (len != 4 + hl)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the peer's Finished has the wrong length (%zu, expected %zu)", len - 4,
                         hl);
    uint8_t mac[CRYPTO_MAX_HASH];
    if (ks_finished_mac(c, base_secret, mac) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_INTERNAL_ERROR, NULL);
    bool ok = crypto_equal_ct(mac, msg + 4, hl);
    crypto_zero(mac, sizeof mac);
    if (!ok)
        return conn_fail(c, CERTA_E_BAD_FINISHED, ALERT_DECRYPT_ERROR,
                         "the peer's Finished does not match the transcript: the handshake was "
                         "altered in transit or the peer derived different keys");
    conn_trace(c, "< Finished (verified)");
    return 0;
}

int client_on_server_certificate(certa_conn *c, const uint8_t *msg, size_t len) {
    return client_on_server_certificate_body(c, msg + 4, len - 4, msg, len);
}

int client_on_server_certificate_body(certa_conn *c, const uint8_t *body_bytes, size_t body_len,
                                      const uint8_t *msg, size_t len) {
    cursor body;
    cur_init(&body, body_bytes, body_len);
    if (peer_certificate_parse(c, &body) != 0) return c->error;
    if (c->peer_cert_count == 0)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the server sent an empty Certificate message");
    if (peer_certificate_check(c) != 0) return c->error;
    if (c->version == CERTA_TLS13 && (staple_check(c) != 0 || sct_check(c) != 0))
        return c->error; /* 1.2: after CertificateStatus */
    int r = transcript_add(c, msg, len);
    return r ? conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL) : 0;
}

void certificate_request_seen(certa_conn *c, const cursor *ca_names) {
    if (ca_names && ca_names->len && !c->requested_cas &&
        (c->requested_cas = malloc(ca_names->len))) {
        memcpy(c->requested_cas, ca_names->data, ca_names->len);
        c->requested_cas_len = ca_names->len;
    }
    if (c->id)
        conn_trace(c, "< CertificateRequest (will answer with our certificate, %s)",
                   certa_sig_scheme_name(c->sig_scheme));
    else
        conn_trace(c, "< CertificateRequest (no suitable client certificate configured: will send "
                      "none)");
    if (!c->trace_fn) return;
    /* The CAs the server accepts, as far as one trace line holds them. */
    char list[400] = "";
    size_t n = 0, shown = 0;
    cursor names = ca_names ? *ca_names : (cursor){NULL, 0};
    cursor dn;
    while (cur_vec16(&names, &dn)) {
        char one[160];
        n++;
        if (x509_name_to_string(&dn, one, sizeof one) != 0)
            snprintf(one, sizeof one, "(unreadable)");
        size_t have = strlen(list);
        if (have + strlen(one) + 3 < sizeof list) {
            snprintf(list + have, sizeof list - have, "%s%s", shown ? "; " : "", one);
            shown++;
        }
    }
    if (n == 0)
        conn_trace(c, "  certificate authorities: none named");
    else
        conn_trace(c, "  certificate authorities (%zu): %s%s", n, list, shown < n ? "; ..." : "");
}

size_t certa_conn_requested_ca_count(const certa_conn *c) {
    if (!c || !c->requested_cas) return 0;
    cursor names, dn;
    cur_init(&names, c->requested_cas, c->requested_cas_len);
    size_t n = 0;
    while (cur_vec16(&names, &dn))
        n++;
    return n;
}

int certa_conn_requested_ca_name(const certa_conn *c, size_t index, char *buf, size_t cap) {
    if (!c || !buf || cap == 0) return CERTA_E_INVALID_ARGUMENT;
    buf[0] = 0;
    cursor names, dn;
    cur_init(&names, c->requested_cas, c->requested_cas ? c->requested_cas_len : 0);
    for (size_t i = 0; cur_vec16(&names, &dn); i++)
        if (i == index) {
            char full[1024]; /* x509_name_to_string refuses a short buffer */
            if (x509_name_to_string(&dn, full, sizeof full) != 0) return CERTA_E_DECODE;
            snprintf(buf, cap, "%s", full);
            return CERTA_OK;
        }
    return CERTA_E_INVALID_ARGUMENT;
}

void trace_resumed_server(certa_conn *c) {
    conn_trace(c, "  resumed: server identity %s from the session (verified %lld s ago)",
               identity_label(&c->peer),
               (long long)(c->cfg->time_fn(c->cfg->time_arg) - c->auth_time));
}

int send_signature_message(certa_conn *c, uint8_t type, uint16_t scheme, const uint8_t *sig,
                           size_t sig_len) {
    uint8_t body[4 + CRYPTO_MAX_SIG];
    if (sig_len > CRYPTO_MAX_SIG) return CERTA_E_INTERNAL;
    body[0] = (uint8_t)(scheme >> 8);
    body[1] = (uint8_t)scheme;
    body[2] = (uint8_t)(sig_len >> 8);
    body[3] = (uint8_t)sig_len;
    memcpy(body + 4, sig, sig_len);
    return conn_send_handshake(c, type, body, 4 + sig_len);
}

/* ---- certificate compression (RFC 8879; the codecs are in cert_compression.c) ---- */

void put_cert_compression(const certa_config *cfg, builder *b) {
    if (!cfg->cert_comp_count) return;
    bld_u16(b, EXT_COMPRESS_CERTIFICATE);
    bld_open(b, 2);
    bld_open(b, 1);
    for (size_t i = 0; i < cfg->cert_comp_count; i++)
        bld_u16(b, cfg->cert_comp[i]);
    bld_close(b);
    bld_close(b);
}

int read_cert_compression(certa_conn *c, const ext_list *exts, const char *message) {
    const cursor *e = ext_find(exts, EXT_COMPRESS_CERTIFICATE);
    if (!e || !c->cfg->cert_comp_count) return 0;
    if (!cert_compression_choose(*e, c->cfg->cert_comp, c->cfg->cert_comp_count,
                                 &c->cert_compress_alg))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed compress_certificate in the peer's %s", message);
    return 0;
}

/* The identity's empty-context Certificate compressed with codec index,
 * from the config's cache (made on first use, under the lock, by whichever
 * connection comes first); NULL when compressing does not make it smaller
 * or failed. */
static const uint8_t *cached_compressed(certa_config *cfg, const identity *id, int index,
                                        const uint8_t *body, size_t len, size_t *out_len) {
    cert_cache_entry *e = &cfg->cert_cache[id - cfg->ids][index];
    if (!atomic_load_explicit(&e->ready, memory_order_acquire)) {
        pthread_mutex_lock(&cfg->cert_cache_lock);
        if (!atomic_load_explicit(&e->ready, memory_order_relaxed)) {
            uint8_t *msg;
            size_t n;
            if (compressed_certificate_build(cert_codec_at(index), body, len, &msg, &n) == 0) {
                if (n < len) {
                    e->msg = msg;
                    e->msg_len = n;
                } else {
                    free(msg);
                }
                atomic_store_explicit(&e->ready, true, memory_order_release);
            } /* else not ready: a later handshake tries again */
        }
        pthread_mutex_unlock(&cfg->cert_cache_lock);
    }
    if (!atomic_load_explicit(&e->ready, memory_order_acquire)) return NULL;
    *out_len = e->msg_len;
    return e->msg;
}

/* The identity's stapled Certificate (body, len) compressed with codec
 * index: a copy of the cached compression when the last stapled body was
 * these bytes, else compressed now and cached in place of it. Compressing
 * (brotli above all) costs more than the rest of a handshake, and the
 * staple changes only when the response is refreshed. 0 with *out (NULL
 * when compressing does not pay), or -1. */
static int stapled_compressed(certa_config *cfg, const identity *id, int index, const uint8_t *body,
                              size_t len, uint8_t **out, size_t *out_len) {
    cert_cache_entry *e = &cfg->cert_cache[id - cfg->ids][index];
    *out = NULL;
    *out_len = 0;
    pthread_mutex_lock(&cfg->cert_cache_lock);
    stapled_pack *p = e->stapled;
    if (p && p->body_len == len && memcmp(p->bytes, body, len) == 0) {
        int r = 0;
        if (p->msg_len && (*out = malloc(p->msg_len)) != NULL) {
            memcpy(*out, p->bytes + len, p->msg_len);
            *out_len = p->msg_len;
        } else if (p->msg_len) {
            r = -1;
        }
        pthread_mutex_unlock(&cfg->cert_cache_lock);
        return r;
    }
    pthread_mutex_unlock(&cfg->cert_cache_lock);
    uint8_t *msg;
    size_t n;
    if (compressed_certificate_build(cert_codec_at(index), body, len, &msg, &n) != 0) return -1;
    if (n >= len) { /* does not pay: remembered as such */
        free(msg);
        msg = NULL;
        n = 0;
    }
    stapled_pack *fresh = malloc(sizeof *fresh + len + n);
    if (fresh) {
        fresh->body_len = len;
        fresh->msg_len = n;
        memcpy(fresh->bytes, body, len);
        if (n) memcpy(fresh->bytes + len, msg, n);
        pthread_mutex_lock(&cfg->cert_cache_lock);
        stapled_pack *old = e->stapled;
        e->stapled = fresh;
        pthread_mutex_unlock(&cfg->cert_cache_lock);
        free(old);
    }
    *out = msg;
    *out_len = n;
    return 0;
}

int send_own_certificate(certa_conn *c, const uint8_t *context, size_t context_len) {
    builder b;
    bld_init_alloc(&b, 4096);
    int r = build_certificate(c, &b, context, context_len);
    int index = cert_codec_index(c->cert_compress_alg);
    const uint8_t *packed = NULL;
    uint8_t *fresh = NULL;
    size_t packed_len = 0;
    if (!r && c->id && index >= 0) {
        if (context_len == 0 && !c->staple_sent && !c->sct_sent) { /* only the plain one */
            packed = cached_compressed(c->cfg, c->id, index, b.buf, b.len, &packed_len);
        } else if (context_len == 0) { /* stapled or SCTs: cached while the body stays the same */
            if (stapled_compressed(c->cfg, c->id, index, b.buf, b.len, &fresh, &packed_len) == 0)
                packed = fresh;
        } else if (compressed_certificate_build(cert_codec_at(index), b.buf, b.len, &fresh,
                                                &packed_len) == 0 &&
                   packed_len < b.len) {
            packed = fresh;
        }
    }
    size_t count = c->id ? c->id->count : 0;
    char why[320] = "";
    if (c->is_server) identity_choice_note(c, why, sizeof why); /* which one SNI chose */
    if (!r && packed) {
        r = conn_send_handshake(c, HS_COMPRESSED_CERTIFICATE, packed, packed_len);
        if (!r)
            conn_trace(c,
                       "> CompressedCertificate (%zu certificate%s%s; certificate %zu bytes, "
                       "compressed to %zu with %s)",
                       count, count == 1 ? "" : "s", why, b.len, packed_len,
                       certa_cert_compression_name(c->cert_compress_alg));
    } else if (!r) {
        r = conn_send_handshake(c, HS_CERTIFICATE, b.buf, b.len);
        if (!r)
            conn_trace(c, "> Certificate (%zu certificate%s%s)", count, count == 1 ? "" : "s", why);
    }
    free(fresh);
    bld_free(&b);
    return r ? conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL) : 0;
}

/* "brotli, zlib" */
static void list_algorithms(const certa_config *cfg, char *out, size_t cap) {
    out[0] = 0;
    for (size_t i = 0; i < cfg->cert_comp_count; i++) {
        size_t n = strlen(out);
        snprintf(out + n, cap - n, "%s%s", i ? ", " : "",
                 certa_cert_compression_name(cfg->cert_comp[i]));
    }
}

int open_peer_compressed_certificate(certa_conn *c, const uint8_t *msg, size_t len, uint8_t **body,
                                     size_t *body_len) {
    const certa_config *cfg = c->cfg;
    const char *whose = c->is_server ? "client" : "server";
    if (!cfg->cert_comp_count)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the %s sent a CompressedCertificate, but certificate compression is off "
                         "here and was not offered",
                         whose);
    cert_decompressed d;
    cert_decompress_status st = compressed_certificate_open(
        cfg->cert_comp, cfg->cert_comp_count, cfg->max_handshake, msg + 4, len - 4, &d);
    const char *alg = certa_cert_compression_name(d.alg);
    char offered[64];
    switch (st) {
    case CD_OK:
        break;
    case CD_MALFORMED:
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the %s's CompressedCertificate is malformed", whose);
    case CD_NOT_OFFERED:
        list_algorithms(cfg, offered, sizeof offered);
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the %s compressed its certificate with %s (algorithm %u), which was not "
                         "offered (offered: %s)",
                         whose, alg, d.alg, offered);
    case CD_TOO_LARGE:
        return conn_fail(c, CERTA_E_HANDSHAKE_TOO_BIG, ALERT_BAD_CERTIFICATE,
                         "the %s's CompressedCertificate declares a %u-byte certificate, over the "
                         "%zu-byte cap: raise max_handshake_size if a chain this large is "
                         "legitimate",
                         whose, d.uncompressed_len, cfg->max_handshake);
    case CD_TOO_LONG:
    case CD_TOO_SHORT:
        return conn_fail(c, CERTA_E_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE,
                         "the %s's CompressedCertificate (%s) decompresses to %s than the %u "
                         "bytes it declares: the peer's compression is broken, or the message was "
                         "altered",
                         whose, alg, st == CD_TOO_LONG ? "more" : "fewer", d.uncompressed_len);
    case CD_CORRUPT:
        return conn_fail(c, CERTA_E_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE,
                         "the %s's CompressedCertificate is not a valid %s stream (corrupt, cut "
                         "short, or followed by other bytes)",
                         whose, alg);
    case CD_OVER_BUDGET:
        return conn_fail(c, CERTA_E_BAD_CERTIFICATE, ALERT_BAD_CERTIFICATE,
                         "the %s's CompressedCertificate (%s) asks for more decoder memory than "
                         "a %u-byte certificate needs: refused",
                         whose, alg, d.uncompressed_len);
    case CD_NOMEM:
    default:
        return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    }
    c->peer_cert_alg = d.alg;
    c->peer_cert_compressed_len = len - 4;
    c->peer_cert_uncompressed_len = d.body_len;
    conn_trace(c, "< CompressedCertificate (certificate %zu bytes, compressed to %zu with %s)",
               d.body_len, len - 4, alg);
    *body = d.body;
    *body_len = d.body_len;
    return 0;
}
