/* Randomness, zeroization and constant-time comparison.
 *
 * Fuzz builds (-DCERTA_FUZZ) replace every source of randomness with one
 * deterministic stream, so a crash found by a fuzzer reproduces from its input
 * alone: block i of the stream is SHA-256("certa fuzz rand" || seed || i),
 * both 64-bit big-endian. crypto_random() reads the stream, and so does
 * libcrypto itself: a RAND_METHOD installed at process start routes
 * RAND_bytes/RAND_priv_bytes (key generation, ECDSA nonces, RSA-PSS salts)
 * to it. crypto_fuzz_reset_random() restarts the stream; fuzz targets call it
 * at the start of every input. Never defined in a normal build. */
#ifdef CERTA_FUZZ
#define OPENSSL_SUPPRESS_DEPRECATED /* RAND_METHOD: fuzz builds only */
#endif
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "crypto/crypto.h"

#ifdef CERTA_FUZZ
#include <pthread.h>

static pthread_mutex_t fuzz_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t fuzz_seed, fuzz_block;
static uint8_t fuzz_buf[32];
static size_t fuzz_avail; /* unread bytes at the end of fuzz_buf */

static int fuzz_stream(uint8_t *out, size_t len) {
    pthread_mutex_lock(&fuzz_lock);
    int rc = 0;
    while (len > 0) {
        if (fuzz_avail == 0) {
            uint8_t in[15 + 16];
            memcpy(in, "certa fuzz rand", 15);
            for (int i = 0; i < 8; i++) {
                in[15 + i] = (uint8_t)(fuzz_seed >> (56 - 8 * i));
                in[23 + i] = (uint8_t)(fuzz_block >> (56 - 8 * i));
            }
            if (hash_oneshot(HASH_SHA256, in, sizeof in, fuzz_buf) != 0) {
                rc = -1;
                break;
            }
            fuzz_block++;
            fuzz_avail = sizeof fuzz_buf;
        }
        size_t n = len < fuzz_avail ? len : fuzz_avail;
        memcpy(out, fuzz_buf + sizeof fuzz_buf - fuzz_avail, n);
        fuzz_avail -= n;
        out += n;
        len -= n;
    }
    pthread_mutex_unlock(&fuzz_lock);
    return rc;
}

void crypto_fuzz_reset_random(uint64_t seed) {
    pthread_mutex_lock(&fuzz_lock);
    fuzz_seed = seed;
    fuzz_block = 0;
    fuzz_avail = 0;
    pthread_mutex_unlock(&fuzz_lock);
}

static int fuzz_rand_bytes(unsigned char *buf, int num) {
    return num >= 0 && fuzz_stream(buf, (size_t)num) == 0 ? 1 : 0;
}
static int fuzz_rand_seed(const void *buf, int num) {
    (void)buf;
    (void)num;
    return 1;
}
static int fuzz_rand_add(const void *buf, int num, double entropy) {
    (void)buf;
    (void)num;
    (void)entropy;
    return 1;
}
static int fuzz_rand_status(void) {
    return 1;
}
static const RAND_METHOD fuzz_rand_method = {
    fuzz_rand_seed, fuzz_rand_bytes, NULL, fuzz_rand_add, fuzz_rand_bytes, fuzz_rand_status,
};

__attribute__((constructor)) static void fuzz_rand_install(void) {
    if (RAND_set_rand_method(&fuzz_rand_method) != 1) abort();
}

int crypto_random(uint8_t *out, size_t len) {
    return fuzz_stream(out, len);
}
#else
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
#endif

/* memset followed by a compiler barrier that claims to read the memory, so
 * the stores cannot be dropped as dead (what glibc's explicit_bzero does).
 * OPENSSL_cleanse is a byte/word loop: ~10x the instructions of memset for
 * the hash states zeroized on every HMAC. */
void crypto_zero(void *p, size_t len) {
    if (p == NULL || len == 0) return;
#if defined(__GNUC__) || defined(__clang__)
    memset(p, 0, len);
    __asm__ __volatile__("" : : "r"(p) : "memory");
#else
    OPENSSL_cleanse(p, len);
#endif
}

bool crypto_equal_ct(const void *a, const void *b, size_t len) {
    if (len == 0) return true;
    return CRYPTO_memcmp(a, b, len) == 0;
}
