/* libFuzzer target: what certa renew reads (tools/renew/, compiled in): the
 * input as a renewalInfo object (RFC 9773 §4.2), as an RFC 3339 time, as a
 * certificate for its ARI certID, and as a state directory's config text.
 * What is taken must hold what renew relies on: a window with start <= end,
 * an explanation without control characters, a certID of base64url "."
 * base64url that fits its buffer, config arguments inside the text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/acme/jws.c"
#include "../tools/common/atomic_write.c"
#include "../tools/renew/ari.c"
#include "../tools/renew/state_dir.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool b64url_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char why[256];
    ari_info info;
    if (ari_parse_renewal_info(text, size, &info, why, sizeof why) == 0) {
        if (info.end < info.start) abort();
        for (const char *p = info.explanation; *p; p++)
            if ((unsigned char)*p < 0x21) abort();
    }
    int64_t t;
    if (ari_parse_time(text, size, &t) == 0 && size < 20)
        abort(); /* shortest: ....-..-..T..:..:..Z */
    char id[ARI_CERT_ID_MAX];
    if (ari_cert_id(data, size, id, sizeof id, why, sizeof why) == 0) {
        char *dot = strchr(id, '.');
        if (!dot || dot == id || !dot[1] || strchr(dot + 1, '.')) abort();
        for (const char *p = id; *p; p++)
            if (p != dot && !b64url_char(*p)) abort();
    }
    char *args[16];
    int n = state_config_parse(text, size, args, 16, why, sizeof why);
    for (int i = 0; i < n; i++)
        if (args[i] < text || args[i] > text + size || strlen(args[i]) > size) abort();
    if (n > 0 && strncmp(args[0], "--", 2)) abort();
    free(text);
    return 0;
}
