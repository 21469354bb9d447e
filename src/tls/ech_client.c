/* The client's side of Encrypted Client Hello (RFC 9849 §6). With an
 * ECHConfigList the client sends ClientHelloOuter (a fresh random, the
 * config's public_name as SNI, no ALPN, TLS 1.3 only, the same key shares as
 * the inner hello, which EncodedClientHelloInner references with
 * ech_outer_extensions instead of repeating them)
 * whose encrypted_client_hello carries ClientHelloInner (the real SNI, ALPN,
 * TLS 1.3 only) as EncodedClientHelloInner, padded as §6.1.3 recommends and
 * sealed with HPKE over ClientHelloOuterAAD. The transcript holds the inner
 * hello, the outer one is kept aside; the server's first answer decides
 * (§6.1.4): a confirmed ServerHello.random (or HelloRetryRequest extension)
 * keeps the inner transcript, anything else rebuilds it from the outer hello,
 * authenticates the server for the public name, takes its retry_configs and
 * ends with ech_required once the server's Finished verified. Without a
 * config, GREASE (§6.2) sends a random extension of the same shape. No PSK
 * and no early data while ECH is offered. */
#include "tls/ech_open.h"
#include "tls/tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECH_MAX_CONFIGS 16

struct ech_client {
    bool grease;
    bool decided, accepted; /* by the HelloRetryRequest or the ServerHello */
    ech_config config;      /* raw points into the config's list */
    ech_suite suite;
    hpke_ctx hpke;
    uint8_t enc[HPKE_MAX_ENC];
    size_t enc_len;
    bool enc_sent; /* the second outer hello carries an empty enc */
    uint8_t outer_random[32];
    char inner_name[256];
    uint8_t *outer1; /* the first ClientHelloOuter (header and body) */
    size_t outer1_len;
    uint8_t *grease_ext; /* GREASE: the extension body, repeated after HRR */
    size_t grease_len;
};

bool ech_client_offers(const certa_conn *c) {
    return c->ech && !c->ech->grease;
}

const char *ech_client_public_name(const certa_conn *c) {
    return c->ech->config.public_name;
}

const uint8_t *ech_client_outer_random(const certa_conn *c) {
    return c->ech->outer_random;
}

static int start_real(certa_conn *c, struct ech_client *e) {
    const certa_config *cfg = c->cfg;
    ech_config configs[ECH_MAX_CONFIGS];
    size_t n = 0, index = 0;
    if (ech_config_list_parse(cfg->ech_config_list, cfg->ech_config_list_len, configs,
                              ECH_MAX_CONFIGS, &n) != 0 ||
        ech_config_choose(configs, n, &index, &e->suite) != 0)
        return conn_fail(c, CERTA_E_ECH_CONFIG, ALERT_NONE,
                         "the ECHConfigList holds no usable config"); /* checked when set */
    e->config = configs[index];
    builder info;
    bld_init_alloc(&info, 8 + e->config.raw_len);
    bld_bytes(&info, "tls ech", 8); /* with its NUL: "tls ech" || 0x00 */
    bld_bytes(&info, e->config.raw, e->config.raw_len);
    int r = bld_ok(&info) ? 0 : CERTA_E_NOMEM;
    if (!r && hpke_setup_base_sender(&e->hpke, e->config.kem, e->suite.kdf, e->suite.aead,
                                     e->config.public_key, e->config.public_key_len, info.buf,
                                     info.len, e->enc) != 0)
        r = CERTA_E_CRYPTO;
    bld_free(&info);
    if (r) return conn_fail(c, r, ALERT_NONE, "setting up HPKE for ECH failed");
    e->enc_len = hpke_kem_enc_len(e->config.kem);
    if (config_random(cfg, e->outer_random, 32) != 0)
        return conn_fail(c, CERTA_E_CRYPTO, ALERT_NONE, "no randomness available");
    snprintf(e->inner_name, sizeof e->inner_name, "%s", c->server_name);
    c->ech_outer_name = strdup(e->config.public_name);
    if (!c->ech_outer_name) return conn_fail(c, CERTA_E_NOMEM, ALERT_NONE, NULL);
    conn_trace(c, "  ECH: offered (config %u, public name %s; the inner hello carries %s)",
               e->config.config_id, e->config.public_name,
               e->inner_name[0] ? e->inner_name : "no SNI");
    return 0;
}

