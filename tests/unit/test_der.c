/* Strict DER: length forms, tags, INTEGER/BOOLEAN/BIT STRING, times, OIDs. */
#include "testlib.h"
#include "wire/der.h"

static uint8_t buf[70000];

/* Sets c over the hex bytes (in the static buffer). */
static cursor hexcur(const char *hex) {
    cursor c;
    size_t n = test_unhex(hex, buf, sizeof buf);
    cur_init(&c, buf, n);
    return c;
}

static void test_lengths(void) {
    cursor c, body, el;
    uint8_t tag;

    c = hexcur("04 03 aabbcc");
    CHECK(der_any(&c, &tag, &body) && tag == 0x04 && body.len == 3 && cur_empty(&c),
          "short form length");
    c = hexcur("04 00");
    CHECK(der_any(&c, &tag, &body) && body.len == 0 && cur_empty(&c), "zero length");
    c = hexcur("04 80 0000");
    CHECK(!der_any(&c, &tag, &body) && cur_left(&c) == 4, "indefinite length rejected");
    c = hexcur("04 81 05 0102030405");
    CHECK(!der_any(&c, &tag, &body), "long form for a length < 128 rejected");

    /* 0x81 0x80: smallest valid one-byte long form. */
    size_t n = 0;
    buf[n++] = 0x04;
    buf[n++] = 0x81;
    buf[n++] = 0x80;
    memset(buf + n, 0x5a, 0x80);
    n += 0x80;
    cur_init(&c, buf, n);
    CHECK(der_any(&c, &tag, &body) && body.len == 0x80 && cur_empty(&c), "0x81 0x80 accepted");
    cur_init(&c, buf, n - 1);
    CHECK(!der_any(&c, &tag, &body) && cur_left(&c) == n - 1, "length > remaining rejected");

    /* 0x82 0x01 0x00: 256 bytes; 0x82 0x00 0xff is non-minimal. */
    buf[0] = 0x04;
    buf[1] = 0x82;
    buf[2] = 0x01;
    buf[3] = 0x00;
    memset(buf + 4, 0, 256);
    cur_init(&c, buf, 260);
    CHECK(der_any(&c, &tag, &body) && body.len == 256, "0x82 0x0100 accepted");
    buf[2] = 0x00;
    buf[3] = 0xff;
    cur_init(&c, buf, 260);
    CHECK(!der_any(&c, &tag, &body), "0x82 with a leading zero rejected");
    buf[1] = 0x82;
    buf[2] = 0x00;
    buf[3] = 0x80;
    cur_init(&c, buf, 260);
    CHECK(!der_any(&c, &tag, &body), "0x82 0x0080 rejected (should be 0x81 0x80)");

    /* 0x83: 65536 bytes. */
    buf[0] = 0x04;
    buf[1] = 0x83;
    buf[2] = 0x01;
    buf[3] = 0x00;
    buf[4] = 0x00;
    memset(buf + 5, 0, 65536);
    cur_init(&c, buf, 5 + 65536);
    CHECK(der_any(&c, &tag, &body) && body.len == 65536 && cur_empty(&c), "0x83 length accepted");

    c = hexcur("04 84 ffffffff 00");
    CHECK(!der_any(&c, &tag, &body), "4-byte length beyond the input rejected");
    c = hexcur("04 85 0000000001 00");
    CHECK(!der_any(&c, &tag, &body), "5 length octets rejected");
    c = hexcur("04 ff");
    CHECK(!der_any(&c, &tag, &body), "0xff length rejected");
    c = hexcur("04");
    CHECK(!der_any(&c, &tag, &body), "missing length rejected");
    c = hexcur("04 82 01");
    CHECK(!der_any(&c, &tag, &body) && cur_left(&c) == 3, "truncated long length rejected");
    c = hexcur("");
    CHECK(!der_any(&c, &tag, &body), "empty input rejected");

    c = hexcur("1f 01 00");
    CHECK(!der_any(&c, &tag, &body), "high tag number form rejected");
    c = hexcur("bf 1f 01 00");
    CHECK(!der_any(&c, &tag, &body), "high context tag rejected");

    c = hexcur("30 03 020101 05 00");
    CHECK(der_peek_tag(&c, &tag) && tag == 0x30, "peek tag");
    CHECK(!der_get(&c, DER_SET, &body) && cur_left(&c) == 7, "wrong tag: fails, unconsumed");
    CHECK(der_get_element(&c, DER_SEQUENCE, &el, &body) && el.len == 5 && el.data == buf &&
              body.len == 3 && body.data == buf + 2 && cur_left(&c) == 2,
          "element and contents");
    bool present;
    CHECK(der_get_optional(&c, DER_CONTEXT_CONS(0), &body, &present) && !present &&
              cur_left(&c) == 2,
          "absent optional");
    CHECK(der_get_optional(&c, DER_NULL, &body, &present) && present && body.len == 0 &&
              cur_empty(&c),
          "present optional");
    CHECK(der_get_optional(&c, DER_NULL, &body, &present) && !present, "optional at end");
    c = hexcur("a0 05 00");
    CHECK(!der_get_optional(&c, DER_CONTEXT_CONS(0), &body, &present),
          "malformed optional with the right tag fails");
}

