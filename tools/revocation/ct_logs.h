/* Certificate Transparency log lists for the tools: a JSON file in the v3
 * log-list schema (operators[].name, operators[].logs[] and tiled_logs[]
 * with description, log_id, key, mmd, state, temporal_interval), read with
 * cJSON and handed to the library log by log (certa_config_add_ct_log).
 * certa ships no list and never fetches one: the operator names the file. */
#ifndef CERTA_TOOLS_CT_LOGS_H
#define CERTA_TOOLS_CT_LOGS_H

#include <stddef.h>

#include "certa.h"

typedef struct ct_logs_loaded {
    size_t logs;      /* added to the config */
    size_t operators; /* operators with at least one added log */
    size_t skipped;   /* pending or rejected logs, left out */
} ct_logs_loaded;

/* Adds the file's logs to cfg. A retired log keeps counting for SCTs made
 * before its retirement; pending and rejected logs are left out. Returns
 * CERTA_OK, or an error code with why = "FILE: what is wrong". */
int ct_logs_load(certa_config *cfg, const char *path, ct_logs_loaded *out, char *why, size_t cap);

/* Server: the file at path (a TLS-encoded SignedCertificateTimestampList,
 * binary) as the SCTs sent for pair index. CERTA_OK or an error with why. */
int ct_sct_list_load(certa_config *cfg, size_t index, const char *path, char *why, size_t cap);

/* RFC 3339 UTC time ("2025-01-01T00:00:00Z", fractions allowed) to seconds
 * since the epoch; false when malformed. */
bool ct_parse_time(const char *s, int64_t *out);

#endif
