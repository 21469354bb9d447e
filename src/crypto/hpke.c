/* HPKE base mode (RFC 9180 §4, §5.1): DHKEM on libcrypto's X25519 and P-256,
 * the labeled HKDF of §4 on hmac_key (the labeled input is hashed in parts,
 * never assembled), and the AEAD through aead.c, keyed per message (ECH
 * seals or opens once or twice per handshake, so a context keeps bytes, not
 * a libcrypto object, and needs no freeing beyond its wipe). */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "crypto/hpke.h"
#include "crypto/internal.h"

#define HPKE_MODE_BASE 0x00
#define DHKEM_SECRET 32       /* Nsecret of both KEMs (HKDF-SHA256) */
#define TLS_GROUP_P256 0x0017 /* the KEMs' DH groups as TLS NamedGroups, for kex.c */
#define TLS_GROUP_X25519 0x001d

/* A private key prepared once (a server's ECH key, when it is added): the
 * key object costs a base multiplication and a provider lookup, so it is made
 * once and then only read (libcrypto key objects are safe to share read-only
 * between threads). */
struct hpke_key {
    uint16_t kem;
    EVP_PKEY *sk;
    uint8_t pk[HPKE_MAX_ENC];
};

static const uint8_t hpke_v1[7] = {'H', 'P', 'K', 'E', '-', 'v', '1'};

bool hpke_kem_supported(uint16_t kem) {
    return kem == HPKE_KEM_X25519_HKDF_SHA256 || kem == HPKE_KEM_P256_HKDF_SHA256;
}

static int kdf_hash(uint16_t kdf, hash_alg *h) {
    switch (kdf) {
    case HPKE_KDF_HKDF_SHA256:
        *h = HASH_SHA256;
        return 0;
    case HPKE_KDF_HKDF_SHA384:
        *h = HASH_SHA384;
        return 0;
    case HPKE_KDF_HKDF_SHA512:
        *h = HASH_SHA512;
        return 0;
    default:
        return -1;
    }
}

static int aead_of(uint16_t aead, aead_alg *a) {
    switch (aead) {
    case HPKE_AEAD_AES_128_GCM:
        *a = AEAD_AES128GCM;
        return 0;
    case HPKE_AEAD_AES_256_GCM:
        *a = AEAD_AES256GCM;
        return 0;
    case HPKE_AEAD_CHACHA20_POLY1305:
        *a = AEAD_CHACHA20POLY1305;
        return 0;
    default:
        return -1;
    }
}

bool hpke_suite_supported(uint16_t kdf, uint16_t aead) {
    hash_alg h;
    aead_alg a;
    return kdf_hash(kdf, &h) == 0 && aead_of(aead, &a) == 0;
}

size_t hpke_kem_enc_len(uint16_t kem) {
    return kem == HPKE_KEM_X25519_HKDF_SHA256 ? 32 : kem == HPKE_KEM_P256_HKDF_SHA256 ? 65 : 0;
}

size_t hpke_kem_private_len(uint16_t kem) {
    return hpke_kem_supported(kem) ? 32 : 0;
}

/* ---- labeled HKDF (§4) ---- */

typedef struct suite_id {
    uint8_t b[10];
    size_t len;
} suite_id;

static suite_id kem_suite(uint16_t kem) {
    suite_id s = {{'K', 'E', 'M', (uint8_t)(kem >> 8), (uint8_t)kem}, 5};
    return s;
}

static suite_id hpke_suite(uint16_t kem, uint16_t kdf, uint16_t aead) {
    suite_id s = {{'H', 'P', 'K', 'E', (uint8_t)(kem >> 8), (uint8_t)kem, (uint8_t)(kdf >> 8),
                   (uint8_t)kdf, (uint8_t)(aead >> 8), (uint8_t)aead},
                  10};
    return s;
}

/* LabeledExtract(salt, label, ikm) = HKDF-Extract(salt, "HPKE-v1" || suite_id || label || ikm) */
static int labeled_extract(hash_alg h, const suite_id *sid, const uint8_t *salt, size_t salt_len,
                           const char *label, const uint8_t *ikm, size_t ikm_len, uint8_t *prk) {
    static const uint8_t zeros[HPKE_MAX_HASH];
    hmac_key k;
    if (salt_len == 0) {
        salt = zeros;
        salt_len = hash_len(h);
    }
    if (hmac_key_init(&k, h, salt, salt_len) != 0) return -1;
    const uint8_t *parts[4] = {hpke_v1, sid->b, (const uint8_t *)label, ikm};
    size_t lens[4] = {sizeof hpke_v1, sid->len, strlen(label), ikm_len};
    int rc = hmac_key_mac(&k, 4, parts, lens, prk);
    hmac_key_free(&k);
    return rc;
}

