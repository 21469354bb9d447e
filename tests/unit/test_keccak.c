/* Keccak-f[1600], SHA3-256/512 and SHAKE128/256 (src/pq/keccak.c): FIPS 202
 * known answers, then libcrypto's EVP as a second implementation on random
 * inputs of every length around the block sizes (0..3 blocks and more), with
 * absorb and squeeze split at random points and outputs several blocks long.
 * Then the four-way permutation and sponge (keccak_x4, AVX2 when the CPU has
 * it) against the scalar one, on the AVX2 and the portable path. */
#include "pq/cpu.h"
#include "pq/keccak.h"
#include "testlib.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

static void evp_digest(const EVP_MD *md, const uint8_t *in, size_t len, uint8_t *out,
                       size_t out_len) {
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || !EVP_DigestInit_ex(ctx, md, NULL) || !EVP_DigestUpdate(ctx, in, len))
        abort();
    if (EVP_MD_get_flags(md) & EVP_MD_FLAG_XOF) {
        if (!EVP_DigestFinalXOF(ctx, out, out_len)) abort();
    } else {
        unsigned n = 0;
        if (!EVP_DigestFinal_ex(ctx, out, &n) || n != out_len) abort();
    }
    EVP_MD_CTX_free(ctx);
}

static size_t rnd(size_t bound) {
    uint32_t v;
    if (RAND_bytes((uint8_t *)&v, sizeof v) != 1) abort();
    return bound ? v % bound : 0;
}

/* Absorbs in random pieces and squeezes in random pieces. */
static void split_shake(int bits, const uint8_t *in, size_t len, uint8_t *out, size_t out_len) {
    keccak_sponge s;
    if (bits == 128)
        shake128_init(&s);
    else
        shake256_init(&s);
    size_t done = 0;
    while (done < len) {
        size_t n = 1 + rnd(len - done);
        keccak_absorb(&s, in + done, n);
        done += n;
    }
    done = 0;
    while (done < out_len) {
        size_t n = 1 + rnd(out_len - done);
        keccak_squeeze(&s, out + done, n);
        done += n;
    }
}

static void known_answers(void) {
    uint8_t out[200];
    const uint8_t abc[] = "abc";
    uint64_t lanes[25] = {0};
    keccak_f1600(lanes);
    CHECK(lanes[0] == 0xf1258f7940e1dde7ULL && lanes[24] == 0xeaf1ff7b5ceca249ULL,
          "Keccak-f[1600] of the zero state (FIPS 202 example, first and last lane)");
    sha3_256(NULL, 0, out);
    CHECK_HEX(out, 32, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a",
              "SHA3-256(\"\")");
    sha3_256(abc, 3, out);
    CHECK_HEX(out, 32, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532",
              "SHA3-256(\"abc\")");
    sha3_512(NULL, 0, out);
    CHECK_HEX(out, 64,
              "a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a6"
              "15b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26",
              "SHA3-512(\"\")");
    sha3_512(abc, 3, out);
    CHECK_HEX(out, 64,
              "b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e"
              "10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0",
              "SHA3-512(\"abc\")");
    keccak_sponge s;
    shake128_init(&s);
    keccak_squeeze(&s, out, 32);
    CHECK_HEX(out, 32, "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26",
              "SHAKE128(\"\", 256 bits)");
    shake256(NULL, 0, out, 64);
    CHECK_HEX(out, 64,
              "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f"
              "d75dc4ddd8c0f200cb05019d67b592f6fc821c49479ab48640292eacb3b7c4be",
              "SHAKE256(\"\", 512 bits)");
}

