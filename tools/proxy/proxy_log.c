/* certa proxy: logging. One line per connection when it closes, and one per
 * event (start-up, reload, shutdown), to stderr: key=value text by default,
 * or one JSON object per line. Each line is written with a single write(2)
 * so lines from several workers never interleave. */
#include "proxy/proxy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static proxy_log_format g_format = PROXY_LOG_TEXT;

void proxy_log_init(proxy_log_format fmt) {
    g_format = fmt;
}

/* A line being built; overflowing text is cut, never overrun. */
typedef struct line {
    char buf[4096];
    size_t len;
    bool first;
} line;

static void put_raw(line *l, const char *s, size_t n) {
    size_t room = sizeof l->buf - 2 - l->len; /* keep room for "\n\0" */
    if (n > room) n = room;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = 0;
}

static void put(line *l, const char *s) {
    put_raw(l, s, strlen(s));
}

static void putf(line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(line *l, const char *fmt, ...) {
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    put_raw(l, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* JSON string body: quotes, backslashes and control characters escaped;
 * bytes >= 0x80 copied as they are (UTF-8 from certificates passes through;
 * invalid sequences are replaced). */
static void put_json_string(line *l, const char *s) {
    put(l, "\"");
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned char ch = *p;
        if (ch == '"') {
            put(l, "\\\"");
        } else if (ch == '\\') {
            put(l, "\\\\");
        } else if (ch == '\n') {
            put(l, "\\n");
        } else if (ch == '\r') {
            put(l, "\\r");
        } else if (ch == '\t') {
            put(l, "\\t");
        } else if (ch < 0x20 || ch == 0x7f) {
            putf(l, "\\u%04x", ch);
        } else if (ch < 0x80) {
            put_raw(l, (const char *)p, 1);
        } else {
            /* Copy a well-formed UTF-8 sequence; replace anything else. */
            size_t n = ch >= 0xf0 && ch < 0xf5   ? 4
                       : ch >= 0xe0              ? 3
                       : ch >= 0xc2 && ch < 0xe0 ? 2
                                                 : 0;
            size_t k = 1;
            while (n && k < n && (p[k] & 0xc0) == 0x80)
                k++;
            if (n && k == n) {
                put_raw(l, (const char *)p, n);
                p += n;
                continue;
            }
            put(l, "\\ufffd");
        }
        p++;
    }
    put(l, "\"");
}

/* Text value: bare if it is a simple token, else double-quoted with
 * quotes, backslashes and control characters escaped. */
static void put_text_value(line *l, const char *s) {
    bool bare = *s != 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '=' || *p >= 0x7f) bare = false;
    if (bare) {
        put(l, s);
        return;
    }
    put(l, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[3] = {'\\', (char)*p, 0};
            put(l, esc);
        } else if (*p == '\n') {
            put(l, "\\n");
        } else if (*p < 0x20 || *p == 0x7f) {
            putf(l, "\\x%02x", *p);
        } else {
            put_raw(l, (const char *)p, 1);
        }
    }
    put(l, "\"");
}

static void field_str(line *l, const char *key, const char *val) {
    if (!val) return;
    if (g_format == PROXY_LOG_JSON) {
        put(l, l->first ? "{" : ",");
        put_json_string(l, key);
        put(l, ":");
        put_json_string(l, val);
    } else {
        if (!l->first) put(l, " ");
        put(l, key);
        put(l, "=");
        put_text_value(l, val);
    }
    l->first = false;
}

static void field_num(line *l, const char *key, long long val) {
    if (g_format == PROXY_LOG_JSON) {
        put(l, l->first ? "{" : ",");
        put_json_string(l, key);
        putf(l, ":%lld", val);
    } else {
        if (!l->first) put(l, " ");
        putf(l, "%s=%lld", key, val);
    }
    l->first = false;
}

static void field_bool(line *l, const char *key, bool val) {
    if (g_format == PROXY_LOG_JSON) {
        put(l, l->first ? "{" : ",");
        put_json_string(l, key);
        put(l, val ? ":true" : ":false");
    } else {
        if (!l->first) put(l, " ");
        putf(l, "%s=%s", key, val ? "true" : "false");
    }
    l->first = false;
}

/* RFC 3339 UTC with milliseconds: 2026-11-23T16:44:36.123Z */
static void now_rfc3339(char *out, size_t cap) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    time_t t = ts.tv_sec;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

