/* The 0-RTT anti-replay store.
 *
 *   bench_replay memory      certa's built-in table (the default 16384 x 40 B):
 *                            checks/s of a new id (recorded) and of a seen one
 *                            (a replay), bytes per entry as allocated, and how
 *                            full it gets before it fails closed; libssl's
 *                            anti-replay (single-use tickets kept in its server
 *                            session cache) in bytes per entry next to it.
 *   bench_replay redis URL [N]
 *                            the latency the Redis store of certa serve/proxy
 *                            (tools/tickets/ticket_store_redis.c: SET NX EX on
 *                            loopback) adds to an in-memory 0-RTT handshake: N
 *                            (default 2000) handshakes with it and N with the
 *                            built-in store, interleaved; median and p99 of
 *                            each, and of the store call alone.
 *
 * Duration of the memory rates: BENCH_SECONDS (default 2). */
#include "bench.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tickets/ticket_store_redis.h"
#include "tls/tls.h"

static void die(const char *what) {
    fprintf(stderr, "bench_replay: %s\n", what);
    exit(1);
}

/* Ids as the engine makes them (SHA-256 of a ticket): uniformly random. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static void next_id(uint8_t id[32]) {
    for (int i = 0; i < 4; i++) {
        uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        memcpy(id + 8 * i, &z, 8);
    }
}

static size_t heap_in_use(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}

/* ---- memory: the built-in table ---- */

#define ROUND_IDS 8192 /* half the default table: the load a sized table runs at */

