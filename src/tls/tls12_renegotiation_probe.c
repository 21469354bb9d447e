/* A diagnostic: does a TLS 1.2 server accept a client-initiated
 * renegotiation? certa never renegotiates; certa_conn_probe_renegotiation
 * sends one ClientHello under the connection's keys, carrying
 * renegotiation_info with our Finished verify_data (RFC 5746 §3.5), and the
 * server's next word decides — the connection ends either way:
 *
 *   ServerHello whose renegotiation_info is client || server verify_data
 *                          CERTA_E_RENEGOTIATION_ACCEPTED (secure)
 *   any other ServerHello  CERTA_E_RENEGOTIATION_INSECURE
 *   an alert, close_notify CERTA_E_RENEGOTIATION_REFUSED
 *
 * HelloRequest is ignored meanwhile; application data is delivered. */
#include "tls/tls.h"

#include <string.h>

/* The verify_data of both Finished messages (RFC 5746 §3.1): not secret
 * once sent, kept only for this probe. */
void reneg_keep_verify_data(certa_conn *c, bool ours, const uint8_t data[TLS12_FINISHED_LEN]) {
    bool client_side = ours != c->is_server;
    memcpy(c->reneg_verify + (client_side ? 0 : TLS12_FINISHED_LEN), data, TLS12_FINISHED_LEN);
}

static void put_hello(const certa_conn *c, builder *b) {
    const certa_config *cfg = c->cfg;
    uint8_t random[32];
    (void)crypto_random(random, sizeof random);
    bld_u16(b, CERTA_TLS12);
    bld_bytes(b, random, sizeof random);
    bld_u8(b, 0); /* no session id: a full handshake */
    bld_open(b, 2);
    for (size_t i = 0; i < cfg->cipher12_count; i++)
        bld_u16(b, cfg->ciphers12[i]);
    bld_close(b);
    bld_u8(b, 1);
    bld_u8(b, 0); /* null compression */
    bld_open(b, 2);
    if (c->server_name[0] && !is_ip_literal(c->server_name)) {
        size_t n = strlen(c->server_name);
        bld_u16(b, EXT_SERVER_NAME);
        bld_open(b, 2);
        bld_open(b, 2);
        bld_u8(b, 0);
        bld_open(b, 2);
        bld_bytes(b, c->server_name, n);
        bld_close(b);
        bld_close(b);
        bld_close(b);
    }
    bld_u16(b, EXT_SUPPORTED_GROUPS);
    bld_open(b, 2);
    bld_open(b, 2);
    for (size_t i = 0; i < cfg->group_count; i++)
        if (!kex_group_tls13_only(cfg->groups[i]) && !kex_group_is_ffdhe(cfg->groups[i]))
            bld_u16(b, cfg->groups[i]);
    bld_close(b);
    bld_close(b);
    bld_u16(b, EXT_EC_POINT_FORMATS);
    bld_u16(b, 2);
    bld_u8(b, 1);
    bld_u8(b, 0);
    bld_u16(b, EXT_SIGNATURE_ALGORITHMS);
    bld_open(b, 2);
    bld_open(b, 2);
    for (size_t i = 0; i < tls12_sig_schemes_count; i++)
        bld_u16(b, tls12_sig_schemes[i]);
    bld_close(b);
    bld_close(b);
    if (c->ems) { /* a server refuses a renegotiation that drops it */
        bld_u16(b, EXT_EXTENDED_MASTER_SECRET);
        bld_u16(b, 0);
    }
    bld_u16(b, EXT_RENEGOTIATION_INFO); /* client_verify_data */
    bld_open(b, 2);
    bld_open(b, 1);
    bld_bytes(b, c->reneg_verify, TLS12_FINISHED_LEN);
    bld_close(b);
    bld_close(b);
    bld_close(b);
}

