/* Loading, matching and describing keys. */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/internal.h"
#include "wire/der.h"

/* Encrypted keys are not supported: refuse rather than prompt on a tty. */
static int no_password(char *buf, int size, int rwflag, void *u) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

crypto_key *key_from_pem(const char *pem, size_t len) {
    if (pem == NULL || len == 0 || len > INT_MAX) return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        ERR_clear_error();
        return NULL;
    }
    /* Takes the first PRIVATE KEY / RSA PRIVATE KEY / EC PRIVATE KEY block,
     * skipping any others (certificates, EC PARAMETERS). */
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return key;
}

/* SubjectPublicKeyInfo decoding. d2i_PUBKEY goes through libcrypto 3's
 * OSSL_DECODER machinery, which builds a decoder chain by walking every
 * provider's decoders on each call (about 1.4 million instructions for a
 * P-256 key, more than an ECDSA verification); the handshake decodes the
 * peer's key on every connection. The common key types are therefore read
 * here with the strict DER cursor and handed to the key manager directly
 * (EVP_PKEY_fromdata / raw public keys), which applies the same checks as
 * the decoder (EC points must be on the curve). Anything else, or anything
 * not in the exact form expected, still goes to d2i_PUBKEY. */

static const uint8_t OID_EC_PUBLIC_KEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t OID_P521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};
static const uint8_t OID_X25519[] = {0x2b, 0x65, 0x6e};
static const uint8_t OID_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

#define OID_IS(cur, known) der_oid_equal(&(cur), (known), sizeof(known))

static EVP_PKEY *from_params(const char *type, const OSSL_PARAM *params) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(pctx);
    return key;
}

/* EC keys: importing by group name builds the curve group from scratch
 * (EC_GROUP_new_by_curve_name_ex, ~0.14M instructions for P-256, plus the
 * keymgmt fetch: ~0.2M per key in all). Instead a parameters-only key per
 * curve is made once per process and never changed afterwards; each public
 * key copies its parameters (EC_GROUP_dup) and sets the encoded point, which
 * EC_POINT_oct2point checks (coordinates in the field, on the curve), as
 * libssl does for key shares. */
static const char *const ec_curves[] = {"P-256", "P-384", "P-521"};
#define EC_CURVES (sizeof ec_curves / sizeof ec_curves[0])
static pthread_once_t ec_once = PTHREAD_ONCE_INIT;
static EVP_PKEY *ec_templates[EC_CURVES];

static void ec_templates_make(void) {
    for (size_t i = 0; i < EC_CURVES; i++) {
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *t = NULL;
        if (pctx == NULL || EVP_PKEY_paramgen_init(pctx) != 1 ||
            EVP_PKEY_CTX_set_group_name(pctx, ec_curves[i]) != 1 ||
            EVP_PKEY_paramgen(pctx, &t) != 1)
            t = NULL;
        EVP_PKEY_CTX_free(pctx);
        ec_templates[i] = t;
    }
    ERR_clear_error();
}

static EVP_PKEY *ec_template(const char *curve) {
    if (pthread_once(&ec_once, ec_templates_make) != 0) return NULL;
    for (size_t i = 0; i < EC_CURVES; i++)
        if (strcmp(curve, ec_curves[i]) == 0) return ec_templates[i];
    return NULL;
}

static EVP_PKEY *ec_key(const char *curve, size_t coord, cursor pub) {
    if (pub.len != 1 + 2 * coord || pub.data[0] != 0x04) return NULL; /* uncompressed only */
    const EVP_PKEY *tmpl = ec_template(curve);
    if (tmpl != NULL) {
        EVP_PKEY *key = EVP_PKEY_new();
        if (key == NULL || EVP_PKEY_copy_parameters(key, tmpl) != 1 ||
            EVP_PKEY_set1_encoded_public_key(key, pub.data, pub.len) != 1) {
            EVP_PKEY_free(key);
            return NULL;
        }
        return key;
    }
    /* No template (provider without EC paramgen): import by name. */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)curve, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub.data, pub.len),
        OSSL_PARAM_construct_end(),
    };
    return from_params("EC", params);
}

/* A positive INTEGER in minimal form: its magnitude bytes. */
static bool der_positive_int(cursor *c, cursor *mag) {
    cursor v;
    if (!der_get(c, DER_INTEGER, &v) || v.len == 0 || (v.data[0] & 0x80)) return false;
    if (v.data[0] == 0) {
        if (v.len == 1 || !(v.data[1] & 0x80)) return false; /* zero, or not minimal */
        v.data++;
        v.len--;
    }
    *mag = v;
    return true;
}

