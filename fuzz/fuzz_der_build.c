/* libFuzzer target: the DER builder against the strict DER reader.
 *
 * The input is a small program: each byte picks an operation (open/close a
 * constructed element, put an INTEGER / OCTET STRING / time / OID / BOOLEAN
 * / named bits / string / NULL) and the following bytes are its operands.
 * Each primitive is also built alone and checked against an oracle (INTEGER
 * minimal and equal to the magnitude, time reads back to the same second,
 * OID text re-encodes the same, strings accepted only when well-formed);
 * when the whole program builds, the output must parse completely and
 * strictly (definite minimal lengths, nested elements fill their parents),
 * in both a heap builder and an exactly-sized fixed builder. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/der.h"
#include "wire/der_build.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct prog {
    const uint8_t *p;
    size_t n;
} prog;

static bool take(prog *g, size_t k, const uint8_t **out) {
    if (g->n < k) return false;
    *out = g->p;
    g->p += k;
    g->n -= k;
    return true;
}

static bool take_u8(prog *g, uint8_t *v) {
    const uint8_t *b;
    if (!take(g, 1, &b)) return false;
    *v = b[0];
    return true;
}

/* Walks a DER stream: every element parses, constructed contents parse
 * completely, depth bounded. */
static bool walk(cursor c, int depth) {
    if (depth > 16) return false;
    while (!cur_empty(&c)) {
        uint8_t tag;
        cursor body;
        if (!der_any(&c, &tag, &body)) return false;
        if (tag == DER_SEQUENCE || tag == DER_SET || (tag & 0xe0) == 0xa0) {
            if (!walk(body, depth + 1)) return false;
        }
    }
    return true;
}

/* Strips leading zero bytes. */
static void strip(const uint8_t **m, size_t *n) {
    while (*n > 0 && (*m)[0] == 0) {
        (*m)++;
        (*n)--;
    }
}