static void against_libcrypto(void) {
    static uint8_t in[4 * 168 + 64], mine[5 * 168], theirs[5 * 168];
    int bad256 = 0, bad512 = 0, bad128 = 0, bad_shake256 = 0, bad_blocks = 0;
    int cases = 0;
    for (size_t len = 0; len <= sizeof in; len += (len < 420 ? 1 : 7)) {
        if (RAND_bytes(in, (int)sizeof in) != 1) abort();
        cases++;
        sha3_256(in, len, mine);
        evp_digest(EVP_sha3_256(), in, len, theirs, 32);
        bad256 += memcmp(mine, theirs, 32) != 0;
        sha3_512(in, len, mine);
        evp_digest(EVP_sha3_512(), in, len, theirs, 64);
        bad512 += memcmp(mine, theirs, 64) != 0;
        size_t out_len = 1 + rnd(sizeof mine);
        split_shake(128, in, len, mine, out_len);
        evp_digest(EVP_shake128(), in, len, theirs, out_len);
        bad128 += memcmp(mine, theirs, out_len) != 0;
        split_shake(256, in, len, mine, out_len);
        evp_digest(EVP_shake256(), in, len, theirs, out_len);
        bad_shake256 += memcmp(mine, theirs, out_len) != 0;
        /* Whole blocks, in two calls (ML-KEM's matrix sampling). */
        keccak_sponge s;
        shake128_init(&s);
        keccak_absorb(&s, in, len);
        keccak_squeeze_blocks(&s, mine, 3);
        keccak_squeeze_blocks(&s, mine + 3 * SHAKE128_RATE, 2);
        evp_digest(EVP_shake128(), in, len, theirs, 5 * SHAKE128_RATE);
        bad_blocks += memcmp(mine, theirs, 5 * SHAKE128_RATE) != 0;
    }
    CHECK(bad256 == 0, "SHA3-256 equals libcrypto's on %d random inputs of 0..%zu bytes", cases,
          sizeof in);
    CHECK(bad512 == 0, "SHA3-512 equals libcrypto's on %d random inputs", cases);
    CHECK(bad128 == 0, "SHAKE128 (split absorb/squeeze, up to 5 blocks out) equals libcrypto's");
    CHECK(bad_shake256 == 0, "SHAKE256 (split absorb/squeeze) equals libcrypto's");
    CHECK(bad_blocks == 0, "SHAKE128 whole-block squeezes equal libcrypto's stream");
}

/* keccak_f1600_x4 = four keccak_f1600; keccak_x4 SHAKE = four scalar SHAKEs. */
static void four_way(const char *path) {
    int bad_perm = 0, bad_sponge = 0;
    for (int t = 0; t < 20; t++) {
        uint64_t x4[100], one[4][25];
        if (RAND_bytes((uint8_t *)x4, sizeof x4) != 1) abort();
        for (int j = 0; j < 4; j++)
            for (int i = 0; i < 25; i++)
                one[j][i] = x4[4 * i + j];
        keccak_f1600_x4(x4);
        for (int j = 0; j < 4; j++) {
            keccak_f1600(one[j]);
            for (int i = 0; i < 25; i++)
                bad_perm += one[j][i] != x4[4 * i + j];
        }
    }
    static const unsigned rates[2] = {SHAKE128_RATE, SHAKE256_RATE};
    for (int r = 0; r < 2; r++) {
        for (size_t len = 0; len < rates[r]; len += 1 + len / 4) {
            uint8_t in[4][SHAKE128_RATE], got[4][3 * SHAKE128_RATE], want[3 * SHAKE128_RATE];
            if (RAND_bytes((uint8_t *)in, sizeof in) != 1) abort();
            const uint8_t *ins[4] = {in[0], in[1], in[2], in[3]};
            keccak_x4 s4;
            keccak_x4_absorb_once(&s4, rates[r], ins, len);
            for (int b = 0; b < 3; b++) {
                uint8_t *outs[4] = {got[0] + b * rates[r], got[1] + b * rates[r],
                                    got[2] + b * rates[r], got[3] + b * rates[r]};
                keccak_x4_squeeze_block(&s4, outs);
            }
            for (int j = 0; j < 4; j++) {
                keccak_sponge one;
                if (r == 0)
                    shake128_init(&one);
                else
                    shake256_init(&one);
                keccak_absorb(&one, in[j], len);
                keccak_squeeze(&one, want, 3 * rates[r]);
                bad_sponge += memcmp(want, got[j], 3 * rates[r]) != 0;
            }
        }
    }
    CHECK(bad_perm == 0, "%s: keccak_f1600_x4 equals four keccak_f1600 (20 random states)", path);
    CHECK(bad_sponge == 0,
          "%s: four-way SHAKE128/SHAKE256 (every input length below the rate, three blocks) "
          "equal the scalar sponge",
          path);
}

int main(void) {
    known_answers();
    against_libcrypto();
    four_way(pq_avx2() ? "AVX2" : "portable (no AVX2 here)");
    pq_force_portable(1);
    four_way("portable");
    pq_force_portable(0);
    TEST_EXIT();
}
