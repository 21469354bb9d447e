/* libFuzzer target: the HTTP/1.x heads the OCSP responder (certa ca ocsp)
 * reads from any client and the OCSP/CRL fetchers and the ACME client read
 * from any server (tools/http/http_parse.c, compiled in). Each input is
 * parsed as a request and as an answer, whole and cut at every length a
 * reader would see first; the answer's fields are looked up and its body
 * decoded as chunked; what a parser reports must lie inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/http/http_parse.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A copy of exactly size bytes: reading past it is caught by ASan. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    size_t cuts[] = {size, size / 2, size > 4 ? size - 4 : 0};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        http_request_head q;
        if (http_parse_request_head(buf, cuts[k], 65536, &q) == 1) {
            if (q.head_len > cuts[k] || q.content_length > 65536 || !q.method[0] || !q.path[0])
                abort();
        }
        http_response_head a;
        if (http_parse_response_head(buf, cuts[k], &a) == 1) {
            if (a.head_len > cuts[k] || a.status < 0 || a.status > 999) abort();
            char v[64];
            if (http_header_value(buf, a.head_len, "Replay-Nonce", v, sizeof v) && strlen(v) >= 64)
                abort();
        }
        /* The whole input as a chunked body, into a buffer of exactly max. */
        size_t max = 256, n = 0, used = 0;
        uint8_t *out = malloc(max);
        if (out && http_dechunk(buf, cuts[k], max, out, &n, &used) == 1 &&
            (n > max || used > cuts[k]))
            abort();
        free(out);
    }
    free(buf);
    return 0;
}
