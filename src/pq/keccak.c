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

static inline uint64_t rotl64(uint64_t v, unsigned n) {
    return (v << (n & 63)) | (v >> ((64 - n) & 63));
}

/* One round per loop pass on 25 lanes held in locals (registers or a
 * compact spill area); the 24-iteration loop stays rolled. The rotation of
 * each lane is its ρ offset from FIPS 202 Table 2 (mod 64), the lane order
 * π's. */
void keccak_f1600(uint64_t s[25]) {
    uint64_t a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3], a4 = s[4], a5 = s[5], a6 = s[6], a7 = s[7],
             a8 = s[8], a9 = s[9], a10 = s[10], a11 = s[11], a12 = s[12], a13 = s[13], a14 = s[14],
             a15 = s[15], a16 = s[16], a17 = s[17], a18 = s[18], a19 = s[19], a20 = s[20],
             a21 = s[21], a22 = s[22], a23 = s[23], a24 = s[24];
    for (int round = 0; round < 24; round++) {
        /* θ: each lane takes the parity of two neighbouring columns. */
        uint64_t c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
        uint64_t c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
        uint64_t c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
        uint64_t c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
        uint64_t c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
        uint64_t d0 = c4 ^ rotl64(c1, 1);
        uint64_t d1 = c0 ^ rotl64(c2, 1);
        uint64_t d2 = c1 ^ rotl64(c3, 1);
        uint64_t d3 = c2 ^ rotl64(c4, 1);
        uint64_t d4 = c3 ^ rotl64(c0, 1);
        /* ρ and π: lane (x, y) moves to (y, 2x + 3y), rotated by its offset. */
        uint64_t b0 = rotl64(a0 ^ d0, 0);
        uint64_t b1 = rotl64(a6 ^ d1, 44);
        uint64_t b2 = rotl64(a12 ^ d2, 43);
        uint64_t b3 = rotl64(a18 ^ d3, 21);
        uint64_t b4 = rotl64(a24 ^ d4, 14);
        uint64_t b5 = rotl64(a3 ^ d3, 28);
        uint64_t b6 = rotl64(a9 ^ d4, 20);
        uint64_t b7 = rotl64(a10 ^ d0, 3);
        uint64_t b8 = rotl64(a16 ^ d1, 45);
        uint64_t b9 = rotl64(a22 ^ d2, 61);
        uint64_t b10 = rotl64(a1 ^ d1, 1);
        uint64_t b11 = rotl64(a7 ^ d2, 6);
        uint64_t b12 = rotl64(a13 ^ d3, 25);
        uint64_t b13 = rotl64(a19 ^ d4, 8);
        uint64_t b14 = rotl64(a20 ^ d0, 18);
        uint64_t b15 = rotl64(a4 ^ d4, 27);
        uint64_t b16 = rotl64(a5 ^ d0, 36);
        uint64_t b17 = rotl64(a11 ^ d1, 10);
        uint64_t b18 = rotl64(a17 ^ d2, 15);
        uint64_t b19 = rotl64(a23 ^ d3, 56);
        uint64_t b20 = rotl64(a2 ^ d2, 62);
        uint64_t b21 = rotl64(a8 ^ d3, 55);
        uint64_t b22 = rotl64(a14 ^ d4, 39);
        uint64_t b23 = rotl64(a15 ^ d0, 41);
        uint64_t b24 = rotl64(a21 ^ d1, 2);
        /* χ along rows, then ι. */
        a0 = b0 ^ (~b1 & b2);
        a1 = b1 ^ (~b2 & b3);
        a2 = b2 ^ (~b3 & b4);
        a3 = b3 ^ (~b4 & b0);
        a4 = b4 ^ (~b0 & b1);
        a5 = b5 ^ (~b6 & b7);
        a6 = b6 ^ (~b7 & b8);
        a7 = b7 ^ (~b8 & b9);
        a8 = b8 ^ (~b9 & b5);
        a9 = b9 ^ (~b5 & b6);
        a10 = b10 ^ (~b11 & b12);
        a11 = b11 ^ (~b12 & b13);
        a12 = b12 ^ (~b13 & b14);
        a13 = b13 ^ (~b14 & b10);
        a14 = b14 ^ (~b10 & b11);
        a15 = b15 ^ (~b16 & b17);
        a16 = b16 ^ (~b17 & b18);
        a17 = b17 ^ (~b18 & b19);
        a18 = b18 ^ (~b19 & b15);
        a19 = b19 ^ (~b15 & b16);
        a20 = b20 ^ (~b21 & b22);
        a21 = b21 ^ (~b22 & b23);
        a22 = b22 ^ (~b23 & b24);
        a23 = b23 ^ (~b24 & b20);
        a24 = b24 ^ (~b20 & b21);
        a0 ^= round_constants[round];
    }
    s[0] = a0;
    s[1] = a1;
    s[2] = a2;
    s[3] = a3;
    s[4] = a4;
    s[5] = a5;
    s[6] = a6;
    s[7] = a7;
    s[8] = a8;
    s[9] = a9;
    s[10] = a10;
    s[11] = a11;
    s[12] = a12;
    s[13] = a13;
    s[14] = a14;
    s[15] = a15;
    s[16] = a16;
    s[17] = a17;
    s[18] = a18;
    s[19] = a19;
    s[20] = a20;
    s[21] = a21;
    s[22] = a22;
    s[23] = a23;
    s[24] = a24;
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
