/* OCSP responses and requests (RFC 6960 §4) over the DER reader and
 * builder, and the check of a response for one certificate. */
#include "x509/ocsp.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ca_crypto.h"
#include "wire/der.h"
#include "wire/der_build.h"
#include "x509/extensions.h"

static const uint8_t OID_OCSP_BASIC[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01};
static const uint8_t OID_OCSP_NONCE[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02};
static const uint8_t OID_SHA1[] = {0x2b, 0x0e, 0x03, 0x02, 0x1a};
static const uint8_t OID_SHA256[] = {0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01};
#define DER_ENUMERATED 0x0a

#define OID_IS(oid, known) der_oid_equal(&(oid), known, sizeof known)

/* ENUMERATED with a small non-negative value. */
static bool get_enum(cursor *c, int *out) {
    cursor v;
    if (!der_get(c, DER_ENUMERATED, &v) || v.len != 1 || (v.data[0] & 0x80)) return false;
    *out = v.data[0];
    return true;
}

/* AlgorithmIdentifier: contents, with its OID readable. */
static bool algid(cursor *c, cursor *contents, cursor *oid) {
    cursor seq, o;
    if (!der_get(c, DER_SEQUENCE, &seq)) return false;
    *contents = seq;
    if (!der_get(&seq, DER_OID, &o)) return false;
    if (oid) *oid = o;
    return true;
}

bool ocsp_next_extension(cursor *exts, cursor *oid, bool *critical, cursor *value) {
    cursor tmp = *exts, ext;
    uint8_t tag;
    *critical = false;
    if (!der_get(&tmp, DER_SEQUENCE, &ext) || !der_get(&ext, DER_OID, oid)) return false;
    if (der_peek_tag(&ext, &tag) && tag == DER_BOOLEAN &&
        (!der_get_bool(&ext, critical) || !*critical))
        return false;
    if (!der_get(&ext, DER_OCTET_STRING, value) || !cur_empty(&ext)) return false;
    *exts = tmp;
    return true;
}

static bool extensions_ok(cursor exts) {
    cursor oid, value;
    bool critical;
    if (cur_empty(&exts)) return false;
    while (!cur_empty(&exts))
        if (!ocsp_next_extension(&exts, &oid, &critical, &value)) return false;
    return true;
}

/* [n] EXPLICIT Extensions OPTIONAL: *out gets the SEQUENCE contents. */
static bool explicit_extensions(cursor *c, uint8_t n, cursor *out) {
    cursor wrap;
    bool present;
    cur_init(out, NULL, 0);
    if (!der_get_optional(c, DER_CONTEXT_CONS(n), &wrap, &present)) return false;
    if (!present) return true;
    return der_get(&wrap, DER_SEQUENCE, out) && cur_empty(&wrap) && extensions_ok(*out);
}

static bool cert_id(cursor *c, ocsp_cert_id *id) {
    cursor seq, alg, oid;
    if (!der_get(c, DER_SEQUENCE, &seq) || !algid(&seq, &alg, &oid)) return false;
    if (OID_IS(oid, OID_SHA1))
        id->hash = HASH_SHA1;
    else if (OID_IS(oid, OID_SHA256))
        id->hash = HASH_SHA256;
    else
        id->hash = HASH_COUNT; /* another hash: matches nothing */
    if (!der_get(&seq, DER_OCTET_STRING, &id->name_hash) ||
        !der_get(&seq, DER_OCTET_STRING, &id->key_hash) ||
        !der_get(&seq, DER_INTEGER, &id->serial) || id->serial.len == 0 || !cur_empty(&seq))
        return false;
    return true;
}

