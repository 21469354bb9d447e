/* http-01 (RFC 8555 §8.3): a listener thread answering
 * GET /.well-known/acme-challenge/TOKEN with the key authorization, or the
 * same files written into a webroot another web server publishes. */
#include "acme/challenge.h"

#include "common/cli_common.h"
#include "http/http_mini.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define WELL_KNOWN "/.well-known/acme-challenge/"

typedef struct http_responder {
    challenge_responder base;
    int fd, stop_pipe[2];
    pthread_t thread;
    bool running;
    acme_token *tokens;
    size_t n;
    char *webroot; /* files written there (removed on stop); NULL: listener */
    bool verbose;
} http_responder;

static void answer_one(http_responder *h, int cfd) {
    char method[8];
    char *path = NULL;
    uint8_t *body = NULL;
    size_t body_len;
    if (http_read_request(cfd, 5000, 0, method, &path, &body, &body_len) != 0) return;
    const acme_token *hit = NULL;
    if (!strcmp(method, "GET") && !strncmp(path, WELL_KNOWN, strlen(WELL_KNOWN)))
        for (size_t i = 0; i < h->n && !hit; i++)
            if (!strcmp(path + strlen(WELL_KNOWN), h->tokens[i].token)) hit = &h->tokens[i];
    if (h->verbose)
        fprintf(stderr, "* http-01: %s %s: %s\n", method, path,
                hit ? "answered" : "not ours (404)");
    if (hit)
        http_write_response(cfd, 200, "application/octet-stream", (const uint8_t *)hit->key_authz,
                            strlen(hit->key_authz));
    else
        http_write_response(cfd, 404, "text/plain", (const uint8_t *)"not found\n", 10);
    free(path);
    free(body);
}

static void *serve(void *arg) {
    http_responder *h = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = h->fd, .events = POLLIN},
                              {.fd = h->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) break;
        int cfd = accept(h->fd, NULL, NULL);
        if (cfd < 0) continue;
        answer_one(h, cfd); /* one at a time: a validation is a handful of requests */
        close(cfd);
    }
    return NULL;
}

/* mkdir -p of webroot/.well-known/acme-challenge. */
static int make_dirs(const char *webroot, char *dir, size_t cap) {
    snprintf(dir, cap, "%s/.well-known", webroot);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -1;
    snprintf(dir, cap, "%s/.well-known/acme-challenge", webroot);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return -1;
    return 0;
}

static void remove_files(http_responder *h, size_t upto) {
    char path[4096];
    for (size_t i = 0; i < upto; i++) {
        snprintf(path, sizeof path, "%s" WELL_KNOWN "%s", h->webroot, h->tokens[i].token);
        unlink(path);
    }
}

static void http_stop(challenge_responder *r) {
    http_responder *h = (http_responder *)r;
    if (h->running) {
        if (write(h->stop_pipe[1], "x", 1) < 0) { /* the thread sees the pipe either way */
        }
        pthread_join(h->thread, NULL);
    }
    if (h->webroot) remove_files(h, h->n);
    if (h->fd >= 0) close(h->fd);
    if (h->stop_pipe[0] >= 0) close(h->stop_pipe[0]);
    if (h->stop_pipe[1] >= 0) close(h->stop_pipe[1]);
    free(h->tokens);
    free(h->webroot);
    free(h);
}

challenge_responder *challenge_http_start(const challenge_opts *o, const acme_token *t, size_t n,
                                          char *why, size_t cap) {
    http_responder *h = calloc(1, sizeof *h);
    if (!h || !(h->tokens = malloc(n * sizeof *t))) {
        free(h);
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    h->base.stop = http_stop;
    h->fd = h->stop_pipe[0] = h->stop_pipe[1] = -1;
    memcpy(h->tokens, t, n * sizeof *t);
    h->n = n;
    h->verbose = o->verbose;
    if (o->webroot) {
        char dir[4096], path[4200];
        h->webroot = strdup(o->webroot);
        if (!h->webroot || make_dirs(o->webroot, dir, sizeof dir) != 0) {
            snprintf(why, cap, "--webroot %s: cannot create %s: %s", o->webroot, dir,
                     strerror(errno));
            http_stop(&h->base);
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, t[i].token);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            size_t len = strlen(t[i].key_authz);
            bool ok = fd >= 0 && write(fd, t[i].key_authz, len) == (ssize_t)len;
            if (fd >= 0) close(fd);
            if (!ok) {
                snprintf(why, cap, "--webroot: cannot write %s: %s", path, strerror(errno));
                h->n = i + 1;
                http_stop(&h->base);
                return NULL;
            }
            if (o->verbose) fprintf(stderr, "* http-01: wrote %s\n", path);
        }
        return &h->base;
    }
    char port[16], bound[128], sub[256];
    snprintf(port, sizeof port, "%d", o->http_port ? o->http_port : 80);
    h->fd = cli_listen(o->listen_addr ? o->listen_addr : "0.0.0.0", port, 64, false, bound,
                       sizeof bound, sub, sizeof sub);
    if (h->fd < 0 || pipe(h->stop_pipe) != 0) {
        snprintf(why, cap, "http-01: %s", h->fd < 0 ? sub : strerror(errno));
        http_stop(&h->base);
        return NULL;
    }
    if (pthread_create(&h->thread, NULL, serve, h) != 0) {
        snprintf(why, cap, "http-01: cannot start the responder thread");
        http_stop(&h->base);
        return NULL;
    }
    h->running = true;
    if (o->verbose) fprintf(stderr, "* http-01: answering on %s\n", bound);
    return &h->base;
}
