/* HTTP/1.x heads over the cursor API (see http_parse.h). */
#include "http/http_parse.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "wire/cursor.h"

/* The next line (without its CRLF); false when no CRLF is left. A bare LF
 * or CR inside a line is refused by the callers' character checks. */
static bool next_line(cursor *c, cursor *line) {
    const uint8_t *start = c->data;
    size_t n = 0;
    cursor scan = *c;
    uint8_t b, prev = 0;
    while (cur_u8(&scan, &b)) {
        if (prev == '\r' && b == '\n') {
            cur_init(line, start, n - 1);
            *c = scan;
            return true;
        }
        prev = b;
        n++;
    }
    return false;
}

/* Where the head ends: 1 found (*head_len), 0 not yet, -1 too long. */
static int head_end(const uint8_t *buf, size_t len, size_t *head_len) {
    size_t limit = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX;
    for (size_t i = 0; i + 3 < limit; i++)
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            *head_len = i + 4;
            return 1;
        }
    return len >= HTTP_HEAD_MAX ? -1 : 0;
}

static bool is_token_char(uint8_t b) {
    return b > 32 && b < 127 && !strchr("()<>@,;:\\\"/[]?={}", b);
}

/* Takes bytes up to a space (at least one, at most cap-1) into out. */
static bool take_word(cursor *line, char *out, size_t cap) {
    size_t n = 0;
    uint8_t b;
    while (cur_peek_u8(line, &b) && b != ' ') {
        if (b <= 32 || b >= 127 || n + 1 >= cap) return false;
        cur_u8(line, &b);
        out[n++] = (char)b;
    }
    out[n] = 0;
    return n > 0;
}

static bool take_literal(cursor *c, const char *lit) {
    size_t n = strlen(lit);
    const uint8_t *p;
    return cur_bytes(c, n, &p) && memcmp(p, lit, n) == 0;
}

/* "HTTP/1.0" or "HTTP/1.1". */
static bool take_version(cursor *c) {
    uint8_t minor;
    return take_literal(c, "HTTP/1.") && cur_u8(c, &minor) && (minor == '0' || minor == '1');
}

/* Is the field value exactly "chunked" (any case, trailing blanks)? */
static bool value_is_chunked(cursor *line) {
    uint8_t b;
    char v[8];
    size_t n = 0;
    while (cur_u8(line, &b) && b != ' ' && b != '\t') {
        if (n + 1 >= sizeof v) return false;
        v[n++] = (char)b;
    }
    v[n] = 0;
    while (cur_u8(line, &b))
        if (b != ' ' && b != '\t') return false;
    return !strcasecmp(v, "chunked");
}

/* Header lines up to the blank one: Content-Length (digits, at most max,
 * repeated only with the same value); Transfer-Encoding is refused unless
 * chunked is not NULL (answers), where only "chunked" alone is accepted —
 * and never together with Content-Length (RFC 9112 §6.3: a smuggling sign). */
static bool read_fields(cursor *c, size_t max, bool *has_length, size_t *length, bool *chunked) {
    cursor line;
    *has_length = false;
    *length = 0;
    if (chunked) *chunked = false;
    while (next_line(c, &line)) {
        if (cur_empty(&line)) return true;
        char name[64];
        size_t n = 0;
        uint8_t b;
        while (cur_u8(&line, &b) && b != ':') {
            if (!is_token_char(b) || n + 1 >= sizeof name) return false;
            name[n++] = (char)b;
        }
        if (b != ':' || n == 0) return false; /* also refuses folded lines */
        name[n] = 0;
        while (cur_peek_u8(&line, &b) && (b == ' ' || b == '\t'))
            cur_u8(&line, &b);
        if (!strcasecmp(name, "Transfer-Encoding")) {
            if (!chunked || *chunked || *has_length || !value_is_chunked(&line)) return false;
            *chunked = true;
            continue;
        }
        if (strcasecmp(name, "Content-Length") != 0) continue;
        if (chunked && *chunked) return false;
        size_t v = 0, digits = 0;
        while (cur_u8(&line, &b) && b >= '0' && b <= '9') {
            if (v > (max - (size_t)(b - '0')) / 10) return false; /* over max */
            v = v * 10 + (size_t)(b - '0');
            digits++;
        }
        if (digits == 0 || (b != ' ' && b != '\t' && !(b >= '0' && b <= '9'))) return false;
        if (*has_length && *length != v) return false;
        *has_length = true;
        *length = v;
    }
    return false;
}

/* The head (whole, once it is there) in *c and its first line in *line:
 * 1, or 0 / -1 as head_end says. */
static int first_line(const uint8_t *buf, size_t len, size_t *hl, cursor *c, cursor *line) {
    int e = head_end(buf, len, hl);
    if (e <= 0) return e;
    cur_init(c, buf, *hl);
    return next_line(c, line) ? 1 : -1;
}

