/* Certificate and CRL issuing (x509/issue.h): build, parse back with our
 * own x509_parse, check with libcrypto (signature, fields, extensions), and
 * the SAN input checks. */
#include "testlib.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto/ca_crypto.h"
#include "wire/der.h"
#include "x509/cert.h"
#include "x509/issue.h"
#include "x509/pem.h"

/* libcrypto's view of a DER certificate. */
static X509 *ossl_cert(const uint8_t *der, size_t len) {
    const unsigned char *p = der;
    X509 *x = d2i_X509(NULL, &p, (long)len);
    if (x && p != der + len) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

static void test_root_and_leaf(keygen_type leaf_type, const char *what) {
    crypto_key *ca_key = key_generate(KEYGEN_P256);
    crypto_key *leaf_key = key_generate(leaf_type);
    CHECK(ca_key && leaf_key, "%s: keys generated", what);
    if (!ca_key || !leaf_key) goto out_keys;

    uint8_t serial[X509_SERIAL_LEN];
    CHECK(x509_random_serial(serial) == 0 && serial[0] != 0 && !(serial[0] & 0x80),
          "%s: random serial is positive with a non-zero first byte", what);
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.subject_o = "certa tests";
    p.subject_cn = "test root";
    p.not_before = 1700000000;
    p.not_after = 1700000000 + 86400 * 365;
    p.is_ca = true;
    p.path_len = 0;
    uint8_t *root_der = NULL, *leaf_der = NULL;
    size_t root_len = 0, leaf_len = 0;
    CHECK(x509_issue(&p, ca_key, ca_key, &root_der, &root_len) == 0, "%s: root issued", what);

    x509_cert root;
    CHECK(root_der && x509_parse(&root, root_der, root_len) == 0, "%s: x509_parse takes the root",
          what);
    if (!root_der) goto out;
    char name[256];
    CHECK(x509_name_to_string(&root.subject, name, sizeof name) == 0 &&
              !strcmp(name, "CN=test root, O=certa tests"),
          "%s: root subject '%s'", what, name);
    CHECK(root.version == 3 && root.not_before == p.not_before && root.not_after == p.not_after &&
              root.issuer.len == root.subject.len &&
              !memcmp(root.issuer.data, root.subject.data, root.subject.len),
          "%s: root version, validity, issuer = subject", what);
    CHECK(root.serial.len == 16 && !memcmp(root.serial.data, serial, 16), "%s: root serial", what);

    uint8_t kid[X509_MAX_KEY_ID];
    size_t kid_len = 0;
    CHECK(x509_cert_key_id(&root, kid, &kid_len) == 0 && kid_len == X509_KEY_ID_LEN,
          "%s: root subject key identifier found", what);

    /* Leaf. */
    uint8_t serial2[X509_SERIAL_LEN];
    x509_random_serial(serial2);
    const char *dns[] = {"api.internal", "*.api.internal"};
    x509_ip ips[2];
    CHECK(x509_parse_ip("10.1.2.3", &ips[0]) && ips[0].len == 4 &&
              x509_parse_ip("fe80::1", &ips[1]) && ips[1].len == 16,
          "%s: IP literals parsed", what);
    const char *uri[] = {"spiffe://example.org/ns/a/sa/b"};
    x509_issue_params l;
    memset(&l, 0, sizeof l);
    l.serial = serial2;
    l.serial_len = sizeof serial2;
    l.issuer = root.subject.data;
    l.issuer_len = root.subject.len;
    l.subject_cn = "api.internal";
    l.not_before = 1700000000;
    l.not_after = 1700000000 + 3600;
    l.path_len = -1;
    l.server_auth = true;
    l.client_auth = true;
    l.dns = dns;
    l.n_dns = 2;
    l.ips = ips;
    l.n_ips = 2;
    l.uris = uri;
    l.n_uris = 1;
    l.issuer_key_id = kid;
    l.issuer_key_id_len = kid_len;
    l.crl_url = "http://ca.example/ca.crl";
    CHECK(x509_issue(&l, leaf_key, ca_key, &leaf_der, &leaf_len) == 0, "%s: leaf issued", what);
    x509_cert leaf;
    CHECK(leaf_der && x509_parse(&leaf, leaf_der, leaf_len) == 0, "%s: x509_parse takes the leaf",
          what);
    if (!leaf_der) goto out;

    /* libcrypto: signatures, purposes, extensions. */
    X509 *xr = ossl_cert(root_der, root_len), *xl = ossl_cert(leaf_der, leaf_len);
    CHECK(xr && xl, "%s: libcrypto parses both", what);
    if (xr && xl) {
        EVP_PKEY *rk = X509_get0_pubkey(xr);
        CHECK(X509_verify(xr, rk) == 1, "%s: root self-signature verifies", what);
        CHECK(X509_verify(xl, rk) == 1, "%s: leaf signature verifies under the root", what);
        CHECK(X509_check_ca(xr) >= 1 && X509_check_ca(xl) == 0, "%s: CA flags", what);
        CHECK(X509_check_purpose(xl, X509_PURPOSE_SSL_SERVER, 0) == 1 &&
                  X509_check_purpose(xl, X509_PURPOSE_SSL_CLIENT, 0) == 1,
              "%s: leaf is fit for TLS server and client", what);
        CHECK(X509_check_host(xl, "foo.api.internal", 0, 0, NULL) == 1 &&
                  X509_check_ip_asc(xl, "10.1.2.3", 0) == 1 &&
                  X509_check_ip_asc(xl, "fe80::1", 0) == 1,
              "%s: leaf matches its DNS/IP SANs", what);
        uint32_t ku = X509_get_key_usage(xl);
        bool rsa = leaf_type == KEYGEN_RSA2048;
        CHECK((ku & KU_DIGITAL_SIGNATURE) && !!(ku & KU_KEY_ENCIPHERMENT) == rsa &&
                  !(ku & KU_KEY_CERT_SIGN),
              "%s: leaf keyUsage 0x%x", what, (unsigned)ku);
        CHECK(X509_get_key_usage(xr) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN), "%s: root keyUsage",
              what);
        CHECK(X509_get_pathlen(xr) == 0, "%s: root pathLen 0", what);
        const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(xl);
        const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(xr);
        CHECK(aki && ski && ASN1_OCTET_STRING_cmp(aki, ski) == 0, "%s: leaf AKI = root SKI", what);
        STACK_OF(DIST_POINT) *dps = X509_get_ext_d2i(xl, NID_crl_distribution_points, NULL, NULL);
        CHECK(dps && sk_DIST_POINT_num(dps) == 1, "%s: CRL distribution point", what);
        sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
        GENERAL_NAMES *gens = X509_get_ext_d2i(xl, NID_subject_alt_name, NULL, NULL);
        int n_uri = 0;
        for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++)
            if (sk_GENERAL_NAME_value(gens, i)->type == GEN_URI) n_uri++;
        CHECK(gens && sk_GENERAL_NAME_num(gens) == 5 && n_uri == 1, "%s: 5 SANs, 1 URI", what);
        GENERAL_NAMES_free(gens);
        int crit = -1;
        int idx = X509_get_ext_by_NID(xl, NID_subject_alt_name, -1);
        crit = idx >= 0 ? X509_EXTENSION_get_critical(X509_get_ext(xl, idx)) : -1;
        CHECK(crit == 0, "%s: SAN not critical with a subject", what);
        /* Re-encoding by libcrypto gives the same bytes (our DER is canonical). */
        unsigned char *re = NULL;
        int re_len = i2d_X509(xl, &re);
        CHECK(re_len == (int)leaf_len && !memcmp(re, leaf_der, leaf_len),
              "%s: libcrypto re-encodes the leaf identically", what);
        OPENSSL_free(re);
    }
    X509_free(xr);
    X509_free(xl);
    ERR_clear_error();

