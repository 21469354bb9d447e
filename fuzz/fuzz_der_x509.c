/* libFuzzer target: X.509 parsing and name rendering on arbitrary bytes. */
#include <stdint.h>
#include <string.h>

#include "certa.h"
#include "wire/der.h"
#include "x509/cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    x509_cert cert;
    char name[512], small[8];
    if (x509_parse(&cert, data, size) == 0) {
        x509_name_to_string(&cert.subject, name, sizeof name);
        x509_name_to_string(&cert.issuer, small, sizeof small);
        char pin[64];
        x509_spki_pin(&cert, pin, sizeof pin);
        certa_cert_summary s;
        certa_cert_summarize(data, size, &s);
    }
    /* The input as a bare Name, and as a stream of DER elements. */
    cursor c;
    cur_init(&c, data, size);
    x509_name_to_string(&c, name, sizeof name);
    uint8_t tag;
    cursor body;
    while (der_any(&c, &tag, &body)) {
        int64_t v;
        bool b;
        cursor t = body, bits;
        der_get_time(&t, &v);
        t = body;
        der_get_int64(&t, &v);
        t = body;
        der_get_bool(&t, &b);
        t = body;
        der_get_bitstring_bytes(&t, &bits);
    }
    return 0;
}
