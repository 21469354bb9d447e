/* X.509 v3 extensions (RFC 5280 §4.2), strict DER. */
#include "x509/extensions.h"

#include <stdio.h>
#include <string.h>

#include "wire/der.h"

#define OID_ID_CE(n)                                                                               \
    { 0x55, 0x1d, n }
static const uint8_t OID_SKI[] = OID_ID_CE(0x0e);
static const uint8_t OID_KU[] = OID_ID_CE(0x0f);
static const uint8_t OID_SAN[] = OID_ID_CE(0x11);
static const uint8_t OID_IAN[] = OID_ID_CE(0x12);
static const uint8_t OID_BC[] = OID_ID_CE(0x13);
static const uint8_t OID_NC[] = OID_ID_CE(0x1e);
static const uint8_t OID_CRLDP[] = OID_ID_CE(0x1f);
static const uint8_t OID_POLICIES[] = OID_ID_CE(0x20);
static const uint8_t OID_POLICY_MAPPINGS[] = OID_ID_CE(0x21);
static const uint8_t OID_AKI[] = OID_ID_CE(0x23);
static const uint8_t OID_POLICY_CONSTRAINTS[] = OID_ID_CE(0x24);
static const uint8_t OID_EKU[] = OID_ID_CE(0x25);
static const uint8_t OID_FRESHEST_CRL[] = OID_ID_CE(0x2e);
static const uint8_t OID_INHIBIT_ANY[] = OID_ID_CE(0x36);
static const uint8_t OID_AIA[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x01};
static const uint8_t OID_EKU_ANY[] = {0x55, 0x1d, 0x25, 0x00};
static const uint8_t OID_EKU_SERVER[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01};
static const uint8_t OID_EKU_CLIENT[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02};
static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
static const uint8_t OID_EKU_OCSP_SIGNING[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x09};
static const uint8_t OID_TLS_FEATURE[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x18};
static const uint8_t OID_AD_OCSP[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01};
static const uint8_t OID_AD_CA_ISSUERS[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02};
static const uint8_t OID_OCSP_NOCHECK[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x05};

#define OID_IS(oid, known) der_oid_equal(&(oid), known, sizeof known)

static bool oid_ok(const cursor *oid) {
    if (oid->len == 0) return false;
    bool start = true;
    for (size_t i = 0; i < oid->len; i++) {
        if (start && oid->data[i] == 0x80) return false;
        start = !(oid->data[i] & 0x80);
    }
    return start;
}

static bool ia5(const cursor *v) {
    for (size_t i = 0; i < v->len; i++)
        if (v->data[i] >= 0x80) return false;
    return true;
}

static bool name_ok(cursor name) {
    cursor rdns, rdn, atv, oid, val;
    uint8_t tag;
    if (!der_get(&name, DER_SEQUENCE, &rdns) || !cur_empty(&name)) return false;
    while (!cur_empty(&rdns)) {
        if (!der_get(&rdns, DER_SET, &rdn) || cur_empty(&rdn)) return false;
        while (!cur_empty(&rdn)) {
            if (!der_get(&rdn, DER_SEQUENCE, &atv) || !der_get(&atv, DER_OID, &oid) ||
                !oid_ok(&oid) || !der_any(&atv, &tag, &val) || !cur_empty(&atv))
                return false;
        }
    }
    return true;
}

bool x509_next_general_name(cursor *names, uint8_t *tag, cursor *value) {
    cursor tmp = *names, v;
    uint8_t t;
    if (!der_any(&tmp, &t, &v)) return false;
    switch (t) {
    case GN_RFC822:
    case GN_DNS:
    case GN_URI:
        if (!ia5(&v)) return false;
        break;
    case GN_IP:
        /* SAN: 4 or 16 bytes; name constraints: 8 or 32 (checked there). */
        if (v.len != 4 && v.len != 16 && v.len != 8 && v.len != 32) return false;
        break;
    case GN_DIRECTORY: {
        cursor inner = v, name;
        if (!der_get_element(&inner, DER_SEQUENCE, &name, NULL) || !cur_empty(&inner) ||
            !name_ok(name))
            return false;
        v = name;
        break;
    }
    case GN_OTHER_NAME: {
        cursor inner = v, oid, val;
        if (!der_get(&inner, DER_OID, &oid) || !oid_ok(&oid) ||
            !der_get(&inner, DER_CONTEXT_CONS(0), &val) || !cur_empty(&inner))
            return false;
        break;
    }
    case GN_REGISTERED_ID:
        if (!oid_ok(&v)) return false;
        break;
    case GN_X400:
    case GN_EDI_PARTY:
        break;
    default:
        return false;
    }
    *tag = t;
    *value = v;
    *names = tmp;
    return true;
}

