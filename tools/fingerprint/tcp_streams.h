/* certa fingerprint: TCP reassembly, only as far as the ClientHellos at the
 * start of each stream. Per direction of a connection: the bytes from the
 * initial sequence number (SYN seen) or from the first segment seen, kept
 * in a buffer of at most max_bytes, with up to 16 disjoint ranges received
 * (out-of-order segments and retransmissions are placed where their
 * sequence number says; a 17th hole drops the segment). Flows are bounded
 * (max_flows, least recently used evicted) and free their buffer as soon
 * as no further hello can come. No libpcap here. */
#ifndef CERTA_FINGERPRINT_TCP_STREAMS_H
#define CERTA_FINGERPRINT_TCP_STREAMS_H

#include "fingerprint/packet_decode.h"

#include <stddef.h>
#include <stdint.h>

typedef struct stream_table stream_table;

/* Called for every ClientHello found: index 0 for a stream's first, 1 for
 * the one after a HelloRetryRequest; ctx is what stream_table_add was given
 * with the segment that completed it. */
typedef void (*stream_hello_fn)(void *arg, void *ctx, const flow_key *key, unsigned index,
                                const uint8_t *msg, size_t len);

typedef struct stream_stats {
    uint64_t segments;      /* TCP segments given */
    uint64_t flows;         /* directions seen */
    uint64_t evicted;       /* flows dropped for room (max_flows) */
    uint64_t dropped_holes; /* segments dropped: too many holes in one stream */
    uint64_t hellos;        /* ClientHellos reported */
    uint64_t too_big;       /* streams whose hello did not fit max_bytes */
    uint64_t unfinished;    /* streams still waiting for bytes at the end */
} stream_stats;

stream_table *stream_table_new(size_t max_flows, size_t max_bytes, stream_hello_fn fn, void *arg);
void stream_table_add(stream_table *t, const tcp_segment *seg, void *ctx);
/* Counts, with `unfinished` computed for the flows still open. */
void stream_table_stats(const stream_table *t, stream_stats *out);
void stream_table_free(stream_table *t);

#endif
