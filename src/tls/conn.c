/* The connection: moves bytes between the transport and the record layer,
 * reassembles handshake messages and hands them to the state machines,
 * and carries application data, alerts, close_notify and KeyUpdate. */
#include "tls/tls.h"
#include "x509/cert.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static certa_conn *conn_new(certa_config *cfg, bool is_server) {
    if (!cfg) return NULL;
    certa_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    atomic_fetch_add(&cfg->refs, 1);
    atomic_store(&cfg->frozen, true);
    c->cfg = cfg;
    c->is_server = is_server;
    c->alert_sent = ALERT_NONE;
    c->alert_received = ALERT_NONE;
    c->auth_time = cfg->time_fn(cfg->time_arg); /* unless a session says otherwise */
    c->rx.aead.encrypt = false;
    c->tx.aead.encrypt = true;
    bld_init_alloc(&c->out, 0);
    bld_init_alloc(&c->hs_in, 0);
    return c;
}

/* A client offering session (owned; NULL for none). */
static certa_conn *client_new(certa_config *cfg, const char *server_name, uint8_t *session,
                              size_t session_len) {
    certa_conn *c = conn_new(cfg, false);
    if (!c) {
        if (session) crypto_zero(session, session_len);
        free(session);
        return NULL;
    }
    if (server_name) snprintf(c->server_name, sizeof c->server_name, "%s", server_name);
    c->state = ST_CLIENT_WAIT_SH;
    if (session) client_offer_session(c, session, session_len);
    client_start(c); /* a failure is recorded in the connection */
    return c;
}

certa_conn *certa_client_new(certa_config *cfg, const char *server_name) {
    size_t len = 0;
    uint8_t *cached = cfg ? session_cache_take(cfg, server_name, &len) : NULL;
    return client_new(cfg, server_name, cached, len);
}

certa_conn *certa_client_new_resume(certa_config *cfg, const char *server_name,
                                    const uint8_t *session, size_t session_len) {
    uint8_t *copy = NULL;
    if (session && session_len > 0 && session_len <= CERTA_SESSION_MAX &&
        (copy = malloc(session_len)))
        memcpy(copy, session, session_len);
    return client_new(cfg, server_name, copy, copy ? session_len : 0);
}

certa_conn *certa_server_new(certa_config *cfg) {
    certa_conn *c = conn_new(cfg, true);
    if (!c) return NULL;
    c->state = ST_SERVER_WAIT_CH;
    bool usable = false;
    for (size_t i = 0; i < cfg->id_count; i++)
        usable = usable || identity_complete(&cfg->ids[i]);
    if (!usable)
        conn_fail(c, CERTA_E_CONFIG, ALERT_NONE,
                  "the server has no certificate or no private key: load both before accepting");
    return c;
}

static void drop_early_trace(certa_conn *c);

static void drop_offered_session(certa_conn *c) {
    if (!c->offered) return;
    crypto_zero(c->offered, sizeof *c->offered + c->offered_len);
    free(c->offered);
    c->offered = NULL;
}

void certa_conn_free(certa_conn *c) {
    if (!c) return;
    record_protection_clear(&c->rx);
    record_protection_clear(&c->tx);
    if (c->th_started) transcript_free(&c->th);
    ks_wipe(c);
    kex_free(c->kex_key);
    kex_free(c->kex_key2);
    key_free(c->peer_key);
    for (size_t i = 0; i < c->peer_cert_count; i++)
        free(c->peer_certs[i]);
    free(c->peer_ocsp);
    free(c->revocation_note);
    free(c->leaf_status_pending);
    free(c->peer_sct);
    free(c->sct_note);
    free(c->requested_cas);
    free(c->cookie);
    conn_drop_client_fingerprints(c);
    drop_offered_session(c);
    drop_early_trace(c);
    ech_conn_free(c);
    if (c->session) {
        crypto_zero(c->session, c->session_len);
        free(c->session);
    }
    if (c->first_hello) {
        crypto_zero(c->first_hello, c->first_hello_len);
        free(c->first_hello);
    }
    if (c->in) {
        crypto_zero(c->in, c->in_high);
        free(c->in);
    }
    bld_free(&c->out);
    bld_free(&c->hs_in);
    tls12_handshake_free(c);
    certa_config_free(c->cfg);
    crypto_zero(c, sizeof *c);
    free(c);
}

/* The early lines may name the server or the session: wiped like the rest. */
static void drop_early_trace(certa_conn *c) {
    if (c->early_trace) {
        crypto_zero(c->early_trace, 2 * sizeof c->early_trace[0]);
        free(c->early_trace);
        c->early_trace = NULL;
    }
    c->early_trace_count = 0;
}

void certa_conn_set_trace(certa_conn *c, certa_trace_fn fn, void *arg) {
    if (!c) return;
    c->trace_fn = fn;
    c->trace_arg = arg;
    for (unsigned i = 0; fn && i < c->early_trace_count; i++)
        fn(arg, c->early_trace[i]);
    drop_early_trace(c);
}

