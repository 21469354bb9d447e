/* TEMPORARY copy of the interface ech-hpke owns (dropped at the merge). */
#ifndef CERTA_HPKE_H
#define CERTA_HPKE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#define HPKE_KEM_P256_HKDF_SHA256 0x0010
#define HPKE_KEM_X25519_HKDF_SHA256 0x0020
#define HPKE_KDF_HKDF_SHA256 0x0001
#define HPKE_KDF_HKDF_SHA384 0x0002
#define HPKE_AEAD_AES_128_GCM 0x0001
#define HPKE_AEAD_AES_256_GCM 0x0002
#define HPKE_AEAD_CHACHA20_POLY1305 0x0003
#define HPKE_MAX_ENC 65
#define HPKE_MAX_PRIVATE 32
#define HPKE_TAG 16
typedef struct hpke_ctx {
    uint16_t kem, kdf, aead;
    uint8_t key[32], base_nonce[12], exporter_secret[64];
    uint64_t seq;
} hpke_ctx;
bool hpke_kem_supported(uint16_t kem);
bool hpke_suite_supported(uint16_t kdf, uint16_t aead);
size_t hpke_kem_enc_len(uint16_t kem);
size_t hpke_kem_private_len(uint16_t kem);
int hpke_generate_keypair(uint16_t kem, uint8_t *sk, uint8_t *pk);
int hpke_derive_keypair(uint16_t kem, const uint8_t *ikm, size_t ikm_len, uint8_t *sk, uint8_t *pk);
int hpke_public_from_private(uint16_t kem, const uint8_t *sk, size_t sk_len, uint8_t *pk);
int hpke_setup_base_sender(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                           const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                           size_t info_len, uint8_t *enc);
int hpke_setup_base_sender_with_ikm(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                                    const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                                    size_t info_len, const uint8_t *ikm_e, size_t ikm_e_len,
                                    uint8_t *enc);
int hpke_setup_base_recipient(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                              const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
                              size_t sk_r_len, const uint8_t *info, size_t info_len);
int hpke_seal(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
              uint8_t *ct);
int hpke_open(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
              uint8_t *pt);
int hpke_export(const hpke_ctx *ctx, const uint8_t *exporter_context, size_t context_len,
                uint8_t *out, size_t out_len);
void hpke_ctx_wipe(hpke_ctx *ctx);
#endif
