/* certa_cert_inspect (include/certa.h): what certa diagnose reads from a
 * certificate — names, CA flag, must-staple, OCSP and CRL URLs, key size —
 * on certificates issued here with known contents, and refusal of bytes
 * that are not a certificate. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "certa.h"
#include "crypto/ca_crypto.h"
#include "x509/issue.h"

static uint8_t *issue(keygen_type type, bool ca, bool extras, size_t *len) {
    crypto_key *key = key_generate(type);
    if (!key) return NULL;
    uint8_t serial[X509_SERIAL_LEN];
    x509_random_serial(serial);
    static const char *const dns[] = {"a.example", "*.b.example"};
    x509_ip ip = {.len = 4, .addr = {127, 0, 0, 1}};
    static const char *const uris[] = {"spiffe://td/svc"};
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.subject_cn = "inspected";
    p.not_before = 1700000000;
    p.not_after = 1700000000 + 86400;
    p.is_ca = ca;
    p.path_len = -1;
    p.server_auth = !ca;
    if (extras) {
        p.dns = dns;
        p.n_dns = 2;
        p.ips = &ip;
        p.n_ips = 1;
        p.uris = uris;
        p.n_uris = 1;
        p.ocsp_url = "http://ocsp.example/";
        p.crl_url = "http://crl.example/ca.crl";
        p.must_staple = true;
    }
    uint8_t *der = NULL;
    int r = x509_issue(&p, key, key, &der, len);
    key_free(key);
    return r == 0 ? der : NULL;
}

int main(void) {
    size_t len = 0;
    uint8_t *der = issue(KEYGEN_P256, false, true, &len);
    CHECK(der != NULL, "a leaf with every extension issued");
    certa_cert_details d;
    CHECK(der && certa_cert_inspect(der, len, &d) == CERTA_OK, "inspected");
    CHECK(!strcmp(d.subject_cn, "inspected"), "subject CN");
    CHECK(d.has_san && !strcmp(d.dns_names, "a.example, *.b.example"), "DNS SANs: %s", d.dns_names);
    CHECK(!strcmp(d.ip_addresses, "127.0.0.1"), "IP SAN: %s", d.ip_addresses);
    CHECK(!strcmp(d.uris, "spiffe://td/svc"), "URI SAN: %s", d.uris);
    CHECK(!d.is_ca && d.self_issued, "not a CA, self-issued");
    CHECK(d.must_staple, "must-staple");
    CHECK(!strcmp(d.ocsp_url, "http://ocsp.example/"), "OCSP URL: %s", d.ocsp_url);
    CHECK(!strcmp(d.crl_url, "http://crl.example/ca.crl"), "CRL URL: %s", d.crl_url);
    CHECK(d.ca_issuers_url[0] == 0, "no caIssuers URL");
    CHECK(!strcmp(d.key_type, "ECDSA P-256") && d.key_bits == 256, "key: %s, %u bits", d.key_type,
          d.key_bits);
    /* Cut short: never a read past the end, always an error. */
    int refused = 0;
    for (size_t n = 0; der && n < len; n += 7)
        refused += certa_cert_inspect(der, n, &d) == CERTA_E_BAD_CERTIFICATE;
    CHECK(refused == (int)((len + 6) / 7), "every truncation refused (%d)", refused);
    free(der);

    der = issue(KEYGEN_RSA2048, true, false, &len);
    CHECK(der && certa_cert_inspect(der, len, &d) == CERTA_OK, "a CA without SANs inspected");
    CHECK(d.is_ca && !d.has_san && !d.dns_names[0] && !d.must_staple && !d.ocsp_url[0],
          "CA flag, no SAN, no must-staple, no URLs");
    CHECK(!strcmp(d.key_type, "RSA 2048") && d.key_bits == 2048, "key: %s, %u bits", d.key_type,
          d.key_bits);
    free(der);

    const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    CHECK(certa_cert_inspect(junk, sizeof junk, &d) == CERTA_E_BAD_CERTIFICATE, "junk refused");
    CHECK(certa_cert_inspect(NULL, 0, &d) == CERTA_E_BAD_CERTIFICATE, "NULL refused");
    CHECK(certa_cert_inspect(junk, sizeof junk, NULL) == CERTA_E_INVALID_ARGUMENT, "no output");
    TEST_EXIT();
}
