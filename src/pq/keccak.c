/* Keccak-f[1600] (FIPS 202 §3) and the sponge (§4) with its SHA-3/SHAKE
 * instances (§6). Lanes are 64-bit words; the byte order of the state is
 * little-endian (pq_load64_le, pq_store64_le: no alignment needs). The
 * permutation has no data-dependent branch or index. */
#include "pq/keccak.h"

#include "crypto/crypto.h"
#include "pq/cpu.h"

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

/* Two rounds per loop pass, the state going from a to e and back. Each
 * round computes θ's column parities, then one output plane (row y) at a
 * time: its five lanes gathered through π (lane (x, y) of the output comes
 * from (x + 3y, x)), with θ's D and ρ's rotation (FIPS 202 Table 2, mod 64),
 * then χ. Only D and one plane are live: few enough values for the
 * registers of a 64-bit CPU, so little spilling.
 *
 * Lane complementing: lanes 1, 2, 8, 12, 17 and 20 are kept complemented
 * between rounds (flipped on entry and exit). θ turns that into a known
 * pattern on χ's inputs, and each χ output b0 ^ (~b1 & b2) is then computed
 * as b0 ^ (B1 op B2) with op AND or OR on the stored (possibly complemented)
 * values, so that it lands in the pattern again; a NOT is left only where no
 * such choice exists — 8 per round instead of 25. The choice per lane was
 * made by checking every candidate's truth table (a small search, run once
 * when writing this; test_keccak holds the result to FIPS 202 and EVP). */
