/* The only interface to libcrypto. Everything certa needs from primitives
 * is here; the protocol code never includes an OpenSSL header.
 *
 * Algorithms (EVP_MD, EVP_CIPHER) are fetched once per process, on first
 * use, and shared read-only afterwards. */
#ifndef CERTA_CRYPTO_H
#define CERTA_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_MAX_HASH 64 /* enough for SHA-512 */
#define CRYPTO_MAX_KEY 32
#define CRYPTO_AEAD_NONCE 12
#define CRYPTO_AEAD_TAG 16
#define CRYPTO_MAX_SIG 1024 /* RSA-8192 */

typedef enum { HASH_SHA256 = 0, HASH_SHA384, HASH_SHA512, HASH_SHA1, HASH_COUNT } hash_alg;
/* AEAD_AES128CCM is AES-128-CCM with a 16-byte tag (RFC 8446's
 * TLS_AES_128_CCM_SHA256; not the 8-byte-tag CCM_8). */
typedef enum {
    AEAD_AES128GCM = 0,
    AEAD_AES256GCM,
    AEAD_CHACHA20POLY1305,
    AEAD_AES128CCM,
    AEAD_COUNT
} aead_alg;

/* Opaque handles to libcrypto objects. */
typedef struct evp_pkey_st crypto_key;   /* EVP_PKEY */
typedef struct md_state crypto_hash_ctx; /* SHA state by value (internal.h) */
typedef struct evp_cipher_ctx_st crypto_cipher_ctx;

/* ---- misc ---- */
int crypto_random(uint8_t *out, size_t len);                    /* 0 = ok */
void crypto_zero(void *p, size_t len);                          /* not optimised away */
bool crypto_equal_ct(const void *a, const void *b, size_t len); /* constant time */
#ifdef CERTA_FUZZ
/* Fuzz builds only: crypto_random() and libcrypto's RAND are one
 * deterministic stream (see rand.c); this restarts it from seed. */
void crypto_fuzz_reset_random(uint64_t seed);
#endif

/* ---- hashes ---- */
size_t hash_len(hash_alg h);
int hash_oneshot(hash_alg h, const uint8_t *data, size_t len, uint8_t *out);
/* MD5, for JA3 client fingerprints only (their definition): never for
 * anything that must resist collisions. */
int md5_for_fingerprint(const uint8_t *data, size_t len, uint8_t out[16]);

/* Running hash of a transcript; current() does not end it. */
typedef struct transcript {
    crypto_hash_ctx *ctx;
    hash_alg alg;
} transcript;
int transcript_init(transcript *t, hash_alg h);
int transcript_update(transcript *t, const uint8_t *data, size_t len);
int transcript_current(const transcript *t, uint8_t *out); /* hash_len(alg) bytes */
/* The hash the transcript would have after a and then b, leaving it as is
 * (PSK binders hash a partial ClientHello). */
int transcript_current_with(const transcript *t, const uint8_t *a, size_t a_len, const uint8_t *b,
                            size_t b_len, uint8_t *out);
void transcript_free(transcript *t);

int hmac(hash_alg h, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
         uint8_t *out);

/* ---- HKDF (RFC 5869) and TLS 1.3's HKDF-Expand-Label (RFC 8446 §7.1) ---- */
int hkdf_extract(hash_alg h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                 size_t ikm_len, uint8_t *prk /* hash_len */);
int hkdf_expand(hash_alg h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                size_t info_len, uint8_t *out, size_t out_len);
/* label without the "tls13 " prefix, e.g. "key". */
int hkdf_expand_label(hash_alg h, const uint8_t *secret, const char *label, const uint8_t *context,
                      size_t context_len, uint8_t *out, size_t out_len);
/* Derive-Secret(secret, label, messages) given the transcript hash. */
int derive_secret(hash_alg h, const uint8_t *secret, const char *label,
                  const uint8_t *transcript_hash, uint8_t *out);

/* ---- the TLS 1.2 PRF (RFC 5246 §5) ----
 * PRF(secret, label, seed1 || seed2) into out_len bytes. */
int tls12_prf(hash_alg h, const uint8_t *secret, size_t secret_len, const char *label,
              const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
              uint8_t *out, size_t out_len);

/* ---- AEAD: keyed once, then one call per record ---- */
typedef struct aead_ctx {
    crypto_cipher_ctx *ctx;
    aead_alg alg;
    bool encrypt;
} aead_ctx;
size_t aead_key_len(aead_alg a);
int aead_init(aead_ctx *a, aead_alg alg, const uint8_t *key, bool encrypt);
/* A new key for a context that may already be keyed (a traffic-secret
 * change): reuses the context when alg and direction match. */