bool ocsp_next_single(cursor *responses, ocsp_single *s) {
    cursor tmp = *responses, seq, v, wrap;
    uint8_t tag;
    bool present;
    memset(s, 0, sizeof *s);
    s->reason = -1;
    if (!der_get(&tmp, DER_SEQUENCE, &seq) || !cert_id(&seq, &s->id)) return false;
    if (!der_any(&seq, &tag, &v)) return false;
    switch (tag) {
    case DER_CONTEXT(0): /* good [0] IMPLICIT NULL */
        if (v.len != 0) return false;
        s->status = OCSP_GOOD;
        break;
    case DER_CONTEXT_CONS(1): /* revoked [1] IMPLICIT RevokedInfo */
        s->status = OCSP_REVOKED;
        if (!der_get_time(&v, &s->revocation_time)) return false;
        if (!der_get_optional(&v, DER_CONTEXT_CONS(0), &wrap, &present)) return false;
        if (present && (!get_enum(&wrap, &s->reason) || !cur_empty(&wrap))) return false;
        if (!cur_empty(&v)) return false;
        break;
    case DER_CONTEXT(2): /* unknown [2] IMPLICIT NULL */
        if (v.len != 0) return false;
        s->status = OCSP_UNKNOWN;
        break;
    default:
        return false;
    }
    if (!der_get_time(&seq, &s->this_update)) return false;
    if (!der_get_optional(&seq, DER_CONTEXT_CONS(0), &wrap, &s->has_next_update)) return false;
    if (s->has_next_update && (!der_get_time(&wrap, &s->next_update) || !cur_empty(&wrap)))
        return false;
    if (!explicit_extensions(&seq, 1, &s->extensions) || !cur_empty(&seq)) return false;
    *responses = tmp;
    return true;
}

bool ocsp_next_cert(cursor *certs, cursor *der) {
    cursor tmp = *certs, contents;
    if (!der_get_element(&tmp, DER_SEQUENCE, der, &contents)) return false;
    *certs = tmp;
    return true;
}

static bool parse_basic(ocsp_response *r, cursor basic) {
    cursor outer, tbs, v, wrap;
    bool present;
    if (!der_get(&basic, DER_SEQUENCE, &outer) || !cur_empty(&basic)) return false;
    if (!der_get_element(&outer, DER_SEQUENCE, &r->tbs, &tbs)) return false;
    if (!algid(&outer, &r->sig_alg, NULL) || !der_get_bitstring_bytes(&outer, &r->sig))
        return false;
    if (!der_get_optional(&outer, DER_CONTEXT_CONS(0), &wrap, &present)) return false;
    if (present) {
        cursor list, der;
        if (!der_get(&wrap, DER_SEQUENCE, &list) || !cur_empty(&wrap)) return false;
        r->certs = list;
        while (!cur_empty(&list))
            if (!ocsp_next_cert(&list, &der)) return false;
    }
    if (!cur_empty(&outer)) return false;

    /* version [0] EXPLICIT DEFAULT v1: absent in DER */
    if (!der_get_optional(&tbs, DER_CONTEXT_CONS(0), &v, &present) || present) return false;
    if (der_get_optional(&tbs, DER_CONTEXT_CONS(1), &wrap, &present) && present) {
        cursor name_contents;
        if (!der_get_element(&wrap, DER_SEQUENCE, &r->responder_name, &name_contents) ||
            !cur_empty(&wrap))
            return false;
    } else if (der_get_optional(&tbs, DER_CONTEXT_CONS(2), &wrap, &present) && present) {
        r->responder_by_key = true;
        if (!der_get(&wrap, DER_OCTET_STRING, &r->responder_key_hash) || !cur_empty(&wrap) ||
            r->responder_key_hash.len != 20)
            return false;
    } else {
        return false;
    }
    uint8_t tag;
    if (!der_peek_tag(&tbs, &tag) || tag != DER_GENERALIZED_TIME ||
        !der_get_time(&tbs, &r->produced_at))
        return false;
    if (!der_get(&tbs, DER_SEQUENCE, &r->responses)) return false;
    cursor list = r->responses;
    ocsp_single s;
    while (!cur_empty(&list)) {
        if (!ocsp_next_single(&list, &s)) return false;
        r->single_count++;
    }
    if (r->single_count == 0) return false;
    if (!explicit_extensions(&tbs, 1, &r->extensions)) return false;
    return cur_empty(&tbs);
}

int ocsp_parse(ocsp_response *r, const uint8_t *der, size_t len) {
    if (!r || !der) return -1;
    memset(r, 0, sizeof *r);
    cursor in, outer, wrap, bytes, oid, basic;
    bool present;
    cur_init(&in, der, len);
    if (!der_get(&in, DER_SEQUENCE, &outer) || !cur_empty(&in)) return -1;
    if (!get_enum(&outer, &r->status) || r->status > OCSP_UNAUTHORIZED || r->status == 4) return -1;
    if (!der_get_optional(&outer, DER_CONTEXT_CONS(0), &wrap, &present) || !cur_empty(&outer))
        return -1;
    if (!present) return r->status == OCSP_SUCCESSFUL ? -1 : 0;
    if (!der_get(&wrap, DER_SEQUENCE, &bytes) || !cur_empty(&wrap)) return -1;
    if (!der_get(&bytes, DER_OID, &oid) || !der_get(&bytes, DER_OCTET_STRING, &basic) ||
        !cur_empty(&bytes))
        return -1;
    if (!OID_IS(oid, OID_OCSP_BASIC)) return -1;
    if (!parse_basic(r, basic)) return -1;
    r->has_basic = true;
    return 0;
}

