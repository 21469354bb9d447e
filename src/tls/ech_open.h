/* The server side of ECH (RFC 9849 §7.1): shared mode in the engine, split
 * mode in certa proxy. Finds the encrypted_client_hello extension (type
 * outer) in a ClientHelloOuter, decrypts it, and rebuilds ClientHelloInner. */
#ifndef CERTA_TLS_ECH_OPEN_H
#define CERTA_TLS_ECH_OPEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/hpke.h"
#include "tls/ech_config.h"
#include "wire/cursor.h"

typedef struct ech_key {
    ech_config config; /* its raw points into config_storage */
    uint8_t config_storage[1024];
    uint8_t private_key[HPKE_MAX_PRIVATE];
    size_t private_key_len;
    bool retry;     /* offered in retry_configs (ech_key_init sets it) */
    hpke_key *hpke; /* the private key prepared (ech_key_init; ech_key_wipe frees it): a
                     * copy of the struct shares it, and only one copy may be wiped */
} ech_key;

/* Between the first and a second ClientHello (after HelloRetryRequest) the
 * server keeps this; hpke_ctx_wipe(&st->hpke) when the handshake is done. */
typedef struct ech_open_state {
    hpke_ctx hpke;
    ech_suite suite;
    uint8_t config_id;
    bool have_context;
} ech_open_state;

/* One ECHConfig (not a list) and its private key; checks the ECHConfig is
 * usable (ech_config_parse), that its KEM is supported, and that the
 * private key's public key is the config's. 0 = ok, -1 otherwise. k must
 * not hold a key already (ech_key_wipe it first: it owns a prepared HPKE key). */
int ech_key_init(ech_key *k, const uint8_t *private_key, size_t private_key_len,
                 const uint8_t *ech_config, size_t config_len);
void ech_key_wipe(ech_key *k);

#define ECH_OPEN_OK 0
#define ECH_OPEN_NOT_DECRYPTED                                                                     \
    1                     /* no key opened it: go on with ClientHelloOuter and send retry_configs */
#define ECH_OPEN_ABSENT 2 /* no encrypted_client_hello extension of type outer */
/* Trial decryption (keys whose config_id does not match; only with trial
 * true, an opt-in: without it a GREASE hello costs no DH) tries this many
 * keys at most. */
#define ECH_TRIAL_MAX 4

/* outer: the ClientHello handshake message body (after the 4-byte handshake header).
 * first: true for the first ClientHello (keys whose config_id matches; then,
 *   with trial, bounded by ECH_TRIAL_MAX, trial decryption with the others); false for the
 *   second ClientHello after HRR (st's context, same config_id and suite, empty
 *   enc required — else illegal_parameter; no extension: missing_extension; the
 *   payload does not open: decrypt_error). With first false and no context in
 *   st (ECH was not accepted), nothing is decrypted: ECH_OPEN_ABSENT or
 *   ECH_OPEN_NOT_DECRYPTED.
 * On ECH_OPEN_OK, inner holds the ClientHelloInner body (no handshake header)
 * with legacy_session_id copied from the outer hello and ech_outer_extensions
 * expanded, padding removed and checked zero; it has the inner
 * encrypted_client_hello extension and offers TLS 1.3 or later only.
 * Returns a negative value -ALERT (e.g. -ALERT_DECODE_ERROR,
 * -ALERT_ILLEGAL_PARAMETER) for a malformed extension or inner hello (also an
 * inner-type extension in a hello from the network); *why gets a static
 * sentence for the log (also for ECH_OPEN_NOT_DECRYPTED). */
int ech_open_client_hello(const ech_key *keys, size_t n_keys, const uint8_t *outer,
                          size_t outer_len, bool first, bool trial, ech_open_state *st,
                          builder *inner, const char **why);

#endif
