/* certa proxy --metrics HOST:PORT: Prometheus text format (version 0.0.4)
 * on GET /metrics, from one thread of its own answering one request at a
 * time (a scrape every few seconds, on loopback or an admin network).
 *
 *   certa_proxy_handshakes_total{result="ok|failed",version="TLSv1.3|TLSv1.2"}
 *   certa_proxy_handshakes_resumed_total
 *   certa_proxy_handshake_seconds (histogram)
 *   certa_proxy_connections_active, certa_proxy_handshakes_active
 *   certa_proxy_bytes_total{direction="in|out"}  (application bytes, closed connections)
 *   certa_proxy_refused_total{error="CERTA_E_..."}  (failed handshakes by cause;
 *                                  error="ja4": refused by --deny-ja4/--allow-ja4)
 *   certa_proxy_ja4_would_refuse_total  (the same under --ja4-log-only, admitted)
 *   certa_proxy_reloads_total{result="ok|failed"}
 *   certa_proxy_closed_total{reason="clean|peer reset|backend reset|timeout|..."}
 *                               (every connection, by its close line's reason)
 *   certa_proxy_proxy_headers_total{result="v1|v2|local|invalid|timeout|untrusted"}
 *                               (--accept-proxy-protocol)
 *   certa_proxy_certificate_not_after_seconds{cert="FILE",subject="..."}
 *   certa_proxy_config_generation */
#include "proxy/proxy.h"

#include "http/http_mini.h"

#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "x509/pem.h"

/* Upper bounds of the handshake-time buckets, in ms. */
static const int64_t bucket_ms[PROXY_HS_BUCKETS] = {1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000};

static struct {
    pthread_t thread;
    bool running;
    atomic_int stop;
    int fd;
    proxy_shared *sh;
} M = {.fd = -1};

void proxy_metrics_handshake(proxy_shared *sh, bool ok, uint16_t version, bool resumed, int64_t ms,
                             int code) {
    proxy_metrics *m = &sh->metrics;
    int v = version == CERTA_TLS13 ? 0 : 1;
    if (ok) {
        atomic_fetch_add_explicit(&m->hs_ok[v], 1, memory_order_relaxed);
        if (resumed) atomic_fetch_add_explicit(&m->hs_resumed, 1, memory_order_relaxed);
        for (int b = 0; b < PROXY_HS_BUCKETS; b++)
            if (ms <= bucket_ms[b]) {
                atomic_fetch_add_explicit(&m->hs_bucket[b], 1, memory_order_relaxed);
                break;
            }
        atomic_fetch_add_explicit(&m->hs_ms_sum, (unsigned long)(ms > 0 ? ms : 0),
                                  memory_order_relaxed);
    } else {
        atomic_fetch_add_explicit(&m->hs_failed[v], 1, memory_order_relaxed);
        if (code > 0 && code < PROXY_ERROR_SLOTS)
            atomic_fetch_add_explicit(&m->refused[code], 1, memory_order_relaxed);
    }
}

void proxy_metrics_ja4(proxy_shared *sh, bool log_only) {
    atomic_fetch_add_explicit(log_only ? &sh->metrics.ja4_would_refuse : &sh->metrics.refused_ja4,
                              1, memory_order_relaxed);
}

void proxy_metrics_bytes(proxy_shared *sh, uint64_t in, uint64_t out) {
    atomic_fetch_add_explicit(&sh->metrics.bytes_in, in, memory_order_relaxed);
    atomic_fetch_add_explicit(&sh->metrics.bytes_out, out, memory_order_relaxed);
}

/* clang-format off */
static const char *const close_reasons[PROXY_CLOSE_REASONS] = {
    "clean", "peer reset", "backend reset", "upstream reset", "backend unreachable",
    "upstream unreachable", "handshake failure", "tls error", "timeout", "truncated",
    "shutdown", "out of memory", "proxy protocol", "proxy protocol timeout", "ja4 refused",
    "no certificate", "acme-tls/1 validation", "other"};
/* clang-format on */

void proxy_metrics_closed(proxy_shared *sh, const char *reason) {
    int i = 0;
    while (i < PROXY_CLOSE_REASONS - 1 && strcmp(close_reasons[i], reason) != 0)
        i++;
    atomic_fetch_add_explicit(&sh->metrics.closed[i], 1, memory_order_relaxed);
}

static const char *const pp_results[PROXY_PP_RESULTS] = {"v1",      "v2",      "local",
                                                         "invalid", "timeout", "untrusted"};

void proxy_metrics_proxy_header(proxy_shared *sh, proxy_pp_result result) {
    atomic_fetch_add_explicit(&sh->metrics.pp_in[result], 1, memory_order_relaxed);
}