/* LabeledExpand(prk, label, info, L) = HKDF-Expand(prk, I2OSP(L, 2) ||
 * "HPKE-v1" || suite_id || label || info, L); info may come in two pieces
 * (DHKEM's kem_context is enc || pkRm). The labeled info is public. */
static int labeled_expand2(hash_alg h, const suite_id *sid, const uint8_t *prk, const char *label,
                           const uint8_t *info, size_t info_len, const uint8_t *info2,
                           size_t info2_len, uint8_t *out, size_t out_len) {
    size_t hl = hash_len(h);
    if (hl == 0 || out_len > 255 * hl || out_len > 0xffff) return -1;
    builder b;
    bld_init_alloc(&b, 2 + sizeof hpke_v1 + sid->len + strlen(label) + info_len + info2_len);
    bld_u16(&b, (uint16_t)out_len);
    bld_bytes(&b, hpke_v1, sizeof hpke_v1);
    bld_bytes(&b, sid->b, sid->len);
    bld_bytes(&b, label, strlen(label));
    bld_bytes(&b, info, info_len);
    bld_bytes(&b, info2, info2_len);
    int rc = bld_ok(&b) ? hkdf_expand(h, prk, hl, b.buf, b.len, out, out_len) : -1;
    bld_free(&b);
    return rc;
}

static int labeled_expand(hash_alg h, const suite_id *sid, const uint8_t *prk, const char *label,
                          const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len) {
    return labeled_expand2(h, sid, prk, label, info, info_len, NULL, 0, out, out_len);
}

/* ---- the two DH groups ---- */

/* A P-256 private key object from a scalar already checked to be in
 * [1, n-1], with its public point computed (libcrypto 3.0's fromdata does
 * not derive it); pk gets the uncompressed point when not NULL. */
static EVP_PKEY *p256_private(const uint8_t sk[32], uint8_t *pk) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *pctx = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    EC_POINT *point = NULL;
    BIGNUM *d = BN_secure_new();
    uint8_t pub[65];
    if (group == NULL || d == NULL || BN_bin2bn(sk, 32, d) == NULL) goto out;
    point = EC_POINT_new(group);
    if (point == NULL || EC_POINT_mul(group, point, d, NULL, NULL, NULL) != 1 ||
        EC_POINT_point2oct(group, point, POINT_CONVERSION_UNCOMPRESSED, pub, sizeof pub, NULL) !=
            sizeof pub)
        goto out;
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof pub) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) != 1)
        goto out;
    params = OSSL_PARAM_BLD_to_param(bld);
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    if (params == NULL || pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_KEYPAIR, params) != 1) {
        key = NULL;
        goto out;
    }
    if (pk != NULL) memcpy(pk, pub, sizeof pub);
out:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    EVP_PKEY_CTX_free(pctx);
    EC_POINT_free(point);
    EC_GROUP_free(group);
    BN_clear_free(d);
    ERR_clear_error();
    return key;
}

/* Is sk a P-256 private key: 0 < sk < n? (A public bound on a secret value;
 * the comparison leaks only whether a DeriveKeyPair candidate was refused,
 * which RFC 9180 §7.1.3's loop makes public anyway.) */
static bool p256_scalar_ok(const uint8_t sk[32]) {
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *d = BN_secure_new();
    bool ok = group != NULL && d != NULL && BN_bin2bn(sk, 32, d) != NULL && !BN_is_zero(d) &&
              BN_cmp(d, EC_GROUP_get0_order(group)) < 0;
    BN_clear_free(d);
    EC_GROUP_free(group);
    ERR_clear_error();
    return ok;
}

/* Our private key as an EVP_PKEY (and its serialized public key into pk). */
EVP_PKEY *hpke_private_pkey(uint16_t kem, const uint8_t *sk, size_t sk_len, uint8_t *pk) {
    if (sk == NULL || sk_len != hpke_kem_private_len(kem)) return NULL;
    if (kem == HPKE_KEM_P256_HKDF_SHA256) return p256_scalar_ok(sk) ? p256_private(sk, pk) : NULL;
    if (kem != HPKE_KEM_X25519_HKDF_SHA256) return NULL;
    EVP_PKEY *key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, sk, sk_len);
    size_t n = 32;
    if (key != NULL && pk != NULL && (EVP_PKEY_get_raw_public_key(key, pk, &n) != 1 || n != 32)) {
        EVP_PKEY_free(key);
        key = NULL;
    }
    ERR_clear_error();
    return key;
}