/* ---- checking ----------------------------------------------------------- */

const char *ocsp_reason_name(int reason) {
    static const char *const names[] = {
        "unspecified",   "keyCompromise",        "cACompromise",    "affiliationChanged",
        "superseded",    "cessationOfOperation", "certificateHold", "(reason 7)",
        "removeFromCRL", "privilegeWithdrawn",   "aACompromise"};
    if (reason < 0 || reason > 10) return "no reason given";
    return names[reason];
}

static void when_text(int64_t t, char *out, size_t cap) {
    int64_t y;
    int mo, d, h, mi, s;
    der_civil_from_epoch(t, &y, &mo, &d, &h, &mi, &s);
    snprintf(out, cap, "%04lld-%02d-%02d %02d:%02d UTC", (long long)y, mo, d, h, mi);
}

static void span_text(int64_t secs, char *out, size_t cap) {
    if (secs < 0) secs = -secs;
    if (secs < 120)
        snprintf(out, cap, "%lld s", (long long)secs);
    else if (secs < 2 * 3600)
        snprintf(out, cap, "%lld min", (long long)(secs / 60));
    else if (secs < 2 * 86400)
        snprintf(out, cap, "%lld h", (long long)(secs / 3600));
    else
        snprintf(out, cap, "%lld days", (long long)(secs / 86400));
}

/* "leaf 'CN=web' (serial 7B00...)" */
static void leaf_label(const x509_cert *leaf, char *out, size_t cap) {
    char subject[200], serial[48];
    if (x509_name_to_string(&leaf->subject, subject, sizeof subject) != 0) strcpy(subject, "?");
    x509_serial_short(&leaf->serial, serial, sizeof serial);
    snprintf(out, cap, "'%s' (serial %s)", subject, serial);
}

int ocsp_issuer_key_hash(const x509_cert *issuer, hash_alg h, uint8_t *out) {
    cursor spki = issuer->spki, seq, alg, key;
    if (!der_get(&spki, DER_SEQUENCE, &seq) || !der_get(&seq, DER_SEQUENCE, &alg) ||
        !der_get_bitstring_bytes(&seq, &key))
        return -1;
    return hash_oneshot(h, key.data, key.len, out);
}

bool ocsp_cert_id_matches(const ocsp_cert_id *id, const x509_cert *leaf, const x509_cert *issuer) {
    uint8_t name_hash[CRYPTO_MAX_HASH], key_hash[CRYPTO_MAX_HASH];
    if (id->hash != HASH_SHA1 && id->hash != HASH_SHA256) return false;
    size_t n = hash_len(id->hash);
    if (id->name_hash.len != n || id->key_hash.len != n) return false;
    if (id->serial.len != leaf->serial.len ||
        memcmp(id->serial.data, leaf->serial.data, leaf->serial.len) != 0)
        return false;
    /* The name the leaf names its issuer by (the same bytes as the issuer's subject, or the
     * chain would not have validated). */
    if (hash_oneshot(id->hash, leaf->issuer.data, leaf->issuer.len, name_hash) != 0 ||
        ocsp_issuer_key_hash(issuer, id->hash, key_hash) != 0)
        return false;
    return memcmp(name_hash, id->name_hash.data, n) == 0 &&
           memcmp(key_hash, id->key_hash.data, n) == 0;
}

