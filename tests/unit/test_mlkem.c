/* ML-KEM (src/pq/mlkem.c) against known answers: every file of
 * ../shared/testdata/mlkem/ (NIST ACVP keyGen and decapsulation, and the
 * keygen/encap/decap sets with their invalid keys and malformed ciphertexts;
 * see its README.md) and the 10,000-iteration accumulated test (C2SP CCTV
 * structure) for ML-KEM-768 and ML-KEM-1024, which needs no files. Then
 * round trips with fresh randomness, implicit rejection checked against
 * J(z || c) computed here, and the §7.2/§7.3 checks on tampered keys. Each
 * decaps check runs with the encoded dk and with the prepared key
 * (mlkem_dkey_from_dk, mlkem_keygen_prepared), and the whole suite runs on
 * the portable path and on the default one (AVX2 when the CPU has it).
 *
 * Length checks are the caller's (mlkem.h): a vector whose key or ciphertext
 * has the wrong length counts as refused without calling the KEM, as a TLS
 * caller would. The files are looked up as ../shared/testdata/mlkem from the
 * repository root (tests/run.sh runs from there), or $CERTA_MLKEM_TESTDATA. */
#include "pq/cpu.h"
#include "pq/keccak.h"
#include "pq/mlkem.h"
#include "testlib.h"

#include <openssl/rand.h>

#include <stdbool.h>

/* ---- a record reader for the test-vector files ---- */

#define MAX_FIELDS 8
typedef struct record {
    const char *key[MAX_FIELDS];
    const char *value[MAX_FIELDS];
    int n;
} record;

static const char *field(const record *r, const char *key) {
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->key[i], key) == 0) return r->value[i];
    return NULL;
}

/* Hex value into a fresh buffer (the caller frees); *len its length. */
static uint8_t *unhex_alloc(const char *hex, size_t *len) {
    size_t cap = strlen(hex) / 2 + 1;
    uint8_t *b = malloc(cap);
    if (b == NULL) abort();
    *len = test_unhex(hex, b, cap);
    return b;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s == NULL || fread(s, 1, (size_t)n, f) != (size_t)n) abort();
    s[n] = 0;
    fclose(f);
    return s;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t' || *s == '[')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == ']'))
        s[--n] = 0;
    return s;
}

typedef struct tally {
    int records, pass, fail, wrong;
} tally;

typedef void (*record_fn)(mlkem_kind kind, const record *r, tally *t, void *ctx);

static char testdata[512];

/* Calls fn for each blank-line-separated record; returns false if the file is missing. */
static bool each_record(const char *name, mlkem_kind kind, record_fn fn, tally *t, void *ctx) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", testdata, name);
    char *text = slurp(path);
    if (text == NULL) return false;
    record r = {.n = 0};
    char *line = text;
    for (;;) {
        char *end = strchr(line, '\n');
        bool last = end == NULL;
        if (!last) *end = 0;
        char *l = trim(line);
        if (*l == 0 || last) {
            if (*l != 0 && *l != '#') goto add; /* a last line without a newline */
            if (r.n > 0) fn(kind, &r, t, ctx);
            r.n = 0;
        } else if (*l != '#') {
        add:;
            char *sep = strpbrk(l, ":=");
            if (sep != NULL && r.n < MAX_FIELDS) {
                *sep = 0;
                r.key[r.n] = trim(l);
                r.value[r.n] = trim(sep + 1);
                r.n++;
            }
            if (last && r.n > 0) fn(kind, &r, t, ctx);
        }
        if (last) break;
        line = end + 1;
    }
    free(text);
    return true;
}

static void note_wrong(tally *t, const char *what) {
    if (t->wrong++ < 5) printf("# mismatch: %s\n", what);
}

/* ---- per-file checks ---- */

