/* key_from_pkcs11_uri's refusals before any token is reached (the loading
 * itself, against SoftHSM, is tests/interop/pkcs11.sh): URIs that are not
 * RFC 7512, malformed percent-encoding, a module that is not there, a PIN
 * file that cannot be read — each a sentence that never repeats the PIN —
 * and certa_config_set_private_key_uri's error code and text. */
#include "certa.h"
#include "crypto/crypto.h"
#include "testlib.h"

#include <stdlib.h>

static const char *refusal(const char *uri) {
    static char why[512];
    crypto_key *key = (crypto_key *)1;
    why[0] = 0;
    int r = key_from_pkcs11_uri(uri, NULL, &key, why, sizeof why);
    return r != 0 && key == NULL ? why : NULL;
}

static void refused(const char *uri, const char *want, const char *what) {
    const char *why = refusal(uri);
    CHECK(why != NULL && strstr(why, want) != NULL && strstr(why, "s3cr3t") == NULL, "%s: '%s'",
          what, why ? why : "(loaded)");
}

int main(void) {
    refused("file:/etc/key.pem", "must start with 'pkcs11:'", "not a pkcs11: URI");
    refused("pkcs11:token=t;object=k?pin-value=s3cr3t%zz", "malformed", "bad percent-encoding");
    refused("pkcs11:token=t;object=k?pin-value=s3cr3t%2", "malformed",
            "truncated percent-encoding");
    refused("pkcs11:token=t;object=k?module-path=/nonexistent/mod.so&pin-value=s3cr3t",
            "'/nonexistent/mod.so' does not exist", "missing module (query attribute)");
    refused("pkcs11:token=t;object=k;module-path=%2Fnonexistent%2Fmod.so;pin-value=s3cr3t",
            "'/nonexistent/mod.so' does not exist", "missing module (path attribute, encoded)");
    refused("pkcs11:token=t;object=k?pin-source=file:/nonexistent/pin",
            "cannot read the PIN file '/nonexistent/pin'", "unreadable pin-source");

    setenv("PKCS11_MODULE_PATH", "/nonexistent/env.so", 1);
    refused("pkcs11:token=t;object=k?pin-value=s3cr3t", "'/nonexistent/env.so' does not exist",
            "PKCS11_MODULE_PATH when the URI names no module");
    char why[512];
    crypto_key *key = NULL;
    CHECK(key_from_pkcs11_uri("pkcs11:object=k", "/nonexistent/given.so", &key, why, sizeof why) !=
                  0 &&
              strstr(why, "'/nonexistent/given.so'") != NULL,
          "the caller's default module comes before the environment");

    certa_config *cfg = certa_config_new();
    int r = certa_config_set_private_key_uri(cfg, "pkcs11:token=t;object=k?pin-value=s3cr3t");
    const char *text = certa_config_error_text(cfg);
    CHECK(r == CERTA_E_BAD_KEY && strstr(text, "does not exist") && !strstr(text, "s3cr3t"),
          "certa_config_set_private_key_uri: CERTA_E_BAD_KEY, '%s'", text);
    r = certa_config_add_identity_uri(cfg, "/nonexistent/chain.pem", "pkcs11:object=k");
    CHECK(r == CERTA_E_FILE, "certa_config_add_identity_uri: an unreadable chain is CERTA_E_FILE");
    certa_config_free(cfg);
    TEST_EXIT();
}
