/* Private to src/crypto: the process-wide algorithm table and a keyed HMAC
 * helper shared by hmac.c and hkdf.c. Nothing outside src/crypto includes
 * this file. */
#ifndef CERTA_CRYPTO_INTERNAL_H
#define CERTA_CRYPTO_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "crypto/crypto.h"
#include "wire/cursor.h"

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

/* ---- what certa keeps with a key object (keys.c) ----
 * Creating libcrypto objects from a key is costly in OpenSSL 3.0: every
 * EVP_PKEY_CTX_new_from_pkey and every new EVP_PKEY walks the whole name map
 * for the key type's legacy alias (~13k instructions), and
 * EVP_PKEY_get_group_name asks the provider for all its parameters (~3k).
 * So each key object carries (in its ex_data, freed with it) its type and
 * curve, determined once; prepared signing contexts, which each signature
 * copies with EVP_PKEY_CTX_dup (~0.5k); and, for public keys from
 * key_from_spki, a verification context of its own. */
typedef enum {
    KEY_UNKNOWN,
    KEY_EC,
    KEY_RSA,
    KEY_RSA_PSS,
    KEY_ED25519,
    KEY_ED448,
    KEY_X25519,
    KEY_OTHER
} key_type;
/* RSASSA-PSS-params (RFC 4055 §3.1; pss_params.c). */
typedef struct pss_params {
    hash_alg hash, mgf_hash;
    int salt; /* in a key's parameters: the minimum salt length */
} pss_params;
/* params: the DER SEQUENCE, tag included. Absent fields take RFC 4055's
 * defaults (SHA-1, MGF1 with SHA-1, salt 20); the trailer field must be 1.
 * 0 = ok, -2 = malformed or a hash other than SHA-1 and SHA-2. */
int pss_params_parse(cursor params, pss_params *out);
bool pss_params_weak(const pss_params *p); /* SHA-1 anywhere */

typedef struct key_info {
    key_type type;
    const char *curve; /* KEY_EC: "P-256", "P-384", "P-521"; NULL for other curves */
    int bits;          /* EVP_PKEY_get_bits */
    /* KEY_RSA_PSS whose SubjectPublicKeyInfo carries parameters: it signs
     * only with pss.hash, MGF1 with pss.mgf_hash and a salt of at least
     * pss.salt bytes (RFC 4055 §3.1, RFC 8446 §4.2.3). pss_bad: parameters
     * certa cannot read; the key fits no scheme. */
    bool pss_restricted, pss_bad;
    pss_params pss;
} key_info;
void key_info_get(const EVP_PKEY *key, key_info *out);

/* Builds a context for key (its *_init done); arg is passed through. */
typedef EVP_PKEY_CTX *(*key_ctx_maker)(EVP_PKEY *key, const void *arg);
/* A new context for signing with key under scheme (the caller frees it):
 * a copy of one prepared once per key and scheme with make (on a private
 * duplicate of the key, so the key can still be freed); NULL if none could
 * be had, and the caller makes its own. Safe on keys shared between threads. */
EVP_PKEY_CTX *key_sign_ctx(EVP_PKEY *key, uint16_t scheme, key_ctx_maker make, const void *arg);
/* For an EC public key from key_from_spki: its own verification context
 * (made with make on first use and kept across the key's reuse: key_free
 * keeps such keys per thread, and key_from_spki only replaces their point).
 * NULL for any other key, or while another thread holds the context (then
 * the caller makes its own). A context taken is given back with
 * key_verify_ctx_put, never freed. */
/* Marks a key loaded through the PKCS#11 engine (token_keys.c): such keys
 * cannot be duplicated (libp11's EC keys crash when a duplicate is freed),
 * so key_sign_ctx keeps no prototypes for them and each signature makes
 * its context on the key itself. */
int key_mark_on_token(EVP_PKEY *key);
EVP_PKEY_CTX *key_verify_ctx_take(EVP_PKEY *key, key_ctx_maker make, const void *arg);
void key_verify_ctx_put(EVP_PKEY *key);

/* An HPKE private key (Nsk bytes, hpke.h's KEM id) as a libcrypto key
 * (hpke.c), its serialized public key into pk unless NULL; NULL if sk is
 * not a key of that KEM. The caller frees it. */
EVP_PKEY *hpke_private_pkey(uint16_t kem, const uint8_t *sk, size_t sk_len, uint8_t *pk);

#endif