/* The peer's serialized public key (DeserializePublicKey), validated: for
 * P-256 setting the encoded point refuses points off the curve, and the
 * exact uncompressed length rules out infinity (cofactor 1). */
static EVP_PKEY *public_key(uint16_t kem, EVP_PKEY *ours, const uint8_t *pk, size_t pk_len) {
    if (pk == NULL || pk_len != hpke_kem_enc_len(kem)) return NULL;
    EVP_PKEY *key = NULL;
    if (kem == HPKE_KEM_X25519_HKDF_SHA256) {
        key = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, pk, pk_len);
    } else if (pk[0] == 0x04) {
        key = EVP_PKEY_new();
        if (key != NULL && (EVP_PKEY_copy_parameters(key, ours) != 1 ||
                            EVP_PKEY_set1_encoded_public_key(key, pk, pk_len) != 1)) {
            EVP_PKEY_free(key);
            key = NULL;
        }
    }
    ERR_clear_error();
    return key;
}

/* DH(sk, pk) into dh (32 bytes for both groups); refuses an all-zero X25519
 * result (a low-order point, RFC 9180 §7.1.4). */
static int dh(EVP_PKEY *ours, EVP_PKEY *theirs, uint8_t dh_out[32]) {
    static const uint8_t zeros[32];
    uint8_t buf[32];
    size_t n = sizeof buf;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, ours, NULL);
    int rc = -1;
    if (pctx != NULL && EVP_PKEY_derive_init(pctx) == 1 &&
        EVP_PKEY_derive_set_peer_ex(pctx, theirs, 1) == 1 && EVP_PKEY_derive(pctx, buf, &n) == 1 &&
        n == sizeof buf && !crypto_equal_ct(buf, zeros, n)) {
        memcpy(dh_out, buf, n);
        rc = 0;
    }
    crypto_zero(buf, sizeof buf);
    EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    return rc;
}

/* ExtractAndExpand(dh, enc || pkRm) (§4.1). */
static int dhkem_shared_secret(uint16_t kem, const uint8_t dh_val[32], const uint8_t *enc,
                               const uint8_t *pk_rm, size_t npk, uint8_t *shared) {
    suite_id sid = kem_suite(kem);
    uint8_t prk[32];
    int rc = labeled_extract(HASH_SHA256, &sid, NULL, 0, "eae_prk", dh_val, 32, prk) == 0 &&
                     labeled_expand2(HASH_SHA256, &sid, prk, "shared_secret", enc, npk, pk_rm, npk,
                                     shared, DHKEM_SECRET) == 0
                 ? 0
                 : -1;
    crypto_zero(prk, sizeof prk);
    return rc;
}

/* DeriveKeyPair (§7.1.3) as a key object; sk and pk get its bytes. */
static EVP_PKEY *derive_pkey(uint16_t kem, const uint8_t *ikm, size_t ikm_len, uint8_t *sk,
                             uint8_t *pk) {
    if (!hpke_kem_supported(kem) || (ikm == NULL && ikm_len > 0) || sk == NULL || pk == NULL)
        return NULL;
    suite_id sid = kem_suite(kem);
    uint8_t prk[32], cand[32];
    EVP_PKEY *key = NULL;
    if (labeled_extract(HASH_SHA256, &sid, NULL, 0, "dkp_prk", ikm, ikm_len, prk) != 0) goto out;
    if (kem == HPKE_KEM_X25519_HKDF_SHA256) {
        if (labeled_expand(HASH_SHA256, &sid, prk, "sk", NULL, 0, cand, 32) != 0) goto out;
    } else {
        /* §7.1.3: candidates until one is in [1, n-1] (P-256's bitmask is 0xff). */
        bool found = false;
        for (unsigned counter = 0; counter < 256 && !found; counter++) {
            uint8_t c = (uint8_t)counter;
            if (labeled_expand(HASH_SHA256, &sid, prk, "candidate", &c, 1, cand, 32) != 0) goto out;
            found = p256_scalar_ok(cand);
        }
        if (!found) goto out;
    }
    key = hpke_private_pkey(kem, cand, 32, pk);
    if (key != NULL) memcpy(sk, cand, 32);
out:
    crypto_zero(prk, sizeof prk);
    crypto_zero(cand, sizeof cand);
    return key;
}

