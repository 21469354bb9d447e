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

/* ---- several instances at once ----
 * The same permutation on several states, lane i of instance j at
 * lanes[4i + j] (four-way layout), one vector holding lane i of two (the
 * portable path) or four (AVX2) instances. Written plainly from FIPS 202
 * (θ, ρ and π gathered per output plane, χ with and-not, ι), without the
 * lane complementing of the scalar code (vectors have an and-not), on
 * GCC/Clang generic vectors: baseline x86-64 compiles the two-way one to
 * SSE2, a target("avx2") function the four-way one to AVX2 (neither has a
 * 64-bit rotate: two shifts and an or), other targets to their own vectors
 * or to scalar code. No intrinsics. */
#if defined(__GNUC__) || defined(__clang__)
#define PQ_HAVE_VECTORS 1

#define VROL(v, n) (((v) << (n)) | ((v) >> (64 - (n))))

/* One round from in to out (vectors of type T): θ's column parities and D,
 * then each output plane y, its lane x gathered through π from input lane
 * (x + 3y, x) with θ's D and ρ's rotation (FIPS 202 Table 2), then χ; ι
 * (rcv: the round constant in every element) on lane 0. */
#define VROUND(T, out, in, rcv)                                                                    \
    do {                                                                                           \
        T c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, b0, b1, b2, b3, b4;                              \
        c0 = in[0] ^ in[5] ^ in[10] ^ in[15] ^ in[20];                                             \
        c1 = in[1] ^ in[6] ^ in[11] ^ in[16] ^ in[21];                                             \
        c2 = in[2] ^ in[7] ^ in[12] ^ in[17] ^ in[22];                                             \
        c3 = in[3] ^ in[8] ^ in[13] ^ in[18] ^ in[23];                                             \
        c4 = in[4] ^ in[9] ^ in[14] ^ in[19] ^ in[24];                                             \
        d0 = c4 ^ VROL(c1, 1);                                                                     \
        d1 = c0 ^ VROL(c2, 1);                                                                     \
        d2 = c1 ^ VROL(c3, 1);                                                                     \
        d3 = c2 ^ VROL(c4, 1);                                                                     \
        d4 = c3 ^ VROL(c0, 1);                                                                     \
        VPLANE(out, 0, in[0] ^ d0, VROL(in[6] ^ d1, 44), VROL(in[12] ^ d2, 43),                    \
               VROL(in[18] ^ d3, 21), VROL(in[24] ^ d4, 14));                                      \
        out[0] ^= rcv;                                                                             \
        VPLANE(out, 5, VROL(in[3] ^ d3, 28), VROL(in[9] ^ d4, 20), VROL(in[10] ^ d0, 3),           \
               VROL(in[16] ^ d1, 45), VROL(in[22] ^ d2, 61));                                      \
        VPLANE(out, 10, VROL(in[1] ^ d1, 1), VROL(in[7] ^ d2, 6), VROL(in[13] ^ d3, 25),           \
               VROL(in[19] ^ d4, 8), VROL(in[20] ^ d0, 18));                                       \
        VPLANE(out, 15, VROL(in[4] ^ d4, 27), VROL(in[5] ^ d0, 36), VROL(in[11] ^ d1, 10),         \
               VROL(in[17] ^ d2, 15), VROL(in[23] ^ d3, 56));                                      \
        VPLANE(out, 20, VROL(in[2] ^ d2, 62), VROL(in[8] ^ d3, 55), VROL(in[14] ^ d4, 39),         \
               VROL(in[15] ^ d0, 41), VROL(in[21] ^ d1, 2));                                       \
    } while (0)

/* χ on one plane, its five inputs after θ, ρ and π. */
#define VPLANE(out, y, x0, x1, x2, x3, x4)                                                         \
    do {                                                                                           \
        b0 = x0;                                                                                   \
        b1 = x1;                                                                                   \
        b2 = x2;                                                                                   \
        b3 = x3;                                                                                   \
        b4 = x4;                                                                                   \
        out[y] = b0 ^ (~b1 & b2);                                                                  \
        out[y + 1] = b1 ^ (~b2 & b3);                                                              \
        out[y + 2] = b2 ^ (~b3 & b4);                                                              \
        out[y + 3] = b3 ^ (~b4 & b0);                                                              \
        out[y + 4] = b4 ^ (~b0 & b1);                                                              \
    } while (0)

#if PQ_HAVE_AVX2_CODE
typedef uint64_t lane4 __attribute__((vector_size(32), aligned(8), may_alias));

PQ_AVX2 static inline void round_x4(lane4 *out, const lane4 *in, uint64_t rc) {
    VROUND(lane4, out, in, ((lane4){rc, rc, rc, rc}));
}

PQ_AVX2 static void f1600_x4_avx2(uint64_t lanes[100]) {
    lane4 e[25], *a = (lane4 *)lanes; /* in place: one state copy (e) on the stack */
    for (int round = 0; round < 24; round += 2) {
        round_x4(e, a, round_constants[round]);
        round_x4(a, e, round_constants[round + 1]);
    }
    /* No stack copy of the states is left behind (the scalar code's rule). */
    for (int i = 0; i < 25; i++)
        e[i] = (lane4){0, 0, 0, 0};
    __asm__ __volatile__("" : : "r"(e) : "memory");
}
#endif

/* Without AVX2, keccak_f1600_x4 runs this on instances (0, 1) and (2, 3).
 * One round costs about what a scalar round does, so two states take
 * about two thirds of the instructions of two scalar permutations. */
typedef uint64_t lane2 __attribute__((vector_size(16)));

static inline void round_x2(lane2 *out, const lane2 *in, uint64_t rc) {
    VROUND(lane2, out, in, ((lane2){rc, rc}));
}

/* Instances j and j + 1 of a four-way state (adjacent in memory). */
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
    memset(a, 0, sizeof a);
    memset(e, 0, sizeof e);
    __asm__ __volatile__("" : : "r"(a), "r"(e) : "memory");
}
#undef VPLANE
#undef VROUND
#undef VROL
#else
#define PQ_HAVE_VECTORS 0
#endif

void keccak_f1600_x4_n(uint64_t lanes[100], unsigned used) {
#if PQ_HAVE_AVX2_CODE
    if (pq_avx2()) {
        f1600_x4_avx2(lanes);
        return;
    }
#endif
    unsigned j = 0;
#if PQ_HAVE_VECTORS
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
