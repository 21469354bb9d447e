/* The ACME client's pure parts (tools/acme/, compiled in): JWS against the
 * RFC 7515 examples (A.1 HS256 exactly, A.3 ES256 verified), the RFC 7638
 * thumbprint example, the canonical JWK, ECDSA DER <-> R||S, our own ES256
 * round trip; the directory, order and authorization JSON checks; problem
 * documents as sentences; Retry-After; the CSR (read back and verified by
 * libcrypto) and the tls-alpn-01 acmeIdentifier extension (RFC 8737). */
#include "../../tools/acme/acme_json.c"
#include "../../tools/acme/csr.c"
#include "../../tools/acme/jws.c"
#include "testlib.h"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <time.h>

#include "x509/issue.h"

/* RFC 7515 A.3's P-256 key as a SubjectPublicKeyInfo. */
static crypto_key *rfc7515_a3_key(void) {
    uint8_t spki[91], x[32], y[32];
    static const char prefix[] = "3059301306072a8648ce3d020106082a8648ce3d030107034200 04";
    size_t n = test_unhex(prefix, spki, sizeof spki);
    if (b64url_decode("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", 43, x, 32) != 32 ||
        b64url_decode("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", 43, y, 32) != 32)
        return NULL;
    memcpy(spki + n, x, 32);
    memcpy(spki + n + 32, y, 32);
    return key_from_spki(spki, n + 64);
}

