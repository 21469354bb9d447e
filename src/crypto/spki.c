/* Key generation and export for the development CA (see ca_crypto.h). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/ca_crypto.h"
#include "crypto/internal.h"

bool keygen_type_from_name(const char *name, keygen_type *out) {
    static const struct {
        const char *name;
        keygen_type type;
    } names[] = {
        {"p256", KEYGEN_P256},       {"P-256", KEYGEN_P256},      {"ecdsa", KEYGEN_P256},
        {"prime256v1", KEYGEN_P256}, {"p384", KEYGEN_P384},       {"P-384", KEYGEN_P384},
        {"secp384r1", KEYGEN_P384},  {"ed25519", KEYGEN_ED25519}, {"Ed25519", KEYGEN_ED25519},
        {"rsa2048", KEYGEN_RSA2048}, {"rsa", KEYGEN_RSA2048},     {"rsa3072", KEYGEN_RSA3072},
    };
    if (!name) return false;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcmp(name, names[i].name) == 0) {
            *out = names[i].type;
            return true;
        }
    }
    return false;
}

crypto_key *key_generate(keygen_type type) {
    EVP_PKEY *key = NULL;
    switch (type) {
    case KEYGEN_P256:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        break;
    case KEYGEN_P384:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        break;
    case KEYGEN_ED25519:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        break;
    case KEYGEN_RSA2048:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        break;
    case KEYGEN_RSA3072:
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
        break;
    }
    ERR_clear_error();
    return key;
}

bool key_is_rsa(const crypto_key *key) {
    bool r = key && EVP_PKEY_is_a(key, "RSA");
    ERR_clear_error();
    return r;
}

int key_spki_der(const crypto_key *key, uint8_t **der, size_t *len) {
    if (!key || !der || !len) return -1;
    *der = NULL;
    *len = 0;
    unsigned char *p = NULL;
    int n = i2d_PUBKEY(key, &p);
    if (n <= 0 || !p) {
        ERR_clear_error();
        return -1;
    }
    uint8_t *copy = malloc((size_t)n);
    if (copy) memcpy(copy, p, (size_t)n);
    OPENSSL_free(p);
    if (!copy) return -1;
    *der = copy;
    *len = (size_t)n;
    return 0;
}

int key_private_pem(const crypto_key *key, char **pem, size_t *len) {
    if (!key || !pem || !len) return -1;
    *pem = NULL;
    *len = 0;
    /* Secure-heap BIO: the PEM text is cleared when the BIO is freed. */
    BIO *bio = BIO_new(BIO_s_secmem());
    if (!bio) bio = BIO_new(BIO_s_mem());
    if (!bio) {
        ERR_clear_error();
        return -1;
    }
    int rc = -1;
    if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data) {
            char *copy = malloc((size_t)n + 1);
            if (copy) {
                memcpy(copy, data, (size_t)n);
                copy[n] = 0;
                *pem = copy;
                *len = (size_t)n;
                rc = 0;
            }
            crypto_zero(data, (size_t)n);
        }
    }
    BIO_free(bio);
    ERR_clear_error();
    return rc;
}
