/* Encrypted Client Hello (RFC 9849), what both sides share: the acceptance
 * confirmation (§7.2), the config setters and the connection's ECH facts.
 * The server's side is ech_server.c, the client's ech_client.c; HPKE,
 * ECHConfig parsing and decryption are crypto/hpke.c, ech_config.c and
 * ech_open.c. */
#include "tls/ech_open.h"
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>

int ech_accept_confirmation(hash_alg h, const uint8_t inner_random[32], const transcript *th,
                            const uint8_t *msg, size_t len, bool hrr, uint8_t out[8]) {
    static const uint8_t zeros[CRYPTO_MAX_HASH] = {0};
    size_t hl = hash_len(h);
    uint8_t prk[CRYPTO_MAX_HASH], hash[CRYPTO_MAX_HASH];
    int ok =
        hkdf_extract(h, zeros, hl, inner_random, 32, prk) == 0 &&
        transcript_current_with(th, msg, len, NULL, 0, hash) == 0 &&
        hkdf_expand_label(h, prk, hrr ? "hrr ech accept confirmation" : "ech accept confirmation",
                          hash, hl, out, ECH_CONFIRMATION_LEN) == 0;
    crypto_zero(prk, sizeof prk);
    return ok ? 0 : CERTA_E_CRYPTO;
}

/* The retry list is every retry key's config, rebuilt on each add. */
static int rebuild_retry_list(certa_config *cfg) {
    builder b;
    bld_init_alloc(&b, 256);
    bld_open(&b, 2);
    size_t n = 0;
    for (size_t i = 0; i < cfg->ech_key_count; i++)
        if (cfg->ech_keys[i].retry) {
            bld_bytes(&b, cfg->ech_keys[i].config.raw, cfg->ech_keys[i].config.raw_len);
            n++;
        }
    bld_close(&b);
    if (!bld_ok(&b)) {
        bld_free(&b);
        return CERTA_E_NOMEM;
    }
    free(cfg->ech_retry_list);
    cfg->ech_retry_list = NULL;
    cfg->ech_retry_list_len = 0;
    if (n) {
        cfg->ech_retry_list = bld_take(&b, &cfg->ech_retry_list_len);
        if (!cfg->ech_retry_list) return CERTA_E_NOMEM;
    }
    bld_free(&b);
    return 0;
}

int certa_config_add_ech_key(certa_config *cfg, const uint8_t *private_key, size_t key_len,
                             const uint8_t *ech_config, size_t config_len, bool retry) {
    CHECK_MUTABLE(cfg);
    if (!private_key || !ech_config) return CERTA_E_INVALID_ARGUMENT;
    ech_key *keys = realloc(cfg->ech_keys, (cfg->ech_key_count + 1) * sizeof *keys);
    if (!keys) return CERTA_E_NOMEM;
    cfg->ech_keys = keys;
    ech_key *k = &keys[cfg->ech_key_count];
    memset(k, 0, sizeof *k);
    if (ech_key_init(k, private_key, key_len, ech_config, config_len) != 0) {
        crypto_zero(k, sizeof *k);
        return config_err(cfg, CERTA_E_ECH_CONFIG,
                          "the ECH key and config cannot be used: the config is not one "
                          "well-formed ECHConfig (version 0xfe0d) with a KEM certa supports, or "
                          "the private key does not match its public key — regenerate the pair "
                          "(certa ech keygen)");
    }
    k->retry = retry;
    cfg->ech_key_count++;
    /* The config's raw pointed into k->config_storage before the realloc
     * moved earlier keys: point each at its own storage again. */
    for (size_t i = 0; i < cfg->ech_key_count; i++)
        cfg->ech_keys[i].config.raw = cfg->ech_keys[i].config_storage;
    return rebuild_retry_list(cfg);
}

int certa_config_set_ech_config_list(certa_config *cfg, const uint8_t *list, size_t len) {
    CHECK_MUTABLE(cfg);
    if (!list && len) return CERTA_E_INVALID_ARGUMENT;
    ech_config configs[16];
    size_t n = 0, index;
    ech_suite suite;
    if (ech_config_list_parse(list, len, configs, 16, &n) != 0)
        return config_err(cfg, CERTA_E_ECH_CONFIG,
                          "the ECHConfigList is malformed: pass the server's list as published "
                          "(the DNS HTTPS record's ech value, base64-decoded)");
    if (ech_config_choose(configs, n, &index, &suite) != 0)
        return config_err(cfg, CERTA_E_ECH_CONFIG,
                          "the ECHConfigList holds no config certa can use (%zu of version "
                          "0xfe0d; certa knows the X25519 and P-256 KEMs with HKDF-SHA256/384 and "
                          "AES-GCM or ChaCha20-Poly1305)",
                          n);
    uint8_t *copy = malloc(len);
    if (!copy) return CERTA_E_NOMEM;
    memcpy(copy, list, len);
    free(cfg->ech_config_list);
    cfg->ech_config_list = copy;
    cfg->ech_config_list_len = len;
    return 0;
}

void certa_config_set_ech_grease(certa_config *cfg, bool on) {
    if (cfg && !atomic_load(&cfg->frozen)) cfg->ech_grease = on;
}

void certa_config_set_ech_trial_decryption(certa_config *cfg, bool on) {
    if (cfg && !atomic_load(&cfg->frozen)) cfg->ech_trial_decryption = on;
}

void ech_config_free(certa_config *cfg) {
    for (size_t i = 0; i < cfg->ech_key_count; i++)
        ech_key_wipe(&cfg->ech_keys[i]);
    free(cfg->ech_keys);
    free(cfg->ech_retry_list);
    free(cfg->ech_config_list);
}

certa_ech_status certa_conn_ech_status(const certa_conn *conn) {
    return conn ? conn->ech_status : CERTA_ECH_NONE;
}

const char *certa_ech_status_name(certa_ech_status status) {
    switch (status) {
    case CERTA_ECH_NONE:
        return "none";
    case CERTA_ECH_ACCEPTED:
        return "accepted";
    case CERTA_ECH_REJECTED:
        return "rejected";
    case CERTA_ECH_GREASE:
        return "GREASE";
    case CERTA_ECH_NOT_DECRYPTED:
        return "not decrypted";
    }
    return "unknown";
}

int certa_conn_ech_retry_configs(const certa_conn *conn, const uint8_t **list, size_t *len) {
    if (!conn || !list || !len) return CERTA_E_INVALID_ARGUMENT;
    *list = conn->ech_retry;
    *len = conn->ech_retry_len;
    return conn->ech_retry ? 0 : CERTA_E_STATE;
}

const char *certa_conn_ech_outer_name(const certa_conn *conn) {
    return conn ? conn->ech_outer_name : NULL;
}
