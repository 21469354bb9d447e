/* OCSP (src/x509/ocsp.c): responses made by libcrypto's OCSP code (the
 * same code `openssl ocsp` answers with) checked by ocsp_check, one case
 * per outcome, each with its own sentence; certa's own responses and
 * requests read back by libcrypto; must-staple and AIA read from
 * certificates made by libcrypto. */
/* certa's keyUsage names clash with libcrypto's: read them first, drop them. */
#include "x509/extensions.h"
#undef KU_DIGITAL_SIGNATURE
#undef KU_CONTENT_COMMITMENT
#undef KU_KEY_ENCIPHERMENT
#undef KU_DATA_ENCIPHERMENT
#undef KU_KEY_AGREEMENT
#undef KU_KEY_CERT_SIGN
#undef KU_CRL_SIGN
#undef KU_ENCIPHER_ONLY
#undef KU_DECIPHER_ONLY
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

#include "crypto/ca_crypto.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"
#include "x509/ocsp.h"

static int64_t T;

typedef struct resp_opts {
    int status;             /* V_OCSP_CERTSTATUS_* */
    int reason;             /* revoked: CRLReason, -1 none */
    int64_t this_update;    /* 0: T - 60 */
    int64_t next_update;    /* 0: T + 1 day; -1: absent */
    const EVP_MD *id_md;    /* CertID hash: NULL = SHA-1 */
    bool by_name;           /* responderID byName (default byKey) */
    const test_cert *embed; /* a certificate to include (the delegated responder) */
} resp_opts;

static ASN1_GENERALIZEDTIME *gt(int64_t t) {
    return ASN1_GENERALIZEDTIME_set(NULL, (time_t)t);
}

/* A DER OCSPResponse for leaf/issuer signed by signer with libcrypto. */
static uint8_t *make_resp(const test_cert *leaf, const test_cert *issuer, const test_cert *signer,
                          const resp_opts *o, size_t *len) {
    OCSP_CERTID *id = OCSP_cert_to_id(o->id_md ? o->id_md : EVP_sha1(), leaf->x509, issuer->x509);
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    ASN1_GENERALIZEDTIME *tu = gt(o->this_update ? o->this_update : T - 60);
    ASN1_GENERALIZEDTIME *nu =
        o->next_update < 0 ? NULL : gt(o->next_update ? o->next_update : T + 86400);
    ASN1_GENERALIZEDTIME *rt = o->status == V_OCSP_CERTSTATUS_REVOKED ? gt(T - 3600) : NULL;
    OCSP_basic_add1_status(bs, id, o->status, o->reason, rt, tu, nu);
    STACK_OF(X509) *extra = sk_X509_new_null();
    if (o->embed) sk_X509_push(extra, o->embed->x509);
    unsigned long flags = (o->by_name ? 0 : OCSP_RESPID_KEY) | OCSP_NOCERTS;
    if (o->embed) flags &= ~(unsigned long)OCSP_NOCERTS;
    OCSP_basic_sign(bs, signer->x509, signer->key, EVP_sha256(), o->embed ? NULL : extra, flags);
    OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    uint8_t *der = NULL;
    int n = i2d_OCSP_RESPONSE(r, &der);
    *len = n > 0 ? (size_t)n : 0;
    sk_X509_free(extra);
    OCSP_RESPONSE_free(r);
    OCSP_BASICRESP_free(bs);
    OCSP_CERTID_free(id);
    ASN1_GENERALIZEDTIME_free(tu);
    ASN1_GENERALIZEDTIME_free(nu);
    ASN1_GENERALIZEDTIME_free(rt);
    return der;
}

/* One signature cache for every check below: whatever good responses it
 * holds, each case must come out as it does without it. */
static ocsp_sig_cache shared_cache;

