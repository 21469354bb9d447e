/* certa renew: keeps ACME certificates renewed. Each certificate has a
 * state directory (state_dir.h); a run looks at its current certificate,
 * asks the CA for renewal information when the directory offers it (ari.h),
 * decides when to renew (schedule.h), and when that time has come obtains
 * a new certificate through the acme module (acme_issue.h) — with
 * `replaces` naming the old one — installs it with one symlink swap and
 * runs the deploy hook. --once is for timers (cron, systemd): one pass, one
 * JSON status line per certificate, an exit code; without it certa renew
 * stays and wakes when the next certificate is due, until SIGTERM. */
#include "acme/acme_issue.h"
#include "common/cli_common.h"
#include "renew/renew_plan.h"
#include "renew/state_dir.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "x509/pem.h"

#define MAX_STATES 64
#define MAX_CERT_ARGS 512
#define DEFAULT_ATTEMPTS 3
#define DEFAULT_BACKOFF_MS 30000
#define DEFAULT_HOOK_TIMEOUT_MS (300 * 1000)
#define MAX_BACKOFF_MS 3600000

enum {
    EXIT_RENEW_FAILED = 1,  /* the current certificate is still valid */
    EXIT_NO_VALID_CERT = 3, /* failed, and there is no valid certificate */
    EXIT_HOOK_FAILED = 4,   /* renewed, but the deploy hook failed */
};

typedef struct renew_opts {
    const char *states[MAX_STATES];
    size_t n_states;
    const char *all_root;
    bool once, force, verbose;
    int attempts, backoff_ms;
    int hook_timeout_ms;            /* a deploy hook running longer is stopped */
    char *cert_args[MAX_CERT_ARGS]; /* the per-certificate options given, saved as config */
    int n_cert_args;
} renew_opts;

typedef struct cert_opts {
    acme_issue_opts issue;
    const char *deploy_hook;
    char account_path[STATE_PATH_MAX + 16];
} cert_opts;

/* One certificate across the daemon's passes. */
typedef struct renew_target {
    state_dir dir;
    cert_opts opts;
    int64_t next_at; /* when to look again */
    int failures;    /* consecutive failed passes (daemon backoff) */
} renew_target;

static volatile sig_atomic_t stopping;
static void on_stop(int sig) {
    (void)sig;
    stopping = 1;
}

