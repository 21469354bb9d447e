/* ACME Renewal Information (RFC 9773): a certificate's ARI identifier
 * (§4.1: base64url(AuthorityKeyIdentifier keyIdentifier) "."
 * base64url(serialNumber DER contents)), and the CA's answer for it — the
 * suggested window and Retry-After — fetched with an unauthenticated GET of
 * renewalInfo/<certID> (§4.2). Parsing is pure (the certificate through the
 * DER reader, the timestamps through the cursor API, the JSON through
 * cJSON) and fuzzed (fuzz/fuzz_ari.c). */
#ifndef CERTA_TOOLS_RENEW_ARI_H
#define CERTA_TOOLS_RENEW_ARI_H

#include <stddef.h>
#include <stdint.h>

#include "acme/acme_client.h"

#define ARI_CERT_ID_MAX 200 /* key ids and serials of at most 64 bytes each */
#define ARI_MAX_POLL 86400  /* RFC 9773 §4.3: clients poll at most daily when told less often */

/* The certificate's ARI certID. 0, or -1 with why (not a certificate, no
 * AKI keyIdentifier, an empty serial). */
int ari_cert_id(const uint8_t *der, size_t len, char *out, size_t cap, char *why, size_t wcap);

typedef struct ari_info {
    int64_t start, end;             /* suggestedWindow, seconds since the epoch */
    char explanation[ACME_URL_MAX]; /* explanationURL, "" if none */
} ari_info;

/* A renewalInfo object (§4.2): a suggestedWindow with start <= end is
 * required. 0, or -1 with why. */
int ari_parse_renewal_info(const char *json, size_t len, ari_info *out, char *why, size_t cap);

/* An RFC 3339 date-time ("2026-12-04T18:00:00Z", fractions and offsets
 * allowed) as seconds since the epoch. 0 or -1. */
int ari_parse_time(const char *text, size_t len, int64_t *out);

/* GET renewalInfo/<cert_id> over c (c->dir.renewal_info must be set).
 * *retry_after_s: the answer's Retry-After (seconds, -1 if none). 0, or -1
 * with why. */
int ari_fetch(acme_client *c, const char *cert_id, ari_info *out, long *retry_after_s, char *why,
              size_t cap);

#endif
