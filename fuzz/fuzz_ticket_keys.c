/* libFuzzer target: the ticket-key format that serve and proxy read from a
 * fleet's key file and from Redis (tools/tickets/ticket_key_format.c, compiled in).
 * What parses must format back to text that parses to the same keys, and
 * go into a ring. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/tickets/ticket_key_format.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
    if (!text) return 0;
    memcpy(text, data, size);
    tkf_keys k, again;
    char why[300];
    if (tkf_parse(text, size, "input", &k, why, sizeof why) == 0) {
        if (k.count == 0 || k.count > TKF_MAX) abort();
        size_t len;
        char *out = tkf_format(&k, &len);
        if (!out || tkf_parse(out, len, "output", &again, why, sizeof why) != 0 ||
            again.count != k.count || memcmp(again.key, k.key, sizeof k.key) != 0 ||
            memcmp(again.epoch, k.epoch, sizeof k.epoch) != 0)
            abort();
        free(out);
        certa_ticket_keys *ring = certa_ticket_keys_new(0);
        if (ring && certa_ticket_keys_set(ring, (const uint8_t(*)[32])k.key, k.epoch, k.count) !=
                        CERTA_OK)
            abort();
        certa_ticket_keys_free(ring);
    } else if (!why[0]) {
        abort(); /* a refusal always says why */
    }
    free(text);
    return 0;
}
