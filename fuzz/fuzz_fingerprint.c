/* libFuzzer target: client fingerprints (src/diag/fingerprint.c) — the input
 * as a ClientHello message. Whatever it is, the call returns; a success gives
 * a JA4 of the fixed 36-character shape, NUL-terminated raw strings, and a
 * 32-digit JA3 hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    certa_fingerprint fp;
    if (certa_fingerprint_client_hello(data, size, &fp) != CERTA_OK) return 0;
    if (strlen(fp.ja4) != 36 || fp.ja4[10] != '_' || fp.ja4[23] != '_' ||
        strlen(fp.ja3_md5) != 32 || memchr(fp.ja4_r, '\0', sizeof fp.ja4_r) == NULL ||
        memchr(fp.ja3, '\0', sizeof fp.ja3) == NULL) {
        fprintf(stderr, "malformed fingerprint: %s / %s\n", fp.ja4, fp.ja3_md5);
        abort();
    }
    return 0;
}
