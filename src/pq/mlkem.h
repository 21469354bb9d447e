/* ML-KEM (FIPS 203): ML-KEM-768 and ML-KEM-1024, the *_internal algorithms
 * (§6) with the input checks of §7.2 and §7.3. Internal API: the TLS hybrid
 * key exchange calls it; nothing here is public certa_* API.
 *
 * Deterministic and allocation-free: the caller supplies the randomness
 * (crypto_random()) as the keygen seed d||z and the encapsulation entropy m.
 * Everything lives on the stack — about 7.5 KiB for keygen and for encaps
 * and 11 KiB for decaps, for either set (buffers are sized for k = 4; measured
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

#endif