int ech_client_start(certa_conn *c) {
    const certa_config *cfg = c->cfg;
    if (!cfg->ech_config_list && !cfg->ech_grease) return 0;
    if (cfg->max_version < CERTA_TLS13) {    /* ECH is TLS 1.3's */
        if (!cfg->ech_config_list) return 0; /* nothing to hide: no GREASE either */
        /* Going on without it would send the name ECH was asked to hide. */
        return conn_fail(c, CERTA_E_CONFIG, ALERT_NONE,
                         "Encrypted Client Hello needs TLS 1.3, which this client does not "
                         "allow: allow TLS 1.3 (--max-version 1.3), or do not offer ECH");
    }
    c->ech = calloc(1, sizeof *c->ech);
    if (!c->ech) return conn_fail(c, CERTA_E_NOMEM, ALERT_NONE, NULL);
    if (cfg->ech_config_list) return start_real(c, c->ech);
    c->ech->grease = true;
    c->ech_status = CERTA_ECH_GREASE;
    return 0;
}

void ech_client_put_inner_extension(builder *b) {
    bld_u16(b, EXT_ENCRYPTED_CLIENT_HELLO);
    bld_u16(b, 1);
    bld_u8(b, ECH_TYPE_INNER);
}

/* §6.1.3: pad the name to the config's maximum_name_length, then the
 * whole to a multiple of 32. */
static size_t inner_padding(size_t encoded_len, size_t name_len, bool has_name,
                            uint8_t max_name_length) {
    size_t pad = has_name ? (max_name_length > name_len ? max_name_length - name_len : 0)
                          : (size_t)max_name_length + 9;
    size_t l = encoded_len + pad;
    return pad + 31 - ((l - 1) % 32);
}

/* §6.2: a random config_id, HKDF-SHA256 / AES-128-GCM, a random X25519
 * enc and a payload as long as a real one for a hello of this size. */
int ech_client_put_grease(certa_conn *c, builder *b, size_t shares_len) {
    struct ech_client *e = c->ech;
    if (!e->grease_ext) {
        /* A real inner hello would be about this one with its extension, and
         * its key shares referenced (7 bytes) instead of carried. */
        size_t l = b->len - shares_len + 5 + 7;
        size_t payload =
            l + inner_padding(l, strlen(c->server_name), c->server_name[0], 0) + HPKE_TAG;
        builder g;
        bld_init_alloc(&g, payload + 48);
        bld_u8(&g, ECH_TYPE_OUTER);
        bld_u16(&g, HPKE_KDF_HKDF_SHA256);
        bld_u16(&g, HPKE_AEAD_AES_128_GCM);
        uint8_t *id = bld_reserve(&g, 1);
        bld_u16(&g, 32);
        uint8_t *enc = bld_reserve(&g, 32);
        bld_u16(&g, (uint16_t)payload);
        uint8_t *p = bld_reserve(&g, payload);
        if (!bld_ok(&g) || config_random(c->cfg, id, 1) != 0 ||
            config_random(c->cfg, enc, 32) != 0 || config_random(c->cfg, p, payload) != 0) {
            bld_free(&g);
            return CERTA_E_NOMEM;
        }
        e->grease_ext = bld_take(&g, &e->grease_len);
        bld_free(&g);
        if (!e->grease_ext) return CERTA_E_NOMEM;
    }
    bld_u16(b, EXT_ENCRYPTED_CLIENT_HELLO);
    bld_u16(b, (uint16_t)e->grease_len);
    bld_bytes(b, e->grease_ext, e->grease_len);
    return 0;
}