static ocsp_outcome check(const uint8_t *der, size_t len, const test_cert *leaf,
                          const test_cert *issuer, ocsp_result *res) {
    x509_cert l, i;
    if (x509_parse(&l, leaf->der, leaf->der_len) != 0 ||
        x509_parse(&i, issuer->der, issuer->der_len) != 0)
        return (ocsp_outcome)-1;
    ocsp_outcome o = ocsp_check(der, len, &l, &i, T, res);
    printf("# %s\n", res->text);
    /* With the cache, twice (the second time from it if it verified): the
     * same outcome and sentence. */
    for (int k = 0; k < 2; k++) {
        ocsp_result again;
        ocsp_outcome c = ocsp_check_cached(der, len, &l, &i, T, &shared_cache, &again);
        CHECK(c == o && strcmp(again.text, res->text) == 0,
              "the signature cache changes nothing (pass %d): %d / %d", k + 1, c, o);
    }
    return o;
}

static void expect(const char *what, const test_cert *leaf, const test_cert *issuer,
                   const test_cert *signer, const resp_opts *o, ocsp_outcome want,
                   const char *phrase) {
    size_t len;
    uint8_t *der = make_resp(leaf, issuer, signer, o, &len);
    ocsp_result res;
    ocsp_outcome got = check(der, len, leaf, issuer, &res);
    CHECK(got == want && strstr(res.text, phrase), "%s: outcome %d (want %d), says \"%s\"", what,
          got, want, phrase);
    OPENSSL_free(der);
}

/* The signature cache: what it keeps and what it never spares. */
static void cache_cases(const test_cert *leaf, const test_cert *ca, const test_cert *delegate) {
    x509_cert l, i;
    x509_parse(&l, leaf->der, leaf->der_len);
    x509_parse(&i, ca->der, ca->der_len);
    ocsp_sig_cache cache;
    ocsp_sig_cache_init(&cache);
    ocsp_result res;
    resp_opts good = {.status = V_OCSP_CERTSTATUS_GOOD, .reason = -1};
    size_t len;
    uint8_t *der = make_resp(leaf, ca, ca, &good, &len);
    CHECK(ocsp_check_cached(der, len, &l, &i, T, &cache, &res) == OCSP_OK && cache.count == 1,
          "cache: a good response's signature is kept (%u)", cache.count);
    CHECK(ocsp_check_cached(der, len, &l, &i, T, &cache, &res) == OCSP_OK && cache.count == 1,
          "cache: the same response again: good, nothing added");
    CHECK(ocsp_check_cached(der, len, &l, &i, T + 3 * 86400, &cache, &res) == OCSP_E_STALE,
          "cache: a cached response past its nextUpdate is stale: %s", res.text);
    x509_cert other_leaf;
    x509_parse(&other_leaf, ca->der, ca->der_len); /* a certificate the response is not about */
    CHECK(ocsp_check_cached(der, len, &other_leaf, &i, T, &cache, &res) == OCSP_E_WRONG_CERT_ID,
          "cache: a cached response for another certificate holds no status: %s", res.text);
    /* the signed bytes altered (thisUpdate's last digit), then the signature */
    uint8_t *bad = malloc(len);
    memcpy(bad, der, len);
    for (size_t k = 0; k + 1 < len; k++)
        if (bad[k] == 0x18 && bad[k + 1] == 0x0f) { /* GeneralizedTime YYYYMMDDHHMMSSZ */
            bad[k + 15] = bad[k + 15] == '0' ? '1' : '0';
            break;
        }
    CHECK(ocsp_check_cached(bad, len, &l, &i, T, &cache, &res) == OCSP_E_BAD_SIGNATURE &&
              cache.count == 1,
          "cache: altered signed bytes are verified, refused, not kept: %s", res.text);
    memcpy(bad, der, len);
    bad[len - 3] ^= 0x01;
    CHECK(ocsp_check_cached(bad, len, &l, &i, T, &cache, &res) == OCSP_E_BAD_SIGNATURE &&
              cache.count == 1,
          "cache: an altered signature is refused, not kept: %s", res.text);
    free(bad);
    OPENSSL_free(der);

    /* delegated: both signatures kept; the responder's validity still checked */
    resp_opts o = good;
    o.embed = delegate;
    der = make_resp(leaf, ca, delegate, &o, &len);
    CHECK(ocsp_check_cached(der, len, &l, &i, T, &cache, &res) == OCSP_OK && cache.count == 3,
          "cache: a delegated response keeps its two signatures (%u)", cache.count);
    CHECK(ocsp_check_cached(der, len, &l, &i, T + 40 * 86400, &cache, &res) ==
                  OCSP_E_RESPONDER_INVALID &&
              strstr(res.text, "expired on"),
          "cache: a cached delegated responder past its notAfter is refused: %s", res.text);
    OPENSSL_free(der);

    /* full: the oldest entry goes */
    for (unsigned k = 0; k < OCSP_SIG_CACHE_SLOTS + 2; k++) {
        o = good;
        o.this_update = T - 100 - k;
        der = make_resp(leaf, ca, ca, &o, &len);
        CHECK(ocsp_check_cached(der, len, &l, &i, T, &cache, &res) == OCSP_OK,
              "cache: response %u good", k);
        OPENSSL_free(der);
    }
    CHECK(cache.count == OCSP_SIG_CACHE_SLOTS, "cache: bounded at %u entries (%u)",
          OCSP_SIG_CACHE_SLOTS, cache.count);
    ocsp_sig_cache_destroy(&cache);
}

