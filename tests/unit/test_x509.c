/* X.509 parsing, names, pins, summaries and PEM, against real certificates
 * made once with the openssl CLI:
 *   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
 *     -subj "/C=US/O=Example/CN=api.internal" -set_serial 0x1001
 *   openssl req -x509 -newkey rsa:2048 -nodes -days 10000 -multivalue-rdn -set_serial 2 \
 *     -subj '/C=DE/ST=Berlin/L=Berlin/O=Example,
 * Inc./OU=Ops\+Infra/CN=rsa.example.com+serialNumber=42/emailAddress=ops@example.com'
 *   openssl req -x509 -newkey ed25519 -nodes -days 30 -set_serial 3 \
 *     -subj "/DC=com/DC=example/CN=ed25519 leaf"
 *   openssl req -new -key ec.key -subj "/CN=v1 legacy" | openssl x509 -req -signkey ec.key \
 *     -days 1 -set_serial 0x00ff                                   (a version 1 certificate)
 * Validity values from `date -u -d "$(openssl x509 -noout -startdate ...)" +%s`; pins from
 *   openssl x509 -pubkey -noout | openssl pkey -pubin -outform der |
 *     openssl dgst -sha256 -binary | base64 */
#include <errno.h>
#include <unistd.h>

#include "certa.h"
#include "testlib.h"
#include "wire/der.h"
#include "x509/cert.h"
#include "x509/pem.h"

