/* certa_cert_summarize(): the public one-call view of a certificate. */
#include <stdlib.h>
#include <string.h>

#include "certa.h"
#include "crypto/crypto.h"
#include "x509/cert.h"

/* Renders a Name into out (cap bytes), shortening an over-long rendering
 * with "..." rather than failing. */
static int name_summary(const cursor *name, char *out, size_t cap) {
    if (x509_name_to_string(name, out, cap) == 0) return 0;
    /* Every input byte renders to at most 4 characters (\XX escapes, dotted
     * OID arcs, attribute names), plus a little for separators. */
    size_t big = name->len * 6 + 64;
    char *tmp = malloc(big);
    if (!tmp) return -1;
    int rc = x509_name_to_string(name, tmp, big);
    if (rc == 0) {
        memcpy(out, tmp, cap - 4);
        memcpy(out + cap - 4, "...", 4);
    }
    free(tmp);
    return rc;
}

int certa_cert_summarize(const uint8_t *der, size_t len, certa_cert_summary *out) {
    if (!out) return CERTA_E_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    x509_cert cert;
    if (!der || x509_parse(&cert, der, len) != 0) return CERTA_E_BAD_CERTIFICATE;
    if (name_summary(&cert.subject, out->subject, sizeof out->subject) != 0 ||
        name_summary(&cert.issuer, out->issuer, sizeof out->issuer) != 0)
        goto bad;
    out->not_before = cert.not_before;
    out->not_after = cert.not_after;
    crypto_key *key = key_from_spki(cert.spki.data, cert.spki.len);
    if (!key) goto bad;
    key_describe(key, out->key_type, sizeof out->key_type);
    key_free(key);
    if (x509_spki_pin(&cert, out->spki_sha256, sizeof out->spki_sha256) != 0) goto bad;
    return CERTA_OK;
bad:
    memset(out, 0, sizeof *out);
    return CERTA_E_BAD_CERTIFICATE;
}
