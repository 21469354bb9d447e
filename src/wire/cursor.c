/* Bounds-checked cursor (reading) and builder (writing). See cursor.h. */
#include "wire/cursor.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

/* ---- cursor ---------------------------------------------------------------- */

void cur_init(cursor *c, const uint8_t *data, size_t len) {
    c->data = data;
    c->len = data ? len : 0;
}

size_t cur_left(const cursor *c) {
    return c->len;
}

bool cur_empty(const cursor *c) {
    return c->len == 0;
}

/* Reads an n-byte (n <= 8) big-endian integer. */
static bool cur_uint(cursor *c, size_t n, uint64_t *out) {
    if (c->len < n) return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | c->data[i];
    c->data += n;
    c->len -= n;
    *out = v;
    return true;
}

bool cur_u8(cursor *c, uint8_t *out) {
    uint64_t v;
    if (!cur_uint(c, 1, &v)) return false;
    *out = (uint8_t)v;
    return true;
}

bool cur_u16(cursor *c, uint16_t *out) {
    uint64_t v;
    if (!cur_uint(c, 2, &v)) return false;
    *out = (uint16_t)v;
    return true;
}

bool cur_u24(cursor *c, uint32_t *out) {
    uint64_t v;
    if (!cur_uint(c, 3, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

bool cur_u32(cursor *c, uint32_t *out) {
    uint64_t v;
    if (!cur_uint(c, 4, &v)) return false;
    *out = (uint32_t)v;
    return true;
}

bool cur_u64(cursor *c, uint64_t *out) {
    return cur_uint(c, 8, out);
}

bool cur_bytes(cursor *c, size_t n, const uint8_t **out) {
    if (c->len < n) return false;
    *out = c->data;
    c->data += n;
    c->len -= n;
    return true;
}

bool cur_copy(cursor *c, uint8_t *out, size_t n) {
    const uint8_t *p;
    if (!cur_bytes(c, n, &p)) return false;
    if (n) memcpy(out, p, n);
    return true;
}

bool cur_skip(cursor *c, size_t n) {
    const uint8_t *p;
    return cur_bytes(c, n, &p);
}

bool cur_sub(cursor *c, size_t n, cursor *out) {
    const uint8_t *p;
    if (!cur_bytes(c, n, &p)) return false;
    out->data = p;
    out->len = n;
    return true;
}

/* Length-prefixed vector: consumes nothing unless prefix and body fit. */
static bool cur_vec(cursor *c, size_t width, cursor *out) {
    cursor tmp = *c;
    uint64_t n;
    if (!cur_uint(&tmp, width, &n)) return false;
    if (n > tmp.len) return false;
    if (!cur_sub(&tmp, (size_t)n, out)) return false;
    *c = tmp;
    return true;
}

bool cur_vec8(cursor *c, cursor *out) {
    return cur_vec(c, 1, out);
}

bool cur_vec16(cursor *c, cursor *out) {
    return cur_vec(c, 2, out);
}

bool cur_vec24(cursor *c, cursor *out) {
    return cur_vec(c, 3, out);
}

bool cur_peek_u8(const cursor *c, uint8_t *out) {
    if (c->len < 1) return false;
    *out = c->data[0];
    return true;
}

/* ---- builder --------------------------------------------------------------- */

/* A heap builder never grows past this: nothing certa writes comes close
 * (TLS messages are at most 2^24 bytes), and a bug that asks for more
 * should fail cleanly rather than exhaust memory. */
#define BLD_HEAP_MAX ((size_t)1 << 30)

void bld_init_fixed(builder *b, uint8_t *buf, size_t cap) {
    memset(b, 0, sizeof *b);
    b->buf = buf;
    b->cap = buf ? cap : 0;
    b->fixed = true;
}

void bld_init_alloc(builder *b, size_t initial_cap) {
    memset(b, 0, sizeof *b);
    if (initial_cap == 0) initial_cap = 64;
    if (initial_cap > BLD_HEAP_MAX) initial_cap = BLD_HEAP_MAX;
    b->buf = malloc(initial_cap);
    if (!b->buf) {
        b->failed = true;
        return;
    }
    b->cap = initial_cap;
}

bool bld_ok(const builder *b) {
    return !b->failed && b->depth == 0;
}

/* Makes room for n more bytes; false (and sticky failure) if impossible. */
static bool bld_grow(builder *b, size_t n) {
    if (b->failed) return false;
    if (n > SIZE_MAX - b->len) {
        b->failed = true;
        return false;
    }
    size_t need = b->len + n;
    if (need <= b->cap) return true;
    if (b->fixed || need > BLD_HEAP_MAX) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    if (cap > BLD_HEAP_MAX) cap = BLD_HEAP_MAX;
    /* Grow by copying so the old buffer can be zeroized (it may hold secrets). */
    uint8_t *nb = malloc(cap);
    if (!nb) {
        b->failed = true;
        return false;
    }
    if (b->len) memcpy(nb, b->buf, b->len);
    if (b->buf) {
        crypto_zero(b->buf, b->cap);
        free(b->buf);
    }
    b->buf = nb;
    b->cap = cap;
    return true;
}

uint8_t *bld_reserve(builder *b, size_t n) {
    if (!bld_grow(b, n)) return NULL;
    uint8_t *p = b->buf + b->len;
    b->len += n;
    return p;
}

static void bld_uint(builder *b, uint64_t v, size_t n) {
    uint8_t *p = bld_reserve(b, n);
    if (!p) return;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

void bld_u8(builder *b, uint8_t v) {
    bld_uint(b, v, 1);
}

void bld_u16(builder *b, uint16_t v) {
    bld_uint(b, v, 2);
}

void bld_u24(builder *b, uint32_t v) {
    if (v > 0xffffffu) {
        b->failed = true;
        return;
    }
    bld_uint(b, v, 3);
}

void bld_u32(builder *b, uint32_t v) {
    bld_uint(b, v, 4);
}

void bld_u64(builder *b, uint64_t v) {
    bld_uint(b, v, 8);
}

void bld_bytes(builder *b, const void *data, size_t n) {
    if (n && !data) {
        b->failed = true;
        return;
    }
    uint8_t *p = bld_reserve(b, n);
    if (p && n) memcpy(p, data, n);
}

void bld_zeros(builder *b, size_t n) {
    uint8_t *p = bld_reserve(b, n);
    if (p && n) memset(p, 0, n);
}

void bld_open(builder *b, int width) {
    if (b->failed) return;
    if (width < 1 || width > 4 || b->depth >= BLD_MAX_DEPTH) {
        b->failed = true;
        return;
    }
    size_t at = b->len;
    if (!bld_reserve(b, (size_t)width)) return;
    b->open_at[b->depth] = at;
    b->open_width[b->depth] = (uint8_t)width;
    b->depth++;
}

void bld_close(builder *b) {
    if (b->failed) return;
    if (b->depth <= 0) {
        b->failed = true;
        return;
    }
    b->depth--;
    size_t at = b->open_at[b->depth];
    size_t width = b->open_width[b->depth];
    size_t n = b->len - at - width;
    uint64_t max = width == 4 ? 0xffffffffu : ((uint64_t)1 << (8 * width)) - 1;
    if ((uint64_t)n > max) {
        b->failed = true;
        return;
    }
    for (size_t i = 0; i < width; i++)
        b->buf[at + i] = (uint8_t)(n >> (8 * (width - 1 - i)));
}

uint8_t *bld_take(builder *b, size_t *len) {
    if (b->fixed || !bld_ok(b)) {
        if (!b->fixed) bld_free(b);
        if (len) *len = 0;
        return NULL;
    }
    uint8_t *p = b->buf;
    if (len) *len = b->len;
    b->buf = NULL;
    b->len = b->cap = 0;
    b->failed = true; /* the builder is spent */
    return p;
}

void bld_release(builder *b) {
    if (!b->fixed) free(b->buf);
    bld_init_alloc(b, 0);
}

void bld_free(builder *b) {
    if (!b->fixed && b->buf) {
        crypto_zero(b->buf, b->cap);
        free(b->buf);
    }
    b->buf = NULL;
    b->len = b->cap = 0;
    b->depth = 0;
    b->failed = true;
}
