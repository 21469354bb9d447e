/* Heap held per established, idle connection and the peak during a
 * handshake, certa vs OpenSSL libssl, per side.
 *
 * Counting: every allocation libcrypto/libssl make goes through
 * CRYPTO_set_mem_functions (set first thing in main, before any libcrypto
 * use); certa's own malloc/calloc/realloc/free calls are interposed here
 * (this program defines them and forwards to glibc's __libc_* functions).
 * Each live allocation is recorded in a pointer table with its usable size
 * (malloc_usable_size) and the side that was running when it was made
 * (client, server, or none for setup and the in-memory transport), so frees
 * are credited to the side that allocated, whoever frees.
 *
 *   bench_mem [N]   N connection pairs (default 1000) */
#define _GNU_SOURCE
#include "bench.h"

#include <malloc.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

enum { SIDE_NONE = 0, SIDE_CLIENT, SIDE_SERVER, SIDE_COUNT };
enum { SRC_MALLOC = 0, SRC_CRYPTO, SRC_COUNT };

static int side = SIDE_NONE;
static bool tracking;
static long long live[SIDE_COUNT][SRC_COUNT];
static long long peak_total[SIDE_COUNT];
static long long allocs[SIDE_COUNT];

/* Open addressing, linear probing, deletion by backward shift. */
#define TABLE_BITS 22
#define TABLE_SIZE (1u << TABLE_BITS)
typedef struct slot {
    void *p;
    uint32_t size;
    uint8_t side;
    uint8_t src;
} slot;
static slot *table;

static size_t hash_ptr(const void *p) {
    uint64_t x = (uint64_t)(uintptr_t)p;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)(x & (TABLE_SIZE - 1));
}

static long long side_total(int s) {
    return live[s][SRC_MALLOC] + live[s][SRC_CRYPTO];
}

static void record(void *p, int src) {
    if (!tracking || !p || side == SIDE_NONE || !table) return;
    size_t n = malloc_usable_size(p);
    size_t i = hash_ptr(p);
    while (table[i].p)
        i = (i + 1) & (TABLE_SIZE - 1);
    table[i] = (slot){p, (uint32_t)n, (uint8_t)side, (uint8_t)src};
    live[side][src] += (long long)n;
    allocs[side]++;
    long long t = side_total(side);
    if (t > peak_total[side]) peak_total[side] = t;
}

