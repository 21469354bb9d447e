/* Peer names and name constraints: RFC 6125 wildcards, IP literals,
 * SPIFFE ID syntax, DNS / IP / email / URI subtree matching, and the
 * extension helpers that feed them. */
#include "testlib.h"
#include "x509/extensions.h"
#include "x509/names.h"

#define S(x) (const uint8_t *)(x), strlen(x)

static void test_dns_syntax(void) {
    CHECK(dns_name_valid(S("example.com"), false), "plain host name valid");
    CHECK(dns_name_valid(S("a-b.c9.example"), false), "hyphens and digits valid");
    CHECK(dns_name_valid(S("localhost"), false), "single label valid as a reference name");
    CHECK(!dns_name_valid(S("foo_bar.example.com"), false), "underscore refused");
    CHECK(!dns_name_valid(S("-a.example.com"), false), "leading hyphen refused");
    CHECK(!dns_name_valid(S("a-.example.com"), false), "trailing hyphen refused");
    CHECK(!dns_name_valid(S("a..example.com"), false), "empty label refused");
    CHECK(!dns_name_valid(S("example.com."), false), "trailing dot refused");
    CHECK(!dns_name_valid(S(".example.com"), false), "leading dot refused");
    CHECK(!dns_name_valid(S(""), false), "empty refused");
    CHECK(!dns_name_valid(S("*.example.com"), false), "wildcard refused when not allowed");
    char big[300];
    memset(big, 'a', sizeof big);
    big[299] = '\0';
    CHECK(!dns_name_valid(S(big), false), "over-long name refused");
    memset(big, 'a', 64);
    memcpy(big + 64, ".com", 5);
    CHECK(!dns_name_valid(S(big), false), "64-byte label refused");
    CHECK(dns_name_valid(S("*.example.com"), true), "left-most wildcard valid");
    CHECK(!dns_name_valid(S("*.com"), true), "wildcard with one label after it refused");
    CHECK(!dns_name_valid(S("*"), true), "bare wildcard refused");
    CHECK(!dns_name_valid(S("f*o.example.com"), true), "partial-label wildcard refused");
    CHECK(!dns_name_valid(S("foo.*.example.com"), true), "wildcard not left-most refused");
    CHECK(!dns_name_valid(S("**.example.com"), true), "double star refused");
}

static void test_dns_match(void) {
    CHECK(dns_name_match(S("example.com"), "example.com"), "exact match");
    CHECK(dns_name_match(S("Example.COM"), "example.com"), "case-insensitive (pattern)");
    CHECK(dns_name_match(S("example.com"), "EXAMPLE.com"), "case-insensitive (host)");
    CHECK(!dns_name_match(S("example.com"), "www.example.com"), "no implicit subdomains");
    CHECK(!dns_name_match(S("www.example.com"), "example.com"), "no implicit parent");
    CHECK(dns_name_match(S("*.example.com"), "foo.example.com"), "wildcard matches one label");
    CHECK(dns_name_match(S("*.example.com"), "FOO.Example.Com"), "wildcard case-insensitive");
    CHECK(!dns_name_match(S("*.example.com"), "example.com"), "wildcard needs a label");
    CHECK(!dns_name_match(S("*.example.com"), "a.b.example.com"), "wildcard never spans labels");
    CHECK(!dns_name_match(S("f*o.example.com"), "foo.example.com"),
          "partial wildcard never matches");
    CHECK(!dns_name_match(S("*.com"), "example.com"), "wildcard over a TLD never matches");
    CHECK(!dns_name_match(S("*.example.com"), "*.example.com"),
          "a wildcard reference never matches");
    CHECK(!dns_name_match(S("foo_bar.example.com"), "foo_bar.example.com"),
          "invalid names never match");
    CHECK(!dns_name_match((const uint8_t *)"example.com\0x", 13, "example.com"),
          "embedded NUL never matches");
}

static void test_ip(void) {
    uint8_t a[16];
    CHECK(ip_parse("192.0.2.1", a) == 4 && a[0] == 192 && a[3] == 1, "IPv4 dotted quad");
    CHECK(ip_parse("0.0.0.0", a) == 4, "IPv4 zeros");
    CHECK(ip_parse("255.255.255.255", a) == 4, "IPv4 max");
    CHECK(ip_parse("256.0.0.1", a) == 0, "IPv4 octet > 255 refused");
    CHECK(ip_parse("192.168.001.001", a) == 0, "IPv4 leading zeros refused");
    CHECK(ip_parse("0xC0A80101", a) == 0, "IPv4 hex refused");
    CHECK(ip_parse("1.2.3", a) == 0, "IPv4 three parts refused");
    CHECK(ip_parse("1.2.3.4.5", a) == 0, "IPv4 five parts refused");
    CHECK(ip_parse("1.2.3.4 ", a) == 0, "IPv4 trailing space refused");
    CHECK(ip_parse("example.com", a) == 0, "a host name is not an address");
    CHECK(ip_parse("::1", a) == 16 && a[15] == 1 && a[0] == 0, "IPv6 loopback");
    CHECK(ip_parse("2001:db8::8a2e:370:7334", a) == 16 && a[0] == 0x20 && a[1] == 0x01,
          "IPv6 compressed");
    CHECK(ip_parse("2001:DB8::1", a) == 16, "IPv6 upper case accepted as a reference");
    CHECK(ip_parse("::ffff:192.0.2.1", a) == 16 && a[10] == 0xff && a[12] == 192,
          "IPv4-mapped IPv6");
    CHECK(ip_parse("2001:db8:::1", a) == 0, "IPv6 triple colon refused");
    CHECK(ip_parse("[::1]", a) == 0, "bracketed IPv6 refused");
    CHECK(ip_parse("fe80::1%eth0", a) == 0, "IPv6 zone refused");
}

