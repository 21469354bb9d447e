/* PROXY protocol headers received (--accept-proxy-protocol): a trusted load
 * balancer in front of certa proxy starts each connection with the
 * client's address, as text (v1: "PROXY TCP4 SRC DST SPORT DPORT\r\n", at
 * most 107 bytes) or binary (v2: a 12-byte signature, version/command,
 * family, a 16-bit length, the addresses, then TLVs), HAProxy's
 * proxy-protocol.txt. Parsed through the cursor API; TLVs are checked for
 * framing and otherwise ignored. */
#ifndef CERTA_TOOLS_PROXY_PROTOCOL_IN_H
#define CERTA_TOOLS_PROXY_PROTOCOL_IN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* A v2 header larger than this (16 bytes + addresses and TLVs) is refused:
 * what load balancers send is a few hundred bytes at most. */
#define PP_IN_V2_MAX (16 + 4096)
#define PP_IN_V1_MAX 107

typedef enum pp_in_status {
    PP_IN_INVALID = -1, /* not a PROXY header, or a malformed one: refuse */
    PP_IN_MORE = 0,     /* a valid beginning: read more */
    PP_IN_DONE = 1,     /* a whole header of header_len bytes */
} pp_in_status;

typedef struct pp_in_header {
    size_t header_len; /* bytes the header takes (the TLS bytes follow) */
    int version;       /* 1 or 2 */
    /* false for v2 LOCAL (the balancer's own health check), v1 UNKNOWN and
     * families other than TCP over IPv4/IPv6: the connection's own
     * addresses stand */
    bool has_addresses;
    struct sockaddr_storage src, dst;
    socklen_t src_len, dst_len;
    char why[160]; /* PP_IN_INVALID: what was wrong */
} pp_in_header;

/* Parses the first len bytes a connection sent. */
pp_in_status proxy_protocol_parse(const uint8_t *data, size_t len, pp_in_header *out);

#endif