static void test_jws(void) {
    char out[128];
    uint8_t raw[64];
    CHECK(b64url_encode((const uint8_t *)"\xfb\xff", 2, out, sizeof out) == 3 &&
              !strcmp(out, "-_8"),
          "base64url: '-' and '_', no padding");
    CHECK(b64url_decode("-_8", 3, raw, sizeof raw) == 2 && raw[0] == 0xfb && raw[1] == 0xff,
          "base64url decodes back");
    CHECK(b64url_decode("+/8", 3, raw, sizeof raw) < 0, "standard base64 characters are refused");
    CHECK(b64url_decode("abcde", 5, raw, sizeof raw) < 0, "an impossible length is refused");

    /* RFC 7515 A.1: HS256, exact bytes of the protected header (with CRLF). */
    static const char a1_key[] =
        "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hc"
        "gUuTwjAzZr1Z9CAow";
    uint8_t key[64];
    int kl = b64url_decode(a1_key, strlen(a1_key), key, sizeof key);
    char *hs = jws_sign_hs256(key, (size_t)kl, "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}",
                              "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n "
                              "\"http://example.com/is_root\":true}");
    CHECK(hs && strstr(hs, "\"signature\":\"dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk\"") &&
              strstr(hs, "\"protected\":\"eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\""),
          "RFC 7515 A.1 HS256: the RFC's signature and protected header");
    free(hs);

    /* RFC 7515 A.3: ES256 (randomized), so the RFC's signature is verified. */
    crypto_key *a3 = rfc7515_a3_key();
    char jwk[JWS_JWK_MAX];
    CHECK(a3 && jws_jwk(a3, jwk, sizeof jwk) == 0 &&
              !strcmp(jwk,
                      "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV7"
                      "6e8Tus9uPHvRVEU\",\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"),
          "the canonical JWK of RFC 7515 A.3's key (RFC 7638 member order)");
    const char *input = "eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0"
                        "dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
    const char *sig =
        "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3"
        "-Kg6NU1Q";
    CHECK(b64url_decode(sig, strlen(sig), raw, sizeof raw) == 64 && a3 &&
              jws_verify_es256(a3, input, raw) == 0,
          "RFC 7515 A.3 ES256 signature verifies (R||S to DER)");
    raw[10] ^= 1;
    CHECK(a3 && jws_verify_es256(a3, input, raw) != 0, "... and a changed bit does not");
    key_free(a3);

    /* RFC 7638 §3.1: the thumbprint of its RSA example, canonical text. */
    char tp[JWS_THUMBPRINT_LEN + 1];
    const char *rsa_jwk = "{\"e\":\"AQAB\",\"kty\":\"RSA\",\"n\":"
                          "\"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx"
                          "4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_"
                          "2W-5JsGY4Hc5n9yBXArw"
                          "l93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_"
                          "FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn"
                          "1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_"
                          "xBniIqbw0Ls1jF44-csFCur-"
                          "kEgU8awapJzKnqDKgw\"}";
    CHECK(jws_thumbprint_of_jwk(rsa_jwk, tp) == 0 &&
              !strcmp(tp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"),
          "RFC 7638 3.1 thumbprint");

    /* Our own ES256: a flattened JWS whose signature verifies. */
    crypto_key *k = key_generate(KEYGEN_P256);
    char *jws = k ? jws_sign_es256(k, "{\"alg\":\"ES256\"}", "{\"a\":1}") : NULL;
    cJSON *o = jws ? cJSON_Parse(jws) : NULL;
    const char *p = o ? str(o, "protected") : NULL, *y = o ? str(o, "payload") : NULL,
               *s = o ? str(o, "signature") : NULL;
    char si[256];
    snprintf(si, sizeof si, "%s.%s", p ? p : "", y ? y : "");
    CHECK(s && b64url_decode(s, strlen(s), raw, sizeof raw) == 64 &&
              jws_verify_es256(k, si, raw) == 0,
          "ES256 sign then verify (flattened JSON, 64-byte R||S)");
    char *empty = k ? jws_sign_es256(k, "{\"alg\":\"ES256\"}", NULL) : NULL;
    CHECK(empty && strstr(empty, "\"payload\":\"\""), "POST-as-GET: the payload is empty");
    free(empty);
    cJSON_Delete(o);
    free(jws);
    key_free(k);

    uint8_t der[80];
    size_t dl;
    uint8_t r_s[64] = {0};
    r_s[31] = 1;
    r_s[32] = 0x80; /* a high bit: DER needs a leading zero */
    uint8_t back[64];
    CHECK(jws_ecdsa_raw_to_der(r_s, 32, der, sizeof der, &dl) == 0 &&
              jws_ecdsa_der_to_raw(der, dl, back, 32) == 0 && !memcmp(back, r_s, 64),
          "ECDSA R||S -> DER -> R||S (short R, high-bit S)");
    uint8_t bad[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01};
    CHECK(jws_ecdsa_der_to_raw(bad, sizeof bad, back, 32) != 0, "a truncated DER signature");
}

static void test_json(void) {
    acme_directory d;
    char why[256];
    const char *dir =
        "{\"newNonce\":\"https://ca/n\",\"newAccount\":\"https://ca/a\",\"newOrder\":"
        "\"https://ca/o\",\"revokeCert\":\"https://ca/r\",\"keyChange\":\"https://ca/k\","
        "\"meta\":{\"termsOfService\":\"https://ca/tos\",\"externalAccountRequired\":true}}";
    CHECK(acme_parse_directory(dir, strlen(dir), &d, why, sizeof why) == 0 &&
              !strcmp(d.new_order, "https://ca/o") && !strcmp(d.key_change, "https://ca/k") &&
              !strcmp(d.terms_of_service, "https://ca/tos") && d.eab_required,
          "directory: URLs, terms, externalAccountRequired");
    const char *plain =
        "{\"newNonce\":\"http://ca/n\",\"newAccount\":\"https://ca/a\",\"newOrder\":\"x\"}";
    CHECK(acme_parse_directory(plain, strlen(plain), &d, why, sizeof why) != 0 &&
              strstr(why, "newNonce"),
          "directory: an http:// URL is refused (%s)", why);
    const char *crlf = "{\"newNonce\":\"https://ca/n\\r\\nX: "
                       "y\",\"newAccount\":\"https://a\",\"newOrder\":\"https://o\"}";
    CHECK(acme_parse_directory(crlf, strlen(crlf), &d, why, sizeof why) != 0,
          "directory: a URL with CR LF (header injection) is refused");
    CHECK(acme_parse_directory("[1]", 3, &d, why, sizeof why) != 0, "directory: not an object");

    acme_order ord;
    const char *order =
        "{\"status\":\"valid\",\"authorizations\":[\"https://ca/z/1\",\"https://ca/z/2\"],"
        "\"finalize\":\"https://ca/f\",\"certificate\":\"https://ca/c\"}";
    CHECK(acme_parse_order(order, strlen(order), &ord, why, sizeof why) == 0 &&
              ord.status == ACME_STATUS_VALID && ord.n_authz == 2 &&
              !strcmp(ord.authz[1], "https://ca/z/2") && !strcmp(ord.certificate, "https://ca/c"),
          "order: status, authorizations, finalize, certificate");
    acme_order_free(&ord);
    const char *nocert =
        "{\"status\":\"valid\",\"authorizations\":[],\"finalize\":\"https://ca/f\"}";
    CHECK(acme_parse_order(nocert, strlen(nocert), &ord, why, sizeof why) != 0,
          "order: valid without a certificate URL is refused");
    const char *badaz =
        "{\"status\":\"pending\",\"authorizations\":[7],\"finalize\":\"https://ca/f\"}";
    CHECK(acme_parse_order(badaz, strlen(badaz), &ord, why, sizeof why) != 0,
          "order: a non-string authorization is refused");
    const char *inv =
        "{\"status\":\"invalid\",\"authorizations\":[],\"finalize\":\"https://ca/f\","
        "\"error\":{\"type\":\"urn:ietf:params:acme:error:caa\",\"detail\":\"CAA forbids\"}}";
    CHECK(acme_parse_order(inv, strlen(inv), &ord, why, sizeof why) == 0 &&
              ord.status == ACME_STATUS_INVALID && strstr(ord.error, "CAA forbids") &&
              strstr(ord.error, "error:caa"),
          "order: its error as a sentence (%s)", ord.error);
    acme_order_free(&ord);

    acme_authz az;
    const char *authz =
        "{\"status\":\"pending\",\"identifier\":{\"type\":\"dns\",\"value\":\"a.test\"},"
        "\"challenges\":[{\"type\":\"http-01\",\"url\":\"https://ca/c/1\",\"token\":"
        "\"../../etc/passwd-aaaaaaaaaaaaaa\"},{\"type\":\"dns-01\",\"url\":\"https://ca/c/2\","
        "\"token\":\"DGyRejmCefe7v4NfDGDKfA_0123456789\"},{\"type\":\"x\"}],\"wildcard\":true}";
    CHECK(acme_parse_authz(authz, strlen(authz), &az, why, sizeof why) == 0 && az.wildcard &&
              !strcmp(az.id_value, "a.test") && az.n_challenges == 2 &&
              az.challenges[0].token[0] == 0 &&
              !strcmp(az.challenges[1].token, "DGyRejmCefe7v4NfDGDKfA_0123456789"),
          "authz: a token with '/' or '.' is not taken (it becomes a file name); a challenge "
          "without a url is skipped");
    const char *email =
        "{\"status\":\"pending\",\"identifier\":{\"type\":\"email\",\"value\":\"a\"},"
        "\"challenges\":[]}";
    CHECK(acme_parse_authz(email, strlen(email), &az, why, sizeof why) != 0,
          "authz: an identifier other than dns or ip is refused");
}

static void test_problems(void) {
    char out[1024];
    const char *rl =
        "{\"type\":\"urn:ietf:params:acme:error:rateLimited\",\"detail\":\"too many "
        "certificates\",\"subproblems\":[{\"type\":\"urn:ietf:params:acme:error:"
        "rejectedIdentifier\",\"detail\":\"no\\nway\",\"identifier\":{\"type\":\"dns\","
        "\"value\":\"b.test\"}}]}";
    acme_problem_sentence(rl, strlen(rl), 429, 3600, out, sizeof out);
    CHECK(strstr(out, "too many certificates (urn:ietf:params:acme:error:rateLimited, HTTP 429)") &&
              strstr(out, "for b.test: no way (urn:ietf:params:acme:error:rejectedIdentifier)") &&
              strstr(out, "wait and try again") && strstr(out, "retry after 3600 s"),
          "a problem document: detail, type, status, subproblem (control characters blanked), "
          "hint, Retry-After: %s",
          out);
    acme_problem_sentence("<html>oops</html>", 17, 500, -1, out, sizeof out);
    CHECK(!strcmp(out, "the ACME server answered HTTP 500 without a problem document"),
          "not a problem document: %s", out);
    char small[24];
    acme_problem_sentence(rl, strlen(rl), 429, 3600, small, sizeof small);
    CHECK(strlen(small) < sizeof small, "a short buffer is cut, never overrun");
    CHECK(acme_parse_retry_after("120", 0) == 120 &&
              acme_parse_retry_after("99999999", 0) == 86400 &&
              acme_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111717) == 60 &&
              acme_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", 784111800) == 0 &&
              acme_parse_retry_after("soon", 0) == -1 && acme_parse_retry_after("-5", 0) == -1,
          "Retry-After: seconds (capped at a day), an HTTP-date, garbage");
    char type[64];
    acme_problem_type("{\"type\":\"urn:ietf:params:acme:error:badNonce\"}", 46, type, sizeof type);
    CHECK(!strcmp(type, "urn:ietf:params:acme:error:badNonce"), "the problem type alone");
}

