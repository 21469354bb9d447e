/* certa fingerprint: per-direction TCP reassembly up to the ClientHellos.
 * A stream's byte 0 is the one after the SYN (or the first segment seen,
 * for connections the capture joined late). Segments are copied to where
 * their sequence number puts them, so out-of-order arrival, overlaps and
 * retransmissions come out right; what the stream has from byte 0 on
 * without a gap is handed to hello_find each time it grows. Not handled:
 * data before the stream's byte 0 (a late-joined capture's earlier
 * bytes), data past max_bytes, a 17th hole, IP fragments (packet_decode). */
#include "fingerprint/tcp_streams.h"

#include "fingerprint/hello_finder.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANGES 16

/* Received bytes [start, end) of a stream. */
typedef struct range {
    size_t start, end;
} range;

typedef struct flow {
    flow_key key;
    struct flow *hash_next;
    struct flow *lru_prev, *lru_next; /* lru_prev toward the most recent */
    uint32_t base;                    /* sequence number of the stream's byte 0 */
    uint8_t *buf;
    size_t cap;
    range ranges[MAX_RANGES];
    unsigned nranges;
    size_t contiguous; /* bytes from 0 with no gap */
    unsigned hellos;   /* ClientHellos reported */
    bool done;         /* no further hello can come: buffer freed */
} flow;

struct stream_table {
    flow **buckets;
    size_t nbuckets; /* a power of two */
    flow *lru_head, *lru_tail;
    size_t count, max_flows, max_bytes;
    uint8_t *msg; /* scratch for hello_find, max_bytes */
    stream_hello_fn fn;
    void *arg;
    stream_stats st;
};

static bool key_equal(const flow_key *a, const flow_key *b) {
    return a->family == b->family && a->sport == b->sport && a->dport == b->dport &&
           !memcmp(a->src, b->src, sizeof a->src) && !memcmp(a->dst, b->dst, sizeof a->dst);
}

static size_t key_hash(const stream_table *t, const flow_key *k) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    uint8_t tail[5] = {k->family, (uint8_t)(k->sport >> 8), (uint8_t)k->sport,
                       (uint8_t)(k->dport >> 8), (uint8_t)k->dport};
    const uint8_t *parts[3] = {k->src, k->dst, tail};
    const size_t lens[3] = {sizeof k->src, sizeof k->dst, sizeof tail};
    for (int p = 0; p < 3; p++)
        for (size_t i = 0; i < lens[p]; i++)
            h = (h ^ parts[p][i]) * 1099511628211ull;
    return (size_t)h & (t->nbuckets - 1);
}

stream_table *stream_table_new(size_t max_flows, size_t max_bytes, stream_hello_fn fn, void *arg) {
    if (max_flows == 0 || max_bytes == 0) return NULL;
    stream_table *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->nbuckets = 16;
    while (t->nbuckets < max_flows * 2)
        t->nbuckets *= 2;
    t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
    t->msg = malloc(max_bytes);
    if (!t->buckets || !t->msg) {
        free(t->buckets);
        free(t->msg);
        free(t);
        return NULL;
    }
    t->max_flows = max_flows;
    t->max_bytes = max_bytes;
    t->fn = fn;
    t->arg = arg;
    return t;
}

static void lru_unlink(stream_table *t, flow *f) {
    if (f->lru_prev)
        f->lru_prev->lru_next = f->lru_next;
    else
        t->lru_head = f->lru_next;
    if (f->lru_next)
        f->lru_next->lru_prev = f->lru_prev;
    else
        t->lru_tail = f->lru_prev;
    f->lru_prev = f->lru_next = NULL;
}

static void lru_front(stream_table *t, flow *f) {
    if (t->lru_head == f) return;
    if (f->lru_prev || f->lru_next || t->lru_tail == f) lru_unlink(t, f);
    f->lru_next = t->lru_head;
    if (t->lru_head) t->lru_head->lru_prev = f;
    t->lru_head = f;
    if (!t->lru_tail) t->lru_tail = f;
}

static void flow_release(flow *f) {
    free(f->buf);
    f->buf = NULL;
    f->cap = 0;
    f->nranges = 0;
    f->contiguous = 0;
}

static void flow_remove(stream_table *t, flow *f) {
    flow **p = &t->buckets[key_hash(t, &f->key)];
    while (*p && *p != f)
        p = &(*p)->hash_next;
    if (*p) *p = f->hash_next;
    lru_unlink(t, f);
    flow_release(f);
    free(f);
    t->count--;
}

static flow *flow_find(stream_table *t, const flow_key *k) {
    for (flow *f = t->buckets[key_hash(t, k)]; f; f = f->hash_next)
        if (key_equal(&f->key, k)) return f;
    return NULL;
}