static void test_spiffe(void) {
    CHECK(spiffe_id_valid(S("spiffe://example.org/service/web")), "SPIFFE ID valid");
    CHECK(spiffe_id_valid(S("spiffe://example.org")), "trust domain only valid");
    CHECK(spiffe_id_valid(S("spiffe://a-b_c.9/x.y-z_W")), "allowed characters");
    CHECK(!spiffe_id_valid(S("spiffe://Example.org/x")), "upper-case trust domain refused");
    CHECK(!spiffe_id_valid(S("SPIFFE://example.org/x")), "upper-case scheme refused");
    CHECK(!spiffe_id_valid(S("https://example.org/x")), "other scheme refused");
    CHECK(!spiffe_id_valid(S("spiffe:///x")), "empty trust domain refused");
    CHECK(!spiffe_id_valid(S("spiffe://example.org/")), "trailing slash refused");
    CHECK(!spiffe_id_valid(S("spiffe://example.org//x")), "empty segment refused");
    CHECK(!spiffe_id_valid(S("spiffe://example.org/./x")), "dot segment refused");
    CHECK(!spiffe_id_valid(S("spiffe://example.org/x/..")), "dot-dot segment refused");
    CHECK(!spiffe_id_valid(S("spiffe://example.org:8443/x")), "port refused");
    CHECK(!spiffe_id_valid(S("spiffe://user@example.org/x")), "userinfo refused");
    CHECK(!spiffe_id_valid(S("spiffe://example.org/x?q=1")), "query refused");
    CHECK(!spiffe_id_valid(S("spiffe://example.org/x#f")), "fragment refused");
    CHECK(!spiffe_id_valid(S("spiffe://example.org/x%20y")), "percent-encoding refused");
    CHECK(!spiffe_id_valid(S("spiffe://")), "scheme only refused");
}

static void test_nc_dns(void) {
    CHECK(nc_dns_constraint_valid(S("example.com")), "DNS constraint valid");
    CHECK(nc_dns_constraint_valid(S("")), "empty DNS constraint (everything) valid");
    CHECK(!nc_dns_constraint_valid(S(".example.com")), "leading-period DNS constraint refused");
    CHECK(!nc_dns_constraint_valid(S("*.example.com")), "wildcard DNS constraint refused");
    CHECK(nc_dns_permits(S("example.com"), S("example.com")), "constraint covers itself");
    CHECK(nc_dns_permits(S("a.b.example.com"), S("example.com")), "and its subdomains");
    CHECK(nc_dns_permits(S("A.EXAMPLE.com"), S("example.COM")), "case-insensitively");
    CHECK(!nc_dns_permits(S("badexample.com"), S("example.com")), "label boundary respected");
    CHECK(!nc_dns_permits(S("example.com"), S("a.example.com")), "parent not covered");
    CHECK(nc_dns_permits(S("anything.test"), S("")), "empty constraint covers all");
    CHECK(nc_dns_permits(S("*.foo.com"), S("foo.com")), "wildcard under the constraint permitted");
    CHECK(!nc_dns_permits(S("*.example.com"), S("foo.example.com")),
          "wildcard wider than the constraint not permitted");
    CHECK(nc_dns_excludes(S("*.example.com"), S("bar.example.com")),
          "wildcard that can name an excluded host is excluded");
    CHECK(nc_dns_excludes(S("*.example.com"), S("example.com")),
          "wildcard inside an excluded subtree is excluded");
    CHECK(!nc_dns_excludes(S("*.example.com"), S("a.bar.example.com")),
          "wildcard cannot name two labels");
    CHECK(!nc_dns_excludes(S("foo.example.com"), S("bar.example.com")),
          "unrelated host not excluded");
}

