/* key_from_spki: the direct decoding of P-256/384/521, RSA, Ed25519 and
 * X25519 SubjectPublicKeyInfo gives the same key as libcrypto's d2i_PUBKEY,
 * refuses what d2i_PUBKEY refuses (off-curve points, trailing bytes, bad
 * lengths), and other forms (compressed points) still decode. */
#include "crypto/crypto.h"
#include "testlib.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

static EVP_PKEY *gen(const char *kind) {
    if (!strcmp(kind, "p256")) return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    if (!strcmp(kind, "p384")) return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    if (!strcmp(kind, "p521")) return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-521");
    if (!strcmp(kind, "rsa2048")) return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    if (!strcmp(kind, "ed25519")) return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!strcmp(kind, "x25519")) return EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
    return NULL;
}

static void same_key(const char *kind) {
    EVP_PKEY *k = gen(kind);
    unsigned char *der = NULL;
    int n = k ? i2d_PUBKEY(k, &der) : -1;
    crypto_key *pub = n > 0 ? key_from_spki(der, (size_t)n) : NULL;
    CHECK(pub != NULL && EVP_PKEY_eq(k, pub) == 1, "%s SPKI decodes to the same public key", kind);
    CHECK(n > 0 && key_from_spki(der, (size_t)n - 1) == NULL, "%s truncated SPKI refused", kind);
    if (n > 0) {
        unsigned char *longer = OPENSSL_malloc((size_t)n + 1);
        memcpy(longer, der, (size_t)n);
        longer[n] = 0;
        CHECK(key_from_spki(longer, (size_t)n + 1) == NULL, "%s SPKI with trailing byte refused",
              kind);
        OPENSSL_free(longer);
    }
    key_free(pub);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
}

/* The last byte of the point flipped: off the curve, refused by both. */
static void off_curve(void) {
    EVP_PKEY *k = gen("p256");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    der[n - 1] ^= 1;
    const unsigned char *p = der;
    EVP_PKEY *ref = d2i_PUBKEY(NULL, &p, n);
    crypto_key *pub = key_from_spki(der, (size_t)n);
    CHECK(pub == NULL && ref == NULL, "P-256 point off the curve refused (like d2i_PUBKEY)");
    EVP_PKEY_free(ref);
    key_free(pub);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
}

static void compressed_point(void) {
    EVP_PKEY *k = gen("p256");
    EVP_PKEY_set_utf8_string_param(k, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "compressed");
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(k, &der);
    crypto_key *pub = n > 0 ? key_from_spki(der, (size_t)n) : NULL;
    CHECK(n > 0 && n < 91 && pub != NULL && EVP_PKEY_eq(k, pub) == 1,
          "compressed P-256 SPKI still decodes (through d2i_PUBKEY)");
    key_free(pub);
    OPENSSL_free(der);
    EVP_PKEY_free(k);
}

/* An RSA modulus with a non-minimal INTEGER (extra leading zero): not taken
 * by the direct path, so the verdict is d2i_PUBKEY's, as before. */
static void rsa_nonminimal(void) {
    static const uint8_t spki[] = {
        0x30, 0x1f, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7,
        0x0d, 0x01, 0x01, 0x01, 0x05, 0x00, 0x03, 0x0e, 0x00, 0x30, 0x0b,
        0x02, 0x04, 0x00, 0x00, 0xc1, 0x23, 0x02, 0x03, 0x01, 0x00, 0x01,
    };
    const unsigned char *p = spki;
    EVP_PKEY *ref = d2i_PUBKEY(NULL, &p, sizeof spki);
    crypto_key *pub = key_from_spki(spki, sizeof spki);
    CHECK((pub == NULL) == (ref == NULL), "RSA key with non-minimal INTEGER: d2i_PUBKEY's verdict");
    key_free(pub);
    EVP_PKEY_free(ref);
}

int main(void) {
    const char *kinds[] = {"p256", "p384", "p521", "rsa2048", "ed25519", "x25519"};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        same_key(kinds[i]);
    off_curve();
    compressed_point();
    rsa_nonminimal();
    return test_failures ? 1 : 0;
}
