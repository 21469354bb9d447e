/* Driver for tests/ct/mlkem_valgrind.sh: runs ML-KEM keygen, encaps and
 * decaps with their secret inputs marked undefined for valgrind's memcheck,
 * so that any branch or memory index computed from them is reported
 * ("Conditional jump or move depends on uninitialised value(s)", "Use of
 * uninitialised value"). Built with the src/pq sources and -DCERTA_CT_VALGRIND, under
 * which mlkem.c declassifies ρ (public: it is published in ek, and matrix
 * sampling rejects on it).
 *
 * Secret: the keygen seed d || z, the whole dk, the encapsulation entropy m
 * and every shared secret. Public: ek, ct (marked defined after they are
 * produced, as publishing them does) and the return codes (marked defined
 * before they are looked at: a failing dk check is allowed to be known).
 *
 *   mlkem_ct           the checks; exit 0
 *   mlkem_ct control   branches on a secret byte on purpose (the script
 *                      asserts that valgrind reports it) */
#include "pq/cpu.h"
#include "pq/mlkem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

static uint8_t ek[MLKEM1024_EK_BYTES], dk[MLKEM1024_DK_BYTES], ct[MLKEM1024_CT_BYTES];
static union {
    mlkem_dkey key;
    uint8_t bytes[sizeof(mlkem_dkey) + 24 * 512]; /* ML-KEM-1024's 2k + k^2 polynomials */
} prep;

static void secret(void *p, size_t n) {
    VALGRIND_MAKE_MEM_UNDEFINED(p, n);
}

static void public(void *p, size_t n) {
    VALGRIND_MAKE_MEM_DEFINED(p, n);
}

static int run(mlkem_kind kind, const char *name) {
    uint8_t seed[64], m[32], ss_enc[32], ss_dec[32];
    int failures = 0;
    for (int i = 0; i < 64; i++)
        seed[i] = (uint8_t)(i * 37 + 11);
    for (int i = 0; i < 32; i++)
        m[i] = (uint8_t)(i * 91 + 5);

    secret(seed, sizeof seed);
    mlkem_keygen(kind, seed, ek, dk);
    public(ek, mlkem_ek_bytes(kind));

    secret(m, sizeof m);
    int rc = mlkem_encaps(kind, ek, m, ct, ss_enc);
    public(&rc, sizeof rc);
    public(ct, mlkem_ct_bytes(kind));
    failures += rc != 0;

    /* A valid ciphertext, then one with a flipped bit (implicit rejection),
     * each with the whole dk secret. */
    for (int round = 0; round < 2; round++) {
        if (round == 1) ct[17] ^= 4;
        secret(dk, mlkem_dk_bytes(kind));
        rc = mlkem_decaps(kind, dk, ct, ss_dec);
        public(&rc, sizeof rc);
        failures += rc != 0;
        public(ss_dec, 32);
        public(ss_enc, 32);
        bool same = memcmp(ss_dec, ss_enc, 32) == 0;
        failures += round == 0 ? !same : same;
    }
    /* The prepared key (what the TLS client keeps): from keygen with the
     * seed secret, then parsed from the secret dk, each decapsulating the
     * valid and the flipped ciphertext with the whole key secret. */
    for (int how = 0; how < 2; how++) {
        secret(seed, sizeof seed);
        secret(dk, mlkem_dk_bytes(kind));
        if (how == 0) {
            mlkem_keygen_prepared(kind, seed, ek, &prep.key);
            public(ek, mlkem_ek_bytes(kind));
        } else {
            rc = mlkem_dkey_from_dk(kind, dk, &prep.key);
            public(&rc, sizeof rc);
            failures += rc != 0;
        }
        public(&prep.key.kind, sizeof prep.key.kind);
        for (int round = 0; round < 2; round++) {
            ct[17] ^= 4; /* valid on round 0 (flipped back), flipped on round 1 */
            secret(prep.key.h, mlkem_dkey_bytes(kind) - offsetof(mlkem_dkey, h));
            rc = mlkem_decaps_prepared(&prep.key, ct, ss_dec);
            public(&rc, sizeof rc);
            failures += rc != 0;
            public(ss_dec, 32);
            bool same = memcmp(ss_dec, ss_enc, 32) == 0;
            failures += round == 0 ? !same : same;
        }
    }
    /* A dk whose hash check fails: the refusal is computed without a branch too. */
    secret(dk, mlkem_dk_bytes(kind));
    dk[mlkem_dk_bytes(kind) - 64] ^= 1;
    rc = mlkem_decaps(kind, dk, ct, ss_dec);
    public(&rc, sizeof rc);
    failures += rc != -1;
    secret(dk, mlkem_dk_bytes(kind));
    rc = mlkem_dkey_from_dk(kind, dk, &prep.key);
    public(&rc, sizeof rc);
    failures += rc != -1;
    printf("%s: %s\n", name, failures ? "wrong results" : "ran");
    return failures;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "control") == 0) {
        uint8_t s[1] = {1};
        secret(s, 1);
        volatile int x = 0;
        if (s[0] & 1) x++; /* the leak valgrind must see */
        printf("control: ran %d\n", x);
        return 0;
    }
    printf("path: %s\n", pq_avx2() ? "AVX2" : "portable");
    int f = run(MLKEM768, "ML-KEM-768") + run(MLKEM1024, "ML-KEM-1024");
    return f ? 1 : 0;
}