/* clang-format off */
static const char EC_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBsDCCAVWgAwIBAgICEAEwCgYIKoZIzj0EAwIwNjELMAkGA1UEBhMCVVMxEDAO\n"
    "BgNVBAoMB0V4YW1wbGUxFTATBgNVBAMMDGFwaS5pbnRlcm5hbDAeFw0yNjExMjMx\n"
    "NjM5MTlaFw0yNzExMjMxNjM5MTlaMDYxCzAJBgNVBAYTAlVTMRAwDgYDVQQKDAdF\n"
    "eGFtcGxlMRUwEwYDVQQDDAxhcGkuaW50ZXJuYWwwWTATBgcqhkjOPQIBBggqhkjO\n"
    "PQMBBwNCAARt3Jje9sdUTGy4HJxVxyHm7FDyQT6pnwukDH47nW7OCjQ9cbgZAPCF\n"
    "+bj9/ZgdWZmNNwcyasD3WzMD0ntkoXXEo1MwUTAdBgNVHQ4EFgQU+vKsPEXfa/1a\n"
    "uPYS6oPgAenfMIUwHwYDVR0jBBgwFoAU+vKsPEXfa/1auPYS6oPgAenfMIUwDwYD\n"
    "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAx37cPlonm2Se68ZJWSyy\n"
    "zuR1PfWwMz/WPiviA2J4t1ICIQDVQgNdn5ilIAbvugDhb74s+DXwpFzWF/6hOzVa\n"
    "/Hno7Q==\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char RSA_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIEEjCCAvqgAwIBAgIBAjANBgkqhkiG9w0BAQsFADCBoDELMAkGA1UEBhMCREUx\n"
    "DzANBgNVBAgMBkJlcmxpbjEPMA0GA1UEBwwGQmVybGluMRYwFAYDVQQKDA1FeGFt\n"
    "cGxlLCBJbmMuMRIwEAYDVQQLDAlPcHMrSW5mcmExIzAJBgNVBAUTAjQyMBYGA1UE\n"
    "AwwPcnNhLmV4YW1wbGUuY29tMR4wHAYJKoZIhvcNAQkBFg9vcHNAZXhhbXBsZS5j\n"
    "b20wIBcNMjYxMTIzMTYzOTI0WhgPMjA1NDA0MTAxNjM5MjRaMIGgMQswCQYDVQQG\n"
    "EwJERTEPMA0GA1UECAwGQmVybGluMQ8wDQYDVQQHDAZCZXJsaW4xFjAUBgNVBAoM\n"
    "DUV4YW1wbGUsIEluYy4xEjAQBgNVBAsMCU9wcytJbmZyYTEjMAkGA1UEBRMCNDIw\n"
    "FgYDVQQDDA9yc2EuZXhhbXBsZS5jb20xHjAcBgkqhkiG9w0BCQEWD29wc0BleGFt\n"
    "cGxlLmNvbTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAKw5+2v0hLlS\n"
    "u9n7zdI96y5vc3yEpTFxzXZqeL0ksu9Mvgj6LtWh7mqwePZd8+v0Vyc53Ksb402u\n"
    "RXzve0DxDzwuzS5iwBDL4K+fOQbVAACPbF2/IMj1HTqaNxeujbWQ/L9j9JxuBA/Z\n"
    "wz700n8ZsAS5eSGTToWdC8GzrIA/UAZ2fMyiriNIMokhMIcHaM2TyhWi+tRHO1Ja\n"
    "ywsVOJveFcdhiohi95rVa7ufWIECrKSxJGlmIBxKMTbeBOD6oRpQ0PkNcs1hF1PV\n"
    "TfzOJA2aRN/SLZe8iPQ3UgR73SuclThjcW5vZX6NcSOsDftIMDWLoQslyuiiotiq\n"
    "f7JXk1leCLkCAwEAAaNTMFEwHQYDVR0OBBYEFPpfc+Jx8s5jZmKfrNMPUiNhp33b\n"
    "MB8GA1UdIwQYMBaAFPpfc+Jx8s5jZmKfrNMPUiNhp33bMA8GA1UdEwEB/wQFMAMB\n"
    "Af8wDQYJKoZIhvcNAQELBQADggEBAIwSu3mgxEew++RVOr+ANMOF9VBDTvqh0Sun\n"
    "t0gmYuDcaAV2Q9zPrjrG/N7cj1GhNv4i+uP4YS7EAOsdnrv1P6W1ZxL3wF34cog/\n"
    "k/hO8P1hLkVcolNVT9u6+PtbHhf5B1TKisOG53EEIC/xvtRecKwKyUr7OopCZqXw\n"
    "ng7PvLCOe1r0z/1LGoGqPma3I6CSfKOOzlllvXqRXibbwVTXuYNRDA8jZgJbMyZ9\n"
    "nSV2k7YIiOc9Z7JfQ8w2Xvjud0LLxjylpPj8ggzoFuqMNUrzSeb8ngUtWjYJ7aPn\n"
    "EYuN80QVpOddaU/GPC2IyPtgdiux4CfVZvyLpyfrWUED722VqjU=\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char ED_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBjDCCAT6gAwIBAgIBAzAFBgMrZXAwRTETMBEGCgmSJomT8ixkARkWA2NvbTEX\n"
    "MBUGCgmSJomT8ixkARkWB2V4YW1wbGUxFTATBgNVBAMMDGVkMjU1MTkgbGVhZjAe\n"
    "Fw0yNjExMjMxNjM5MTlaFw0yNjEyMjMxNjM5MTlaMEUxEzARBgoJkiaJk/IsZAEZ\n"
    "FgNjb20xFzAVBgoJkiaJk/IsZAEZFgdleGFtcGxlMRUwEwYDVQQDDAxlZDI1NTE5\n"
    "IGxlYWYwKjAFBgMrZXADIQCpHGh0tIxH81yQIoJ2VmqQvgNF0VKiCTbJQ/EGoLKX\n"
    "XaNTMFEwHQYDVR0OBBYEFGDriQOMHS9HOJO80qcLBkHjZa1/MB8GA1UdIwQYMBaA\n"
    "FGDriQOMHS9HOJO80qcLBkHjZa1/MA8GA1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EA\n"
    "LUaC/x7rGN6kfuOySN3aRkxa3aWsCPVJNsMmdKP16GDNTOHnNgy5xmnyfu1LeCZR\n"
    "nW32O+5RoVRgMVKr2yQOAA==\n"
    "-----END CERTIFICATE-----\n"
    ;