static EVP_PKEY *rsa_key(cursor bits) {
    cursor seq, n, e;
    if (!der_get(&bits, DER_SEQUENCE, &seq) || !cur_empty(&bits)) return NULL;
    if (!der_positive_int(&seq, &n) || !der_positive_int(&seq, &e) || !cur_empty(&seq)) return NULL;
    EVP_PKEY *key = NULL;
    BIGNUM *bn_n = BN_bin2bn(n.data, (int)n.len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e.data, (int)e.len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    if (bn_n != NULL && bn_e != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
        key = from_params("RSA", params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return key;
}

/* NULL when the SPKI is not one of the forms handled here. */
static EVP_PKEY *spki_fast(const uint8_t *spki, size_t len) {
    cursor all, body, alg, oid, bits;
    cur_init(&all, spki, len);
    if (!der_get(&all, DER_SEQUENCE, &body) || !cur_empty(&all)) return NULL;
    if (!der_get(&body, DER_SEQUENCE, &alg) || !der_get(&alg, DER_OID, &oid)) return NULL;
    if (!der_get_bitstring_bytes(&body, &bits) || !cur_empty(&body)) return NULL;
    if (OID_IS(oid, OID_EC_PUBLIC_KEY)) {
        cursor curve;
        if (!der_get(&alg, DER_OID, &curve) || !cur_empty(&alg)) return NULL;
        if (OID_IS(curve, OID_P256)) return ec_key("P-256", 32, bits);
        if (OID_IS(curve, OID_P384)) return ec_key("P-384", 48, bits);
        if (OID_IS(curve, OID_P521)) return ec_key("P-521", 66, bits);
        return NULL;
    }
    if (OID_IS(oid, OID_ED25519) || OID_IS(oid, OID_X25519)) {
        if (!cur_empty(&alg) || bits.len != 32) return NULL; /* parameters must be absent */
        return EVP_PKEY_new_raw_public_key_ex(NULL, OID_IS(oid, OID_ED25519) ? "ED25519" : "X25519",
                                              NULL, bits.data, bits.len);
    }
    if (OID_IS(oid, OID_RSA)) {
        cursor null;
        if (!der_get(&alg, DER_NULL, &null) || null.len != 0 || !cur_empty(&alg)) return NULL;
        return rsa_key(bits);
    }
    return NULL;
}

crypto_key *key_from_spki(const uint8_t *spki, size_t len) {
    if (spki == NULL || len == 0 || len > LONG_MAX) return NULL;
    EVP_PKEY *key = spki_fast(spki, len);
    if (key == NULL) {
        const unsigned char *p = spki;
        key = d2i_PUBKEY(NULL, &p, (long)len);
        if (key != NULL && p != spki + len) { /* trailing bytes */
            EVP_PKEY_free(key);
            key = NULL;
        }
    }
    ERR_clear_error();
    return key;
}

bool key_pair_matches(const crypto_key *priv, const crypto_key *pub) {
    if (priv == NULL || pub == NULL) return false;
    int r = EVP_PKEY_eq(priv, pub);
    ERR_clear_error();
    return r == 1;
}

void key_describe(const crypto_key *key, char *out, size_t cap) {
    if (out == NULL || cap == 0) return;
    if (key == NULL) {
        snprintf(out, cap, "no key");
        return;
    }
    if (EVP_PKEY_is_a(key, "RSA")) {
        snprintf(out, cap, "RSA %d", EVP_PKEY_get_bits(key));
    } else if (EVP_PKEY_is_a(key, "RSA-PSS")) {
        snprintf(out, cap, "RSA-PSS %d", EVP_PKEY_get_bits(key));
    } else if (EVP_PKEY_is_a(key, "EC")) {
        char name[64];
        size_t n = 0;
        if (EVP_PKEY_get_group_name(key, name, sizeof name, &n) != 1) {
            snprintf(out, cap, "ECDSA (unnamed curve, %d bits)", EVP_PKEY_get_bits(key));
        } else {
            static const struct {
                const char *sn, *nist;
            } curves[] = {{"prime256v1", "P-256"}, {"secp384r1", "P-384"}, {"secp521r1", "P-521"}};
            const char *shown = name;
            for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
                if (strcmp(name, curves[i].sn) == 0 || strcmp(name, curves[i].nist) == 0)
                    shown = curves[i].nist;
            snprintf(out, cap, "ECDSA %s", shown);
        }
    } else if (EVP_PKEY_is_a(key, "ED25519")) {
        snprintf(out, cap, "Ed25519");
    } else if (EVP_PKEY_is_a(key, "ED448")) {
        snprintf(out, cap, "Ed448");
    } else if (EVP_PKEY_is_a(key, "X25519")) {
        snprintf(out, cap, "X25519");
    } else {
        const char *type = EVP_PKEY_get0_type_name(key);
        snprintf(out, cap, "%s %d", type ? type : "unknown key", EVP_PKEY_get_bits(key));
    }
    ERR_clear_error();
}

void key_free(crypto_key *key) {
    EVP_PKEY_free(key); /* clears private material */
}
