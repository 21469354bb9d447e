/* libFuzzer target: the CompressedCertificate parser and the zlib and brotli
 * decompressors (RFC 8879) on arbitrary input. The first byte picks what was
 * offered (bit 0 zlib, bit 1 brotli; none: both) and the cap on the declared
 * length (bits 2-3: 64 KiB, 16 KiB, 1 KiB, 16 MiB - 1); the rest is the
 * message body. Checks: a success yields exactly the declared number of
 * bytes, within the cap, with an offered algorithm; a failure leaves
 * nothing allocated; and what decompressed (when small) compresses and
 * opens again to the same bytes. The handshake paths that carry the message
 * are fuzzed by fuzz_client_after_hello / fuzz_server_after_hello (both
 * sides offer compression by default). */
#include "tls/cert_compression.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    static const size_t caps[4] = {65536, 16384, 1024, 0xffffff};
    size_t cap = caps[(mode >> 2) & 3];
    uint16_t offered[2];
    size_t n = 0;
    if (mode & 1 || !(mode & 3)) offered[n++] = 1;
    if (mode & 2 || !(mode & 3)) offered[n++] = 2;

    cert_decompressed d;
    cert_decompress_status st = compressed_certificate_open(offered, n, cap, data, size, &d);
    if (st != CD_OK) {
        if (d.body) abort(); /* nothing handed out on failure */
        return 0;
    }
    bool listed = false;
    for (size_t i = 0; i < n; i++)
        listed = listed || offered[i] == d.alg;
    if (!listed || d.body_len != d.uncompressed_len || d.body_len > cap || !d.body) abort();
    if (d.body_len <= 4096) {
        const cert_codec *codec = cert_codec_at(cert_codec_index(d.alg));
        uint8_t *again;
        size_t again_len;
        if (!codec || compressed_certificate_build(codec, d.body, d.body_len, &again, &again_len))
            abort();
        cert_decompressed d2;
        if (compressed_certificate_open(offered, n, cap, again, again_len, &d2) != CD_OK ||
            d2.body_len != d.body_len || memcmp(d2.body, d.body, d.body_len) != 0)
            abort();
        free(d2.body);
        free(again);
    }
    free(d.body);
    return 0;
}
