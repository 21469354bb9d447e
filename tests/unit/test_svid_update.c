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

    /* A bundles update (FetchX509Bundles), judged against the SVID held. */
    r = svid_update_build(&u, id, leaf.der, leaf.der_len, key, key_len, root.der, root.der_len, now,
                          why, sizeof why);
    if (r == 0) {
        svid_update b;
        const char *keys[2] = {"spiffe://example.org", "other.example"};
        const uint8_t *vals[2] = {root.der, fed_root.der};
        size_t lens[2] = {root.der_len, fed_root.der_len};
        r = svid_bundles_build(&b, u.trust_domain, keys, vals, lens, 2, why, sizeof why);
        CHECK(r == 0 && count_blocks(b.bundle_pem, "CERTIFICATE") == 1 && b.federated_count == 1 &&
                  !strcmp(b.federated[0].trust_domain_id, "spiffe://other.example"),
              "bundles keyed spiffe://TD and bare TD are taken, the bare key as spiffe://TD (%s)",
              r ? why : "ok");
        char *chain_before = u.chain_pem, *key_before = u.key_pem;
        if (r == 0) r = svid_update_take_bundles(&u, &b, now, why, sizeof why);
        CHECK(r == 0 && u.federated_count == 1 && u.chain_pem == chain_before &&
                  u.key_pem == key_before && !strcmp(u.federated_domains, "spiffe://other.example"),
              "the set replaces the held SVID's bundles, its chain and key untouched (%s)",
              r ? why : "ok");

        const char *fed_only[1] = {"spiffe://other.example"};
        r = svid_bundles_build(&b, u.trust_domain, fed_only, &vals[1], &lens[1], 1, why,
                               sizeof why);
        CHECK(r != 0 && strstr(why, "no bundle for the workload's own trust domain") &&
                  !b.bundle_pem && !b.federated_pem,
              "a set without the own trust domain's bundle is refused, nothing held: %s", why);
        const char *own_twice[2] = {"example.org", "spiffe://example.org"};
        const uint8_t *roots[2] = {root.der, root.der};
        size_t root_lens[2] = {root.der_len, root.der_len};
        r = svid_bundles_build(&b, u.trust_domain, own_twice, roots, root_lens, 2, why, sizeof why);
        CHECK(r != 0 && strstr(why, "two bundles for spiffe://example.org"),
              "the own trust domain keyed twice (both spellings) is refused: %s", why);
        const char *fed_twice[3] = {"example.org", "other.example", "spiffe://other.example"};
        const uint8_t *v3[3] = {root.der, fed_root.der, fed_root.der};
        size_t l3[3] = {root.der_len, fed_root.der_len, fed_root.der_len};
        r = svid_bundles_build(&b, u.trust_domain, fed_twice, v3, l3, 3, why, sizeof why);
        CHECK(r != 0 && strstr(why, "two federated bundles"),
              "a federated trust domain keyed twice is refused: %s", why);
        const char *bad_keys[3] = {"spiffe://other.example/web", "", "spiffe://"};
        for (int i = 0; i < 3; i++) {
            const char *k2[2] = {"example.org", bad_keys[i]};
            r = svid_bundles_build(&b, u.trust_domain, k2, vals, lens, 2, why, sizeof why);
            CHECK(r != 0 && strstr(why, "not a trust domain"), "a bundle keyed '%s' is refused: %s",
                  bad_keys[i], why);
        }
        const uint8_t *bad_vals[2] = {root.der, garbage};
        size_t bad_lens[2] = {root.der_len, sizeof garbage};
        r = svid_bundles_build(&b, u.trust_domain, keys, bad_vals, bad_lens, 2, why, sizeof why);
        CHECK(r != 0 && strstr(why, "not a list of DER certificates"),
              "a federated bundle that is not DER certificates is refused: %s", why);
        const uint8_t *leaf_vals[2] = {leaf.der, fed_root.der};
        size_t leaf_lens[2] = {leaf.der_len, fed_root.der_len};
        r = svid_bundles_build(&b, u.trust_domain, keys, leaf_vals, leaf_lens, 2, why, sizeof why);
        CHECK(r != 0 && strstr(why, "not a CA certificate"),
              "an own bundle holding a leaf is refused: %s", why);
        const uint8_t *other_vals[2] = {other_root.der, fed_root.der};
        size_t other_lens[2] = {other_root.der_len, fed_root.der_len};
        r = svid_bundles_build(&b, u.trust_domain, keys, other_vals, other_lens, 2, why,
                               sizeof why);
        char *bundle_before = u.bundle_pem;
        if (r == 0) r = svid_update_take_bundles(&u, &b, now, why, sizeof why);
        CHECK(r != 0 && strstr(why, "would not validate against its trust domain's new bundle") &&
                  u.bundle_pem == bundle_before && u.federated_count == 1,
              "an own bundle that does not vouch for the SVID held is refused, the held set "
              "kept: %s",
              why);
        r = svid_bundles_build(&b, u.trust_domain, keys, vals, lens, 0, why, sizeof why);
        CHECK(r != 0 && strstr(why, "own trust domain"), "an empty map is refused: %s", why);
        svid_update_free(&u);
    }

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
