/* The HTTP/1.x heads of the OCSP responder and the OCSP/CRL fetchers
 * (tools/http/http_parse.c, compiled in): what a well-formed request and answer
 * give, where a head is not complete yet, and every refusal (chunked
 * requests, other transfer codings, chunked with a length, conflicting or
 * oversized lengths, bad request and status lines, folded or unterminated
 * headers, a head over HTTP_HEAD_MAX); chunked answer bodies (the ACME
 * client's) and field values. */
#include "../../tools/http/http_parse.c"
#include "testlib.h"

static int req(const char *text, size_t max, http_request_head *h) {
    return http_parse_request_head((const uint8_t *)text, strlen(text), max, h);
}

static int ans(const char *text, http_response_head *h) {
    return http_parse_response_head((const uint8_t *)text, strlen(text), h);
}

static void test_requests(void) {
    http_request_head h;
    const char *post = "POST /ocsp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12\r\n\r\nbody";
    CHECK(req(post, 65536, &h) == 1 && !strcmp(h.method, "POST") && !strcmp(h.path, "/ocsp") &&
              h.content_length == 12 && h.head_len == strlen(post) - 4,
          "POST: method, path, Content-Length, head length");
    CHECK(req("GET /MEUw%2B HTTP/1.0\r\n\r\n", 0, &h) == 1 && !strcmp(h.method, "GET") &&
              !strcmp(h.path, "/MEUw%2B") && h.content_length == 0,
          "GET without a body, HTTP/1.0");
    CHECK(req("POST / HTTP/1.1\r\ncontent-length:   7  \r\n\r\n", 10, &h) == 1 &&
              h.content_length == 7,
          "field names are case-insensitive; spaces around the value");
    CHECK(req("POST / HTTP/1.1\r\nContent-Length: 4\r\n", 10, &h) == 0,
          "no blank line yet: incomplete, not malformed");
    CHECK(req("POS", 10, &h) == 0, "a few bytes: incomplete");
    CHECK(req("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 10, &h) == -1,
          "a body over the limit is refused");
    CHECK(req("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 10, &h) == -1,
          "a length that overflows is refused");
    CHECK(req("POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 10, &h) == -1,
          "two different Content-Lengths are refused");
    CHECK(req("POST / HTTP/1.1\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\n", 10, &h) == 1,
          "the same Content-Length twice is accepted");
    CHECK(req("POST / HTTP/1.1\r\nContent-Length: 4x\r\n\r\n", 10, &h) == -1,
          "junk after the length digits is refused");
    CHECK(req("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 10, &h) == -1,
          "chunked transfer coding is refused");
    CHECK(req("POST / HTTP/2.0\r\n\r\n", 10, &h) == -1, "HTTP/2.0 on the request line: refused");
    CHECK(req("post / HTTP/1.1\r\n\r\n", 10, &h) == -1, "a lowercase method is refused");
    CHECK(req("POST  / HTTP/1.1\r\n\r\n", 10, &h) == -1, "two spaces are refused");
    CHECK(req("POST / HTTP/1.1 extra\r\n\r\n", 10, &h) == -1, "trailing words are refused");
    CHECK(req("POST / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 10, &h) == -1,
          "a folded header line is refused");
    CHECK(req("POST / HTTP/1.1\r\nNoColon\r\n\r\n", 10, &h) == -1, "a field without ':'");
    CHECK(req("LONGMETHOD / HTTP/1.1\r\n\r\n", 10, &h) == -1, "a method over 7 letters");
    char *big = malloc(HTTP_HEAD_MAX + 64);
    if (big) {
        memset(big, 'a', HTTP_HEAD_MAX + 63);
        memcpy(big, "GET /", 5);
        big[HTTP_HEAD_MAX + 63] = 0;
        CHECK(req(big, 10, &h) == -1, "no end of head within %d bytes: refused", HTTP_HEAD_MAX);
        free(big);
    }
}

static void test_answers(void) {
    http_response_head h;
    const char *ok = "HTTP/1.1 200 OK\r\nContent-Type: application/ocsp-response\r\n"
                     "Content-Length: 3\r\n\r\nabc";
    CHECK(ans(ok, &h) == 1 && h.status == 200 && h.has_length && h.content_length == 3 &&
              h.head_len == strlen(ok) - 3,
          "200 with Content-Length");
    CHECK(ans("HTTP/1.0 404 Not Found\r\n\r\n", &h) == 1 && h.status == 404 && !h.has_length,
          "404 without a length: the body runs to the end");
    CHECK(ans("HTTP/1.1 200\r\n\r\n", &h) == 1 && h.status == 200, "no reason phrase");
    CHECK(ans("HTTP/1.1 20\r\n\r\n", &h) == -1, "a two-digit status is refused");
    CHECK(ans("HTTP/1.1 2000 OK\r\n\r\n", &h) == -1, "a four-digit status is refused");
    CHECK(ans("HTTP/1.1111111111111\r\n\r\n", &h) == -1, "digits instead of a status line");
    CHECK(ans("ICY 200 OK\r\n\r\n", &h) == -1, "not HTTP");
    CHECK(ans("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &h) == 1 && h.chunked &&
              !h.has_length,
          "a chunked answer is taken (and says so)");
    CHECK(ans("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", &h) == -1,
          "another transfer coding is refused");
    CHECK(ans("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", &h) ==
              -1,
          "chunked and Content-Length together are refused (smuggling)");
    CHECK(ans("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &h) ==
              -1,
          "... in either order");
    CHECK(ans("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n",
              &h) == -1,
          "Transfer-Encoding twice is refused");
    CHECK(ans("HTTP/1.1 200 OK\r\n", &h) == 0, "an answer head not complete yet");
}

static int dechunk(const char *text, size_t max, char *out, size_t *n, size_t *used) {
    return http_dechunk((const uint8_t *)text, strlen(text), max, (uint8_t *)out, n, used);
}

static void test_chunked(void) {
    char out[64];
    size_t n, used;
    const char *body = "4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\nNEXT";
    CHECK(dechunk(body, sizeof out, out, &n, &used) == 1 && n == 24 &&
              !memcmp(out, "Wikipedia in \r\n\r\nchunks.", 24) && used == strlen(body) - 4,
          "chunked: sizes in hex, an extension ignored, the end found before what follows");
    CHECK(dechunk("4\r\nWi", sizeof out, out, &n, &used) == 0,
          "chunked: a chunk cut short: more needed");
    CHECK(dechunk("4\r\nWiki\r\n0\r\n", sizeof out, out, &n, &used) == 0,
          "chunked: no blank line after the last chunk yet: more needed");
    CHECK(dechunk("4\r\nWiki\r\n0\r\nX-T: 1\r\n\r\n", sizeof out, out, &n, &used) == 1 && n == 4,
          "chunked: a trailer field is skipped");
    CHECK(dechunk("4\r\nWikiXX0\r\n\r\n", sizeof out, out, &n, &used) == -1,
          "chunked: data longer than its size is refused");
    CHECK(dechunk("zz\r\n", sizeof out, out, &n, &used) == -1, "chunked: a size that is not hex");
    CHECK(dechunk("41\r\n", sizeof out, out, &n, &used) == -1,
          "chunked: a chunk beyond the limit is refused before its data comes");
    CHECK(dechunk("ffffffffffffffffff\r\n", sizeof out, out, &n, &used) == -1,
          "chunked: a size that overflows is refused");
    CHECK(dechunk("-1\r\n", sizeof out, out, &n, &used) == -1, "chunked: a negative size");
}

static void test_header_values(void) {
    const char *head =
        "HTTP/1.1 201 Created\r\nreplay-nonce:  abc_-1 \r\nLocation: https://ca/o/1\r\n"
        "Retry-After: 3\r\n\r\n";
    char v[32];
    size_t hl = strlen(head);
    CHECK(http_header_value((const uint8_t *)head, hl, "Replay-Nonce", v, sizeof v) &&
              !strcmp(v, "abc_-1"),
          "a field's value, any case, blanks trimmed");
    CHECK(http_header_value((const uint8_t *)head, hl, "Location", v, sizeof v) &&
              !strcmp(v, "https://ca/o/1"),
          "Location");
    CHECK(!http_header_value((const uint8_t *)head, hl, "Link", v, sizeof v), "an absent field");
    CHECK(!http_header_value((const uint8_t *)head, hl, "Location", v, 8),
          "a value longer than the buffer is not taken");
    CHECK(!http_header_value((const uint8_t *)head, hl, "Replay", v, sizeof v),
          "a prefix of a field name is not that field");
}

int main(void) {
    test_requests();
    test_answers();
    test_chunked();
    test_header_values();
    TEST_EXIT();
}
