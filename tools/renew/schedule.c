/* When to renew (see schedule.h). */
#include "renew/schedule.h"

const char *renew_basis_name(renew_basis b) {
    switch (b) {
    case RENEW_BASIS_HALF:
        return "half";
    case RENEW_BASIS_ARI:
        return "ari";
    default:
        return "third";
    }
}

/* A uniform value in [0, span] (span >= 0), without modulo bias that matters
 * at these sizes: spans are far below 2^64. */
static int64_t uniform(renew_random_fn rnd, void *ctx, int64_t span) {
    if (span <= 0) return 0;
    return (int64_t)(rnd(ctx) % ((uint64_t)span + 1));
}

int64_t renew_schedule(int64_t not_before, int64_t not_after, const renew_window *ari,
                       renew_random_fn rnd, void *ctx, renew_basis *basis) {
    int64_t lifetime = not_after - not_before;
    int64_t latest = not_after - 1; /* never at or past expiry */
    if (ari && ari->end >= ari->start) {
        *basis = RENEW_BASIS_ARI;
        int64_t at = ari->start + uniform(rnd, ctx, ari->end - ari->start);
        return at < latest ? at : latest;
    }
    if (lifetime <= 0) { /* nonsense dates: renew as soon as asked */
        *basis = RENEW_BASIS_THIRD;
        return not_before < latest ? not_before : latest;
    }
    bool is_short = lifetime < RENEW_SHORT_LIFETIME;
    *basis = is_short ? RENEW_BASIS_HALF : RENEW_BASIS_THIRD;
    int64_t due = not_after - (is_short ? lifetime / 2 : lifetime / 3);
    int64_t at = due - uniform(rnd, ctx, lifetime / 20);
    return at < latest ? at : latest;
}

uint64_t renew_rng_next(void *p) {
    renew_rng *r = p;
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