static void renew_usage(FILE *out) {
    fputs("usage: certa renew --state DIR [--state DIR ...] [--once] [options]\n"
          "       certa renew --all ROOT [--once] [options]\n"
          "       certa renew --state DIR --directory URL --domain NAME ... --challenge TYPE\n"
          "                   [--deploy-hook CMD] [--agree-tos] [issue options]   (first run)\n"
          "\n"
          "Keeps ACME certificates renewed. Each certificate has a state directory:\n"
          "DIR/config (its options), DIR/account.key, DIR/releases/N/{cert.pem,key.pem}\n"
          "and the symlinks DIR/current (what servers read: DIR/current/cert.pem and\n"
          "DIR/current/key.pem) and DIR/previous (the pair before, for rollback). A new\n"
          "pair is written and fsynced in a new release directory and swapped in with one\n"
          "rename of DIR/current: a reader never sees a key that does not match its\n"
          "certificate. Per-certificate options given with one --state replace\n"
          "DIR/config (0600), which later runs use.\n"
          "\n"
          "When: inside the CA's suggested window (ACME Renewal Information, RFC 9773)\n"
          "when the directory offers it, and the new order names the old certificate\n"
          "(replaces); otherwise when a third of the lifetime is left (half of it under\n"
          "10 days), up to a twentieth of the lifetime earlier, at random but the same for\n"
          "every run on the same certificate, so that a fleet does not renew at once.\n"
          "\n"
          "  --state DIR         a certificate's state directory (created 0700; repeatable)\n"
          "  --all ROOT          every directory under ROOT that has a config\n"
          "  --once              one pass for timers: renew what is due, print one JSON\n"
          "                      line per certificate on stdout, exit (default: stay,\n"
          "                      renew each certificate when it is due, until SIGTERM)\n"
          "  --force             renew now, due or not\n"
          "  --verbose           the requests, the renewal information and the challenges\n"
          "                      on stderr (for this run; not saved)\n"
          "  --attempts N        tries per pass with --once (default 3)\n"
          "  --backoff SEC       wait before the second try, doubling after each failure\n"
          "                      (default 30; the daemon caps it at an hour)\n"
          "  --deploy-hook CMD   run by /bin/sh after each renewal, with CERTA_RENEW_STATE,\n"
          "                      CERTA_RENEW_CERT, CERTA_RENEW_KEY (the current paths),\n"
          "                      CERTA_RENEW_RELEASE, CERTA_RENEW_PREVIOUS (the release\n"
          "                      directories), CERTA_RENEW_DOMAINS (space-separated) and\n"
          "                      CERTA_RENEW_NOT_AFTER (RFC 3339) in its environment;\n"
          "  --hook-timeout SEC  a deploy hook still running then is stopped and counts as\n"
          "                      failed (default 300; for this run, not saved)\n"
          "issue options (as for certa acme issue; saved in DIR/config):\n",
          out);
    acme_issue_usage(out);
    fputs("Exit status: 0 renewed or not due, 1 a renewal failed (the current certificate\n"
          "is still valid), 2 usage, 3 a renewal failed and there is no valid certificate,\n"
          "4 renewed but the deploy hook failed. The status line's fields: state, result\n"
          "(renewed, not_due, failed), domains, not_after, renew_at, basis (third, half,\n"
          "ari), ari_cert_id, replaces, retry_after, release, attempts, remaining_s,\n"
          "deploy_hook, error, ms.\n",
          out);
}

