/* PKCS#10 requests for ACME finalize (see csr.h). */
#include "acme/csr.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/ca_crypto.h"
#include "wire/der_build.h"

static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
static const uint8_t OID_SAN[] = {0x55, 0x1d, 0x11};
static const uint8_t OID_EXTENSION_REQUEST[] = {0x2a, 0x86, 0x48, 0x86, 0xf7,
                                                0x0d, 0x01, 0x09, 0x0e}; /* 1.2.840.113549.1.9.14 */

/* The Extensions of the request: subjectAltName only (critical when the
 * subject is empty, RFC 5280 §4.2.1.6). Built apart: the builder's depth
 * is limited. */
static void put_extensions(builder *b, const char *const *dns, size_t n_dns, const x509_ip *ips,
                           size_t n_ips, bool critical) {
    builder names;
    bld_init_alloc(&names, 256);
    der_open(&names, DER_SEQUENCE);
    for (size_t i = 0; i < n_dns; i++)
        der_put_ia5_tagged(&names, DER_CONTEXT(2), dns[i], strlen(dns[i]));
    for (size_t i = 0; i < n_ips; i++)
        der_put(&names, DER_CONTEXT(7), ips[i].addr, ips[i].len);
    der_close(&names);
    if (!bld_ok(&names)) b->failed = true;
    der_open(b, DER_SEQUENCE); /* Extensions */
    der_open(b, DER_SEQUENCE); /* Extension */
    der_put_oid(b, OID_SAN, sizeof OID_SAN);
    if (critical) der_put_bool(b, true);
    der_put_octet_string(b, names.buf, names.failed ? 0 : names.len);
    der_close(b);
    der_close(b);
    bld_free(&names);
}

int acme_csr_build(crypto_key *key, const char *const *dns, size_t n_dns, const x509_ip *ips,
                   size_t n_ips, uint8_t **der, size_t *len) {
    uint8_t *spki = NULL;
    size_t spki_len;
    if (n_dns + n_ips == 0 || key_spki_der(key, &spki, &spki_len) != 0) return -1;
    bool cn = n_dns > 0 && strlen(dns[0]) <= 64; /* ub-common-name */
    builder exts;
    bld_init_alloc(&exts, 512);
    put_extensions(&exts, dns, n_dns, ips, n_ips, !cn);

    builder info;
    bld_init_alloc(&info, 1024);
    der_open(&info, DER_SEQUENCE); /* CertificationRequestInfo */
    der_put_integer_u64(&info, 0); /* version v1 */
    der_open(&info, DER_SEQUENCE); /* Name */
    if (cn) {
        der_open(&info, DER_SET);
        der_open(&info, DER_SEQUENCE);
        der_put_oid(&info, OID_CN, sizeof OID_CN);
        der_put_utf8_string(&info, dns[0], strlen(dns[0]));
        der_close(&info);
        der_close(&info);
    }
    der_close(&info);
    bld_bytes(&info, spki, spki_len);
    der_open(&info, DER_CONTEXT_CONS(0)); /* attributes */
    der_open(&info, DER_SEQUENCE);        /* Attribute */
    der_put_oid(&info, OID_EXTENSION_REQUEST, sizeof OID_EXTENSION_REQUEST);
    der_open(&info, DER_SET);
    if (bld_ok(&exts))
        bld_bytes(&info, exts.buf, exts.len);
    else
        info.failed = true;
    der_close(&info);
    der_close(&info);
    der_close(&info);
    der_close(&info);
    free(spki);
    bld_free(&exts);

    int rc = -1;
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    if (bld_ok(&info) && x509_sign(key, info.buf, info.len, sig, &sig_len) == 0) {
        builder out;
        bld_init_alloc(&out, info.len + sig_len + 64);
        der_open(&out, DER_SEQUENCE);
        bld_bytes(&out, info.buf, info.len);
        x509_sig_algid(key, &out);
        der_put_bitstring(&out, sig, sig_len);
        der_close(&out);
        if (bld_ok(&out)) {
            *der = bld_take(&out, len);
            rc = *der ? 0 : -1;
        } else {
            bld_free(&out);
        }
    }
    bld_free(&info);
    return rc;
}