int aead_rekey(aead_ctx *a, aead_alg alg, const uint8_t *key, bool encrypt);
/* out must hold in_len + CRYPTO_AEAD_TAG; in and out may be the same. */
int aead_seal(aead_ctx *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
              size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out);
/* Seals the plaintext in[0 .. in_len) || tail[0 .. tail_len) (a gather: the
 * pieces need not be contiguous) into out, which must hold in_len + tail_len
 * + CRYPTO_AEAD_TAG. in may be out; otherwise out must not overlap in or tail. */
int aead_seal_gather(aead_ctx *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t in_len, const uint8_t *tail,
                     size_t tail_len, uint8_t *out);
/* in_len includes the tag; out gets in_len - TAG bytes. Returns -1 when
 * authentication fails, -2 on other errors. In-place allowed. */
int aead_open(aead_ctx *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
              size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out);
void aead_free(aead_ctx *a);

/* ---- key exchange (TLS NamedGroup values) ---- */
/* One side's private half of an exchange in progress (an (EC)DH key, and
 * for a hybrid client its ML-KEM decapsulation key). */
typedef struct kex_state kex_state;
bool kex_group_supported(uint16_t group);
/* An RFC 7919 finite-field group (TLS 1.3 only: certa has no TLS 1.2 DHE suites). */
bool kex_group_is_ffdhe(uint16_t group);
/* A post-quantum hybrid: ML-KEM with an ECDH group (TLS 1.3 only). */
bool kex_group_is_hybrid(uint16_t group);
/* FFDHE or hybrid: not for a TLS 1.2 ECDHE handshake. */
bool kex_group_tls13_only(uint16_t group);
/* Generates an ephemeral key; writes the key_share encoding (x25519/x448:
 * raw bytes; NIST curves: uncompressed point; FFDHE: Y padded to p). */
/* A key share: SecP384r1MLKEM1024's (97 + 1568; ffdhe8192: 1024). */
#define CRYPTO_MAX_PUBKEY 1665
#define CRYPTO_MAX_ECDH_PUBKEY 133 /* P-521 uncompressed */
#define CRYPTO_MAX_ECDH_SECRET 66  /* P-521 */
int kex_generate(uint16_t group, kex_state **st, uint8_t *pub, size_t *pub_len);
/* Shared secret with the peer's key_share; rejects invalid shares.
 * secret must hold CRYPTO_MAX_SHARED bytes; *secret_len is set (output only). */
#define CRYPTO_MAX_SHARED 1024 /* ffdhe8192 (P-521: 66) */
int kex_derive(uint16_t group, kex_state *st, const uint8_t *peer, size_t peer_len, uint8_t *secret,
               size_t *secret_len);
/* The answering side (a TLS 1.3 server) in one step: our share for the
 * peer's, and the secret. Returns 0, KEX_BAD_PEER (the peer's share is
 * invalid: illegal_parameter) or KEX_FAILED (ours could not be made). */
#define KEX_BAD_PEER (-1)
#define KEX_FAILED (-2)
int kex_respond(uint16_t group, const uint8_t *peer, size_t peer_len, uint8_t *pub, size_t *pub_len,
                uint8_t *secret, size_t *secret_len);
/* The classical share sent beside a hybrid one: when group is the hybrid's
 * own ECDH group, its ECDH key is reused (no second keygen); otherwise a
 * fresh key as kex_generate. */
int kex_generate_beside(uint16_t group, const kex_state *hybrid, kex_state **st, uint8_t *pub,
                        size_t *pub_len);
void kex_free(kex_state *st);
/* The (EC)DH private key, and a hybrid's prepared ML-KEM decapsulation key
 * (pq/mlkem.h), inside (for tests that check the halves or look for them in
 * memory). */
struct mlkem_dkey;
crypto_key *kex_state_dh_key(const kex_state *st);
const struct mlkem_dkey *kex_state_kem_key(const kex_state *st);
/* An x25519 private key from its 32 raw bytes (for known-answer tests). */
int kex_x25519_from_raw(const uint8_t priv[32], kex_state **out);

/* ---- signatures (TLS SignatureScheme values) ---- */
/* Does this key type/size fit the scheme (for choosing what to sign with)? */
bool sig_scheme_fits_key(uint16_t scheme, const crypto_key *key);
int sig_sign(uint16_t scheme, crypto_key *key, const uint8_t *msg, size_t len, uint8_t *sig,
             size_t *sig_len /* in: capacity */);
/* 0 = valid, -1 = invalid signature, -2 = other error. */
int sig_verify(uint16_t scheme, crypto_key *pub, const uint8_t *msg, size_t len, const uint8_t *sig,
               size_t sig_len);