void keccak_f1600(uint64_t a[25]) {
    uint64_t e[25];
    a[1] = ~a[1];
    a[2] = ~a[2];
    a[8] = ~a[8];
    a[12] = ~a[12];
    a[17] = ~a[17];
    a[20] = ~a[20];
    for (int round = 0; round < 24; round += 2) {
        {
            uint64_t c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20];
            uint64_t c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21];
            uint64_t c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22];
            uint64_t c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23];
            uint64_t c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24];
            uint64_t d0 = c4 ^ rotl64(c1, 1);
            uint64_t d1 = c0 ^ rotl64(c2, 1);
            uint64_t d2 = c1 ^ rotl64(c3, 1);
            uint64_t d3 = c2 ^ rotl64(c4, 1);
            uint64_t d4 = c3 ^ rotl64(c0, 1);
            uint64_t b0_0 = rotl64(a[0] ^ d0, 0);
            uint64_t b1_0 = rotl64(a[6] ^ d1, 44);
            uint64_t b2_0 = rotl64(a[12] ^ d2, 43);
            uint64_t b3_0 = rotl64(a[18] ^ d3, 21);
            uint64_t b4_0 = rotl64(a[24] ^ d4, 14);
            uint64_t n2_0 = ~b2_0;
            e[0] = b0_0 ^ (b1_0 | b2_0);
            e[1] = b1_0 ^ (n2_0 | b3_0);
            e[2] = b2_0 ^ (b3_0 & b4_0);
            e[3] = b3_0 ^ (b4_0 | b0_0);
            e[4] = b4_0 ^ (b0_0 & b1_0);
            uint64_t b0_1 = rotl64(a[3] ^ d3, 28);
            uint64_t b1_1 = rotl64(a[9] ^ d4, 20);
            uint64_t b2_1 = rotl64(a[10] ^ d0, 3);
            uint64_t b3_1 = rotl64(a[16] ^ d1, 45);
            uint64_t b4_1 = rotl64(a[22] ^ d2, 61);
            uint64_t n4_1 = ~b4_1;
            e[5] = b0_1 ^ (b1_1 | b2_1);
            e[6] = b1_1 ^ (b2_1 & b3_1);
            e[7] = b2_1 ^ (b3_1 | n4_1);
            e[8] = b3_1 ^ (b4_1 | b0_1);
            e[9] = b4_1 ^ (b0_1 & b1_1);
            uint64_t b0_2 = rotl64(a[1] ^ d1, 1);
            uint64_t b1_2 = rotl64(a[7] ^ d2, 6);
            uint64_t b2_2 = rotl64(a[13] ^ d3, 25);
            uint64_t b3_2 = rotl64(a[19] ^ d4, 8);
            uint64_t b4_2 = rotl64(a[20] ^ d0, 18);
            uint64_t n3_2 = ~b3_2;
            e[10] = b0_2 ^ (b1_2 | b2_2);
            e[11] = b1_2 ^ (b2_2 & b3_2);
            e[12] = b2_2 ^ (n3_2 & b4_2);
            e[13] = ~(b3_2 ^ (b4_2 | b0_2));
            e[14] = b4_2 ^ (b0_2 & b1_2);
            uint64_t b0_3 = rotl64(a[4] ^ d4, 27);
            uint64_t b1_3 = rotl64(a[5] ^ d0, 36);
            uint64_t b2_3 = rotl64(a[11] ^ d1, 10);
            uint64_t b3_3 = rotl64(a[17] ^ d2, 15);
            uint64_t b4_3 = rotl64(a[23] ^ d3, 56);
            uint64_t n3_3 = ~b3_3;
            e[15] = b0_3 ^ (b1_3 & b2_3);
            e[16] = b1_3 ^ (b2_3 | b3_3);
            e[17] = b2_3 ^ (n3_3 | b4_3);
            e[18] = ~(b3_3 ^ (b4_3 & b0_3));
            e[19] = b4_3 ^ (b0_3 | b1_3);
            uint64_t b0_4 = rotl64(a[2] ^ d2, 62);
            uint64_t b1_4 = rotl64(a[8] ^ d3, 55);
            uint64_t b2_4 = rotl64(a[14] ^ d4, 39);
            uint64_t b3_4 = rotl64(a[15] ^ d0, 41);
            uint64_t b4_4 = rotl64(a[21] ^ d1, 2);
            uint64_t n1_4 = ~b1_4;
            e[20] = b0_4 ^ (n1_4 & b2_4);
            e[21] = ~(b1_4 ^ (b2_4 | b3_4));
            e[22] = b2_4 ^ (b3_4 & b4_4);
            e[23] = b3_4 ^ (b4_4 | b0_4);
            e[24] = b4_4 ^ (b0_4 & b1_4);
            e[0] ^= round_constants[round];
        }
        {
            uint64_t c0 = e[0] ^ e[5] ^ e[10] ^ e[15] ^ e[20];
            uint64_t c1 = e[1] ^ e[6] ^ e[11] ^ e[16] ^ e[21];
            uint64_t c2 = e[2] ^ e[7] ^ e[12] ^ e[17] ^ e[22];
            uint64_t c3 = e[3] ^ e[8] ^ e[13] ^ e[18] ^ e[23];
            uint64_t c4 = e[4] ^ e[9] ^ e[14] ^ e[19] ^ e[24];
            uint64_t d0 = c4 ^ rotl64(c1, 1);
            uint64_t d1 = c0 ^ rotl64(c2, 1);
            uint64_t d2 = c1 ^ rotl64(c3, 1);
            uint64_t d3 = c2 ^ rotl64(c4, 1);
            uint64_t d4 = c3 ^ rotl64(c0, 1);
            uint64_t b0_0 = rotl64(e[0] ^ d0, 0);
            uint64_t b1_0 = rotl64(e[6] ^ d1, 44);
            uint64_t b2_0 = rotl64(e[12] ^ d2, 43);
            uint64_t b3_0 = rotl64(e[18] ^ d3, 21);
            uint64_t b4_0 = rotl64(e[24] ^ d4, 14);
            uint64_t n2_0 = ~b2_0;
            a[0] = b0_0 ^ (b1_0 | b2_0);
            a[1] = b1_0 ^ (n2_0 | b3_0);
            a[2] = b2_0 ^ (b3_0 & b4_0);
            a[3] = b3_0 ^ (b4_0 | b0_0);
            a[4] = b4_0 ^ (b0_0 & b1_0);
            uint64_t b0_1 = rotl64(e[3] ^ d3, 28);
            uint64_t b1_1 = rotl64(e[9] ^ d4, 20);
            uint64_t b2_1 = rotl64(e[10] ^ d0, 3);
            uint64_t b3_1 = rotl64(e[16] ^ d1, 45);
            uint64_t b4_1 = rotl64(e[22] ^ d2, 61);
            uint64_t n4_1 = ~b4_1;
            a[5] = b0_1 ^ (b1_1 | b2_1);
            a[6] = b1_1 ^ (b2_1 & b3_1);
            a[7] = b2_1 ^ (b3_1 | n4_1);
            a[8] = b3_1 ^ (b4_1 | b0_1);
            a[9] = b4_1 ^ (b0_1 & b1_1);
            uint64_t b0_2 = rotl64(e[1] ^ d1, 1);
            uint64_t b1_2 = rotl64(e[7] ^ d2, 6);
            uint64_t b2_2 = rotl64(e[13] ^ d3, 25);
            uint64_t b3_2 = rotl64(e[19] ^ d4, 8);
            uint64_t b4_2 = rotl64(e[20] ^ d0, 18);
            uint64_t n3_2 = ~b3_2;
            a[10] = b0_2 ^ (b1_2 | b2_2);
            a[11] = b1_2 ^ (b2_2 & b3_2);
            a[12] = b2_2 ^ (n3_2 & b4_2);
            a[13] = ~(b3_2 ^ (b4_2 | b0_2));
            a[14] = b4_2 ^ (b0_2 & b1_2);
            uint64_t b0_3 = rotl64(e[4] ^ d4, 27);
            uint64_t b1_3 = rotl64(e[5] ^ d0, 36);
            uint64_t b2_3 = rotl64(e[11] ^ d1, 10);
            uint64_t b3_3 = rotl64(e[17] ^ d2, 15);
            uint64_t b4_3 = rotl64(e[23] ^ d3, 56);
            uint64_t n3_3 = ~b3_3;
            a[15] = b0_3 ^ (b1_3 & b2_3);
            a[16] = b1_3 ^ (b2_3 | b3_3);
            a[17] = b2_3 ^ (n3_3 | b4_3);
            a[18] = ~(b3_3 ^ (b4_3 & b0_3));
            a[19] = b4_3 ^ (b0_3 | b1_3);
            uint64_t b0_4 = rotl64(e[2] ^ d2, 62);
            uint64_t b1_4 = rotl64(e[8] ^ d3, 55);
            uint64_t b2_4 = rotl64(e[14] ^ d4, 39);
            uint64_t b3_4 = rotl64(e[15] ^ d0, 41);
            uint64_t b4_4 = rotl64(e[21] ^ d1, 2);
            uint64_t n1_4 = ~b1_4;
            a[20] = b0_4 ^ (n1_4 & b2_4);
            a[21] = ~(b1_4 ^ (b2_4 | b3_4));
            a[22] = b2_4 ^ (b3_4 & b4_4);
            a[23] = b3_4 ^ (b4_4 | b0_4);
            a[24] = b4_4 ^ (b0_4 & b1_4);
            a[0] ^= round_constants[round + 1];
        }
    }
    a[1] = ~a[1];
    a[2] = ~a[2];
    a[8] = ~a[8];
    a[12] = ~a[12];
    a[17] = ~a[17];
    a[20] = ~a[20];
    /* e holds the state one round before the output, from which the output
     * follows: wipe it, as it may be the sponge's secret. */
    memset(e, 0, sizeof e);
