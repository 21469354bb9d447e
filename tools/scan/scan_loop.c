/* certa scan: the engine. One epoll loop drives every endpoint's
 * non-blocking TCP connect and one sans-I/O certa client handshake
 * (certa_client_new, certa_conn_recv, certa_conn_outgoing), under a global
 * cap, a per-host cap (per address), a start rate and connect / handshake
 * deadlines. All connections share one frozen, insecure config: the chain
 * is taken as sent and judged afterwards (certa_verify_chain against the
 * trust set), so one handshake says everything a scan reports — but
 * whether a TLS 1.3 endpoint still accepts TLS 1.2: with check_tls12 a
 * second, TLS 1.2-only handshake on the same slot asks (phase 1). */
#include "scan/scan.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 512
#define READ_CHUNK 16384

typedef enum job_state { JOB_WAITING = 0, JOB_CONNECTING, JOB_HANDSHAKE, JOB_DONE } job_state;

typedef struct job {
    job_state state;
    int fd;
    certa_conn *conn;
    int64_t start_ms, deadline_ms, hs_start_ms;
    bool want_out;
    bool got_bytes;
    uint8_t phase; /* 0: the scan's handshake; 1: the TLS 1.2-only one */
} job;

typedef struct engine {
    const scan_targets *t;
    const scan_options *o;
    scan_result *res;
    job *jobs;
    unsigned *host_busy;
    size_t hosts;
    int epfd;
    certa_config *cfg, *cfg12;
    unsigned in_flight, max_in_flight;
    size_t done, next; /* next: lowest index that may still wait */
} engine;

static void finish(engine *e, size_t i, scan_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void finish(engine *e, size_t i, scan_status st, const char *fmt, ...) {
    job *j = &e->jobs[i];
    scan_result *r = &e->res[i];
    if (j->phase == 1) {
        /* the TLS 1.2 check: its outcome only; the first handshake's facts stay */
        r->tls12_accepted = st == SCAN_TLS                               ? 1
                            : st == SCAN_TLS_FAILED || st == SCAN_CLOSED ? 0
                                                                         : -1;
        fmt = NULL;
        st = SCAN_TLS;
    }
    r->status = st;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->error, sizeof r->error, fmt, ap);
        va_end(ap);
    }
    if (j->conn) {
        certa_conn_free(j->conn);
        j->conn = NULL;
    }
    if (j->fd >= 0) {
        close(j->fd); /* also leaves the epoll set */
        j->fd = -1;
    }
    if (j->state == JOB_CONNECTING || j->state == JOB_HANDSHAKE) {
        e->in_flight--;
        e->host_busy[e->t->items[i].host_index]--;
    }
    j->state = JOB_DONE;
    e->done++;
}

/* The handshake is over (or failed after the server's certificate came):
 * keep what the connection knows. */
static void take_facts(engine *e, size_t i) {
    job *j = &e->jobs[i];
    scan_result *r = &e->res[i];
    certa_info info;
    if (certa_conn_info(j->conn, &info) == 0) {
        r->version = info.version;
        r->group = info.group;
        r->suite = info.cipher_suite;
        if (info.alpn) snprintf(r->alpn, sizeof r->alpn, "%s", info.alpn);
        r->staple_good = info.peer_staple_good;
    }
    const uint8_t *ders[SCAN_MAX_CHAIN + 1];
    size_t lens[SCAN_MAX_CHAIN + 1], n = 0;
    for (; n <= SCAN_MAX_CHAIN; n++) {
        ders[n] = certa_conn_peer_cert(j->conn, n, &lens[n]);
        if (!ders[n]) break;
    }
    r->chain_len = n;
    if (n == 0) return;
    r->has_leaf = scan_cert_facts(ders[0], lens[0], &r->leaf);
    for (size_t k = 1; k < n && k <= SCAN_MAX_CHAIN; k++) {
        certa_cert_summary s;
        if (certa_cert_summarize(ders[k], lens[k], &s) != 0) continue;
        scan_chain_entry *c = &r->chain[k - 1];
        snprintf(c->subject, sizeof c->subject, "%s", s.subject);
        snprintf(c->issuer, sizeof c->issuer, "%s", s.issuer);
        snprintf(c->key_type, sizeof c->key_type, "%s", s.key_type);
        c->not_after = s.not_after;
    }
    const scan_target *t = &e->t->items[i];
    certa_verify_params vp;
    memset(&vp, 0, sizeof vp);
    vp.purpose = CERTA_PURPOSE_SERVER;
    const char *name = t->sni[0] ? t->sni : t->host;
    if (cli_is_ip_literal(name))
        vp.ip = name;
    else
        vp.dns_name = name;
    certa_verify_result vr;
    r->verify_code = certa_verify_chain(e->o->trust, ders, lens, n, &vp, &vr);
    snprintf(r->verify_text, sizeof r->verify_text, "%s", r->verify_code ? vr.text : "");
}

