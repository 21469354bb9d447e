/* tls-alpn-01's validation identities (RFC 8737 §3): for each pending
 * identifier a self-signed certificate carrying the critical acmeIdentifier
 * extension with the SHA-256 of its key authorization, in a certa server
 * config of its own with ALPN acme-tls/1 only. Which one a connection gets
 * is decided from its ClientHello before any TLS engine sees it: the
 * validator offers acme-tls/1 and names the identifier (an IP identifier by
 * its reverse-DNS form, RFC 8738 §6). Anyone else gets none of them. Used by
 * certa's own tls-alpn-01 listener (challenge_tls_alpn.c) and by
 * certa proxy --acme on its TLS listener. */
#ifndef CERTA_TOOLS_ACME_TLS_ALPN_VALIDATION_H
#define CERTA_TOOLS_ACME_TLS_ALPN_VALIDATION_H

#include <stdbool.h>
#include <stddef.h>

#include "acme/challenge.h"
#include "certa.h"

#define ACME_TLS_ALPN "acme-tls/1"

typedef struct tls_alpn_set tls_alpn_set;

/* The validation configs for n tokens, or NULL with why. */
tls_alpn_set *tls_alpn_set_new(const acme_token *t, size_t n, char *why, size_t cap);
void tls_alpn_set_free(tls_alpn_set *s);

/* The validation config for a ClientHello (server_name, ALPN list as the
 * fingerprint has it), or NULL and *why_not (a short phrase). The config
 * belongs to the set: a connection made from it holds its own reference. */
certa_config *tls_alpn_set_match(const tls_alpn_set *s, const certa_fingerprint *fp,
                                 const char **why_not);

/* Does a comma-separated ALPN list hold exactly acme-tls/1? */
bool tls_alpn_offers_acme(const char *list);

#endif
