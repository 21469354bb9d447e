/* The server's side of Encrypted Client Hello (RFC 9849 §7), shared mode:
 * a ClientHelloOuter whose encrypted_client_hello one of our keys opens is
 * replaced by its ClientHelloInner (which then picks the certificate and
 * is the transcript's ClientHello), and ServerHello.random (or the
 * HelloRetryRequest's extension) confirms it — tls13_server.c writes the
 * confirmation. A hello none of our keys opens goes on as it is, and
 * EncryptedExtensions carries retry_configs. A ClientHello of type inner
 * comes from a split-mode front end (certa proxy) when this server holds no
 * keys: it is confirmed the same way. Decryption itself is ech_open.c: a
 * config_id match first, then a bounded trial over the other keys. */
#include "tls/ech_open.h"
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>

/* The inner hello must carry the inner extension and offer TLS 1.3 only
 * (§7.1); anything else is illegal_parameter. */
static int check_inner(certa_conn *c, const client_hello *inner) {
    const cursor *e = ext_find(&inner->exts, EXT_ENCRYPTED_CLIENT_HELLO);
    if (!e || e->len != 1 || e->data[0] != ECH_TYPE_INNER)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client's decrypted ClientHelloInner has no encrypted_client_hello "
                         "extension of type inner (RFC 9849 §7.1)");
    const cursor *sv = ext_find(&inner->exts, EXT_SUPPORTED_VERSIONS);
    cursor versions;
    if (!sv || !u16_list(*sv, 1, &versions))
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client's ClientHelloInner does not offer TLS 1.3");
    uint16_t v;
    bool has13 = false;
    while (cur_u16(&versions, &v)) {
        if (v >= 0x0300 && v <= CERTA_TLS12)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client's ClientHelloInner offers TLS 0x%04x: an inner hello "
                             "may offer only TLS 1.3 (RFC 9849 §6.1)",
                             v);
        has13 = has13 || v == CERTA_TLS13;
    }
    if (!has13)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client's ClientHelloInner does not offer TLS 1.3");
    return 0;
}

/* The outer hello's server_name, kept for logs and certa_conn_ech_outer_name. */
static int keep_outer_name(certa_conn *c, const client_hello *ch) {
    if (c->ech_outer_name) return 0;
    c->server_name[0] = 0;
    if (read_server_name(c, ch) != 0) return c->error;
    c->ech_outer_name = strdup(c->server_name);
    c->server_name[0] = 0;
    return c->ech_outer_name ? 0 : conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
}

static int open_failed(certa_conn *c, int r, const char *why) {
    uint8_t alert = (uint8_t)-r;
    int code = alert == ALERT_DECODE_ERROR        ? CERTA_E_DECODE
               : alert == ALERT_MISSING_EXTENSION ? CERTA_E_MISSING_EXTENSION
               : alert == ALERT_INTERNAL_ERROR    ? CERTA_E_INTERNAL
                                                  : CERTA_E_ILLEGAL_PARAMETER;
    return conn_fail(c, code, alert, "the client's Encrypted Client Hello is not acceptable: %s",
                     why ? why : "malformed encrypted_client_hello extension");
}

