/* certa proxy: the event loop. Each worker thread owns an epoll instance,
 * its own SO_REUSEPORT listener on the shared port, and the connections it
 * accepted. Sockets are non-blocking and level-triggered; after any event a
 * connection is "pumped": bytes move TLS -> engine -> plaintext and
 * plaintext -> engine -> TLS until nothing more can move, then the epoll
 * interest is recomputed from the state:
 *
 *   - backpressure: a side is read only while the other side's pending
 *     output is under OUT_CAP (the engine's queued records for the TLS side,
 *     our buffer for the plaintext side). Bytes the engine did not take
 *     (certa_conn_recv's `used`, when decrypted data waits) are kept and fed
 *     again once that data has been moved out.
 *   - half-close: plaintext EOF -> close_notify; close_notify (or EOF) from
 *     the TLS peer -> shutdown(SHUT_WR) on the plaintext side; the connection
 *     ends when both directions are done.
 *   - timeouts: two intrusive lists ordered by deadline because every entry
 *     gets the same timeout: handshake/connect deadlines and last activity
 *     (moved to the tail on activity). Each tick pops only expired heads.
 *   - caps: global counters of connections and handshakes; a worker stops
 *     polling its listener while either cap is reached and looks again each
 *     tick. */
#define _GNU_SOURCE /* accept4 */
#include "proxy/proxy.h"

#include "revocation/crl_fetcher.h"
#include "proxy/proxy_protocol.h"
#include "proxy/proxy_protocol_in.h"
#include "proxy/proxy_acme.h"
#include "acme/challenge.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif
#include <stdatomic.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define TICK_MS 100
#define OUT_CAP (256 * 1024)
#define READ_CHUNK 16384
#define ACCEPT_BATCH 64
#define PUMP_ROUNDS 16
#define MAX_EVENTS 256
/* Connections a worker must have lost since its high-water mark before it
 * hands free memory back to the kernel (at most once a second). */
#define TRIM_AFTER_CLOSES 512

typedef enum ep_kind { EP_LISTEN, EP_TLS, EP_PLAIN } ep_kind;

typedef struct pconn pconn;

typedef struct endpoint {
    ep_kind kind;
    int fd;
    uint32_t events; /* current epoll interest; 0 = not registered */
    /* Data may be waiting: set when epoll reports the socket readable (or it
     * is new), cleared once a read drains it. Level-triggered epoll reports
     * it again when more arrives, so reads are only tried when they can
     * succeed — no recv() that just says EAGAIN. */
    bool readable;
    pconn *c;
} endpoint;

/* A growable byte queue (plaintext waiting for its socket). */
typedef struct pbuf {
    uint8_t *p;
    size_t off, len, cap;
} pbuf;

typedef struct plink {
    pconn *prev, *next;
    bool in;
} plink;

typedef struct plist {
    pconn *head, *tail;
} plist;

struct pconn {
    proxy_worker *w;
    unsigned long id;
    endpoint tls, plain;
    certa_conn *conn;
    int64_t start_ms, deadline_ms, last_active_ms;
    int64_t handshake_ms;
    plink dl_link, idle_link, ready_link;
    pconn *dead_next;

    /* the outbound side (backend or upstream) */
    bool connecting;
    size_t addr_idx;
    int connect_errno;

    pbuf tls_left;  /* bytes read from the TLS socket the engine has not taken */
    pbuf plain_out; /* decrypted bytes waiting for the plaintext socket */

    bool hs_counted;     /* counted in sh->handshakes */
    bool hs_done;        /* TLS handshake complete */
    bool tls_eof;        /* TLS socket reached EOF */
    bool tls_eof_fed;    /* certa_conn_recv_eof called */
    bool tls_rd_done;    /* nothing more will come from the TLS peer */
    bool truncated;      /* TLS EOF without close_notify */
    bool tls_close_sent; /* certa_conn_close called */
    bool tls_wr_shut;    /* close_notify flushed and TCP write side shut */
    bool tls_wr_dead;    /* no more writes possible on the TLS side */
    bool plain_ready;    /* plaintext socket connected */
    bool plain_rd_eof;
    bool plain_wr_shut;
    bool dead;
    uint8_t hellos_judged; /* ClientHellos whose JA4 was read (and judged) */

    uint64_t tls_to_plain, plain_to_tls;
    proxy_conn_record rec;

    /* --accept-proxy-protocol: the header is still to come (its bytes
     * gather in tls_left); then the client's and the address it reached,
     * when the header had them (sent on with --proxy-protocol) */
    bool pp_pending;
    /* --acme: the ClientHello is read here before the engine sees it (its
     * bytes gather in tls_left); the engine was made from the no-certificate
     * config (refused unless a challenge or a certificate turns up); the
     * connection answers a tls-alpn-01 challenge */
    bool acme_peek, acme_waiting, acme_validation;
    bool pp_addrs;
    union {
        struct sockaddr sa;
        struct sockaddr_in in;
        struct sockaddr_in6 in6;
    } pp_src, pp_dst;
};

struct proxy_worker {
    proxy_shared *sh;
    long index;
    int epfd;
    endpoint listen;
    bool listen_paused;
    bool listen_closed;
    pthread_t thread;
    bool started;
    int64_t now;
    long nconns;
    plist deadlines, idle, ready;
    pconn *dead;
    bool emfile_logged;
    long trim_high;  /* most connections since the last trim */
    int64_t trim_at; /* when it was */
    uint8_t scratch[READ_CHUNK];
};

/* ---- small helpers ---- */

#define LINK(c, field) (&(c)->field)

static void list_remove(plist *l, pconn *c, plink *lk, size_t off) {
    if (!lk->in) return;
    if (lk->prev)
        ((plink *)((char *)lk->prev + off))->next = lk->next;
    else
        l->head = lk->next;
    if (lk->next)
        ((plink *)((char *)lk->next + off))->prev = lk->prev;
    else
        l->tail = lk->prev;
    lk->prev = lk->next = NULL;
    lk->in = false;
    (void)c;
}

static void list_push(plist *l, pconn *c, plink *lk, size_t off) {
    if (lk->in) list_remove(l, c, lk, off);
    lk->prev = l->tail;
    lk->next = NULL;
    if (l->tail)
        ((plink *)((char *)l->tail + off))->next = c;
    else
        l->head = c;
    l->tail = c;
    lk->in = true;
}

#define DL_OFF offsetof(pconn, dl_link)
#define IDLE_OFF offsetof(pconn, idle_link)
#define READY_OFF offsetof(pconn, ready_link)

