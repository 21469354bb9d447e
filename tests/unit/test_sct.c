/* Certificate Transparency (src/x509/sct.c, src/tls/transparency.c).
 *
 * Known answer: OpenSSL's test certificate with an embedded SCT
 * (test/certs/embeddedSCTs1.pem and its issuer) and the public key of the
 * certificate-transparency project's test log that signed it: the list is
 * found, the SCT parses, its log ID is the key's hash, the precertificate
 * TBS rebuilt without the SCT extension verifies, a changed byte does not.
 *
 * Self-made: a test CA, test logs (P-256 and RSA keys) under three
 * operators, SCTs signed here over precertificates (a leaf issued without
 * its SCTs, then with them) and over whole leaves (sent in the TLS
 * extension or in a stapled OCSP response), and handshakes between certa's
 * client and server in memory: accepted with enough operators, refused
 * (certificate_unknown, with a sentence naming each SCT) with a tampered
 * signature, an unknown log, too few operators, a long-lived leaf, a future
 * timestamp, a retired log; reported, not refused, without REQUIRE. */
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

#include "certa.h"
#include "crypto/ca_crypto.h"
#include "testlib.h"
#include "wire/cursor.h"
#include "x509/cert.h"
#include "x509/issue.h"
#include "x509/pem.h"
#include "x509/sct.h"

/* ---- known answer ---- */

