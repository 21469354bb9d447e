/* The heads of HTTP/1.x messages, for the OCSP and CRL tools' little HTTP
 * (http_mini.c): pure parsing over the cursor API, no I/O, so that it can
 * be fuzzed (fuzz/fuzz_http.c). Only what those tools and the ACME client
 * need: a request line and Content-Length; a status line and Content-Length
 * or chunked transfer coding (answers only: Go servers such as Pebble chunk
 * large bodies), and the value of a named field. Anything else — chunked
 * requests, other transfer codings, a header section over HTTP_HEAD_MAX,
 * folded or malformed lines, conflicting lengths — is refused. */
#ifndef CERTA_TOOLS_HTTP_PARSE_H
#define CERTA_TOOLS_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_HEAD_MAX 8192
#define HTTP_PATH_MAX 2048

typedef struct http_request_head {
    char method[8];
    char path[HTTP_PATH_MAX + 1];
    size_t head_len;       /* bytes up to and including the blank line */
    size_t content_length; /* 0 when absent */
} http_request_head;

typedef struct http_response_head {
    int status;
    size_t head_len;
    bool has_length; /* Content-Length given; else the body runs to the end */
    size_t content_length;
    bool chunked; /* Transfer-Encoding: chunked (never with Content-Length) */
} http_response_head;

/* buf[0..len) as the start of a request: 1 the head is complete (out set),
 * 0 more bytes are needed, -1 malformed or beyond the limits (a body over
 * max_body). */
int http_parse_request_head(const uint8_t *buf, size_t len, size_t max_body,
                            http_request_head *out);
/* The same for an answer. */
int http_parse_response_head(const uint8_t *buf, size_t len, http_response_head *out);

/* The value of the first field called name (any case) in a whole head
 * (head_len bytes from http_parse_*_head), blanks around it removed, into
 * out (NUL-terminated). false when absent or longer than cap - 1. */
bool http_header_value(const uint8_t *head, size_t head_len, const char *name, char *out,
                       size_t cap);

/* Decodes a chunked body (RFC 9112 §7.1) from in[0..len) into out, which
 * holds max bytes: 1 complete (*out_len body bytes, *used input bytes up to
 * the end of the trailer section), 0 more input is needed, -1 malformed or
 * a body over max. Chunk extensions and trailer fields are ignored. */
int http_dechunk(const uint8_t *in, size_t len, size_t max, uint8_t *out, size_t *out_len,
                 size_t *used);

#endif
