/* Minimal HTTP/1.1 for OCSP over plain HTTP (see http_mini.h). */
#include "http_mini.h"

#include "cli_common.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_MAX 8192

/* "http://host[:port]/path" -> host, port (default 80), path (default "/"). */
static int split_url(const char *url, char *host, size_t hcap, char *port, size_t pcap,
                     const char **path) {
    if (strncasecmp(url, "http://", 7) != 0) return -1;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t n = slash ? (size_t)(slash - h) : strlen(h);
    char hp[300];
    if (n == 0 || n >= sizeof hp) return -1;
    memcpy(hp, h, n);
    hp[n] = '\0';
    *path = slash ? slash : "/";
    return cli_split_host_port(hp, host, hcap, port, pcap, "80") ? 0 : -1;
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

static int connect_to(const char *host, const char *port, int64_t deadline, char *why, size_t cap) {
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
    int fd = connect_to(host, port, deadline, why, cap);
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
    size_t cap_in = max + HEAD_MAX;
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
        const uint8_t *end = NULL;
        for (size_t i = 0; i + 3 < got; i++)
            if (!memcmp(in + i, "\r\n\r\n", 4)) {
                end = in + i + 4;
                break;
            }
        int status = 0;
        if (!end || sscanf((const char *)in, "HTTP/1.%*d %d", &status) != 1) {
            snprintf(why, cap, "the answer is not HTTP");
        } else if (status != 200) {
            snprintf(why, cap, "HTTP %d", status);
        } else {
            size_t n = got - (size_t)(end - in);
            if (n > max) {
                snprintf(why, cap, "the answer is larger than %zu bytes", max);
            } else if ((*out = malloc(n ? n : 1)) == NULL) {
                snprintf(why, cap, "out of memory");
            } else {
                memcpy(*out, end, n);
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
    size_t cap = HEAD_MAX + max, got = 0;
    uint8_t *buf = malloc(cap + 1);
    *path = NULL;
    *body = NULL;
    *body_len = 0;
    if (!buf) return -1;
    cli_set_nonblocking(fd);
    size_t head_end = 0, need = 0;
    bool have_head = false;
    for (;;) {
        if (have_head && got >= need) break;
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
        if (!have_head) {
            for (size_t i = 0; i + 3 < got; i++)
                if (!memcmp(buf + i, "\r\n\r\n", 4)) {
                    head_end = i + 4;
                    have_head = true;
                    break;
                }
            if (!have_head) {
                if (got > HEAD_MAX) goto fail;
                continue;
            }
            buf[head_end - 1] = '\0';
            size_t clen = 0;
            for (char *l = strstr((char *)buf, "\r\n"); l; l = strstr(l + 2, "\r\n"))
                if (!strncasecmp(l + 2, "Content-Length:", 15)) {
                    long v;
                    char num[24];
                    size_t k = 0;
                    const char *p = l + 17;
                    while (*p == ' ')
                        p++;
                    while (*p >= '0' && *p <= '9' && k + 1 < sizeof num)
                        num[k++] = *p++;
                    num[k] = '\0';
                    if (!cli_parse_long(num, 0, (long)max, &v)) goto fail;
                    clen = (size_t)v;
                }
            need = head_end + clen;
        }
    }
    char m[8] = "", p[2048] = "";
    if (sscanf((char *)buf, "%7s %2047s HTTP/1.", m, p) != 2) goto fail;
    memcpy(method, m, 8);
    *path = strdup(p);
    if (!*path) goto fail;
    *body_len = need - head_end;
    *body = malloc(*body_len ? *body_len : 1);
    if (!*body) goto fail;
    memcpy(*body, buf + head_end, *body_len);
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
                      status, status == 200 ? "OK" : "Bad Request", content_type, len);
    int64_t deadline = cli_now_ms() + 5000;
    if (hn < 0 || (size_t)hn >= sizeof head) return -1;
    if (send_all(fd, (const uint8_t *)head, (size_t)hn, deadline) != 0) return -1;
    return send_all(fd, body, len, deadline);
}