static const char KAT_LEAF[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIDWzCCAsSgAwIBAgIBBzANBgkqhkiG9w0BAQUFADBVMQswCQYDVQQGEwJHQjEk\n"
                               "MCIGA1UEChMbQ2VydGlmaWNhdGUgVHJhbnNwYXJlbmN5IENBMQ4wDAYDVQQIEwVX\n"
                               "YWxlczEQMA4GA1UEBxMHRXJ3IFdlbjAgFw0xMjA2MDEwMDAwMDBaGA8yMTIyMDYw\n"
                               "MTAwMDAwMFowUjELMAkGA1UEBhMCR0IxITAfBgNVBAoTGENlcnRpZmljYXRlIFRy\n"
                               "YW5zcGFyZW5jeTEOMAwGA1UECBMFV2FsZXMxEDAOBgNVBAcTB0VydyBXZW4wgZ8w\n"
                               "DQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBAL7vmOfCaHeuOF91MloMHTKb7fGPqvTX\n"
                               "lr8EfrfhzhXJW6L4DuRYvX24b4pLJSGRp5vXAMOOnAOJtFzU3JoSCrIeDLQc0Oco\n"
                               "BaQQzZxb211JJ3JtrxcQ9gGHN36iWxoeOe7QuIEZ3BVNxo99qOMMrxWKM+bJUJ9K\n"
                               "BbAUCf9d2H61AgMBAAGjggE6MIIBNjAdBgNVHQ4EFgQUIDFUGvJcBf/YZYtoQ3lP\n"
                               "XpA297QwfQYDVR0jBHYwdIAUX52IDchz5lTU+A3Y5rDBJLRHw1WhWaRXMFUxCzAJ\n"
                               "BgNVBAYTAkdCMSQwIgYDVQQKExtDZXJ0aWZpY2F0ZSBUcmFuc3BhcmVuY3kgQ0Ex\n"
                               "DjAMBgNVBAgTBVdhbGVzMRAwDgYDVQQHEwdFcncgV2VuggEAMAkGA1UdEwQCMAAw\n"
                               "gYoGCisGAQQB1nkCBAIEfAR6AHgAdgDfHC7BFQCUUkepYWgyXdxceVno98bTiPwA\n"
                               "Lgu9P3TXZAAAAT3bJ9+TAAAEAwBHMEUCIQC4xdN1m4R0fdo8DiEa+ZByLbWTFHmT\n"
                               "+S7EmfEbICrGfAIgDd3R7jPcFUn5eZhFwurLECF7pVlme6s76gwA5JnjF6owDQYJ\n"
                               "KoZIhvcNAQEFBQADgYEAJZfiWhJWxF2L7houq4+qoT36ydZj6/pK4bfsQSpOwOy5\n"
                               "NohMmk0KQPz2cFcv4hnOQUMF7WDc9sznTwkGQ/YX01D5P6gaLk0gunDk4TLkOCmI\n"
                               "oee59fiu+S6Wh91VSOiLsGnxE61J26QBOs3YRkDWLJw3Sb8oQLJ06cvOjk8SuzI=\n"
                               "-----END CERTIFICATE-----\n";

static const char KAT_ISSUER[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIC0jCCAjugAwIBAgIBADANBgkqhkiG9w0BAQUFADBVMQswCQYDVQQGEwJHQjEk\n"
    "MCIGA1UEChMbQ2VydGlmaWNhdGUgVHJhbnNwYXJlbmN5IENBMQ4wDAYDVQQIEwVX\n"
    "YWxlczEQMA4GA1UEBxMHRXJ3IFdlbjAgFw0xMjA2MDEwMDAwMDBaGA8yMTIyMDYw\n"
    "MTAwMDAwMFowVTELMAkGA1UEBhMCR0IxJDAiBgNVBAoTG0NlcnRpZmljYXRlIFRy\n"
    "YW5zcGFyZW5jeSBDQTEOMAwGA1UECBMFV2FsZXMxEDAOBgNVBAcTB0VydyBXZW4w\n"
    "gZ8wDQYJKoZIhvcNAQEBBQADgY0AMIGJAoGBANWKaFNiEKJxGZNud4MhGBwqQBPG\n"
    "0HuMduuRV9PQ+0s7UW7Oy9HJjZHFL3Q/q2NdVQmc0Tq68xrlQUQkUadMeBbyJDz4\n"
    "SM8oMczme6BKWiOBnzy6N+Yk2cO9spm4Od3+JjHSyzqE/HuytcUvz8FP/0BvXNRG\n"
    "acuy98/fhvtqudGxAgMBAAGjga8wgawwHQYDVR0OBBYEFF+diA3Ic+ZU1PgN2Oaw\n"
    "wSS0R8NVMH0GA1UdIwR2MHSAFF+diA3Ic+ZU1PgN2OawwSS0R8NVoVmkVzBVMQsw\n"
    "CQYDVQQGEwJHQjEkMCIGA1UEChMbQ2VydGlmaWNhdGUgVHJhbnNwYXJlbmN5IENB\n"
    "MQ4wDAYDVQQIEwVXYWxlczEQMA4GA1UEBxMHRXJ3IFdlboIBADAMBgNVHRMEBTAD\n"
    "AQH/MA0GCSqGSIb3DQEBBQUAA4GBABU/yRBFzR/EjUgCnmXKnwmzbbl7FNbS+zia\n"
    "VH81tKqO6rReC1I3EAiAj0nL13GVZ3+s86HjE1PEp/mZca545Auk3OgD9SCwL8J8\n"
    "s4vjYJUVAC8sQmtO717T6sP5iurLXlofH80kgtDAx+ugi7DIlCnGysd+fGnHQd2d\n"
    "8S14Ahqm\n"
    "-----END CERTIFICATE-----\n";

/* The test log's key (SubjectPublicKeyInfo, base64 of the DER). */
static const char KAT_LOG_KEY[] = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEmXg8sUUzwBYaWrRb+V0IopzQ6o3U"
                                  "yEJ04r5ZrRXGdpYM8K+hB0pXrGRLI0eeWz+3skXrS0IO83AhA3GpRL6s6w==";
static const char KAT_LOG_ID[] = "df1c2ec11500945247a96168325ddc5c7959e8f7c6d388fc002e0bbd3f74d764";

static size_t pem_to_der(const char *pem, uint8_t *out, size_t cap) {
    size_t pos = 0, len = 0;
    uint8_t *der = NULL;
    if (pem_next(pem, strlen(pem), &pos, "CERTIFICATE", &der, &len) != 1 || len > cap) len = 0;
    if (len) memcpy(out, der, len);
    free(der);
    return len;
}

static void test_known_answer(void) {
    static uint8_t leaf_der[2048], issuer_der[2048], key[256];
    size_t leaf_len = pem_to_der(KAT_LEAF, leaf_der, sizeof leaf_der);
    size_t issuer_len = pem_to_der(KAT_ISSUER, issuer_der, sizeof issuer_der);
    int key_len = base64_decode(KAT_LOG_KEY, strlen(KAT_LOG_KEY), key, sizeof key);
    x509_cert leaf, issuer;
    CHECK(leaf_len && issuer_len && key_len > 0 && x509_parse(&leaf, leaf_der, leaf_len) == 0 &&
              x509_parse(&issuer, issuer_der, issuer_len) == 0,
          "KAT: OpenSSL's embeddedSCTs1 leaf and issuer parse, the log key decodes");
    uint8_t id[32];
    hash_oneshot(HASH_SHA256, key, (size_t)key_len, id);
    CHECK_HEX(id, 32, KAT_LOG_ID, "KAT: the log ID is SHA-256 of the log's key");

    cursor list, items, one;
    CHECK(sct_list_from_cert(&leaf, &list) == 1 && sct_list_open(list.data, list.len, &items),
          "KAT: the leaf's SCT list extension is found and well formed");
    sct s;
    CHECK(sct_list_next(&items, &one) && sct_parse(one, &s) == SCT_PARSE_OK && cur_empty(&items),
          "KAT: one v1 SCT in the list");
    CHECK(!memcmp(s.log_id, id, 32) && s.timestamp == 1365181456275ULL &&
              s.hash_alg == SCT_HASH_SHA256 && s.sig_alg == SCT_SIG_ECDSA && s.extensions.len == 0,
          "KAT: log ID, timestamp 1365181456275 ms (2013-04-05), SHA-256/ECDSA, no extensions");

    builder tbs, data;
    bld_init_alloc(&tbs, 1024);
    bld_init_alloc(&data, 1024);
    uint8_t ikh[32];
    hash_oneshot(HASH_SHA256, issuer.spki.data, issuer.spki.len, ikh);
    crypto_key *log_key = key_from_spki(key, (size_t)key_len);
    CHECK(sct_precert_tbs(&leaf, &tbs) == 0 && leaf.tbs.len == 712 && tbs.len == 569,
          "KAT: the precertificate TBS drops the SCT extension (%zu -> %zu bytes)", leaf.tbs.len,
          tbs.len);
    CHECK(sct_signed_data(&s, SCT_ENTRY_PRECERT, ikh, tbs.buf, tbs.len, &data) == 0 &&
              sct_verify(&s, log_key, data.buf, data.len) == SCT_VERIFY_OK,
          "KAT: the SCT verifies over the precert_entry under the test log's key");
    data.buf[data.len - 3] ^= 1; /* a byte of the TBS */
    CHECK(sct_verify(&s, log_key, data.buf, data.len) == SCT_VERIFY_BAD_SIGNATURE,
          "KAT: one changed byte of the signed TBS: bad signature");
    bld_free(&data);
    bld_init_alloc(&data, 1024);
    CHECK(sct_signed_data(&s, SCT_ENTRY_X509, NULL, leaf.der.data, leaf.der.len, &data) == 0 &&
              sct_verify(&s, log_key, data.buf, data.len) == SCT_VERIFY_BAD_SIGNATURE,
          "KAT: read as an x509_entry over the whole leaf, it does not verify");
    uint8_t wrong_ikh[32];
    memcpy(wrong_ikh, ikh, 32);
    wrong_ikh[0] ^= 0x80;
    bld_free(&data);
    bld_init_alloc(&data, 1024);
    CHECK(sct_signed_data(&s, SCT_ENTRY_PRECERT, wrong_ikh, tbs.buf, tbs.len, &data) == 0 &&
              sct_verify(&s, log_key, data.buf, data.len) == SCT_VERIFY_BAD_SIGNATURE,
          "KAT: another issuer key hash: bad signature");
    bld_free(&data);
    bld_free(&tbs);
    key_free(log_key);
}

/* ---- parsing edge cases ---- */

static void test_parsing(void) {
    cursor items, one;
    static const uint8_t empty_list[] = {0x00, 0x00};
    static const uint8_t empty_sct[] = {0x00, 0x02, 0x00, 0x00};
    static const uint8_t short_outer[] = {0x00, 0x05, 0x00, 0x01, 0x00};
    static const uint8_t trailing[] = {0x00, 0x03, 0x00, 0x01, 0x01, 0xff};
    static const uint8_t v2[] = {0x00, 0x03, 0x00, 0x01, 0x01};
    CHECK(!sct_list_open(empty_list, sizeof empty_list, &items), "an empty list is malformed");
    CHECK(!sct_list_open(empty_sct, sizeof empty_sct, &items), "an empty SerializedSCT too");
    CHECK(!sct_list_open(short_outer, sizeof short_outer, &items), "a list cut short too");
    CHECK(!sct_list_open(trailing, sizeof trailing, &items), "trailing bytes too");
    sct s;
    CHECK(sct_list_open(v2, sizeof v2, &items) && sct_list_next(&items, &one) &&
              sct_parse(one, &s) == SCT_PARSE_VERSION,
          "an SCT of version 2 is reported as an unknown version (to be ignored)");
    uint8_t buf[64] = {0};
    cursor c;
    cur_init(&c, buf, 1 + 32 + 8 + 2 + 2 + 2 - 1);
    CHECK(sct_parse(c, &s) == SCT_PARSE_MALFORMED, "a v1 SCT one byte short is malformed");
    cur_init(&c, buf, 1 + 32 + 8 + 2 + 2 + 2);
    CHECK(sct_parse(c, &s) == SCT_PARSE_OK && s.signature.len == 0, "the shortest v1 SCT parses");
    cur_init(&c, buf, 1 + 32 + 8 + 2 + 2 + 2 + 1);
    CHECK(sct_parse(c, &s) == SCT_PARSE_MALFORMED, "a v1 SCT with a trailing byte is malformed");
    CHECK(sct_scheme(4, 3) == 0x0403 && sct_scheme(4, 1) == 0x0401 && sct_scheme(5, 3) == 0 &&
              sct_scheme(4, 2) == 0,
          "only SHA-256 with ECDSA or RSA maps to a scheme");
}

/* ---- self-made: CA, logs, leaves ---- */

static int64_t NOW;
static crypto_key *ca_key;
static uint8_t *ca_der;
static size_t ca_len;
static char *ca_pem;

typedef struct test_log {
    crypto_key *key;
    uint8_t *spki;
    size_t spki_len;
    uint8_t id[32];
    const char *op, *desc;
} test_log;

/* 0, 2: operator Alpha; 1 (RSA): Beta; 3: Gamma; 4: not configured. */
#define NLOGS 5
static test_log logs[NLOGS];

static void make_log(test_log *l, keygen_type t, const char *op, const char *desc) {
    l->key = key_generate(t);
    key_spki_der(l->key, &l->spki, &l->spki_len);
    hash_oneshot(HASH_SHA256, l->spki, l->spki_len, l->id);
    l->op = op;
    l->desc = desc;
}

static void setup(void) {
    NOW = (int64_t)time(NULL);
    ca_key = key_generate(KEYGEN_P256);
    uint8_t serial[1] = {1};
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = 1;
    p.subject_cn = "CT test CA";
    p.not_before = NOW - 86400;
    p.not_after = NOW + 3 * 365 * 86400;
    p.is_ca = true;
    p.path_len = -1;
    x509_issue(&p, ca_key, ca_key, &ca_der, &ca_len);
    size_t n;
    x509_pem_encode("CERTIFICATE", ca_der, ca_len, &ca_pem, &n);
    make_log(&logs[0], KEYGEN_P256, "Alpha", "Alpha Log 1");
    make_log(&logs[1], KEYGEN_RSA2048, "Beta", "Beta RSA Log");
    make_log(&logs[2], KEYGEN_P256, "Alpha", "Alpha Log 2");
    make_log(&logs[3], KEYGEN_P256, "Gamma", "Gamma Log");
    make_log(&logs[4], KEYGEN_P256, "Delta", "Delta Log (not configured)");
}

/* The leaf's key, shared by every leaf. */
static crypto_key *leaf_key;

/* A leaf for web.test valid for days, issued by the CA, with an embedded
 * SCT list (or none). Same serial and times every call, so the TBS without
 * SCTs is the same. */
static uint8_t *issue_leaf(int days, const uint8_t *scts, size_t scts_len, size_t *len) {
    static const uint8_t serial[] = {0x11, 0x22, 0x33};
    static const char *const dns[] = {"web.test"};
    x509_cert ca;
    x509_parse(&ca, ca_der, ca_len);
    uint8_t kid[X509_MAX_KEY_ID];
    size_t kid_len = 0;
    x509_cert_key_id(&ca, kid, &kid_len);
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.issuer = ca.subject.data;
    p.issuer_len = ca.subject.len;
    p.subject_cn = "web";
    p.not_before = NOW - 3600;
    p.not_after = NOW - 3600 + (int64_t)days * 86400;
    p.server_auth = true;
    p.client_auth = true; /* the same leaf serves as a client certificate */
    p.dns = dns;
    p.n_dns = 1;
    p.issuer_key_id = kid;
    p.issuer_key_id_len = kid_len;
    p.sct_list = scts;
    p.sct_list_len = scts_len;
    uint8_t *der = NULL;
    x509_issue(&p, leaf_key, ca_key, &der, len);
    return der;
}

enum { TAMPER_NONE = 0, TAMPER_SIG, TAMPER_FUTURE };

/* Appends one SerializedSCT from log l over the entry to list. */
static void add_sct(builder *list, const test_log *l, sct_entry_type type, const uint8_t *ikh,
                    const uint8_t *entry, size_t entry_len, int tamper) {
    sct s;
    memset(&s, 0, sizeof s);
    s.version = SCT_VERSION_V1;
    s.log_id = l->id;
    s.timestamp = (uint64_t)(NOW - 600) * 1000 + 123;
    if (tamper == TAMPER_FUTURE) s.timestamp = (uint64_t)(NOW + 86400) * 1000;
    s.hash_alg = SCT_HASH_SHA256;
    s.sig_alg = key_is_rsa(l->key) ? SCT_SIG_RSA : SCT_SIG_ECDSA;
    builder data;
    bld_init_alloc(&data, 1024);
    sct_signed_data(&s, type, ikh, entry, entry_len, &data);
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    int r = sig_sign_tls12(sct_scheme(s.hash_alg, s.sig_alg), l->key, data.buf, data.len, sig,
                           &sig_len);
    if (r != 0) printf("# signing an SCT failed\n");
    bld_free(&data);
    if (tamper == TAMPER_SIG) sig[sig_len / 2] ^= 0x01;
    cur_init(&s.signature, sig, sig_len);
    bld_open(list, 2);
    sct_encode(&s, list);
    bld_close(list);
}

typedef struct spec {
    int log;
    int tamper;
} spec;

/* A list of SCTs by the given logs over the leaf (x509_entry), or over its
 * precertificate (issuer key hash + TBS) when precert. */
static uint8_t *make_list(const spec *specs, size_t n, sct_entry_type type, const uint8_t *entry,
                          size_t entry_len, size_t *len) {
    x509_cert ca;
    x509_parse(&ca, ca_der, ca_len);
    uint8_t ikh[32];
    hash_oneshot(HASH_SHA256, ca.spki.data, ca.spki.len, ikh);
    builder list;
    bld_init_alloc(&list, 512);
    bld_open(&list, 2);
    for (size_t i = 0; i < n; i++)
        add_sct(&list, &logs[specs[i].log], type, ikh, entry, entry_len, specs[i].tamper);
    bld_close(&list);
    return bld_take(&list, len);
}

/* The precertificate flow: issue without SCTs, have the logs sign its TBS,
 * issue again with them. */
static uint8_t *leaf_with_embedded(int days, const spec *specs, size_t n, size_t *len) {
    size_t pre_len;
    uint8_t *pre = issue_leaf(days, NULL, 0, &pre_len);
    x509_cert pc;
    x509_parse(&pc, pre, pre_len);
    size_t list_len;
    uint8_t *list = make_list(specs, n, SCT_ENTRY_PRECERT, pc.tbs.data, pc.tbs.len, &list_len);
    uint8_t *der = issue_leaf(days, list, list_len, len);
    free(list);
    free(pre);
    return der;
}

static void test_precert_roundtrip(void) {
    size_t pre_len, len;
    uint8_t *pre = issue_leaf(90, NULL, 0, &pre_len);
    spec s[] = {{0, 0}, {1, 0}};
    uint8_t *der = leaf_with_embedded(90, s, 2, &len);
    x509_cert pc, c;
    builder tbs;
    bld_init_alloc(&tbs, 1024);
    CHECK(pre && der && x509_parse(&pc, pre, pre_len) == 0 && x509_parse(&c, der, len) == 0 &&
              sct_precert_tbs(&c, &tbs) == 0 && tbs.len == pc.tbs.len &&
              !memcmp(tbs.buf, pc.tbs.data, tbs.len),
          "the TBS rebuilt without the SCT extension is the precertificate's, byte for byte");
    cursor list, items;
    CHECK(sct_list_from_cert(&c, &list) == 1 && sct_list_open(list.data, list.len, &items) &&
              sct_list_from_cert(&pc, &list) == 0,
          "the issued leaf carries the list; the precertificate none");
    bld_free(&tbs);
    free(pre);
    free(der);
}

/* ---- handshakes ---- */

static certa_trust *trust;

typedef struct hs_opts {
    certa_sct_policy policy;
    bool no_logs;            /* the client has no logs */
    bool skip_log[NLOGS];    /* logs the client does not know */
    int64_t retire_log0;     /* log 0 retired at this time */
    int64_t log0_end;        /* log 0's temporal interval ends here */
    bool server_judges;      /* mTLS: the leaf is the client's; the server has the logs */
    const uint8_t *tls_scts; /* the server sends these */
    size_t tls_scts_len;
    const uint8_t *ocsp; /* the server staples this */
    size_t ocsp_len;
    bool tls12;
} hs_opts;

typedef struct hs_result {
    bool done;
    int error;
    uint8_t alert;
    char text[600];
    char note[600];
    int sct_lines; /* "  SCT n (...)" trace lines */
    bool asked;    /* the server saw signed_certificate_timestamp */
} hs_result;

static void count_lines(void *arg, const char *line) {
    hs_result *r = arg;
    if (!strncmp(line, "  SCT ", 6)) r->sct_lines++;
}

static hs_result handshake(const uint8_t *leaf, size_t leaf_len, const hs_opts *o) {
    hs_result res;
    memset(&res, 0, sizeof res);
    certa_config *cc = certa_config_new(), *sc = certa_config_new();
    /* judge: the side with the logs and the policy; owner: the leaf's */
    certa_config *judge = o->server_judges ? sc : cc, *owner = o->server_judges ? cc : sc;
    certa_config_set_trust(cc, trust);
    if (o->server_judges) {
        certa_config_set_trust(sc, trust);
        certa_config_set_client_auth(sc, CERTA_CLIENT_AUTH_REQUIRE);
    }
    if (o->tls12) {
        certa_config_set_versions(cc, CERTA_TLS12, CERTA_TLS12);
        certa_config_set_versions(sc, CERTA_TLS12, CERTA_TLS12);
    }
    for (int i = 0; i < NLOGS - 1 && !o->no_logs; i++) {
        if (o->skip_log[i]) continue;
        certa_ct_log l;
        memset(&l, 0, sizeof l);
        l.key = logs[i].spki;
        l.key_len = logs[i].spki_len;
        l.log_id = logs[i].id;
        l.operator_name = logs[i].op;
        l.description = logs[i].desc;
        if (i == 0) l.retired_at = o->retire_log0;
        if (i == 0) l.not_after_end = o->log0_end;
        if (certa_config_add_ct_log(judge, &l) != CERTA_OK)
            printf("# add_ct_log: %s\n", certa_config_error_text(judge));
    }
    certa_config_set_sct_policy(judge, o->policy);
    char *leaf_pem, *key_pem;
    size_t n, kn;
    x509_pem_encode("CERTIFICATE", leaf, leaf_len, &leaf_pem, &n);
    key_private_pem(leaf_key, &key_pem, &kn);
    size_t chain_len = n + strlen(ca_pem);
    char *chain = malloc(chain_len + 1);
    memcpy(chain, leaf_pem, n);
    strcpy(chain + n, ca_pem);
    if (certa_config_set_cert_chain_pem(owner, chain, chain_len) != CERTA_OK ||
        certa_config_set_private_key_pem(owner, key_pem, kn) != CERTA_OK ||
        (o->server_judges && (certa_config_set_cert_chain_pem(sc, chain, chain_len) != CERTA_OK ||
                              certa_config_set_private_key_pem(sc, key_pem, kn) != CERTA_OK)))
        printf("# identity: %s\n", certa_config_error_text(owner));
    if (o->tls_scts && certa_config_set_sct_list(sc, o->tls_scts, o->tls_scts_len) != CERTA_OK)
        printf("# set_sct_list: %s\n", certa_config_error_text(sc));
    if (o->ocsp && certa_config_set_ocsp_response(sc, o->ocsp, o->ocsp_len) != CERTA_OK)
        printf("# set_ocsp_response: %s\n", certa_config_error_text(sc));
    {
        certa_conn *client = certa_client_new(cc, "web.test"), *server = certa_server_new(sc);
        certa_conn_set_trace(client, count_lines, &res);
        for (int round = 0; round < 20; round++) {
            bool moved = false;
            certa_conn *from[2] = {client, server}, *to[2] = {server, client};
            for (int d = 0; d < 2; d++) {
                const uint8_t *out;
                size_t len = certa_conn_outgoing(from[d], &out);
                if (!len) continue;
                size_t used = 0;
                certa_conn_recv(to[d], out, len, &used);
                certa_conn_outgoing_done(from[d], len);
                moved = true;
            }
            if (!moved) break;
        }
        res.done = certa_conn_handshake_done(client) && certa_conn_handshake_done(server);
        certa_conn *j = o->server_judges ? server : client;
        res.error = certa_conn_error(j);
        res.alert = certa_conn_alert_sent(j);
        snprintf(res.text, sizeof res.text, "%s", certa_conn_error_text(j));
        snprintf(res.note, sizeof res.note, "%s", certa_conn_sct_note(j));
        certa_conn_free(client);
        certa_conn_free(server);
    }
    free(chain);
    free(leaf_pem);
    crypto_zero(key_pem, kn);
    free(key_pem);
    certa_config_free(cc);
    certa_config_free(sc);
    return res;
}

static void test_embedded(void) {
    size_t len;
    hs_opts o;
    memset(&o, 0, sizeof o);
    o.policy = CERTA_SCT_REQUIRE;

    spec good[] = {{0, 0}, {1, 0}};
    uint8_t *leaf = leaf_with_embedded(90, good, 2, &len);
    hs_result r = handshake(leaf, len, &o);
    CHECK(r.done && r.sct_lines == 2 && strstr(r.note, "2 valid SCTs") &&
              strstr(r.note, "Alpha, Beta") && strstr(r.note, ": met"),
          "embedded SCTs from Alpha (P-256) and Beta (RSA), 90-day leaf: accepted (%s)", r.note);
    o.tls12 = true;
    r = handshake(leaf, len, &o);
    CHECK(r.done && strstr(r.note, ": met"), "the same over TLS 1.2: accepted");
    o.tls12 = false;
    o.skip_log[1] = true; /* the client does not know Beta's log */
    r = handshake(leaf, len, &o);
    CHECK(!r.done && r.error == CERTA_E_CERT_TRANSPARENCY && r.alert == 46 &&
              strstr(r.text, "leaf 'CN=web' has 1 valid SCT (from operator Alpha)") &&
              strstr(r.text, "certificates of 90 days need 2 from distinct operators") &&
              strstr(r.text, "not counted: SCT 2 (unknown log, "),
          "a log the client does not know: refused with certificate_unknown: %s", r.text);
    o.skip_log[1] = false;
    o.policy = CERTA_SCT_DEFAULT;
    o.skip_log[1] = true;
    r = handshake(leaf, len, &o);
    CHECK(r.done && strstr(r.note, ": not met") && r.sct_lines == 2,
          "the same without REQUIRE (logs configured: report): let in, reported (%s)", r.note);
    o.skip_log[1] = false;
    o.policy = CERTA_SCT_OFF;
    r = handshake(leaf, len, &o);
    CHECK(r.done && !r.note[0] && r.sct_lines == 0, "policy off: not looked at");
    o.policy = CERTA_SCT_REQUIRE;
    o.retire_log0 = NOW - 3600; /* before the SCT was made */
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "SCT 1 (made after its log retired, log 'Alpha Log 1')"),
          "an SCT made after its log retired does not count: %s", r.text);
    o.retire_log0 = 0;
    o.no_logs = true;
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "no CT logs are configured"),
          "REQUIRE without logs: refused, saying so: %s", r.text);
    o.no_logs = false;
    o.log0_end = NOW; /* before the leaf's notAfter */
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "SCT 1 (outside the log's temporal interval"),
          "a log whose temporal interval ends before the leaf does: not counted: %s", r.text);
    o.log0_end = 0;
    o.server_judges = true;
    r = handshake(leaf, len, &o);
    CHECK(r.done && strstr(r.note, ": met"),
          "a server with logs and REQUIRE accepts the client certificate's SCTs (%s)", r.note);
    o.server_judges = false;
    free(leaf);

    spec tampered[] = {{0, 0}, {1, TAMPER_SIG}};
    leaf = leaf_with_embedded(90, tampered, 2, &len);
    r = handshake(leaf, len, &o);
    CHECK(!r.done && r.error == CERTA_E_CERT_TRANSPARENCY &&
              strstr(r.text, "SCT 2 (invalid signature, log 'Beta RSA Log')"),
          "a tampered SCT signature: refused, naming the SCT: %s", r.text);
    free(leaf);

    spec same_op[] = {{0, 0}, {2, 0}};
    leaf = leaf_with_embedded(90, same_op, 2, &len);
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "has 2 valid SCTs (from operator Alpha)"),
          "two logs of one operator: refused: %s", r.text);
    o.server_judges = true;
    r = handshake(leaf, len, &o);
    CHECK(!r.done && r.error == CERTA_E_CERT_TRANSPARENCY && r.alert == 46 &&
              strstr(r.text, "the client's certificate was refused: leaf 'CN=web' has 2 valid"),
          "... and so is such a client certificate, by the server: %s", r.text);
    o.server_judges = false;
    free(leaf);

    spec future[] = {{0, 0}, {1, TAMPER_FUTURE}};
    leaf = leaf_with_embedded(90, future, 2, &len);
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "SCT 2 (timestamp in the future"),
          "an SCT from the future does not count: %s", r.text);
    free(leaf);

    spec two[] = {{0, 0}, {1, 0}};
    leaf = leaf_with_embedded(400, two, 2, &len);
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "certificates of 400 days need 3 from distinct operators"),
          "a 400-day leaf with 2 operators: refused (needs 3): %s", r.text);
    free(leaf);
    spec three[] = {{0, 0}, {1, 0}, {3, 0}, {4, 0}};
    leaf = leaf_with_embedded(400, three, 4, &len);
    r = handshake(leaf, len, &o);
    CHECK(r.done && r.sct_lines == 4 && strstr(r.note, "3 valid SCTs") && strstr(r.note, ": met"),
          "a 400-day leaf with Alpha, Beta, Gamma (and one unknown log): accepted (%s)", r.note);
    free(leaf);

    spec none[] = {{0, 0}};
    leaf = leaf_with_embedded(90, none, 0, &len);
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "has no valid SCT"), "an empty list: refused: %s", r.text);
    free(leaf);
    leaf = issue_leaf(90, NULL, 0, &len);
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "has no valid SCT (none was sent)"),
          "no SCTs anywhere: refused: %s", r.text);
    free(leaf);
}

