/* certa fingerprint's capture side and certa proxy's JA4 lists, compiled
 * in: hello_finder (records -> ClientHello: several records, coalesced
 * hellos, CCS before a second hello, what ends the search), tcp_streams
 * (out-of-order, retransmitted and wrapping segments, the hole, flow and
 * size bounds, FIN, port reuse, late-joined streams), packet_decode on a
 * truncated frame, and proxy_ja4 (values, JA4_a prefixes, @FILE, refusals). */
#include "../../tools/fingerprint/hello_finder.c"
#include "../../tools/fingerprint/packet_decode.c"
#include "../../tools/fingerprint/tcp_streams.c"
#include "../../tools/proxy/proxy_ja4.c"
#include "testlib.h"

#include <unistd.h>

/* A handshake message of type 1 with a body of n bytes 0, 1, 2, ... */
static size_t make_hello(uint8_t *out, size_t n, uint8_t seed) {
    out[0] = 1;
    out[1] = (uint8_t)(n >> 16);
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    for (size_t i = 0; i < n; i++)
        out[4 + i] = (uint8_t)(i + seed);
    return n + 4;
}

/* Wraps msg in records of at most per bytes each; returns the length. */
static size_t make_records(uint8_t *out, uint8_t type, const uint8_t *msg, size_t len, size_t per) {
    size_t o = 0;
    for (size_t off = 0; off < len; off += per) {
        size_t n = len - off < per ? len - off : per;
        out[o++] = type;
        out[o++] = 3;
        out[o++] = 1;
        out[o++] = (uint8_t)(n >> 8);
        out[o++] = (uint8_t)n;
        memcpy(out + o, msg + off, n);
        o += n;
    }
    return o;
}

static void test_hello_finder(void) {
    uint8_t hello[600], hello2[300], stream[2000], msg[1000];
    size_t hl = make_hello(hello, 500, 7), h2l = make_hello(hello2, 200, 9), got;
    size_t sl = make_records(stream, 22, hello, hl, 4096);
    CHECK(hello_find(stream, sl, 0, msg, sizeof msg, &got) == HELLO_FOUND && got == hl &&
              !memcmp(msg, hello, hl),
          "one record: the message");
    sl = make_records(stream, 22, hello, hl, 150);
    CHECK(hello_find(stream, sl, 0, msg, sizeof msg, &got) == HELLO_FOUND && got == hl &&
              !memcmp(msg, hello, hl),
          "the message over four records");
    CHECK(hello_find(stream, sl - 1, 0, msg, sizeof msg, &got) == HELLO_NEED_MORE,
          "cut one byte short: wants more");
    CHECK(hello_find(stream, 3, 0, msg, sizeof msg, &got) == HELLO_NEED_MORE,
          "three bytes of a handshake record: wants more");
    CHECK(hello_find(stream, sl, 0, msg, 100, &got) == HELLO_TOO_BIG, "larger than the buffer");
    CHECK(hello_find(stream, sl, 1, msg, sizeof msg, &got) == HELLO_NEED_MORE,
          "a second hello may follow: wants more");
    /* CCS, then the second hello (after a HelloRetryRequest). */
    static const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
    memcpy(stream + sl, ccs, sizeof ccs);
    size_t l2 = sl + sizeof ccs + make_records(stream + sl + sizeof ccs, 22, hello2, h2l, 4096);
    CHECK(hello_find(stream, l2, 1, msg, sizeof msg, &got) == HELLO_FOUND && got == h2l &&
              !memcmp(msg, hello2, h2l),
          "ChangeCipherSpec, then the second hello");
    static const uint8_t app[] = {23, 3, 3, 0, 2, 'h', 'i'};
    memcpy(stream + sl, app, sizeof app);
    CHECK(hello_find(stream, sl + sizeof app, 1, msg, sizeof msg, &got) == HELLO_END,
          "application data after the hello: no second one");
    /* Two hellos coalesced into one record. */
    uint8_t both[900];
    memcpy(both, hello, hl);
    memcpy(both + hl, hello2, h2l);
    sl = make_records(stream, 22, both, hl + h2l, 4096);
    CHECK(hello_find(stream, sl, 1, msg, sizeof msg, &got) == HELLO_FOUND && got == h2l &&
              !memcmp(msg, hello2, h2l),
          "two hellos in one record: the second");
    /* Not a client's stream. */
    static const uint8_t server_hello[] = {22, 3, 3, 0, 4, 2, 0, 0, 0};
    CHECK(hello_find(server_hello, sizeof server_hello, 0, msg, sizeof msg, &got) == HELLO_NOT_TLS,
          "a ServerHello: not a client's start");
    CHECK(hello_find(server_hello, 6, 0, msg, sizeof msg, &got) == HELLO_NOT_TLS,
          "a ServerHello's first byte in an incomplete record is enough");
    static const uint8_t get[] = "GET / HTTP/1.1\r\n";
    CHECK(hello_find(get, 1, 0, msg, sizeof msg, &got) == HELLO_NOT_TLS, "HTTP: not TLS at once");
    static const uint8_t empty_record[] = {22, 3, 1, 0, 0};
    CHECK(hello_find(empty_record, 5, 0, msg, sizeof msg, &got) == HELLO_NOT_TLS,
          "an empty handshake record is refused");
    static const uint8_t sslv2[] = {22, 2, 0, 0, 9};
    CHECK(hello_find(sslv2, 5, 0, msg, sizeof msg, &got) == HELLO_NOT_TLS, "record version 2.x");
}