static void run(prog g, builder *b) {
    uint8_t tmpbuf[1024];
    builder t;
    uint8_t op;
    while (b->len < ((size_t)1 << 20) && take_u8(&g, &op)) {
        const uint8_t *arg;
        uint8_t len;
        switch (op % 11) {
        case 0: { /* open */
            static const uint8_t tags[] = {DER_SEQUENCE, DER_SET, 0xa0, 0xa3, DER_OCTET_STRING};
            der_open(b, tags[(op / 11) % sizeof tags]);
            break;
        }
        case 1:
            der_close(b);
            break;
        case 2: { /* INTEGER */
            if (!take_u8(&g, &len) || !take(&g, len % 24, &arg)) return;
            size_t n = len % 24;
            bld_init_fixed(&t, tmpbuf, sizeof tmpbuf);
            der_put_integer(&t, arg, n);
            if (!bld_ok(&t)) abort();
            cursor c, body;
            cur_init(&c, t.buf, t.len);
            if (!der_get(&c, DER_INTEGER, &body) || !cur_empty(&c) || body.len == 0) abort();
            /* Minimal and positive. */
            if (body.data[0] & 0x80) abort();
            if (body.len > 1 && body.data[0] == 0 && !(body.data[1] & 0x80)) abort();
            const uint8_t *m = arg, *v = body.data;
            size_t mn = n, vn = body.len;
            strip(&m, &mn);
            strip(&v, &vn);
            if (mn != vn || (mn && memcmp(m, v, mn) != 0)) abort();
            der_put_integer(b, arg, n);
            break;
        }
        case 3: { /* OCTET STRING, up to 65535 bytes of filler */
            uint8_t hi, lo;
            if (!take_u8(&g, &hi) || !take_u8(&g, &lo)) return;
            size_t n = ((size_t)(hi & 0x03) << 8 | lo) * (hi & 0x10 ? 64 : 1);
            bld_u8(b, DER_OCTET_STRING);
            der_put_length(b, n);
            bld_zeros(b, n);
            break;
        }
        case 4: { /* time */
            if (!take(&g, 8, &arg)) return;
            int64_t tv = 0;
            for (int i = 0; i < 8; i++)
                tv = (int64_t)((uint64_t)tv << 8 | arg[i]);
            tv %= 400000000000; /* mostly in and around years 0-9999 */
            bld_init_fixed(&t, tmpbuf, sizeof tmpbuf);
            der_put_time(&t, tv);
            bool in_range = tv >= -62167219200 && tv <= 253402300799;
            if (bld_ok(&t) != in_range) abort();
            if (in_range) {
                cursor c;
                int64_t back;
                cur_init(&c, t.buf, t.len);
                if (!der_get_time(&c, &back) || back != tv || !cur_empty(&c)) abort();
                bool utc = t.buf[0] == DER_UTC_TIME;
                if (utc != (tv >= -631152000 && tv < 2524608000)) abort();
            }
            der_put_time(b, tv);
            break;
        }
        case 5: { /* OID text */
            if (!take_u8(&g, &len) || !take(&g, len % 48, &arg)) return;
            char text[64];
            memcpy(text, arg, len % 48);
            text[len % 48] = 0;
            uint8_t enc[128];
            size_t en = der_oid_from_text(text, enc, sizeof enc);
            if (en > 0) {
                /* Decode back to dotted text and compare. */
                char again[160];
                size_t pos = 0;
                uint64_t arc = 0;
                bool first = true;
                for (size_t i = 0; i < en; i++) {
                    arc = arc << 7 | (enc[i] & 0x7f);
                    if (enc[i] & 0x80) continue;
                    if (first) {
                        uint64_t a0 = arc < 40 ? 0 : arc < 80 ? 1 : 2;
                        pos += (size_t)snprintf(again + pos, sizeof again - pos, "%llu.%llu",
                                                (unsigned long long)a0,
                                                (unsigned long long)(arc - 40 * a0));
                        first = false;
                    } else {
                        pos += (size_t)snprintf(again + pos, sizeof again - pos, ".%llu",
                                                (unsigned long long)arc);
                    }
                    if (pos >= sizeof again) abort();
                    arc = 0;
                }
                if (strcmp(again, text) != 0) abort();
            }
            der_put_oid_text(b, text);
            break;
        }
        case 6:
            der_put_bool(b, op & 0x80);
            break;
        case 7: { /* named bits */
            if (!take(&g, 4, &arg)) return;
            uint32_t bits =
                (uint32_t)arg[0] << 24 | (uint32_t)arg[1] << 16 | (uint32_t)arg[2] << 8 | arg[3];
            bld_init_fixed(&t, tmpbuf, sizeof tmpbuf);
            der_put_named_bits(&t, bits);
            if (!bld_ok(&t) || t.len < 3 || t.buf[2] > 7) abort();
            if (t.len > 3 && !(t.buf[t.len - 1] & (1u << t.buf[2]))) abort(); /* last bit set */
            der_put_named_bits(b, bits);
            break;
        }
        case 8: { /* strings */
            if (!take_u8(&g, &len) || !take(&g, len % 40, &arg)) return;
            const char *s = (const char *)arg;
            size_t n = len % 40;
            bld_init_fixed(&t, tmpbuf, sizeof tmpbuf);
            int kind = (op / 11) % 3;
            if (kind == 0) der_put_utf8_string(&t, s, n);
            if (kind == 1) der_put_printable_string(&t, s, n);
            if (kind == 2) der_put_ia5_string(&t, s, n);
            bool want = kind == 0   ? der_is_utf8(s, n)
                        : kind == 1 ? der_is_printable(s, n)
                                    : der_is_ia5(s, n);
            if (bld_ok(&t) != want) abort();
            if (want) bld_bytes(b, t.buf, t.len);
            break;
        }
        case 9:
            der_put_null(b);
            break;
        case 10: /* a TLS-style vector: must not break DER bookkeeping */
            if (op & 0x80) {
                bld_open(b, 2);
                bld_u8(b, op);
                bld_close(b);
            } else {
                bld_close(b); /* unbalanced: must fail cleanly, never corrupt */
            }
            break;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 4096) return 0;
    prog g = {data, size};
    builder b;
    bld_init_alloc(&b, 16);
    run(g, &b);
    while (!b.failed && b.depth > 0)
        der_close(&b);
    if (bld_ok(&b)) {
        cursor c;
        cur_init(&c, b.buf, b.len);
        if (!walk(c, 0)) abort();
        /* The same program into an exactly-sized fixed buffer gives the
         * same bytes; one byte less fails cleanly. */
        uint8_t *fixed = malloc(b.len + 1);
        if (!fixed) abort();
        for (int shrink = 0; shrink <= 1; shrink++) {
            if (shrink && b.len == 0) break;
            builder f;
            bld_init_fixed(&f, fixed, b.len - (size_t)shrink);
            run(g, &f);
            while (!f.failed && f.depth > 0)
                der_close(&f);
            if (!shrink && (!bld_ok(&f) || f.len != b.len || memcmp(f.buf, b.buf, b.len) != 0))
                abort();
            if (shrink && bld_ok(&f)) abort();
        }
        free(fixed);
    }
    bld_free(&b);
    return 0;
}
