/* Test helper: certa's client and server connected in memory, and the
 * identities (certificate + key) of lib_chain certificates. */
#ifndef CERTA_TEST_LIB_PAIR_H
#define CERTA_TEST_LIB_PAIR_H

#include "certa.h"
#include "lib_chain.h"

typedef struct pair {
    certa_conn *client, *server;
} pair;

/* What pair_pump_rounds tells the sending side it sent
 * (certa_conn_outgoing_done) after handing its bytes to the receiver's
 * certa_conn_recv. */
typedef enum pair_ack {
    PAIR_ACK_ALL,  /* all n bytes offered, whatever the receiver took */
    PAIR_ACK_USED, /* the bytes the receiver took (used), or all n if it took none */
} pair_ack;

/* Moves bytes both ways, client -> server then server -> client in each
 * round, until a round in which nothing moves or max_rounds rounds have run.
 * certa_conn_recv's result is not looked at: a failed side's state (error,
 * alert queued) is for the caller to check. Returns the number of rounds that
 * moved bytes (max_rounds if bytes still moved in the last one). */
int pair_pump_rounds(pair *p, int max_rounds, pair_ack ack);

/* pair_pump_rounds(p, 20, PAIR_ACK_ALL): enough for any handshake here. */
void pair_pump(pair *p);

/* Frees both connections. */
void pair_free(pair *p);

/* A malloc'd PEM (PKCS#8) of c's private key. */
char *tc_key_pem(const test_cert *c);

/* Adds c's certificate and key as an identity of cfg; on failure prints
 * "# identity: <error text>" and returns the error code. */
int pair_use_identity(certa_config *cfg, const test_cert *c);

#endif
