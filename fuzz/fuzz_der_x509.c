/* libFuzzer target: X.509 parsing and name rendering on arbitrary bytes;
 * the certificate's key policy (SubjectPublicKeyInfo, RSASSA-PSS key
 * parameters) and its signature under its own key (signature algorithm,
 * RSASSA-PSS signature parameters), as self-signed certificates are checked. */
#include <stdint.h>
#include <string.h>

#include "certa.h"
#include "crypto/crypto.h"
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
        char why[160];
        if (x509_key_policy(cert.spki.data, cert.spki.len, why, sizeof why) == 0) {
            crypto_key *key = key_from_spki(cert.spki.data, cert.spki.len);
            if (key)
                sig_verify_x509(cert.sig_alg.data, cert.sig_alg.len, key, cert.tbs.data,
                                cert.tbs.len, cert.sig.data, cert.sig.len);
            key_free(key);
        }
    }
    /* The input as a SubjectPublicKeyInfo on its own. */
    char why[160];
    x509_key_policy(data, size, why, sizeof why);
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