/* keygen files: seed (d || z) -> public_key, private_key; NIST: d, z -> ek, dk. */
static void check_keygen(mlkem_kind kind, const record *r, tally *t, void *ctx) {
    (void)ctx;
    uint8_t seed[64], ek[MLKEM1024_EK_BYTES], dk[MLKEM1024_DK_BYTES];
    const char *s = field(r, "seed"), *d = field(r, "d"), *z = field(r, "z");
    const char *want_ek = field(r, "public_key") ? field(r, "public_key") : field(r, "ek");
    const char *want_dk = field(r, "private_key") ? field(r, "private_key") : field(r, "dk");
    if (want_ek == NULL || want_dk == NULL) return;
    t->records++;
    if (s != NULL) {
        if (test_unhex(s, seed, 64) != 64) return note_wrong(t, "seed length");
    } else if (d == NULL || z == NULL || test_unhex(d, seed, 32) != 32 ||
               test_unhex(z, seed + 32, 32) != 32) {
        return note_wrong(t, "d/z");
    }
    mlkem_keygen(kind, seed, ek, dk);
    size_t ek_len, dk_len;
    uint8_t *e = unhex_alloc(want_ek, &ek_len), *k = unhex_alloc(want_dk, &dk_len);
    /* The prepared key from the same seed: the same ek, and the same key as
     * the one parsed from the expected dk. */
    uint8_t ek2[MLKEM1024_EK_BYTES];
    size_t key_len = mlkem_dkey_bytes(kind);
    mlkem_dkey *kp = malloc(key_len), *kd = malloc(key_len);
    if (kp == NULL || kd == NULL) abort();
    mlkem_keygen_prepared(kind, seed, ek2, kp);
    bool prepared_ok = dk_len == mlkem_dk_bytes(kind) && mlkem_dkey_from_dk(kind, k, kd) == 0 &&
                       memcmp(kp, kd, key_len) == 0 && memcmp(ek2, ek, mlkem_ek_bytes(kind)) == 0;
    free(kp);
    free(kd);
    if (ek_len == mlkem_ek_bytes(kind) && dk_len == mlkem_dk_bytes(kind) &&
        memcmp(e, ek, ek_len) == 0 && memcmp(k, dk, dk_len) == 0 && prepared_ok)
        t->pass++;
    else
        note_wrong(t, "keygen output");
    free(e);
    free(k);
}

/* encap files: entropy + public_key -> ciphertext, shared_secret, or result: fail. */
static void check_encap(mlkem_kind kind, const record *r, tally *t, void *ctx) {
    (void)ctx;
    const char *m_hex = field(r, "entropy"), *ek_hex = field(r, "public_key");
    const char *result = field(r, "result");
    if (m_hex == NULL || ek_hex == NULL || result == NULL) return;
    t->records++;
    bool want_ok = strcmp(result, "pass") == 0;
    uint8_t m[32], ct[MLKEM1024_CT_BYTES], ss[32];
    if (test_unhex(m_hex, m, 32) != 32) return note_wrong(t, "entropy");
    size_t ek_len;
    uint8_t *ek = unhex_alloc(ek_hex, &ek_len);
    int rc = -1;
    if (ek_len == mlkem_ek_bytes(kind)) rc = mlkem_encaps(kind, ek, m, ct, ss);
    free(ek);
    if (!want_ok) {
        if (rc == -1)
            t->fail++;
        else
            note_wrong(t, "an invalid public key was accepted");
        return;
    }
    size_t ct_len, ss_len;
    uint8_t *want_ct = unhex_alloc(field(r, "ciphertext"), &ct_len);
    uint8_t *want_ss = unhex_alloc(field(r, "shared_secret"), &ss_len);
    if (rc == 0 && ct_len == mlkem_ct_bytes(kind) && ss_len == 32 &&
        memcmp(want_ct, ct, ct_len) == 0 && memcmp(want_ss, ss, 32) == 0)
        t->pass++;
    else
        note_wrong(t, "encaps output");
    free(want_ct);
    free(want_ss);
}

/* decap files: private_key + ciphertext -> shared_secret or result: fail;
 * NIST decap: one [dk: ...] then c -> k records (ctx holds the dk). */
typedef struct nist_dk {
    uint8_t *dk;
    size_t len;
} nist_dk;

