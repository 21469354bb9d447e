/* CRLs from distribution points (see crl_fetcher.h): one background thread
 * for serve and proxy, a synchronous pass for connect. */
#include "revocation/crl_fetcher.h"

#include "http/http_mini.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/extensions.h"
#include "x509/pem.h"

#define FETCH_TIMEOUT_MS 5000
#define URL_CAP 512
#define RETRY_MIN 30      /* seconds after a failed fetch */
#define RETRY_MAX 600     /* backoff ceiling */
#define REFRESH_MIN 60    /* never refetch sooner than this after a success */
#define REFRESH_MAX 86400 /* at least daily, whatever the validity */

typedef struct dp {
    char url[URL_CAP];
    char whose[160]; /* the certificate that named it first */
    uint8_t *der;    /* the last good CRL */
    size_t len;
    int64_t next_update;  /* of the held CRL (0: none) */
    int64_t next_attempt; /* when to fetch */
    int64_t backoff;
} dp;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
    dp items[CLI_MAX_CRL_URLS];
    size_t count;
    bool full_logged;
    cli_crl_sink sink;
    void *arg;
    const char *cmd;
} F = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

#define log_line(cmd, ...) cli_log(cmd, "crl", __VA_ARGS__)

static void when(int64_t t, char *out, size_t cap) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

/* The distribution point URL of a certificate and its subject; false if none. */
static bool cert_dp(const uint8_t *der, size_t len, char *url, size_t url_cap, char *subject,
                    size_t subject_cap) {
    x509_cert c;
    x509_exts e;
    if (x509_parse(&c, der, len) != 0 || x509_parse_extensions(&c, &e, NULL, 0) != X509_EXT_OK ||
        e.crldp_url.len == 0 || e.crldp_url.len >= url_cap)
        return false;
    memcpy(url, e.crldp_url.data, e.crldp_url.len);
    url[e.crldp_url.len] = 0;
    if (x509_name_to_string(&c.subject, subject, subject_cap) != 0)
        snprintf(subject, subject_cap, "(unprintable name)");
    return true;
}

/* GETs one CRL (DER, or PEM text holding one); checks it is a CRL. 0 with
 * *out malloc'd and its thisUpdate/nextUpdate, or -1 with why. */
static int fetch_crl(const char *url, uint8_t **out, size_t *out_len, int64_t *this_update,
                     int64_t *next_update, char *why, size_t cap) {
    uint8_t *body = NULL;
    size_t len = 0;
    char hw[300];
    *out = NULL;
    if (http_get(url, FETCH_TIMEOUT_MS, CLI_CRL_MAX_BYTES, &body, &len, hw, sizeof hw) != 0) {
        snprintf(why, cap, "fetch from %s failed: %s", url, hw);
        return -1;
    }
    uint8_t *der = body;
    size_t der_len = len, pos = 0;
    if (len > 10 && !memcmp(body, "-----BEGIN", 10)) {
        der = NULL;
        if (pem_next((const char *)body, len, &pos, "X509 CRL", &der, &der_len) != 1) der = NULL;
        free(body);
        body = NULL;
    }
    x509_crl crl;
    if (!der || x509_crl_parse(&crl, der, der_len) != 0) {
        snprintf(why, cap, "%s did not answer with a CRL (DER or PEM \"X509 CRL\")", url);
        free(der);
        return -1;
    }
    *this_update = crl.this_update;
    *next_update = crl.has_next_update ? crl.next_update : 0;
    *out = der;
    *out_len = der_len;
    return 0;
}

