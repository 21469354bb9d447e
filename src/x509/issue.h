/* Building and signing X.509 v3 certificates and v2 CRLs (RFC 5280) for
 * the development CA (`certa ca`). Library-internal. All DER is written with
 * wire/der_build.h; keys and signatures come from crypto/ca_crypto.h. */
#ifndef CERTA_X509_ISSUE_H
#define CERTA_X509_ISSUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "wire/cursor.h"
#include "x509/cert.h"

#define X509_SERIAL_LEN 16 /* what x509_random_serial makes */
#define X509_KEY_ID_LEN 20 /* SHA-1 (RFC 5280 §4.2.1.2 method 1) */
#define X509_MAX_KEY_ID 64

/* An IP address for a SAN: 4 (IPv4) or 16 (IPv6) bytes. */
typedef struct x509_ip {
    uint8_t addr[16];
    size_t len;
} x509_ip;

typedef struct x509_issue_params {
    /* Serial number as an unsigned big-endian magnitude (1-20 bytes, not
     * zero); see x509_random_serial. */
    const uint8_t *serial;
    size_t serial_len;
    /* The issuer's Name (whole DER element, e.g. x509_cert.subject of the CA
     * certificate); NULL: self-signed, the issuer is the subject. */
    const uint8_t *issuer;
    size_t issuer_len;
    /* Subject: organisation and common name, UTF8String; NULL or "" leaves
     * the attribute out. With neither the subject is empty, and then the SAN
     * extension is marked critical (RFC 5280 §4.2.1.6). */
    const char *subject_o;
    const char *subject_cn;
    /* The subject as a whole DER Name instead (a CA certificate renewed
     * under the very name its issued certificates carry); NULL: the two
     * attributes above. Self-signed, it is the issuer too. */
    const uint8_t *subject;
    size_t subject_len;
    int64_t not_before;
    int64_t not_after;
    /* CA: basicConstraints cA TRUE with path_len (< 0: no limit), keyUsage
     * keyCertSign + cRLSign. Otherwise a TLS leaf: cA FALSE, keyUsage
     * digitalSignature (+ keyEncipherment for RSA subject keys), extKeyUsage
     * from server_auth / client_auth (none when both are false). */
    bool is_ca;
    int path_len;
    /* nameConstraints for a CA, critical (RFC 5280 §4.2.1.10): permitted and
     * excluded subtrees with dNSName bases ("example.org": the name and its
     * subdomains) and uniformResourceIdentifier bases (a host, "example.org",
     * or a domain, ".example.org": a SPIFFE trust domain is its host). The
     * extension is left out when all four are empty. */
    const char *const *nc_permit_dns;
    size_t n_nc_permit_dns;
    const char *const *nc_exclude_dns;
    size_t n_nc_exclude_dns;
    const char *const *nc_permit_uri;
    size_t n_nc_permit_uri;
    const char *const *nc_exclude_uri;
    size_t n_nc_exclude_uri;
    bool server_auth;
    bool client_auth;
    /* subjectAltName entries (the extension is left out when all are empty). */
    const char *const *dns;
    size_t n_dns;
    const x509_ip *ips;
    size_t n_ips;
    const char *const *uris;
    size_t n_uris;
    /* authorityKeyIdentifier keyIdentifier; NULL: self-signed, the
     * subject's own key identifier is used. */
    const uint8_t *issuer_key_id;
    size_t issuer_key_id_len;
    /* Optional cRLDistributionPoints URI. */
    const char *crl_url;
    /* Optional authorityInfoAccess id-ad-ocsp URI: where a relying party or a
     * stapling server asks for this certificate's status (RFC 6960). */
    const char *ocsp_url;
    /* TLS Feature extension listing status_request (RFC 7633 "must-staple"):
     * clients refuse the certificate without a valid stapled response. */
    bool must_staple;
    /* A delegated OCSP responder (RFC 6960 §4.2.2.2) instead of a TLS leaf:
     * extKeyUsage id-kp-OCSPSigning only (server_auth/client_auth ignored),
     * keyUsage digitalSignature, and id-pkix-ocsp-nocheck (its own status
     * is not checked: keep it short-lived). Not with is_ca. */
    bool ocsp_signing;
    /* A SignedCertificateTimestampList (TLS encoding, RFC 6962 §3.3) embedded
     * as the last extension (1.3.6.1.4.1.11129.2.4.2); NULL: none. Issued
     * without it, the same parameters give the TBSCertificate the logs sign
     * for the precertificate (what sct_precert_tbs gives back). */
    const uint8_t *sct_list;
    size_t sct_list_len;
    /* The ACME TLS-ALPN-01 validation certificate (RFC 8737 §3): the
     * critical id-pe-acmeIdentifier extension holding this SHA-256 of the
     * key authorization (32 bytes); NULL: none. */
    const uint8_t *acme_identifier;
} x509_issue_params;