/* REQUIRE, TLS 1.3 then 1.2: accepted with the valid SCTs of operators. */
static void accepted_both(const uint8_t *leaf, size_t len, hs_opts *o, const char *operators,
                          const char *where) {
    o->policy = CERTA_SCT_REQUIRE;
    for (int v12 = 0; v12 < 2; v12++) {
        o->tls12 = v12;
        hs_result r = handshake(leaf, len, o);
        CHECK(r.done && strstr(r.note, operators) && strstr(r.note, ": met"),
              "SCTs %s, TLS 1.%d: accepted (%s)", where, v12 ? 2 : 3, r.note);
    }
    o->tls12 = false;
}

static void test_tls_extension(void) {
    size_t len, list_len;
    uint8_t *leaf = issue_leaf(90, NULL, 0, &len);
    spec s[] = {{1, 0}, {3, 0}};
    uint8_t *list = make_list(s, 2, SCT_ENTRY_X509, leaf, len, &list_len);
    hs_opts o;
    memset(&o, 0, sizeof o);
    o.tls_scts = list;
    o.tls_scts_len = list_len;
    accepted_both(leaf, len, &o, "Beta, Gamma",
                  "in the TLS extension (CertificateEntry/ServerHello)");
    o.no_logs = true;
    o.policy = CERTA_SCT_DEFAULT;
    hs_result r = handshake(leaf, len, &o);
    CHECK(r.done && r.sct_lines == 0 && !r.note[0],
          "a client without logs does not ask, and the server sends nothing");
    free(list);

    /* SCTs signed over the precertificate do not verify as x509 entries. */
    x509_cert c;
    x509_parse(&c, leaf, len);
    list = make_list(s, 2, SCT_ENTRY_PRECERT, c.tbs.data, c.tbs.len, &list_len);
    memset(&o, 0, sizeof o);
    o.policy = CERTA_SCT_REQUIRE;
    o.tls_scts = list;
    o.tls_scts_len = list_len;
    r = handshake(leaf, len, &o);
    CHECK(!r.done && strstr(r.text, "invalid signature"),
          "TLS-delivered SCTs signed as precert entries: refused: %s", r.text);
    free(list);
    free(leaf);
}

