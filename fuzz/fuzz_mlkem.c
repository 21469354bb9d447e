/* libFuzzer target: ML-KEM (src/pq/mlkem.c) on arbitrary public inputs.
 * Byte 0 picks the parameter set (bit 0) and the operation (bits 1-2); the
 * rest, cut or zero-padded to the right length, is the input:
 *   0: decaps of an arbitrary ciphertext with a fixed dk: always 0, and the
 *      same secret twice (implicit rejection is deterministic);
 *   1: encaps to an arbitrary ek: -1 exactly when a 12-bit coefficient of
 *      t-hat is >= q (the §7.2 modulus check, recomputed here), and then the
 *      outputs are zeroed;
 *   2: decaps with an arbitrary dk and ciphertext: 0 or -1, never a crash;
 *      on -1 the secret is zeroed.
 * Decapsulation also runs with the prepared key (mlkem_keygen_prepared for
 * the fixed key, mlkem_dkey_from_dk for an arbitrary dk): the same result.
 * Bit 3 of byte 0 runs the portable path instead of the default (AVX2 when
 * the CPU has it, pq/cpu.h).
 * Seeds in fuzz/corpus/mlkem/: valid ek and ct of each set. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pq/cpu.h"
#include "pq/mlkem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t fixed_ek[2][MLKEM1024_EK_BYTES], fixed_dk[2][MLKEM1024_DK_BYTES];
static mlkem_dkey *fixed_key[2], *parsed;
static int ready;

static void setup(void) {
    uint8_t seed[64];
    for (int i = 0; i < 64; i++)
        seed[i] = (uint8_t)(0x5a ^ i);
    mlkem_keygen(MLKEM768, seed, fixed_ek[0], fixed_dk[0]);
    mlkem_keygen(MLKEM1024, seed, fixed_ek[1], fixed_dk[1]);
    fixed_key[0] = malloc(mlkem_dkey_bytes(MLKEM768));
    fixed_key[1] = malloc(mlkem_dkey_bytes(MLKEM1024));
    parsed = malloc(mlkem_dkey_bytes(MLKEM1024));
    if (fixed_key[0] == NULL || fixed_key[1] == NULL || parsed == NULL) abort();
    mlkem_keygen_prepared(MLKEM768, seed, fixed_ek[0], fixed_key[0]);
    mlkem_keygen_prepared(MLKEM1024, seed, fixed_ek[1], fixed_key[1]);
    ready = 1;
}

static int unreduced(const uint8_t *ek, size_t polys) {
    for (size_t i = 0; i < polys * 128; i++) {
        unsigned d1 = ek[3 * i] | (ek[3 * i + 1] & 0x0f) << 8;
        unsigned d2 = ek[3 * i + 1] >> 4 | ek[3 * i + 2] << 4;
        if (d1 >= 3329 || d2 >= 3329) return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t buf[MLKEM1024_DK_BYTES + MLKEM1024_CT_BYTES], ct[MLKEM1024_CT_BYTES];
    if (!ready) setup();
    if (size < 1) return 0;
    const int big = data[0] & 1, op = (data[0] >> 1) & 3;
    pq_force_portable((data[0] >> 3) & 1);
    const mlkem_kind kind = big ? MLKEM1024 : MLKEM768;
    const size_t dk_len = mlkem_dk_bytes(kind);
    size_t n = size - 1 < sizeof buf ? size - 1 : sizeof buf;
    memset(buf, 0, sizeof buf);
    memcpy(buf, data + 1, n);
    uint8_t ss[32], again[32];
    static const uint8_t zero[32];

    if (op == 0) {
        if (mlkem_decaps(kind, fixed_dk[big], buf, ss) != 0) abort();
        if (mlkem_decaps(kind, fixed_dk[big], buf, again) != 0 || memcmp(ss, again, 32) != 0)
            abort();
        if (mlkem_decaps_prepared(fixed_key[big], buf, again) != 0 || memcmp(ss, again, 32) != 0)
            abort();
    } else if (op == 1) {
        static const uint8_t m[32] = {1, 2, 3};
        int rc = mlkem_encaps(kind, buf, m, ct, ss);
        if (rc != (unreduced(buf, big ? 4 : 3) ? -1 : 0)) abort();
        if (rc == -1 && memcmp(ss, zero, 32) != 0) abort();
    } else {
        int rc = mlkem_decaps(kind, buf, buf + dk_len, ss);
        if (rc != 0 && rc != -1) abort();
        if (rc == -1 && memcmp(ss, zero, 32) != 0) abort();
        int rc2 = mlkem_dkey_from_dk(kind, buf, parsed);
        if (rc2 != rc) abort();
        if (rc2 == 0 &&
            (mlkem_decaps_prepared(parsed, buf + dk_len, again) != 0 || memcmp(ss, again, 32) != 0))
            abort();
    }
    return 0;
}
