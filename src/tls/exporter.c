/* Keying-material exporters: RFC 8446 §7.5 (TLS 1.3) and RFC 5705 (TLS 1.2).
 * The handshake keeps one secret for them (c->exporter_secret): the TLS 1.3
 * exporter_master_secret, or the TLS 1.2 master secret with the server random. */
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>

/* TLS 1.2: call before the handshake state (t12) is freed. */
void exporter_keep_tls12(certa_conn *c) {
    if (!c->t12) return;
    memcpy(c->exporter_secret, c->master_secret, TLS12_MASTER_LEN);
    memcpy(c->exporter_server_random, c->t12->server_random, 32);
}

/* TLS 1.3: exporter_master_secret = Derive-Secret(master, "exp master", CH..server Finished). */
int exporter_keep_tls13(certa_conn *c, const uint8_t *transcript_hash) {
    return derive_secret(c->suite->hash, c->master_secret, "exp master", transcript_hash,
                         c->exporter_secret) == 0
               ? 0
               : CERTA_E_CRYPTO;
}

static bool reserved_label(const char *label) {
    static const char *const reserved[] = {"client finished", "server finished", "master secret",
                                           "extended master secret", "key expansion"};
    for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
        if (!strcmp(label, reserved[i])) return true;
    return false;
}

static int export13(certa_conn *c, uint8_t *out, size_t out_len, const char *label,
                    const uint8_t *context, size_t context_len) {
    hash_alg h = c->suite->hash;
    uint8_t empty[CRYPTO_MAX_HASH], ctx_hash[CRYPTO_MAX_HASH], derived[CRYPTO_MAX_HASH];
    /* Derive-Secret(exporter_master_secret, label, "") then Expand-Label(.., "exporter",
     * Hash(context)); no context and an empty one are the same in TLS 1.3. */
    static const uint8_t none[1] = {0};
    int ok = hash_oneshot(h, none, 0, empty) == 0 &&
             hash_oneshot(h, context ? context : none, context ? context_len : 0, ctx_hash) == 0 &&
             derive_secret(h, c->exporter_secret, label, empty, derived) == 0 &&
             hkdf_expand_label(h, derived, "exporter", ctx_hash, hash_len(h), out, out_len) == 0;
    crypto_zero(derived, sizeof derived);
    return ok ? CERTA_OK : CERTA_E_CRYPTO;
}

static int export12(certa_conn *c, uint8_t *out, size_t out_len, const char *label,
                    const uint8_t *context, size_t context_len, bool use_context) {
    uint8_t randoms[64];
    memcpy(randoms, c->client_random, 32);
    memcpy(randoms + 32, c->exporter_server_random, 32);
    uint8_t *tail = NULL;
    size_t tail_len = 0;
    if (use_context) {
        tail_len = 2 + context_len;
        tail = malloc(tail_len);
        if (!tail) return CERTA_E_NOMEM;
        tail[0] = (uint8_t)(context_len >> 8);
        tail[1] = (uint8_t)context_len;
        if (context_len) memcpy(tail + 2, context, context_len);
    }
    int r = tls12_prf(c->suite->hash, c->exporter_secret, TLS12_MASTER_LEN, label, randoms, 64,
                      tail, tail_len, out, out_len);
    free(tail);
    return r == 0 ? CERTA_OK : CERTA_E_CRYPTO;
}

int certa_conn_export_keying_material(certa_conn *c, uint8_t *out, size_t out_len,
                                      const char *label, size_t label_len, const uint8_t *context,
                                      size_t context_len, bool use_context) {
    if (!c || !out || !label || (context_len && !context)) return CERTA_E_INVALID_ARGUMENT;
    if (!certa_conn_handshake_done(c) || c->error) return CERTA_E_STATE;
    /* HKDF-Expand-Label takes labels up to 249 bytes after "tls13 "; the
     * context length is a uint16 in RFC 5705. */
    if (label_len == 0 || label_len > 249 || memchr(label, 0, label_len) || context_len > 0xffff ||
        out_len == 0 || out_len > 255 * hash_len(c->suite->hash))
        return CERTA_E_INVALID_ARGUMENT;
    char name[250];
    memcpy(name, label, label_len);
    name[label_len] = 0;
    if (reserved_label(name)) return CERTA_E_INVALID_ARGUMENT;
    if (c->version == CERTA_TLS12)
        return export12(c, out, out_len, name, context, context_len, use_context);
    return export13(c, out, out_len, name, use_context ? context : NULL, context_len);
}
