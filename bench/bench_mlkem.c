/* ML-KEM-768/1024 operations per second (src/pq/mlkem.c), and SHAKE128 from
 * our Keccak against libcrypto's EVP. bench/run.sh runs this next to
 * ../shared/peers/mlkem-anchor (BoringSSL, mlkem-native) and prints ratios.
 *
 *   bench_mlkem kem     mlkem{768,1024}_{keygen,encaps,decaps} ops_per_s=...,
 *                       and {keygen,decaps}_prepared: with the prepared key
 *                       (mlkem_keygen_prepared / mlkem_decaps_prepared) that
 *                       the TLS client keeps, like BoringSSL's parsed key;
 *                       impl=certa is the default path (AVX2 when the CPU
 *                       has it), impl=certa-portable the portable C
 *   bench_mlkem shake   shake128_* lines: ns per matrix entry, squeezed at once
 *                       and a block at a time, ours and EVP's
 *   bench_mlkem count N [768|1024]
 *                       each operation N times (both sets by default), no
 *                       timing: for
 *                       valgrind --tool=callgrind (instructions per call
 *                       from callgrind_annotate --inclusive=yes); the path
 *                       is the default one (CERTA_NO_AVX2=1: portable C)
 *
 * What each operation includes, as the anchor's do: keygen and encaps take
 * their 64 / 32 random bytes from crypto_random() (RAND_bytes) per call;
 * encaps starts from the encoded ek (modulus check and matrix expansion
 * included); decaps from the 2400/3168-byte dk (hash check, matrix
 * expansion for the re-encryption). Best of three rounds of BENCH_SECONDS
 * (default 1) each. */
#include "bench.h"
#include "crypto/crypto.h"
#include "pq/cpu.h"
#include "pq/keccak.h"
#include "pq/mlkem.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double secs;

static uint8_t ek[MLKEM1024_EK_BYTES], dk[MLKEM1024_DK_BYTES], ct[MLKEM1024_CT_BYTES];
static mlkem_dkey *prepared; /* keygen_prepared's key (what the TLS client keeps) */
static volatile uint8_t sink;

typedef void (*op_fn)(mlkem_kind k);

/* keygen into dk, or (prep) into the prepared key instead of the encoded dk. */
static void keygen_as(mlkem_kind k, int prep) {
    uint8_t seed[64];
    if (crypto_random(seed, sizeof seed) != 0) abort();
    if (prep)
        mlkem_keygen_prepared(k, seed, ek, prepared);
    else
        mlkem_keygen(k, seed, ek, dk);
    crypto_zero(seed, sizeof seed);
}

static void op_keygen(mlkem_kind k) {
    keygen_as(k, 0);
}

static void op_encaps(mlkem_kind k) {
    uint8_t m[32], ss[32];
    if (crypto_random(m, sizeof m) != 0 || mlkem_encaps(k, ek, m, ct, ss) != 0) abort();
    sink ^= ss[0];
}

static void op_decaps(mlkem_kind k) {
    uint8_t ss[32];
    if (mlkem_decaps(k, dk, ct, ss) != 0) abort();
    sink ^= ss[0];
}

static void op_keygen_prepared(mlkem_kind k) {
    keygen_as(k, 1);
}

static void op_decaps_prepared(mlkem_kind k) {
    (void)k; /* the key knows its kind */
    uint8_t ss[32];
    if (mlkem_decaps_prepared(prepared, ct, ss) != 0) abort();
    sink ^= ss[0];
}

/* Calls per second, best of three rounds of secs each. */
static double rate(op_fn fn, mlkem_kind k) {
    double best = 0;
    for (int r = 0; r < 3; r++) {
        long n = 0;
        double start = now_seconds(), t;
        do {
            for (int i = 0; i < 16; i++)
                fn(k);
            n += 16;
            t = now_seconds() - start;
        } while (t < secs);
        if (n / t > best) best = n / t;
    }
    return best;
}

static void kem(const char *impl) {
    static const struct {
        const char *name;
        mlkem_kind kind;
    } kinds[] = {{"mlkem768", MLKEM768}, {"mlkem1024", MLKEM1024}};
    for (int i = 0; i < 2; i++) {
        mlkem_kind kind = kinds[i].kind;
        op_keygen(kind);
        op_encaps(kind);
        double g = rate(op_keygen, kind);
        op_keygen(kind);
        double e = rate(op_encaps, kind);
        double d = rate(op_decaps, kind);
        double gp = rate(op_keygen_prepared, kind);
        op_keygen_prepared(kind);
        op_encaps(kind);
        double dp = rate(op_decaps_prepared, kind);
        printf("%s keygen impl=%s ops_per_s=%.0f ns_per_op=%.0f\n", kinds[i].name, impl, g,
               1e9 / g);
        printf("%s encaps impl=%s ops_per_s=%.0f ns_per_op=%.0f\n", kinds[i].name, impl, e,
               1e9 / e);
        printf("%s decaps impl=%s ops_per_s=%.0f ns_per_op=%.0f\n", kinds[i].name, impl, d,
               1e9 / d);
        printf("%s keygen_prepared impl=%s ops_per_s=%.0f ns_per_op=%.0f\n", kinds[i].name, impl,
               gp, 1e9 / gp);
        printf("%s decaps_prepared impl=%s ops_per_s=%.0f ns_per_op=%.0f\n", kinds[i].name, impl,
               dp, 1e9 / dp);
    }
}

