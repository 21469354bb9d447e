/* Ephemeral key exchange for TLS NamedGroups: x25519 (0x001d), secp256r1
 * (0x0017), secp384r1 (0x0018). Peer shares are checked strictly: exact
 * length, uncompressed form, point on the curve; an all-zero x25519 result
 * is refused (RFC 8446 §7.4.2). */
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "crypto/internal.h"

#define GROUP_SECP256R1 0x0017
#define GROUP_SECP384R1 0x0018
#define GROUP_X25519 0x001d

typedef struct group_info {
    uint16_t id;
    bool ec; /* NIST curve (else X25519) */
    const char *name;
    size_t pub_len;
    size_t secret_len;
} group_info;

static const group_info groups[] = {
    {GROUP_X25519, false, "X25519", 32, 32},
    {GROUP_SECP256R1, true, "P-256", 65, 32},
    {GROUP_SECP384R1, true, "P-384", 97, 48},
};

static const group_info *group_find(uint16_t id) {
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (groups[i].id == id) return &groups[i];
    return NULL;
}

bool kex_group_supported(uint16_t group) {
    return group_find(group) != NULL;
}

int kex_generate(uint16_t group, crypto_key **priv, uint8_t *pub, size_t *pub_len) {
    const group_info *g = group_find(group);
    if (g == NULL || priv == NULL || pub == NULL || pub_len == NULL) return -1;
    *priv = NULL;
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *pctx = NULL;
#ifdef CERTA_FUZZ
    /* Fuzz builds: the x25519 key comes straight from the deterministic
     * crypto_random stream; EC keys come from libcrypto's keygen, whose RAND
     * is that same stream in fuzz builds (rand.c), so both reproduce. */
    if (!g->ec) {
        uint8_t raw[32];
        if (crypto_random(raw, sizeof raw) != 0) goto fail;
        key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, raw, sizeof raw);
        crypto_zero(raw, sizeof raw);
        if (key == NULL) goto fail;
    }
#endif
    if (key == NULL) {
        pctx = EVP_PKEY_CTX_new_from_name(NULL, g->ec ? "EC" : "X25519", NULL);
        if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1) goto fail;
        if (g->ec && EVP_PKEY_CTX_set_group_name(pctx, g->name) != 1) goto fail;
        if (EVP_PKEY_keygen(pctx, &key) != 1) goto fail;
    }

    size_t n = 0;
    if (g->ec) {
        /* EC public keys encode uncompressed unless told otherwise. */
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                            CRYPTO_MAX_PUBKEY, &n) != 1)
            goto fail;
        if (n != g->pub_len || pub[0] != 0x04) goto fail;
    } else {
        n = g->pub_len;
        if (EVP_PKEY_get_raw_public_key(key, pub, &n) != 1 || n != g->pub_len) goto fail;
    }
    EVP_PKEY_CTX_free(pctx);
    *priv = key;
    *pub_len = n;
    return 0;
fail:
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(pctx);
    ERR_clear_error();
    return -1;
}

int kex_x25519_from_raw(const uint8_t priv[32], crypto_key **out) {
    if (priv == NULL || out == NULL) return -1;
    *out = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, 32);
    if (*out == NULL) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* The peer's share as an EVP_PKEY, or NULL if it is malformed or invalid. */
static EVP_PKEY *peer_key(const group_info *g, const uint8_t *peer, size_t peer_len) {
    if (peer == NULL || peer_len != g->pub_len) return NULL;
    if (!g->ec) return EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, peer, peer_len);

    if (peer[0] != 0x04) return NULL; /* TLS 1.3 allows only the uncompressed form */
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)g->name, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)peer, peer_len),
        OSSL_PARAM_construct_end(),
    };
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    EVP_PKEY_CTX_free(pctx);
    /* Decoding already requires the point to be on the curve; check again
     * (not the point at infinity, coordinates in range, on the curve). */
    EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    int ok = check != NULL && EVP_PKEY_public_check_quick(check) == 1;
    EVP_PKEY_CTX_free(check);
    if (!ok) {
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

int kex_derive(uint16_t group, crypto_key *priv, const uint8_t *peer, size_t peer_len,
               uint8_t *secret, size_t *secret_len) {
    const group_info *g = group_find(group);
    if (g == NULL || priv == NULL || secret == NULL || secret_len == NULL) return -1;
    if (g->ec ? !EVP_PKEY_is_a(priv, "EC") : !EVP_PKEY_is_a(priv, "X25519")) return -1;

    uint8_t buf[CRYPTO_MAX_PUBKEY];
    size_t n = sizeof buf;
    int rc = -1;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pk = peer_key(g, peer, peer_len);
    if (pk == NULL) goto out;
    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    if (pctx == NULL || EVP_PKEY_derive_init(pctx) != 1 ||
        EVP_PKEY_derive_set_peer(pctx, pk) != 1 || EVP_PKEY_derive(pctx, buf, &n) != 1 ||
        n != g->secret_len)
        goto out;
    if (!g->ec) {
        /* A low-order peer point gives all zeros; libcrypto refuses it too. */
        static const uint8_t zeros[32];
        if (crypto_equal_ct(buf, zeros, 32)) goto out;
    }
    memcpy(secret, buf, n);
    *secret_len = n;
    rc = 0;
out:
    crypto_zero(buf, sizeof buf);
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return rc;
}