/* An OCSP response (libcrypto) for the leaf, signed by the CA, carrying the
 * SCT list as the 1.3.6.1.4.1.11129.2.4.5 single extension. */
static uint8_t *ocsp_with_scts(const uint8_t *leaf_der, size_t leaf_len, const uint8_t *list,
                               size_t list_len, size_t *out_len) {
    const unsigned char *p = leaf_der;
    X509 *leaf = d2i_X509(NULL, &p, (long)leaf_len);
    p = ca_der;
    X509 *ca = d2i_X509(NULL, &p, (long)ca_len);
    OCSP_CERTID *id = OCSP_cert_to_id(EVP_sha1(), leaf, ca);
    OCSP_BASICRESP *bs = OCSP_BASICRESP_new();
    ASN1_GENERALIZEDTIME *tu = ASN1_GENERALIZEDTIME_set(NULL, (time_t)(NOW - 60));
    ASN1_GENERALIZEDTIME *nu = ASN1_GENERALIZEDTIME_set(NULL, (time_t)(NOW + 86400));
    OCSP_SINGLERESP *single =
        OCSP_basic_add1_status(bs, id, V_OCSP_CERTSTATUS_GOOD, 0, NULL, tu, nu);
    /* extnValue: OCTET STRING { OCTET STRING list } */
    ASN1_OCTET_STRING *inner = ASN1_OCTET_STRING_new(), *outer = ASN1_OCTET_STRING_new();
    ASN1_OCTET_STRING_set(inner, list, (int)list_len);
    unsigned char *wrapped = NULL;
    int wlen = i2d_ASN1_OCTET_STRING(inner, &wrapped);
    ASN1_OCTET_STRING_set(outer, wrapped, wlen);
    ASN1_OBJECT *obj = OBJ_txt2obj("1.3.6.1.4.1.11129.2.4.5", 1);
    X509_EXTENSION *ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, outer);
    OCSP_SINGLERESP_add_ext(single, ext, -1);
    OCSP_basic_sign(bs, ca, (EVP_PKEY *)ca_key, EVP_sha256(), NULL, OCSP_RESPID_KEY | OCSP_NOCERTS);
    OCSP_RESPONSE *r = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, bs);
    unsigned char *der = NULL;
    int n = i2d_OCSP_RESPONSE(r, &der);
    uint8_t *copy = malloc((size_t)n);
    memcpy(copy, der, (size_t)n);
    *out_len = (size_t)n;
    OPENSSL_free(der);
    OPENSSL_free(wrapped);
    OCSP_RESPONSE_free(r);
    OCSP_BASICRESP_free(bs);
    X509_EXTENSION_free(ext);
    ASN1_OBJECT_free(obj);
    ASN1_OCTET_STRING_free(inner);
    ASN1_OCTET_STRING_free(outer);
    ASN1_GENERALIZEDTIME_free(tu);
    ASN1_GENERALIZEDTIME_free(nu);
    OCSP_CERTID_free(id);
    X509_free(leaf);
    X509_free(ca);
    return copy;
}