/* A TLS 1.3 handshake with a staple (the Certificate brotli-compressed, as
 * by default): the server keeps the compressed stapled Certificate while
 * the staple stays the same, and a replaced staple reaches the next client. */
static void staple_handshakes(const test_chain *ch) {
    certa_trust *trust = certa_trust_new();
    certa_trust_add_pem(trust, ch->root.pem, strlen(ch->root.pem));
    certa_config *srv = certa_config_new(), *cli = certa_config_new();
    certa_config_set_trust(cli, trust);
    certa_config_set_session_cache(cli, 0); /* full handshakes: each one sees the staple */
    size_t chain_len = strlen(ch->leaf.pem) + strlen(ch->inter.pem);
    char *chain = malloc(chain_len + 1), *key = tc_key_pem(&ch->leaf);
    strcpy(chain, ch->leaf.pem);
    strcat(chain, ch->inter.pem);
    CHECK(certa_config_set_cert_chain_pem(srv, chain, chain_len) == 0 &&
              certa_config_set_private_key_pem(srv, key, strlen(key)) == 0,
          "staple: server identity");
    resp_opts good = {.status = V_OCSP_CERTSTATUS_GOOD, .reason = -1}, revoked = good;
    revoked.status = V_OCSP_CERTSTATUS_REVOKED;
    revoked.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
    size_t glen, rlen;
    uint8_t *gder = make_resp(&ch->leaf, &ch->inter, &ch->inter, &good, &glen);
    uint8_t *rder = make_resp(&ch->leaf, &ch->inter, &ch->inter, &revoked, &rlen);
    struct {
        const uint8_t *der;
        size_t len;
        int want;
        const char *what;
    } steps[] = {{gder, glen, CERTA_OK, "good"},
                 {gder, glen, CERTA_OK, "good again (the cached compressed Certificate)"},
                 {rder, rlen, CERTA_E_CERT_REVOKED, "replaced by a revoked one"},
                 {gder, glen, CERTA_OK, "good once more"}};
    const uint8_t *set = NULL;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        if (steps[k].der != set) {
            CHECK(certa_config_set_ocsp_response(srv, steps[k].der, steps[k].len) == 0,
                  "staple: set the response (%s): %s", steps[k].what, certa_config_error_text(srv));
            set = steps[k].der;
        }
        pair p = {certa_client_new(cli, "leaf.example.com"), certa_server_new(srv)};
        pair_pump(&p);
        certa_info info;
        int err = certa_conn_error(p.client);
        bool compressed = certa_conn_info(p.client, &info) == 0 &&
                          info.peer_cert_compression == CERTA_CERT_COMPRESSION_BROTLI;
        CHECK(err == steps[k].want && (err != CERTA_OK || compressed),
              "staple: %s: error %d (want %d), compressed %d: %s", steps[k].what, err,
              steps[k].want, compressed, certa_conn_error_text(p.client));
        pair_free(&p);
    }
    OPENSSL_free(gder);
    OPENSSL_free(rder);
    free(chain);
    free(key);
    certa_config_free(srv);
    certa_config_free(cli);
    certa_trust_free(trust);
}

