/* libFuzzer target: certa fingerprint's capture parsing without libpcap —
 * packet_decode (link layers, IPv4/IPv6, TCP), tcp_streams (reassembly)
 * and hello_finder (records -> ClientHello), compiled in, then the library's
 * fingerprint of each hello found. The input is a sequence of packets:
 * a link-type byte, a 2-byte length, that many bytes. A small table (8
 * flows, 4 KiB per stream) reaches eviction and the bounds quickly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "certa.h"

#include "../tools/fingerprint/hello_finder.c"
#include "../tools/fingerprint/packet_decode.c"
#include "../tools/fingerprint/tcp_streams.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_hello(void *arg, void *ctx, const flow_key *key, unsigned index, const uint8_t *msg,
                     size_t len) {
    (void)ctx;
    (void)key;
    size_t *count = arg;
    if (index > 1 || len < 4) abort(); /* at most two hellos a stream; a whole header */
    certa_fingerprint fp;
    if (certa_fingerprint_client_hello(msg, len, &fp) == CERTA_OK && strlen(fp.ja4) != 36) abort();
    (*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    size_t hellos = 0;
    stream_table *t = stream_table_new(8, 4096, on_hello, &hellos);
    if (!t) return 0;
    cursor c;
    cur_init(&c, data, size);
    uint8_t link;
    uint16_t len;
    const uint8_t *pkt;
    while (cur_u8(&c, &link) && cur_u16(&c, &len) && cur_bytes(&c, len, &pkt)) {
        /* A copy of exactly len bytes: a read past it is caught by ASan. */
        uint8_t *copy = malloc(len ? len : 1);
        if (!copy) break;
        memcpy(copy, pkt, len);
        tcp_segment seg;
        /* The top bit says the capture cut the packet short. */
        size_t wire = (link & 0x80) ? (size_t)len + 100 : len;
        if (packet_decode((capture_link)((link & 0x7f) % 8), copy, len, wire, &seg) == PACKET_TCP) {
            if (seg.payload_len &&
                (seg.payload < copy || seg.payload + seg.payload_len > copy + len))
                abort();
            stream_table_add(t, &seg, NULL);
        }
        free(copy);
    }
    stream_stats st;
    stream_table_stats(t, &st);
    if (st.hellos != hellos) abort();
    stream_table_free(t);
    return 0;
}
