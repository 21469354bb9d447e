/* The ACME protocol's transport (RFC 8555 §6): the directory, nonces,
 * JWS-signed POSTs (with the account's URL as kid once it is known, else
 * the JWK), badNonce retries, Retry-After, polling with backoff under one
 * overall deadline, and problem documents as sentences. Commands (issue,
 * revoke, account) and the renewal daemon build on this; nothing here
 * writes files. */
#ifndef CERTA_TOOLS_ACME_CLIENT_H
#define CERTA_TOOLS_ACME_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acme/acme_json.h"
#include "crypto/crypto.h"
#include "http/https_client.h"

#define ACME_MAX_BODY (1 << 20)   /* a certificate chain or an order: well under */
#define ACME_BAD_NONCE_RETRIES 10 /* §6.5: retry with the fresh nonce it sent */
#define ACME_RETRY_AFTER_MAX 10   /* s: a 503/429 asking for a short wait is waited for */

typedef struct acme_client {
    https_client http;
    acme_directory dir;
    char directory_url[ACME_URL_MAX];
    char nonce[256];        /* the next Replay-Nonce, "" when none is held */
    crypto_key *key;        /* the account key (the caller owns it) */
    char kid[ACME_URL_MAX]; /* the account URL, "" until known */
    int64_t deadline_ms;    /* cli_now_ms() by which everything must be done */
    bool verbose;           /* "* POST URL: 201" lines on stderr */
    unsigned bad_nonces;    /* badNonce answers retried (for the summary and tests) */
    unsigned requests;
    char last_problem[128]; /* the type of the last refusal, "" if none */
} acme_client;

typedef struct acme_reply {
    int status;
    char location[ACME_URL_MAX]; /* Location, "" if none */
    long retry_after;            /* seconds, -1 if none */
    http_answer http;            /* body (NUL after it), head */
} acme_reply;

/* Fetches the directory; ca_bundle NULL: the system trust. timeout_ms is
 * the overall deadline from now. 0 or -1 with why. */
int acme_client_open(acme_client *c, const char *directory_url, const char *ca_bundle,
                     int timeout_ms, bool verbose, char *why, size_t cap);
void acme_client_close(acme_client *c);

/* POSTs a JWS of payload (NULL: POST-as-GET) to url, signed by c->key, with
 * kid (when c->kid is set and !use_jwk) or the JWK. A 2xx/3xx answer is 0
 * with *r filled (free it); an error status is -1 with the problem document
 * as a sentence in why — after retrying a badNonce (with the fresh nonce,
 * up to ACME_BAD_NONCE_RETRIES times) and a 503 or 429 whose Retry-After
 * is at most ACME_RETRY_AFTER_MAX seconds (up to 3 times, within the
 * deadline). accept may be NULL. */
int acme_post(acme_client *c, const char *url, const char *payload, bool use_jwk,
              const char *accept, acme_reply *r, char *why, size_t cap);
void acme_reply_free(acme_reply *r);

/* POST-as-GET of url until the object's status is no longer pending or
 * processing (parse: the status of the body), waiting Retry-After or a
 * backoff of 0.1 s doubling to 4 s between tries, within the deadline.
 * 0 with *r the last answer, or -1 with why. */
typedef acme_status (*acme_status_fn)(const char *body, size_t len);
int acme_poll(acme_client *c, const char *url, acme_status_fn status_of, acme_reply *r, char *why,
              size_t cap);

/* The JSON value of the protected header's "jwk" member (canonical). */
int acme_client_jwk(const acme_client *c, char *out, size_t cap);

#endif