bool x509_next_subtree(cursor *subtrees, uint8_t *tag, cursor *value) {
    cursor tmp = *subtrees, st, f;
    bool present;
    if (!der_get(&tmp, DER_SEQUENCE, &st)) return false;
    if (!x509_next_general_name(&st, tag, value)) return false;
    /* minimum DEFAULT 0 must be absent in DER; maximum must be absent
     * (RFC 5280 §4.2.1.10). */
    if (!der_get_optional(&st, DER_CONTEXT(0), &f, &present) || present) return false;
    if (!der_get_optional(&st, DER_CONTEXT(1), &f, &present) || present) return false;
    if (!cur_empty(&st)) return false;
    *subtrees = tmp;
    return true;
}

static bool general_names_ok(cursor names, bool allow_empty) {
    if (cur_empty(&names) && !allow_empty) return false;
    uint8_t tag;
    cursor v;
    while (!cur_empty(&names)) {
        if (!x509_next_general_name(&names, &tag, &v)) return false;
        if (tag == GN_IP && v.len != 4 && v.len != 16) return false;
    }
    return true;
}

static bool subtrees_ok(cursor subtrees) {
    if (cur_empty(&subtrees)) return false; /* SIZE (1..MAX) */
    uint8_t tag;
    cursor v;
    while (!cur_empty(&subtrees))
        if (!x509_next_subtree(&subtrees, &tag, &v)) return false;
    return true;
}

/* BIT STRING with named bits: unused bits must be zero. Bits numbered from
 * the most significant bit of the first byte. */
static bool named_bits(cursor v, unsigned *out) {
    uint8_t unused;
    if (!cur_u8(&v, &unused) || unused > 7) return false;
    if (cur_empty(&v)) return unused == 0;
    if (v.len > 2) return false;
    uint8_t last = v.data[v.len - 1];
    if (last & ((1u << unused) - 1)) return false;
    unsigned bits = 0;
    for (size_t i = 0; i < v.len && i < 2; i++)
        for (int b = 0; b < 8; b++)
            if (v.data[i] & (0x80 >> b)) bits |= 1u << (i * 8 + (size_t)b);
    *out = bits;
    return true;
}

static bool parse_bc(cursor v, x509_exts *e) {
    cursor seq;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v)) return false;
    e->ca = false;
    e->path_len = -1;
    uint8_t tag;
    if (der_peek_tag(&seq, &tag) && tag == DER_BOOLEAN) {
        if (!der_get_bool(&seq, &e->ca) || !e->ca) return false; /* DEFAULT FALSE */
    }
    if (!cur_empty(&seq)) {
        int64_t n;
        if (!der_get_int64(&seq, &n) || n < 0) return false;
        e->path_len = n > 255 ? 255 : (int)n;
    }
    return cur_empty(&seq);
}

static bool parse_ku(cursor v, x509_exts *e) {
    cursor bits;
    if (!der_get(&v, DER_BIT_STRING, &bits) || !cur_empty(&v)) return false;
    return named_bits(bits, &e->ku);
}

static bool parse_eku(cursor v, x509_exts *e) {
    cursor seq, oid;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v) || cur_empty(&seq)) return false;
    while (!cur_empty(&seq)) {
        if (!der_get(&seq, DER_OID, &oid) || !oid_ok(&oid)) return false;
        if (OID_IS(oid, OID_EKU_ANY)) e->eku_any = true;
        if (OID_IS(oid, OID_EKU_SERVER)) e->eku_server = true;
        if (OID_IS(oid, OID_EKU_CLIENT)) e->eku_client = true;
        if (OID_IS(oid, OID_EKU_OCSP_SIGNING)) e->eku_ocsp_signing = true;
    }
    return true;
}

static bool parse_san(cursor v, x509_exts *e) {
    if (!der_get(&v, DER_SEQUENCE, &e->san) || !cur_empty(&v)) return false;
    return general_names_ok(e->san, false);
}

static bool parse_nc(cursor v, x509_exts *e) {
    cursor seq;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v)) return false;
    if (!der_get_optional(&seq, DER_CONTEXT_CONS(0), &e->nc_permitted, &e->has_permitted) ||
        !der_get_optional(&seq, DER_CONTEXT_CONS(1), &e->nc_excluded, &e->has_excluded) ||
        !cur_empty(&seq))
        return false;
    if (!e->has_permitted && !e->has_excluded) return false; /* RFC 5280: MUST NOT be empty */
    if (e->has_permitted && !subtrees_ok(e->nc_permitted)) return false;
    if (e->has_excluded && !subtrees_ok(e->nc_excluded)) return false;
    return true;
}

