/* TEMPORARY copy of the interface ech-hpke owns (dropped at the merge). */
#ifndef CERTA_ECH_CONFIG_H
#define CERTA_ECH_CONFIG_H
#include "crypto/hpke.h"
#include "wire/cursor.h"
#define ECH_VERSION 0xfe0d
#define EXT_ECH_OUTER_EXTENSIONS 0xfd00
#define ECH_MAX_SUITES 16
typedef struct ech_suite {
    uint16_t kdf, aead;
} ech_suite;
typedef struct ech_config {
    uint8_t config_id;
    uint16_t kem;
    uint8_t public_key[HPKE_MAX_ENC];
    size_t public_key_len;
    ech_suite suites[ECH_MAX_SUITES];
    size_t n_suites;
    uint8_t max_name_length;
    char public_name[256];
    const uint8_t *raw;
    size_t raw_len;
} ech_config;
int ech_config_list_parse(const uint8_t *list, size_t len, ech_config *out, size_t max, size_t *n);
int ech_config_choose(const ech_config *configs, size_t n, size_t *index, ech_suite *suite);
int ech_config_build(builder *b, uint8_t config_id, uint16_t kem, const uint8_t *pk, size_t pk_len,
                     const ech_suite *suites, size_t n_suites, uint8_t max_name_length,
                     const char *public_name);
#endif