#if defined(__GNUC__) || defined(__clang__)
    __asm__ __volatile__("" : : "r"(e) : "memory");
#endif
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

void sha3_256_init(keccak_sponge *s) {
    sponge_init(s, SHA3_256_RATE, 0x06);
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
            s->lanes[i] ^= pq_load64_le(in + 8 * i);
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

int keccak_absorb_step(keccak_sponge *s, const uint8_t **in, size_t *len) {
    if (s->squeezing) return 0;
    if (*len >= s->rate) {
        for (unsigned i = 0; i < s->rate / 8; i++)
            s->lanes[i] ^= pq_load64_le(*in + 8 * i);
        *in += s->rate;
        *len -= s->rate;
        return 1;
    }
    for (size_t i = 0; i < *len; i++)
        xor_byte(s, (unsigned)i, (*in)[i]);
    xor_byte(s, (unsigned)*len, s->suffix);
    xor_byte(s, s->rate - 1, 0x80);
    *in += *len;
    *len = 0;
    s->pos = 0;
    s->squeezing = 1; /* squeezing starts from the permuted state */
    return 1;
}

void keccak_squeeze(keccak_sponge *s, uint8_t *out, size_t len) {
    if (!s->squeezing) sponge_pad(s);
    while (len > 0) {
        if (s->pos == s->rate) {
            keccak_f1600(s->lanes);
            s->pos = 0;
        }
        if (s->pos % 8 == 0 && len >= 8 && s->pos + 8 <= s->rate) {
            pq_store64_le(out, s->lanes[s->pos / 8]);
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
            pq_store64_le(out + 8 * i, s->lanes[i]);
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

/* ---- four instances at once (AVX2) ----
 * The same permutation on four states, lane i of instance j at lanes[4i + j],
 * so that one 256-bit register holds lane i of all four. Written plainly
 * from FIPS 202 (θ, ρ and π gathered per output plane, χ with and-not, ι),
 * without the lane complementing of the scalar code: AVX2 has an and-not.
 * Rotations are two shifts and an or (AVX2 has no 64-bit rotate). */
#if PQ_HAVE_AVX2_CODE
#include <immintrin.h>

#define ROL(v, n) _mm256_or_si256(_mm256_slli_epi64(v, n), _mm256_srli_epi64(v, 64 - (n)))
#define XOR5(a, b, c, d, e)                                                                        \
    _mm256_xor_si256(_mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d)), e)

/* One round from in to out: θ's column parities and D, then each output
 * plane y, its lane x gathered through π from input lane (x + 3y, x) with
 * θ's D and ρ's rotation (FIPS 202 Table 2), then χ; ι on lane 0. */
PQ_AVX2 static inline void round_x4(__m256i_u *out, const __m256i_u *in, uint64_t rc) {
    __m256i c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4;
    c0 = XOR5(in[0], in[5], in[10], in[15], in[20]);
    c1 = XOR5(in[1], in[6], in[11], in[16], in[21]);
    c2 = XOR5(in[2], in[7], in[12], in[17], in[22]);
    c3 = XOR5(in[3], in[8], in[13], in[18], in[23]);
    c4 = XOR5(in[4], in[9], in[14], in[19], in[24]);
    d0 = _mm256_xor_si256(c4, ROL(c1, 1));
    d1 = _mm256_xor_si256(c0, ROL(c2, 1));
    d2 = _mm256_xor_si256(c1, ROL(c3, 1));
    d3 = _mm256_xor_si256(c2, ROL(c4, 1));
    d4 = _mm256_xor_si256(c3, ROL(c0, 1));
    b0 = _mm256_xor_si256(in[0], d0);
    b1 = ROL(_mm256_xor_si256(in[6], d1), 44);
    b2 = ROL(_mm256_xor_si256(in[12], d2), 43);
    b3 = ROL(_mm256_xor_si256(in[18], d3), 21);
    b4 = ROL(_mm256_xor_si256(in[24], d4), 14);
    out[0] = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    out[1] = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    out[2] = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    out[3] = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    out[4] = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(in[3], d3), 28);
    b1 = ROL(_mm256_xor_si256(in[9], d4), 20);
    b2 = ROL(_mm256_xor_si256(in[10], d0), 3);
    b3 = ROL(_mm256_xor_si256(in[16], d1), 45);
    b4 = ROL(_mm256_xor_si256(in[22], d2), 61);
    out[5] = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    out[6] = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    out[7] = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    out[8] = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    out[9] = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(in[1], d1), 1);
    b1 = ROL(_mm256_xor_si256(in[7], d2), 6);
    b2 = ROL(_mm256_xor_si256(in[13], d3), 25);
    b3 = ROL(_mm256_xor_si256(in[19], d4), 8);
    b4 = ROL(_mm256_xor_si256(in[20], d0), 18);
    out[10] = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    out[11] = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    out[12] = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    out[13] = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    out[14] = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(in[4], d4), 27);
    b1 = ROL(_mm256_xor_si256(in[5], d0), 36);
    b2 = ROL(_mm256_xor_si256(in[11], d1), 10);
    b3 = ROL(_mm256_xor_si256(in[17], d2), 15);
    b4 = ROL(_mm256_xor_si256(in[23], d3), 56);
    out[15] = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    out[16] = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    out[17] = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    out[18] = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    out[19] = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    b0 = ROL(_mm256_xor_si256(in[2], d2), 62);
    b1 = ROL(_mm256_xor_si256(in[8], d3), 55);
    b2 = ROL(_mm256_xor_si256(in[14], d4), 39);
    b3 = ROL(_mm256_xor_si256(in[15], d0), 41);
    b4 = ROL(_mm256_xor_si256(in[21], d1), 2);
    out[20] = _mm256_xor_si256(b0, _mm256_andnot_si256(b1, b2));
    out[21] = _mm256_xor_si256(b1, _mm256_andnot_si256(b2, b3));
    out[22] = _mm256_xor_si256(b2, _mm256_andnot_si256(b3, b4));
    out[23] = _mm256_xor_si256(b3, _mm256_andnot_si256(b4, b0));
    out[24] = _mm256_xor_si256(b4, _mm256_andnot_si256(b0, b1));
    out[0] = _mm256_xor_si256(out[0], _mm256_set1_epi64x((long long)rc));
}

