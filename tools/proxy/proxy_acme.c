/* certa proxy --acme (see proxy_acme.h). */
#include "proxy/proxy_acme.h"

#include "acme/tls_alpn_validation.h"
#include "common/rotation.h"
#include "renew/renew_plan.h"
#include "x509/issue.h"
#include "x509/pem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct proxy_acme {
    proxy_shared *sh;
    proxy_acme_opts *o;
    state_dir dir;
    certa_config *waiting; /* no certificate: for connections refused after their hello */
    char waiting_sentence[600];
    int wake[2]; /* a byte per installed certificate, for the main thread */

    pthread_mutex_t lock; /* set, stopping, exited */
    pthread_cond_t cond;
    tls_alpn_set *set; /* the pending challenges, NULL when none */
    atomic_int pending;
    bool stopping, exited, started;
    pthread_t thread;
};

/* ---- options ---- */

static proxy_acme_opts g_opts;

void proxy_acme_usage(FILE *out) {
    fputs("ACME (terminate mode; instead of --cert/--key):\n"
          "  --acme DIRECTORY_URL     obtain and renew the proxy's certificate from this\n"
          "                           ACME CA; tls-alpn-01 is answered on --listen itself\n"
          "                           (the CA must reach it on port 443, or its\n"
          "                           validation port)\n"
          "  --acme-domain NAME       a DNS name or IP address to certify (repeatable)\n"
          "  --agree-tos              agree to the CA's terms of service\n"
          "  --acme-email ADDR        contact address for the account\n"
          "  --acme-ca-bundle FILE    trust for the CA's HTTPS server (default: system)\n"
          "  --acme-chain-trust FILE  roots the issued chain must validate against\n"
          "                           (default: the system bundle)\n"
          "  --acme-state DIR         account key, certificates and keys, as certa renew\n"
          "                           keeps them (DIR/current/cert.pem, key.pem), written\n"
          "                           atomically; a restart serves the stored certificate\n"
          "                           without ordering (default: $STATE_DIRECTORY, else\n"
          "                           /var/lib/certa as root, else ~/.local/state/certa;\n"
          "                           then proxy-acme/NAME under it)\n"
          "                           Renewal: inside the CA's ARI window when offered,\n"
          "                           else when a third of the lifetime is left (half\n"
          "                           under 10 days), with jitter. Until the first\n"
          "                           certificate, handshakes are refused (logged); a\n"
          "                           failed order or renewal is retried after 2 s,\n"
          "                           doubling to 10 min\n",
          out);
}

int proxy_acme_option(int argc, char **argv, int *i, proxy_opts *po) {
    static const struct {
        const char *ours, *issue;
    } map[] = {{"--acme", "--directory"},
               {"--acme-domain", "--domain"},
               {"--acme-ca-bundle", "--ca-bundle"},
               {"--acme-email", "--email"},
               {"--acme-chain-trust", "--chain-trust"}};
    const char *v;
    int m;
    if (!po->acme) {
        memset(&g_opts, 0, sizeof g_opts);
        acme_issue_opts_init(&g_opts.issue);
    }
    if (!strcmp(argv[*i], "--agree-tos")) {
        g_opts.issue.account.agree_tos = true;
        po->acme = &g_opts;
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--acme-state", &v)) != 0) {
        if (m < 0 || !*v) {
            if (m > 0) cli_err("proxy: --acme-state needs a directory");
            return -1;
        }
        g_opts.state = v;
        po->acme = &g_opts;
        return 1;
    }
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++) {
        if ((m = cli_opt(argc, argv, i, map[k].ours, &v)) == 0) continue;
        if (m < 0) return -1;
        char *as_issue[3] = {argv[0], (char *)map[k].issue, (char *)v};
        int j = 1;
        char cmd[64];
        snprintf(cmd, sizeof cmd, "proxy %s", map[k].ours);
        if (acme_issue_option(3, as_issue, &j, cmd, &g_opts.issue) != 1) return -1;
        po->acme = &g_opts;
        return 1;
    }
    return 0;
}

