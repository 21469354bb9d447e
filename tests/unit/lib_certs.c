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

static EVP_PKEY *rsa_pss_key(const char *md, int salt) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    if (ctx && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) == 1 &&
        (!md || (EVP_PKEY_CTX_set_rsa_pss_keygen_md_name(ctx, md, NULL) == 1 &&
                 EVP_PKEY_CTX_set_rsa_pss_keygen_mgf1_md_name(ctx, md) == 1 &&
                 EVP_PKEY_CTX_set_rsa_pss_keygen_saltlen(ctx, salt) == 1)))
        EVP_PKEY_keygen(ctx, &key);
    EVP_PKEY_CTX_free(ctx);
    return key;
}

void *test_make_key(const char *kind) {
    if (!strcmp(kind, "p256")) return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!strcmp(kind, "p384")) return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (!strcmp(kind, "p521")) return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    if (!strcmp(kind, "rsa2048")) return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (!strcmp(kind, "rsa3072")) return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
    if (!strcmp(kind, "ed25519")) return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!strcmp(kind, "ed448")) return EVP_PKEY_Q_keygen(NULL, NULL, "ED448");
    if (!strcmp(kind, "rsapss")) return rsa_pss_key(NULL, 0);
    if (!strcmp(kind, "rsapss384")) return rsa_pss_key("SHA384", 48);
    return NULL;
}

const char *test_cert_md(const char *kind) {
    if (!strcmp(kind, "ed25519") || !strcmp(kind, "ed448")) return NULL;
    return !strcmp(kind, "rsapss384") ? "SHA384" : "SHA256";
}

int test_make_cert(const char *kind, const char *cn, char **cert_pem, char **key_pem) {
    EVP_PKEY *key = test_make_key(kind);
    const char *md_name = test_cert_md(kind);
    const EVP_MD *md = md_name ? EVP_get_digestbyname(md_name) : NULL;
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
