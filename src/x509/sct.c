/* Signed Certificate Timestamps (RFC 6962 §3): lists, one SCT, the
 * signed data and its check. See sct.h. */
#include "x509/sct.h"

#include <string.h>

#include "wire/der.h"
#include "wire/der_build.h"
#include "x509/ocsp.h"

/* 1.3.6.1.4.1.11129.2.4.2: the list embedded in a certificate */
const uint8_t sct_list_oid[SCT_LIST_OID_LEN] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                                0xd6, 0x79, 0x02, 0x04, 0x02};
/* 1.3.6.1.4.1.11129.2.4.5: the list in an OCSP SingleResponse */
static const uint8_t OID_OCSP_SCT_LIST[] = {0x2b, 0x06, 0x01, 0x04, 0x01,
                                            0xd6, 0x79, 0x02, 0x04, 0x05};

#define SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP 0

bool sct_list_open(const uint8_t *data, size_t len, cursor *items) {
    cursor c, list, probe, one;
    cur_init(&c, data, len);
    if (!cur_vec16(&c, &list) || !cur_empty(&c) || cur_empty(&list)) return false;
    probe = list;
    while (!cur_empty(&probe))
        if (!cur_vec16(&probe, &one) || one.len == 0) return false;
    *items = list;
    return true;
}

bool sct_list_next(cursor *items, cursor *serialized) {
    return cur_vec16(items, serialized);
}

int sct_parse(cursor c, sct *out) {
    memset(out, 0, sizeof *out);
    if (!cur_u8(&c, &out->version)) return SCT_PARSE_MALFORMED;
    if (out->version != SCT_VERSION_V1) return SCT_PARSE_VERSION;
    if (!cur_bytes(&c, SCT_LOG_ID_LEN, &out->log_id) || !cur_u64(&c, &out->timestamp) ||
        !cur_vec16(&c, &out->extensions) || !cur_u8(&c, &out->hash_alg) ||
        !cur_u8(&c, &out->sig_alg) || !cur_vec16(&c, &out->signature) || !cur_empty(&c))
        return SCT_PARSE_MALFORMED;
    return SCT_PARSE_OK;
}

void sct_encode(const sct *s, builder *b) {
    bld_u8(b, s->version);
    bld_bytes(b, s->log_id, SCT_LOG_ID_LEN);
    bld_u64(b, s->timestamp);
    bld_open(b, 2);
    bld_bytes(b, s->extensions.data, s->extensions.len);
    bld_close(b);
    bld_u8(b, s->hash_alg);
    bld_u8(b, s->sig_alg);
    bld_open(b, 2);
    bld_bytes(b, s->signature.data, s->signature.len);
    bld_close(b);
}

/* An extension whose value is an OCTET STRING holding the TLS-encoded
 * list (RFC 6962 §3.3): the list. 1, 0 (not there) or -1. */
static int find_wrapped_list(cursor exts, const uint8_t *oid_want, size_t oid_len, cursor *list) {
    cursor oid, value;
    bool critical;
    while (!cur_empty(&exts)) {
        if (!ocsp_next_extension(&exts, &oid, &critical, &value)) return -1;
        if (!der_oid_equal(&oid, oid_want, oid_len)) continue;
        if (!der_get(&value, DER_OCTET_STRING, list) || !cur_empty(&value)) return -1;
        return 1;
    }
    return 0;
}

int sct_list_from_cert(const x509_cert *cert, cursor *list) {
    return find_wrapped_list(cert->extensions, sct_list_oid, SCT_LIST_OID_LEN, list);
}

int sct_list_from_ocsp(const uint8_t *der, size_t len, const x509_cert *leaf,
                       const x509_cert *issuer, cursor *list) {
    ocsp_response r;
    if (ocsp_parse(&r, der, len) != 0 || r.status != OCSP_SUCCESSFUL) return 0;
    cursor singles = r.responses;
    ocsp_single s;
    while (ocsp_next_single(&singles, &s))
        if (ocsp_cert_id_matches(&s.id, leaf, issuer))
            return find_wrapped_list(s.extensions, OID_OCSP_SCT_LIST, sizeof OID_OCSP_SCT_LIST,
                                     list);
    return 0;
}