static void set_interest(engine *e, size_t i, uint32_t ev, int op) {
    struct epoll_event x = {.events = ev, .data.u64 = i};
    (void)epoll_ctl(e->epfd, op, e->jobs[i].fd, &x);
}

/* Sends what the engine has queued. false on a socket error. */
static bool flush_out(engine *e, size_t i) {
    job *j = &e->jobs[i];
    const uint8_t *p;
    size_t n;
    while ((n = certa_conn_outgoing(j->conn, &p)) > 0) {
        ssize_t w = send(j->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == EINTR) continue;
            return false;
        }
        certa_conn_outgoing_done(j->conn, (size_t)w);
    }
    bool want = certa_conn_outgoing(j->conn, &p) > 0;
    if (want != j->want_out) {
        j->want_out = want;
        set_interest(e, i, EPOLLIN | (want ? EPOLLOUT : 0), EPOLL_CTL_MOD);
    }
    return true;
}

static void start(engine *e, size_t i, int64_t now) {
    const scan_target *t = &e->t->items[i];
    job *j = &e->jobs[i];
    e->res[i].scanned_at = (int64_t)time(NULL);
    if (!t->addr_len) {
        finish(e, i, SCAN_UNRESOLVED, "%s", t->error);
        return;
    }
    j->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (j->fd < 0) {
        finish(e, i, SCAN_ERROR, "socket: %s", strerror(errno));
        return;
    }
    j->state = JOB_CONNECTING;
    e->in_flight++;
    e->host_busy[t->host_index]++;
    if (e->in_flight > e->max_in_flight) e->max_in_flight = e->in_flight;
    j->start_ms = now;
    j->deadline_ms = now + e->o->connect_timeout_ms;
    int rc = connect(j->fd, (const struct sockaddr *)&t->addr, t->addr_len);
    if (rc < 0 && errno != EINPROGRESS) {
        int err = errno;
        finish(e, i, err == ECONNREFUSED ? SCAN_REFUSED : SCAN_ERROR, "%s: %s", t->address,
               err == ECONNREFUSED ? "connection refused (nothing listens)" : strerror(err));
        return;
    }
    set_interest(e, i, EPOLLOUT, EPOLL_CTL_ADD);
}

static void connected(engine *e, size_t i, int64_t now) {
    job *j = &e->jobs[i];
    const scan_target *t = &e->t->items[i];
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(j->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) err = errno;
    if (err) {
        finish(e, i, err == ECONNREFUSED ? SCAN_REFUSED : SCAN_ERROR, "%s: %s", t->address,
               err == ECONNREFUSED ? "connection refused (nothing listens)" : strerror(err));
        return;
    }
    e->res[i].connect_ms = now - j->start_ms;
    const char *sni = t->sni[0] ? t->sni : (cli_is_ip_literal(t->host) ? NULL : t->host);
    j->conn = certa_client_new(j->phase ? e->cfg12 : e->cfg, sni);
    if (!j->conn) {
        finish(e, i, SCAN_ERROR, "out of memory");
        return;
    }
    j->state = JOB_HANDSHAKE;
    j->hs_start_ms = now;
    j->deadline_ms = now + e->o->handshake_timeout_ms;
    j->want_out = true;
    set_interest(e, i, EPOLLIN | EPOLLOUT, EPOLL_CTL_MOD);
    if (!flush_out(e, i)) finish(e, i, SCAN_ERROR, "%s: send: %s", t->address, strerror(errno));
}

