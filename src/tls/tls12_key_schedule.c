/* The TLS 1.2 key schedule (RFC 5246 §6.3, §8.1; RFC 7627): the master
 * secret from the ECDHE pre-master secret (extended: bound to the session
 * hash), the key block, record keys per direction, and Finished. */
#include "tls/tls.h"

#include <string.h>

int tls12_master_secret(certa_conn *c, const uint8_t *pms, size_t pms_len) {
    hash_alg h = c->suite->hash;
    int r;
    if (c->ems) {
        uint8_t session_hash[CRYPTO_MAX_HASH];
        if (transcript_hash(c, session_hash) != 0) return CERTA_E_CRYPTO;
        r = tls12_prf(h, pms, pms_len, "extended master secret", session_hash, hash_len(h), NULL, 0,
                      c->master_secret, TLS12_MASTER_LEN);
    } else {
        r = tls12_prf(h, pms, pms_len, "master secret", c->client_random, 32, c->t12->server_random,
                      32, c->master_secret, TLS12_MASTER_LEN);
    }
    return r == 0 ? 0 : CERTA_E_CRYPTO;
}

static size_t key_len(const certa_conn *c) {
    return aead_key_len(c->suite->aead);
}

static size_t iv_len(const certa_conn *c) {
    return record_tls12_iv_len(c->suite->aead);
}

/* Called once per handshake, full or resumed, on both sides: the place the
 * master secret is final, so the key log's CLIENT_RANDOM line is written here. */
int tls12_key_block(certa_conn *c) {
    size_t n = 2 * key_len(c) + 2 * iv_len(c);
    if (tls12_prf(c->suite->hash, c->master_secret, TLS12_MASTER_LEN, "key expansion",
                  c->t12->server_random, 32, c->client_random, 32, c->t12->key_block, n) != 0)
        return CERTA_E_CRYPTO;
    keylog_tls12(c);
    return 0;
}

/* client_write_key, server_write_key, client_write_IV, server_write_IV. */
static int set_keys(certa_conn *c, record_protection *rp, bool client_side) {
    size_t kl = key_len(c), il = iv_len(c);
    const uint8_t *key = c->t12->key_block + (client_side ? 0 : kl);
    const uint8_t *iv = c->t12->key_block + 2 * kl + (client_side ? 0 : il);
    return record_set_keys_tls12(rp, c->suite->aead, key, iv);
}

int tls12_set_tx(certa_conn *c) {
    return set_keys(c, &c->tx, !c->is_server);
}

int tls12_set_rx(certa_conn *c) {
    return set_keys(c, &c->rx, c->is_server);
}

int tls12_finished_data(certa_conn *c, bool client, uint8_t out[TLS12_FINISHED_LEN]) {
    uint8_t th[CRYPTO_MAX_HASH];
    hash_alg h = c->suite->hash;
    if (transcript_hash(c, th) != 0) return CERTA_E_CRYPTO;
    return tls12_prf(h, c->master_secret, TLS12_MASTER_LEN,
                     client ? "client finished" : "server finished", th, hash_len(h), NULL, 0, out,
                     TLS12_FINISHED_LEN) == 0
               ? 0
               : CERTA_E_CRYPTO;
}
