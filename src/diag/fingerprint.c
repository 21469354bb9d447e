/* Client fingerprints of a ClientHello: JA4 and JA4_r (FoxIO's
 * technical_details/JA4.md) and JA3 (the original Salesforce definition:
 * version,ciphers,extensions,groups,point formats in decimal, in the order
 * sent, MD5 of that string). GREASE values (RFC 8701: 0x?a?a with equal
 * bytes) are left out everywhere, as both definitions say.
 *
 * The ClientHello's outer structure is read strictly over the cursor API;
 * an extension whose body is malformed counts as present but contributes no
 * values, so a fingerprint can still be taken of an odd client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "diag/fingerprint.h"
#include "wire/cursor.h"

enum {
    EXT_SERVER_NAME = 0x0000,
    EXT_SUPPORTED_GROUPS = 0x000a,
    EXT_EC_POINT_FORMATS = 0x000b,
    EXT_SIGNATURE_ALGORITHMS = 0x000d,
    EXT_ALPN = 0x0010,
    EXT_SUPPORTED_VERSIONS = 0x002b,
};

static bool is_grease(uint16_t v) {
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* A list of 16-bit values, GREASE dropped, sized for the message. */
typedef struct u16_list {
    uint16_t *v;
    size_t n;
} u16_list;

static void list_add(u16_list *l, uint16_t v) {
    if (!is_grease(v)) l->v[l->n++] = v;
}

/* Reads a vector of u16 into l; false if the vector is malformed. */
static bool read_u16_vector(cursor *body, u16_list *l) {
    uint16_t v;
    if (cur_left(body) % 2 != 0) return false;
    while (cur_u16(body, &v))
        list_add(l, v);
    return true;
}

typedef struct hello_values {
    uint16_t legacy_version;
    u16_list ciphers, exts, groups, sigalgs, versions;
    uint8_t *point_formats;
    size_t point_format_count;
    bool sni;
    const uint8_t *host_name; /* server_name's host_name entry, NULL if none */
    size_t host_name_len;
    const uint8_t *alpn; /* first ALPN value, NULL if none */
    size_t alpn_len;
    cursor alpn_list; /* every ALPN value */
} hello_values;

static void read_extension(uint16_t type, cursor *body, hello_values *h) {
    cursor list;
    switch (type) {
    case EXT_SERVER_NAME: {
        uint8_t name_type;
        cursor name;
        h->sni = true;
        if (cur_vec16(body, &list) && cur_u8(&list, &name_type) && name_type == 0 &&
            cur_vec16(&list, &name)) {
            h->host_name = name.data;
            h->host_name_len = name.len;
        }
        break;
    }
    case EXT_SUPPORTED_GROUPS:
        if (cur_vec16(body, &list)) read_u16_vector(&list, &h->groups);
        break;
    case EXT_SIGNATURE_ALGORITHMS:
        if (cur_vec16(body, &list)) read_u16_vector(&list, &h->sigalgs);
        break;
    case EXT_SUPPORTED_VERSIONS:
        if (cur_vec8(body, &list)) read_u16_vector(&list, &h->versions);
        break;
    case EXT_EC_POINT_FORMATS: {
        uint8_t f;
        if (!cur_vec8(body, &list)) break;
        while (cur_u8(&list, &f))
            h->point_formats[h->point_format_count++] = f;
        break;
    }
    case EXT_ALPN: {
        cursor first;
        if (cur_vec16(body, &list)) {
            h->alpn_list = list;
            if (cur_vec8(&list, &first)) {
                h->alpn = first.data;
                h->alpn_len = first.len;
            }
        }
        break;
    }
    default:
        break;
    }
}