int hpke_derive_keypair(uint16_t kem, const uint8_t *ikm, size_t ikm_len, uint8_t *sk,
                        uint8_t *pk) {
    EVP_PKEY *key = derive_pkey(kem, ikm, ikm_len, sk, pk);
    EVP_PKEY_free(key);
    return key != NULL ? 0 : -1;
}

int hpke_generate_keypair(uint16_t kem, uint8_t *sk, uint8_t *pk) {
    /* DeriveKeyPair from Nsk random bytes: uniform for both groups. */
    uint8_t ikm[32];
    int rc = crypto_random(ikm, sizeof ikm) == 0 ? hpke_derive_keypair(kem, ikm, sizeof ikm, sk, pk)
                                                 : -1;
    crypto_zero(ikm, sizeof ikm);
    return rc;
}

int hpke_public_from_private(uint16_t kem, const uint8_t *sk, size_t sk_len, uint8_t *pk) {
    if (pk == NULL) return -1;
    EVP_PKEY *key = hpke_private_pkey(kem, sk, sk_len, pk);
    EVP_PKEY_free(key);
    return key != NULL ? 0 : -1;
}

/* ---- the key schedule (§5.1) ---- */

static int key_schedule(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                        const uint8_t shared[DHKEM_SECRET], const uint8_t *info, size_t info_len) {
    hash_alg h;
    aead_alg a;
    bool export_only = aead == HPKE_AEAD_EXPORT_ONLY;
    if (kdf_hash(kdf, &h) != 0 || (!export_only && aead_of(aead, &a) != 0)) return -1;
    size_t hl = hash_len(h), nk = export_only ? 0 : aead_key_len(a);
    suite_id sid = hpke_suite(kem, kdf, aead);
    uint8_t ksc[1 + 2 * HPKE_MAX_HASH], secret[HPKE_MAX_HASH];
    int rc = -1;
    ksc[0] = HPKE_MODE_BASE;
    /* psk_id_hash (of the empty psk_id), info_hash; the secret from the empty psk. */
    if (labeled_extract(h, &sid, NULL, 0, "psk_id_hash", NULL, 0, ksc + 1) != 0 ||
        labeled_extract(h, &sid, NULL, 0, "info_hash", info, info_len, ksc + 1 + hl) != 0 ||
        labeled_extract(h, &sid, shared, DHKEM_SECRET, "secret", NULL, 0, secret) != 0)
        goto out;
    memset(ctx, 0, sizeof *ctx);
    if ((nk > 0 && (labeled_expand(h, &sid, secret, "key", ksc, 1 + 2 * hl, ctx->key, nk) != 0 ||
                    labeled_expand(h, &sid, secret, "base_nonce", ksc, 1 + 2 * hl, ctx->base_nonce,
                                   HPKE_NONCE) != 0)) ||
        labeled_expand(h, &sid, secret, "exp", ksc, 1 + 2 * hl, ctx->exporter_secret, hl) != 0) {
        hpke_ctx_wipe(ctx);
        goto out;
    }
    ctx->kem = kem;
    ctx->kdf = kdf;
    ctx->aead = aead;
    ctx->seq = 0;
    ctx->ready = true;
    rc = 0;
out:
    crypto_zero(secret, sizeof secret);
    return rc;
}

static bool setup_args_ok(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                          const uint8_t *info, size_t info_len) {
    hash_alg h;
    return ctx != NULL && hpke_kem_supported(kem) && kdf_hash(kdf, &h) == 0 &&
           (hpke_suite_supported(kdf, aead) || aead == HPKE_AEAD_EXPORT_ONLY) &&
           (info != NULL || info_len == 0);
}

/* Encap's end, once DH(skE, pkR) is known: the shared secret, the key
 * schedule, enc = pkE. */
