/* Private to src/crypto: the process-wide algorithm table and a keyed HMAC
 * helper shared by hmac.c and hkdf.c. Nothing outside src/crypto includes
 * this file. */
#ifndef CERTA_CRYPTO_INTERNAL_H
#define CERTA_CRYPTO_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "crypto/crypto.h"

/* Fetched once per process (pthread_once) and never freed; NULL if the
 * provider does not offer the algorithm or h/a is out of range. */
const EVP_MD *crypto_md(hash_alg h);
const EVP_CIPHER *crypto_cipher(aead_alg a);

/* A SHA-1/SHA-2 state held by value: libcrypto's low-level contexts, which
 * run the same assembly as the EVP digests but copy by assignment and need
 * no allocation or provider call (an EVP_MD_CTX costs a malloc per copy).
 * hash.c wraps the (deprecated in 3.0, still present) SHA*_Init/Update/Final
 * calls; nothing else touches the union. */
typedef struct md_state {
    hash_alg alg;
    union {
        SHA_CTX sha1;
        SHA256_CTX sha256;
        SHA512_CTX sha512; /* SHA-384 and SHA-512 */
    } u;
} md_state;
int md_init(md_state *s, hash_alg h); /* 0 = ok, -1 = unknown hash */
void md_update(md_state *s, const void *data, size_t len);
void md_final(md_state *s, uint8_t *out); /* hash_len(s->alg) bytes */
size_t md_block_size(hash_alg h);         /* 64 or 128; 0 if unknown */

/* HMAC keyed once: inner and outer digest states after absorbing the padded
 * key. Each mac() copies them, so one key serves many messages (HKDF-Expand).
 * Lives on the stack; hmac_key_free() zeroizes it. */
typedef struct hmac_key {
    md_state inner;
    md_state outer;
    hash_alg alg;
    bool ready;
} hmac_key;
int hmac_key_init(hmac_key *k, hash_alg h, const uint8_t *key, size_t key_len);
/* MAC over the concatenation of n parts. out gets hash_len(alg) bytes. */
int hmac_key_mac(const hmac_key *k, size_t n, const uint8_t *const *parts, const size_t *lens,
                 uint8_t *out);
void hmac_key_free(hmac_key *k);

#endif
