/* The key log (certa_config_set_keylog): NSS key-log lines, the format
 * Wireshark, tshark and libssl's SSL_CTX_set_keylog_callback use —
 * "LABEL <client_random hex> <secret hex>". Each line is formatted into a
 * stack buffer, handed to the caller's function and zeroized. Off (and no
 * work done) unless a function is set. KeyUpdate's later secrets are not
 * logged, as NSS and libssl do not: a decoder derives them itself. */
#include "tls/tls.h"

#include <string.h>

/* The longest label, a space, 32 bytes of random, a space, a 64-byte secret. */
#define KEYLOG_LINE_MAX (31 + 1 + 64 + 1 + 2 * CRYPTO_MAX_HASH + 1)

void certa_config_set_keylog(certa_config *cfg, certa_keylog_fn fn, void *arg) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->keylog_fn = fn;
    cfg->keylog_arg = arg;
}

bool keylog_on(const certa_conn *c) {
    return c->cfg->keylog_fn != NULL;
}

static size_t put_hex(char *out, const uint8_t *b, size_t n) {
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    return 2 * n;
}

void keylog_secret(certa_conn *c, const char *label, const uint8_t *secret, size_t len) {
    if (!keylog_on(c)) return;
    size_t label_len = strlen(label);
    if (label_len > 31 || len > CRYPTO_MAX_HASH) return; /* not reached: labels are ours */
    char line[KEYLOG_LINE_MAX];
    size_t n = 0;
    memcpy(line, label, label_len);
    n += label_len;
    line[n++] = ' ';
    n += put_hex(line + n, c->client_random, 32);
    line[n++] = ' ';
    n += put_hex(line + n, secret, len);
    line[n] = '\0';
    c->cfg->keylog_fn(c->cfg->keylog_arg, line);
    crypto_zero(line, sizeof line);
}

void keylog_tls13_handshake(certa_conn *c) {
    size_t hl = hash_len(c->suite->hash);
    keylog_secret(c, "CLIENT_HANDSHAKE_TRAFFIC_SECRET", c->client_hs_secret, hl);
    keylog_secret(c, "SERVER_HANDSHAKE_TRAFFIC_SECRET", c->server_hs_secret, hl);
}

void keylog_tls13_application(certa_conn *c) {
    size_t hl = hash_len(c->suite->hash);
    keylog_secret(c, "CLIENT_TRAFFIC_SECRET_0", c->client_app_secret, hl);
    keylog_secret(c, "SERVER_TRAFFIC_SECRET_0", c->server_app_secret, hl);
    keylog_secret(c, "EXPORTER_SECRET", c->exporter_secret, hl);
}

/* 0-RTT: the client early traffic secret (already derived) and the early
 * exporter secret, derived here only for the log (nothing else uses it). */
int keylog_tls13_early(certa_conn *c, hash_alg h, const uint8_t *psk, const uint8_t *hello_hash) {
    if (!keylog_on(c)) return 0;
    size_t hl = hash_len(h);
    keylog_secret(c, "CLIENT_EARLY_TRAFFIC_SECRET", c->client_early_secret, hl);
    uint8_t early[CRYPTO_MAX_HASH], exporter[CRYPTO_MAX_HASH];
    int ok = ks_early_secret(h, psk, early) == 0 &&
             derive_secret(h, early, "e exp master", hello_hash, exporter) == 0;
    if (ok) keylog_secret(c, "EARLY_EXPORTER_SECRET", exporter, hl);
    crypto_zero(early, sizeof early);
    crypto_zero(exporter, sizeof exporter);
    return ok ? 0 : CERTA_E_CRYPTO;
}

void keylog_tls12(certa_conn *c) {
    keylog_secret(c, "CLIENT_RANDOM", c->master_secret, TLS12_MASTER_LEN);
}
