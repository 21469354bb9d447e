/* A non-blocking TLS echo server on certa and epoll: the sans-I/O engine in
 * an event loop, many connections on one thread.
 *
 *   epoll_server PORT CERT.pem KEY.pem [CONNECTIONS]
 *
 * Echoes what each client sends; exits after CONNECTIONS have closed
 * (default: never). Built like blocking_client.c (pkg-config or CMake). */
#define _GNU_SOURCE /* accept4 */
#include <certa.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct client {
    int fd;
    certa_conn *tls;
    uint8_t in[16384]; /* received, not yet taken by the engine (backpressure) */
    size_t in_len;
} client;

/* Writes what the engine has queued; false when the socket failed. A full
 * socket keeps the rest queued (EPOLLOUT brings us back). */
static bool flush_out(client *c) {
    const uint8_t *p;
    size_t n;
    while ((n = certa_conn_outgoing(c->tls, &p)) > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) return false;
        certa_conn_outgoing_done(c->tls, (size_t)w);
        if ((size_t)w < n) break;
    }
    return true;
}

/* Feeds buffered input, echoes the plaintext; false once the connection is over. */
static bool pump(client *c) {
    uint8_t plain[16384];
    for (;;) {
        size_t used = 0;
        if (c->in_len && certa_conn_recv(c->tls, c->in, c->in_len, &used) != CERTA_OK) {
            fprintf(stderr, "connection failed: %s\n", certa_conn_error_text(c->tls));
            flush_out(c); /* the alert */
            return false;
        }
        memmove(c->in, c->in + used, c->in_len - used);
        c->in_len -= used;
        size_t n = certa_conn_read(c->tls, plain, sizeof plain);
        if (n && certa_conn_write(c->tls, plain, n) != CERTA_OK) return false;
        if (!n) break;
    }
    if (certa_conn_peer_closed(c->tls)) certa_conn_close(c->tls);
    return flush_out(c) && !certa_conn_peer_closed(c->tls);
}

static void drop(int ep, client *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    certa_conn_free(c->tls);
    free(c);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s PORT CERT.pem KEY.pem [CONNECTIONS]\n", argv[0]);
        return 2;
    }
    long remaining = argc > 4 ? atol(argv[4]) : -1;
    certa_config *cfg = certa_config_new();
    if (!cfg || certa_config_load_cert_chain(cfg, argv[2]) != CERTA_OK ||
        certa_config_load_private_key(cfg, argv[3]) != CERTA_OK) {
        fprintf(stderr, "certificate: %s\n", cfg ? certa_config_error_text(cfg) : "no memory");
        return 1;
    }
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)atoi(argv[1])),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(lfd, 128) != 0) {
        perror("listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, events[64];
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    printf("listening on 127.0.0.1:%s (library %s)\n", argv[1], certa_version());
    fflush(stdout);
    while (remaining != 0) {
        int n = epoll_wait(ep, events, 64, -1);
        for (int i = 0; i < n; i++) {
            client *c = events[i].data.ptr;
            if (!c) { /* the listener */
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (fd < 0 || !(c = calloc(1, sizeof *c))) {
                    if (fd >= 0) close(fd);
                    continue;
                }
                c->fd = fd;
                c->tls = certa_server_new(cfg);
                ev = (struct epoll_event){.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                continue;
            }
            bool alive = flush_out(c), eof = false;
            while (alive && c->in_len < sizeof c->in) { /* edge-triggered: read it all */
                ssize_t got = recv(c->fd, c->in + c->in_len, sizeof c->in - c->in_len, 0);
                if (got == 0) eof = true;
                if (got <= 0) break;
                c->in_len += (size_t)got;
                alive = pump(c);
            }
            if (alive && eof) certa_conn_recv_eof(c->tls);
            if (!alive || eof || !pump(c)) {
                drop(ep, c);
                if (remaining > 0) remaining--;
            }
        }
    }
    close(lfd);
    close(ep);
    certa_config_free(cfg);
    return 0;
}
