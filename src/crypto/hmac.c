/* HMAC (RFC 2104) over the process-wide digests. Written here rather than
 * with EVP_MAC because EVP_MAC takes the digest by name and fetches it on
 * every operation; this keeps the fetch-once rule and lets HKDF-Expand key
 * once for all its blocks. */
#include <string.h>

#include <openssl/err.h>

#include "crypto/internal.h"

#define HMAC_MAX_BLOCK 128 /* SHA-384/512 block size */

void hmac_key_free(hmac_key *k) {
    if (k == NULL) return;
    /* EVP_MD_CTX_free cleanses the digest state (which holds key material). */
    EVP_MD_CTX_free(k->inner);
    EVP_MD_CTX_free(k->outer);
    EVP_MD_CTX_free(k->work);
    k->inner = k->outer = k->work = NULL;
}

int hmac_key_init(hmac_key *k, hash_alg h, const uint8_t *key, size_t key_len) {
    if (k == NULL) return -1;
    k->inner = k->outer = k->work = NULL;
    k->alg = h;
    const EVP_MD *md = crypto_md(h);
    if (md == NULL || (key == NULL && key_len > 0)) return -1;
    int block = EVP_MD_get_block_size(md);
    if (block <= 0 || block > HMAC_MAX_BLOCK) return -1;

    uint8_t pad[HMAC_MAX_BLOCK] = {0};
    int ok = 0;
    k->inner = EVP_MD_CTX_new();
    k->outer = EVP_MD_CTX_new();
    k->work = EVP_MD_CTX_new();
    if (k->inner == NULL || k->outer == NULL || k->work == NULL) goto out;

    /* K0: the key, hashed first if longer than a block, zero-padded. */
    if (key_len > (size_t)block) {
        if (EVP_DigestInit_ex(k->work, md, NULL) != 1 ||
            EVP_DigestUpdate(k->work, key, key_len) != 1 ||
            EVP_DigestFinal_ex(k->work, pad, NULL) != 1)
            goto out;
    } else if (key_len > 0) {
        memcpy(pad, key, key_len);
    }
    for (int i = 0; i < block; i++)
        pad[i] ^= 0x36;
    if (EVP_DigestInit_ex(k->inner, md, NULL) != 1 ||
        EVP_DigestUpdate(k->inner, pad, (size_t)block) != 1)
        goto out;
    for (int i = 0; i < block; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    if (EVP_DigestInit_ex(k->outer, md, NULL) != 1 ||
        EVP_DigestUpdate(k->outer, pad, (size_t)block) != 1)
        goto out;
    ok = 1;
out:
    crypto_zero(pad, sizeof pad);
    if (!ok) {
        hmac_key_free(k);
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int hmac_key_mac(hmac_key *k, size_t n, const uint8_t *const *parts, const size_t *lens,
                 uint8_t *out) {
    if (k == NULL || k->inner == NULL || out == NULL) return -1;
    uint8_t ihash[CRYPTO_MAX_HASH];
    unsigned int ilen = 0;
    int ok = EVP_MD_CTX_copy_ex(k->work, k->inner) == 1;
    for (size_t i = 0; ok && i < n; i++) {
        if (parts[i] == NULL && lens[i] > 0)
            ok = 0;
        else if (lens[i] > 0)
            ok = EVP_DigestUpdate(k->work, parts[i], lens[i]) == 1;
    }
    ok = ok && EVP_DigestFinal_ex(k->work, ihash, &ilen) == 1 &&
         EVP_MD_CTX_copy_ex(k->work, k->outer) == 1 &&
         EVP_DigestUpdate(k->work, ihash, ilen) == 1 && EVP_DigestFinal_ex(k->work, out, NULL) == 1;
    crypto_zero(ihash, sizeof ihash);
    if (!ok) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

int hmac(hash_alg h, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
         uint8_t *out) {
    hmac_key k;
    if (hmac_key_init(&k, h, key, key_len) != 0) return -1;
    const uint8_t *parts[1] = {data};
    size_t lens[1] = {len};
    int rc = hmac_key_mac(&k, 1, parts, lens, out);
    hmac_key_free(&k);
    return rc;
}
