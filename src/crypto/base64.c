/* Base64, standard alphabet, padded (RFC 4648 §4). Decoding is strict: the
 * length must be a multiple of four, only alphabet characters, '=' only as
 * one or two final characters, and the unused bits of the last group zero.
 * Whitespace is not skipped (the PEM layer strips line breaks). Character
 * mapping is branch-free so decoding a private key does not leak it through
 * table lookups or data-dependent branches. */
#include "crypto/crypto.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* 0xff... if lo <= c <= hi, else 0, without branching on c. */
static unsigned in_range(unsigned c, unsigned lo, unsigned hi) {
    return 0u - (((c - lo) | (hi - c)) >> 31 == 0);
}

/* 0..63, or 0x100 for a character outside the alphabet. */
static unsigned decode_char(unsigned char ch) {
    unsigned c = ch, v = 0, valid = 0, m;
    m = in_range(c, 'A', 'Z');
    v |= m & (c - 'A');
    valid |= m;
    m = in_range(c, 'a', 'z');
    v |= m & (c - 'a' + 26);
    valid |= m;
    m = in_range(c, '0', '9');
    v |= m & (c - '0' + 52);
    valid |= m;
    m = in_range(c, '+', '+');
    v |= m & 62u;
    valid |= m;
    m = in_range(c, '/', '/');
    v |= m & 63u;
    valid |= m;
    return (v & 0x3f) | (~valid & 0x100);
}

int base64_encode(const uint8_t *in, size_t len, char *out, size_t cap) {
    if ((in == NULL && len > 0) || out == NULL) return -1;
    if (len > (size_t)0x7fffffff / 4 * 3 - 3) return -1;
    size_t need = (len + 2) / 3 * 4;
    if (need > cap) return -1;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 0x3f];
        out[o++] = alphabet[(v >> 6) & 0x3f];
        out[o++] = alphabet[v & 0x3f];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 0x3f];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[v >> 18];
        out[o++] = alphabet[(v >> 12) & 0x3f];
        out[o++] = alphabet[(v >> 6) & 0x3f];
        out[o++] = '=';
    }
    if (o < cap) out[o] = '\0'; /* terminated when there is room */
    return (int)o;
}

int base64_decode(const char *in, size_t len, uint8_t *out, size_t cap) {
    if (in == NULL && len > 0) return -1;
    if (len % 4 != 0 || len > 0x7fffffff) return -1;
    if (len == 0) return 0;
    size_t pad = 0;
    if (in[len - 1] == '=') pad = in[len - 2] == '=' ? 2 : 1;
    size_t need = len / 4 * 3 - pad;
    if (need > cap || out == NULL) return -1;

    size_t o = 0;
    unsigned bad = 0;
    for (size_t i = 0; i < len; i += 4) {
        bool last = i + 4 == len;
        unsigned c[4];
        for (int j = 0; j < 4; j++) {
            if (last && j >= 4 - (int)pad)
                c[j] = 0; /* the '=' padding */
            else
                c[j] = decode_char((unsigned char)in[i + j]);
            bad |= c[j];
        }
        uint32_t v = c[0] << 18 | c[1] << 12 | c[2] << 6 | c[3];
        if (!last || pad == 0) {
            out[o++] = (uint8_t)(v >> 16);
            out[o++] = (uint8_t)(v >> 8);
            out[o++] = (uint8_t)v;
        } else if (pad == 1) {
            bad |= (v & 0xff) != 0 ? 0x100 : 0; /* non-canonical: unused bits set */
            out[o++] = (uint8_t)(v >> 16);
            out[o++] = (uint8_t)(v >> 8);
        } else {
            bad |= (v & 0xffff) != 0 ? 0x100 : 0;
            out[o++] = (uint8_t)(v >> 16);
        }
    }
    if (bad & 0x100) {
        crypto_zero(out, o);
        return -1;
    }
    return (int)o;
}
