/* Fleet ticket keys on Redis (see ticket_store_redis.h). */
#include "tickets/ticket_store_redis.h"

#include "tickets/ticket_key_file.h"

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"

#define STORE_KEY "certa:ticket-keys"
#define POLL_SECONDS 2
#define CALL_TIMEOUT_MS 250
#define AHEAD_SECONDS 5 /* a new key seals this long after it is published: every member has it */

enum { STATE_UNKNOWN, STATE_UP, STATE_DOWN };

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
    char host[256], unix_path[512], url[600];
    int port, db;
    certa_ticket_keys *ring;
    uint32_t rotate, lifetime;
    const char *cmd;
    redisContext *c;
    int state;
    uint8_t applied[32]; /* SHA-256 of the text last given to the ring */
    bool have_applied;
} S = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* The anti-replay connection (store_replay_check): handshake threads share it. */
static struct {
    pthread_mutex_t lock;
    redisContext *c;
    int64_t down_until_ms;
    bool down_logged;
} R = {.lock = PTHREAD_MUTEX_INITIALIZER};

#define REPLAY_TIMEOUT_MS 20

#define log_line(...) cli_log(S.cmd, "store", __VA_ARGS__)

/* redis://HOST:PORT[/DB] or unix:/PATH[?db=N] into S. */
static bool parse_url(const char *url, char *why, size_t cap) {
    S.port = 6379;
    S.db = 0;
    S.host[0] = S.unix_path[0] = 0;
    long v;
    if (!strncmp(url, "unix:", 5)) {
        const char *p = url + 5, *q = strstr(p, "?db=");
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 0 || n >= sizeof S.unix_path || p[0] != '/') {
            snprintf(why, cap, "--store %s: expected unix:/PATH[?db=N]", url);
            return false;
        }
        memcpy(S.unix_path, p, n);
        S.unix_path[n] = 0;
        if (q && !cli_parse_long(q + 4, 0, 1000, &v)) {
            snprintf(why, cap, "--store %s: the db is a number", url);
            return false;
        }
        S.db = q ? (int)v : 0;
        return true;
    }
    if (strncmp(url, "redis://", 8) != 0) {
        snprintf(why, cap,
                 "--store %s: expected redis://HOST:PORT[/DB] or unix:/PATH[?db=N] (Redis is "
                 "the only store)",
                 url);
        return false;
    }
    const char *hp = url + 8, *slash = strchr(hp, '/');
    char buf[300], port[16];
    size_t n = slash ? (size_t)(slash - hp) : strlen(hp);
    if (n == 0 || n >= sizeof buf) {
        snprintf(why, cap, "--store %s: no host", url);
        return false;
    }
    memcpy(buf, hp, n);
    buf[n] = 0;
    if (!cli_split_host_port(buf, S.host, sizeof S.host, port, sizeof port, "6379") ||
        !cli_parse_long(port, 1, 65535, &v)) {
        snprintf(why, cap, "--store %s: expected HOST:PORT", url);
        return false;
    }
    S.port = (int)v;
    if (slash && slash[1]) {
        if (!cli_parse_long(slash + 1, 0, 1000, &v)) {
            snprintf(why, cap, "--store %s: the database after '/' is a number", url);
            return false;
        }
        S.db = (int)v;
    }
    return true;
}

bool store_url_ok(const char *url, char *why, size_t cap) {
    return parse_url(url, why, cap);
}

static void set_state(int state, const char *detail) {
    if (state == S.state) return;
    S.state = state;
    if (state == STATE_UP)
        log_line("%s reachable: the fleet's ticket keys come from it", S.url);
    else
        log_line("%s unreachable (%s): handshakes go on with the ticket keys held here%s", S.url,
                 detail, " (rotating locally)");
    /* Up, the fleet rotates through the store; down, this member rotates its own. */
    certa_ticket_keys_set_rotation(S.ring, state == STATE_UP ? 0 : S.rotate);
}

static void drop_connection(const char *detail) {
    if (S.c) redisFree(S.c);
    S.c = NULL;
    set_state(STATE_DOWN, detail);
}

static bool connect_store(void) {
    if (S.c) return true;
    struct timeval tv = {0, CALL_TIMEOUT_MS * 1000};
    S.c = S.unix_path[0] ? redisConnectUnixWithTimeout(S.unix_path, tv)
                         : redisConnectWithTimeout(S.host, S.port, tv);
    if (!S.c || S.c->err) {
        char d[200];
        snprintf(d, sizeof d, "%s", S.c ? S.c->errstr : "out of memory");
        drop_connection(d);
        return false;
    }
    redisSetTimeout(S.c, tv);
    if (S.db) {
        redisReply *r = redisCommand(S.c, "SELECT %d", S.db);
        bool ok = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
        if (!ok) {
            drop_connection("SELECT failed");
            return false;
        }
    }
    return true;
}

