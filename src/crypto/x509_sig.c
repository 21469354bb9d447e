/* X.509 signature algorithms (RFC 4055, RFC 5758, RFC 8410): verification
 * of a certificate signature given the AlgorithmIdentifier, and the key
 * policy path validation applies to subject public keys.
 *
 *   sha256/384/512WithRSAEncryption   parameters NULL (or absent)
 *   RSASSA-PSS                        hash SHA-256/384/512, MGF1 with the
 *                                     same hash, any salt length, trailer 1;
 *                                     within the issuer key's restrictions
 *                                     if its SPKI has RSASSA-PSS parameters
 *   ecdsa-with-SHA256/384/512         no parameters
 *   Ed25519, Ed448                    no parameters
 *   sha1WithRSAEncryption, ecdsa-with-SHA1: recognised, refused as weak. */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/rsa.h>

#include "crypto/internal.h"
#include "wire/der.h"

static const uint8_t OID_RSA_SHA1[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05};
static const uint8_t OID_RSA_SHA256[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
static const uint8_t OID_RSA_SHA384[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c};
static const uint8_t OID_RSA_SHA512[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d};
static const uint8_t OID_RSA_PSS[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a};
static const uint8_t OID_RSA_ENC[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};
static const uint8_t OID_ECDSA_SHA1[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01};
static const uint8_t OID_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t OID_ECDSA_SHA384[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03};
static const uint8_t OID_ECDSA_SHA512[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};
static const uint8_t OID_ED448[] = {0x2b, 0x65, 0x71};
static const uint8_t OID_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t OID_P521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};

#define OID_IS(oid, known) der_oid_equal(&(oid), known, sizeof known)

typedef enum { X_RSA_PKCS1, X_RSA_PSS, X_ECDSA, X_ED25519, X_ED448 } x_kind;

/* An RSASSA-PSS issuer key with parameters allows only signatures with its
 * hash, its MGF1 hash and at least its salt length (RFC 4055 §3.1, §3.3). */
static bool pss_key_allows(const EVP_PKEY *pub, const pss_params *sig) {
    key_info info;
    key_info_get(pub, &info);
    if (info.type != KEY_RSA_PSS || !info.pss_restricted) return true;
    return !info.pss_bad && info.pss.hash == sig->hash && info.pss.mgf_hash == sig->mgf_hash &&
           sig->salt >= info.pss.salt;
}

int sig_verify_x509(const uint8_t *alg_id, size_t alg_len, crypto_key *pub, const uint8_t *msg,
                    size_t len, const uint8_t *sig, size_t sig_len) {
    if (alg_id == NULL || pub == NULL || msg == NULL || sig == NULL) return -2;
    cursor c, oid, params;
    cur_init(&c, alg_id, alg_len);
    if (!der_get(&c, DER_OID, &oid)) return -2;
    params = c; /* whatever follows the OID */
    bool has_params = !cur_empty(&params);
    bool null_params = false;
    if (has_params) {
        cursor t = params, n;
        null_params = der_get(&t, DER_NULL, &n) && n.len == 0 && cur_empty(&t);
    }
    x_kind kind;
    hash_alg hash = HASH_SHA256;
    int salt = 0;
    if (OID_IS(oid, OID_RSA_SHA1) || OID_IS(oid, OID_ECDSA_SHA1)) return -3;
    if (OID_IS(oid, OID_RSA_SHA256) || OID_IS(oid, OID_RSA_SHA384) || OID_IS(oid, OID_RSA_SHA512)) {
        if (has_params && !null_params) return -2;
        kind = X_RSA_PKCS1;
        hash = OID_IS(oid, OID_RSA_SHA256)   ? HASH_SHA256
               : OID_IS(oid, OID_RSA_SHA384) ? HASH_SHA384
                                             : HASH_SHA512;
    } else if (OID_IS(oid, OID_RSA_PSS)) {
        pss_params pss;
        if (!has_params || pss_params_parse(params, &pss) != 0) return -2;
        if (pss_params_weak(&pss)) return -3;
        if (pss.mgf_hash != pss.hash) return -2;
        if (!pss_key_allows(pub, &pss)) return -1;
        hash = pss.hash;
        salt = pss.salt;
        kind = X_RSA_PSS;
    } else if (OID_IS(oid, OID_ECDSA_SHA256) || OID_IS(oid, OID_ECDSA_SHA384) ||
               OID_IS(oid, OID_ECDSA_SHA512)) {
        if (has_params) return -2;
        kind = X_ECDSA;
        hash = OID_IS(oid, OID_ECDSA_SHA256)   ? HASH_SHA256
               : OID_IS(oid, OID_ECDSA_SHA384) ? HASH_SHA384
                                               : HASH_SHA512;
    } else if (OID_IS(oid, OID_ED25519) || OID_IS(oid, OID_ED448)) {
        if (has_params) return -2;
        kind = OID_IS(oid, OID_ED25519) ? X_ED25519 : X_ED448;
    } else {
        return -2;
    }

    /* The key must be of the algorithm's type. */
    bool fits;
    switch (kind) {
    case X_RSA_PKCS1:
        fits = EVP_PKEY_is_a(pub, "RSA");
        break;
    case X_RSA_PSS:
        fits = EVP_PKEY_is_a(pub, "RSA") || EVP_PKEY_is_a(pub, "RSA-PSS");
        break;
    case X_ECDSA:
        fits = EVP_PKEY_is_a(pub, "EC");
        break;
    case X_ED25519:
        fits = EVP_PKEY_is_a(pub, "ED25519");
        break;
    default:
        fits = EVP_PKEY_is_a(pub, "ED448");
        break;
    }
    if (!fits) return -1;

    const EVP_MD *md = NULL;
    if (kind != X_ED25519 && kind != X_ED448) {
        md = crypto_md(hash);
        if (md == NULL) return -2;
    }
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int r = -2;
    if (mctx == NULL) goto done;
    if (EVP_DigestVerifyInit(mctx, &pctx, md, NULL, pub) != 1) goto done;
    if (kind == X_RSA_PSS) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
            EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, salt) != 1 ||
            EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
            goto done;
    } else if (kind == X_RSA_PKCS1) {
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) goto done;
    }
    r = EVP_DigestVerify(mctx, sig, sig_len, msg, len) == 1 ? 0 : -1;