int main(void) {
    T = (int64_t)time(NULL);
    ocsp_sig_cache_init(&shared_cache);
    test_chain ch, other;
    if (chain_make(&ch, NULL, NULL, NULL) || chain_make(&other, NULL, NULL, NULL)) return 1;
    const test_cert *leaf = &ch.leaf, *ca = &ch.inter;

    chain_opts d = chain_leaf_opts("ocsp responder", NULL);
    d.eku = "OCSPSigning";
    d.san = NULL;
    test_cert delegate, no_eku, expired_delegate, foreign_delegate;
    tc_make(&delegate, &d, ca);
    tc_make(&foreign_delegate, &d, &other.inter);
    d.not_before = T - 7200;
    d.not_after = T - 3600;
    tc_make(&expired_delegate, &d, ca);
    chain_opts ne = chain_leaf_opts("not a responder", NULL);
    ne.san = NULL;
    tc_make(&no_eku, &ne, ca);

    resp_opts good = {.status = V_OCSP_CERTSTATUS_GOOD, .reason = -1};
    expect("good, signed by the issuer (byKey)", leaf, ca, ca, &good, OCSP_OK, "is good");
    resp_opts o = good;
    o.by_name = true;
    expect("good, responderID byName", leaf, ca, ca, &o, OCSP_OK, "is good");
    o = good;
    o.id_md = EVP_sha256();
    expect("good, SHA-256 CertID", leaf, ca, ca, &o, OCSP_OK, "is good");
    o = good;
    o.next_update = -1;
    expect("good, no nextUpdate (fresh for the maximum age)", leaf, ca, ca, &o, OCSP_OK, "is good");
    o = good;
    o.embed = &delegate;
    expect("good, delegated responder with id-kp-OCSPSigning", leaf, ca, &delegate, &o, OCSP_OK,
           "delegated responder of");

    o = good;
    o.status = V_OCSP_CERTSTATUS_REVOKED;
    o.reason = OCSP_REVOKED_STATUS_KEYCOMPROMISE;
    expect("revoked (keyCompromise)", leaf, ca, ca, &o, OCSP_E_REVOKED, "was revoked on");
    expect("revoked names the reason", leaf, ca, ca, &o, OCSP_E_REVOKED, "(keyCompromise)");
    o = good;
    o.status = V_OCSP_CERTSTATUS_UNKNOWN;
    expect("unknown status", leaf, ca, ca, &o, OCSP_E_UNKNOWN, "status unknown");
    expect("wrong signer (another CA)", leaf, ca, &other.inter, &good, OCSP_E_WRONG_SIGNER,
           "not signed by its issuer");
    o = good;
    o.embed = &foreign_delegate;
    expect("wrong signer (another CA's delegated responder)", leaf, ca, &foreign_delegate, &o,
           OCSP_E_WRONG_SIGNER, "did not issue");
    o = good;
    o.embed = &no_eku;
    expect("responder without the OCSP-signing EKU", leaf, ca, &no_eku, &o, OCSP_E_RESPONDER_NO_EKU,
           "id-kp-OCSPSigning");
    o = good;
    o.embed = &expired_delegate;
    expect("expired delegated responder", leaf, ca, &expired_delegate, &o, OCSP_E_RESPONDER_INVALID,
           "expired on");
    o = good;
    o.this_update = T - 3 * 86400;
    o.next_update = T - 86400;
    expect("expired (nextUpdate passed)", leaf, ca, ca, &o, OCSP_E_STALE, "is stale");
    o = good;
    o.this_update = T - 8 * 86400;
    o.next_update = -1;
    expect("expired (no nextUpdate, older than the maximum age)", leaf, ca, ca, &o, OCSP_E_STALE,
           "having no nextUpdate");
    o = good;
    o.this_update = T + 3600;
    o.next_update = T + 86400;
    expect("thisUpdate in the future", leaf, ca, ca, &o, OCSP_E_FUTURE, "in the future");
    o = good;
    o.this_update = T + 120; /* within the skew */
    expect("thisUpdate 2 minutes ahead (within the skew)", leaf, ca, ca, &o, OCSP_OK, "is good");

    /* wrong CertID: a response about the intermediate, checked for the leaf */
    {
        size_t len;
        uint8_t *der = make_resp(&ch.inter, &ch.root, &ch.root, &good, &len);
        ocsp_result res;
        x509_cert l, i;
        x509_parse(&l, leaf->der, leaf->der_len);
        x509_parse(&i, ch.root.der, ch.root.der_len); /* same signer so only the CertID differs */
        ocsp_outcome got = ocsp_check(der, len, &l, &i, T, &res);
        printf("# %s\n", res.text);
        CHECK(got == OCSP_E_WRONG_CERT_ID && strstr(res.text, "holds no status"),
              "wrong CertID: outcome %d", got);
        OPENSSL_free(der);
    }

    /* altered signature; every truncation; a non-successful status */
    {
        size_t len;
        uint8_t *der = make_resp(leaf, ca, ca, &good, &len);
        ocsp_result res;
        der[len - 3] ^= 0x01;
        ocsp_outcome got = check(der, len, leaf, ca, &res);
        CHECK(got == OCSP_E_BAD_SIGNATURE && strstr(res.text, "does not verify"),
              "altered signature refused: %d", got);
        der[len - 3] ^= 0x01;
        size_t bad = 0;
        x509_cert l, i;
        x509_parse(&l, leaf->der, leaf->der_len);
        x509_parse(&i, ca->der, ca->der_len);
        for (size_t n = 0; n < len; n++)
            if (ocsp_check(der, n, &l, &i, T, &res) != OCSP_E_MALFORMED) bad++;
        CHECK(bad == 0, "every truncation (%zu) is malformed, with its sentence", len);
        CHECK(strstr(res.text, "not a valid DER OCSPResponse") != NULL, "malformed says so");
        int64_t exp = ocsp_expiry(der, len);
        CHECK(exp == T + 86400, "ocsp_expiry is nextUpdate");
        OPENSSL_free(der);
        uint8_t trylater[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
        got = check(trylater, sizeof trylater, leaf, ca, &res);
        CHECK(got == OCSP_E_NOT_SUCCESSFUL && strstr(res.text, "responseStatus 3"),
              "tryLater is refused as an error response");
    }

    /* certa's builder: libcrypto reads and verifies its responses */
    {
        x509_cert l, i;
        x509_parse(&l, leaf->der, leaf->der_len);
        x509_parse(&i, ca->der, ca->der_len);
        uint8_t nh[20], kh[20];
        hash_oneshot(HASH_SHA1, l.issuer.data, l.issuer.len, nh);
        ocsp_issuer_key_hash(&i, HASH_SHA1, kh);
        ocsp_build_single s = {.hash = HASH_SHA1,
                               .name_hash = nh,
                               .key_hash = kh,
                               .serial = l.serial.data,
                               .serial_len = l.serial.len,
                               .status = OCSP_REVOKED,
                               .revocation_time = T - 100,
                               .reason = 1,
                               .this_update = T - 10,
                               .next_update = T + 3600};
        /* the CA key as a certa key */
        BIO *kb = BIO_new(BIO_s_mem());
        PEM_write_bio_PrivateKey(kb, ca->key, NULL, NULL, 0, NULL, NULL);
        char *kp;
        long kl = BIO_get_mem_data(kb, &kp);
        crypto_key *key = key_from_pem(kp, (size_t)kl);
        BIO_free(kb);
        builder b;
        bld_init_alloc(&b, 1024);
        uint8_t nonce[] = {0x04, 0x04, 1, 2, 3, 4};
        int r = ocsp_build_response(&b, &i, key, &s, 1, T, NULL, NULL, 0, nonce, sizeof nonce);
        CHECK(r == 0, "ocsp_build_response");
        const unsigned char *p = b.buf;
        OCSP_RESPONSE *resp = d2i_OCSP_RESPONSE(NULL, &p, (long)b.len);
        OCSP_BASICRESP *bs = resp ? OCSP_response_get1_basic(resp) : NULL;
        STACK_OF(X509) *signers = sk_X509_new_null();
        sk_X509_push(signers, ca->x509);
        int vr = bs ? OCSP_basic_verify(bs, signers, NULL, OCSP_NOVERIFY) : -1;
        CHECK(vr == 1, "libcrypto verifies certa's response (OCSP_basic_verify %d)", vr);
        OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), leaf->x509, ca->x509);
        int st = -1, reason = -1;
        ASN1_GENERALIZEDTIME *rev, *tu, *nu;
        if (bs) OCSP_resp_find_status(bs, id, &st, &reason, &rev, &tu, &nu);
        CHECK(st == V_OCSP_CERTSTATUS_REVOKED && reason == 1,
              "libcrypto reads revoked (keyCompromise) for the leaf");
        ocsp_result res;
        CHECK(ocsp_check(b.buf, b.len, &l, &i, T, &res) == OCSP_E_REVOKED,
              "certa reads its own revoked response");
        ocsp_response pr;
        CHECK(ocsp_parse(&pr, b.buf, b.len) == 0 && pr.extensions.len > 0,
              "the nonce went into responseExtensions");
        OCSP_CERTID_free(id);
        sk_X509_free(signers);
        OCSP_BASICRESP_free(bs);
        OCSP_RESPONSE_free(resp);
        bld_free(&b);

        /* request: ours read by libcrypto, libcrypto's read by ours */
        bld_init_alloc(&b, 256);
        uint8_t n8[8] = {9, 8, 7, 6, 5, 4, 3, 2};
        CHECK(ocsp_build_request(&b, &l, &i, n8, sizeof n8) == 0, "ocsp_build_request");
        p = b.buf;
        OCSP_REQUEST *req = d2i_OCSP_REQUEST(NULL, &p, (long)b.len);
        CHECK(req && OCSP_request_onereq_count(req) == 1, "libcrypto reads certa's request");
        OCSP_REQUEST_free(req);
        bld_free(&b);
        req = OCSP_REQUEST_new();
        OCSP_request_add0_id(req, OCSP_cert_to_id(EVP_sha1(), leaf->x509, ca->x509));
        OCSP_request_add1_nonce(req, NULL, 16);
        uint8_t *rd = NULL;
        int rl = i2d_OCSP_REQUEST(req, &rd);
        ocsp_request q;
        ocsp_cert_id cid;
        cursor list;
        bool ok = rl > 0 && ocsp_request_parse(&q, rd, (size_t)rl) == 0 && q.count == 1 &&
                  q.nonce.len > 0;
        list = q.requests;
        ok = ok && ocsp_request_next(&list, &cid) && ocsp_cert_id_matches(&cid, &l, &i);
        CHECK(ok, "certa reads libcrypto's request (CertID matches the leaf, nonce present)");
        OPENSSL_free(rd);
        OCSP_REQUEST_free(req);
        key_free(key);
    }

    /* must-staple and the OCSP URL from the certificate */
    {
        chain_opts ms = chain_leaf_opts("staple.example", "DNS:staple.example");
        ms.tls_feature = "status_request";
        ms.aia = "OCSP;URI:http://127.0.0.1:8888/ocsp";
        test_cert c;
        tc_make(&c, &ms, ca);
        x509_cert x;
        x509_exts e;
        char why[100];
        bool ok = x509_parse(&x, c.der, c.der_len) == 0 &&
                  x509_parse_extensions(&x, &e, why, sizeof why) == X509_EXT_OK;
        CHECK(ok && e.must_staple, "TLS Feature status_request read as must-staple");
        CHECK(ok && e.ocsp_url.len == strlen("http://127.0.0.1:8888/ocsp") &&
                  memcmp(e.ocsp_url.data, "http://127.0.0.1:8888/ocsp", e.ocsp_url.len) == 0,
              "AIA OCSP URL read");
        x509_parse(&x, leaf->der, leaf->der_len);
        x509_parse_extensions(&x, &e, why, sizeof why);
        CHECK(!e.must_staple && e.ocsp_url.len == 0, "an ordinary leaf is not must-staple");
        tc_free(&c);
    }

    cache_cases(leaf, ca, &delegate);
    staple_handshakes(&ch);
    ocsp_sig_cache_destroy(&shared_cache);

    tc_free(&delegate);
    tc_free(&no_eku);
    tc_free(&expired_delegate);
    tc_free(&foreign_delegate);
    chain_free(&ch);
    chain_free(&other);
    return test_failures ? 1 : 0;
}