static void check_decap(mlkem_kind kind, const record *r, tally *t, void *ctx) {
    nist_dk *nd = ctx;
    const char *dk_hex = field(r, "private_key"), *ct_hex = field(r, "ciphertext");
    const char *ss_hex = field(r, "shared_secret"), *result = field(r, "result");
    if (field(r, "dk") != NULL && r->n == 1) { /* the NIST file's key */
        free(nd->dk);
        nd->dk = unhex_alloc(field(r, "dk"), &nd->len);
        return;
    }
    if (dk_hex == NULL) { /* NIST: c -> k with the file's dk */
        ct_hex = field(r, "c");
        ss_hex = field(r, "k");
        result = "pass";
    }
    if (ct_hex == NULL || ss_hex == NULL || result == NULL) return;
    t->records++;
    bool want_ok = strcmp(result, "pass") == 0;
    size_t dk_len, ct_len;
    uint8_t *dk = dk_hex ? unhex_alloc(dk_hex, &dk_len) : NULL;
    const uint8_t *key = dk ? dk : nd->dk;
    if (dk == NULL) dk_len = nd->len;
    uint8_t *ct = unhex_alloc(ct_hex, &ct_len);
    uint8_t ss[32], want_ss[32];
    int rc = -1;
    if (key != NULL && dk_len == mlkem_dk_bytes(kind) && ct_len == mlkem_ct_bytes(kind)) {
        rc = mlkem_decaps(kind, key, ct, ss);
        /* The prepared path: parsing refuses what decaps refuses, and a
         * parsed key gives the same secret. */
        uint8_t ss2[32];
        mlkem_dkey *kp = malloc(mlkem_dkey_bytes(kind));
        if (kp == NULL) abort();
        int rc2 = mlkem_dkey_from_dk(kind, key, kp);
        if (rc2 == 0) rc2 = mlkem_decaps_prepared(kp, ct, ss2);
        free(kp);
        if (rc2 != rc || (rc == 0 && memcmp(ss, ss2, 32) != 0)) rc = -2;
    }
    if (!want_ok) {
        if (rc == -1)
            t->fail++;
        else
            note_wrong(t, "an invalid private key or ciphertext was accepted");
    } else if (rc == 0 && test_unhex(ss_hex, want_ss, 32) == 32 && memcmp(ss, want_ss, 32) == 0) {
        t->pass++;
    } else {
        note_wrong(t, "decaps output");
    }
    free(dk);
    free(ct);
}

static void run_file(const char *name, mlkem_kind kind, record_fn fn) {
    tally t = {0};
    nist_dk nd = {0};
    if (!each_record(name, kind, fn, &t, &nd)) {
        printf("skip - %s: not found in %s\n", name, testdata);
        return;
    }
    free(nd.dk);
    CHECK(t.records > 0 && t.wrong == 0 && t.pass + t.fail == t.records,
          "%s: %d records, %d matched, %d refused as expected, %d wrong", name, t.records, t.pass,
          t.fail, t.wrong);
}

/* ---- accumulated test (../shared/testdata/mlkem/README.md) ---- */

static void accumulated(mlkem_kind kind, const char *want) {
    keccak_sponge gen, results;
    shake128_init(&gen);
    shake128_init(&results);
    static uint8_t ek[MLKEM1024_EK_BYTES], dk[MLKEM1024_DK_BYTES], ct[MLKEM1024_CT_BYTES];
    uint8_t seed[64], m[32], ss[32], ss2[32];
    mlkem_dkey *key = malloc(mlkem_dkey_bytes(kind));
    if (key == NULL) abort();
    int failures = 0;
    for (int i = 0; i < 10000; i++) {
        keccak_squeeze(&gen, seed, 64);
        mlkem_keygen(kind, seed, ek, dk);
        keccak_absorb(&results, ek, mlkem_ek_bytes(kind));
        keccak_absorb(&results, dk, mlkem_dk_bytes(kind));
        keccak_squeeze(&gen, m, 32);
        failures += mlkem_encaps(kind, ek, m, ct, ss) != 0;
        keccak_absorb(&results, ct, mlkem_ct_bytes(kind));
        keccak_absorb(&results, ss, 32);
        keccak_squeeze(&gen, ct, mlkem_ct_bytes(kind));
        failures += mlkem_decaps(kind, dk, ct, ss) != 0;
        keccak_absorb(&results, ss, 32);
        /* The same key prepared by keygen decapsulates to the same secret. */
        mlkem_keygen_prepared(kind, seed, ek, key);
        failures += mlkem_decaps_prepared(key, ct, ss2) != 0 || memcmp(ss, ss2, 32) != 0;
    }
    free(key);
    uint8_t digest[32];
    keccak_squeeze(&results, digest, 32);
    CHECK(failures == 0,
          "accumulated ML-KEM-%s: every encaps and decaps returned 0 (and the prepared key's "
          "decaps the same secret)",
          kind == MLKEM768 ? "768" : "1024");
    CHECK_HEX(digest, 32, want, "accumulated 10,000-iteration test, ML-KEM-%s",
              kind == MLKEM768 ? "768" : "1024");
}

