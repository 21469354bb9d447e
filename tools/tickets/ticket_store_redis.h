/* --store redis://HOST:PORT[/DB] (or unix:/PATH[?db=N]) on certa serve and
 * certa proxy: the fleet's session-ticket keys live in Redis (hiredis), so
 * every member seals with the current key and opens tickets under recent
 * ones, and rotation happens once for the fleet.
 *
 * The keys are one Redis string, `certa:ticket-keys`, in the key-file
 * format (ticket_key_file.h). A background thread reads it every 2 s and
 * gives a changed set to the ring; when the newest key is older than the
 * rotation interval, the member that notices first adds a key with
 * WATCH/MULTI/EXEC (a member that loses the race reads the winner's), so a
 * rotation happens once; the first member to find no key creates it (SET
 * NX). Every Redis call has a 250 ms timeout and runs on that thread only:
 * handshakes never wait for Redis. Redis down: the ring keeps the keys it
 * has (or, if Redis was never reached, keys of its own that rotate
 * locally); one log line per change of state. */
#ifndef CERTA_TOOLS_TICKET_STORE_REDIS_H
#define CERTA_TOOLS_TICKET_STORE_REDIS_H

#include "common/cli_common.h"

/* Checks a --store URL: true, or false with why. */
bool store_url_ok(const char *url, char *why, size_t cap);
/* Starts sharing ring's keys through the store at url (rotation every
 * rotate_seconds, tickets living lifetime seconds); cmd names the logs.
 * 0, or -1 with why (a bad URL; an unreachable store is not an error). */
int store_start(const char *url, certa_ticket_keys *ring, uint32_t rotate_seconds,
                uint32_t lifetime, const char *cmd, char *why, size_t cap);
void store_stop(void);
/* certa_replay_check_fn on the same Redis: SET certa:replay:HEX 1 NX EX
 * keep_seconds, so a ticket's early data is accepted once in the whole
 * fleet. One connection shared under a lock, 20 ms per call; after a
 * failure no call for a second (early data is rejected meanwhile: fail
 * closed, the handshake goes on). */
int store_replay_check(void *arg, const uint8_t *id, size_t id_len, uint32_t keep_seconds);

#endif
