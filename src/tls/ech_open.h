/* TEMPORARY copy of the interface ech-hpke owns (dropped at the merge). */
#ifndef CERTA_ECH_OPEN_H
#define CERTA_ECH_OPEN_H
#include "tls/ech_config.h"
typedef struct ech_key {
    ech_config config;
    uint8_t config_storage[1024];
    uint8_t private_key[HPKE_MAX_PRIVATE];
    size_t private_key_len;
    bool retry;
} ech_key;
typedef struct ech_open_state {
    hpke_ctx hpke;
    ech_suite suite;
    uint8_t config_id;
    bool have_context;
} ech_open_state;
int ech_key_init(ech_key *k, const uint8_t *private_key, size_t private_key_len,
                 const uint8_t *ech_config, size_t config_len);
#define ECH_OPEN_OK 0
#define ECH_OPEN_NOT_DECRYPTED 1
#define ECH_OPEN_ABSENT 2
int ech_open_client_hello(const ech_key *keys, size_t n_keys, const uint8_t *outer,
                          size_t outer_len, bool first, ech_open_state *st, builder *inner,
                          const char **why);
#endif