static void test_ocsp(void) {
    size_t len, list_len, ocsp_len;
    uint8_t *leaf = issue_leaf(90, NULL, 0, &len);
    spec s[] = {{0, 0}, {3, 0}};
    uint8_t *list = make_list(s, 2, SCT_ENTRY_X509, leaf, len, &list_len);
    uint8_t *ocsp = ocsp_with_scts(leaf, len, list, list_len, &ocsp_len);
    x509_cert lc, cc;
    x509_parse(&lc, leaf, len);
    x509_parse(&cc, ca_der, ca_len);
    cursor found;
    CHECK(sct_list_from_ocsp(ocsp, ocsp_len, &lc, &cc, &found) == 1 && found.len == list_len &&
              !memcmp(found.data, list, list_len),
          "the SCT list is found in the OCSP SingleResponse extension");
    CHECK(sct_list_from_ocsp(ocsp, ocsp_len, &cc, &cc, &found) == 0,
          "not for a certificate the response does not name");
    hs_opts o;
    memset(&o, 0, sizeof o);
    o.ocsp = ocsp;
    o.ocsp_len = ocsp_len;
    accepted_both(leaf, len, &o, "Alpha, Gamma", "in the stapled OCSP response");
    free(ocsp);
    free(list);
    free(leaf);
}

