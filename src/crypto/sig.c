/* TLS SignatureSchemes. Sign and verify:
 *   0x0403 ecdsa_secp256r1_sha256   0x0503 ecdsa_secp384r1_sha384
 *   0x0603 ecdsa_secp521r1_sha512
 *   0x0804/0x0805/0x0806 rsa_pss_rsae_sha256/384/512 (rsaEncryption keys)
 *   0x0809/0x080a/0x080b rsa_pss_pss_sha256/384/512 (RSASSA-PSS keys)
 *   0x0807 ed25519                  0x0808 ed448
 *   0x0401/0x0501/0x0601 rsa_pkcs1_sha256/384/512: certificate signatures,
 *   and TLS 1.2 ServerKeyExchange/CertificateVerify only (never TLS 1.3)
 * RSA-PSS always uses MGF1 with the signature hash and salt length = hash
 * length (RFC 8446 §4.2.3), for signing and verifying. An RSASSA-PSS key
 * whose SubjectPublicKeyInfo has parameters fits only the rsa_pss_pss scheme
 * of its hash, and only if its MGF1 hash is the same and its minimum salt
 * length is at most the hash length (RFC 4055 §3.1).
 * TLS 1.2 takes the same schemes, but ECDSA binds only the hash there, and
 * EdDSA (RFC 8422 §5.1) and rsa_pss_pss (RFC 8446 §4.2.3) come with the
 * ECDHE_ECDSA and ECDHE_RSA suites. */
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "crypto/internal.h"

typedef enum { KIND_ECDSA, KIND_RSA_PSS_RSAE, KIND_RSA_PSS_PSS, KIND_RSA_PKCS1, KIND_EDDSA } kind;

typedef struct scheme_info {
    uint16_t id;
    kind kind;
    hash_alg hash;     /* unused for EdDSA */
    const char *curve; /* ECDSA: NIST name; EdDSA: key type */
    bool tls13;        /* usable in a TLS 1.3 CertificateVerify */
} scheme_info;

static const scheme_info schemes[] = {
    {0x0403, KIND_ECDSA, HASH_SHA256, "P-256", true},
    {0x0503, KIND_ECDSA, HASH_SHA384, "P-384", true},
    {0x0603, KIND_ECDSA, HASH_SHA512, "P-521", true},
    {0x0804, KIND_RSA_PSS_RSAE, HASH_SHA256, NULL, true},
    {0x0805, KIND_RSA_PSS_RSAE, HASH_SHA384, NULL, true},
    {0x0806, KIND_RSA_PSS_RSAE, HASH_SHA512, NULL, true},
    {0x0809, KIND_RSA_PSS_PSS, HASH_SHA256, NULL, true},
    {0x080a, KIND_RSA_PSS_PSS, HASH_SHA384, NULL, true},
    {0x080b, KIND_RSA_PSS_PSS, HASH_SHA512, NULL, true},
    {0x0807, KIND_EDDSA, HASH_SHA256, "ED25519", true},
    {0x0808, KIND_EDDSA, HASH_SHA256, "ED448", true},
    {0x0401, KIND_RSA_PKCS1, HASH_SHA256, NULL, false},
    {0x0501, KIND_RSA_PKCS1, HASH_SHA384, NULL, false},
    {0x0601, KIND_RSA_PKCS1, HASH_SHA512, NULL, false},
};

static const scheme_info *scheme_find(uint16_t id) {
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        if (schemes[i].id == id) return &schemes[i];
    return NULL;
}

/* Key type (and curve, and for PSS the modulus size) fits the scheme. The
 * type, curve and size are looked up once per key object (keys.c). */
static bool key_fits_curve(const scheme_info *s, const EVP_PKEY *key, bool curve_bound) {
    if (key == NULL) return false;
    key_info info;
    key_info_get(key, &info);
    switch (s->kind) {
    case KIND_ECDSA:
        return info.type == KEY_EC && info.curve != NULL &&
               (!curve_bound || strcmp(info.curve, s->curve) == 0);
    case KIND_EDDSA:
        return info.type == (strcmp(s->curve, "ED25519") == 0 ? KEY_ED25519 : KEY_ED448);
    case KIND_RSA_PKCS1:
        return info.type == KEY_RSA;
    case KIND_RSA_PSS_RSAE:
    case KIND_RSA_PSS_PSS: {
        if (info.type != (s->kind == KIND_RSA_PSS_RSAE ? KEY_RSA : KEY_RSA_PSS)) return false;
        /* EMSA-PSS needs emLen >= hLen + sLen + 2 with sLen = hLen. */
        size_t hl = hash_len(s->hash);
        if (info.pss_bad) return false;
        if (info.pss_restricted && (info.pss.hash != s->hash || info.pss.mgf_hash != s->hash ||
                                    (size_t)info.pss.salt > hl))
            return false;
        return info.bits > 0 && ((size_t)info.bits - 1 + 7) / 8 >= 2 * hl + 2;
    }
    }
    return false;
}

