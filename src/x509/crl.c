/* CRL parsing (RFC 5280 §5.1) over the DER reader. */
#include "x509/crl.h"

#include <string.h>

#include "wire/der.h"

static const uint8_t OID_CRL_NUMBER[] = {0x55, 0x1d, 0x14};
static const uint8_t OID_AKI[] = {0x55, 0x1d, 0x23};
static const uint8_t OID_REASON[] = {0x55, 0x1d, 0x15};
static const uint8_t OID_INVALIDITY_DATE[] = {0x55, 0x1d, 0x18};
#define DER_ENUMERATED_TAG 0x0a

static bool algid(cursor *c, cursor *contents) {
    cursor seq, oid;
    if (!der_get(c, DER_SEQUENCE, &seq)) return false;
    *contents = seq;
    return der_get(&seq, DER_OID, &oid);
}

static bool time_any(cursor *c, int64_t *out) {
    return der_get_time(c, out);
}

/* Extensions contents: each known or non-critical; sets the flags. */
static bool extensions(cursor exts, x509_crl *crl, bool entry) {
    if (cur_empty(&exts)) return false;
    while (!cur_empty(&exts)) {
        cursor ext, oid, value;
        bool critical = false;
        uint8_t tag;
        if (!der_get(&exts, DER_SEQUENCE, &ext) || !der_get(&ext, DER_OID, &oid)) return false;
        if (der_peek_tag(&ext, &tag) && tag == DER_BOOLEAN &&
            (!der_get_bool(&ext, &critical) || !critical))
            return false;
        if (!der_get(&ext, DER_OCTET_STRING, &value) || !cur_empty(&ext)) return false;
        if (!entry && der_oid_equal(&oid, OID_CRL_NUMBER, sizeof OID_CRL_NUMBER)) {
            cursor n;
            if (crl->has_crl_number) return false; /* duplicate */
            if (!der_get(&value, DER_INTEGER, &n) || !cur_empty(&value) || n.len == 0 ||
                n.len > 21 || (n.data[0] & 0x80))
                return false;
            crl->has_crl_number = true;
            crl->crl_number_critical = critical;
        } else if (!entry && der_oid_equal(&oid, OID_AKI, sizeof OID_AKI)) {
            /* informative only */
        } else if (entry &&
                   (der_oid_equal(&oid, OID_REASON, sizeof OID_REASON) ||
                    der_oid_equal(&oid, OID_INVALIDITY_DATE, sizeof OID_INVALIDITY_DATE))) {
            /* informative only */
        } else if (critical) {
            crl->unknown_critical = true; /* issuingDistributionPoint, delta CRLs, ... */
        }
    }
    return true;
}

int x509_crl_parse(x509_crl *crl, const uint8_t *der, size_t len) {
    if (!crl || !der) return -1;
    memset(crl, 0, sizeof *crl);
    cursor in, outer, tbs, f;
    bool present;
    uint8_t tag;
    cur_init(&in, der, len);
    if (!der_get(&in, DER_SEQUENCE, &outer) || !cur_empty(&in)) return -1;
    if (!der_get_element(&outer, DER_SEQUENCE, &crl->tbs, &tbs)) return -1;
    if (!algid(&outer, &crl->sig_alg) || !der_get_bitstring_bytes(&outer, &crl->sig) ||
        !cur_empty(&outer))
        return -1;
    /* version Version OPTIONAL (v2 = 1 when extensions are present) */
    if (der_peek_tag(&tbs, &tag) && tag == DER_INTEGER) {
        int64_t v;
        if (!der_get_int64(&tbs, &v) || v != 1) return -1;
    }
    if (!algid(&tbs, &crl->tbs_sig_alg)) return -1;
    if (!der_get_element(&tbs, DER_SEQUENCE, &crl->issuer, NULL)) return -1;
    if (!time_any(&tbs, &crl->this_update)) return -1;
    if (der_peek_tag(&tbs, &tag) && (tag == DER_UTC_TIME || tag == DER_GENERALIZED_TIME)) {
        if (!time_any(&tbs, &crl->next_update)) return -1;
        crl->has_next_update = true;
    }
    if (!der_get_optional(&tbs, DER_SEQUENCE, &crl->revoked, &present)) return -1;
    if (present) {
        cursor list = crl->revoked, entry, serial, exts;
        int64_t when;
        while (!cur_empty(&list)) {
            if (!der_get(&list, DER_SEQUENCE, &entry) || !der_get(&entry, DER_INTEGER, &serial) ||
                !time_any(&entry, &when))
                return -1;
            if (!cur_empty(&entry)) {
                if (!der_get(&entry, DER_SEQUENCE, &exts) || !cur_empty(&entry) ||
                    !extensions(exts, crl, true))
                    return -1;
            }
        }
    }
    if (!der_get_optional(&tbs, DER_CONTEXT_CONS(0), &f, &present)) return -1;
    if (present) {
        cursor exts;
        if (!der_get(&f, DER_SEQUENCE, &exts) || !cur_empty(&f) || !extensions(exts, crl, false))
            return -1;
    }
    return cur_empty(&tbs) ? 0 : -1;
}

/* reasonCode (RFC 5280 §5.3.1) among an entry's extensions; -1 if absent. */
static int entry_reason(cursor entry) {
    cursor exts, ext, oid, value, e;
    uint8_t tag;
    if (!der_get(&entry, DER_SEQUENCE, &exts)) return -1;
    while (der_get(&exts, DER_SEQUENCE, &ext)) {
        if (!der_get(&ext, DER_OID, &oid)) return -1;
        if (der_peek_tag(&ext, &tag) && tag == DER_BOOLEAN) {
            bool critical;
            if (!der_get_bool(&ext, &critical)) return -1;
        }
        if (!der_get(&ext, DER_OCTET_STRING, &value)) return -1;
        if (!der_oid_equal(&oid, OID_REASON, sizeof OID_REASON)) continue;
        if (!der_get(&value, DER_ENUMERATED_TAG, &e) || e.len != 1 || (e.data[0] & 0x80)) return -1;
        return e.data[0];
    }
    return -1;
}

bool x509_crl_next_entry(cursor *list, cursor *serial, cursor *rest) {
    cursor tmp = *list, entry;
    if (!der_get(&tmp, DER_SEQUENCE, &entry) || !der_get(&entry, DER_INTEGER, serial)) return false;
    *rest = entry;
    *list = tmp;
    return true;
}

void x509_crl_entry_details(cursor rest, int64_t *when, int *reason) {
    int64_t t = 0;
    bool timed = der_get_time(&rest, &t);
    if (when) *when = timed ? t : 0;
    if (reason) *reason = timed ? entry_reason(rest) : -1;
}

bool x509_crl_find(const x509_crl *crl, const cursor *serial, int64_t *when, int *reason) {
    cursor list = crl->revoked, s, rest;
    while (x509_crl_next_entry(&list, &s, &rest)) {
        if (s.len == serial->len && memcmp(s.data, serial->data, s.len) == 0) {
            x509_crl_entry_details(rest, when, reason);
            return true;
        }
    }
    return false;
}

bool x509_crl_lists(const x509_crl *crl, const cursor *serial, int64_t *when) {
    return x509_crl_find(crl, serial, when, NULL);
}