/* ---- round trips, implicit rejection, tampered keys ---- */

static void round_trips(mlkem_kind kind) {
    const char *name = kind == MLKEM768 ? "ML-KEM-768" : "ML-KEM-1024";
    static uint8_t ek[MLKEM1024_EK_BYTES], dk[MLKEM1024_DK_BYTES], ct[MLKEM1024_CT_BYTES];
    uint8_t seed[64], m[32], ss_a[32], ss_b[32], j_want[32];
    const size_t dk_len = mlkem_dk_bytes(kind), ct_len = mlkem_ct_bytes(kind);
    int agree = 0, rejects = 0, rounds = 50;
    mlkem_dkey *key = malloc(mlkem_dkey_bytes(kind));
    if (key == NULL) abort();
    for (int i = 0; i < rounds; i++) {
        if (RAND_bytes(seed, 64) != 1 || RAND_bytes(m, 32) != 1) abort();
        mlkem_keygen(kind, seed, ek, dk);
        mlkem_keygen_prepared(kind, seed, ek, key);
        if (mlkem_encaps(kind, ek, m, ct, ss_a) != 0) continue;
        if (mlkem_decaps(kind, dk, ct, ss_b) == 0 && memcmp(ss_a, ss_b, 32) == 0 &&
            mlkem_decaps_prepared(key, ct, ss_b) == 0 && memcmp(ss_a, ss_b, 32) == 0)
            agree++;
        /* One flipped bit: K-bar = J(z || c) = SHAKE256(z || c, 32). */
        ct[i % ct_len] ^= (uint8_t)(1u << (i % 8));
        keccak_sponge j;
        shake256_init(&j);
        keccak_absorb(&j, dk + dk_len - 32, 32);
        keccak_absorb(&j, ct, ct_len);
        keccak_squeeze(&j, j_want, 32);
        if (mlkem_decaps(kind, dk, ct, ss_b) == 0 && memcmp(ss_b, j_want, 32) == 0 &&
            memcmp(ss_b, ss_a, 32) != 0 && mlkem_decaps_prepared(key, ct, ss_b) == 0 &&
            memcmp(ss_b, j_want, 32) == 0)
            rejects++;
    }
    free(key);
    CHECK(agree == rounds, "%s: %d/%d random round trips agree on the secret (dk and prepared key)",
          name, agree, rounds);
    CHECK(rejects == rounds, "%s: %d/%d flipped ciphertexts give J(z || c) (implicit rejection)",
          name, rejects, rounds);

    /* §7.3 hash check: a changed byte of the ek inside dk, or of h. */
    uint8_t saved;
    size_t ek_at = 384 * (kind == MLKEM768 ? 3 : 4);
    saved = dk[ek_at + 5];
    dk[ek_at + 5] ^= 1;
    memset(ss_b, 0xaa, 32);
    int rc = mlkem_decaps(kind, dk, ct, ss_b);
    uint8_t zero[32] = {0};
    CHECK(rc == -1 && memcmp(ss_b, zero, 32) == 0,
          "%s: decaps refuses a dk whose ek no longer hashes to h (secret zeroed)", name);
    dk[ek_at + 5] = saved;
    dk[dk_len - 64] ^= 0x80;
    CHECK(mlkem_decaps(kind, dk, ct, ss_b) == -1, "%s: decaps refuses a dk with a changed h", name);
    dk[dk_len - 64] ^= 0x80;
    /* s-hat coefficient 0 set to 4095 (not below q). */
    dk[0] = 0xff;
    dk[1] |= 0x0f;
    CHECK(mlkem_decaps(kind, dk, ct, ss_b) == -1, "%s: decaps refuses an unreduced s-hat", name);

    /* §7.2 modulus check: t-hat's last coefficient = q, then q - 1. */
    size_t last = ek_at - 3;
    ek[last + 1] = (uint8_t)((ek[last + 1] & 0x0f) | (3329 & 0x0f) << 4);
    ek[last + 2] = (uint8_t)(3329 >> 4);
    memset(ss_a, 0xaa, 32);
    CHECK(mlkem_encaps(kind, ek, m, ct, ss_a) == -1 && memcmp(ss_a, zero, 32) == 0,
          "%s: encaps refuses an ek with a coefficient equal to q (secret zeroed)", name);
    ek[last + 1] = (uint8_t)((ek[last + 1] & 0x0f) | (3328 & 0x0f) << 4);
    ek[last + 2] = (uint8_t)(3328 >> 4);
    CHECK(mlkem_encaps(kind, ek, m, ct, ss_a) == 0, "%s: encaps accepts q - 1 there", name);
}