static void test_csr(void) {
    crypto_key *k = key_generate(KEYGEN_P384);
    const char *dns[] = {"a.certa.test", "*.b.certa.test"};
    x509_ip ip;
    x509_parse_ip("192.0.2.7", &ip);
    uint8_t *der = NULL;
    size_t len = 0;
    int r = k ? acme_csr_build(k, dns, 2, &ip, 1, &der, &len) : -1;
    const uint8_t *p = der;
    X509_REQ *req = r == 0 ? d2i_X509_REQ(NULL, &p, (long)len) : NULL;
    EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
    CHECK(req && pub && X509_REQ_verify(req, pub) == 1 && p == der + len,
          "CSR: libcrypto parses it whole and its signature verifies (P-384)");
    STACK_OF(X509_EXTENSION) *exts = req ? X509_REQ_get_extensions(req) : NULL;
    GENERAL_NAMES *gns = exts ? X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL) : NULL;
    int n = gns ? sk_GENERAL_NAME_num(gns) : 0;
    bool names_ok = n == 3;
    for (int i = 0; names_ok && i < n; i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gns, i);
        if (i < 2)
            names_ok = g->type == GEN_DNS &&
                       !strcmp((const char *)ASN1_STRING_get0_data(g->d.dNSName), dns[i]);
        else
            names_ok = g->type == GEN_IPADD && ASN1_STRING_length(g->d.iPAddress) == 4 &&
                       !memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip.addr, 4);
    }
    CHECK(names_ok, "CSR: the subjectAltName request holds the two DNS names and the IP address");
    char cn[128] = "";
    X509_NAME_get_text_by_NID(req ? X509_REQ_get_subject_name(req) : NULL, NID_commonName, cn,
                              sizeof cn);
    CHECK(!strcmp(cn, "a.certa.test"), "CSR: the first DNS name is the subject CN");
    GENERAL_NAMES_free(gns);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    X509_REQ_free(req);
    free(der);
    key_free(k);
}