void conn_trace(certa_conn *c, const char *fmt, ...) {
    /* Without a trace function a line is kept only for a client's first two
     * (sent from certa_client_new, before one can be attached); anything
     * else is not even formatted: servers in a proxy trace nothing. */
    if (!c->trace_fn && (c->is_server || c->early_trace_count >= 2 || c->state == ST_CONNECTED))
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (c->trace_fn) {
        c->trace_fn(c->trace_arg, line);
    } else if (c->early_trace_count < 2 && c->state != ST_CONNECTED) {
        if (!c->early_trace && !(c->early_trace = calloc(2, sizeof c->early_trace[0]))) return;
        snprintf(c->early_trace[c->early_trace_count++], sizeof c->early_trace[0], "%.199s", line);
    }
}

static void send_alert(certa_conn *c, uint8_t level, uint8_t alert) {
    uint8_t body[2] = {level, alert};
    if (record_write(&c->tx, &c->out, CONTENT_ALERT, body, 2) == 0 && level == 2)
        c->alert_sent = alert;
}

int conn_fail(certa_conn *c, int code, uint8_t alert, const char *fmt, ...) {
    if (c->state == ST_FAILED) return c->error;
    c->state = ST_FAILED;
    c->error = code;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->error_text, sizeof c->error_text, fmt, ap);
        va_end(ap);
    } else {
        snprintf(c->error_text, sizeof c->error_text, "%s", certa_error_text(code));
    }
    if (alert != ALERT_NONE && !c->eof && !c->close_sent) send_alert(c, 2, alert);
    conn_trace(c, "! %s: %s%s%s", certa_error_name(code), c->error_text,
               c->alert_sent != ALERT_NONE ? " — sent alert " : "",
               c->alert_sent != ALERT_NONE ? certa_alert_name(c->alert_sent) : "");
    /* Secrets are no longer needed once the connection is dead. */
    ks_wipe(c);
    return code;
}

/* ---- transcript ---- */

int transcript_add(certa_conn *c, const uint8_t *msg, size_t len) {
    if (c->t12 && c->t12->hs_log_on) {
        bld_bytes(&c->t12->hs_log, msg, len);
        if (!bld_ok(&c->t12->hs_log)) return CERTA_E_NOMEM;
    }
    if (c->th_started) return transcript_update(&c->th, msg, len) == 0 ? 0 : CERTA_E_CRYPTO;
    /* Before the suite (and so the hash) is known, only ClientHello can be
     * in the transcript: keep its bytes. */
    uint8_t *copy = malloc(len);
    if (!copy) return CERTA_E_NOMEM;
    memcpy(copy, msg, len);
    if (c->first_hello) {
        crypto_zero(c->first_hello, c->first_hello_len);
        free(c->first_hello);
    }
    c->first_hello = copy;
    c->first_hello_len = len;
    return 0;
}

int transcript_start(certa_conn *c) {
    if (c->th_started) return 0;
    if (transcript_init(&c->th, c->suite->hash) != 0) return CERTA_E_CRYPTO;
    c->th_started = true;
    int r = 0;
    if (c->first_hello) {
        r = transcript_update(&c->th, c->first_hello, c->first_hello_len) == 0 ? 0 : CERTA_E_CRYPTO;
        free(c->first_hello);
        c->first_hello = NULL;
        c->first_hello_len = 0;
    }
    return r;
}

/* After HelloRetryRequest the first ClientHello is replaced by
 * message_hash(254) || 00 00 Hash.length || Hash(ClientHello1) (§4.4.1). */
int transcript_replace_with_message_hash(certa_conn *c) {
    uint8_t msg[4 + CRYPTO_MAX_HASH];
    size_t hl = hash_len(c->suite->hash);
    if (transcript_current(&c->th, msg + 4) != 0) return CERTA_E_CRYPTO;
    msg[0] = HS_MESSAGE_HASH;
    msg[1] = 0;
    msg[2] = 0;
    msg[3] = (uint8_t)hl;
    transcript_free(&c->th);
    if (transcript_init(&c->th, c->suite->hash) != 0 || transcript_update(&c->th, msg, 4 + hl) != 0)
        return CERTA_E_CRYPTO;
    return 0;
}

int transcript_hash(certa_conn *c, uint8_t *out) {
    if (!c->th_started) return CERTA_E_INTERNAL;
    return transcript_current(&c->th, out) == 0 ? 0 : CERTA_E_CRYPTO;
}

int conn_set_rx(certa_conn *c, const uint8_t *secret) {
    return record_set_secret(&c->rx, c->suite->aead, c->suite->hash, secret);
}

int conn_set_tx(certa_conn *c, const uint8_t *secret) {
    return record_set_secret(&c->tx, c->suite->aead, c->suite->hash, secret);
}

/* ---- sending ---- */

