/* OCSP responses for a server's certificates (certa serve, certa proxy):
 * --ocsp FILE (a DER response per --cert pair, in order) and --ocsp-fetch
 * (fetched from each leaf's AIA OCSP URL over HTTP POST, 64 KiB and 5 s at
 * most, refreshed in the background at half of each response's validity,
 * the last good one kept while the responder is down; one log line per
 * fetch and failure). The library never staples an expired response. */
#ifndef CERTA_TOOLS_OCSP_STAPLER_H
#define CERTA_TOOLS_OCSP_STAPLER_H

#include "common/cli_common.h"

typedef struct cli_ocsp_opts {
    const char *file[CLI_MAX_PAIRS];
    size_t files;
    bool fetch;
} cli_ocsp_opts;

/* --ocsp FILE / --ocsp-fetch: 1 taken, -1 bad (reported), 0 not ours. */
int cli_ocsp_opt(int argc, char **argv, int *i, const char *cmd, cli_ocsp_opts *o);
/* Help lines for the two options. */
void cli_ocsp_usage(FILE *out);

/* Where refreshed responses go: called for pair index with the new DER. */
/* Returns 0, or -1 with why set (the library refused the response). */
typedef int (*cli_ocsp_sink)(void *arg, size_t index, const uint8_t *der, size_t len, char *why,
                             size_t cap);

/* Reads the --ocsp files and, with --ocsp-fetch, fetches once now (a
 * failure is logged, not fatal) and starts the background refresher.
 * Everything obtained goes through sink (and is kept for cli_ocsp_apply).
 * 0, or -1 with why ("--ocsp FILE: ..."). */
int cli_ocsp_start(const cli_ocsp_opts *o, const cli_pairs *pairs, cli_ocsp_sink sink, void *arg,
                   const char *cmd, char *why, size_t cap);
/* Sets the responses held now on cfg (a config built after a reload). */
void cli_ocsp_apply(certa_config *cfg);
/* The watched files changed (a rotation): re-reads the --ocsp files
 * (keeping a response that no longer reads, with a log line) and, with
 * --ocsp-fetch, fetches for every certificate now. The caller then builds
 * its new config and calls cli_ocsp_apply on it. */
void cli_ocsp_files_changed(void);
/* Stops the refresher (if any) and forgets the responses. */
void cli_ocsp_stop(void);

#endif