/* A new connection on the same slot (caps unchanged) for the TLS 1.2-only
 * handshake. */
static void start_tls12(engine *e, size_t i, int64_t now) {
    job *j = &e->jobs[i];
    const scan_target *t = &e->t->items[i];
    certa_conn_free(j->conn);
    j->conn = NULL;
    close(j->fd);
    j->phase = 1;
    j->got_bytes = false;
    j->want_out = false;
    j->state = JOB_CONNECTING;
    j->start_ms = now;
    j->deadline_ms = now + e->o->connect_timeout_ms;
    j->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (j->fd < 0) {
        finish(e, i, SCAN_ERROR, NULL);
        return;
    }
    int rc = connect(j->fd, (const struct sockaddr *)&t->addr, t->addr_len);
    if (rc < 0 && errno != EINPROGRESS) {
        finish(e, i, errno == ECONNREFUSED ? SCAN_REFUSED : SCAN_ERROR, NULL);
        return;
    }
    set_interest(e, i, EPOLLOUT, EPOLL_CTL_ADD);
}

static void handshake_over(engine *e, size_t i, int64_t now) {
    job *j = &e->jobs[i];
    scan_result *r = &e->res[i];
    if (j->phase == 1) {
        finish(e, i, certa_conn_failed(j->conn) ? SCAN_TLS_FAILED : SCAN_TLS, NULL);
        return;
    }
    r->handshake_ms = now - j->hs_start_ms;
    take_facts(e, i);
    if (certa_conn_failed(j->conn)) {
        int code = certa_conn_error(j->conn);
        char alert[96];
        cli_describe_alert(j->conn, alert, sizeof alert);
        const char *text = certa_conn_error_text(j->conn);
        finish(e, i, SCAN_TLS_FAILED, "%s (%s): %s", certa_error_name(code), alert,
               *text ? text : certa_error_text(code));
        return;
    }
    /* close_notify, best effort: the socket closes at once */
    (void)certa_conn_close(j->conn);
    const uint8_t *p;
    size_t n = certa_conn_outgoing(j->conn, &p);
    if (n) (void)send(j->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (e->o->check_tls12 && r->version == CERTA_TLS13 && e->cfg12) {
        start_tls12(e, i, now);
        return;
    }
    finish(e, i, SCAN_TLS, NULL);
}

static void readable(engine *e, size_t i, int64_t now) {
    job *j = &e->jobs[i];
    const scan_target *t = &e->t->items[i];
    uint8_t buf[READ_CHUNK];
    ssize_t n = recv(j->fd, buf, sizeof buf, 0);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        finish(e, i, errno == ECONNRESET ? SCAN_CLOSED : SCAN_ERROR, "%s: %s during the handshake",
               t->address, strerror(errno));
        return;
    }
    if (n == 0) {
        (void)certa_conn_recv_eof(j->conn);
        if (j->got_bytes && certa_conn_failed(j->conn)) {
            handshake_over(e, i, now);
            return;
        }
        finish(e, i, SCAN_CLOSED, "%s: the server closed the connection %s", t->address,
               j->got_bytes ? "during the handshake" : "without answering the ClientHello");
        return;
    }
    if (!j->got_bytes) {
        j->got_bytes = true;
        /* a TLS record starts with content type 20..23 and major version 3 */
        if (buf[0] < 20 || buf[0] > 23 || (n > 1 && buf[1] != 3)) {
            char shown[24];
            size_t k = 0;
            for (ssize_t m = 0; m < n && k + 1 < sizeof shown && m < 20; m++)
                shown[k++] = buf[m] >= 0x20 && buf[m] < 0x7f ? (char)buf[m] : '.';
            shown[k] = 0;
            finish(e, i, SCAN_NOT_TLS,
                   "%s: the server answered with something else than TLS "
                   "('%s')",
                   t->address, shown);
            return;
        }
    }
    size_t off = 0;
    while (off < (size_t)n) {
        size_t used = 0;
        if (certa_conn_recv(j->conn, buf + off, (size_t)n - off, &used) != CERTA_OK) break;
        off += used;
        if (certa_conn_handshake_done(j->conn)) break;
        if (used == 0) break;
    }
    if (certa_conn_failed(j->conn) || certa_conn_handshake_done(j->conn)) {
        if (certa_conn_failed(j->conn)) (void)flush_out(e, i); /* the alert */
        handshake_over(e, i, now);
        return;
    }
    if (!flush_out(e, i)) finish(e, i, SCAN_ERROR, "%s: send: %s", t->address, strerror(errno));
}

