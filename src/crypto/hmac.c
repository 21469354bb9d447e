/* HMAC (RFC 2104) over libcrypto's low-level SHA states (md_state, see
 * hash.c). Written here rather than with EVP_MAC because EVP_MAC fetches the
 * digest by name on every operation and copies EVP_MD_CTXs (a malloc and a
 * provider dupctx per copy); here the keyed inner and outer states are
 * copied by assignment, so HKDF-Expand keys once for all its blocks and a
 * MAC costs only its compressions. */
#include <string.h>

#include "crypto/internal.h"

#define HMAC_MAX_BLOCK 128 /* SHA-384/512 block size */

void hmac_key_free(hmac_key *k) {
    if (k == NULL) return;
    /* The keyed states are as good as the key. */
    crypto_zero(k, sizeof *k);
}

int hmac_key_init(hmac_key *k, hash_alg h, const uint8_t *key, size_t key_len) {
    if (k == NULL) return -1;
    k->ready = false;
    k->alg = h;
    size_t block = md_block_size(h);
    if (block == 0 || block > HMAC_MAX_BLOCK || (key == NULL && key_len > 0)) return -1;

    uint8_t pad[HMAC_MAX_BLOCK] = {0};
    /* K0: the key, hashed first if longer than a block, zero-padded. */
    if (key_len > block) {
        if (hash_oneshot(h, key, key_len, pad) != 0) return -1;
    } else if (key_len > 0) {
        memcpy(pad, key, key_len);
    }
    for (size_t i = 0; i < block; i++)
        pad[i] ^= 0x36;
    if (md_init(&k->inner, h) != 0) goto fail;
    md_update(&k->inner, pad, block);
    for (size_t i = 0; i < block; i++)
        pad[i] ^= 0x36 ^ 0x5c;
    if (md_init(&k->outer, h) != 0) goto fail;
    md_update(&k->outer, pad, block);
    crypto_zero(pad, sizeof pad);
    k->ready = true;
    return 0;
fail:
    crypto_zero(pad, sizeof pad);
    hmac_key_free(k);
    return -1;
}

int hmac_key_mac(const hmac_key *k, size_t n, const uint8_t *const *parts, const size_t *lens,
                 uint8_t *out) {
    if (k == NULL || !k->ready || out == NULL) return -1;
    for (size_t i = 0; i < n; i++)
        if (parts[i] == NULL && lens[i] > 0) return -1;
    uint8_t ihash[CRYPTO_MAX_HASH];
    md_state work = k->inner;
    for (size_t i = 0; i < n; i++)
        if (lens[i] > 0) md_update(&work, parts[i], lens[i]);
    md_final(&work, ihash);
    work = k->outer;
    md_update(&work, ihash, hash_len(k->alg));
    md_final(&work, out);
    crypto_zero(ihash, sizeof ihash);
    crypto_zero(&work, sizeof work);
    return 0;
}

int hmac(hash_alg h, const uint8_t *key, size_t key_len, const uint8_t *data, size_t len,
         uint8_t *out) {
    if (data == NULL && len > 0) return -1;
    hmac_key k;
    if (hmac_key_init(&k, h, key, key_len) != 0) return -1;
    const uint8_t *parts[1] = {data};
    size_t lens[1] = {len};
    int rc = hmac_key_mac(&k, 1, parts, lens, out);
    hmac_key_free(&k);
    return rc;
}