static bool key_fits(const scheme_info *s, const EVP_PKEY *key) {
    return key_fits_curve(s, key, true);
}

bool sig_scheme_fits_key(uint16_t scheme, const crypto_key *key) {
    const scheme_info *s = scheme_find(scheme);
    return s != NULL && s->tls13 && key_fits(s, key);
}

bool sig_scheme_fits_key_tls12(uint16_t scheme, const crypto_key *key) {
    const scheme_info *s = scheme_find(scheme);
    return s != NULL && key_fits_curve(s, key, false);
}

/* A DigestSign/DigestVerify context for the scheme, padding set. */
static EVP_MD_CTX *sig_ctx(const scheme_info *s, EVP_PKEY *key, bool sign) {
    const EVP_MD *md = NULL;
    if (s->kind != KIND_EDDSA) {
        md = crypto_md(s->hash);
        if (md == NULL) return NULL;
    }
    EVP_PKEY_CTX *pctx = NULL;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    if (mctx == NULL) return NULL;
    int ok = sign ? EVP_DigestSignInit(mctx, &pctx, md, NULL, key)
                  : EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key);
    if (ok != 1) goto fail;
    if (s->kind == KIND_RSA_PSS_RSAE || s->kind == KIND_RSA_PSS_PSS) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
            goto fail;
    } else if (s->kind == KIND_RSA_PKCS1) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) goto fail;
    }
    return mctx;
fail:
    EVP_MD_CTX_free(mctx);
    return NULL;
}

/* ECDSA and RSA-PSS sign a hash, so certa hashes with its own SHA state
 * (hash.c) and signs or verifies the digest with EVP_PKEY_sign/verify: the
 * same signatures as EVP_DigestSign, without DigestSignInit's digest fetch
 * and provider digest context. (EdDSA must see the whole message, so it
 * keeps the DigestSign path.) The contexts are not made per call either
 * (EVP_PKEY_CTX_new_from_pkey + *_init cost ~16k instructions): a signing
 * key keeps a prepared context per scheme that each signature copies, and a
 * peer's EC key from key_from_spki keeps its verification context (keys.c). */
static bool digest_signed(const scheme_info *s) {
    return s->kind == KIND_ECDSA || s->kind == KIND_RSA_PSS_RSAE || s->kind == KIND_RSA_PSS_PSS;
}

