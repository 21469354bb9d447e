/* DER builder: known-answer encodings (length boundaries, INTEGER sign
 * padding, OIDs, named bits, times) and round trips through the strict DER
 * reader. */
#include "testlib.h"

#include "wire/der.h"
#include "wire/der_build.h"

static uint8_t big[70000];

/* Builds OCTET STRING of n bytes, checks the header and the reader. */
static void check_length(size_t n, const char *hdr_hex) {
    builder b;
    bld_init_alloc(&b, 16);
    memset(big, 0xab, n);
    der_put_octet_string(&b, big, n);
    uint8_t want[8];
    size_t wl = test_unhex(hdr_hex, want, sizeof want);
    CHECK(bld_ok(&b) && b.len == wl + n && memcmp(b.buf, want, wl) == 0,
          "OCTET STRING of %zu bytes has header %s", n, hdr_hex);
    cursor c, body;
    cur_init(&c, b.buf, b.len);
    CHECK(der_get(&c, DER_OCTET_STRING, &body) && body.len == n && cur_empty(&c),
          "reader takes back the %zu-byte OCTET STRING", n);
    bld_free(&b);

    /* The same contents through der_open/der_close (the move path). */
    bld_init_alloc(&b, 16);
    der_open(&b, DER_SEQUENCE);
    bld_bytes(&b, big, n);
    der_close(&b);
    want[0] = 0x30;
    CHECK(bld_ok(&b) && b.len == wl + n && memcmp(b.buf, want, wl) == 0 &&
              memcmp(b.buf + wl, big, n) == 0,
          "SEQUENCE of %zu content bytes via open/close has header 30%s", n, hdr_hex + 2);
    bld_free(&b);
}

static void check_integer(const char *mag_hex, const char *want_hex) {
    uint8_t mag[32];
    size_t n = test_unhex(mag_hex, mag, sizeof mag);
    uint8_t buf[64];
    builder b;
    bld_init_fixed(&b, buf, sizeof buf);
    der_put_integer(&b, mag, n);
    CHECK(bld_ok(&b), "INTEGER from '%s' builds", mag_hex);
    CHECK_HEX(b.buf, b.len, want_hex, "INTEGER from '%s' is %s", mag_hex, want_hex);
}

static void check_time(int64_t t, const char *want_hex, const char *what) {
    uint8_t buf[32];
    builder b;
    bld_init_fixed(&b, buf, sizeof buf);
    der_put_time(&b, t);
    CHECK(bld_ok(&b), "time %s builds", what);
    CHECK_HEX(b.buf, b.len, want_hex, "time %s encodes as expected", what);
    cursor c;
    int64_t back = 0;
    cur_init(&c, b.buf, b.len);
    CHECK(der_get_time(&c, &back) && back == t && cur_empty(&c), "time %s reads back (%lld)", what,
          (long long)back);
}

static void check_oid(const char *dotted, const char *want_hex) {
    uint8_t buf[64];
    builder b;
    bld_init_fixed(&b, buf, sizeof buf);
    der_put_oid_text(&b, dotted);
    CHECK(bld_ok(&b), "OID %s builds", dotted);
    CHECK_HEX(b.buf, b.len, want_hex, "OID %s encodes as %s", dotted, want_hex);
}

static void check_bad_oid(const char *dotted) {
    uint8_t buf[64];
    builder b;
    bld_init_fixed(&b, buf, sizeof buf);
    der_put_oid_text(&b, dotted);
    CHECK(!bld_ok(&b), "OID text '%s' is refused", dotted);
}

static void check_bits(uint32_t bits, const char *want_hex) {
    uint8_t buf[16];
    builder b;
    bld_init_fixed(&b, buf, sizeof buf);
    der_put_named_bits(&b, bits);
    CHECK(bld_ok(&b), "named bits 0x%x build", (unsigned)bits);
    CHECK_HEX(b.buf, b.len, want_hex, "named bits 0x%x encode as %s", (unsigned)bits, want_hex);
}