/* The stream tests' callback: counts hellos and keeps the last. */
typedef struct seen {
    unsigned count, last_index;
    uint8_t last[2000];
    size_t last_len;
    flow_key last_key;
} seen;

static void on_hello(void *arg, void *ctx, const flow_key *key, unsigned index, const uint8_t *msg,
                     size_t len) {
    seen *s = arg;
    (void)ctx;
    s->count++;
    s->last_index = index;
    s->last_key = *key;
    s->last_len = len < sizeof s->last ? len : sizeof s->last;
    memcpy(s->last, msg, s->last_len);
}

static tcp_segment seg_of(uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *p, size_t n) {
    tcp_segment g;
    memset(&g, 0, sizeof g);
    g.key.family = 4;
    g.key.src[0] = 127;
    g.key.src[3] = 1;
    g.key.dst[0] = 127;
    g.key.dst[3] = 2;
    g.key.sport = sport;
    g.key.dport = 443;
    g.seq = seq;
    g.flags = flags;
    g.payload = p;
    g.payload_len = n;
    return g;
}

static void add(stream_table *t, uint16_t sport, uint32_t seq, uint8_t flags, const uint8_t *p,
                size_t n) {
    tcp_segment g = seg_of(sport, seq, flags, p, n);
    stream_table_add(t, &g, NULL);
}

