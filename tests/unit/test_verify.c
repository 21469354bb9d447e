/* certa_verify_chain: one case per explanation, on chains made here with
 * libcrypto (tests/unit/lib_chain.c): root -> intermediate -> leaf, ECDSA
 * P-256. Each failing case checks the code, and that the text names the
 * right certificate (by subject CN) and the check that failed. */
#include <stdarg.h>
#include <strings.h>
#include <time.h>

#include "certa.h"
#include "lib_chain.h"
#include "testlib.h"

static int64_t T; /* validation time for every case */

/* Case-insensitive substring. */
static bool has(const char *text, const char *needle) {
    size_t n = strlen(needle);
    for (const char *p = text; *p; p++)
        if (strncasecmp(p, needle, n) == 0) return true;
    return n == 0;
}

static certa_trust *trust_of(const test_cert *root) {
    certa_trust *t = certa_trust_new();
    if (t && certa_trust_add_pem(t, root->pem, strlen(root->pem)) != CERTA_OK) {
        printf("# trust: %s\n", certa_trust_error_text(t));
        certa_trust_free(t);
        return NULL;
    }
    return t;
}

static certa_verify_params params_host(const char *host) {
    return (certa_verify_params){.purpose = CERTA_PURPOSE_SERVER, .dns_name = host, .time = T};
}

/* Verifies certs[0..n) (leaf first). */
static int run(const certa_trust *trust, const test_cert *const *certs, size_t n,
               const certa_verify_params *p, certa_verify_result *res) {
    const uint8_t *ders[8];
    size_t lens[8];
    for (size_t i = 0; i < n && i < 8; i++) {
        ders[i] = certs[i]->der;
        lens[i] = certs[i]->der_len;
    }
    memset(res, 0xA5, sizeof *res); /* the validator must set everything it reports */
    int rc = certa_verify_chain(trust, ders, lens, n, p, res);
    if (rc != res->code) printf("# return %d but result.code %d\n", rc, res->code);
    return rc == res->code ? rc : -1;
}

/* Checks the code, then that the text holds each needle (NULL-terminated).
 * Returns whether everything matched. */
static bool expect(const char *what, int rc, const certa_verify_result *res, int code, ...) {
    if (rc != code) {
        CHECK(0, "%s: want %s, got %s: %.300s", what, certa_error_name(code),
              rc >= 0 ? certa_error_name(rc) : "inconsistent result", rc >= 0 ? res->text : "");
        return false;
    }
    CHECK(1, "%s: %s", what, certa_error_name(code));
    bool all = true;
    va_list ap;
    va_start(ap, code);
    const char *needle;
    while ((needle = va_arg(ap, const char *)) != NULL) {
        bool h = has(res->text, needle);
        all = all && h;
        CHECK(h, "%s: text mentions \"%s\" (text: %s)", what, needle, res->text);
    }
    va_end(ap);
    return all;
}