out:
    free(root_der);
    free(leaf_der);
out_keys:
    key_free(ca_key);
    key_free(leaf_key);
}

static void test_empty_subject_and_errors(void) {
    crypto_key *key = key_generate(KEYGEN_P256);
    uint8_t serial[X509_SERIAL_LEN];
    x509_random_serial(serial);
    const char *uri[] = {"spiffe://example.org/w"};
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.not_before = 0;
    p.not_after = 2600000000; /* 2052: GeneralizedTime */
    p.path_len = -1;
    p.client_auth = true;
    p.uris = uri;
    p.n_uris = 1;
    uint8_t *der = NULL;
    size_t len = 0;
    CHECK(x509_issue(&p, key, key, &der, &len) == 0, "empty-subject SVID issued");
    x509_cert c;
    CHECK(der && x509_parse(&c, der, len) == 0 && c.subject.len == 2 && c.not_after == 2600000000,
          "empty subject is an empty SEQUENCE; notAfter 2052 reads back");
    X509 *x = der ? ossl_cert(der, len) : NULL;
    int idx = x ? X509_get_ext_by_NID(x, NID_subject_alt_name, -1) : -1;
    CHECK(idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, idx)) == 1,
          "SAN is critical with an empty subject");
    CHECK(x && X509_check_purpose(x, X509_PURPOSE_SSL_CLIENT, 0) == 1 &&
              X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0) == 0,
          "client-only EKU");
    X509_free(x);
    free(der);

    /* Invalid parameters. */
    uint8_t zero[4] = {0, 0, 0, 0}, big[21];
    memset(big, 0x7f, sizeof big);
    p.serial = zero;
    p.serial_len = sizeof zero;
    CHECK(x509_issue(&p, key, key, &der, &len) == -1 && !der, "zero serial refused");
    p.serial = big;
    p.serial_len = 21;
    CHECK(x509_issue(&p, key, key, &der, &len) == -1, "21-byte serial refused");
    big[0] = 0x80;
    p.serial_len = 20;
    CHECK(x509_issue(&p, key, key, &der, &len) == -1, "20-byte serial with the high bit refused");
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.not_after = -1;
    CHECK(x509_issue(&p, key, key, &der, &len) == -1, "notAfter before notBefore refused");
    p.not_after = 1000;
    const char *bad_uri[] = {"spiffe://example.org/\xc3\xa9"};
    p.uris = bad_uri;
    CHECK(x509_issue(&p, key, key, &der, &len) == -1, "non-IA5 URI refused");
    p.uris = uri;
    x509_ip bad_ip = {{1, 2, 3}, 3};
    p.ips = &bad_ip;
    p.n_ips = 1;
    CHECK(x509_issue(&p, key, key, &der, &len) == -1, "3-byte IP refused");
    key_free(key);
}

