/* Shared helpers for the side-by-side benchmarks (certa vs OpenSSL libssl in
 * one process, over in-memory transports). Not part of libcerta. */
#ifndef CERTA_BENCH_H
#define CERTA_BENCH_H

#include "certa.h"

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One benchmark setting: certificate kind ("p256", "rsa2048"), key-share
 * group (certa name: "x25519", "secp256r1") and cipher suite (IANA name). */
typedef struct bench_setup {
    const char *kind;
    const char *group;
    const char *suite;
    char *cert_pem;
    char *key_pem;
    char pin[64];            /* sha256:BASE64 of the certificate's SPKI */
    certa_config *certa_srv; /* certificate + key */
    certa_config *certa_cli; /* the pin (cheap peer authentication) */
    SSL_CTX *ossl_srv;
    SSL_CTX *ossl_cli; /* SSL_VERIFY_NONE */
    bool tls12;        /* bench_setup_tls12 was called */
    /* handshake_resumed*: the newest session each client holds (per setup,
     * so one case's session is never offered in another). */
    uint8_t *certa_session;
    size_t certa_session_len;
    SSL_SESSION *ossl_session;
} bench_setup;

int bench_setup_init(bench_setup *b, const char *kind, const char *group, const char *suite);
void bench_setup_free(bench_setup *b);
/* Before any connection: servers of both libraries send one session ticket
 * per handshake (stateless tickets), for handshake_resumed. */
void bench_setup_resumption(bench_setup *b);
/* Before any connection: both libraries' clients and servers speak TLS 1.2
 * only, with the one TLS 1.2 suite named (OpenSSL name, e.g.
 * ECDHE-ECDSA-AES128-GCM-SHA256, which certa also accepts). libssl's server
 * keeps no session cache (certa has none: TLS 1.2 resumption is by ticket
 * only on both sides). */
int bench_setup_tls12(bench_setup *b, const char *suite12);

/* certa client + server driven in memory until both finished the handshake
 * (true) or one failed (false). */
bool certa_pair_handshake(certa_conn *cli, certa_conn *srv);
/* The same for a 0-RTT handshake: the server's early data is read as it
 * comes (the engine takes no more input while some waits); *early says how
 * much it read. */
bool certa_pair_0rtt(certa_conn *cli, certa_conn *srv, size_t *early);
/* Moves everything from's engine has queued into to's engine. */
int certa_move(certa_conn *from, certa_conn *to);

/* A libssl client/server pair over a BIO pair. */
typedef struct ossl_pair {
    SSL *cli;
    SSL *srv;
} ossl_pair;
/* Creates the two SSL objects joined by a BIO pair (64 KiB each way). */
int ossl_pair_new(ossl_pair *p, SSL_CTX *cli_ctx, SSL_CTX *srv_ctx);
bool ossl_pair_handshake(ossl_pair *p);
void ossl_pair_free(ossl_pair *p);

double now_seconds(void);
/* BENCH_SECONDS from the environment, default def. */
double bench_seconds(double def);
const char *ossl_group_name(const char *certa_group);

#endif
