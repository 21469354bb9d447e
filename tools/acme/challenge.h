/* Challenge responders for ACME authorizations (RFC 8555 §8): http-01
 * (a listener answering /.well-known/acme-challenge/TOKEN, or files in a
 * webroot another server publishes), tls-alpn-01 (RFC 8737: certa's own
 * TLS server answering acme-tls/1 with a validation certificate) and
 * dns-01 (a hook that adds and removes the TXT record). A responder is
 * started for all of an order's tokens at once, before the CA is told to
 * validate, and stopped (its files and records removed) when the
 * authorizations are settled. */
#ifndef CERTA_TOOLS_ACME_CHALLENGE_H
#define CERTA_TOOLS_ACME_CHALLENGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/acme_json.h"
#include "wire/cursor.h"

typedef struct acme_token {
    char ident[256]; /* the identifier's value: a DNS name or an IP literal */
    bool is_ip;
    char token[ACME_TOKEN_MAX + 1];
    char key_authz[ACME_TOKEN_MAX + 64]; /* token "." thumbprint (§8.1) */
} acme_token;

typedef struct challenge_opts {
    const char *listen_addr; /* http-01 and tls-alpn-01 listeners (default 0.0.0.0) */
    int http_port;           /* http-01 listener (default 80) */
    const char *webroot;     /* http-01 files instead of a listener */
    int tls_port;            /* tls-alpn-01 listener (default 443) */
    const char *dns_hook;    /* dns-01: CMD add|remove NAME VALUE */
    bool verbose;
    /* tls-alpn-01 answered on a TLS listener the caller already runs
     * (certa proxy --acme) instead of one of ours: called with the tokens
     * in place of opening tls_port; its stop withdraws them. NULL: ours. */
    struct challenge_responder *(*tls_alpn_attach)(void *ctx, const acme_token *t, size_t n,
                                                   char *why, size_t cap);
    void *tls_alpn_ctx;
} challenge_opts;

/* Each kind of responder starts with this (its own state follows). */
typedef struct challenge_responder {
    void (*stop)(struct challenge_responder *self);
} challenge_responder;

/* Each returns the running responder, or NULL with why. */
challenge_responder *challenge_http_start(const challenge_opts *o, const acme_token *t, size_t n,
                                          char *why, size_t cap);
challenge_responder *challenge_tls_alpn_start(const challenge_opts *o, const acme_token *t,
                                              size_t n, char *why, size_t cap);
challenge_responder *challenge_dns_start(const challenge_opts *o, const acme_token *t, size_t n,
                                         char *why, size_t cap);
/* Stops any of them and undoes what it set up. NULL is fine. */
static inline void challenge_stop(challenge_responder *r) {
    if (r) r->stop(r);
}

/* tls-alpn-01's listener reads the validator's ClientHello before any TLS
 * engine sees it: the handshake message in the first record of buf
 * (record header, then one whole ClientHello filling the record). 1 found
 * (*msg is the message: type, length, body), 0 more bytes are needed, -1
 * not a ClientHello taken here (challenge_hello.c, fuzzed). */
#define CHALLENGE_HELLO_RECORD_MAX (16384 + 5)
int challenge_first_client_hello(const uint8_t *buf, size_t len, cursor *msg);

/* The dns-01 TXT value: base64url(SHA-256(key authorization)). */
int challenge_dns_value(const char *key_authz, char out[64]);

#endif