static void expire(engine *e, int64_t now) {
    for (size_t i = e->next; i < e->t->count; i++) {
        job *j = &e->jobs[i];
        if ((j->state != JOB_CONNECTING && j->state != JOB_HANDSHAKE) || now < j->deadline_ms)
            continue;
        bool hs = j->state == JOB_HANDSHAKE;
        finish(e, i, SCAN_TIMEOUT, "%s: %s timed out after %d ms", e->t->items[i].address,
               hs ? (j->got_bytes ? "the handshake" : "waiting for the ServerHello")
                  : "the TCP connection",
               hs ? e->o->handshake_timeout_ms : e->o->connect_timeout_ms);
    }
}

static size_t peak_rss_kb(void) {
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (size_t)ru.ru_maxrss : 0;
}

static void progress(const engine *e, int64_t started, bool last) {
    double secs = (double)(cli_now_ms() - started) / 1000.0;
    double rate = secs > 0 ? (double)e->done / secs : 0;
    size_t total = e->t->count;
    int width = 30, fill = total ? (int)((double)width * (double)e->done / (double)total) : width;
    double eta = rate > 0 ? (double)(total - e->done) / rate : 0;
    fprintf(stderr, "\r[%.*s%*s] %zu/%zu  %.0f/s  ETA %.0fs  in flight %u ", fill,
            "##############################", width - fill, "", e->done, total, rate, eta,
            e->in_flight);
    if (last) fputc('\n', stderr);
}

static certa_config *scan_config(const scan_options *o, uint16_t max_version, char *why,
                                 size_t cap) {
    certa_config *cfg = certa_config_new();
    if (!cfg) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    int r = certa_config_set_versions(cfg, CERTA_TLS12, max_version);
    if (!r)
        r = certa_config_set_ciphers(
            cfg, "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,TLS_CHACHA20_POLY1305_SHA256,"
                 "ECDHE-ECDSA-AES128-GCM-SHA256,ECDHE-ECDSA-AES256-GCM-SHA384,"
                 "ECDHE-ECDSA-CHACHA20-POLY1305,ECDHE-RSA-AES128-GCM-SHA256,"
                 "ECDHE-RSA-AES256-GCM-SHA384,ECDHE-RSA-CHACHA20-POLY1305");
    if (!r && o->alpn) r = certa_config_set_alpn(cfg, o->alpn);
    certa_config_set_require_ems(cfg, false); /* see legacy peers, then judge */
    certa_config_set_insecure(cfg, true);     /* take the chain as sent: judged after */
    if (r) {
        const char *t = certa_config_error_text(cfg);
        snprintf(why, cap, "%s", *t ? t : certa_error_text(r));
        certa_config_free(cfg);
        return NULL;
    }
    return cfg;
}

