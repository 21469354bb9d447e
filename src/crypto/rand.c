/* Randomness, zeroization and constant-time comparison. */
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "crypto/crypto.h"

int crypto_random(uint8_t *out, size_t len) {
    while (len > 0) {
        int chunk = len > INT_MAX ? INT_MAX : (int)len;
        if (RAND_bytes(out, chunk) != 1) {
            ERR_clear_error();
            return -1;
        }
        out += chunk;
        len -= (size_t)chunk;
    }
    return 0;
}

void crypto_zero(void *p, size_t len) {
    if (p != NULL && len > 0) OPENSSL_cleanse(p, len);
}

bool crypto_equal_ct(const void *a, const void *b, size_t len) {
    if (len == 0) return true;
    return CRYPTO_memcmp(a, b, len) == 0;
}
