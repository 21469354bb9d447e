/* HPKE (RFC 9180), base mode only, on libcrypto primitives: what Encrypted
 * Client Hello (RFC 9849) seals ClientHelloInner with.
 *
 * KEMs: DHKEM(P-256, HKDF-SHA256) and DHKEM(X25519, HKDF-SHA256). KDFs:
 * HKDF-SHA256, -SHA384, -SHA512. AEADs: AES-128-GCM, AES-256-GCM,
 * ChaCha20-Poly1305, and the export-only "AEAD" (0xffff: a context that
 * seals nothing but exports secrets; hpke_suite_supported() says false for
 * it, as ECH cannot use it).
 *
 * All functions return 0 on success, -1 on failure (crypto.h's convention).
 * A context lives by value (no heap) and holds secrets: hpke_ctx_wipe() it
 * when done. */
#ifndef CERTA_CRYPTO_HPKE_H
#define CERTA_CRYPTO_HPKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HPKE_KEM_P256_HKDF_SHA256 0x0010
#define HPKE_KEM_X25519_HKDF_SHA256 0x0020
#define HPKE_KDF_HKDF_SHA256 0x0001
#define HPKE_KDF_HKDF_SHA384 0x0002
#define HPKE_KDF_HKDF_SHA512 0x0003
#define HPKE_AEAD_AES_128_GCM 0x0001
#define HPKE_AEAD_AES_256_GCM 0x0002
#define HPKE_AEAD_CHACHA20_POLY1305 0x0003
#define HPKE_AEAD_EXPORT_ONLY 0xffff
#define HPKE_MAX_ENC 65     /* Nenc = Npk: 32 (X25519), 65 (P-256 uncompressed) */
#define HPKE_MAX_PRIVATE 32 /* Nsk */
#define HPKE_TAG 16
#define HPKE_NONCE 12
#define HPKE_MAX_KEY 32
#define HPKE_MAX_HASH 64

typedef struct hpke_ctx {
    uint16_t kem, kdf, aead;
    uint8_t key[HPKE_MAX_KEY]; /* Nk bytes (none for export-only) */
    uint8_t base_nonce[HPKE_NONCE];
    uint64_t seq; /* the next message's sequence number */
    uint8_t exporter_secret[HPKE_MAX_HASH];
    bool ready;
} hpke_ctx;

bool hpke_kem_supported(uint16_t kem);
/* A KDF and an AEAD that can seal and open (export-only is not). */
bool hpke_suite_supported(uint16_t kdf, uint16_t aead);
size_t hpke_kem_enc_len(uint16_t kem); /* 0 if unsupported */
size_t hpke_kem_private_len(uint16_t kem);
int hpke_generate_keypair(uint16_t kem, uint8_t *sk, uint8_t *pk); /* random; sizes as above */
int hpke_derive_keypair(uint16_t kem, const uint8_t *ikm, size_t ikm_len, uint8_t *sk, uint8_t *pk);
/* -1 also for a private key that is not one (P-256: 0 or not below the order). */
int hpke_public_from_private(uint16_t kem, const uint8_t *sk, size_t sk_len, uint8_t *pk);
int hpke_setup_base_sender(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                           const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                           size_t info_len, uint8_t *enc /* hpke_kem_enc_len(kem) bytes */);
/* The same with the ephemeral key derived from ikm_e: RFC 9180's test
 * vectors (and deterministic fuzzing) only. */
int hpke_setup_base_sender_with_ikm(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                                    const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                                    size_t info_len, const uint8_t *ikm_e, size_t ikm_e_len,
                                    uint8_t *enc);
/* A recipient's private key prepared once for many SetupBaseR (a server's
 * ECH key): NULL if sk is not a key of kem. Read-only after creation, so
 * one can serve many threads at once. */
typedef struct hpke_key hpke_key;
hpke_key *hpke_key_new(uint16_t kem, const uint8_t *sk, size_t sk_len);
const uint8_t *hpke_key_public(const hpke_key *key, size_t *len); /* its serialized pkR */
void hpke_key_free(hpke_key *key);
int hpke_setup_base_recipient_key(hpke_ctx *ctx, const hpke_key *key, uint16_t kdf, uint16_t aead,
                                  const uint8_t *enc, size_t enc_len, const uint8_t *info,
                                  size_t info_len);
int hpke_setup_base_recipient(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                              const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
                              size_t sk_r_len, const uint8_t *info, size_t info_len);
int hpke_seal(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
              uint8_t *ct /* pt_len + HPKE_TAG */);
/* -1 when authentication fails; the sequence number advances only on success. */
int hpke_open(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
              uint8_t *pt /* ct_len - HPKE_TAG */);
int hpke_export(const hpke_ctx *ctx, const uint8_t *exporter_context, size_t context_len,
                uint8_t *out, size_t out_len);
void hpke_ctx_wipe(hpke_ctx *ctx);

/* ---- key files (hpke_key_pem.c) ----
 * An HPKE private key as PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"): an
 * X25519 key (RFC 8410) or a P-256 EC key, so that openssl pkey reads it.
 * A malloc'd NUL-terminated text (*len without the NUL), which the caller
 * crypto_zero()s and frees; NULL on failure. */
char *hpke_private_key_to_pem(uint16_t kem, const uint8_t *sk, size_t sk_len, size_t *len);
/* Reads such a PEM (PKCS#8, or SEC1 "EC PRIVATE KEY" for P-256): *kem and
 * sk (Nsk = 32 bytes) are set. 0, or -1 for anything else (another key
 * type or curve, malformed text). */
int hpke_private_key_from_pem(const char *pem, size_t len, uint16_t *kem, uint8_t *sk);

#endif
