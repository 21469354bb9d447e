/* Certificate revocation lists (RFC 5280 §5): parsing and lookup. */
#ifndef CERTA_X509_CRL_H
#define CERTA_X509_CRL_H

#include "x509/cert.h"

typedef struct x509_crl {
    cursor tbs;         /* TBSCertList element (header included), what is signed */
    cursor tbs_sig_alg; /* AlgorithmIdentifier contents inside TBS */
    cursor issuer;      /* Name element */
    int64_t this_update;
    int64_t next_update;
    bool has_next_update;
    cursor revoked; /* revokedCertificates contents; len 0 if none */
    cursor sig_alg; /* outer AlgorithmIdentifier contents */
    cursor sig;     /* signature bytes */
    bool has_crl_number, crl_number_critical;
    bool unknown_critical; /* a critical CRL or entry extension certa does not process */
} x509_crl;

/* Parses without copying. Returns 0 or -1 (not a DER CRL). Semantic
 * problems (no CRL number, critical extensions) are left in the flags. */
int x509_crl_parse(x509_crl *crl, const uint8_t *der, size_t len);

/* Is serial (INTEGER contents, as x509_cert.serial) listed? If so and
 * when is not NULL, *when gets the revocation date. */
bool x509_crl_lists(const x509_crl *crl, const cursor *serial, int64_t *when);
/* The same, also giving the entry's reasonCode (CRLReason, -1 if none). */
bool x509_crl_find(const x509_crl *crl, const cursor *serial, int64_t *when, int *reason);

/* The next revokedCertificates entry of list (crl.revoked contents): its
 * serial (INTEGER contents) and the rest of the entry (revocationDate and
 * extensions); false at the end or on a malformed entry. */
bool x509_crl_next_entry(cursor *list, cursor *serial, cursor *rest);
/* The revocation date and reasonCode (-1 if none) of an entry's rest. */
void x509_crl_entry_details(cursor rest, int64_t *when, int *reason);

#endif
