/* Test helper: an OpenSSL libssl peer over memory BIOs, for running certa
 * against libssl in one process (interop and known-answer tests). */
#ifndef CERTA_TEST_LIB_OSSL_H
#define CERTA_TEST_LIB_OSSL_H

#include "certa.h"

#include <openssl/ssl.h>
#include <stdbool.h>

typedef struct peer {
    SSL *ssl;
    BIO *to_ssl;   /* we write what certa sent */
    BIO *from_ssl; /* we read what libssl sent */
} peer;

/* Loads a PEM certificate and key into ctx. */
void use_pem(SSL_CTX *ctx, const char *cert, const char *key);
/* A libssl endpoint on ctx, in server or client state. */
peer ossl_peer(SSL_CTX *ctx, bool server);
/* Frees it; the session stays resumable (SSL_free without a shutdown marks
 * it not resumable). */
void peer_free(peer *p);
/* Runs certa and libssl until neither has anything to say (50 rounds). */
void pump(certa_conn *c, peer *p);
/* The same, reading early data on a certa server as it comes (else its
 * records would hold back the rest of the input) into early (cap bytes,
 * NUL-terminated; NULL: none read). */
void pump_reading_early(certa_conn *c, peer *p, char *early, size_t cap);

#endif
