/* Test helper: throwaway self-signed certificates made with libcrypto. */
#include "lib_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

static char *bio_to_string(BIO *bio) {
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)len + 1);
    if (!out) return NULL;
    memcpy(out, data, (size_t)len);
    out[len] = 0;
    return out;
}

int test_make_cert(const char *kind, const char *cn, char **cert_pem, char **key_pem) {
    EVP_PKEY *key = NULL;
    const EVP_MD *md = EVP_sha256();
    if (!strcmp(kind, "p256"))
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    else if (!strcmp(kind, "p384"))
        key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    else if (!strcmp(kind, "rsa2048"))
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    else if (!strcmp(kind, "rsa3072"))
        key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    else if (!strcmp(kind, "ed25519")) {
        key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        md = NULL;
    }
    if (!key) return -1;
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
    X509_set_issuer_name(x, name);
    X509_set_pubkey(x, key);
    int ok = X509_sign(x, key, md) > 0;
    BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
    ok = ok && PEM_write_bio_X509(cb, x) &&
         PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL);
    if (ok) {
        *cert_pem = bio_to_string(cb);
        *key_pem = bio_to_string(kb);
    }
    BIO_free(cb);
    BIO_free(kb);
    X509_free(x);
    EVP_PKEY_free(key);
    return ok ? 0 : -1;
}
