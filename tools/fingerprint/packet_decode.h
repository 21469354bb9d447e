/* certa fingerprint: one captured packet -> the TCP segment it carries.
 * Link layers (Ethernet with VLAN tags, Linux cooked SLL and SLL2,
 * loopback/null, raw IPv4/IPv6), then IPv4 or IPv6, then TCP, all read
 * through the cursor API. No libpcap here (capture_file.c reads the file),
 * so the fuzz target can compile it in. */
#ifndef CERTA_FINGERPRINT_PACKET_DECODE_H
#define CERTA_FINGERPRINT_PACKET_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The link layers we read, independent of libpcap's DLT_ numbers. */
typedef enum capture_link {
    CAPTURE_LINK_ETHERNET = 0,
    CAPTURE_LINK_NULL, /* BSD loopback: 4-byte address family in the writer's byte order */
    CAPTURE_LINK_LOOP, /* OpenBSD loopback: the same in network byte order */
    CAPTURE_LINK_RAW,  /* an IPv4 or IPv6 header first */
    CAPTURE_LINK_IPV4,
    CAPTURE_LINK_IPV6,
    CAPTURE_LINK_SLL,  /* Linux cooked capture v1 (tcpdump -i any) */
    CAPTURE_LINK_SLL2, /* Linux cooked capture v2 (tshark -i any) */
} capture_link;

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04

/* One direction of a TCP connection. */
typedef struct flow_key {
    uint8_t family; /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
} flow_key;

typedef struct tcp_segment {
    flow_key key;
    uint32_t seq;
    uint8_t flags;
    const uint8_t *payload; /* points into the packet */
    size_t payload_len;
    bool truncated; /* the capture cut the packet short (snap length) */
} tcp_segment;

typedef enum packet_kind {
    PACKET_TCP = 0,   /* *seg filled */
    PACKET_NOT_TCP,   /* another protocol (ARP, UDP, ICMP ...) */
    PACKET_FRAGMENT,  /* an IP fragment: not reassembled */
    PACKET_MALFORMED, /* headers that do not hold together */
} packet_kind;

/* Decodes a packet of caplen bytes as captured (wire_len as it was on the
 * wire, which may be longer). */
packet_kind packet_decode(capture_link link, const uint8_t *pkt, size_t caplen, size_t wire_len,
                          tcp_segment *seg);

/* "127.0.0.1:443" / "[::1]:443" for one end of a flow. */
void flow_format_end(const flow_key *k, bool source, char *out, size_t cap);

#endif
