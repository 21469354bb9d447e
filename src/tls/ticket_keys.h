/* Session-ticket keys that rotate (the engine's side of certa_ticket_keys,
 * include/certa.h). A ring holds up to TICKET_KEYS_MAX keys, each with the
 * epoch from which it seals; the newest key whose epoch has come seals, and
 * every key still held opens. A ticket names its key by an 8-byte id
 * (derived from the key), so opening tries one key. Rotation (automatic, or
 * by replacing the keys from a file) keeps a retired key until the tickets
 * it sealed have expired (its successor's epoch + the ticket lifetime), then
 * erases it. Thread-safe: one lock, held for a copy of a key. */
#ifndef CERTA_TLS_TICKET_KEYS_H
#define CERTA_TLS_TICKET_KEYS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "certa.h"

#define TICKET_KEYS_MAX                                                                            \
    32 /* 7 days of tickets (the longest lifetime) at 6-hour rotation, and a spare */
#define TICKET_KEY_ID 8

typedef struct ticket_key {
    uint8_t key[32];
    uint8_t id[TICKET_KEY_ID];
    int64_t epoch; /* seals from this time on (until a newer key's epoch) */
} ticket_key;

struct certa_ticket_keys {
    atomic_int refs;
    pthread_mutex_t lock;
    ticket_key keys[TICKET_KEYS_MAX]; /* ascending epochs */
    size_t count;
    uint32_t rotate_every; /* seconds; 0: only by hand or from a file */
    int64_t (*time_fn)(void *);
    void *time_arg;
    certa_random_fn random_fn;
    void *random_arg;
};

/* The key to seal with at time now (rotating first when it is due and
 * dropping what expired, given tickets live `lifetime` seconds): 0 with a
 * copy in *out, or -1 (no key). The caller zeroizes its copy. */
int ticket_keys_sealing(certa_ticket_keys *ring, int64_t now, uint32_t lifetime, ticket_key *out);
/* The key named by id, if held (after erasing what expired): 0 with a
 * copy, or -1. */
int ticket_keys_find(certa_ticket_keys *ring, const uint8_t id[TICKET_KEY_ID], int64_t now,
                     uint32_t lifetime, ticket_key *out);
void ticket_keys_retain(certa_ticket_keys *ring);
/* A config's own ring: one random key, rotating every 6 hours. */
certa_ticket_keys *ticket_keys_default(void);

#endif
