/* The record layer (src/record): record_write / record_open round trips with
 * fuzzed traffic secrets, content types and bodies, plus forged records.
 *
 * Input: byte 0 picks the AEAD/hash pair and whether protection is on, the
 * next 48 bytes are the traffic secret, then a program of operations:
 *   0  write type+data with the sender, open every record with the receiver:
 *      each record must be at most 2^14+256 bytes, and the types and the
 *      concatenated plaintext must come back exactly (fragmented at 2^14)
 *   1  open a fuzz-supplied header+body: any result, but on success the
 *      plaintext must fit in the body and be at most 2^14 bytes
 *   2  forge a record under the receiver's key with a fuzz-chosen inner
 *      plaintext (any padding, any length): record_open must return the last
 *      non-zero byte as the type and the bytes before it, refuse an all-zero
 *      inner plaintext (unexpected_message) and content over 2^14
 *      (record_overflow)
 *   3  a forged record with one bit of its ciphertext or header flipped:
 *      must fail with bad_record_mac (or overflow/unexpected for the header)
 * Any violation aborts (reported as a crash). */
#include "certa.h"
#include "crypto/crypto.h"
#include "record/record.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

typedef struct input {
    const uint8_t *p;
    size_t n;
} input;

static uint8_t in_u8(input *in) {
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}
static size_t in_u16(input *in) {
    size_t hi = in_u8(in);
    return hi << 8 | in_u8(in);
}
/* len bytes: from the input while it lasts, then a pattern. */
static void in_fill(input *in, uint8_t *out, size_t len) {
    size_t take = len < in->n ? len : in->n;
    memcpy(out, in->p, take);
    in->p += take;
    in->n -= take;
    for (size_t i = take; i < len; i++)
        out[i] = (uint8_t)(i * 7 + 1);
}

static const struct {
    aead_alg aead;
    hash_alg hash;
} suites[] = {
    {AEAD_AES128GCM, HASH_SHA256},
    {AEAD_AES256GCM, HASH_SHA384},
    {AEAD_CHACHA20POLY1305, HASH_SHA256},
    {AEAD_AES128CCM, HASH_SHA256},
};

enum { BIG = 3 * RECORD_MAX_PLAINTEXT + 100 };
static uint8_t data[BIG], got[BIG], body[RECORD_MAX_WIRE + 512];

/* Forges one record under key/iv for sequence number seq. */
static size_t forge(aead_ctx *a, const uint8_t iv[CRYPTO_AEAD_NONCE], uint64_t seq,
                    const uint8_t *inner, size_t inner_len, uint8_t *out) {
    uint8_t nonce[CRYPTO_AEAD_NONCE];
    memcpy(nonce, iv, sizeof nonce);
    for (int i = 0; i < 8; i++)
        nonce[CRYPTO_AEAD_NONCE - 1 - i] ^= (uint8_t)(seq >> (8 * i));
    size_t wire = inner_len + CRYPTO_AEAD_TAG;
    out[0] = CONTENT_APPLICATION_DATA;
    out[1] = 3;
    out[2] = 3;
    out[3] = (uint8_t)(wire >> 8);
    out[4] = (uint8_t)wire;
    memcpy(out + RECORD_HEADER_LEN, inner, inner_len);
    CHECK(aead_seal(a, nonce, out, RECORD_HEADER_LEN, out + RECORD_HEADER_LEN, inner_len,
                    out + RECORD_HEADER_LEN) == 0);
    return RECORD_HEADER_LEN + wire;
}

int LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size) {
    input in = {buf, size};
    uint8_t setup = in_u8(&in);
    size_t si = (setup & 0x7f) % (sizeof suites / sizeof suites[0]);
    bool protect = !(setup & 0x80);
    uint8_t secret[48];
    in_fill(&in, secret, sizeof secret);

    record_protection tx, rx;
    memset(&tx, 0, sizeof tx);
    memset(&rx, 0, sizeof rx);
    tx.aead.encrypt = true;
    rx.aead.encrypt = false;
    aead_ctx forger = {0};
    uint8_t key[CRYPTO_MAX_KEY], iv[CRYPTO_AEAD_NONCE];
    if (protect) {
        CHECK(record_set_secret(&tx, suites[si].aead, suites[si].hash, secret) == 0);
        CHECK(record_set_secret(&rx, suites[si].aead, suites[si].hash, secret) == 0);
        CHECK(hkdf_expand_label(suites[si].hash, secret, "key", NULL, 0, key,
                                aead_key_len(suites[si].aead)) == 0);
        CHECK(hkdf_expand_label(suites[si].hash, secret, "iv", NULL, 0, iv, sizeof iv) == 0);
        CHECK(aead_init(&forger, suites[si].aead, key, true) == 0);
    }

    for (int step = 0; step < 16 && in.n > 0; step++) {
        uint8_t op = in_u8(&in);
        switch (op % 4) {
        case 0: {
            uint8_t type = (uint8_t)(20 + in_u8(&in) % 4);
            size_t len = in_u16(&in) % BIG;
            in_fill(&in, data, len);
            builder out;
            bld_init_alloc(&out, 0);
            CHECK(record_write(&tx, &out, type, data, len) == 0);
            CHECK(bld_ok(&out));
            size_t off = 0, total = 0;
            while (off < out.len) {
                CHECK(out.len - off >= RECORD_HEADER_LEN);
                const uint8_t *h = out.buf + off;
                size_t n = (size_t)h[3] << 8 | h[4];
                CHECK(h[1] == 3 && h[2] == 3);
                CHECK(n <= (protect ? RECORD_MAX_CIPHERTEXT : RECORD_MAX_PLAINTEXT));
                CHECK(out.len - off - RECORD_HEADER_LEN >= n);
                memcpy(body, h + RECORD_HEADER_LEN, n);
                uint8_t t;
                size_t plain;
                CHECK(record_open(&rx, h, body, n, &t, &plain) == 0);
                CHECK(t == type);
                CHECK(plain <= RECORD_MAX_PLAINTEXT && total + plain <= len);
                memcpy(got + total, body, plain);
                total += plain;
                off += RECORD_HEADER_LEN + n;
            }
            CHECK(total == len && memcmp(got, data, len) == 0);
            bld_free(&out);
            break;
        }
        case 1: {
            uint8_t hdr[RECORD_HEADER_LEN];
            in_fill(&in, hdr, sizeof hdr);
            size_t n = ((size_t)hdr[3] << 8 | hdr[4]) % (sizeof body);
            in_fill(&in, body, n);
            uint8_t t;
            size_t plain = 0;
            uint64_t seq = rx.seq;
            if (record_open(&rx, hdr, body, n, &t, &plain) == 0) {
                CHECK(plain <= n && plain <= RECORD_MAX_PLAINTEXT);
            } else {
                CHECK(rx.seq == seq || rx.seq == seq + 1);
            }
            tx.seq = rx.seq; /* keep the round trips in step */
            break;
        }
        case 2:
        case 3: {
            if (!protect) break;
            size_t inner_len = 1 + in_u16(&in) % (RECORD_MAX_PLAINTEXT + 256);
            in_fill(&in, data, inner_len);
            if (in_u8(&in) & 1) /* often: zero padding after the type */
                memset(data + inner_len - inner_len / 2, 0, inner_len / 2);
            size_t wire = forge(&forger, iv, rx.seq, data, inner_len, body);
            uint8_t hdr[RECORD_HEADER_LEN];
            memcpy(hdr, body, sizeof hdr);
            bool tampered = op % 4 == 3;
            if (tampered) {
                size_t bit = in_u16(&in) % (wire * 8);
                if (bit / 8 < RECORD_HEADER_LEN)
                    hdr[bit / 8] ^= (uint8_t)(1 << bit % 8);
                else
                    body[bit / 8] ^= (uint8_t)(1 << bit % 8);
            }
            size_t n = wire - RECORD_HEADER_LEN;
            uint8_t t;
            size_t plain;
            uint64_t seq = rx.seq;
            int r = record_open(&rx, hdr, body + RECORD_HEADER_LEN, n, &t, &plain);
            size_t real = inner_len;
            while (real > 0 && data[real - 1] == 0)
                real--;
            if (tampered) {
                CHECK(r != 0);
                CHECK(r == CERTA_E_BAD_RECORD_MAC || r == CERTA_E_UNEXPECTED_MESSAGE ||
                      r == CERTA_E_RECORD_OVERFLOW);
                CHECK(rx.seq == seq);
                /* a failed record ends a real connection; resynchronise */
            } else if (real == 0) {
                CHECK(r == CERTA_E_UNEXPECTED_MESSAGE);
            } else if (real - 1 > RECORD_MAX_PLAINTEXT) {
                CHECK(r == CERTA_E_RECORD_OVERFLOW);
            } else {
                CHECK(r == 0 && t == data[real - 1] && plain == real - 1);
                CHECK(memcmp(body + RECORD_HEADER_LEN, data, plain) == 0);
            }
            if (r != 0) rx.seq = seq + (r == CERTA_E_BAD_RECORD_MAC ? 0 : 1);
            tx.seq = rx.seq;
            break;
        }
        }
    }
    record_protection_clear(&tx);
    record_protection_clear(&rx);
    aead_free(&forger);
    crypto_zero(key, sizeof key);
    return 0;
}