static int parse_hello(const uint8_t *msg, size_t len, hello_values *h) {
    cursor c, body, session_id, suites, compression, exts;
    uint8_t type;
    uint32_t body_len;
    cur_init(&c, msg, len);
    if (!cur_u8(&c, &type) || type != 1 || !cur_u24(&c, &body_len) ||
        !cur_sub(&c, body_len, &body) || !cur_empty(&c))
        return CERTA_E_DECODE;
    if (!cur_u16(&body, &h->legacy_version) || !cur_skip(&body, 32) ||
        !cur_vec8(&body, &session_id) || !cur_vec16(&body, &suites) ||
        !read_u16_vector(&suites, &h->ciphers) || !cur_vec8(&body, &compression))
        return CERTA_E_DECODE;
    if (cur_empty(&body)) return CERTA_OK; /* no extensions at all */
    if (!cur_vec16(&body, &exts) || !cur_empty(&body)) return CERTA_E_DECODE;
    while (!cur_empty(&exts)) {
        uint16_t ext_type;
        cursor ext_body;
        if (!cur_u16(&exts, &ext_type) || !cur_vec16(&exts, &ext_body)) return CERTA_E_DECODE;
        if (is_grease(ext_type)) continue;
        list_add(&h->exts, ext_type);
        read_extension(ext_type, &ext_body, h);
    }
    return CERTA_OK;
}

static int cmp_u16(const void *a, const void *b) {
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static const char *version_code(uint16_t v) {
    switch (v) {
    case 0x0304:
        return "13";
    case 0x0303:
        return "12";
    case 0x0302:
        return "11";
    case 0x0301:
        return "10";
    case 0x0300:
        return "s3";
    case 0x0002:
        return "s2";
    case 0xfeff:
        return "d1";
    case 0xfefd:
        return "d2";
    case 0xfefc:
        return "d3";
    default:
        return "00";
    }
}

static bool is_alnum(uint8_t b) {
    return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'Z') || (b >= 'a' && b <= 'z');
}

/* JA4's ALPN pair: first and last character of the first value; its hex
 * form's first and last digit if either end byte is not alphanumeric. */
static void alpn_code(const hello_values *h, char out[3]) {
    static const char hex[] = "0123456789abcdef";
    if (h->alpn == NULL || h->alpn_len == 0) {
        memcpy(out, "00", 3);
        return;
    }
    uint8_t first = h->alpn[0], last = h->alpn[h->alpn_len - 1];
    if (is_alnum(first) && is_alnum(last)) {
        out[0] = (char)first;
        out[1] = (char)last;
    } else {
        out[0] = hex[first >> 4];
        out[1] = hex[last & 0x0f];
    }
    out[2] = '\0';
}

static void put_text(builder *b, const char *s) {
    bld_bytes(b, s, strlen(s));
}

/* "002f,0035,..." (hex) or "47-53-..." (decimal). */
static void put_list(builder *b, const uint16_t *v, size_t n, bool decimal) {
    char item[8];
    for (size_t i = 0; i < n; i++) {
        if (i > 0) put_text(b, decimal ? "-" : ",");
        snprintf(item, sizeof item, decimal ? "%u" : "%04x", (unsigned)v[i]);
        put_text(b, item);
    }
}

static void hex_prefix(const uint8_t *digest, size_t chars, char *out) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < chars; i++)
        out[i] = hex[(digest[i / 2] >> (i % 2 ? 0 : 4)) & 0x0f];
    out[chars] = '\0';
}

/* First 12 hex digits of SHA-256 of the text; "000000000000" when the list
 * it stands for is empty (JA4.md: clearer than the hash of nothing). */
static int ja4_hash12(const uint8_t *text, size_t len, bool empty, char out[13]) {
    uint8_t digest[32];
    if (empty) {
        memcpy(out, "000000000000", 13);
        return 0;
    }
    if (hash_oneshot(HASH_SHA256, text, len, digest) != 0) return -1;
    hex_prefix(digest, 12, out);
    return 0;
}

/* Copies a heap builder's text into a fixed field, cutting if needed. */
static bool copy_cut(builder *b, char *dst, size_t cap) {
    size_t n = b->len < cap - 1 ? b->len : cap - 1;
    if (n > 0) memcpy(dst, b->buf, n);
    dst[n] = '\0';
    return n < b->len;
}

/* Printable ASCII into a fixed field, anything else as '?', cut to fit;
 * returns the characters written. */
static size_t put_printable(char *dst, size_t cap, size_t at, const uint8_t *src, size_t n) {
    for (size_t i = 0; i < n && at + 1 < cap; i++)
        dst[at++] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
    dst[at < cap ? at : cap - 1] = '\0';
    return at;
}

