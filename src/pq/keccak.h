/* Keccak-f[1600] and the FIPS 202 functions ML-KEM needs: SHA3-256,
 * SHA3-512 and the SHAKE128/SHAKE256 extendable-output functions with
 * incremental absorb and squeeze. Written from FIPS 202; no allocation, the
 * state is 200 bytes plus bookkeeping and lives wherever the caller puts it.
 * Callers that absorbed secrets wipe the state with keccak_wipe(). */
#ifndef CERTA_PQ_KECCAK_H
#define CERTA_PQ_KECCAK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define SHA3_256_RATE 136
#define SHA3_512_RATE 72
#define SHAKE128_RATE 168
#define SHAKE256_RATE 136

/* Little-endian 64-bit loads and stores at any alignment: one memory
 * access where the host is little-endian, else byte by byte (compilers do
 * not always merge the byte loop into one access). */
static inline uint64_t pq_load64_le(const uint8_t *p) {
    uint64_t v = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(&v, p, 8);
#else
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
#endif
    return v;
}

static inline void pq_store64_le(uint8_t *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
#endif
}

typedef struct keccak_sponge {
    uint64_t lanes[25]; /* lane (x, y) at x + 5y, bytes little-endian (FIPS 202 §3.1.2) */
    unsigned rate;      /* bytes absorbed or squeezed per permutation */
    unsigned pos;       /* byte offset in the current block */
    uint8_t suffix;     /* domain bits and the first padding bit: 0x06 SHA-3, 0x1f SHAKE */
    uint8_t squeezing;  /* padded already: further calls squeeze */
} keccak_sponge;

void keccak_f1600(uint64_t lanes[25]);

void shake128_init(keccak_sponge *s);
void shake256_init(keccak_sponge *s);
void sha3_256_init(keccak_sponge *s);
/* Absorb may be called any number of times before the first squeeze. */
void keccak_absorb(keccak_sponge *s, const uint8_t *in, size_t len);
/* Pads on the first call; then returns the output stream in any split. */
void keccak_squeeze(keccak_sponge *s, uint8_t *out, size_t len);
/* Whole rate-sized blocks straight from the state (SHAKE128 matrix sampling);
 * only right after the last absorb or another squeeze_blocks. */
void keccak_squeeze_blocks(keccak_sponge *s, uint8_t *out, size_t blocks);
void keccak_wipe(keccak_sponge *s);

/* Absorbing all of (*in, *len) with each permutation left to the caller,
 * so that it can run beside other work (a spare instance of the four-way
 * permutation): XORs the next block, or the last partial one with the
 * padding, into s->lanes and advances *in and *len; returns 1 when the
 * caller is to permute s->lanes now, 0 once everything is absorbed (the
 * sponge is then squeezing). Starts on a fresh sponge. */
int keccak_absorb_step(keccak_sponge *s, const uint8_t **in, size_t *len);

/* Four SHAKE128 or SHAKE256 instances side by side (the AVX2 permutation
 * when pq_avx2(), else two-way portable ones on instances 0-1 and 2-3):
 * each absorbs one input of the same length, below the rate (SHAKE128_RATE
 * or SHAKE256_RATE), then squeezes a rate-sized block per call. Lane i of
 * instance j is lanes[4i + j]. used (4 after absorbing) may be lowered by
 * the caller: only instances below it are squeezed (the portable code then
 * skips the pair 2-3 when used <= 2). */
typedef struct keccak_x4 {
    uint64_t lanes[25 * 4];
    unsigned rate;
    unsigned used;
} keccak_x4;

void keccak_f1600_x4(uint64_t lanes[100]);
/* The same on instances 0..used-1 at least (AVX2: always all four). */
void keccak_f1600_x4_n(uint64_t lanes[100], unsigned used);
void keccak_x4_absorb_once(keccak_x4 *s, unsigned rate, const uint8_t *const in[4], size_t len);
void keccak_x4_squeeze_block(keccak_x4 *s, uint8_t *const out[4]);
void keccak_x4_wipe(keccak_x4 *s);

void sha3_256(const uint8_t *in, size_t len, uint8_t out[32]);
void sha3_512(const uint8_t *in, size_t len, uint8_t out[64]);
void shake256(const uint8_t *in, size_t len, uint8_t *out, size_t out_len);

#endif
