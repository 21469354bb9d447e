/* Minimal unit-test support: each CHECK prints a TAP-style line that
 * tests/run.sh counts. A test binary exits non-zero if any check failed. */
#ifndef CERTA_TESTLIB_H
#define CERTA_TESTLIB_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("ok - ");                                                                       \
        } else {                                                                                   \
            printf("not ok - %s:%d: ", __FILE__, __LINE__);                                        \
            test_failures++;                                                                       \
        }                                                                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
    } while (0)

/* Parses a hex string (whitespace ignored) into a static-size buffer. */
static inline size_t test_unhex(const char *hex, uint8_t *out, size_t cap) {
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        int v;
        if (*hex >= '0' && *hex <= '9')
            v = *hex - '0';
        else if (*hex >= 'a' && *hex <= 'f')
            v = *hex - 'a' + 10;
        else if (*hex >= 'A' && *hex <= 'F')
            v = *hex - 'A' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap) abort();
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n;
}

/* A hex string parsed into a 1 KiB buffer (abort()s if longer), for test
 * vectors: test_buf ch = test_hex(CLIENT_HELLO); then ch.b, ch.n. */
typedef struct test_buf {
    uint8_t b[1024];
    size_t n;
} test_buf;

static inline test_buf test_hex(const char *hex) {
    test_buf out;
    out.n = test_unhex(hex, out.b, sizeof out.b);
    return out;
}

#define CHECK_HEX(buf, len, hex, ...)                                                              \
    do {                                                                                           \
        uint8_t want_[4096];                                                                       \
        size_t want_len_ = test_unhex(hex, want_, sizeof want_);                                   \
        CHECK(want_len_ == (size_t)(len) && memcmp(want_, buf, want_len_) == 0, __VA_ARGS__);      \
    } while (0)

#define TEST_EXIT() return test_failures ? 1 : 0

#endif