static void describe_request(const hello_values *h, certa_fingerprint *fp) {
    if (h->host_name != NULL)
        put_printable(fp->server_name, sizeof fp->server_name, 0, h->host_name, h->host_name_len);
    cursor list = h->alpn_list, one;
    size_t at = 0;
    while (cur_vec8(&list, &one)) {
        if (at > 0) at = put_printable(fp->alpn, sizeof fp->alpn, at, (const uint8_t *)",", 1);
        at = put_printable(fp->alpn, sizeof fp->alpn, at, one.data, one.len);
    }
}

static int build_fingerprints(const hello_values *h, certa_fingerprint *fp) {
    int rc = CERTA_E_NOMEM;
    builder ciphers, exts_sigs, ja3;
    bld_init_alloc(&ciphers, 256);
    bld_init_alloc(&exts_sigs, 256);
    bld_init_alloc(&ja3, 512);

    /* JA4_a */
    uint16_t top = h->legacy_version;
    if (h->versions.n > 0) {
        top = 0;
        for (size_t i = 0; i < h->versions.n; i++)
            if (h->versions.v[i] > top) top = h->versions.v[i];
    }
    char alpn[3], a[16];
    alpn_code(h, alpn);
    snprintf(a, sizeof a, "t%s%c%02u%02u%s", version_code(top), h->sni ? 'd' : 'i',
             (unsigned)(h->ciphers.n > 99 ? 99 : h->ciphers.n),
             (unsigned)(h->exts.n > 99 ? 99 : h->exts.n), alpn);

    /* JA4_b: ciphers sorted. JA4_c: extensions sorted without SNI and ALPN,
     * then "_" and the signature algorithms as sent (no "_" if none). */
    uint16_t *sorted = malloc((h->ciphers.n + h->exts.n + 1) * sizeof *sorted);
    if (sorted == NULL) goto out;
    memcpy(sorted, h->ciphers.v, h->ciphers.n * sizeof *sorted);
    qsort(sorted, h->ciphers.n, sizeof *sorted, cmp_u16);
    put_list(&ciphers, sorted, h->ciphers.n, false);
    size_t ext_n = 0;
    for (size_t i = 0; i < h->exts.n; i++)
        if (h->exts.v[i] != EXT_SERVER_NAME && h->exts.v[i] != EXT_ALPN)
            sorted[ext_n++] = h->exts.v[i];
    qsort(sorted, ext_n, sizeof *sorted, cmp_u16);
    put_list(&exts_sigs, sorted, ext_n, false);
    free(sorted);
    if (h->sigalgs.n > 0) {
        put_text(&exts_sigs, "_");
        put_list(&exts_sigs, h->sigalgs.v, h->sigalgs.n, false);
    }

    /* JA3 */
    char num[8];
    snprintf(num, sizeof num, "%u,", (unsigned)h->legacy_version);
    put_text(&ja3, num);
    put_list(&ja3, h->ciphers.v, h->ciphers.n, true);
    put_text(&ja3, ",");
    put_list(&ja3, h->exts.v, h->exts.n, true);
    put_text(&ja3, ",");
    put_list(&ja3, h->groups.v, h->groups.n, true);
    put_text(&ja3, ",");
    for (size_t i = 0; i < h->point_format_count; i++) {
        snprintf(num, sizeof num, i > 0 ? "-%u" : "%u", (unsigned)h->point_formats[i]);
        put_text(&ja3, num);
    }
    if (!bld_ok(&ciphers) || !bld_ok(&exts_sigs) || !bld_ok(&ja3)) goto out;

    char b_hash[13], c_hash[13];
    rc = CERTA_E_CRYPTO;
    if (ja4_hash12(ciphers.buf, ciphers.len, h->ciphers.n == 0, b_hash) != 0 ||
        ja4_hash12(exts_sigs.buf, exts_sigs.len, ext_n == 0, c_hash) != 0)
        goto out;
    snprintf(fp->ja4, sizeof fp->ja4, "%.10s_%.12s_%.12s", a, b_hash, c_hash);
    uint8_t md5[16];
    if (md5_for_fingerprint(ja3.buf, ja3.len, md5) != 0) goto out;
    hex_prefix(md5, 32, fp->ja3_md5);

    /* JA4_r: a_ciphers_extensions[_sigalgs], unhashed. */
    builder raw;
    bld_init_alloc(&raw, ciphers.len + exts_sigs.len + 32);
    put_text(&raw, a);
    put_text(&raw, "_");
    bld_bytes(&raw, ciphers.buf, ciphers.len);
    put_text(&raw, "_");
    bld_bytes(&raw, exts_sigs.buf, exts_sigs.len);
    rc = CERTA_E_NOMEM;
    if (bld_ok(&raw)) {
        fp->truncated = copy_cut(&raw, fp->ja4_r, sizeof fp->ja4_r);
        fp->truncated |= copy_cut(&ja3, fp->ja3, sizeof fp->ja3);
        rc = CERTA_OK;
    }
    bld_free(&raw);
out:
    bld_free(&ciphers);
    bld_free(&exts_sigs);
    bld_free(&ja3);
    return rc;
}