/* 16 random bytes, high bit clear and first byte non-zero: a positive
 * INTEGER of exactly 16 octets. 0 or -1. */
int x509_random_serial(uint8_t serial[X509_SERIAL_LEN]);

/* Key identifier of a DER SubjectPublicKeyInfo: SHA-1 of the
 * subjectPublicKey BIT STRING bytes. 0 or -1 (malformed SPKI). */
int x509_key_id_from_spki(const uint8_t *spki, size_t len, uint8_t out[X509_KEY_ID_LEN]);
/* A certificate's subjectKeyIdentifier if it has one, else the key id
 * computed from its SPKI. *len is set (at most X509_MAX_KEY_ID). 0 or -1. */
int x509_cert_key_id(const x509_cert *cert, uint8_t out[X509_MAX_KEY_ID], size_t *len);

/* Builds and signs a certificate for subject_key (its public half goes in
 * the SPKI) with signer (the CA key; for self-signed, the same key).
 * *der is malloc'd. 0 or -1 (invalid parameters, unsupported key, string
 * not encodable, libcrypto failure). */
int x509_issue(const x509_issue_params *p, const crypto_key *subject_key, crypto_key *signer,
               uint8_t **der, size_t *der_len);

/* One revoked certificate in a CRL. */
typedef struct x509_revoked {
    const uint8_t *serial; /* unsigned big-endian magnitude */
    size_t serial_len;
    int64_t revoked_at;
    int reason; /* CRLReason (RFC 5280 §5.3.1); 0 (unspecified) or < 0: none */
} x509_revoked;

typedef struct x509_crl_params {
    const uint8_t *issuer; /* Name element of the CA */
    size_t issuer_len;
    const uint8_t *issuer_key_id;
    size_t issuer_key_id_len;
    int64_t this_update;
    int64_t next_update;
    uint64_t crl_number;
    const x509_revoked *revoked;
    size_t n_revoked;
} x509_crl_params;

/* Builds and signs a v2 CRL (CRL number and authorityKeyIdentifier
 * extensions; the revoked list is left out when empty). 0 or -1. */
int x509_crl_build(const x509_crl_params *p, crypto_key *signer, uint8_t **der, size_t *der_len);

/* PEM text (RFC 7468, 64-column lines) for DER under a label such as
 * "CERTIFICATE" or "X509 CRL"; *out is malloc'd and NUL-terminated. 0/-1. */
int x509_pem_encode(const char *label, const uint8_t *der, size_t len, char **out, size_t *out_len);

/* Input syntax checks for what goes into a SAN. Each returns true or false
 * and, on false, puts a phrase saying what is wrong into why. */
/* spiffe://trust-domain/path: lowercase trust domain of [a-z0-9.-_] (at
 * most 255), a non-empty path of segments of [A-Za-z0-9.-_] that are not
 * "." or "..", no empty segment or trailing slash, no query, fragment,
 * port or userinfo; at most 2048 bytes. */
bool x509_check_spiffe_id(const char *id, char *why, size_t cap);
/* A DNS name of letter-digit-hyphen labels (1-63 bytes, no leading or
 * trailing hyphen), at most 253 bytes, no trailing dot; "*." may start it. */
bool x509_check_dns_name(const char *name, char *why, size_t cap);
/* An IPv4 or IPv6 literal (no brackets, no zone) into *ip. */
bool x509_parse_ip(const char *text, x509_ip *ip);

#endif
