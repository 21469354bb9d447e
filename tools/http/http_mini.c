/* Minimal HTTP/1.1 for OCSP over plain HTTP (see http_mini.h). */
#include "http/http_mini.h"

#include "common/cli_common.h"
#include "http/http_parse.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int http_split_url(const char *url, const char *scheme, const char *default_port, char *host,
                   size_t hcap, char *port, size_t pcap, const char **path) {
    size_t scheme_len = strlen(scheme);
    if (strncasecmp(url, scheme, scheme_len) != 0 || strncmp(url + scheme_len, "://", 3) != 0)
        return -1;
    const char *h = url + scheme_len + 3, *slash = strchr(h, '/');
    size_t n = slash ? (size_t)(slash - h) : strlen(h);
    char hp[300];
    if (n == 0 || n >= sizeof hp) return -1;
    memcpy(hp, h, n);
    hp[n] = '\0';
    /* No user info, query or fragment before the path: not a host. */
    if (strchr(hp, '@') || strchr(hp, '?') || strchr(hp, '#')) return -1;
    *path = slash ? slash : "/";
    return cli_split_host_port(hp, host, hcap, port, pcap, default_port) ? 0 : -1;
}

static int split_url(const char *url, char *host, size_t hcap, char *port, size_t pcap,
                     const char **path) {
    return http_split_url(url, "http", "80", host, hcap, port, pcap, path);
}

/* Waits for fd to be ready until deadline (ms, cli_now_ms clock). */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - cli_now_ms();
        if (left <= 0) return -1;
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int r = poll(&p, 1, (int)left);
        if (r > 0) return 0;
        if (r < 0 && errno != EINTR) return -1;
    }
}

