/* ML-KEM-768 and ML-KEM-1024, written from FIPS 203 (August 2024).
 *
 * Arithmetic in Z_q, q = 3329, on int16 coefficients. Products go through
 * Montgomery reduction (R = 2^16) and sums through Barrett reduction, both
 * branch-free; a value is brought to [0, q) only where it is encoded or
 * compressed. The NTT follows Algorithms 9 and 10 with ζ = 17; its twiddles
 * are stored times R so that one Montgomery product yields ζ·x. MultiplyNTTs
 * (Algorithms 11 and 12) accumulates a whole row of the matrix-vector product
 * in 32 bits and reduces once, with each odd coefficient of the fixed vector
 * premultiplied by its γ (the "cache"), so each row costs one reduction per
 * coefficient. Domains: a row sum carries a factor R^-1; the inverse NTT's
 * final scaling (by 128^-1·R^2) removes it, and KeyGen's t-hat removes it by
 * a product with R^2.
 *
 * From the encodings, the matrix A-hat is not stored: a row at a time is
 * sampled where it is used (rejection sampling from SHAKE128 branches, but
 * only on the public ρ). A prepared key (mlkem_dkey) keeps keygen's A-hat,
 * s-hat and t-hat instead, so that its decapsulation samples no matrix and
 * hashes no ek.
 *
 * Secrets (the seed, σ, s-hat, e, r, e1, e2, m', K', r', the re-encryption)
 * stay out of branches and memory indices; decapsulation selects between K'
 * and J(z || c) with a mask. tests/ct/ checks this under valgrind with
 * CERTA_CT_VALGRIND defined, which makes DECLASSIFY tell memcheck that ρ is
 * public. */
#include "pq/mlkem.h"

#include "crypto/crypto.h"
#include "pq/cpu.h"
#include "pq/keccak.h"

#include <string.h>

/* Keeps a short loop a loop until the vectoriser has seen it: fully
 * unrolled early, its 8 lanes were left scalar (gcc 12). */
#if defined(__clang__) || defined(__GNUC__)
#define VECTOR_LOOP _Pragma("GCC unroll 1")
#else
#define VECTOR_LOOP
#endif

#ifdef CERTA_CT_VALGRIND
#include <valgrind/memcheck.h>
#define DECLASSIFY(p, n) VALGRIND_MAKE_MEM_DEFINED(p, n)
#else
#define DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

#define Q 3329
#define N 256
#define MAX_K 4
#define POLY_BYTES 384        /* ByteEncode_12 of one polynomial */
#define QINV 62209            /* q^-1 mod 2^16 */
#define R2_MOD_Q 1353         /* 2^32 mod q: a Montgomery product with it multiplies by R */
#define INVNTT_SCALE 1441     /* 128^-1 · 2^32 mod q */
#define BARRETT_V 20159       /* round(2^26 / q) */
#define INVNTT_LAST_ZETA 1397 /* zetas[1] · INVNTT_SCALE · R^-1 mod q, centred */

typedef struct poly {
    int16_t c[N];
} poly;

/* γ·b[2i+1] for each pair of an NTT-domain polynomial b (Algorithm 12's
 * b1·γ), computed once per vector and reused by every matrix row. */
typedef struct poly_cache {
    int16_t c[N / 2];
} poly_cache;

typedef struct params {
    unsigned k, du, dv; /* η1 = η2 = 2 for both parameter sets */
} params;

static params params_of(mlkem_kind kind) {
    if (kind == MLKEM1024) return (params){4, 11, 5};
    return (params){3, 10, 4};
}

size_t mlkem_ek_bytes(mlkem_kind k) {
    return k == MLKEM1024 ? MLKEM1024_EK_BYTES : MLKEM768_EK_BYTES;
}

size_t mlkem_dk_bytes(mlkem_kind k) {
    return k == MLKEM1024 ? MLKEM1024_DK_BYTES : MLKEM768_DK_BYTES;
}

size_t mlkem_ct_bytes(mlkem_kind k) {
    return k == MLKEM1024 ? MLKEM1024_CT_BYTES : MLKEM768_CT_BYTES;
}

/* ζ^BitRev7(i) · R mod q, centred in (-q/2, q/2): computed from ζ = 17. */
static const int16_t zetas[128] = {
    -1044, -758,  -359,  -1517, 1493,  1422,  287,   202,   -171,  622,   1577,  182,   962,
    -1202, -1474, 1468,  573,   -1325, 264,   383,   -829,  1458,  -1602, -130,  -681,  1017,
    732,   608,   -1542, 411,   -205,  -1571, 1223,  652,   -552,  1015,  -1293, 1491,  -282,
    -1544, 516,   -8,    -320,  -666,  -1618, -1162, 126,   1469,  -853,  -90,   -271,  830,
    107,   -1421, -247,  -951,  -398,  961,   -1508, -725,  448,   -1065, 677,   -1275, -1103,
    430,   555,   843,   -1251, 871,   1550,  105,   422,   587,   177,   -235,  -291,  -460,
    1574,  1653,  -246,  778,   1159,  -147,  -777,  1483,  -602,  1119,  -1590, 644,   -872,
    349,   418,   329,   -156,  -75,   817,   1097,  603,   610,   1322,  -1285, -1465, 384,
    -1215, -136,  1218,  -1335, -874,  220,   -1187, -1659, -1185, -1530, -1278, 794,   -1510,
    -854,  -870,  478,   -108,  -308,  996,   991,   958,   -1460, 1522,  1628,
};

/* ---- arithmetic mod q ---- */

/* The high half of a 32-bit value or of a product of two int16: written
 * so that compilers see a 16-bit multiply-high (SSE2's pmulhw, NEON's
 * sqdmulh family) instead of widening the lanes to 32 bits. */
static inline int16_t mulhi16(int16_t a, int16_t b) {
    return (int16_t)(((int32_t)a * b) >> 16);
}

/* a · 2^-16 mod q, |result| < q, for |a| < q · 2^15: t = a · q^-1 mod 2^16
 * needs only a's low half, and as a ≡ t·q mod 2^16 the low halves of a and
 * t·q cancel, so a - t·q shifted is the difference of the high halves. */
static inline int16_t mont_reduce(int32_t a) {
    int16_t t = (int16_t)(uint16_t)((uint32_t)(uint16_t)a * QINV);
    return (int16_t)((int16_t)(a >> 16) - mulhi16(t, Q));
}

/* The same for a product of two int16, in 16-bit operations only: the high
 * half of a·b minus the high half of t·q, t from the low half of a·b. */
static inline int16_t mont_mul(int16_t a, int16_t b) {
    int16_t lo = (int16_t)(uint16_t)((uint32_t)(uint16_t)a * (uint16_t)b);
    int16_t t = (int16_t)(uint16_t)((uint32_t)(uint16_t)lo * QINV);
    return (int16_t)(mulhi16(a, b) - mulhi16(t, Q));
}

/* a mod q, centred: |result| <= (q + 1) / 2. t = round(a · v / 2^26) as
 * (high(a·v) + 2^9) >> 10: the same value as (a·v + 2^25) >> 26, since the
 * dropped low half is below one unit of the high half and 2^25 is a whole
 * number of them; all in 16 bits (|high(a·v)| < 2^14). */
static inline int16_t barrett_reduce(int16_t a) {
    int16_t t = (int16_t)((mulhi16(a, BARRETT_V) + (1 << 9)) >> 10);
    return (int16_t)(a - t * Q);
}

/* [0, q) from (-q, q), without a branch: add q when the sign bit is set. */
static inline uint16_t to_unsigned(int16_t a) {
    return (uint16_t)(a + ((a >> 15) & Q));
}

/* Hides a value from the optimiser so that mask arithmetic stays arithmetic. */
static inline uint32_t value_barrier(uint32_t v) {
#if defined(__GNUC__) || defined(__clang__)
    __asm__("" : "+r"(v));
#endif
    return v;
}

/* Compress_d (§4.2.1): round(2^d · x / q) mod 2^d for x in [0, q), as
 * floor((2^(d+1)·x + q) / 2q) with the division done by a multiplication
 * (exact for every numerator below 2^24; tests/unit/test_mlkem checks all). */
static inline uint32_t compress(uint16_t x, unsigned d) {
    uint32_t n = ((uint32_t)x << (d + 1)) + Q; /* below 2^24 */
    return (uint32_t)(((uint64_t)n * 10321340u) >> 36) & ((1u << d) - 1);
}

/* Decompress_d: round(q · y / 2^d). */
static inline int16_t decompress(uint32_t y, unsigned d) {
    return (int16_t)((y * Q + (1u << (d - 1))) >> d);
}

static void poly_add(poly *r, const poly *a) {
    for (int i = 0; i < N; i++)
        r->c[i] = (int16_t)(r->c[i] + a->c[i]);
}

/* ---- NTT (Algorithms 9 and 10) ---- */

/* In: |c| < q. Out: NTT(p), centred (Barrett). Each layer adds less than q
 * to the magnitude, so seven layers stay below 8q < 2^15 without reducing. */
static inline void ntt_layer(int16_t *c, int len, int z) {
    for (int start = 0; start < N; start += 2 * len) {
        int16_t zeta = zetas[z++], *lo = c + start, *hi = lo + len;
        VECTOR_LOOP
        for (int j = 0; j < len; j++) {
            int16_t t = mont_mul(zeta, hi[j]);
            hi[j] = (int16_t)(lo[j] - t);
            lo[j] = (int16_t)(lo[j] + t);
        }
    }
}

