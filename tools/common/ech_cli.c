/* serve, proxy and connect's ECH options (ech_cli.h). */
#include "common/ech_cli.h"

#include "common/cli_common.h"
#include "common/ech_files.h"
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_ech_keys_opt(int argc, char **argv, int *i, const char *cmd, cli_ech_keys *k) {
    const char *v = NULL;
    if (!strcmp(argv[*i], "--ech-trial-decryption")) {
        k->trial = true;
        return 1;
    }
    int m = cli_opt(argc, argv, i, "--ech-key", &v);
    bool is_key = m != 0;
    if (!m) m = cli_opt(argc, argv, i, "--ech-config", &v);
    if (m <= 0) return m;
    size_t *n = is_key ? &k->keys : &k->configs;
    if (!*v || *n == CLI_MAX_ECH_KEYS) {
        cli_err("%s: %s wants a file (at most %d pairs)", cmd,
                is_key ? "--ech-key" : "--ech-config", CLI_MAX_ECH_KEYS);
        return -1;
    }
    (is_key ? k->key : k->config)[(*n)++] = v;
    return 1;
}

bool cli_ech_keys_finish(const char *cmd, const cli_ech_keys *k) {
    if (k->keys == k->configs) return true;
    cli_err("%s: give --ech-key and --ech-config in pairs (%zu keys, %zu configs)", cmd, k->keys,
            k->configs);
    return false;
}

void cli_ech_keys_usage(FILE *out) {
    fputs("  --ech-key FILE --ech-config FILE\n"
          "                     accept Encrypted Client Hello (RFC 9849) with this HPKE\n"
          "                     private key and its ECHConfig (certa ech keygen, or bssl\n"
          "                     generate-ech); repeat the pair to rotate: the first is\n"
          "                     current and sent as retry_configs to a client whose ECH\n"
          "                     did not decrypt, the others still decrypt\n"
          "  --ech-trial-decryption\n"
          "                     also try the other keys on a hello whose config_id matches\n"
          "                     none (RFC 9849 section 7.1); off by default, as each GREASE ECH\n"
          "                     hello would then cost a Diffie-Hellman per key\n",
          out);
}

bool cli_ech_config_arg(const char *cmd, const char *arg, uint8_t **out, size_t *len) {
    char why[400];
    if (access(arg, F_OK) == 0) { /* a file: ech_files reads every form */
        if (ech_files_read_config_list(arg, out, len, why, sizeof why) == 0) return true;
        cli_err("%s: --ech-config %s: %s", cmd, arg, why);
        return false;
    }
    /* else the list itself in base64, as a DNS HTTPS record's ech= gives it */
    size_t n = strlen(arg);
    uint8_t *bin = malloc(n + 1);
    int got = bin ? base64_decode(arg, n, bin, n + 1) : -1;
    if (got <= 0) {
        free(bin);
        cli_err("%s: --ech-config %s is neither a readable file nor base64", cmd, arg);
        return false;
    }
    *out = bin;
    *len = (size_t)got;
    return true;
}

int cli_ech_keys_apply(certa_config *cfg, const cli_ech_keys *k, char *why, size_t cap) {
    /* ech_files reads every form of key and config certa ech keygen and bssl
     * generate-ech write (PKCS#8 PEM or raw key; a list or one config, binary
     * or base64) and pairs the key with its config. */
    certa_config_set_ech_trial_decryption(cfg, k->trial);
    ech_key *key = calloc(1, sizeof *key); /* wiped at the end, loaded or not */
    if (key == NULL) return CERTA_E_NOMEM;
    int rc = CERTA_OK;
    for (size_t i = 0; i < k->keys && rc == CERTA_OK; i++) {
        char reason[600];
        if (ech_files_load_key(k->key[i], k->config[i], key, reason, sizeof reason) != 0) {
            snprintf(why, cap, "--ech-key %s: %s", k->key[i], reason);
            rc = CERTA_E_ECH_CONFIG;
            break;
        }
        rc = certa_config_add_ech_key(cfg, key->private_key, key->private_key_len, key->config.raw,
                                      key->config.raw_len, i == 0);
        if (rc) {
            const char *t = certa_config_error_text(cfg);
            snprintf(why, cap, "--ech-key %s: %s (%s)", k->key[i], *t ? t : certa_error_text(rc),
                     certa_error_name(rc));
        }
    }
    ech_key_wipe(key);
    free(key);
    return rc;
}

void cli_ech_log_fields(const certa_conn *conn, char *out, size_t cap) {
    certa_ech_status st = certa_conn_ech_status(conn);
    const char *outer = certa_conn_ech_outer_name(conn);
    out[0] = 0;
    if (st == CERTA_ECH_NONE) return;
    snprintf(out, cap, " ech=%s%s%s",
             st == CERTA_ECH_NOT_DECRYPTED ? "not-decrypted" : certa_ech_status_name(st),
             outer && *outer ? " public_name=" : "", outer && *outer ? outer : "");
}
