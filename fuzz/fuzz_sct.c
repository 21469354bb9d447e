/* libFuzzer target: Signed Certificate Timestamps (src/x509/sct.c) — the
 * input as a SignedCertificateTimestampList (each SCT parsed, re-encoded,
 * which must give back its bytes, and its signed data built), as a
 * certificate (its embedded list found and parsed, the precertificate TBS
 * rebuilt: without an SCT extension it must be the TBS itself) and as an
 * OCSP response for the fuzz_ocsp certificates (the SingleResponse's list). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_ocsp_certs.h"
#include "wire/cursor.h"
#include "wire/der.h"
#include "x509/cert.h"
#include "x509/sct.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk_list(const uint8_t *data, size_t len, const uint8_t *entry, size_t entry_len) {
    cursor items, one;
    if (!sct_list_open(data, len, &items)) return;
    while (sct_list_next(&items, &one)) {
        sct s;
        if (sct_parse(one, &s) != SCT_PARSE_OK) continue;
        builder b;
        bld_init_alloc(&b, one.len);
        sct_encode(&s, &b);
        if (!bld_ok(&b) || b.len != one.len || memcmp(b.buf, one.data, one.len) != 0) {
            fprintf(stderr, "an SCT did not re-encode to its own bytes\n");
            abort();
        }
        bld_free(&b);
        uint8_t ikh[32] = {0};
        bld_init_alloc(&b, 256);
        (void)sct_signed_data(&s, SCT_ENTRY_PRECERT, ikh, entry, entry_len, &b);
        bld_free(&b);
        (void)sct_scheme(s.hash_alg, s.sig_alg);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    walk_list(data, size, data, size);
    x509_cert cert;
    if (x509_parse(&cert, data, size) == 0) {
        cursor list;
        int found = sct_list_from_cert(&cert, &list);
        if (found > 0) walk_list(list.data, list.len, cert.tbs.data, cert.tbs.len);
        builder tbs;
        bld_init_alloc(&tbs, cert.tbs.len);
        int r = sct_precert_tbs(&cert, &tbs);
        if (r == 0 && found == 0 &&
            (tbs.len != cert.tbs.len || memcmp(tbs.buf, cert.tbs.data, tbs.len) != 0)) {
            fprintf(stderr, "a TBS without SCTs did not rebuild to itself\n");
            abort();
        }
        cursor rebuilt, fields;
        cur_init(&rebuilt, tbs.buf, tbs.len);
        if (r == 0 && (!der_get(&rebuilt, DER_SEQUENCE, &fields) || !cur_empty(&rebuilt))) {
            fprintf(stderr, "the rebuilt TBS is not one DER SEQUENCE\n");
            abort();
        }
        bld_free(&tbs);
    }
    x509_cert leaf, issuer;
    cursor list;
    if (x509_parse(&leaf, leaf_der, leaf_der_len) == 0 &&
        x509_parse(&issuer, ca_der, ca_der_len) == 0 &&
        sct_list_from_ocsp(data, size, &leaf, &issuer, &list) > 0)
        walk_list(list.data, list.len, leaf_der, leaf_der_len);
    return 0;
}
