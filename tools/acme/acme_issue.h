/* Obtaining a certificate, as `certa acme issue` and `certa renew` both do
 * it: the options that describe an order (CA, names, challenge, key type,
 * account), the account opened (found by its key, or registered), the
 * order placed (with RFC 9773 `replaces` when it renews), and the chain
 * checked. Nothing here writes the certificate: the commands install it
 * their own way (two renames for acme issue, a directory swap for renew). */
#ifndef CERTA_TOOLS_ACME_ISSUE_H
#define CERTA_TOOLS_ACME_ISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "acme/acme_account.h"
#include "acme/acme_client.h"
#include "acme/acme_order.h"
#include "certa.h"
#include "crypto/ca_crypto.h"

#define ACME_ISSUE_DEFAULT_TIMEOUT_MS 300000

typedef struct acme_issue_opts {
    const char *directory, *ca_bundle, *account_key, *chain_trust;
    const char *domains[ACME_MAX_IDENTIFIERS];
    size_t n_domains;
    acme_challenge_kind challenge;
    bool challenge_set;
    challenge_opts responder;
    keygen_type key_type;
    acme_account_opts account;
    int timeout_ms;
    bool verbose;
} acme_issue_opts;

/* Defaults: P-256, 300 s. */
void acme_issue_opts_init(acme_issue_opts *o);
/* One option of argv at *i (cli_opt style) for cmd's messages: 1 taken
 * (*i advanced past its value), 0 not an issue option, -1 bad (reported). */
int acme_issue_option(int argc, char **argv, int *i, const char *cmd, acme_issue_opts *o);
/* What an order needs is there (--directory, --domain, --challenge and what
 * the challenge needs). false: reported. */
bool acme_issue_opts_check(const acme_issue_opts *o, const char *cmd);
/* The issue options' --help lines. */
void acme_issue_usage(FILE *out);

/* The account key (created 0600 at key_path when create is set and it is
 * missing), the directory and the account: c ready for requests. *key is
 * the caller's. 0 or -1 with why. */
int acme_issue_open_account(const acme_issue_opts *o, const char *key_path, bool create,
                            bool only_existing, acme_client *c, crypto_key **key, char *why,
                            size_t cap);

typedef struct acme_issued {
    char *chain; /* PEM, leaf first (malloc'd) */
    size_t chain_len;
    char *key_pem; /* the new key, PKCS#8 PEM (malloc'd; zeroized by acme_issued_free) */
    size_t key_len;
    char key_desc[32]; /* "EC P-256" */
    certa_cert_summary leaf;
    size_t count; /* certificates in chain */
} acme_issued;

/* A new key, the order (replaces: the ARI certID it renews, or NULL) and
 * the chain check, on a client c opened by acme_issue_open_account. */
int acme_issue_obtain(const acme_issue_opts *o, acme_client *c, const char *replaces,
                      acme_issued *out, char *why, size_t cap);
void acme_issued_free(acme_issued *r);

#endif