static void line_begin(line *l) {
    l->len = 0;
    l->buf[0] = 0;
    l->first = true;
    char ts[48];
    now_rfc3339(ts, sizeof ts);
    if (g_format == PROXY_LOG_JSON) {
        field_str(l, "time", ts);
    } else {
        put(l, ts);
        put(l, " certa-proxy");
        l->first = false;
    }
}

static void line_emit(line *l) {
    if (g_format == PROXY_LOG_JSON) put(l, l->first ? "{}" : "}");
    l->buf[l->len++] = '\n';
    size_t off = 0;
    while (off < l->len) {
        ssize_t w = write(STDERR_FILENO, l->buf + off, l->len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return;
        off += (size_t)w;
    }
}

void proxy_log_conn(const proxy_conn_record *r) {
    line l;
    line_begin(&l);
    field_str(&l, "event", "close");
    field_num(&l, "id", (long long)r->id);
    field_str(&l, "mode", r->mode);
    field_str(&l, "peer", r->peer);
    if (r->lb[0]) field_str(&l, "lb", r->lb); /* the load balancer the PROXY header came from */
    if (r->target[0]) field_str(&l, "target", r->target);
    field_str(&l, "identity", r->identity[0] ? r->identity : "-");
    if (r->identity[0]) field_bool(&l, "verified", r->identity_verified);
    field_str(&l, "version", r->version ? r->version : "-");
    field_str(&l, "suite", r->suite ? r->suite : "-");
    field_str(&l, "group", r->group ? r->group : "-");
    if (r->handshake_done) field_bool(&l, "resumed", r->resumed);
    if (r->early_data) /* 0-RTT reached the backend: the service must tolerate a replay */
        field_num(&l, "early_data", (long long)r->early_data);
    else if (r->early_rejected)
        field_str(&l, "early_data", "rejected");
    if (r->sni && r->sni[0]) { /* which certificate the client's server name got */
        field_str(&l, "sni", r->sni);
        field_str(&l, "cert", r->cert && r->cert[0] ? r->cert : "default");
    }
    if (r->ech) { /* sni is the inner (real) name when accepted; the outer is only public */
        field_str(&l, "ech", r->ech);
        if (r->public_name && r->public_name[0]) field_str(&l, "public_name", r->public_name);
    }
    if (r->ja4[0]) field_str(&l, "ja4", r->ja4);
    if (r->ja4[0] && r->log_ja3) field_str(&l, "ja3", r->ja3);
    if (r->ja4_retry[0]) field_str(&l, "ja4_retry", r->ja4_retry);
    if (r->ja4_retry[0] && r->log_ja3) field_str(&l, "ja3_retry", r->ja3_retry);
    field_num(&l, "handshake_ms", (long long)r->handshake_ms);
    field_num(&l, "duration_ms", (long long)r->duration_ms);
    field_num(&l, "bytes_in", (long long)r->bytes_in);
    field_num(&l, "bytes_out", (long long)r->bytes_out);
    field_str(&l, "reason", r->reason);
    if (r->error_name) field_str(&l, "error", r->error_name);
    if (r->detail && r->detail[0]) field_str(&l, "detail", r->detail);
    line_emit(&l);
}

void proxy_log_event(const char *event, const char *msg, ...) {
    line l;
    line_begin(&l);
    if (g_format == PROXY_LOG_JSON) {
        field_str(&l, "event", event);
        field_str(&l, "msg", msg);
    } else {
        put(&l, " ");
        put(&l, msg);
        l.first = false;
    }
    va_list ap;
    va_start(ap, msg);
    for (;;) {
        const char *k = va_arg(ap, const char *);
        if (!k) break;
        const char *v = va_arg(ap, const char *);
        field_str(&l, k, v ? v : "");
    }
    va_end(ap);
    line_emit(&l);
}

void proxy_identity_string(const certa_conn *conn, char *out, size_t cap, bool *verified) {
    out[0] = 0;
    *verified = false;
    certa_peer_identity id;
    memset(&id, 0, sizeof id);
    if (certa_conn_peer_identity(conn, &id) != CERTA_OK || !id.present) return;
    *verified = id.verified;
    if (id.spiffe_id[0]) {
        snprintf(out, cap, "%s", id.spiffe_id);
    } else if (id.dns_names[0]) {
        size_t n = strcspn(id.dns_names, ",");
        snprintf(out, cap, "dns:%.*s", (int)n, id.dns_names);
    } else if (id.subject[0]) {
        snprintf(out, cap, "%s", id.subject);
    } else {
        snprintf(out, cap, "%s", id.spki_sha256);
    }
}