static bool same(const cursor *a, const cursor *b) {
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Does the responderID name this certificate? */
static bool responder_is(const ocsp_response *r, const x509_cert *cert) {
    if (!r->responder_by_key) return same(&r->responder_name, &cert->subject);
    uint8_t h[20];
    return ocsp_issuer_key_hash(cert, HASH_SHA1, h) == 0 &&
           memcmp(h, r->responder_key_hash.data, 20) == 0;
}

void ocsp_sig_cache_init(ocsp_sig_cache *cache) {
    memset(cache, 0, sizeof *cache);
    pthread_mutex_init(&cache->lock, NULL);
}

void ocsp_sig_cache_destroy(ocsp_sig_cache *cache) {
    pthread_mutex_destroy(&cache->lock);
    memset(cache->digest, 0, sizeof cache->digest);
    cache->count = cache->next = 0;
}

/* SHA-256 over the four parts, each preceded by its length (8 bytes, big
 * endian), so that no two different inputs run together the same way. */
static int sig_digest(const x509_cert *signer, const uint8_t *alg, size_t alg_len,
                      const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len,
                      uint8_t out[32]) {
    const uint8_t *part[4] = {signer->spki.data, alg, msg, sig};
    size_t part_len[4] = {signer->spki.len, alg_len, len, sig_len};
    size_t total = 0;
    for (int i = 0; i < 4; i++)
        total += 8 + part_len[i];
    uint8_t stack[2048], *buf = total <= sizeof stack ? stack : malloc(total);
    if (!buf) return -1;
    size_t at = 0;
    for (int i = 0; i < 4; i++) {
        for (int b = 7; b >= 0; b--)
            buf[at++] = (uint8_t)((uint64_t)part_len[i] >> (8 * b));
        if (part_len[i]) memcpy(buf + at, part[i], part_len[i]);
        at += part_len[i];
    }
    int r = hash_oneshot(HASH_SHA256, buf, total, out);
    if (buf != stack) free(buf);
    return r;
}

static bool cache_has(ocsp_sig_cache *cache, const uint8_t d[32]) {
    bool hit = false;
    pthread_mutex_lock(&cache->lock);
    for (unsigned i = 0; i < cache->count && !hit; i++)
        hit = memcmp(cache->digest[i], d, 32) == 0;
    pthread_mutex_unlock(&cache->lock);
    return hit;
}

static void cache_add(ocsp_sig_cache *cache, const uint8_t d[32]) {
    pthread_mutex_lock(&cache->lock);
    bool known = false;
    for (unsigned i = 0; i < cache->count && !known; i++)
        known = memcmp(cache->digest[i], d, 32) == 0;
    if (!known) {
        unsigned slot = cache->count < OCSP_SIG_CACHE_SLOTS ? cache->count++ : cache->next;
        if (cache->count == OCSP_SIG_CACHE_SLOTS) cache->next = (slot + 1) % OCSP_SIG_CACHE_SLOTS;
        memcpy(cache->digest[slot], d, 32);
    }
    pthread_mutex_unlock(&cache->lock);
}

/* 0 valid, -1 not, -2 the key or algorithm is unusable. With a cache, a
 * signature it holds is valid without being verified again. */
static int verify_under(const x509_cert *signer, const uint8_t *alg, size_t alg_len,
                        const uint8_t *msg, size_t len, const uint8_t *sig, size_t sig_len,
                        ocsp_sig_cache *cache) {
    uint8_t d[32];
    bool keyed = cache && sig_digest(signer, alg, alg_len, msg, len, sig, sig_len, d) == 0;
    if (keyed && cache_has(cache, d)) return 0;
    crypto_key *key = key_from_spki(signer->spki.data, signer->spki.len);
    if (!key) return -2;
    int r = sig_verify_x509(alg, alg_len, key, msg, len, sig, sig_len);
    key_free(key);
    if (r == 0 && keyed) cache_add(cache, d);
    return r == 0 ? 0 : r == -1 ? -1 : -2;
}

/* Names in the sentence are bounded but long ones may be cut: that is intended,
 * so the text goes through vsnprintf rather than a checked snprintf. */
__attribute__((format(printf, 2, 3))) static void set_text(ocsp_result *res, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->text, sizeof res->text, fmt, ap);
    va_end(ap);
}

#define OUT(o, ...)                                                                                \
    do {                                                                                           \
        res->outcome = (o);                                                                        \
        set_text(res, __VA_ARGS__);                                                                \
        return (o);                                                                                \
    } while (0)

ocsp_outcome ocsp_check(const uint8_t *der, size_t len, const x509_cert *leaf,
                        const x509_cert *issuer, int64_t now, ocsp_result *res) {
    return ocsp_check_cached(der, len, leaf, issuer, now, NULL, res);
}

