/* What a certificate authority needs from libcrypto beyond the TLS
 * primitives in crypto.h: generating keys, exporting them (PKCS#8 PEM, DER
 * SubjectPublicKeyInfo) and signing certificates and CRLs under the X.509
 * AlgorithmIdentifier that fits the key. Implemented in spki.c and
 * x509_sign.c; like crypto.h, nothing here exposes an OpenSSL type. */
#ifndef CERTA_CRYPTO_CA_CRYPTO_H
#define CERTA_CRYPTO_CA_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "wire/cursor.h"

typedef enum {
    KEYGEN_P256 = 0,
    KEYGEN_P384,
    KEYGEN_ED25519,
    KEYGEN_RSA2048,
    KEYGEN_RSA3072,
} keygen_type;

/* "p256", "p384", "ed25519", "rsa2048", "rsa3072" (also "P-256", "ecdsa"
 * for P-256 and "rsa" for 2048 bits). false for other names. */
bool keygen_type_from_name(const char *name, keygen_type *out);
/* A fresh private key; NULL on failure. */
crypto_key *key_generate(keygen_type type);

/* RSA keys get keyEncipherment in a TLS leaf's keyUsage; others do not. */
bool key_is_rsa(const crypto_key *key);

/* DER SubjectPublicKeyInfo of a (private or public) key, malloc'd; 0 or -1. */
int key_spki_der(const crypto_key *key, uint8_t **der, size_t *len);
/* Unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), malloc'd and
 * NUL-terminated; the caller zeroizes (crypto_zero) and frees it. 0 or -1. */
int key_private_pem(const crypto_key *key, char **pem, size_t *len);

/* Appends the AlgorithmIdentifier (whole SEQUENCE) certa signs with for the
 * key: ecdsa-with-SHA256/384/512 for P-256/384/521, Ed25519, and
 * sha256WithRSAEncryption (PKCS#1 v1.5, NULL parameters) for RSA.
 * 0, or -1 for an unsupported key (the builder is then failed). */
int x509_sig_algid(const crypto_key *key, builder *out);
/* Signs a TBSCertificate / TBSCertList (the whole element) with the key,
 * under the algorithm x509_sig_algid names. sig holds *sig_len bytes (use
 * CRYPTO_MAX_SIG); *sig_len is set to the signature length. 0 or -1. */
int x509_sign(crypto_key *key, const uint8_t *tbs, size_t len, uint8_t *sig, size_t *sig_len);

#endif