static void test_crl(void) {
    crypto_key *key = key_generate(KEYGEN_P256);
    uint8_t serial[X509_SERIAL_LEN];
    x509_random_serial(serial);
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.subject_cn = "crl CA";
    p.not_before = 1700000000;
    p.not_after = 1800000000;
    p.is_ca = true;
    p.path_len = -1;
    uint8_t *ca_der = NULL, *crl_der = NULL;
    size_t ca_len = 0, crl_len = 0;
    x509_cert ca;
    CHECK(x509_issue(&p, key, key, &ca_der, &ca_len) == 0 && x509_parse(&ca, ca_der, ca_len) == 0,
          "CRL test CA issued");
    uint8_t kid[X509_MAX_KEY_ID];
    size_t kid_len;
    x509_cert_key_id(&ca, kid, &kid_len);

    uint8_t s1[] = {0x01, 0x02}, s2[] = {0xff, 0xee, 0xdd};
    x509_revoked rv[2] = {{s1, sizeof s1, 1700001000, 1}, {s2, sizeof s2, 1700002000, -1}};
    x509_crl_params c;
    memset(&c, 0, sizeof c);
    c.issuer = ca.subject.data;
    c.issuer_len = ca.subject.len;
    c.issuer_key_id = kid;
    c.issuer_key_id_len = kid_len;
    c.this_update = 1700003000;
    c.next_update = 1700003000 + 86400;
    c.crl_number = 300;
    c.revoked = rv;
    c.n_revoked = 2;
    CHECK(x509_crl_build(&c, key, &crl_der, &crl_len) == 0, "CRL built");
    const unsigned char *q = crl_der;
    X509_CRL *crl = crl_der ? d2i_X509_CRL(NULL, &q, (long)crl_len) : NULL;
    CHECK(crl && q == crl_der + crl_len, "libcrypto parses the CRL");
    X509 *xca = ossl_cert(ca_der, ca_len);
    if (crl && xca) {
        CHECK(X509_CRL_verify(crl, X509_get0_pubkey(xca)) == 1, "CRL signature verifies");
        CHECK(X509_CRL_get_version(crl) == 1, "CRL is v2");
        STACK_OF(X509_REVOKED) *list = X509_CRL_get_REVOKED(crl);
        CHECK(list && sk_X509_REVOKED_num(list) == 2, "two revoked entries");
        ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
        CHECK(num && ASN1_INTEGER_get(num) == 300, "CRL number 300");
        ASN1_INTEGER_free(num);
        X509_REVOKED *r0 = list ? sk_X509_REVOKED_value(list, 0) : NULL;
        ASN1_ENUMERATED *reason =
            r0 ? X509_REVOKED_get_ext_d2i(r0, NID_crl_reason, NULL, NULL) : NULL;
        CHECK(reason && ASN1_ENUMERATED_get(reason) == 1, "first entry: keyCompromise");
        ASN1_ENUMERATED_free(reason);
        X509_REVOKED *r1 = list ? sk_X509_REVOKED_value(list, 1) : NULL;
        const ASN1_INTEGER *sn = r1 ? X509_REVOKED_get0_serialNumber(r1) : NULL;
        BIGNUM *bn = sn ? ASN1_INTEGER_to_BN(sn, NULL) : NULL;
        char *hex = bn ? BN_bn2hex(bn) : NULL;
        CHECK(hex && !strcmp(hex, "FFEEDD"), "second serial FFEEDD stays positive (%s)",
              hex ? hex : "?");
        OPENSSL_free(hex);
        BN_free(bn);
        CHECK(r1 && X509_REVOKED_get_ext_count(r1) == 0, "no reason: no entry extensions");
    }
    X509_CRL_free(crl);
    free(crl_der);
    crl_der = NULL;

    /* No revoked certificates: the list is absent (RFC 5280 §5.1.2.6). */
    c.n_revoked = 0;
    c.revoked = NULL;
    CHECK(x509_crl_build(&c, key, &crl_der, &crl_len) == 0, "empty CRL built");
    q = crl_der;
    crl = crl_der ? d2i_X509_CRL(NULL, &q, (long)crl_len) : NULL;
    CHECK(crl && X509_CRL_get_REVOKED(crl) == NULL && xca &&
              X509_CRL_verify(crl, X509_get0_pubkey(xca)) == 1,
          "empty CRL has no revokedCertificates and verifies");
    X509_CRL_free(crl);

    /* PEM round trip. */
    char *pem = NULL;
    size_t pem_len = 0;
    CHECK(x509_pem_encode("X509 CRL", crl_der, crl_len, &pem, &pem_len) == 0 &&
              strlen(pem) == pem_len,
          "PEM encoding");
    size_t pos = 0;
    uint8_t *back = NULL;
    size_t back_len = 0;
    CHECK(pem && pem_next(pem, pem_len, &pos, "X509 CRL", &back, &back_len) == 1 &&
              back_len == crl_len && !memcmp(back, crl_der, crl_len),
          "PEM decodes back to the same DER");
    bool lines_ok = pem != NULL;
    for (const char *l = pem; lines_ok && l && *l;) {
        const char *nl = strchr(l, '\n');
        if (!nl || nl - l > 64) lines_ok = false;
        l = nl ? nl + 1 : NULL;
    }
    CHECK(lines_ok, "PEM lines are at most 64 columns");
    free(pem);
    free(back);
    X509_free(xca);
    free(crl_der);
    free(ca_der);
    key_free(key);
    ERR_clear_error();
}

