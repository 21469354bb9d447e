/* certa_cert_summarize(): the public one-call view of a certificate. */
#include <stdlib.h>
#include <string.h>

#include "certa.h"
#include "crypto/crypto.h"
#include "x509/cert.h"
#include "x509/extensions.h"

#include <stdio.h>

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

/* Copies a URI or name's bytes into out as text: only printable ASCII is
 * kept ('?' for anything else), so a hostile certificate cannot put
 * terminal controls into a report. */
static void copy_printable(char *out, size_t cap, const cursor *v) {
    size_t n = 0;
    for (size_t i = 0; i < v->len && n + 1 < cap; i++)
        out[n++] = (v->data[i] >= 0x20 && v->data[i] < 0x7f) ? (char)v->data[i] : '?';
    out[n] = 0;
}

/* Appends ", " and the text to a comma-separated list, if it fits whole. */
static void list_append(char *list, size_t cap, const char *text) {
    size_t have = strlen(list), add = strlen(text) + (have ? 2 : 0);
    if (have + add + 1 > cap) return;
    snprintf(list + have, cap - have, "%s%s", have ? ", " : "", text);
}

static void ip_to_text(const cursor *v, char *out, size_t cap) {
    if (v->len == 4) {
        snprintf(out, cap, "%u.%u.%u.%u", v->data[0], v->data[1], v->data[2], v->data[3]);
    } else if (v->len == 16) {
        size_t n = 0;
        for (size_t i = 0; i < 16 && n + 6 < cap; i += 2)
            n += (size_t)snprintf(out + n, cap - n, "%s%x", i ? ":" : "",
                                  (unsigned)(v->data[i] << 8 | v->data[i + 1]));
    } else {
        snprintf(out, cap, "(%zu-byte address)", v->len);
    }
}

int certa_cert_inspect(const uint8_t *der, size_t len, certa_cert_details *out) {
    if (!out) return CERTA_E_INVALID_ARGUMENT;
    memset(out, 0, sizeof *out);
    x509_cert cert;
    x509_exts e;
    if (!der || x509_parse(&cert, der, len) != 0 ||
        x509_parse_extensions(&cert, &e, NULL, 0) == X509_EXT_MALFORMED)
        return CERTA_E_BAD_CERTIFICATE;
    x509_cn_iter it;
    uint8_t tag;
    cursor v;
    if (x509_cn_begin(&cert.subject, &it) && x509_cn_next(&it, &tag, &v))
        copy_printable(out->subject_cn, sizeof out->subject_cn, &v);
    out->has_san = e.has_san;
    cursor names = e.san;
    char item[256];
    while (e.has_san && x509_next_general_name(&names, &tag, &v)) {
        if (tag == GN_DNS) {
            copy_printable(item, sizeof item, &v);
            list_append(out->dns_names, sizeof out->dns_names, item);
        } else if (tag == GN_IP) {
            ip_to_text(&v, item, sizeof item);
            list_append(out->ip_addresses, sizeof out->ip_addresses, item);
        } else if (tag == GN_URI) {
            copy_printable(item, sizeof item, &v);
            list_append(out->uris, sizeof out->uris, item);
        }
    }
    out->is_ca = e.has_bc && e.ca;
    out->self_issued = cert.subject.len == cert.issuer.len &&
                       memcmp(cert.subject.data, cert.issuer.data, cert.subject.len) == 0;
    out->must_staple = e.must_staple;
    copy_printable(out->ocsp_url, sizeof out->ocsp_url, &e.ocsp_url);
    copy_printable(out->ca_issuers_url, sizeof out->ca_issuers_url, &e.ca_issuers_url);
    copy_printable(out->crl_url, sizeof out->crl_url, &e.crldp_url);
    crypto_key *key = key_from_spki(cert.spki.data, cert.spki.len);
    if (key) {
        key_describe(key, out->key_type, sizeof out->key_type);
        key_free(key);
    }
    /* "RSA 2048", "ECDSA P-256": the size is the number in the description;
     * Ed25519 and Ed448 are named by their curve. */
    const char *d = out->key_type;
    while (*d && (*d < '0' || *d > '9'))
        d++;
    out->key_bits = (unsigned)strtoul(d, NULL, 10);
    if (!strcmp(out->key_type, "Ed25519")) out->key_bits = 256;
    if (!strcmp(out->key_type, "Ed448")) out->key_bits = 448;
    return CERTA_OK;
}

/* INTEGER contents as OpenSSL prints a serial: leading zero bytes dropped
 * (one is there only to keep the number positive), at least one byte. */
int certa_cert_serial(const uint8_t *der, size_t len, char *out, size_t cap) {
    static const char digits[] = "0123456789ABCDEF";
    if (!out || cap == 0) return CERTA_E_INVALID_ARGUMENT;
    out[0] = 0;
    x509_cert cert;
    if (!der || x509_parse(&cert, der, len) != 0) return CERTA_E_BAD_CERTIFICATE;
    size_t skip = 0;
    while (skip + 1 < cert.serial.len && cert.serial.data[skip] == 0)
        skip++;
    if (2 * (cert.serial.len - skip) + 1 > cap) return CERTA_E_INVALID_ARGUMENT;
    size_t o = 0;
    for (size_t i = skip; i < cert.serial.len; i++) {
        out[o++] = digits[cert.serial.data[i] >> 4];
        out[o++] = digits[cert.serial.data[i] & 15];
    }
    out[o] = 0;
    return CERTA_OK;
}
