/* OCSP responses for certa serve / certa proxy (see ocsp_stapler.h): files
 * read at start, or fetched and refreshed by one background thread. */
#include "revocation/ocsp_stapler.h"

#include "http/http_mini.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "x509/cert.h"
#include "x509/extensions.h"
#include "x509/ocsp.h"
#include "x509/pem.h"

#define FETCH_TIMEOUT_MS 5000
#define RETRY_MIN 30      /* seconds after a failed fetch */
#define RETRY_MAX 600     /* backoff ceiling */
#define REFRESH_MAX 86400 /* refresh at least daily, whatever the validity */

typedef struct held {
    const char *cert_path;
    uint8_t *der;
    size_t len;
    int64_t until;        /* the response's expiry */
    int64_t next_attempt; /* fetch: when to fetch again */
    int64_t backoff;
} held;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
    held items[CLI_MAX_PAIRS];
    size_t count;
    cli_ocsp_sink sink;
    void *arg;
    const char *cmd;
    const char *file[CLI_MAX_PAIRS]; /* --ocsp, per pair */
    size_t files;
    bool fetch;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

int cli_ocsp_opt(int argc, char **argv, int *i, const char *cmd, cli_ocsp_opts *o) {
    if (!strcmp(argv[*i], "--ocsp-fetch")) {
        o->fetch = true;
        return 1;
    }
    const char *v;
    int m = cli_opt(argc, argv, i, "--ocsp", &v);
    if (m <= 0) return m;
    if (o->files == CLI_MAX_PAIRS) {
        cli_err("%s: at most %d --ocsp files", cmd, CLI_MAX_PAIRS);
        return -1;
    }
    o->file[o->files++] = v;
    return 1;
}

void cli_ocsp_usage(FILE *out) {
    fputs("  --ocsp FILE        staple this DER OCSP response (RFC 6960) for the first\n"
          "                     --cert pair; repeat for the next pairs, in order. A response\n"
          "                     is stapled only to clients that ask (status_request) and\n"
          "                     never once expired (nextUpdate)\n"
          "  --ocsp-fetch       fetch each certificate's OCSP response from its responder\n"
          "                     (authorityInfoAccess URL, HTTP POST; the issuer must follow\n"
          "                     the leaf in --cert), refresh it in the background at half\n"
          "                     its validity, keep the last good one while the responder is\n"
          "                     down; one log line per fetch and failure\n",
          out);
}