static int encap_finish(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                        const uint8_t dh_val[32], const uint8_t *pk_e, const uint8_t *pk_r,
                        const uint8_t *info, size_t info_len, uint8_t *enc) {
    size_t npk = hpke_kem_enc_len(kem);
    uint8_t shared[DHKEM_SECRET];
    int rc = dhkem_shared_secret(kem, dh_val, pk_e, pk_r, npk, shared) == 0 &&
                     key_schedule(ctx, kem, kdf, aead, shared, info, info_len) == 0
                 ? 0
                 : -1;
    if (rc == 0) memcpy(enc, pk_e, npk);
    crypto_zero(shared, sizeof shared);
    return rc;
}

/* Encap(pkR) with the ephemeral key from ikm_e (SetupBaseS, §5.1.1). */
int hpke_setup_base_sender_with_ikm(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                                    const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                                    size_t info_len, const uint8_t *ikm_e, size_t ikm_e_len,
                                    uint8_t *enc) {
    if (ctx != NULL) memset(ctx, 0, sizeof *ctx);
    if (!setup_args_ok(ctx, kem, kdf, aead, info, info_len) || enc == NULL) return -1;
    uint8_t sk_e[HPKE_MAX_PRIVATE], pk_e[HPKE_MAX_ENC], dh_val[32];
    EVP_PKEY *ours = NULL, *theirs = NULL;
    int rc = -1;
    ours = derive_pkey(kem, ikm_e, ikm_e_len, sk_e, pk_e);
    if (ours == NULL) goto out;
    theirs = public_key(kem, ours, pk_r, pk_r_len);
    if (theirs == NULL || dh(ours, theirs, dh_val) != 0 ||
        encap_finish(ctx, kem, kdf, aead, dh_val, pk_e, pk_r, info, info_len, enc) != 0)
        goto out;
    rc = 0;
out:
    EVP_PKEY_free(ours);
    EVP_PKEY_free(theirs);
    crypto_zero(sk_e, sizeof sk_e);
    crypto_zero(dh_val, sizeof dh_val);
    return rc;
}

/* A random ephemeral key (GenerateKeyPair) makes Encap the answering side
 * of a TLS key exchange: kex_respond's per-thread keygen context and peer
 * object save the two EVP_PKEY constructions (one of them an X25519 base
 * multiplication) that DeriveKeyPair and DeserializePublicKey would cost. */
int hpke_setup_base_sender(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                           const uint8_t *pk_r, size_t pk_r_len, const uint8_t *info,
                           size_t info_len, uint8_t *enc) {
    if (ctx != NULL) memset(ctx, 0, sizeof *ctx);
    if (!setup_args_ok(ctx, kem, kdf, aead, info, info_len) || enc == NULL || pk_r == NULL ||
        pk_r_len != hpke_kem_enc_len(kem))
        return -1;
    uint16_t group = kem == HPKE_KEM_X25519_HKDF_SHA256 ? TLS_GROUP_X25519 : TLS_GROUP_P256;
    size_t npk = hpke_kem_enc_len(kem), enc_len = 0, dh_len = 0;
    uint8_t pk_e[CRYPTO_MAX_PUBKEY], dh_val[CRYPTO_MAX_SHARED];
    int rc = kex_respond(group, pk_r, pk_r_len, pk_e, &enc_len, dh_val, &dh_len) == 0 &&
                     enc_len == npk && dh_len == 32 &&
                     encap_finish(ctx, kem, kdf, aead, dh_val, pk_e, pk_r, info, info_len, enc) == 0
                 ? 0
                 : -1;
    crypto_zero(dh_val, sizeof dh_val);
    return rc;
}

/* Decap(enc, skR) (SetupBaseR, §5.1.1) with our key prepared. */
int hpke_setup_base_recipient_key(hpke_ctx *ctx, const hpke_key *key, uint16_t kdf, uint16_t aead,
                                  const uint8_t *enc, size_t enc_len, const uint8_t *info,
                                  size_t info_len) {
    if (ctx != NULL) memset(ctx, 0, sizeof *ctx);
    if (key == NULL || !setup_args_ok(ctx, key->kem, kdf, aead, info, info_len)) return -1;
    uint16_t kem = key->kem;
    size_t npk = hpke_kem_enc_len(kem);
    uint8_t dh_val[32], shared[DHKEM_SECRET];
    EVP_PKEY *theirs = public_key(kem, key->sk, enc, enc_len);
    int rc = -1;
    if (theirs == NULL || dh(key->sk, theirs, dh_val) != 0 ||
        dhkem_shared_secret(kem, dh_val, enc, key->pk, npk, shared) != 0 ||
        key_schedule(ctx, kem, kdf, aead, shared, info, info_len) != 0)
        goto out;
    rc = 0;
out:
    EVP_PKEY_free(theirs);
    crypto_zero(dh_val, sizeof dh_val);
    crypto_zero(shared, sizeof shared);
    return rc;
}