int ech_client_encode_inner(const certa_conn *c, const uint8_t *inner, size_t inner_len,
                            builder *enc) {
    const struct ech_client *e = c->ech;
    cursor body, sid, suites, comp, exts, x;
    const uint8_t *head;
    uint16_t type;
    cur_init(&body, inner, inner_len);
    if (!cur_bytes(&body, 34, &head) || !cur_vec8(&body, &sid) || !cur_vec16(&body, &suites) ||
        !cur_vec8(&body, &comp) || !cur_vec16(&body, &exts))
        return CERTA_E_INTERNAL; /* we built it */
    /* §5.1: legacy_session_id empty (the server copies the outer one) */
    bld_bytes(enc, head, 34);
    bld_u8(enc, 0);
    bld_u16(enc, (uint16_t)suites.len);
    bld_bytes(enc, suites.data, suites.len);
    bld_u8(enc, (uint8_t)comp.len);
    bld_bytes(enc, comp.data, comp.len);
    bld_open(enc, 2);
    while (cur_u16(&exts, &type) && cur_vec16(&exts, &x)) {
        /* The key shares (over 1 KiB with a hybrid) are the outer hello's
         * too: referenced with ech_outer_extensions, not repeated (§5.1). */
        if (type == EXT_KEY_SHARE) {
            bld_u16(enc, EXT_ECH_OUTER_EXTENSIONS);
            bld_u16(enc, 3);
            bld_u8(enc, 2);
            bld_u16(enc, EXT_KEY_SHARE);
            continue;
        }
        bld_u16(enc, type);
        bld_u16(enc, (uint16_t)x.len);
        bld_bytes(enc, x.data, x.len);
    }
    bld_close(enc);
    size_t name_len = strlen(e->inner_name);
    bool has_name = name_len && !is_ip_literal(e->inner_name);
    bld_zeros(enc, inner_padding(enc->len, name_len, has_name, e->config.max_name_length));
    return bld_ok(enc) ? 0 : CERTA_E_NOMEM;
}

void ech_client_put_outer_extension(certa_conn *c, builder *b, size_t payload_len,
                                    size_t *payload_off) {
    struct ech_client *e = c->ech;
    bld_u16(b, EXT_ENCRYPTED_CLIENT_HELLO);
    bld_open(b, 2);
    bld_u8(b, ECH_TYPE_OUTER);
    bld_u16(b, e->suite.kdf);
    bld_u16(b, e->suite.aead);
    bld_u8(b, e->config.config_id);
    bld_open(b, 2); /* enc: empty in the second outer hello (§6.1.5) */
    if (!e->enc_sent) bld_bytes(b, e->enc, e->enc_len);
    bld_close(b);
    bld_u16(b, (uint16_t)payload_len);
    *payload_off = b->len;
    bld_zeros(b, payload_len);
    bld_close(b);
}

int ech_client_seal(certa_conn *c, uint8_t *outer, size_t outer_len, size_t payload_off,
                    const builder *enc) {
    struct ech_client *e = c->ech;
    uint8_t *ct = malloc(enc->len + HPKE_TAG);
    if (!ct) return CERTA_E_NOMEM;
    int r = hpke_seal(&e->hpke, outer, outer_len, enc->buf, enc->len, ct) == 0 ? 0 : CERTA_E_CRYPTO;
    if (!r) memcpy(outer + payload_off, ct, enc->len + HPKE_TAG);
    free(ct);
    e->enc_sent = true;
    return r;
}

int ech_client_keep_outer(certa_conn *c, const uint8_t *msg, size_t len) {
    struct ech_client *e = c->ech;
    if (e->outer1) return 0;
    e->outer1 = malloc(len);
    if (!e->outer1) return CERTA_E_NOMEM;
    memcpy(e->outer1, msg, len);
    e->outer1_len = len;
    return 0;
}

/* Rejected: the outer hello is the handshake's from here on — its
 * transcript (with message_hash after a HelloRetryRequest), its random, and
 * the public name as the name the server must prove. */
