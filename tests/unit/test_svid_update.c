/* The judging of X.509-SVID updates (tools/spiffe/svid_update.c): what a
 * Workload API agent sends is taken only whole and consistent — the leaf
 * names the SPIFFE ID given, the key is the leaf's, the bundles are CA
 * certificates, the chain validates against the own bundle, federated
 * bundles are keyed by other trust domains. */
#include "../../tools/spiffe/svid_update.c"
#include "lib_chain.h"
#include "testlib.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <time.h>

/* The PKCS#8 DER of a test certificate's key (as the agent sends it). */
static uint8_t *pkcs8_of(const test_cert *c, size_t *len) {
    PKCS8_PRIV_KEY_INFO *p8 = EVP_PKEY2PKCS8((EVP_PKEY *)c->key);
    uint8_t *der = NULL;
    int n = p8 ? i2d_PKCS8_PRIV_KEY_INFO(p8, &der) : -1;
    PKCS8_PRIV_KEY_INFO_free(p8);
    *len = n > 0 ? (size_t)n : 0;
    return der;
}

static size_t count_blocks(const char *pem, const char *label) {
    char begin[64];
    snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
    size_t n = 0;
    for (const char *p = pem; (p = strstr(p, begin)) != NULL; p += strlen(begin))
        n++;
    return n;
}

