/* certa proxy --deny-ja4 / --allow-ja4 LIST: which clients to refuse by the
 * JA4 fingerprint of their ClientHello. LIST is comma-separated values
 * and/or @FILE (one or more per line, '#' starts a comment); each value is
 * a whole JA4 ("t13d1516h2_8daaf6152771_02713d6af862") or its first part
 * alone (JA4_a, "t13d1516h2": protocol, version, SNI, counts and ALPN),
 * which matches every JA4 that begins with it. Checked when the proxy
 * starts; matched with a binary search per ClientHello. */
#include "proxy/proxy.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JA4_A_LEN 10
#define JA4_LEN 36 /* JA4_a, '_', 12 hex, '_', 12 hex */

/* Why s (n bytes) is not a JA4 or JA4_a, or NULL if it is one; a valid
 * value is copied to out in lower case (hex digits) or as it is. */
static const char *ja4_check(const char *s, size_t n, char out[JA4_LEN + 1]) {
    if (n != JA4_A_LEN && n != JA4_LEN)
        return "a JA4 has 36 characters (t13d1516h2_8daaf6152771_02713d6af862), its first "
               "part 10 (t13d1516h2)";
    if (s[0] != 't' && s[0] != 'q' && s[0] != 'd')
        return "it must begin with t (TCP), q (QUIC) or d (DTLS)";
    if (!isalnum((unsigned char)s[1]) || !isalnum((unsigned char)s[2]))
        return "characters 2-3 are the TLS version (13, 12, ...)";
    if (s[3] != 'd' && s[3] != 'i') return "character 4 is d (SNI sent) or i (no SNI)";
    for (int k = 4; k < 8; k++)
        if (!isdigit((unsigned char)s[k]))
            return "characters 5-8 are two two-digit counts (cipher suites, extensions)";
    if (!isalnum((unsigned char)s[8]) || !isalnum((unsigned char)s[9]))
        return "characters 9-10 are the ALPN code (h2, h1, 00 ...)";
    for (size_t k = 0; k < n; k++) {
        char ch = s[k];
        if (k >= JA4_A_LEN) {
            if (k == 10 || k == 23) {
                if (ch != '_') return "the three parts are separated by '_'";
            } else if (!isxdigit((unsigned char)ch)) {
                return "the second and third parts are 12 hexadecimal digits each";
            } else {
                ch = (char)tolower((unsigned char)ch);
            }
        }
        out[k] = ch;
    }
    out[n] = 0;
    return NULL;
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp((const char *)a, (const char *)b);
}

/* One value (trimmed of blanks) into the list; false with why. */
static bool add_value(proxy_ja4_list *l, const char *s, size_t n, const char *option,
                      const char *where, char *why, size_t cap) {
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0) return true; /* "a,,b" or a blank line */
    char v[JA4_LEN + 1];
    const char *bad = ja4_check(s, n, v);
    if (bad) {
        snprintf(why, cap, "%s%s: '%.*s' is not a JA4 fingerprint: %s", option, where,
                 (int)(n > 60 ? 60 : n), s, bad);
        return false;
    }
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        void *np = realloc(l->entries, ncap * sizeof l->entries[0]);
        if (!np) {
            snprintf(why, cap, "%s: out of memory", option);
            return false;
        }
        l->entries = np;
        l->cap = ncap;
    }
    memcpy(l->entries[l->count++], v, sizeof v);
    return true;
}

static bool add_csv(proxy_ja4_list *l, const char *s, size_t n, const char *option,
                    const char *where, char *why, size_t cap) {
    while (n > 0) {
        const char *comma = memchr(s, ',', n);
        size_t part = comma ? (size_t)(comma - s) : n;
        if (!add_value(l, s, part, option, where, why, cap)) return false;
        if (!comma) break;
        s += part + 1;
        n -= part + 1;
    }
    return true;
}

static bool add_file(proxy_ja4_list *l, const char *path, const char *option, char *why,
                     size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(why, cap, "%s @%s: cannot read the file: %s", option, path, strerror(errno));
        return false;
    }
    char line[4096];
    unsigned lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strcspn(line, "#\r\n");
        char where[600];
        snprintf(where, sizeof where, " (%s line %u)", path, lineno);
        ok = add_csv(l, line, n, option, where, why, cap);
    }
    fclose(f);
    return ok;
}

bool proxy_ja4_list_add(proxy_ja4_list *l, const char *arg, const char *option, char *why,
                        size_t cap) {
    bool ok;
    if (arg[0] == '@')
        ok = add_file(l, arg + 1, option, why, cap);
    else
        ok = add_csv(l, arg, strlen(arg), option, "", why, cap);
    if (ok && l->count == 0) {
        snprintf(why, cap, "%s %s: no JA4 fingerprint in it", option, arg);
        return false;
    }
    if (ok) qsort(l->entries, l->count, sizeof l->entries[0], cmp_entry);
    return ok;
}

bool proxy_ja4_list_match(const proxy_ja4_list *l, const char *ja4) {
    if (l->count == 0 || strlen(ja4) != JA4_LEN) return false;
    char a[JA4_A_LEN + 1];
    memcpy(a, ja4, JA4_A_LEN);
    a[JA4_A_LEN] = 0;
    return bsearch(ja4, l->entries, l->count, sizeof l->entries[0], cmp_entry) ||
           bsearch(a, l->entries, l->count, sizeof l->entries[0], cmp_entry);
}

void proxy_ja4_list_free(proxy_ja4_list *l) {
    free(l->entries);
    memset(l, 0, sizeof *l);
}

const char *proxy_ja4_verdict(const proxy_opts *o, const char *ja4) {
    if (proxy_ja4_list_match(&o->ja4_deny, ja4)) return "is on --deny-ja4";
    if (o->ja4_allow.count && !proxy_ja4_list_match(&o->ja4_allow, ja4))
        return "is not on --allow-ja4";
    return NULL;
}
