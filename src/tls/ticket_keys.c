/* Rotating session-ticket keys (see ticket_keys.h and certa.h). */
#include "tls/ticket_keys.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"

#define DEFAULT_ROTATE (6 * 3600)

static int64_t wall_time(void *arg) {
    (void)arg;
    return (int64_t)time(NULL);
}

/* The id a ticket carries: the first bytes of SHA-256 over a label and the
 * key (not the key, and the same on every process holding it). */
static int key_id(const uint8_t key[32], uint8_t id[TICKET_KEY_ID]) {
    static const char label[] = "certa ticket key id";
    uint8_t buf[sizeof label - 1 + 32], h[32];
    memcpy(buf, label, sizeof label - 1);
    memcpy(buf + sizeof label - 1, key, 32);
    int r = hash_oneshot(HASH_SHA256, buf, sizeof buf, h);
    crypto_zero(buf, sizeof buf);
    memcpy(id, h, TICKET_KEY_ID);
    return r;
}

static void erase(certa_ticket_keys *r, size_t i) {
    crypto_zero(&r->keys[i], sizeof r->keys[i]);
    memmove(&r->keys[i], &r->keys[i + 1], (r->count - i - 1) * sizeof r->keys[0]);
    r->count--;
    crypto_zero(&r->keys[r->count], sizeof r->keys[0]);
}

/* Appends a new random key sealing from epoch (lock held); the oldest goes
 * when the ring is full. */
static int add_random(certa_ticket_keys *r, int64_t epoch) {
    if (r->count == TICKET_KEYS_MAX) erase(r, 0);
    ticket_key *k = &r->keys[r->count];
    if (r->random_fn(r->random_arg, k->key, sizeof k->key) != 0 || key_id(k->key, k->id) != 0) {
        crypto_zero(k, sizeof *k);
        return -1;
    }
    k->epoch = epoch;
    r->count++;
    return 0;
}

static int default_random(void *arg, uint8_t *out, size_t len) {
    (void)arg;
    return crypto_random(out, len);
}

certa_ticket_keys *certa_ticket_keys_new(uint32_t rotate_seconds) {
    certa_ticket_keys *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    atomic_init(&r->refs, 1);
    pthread_mutex_init(&r->lock, NULL);
    r->rotate_every = rotate_seconds;
    r->time_fn = wall_time;
    r->random_fn = default_random;
    if (add_random(r, r->time_fn(r->time_arg)) != 0) {
        certa_ticket_keys_free(r);
        return NULL;
    }
    return r;
}

certa_ticket_keys *ticket_keys_default(void) {
    return certa_ticket_keys_new(DEFAULT_ROTATE);
}

void ticket_keys_retain(certa_ticket_keys *r) {
    if (r) atomic_fetch_add(&r->refs, 1);
}

void certa_ticket_keys_free(certa_ticket_keys *r) {
    if (!r || atomic_fetch_sub(&r->refs, 1) != 1) return;
    pthread_mutex_destroy(&r->lock);
    crypto_zero(r, sizeof *r);
    free(r);
}

void certa_ticket_keys_set_time_fn(certa_ticket_keys *r, int64_t (*fn)(void *arg), void *arg) {
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    r->time_fn = fn ? fn : wall_time;
    r->time_arg = fn ? arg : NULL;
    pthread_mutex_unlock(&r->lock);
}

