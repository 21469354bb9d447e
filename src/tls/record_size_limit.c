/* record_size_limit (RFC 8449): each side may tell the other the largest
 * protected record plaintext it is willing to receive. In TLS 1.3 the value
 * counts the inner content type byte (and padding), so 2^14 + 1 means "no
 * limit"; in TLS 1.2 it counts content only (2^14). A value under 64 is
 * illegal. The limits live in the record layer (record_protection.limit,
 * in content bytes) and survive every rekey. */
#include "tls/tls.h"

#define RSL_MIN 64

uint16_t rsl_content_limit(uint16_t value, uint16_t version) {
    size_t n = version == CERTA_TLS13 ? (size_t)value - 1 : value;
    return (uint16_t)(n > RECORD_MAX_PLAINTEXT ? RECORD_MAX_PLAINTEXT : n);
}

uint16_t rsl_own_value(const certa_config *cfg, uint16_t version) {
    uint16_t n = cfg->record_size_limit ? cfg->record_size_limit : RECORD_MAX_PLAINTEXT;
    return version == CERTA_TLS13 ? (uint16_t)(n + 1) : n;
}

int rsl_read(certa_conn *c, cursor body, const char *message, uint16_t *value) {
    uint16_t v;
    if (!cur_u16(&body, &v) || !cur_empty(&body))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "malformed record_size_limit in the peer's %s", message);
    if (v < RSL_MIN)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the peer's %s sets record_size_limit to %u, under the minimum of 64 "
                         "(RFC 8449 4)",
                         message, v);
    *value = v;
    return 0;
}

void rsl_put(builder *b, uint16_t value) {
    bld_u16(b, EXT_RECORD_SIZE_LIMIT);
    bld_u16(b, 2);
    bld_u16(b, value);
}

int rsl_server_read(certa_conn *c, const client_hello *ch) {
    const cursor *e = ext_find(&ch->exts, EXT_RECORD_SIZE_LIMIT);
    if (!e) return 0;
    return rsl_read(c, *e, "ClientHello", &c->peer_record_limit);
}

void rsl_server_apply(certa_conn *c) {
    if (!c->peer_record_limit) return;
    c->tx.limit = rsl_content_limit(c->peer_record_limit, c->version);
    c->rx.limit = rsl_content_limit(rsl_own_value(c->cfg, c->version), c->version);
}

int rsl_client_read(certa_conn *c, cursor body, const char *message) {
    if (rsl_read(c, body, message, &c->peer_record_limit) != 0) return c->error;
    c->tx.limit = rsl_content_limit(c->peer_record_limit, c->version);
    /* What we sent was written for TLS 1.3 when we offered it; read with
     * the negotiated version's meaning, it allows at most one byte more. */
    bool sent13 = c->cfg->max_version >= CERTA_TLS13;
    c->rx.limit =
        rsl_content_limit(rsl_own_value(c->cfg, sent13 ? CERTA_TLS13 : CERTA_TLS12), c->version);
    return 0;
}