static bool int_of(const char *hex, int64_t *v) {
    cursor c = hexcur(hex);
    return der_get_int64(&c, v) && cur_empty(&c);
}

static void test_integers(void) {
    int64_t v;
    CHECK(int_of("02 01 00", &v) && v == 0, "INTEGER 0");
    CHECK(int_of("02 01 7f", &v) && v == 127, "INTEGER 127");
    CHECK(int_of("02 02 0080", &v) && v == 128, "INTEGER 128");
    CHECK(int_of("02 01 80", &v) && v == -128, "INTEGER -128");
    CHECK(int_of("02 01 ff", &v) && v == -1, "INTEGER -1");
    CHECK(int_of("02 02 ff7f", &v) && v == -129, "INTEGER -129");
    CHECK(int_of("02 08 7fffffffffffffff", &v) && v == INT64_MAX, "INTEGER INT64_MAX");
    CHECK(int_of("02 08 8000000000000000", &v) && v == INT64_MIN, "INTEGER INT64_MIN");
    CHECK(!int_of("02 09 008000000000000000", &v), "INTEGER 2^63 does not fit");
    CHECK(!int_of("02 00", &v), "empty INTEGER rejected");
    CHECK(!int_of("02 02 0001", &v), "INTEGER with a redundant 00 rejected");
    CHECK(!int_of("02 02 007f", &v), "INTEGER 00 7f rejected");
    CHECK(!int_of("02 02 ffff", &v), "INTEGER with a redundant ff rejected");
    CHECK(!int_of("02 02 ff80", &v), "INTEGER ff 80 rejected");
    CHECK(!int_of("0a 01 01", &v), "ENUMERATED is not INTEGER");
    cursor c = hexcur("02 02 0001");
    CHECK(!der_get_int64(&c, &v) && cur_left(&c) == 4, "failed INTEGER consumes nothing");
}

