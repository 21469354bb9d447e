/* certa ech: keys and configs for Encrypted Client Hello (RFC 9849).
 *
 *   certa ech keygen --public-name NAME --out DIR [--kem x25519|p256]
 *                    [--config-id N] [--max-name-length N] [--force]
 *   certa ech show FILE
 *   certa ech check --ech-key FILE --ech-config FILE
 *
 * keygen writes DIR/ech.key (the HPKE private key, PKCS#8 PEM, mode 0600),
 * DIR/ech.config (the one ECHConfig, binary: bssl server -ech-config),
 * DIR/ech.configs (the ECHConfigList, binary) and DIR/ech.configs.b64 (the
 * same in base64, as a DNS HTTPS record's ech= carries it). The config
 * offers HKDF-SHA256 with AES-128-GCM and with ChaCha20-Poly1305. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/atomic_write.h"
#include "common/cli_common.h"
#include "common/ech_files.h"
#include "crypto/crypto.h"

int cmd_ech(int argc, char **argv);

static void usage(FILE *out) {
    fputs("usage: certa ech keygen --public-name NAME --out DIR [--kem x25519|p256]\n"
          "                        [--config-id N] [--max-name-length N] [--force]\n"
          "       certa ech show FILE\n"
          "       certa ech check --ech-key FILE --ech-config FILE\n"
          "\n"
          "Keys and configs for Encrypted Client Hello (RFC 9849).\n"
          "\n"
          "keygen writes, in DIR (made if missing):\n"
          "  ech.key          the HPKE private key, PKCS#8 PEM, mode 0600\n"
          "  ech.config       the ECHConfig (binary; what bssl server -ech-config reads)\n"
          "  ech.configs      the ECHConfigList (binary): --ech-config for serve/proxy,\n"
          "                   --ech-config-list for connect\n"
          "  ech.configs.b64  the same list in base64, for a DNS HTTPS record (ech=...)\n"
          "options:\n"
          "  --public-name NAME      the client-facing server's DNS name, sent in the clear\n"
          "                          (LDH labels; not an IPv4 address)\n"
          "  --out DIR               where the files go\n"
          "  --kem x25519|p256       DHKEM(X25519, HKDF-SHA256) (default) or DHKEM(P-256, ...)\n"
          "  --config-id N           0-255 (default: random): distinct per key on one server\n"
          "  --max-name-length N     0-255 (default 0): the longest inner server name, for\n"
          "                          the client's padding\n"
          "  --force                 replace an existing DIR/ech.key\n"
          "\n"
          "show prints the configs of an ECHConfigList or ECHConfig file (binary or\n"
          "base64; certa's or bssl generate-ech's).\n"
          "check loads a server's key and config as serve and proxy do, and says which\n"
          "config the key belongs to.\n"
          "\n"
          "serve, proxy: --ech-key DIR/ech.key --ech-config DIR/ech.configs; the key may\n"
          "also be bssl generate-ech's raw -out-private-key file.\n",
          out);
}

static const char *kem_name(uint16_t kem) {
    return kem == HPKE_KEM_X25519_HKDF_SHA256 ? "DHKEM(X25519, HKDF-SHA256)"
           : kem == HPKE_KEM_P256_HKDF_SHA256 ? "DHKEM(P-256, HKDF-SHA256)"
                                              : "an unknown KEM";
}

static const char *kdf_name(uint16_t kdf) {
    return kdf == HPKE_KDF_HKDF_SHA256   ? "HKDF-SHA256"
           : kdf == HPKE_KDF_HKDF_SHA384 ? "HKDF-SHA384"
           : kdf == HPKE_KDF_HKDF_SHA512 ? "HKDF-SHA512"
                                         : "unknown KDF";
}

static const char *aead_name(uint16_t aead) {
    return aead == HPKE_AEAD_AES_128_GCM         ? "AES-128-GCM"
           : aead == HPKE_AEAD_AES_256_GCM       ? "AES-256-GCM"
           : aead == HPKE_AEAD_CHACHA20_POLY1305 ? "ChaCha20-Poly1305"
                                                 : "unknown AEAD";
}

static int write_file(const char *dir, const char *name, const void *data, size_t len,
                      mode_t mode) {
    char path[4096], why[600];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        cli_err("ech: the path %s/%s is too long", dir, name);
        return -1;
    }
    if (atomic_write_file(path, data, len, mode, why, sizeof why) != 0) {
        cli_err("ech: %s", why);
        return -1;
    }
    return 0;
}

typedef struct keygen_opts {
    const char *public_name, *out;
    uint16_t kem;
    long config_id; /* -1: random */
    long max_name_length;
    bool force;
} keygen_opts;

