/* Prepared CRLs (src/x509/crl_index.c): a CRL of many entries made by
 * libcrypto's X509_CRL API, searched by binary search for every listed
 * serial (date and reasonCode as the linear x509_crl_find gives them) and
 * for absent ones; the signature checked once under the issuer's key and
 * then remembered, never under another key; a CRL without entries; junk. */
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "lib_chain.h"
#include "testlib.h"
#include "x509/crl_index.h"

#define ENTRIES 300

static uint8_t *crl_der(const test_cert *ca, int entries, size_t *len) {
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->x509));
    ASN1_TIME *t = ASN1_TIME_adj(NULL, time(NULL), 0, -60);
    X509_CRL_set1_lastUpdate(crl, t);
    for (int i = 0; i < entries; i++) {
        X509_REVOKED *r = X509_REVOKED_new();
        ASN1_INTEGER *sn = ASN1_INTEGER_new();
        ASN1_INTEGER_set_int64(sn, 1000003LL * (i + 1)); /* not in order, various lengths */
        X509_REVOKED_set_serialNumber(r, sn);
        ASN1_INTEGER_free(sn);
        ASN1_TIME *when = ASN1_TIME_adj(NULL, time(NULL), 0, -i);
        X509_REVOKED_set_revocationDate(r, when);
        ASN1_TIME_free(when);
        if (i % 3) {
            ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
            ASN1_ENUMERATED_set(e, i % 3 == 1 ? 1 : 4);
            X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
            ASN1_ENUMERATED_free(e);
        }
        X509_CRL_add0_revoked(crl, r);
    }
    X509_CRL_sign(crl, ca->key, EVP_sha256());
    unsigned char *out = NULL;
    int n = i2d_X509_CRL(crl, &out);
    uint8_t *der = malloc((size_t)n);
    memcpy(der, out, (size_t)n);
    OPENSSL_free(out);
    ASN1_TIME_free(t);
    X509_CRL_free(crl);
    *len = (size_t)n;
    return der;
}

int main(void) {
    test_cert ca, other;
    chain_opts o = chain_ca_opts("CRL Index Root");
    chain_opts o2 = chain_ca_opts("Another Root");
    tc_make(&ca, &o, NULL);
    tc_make(&other, &o2, NULL);
    size_t len;
    uint8_t *der = crl_der(&ca, ENTRIES, &len);
    crl_index ix;
    x509_crl crl;
    CHECK(crl_index_init(&ix, der, len) == 0 && x509_crl_parse(&crl, der, len) == 0 &&
              ix.count == ENTRIES,
          "a CRL of %d entries prepared", ENTRIES);
    int agree = 0;
    cursor list = crl.revoked, s, rest;
    while (x509_crl_next_entry(&list, &s, &rest)) {
        int64_t w1 = -1, w2 = -2;
        int r1 = -5, r2 = -6;
        if (x509_crl_find(&crl, &s, &w1, &r1) && crl_index_find(&ix, &s, &w2, &r2) && w1 == w2 &&
            r1 == r2)
            agree++;
    }
    CHECK(agree == ENTRIES,
          "every listed serial is found, with the date and reason of the scan "
          "(%d of %d)",
          agree, ENTRIES);
    bool sorted = true;
    for (size_t i = 1; i < ix.count; i++)
        sorted =
            sorted && (ix.serials[i - 1].len < ix.serials[i].len ||
                       (ix.serials[i - 1].len == ix.serials[i].len &&
                        memcmp(ix.serials[i - 1].data, ix.serials[i].data, ix.serials[i].len) < 0));
    CHECK(sorted, "the serials are held in order");
    static const uint8_t absent1[] = {0x01}, absent2[] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff};
    cursor a1, a2;
    cur_init(&a1, absent1, sizeof absent1);
    cur_init(&a2, absent2, sizeof absent2);
    CHECK(!crl_index_find(&ix, &a1, NULL, NULL) && !crl_index_find(&ix, &a2, NULL, NULL),
          "serials the CRL does not list are not found");

    x509_cert ca_cert, other_cert;
    x509_parse(&ca_cert, ca.der, ca.der_len);
    x509_parse(&other_cert, other.der, other.der_len);
    crypto_key *ca_key = key_from_spki(ca_cert.spki.data, ca_cert.spki.len);
    crypto_key *other_key = key_from_spki(other_cert.spki.data, other_cert.spki.len);
    CHECK(crl_index_verify(&ix, &other_cert, other_key) == -1 && !ix.verified,
          "another CA's key does not verify it, and nothing is remembered");
    CHECK(crl_index_verify(&ix, &ca_cert, ca_key) == 0 && ix.verified,
          "the issuer's key verifies it, and it is remembered");
    CHECK(crl_index_verify(&ix, &other_cert, other_key) == -1,
          "the memo is for that key only: another key is still refused");
    CHECK(crl_index_verify(&ix, &ca_cert, ca_key) == 0, "the issuer again: from the memo");
    crl_index_destroy(&ix);

    /* a tampered signature: never verified, never remembered */
    der[len - 3] ^= 0x01;
    CHECK(crl_index_init(&ix, der, len) == 0 && crl_index_verify(&ix, &ca_cert, ca_key) == -1 &&
              !ix.verified,
          "a tampered signature is refused");
    crl_index_destroy(&ix);
    free(der);

    der = crl_der(&ca, 0, &len);
    CHECK(crl_index_init(&ix, der, len) == 0 && ix.count == 0 &&
              !crl_index_find(&ix, &a1, NULL, NULL),
          "a CRL with no entries: nothing is found");
    crl_index_destroy(&ix);
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    CHECK(crl_index_init(&ix, junk, sizeof junk) == -1, "junk is not a CRL");
    free(der);
    key_free(ca_key);
    key_free(other_key);
    tc_free(&ca);
    tc_free(&other);
    TEST_EXIT();
}