static void pbuf_free(pbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Room for at least `want` more bytes at the end; false if out of memory. */
static bool pbuf_reserve(pbuf *b, size_t want) {
    if (b->off > 0 && (b->len == 0 || b->off + b->len + want > b->cap)) {
        memmove(b->p, b->p + b->off, b->len);
        b->off = 0;
    }
    if (b->off + b->len + want <= b->cap) return true;
    size_t ncap = b->cap ? b->cap : 16384;
    while (ncap < b->len + want)
        ncap *= 2;
    uint8_t *np = realloc(b->p, ncap);
    if (!np) return false;
    b->p = np;
    b->cap = ncap;
    return true;
}

/* An emptied buffer is given back: an idle connection holds none (most
 * connections are idle most of the time; the allocator reuses the block
 * for the next one that has data in flight). */
static void pbuf_consume(pbuf *b, size_t n) {
    b->off += n;
    b->len -= n;
    if (b->len == 0) pbuf_free(b);
}

/* data goes before what the buffer holds (a PROXY header ahead of early data). */
static bool pbuf_prepend(pbuf *b, const uint8_t *data, size_t n) {
    if (!pbuf_reserve(b, n)) return false;
    memmove(b->p + b->off + n, b->p + b->off, b->len);
    memcpy(b->p + b->off, data, n);
    b->len += n;
    return true;
}

static bool pbuf_append(pbuf *b, const uint8_t *data, size_t n) {
    if (!pbuf_reserve(b, n)) return false;
    memcpy(b->p + b->off + b->len, data, n);
    b->len += n;
    return true;
}

static size_t tls_pending(const pconn *c) {
    const uint8_t *p;
    return c->conn ? certa_conn_outgoing(c->conn, &p) : 0;
}

static const char *target_role(const proxy_shared *sh) {
    return sh->opts->mode == PROXY_TERMINATE ? "backend" : "upstream";
}

/* The TLS socket is the accepted one in terminate mode. */
static bool tls_is_accepted(const proxy_shared *sh) {
    return sh->opts->mode == PROXY_TERMINATE;
}

/* The TLS socket is still connecting (bridge mode, to the upstream). */
static bool tls_connecting(const pconn *c) {
    return c->connecting && c->w->sh->opts->mode == PROXY_BRIDGE;
}

static void set_interest(proxy_worker *w, endpoint *ep, uint32_t want) {
    if (ep->fd < 0 || want == ep->events) return;
    struct epoll_event ev = {.events = want, .data.ptr = ep};
    int r;
    if (want == 0)
        r = epoll_ctl(w->epfd, EPOLL_CTL_DEL, ep->fd, NULL);
    else if (ep->events == 0)
        r = epoll_ctl(w->epfd, EPOLL_CTL_ADD, ep->fd, &ev);
    else
        r = epoll_ctl(w->epfd, EPOLL_CTL_MOD, ep->fd, &ev);
    if (r == 0) ep->events = want;
}

static void close_endpoint(proxy_worker *w, endpoint *ep) {
    (void)w;
    if (ep->fd < 0) return;
    /* close() takes the socket out of the epoll set (it is never dup'ed):
     * no EPOLL_CTL_DEL first, a syscall saved per socket. */
    close(ep->fd);
    ep->fd = -1;
    ep->events = 0;
}

static void touch(pconn *c) {
    c->last_active_ms = c->w->now;
    list_push(&c->w->idle, c, LINK(c, idle_link), IDLE_OFF);
}

/* ---- ending a connection ---- */

static void hs_uncount(pconn *c) {
    if (c->hs_counted) {
        atomic_fetch_sub(&c->w->sh->handshakes, 1);
        c->hs_counted = false;
    }
}

/* Logs the close line and releases everything; the memory itself is freed
 * at the end of the loop iteration (other events may still point at it). */
static void finish(pconn *c, const char *reason, int code, const char *detail) {
    if (c->dead) return;
    proxy_worker *w = c->w;
    proxy_shared *sh = w->sh;
    c->dead = true;

    /* Best effort: a queued alert or close_notify goes out before close. */
    if (c->conn && c->tls.fd >= 0 && !tls_connecting(c) && !c->tls_wr_dead) {
        const uint8_t *p;
        size_t n = certa_conn_outgoing(c->conn, &p);
        if (n > 0) {
            ssize_t s = send(c->tls.fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (s > 0) certa_conn_outgoing_done(c->conn, (size_t)s);
            /* Closing with unread input makes the kernel send RST, which can
             * destroy the alert before the peer reads it: send FIN and drop
             * what has already arrived (bounded, never blocking). */
            shutdown(c->tls.fd, SHUT_WR);
            for (int i = 0; i < 4; i++)
                if (recv(c->tls.fd, w->scratch, sizeof w->scratch, MSG_DONTWAIT) <= 0) break;
        }
    }

    proxy_conn_record *r = &c->rec;
    r->handshake_done = c->hs_done;
    r->handshake_ms = c->hs_done ? c->handshake_ms : -1;
    r->duration_ms = w->now - c->start_ms;
    r->bytes_in = tls_is_accepted(sh) ? c->tls_to_plain : c->plain_to_tls;
    r->bytes_out = tls_is_accepted(sh) ? c->plain_to_tls : c->tls_to_plain;
    r->reason = reason;
    r->error_name = code ? certa_error_name(code) : NULL;
    r->detail = detail; /* the caller's, alive until the line is logged below */
    certa_info info;
    bool have_info = c->conn && certa_conn_info(c->conn, &info) == CERTA_OK;
    if (c->conn && !c->hs_done) /* a handshake that did not complete */
        proxy_metrics_handshake(sh, false, have_info ? info.version : 0, false, 0, code);
    proxy_metrics_bytes(sh, r->bytes_in, r->bytes_out);
    if (have_info) {
        if (!r->version && info.version) {
            r->version = cli_version_name(info.version);
            r->suite = certa_cipher_suite_name(info.cipher_suite);
            r->group = certa_group_name(info.group);
        }
        r->early_rejected = info.early_data_rejected;
        if (c->hs_done && sh->opts->mode == PROXY_TERMINATE && info.server_name) {
            r->sni = info.server_name; /* point into the connection, freed after the log */
            r->cert = info.cert_name;
        }
        certa_ech_status ech = c->conn ? certa_conn_ech_status(c->conn) : CERTA_ECH_NONE;
        if (ech != CERTA_ECH_NONE && sh->opts->mode == PROXY_TERMINATE) {
            r->ech = ech == CERTA_ECH_ACCEPTED ? "accepted" : "not-decrypted";
            r->public_name = certa_conn_ech_outer_name(c->conn);
        }
    }
    if (c->conn && !r->identity[0])
        proxy_identity_string(c->conn, r->identity, sizeof r->identity, &r->identity_verified);
    proxy_metrics_closed(sh, reason);
    if (!sh->opts->quiet) proxy_log_conn(r);

    close_endpoint(w, &c->tls);
    close_endpoint(w, &c->plain);
    if (c->conn) certa_conn_free(c->conn);
    c->conn = NULL;
    pbuf_free(&c->tls_left);
    pbuf_free(&c->plain_out);
    hs_uncount(c);
    list_remove(&w->deadlines, c, LINK(c, dl_link), DL_OFF);
    list_remove(&w->idle, c, LINK(c, idle_link), IDLE_OFF);
    list_remove(&w->ready, c, LINK(c, ready_link), READY_OFF);
    atomic_fetch_sub(&sh->conns, 1);
    w->nconns--;
    c->dead_next = w->dead;
    w->dead = c;
}

/* The engine failed: handshake failure before the handshake completed,
 * a TLS error after it. */
static void finish_tls_error(pconn *c, int code) {
    if (!c->hs_done) cli_crl_fetch_learn_conn(c->conn); /* status unknown: fetch for the next */
    char detail[600];
    char alert[96];
    cli_describe_alert(c->conn, alert, sizeof alert);
    snprintf(detail, sizeof detail, "%s (%s)", certa_conn_error_text(c->conn), alert);
    finish(c, c->hs_done ? "tls error" : "handshake failure", code, detail);
}

static void finish_io(pconn *c, bool accepted_side, int err) {
    proxy_shared *sh = c->w->sh;
    char detail[160];
    snprintf(detail, sizeof detail, "%s", strerror(err ? err : EIO));
    const char *reason;
    if (accepted_side)
        reason = "peer reset";
    else
        reason = sh->opts->mode == PROXY_TERMINATE ? "backend reset" : "upstream reset";
    finish(c, reason, 0, detail);
}

/* ---- the outbound connection ---- */

/* Before ending an established connection for a local reason, tell the
 * TLS peer with close_notify (finish() flushes it best-effort). */
static void courtesy_close(pconn *c) {
    if (c->conn && c->hs_done && !c->tls_close_sent && !c->tls_wr_dead) {
        certa_conn_close(c->conn);
        c->tls_close_sent = true;
    }
}

static void finish_unreachable(pconn *c) {
    proxy_shared *sh = c->w->sh;
    courtesy_close(c);
    char detail[400];
    snprintf(detail, sizeof detail, "cannot connect to %s %s:%s: %s", target_role(sh),
             sh->target_host, sh->target_port,
             strerror(c->connect_errno ? c->connect_errno : ECONNREFUSED));
    finish(c, sh->opts->mode == PROXY_TERMINATE ? "backend unreachable" : "upstream unreachable", 0,
           detail);
}

static endpoint *outbound(pconn *c) {
    return c->w->sh->opts->mode == PROXY_TERMINATE ? &c->plain : &c->tls;
}

/* Starts a non-blocking connect to the next address; false when none is
 * left (connect_errno says why). */
static bool connect_next(pconn *c) {
    proxy_shared *sh = c->w->sh;
    endpoint *ep = outbound(c);
    while (c->addr_idx < sh->target_addr_count) {
        const proxy_addr *a = &sh->target_addrs[c->addr_idx];
        int fd = socket(a->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            c->connect_errno = errno;
            c->addr_idx++;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int r;
        do
            r = connect(fd, (const struct sockaddr *)&a->sa, a->len);
        while (r < 0 && errno == EINTR);
        if (r == 0 || errno == EINPROGRESS) {
            ep->fd = fd;
            ep->events = 0;
            ep->readable = true;
            c->connecting = true;
            cli_format_addr((const struct sockaddr *)&a->sa, a->len, c->rec.target,
                            sizeof c->rec.target);
            return true;
        }
        c->connect_errno = errno;
        close(fd);
        c->addr_idx++;
    }
    return false;
}

/* --proxy-protocol: the PROXY v2 header goes first to the backend (queued
 * ahead of any plaintext). false if the connection was finished. */
static bool send_proxy_header(pconn *c) {
    struct sockaddr_storage src, dst;
    socklen_t sl = sizeof src, dl = sizeof dst;
    uint8_t hdr[PP2_HEADER_MAX];
    size_t n = 0;
    if (c->pp_addrs) /* the client the load balancer's header named */
        n = proxy_protocol_v2(hdr, &c->pp_src.sa, &c->pp_dst.sa, c->conn);
    else if (getpeername(c->tls.fd, (struct sockaddr *)&src, &sl) == 0 &&
             getsockname(c->tls.fd, (struct sockaddr *)&dst, &dl) == 0)
        n = proxy_protocol_v2(hdr, (struct sockaddr *)&src, (struct sockaddr *)&dst, c->conn);
    if (n == 0) {
        finish(c, "proxy protocol", 0, "cannot describe the client's address family in PROXY v2");
        return false;
    }
    if (!pbuf_prepend(&c->plain_out, hdr, n)) { /* ahead of any early data held */
        finish(c, "out of memory", CERTA_E_NOMEM, NULL);
        return false;
    }
    return true;
}

/* EPOLLOUT/ERR on a connecting socket. */
static void connect_done(pconn *c) {
    endpoint *ep = outbound(c);
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(ep->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err == EINPROGRESS || err == EALREADY) return;
    if (err) {
        c->connect_errno = err;
        close_endpoint(c->w, ep);
        c->addr_idx++;
        c->connecting = false;
        if (!connect_next(c)) finish_unreachable(c);
        return;
    }
    c->connecting = false;
    touch(c);
    if (c->w->sh->opts->mode == PROXY_TERMINATE) {
        if (c->w->sh->opts->proxy_protocol && !send_proxy_header(c)) return;
        c->plain_ready = true;
        list_remove(&c->w->deadlines, c, LINK(c, dl_link), DL_OFF);
    }
}

/* ---- moving bytes ---- */

/* What take() gives -> plain_out, until it gives nothing or plain_out
 * holds limit bytes; how many bytes moved (0 also after out of memory,
 * when c is finished). */
static size_t pull_plain(pconn *c, size_t (*take)(certa_conn *, uint8_t *, size_t), size_t limit) {
    size_t moved = 0;
    while (c->plain_out.len < limit) {
        if (!pbuf_reserve(&c->plain_out, READ_CHUNK)) {
            finish(c, "out of memory", CERTA_E_NOMEM, NULL);
            return moved;
        }
        size_t n = take(c->conn, c->plain_out.p + c->plain_out.off + c->plain_out.len, READ_CHUNK);
        if (n == 0) break;
        c->plain_out.len += n;
        moved += n;
    }
    if (c->plain_out.len == 0) pbuf_free(&c->plain_out); /* reserved, nothing came */
    c->tls_to_plain += moved;
    return moved;
}

/* Decrypted data -> plain_out, while it has room. True if anything moved. */
static bool drain_app(pconn *c) {
    if (!c->plain_ready || c->plain_wr_shut) return false;
    return pull_plain(c, certa_conn_read, OUT_CAP) > 0;
}

/* --early-data: accepted 0-RTT data -> plain_out, held until the backend is
 * connected (after the handshake: only an authenticated client reaches
 * it). The engine takes no more input while early data waits, so it is
 * taken whole (at most --early-data bytes). */
static bool drain_early(pconn *c) {
    if (c->hs_done || c->w->sh->opts->early_data <= 0) return false;
    size_t n = pull_plain(c, certa_conn_read_early, SIZE_MAX);
    c->rec.early_data += n;
    return n > 0;
}

/* --deny-ja4/--allow-ja4 refused the client: a fatal access_denied alert
 * in a plaintext record (no keys exist before ServerHello, nor after a
 * HelloRetryRequest) instead of the answer the engine has queued, which is
 * never sent. */
static void refuse_by_ja4(pconn *c, const char *sentence) {
    static const uint8_t access_denied[] = {21, 3, 3, 0, 2, 2, 49};
    if (send(c->tls.fd, access_denied, sizeof access_denied, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) {
        /* FIN, and drop what already came, so close() does not turn into a
         * reset that destroys the alert before the client reads it. */
        shutdown(c->tls.fd, SHUT_WR);
        for (int i = 0; i < 4; i++)
            if (recv(c->tls.fd, c->w->scratch, sizeof c->w->scratch, MSG_DONTWAIT) <= 0) break;
    }
    c->tls_wr_dead = true;
    c->rec.version = "-"; /* nothing was negotiated: the engine's choice never went out */
    proxy_metrics_ja4(c->w->sh, false);
    finish(c, "ja4 refused", 0, sentence);
}

/* terminate: the JA4 of each ClientHello the engine has just read, kept for
 * the close line and judged by --deny-ja4/--allow-ja4 before the engine's
 * answer goes out. false if the client was refused (c is finished). */
static bool judge_hellos(pconn *c) {
    const proxy_opts *o = c->w->sh->opts;
    if (o->mode != PROXY_TERMINATE) return true;
    while (c->hellos_judged < 2 && !c->hs_done) {
        certa_fingerprint fp;
        unsigned which = c->hellos_judged;
        if (certa_conn_client_fingerprint(c->conn, which, &fp) != CERTA_OK) break;
        c->hellos_judged++;
        snprintf(which ? c->rec.ja4_retry : c->rec.ja4, sizeof c->rec.ja4, "%s", fp.ja4);
        snprintf(which ? c->rec.ja3_retry : c->rec.ja3, sizeof c->rec.ja3, "%s", fp.ja3_md5);
        const char *verdict = proxy_ja4_verdict(o, fp.ja4);
        if (!verdict) continue;
        char sentence[300];
        snprintf(sentence, sizeof sentence, "client %s %s by its %sJA4 %s, which %s", c->rec.peer,
                 o->ja4_log_only ? "would be refused" : "refused",
                 which ? "second ClientHello's " : "", fp.ja4, verdict);
        if (o->ja4_log_only) {
            char id[24];
            snprintf(id, sizeof id, "%lu", c->id);
            proxy_metrics_ja4(c->w->sh, true);
            proxy_log_event("ja4-would-refuse", sentence, "id", id, "peer", c->rec.peer, "ja4",
                            fp.ja4, (const char *)NULL);
            continue;
        }
        refuse_by_ja4(c, sentence);
        return false;
    }
    return true;
}

/* Feeds bytes to the engine; returns how many it took, or sets *err. */
static size_t feed(pconn *c, const uint8_t *data, size_t len, int *err) {
    size_t off = 0;
    *err = 0;
    while (off < len) {
        size_t used = 0;
        int r = certa_conn_recv(c->conn, data + off, len - off, &used);
        off += used;
        if (r) {
            *err = r;
            return off;
        }
        if (!judge_hellos(c)) return off;
        if (used == 0 && !drain_app(c) && !drain_early(c)) break; /* data waits for room */
        if (c->dead) return off;
    }
    drain_early(c);
    drain_app(c);
    return off;
}

/* --accept-proxy-protocol: ends a connection whose header is missing or
 * wrong, before any TLS (not a handshake failure: no TLS was spoken). */
static void finish_proxy_header(pconn *c, proxy_pp_result result, const char *reason,
                                const char *why) {
    proxy_metrics_proxy_header(c->w->sh, result);
    char detail[300];
    snprintf(detail, sizeof detail, "%s (load balancer %s)", why, c->rec.lb);
    certa_conn_free(c->conn);
    c->conn = NULL;
    finish(c, reason, 0, detail);
}

/* For a stage that reads the first bytes before the engine does (a PROXY
 * header, --acme's ClientHello): what the TLS socket has, appended to
 * tls_left. The byte count, 0 at EOF, READ_AHEAD_NONE when nothing is
 * there yet, READ_AHEAD_ENDED when the connection was finished. */
#define READ_AHEAD_NONE (-1)
#define READ_AHEAD_ENDED (-2)
static ssize_t read_ahead(pconn *c) {
    if (!c->tls.readable) return READ_AHEAD_NONE;
    ssize_t n;
    do
        n = recv(c->tls.fd, c->w->scratch, sizeof c->w->scratch, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->tls.readable = false;
        return READ_AHEAD_NONE;
    }
    if (n < 0) {
        finish_io(c, true, errno);
        return READ_AHEAD_ENDED;
    }
    if (n == 0) return 0;
    touch(c);
    if (!pbuf_append(&c->tls_left, c->w->scratch, (size_t)n)) {
        finish(c, "out of memory", CERTA_E_NOMEM, NULL);
        return READ_AHEAD_ENDED;
    }
    return n;
}

/* The PROXY header from the load balancer: gathered in tls_left, parsed,
 * then what follows it is the TLS. True if anything moved. */
static bool proxy_header_input(pconn *c) {
    ssize_t n = read_ahead(c);
    if (n == READ_AHEAD_NONE) return false;
    if (n == READ_AHEAD_ENDED) return true;
    if (n == 0) {
        finish_proxy_header(c, PROXY_PP_INVALID, "proxy protocol",
                            "the connection closed before its PROXY header");
        return true;
    }
    pp_in_header h;
    pp_in_status st = proxy_protocol_parse(c->tls_left.p + c->tls_left.off, c->tls_left.len, &h);
    if (st == PP_IN_MORE) return true;
    if (st == PP_IN_INVALID) {
        finish_proxy_header(c, PROXY_PP_INVALID, "proxy protocol", h.why);
        return true;
    }
    c->pp_pending = false;
    pbuf_consume(&c->tls_left, h.header_len);
    if (h.has_addresses) {
        memcpy(&c->pp_src, &h.src, h.src_len);
        memcpy(&c->pp_dst, &h.dst, h.dst_len);
        c->pp_addrs = true;
        cli_format_addr(&c->pp_src.sa, h.src_len, c->rec.peer, sizeof c->rec.peer);
    }
    proxy_metrics_proxy_header(c->w->sh, !h.has_addresses ? PROXY_PP_LOCAL
                                         : h.version == 1 ? PROXY_PP_V1
                                                          : PROXY_PP_V2);
    return true;
}

/* --acme without a certificate yet: a fatal internal_error alert in the
 * clear (no engine has answered), and the close line says why. */
static void refuse_waiting(pconn *c) {
    static const uint8_t alert[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 80};
    if (send(c->tls.fd, alert, sizeof alert, MSG_NOSIGNAL | MSG_DONTWAIT) > 0) {
        shutdown(c->tls.fd, SHUT_WR);
        for (int i = 0; i < 4; i++)
            if (recv(c->tls.fd, c->w->scratch, sizeof c->w->scratch, MSG_DONTWAIT) <= 0) break;
    }
    c->tls_wr_dead = true;
    c->rec.version = "-";
    finish(c, "no certificate", 0, proxy_acme_waiting_sentence(c->w->sh->acme));
}

/* --acme: the first ClientHello, gathered in tls_left. A tls-alpn-01
 * validator asking for a pending challenge gets the challenge's own
 * connection; anyone else the proxy's certificate, or, while there is
 * none, a refusal. True if anything moved. */
static bool acme_hello_input(pconn *c) {
    ssize_t n = read_ahead(c);
    if (n == READ_AHEAD_NONE) return false;
    if (n == READ_AHEAD_ENDED) return true;
    if (n == 0) c->tls_eof = true;
    cursor msg;
    int fr = n == 0 ? -1
                    : challenge_first_client_hello(c->tls_left.p + c->tls_left.off, c->tls_left.len,
                                                   &msg);
    if (fr == 0) return true;
    c->acme_peek = false;
    proxy_shared *sh = c->w->sh;
    certa_fingerprint fp;
    certa_conn *v = NULL;
    if (fr == 1 && certa_fingerprint_client_hello(msg.data, msg.len, &fp) == CERTA_OK)
        v = proxy_acme_validation_conn(sh->acme, &fp);
    if (!v && c->acme_waiting) { /* a certificate may have arrived since the accept */
        pthread_mutex_lock(&sh->cfg_lock);
        v = sh->cfg ? certa_server_new(sh->cfg) : NULL;
        pthread_mutex_unlock(&sh->cfg_lock);
    } else if (v) {
        c->acme_validation = true;
    }
    if (v) {
        certa_conn_free(c->conn);
        c->conn = v;
        c->acme_waiting = false;
    }
    if (c->acme_waiting) refuse_waiting(c);
    return true;
}

/* TLS socket -> engine -> plain_out. */
static bool tls_input(pconn *c) {
    if (tls_connecting(c) || c->tls.fd < 0 || c->tls_rd_done) return false;
    if (c->pp_pending) return proxy_header_input(c);
    if (c->acme_peek) return acme_hello_input(c);
    bool progress = drain_app(c);
    if (c->dead) return progress;
    int err = 0;
    if (c->tls_left.len) {
        size_t took = feed(c, c->tls_left.p + c->tls_left.off, c->tls_left.len, &err);
        if (c->dead) return true;
        if (took) progress = true;
        pbuf_consume(&c->tls_left, took);
        if (err) {
            finish_tls_error(c, err);
            return true;
        }
    }
    if (!c->tls_left.len && !c->tls_eof && c->plain_out.len < OUT_CAP && c->tls.readable) {
        ssize_t n;
        do
            n = recv(c->tls.fd, c->w->scratch, sizeof c->w->scratch, 0);
        while (n < 0 && errno == EINTR);
        /* A short read emptied the socket; EAGAIN says the same. */
        if ((n > 0 && (size_t)n < sizeof c->w->scratch) ||
            (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
            c->tls.readable = false;
        if (n > 0) {
            progress = true;
            touch(c);
            size_t took = feed(c, c->w->scratch, (size_t)n, &err);
            if (c->dead) return true;
            if (err) {
                finish_tls_error(c, err);
                return true;
            }
            if (took < (size_t)n &&
                !pbuf_append(&c->tls_left, c->w->scratch + took, (size_t)n - took)) {
                finish(c, "out of memory", CERTA_E_NOMEM, NULL);
                return true;
            }
        } else if (n == 0) {
            c->tls_eof = true;
            progress = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
            finish_io(c, tls_is_accepted(c->w->sh), errno);
            return true;
        }
    }
    if (c->tls_eof && !c->tls_left.len && !c->tls_eof_fed) {
        c->tls_eof_fed = true;
        progress = true;
        if (!certa_conn_peer_closed(c->conn)) {
            int r = certa_conn_recv_eof(c->conn);
            if (r && !c->hs_done) {
                finish_tls_error(c, r);
                return true;
            }
            if (r) {
                /* EOF without close_notify: nothing can be written to the
                 * TLS side any more either (the engine has failed). */
                c->truncated = true;
                c->tls_wr_dead = true;
            }
        }
    }
    if (!c->tls_rd_done && (certa_conn_peer_closed(c->conn) || (c->tls_eof_fed && c->hs_done))) {
        c->tls_rd_done = true;
        progress = true;
    }
    return progress;
}

static void on_handshake_done(pconn *c) {
    proxy_worker *w = c->w;
    c->hs_done = true;
    /* No ClientHello can follow: the close line has its JA4/JA3 copies. */
    certa_conn_drop_client_fingerprints(c->conn);
    c->handshake_ms = w->now - c->start_ms;
    hs_uncount(c);
    list_remove(&w->deadlines, c, LINK(c, dl_link), DL_OFF);
    certa_info info;
    if (certa_conn_info(c->conn, &info) == CERTA_OK) {
        proxy_metrics_handshake(w->sh, true, info.version, info.resumed, c->handshake_ms, 0);
        c->rec.version = cli_version_name(info.version);
        c->rec.suite = certa_cipher_suite_name(info.cipher_suite);
        c->rec.group = certa_group_name(info.group);
        c->rec.resumed = info.resumed;
    }
    proxy_identity_string(c->conn, c->rec.identity, sizeof c->rec.identity,
                          &c->rec.identity_verified);
    const char *note = certa_conn_revocation_note(c->conn);
    if (*note) {
        /* prefer mode with a stale or missing CRL says so on every handshake:
         * one line per 10 s in the whole process is enough to be seen. */
        static _Atomic int64_t last_ms;
        int64_t prev = atomic_load(&last_ms);
        if (w->now - prev >= 10000 && atomic_compare_exchange_strong(&last_ms, &prev, w->now))
            proxy_log_event("revocation-warning", note, "peer", c->rec.identity,
                            (const char *)NULL);
        cli_crl_fetch_learn_conn(c->conn);
    }
    if (c->acme_validation) { /* RFC 8737 §3: the validator only looks at the certificate */
        courtesy_close(c);
        finish(c, "acme-tls/1 validation", 0,
               "answered a tls-alpn-01 challenge with its validation certificate");
        return;
    }
    if (w->sh->opts->mode == PROXY_TERMINATE) {
        /* Only an authenticated client reaches the backend. */
        c->addr_idx = 0;
        if (!connect_next(c)) {
            finish_unreachable(c);
            return;
        }
        c->deadline_ms = w->now + w->sh->opts->connect_timeout_ms;
        list_push(&w->deadlines, c, LINK(c, dl_link), DL_OFF);
    }
}

/* plain_out -> plaintext socket; then the half-close when the TLS peer is done. */
static bool plain_output(pconn *c) {
    if (!c->plain_ready || c->plain.fd < 0) return false;
    bool progress = false;
    while (c->plain_out.len > 0) {
        ssize_t n =
            send(c->plain.fd, c->plain_out.p + c->plain_out.off, c->plain_out.len, MSG_NOSIGNAL);
        if (n > 0) {
            pbuf_consume(&c->plain_out, (size_t)n);
            progress = true;
            touch(c);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        finish_io(c, !tls_is_accepted(c->w->sh), n < 0 ? errno : EIO);
        return true;
    }
    if (c->plain_out.len == 0 && c->tls_rd_done && !c->plain_wr_shut) {
        /* Move what the engine may still hold (nothing after close_notify). */
        if (drain_app(c)) return true;
        shutdown(c->plain.fd, SHUT_WR);
        c->plain_wr_shut = true;
        progress = true;
    }
    return progress;
}

/* plaintext socket -> engine (only after the handshake, while the engine's
 * queue is under the cap). EOF -> close_notify. */
static bool plain_input(pconn *c) {
    if (!c->plain_ready || !c->hs_done || c->plain_rd_eof || c->tls_close_sent || c->tls_wr_dead ||
        c->plain.fd < 0)
        return false;
    if (tls_pending(c) >= OUT_CAP || !c->plain.readable) return false;
    ssize_t n;
    do
        n = recv(c->plain.fd, c->w->scratch, sizeof c->w->scratch, 0);
    while (n < 0 && errno == EINTR);
    if ((n > 0 && (size_t)n < sizeof c->w->scratch) ||
        (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)))
        c->plain.readable = false;
    if (n > 0) {
        touch(c);
        int r = certa_conn_write(c->conn, c->w->scratch, (size_t)n);
        if (r) {
            finish_tls_error(c, r);
            return true;
        }
        c->plain_to_tls += (size_t)n;
        return true;
    }
    if (n == 0) {
        c->plain_rd_eof = true;
        certa_conn_close(c->conn);
        c->tls_close_sent = true;
        return true;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return false;
    finish_io(c, !tls_is_accepted(c->w->sh), errno);
    return true;
}

/* Engine output -> TLS socket; after close_notify is out, shut the write side. */
static bool tls_output(pconn *c) {
    if (tls_connecting(c) || c->tls.fd < 0 || c->tls_wr_dead) return false;
    bool progress = false;
    for (;;) {
        const uint8_t *p = NULL;
        size_t n = certa_conn_outgoing(c->conn, &p);
        if (n == 0) break;
        ssize_t s = send(c->tls.fd, p, n, MSG_NOSIGNAL);
        if (s > 0) {
            certa_conn_outgoing_done(c->conn, (size_t)s);
            progress = true;
            if (c->hs_done) touch(c);
            continue;
        }
        if (s < 0 && errno == EINTR) continue;
        if (s < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        int e = s < 0 ? errno : EIO;
        if (c->tls_rd_done && !c->truncated) {
            /* The peer sent close_notify and went away: our remaining
             * output has nobody to read it. Not an error. */
            c->tls_wr_dead = true;
            return true;
        }
        finish_io(c, tls_is_accepted(c->w->sh), e);
        return true;
    }
    if (c->tls_close_sent && !c->tls_wr_shut && tls_pending(c) == 0) {
        shutdown(c->tls.fd, SHUT_WR);
        c->tls_wr_shut = true;
        progress = true;
    }
    return progress;
}

/* Both directions done -> end the connection. */
static void check_done(pconn *c) {
    if (c->dead) return;
    if (c->acme_peek) return; /* the hello is still being read; the engine has seen nothing */
    if (c->conn && certa_conn_failed(c->conn) && !c->truncated) {
        finish_tls_error(c, certa_conn_error(c->conn));
        return;
    }
    bool to_plain_done = c->plain_wr_shut;
    bool to_tls_done = c->tls_wr_shut || c->tls_wr_dead;
    if (c->truncated && c->plain_wr_shut) to_tls_done = true;
    if (!to_plain_done || !to_tls_done) return;
    if (c->truncated && !c->tls_close_sent)
        finish(c, "truncated", CERTA_E_PEER_CLOSED,
               "the TLS peer closed the connection without close_notify");
    else
        finish(c, "clean", 0, NULL);
}

static void update_interest(pconn *c) {
    if (c->dead) return;
    proxy_worker *w = c->w;
    uint32_t t = 0, p = 0;
    if (c->tls.fd >= 0) {
        if (c->connecting && &c->tls == outbound(c)) {
            t = EPOLLOUT;
        } else {
            if (!c->tls_rd_done && !c->tls_eof &&
                (!c->tls_left.len || c->pp_pending || c->acme_peek) && c->plain_out.len < OUT_CAP)
                t |= EPOLLIN;
            if (!c->tls_wr_dead && tls_pending(c) > 0) t |= EPOLLOUT;
        }
    }
    if (c->plain.fd >= 0) {
        if (c->connecting && &c->plain == outbound(c)) {
            p = EPOLLOUT;
        } else if (c->plain_ready) {
            if (c->hs_done && !c->plain_rd_eof && !c->tls_close_sent && !c->tls_wr_dead &&
                tls_pending(c) < OUT_CAP)
                p |= EPOLLIN;
            if (c->plain_out.len > 0) p |= EPOLLOUT;
        }
    }
    set_interest(w, &c->tls, t);
    set_interest(w, &c->plain, p);
}

static void pump(pconn *c) {
    int round;
    for (round = 0; round < PUMP_ROUNDS && !c->dead; round++) {
        bool progress = tls_input(c);
        if (c->dead) return;
        if (!c->hs_done && c->conn && certa_conn_handshake_done(c->conn)) {
            on_handshake_done(c);
            progress = true;
            if (c->dead) return;
        }
        progress |= plain_output(c);
        if (c->dead) return;
        progress |= plain_input(c);
        if (c->dead) return;
        progress |= tls_output(c);
        if (c->dead) return;
        check_done(c);
        if (!progress) break;
    }
    if (c->dead) return;
    if (round == PUMP_ROUNDS) /* still busy: continue next iteration, be fair */
        list_push(&c->w->ready, c, LINK(c, ready_link), READY_OFF);
    update_interest(c);
}

/* ---- accepting ---- */

static void listener_pause(proxy_worker *w, bool pause) {
    if (w->listen_closed || pause == w->listen_paused) return;
    set_interest(w, &w->listen, pause ? 0 : EPOLLIN);
    w->listen_paused = pause;
}

static void new_conn(proxy_worker *w, int fd, const struct sockaddr *sa, socklen_t salen) {
    proxy_shared *sh = w->sh;
    const proxy_opts *o = sh->opts;
    pconn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        atomic_fetch_sub(&sh->conns, 1);
        atomic_fetch_sub(&sh->handshakes, 1);
        return;
    }
    c->w = w;
    c->id = atomic_fetch_add(&sh->next_id, 1) + 1;
    c->tls.kind = EP_TLS;
    c->plain.kind = EP_PLAIN;
    c->tls.c = c->plain.c = c;
    c->tls.fd = c->plain.fd = -1;
    c->start_ms = w->now;
    c->hs_counted = true;
    c->rec.id = c->id;
    c->rec.mode = o->mode == PROXY_TERMINATE ? "terminate" : "bridge";
    c->rec.log_ja3 = o->log_ja3;
    cli_format_addr(sa, salen, c->rec.peer, sizeof c->rec.peer);
    w->nconns++;

    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    pthread_mutex_lock(&sh->cfg_lock);
    if (o->mode == PROXY_TERMINATE) {
        certa_config *cfg = sh->cfg;
        if (sh->acme) { /* a tls-alpn-01 challenge, or no certificate yet */
            c->acme_peek = proxy_acme_peeking(sh->acme, cfg != NULL);
            c->acme_waiting = !cfg;
            if (!cfg) cfg = proxy_acme_waiting_config(sh->acme);
        }
        c->conn = certa_server_new(cfg);
    } else
        c->conn = certa_client_new(sh->cfg, sh->servername[0] ? sh->servername : NULL);
    pthread_mutex_unlock(&sh->cfg_lock);

    c->deadline_ms = w->now + o->handshake_timeout_ms;
    list_push(&w->deadlines, c, LINK(c, dl_link), DL_OFF);
    touch(c);

    if (o->mode == PROXY_TERMINATE) {
        c->tls.fd = fd;
        c->tls.readable = true;
    } else {
        c->plain.fd = fd;
        c->plain.readable = true;
        c->plain_ready = true;
    }
    if (!c->conn) {
        finish(c, "handshake failure", CERTA_E_NOMEM, "could not create the TLS connection");
        return;
    }
    if (o->mode == PROXY_BRIDGE && !connect_next(c)) {
        finish_unreachable(c);
        return;
    }
    if (o->accept_proxy_protocol) { /* the header comes before the TLS */
        snprintf(c->rec.lb, sizeof c->rec.lb, "%s", c->rec.peer);
        if (!cidr_list_match(&o->proxy_protocol_from, sa)) {
            char why[400];
            snprintf(why, sizeof why,
                     "%s may not send PROXY headers (--accept-proxy-protocol-from %s)", c->rec.peer,
                     o->proxy_protocol_from_text);
            finish_proxy_header(c, PROXY_PP_UNTRUSTED, "proxy protocol", why);
            return;
        }
        c->pp_pending = true;
    }
    pump(c);
}

static void accept_some(proxy_worker *w) {
    proxy_shared *sh = w->sh;
    const proxy_opts *o = sh->opts;
    for (int i = 0; i < ACCEPT_BATCH; i++) {
        if (atomic_fetch_add(&sh->conns, 1) + 1 > o->max_conns) {
            atomic_fetch_sub(&sh->conns, 1);
            listener_pause(w, true);
            return;
        }
        if (atomic_fetch_add(&sh->handshakes, 1) + 1 > o->max_handshakes) {
            atomic_fetch_sub(&sh->handshakes, 1);
            atomic_fetch_sub(&sh->conns, 1);
            listener_pause(w, true);
            return;
        }
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        int fd = accept4(w->listen.fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            atomic_fetch_sub(&sh->handshakes, 1);
            atomic_fetch_sub(&sh->conns, 1);
            if (e == EINTR || e == ECONNABORTED) continue;
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
                if (!w->emfile_logged)
                    proxy_log_event("error", "accept failed; pausing the listener for a tick",
                                    "error", strerror(e), (const char *)NULL);
                w->emfile_logged = true;
                listener_pause(w, true);
            }
            return;
        }
        w->emfile_logged = false;
        new_conn(w, fd, (struct sockaddr *)&ss, len);
    }
}

/* ---- timers ---- */

static void expire(proxy_worker *w) {
    const proxy_opts *o = w->sh->opts;
    char detail[128];
    while (w->deadlines.head && w->deadlines.head->deadline_ms <= w->now) {
        pconn *c = w->deadlines.head;
        list_remove(&w->deadlines, c, LINK(c, dl_link), DL_OFF);
        if (c->pp_pending) {
            snprintf(detail, sizeof detail, "no PROXY header within %d ms",
                     o->handshake_timeout_ms);
            finish_proxy_header(c, PROXY_PP_TIMEOUT, "proxy protocol timeout", detail);
        } else if (!c->hs_done) {
            snprintf(detail, sizeof detail, "the handshake did not complete within %d ms",
                     o->handshake_timeout_ms);
            finish(c, "timeout", CERTA_E_TIMEOUT, detail);
        } else {
            c->connect_errno = ETIMEDOUT;
            finish_unreachable(c);
        }
    }
    while (w->idle.head && w->idle.head->last_active_ms + o->idle_timeout_ms <= w->now) {
        pconn *c = w->idle.head;
        snprintf(detail, sizeof detail, "no data either way for %d ms", o->idle_timeout_ms);
        courtesy_close(c);
        finish(c, "timeout", CERTA_E_TIMEOUT, detail);
    }
}

static void free_dead(proxy_worker *w) {
    while (w->dead) {
        pconn *c = w->dead;
        w->dead = c->dead_next;
        free(c);
    }
}

/* glibc keeps freed heap pages (in every thread's arena) for reuse, so after
 * a crowd of connections closes the RSS would stay at its peak: once a
 * worker has lost TRIM_AFTER_CLOSES connections since its high-water mark,
 * the free pages go back to the kernel. Steady churn (as many opened as
 * closed) never trims. */
static void give_back_memory(proxy_worker *w) {
    if (w->nconns > w->trim_high) w->trim_high = w->nconns;
    if (w->trim_high - w->nconns < TRIM_AFTER_CLOSES || w->now - w->trim_at < 1000) return;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    w->trim_high = w->nconns;
    w->trim_at = w->now;
}

/* ---- the loop ---- */

static void *worker_main(void *arg) {
    proxy_worker *w = arg;
    proxy_shared *sh = w->sh;
    const proxy_opts *o = sh->opts;
    struct epoll_event evs[MAX_EVENTS];
    w->now = cli_now_ms();
    set_interest(w, &w->listen, EPOLLIN);
    for (;;) {
        int timeout = w->ready.head ? 0 : TICK_MS;
        int n = epoll_wait(w->epfd, evs, MAX_EVENTS, timeout);
        if (n < 0 && errno != EINTR) {
            proxy_log_event("error", "epoll_wait failed", "error", strerror(errno),
                            (const char *)NULL);
            break;
        }
        w->now = cli_now_ms();
        for (int i = 0; i < n; i++) {
            endpoint *ep = evs[i].data.ptr;
            if (ep->kind == EP_LISTEN) {
                if (!w->listen_closed && !w->listen_paused) accept_some(w);
                continue;
            }
            pconn *c = ep->c;
            if (c->dead) continue;
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) ep->readable = true;
            if (c->connecting && ep == outbound(c)) {
                connect_done(c);
                if (c->dead) continue;
            }
            pump(c);
        }
        /* Connections that still had work after their share of rounds. */
        for (int budget = 256; budget > 0 && w->ready.head; budget--) {
            pconn *c = w->ready.head;
            list_remove(&w->ready, c, LINK(c, ready_link), READY_OFF);
            pump(c);
        }
        expire(w);

        if (atomic_load(&sh->stopping)) {
            if (!w->listen_closed) {
                close_endpoint(w, &w->listen);
                w->listen_closed = true;
            }
            if (w->nconns == 0) break;
            if (w->now >= atomic_load(&sh->drain_until)) {
                while (w->idle.head) {
                    courtesy_close(w->idle.head);
                    finish(w->idle.head, "shutdown", 0,
                           "the proxy is stopping and the drain timeout passed");
                }
                free_dead(w);
                break;
            }
        } else if (w->listen_paused && atomic_load(&sh->conns) < o->max_conns &&
                   atomic_load(&sh->handshakes) < o->max_handshakes) {
            listener_pause(w, false);
        }
        free_dead(w);
        give_back_memory(w);
    }
    return NULL;
}

/* ---- set-up ---- */

static int open_listener(const proxy_shared *sh, const char *port, char *bound, size_t bound_cap) {
    char why[512], ignored[128];
    int fd =
        cli_listen(sh->listen_host[0] ? sh->listen_host : NULL, port, 1024, true,
                   bound ? bound : ignored, bound ? bound_cap : sizeof ignored, why, sizeof why);
    if (fd < 0) cli_err("%s (--listen %s)", why, sh->opts->listen);
    return fd;
}

int proxy_workers_create(proxy_shared *sh, long count, proxy_worker **out, char *bound,
                         size_t bound_cap) {
    proxy_worker *w = calloc((size_t)count, sizeof *w);
    if (!w) {
        cli_err("out of memory");
        return -1;
    }
    for (long i = 0; i < count; i++) {
        w[i].listen.fd = -1;
        w[i].epfd = -1;
    }
    char port[16];
    snprintf(port, sizeof port, "%s", sh->listen_port);
    for (long i = 0; i < count; i++) {
        w[i].sh = sh;
        w[i].index = i;
        w[i].listen.kind = EP_LISTEN;
        w[i].epfd = epoll_create1(EPOLL_CLOEXEC);
        if (w[i].epfd < 0) {
            cli_err("epoll_create1: %s", strerror(errno));
            goto fail;
        }
        w[i].listen.fd = open_listener(sh, port, i == 0 ? bound : NULL, bound_cap);
        if (w[i].listen.fd < 0) goto fail;
        if (i == 0) {
            /* With port 0 the kernel chose one: every worker uses it. */
            struct sockaddr_storage ss;
            socklen_t len = sizeof ss;
            if (getsockname(w[0].listen.fd, (struct sockaddr *)&ss, &len) == 0) {
                unsigned p = ss.ss_family == AF_INET6
                                 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                 : ntohs(((struct sockaddr_in *)&ss)->sin_port);
                snprintf(port, sizeof port, "%u", p);
            }
        }
    }
    *out = w;
    return 0;
fail:
    proxy_workers_free(w, count);
    return -1;
}

int proxy_workers_start(proxy_worker *w, long count) {
    for (long i = 0; i < count; i++) {
        int r = pthread_create(&w[i].thread, NULL, worker_main, &w[i]);
        if (r) {
            cli_err("cannot start worker thread: %s", strerror(r));
            return -1;
        }
        w[i].started = true;
    }
    return 0;
}

void proxy_workers_join(proxy_worker *w, long count) {
    for (long i = 0; i < count; i++)
        if (w[i].started) {
            pthread_join(w[i].thread, NULL);
            w[i].started = false;
        }
}

void proxy_workers_free(proxy_worker *w, long count) {
    if (!w) return;
    for (long i = 0; i < count; i++) {
        /* Only reached after the threads ended: connections are gone unless
         * start-up failed half-way. */
        while (w[i].idle.head)
            finish(w[i].idle.head, "shutdown", 0, NULL);
        free_dead(&w[i]);
        if (w[i].listen.fd >= 0) close(w[i].listen.fd);
        if (w[i].epfd >= 0) close(w[i].epfd);
    }
    free(w);
}