int certa_ticket_keys_set(certa_ticket_keys *r, const uint8_t (*keys)[32], const int64_t *epochs,
                          size_t count) {
    if (!r || !keys || !epochs || count == 0 || count > TICKET_KEYS_MAX)
        return CERTA_E_INVALID_ARGUMENT;
    ticket_key fresh[TICKET_KEYS_MAX];
    for (size_t i = 0; i < count; i++) {
        memcpy(fresh[i].key, keys[i], 32);
        fresh[i].epoch = epochs[i];
        if (key_id(fresh[i].key, fresh[i].id) != 0) {
            crypto_zero(fresh, sizeof fresh);
            return CERTA_E_INTERNAL;
        }
    }
    /* ascending epochs (insertion sort: a handful of keys) */
    for (size_t i = 1; i < count; i++)
        for (size_t j = i; j > 0 && fresh[j - 1].epoch > fresh[j].epoch; j--) {
            ticket_key t = fresh[j];
            fresh[j] = fresh[j - 1];
            fresh[j - 1] = t;
            crypto_zero(&t, sizeof t);
        }
    pthread_mutex_lock(&r->lock);
    crypto_zero(r->keys, sizeof r->keys);
    memcpy(r->keys, fresh, count * sizeof fresh[0]);
    r->count = count;
    pthread_mutex_unlock(&r->lock);
    crypto_zero(fresh, sizeof fresh);
    return CERTA_OK;
}

void certa_ticket_keys_set_rotation(certa_ticket_keys *r, uint32_t seconds) {
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    r->rotate_every = seconds;
    pthread_mutex_unlock(&r->lock);
}

int certa_ticket_keys_rotate(certa_ticket_keys *r) {
    if (!r) return CERTA_E_INVALID_ARGUMENT;
    pthread_mutex_lock(&r->lock);
    int rc = add_random(r, r->time_fn(r->time_arg)) == 0 ? CERTA_OK : CERTA_E_INTERNAL;
    pthread_mutex_unlock(&r->lock);
    return rc;
}

size_t certa_ticket_keys_count(const certa_ticket_keys *r) {
    if (!r) return 0;
    pthread_mutex_lock((pthread_mutex_t *)&r->lock);
    size_t n = r->count;
    pthread_mutex_unlock((pthread_mutex_t *)&r->lock);
    return n;
}

/* Index of the key sealing at now (lock held): the newest whose epoch has
 * come, else (all in the future) the earliest. */
static size_t sealing_index(const certa_ticket_keys *r, int64_t now) {
    size_t at = 0;
    for (size_t i = 0; i < r->count; i++)
        if (r->keys[i].epoch <= now) at = i;
    return at;
}

/* Erases the keys retired before index at (their successor's epoch has
 * passed) once the tickets they sealed have expired; how many (lock held). */
static size_t prune(certa_ticket_keys *r, int64_t now, uint32_t lifetime, size_t at) {
    size_t gone = 0;
    while (at > gone && r->count > 1 && now >= r->keys[1].epoch + (int64_t)lifetime) {
        erase(r, 0);
        gone++;
    }
    return gone;
}

int ticket_keys_sealing(certa_ticket_keys *r, int64_t now, uint32_t lifetime, ticket_key *out) {
    pthread_mutex_lock(&r->lock);
    int rc = -1;
    if (r->count) {
        size_t at = sealing_index(r, now);
        /* due, and no newer key distributed ahead of its epoch: a new one */
        if (r->rotate_every && at + 1 == r->count &&
            now - r->keys[at].epoch >= (int64_t)r->rotate_every && add_random(r, now) == 0)
            at = sealing_index(r, now);
        at -= prune(r, now, lifetime, at);
        *out = r->keys[at];
        rc = 0;
    }
    pthread_mutex_unlock(&r->lock);
    return rc;
}

int ticket_keys_find(certa_ticket_keys *r, const uint8_t id[TICKET_KEY_ID], int64_t now,
                     uint32_t lifetime, ticket_key *out) {
    pthread_mutex_lock(&r->lock);
    if (r->count) prune(r, now, lifetime, sealing_index(r, now));
    int rc = -1;
    for (size_t i = 0; i < r->count && rc; i++)
        if (!memcmp(r->keys[i].id, id, TICKET_KEY_ID)) {
            *out = r->keys[i];
            rc = 0;
        }
    pthread_mutex_unlock(&r->lock);
    return rc;
}