int http_connect(const char *host, const char *port, int64_t deadline, char *why, size_t cap) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    int e = getaddrinfo(host, port, &hints, &res);
    if (e) {
        snprintf(why, cap, "cannot resolve '%s': %s", host, gai_strerror(e));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        cli_set_nonblocking(fd);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        int err = errno, soerr = 0;
        socklen_t sl = sizeof soerr;
        if (err == EINPROGRESS && wait_fd(fd, POLLOUT, deadline) == 0 &&
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
            break;
        snprintf(why, cap, "cannot connect to %s:%s: %s", host, port,
                 err == EINPROGRESS ? (soerr ? strerror(soerr) : "timed out") : strerror(err));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static int send_all(int fd, const uint8_t *p, size_t n, int64_t deadline) {
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (wait_fd(fd, POLLOUT, deadline) != 0) return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Reads until EOF or limit; -1 on timeout/error, -2 over limit. */
static int recv_all(int fd, uint8_t *buf, size_t cap, size_t *len, int64_t deadline) {
    *len = 0;
    for (;;) {
        if (*len == cap) return -2;
        ssize_t r = recv(fd, buf + *len, cap - *len, 0);
        if (r > 0) {
            *len += (size_t)r;
        } else if (r == 0) {
            return 0;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (wait_fd(fd, POLLIN, deadline) != 0) return -1;
        } else {
            return -1;
        }
    }
}

/* One request (POST with a body, or GET without) and its answer's body. */
static int http_exchange(const char *method, const char *url, const char *content_type,
                         const uint8_t *body, size_t len, int timeout_ms, size_t max, uint8_t **out,
                         size_t *out_len, char *why, size_t cap) {
    char host[256], port[16];
    const char *path;
    *out = NULL;
    if (split_url(url, host, sizeof host, port, sizeof port, &path) != 0) {
        snprintf(why, cap, "'%s' is not an http:// URL", url);
        return -1;
    }
    int64_t deadline = cli_now_ms() + timeout_ms;
    int fd = http_connect(host, port, deadline, why, cap);
    if (fd < 0) return -1;
    char head[1536], entity[128] = "";
    if (body)
        snprintf(entity, sizeof entity, "Content-Type: %s\r\nContent-Length: %zu\r\n", content_type,
                 len);
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: %s%s%s\r\n%s"
                      "Connection: close\r\nUser-Agent: certa\r\n\r\n",
                      method, path, host, strcmp(port, "80") ? ":" : "",
                      strcmp(port, "80") ? port : "", entity);
    size_t cap_in = max + HTTP_HEAD_MAX;
    uint8_t *in = malloc(cap_in);
    size_t got = 0;
    int r = -1;
    if (!in) {
        snprintf(why, cap, "out of memory");
    } else if (hn < 0 || (size_t)hn >= sizeof head ||
               send_all(fd, (const uint8_t *)head, (size_t)hn, deadline) != 0 ||
               (body && send_all(fd, body, len, deadline) != 0)) {
        snprintf(why, cap, "cannot send the request to %s:%s", host, port);
    } else if ((r = recv_all(fd, in, cap_in, &got, deadline)) != 0) {
        if (r == -2)
            snprintf(why, cap, "the answer is larger than %zu bytes", max);
        else
            snprintf(why, cap, "no complete answer within %d s", timeout_ms / 1000);
        r = -1;
    } else {
        r = -1;
        http_response_head h;
        int hr = http_parse_response_head(in, got, &h);
        size_t n = hr == 1 ? got - h.head_len : 0;
        if (hr != 1) {
            snprintf(why, cap, "the answer is not HTTP/1.x");
        } else if (h.status != 200) {
            snprintf(why, cap, "HTTP %d", h.status);
        } else if (h.chunked) {
            size_t used;
            uint8_t *dec = malloc(max ? max : 1);
            int dr = dec ? http_dechunk(in + h.head_len, n, max, dec, &n, &used) : -1;
            if (dr != 1) {
                snprintf(why, cap, "the chunked answer is %s",
                         dr == 0 ? "incomplete" : "malformed or over the limit");
                free(dec);
            } else {
                *out = dec;
                *out_len = n;
                r = 0;
            }
        } else if (h.has_length && h.content_length > n) {
            snprintf(why, cap, "the answer ended after %zu of its %zu bytes", n, h.content_length);
        } else {
            if (h.has_length) n = h.content_length; /* anything after it is not the body */
            if (n > max) {
                snprintf(why, cap, "the answer is larger than %zu bytes", max);
            } else if ((*out = malloc(n ? n : 1)) == NULL) {
                snprintf(why, cap, "out of memory");
            } else {
                memcpy(*out, in + h.head_len, n);
                *out_len = n;
                r = 0;
            }
        }
    }
    free(in);
    close(fd);
    return r;
}

int http_post(const char *url, const char *content_type, const uint8_t *body, size_t len,
              int timeout_ms, size_t max, uint8_t **out, size_t *out_len, char *why, size_t cap) {
    return http_exchange("POST", url, content_type, body ? body : (const uint8_t *)"", len,
                         timeout_ms, max, out, out_len, why, cap);
}

int http_get(const char *url, int timeout_ms, size_t max, uint8_t **out, size_t *out_len, char *why,
             size_t cap) {
    return http_exchange("GET", url, NULL, NULL, 0, timeout_ms, max, out, out_len, why, cap);
}

int http_read_request(int fd, int timeout_ms, size_t max, char method[8], char **path,
                      uint8_t **body, size_t *body_len) {
    int64_t deadline = cli_now_ms() + timeout_ms;
    size_t cap = HTTP_HEAD_MAX + max, got = 0;
    uint8_t *buf = malloc(cap);
    *path = NULL;
    *body = NULL;
    *body_len = 0;
    if (!buf) return -1;
    cli_set_nonblocking(fd);
    http_request_head h;
    int hr = 0;
    for (;;) {
        if (hr == 1 && got >= h.head_len + h.content_length) break;
        if (got == cap) goto fail;
        ssize_t r = recv(fd, buf + got, cap - got, 0);
        if (r > 0) {
            got += (size_t)r;
        } else if (r == 0) {
            goto fail;
        } else if (errno == EAGAIN || errno == EINTR) {
            if (wait_fd(fd, POLLIN, deadline) != 0) goto fail;
            continue;
        } else {
            goto fail;
        }
        if (hr == 0 && (hr = http_parse_request_head(buf, got, max, &h)) < 0) goto fail;
    }
    memcpy(method, h.method, 8);
    *path = strdup(h.path);
    if (!*path) goto fail;
    *body_len = h.content_length;
    *body = malloc(*body_len ? *body_len : 1);
    if (!*body) goto fail;
    memcpy(*body, buf + h.head_len, *body_len);
    free(buf);
    return 0;
fail:
    free(buf);
    free(*path);
    *path = NULL;
    return -1;
}

int http_write_response(int fd, int status, const char *content_type, const uint8_t *body,
                        size_t len) {
    char head[256];
    int hn = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      status,
                      status == 200   ? "OK"
                      : status == 404 ? "Not Found"
                                      : "Bad Request",
                      content_type, len);
    int64_t deadline = cli_now_ms() + 5000;
    if (hn < 0 || (size_t)hn >= sizeof head) return -1;
    if (send_all(fd, (const uint8_t *)head, (size_t)hn, deadline) != 0) return -1;
    return send_all(fd, body, len, deadline);
}