static void test_bool_bits_oid(void) {
    cursor c, bits;
    bool b;
    c = hexcur("01 01 ff");
    CHECK(der_get_bool(&c, &b) && b && cur_empty(&c), "BOOLEAN TRUE");
    c = hexcur("01 01 00");
    CHECK(der_get_bool(&c, &b) && !b, "BOOLEAN FALSE");
    c = hexcur("01 01 01");
    CHECK(!der_get_bool(&c, &b) && cur_left(&c) == 3, "BOOLEAN 0x01 rejected");
    c = hexcur("01 02 ffff");
    CHECK(!der_get_bool(&c, &b), "two-byte BOOLEAN rejected");
    c = hexcur("01 00");
    CHECK(!der_get_bool(&c, &b), "empty BOOLEAN rejected");

    c = hexcur("03 03 00 abcd");
    CHECK(der_get_bitstring_bytes(&c, &bits) && bits.len == 2 && bits.data[0] == 0xab,
          "BIT STRING");
    c = hexcur("03 01 00");
    CHECK(der_get_bitstring_bytes(&c, &bits) && bits.len == 0, "empty BIT STRING");
    c = hexcur("03 02 01 fe");
    CHECK(!der_get_bitstring_bytes(&c, &bits) && cur_left(&c) == 4,
          "BIT STRING with unused bits rejected");
    c = hexcur("03 00");
    CHECK(!der_get_bitstring_bytes(&c, &bits), "BIT STRING without the unused-bits octet");

    static const uint8_t sha256_rsa[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
    cursor oid;
    c = hexcur("06 09 2a864886f70d01010b");
    CHECK(der_get(&c, DER_OID, &oid) && der_oid_equal(&oid, sha256_rsa, sizeof sha256_rsa),
          "OID equal");
    CHECK(!der_oid_equal(&oid, sha256_rsa, sizeof sha256_rsa - 1), "OID prefix is not equal");
    c = hexcur("06 09 2a864886f70d01010c");
    CHECK(der_get(&c, DER_OID, &oid) && !der_oid_equal(&oid, sha256_rsa, sizeof sha256_rsa),
          "OID last byte differs");
}

/* Builds a time element from text. */
static cursor time_el(uint8_t tag, const char *s) {
    cursor c;
    size_t n = strlen(s);
    buf[0] = tag;
    buf[1] = (uint8_t)n;
    memcpy(buf + 2, s, n);
    cur_init(&c, buf, n + 2);
    return c;
}

static bool utc(const char *s, int64_t *t) {
    cursor c = time_el(DER_UTC_TIME, s);
    return der_get_time(&c, t) && cur_empty(&c);
}

static bool gen(const char *s, int64_t *t) {
    cursor c = time_el(DER_GENERALIZED_TIME, s);
    return der_get_time(&c, t) && cur_empty(&c);
}

static void test_times(void) {
    int64_t t;
    CHECK(utc("700101000000Z", &t) && t == 0, "UTCTime epoch");
    CHECK(gen("19700101000000Z", &t) && t == 0, "GeneralizedTime epoch");
    CHECK(utc("691231235959Z", &t) && t == -1, "UTCTime 1969-12-31T23:59:59 = -1");
    CHECK(utc("500101000000Z", &t) && t == -631152000, "UTCTime 50 is 1950");
    CHECK(utc("491231235959Z", &t) && t == 2524607999, "UTCTime 49 is 2049");
    CHECK(gen("20500101000000Z", &t) && t == 2524608000, "GeneralizedTime 2050");
    CHECK(utc("000229000000Z", &t) && t == 951782400, "2000-02-29 (leap, /400)");
    CHECK(!gen("21000229000000Z", &t), "2100-02-29 rejected (not leap, /100)");
    CHECK(gen("24000229120000Z", &t) && t == 13574606400, "2400-02-29 (leap)");
    CHECK(utc("240229120000Z", &t) && t == 1709208000, "2024-02-29 12:00");
    CHECK(!utc("230229000000Z", &t), "2023-02-29 rejected");
    CHECK(utc("230228235959Z", &t) && t == 1677628799, "2023-02-28 23:59:59");
    CHECK(utc("380119031408Z", &t) && t == 2147483648, "2038-01-19T03:14:08 (past 2^31-1)");
    CHECK(gen("99991231235959Z", &t) && t == 253402300799, "9999-12-31T23:59:59");
    CHECK(gen("00000101000000Z", &t) && t == -62167219200, "0000-01-01");
    CHECK(utc("991231235959Z", &t) && t == 946684799, "1999-12-31T23:59:59");
    CHECK(gen("20261123163919Z", &t) && t == 1795451959, "2026-11-23T16:39:19");

    CHECK(!utc("700101000000", &t), "UTCTime without Z");
    CHECK(!utc("7001010000Z", &t), "UTCTime without seconds");
    CHECK(!utc("700101000000+0000", &t), "UTCTime with an offset");
    CHECK(!utc("700101000000z", &t), "lowercase z");
    CHECK(!utc("701301000000Z", &t), "month 13");
    CHECK(!utc("700001000000Z", &t), "month 0");
    CHECK(!utc("700100000000Z", &t), "day 0");
    CHECK(!utc("700132000000Z", &t), "January 32");
    CHECK(!utc("700431000000Z", &t), "April 31");
    CHECK(utc("700430000000Z", &t), "April 30");
    CHECK(!utc("700101240000Z", &t), "hour 24");
    CHECK(!utc("700101006000Z", &t), "minute 60");
    CHECK(!utc("700101000060Z", &t), "second 60");
    CHECK(!utc("7001010000 0Z", &t), "space in digits");
    CHECK(!utc("70010100000aZ", &t), "letter in digits");
    CHECK(!utc("-70101000000Z", &t), "sign in digits");
    CHECK(!gen("19700101000000.5Z", &t), "fractional seconds");
    CHECK(!gen("197001010000Z", &t), "GeneralizedTime without seconds");
    CHECK(!gen("700101000000Z", &t), "GeneralizedTime with a 2-digit year");
    CHECK(!utc("19700101000000Z", &t), "UTCTime with a 4-digit year");
    cursor c = time_el(DER_PRINTABLE_STRING, "700101000000Z");
    CHECK(!der_get_time(&c, &t) && cur_left(&c) == 15, "wrong tag fails, unconsumed");
    c = time_el(DER_UTC_TIME, "700101000000Z");
    c.len--;
    CHECK(!der_get_time(&c, &t), "truncated time element");
}

int main(void) {
    test_lengths();
    test_integers();
    test_bool_bits_oid();
    test_times();
    TEST_EXIT();
}
