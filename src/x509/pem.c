/* PEM (RFC 7468) decoding, lax as §2 allows, and whole-file reading. */
#include "x509/pem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define READ_FILE_MAX ((size_t)16 << 20) /* 16 MiB */

/* First occurrence of needle in hay[from, len), or SIZE_MAX. */
static size_t find(const char *hay, size_t len, size_t from, const char *needle, size_t nlen) {
    if (nlen == 0 || len < nlen) return SIZE_MAX;
    for (size_t i = from; i <= len - nlen; i++) {
        const char *p = memchr(hay + i, needle[0], len - nlen + 1 - i);
        if (!p) return SIZE_MAX;
        i = (size_t)(p - hay);
        if (memcmp(p, needle, nlen) == 0) return i;
    }
    return SIZE_MAX;
}

static bool is_ws(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int pem_next(const char *text, size_t len, size_t *pos, const char *label, uint8_t **der,
             size_t *der_len) {
    if (!text || !pos || !label || !der || !der_len) return -1;
    *der = NULL;
    *der_len = 0;
    size_t llen = strlen(label);
    if (llen == 0 || llen > 200 || *pos > len) return -1;
    char begin[224], end[224];
    int bn = snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    int en = snprintf(end, sizeof end, "-----END %s-----", label);

    size_t b = find(text, len, *pos, begin, (size_t)bn);
    if (b == SIZE_MAX) {
        *pos = len;
        return 0;
    }
    size_t body = b + (size_t)bn;
    size_t e = find(text, len, body, end, (size_t)en);
    if (e == SIZE_MAX) return -1; /* BEGIN without matching END */

    /* Between the lines: base64 and whitespace only (no headers, no other
     * encapsulation boundary). */
    size_t n = e - body;
    char *b64 = malloc(n + 1);
    if (!b64) return -1;
    size_t m = 0;
    for (size_t i = body; i < e; i++) {
        char ch = text[i];
        if (is_ws(ch)) continue;
        if (ch == '-') {
            free(b64);
            return -1;
        }
        b64[m++] = ch;
    }
    if (m == 0 || m % 4 != 0) {
        free(b64);
        return -1;
    }
    size_t cap = m / 4 * 3;
    uint8_t *out = malloc(cap);
    if (!out) {
        free(b64);
        return -1;
    }
    int dn = base64_decode(b64, m, out, cap);
    free(b64);
    if (dn <= 0) {
        free(out);
        return -1;
    }
    *der = out;
    *der_len = (size_t)dn;
    *pos = e + (size_t)en;
    return 1;
}

int read_file(const char *path, char **out, size_t *len) {
    if (!path || !out || !len) {
        errno = EINVAL;
        return -1;
    }
    *out = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) goto fail;
    for (;;) {
        if (n == cap) {
            if (cap > READ_FILE_MAX) { /* read one byte past the cap: too big */
                errno = EFBIG;
                goto fail;
            }
            size_t ncap = cap * 2 > READ_FILE_MAX + 1 ? READ_FILE_MAX + 1 : cap * 2;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) goto fail;
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f)) {
                errno = errno ? errno : EIO;
                goto fail;
            }
            break;
        }
    }
    if (n > READ_FILE_MAX) {
        errno = EFBIG;
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
fail : {
    int saved = errno;
    free(buf);
    fclose(f);
    errno = saved;
    return -1;
}
}