int conn_send_handshake(certa_conn *c, uint8_t type, const uint8_t *body, size_t len) {
    uint8_t hdr[4] = {type, (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    int r;
    /* One contiguous message for transcript and record layer. */
    builder msg;
    bld_init_alloc(&msg, len + 4);
    bld_bytes(&msg, hdr, 4);
    bld_bytes(&msg, body, len);
    if (!bld_ok(&msg)) {
        bld_free(&msg);
        return CERTA_E_NOMEM;
    }
    r = transcript_add(c, msg.buf, msg.len);
    if (!r) r = record_write(&c->tx, &c->out, CONTENT_HANDSHAKE, msg.buf, msg.len);
    bld_free(&msg);
    return r;
}

int conn_send_ccs(certa_conn *c) {
    if (c->ccs_sent || c->session_id_len == 0) return 0; /* only in compatibility mode */
    static const uint8_t one = 1;
    c->ccs_sent = true;
    bld_u8(&c->out, CONTENT_CHANGE_CIPHER_SPEC);
    bld_u16(&c->out, 0x0303);
    bld_u16(&c->out, 1);
    bld_bytes(&c->out, &one, 1);
    return bld_ok(&c->out) ? 0 : CERTA_E_NOMEM;
}

/* ---- receiving ---- */

const char *hs_message_name(uint8_t type) {
    switch (type) {
    case HS_CLIENT_HELLO:
        return "ClientHello";
    case HS_SERVER_HELLO:
        return "ServerHello";
    case HS_NEW_SESSION_TICKET:
        return "NewSessionTicket";
    case HS_END_OF_EARLY_DATA:
        return "EndOfEarlyData";
    case HS_ENCRYPTED_EXTENSIONS:
        return "EncryptedExtensions";
    case HS_CERTIFICATE:
        return "Certificate";
    case HS_CERTIFICATE_REQUEST:
        return "CertificateRequest";
    case HS_CERTIFICATE_VERIFY:
        return "CertificateVerify";
    case HS_FINISHED:
        return "Finished";
    case HS_KEY_UPDATE:
        return "KeyUpdate";
    case HS_COMPRESSED_CERTIFICATE:
        return "CompressedCertificate";
    case HS_HELLO_REQUEST:
        return "HelloRequest";
    case HS_SERVER_KEY_EXCHANGE:
        return "ServerKeyExchange";
    case HS_SERVER_HELLO_DONE:
        return "ServerHelloDone";
    case HS_CERTIFICATE_STATUS:
        return "CertificateStatus";
    case HS_CLIENT_KEY_EXCHANGE:
        return "ClientKeyExchange";
    default:
        return "unknown handshake message";
    }
}

static int dispatch_handshake(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len) {
    if (c->state == ST_CONNECTED) return post_handshake_handle(c, type, msg, len);
    if (c->version == CERTA_TLS12)
        return c->is_server ? tls12_server_handle(c, type, msg, len)
                            : tls12_client_handle(c, type, msg, len);
    return c->is_server ? server_handle(c, type, msg, len) : client_handle(c, type, msg, len);
}

static int handle_handshake_record(certa_conn *c, const uint8_t *data, size_t len) {
    if (len == 0)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the peer sent an empty handshake record, which TLS forbids");
    bld_bytes(&c->hs_in, data, len);
    if (!bld_ok(&c->hs_in)) return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    size_t off = 0;
    while (c->hs_in.len - off >= 4 && c->state != ST_FAILED) {
        const uint8_t *h = c->hs_in.buf + off;
        size_t body_len = (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        /* A ClientHello may carry a full 64 KiB extensions block whatever
         * the cap on certificate chains. */
        size_t cap = c->cfg->max_handshake;
        if (h[0] == HS_CLIENT_HELLO && c->is_server && cap < CLIENT_HELLO_MAX)
            cap = CLIENT_HELLO_MAX;
        /* A CompressedCertificate cannot hold a certificate within the cap
         * in more bytes than the cap: bad_certificate, as RFC 8879 §4 has
         * for one that declares too much. */
        if (body_len > cap && h[0] == HS_COMPRESSED_CERTIFICATE)
            return conn_fail(c, CERTA_E_HANDSHAKE_TOO_BIG, ALERT_BAD_CERTIFICATE,
                             "the peer's CompressedCertificate is %zu bytes, over the %zu-byte "
                             "cap on the certificate it may hold: raise max_handshake_size if a "
                             "chain this large is legitimate",
                             body_len, cap);
        if (body_len > cap)
            return conn_fail(c, CERTA_E_HANDSHAKE_TOO_BIG, ALERT_DECODE_ERROR,
                             "the peer's %s is %zu bytes, over the %zu-byte cap: raise "
                             "max_handshake_size if a chain this large is legitimate",
                             hs_message_name(h[0]), body_len, cap);
        if (c->hs_in.len - off < 4 + body_len) break;
        /* Messages that precede a key change must end their record (§5.1):
         * refuse before acting on them. */
        /* A TLS 1.2 ServerHello shares its record with the rest of the flight:
         * whether keys change after a ServerHello is known once it is read. */
        bool key_change_follows =
            h[0] == HS_CLIENT_HELLO || (h[0] == HS_SERVER_HELLO && c->version == CERTA_TLS13) ||
            h[0] == HS_FINISHED || h[0] == HS_KEY_UPDATE || h[0] == HS_END_OF_EARLY_DATA;
        if (key_change_follows && off + 4 + body_len != c->hs_in.len)
            return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                             "the peer sent more handshake data in the same record as its %s, "
                             "which must end its record because keys change after it",
                             hs_message_name(h[0]));
        int r = dispatch_handshake(c, h[0], h, 4 + body_len);
        if (r) return c->state == ST_FAILED ? c->error : conn_fail(c, r, alert_for_error(r), NULL);
        if (h[0] == HS_SERVER_HELLO && c->version == CERTA_TLS13 &&
            off + 4 + body_len != c->hs_in.len)
            return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                             "the peer sent more handshake data in the same record as its "
                             "ServerHello, which must end its record because keys change "
                             "after it");
        off += 4 + body_len;
    }
    if (c->state == ST_FAILED) return c->error;
    /* Keep only the incomplete tail. */
    memmove(c->hs_in.buf, c->hs_in.buf + off, c->hs_in.len - off);
    c->hs_in.len -= off;
    return 0;
}

static int handle_alert(certa_conn *c, const uint8_t *data, size_t len) {
    /* RFC 8446 §5.1 forbids zero-length alert fragments: not a malformed
     * alert but a record that should not exist (unexpected_message). */
    if (len == 0 && !c->rx.tls12)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the peer sent an empty alert record, which TLS 1.3 forbids");
    if (len != 2)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the peer sent a malformed alert record (%zu bytes, expected 2)", len);
    uint8_t desc = data[1];
    if (c->reneg_probe) return reneg_probe_on_alert(c, data[0], desc);
    if (desc == ALERT_CLOSE_NOTIFY) {
        c->peer_closed = true;
        conn_trace(c, "< alert close_notify");
        return 0;
    }
    if (desc == ALERT_USER_CANCELED) { /* followed by close_notify */
        conn_trace(c, "< alert user_canceled");
        return 0;
    }
    /* TLS 1.2 lets a warning alert pass (RFC 5246 §7.2); TLS 1.3 makes
     * every other alert fatal. Warnings count as idle records (a flood of
     * them is refused). */
    if (c->version == CERTA_TLS12 && data[0] == 1) {
        conn_trace(c, "< alert %s (warning, ignored)", certa_alert_name(desc));
        return 0;
    }
    c->alert_received = desc;
    if (c->reneg_refused) /* the peer gives up on its renegotiation: say so */
        return conn_fail(c, CERTA_E_RENEGOTIATION, ALERT_NONE,
                         "the peer tried to renegotiate, certa refused (no_renegotiation: it "
                         "never renegotiates), and the peer then ended the connection with %s "
                         "(%u): open a new connection instead of renegotiating",
                         certa_alert_name(desc), desc);
    const char *hint = "";
    switch (desc) {
    case ALERT_HANDSHAKE_FAILURE:
        hint = c->cfg->min_version <= CERTA_TLS12
                   ? ": the peer found no acceptable parameters — compare versions, cipher suites, "
                     "groups and signature schemes (and, in TLS 1.2, extended master secret)"
                   : ": the peer found no acceptable parameters — compare cipher suites, groups "
                     "and signature schemes (certa offers TLS 1.3 only unless 1.2 is allowed)";
        break;
    case ALERT_PROTOCOL_VERSION:
        /* What we offered decides what to suggest. */
        hint = c->cfg->max_version < CERTA_TLS13
                   ? ": the peer does not accept TLS 1.2 — it may require TLS 1.3: allow that "
                     "here (--max-version 1.3)"
               : c->cfg->min_version <= CERTA_TLS12
                   ? ": the peer accepts neither TLS 1.3 nor TLS 1.2"
                   : ": the peer does not accept TLS 1.3 — if it speaks only TLS 1.2, allow that "
                     "here (--min-version 1.2)";
        break;
    case ALERT_INAPPROPRIATE_FALLBACK:
        hint = ": the peer supports a newer TLS version than we offered";
        break;
    case ALERT_BAD_CERTIFICATE:
    case 46: /* certificate_unknown */
    case 48: /* unknown_ca */
        hint = ": the peer refused our certificate — check that it trusts our CA";
        break;
    case 45:
        hint = ": the peer says our certificate has expired — renew it";
        break;
    case 116:
        hint = ": the peer requires a client certificate — configure one";
        break;
    case 49:
        hint = ": the peer verified our identity and its policy does not allow it — ask its "
               "operator to allow it, or use an identity it accepts";
        break;
    case 44:
        hint = ": the peer says our certificate is revoked — get a new one";
        break;
    case ALERT_NO_APPLICATION_PROTOCOL:
        hint = ": the peer supports none of our ALPN protocols — make the lists overlap";
        break;
    case ALERT_ECH_REQUIRED:
        hint = ": the client required Encrypted Client Hello, which this server did not accept — "
               "give it the server's current ECH configs";
        break;
    case ALERT_UNRECOGNIZED_NAME:
        hint = ": the peer does not serve this server name — check --servername";
        break;
    case ALERT_DECRYPT_ERROR:
    case ALERT_BAD_RECORD_MAC:
        hint = ": the peer could not verify our handshake or records — a middlebox may be "
               "altering traffic";
        break;
    default:
        break;
    }
    return conn_fail(c, CERTA_E_PEER_ALERT, ALERT_NONE, "the peer sent the fatal alert %s (%u)%s",
                     certa_alert_name(desc), desc, hint);
}

static int handle_ccs(certa_conn *c, const uint8_t *data, size_t len) {
    if (c->version == CERTA_TLS12) return tls12_on_ccs(c, data, len);
    /* Tolerated once during the handshake for middlebox compatibility (§5). */
    bool handshaking = c->state != ST_CONNECTED;
    bool before_hello = c->is_server && c->state == ST_SERVER_WAIT_CH;
    if (len != 1 || data[0] != 1 || !handshaking || before_hello || c->ccs_received)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the peer sent a ChangeCipherSpec where TLS 1.3 does not allow one");
    c->ccs_received = true;
    return 0;
}

static const char *describe_non_tls(const uint8_t *h) {
    if (!memcmp(h, "GET ", 4) || !memcmp(h, "POST", 4) || !memcmp(h, "HEAD", 4) ||
        !memcmp(h, "PUT ", 4) || !memcmp(h, "HTTP", 4))
        return ": it looks like plain HTTP — use https:// or a TLS client";
    if (!memcmp(h, "SSH-", 4)) return ": it looks like SSH";
    return ": the peer is not speaking TLS";
}

/* Checks a record header before its body is read. */
static int check_header(certa_conn *c, const uint8_t *h) {
    uint8_t type = h[0];
    size_t len = (size_t)h[3] << 8 | h[4];
    if (type < CONTENT_CHANGE_CIPHER_SPEC || type > CONTENT_APPLICATION_DATA)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "received bytes that are not a TLS record (content type 0x%02x)%s", type,
                         describe_non_tls(h));
    bool sealed = c->rx.on && (c->rx.tls12 ? type != CONTENT_CHANGE_CIPHER_SPEC
                                           : type == CONTENT_APPLICATION_DATA);
    size_t max = sealed ? RECORD_MAX_CIPHERTEXT : RECORD_MAX_PLAINTEXT;
    if (len > max)
        return conn_fail(c, CERTA_E_RECORD_OVERFLOW, ALERT_RECORD_OVERFLOW,
                         "the peer sent a %zu-byte record, over the %zu-byte TLS limit", len, max);
    return 0;
}

