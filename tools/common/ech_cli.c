/* serve, proxy and connect's ECH options (ech_cli.h). */
#include "common/ech_cli.h"

#include "common/cli_common.h"
#include "common/ech_files.h"
#include "crypto/crypto.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define ECH_FILE_MAX 65536

int cli_ech_keys_opt(int argc, char **argv, int *i, const char *cmd, cli_ech_keys *k) {
    const char *v = NULL;
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
          "                     did not decrypt, the others still decrypt\n",
          out);
}

/* base64 of text with whitespace and PEM armour lines dropped. */
static bool decode_text(const uint8_t *text, size_t len, uint8_t **out, size_t *out_len) {
    char *clean = malloc(len + 1);
    if (!clean) return false;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        size_t end = i;
        while (end < len && text[end] != '\n')
            end++;
        bool armour = end - i >= 5 && !memcmp(text + i, "-----", 5);
        for (size_t j = i; j < end && !armour; j++)
            if (!isspace(text[j])) clean[n++] = (char)text[j];
        i = end + 1;
    }
    uint8_t *bin = malloc(n + 1);
    int got = bin ? base64_decode(clean, n, bin, n + 1) : -1;
    free(clean);
    if (got <= 0) {
        free(bin);
        return false;
    }
    *out = bin;
    *out_len = (size_t)got;
    return true;
}

static bool looks_textual(const uint8_t *d, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (!(isalnum(d[i]) || d[i] == '+' || d[i] == '/' || d[i] == '=' || d[i] == '-' ||
              d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t' || d[i] == ':'))
            return false;
    return len > 0;
}

bool cli_ech_read(const char *cmd, const char *arg, bool allow_inline, uint8_t **out, size_t *len) {
    FILE *f = fopen(arg, "rb");
    if (!f) {
        if (allow_inline && decode_text((const uint8_t *)arg, strlen(arg), out, len)) return true;
        cli_err("%s: cannot read %s%s", cmd, arg, allow_inline ? " (nor decode it as base64)" : "");
        return false;
    }
    uint8_t *buf = malloc(ECH_FILE_MAX);
    size_t n = buf ? fread(buf, 1, ECH_FILE_MAX, f) : 0;
    fclose(f);
    if (!buf || n == 0 || n == ECH_FILE_MAX) {
        free(buf);
        cli_err("%s: %s is empty or larger than %d bytes", cmd, arg, ECH_FILE_MAX);
        return false;
    }
    /* raw bytes, unless the file is base64 or PEM text */
    if (looks_textual(buf, n) && decode_text(buf, n, out, len)) {
        memset(buf, 0, n);
        free(buf);
        return true;
    }
    *out = buf;
    *len = n;
    return true;
}

int cli_ech_keys_apply(certa_config *cfg, const cli_ech_keys *k, char *why, size_t cap) {
    /* ech_files reads every form of key and config certa ech keygen and bssl
     * generate-ech write (PKCS#8 PEM or raw key; a list or one config, binary
     * or base64) and pairs the key with its config. */
    ech_key *key = malloc(sizeof *key);
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
