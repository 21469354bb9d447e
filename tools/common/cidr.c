/* Address ranges (see cidr.h). */
#include "common/cidr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool parse_one(const char *s, size_t n, cidr *out) {
    char buf[64];
    if (n == 0 || n >= sizeof buf) return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *slash = strchr(buf, '/');
    if (slash) *slash = 0;
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        out->prefix = 32;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        out->prefix = 128;
    } else {
        return false;
    }
    if (slash) {
        char *end;
        unsigned long bits = strtoul(slash + 1, &end, 10);
        if (!slash[1] || *end || bits > out->prefix) return false;
        out->prefix = (unsigned)bits;
    }
    return true;
}

bool cidr_list_add(cidr_list *list, const char *text, char *why, size_t why_cap) {
    const char *p = text;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (list->count == CIDR_LIST_MAX) {
            snprintf(why, why_cap, "at most %d address ranges", CIDR_LIST_MAX);
            return false;
        }
        if (!parse_one(p, n, &list->items[list->count])) {
            snprintf(why, why_cap, "'%.*s' is not an address or ADDRESS/BITS range", (int)n, p);
            return false;
        }
        list->count++;
        if (!p[n]) return true;
        p += n + 1;
    }
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits) {
    size_t whole = bits / 8;
    if (memcmp(a, b, whole) != 0) return false;
    unsigned rest = bits % 8;
    if (!rest) return true;
    uint8_t mask = (uint8_t)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool cidr_list_match(const cidr_list *list, const struct sockaddr *sa) {
    uint8_t addr[16];
    int family = sa->sa_family;
    if (family == AF_INET) {
        memcpy(addr, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
    } else if (family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6)) {
            family = AF_INET;
            memcpy(addr, a6->s6_addr + 12, 4);
        } else {
            memcpy(addr, a6->s6_addr, 16);
        }
    } else {
        return false;
    }
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].family == family &&
            prefix_equal(list->items[i].addr, addr, list->items[i].prefix))
            return true;
    return false;
}
