/* Trust anchor sets: PEM text, bundle files, directories, the system
 * bundle, deduplication and the error texts. */
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certa.h"
#include "lib_chain.h"
#include "testlib.h"
#include "x509/trust.h"

/* "MAMCAQE=" is 30 03 02 01 01: DER, but not a certificate. */
static const char NOT_A_CERT[] =
    "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n";
static const char BAD_BASE64[] =
    "-----BEGIN CERTIFICATE-----\nMAM*AQE=\n-----END CERTIFICATE-----\n";

static char *cat(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", a, b, c);
    return s;
}

static bool has(const char *text, const char *needle) {
    return strstr(text, needle) != NULL;
}

static int write_file(const char *dir, const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static void test_pem(const test_chain *c) {
    certa_trust *t = certa_trust_new();
    CHECK(t && certa_trust_count(t) == 0 && !strcmp(certa_trust_error_text(t), ""),
          "new set is empty, no error");
    int rc = certa_trust_add_pem(t, c->root.pem, strlen(c->root.pem));
    CHECK(rc == CERTA_OK && certa_trust_count(t) == 1, "add one root (%s)", certa_error_name(rc));
    size_t len = 0;
    const uint8_t *der = trust_anchor_der(t, 0, &len);
    CHECK(trust_anchor_count(t) == 1 && der && len == c->root.der_len &&
              !memcmp(der, c->root.der, len),
          "anchor 0 is a DER copy of the root");
    CHECK(trust_anchor_der(t, 1, &len) == NULL && len == 0, "anchor 1 is out of range");
    rc = certa_trust_add_pem(t, c->root.pem, strlen(c->root.pem));
    CHECK(rc == CERTA_OK && certa_trust_count(t) == 1, "the same root again is deduplicated");
    char *two = cat(c->inter.pem, "some text between blocks\n", c->root.pem);
    rc = certa_trust_add_pem(t, two, strlen(two));
    CHECK(rc == CERTA_OK && certa_trust_count(t) == 2, "bundle of two adds only the new one (%zu)",
          certa_trust_count(t));
    free(two);

    char *bad = cat(c->leaf.pem, NOT_A_CERT, "");
    rc = certa_trust_add_pem(t, bad, strlen(bad));
    CHECK(rc == CERTA_E_CERT_MALFORMED && certa_trust_count(t) == 2,
          "second block not a certificate: refused, nothing added (%s, %zu)", certa_error_name(rc),
          certa_trust_count(t));
    CHECK(has(certa_trust_error_text(t), "block 2") &&
              has(certa_trust_error_text(t), "not a valid"),
          "error names block 2: %s", certa_trust_error_text(t));
    free(bad);
    rc = certa_trust_add_pem(t, BAD_BASE64, strlen(BAD_BASE64));
    CHECK(rc == CERTA_E_BAD_PEM && has(certa_trust_error_text(t), "block 1"),
          "bad base64: CERTA_E_BAD_PEM naming block 1 (%s)", certa_trust_error_text(t));
    rc = certa_trust_add_pem(t, "hello\n", 6);
    CHECK(rc == CERTA_E_BAD_PEM && has(certa_trust_error_text(t), "no \"-----BEGIN CERTIFICATE"),
          "no block: CERTA_E_BAD_PEM (%s)", certa_trust_error_text(t));
    rc = certa_trust_add_pem(t, c->leaf.pem, strlen(c->leaf.pem));
    CHECK(rc == CERTA_OK && certa_trust_count(t) == 3 && !strcmp(certa_trust_error_text(t), ""),
          "a good add clears the error text");
    CHECK(certa_trust_add_pem(NULL, "x", 1) == CERTA_E_INVALID_ARGUMENT, "NULL set refused");
    certa_trust_free(t);
    certa_trust_free(NULL);
}

static void test_files(const test_chain *c) {
    char dir[] = "/tmp/certa-trust-XXXXXX";
    if (!mkdtemp(dir)) {
        CHECK(0, "mkdtemp");
        return;
    }
    char sub[64], empty[64], bad[64], path[128];
    snprintf(sub, sizeof sub, "%s/anchors", dir);
    snprintf(empty, sizeof empty, "%s/empty", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    mkdir(sub, 0700);
    mkdir(empty, 0700);
    mkdir(bad, 0700);
    char *bundle = cat(c->root.pem, c->inter.pem, c->root.pem);
    write_file(dir, "bundle.pem", bundle);
    free(bundle);
    write_file(sub, "a.pem", c->root.pem);
    write_file(sub, "b.crt", c->inter.pem);
    write_file(sub, "c.cer", c->leaf.pem);
    write_file(sub, "d.txt", "not looked at");
    write_file(sub, "e.pem", NOT_A_CERT);
    write_file(sub, "f.crt", c->root.pem); /* duplicate */
    write_file(bad, "x.pem", "nothing here");
    write_file(bad, "y.crt", NOT_A_CERT);

    certa_trust *t = certa_trust_new();
    snprintf(path, sizeof path, "%s/bundle.pem", dir);
    int rc = certa_trust_load(t, path);
    CHECK(rc == CERTA_OK && certa_trust_count(t) == 2, "bundle file: 2 distinct (%s, %zu)",
          certa_error_name(rc), certa_trust_count(t));
    certa_trust_free(t);

    t = certa_trust_new();
    rc = certa_trust_load(t, sub);
    CHECK(rc == CERTA_OK && certa_trust_count(t) == 3,
          "directory: 3 distinct from *.pem/*.crt/*.cer (%s, %zu)", certa_error_name(rc),
          certa_trust_count(t));
    CHECK(has(certa_trust_error_text(t), "e.pem") && has(certa_trust_error_text(t), "1 file") &&
              !has(certa_trust_error_text(t), "d.txt"),
          "directory: the bad file is reported, others are not (%s)", certa_trust_error_text(t));
    certa_trust_free(t);

    t = certa_trust_new();
    rc = certa_trust_load(t, bad);
    CHECK(rc == CERTA_E_TRUST_EMPTY && certa_trust_count(t) == 0 &&
              has(certa_trust_error_text(t), "x.pem") && has(certa_trust_error_text(t), "y.crt"),
          "directory of bad files: TRUST_EMPTY naming both (%s)", certa_trust_error_text(t));
    rc = certa_trust_load(t, empty);
    CHECK(rc == CERTA_E_TRUST_EMPTY && has(certa_trust_error_text(t), "no *.pem"),
          "empty directory: TRUST_EMPTY (%s)", certa_trust_error_text(t));
    snprintf(path, sizeof path, "%s/missing.pem", dir);
    rc = certa_trust_load(t, path);
    CHECK(rc == CERTA_E_FILE && has(certa_trust_error_text(t), "missing.pem"),
          "missing file: CERTA_E_FILE (%s)", certa_trust_error_text(t));
    snprintf(path, sizeof path, "%s/x.pem", bad);
    rc = certa_trust_load(t, path);
    CHECK(rc == CERTA_E_BAD_PEM && has(certa_trust_error_text(t), "x.pem"),
          "file without certificates: BAD_PEM naming it (%s)", certa_trust_error_text(t));
    snprintf(path, sizeof path, "%s/y.crt", bad);
    rc = certa_trust_load(t, path);
    CHECK(rc == CERTA_E_CERT_MALFORMED && has(certa_trust_error_text(t), "y.crt") &&
              has(certa_trust_error_text(t), "block 1"),
          "file with a broken certificate: names file and block (%s)", certa_trust_error_text(t));
    certa_trust_free(t);

    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

static void test_system(void) {
    certa_trust *t = certa_trust_new();
    int rc = certa_trust_load_system(t);
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
        CHECK(rc == CERTA_OK && certa_trust_count(t) > 10, "system bundle: %zu anchors (%s)",
              certa_trust_count(t), certa_trust_error_text(t));
        size_t n = certa_trust_count(t);
        rc = certa_trust_load_system(t);
        CHECK(rc == CERTA_OK && certa_trust_count(t) == n, "system bundle twice: deduplicated");
    } else {
        CHECK(rc == CERTA_E_TRUST_EMPTY && has(certa_trust_error_text(t), "ca-certificates"),
              "no system bundle: TRUST_EMPTY with a hint (%s)", certa_trust_error_text(t));
    }
    certa_trust_free(t);
}

int main(void) {
    test_chain c;
    if (chain_make(&c, NULL, NULL, NULL)) {
        CHECK(0, "make chain");
        TEST_EXIT();
    }
    test_pem(&c);
    test_files(&c);
    test_system();
    chain_free(&c);
    TEST_EXIT();
}
