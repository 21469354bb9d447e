/* Test helper: throwaway self-signed certificates made with libcrypto. */
#ifndef CERTA_TEST_LIB_CERTS_H
#define CERTA_TEST_LIB_CERTS_H

#include <stddef.h>
#include <stdint.h>

/* kind: "p256", "p384", "rsa2048", "rsa3072", "ed25519". Returns malloc'd PEM strings. */
int test_make_cert(const char *kind, const char *cn, char **cert_pem, char **key_pem);

#endif