static void test_acme_identifier(void) {
    crypto_key *k = key_generate(KEYGEN_P256);
    uint8_t digest[32], serial[X509_SERIAL_LEN];
    hash_oneshot(HASH_SHA256, (const uint8_t *)"token.thumb", 11, digest);
    x509_random_serial(serial);
    const char *dns[] = {"alpn.certa.test"};
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.subject_cn = "v";
    p.not_before = time(NULL) - 60;
    p.not_after = time(NULL) + 3600;
    p.server_auth = true;
    p.dns = dns;
    p.n_dns = 1;
    p.acme_identifier = digest;
    uint8_t *der = NULL;
    size_t len;
    int r = k ? x509_issue(&p, k, k, &der, &len) : -1;
    const uint8_t *q = der;
    X509 *x = r == 0 ? d2i_X509(NULL, &q, (long)len) : NULL;
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    int at = x ? X509_get_ext_by_OBJ(x, oid, -1) : -1;
    X509_EXTENSION *e = at >= 0 ? X509_get_ext(x, at) : NULL;
    ASN1_OCTET_STRING *v = e ? X509_EXTENSION_get_data(e) : NULL;
    /* extnValue = DER of OCTET STRING (32 bytes) */
    bool ok = v && ASN1_STRING_length(v) == 34 && ASN1_STRING_get0_data(v)[0] == 0x04 &&
              ASN1_STRING_get0_data(v)[1] == 32 &&
              !memcmp(ASN1_STRING_get0_data(v) + 2, digest, 32);
    CHECK(e && X509_EXTENSION_get_critical(e) && ok,
          "tls-alpn-01 certificate: critical id-pe-acmeIdentifier holding the SHA-256 (RFC 8737)");
    ASN1_OBJECT_free(oid);
    X509_free(x);
    free(der);
    key_free(k);
}

int main(void) {
    test_jws();
    test_json();
    test_problems();
    test_csr();
    test_acme_identifier();
    TEST_EXIT();
}
