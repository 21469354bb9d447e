/* PROXY protocol v1 and v2 headers from a load balancer (see
 * proxy_protocol_in.h). */
#include "proxy/proxy_protocol_in.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "wire/cursor.h"

static const uint8_t V2_SIGNATURE[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                         0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char V1_PREFIX[] = "PROXY ";

static pp_in_status invalid(pp_in_header *out, const char *why) {
    snprintf(out->why, sizeof out->why, "%s", why);
    return PP_IN_INVALID;
}

/* Does data begin like prefix (as far as both go)? */
static bool begins_like(const uint8_t *data, size_t len, const void *prefix, size_t plen) {
    return memcmp(data, prefix, len < plen ? len : plen) == 0;
}

static void set_in4(struct sockaddr_storage *ss, socklen_t *len, const uint8_t addr[4],
                    uint16_t port) {
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    memset(ss, 0, sizeof *ss);
    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, addr, 4);
    sin->sin_port = htons(port);
    *len = sizeof *sin;
}

static void set_in6(struct sockaddr_storage *ss, socklen_t *len, const uint8_t addr[16],
                    uint16_t port) {
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
    memset(ss, 0, sizeof *ss);
    sin6->sin6_family = AF_INET6;
    memcpy(&sin6->sin6_addr, addr, 16);
    sin6->sin6_port = htons(port);
    *len = sizeof *sin6;
}

/* ---- v2 ---- */

static pp_in_status parse_v2(cursor *in, pp_in_header *out) {
    uint8_t ver_cmd, family;
    uint16_t body_len;
    cursor body;
    if (!cur_skip(in, sizeof V2_SIGNATURE) || !cur_u8(in, &ver_cmd) || !cur_u8(in, &family) ||
        !cur_u16(in, &body_len))
        return PP_IN_MORE;
    if (ver_cmd >> 4 != 2) return invalid(out, "PROXY v2 signature with a version other than 2");
    uint8_t cmd = ver_cmd & 0x0f;
    if (cmd > 1) return invalid(out, "PROXY v2 command neither LOCAL nor PROXY");
    if (16 + (size_t)body_len > PP_IN_V2_MAX) return invalid(out, "PROXY v2 header over 4 KiB");
    if (!cur_sub(in, body_len, &body)) return PP_IN_MORE;
    out->version = 2;
    out->header_len = 16 + (size_t)body_len;
    size_t addr_len = family == 0x11 ? 12 : family == 0x21 ? 36 : 0;
    if (cmd == 1 && addr_len) {
        const uint8_t *src, *dst;
        uint16_t sport, dport;
        size_t alen = addr_len == 12 ? 4 : 16;
        if (!cur_bytes(&body, alen, &src) || !cur_bytes(&body, alen, &dst) ||
            !cur_u16(&body, &sport) || !cur_u16(&body, &dport))
            return invalid(out, "PROXY v2 length too short for its address family");
        if (alen == 4) {
            set_in4(&out->src, &out->src_len, src, sport);
            set_in4(&out->dst, &out->dst_len, dst, dport);
        } else {
            set_in6(&out->src, &out->src_len, src, sport);
            set_in6(&out->dst, &out->dst_len, dst, dport);
        }
        out->has_addresses = true;
    } else if (cmd == 1 && family != 0x00) {
        /* UDP, UNIX sockets: carried, not used (the spec lets us ignore them) */
        return PP_IN_DONE;
    }
    if (!out->has_addresses) return PP_IN_DONE; /* LOCAL / UNSPEC: the body is not ours to read */
    while (!cur_empty(&body)) {                 /* TLVs: framing only */
        uint8_t type;
        cursor value;
        if (!cur_u8(&body, &type) || !cur_vec16(&body, &value))
            return invalid(out, "PROXY v2 TLV runs past the header's length");
    }
    return PP_IN_DONE;
}

/* ---- v1 ---- */

/* The next field: bytes up to a space (taken) or the CR that ends the line. */
static bool v1_field(cursor *line, char *out, size_t cap, bool last) {
    size_t n = 0;
    uint8_t ch;
    while (cur_peek_u8(line, &ch) && ch != ' ') {
        if (n + 1 >= cap || ch < 0x21 || ch > 0x7e || !cur_u8(line, &ch)) return false;
        out[n++] = (char)ch;
    }
    out[n] = 0;
    if (n == 0) return false;
    if (last) return cur_empty(line);
    return cur_u8(line, &ch) && ch == ' ';
}

