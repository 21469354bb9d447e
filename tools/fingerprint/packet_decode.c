/* certa fingerprint: link layer -> IP -> TCP, every byte through the
 * cursor API. IP fragments are reported, not reassembled (a ClientHello is
 * carried by TCP segments, which hosts keep under the path MTU). */
#include "fingerprint/packet_decode.h"

#include "wire/cursor.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPPROTO_TCP_NUMBER 6

/* TCP header -> seg. rest is the IP payload. */
static packet_kind decode_tcp(cursor *ip_payload, bool truncated, tcp_segment *seg) {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t off_byte, flags;
    if (!cur_u16(ip_payload, &sport) || !cur_u16(ip_payload, &dport) ||
        !cur_u32(ip_payload, &seq) || !cur_u32(ip_payload, &ack) ||
        !cur_u8(ip_payload, &off_byte) || !cur_u8(ip_payload, &flags))
        return PACKET_MALFORMED;
    size_t header_len = (size_t)(off_byte >> 4) * 4;
    /* 14 bytes read so far; window, checksum, urgent pointer and options follow. */
    if (header_len < 20 || !cur_skip(ip_payload, header_len - 14)) return PACKET_MALFORMED;
    seg->key.sport = sport;
    seg->key.dport = dport;
    seg->seq = seq;
    seg->flags = flags & (TCP_FLAG_FIN | TCP_FLAG_SYN | TCP_FLAG_RST);
    seg->payload_len = cur_left(ip_payload);
    if (!cur_bytes(ip_payload, seg->payload_len, &seg->payload)) return PACKET_MALFORMED;
    seg->truncated = truncated;
    return PACKET_TCP;
}

/* The bytes an IP header says its packet has, cut to what was captured.
 * A length of 0 (a capture of a segmentation-offloaded packet) means
 * "the rest". */
static void ip_body(cursor *after_header, size_t said, bool *truncated, cursor *body) {
    size_t have = cur_left(after_header);
    if (said == 0 || said > have) {
        *truncated = *truncated || said > have;
        said = have;
    }
    cur_sub(after_header, said, body);
}

static packet_kind decode_ipv4(cursor *c, bool truncated, tcp_segment *seg) {
    uint8_t vihl, tos, ttl, proto;
    uint16_t total, id, frag, sum;
    const uint8_t *src, *dst;
    if (!cur_u8(c, &vihl) || (vihl >> 4) != 4 || !cur_u8(c, &tos) || !cur_u16(c, &total) ||
        !cur_u16(c, &id) || !cur_u16(c, &frag) || !cur_u8(c, &ttl) || !cur_u8(c, &proto) ||
        !cur_u16(c, &sum) || !cur_bytes(c, 4, &src) || !cur_bytes(c, 4, &dst))
        return PACKET_MALFORMED;
    size_t header_len = (size_t)(vihl & 0x0f) * 4;
    if (header_len < 20 || !cur_skip(c, header_len - 20)) return PACKET_MALFORMED;
    if (total != 0 && total < header_len) return PACKET_MALFORMED;
    if (proto != IPPROTO_TCP_NUMBER) return PACKET_NOT_TCP;
    if ((frag & 0x3fff) != 0) return PACKET_FRAGMENT; /* more fragments, or an offset */
    cursor body;
    ip_body(c, total ? total - header_len : 0, &truncated, &body);
    memset(&seg->key, 0, sizeof seg->key);
    seg->key.family = 4;
    memcpy(seg->key.src, src, 4);
    memcpy(seg->key.dst, dst, 4);
    return decode_tcp(&body, truncated, seg);
}

static packet_kind decode_ipv6(cursor *c, bool truncated, tcp_segment *seg) {
    uint32_t vtcfl;
    uint16_t payload_len;
    uint8_t next, hops;
    const uint8_t *src, *dst;
    if (!cur_u32(c, &vtcfl) || (vtcfl >> 28) != 6 || !cur_u16(c, &payload_len) ||
        !cur_u8(c, &next) || !cur_u8(c, &hops) || !cur_bytes(c, 16, &src) ||
        !cur_bytes(c, 16, &dst))
        return PACKET_MALFORMED;
    cursor body;
    ip_body(c, payload_len, &truncated, &body);
    /* Extension headers before TCP: at most 8, each with its own length. */
    for (int k = 0; k < 8 && next != IPPROTO_TCP_NUMBER; k++) {
        uint8_t after, len;
        if (next == 44) return PACKET_FRAGMENT;
        if (next != 0 && next != 43 && next != 60 && next != 51) return PACKET_NOT_TCP;
        if (!cur_u8(&body, &after) || !cur_u8(&body, &len)) return PACKET_MALFORMED;
        /* AH counts 4-byte units minus 2; the others 8-byte units minus 1. */
        size_t total = next == 51 ? ((size_t)len + 2) * 4 : ((size_t)len + 1) * 8;
        if (!cur_skip(&body, total - 2)) return PACKET_MALFORMED;
        next = after;
    }
    if (next != IPPROTO_TCP_NUMBER) return PACKET_NOT_TCP;
    memset(&seg->key, 0, sizeof seg->key);
    seg->key.family = 6;
    memcpy(seg->key.src, src, 16);
    memcpy(seg->key.dst, dst, 16);
    return decode_tcp(&body, truncated, seg);
}

