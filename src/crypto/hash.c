/* One-shot hashes and running transcript hashes, on libcrypto's low-level
 * SHA contexts (md_state, internal.h). OpenSSL 3.0 marks SHA*_Init/Update/
 * Final deprecated, but they remain the same code the default provider runs
 * (its digest functions call them). Through EVP every transcript snapshot
 * cost EVP_MD_CTX_new + EVP_MD_CTX_copy_ex (which frees and re-duplicates
 * the provider context) + free; here a snapshot is a struct copy. */
#include <stdlib.h>
#include <string.h>

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

size_t md_block_size(hash_alg h) {
    switch (h) {
    case HASH_SHA256:
    case HASH_SHA1:
        return 64;
    case HASH_SHA384:
    case HASH_SHA512:
        return 128;
    default:
        return 0;
    }
}

/* The only uses of the deprecated declarations in certa. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif

int md_init(md_state *s, hash_alg h) {
    s->alg = h;
    switch (h) {
    case HASH_SHA256:
        return SHA256_Init(&s->u.sha256) == 1 ? 0 : -1;
    case HASH_SHA384:
        return SHA384_Init(&s->u.sha512) == 1 ? 0 : -1;
    case HASH_SHA512:
        return SHA512_Init(&s->u.sha512) == 1 ? 0 : -1;
    case HASH_SHA1:
        return SHA1_Init(&s->u.sha1) == 1 ? 0 : -1;
    default:
        return -1;
    }
}

/* The Update functions cannot fail (they only return 1). */
void md_update(md_state *s, const void *data, size_t len) {
    switch (s->alg) {
    case HASH_SHA256:
        SHA256_Update(&s->u.sha256, data, len);
        break;
    case HASH_SHA384:
    case HASH_SHA512:
        /* SHA384_Update is SHA512_Update. */
        SHA512_Update(&s->u.sha512, data, len);
        break;
    case HASH_SHA1:
        SHA1_Update(&s->u.sha1, data, len);
        break;
    default:
        break;
    }
}

void md_final(md_state *s, uint8_t *out) {
    switch (s->alg) {
    case HASH_SHA256:
        SHA256_Final(out, &s->u.sha256);
        break;
    case HASH_SHA384:
        SHA384_Final(out, &s->u.sha512);
        break;
    case HASH_SHA512:
        SHA512_Final(out, &s->u.sha512);
        break;
    case HASH_SHA1:
        SHA1_Final(out, &s->u.sha1);
        break;
    default:
        break;
    }
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

/* Hash("") is needed twice per handshake side (Derive-Secret(., "derived",
 * "")); a constant saves the compression. */
static const uint8_t empty_sha256[32] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55};
static const uint8_t empty_sha384[48] = {
    0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38, 0x4c, 0xd9, 0x32, 0x7e, 0xb1, 0xb1, 0xe3, 0x6a,
    0x21, 0xfd, 0xb7, 0x11, 0x14, 0xbe, 0x07, 0x43, 0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6, 0xe1, 0xda,
    0x27, 0x4e, 0xde, 0xbf, 0xe7, 0x6f, 0x65, 0xfb, 0xd5, 0x1a, 0xd2, 0xf1, 0x48, 0x98, 0xb9, 0x5b};

int hash_oneshot(hash_alg h, const uint8_t *data, size_t len, uint8_t *out) {
    if (out == NULL || (data == NULL && len > 0)) return -1;
    if (len == 0 && h == HASH_SHA256) {
        memcpy(out, empty_sha256, sizeof empty_sha256);
        return 0;
    }
    if (len == 0 && h == HASH_SHA384) {
        memcpy(out, empty_sha384, sizeof empty_sha384);
        return 0;
    }
    md_state s;
    if (md_init(&s, h) != 0) return -1;
    if (len > 0) md_update(&s, data, len);
    md_final(&s, out);
    crypto_zero(&s, sizeof s); /* the last block of data may be secret */
    return 0;
}

int transcript_init(transcript *t, hash_alg h) {
    if (t == NULL) return -1;
    t->ctx = NULL;
    t->alg = h;
    if (hash_len(h) == 0) return -1;
    md_state *s = malloc(sizeof *s);
    if (s == NULL) return -1;
    if (md_init(s, h) != 0) {
        free(s);
        return -1;
    }
    t->ctx = s;
    return 0;
}

int transcript_update(transcript *t, const uint8_t *data, size_t len) {
    if (t == NULL || t->ctx == NULL || (data == NULL && len > 0)) return -1;
    if (len > 0) md_update(t->ctx, data, len);
    return 0;
}

int transcript_current(const transcript *t, uint8_t *out) {
    if (t == NULL || t->ctx == NULL || out == NULL) return -1;
    md_state copy = *t->ctx;
    md_final(&copy, out);
    crypto_zero(&copy, sizeof copy);
    return 0;
}

int transcript_current_with(const transcript *t, const uint8_t *a, size_t a_len, const uint8_t *b,
                            size_t b_len, uint8_t *out) {
    if (t == NULL || t->ctx == NULL || out == NULL || (!a && a_len) || (!b && b_len)) return -1;
    md_state copy = *t->ctx;
    if (a_len > 0) md_update(&copy, a, a_len);
    if (b_len > 0) md_update(&copy, b, b_len);
    md_final(&copy, out);
    crypto_zero(&copy, sizeof copy);
    return 0;
}

void transcript_free(transcript *t) {
    if (t == NULL || t->ctx == NULL) return;
    crypto_zero(t->ctx, sizeof *t->ctx);
    free(t->ctx);
    t->ctx = NULL;
}

int md5_for_fingerprint(const uint8_t *data, size_t len, uint8_t out[16]) {
    unsigned int n = 0;
    if (EVP_Digest(data, len, out, &n, EVP_md5(), NULL) != 1 || n != 16) return -1;
    return 0;
}