/* TLS 1.2's reading of the same schemes: ECDSA names only the hash (any
 * curve, RFC 5246 §7.4.1.4.1) and rsa_pkcs1_* may sign (ServerKeyExchange,
 * CertificateVerify). TLS 1.3 never uses these. */
bool sig_scheme_fits_key_tls12(uint16_t scheme, const crypto_key *key);
int sig_sign_tls12(uint16_t scheme, crypto_key *key, const uint8_t *msg, size_t len, uint8_t *sig,
                   size_t *sig_len);
int sig_verify_tls12(uint16_t scheme, crypto_key *pub, const uint8_t *msg, size_t len,
                     const uint8_t *sig, size_t sig_len);

/* ---- X.509 signatures (certificate path validation) ---- */
/* Verifies sig over msg under pub with the algorithm named by an
 * AlgorithmIdentifier (its SEQUENCE contents, as in x509_cert.sig_alg):
 * sha256/384/512WithRSAEncryption, RSASSA-PSS (SHA-2, MGF1 with the same
 * hash, within an RSASSA-PSS key's own parameters), ecdsa-with-SHA256/384/
 * 512, Ed25519, Ed448. Returns 0 = valid, -1 = invalid signature or key of
 * the wrong type (or whose parameters forbid it), -2 = unsupported or
 * malformed algorithm, -3 = weak algorithm (SHA-1). */
int sig_verify_x509(const uint8_t *alg_id, size_t alg_len, crypto_key *pub, const uint8_t *msg,
                    size_t len, const uint8_t *sig, size_t sig_len);
/* Key policy for certificate public keys (a DER SubjectPublicKeyInfo): RSA
 * (rsaEncryption or RSASSA-PSS, with parameters that allow SHA-2) of at
 * least 2048 bits and a multiple of 8, EC on a named P-256/384/521 curve,
 * Ed25519, Ed448. 0 = acceptable, -1 = refused as weak/unsupported, -2 =
 * malformed; why (if not NULL) gets a phrase such as "a weak RSA key (1024
 * bits; ...)". */
int x509_key_policy(const uint8_t *spki, size_t len, char *why, size_t cap);

/* ---- keys ---- */
/* Private key from PEM (PKCS#8 — RSA, RSA-PSS, EC, Ed25519, Ed448 — or the
 * traditional SEC1 and PKCS#1 forms); NULL on failure. */
crypto_key *key_from_pem(const char *pem, size_t len);
/* A private key that stays on a PKCS#11 token, named by an RFC 7512 URI
 * ("pkcs11:token=t;object=k?pin-source=file:/run/pin"), through libcrypto's
 * engine interface and the "pkcs11" engine (libp11). The PIN comes from
 * pin-value or pin-source (a file's first line); there is never a prompt.
 * The module: the URI's module-path, else default_module (if not NULL),
 * else $PKCS11_MODULE_PATH, else p11-kit-proxy.so, else SoftHSM's module,
 * when present. The key is checked with a test signature (a TLS 1.3 scheme
 * for its type) verified with its public half. 0 = ok; otherwise -1 and why
 * gets a sentence that says what to fix (never the PIN). */
int key_from_pkcs11_uri(const char *uri, const char *default_module, crypto_key **out, char *why,
                        size_t cap);
/* Was the key loaded by key_from_pkcs11_uri? */
bool key_on_token(const crypto_key *key);
/* Public key from a DER SubjectPublicKeyInfo; NULL on failure. */
crypto_key *key_from_spki(const uint8_t *spki, size_t len);
/* Does the private key belong to this public key? */
bool key_pair_matches(const crypto_key *priv, const crypto_key *pub);
/* "ECDSA P-256", "RSA 2048", "Ed25519", ... */
void key_describe(const crypto_key *key, char *out, size_t cap);
/* Families for key size policies (certa_config_set_min_key_bits). */
typedef enum key_family { KEY_FAMILY_OTHER = 0, KEY_FAMILY_RSA, KEY_FAMILY_EC } key_family;
/* The key's size for those policies: the modulus for RSA and RSA-PSS; the
 * curve size for ECDSA (256, 384, 521) and EdDSA, which counts as EC at its
 * comparable curve size (Ed25519 256, Ed448 448). 0 if unknown. */
int key_size_bits(const crypto_key *key, key_family *family);
void key_free(crypto_key *key);

/* Base64 (standard alphabet, padded). Returns output length or -1. */
int base64_encode(const uint8_t *in, size_t len, char *out, size_t cap);
int base64_decode(const char *in, size_t len, uint8_t *out, size_t cap);

#endif