static EVP_PKEY_CTX *pkey_ctx_make(EVP_PKEY *key, const scheme_info *s, bool sign) {
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (pctx == NULL || (sign ? EVP_PKEY_sign_init(pctx) : EVP_PKEY_verify_init(pctx)) != 1)
        goto fail;
    if (s->kind == KIND_RSA_PSS_RSAE || s->kind == KIND_RSA_PSS_PSS) {
        const EVP_MD *md = crypto_md(s->hash);
        if (md == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_signature_md(pctx, md) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
            goto fail;
    } else if (s->kind == KIND_RSA_PKCS1) { /* DigestInfo-wrapped digest */
        const EVP_MD *md = crypto_md(s->hash);
        if (md == NULL || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
            EVP_PKEY_CTX_set_signature_md(pctx, md) != 1)
            goto fail;
    }
    return pctx;
fail:
    EVP_PKEY_CTX_free(pctx);
    return NULL;
}

static EVP_PKEY_CTX *sign_ctx_make(EVP_PKEY *key, const void *arg) {
    return pkey_ctx_make(key, arg, true);
}

static EVP_PKEY_CTX *verify_ctx_make(EVP_PKEY *key, const void *arg) {
    return pkey_ctx_make(key, arg, false);
}

static int sign_digest(const scheme_info *s, EVP_PKEY *key, const uint8_t *msg, size_t len,
                       uint8_t *sig, size_t *sig_len) {
    uint8_t digest[CRYPTO_MAX_HASH];
    if (hash_oneshot(s->hash, msg, len, digest) != 0) return -1;
    EVP_PKEY_CTX *pctx = key_sign_ctx(key, s->id, sign_ctx_make, s);
    if (pctx == NULL) pctx = pkey_ctx_make(key, s, true);
    size_t n = *sig_len;
    int ok = pctx != NULL && EVP_PKEY_sign(pctx, sig, &n, digest, hash_len(s->hash)) == 1;
    EVP_PKEY_CTX_free(pctx);
    crypto_zero(digest, sizeof digest);
    if (!ok) {
        ERR_clear_error();
        return -1;
    }
    *sig_len = n;
    return 0;
}

static int verify_digest(const scheme_info *s, EVP_PKEY *pub, const uint8_t *msg, size_t len,
                         const uint8_t *sig, size_t sig_len) {
    uint8_t digest[CRYPTO_MAX_HASH];
    if (hash_oneshot(s->hash, msg, len, digest) != 0) return -2;
    /* The key's own context holds no scheme parameters for ECDSA. */
    EVP_PKEY_CTX *own = s->kind == KIND_ECDSA ? key_verify_ctx_take(pub, verify_ctx_make, s) : NULL;
    EVP_PKEY_CTX *pctx = own != NULL ? own : pkey_ctx_make(pub, s, false);
    if (pctx == NULL) {
        ERR_clear_error();
        return -2;
    }
    /* 1 = valid; 0 = bad signature; <0 = malformed signature and the like. */
    int r = EVP_PKEY_verify(pctx, sig, sig_len, digest, hash_len(s->hash));
    if (pctx == own)
        key_verify_ctx_put(pub);
    else
        EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    return r == 1 ? 0 : -1;
}

static int sign_as(uint16_t scheme, bool tls12, crypto_key *key, const uint8_t *msg, size_t len,
                   uint8_t *sig, size_t *sig_len) {
    const scheme_info *s = scheme_find(scheme);
    bool fits = s != NULL &&
                (tls12 ? sig_scheme_fits_key_tls12(scheme, key) : s->tls13 && key_fits(s, key));
    if (!fits || sig == NULL || sig_len == NULL || (msg == NULL && len > 0)) return -1;
    int max = EVP_PKEY_get_size(key);
    if (max <= 0 || *sig_len < (size_t)max) return -1;
    static const uint8_t empty[1];
    if (msg == NULL) msg = empty;
    if (digest_signed(s) || s->kind == KIND_RSA_PKCS1)
        return sign_digest(s, key, msg, len, sig, sig_len);
    EVP_MD_CTX *mctx = sig_ctx(s, key, true);
    size_t n = *sig_len;
    int ok = mctx != NULL && EVP_DigestSign(mctx, sig, &n, msg, len) == 1;
    EVP_MD_CTX_free(mctx);
    if (!ok) {
        ERR_clear_error();
        return -1;
    }
    *sig_len = n;
    return 0;
}

int sig_sign(uint16_t scheme, crypto_key *key, const uint8_t *msg, size_t len, uint8_t *sig,
             size_t *sig_len) {
    return sign_as(scheme, false, key, msg, len, sig, sig_len);
}

int sig_sign_tls12(uint16_t scheme, crypto_key *key, const uint8_t *msg, size_t len, uint8_t *sig,
                   size_t *sig_len) {
    return sign_as(scheme, true, key, msg, len, sig, sig_len);
}

static int verify_as(uint16_t scheme, bool tls12, crypto_key *pub, const uint8_t *msg, size_t len,
                     const uint8_t *sig, size_t sig_len) {
    const scheme_info *s = scheme_find(scheme);
    if (s == NULL || pub == NULL || (msg == NULL && len > 0)) return -2;
    /* no signature under this scheme fits the key */
    if (tls12 ? !sig_scheme_fits_key_tls12(scheme, pub) : !key_fits(s, pub)) return -1;
    if (sig == NULL || sig_len == 0) return -1;
    static const uint8_t empty[1];
    if (msg == NULL) msg = empty;
    if (digest_signed(s)) return verify_digest(s, pub, msg, len, sig, sig_len);
    EVP_MD_CTX *mctx = sig_ctx(s, pub, false);
    if (mctx == NULL) {
        ERR_clear_error();
        return -2;
    }
    /* 1 = valid; 0 = bad signature; <0 = malformed signature and the like. */
    int r = EVP_DigestVerify(mctx, sig, sig_len, msg, len);
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    return r == 1 ? 0 : -1;
}

int sig_verify(uint16_t scheme, crypto_key *pub, const uint8_t *msg, size_t len, const uint8_t *sig,
               size_t sig_len) {
    return verify_as(scheme, false, pub, msg, len, sig, sig_len);
}

int sig_verify_tls12(uint16_t scheme, crypto_key *pub, const uint8_t *msg, size_t len,
                     const uint8_t *sig, size_t sig_len) {
    return verify_as(scheme, true, pub, msg, len, sig, sig_len);
}