PQ_AVX2 static void f1600_x4_avx2(uint64_t lanes[100]) {
    __m256i_u e[25], *a = (__m256i_u *)lanes; /* in place: one state copy (e) on the stack */
    for (int round = 0; round < 24; round += 2) {
        round_x4(e, a, round_constants[round]);
        round_x4(a, e, round_constants[round + 1]);
    }
    /* No stack copy of the states is left behind (the scalar code's rule). */
    for (int i = 0; i < 25; i++)
        e[i] = _mm256_setzero_si256();
    __asm__ __volatile__("" : : "r"(e) : "memory");
}
#undef ROL
#undef XOR5
#endif

/* ---- two instances at once, portable ----
 * Without AVX2, keccak_f1600_x4 runs this on instances (0, 1) and (2, 3):
 * the same round as round_x4, on GCC/Clang generic vectors of two lanes,
 * which baseline x86-64 compiles to SSE2 (and other targets to their own
 * vectors, or to scalar code). Not intrinsics: it is the C above, two
 * states wide. One round costs about what a scalar round does, so two
 * states take about half the instructions of two scalar permutations. */
#if defined(__GNUC__) || defined(__clang__)
#define PQ_HAVE_X2 1
typedef uint64_t lane2 __attribute__((vector_size(16)));

#define ROL2(v, n) (((v) << (n)) | ((v) >> (64 - (n))))

