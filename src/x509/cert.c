/* X.509 certificate parsing (RFC 5280 §4.1) and name rendering. */
#include "x509/cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "wire/der.h"

/* INTEGER contents in minimal two's-complement form (any size). */
static bool integer_minimal(const cursor *v) {
    if (v->len == 0) return false;
    if (v->len > 1) {
        uint8_t a = v->data[0], b = v->data[1];
        if ((a == 0x00 && !(b & 0x80)) || (a == 0xff && (b & 0x80))) return false;
    }
    return true;
}

/* OID contents: non-empty, every arc minimally encoded, ends on a last byte. */
static bool oid_valid(const cursor *oid) {
    if (oid->len == 0) return false;
    bool start = true;
    for (size_t i = 0; i < oid->len; i++) {
        uint8_t b = oid->data[i];
        if (start && b == 0x80) return false;
        start = !(b & 0x80);
    }
    return start;
}

/* AlgorithmIdentifier ::= SEQUENCE { algorithm OID, parameters ANY OPTIONAL } */
static bool parse_algid(cursor *c, cursor *contents) {
    cursor seq, oid, params;
    uint8_t tag;
    if (!der_get(c, DER_SEQUENCE, &seq)) return false;
    *contents = seq;
    if (!der_get(&seq, DER_OID, &oid) || !oid_valid(&oid)) return false;
    if (!cur_empty(&seq) && !der_any(&seq, &tag, &params)) return false;
    return cur_empty(&seq);
}

/* Name ::= SEQUENCE OF RelativeDistinguishedName
 * RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
 * AttributeTypeAndValue ::= SEQUENCE { type OID, value ANY } */
static bool name_valid(cursor name) {
    cursor rdns, rdn, atv, oid, val;
    uint8_t tag;
    if (!der_get(&name, DER_SEQUENCE, &rdns) || !cur_empty(&name)) return false;
    while (!cur_empty(&rdns)) {
        if (!der_get(&rdns, DER_SET, &rdn) || cur_empty(&rdn)) return false;
        while (!cur_empty(&rdn)) {
            if (!der_get(&rdn, DER_SEQUENCE, &atv)) return false;
            if (!der_get(&atv, DER_OID, &oid) || !oid_valid(&oid)) return false;
            if (!der_any(&atv, &tag, &val) || !cur_empty(&atv)) return false;
        }
    }
    return true;
}

static bool parse_name(cursor *c, cursor *element) {
    cursor contents;
    if (!der_get_element(c, DER_SEQUENCE, element, &contents)) return false;
    return name_valid(*element);
}

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension
 * Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
 *                          extnValue OCTET STRING } */
static bool extensions_valid(cursor exts) {
    if (cur_empty(&exts)) return false;
    while (!cur_empty(&exts)) {
        cursor ext, oid, value;
        bool critical;
        uint8_t tag;
        if (!der_get(&exts, DER_SEQUENCE, &ext)) return false;
        if (!der_get(&ext, DER_OID, &oid) || !oid_valid(&oid)) return false;
        if (der_peek_tag(&ext, &tag) && tag == DER_BOOLEAN && !der_get_bool(&ext, &critical))
            return false;
        if (!der_get(&ext, DER_OCTET_STRING, &value) || !cur_empty(&ext)) return false;
    }
    return true;
}