static int keygen(const keygen_opts *o) {
    char path[4096];
    struct stat st;
    if (mkdir(o->out, 0755) != 0 && errno != EEXIST) {
        cli_err("ech: cannot make the directory %s: %s", o->out, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/ech.key", o->out);
    if (!o->force && lstat(path, &st) == 0) {
        cli_err("ech: %s exists: clients may hold its config (DNS caches it for the TTL); "
                "write the new key elsewhere, or --force to replace it",
                path);
        return CLI_EXIT_FAIL;
    }
    uint8_t sk[HPKE_MAX_PRIVATE], pk[HPKE_MAX_ENC], id = 0;
    if (o->config_id >= 0)
        id = (uint8_t)o->config_id;
    else if (crypto_random(&id, 1) != 0) {
        cli_err("ech: no random bytes for the config id");
        return CLI_EXIT_FAIL;
    }
    if (hpke_generate_keypair(o->kem, sk, pk) != 0) {
        cli_err("ech: the key pair could not be made (libcrypto)");
        return CLI_EXIT_FAIL;
    }
    static const ech_suite suites[2] = {{HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM},
                                        {HPKE_KDF_HKDF_SHA256, HPKE_AEAD_CHACHA20_POLY1305}};
    uint8_t list[1024];
    builder b;
    bld_init_fixed(&b, list, sizeof list);
    bld_open(&b, 2);
    int built = ech_config_build(&b, id, o->kem, pk, hpke_kem_enc_len(o->kem), suites, 2,
                                 (uint8_t)o->max_name_length, o->public_name);
    bld_close(&b);
    size_t pem_len = 0;
    char *pem = hpke_private_key_to_pem(o->kem, sk, sizeof sk, &pem_len);
    crypto_zero(sk, sizeof sk);
    char b64[1500];
    int b64_len = built == 0 && bld_ok(&b) ? base64_encode(list, b.len, b64, sizeof b64 - 1) : -1;
    int rc = CLI_EXIT_FAIL;
    if (built != 0 || b64_len < 0 || pem == NULL) {
        cli_err("ech: the ECHConfig could not be built");
        goto out;
    }
    b64[b64_len++] = '\n';
    if (write_file(o->out, "ech.key", pem, pem_len, 0600) != 0 ||
        write_file(o->out, "ech.config", list + 2, b.len - 2, 0644) != 0 ||
        write_file(o->out, "ech.configs", list, b.len, 0644) != 0 ||
        write_file(o->out, "ech.configs.b64", b64, (size_t)b64_len, 0644) != 0)
        goto out;
    printf("wrote %s/ech.key (mode 0600), ech.config, ech.configs and ech.configs.b64\n"
           "config_id %u, %s, public name %s, suites HKDF-SHA256 with AES-128-GCM and "
           "ChaCha20-Poly1305\n"
           "HTTPS record: ech=%.*s\n",
           o->out, id, kem_name(o->kem), o->public_name, b64_len - 1, b64);
    rc = CLI_EXIT_OK;
out:
    if (pem != NULL) {
        crypto_zero(pem, pem_len);
        free(pem);
    }
    return rc;
}

static int show(const char *path) {
    uint8_t *list = NULL;
    size_t len = 0, n = 0;
    char why[600];
    ech_config cfgs[16];
    if (ech_files_read_config_list(path, &list, &len, why, sizeof why) != 0 ||
        ech_config_list_parse(list, len, cfgs, 16, &n) != 0) {
        cli_err("ech: %s", why);
        free(list);
        return CLI_EXIT_FAIL;
    }
    printf("%s: %zu usable ECHConfig%s (version 0xfe0d)\n", path, n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const ech_config *c = &cfgs[i];
        printf("config %zu: config_id %u, %s (0x%04x), public name %s, max name length %u\n", i,
               c->config_id, kem_name(c->kem), c->kem, c->public_name, c->max_name_length);
        for (size_t j = 0; j < c->n_suites; j++)
            printf("  suite %s, %s%s\n", kdf_name(c->suites[j].kdf), aead_name(c->suites[j].aead),
                   hpke_suite_supported(c->suites[j].kdf, c->suites[j].aead) ? ""
                                                                             : " (not supported)");
    }
    free(list);
    return CLI_EXIT_OK;
}

static int check(int argc, char **argv) {
    const char *key = NULL, *config = NULL, *v;
    for (int i = 2; i < argc; i++) {
        int m;
        if ((m = cli_opt(argc, argv, &i, "--ech-key", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            key = v;
        } else if ((m = cli_opt(argc, argv, &i, "--ech-config", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            config = v;
        } else {
            cli_err("ech: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (key == NULL || config == NULL) {
        cli_err("ech: check needs --ech-key FILE and --ech-config FILE");
        return CLI_EXIT_USAGE;
    }
    char why[600];
    ech_key *k = calloc(1, sizeof *k);
    if (k == NULL || ech_files_load_key(key, config, k, why, sizeof why) != 0) {
        if (k != NULL) cli_err("ech: %s", why);
        free(k);
        return CLI_EXIT_FAIL;
    }
    printf("ok: %s is the key of config_id %u (%s, public name %s) in %s\n", key,
           k->config.config_id, kem_name(k->config.kem), k->config.public_name, config);
    ech_key_wipe(k);
    free(k);
    return CLI_EXIT_OK;
}

int cmd_ech(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "show")) {
        if (argc != 3) {
            usage(stderr);
            return CLI_EXIT_USAGE;
        }
        return show(argv[2]);
    }
    if (!strcmp(argv[1], "check")) return check(argc, argv);
    if (strcmp(argv[1], "keygen") != 0) {
        cli_err("ech: unknown subcommand '%s' (keygen, show or check)", argv[1]);
        return CLI_EXIT_USAGE;
    }
    keygen_opts o = {NULL, NULL, HPKE_KEM_X25519_HKDF_SHA256, -1, 0, false};
    for (int i = 2; i < argc; i++) {
        const char *v;
        int m;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (!strcmp(argv[i], "--force")) {
            o.force = true;
        } else if ((m = cli_opt(argc, argv, &i, "--public-name", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o.public_name = v;
        } else if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o.out = v;
        } else if ((m = cli_opt(argc, argv, &i, "--kem", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!strcmp(v, "x25519"))
                o.kem = HPKE_KEM_X25519_HKDF_SHA256;
            else if (!strcmp(v, "p256") || !strcmp(v, "p-256"))
                o.kem = HPKE_KEM_P256_HKDF_SHA256;
            else {
                cli_err("ech: --kem wants x25519 or p256, not '%s'", v);
                return CLI_EXIT_USAGE;
            }
        } else if ((m = cli_opt(argc, argv, &i, "--config-id", &v)) != 0) {
            if (m < 0 || !cli_parse_long(v, 0, 255, &o.config_id)) {
                cli_err("ech: --config-id wants a number from 0 to 255");
                return CLI_EXIT_USAGE;
            }
        } else if ((m = cli_opt(argc, argv, &i, "--max-name-length", &v)) != 0) {
            if (m < 0 || !cli_parse_long(v, 0, 255, &o.max_name_length)) {
                cli_err("ech: --max-name-length wants a number from 0 to 255");
                return CLI_EXIT_USAGE;
            }
        } else {
            cli_err("ech: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (o.public_name == NULL || o.out == NULL) {
        cli_err("ech: keygen needs --public-name NAME and --out DIR");
        return CLI_EXIT_USAGE;
    }
    if (!ech_public_name_valid((const uint8_t *)o.public_name, strlen(o.public_name))) {
        cli_err("ech: --public-name %s is not a DNS name clients accept (RFC 9849 §6.1.7: LDH "
                "labels, and a last label that does not look like an IPv4 number)",
                o.public_name);
        return CLI_EXIT_USAGE;
    }
    return keygen(&o);
}