static packet_kind decode_ethertype(uint16_t type, cursor *c, bool truncated, tcp_segment *seg) {
    if (type == ETHERTYPE_IPV4) return decode_ipv4(c, truncated, seg);
    if (type == ETHERTYPE_IPV6) return decode_ipv6(c, truncated, seg);
    return PACKET_NOT_TCP;
}

/* By the version nibble. */
static packet_kind decode_ip(cursor *c, bool truncated, tcp_segment *seg) {
    uint8_t v;
    if (!cur_peek_u8(c, &v)) return PACKET_MALFORMED;
    if ((v >> 4) == 4) return decode_ipv4(c, truncated, seg);
    if ((v >> 4) == 6) return decode_ipv6(c, truncated, seg);
    return PACKET_NOT_TCP;
}

/* BSD loopback: AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24
 * (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (macOS); the writer's byte order. */
static packet_kind decode_null(cursor *c, bool truncated, tcp_segment *seg) {
    uint32_t fam;
    if (!cur_u32(c, &fam)) return PACKET_MALFORMED;
    if (fam > 0xffff) fam = ((fam >> 24) & 0xff) | ((fam >> 8) & 0xff00);
    if (fam == 2) return decode_ipv4(c, truncated, seg);
    if (fam == 10 || fam == 24 || fam == 28 || fam == 30) return decode_ipv6(c, truncated, seg);
    return PACKET_NOT_TCP;
}

static packet_kind decode_ethernet(cursor *c, bool truncated, tcp_segment *seg) {
    uint16_t type;
    if (!cur_skip(c, 12) || !cur_u16(c, &type)) return PACKET_MALFORMED;
    /* 802.1Q / 802.1ad tags, at most two (QinQ). */
    for (int k = 0; k < 2 && (type == 0x8100 || type == 0x88a8 || type == 0x9100); k++)
        if (!cur_skip(c, 2) || !cur_u16(c, &type)) return PACKET_MALFORMED;
    return decode_ethertype(type, c, truncated, seg);
}

packet_kind packet_decode(capture_link link, const uint8_t *pkt, size_t caplen, size_t wire_len,
                          tcp_segment *seg) {
    cursor c;
    cur_init(&c, pkt, caplen);
    bool truncated = wire_len > caplen;
    uint16_t type;
    memset(seg, 0, sizeof *seg);
    switch (link) {
    case CAPTURE_LINK_ETHERNET:
        return decode_ethernet(&c, truncated, seg);
    case CAPTURE_LINK_NULL:
    case CAPTURE_LINK_LOOP:
        return decode_null(&c, truncated, seg);
    case CAPTURE_LINK_RAW:
        return decode_ip(&c, truncated, seg);
    case CAPTURE_LINK_IPV4:
        return decode_ipv4(&c, truncated, seg);
    case CAPTURE_LINK_IPV6:
        return decode_ipv6(&c, truncated, seg);
    case CAPTURE_LINK_SLL: /* packet type, ARPHRD, address length, 8 address bytes, protocol */
        if (!cur_skip(&c, 14) || !cur_u16(&c, &type)) return PACKET_MALFORMED;
        return decode_ethertype(type, &c, truncated, seg);
    case CAPTURE_LINK_SLL2: /* protocol, reserved, ifindex, ARPHRD, type, length, address */
        if (!cur_u16(&c, &type) || !cur_skip(&c, 18)) return PACKET_MALFORMED;
        return decode_ethertype(type, &c, truncated, seg);
    }
    return PACKET_NOT_TCP;
}

void flow_format_end(const flow_key *k, bool source, char *out, size_t cap) {
    char ip[INET6_ADDRSTRLEN] = "?";
    const uint8_t *a = source ? k->src : k->dst;
    inet_ntop(k->family == 6 ? AF_INET6 : AF_INET, a, ip, sizeof ip);
    unsigned port = source ? k->sport : k->dport;
    if (k->family == 6)
        snprintf(out, cap, "[%s]:%u", ip, port);
    else
        snprintf(out, cap, "%s:%u", ip, port);
}