int certa_conn_probe_renegotiation(certa_conn *c) {
    if (!c) return CERTA_E_INVALID_ARGUMENT;
    if (c->state == ST_FAILED) return c->error;
    if (c->is_server || c->state != ST_CONNECTED || c->version != CERTA_TLS12 || c->close_sent ||
        c->peer_closed || c->reneg_probe)
        return CERTA_E_STATE;
    uint8_t buf[1024];
    builder b;
    bld_init_fixed(&b, buf, sizeof buf);
    bld_u8(&b, HS_CLIENT_HELLO);
    bld_open(&b, 3);
    put_hello(c, &b);
    bld_close(&b);
    if (!bld_ok(&b)) return CERTA_E_INTERNAL;
    int r = record_write(&c->tx, &c->out, CONTENT_HANDSHAKE, b.buf, b.len);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    c->reneg_probe = true;
    conn_trace(c, "> ClientHello (renegotiation probe%s)",
               c->secure_reneg ? ", renegotiation_info with our verify_data" : "");
    return 0;
}

/* The renegotiation ServerHello's renegotiation_info, if any. */
static bool find_reneg_info(const uint8_t *msg, size_t len, cursor *info) {
    cursor m, sid, exts;
    uint16_t version, suite;
    uint8_t comp;
    const uint8_t *random;
    cur_init(&m, msg + 4, len - 4);
    if (!cur_u16(&m, &version) || !cur_bytes(&m, 32, &random) || !cur_vec8(&m, &sid) ||
        !cur_u16(&m, &suite) || !cur_u8(&m, &comp) || !cur_vec16(&m, &exts))
        return false;
    while (!cur_empty(&exts)) {
        uint16_t type;
        cursor body;
        if (!cur_u16(&exts, &type) || !cur_vec16(&exts, &body)) return false;
        if (type == EXT_RENEGOTIATION_INFO) return cur_vec8(&body, info) && cur_empty(&body);
    }
    return false;
}

int reneg_probe_on_message(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len) {
    if (type == HS_HELLO_REQUEST) return 0;
    if (type != HS_SERVER_HELLO)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the server answered the renegotiation ClientHello with %s (type %u)",
                         hs_message_name(type), type);
    cursor info;
    bool secure = c->secure_reneg && find_reneg_info(msg, len, &info) &&
                  info.len == 2 * TLS12_FINISHED_LEN &&
                  crypto_equal_ct(info.data, c->reneg_verify, 2 * TLS12_FINISHED_LEN);
    conn_trace(c, "< ServerHello (renegotiation accepted, %s)", secure ? "secure" : "insecure");
    if (secure)
        return conn_fail(c, CERTA_E_RENEGOTIATION_ACCEPTED, ALERT_NONE,
                         "the server accepted a renegotiation (secure, RFC 5746): any client can "
                         "make it redo the expensive half of a handshake on one connection, a "
                         "denial-of-service lever: refuse client-initiated renegotiation");
    return conn_fail(c, CERTA_E_RENEGOTIATION_INSECURE, ALERT_NONE,
                     "the server accepted a renegotiation without RFC 5746's proof of the first "
                     "handshake: a man in the middle can splice his own handshake in front of "
                     "a victim's (CVE-2009-3555): update the server's TLS library, or refuse "
                     "renegotiation");
}

int reneg_probe_on_alert(certa_conn *c, uint8_t level, uint8_t desc) {
    if (desc == ALERT_CLOSE_NOTIFY) c->peer_closed = true;
    if (level == 2) c->alert_received = desc;
    conn_trace(c, "< alert %s (%s)", certa_alert_name(desc), level == 2 ? "fatal" : "warning");
    if (desc == ALERT_CLOSE_NOTIFY)
        return conn_fail(c, CERTA_E_RENEGOTIATION_REFUSED, ALERT_NONE,
                         "the server refused the renegotiation: it closed the connection "
                         "(close_notify)");
    return conn_fail(c, CERTA_E_RENEGOTIATION_REFUSED, ALERT_NONE,
                     "the server refused the renegotiation (%s alert %s)",
                     level == 2 ? "fatal" : "warning", certa_alert_name(desc));
}