/* The last two layers (lengths 4 and 2, within each group of 8) and the
 * final reduction, for two groups (16 coefficients) at a time: their
 * butterflies are regrouped into arrays of 8 lanes, top halves against
 * bottom halves, so that each layer is one loop of 8 the compiler
 * vectorises; the regrouping moves whole 64- and 32-bit pieces (pairs and
 * quads of coefficients). A group at a time would leave loops of 2 and 4.
 * Group g of c is coefficients 8g..8g+7; h is the pair's index (groups 2h
 * and 2h + 1 of the polynomial). */
#define MOVE(dst, src, n) memcpy(dst, src, (n) * sizeof(int16_t))
/* out = four coefficient pairs, from a, b, c and d */
static inline void pick2(int16_t out[8], const int16_t *a, const int16_t *b, const int16_t *c,
                         const int16_t *d) {
    MOVE(out, a, 2);
    MOVE(out + 2, b, 2);
    MOVE(out + 4, c, 2);
    MOVE(out + 6, d, 2);
}
static inline void ntt_last2(int16_t c[16], int h) {
    int16_t x[8], y[8], z[8], t[8], p[8], q[8];
    /* length 4: x = c0-3 of both groups, y = c4-7 */
    MOVE(x, c, 4);
    MOVE(x + 4, c + 8, 4);
    MOVE(y, c + 4, 4);
    MOVE(y + 4, c + 12, 4);
    for (int j = 0; j < 8; j++)
        z[j] = zetas[32 + 2 * h + j / 4];
    VECTOR_LOOP
    for (int j = 0; j < 8; j++) {
        t[j] = mont_mul(z[j], y[j]);
        y[j] = (int16_t)(x[j] - t[j]);
        x[j] = (int16_t)(x[j] + t[j]);
    }
    /* length 2: p = c0,c1 of each half-group, q = c2,c3; half-groups in
     * the order (2h, first), (2h + 1, first), (2h, second), (2h + 1, second) */
    pick2(p, x, x + 4, y, y + 4);
    pick2(q, x + 2, x + 6, y + 2, y + 6);
    for (int j = 0; j < 8; j++) /* zetas[64 + 2g] first halves, [65 + 2g] second */
        z[j] = zetas[64 + 4 * h + 2 * ((j / 2) % 2) + j / 4];
    VECTOR_LOOP
    for (int j = 0; j < 8; j++) {
        t[j] = mont_mul(z[j], q[j]);
        q[j] = barrett_reduce((int16_t)(p[j] - t[j]));
        p[j] = barrett_reduce((int16_t)(p[j] + t[j]));
    }
    pick2(c, p, q, p + 4, q + 4);
    pick2(c + 8, p + 2, q + 2, p + 6, q + 6);
}

/* The inverse's first two layers (lengths 2 and 4) for groups 2h and
 * 2h + 1, regrouped as in ntt_last2; the length-4 sums reduced. */
static inline void invntt_first2(int16_t c[16], int h) {
    int16_t p[8], q[8], z[8], s[8], d[8], x[8], y[8];
    pick2(p, c, c + 8, c + 4, c + 12);
    pick2(q, c + 2, c + 10, c + 6, c + 14);
    for (int j = 0; j < 8; j++) /* zetas[127 - 2g] first halves, [126 - 2g] second */
        z[j] = zetas[127 - 4 * h - 2 * ((j / 2) % 2) - j / 4];
    VECTOR_LOOP
    for (int j = 0; j < 8; j++) {
        s[j] = (int16_t)(p[j] + q[j]);
        d[j] = mont_mul(z[j], (int16_t)(q[j] - p[j]));
    }
    /* length 4: x = c0-3 of both groups, y = c4-7 */
    pick2(x, s, d, s + 2, d + 2);
    pick2(y, s + 4, d + 4, s + 6, d + 6);
    for (int j = 0; j < 8; j++)
        z[j] = zetas[63 - 2 * h - j / 4];
    VECTOR_LOOP
    for (int j = 0; j < 8; j++) {
        s[j] = barrett_reduce((int16_t)(x[j] + y[j]));
        d[j] = mont_mul(z[j], (int16_t)(y[j] - x[j]));
    }
    MOVE(c, s, 4);
    MOVE(c + 4, d, 4);
    MOVE(c + 8, s + 4, 4);
    MOVE(c + 12, d + 4, 4);
}
#undef MOVE

/* Layer by layer with constant lengths, so the inner loops vectorise. */
static void poly_ntt_c(poly *p) {
    ntt_layer(p->c, 128, 1);
    ntt_layer(p->c, 64, 2);
    ntt_layer(p->c, 32, 4);
    ntt_layer(p->c, 16, 8);
    ntt_layer(p->c, 8, 16);
    for (int h = 0; h < N / 16; h++)
        ntt_last2(p->c + 16 * h, h);
}

/* reduce: Barrett-reduce the sums. Without it they double, so it is done
 * every other layer: inputs below q give sums below 2q, then 4q, reduced;
 * differences below 4q stay within int16 and Montgomery's bound. */
static inline void invntt_layer(int16_t *c, int len, int z, int reduce) {
    for (int start = 0; start < N; start += 2 * len) {
        int16_t zeta = zetas[z--], *lo = c + start, *hi = lo + len;
        VECTOR_LOOP
        for (int j = 0; j < len; j++) {
            int16_t t = lo[j];
            int16_t sum = (int16_t)(t + hi[j]);
            lo[j] = reduce ? barrett_reduce(sum) : sum;
            hi[j] = mont_mul(zeta, (int16_t)(hi[j] - t));
        }
    }
}

/* In: a row sum (factor R^-1), |c| < q. Out: NTT^-1 without that factor,
 * |c| < q. */
static void poly_invntt_c(poly *p) {
    for (int h = 0; h < N / 16; h++)
        invntt_first2(p->c + 16 * h, h);
    invntt_layer(p->c, 8, 31, 0);
    invntt_layer(p->c, 16, 15, 1);
    invntt_layer(p->c, 32, 7, 0);
    invntt_layer(p->c, 64, 3, 1);
    /* The last layer (ζ = zetas[1]) with the scaling folded in: sums times
     * the scale, differences times ζ·scale (one Montgomery product each). */
    for (int j = 0; j < N / 2; j++) {
        int16_t t = p->c[j], u = p->c[j + N / 2];
        p->c[j] = mont_mul((int16_t)(t + u), INVNTT_SCALE);
        p->c[j + N / 2] = mont_mul((int16_t)(u - t), INVNTT_LAST_ZETA);
    }
}

/* ---- MultiplyNTTs, a row at a time (Algorithms 11 and 12) ---- */

/* Pair i's γ is ζ^(2·BitRev7(i)+1): +zetas[64 + i/2] for even i, minus it
 * for odd i. */
static void poly_make_cache(poly_cache *cache, const poly *b) {
    for (int i = 0; i < N / 4; i++) {
        cache->c[2 * i] = mont_mul(b->c[4 * i + 1], zetas[64 + i]);
        cache->c[2 * i + 1] = mont_mul(b->c[4 * i + 3], (int16_t)-zetas[64 + i]);
    }
}

/* acc += a ∘ b. Bounds: a in [0, 4096) (sampled or decoded), |b| <= (q+1)/2,
 * |cache| < q: each term below 2^24.3, four of them below q · 2^15. */
static void acc_basemul_c(int32_t acc[N], const poly *a, const poly *b, const poly_cache *cache) {
    for (int i = 0; i < N / 2; i++) {
        int32_t a0 = a->c[2 * i], a1 = a->c[2 * i + 1];
        int32_t b0 = b->c[2 * i], b1 = b->c[2 * i + 1];
        acc[2 * i] += a0 * b0 + a1 * cache->c[i];
        acc[2 * i + 1] += a0 * b1 + a1 * b0;
    }
}

static void acc_reduce_c(poly *r, const int32_t acc[N]) {
    for (int i = 0; i < N; i++)
        r->c[i] = mont_reduce(acc[i]);
}

/* ---- AVX2 arithmetic (pq/cpu.h): the same operations as the portable
 * functions above on 16 coefficients at a time, bit for bit the same
 * results (the same products, reductions and their order), so that every
 * bound stated there holds here too. Montgomery products as two 16-bit
 * multiplies each way: high(a·b) - high(low(low(a·b)·q^-1)·q). The NTT's
 * last layers work inside a register: two registers (32 coefficients, four
 * groups of 8) are regrouped with 64- and 32-bit unpacks so that each
 * butterfly's two inputs sit in the same lane of two registers; the twiddle
 * registers for that layout are the tables below (the zetas above, laid
 * out). */
#if PQ_HAVE_AVX2_CODE
#include <immintrin.h>