static void test_config(void) {
    certa_config *cfg = certa_config_new();
    certa_ct_log l;
    memset(&l, 0, sizeof l);
    l.key = logs[0].spki;
    l.key_len = logs[0].spki_len;
    l.description = "x";
    CHECK(certa_config_add_ct_log(cfg, &l) == CERTA_E_INVALID_ARGUMENT &&
              strstr(certa_config_error_text(cfg), "no operator name"),
          "a log without an operator is refused: %s", certa_config_error_text(cfg));
    l.operator_name = "Op";
    l.log_id = logs[1].id;
    CHECK(certa_config_add_ct_log(cfg, &l) == CERTA_E_INVALID_ARGUMENT &&
              strstr(certa_config_error_text(cfg), "not the SHA-256 of its key"),
          "a log ID that is not the key's hash is refused");
    l.log_id = NULL;
    CHECK(certa_config_add_ct_log(cfg, &l) == CERTA_OK && certa_config_ct_log_count(cfg) == 1,
          "a log with its ID computed from the key is taken");
    CHECK(certa_config_add_ct_log(cfg, &l) == CERTA_E_INVALID_ARGUMENT &&
              strstr(certa_config_error_text(cfg), "listed twice"),
          "the same log twice is refused");
    crypto_key *p384 = key_generate(KEYGEN_P384);
    uint8_t *spki;
    size_t spki_len;
    key_spki_der(p384, &spki, &spki_len);
    l.key = spki;
    l.key_len = spki_len;
    CHECK(certa_config_add_ct_log(cfg, &l) == CERTA_E_INVALID_ARGUMENT &&
              strstr(certa_config_error_text(cfg), "ECDSA P-256 or RSA"),
          "a P-384 log key is refused: %s", certa_config_error_text(cfg));
    free(spki);
    key_free(p384);
    static const uint8_t bad[] = {0x00, 0x02, 0x00, 0x00};
    CHECK(certa_config_set_sct_list(cfg, bad, sizeof bad) == CERTA_E_CONFIG,
          "an SCT list for a config without a certificate is refused");
    CHECK(certa_config_set_sct_policy(cfg, (certa_sct_policy)9) == CERTA_E_INVALID_ARGUMENT,
          "an unknown policy is refused");
    certa_config_free(cfg);

    /* A malformed list for a server with a certificate. */
    cfg = certa_config_new();
    size_t len;
    uint8_t *leaf = issue_leaf(90, NULL, 0, &len);
    char *pem;
    size_t n;
    x509_pem_encode("CERTIFICATE", leaf, len, &pem, &n);
    certa_config_set_cert_chain_pem(cfg, pem, n);
    CHECK(certa_config_set_sct_list(cfg, bad, sizeof bad) == CERTA_E_INVALID_ARGUMENT,
          "a malformed SCT list is refused: %s", certa_config_error_text(cfg));
    free(pem);
    free(leaf);
    certa_config_free(cfg);
}

int main(void) {
    test_known_answer();
    test_parsing();
    setup();
    leaf_key = key_generate(KEYGEN_P256);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, ca_pem, strlen(ca_pem));
    test_precert_roundtrip();
    test_embedded();
    test_tls_extension();
    test_ocsp();
    test_config();
    certa_trust_free(trust);
    key_free(leaf_key);
    key_free(ca_key);
    for (int i = 0; i < NLOGS; i++) {
        key_free(logs[i].key);
        free(logs[i].spki);
    }
    free(ca_der);
    free(ca_pem);
    TEST_EXIT();
}