/* Early data certa refused (RFC 8446 §4.2.10) is dropped unread, within a
 * budget: SKIPPED when this record is one to skip, 0 when not, or an error. */
enum { SKIPPED = -1 };
static int skip_refused_early_data(certa_conn *c, const uint8_t *h, size_t body_len,
                                   bool failed_to_open) {
    if (!c->is_server || c->early_skip_left == 0 || h[0] != CONTENT_APPLICATION_DATA) return 0;
    if (c->rx.on && !failed_to_open) return 0;
    if (body_len > c->early_skip_left)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the client sent more early data than the server skips unread "
                         "(the server rejected its early data: no early_data in "
                         "EncryptedExtensions)");
    c->early_skip_left -= (uint32_t)body_len;
    c->in_len = 0;
    return SKIPPED;
}

/* Opens the record whose header is at c->in and whose body is at src
 * (either c->in + 5, or still in the caller's buffer), leaving the
 * plaintext at c->in + 5. */
static int process_record(certa_conn *c, const uint8_t *src) {
    uint8_t *h = c->in;
    size_t body_len = c->in_len - RECORD_HEADER_LEN;
    uint8_t type;
    size_t plain_len;
    int r;
    if (h[0] == CONTENT_ALERT && c->rx.on && !c->rx.tls12 && body_len == 2) {
        /* Some peers send a fatal alert in clear after keys changed; it can
         * only end the connection, which anyone on the path can do anyway. */
        memmove(h + RECORD_HEADER_LEN, src, 2);
        type = CONTENT_ALERT;
        plain_len = 2;
    } else {
        /* After a HelloRetryRequest the early data comes before any keys. */
        if (!c->rx.on && (r = skip_refused_early_data(c, h, body_len, false)) != 0)
            return r == SKIPPED ? 0 : r;
        r = record_open_from(&c->rx, h, src, body_len, h + RECORD_HEADER_LEN, &type, &plain_len);
        if (r == CERTA_E_BAD_RECORD_MAC) {
            int skip = skip_refused_early_data(c, h, body_len, true);
            if (skip) return skip == SKIPPED ? 0 : skip;
        }
        /* A record that opens with the handshake keys begins the client's
         * flight: no early data after it (a clear ChangeCipherSpec does not). */
        if (!r && c->rx.on && h[0] == CONTENT_APPLICATION_DATA) c->early_skip_left = 0;
        if (r == CERTA_E_BAD_RECORD_MAC)
            return conn_fail(c, r, ALERT_BAD_RECORD_MAC,
                             "a record from the peer failed authentication: it was corrupted or "
                             "altered in transit, or the peers derived different keys");
        if (r == CERTA_E_RECORD_OVERFLOW)
            return conn_fail(c, r, ALERT_RECORD_OVERFLOW,
                             "the peer's record decrypted to more than 2^14 bytes");
        if (r == CERTA_E_UNEXPECTED_MESSAGE)
            return conn_fail(c, r, ALERT_UNEXPECTED_MESSAGE,
                             "the peer sent an unprotected record (type %u) after keys were "
                             "established, or a record with no content type",
                             h[0]);
        if (r) return conn_fail(c, r, alert_for_error(r), NULL);
    }
    const uint8_t *data = h + RECORD_HEADER_LEN;
    /* Progress is application data, or handshake data while handshaking;
     * anything else (KeyUpdate, empty records, warning alerts, tickets,
     * ChangeCipherSpec) is capped so a peer cannot keep us busy for free. */
    bool progress = (type == CONTENT_APPLICATION_DATA && plain_len > 0) ||
                    (type == CONTENT_HANDSHAKE && c->state != ST_CONNECTED);
    if (progress) {
        c->idle_records = 0;
    } else if (++c->idle_records > c->cfg->max_idle_records) {
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the peer sent %u records in a row that carry no data (KeyUpdate, "
                         "empty records, warning alerts, tickets): treating it as a flood",
                         c->cfg->max_idle_records + 1);
    }
    if (type != CONTENT_HANDSHAKE && c->hs_in.len > 0)
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the peer interleaved another record type with a fragmented handshake "
                         "message");
    switch (type) {
    case CONTENT_HANDSHAKE:
        r = handle_handshake_record(c, data, plain_len);
        break;
    case CONTENT_ALERT:
        r = handle_alert(c, data, plain_len);
        break;
    case CONTENT_CHANGE_CIPHER_SPEC:
        r = handle_ccs(c, data, plain_len);
        break;
    case CONTENT_APPLICATION_DATA:
        if (c->state == ST_SERVER_WAIT_EOED) { /* accepted early data (early_data.c) */
            if (plain_len > c->early_left)
                return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                                 "the client sent more early data than the %u bytes allowed",
                                 (unsigned)(c->early_left + c->early_bytes));
            c->early_left -= (uint32_t)plain_len;
            c->early_bytes += plain_len;
            c->app_early = plain_len > 0;
            c->app_off = RECORD_HEADER_LEN;
            c->app_len = plain_len;
            if (plain_len == 0) c->in_len = 0;
            return 0;
        }
        if (c->state != ST_CONNECTED)
            return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                             "the peer sent application data before the handshake finished");
        /* Leave the plaintext in place for certa_conn_read(); an empty
         * record (allowed, e.g. as traffic padding) is simply consumed. */
        c->app_off = RECORD_HEADER_LEN;
        c->app_len = plain_len;
        if (plain_len == 0) c->in_len = 0;
        return 0;
    default:
        return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                         "the peer sent a record of unknown content type %u", type);
    }
    c->in_len = 0;
    return r;
}