static const int16_t ntt_z8[8][16] __attribute__((aligned(32))) = {
    {573, 573, 573, 573, 573, 573, 573, 573, -1325, -1325, -1325, -1325, -1325, -1325, -1325,
     -1325},
    {264, 264, 264, 264, 264, 264, 264, 264, 383, 383, 383, 383, 383, 383, 383, 383},
    {-829, -829, -829, -829, -829, -829, -829, -829, 1458, 1458, 1458, 1458, 1458, 1458, 1458,
     1458},
    {-1602, -1602, -1602, -1602, -1602, -1602, -1602, -1602, -130, -130, -130, -130, -130, -130,
     -130, -130},
    {-681, -681, -681, -681, -681, -681, -681, -681, 1017, 1017, 1017, 1017, 1017, 1017, 1017,
     1017},
    {732, 732, 732, 732, 732, 732, 732, 732, 608, 608, 608, 608, 608, 608, 608, 608},
    {-1542, -1542, -1542, -1542, -1542, -1542, -1542, -1542, 411, 411, 411, 411, 411, 411, 411,
     411},
    {-205, -205, -205, -205, -205, -205, -205, -205, -1571, -1571, -1571, -1571, -1571, -1571,
     -1571, -1571},
};
static const int16_t ntt_z4[8][16] __attribute__((aligned(32))) = {
    {1223, 1223, 1223, 1223, -552, -552, -552, -552, 652, 652, 652, 652, 1015, 1015, 1015, 1015},
    {-1293, -1293, -1293, -1293, -282, -282, -282, -282, 1491, 1491, 1491, 1491, -1544, -1544,
     -1544, -1544},
    {516, 516, 516, 516, -320, -320, -320, -320, -8, -8, -8, -8, -666, -666, -666, -666},
    {-1618, -1618, -1618, -1618, 126, 126, 126, 126, -1162, -1162, -1162, -1162, 1469, 1469, 1469,
     1469},
    {-853, -853, -853, -853, -271, -271, -271, -271, -90, -90, -90, -90, 830, 830, 830, 830},
    {107, 107, 107, 107, -247, -247, -247, -247, -1421, -1421, -1421, -1421, -951, -951, -951,
     -951},
    {-398, -398, -398, -398, -1508, -1508, -1508, -1508, 961, 961, 961, 961, -725, -725, -725,
     -725},
    {448, 448, 448, 448, 677, 677, 677, 677, -1065, -1065, -1065, -1065, -1275, -1275, -1275,
     -1275},
};
static const int16_t ntt_z2[8][16] __attribute__((aligned(32))) = {
    {-1103, -1103, -1251, -1251, 430, 430, 871, 871, 555, 555, 1550, 1550, 843, 843, 105, 105},
    {422, 422, -291, -291, 587, 587, -460, -460, 177, 177, 1574, 1574, -235, -235, 1653, 1653},
    {-246, -246, -777, -777, 778, 778, 1483, 1483, 1159, 1159, -602, -602, -147, -147, 1119, 1119},
    {-1590, -1590, 418, 418, 644, 644, 329, 329, -872, -872, -156, -156, 349, 349, -75, -75},
    {817, 817, 1322, 1322, 1097, 1097, -1285, -1285, 603, 603, -1465, -1465, 610, 610, 384, 384},
    {-1215, -1215, -874, -874, -136, -136, 220, 220, 1218, 1218, -1187, -1187, -1335, -1335, -1659,
     -1659},
    {-1185, -1185, -1510, -1510, -1530, -1530, -854, -854, -1278, -1278, -870, -870, 794, 794, 478,
     478},
    {-108, -108, 958, 958, -308, -308, -1460, -1460, 996, 996, 1522, 1522, 991, 991, 1628, 1628},
};
static const int16_t inv_z2[8][16] __attribute__((aligned(32))) = {
    {1628, 1628, 991, 991, 1522, 1522, 996, 996, -1460, -1460, -308, -308, 958, 958, -108, -108},
    {478, 478, 794, 794, -870, -870, -1278, -1278, -854, -854, -1530, -1530, -1510, -1510, -1185,
     -1185},
    {-1659, -1659, -1335, -1335, -1187, -1187, 1218, 1218, 220, 220, -136, -136, -874, -874, -1215,
     -1215},
    {384, 384, 610, 610, -1465, -1465, 603, 603, -1285, -1285, 1097, 1097, 1322, 1322, 817, 817},
    {-75, -75, 349, 349, -156, -156, -872, -872, 329, 329, 644, 644, 418, 418, -1590, -1590},
    {1119, 1119, -147, -147, -602, -602, 1159, 1159, 1483, 1483, 778, 778, -777, -777, -246, -246},
    {1653, 1653, -235, -235, 1574, 1574, 177, 177, -460, -460, 587, 587, -291, -291, 422, 422},
    {105, 105, 843, 843, 1550, 1550, 555, 555, 871, 871, 430, 430, -1251, -1251, -1103, -1103},
};
static const int16_t inv_z4[8][16] __attribute__((aligned(32))) = {
    {-1275, -1275, -1275, -1275, -1065, -1065, -1065, -1065, 677, 677, 677, 677, 448, 448, 448,
     448},
    {-725, -725, -725, -725, 961, 961, 961, 961, -1508, -1508, -1508, -1508, -398, -398, -398,
     -398},
    {-951, -951, -951, -951, -1421, -1421, -1421, -1421, -247, -247, -247, -247, 107, 107, 107,
     107},
    {830, 830, 830, 830, -90, -90, -90, -90, -271, -271, -271, -271, -853, -853, -853, -853},
    {1469, 1469, 1469, 1469, -1162, -1162, -1162, -1162, 126, 126, 126, 126, -1618, -1618, -1618,
     -1618},
    {-666, -666, -666, -666, -8, -8, -8, -8, -320, -320, -320, -320, 516, 516, 516, 516},
    {-1544, -1544, -1544, -1544, 1491, 1491, 1491, 1491, -282, -282, -282, -282, -1293, -1293,
     -1293, -1293},
    {1015, 1015, 1015, 1015, 652, 652, 652, 652, -552, -552, -552, -552, 1223, 1223, 1223, 1223},
};
static const int16_t inv_z8[8][16] __attribute__((aligned(32))) = {
    {-1571, -1571, -1571, -1571, -1571, -1571, -1571, -1571, -205, -205, -205, -205, -205, -205,
     -205, -205},
    {411, 411, 411, 411, 411, 411, 411, 411, -1542, -1542, -1542, -1542, -1542, -1542, -1542,
     -1542},
    {608, 608, 608, 608, 608, 608, 608, 608, 732, 732, 732, 732, 732, 732, 732, 732},
    {1017, 1017, 1017, 1017, 1017, 1017, 1017, 1017, -681, -681, -681, -681, -681, -681, -681,
     -681},
    {-130, -130, -130, -130, -130, -130, -130, -130, -1602, -1602, -1602, -1602, -1602, -1602,
     -1602, -1602},
    {1458, 1458, 1458, 1458, 1458, 1458, 1458, 1458, -829, -829, -829, -829, -829, -829, -829,
     -829},
    {383, 383, 383, 383, 383, 383, 383, 383, 264, 264, 264, 264, 264, 264, 264, 264},
    {-1325, -1325, -1325, -1325, -1325, -1325, -1325, -1325, 573, 573, 573, 573, 573, 573, 573,
     573},
};

PQ_AVX2 static inline __m256i mont_mul_avx2(__m256i a, __m256i b) {
    const __m256i q = _mm256_set1_epi16(Q), qinv = _mm256_set1_epi16((int16_t)QINV);
    __m256i hi = _mm256_mulhi_epi16(a, b);
    __m256i t = _mm256_mullo_epi16(_mm256_mullo_epi16(a, b), qinv);
    return _mm256_sub_epi16(hi, _mm256_mulhi_epi16(t, q));
}

PQ_AVX2 static inline __m256i barrett_avx2(__m256i a) {
    /* t = (high(a·v) + 2^9) >> 10, as barrett_reduce (the same value as
     * (v·a + 2^25) >> 26), then a - t·q */
    const __m256i v = _mm256_set1_epi16(BARRETT_V), q = _mm256_set1_epi16(Q);
    const __m256i round = _mm256_set1_epi16(1 << 9);
    __m256i t = _mm256_srai_epi16(_mm256_add_epi16(_mm256_mulhi_epi16(a, v), round), 10);
    return _mm256_sub_epi16(a, _mm256_mullo_epi16(t, q));
}

PQ_AVX2 static inline __m256i load16(const int16_t *p) {
    return _mm256_loadu_si256((const __m256i *)p);
}
PQ_AVX2 static inline void store16(int16_t *p, __m256i v) {
    _mm256_storeu_si256((__m256i *)p, v);
}

/* 32 coefficients (v0: 0-15, v1: 16-31) regrouped: a = c0-3 of each group
 * of 8, b = c4-7 (lane order: groups 0, 2 | 1, 3). */
PQ_AVX2 static inline void split4(__m256i v0, __m256i v1, __m256i *a, __m256i *b) {
    *a = _mm256_unpacklo_epi64(v0, v1);
    *b = _mm256_unpackhi_epi64(v0, v1);
}
/* a, b as above -> x = c0,c1 (of a's groups) then c4,c5 (b's), y = c2,c3
 * then c6,c7; and back. The dword shuffle 0xd8 swaps dwords 1 and 2. */
PQ_AVX2 static inline void split2(__m256i a, __m256i b, __m256i *x, __m256i *y) {
    a = _mm256_shuffle_epi32(a, 0xd8);
    b = _mm256_shuffle_epi32(b, 0xd8);
    *x = _mm256_unpacklo_epi64(a, b);
    *y = _mm256_unpackhi_epi64(a, b);
}
PQ_AVX2 static inline void join2(__m256i x, __m256i y, __m256i *a, __m256i *b) {
    *a = _mm256_shuffle_epi32(_mm256_unpacklo_epi64(x, y), 0xd8);
    *b = _mm256_shuffle_epi32(_mm256_unpackhi_epi64(x, y), 0xd8);
}