/* One fetch for item i (the lock not held); logs the outcome. */
static void fetch_item(size_t i) {
    pthread_mutex_lock(&F.lock);
    char url[URL_CAP], whose[160];
    snprintf(url, sizeof url, "%s", F.items[i].url);
    snprintf(whose, sizeof whose, "%s", F.items[i].whose);
    pthread_mutex_unlock(&F.lock);

    uint8_t *der = NULL;
    size_t len = 0;
    int64_t tu = 0, nu = 0, now = (int64_t)time(NULL);
    char why[700];
    int r = fetch_crl(url, &der, &len, &tu, &nu, why, sizeof why);
    pthread_mutex_lock(&F.lock);
    dp *d = &F.items[i];
    bool changed = false;
    if (r == 0 && nu && nu < now) {
        char t[40];
        when(nu, t, sizeof t);
        snprintf(why, sizeof why, "the CRL from %s is out of date (nextUpdate %s)", url, t);
        free(der);
        r = -1;
    }
    if (r == 0) {
        int64_t until = nu ? nu : tu + REFRESH_MAX;
        int64_t refresh = tu + (until - tu) / 2;
        if (refresh > now + REFRESH_MAX) refresh = now + REFRESH_MAX;
        if (refresh < now + REFRESH_MIN) refresh = now + REFRESH_MIN;
        changed = !d->der || d->len != len || memcmp(d->der, der, len) != 0;
        free(d->der);
        d->der = der;
        d->len = len;
        d->next_update = nu;
        d->next_attempt = refresh;
        d->backoff = 0;
        char t1[40], t2[40];
        when(until, t1, sizeof t1);
        when(refresh, t2, sizeof t2);
        log_line(F.cmd, "fetched %s (%zu bytes, for %s): valid until %s, next fetch %s%s", url, len,
                 whose, t1, t2, changed ? "" : " (unchanged)");
    } else {
        d->backoff = d->backoff ? d->backoff * 2 : RETRY_MIN;
        if (d->backoff > RETRY_MAX) d->backoff = RETRY_MAX;
        d->next_attempt = now + d->backoff;
        if (d->der && (!d->next_update || d->next_update >= now)) {
            char t[40];
            when(d->next_update, t, sizeof t);
            log_line(F.cmd, "%s; keeping the last good CRL (valid until %s), retry in %lld s", why,
                     t, (long long)d->backoff);
        } else {
            log_line(F.cmd, "%s; no CRL for %s's issuer from it yet, retry in %lld s", why, whose,
                     (long long)d->backoff);
        }
    }
    pthread_mutex_unlock(&F.lock);
    if (changed && F.sink) F.sink(F.arg);
}

static void *fetcher(void *unused) {
    (void)unused;
    pthread_mutex_lock(&F.lock);
    while (!F.stop) {
        int64_t now = (int64_t)time(NULL), soonest = now + 3600;
        for (size_t i = 0; i < F.count && !F.stop; i++) {
            if (F.items[i].next_attempt <= now) {
                pthread_mutex_unlock(&F.lock);
                fetch_item(i);
                pthread_mutex_lock(&F.lock);
            }
            if (F.items[i].next_attempt < soonest) soonest = F.items[i].next_attempt;
        }
        if (F.stop) break;
        now = (int64_t)time(NULL);
        if (soonest > now) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)(soonest - now);
            pthread_cond_timedwait(&F.wake, &F.lock, &ts);
        }
    }
    pthread_mutex_unlock(&F.lock);
    return NULL;
}

/* Adds url (lock held); true if it is new. */
static bool add_url(const char *url, const char *whose) {
    for (size_t i = 0; i < F.count; i++)
        if (!strcmp(F.items[i].url, url)) return false;
    if (F.count == CLI_MAX_CRL_URLS) {
        if (!F.full_logged)
            log_line(F.cmd, "already fetching from %d distribution points: %s is not added",
                     CLI_MAX_CRL_URLS, url);
        F.full_logged = true;
        return false;
    }
    dp *d = &F.items[F.count++];
    memset(d, 0, sizeof *d);
    snprintf(d->url, sizeof d->url, "%s", url);
    snprintf(d->whose, sizeof d->whose, "%s", whose);
    log_line(F.cmd, "will fetch %s (the cRLDistributionPoints of '%s')", url, whose);
    return true;
}

void cli_crl_fetch_learn(const uint8_t *const *certs, const size_t *lens, size_t count,
                         const char *whose) {
    (void)whose;
    if (!F.running) return;
    bool added = false;
    for (size_t i = 0; i < count; i++) {
        char url[URL_CAP], subject[160];
        if (!cert_dp(certs[i], lens[i], url, sizeof url, subject, sizeof subject)) continue;
        pthread_mutex_lock(&F.lock);
        added |= add_url(url, subject);
        pthread_mutex_unlock(&F.lock);
    }
    if (added) {
        pthread_mutex_lock(&F.lock);
        pthread_cond_signal(&F.wake);
        pthread_mutex_unlock(&F.lock);
    }
}

void cli_crl_fetch_learn_conn(const certa_conn *conn) {
    if (!F.running || !conn) return;
    bool unknown =
        certa_conn_revocation_note(conn)[0] != 0 || certa_conn_error(conn) == CERTA_E_CERT_STATUS;
    if (!unknown) return;
    const uint8_t *certs[16];
    size_t lens[16], n = 0;
    while (n < 16 && (certs[n] = certa_conn_peer_cert(conn, n, &lens[n])) != NULL)
        n++;
    cli_crl_fetch_learn(certs, lens, n, "the peer");
}