/* An idle connection keeps no record buffer (it is 16 KiB; most of an
 * idle connection's memory otherwise). It held plaintext: zeroize. */
static void release_input(certa_conn *c) {
    if (!c->in || c->in_len != 0 || c->app_len != 0) return;
    crypto_zero(c->in, c->in_high);
    free(c->in);
    c->in = NULL;
    c->in_high = 0;
}

static void copy_in(certa_conn *c, const uint8_t *data, size_t n) {
    memcpy(c->in + c->in_len, data, n);
    c->in_len += n;
    if (c->in_len > c->in_high) c->in_high = c->in_len;
}

void conn_handshake_finished(certa_conn *c) {
    if (c->th_started) transcript_free(&c->th);
    c->th_started = false;
    key_free(c->peer_key);
    c->peer_key = NULL;
    crypto_zero(c->client_hs_secret, sizeof c->client_hs_secret);
    crypto_zero(c->server_hs_secret, sizeof c->server_hs_secret);
    crypto_zero(c->master_secret, sizeof c->master_secret);
    crypto_zero(c->psk, sizeof c->psk);
    crypto_zero(c->client_early_secret, sizeof c->client_early_secret);
    free(c->cookie);
    c->cookie = NULL;
    drop_offered_session(c);
    drop_early_trace(c); /* a trace attached from now on starts here */
    ech_handshake_done(c);
}

