/* libFuzzer target: CRLs (RFC 5280 §5) — the CertificateList parse, the
 * search of every revoked entry (serial, date, reasonCode) for the serials
 * the input itself lists and for absent ones, the prepared CRL's binary
 * search against that scan (crl_index.h), and the config's CRL intake
 * (DER and the same bytes as PEM text). */
#include <stdint.h>
#include <string.h>

#include "certa.h"
#include "wire/der.h"
#include "x509/crl.h"
#include "x509/crl_index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    x509_crl crl;
    if (x509_crl_parse(&crl, data, size) == 0) {
        cursor list = crl.revoked, entry, serial;
        int64_t when;
        int reason;
        while (der_get(&list, DER_SEQUENCE, &entry) && der_get(&entry, DER_INTEGER, &serial))
            (void)x509_crl_find(&crl, &serial, &when, &reason);
        static const uint8_t absent[] = {0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
        cursor none;
        cur_init(&none, absent, sizeof absent);
        (void)x509_crl_find(&crl, &none, &when, &reason);
        /* the prepared CRL (sorted serials) answers exactly as the scan does */
        crl_index ix;
        if (crl_index_init(&ix, data, size) == 0) {
            cursor l2 = crl.revoked, s, rest;
            while (x509_crl_next_entry(&l2, &s, &rest)) {
                int64_t w1 = 0, w2 = 0;
                int r1 = -2, r2 = -2;
                bool a = x509_crl_find(&crl, &s, &w1, &r1), b = crl_index_find(&ix, &s, &w2, &r2);
                /* with duplicate serials either entry may be found: only presence must agree */
                if (a != b) __builtin_trap();
            }
            if (crl_index_find(&ix, &none, &when, &reason) !=
                x509_crl_find(&crl, &none, NULL, NULL))
                __builtin_trap();
            crl_index_destroy(&ix);
        } else {
            __builtin_trap(); /* it parsed above */
        }
    }
    certa_config *cfg = certa_config_new();
    if (cfg) {
        if (size) (void)certa_config_add_crl_der(cfg, data, size);
        (void)certa_config_add_crl_pem(cfg, (const char *)data, size);
        (void)certa_config_crl_count(cfg);
        certa_config_free(cfg);
    }
    return 0;
}
