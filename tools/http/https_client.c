/* HTTPS/1.1 over libcerta (see https_client.h). */
#include "http/https_client.h"

#include "common/cli_common.h"
#include "http/http_mini.h"
#include "http/http_parse.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

int https_split_url(const char *url, char *host, size_t hcap, char *port, size_t pcap,
                    const char **path) {
    return http_split_url(url, "https", "443", host, hcap, port, pcap, path);
}

int https_client_init(https_client *c, const char *ca_bundle, int timeout_ms, size_t max_body,
                      char *why, size_t cap) {
    memset(c, 0, sizeof *c);
    c->timeout_ms = timeout_ms;
    c->max_body = max_body;
    c->cfg = certa_config_new();
    if (!c->cfg) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    /* ACME servers are public web servers: allow 1.2 as well as 1.3. */
    certa_config_set_versions(c->cfg, CERTA_TLS12, CERTA_TLS13);
    if (ca_bundle) {
        c->trust = certa_trust_new();
        int r = c->trust ? certa_trust_load(c->trust, ca_bundle) : CERTA_E_NOMEM;
        if (r != CERTA_OK) {
            const char *t = c->trust ? certa_trust_error_text(c->trust) : "";
            snprintf(why, cap, "--ca-bundle %s: %s (%s)", ca_bundle, *t ? t : certa_error_text(r),
                     certa_error_name(r));
            https_client_free(c);
            return -1;
        }
        certa_config_set_trust(c->cfg, c->trust);
    }
    return 0;
}

void https_client_free(https_client *c) {
    certa_config_free(c->cfg);
    certa_trust_free(c->trust);
    c->cfg = NULL;
    c->trust = NULL;
}

void http_answer_free(http_answer *a) {
    free(a->head);
    free(a->body);
    memset(a, 0, sizeof *a);
}

static int wait_io(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - cli_now_ms();
        if (left <= 0) return -1;
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return -1;
    }
}

/* Sends what the engine has queued before the deadline. */
static int flush_out(certa_conn *conn, int fd, int64_t deadline) {
    const uint8_t *p;
    size_t n;
    while ((n = certa_conn_outgoing(conn, &p)) > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            certa_conn_outgoing_done(conn, (size_t)w);
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_io(fd, POLLOUT, deadline) != 0) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Where the body of what arrived so far ends: 1 complete (body set), 0 not
 * yet, -1 malformed / over the limit (why set). at_eof: the peer closed. */
static int answer_complete(const uint8_t *in, size_t got, size_t max, bool at_eof, http_answer *out,
                           char *why, size_t cap) {
    http_response_head h;
    int hr = http_parse_response_head(in, got, &h);
    if (hr < 0) {
        snprintf(why, cap, "the answer is not well-formed HTTP/1.x");
        return -1;
    }
    if (hr == 0) {
        if (at_eof) snprintf(why, cap, "the server closed before a complete answer head");
        return at_eof ? -1 : 0;
    }
    size_t avail = got - h.head_len;
    const uint8_t *b = in + h.head_len;
    uint8_t *body = NULL;
    size_t blen = 0;
    if (h.chunked) {
        body = malloc(max ? max : 1);
        if (!body) return -1;
        size_t used;
        int dr = http_dechunk(b, avail, max, body, &blen, &used);
        if (dr <= 0) {
            free(body);
            if (dr < 0)
                snprintf(why, cap, "the chunked answer is malformed or over %zu bytes", max);
            if (dr == 0 && at_eof) snprintf(why, cap, "the server closed in the middle of a chunk");
            return dr < 0 || at_eof ? -1 : 0;
        }
    } else {
        if (h.has_length) {
            if (h.content_length > max) {
                snprintf(why, cap, "the answer is larger than %zu bytes", max);
                return -1;
            }
            if (avail < h.content_length) {
                if (at_eof)
                    snprintf(why, cap, "the answer ended after %zu of its %zu bytes", avail,
                             h.content_length);
                return at_eof ? -1 : 0;
            }
            blen = h.content_length;
        } else {
            if (!at_eof) return 0;
            blen = avail;
        }
        body = malloc(blen + 1);
        if (!body) return -1;
        memcpy(body, b, blen);
    }
    out->status = h.status;
    out->head = malloc(h.head_len);
    if (!out->head) {
        free(body);
        return -1;
    }
    memcpy(out->head, in, h.head_len);
    out->head_len = h.head_len;
    out->body = body;
    out->body_len = blen;
    return 1;
}

/* The handshake, the request and the answer on a connected socket. */
static int exchange(certa_conn *conn, int fd, const uint8_t *req, size_t req_len,
                    const uint8_t *body, size_t len, size_t max, bool head_only, int64_t deadline,
                    http_answer *out, const char *host, char *why, size_t cap) {
    int left = (int)(deadline - cli_now_ms());
    int r = certa_fd_handshake(conn, fd, left > 0 ? left : 1);
    if (r != CERTA_OK) {
        if (certa_conn_failed(conn))
            snprintf(why, cap, "TLS handshake with %s failed: %s (%s)", host,
                     certa_conn_error_text(conn), certa_error_name(certa_conn_error(conn)));
        else if (r == CERTA_E_TIMEOUT)
            snprintf(why, cap, "TLS handshake with %s: no answer within %d s", host,
                     (int)((deadline - cli_now_ms() + 999) / 1000));
        else
            snprintf(why, cap, "TLS handshake with %s failed: %s (%s)", host, certa_error_text(r),
                     certa_error_name(r));
        return -1;
    }
    /* Head and body in one write: one record, one segment (two small
     * segments meet Nagle and delayed ACK: 40 ms per request). */
    uint8_t *whole = malloc(req_len + len + 1);
    bool sent = whole != NULL;
    if (sent) {
        memcpy(whole, req, req_len);
        if (len) memcpy(whole + req_len, body, len);
        sent = certa_conn_write(conn, whole, req_len + len) == CERTA_OK &&
               flush_out(conn, fd, deadline) == 0;
        free(whole);
    }
    if (!sent) {
        snprintf(why, cap, "cannot send the request to %s", host);
        return -1;
    }
    size_t cap_in = max + HTTP_HEAD_MAX + 4096, got = 0; /* chunk framing on top of max */
    uint8_t *in = malloc(cap_in);
    uint8_t raw[16384 + 512];
    if (!in) return -1;
    int done = 0;
    bool eof = false;
    while (!done) {
        ssize_t n = recv(fd, raw, sizeof raw, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_io(fd, POLLIN, deadline) != 0) {
                snprintf(why, cap, "%s sent no complete answer in time", host);
                done = -1;
            }
            continue;
        }
        if (n < 0) {
            snprintf(why, cap, "reading from %s: %s", host, strerror(errno));
            done = -1;
            break;
        }
        if (n == 0) {
            certa_conn_recv_eof(conn);
            eof = true;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            size_t used = 0, before = got;
            if (certa_conn_recv(conn, raw + off, (size_t)n - off, &used) != CERTA_OK) {
                snprintf(why, cap, "the TLS connection to %s failed: %s", host,
                         certa_conn_error_text(conn));
                done = -1;
                break;
            }
            off += used;
            for (size_t k; (k = certa_conn_read(conn, in + got, cap_in - got)) > 0;) {
                got += k;
                if (got == cap_in) {
                    snprintf(why, cap, "the answer is larger than %zu bytes", max);
                    done = -1;
                    break;
                }
            }
            if (done) break;
            if (used == 0 && got == before) { /* no progress: the engine is stuck */
                snprintf(why, cap, "the TLS connection to %s stalled", host);
                done = -1;
                break;
            }
        }
        if (done) break;
        if (certa_conn_peer_closed(conn)) eof = true;
        flush_out(conn, fd, deadline); /* e.g. a KeyUpdate answer */
        if (head_only) {
            http_response_head h;
            int hr = http_parse_response_head(in, got, &h);
            if (hr == 1) { /* HEAD: no body whatever the length says */
                out->status = h.status;
                out->head = malloc(h.head_len);
                if (out->head) memcpy(out->head, in, h.head_len);
                out->head_len = out->head ? h.head_len : 0;
                done = out->head ? 1 : -1;
            } else if (hr < 0 || eof) {
                snprintf(why, cap, "no well-formed answer head from %s", host);
                done = -1;
            }
            continue;
        }
        done = answer_complete(in, got, max, eof, out, why, cap);
    }
    memset(raw, 0, sizeof raw);
    free(in);
    if (done == 1) {
        certa_conn_close(conn);
        flush_out(conn, fd, cli_now_ms() + 200);
    }
    return done == 1 ? 0 : -1;
}

