/* ACME orders (RFC 8555 §7.4): newOrder for DNS names and IP addresses,
 * each pending authorization answered with the chosen challenge (one
 * responder for all of them), finalize with a CSR for the certificate key,
 * and the chain downloaded as PEM. The chain is not checked or written
 * here: see acme_cert.h. */
#ifndef CERTA_TOOLS_ACME_ORDER_H
#define CERTA_TOOLS_ACME_ORDER_H

#include <stddef.h>

#include "acme/acme_client.h"
#include "acme/challenge.h"

typedef enum acme_challenge_kind {
    ACME_CHALLENGE_HTTP01 = 0,
    ACME_CHALLENGE_TLS_ALPN01,
    ACME_CHALLENGE_DNS01,
} acme_challenge_kind;

/* "http-01", "tls-alpn-01", "dns-01"; false for anything else. */
bool acme_challenge_from_name(const char *name, acme_challenge_kind *out);
const char *acme_challenge_name(acme_challenge_kind k);

typedef struct acme_order_request {
    const char *const *names; /* DNS names and IP literals */
    size_t n_names;
    acme_challenge_kind challenge;
    challenge_opts responder;
    crypto_key *cert_key; /* the key the certificate is for */
    const char *replaces; /* RFC 9773 §5: the ARI certID this order renews, or NULL */
} acme_order_request;

/* The whole order; *chain_pem (malloc'd, NUL-terminated) is what the CA
 * sent: leaf first. 0 or -1 with why. */
int acme_order_issue(acme_client *c, const acme_order_request *q, char **chain_pem, size_t *len,
                     char *why, size_t cap);

#endif