/* A command's reply, or NULL after dropping the connection. */
static redisReply *call(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(S.c, fmt, ap);
    va_end(ap);
    if (!r) {
        char d[200];
        snprintf(d, sizeof d, "%s", S.c->errstr[0] ? S.c->errstr : "no reply");
        drop_connection(d);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        char d[200];
        snprintf(d, sizeof d, "%s", r->str ? r->str : "error");
        freeReplyObject(r);
        drop_connection(d);
        return NULL;
    }
    return r;
}

/* GET the keys: 1 found (into k), 0 absent, -1 unreachable or unreadable. */
static int fetch(tkf_keys *k, uint8_t digest[32]) {
    redisReply *r = call("GET %s", STORE_KEY);
    if (!r) return -1;
    int rc = 0;
    if (r->type == REDIS_REPLY_STRING) {
        char why[300];
        if (tkf_parse(r->str, r->len, STORE_KEY, k, why, sizeof why) == 0 &&
            hash_oneshot(HASH_SHA256, (const uint8_t *)r->str, r->len, digest) == 0) {
            rc = 1;
        } else {
            log_line("%s in %s does not read as ticket keys: %s", STORE_KEY, S.url, why);
            rc = -1;
        }
        crypto_zero(r->str, r->len);
    }
    freeReplyObject(r);
    return rc;
}

/* Drops the keys whose tickets have all expired (their successor's epoch +
 * the lifetime has passed). */
static void prune(tkf_keys *k, int64_t now) {
    size_t drop = 0;
    while (drop + 1 < k->count && now >= k->epoch[drop + 1] + (int64_t)S.lifetime)
        drop++;
    tkf_keep_newest(k, k->count - drop);
}

/* Writes k: NX (creating) or within the WATCH (rotating). true if it was written. */
static bool publish(const tkf_keys *k, bool create) {
    size_t len = 0;
    char *text = tkf_format(k, &len);
    if (!text) return false;
    bool written = false;
    if (create) {
        redisReply *r = call("SET %s %b NX", STORE_KEY, text, len);
        written = r && r->type == REDIS_REPLY_STATUS;
        freeReplyObject(r);
    } else {
        redisReply *m = call("MULTI");
        bool ok = m != NULL;
        freeReplyObject(m);
        redisReply *q = ok ? call("SET %s %b", STORE_KEY, text, len) : NULL;
        ok = q != NULL;
        freeReplyObject(q);
        redisReply *e = ok ? call("EXEC") : NULL;
        written = e && e->type == REDIS_REPLY_ARRAY; /* nil: another member wrote first */
        freeReplyObject(e);
    }
    crypto_zero(text, len);
    free(text);
    return written;
}

/* One round: connect, read (or create) the keys, rotate if due, apply. */
static void round_trip(void) {
    if (!connect_store()) return;
    tkf_keys k;
    uint8_t digest[32];
    int64_t now = (int64_t)time(NULL);
    int got = fetch(&k, digest);
    if (got == 0) { /* the first member: create them */
        tkf_keys fresh;
        memset(&fresh, 0, sizeof fresh);
        if (tkf_add_random(&fresh, now) == 0 && publish(&fresh, true))
            log_line("no ticket keys in %s yet: created them", S.url);
        tkf_zero(&fresh);
        got = S.c ? fetch(&k, digest) : -1;
    }
    if (got != 1) return;
    set_state(STATE_UP, NULL);
    if (S.rotate && now - k.epoch[k.count - 1] >= (int64_t)S.rotate) {
        redisReply *w = call("WATCH %s", STORE_KEY);
        bool watching = w != NULL;
        freeReplyObject(w);
        tkf_keys cur;
        memset(&cur, 0, sizeof cur);
        uint8_t d2[32];
        if (watching && fetch(&cur, d2) == 1 &&
            now - cur.epoch[cur.count - 1] >= (int64_t)S.rotate) {
            prune(&cur, now);
            if (tkf_add_random(&cur, now + AHEAD_SECONDS) == 0 && publish(&cur, false))
                log_line("rotated the fleet's ticket keys in %s (%zu kept)", S.url, cur.count);
        }
        tkf_zero(&cur);
        if (S.c) {
            redisReply *u = call("UNWATCH");
            freeReplyObject(u);
        }
        tkf_zero(&k);
        if (!S.c || fetch(&k, digest) != 1) return;
    }
    if (!S.have_applied || memcmp(digest, S.applied, 32) != 0) {
        if (certa_ticket_keys_set(S.ring, (const uint8_t(*)[32])k.key, k.epoch, k.count) ==
            CERTA_OK) {
            memcpy(S.applied, digest, 32);
            S.have_applied = true;
            log_line("%zu ticket key%s from %s", k.count, k.count == 1 ? "" : "s", S.url);
        }
    }
    tkf_zero(&k);
}

