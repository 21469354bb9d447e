/* The server's record of who knocked: JA4/JA3 of each ClientHello, taken as
 * it arrives (before it is judged, so a refused client has one too) when the
 * config asks for them. The computation is src/diag/fingerprint.c. */
#include "diag/fingerprint.h"
#include "tls/tls.h"

void certa_config_set_client_fingerprints(certa_config *cfg, bool keep) {
    if (cfg && !atomic_load(&cfg->frozen)) cfg->client_fingerprints = keep;
}

void conn_keep_client_fingerprint(certa_conn *c, unsigned which, const uint8_t *msg, size_t len) {
    if (!c->cfg->client_fingerprints || which > 1 || c->client_fps[which] != NULL) return;
    /* A hello too malformed to fingerprint is refused by the parser next
     * with its own error; no fingerprint is kept for it. */
    c->client_fps[which] = hello_fingerprint_take(msg, len);
}

void conn_drop_client_fingerprints(certa_conn *c) {
    for (unsigned i = 0; i < 2; i++) {
        hello_fingerprint_free(c->client_fps[i]);
        c->client_fps[i] = NULL;
    }
}

int certa_conn_client_fingerprint(const certa_conn *conn, unsigned which, certa_fingerprint *fp) {
    if (conn == NULL || fp == NULL) return CERTA_E_INVALID_ARGUMENT;
    if (which > 1 || conn->client_fps[which] == NULL) return CERTA_E_STATE;
    hello_fingerprint_export(conn->client_fps[which], fp);
    return CERTA_OK;
}

void certa_conn_drop_client_fingerprints(certa_conn *conn) {
    if (conn != NULL) conn_drop_client_fingerprints(conn);
}
