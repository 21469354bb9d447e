/* When to renew a certificate. With renewal information from the CA (ARI,
 * RFC 9773) at a random point inside its suggested window; otherwise when a
 * third of the lifetime is left (half of it for lifetimes under 10 days),
 * moved earlier by a random part of a twentieth of the lifetime, so that a
 * fleet issued together does not renew together. Never at or past expiry.
 * Pure: the clock is not read here and the randomness is supplied. */
#ifndef CERTA_TOOLS_RENEW_SCHEDULE_H
#define CERTA_TOOLS_RENEW_SCHEDULE_H

#include <stdbool.h>
#include <stdint.h>

#define RENEW_SHORT_LIFETIME (10 * 86400) /* under this, renew at half the lifetime */

/* Uniform 64-bit values. */
typedef uint64_t (*renew_random_fn)(void *ctx);

typedef enum renew_basis {
    RENEW_BASIS_THIRD = 0, /* a third of the lifetime left */
    RENEW_BASIS_HALF,      /* half of a short lifetime left */
    RENEW_BASIS_ARI,       /* inside the CA's suggested window */
} renew_basis;
const char *renew_basis_name(renew_basis b); /* "third", "half", "ari" */

typedef struct renew_window {
    int64_t start, end; /* seconds since the epoch; a window with end < start is ignored */
} renew_window;

/* The time to renew a certificate valid from not_before to not_after
 * (ari: the CA's window, or NULL). *basis says which rule chose it. */
int64_t renew_schedule(int64_t not_before, int64_t not_after, const renew_window *ari,
                       renew_random_fn rnd, void *ctx, renew_basis *basis);

/* A small deterministic random source (splitmix64) for a seed: the CLI seeds
 * it from the certificate, so that every run for the same certificate picks
 * the same time (a timer that runs hourly does not drift towards early). */
typedef struct renew_rng {
    uint64_t state;
} renew_rng;
uint64_t renew_rng_next(void *rng);

#endif