int certa_conn_recv(certa_conn *c, const uint8_t *data, size_t len, size_t *used) {
    size_t taken = 0;
    if (used) *used = 0;
    if (!c || (!data && len)) return CERTA_E_INVALID_ARGUMENT;
    if (c->state == ST_FAILED) return c->error;
    if (c->peer_closed) { /* nothing after close_notify counts */
        if (used) *used = len;
        return 0;
    }
    while (taken < len || (c->in_len >= RECORD_HEADER_LEN && c->app_len == 0)) {
        if (c->app_len > 0) break; /* backpressure: the caller must read first */
        if (!c->in && !(c->in = malloc(RECORD_MAX_WIRE)))
            return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
        if (c->in_len == 0 && len - taken >= RECORD_HEADER_LEN) {
            /* A whole record already in the caller's buffer is opened from
             * there in one pass, without first copying it in. */
            const uint8_t *h = data + taken;
            size_t want = RECORD_HEADER_LEN + ((size_t)h[3] << 8 | h[4]);
            if (len - taken >= want) {
                int r = check_header(c, h);
                if (r) {
                    if (used) *used = taken;
                    return r;
                }
                memcpy(c->in, h, RECORD_HEADER_LEN);
                c->in_len = want;
                if (want > c->in_high) c->in_high = want;
                taken += want;
                r = process_record(c, h + RECORD_HEADER_LEN);
                if (r) {
                    if (used) *used = taken;
                    return r;
                }
                if (c->peer_closed) {
                    taken = len;
                    break;
                }
                continue;
            }
        }
        if (c->in_len < RECORD_HEADER_LEN) {
            size_t n = RECORD_HEADER_LEN - c->in_len;
            if (n > len - taken) n = len - taken;
            copy_in(c, data + taken, n);
            taken += n;
            if (c->in_len < RECORD_HEADER_LEN) break;
            int r = check_header(c, c->in);
            if (r) {
                if (used) *used = taken;
                return r;
            }
        }
        size_t want = RECORD_HEADER_LEN + ((size_t)c->in[3] << 8 | c->in[4]);
        size_t n = want - c->in_len;
        if (n > len - taken) n = len - taken;
        copy_in(c, data + taken, n);
        taken += n;
        if (c->in_len < want) break;
        int r = process_record(c, c->in + RECORD_HEADER_LEN);
        if (r) {
            if (used) *used = taken;
            return r;
        }
        if (c->peer_closed) {
            taken = len;
            break;
        }
    }
    if (used) *used = taken;
    release_input(c);
    /* Post-handshake messages are rare: no reassembly buffer while idle. */
    if (c->state == ST_CONNECTED && c->hs_in.len == 0 && c->hs_in.cap) {
        bld_free(&c->hs_in);
        bld_init_alloc(&c->hs_in, 0);
    }
    /* A server's flight went out before the client's Finished made it
     * connected: its buffer (sealed records only; a hybrid's is over 2 KB)
     * is not kept for an idle connection. */
    if (c->state == ST_CONNECTED && c->out.len == 0 && c->out.cap) bld_release(&c->out);
    return 0;
}

