/* ACME accounts (RFC 8555 §7.3): the account key file (ES256, P-256,
 * created 0600 on first use), registration with contact, agreement to the
 * terms and External Account Binding, finding the account of a key, and
 * key rollover. */
#ifndef CERTA_TOOLS_ACME_ACCOUNT_H
#define CERTA_TOOLS_ACME_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>

#include "acme/acme_client.h"

typedef struct acme_account_opts {
    const char *email;    /* contact mailto:, NULL for none */
    bool agree_tos;       /* the user agreed to the CA's terms (--agree-tos) */
    const char *eab_kid;  /* External Account Binding key id and ... */
    const char *eab_hmac; /* ... its MAC key, base64url, from the CA */
    bool only_existing;   /* find the account of this key, do not create one */
} acme_account_opts;

/* Loads the account key at path; when it does not exist and create is
 * set, makes a P-256 key and writes it there (0600, atomically). NULL with
 * why otherwise (also for a key that is not P-256: ES256 needs it). */
crypto_key *acme_account_key_load(const char *path, bool create, bool *created, char *why,
                                  size_t cap);
/* Writes key to path (PKCS#8 PEM, 0600, atomically). 0 or -1. */
int acme_account_key_write(const char *path, crypto_key *key, char *why, size_t cap);

/* newAccount with c->key: sets c->kid to the account URL and *status. */
int acme_account_register(acme_client *c, const acme_account_opts *o, acme_status *status,
                          bool *created, char *why, size_t cap);
/* keyChange (§7.3.5): the account moves to new_key (c->key becomes it on
 * success; the caller keeps owning both keys). */
int acme_account_rollover(acme_client *c, crypto_key *new_key, char *why, size_t cap);

#endif