ocsp_outcome ocsp_check_cached(const uint8_t *der, size_t len, const x509_cert *leaf,
                               const x509_cert *issuer, int64_t now, ocsp_sig_cache *cache,
                               ocsp_result *res) {
    memset(res, 0, sizeof *res);
    res->reason = -1;
    char who[300], issuer_name[200];
    leaf_label(leaf, who, sizeof who);
    if (x509_name_to_string(&issuer->subject, issuer_name, sizeof issuer_name) != 0)
        strcpy(issuer_name, "?");
    ocsp_response r;
    if (ocsp_parse(&r, der, len) != 0)
        OUT(OCSP_E_MALFORMED,
            "the OCSP response for %s is not a valid DER OCSPResponse (RFC 6960): fetch a fresh "
            "one from the responder",
            who);
    if (r.status != OCSP_SUCCESSFUL)
        OUT(OCSP_E_NOT_SUCCESSFUL,
            "the OCSP response for %s is an error from the responder (responseStatus %d), not a "
            "status: fetch it again later",
            who, r.status);
    res->produced_at = r.produced_at;

    /* Who signed it: the issuer itself, or a responder certificate it issued. */
    const x509_cert *signer = NULL;
    x509_cert delegate;
    if (responder_is(&r, issuer)) {
        signer = issuer;
    } else {
        cursor certs = r.certs, cder;
        while (!signer && ocsp_next_cert(&certs, &cder)) {
            if (x509_parse(&delegate, cder.data, cder.len) != 0 || !responder_is(&r, &delegate))
                continue;
            char dname[200];
            if (x509_name_to_string(&delegate.subject, dname, sizeof dname) != 0)
                strcpy(dname, "?");
            if (!same(&delegate.issuer, &issuer->subject) ||
                verify_under(issuer, delegate.sig_alg.data, delegate.sig_alg.len, delegate.tbs.data,
                             delegate.tbs.len, delegate.sig.data, delegate.sig.len, cache) != 0)
                OUT(OCSP_E_WRONG_SIGNER,
                    "the OCSP response for %s is signed by responder '%s', which '%s' did not "
                    "issue: only the issuer or a responder it certified may answer for its "
                    "certificates",
                    who, dname, issuer_name);
            x509_exts e;
            char why[160];
            if (x509_parse_extensions(&delegate, &e, why, sizeof why) != X509_EXT_OK)
                OUT(OCSP_E_RESPONDER_INVALID,
                    "the OCSP responder certificate '%s' has %s: re-issue it", dname, why);
            if (!e.has_eku || !e.eku_ocsp_signing)
                OUT(OCSP_E_RESPONDER_NO_EKU,
                    "the OCSP response for %s is signed by '%s', a certificate without the "
                    "OCSP-signing extended key usage (id-kp-OCSPSigning): issue the responder "
                    "a certificate with it, or sign with the CA key",
                    who, dname);
            if (now < delegate.not_before || now > delegate.not_after) {
                char t[48];
                when_text(now < delegate.not_before ? delegate.not_before : delegate.not_after, t,
                          sizeof t);
                OUT(OCSP_E_RESPONDER_INVALID,
                    "the OCSP responder certificate '%s' %s %s: renew the responder's "
                    "certificate",
                    dname, now < delegate.not_before ? "is not valid before" : "expired on", t);
            }
            signer = &delegate;
            res->delegated = true;
        }
        if (!signer)
            OUT(OCSP_E_WRONG_SIGNER,
                "the OCSP response for %s is not signed by its issuer '%s' nor by a responder "
                "certificate it issued: the response comes from another CA's responder — "
                "check the responder URL or the stapled file",
                who, issuer_name);
    }
    int v = verify_under(signer, r.sig_alg.data, r.sig_alg.len, r.tbs.data, r.tbs.len, r.sig.data,
                         r.sig.len, cache);
    if (v != 0)
        OUT(OCSP_E_BAD_SIGNATURE,
            v == -1 ? "the OCSP response for %s has a signature that does not verify under its "
                      "responder's key: it was altered or is forged"
                    : "the OCSP response for %s is signed with an algorithm certa does not "
                      "accept (use SHA-256 or better)",
            who);

    /* The SingleResponse for this certificate. */
    cursor list = r.responses;
    ocsp_single s, found;
    bool have = false;
    while (!have && ocsp_next_single(&list, &s))
        if (ocsp_cert_id_matches(&s.id, leaf, issuer)) {
            found = s;
            have = true;
        }
    if (!have)
        OUT(OCSP_E_WRONG_CERT_ID,
            "the OCSP response holds no status for %s: its CertID%s name%s another certificate "
            "(or issuer) — fetch the response for this one",
            who, r.single_count == 1 ? "" : "s", r.single_count == 1 ? "s" : "");
    res->this_update = found.this_update;
    res->next_update = found.next_update;
    res->has_next_update = found.has_next_update;
    res->single_extensions = found.extensions;
    char t1[48], t2[48], ago[32];
    when_text(found.this_update, t1, sizeof t1);
    if (found.this_update > now + OCSP_SKEW_SECONDS) {
        span_text(found.this_update - now, ago, sizeof ago);
        OUT(OCSP_E_FUTURE,
            "the OCSP response for %s was made for %s, %s in the future: the responder's clock "
            "(or this one) is wrong",
            who, t1, ago);
    }
    int64_t until =
        found.has_next_update ? found.next_update : found.this_update + OCSP_MAX_AGE_NO_NEXT;
    if (now > until + OCSP_SKEW_SECONDS) {
        when_text(until, t2, sizeof t2);
        span_text(now - until, ago, sizeof ago);
        OUT(OCSP_E_STALE,
            "the OCSP response for %s is stale: it was good until %s (%s ago)%s: fetch a "
            "fresh one from the responder",
            who, t2, ago, found.has_next_update ? "" : ", having no nextUpdate");
    }
    if (found.status == OCSP_UNKNOWN)
        OUT(OCSP_E_UNKNOWN,
            "the OCSP responder for '%s' does not know %s (status unknown): the certificate "
            "was not issued by this CA, or the responder's index is out of date",
            issuer_name, who);
    if (found.status == OCSP_REVOKED) {
        res->revocation_time = found.revocation_time;
        res->reason = found.reason;
        when_text(found.revocation_time, t2, sizeof t2);
        span_text(now - found.this_update, ago, sizeof ago);
        OUT(OCSP_E_REVOKED,
            "%s was revoked on %s (%s), per the OCSP response from '%s' made %s ago: get a new "
            "certificate",
            who, t2, ocsp_reason_name(found.reason), issuer_name, ago);
    }
    span_text(now - found.this_update, ago, sizeof ago);
    if (found.has_next_update) {
        when_text(found.next_update, t2, sizeof t2);
        set_text(res, "%s is good, per %s'%s' (made %s ago, valid until %s)", who,
                 res->delegated ? "the delegated responder of " : "", issuer_name, ago, t2);
    } else {
        set_text(res, "%s is good, per %s'%s' (made %s ago)", who,
                 res->delegated ? "the delegated responder of " : "", issuer_name, ago);
    }
    res->outcome = OCSP_OK;
    return OCSP_OK;
}