static void memory_case(void) {
    double secs = bench_seconds(2);
    certa_config *cfg = certa_config_new();
    if (!cfg) die("config");
    uint8_t id[32];
    int64_t now = 1000000;
    /* The table is allocated on the first check. */
    size_t before = heap_in_use();
    next_id(id);
    if (early_replay_builtin(cfg, id, 24, now) != 1) die("first check");
    size_t table = heap_in_use() - before;
    unsigned cap = DEFAULT_REPLAY_CAPACITY;

    /* Fill with ids that never expire until one finds its 16 slots taken. */
    unsigned filled = 1;
    while (early_replay_builtin(cfg, (next_id(id), id), 1000000, now) == 1)
        filled++;
    early_store_free(cfg);
    certa_config_free(cfg);

    /* Rates: each round moves the clock past the last round's records (all
     * expired: their slots are free again), records ROUND_IDS new ids, then
     * checks the same ids again (each a replay). */
    cfg = certa_config_new();
    static uint8_t ids[ROUND_IDS][32];
    double t_new = 0, t_seen = 0;
    long n_new = 0, n_seen = 0;
    double t0 = now_seconds();
    while (now_seconds() - t0 < secs) {
        now += 100;
        for (int i = 0; i < ROUND_IDS; i++)
            next_id(ids[i]);
        double a = now_seconds();
        for (int i = 0; i < ROUND_IDS; i++)
            if (early_replay_builtin(cfg, ids[i], 24, now) != 1) die("a new id was not recorded");
        double m = now_seconds();
        for (int i = 0; i < ROUND_IDS; i++)
            if (early_replay_builtin(cfg, ids[i], 24, now) != 0) die("a seen id was not found");
        double e = now_seconds();
        t_new += m - a;
        t_seen += e - m;
        n_new += ROUND_IDS;
        n_seen += ROUND_IDS;
    }
    early_store_free(cfg);
    certa_config_free(cfg);

    /* libssl: its anti-replay makes tickets stateful — one session per
     * ticket in the server's cache until used. Bytes per cached session. */
    bench_setup b;
    if (bench_setup_init(&b, "p256", "x25519", "TLS_AES_128_GCM_SHA256") != 0) die("setup");
    bench_setup_resumption(&b);
    SSL_CTX_set_max_early_data(b.ossl_srv, 16384);
    const int sessions = 2000;
    ossl_pair warm;
    if (ossl_pair_new(&warm, b.ossl_cli, b.ossl_srv) != 0 || !ossl_pair_handshake(&warm))
        die("libssl handshake");
    SSL_set_shutdown(warm.srv, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    ossl_pair_free(&warm);
    long cached0 = SSL_CTX_sess_number(b.ossl_srv);
    size_t h0 = heap_in_use();
    for (int i = 0; i < sessions; i++) {
        ossl_pair p;
        if (ossl_pair_new(&p, b.ossl_cli, b.ossl_srv) != 0 || !ossl_pair_handshake(&p))
            die("libssl handshake");
        SSL_set_shutdown(p.srv, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
        ossl_pair_free(&p);
    }
    long cached = SSL_CTX_sess_number(b.ossl_srv) - cached0;
    double ossl_per = cached > 0 ? (double)(heap_in_use() - h0) / (double)cached : 0;
    bench_setup_free(&b);

    double per = (double)table / cap;
    printf("replay_store_memory certa_bytes_per_entry=%.1f openssl_bytes_per_entry=%.0f "
           "ratio=%.3f certa_table_bytes=%zu entries=%u usable_fill=%.1f%%\n",
           per, ossl_per, ossl_per > 0 ? per / ossl_per : 0, table, cap, 100.0 * filled / cap);
    printf("replay_store_ops certa_new_per_s=%.0f certa_seen_per_s=%.0f load=%.0f%%\n",
           n_new / t_new, n_seen / t_seen, 100.0 * ROUND_IDS / cap);
    fprintf(stderr,
            "  replay_store_memory: certa's built-in table, allocated at the first 0-RTT "
            "handshake (heap growth / entries); it took %u ids (never expiring) before one found "
            "both its buckets full (fail closed). libssl: heap growth / sessions its cache "
            "gained over %d full handshakes with max_early_data and anti-replay on (%ld cached).\n"
            "  replay_store_ops: checks per second of the built-in store, one thread, table "
            "%.0f%% live: a new id (recorded) and a seen id (a replay found)\n",
            filled, sessions, cached, 100.0 * ROUND_IDS / cap);
}

/* ---- Redis: the latency it adds to a 0-RTT handshake ---- */

static double call_us[1 << 16];
static size_t calls;

/* store_replay_check, timed. */
static int timed_store(void *arg, const uint8_t *id, size_t id_len, uint32_t keep) {
    double a = now_seconds();
    int r = store_replay_check(arg, id, id_len, keep);
    if (calls < sizeof call_us / sizeof call_us[0]) call_us[calls++] = (now_seconds() - a) * 1e6;
    return r;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double quantile(double *v, size_t n, double q) {
    qsort(v, n, sizeof *v, cmp_double);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    return n ? v[i] : 0;
}

/* One 0-RTT handshake on b (the session in b->certa_session), timed in us. */
static double zero_rtt_once(bench_setup *b, const uint8_t *payload, size_t len) {
    double a = now_seconds();
    certa_conn *cli =
        certa_client_new_resume(b->certa_cli, "localhost", b->certa_session, b->certa_session_len);
    certa_conn *srv = certa_server_new(b->certa_srv);
    size_t early = 0;
    if (!cli || !srv || certa_conn_write_early(cli, payload, len) != CERTA_OK ||
        !certa_pair_0rtt(cli, srv, &early))
        die("0-RTT handshake");
    certa_info info;
    certa_conn_info(srv, &info);
    if (!info.early_data_accepted || early != len) die("early data not accepted (store down?)");
    if (certa_conn_session(cli, b->certa_session, CERTA_SESSION_MAX, &b->certa_session_len) != 0)
        die("no ticket");
    certa_conn_free(cli);
    certa_conn_free(srv);
    return (now_seconds() - a) * 1e6;
}

static void setup_0rtt(bench_setup *b) {
    if (bench_setup_init(b, "p256", "x25519", "TLS_AES_128_GCM_SHA256") != 0) die("setup");
    bench_setup_resumption(b);
    certa_config_set_max_early_data(b->certa_srv, 16384);
    certa_config_set_max_early_data(b->certa_cli, 16384);
    if (!(b->certa_session = malloc(CERTA_SESSION_MAX))) die("malloc");
}

static void first_session(bench_setup *b) {
    certa_conn *cli = certa_client_new(b->certa_cli, "localhost");
    certa_conn *srv = certa_server_new(b->certa_srv);
    size_t early;
    if (!cli || !srv || !certa_pair_0rtt(cli, srv, &early) ||
        certa_conn_session(cli, b->certa_session, CERTA_SESSION_MAX, &b->certa_session_len) != 0)
        die("first handshake");
    certa_conn_free(cli);
    certa_conn_free(srv);
}

static void redis_case(const char *url, int n) {
    if (n < 100 || n > (int)(sizeof call_us / sizeof call_us[0])) die("N: 100 to 65536");
    bench_setup local, fleet;
    setup_0rtt(&local);
    setup_0rtt(&fleet);
    certa_ticket_keys *ring = certa_ticket_keys_new(21600);
    char why[300];
    if (!ring || certa_config_set_ticket_keys(fleet.certa_srv, ring) != 0 ||
        store_start(url, ring, 21600, 7200, "bench_replay", why, sizeof why) != 0)
        die(why);
    certa_config_set_replay_store(fleet.certa_srv, timed_store, NULL);
    first_session(&local);
    first_session(&fleet);
    uint8_t payload[1024];
    memset(payload, 'e', sizeof payload);
    double *t_local = calloc((size_t)n, sizeof(double)),
           *t_fleet = calloc((size_t)n, sizeof(double));
    if (!t_local || !t_fleet) die("calloc");
    for (int i = 0; i < 50; i++) { /* warm both, and the Redis connection */
        zero_rtt_once(&local, payload, sizeof payload);
        zero_rtt_once(&fleet, payload, sizeof payload);
    }
    calls = 0;
    for (int i = 0; i < n; i += 100) /* interleaved: load from elsewhere hits both */
        for (int k = 0; k < 2; k++)
            for (int j = i; j < i + 100 && j < n; j++) {
                if (k == 0) t_local[j] = zero_rtt_once(&local, payload, sizeof payload);
                if (k == 1) t_fleet[j] = zero_rtt_once(&fleet, payload, sizeof payload);
            }
    size_t nc = calls;
    double lm = quantile(t_local, (size_t)n, 0.5), lp = quantile(t_local, (size_t)n, 0.99);
    double fm = quantile(t_fleet, (size_t)n, 0.5), fp = quantile(t_fleet, (size_t)n, 0.99);
    double cm = quantile(call_us, nc, 0.5), cp = quantile(call_us, nc, 0.99);
    printf("replay_store_redis handshakes=%d builtin_median_us=%.1f builtin_p99_us=%.1f "
           "redis_median_us=%.1f redis_p99_us=%.1f added_median_us=%.1f added_p99_us=%.1f "
           "call_median_us=%.1f call_p99_us=%.1f\n",
           n, lm, lp, fm, fp, fm - lm, fp - lp, cm, cp);
    fprintf(stderr,
            "  replay_store_redis: in-memory 0-RTT handshakes (1 KiB early data, PSK + x25519), "
            "%d with certa's built-in store and %d with the Redis store of serve/proxy "
            "(SET certa:replay:ID 1 NX EX, one connection, loopback), interleaved by 100; "
            "call = the store call alone (%zu calls)\n",
            n, n, nc);
    store_stop();
    certa_ticket_keys_free(ring);
    free(t_local);
    free(t_fleet);
    bench_setup_free(&local);
    bench_setup_free(&fleet);
}

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "memory";
    if (!strcmp(what, "memory")) {
        memory_case();
    } else if (!strcmp(what, "redis") && argc > 2) {
        redis_case(argv[2], argc > 3 ? atoi(argv[3]) : 2000);
    } else {
        die("usage: bench_replay memory | redis redis://HOST:PORT[/DB] [N]");
    }
    return 0;
}
