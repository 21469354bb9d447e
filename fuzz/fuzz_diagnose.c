/* libFuzzer target: the parser certa diagnose reads a server's first answer
 * with (tools/diagnose/raw_hello.c, compiled in) — records holding a
 * ServerHello, a HelloRetryRequest or an alert, from any server, and (read
 * on to the ServerKeyExchange) the Certificate, CertificateStatus and
 * ServerKeyExchange after a TLS 1.2 ServerHello. Each input is parsed whole
 * and cut short, both ways; a complete answer must stay complete when more
 * bytes follow it, and what it reports must be one of its outcomes. */
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
    for (int want_ske = 0; want_ske < 2; want_ske++) {
        int r = raw_parse_answer(buf, size, want_ske, &a);
        if (r < -1 || r > 1) abort();
        if (r == 1) {
            if (a.outcome != RAW_SERVER_HELLO && a.outcome != RAW_HELLO_RETRY &&
                a.outcome != RAW_ALERT)
                abort();
            /* only a TLS 1.2 ServerHello read on says anything of its key exchange */
            if ((a.ske_seen || a.dh_bits) && (!want_ske || a.outcome != RAW_SERVER_HELLO)) abort();
            if (a.dh_bits > 8 * 65535) abort();
            /* trailing bytes (the rest of the flight) change nothing */
            if (raw_parse_answer(buf, size + 16, want_ske, &b) != 1 ||
                memcmp(&a, &b, sizeof a) != 0)
                abort();
        }
        for (size_t cut = 0; cut < size && cut < 64; cut++)
            if (raw_parse_answer(buf, cut, want_ske, &b) < -1) abort();
    }
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
                       .x25519_share = data[3] & 1,
                       .sigs = suites,
                       .sig_count = data[3] & 2 ? 2 : 0,
                       .pad_to = (size_t)data[3] * 8};
        uint8_t hello[4096];
        size_t len;
        if (raw_build_hello(&h, "fuzz.example", hello, sizeof hello, &len) != 0) abort();
        if (len < 5 || hello[0] != 22 || (size_t)(hello[3] << 8 | hello[4]) != len - 5) abort();
    }
    free(buf);
    return 0;
}
