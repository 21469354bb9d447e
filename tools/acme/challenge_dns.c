/* dns-01 (RFC 8555 §8.4) through a hook: `CMD add NAME VALUE` for each
 * identifier before the CA looks, `CMD remove NAME VALUE` after. NAME is
 * _acme-challenge.<domain> (without a trailing dot; for a wildcard, the
 * base domain), VALUE the base64url SHA-256 of the key authorization. CMD
 * is run by /bin/sh (so it may carry its own arguments), with the three
 * words as its positional parameters, within 60 s. */
#include "acme/challenge.h"

#include "acme/jws.h"
#include "common/cli_common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOOK_TIMEOUT_MS 60000

typedef struct dns_responder {
    challenge_responder base;
    char *hook;
    acme_token *tokens;
    size_t added; /* tokens whose record was added (removed on stop) */
    bool verbose;
} dns_responder;

int challenge_dns_value(const char *key_authz, char out[64]) {
    uint8_t h[32];
    if (hash_oneshot(HASH_SHA256, (const uint8_t *)key_authz, strlen(key_authz), h) != 0) return -1;
    return b64url_encode(h, sizeof h, out, 64) == 43 ? 0 : -1;
}

/* Runs the hook; 0 when it exited 0 in time, else -1 with why. */
static int run_hook(const char *hook, const char *verb, const char *name, const char *value,
                    char *why, size_t cap) {
    char script[4200];
    snprintf(script, sizeof script, "%s \"$@\"", hook);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, cap, "cannot start the dns hook: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", script, "certa-dns-hook", verb, name, value, (char *)NULL);
        _exit(127);
    }
    int64_t deadline = cli_now_ms() + HOOK_TIMEOUT_MS;
    int status;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) {
            snprintf(why, cap, "waiting for the dns hook: %s", strerror(errno));
            return -1;
        }
        if (cli_now_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(why, cap, "the dns hook '%s %s %s' did not finish within %d s", hook, verb,
                     name, HOOK_TIMEOUT_MS / 1000);
            return -1;
        }
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(why, cap, "the dns hook '%s %s %s ...' failed (%s %d)", hook, verb, name,
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return -1;
    }
    return 0;
}

static void record_name(const acme_token *t, char *out, size_t cap) {
    const char *d = t->ident;
    if (!strncmp(d, "*.", 2)) d += 2;
    snprintf(out, cap, "_acme-challenge.%s", d);
}

static void dns_stop(challenge_responder *r) {
    dns_responder *d = (dns_responder *)r;
    for (size_t i = 0; i < d->added; i++) {
        char name[300], value[64], why[512];
        record_name(&d->tokens[i], name, sizeof name);
        if (challenge_dns_value(d->tokens[i].key_authz, value) != 0) continue;
        if (run_hook(d->hook, "remove", name, value, why, sizeof why) != 0)
            cli_err("acme: %s (the TXT record %s may be left behind)", why, name);
        else if (d->verbose)
            fprintf(stderr, "* dns-01: removed TXT %s\n", name);
    }
    free(d->hook);
    free(d->tokens);
    free(d);
}

challenge_responder *challenge_dns_start(const challenge_opts *o, const acme_token *t, size_t n,
                                         char *why, size_t cap) {
    if (!o->dns_hook) {
        snprintf(why, cap, "dns-01 needs --dns-hook CMD");
        return NULL;
    }
    dns_responder *d = calloc(1, sizeof *d);
    if (!d || !(d->hook = strdup(o->dns_hook)) || !(d->tokens = malloc(n * sizeof *t))) {
        if (d) free(d->hook);
        free(d);
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    d->base.stop = dns_stop;
    d->verbose = o->verbose;
    memcpy(d->tokens, t, n * sizeof *t);
    for (size_t i = 0; i < n; i++) {
        char name[300], value[64];
        if (t[i].is_ip) {
            snprintf(why, cap,
                     "dns-01 cannot validate the IP address %s (RFC 8738): use http-01 "
                     "or tls-alpn-01",
                     t[i].ident);
            dns_stop(&d->base);
            return NULL;
        }
        record_name(&t[i], name, sizeof name);
        if (challenge_dns_value(t[i].key_authz, value) != 0 ||
            run_hook(o->dns_hook, "add", name, value, why, cap) != 0) {
            dns_stop(&d->base);
            return NULL;
        }
        d->added = i + 1;
        if (o->verbose) fprintf(stderr, "* dns-01: added TXT %s %s\n", name, value);
    }
    return &d->base;
}
