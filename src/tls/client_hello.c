/* What a server reads from a ClientHello before it knows the version, and
 * the choice of version (RFC 8446 §4.2.1, RFC 5246 §7.4.1.2, RFC 7507):
 * the first ClientHello goes through here, then to the TLS 1.3 or the
 * TLS 1.2 server (tls13_server.c / tls12_server.c). SNI and ALPN are read
 * the same way for both. */
#include "tls/tls.h"

#include "x509/cert.h"
#include "x509/trust.h"

#include <string.h>

#define TLS_FALLBACK_SCSV 0x5600

bool list_has_u16(cursor list, uint16_t v) {
    uint16_t x;
    while (cur_u16(&list, &x))
        if (x == v) return true;
    return false;
}

/* Reads a vector of u16 values that must be non-empty and even-sized. */
bool u16_list(cursor ext, int prefix_width, cursor *out) {
    bool ok = prefix_width == 1 ? cur_vec8(&ext, out) : cur_vec16(&ext, out);
    return ok && cur_empty(&ext) && out->len >= 2 && out->len % 2 == 0;
}

int parse_client_hello(certa_conn *c, const uint8_t *msg, size_t len, client_hello *ch) {
    cursor body, ext_block = {NULL, 0};
    cur_init(&body, msg + 4, len - 4);
    if (!cur_u16(&body, &ch->legacy_version) || !cur_bytes(&body, 32, &ch->random) ||
        !cur_vec8(&body, &ch->session_id) || !cur_vec16(&body, &ch->suites) ||
        !cur_vec8(&body, &ch->compression) ||
        (!cur_empty(&body) && (!cur_vec16(&body, &ext_block) || !cur_empty(&body))) ||
        ch->suites.len < 2 || ch->suites.len % 2 || ch->compression.len < 1)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the client's ClientHello is malformed");
    if (ch->session_id.len > 32)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the client's legacy_session_id is longer than 32 bytes");
    ch->ext_block = ext_block;
    if (ext_parse_client_hello(c, &ext_block, &ch->exts) != 0) return c->error;
    if (ext_find(&ch->exts, EXT_PRE_SHARED_KEY) && ch->exts.last_type != EXT_PRE_SHARED_KEY)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "pre_shared_key is not the last extension of the ClientHello");
    return 0;
}

/* RFC 6066 §3: one host_name, an ASCII DNS name. Bytes outside printable
 * ASCII (NUL, control characters, escapes, raw UTF-8) are refused: they
 * cannot name a certificate and only confuse logs. */
static bool host_name_ok(cursor name) {
    for (size_t i = 0; i < name.len; i++)
        if (name.data[i] <= 0x20 || name.data[i] >= 0x7f) return false;
    return true;
}

int read_server_name(certa_conn *c, const client_hello *ch) {
    const cursor *sn = ext_find(&ch->exts, EXT_SERVER_NAME);
    if (!sn) return 0;
    cursor e = *sn, list;
    if (!cur_vec16(&e, &list) || !cur_empty(&e) || cur_empty(&list))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed server_name");
    bool have_host = false;
    while (!cur_empty(&list)) {
        uint8_t type;
        cursor name;
        if (!cur_u8(&list, &type) || !cur_vec16(&list, &name))
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed server_name");
        if (type != 0) continue; /* other name types are ignored */
        if (have_host)
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client's server_name lists more than one host_name (RFC 6066)");
        have_host = true;
        if (name.len == 0 || name.len >= sizeof c->server_name)
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "the client's server_name is empty or longer than 255 bytes");
        if (!host_name_ok(name))
            return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                             "the client's server_name is not an ASCII host name (it holds "
                             "bytes such as NUL, control characters or UTF-8)");
        memcpy(c->server_name, name.data, name.len);
        c->server_name[name.len] = 0;
    }
    return 0;
}

int choose_alpn(certa_conn *c, const client_hello *ch) {
    const cursor *al = ext_find(&ch->exts, EXT_ALPN);
    if (!al) return 0;
    cursor e = *al, list, name;
    if (!cur_vec16(&e, &list) || !cur_empty(&e) || cur_empty(&list))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR, "malformed ALPN in ClientHello");
    cursor check = list;
    while (!cur_empty(&check))
        if (!cur_vec8(&check, &name) || name.len == 0)
            return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                             "malformed ALPN protocol list in ClientHello");
    if (!c->cfg->alpn_wire_len) return 0; /* this server does not negotiate ALPN */
    cursor ours;
    cur_init(&ours, c->cfg->alpn_wire, c->cfg->alpn_wire_len);
    cursor mine;
    while (cur_vec8(&ours, &mine)) {
        cursor theirs = list;
        while (cur_vec8(&theirs, &name))
            if (name.len == mine.len && memcmp(name.data, mine.data, mine.len) == 0) {
                memcpy(c->alpn, mine.data, mine.len);
                c->alpn[mine.len] = 0;
                return 0;
            }
    }
    char offered[128] = "";
    size_t used = 0;
    cursor theirs = list;
    while (cur_vec8(&theirs, &name) && used + name.len + 3 < sizeof offered) {
        if (used) offered[used++] = ',';
        memcpy(offered + used, name.data, name.len);
        used += name.len;
        offered[used] = 0;
    }
    return conn_fail(c, CERTA_E_NO_ALPN, ALERT_NO_APPLICATION_PROTOCOL,
                     "the client's application protocols (%s) and this server's do not "
                     "overlap: make the ALPN lists share a protocol",
                     offered);
}