done:
    EVP_MD_CTX_free(mctx);
    ERR_clear_error();
    return r;
}

int x509_key_policy(const uint8_t *spki, size_t len, char *why, size_t cap) {
    cursor c, seq, alg, oid, bits;
    cur_init(&c, spki, len);
    if (why && cap) why[0] = '\0';
#define WHY(...) (why && cap ? (void)snprintf(why, cap, __VA_ARGS__) : (void)0)
    if (!der_get(&c, DER_SEQUENCE, &seq) || !der_get(&seq, DER_SEQUENCE, &alg) ||
        !der_get(&alg, DER_OID, &oid) || !der_get(&seq, DER_BIT_STRING, &bits)) {
        WHY("a malformed public key");
        return -2;
    }
    if (OID_IS(oid, OID_EC_PUBKEY)) {
        cursor curve;
        if (!der_get(&alg, DER_OID, &curve) || !cur_empty(&alg)) {
            WHY("an EC key with explicit or missing curve parameters");
            return -1;
        }
        if (!OID_IS(curve, OID_P256) && !OID_IS(curve, OID_P384) && !OID_IS(curve, OID_P521)) {
            WHY("an EC key on a curve other than P-256, P-384 or P-521");
            return -1;
        }
    } else if (OID_IS(oid, OID_RSA_ENC)) {
        /* checked below through libcrypto for the modulus size */
    } else if (OID_IS(oid, OID_RSA_PSS)) {
        pss_params pss; /* parameters are optional: absent = no restriction */
        if (!cur_empty(&alg) && pss_params_parse(alg, &pss) != 0) {
            WHY("an RSA-PSS key with malformed or unsupported parameters");
            return -2;
        }
        if (!cur_empty(&alg) && pss_params_weak(&pss)) {
            WHY("an RSA-PSS key restricted to SHA-1 signatures");
            return -1;
        }
    } else if (OID_IS(oid, OID_ED25519) || OID_IS(oid, OID_ED448)) {
        if (!cur_empty(&alg)) {
            WHY("an %s key with parameters", OID_IS(oid, OID_ED25519) ? "Ed25519" : "Ed448");
            return -2;
        }
    } else {
        WHY("a public key of an unsupported type (only RSA, RSA-PSS, ECDSA P-256/384/521, "
            "Ed25519, Ed448)");
        return -1;
    }
    crypto_key *key = key_from_spki(spki, len);
    if (key == NULL) {
        WHY("a malformed public key");
        return -2;
    }
    int rc = 0;
    if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
        int nbits = EVP_PKEY_get_bits(key);
        if (nbits < 2048) {
            WHY("a weak RSA key (%d bits; at least 2048 are required)", nbits);
            rc = -1;
        } else if (nbits % 8 != 0) {
            WHY("an RSA key whose size (%d bits) is not a multiple of 8", nbits);
            rc = -1;
        }
    }
    key_free(key);
    ERR_clear_error();
    return rc;
#undef WHY
}