static void test_streams(void) {
    uint8_t hello[1200], stream[1400];
    size_t hl = make_hello(hello, 1100, 3);
    size_t sl = make_records(stream, 22, hello, hl, 400);
    seen s;
    stream_stats st;

    /* Out of order, with a retransmission and an overlap, across the wrap. */
    memset(&s, 0, sizeof s);
    stream_table *t = stream_table_new(16, 65536, on_hello, &s);
    uint32_t isn = 0xfffffe00u;
    add(t, 1000, isn, TCP_FLAG_SYN, NULL, 0);
    add(t, 1000, isn + 1 + 700, 0, stream + 700, sl - 700);
    add(t, 1000, isn + 1 + 300, 0, stream + 300, 500); /* overlaps the next */
    add(t, 1000, isn + 1 + 300, 0, stream + 300, 500); /* retransmitted */
    CHECK(s.count == 0, "a hole at the start: nothing yet");
    add(t, 1000, isn + 1, 0, stream, 300);
    CHECK(s.count == 1 && s.last_index == 0 && s.last_len == hl && !memcmp(s.last, hello, hl) &&
              s.last_key.sport == 1000,
          "out of order, overlapping, retransmitted, wrapping: the hello, once");
    add(t, 1000, isn + 1, 0, stream, 300);
    CHECK(s.count == 1, "a later retransmission of the start reports nothing new");
    stream_table_free(t);

    /* A late-joined stream (no SYN) that starts with the hello. */
    memset(&s, 0, sizeof s);
    t = stream_table_new(16, 65536, on_hello, &s);
    add(t, 1001, 12345, 0, stream, sl);
    CHECK(s.count == 1, "no SYN seen: the first segment starts the stream");
    /* FIN: the flow is done; its retransmissions are no new stream. */
    add(t, 1001, 12345 + (uint32_t)sl, TCP_FLAG_FIN, NULL, 0);
    add(t, 1001, 12345, 0, stream, sl);
    CHECK(s.count == 1, "after the FIN a retransmitted hello is not a new stream");
    /* The same ports again with a new SYN: a new connection. */
    add(t, 1001, 999, TCP_FLAG_SYN, NULL, 0);
    add(t, 1001, 1000, 0, stream, sl);
    CHECK(s.count == 2, "a new SYN on the same ports starts a new stream");
    stream_table_free(t);

    /* More than 16 holes: segments dropped, and said. */
    memset(&s, 0, sizeof s);
    t = stream_table_new(16, 65536, on_hello, &s);
    add(t, 1002, 0, TCP_FLAG_SYN, NULL, 0);
    for (uint32_t k = 0; k < 20; k++)
        add(t, 1002, 1 + 100 + k * 20, 0, stream + 100 + k * 20, 10);
    stream_table_stats(t, &st);
    CHECK(st.dropped_holes == 4 && s.count == 0, "the 17th to 20th disjoint pieces are dropped");
    stream_table_free(t);

    /* A hello over the per-stream bound. */
    memset(&s, 0, sizeof s);
    t = stream_table_new(16, 512, on_hello, &s);
    add(t, 1003, 0, TCP_FLAG_SYN, NULL, 0);
    add(t, 1003, 1, 0, stream, sl);
    stream_table_stats(t, &st);
    CHECK(s.count == 0 && st.too_big == 1, "a hello larger than max_bytes: counted as too big");
    stream_table_free(t);

    /* Two flows at most: the least recently active is dropped. A and B
     * start, A finishes, C starts (B is the least recent: dropped), B's
     * rest then looks like a stream joined mid-record, C finishes. */
    memset(&s, 0, sizeof s);
    t = stream_table_new(2, 65536, on_hello, &s);
    add(t, 2000, 0, TCP_FLAG_SYN, NULL, 0);
    add(t, 2000, 1, 0, stream, 100);
    add(t, 2001, 0, TCP_FLAG_SYN, NULL, 0);
    add(t, 2001, 1, 0, stream, 100);
    add(t, 2000, 101, 0, stream + 100, sl - 100);
    CHECK(s.count == 1 && s.last_key.sport == 2000, "max_flows 2: the first stream's hello");
    add(t, 2002, 0, TCP_FLAG_SYN, NULL, 0);
    add(t, 2002, 1, 0, stream, 100);
    add(t, 2001, 101, 0, stream + 100, sl - 100);
    add(t, 2002, 101, 0, stream + 100, sl - 100);
    stream_table_stats(t, &st);
    CHECK(
        s.count == 2 && s.last_key.sport == 2002 && st.evicted == 1,
        "a third stream evicts the least recently active unfinished one (%u hellos, %llu evicted)",
        s.count, (unsigned long long)st.evicted);
    stream_table_free(t);

    /* Two hellos in one stream (a HelloRetryRequest in between). */
    memset(&s, 0, sizeof s);
    t = stream_table_new(16, 65536, on_hello, &s);
    add(t, 1004, 0, TCP_FLAG_SYN, NULL, 0);
    add(t, 1004, 1, 0, stream, sl);
    add(t, 1004, 1 + (uint32_t)sl, 0, stream, sl);
    CHECK(s.count == 2 && s.last_index == 1, "the second hello of a stream has index 1");
    stream_table_free(t);
}

static void test_decode(void) {
    /* Ethernet + IPv4 + TCP with 4 payload bytes, then the same cut short. */
    uint8_t f[14 + 20 + 20 + 4] = {0};
    f[12] = 0x08;
    f[14] = 0x45;
    f[17] = 20 + 20 + 4;
    f[23] = 6;
    f[34 + 12] = 5 << 4;
    memcpy(f + 54, "\x16\x03\x01\x00", 4);
    tcp_segment g;
    CHECK(packet_decode(CAPTURE_LINK_ETHERNET, f, sizeof f, sizeof f, &g) == PACKET_TCP &&
              g.payload_len == 4 && !g.truncated,
          "Ethernet/IPv4/TCP: the payload");
    CHECK(packet_decode(CAPTURE_LINK_ETHERNET, f, sizeof f - 2, sizeof f, &g) == PACKET_TCP &&
              g.payload_len == 2 && g.truncated,
          "cut by the snap length: what is there, marked truncated");
    CHECK(packet_decode(CAPTURE_LINK_ETHERNET, f, 40, sizeof f, &g) == PACKET_MALFORMED,
          "cut inside the TCP header: malformed");
    f[20] = 0x20; /* more fragments */
    CHECK(packet_decode(CAPTURE_LINK_ETHERNET, f, sizeof f, sizeof f, &g) == PACKET_FRAGMENT,
          "an IP fragment is reported, not decoded");
}

