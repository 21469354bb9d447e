/* The configuration parsers that take user-supplied text (the CLI passes
 * its arguments straight to them): cipher, group and ALPN lists, SPKI pins,
 * allow rules, and trust-anchor PEM. The input is split at NUL bytes; the
 * first byte of each piece picks the parser. */
#include "certa.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    certa_config *cfg = certa_config_new();
    certa_trust *trust = certa_trust_new();
    size_t start = 0;
    while (start < size) {
        const uint8_t *end = memchr(data + start, 0, size - start);
        size_t len = end ? (size_t)(end - (data + start)) : size - start;
        if (len > 0) {
            char *text = malloc(len);
            memcpy(text, data + start + 1, len - 1);
            text[len - 1] = 0; /* a C string without the selector byte */
            switch (data[start] % 6) {
            case 0:
                certa_config_set_ciphers(cfg, text);
                break;
            case 1:
                certa_config_set_groups(cfg, text);
                break;
            case 2:
                certa_config_set_alpn(cfg, text);
                break;
            case 3:
                certa_config_add_pin(cfg, text);
                break;
            case 4:
                certa_config_add_allow(cfg, text);
                break;
            case 5:
                certa_trust_add_pem(trust, text, len - 1);
                break;
            }
            (void)certa_config_error_text(cfg);
            free(text);
        }
        start += len + 1;
    }
    certa_trust_free(trust);
    certa_config_free(cfg);
    return 0;
}
