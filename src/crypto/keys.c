/* Loading, matching and describing keys. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/internal.h"

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

crypto_key *key_from_spki(const uint8_t *spki, size_t len) {
    if (spki == NULL || len == 0 || len > LONG_MAX) return NULL;
    const unsigned char *p = spki;
    EVP_PKEY *key = d2i_PUBKEY(NULL, &p, (long)len);
    if (key != NULL && p != spki + len) { /* trailing bytes */
        EVP_PKEY_free(key);
        key = NULL;
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
