/* DER writing on top of the builder. See der_build.h. */
#include "wire/der_build.h"

#include <string.h>

#define DER_OPEN_WIDTH 0 /* marks a DER element on the builder's vector stack */

static void fail(builder *b) {
    b->failed = true;
}

/* Octets needed for the long form of len (1..4 for anything a builder can
 * hold; 0 for the short form). */
static size_t long_len_octets(size_t len) {
    size_t k = 0;
    if (len < 0x80) return 0;
    for (size_t v = len; v; v >>= 8)
        k++;
    return k;
}

void der_put_length(builder *b, size_t len) {
    size_t k = long_len_octets(len);
    if (k == 0) {
        bld_u8(b, (uint8_t)len);
        return;
    }
    if (k > 4) {
        fail(b);
        return;
    }
    uint8_t *p = bld_reserve(b, 1 + k);
    if (!p) return;
    p[0] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        p[1 + i] = (uint8_t)(len >> (8 * (k - 1 - i)));
}

static bool tag_ok(uint8_t tag) {
    return (tag & 0x1f) != 0x1f; /* single-byte tags only */
}

void der_open(builder *b, uint8_t tag) {
    if (b->failed) return;
    if (!tag_ok(tag) || b->depth < 0 || b->depth >= BLD_MAX_DEPTH) {
        fail(b);
        return;
    }
    uint8_t *p = bld_reserve(b, 2);
    if (!p) return;
    p[0] = tag;
    p[1] = 0; /* length placeholder */
    b->open_at[b->depth] = b->len - 1;
    b->open_width[b->depth] = DER_OPEN_WIDTH;
    b->depth++;
}

void der_close(builder *b) {
    if (b->failed) return;
    if (b->depth <= 0 || b->depth > BLD_MAX_DEPTH ||
        b->open_width[b->depth - 1] != DER_OPEN_WIDTH) {
        fail(b);
        return;
    }
    size_t at = b->open_at[b->depth - 1];
    if (at >= b->len) {
        fail(b);
        return;
    }
    b->depth--;
    size_t n = b->len - at - 1; /* contents after the placeholder */
    size_t k = long_len_octets(n);
    if (k == 0) {
        b->buf[at] = (uint8_t)n;
        return;
    }
    if (k > 4 || !bld_reserve(b, k)) { /* may move b->buf: offsets only below */
        fail(b);
        return;
    }
    memmove(b->buf + at + 1 + k, b->buf + at + 1, n);
    b->buf[at] = (uint8_t)(0x80 | k);
    for (size_t i = 0; i < k; i++)
        b->buf[at + 1 + i] = (uint8_t)(n >> (8 * (k - 1 - i)));
}

void der_put(builder *b, uint8_t tag, const uint8_t *contents, size_t len) {
    if (b->failed) return;
    if (!tag_ok(tag) || (len && !contents)) {
        fail(b);
        return;
    }
    bld_u8(b, tag);
    der_put_length(b, len);
    bld_bytes(b, contents, len);
}

void der_put_integer_tagged(builder *b, uint8_t tag, const uint8_t *magnitude, size_t len) {
    if (len && !magnitude) {
        fail(b);
        return;
    }
    while (len > 0 && magnitude[0] == 0) {
        magnitude++;
        len--;
    }
    if (b->failed || !tag_ok(tag)) {
        fail(b);
        return;
    }
    bool pad = len == 0 || (magnitude[0] & 0x80);
    if (len > SIZE_MAX - 1) {
        fail(b);
        return;
    }
    bld_u8(b, tag);
    der_put_length(b, len + pad);
    if (pad) bld_u8(b, 0x00);
    bld_bytes(b, magnitude, len);
}

void der_put_integer(builder *b, const uint8_t *magnitude, size_t len) {
    der_put_integer_tagged(b, DER_INTEGER, magnitude, len);
}

void der_put_integer_u64(builder *b, uint64_t v) {
    uint8_t be[8];
    for (int i = 0; i < 8; i++)
        be[i] = (uint8_t)(v >> (8 * (7 - i)));
    der_put_integer(b, be, sizeof be);
}