static flow *flow_create(stream_table *t, const flow_key *k, uint32_t base) {
    if (t->count >= t->max_flows && t->lru_tail) {
        /* A loss only if its first hello had not been seen yet. */
        if (!t->lru_tail->done && t->lru_tail->hellos == 0) t->st.evicted++;
        flow_remove(t, t->lru_tail);
    }
    flow *f = calloc(1, sizeof *f);
    if (!f) return NULL;
    f->key = *k;
    f->base = base;
    size_t b = key_hash(t, k);
    f->hash_next = t->buckets[b];
    t->buckets[b] = f;
    t->count++;
    t->st.flows++;
    return f;
}

static void flow_finish(flow *f) {
    flow_release(f);
    f->done = true;
}

/* Adds [start, end) to the sorted, merged ranges; false if that would make
 * more than MAX_RANGES. */
static bool ranges_add(flow *f, size_t start, size_t end) {
    range all[MAX_RANGES + 1];
    unsigned n = 0, i = 0;
    while (i < f->nranges && f->ranges[i].start <= start)
        all[n++] = f->ranges[i++];
    all[n++] = (range){start, end};
    while (i < f->nranges)
        all[n++] = f->ranges[i++];
    /* Merge overlapping or touching neighbours, in place. */
    unsigned m = 0;
    for (unsigned k = 1; k < n; k++) {
        if (all[k].start <= all[m].end) {
            if (all[k].end > all[m].end) all[m].end = all[k].end;
        } else {
            all[++m] = all[k];
        }
    }
    if (m + 1 > MAX_RANGES) return false;
    memcpy(f->ranges, all, (m + 1) * sizeof all[0]);
    f->nranges = m + 1;
    return true;
}

/* Hands the gap-free prefix to hello_find until it wants more bytes. */
static void flow_scan(stream_table *t, flow *f, void *ctx) {
    while (!f->done) {
        size_t len = 0;
        hello_status s = hello_find(f->buf, f->contiguous, f->hellos, t->msg, t->max_bytes, &len);
        if (s == HELLO_FOUND) {
            t->st.hellos++;
            t->fn(t->arg, ctx, &f->key, f->hellos, t->msg, len);
            /* A third ClientHello is never legitimate: stop looking. */
            if (++f->hellos == 2) flow_finish(f);
            continue;
        }
        if (s == HELLO_NEED_MORE && f->contiguous < t->max_bytes) return;
        if (s == HELLO_TOO_BIG || s == HELLO_NEED_MORE) t->st.too_big++;
        flow_finish(f);
    }
}

static void flow_place(stream_table *t, flow *f, uint32_t seq, const uint8_t *data, size_t len,
                       void *ctx) {
    size_t rel = (uint32_t)(seq - f->base);
    if (rel >= t->max_bytes) return; /* before byte 0 (wrapped), or past the bound */
    size_t end = len > t->max_bytes - rel ? t->max_bytes : rel + len;
    if (end > f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 4096;
        if (ncap < end) ncap = end;
        if (ncap > t->max_bytes) ncap = t->max_bytes;
        uint8_t *nb = realloc(f->buf, ncap);
        if (!nb) return;
        f->buf = nb;
        f->cap = ncap;
    }
    if (!ranges_add(f, rel, end)) {
        t->st.dropped_holes++;
        return;
    }
    memcpy(f->buf + rel, data, end - rel);
    size_t before = f->contiguous;
    f->contiguous = f->ranges[0].start == 0 ? f->ranges[0].end : 0;
    if (f->contiguous > before) flow_scan(t, f, ctx);
}

void stream_table_add(stream_table *t, const tcp_segment *seg, void *ctx) {
    t->st.segments++;
    flow *f = flow_find(t, &seg->key);
    uint32_t data_seq = seg->seq;
    if (seg->flags & TCP_FLAG_SYN) {
        data_seq = seg->seq + 1; /* the SYN takes one sequence number */
        if (f && (f->base != data_seq || f->done)) {
            flow_remove(t, f); /* a new connection on the same ports */
            f = NULL;
        }
        if (!f) f = flow_create(t, &seg->key, data_seq);
    } else if (!f) {
        if (seg->payload_len == 0 || (seg->flags & (TCP_FLAG_FIN | TCP_FLAG_RST))) return;
        f = flow_create(t, &seg->key, seg->seq); /* joined late: start here */
    }
    if (!f) return;
    lru_front(t, f);
    if (!f->done && seg->payload_len > 0)
        flow_place(t, f, data_seq, seg->payload, seg->payload_len, ctx);
    /* Kept (done) rather than removed, so a retransmission after the FIN
     * is not taken for a new stream's start. */
    if (seg->flags & (TCP_FLAG_FIN | TCP_FLAG_RST)) flow_finish(f);
}

void stream_table_stats(const stream_table *t, stream_stats *out) {
    *out = t->st;
    out->unfinished = 0;
    for (const flow *f = t->lru_head; f; f = f->lru_next)
        if (!f->done && f->hellos == 0 && f->nranges > 0) out->unfinished++;
}

void stream_table_free(stream_table *t) {
    if (!t) return;
    while (t->lru_head)
        flow_remove(t, t->lru_head);
    free(t->buckets);
    free(t->msg);
    free(t);
}
