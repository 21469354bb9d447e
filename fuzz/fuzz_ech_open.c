/* The client-facing server's ECH decryption (src/tls/ech_open.c): what an
 * attacker controls once a hello decrypts — the EncodedClientHelloInner and
 * the outer extensions it refers to — and the outer hello itself.
 *
 * Input: byte 0 picks the mode. Even: the rest is a ClientHelloOuter body,
 * opened as it is (outer parsing, the extension's fields; it cannot decrypt).
 * Odd: bytes 1-2 are n, then n bytes of outer extensions and the rest is an
 * EncodedClientHelloInner, which the target seals (a fixed HPKE key and
 * ephemeral, so runs reproduce) into a ClientHelloOuter with those
 * extensions and an encrypted_client_hello, so that ech_open reaches the
 * inner-hello decoding; then the same again as a second ClientHello after
 * HelloRetryRequest. Properties: a result is OK, NOT_DECRYPTED, ABSENT or a
 * negative alert with a sentence; an OK inner is a ClientHello no longer than
 * the outer and the encoded inner together, ending in an extension block. */
#include <stdlib.h>
#include <string.h>

#include "tls/ech_open.h"
#include "tls/tls.h"

#include "fuzz_ech_key.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_result(int rc, const char *why, const builder *inner, size_t bound) {
    CHECK(rc == ECH_OPEN_OK || rc == ECH_OPEN_NOT_DECRYPTED || rc == ECH_OPEN_ABSENT ||
          (rc < 0 && rc >= -255 && why != NULL));
    if (rc != ECH_OPEN_OK) return;
    CHECK(bld_ok(inner) && inner->len <= bound && inner->len >= 2 + 32 + 1 + 2 + 1 + 2);
    cursor c, sid, v;
    cur_init(&c, inner->buf, inner->len);
    CHECK(cur_skip(&c, 34) && cur_vec8(&c, &sid) && cur_vec16(&c, &v) && cur_vec8(&c, &v) &&
          cur_vec16(&c, &v) && cur_empty(&c));
}

/* The outer hello around the sealed inner: head, fuzzed extensions, ECH last. */
static size_t seal_outer(hpke_ctx *ctx, const uint8_t *enc, size_t enc_len, const uint8_t *exts,
                         size_t exts_len, const uint8_t *pt, size_t pt_len, uint8_t *out,
                         size_t cap) {
    builder b;
    bld_init_fixed(&b, out, cap);
    bld_u16(&b, 0x0303);
    bld_zeros(&b, 32);
    bld_u8(&b, 32);
    bld_zeros(&b, 32);
    bld_u16(&b, 2);
    bld_u16(&b, 0x1301);
    bld_u8(&b, 1);
    bld_u8(&b, 0);
    bld_open(&b, 2);
    bld_bytes(&b, exts, exts_len);
    bld_u16(&b, ECH_VERSION);
    bld_open(&b, 2);
    bld_u8(&b, 0);
    bld_u16(&b, fuzz_ech_suite.kdf);
    bld_u16(&b, fuzz_ech_suite.aead);
    bld_u8(&b, 7);
    bld_open(&b, 2);
    bld_bytes(&b, enc, enc_len);
    bld_close(&b);
    bld_open(&b, 2);
    size_t at = b.len;
    bld_zeros(&b, pt_len + HPKE_TAG);
    bld_close(&b);
    bld_close(&b);
    bld_close(&b);
    if (!bld_ok(&b) || hpke_seal(ctx, out, b.len, pt, pt_len, out + at) != 0) return 0;
    return b.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const ech_key *key = fuzz_ech_key();
    if (size < 1) return 0;
    const char *why = NULL;
    builder inner;
    ech_open_state st;
    memset(&st, 0, sizeof st);
    bld_init_alloc(&inner, 512);
    if ((data[0] & 1) == 0) {
        uint8_t *outer = malloc(size - 1 ? size - 1 : 1);
        CHECK(outer != NULL);
        memcpy(outer, data + 1, size - 1);
        int rc = ech_open_client_hello(key, 1, outer, size - 1, true, false, &st, &inner, &why);
        check_result(rc, why, &inner, size - 1);
        free(outer);
    } else if (size >= 3) {
        size_t n = (size_t)data[1] << 8 | data[2];
        if (n > size - 3) n = size - 3;
        const uint8_t *exts = data + 3, *pt = data + 3 + n;
        size_t pt_len = size - 3 - n;
        static uint8_t outer[3 * 65536];
        uint8_t enc[32], info[8 + 128], ikm[32] = {9};
        memcpy(info, "tls ech", 8);
        memcpy(info + 8, key->config.raw, key->config.raw_len);
        hpke_ctx ctx;
        CHECK(hpke_setup_base_sender_with_ikm(&ctx, HPKE_KEM_X25519_HKDF_SHA256, fuzz_ech_suite.kdf,
                                              fuzz_ech_suite.aead, key->config.public_key, 32, info,
                                              8 + key->config.raw_len, ikm, sizeof ikm, enc) == 0);
        size_t len = seal_outer(&ctx, enc, 32, exts, n, pt, pt_len, outer, sizeof outer);
        if (len > 0) {
            int rc = ech_open_client_hello(key, 1, outer, len, true, false, &st, &inner, &why);
            check_result(rc, why, &inner, len + pt_len);
            if (rc == ECH_OPEN_OK) {
                /* The second ClientHello: the same inner, sealed at seq 1, no enc. */
                bld_free(&inner);
                bld_init_alloc(&inner, 512);
                len = seal_outer(&ctx, NULL, 0, exts, n, pt, pt_len, outer, sizeof outer);
                CHECK(len > 0);
                rc = ech_open_client_hello(key, 1, outer, len, false, false, &st, &inner, &why);
                CHECK(rc == ECH_OPEN_OK);
                check_result(rc, why, &inner, len + pt_len);
            }
        }
        hpke_ctx_wipe(&ctx);
    }
    hpke_ctx_wipe(&st.hpke);
    bld_free(&inner);
    return 0;
}