static const char V1_PEM[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBDzCBtwICAP8wCgYIKoZIzj0EAwIwFDESMBAGA1UEAwwJdjEgbGVnYWN5MB4X\n"
    "DTI2MTEyMzE2NDEyNFoXDTI2MTEyNDE2NDEyNFowFDESMBAGA1UEAwwJdjEgbGVn\n"
    "YWN5MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEbdyY3vbHVExsuBycVcch5uxQ\n"
    "8kE+qZ8LpAx+O51uzgo0PXG4GQDwhfm4/f2YHVmZjTcHMmrA91szA9J7ZKF1xDAK\n"
    "BggqhkjOPQQDAgNHADBEAiByTFrYAmI4W+nP9PinXCCsIgPYBRlGJ43hQV5eR9NH\n"
    "dQIgKKiw+l5NijuAbVdbkmOzUNXg7lwv/aBsqTijf6Ktbwk=\n"
    "-----END CERTIFICATE-----\n"
    ;
/* clang-format on */

struct expect {
    const char *what;
    const char *pem;
    int version;
    const char *serial_hex;
    const char *name;
    int64_t not_before, not_after;
    const char *key_type;
    const char *pin;
};

static const struct expect certs[] = {
    {"ECDSA P-256", EC_PEM, 3, "1001", "CN=api.internal, O=Example, C=US", 1795451959, 1826987959,
     "ECDSA P-256", "sha256:5ZKGGIS75DzsLOCuWu3eLT8JyLGfqKbjb7o0vp3ieNQ="},
    {"RSA 2048", RSA_PEM, 3, "02",
     "emailAddress=ops@example.com, CN=rsa.example.com+serialNumber=42, OU=Ops\\+Infra, "
     "O=Example\\, Inc., L=Berlin, ST=Berlin, C=DE",
     1795451964, 2659451964 /* 2054: GeneralizedTime */, "RSA 2048",
     "sha256:grX71j/E5KXQ97m0GRX3BTKHWLjWFLcy5kO7jr+ic8U="},
    {"Ed25519", ED_PEM, 3, "03", "CN=ed25519 leaf, DC=example, DC=com", 1795451959, 1798043959,
     "Ed25519", "sha256:qvcji/SKgXWAJXQQEkOQOGbM3rRlSjuQK3bT6mRM5oE="},
    {"v1", V1_PEM, 1, "00ff", "CN=v1 legacy", 1795452084, 1795538484, "ECDSA P-256",
     "sha256:5ZKGGIS75DzsLOCuWu3eLT8JyLGfqKbjb7o0vp3ieNQ="},
};
#define NCERTS (sizeof certs / sizeof certs[0])

/* DER of one PEM certificate (malloc'd). */
static uint8_t *der_of(const char *pem, size_t *len) {
    size_t pos = 0;
    uint8_t *der = NULL;
    if (pem_next(pem, strlen(pem), &pos, "CERTIFICATE", &der, len) != 1) return NULL;
    return der;
}

static void test_real_certs(void) {
    for (size_t i = 0; i < NCERTS; i++) {
        const struct expect *e = &certs[i];
        size_t len;
        uint8_t *der = der_of(e->pem, &len);
        CHECK(der != NULL && len > 100, "%s: PEM decodes", e->what);
        if (!der) continue;
        x509_cert cert;
        CHECK(x509_parse(&cert, der, len) == 0, "%s: parses", e->what);
        CHECK(cert.der.data == der && cert.der.len == len, "%s: der covers the input", e->what);
        CHECK(cert.version == e->version, "%s: version %d", e->what, cert.version);
        CHECK_HEX(cert.serial.data, cert.serial.len, e->serial_hex, "%s: serial", e->what);
        CHECK(cert.not_before == e->not_before, "%s: notBefore %lld", e->what,
              (long long)cert.not_before);
        CHECK(cert.not_after == e->not_after, "%s: notAfter %lld", e->what,
              (long long)cert.not_after);
        CHECK(cert.tbs.data == der + 4 && cert.tbs.data[0] == 0x30, "%s: tbs element", e->what);
        CHECK(cert.sig.len > 0 && cert.sig_alg.len > 0 && cert.tbs_sig_alg.len == cert.sig_alg.len,
              "%s: signature fields", e->what);
        CHECK(e->version == 3 ? cert.extensions.len > 0 : cert.extensions.len == 0,
              "%s: extensions", e->what);
        CHECK(cert.spki.data[0] == 0x30 && cert.spki.data > cert.tbs.data &&
                  cert.spki.data + cert.spki.len <= cert.tbs.data + cert.tbs.len,
              "%s: spki inside tbs", e->what);

        char name[512];
        CHECK(x509_name_to_string(&cert.subject, name, sizeof name) == 0 &&
                  strcmp(name, e->name) == 0,
              "%s: subject \"%s\"", e->what, name);
        CHECK(x509_name_to_string(&cert.issuer, name, sizeof name) == 0 &&
                  strcmp(name, e->name) == 0,
              "%s: issuer \"%s\"", e->what, name);
        size_t need = strlen(e->name) + 1;
        CHECK(x509_name_to_string(&cert.subject, name, need) == 0, "%s: exact-size buffer",
              e->what);
        CHECK(x509_name_to_string(&cert.subject, name, need - 1) == -1, "%s: one byte short fails",
              e->what);

        char pin[64];
        CHECK(x509_spki_pin(&cert, pin, sizeof pin) == 0 && strcmp(pin, e->pin) == 0, "%s: pin %s",
              e->what, pin);
        CHECK(x509_spki_pin(&cert, pin, 51) == -1, "%s: pin into a short buffer fails", e->what);

        certa_cert_summary s;
        CHECK(certa_cert_summarize(der, len, &s) == CERTA_OK, "%s: summarize", e->what);
        CHECK(strcmp(s.subject, e->name) == 0 && strcmp(s.issuer, e->name) == 0,
              "%s: summary names", e->what);
        CHECK(s.not_before == e->not_before && s.not_after == e->not_after, "%s: summary validity",
              e->what);
        CHECK(strcmp(s.key_type, e->key_type) == 0, "%s: key type \"%s\"", e->what, s.key_type);
        CHECK(strcmp(s.spki_sha256, e->pin) == 0, "%s: summary pin", e->what);

        /* Every truncation fails; so does any trailing byte. */
        int truncated_ok = 0;
        for (size_t n = 0; n < len; n++)
            if (x509_parse(&cert, der, n) == 0) truncated_ok++;
        CHECK(truncated_ok == 0, "%s: all %zu truncations rejected", e->what, len);
        CHECK(certa_cert_summarize(der, len - 1, &s) == CERTA_E_BAD_CERTIFICATE &&
                  s.subject[0] == '\0',
              "%s: summarize rejects a truncated certificate", e->what);
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, der, len);
        longer[len] = 0;
        CHECK(x509_parse(&cert, longer, len + 1) == -1, "%s: trailing byte rejected", e->what);
        free(longer);

        /* Single-byte corruptions: never a crash (ASan checks), and the
         * structural ones are caught. */
        int rejected = 0;
        for (size_t k = 0; k < len; k++) {
            uint8_t saved = der[k];
            der[k] ^= 0x80;
            if (x509_parse(&cert, der, len) != 0) {
                rejected++;
            } else {
                x509_name_to_string(&cert.subject, name, sizeof name);
            }
            der[k] = saved;
        }
        CHECK(rejected > 0 && x509_parse(&cert, der, len) == 0,
              "%s: %d of %zu bit flips rejected, original intact", e->what, rejected, len);
        free(der);
    }
}

