/* ECH key and config files, for certa ech keygen's output and for serve,
 * proxy and connect (--ech-key FILE --ech-config FILE, --ech-config-list).
 *
 * A key file is a PKCS#8 PEM private key (X25519 or P-256; what certa ech
 * keygen writes), or the 32 raw bytes of BoringSSL's `bssl generate-ech
 * -out-private-key` (its KEM is then the config's). A config file is an
 * ECHConfigList or a single ECHConfig, binary or base64 (as DNS HTTPS
 * records carry it: `ech=` in presentation form); bssl writes both
 * binary forms (-out-ech-config-list, -out-ech-config). */
#ifndef CERTA_TOOLS_ECH_FILES_H
#define CERTA_TOOLS_ECH_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "tls/ech_open.h"

/* Reads a config file in any of the four forms into an ECHConfigList
 * (binary, with its length prefix; malloc'd, the caller frees it) that
 * ech_config_list_parse accepts and that holds at least one config certa
 * can use. 0, or -1 with a sentence in why. */
int ech_files_read_config_list(const char *path, uint8_t **list, size_t *len, char *why,
                               size_t cap);
/* The server's key: the private key file and the config file (one
 * ECHConfig, or a list in which the config whose public key is the
 * private key's is taken) into k (ech_key_init). 0, or -1 with why. */
int ech_files_load_key(const char *key_path, const char *config_path, ech_key *k, char *why,
                       size_t cap);

#endif
