/* Address ranges: "10.0.0.0/8,192.168.1.7,::1/128" (a bare address is a
 * single host). Used by certa proxy --accept-proxy-protocol-from. */
#ifndef CERTA_TOOLS_CIDR_H
#define CERTA_TOOLS_CIDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CIDR_LIST_MAX 32

typedef struct cidr {
    int family; /* AF_INET or AF_INET6 */
    uint8_t addr[16];
    unsigned prefix; /* bits */
} cidr;

typedef struct cidr_list {
    cidr items[CIDR_LIST_MAX];
    size_t count;
} cidr_list;

/* Appends the comma-separated ranges of text; false with *why on a bad one
 * (the list is then unchanged past the last good entry). */
bool cidr_list_add(cidr_list *list, const char *text, char *why, size_t why_cap);
/* Is the address in one of the ranges? An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) matches IPv4 ranges. */
bool cidr_list_match(const cidr_list *list, const struct sockaddr *sa);

#endif
