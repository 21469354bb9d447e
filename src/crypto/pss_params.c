/* RSASSA-PSS-params (RFC 4055 §3.1), read with the DER cursor. They appear
 * in two places: after the RSASSA-PSS OID of a certificate's signature
 * algorithm (the parameters of that signature), and in an id-RSASSA-PSS
 * SubjectPublicKeyInfo (restrictions on every signature the key makes:
 * that hash and MGF1 hash, at least that salt length). */
#include "crypto/internal.h"
#include "wire/der.h"

static const uint8_t OID_MGF1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08};
static const uint8_t OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t OID_SHA256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
static const uint8_t OID_SHA384[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02};
static const uint8_t OID_SHA512[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03};

#define OID_IS(oid, known) der_oid_equal(&(oid), known, sizeof known)

/* A hash AlgorithmIdentifier (SEQUENCE contents), parameters NULL or absent:
 * SHA-1 (so that the caller can call it weak) or SHA-2. */
static bool hash_algid(cursor seq, hash_alg *out) {
    cursor oid, null;
    if (!der_get(&seq, DER_OID, &oid)) return false;
    if (!cur_empty(&seq) && (!der_get(&seq, DER_NULL, &null) || null.len != 0)) return false;
    if (!cur_empty(&seq)) return false;
    if (OID_IS(oid, OID_SHA1))
        *out = HASH_SHA1;
    else if (OID_IS(oid, OID_SHA256))
        *out = HASH_SHA256;
    else if (OID_IS(oid, OID_SHA384))
        *out = HASH_SHA384;
    else if (OID_IS(oid, OID_SHA512))
        *out = HASH_SHA512;
    else
        return false;
    return true;
}

int pss_params_parse(cursor params, pss_params *out) {
    cursor seq, f;
    bool present;
    if (!der_get(&params, DER_SEQUENCE, &seq) || !cur_empty(&params)) return -2;
    /* RFC 4055's defaults */
    out->hash = HASH_SHA1;
    out->mgf_hash = HASH_SHA1;
    out->salt = 20;
    if (!der_get_optional(&seq, DER_CONTEXT_CONS(0), &f, &present)) return -2;
    if (present) {
        cursor h;
        if (!der_get(&f, DER_SEQUENCE, &h) || !cur_empty(&f) || !hash_algid(h, &out->hash))
            return -2;
    }
    if (!der_get_optional(&seq, DER_CONTEXT_CONS(1), &f, &present)) return -2;
    if (present) {
        cursor m, oid, h;
        if (!der_get(&f, DER_SEQUENCE, &m) || !cur_empty(&f)) return -2;
        if (!der_get(&m, DER_OID, &oid) || !OID_IS(oid, OID_MGF1)) return -2;
        if (!der_get(&m, DER_SEQUENCE, &h) || !cur_empty(&m) || !hash_algid(h, &out->mgf_hash))
            return -2;
    }
    if (!der_get_optional(&seq, DER_CONTEXT_CONS(2), &f, &present)) return -2;
    if (present) {
        int64_t v;
        if (!der_get_int64(&f, &v) || !cur_empty(&f) || v < 0 || v > 1024) return -2;
        out->salt = (int)v;
    }
    if (!der_get_optional(&seq, DER_CONTEXT_CONS(3), &f, &present)) return -2;
    if (present) {
        int64_t v;
        if (!der_get_int64(&f, &v) || !cur_empty(&f) || v != 1) return -2;
    }
    return cur_empty(&seq) ? 0 : -2;
}

bool pss_params_weak(const pss_params *p) {
    return p->hash == HASH_SHA1 || p->mgf_hash == HASH_SHA1;
}
