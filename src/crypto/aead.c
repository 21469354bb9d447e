/* AEAD record protection: the cipher context is keyed once in aead_init;
 * each record only sets the nonce, feeds the AAD and data, and gets or checks
 * the tag. in and out may be the same buffer. aead_seal_gather seals two
 * pieces (the record content from the caller's buffer and the inner content
 * type byte) as one plaintext, out of place, so the sender never copies the
 * plaintext before encrypting it.
 *
 * AES-CCM (RFC 3610, SP 800-38C) is not a stream AEAD in libcrypto: the tag
 * length must be fixed before the key, the message length must be given
 * before the AAD, the payload must go in one update, and a decryption's
 * tag is checked by that update (Final does nothing). So CCM records take
 * their own path (ccm_seal, ccm_open), and a gathered CCM plaintext is
 * assembled in the output buffer first. */
#include <limits.h>
#include <string.h>

#include <openssl/err.h>

#include "crypto/internal.h"

size_t aead_key_len(aead_alg a) {
    switch (a) {
    case AEAD_AES128GCM:
    case AEAD_AES128CCM:
        return 16;
    case AEAD_AES256GCM:
    case AEAD_CHACHA20POLY1305:
        return 32;
    default:
        return 0;
    }
}

int aead_init(aead_ctx *a, aead_alg alg, const uint8_t *key, bool encrypt) {
    if (a == NULL) return -1;
    a->ctx = NULL;
    a->alg = alg;
    a->encrypt = encrypt;
    const EVP_CIPHER *cipher = crypto_cipher(alg);
    if (cipher == NULL || key == NULL) return -1;
    int enc = encrypt ? 1 : 0;
    a->ctx = EVP_CIPHER_CTX_new();
    if (a->ctx == NULL || EVP_CipherInit_ex(a->ctx, cipher, NULL, NULL, NULL, enc) != 1 ||
        EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_IVLEN, CRYPTO_AEAD_NONCE, NULL) != 1 ||
        /* CCM: the tag length is part of the key setup (M in B0) */
        (alg == AEAD_AES128CCM &&
         EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, CRYPTO_AEAD_TAG, NULL) != 1) ||
        EVP_CipherInit_ex(a->ctx, NULL, NULL, key, NULL, enc) != 1) {
        EVP_CIPHER_CTX_free(a->ctx);
        a->ctx = NULL;
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int aead_rekey(aead_ctx *a, aead_alg alg, const uint8_t *key, bool encrypt) {
    if (a == NULL || key == NULL) return -1;
    if (a->ctx == NULL || a->alg != alg || a->encrypt != encrypt) {
        aead_free(a);
        return aead_init(a, alg, key, encrypt);
    }
    /* Same cipher and direction: only the key schedule changes; the context,
     * the provider's state and the nonce length are kept. */
    if (EVP_CipherInit_ex(a->ctx, NULL, NULL, key, NULL, encrypt ? 1 : 0) != 1) {
        aead_free(a);
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* Sets the nonce and feeds the AAD; shared by seal and open. */
static int aead_start(aead_ctx *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len) {
    int outl = 0;
    if (EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, nonce, -1) != 1) return -1;
    if (aad_len > 0 && EVP_CipherUpdate(a->ctx, NULL, &outl, aad, (int)aad_len) != 1) return -1;
    return 0;
}

/* CCM: nonce, then the message length, then the AAD (all before the data). */
static int ccm_start(aead_ctx *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                     size_t msg_len) {
    int outl = 0;
    if (EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, nonce, -1) != 1) return -1;
    if (EVP_CipherUpdate(a->ctx, NULL, &outl, NULL, (int)msg_len) != 1) return -1;
    if (aad_len > 0 && EVP_CipherUpdate(a->ctx, NULL, &outl, aad, (int)aad_len) != 1) return -1;
    return 0;
}

/* The plaintext in || tail is first laid out in out (in may be out), then
 * encrypted there in one update. Lengths are checked by the caller. */
static int ccm_seal(aead_ctx *a, const uint8_t *nonce, const uint8_t *aad, size_t aad_len,
                    const uint8_t *in, size_t in_len, const uint8_t *tail, size_t tail_len,
                    uint8_t *out) {
    size_t pt_len = in_len + tail_len;
    if (in_len > 0 && in != out) memmove(out, in, in_len);
    if (tail_len > 0) memmove(out + in_len, tail, tail_len);
    int outl = 0;
    if (ccm_start(a, nonce, aad, aad_len, pt_len) != 0 ||
        EVP_CipherUpdate(a->ctx, out, &outl, out, (int)pt_len) != 1 || (size_t)outl != pt_len ||
        EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, CRYPTO_AEAD_TAG, out + pt_len) != 1) {
        crypto_zero(out, pt_len); /* plaintext was laid out there */
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int aead_seal_gather(aead_ctx *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
                     size_t aad_len, const uint8_t *in, size_t in_len, const uint8_t *tail,
                     size_t tail_len, uint8_t *out) {
    if (a == NULL || a->ctx == NULL || !a->encrypt || nonce == NULL || out == NULL) return -1;
    if ((aad == NULL && aad_len > 0) || (in == NULL && in_len > 0) ||
        (tail == NULL && tail_len > 0))
        return -1;
    if (aad_len > INT_MAX || in_len > INT_MAX - CRYPTO_AEAD_TAG ||
        tail_len > INT_MAX - CRYPTO_AEAD_TAG - in_len)
        return -1;
    if (a->alg == AEAD_AES128CCM)
        return ccm_seal(a, nonce, aad, aad_len, in, in_len, tail, tail_len, out);
    size_t pt_len = in_len + tail_len;
    int outl = 0, taill = 0, finl = 0;
    if (aead_start(a, nonce, aad, aad_len) != 0) goto fail;
    /* Both AEADs stream: the two updates give the same bytes as one update
     * over in || tail (GCM and ChaCha20-Poly1305 keep partial blocks). */
    if (in_len > 0 && EVP_CipherUpdate(a->ctx, out, &outl, in, (int)in_len) != 1) goto fail;
    if ((size_t)outl > in_len) goto fail;
    if (tail_len > 0 && EVP_CipherUpdate(a->ctx, out + outl, &taill, tail, (int)tail_len) != 1)
        goto fail;
    if ((size_t)outl + (size_t)taill > pt_len) goto fail;
    if (EVP_CipherFinal_ex(a->ctx, out + outl + taill, &finl) != 1) goto fail;
    if ((size_t)outl + (size_t)taill + (size_t)finl != pt_len) goto fail;
    if (EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_GET_TAG, CRYPTO_AEAD_TAG, out + pt_len) != 1)
        goto fail;
    return 0;
fail:
    ERR_clear_error();
    return -1;
}

int aead_seal(aead_ctx *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
              size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out) {
    return aead_seal_gather(a, nonce, aad, aad_len, in, in_len, NULL, 0, out);
}

int aead_open(aead_ctx *a, const uint8_t nonce[CRYPTO_AEAD_NONCE], const uint8_t *aad,
              size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out) {
    if (a == NULL || a->ctx == NULL || a->encrypt || nonce == NULL || in == NULL) return -2;
    if (aad == NULL && aad_len > 0) return -2;
    if (in_len < CRYPTO_AEAD_TAG) return -1; /* too short to be authentic */
    if (aad_len > INT_MAX || in_len > INT_MAX) return -2;
    size_t ct_len = in_len - CRYPTO_AEAD_TAG;
    if (out == NULL && ct_len > 0) return -2;
    uint8_t none[1];
    if (out == NULL) out = none; /* empty plaintext: keep pointer arithmetic defined */
    uint8_t tag[CRYPTO_AEAD_TAG];
    memcpy(tag, in + ct_len, CRYPTO_AEAD_TAG); /* before an in-place write can reach it */
    int outl = 0, finl = 0;
    if (a->alg == AEAD_AES128CCM) {
        /* The tag goes in first; the one update over the data checks it. */
        if (EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, nonce, -1) != 1 ||
            EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, CRYPTO_AEAD_TAG, tag) != 1 ||
            EVP_CipherUpdate(a->ctx, NULL, &outl, NULL, (int)ct_len) != 1 ||
            (aad_len > 0 && EVP_CipherUpdate(a->ctx, NULL, &outl, aad, (int)aad_len) != 1))
            goto error;
        if (EVP_CipherUpdate(a->ctx, out, &outl, in, (int)ct_len) != 1) {
            if (ct_len > 0) crypto_zero(out, ct_len);
            ERR_clear_error();
            return -1;
        }
        if ((size_t)outl != ct_len) goto error;
        return 0;
    }
    if (aead_start(a, nonce, aad, aad_len) != 0) goto error;
    if (ct_len > 0 && EVP_CipherUpdate(a->ctx, out, &outl, in, (int)ct_len) != 1) goto error;
    if (EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_AEAD_SET_TAG, CRYPTO_AEAD_TAG, tag) != 1) goto error;
    if (EVP_CipherFinal_ex(a->ctx, out + outl, &finl) != 1) {
        /* Authentication failed: never hand back unauthenticated plaintext. */
        if (ct_len > 0) crypto_zero(out, ct_len);
        ERR_clear_error();
        return -1;
    }
    if ((size_t)outl + (size_t)finl != ct_len) goto error;
    return 0;
error:
    if (ct_len > 0) crypto_zero(out, ct_len);
    ERR_clear_error();
    return -2;
}

void aead_free(aead_ctx *a) {
    if (a == NULL) return;
    EVP_CIPHER_CTX_free(a->ctx); /* cleanses the key schedule */
    a->ctx = NULL;
}