int main(void) {
    /* Length boundaries. */
    check_length(0, "04 00");
    check_length(127, "04 7f");
    check_length(128, "04 81 80");
    check_length(255, "04 81 ff");
    check_length(256, "04 82 01 00");
    check_length(65535, "04 82 ff ff");
    check_length(65536, "04 83 01 00 00");

    /* Nested long forms: SEQUENCE { SEQUENCE { OCTET STRING(200) } }. */
    {
        builder b;
        bld_init_alloc(&b, 8);
        memset(big, 0x11, 200);
        der_open(&b, DER_SEQUENCE);
        der_open(&b, DER_CONTEXT_CONS(3));
        der_put_octet_string(&b, big, 200);
        der_close(&b);
        der_put_bool(&b, true);
        der_close(&b);
        CHECK(bld_ok(&b), "nested elements build");
        CHECK(b.len == 3 + 3 + 3 + 200 + 3, "nested length %zu", b.len);
        CHECK_HEX(b.buf, 9, "30 81 d1 a3 81 cb 04 81 c8", "nested headers are minimal");
        CHECK_HEX(b.buf + 209, 3, "01 01 ff", "element after a moved one stays in place");
        cursor c, seq, ctx, os;
        bool v = false;
        cur_init(&c, b.buf, b.len);
        CHECK(der_get(&c, DER_SEQUENCE, &seq) && cur_empty(&c) &&
                  der_get(&seq, DER_CONTEXT_CONS(3), &ctx) &&
                  der_get(&ctx, DER_OCTET_STRING, &os) && os.len == 200 && cur_empty(&ctx) &&
                  der_get_bool(&seq, &v) && v && cur_empty(&seq),
              "nested elements read back");
        bld_free(&b);
    }

    /* Depth and pairing errors. */
    {
        uint8_t buf[160];
        builder b;
        bld_init_fixed(&b, buf, sizeof buf);
        der_open(&b, DER_SEQUENCE);
        der_put_null(&b);
        CHECK(!bld_ok(&b), "an open element leaves the builder not ok");
        der_close(&b);
        CHECK(bld_ok(&b), "closing it makes the builder ok");
        CHECK_HEX(b.buf, b.len, "30 02 05 00", "SEQUENCE { NULL }");
        der_close(&b);
        CHECK(!bld_ok(&b), "closing with nothing open fails");

        bld_init_fixed(&b, buf, sizeof buf);
        for (int i = 0; i < BLD_MAX_DEPTH; i++)
            der_open(&b, DER_SEQUENCE);
        for (int i = 0; i < BLD_MAX_DEPTH; i++)
            der_close(&b);
        CHECK(bld_ok(&b), "nesting %d deep works", BLD_MAX_DEPTH);
        bld_init_fixed(&b, buf, sizeof buf);
        for (int i = 0; i <= BLD_MAX_DEPTH; i++)
            der_open(&b, DER_SEQUENCE);
        CHECK(!bld_ok(&b), "nesting %d deep fails", BLD_MAX_DEPTH + 1);

        bld_init_fixed(&b, buf, sizeof buf);
        bld_open(&b, 2);
        der_close(&b);
        CHECK(!bld_ok(&b), "der_close refuses a bld_open vector");
        bld_init_fixed(&b, buf, sizeof buf);
        der_open(&b, DER_SEQUENCE);
        der_put_null(&b);
        bld_close(&b);
        CHECK(!bld_ok(&b), "bld_close refuses a non-empty DER element");

        bld_init_fixed(&b, buf, 10);
        der_open(&b, DER_SEQUENCE);
        bld_zeros(&b, 8);
        der_close(&b);
        CHECK(bld_ok(&b) && b.len == 10, "exactly-fitting fixed buffer works");
        bld_init_fixed(&b, buf, 130);
        der_open(&b, DER_SEQUENCE);
        bld_zeros(&b, 128);
        der_close(&b);
        CHECK(!bld_ok(&b), "no room for the long form in a fixed buffer fails cleanly");
        bld_init_fixed(&b, buf, sizeof buf);
        der_open(&b, 0x1f);
        CHECK(!bld_ok(&b), "high tag number form is refused");
    }

    /* INTEGER: minimal, positive. */
    check_integer("", "02 01 00");
    check_integer("00", "02 01 00");
    check_integer("00 00 00", "02 01 00");
    check_integer("01", "02 01 01");
    check_integer("7f", "02 01 7f");
    check_integer("80", "02 02 00 80");
    check_integer("ff", "02 02 00 ff");
    check_integer("00 00 01 00", "02 02 01 00");
    check_integer("00 80 01", "02 03 00 80 01");
    check_integer("7f ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff",
                  "02 10 7f ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff");
    check_integer("80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01",
                  "02 11 00 80 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01");
    {
        static const uint64_t vals[] = {0, 1, 127, 128, 255, 256, 32767, 32768, 0x7fffffffffffffff};
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            uint8_t buf[16];
            builder b;
            bld_init_fixed(&b, buf, sizeof buf);
            der_put_integer_u64(&b, vals[i]);
            cursor c;
            int64_t back = -1;
            cur_init(&c, b.buf, b.len);
            CHECK(bld_ok(&b) && der_get_int64(&c, &back) && (uint64_t)back == vals[i] &&
                      cur_empty(&c),
                  "INTEGER %llu round-trips through the strict reader",
                  (unsigned long long)vals[i]);
        }
        uint8_t buf[16];
        builder b;
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_integer_u64(&b, 0xffffffffffffffffu);
        CHECK_HEX(b.buf, b.len, "02 09 00 ff ff ff ff ff ff ff ff", "UINT64_MAX gets a 0x00");
        bld_init_fixed(&b, buf, sizeof buf);
        const uint8_t kid[2] = {0x80, 0x01};
        der_put_integer_tagged(&b, DER_CONTEXT(2), kid, 2);
        CHECK_HEX(b.buf, b.len, "82 03 00 80 01", "implicitly tagged INTEGER");
    }

    /* BOOLEAN, NULL, BIT STRING, OCTET STRING. */
    {
        uint8_t buf[64];
        builder b;
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_bool(&b, true);
        der_put_bool(&b, false);
        der_put_null(&b);
        const uint8_t k[3] = {0x04, 0x01, 0x02};
        der_put_bitstring(&b, k, 3);
        der_put_octet_string(&b, k, 3);
        CHECK(bld_ok(&b), "simple types build");
        CHECK_HEX(b.buf, b.len, "01 01 ff 01 01 00 05 00 03 04 00 04 01 02 04 03 04 01 02",
                  "BOOLEAN/NULL/BIT STRING/OCTET STRING encodings");
        cursor c, bits;
        bool t = false, f = true;
        cur_init(&c, b.buf, b.len);
        CHECK(der_get_bool(&c, &t) && t && der_get_bool(&c, &f) && !f, "BOOLEANs read back");
        CHECK(der_get(&c, DER_NULL, &bits) && bits.len == 0, "NULL reads back");
        CHECK(der_get_bitstring_bytes(&c, &bits) && bits.len == 3 && !memcmp(bits.data, k, 3),
              "BIT STRING reads back");
    }

    /* Named bits (keyUsage). */
    check_bits(0, "03 01 00");
    check_bits(1u << 0, "03 02 07 80");           /* digitalSignature */
    check_bits(1u << 0 | 1u << 2, "03 02 05 a0"); /* + keyEncipherment */
    check_bits(1u << 5 | 1u << 6, "03 02 01 06"); /* keyCertSign + cRLSign */
    check_bits(1u << 0 | 1u << 5 | 1u << 6, "03 02 01 86");
    check_bits(1u << 7, "03 02 00 01");
    check_bits(1u << 8, "03 03 07 00 80"); /* decipherOnly */

    /* OIDs. */
    check_oid("2.5.29.17", "06 03 55 1d 11");
    check_oid("1.2.840.113549.1.1.11", "06 09 2a 86 48 86 f7 0d 01 01 0b");
    check_oid("1.2.840.10045.4.3.2", "06 08 2a 86 48 ce 3d 04 03 02");
    check_oid("1.3.6.1.5.5.7.3.1", "06 08 2b 06 01 05 05 07 03 01");
    check_oid("2.999.3", "06 03 88 37 03");
    check_oid("0.0", "06 01 00");
    check_bad_oid("");
    check_bad_oid("1");
    check_bad_oid("3.1");
    check_bad_oid("1.40");
    check_bad_oid("1.2.");
    check_bad_oid("1..2");
    check_bad_oid("1.02");
    check_bad_oid("1.2.a");
    check_bad_oid("1.2.99999999999999999999999");
    {
        uint8_t buf[16];
        builder b;
        bld_init_fixed(&b, buf, sizeof buf);
        const uint8_t bad[2] = {0x80, 0x01};
        der_put_oid(&b, bad, 2);
        CHECK(!bld_ok(&b), "OID contents with a 0x80 lead byte are refused");
        bld_init_fixed(&b, buf, sizeof buf);
        const uint8_t open_arc[2] = {0x55, 0x81};
        der_put_oid(&b, open_arc, 2);
        CHECK(!bld_ok(&b), "OID contents ending inside an arc are refused");
    }

    /* Strings. */
    {
        uint8_t buf[64];
        builder b;
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_printable_string(&b, "US", 2);
        der_put_utf8_string(&b, "\xc3\xa9", 2);
        der_put_ia5_tagged(&b, DER_CONTEXT(2), "a.b", 3);
        CHECK(bld_ok(&b), "strings build");
        CHECK_HEX(b.buf, b.len, "13 02 55 53 0c 02 c3 a9 82 03 61 2e 62", "string encodings");
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_printable_string(&b, "a*b", 3);
        CHECK(!bld_ok(&b), "PrintableString refuses '*'");
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_ia5_string(&b, "\xc3\xa9", 2);
        CHECK(!bld_ok(&b), "IA5String refuses 8-bit bytes");
        static const char *bad_utf8[] = {"\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82",
                                         "\x80"};
        for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
            bld_init_fixed(&b, buf, sizeof buf);
            der_put_utf8_string(&b, bad_utf8[i], strlen(bad_utf8[i]));
            CHECK(!bld_ok(&b), "UTF8String refuses malformed sequence %zu", i);
        }
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_utf8_string(&b, "a\0b", 3);
        CHECK(!bld_ok(&b), "UTF8String refuses NUL");
        CHECK(der_is_utf8("\xf0\x9f\x94\x92", 4), "4-byte UTF-8 accepted");
    }

    /* Times: UTCTime for 1950-2049, GeneralizedTime otherwise. */
    check_time(0, "17 0d 37 30 30 31 30 31 30 30 30 30 30 30 5a", "1970-01-01 (UTCTime)");
    check_time(-631152000, "17 0d 35 30 30 31 30 31 30 30 30 30 30 30 5a", "1950-01-01 (UTCTime)");
    check_time(-631152001, "18 0f 31 39 34 39 31 32 33 31 32 33 35 39 35 39 5a",
               "1949-12-31T23:59:59 (GeneralizedTime)");
    check_time(2524607999, "17 0d 34 39 31 32 33 31 32 33 35 39 35 39 5a",
               "2049-12-31T23:59:59 (UTCTime)");
    check_time(2524608000, "18 0f 32 30 35 30 30 31 30 31 30 30 30 30 30 30 5a",
               "2050-01-01 (GeneralizedTime)");
    check_time(951782400, "17 0d 30 30 30 32 32 39 30 30 30 30 30 30 5a", "2000-02-29 (leap)");
    check_time(253402300799, "18 0f 39 39 39 39 31 32 33 31 32 33 35 39 35 39 5a",
               "9999-12-31T23:59:59");
    {
        uint8_t buf[32];
        builder b;
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_time(&b, 253402300800);
        CHECK(!bld_ok(&b), "year 10000 is refused");
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_utc_time(&b, 2524608000);
        CHECK(!bld_ok(&b), "UTCTime refuses 2050");
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_generalized_time(&b, 1700000000);
        CHECK_HEX(b.buf, b.len, "18 0f 32 30 32 33 31 31 31 34 32 32 31 33 32 30 5a",
                  "explicit GeneralizedTime 2023-11-14T22:13:20Z");
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_time(&b, INT64_MIN);
        CHECK(!bld_ok(&b), "INT64_MIN is refused without overflow");
        /* Round trip of many times across the range. */
        int bad = 0;
        for (int64_t t = -62167219200; t < 253402300799; t += 86400 * 997 + 3607) {
            bld_init_fixed(&b, buf, sizeof buf);
            der_put_time(&b, t);
            cursor c;
            int64_t back = 0;
            cur_init(&c, b.buf, b.len);
            if (!bld_ok(&b) || !der_get_time(&c, &back) || back != t) bad++;
        }
        CHECK(bad == 0, "times from year 0 to 9999 round-trip (%d failed)", bad);
    }

    /* A fixed builder's overflow is a clean failure. */
    {
        uint8_t buf[4];
        builder b;
        bld_init_fixed(&b, buf, sizeof buf);
        der_put_octet_string(&b, big, 10);
        CHECK(!bld_ok(&b), "overflowing a fixed buffer fails");
    }
    TEST_EXIT();
}