static void test_valid(void) {
    test_chain c;
    if (chain_make(&c, NULL, NULL, NULL)) {
        CHECK(0, "valid: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 2, &p, &r);
    expect("valid chain", rc, &r, CERTA_OK, NULL);
    CHECK(rc == CERTA_OK && r.path_len == 3, "valid chain: path_len 3 (got %zu)", r.path_len);
    if (rc == CERTA_OK && r.path_len == 3) {
        CHECK(!strcmp(r.path_subject[0], c.leaf.subject), "valid: path[0] is the leaf (%s)",
              r.path_subject[0]);
        CHECK(!strcmp(r.path_subject[1], c.inter.subject),
              "valid: path[1] is the intermediate (%s)", r.path_subject[1]);
        CHECK(!strcmp(r.path_subject[2], c.root.subject), "valid: path[2] is the root (%s)",
              r.path_subject[2]);
        CHECK(r.path_index[0] == 0 && r.path_index[1] == 1 && r.path_index[2] == SIZE_MAX,
              "valid: path_index 0, 1, anchor (got %zu %zu %zu)", r.path_index[0], r.path_index[1],
              r.path_index[2]);
    }
    /* time 0 means now: same answer */
    p.time = 0;
    rc = run(t, certs, 2, &p, &r);
    expect("valid chain at time 0 (now)", rc, &r, CERTA_OK, NULL);
    /* no name at all: path only */
    p = (certa_verify_params){.purpose = CERTA_PURPOSE_SERVER, .time = T};
    rc = run(t, certs, 2, &p, &r);
    expect("valid chain without a name to check", rc, &r, CERTA_OK, NULL);
    /* the anchor may also be sent: still a three-certificate path */
    const test_cert *with_root[] = {&c.leaf, &c.inter, &c.root};
    p = params_host("leaf.example.com");
    rc = run(t, with_root, 3, &p, &r);
    expect("valid chain with the root sent too", rc, &r, CERTA_OK, NULL);
    CHECK(rc != CERTA_OK || r.path_len == 3, "root sent too: path_len 3 (got %zu)", r.path_len);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_expired_leaf(void) {
    chain_opts l = chain_leaf_opts("leaf.example.com", "DNS:leaf.example.com");
    l.not_before = T - 60 * 86400;
    l.not_after = T - 10 * 86400 - 3600;
    test_chain c;
    if (chain_make(&c, NULL, NULL, &l)) {
        CHECK(0, "expired: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 2, &p, &r);
    if (expect("expired leaf", rc, &r, CERTA_E_CERT_EXPIRED, "leaf.example.com", "expired",
               "10 days ago", NULL))
        CHECK(!has(r.text, "Intermediate"), "expired leaf: text does not blame the intermediate");
    certa_trust_free(t);
    chain_free(&c);
}

static void test_not_yet_valid_intermediate(void) {
    chain_opts i = chain_ca_opts("Test Intermediate CA");
    i.not_before = T + 5 * 86400 + 3600;
    i.not_after = T + 400 * 86400;
    test_chain c;
    if (chain_make(&c, NULL, &i, NULL)) {
        CHECK(0, "not yet valid: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 2, &p, &r);
    expect("not-yet-valid intermediate", rc, &r, CERTA_E_CERT_NOT_YET_VALID, "Test Intermediate CA",
           "not valid until", "(in 5 days)", NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_missing_intermediate(void) {
    test_chain c;
    if (chain_make(&c, NULL, NULL, NULL)) {
        CHECK(0, "missing intermediate: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 1, &p, &r);
    /* names the leaf and the likely cause */
    expect("missing intermediate", rc, &r, CERTA_E_CERT_UNKNOWN_ISSUER, "leaf.example.com",
           "intermediate", "probably not", NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_wrong_host(void) {
    test_chain c;
    if (chain_make(&c, NULL, NULL, NULL)) {
        CHECK(0, "wrong host: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("other.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 2, &p, &r);
    expect("wrong host", rc, &r, CERTA_E_CERT_NAME_MISMATCH, "other.example.com",
           "leaf.example.com", NULL);
    /* DNS names compare case-insensitively */
    p = params_host("LEAF.Example.COM");
    rc = run(t, certs, 2, &p, &r);
    expect("host in other case matches", rc, &r, CERTA_OK, NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_wrong_purpose(void) {
    chain_opts l = chain_leaf_opts("leaf.example.com", "DNS:leaf.example.com");
    l.eku = "clientAuth";
    test_chain c;
    if (chain_make(&c, NULL, NULL, &l)) {
        CHECK(0, "wrong purpose: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 2, &p, &r);
    expect("clientAuth-only leaf checked for server", rc, &r, CERTA_E_CERT_PURPOSE,
           "leaf.example.com", "server", NULL);
    p.purpose = CERTA_PURPOSE_CLIENT;
    p.dns_name = NULL;
    rc = run(t, certs, 2, &p, &r);
    expect("clientAuth-only leaf checked for client", rc, &r, CERTA_OK, NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_self_signed_leaf(void) {
    chain_opts l = chain_leaf_opts("selfie.example.com", "DNS:selfie.example.com");
    l.self_signed = true;
    test_chain c;
    if (chain_make(&c, NULL, NULL, &l)) {
        CHECK(0, "self-signed: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf};
    certa_verify_params p = params_host("selfie.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 1, &p, &r);
    expect("self-signed leaf", rc, &r, CERTA_E_CERT_SELF_SIGNED, "selfie.example.com",
           "self-signed", NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_path_len(void) {
    /* root -> Test Intermediate CA (pathLen 0) -> Test Sub CA -> leaf */
    chain_opts i = chain_ca_opts("Test Intermediate CA");
    i.path_len = 0;
    test_chain c;
    if (chain_make(&c, NULL, &i, NULL)) {
        CHECK(0, "pathLen: make chain");
        return;
    }
    chain_opts so = chain_ca_opts("Test Sub CA");
    chain_opts lo = chain_leaf_opts("leaf.example.com", "DNS:leaf.example.com");
    test_cert sub, leaf;
    if (tc_make(&sub, &so, &c.inter) || tc_make(&leaf, &lo, &sub)) {
        CHECK(0, "pathLen: make sub CA");
        chain_free(&c);
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&leaf, &sub, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 3, &p, &r);
    expect("pathLen exceeded", rc, &r, CERTA_E_CERT_PATH_LENGTH, "Test Intermediate CA", "path",
           NULL);
    certa_trust_free(t);
    tc_free(&sub);
    tc_free(&leaf);
    chain_free(&c);
}

static void test_name_constraints(void) {
    chain_opts i = chain_ca_opts("Test Intermediate CA");
    i.name_constraints = "critical,permitted;DNS:example.org"; /* RFC 5280: no leading period */
    test_chain c;
    if (chain_make(&c, NULL, &i, NULL)) {
        CHECK(0, "name constraints: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 2, &p, &r);
    expect("name-constraint violation", rc, &r, CERTA_E_CERT_NAME_CONSTRAINTS, "leaf.example.com",
           "Test Intermediate CA", NULL);

    /* a leaf inside the permitted subtree passes */
    chain_opts lo = chain_leaf_opts("api.example.org", "DNS:api.example.org");
    test_cert ok_leaf;
    if (tc_make(&ok_leaf, &lo, &c.inter) == 0) {
        const test_cert *certs2[] = {&ok_leaf, &c.inter};
        p = params_host("api.example.org");
        rc = run(t, certs2, 2, &p, &r);
        expect("name inside permitted subtree", rc, &r, CERTA_OK, NULL);
        tc_free(&ok_leaf);
    }
    certa_trust_free(t);
    chain_free(&c);
}

static void test_sha1(void) {
    chain_opts l = chain_leaf_opts("leaf.example.com", "DNS:leaf.example.com");
    l.sha1 = true;
    test_chain c;
    if (chain_make(&c, NULL, NULL, &l)) {
        CHECK(0, "sha1: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 2, &p, &r);
    expect("SHA-1 signature", rc, &r, CERTA_E_CERT_WEAK_ALGORITHM, "leaf.example.com", "SHA-1",
           NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_ip(void) {
    chain_opts l = chain_leaf_opts("10.1.2.3", "IP:10.1.2.3,IP:2001:db8::7");
    test_chain c;
    if (chain_make(&c, NULL, NULL, &l)) {
        CHECK(0, "ip: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = {.purpose = CERTA_PURPOSE_SERVER, .time = T};
    certa_verify_result r;
    p.ip = "10.1.2.3";
    expect("IPv4 SAN match", run(t, certs, 2, &p, &r), &r, CERTA_OK, NULL);
    p.ip = "2001:db8::7";
    expect("IPv6 SAN match", run(t, certs, 2, &p, &r), &r, CERTA_OK, NULL);
    p.ip = "2001:0DB8:0:0:0:0:0:7";
    expect("IPv6 SAN match, other spelling", run(t, certs, 2, &p, &r), &r, CERTA_OK, NULL);
    p.ip = "10.1.2.4";
    expect("IPv4 SAN mismatch", run(t, certs, 2, &p, &r), &r, CERTA_E_CERT_NAME_MISMATCH,
           "10.1.2.4", "10.1.2.3", NULL);
    p.ip = "2001:db8::8";
    expect("IPv6 SAN mismatch", run(t, certs, 2, &p, &r), &r, CERTA_E_CERT_NAME_MISMATCH,
           "2001:db8::8", NULL);
    /* an address given as the host name is matched against the IP SANs */
    p.ip = NULL;
    p.dns_name = "10.1.2.3";
    expect("IP literal as dns_name matches the IP SAN", run(t, certs, 2, &p, &r), &r, CERTA_OK,
           NULL);
    /* ... and never against a DNS SAN spelling the address */
    chain_opts dl = chain_leaf_opts("10.9.9.9", "DNS:10.9.9.9");
    test_cert dleaf;
    if (tc_make(&dleaf, &dl, &c.inter) == 0) {
        const test_cert *dcerts[] = {&dleaf, &c.inter};
        p.dns_name = NULL;
        p.ip = "10.9.9.9";
        int rc = run(t, dcerts, 2, &p, &r);
        CHECK(rc != CERTA_OK, "an address does not match a DNS SAN spelling it (got %s)",
              certa_error_name(rc));
        tc_free(&dleaf);
    }
    certa_trust_free(t);
    chain_free(&c);
}

static void test_spiffe(void) {
    chain_opts l = chain_leaf_opts(NULL, "URI:spiffe://example.org/ns/prod/sa/api"); /* no CN */
    l.eku = "serverAuth,clientAuth";
    test_chain c;
    if (chain_make(&c, NULL, NULL, &l)) {
        CHECK(0, "spiffe: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = {.purpose = CERTA_PURPOSE_CLIENT, .time = T};
    certa_verify_result r;
    p.spiffe_id = "spiffe://example.org/ns/prod/sa/api";
    expect("SPIFFE ID match", run(t, certs, 2, &p, &r), &r, CERTA_OK, NULL);
    p.spiffe_id = "spiffe://example.org/ns/prod/sa/web";
    expect("SPIFFE ID mismatch", run(t, certs, 2, &p, &r), &r, CERTA_E_CERT_NAME_MISMATCH,
           "spiffe://example.org/ns/prod/sa/web", "spiffe://example.org/ns/prod/sa/api", NULL);
    p.spiffe_id = "spiffe://example.net/ns/prod/sa/api";
    expect("SPIFFE ID other trust domain", run(t, certs, 2, &p, &r), &r, CERTA_E_CERT_NAME_MISMATCH,
           "spiffe://example.net/ns/prod/sa/api", NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_wildcard(void) {
    chain_opts l = chain_leaf_opts("*.example.com", "DNS:*.example.com");
    test_chain c;
    if (chain_make(&c, NULL, NULL, &l)) {
        CHECK(0, "wildcard: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("api.example.com");
    certa_verify_result r;
    expect("wildcard match", run(t, certs, 2, &p, &r), &r, CERTA_OK, NULL);
    p.dns_name = "a.b.example.com";
    expect("wildcard covers one label only", run(t, certs, 2, &p, &r), &r,
           CERTA_E_CERT_NAME_MISMATCH, "a.b.example.com", NULL);
    p.dns_name = "example.com";
    expect("wildcard does not cover the bare domain", run(t, certs, 2, &p, &r), &r,
           CERTA_E_CERT_NAME_MISMATCH, NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_cn_fallback(void) {
    chain_opts l = chain_leaf_opts("legacy.example.com", NULL);
    test_chain c;
    if (chain_make(&c, NULL, NULL, &l)) {
        CHECK(0, "cn fallback: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("legacy.example.com");
    certa_verify_result r;
    expect("CN without SAN is not a name by default", run(t, certs, 2, &p, &r), &r,
           CERTA_E_CERT_NAME_MISMATCH, "legacy.example.com", NULL);
    p.cn_fallback = true;
    expect("CN matches with cn_fallback", run(t, certs, 2, &p, &r), &r, CERTA_OK, NULL);
    certa_trust_free(t);
    chain_free(&c);
}

static void test_out_of_order(void) {
    /* root -> inter -> Test Sub CA -> leaf, sent as leaf, inter, sub */
    test_chain c;
    if (chain_make(&c, NULL, NULL, NULL)) {
        CHECK(0, "out of order: make chain");
        return;
    }
    chain_opts so = chain_ca_opts("Test Sub CA");
    chain_opts lo = chain_leaf_opts("leaf.example.com", "DNS:leaf.example.com");
    test_cert sub, leaf;
    if (tc_make(&sub, &so, &c.inter) || tc_make(&leaf, &lo, &sub)) {
        CHECK(0, "out of order: make sub CA");
        chain_free(&c);
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&leaf, &c.inter, &sub};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = run(t, certs, 3, &p, &r);
    expect("intermediates out of order", rc, &r, CERTA_OK, NULL);
    CHECK(rc == CERTA_OK && r.path_len == 4 && r.path_index[0] == 0 && r.path_index[1] == 2 &&
              r.path_index[2] == 1 && r.path_index[3] == SIZE_MAX,
          "out of order: path leaf, sub (#2), inter (#1), anchor (got len %zu: %zu %zu %zu %zu)",
          r.path_len, r.path_index[0], r.path_index[1], r.path_index[2], r.path_index[3]);
    if (rc == CERTA_OK && r.path_len == 4)
        CHECK(!strcmp(r.path_subject[1], sub.subject) && !strcmp(r.path_subject[3], c.root.subject),
              "out of order: path subjects (%s / %s)", r.path_subject[1], r.path_subject[3]);
    /* an unrelated extra certificate does not get in the way */
    test_chain other;
    if (chain_make(&other, NULL, NULL, NULL) == 0) {
        const test_cert *certs2[] = {&leaf, &other.inter, &sub, &other.root, &c.inter};
        rc = run(t, certs2, 5, &p, &r);
        expect("unrelated extra certificates are ignored", rc, &r, CERTA_OK, NULL);
        chain_free(&other);
    }
    certa_trust_free(t);
    tc_free(&sub);
    tc_free(&leaf);
    chain_free(&c);
}

static void test_empty_trust(void) {
    test_chain c;
    if (chain_make(&c, NULL, NULL, NULL)) {
        CHECK(0, "empty trust: make chain");
        return;
    }
    certa_trust *t = certa_trust_new();
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    expect("empty trust", run(t, certs, 2, &p, &r), &r, CERTA_E_TRUST_EMPTY, NULL);
    int rc = run(NULL, certs, 2, &p, &r);
    CHECK(rc == CERTA_E_TRUST_EMPTY || rc == CERTA_E_INVALID_ARGUMENT,
          "NULL trust is refused (got %s)", certa_error_name(rc));
    certa_trust_free(t);
    chain_free(&c);
}

static void test_malformed(void) {
    test_chain c;
    if (chain_make(&c, NULL, NULL, NULL)) {
        CHECK(0, "malformed: make chain");
        return;
    }
    certa_trust *t = trust_of(&c.root);
    uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    const uint8_t *ders[] = {junk, c.inter.der};
    size_t lens[] = {sizeof junk, c.inter.der_len};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result r;
    int rc = certa_verify_chain(t, ders, lens, 2, &p, &r);
    expect("malformed leaf", rc, &r, CERTA_E_CERT_MALFORMED, NULL);
    certa_trust_free(t);
    chain_free(&c);
}

/* Chains whose keys and signatures are P-521, Ed448 and RSA-PSS (with
 * and without parameters), signed by libcrypto: they validate, and a
 * signature altered in any of them fails. */
static void key_types_case(const char *root, const char *inter, const char *leaf) {
    chain_opts r = chain_ca_opts("Test Root CA"), i = chain_ca_opts("Test Intermediate CA");
    chain_opts l = chain_leaf_opts("leaf.example.com", "DNS:leaf.example.com");
    r.key = root;
    i.key = inter;
    l.key = leaf;
    test_chain c;
    if (chain_make(&c, &r, &i, &l)) {
        CHECK(0, "%s -> %s -> %s: make chain", root, inter, leaf);
        return;
    }
    certa_trust *t = trust_of(&c.root);
    const test_cert *certs[] = {&c.leaf, &c.inter};
    certa_verify_params p = params_host("leaf.example.com");
    certa_verify_result res;
    char what[96];
    snprintf(what, sizeof what, "root %s -> intermediate %s -> leaf %s", root, inter, leaf);
    int rc = run(t, certs, 2, &p, &res);
    expect(what, rc, &res, CERTA_OK, NULL);
    CHECK(rc != CERTA_OK || res.path_len == 3, "%s: path_len 3", what);
    /* The last byte of each certificate is in its signature. */
    for (int k = 0; k < 2; k++) {
        test_cert *tc = k == 0 ? &c.leaf : &c.inter;
        tc->der[tc->der_len - 1] ^= 0x01;
        rc = run(t, certs, 2, &p, &res);
        snprintf(what, sizeof what, "%s signature on the %s (%s) altered", k == 0 ? inter : root,
                 k == 0 ? "leaf" : "intermediate", k == 0 ? leaf : inter);
        CHECK(rc != CERTA_OK, "%s: refused (%s)", what, rc >= 0 ? certa_error_name(rc) : "?");
        tc->der[tc->der_len - 1] ^= 0x01;
    }
    certa_trust_free(t);
    chain_free(&c);
}

int main(void) {
    T = (int64_t)time(NULL);
    key_types_case("p521", "ed448", "rsapss");
    key_types_case("rsapss", "rsapss384", "ed448");
    key_types_case("ed448", "p521", "p521");
    key_types_case("rsapss384", "ed25519", "rsapss384");
    test_valid();
    test_expired_leaf();
    test_not_yet_valid_intermediate();
    test_missing_intermediate();
    test_wrong_host();
    test_wrong_purpose();
    test_self_signed_leaf();
    test_path_len();
    test_name_constraints();
    test_sha1();
    test_ip();
    test_spiffe();
    test_wildcard();
    test_cn_fallback();
    test_out_of_order();
    test_empty_trust();
    test_malformed();
    TEST_EXIT();
}