/* Per-certificate options: the issue options and --deploy-hook. */
static int cert_option(int argc, char **argv, int *i, cert_opts *o) {
    const char *v;
    int m = cli_opt(argc, argv, i, "--deploy-hook", &v);
    if (m != 0) {
        if (m > 0 && !*v) {
            cli_err("renew: --deploy-hook needs a value");
            return -1;
        }
        if (m > 0) o->deploy_hook = v;
        return m;
    }
    return acme_issue_option(argc, argv, i, "renew", &o->issue);
}

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, renew_opts *o) {
    memset(o, 0, sizeof *o);
    o->attempts = DEFAULT_ATTEMPTS;
    o->backoff_ms = DEFAULT_BACKOFF_MS;
    o->hook_timeout_ms = DEFAULT_HOOK_TIMEOUT_MS;
    cert_opts probe;
    memset(&probe, 0, sizeof probe);
    acme_issue_opts_init(&probe.issue);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            renew_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) { /* for this run, not saved */
            o->verbose = true;
            continue;
        }
        if (!strcmp(a, "--once") || !strcmp(a, "--force")) {
            *(!strcmp(a, "--once") ? &o->once : &o->force) = true;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--state", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!*v || o->n_states == MAX_STATES) {
                cli_err("renew: --state needs a directory (at most %d)", MAX_STATES);
                return CLI_EXIT_USAGE;
            }
            o->states[o->n_states++] = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--all", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->all_root = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--attempts", &v)) != 0) {
            long n;
            if (m < 0 || !cli_parse_long(v, 1, 100, &n)) {
                if (m > 0) cli_err("renew: --attempts must be 1-100");
                return CLI_EXIT_USAGE;
            }
            o->attempts = (int)n;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--backoff", &v)) != 0) {
            if (m < 0 || !cli_parse_seconds(v, &o->backoff_ms)) {
                if (m > 0) cli_err("renew: --backoff must be a number of seconds");
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--hook-timeout", &v)) != 0) {
            if (m < 0 || !cli_parse_seconds(v, &o->hook_timeout_ms) || o->hook_timeout_ms <= 0) {
                if (m > 0) cli_err("renew: --hook-timeout must be a number of seconds");
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        int first = i;
        if ((m = cert_option(argc, argv, &i, &probe)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            for (int k = first; k <= i && o->n_cert_args < MAX_CERT_ARGS; k++)
                o->cert_args[o->n_cert_args++] = argv[k];
            continue;
        }
        cli_err("renew: unknown option '%s' (certa renew --help)", a);
        return CLI_EXIT_USAGE;
    }
    if (!o->n_states && !o->all_root) {
        cli_err("renew: --state DIR or --all ROOT is required");
        return CLI_EXIT_USAGE;
    }
    if (o->n_cert_args && (o->n_states != 1 || o->all_root)) {
        cli_err("renew: certificate options go with exactly one --state (they are saved in its "
                "config)");
        return CLI_EXIT_USAGE;
    }
    if (o->n_cert_args && !acme_issue_opts_check(&probe.issue, "renew")) return CLI_EXIT_USAGE;
    return -1;
}

/* The target's options from its config. 0, or -1 (reported). */
static int load_target(renew_target *t, const char *path, const renew_opts *o) {
    char why[1200];
    if (state_dir_open(&t->dir, path, why, sizeof why) != 0) {
        cli_err("renew: %s", why);
        return -1;
    }
    if (o->n_cert_args &&
        state_config_write(&t->dir, o->cert_args, o->n_cert_args, why, sizeof why) != 0) {
        cli_err("renew: %s", why);
        return -1;
    }
    int r = state_config_read(&t->dir, why, sizeof why);
    if (r <= 0) {
        if (r == 0)
            cli_err("renew: %s has no config: give the certificate's options (--directory, "
                    "--domain, --challenge, ...) once with --state %s",
                    path, path);
        else
            cli_err("renew: %s", why);
        return -1;
    }
    cert_opts *c = &t->opts;
    memset(c, 0, sizeof *c);
    acme_issue_opts_init(&c->issue);
    for (int i = 1; i < t->dir.argc; i++) {
        int m = cert_option(t->dir.argc, t->dir.args, &i, c);
        if (m == 0) cli_err("renew: %s/config: unknown option '%s'", path, t->dir.args[i]);
        if (m <= 0) return -1;
    }
    char cmd[STATE_PATH_MAX + 32];
    snprintf(cmd, sizeof cmd, "renew %s/config", path);
    if (!acme_issue_opts_check(&c->issue, cmd)) return -1;
    if (o->verbose) c->issue.verbose = c->issue.responder.verbose = true;
    if (!c->issue.account_key) {
        snprintf(c->account_path, sizeof c->account_path, "%s/account.key", path);
        c->issue.account_key = c->account_path;
    }
    return 0;
}

/* What a pass found out about one certificate, for the status line. */
typedef struct pass {
    const char *result; /* "renewed", "not_due", "failed" */
    bool have_cert;
    int64_t not_after, renew_at;
    renew_basis basis;
    bool scheduled;
    char cert_id[ARI_CERT_ID_MAX];
    bool replaces;
    long retry_after;
    long release;
    int attempts;
    int hook_status; /* -1000: not run */
    char error[2048];
    char note[600];  /* why ARI was not used, when it was offered */
    renew_plan plan; /* the current certificate's */
    int64_t started_ms;
} pass;

static void print_status(const renew_target *t, const pass *p, int64_t now) {
    cJSON *j = cJSON_CreateObject();
    char ts[40];
    cJSON_AddStringToObject(j, "state", t->dir.path);
    cJSON_AddStringToObject(j, "result", p->result);
    cJSON *d = cJSON_AddArrayToObject(j, "domains");
    for (size_t i = 0; i < t->opts.issue.n_domains; i++)
        cJSON_AddItemToArray(d, cJSON_CreateString(t->opts.issue.domains[i]));
    if (p->have_cert) {
        renew_rfc3339(p->not_after, ts, sizeof ts);
        cJSON_AddStringToObject(j, "not_after", ts);
        cJSON_AddNumberToObject(j, "remaining_s", (double)(p->not_after - now));
    }
    if (p->scheduled) {
        renew_rfc3339(p->renew_at, ts, sizeof ts);
        cJSON_AddStringToObject(j, "renew_at", ts);
        cJSON_AddStringToObject(j, "basis", renew_basis_name(p->basis));
    }
    if (p->cert_id[0]) cJSON_AddStringToObject(j, "ari_cert_id", p->cert_id);
    if (p->replaces) cJSON_AddStringToObject(j, "replaces", p->cert_id);
    if (p->retry_after >= 0) cJSON_AddNumberToObject(j, "retry_after", (double)p->retry_after);
    if (p->note[0]) cJSON_AddStringToObject(j, "ari_error", p->note);
    if (p->release > 0) cJSON_AddNumberToObject(j, "release", (double)p->release);
    if (p->attempts) cJSON_AddNumberToObject(j, "attempts", p->attempts);
    if (p->hook_status != -1000) cJSON_AddNumberToObject(j, "deploy_hook", p->hook_status);
    if (p->error[0]) cJSON_AddStringToObject(j, "error", p->error);
    cJSON_AddNumberToObject(j, "ms", (double)(cli_now_ms() - p->started_ms));
    char *s = cJSON_PrintUnformatted(j);
    if (s) {
        puts(s);
        fflush(stdout);
    }
    free(s);
    cJSON_Delete(j);
}

/* Sleeps ms, or less when asked to stop. */
static void nap(int64_t ms) {
    int64_t end = cli_now_ms() + ms;
    while (!stopping) {
        int64_t left = end - cli_now_ms();
        if (left <= 0) break;
        if (left > 200) left = 200;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Waits for the hook; at timeout_ms it is stopped (its whole process group:
 * SIGTERM, SIGKILL 5 s later) and counts as failed, so a hung hook cannot
 * stall renewals for ever. Its wait status, or -1. */
static int wait_hook(pid_t pid, int timeout_ms) {
    int st;
    bool termed = false;
    for (long waited = 0;; waited += 50) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid) return st;
        if (r < 0 && errno != EINTR) return -1;
        if (!termed && waited >= timeout_ms) {
            fprintf(stderr, "certa renew: the deploy hook ran for %d s: stopping it\n",
                    timeout_ms / 1000);
            kill(-pid, SIGTERM);
            termed = true;
        } else if (termed && waited >= (long)timeout_ms + 5000) {
            kill(-pid, SIGKILL);
        }
        struct timespec nap = {0, 50 * 1000 * 1000};
        nanosleep(&nap, NULL);
    }
}

/* The deploy hook: its exit status (128 + signal when killed), or -1. */
static int run_hook(const renew_target *t, long release, int64_t not_after, int timeout_ms) {
    const char *s = t->dir.path;
    char cert[STATE_PATH_MAX + 32], key[STATE_PATH_MAX + 32], rel[STATE_PATH_MAX + 32],
        prev[STATE_PATH_MAX + 32], na[40], domains[4096] = "";
    snprintf(cert, sizeof cert, "%s/current/cert.pem", s);
    snprintf(key, sizeof key, "%s/current/key.pem", s);
    snprintf(rel, sizeof rel, "%s/releases/%ld", s, release);
    snprintf(prev, sizeof prev, "%s/previous", s);
    char real_prev[STATE_PATH_MAX + 80] = "";
    if (access(prev, F_OK) == 0) {
        char target[64];
        ssize_t n = readlink(prev, target, sizeof target - 1);
        if (n > 0) {
            target[n] = 0;
            snprintf(real_prev, sizeof real_prev, "%s/%s", s, target);
        }
    }
    renew_rfc3339(not_after, na, sizeof na);
    for (size_t i = 0; i < t->opts.issue.n_domains; i++) {
        size_t l = strlen(domains);
        snprintf(domains + l, sizeof domains - l, "%s%s", i ? " " : "", t->opts.issue.domains[i]);
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0); /* its own group, so a timeout stops what it started too */
        setenv("CERTA_RENEW_STATE", s, 1);
        setenv("CERTA_RENEW_CERT", cert, 1);
        setenv("CERTA_RENEW_KEY", key, 1);
        setenv("CERTA_RENEW_RELEASE", rel, 1);
        setenv("CERTA_RENEW_PREVIOUS", real_prev, 1);
        setenv("CERTA_RENEW_DOMAINS", domains, 1);
        setenv("CERTA_RENEW_NOT_AFTER", na, 1);
        signal(SIGPIPE, SIG_DFL);
        dup2(STDERR_FILENO, STDOUT_FILENO); /* stdout is for status lines */
        execl("/bin/sh", "sh", "-c", t->opts.deploy_hook, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid); /* as the child does: whichever runs first */
    int st = wait_hook(pid, timeout_ms);
    if (st == -1) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* One attempt: account, order, install. 0 or -1 with why. */
static int renew_attempt(renew_target *t, pass *p, char *why, size_t cap) {
    acme_client c;
    memset(&c, 0, sizeof c);
    crypto_key *account = NULL;
    acme_issued got;
    memset(&got, 0, sizeof got);
    int rc = -1;
    const acme_issue_opts *io = &t->opts.issue;
    if (acme_issue_open_account(io, io->account_key, true, false, &c, &account, why, cap) != 0)
        goto out;
    /* RFC 9773 §5: a CA that offers renewal information learns which
     * certificate this order replaces. */
    p->replaces = p->cert_id[0] && c.dir.renewal_info[0];
    if (acme_issue_obtain(io, &c, p->replaces ? p->cert_id : NULL, &got, why, cap) != 0) goto out;
    if (state_install(&t->dir, got.chain, got.chain_len, got.key_pem, got.key_len, &p->release, why,
                      cap) != 0)
        goto out;
    p->not_after = got.leaf.not_after;
    p->have_cert = true;
    rc = 0;
    /* The next time, for the status line and the daemon (ARI is asked on
     * the next pass). */
    uint8_t *der = NULL;
    size_t der_len, pos = 0;
    renew_plan plan;
    if (pem_next(got.chain, got.chain_len, &pos, "CERTIFICATE", &der, &der_len) == 1 &&
        renew_plan_local(der, der_len, &plan) == 0) {
        p->renew_at = plan.renew_at;
        p->basis = plan.basis;
        p->scheduled = true;
    }
    free(der);
out:
    acme_issued_free(&got);
    key_free(account);
    acme_client_close(&c);
    return rc;
}

/* The current certificate and when it is due (the CA's renewal
 * information asked when offered). 1 there is one, 0 none, -1 unreadable. */
static int current_cert(renew_target *t, pass *p, char *why, size_t cap) {
    char *pem = NULL;
    size_t len, pos = 0;
    int r = state_current_cert(&t->dir, &pem, &len, why, cap);
    if (r <= 0) return r;
    uint8_t *der = NULL;
    size_t der_len = 0;
    renew_plan plan;
    r = pem_next(pem, len, &pos, "CERTIFICATE", &der, &der_len) == 1 &&
                renew_plan_ask(&t->opts.issue, der, der_len, &plan) == 0
            ? 1
            : -1;
    free(pem);
    free(der);
    if (r < 0) {
        snprintf(why, cap, "%.900s/current/cert.pem holds no certificate", t->dir.path);
        return -1;
    }
    p->have_cert = p->scheduled = true;
    p->not_after = plan.not_after;
    p->renew_at = plan.renew_at;
    p->basis = plan.basis;
    p->retry_after = plan.retry_after;
    snprintf(p->cert_id, sizeof p->cert_id, "%s", plan.cert_id);
    snprintf(p->note, sizeof p->note, "%s", plan.note);
    p->plan = plan;
    return 1;
}

static void validity_sentence(const pass *p, int64_t now, char *out, size_t cap) {
    char sp[64], when[64];
    if (!p->have_cert) {
        snprintf(out, cap, "there is no current certificate");
        return;
    }
    renew_span(p->not_after - now, sp, sizeof sp);
    cli_format_time(p->not_after, when, sizeof when);
    if (p->not_after > now)
        snprintf(out, cap, "the current certificate is still valid for %s (until %s)", sp, when);
    else
        snprintf(out, cap, "the current certificate expired %s ago (%s)", sp, when);
}

/* One pass over a target: its exit code; t->next_at set. */
static int renew_pass(renew_target *t, const renew_opts *o) {
    pass p;
    memset(&p, 0, sizeof p);
    p.started_ms = cli_now_ms();
    p.retry_after = -1;
    p.hook_status = -1000;
    char why[2048];
    const char *name = t->dir.path;
    int have = current_cert(t, &p, why, sizeof why);
    if (have < 0) cli_err("renew: %s: %s (renewing)", name, why);
    int64_t now = (int64_t)time(NULL);
    if (have > 0 && !o->force && now < p.renew_at) {
        char at[64], sp[64];
        cli_format_time(p.renew_at, at, sizeof at);
        renew_span(p.renew_at - now, sp, sizeof sp);
        fprintf(stderr, "certa renew: %s: not due, renews at %s (in %s; %s)\n", name, at, sp,
                p.basis == RENEW_BASIS_ARI    ? "inside the CA's suggested window"
                : p.basis == RENEW_BASIS_HALF ? "half of the lifetime left"
                                              : "a third of the lifetime left");
        if (p.note[0])
            fprintf(stderr, "certa renew: %s: no renewal information: %s\n", name, p.note);
        p.result = "not_due";
        print_status(t, &p, now);
        t->next_at = renew_plan_next_look(&p.plan, now);
        return CLI_EXIT_OK;
    }
    pass was = p;
    int tries = o->once ? o->attempts : 1, rc = -1;
    int64_t backoff = o->backoff_ms;
    for (int k = 1; k <= tries && !stopping; k++) {
        p.attempts = k;
        if ((rc = renew_attempt(t, &p, why, sizeof why)) == 0) break;
        now = (int64_t)time(NULL);
        char v[400];
        validity_sentence(&was, now, v, sizeof v);
        if (k < tries) {
            char b[64];
            renew_span(backoff / 1000 > 0 ? backoff / 1000 : 1, b, sizeof b);
            fprintf(stderr, "certa renew: %s: attempt %d of %d failed: %s; retrying in %s%s; %s\n",
                    name, k, tries, why, backoff < 1000 ? "" : b,
                    backoff < 1000 ? "under a second" : "", v);
            nap(backoff);
            backoff = backoff * 2 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : backoff * 2;
        }
    }
    now = (int64_t)time(NULL);
    if (rc != 0) {
        char v[400];
        validity_sentence(&was, now, v, sizeof v);
        if (!p.attempts) snprintf(why, sizeof why, "stopped before trying");
        t->failures++;
        int64_t wait = (int64_t)o->backoff_ms << (t->failures > 10 ? 10 : t->failures - 1);
        if (wait > MAX_BACKOFF_MS) wait = MAX_BACKOFF_MS;
        char b[64];
        renew_span(wait / 1000 > 0 ? wait / 1000 : 1, b, sizeof b);
        fprintf(stderr, "certa renew: %s: renewal failed (%d attempt%s): %s; %s%s%s\n", name,
                p.attempts, p.attempts == 1 ? "" : "s", why, v, o->once ? "" : "; next try in ",
                o->once ? "" : b);
        p.result = "failed";
        snprintf(p.error, sizeof p.error, "%.1500s", why);
        print_status(t, &p, now);
        t->next_at = now + wait / 1000 + (wait % 1000 ? 1 : 0);
        return was.have_cert && was.not_after > now ? EXIT_RENEW_FAILED : EXIT_NO_VALID_CERT;
    }
    t->failures = 0;
    char na[64], at[64];
    cli_format_time(p.not_after, na, sizeof na);
    cli_format_time(p.renew_at, at, sizeof at);
    fprintf(stderr, "certa renew: %s: renewed%s: release %ld, valid until %s, next renewal at %s\n",
            name, p.replaces ? " (replaces the old certificate, RFC 9773)" : "", p.release, na, at);
    int code = CLI_EXIT_OK;
    if (t->opts.deploy_hook) {
        p.hook_status = run_hook(t, p.release, p.not_after, o->hook_timeout_ms);
        if (p.hook_status != 0) {
            fprintf(stderr, "certa renew: %s: the deploy hook '%s' failed (exit status %d)\n", name,
                    t->opts.deploy_hook, p.hook_status);
            code = EXIT_HOOK_FAILED;
        }
    }
    p.result = "renewed";
    print_status(t, &p, now);
    t->next_at = p.renew_at;
    return code;
}

static int collect_all(renew_opts *o, char ***owned, size_t *n_owned) {
    DIR *d = opendir(o->all_root);
    if (!d) {
        cli_err("renew: --all %s: %s", o->all_root, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d)) && o->n_states < MAX_STATES) {
        if (e->d_name[0] == '.') continue;
        char cfg[STATE_PATH_MAX];
        snprintf(cfg, sizeof cfg, "%s/%s/config", o->all_root, e->d_name);
        struct stat st;
        if (stat(cfg, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        char *p = malloc(strlen(o->all_root) + strlen(e->d_name) + 2);
        char **grown = realloc(*owned, (*n_owned + 1) * sizeof **owned);
        if (!p || !grown) {
            free(p);
            free(grown ? grown : *owned);
            *owned = NULL;
            closedir(d);
            return -1;
        }
        *owned = grown;
        sprintf(p, "%s/%s", o->all_root, e->d_name);
        (*owned)[(*n_owned)++] = p;
        o->states[o->n_states++] = p;
    }
    closedir(d);
    return 0;
}

int cmd_renew(int argc, char **argv) {
    renew_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    char **owned = NULL;
    size_t n_owned = 0;
    if (o.all_root && collect_all(&o, &owned, &n_owned) != 0) return CLI_EXIT_FAIL;
    cli_catch_stop_signals(on_stop);
    renew_target *targets = calloc(o.n_states ? o.n_states : 1, sizeof *targets);
    rc = CLI_EXIT_OK;
    if (!targets) return CLI_EXIT_FAIL;
    size_t n = 0, loaded = 0;
    /* A state whose config cannot be used is reported and left out; the
     * others are still renewed (a timer over many must not stall on one). */
    for (size_t i = 0; i < o.n_states; i++) {
        if (load_target(&targets[n], o.states[i], &o) != 0) {
            rc = CLI_EXIT_USAGE;
            state_dir_close(&targets[n].dir);
            continue;
        }
        n++, loaded++;
    }
    if (!loaded && rc != CLI_EXIT_OK) goto out;
    if (!n) {
        cli_err("renew: --all %s: no state directory with a config", o.all_root);
        rc = CLI_EXIT_FAIL;
        goto out;
    }
    if (o.once) {
        for (size_t i = 0; i < n && !stopping; i++) {
            int r = renew_pass(&targets[i], &o);
            if (r > rc || (rc == CLI_EXIT_OK && r != CLI_EXIT_OK)) rc = r;
        }
        goto out;
    }
    fprintf(stderr, "certa renew: watching %zu certificate%s (SIGTERM stops)\n", n,
            n == 1 ? "" : "s");
    bool first = true, force_first = o.force; /* --force: the first pass only */
    while (!stopping) {
        int64_t now = (int64_t)time(NULL), next = INT64_MAX;
        for (size_t i = 0; i < n && !stopping; i++) {
            if (first || targets[i].next_at <= now) {
                renew_opts pass_opts = o;
                pass_opts.force = first && force_first;
                renew_pass(&targets[i], &pass_opts);
                now = (int64_t)time(NULL);
            }
            if (targets[i].next_at < next) next = targets[i].next_at;
        }
        first = false;
        if (next > now)
            nap((next - now) * 1000 > MAX_BACKOFF_MS ? MAX_BACKOFF_MS : (next - now) * 1000);
    }
    fprintf(stderr, "certa renew: stopped\n");
out:
    for (size_t i = 0; i < n; i++)
        state_dir_close(&targets[i].dir);
    free(targets);
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    free(owned);
    return rc;
}
