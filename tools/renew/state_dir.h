/* A certificate's state directory for certa renew:
 *
 *   STATE/config          the certificate's options, one "--flag [value]" a line (0600)
 *   STATE/account.key     the ACME account key (unless config names another)
 *   STATE/releases/N/     cert.pem (leaf, then chain) and key.pem (0600) of release N
 *   STATE/current  -> releases/N     what servers read: STATE/current/cert.pem, key.pem
 *   STATE/previous -> releases/N-1   the pair before, kept for rollback
 *
 * A release is written whole (files fsynced, then the directory) before
 * the current symlink is replaced with one rename, so a reader that opens
 * current/cert.pem and current/key.pem through the same current sees a
 * matching pair. Older releases than previous are removed. */
#ifndef CERTA_TOOLS_RENEW_STATE_DIR_H
#define CERTA_TOOLS_RENEW_STATE_DIR_H

#include <stddef.h>

#define STATE_PATH_MAX 3072
#define STATE_CONFIG_MAX 65536
#define STATE_CONFIG_ARGS 512

typedef struct state_dir {
    char path[STATE_PATH_MAX];
    char *config_text; /* the config file, split in place into args */
    int argc;          /* args[0] is a placeholder, as argv[0] */
    char *args[STATE_CONFIG_ARGS + 1];
} state_dir;

/* Creates STATE (0700) and STATE/releases if missing. 0 or -1 with why. */
int state_dir_open(state_dir *s, const char *path, char *why, size_t cap);
void state_dir_close(state_dir *s);

/* Reads STATE/config into s->argc/args ("--flag", "value", ...). 1 read, 0
 * none, -1 malformed or unreadable (why). */
int state_config_read(state_dir *s, char *why, size_t cap);
/* Parses config text: lines "--flag" or "--flag value" (the value is the
 * rest of the line), "#" comments and blank lines skipped. text is split
 * in place; args gets at most max entries. The count, or -1 (a line that
 * is not an option, too many). Pure, through the cursor API (fuzzed). */
int state_config_parse(char *text, size_t len, char **args, int max, char *why, size_t cap);
/* Writes args (pairs as the command line had them) as STATE/config, 0600,
 * atomically: a line per "--flag", its value after it. */
int state_config_write(const state_dir *s, char *const *args, int n, char *why, size_t cap);

/* STATE/current/cert.pem into *pem (malloc'd). 1 read, 0 there is none, -1 error. */
int state_current_cert(const state_dir *s, char **pem, size_t *len, char *why, size_t cap);
/* The release number current points at, 0 if none. */
long state_current_release(const state_dir *s);

/* Installs a new pair as release N (the highest so far + 1): writes it,
 * moves previous to the old current, swaps current in, removes older
 * releases. *release is N. 0, or -1 with why (current unchanged). */
int state_install(state_dir *s, const char *chain, size_t chain_len, const char *key_pem,
                  size_t key_len, long *release, char *why, size_t cap);

#endif
