/* Process-wide table of fetched algorithms. Fetching (EVP_MD_fetch,
 * EVP_CIPHER_fetch) walks the provider store and takes locks, so it is done
 * exactly once, on first use, and the results are shared read-only. */
#include <pthread.h>

#include "crypto/internal.h"

static pthread_once_t algs_once = PTHREAD_ONCE_INIT;
static EVP_MD *mds[HASH_COUNT];
static EVP_CIPHER *ciphers[AEAD_COUNT];

static void algs_fetch(void) {
    static const char *const md_names[HASH_COUNT] = {
        [HASH_SHA256] = "SHA2-256",
        [HASH_SHA384] = "SHA2-384",
        [HASH_SHA512] = "SHA2-512",
        [HASH_SHA1] = "SHA1",
    };
    static const char *const cipher_names[AEAD_COUNT] = {
        [AEAD_AES128GCM] = "AES-128-GCM",
        [AEAD_AES256GCM] = "AES-256-GCM",
        [AEAD_CHACHA20POLY1305] = "ChaCha20-Poly1305",
        [AEAD_AES128CCM] = "AES-128-CCM",
    };
    for (int i = 0; i < HASH_COUNT; i++)
        mds[i] = EVP_MD_fetch(NULL, md_names[i], NULL);
    for (int i = 0; i < AEAD_COUNT; i++)
        ciphers[i] = EVP_CIPHER_fetch(NULL, cipher_names[i], NULL);
}

const EVP_MD *crypto_md(hash_alg h) {
    if ((unsigned)h >= HASH_COUNT) return NULL;
    if (pthread_once(&algs_once, algs_fetch) != 0) return NULL;
    return mds[h];
}

const EVP_CIPHER *crypto_cipher(aead_alg a) {
    if ((unsigned)a >= AEAD_COUNT) return NULL;
    if (pthread_once(&algs_once, algs_fetch) != 0) return NULL;
    return ciphers[a];
}
