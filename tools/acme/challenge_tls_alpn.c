/* tls-alpn-01 (RFC 8737): certa's own TLS server on the validation port,
 * with one self-signed validation certificate per identifier, each carrying
 * the critical acmeIdentifier extension with the SHA-256 of its key
 * authorization. The listener is made for this alone, on the tools' side:
 * it reads the first record's ClientHello itself (framing over the cursor
 * API, the hello through certa_fingerprint_client_hello), drops a client
 * that does not offer acme-tls/1 or names no identifier of ours before
 * anything is sent, and only then hands the bytes to a certa server whose
 * config holds that identifier's certificate alone, with ALPN acme-tls/1
 * only. So the validation certificate goes to nobody else, and the library
 * needs no notion of it (its SNI index skips certificates with an unknown
 * critical extension, as this one is to it). For an IP identifier the
 * ClientHello names the reverse-DNS form (RFC 8738 §6). */
#include "acme/challenge.h"
#include "acme/tls_alpn_validation.h"

#include "common/cli_common.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire/cursor.h"

#define RECORD_MAX CHALLENGE_HELLO_RECORD_MAX

typedef struct alpn_responder {
    challenge_responder base;
    tls_alpn_set *ids;
    int fd, stop_pipe[2];
    pthread_t thread;
    bool running, verbose;
} alpn_responder;

/* One handshake within 5 s, then close. */
static void answer_one(alpn_responder *a, int cfd) {
    cli_set_nonblocking(cfd);
    int64_t deadline = cli_now_ms() + 5000;
    uint8_t buf[RECORD_MAX];
    size_t got = 0;
    cursor msg;
    int fr = 0;
    while (fr == 0 && cli_now_ms() < deadline) {
        struct pollfd p = {.fd = cfd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - cli_now_ms())) <= 0) continue;
        ssize_t r = recv(cfd, buf + got, sizeof buf - got, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) return;
        if (r > 0) got += (size_t)r;
        fr = challenge_first_client_hello(buf, got, &msg);
    }
    certa_fingerprint fp;
    if (fr != 1 || certa_fingerprint_client_hello(msg.data, msg.len, &fp) != CERTA_OK) {
        if (a->verbose) fprintf(stderr, "* tls-alpn-01: no usable ClientHello: dropped\n");
        return;
    }
    const char *why_not;
    certa_config *cfg = tls_alpn_set_match(a->ids, &fp, &why_not);
    if (a->verbose)
        fprintf(stderr, "* tls-alpn-01: ClientHello for '%s' offering '%s': %s%s%s\n",
                fp.server_name, fp.alpn, cfg ? "answered" : "dropped (", why_not, cfg ? "" : ")");
    if (!cfg) return;
    certa_conn *conn = certa_server_new(cfg);
    if (!conn) return;
    size_t off = 0;
    while (!certa_conn_failed(conn) && !certa_conn_handshake_done(conn)) {
        while (off < got) {
            size_t used = 0;
            if (certa_conn_recv(conn, buf + off, got - off, &used) != CERTA_OK || !used) break;
            off += used;
        }
        if (off >= got) off = got = 0;
        const uint8_t *out;
        size_t pending = certa_conn_outgoing(conn, &out);
        int64_t left = deadline - cli_now_ms();
        if (left <= 0 || certa_conn_failed(conn) || certa_conn_handshake_done(conn)) break;
        struct pollfd p = {.fd = cfd, .events = POLLIN | (pending ? POLLOUT : 0)};
        if (poll(&p, 1, (int)left) <= 0) continue;
        if (pending && (p.revents & POLLOUT)) {
            ssize_t w = send(cfd, out, pending, MSG_NOSIGNAL);
            if (w > 0)
                certa_conn_outgoing_done(conn, (size_t)w);
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                break;
        }
        if (got == 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = recv(cfd, buf, sizeof buf, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) break;
            if (r > 0) got = (size_t)r;
        }
    }
    certa_fd_flush(conn, cfd); /* the last flight, or the alert */
    certa_conn_free(conn);
}

static void *serve(void *arg) {
    alpn_responder *a = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = a->fd, .events = POLLIN},
                              {.fd = a->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) break;
        int cfd = accept(a->fd, NULL, NULL);
        if (cfd < 0) continue;
        answer_one(a, cfd);
        close(cfd);
    }
    return NULL;
}

static void alpn_stop(challenge_responder *r) {
    alpn_responder *a = (alpn_responder *)r;
    if (a->running) {
        if (write(a->stop_pipe[1], "x", 1) < 0) {
        }
        pthread_join(a->thread, NULL);
    }
    if (a->fd >= 0) close(a->fd);
    if (a->stop_pipe[0] >= 0) close(a->stop_pipe[0]);
    if (a->stop_pipe[1] >= 0) close(a->stop_pipe[1]);
    tls_alpn_set_free(a->ids);
    free(a);
}

challenge_responder *challenge_tls_alpn_start(const challenge_opts *o, const acme_token *t,
                                              size_t n, char *why, size_t cap) {
    if (o->tls_alpn_attach) return o->tls_alpn_attach(o->tls_alpn_ctx, t, n, why, cap);
    alpn_responder *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    a->base.stop = alpn_stop;
    a->fd = a->stop_pipe[0] = a->stop_pipe[1] = -1;
    a->verbose = o->verbose;
    if (!(a->ids = tls_alpn_set_new(t, n, why, cap))) {
        alpn_stop(&a->base);
        return NULL;
    }
    char port[16], bound[128], sub[256];
    snprintf(port, sizeof port, "%d", o->tls_port ? o->tls_port : 443);
    a->fd = cli_listen(o->listen_addr ? o->listen_addr : "0.0.0.0", port, 64, false, bound,
                       sizeof bound, sub, sizeof sub);
    if (a->fd < 0 || pipe(a->stop_pipe) != 0) {
        snprintf(why, cap, "tls-alpn-01: %s", a->fd < 0 ? sub : strerror(errno));
        alpn_stop(&a->base);
        return NULL;
    }
    if (pthread_create(&a->thread, NULL, serve, a) != 0) {
        snprintf(why, cap, "tls-alpn-01: cannot start the responder thread");
        alpn_stop(&a->base);
        return NULL;
    }
    a->running = true;
    if (o->verbose) fprintf(stderr, "* tls-alpn-01: answering acme-tls/1 on %s\n", bound);
    return &a->base;
}