int certa_conn_recv_eof(certa_conn *c) {
    if (!c) return CERTA_E_INVALID_ARGUMENT;
    if (c->state == ST_FAILED) return c->error;
    if (!c->peer_closed && (c->in_len > 0 || c->hs_in.len > 0)) {
        /* Say why, while the peer may still be reading. */
        int r = conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                          "the peer closed the connection in the middle of a %s",
                          c->in_len > 0 ? "record" : "handshake message");
        c->eof = true;
        return r;
    }
    c->eof = true;
    if (c->peer_closed) return 0;
    if (c->state != ST_CONNECTED)
        return conn_fail(c, CERTA_E_PEER_CLOSED, ALERT_NONE,
                         "the peer closed the connection during the handshake%s",
                         c->is_server ? ""
                                      : ": it may not speak the TLS versions we offer or may "
                                        "have rejected our ClientHello without an alert");
    return conn_fail(c, CERTA_E_PEER_CLOSED, ALERT_NONE,
                     "the peer closed the connection without close_notify: the data may be "
                     "truncated");
}

size_t certa_conn_outgoing(certa_conn *c, const uint8_t **data) {
    if (!c) return 0;
    *data = c->out.buf + c->out_sent;
    return c->out.len - c->out_sent;
}

void certa_conn_outgoing_done(certa_conn *c, size_t n) {
    if (!c) return;
    if (n > c->out.len - c->out_sent) n = c->out.len - c->out_sent;
    c->out_sent += n;
    if (c->out_sent == c->out.len) {
        c->out_sent = 0;
        /* All sent. After the handshake the buffer only ever held sealed
         * records: give it back without zeroizing, so an idle connection
         * holds none. During the handshake, reuse it. */
        if (c->state == ST_CONNECTED || c->state == ST_FAILED)
            bld_release(&c->out);
        else
            c->out.len = 0;
    }
}

/* The buffered plaintext, ordinary data or early data (never one for the other). */
static size_t read_buffered(certa_conn *c, uint8_t *buf, size_t cap, bool early) {
    if (!c || !c->app_len || c->app_early != early) return 0;
    size_t n = c->app_len < cap ? c->app_len : cap;
    memcpy(buf, c->in + c->app_off, n);
    c->app_off += n;
    c->app_len -= n;
    if (c->app_len == 0) {
        c->in_len = 0; /* the record is consumed */
        c->app_early = false;
        release_input(c);
    }
    return n;
}

size_t certa_conn_read(certa_conn *c, uint8_t *buf, size_t cap) {
    return read_buffered(c, buf, cap, false);
}

size_t certa_conn_read_early(certa_conn *c, uint8_t *buf, size_t cap) {
    return read_buffered(c, buf, cap, true);
}

int certa_conn_write(certa_conn *c, const uint8_t *data, size_t len) {
    if (!c || (!data && len)) return CERTA_E_INVALID_ARGUMENT;
    if (c->state == ST_FAILED) return c->error;
    if (c->state != ST_CONNECTED || c->close_sent) return CERTA_E_STATE;
    if (len == 0) return 0;
    int r = record_write(&c->tx, &c->out, CONTENT_APPLICATION_DATA, data, len);
    return r ? conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL) : 0;
}

int certa_conn_close(certa_conn *c) {
    if (!c) return CERTA_E_INVALID_ARGUMENT;
    if (c->close_sent || c->state == ST_FAILED) return 0;
    send_alert(c, 1, ALERT_CLOSE_NOTIFY);
    c->close_sent = true;
    return 0;
}

static uint8_t *tx_app_secret(certa_conn *c) {
    return c->is_server ? c->server_app_secret : c->client_app_secret;
}

static uint8_t *rx_app_secret(certa_conn *c) {
    return c->is_server ? c->client_app_secret : c->server_app_secret;
}

static int send_key_update(certa_conn *c, bool request_peer) {
    uint8_t body = request_peer ? 1 : 0;
    uint8_t msg[5] = {HS_KEY_UPDATE, 0, 0, 1, body};
    int r = record_write(&c->tx, &c->out, CONTENT_HANDSHAKE, msg, sizeof msg);
    if (!r) r = ks_next_traffic_secret(c, tx_app_secret(c));
    if (!r) r = conn_set_tx(c, tx_app_secret(c));
    if (!r)
        conn_trace(c, "> KeyUpdate (%s)",
                   request_peer ? "update_requested" : "update_not_requested");
    return r;
}

