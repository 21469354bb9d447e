/* OCSP (RFC 6960): parsing an OCSPResponse, checking one for a leaf and
 * its issuer at a time, and building responses and requests (for the
 * tools' responder and fetcher). Parsing never copies: cursors point into
 * the caller's DER, which must outlive them. Sans-I/O like the rest of
 * src/: the time is passed in. */
#ifndef CERTA_X509_OCSP_H
#define CERTA_X509_OCSP_H

#include <pthread.h>

#include "crypto/crypto.h"
#include "wire/cursor.h"
#include "x509/cert.h"

/* OCSPResponseStatus (RFC 6960 §4.2.1). */
#define OCSP_SUCCESSFUL 0
#define OCSP_MALFORMED_REQUEST 1
#define OCSP_INTERNAL_ERROR 2
#define OCSP_TRY_LATER 3
#define OCSP_SIG_REQUIRED 5
#define OCSP_UNAUTHORIZED 6

typedef enum { OCSP_GOOD = 0, OCSP_REVOKED = 1, OCSP_UNKNOWN = 2 } ocsp_cert_status;

/* How far a responder's clock may run ahead of ours (thisUpdate in the
 * future) or behind (nextUpdate just passed). */
#define OCSP_SKEW_SECONDS 300
/* A response without nextUpdate is taken as fresh for this long after its
 * thisUpdate (Chromium's maximum OCSP response age). */
#define OCSP_MAX_AGE_NO_NEXT (7 * 24 * 3600)

/* CertID ::= SEQUENCE { hashAlgorithm, issuerNameHash, issuerKeyHash, serialNumber } */
typedef struct ocsp_cert_id {
    hash_alg hash;    /* HASH_SHA1 or HASH_SHA256 */
    cursor name_hash; /* OCTET STRING contents */
    cursor key_hash;  /* OCTET STRING contents */
    cursor serial;    /* INTEGER contents */
} ocsp_cert_id;

typedef struct ocsp_single {
    ocsp_cert_id id;
    ocsp_cert_status status;
    int64_t revocation_time; /* OCSP_REVOKED */
    int reason;              /* CRLReason, -1 when absent */
    int64_t this_update;
    int64_t next_update;
    bool has_next_update;
    cursor extensions; /* singleExtensions: contents of the SEQUENCE; len 0 if none
                        * (SCTs travel here as 1.3.6.1.4.1.11129.2.4.5) */
} ocsp_single;

typedef struct ocsp_response {
    int status;     /* responseStatus */
    bool has_basic; /* responseBytes of type id-pkix-ocsp-basic were present */
    cursor tbs;     /* ResponseData element (header included): what is signed */
    bool responder_by_key;
    cursor responder_name;     /* byName: the Name element */
    cursor responder_key_hash; /* byKey: SHA-1 of the responder's public key */
    int64_t produced_at;
    cursor responses; /* contents of SEQUENCE OF SingleResponse (each checked) */
    size_t single_count;
    cursor extensions; /* responseExtensions contents; len 0 if none */
    cursor sig_alg;    /* AlgorithmIdentifier contents */
    cursor sig;        /* signature bytes */
    cursor certs;      /* contents of the certs SEQUENCE; len 0 if none */
} ocsp_response;

/* Parses a DER OCSPResponse. 0, or -1 when it is not one (including a
 * successful status without a basic response). */
int ocsp_parse(ocsp_response *r, const uint8_t *der, size_t len);
/* Iterates r->responses (a copy of it): the next SingleResponse. */
bool ocsp_next_single(cursor *responses, ocsp_single *out);
/* Iterates r->certs: the next Certificate element. */
bool ocsp_next_cert(cursor *certs, cursor *der);
/* One extension of an Extensions contents cursor (RFC 5280 form). */
bool ocsp_next_extension(cursor *exts, cursor *oid, bool *critical, cursor *value);

/* Outcomes of ocsp_check, each with its own sentence. */
typedef enum {
    OCSP_OK = 0,
    OCSP_E_MALFORMED,         /* not a DER OCSPResponse */
    OCSP_E_NOT_SUCCESSFUL,    /* responseStatus other than successful */
    OCSP_E_WRONG_SIGNER,      /* responderID is neither the issuer nor a certificate it issued */
    OCSP_E_BAD_SIGNATURE,     /* the signature does not verify under the responder's key */
    OCSP_E_RESPONDER_NO_EKU,  /* delegated responder without id-kp-OCSPSigning */
    OCSP_E_RESPONDER_INVALID, /* delegated responder expired, not yet valid, not issued */
    OCSP_E_WRONG_CERT_ID,     /* no SingleResponse for this certificate */
    OCSP_E_FUTURE,            /* thisUpdate after now + skew */
    OCSP_E_STALE,             /* nextUpdate (or the maximum age) passed */
    OCSP_E_UNKNOWN,           /* the responder does not know the certificate */
    OCSP_E_REVOKED,           /* the certificate is revoked */
} ocsp_outcome;

