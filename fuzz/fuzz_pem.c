/* libFuzzer target: PEM block scanning and decoding on arbitrary text. */
#include <stdint.h>
#include <stdlib.h>

#include "x509/cert.h"
#include "x509/pem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data; /* not NUL-terminated: len bounds it */
    size_t pos = 0;
    for (int i = 0; i < 64; i++) {
        uint8_t *der = NULL;
        size_t len = 0, before = pos;
        int rc = pem_next(text, size, &pos, "CERTIFICATE", &der, &len);
        if (rc != 1) {
            if (der) abort(); /* no output on failure */
            break;
        }
        if (pos <= before || pos > size) abort(); /* progress, within bounds */
        x509_cert cert;
        x509_parse(&cert, der, len);
        free(der);
    }
    return 0;
}