static void test_ja4_lists(void) {
    proxy_ja4_list l;
    memset(&l, 0, sizeof l);
    char why[700];
    const char *a = "t13d1516h2_8daaf6152771_02713d6af862";
    CHECK(proxy_ja4_list_add(&l, " T13D1516h2_8DAAF6152771_02713d6af862 , t13i030700", "--x", why,
                             sizeof why) == false,
          "an upper-case protocol letter is refused");
    CHECK(proxy_ja4_list_add(&l, " t13d1516h2_8DAAF6152771_02713d6af862 , t13i030700", "--x", why,
                             sizeof why),
          "a JA4 and a JA4_a, blanks around them, upper-case hex");
    CHECK(proxy_ja4_list_match(&l, a), "the JA4 matches (hex compared in lower case)");
    CHECK(proxy_ja4_list_match(&l, "t13i030700_55b375c5d22e_607b39726011"),
          "a JA4 beginning with the JA4_a matches");
    CHECK(!proxy_ja4_list_match(&l, "t13i030800_55b375c5d22e_607b39726011") &&
              !proxy_ja4_list_match(&l, "t13d1516h2_8daaf6152771_02713d6af863"),
          "others do not");
    CHECK(!proxy_ja4_list_add(&l, "t13d1516h2_8daaf6152771", "--x", why, sizeof why) &&
              strstr(why, "36 characters"),
          "a JA4 without its third part: %s", why);
    CHECK(!proxy_ja4_list_add(&l, "t13x1516h2", "--x", why, sizeof why) && strstr(why, "d (SNI"),
          "the SNI letter: %s", why);
    CHECK(!proxy_ja4_list_add(&l, "t13d15a6h2", "--x", why, sizeof why) && strstr(why, "counts"),
          "the counts: %s", why);
    CHECK(!proxy_ja4_list_add(&l, "t13d1516h2-8daaf6152771_02713d6af862", "--x", why, sizeof why) &&
              strstr(why, "separated by '_'"),
          "the separators: %s", why);
    CHECK(!proxy_ja4_list_add(&l, ",,", "--x", why, sizeof why) || l.count > 0,
          "an empty list adds nothing");
    proxy_ja4_list_free(&l);
    CHECK(!proxy_ja4_list_add(&l, ",", "--x", why, sizeof why) && strstr(why, "no JA4"),
          "a list with no value is refused: %s", why);
    char path[] = "/tmp/certa-ja4-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f) {
        fputs("# scanners\n\nt13d1516h2_8daaf6152771_02713d6af862  # one\nt12i0506h1, t13d0309h1\n",
              f);
        fclose(f);
    }
    char arg[64];
    snprintf(arg, sizeof arg, "@%s", path);
    CHECK(proxy_ja4_list_add(&l, arg, "--x", why, sizeof why) && l.count == 3,
          "@FILE: comments, blank lines, several values on a line");
    proxy_opts o;
    memset(&o, 0, sizeof o);
    o.ja4_allow = l;
    CHECK(proxy_ja4_verdict(&o, a) == NULL, "on --allow-ja4: admitted");
    CHECK(proxy_ja4_verdict(&o, "t13d0310h1_8daaf6152771_02713d6af862") != NULL,
          "not on --allow-ja4: refused");
    CHECK(proxy_ja4_list_add(&o.ja4_deny, a, "--x", why, sizeof why) && proxy_ja4_verdict(&o, a) &&
              !strcmp(proxy_ja4_verdict(&o, a), "is on --deny-ja4"),
          "on both lists: deny wins");
    proxy_ja4_list_free(&o.ja4_allow);
    proxy_ja4_list_free(&o.ja4_deny);
    FILE *g = fopen(path, "w");
    if (g) {
        fputs("t13d1516h2_8daaf6152771_02713d6af862\nnope\n", g);
        fclose(g);
    }
    memset(&l, 0, sizeof l);
    CHECK(!proxy_ja4_list_add(&l, arg, "--x", why, sizeof why) && strstr(why, "line 2"),
          "@FILE: the bad line is named: %s", why);
    proxy_ja4_list_free(&l);
    unlink(path);
    CHECK(!proxy_ja4_list_add(&l, arg, "--x", why, sizeof why) && strstr(why, "cannot read"),
          "@FILE missing: %s", why);
    proxy_ja4_list_free(&l);
}

int main(void) {
    test_hello_finder();
    test_streams();
    test_decode();
    test_ja4_lists();
    TEST_EXIT();
}