int certa_fingerprint_client_hello(const uint8_t *msg, size_t len, certa_fingerprint *fp) {
    if (fp == NULL) return CERTA_E_INVALID_ARGUMENT;
    memset(fp, 0, sizeof *fp);
    if (msg == NULL) return CERTA_E_INVALID_ARGUMENT;
    /* Every list holds at most one value per two bytes of the message. */
    size_t cap = len / 2 + 1;
    hello_values h = {0};
    uint16_t *pool = malloc(5 * cap * sizeof *pool);
    h.point_formats = malloc(len + 1);
    int rc = CERTA_E_NOMEM;
    if (pool != NULL && h.point_formats != NULL) {
        h.ciphers.v = pool;
        h.exts.v = pool + cap;
        h.groups.v = pool + 2 * cap;
        h.sigalgs.v = pool + 3 * cap;
        h.versions.v = pool + 4 * cap;
        rc = parse_hello(msg, len, &h);
        if (rc == CERTA_OK) rc = build_fingerprints(&h, fp);
        if (rc == CERTA_OK) describe_request(&h, fp);
    }
    free(pool);
    free(h.point_formats);
    if (rc != CERTA_OK) memset(fp, 0, sizeof *fp);
    return rc;
}

static char *dup_text(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d != NULL) memcpy(d, s, n);
    return d;
}

hello_fingerprint *hello_fingerprint_take(const uint8_t *msg, size_t len) {
    certa_fingerprint *full = malloc(sizeof *full);
    hello_fingerprint *kept = calloc(1, sizeof *kept);
    if (full == NULL || kept == NULL || certa_fingerprint_client_hello(msg, len, full) != CERTA_OK)
        goto fail;
    memcpy(kept->ja4, full->ja4, sizeof kept->ja4);
    memcpy(kept->ja3_md5, full->ja3_md5, sizeof kept->ja3_md5);
    kept->truncated = full->truncated;
    kept->ja4_r = dup_text(full->ja4_r);
    kept->ja3 = dup_text(full->ja3);
    kept->server_name = dup_text(full->server_name);
    kept->alpn = dup_text(full->alpn);
    if (!kept->ja4_r || !kept->ja3 || !kept->server_name || !kept->alpn) goto fail;
    free(full);
    return kept;
fail:
    free(full);
    hello_fingerprint_free(kept);
    return NULL;
}

void hello_fingerprint_free(hello_fingerprint *fp) {
    if (fp == NULL) return;
    free(fp->ja4_r);
    free(fp->ja3);
    free(fp->server_name);
    free(fp->alpn);
    free(fp);
}

void hello_fingerprint_export(const hello_fingerprint *kept, certa_fingerprint *out) {
    memset(out, 0, sizeof *out);
    memcpy(out->ja4, kept->ja4, sizeof out->ja4);
    memcpy(out->ja3_md5, kept->ja3_md5, sizeof out->ja3_md5);
    snprintf(out->ja4_r, sizeof out->ja4_r, "%s", kept->ja4_r);
    snprintf(out->ja3, sizeof out->ja3, "%s", kept->ja3);
    snprintf(out->server_name, sizeof out->server_name, "%s", kept->server_name);
    snprintf(out->alpn, sizeof out->alpn, "%s", kept->alpn);
    out->truncated = kept->truncated;
}