static bool v1_port(const char *s, uint16_t *port) {
    unsigned long v = 0;
    size_t n = strlen(s);
    if (n == 0 || n > 5 || (s[0] == '0' && n > 1)) return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v > 65535) return false;
    *port = (uint16_t)v;
    return true;
}

static pp_in_status parse_v1(cursor *in, pp_in_header *out) {
    /* the line, up to CRLF, within the first 107 bytes */
    size_t avail = cur_left(in) < PP_IN_V1_MAX ? cur_left(in) : PP_IN_V1_MAX;
    const uint8_t *p;
    if (!cur_bytes(in, avail, &p)) return PP_IN_MORE;
    size_t eol = 0;
    while (eol + 1 < avail && !(p[eol] == '\r' && p[eol + 1] == '\n'))
        eol++;
    if (eol + 1 >= avail) {
        if (avail == PP_IN_V1_MAX) return invalid(out, "PROXY v1 line without CRLF in 107 bytes");
        return PP_IN_MORE;
    }
    cursor line;
    cur_init(&line, p, eol);
    cur_skip(&line, sizeof V1_PREFIX - 1);
    out->version = 1;
    out->header_len = eol + 2;
    char proto[8], src[48], dst[48], sport_s[8], dport_s[8];
    cursor peek = line;
    const uint8_t *word;
    uint8_t after;
    if (cur_bytes(&peek, 7, &word) && !memcmp(word, "UNKNOWN", 7) &&
        (!cur_u8(&peek, &after) || after == ' '))
        return PP_IN_DONE; /* the balancer does not know: the connection's own addresses stand */
    if (!v1_field(&line, proto, sizeof proto, false))
        return invalid(out, "PROXY v1 line without a protocol");
    int af = !strcmp(proto, "TCP4") ? AF_INET : !strcmp(proto, "TCP6") ? AF_INET6 : 0;
    if (!af) return invalid(out, "PROXY v1 protocol neither TCP4, TCP6 nor UNKNOWN");
    uint16_t sport, dport;
    if (!v1_field(&line, src, sizeof src, false) || !v1_field(&line, dst, sizeof dst, false) ||
        !v1_field(&line, sport_s, sizeof sport_s, false) ||
        !v1_field(&line, dport_s, sizeof dport_s, true) || !v1_port(sport_s, &sport) ||
        !v1_port(dport_s, &dport))
        return invalid(out, "PROXY v1 line is not \"PROXY TCPn SRC DST SPORT DPORT\"");
    uint8_t a[16], b[16];
    if (inet_pton(af, src, a) != 1 || inet_pton(af, dst, b) != 1)
        return invalid(out, "PROXY v1 address not of its protocol's family");
    if (af == AF_INET) {
        set_in4(&out->src, &out->src_len, a, sport);
        set_in4(&out->dst, &out->dst_len, b, dport);
    } else {
        set_in6(&out->src, &out->src_len, a, sport);
        set_in6(&out->dst, &out->dst_len, b, dport);
    }
    out->has_addresses = true;
    return PP_IN_DONE;
}

pp_in_status proxy_protocol_parse(const uint8_t *data, size_t len, pp_in_header *out) {
    memset(out, 0, sizeof *out);
    if (len == 0) return PP_IN_MORE;
    cursor in;
    cur_init(&in, data, len);
    if (begins_like(data, len, V2_SIGNATURE, sizeof V2_SIGNATURE)) return parse_v2(&in, out);
    if (begins_like(data, len, V1_PREFIX, sizeof V1_PREFIX - 1)) {
        if (len < sizeof V1_PREFIX - 1) return PP_IN_MORE;
        return parse_v1(&in, out);
    }
    return invalid(out, data[0] == 0x16 ? "no PROXY header: the connection began with a TLS "
                                          "record (is the load balancer sending PROXY?)"
                                        : "no PROXY header: the connection began with other bytes");
}
