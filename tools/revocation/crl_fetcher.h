/* --crl-fetch: CRLs fetched over HTTP from the cRLDistributionPoints that
 * certificates name (RFC 5280 §4.2.1.13), for certa serve, proxy and
 * connect. The library stays sans-I/O: the tools fetch, and hand the CRLs
 * to the config next to the --crl files.
 *
 * Where the URLs come from: the command's own certificate chain at start
 * (in a mesh one CA issues both sides, so its CRL is the peers' too), and
 * each peer chain whose revocation status could not be established
 * (learned after that handshake: under --revocation require the first such
 * peer is refused, the ones after it are checked against the fetched CRL).
 * At most 32 URLs, 1 MiB and 5 s per fetch; each CRL refreshed at half its
 * validity (at least every day), the last good one kept while its server
 * is down (until its nextUpdate: then the library calls it out of date);
 * one log line per fetch and failure. */
#ifndef CERTA_TOOLS_CRL_FETCHER_H
#define CERTA_TOOLS_CRL_FETCHER_H

#include "common/cli_common.h"

#define CLI_MAX_CRL_URLS 32
#define CLI_CRL_MAX_BYTES (1024 * 1024)

/* Called from the fetch thread when the fetched CRLs changed; the caller
 * puts them on the config in use with cli_crl_install. */
typedef void (*cli_crl_sink)(void *arg);

/* Starts the background fetcher for cmd ("serve", "proxy"): learns the
 * URLs of the certificates in the given PEM chain files, fetches them once
 * now (failures logged, not fatal) and keeps them fresh. 0 or -1 (why). */
int cli_crl_fetch_start(const char *cmd, const char *const *chain_files, size_t count,
                        cli_crl_sink sink, void *arg, char *why, size_t cap);
/* Learns the distribution point of each certificate of a peer chain (DER,
 * leaf first) whose status was unknown; new URLs are fetched at once. */
void cli_crl_fetch_learn(const uint8_t *const *certs, const size_t *lens, size_t count,
                         const char *whose);
/* The same for a connection just handshaken (or failed), if its
 * revocation status was not established (a note, or CERTA_E_CERT_STATUS). */
void cli_crl_fetch_learn_conn(const certa_conn *conn);
/* Replaces cfg's CRLs with the --crl paths of o plus every fetched CRL. */
int cli_crl_install(certa_config *cfg, const cli_tls_opts *o);
/* Fetches the distribution points of chain (one-shot, for connect) now,
 * in the calling thread; the CRLs obtained go to *ders and *der_lens
 * (malloc'd; free with cli_crl_free_list). Logs each fetch. Returns how
 * many were obtained. */
size_t cli_crl_fetch_chain(const char *cmd, const uint8_t *const *certs, const size_t *lens,
                           size_t count, uint8_t ***ders, size_t **der_lens);
void cli_crl_free_list(uint8_t **ders, size_t *lens, size_t count);
/* Stops the fetcher and forgets the CRLs. */
void cli_crl_fetch_stop(void);

#endif
