/* What the client does with an issued certificate: check the chain the CA
 * sent before anything is installed (the leaf is for our key, and it
 * validates with certa's own path validation, for every name ordered,
 * against the CA's issuing roots), and revoke it (RFC 8555 §7.6). */
#ifndef CERTA_TOOLS_ACME_CERT_H
#define CERTA_TOOLS_ACME_CERT_H

#include <stddef.h>
#include <stdint.h>

#include "acme/acme_client.h"
#include "certa.h"

/* trust_path: the PEM roots the chain must lead to (NULL: the system
 * bundle). *leaf is the leaf's summary. 0 or -1 with why. */
int acme_chain_check(const char *pem, size_t len, crypto_key *cert_key, const char *const *names,
                     size_t n, const char *trust_path, certa_cert_summary *leaf, size_t *count,
                     char *why, size_t cap);

/* revokeCert for the leaf of a PEM file's first certificate, signed by the
 * account (c->kid set). reason: a CRLReason code, < 0 for none. */
int acme_revoke(acme_client *c, const uint8_t *der, size_t len, int reason, char *why, size_t cap);

#endif