bool scan_run(const scan_targets *t, const scan_options *o, scan_result *results, scan_stats *stats,
              char *why, size_t cap) {
    engine e;
    memset(&e, 0, sizeof e);
    e.t = t;
    e.o = o;
    e.res = results;
    e.cfg = scan_config(o, CERTA_TLS13, why, cap);
    if (!e.cfg) return false;
    if (o->check_tls12 && !(e.cfg12 = scan_config(o, CERTA_TLS12, why, cap))) {
        certa_config_free(e.cfg);
        return false;
    }
    for (size_t i = 0; i < t->count; i++)
        results[i].tls12_accepted = -1;
    e.jobs = calloc(t->count ? t->count : 1, sizeof *e.jobs);
    for (size_t i = 0; i < t->count; i++) {
        e.jobs[i].fd = -1;
        if (t->items[i].host_index + 1 > e.hosts) e.hosts = t->items[i].host_index + 1;
    }
    e.host_busy = calloc(e.hosts ? e.hosts : 1, sizeof *e.host_busy);
    e.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!e.jobs || !e.host_busy || e.epfd < 0) {
        snprintf(why, cap, "cannot set up the loop: %s", strerror(errno));
        free(e.jobs);
        free(e.host_busy);
        certa_config_free(e.cfg);
        certa_config_free(e.cfg12);
        return false;
    }
    int64_t started = cli_now_ms(), next_start = started, last_progress = 0, last_sweep = 0;
    double interval = o->rate > 0 ? 1000.0 / o->rate : 0;
    double credit_ms = (double)started; /* the rate limit's clock */
    struct epoll_event ev[MAX_EVENTS];
    while (e.done < t->count) {
        int64_t now = cli_now_ms();
        /* start what the caps and the rate allow */
        for (size_t i = e.next; i < t->count && e.in_flight < o->concurrency; i++) {
            if (e.jobs[i].state != JOB_WAITING) continue;
            if (interval > 0 && now < next_start) break;
            if (e.host_busy[t->items[i].host_index] >= o->per_host) continue;
            start(&e, i, now);
            if (interval > 0) {
                credit_ms = credit_ms + interval < (double)now - 1000 ? (double)now - 1000
                                                                      : credit_ms + interval;
                next_start = (int64_t)credit_ms;
            }
        }
        while (e.next < t->count && e.jobs[e.next].state == JOB_DONE)
            e.next++;
        if (e.done == t->count) break;
        int wait = 50;
        if (interval > 0 && next_start > now && next_start - now < wait)
            wait = (int)(next_start - now);
        int n = epoll_wait(e.epfd, ev, MAX_EVENTS, wait);
        if (n < 0 && errno != EINTR) {
            snprintf(why, cap, "epoll_wait: %s", strerror(errno));
            break;
        }
        now = cli_now_ms();
        for (int k = 0; k < n; k++) {
            size_t i = (size_t)ev[k].data.u64;
            job *j = &e.jobs[i];
            if (j->state == JOB_CONNECTING) {
                connected(&e, i, now);
            } else if (j->state == JOB_HANDSHAKE) {
                if (ev[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                    readable(&e, i, now);
                else if (ev[k].events & EPOLLOUT && !flush_out(&e, i))
                    finish(&e, i, SCAN_ERROR, "%s: send: %s", t->items[i].address, strerror(errno));
            }
        }
        if (now - last_sweep >= 10) { /* the deadline sweep is linear: not on every event */
            expire(&e, now);
            last_sweep = now;
        }
        if (o->progress && now - last_progress >= 200) {
            progress(&e, started, false);
            last_progress = now;
        }
    }
    if (o->progress) progress(&e, started, true);
    stats->max_in_flight = e.max_in_flight;
    stats->duration_ms = cli_now_ms() - started;
    stats->peak_rss_kb = peak_rss_kb();
    close(e.epfd);
    free(e.jobs);
    free(e.host_busy);
    certa_config_free(e.cfg);
    certa_config_free(e.cfg12);
    return e.done == t->count;
}
