/* Signing certificates and CRLs (see ca_crypto.h). The algorithm follows
 * the key: ECDSA with the curve's hash (RFC 5758), Ed25519 (RFC 8410),
 * RSA PKCS#1 v1.5 with SHA-256 (RFC 4055). */
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "crypto/ca_crypto.h"
#include "crypto/internal.h"
#include "wire/der_build.h"

static const uint8_t OID_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t OID_ECDSA_SHA384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t OID_ECDSA_SHA512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};
static const uint8_t OID_RSA_SHA256[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};

typedef enum { ALG_NONE, ALG_ECDSA256, ALG_ECDSA384, ALG_ECDSA512, ALG_ED25519, ALG_RSA256 } alg;

static alg alg_for_key(const crypto_key *key) {
    if (!key) return ALG_NONE;
    alg a = ALG_NONE;
    if (EVP_PKEY_is_a(key, "EC")) {
        char name[64];
        size_t n = 0;
        if (EVP_PKEY_get_group_name(key, name, sizeof name, &n) == 1) {
            if (!strcmp(name, "prime256v1") || !strcmp(name, "P-256"))
                a = ALG_ECDSA256;
            else if (!strcmp(name, "secp384r1") || !strcmp(name, "P-384"))
                a = ALG_ECDSA384;
            else if (!strcmp(name, "secp521r1") || !strcmp(name, "P-521"))
                a = ALG_ECDSA512;
        }
    } else if (EVP_PKEY_is_a(key, "ED25519")) {
        a = ALG_ED25519;
    } else if (EVP_PKEY_is_a(key, "RSA") && EVP_PKEY_get_bits(key) >= 2048) {
        a = ALG_RSA256;
    }
    ERR_clear_error();
    return a;
}

int x509_sig_algid(const crypto_key *key, builder *out) {
    alg a = alg_for_key(key);
    if (a == ALG_NONE) {
        out->failed = true;
        return -1;
    }
    der_open(out, DER_SEQUENCE);
    switch (a) {
    case ALG_ECDSA256:
        der_put_oid(out, OID_ECDSA_SHA256, sizeof OID_ECDSA_SHA256);
        break;
    case ALG_ECDSA384:
        der_put_oid(out, OID_ECDSA_SHA384, sizeof OID_ECDSA_SHA384);
        break;
    case ALG_ECDSA512:
        der_put_oid(out, OID_ECDSA_SHA512, sizeof OID_ECDSA_SHA512);
        break;
    case ALG_ED25519:
        der_put_oid(out, OID_ED25519, sizeof OID_ED25519);
        break;
    case ALG_RSA256:
        der_put_oid(out, OID_RSA_SHA256, sizeof OID_RSA_SHA256);
        der_put_null(out);
        break;
    case ALG_NONE:
        break;
    }
    der_close(out);
    return out->failed ? -1 : 0;
}

int x509_sign(crypto_key *key, const uint8_t *tbs, size_t len, uint8_t *sig, size_t *sig_len) {
    alg a = alg_for_key(key);
    if (a == ALG_NONE || !tbs || len == 0 || !sig || !sig_len) return -1;
    const EVP_MD *md = NULL;
    if (a == ALG_ECDSA256 || a == ALG_RSA256)
        md = crypto_md(HASH_SHA256);
    else if (a == ALG_ECDSA384)
        md = crypto_md(HASH_SHA384);
    else if (a == ALG_ECDSA512)
        md = crypto_md(HASH_SHA512);
    if (a != ALG_ED25519 && !md) return -1;
    int max = EVP_PKEY_get_size(key);
    if (max <= 0 || *sig_len < (size_t)max) return -1;
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    size_t n = *sig_len;
    int ok = mctx && EVP_DigestSignInit(mctx, &pctx, md, NULL, key) == 1;
    if (ok && a == ALG_RSA256) ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1;
    ok = ok && EVP_DigestSign(mctx, sig, &n, tbs, len) == 1;
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    if (!ok) return -1;
    *sig_len = n;
    return 0;
}