static void test_input_checks(void) {
    static const char *good_ids[] = {
        "spiffe://example.org/api",
        "spiffe://example.org/ns/default/sa/web",
        "spiffe://a-b_c.d0/X.y-Z_9",
        "spiffe://td/a/b/c/d",
    };
    static const char *bad_ids[] = {
        "spiffe://example.org",       "spiffe://example.org/",     "spiffe://Example.org/a",
        "spiffe://example.org:443/a", "spiffe://u@example.org/a",  "spiffe://example.org/a?q",
        "spiffe://example.org/a#f",   "spiffe://example.org//a",   "spiffe://example.org/a/",
        "spiffe://example.org/./a",   "spiffe://example.org/a/..", "spiffe:///a",
        "SPIFFE://example.org/a",     "https://example.org/a",     "spiffe://example.org/a%20b",
        "spiffe://exa mple.org/a",    "spiffe://example.org/a b",  "",
    };
    char why[160];
    for (size_t i = 0; i < sizeof good_ids / sizeof good_ids[0]; i++)
        CHECK(x509_check_spiffe_id(good_ids[i], why, sizeof why), "SPIFFE ID %s accepted",
              good_ids[i]);
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        why[0] = 0;
        CHECK(!x509_check_spiffe_id(bad_ids[i], why, sizeof why) && why[0],
              "SPIFFE ID '%s' refused: %s", bad_ids[i], why);
    }
    char long_id[2100] = "spiffe://example.org/";
    memset(long_id + strlen(long_id), 'a', 2060);
    long_id[2080] = 0;
    CHECK(!x509_check_spiffe_id(long_id, why, sizeof why), "SPIFFE ID over 2048 bytes refused");

    static const char *good_dns[] = {"localhost", "api.internal", "*.example.com", "a-1.b2.c",
                                     "EXAMPLE.com"};
    static const char *bad_dns[] = {"",        "-a.com", "a-.com",  "a..b",        "a.b.",
                                    "*",       "*.",     "a.*.com", "f*o.com",     "a_b.com",
                                    "a b.com", ".a.com", "**.com",  "\xc3\xa9.com"};
    for (size_t i = 0; i < sizeof good_dns / sizeof good_dns[0]; i++)
        CHECK(x509_check_dns_name(good_dns[i], why, sizeof why), "DNS name %s accepted",
              good_dns[i]);
    for (size_t i = 0; i < sizeof bad_dns / sizeof bad_dns[0]; i++) {
        why[0] = 0;
        CHECK(!x509_check_dns_name(bad_dns[i], why, sizeof why) && why[0],
              "DNS name '%s' refused: %s", bad_dns[i], why);
    }
    char label[80];
    memset(label, 'a', 64);
    label[64] = 0;
    CHECK(!x509_check_dns_name(label, why, sizeof why), "64-byte label refused");
    label[63] = 0;
    CHECK(x509_check_dns_name(label, why, sizeof why), "63-byte label accepted");

    x509_ip ip;
    CHECK(x509_parse_ip("127.0.0.1", &ip) && ip.len == 4 && ip.addr[0] == 127, "IPv4 parsed");
    CHECK(x509_parse_ip("::ffff:1.2.3.4", &ip) && ip.len == 16, "IPv4-mapped IPv6 parsed");
    CHECK(!x509_parse_ip("[::1]", &ip) && !x509_parse_ip("1.2.3", &ip) &&
              !x509_parse_ip("fe80::1%eth0", &ip) && !x509_parse_ip("256.0.0.1", &ip),
          "bad IP literals refused");
}

