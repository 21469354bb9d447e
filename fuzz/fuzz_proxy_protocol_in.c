/* libFuzzer target: the PROXY v1/v2 headers certa proxy reads from a load
 * balancer (--accept-proxy-protocol; tools/proxy/proxy_protocol_in.c,
 * compiled in). Each input is parsed whole and cut at every length up to
 * the header's: a header that parses whole must read as "more" at every
 * shorter cut (a reader seeing it arrive byte by byte never refuses it),
 * and as the same header when cut right after it; what it reports must lie
 * inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/proxy/proxy_protocol_in.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* A copy of exactly size bytes: reading past it is caught by ASan. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    pp_in_header whole;
    pp_in_status st = proxy_protocol_parse(buf, size, &whole);
    if (st == PP_IN_DONE) {
        if (whole.header_len == 0 || whole.header_len > size) abort();
        if (whole.version == 1 && whole.header_len > PP_IN_V1_MAX) abort();
        if (whole.version == 2 && whole.header_len > PP_IN_V2_MAX) abort();
        if (whole.has_addresses && (whole.src.ss_family != whole.dst.ss_family ||
                                    whole.src_len == 0 || whole.src_len > sizeof whole.src))
            abort();
        for (size_t cut = 0; cut < whole.header_len; cut++) {
            pp_in_header part;
            if (proxy_protocol_parse(buf, cut, &part) != PP_IN_MORE) abort();
        }
        pp_in_header exact;
        if (proxy_protocol_parse(buf, whole.header_len, &exact) != PP_IN_DONE ||
            exact.header_len != whole.header_len || exact.has_addresses != whole.has_addresses ||
            (exact.has_addresses && memcmp(&exact.src, &whole.src, whole.src_len) != 0))
            abort();
    } else if (st == PP_IN_INVALID) {
        if (!whole.why[0]) abort();
    }
    free(buf);
    return 0;
}