/* Compress_d in mlkem.c divides by 2q with a multiply and shift: the same
 * identity, for every numerator it can see. */
static void compress_identity(void) {
    int bad = 0;
    for (uint64_t n = 0; n < 3328ull * 4096 + 3330; n++)
        bad += ((n * 10321340u) >> 36) != n / 6658;
    CHECK(bad == 0, "floor(n / 2q) = n * 10321340 >> 36 for every n below 2^23.7");
}

typedef struct test_file {
    const char *file;
    mlkem_kind kind;
    record_fn fn;
} test_file;

static void all_checks(const test_file *files, size_t n);

int main(void) {
    const char *env = getenv("CERTA_MLKEM_TESTDATA");
    snprintf(testdata, sizeof testdata, "%s", env ? env : "../shared/testdata/mlkem");
    static const test_file files[] = {
        {"mlkem768_nist_keygen_tests.txt", MLKEM768, check_keygen},
        {"mlkem1024_nist_keygen_tests.txt", MLKEM1024, check_keygen},
        {"mlkem768_nist_decap_tests.txt", MLKEM768, check_decap},
        {"mlkem1024_nist_decap_tests.txt", MLKEM1024, check_decap},
        {"mlkem768_keygen_tests.txt", MLKEM768, check_keygen},
        {"mlkem1024_keygen_tests.txt", MLKEM1024, check_keygen},
        {"mlkem768_encap_tests.txt", MLKEM768, check_encap},
        {"mlkem1024_encap_tests.txt", MLKEM1024, check_encap},
        {"mlkem768_decap_tests.txt", MLKEM768, check_decap},
        {"mlkem1024_decap_tests.txt", MLKEM1024, check_decap},
    };
    /* Everything on both paths (pq/cpu.h): portable C first, then the
     * default (AVX2 when the CPU has it). */
    for (int path = 0; path < 2; path++) {
        pq_force_portable(path == 0);
        printf("# %s path\n", path == 0 ? "portable" : pq_avx2() ? "AVX2" : "default (portable)");
        all_checks(files, sizeof files / sizeof files[0]);
    }
    pq_force_portable(0);
    TEST_EXIT();
}

static void all_checks(const test_file *files, size_t n) {
    CHECK(mlkem_ek_bytes(MLKEM768) == 1184 && mlkem_dk_bytes(MLKEM768) == 2400 &&
              mlkem_ct_bytes(MLKEM768) == 1088 && mlkem_ek_bytes(MLKEM1024) == 1568 &&
              mlkem_dk_bytes(MLKEM1024) == 3168 && mlkem_ct_bytes(MLKEM1024) == 1568,
          "sizes are FIPS 203 Table 3's");
    for (size_t i = 0; i < n; i++)
        run_file(files[i].file, files[i].kind, files[i].fn);
    compress_identity();
    round_trips(MLKEM768);
    round_trips(MLKEM1024);
    accumulated(MLKEM768, "f959d18d3d1180121433bf0e05f11e7908cf9d03edc150b2b07cb90bef5bc1c1");
    accumulated(MLKEM1024, "e3bf82b013307b2e9d47dde791ff6dfc82e694e6382404abdb948b908b75bad5");
}
