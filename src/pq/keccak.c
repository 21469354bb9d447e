/* Keccak-f[1600] (FIPS 202 §3) and the sponge (§4) with its SHA-3/SHAKE
 * instances (§6). Lanes are 64-bit words; the byte order of the state is
 * little-endian, so loads and stores go byte by byte (portable, no alignment
 * needs). Every loop bound is a constant: the permutation unrolls and has no
 * data-dependent branch or index. */
#include "pq/keccak.h"

#include "crypto/crypto.h"

#include <string.h>

/* ι round constants RC[ir] (FIPS 202 §3.2.5, Algorithm 5 run ahead of time). */
static const uint64_t round_constants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* ρ offsets of lane x + 5y (FIPS 202 Table 2, reduced mod 64). */
static const unsigned rho_offsets[25] = {
    0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14,
};

static inline uint64_t rotl64(uint64_t v, unsigned n) {
    return (v << (n & 63)) | (v >> ((64 - n) & 63));
}

void keccak_f1600(uint64_t a[25]) {
    uint64_t c[5], b[25];
    for (int round = 0; round < 24; round++) {
        /* θ: each lane takes the parity of two neighbouring columns. */
#pragma GCC unroll 5
        for (int x = 0; x < 5; x++)
            c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20];
#pragma GCC unroll 5
        for (int x = 0; x < 5; x++) {
            uint64_t d = c[(x + 4) % 5] ^ rotl64(c[(x + 1) % 5], 1);
#pragma GCC unroll 5
            for (int y = 0; y < 25; y += 5)
                a[x + y] ^= d;
        }
        /* ρ and π: lane (x, y) moves to (y, 2x + 3y), rotated; gathered here
         * from the destination: position (x', y') comes from (x' + 3y', x'). */
#pragma GCC unroll 25
        for (int i = 0; i < 25; i++) {
            int xd = i % 5, yd = i / 5;
            int src = (xd + 3 * yd) % 5 + 5 * xd;
            b[i] = rotl64(a[src], rho_offsets[src]);
        }
        /* χ: the only non-linear step, along rows. */
#pragma GCC unroll 5
        for (int y = 0; y < 25; y += 5) {
#pragma GCC unroll 5
            for (int x = 0; x < 5; x++)
                a[y + x] = b[y + x] ^ (~b[y + (x + 1) % 5] & b[y + (x + 2) % 5]);
        }
        a[0] ^= round_constants[round]; /* ι */
    }
}

static inline uint64_t load64_le(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline void store64_le(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void sponge_init(keccak_sponge *s, unsigned rate, uint8_t suffix) {
    memset(s, 0, sizeof *s);
    s->rate = rate;
    s->suffix = suffix;
}

void shake128_init(keccak_sponge *s) {
    sponge_init(s, SHAKE128_RATE, 0x1f);
}

void shake256_init(keccak_sponge *s) {
    sponge_init(s, SHAKE256_RATE, 0x1f);
}

static inline void xor_byte(keccak_sponge *s, unsigned pos, uint8_t v) {
    s->lanes[pos / 8] ^= (uint64_t)v << (8 * (pos % 8));
}

void keccak_absorb(keccak_sponge *s, const uint8_t *in, size_t len) {
    /* Finish a partial block byte by byte, then whole blocks lane by lane. */
    while (len > 0 && s->pos != 0) {
        xor_byte(s, s->pos++, *in++);
        len--;
        if (s->pos == s->rate) {
            keccak_f1600(s->lanes);
            s->pos = 0;
        }
    }
    while (len >= s->rate) {
        for (unsigned i = 0; i < s->rate / 8; i++)
            s->lanes[i] ^= load64_le(in + 8 * i);
        keccak_f1600(s->lanes);
        in += s->rate;
        len -= s->rate;
    }
    while (len > 0) {
        xor_byte(s, s->pos++, *in++);
        len--;
    }
}

/* pad10*1 (§5.1) after the domain suffix, which carries the first 1 bit. */
static void sponge_pad(keccak_sponge *s) {
    xor_byte(s, s->pos, s->suffix);
    xor_byte(s, s->rate - 1, 0x80);
    keccak_f1600(s->lanes);
    s->pos = 0;
    s->squeezing = 1;
}

void keccak_squeeze(keccak_sponge *s, uint8_t *out, size_t len) {
    if (!s->squeezing) sponge_pad(s);
    while (len > 0) {
        if (s->pos == s->rate) {
            keccak_f1600(s->lanes);
            s->pos = 0;
        }
        if (s->pos % 8 == 0 && len >= 8 && s->pos + 8 <= s->rate) {
            store64_le(out, s->lanes[s->pos / 8]);
            out += 8;
            len -= 8;
            s->pos += 8;
            continue;
        }
        *out++ = (uint8_t)(s->lanes[s->pos / 8] >> (8 * (s->pos % 8)));
        s->pos++;
        len--;
    }
}

void keccak_squeeze_blocks(keccak_sponge *s, uint8_t *out, size_t blocks) {
    if (!s->squeezing) {
        sponge_pad(s);
    } else {
        keccak_f1600(s->lanes); /* the previous block was handed out whole */
    }
    for (size_t b = 0; b < blocks; b++) {
        if (b > 0) keccak_f1600(s->lanes);
        for (unsigned i = 0; i < s->rate / 8; i++)
            store64_le(out + 8 * i, s->lanes[i]);
        out += s->rate;
    }
    s->pos = s->rate;
}

void keccak_wipe(keccak_sponge *s) {
    crypto_zero(s, sizeof *s);
}

static void sha3(unsigned rate, const uint8_t *in, size_t len, uint8_t *out, size_t out_len) {
    keccak_sponge s;
    sponge_init(&s, rate, 0x06);
    keccak_absorb(&s, in, len);
    keccak_squeeze(&s, out, out_len);
    keccak_wipe(&s);
}

void sha3_256(const uint8_t *in, size_t len, uint8_t out[32]) {
    sha3(SHA3_256_RATE, in, len, out, 32);
}

void sha3_512(const uint8_t *in, size_t len, uint8_t out[64]) {
    sha3(SHA3_512_RATE, in, len, out, 64);
}

void shake256(const uint8_t *in, size_t len, uint8_t *out, size_t out_len) {
    keccak_sponge s;
    shake256_init(&s);
    keccak_absorb(&s, in, len);
    keccak_squeeze(&s, out, out_len);
    keccak_wipe(&s);
}