static void when(int64_t t, char *out, size_t cap) {
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

/* Reasons quote paths, URLs and the checker's sentence; a long one is cut, on purpose. */
static void say(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

#define log_line(...) cli_log(S.cmd, "ocsp", __VA_ARGS__)

/* Keeps der for item i (taking ownership) and hands it to the sink. */
static int keep(size_t i, uint8_t *der, size_t len, int64_t until, char *why, size_t cap) {
    pthread_mutex_lock(&S.lock);
    held *h = &S.items[i];
    free(h->der);
    h->der = der;
    h->len = len;
    h->until = until;
    pthread_mutex_unlock(&S.lock);
    return S.sink ? S.sink(S.arg, i, der, len, why, cap) : 0;
}

/* The leaf and issuer of a --cert chain file (malloc'd DER). */
static int read_chain(const char *path, uint8_t **leaf, size_t *ll, uint8_t **issuer, size_t *il,
                      char *why, size_t cap) {
    char *text;
    size_t len, pos = 0;
    *leaf = *issuer = NULL;
    if (read_file(path, &text, &len) != 0) {
        say(why, cap, "cannot read '%s'", path);
        return -1;
    }
    int r = pem_next(text, len, &pos, "CERTIFICATE", leaf, ll);
    if (r == 1) r = pem_next(text, len, &pos, "CERTIFICATE", issuer, il);
    free(text);
    if (r != 1) {
        free(*leaf);
        *leaf = NULL;
        say(why, cap,
            "'%s' must hold the leaf followed by its issuer's certificate (needed to ask "
            "for and check the OCSP response)",
            path);
        return -1;
    }
    return 0;
}

/* One fetch for item i; logs the outcome. */
static void fetch_one(size_t i) {
    held *h = &S.items[i];
    int64_t now = (int64_t)time(NULL);
    char why[1024] = "", url[512] = "";
    uint8_t *leaf_der = NULL, *issuer_der = NULL, *resp = NULL;
    size_t ll, il, rl = 0;
    x509_cert leaf, issuer;
    x509_exts e;
    char ewhy[160];
    bool ok = false;
    builder req;
    bld_init_alloc(&req, 256);
    if (read_chain(h->cert_path, &leaf_der, &ll, &issuer_der, &il, why, sizeof why) != 0) {
        /* why set */
    } else if (x509_parse(&leaf, leaf_der, ll) != 0 || x509_parse(&issuer, issuer_der, il) != 0 ||
               x509_parse_extensions(&leaf, &e, ewhy, sizeof ewhy) != X509_EXT_OK) {
        say(why, sizeof why, "the certificates in '%s' cannot be read", h->cert_path);
    } else if (e.ocsp_url.len == 0 || e.ocsp_url.len >= sizeof url) {
        say(why, sizeof why,
            "the certificate in '%s' names no OCSP responder (authorityInfoAccess OCSP "
            "URI): use --ocsp FILE instead",
            h->cert_path);
    } else {
        memcpy(url, e.ocsp_url.data, e.ocsp_url.len);
        url[e.ocsp_url.len] = '\0';
        char hw[300];
        if (ocsp_build_request(&req, &leaf, &issuer, NULL, 0) != 0 || !bld_ok(&req)) {
            say(why, sizeof why, "cannot build the OCSP request");
        } else if (http_post(url, "application/ocsp-request", req.buf, req.len, FETCH_TIMEOUT_MS,
                             HTTP_MINI_MAX_BODY, &resp, &rl, hw, sizeof hw) != 0) {
            say(why, sizeof why, "fetch from %s failed: %s", url, hw);
        } else {
            ocsp_result res;
            ocsp_outcome o = ocsp_check(resp, rl, &leaf, &issuer, now, &res);
            if (o == OCSP_OK || o == OCSP_E_REVOKED) {
                int64_t until =
                    res.has_next_update ? res.next_update : res.this_update + OCSP_MAX_AGE_NO_NEXT;
                int64_t refresh = res.this_update + (until - res.this_update) / 2;
                if (refresh > now + REFRESH_MAX) refresh = now + REFRESH_MAX;
                if (refresh < now + RETRY_MIN) refresh = now + RETRY_MIN;
                char t1[40], t2[40];
                when(until, t1, sizeof t1);
                when(refresh, t2, sizeof t2);
                char sw[300];
                if (keep(i, resp, rl, until, sw, sizeof sw) == 0)
                    log_line("fetched from %s (%zu bytes): %s; stapled until %s, next fetch %s",
                             url, rl, res.text, t1, t2);
                else
                    log_line("fetched from %s but cannot staple it: %s", url, sw);
                resp = NULL;
                h->next_attempt = refresh;
                h->backoff = 0;
                ok = true;
            } else {
                say(why, sizeof why, "the answer from %s was refused: %s", url, res.text);
            }
        }
    }
    if (!ok) {
        h->backoff = h->backoff ? h->backoff * 2 : RETRY_MIN;
        if (h->backoff > RETRY_MAX) h->backoff = RETRY_MAX;
        h->next_attempt = now + h->backoff;
        char t1[40];
        pthread_mutex_lock(&S.lock);
        bool have = h->der && h->until >= now;
        int64_t until = h->until;
        pthread_mutex_unlock(&S.lock);
        when(until, t1, sizeof t1);
        if (have)
            log_line("%s; keeping the last good response (valid until %s), retry in %lld s", why,
                     t1, (long long)h->backoff);
        else
            log_line("%s; nothing to staple, retry in %lld s", why, (long long)h->backoff);
    }
    bld_free(&req);
    free(resp);
    free(leaf_der);
    free(issuer_der);
}

static void *refresher(void *unused) {
    (void)unused;
    pthread_mutex_lock(&S.lock);
    while (!S.stop) {
        int64_t now = (int64_t)time(NULL), soonest = now + 3600;
        for (size_t i = 0; i < S.count; i++) {
            if (S.items[i].next_attempt <= now) {
                pthread_mutex_unlock(&S.lock);
                fetch_one(i);
                pthread_mutex_lock(&S.lock);
                if (S.stop) break;
            }
            if (S.items[i].next_attempt < soonest) soonest = S.items[i].next_attempt;
        }
        if (S.stop) break;
        now = (int64_t)time(NULL);
        if (soonest > now) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += (time_t)(soonest - now);
            pthread_cond_timedwait(&S.wake, &S.lock, &ts);
        }
    }
    pthread_mutex_unlock(&S.lock);
    return NULL;
}

/* Reads --ocsp file i and keeps it; 0 or -1 with why. */
static int load_file(size_t i, const char *path, char *why, size_t cap) {
    char *text;
    size_t len;
    if (read_file(path, &text, &len) != 0) {
        say(why, cap, "--ocsp %s: cannot read the file", path);
        return -1;
    }
    int64_t until = ocsp_expiry((const uint8_t *)text, len);
    if (until < 0) {
        free(text);
        say(why, cap,
            "--ocsp %s: not a successful DER OCSP response (RFC 6960); make one with "
            "openssl ocsp ... -respout FILE",
            path);
        return -1;
    }
    char t[40];
    when(until, t, sizeof t);
    if (until < (int64_t)time(NULL))
        log_line("--ocsp %s expired on %s: it will not be stapled", path, t);
    char sw[300];
    if (keep(i, (uint8_t *)text, len, until, sw, sizeof sw) != 0) {
        say(why, cap, "--ocsp %s: %s", path, sw);
        return -1;
    }
    return 0;
}

int cli_ocsp_start(const cli_ocsp_opts *o, const cli_pairs *pairs, cli_ocsp_sink sink, void *arg,
                   const char *cmd, char *why, size_t cap) {
    S.sink = sink;
    S.arg = arg;
    S.cmd = cmd;
    S.count = pairs->certs;
    if (o->files > pairs->certs) {
        say(why, cap, "%zu --ocsp files for %zu --cert pairs", o->files, pairs->certs);
        return -1;
    }
    for (size_t i = 0; i < pairs->certs; i++)
        S.items[i].cert_path = pairs->cert[i];
    S.files = o->files;
    for (size_t i = 0; i < o->files; i++) {
        S.file[i] = o->file[i];
        if (load_file(i, o->file[i], why, cap) != 0) return -1;
    }
    S.fetch = o->fetch;
    if (!o->fetch) return 0;
    for (size_t i = 0; i < S.count; i++)
        fetch_one(i); /* at start: a failure is logged and retried */
    S.stop = false;
    if (pthread_create(&S.thread, NULL, refresher, NULL) != 0) {
        say(why, cap, "--ocsp-fetch: cannot start the refresher thread");
        return -1;
    }
    S.running = true;
    return 0;
}

void cli_ocsp_apply(certa_config *cfg) {
    pthread_mutex_lock(&S.lock);
    for (size_t i = 0; i < S.count; i++)
        if (S.items[i].der &&
            certa_config_set_identity_ocsp_response(cfg, i, S.items[i].der, S.items[i].len) != 0)
            log_line("the response for %s no longer fits it (%s): not stapled until refetched",
                     S.items[i].cert_path, certa_config_error_text(cfg));
    pthread_mutex_unlock(&S.lock);
}

void cli_ocsp_files_changed(void) {
    for (size_t i = 0; i < S.files; i++) {
        char why[600];
        if (load_file(i, S.file[i], why, sizeof why) != 0)
            log_line("%s; keeping the response read before", why);
    }
    if (!S.running) return;
    pthread_mutex_lock(&S.lock);
    for (size_t i = 0; i < S.count; i++) {
        S.items[i].next_attempt = 0; /* the leaf may be new: ask for it now */
        S.items[i].backoff = 0;
    }
    pthread_cond_signal(&S.wake);
    pthread_mutex_unlock(&S.lock);
}

void cli_ocsp_stop(void) {
    if (S.running) {
        pthread_mutex_lock(&S.lock);
        S.stop = true;
        pthread_cond_signal(&S.wake);
        pthread_mutex_unlock(&S.lock);
        pthread_join(S.thread, NULL);
        S.running = false;
    }
    for (size_t i = 0; i < S.count; i++) {
        free(S.items[i].der);
        S.items[i].der = NULL;
    }
    S.count = 0;
    S.files = 0;
}
