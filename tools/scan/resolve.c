/* certa scan: name resolution. Each distinct host is looked up once, by a
 * small pool of threads: getaddrinfo blocks, and a list of 10,000 names
 * resolved one after another would take minutes before the first
 * handshake. Then the distinct addresses are numbered for the per-host cap. */
#include "scan/scan.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RESOLVER_THREADS 16

typedef struct lookup {
    const char *host; /* a target's */
    struct sockaddr_storage addr;
    socklen_t addr_len;
    int rc; /* getaddrinfo's */
} lookup;

typedef struct lookup_pool {
    lookup *items;
    size_t count;
    atomic_size_t next;
} lookup_pool;

static void *resolve_some(void *arg) {
    lookup_pool *p = arg;
    for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < p->count;) {
        lookup *l = &p->items[i];
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = cli_is_ip_literal(l->host) ? AI_NUMERICHOST : 0;
        l->rc = getaddrinfo(l->host, NULL, &hints, &res);
        if (l->rc == 0 && res && res->ai_addrlen <= sizeof l->addr) {
            memcpy(&l->addr, res->ai_addr, res->ai_addrlen);
            l->addr_len = res->ai_addrlen;
        } else if (l->rc == 0) {
            l->rc = EAI_NONAME;
        }
        if (res) freeaddrinfo(res);
    }
    return NULL;
}

static int by_host(const void *a, const void *b) {
    return strcmp(((const lookup *)a)->host, ((const lookup *)b)->host);
}

/* The distinct hosts of t, sorted; NULL when out of memory. */
static lookup *distinct_hosts(const scan_targets *t, size_t *count) {
    lookup *l = calloc(t->count ? t->count : 1, sizeof *l);
    if (!l) return NULL;
    for (size_t i = 0; i < t->count; i++)
        l[i].host = t->items[i].host;
    qsort(l, t->count, sizeof *l, by_host);
    size_t n = 0;
    for (size_t i = 0; i < t->count; i++)
        if (n == 0 || strcmp(l[n - 1].host, l[i].host)) l[n++] = l[i];
    *count = n;
    return l;
}

static void resolve_all(lookup *l, size_t n) {
    lookup_pool pool = {.items = l, .count = n};
    atomic_init(&pool.next, 0);
    pthread_t threads[RESOLVER_THREADS];
    size_t started = 0;
    while (started < RESOLVER_THREADS && started + 1 < n &&
           pthread_create(&threads[started], NULL, resolve_some, &pool) == 0)
        started++;
    resolve_some(&pool); /* this thread works too (and alone, if none started) */
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
}

static bool same_host(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
    if (a->ss_family != b->ss_family) return false;
    if (a->ss_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                   &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
}

size_t scan_targets_resolve(scan_targets *t) {
    size_t hosts = 0, seen_cap = 0, n_lookups = 0;
    struct sockaddr_storage *seen = NULL;
    lookup *lookups = distinct_hosts(t, &n_lookups);
    if (lookups) resolve_all(lookups, n_lookups);
    for (size_t i = 0; i < t->count; i++) {
        scan_target *x = &t->items[i];
        lookup key = {.host = x->host};
        const lookup *l = lookups ? bsearch(&key, lookups, n_lookups, sizeof key, by_host) : NULL;
        if (!l || l->rc != 0) {
            snprintf(x->error, sizeof x->error, "cannot resolve '%s': %s", x->host,
                     l ? gai_strerror(l->rc) : "out of memory");
            continue;
        }
        memcpy(&x->addr, &l->addr, l->addr_len);
        x->addr_len = l->addr_len;
        unsigned port = (unsigned)atoi(x->port);
        if (x->addr.ss_family == AF_INET)
            ((struct sockaddr_in *)&x->addr)->sin_port = htons((uint16_t)port);
        else
            ((struct sockaddr_in6 *)&x->addr)->sin6_port = htons((uint16_t)port);
        cli_format_addr((struct sockaddr *)&x->addr, x->addr_len, x->address, sizeof x->address);
        /* the host of the cap is the address without the port */
        x->host_index = hosts;
        for (size_t j = 0; j < hosts; j++)
            if (same_host(&seen[j], &x->addr)) {
                x->host_index = j;
                break;
            }
        if (x->host_index == hosts) {
            if (hosts == seen_cap) {
                size_t nc = seen_cap ? seen_cap * 2 : 16;
                struct sockaddr_storage *n = realloc(seen, nc * sizeof *n);
                if (!n) {
                    x->host_index = 0;
                    continue;
                }
                seen = n;
                seen_cap = nc;
            }
            seen[hosts++] = x->addr;
        }
    }
    free(seen);
    free(lookups);
    return hosts;
}
