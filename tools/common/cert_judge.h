/* Judgements about one certificate that certa diagnose and certa scan make
 * the same way: the finding IDs and summaries for a verification verdict,
 * the lifetime thresholds, and name matching (RFC 6125). */
#ifndef CERTA_TOOLS_CERT_JUDGE_H
#define CERTA_TOOLS_CERT_JUDGE_H

#include "certa.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct cert_verdict_id {
    int code;
    const char *id;      /* "CERT-EXPIRED" (docs/diagnose.md, docs/scan.md) */
    const char *summary; /* "a certificate in the chain has expired" */
} cert_verdict_id;

/* The finding for a certa_verify_chain code, NULL for CERTA_OK or a code
 * without one. */
const cert_verdict_id *cert_verdict_for(int code);

/* The lifetime rule: a certificate with less than a third of its lifetime
 * left is due for renewal (automated renewal usually happens by then). */
#define CERT_LIFETIME_WARN_FRACTION (1.0 / 3.0)
/* The fraction of [not_before, not_after] left at now (0 when expired, 1
 * before notBefore; 0 for an empty lifetime). */
double cert_lifetime_left(int64_t not_before, int64_t not_after, int64_t now);
/* True when less than a third is left (not yet expired): the test
 * certa diagnose's CERT-LIFETIME warning uses. */
bool cert_lifetime_due(int64_t not_before, int64_t not_after, int64_t now);

/* The minimum key sizes certa itself accepts (and diagnose's CERT-KEY-SIZE). */
#define CERT_MIN_RSA_BITS 2048u
#define CERT_MIN_EC_BITS 256u

/* RFC 6125: exact (ignoring case) or "*." standing for one whole left label. */
bool cert_name_matches(const char *pattern, const char *name);
/* Whether name (a DNS name or an IP literal) is among the leaf's SANs
 * (dns_names / ip_addresses as certa_cert_details lists them). */
bool cert_has_name(const char *dns_names, const char *ip_addresses, const char *name);

#endif