int ech_server_on_hello(certa_conn *c, const client_hello *ch, const uint8_t *msg, size_t len,
                        bool first, uint8_t **inner, size_t *inner_len) {
    *inner = NULL;
    *inner_len = 0;
    const certa_config *cfg = c->cfg;
    const cursor *e = ext_find(&ch->exts, EXT_ENCRYPTED_CLIENT_HELLO);
    if (!first && c->ech_status != CERTA_ECH_ACCEPTED) return 0; /* §7.1.1: not looked at again */
    if (!first && c->ech_confirm && !c->ech_open) {              /* a split-mode backend */
        if (!e || e->len != 1 || e->data[0] != ECH_TYPE_INNER)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client's second ClientHello dropped the inner "
                             "encrypted_client_hello extension of its first");
        return 0;
    }
    if (!e) {
        if (!first)
            return conn_fail(c, CERTA_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                             "the client's second ClientHello has no encrypted_client_hello "
                             "extension, although its first one's was accepted (RFC 9849 §7.1.1)");
        return 0;
    }
    /* Without ECH keys the extension is not ours to judge: like any extension
     * a server does not implement, it is ignored (RFC 8446 §4.2; tlsfuzzer's
     * unassigned-extension tests send 0xfe0d with random bytes). The one form
     * acted on is the empty inner type a split-mode front end forwards. */
    bool keyless_inner = e->len == 1 && e->data[0] == ECH_TYPE_INNER;
    if (!cfg->ech_key_count && !keyless_inner) {
        if (e->len >= 1 && e->data[0] == ECH_TYPE_OUTER) {
            if (first && keep_outer_name(c, ch) != 0) return c->error;
            c->ech_status = CERTA_ECH_NOT_DECRYPTED;
        }
        return 0;
    }
    if (e->len < 1)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the client's encrypted_client_hello extension is empty");
    uint8_t type = e->data[0];
    if (type == ECH_TYPE_INNER) {
        /* §7: from the network (we hold keys: shared mode) this is an
         * attack or a bug; without keys we are a split-mode backend. */
        if (cfg->ech_key_count)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client sent an inner encrypted_client_hello in clear to a "
                             "server that decrypts ECH itself (RFC 9849 §7)");
        if (check_inner(c, ch) != 0) return c->error; /* keyless_inner: one byte */
        c->ech_status = CERTA_ECH_ACCEPTED;
        c->ech_confirm = true;
        conn_trace(c, "  ECH: an inner ClientHello (from a split-mode front end): confirming it");
        return 0;
    }
    if (type != ECH_TYPE_OUTER)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client's encrypted_client_hello has the unknown type %u", type);
    if (first && keep_outer_name(c, ch) != 0) return c->error;
    if (first) {
        c->ech_open = calloc(1, sizeof *c->ech_open);
        if (!c->ech_open) return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    }
    builder b;
    bld_init_alloc(&b, len + 64);
    bld_u8(&b, HS_CLIENT_HELLO);
    bld_u24(&b, 0); /* the length, once the body is known */
    const char *why = NULL;
    int r = ech_open_client_hello(cfg->ech_keys, cfg->ech_key_count, msg + 4, len - 4, first,
                                  cfg->ech_trial_decryption, c->ech_open, &b, &why);
    if (r < 0) {
        bld_free(&b);
        return open_failed(c, r, why);
    }
    if (r == ECH_OPEN_ABSENT && !first) {
        bld_free(&b);
        return conn_fail(c, CERTA_E_MISSING_EXTENSION, ALERT_MISSING_EXTENSION,
                         "the client's second ClientHello has no outer encrypted_client_hello, "
                         "although its first one's was accepted (RFC 9849 §7.1.1)");
    }
    if (r == ECH_OPEN_NOT_DECRYPTED && !first) {
        bld_free(&b);
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_DECRYPT_ERROR,
                         "the client's second ClientHelloInner does not decrypt with the HPKE "
                         "context of its first (RFC 9849 §7.1.1)");
    }
    if (r != ECH_OPEN_OK) {
        bld_free(&b);
        hpke_ctx_wipe(&c->ech_open->hpke);
        free(c->ech_open);
        c->ech_open = NULL;
        c->ech_status = CERTA_ECH_NOT_DECRYPTED;
        c->ech_send_retry = cfg->ech_retry_list != NULL;
        conn_trace(c, "  ECH: not decrypted (%s): going on with the outer hello for %s%s",
                   why ? why : "no key opened it",
                   c->ech_outer_name && c->ech_outer_name[0] ? c->ech_outer_name : "(no SNI)",
                   c->ech_send_retry ? ", retry_configs will be sent" : "");
        return 0;
    }
    if (!bld_ok(&b) || b.len - 4 > 0xffffff) {
        bld_free(&b);
        return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    }
    size_t body = b.len - 4;
    b.buf[1] = (uint8_t)(body >> 16);
    b.buf[2] = (uint8_t)(body >> 8);
    b.buf[3] = (uint8_t)body;
    client_hello in;
    memset(&in, 0, sizeof in);
    if (parse_client_hello(c, b.buf, b.len, &in) != 0) { /* ech_open checked the rest */
        bld_free(&b);
        return c->error;
    }
    c->ech_status = CERTA_ECH_ACCEPTED;
    c->ech_confirm = true;
    if (first)
        conn_trace(c,
                   "  ECH: accepted (config %u): the inner ClientHello is used; outer SNI %s "
                   "is the public name",
                   c->ech_open->config_id,
                   c->ech_outer_name && c->ech_outer_name[0] ? c->ech_outer_name : "(none)");
    *inner = bld_take(&b, inner_len);
    bld_free(&b);
    return *inner ? 0 : conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
}

void ech_server_put_retry_configs(const certa_conn *c, builder *b) {
    if (!c->ech_send_retry || !c->cfg->ech_retry_list) return;
    bld_u16(b, EXT_ENCRYPTED_CLIENT_HELLO);
    bld_open(b, 2);
    bld_bytes(b, c->cfg->ech_retry_list, c->cfg->ech_retry_list_len);
    bld_close(b);
}

int ech_server_dispatch(certa_conn *c, client_hello *ch, const uint8_t *msg, size_t len, bool first,
                        ech_hello_handler next) {
    uint8_t *inner = NULL;
    size_t inner_len = 0;
    if (ech_server_on_hello(c, ch, msg, len, first, &inner, &inner_len) != 0) return c->error;
    if (!inner) return next(c, ch, msg, len);
    client_hello in;
    memset(&in, 0, sizeof in);
    int r = parse_client_hello(c, inner, inner_len, &in);
    if (!r) r = next(c, &in, inner, inner_len);
    crypto_zero(inner, inner_len);
    free(inner);
    return r;
}
