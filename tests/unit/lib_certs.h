/* Test helper: throwaway self-signed certificates made with libcrypto. */
#ifndef CERTA_TEST_LIB_CERTS_H
#define CERTA_TEST_LIB_CERTS_H

#include <stddef.h>
#include <stdint.h>

/* A new key (an EVP_PKEY *, the caller frees it) of kind "p256", "p384",
 * "p521", "rsa2048", "rsa3072", "ed25519", "ed448", "rsapss" (RSASSA-PSS
 * 2048, no parameters) or "rsapss384" (RSASSA-PSS 2048 restricted to
 * SHA-384, MGF1 SHA-384, salt >= 48); NULL for an unknown kind. */
void *test_make_key(const char *kind);
/* The digest a key of that kind signs certificates with: NULL for EdDSA,
 * "SHA384" for rsapss384, else "SHA256". */
const char *test_cert_md(const char *kind);

/* kind: as for test_make_key. Returns malloc'd PEM strings. */
int test_make_cert(const char *kind, const char *cn, char **cert_pem, char **key_pem);

#endif
