/* certa scan: targets — "HOST:PORT[,SNI]" from the command line or a file
 * (one a line, '#' comments), port lists and ranges, read with the cursor
 * API (this is a parser of untrusted text: fuzz/fuzz_scan_inputs.c). */
#include "scan/scan.h"
#include "wire/cursor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TARGETS 1000000
#define MAX_RANGE 65535

static bool push(scan_targets *t, const scan_target *one) {
    if (t->count >= MAX_TARGETS) return false;
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        scan_target *n = realloc(t->items, cap * sizeof *n);
        if (!n) return false;
        t->items = n;
        t->cap = cap;
    }
    t->items[t->count++] = *one;
    return true;
}

/* A decimal number of up to 5 digits from the whole of c, in 1..65535. */
static bool port_number(cursor c, unsigned *out) {
    unsigned v = 0;
    size_t n = 0;
    uint8_t ch;
    while (cur_u8(&c, &ch)) {
        if (ch < '0' || ch > '9' || ++n > 5) return false;
        v = v * 10 + (unsigned)(ch - '0');
    }
    if (n == 0 || v == 0 || v > 65535) return false;
    *out = v;
    return true;
}

/* Splits c at the first byte sep: before goes to head, c keeps what follows
 * (the separator taken). false (c unchanged, head = all) when absent. */
static bool split_at(cursor *c, uint8_t sep, cursor *head) {
    size_t left = cur_left(c);
    cursor probe = *c;
    for (size_t i = 0; i < left; i++) {
        uint8_t ch;
        (void)cur_u8(&probe, &ch);
        if (ch == sep) {
            (void)cur_sub(c, i, head);
            (void)cur_skip(c, 1);
            return true;
        }
    }
    *head = *c;
    (void)cur_skip(c, left);
    return false;
}

static bool all_port_chars(cursor c) {
    uint8_t ch;
    if (cur_empty(&c)) return false;
    while (cur_u8(&c, &ch))
        if ((ch < '0' || ch > '9') && ch != '-') return false;
    return true;
}

static bool copy_text(cursor c, char *out, size_t cap) {
    size_t n = cur_left(&c);
    if (n == 0 || n >= cap) return false;
    const uint8_t *p;
    (void)cur_bytes(&c, n, &p);
    for (size_t i = 0; i < n; i++)
        if (p[i] <= ' ' || p[i] >= 0x7f) return false;
    memcpy(out, p, n);
    out[n] = 0;
    return true;
}

bool scan_targets_add_spec(scan_targets *t, const char *spec, size_t len, char *why, size_t cap) {
    cursor c, host;
    cur_init(&c, (const uint8_t *)spec, len);
    scan_target one;
    memset(&one, 0, sizeof one);
    uint8_t first;
    if (!cur_peek_u8(&c, &first)) {
        snprintf(why, cap, "an empty target");
        return false;
    }
    if (first == '[') {
        (void)cur_skip(&c, 1);
        if (!split_at(&c, ']', &host) || !copy_text(host, one.host, sizeof one.host)) {
            snprintf(why, cap, "'%.*s': an IPv6 address goes in brackets: [::1]:443", (int)len,
                     spec);
            return false;
        }
        uint8_t colon;
        if (!cur_u8(&c, &colon) || colon != ':') {
            snprintf(why, cap, "'%.*s': a port is needed after ']': [::1]:443", (int)len, spec);
            return false;
        }
    } else if (!split_at(&c, ':', &host) || !copy_text(host, one.host, sizeof one.host)) {
        snprintf(why, cap, "'%.*s': a target is HOST:PORT[,SNI]", (int)len, spec);
        return false;
    }
    /* The rest: comma-separated ports and ranges, then optionally an SNI. */
    unsigned ports[64][2];
    size_t nports = 0;
    while (!cur_empty(&c)) {
        cursor part;
        (void)split_at(&c, ',', &part);
        if (all_port_chars(part)) {
            cursor lo;
            cursor rest = part;
            unsigned a, b;
            bool range = split_at(&rest, '-', &lo);
            if (!port_number(lo, &a) || (range ? !port_number(rest, &b) : ((b = a), false)) ||
                b < a || nports == 64) {
                snprintf(why, cap, "'%.*s': a port is 1 to 65535, a range LOW-HIGH (64 at most)",
                         (int)len, spec);
                return false;
            }
            ports[nports][0] = a;
            ports[nports][1] = b;
            nports++;
            continue;
        }
        if (!cur_empty(&c) || !copy_text(part, one.sni, sizeof one.sni)) {
            snprintf(why, cap, "'%.*s': the server name comes last: HOST:PORT,SNI", (int)len, spec);
            return false;
        }
    }
    if (nports == 0) {
        snprintf(why, cap, "'%.*s': no port: HOST:PORT[,SNI]", (int)len, spec);
        return false;
    }
    size_t total = 0;
    for (size_t i = 0; i < nports; i++)
        total += ports[i][1] - ports[i][0] + 1;
    if (total > MAX_RANGE || t->count + total > MAX_TARGETS) {
        snprintf(why, cap, "'%.*s': too many targets", (int)len, spec);
        return false;
    }
    bool v6 = strchr(one.host, ':') != NULL;
    for (size_t i = 0; i < nports; i++)
        for (unsigned p = ports[i][0]; p <= ports[i][1]; p++) {
            snprintf(one.port, sizeof one.port, "%u", p);
            snprintf(one.spec, sizeof one.spec, "%s%s%s:%u%s%s", v6 ? "[" : "", one.host,
                     v6 ? "]" : "", p, one.sni[0] ? "," : "", one.sni);
            if (!push(t, &one)) {
                snprintf(why, cap, "out of memory");
                return false;
            }
        }
    return true;
}

bool scan_targets_parse(scan_targets *t, const uint8_t *text, size_t len, char *why, size_t cap) {
    cursor c;
    cur_init(&c, text, len);
    for (unsigned line = 1; !cur_empty(&c); line++) {
        cursor l;
        (void)split_at(&c, '\n', &l);
        /* drop a comment, then surrounding blanks */
        cursor body;
        (void)split_at(&l, '#', &body);
        size_t n = cur_left(&body);
        const uint8_t *p;
        (void)cur_bytes(&body, n, &p);
        while (n && (p[0] == ' ' || p[0] == '\t')) {
            p++;
            n--;
        }
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
            n--;
        if (!n) continue;
        char err[400];
        if (!scan_targets_add_spec(t, (const char *)p, n, err, sizeof err)) {
            snprintf(why, cap, "line %u: %s", line, err);
            return false;
        }
    }
    return true;
}

void scan_targets_free(scan_targets *t) {
    free(t->items);
    t->items = NULL;
    t->count = t->cap = 0;
}