static int reject(certa_conn *c, bool at_hrr) {
    struct ech_client *e = c->ech;
    e->decided = true;
    e->accepted = false;
    c->ech_status = CERTA_ECH_REJECTED;
    transcript_free(&c->th);
    int r = transcript_init(&c->th, c->suite->hash) == 0 &&
                    transcript_update(&c->th, e->outer1, e->outer1_len) == 0
                ? 0
                : CERTA_E_CRYPTO;
    if (!r && at_hrr) r = transcript_replace_with_message_hash(c);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    memcpy(c->client_random, e->outer_random, 32);
    snprintf(c->server_name, sizeof c->server_name, "%s", e->config.public_name);
    conn_trace(c, "  ECH: rejected by the server: authenticating it for the public name %s",
               e->config.public_name);
    return 0;
}

static void accept_ech(certa_conn *c) {
    c->ech->decided = true;
    c->ech->accepted = true;
    c->ech_status = CERTA_ECH_ACCEPTED;
}

int ech_client_on_hrr(certa_conn *c, const uint8_t *msg, size_t len, const ext_list *exts) {
    struct ech_client *e = c->ech;
    const cursor *x = ext_find(exts, EXT_ENCRYPTED_CLIENT_HELLO);
    if (x && x->len != ECH_CONFIRMATION_LEN)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the server's HelloRetryRequest carries an encrypted_client_hello of %zu "
                         "bytes (8 expected)",
                         x->len);
    if (e->grease) return 0; /* syntax checked, otherwise ignored (§6.2) */
    if (!x) return reject(c, true);
    uint8_t *copy = malloc(len), conf[ECH_CONFIRMATION_LEN];
    if (!copy) return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    memcpy(copy, msg, len);
    size_t at = (size_t)(x->data - msg); /* the cursor points into msg */
    memset(copy + at, 0, ECH_CONFIRMATION_LEN);
    int r =
        ech_accept_confirmation(c->suite->hash, c->client_random, &c->th, copy, len, true, conf);
    free(copy);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    if (!crypto_equal_ct(conf, x->data, ECH_CONFIRMATION_LEN)) return reject(c, true);
    accept_ech(c);
    conn_trace(c, "  ECH: accepted (HelloRetryRequest confirms it)");
    return 0;
}

int ech_client_on_server_hello(certa_conn *c, const uint8_t *msg, size_t len) {
    struct ech_client *e = c->ech;
    if (e->grease || (e->decided && !e->accepted)) return 0;
    uint8_t *copy = malloc(len), conf[ECH_CONFIRMATION_LEN];
    if (!copy) return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    memcpy(copy, msg, len);
    memset(copy + 4 + 2 + 24, 0, ECH_CONFIRMATION_LEN); /* ServerHello.random's last 8 */
    int r =
        ech_accept_confirmation(c->suite->hash, c->client_random, &c->th, copy, len, false, conf);
    bool match = !r && crypto_equal_ct(conf, msg + 4 + 2 + 24, ECH_CONFIRMATION_LEN);
    free(copy);
    if (r) return conn_fail(c, r, ALERT_INTERNAL_ERROR, NULL);
    if (e->decided && !match) /* §6.1.5: accepted by the HRR, then not */
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server accepted ECH in its HelloRetryRequest but its ServerHello "
                         "does not confirm it");
    if (!match) return reject(c, false);
    accept_ech(c);
    conn_trace(c, "  ECH: accepted (ServerHello confirms it): the inner hello for %s is used",
               e->inner_name[0] ? e->inner_name : "(no SNI)");
    return 0;
}

