/* The little plain HTTP/1.1 the OCSP and CRL tools need (RFC 6960
 * Appendix A, RFC 5280 §4.2.1.13): a client POST or GET with a bounded
 * answer and a deadline, and a server-side
 * reader of one request. Not a general HTTP implementation: one request
 * per connection, Content-Length (or, in answers, chunked) bodies. */
#ifndef CERTA_TOOLS_HTTP_MINI_H
#define CERTA_TOOLS_HTTP_MINI_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MINI_MAX_BODY (64 * 1024) /* an OCSP response is a few KiB */

/* POSTs body to url ("http://host[:port]/path") and reads the answer's
 * body (status 200 only, at most max bytes) within timeout_ms. Returns 0
 * with *out malloc'd, or -1 with why set ("connection refused", "HTTP 404",
 * "the answer is larger than 65536 bytes", "no answer within 5 s"). */
int http_post(const char *url, const char *content_type, const uint8_t *body, size_t len,
              int timeout_ms, size_t max, uint8_t **out, size_t *out_len, char *why, size_t cap);

/* GETs url the same way (a CRL from its distribution point). */
int http_get(const char *url, int timeout_ms, size_t max, uint8_t **out, size_t *out_len, char *why,
             size_t cap);

/* "SCHEME://host[:port]/path" -> host, port (default_port if none), path
 * (default "/"); -1 for another scheme, user info, or a host that does not
 * fit. */
int http_split_url(const char *url, const char *scheme, const char *default_port, char *host,
                   size_t hcap, char *port, size_t pcap, const char **path);
/* A TCP connection to host:port (a name or an address literal) before
 * deadline (cli_now_ms clock), non-blocking. The fd, or -1 with why
 * ("cannot connect to 127.0.0.1:1: Connection refused"). */
int http_connect(const char *host, const char *port, int64_t deadline, char *why, size_t cap);

/* Server side: reads one request from fd (blocking, timeout_ms for all of
 * it): *method ("GET"/"POST"), *path (malloc'd), body (malloc'd, POST) at
 * most max bytes. 0 or -1. */
int http_read_request(int fd, int timeout_ms, size_t max, char method[8], char **path,
                      uint8_t **body, size_t *body_len);
/* Writes a whole answer with status, content type and body; 0 or -1. */
int http_write_response(int fd, int status, const char *content_type, const uint8_t *body,
                        size_t len);

#endif
