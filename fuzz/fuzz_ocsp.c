/* libFuzzer target: OCSP responses (RFC 6960) — parsing, every
 * SingleResponse, embedded certificate and extension, and the whole check
 * against a fixed leaf and issuer (the ones the seed corpus was made for
 * with `openssl ocsp`) at a fixed time; the input as an OCSPRequest too. */
#include <stdint.h>
#include <string.h>

#include "fuzz_ocsp_certs.h"
#include "x509/ocsp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ocsp_response r;
    if (ocsp_parse(&r, data, size) == 0) {
        cursor list = r.responses, certs = r.certs, der, oid, value;
        ocsp_single s;
        bool critical;
        while (ocsp_next_single(&list, &s)) {
            cursor exts = s.extensions;
            while (ocsp_next_extension(&exts, &oid, &critical, &value)) {
            }
        }
        while (ocsp_next_cert(&certs, &der)) {
        }
        ocsp_expiry(data, size);
    }
    x509_cert leaf, issuer;
    if (x509_parse(&leaf, leaf_der, leaf_der_len) == 0 &&
        x509_parse(&issuer, ca_der, ca_der_len) == 0) {
        ocsp_result res;
        ocsp_check(data, size, &leaf, &issuer,
                   1796342400 /* 2026-12-04, a day after the corpus was made */, &res);
    }
    ocsp_request q;
    if (ocsp_request_parse(&q, data, size) == 0) {
        cursor list = q.requests;
        ocsp_cert_id id;
        while (ocsp_request_next(&list, &id)) {
        }
    }
    return 0;
}