/* A CA with name constraints and a subject given whole (as ca renew does):
 * our parser and libcrypto read the same subtrees back. */
static void test_name_constraints(void) {
    crypto_key *key = key_generate(KEYGEN_P256);
    CHECK(key != NULL, "nc: key");
    if (!key) return;
    uint8_t serial[X509_SERIAL_LEN];
    x509_random_serial(serial);
    const char *permit_dns[] = {"example.org", "localhost"},
               *exclude_dns[] = {"secret.example.org"};
    const char *permit_uri[] = {"example.org"}, *exclude_uri[] = {".bad.example.org"};
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.subject_cn = "constrained";
    p.not_before = 1700000000;
    p.not_after = 1700000000 + 86400;
    p.is_ca = true;
    p.path_len = 0;
    p.nc_permit_dns = permit_dns;
    p.n_nc_permit_dns = 2;
    p.nc_exclude_dns = exclude_dns;
    p.n_nc_exclude_dns = 1;
    p.nc_permit_uri = permit_uri;
    p.n_nc_permit_uri = 1;
    p.nc_exclude_uri = exclude_uri;
    p.n_nc_exclude_uri = 1;
    uint8_t *der = NULL, *der2 = NULL;
    size_t len = 0, len2 = 0;
    CHECK(x509_issue(&p, key, key, &der, &len) == 0, "nc: issued");
    x509_cert c;
    if (der && x509_parse(&c, der, len) == 0) {
        X509 *x = ossl_cert(der, len);
        int crit = -1;
        NAME_CONSTRAINTS *nc = x ? X509_get_ext_d2i(x, NID_name_constraints, &crit, NULL) : NULL;
        CHECK(nc && crit == 1 && sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) == 3 &&
                  sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) == 2,
              "nc: critical, libcrypto reads 3 permitted and 2 excluded subtrees");
        const char *want[] = {"example.org", "localhost", "example.org"};
        const int want_type[] = {GEN_DNS, GEN_DNS, GEN_URI};
        bool ok = nc != NULL;
        for (int i = 0; ok && i < 3; i++) {
            GENERAL_SUBTREE *st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
            ASN1_IA5STRING *v = st->base->type == GEN_DNS   ? st->base->d.dNSName
                                : st->base->type == GEN_URI ? st->base->d.uniformResourceIdentifier
                                                            : NULL;
            ok = st->base->type == want_type[i] && v && v->length == (int)strlen(want[i]) &&
                 !memcmp(v->data, want[i], (size_t)v->length) && !st->minimum && !st->maximum;
        }
        CHECK(ok, "nc: permitted DNS example.org, DNS localhost, URI example.org (no min/max)");
        NAME_CONSTRAINTS_free(nc);
        X509_free(x);

        /* Renewal: the subject copied whole gives the same Name bytes. */
        p.subject = c.subject.data;
        p.subject_len = c.subject.len;
        p.subject_cn = NULL;
        CHECK(x509_issue(&p, key, key, &der2, &len2) == 0, "nc: renewed with the whole subject");
        x509_cert c2;
        CHECK(der2 && x509_parse(&c2, der2, len2) == 0 && c2.subject.len == c.subject.len &&
                  !memcmp(c2.subject.data, c.subject.data, c.subject.len) &&
                  c2.issuer.len == c.subject.len &&
                  !memcmp(c2.issuer.data, c.subject.data, c.subject.len),
              "nc: the renewed certificate has the same subject and issuer bytes");
    } else {
        CHECK(false, "nc: parsed back");
    }
    free(der);
    free(der2);
    key_free(key);
}

