/* HTTPS/1.1 over libcerta for the ACME client (and whatever else needs a
 * server's answer over TLS): one request per connection, the server's
 * certificate validated for the URL's host (system trust, or a bundle), a
 * deadline on every step and a bounded answer (Content-Length, chunked, or
 * to the end of the connection). The sans-I/O engine is driven over a
 * non-blocking socket, as certa connect does. */
#ifndef CERTA_TOOLS_HTTPS_CLIENT_H
#define CERTA_TOOLS_HTTPS_CLIENT_H

#include "certa.h"

#include <stddef.h>
#include <stdint.h>

typedef struct https_client {
    certa_config *cfg;  /* TLS 1.3 and 1.2, peer verification on */
    certa_trust *trust; /* --ca-bundle, or NULL for the system bundle */
    int timeout_ms;     /* for each request: connect, handshake, send, answer */
    size_t max_body;    /* answers beyond this are refused */
} https_client;

typedef struct http_answer {
    int status;
    uint8_t *head; /* the whole head, for http_header_value */
    size_t head_len;
    uint8_t *body;
    size_t body_len;
} http_answer;

/* ca_bundle NULL: the system bundle. 0, or -1 with why. */
int https_client_init(https_client *c, const char *ca_bundle, int timeout_ms, size_t max_body,
                      char *why, size_t cap);
void https_client_free(https_client *c);

/* method "GET", "HEAD" or "POST" (body with content_type); accept may be
 * NULL. Any status is an answer (0 with out filled); -1 with why when no
 * answer came ("cannot connect to ...", "the server's certificate ...:
 * handshake failed", "no answer within 10 s", "the answer is larger than
 * ..."). */
int https_request(const https_client *c, const char *method, const char *url,
                  const char *content_type, const uint8_t *body, size_t len, const char *accept,
                  http_answer *out, char *why, size_t cap);
void http_answer_free(http_answer *a);

/* Splits "https://host[:port]/path" (host may be [v6]); false if not https. */
int https_split_url(const char *url, char *host, size_t hcap, char *port, size_t pcap,
                    const char **path);

#endif
