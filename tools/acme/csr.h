/* The PKCS#10 certificate request an ACME order is finalized with (RFC
 * 2986, RFC 8555 §7.4): the names as a subjectAltName in an
 * extensionRequest attribute, the first DNS name (if it fits) as the
 * subject CN, signed by the certificate's key. Written with certa's DER
 * builder (wire/der_build.h), signed with crypto/ca_crypto.h. */
#ifndef CERTA_TOOLS_ACME_CSR_H
#define CERTA_TOOLS_ACME_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "x509/issue.h"

/* *der malloc'd; 0 or -1. */
int acme_csr_build(crypto_key *key, const char *const *dns, size_t n_dns, const x509_ip *ips,
                   size_t n_ips, uint8_t **der, size_t *len);

#endif