typedef struct text {
    char *p;
    size_t len, cap;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p ? t->p + t->len : NULL, t->p ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return;
        if (t->p && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = t->cap ? t->cap * 2 : 8192;
        while (ncap < t->len + (size_t)n + 1)
            ncap *= 2;
        char *np = realloc(t->p, ncap);
        if (!np) return;
        t->p = np;
        t->cap = ncap;
    }
}

/* A label value: backslash, quote and newline escaped. */
static void label(char *out, size_t cap, const char *v) {
    size_t o = 0;
    for (; *v && o + 3 < cap; v++) {
        if (*v == '\\' || *v == '"') out[o++] = '\\';
        if (*v == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
            continue;
        }
        out[o++] = *v;
    }
    out[o] = 0;
}

static unsigned long get(atomic_ulong *a) {
    return atomic_load_explicit(a, memory_order_relaxed);
}

static void certificates(text *t, const proxy_opts *o) {
    put(t, "# HELP certa_proxy_certificate_not_after_seconds When each loaded certificate "
           "expires (Unix time).\n# TYPE certa_proxy_certificate_not_after_seconds gauge\n");
    for (size_t i = 0; i < o->pairs.certs; i++) {
        char *pem = NULL;
        size_t len = 0, pos = 0;
        uint8_t *der = NULL;
        size_t der_len = 0;
        certa_cert_summary s;
        if (read_file(o->pairs.cert[i], &pem, &len) == 0 &&
            pem_next(pem, len, &pos, "CERTIFICATE", &der, &der_len) == 1 &&
            certa_cert_summarize(der, der_len, &s) == CERTA_OK) {
            char file[600], subject[600];
            label(file, sizeof file, o->pairs.cert[i]);
            label(subject, sizeof subject, s.subject);
            put(t, "certa_proxy_certificate_not_after_seconds{cert=\"%s\",subject=\"%s\"} %lld\n",
                file, subject, (long long)s.not_after);
        }
        free(der);
        free(pem);
    }
}

static char *render(proxy_shared *sh, size_t *len) {
    proxy_metrics *m = &sh->metrics;
    pthread_mutex_lock(&sh->cfg_lock);
    unsigned long generation = sh->cfg_generation;
    pthread_mutex_unlock(&sh->cfg_lock);
    text t = {NULL, 0, 0};
    static const char *versions[2] = {"TLSv1.3", "TLSv1.2"};
    put(&t, "# HELP certa_proxy_handshakes_total TLS handshakes by result and version.\n"
            "# TYPE certa_proxy_handshakes_total counter\n");
    for (int v = 0; v < 2; v++) {
        put(&t, "certa_proxy_handshakes_total{result=\"ok\",version=\"%s\"} %lu\n", versions[v],
            get(&m->hs_ok[v]));
        put(&t, "certa_proxy_handshakes_total{result=\"failed\",version=\"%s\"} %lu\n", versions[v],
            get(&m->hs_failed[v]));
    }
    put(&t,
        "# HELP certa_proxy_handshakes_resumed_total Handshakes that resumed a session.\n"
        "# TYPE certa_proxy_handshakes_resumed_total counter\n"
        "certa_proxy_handshakes_resumed_total %lu\n",
        get(&m->hs_resumed));
    put(&t, "# HELP certa_proxy_handshake_seconds Time from accept to handshake complete.\n"
            "# TYPE certa_proxy_handshake_seconds histogram\n");
    unsigned long cum = 0;
    for (int b = 0; b < PROXY_HS_BUCKETS; b++) {
        cum += get(&m->hs_bucket[b]);
        put(&t, "certa_proxy_handshake_seconds_bucket{le=\"%g\"} %lu\n", bucket_ms[b] / 1000.0,
            cum);
    }
    unsigned long count = get(&m->hs_ok[0]) + get(&m->hs_ok[1]);
    put(&t,
        "certa_proxy_handshake_seconds_bucket{le=\"+Inf\"} %lu\n"
        "certa_proxy_handshake_seconds_sum %.3f\ncerta_proxy_handshake_seconds_count %lu\n",
        count, get(&m->hs_ms_sum) / 1000.0, count);
    put(&t,
        "# HELP certa_proxy_connections_active Open connections.\n"
        "# TYPE certa_proxy_connections_active gauge\ncerta_proxy_connections_active %ld\n"
        "# HELP certa_proxy_handshakes_active Connections still in their handshake.\n"
        "# TYPE certa_proxy_handshakes_active gauge\ncerta_proxy_handshakes_active %ld\n",
        atomic_load(&sh->conns), atomic_load(&sh->handshakes));
    put(&t,
        "# HELP certa_proxy_bytes_total Application bytes of closed connections.\n"
        "# TYPE certa_proxy_bytes_total counter\n"
        "certa_proxy_bytes_total{direction=\"in\"} %lu\n"
        "certa_proxy_bytes_total{direction=\"out\"} %lu\n",
        get(&m->bytes_in), get(&m->bytes_out));
    put(&t, "# HELP certa_proxy_refused_total Failed handshakes by cause (CERTA_E_* code, or "
            "ja4).\n"
            "# TYPE certa_proxy_refused_total counter\n");
    for (int c = 1; c < PROXY_ERROR_SLOTS; c++) {
        unsigned long n = get(&m->refused[c]);
        if (n) put(&t, "certa_proxy_refused_total{error=\"%s\"} %lu\n", certa_error_name(c), n);
    }
    if (get(&m->refused_ja4))
        put(&t, "certa_proxy_refused_total{error=\"ja4\"} %lu\n", get(&m->refused_ja4));
    put(&t,
        "# HELP certa_proxy_ja4_would_refuse_total Clients --ja4-log-only admitted that the JA4 "
        "lists refuse.\n"
        "# TYPE certa_proxy_ja4_would_refuse_total counter\n"
        "certa_proxy_ja4_would_refuse_total %lu\n",
        get(&m->ja4_would_refuse));
    put(&t,
        "# HELP certa_proxy_reloads_total Config reloads by result.\n"
        "# TYPE certa_proxy_reloads_total counter\n"
        "certa_proxy_reloads_total{result=\"ok\"} %lu\n"
        "certa_proxy_reloads_total{result=\"failed\"} %lu\n"
        "# HELP certa_proxy_config_generation The config in use (0 = the first).\n"
        "# TYPE certa_proxy_config_generation gauge\ncerta_proxy_config_generation %lu\n",
        get(&m->reloads_ok), get(&m->reloads_failed), generation);
    put(&t, "# HELP certa_proxy_closed_total Closed connections by reason (the close line's).\n"
            "# TYPE certa_proxy_closed_total counter\n");
    for (int i = 0; i < PROXY_CLOSE_REASONS; i++)
        put(&t, "certa_proxy_closed_total{reason=\"%s\"} %lu\n", close_reasons[i],
            get(&m->closed[i]));
    if (sh->opts->accept_proxy_protocol) {
        put(&t, "# HELP certa_proxy_proxy_headers_total PROXY headers from the load balancer: "
                "taken (v1, v2, local) or refused.\n"
                "# TYPE certa_proxy_proxy_headers_total counter\n");
        for (int i = 0; i < PROXY_PP_RESULTS; i++)
            put(&t, "certa_proxy_proxy_headers_total{result=\"%s\"} %lu\n", pp_results[i],
                get(&m->pp_in[i]));
    }
    certificates(&t, sh->opts);
    *len = t.len;
    return t.p;
}