int64_t ocsp_expiry(const uint8_t *der, size_t len) {
    ocsp_response r;
    if (ocsp_parse(&r, der, len) != 0 || r.status != OCSP_SUCCESSFUL) return -1;
    cursor list = r.responses;
    ocsp_single s;
    int64_t soonest = INT64_MAX;
    while (ocsp_next_single(&list, &s)) {
        int64_t until = s.has_next_update ? s.next_update : s.this_update + OCSP_MAX_AGE_NO_NEXT;
        if (until < soonest) soonest = until;
    }
    return soonest == INT64_MAX ? -1 : soonest;
}

/* ---- building ----------------------------------------------------------- */

static void put_hash_algid(builder *b, hash_alg h) {
    der_open(b, DER_SEQUENCE);
    if (h == HASH_SHA1)
        der_put_oid(b, OID_SHA1, sizeof OID_SHA1);
    else
        der_put_oid(b, OID_SHA256, sizeof OID_SHA256);
    der_put_null(b);
    der_close(b);
}

static void put_cert_id(builder *b, hash_alg h, const uint8_t *name_hash, const uint8_t *key_hash,
                        const uint8_t *serial, size_t serial_len) {
    der_open(b, DER_SEQUENCE);
    put_hash_algid(b, h);
    der_put_octet_string(b, name_hash, hash_len(h));
    der_put_octet_string(b, key_hash, hash_len(h));
    der_put(b, DER_INTEGER, serial, serial_len); /* contents as they were: signed, minimal */
    der_close(b);
}