int hpke_setup_base_recipient(hpke_ctx *ctx, uint16_t kem, uint16_t kdf, uint16_t aead,
                              const uint8_t *enc, size_t enc_len, const uint8_t *sk_r,
                              size_t sk_r_len, const uint8_t *info, size_t info_len) {
    if (ctx != NULL) memset(ctx, 0, sizeof *ctx);
    hpke_key *key = hpke_key_new(kem, sk_r, sk_r_len);
    int rc = key != NULL
                 ? hpke_setup_base_recipient_key(ctx, key, kdf, aead, enc, enc_len, info, info_len)
                 : -1;
    hpke_key_free(key);
    return rc;
}

/* ---- prepared private keys ---- */

hpke_key *hpke_key_new(uint16_t kem, const uint8_t *sk, size_t sk_len) {
    hpke_key *k = calloc(1, sizeof *k);
    if (k == NULL) return NULL;
    k->kem = kem;
    k->sk = hpke_private_pkey(kem, sk, sk_len, k->pk);
    if (k->sk == NULL) {
        free(k);
        return NULL;
    }
    return k;
}

const uint8_t *hpke_key_public(const hpke_key *key, size_t *len) {
    if (key == NULL) return NULL;
    if (len != NULL) *len = hpke_kem_enc_len(key->kem);
    return key->pk;
}

void hpke_key_free(hpke_key *key) {
    if (key == NULL) return;
    EVP_PKEY_free(key->sk);
    crypto_zero(key, sizeof *key);
    free(key);
}

/* ---- messages and exports (§5.2, §5.3) ---- */

/* base_nonce XOR I2OSP(seq, Nn); -1 once the sequence is exhausted. */
static int message_nonce(const hpke_ctx *ctx, uint8_t nonce[HPKE_NONCE]) {
    if (ctx->seq == UINT64_MAX) return -1;
    memcpy(nonce, ctx->base_nonce, HPKE_NONCE);
    for (int i = 0; i < 8; i++)
        nonce[HPKE_NONCE - 1 - i] ^= (uint8_t)(ctx->seq >> (8 * i));
    return 0;
}

static int seal_or_open(hpke_ctx *ctx, bool seal, const uint8_t *aad, size_t aad_len,
                        const uint8_t *in, size_t in_len, uint8_t *out) {
    aead_alg a;
    uint8_t nonce[HPKE_NONCE];
    if (ctx == NULL || !ctx->ready || aead_of(ctx->aead, &a) != 0 ||
        message_nonce(ctx, nonce) != 0 || (aad == NULL && aad_len > 0) ||
        (in == NULL && in_len > 0) || out == NULL || (!seal && in_len < HPKE_TAG))
        return -1;
    aead_ctx ac;
    if (aead_init(&ac, a, ctx->key, seal) != 0) return -1;
    int rc = seal ? aead_seal(&ac, nonce, aad, aad_len, in, in_len, out)
                  : aead_open(&ac, nonce, aad, aad_len, in, in_len, out);
    aead_free(&ac);
    if (rc != 0) return -1;
    ctx->seq++;
    return 0;
}

int hpke_seal(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *pt, size_t pt_len,
              uint8_t *ct) {
    return seal_or_open(ctx, true, aad, aad_len, pt, pt_len, ct);
}

int hpke_open(hpke_ctx *ctx, const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
              uint8_t *pt) {
    return seal_or_open(ctx, false, aad, aad_len, ct, ct_len, pt);
}

int hpke_export(const hpke_ctx *ctx, const uint8_t *exporter_context, size_t context_len,
                uint8_t *out, size_t out_len) {
    hash_alg h;
    if (ctx == NULL || !ctx->ready || kdf_hash(ctx->kdf, &h) != 0 || out == NULL ||
        (exporter_context == NULL && context_len > 0))
        return -1;
    suite_id sid = hpke_suite(ctx->kem, ctx->kdf, ctx->aead);
    return labeled_expand(h, &sid, ctx->exporter_secret, "sec", exporter_context, context_len, out,
                          out_len);
}

void hpke_ctx_wipe(hpke_ctx *ctx) {
    if (ctx != NULL) crypto_zero(ctx, sizeof *ctx);
}
