/* Certificate and CRL building for the development CA. See issue.h. */
#include "x509/issue.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ca_crypto.h"
#include "wire/der.h"
#include "wire/der_build.h"
#include "x509/sct.h"

static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
static const uint8_t OID_O[] = {0x55, 0x04, 0x0a};
static const uint8_t OID_SKI[] = {0x55, 0x1d, 0x0e};
static const uint8_t OID_KU[] = {0x55, 0x1d, 0x0f};
static const uint8_t OID_SAN[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_BC[] = {0x55, 0x1d, 0x13};
static const uint8_t OID_CRL_NUMBER[] = {0x55, 0x1d, 0x14};
static const uint8_t OID_CRL_REASON[] = {0x55, 0x1d, 0x15};
static const uint8_t OID_CRLDP[] = {0x55, 0x1d, 0x1f};
static const uint8_t OID_NC[] = {0x55, 0x1d, 0x1e};
static const uint8_t OID_AKI[] = {0x55, 0x1d, 0x23};
static const uint8_t OID_EKU[] = {0x55, 0x1d, 0x25};
static const uint8_t OID_SERVER_AUTH[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const uint8_t OID_CLIENT_AUTH[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
static const uint8_t OID_OCSP_SIGNING[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09};
static const uint8_t OID_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t OID_AD_OCSP[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
static const uint8_t OID_TLS_FEATURE[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x18};
static const uint8_t OID_OCSP_NOCHECK[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x05};

#define TLS_EXT_STATUS_REQUEST 5 /* the TLS Feature that means must-staple */

/* keyUsage bits (RFC 5280 §4.2.1.3). */
#define KU_DIGITAL_SIGNATURE (1u << 0)
#define KU_KEY_ENCIPHERMENT (1u << 2)
#define KU_KEY_CERT_SIGN (1u << 5)
#define KU_CRL_SIGN (1u << 6)

#define DER_ENUMERATED 0x0a

static void say(char *why, size_t cap, const char *msg) {
    if (why && cap) snprintf(why, cap, "%s", msg);
}

int x509_random_serial(uint8_t serial[X509_SERIAL_LEN]) {
    if (crypto_random(serial, X509_SERIAL_LEN) != 0) return -1;
    serial[0] &= 0x7f;
    if (serial[0] == 0) serial[0] = 0x01;
    return 0;
}

int x509_key_id_from_spki(const uint8_t *spki, size_t len, uint8_t out[X509_KEY_ID_LEN]) {
    cursor c, seq, alg, key;
    cur_init(&c, spki, len);
    if (!der_get(&c, DER_SEQUENCE, &seq) || !cur_empty(&c)) return -1;
    if (!der_get(&seq, DER_SEQUENCE, &alg) || !der_get_bitstring_bytes(&seq, &key) ||
        !cur_empty(&seq) || key.len == 0)
        return -1;
    return hash_oneshot(HASH_SHA1, key.data, key.len, out) == 0 ? 0 : -1;
}

int x509_cert_key_id(const x509_cert *cert, uint8_t out[X509_MAX_KEY_ID], size_t *len) {
    cursor exts = cert->extensions;
    while (!cur_empty(&exts)) {
        cursor ext, oid, val, crit;
        bool present;
        if (!der_get(&exts, DER_SEQUENCE, &ext) || !der_get(&ext, DER_OID, &oid)) return -1;
        if (!der_get_optional(&ext, DER_BOOLEAN, &crit, &present)) return -1;
        if (!der_get(&ext, DER_OCTET_STRING, &val)) return -1;
        if (!der_oid_equal(&oid, OID_SKI, sizeof OID_SKI)) continue;
        cursor kid;
        if (!der_get(&val, DER_OCTET_STRING, &kid) || !cur_empty(&val) || kid.len == 0 ||
            kid.len > X509_MAX_KEY_ID)
            return -1;
        memcpy(out, kid.data, kid.len);
        *len = kid.len;
        return 0;
    }
    if (x509_key_id_from_spki(cert->spki.data, cert->spki.len, out) != 0) return -1;
    *len = X509_KEY_ID_LEN;
    return 0;
}

/* ---- pieces ---- */

static void put_attr(builder *b, const uint8_t *oid, size_t oid_len, const char *value) {
    der_open(b, DER_SET);
    der_open(b, DER_SEQUENCE);
    der_put_oid(b, oid, oid_len);
    der_put_utf8_string(b, value, strlen(value));
    der_close(b);
    der_close(b);
}

static bool has(const char *s) {
    return s && *s;
}

/* Name: O then CN (most significant first); empty SEQUENCE for neither. */
static void put_name(builder *b, const char *o, const char *cn) {
    der_open(b, DER_SEQUENCE);
    if (has(o)) put_attr(b, OID_O, sizeof OID_O, o);
    if (has(cn)) put_attr(b, OID_CN, sizeof OID_CN, cn);
    der_close(b);
}

/* Extension { extnID, critical (only when TRUE: DEFAULT FALSE), extnValue }
 * around a value built in a builder of its own (which is freed). */
static void put_ext(builder *b, const uint8_t *oid, size_t oid_len, bool critical, builder *val) {
    if (!bld_ok(val)) b->failed = true;
    der_open(b, DER_SEQUENCE);
    der_put_oid(b, oid, oid_len);
    if (critical) der_put_bool(b, true);
    der_put_octet_string(b, val->buf, val->failed ? 0 : val->len);
    der_close(b);
    bld_free(val);
}

static void put_aki(builder *b, const uint8_t *kid, size_t kid_len) {
    builder v;
    bld_init_alloc(&v, 64);
    der_open(&v, DER_SEQUENCE);
    der_put(&v, DER_CONTEXT(0), kid, kid_len); /* keyIdentifier [0] IMPLICIT */
    der_close(&v);
    put_ext(b, OID_AKI, sizeof OID_AKI, false, &v);
}

static void put_general_names(builder *v, const x509_issue_params *p) {
    for (size_t i = 0; i < p->n_dns; i++)
        der_put_ia5_tagged(v, DER_CONTEXT(2), p->dns[i], strlen(p->dns[i]));
    for (size_t i = 0; i < p->n_ips; i++) {
        if (p->ips[i].len != 4 && p->ips[i].len != 16) v->failed = true;
        der_put(v, DER_CONTEXT(7), p->ips[i].addr, p->ips[i].len);
    }
    for (size_t i = 0; i < p->n_uris; i++)
        der_put_ia5_tagged(v, DER_CONTEXT(6), p->uris[i], strlen(p->uris[i]));
}

/* GeneralSubtrees under [tag]: each a SEQUENCE holding only its base
 * (minimum 0 and no maximum, the only forms RFC 5280 allows). */
static void put_subtrees(builder *v, unsigned tag, const char *const *dns, size_t n_dns,
                         const char *const *uris, size_t n_uris) {
    if (n_dns + n_uris == 0) return;
    der_open(v, DER_CONTEXT_CONS(tag));
    for (size_t i = 0; i < n_dns; i++) {
        der_open(v, DER_SEQUENCE);
        der_put_ia5_tagged(v, DER_CONTEXT(2), dns[i], strlen(dns[i]));
        der_close(v);
    }
    for (size_t i = 0; i < n_uris; i++) {
        der_open(v, DER_SEQUENCE);
        der_put_ia5_tagged(v, DER_CONTEXT(6), uris[i], strlen(uris[i]));
        der_close(v);
    }
    der_close(v);
}

static void put_cert_extensions(builder *b, const x509_issue_params *p,
                                const crypto_key *subject_key, const uint8_t ski[X509_KEY_ID_LEN]) {
    builder v;

    /* basicConstraints, critical. */
    bld_init_alloc(&v, 16);
    der_open(&v, DER_SEQUENCE);
    if (p->is_ca) {
        der_put_bool(&v, true);
        if (p->path_len >= 0) der_put_integer_u64(&v, (uint64_t)p->path_len);
    }
    der_close(&v);
    put_ext(b, OID_BC, sizeof OID_BC, true, &v);

    /* nameConstraints, critical (RFC 5280 §4.2.1.10), CAs only. */
    if (p->is_ca &&
        p->n_nc_permit_dns + p->n_nc_exclude_dns + p->n_nc_permit_uri + p->n_nc_exclude_uri > 0) {
        bld_init_alloc(&v, 64);
        der_open(&v, DER_SEQUENCE);
        put_subtrees(&v, 0, p->nc_permit_dns, p->n_nc_permit_dns, p->nc_permit_uri,
                     p->n_nc_permit_uri);
        put_subtrees(&v, 1, p->nc_exclude_dns, p->n_nc_exclude_dns, p->nc_exclude_uri,
                     p->n_nc_exclude_uri);
        der_close(&v);
        put_ext(b, OID_NC, sizeof OID_NC, true, &v);
    }

    /* keyUsage, critical. */
    uint32_t ku =
        p->is_ca ? (KU_KEY_CERT_SIGN | KU_CRL_SIGN)
        : p->ocsp_signing
            ? KU_DIGITAL_SIGNATURE
            : (KU_DIGITAL_SIGNATURE | (key_is_rsa(subject_key) ? KU_KEY_ENCIPHERMENT : 0));
    bld_init_alloc(&v, 16);
    der_put_named_bits(&v, ku);
    put_ext(b, OID_KU, sizeof OID_KU, true, &v);

    /* extKeyUsage (leaves; a delegated OCSP responder has OCSPSigning only). */
    if (p->ocsp_signing) {
        bld_init_alloc(&v, 16);
        der_open(&v, DER_SEQUENCE);
        der_put_oid(&v, OID_OCSP_SIGNING, sizeof OID_OCSP_SIGNING);
        der_close(&v);
        put_ext(b, OID_EKU, sizeof OID_EKU, false, &v);
    } else if (!p->is_ca && (p->server_auth || p->client_auth)) {
        bld_init_alloc(&v, 32);
        der_open(&v, DER_SEQUENCE);
        if (p->server_auth) der_put_oid(&v, OID_SERVER_AUTH, sizeof OID_SERVER_AUTH);
        if (p->client_auth) der_put_oid(&v, OID_CLIENT_AUTH, sizeof OID_CLIENT_AUTH);
        der_close(&v);
        put_ext(b, OID_EKU, sizeof OID_EKU, false, &v);
    }

    /* subjectAltName: critical when the subject is empty. */
    if (p->n_dns + p->n_ips + p->n_uris > 0) {
        bool empty_subject = !has(p->subject_cn) && !has(p->subject_o);
        bld_init_alloc(&v, 128);
        der_open(&v, DER_SEQUENCE);
        put_general_names(&v, p);
        der_close(&v);
        put_ext(b, OID_SAN, sizeof OID_SAN, empty_subject, &v);
    }

    /* subjectKeyIdentifier, authorityKeyIdentifier. */
    bld_init_alloc(&v, 32);
    der_put_octet_string(&v, ski, X509_KEY_ID_LEN);
    put_ext(b, OID_SKI, sizeof OID_SKI, false, &v);
    if (p->issuer_key_id)
        put_aki(b, p->issuer_key_id, p->issuer_key_id_len);
    else
        put_aki(b, ski, X509_KEY_ID_LEN);

    /* cRLDistributionPoints: one DistributionPoint with a fullName URI. */
    if (has(p->crl_url)) {
        bld_init_alloc(&v, 64);
        der_open(&v, DER_SEQUENCE);        /* CRLDistributionPoints */
        der_open(&v, DER_SEQUENCE);        /* DistributionPoint */
        der_open(&v, DER_CONTEXT_CONS(0)); /* distributionPoint */
        der_open(&v, DER_CONTEXT_CONS(0)); /* fullName */
        der_put_ia5_tagged(&v, DER_CONTEXT(6), p->crl_url, strlen(p->crl_url));
        der_close(&v);
        der_close(&v);
        der_close(&v);
        der_close(&v);
        put_ext(b, OID_CRLDP, sizeof OID_CRLDP, false, &v);
    }

    /* authorityInfoAccess: one AccessDescription, id-ad-ocsp with a URI. */
    if (has(p->ocsp_url)) {
        bld_init_alloc(&v, 64);
        der_open(&v, DER_SEQUENCE); /* AuthorityInfoAccessSyntax */
        der_open(&v, DER_SEQUENCE); /* AccessDescription */
        der_put_oid(&v, OID_AD_OCSP, sizeof OID_AD_OCSP);
        der_put_ia5_tagged(&v, DER_CONTEXT(6), p->ocsp_url, strlen(p->ocsp_url));
        der_close(&v);
        der_close(&v);
        put_ext(b, OID_AIA, sizeof OID_AIA, false, &v);
    }

    /* TLS Feature (RFC 7633): Features ::= SEQUENCE OF INTEGER; not critical,
     * as RFC 7633 §4.2 recommends (clients that know it enforce it). */
    if (p->must_staple) {
        bld_init_alloc(&v, 8);
        der_open(&v, DER_SEQUENCE);
        der_put_integer_u64(&v, TLS_EXT_STATUS_REQUEST);
        der_close(&v);
        put_ext(b, OID_TLS_FEATURE, sizeof OID_TLS_FEATURE, false, &v);
    }

    /* id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): extnValue is NULL. */
    if (p->ocsp_signing) {
        bld_init_alloc(&v, 4);
        der_put_null(&v);
        put_ext(b, OID_OCSP_NOCHECK, sizeof OID_OCSP_NOCHECK, false, &v);
    }

    /* SCTs (RFC 6962 §3.3): an OCTET STRING holding the TLS-encoded list. */
    if (p->sct_list) {
        bld_init_alloc(&v, p->sct_list_len + 8);
        der_put_octet_string(&v, p->sct_list, p->sct_list_len);
        put_ext(b, sct_list_oid, SCT_LIST_OID_LEN, false, &v);
    }

    /* id-pe-acmeIdentifier (1.3.6.1.5.5.7.1.31), critical: Authorization ::=
     * OCTET STRING (SIZE (32)) (RFC 8737 §3). */
    if (p->acme_identifier) {
        static const uint8_t oid_acme_identifier[] = {0x2b, 0x06, 0x01, 0x05,
                                                      0x05, 0x07, 0x01, 0x1f};
        bld_init_alloc(&v, 40);
        der_put_octet_string(&v, p->acme_identifier, 32);
        put_ext(b, oid_acme_identifier, sizeof oid_acme_identifier, true, &v);
    }
}

/* Certificate / CertificateList: SEQUENCE { tbs, algid, BIT STRING sig }. */
static int sign_and_wrap(const uint8_t *tbs, size_t tbs_len, const uint8_t *algid, size_t algid_len,
                         crypto_key *signer, uint8_t **der, size_t *der_len) {
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    if (x509_sign(signer, tbs, tbs_len, sig, &sig_len) != 0) return -1;
    builder b;
    bld_init_alloc(&b, tbs_len + sig_len + 64);
    der_open(&b, DER_SEQUENCE);
    bld_bytes(&b, tbs, tbs_len);
    bld_bytes(&b, algid, algid_len);
    der_put_bitstring(&b, sig, sig_len);
    der_close(&b);
    *der = bld_take(&b, der_len);
    return *der ? 0 : -1;
}

static bool serial_ok(const uint8_t *s, size_t len) {
    if (!s || len == 0) return false;
    while (len > 0 && *s == 0) {
        s++;
        len--;
    }
    /* 1-20 octets once encoded (RFC 5280 §4.1.2.2), and not zero. */
    return len > 0 && len + ((s[0] & 0x80) ? 1 : 0) <= 20;
}

int x509_issue(const x509_issue_params *p, const crypto_key *subject_key, crypto_key *signer,
               uint8_t **der, size_t *der_len) {
    if (!p || !subject_key || !signer || !der || !der_len) return -1;
    *der = NULL;
    *der_len = 0;
    if (!serial_ok(p->serial, p->serial_len) || p->not_after < p->not_before) return -1;
    if ((p->n_dns && !p->dns) || (p->n_ips && !p->ips) || (p->n_uris && !p->uris)) return -1;
    if (p->ocsp_signing && p->is_ca) return -1;
    if ((p->n_nc_permit_dns && !p->nc_permit_dns) || (p->n_nc_exclude_dns && !p->nc_exclude_dns) ||
        (p->n_nc_permit_uri && !p->nc_permit_uri) || (p->n_nc_exclude_uri && !p->nc_exclude_uri))
        return -1;
    if (p->subject && p->subject_len == 0) return -1;
    if (p->issuer_key_id && (p->issuer_key_id_len == 0 || p->issuer_key_id_len > X509_MAX_KEY_ID))
        return -1;

    uint8_t *spki = NULL;
    size_t spki_len = 0;
    uint8_t ski[X509_KEY_ID_LEN];
    if (key_spki_der(subject_key, &spki, &spki_len) != 0) return -1;
    if (x509_key_id_from_spki(spki, spki_len, ski) != 0) {
        free(spki);
        return -1;
    }

    builder algid;
    bld_init_alloc(&algid, 32);
    x509_sig_algid(signer, &algid);

    builder t;
    bld_init_alloc(&t, 1024);
    der_open(&t, DER_SEQUENCE);
    der_open(&t, DER_CONTEXT_CONS(0)); /* version [0] EXPLICIT v3 */
    der_put_integer_u64(&t, 2);
    der_close(&t);
    der_put_integer(&t, p->serial, p->serial_len);
    bld_bytes(&t, algid.buf, algid.failed ? 0 : algid.len);
    if (p->issuer)
        bld_bytes(&t, p->issuer, p->issuer_len);
    else if (p->subject)
        bld_bytes(&t, p->subject, p->subject_len);
    else
        put_name(&t, p->subject_o, p->subject_cn);
    der_open(&t, DER_SEQUENCE);
    der_put_time(&t, p->not_before);
    der_put_time(&t, p->not_after);
    der_close(&t);
    if (p->subject)
        bld_bytes(&t, p->subject, p->subject_len);
    else
        put_name(&t, p->subject_o, p->subject_cn);
    bld_bytes(&t, spki, spki_len);
    der_open(&t, DER_CONTEXT_CONS(3));
    der_open(&t, DER_SEQUENCE);
    put_cert_extensions(&t, p, subject_key, ski);
    der_close(&t);
    der_close(&t);
    der_close(&t);
    free(spki);

    int rc = -1;
    if (bld_ok(&t) && bld_ok(&algid))
        rc = sign_and_wrap(t.buf, t.len, algid.buf, algid.len, signer, der, der_len);
    bld_free(&t);
    bld_free(&algid);
    return rc;
}

int x509_crl_build(const x509_crl_params *p, crypto_key *signer, uint8_t **der, size_t *der_len) {
    if (!p || !signer || !der || !der_len || !p->issuer || p->issuer_len == 0) return -1;
    *der = NULL;
    *der_len = 0;
    if (p->n_revoked && !p->revoked) return -1;
    if (p->next_update < p->this_update) return -1;
    if (!p->issuer_key_id || p->issuer_key_id_len == 0 || p->issuer_key_id_len > X509_MAX_KEY_ID)
        return -1;
    for (size_t i = 0; i < p->n_revoked; i++)
        if (!serial_ok(p->revoked[i].serial, p->revoked[i].serial_len)) return -1;

    builder algid;
    bld_init_alloc(&algid, 32);
    x509_sig_algid(signer, &algid);

    builder t, v;
    bld_init_alloc(&t, 512 + 64 * p->n_revoked);
    der_open(&t, DER_SEQUENCE);
    der_put_integer_u64(&t, 1); /* v2 */
    bld_bytes(&t, algid.buf, algid.failed ? 0 : algid.len);
    bld_bytes(&t, p->issuer, p->issuer_len);
    der_put_time(&t, p->this_update);
    der_put_time(&t, p->next_update);
    if (p->n_revoked > 0) {
        der_open(&t, DER_SEQUENCE);
        for (size_t i = 0; i < p->n_revoked; i++) {
            const x509_revoked *r = &p->revoked[i];
            der_open(&t, DER_SEQUENCE);
            der_put_integer(&t, r->serial, r->serial_len);
            der_put_time(&t, r->revoked_at);
            if (r->reason > 0 && r->reason <= 10 && r->reason != 7) {
                bld_init_alloc(&v, 8);
                uint8_t e = (uint8_t)r->reason;
                der_put(&v, DER_ENUMERATED, &e, 1);
                der_open(&t, DER_SEQUENCE); /* crlEntryExtensions */
                put_ext(&t, OID_CRL_REASON, sizeof OID_CRL_REASON, false, &v);
                der_close(&t);
            }
            der_close(&t);
        }
        der_close(&t);
    }
    der_open(&t, DER_CONTEXT_CONS(0)); /* crlExtensions [0] EXPLICIT */
    der_open(&t, DER_SEQUENCE);
    put_aki(&t, p->issuer_key_id, p->issuer_key_id_len);
    bld_init_alloc(&v, 16);
    der_put_integer_u64(&v, p->crl_number);
    put_ext(&t, OID_CRL_NUMBER, sizeof OID_CRL_NUMBER, false, &v);
    der_close(&t);
    der_close(&t);
    der_close(&t);

    int rc = -1;
    if (bld_ok(&t) && bld_ok(&algid))
        rc = sign_and_wrap(t.buf, t.len, algid.buf, algid.len, signer, der, der_len);
    bld_free(&t);
    bld_free(&algid);
    return rc;
}

int x509_pem_encode(const char *label, const uint8_t *der, size_t len, char **out,
                    size_t *out_len) {
    if (!label || !der || len == 0 || !out || !out_len || len > ((size_t)64 << 20)) return -1;
    *out = NULL;
    *out_len = 0;
    size_t llen = strlen(label);
    if (llen == 0 || llen > 64) return -1;
    size_t b64_len = (len + 2) / 3 * 4;
    size_t cap = 2 * (llen + 32) + b64_len + b64_len / 64 + 2;
    char *text = malloc(cap);
    char *b64 = malloc(b64_len + 1);
    if (!text || !b64) {
        free(text);
        free(b64);
        return -1;
    }
    int n = base64_encode(der, len, b64, b64_len + 1);
    if (n < 0 || (size_t)n != b64_len) {
        free(text);
        free(b64);
        return -1;
    }
    size_t pos = (size_t)snprintf(text, cap, "-----BEGIN %s-----\n", label);
    for (size_t i = 0; i < b64_len; i += 64) {
        size_t k = b64_len - i < 64 ? b64_len - i : 64;
        memcpy(text + pos, b64 + i, k);
        pos += k;
        text[pos++] = '\n';
    }
    pos += (size_t)snprintf(text + pos, cap - pos, "-----END %s-----\n", label);
    free(b64);
    *out = text;
    *out_len = pos;
    return 0;
}

/* ---- input checks ---- */

bool x509_check_spiffe_id(const char *id, char *why, size_t cap) {
    static const char scheme[] = "spiffe://";
    if (!id || strncmp(id, scheme, sizeof scheme - 1) != 0) {
        say(why, cap, "a SPIFFE ID starts with spiffe:// (lowercase)");
        return false;
    }
    size_t total = strlen(id);
    if (total > 2048) {
        say(why, cap, "a SPIFFE ID is at most 2048 bytes");
        return false;
    }
    const char *td = id + sizeof scheme - 1;
    size_t td_len = strcspn(td, "/");
    if (td_len == 0) {
        say(why, cap, "the trust domain is empty (spiffe://TRUST-DOMAIN/path)");
        return false;
    }
    if (td_len > 255) {
        say(why, cap, "the trust domain is longer than 255 bytes");
        return false;
    }
    for (size_t i = 0; i < td_len; i++) {
        char c = td[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')
            continue;
        if (c >= 'A' && c <= 'Z')
            say(why, cap, "the trust domain must be lowercase");
        else if (c == ':')
            say(why, cap, "a SPIFFE ID has no port");
        else if (c == '@')
            say(why, cap, "a SPIFFE ID has no user info");
        else if (c == '?' || c == '#')
            say(why, cap, "a SPIFFE ID has no query or fragment");
        else
            say(why, cap, "the trust domain may only hold a-z, 0-9, '.', '-' and '_'");
        return false;
    }
    const char *path = td + td_len;
    if (*path == 0) {
        say(why, cap, "a workload SPIFFE ID needs a path (spiffe://trust-domain/workload)");
        return false;
    }
    /* path: one or more "/segment" */
    const char *s = path;
    while (*s) {
        s++; /* the '/' */
        size_t seg = strcspn(s, "/");
        if (seg == 0) {
            say(why, cap,
                *s ? "the path has an empty segment (//)" : "the path must not end with '/'");
            return false;
        }
        if ((seg == 1 && s[0] == '.') || (seg == 2 && s[0] == '.' && s[1] == '.')) {
            say(why, cap, "the path has a '.' or '..' segment");
            return false;
        }
        for (size_t i = 0; i < seg; i++) {
            char c = s[i];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '.' || c == '-' || c == '_')
                continue;
            if (c == '?' || c == '#')
                say(why, cap, "a SPIFFE ID has no query or fragment");
            else if (c == '%')
                say(why, cap, "a SPIFFE ID path has no percent-encoding");
            else
                say(why, cap, "path segments may only hold A-Z, a-z, 0-9, '.', '-' and '_'");
            return false;
        }
        s += seg;
    }
    return true;
}

bool x509_check_dns_name(const char *name, char *why, size_t cap) {
    if (!name || !*name) {
        say(why, cap, "the DNS name is empty");
        return false;
    }
    size_t len = strlen(name);
    if (len > 253) {
        say(why, cap, "a DNS name is at most 253 bytes");
        return false;
    }
    const char *s = name;
    if (s[0] == '*') {
        if (s[1] != '.' || s[2] == 0) {
            say(why, cap, "a wildcard must be a whole first label (*.example.com)");
            return false;
        }
        s += 2;
    }
    if (name[len - 1] == '.') {
        say(why, cap, "leave out the trailing dot");
        return false;
    }
    while (*s) {
        size_t lab = strcspn(s, ".");
        if (lab == 0) {
            say(why, cap, "the DNS name has an empty label");
            return false;
        }
        if (lab > 63) {
            say(why, cap, "a DNS label is at most 63 bytes");
            return false;
        }
        if (s[0] == '-' || s[lab - 1] == '-') {
            say(why, cap, "a DNS label cannot start or end with '-'");
            return false;
        }
        for (size_t i = 0; i < lab; i++) {
            char c = s[i];
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-')
                continue;
            if (c == '*')
                say(why, cap, "a wildcard is only allowed as the whole first label");
            else if (c == '_')
                say(why, cap, "'_' is not allowed in a host name");
            else
                say(why, cap, "a DNS name may only hold letters, digits, '-' and '.'");
            return false;
        }
        s += lab;
        if (*s == '.') s++;
    }
    return true;
}

bool x509_parse_ip(const char *text, x509_ip *ip) {
    if (!text || !ip) return false;
    memset(ip, 0, sizeof *ip);
    if (inet_pton(AF_INET, text, ip->addr) == 1) {
        ip->len = 4;
        return true;
    }
    if (inet_pton(AF_INET6, text, ip->addr) == 1) {
        ip->len = 16;
        return true;
    }
    return false;
}
