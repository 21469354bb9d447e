/* One-shot hashes and running transcript hashes. */
#include <openssl/err.h>

#include "crypto/internal.h"

size_t hash_len(hash_alg h) {
    switch (h) {
    case HASH_SHA256:
        return 32;
    case HASH_SHA384:
        return 48;
    case HASH_SHA512:
        return 64;
    case HASH_SHA1:
        return 20;
    default:
        return 0;
    }
}

int hash_oneshot(hash_alg h, const uint8_t *data, size_t len, uint8_t *out) {
    const EVP_MD *md = crypto_md(h);
    if (md == NULL || out == NULL || (data == NULL && len > 0)) return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx != NULL && EVP_DigestInit_ex(ctx, md, NULL) == 1 &&
             EVP_DigestUpdate(ctx, data, len) == 1 && EVP_DigestFinal_ex(ctx, out, NULL) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) ERR_clear_error();
    return ok ? 0 : -1;
}

int transcript_init(transcript *t, hash_alg h) {
    if (t == NULL) return -1;
    t->ctx = NULL;
    t->alg = h;
    const EVP_MD *md = crypto_md(h);
    if (md == NULL) return -1;
    t->ctx = EVP_MD_CTX_new();
    if (t->ctx == NULL || EVP_DigestInit_ex(t->ctx, md, NULL) != 1) {
        EVP_MD_CTX_free(t->ctx);
        t->ctx = NULL;
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int transcript_update(transcript *t, const uint8_t *data, size_t len) {
    if (t == NULL || t->ctx == NULL || (data == NULL && len > 0)) return -1;
    if (len == 0) return 0;
    if (EVP_DigestUpdate(t->ctx, data, len) != 1) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int transcript_current(const transcript *t, uint8_t *out) {
    if (t == NULL || t->ctx == NULL || out == NULL) return -1;
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    int ok = copy != NULL && EVP_MD_CTX_copy_ex(copy, t->ctx) == 1 &&
             EVP_DigestFinal_ex(copy, out, NULL) == 1;
    EVP_MD_CTX_free(copy);
    if (!ok) ERR_clear_error();
    return ok ? 0 : -1;
}

void transcript_free(transcript *t) {
    if (t == NULL) return;
    EVP_MD_CTX_free(t->ctx);
    t->ctx = NULL;
}
