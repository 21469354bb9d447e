/* When to renew one certificate (see renew_plan.h). */
#include "renew/renew_plan.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "certa.h"

void renew_span(int64_t s, char *out, size_t cap) {
    if (s < 0) s = -s;
    if (s >= 86400)
        snprintf(out, cap, "%lld d %lld h", (long long)(s / 86400), (long long)(s % 86400 / 3600));
    else if (s >= 3600)
        snprintf(out, cap, "%lld h %lld min", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else if (s >= 60)
        snprintf(out, cap, "%lld min %lld s", (long long)(s / 60), (long long)(s % 60));
    else
        snprintf(out, cap, "%lld s", (long long)s);
}

void renew_rfc3339(int64_t t, char *out, size_t cap) {
    time_t tt = (time_t)t;
    struct tm tm;
    if (!gmtime_r(&tt, &tm) || !strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, cap, "%lld", (long long)t);
}

renew_rng renew_rng_for(const uint8_t *der, size_t len) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ der[i]) * 1099511628211ull;
    renew_rng rng = {h};
    return rng;
}

static int plan_start(const uint8_t *der, size_t len, renew_plan *p) {
    memset(p, 0, sizeof *p);
    p->retry_after = -1;
    certa_cert_summary s;
    if (certa_cert_summarize(der, len, &s) != CERTA_OK) return -1;
    p->not_before = s.not_before;
    p->not_after = s.not_after;
    char sub[200];
    if (ari_cert_id(der, len, p->cert_id, sizeof p->cert_id, sub, sizeof sub) != 0)
        p->cert_id[0] = 0;
    return 0;
}

static void plan_finish(const uint8_t *der, size_t len, const renew_window *w, renew_plan *p) {
    renew_rng rng = renew_rng_for(der, len);
    p->renew_at = renew_schedule(p->not_before, p->not_after, w, renew_rng_next, &rng, &p->basis);
}

int renew_plan_local(const uint8_t *der, size_t len, renew_plan *p) {
    if (plan_start(der, len, p) != 0) return -1;
    plan_finish(der, len, NULL, p);
    return 0;
}

int renew_plan_ask(const acme_issue_opts *io, const uint8_t *der, size_t len, renew_plan *p) {
    if (plan_start(der, len, p) != 0) return -1;
    renew_window win, *w = NULL;
    acme_client c;
    memset(&c, 0, sizeof c);
    char why[1500];
    if (acme_client_open(&c, io->directory, io->ca_bundle, io->timeout_ms, io->verbose, why,
                         sizeof why) != 0) {
        snprintf(p->note, sizeof p->note, "%.590s", why);
    } else if (c.dir.renewal_info[0] && p->cert_id[0]) {
        ari_info info;
        if (ari_fetch(&c, p->cert_id, &info, &p->retry_after, why, sizeof why) == 0) {
            win.start = info.start;
            win.end = info.end;
            w = &win;
            if (io->verbose) {
                char a[40], b[40];
                renew_rfc3339(info.start, a, sizeof a);
                renew_rfc3339(info.end, b, sizeof b);
                fprintf(stderr, "* renewal information for %s: %s to %s%s%s\n", p->cert_id, a, b,
                        info.explanation[0] ? ", see " : "", info.explanation);
            }
        } else {
            snprintf(p->note, sizeof p->note, "%.590s", why);
        }
    }
    acme_client_close(&c);
    plan_finish(der, len, w, p);
    return 0;
}

int64_t renew_plan_next_look(const renew_plan *p, int64_t now) {
    int64_t next = p->renew_at;
    if (p->basis == RENEW_BASIS_ARI || p->note[0]) {
        long poll = p->retry_after > 0 ? p->retry_after : ARI_DEFAULT_POLL;
        poll = poll < ARI_MIN_POLL ? ARI_MIN_POLL : poll > ARI_MAX_POLL ? ARI_MAX_POLL : poll;
        if (now + poll < next) next = now + poll;
    }
    return next;
}
