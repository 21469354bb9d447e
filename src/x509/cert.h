/* X.509 certificate parsing (RFC 5280) over the DER reader. Parsing only;
 * path validation lives beside it. */
#ifndef CERTA_X509_CERT_H
#define CERTA_X509_CERT_H

#include "wire/cursor.h"

typedef struct x509_cert {
    cursor der;         /* the whole Certificate */
    cursor tbs;         /* TBSCertificate element (header included), what is signed */
    int version;        /* 1, 2 or 3 */
    cursor serial;      /* INTEGER contents */
    cursor tbs_sig_alg; /* AlgorithmIdentifier contents, inside TBS */
    cursor issuer;      /* Name element (header included), for byte comparison */
    cursor subject;
    int64_t not_before;
    int64_t not_after;
    cursor spki;       /* SubjectPublicKeyInfo element (header included) */
    cursor extensions; /* contents of the Extensions SEQUENCE; len 0 if none */
    cursor sig_alg;    /* outer AlgorithmIdentifier contents */
    cursor sig;        /* signature BIT STRING bytes */
} x509_cert;

/* Parses without copying: the cert points into der, which must outlive it.
 * Returns 0 or -1 (malformed). */
int x509_parse(x509_cert *cert, const uint8_t *der, size_t len);

/* A serial for sentences: its first 8 bytes in hex, "..." when longer
 * ("2F698EF7B66E7EC9..."). serial is INTEGER contents, as in x509_cert. */
void x509_serial_short(const cursor *serial, char *out, size_t cap);

/* RFC 4514-style one-line rendering, e.g. "CN=api.internal, O=Example".
 * name is a Name element as in x509_cert.subject. Returns 0 or -1. */
int x509_name_to_string(const cursor *name, char *out, size_t cap);

/* SHA-256 of the SPKI as "sha256:BASE64". */
int x509_spki_pin(const x509_cert *cert, char *out, size_t cap);

#endif