static bool parse_aki(cursor v, x509_exts *e) {
    cursor seq, f;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v)) return false;
    if (!der_get_optional(&seq, DER_CONTEXT(0), &e->aki_keyid, &e->aki_has_keyid)) return false;
    if (!der_get_optional(&seq, DER_CONTEXT_CONS(1), &f, &e->aki_has_issuer)) return false;
    if (e->aki_has_issuer && !general_names_ok(f, false)) return false;
    if (!der_get_optional(&seq, DER_CONTEXT(2), &f, &e->aki_has_serial)) return false;
    /* authorityCertIssuer and authorityCertSerialNumber come together. */
    if (e->aki_has_issuer != e->aki_has_serial) return false;
    return cur_empty(&seq);
}

static bool parse_ski(cursor v, x509_exts *e) {
    return der_get(&v, DER_OCTET_STRING, &e->ski) && cur_empty(&v) && e->ski.len > 0;
}

/* certificatePolicies ::= SEQUENCE SIZE (1..MAX) OF PolicyInformation
 * PolicyInformation ::= SEQUENCE { policyIdentifier OID, qualifiers SEQUENCE OPTIONAL } */
static bool parse_policies(cursor v) {
    cursor seq, pi, oid, q;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v) || cur_empty(&seq)) return false;
    while (!cur_empty(&seq)) {
        if (!der_get(&seq, DER_SEQUENCE, &pi) || !der_get(&pi, DER_OID, &oid) || !oid_ok(&oid))
            return false;
        if (!cur_empty(&pi) && (!der_get(&pi, DER_SEQUENCE, &q) || cur_empty(&q))) return false;
        if (!cur_empty(&pi)) return false;
    }
    return true;
}

/* PolicyConstraints ::= SEQUENCE { requireExplicitPolicy [0] INTEGER OPTIONAL,
 *                                  inhibitPolicyMapping [1] INTEGER OPTIONAL } */
static bool parse_policy_constraints(cursor v) {
    cursor seq, f;
    bool a, b;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v)) return false;
    if (!der_get_optional(&seq, DER_CONTEXT(0), &f, &a) ||
        !der_get_optional(&seq, DER_CONTEXT(1), &f, &b) || !cur_empty(&seq))
        return false;
    return a || b; /* MUST NOT be an empty sequence */
}

static bool parse_policy_mappings(cursor v) {
    cursor seq, m, o1, o2;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v) || cur_empty(&seq)) return false;
    while (!cur_empty(&seq))
        if (!der_get(&seq, DER_SEQUENCE, &m) || !der_get(&m, DER_OID, &o1) ||
            !der_get(&m, DER_OID, &o2) || !cur_empty(&m))
            return false;
    return true;
}

static bool parse_inhibit_any(cursor v) {
    int64_t n;
    return der_get_int64(&v, &n) && n >= 0 && cur_empty(&v);
}

/* AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription
 * AccessDescription ::= SEQUENCE { accessMethod OID, accessLocation GeneralName } */
static bool parse_aia(cursor v, x509_exts *e) {
    cursor seq, ad, oid, loc;
    uint8_t tag;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v) || cur_empty(&seq)) return false;
    while (!cur_empty(&seq)) {
        if (!der_get(&seq, DER_SEQUENCE, &ad) || !der_get(&ad, DER_OID, &oid) || !oid_ok(&oid) ||
            !x509_next_general_name(&ad, &tag, &loc) || !cur_empty(&ad))
            return false;
        if (OID_IS(oid, OID_AD_OCSP) && tag == GN_URI && e->ocsp_url.len == 0) e->ocsp_url = loc;
        if (OID_IS(oid, OID_AD_CA_ISSUERS) && tag == GN_URI && e->ca_issuers_url.len == 0)
            e->ca_issuers_url = loc;
    }
    return true;
}

/* Features ::= SEQUENCE OF INTEGER (TLS extension types, RFC 7633 §6) */
static bool parse_tls_feature(cursor v, x509_exts *e) {
    cursor seq;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v)) return false;
    while (!cur_empty(&seq)) {
        int64_t n;
        if (!der_get_int64(&seq, &n) || n < 0 || n > 65535) return false;
        if (n == 5) e->must_staple = true; /* status_request */
    }
    return true;
}

/* CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint;
 * checked for shape only. */
/* CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint
 * DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName
 *     OPTIONAL, reasons [1] OPTIONAL, cRLIssuer [2] OPTIONAL }
 * DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... }
 * The first http:// URI of a fullName is kept (where --crl-fetch asks). */
static bool parse_crldp(cursor v, x509_exts *e, bool keep_url) {
    cursor seq, dp;
    if (!der_get(&v, DER_SEQUENCE, &seq) || !cur_empty(&v) || cur_empty(&seq)) return false;
    while (!cur_empty(&seq)) {
        if (!der_get(&seq, DER_SEQUENCE, &dp)) return false;
        cursor name, full, loc;
        bool present, is_full;
        uint8_t tag;
        if (!der_get_optional(&dp, DER_CONTEXT_CONS(0), &name, &present)) return false;
        if (!present || !keep_url || e->crldp_url.len) continue;
        if (!der_get_optional(&name, DER_CONTEXT_CONS(0), &full, &is_full)) return false;
        while (is_full && !cur_empty(&full)) {
            if (!x509_next_general_name(&full, &tag, &loc)) return false;
            if (tag == GN_URI && e->crldp_url.len == 0 && loc.len > 7 &&
                !memcmp(loc.data, "http://", 7))
                e->crldp_url = loc;
        }
    }
    return true;
}

static void oid_dotted(const cursor *oid, char *out, size_t cap) {
    size_t n = 0;
    uint64_t arc = 0;
    bool first = true;
    out[0] = '\0';
    for (size_t i = 0; i < oid->len && n + 24 < cap; i++) {
        arc = (arc << 7) | (oid->data[i] & 0x7f);
        if (oid->data[i] & 0x80) {
            if (arc > (UINT64_MAX >> 8)) return;
            continue;
        }
        if (first) {
            unsigned a = arc < 40 ? 0 : arc < 80 ? 1 : 2;
            n += (size_t)snprintf(out + n, cap - n, "%u.%llu", a,
                                  (unsigned long long)(arc - 40u * a));
            first = false;
        } else {
            n += (size_t)snprintf(out + n, cap - n, ".%llu", (unsigned long long)arc);
        }
        arc = 0;
    }
}