PQ_AVX2 static void poly_ntt_avx2(poly *p) {
    int16_t *c = p->c;
    for (unsigned len = 128, z = 1; len >= 16; len >>= 1) {
        for (unsigned start = 0; start < N; start += 2 * len) {
            const __m256i zeta = _mm256_set1_epi16(zetas[z++]);
            for (unsigned j = start; j < start + len; j += 16) {
                __m256i a = load16(c + j), t = mont_mul_avx2(zeta, load16(c + j + len));
                store16(c + j + len, _mm256_sub_epi16(a, t));
                store16(c + j, _mm256_add_epi16(a, t));
            }
        }
    }
    for (int i = 0; i < 8; i++) {
        __m256i v0 = load16(c + 32 * i), v1 = load16(c + 32 * i + 16), a, b, t, x, y;
        /* len 8: blocks 2i (v0) and 2i+1 (v1), halves against halves */
        a = _mm256_permute2x128_si256(v0, v1, 0x20);
        b = _mm256_permute2x128_si256(v0, v1, 0x31);
        t = mont_mul_avx2(load16(ntt_z8[i]), b);
        b = _mm256_sub_epi16(a, t);
        a = _mm256_add_epi16(a, t);
        v0 = _mm256_permute2x128_si256(a, b, 0x20);
        v1 = _mm256_permute2x128_si256(a, b, 0x31);
        /* len 4 */
        split4(v0, v1, &a, &b);
        t = mont_mul_avx2(load16(ntt_z4[i]), b);
        b = _mm256_sub_epi16(a, t);
        a = _mm256_add_epi16(a, t);
        /* len 2, then the final reduction */
        split2(a, b, &x, &y);
        t = mont_mul_avx2(load16(ntt_z2[i]), y);
        y = barrett_avx2(_mm256_sub_epi16(x, t));
        x = barrett_avx2(_mm256_add_epi16(x, t));
        join2(x, y, &a, &b);
        store16(c + 32 * i, _mm256_unpacklo_epi64(a, b));
        store16(c + 32 * i + 16, _mm256_unpackhi_epi64(a, b));
    }
}

PQ_AVX2 static void poly_invntt_avx2(poly *p) {
    int16_t *c = p->c;
    for (int i = 0; i < 8; i++) {
        __m256i v0 = load16(c + 32 * i), v1 = load16(c + 32 * i + 16), a, b, x, y, s;
        split4(v0, v1, &a, &b);
        split2(a, b, &x, &y);
        /* len 2 */
        s = _mm256_add_epi16(x, y);
        y = mont_mul_avx2(load16(inv_z2[i]), _mm256_sub_epi16(y, x));
        join2(s, y, &a, &b);
        /* len 4, the sums reduced */
        s = barrett_avx2(_mm256_add_epi16(a, b));
        b = mont_mul_avx2(load16(inv_z4[i]), _mm256_sub_epi16(b, a));
        v0 = _mm256_unpacklo_epi64(s, b);
        v1 = _mm256_unpackhi_epi64(s, b);
        /* len 8, not reduced */
        a = _mm256_permute2x128_si256(v0, v1, 0x20);
        b = _mm256_permute2x128_si256(v0, v1, 0x31);
        s = _mm256_add_epi16(a, b);
        b = mont_mul_avx2(load16(inv_z8[i]), _mm256_sub_epi16(b, a));
        store16(c + 32 * i, _mm256_permute2x128_si256(s, b, 0x20));
        store16(c + 32 * i + 16, _mm256_permute2x128_si256(s, b, 0x31));
    }
    /* len 16 (reduced), 32, 64 (reduced), as invntt_layer */
    static const unsigned lens[3] = {16, 32, 64}, z0[3] = {15, 7, 3};
    for (int l = 0; l < 3; l++) {
        unsigned len = lens[l], z = z0[l];
        for (unsigned start = 0; start < N; start += 2 * len) {
            const __m256i zeta = _mm256_set1_epi16(zetas[z--]);
            for (unsigned j = start; j < start + len; j += 16) {
                __m256i t = load16(c + j), u = load16(c + j + len);
                __m256i sum = _mm256_add_epi16(t, u);
                store16(c + j, l != 1 ? barrett_avx2(sum) : sum);
                store16(c + j + len, mont_mul_avx2(zeta, _mm256_sub_epi16(u, t)));
            }
        }
    }
    const __m256i scale = _mm256_set1_epi16(INVNTT_SCALE),
                  last = _mm256_set1_epi16(INVNTT_LAST_ZETA);
    for (int j = 0; j < N / 2; j += 16) {
        __m256i t = load16(c + j), u = load16(c + j + N / 2);
        store16(c + j, mont_mul_avx2(_mm256_add_epi16(t, u), scale));
        store16(c + j + N / 2, mont_mul_avx2(_mm256_sub_epi16(u, t), last));
    }
}

/* acc += a ∘ b with 16-bit multiply-adds: acc[2i] = a0·b0 + a1·γb1 (b's
 * odd coefficient replaced by the cache), acc[2i+1] = a0·b1 + a1·b0 (b's
 * pairs swapped); exact in 32 bits, as the scalar sums. */
PQ_AVX2 static void acc_basemul_avx2(int32_t acc[N], const poly *a, const poly *b,
                                     const poly_cache *cache) {
    for (int i = 0; i < N; i += 16) {
        __m256i va = load16(a->c + i), vb = load16(b->c + i);
        __m256i g = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(cache->c + i / 2)));
        __m256i bg = _mm256_blend_epi16(vb, _mm256_slli_epi32(g, 16), 0xaa);
        __m256i bs = _mm256_or_si256(_mm256_slli_epi32(vb, 16), _mm256_srli_epi32(vb, 16));
        __m256i even = _mm256_madd_epi16(va, bg), odd = _mm256_madd_epi16(va, bs);
        __m256i lo = _mm256_unpacklo_epi32(even, odd), hi = _mm256_unpackhi_epi32(even, odd);
        __m256i *out = (__m256i *)(acc + i);
        _mm256_storeu_si256(out, _mm256_add_epi32(_mm256_loadu_si256(out),
                                                  _mm256_permute2x128_si256(lo, hi, 0x20)));
        _mm256_storeu_si256(out + 1, _mm256_add_epi32(_mm256_loadu_si256(out + 1),
                                                      _mm256_permute2x128_si256(lo, hi, 0x31)));
    }
}

/* mont_reduce of 32-bit sums: t = low(a)·q^-1 mod 2^16, (a - t·q) >> 16. */
PQ_AVX2 static void acc_reduce_avx2(poly *r, const int32_t acc[N]) {
    const __m256i qinv = _mm256_set1_epi32(QINV), q = _mm256_set1_epi32(Q);
    for (int i = 0; i < N; i += 16) {
        __m256i x[2];
        for (int h = 0; h < 2; h++) {
            __m256i a = _mm256_loadu_si256((const __m256i *)(acc + i + 8 * h));
            __m256i t = _mm256_mullo_epi32(a, qinv);
            t = _mm256_srai_epi32(_mm256_slli_epi32(t, 16), 16); /* as int16 */
            x[h] = _mm256_srai_epi32(_mm256_sub_epi32(a, _mm256_mullo_epi32(t, q)), 16);
        }
        /* packs interleaves 128-bit lanes: put them back in order */
        store16(r->c + i, _mm256_permute4x64_epi64(_mm256_packs_epi32(x[0], x[1]), 0xd8));
    }
}
#endif

/* The arithmetic, on the AVX2 path when it is on (pq/cpu.h). */
#if PQ_HAVE_AVX2_CODE
#define PQ_DISPATCH(fn, ...)                                                                       \
    do {                                                                                           \
        if (pq_avx2())                                                                             \
            fn##_avx2(__VA_ARGS__);                                                                \
        else                                                                                       \
            fn##_c(__VA_ARGS__);                                                                   \
    } while (0)
#else
#define PQ_DISPATCH(fn, ...) fn##_c(__VA_ARGS__)
#endif

static void poly_ntt(poly *p) {
    PQ_DISPATCH(poly_ntt, p);
}
static void poly_invntt(poly *p) {
    PQ_DISPATCH(poly_invntt, p);
}
static void acc_basemul(int32_t acc[N], const poly *a, const poly *b, const poly_cache *cache) {
    PQ_DISPATCH(acc_basemul, acc, a, b, cache);
}
static void acc_reduce(poly *r, const int32_t acc[N]) {
    PQ_DISPATCH(acc_reduce, r, acc);
}

/* ---- sampling (Algorithms 7 and 8) ---- */

/* The 12-bit candidates of buf (len a multiple of 3) that are below q,
 * appended to c[0..n-1] until N: the new count. Public data only (branching
 * would be fine); while two more fit, each candidate is stored and kept by
 * advancing n, which has no unpredictable branch. 168-byte blocks are 56
 * triples, so no triple straddles two blocks. */
static unsigned rej_sample(int16_t c[N], unsigned n, const uint8_t *buf, size_t len) {
    size_t pos = 0;
    /* Four candidates (two triples) from one 64-bit little-endian load. */
    for (; n + 4 <= N && pos + 8 <= len; pos += 6) {
        uint64_t w = pq_load64_le(buf + pos);
        uint16_t d[4] = {(uint16_t)(w & 0xfff), (uint16_t)(w >> 12 & 0xfff),
                         (uint16_t)(w >> 24 & 0xfff), (uint16_t)(w >> 36 & 0xfff)};
        for (int i = 0; i < 4; i++) {
            c[n] = (int16_t)d[i];
            n += d[i] < Q;
        }
    }
    for (; n + 2 <= N && pos < len; pos += 3) {
        uint16_t d1 = (uint16_t)(buf[pos] | (buf[pos + 1] & 0x0f) << 8);
        uint16_t d2 = (uint16_t)(buf[pos + 1] >> 4 | buf[pos + 2] << 4);
        c[n] = (int16_t)d1;
        n += d1 < Q;
        c[n] = (int16_t)d2;
        n += d2 < Q;
    }
    for (; n < N && pos < len; pos += 3) {
        uint16_t d1 = (uint16_t)(buf[pos] | (buf[pos + 1] & 0x0f) << 8);
        uint16_t d2 = (uint16_t)(buf[pos + 1] >> 4 | buf[pos + 2] << 4);
        if (d1 < Q) c[n++] = (int16_t)d1;
        if (d2 < Q && n < N) c[n++] = (int16_t)d2;
    }
    return n;
}

