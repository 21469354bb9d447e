/* certa scan: the facts of one certificate — what certa_cert_summarize and
 * certa_cert_inspect say, plus the serial number and the signature
 * algorithm, read from the DER with the cursor API (fuzzed with the other
 * scan inputs in fuzz/fuzz_scan_inputs.c). */
#include "scan/scan.h"
#include "wire/cursor.h"
#include "wire/der.h"

#include <stdio.h>
#include <string.h>

typedef struct oid_name {
    uint8_t len;
    uint8_t der[9];
    const char *name;
} oid_name;

static const oid_name sig_algs[] = {
    {8, {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, "ecdsa-with-SHA256"},
    {8, {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, "ecdsa-with-SHA384"},
    {8, {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, "ecdsa-with-SHA512"},
    {7, {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01}, "ecdsa-with-SHA1"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b}, "sha256WithRSAEncryption"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c}, "sha384WithRSAEncryption"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d}, "sha512WithRSAEncryption"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a}, "rsassaPss"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05}, "sha1WithRSAEncryption"},
    {9, {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04}, "md5WithRSAEncryption"},
    {3, {0x2b, 0x65, 0x70}, "ED25519"},
    {3, {0x2b, 0x65, 0x71}, "ED448"},
};

/* Dotted form of an OID we have no name for. */
static void oid_dotted(cursor oid, char *out, size_t cap) {
    size_t used = 0;
    unsigned long v = 0;
    bool first = true;
    uint8_t b;
    out[0] = 0;
    while (cur_u8(&oid, &b) && used + 24 < cap) {
        if (v > (1ul << 48)) return; /* nonsense: stop */
        v = (v << 7) | (b & 0x7f);
        if (b & 0x80) continue;
        if (first) {
            unsigned long top = v < 80 ? v / 40 : 2;
            used += (size_t)snprintf(out + used, cap - used, "%lu.%lu", top, v - top * 40);
            first = false;
        } else {
            used += (size_t)snprintf(out + used, cap - used, ".%lu", v);
        }
        v = 0;
    }
}

bool scan_cert_serial_sigalg(const uint8_t *der, size_t len, char *serial, size_t serial_cap,
                             char *sig_alg, size_t sig_cap) {
    cursor c, cert, tbs, serial_c, alg, oid;
    cur_init(&c, der, len);
    if (!der_get(&c, DER_SEQUENCE, &cert) || !der_get(&cert, DER_SEQUENCE, &tbs)) return false;
    bool has_version;
    cursor version;
    if (!der_get_optional(&tbs, DER_CONTEXT_CONS(0), &version, &has_version) ||
        !der_get(&tbs, DER_INTEGER, &serial_c) || !der_get(&tbs, DER_SEQUENCE, &alg) ||
        !der_get(&alg, DER_OID, &oid))
        return false;
    /* hex of the serial without the sign byte DER adds before a high bit */
    size_t n = cur_left(&serial_c), used = 0;
    const uint8_t *p;
    if (n == 0 || !cur_bytes(&serial_c, n, &p)) return false;
    if (n > 1 && p[0] == 0) {
        p++;
        n--;
    }
    serial[0] = 0;
    for (size_t i = 0; i < n && used + 3 <= serial_cap; i++)
        used += (size_t)snprintf(serial + used, serial_cap - used, "%02x", p[i]);
    for (size_t i = 0; i < sizeof sig_algs / sizeof sig_algs[0]; i++)
        if (der_oid_equal(&oid, sig_algs[i].der, sig_algs[i].len)) {
            snprintf(sig_alg, sig_cap, "%s", sig_algs[i].name);
            return true;
        }
    oid_dotted(oid, sig_alg, sig_cap);
    return true;
}

/* The first spiffe:// URI of a ", "-separated list. */
static void first_spiffe(const char *uris, char *out, size_t cap) {
    out[0] = 0;
    const char *s = strstr(uris, "spiffe://");
    if (!s) return;
    size_t n = strcspn(s, ", ");
    snprintf(out, cap, "%.*s", (int)n, s);
}

bool scan_cert_facts(const uint8_t *der, size_t len, scan_cert *out) {
    memset(out, 0, sizeof *out);
    certa_cert_summary s;
    certa_cert_details d;
    if (certa_cert_summarize(der, len, &s) != 0 || certa_cert_inspect(der, len, &d) != 0)
        return false;
    if (!scan_cert_serial_sigalg(der, len, out->serial, sizeof out->serial, out->sig_alg,
                                 sizeof out->sig_alg))
        return false;
    snprintf(out->subject, sizeof out->subject, "%s", s.subject);
    snprintf(out->issuer, sizeof out->issuer, "%s", s.issuer);
    snprintf(out->key_type, sizeof out->key_type, "%s", d.key_type);
    snprintf(out->spki_sha256, sizeof out->spki_sha256, "%s", s.spki_sha256);
    snprintf(out->dns_names, sizeof out->dns_names, "%s", d.dns_names);
    snprintf(out->ip_addresses, sizeof out->ip_addresses, "%s", d.ip_addresses);
    first_spiffe(d.uris, out->spiffe_id, sizeof out->spiffe_id);
    out->key_bits = d.key_bits;
    out->not_before = s.not_before;
    out->not_after = s.not_after;
    out->self_issued = d.self_issued;
    out->is_ca = d.is_ca;
    return true;
}