int x509_parse_extensions(const x509_cert *cert, x509_exts *e, char *why, size_t cap) {
    memset(e, 0, sizeof *e);
    e->path_len = -1;
    if (why && cap) why[0] = '\0';
#define FAIL(code, ...)                                                                            \
    do {                                                                                           \
        if (why && cap) snprintf(why, cap, __VA_ARGS__);                                           \
        return code;                                                                               \
    } while (0)
    cursor exts = cert->extensions;
    if (cert->version < 3 && exts.len > 0)
        FAIL(X509_EXT_MALFORMED, "extensions in a v%d certificate", cert->version);
    /* Seen-set for duplicates: compare each OID with the earlier ones. */
    cursor seen[64];
    size_t nseen = 0;
    while (!cur_empty(&exts)) {
        cursor ext, oid, value;
        bool critical = false, ok;
        uint8_t tag;
        if (!der_get(&exts, DER_SEQUENCE, &ext) || !der_get(&ext, DER_OID, &oid) || !oid_ok(&oid))
            FAIL(X509_EXT_MALFORMED, "a malformed extension");
        if (der_peek_tag(&ext, &tag) && tag == DER_BOOLEAN) {
            if (!der_get_bool(&ext, &critical) || !critical) /* DEFAULT FALSE: never encoded */
                FAIL(X509_EXT_MALFORMED, "an extension with a non-DER critical flag");
        }
        if (!der_get(&ext, DER_OCTET_STRING, &value) || !cur_empty(&ext))
            FAIL(X509_EXT_MALFORMED, "a malformed extension");
        for (size_t i = 0; i < nseen; i++)
            if (seen[i].len == oid.len && memcmp(seen[i].data, oid.data, oid.len) == 0) {
                char d[96];
                oid_dotted(&oid, d, sizeof d);
                FAIL(X509_EXT_MALFORMED, "a duplicate extension %s", d);
            }
        if (nseen == sizeof seen / sizeof seen[0]) FAIL(X509_EXT_MALFORMED, "too many extensions");
        seen[nseen++] = oid;

        const char *what;
        if (OID_IS(oid, OID_BC)) {
            what = "basicConstraints";
            e->has_bc = true;
            e->bc_critical = critical;
            ok = parse_bc(value, e);
        } else if (OID_IS(oid, OID_KU)) {
            what = "keyUsage";
            e->has_ku = true;
            e->ku_critical = critical;
            ok = parse_ku(value, e);
        } else if (OID_IS(oid, OID_EKU)) {
            what = "extKeyUsage";
            e->has_eku = true;
            e->eku_critical = critical;
            ok = parse_eku(value, e);
        } else if (OID_IS(oid, OID_SAN)) {
            what = "subjectAltName";
            e->has_san = true;
            e->san_critical = critical;
            ok = parse_san(value, e);
        } else if (OID_IS(oid, OID_IAN)) {
            cursor seq;
            what = "issuerAltName";
            ok = der_get(&value, DER_SEQUENCE, &seq) && cur_empty(&value) &&
                 general_names_ok(seq, false);
        } else if (OID_IS(oid, OID_NC)) {
            what = "nameConstraints";
            e->has_nc = true;
            e->nc_critical = critical;
            ok = parse_nc(value, e);
        } else if (OID_IS(oid, OID_AKI)) {
            what = "authorityKeyIdentifier";
            e->has_aki = true;
            e->aki_critical = critical;
            ok = parse_aki(value, e);
        } else if (OID_IS(oid, OID_SKI)) {
            what = "subjectKeyIdentifier";
            e->has_ski = true;
            e->ski_critical = critical;
            ok = parse_ski(value, e);
        } else if (OID_IS(oid, OID_POLICIES)) {
            what = "certificatePolicies";
            e->has_policies = true;
            ok = parse_policies(value);
        } else if (OID_IS(oid, OID_POLICY_CONSTRAINTS)) {
            what = "policyConstraints";
            e->has_policy_constraints = true;
            ok = parse_policy_constraints(value);
        } else if (OID_IS(oid, OID_POLICY_MAPPINGS)) {
            what = "policyMappings";
            e->has_policy_mappings = true;
            ok = parse_policy_mappings(value);
        } else if (OID_IS(oid, OID_INHIBIT_ANY)) {
            what = "inhibitAnyPolicy";
            e->has_inhibit_any = true;
            ok = parse_inhibit_any(value);
        } else if (OID_IS(oid, OID_AIA)) {
            what = "authorityInfoAccess";
            e->has_aia = true;
            e->aia_critical = critical;
            ok = parse_aia(value, e);
        } else if (OID_IS(oid, OID_TLS_FEATURE)) {
            what = "TLS Feature";
            e->has_tls_feature = true;
            ok = parse_tls_feature(value, e);
        } else if (OID_IS(oid, OID_OCSP_NOCHECK)) {
            what = "id-pkix-ocsp-nocheck";
            e->ocsp_nocheck = true;
            cursor null;
            ok = der_get(&value, DER_NULL, &null) && null.len == 0 && cur_empty(&value);
        } else if (OID_IS(oid, OID_CRLDP) || OID_IS(oid, OID_FRESHEST_CRL)) {
            what = "cRLDistributionPoints";
            e->has_crldp = true;
            ok = parse_crldp(value, e, OID_IS(oid, OID_CRLDP));
        } else {
            if (critical) {
                char d[96];
                oid_dotted(&oid, d, sizeof d);
                FAIL(X509_EXT_UNKNOWN_CRITICAL, "an unknown critical extension %s", d);
            }
            continue;
        }
        if (!ok) FAIL(X509_EXT_MALFORMED, "a malformed %s extension", what);
    }
    return X509_EXT_OK;
#undef FAIL
}

bool x509_cn_begin(const cursor *name, x509_cn_iter *it) {
    cursor n = *name;
    memset(it, 0, sizeof *it);
    return der_get(&n, DER_SEQUENCE, &it->rdns);
}

bool x509_cn_next(x509_cn_iter *it, uint8_t *tag, cursor *value) {
    for (;;) {
        while (cur_empty(&it->rdn)) {
            if (cur_empty(&it->rdns) || !der_get(&it->rdns, DER_SET, &it->rdn)) return false;
        }
        cursor atv, oid, val;
        uint8_t t;
        if (!der_get(&it->rdn, DER_SEQUENCE, &atv) || !der_get(&atv, DER_OID, &oid) ||
            !der_any(&atv, &t, &val)) {
            cur_init(&it->rdns, NULL, 0);
            cur_init(&it->rdn, NULL, 0);
            return false;
        }
        if (OID_IS(oid, OID_CN)) {
            *tag = t;
            *value = val;
            return true;
        }
    }
}
