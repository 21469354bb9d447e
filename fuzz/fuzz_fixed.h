/* Fixed randomness and time for engine fuzz targets, so every input
 * replays the same way. */
#ifndef CERTA_FUZZ_FIXED_H
#define CERTA_FUZZ_FIXED_H

#include <stdint.h>
#include <string.h>

static int fixed_random(void *arg, uint8_t *out, size_t len) {
    (void)arg;
    memset(out, 0x5a, len);
    return 0;
}

static int64_t fixed_time(void *arg) {
    (void)arg;
    return 1790000000;
}

#endif