int main(void) {
    test_cert root, other_root, fed_root, leaf, stranger, leaf2;
    chain_opts ro = chain_ca_opts("SVID Root");
    chain_opts oo = chain_ca_opts("Another Root");
    chain_opts fo = chain_ca_opts("Federated Root");
    chain_opts lo = chain_leaf_opts("web", "URI:spiffe://example.org/web");
    lo.eku = "serverAuth,clientAuth";
    if (tc_make(&root, &ro, NULL) || tc_make(&other_root, &oo, NULL) ||
        tc_make(&fed_root, &fo, NULL) || tc_make(&leaf, &lo, &root) ||
        tc_make(&stranger, &lo, &other_root) || tc_make(&leaf2, &lo, &root)) {
        printf("not ok - test certificates\n");
        return 1;
    }
    size_t key_len, key2_len;
    uint8_t *key = pkcs8_of(&leaf, &key_len), *key2 = pkcs8_of(&leaf2, &key2_len);
    int64_t now = time(NULL);
    const char *id = "spiffe://example.org/web";
    char why[1200];
    svid_update u;

    int r = svid_update_build(&u, id, leaf.der, leaf.der_len, key, key_len, root.der, root.der_len,
                              now, why, sizeof why);
    CHECK(r == 0, "a consistent SVID is taken (%s)", r ? why : "ok");
    CHECK(r == 0 && !strcmp(u.spiffe_id, id) && !strcmp(u.trust_domain, "example.org"),
          "its SPIFFE ID and trust domain (%s)", u.trust_domain);
    CHECK(r == 0 && count_blocks(u.chain_pem, "CERTIFICATE") == 1 &&
              count_blocks(u.key_pem, "PRIVATE KEY") == 1 &&
              count_blocks(u.bundle_pem, "CERTIFICATE") == 1 && u.federated_len == 0,
          "held as PEM: one certificate, one PKCS#8 key, one bundle CA, no federated bundle");
    CHECK(r == 0 && u.not_after > now && u.serial[0], "the leaf's expiry and serial are kept");
    if (r == 0) {
        r = svid_update_add_federated(&u, "spiffe://other.example", fed_root.der, fed_root.der_len,
                                      why, sizeof why);
        CHECK(r == 0 && u.federated_count == 1 &&
                  !strcmp(u.federated_domains, "spiffe://other.example"),
              "a federated bundle keyed by another trust domain is added (%s)", r ? why : "ok");
        CHECK(count_blocks(u.federated[0].pem, "CERTIFICATE") == 1 &&
                  !strcmp(u.federated[0].trust_domain_id, "spiffe://other.example") &&
                  count_blocks(u.federated_pem, "CERTIFICATE") == 1,
              "kept per trust domain (for anchors bound to it) and together (for files)");
        r = svid_update_add_federated(&u, "spiffe://other.example", fed_root.der, fed_root.der_len,
                                      why, sizeof why);
        CHECK(r != 0 && strstr(why, "two federated bundles") && u.federated_count == 1,
              "a second bundle for the same trust domain is refused: %s", why);
        r = svid_update_add_federated(&u, "spiffe://other.example/path", fed_root.der,
                                      fed_root.der_len, why, sizeof why);
        CHECK(r != 0 && strstr(why, "not a trust domain"),
              "a federated bundle keyed by a SPIFFE ID with a path is refused: %s", why);
        r = svid_update_add_federated(&u, "spiffe://example.org", fed_root.der, fed_root.der_len,
                                      why, sizeof why);
        CHECK(r != 0 && strstr(why, "own trust domain"),
              "a federated bundle keyed by the SVID's own trust domain is refused: %s", why);
        r = svid_update_add_federated(&u, "spiffe://third.example", leaf.der, leaf.der_len, why,
                                      sizeof why);
        CHECK(r != 0 && strstr(why, "not a CA"), "a federated bundle of a leaf is refused: %s",
              why);
        svid_update_free(&u);
    }

    r = svid_update_build(&u, "spiffe://example.org/db", leaf.der, leaf.der_len, key, key_len,
                          root.der, root.der_len, now, why, sizeof why);
    CHECK(r != 0 && strstr(why, "names another ID") && u.chain_pem == NULL,
          "a leaf for another SPIFFE ID is refused, nothing held: %s", why);
    r = svid_update_build(&u, "https://example.org/web", leaf.der, leaf.der_len, key, key_len,
                          root.der, root.der_len, now, why, sizeof why);
    CHECK(r != 0 && strstr(why, "not a SPIFFE ID"), "a spiffe_id that is not one: %s", why);
    r = svid_update_build(&u, id, leaf.der, leaf.der_len, key2, key2_len, root.der, root.der_len,
                          now, why, sizeof why);
    CHECK(r != 0 && strstr(why, "does not belong to its certificate") &&
              strstr(why, "CERTA_E_KEY_MISMATCH"),
          "another certificate's key is refused (never a mismatched pair): %s", why);
    r = svid_update_build(&u, id, leaf.der, leaf.der_len, NULL, 0, root.der, root.der_len, now, why,
                          sizeof why);
    CHECK(r != 0 && strstr(why, "without its x509_svid_key"), "no key: %s", why);
    uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01};
    r = svid_update_build(&u, id, garbage, sizeof garbage, key, key_len, root.der, root.der_len,
                          now, why, sizeof why);
    CHECK(r != 0 && strstr(why, "malformed SVID"), "a truncated DER chain: %s", why);
    uint8_t *tail = malloc(leaf.der_len + 1);
    memcpy(tail, leaf.der, leaf.der_len);
    tail[leaf.der_len] = 0x00;
    r = svid_update_build(&u, id, tail, leaf.der_len + 1, key, key_len, root.der, root.der_len, now,
                          why, sizeof why);
    CHECK(r != 0 && strstr(why, "not a list"), "a chain with a trailing byte: %s", why);
    free(tail);
    r = svid_update_build(&u, id, leaf.der, leaf.der_len, key, key_len, NULL, 0, now, why,
                          sizeof why);
    CHECK(r != 0 && strstr(why, "is empty"), "an empty bundle: %s", why);
    r = svid_update_build(&u, id, leaf.der, leaf.der_len, key, key_len, leaf.der, leaf.der_len, now,
                          why, sizeof why);
    CHECK(r != 0 && strstr(why, "not a CA certificate"), "a bundle holding a leaf: %s", why);
    r = svid_update_build(&u, id, leaf.der, leaf.der_len, key, key_len, other_root.der,
                          other_root.der_len, now, why, sizeof why);
    CHECK(r != 0 && strstr(why, "does not validate against its own bundle"),
          "an SVID its own bundle does not vouch for: %s", why);
    r = svid_update_build(&u, id, leaf.der, leaf.der_len, key, key_len, root.der, root.der_len,
                          now + 400 * 86400, why, sizeof why);
    CHECK(r != 0 && strstr(why, "CERTA_E_CERT_EXPIRED"), "an expired SVID: %s", why);
    r = svid_update_build(&u, id, root.der, root.der_len, key, key_len, root.der, root.der_len, now,
                          why, sizeof why);
    CHECK(r != 0 && strstr(why, "is a CA certificate:"), "a CA certificate as the SVID: %s", why);

    char s[64];
    svid_format_remaining(59, s, sizeof s);
    CHECK(!strcmp(s, "59s"), "59 s: %s", s);
    svid_format_remaining(3599, s, sizeof s);
    CHECK(!strcmp(s, "59m 59s"), "3599 s: %s", s);
    svid_format_remaining(7380, s, sizeof s);
    CHECK(!strcmp(s, "2h 03m"), "7380 s: %s", s);
    svid_format_remaining(3 * 86400 + 4 * 3600, s, sizeof s);
    CHECK(!strcmp(s, "3d 4h"), "3 d 4 h: %s", s);
    svid_format_remaining(-12, s, sizeof s);
    CHECK(!strcmp(s, "expired 12s ago"), "-12 s: %s", s);

    OPENSSL_free(key);
    OPENSSL_free(key2);
    tc_free(&root);
    tc_free(&other_root);
    tc_free(&fed_root);
    tc_free(&leaf);
    tc_free(&stranger);
    tc_free(&leaf2);
    return test_failures ? 1 : 0;
}