int http_parse_request_head(const uint8_t *buf, size_t len, size_t max_body,
                            http_request_head *out) {
    memset(out, 0, sizeof *out);
    size_t hl;
    cursor c, line;
    int e = first_line(buf, len, &hl, &c, &line);
    if (e <= 0) return e;
    if (!take_word(&line, out->method, sizeof out->method) || !take_literal(&line, " ") ||
        !take_word(&line, out->path, sizeof out->path) || !take_literal(&line, " ") ||
        !take_version(&line) || !cur_empty(&line))
        return -1;
    for (const char *m = out->method; *m; m++)
        if (*m < 'A' || *m > 'Z') return -1;
    bool has;
    if (!read_fields(&c, max_body, &has, &out->content_length, NULL) || !cur_empty(&c)) return -1;
    out->head_len = hl;
    return 1;
}

int http_parse_response_head(const uint8_t *buf, size_t len, http_response_head *out) {
    memset(out, 0, sizeof *out);
    size_t hl;
    cursor c, line;
    int e = first_line(buf, len, &hl, &c, &line);
    if (e <= 0) return e;
    uint8_t d[3];
    if (!take_version(&line) || !take_literal(&line, " ") || !cur_copy(&line, d, 3)) return -1;
    for (int i = 0; i < 3; i++)
        if (d[i] < '0' || d[i] > '9') return -1;
    out->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
    uint8_t b;
    if (cur_u8(&line, &b) && b != ' ') return -1; /* the reason phrase follows a space */
    if (!read_fields(&c, SIZE_MAX, &out->has_length, &out->content_length, &out->chunked) ||
        !cur_empty(&c))
        return -1;
    out->head_len = hl;
    return 1;
}

bool http_header_value(const uint8_t *head, size_t head_len, const char *name, char *out,
                       size_t cap) {
    cursor c, line;
    cur_init(&c, head, head_len);
    if (cap == 0 || !next_line(&c, &line)) return false; /* the status or request line */
    size_t want = strlen(name);
    while (next_line(&c, &line) && !cur_empty(&line)) {
        const uint8_t *p;
        uint8_t colon;
        cursor probe = line;
        if (!cur_bytes(&probe, want, &p) || strncasecmp((const char *)p, name, want) != 0 ||
            !cur_u8(&probe, &colon) || colon != ':')
            continue;
        uint8_t b;
        while (cur_peek_u8(&probe, &b) && (b == ' ' || b == '\t'))
            cur_u8(&probe, &b);
        size_t n = 0;
        while (cur_u8(&probe, &b)) {
            if (b < 32 && b != '\t') return false;
            if (n + 1 >= cap) return false; /* too long for the caller: not taken */
            out[n++] = (char)b;
        }
        while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t'))
            n--;
        out[n] = 0;
        return true;
    }
    return false;
}

/* A chunk-size line: hex digits, an optional extension (";..."), CRLF. */
static int chunk_size_line(cursor *c, size_t *size) {
    cursor line;
    if (!next_line(c, &line)) return 0;
    size_t v = 0, digits = 0;
    uint8_t b = 0;
    bool more = false;
    while ((more = cur_u8(&line, &b))) {
        int d = (b >= '0' && b <= '9')   ? b - '0'
                : (b >= 'a' && b <= 'f') ? b - 'a' + 10
                : (b >= 'A' && b <= 'F') ? b - 'A' + 10
                                         : -1;
        if (d < 0) break;
        if (digits == 15) return -1; /* 2^60: more than any limit here */
        v = v * 16 + (size_t)d;
        digits++;
    }
    if (digits == 0 || (more && b != ';' && b != ' ' && b != '\t')) return -1;
    while (more && cur_u8(&line, &b))
        if (b < 32 && b != '\t') return -1;
    *size = v;
    return 1;
}

int http_dechunk(const uint8_t *in, size_t len, size_t max, uint8_t *out, size_t *out_len,
                 size_t *used) {
    cursor c;
    cur_init(&c, in, len);
    size_t n = 0;
    for (;;) {
        size_t size;
        int r = chunk_size_line(&c, &size);
        if (r <= 0) return r;
        if (size > max - n) return -1;
        if (size == 0) break;
        const uint8_t *p;
        if (!cur_bytes(&c, size, &p)) return 0;
        memcpy(out + n, p, size);
        n += size;
        uint8_t cr, lf;
        if (!cur_u8(&c, &cr) || !cur_u8(&c, &lf)) return 0;
        if (cr != '\r' || lf != '\n') return -1;
    }
    /* Trailer fields (ignored) up to the blank line. */
    cursor line;
    for (;;) {
        if (!next_line(&c, &line)) return 0;
        if (cur_empty(&line)) break;
        if (len - c.len > HTTP_HEAD_MAX) return -1;
    }
    *out_len = n;
    *used = len - c.len;
    return 1;
}
