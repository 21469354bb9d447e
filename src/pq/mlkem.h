/* ML-KEM (FIPS 203): ML-KEM-768 and ML-KEM-1024, the *_internal algorithms
 * (§6) with the input checks of §7.2 and §7.3. Internal API: the TLS hybrid
 * key exchange calls it; nothing here is public certa_* API.
 *
 * Deterministic and allocation-free: the caller supplies the randomness
 * (crypto_random()) as the keygen seed d||z and the encapsulation entropy m.
 * Everything lives on the stack — about 13 KiB for each operation with
 * gcc, 16 KiB for decaps with clang, on either path (pq/cpu.h) and set
 * (buffers are sized for k = 4; measured
 * with Keccak and libc frames by tests/unit/test_mlkem_stack) — and secrets
 * are wiped before returning. Constant time in the secrets: no branch or memory
 * index depends on the seed, dk, m or the decrypted message (tests/ct/). */
#ifndef CERTA_PQ_MLKEM_H
#define CERTA_PQ_MLKEM_H

#include <stddef.h>
#include <stdint.h>

typedef enum { MLKEM768, MLKEM1024 } mlkem_kind;

#define MLKEM768_EK_BYTES 1184
#define MLKEM768_DK_BYTES 2400
#define MLKEM768_CT_BYTES 1088
#define MLKEM1024_EK_BYTES 1568
#define MLKEM1024_DK_BYTES 3168
#define MLKEM1024_CT_BYTES 1568
#define MLKEM_SS_BYTES 32
#define MLKEM_SEED_BYTES 64

size_t mlkem_ek_bytes(mlkem_kind k);
size_t mlkem_dk_bytes(mlkem_kind k);
size_t mlkem_ct_bytes(mlkem_kind k);

/* ML-KEM.KeyGen_internal(d, z) with seed = d || z: writes ek and dk. */
void mlkem_keygen(mlkem_kind k, const uint8_t seed[64], uint8_t *ek, uint8_t *dk);

/* ML-KEM.Encaps_internal(ek, m): ct and the shared secret. Returns 0, or -1
 * (ct and ss zeroed) when ek fails the §7.2 modulus check (a coefficient of
 * t-hat is not below q). ek must be mlkem_ek_bytes() long: that length check
 * is the caller's. */
int mlkem_encaps(mlkem_kind k, const uint8_t *ek, const uint8_t m[32], uint8_t *ct, uint8_t ss[32]);

/* ML-KEM.Decaps_internal(dk, c) with implicit rejection: a ciphertext that
 * does not re-encrypt to itself yields J(z || c) instead of K', chosen in
 * constant time. Returns 0, or -1 (ss zeroed) when dk fails the §7.3 hash
 * check H(ek) = h or holds an s-hat coefficient not below q (also refused
 * by BoringSSL; such a dk was not made by KeyGen). The return value is
 * computed without branching on dk. dk and ct must be mlkem_dk_bytes() and
 * mlkem_ct_bytes() long (the caller's length checks). */
int mlkem_decaps(mlkem_kind k, const uint8_t *dk, const uint8_t *ct, uint8_t ss[32]);

/* A prepared decapsulation key: what Decaps would otherwise re-derive from
 * the encoded dk on every call, kept from KeyGen (or parsed once from a dk):
 * H(ek), z, and s-hat, t-hat and the expanded matrix A-hat in the NTT
 * domain, coefficients in [0, q). Decapsulating with it samples no matrix
 * and hashes no ek (BoringSSL's parsed private key does the same). It holds
 * secrets (s-hat, z): the owner wipes mlkem_dkey_bytes() of it when done.
 * mlkem_dkey_bytes(MLKEM768) = 7,752, MLKEM1024 = 12,360; heap it. */
typedef struct mlkem_dkey {
    mlkem_kind kind;
    uint8_t h[32], z[32];
    int16_t v[]; /* s-hat (k polynomials), t-hat (k), A-hat[i][j] at 2k + k*i + j */
} mlkem_dkey;

size_t mlkem_dkey_bytes(mlkem_kind k);

/* mlkem_keygen's ek, and the prepared key instead of the encoded dk (same
 * seed, same key: Decaps with either gives the same result). */
void mlkem_keygen_prepared(mlkem_kind k, const uint8_t seed[64], uint8_t *ek, mlkem_dkey *key);

/* Parses an encoded dk (mlkem_dk_bytes() long) into a prepared key, with
 * mlkem_decaps's checks: -1 (key zeroed) when it fails them, else 0. */
int mlkem_dkey_from_dk(mlkem_kind k, const uint8_t *dk, mlkem_dkey *key);

/* Decaps_internal(dk, c) with the prepared key: the same shared secret as
 * mlkem_decaps with the key's dk, implicit rejection included; the key was
 * checked when it was made, so this returns 0. ct is mlkem_ct_bytes() long. */
int mlkem_decaps_prepared(const mlkem_dkey *key, const uint8_t *ct, uint8_t ss[32]);

#endif
