/* Private to src/crypto: the process-wide algorithm table and a keyed HMAC
 * helper shared by hmac.c and hkdf.c. Nothing outside src/crypto includes
 * this file. */
#ifndef CERTA_CRYPTO_INTERNAL_H
#define CERTA_CRYPTO_INTERNAL_H

#include <openssl/evp.h>

#include "crypto/crypto.h"

/* Fetched once per process (pthread_once) and never freed; NULL if the
 * provider does not offer the algorithm or h/a is out of range. */
const EVP_MD *crypto_md(hash_alg h);
const EVP_CIPHER *crypto_cipher(aead_alg a);

/* HMAC keyed once: inner and outer digest states after absorbing the padded
 * key. Each mac() copies them, so one key serves many messages (HKDF-Expand). */
typedef struct hmac_key {
    EVP_MD_CTX *inner;
    EVP_MD_CTX *outer;
    EVP_MD_CTX *work;
    hash_alg alg;
} hmac_key;
int hmac_key_init(hmac_key *k, hash_alg h, const uint8_t *key, size_t key_len);
/* MAC over the concatenation of n parts. out gets hash_len(alg) bytes. */
int hmac_key_mac(hmac_key *k, size_t n, const uint8_t *const *parts, const size_t *lens,
                 uint8_t *out);
void hmac_key_free(hmac_key *k);

#endif
