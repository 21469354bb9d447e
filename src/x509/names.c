/* Peer names and name constraints. */
#include "x509/names.h"

#include <arpa/inet.h>
#include <string.h>

static uint8_t lower(uint8_t c) {
    return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

static bool ieq(const uint8_t *a, const uint8_t *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

static bool ldh(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/* Labels of LDH, 1-63 bytes, no hyphen at either end. Counts labels. */
static bool labels_valid(const uint8_t *s, size_t n, size_t *count) {
    size_t labels = 0, start = 0;
    if (n == 0 || n > 253) return false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            size_t len = i - start;
            if (len == 0 || len > 63) return false;
            if (s[start] == '-' || s[i - 1] == '-') return false;
            labels++;
            start = i + 1;
        } else if (!ldh(s[i])) {
            return false;
        }
    }
    if (count) *count = labels;
    return true;
}

bool dns_name_valid(const uint8_t *s, size_t n, bool allow_wildcard) {
    if (s == NULL) return false;
    if (allow_wildcard && n >= 2 && s[0] == '*' && s[1] == '.') {
        size_t count;
        return labels_valid(s + 2, n - 2, &count) && count >= 2;
    }
    return labels_valid(s, n, NULL);
}

bool dns_name_match(const uint8_t *pattern, size_t pn, const char *host) {
    if (pattern == NULL || host == NULL) return false;
    size_t hn = strlen(host);
    const uint8_t *h = (const uint8_t *)host;
    if (!dns_name_valid(pattern, pn, true) || !dns_name_valid(h, hn, false)) return false;
    return dns_name_match_valid(pattern, pn, h, hn);
}

bool dns_name_match_valid(const uint8_t *pattern, size_t pn, const uint8_t *h, size_t hn) {
    if (pattern[0] == '*') {
        /* "*.rest" matches "label.rest" with exactly one whole label. */
        const uint8_t *dot = memchr(h, '.', hn);
        if (dot == NULL) return false;
        size_t off = (size_t)(dot - h);
        if (off == 0) return false;
        return hn - off == pn - 1 && ieq(h + off, pattern + 1, pn - 1);
    }
    return hn == pn && ieq(h, pattern, pn);
}

static int ipv4_parse(const char *s, uint8_t out[4]) {
    int part = 0;
    const char *p = s;
    while (part < 4) {
        if (*p < '0' || *p > '9') return 0;
        unsigned v = 0;
        int digits = 0;
        const char *start = p;
        while (*p >= '0' && *p <= '9') {
            v = v * 10 + (unsigned)(*p - '0');
            if (++digits > 3) return 0;
            p++;
        }
        if (digits > 1 && *start == '0') return 0; /* leading zeros: octal ambiguity */
        if (v > 255) return 0;
        out[part++] = (uint8_t)v;
        if (part < 4) {
            if (*p != '.') return 0;
            p++;
        }
    }
    return *p == '\0' ? 4 : 0;
}

int ip_parse(const char *s, uint8_t out[16]) {
    if (s == NULL) return 0;
    if (strchr(s, ':') == NULL) return ipv4_parse(s, out);
    if (strlen(s) > 45) return 0;
    struct in6_addr a;
    if (inet_pton(AF_INET6, s, &a) != 1) return 0;
    memcpy(out, &a, 16);
    return 16;
}

static bool td_char(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

static bool path_char(uint8_t c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

bool spiffe_id_valid(const uint8_t *s, size_t n) {
    static const char scheme[] = "spiffe://";
    size_t sl = sizeof scheme - 1;
    if (s == NULL || n <= sl || n > 2048) return false;
    if (!ieq(s, (const uint8_t *)scheme, sl)) return false;
    if (memcmp(s, scheme, sl) != 0) return false; /* the scheme is lowercase */
    size_t i = sl, td_start = i;
    while (i < n && s[i] != '/') {
        if (!td_char(s[i])) return false; /* also refuses ':' (port), '@' (userinfo), '?', '#' */
        i++;
    }
    if (i == td_start || i - td_start > 255) return false;
    if (i == n) return true; /* no path */
    /* Path: one or more "/segment". */
    while (i < n) {
        i++; /* the '/' */
        size_t seg = i;
        while (i < n && s[i] != '/') {
            if (!path_char(s[i])) return false;
            i++;
        }
        size_t len = i - seg;
        if (len == 0) return false; /* empty segment or trailing slash */
        if (len == 1 && s[seg] == '.') return false;
        if (len == 2 && s[seg] == '.' && s[seg + 1] == '.') return false;
    }
    return true;
}

bool nc_dns_constraint_valid(const uint8_t *c, size_t cn) {
    if (cn == 0) return true;
    return labels_valid(c, cn, NULL);
}

/* name is c or a subdomain of c (case-insensitive). */
static bool dns_within(const uint8_t *name, size_t n, const uint8_t *c, size_t cn) {
    if (cn == 0) return true;
    if (n == cn) return ieq(name, c, n);
    if (n > cn) return name[n - cn - 1] == '.' && ieq(name + n - cn, c, cn);
    return false;
}

bool nc_dns_permits(const uint8_t *name, size_t n, const uint8_t *c, size_t cn) {
    if (n >= 2 && name[0] == '*' && name[1] == '.') /* every l.base is inside iff base is */
        return dns_within(name + 2, n - 2, c, cn);
    return dns_within(name, n, c, cn);
}

bool nc_dns_excludes(const uint8_t *name, size_t n, const uint8_t *c, size_t cn) {
    if (n >= 2 && name[0] == '*' && name[1] == '.') {
        const uint8_t *base = name + 2;
        size_t bn = n - 2;
        if (dns_within(base, bn, c, cn)) return true;
        /* c is exactly one label below base: the wildcard can name it. */
        if (cn > bn + 1 && c[cn - bn - 1] == '.' && ieq(c + cn - bn, base, bn)) {
            const uint8_t *dot = memchr(c, '.', cn);
            return dot != NULL && (size_t)(dot - c) == cn - bn - 1;
        }
        return false;
    }
    return dns_within(name, n, c, cn);
}

bool nc_ip_constraint_valid(const uint8_t *c, size_t cn) {
    if (cn != 8 && cn != 32) return false;
    const uint8_t *mask = c + cn / 2;
    bool zero = false;
    for (size_t i = 0; i < cn / 2; i++)
        for (int b = 7; b >= 0; b--) {
            bool bit = (mask[i] >> b) & 1;
            if (bit && zero) return false; /* not a prefix (CIDR) mask */
            if (!bit) zero = true;
        }
    return true;
}

bool nc_ip_match(const uint8_t *ip, size_t n, const uint8_t *c, size_t cn) {
    if (cn != 2 * n) return false;
    for (size_t i = 0; i < n; i++)
        if ((ip[i] & c[n + i]) != (c[i] & c[n + i])) return false;
    return true;
}

bool nc_email_valid(const uint8_t *s, size_t n) {
    const uint8_t *at = memchr(s, '@', n);
    if (at == NULL || at == s) return false;
    size_t off = (size_t)(at - s) + 1;
    if (memchr(s + off, '@', n - off) != NULL) return false;
    return labels_valid(s + off, n - off, NULL);
}

bool nc_email_match(const uint8_t *email, size_t n, const uint8_t *c, size_t cn) {
    const uint8_t *at = memchr(email, '@', n);
    if (at == NULL) return false;
    size_t off = (size_t)(at - email) + 1;
    const uint8_t *host = email + off;
    size_t hn = n - off;
    if (cn == 0) return true;
    if (memchr(c, '@', cn) != NULL) { /* a mailbox: local part exact, host case-insensitive */
        const uint8_t *cat = memchr(c, '@', cn);
        size_t loc = (size_t)(cat - c);
        return loc == off - 1 && memcmp(email, c, loc) == 0 && cn - loc - 1 == hn &&
               ieq(host, cat + 1, hn);
    }
    if (c[0] == '.') /* any subdomain */
        return hn > cn && ieq(host + hn - cn, c, cn);
    return hn == cn && ieq(host, c, cn);
}

bool nc_uri_match(const uint8_t *uri, size_t n, const uint8_t *c, size_t cn) {
    /* scheme "://" [userinfo "@"] host [":" port] ["/" ...] */
    size_t i = 0;
    while (i < n && uri[i] != ':')
        i++;
    if (i + 2 >= n || uri[i + 1] != '/' || uri[i + 2] != '/') return false;
    size_t start = i + 3, end = start;
    while (end < n && uri[end] != '/' && uri[end] != '?' && uri[end] != '#')
        end++;
    const uint8_t *at = memchr(uri + start, '@', end - start);
    if (at) start = (size_t)(at - uri) + 1;
    size_t hend = start;
    while (hend < end && uri[hend] != ':')
        hend++;
    const uint8_t *host = uri + start;
    size_t hn = hend - start;
    if (hn == 0 || host[0] == '[') return false; /* no host, or an IP literal */
    if (cn == 0) return true;
    if (c[0] == '.') return hn > cn && ieq(host + hn - cn, c, cn);
    return hn == cn && ieq(host, c, cn);
}