typedef struct ocsp_result {
    ocsp_outcome outcome;
    char text[768];                   /* the sentence: cause and fix (fits both names) */
    int64_t this_update, next_update; /* of the matching SingleResponse */
    bool has_next_update;
    int64_t produced_at;
    int64_t revocation_time;
    int reason;               /* -1 when none */
    bool delegated;           /* signed by a delegated responder certificate */
    cursor single_extensions; /* the matching SingleResponse's extensions */
} ocsp_result;

/* Signatures ocsp_check_cached found valid, so that the same response
 * seen again (a client reconnecting to a server gets the same staple until
 * the server refreshes it, hours or days later) costs no second public-key
 * verification. An entry is SHA-256 over the signer's SPKI, the signature
 * algorithm, the signed bytes and the signature: a fact about those bytes,
 * true at any time and under any trust set, so it may be shared by
 * connections and configs. Nothing else is remembered: who the signer is
 * (issuer or delegated responder, its EKU and validity), the CertID, the
 * times and the status are checked on every call. Only successes are kept;
 * a fixed number of the newest. Thread-safe (its own lock). */
#define OCSP_SIG_CACHE_SLOTS 16
typedef struct ocsp_sig_cache {
    pthread_mutex_t lock;
    uint8_t digest[OCSP_SIG_CACHE_SLOTS][32];
    unsigned count; /* slots in use */
    unsigned next;  /* the slot the next entry replaces once all are used */
} ocsp_sig_cache;
void ocsp_sig_cache_init(ocsp_sig_cache *cache);
void ocsp_sig_cache_destroy(ocsp_sig_cache *cache);

/* Checks der as the status of leaf (issued by issuer) at time now: signed
 * by the issuer, or by a certificate the issuer signed that carries
 * id-kp-OCSPSigning and is valid at now; a SingleResponse whose CertID
 * (SHA-1 or SHA-256) names the leaf; thisUpdate no later than now + skew;
 * nextUpdate (or thisUpdate + OCSP_MAX_AGE_NO_NEXT) not before now - skew;
 * status good. Returns the outcome (also in res->outcome). */
ocsp_outcome ocsp_check(const uint8_t *der, size_t len, const x509_cert *leaf,
                        const x509_cert *issuer, int64_t now, ocsp_result *res);
/* The same, verifying each signature only if cache (may be NULL) does not
 * hold it yet, and adding it when it verifies. */
ocsp_outcome ocsp_check_cached(const uint8_t *der, size_t len, const x509_cert *leaf,
                               const x509_cert *issuer, int64_t now, ocsp_sig_cache *cache,
                               ocsp_result *res);

/* Name of a CRLReason (RFC 5280 §5.3.1): "keyCompromise", ... */
const char *ocsp_reason_name(int reason);

/* The issuer's key hash: hash of the subjectPublicKey BIT STRING value. */
int ocsp_issuer_key_hash(const x509_cert *issuer, hash_alg h, uint8_t *out);
/* Does id name leaf issued by issuer? */
bool ocsp_cert_id_matches(const ocsp_cert_id *id, const x509_cert *leaf, const x509_cert *issuer);
/* When a response stops being usable (nextUpdate, or thisUpdate + max age),
 * for a server deciding whether to staple it; -1 if der is unusable. */
int64_t ocsp_expiry(const uint8_t *der, size_t len);

/* ---- building (tools: the responder, the fetcher) ---- */
typedef struct ocsp_build_single {
    hash_alg hash;
    const uint8_t *name_hash, *key_hash; /* hash_len(hash) bytes each */
    const uint8_t *serial;               /* INTEGER contents */
    size_t serial_len;
    ocsp_cert_status status;
    int64_t revocation_time;
    int reason;                       /* -1 to leave it out */
    int64_t this_update, next_update; /* next_update 0: left out */
} ocsp_build_single;

/* A successful OCSPResponse with a BasicOCSPResponse signed by key (whose
 * certificate is signer: responderID byKey), listing certs (signer's chain
 * to embed for a delegated responder; may be none) and echoing nonce (the
 * request's nonce extension value, may be NULL). Into out (a heap builder);
 * 0 or -1. */
int ocsp_build_response(builder *out, const x509_cert *signer, crypto_key *key,
                        const ocsp_build_single *singles, size_t count, int64_t produced_at,
                        const uint8_t *const *certs, const size_t *cert_lens, size_t cert_count,
                        const uint8_t *nonce, size_t nonce_len);
/* An unsuccessful OCSPResponse (just the status). */
int ocsp_build_error(builder *out, int status);
/* An OCSPRequest for leaf issued by issuer (SHA-1 CertID, as responders
 * expect), with an optional nonce. 0 or -1. */
int ocsp_build_request(builder *out, const x509_cert *leaf, const x509_cert *issuer,
                       const uint8_t *nonce, size_t nonce_len);

/* A parsed OCSPRequest: its CertIDs and nonce. */
typedef struct ocsp_request {
    cursor requests; /* contents of the requestList (each a Request) */
    size_t count;
    cursor nonce; /* nonce extension value (inner OCTET STRING element contents); len 0 */
} ocsp_request;
int ocsp_request_parse(ocsp_request *r, const uint8_t *der, size_t len);
bool ocsp_request_next(cursor *requests, ocsp_cert_id *id);

#endif