static inline void round_x2(lane2 *out, const lane2 *in, uint64_t rc) {
    lane2 c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4;
    c0 = in[0] ^ in[5] ^ in[10] ^ in[15] ^ in[20];
    c1 = in[1] ^ in[6] ^ in[11] ^ in[16] ^ in[21];
    c2 = in[2] ^ in[7] ^ in[12] ^ in[17] ^ in[22];
    c3 = in[3] ^ in[8] ^ in[13] ^ in[18] ^ in[23];
    c4 = in[4] ^ in[9] ^ in[14] ^ in[19] ^ in[24];
    d0 = c4 ^ ROL2(c1, 1);
    d1 = c0 ^ ROL2(c2, 1);
    d2 = c1 ^ ROL2(c3, 1);
    d3 = c2 ^ ROL2(c4, 1);
    d4 = c3 ^ ROL2(c0, 1);
    b0 = in[0] ^ d0;
    b1 = ROL2(in[6] ^ d1, 44);
    b2 = ROL2(in[12] ^ d2, 43);
    b3 = ROL2(in[18] ^ d3, 21);
    b4 = ROL2(in[24] ^ d4, 14);
    out[0] = b0 ^ (~b1 & b2) ^ (lane2) { rc, rc };
    out[1] = b1 ^ (~b2 & b3);
    out[2] = b2 ^ (~b3 & b4);
    out[3] = b3 ^ (~b4 & b0);
    out[4] = b4 ^ (~b0 & b1);
    b0 = ROL2(in[3] ^ d3, 28);
    b1 = ROL2(in[9] ^ d4, 20);
    b2 = ROL2(in[10] ^ d0, 3);
    b3 = ROL2(in[16] ^ d1, 45);
    b4 = ROL2(in[22] ^ d2, 61);
    out[5] = b0 ^ (~b1 & b2);
    out[6] = b1 ^ (~b2 & b3);
    out[7] = b2 ^ (~b3 & b4);
    out[8] = b3 ^ (~b4 & b0);
    out[9] = b4 ^ (~b0 & b1);
    b0 = ROL2(in[1] ^ d1, 1);
    b1 = ROL2(in[7] ^ d2, 6);
    b2 = ROL2(in[13] ^ d3, 25);
    b3 = ROL2(in[19] ^ d4, 8);
    b4 = ROL2(in[20] ^ d0, 18);
    out[10] = b0 ^ (~b1 & b2);
    out[11] = b1 ^ (~b2 & b3);
    out[12] = b2 ^ (~b3 & b4);
    out[13] = b3 ^ (~b4 & b0);
    out[14] = b4 ^ (~b0 & b1);
    b0 = ROL2(in[4] ^ d4, 27);
    b1 = ROL2(in[5] ^ d0, 36);
    b2 = ROL2(in[11] ^ d1, 10);
    b3 = ROL2(in[17] ^ d2, 15);
    b4 = ROL2(in[23] ^ d3, 56);
    out[15] = b0 ^ (~b1 & b2);
    out[16] = b1 ^ (~b2 & b3);
    out[17] = b2 ^ (~b3 & b4);
    out[18] = b3 ^ (~b4 & b0);
    out[19] = b4 ^ (~b0 & b1);
    b0 = ROL2(in[2] ^ d2, 62);
    b1 = ROL2(in[8] ^ d3, 55);
    b2 = ROL2(in[14] ^ d4, 39);
    b3 = ROL2(in[15] ^ d0, 41);
    b4 = ROL2(in[21] ^ d1, 2);
    out[20] = b0 ^ (~b1 & b2);
    out[21] = b1 ^ (~b2 & b3);
    out[22] = b2 ^ (~b3 & b4);
    out[23] = b3 ^ (~b4 & b0);
    out[24] = b4 ^ (~b0 & b1);
}