/* Replaces the first occurrence of `from` (hex) in der with `to` (same length). */
static int patch(uint8_t *der, size_t len, const char *from_hex, const char *to_hex) {
    uint8_t from[64], to[64];
    size_t fn = test_unhex(from_hex, from, sizeof from), tn = test_unhex(to_hex, to, sizeof to);
    if (fn != tn) return -1;
    for (size_t i = 0; i + fn <= len; i++) {
        if (memcmp(der + i, from, fn) == 0) {
            memcpy(der + i, to, tn);
            return 0;
        }
    }
    return -1;
}

static void test_corruptions(void) {
    size_t len;
    uint8_t *der = der_of(EC_PEM, &len), *copy = malloc(len);
    x509_cert cert;
    struct {
        const char *what, *from, *to;
    } cases[] = {
        {"explicit version v1 (DEFAULT must be omitted)", "a003020102", "a003020100"},
        {"version 4", "a003020102", "a003020103"},
        {"non-minimal serial", "02021001", "02020001"},
        {"UTCTime month 13", "170d3236313132", "170d3236313332"},
        {"notBefore tagged PrintableString", "170d3236", "130d3236"},
        {"BOOLEAN critical 0x01", "0101ff", "010101"},
        {"outer sequence with indefinite length", "3082", "3080"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memcpy(copy, der, len);
        int found = patch(copy, len, cases[i].from, cases[i].to);
        CHECK(found == 0 && x509_parse(&cert, copy, len) == -1, "rejects %s", cases[i].what);
    }
    /* A v1 certificate must not carry extensions: relabel the v3 cert. */
    memcpy(copy, der, len);
    CHECK(patch(copy, len, "a003020102", "a003020100") == 0 && x509_parse(&cert, copy, len) == -1,
          "v1 with extensions rejected");
    free(copy);
    free(der);

    CHECK(x509_parse(&cert, (const uint8_t *)"", 0) == -1, "empty input rejected");
    CHECK(x509_parse(&cert, NULL, 10) == -1, "NULL input rejected");
    certa_cert_summary s;
    CHECK(certa_cert_summarize((const uint8_t *)"\x30\x00", 2, &s) == CERTA_E_BAD_CERTIFICATE,
          "summarize rejects an empty SEQUENCE");
}

/* Renders a Name given as hex. */
static int name_hex(const char *hex, char *out, size_t cap) {
    static uint8_t buf[1024];
    cursor c;
    cur_init(&c, buf, test_unhex(hex, buf, sizeof buf));
    return x509_name_to_string(&c, out, cap);
}

static void test_names(void) {
    char s[256];
    CHECK(name_hex("3000", s, sizeof s) == 0 && s[0] == '\0', "empty Name renders as \"\"");
    /* CN with specials: a"b<c>d;e\f */
    CHECK(name_hex("300f310d300b06035504030c04"
                   "2223233b",
                   s, sizeof s) == 0 &&
              strcmp(s, "CN=\\\"##\\;") == 0,
          "quote and ; escaped, inner # not: %s", s);
    CHECK(name_hex("300d310b300906035504030c02"
                   "2361",
                   s, sizeof s) == 0 &&
              strcmp(s, "CN=\\#a") == 0,
          "leading # escaped: %s", s);
    CHECK(name_hex("3011310f300d06035504030c06"
                   "3c3e5c2c2b3d",
                   s, sizeof s) == 0 &&
              strcmp(s, "CN=\\<\\>\\\\\\,\\+=") == 0,
          "< > \\ , + escaped, = not: %s", s);
    CHECK(name_hex("300f310d300b06035504030c04"
                   "20612020",
                   s, sizeof s) == 0 &&
              strcmp(s, "CN=\\ a \\ ") == 0,
          "leading and trailing spaces escaped: %s", s);
    CHECK(name_hex("300f310d300b06035504030c04"
                   "0a7fc3a9",
                   s, sizeof s) == 0 &&
              strcmp(s, "CN=\\0A\\7F\\C3\\A9") == 0,
          "control and non-ASCII bytes as \\XX: %s", s);
    CHECK(name_hex("300f310d300b06035504031e04"
                   "00e90041",
                   s, sizeof s) == 0 &&
              strcmp(s, "CN=\\C3\\A9A") == 0,
          "BMPString decoded to UTF-8: %s", s);
    CHECK(name_hex("300f310d300b06035504031e03"
                   "00e900",
                   s, sizeof s) == -1,
          "odd-length BMPString rejected");
    CHECK(name_hex("3013311130"
                   "0f06035504031c08"
                   "0001f60000000041",
                   s, sizeof s) == 0 &&
              strcmp(s, "CN=\\F0\\9F\\98\\80A") == 0,
          "UniversalString decoded: %s", s);
    CHECK(name_hex("30103"
                   "10e300c06042a0304050c0478797a21",
                   s, sizeof s) == 0 &&
              strcmp(s, "1.2.3.4.5=xyz!") == 0,
          "unknown OID dotted: %s", s);
    CHECK(name_hex("3010310e300c060388370102050001", s, sizeof s) == -1 || strcmp(s, "") != 0,
          "odd forms do not crash");
    CHECK(name_hex("300c310a3008060355040302012a", s, sizeof s) == 0 &&
              strcmp(s, "CN=#02012A") == 0,
          "non-string value as #hex: %s", s);
    CHECK(name_hex("300f310d300b0603550403 0c04 41 42 43 44", s, sizeof s) == 0 &&
              strcmp(s, "CN=ABCD") == 0,
          "plain CN");
    CHECK(name_hex("301a310b300906035504060c02 5553 310b300906035504030c02 6869", s, sizeof s) ==
                  0 &&
              strcmp(s, "CN=hi, C=US") == 0,
          "most specific RDN first: %s", s);
    CHECK(name_hex("30183116300906035504060c025553"
                   "300906035504030c026869",
                   s, sizeof s) == 0 &&
              strcmp(s, "CN=hi+C=US") == 0,
          "multi-valued RDN joined with +: %s", s);
    CHECK(name_hex("300231 00", s, sizeof s) == -1, "empty RDN rejected");
    CHECK(name_hex("300d310b300906035504030c03 4142", s, sizeof s) == -1,
          "inner length past the end rejected");
    CHECK(name_hex("300e310c300a06035504030c0141 0500", s, sizeof s) == -1,
          "extra element in an AttributeTypeAndValue rejected");
    CHECK(name_hex("300b3109300706000c03414243", s, sizeof s) == -1, "empty OID rejected");
    CHECK(name_hex("3011310f300d0609"
                   "2a864886f70d0109010c00",
                   s, sizeof s) == 0 &&
              strcmp(s, "emailAddress=") == 0,
          "emailAddress, empty value: %s", s);
    CHECK(name_hex("300f310d300b06035504030c04 41424344 00", s, sizeof s) == -1,
          "trailing byte after the Name rejected");
    CHECK(name_hex("300f310d300b06035504030c04 41424344", s, 7) == -1 && s[0] == '\0',
          "too small a buffer fails with an empty string");
    CHECK(name_hex("300f310d300b06035504030c04 41424344", s, 8) == 0 && strcmp(s, "CN=ABCD") == 0,
          "exactly fitting buffer");

    CHECK(name_hex("300f310d300b06035504110c04 31323334", s, sizeof s) == 0 &&
              strcmp(s, "postalCode=1234") == 0,
          "postalCode named like OpenSSL: %s", s);
    CHECK(name_hex("3015 3113 3011 060b 2b0601040182373c020103 0c025553", s, sizeof s) == 0 &&
              strcmp(s, "jurisdictionC=US") == 0,
          "jurisdictionC: %s", s);

    /* Many RDNs (more than the renderer's on-stack list). */
    uint8_t big[4 + 40 * 11];
    size_t n = 0;
    big[n++] = 0x30;
    big[n++] = 0x82;
    n += 2; /* length below */
    for (int i = 0; i < 40; i++) {
        static const uint8_t rdn[] = {0x31, 0x09, 0x30, 0x07, 0x06, 0x03,
                                      0x55, 0x04, 0x03, 0x0c, 0x00};
        memcpy(big + n, rdn, sizeof rdn);
        n += sizeof rdn;
    }
    (void)sizeof big;
    uint8_t *bn = malloc(n);
    memcpy(bn, big, n);
    bn[2] = (uint8_t)((n - 4) >> 8);
    bn[3] = (uint8_t)(n - 4);
    cursor c;
    cur_init(&c, bn, n);
    char many[512];
    CHECK(x509_name_to_string(&c, many, sizeof many) == 0 && strlen(many) == 40 * 3 + 39 * 2,
          "40 RDNs rendered (%zu chars)", strlen(many));
    free(bn);
}

static void test_pem(void) {
    /* A bundle: text before and between blocks, another label, CRLF line
     * ends and stray whitespace inside the base64. */
    size_t cap = strlen(EC_PEM) + strlen(RSA_PEM) + strlen(ED_PEM) + 4096;
    char *bundle = malloc(cap * 2);
    size_t n = 0;
    n += (size_t)sprintf(bundle + n, "Bundle of test certificates\n\n");
    for (const char *p = EC_PEM; *p; p++) {
        if (*p == '\n') bundle[n++] = '\r';
        bundle[n++] = *p;
    }
    n += (size_t)sprintf(bundle + n, "subject=whatever\n-----BEGIN PRIVATE KEY-----\nAAAA\n"
                                     "-----END PRIVATE KEY-----\n");
    for (const char *p = RSA_PEM; *p; p++) {
        bundle[n++] = *p;
        if (*p == 'Q') bundle[n++] = ' '; /* whitespace inside base64 lines */
    }
    n += (size_t)sprintf(bundle + n, "%s  \n", ED_PEM);

    size_t pos = 0, len;
    uint8_t *der;
    const struct expect *want[] = {&certs[0], &certs[1], &certs[2]};
    for (int i = 0; i < 3; i++) {
        int rc = pem_next(bundle, n, &pos, "CERTIFICATE", &der, &len);
        x509_cert cert;
        char pin[64];
        CHECK(rc == 1 && x509_parse(&cert, der, len) == 0 &&
                  x509_spki_pin(&cert, pin, sizeof pin) == 0 && strcmp(pin, want[i]->pin) == 0,
              "bundle block %d is the %s certificate", i, want[i]->what);
        if (rc == 1) free(der);
    }
    CHECK(pem_next(bundle, n, &pos, "CERTIFICATE", &der, &len) == 0 && der == NULL,
          "end of bundle");
    CHECK(pem_next(bundle, n, &pos, "CERTIFICATE", &der, &len) == 0, "still the end");
    pos = 0;
    CHECK(pem_next(bundle, n, &pos, "PRIVATE KEY", &der, &len) == 1 && len == 3,
          "other labels found by label");
    free(der);
    pos = 0;
    CHECK(pem_next(bundle, n, &pos, "TRUSTED CERTIFICATE", &der, &len) == 0,
          "missing label: no blocks");
    free(bundle);

    static const char *bad[] = {
        "-----BEGIN CERTIFICATE-----\nAAAA\n",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END X509 CRL-----\n",
        "-----BEGIN CERTIFICATE-----\nAA!A\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\nAAAA\n-----END CERTIFICATE-----\n",
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN CERTIFICATE-----\nAAAA\n"
         "-----END CERTIFICATE-----\n"),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pos = 0;
        der = (uint8_t *)1;
        CHECK(pem_next(bad[i], strlen(bad[i]), &pos, "CERTIFICATE", &der, &len) == -1 &&
                  der == NULL,
              "malformed PEM %zu rejected", i);
    }
    pos = 0;
    CHECK(pem_next("", 0, &pos, "CERTIFICATE", &der, &len) == 0, "empty text: no blocks");
    const char *good = "-----BEGIN CERTIFICATE-----\r\nAQID\r\n-----END CERTIFICATE-----";
    pos = 0;
    CHECK(pem_next(good, strlen(good), &pos, "CERTIFICATE", &der, &len) == 1 && len == 3 &&
              der[2] == 3 && pos == strlen(good),
          "block at the very end of the text");
    free(der);
    /* Length bounds the search even without a NUL. */
    pos = 0;
    CHECK(pem_next(good, strlen(good) - 1, &pos, "CERTIFICATE", &der, &len) == -1,
          "END cut off by len");
}

