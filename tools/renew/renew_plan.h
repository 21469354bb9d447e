/* When one certificate is to be renewed, as certa renew and
 * certa proxy --acme both decide it: the certificate's ARI certID, the CA's
 * renewal window when its directory offers renewalInfo (RFC 9773), else the
 * lifetime rule (schedule.h), the jitter seeded from the certificate so that
 * every look at the same certificate picks the same time. */
#ifndef CERTA_TOOLS_RENEW_PLAN_H
#define CERTA_TOOLS_RENEW_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/acme_issue.h"
#include "renew/ari.h"
#include "renew/schedule.h"

#define ARI_DEFAULT_POLL 21600 /* s: RFC 9773 §4.3 suggests a few times a day */
#define ARI_MIN_POLL 60

typedef struct renew_plan {
    int64_t not_before, not_after;
    int64_t renew_at;
    renew_basis basis;
    char cert_id[ARI_CERT_ID_MAX]; /* the ARI certID, "" if it has none */
    long retry_after;              /* the ARI answer's Retry-After (s), -1 if none */
    char note[600];                /* why ARI was not used when it could have been, "" */
} renew_plan;

/* A duration for sentences: "3 d 4 h", "2 h 5 min", "40 s". */
void renew_span(int64_t seconds, char *out, size_t cap);

/* "2026-12-04T18:00:00Z" */
void renew_rfc3339(int64_t t, char *out, size_t cap);

/* The seeded source of a certificate's jitter (FNV-1a of its DER). */
renew_rng renew_rng_for(const uint8_t *der, size_t len);

/* The lifetime rule alone (no CA asked), for a certificate just obtained.
 * 0, or -1 if der is not a certificate. */
int renew_plan_local(const uint8_t *der, size_t len, renew_plan *p);

/* The plan for a certificate: asks the CA of io for renewal information
 * when its directory offers it (a failure there is p->note, and the
 * lifetime rule decides). 0, or -1 if der is not a certificate. */
int renew_plan_ask(const acme_issue_opts *io, const uint8_t *der, size_t len, renew_plan *p);

/* When to look again at a certificate that is not due at now: renew_at, or
 * sooner to poll the CA's renewal information again. */
int64_t renew_plan_next_look(const renew_plan *p, int64_t now);

#endif
