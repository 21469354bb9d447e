/* ECH key and config files (ech_files.h): the forms certa and BoringSSL
 * write, told apart by their content. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ech_files.h"
#include "crypto/crypto.h"
#include "x509/pem.h"

#define ECH_MAX_CONFIGS 16

static bool base64_text(const char *s, size_t n) {
    size_t chars = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == ' ' || ch == '\n' || ch == '\r' || ch == '\t') continue;
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '+' || ch == '/' || ch == '='))
            return false;
        chars++;
    }
    return chars > 0;
}

/* The file's bytes, base64-decoded when it is base64 text. */
static int read_config_bytes(const char *path, uint8_t **out, size_t *out_len, char *why,
                             size_t cap) {
    char *text = NULL;
    size_t n = 0;
    if (read_file(path, &text, &n) != 0) {
        snprintf(why, cap, "cannot read the ECH config file %s: check the path and permissions",
                 path);
        return -1;
    }
    if (!base64_text(text, n)) {
        *out = (uint8_t *)text;
        *out_len = n;
        return 0;
    }
    char *compact = malloc(n + 1);
    uint8_t *bin = malloc(n + 1);
    size_t m = 0;
    int dn = -1;
    if (compact != NULL && bin != NULL) {
        for (size_t i = 0; i < n; i++)
            if (!strchr(" \n\r\t", text[i])) compact[m++] = text[i];
        dn = base64_decode(compact, m, bin, n + 1);
    }
    free(compact);
    free(text);
    if (dn <= 0) {
        free(bin);
        snprintf(why, cap,
                 "%s looks like base64 but does not decode: it should hold an "
                 "ECHConfigList (or one ECHConfig), binary or base64",
                 path);
        return -1;
    }
    *out = bin;
    *out_len = (size_t)dn;
    return 0;
}

int ech_files_read_config_list(const char *path, uint8_t **list, size_t *len, char *why,
                               size_t cap) {
    uint8_t *bytes = NULL;
    size_t n = 0;
    *list = NULL;
    *len = 0;
    if (read_config_bytes(path, &bytes, &n, why, cap) != 0) return -1;
    ech_config one, cfgs[ECH_MAX_CONFIGS];
    size_t count = 0, idx;
    ech_suite suite;
    int rc = -1;
    if (n >= 2 && bytes[0] == ECH_VERSION >> 8 && bytes[1] == (ECH_VERSION & 0xff) && n <= 0xffff &&
        ech_config_parse(bytes, n, &one) >= 0) {
        /* A single ECHConfig: wrapped into a list of one. */
        uint8_t *wrapped = malloc(n + 2);
        if (wrapped == NULL) goto out;
        wrapped[0] = (uint8_t)(n >> 8);
        wrapped[1] = (uint8_t)n;
        memcpy(wrapped + 2, bytes, n);
        free(bytes);
        bytes = wrapped;
        n += 2;
    }
    if (ech_config_list_parse(bytes, n, cfgs, ECH_MAX_CONFIGS, &count) != 0) {
        snprintf(why, cap,
                 "%s is not an ECHConfigList or an ECHConfig (RFC 9849 §4): write it "
                 "with certa ech keygen (ech.configs) or bssl generate-ech",
                 path);
        goto out;
    }
    if (ech_config_choose(cfgs, count, &idx, &suite) != 0) {
        snprintf(why, cap,
                 "%s has no ECHConfig certa can use (version 0xfe0d, KEM X25519 or "
                 "P-256, a suite of HKDF-SHA256/384/512 with AES-GCM or ChaCha20-Poly1305)",
                 path);
        goto out;
    }
    *list = bytes;
    *len = n;
    bytes = NULL;
    rc = 0;
out:
    free(bytes);
    return rc;
}

/* The private key file: PKCS#8 PEM (sets *kem), or 32 raw bytes (*kem 0:
 * the config's). */
static int read_private_key(const char *path, uint16_t *kem, uint8_t sk[32], char *why,
                            size_t cap) {
    char *text = NULL;
    size_t n = 0;
    int rc = -1;
    *kem = 0;
    if (read_file(path, &text, &n) != 0) {
        snprintf(why, cap, "cannot read the ECH key file %s: check the path and permissions", path);
        return -1;
    }
    if (strstr(text, "-----BEGIN") != NULL) {
        if (hpke_private_key_from_pem(text, n, kem, sk) == 0)
            rc = 0;
        else
            snprintf(why, cap,
                     "%s is not an X25519 or P-256 private key (PKCS#8 PEM): make one "
                     "with certa ech keygen",
                     path);
    } else if (n == 32) {
        memcpy(sk, text, 32);
        rc = 0;
    } else {
        snprintf(why, cap,
                 "%s is neither a PEM private key nor a raw 32-byte key (bssl "
                 "generate-ech -out-private-key)",
                 path);
    }
    crypto_zero(text, n);
    free(text);
    return rc;
}

int ech_files_load_key(const char *key_path, const char *config_path, ech_key *k, char *why,
                       size_t cap) {
    uint8_t sk[32], *list = NULL;
    uint16_t kem;
    size_t len = 0, count = 0;
    ech_config cfgs[ECH_MAX_CONFIGS];
    int rc = -1;
    if (read_private_key(key_path, &kem, sk, why, cap) != 0) return -1;
    if (ech_files_read_config_list(config_path, &list, &len, why, cap) != 0) goto out;
    if (ech_config_list_parse(list, len, cfgs, ECH_MAX_CONFIGS, &count) != 0) goto out;
    for (size_t i = 0; i < count && rc != 0; i++) {
        if (kem != 0 && cfgs[i].kem != kem) continue;
        if (ech_key_init(k, sk, sizeof sk, cfgs[i].raw, cfgs[i].raw_len) == 0) rc = 0;
    }
    if (rc != 0)
        snprintf(why, cap,
                 "the private key in %s is not the key of any ECHConfig in %s: use the "
                 "ech.key and ech.configs that certa ech keygen wrote together",
                 key_path, config_path);
out:
    crypto_zero(sk, sizeof sk);
    free(list);
    return rc;
}
