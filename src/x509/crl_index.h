/* A CRL prepared for many lookups: parsed once, its serials sorted for a
 * binary search, and its signature remembered once verified under an
 * issuer's key. A config's CRL set holds one per CRL (revocation.c), so a
 * full handshake checking a 10,000-entry CRL costs a search instead of a
 * parse, a hash of the whole list, a signature verification and a scan. */
#ifndef CERTA_X509_CRL_INDEX_H
#define CERTA_X509_CRL_INDEX_H

#include <pthread.h>
#include <stdbool.h>

#include "crypto/crypto.h"
#include "x509/cert.h"
#include "x509/crl.h"

typedef struct crl_index {
    x509_crl crl;    /* cursors into the DER given to init, which must outlive it */
    cursor *serials; /* sorted by length, then bytes */
    cursor *rests;   /* each serial's entry rest (revocationDate, extensions) */
    size_t count;
    pthread_mutex_t lock; /* the memo below */
    bool verified;
    uint8_t signer[32]; /* SHA-256 of the SubjectPublicKeyInfo that verified it */
} crl_index;

/* Parses der and sorts its serials. 0, or -1 (not a CRL, out of memory). */
int crl_index_init(crl_index *ix, const uint8_t *der, size_t len);
void crl_index_destroy(crl_index *ix);
/* x509_crl_find over the sorted serials. */
bool crl_index_find(const crl_index *ix, const cursor *serial, int64_t *when, int *reason);
/* Whether issuer's key (key, from issuer's SPKI) signed the CRL: verified
 * the first time, remembered for that SPKI after a success. 0 or -1. */
int crl_index_verify(crl_index *ix, const x509_cert *issuer, crypto_key *key);

#endif
