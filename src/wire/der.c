/* Strict DER reader (X.690 §10) over the cursor API. See der.h. */
#include "wire/der.h"

#include <string.h>

/* Reads tag and length; on success *hdr_len is the header size and *out the
 * contents. Consumes nothing on failure. */
static bool der_header(cursor *c, uint8_t *tag, cursor *out, size_t *hdr_len) {
    cursor tmp = *c;
    uint8_t t, l;
    if (!cur_u8(&tmp, &t) || !cur_u8(&tmp, &l)) return false;
    if ((t & 0x1f) == 0x1f) return false; /* high tag number form: not used in X.509 */
    size_t len;
    if (l < 0x80) {
        len = l;
    } else {
        size_t n = l & 0x7f;
        /* 0x80 is the indefinite form (BER only); more than 4 length octets
         * would mean an element over 4 GiB. */
        if (n == 0 || n > 4) return false;
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++) {
            uint8_t b;
            if (!cur_u8(&tmp, &b)) return false;
            if (i == 0 && b == 0) return false; /* leading zero: not minimal */
            v = (v << 8) | b;
        }
        if (v < 0x80) return false; /* should have used the short form */
        if (v > SIZE_MAX) return false;
        len = (size_t)v;
    }
    size_t hl = (size_t)(tmp.data - c->data);
    cursor body;
    if (!cur_sub(&tmp, len, &body)) return false;
    *tag = t;
    *out = body;
    if (hdr_len) *hdr_len = hl;
    *c = tmp;
    return true;
}

bool der_any(cursor *c, uint8_t *tag, cursor *out) {
    return der_header(c, tag, out, NULL);
}

bool der_peek_tag(const cursor *c, uint8_t *tag) {
    return cur_peek_u8(c, tag);
}

bool der_get(cursor *c, uint8_t tag, cursor *out) {
    cursor tmp = *c;
    uint8_t t;
    cursor body;
    if (!der_header(&tmp, &t, &body, NULL) || t != tag) return false;
    *out = body;
    *c = tmp;
    return true;
}

bool der_get_element(cursor *c, uint8_t tag, cursor *element, cursor *contents) {
    cursor tmp = *c;
    uint8_t t;
    cursor body;
    size_t hl;
    if (!der_header(&tmp, &t, &body, &hl) || t != tag) return false;
    if (element) cur_init(element, c->data, hl + body.len);
    if (contents) *contents = body;
    *c = tmp;
    return true;
}

bool der_get_optional(cursor *c, uint8_t tag, cursor *out, bool *present) {
    uint8_t t;
    if (!der_peek_tag(c, &t) || t != tag) {
        *present = false;
        cur_init(out, NULL, 0);
        return true;
    }
    if (!der_get(c, tag, out)) return false;
    *present = true;
    return true;
}

bool der_get_int64(cursor *c, int64_t *out) {
    cursor tmp = *c, body;
    if (!der_get(&tmp, DER_INTEGER, &body)) return false;
    size_t n = body.len;
    const uint8_t *p = body.data;
    if (n == 0 || n > 8) return false;
    if (n > 1 && ((p[0] == 0x00 && !(p[1] & 0x80)) || (p[0] == 0xff && (p[1] & 0x80))))
        return false;                            /* non-minimal */
    uint64_t v = (p[0] & 0x80) ? UINT64_MAX : 0; /* sign extension */
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    /* Two's complement to int64 without implementation-defined conversion. */
    *out = v <= (uint64_t)INT64_MAX ? (int64_t)v : -(int64_t)(~v) - 1;
    *c = tmp;
    return true;
}

bool der_get_bitstring_bytes(cursor *c, cursor *out) {
    cursor tmp = *c, body;
    uint8_t unused;
    if (!der_get(&tmp, DER_BIT_STRING, &body)) return false;
    if (!cur_u8(&body, &unused) || unused != 0) return false;
    *out = body;
    *c = tmp;
    return true;
}

bool der_get_bool(cursor *c, bool *out) {
    cursor tmp = *c, body;
    uint8_t v;
    if (!der_get(&tmp, DER_BOOLEAN, &body)) return false;
    if (!cur_u8(&body, &v) || !cur_empty(&body)) return false;
    if (v != 0x00 && v != 0xff) return false;
    *out = v == 0xff;
    *c = tmp;
    return true;
}

/* Parses n decimal digits; false if any is not a digit. */
static bool digits(const uint8_t *p, size_t n, int *out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return false;
        v = v * 10 + (p[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

bool der_get_time(cursor *c, int64_t *out) {
    cursor tmp = *c, body;
    uint8_t tag;
    if (!der_any(&tmp, &tag, &body)) return false;
    const uint8_t *p = body.data;
    int year, mon, day, hour, min, sec;
    size_t ylen;
    if (tag == DER_UTC_TIME) {
        if (body.len != 13) return false; /* YYMMDDHHMMSSZ */
        ylen = 2;
        if (!digits(p, 2, &year)) return false;
        year += year >= 50 ? 1900 : 2000; /* RFC 5280 §4.1.2.5.1 */
    } else if (tag == DER_GENERALIZED_TIME) {
        if (body.len != 15) return false; /* YYYYMMDDHHMMSSZ, no fractions */
        ylen = 4;
        if (!digits(p, 4, &year)) return false;
    } else {
        return false;
    }
    p += ylen;
    if (!digits(p, 2, &mon) || !digits(p + 2, 2, &day) || !digits(p + 4, 2, &hour) ||
        !digits(p + 6, 2, &min) || !digits(p + 8, 2, &sec) || p[10] != 'Z')
        return false;
    if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 || min > 59 ||
        sec > 59)
        return false;
    *out = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
    *c = tmp;
    return true;
}

bool der_oid_equal(const cursor *oid, const uint8_t *known, size_t known_len) {
    return oid->len == known_len && (known_len == 0 || memcmp(oid->data, known, known_len) == 0);
}
