/* Signed Certificate Timestamps (RFC 6962 Certificate Transparency): the
 * SignedCertificateTimestampList in its three places (the certificate's
 * extension 1.3.6.1.4.1.11129.2.4.2, the TLS extension
 * signed_certificate_timestamp, the OCSP SingleResponse extension
 * 1.3.6.1.4.1.11129.2.4.5), the data a log signs, and the check of one
 * SCT's signature under a log's key. Parsing never copies: cursors point
 * into the caller's bytes. Which logs count and how many SCTs a
 * certificate needs is the handshake's business (src/tls/transparency.c).
 *
 *   SignedCertificateTimestampList: opaque SerializedSCT<1..2^16-1>
 *                                   inside a list<1..2^16-1>
 *   SignedCertificateTimestamp (v1): version(1) log_id[32] timestamp(8, ms)
 *        CtExtensions<0..2^16-1> digitally-signed { hash(1) sig(1)
 *        signature<0..2^16-1> } */
#ifndef CERTA_X509_SCT_H
#define CERTA_X509_SCT_H

#include "crypto/crypto.h"
#include "wire/cursor.h"
#include "x509/cert.h"

#define SCT_LOG_ID_LEN 32
#define SCT_VERSION_V1 0
/* RFC 6962 §3.2: the hash and signature algorithms a log may use. */
#define SCT_HASH_SHA256 4
#define SCT_SIG_RSA 1
#define SCT_SIG_ECDSA 3

/* The certificate extension's OID contents (1.3.6.1.4.1.11129.2.4.2). */
#define SCT_LIST_OID_LEN 10
extern const uint8_t sct_list_oid[SCT_LIST_OID_LEN];

typedef enum { SCT_ENTRY_X509 = 0, SCT_ENTRY_PRECERT = 1 } sct_entry_type;

typedef struct sct {
    uint8_t version;
    const uint8_t *log_id; /* SCT_LOG_ID_LEN bytes */
    uint64_t timestamp;    /* milliseconds since the epoch */
    cursor extensions;
    uint8_t hash_alg, sig_alg;
    cursor signature;
} sct;

/* Opens a SignedCertificateTimestampList: *items gets the SerializedSCTs
 * (each checked: non-empty, lengths consistent). false when malformed
 * (including an empty list and trailing bytes). */
bool sct_list_open(const uint8_t *data, size_t len, cursor *items);
/* The next SerializedSCT of an opened list. */
bool sct_list_next(cursor *items, cursor *serialized);

#define SCT_PARSE_OK 0
#define SCT_PARSE_MALFORMED -1
#define SCT_PARSE_VERSION -2 /* not v1: to be ignored (RFC 6962 §3.3) */
/* One SerializedSCT. */
int sct_parse(cursor serialized, sct *out);

/* The list embedded in a certificate (the extension's OCTET STRING
 * contents): 1 found, 0 none, -1 malformed extension. */
int sct_list_from_cert(const x509_cert *cert, cursor *list);
/* The list in the SingleResponse of an OCSP response (DER) that names leaf
 * issued by issuer: 1 found, 0 none (or not an OCSP response, or no
 * response for the leaf), -1 malformed extension. The response's own
 * signature is not checked here: each SCT is signed by its log. */
int sct_list_from_ocsp(const uint8_t *der, size_t len, const x509_cert *leaf,
                       const x509_cert *issuer, cursor *list);

/* The TBSCertificate of cert with the SCT list extension removed (and the
 * extensions field left out when nothing else remains): what a log signed
 * as the precertificate (RFC 6962 §3.2). Into out (a heap builder); 0 or
 * -1 (malformed certificate). */
int sct_precert_tbs(const x509_cert *cert, builder *out);

/* The digitally-signed struct of RFC 6962 §3.2 for s over an entry: for
 * SCT_ENTRY_X509 the leaf certificate's DER; for SCT_ENTRY_PRECERT the
 * SHA-256 of the issuer's SubjectPublicKeyInfo (issuer_key_hash) and the
 * TBSCertificate from sct_precert_tbs. Into out; 0 or -1. */
int sct_signed_data(const sct *s, sct_entry_type type, const uint8_t *issuer_key_hash,
                    const uint8_t *entry, size_t entry_len, builder *out);

#define SCT_VERIFY_OK 0
#define SCT_VERIFY_BAD_SIGNATURE -1
#define SCT_VERIFY_UNSUPPORTED -2 /* not SHA-256 with ECDSA or RSA, or a key of another type */
/* Checks s's signature over signed (sct_signed_data) under the log's key. */
int sct_verify(const sct *s, crypto_key *log_key, const uint8_t *signed_data, size_t len);

/* Appends s as a SerializedSCT's contents (no length prefix). */
void sct_encode(const sct *s, builder *out);

/* The TLS signature scheme of an SCT's algorithms: 0x0403 or 0x0401 (0 if
 * neither), for signing test SCTs with sig_sign_tls12. */
uint16_t sct_scheme(uint8_t hash_alg, uint8_t sig_alg);

#endif