static void test_read_file(void) {
    char path[] = "/tmp/certa-test-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "temp file");
    if (fd < 0) return;
    CHECK(write(fd, EC_PEM, strlen(EC_PEM)) == (ssize_t)strlen(EC_PEM), "write temp file");
    char *text;
    size_t len;
    CHECK(read_file(path, &text, &len) == 0 && len == strlen(EC_PEM) && text[len] == '\0' &&
              strcmp(text, EC_PEM) == 0,
          "read_file returns the contents, NUL-terminated");
    free(text);
    /* Exactly 16 MiB is allowed, one byte more is not (sparse file). */
    CHECK(ftruncate(fd, 16 << 20) == 0, "grow to 16 MiB");
    CHECK(read_file(path, &text, &len) == 0 && len == 16u << 20, "16 MiB file read");
    free(text);
    CHECK(ftruncate(fd, (16 << 20) + 1) == 0, "grow past 16 MiB");
    errno = 0;
    CHECK(read_file(path, &text, &len) == -1 && errno == EFBIG && text == NULL,
          "over 16 MiB refused with EFBIG");
    close(fd);
    unlink(path);
    CHECK(read_file("/nonexistent/certa", &text, &len) == -1 && errno == ENOENT,
          "missing file fails with ENOENT");
    CHECK(read_file("/tmp", &text, &len) == -1, "a directory fails");
}

int main(void) {
    test_real_certs();
    test_corruptions();
    test_names();
    test_pem();
    test_read_file();
    TEST_EXIT();
}
