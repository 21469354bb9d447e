/* libFuzzer target: the parser certa diagnose reads a server's first answer
 * with (tools/diagnose/raw_hello.c, compiled in) — records holding a
 * ServerHello, a HelloRetryRequest or an alert, from any server. Each input
 * is parsed whole and cut short; a complete answer must stay complete when
 * more bytes follow it, and what it reports must be one of its outcomes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/diagnose/raw_hello.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *buf = malloc(size + 16);
    if (!buf) return 0;
    memcpy(buf, data, size);
    memset(buf + size, 0xee, 16);
    raw_answer a, b;
    int r = raw_parse_answer(buf, size, &a);
    if (r < -1 || r > 1) abort();
    if (r == 1) {
        if (a.outcome != RAW_SERVER_HELLO && a.outcome != RAW_HELLO_RETRY &&
            a.outcome != RAW_ALERT)
            abort();
        /* trailing bytes (the rest of the flight) change nothing */
        if (raw_parse_answer(buf, size + 16, &b) != 1 || memcmp(&a, &b, sizeof a) != 0) abort();
    }
    for (size_t cut = 0; cut < size && cut < 64; cut++)
        if (raw_parse_answer(buf, cut, &b) < -1) abort();
    /* A hello built from the input's first bytes always parses back as ours. */
    if (size >= 4) {
        uint16_t suites[2] = {(uint16_t)(data[0] << 8 | data[1]), 0x1301};
        uint16_t groups[1] = {(uint16_t)(data[2] << 8 | data[3])};
        raw_hello h = {.record_version = 0x0301,
                       .legacy_version = 0x0303,
                       .suites = suites,
                       .suite_count = 2,
                       .groups = groups,
                       .group_count = 1,
                       .tls13 = data[0] & 1,
                       .fallback_scsv = data[1] & 1,
                       .reneg_info = data[2] & 1,
                       .pad_to = (size_t)data[3] * 8};
        uint8_t hello[4096];
        size_t len;
        if (raw_build_hello(&h, "fuzz.example", hello, sizeof hello, &len) != 0) abort();
        if (len < 5 || hello[0] != 22 || (size_t)(hello[3] << 8 | hello[4]) != len - 5) abort();
    }
    free(buf);
    return 0;
}
