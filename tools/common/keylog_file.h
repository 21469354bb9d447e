/* The key log file of serve, connect and proxy: --keylog FILE or the
 * SSLKEYLOGFILE environment variable, in the NSS key-log format Wireshark
 * reads (certa_config_set_keylog). */
#ifndef CERTA_KEYLOG_FILE_H
#define CERTA_KEYLOG_FILE_H

#include "certa.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct cli_keylog {
    int fd;           /* -1: no key log */
    const char *path; /* the option's or the environment's value */
    const char *from; /* "--keylog" or "SSLKEYLOGFILE" */
} cli_keylog;

/* If argv[*i] is --keylog FILE, records it (advancing *i) and returns 1; a
 * missing or empty value is reported (with the command's name) and returns
 * -1; any other argument returns 0. */
int cli_keylog_opt(int argc, char **argv, int *i, const char *cmd, const char **path);

/* Opens the key log: path (from --keylog) if not NULL, else SSLKEYLOGFILE
 * if set and not empty, else none (k->fd = -1, true). The file is opened
 * for appending, created with mode 0600; an existing file that group or
 * others may read or write is refused, as is one that cannot be opened
 * (false, reported: exit with CLI_EXIT_FAIL). Once it is open, the caller
 * prints cli_keylog_warning's sentence. */
bool cli_keylog_open(const char *cmd, const char *path, cli_keylog *k);

/* "key log FILE (SSLKEYLOGFILE): anyone with this file can decrypt the traffic" */
void cli_keylog_warning(const cli_keylog *k, char *out, size_t cap);

/* Has cfg write its key-log lines to k's file (nothing if none is open).
 * Each line is one write(2) on an O_APPEND descriptor, so threads and
 * processes sharing the file never interleave their lines. */
void cli_keylog_attach(certa_config *cfg, cli_keylog *k);

void cli_keylog_close(cli_keylog *k);

#endif