int https_request(const https_client *c, const char *method, const char *url,
                  const char *content_type, const uint8_t *body, size_t len, const char *accept,
                  http_answer *out, char *why, size_t cap) {
    memset(out, 0, sizeof *out);
    char host[256], port[16];
    const char *path;
    if (https_split_url(url, host, sizeof host, port, sizeof port, &path) != 0) {
        snprintf(why, cap, "'%s' is not an https:// URL", url);
        return -1;
    }
    for (const char *p = path; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) { /* nothing may end the request line */
            snprintf(why, cap, "the URL has a space or control character in its path");
            return -1;
        }
    int64_t deadline = cli_now_ms() + c->timeout_ms;
    int fd = http_connect(host, port, deadline, why, cap);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* request/answer turns */
    char head[2048], entity[160] = "", acc[128] = "";
    if (body)
        snprintf(entity, sizeof entity, "Content-Type: %s\r\nContent-Length: %zu\r\n", content_type,
                 len);
    if (accept) snprintf(acc, sizeof acc, "Accept: %s\r\n", accept);
    bool v6 = strchr(host, ':') != NULL, dflt = !strcmp(port, "443");
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\n%s%s"
                      "Connection: close\r\nUser-Agent: certa/" CERTA_VERSION "\r\n\r\n",
                      method, path, v6 ? "[" : "", host, v6 ? "]" : "", dflt ? "" : ":",
                      dflt ? "" : port, entity, acc);
    int r = -1;
    if (hn < 0 || (size_t)hn >= sizeof head) {
        snprintf(why, cap, "the URL is too long");
    } else {
        certa_conn *conn = certa_client_new(c->cfg, host);
        if (!conn) {
            snprintf(why, cap, "out of memory");
        } else {
            r = exchange(conn, fd, (const uint8_t *)head, (size_t)hn, body, body ? len : 0,
                         c->max_body, !strcmp(method, "HEAD"), deadline, out, host, why, cap);
            certa_conn_free(conn);
        }
    }
    close(fd);
    if (r != 0) http_answer_free(out);
    return r;
}
