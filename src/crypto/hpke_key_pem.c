/* HPKE private keys in files: PKCS#8 PEM through libcrypto's encoders, so
 * that an ECH key is an ordinary key file (`openssl pkey -in ech.key`
 * reads it). Memory BIOs free their buffers with OPENSSL_clear_free. */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crypto/hpke.h"
#include "crypto/internal.h"

char *hpke_private_key_to_pem(uint16_t kem, const uint8_t *sk, size_t sk_len, size_t *len) {
    EVP_PKEY *key = hpke_private_pkey(kem, sk, sk_len, NULL);
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL, *data = NULL;
    long n;
    if (key != NULL && bio != NULL &&
        PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
        (n = BIO_get_mem_data(bio, &data)) > 0 && (out = malloc((size_t)n + 1)) != NULL) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
        if (len != NULL) *len = (size_t)n;
    }
    BIO_free(bio);
    EVP_PKEY_free(key);
    ERR_clear_error();
    return out;
}

int hpke_private_key_from_pem(const char *pem, size_t len, uint16_t *kem, uint8_t *sk) {
    if (pem == NULL || kem == NULL || sk == NULL || len > INT32_MAX) return -1;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
    BIGNUM *d = NULL;
    char group[32];
    size_t n = 32;
    int rc = -1;
    if (key == NULL) goto out;
    if (EVP_PKEY_is_a(key, "X25519")) {
        if (EVP_PKEY_get_raw_private_key(key, sk, &n) == 1 && n == 32) {
            *kem = HPKE_KEM_X25519_HKDF_SHA256;
            rc = 0;
        }
    } else if (EVP_PKEY_is_a(key, "EC") &&
               EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                              NULL) == 1 &&
               (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) &&
               EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
               BN_bn2binpad(d, sk, 32) == 32) {
        *kem = HPKE_KEM_P256_HKDF_SHA256;
        rc = 0;
    }
out:
    BN_clear_free(d);
    EVP_PKEY_free(key);
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}
