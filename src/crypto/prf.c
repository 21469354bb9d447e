/* The TLS 1.2 PRF (RFC 5246 §5): P_hash(secret, label || seed) with HMAC
 * over the suite's hash (SHA-256 or SHA-384). The secret is keyed into the
 * HMAC once (hmac.c) and every A(i) and output block is a gather over
 * A(i) || label || seed1 || seed2, so nothing is copied together. */
#include <string.h>

#include "crypto/internal.h"

int tls12_prf(hash_alg h, const uint8_t *secret, size_t secret_len, const char *label,
              const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
              uint8_t *out, size_t out_len) {
    size_t hl = hash_len(h);
    hmac_key k;
    if (hl == 0 || !label || (!seed1 && seed1_len) || (!seed2 && seed2_len) ||
        hmac_key_init(&k, h, secret, secret_len) != 0)
        return -1;
    uint8_t a[CRYPTO_MAX_HASH], block[CRYPTO_MAX_HASH];
    /* A(1) = HMAC(label || seed); then block i = HMAC(A(i) || label || seed)
     * and A(i+1) = HMAC(A(i)). */
    const uint8_t *parts[4] = {a, (const uint8_t *)label, seed1, seed2};
    size_t lens[4] = {hl, strlen(label), seed1_len, seed2_len};
    int r = hmac_key_mac(&k, 3, parts + 1, lens + 1, a);
    for (size_t done = 0; r == 0 && done < out_len;) {
        r = hmac_key_mac(&k, 4, parts, lens, block);
        if (r) break;
        size_t n = out_len - done < hl ? out_len - done : hl;
        memcpy(out + done, block, n);
        done += n;
        if (done < out_len) {
            const uint8_t *ap[1] = {a};
            r = hmac_key_mac(&k, 1, ap, &hl, a);
        }
    }
    crypto_zero(a, sizeof a);
    crypto_zero(block, sizeof block);
    hmac_key_free(&k);
    return r == 0 ? 0 : -1;
}
