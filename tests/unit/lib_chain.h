/* Test helper: certificate hierarchies (root -> intermediate -> leaf) made
 * with libcrypto's X509 API, ECDSA P-256 keys unless asked otherwise, for
 * path validation tests. */
#ifndef CERTA_TEST_LIB_CHAIN_H
#define CERTA_TEST_LIB_CHAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct chain_opts {
    const char *cn;  /* subject CN, or NULL for none */
    const char *org; /* subject O, or NULL */
    /* Validity, seconds since the epoch; 0 = (now - 1 hour, now + 30 days). */
    int64_t not_before, not_after;
    /* basicConstraints: ca < 0 = no extension, 0 = cA FALSE, 1 = cA TRUE
     * (critical); path_len >= 0 adds pathLenConstraint. */
    int ca;
    int path_len;
    /* Extension values in openssl.cnf syntax, NULL = absent, e.g.
     * key_usage "critical,keyCertSign,cRLSign", eku "serverAuth,clientAuth",
     * san "DNS:a.example,IP:10.0.0.1,IP:::1,URI:spiffe://td/x",
     * name_constraints "critical,permitted;DNS:.example.com". */
    const char *key_usage;
    const char *eku;
    const char *san;
    const char *name_constraints;
    bool sha1; /* sign with ecdsa-with-SHA1 instead of SHA-256 */
    /* The certificate's key, a test_make_key kind; NULL = "p256". The
     * issuer signs with test_cert_md of its own kind (SHA-256; none for
     * EdDSA; SHA-384 for rsapss384). */
    const char *key;
    bool self_signed; /* issuer = subject, signed with its own key */
    /* TLS Feature ("status_request" = must-staple) and authorityInfoAccess
     * ("OCSP;URI:http://...") in openssl.cnf syntax, NULL = absent. */
    const char *tls_feature;
    const char *aia;
} chain_opts;

typedef struct test_cert {
    void *x509;       /* X509 * */
    void *key;        /* EVP_PKEY * */
    const char *kind; /* its test_make_key kind */
    uint8_t *der;     /* malloc'd DER */
    size_t der_len;
    char *pem;         /* malloc'd PEM */
    char subject[256]; /* "CN=..., O=..." as OpenSSL prints it (RFC 2253) */
} test_cert;

/* Defaults: a root CA, an intermediate CA (pathLen none), a TLS leaf with
 * digitalSignature, serverAuth and the given SAN. */
chain_opts chain_ca_opts(const char *cn);
chain_opts chain_leaf_opts(const char *cn, const char *san);

/* Makes a certificate signed by issuer (NULL or opts->self_signed: self-
 * signed). Returns 0 or -1 (details on stderr). */
int tc_make(test_cert *out, const chain_opts *opts, const test_cert *issuer);
void tc_free(test_cert *c);

/* A three-level chain with the given options (NULL = defaults above with
 * CNs "Test Root CA", "Test Intermediate CA", "leaf.example.com" and SAN
 * DNS:leaf.example.com). */
typedef struct test_chain {
    test_cert root, inter, leaf;
} test_chain;
int chain_make(test_chain *c, const chain_opts *root, const chain_opts *inter,
               const chain_opts *leaf);
void chain_free(test_chain *c);

#endif