int main(void) {
    test_name_constraints();
    test_root_and_leaf(KEYGEN_P256, "P-256 leaf");
    test_root_and_leaf(KEYGEN_P384, "P-384 leaf");
    test_root_and_leaf(KEYGEN_ED25519, "Ed25519 leaf");
    test_root_and_leaf(KEYGEN_RSA2048, "RSA-2048 leaf");
    test_empty_subject_and_errors();
    test_crl();
    test_input_checks();

    /* Signing algorithm follows the key. */
    static const struct {
        keygen_type t;
        const char *oid_hex;
    } algs[] = {
        {KEYGEN_P256, "30 0a 06 08 2a 86 48 ce 3d 04 03 02"},
        {KEYGEN_P384, "30 0a 06 08 2a 86 48 ce 3d 04 03 03"},
        {KEYGEN_ED25519, "30 05 06 03 2b 65 70"},
        {KEYGEN_RSA2048, "30 0d 06 09 2a 86 48 86 f7 0d 01 01 0b 05 00"},
    };
    for (size_t i = 0; i < sizeof algs / sizeof algs[0]; i++) {
        crypto_key *k = key_generate(algs[i].t);
        uint8_t buf[32];
        builder b;
        bld_init_fixed(&b, buf, sizeof buf);
        CHECK(k && x509_sig_algid(k, &b) == 0 && bld_ok(&b), "AlgorithmIdentifier %zu builds", i);
        CHECK_HEX(b.buf, b.len, algs[i].oid_hex, "AlgorithmIdentifier %zu", i);
        key_free(k);
    }
    TEST_EXIT();
}