static void forget(void *p) {
    if (!p || !table) return;
    size_t i = hash_ptr(p);
    while (table[i].p && table[i].p != p)
        i = (i + 1) & (TABLE_SIZE - 1);
    if (!table[i].p) return;
    live[table[i].side][table[i].src] -= table[i].size;
    /* Backward-shift deletion keeps probe chains intact. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & (TABLE_SIZE - 1);
        if (!table[j].p) break;
        size_t home = hash_ptr(table[j].p);
        if (((j - home) & (TABLE_SIZE - 1)) >= ((j - i) & (TABLE_SIZE - 1))) {
            table[i] = table[j];
            i = j;
        }
    }
    table[i].p = NULL;
}

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    record(p, SRC_MALLOC);
    return p;
}
void *calloc(size_t a, size_t b) {
    void *p = __libc_calloc(a, b);
    record(p, SRC_MALLOC);
    return p;
}
void *realloc(void *old, size_t n) {
    forget(old);
    void *p = __libc_realloc(old, n);
    record(p, SRC_MALLOC);
    return p;
}
void free(void *p) {
    forget(p);
    __libc_free(p);
}

static void *c_malloc(size_t n, const char *f, int l) {
    (void)f, (void)l;
    void *p = __libc_malloc(n);
    record(p, SRC_CRYPTO);
    return p;
}
static void *c_realloc(void *old, size_t n, const char *f, int l) {
    (void)f, (void)l;
    forget(old);
    void *p = __libc_realloc(old, n);
    record(p, SRC_CRYPTO);
    return p;
}
static void c_free(void *p, const char *f, int l) {
    (void)f, (void)l;
    forget(p);
    __libc_free(p);
}

/* ---- measurements -------------------------------------------------------- */

typedef struct mem_result {
    double idle[SIDE_COUNT]; /* bytes per established idle connection */
    double idle_crypto[SIDE_COUNT];
    double peak[SIDE_COUNT];   /* max over one handshake, bytes */
    double allocs[SIDE_COUNT]; /* allocations per handshake */
} mem_result;

static void reset_counters(void) {
    memset(live, 0, sizeof live);
    memset(peak_total, 0, sizeof peak_total);
    memset(allocs, 0, sizeof allocs);
}

static void measure_certa(bench_setup *b, int n, mem_result *r) {
    certa_conn **cli = __libc_calloc((size_t)n, sizeof *cli);
    certa_conn **srv = __libc_calloc((size_t)n, sizeof *srv);
    /* Peak: one handshake at a time, nothing else alive. */
    reset_counters();
    tracking = true;
    double peak[SIDE_COUNT] = {0};
    for (int i = 0; i < 20; i++) {
        reset_counters();
        side = SIDE_CLIENT;
        certa_conn *c = certa_client_new(b->certa_cli, "localhost");
        side = SIDE_SERVER;
        certa_conn *s = certa_server_new(b->certa_srv);
        for (int round = 0;
             round < 16 && !(certa_conn_handshake_done(c) && certa_conn_handshake_done(s));
             round++) {
            const uint8_t *p;
            size_t len;
            side = SIDE_CLIENT;
            len = certa_conn_outgoing(c, &p);
            side = SIDE_SERVER;
            size_t used = 0;
            if (len) certa_conn_recv(s, p, len, &used);
            side = SIDE_CLIENT;
            if (len) certa_conn_outgoing_done(c, used);
            side = SIDE_SERVER;
            len = certa_conn_outgoing(s, &p);
            side = SIDE_CLIENT;
            used = 0;
            if (len) certa_conn_recv(c, p, len, &used);
            side = SIDE_SERVER;
            if (len) certa_conn_outgoing_done(s, used);
        }
        if (!certa_conn_handshake_done(c) || !certa_conn_handshake_done(s)) {
            fprintf(stderr, "bench_mem: certa handshake failed\n");
            exit(1);
        }
        for (int k = 1; k < SIDE_COUNT; k++)
            if ((double)peak_total[k] > peak[k]) peak[k] = (double)peak_total[k];
        for (int k = 1; k < SIDE_COUNT; k++)
            r->allocs[k] = (double)allocs[k];
        side = SIDE_CLIENT;
        certa_conn_free(c);
        side = SIDE_SERVER;
        certa_conn_free(s);
    }
    for (int k = 1; k < SIDE_COUNT; k++)
        r->peak[k] = peak[k];

    /* Idle: n established pairs held at once. */
    reset_counters();
    for (int i = 0; i < n; i++) {
        side = SIDE_CLIENT;
        cli[i] = certa_client_new(b->certa_cli, "localhost");
        side = SIDE_SERVER;
        srv[i] = certa_server_new(b->certa_srv);
        side = SIDE_NONE; /* the helper's own calls carry no allocations */
        for (int round = 0; round < 16; round++) {
            bool moved = false;
            const uint8_t *p;
            size_t len, used;
            side = SIDE_CLIENT;
            len = certa_conn_outgoing(cli[i], &p);
            if (len) {
                side = SIDE_SERVER;
                used = 0;
                certa_conn_recv(srv[i], p, len, &used);
                side = SIDE_CLIENT;
                certa_conn_outgoing_done(cli[i], used);
                moved = true;
            }
            side = SIDE_SERVER;
            len = certa_conn_outgoing(srv[i], &p);
            if (len) {
                side = SIDE_CLIENT;
                used = 0;
                certa_conn_recv(cli[i], p, len, &used);
                side = SIDE_SERVER;
                certa_conn_outgoing_done(srv[i], used);
                moved = true;
            }
            if (!moved) break;
        }
        if (!certa_conn_handshake_done(cli[i]) || !certa_conn_handshake_done(srv[i])) {
            fprintf(stderr, "bench_mem: certa handshake %d failed\n", i);
            exit(1);
        }
    }
    side = SIDE_NONE;
    for (int k = 1; k < SIDE_COUNT; k++) {
        r->idle[k] = (double)side_total(k) / n;
        r->idle_crypto[k] = (double)live[k][SRC_CRYPTO] / n;
    }
    for (int i = 0; i < n; i++) {
        certa_conn_free(cli[i]);
        certa_conn_free(srv[i]);
    }
    tracking = false;
    __libc_free(cli);
    __libc_free(srv);
}

/* libssl: each side's SSL object; the BIO pair (the transport, 2 x 64 KiB)
 * is made with side = none and not counted. Each SSL is driven with its own
 * side set. */
static bool ossl_step(ossl_pair *p) {
    side = SIDE_CLIENT;
    int rc = SSL_do_handshake(p->cli);
    side = SIDE_SERVER;
    int rs = SSL_do_handshake(p->srv);
    side = SIDE_NONE;
    return rc == 1 && rs == 1;
}

static void ossl_new(ossl_pair *p, bench_setup *b) {
    side = SIDE_CLIENT;
    p->cli = SSL_new(b->ossl_cli);
    side = SIDE_SERVER;
    p->srv = SSL_new(b->ossl_srv);
    side = SIDE_NONE;
    BIO *x = NULL, *y = NULL;
    if (!p->cli || !p->srv || BIO_new_bio_pair(&x, 65536, &y, 65536) != 1) {
        fprintf(stderr, "bench_mem: SSL_new\n");
        exit(1);
    }
    SSL_set_bio(p->cli, x, x);
    SSL_set_bio(p->srv, y, y);
    SSL_set_connect_state(p->cli);
    SSL_set_accept_state(p->srv);
}

static void ossl_handshake(ossl_pair *p) {
    for (int round = 0; round < 16; round++)
        if (ossl_step(p)) return;
    fprintf(stderr, "bench_mem: libssl handshake failed\n");
    exit(1);
}

static void measure_ossl(bench_setup *b, int n, mem_result *r) {
    ossl_pair *pairs = __libc_calloc((size_t)n, sizeof *pairs);
    tracking = true;
    double peak[SIDE_COUNT] = {0};
    for (int i = 0; i < 20; i++) {
        reset_counters();
        ossl_pair p;
        ossl_new(&p, b);
        ossl_handshake(&p);
        for (int k = 1; k < SIDE_COUNT; k++)
            if ((double)peak_total[k] > peak[k]) peak[k] = (double)peak_total[k];
        for (int k = 1; k < SIDE_COUNT; k++)
            r->allocs[k] = (double)allocs[k];
        side = SIDE_CLIENT;
        SSL_free(p.cli);
        side = SIDE_SERVER;
        SSL_free(p.srv);
        side = SIDE_NONE;
    }
    for (int k = 1; k < SIDE_COUNT; k++)
        r->peak[k] = peak[k];
    reset_counters();
    for (int i = 0; i < n; i++) {
        ossl_new(&pairs[i], b);
        ossl_handshake(&pairs[i]);
    }
    for (int k = 1; k < SIDE_COUNT; k++) {
        r->idle[k] = (double)side_total(k) / n;
        r->idle_crypto[k] = (double)live[k][SRC_CRYPTO] / n;
    }
    for (int i = 0; i < n; i++) {
        SSL_free(pairs[i].cli);
        SSL_free(pairs[i].srv);
    }
    tracking = false;
    __libc_free(pairs);
}

int main(int argc, char **argv) {
    /* Before any other libcrypto use. */
    if (CRYPTO_set_mem_functions(c_malloc, c_realloc, c_free) != 1) {
        fprintf(stderr, "bench_mem: CRYPTO_set_mem_functions refused\n");
        return 1;
    }
    table = mmap(NULL, TABLE_SIZE * sizeof(slot), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (table == MAP_FAILED) return 1;
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    if (n <= 0) n = 1000;
    bench_setup b;
    if (bench_setup_init(&b, "p256", "x25519", "TLS_AES_128_GCM_SHA256") != 0) {
        fprintf(stderr, "bench_mem: setup failed\n");
        return 1;
    }
    /* Warm up both libraries (first-use fetches and caches are not per
     * connection). */
    mem_result c = {0}, o = {0};
    measure_certa(&b, 10, &c);
    measure_ossl(&b, 10, &o);
    memset(&c, 0, sizeof c);
    memset(&o, 0, sizeof o);
    measure_certa(&b, n, &c);
    measure_ossl(&b, n, &o);
    static const char *const names[SIDE_COUNT] = {"", "client", "server"};
    for (int k = SIDE_SERVER; k >= SIDE_CLIENT; k--) {
        printf("memory_idle_%s certa=%.0f openssl=%.0f ratio=%.2f target=8192 of_target=%.1f%% "
               "peak_certa=%.0f peak_openssl=%.0f\n",
               names[k], c.idle[k], o.idle[k], c.idle[k] / o.idle[k], 100 * c.idle[k] / 8192,
               c.peak[k], o.peak[k]);
        fprintf(stderr,
                "  memory_idle_%s: bytes per idle connection over %d pairs (certa: %.0f via "
                "libcrypto, %.0f own malloc; libssl: %.0f via libcrypto); handshake peak "
                "(bytes live at once) and allocations per handshake: certa %.0f allocs, "
                "libssl %.0f allocs\n",
                names[k], n, c.idle_crypto[k], c.idle[k] - c.idle_crypto[k], o.idle_crypto[k],
                c.allocs[k], o.allocs[k]);
    }
    bench_setup_free(&b);

    /* The post-quantum default (X25519MLKEM768 with an x25519 share beside
     * it): the ML-KEM state lives only during the handshake, so the idle
     * figure must not grow; the peak shows its cost. certa only (libssl 3.0
     * has no ML-KEM). */
    bench_setup pq;
    if (bench_setup_init(&pq, "p256", "x25519", "TLS_AES_128_GCM_SHA256") != 0 ||
        certa_config_set_groups(pq.certa_srv, "X25519MLKEM768,x25519") ||
        certa_config_set_groups(pq.certa_cli, "X25519MLKEM768,x25519")) {
        fprintf(stderr, "bench_mem: hybrid setup failed\n");
        return 1;
    }
    mem_result h = {0};
    measure_certa(&pq, 10, &h);
    memset(&h, 0, sizeof h);
    measure_certa(&pq, n, &h);
    for (int k = SIDE_SERVER; k >= SIDE_CLIENT; k--) {
        printf("memory_idle_%s_x25519mlkem768 certa=%.0f certa_x25519=%.0f peak_certa=%.0f "
               "peak_certa_x25519=%.0f\n",
               names[k], h.idle[k], c.idle[k], h.peak[k], c.peak[k]);
        fprintf(stderr,
                "  memory_idle_%s_x25519mlkem768: the same over X25519MLKEM768 (certa's "
                "default), certa %.0f allocs per handshake\n",
                names[k], h.allocs[k]);
    }
    bench_setup_free(&pq);
    return 0;
}
