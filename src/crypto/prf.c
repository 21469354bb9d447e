/* The TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label || seed) with
 * HMAC over the suite's hash (SHA-256 or SHA-384), using our own HMAC over
 * the pre-fetched digests like HKDF does. */
#include "crypto/crypto.h"

#include <string.h>

int tls12_prf(hash_alg h, const uint8_t *secret, size_t secret_len, const char *label,
              const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
              uint8_t *out, size_t out_len) {
    size_t hl = hash_len(h), label_len = strlen(label);
    /* label || seed1 || seed2, then A(i) || label || seed for each block. */
    uint8_t seed[CRYPTO_MAX_HASH + 160];
    size_t seed_len = label_len + seed1_len + seed2_len;
    if (hl == 0 || seed_len > sizeof seed - CRYPTO_MAX_HASH) return -1;
    memcpy(seed + CRYPTO_MAX_HASH, label, label_len);
    if (seed1_len) memcpy(seed + CRYPTO_MAX_HASH + label_len, seed1, seed1_len);
    if (seed2_len) memcpy(seed + CRYPTO_MAX_HASH + label_len + seed1_len, seed2, seed2_len);
    uint8_t a[CRYPTO_MAX_HASH], block[CRYPTO_MAX_HASH];
    int r = hmac(h, secret, secret_len, seed + CRYPTO_MAX_HASH, seed_len, a); /* A(1) */
    size_t done = 0;
    while (r == 0 && done < out_len) {
        /* HMAC(secret, A(i) || label || seed): A(i) sits just before the seed. */
        memcpy(seed + CRYPTO_MAX_HASH - hl, a, hl);
        r = hmac(h, secret, secret_len, seed + CRYPTO_MAX_HASH - hl, hl + seed_len, block);
        if (r) break;
        size_t n = out_len - done < hl ? out_len - done : hl;
        memcpy(out + done, block, n);
        done += n;
        if (done < out_len) r = hmac(h, secret, secret_len, a, hl, a); /* A(i+1) */
    }
    crypto_zero(a, sizeof a);
    crypto_zero(block, sizeof block);
    crypto_zero(seed, sizeof seed);
    return r == 0 ? 0 : -1;
}