int certa_conn_key_update(certa_conn *c, bool request_peer) {
    if (!c) return CERTA_E_INVALID_ARGUMENT;
    if (c->state == ST_FAILED) return c->error;
    if (c->state != ST_CONNECTED || c->close_sent || c->version != CERTA_TLS13)
        return CERTA_E_STATE; /* TLS 1.2 has no KeyUpdate */
    int r = send_key_update(c, request_peer);
    return r ? conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL) : 0;
}

/* TLS 1.2 after the handshake: a renegotiation attempt (HelloRequest to a
 * client, ClientHello to a server) gets the warning no_renegotiation and
 * the connection goes on (RFC 5246 §7.2.2); nothing else may come. */
static int tls12_post_handshake(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len) {
    if (c->reneg_probe) return reneg_probe_on_message(c, type, msg, len);
    bool renegotiation = c->is_server ? type == HS_CLIENT_HELLO : type == HS_HELLO_REQUEST;
    if (renegotiation) {
        conn_trace(c, "< %s: renegotiation refused (no_renegotiation)",
                   c->is_server ? "ClientHello" : "HelloRequest");
        if (!c->close_sent) send_alert(c, 1, ALERT_NO_RENEGOTIATION);
        c->reneg_refused = true;
        return 0;
    }
    return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the peer sent %s (type %u) after the TLS 1.2 handshake, which is not allowed",
                     hs_message_name(type), type);
}

int post_handshake_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len) {
    if (c->version == CERTA_TLS12) return tls12_post_handshake(c, type, msg, len);
    cursor body;
    cur_init(&body, msg + 4, len - 4);
    if (type == HS_KEY_UPDATE) {
        uint8_t request;
        if (!cur_u8(&body, &request) || !cur_empty(&body))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed KeyUpdate");
        if (request > 1)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "KeyUpdate with request_update=%u (only 0 and 1 exist)", request);
        conn_trace(c, "< KeyUpdate (%s)", request ? "update_requested" : "update_not_requested");
        int r = ks_next_traffic_secret(c, rx_app_secret(c));
        if (!r) r = conn_set_rx(c, rx_app_secret(c));
        /* Answer a request, unless we already said close_notify. */
        if (!r && request && !c->close_sent) r = send_key_update(c, false);
        return r;
    }
    if (type == HS_NEW_SESSION_TICKET && !c->is_server) return on_new_session_ticket(c, &body);
    return conn_fail(c, CERTA_E_UNEXPECTED_MESSAGE, ALERT_UNEXPECTED_MESSAGE,
                     "the peer sent %s after the handshake, which is not allowed%s",
                     hs_message_name(type),
                     type == HS_CLIENT_HELLO ? " (TLS 1.3 has no renegotiation)" : "");
}

/* ---- status ---- */

bool certa_conn_handshake_done(const certa_conn *c) {
    return c && c->state == ST_CONNECTED;
}
bool certa_conn_peer_closed(const certa_conn *c) {
    return c && c->peer_closed;
}
bool certa_conn_failed(const certa_conn *c) {
    return !c || c->state == ST_FAILED;
}
int certa_conn_error(const certa_conn *c) {
    return c ? c->error : CERTA_E_INVALID_ARGUMENT;
}
const char *certa_conn_error_text(const certa_conn *c) {
    if (!c) return "no connection";
    return c->error ? c->error_text : "";
}
uint8_t certa_conn_alert_sent(const certa_conn *c) {
    return c ? c->alert_sent : ALERT_NONE;
}
uint8_t certa_conn_alert_received(const certa_conn *c) {
    return c ? c->alert_received : ALERT_NONE;
}

int certa_conn_info(const certa_conn *c, certa_info *info) {
    if (!c || !info) return CERTA_E_INVALID_ARGUMENT;
    memset(info, 0, sizeof *info);
    info->version = c->suite ? c->version : 0;
    info->cipher_suite = c->suite ? c->suite->id : 0;
    info->group = c->group;
    info->peer_sig_scheme = c->peer_sig_scheme;
    info->hello_retry = c->hello_retry;
    info->alpn = c->alpn[0] ? c->alpn : NULL;
    /* The SNI actually sent (client) or received (server); an IP address
     * is verified but never sent as SNI. */
    bool sent = c->server_name[0] && (c->is_server || !is_ip_literal(c->server_name));
    info->server_name = sent ? c->server_name : NULL;
    info->peer_cert_count = c->peer_cert_count;
    info->resumed = c->resumed;
    info->session_offered = c->session_offered;
    info->cert_name = c->is_server ? c->cert_name : NULL;
    info->peer_cert_compression = c->peer_cert_alg;
    info->peer_cert_compressed_len = c->peer_cert_compressed_len;
    info->peer_cert_uncompressed_len = c->peer_cert_uncompressed_len;
    info->peer_staple_good = c->staple_good;
    info->early_data_accepted = c->early_accepted;
    info->early_data_rejected = c->early_rejected;
    info->early_data_bytes = c->early_bytes;
    return 0;
}

const uint8_t *certa_conn_peer_cert(const certa_conn *c, size_t index, size_t *len) {
    if (!c || index >= c->peer_cert_count) return NULL;
    if (len) *len = c->peer_cert_lens[index];
    return c->peer_certs[index];
}

uint32_t certa_conn_ticket_lifetime(const certa_conn *conn) {
    return conn && !conn->is_server ? conn->ticket_lifetime : 0;
}

bool certa_conn_cert_requested(const certa_conn *conn) {
    return conn && !conn->is_server && conn->cert_requested;
}