/* mkdir -p, each created level 0700. */
static bool make_dirs(char *path) {
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        bool ok = mkdir(path, 0700) == 0 || errno == EEXIST;
        *p = '/';
        if (!ok) return false;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

int proxy_acme_finish(proxy_opts *po) {
    proxy_acme_opts *o = po->acme;
    if (!o) return 0;
    if (!o->issue.directory) {
        cli_err("proxy: --acme-domain, --acme-state, --agree-tos and the other ACME options go "
                "with --acme DIRECTORY_URL");
        return CLI_EXIT_USAGE;
    }
    if (po->mode != PROXY_TERMINATE) {
        cli_err("proxy: --acme obtains the certificate the proxy serves: it needs terminate "
                "mode (--backend)");
        return CLI_EXIT_USAGE;
    }
    if (po->pairs.certs || po->pairs.keys) {
        cli_err("proxy: --acme obtains the proxy's certificate: give --acme or --cert/--key, "
                "not both");
        return CLI_EXIT_USAGE;
    }
    if (po->ocsp.files || po->ocsp.fetch) {
        cli_err("proxy: --ocsp and --ocsp-fetch staple responses for certificate files given at "
                "start; with --acme the certificate changes under them: not combined yet");
        return CLI_EXIT_USAGE;
    }
    if (!o->issue.n_domains) {
        cli_err("proxy: --acme needs at least one --acme-domain NAME to certify");
        return CLI_EXIT_USAGE;
    }
    o->issue.challenge = ACME_CHALLENGE_TLS_ALPN01;
    o->issue.challenge_set = true;
    if (o->state) {
        snprintf(o->state_path, sizeof o->state_path, "%s", o->state);
    } else {
        const char *base = getenv("STATE_DIRECTORY"), *home = getenv("HOME");
        char buf[STATE_PATH_MAX - 300];
        if (!base || !*base) {
            if (geteuid() == 0 || !home || !*home) {
                base = "/var/lib/certa";
            } else {
                const char *xdg = getenv("XDG_STATE_HOME");
                if (xdg && *xdg)
                    snprintf(buf, sizeof buf, "%.2000s/certa", xdg);
                else
                    snprintf(buf, sizeof buf, "%.2000s/.local/state/certa", home);
                base = buf;
            }
        }
        snprintf(o->state_path, sizeof o->state_path, "%.2400s/proxy-acme/%s", base,
                 o->issue.domains[0]);
    }
    if (!make_dirs(o->state_path)) {
        cli_err("proxy: cannot create the ACME state directory %s: %s (give --acme-state DIR)",
                o->state_path, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    snprintf(o->cert_path, sizeof o->cert_path, "%s/current/cert.pem", o->state_path);
    snprintf(o->key_path, sizeof o->key_path, "%s/current/key.pem", o->state_path);
    snprintf(o->account_path, sizeof o->account_path, "%s/account.key", o->state_path);
    o->issue.account_key = o->account_path;
    po->pairs.cert[0] = o->cert_path;
    po->pairs.key[0] = o->key_path;
    po->pairs.certs = po->pairs.keys = 1;
    return 0;
}

/* ---- the challenge on the proxy's listener ---- */

typedef struct proxy_responder {
    challenge_responder base;
    proxy_acme *a;
} proxy_responder;

static void responder_stop(challenge_responder *r) {
    proxy_acme *a = ((proxy_responder *)r)->a;
    pthread_mutex_lock(&a->lock);
    tls_alpn_set *s = a->set;
    a->set = NULL;
    atomic_store(&a->pending, 0);
    pthread_mutex_unlock(&a->lock);
    tls_alpn_set_free(s); /* a validation connection in flight holds its config */
    free(r);
}

static challenge_responder *responder_attach(void *ctx, const acme_token *t, size_t n, char *why,
                                             size_t cap) {
    proxy_acme *a = ctx;
    proxy_responder *r = calloc(1, sizeof *r);
    tls_alpn_set *s = r ? tls_alpn_set_new(t, n, why, cap) : NULL;
    if (!s) {
        if (!r) snprintf(why, cap, "out of memory");
        free(r);
        return NULL;
    }
    r->base.stop = responder_stop;
    r->a = a;
    pthread_mutex_lock(&a->lock);
    tls_alpn_set *old = a->set;
    a->set = s;
    atomic_store(&a->pending, 1);
    pthread_mutex_unlock(&a->lock);
    tls_alpn_set_free(old);
    char names[1200] = "";
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", i ? " " : "", t[i].ident);
    }
    char msg[1400];
    snprintf(msg, sizeof msg, "answering tls-alpn-01 (acme-tls/1) for %s on the TLS listener",
             names);
    proxy_log_event("acme-challenge", msg, "domains", names, (const char *)NULL);
    return &r->base;
}

certa_config *proxy_acme_waiting_config(proxy_acme *a) {
    return a->waiting;
}

bool proxy_acme_peeking(proxy_acme *a, bool have_cfg) {
    return !have_cfg || atomic_load(&a->pending) != 0;
}

certa_conn *proxy_acme_validation_conn(proxy_acme *a, const certa_fingerprint *fp) {
    const char *why_not;
    pthread_mutex_lock(&a->lock);
    certa_config *cfg = a->set ? tls_alpn_set_match(a->set, fp, &why_not) : NULL;
    certa_conn *conn = cfg ? certa_server_new(cfg) : NULL;
    pthread_mutex_unlock(&a->lock);
    return conn;
}

const char *proxy_acme_waiting_sentence(const proxy_acme *a) {
    return a->waiting_sentence;
}

/* ---- the state directory ---- */

/* The current certificate's DER (malloc'd). 1, 0 none, -1 unreadable. */
static int current_der(proxy_acme *a, uint8_t **der, size_t *len) {
    char *pem = NULL, why[200];
    size_t pem_len, pos = 0;
    int r = state_current_cert(&a->dir, &pem, &pem_len, why, sizeof why);
    if (r <= 0) return r;
    r = pem_next(pem, pem_len, &pos, "CERTIFICATE", der, len) == 1 ? 1 : -1;
    free(pem);
    return r;
}

proxy_acme *proxy_acme_new(proxy_shared *sh, proxy_acme_opts *o, bool *have_cert, char *why,
                           size_t cap) {
    proxy_acme *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    a->sh = sh;
    a->o = o;
    a->wake[0] = a->wake[1] = -1;
    pthread_mutex_init(&a->lock, NULL);
    pthread_cond_init(&a->cond, NULL);
    o->issue.responder.tls_alpn_attach = responder_attach;
    o->issue.responder.tls_alpn_ctx = a;
    char names[1200] = "";
    for (size_t i = 0; i < o->issue.n_domains; i++) {
        size_t l = strlen(names);
        snprintf(names + l, sizeof names - l, "%s%s", i ? " " : "", o->issue.domains[i]);
    }
    snprintf(a->waiting_sentence, sizeof a->waiting_sentence,
             "no certificate yet: the ACME order for %.300s from %.200s has not completed", names,
             o->issue.directory);
    if (state_dir_open(&a->dir, o->state_path, why, cap) != 0 || pipe(a->wake) != 0 ||
        !(a->waiting = certa_config_new())) {
        if (a->wake[0] < 0) snprintf(why, cap, "cannot make a pipe: %s", strerror(errno));
        proxy_acme_stop(a);
        return NULL;
    }
    fcntl(a->wake[0], F_SETFL, O_NONBLOCK);
    fcntl(a->wake[1], F_SETFL, O_NONBLOCK);
    uint8_t *der = NULL;
    size_t len;
    *have_cert = current_der(a, &der, &len) == 1;
    free(der);
    return a;
}

int proxy_acme_fd(const proxy_acme *a) {
    return a->wake[0];
}

void proxy_acme_drain(proxy_acme *a) {
    char buf[64];
    while (read(a->wake[0], buf, sizeof buf) > 0) {
    }
}

/* ---- the ordering and renewal thread ---- */

/* Sleeps ms, or less when stopping. */
static void nap_ms(proxy_acme *a, int64_t ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += (time_t)(ms / 1000);
    ts.tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&a->lock);
    while (!a->stopping && pthread_cond_timedwait(&a->cond, &a->lock, &ts) == 0) {
    }
    pthread_mutex_unlock(&a->lock);
}

static bool stopping(proxy_acme *a) {
    pthread_mutex_lock(&a->lock);
    bool s = a->stopping;
    pthread_mutex_unlock(&a->lock);
    return s;
}

/* Is name in a ", "-separated SAN list (DNS names case-insensitively, IP
 * addresses by value)? */
static bool in_list(const char *list, const char *name) {
    x509_ip want, got;
    bool ip = x509_parse_ip(name, &want);
    char item[256];
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        snprintf(item, sizeof item, "%.*s", (int)(n < sizeof item ? n : sizeof item - 1), p);
        if (ip ? x509_parse_ip(item, &got) && got.len == want.len &&
                     !memcmp(got.addr, want.addr, want.len)
               : !strcasecmp(item, name))
            return true;
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return false;
}

/* Does the stored certificate name every --acme-domain? (They may have
 * changed since it was ordered.) */
static bool covers_names(const uint8_t *der, size_t len, const acme_issue_opts *io,
                         const char **missing) {
    certa_cert_details d;
    if (certa_cert_inspect(der, len, &d) != CERTA_OK) return false;
    for (size_t i = 0; i < io->n_domains; i++) {
        if (!in_list(x509_parse_ip(io->domains[i], &(x509_ip){0}) ? d.ip_addresses : d.dns_names,
                     io->domains[i])) {
            *missing = io->domains[i];
            return false;
        }
    }
    return true;
}

/* One order, installed as a new release. 0 or -1 with why. */
static int obtain(proxy_acme *a, const renew_plan *plan, acme_issued *got, long *release,
                  bool *replaced, char *why, size_t cap) {
    const acme_issue_opts *io = &a->o->issue;
    acme_client c;
    memset(&c, 0, sizeof c);
    crypto_key *account = NULL;
    int rc = -1;
    if (acme_issue_open_account(io, io->account_key, true, false, &c, &account, why, cap) != 0)
        goto out;
    /* RFC 9773 §5: a CA offering renewal information learns what this replaces. */
    *replaced = plan && plan->cert_id[0] && c.dir.renewal_info[0];
    if (acme_issue_obtain(io, &c, *replaced ? plan->cert_id : NULL, got, why, cap) != 0) goto out;
    if (state_install(&a->dir, got->chain, got->chain_len, got->key_pem, got->key_len, release, why,
                      cap) != 0)
        goto out;
    rc = 0;
out:
    key_free(account);
    acme_client_close(&c);
    return rc;
}

static void log_installed(proxy_acme *a, const acme_issued *got, long release, bool renewal,
                          bool replaced) {
    uint8_t *der = NULL;
    size_t len, pos = 0;
    char serial[48] = "?", na[40], rel[24], at[40] = "", msg[4400];
    renew_plan plan;
    bool planned = pem_next(got->chain, got->chain_len, &pos, "CERTIFICATE", &der, &len) == 1 &&
                   renew_plan_local(der, len, &plan) == 0;
    if (der && certa_cert_serial(der, len, serial, sizeof serial) != CERTA_OK)
        snprintf(serial, sizeof serial, "?");
    free(der);
    renew_rfc3339(got->leaf.not_after, na, sizeof na);
    if (planned) renew_rfc3339(plan.renew_at, at, sizeof at);
    snprintf(rel, sizeof rel, "%ld", release);
    snprintf(msg, sizeof msg,
             "%s certificate %s (serial %s, %s, not after %s) installed as %s/releases/%ld%s; "
             "new handshakes get it now",
             renewal ? "renewed: the" : "obtained the first", got->leaf.subject, serial,
             got->key_desc, na, a->o->state_path, release,
             replaced ? " (replaces the old one, RFC 9773)" : "");
    proxy_log_event(renewal ? "acme-renewed" : "acme-issued", msg, "serial", serial, "not_after",
                    na, "release", rel, "state", a->o->state_path, (const char *)NULL);
}

static void *acme_main(void *arg) {
    proxy_acme *a = arg;
    const acme_issue_opts *io = &a->o->issue;
    int64_t backoff = PROXY_ACME_RETRY_FIRST_MS, announced = 0;
    bool first = true;
    while (!stopping(a)) {
        uint8_t *der = NULL;
        size_t len = 0;
        renew_plan plan;
        bool planned = current_der(a, &der, &len) == 1 && renew_plan_ask(io, der, len, &plan) == 0;
        char serial[48] = "?";
        if (planned && certa_cert_serial(der, len, serial, sizeof serial) != CERTA_OK)
            snprintf(serial, sizeof serial, "?");
        int64_t now = (int64_t)time(NULL);
        const char *missing = NULL;
        /* Only the stored certificate is judged so: a new one has had every
         * name verified (acme_chain_check), and judging it again could only
         * order in a loop. */
        if (first && planned && !covers_names(der, len, io, &missing)) {
            char at[40], msg[800];
            plan.renew_at = now;
            renew_rfc3339(now, at, sizeof at);
            snprintf(msg, sizeof msg,
                     "the stored certificate serial %s does not name %.300s: ordering one for the "
                     "--acme-domain names now (it serves meanwhile)",
                     serial, missing ? missing : "every --acme-domain");
            proxy_log_event("acme-scheduled", msg, "serial", serial, "renew_at", at, "basis",
                            "names", (const char *)NULL);
        }
        first = false;
        free(der);
        if (planned && now < plan.renew_at) {
            if (plan.renew_at != announced) {
                char at[40], na[40], in[64], msg[1000];
                renew_rfc3339(plan.renew_at, at, sizeof at);
                renew_rfc3339(plan.not_after, na, sizeof na);
                renew_span(plan.renew_at - now, in, sizeof in);
                snprintf(msg, sizeof msg,
                         "certificate serial %s (not after %s) renews at %s (in %s; %s)%s%s",
                         serial, na, at, in,
                         plan.basis == RENEW_BASIS_ARI    ? "inside the CA's suggested window"
                         : plan.basis == RENEW_BASIS_HALF ? "half of the lifetime left"
                                                          : "a third of the lifetime left",
                         plan.note[0] ? "; no renewal information: " : "", plan.note);
                proxy_log_event("acme-scheduled", msg, "serial", serial, "renew_at", at, "basis",
                                renew_basis_name(plan.basis), (const char *)NULL);
                announced = plan.renew_at;
            }
            int64_t next = renew_plan_next_look(&plan, now);
            nap_ms(a, (next - now) * 1000 > PROXY_ACME_LOOK_MAX_MS ? PROXY_ACME_LOOK_MAX_MS
                                                                   : (next - now) * 1000);
            continue;
        }
        acme_issued got;
        memset(&got, 0, sizeof got);
        long release = 0;
        bool replaced = false;
        char why[2048];
        /* A certificate for other names is not replaced (RFC 9773 §5): a new one is ordered. */
        if (obtain(a, planned && !missing ? &plan : NULL, &got, &release, &replaced, why,
                   sizeof why) == 0) {
            log_installed(a, &got, release, planned, replaced);
            acme_issued_free(&got);
            backoff = PROXY_ACME_RETRY_FIRST_MS;
            if (write(a->wake[1], "c", 1) < 0) { /* full: a reload is already due */
            }
            continue;
        }
        acme_issued_free(&got);
        now = (int64_t)time(NULL);
        char in[64], left[120], msg[2800], rem[24] = "", retry[24];
        renew_span(backoff / 1000 ? backoff / 1000 : 1, in, sizeof in);
        snprintf(retry, sizeof retry, "%lld", (long long)(backoff / 1000));
        if (!planned)
            snprintf(left, sizeof left, "there is no certificate yet: handshakes are refused");
        else if (plan.not_after > now) {
            char sp[40];
            renew_span(plan.not_after - now, sp, sizeof sp);
            snprintf(left, sizeof left, "the current certificate is still valid for %s", sp);
            snprintf(rem, sizeof rem, "%lld", (long long)(plan.not_after - now));
        } else
            snprintf(left, sizeof left, "the current certificate has expired");
        snprintf(msg, sizeof msg, "%s failed: %s; retrying in %s; %s",
                 planned ? "renewal" : "the first order", why, in, left);
        if (rem[0])
            proxy_log_event("acme-failed", msg, "error", why, "retry_in_s", retry, "remaining_s",
                            rem, (const char *)NULL);
        else
            proxy_log_event("acme-failed", msg, "error", why, "retry_in_s", retry,
                            (const char *)NULL);
        nap_ms(a, backoff);
        backoff = backoff * 2 > PROXY_ACME_RETRY_MAX_MS ? PROXY_ACME_RETRY_MAX_MS : backoff * 2;
    }
    pthread_mutex_lock(&a->lock);
    a->exited = true;
    pthread_cond_broadcast(&a->cond);
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

void proxy_acme_log_start(proxy_acme *a, bool serving, const char *why_unusable) {
    char msg[1600];
    if (serving) {
        char d[600];
        rotation_describe_cert(a->o->cert_path, d, sizeof d);
        snprintf(msg, sizeof msg, "serving the stored certificate %.600s (%.900s): no new order", d,
                 a->o->cert_path);
        proxy_log_event("acme-reused", msg, "state", a->o->state_path, (const char *)NULL);
        return;
    }
    snprintf(msg, sizeof msg, "%s%s%s; refusing TLS handshakes until it does", a->waiting_sentence,
             why_unusable ? " (the stored one does not load: " : "",
             why_unusable ? why_unusable : "");
    if (why_unusable) {
        size_t l = strlen(msg);
        snprintf(msg + l, sizeof msg - l, ")");
    }
    proxy_log_event("acme-waiting", msg, "state", a->o->state_path, (const char *)NULL);
}

int proxy_acme_start(proxy_acme *a, char *why, size_t cap) {
    if (pthread_create(&a->thread, NULL, acme_main, a) != 0) {
        snprintf(why, cap, "cannot start the ACME thread");
        return -1;
    }
    a->started = true;
    return 0;
}

void proxy_acme_stop(proxy_acme *a) {
    if (!a) return;
    if (a->started) {
        /* An order in flight is not waited for beyond a few seconds: its
         * requests are bounded by --timeout only, and nothing it would
         * install is needed by a process that is exiting. */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 3;
        pthread_mutex_lock(&a->lock);
        a->stopping = true;
        pthread_cond_broadcast(&a->cond);
        while (!a->exited && pthread_cond_timedwait(&a->cond, &a->lock, &ts) == 0) {
        }
        bool exited = a->exited;
        pthread_mutex_unlock(&a->lock);
        if (!exited) {
            pthread_detach(a->thread);
            return; /* the thread still uses a: left to the exit */
        }
        pthread_join(a->thread, NULL);
    }
    tls_alpn_set_free(a->set);
    certa_config_free(a->waiting);
    if (a->wake[0] >= 0) close(a->wake[0]);
    if (a->wake[1] >= 0) close(a->wake[1]);
    state_dir_close(&a->dir);
    pthread_mutex_destroy(&a->lock);
    pthread_cond_destroy(&a->cond);
    free(a);
}
