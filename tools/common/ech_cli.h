/* The ECH options serve, proxy and connect share: --ech-key FILE
 * --ech-config FILE pairs (a server's keys, the first pair current) and a
 * client's ECHConfigList, from a file or base64 on the command line. */
#ifndef CERTA_CLI_ECH_H
#define CERTA_CLI_ECH_H

#include "certa.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_MAX_ECH_KEYS 8

typedef struct cli_ech_keys {
    const char *key[CLI_MAX_ECH_KEYS];
    const char *config[CLI_MAX_ECH_KEYS];
    size_t keys, configs;
    bool trial; /* --ech-trial-decryption */
} cli_ech_keys;

/* --ech-key FILE / --ech-config FILE / --ech-trial-decryption: 1 (taken), 0 (another option), -1
 * (reported). */
int cli_ech_keys_opt(int argc, char **argv, int *i, const char *cmd, cli_ech_keys *k);
/* As many keys as configs? false: reported. */
bool cli_ech_keys_finish(const char *cmd, const cli_ech_keys *k);
/* Adds every pair to cfg: the first pair's config is what a client whose
 * ECH did not decrypt is sent (retry_configs); the later pairs (older
 * keys, kept through a rotation) still decrypt. CERTA_OK or the code, with
 * why = "--ech-key FILE: sentence (CODE)". */
int cli_ech_keys_apply(certa_config *cfg, const cli_ech_keys *k, char *why, size_t cap);
void cli_ech_keys_usage(FILE *out);
/* --ech-config's value: a file (an ECHConfigList or one ECHConfig, binary or
 * base64: ech_files), else the list itself in base64. malloc'd; false after
 * reporting. */
bool cli_ech_config_arg(const char *cmd, const char *arg, uint8_t **out, size_t *len);
/* " ech=accepted public_name=NAME" (the outer SNI, never the real name),
 * " ech=not-decrypted public_name=NAME", or "" without ECH: for log lines. */
void cli_ech_log_fields(const certa_conn *conn, char *out, size_t cap);

#endif