static void put_nonce_ext(builder *b, const uint8_t *nonce, size_t nonce_len) {
    der_open(b, DER_SEQUENCE);
    der_open(b, DER_SEQUENCE);
    der_put_oid(b, OID_OCSP_NONCE, sizeof OID_OCSP_NONCE);
    der_put_octet_string(b, nonce, nonce_len); /* extnValue as the request had it */
    der_close(b);
    der_close(b);
}

int ocsp_build_response(builder *out, const x509_cert *signer, crypto_key *key,
                        const ocsp_build_single *singles, size_t count, int64_t produced_at,
                        const uint8_t *const *certs, const size_t *cert_lens, size_t cert_count,
                        const uint8_t *nonce, size_t nonce_len) {
    uint8_t key_hash[20];
    if (!signer || !key || count == 0 || ocsp_issuer_key_hash(signer, HASH_SHA1, key_hash) != 0)
        return -1;
    /* ResponseData */
    builder tbs;
    bld_init_alloc(&tbs, 512);
    der_open(&tbs, DER_SEQUENCE);
    der_open(&tbs, DER_CONTEXT_CONS(2));
    der_put_octet_string(&tbs, key_hash, sizeof key_hash);
    der_close(&tbs);
    der_put_generalized_time(&tbs, produced_at);
    der_open(&tbs, DER_SEQUENCE);
    for (size_t i = 0; i < count; i++) {
        const ocsp_build_single *s = &singles[i];
        der_open(&tbs, DER_SEQUENCE);
        put_cert_id(&tbs, s->hash, s->name_hash, s->key_hash, s->serial, s->serial_len);
        if (s->status == OCSP_GOOD) {
            der_put(&tbs, DER_CONTEXT(0), NULL, 0);
        } else if (s->status == OCSP_REVOKED) {
            der_open(&tbs, DER_CONTEXT_CONS(1));
            der_put_generalized_time(&tbs, s->revocation_time);
            if (s->reason >= 0) {
                uint8_t r = (uint8_t)s->reason;
                der_open(&tbs, DER_CONTEXT_CONS(0));
                der_put(&tbs, DER_ENUMERATED, &r, 1);
                der_close(&tbs);
            }
            der_close(&tbs);
        } else {
            der_put(&tbs, DER_CONTEXT(2), NULL, 0);
        }
        der_put_generalized_time(&tbs, s->this_update);
        if (s->next_update) {
            der_open(&tbs, DER_CONTEXT_CONS(0));
            der_put_generalized_time(&tbs, s->next_update);
            der_close(&tbs);
        }
        der_close(&tbs);
    }
    der_close(&tbs);
    if (nonce && nonce_len) {
        der_open(&tbs, DER_CONTEXT_CONS(1));
        put_nonce_ext(&tbs, nonce, nonce_len);
        der_close(&tbs);
    }
    der_close(&tbs);
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    if (!bld_ok(&tbs) || x509_sign(key, tbs.buf, tbs.len, sig, &sig_len) != 0) {
        bld_free(&tbs);
        return -1;
    }
    /* BasicOCSPResponse, in a builder of its own (the nesting is deep) */
    builder basic;
    bld_init_alloc(&basic, tbs.len + sig_len + 64);
    der_open(&basic, DER_SEQUENCE);
    bld_bytes(&basic, tbs.buf, tbs.len);
    x509_sig_algid(key, &basic);
    der_put_bitstring(&basic, sig, sig_len);
    if (cert_count) {
        der_open(&basic, DER_CONTEXT_CONS(0));
        der_open(&basic, DER_SEQUENCE);
        for (size_t i = 0; i < cert_count; i++)
            bld_bytes(&basic, certs[i], cert_lens[i]);
        der_close(&basic);
        der_close(&basic);
    }
    der_close(&basic);
    bld_free(&tbs);
    if (!bld_ok(&basic)) {
        bld_free(&basic);
        return -1;
    }
    uint8_t st = OCSP_SUCCESSFUL;
    der_open(out, DER_SEQUENCE);
    der_put(out, DER_ENUMERATED, &st, 1);
    der_open(out, DER_CONTEXT_CONS(0));
    der_open(out, DER_SEQUENCE);
    der_put_oid(out, OID_OCSP_BASIC, sizeof OID_OCSP_BASIC);
    der_put_octet_string(out, basic.buf, basic.len);
    der_close(out);
    der_close(out);
    der_close(out);
    bld_free(&basic);
    return bld_ok(out) ? 0 : -1;
}

