/* Cursor and builder: every read at its boundary, vectors, builder nesting,
 * overflow of the prefix range and of a fixed buffer. */
#include "testlib.h"
#include "wire/cursor.h"

static const uint8_t seq[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09};

/* A read of n bytes succeeds on exactly n bytes, fails on n-1 without
 * consuming anything. */
static void test_int_reads(void) {
    cursor c;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;

    cur_init(&c, seq, 0);
    CHECK(!cur_u8(&c, &u8) && cur_left(&c) == 0 && cur_empty(&c), "u8 on empty fails");
    cur_init(&c, seq, 1);
    CHECK(cur_u8(&c, &u8) && u8 == 1 && cur_empty(&c), "u8 on 1 byte");

    cur_init(&c, seq, 1);
    CHECK(!cur_u16(&c, &u16) && cur_left(&c) == 1 && c.data == seq,
          "u16 on 1 byte fails, unconsumed");
    cur_init(&c, seq, 2);
    CHECK(cur_u16(&c, &u16) && u16 == 0x0102 && cur_empty(&c), "u16 big-endian on 2 bytes");

    cur_init(&c, seq, 2);
    CHECK(!cur_u24(&c, &u32) && cur_left(&c) == 2, "u24 on 2 bytes fails, unconsumed");
    cur_init(&c, seq, 3);
    CHECK(cur_u24(&c, &u32) && u32 == 0x010203 && cur_empty(&c), "u24 on 3 bytes");

    cur_init(&c, seq, 3);
    CHECK(!cur_u32(&c, &u32) && cur_left(&c) == 3, "u32 on 3 bytes fails, unconsumed");
    cur_init(&c, seq, 4);
    CHECK(cur_u32(&c, &u32) && u32 == 0x01020304 && cur_empty(&c), "u32 on 4 bytes");

    cur_init(&c, seq, 7);
    CHECK(!cur_u64(&c, &u64) && cur_left(&c) == 7, "u64 on 7 bytes fails, unconsumed");
    cur_init(&c, seq, 8);
    CHECK(cur_u64(&c, &u64) && u64 == 0x0102030405060708ull && cur_empty(&c), "u64 on 8 bytes");

    static const uint8_t ff[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    cur_init(&c, ff, 8);
    CHECK(cur_u64(&c, &u64) && u64 == UINT64_MAX, "u64 all ones");
    cur_init(&c, ff, 4);
    CHECK(cur_u32(&c, &u32) && u32 == UINT32_MAX, "u32 all ones");

    cur_init(&c, seq, 9);
    CHECK(cur_u8(&c, &u8) && cur_u16(&c, &u16) && cur_u24(&c, &u32) && u32 == 0x040506 &&
              cur_left(&c) == 3,
          "sequence of reads advances correctly");

    cur_init(&c, NULL, 5);
    CHECK(cur_left(&c) == 0 && !cur_u8(&c, &u8), "NULL data means empty");

    cur_init(&c, seq, 1);
    CHECK(cur_peek_u8(&c, &u8) && u8 == 1 && cur_left(&c) == 1, "peek does not consume");
    cur_init(&c, seq, 0);
    CHECK(!cur_peek_u8(&c, &u8), "peek on empty fails");
}

static void test_byte_reads(void) {
    cursor c, sub;
    const uint8_t *p;
    uint8_t buf[9];

    cur_init(&c, seq, 4);
    CHECK(!cur_bytes(&c, 5, &p) && cur_left(&c) == 4, "bytes(n > left) fails, unconsumed");
    CHECK(cur_bytes(&c, 0, &p) && cur_left(&c) == 4, "bytes(0) ok");
    CHECK(cur_bytes(&c, 4, &p) && p == seq && cur_empty(&c), "bytes(left) takes all");

    cur_init(&c, seq, 4);
    memset(buf, 0xee, sizeof buf);
    CHECK(!cur_copy(&c, buf, 5) && buf[0] == 0xee && cur_left(&c) == 4, "copy(n > left) fails");
    CHECK(cur_copy(&c, buf, 4) && memcmp(buf, seq, 4) == 0 && cur_empty(&c), "copy(left)");

    cur_init(&c, seq, 4);
    CHECK(!cur_skip(&c, 5) && cur_left(&c) == 4, "skip(n > left) fails");
    CHECK(cur_skip(&c, 4) && cur_empty(&c), "skip(left)");

    cur_init(&c, seq, 4);
    CHECK(!cur_sub(&c, 5, &sub) && cur_left(&c) == 4, "sub(n > left) fails");
    CHECK(cur_sub(&c, 3, &sub) && sub.data == seq && sub.len == 3 && cur_left(&c) == 1,
          "sub(3) splits");
    CHECK(!cur_skip(&c, SIZE_MAX) && cur_left(&c) == 1, "skip(SIZE_MAX) fails");
}

static void test_vectors(void) {
    cursor c, v;
    /* vec8 */
    static const uint8_t v8[] = {0x03, 0xaa, 0xbb, 0xcc, 0xdd};
    cur_init(&c, v8, 4);
    CHECK(cur_vec8(&c, &v) && v.len == 3 && v.data == v8 + 1 && cur_empty(&c), "vec8 exact");
    cur_init(&c, v8, 3);
    CHECK(!cur_vec8(&c, &v) && cur_left(&c) == 3 && c.data == v8,
          "vec8 short body fails, unconsumed");
    cur_init(&c, v8, 0);
    CHECK(!cur_vec8(&c, &v), "vec8 without prefix fails");
    static const uint8_t e8[] = {0x00};
    cur_init(&c, e8, 1);
    CHECK(cur_vec8(&c, &v) && v.len == 0 && cur_empty(&c), "vec8 empty vector");

    /* vec16 */
    static const uint8_t v16[] = {0x00, 0x02, 0x11, 0x22, 0x33};
    cur_init(&c, v16, 5);
    CHECK(cur_vec16(&c, &v) && v.len == 2 && v.data[1] == 0x22 && cur_left(&c) == 1,
          "vec16 leaves the rest");
    cur_init(&c, v16, 3);
    CHECK(!cur_vec16(&c, &v) && cur_left(&c) == 3, "vec16 short body fails, unconsumed");
    cur_init(&c, v16, 1);
    CHECK(!cur_vec16(&c, &v) && cur_left(&c) == 1, "vec16 half prefix fails");
    static const uint8_t big16[] = {0xff, 0xff, 0x00};
    cur_init(&c, big16, 3);
    CHECK(!cur_vec16(&c, &v) && cur_left(&c) == 3, "vec16 length 65535 on 1 byte fails");

    /* vec24 */
    static const uint8_t v24[] = {0x00, 0x00, 0x01, 0x7f};
    cur_init(&c, v24, 4);
    CHECK(cur_vec24(&c, &v) && v.len == 1 && v.data[0] == 0x7f && cur_empty(&c), "vec24 exact");
    cur_init(&c, v24, 3);
    CHECK(!cur_vec24(&c, &v) && cur_left(&c) == 3, "vec24 empty body fails, unconsumed");
    cur_init(&c, v24, 2);
    CHECK(!cur_vec24(&c, &v) && cur_left(&c) == 2, "vec24 partial prefix fails");
    static const uint8_t big24[] = {0xff, 0xff, 0xff, 0x00};
    cur_init(&c, big24, 4);
    CHECK(!cur_vec24(&c, &v) && cur_left(&c) == 4, "vec24 huge length fails");

    /* nested */
    static const uint8_t nest[] = {0x00, 0x05, 0x04, 0x00, 0x02, 0xab, 0xcd};
    cursor outer, inner, in2;
    uint16_t x;
    cur_init(&c, nest, sizeof nest);
    CHECK(cur_vec16(&c, &outer) && cur_vec8(&outer, &inner) && cur_empty(&outer) &&
              cur_u16(&inner, &x) && x == 2 && cur_left(&inner) == 2,
          "nested vectors");
    static const uint8_t spill[] = {0x00, 0x03, 0x00, 0x05, 0xab, 0xcd, 0xef, 0x01, 0x02};
    cur_init(&c, spill, sizeof spill);
    CHECK(cur_vec16(&c, &outer) && !cur_vec16(&outer, &in2) && cur_left(&outer) == 3,
          "inner vector cannot reach past the outer one");
}

static void test_builder_basic(void) {
    builder b;
    size_t n;
    bld_init_alloc(&b, 1); /* forces several doublings */
    bld_u8(&b, 0x01);
    bld_u16(&b, 0x0203);
    bld_u24(&b, 0x040506);
    bld_u32(&b, 0x0708090a);
    bld_u64(&b, 0x0b0c0d0e0f101112ull);
    bld_bytes(&b, "\x13\x14", 2);
    bld_zeros(&b, 2);
    uint8_t *r = bld_reserve(&b, 1);
    if (r) *r = 0x15;
    bld_bytes(&b, NULL, 0);
    CHECK(bld_ok(&b), "heap builder ok");
    uint8_t *out = bld_take(&b, &n);
    CHECK_HEX(out, n, "01 0203 040506 0708090a 0b0c0d0e0f101112 1314 0000 15", "all writers");
    free(out);
    CHECK(bld_take(&b, &n) == NULL && n == 0, "take twice gives nothing");
    bld_free(&b); /* harmless after take */

    bld_init_alloc(&b, 0);
    bld_u24(&b, 0x1000000);
    CHECK(!bld_ok(&b), "u24 over 24 bits fails");
    bld_u8(&b, 1);
    CHECK(!bld_ok(&b) && bld_take(&b, &n) == NULL, "error is sticky; take refuses");
    bld_free(&b);

    /* Large growth. */
    bld_init_alloc(&b, 16);
    for (int i = 0; i < 100000; i++)
        bld_u8(&b, (uint8_t)i);
    CHECK(bld_ok(&b) && b.len == 100000 && b.buf[99999] == (uint8_t)99999, "grows to 100000");
    bld_free(&b);
    CHECK(b.buf == NULL && !bld_ok(&b), "free resets");

    bld_init_alloc(&b, 8);
    CHECK(bld_reserve(&b, SIZE_MAX) == NULL && !bld_ok(&b), "reserve(SIZE_MAX) fails");
    bld_free(&b);
}

static void test_builder_vectors(void) {
    builder b;
    size_t n;
    uint8_t *out;

    bld_init_alloc(&b, 4);
    bld_open(&b, 2);
    bld_u8(&b, 0xaa);
    bld_open(&b, 1);
    bld_bytes(&b, "\x01\x02\x03", 3);
    bld_close(&b);
    bld_open(&b, 3);
    bld_close(&b);
    bld_open(&b, 4);
    bld_u8(&b, 0xbb);
    bld_close(&b);
    bld_close(&b);
    CHECK(bld_ok(&b), "nested vectors ok");
    out = bld_take(&b, &n);
    CHECK_HEX(out, n, "000d aa 03010203 000000 00000001bb", "nested encodings");
    free(out);

    bld_init_alloc(&b, 4);
    bld_open(&b, 1);
    CHECK(!bld_ok(&b), "an open vector makes the builder not ok");
    bld_close(&b);
    CHECK(bld_ok(&b), "closing it makes it ok again");
    bld_close(&b);
    CHECK(!bld_ok(&b), "close without open fails");
    bld_free(&b);

    bld_init_alloc(&b, 4);
    bld_open(&b, 0);
    CHECK(!bld_ok(&b), "width 0 rejected");
    bld_free(&b);
    bld_init_alloc(&b, 4);
    bld_open(&b, 5);
    CHECK(!bld_ok(&b), "width 5 rejected");
    bld_free(&b);

    bld_init_alloc(&b, 4);
    for (int i = 0; i < BLD_MAX_DEPTH; i++)
        bld_open(&b, 1);
    for (int i = 0; i < BLD_MAX_DEPTH; i++)
        bld_close(&b);
    CHECK(bld_ok(&b) && b.len == BLD_MAX_DEPTH, "BLD_MAX_DEPTH levels ok");
    for (int i = 0; i <= BLD_MAX_DEPTH; i++)
        bld_open(&b, 1);
    CHECK(!bld_ok(&b), "one level too deep fails");
    bld_free(&b);

    /* Contents exceeding the prefix's range. */
    bld_init_alloc(&b, 4);
    bld_open(&b, 1);
    bld_zeros(&b, 255);
    bld_close(&b);
    CHECK(bld_ok(&b) && b.buf[0] == 0xff, "255 bytes fit a 1-byte prefix");
    bld_free(&b);
    bld_init_alloc(&b, 4);
    bld_open(&b, 1);
    bld_zeros(&b, 256);
    bld_close(&b);
    CHECK(!bld_ok(&b), "256 bytes overflow a 1-byte prefix");
    bld_free(&b);
    bld_init_alloc(&b, 4);
    bld_open(&b, 2);
    bld_zeros(&b, 65535);
    bld_close(&b);
    CHECK(bld_ok(&b) && b.buf[0] == 0xff && b.buf[1] == 0xff, "65535 bytes fit a 2-byte prefix");
    bld_free(&b);
    bld_init_alloc(&b, 4);
    bld_open(&b, 2);
    bld_zeros(&b, 65536);
    bld_close(&b);
    CHECK(!bld_ok(&b), "65536 bytes overflow a 2-byte prefix");
    bld_free(&b);
    bld_init_alloc(&b, 4);
    bld_open(&b, 3);
    bld_zeros(&b, 0x1000000);
    bld_close(&b);
    CHECK(!bld_ok(&b), "2^24 bytes overflow a 3-byte prefix");
    bld_free(&b);
    bld_init_alloc(&b, 4);
    bld_open(&b, 3);
    bld_zeros(&b, 0xffffff);
    bld_close(&b);
    CHECK(bld_ok(&b) && b.len == 0x1000002, "2^24-1 bytes fit a 3-byte prefix");
    bld_free(&b);

    /* Round trip through the cursor. */
    bld_init_alloc(&b, 0);
    bld_open(&b, 3);
    bld_open(&b, 2);
    bld_u16(&b, 0x1301);
    bld_close(&b);
    bld_close(&b);
    out = bld_take(&b, &n);
    cursor c, v1, v2;
    uint16_t x;
    cur_init(&c, out, n);
    CHECK(out && cur_vec24(&c, &v1) && cur_vec16(&v1, &v2) && cur_u16(&v2, &x) && x == 0x1301 &&
              cur_empty(&c) && cur_empty(&v1) && cur_empty(&v2),
          "builder output parses back");
    free(out);
}

static void test_builder_fixed(void) {
    uint8_t buf[4];
    builder b;
    size_t n;
    bld_init_fixed(&b, buf, sizeof buf);
    bld_u32(&b, 0xdeadbeef);
    CHECK(bld_ok(&b) && b.len == 4 && buf[0] == 0xde && buf[3] == 0xef,
          "fixed buffer filled exactly");
    bld_u8(&b, 0);
    CHECK(!bld_ok(&b) && b.len == 4, "one byte past a fixed buffer fails");
    CHECK(b.buf == buf, "fixed buffer never replaced");
    CHECK(bld_take(&b, &n) == NULL, "take on a fixed builder gives nothing");
    bld_free(&b); /* must not free the caller's buffer */

    bld_init_fixed(&b, buf, sizeof buf);
    bld_u16(&b, 1);
    CHECK(bld_reserve(&b, 3) == NULL && !bld_ok(&b), "reserve past the end fails");

    bld_init_fixed(&b, buf, sizeof buf);
    bld_open(&b, 2);
    bld_u16(&b, 0xabcd);
    bld_close(&b);
    CHECK(bld_ok(&b) && buf[0] == 0 && buf[1] == 2 && b.len == 4, "vector in a fixed buffer");

    bld_init_fixed(&b, buf, sizeof buf);
    bld_open(&b, 4);
    bld_u8(&b, 1);
    CHECK(!bld_ok(&b), "prefix + body past a fixed buffer fails");

    bld_init_fixed(&b, NULL, 0);
    bld_u8(&b, 1);
    CHECK(!bld_ok(&b), "zero-capacity fixed builder fails on first write");
}

int main(void) {
    test_int_reads();
    test_byte_reads();
    test_vectors();
    test_builder_basic();
    test_builder_vectors();
    test_builder_fixed();
    TEST_EXIT();
}