static void *store_thread(void *unused) {
    (void)unused;
    pthread_mutex_lock(&S.lock);
    while (!S.stop) {
        pthread_mutex_unlock(&S.lock);
        round_trip();
        pthread_mutex_lock(&S.lock);
        if (S.stop) break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += POLL_SECONDS;
        pthread_cond_timedwait(&S.wake, &S.lock, &ts);
    }
    pthread_mutex_unlock(&S.lock);
    return NULL;
}

int store_start(const char *url, certa_ticket_keys *ring, uint32_t rotate_seconds,
                uint32_t lifetime, const char *cmd, char *why, size_t cap) {
    if (!parse_url(url, why, cap)) return -1;
    snprintf(S.url, sizeof S.url, "%s", url);
    S.ring = ring;
    S.rotate = rotate_seconds;
    S.lifetime = lifetime;
    S.cmd = cmd;
    S.state = STATE_UNKNOWN;
    S.stop = false;
    S.have_applied = false;
    round_trip(); /* at start: the fleet's keys before the first handshake, if reachable */
    if (S.state != STATE_UP) set_state(STATE_DOWN, "not reachable at start-up");
    if (pthread_create(&S.thread, NULL, store_thread, NULL) != 0) {
        snprintf(why, cap, "--store: cannot start its thread");
        return -1;
    }
    S.running = true;
    return 0;
}

void store_stop(void) {
    pthread_mutex_lock(&R.lock);
    if (R.c) redisFree(R.c);
    R.c = NULL;
    pthread_mutex_unlock(&R.lock);
    if (!S.running) return;
    pthread_mutex_lock(&S.lock);
    S.stop = true;
    pthread_cond_signal(&S.wake);
    pthread_mutex_unlock(&S.lock);
    pthread_join(S.thread, NULL);
    S.running = false;
    if (S.c) redisFree(S.c);
    S.c = NULL;
}

/* ---- the fleet's anti-replay record ---- */

static void replay_down(const char *detail) {
    if (R.c) redisFree(R.c);
    R.c = NULL;
    R.down_until_ms = cli_now_ms() + 1000;
    if (!R.down_logged)
        log_line("anti-replay on %s unavailable (%s): early data is rejected until it is back",
                 S.url, detail);
    R.down_logged = true;
}

int store_replay_check(void *arg, const uint8_t *id, size_t id_len, uint32_t keep_seconds) {
    (void)arg;
    char key[32 + 2 * 64 + 1];
    size_t n = (size_t)snprintf(key, sizeof key, "certa:replay:");
    for (size_t i = 0; i < id_len && n + 3 <= sizeof key; i++)
        n += (size_t)snprintf(key + n, sizeof key - n, "%02x", id[i]);
    pthread_mutex_lock(&R.lock);
    int rc = -1;
    if (cli_now_ms() >= R.down_until_ms) {
        struct timeval tv = {0, REPLAY_TIMEOUT_MS * 1000};
        if (!R.c) {
            R.c = S.unix_path[0] ? redisConnectUnixWithTimeout(S.unix_path, tv)
                                 : redisConnectWithTimeout(S.host, S.port, tv);
            if (R.c && !R.c->err) {
                redisSetTimeout(R.c, tv);
                if (S.db) {
                    redisReply *r = redisCommand(R.c, "SELECT %d", S.db);
                    if (!r || r->type != REDIS_REPLY_STATUS) replay_down("SELECT failed");
                    freeReplyObject(r);
                }
            } else {
                replay_down(R.c ? R.c->errstr : "out of memory");
            }
        }
        if (R.c) {
            redisReply *r =
                redisCommand(R.c, "SET %s 1 NX EX %u", key, keep_seconds ? keep_seconds : 1);
            if (!r || r->type == REDIS_REPLY_ERROR) {
                replay_down(r && r->str ? r->str : "no reply");
            } else {
                rc = r->type == REDIS_REPLY_STATUS ? 1 : 0; /* OK: first use; nil: seen */
                if (R.down_logged) log_line("anti-replay on %s is back", S.url);
                R.down_logged = false;
            }
            freeReplyObject(r);
        }
    }
    pthread_mutex_unlock(&R.lock);
    return rc;
}