int ocsp_build_error(builder *out, int status) {
    uint8_t st = (uint8_t)status;
    der_open(out, DER_SEQUENCE);
    der_put(out, DER_ENUMERATED, &st, 1);
    der_close(out);
    return bld_ok(out) ? 0 : -1;
}

int ocsp_build_request(builder *out, const x509_cert *leaf, const x509_cert *issuer,
                       const uint8_t *nonce, size_t nonce_len) {
    uint8_t name_hash[20], key_hash[20];
    if (hash_oneshot(HASH_SHA1, leaf->issuer.data, leaf->issuer.len, name_hash) != 0 ||
        ocsp_issuer_key_hash(issuer, HASH_SHA1, key_hash) != 0)
        return -1;
    der_open(out, DER_SEQUENCE); /* OCSPRequest */
    der_open(out, DER_SEQUENCE); /* TBSRequest */
    der_open(out, DER_SEQUENCE); /* requestList */
    der_open(out, DER_SEQUENCE); /* Request */
    put_cert_id(out, HASH_SHA1, name_hash, key_hash, leaf->serial.data, leaf->serial.len);
    der_close(out);
    der_close(out);
    if (nonce && nonce_len) {
        builder ext;
        bld_init_alloc(&ext, 64);
        der_open(&ext, DER_CONTEXT_CONS(2));
        der_open(&ext, DER_SEQUENCE);
        der_open(&ext, DER_SEQUENCE);
        der_put_oid(&ext, OID_OCSP_NONCE, sizeof OID_OCSP_NONCE);
        der_open(&ext, DER_OCTET_STRING);
        der_put_octet_string(&ext, nonce, nonce_len);
        der_close(&ext);
        der_close(&ext);
        der_close(&ext);
        der_close(&ext);
        if (bld_ok(&ext)) bld_bytes(out, ext.buf, ext.len);
        bld_free(&ext);
    }
    der_close(out);
    der_close(out);
    return bld_ok(out) ? 0 : -1;
}

int ocsp_request_parse(ocsp_request *r, const uint8_t *der, size_t len) {
    if (!r || !der) return -1;
    memset(r, 0, sizeof *r);
    cursor in, outer, tbs, v, wrap;
    bool present;
    cur_init(&in, der, len);
    if (!der_get(&in, DER_SEQUENCE, &outer) || !cur_empty(&in)) return -1;
    if (!der_get(&outer, DER_SEQUENCE, &tbs)) return -1;
    /* optionalSignature [0]: accepted, not checked (the responder answers anyone) */
    if (!der_get_optional(&outer, DER_CONTEXT_CONS(0), &v, &present) || !cur_empty(&outer))
        return -1;
    if (!der_get_optional(&tbs, DER_CONTEXT_CONS(0), &v, &present)) return -1;
    if (!der_get_optional(&tbs, DER_CONTEXT_CONS(1), &v, &present)) return -1;
    if (!der_get(&tbs, DER_SEQUENCE, &r->requests)) return -1;
    cursor list = r->requests;
    ocsp_cert_id id;
    while (!cur_empty(&list)) {
        if (!ocsp_request_next(&list, &id)) return -1;
        r->count++;
    }
    if (r->count == 0) return -1;
    if (!der_get_optional(&tbs, DER_CONTEXT_CONS(2), &wrap, &present)) return -1;
    if (present) {
        cursor exts, oid, value;
        bool critical;
        if (!der_get(&wrap, DER_SEQUENCE, &exts) || !cur_empty(&wrap)) return -1;
        while (!cur_empty(&exts)) {
            if (!ocsp_next_extension(&exts, &oid, &critical, &value)) return -1;
            if (OID_IS(oid, OID_OCSP_NONCE)) r->nonce = value;
        }
    }
    return cur_empty(&tbs) ? 0 : -1;
}

bool ocsp_request_next(cursor *requests, ocsp_cert_id *id) {
    cursor tmp = *requests, req, v;
    bool present;
    if (!der_get(&tmp, DER_SEQUENCE, &req) || !cert_id(&req, id)) return false;
    if (!der_get_optional(&req, DER_CONTEXT_CONS(0), &v, &present) || !cur_empty(&req))
        return false;
    *requests = tmp;
    return true;
}