int ech_client_on_retry_configs(certa_conn *c, cursor body) {
    struct ech_client *e = c->ech;
    if (!e || (!e->grease && e->accepted))
        return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                         "the server sent ECH retry_configs %s",
                         e ? "although it accepted ECH" : "but ECH was not offered");
    ech_config configs[ECH_MAX_CONFIGS];
    size_t n = 0;
    cursor list = body, inside;
    if (!cur_vec16(&list, &inside) || !cur_empty(&list) || inside.len == 0 ||
        ech_config_list_parse(body.data, body.len, configs, ECH_MAX_CONFIGS, &n) != 0)
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the server's ECH retry_configs is not a well-formed ECHConfigList");
    if (e->grease) return 0; /* §6.2: checked, never kept */
    free(c->ech_retry);
    c->ech_retry = malloc(body.len);
    if (!c->ech_retry) return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    memcpy(c->ech_retry, body.data, body.len);
    c->ech_retry_len = body.len;
    conn_trace(c, "  ECH: the server sent retry_configs (%zu usable of version 0xfe0d)", n);
    return 0;
}

int ech_client_check_rejected(certa_conn *c) {
    const struct ech_client *e = c->ech;
    if (!e || e->grease || e->accepted) return 0;
    const char *name = e->inner_name[0] ? e->inner_name : "this server";
    if (c->ech_retry)
        return conn_fail(c, CERTA_E_ECH_REJECTED, ALERT_ECH_REQUIRED,
                         "the server did not accept Encrypted Client Hello for %s (public name "
                         "%s): it sent new ECH configs; retry with them",
                         name, e->config.public_name);
    return conn_fail(c, CERTA_E_ECH_REJECTED, ALERT_ECH_REQUIRED,
                     "the server did not accept Encrypted Client Hello for %s (public name %s) "
                     "and sent no ECH configs: it has ECH disabled — connect without ECH if "
                     "that is acceptable",
                     name, e->config.public_name);
}

bool ech_client_rejected(const certa_conn *c) {
    const struct ech_client *e = c->ech;
    return e && !e->grease && e->decided && !e->accepted;
}

/* Rewrites the failed connection's error text (cut to its buffer, like
 * every error text). */
static void error_text_set(certa_conn *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->error_text, sizeof c->error_text, fmt, ap);
    va_end(ap);
}

int ech_client_public_name_unverified(certa_conn *c, const char *key_pin) {
    const struct ech_client *e = c->ech;
    const char *name = e->inner_name[0] ? e->inner_name : "this server";
    free(c->ech_retry);
    c->ech_retry = NULL;
    c->ech_retry_len = 0;
    if (c->state == ST_FAILED) { /* the trust anchors refused it: keep that code, say it all */
        char why[sizeof c->error_text];
        snprintf(why, sizeof why, "%s", c->error_text);
        error_text_set(c,
                       "ECH was not accepted for %s: the public name %s's key %s matches no pin "
                       "and %s — no retry (its configs cannot be trusted)",
                       name, e->config.public_name, key_pin, why);
        return c->error;
    }
    return conn_fail(
        c, CERTA_E_ECH_REJECTED, ALERT_BAD_CERTIFICATE,
        "ECH was not accepted for %s: the public name %s's key %s matches no pin "
        "and no trust anchors are loaded to verify it, so its retry configs cannot "
        "be trusted — update the ECH config, or pin %s's key too, or load trust anchors "
        "that verify it",
        name, e->config.public_name, key_pin, e->config.public_name);
}

static void free_client_state(certa_conn *c) {
    if (!c->ech) return;
    hpke_ctx_wipe(&c->ech->hpke);
    if (c->ech->outer1) crypto_zero(c->ech->outer1, c->ech->outer1_len);
    free(c->ech->outer1);
    free(c->ech->grease_ext);
    crypto_zero(c->ech, sizeof *c->ech);
    free(c->ech);
    c->ech = NULL;
}

void ech_handshake_done(certa_conn *c) {
    free_client_state(c);
    if (c->ech_open) {
        hpke_ctx_wipe(&c->ech_open->hpke);
        free(c->ech_open);
        c->ech_open = NULL;
    }
}

void ech_conn_free(certa_conn *c) {
    ech_handshake_done(c);
    free(c->ech_outer_name);
    free(c->ech_retry);
}