/* The version both sides allow, preferring 1.3; 0 after failing. */
static uint16_t choose_version(certa_conn *c, const client_hello *ch) {
    const certa_config *cfg = c->cfg;
    const cursor *sv = ext_find(&ch->exts, EXT_SUPPORTED_VERSIONS);
    bool offers13 = false, offers12 = false;
    /* RFC 8446 D.5: a hello with legacy_version 0x0300 (SSL 3.0) or less is
     * refused with protocol_version, whatever supported_versions says. */
    if (ch->legacy_version <= 0x0300) {
        conn_fail(c, CERTA_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                  "the client's ClientHello has legacy_version 0x%04x (SSL 3.0 or older), which "
                  "RFC 8446 requires a server to refuse: upgrade the client",
                  ch->legacy_version);
        return 0;
    }
    if (sv) {
        cursor versions;
        if (!u16_list(*sv, 1, &versions)) {
            conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                      "malformed supported_versions in ClientHello");
            return 0;
        }
        offers13 = list_has_u16(versions, CERTA_TLS13);
        offers12 = list_has_u16(versions, CERTA_TLS12);
    } else {
        /* Without supported_versions, legacy_version is the client's
         * highest version (RFC 5246 §7.4.1.2). */
        offers12 = ch->legacy_version >= CERTA_TLS12;
    }
    bool allow13 = cfg->max_version >= CERTA_TLS13, allow12 = cfg->min_version <= CERTA_TLS12;
    if (offers13 && allow13) return CERTA_TLS13;
    if (offers12 && allow12) return CERTA_TLS12;
    const char *ours = allow12 && allow13 ? "TLS 1.2 and 1.3"
                       : allow13          ? "TLS 1.3 only"
                                          : "TLS 1.2 only";
    if (offers13 || offers12)
        conn_fail(c, CERTA_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                  "the client offers %s, and this server allows %s: %s",
                  offers13 ? "TLS 1.3" : "TLS 1.2", ours,
                  allow13 ? "upgrade the client to TLS 1.3, or allow TLS 1.2 on this server "
                            "(--min-version 1.2)"
                          : "allow TLS 1.3 on this server (--max-version 1.3)");
    else
        conn_fail(c, CERTA_E_PROTOCOL_VERSION, ALERT_PROTOCOL_VERSION,
                  "the client offered only TLS 0x%04x or older%s: certa speaks %s — enable a "
                  "newer TLS version on the client",
                  ch->legacy_version, sv ? " in supported_versions" : "", ours);
    return 0;
}

static int server_on_hello(certa_conn *c, client_hello *chp, const uint8_t *msg, size_t len);

int server_on_first_client_hello(certa_conn *c, const uint8_t *msg, size_t len) {
    conn_keep_client_fingerprint(c, 0, msg, len);
    if (own_key_size_check(c) != 0) return c->error; /* below the profile's key minimum */
    client_hello ch;
    memset(&ch, 0, sizeof ch);
    if (parse_client_hello(c, msg, len, &ch) != 0) return c->error;
    /* ECH first: a decrypted ClientHelloInner replaces the outer hello for
     * everything that follows, even the version (RFC 9849 §7.1). */
    return ech_server_dispatch(c, &ch, msg, len, true, server_on_hello);
}

/* The ClientHello the handshake goes on with (the outer one, or the inner
 * one ECH decrypted). */
static int server_on_hello(certa_conn *c, client_hello *chp, const uint8_t *msg, size_t len) {
    client_hello ch = *chp;
    uint16_t version = choose_version(c, &ch);
    if (!version) return c->error;
    /* RFC 7507: a client that falls back below what we both support was
     * pushed there (its first attempt failed, perhaps by interference). */
    if (version < c->cfg->max_version && list_has_u16(ch.suites, TLS_FALLBACK_SCSV))
        return conn_fail(c, CERTA_E_INAPPROPRIATE_FALLBACK, ALERT_INAPPROPRIATE_FALLBACK,
                         "the client fell back to TLS 1.2 (TLS_FALLBACK_SCSV) although this "
                         "server supports TLS 1.3: its first attempt was interfered with");
    c->version = version;
    /* status_request (RFC 6066 §8): only the ocsp type; its lists are hints we ignore */
    const cursor *sr = ext_find(&ch.exts, EXT_STATUS_REQUEST);
    c->status_requested = sr && sr->len >= 1 && sr->data[0] == 1;
    c->sct_requested = ext_find(&ch.exts, EXT_SCT) != NULL; /* RFC 6962 §3.3.1 */
    if (rsl_server_read(c, &ch) != 0) return c->error;
    if (version == CERTA_TLS12) return tls12_server_hello(c, &ch, msg, len);
    return tls13_server_hello(c, &ch, msg, len);
}

/* The trust anchors' subjects, for CertificateRequest (both versions), as
 * a vector of DistinguishedName; nothing when they exceed 8 KiB. */
void put_ca_names(certa_conn *c, builder *b, bool always) {
    const certa_trust *trust = config_trust(c->cfg);
    size_t n = trust ? trust_anchor_count(trust) : 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *der = trust_anchor_der(trust, i, &len);
        x509_cert cert;
        if (der && x509_parse(&cert, der, len) == 0) total += cert.subject.len + 2;
    }
    bool fits = n > 0 && total <= 8192;
    if (!fits && !always) return;
    bld_open(b, 2);
    for (size_t i = 0; fits && i < n; i++) {
        size_t len;
        const uint8_t *der = trust_anchor_der(trust, i, &len);
        x509_cert cert;
        if (!der || x509_parse(&cert, der, len) != 0) continue;
        bld_open(b, 2);
        bld_bytes(b, cert.subject.data, cert.subject.len);
        bld_close(b);
    }
    bld_close(b);
}