static bool parse_tbs(cursor tbs, x509_cert *cert) {
    cursor v, tmp;
    bool present;

    /* version [0] EXPLICIT Version DEFAULT v1: DER forbids encoding v1. */
    if (!der_get_optional(&tbs, DER_CONTEXT_CONS(0), &v, &present)) return false;
    cert->version = 1;
    if (present) {
        int64_t ver;
        if (!der_get_int64(&v, &ver) || !cur_empty(&v)) return false;
        if (ver != 1 && ver != 2) return false;
        cert->version = (int)ver + 1;
    }
    if (!der_get(&tbs, DER_INTEGER, &cert->serial) || !integer_minimal(&cert->serial)) return false;
    if (!parse_algid(&tbs, &cert->tbs_sig_alg)) return false;
    if (!parse_name(&tbs, &cert->issuer)) return false;

    cursor validity;
    if (!der_get(&tbs, DER_SEQUENCE, &validity)) return false;
    if (!der_get_time(&validity, &cert->not_before) || !der_get_time(&validity, &cert->not_after) ||
        !cur_empty(&validity))
        return false;

    if (!parse_name(&tbs, &cert->subject)) return false;

    cursor spki, alg;
    if (!der_get_element(&tbs, DER_SEQUENCE, &cert->spki, &spki)) return false;
    if (!parse_algid(&spki, &alg) || !der_get_bitstring_bytes(&spki, &tmp) || cur_empty(&tmp) ||
        !cur_empty(&spki))
        return false;

    /* issuerUniqueID [1] IMPLICIT BIT STRING, subjectUniqueID [2]: v2 or v3. */
    for (uint8_t n = 1; n <= 2; n++) {
        if (!der_get_optional(&tbs, DER_CONTEXT(n), &tmp, &present)) return false;
        if (!present) continue;
        /* BIT STRING contents: unused-bit count 0..7, and 0 when empty. */
        uint8_t unused;
        if (cert->version < 2 || !cur_u8(&tmp, &unused) || unused > 7 ||
            (unused && cur_empty(&tmp)))
            return false;
    }

    /* extensions [3] EXPLICIT Extensions: v3 only. */
    cur_init(&cert->extensions, NULL, 0);
    if (!der_get_optional(&tbs, DER_CONTEXT_CONS(3), &v, &present)) return false;
    if (present) {
        if (cert->version != 3) return false;
        if (!der_get(&v, DER_SEQUENCE, &cert->extensions) || !cur_empty(&v)) return false;
        if (!extensions_valid(cert->extensions)) return false;
    }
    return cur_empty(&tbs);
}

int x509_parse(x509_cert *cert, const uint8_t *der, size_t len) {
    if (!cert || !der) return -1;
    memset(cert, 0, sizeof *cert);
    cursor in, outer, tbs;
    cur_init(&in, der, len);
    if (!der_get_element(&in, DER_SEQUENCE, &cert->der, &outer) || !cur_empty(&in)) return -1;
    if (!der_get_element(&outer, DER_SEQUENCE, &cert->tbs, &tbs)) return -1;
    if (!parse_tbs(tbs, cert)) return -1;
    if (!parse_algid(&outer, &cert->sig_alg)) return -1;
    if (!der_get_bitstring_bytes(&outer, &cert->sig) || !cur_empty(&outer)) return -1;
    return 0;
}

/* ---- names --------------------------------------------------------------- */

typedef struct out_buf {
    char *p;
    size_t len, cap;
    bool overflow;
} out_buf;

