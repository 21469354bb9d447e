/* PROXY protocol v2 headers (see proxy_protocol.h). */
#include "proxy/proxy_protocol.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include "common/cli_common.h"
#include "proxy/proxy.h"

static const uint8_t SIGNATURE[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

/* Appends a TLV (its value cut to fit what is left). */
static size_t tlv(uint8_t *out, size_t at, uint8_t type, const void *value, size_t len) {
    if (at + 3 + len > PP2_HEADER_MAX) len = at + 3 < PP2_HEADER_MAX ? PP2_HEADER_MAX - at - 3 : 0;
    out[at] = type;
    out[at + 1] = (uint8_t)(len >> 8);
    out[at + 2] = (uint8_t)len;
    if (len) memcpy(out + at + 3, value, len);
    return at + 3 + len;
}

/* "CN=web, O=Example" -> "web" (the first CN attribute), or "" */
static void subject_cn(const char *subject, char *out, size_t cap) {
    out[0] = 0;
    const char *p = strstr(subject, "CN=");
    if (!p || (p != subject && p[-1] != ' ' && p[-1] != ',')) return;
    p += 3;
    size_t n = strcspn(p, ",");
    if (n >= cap) n = cap - 1;
    memcpy(out, p, n);
    out[n] = 0;
}

size_t proxy_protocol_v2(uint8_t *out, const struct sockaddr *src, const struct sockaddr *dst,
                         const certa_conn *conn) {
    memcpy(out, SIGNATURE, sizeof SIGNATURE);
    out[12] = 0x21; /* version 2, PROXY */
    size_t at = 16;
    if (src->sa_family == AF_INET && dst->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const void *)src, *d = (const void *)dst;
        out[13] = 0x11; /* TCP over IPv4 */
        memcpy(out + at, &s->sin_addr, 4);
        memcpy(out + at + 4, &d->sin_addr, 4);
        memcpy(out + at + 8, &s->sin_port, 2);
        memcpy(out + at + 10, &d->sin_port, 2);
        at += 12;
    } else if (src->sa_family == AF_INET6 && dst->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const void *)src, *d = (const void *)dst;
        out[13] = 0x21; /* TCP over IPv6 */
        memcpy(out + at, &s->sin6_addr, 16);
        memcpy(out + at + 16, &d->sin6_addr, 16);
        memcpy(out + at + 32, &s->sin6_port, 2);
        memcpy(out + at + 34, &d->sin6_port, 2);
        at += 36;
    } else {
        return 0;
    }
    certa_info info;
    certa_peer_identity id;
    memset(&id, 0, sizeof id);
    bool have_info = certa_conn_info(conn, &info) == CERTA_OK;
    bool have_id = certa_conn_peer_identity(conn, &id) == CERTA_OK && id.present;
    if (have_info && info.server_name)
        at = tlv(out, at, PP2_TYPE_AUTHORITY, info.server_name, strlen(info.server_name));
    /* PP2_TYPE_SSL: client flags, verify, then its sub-TLVs (built in place) */
    size_t ssl_at = at;
    if (at + 3 + 5 <= PP2_HEADER_MAX) {
        size_t v = at + 3;
        out[v] = (uint8_t)(PP2_CLIENT_SSL | (have_id ? PP2_CLIENT_CERT_CONN : 0));
        uint32_t verify = have_id && id.verified ? 0 : 1;
        out[v + 1] = (uint8_t)(verify >> 24);
        out[v + 2] = (uint8_t)(verify >> 16);
        out[v + 3] = (uint8_t)(verify >> 8);
        out[v + 4] = (uint8_t)verify;
        size_t sub = v + 5;
        const char *version = have_info ? cli_version_name(info.version) : NULL;
        if (version) sub = tlv(out, sub, PP2_SUBTYPE_SSL_VERSION, version, strlen(version));
        char cn[256];
        subject_cn(have_id ? id.subject : "", cn, sizeof cn);
        if (cn[0]) sub = tlv(out, sub, PP2_SUBTYPE_SSL_CN, cn, strlen(cn));
        const char *suite = have_info ? certa_cipher_suite_name(info.cipher_suite) : NULL;
        if (suite) sub = tlv(out, sub, PP2_SUBTYPE_SSL_CIPHER, suite, strlen(suite));
        size_t len = sub - v;
        out[ssl_at] = PP2_TYPE_SSL;
        out[ssl_at + 1] = (uint8_t)(len >> 8);
        out[ssl_at + 2] = (uint8_t)len;
        at = sub;
    }
    if (have_id && id.verified) {
        char ident[400];
        bool verified;
        proxy_identity_string(conn, ident, sizeof ident, &verified);
        if (ident[0]) at = tlv(out, at, PP2_TYPE_CERTA_IDENTITY, ident, strlen(ident));
    }
    size_t body = at - 16;
    out[14] = (uint8_t)(body >> 8);
    out[15] = (uint8_t)body;
    return at;
}
