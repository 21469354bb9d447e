/* The ticket-key file a fleet shares (certa serve / proxy --ticket-keys,
 * made by certa ticket-keys): text, versioned, one key per line with the
 * epoch from which it seals:
 *
 *   # certa session-ticket keys: secret, keep it mode 0600
 *   certa-ticket-keys 1
 *   key 1764806400 3f0c...(64 hex digits)
 *   key 1764828000 9a41...
 *
 * Parsing and formatting are ticket_key_format.c (no I/O); the file is
 * written atomically (temporary file, fsync, rename) with mode 0600; a
 * file readable by group or others is refused when read. */
#ifndef CERTA_TOOLS_TICKET_KEY_FILE_H
#define CERTA_TOOLS_TICKET_KEY_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/cli_common.h"

#define TKF_MAX 32 /* as many as a ring holds */

typedef struct tkf_keys {
    uint8_t key[TKF_MAX][32];
    int64_t epoch[TKF_MAX];
    size_t count;
} tkf_keys;

/* Parses the format from text (origin names it in sentences): 0, or -1 with why. */
int tkf_parse(const char *text, size_t len, const char *origin, tkf_keys *out, char *why,
              size_t cap);
/* The format for keys, malloc'd (zeroize it after use); NULL if out of memory. */
char *tkf_format(const tkf_keys *keys, size_t *len);
/* Reads path: 0, or -1 with why (a sentence naming the file and the fix). */
int tkf_read(const char *path, tkf_keys *out, char *why, size_t cap);
/* Writes path atomically, mode 0600: 0 or -1 with why. */
int tkf_write(const char *path, const tkf_keys *keys, char *why, size_t cap);
/* Loads path into ring (certa_ticket_keys_set): 0 or -1 with why. */
int tkf_load(const char *path, certa_ticket_keys *ring, char *why, size_t cap);
void tkf_zero(tkf_keys *keys);
/* Appends a fresh random key sealing from epoch (the oldest goes when
 * full): 0, or -1 without randomness. */
int tkf_add_random(tkf_keys *keys, int64_t epoch);
/* Drops (and zeroizes) all but the newest keep keys. */
void tkf_keep_newest(tkf_keys *keys, size_t keep);
/* --ticket-keys FILE for a server: a ring holding the file's keys, not
 * rotating by itself (the file rules: certa ticket-keys rotate). NULL with
 * why. */
certa_ticket_keys *tkf_ring(const char *path, char *why, size_t cap);

#endif
