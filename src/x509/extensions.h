/* X.509 v3 certificate extensions (RFC 5280 §4.2): strict parsing into a
 * flat view. Values point into the certificate's DER. */
#ifndef CERTA_X509_EXTENSIONS_H
#define CERTA_X509_EXTENSIONS_H

#include "x509/cert.h"

/* keyUsage bits, numbered as in RFC 5280 (bit 0 = digitalSignature). */
#define KU_DIGITAL_SIGNATURE (1u << 0)
#define KU_CONTENT_COMMITMENT (1u << 1)
#define KU_KEY_ENCIPHERMENT (1u << 2)
#define KU_DATA_ENCIPHERMENT (1u << 3)
#define KU_KEY_AGREEMENT (1u << 4)
#define KU_KEY_CERT_SIGN (1u << 5)
#define KU_CRL_SIGN (1u << 6)
#define KU_ENCIPHER_ONLY (1u << 7)
#define KU_DECIPHER_ONLY (1u << 8)

/* GeneralName context tags (RFC 5280 §4.2.1.6), as they appear on the wire. */
#define GN_OTHER_NAME 0xa0
#define GN_RFC822 0x81
#define GN_DNS 0x82
#define GN_X400 0xa3
#define GN_DIRECTORY 0xa4
#define GN_EDI_PARTY 0xa5
#define GN_URI 0x86
#define GN_IP 0x87
#define GN_REGISTERED_ID 0x88

typedef struct x509_exts {
    bool has_bc, bc_critical, ca;
    int path_len; /* -1 = no pathLenConstraint */

    bool has_ku, ku_critical;
    unsigned ku; /* KU_* bits */

    bool has_eku, eku_critical;
    bool eku_any, eku_server, eku_client;
    bool eku_ocsp_signing; /* id-kp-OCSPSigning: a delegated OCSP responder (RFC 6960 §4.2.2.2) */

    bool has_san, san_critical;
    cursor san; /* GeneralNames contents: a sequence of GeneralName elements */

    bool has_nc, nc_critical;
    bool has_permitted, has_excluded;
    cursor nc_permitted; /* GeneralSubtrees contents */
    cursor nc_excluded;

    bool has_aki, aki_critical;
    bool aki_has_keyid, aki_has_issuer, aki_has_serial;
    cursor aki_keyid;

    bool has_ski, ski_critical;
    cursor ski;

    bool has_policies, has_policy_constraints, has_policy_mappings, has_inhibit_any;
    bool has_aia, aia_critical;
    cursor ocsp_url;       /* the first id-ad-ocsp URI of authorityInfoAccess; len 0 if none */
    cursor ca_issuers_url; /* the first id-ad-caIssuers URI (the issuer's certificate) */
    /* TLS Feature (RFC 7633): status_request (5) listed = must-staple */
    bool has_tls_feature, must_staple;
    /* id-pkix-ocsp-nocheck: a delegated responder's own status is not checked */
    bool ocsp_nocheck;
    bool has_crldp;
    cursor crldp_url; /* the first http:// URI of cRLDistributionPoints' fullNames; len 0 if none */
} x509_exts;

#define X509_EXT_OK 0
#define X509_EXT_MALFORMED -1
#define X509_EXT_UNKNOWN_CRITICAL -2

/* Parses cert->extensions. On failure, why (if not NULL) gets a phrase such
 * as "a malformed subjectAltName" or "an unknown critical extension
 * 1.2.3.4". Returns X509_EXT_*. */
int x509_parse_extensions(const x509_cert *cert, x509_exts *out, char *why, size_t cap);

/* Reads the next GeneralName of a GeneralNames/GeneralSubtree sequence:
 * *tag is a GN_* value, *value its contents (for GN_DIRECTORY, the Name
 * element inside the explicit tag). */
bool x509_next_general_name(cursor *names, uint8_t *tag, cursor *value);

/* GeneralSubtree ::= SEQUENCE { base GeneralName, minimum [0] DEFAULT 0,
 * maximum [1] OPTIONAL }: the next subtree's base. */
bool x509_next_subtree(cursor *subtrees, uint8_t *tag, cursor *value);

/* Iterates the commonName attribute values of a Name element (such as
 * x509_cert.subject): x509_cn_begin, then x509_cn_next until it returns
 * false. *value is the string's contents; *tag its universal string tag. */
typedef struct x509_cn_iter {
    cursor rdns, rdn;
} x509_cn_iter;
bool x509_cn_begin(const cursor *name, x509_cn_iter *it);
bool x509_cn_next(x509_cn_iter *it, uint8_t *tag, cursor *value);

#endif
