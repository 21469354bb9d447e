/* The SPIFFE Workload API client of serve, proxy and svid fetch (the
 * library stays sans-I/O: gRPC lives here only). FetchX509SVID over a Unix
 * socket with gRPC's C core: the call carries "workload.spiffe.io: true",
 * sends the empty X509SVIDRequest and reads the stream; each message is
 * judged whole (workload_response.h) before it replaces the SVID held.
 *
 * spiffe_source runs the stream in a thread of its own for the servers: a
 * refused update is logged and the previous SVID kept; a stream that ends
 * or an agent that is unreachable is retried with bounded exponential
 * backoff (0.5 s doubling to 30 s, back to 0.5 s once a message arrives),
 * the SVID held serving meanwhile, and each attempt's log line says when
 * that SVID expires. A new SVID makes spiffe_source_fd readable: the
 * command's main loop builds a new config, as for a rotated file.
 *
 * A second thread reads FetchX509Bundles on the same socket, with the same
 * backoff (an agent answering UNIMPLEMENTED ends it: the SVID stream's
 * bundles then serve alone). Each X509BundlesResponse is judged against
 * the SVID held (svid_bundles_build, svid_update_take_bundles) and replaces
 * its bundles — chain and key never — making spiffe_source_fd readable
 * like a new SVID; a refused set is logged and the last good one serves.
 * Which source wins when both streams carry bundles: the newest good
 * message of either, for every trust domain at once. Both carry the whole
 * current set (the own bundle and every federated one), so the newest is
 * the agent's latest word, per trust domain, and a trust domain it no
 * longer names is gone (a federation ended). Mixing per domain across the
 * two streams could keep a domain one stream has already dropped.
 * A bundles update before the first SVID is set aside: that SVID brings
 * its own set, newer. Each thread makes its own channel per call (as
 * before): one shared channel would put gRPC's own reconnect backoff
 * (up to 120 s) under ours. */
#ifndef CERTA_TOOLS_WORKLOAD_CLIENT_H
#define CERTA_TOOLS_WORKLOAD_CLIENT_H

#include "certa.h"
#include "spiffe/svid_update.h"

#include <stdbool.h>
#include <stddef.h>

#define SPIFFE_BACKOFF_MIN_MS 500
#define SPIFFE_BACKOFF_MAX_MS 30000
/* serve and proxy wait this long at start for the agent's first SVID. */
#define SPIFFE_FIRST_SVID_WAIT_MS 30000

/* The gRPC target for --spiffe-socket ARG (unix:///PATH, unix:/PATH or
 * /PATH), or for $SPIFFE_ENDPOINT_SOCKET when arg is NULL or "env":
 * "unix:/PATH".
 * false with why (none given, or not a Unix socket address). */
bool spiffe_socket_target(const char *arg, char *target, size_t cap, char *why, size_t why_cap);

/* One X509SVIDResponse, judged, within timeout_ms (certa svid fetch);
 * then one X509BundlesResponse, which replaces the SVID's bundles when the
 * agent offers FetchX509Bundles and the set passes (the servers' rule: the
 * newest message wins). source says where the bundles came from, and why
 * not from FetchX509Bundles. 0, or -1 with why (no SVID). */
int spiffe_fetch_once(const char *target, int timeout_ms, svid_update *out, char *source,
                      size_t source_cap, char *why, size_t cap);

typedef struct spiffe_source spiffe_source;
/* Starts the stream's thread; cmd names the command in its log lines
 * (cli_log, so a JSON proxy log stays JSON). NULL on out of memory. */
spiffe_source *spiffe_source_start(const char *target, const char *cmd);
/* Waits up to timeout_ms for the first good SVID, or until stop (may be
 * NULL; asked every 200 ms) says to give up: 0, or -1 with why (the last
 * failure). */
int spiffe_source_wait(spiffe_source *s, int timeout_ms, bool (*stop)(void), char *why, size_t cap);
/* Readable when an SVID newer than the last spiffe_source_apply arrived. */
int spiffe_source_fd(const spiffe_source *s);
/* Puts the SVID held into cfg: chain and key together (one update, so
 * never a mismatched pair) and, with trust, its bundle and the federated
 * ones as the peers' trust anchors. Clears spiffe_source_fd. Returns a
 * CERTA_ code (cfg's error text says why); desc gets the SVID's
 * description ("SVID spiffe://... expires in ..."). */
int spiffe_source_apply(spiffe_source *s, certa_config *cfg, bool trust, char *desc,
                        size_t desc_cap);
/* True once after an update whose bundles (own or federated) differ from
 * the previous update's: a peer verified under the old anchors must not
 * come back through a session ticket (the proxy then makes new ticket keys,
 * as for a changed --client-ca file). */
bool spiffe_source_trust_changed(spiffe_source *s);
/* Stops the thread (cancelling the call) and frees everything, gRPC's
 * globals included once no other user is left. */
void spiffe_source_stop(spiffe_source *s);

/* "SVID spiffe://example.org/web (serial 1A2B) expires in 59m 58s at 2026-12-06 21:00:00 UTC" */
void svid_update_describe(const svid_update *u, int64_t now, char *out, size_t cap);

#endif