int cli_crl_install(certa_config *cfg, const cli_tls_opts *o) {
    const uint8_t *ders[CLI_MAX_CRL_URLS];
    size_t lens[CLI_MAX_CRL_URLS], n = 0;
    pthread_mutex_lock(&F.lock);
    for (size_t i = 0; i < F.count; i++)
        if (F.items[i].der) {
            ders[n] = F.items[i].der;
            lens[n++] = F.items[i].len;
        }
    int r = certa_config_replace_crls(cfg, o->crl, o->crls, ders, lens, n);
    pthread_mutex_unlock(&F.lock);
    return r;
}

/* The certificates of a PEM chain file (malloc'd DER each). */
static size_t read_chain(const char *path, uint8_t **ders, size_t *lens, size_t cap) {
    char *text;
    size_t len, pos = 0, n = 0;
    if (read_file(path, &text, &len) != 0) return 0;
    while (n < cap && pem_next(text, len, &pos, "CERTIFICATE", &ders[n], &lens[n]) == 1)
        n++;
    free(text);
    return n;
}

int cli_crl_fetch_start(const char *cmd, const char *const *chain_files, size_t count,
                        cli_crl_sink sink, void *arg, char *why, size_t cap) {
    F.cmd = cmd;
    F.sink = sink;
    F.arg = arg;
    F.stop = false;
    F.running = true; /* learning works from here on */
    for (size_t f = 0; f < count; f++) {
        uint8_t *ders[16];
        size_t lens[16];
        size_t n = read_chain(chain_files[f], ders, lens, 16);
        cli_crl_fetch_learn((const uint8_t *const *)ders, lens, n, chain_files[f]);
        for (size_t i = 0; i < n; i++)
            free(ders[i]);
    }
    for (size_t i = 0; i < F.count; i++)
        fetch_item(i); /* at start: failures are logged and retried */
    if (pthread_create(&F.thread, NULL, fetcher, NULL) != 0) {
        F.running = false;
        snprintf(why, cap, "--crl-fetch: cannot start the fetch thread");
        return -1;
    }
    if (F.count == 0)
        log_line(cmd, "no distribution point in our own chain: URLs will be learned from peers "
                      "whose status is unknown");
    return 0;
}

size_t cli_crl_fetch_chain(const char *cmd, const uint8_t *const *certs, const size_t *lens,
                           size_t count, uint8_t ***ders, size_t **der_lens) {
    char seen[8][URL_CAP];
    size_t nseen = 0, got = 0;
    *ders = calloc(count ? count : 1, sizeof **ders);
    *der_lens = calloc(count ? count : 1, sizeof **der_lens);
    if (!*ders || !*der_lens) return 0;
    for (size_t i = 0; i < count && nseen < 8; i++) {
        char url[URL_CAP], subject[160], why[700];
        if (!cert_dp(certs[i], lens[i], url, sizeof url, subject, sizeof subject)) continue;
        bool dup = false;
        for (size_t k = 0; k < nseen; k++)
            dup |= !strcmp(seen[k], url);
        if (dup) continue;
        snprintf(seen[nseen++], URL_CAP, "%s", url);
        int64_t tu, nu;
        uint8_t *der;
        size_t len;
        if (fetch_crl(url, &der, &len, &tu, &nu, why, sizeof why) != 0) {
            log_line(cmd, "%s (for '%s')", why, subject);
            continue;
        }
        char t[40] = "no nextUpdate";
        if (nu) when(nu, t, sizeof t);
        log_line(cmd, "fetched %s (%zu bytes, for '%s'): valid until %s", url, len, subject, t);
        (*ders)[got] = der;
        (*der_lens)[got++] = len;
    }
    return got;
}

void cli_crl_free_list(uint8_t **ders, size_t *lens, size_t count) {
    for (size_t i = 0; ders && i < count; i++)
        free(ders[i]);
    free(ders);
    free(lens);
}

void cli_crl_fetch_stop(void) {
    if (F.running) {
        pthread_mutex_lock(&F.lock);
        F.stop = true;
        pthread_cond_signal(&F.wake);
        pthread_mutex_unlock(&F.lock);
        pthread_join(F.thread, NULL);
        F.running = false;
    }
    for (size_t i = 0; i < F.count; i++) {
        free(F.items[i].der);
        F.items[i].der = NULL;
    }
    F.count = 0;
}
