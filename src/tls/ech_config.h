/* ECHConfig and ECHConfigList (RFC 9849 §4): what a client-facing server
 * publishes (in DNS HTTPS records, in retry_configs) and a client encrypts
 * its ClientHelloInner to. */
#ifndef CERTA_TLS_ECH_CONFIG_H
#define CERTA_TLS_ECH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/hpke.h"
#include "wire/cursor.h"

#define ECH_VERSION 0xfe0d /* also the encrypted_client_hello extension type */
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
    ech_suite suites[ECH_MAX_SUITES]; /* the first ECH_MAX_SUITES of the config's */
    size_t n_suites;
    uint8_t max_name_length;
    char public_name[256]; /* NUL-terminated, checked by ech_public_name_valid */
    const uint8_t *raw;    /* the whole ECHConfig (version, length, contents) as received: */
    size_t raw_len;        /*   HPKE info is "tls ech" || 0x00 || raw */
} ech_config;

/* Parses an ECHConfigList (with its 2-byte length). Configs of another
 * version, with a mandatory extension we do not know, with a public_name
 * that is not a valid one, or with a public key longer than HPKE_MAX_ENC,
 * are skipped as RFC 9849 says; -1 only for a malformed list (an empty
 * list, a length that does not add up, a field outside its bounds, two
 * extensions of one type). The first max usable configs are kept; *n is
 * how many. out[i].raw points into list. */
int ech_config_list_parse(const uint8_t *list, size_t len, ech_config *out, size_t max, size_t *n);
/* One ECHConfig, exactly len bytes: 0 usable (out filled, raw = data), 1
 * well-formed but skipped by the rules above, -1 malformed. */
int ech_config_parse(const uint8_t *data, size_t len, ech_config *out);
/* The first config (list order) whose KEM and some suite we support; the
 * suite in the config's order. -1 if none. */
int ech_config_choose(const ech_config *configs, size_t n, size_t *index, ech_suite *suite);
/* Appends one ECHConfig (version 0xfe0d, no extensions) to b. -1 (nothing
 * written) for a public name ech_public_name_valid refuses, a key of the
 * wrong size for kem, or no suites. */
int ech_config_build(builder *b, uint8_t config_id, uint16_t kem, const uint8_t *pk, size_t pk_len,
                     const ech_suite *suites, size_t n_suites, uint8_t max_name_length,
                     const char *public_name);
/* RFC 9849 §6.1.7: LDH labels (no leading or trailing dot, labels of at
 * most 63 bytes), and a final label that is neither all digits nor "0x"
 * followed by hex digits (it would read as an IPv4 literal). */
bool ech_public_name_valid(const uint8_t *name, size_t len);

#endif