void der_put_bool(builder *b, bool v) {
    uint8_t c = v ? 0xff : 0x00;
    der_put(b, DER_BOOLEAN, &c, 1);
}

void der_put_null(builder *b) {
    der_put(b, DER_NULL, NULL, 0);
}

void der_put_oid(builder *b, const uint8_t *contents, size_t len) {
    /* Well-formed base-128 arcs: non-empty, no 0x80 lead bytes, last byte
     * of the contents ends an arc. */
    bool ok = len > 0 && contents && !(contents[len - 1] & 0x80);
    for (size_t i = 0; ok && i < len; i++)
        if (contents[i] == 0x80 && (i == 0 || !(contents[i - 1] & 0x80))) ok = false;
    if (!ok) {
        fail(b);
        return;
    }
    der_put(b, DER_OID, contents, len);
}

/* Appends one base-128 arc; returns the new length or 0 if out of room. */
static size_t put_arc(uint8_t *out, size_t cap, size_t n, uint64_t v) {
    uint8_t tmp[10];
    size_t k = 0;
    do {
        tmp[k++] = (uint8_t)(v & 0x7f);
        v >>= 7;
    } while (v);
    if (k > cap - n) return 0;
    for (size_t i = 0; i < k; i++)
        out[n + i] = (uint8_t)(tmp[k - 1 - i] | (i + 1 < k ? 0x80 : 0));
    return n + k;
}

/* Parses one decimal arc at *s (no leading zeros, fits in 64 bits). */
static bool parse_arc(const char **s, uint64_t *out) {
    const char *p = *s;
    if (*p < '0' || *p > '9') return false;
    if (p[0] == '0' && p[1] >= '0' && p[1] <= '9') return false;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    *out = v;
    *s = p;
    return true;
}

size_t der_oid_from_text(const char *dotted, uint8_t *out, size_t cap) {
    if (!dotted || !out || cap == 0) return 0;
    const char *p = dotted;
    uint64_t first, second;
    if (!parse_arc(&p, &first) || *p++ != '.' || !parse_arc(&p, &second)) return 0;
    if (first > 2 || (first < 2 && second > 39)) return 0;
    if (second > UINT64_MAX - 80) return 0;
    size_t n = put_arc(out, cap, 0, first * 40 + second);
    if (n == 0) return 0;
    while (*p) {
        uint64_t arc;
        if (*p++ != '.' || !parse_arc(&p, &arc)) return 0;
        n = put_arc(out, cap, n, arc);
        if (n == 0) return 0;
    }
    return n;
}

void der_put_oid_text(builder *b, const char *dotted) {
    uint8_t enc[128];
    size_t n = der_oid_from_text(dotted, enc, sizeof enc);
    if (n == 0) {
        fail(b);
        return;
    }
    der_put_oid(b, enc, n);
}

void der_put_bitstring(builder *b, const uint8_t *bytes, size_t len) {
    if ((len && !bytes) || len > SIZE_MAX - 1) {
        fail(b);
        return;
    }
    bld_u8(b, DER_BIT_STRING);
    der_put_length(b, len + 1);
    bld_u8(b, 0);
    bld_bytes(b, bytes, len);
}

void der_put_named_bits(builder *b, uint32_t bits) {
    uint8_t v[5] = {0, 0, 0, 0, 0};
    int highest = -1; /* highest set ASN.1 bit number */
    for (int i = 0; i < 32; i++) {
        if (bits & ((uint32_t)1 << i)) {
            v[1 + i / 8] |= (uint8_t)(0x80 >> (i % 8));
            highest = i;
        }
    }
    if (highest < 0) { /* empty list: no bytes, no unused bits */
        der_put(b, DER_BIT_STRING, v, 1);
        return;
    }
    size_t nbytes = (size_t)highest / 8 + 1;
    v[0] = (uint8_t)(7 - highest % 8); /* unused bits in the last byte */
    der_put(b, DER_BIT_STRING, v, 1 + nbytes);
}