/* ---- SHAKE128: our sponge vs EVP, for what ML-KEM asks of it ---- */

static uint8_t seed34[34], out[5 * SHAKE128_RATE];
static EVP_MD *shake128_md;

/* One matrix entry's XOF: absorb ρ||i||j, squeeze 3 blocks (504 bytes). */
static void entry_ours(void) {
    keccak_sponge s;
    shake128_init(&s);
    keccak_absorb(&s, seed34, sizeof seed34);
    keccak_squeeze_blocks(&s, out, 3);
    seed34[33]++;
}

static void entry_evp(void) {
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c == NULL || !EVP_DigestInit_ex(c, shake128_md, NULL) ||
        !EVP_DigestUpdate(c, seed34, sizeof seed34) || !EVP_DigestFinalXOF(c, out, 504))
        abort();
    EVP_MD_CTX_free(c);
    seed34[33]++;
}

/* The same entry a block at a time, as rejection sampling consumes it: EVP
 * in OpenSSL 3.0 cannot squeeze again after EVP_DigestFinalXOF (no
 * EVP_DigestSqueeze before 3.3), so each further block means copying the
 * absorbed context and finalising the copy for the whole longer length. */
static void entry_evp_per_block(void) {
    EVP_MD_CTX *base = EVP_MD_CTX_new(), *c = EVP_MD_CTX_new();
    if (base == NULL || c == NULL || !EVP_DigestInit_ex(base, shake128_md, NULL) ||
        !EVP_DigestUpdate(base, seed34, sizeof seed34))
        abort();
    for (int b = 1; b <= 3; b++)
        if (!EVP_MD_CTX_copy_ex(c, base) || !EVP_DigestFinalXOF(c, out, (size_t)b * SHAKE128_RATE))
            abort();
    EVP_MD_CTX_free(c);
    EVP_MD_CTX_free(base);
    seed34[33]++;
}

/* Ours a block at a time (what sample_ntt does past its first two). */
static void entry_ours_per_block(void) {
    keccak_sponge s;
    shake128_init(&s);
    keccak_absorb(&s, seed34, sizeof seed34);
    for (int b = 0; b < 3; b++)
        keccak_squeeze_blocks(&s, out, 1);
    seed34[33]++;
}

static double ns_per(void (*fn)(void)) {
    double best = 1e30;
    for (int r = 0; r < 3; r++) {
        long n = 0;
        double start = now_seconds(), t;
        do {
            for (int i = 0; i < 64; i++)
                fn();
            n += 64;
            t = now_seconds() - start;
        } while (t < secs / 2);
        if (t / n * 1e9 < best) best = t / n * 1e9;
    }
    return best;
}

static void shake(void) {
    shake128_md = EVP_MD_fetch(NULL, "SHAKE128", NULL);
    if (shake128_md == NULL) abort();
    double eo = ns_per(entry_ours), ee = ns_per(entry_evp);
    double bo = ns_per(entry_ours_per_block), be = ns_per(entry_evp_per_block);
    /* One matrix entry (ρ || i || j, three 168-byte blocks), squeezed at once. */
    printf("shake128_entry_oneshot certa_ns=%.0f evp_ns=%.0f evp_over_certa=%.2f\n", eo, ee,
           ee / eo);
    /* The same, a block at a time. */
    printf("shake128_entry_per_block certa_ns=%.0f evp_ns=%.0f evp_over_certa=%.2f\n", bo, be,
           be / bo);
    /* ML-KEM-768's nine entries, to set against one keygen or encaps (whole). */
    printf("shake128_mlkem768_matrix certa_ns=%.0f evp_oneshot_ns=%.0f evp_per_block_ns=%.0f\n",
           9 * bo, 9 * ee, 9 * be);
    EVP_MD_free(shake128_md);
}

/* Each operation n times per set (set: 768, 1024 or 0 for both), in the
 * order kem() times them. */
static void count(long n, int set) {
    const mlkem_kind kinds[2] = {MLKEM768, MLKEM1024};
    const op_fn ops[5] = {op_keygen, op_encaps, op_decaps, op_keygen_prepared, op_decaps_prepared};
    for (int i = 0; i < 2; i++) {
        if (set != 0 && set != (i == 0 ? 768 : 1024)) continue;
        op_keygen(kinds[i]);
        op_encaps(kinds[i]);
        for (int o = 0; o < 5; o++) {
            if (o == 4) op_encaps(kinds[i]); /* to the prepared key's ek */
            for (long r = 0; r < n; r++)
                ops[o](kinds[i]);
        }
    }
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "all";
    secs = bench_seconds(1);
    prepared = malloc(mlkem_dkey_bytes(MLKEM1024));
    if (prepared == NULL) abort();
    if (!strcmp(what, "count")) {
        count(argc > 2 ? atol(argv[2]) : 100, argc > 3 ? atoi(argv[3]) : 0);
        free(prepared);
        return 0;
    }
    if (!strcmp(what, "all") || !strcmp(what, "kem")) {
        /* impl=certa: the default path (AVX2 when the CPU has it);
         * impl=certa-portable: the portable C, forced (pq/cpu.h). */
        printf("# certa default path: %s\n", pq_avx2() ? "AVX2" : "portable C");
        kem("certa");
        pq_force_portable(1);
        kem("certa-portable");
        pq_force_portable(0);
    }
    if (!strcmp(what, "all") || !strcmp(what, "shake")) shake();
    return 0;
}
