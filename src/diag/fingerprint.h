/* Client fingerprints (JA4, JA4_r, JA3) of the ClientHellos a server
 * receives: computed as each arrives when the config asks for them, and
 * kept with exact-size strings so an idle connection holds little. */
#ifndef CERTA_DIAG_FINGERPRINT_H
#define CERTA_DIAG_FINGERPRINT_H

#include <stddef.h>
#include <stdint.h>

#include "certa.h"

typedef struct hello_fingerprint {
    char ja4[40];
    char ja3_md5[33];
    char *ja4_r; /* heap, exact size */
    char *ja3;
    char *server_name;
    char *alpn;
    bool truncated;
} hello_fingerprint;

/* Computes the fingerprints of a ClientHello message (type and length
 * included); NULL on a malformed message or no memory. */
hello_fingerprint *hello_fingerprint_take(const uint8_t *msg, size_t len);
void hello_fingerprint_free(hello_fingerprint *fp);
/* Fills the caller's structure from a kept fingerprint. */
void hello_fingerprint_export(const hello_fingerprint *kept, certa_fingerprint *out);

#endif