#if PQ_HAVE_AVX2_CODE
/* For each 8-bit mask of kept candidates, the byte shuffle that packs
 * those 16-bit lanes to the front (0xff: a zero byte). Generated from its
 * definition. */
static const uint8_t rej_shuffle[256][16] __attribute__((aligned(16))) = {
    {255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 255, 255, 255, 255, 255, 255, 255, 255},
    {8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255},
    {6, 7, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 255, 255, 255, 255, 255, 255},
    {10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {6, 7, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 255, 255, 255, 255, 255, 255},
    {8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255},
    {6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 255, 255, 255, 255},
    {12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {6, 7, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 255, 255, 255, 255, 255, 255},
    {8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255},
    {6, 7, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 255, 255, 255, 255},
    {10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {6, 7, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 255, 255, 255, 255},
    {8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {4, 5, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255},
    {6, 7, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 255, 255},
    {14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {6, 7, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 14, 15, 255, 255, 255, 255, 255, 255},
    {8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255},
    {6, 7, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 14, 15, 255, 255, 255, 255},
    {10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {6, 7, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 14, 15, 255, 255, 255, 255},
    {8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {4, 5, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255},
    {6, 7, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15, 255, 255},
    {12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {4, 5, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, 255, 255, 255, 255},
    {8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {4, 5, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255},
    {6, 7, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255},
    {4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 255, 255},
    {10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {2, 3, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {4, 5, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {6, 7, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 6, 7, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, 255, 255},
    {8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255, 255, 255},
    {0, 1, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255},
    {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255, 255, 255},
    {0, 1, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255},
    {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255, 255, 255},
    {0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255},
    {2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 255},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
};

/* rej_sample on 16 candidates (24 bytes) per step: spread each 12-bit value
 * to a 16-bit lane, compare with q, pack the kept ones with a shuffle from
 * the table. Public data only. Reads up to 8 bytes past len (the caller's
 * buffer has them); leaves the last few values to rej_sample. */
__attribute__((target("avx2,popcnt"))) static unsigned
rej_sample_avx2(int16_t c[N], unsigned n, const uint8_t *buf, size_t len) {
    const __m256i spread = _mm256_setr_epi8(0, 1, 1, 2, 3, 4, 4, 5, 6, 7, 7, 8, 9, 10, 10, 11, 4, 5,
                                            5, 6, 7, 8, 8, 9, 10, 11, 11, 12, 13, 14, 14, 15);
    const __m256i low12 = _mm256_set1_epi16(0x0fff), bound = _mm256_set1_epi16(Q);
    size_t pos = 0;
    for (; n + 16 <= N && pos + 24 <= len; pos += 24) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(buf + pos));
        v = _mm256_shuffle_epi8(_mm256_permute4x64_epi64(v, 0x94), spread);
        v = _mm256_blend_epi16(_mm256_and_si256(v, low12), _mm256_srli_epi16(v, 4), 0xaa);
        __m256i keep = _mm256_cmpgt_epi16(bound, v);
        uint32_t bits = (uint32_t)_mm256_movemask_epi8(_mm256_packs_epi16(keep, keep));
        unsigned m0 = bits & 0xff, m1 = (bits >> 16) & 0xff;
        __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
        _mm_storeu_si128((__m128i *)(c + n),
                         _mm_shuffle_epi8(lo, _mm_load_si128((const __m128i *)rej_shuffle[m0])));
        n += (unsigned)__builtin_popcount(m0);
        _mm_storeu_si128((__m128i *)(c + n),
                         _mm_shuffle_epi8(hi, _mm_load_si128((const __m128i *)rej_shuffle[m1])));
        n += (unsigned)__builtin_popcount(m1);
    }
    return rej_sample(c, n, buf + pos, len - pos);
}
#endif

/* SampleNTT(ρ || x || y), rejection sampling of 12-bit values from
 * SHAKE128, for count (1 to 4) entries at once, xy[j] = (x, y) of p[j], on
 * the four-way SHAKE128 (two-way pairs on the portable path); unused lanes
 * repeat entry 0 and are dropped. */
/* A public hash absorbing its input beside the matrix sampling: when a
 * row leaves an instance of the four-way permutation spare (k = 3), each
 * of its blocks also permutes this sponge there, for free with AVX2 and at
 * a two-way pair's cost instead of a scalar permutation without. */
typedef struct rider {
    keccak_sponge s;
    const uint8_t *in; /* the input not absorbed yet: len bytes there so far */
    size_t len;
    int complete; /* 0 while more input is to come (only whole blocks are taken) */
} rider;

/* SHAKE128 absorbs ρ || x || y for each entry (unused lanes repeat entry
 * 0). Not inlined, so its seeds are off the stack during the squeezing,
 * the deepest part of decapsulation (test_mlkem_stack's 16 KiB). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static void
absorb_seeds(keccak_x4 *s, unsigned count, const uint8_t rho[32], const uint8_t xy[][2]) {
    uint8_t seed[4][34];
    const uint8_t *in[4] = {seed[0], seed[1], seed[2], seed[3]};
    for (unsigned j = 0; j < 4; j++) {
        memcpy(seed[j], rho, 32);
        seed[j][32] = xy[j < count ? j : 0][0];
        seed[j][33] = xy[j < count ? j : 0][1];
    }
    keccak_x4_absorb_once(s, SHAKE128_RATE, in, sizeof seed[0]);
}

static void sample_ntt_x4(poly *const p[], unsigned count, const uint8_t rho[32],
                          const uint8_t xy[][2], rider *r) {
    uint8_t buf[4][SHAKE128_RATE + 8]; /* + 8: rej_sample_avx2 reads ahead */
    uint8_t *out[4] = {buf[0], buf[1], buf[2], buf[3]};
    unsigned n[4] = {0, 0, 0, 0};
    keccak_x4 s;
    absorb_seeds(&s, count, rho, xy);
    for (unsigned j = 0; j < 4; j++)
        memset(buf[j] + SHAKE128_RATE, 0, 8); /* read ahead, never used: defined all the same */
#if PQ_HAVE_AVX2_CODE
    const int avx2 = pq_avx2();
#endif
    for (int more = 1; more;) {
        /* The rider takes instance 3 (unused when count < 4) for this block. */
        const int ride = r != NULL && count < 4 && (r->complete || r->len >= r->s.rate) &&
                         keccak_absorb_step(&r->s, &r->in, &r->len);
        if (ride)
            for (int i = 0; i < 25; i++)
                s.lanes[4 * i + 3] = r->s.lanes[i];
        s.used = ride ? 4 : count;
        keccak_x4_squeeze_block(&s, out);
        if (ride)
            for (int i = 0; i < 25; i++)
                r->s.lanes[i] = s.lanes[4 * i + 3];
        more = 0;
        for (unsigned j = 0; j < count; j++) {
#if PQ_HAVE_AVX2_CODE
            if (avx2)
                n[j] = rej_sample_avx2(p[j]->c, n[j], buf[j], SHAKE128_RATE);
            else
#endif
                n[j] = rej_sample(p[j]->c, n[j], buf[j], SHAKE128_RATE);
            more |= n[j] < N;
        }
    }
}

/* The rest of a rider's (complete) input, scalar, then its first 32
 * output bytes. */
static void rider_finish(rider *r, uint8_t out[32]) {
    r->complete = 1;
    while (keccak_absorb_step(&r->s, &r->in, &r->len))
        keccak_f1600(r->s.lanes);
    keccak_squeeze(&r->s, out, 32);
}

/* SamplePolyCBD_2 of a 128-byte PRF output: each coefficient is
 * (b0 + b1) - (b2 + b3) of one nibble, taken eight at a time from a 32-bit
 * word. */
static inline void cbd2_body(poly *p, const uint8_t buf[128]) {
    for (int i = 0; i < N / 8; i++) {
        uint32_t w = (uint32_t)buf[4 * i] | (uint32_t)buf[4 * i + 1] << 8 |
                     (uint32_t)buf[4 * i + 2] << 16 | (uint32_t)buf[4 * i + 3] << 24;
        uint32_t pairs = (w & 0x55555555u) + ((w >> 1) & 0x55555555u);
        for (int j = 0; j < 8; j++) {
            int16_t a = (int16_t)((pairs >> (4 * j)) & 3),
                    b = (int16_t)((pairs >> (4 * j + 2)) & 3);
            p->c[8 * i + j] = (int16_t)(a - b);
        }
    }
}

#if PQ_HAVE_AVX2_CODE
PQ_AVX2 static void cbd2_avx2(poly *p, const uint8_t buf[128]) {
    cbd2_body(p, buf); /* the same C, vectorised at 256 bits */
}
#endif
static void cbd2_c(poly *p, const uint8_t buf[128]) {
    cbd2_body(p, buf);
}
static void cbd2(poly *p, const uint8_t buf[128]) {
    PQ_DISPATCH(cbd2, p, buf);
}

/* out[i] = SamplePolyCBD_2(PRF_2(seed, nonce + i)) for i < count: four at a
 * time on the four-way SHAKE256 (AVX2, or the portable pairs). */
static void sample_cbd2(poly *const out[], unsigned count, const uint8_t seed[32], uint8_t nonce) {
    uint8_t in[4][33], buf[4][SHAKE256_RATE];
    const uint8_t *ins[4] = {in[0], in[1], in[2], in[3]};
    uint8_t *outs[4] = {buf[0], buf[1], buf[2], buf[3]};
    unsigned i = 0;
    for (; i + 1 < count; i += 4) { /* a lone last one goes the scalar way */
        keccak_x4 s;
        for (unsigned j = 0; j < 4; j++) {
            memcpy(in[j], seed, 32);
            in[j][32] = (uint8_t)(nonce + i + (i + j < count ? j : 0));
        }
        keccak_x4_absorb_once(&s, SHAKE256_RATE, ins, 33);
        s.used = count - i < 4 ? count - i : 4;
        keccak_x4_squeeze_block(&s, outs);
        keccak_x4_wipe(&s);
        for (unsigned j = 0; j < 4 && i + j < count; j++)
            cbd2(out[i + j], buf[j]);
    }
    for (; i < count; i++) {
        keccak_sponge s;
        uint8_t n = (uint8_t)(nonce + i);
        shake256_init(&s);
        keccak_absorb(&s, seed, 32);
        keccak_absorb(&s, &n, 1);
        keccak_squeeze(&s, buf[0], 128);
        keccak_wipe(&s);
        cbd2(out[i], buf[0]);
    }
    crypto_zero(in, sizeof in);
    crypto_zero(buf, sizeof buf);
}

/* ---- encodings (Algorithms 5 and 6, with Compress/Decompress) ---- */

/* ByteEncode_12 of p reduced to [0, q). */
static void poly_encode12(uint8_t out[POLY_BYTES], const poly *p) {
    for (int base = 0; base < N; base += 64) { /* reduce in a loop that vectorises, then pack */
        uint16_t t[64];
        for (int i = 0; i < 64; i++)
            t[i] = to_unsigned(barrett_reduce(p->c[base + i]));
        for (int i = 0; i < 32; i++) {
            out[3 * i] = (uint8_t)t[2 * i];
            out[3 * i + 1] = (uint8_t)(t[2 * i] >> 8 | t[2 * i + 1] << 4);
            out[3 * i + 2] = (uint8_t)(t[2 * i + 1] >> 4);
        }
        out += 96;
    }
}

/* ByteDecode_12: values in [0, 4096); the caller checks them against q. */
static void poly_decode12(poly *p, const uint8_t in[POLY_BYTES]) {
    for (int i = 0; i < N / 2; i++) {
        p->c[2 * i] = (int16_t)(in[3 * i] | (in[3 * i + 1] & 0x0f) << 8);
        p->c[2 * i + 1] = (int16_t)(in[3 * i + 1] >> 4 | in[3 * i + 2] << 4);
    }
}

/* 1 when some 12-bit value of the encoding is >= q, else 0; no branch. */
static uint32_t encoding_unreduced(const uint8_t *in, size_t polys) {
    uint32_t bad = 0;
    for (size_t i = 0; i < polys * N / 2; i++) {
        uint32_t d1 = in[3 * i] | (uint32_t)(in[3 * i + 1] & 0x0f) << 8;
        uint32_t d2 = (uint32_t)in[3 * i + 1] >> 4 | (uint32_t)in[3 * i + 2] << 4;
        bad |= ((Q - 1) - d1) | ((Q - 1) - d2); /* wraps (top bit set) when >= q */
    }
    return bad >> 31;
}

/* n (at most 8) little-endian bytes to and from the low bits of a word:
 * one or two accesses on a little-endian host. */
static inline void store_le(uint8_t *out, uint64_t v, unsigned n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(out, &v, n);
#else
    for (unsigned b = 0; b < n; b++)
        out[b] = (uint8_t)(v >> (8 * b));
#endif
}

static inline uint64_t load_le(const uint8_t *in, unsigned n) {
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, in, n);
#else
    for (unsigned b = n; b-- > 0;)
        v = v << 8 | in[b];
#endif
    return v;
}

/* ByteEncode_d of 8 values below 2^d: d bytes. The values go into two
 * words of 4 (4d bits each, at most 48); when 8d > 64 they are written
 * one after the other, through a shared half byte when d is odd. */
static inline void pack8(uint8_t *out, const uint16_t t[8], unsigned d) {
    uint64_t lo = 0, hi = 0;
    for (unsigned i = 0; i < 4; i++) {
        lo |= (uint64_t)t[i] << (d * i);
        hi |= (uint64_t)t[i + 4] << (d * i);
    }
    if (8 * d <= 64) {
        store_le(out, lo | hi << (4 * d), d);
    } else {
        const unsigned nb = (4 * d) / 8; /* whole bytes of lo */
        store_le(out, lo, nb);
        store_le(out + nb, lo >> (8 * nb) | hi << (4 * d - 8 * nb), d - nb);
    }
}

/* ByteDecode_d of d bytes: 8 values. */
static inline void unpack8(uint16_t t[8], const uint8_t *in, unsigned d) {
    const uint64_t mask = (1u << d) - 1;
    uint64_t lo, hi;
    if (8 * d <= 64) {
        lo = load_le(in, d);
        hi = lo >> (4 * d);
    } else {
        const unsigned nb = (4 * d) / 8;
        uint64_t rest = load_le(in + nb, d - nb);
        lo = load_le(in, nb) | rest << (8 * nb);
        hi = rest >> (4 * d - 8 * nb);
    }
    for (unsigned i = 0; i < 4; i++) {
        t[i] = (uint16_t)(lo >> (d * i) & mask);
        t[i + 4] = (uint16_t)(hi >> (d * i) & mask);
    }
}

/* ByteEncode_d(Compress_d(p)): 32·d bytes, 8 coefficients (d bytes) at a
 * time, compressed 64 at a time first (a loop that vectorises). Shifts
 * depend on d only. */
static inline void compress_encode_d(uint8_t *out, const poly *p, unsigned d) {
    for (int base = 0; base < N; base += 64) {
        uint16_t t[64];
        for (int i = 0; i < 64; i++)
            t[i] = (uint16_t)compress(to_unsigned(barrett_reduce(p->c[base + i])), d);
        for (int g = 0; g < 8; g++) {
            pack8(out, t + 8 * g, d);
            out += d;
        }
    }
}

/* One copy per d, so that its loops are specialised (compression first,
 * in a loop that vectorises, then the packing); the AVX2 path has its own
 * copies, the same C vectorised at 256 bits by the compiler. */
#define COMPRESS_ENCODE_BY_D(out, p, d)                                                            \
    switch (d) {                                                                                   \
    case 4:                                                                                        \
        compress_encode_d(out, p, 4);                                                              \
        break;                                                                                     \
    case 5:                                                                                        \
        compress_encode_d(out, p, 5);                                                              \
        break;                                                                                     \
    case 10:                                                                                       \
        compress_encode_d(out, p, 10);                                                             \
        break;                                                                                     \
    default:                                                                                       \
        compress_encode_d(out, p, 11);                                                             \
        break;                                                                                     \
    }

#if PQ_HAVE_AVX2_CODE
PQ_AVX2 static void poly_compress_encode_avx2(uint8_t *out, const poly *p, unsigned d) {
    COMPRESS_ENCODE_BY_D(out, p, d)
}
#endif

static void poly_compress_encode_c(uint8_t *out, const poly *p, unsigned d) {
    COMPRESS_ENCODE_BY_D(out, p, d)
}

static void poly_compress_encode(uint8_t *out, const poly *p, unsigned d) {
    PQ_DISPATCH(poly_compress_encode, out, p, d);
}

/* Decompress_d(ByteDecode_d(in)): every d-bit value is valid for d < 12. */
static inline void decode_decompress_d(poly *p, const uint8_t *in, unsigned d) {
    for (int base = 0; base < N; base += 64) {
        uint16_t t[64];
        for (int g = 0; g < 8; g++) {
            unpack8(t + 8 * g, in, d);
            in += d;
        }
        for (int i = 0; i < 64; i++)
            p->c[base + i] = decompress(t[i], d);
    }
}

static void poly_decode_decompress(poly *p, const uint8_t *in, unsigned d) {
    switch (d) {
    case 4:
        decode_decompress_d(p, in, 4);
        break;
    case 5:
        decode_decompress_d(p, in, 5);
        break;
    case 10:
        decode_decompress_d(p, in, 10);
        break;
    default:
        decode_decompress_d(p, in, 11);
        break;
    }
}

/* Decompress_1(ByteDecode_1(m)): bit → 0 or (q+1)/2 by a mask. */
static void poly_from_message(poly *p, const uint8_t m[32]) {
    for (int i = 0; i < N; i++) {
        int16_t bit = (int16_t)((m[i / 8] >> (i % 8)) & 1);
        p->c[i] = (int16_t)(-bit & ((Q + 1) / 2));
    }
}

/* ByteEncode_1(Compress_1(p)). */
static void poly_to_message(uint8_t m[32], const poly *p) {
    memset(m, 0, 32);
    for (int i = 0; i < N; i++)
        m[i / 8] |= (uint8_t)(compress(to_unsigned(barrett_reduce(p->c[i])), 1) << (i % 8));
}

/* ---- K-PKE (Algorithms 13 to 15) ---- */

/* A prepared key's vectors (mlkem.h), polynomial by polynomial. */
static inline const int16_t *prep_s(const int16_t *v, unsigned i) {
    return v + N * i;
}
static inline const int16_t *prep_t(const int16_t *v, unsigned k, unsigned i) {
    return v + N * (k + i);
}
static inline const int16_t *prep_a(const int16_t *v, unsigned k, unsigned i, unsigned j) {
    return v + N * (2 * k + k * i + j); /* A-hat[i][j] */
}

/* A-hat's row i (keygen: A-hat[i][j] = SampleNTT(ρ || j || i)) or A-hat^T's
 * (encryption: A-hat[j][i] = SampleNTT(ρ || i || j)), j = 0..k-1: from the
 * prepared key when there is one, else sampled into buf. */
static void matrix_row(const params *pr, const uint8_t *rho, const int16_t *prep, unsigned i,
                       int transposed, poly buf[MAX_K], const poly *row[MAX_K], rider *r) {
    const unsigned k = pr->k;
    if (prep != NULL) {
        for (unsigned j = 0; j < k; j++)
            row[j] = (const poly *)(transposed ? prep_a(prep, k, j, i) : prep_a(prep, k, i, j));
        return;
    }
    uint8_t xy[MAX_K][2];
    poly *out[MAX_K];
    for (unsigned j = 0; j < k; j++) {
        xy[j][0] = (uint8_t)(transposed ? i : j);
        xy[j][1] = (uint8_t)(transposed ? j : i);
        out[j] = &buf[j];
        row[j] = &buf[j];
    }
    sample_ntt_x4(out, k, rho, xy, r);
}

/* p reduced to [0, q), as ByteDecode_12(ByteEncode_12(p)) gives it. */
static void poly_store_reduced(int16_t *out, const poly *p) {
    for (int i = 0; i < N; i++)
        out[i] = (int16_t)to_unsigned(barrett_reduce(p->c[i]));
}

/* K-PKE.KeyGen: ek = ByteEncode_12(t-hat) || ρ, dk_pke = ByteEncode_12(s-hat)
 * (when dk_pke is not NULL); prep (when not NULL) receives s-hat, t-hat and
 * A-hat as a prepared key holds them; ek_hash H(ek), for ML-KEM. */
static void pke_keygen(const params *pr, const uint8_t d[32], uint8_t *ek, uint8_t *dk_pke,
                       int16_t *prep, uint8_t ek_hash[32]) {
    const unsigned k = pr->k;
    uint8_t g_in[33], rho_sigma[64];
    poly s[MAX_K], e[MAX_K], t, a[MAX_K];
    poly *noise[2 * MAX_K] = {0};
    const poly *row[MAX_K];
    poly_cache s_cache[MAX_K];
    int32_t acc[N];

    memcpy(g_in, d, 32);
    g_in[32] = (uint8_t)k; /* domain separation by k (FIPS 203 final) */
    sha3_512(g_in, sizeof g_in, rho_sigma);
    const uint8_t *rho = rho_sigma, *sigma = rho_sigma + 32;
    DECLASSIFY(rho_sigma, 32); /* ρ is published in ek */

    for (unsigned i = 0; i < k; i++) {
        noise[i] = &s[i];     /* nonces 0..k-1 */
        noise[k + i] = &e[i]; /* k..2k-1 */
    }
    sample_cbd2(noise, 2 * k, sigma, 0);
    for (unsigned i = 0; i < k; i++) {
        poly_ntt(&s[i]);
        poly_make_cache(&s_cache[i], &s[i]);
    }
    /* H(ek) rides along the matrix sampling, on the part of ek written so far */
    rider rd = {.in = ek, .len = 0, .complete = 0};
    sha3_256_init(&rd.s);
    for (unsigned i = 0; i < k; i++) {
        matrix_row(pr, rho, NULL, i, 0, a, row, &rd);
        memset(acc, 0, sizeof acc);
        for (unsigned j = 0; j < k; j++) {
            acc_basemul(acc, row[j], &s[j], &s_cache[j]);
            if (prep != NULL) memcpy(prep + N * (2 * k + k * i + j), row[j]->c, sizeof(poly));
        }
        acc_reduce(&t, acc);
        for (int c = 0; c < N; c++)
            t.c[c] = mont_mul(t.c[c], R2_MOD_Q);
        poly_ntt(&e[i]);
        poly_add(&t, &e[i]);
        poly_encode12(ek + POLY_BYTES * i, &t);
        rd.len += POLY_BYTES;
        if (prep != NULL) poly_store_reduced(prep + N * (k + i), &t);
    }
    memcpy(ek + POLY_BYTES * k, rho, 32);
    rd.len += 32;
    rider_finish(&rd, ek_hash);
    for (unsigned i = 0; i < k; i++) {
        if (dk_pke != NULL) poly_encode12(dk_pke + POLY_BYTES * i, &s[i]);
        if (prep != NULL) poly_store_reduced(prep + N * i, &s[i]);
    }

    crypto_zero(g_in, sizeof g_in);
    crypto_zero(rho_sigma, sizeof rho_sigma);
    crypto_zero(s, sizeof s);
    crypto_zero(s_cache, sizeof s_cache);
    crypto_zero(e, sizeof e);
    crypto_zero(&t, sizeof t);
    crypto_zero(acc, sizeof acc);
}

/* K-PKE.Encrypt(ek, m, r) -> ct; ek passed the modulus check. With prep,
 * t-hat and A-hat come from the prepared key and ek is not read. rd (or
 * NULL) rides along the matrix sampling. */
/* ct[off..] = ByteEncode_d(Compress_d(p)); or, with cmp (decapsulation's
 * re-encryption), the encoding is only compared with cmp[off..], the
 * difference ORed into *diff, so that no second ciphertext is kept. */
static void emit(uint8_t *ct, const uint8_t *cmp, uint32_t *diff, size_t off, const poly *p,
                 unsigned d) {
    if (cmp == NULL) {
        poly_compress_encode(ct + off, p, d);
        return;
    }
    uint8_t enc[32 * 11];
    poly_compress_encode(enc, p, d);
    for (size_t i = 0; i < 32 * d; i++)
        *diff |= enc[i] ^ cmp[off + i];
    crypto_zero(enc, sizeof enc);
}

static void pke_encrypt(const params *pr, const uint8_t *ek, const int16_t *prep,
                        const uint8_t m[32], const uint8_t r[32], uint8_t *ct, const uint8_t *cmp,
                        uint32_t *diff, rider *rd) {
    const unsigned k = pr->k;
    const uint8_t *rho = prep ? NULL : ek + POLY_BYTES * k;
    poly r_hat[MAX_K], a[MAX_K], u[MAX_K], e;
    poly *noise[2 * MAX_K + 1] = {0};
    const poly *row[MAX_K];
    poly_cache r_cache[MAX_K];
    int32_t acc[N];

    /* r (nonces 0..k-1), e1 into u (k..2k-1), e2 (2k) */
    for (unsigned i = 0; i < k; i++) {
        noise[i] = &r_hat[i];
        noise[k + i] = &u[i];
    }
    noise[2 * k] = &e;
    sample_cbd2(noise, 2 * k + 1, r, 0);
    for (unsigned i = 0; i < k; i++) {
        poly_ntt(&r_hat[i]);
        poly_make_cache(&r_cache[i], &r_hat[i]);
    }
    /* u = NTT^-1(A-hat^T ∘ r-hat) + e1 */
    for (unsigned i = 0; i < k; i++) {
        matrix_row(pr, rho, prep, i, 1, a, row, rd);
        memset(acc, 0, sizeof acc);
        for (unsigned j = 0; j < k; j++)
            acc_basemul(acc, row[j], &r_hat[j], &r_cache[j]);
        acc_reduce(&a[0], acc); /* the row is used: a[0] is free */
        poly_invntt(&a[0]);
        poly_add(&u[i], &a[0]);
        emit(ct, cmp, diff, 32 * pr->du * i, &u[i], pr->du);
    }
    /* v = NTT^-1(t-hat^T ∘ r-hat) + e2 + Decompress_1(m) */
    memset(acc, 0, sizeof acc);
    for (unsigned j = 0; j < k; j++) {
        const poly *t = (const poly *)(prep ? prep_t(prep, k, j) : NULL);
        if (t == NULL) {
            poly_decode12(&a[0], ek + POLY_BYTES * j);
            t = &a[0];
        }
        acc_basemul(acc, t, &r_hat[j], &r_cache[j]);
    }
    acc_reduce(&u[0], acc);
    poly_invntt(&u[0]);
    poly_add(&u[0], &e);
    poly_from_message(&e, m);
    poly_add(&u[0], &e);
    emit(ct, cmp, diff, 32 * pr->du * k, &u[0], pr->dv);

    crypto_zero(r_hat, sizeof r_hat);
    crypto_zero(r_cache, sizeof r_cache);
    crypto_zero(a, sizeof a);
    crypto_zero(u, sizeof u);
    crypto_zero(&e, sizeof e);
    crypto_zero(acc, sizeof acc);
}

/* K-PKE.Decrypt(dk_pke, ct) -> m, s-hat from dk_pke or from prep. */
static void pke_decrypt(const params *pr, const uint8_t *dk_pke, const int16_t *prep,
                        const uint8_t *ct, uint8_t m[32]) {
    const unsigned k = pr->k;
    poly u, s, w;
    poly_cache u_cache;
    int32_t acc[N];

    memset(acc, 0, sizeof acc);
    for (unsigned i = 0; i < k; i++) {
        poly_decode_decompress(&u, ct + 32 * pr->du * i, pr->du);
        poly_ntt(&u);
        poly_make_cache(&u_cache, &u);
        if (prep != NULL)
            acc_basemul(acc, (const poly *)prep_s(prep, i), &u, &u_cache);
        else {
            poly_decode12(&s, dk_pke + POLY_BYTES * i);
            acc_basemul(acc, &s, &u, &u_cache);
        }
    }
    acc_reduce(&w, acc);
    poly_invntt(&w);
    poly_decode_decompress(&u, ct + 32 * pr->du * k, pr->dv);
    for (int i = 0; i < N; i++)
        w.c[i] = (int16_t)(u.c[i] - w.c[i]); /* v' - s^T u' */
    poly_to_message(m, &w);

    crypto_zero(&s, sizeof s);
    crypto_zero(&w, sizeof w);
    crypto_zero(acc, sizeof acc);
}

/* ---- ML-KEM (Algorithms 16 to 18) ---- */

size_t mlkem_dkey_bytes(mlkem_kind kind) {
    const unsigned k = params_of(kind).k;
    return sizeof(mlkem_dkey) + sizeof(poly) * (2 * k + k * k);
}

void mlkem_keygen(mlkem_kind kind, const uint8_t seed[64], uint8_t *ek, uint8_t *dk) {
    const params pr = params_of(kind);
    const size_t ek_len = POLY_BYTES * pr.k + 32;
    pke_keygen(&pr, seed, ek, dk, NULL, dk + POLY_BYTES * pr.k + ek_len); /* H(ek) */
    memcpy(dk + POLY_BYTES * pr.k, ek, ek_len);
    memcpy(dk + POLY_BYTES * pr.k + ek_len + 32, seed + 32, 32); /* z */
}

void mlkem_keygen_prepared(mlkem_kind kind, const uint8_t seed[64], uint8_t *ek, mlkem_dkey *key) {
    const params pr = params_of(kind);
    key->kind = kind;
    pke_keygen(&pr, seed, ek, NULL, key->v, key->h);
    memcpy(key->z, seed + 32, 32);
}

int mlkem_encaps(mlkem_kind kind, const uint8_t *ek, const uint8_t m[32], uint8_t *ct,
                 uint8_t ss[32]) {
    const params pr = params_of(kind);
    const size_t ek_len = POLY_BYTES * pr.k + 32;
    if (encoding_unreduced(ek, pr.k)) { /* §7.2 modulus check; ek is public */
        memset(ct, 0, mlkem_ct_bytes(kind));
        memset(ss, 0, 32);
        return -1;
    }
    uint8_t g_in[64], k_r[64];
    memcpy(g_in, m, 32);
    sha3_256(ek, ek_len, g_in + 32);
    sha3_512(g_in, sizeof g_in, k_r); /* (K, r) = G(m || H(ek)) */
    pke_encrypt(&pr, ek, NULL, m, k_r + 32, ct, NULL, NULL, NULL);
    memcpy(ss, k_r, 32);
    crypto_zero(g_in, sizeof g_in);
    crypto_zero(k_r, sizeof k_r);
    return 0;
}

/* 1 when the 32-byte hashes differ, else 0; no branch. */
static uint32_t hash_differs(const uint8_t a[32], const uint8_t b[32]) {
    uint32_t diff = 0;
    for (int i = 0; i < 32; i++)
        diff |= a[i] ^ b[i];
    return (0u - diff) >> 31;
}

/* §7.3 on an encoded dk, without a branch: 1 when H(ek) != h or (beyond
 * §7.3) s-hat holds a coefficient not below q, else 0. */
static uint32_t dk_check(const params *pr, const uint8_t *dk) {
    const size_t ek_len = POLY_BYTES * pr->k + 32;
    const uint8_t *ek = dk + POLY_BYTES * pr->k, *h = ek + ek_len;
    uint8_t ek_hash[32];
    DECLASSIFY(ek + POLY_BYTES * pr->k, 32); /* ρ, public: the matrix sampling branches on it */
    sha3_256(ek, ek_len, ek_hash);
    return hash_differs(ek_hash, h) | encoding_unreduced(dk, pr->k);
}

/* K-bar = J(z || c). Not inlined: its sponge is then off the stack before
 * the re-encryption, the deepest part of decapsulation (test_mlkem_stack
 * holds it under 16 KiB with clang too). */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline))
#endif
static void
j_hash(const uint8_t z[32], const uint8_t *ct, size_t ct_len, uint8_t out[32]) {
    keccak_sponge j;
    shake256_init(&j);
    keccak_absorb(&j, z, 32);
    keccak_absorb(&j, ct, ct_len);
    keccak_squeeze(&j, out, 32);
    keccak_wipe(&j);
}

/* Decaps_internal after the key checks (bad: their result, 0 or 1), from the
 * encodings (dk_pke, ek) or from a prepared key's vectors (prep). With rd,
 * the check H(ek) = h is still to be made: the hash rides along the
 * re-encryption's matrix sampling and joins bad at the end. */
static int decaps_core(const params *pr, const uint8_t *dk_pke, const uint8_t *ek,
                       const int16_t *prep, const uint8_t h[32], const uint8_t z[32],
                       const uint8_t *ct, uint32_t bad, rider *rd, uint8_t ss[32]) {
    const size_t ct_len = 32 * (pr->du * pr->k + pr->dv);
    uint8_t g_in[64], k_r[64], k_bar[32];

    pke_decrypt(pr, dk_pke, prep, ct, g_in); /* m' */
    memcpy(g_in + 32, h, 32);
    sha3_512(g_in, sizeof g_in, k_r); /* (K', r') = G(m' || h) */

    j_hash(z, ct, ct_len, k_bar);

    uint32_t diff = 0; /* c against c' = K-PKE.Encrypt(ek, m', r'), as it is encoded */
    pke_encrypt(pr, ek, prep, g_in, k_r + 32, NULL, ct, &diff, rd);
    if (rd != NULL) {
        uint8_t ek_hash[32];
        rider_finish(rd, ek_hash);
        bad |= hash_differs(ek_hash, h);
    }
    /* reject = 0xff..ff when c != c'; fail = 0xff..ff when dk is bad. */
    uint32_t reject = value_barrier(0u - ((0u - diff) >> 31));
    uint32_t fail = value_barrier(0u - bad);
    for (int i = 0; i < 32; i++)
        ss[i] = (uint8_t)(((k_r[i] & ~reject) | (k_bar[i] & reject)) & ~fail);

    crypto_zero(g_in, sizeof g_in);
    crypto_zero(k_r, sizeof k_r);
    crypto_zero(k_bar, sizeof k_bar);
    return -(int)(fail & 1); /* 0 or -1 */
}

int mlkem_decaps(mlkem_kind kind, const uint8_t *dk, const uint8_t *ct, uint8_t ss[32]) {
    const params pr = params_of(kind);
    const size_t ek_len = POLY_BYTES * pr.k + 32;
    const uint8_t *ek = dk + POLY_BYTES * pr.k, *h = ek + ek_len;
    DECLASSIFY(ek + POLY_BYTES * pr.k, 32); /* ρ, public: the matrix sampling branches on it */
    /* H(ek) for §7.3, computed beside the re-encryption's matrix sampling */
    rider rd = {.in = ek, .len = ek_len, .complete = 1};
    sha3_256_init(&rd.s);
    return decaps_core(&pr, dk, ek, NULL, h, h + 32, ct, encoding_unreduced(dk, pr.k), &rd, ss);
}

int mlkem_dkey_from_dk(mlkem_kind kind, const uint8_t *dk, mlkem_dkey *key) {
    const params pr = params_of(kind);
    const unsigned k = pr.k;
    const uint8_t *ek = dk + POLY_BYTES * k, *h = ek + POLY_BYTES * k + 32;
    uint32_t bad = value_barrier(dk_check(&pr, dk));
    poly a[MAX_K];
    const poly *row[MAX_K];
    key->kind = kind;
    for (unsigned i = 0; i < k; i++) {
        poly_decode12((poly *)prep_s(key->v, i), dk + POLY_BYTES * i);
        poly_decode12((poly *)prep_t(key->v, k, i), ek + POLY_BYTES * i);
        matrix_row(&pr, ek + POLY_BYTES * k, NULL, i, 0, a, row, NULL);
        for (unsigned j = 0; j < k; j++)
            memcpy((int16_t *)prep_a(key->v, k, i, j), row[j]->c, sizeof(poly));
    }
    memcpy(key->h, h, 32);
    memcpy(key->z, h + 32, 32);
    /* A key that failed the checks is not kept: no branch on it (the
     * result is public, like mlkem_decaps's). */
    uint8_t *bytes = (uint8_t *)key->v;
    const uint8_t keep = (uint8_t)(bad - 1); /* 0xff when good */
    for (size_t i = 0; i < sizeof(poly) * (2 * k + k * k); i++)
        bytes[i] &= keep;
    for (int i = 0; i < 32; i++) {
        key->h[i] &= keep;
        key->z[i] &= keep;
    }
    return -(int)(bad & 1);
}

int mlkem_decaps_prepared(const mlkem_dkey *key, const uint8_t *ct, uint8_t ss[32]) {
    const params pr = params_of(key->kind);
    return decaps_core(&pr, NULL, NULL, key->v, key->h, key->z, ct, 0, NULL, ss);
}