static void test_nc_ip(void) {
    const uint8_t c4[8] = {192, 0, 2, 0, 255, 255, 255, 0};
    const uint8_t in4[4] = {192, 0, 2, 77}, out4[4] = {192, 0, 3, 1};
    CHECK(nc_ip_constraint_valid(c4, 8), "IPv4 /24 constraint valid");
    CHECK(nc_ip_match(in4, 4, c4, 8), "address inside /24");
    CHECK(!nc_ip_match(out4, 4, c4, 8), "address outside /24");
    const uint8_t bad[8] = {192, 0, 2, 0, 255, 0, 255, 0};
    CHECK(!nc_ip_constraint_valid(bad, 8), "non-contiguous mask refused");
    CHECK(!nc_ip_constraint_valid(c4, 4), "constraint without mask refused");
    uint8_t c6[32] = {0}, a6[16] = {0};
    c6[0] = 0x20, c6[1] = 0x01, c6[2] = 0x0d, c6[3] = 0xb8;
    memset(c6 + 16, 0xff, 4); /* /32 */
    memcpy(a6, c6, 4);
    a6[15] = 1;
    CHECK(nc_ip_constraint_valid(c6, 32), "IPv6 /32 constraint valid");
    CHECK(nc_ip_match(a6, 16, c6, 32), "IPv6 address inside /32");
    CHECK(!nc_ip_match(in4, 4, c6, 32), "IPv4 address never matches an IPv6 range");
    a6[3] = 0xb9;
    CHECK(!nc_ip_match(a6, 16, c6, 32), "IPv6 address outside /32");
}

static void test_nc_email_uri(void) {
    CHECK(nc_email_valid(S("user@example.com")), "mailbox valid");
    CHECK(!nc_email_valid(S("invalid@address@example.com")), "two @ refused");
    CHECK(!nc_email_valid(S("@example.com")), "empty local part refused");
    CHECK(nc_email_match(S("user@example.com"), S("user@example.com")), "mailbox constraint exact");
    CHECK(!nc_email_match(S("other@example.com"), S("user@example.com")), "other mailbox no");
    CHECK(nc_email_match(S("user@EXAMPLE.com"), S("example.com")), "host constraint, any mailbox");
    CHECK(!nc_email_match(S("user@sub.example.com"), S("example.com")),
          "host constraint no subdomain");
    CHECK(nc_email_match(S("user@sub.example.com"), S(".example.com")),
          "domain constraint subdomain");
    CHECK(!nc_email_match(S("user@example.com"), S(".example.com")),
          "domain constraint not the host");
    CHECK(nc_email_match(S("*@example.com"), S("*@example.com")), "literal asterisk local part");
    CHECK(!nc_email_match(S("user@example.com"), S("*@example.com")), "asterisk is not a wildcard");
    CHECK(nc_uri_match(S("spiffe://example.org/x"), S("example.org")), "URI host exact");
    CHECK(nc_uri_match(S("https://a.example.org:8443/p"), S(".example.org")), "URI subdomain");
    CHECK(!nc_uri_match(S("https://example.org/p"), S(".example.org")),
          "URI domain constraint not host");
    CHECK(!nc_uri_match(S("urn:uuid:1234"), S("example.org")), "URI without host never matches");
}

static void test_general_names(void) {
    /* SEQUENCE contents: dNSName "a.com", iPAddress 127.0.0.1, URI "spiffe://t/x" */
    static const uint8_t names[] = {0x82, 5,   'a', '.', 'c',  'o', 'm', 0x87, 4,
                                    127,  0,   0,   1,   0x86, 12,  's', 'p',  'i',
                                    'f',  'f', 'e', ':', '/',  '/', 't', '/',  'x'};
    cursor c, v;
    uint8_t tag;
    cur_init(&c, names, sizeof names);
    CHECK(x509_next_general_name(&c, &tag, &v) && tag == GN_DNS && v.len == 5, "dNSName read");
    CHECK(x509_next_general_name(&c, &tag, &v) && tag == GN_IP && v.len == 4, "iPAddress read");
    CHECK(x509_next_general_name(&c, &tag, &v) && tag == GN_URI && v.len == 12, "URI read");
    CHECK(cur_empty(&c) && !x509_next_general_name(&c, &tag, &v), "end of names");
    static const uint8_t bad_tag[] = {0x89, 1, 0};
    cur_init(&c, bad_tag, sizeof bad_tag);
    CHECK(!x509_next_general_name(&c, &tag, &v), "unknown GeneralName tag refused");
    static const uint8_t non_ascii[] = {0x82, 2, 0xc3, 0xa9};
    cur_init(&c, non_ascii, sizeof non_ascii);
    CHECK(!x509_next_general_name(&c, &tag, &v), "non-IA5 dNSName refused");
}

int main(void) {
    test_dns_syntax();
    test_dns_match();
    test_ip();
    test_spiffe();
    test_nc_dns();
    test_nc_ip();
    test_nc_email_uri();
    test_general_names();
    TEST_EXIT();
}