/* Instances j and j + 1 of a four-way state (lane i of instance j at
 * lanes[4i + j]: the pair is adjacent in memory). */
static void f1600_x2(uint64_t lanes[100], unsigned j) {
    lane2 a[25], e[25];
    for (int i = 0; i < 25; i++)
        memcpy(&a[i], lanes + 4 * i + j, sizeof a[i]);
    for (int round = 0; round < 24; round += 2) {
        round_x2(e, a, round_constants[round]);
        round_x2(a, e, round_constants[round + 1]);
    }
    for (int i = 0; i < 25; i++)
        memcpy(lanes + 4 * i + j, &a[i], sizeof a[i]);
    /* No stack copy of the states is left behind (the scalar code's rule). */
    memset(a, 0, sizeof a);
    memset(e, 0, sizeof e);
    __asm__ __volatile__("" : : "r"(a), "r"(e) : "memory");
}
#undef ROL2
#else
#define PQ_HAVE_X2 0
#endif

void keccak_f1600_x4_n(uint64_t lanes[100], unsigned used) {
#if PQ_HAVE_AVX2_CODE
    if (pq_avx2()) {
        f1600_x4_avx2(lanes);
        return;
    }
#endif
    unsigned j = 0;
#if PQ_HAVE_X2
    /* Pairs while two are left; a lone last instance is cheaper scalar. */
    for (; j + 1 < used; j += 2)
        f1600_x2(lanes, j);
#endif
    if (j >= used) return;
    uint64_t one[25];
    for (; j < used; j++) {
        for (int i = 0; i < 25; i++)
            one[i] = lanes[4 * i + j];
        keccak_f1600(one);
        for (int i = 0; i < 25; i++)
            lanes[4 * i + j] = one[i];
    }
    crypto_zero(one, sizeof one);
}

void keccak_f1600_x4(uint64_t lanes[100]) {
    keccak_f1600_x4_n(lanes, 4);
}

void keccak_x4_absorb_once(keccak_x4 *s, unsigned rate, const uint8_t *const in[4], size_t len) {
    memset(s, 0, sizeof *s);
    s->rate = rate;
    s->used = 4;
    for (int j = 0; j < 4; j++) {
        size_t b = 0;
        for (; b + 8 <= len; b += 8)
            s->lanes[4 * (b / 8) + j] = pq_load64_le(in[j] + b);
        for (; b < len; b++)
            s->lanes[4 * (b / 8) + j] ^= (uint64_t)in[j][b] << (8 * (b % 8));
        s->lanes[4 * (len / 8) + j] ^= (uint64_t)0x1f << (8 * (len % 8)); /* SHAKE suffix */
        s->lanes[4 * ((rate - 1) / 8) + j] ^= (uint64_t)0x80 << (8 * ((rate - 1) % 8));
    }
}

void keccak_x4_squeeze_block(keccak_x4 *s, uint8_t *const out[4]) {
    keccak_f1600_x4_n(s->lanes, s->used);
    for (unsigned j = 0; j < s->used; j++)
        for (unsigned i = 0; i < s->rate / 8; i++)
            pq_store64_le(out[j] + 8 * i, s->lanes[4 * i + j]);
}

void keccak_x4_wipe(keccak_x4 *s) {
    crypto_zero(s, sizeof *s);
}
