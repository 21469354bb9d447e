/* The TLS 1.3 key schedule (RFC 8446 §7.1): early secret from the
 * resumption PSK or zeros, handshake secret from the (EC)DHE shared secret,
 * master secret, the traffic secrets derived from the transcript hash, and
 * the resumption secrets (binder, resumption_master_secret, ticket PSKs). */
#include "tls/tls.h"

#include <string.h>

/* Derive-Secret(secret, "derived", "") — the salt for the next stage. */
static int derived_salt(hash_alg h, const uint8_t *secret, uint8_t *out) {
    uint8_t empty_hash[CRYPTO_MAX_HASH];
    if (hash_oneshot(h, NULL, 0, empty_hash) != 0) return -1;
    return derive_secret(h, secret, "derived", empty_hash, out);
}

int ks_early_secret(hash_alg h, const uint8_t *psk, uint8_t *early) {
    static const uint8_t zeros[CRYPTO_MAX_HASH] = {0};
    return hkdf_extract(h, NULL, 0, psk ? psk : zeros, hash_len(h), early) == 0 ? 0
                                                                                : CERTA_E_CRYPTO;
}

int ks_binder(hash_alg h, const uint8_t *psk, const uint8_t *truncated_hash, uint8_t *out) {
    size_t hl = hash_len(h);
    uint8_t early[CRYPTO_MAX_HASH], empty[CRYPTO_MAX_HASH], binder_key[CRYPTO_MAX_HASH],
        finished_key[CRYPTO_MAX_HASH];
    int ok = ks_early_secret(h, psk, early) == 0 && hash_oneshot(h, NULL, 0, empty) == 0 &&
             derive_secret(h, early, "res binder", empty, binder_key) == 0 &&
             hkdf_expand_label(h, binder_key, "finished", NULL, 0, finished_key, hl) == 0 &&
             hmac(h, finished_key, hl, truncated_hash, hl, out) == 0;
    crypto_zero(early, sizeof early);
    crypto_zero(binder_key, sizeof binder_key);
    crypto_zero(finished_key, sizeof finished_key);
    return ok ? 0 : CERTA_E_CRYPTO;
}

int ks_client_early_secret(hash_alg h, const uint8_t *psk, const uint8_t *hello_hash,
                           uint8_t *out) {
    uint8_t early[CRYPTO_MAX_HASH];
    int ok = ks_early_secret(h, psk, early) == 0 &&
             derive_secret(h, early, "c e traffic", hello_hash, out) == 0;
    crypto_zero(early, sizeof early);
    return ok ? 0 : CERTA_E_CRYPTO;
}

int ks_resumption_secret(certa_conn *c, uint8_t *out) {
    uint8_t th[CRYPTO_MAX_HASH];
    if (transcript_hash(c, th) != 0 ||
        derive_secret(c->suite->hash, c->master_secret, "res master", th, out) != 0)
        return CERTA_E_CRYPTO;
    return 0;
}

int ks_ticket_psk(hash_alg h, const uint8_t *rms, const uint8_t *nonce, size_t nonce_len,
                  uint8_t *psk) {
    return hkdf_expand_label(h, rms, "resumption", nonce, nonce_len, psk, hash_len(h)) == 0
               ? 0
               : CERTA_E_CRYPTO;
}

int ks_handshake_secrets(certa_conn *c, const uint8_t *shared, size_t shared_len) {
    hash_alg h = c->suite->hash;
    size_t hl = hash_len(h);
    uint8_t zeros[CRYPTO_MAX_HASH] = {0};
    uint8_t early[CRYPTO_MAX_HASH], salt[CRYPTO_MAX_HASH], th[CRYPTO_MAX_HASH];
    int ok = ks_early_secret(h, c->resumed ? c->psk : NULL, early) == 0 &&
             derived_salt(h, early, salt) == 0 &&
             hkdf_extract(h, salt, hl, shared, shared_len, c->handshake_secret) == 0 &&
             transcript_hash(c, th) == 0 &&
             derive_secret(h, c->handshake_secret, "c hs traffic", th, c->client_hs_secret) == 0 &&
             derive_secret(h, c->handshake_secret, "s hs traffic", th, c->server_hs_secret) == 0 &&
             derived_salt(h, c->handshake_secret, salt) == 0 &&
             hkdf_extract(h, salt, hl, zeros, hl, c->master_secret) == 0;
    crypto_zero(early, sizeof early);
    crypto_zero(salt, sizeof salt);
    if (ok) keylog_tls13_handshake(c);
    return ok ? 0 : CERTA_E_CRYPTO;
}

/* Call with the transcript through the server's Finished. */
int ks_application_secrets(certa_conn *c) {
    hash_alg h = c->suite->hash;
    uint8_t th[CRYPTO_MAX_HASH];
    if (transcript_hash(c, th) != 0 ||
        derive_secret(h, c->master_secret, "c ap traffic", th, c->client_app_secret) != 0 ||
        derive_secret(h, c->master_secret, "s ap traffic", th, c->server_app_secret) != 0 ||
        exporter_keep_tls13(c, th) != 0)
        return CERTA_E_CRYPTO;
    /* Only the traffic secrets are needed from here on. */
    crypto_zero(c->handshake_secret, sizeof c->handshake_secret);
    keylog_tls13_application(c);
    return 0;
}

/* verify_data = HMAC(finished_key, Transcript-Hash) with
 * finished_key = HKDF-Expand-Label(base_key, "finished", "", Hash.length). */
int ks_finished_mac(certa_conn *c, const uint8_t *base_secret, uint8_t *out) {
    hash_alg h = c->suite->hash;
    size_t hl = hash_len(h);
    uint8_t finished_key[CRYPTO_MAX_HASH], th[CRYPTO_MAX_HASH];
    int ok = hkdf_expand_label(h, base_secret, "finished", NULL, 0, finished_key, hl) == 0 &&
             transcript_hash(c, th) == 0 && hmac(h, finished_key, hl, th, hl, out) == 0;
    crypto_zero(finished_key, sizeof finished_key);
    return ok ? 0 : CERTA_E_CRYPTO;
}

/* application_traffic_secret_N+1 (§7.2), in place. */
int ks_next_traffic_secret(certa_conn *c, uint8_t *secret) {
    hash_alg h = c->suite->hash;
    size_t hl = hash_len(h);
    uint8_t next[CRYPTO_MAX_HASH];
    if (hkdf_expand_label(h, secret, "traffic upd", NULL, 0, next, hl) != 0) return CERTA_E_CRYPTO;
    memcpy(secret, next, hl);
    crypto_zero(next, sizeof next);
    return 0;
}

void ks_wipe(certa_conn *c) {
    crypto_zero(c->handshake_secret, sizeof c->handshake_secret);
    crypto_zero(c->master_secret, sizeof c->master_secret);
    crypto_zero(c->client_hs_secret, sizeof c->client_hs_secret);
    crypto_zero(c->server_hs_secret, sizeof c->server_hs_secret);
    crypto_zero(c->client_app_secret, sizeof c->client_app_secret);
    crypto_zero(c->server_app_secret, sizeof c->server_app_secret);
    crypto_zero(c->psk, sizeof c->psk);
    crypto_zero(c->resumption_secret, sizeof c->resumption_secret);
    crypto_zero(c->exporter_secret, sizeof c->exporter_secret);
    crypto_zero(c->client_early_secret, sizeof c->client_early_secret);
    if (c->t12) crypto_zero(c->t12->key_block, sizeof c->t12->key_block); /* TLS 1.2 */
}