static void *metrics_thread(void *unused) {
    (void)unused;
    while (!atomic_load(&M.stop)) {
        struct pollfd p = {.fd = M.fd, .events = POLLIN, .revents = 0};
        if (poll(&p, 1, 500) <= 0) continue;
        int fd = accept(M.fd, NULL, NULL);
        if (fd < 0) continue;
        char method[8];
        char *path = NULL;
        uint8_t *body = NULL;
        size_t body_len = 0;
        if (http_read_request(fd, 2000, 0, method, &path, &body, &body_len) == 0) {
            if (strcmp(method, "GET") != 0) {
                http_write_response(fd, 405, "text/plain", (const uint8_t *)"GET only\n", 9);
            } else if (strcmp(path, "/metrics") != 0) {
                http_write_response(fd, 404, "text/plain", (const uint8_t *)"see /metrics\n", 13);
            } else {
                size_t len = 0;
                char *out = render(M.sh, &len);
                http_write_response(fd, out ? 200 : 500, "text/plain; version=0.0.4",
                                    (const uint8_t *)(out ? out : ""), out ? len : 0);
                free(out);
            }
        }
        free(path);
        free(body);
        close(fd);
    }
    return NULL;
}

int proxy_metrics_start(proxy_shared *sh, const char *addr, char *bound, size_t bound_cap,
                        char *why, size_t cap) {
    char host[256], port[16], lwhy[300];
    if (!cli_split_host_port(addr, host, sizeof host, port, sizeof port, "9100")) {
        snprintf(why, cap, "--metrics %s: expected HOST:PORT", addr);
        return -1;
    }
    M.fd = cli_listen(host, port, 16, false, bound, bound_cap, lwhy, sizeof lwhy);
    if (M.fd < 0) {
        snprintf(why, cap, "--metrics %s: %s", addr, lwhy);
        return -1;
    }
    M.sh = sh;
    atomic_store(&M.stop, 0);
    if (pthread_create(&M.thread, NULL, metrics_thread, NULL) != 0) {
        close(M.fd);
        M.fd = -1;
        snprintf(why, cap, "--metrics: cannot start its thread");
        return -1;
    }
    M.running = true;
    return 0;
}

void proxy_metrics_stop(void) {
    if (!M.running) return;
    atomic_store(&M.stop, 1);
    pthread_join(M.thread, NULL);
    M.running = false;
    close(M.fd);
    M.fd = -1;
}