void der_put_octet_string(builder *b, const uint8_t *bytes, size_t len) {
    der_put(b, DER_OCTET_STRING, bytes, len);
}

bool der_is_printable(const char *s, size_t len) {
    if (len && !s) return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) continue;
        if (!strchr(" '()+,-./:=?", c) || c == 0) return false;
    }
    return true;
}

bool der_is_ia5(const char *s, size_t len) {
    if (len && !s) return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80) return false;
    return true;
}

bool der_is_utf8(const char *s, size_t len) {
    if (len && !s) return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        size_t n;
        uint32_t cp;
        if (c == 0) return false;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (n > len - i - 1) return false;
        for (size_t j = 1; j <= n; j++) {
            if ((p[i + j] & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (p[i + j] & 0x3f);
        }
        static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
        i += n + 1;
    }
    return true;
}

static void put_string(builder *b, uint8_t tag, const char *s, size_t len, bool ok) {
    if (!ok) {
        fail(b);
        return;
    }
    der_put(b, tag, (const uint8_t *)s, len);
}

void der_put_utf8_string(builder *b, const char *s, size_t len) {
    put_string(b, DER_UTF8_STRING, s, len, der_is_utf8(s, len));
}

void der_put_printable_string(builder *b, const char *s, size_t len) {
    put_string(b, DER_PRINTABLE_STRING, s, len, der_is_printable(s, len));
}

void der_put_ia5_string(builder *b, const char *s, size_t len) {
    put_string(b, DER_IA5_STRING, s, len, der_is_ia5(s, len));
}

void der_put_ia5_tagged(builder *b, uint8_t tag, const char *s, size_t len) {
    put_string(b, tag, s, len, der_is_ia5(s, len));
}

/* H. Hinnant's civil_from_days. */
void der_civil_from_epoch(int64_t t, int64_t *year, int *mon, int *day, int *hour, int *min,
                          int *sec) {
    int64_t days = t / 86400, rem = t % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (m <= 2);
    *mon = (int)m;
    *day = (int)d;
    *hour = (int)(rem / 3600);
    *min = (int)(rem % 3600 / 60);
    *sec = (int)(rem % 60);
}

/* Writes the time with a 2- or 4-digit year; the range was checked. */
static void put_time(builder *b, int64_t t, bool utc) {
    /* 0000-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, before any arithmetic. */
    if (t < -62167219200 || t > 253402300799) {
        fail(b);
        return;
    }
    int64_t y;
    int mo, d, h, mi, s;
    der_civil_from_epoch(t, &y, &mo, &d, &h, &mi, &s);
    bool in_range = utc ? (y >= 1950 && y <= 2049) : (y >= 0 && y <= 9999);
    if (b->failed || !in_range) {
        fail(b);
        return;
    }
    char txt[16];
    size_t n = 0;
    int yy = (int)(utc ? y % 100 : y);
    if (!utc) {
        txt[n++] = (char)('0' + yy / 1000);
        txt[n++] = (char)('0' + yy / 100 % 10);
    }
    const int parts[6] = {yy % 100, mo, d, h, mi, s};
    for (int i = 0; i < 6; i++) {
        txt[n++] = (char)('0' + parts[i] / 10);
        txt[n++] = (char)('0' + parts[i] % 10);
    }
    txt[n++] = 'Z';
    der_put(b, utc ? DER_UTC_TIME : DER_GENERALIZED_TIME, (const uint8_t *)txt, n);
}

void der_put_utc_time(builder *b, int64_t epoch_seconds) {
    put_time(b, epoch_seconds, true);
}

void der_put_generalized_time(builder *b, int64_t epoch_seconds) {
    put_time(b, epoch_seconds, false);
}

void der_put_time(builder *b, int64_t epoch_seconds) {
    /* 1950-01-01T00:00:00Z and 2050-01-01T00:00:00Z */
    bool utc = epoch_seconds >= -631152000 && epoch_seconds < 2524608000;
    put_time(b, epoch_seconds, utc);
}