static void put(out_buf *o, const char *s, size_t n) {
    if (o->overflow) return;
    if (n >= o->cap - o->len) { /* keep room for the NUL */
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_(out_buf *o, const char *s) {
    put(o, s, strlen(s));
}

static void put_hex_byte(out_buf *o, const char *prefix, uint8_t b) {
    static const char hex[] = "0123456789ABCDEF";
    char t[4];
    size_t n = strlen(prefix);
    memcpy(t, prefix, n);
    t[n] = hex[b >> 4];
    t[n + 1] = hex[b & 15];
    put(o, t, n + 2);
}

static const struct {
    uint8_t oid[11];
    uint8_t len;
    const char *name;
} known_attrs[] = {
    {{0x55, 0x04, 0x03}, 3, "CN"},
    {{0x55, 0x04, 0x06}, 3, "C"},
    {{0x55, 0x04, 0x0a}, 3, "O"},
    {{0x55, 0x04, 0x0b}, 3, "OU"},
    {{0x55, 0x04, 0x07}, 3, "L"},
    {{0x55, 0x04, 0x08}, 3, "ST"},
    {{0x55, 0x04, 0x05}, 3, "serialNumber"},
    {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, 9, "emailAddress"},
    {{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, 10, "DC"},
    {{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, 10, "UID"},
    /* Beyond the usual ten: names OpenSSL also prints, common in EV and
     * organisation certificates. */
    {{0x55, 0x04, 0x09}, 3, "street"},
    {{0x55, 0x04, 0x11}, 3, "postalCode"},
    {{0x55, 0x04, 0x0c}, 3, "title"},
    {{0x55, 0x04, 0x04}, 3, "SN"},
    {{0x55, 0x04, 0x2a}, 3, "GN"},
    {{0x55, 0x04, 0x0f}, 3, "businessCategory"},
    {{0x55, 0x04, 0x61}, 3, "organizationIdentifier"},
    {{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x01}, 11, "jurisdictionL"},
    {{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x02}, 11, "jurisdictionST"},
    {{0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03}, 11, "jurisdictionC"},
};

/* Dotted decimal; false on a malformed OID or an arc over 64 bits. */
static bool put_oid_dotted(out_buf *o, const cursor *oid) {
    if (!oid_valid(oid)) return false;
    uint64_t arc = 0;
    bool first = true;
    char t[48];
    for (size_t i = 0; i < oid->len; i++) {
        uint8_t b = oid->data[i];
        if (arc > (UINT64_MAX >> 7)) return false;
        arc = (arc << 7) | (b & 0x7f);
        if (b & 0x80) continue;
        if (first) {
            unsigned top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
            snprintf(t, sizeof t, "%u.%llu", top, (unsigned long long)(arc - 40u * top));
            first = false;
        } else {
            snprintf(t, sizeof t, ".%llu", (unsigned long long)arc);
        }
        puts_(o, t);
        arc = 0;
    }
    return true;
}

/* Appends one code point, RFC 4514-escaped: specials with a backslash,
 * anything outside printable ASCII as \XX per UTF-8 byte. first/last say
 * whether it starts or ends the value (leading '#'/' ', trailing ' '). */
static void put_escaped_cp(out_buf *o, uint32_t cp, bool first, bool last) {
    if (cp >= 0x20 && cp < 0x7f) {
        char ch = (char)cp;
        if (strchr(",+\"\\<>;", ch) || (first && (ch == '#' || ch == ' ')) || (last && ch == ' '))
            put(o, "\\", 1);
        put(o, &ch, 1);
        return;
    }
    uint8_t u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (uint8_t)(0xc0 | cp >> 6);
        u[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (uint8_t)(0xe0 | cp >> 12);
        u[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        u[0] = (uint8_t)(0xf0 | cp >> 18);
        u[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        u[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        u[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    for (size_t i = 0; i < n; i++)
        put_hex_byte(o, "\\", u[i]);
}

/* Renders an attribute value. Byte strings (UTF8, Printable, IA5, T61,
 * Visible) escape each byte; BMP and Universal strings are decoded to code
 * points first. Other types are rendered as '#' + hex of the element. */
static bool put_value(out_buf *o, uint8_t tag, const cursor *val, const cursor *elem) {
    const uint8_t *p = val->data;
    size_t n = val->len;
    switch (tag) {
    case DER_UTF8_STRING:
    case DER_PRINTABLE_STRING:
    case DER_T61_STRING:
    case DER_IA5_STRING:
    case 0x1a: /* VisibleString */
        for (size_t i = 0; i < n; i++) {
            uint8_t b = p[i];
            if (b >= 0x80)
                put_hex_byte(o, "\\", b);
            else
                put_escaped_cp(o, b, i == 0, i + 1 == n);
        }
        return true;
    case DER_BMP_STRING:
        if (n % 2) return false;
        for (size_t i = 0; i < n; i += 2)
            put_escaped_cp(o, (uint32_t)p[i] << 8 | p[i + 1], i == 0, i + 2 == n);
        return true;
    case DER_UNIVERSAL_STRING:
        if (n % 4) return false;
        for (size_t i = 0; i < n; i += 4) {
            uint32_t cp = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
                          (uint32_t)p[i + 2] << 8 | p[i + 3];
            if (cp > 0x10ffff) return false;
            put_escaped_cp(o, cp, i == 0, i + 4 == n);
        }
        return true;
    default:
        put(o, "#", 1);
        for (size_t i = 0; i < elem->len; i++)
            put_hex_byte(o, "", elem->data[i]);
        return true;
    }
}

static bool put_atv(out_buf *o, cursor atv) {
    cursor oid, val, elem;
    uint8_t tag;
    if (!der_get(&atv, DER_OID, &oid)) return false;
    elem = atv;
    if (!der_any(&atv, &tag, &val) || !cur_empty(&atv)) return false;
    const char *name = NULL;
    for (size_t i = 0; i < sizeof known_attrs / sizeof known_attrs[0]; i++)
        if (der_oid_equal(&oid, known_attrs[i].oid, known_attrs[i].len)) name = known_attrs[i].name;
    if (name)
        puts_(o, name);
    else if (!put_oid_dotted(o, &oid))
        return false;
    put(o, "=", 1);
    return put_value(o, tag, &val, &elem);
}

/* One AttributeTypeAndValue and the RDN it belongs to. */
typedef struct ava_ref {
    cursor atv;
    size_t rdn;
} ava_ref;

int x509_name_to_string(const cursor *name, char *out, size_t cap) {
    if (!name || !out || cap == 0) return -1;
    out[0] = '\0';
    if (!name_valid(*name)) return -1;
    cursor c = *name, rdns, t, rdn, atv;
    if (!der_get(&c, DER_SEQUENCE, &rdns)) return -1;

    /* Like OpenSSL's RFC 2253 output, print every attribute in reverse
     * order: most specific RDN first, and within a multi-valued RDN the
     * last value first. */
    size_t count = 0;
    for (t = rdns; !cur_empty(&t);)
        for (der_get(&t, DER_SET, &rdn); !cur_empty(&rdn); count++)
            der_get(&rdn, DER_SEQUENCE, &atv);
    ava_ref small[16], *list = small;
    if (count > sizeof small / sizeof small[0]) {
        list = malloc(count * sizeof *list);
        if (!list) return -1;
    }
    size_t k = 0, r = 0;
    for (t = rdns; !cur_empty(&t); r++)
        for (der_get(&t, DER_SET, &rdn); !cur_empty(&rdn); k++) {
            der_get(&rdn, DER_SEQUENCE, &list[k].atv);
            list[k].rdn = r;
        }

    out_buf o = {out, 0, cap, false};
    bool ok = true;
    for (size_t i = count; i-- > 0 && ok && !o.overflow;) {
        if (i + 1 != count) puts_(&o, list[i].rdn == list[i + 1].rdn ? "+" : ", ");
        ok = put_atv(&o, list[i].atv);
    }
    if (list != small) free(list);
    if (!ok || o.overflow) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

int x509_spki_pin(const x509_cert *cert, char *out, size_t cap) {
    uint8_t digest[32];
    static const char prefix[] = "sha256:";
    const size_t plen = sizeof prefix - 1;
    if (!cert || !out || cap < plen + 45 || !cert->spki.data) return -1;
    if (hash_oneshot(HASH_SHA256, cert->spki.data, cert->spki.len, digest) != 0) return -1;
    memcpy(out, prefix, plen);
    int n = base64_encode(digest, sizeof digest, out + plen, cap - plen);
    if (n < 0 || (size_t)n >= cap - plen) return -1;
    out[plen + (size_t)n] = '\0';
    return 0;
}

void x509_serial_short(const cursor *serial, char *out, size_t cap) {
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0, shown = serial->len > 8 ? 8 : serial->len;
    if (cap == 0) return;
    for (size_t i = 0; i < shown && n + 3 < cap; i++) {
        out[n++] = hex[serial->data[i] >> 4];
        out[n++] = hex[serial->data[i] & 15];
    }
    if (serial->len > shown && n + 4 < cap) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}