/* Copies the next element (header and contents) of c into b; *tag is its tag. */
static bool copy_element(cursor *c, builder *b, uint8_t *tag) {
    const uint8_t *start = c->data;
    cursor contents;
    if (!der_any(c, tag, &contents)) return false;
    bld_bytes(b, start, (size_t)(c->data - start));
    return true;
}

int sct_precert_tbs(const x509_cert *cert, builder *out) {
    cursor tbs = cert->tbs, fields;
    if (!der_get(&tbs, DER_SEQUENCE, &fields) || !cur_empty(&tbs)) return -1;
    der_open(out, DER_SEQUENCE);
    while (!cur_empty(&fields)) {
        uint8_t tag;
        if (!der_peek_tag(&fields, &tag)) return -1;
        if (tag != DER_CONTEXT_CONS(3)) {
            if (!copy_element(&fields, out, &tag)) return -1;
            continue;
        }
        cursor wrap, exts;
        if (!der_get(&fields, DER_CONTEXT_CONS(3), &wrap) || !der_get(&wrap, DER_SEQUENCE, &exts) ||
            !cur_empty(&wrap))
            return -1;
        /* The other extensions, in their order and encoding, in a builder of
         * their own (the [3] and SEQUENCE headers depend on their length). */
        builder kept;
        bld_init_alloc(&kept, exts.len);
        while (!cur_empty(&exts)) {
            cursor probe = exts, oid, value;
            bool critical;
            if (!ocsp_next_extension(&probe, &oid, &critical, &value)) {
                bld_free(&kept);
                return -1;
            }
            if (der_oid_equal(&oid, sct_list_oid, SCT_LIST_OID_LEN))
                exts = probe;
            else
                copy_element(&exts, &kept, &tag);
        }
        if (kept.len) {
            der_open(out, DER_CONTEXT_CONS(3));
            der_open(out, DER_SEQUENCE);
            bld_bytes(out, kept.buf, kept.len);
            der_close(out);
            der_close(out);
        }
        bool ok = bld_ok(&kept);
        bld_free(&kept);
        if (!ok) return -1;
    }
    der_close(out);
    return bld_ok(out) ? 0 : -1;
}

int sct_signed_data(const sct *s, sct_entry_type type, const uint8_t *issuer_key_hash,
                    const uint8_t *entry, size_t entry_len, builder *out) {
    if (entry_len == 0 || entry_len >= (1u << 24) ||
        (type == SCT_ENTRY_PRECERT && !issuer_key_hash))
        return -1;
    bld_u8(out, s->version);
    bld_u8(out, SIGNATURE_TYPE_CERTIFICATE_TIMESTAMP);
    bld_u64(out, s->timestamp);
    bld_u16(out, (uint16_t)type);
    if (type == SCT_ENTRY_PRECERT) bld_bytes(out, issuer_key_hash, 32);
    bld_open(out, 3);
    bld_bytes(out, entry, entry_len);
    bld_close(out);
    bld_open(out, 2);
    bld_bytes(out, s->extensions.data, s->extensions.len);
    bld_close(out);
    return bld_ok(out) ? 0 : -1;
}

uint16_t sct_scheme(uint8_t hash_alg, uint8_t sig_alg) {
    if (hash_alg != SCT_HASH_SHA256) return 0;
    if (sig_alg == SCT_SIG_ECDSA) return 0x0403;
    if (sig_alg == SCT_SIG_RSA) return 0x0401;
    return 0;
}

int sct_verify(const sct *s, crypto_key *log_key, const uint8_t *signed_data, size_t len) {
    uint16_t scheme = sct_scheme(s->hash_alg, s->sig_alg);
    if (!scheme || !sig_scheme_fits_key_tls12(scheme, log_key)) return SCT_VERIFY_UNSUPPORTED;
    int r =
        sig_verify_tls12(scheme, log_key, signed_data, len, s->signature.data, s->signature.len);
    return r == 0 ? SCT_VERIFY_OK : r == -1 ? SCT_VERIFY_BAD_SIGNATURE : SCT_VERIFY_UNSUPPORTED;
}
