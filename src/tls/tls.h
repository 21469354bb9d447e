/* Internal: the TLS 1.3 engine's shared definitions — wire constants, the
 * cipher-suite table, the config and the connection. */
#ifndef CERTA_TLS_H
#define CERTA_TLS_H

#include "certa.h"
#include "crypto/crypto.h"
#include "record/record.h"
#include "tls/cert_compression.h"
#include "wire/cursor.h"
#include "x509/ocsp.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>

/* Handshake message types (RFC 8446 §4). */
enum {
    HS_CLIENT_HELLO = 1,
    HS_SERVER_HELLO = 2,
    HS_NEW_SESSION_TICKET = 4,
    HS_END_OF_EARLY_DATA = 5,
    HS_ENCRYPTED_EXTENSIONS = 8,
    HS_CERTIFICATE = 11,
    HS_CERTIFICATE_REQUEST = 13,
    HS_CERTIFICATE_VERIFY = 15,
    HS_CERTIFICATE_STATUS = 22, /* TLS 1.2 (RFC 6066 §8) */
    HS_FINISHED = 20,
    HS_KEY_UPDATE = 24,
    HS_MESSAGE_HASH = 254,
};

/* Extension types. */
enum {
    EXT_SERVER_NAME = 0,
    EXT_MAX_FRAGMENT_LENGTH = 1,
    EXT_STATUS_REQUEST = 5,
    EXT_SUPPORTED_GROUPS = 10,
    EXT_EC_POINT_FORMATS = 11,
    EXT_SIGNATURE_ALGORITHMS = 13,
    EXT_USE_SRTP = 14,
    EXT_HEARTBEAT = 15,
    EXT_ALPN = 16,
    EXT_SCT = 18,
    EXT_CLIENT_CERT_TYPE = 19,
    EXT_SERVER_CERT_TYPE = 20,
    EXT_PADDING = 21,
    EXT_RECORD_SIZE_LIMIT = 28,
    EXT_PRE_SHARED_KEY = 41,
    EXT_EARLY_DATA = 42,
    EXT_SUPPORTED_VERSIONS = 43,
    EXT_COOKIE = 44,
    EXT_PSK_KEY_EXCHANGE_MODES = 45,
    EXT_CERTIFICATE_AUTHORITIES = 47,
    EXT_OID_FILTERS = 48,
    EXT_POST_HANDSHAKE_AUTH = 49,
    EXT_SIGNATURE_ALGORITHMS_CERT = 50,
    EXT_KEY_SHARE = 51,
};

/* Alert descriptions used by the engine. */
enum {
    ALERT_CLOSE_NOTIFY = 0,
    ALERT_UNEXPECTED_MESSAGE = 10,
    ALERT_BAD_RECORD_MAC = 20,
    ALERT_RECORD_OVERFLOW = 22,
    ALERT_HANDSHAKE_FAILURE = 40,
    ALERT_BAD_CERTIFICATE = 42,
    ALERT_UNSUPPORTED_CERTIFICATE = 43,
    ALERT_CERTIFICATE_REVOKED = 44,
    ALERT_CERTIFICATE_UNKNOWN = 46,
    ALERT_ILLEGAL_PARAMETER = 47,
    ALERT_DECODE_ERROR = 50,
    ALERT_DECRYPT_ERROR = 51,
    ALERT_PROTOCOL_VERSION = 70,
    ALERT_INAPPROPRIATE_FALLBACK = 86,
    ALERT_INTERNAL_ERROR = 80,
    ALERT_USER_CANCELED = 90,
    ALERT_NO_RENEGOTIATION = 100,
    ALERT_MISSING_EXTENSION = 109,
    ALERT_UNSUPPORTED_EXTENSION = 110,
    ALERT_UNRECOGNIZED_NAME = 112,
    ALERT_BAD_CERTIFICATE_STATUS_RESPONSE = 113,
    ALERT_NO_APPLICATION_PROTOCOL = 120,
    ALERT_NONE = 255,
};

#define MAX_EXTENSIONS 128
typedef struct ext_list {
    uint16_t types[MAX_EXTENSIONS];
    cursor bodies[MAX_EXTENSIONS];
    size_t count;
    uint16_t last_type; /* of the whole block, kept or not */
} ext_list;

/* Which certificate key a TLS 1.2 suite needs (TLS 1.3 suites: any). */
typedef enum suite_auth { AUTH_ANY = 0, AUTH_ECDSA, AUTH_RSA } suite_auth;

typedef struct cipher_suite {
    uint16_t id;
    const char *name;
    aead_alg aead;
    hash_alg hash;    /* TLS 1.3: HKDF and transcript; TLS 1.2: PRF and transcript */
    uint16_t version; /* CERTA_TLS13 or CERTA_TLS12 */
    suite_auth auth;
} cipher_suite;

const cipher_suite *cipher_suite_find(uint16_t id);
/* The signature schemes certa offers and accepts, in preference order. */
extern const uint16_t tls13_sig_schemes[];
extern const size_t tls13_sig_schemes_count;
extern const uint16_t tls13_cert_only_schemes[]; /* rsa_pkcs1_*: certificates only */
extern const size_t tls13_cert_only_schemes_count;
/* The alert a locally detected error is reported with. */
uint8_t alert_for_error(int code);

#define MAX_LIST 8
#define MAX_GROUPS 16
#define MAX_CIPHERS 16
/* Certificate/key pairs a config may add (besides slot 0): grown as added;
 * a server in front of many names (SNI) may hold this many. */
#define MAX_IDENTITIES 1024
#define MAX_RULES 32
#define MAX_PINS 16
#define ALPN_WIRE_MAX 512
#define DEFAULT_MAX_HANDSHAKE (64 * 1024)
/* version, random, session id, a full 2^16 - 2 suites list, compression
 * and a full 2^16 - 1 extensions block */
#define CLIENT_HELLO_MAX (2 * 65535 + 1024)
/* Records in a row that carry no application data (KeyUpdate, empty
 * records, warning alerts, tickets) before the peer counts as flooding. */
#define DEFAULT_MAX_IDLE_RECORDS 32
#define DEFAULT_MAX_CHAIN 10
#define DEFAULT_MAX_VERIFY_WORK 1000

/* A certificate chain (leaf first, DER) with its private key, and the
 * leaf's DNS SANs, read once at load time for choosing by SNI. */
typedef struct identity {
    uint8_t **chain;
    size_t *lens;
    size_t count;
    crypto_key *key;
    char *names; /* valid DNS SANs, each NUL-terminated, back to back */
    size_t name_count;
    /* The OCSP response stapled for the leaf (ocsp_staple.c): replaced
     * under that file's lock, even in a config in use. */
    uint8_t *ocsp;
    size_t ocsp_len;
    int64_t ocsp_expiry; /* nextUpdate (or the maximum age): not stapled after it */
    /* SignedCertificateTimestampList sent for the leaf (transparency.c) */
    uint8_t *sct_list;
    size_t sct_list_len;
} identity;

typedef enum rule_kind { RULE_SPIFFE_EXACT, RULE_SPIFFE_PREFIX, RULE_DNS, RULE_PIN } rule_kind;
typedef struct allow_rule {
    rule_kind kind;
    char text[256];  /* as given, for explanations */
    char value[256]; /* SPIFFE ID / prefix (with trailing '/') / DNS name */
    uint8_t pin[32];
} allow_rule;

/* A resumable session: what a ticket seals (server) or what a client
 * stores with the ticket (session.c). */
typedef struct session_state {
    uint16_t suite;
    int64_t auth_time; /* the full handshake that verified the peer */
    int64_t issued;    /* server: ticket issued; client: ticket received */
    uint32_t lifetime;
    uint32_t age_add;
    uint8_t psk[CRYPTO_MAX_HASH];
    uint8_t psk_len;
    char server_name[256];
    certa_peer_identity peer; /* server: the client's; client: the server's */
    bool ems;                 /* TLS 1.2: made with the extended master secret */
    bool name_matched;        /* server: our certificate was chosen for server_name (SNI) */
    uint32_t max_early_data;  /* 0-RTT bytes the ticket allows (0: none) */
    char alpn[256];           /* the ALPN protocol of the handshake ("" if none) */
    const uint8_t *ticket;    /* client only: the ticket to offer */
    size_t ticket_len;
} session_state;

#define DEFAULT_TICKETS 2
#define DEFAULT_TICKET_LIFETIME 7200
#define MAX_TICKET_LIFETIME 604800
#define DEFAULT_SESSION_CACHE 32
/* Tickets kept per server name in the client cache. */
#define SESSION_CACHE_PER_NAME 2

typedef struct session_cache_entry {
    char name[256];
    uint8_t *blob; /* encoded session_state; holds the PSK */
    size_t len;
    uint64_t seq; /* age: higher is newer */
} session_cache_entry;

/* The last stapled Certificate body of an identity (it carries the OCSP
 * response, which may be replaced while the config is in use) and its
 * compression, in one allocation: body[0..body_len) then msg. */
typedef struct stapled_pack {
    size_t body_len;
    size_t msg_len; /* 0: compressing it does not pay */
    uint8_t bytes[];
} stapled_pack;

/* One identity's Certificate compressed with one algorithm (RFC 8879),
 * made the first time a handshake needs it and kept for the config's
 * life: a frozen config's identities do not change. With a staple the
 * Certificate is kept in stapled (under cert_cache_lock), reused while
 * the stapled body is byte for byte the same and replaced when not. */
typedef struct cert_cache_entry {
    atomic_bool ready; /* msg is final (NULL: compressing does not pay) */
    uint8_t *msg;      /* CompressedCertificate body */
    size_t msg_len;
    stapled_pack *stapled;
} cert_cache_entry;

typedef struct session_cache {
    pthread_mutex_t lock;
    session_cache_entry *entries; /* allocated on first use */
    unsigned cap;
    uint64_t seq;
} session_cache;

typedef struct crl_set crl_set; /* revocation.c */

/* A Certificate Transparency log the config trusts (transparency.c). */
typedef struct ct_log {
    uint8_t id[32]; /* SHA-256 of its SubjectPublicKeyInfo */
    crypto_key *key;
    char *operator_name;
    char *description;
    int64_t not_after_start, not_after_end; /* temporal interval, seconds; 0: open */
    int64_t retired_at;                     /* seconds; 0: not retired */
} ct_log;

struct certa_config {
    atomic_int refs;
    atomic_bool frozen;         /* set by the first connection: no more changes */
    uint16_t ciphers[MAX_LIST]; /* TLS 1.3 suites */
    size_t cipher_count;
    uint16_t ciphers12[MAX_CIPHERS]; /* TLS 1.2 suites */
    size_t cipher12_count;
    uint16_t min_version, max_version;
    bool require_ems;
    unsigned min_rsa_bits, min_ec_bits; /* peer's and our own leaf keys (profile.c) */
    const char *profile; /* the profile that set the key minimums, NULL if none/overridden */
    uint16_t groups[MAX_GROUPS];
    size_t group_count;
    uint8_t alpn_wire[ALPN_WIRE_MAX]; /* ProtocolNameList contents */
    size_t alpn_wire_len;
    uint16_t record_size_limit; /* RFC 8449, content bytes; 0 = 2^14 */
    identity *ids;              /* ids[0] from load_cert_chain/private_key, then add_identity's */
    size_t id_count, id_cap;
    bool sni_strict;          /* server: refuse a server_name no certificate is for */
    bool client_fingerprints; /* server: keep JA4/JA3 of each ClientHello */
    const certa_trust *trust; /* borrowed, or owned_trust */
    certa_trust *owned_trust;
    /* certa_config_add_spiffe_bundle: per SPIFFE trust domain, the only
     * anchors for peers whose leaf names an ID in it (spiffe_bundles.c) */
    struct spiffe_bundle *spiffe_bundles;
    size_t spiffe_bundle_count;
    pthread_mutex_t trust_lock; /* the system bundle is loaded on first use */
    certa_client_auth client_auth;
    allow_rule rules[MAX_RULES];
    size_t rule_count;
    uint8_t pins[MAX_PINS][32];
    size_t pin_count;
    bool insecure;
    size_t max_handshake;
    unsigned max_chain;        /* certificates the peer may send (<= MAX_PEER_CERTS) */
    unsigned max_verify_work;  /* signature checks per chain validation */
    unsigned max_idle_records; /* no-data records in a row */
    certa_time_fn time_fn;
    void *time_arg;
    certa_random_fn random_fn;
    void *random_arg;
    /* resumption */
    unsigned tickets;
    uint32_t ticket_lifetime;
    certa_ticket_keys *ticket_keys; /* ticket_keys.h; shared, NULL: no tickets */
    session_cache cache;
    /* 0-RTT early data (early_data.c): server, the most accepted per
     * connection; client, the most sent (0: off) */
    uint32_t max_early_data;
    uint32_t early_age_window;       /* seconds of ticket-age skew accepted */
    certa_replay_check_fn replay_fn; /* NULL: the built-in store */
    void *replay_arg;
    struct replay_store *replay; /* the built-in store, made on first use */
    unsigned replay_capacity;    /* its entries */
    pthread_mutex_t replay_lock;
    /* certificate compression: algorithms in preference order (both what
     * we offer to decompress and what we compress with) */
    uint16_t cert_comp[CERT_CODECS];
    size_t cert_comp_count;
    cert_cache_entry cert_cache[MAX_IDENTITIES][CERT_CODECS];
    pthread_mutex_t cert_cache_lock;
    /* OCSP response signatures found valid (a client meets the same staple
     * again on each connection to a server): ocsp.h */
    ocsp_sig_cache ocsp_cache;
    /* revocation (revocation.c): the mode and the current CRL set */
    certa_revocation revocation;
    crl_set *crls;
    pthread_mutex_t crl_lock;
    _Atomic int64_t crls_changed; /* config time the CRL set last changed; 0: never */
    /* Certificate Transparency (transparency.c): the logs and the policy */
    ct_log *ct_logs;
    size_t ct_log_count;
    certa_sct_policy sct_policy;
    /* key log (keylog.c): NULL unless the user asked for one */
    certa_keylog_fn keylog_fn;
    void *keylog_arg;
    /* Encrypted Client Hello (ech_server.c, ech_client.c): a server's keys
     * (heap array) and the ECHConfigList of those marked retry; a client's
     * ECHConfigList (copied) or GREASE */
    struct ech_key *ech_keys;
    size_t ech_key_count;
    uint8_t *ech_retry_list; /* ECHConfigList wire form (with its length) */
    size_t ech_retry_list_len;
    uint8_t *ech_config_list;
    size_t ech_config_list_len;
    bool ech_grease;
    bool ech_trial_decryption; /* server: also try keys whose config_id does not match */
    char error[256];
};

int config_random(const certa_config *cfg, uint8_t *out, size_t len);
int config_err(certa_config *cfg, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int config_load_file(certa_config *cfg, const char *path,
                     int (*setter)(certa_config *, const char *, size_t));
#define CHECK_MUTABLE(cfg)                                                                         \
    do {                                                                                           \
        if (!(cfg)) return CERTA_E_INVALID_ARGUMENT;                                               \
        if (atomic_load(&(cfg)->frozen))                                                           \
            return config_err(cfg, CERTA_E_STATE,                                                  \
                              "the config is already in use by a connection and cannot change");   \
    } while (0)

/* ---- identity.c ---- */
void identity_clear(identity *id);
bool identity_complete(const identity *id);
/* The first complete identity whose key fits one of the peer's schemes
 * (in the peer's order) and, if ca_names is given, whose chain names one of
 * those issuers (falling back to any fitting identity). With server_name
 * (a server's SNI, else NULL), identities with a certificate for that name
 * come first; the others only when none of those fits and the config is not
 * SNI-strict. */
const identity *identity_choose(const certa_config *cfg, cursor peer_schemes,
                                const cursor *ca_names, const char *server_name, uint16_t *scheme);
/* The same with TLS 1.2's reading of the schemes (ECDSA of any curve, PKCS#1). */
const identity *identity_choose_tls12(const certa_config *cfg, cursor peer_schemes,
                                      const cursor *ca_names, uint16_t *scheme);
/* The DNS name of id's certificate that host matches (exactly, or by a
 * one-label wildcard), NULL if none or host is NULL or not a valid host
 * name. The _valid form skips checking host (sni_host_valid said yes, and
 * set hn): for loops over many identities. */
const char *identity_name_match(const identity *id, const char *host);
const char *identity_name_match_valid(const identity *id, const char *host, size_t hn);
bool sni_host_valid(const char *host, size_t *hn);
/* Does any complete identity have a certificate for host? */
bool identities_know_name(const certa_config *cfg, const char *host);
/* Server, after reading SNI: in strict mode a name no certificate is for
 * fails the handshake with unrecognized_name (and a sentence listing the
 * names there are). 0 or the error. */
int sni_strict_check(certa_conn *c);
/* The first complete identity, preferring one for server_name (for naming
 * its key in an error); NULL if there is none. */
const identity *identity_first(const certa_config *cfg, const char *server_name);
/* For the server's Certificate trace line: ", DNS *.example.com matches SNI
 * a.example.com", ", the default (DNS ...): none is for SNI x", or "". */
void identity_choice_note(const certa_conn *c, char *out, size_t cap);
/* The trust set for peer validation (loading the system bundle once). */
const certa_trust *config_trust(certa_config *cfg);

/* ---- ocsp_staple.c: OCSP stapling (RFC 6066, RFC 8446 §4.4.2.1, RFC 7633) ---- */
/* Server: appends a CertificateStatus (status_type ocsp, the response) for
 * c->id when the client asked and a fresh response is configured; returns
 * whether it did. */
bool staple_put(certa_conn *c, builder *b);
/* Server: will staple_put write anything (decided once per handshake)? */
bool staple_available(const certa_conn *c);
/* Client: a CertificateStatus body (1.3 CertificateEntry extension or the
 * 1.2 message): kept for staple_check. Fails on malformed input. */
int staple_receive(certa_conn *c, cursor status, const char *where);
/* Client, after the chain validated (and in 1.2 after CertificateStatus, or
 * where it could have come): judges the staple and must-staple. */
int staple_check(certa_conn *c);
/* The status_request extension of a ClientHello (type and body). */
void staple_put_request(builder *b);
/* TLS 1.2 server: the CertificateStatus message, after Certificate. */
int tls12_send_certificate_status(certa_conn *c);

/* ---- transparency.c: Certificate Transparency (RFC 6962) ---- */
/* Does the client ask for SCTs (signed_certificate_timestamp, empty)? */
bool sct_wanted(const certa_config *cfg);
/* Client: the extension for ClientHello, when sct_wanted. */
void sct_put_request(const certa_config *cfg, builder *b);
/* Server: appends the signed_certificate_timestamp extension (type and
 * body) with the leaf's SCT list when the client asked (c->sct_requested)
 * and there is one; sets c->sct_sent. */
void sct_put_list(certa_conn *c, builder *b);
/* Client: the SCT list from a CertificateEntry (1.3) or ServerHello (1.2)
 * extension, kept for sct_check. Fails on a list not asked for, twice, or
 * malformed. */
int sct_receive(certa_conn *c, cursor list, const char *where);
/* After the chain validated (and, for a client, the OCSP staple arrived or
 * could have): judges every SCT (embedded, TLS, OCSP) against the logs and
 * applies the policy. */
int sct_check(certa_conn *c);
void config_ct_logs_free(certa_config *cfg);

/* ---- policy.c ---- */
/* Fills the peer identity from the leaf; 0 or -1 if unparseable. */
int peer_identity_fill(const uint8_t *der, size_t len, certa_peer_identity *id);
/* spiffe_bundles.c: the anchors for a peer's SPIFFE ID when the config has
 * per-trust-domain bundles: its trust domain's, or NULL (*none_for_td set)
 * when that domain has none; the config's trust set when it has none at
 * all or the peer has no SPIFFE ID (*none_for_td false, NULL returned). */
const certa_trust *spiffe_bundle_for(const certa_config *cfg, const char *spiffe_id,
                                     bool *none_for_td);
void spiffe_bundles_free(certa_config *cfg);
/* identity.c: a trust set from PEM text; CERTA_E_TRUST_EMPTY without a
 * certificate; on failure the config's error text says why, after what. */
int trust_from_pem(certa_config *cfg, const char *what, const char *pem, size_t len,
                   certa_trust **out);
/* Applies the allow rules; fails the connection with an explanation. */
int policy_check(certa_conn *c);
/* The same rules as a question, for a remembered identity (resumption). */
bool policy_allows(const certa_config *cfg, const certa_peer_identity *id);
/* How traces and errors name a peer: SPIFFE ID, else DNS names, else subject. */
const char *identity_label(const certa_peer_identity *id);
/* Does "sha256:BASE64" name one of the config's pins? */
bool pins_match(const certa_config *cfg, const char *spki_sha256);

/* ---- profile.c ---- */
#define DEFAULT_MIN_RSA_BITS 2048
#define DEFAULT_MIN_EC_BITS 256
/* Our own certificates' keys against the config's minimums: fails the
 * connection (CERTA_E_CONFIG) with a sentence naming the key and the fix. */
int own_key_size_check(certa_conn *c);
/* The peer's leaf key (c->peer_key) against them: insufficient_security. */
int peer_key_size_check(certa_conn *c);

typedef enum conn_state {
    ST_CLIENT_WAIT_SH,
    ST_CLIENT_WAIT_EE,
    ST_CLIENT_WAIT_CERT_CR,
    ST_CLIENT_WAIT_CERT,
    ST_CLIENT_WAIT_CV,
    ST_CLIENT_WAIT_FINISHED,
    ST_SERVER_WAIT_CH,
    ST_SERVER_WAIT_CH2,  /* after HelloRetryRequest */
    ST_SERVER_WAIT_CERT, /* client certificate requested */
    ST_SERVER_WAIT_CV,
    ST_SERVER_WAIT_FINISHED,
    ST_SERVER_WAIT_EOED, /* accepted early data, until EndOfEarlyData */
    /* TLS 1.2 (tls12_client.c / tls12_server.c); WAIT_CCS is left by a
     * ChangeCipherSpec record, not a handshake message. */
    ST12_CLIENT_WAIT_CERT,
    ST12_CLIENT_WAIT_SKE,
    ST12_CLIENT_WAIT_CR_SHD,
    ST12_CLIENT_WAIT_SHD,
    ST12_CLIENT_WAIT_CCS, /* NewSessionTicket may come first */
    ST12_CLIENT_WAIT_FINISHED,
    ST12_SERVER_WAIT_CERT,
    ST12_SERVER_WAIT_CKE,
    ST12_SERVER_WAIT_CV,
    ST12_SERVER_WAIT_CCS,
    ST12_SERVER_WAIT_FINISHED,
    ST_CONNECTED,
    ST_FAILED,
} conn_state;

#define MAX_PEER_CERTS 16

struct certa_conn {
    certa_config *cfg;
    bool is_server;
    conn_state state;

    /* Transport input: at most one record at a time, decrypted in place.
     * Application data stays here until read (app_off/app_len). */
    uint8_t *in; /* allocated only while a record is buffered */
    size_t in_len;
    size_t in_high; /* bytes of in used since allocation: what to zeroize */
    size_t app_off, app_len;
    /* Transport output. */
    builder out;
    size_t out_sent;
    /* Handshake messages being reassembled from records. */
    builder hs_in;

    record_protection rx, tx;
    const cipher_suite *suite;
    transcript th;
    bool th_started;
    uint8_t *first_hello; /* ClientHello bytes kept until the hash is known */
    size_t first_hello_len;

    /* key schedule */
    uint8_t handshake_secret[CRYPTO_MAX_HASH];
    uint8_t master_secret[CRYPTO_MAX_HASH];
    uint8_t client_hs_secret[CRYPTO_MAX_HASH];
    uint8_t server_hs_secret[CRYPTO_MAX_HASH];
    uint8_t client_app_secret[CRYPTO_MAX_HASH];
    uint8_t server_app_secret[CRYPTO_MAX_HASH];

    /* key exchange */
    uint16_t group;
    kex_state *kex_key; /* our ephemeral key exchange half, during the handshake */
    /* client: a second share, classical, next to a hybrid one (so a server
     * without post-quantum groups needs no HelloRetryRequest) */
    kex_state *kex_key2;
    uint16_t group2; /* its group; 0 if none was sent */
    bool hello_retry;

    /* hello state */
    uint8_t client_random[32];
    uint8_t session_id[32];
    size_t session_id_len;
    char server_name[256];
    char alpn[256];
    uint8_t hello_fingerprint[32]; /* server: what of ClientHello1 must not change */
    /* server, when the config keeps them: JA4/JA3 of ClientHello 1 and 2 */
    struct hello_fingerprint *client_fps[2];
    const identity *id;       /* our certificate and key for this handshake */
    const char *cert_name;    /* server: id's DNS name that matched SNI, or NULL */
    uint16_t sig_scheme;      /* our CertificateVerify */
    uint16_t peer_sig_scheme; /* peer's CertificateVerify */
    bool ccs_sent;
    bool ccs_received;
    uint8_t *cookie; /* from HelloRetryRequest, echoed in ClientHello2 */
    size_t cookie_len;
    bool cert_requested;        /* client: the server sent CertificateRequest */
    uint16_t cert_compress_alg; /* our Certificate may go compressed with it (peer offered); 0 no */
    /* the peer's CompressedCertificate, if it sent one (certa_conn_info) */
    uint16_t peer_cert_alg;
    size_t peer_cert_compressed_len, peer_cert_uncompressed_len;
    uint8_t cr_context[255];
    uint8_t cr_context_len;

    /* peer identity */
    uint8_t *peer_certs[MAX_PEER_CERTS];
    size_t peer_cert_lens[MAX_PEER_CERTS];
    size_t peer_cert_count;
    crypto_key *peer_key;
    certa_peer_identity peer;
    /* OCSP stapling (ocsp_staple.c) */
    bool status_requested; /* server: the client sent status_request */
    bool staple_sent;      /* server: we staple (1.2: echoed in ServerHello) */
    bool staple_expected;  /* client, 1.2: the server echoed status_request */
    bool staple_good;      /* the peer's OCSP staple was checked: good */
    bool staple_checked;   /* client: the staple (or its absence) was judged */
    uint8_t *peer_ocsp;    /* client: the stapled OCSPResponse, DER */
    size_t peer_ocsp_len;
    char *revocation_note;      /* the first non-fatal revocation finding, malloc'd */
    char *leaf_status_pending;  /* client, require: why only a staple can vouch for the leaf */
    const uint8_t *peer_issuer; /* client: the leaf's issuer on the validated path */
    size_t peer_issuer_len;
    /* Certificate Transparency (transparency.c) */
    bool sct_requested; /* server: the client sent signed_certificate_timestamp */
    bool sct_sent;      /* server: we send the leaf's SCT list */
    bool sct_checked;   /* the peer's SCTs were judged */
    uint8_t *peer_sct;  /* client: the SCT list from the TLS extension */
    size_t peer_sct_len;
    char *sct_note; /* the policy's verdict, malloc'd (certa_conn_sct_note) */

    /* resumption */
    session_state *offered; /* client: the session offered in ClientHello */
    size_t offered_len;     /* the encoded copy that follows it in memory */
    bool resumed;           /* the handshake used a PSK */
    bool session_offered;   /* client: a stored session went into ClientHello */
    uint16_t psk_index;     /* server: which offered identity it is */
    uint8_t psk[CRYPTO_MAX_HASH];
    int64_t auth_time; /* when the peer's identity was verified */
    /* client: resumption_master_secret, for tickets arriving later */
    uint8_t resumption_secret[CRYPTO_MAX_HASH];
    uint8_t *session; /* client: the newest session, encoded */
    size_t session_len;
    uint32_t ticket_lifetime; /* client: the newest ticket's lifetime hint (seconds) */
    /* client: the certificate_authorities of a CertificateRequest (the DER
     * names' vector, heap, freed with the connection); NULL if none named */
    uint8_t *requested_cas;
    size_t requested_cas_len;

    unsigned idle_records; /* consecutive records without application data */

    /* TLS 1.2 (the master secret is master_secret[0..48)) */
    uint16_t version;            /* negotiated: CERTA_TLS13 or CERTA_TLS12; 0 before */
    uint16_t peer_record_limit;  /* the peer's record_size_limit value, 0 if none */
    bool ems;                    /* extended master secret in use */
    bool secure_reneg;           /* the peer signalled RFC 5746 */
    bool ticket_ext;             /* a NewSessionTicket is (server) / may be (client) sent */
    bool reneg_refused;          /* we answered a renegotiation attempt with no_renegotiation */
    bool reneg_probe;            /* client: certa_conn_probe_renegotiation awaits the answer */
    uint8_t reneg_verify[24];    /* client || server Finished verify_data (RFC 5746), 1.2 */
    struct tls12_handshake *t12; /* only during a TLS 1.2 handshake */

    /* status */
    bool close_sent;
    bool peer_closed;
    bool eof;
    int error;
    uint8_t alert_sent;
    uint8_t alert_received;
    char error_text[320];
    certa_trace_fn trace_fn;
    void *trace_arg;
    /* Trace lines emitted before a trace function was attached (the client
     * sends its ClientHello from certa_client_new): replayed on attach. */
    char (*early_trace)[200]; /* 2 lines, allocated only while they are needed */
    unsigned early_trace_count;
    /* exporter.c: exporter_master_secret (1.3) or the master secret (1.2) */
    uint8_t exporter_secret[CRYPTO_MAX_HASH];
    uint8_t exporter_server_random[32]; /* TLS 1.2 */
    /* Bytes of the client's early data still to skip unread (RFC 8446
     * §4.2.10): certa accepts no 0-RTT data; nonzero while it may come. */
    uint32_t early_skip_left;
    /* 0-RTT (early_data.c) */
    bool early_offered;  /* client: early_data went into ClientHello */
    bool early_accepted; /* the server accepted early data */
    bool early_rejected; /* offered (client) or sent (server saw the extension), not accepted */
    bool app_early;      /* server: the buffered plaintext is early data */
    uint32_t early_left; /* bytes of early data still allowed */
    uint64_t early_seq;  /* client: early records sent (EndOfEarlyData's sequence) */
    size_t early_bytes;  /* early data bytes sent (client) or received (server) */
    uint8_t client_early_secret[CRYPTO_MAX_HASH];
    /* Encrypted Client Hello */
    certa_ech_status ech_status;
    bool ech_confirm;                /* server: confirm acceptance in ServerHello / HRR */
    bool ech_send_retry;             /* server: retry_configs in EncryptedExtensions */
    char *ech_outer_name;            /* the outer hello's server_name (heap), or NULL */
    struct ech_open_state *ech_open; /* server: the HPKE context between the two hellos */
    struct ech_client *ech;          /* client: until the handshake ends */
    uint8_t *ech_retry;              /* client: the server's retry_configs (ECHConfigList) */
    size_t ech_retry_len;
};

/* ---- conn.c: shared machinery ---- */
/* Fails the connection: records code and sentence, queues the alert. Returns code. */
int conn_fail(certa_conn *c, int code, uint8_t alert, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void conn_trace(certa_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a handshake message (type + body) to the transcript and sends it. */
int conn_send_handshake(certa_conn *c, uint8_t type, const uint8_t *body, size_t len);
int conn_send_ccs(certa_conn *c);
/* Both Finished are done: drop what only the handshake needed. */
void conn_handshake_finished(certa_conn *c);
int transcript_add(certa_conn *c, const uint8_t *msg, size_t len);
/* Starts hashing once the suite is known, feeding the kept ClientHello. */
int transcript_start(certa_conn *c);
int transcript_replace_with_message_hash(certa_conn *c);
int transcript_hash(certa_conn *c, uint8_t *out);
/* Keys a direction from a traffic secret. */
int conn_set_rx(certa_conn *c, const uint8_t *secret);
int conn_set_tx(certa_conn *c, const uint8_t *secret);
const char *hs_message_name(uint8_t type);

/* How much refused early data a server skips before it gives up: the
 * 2^14 bytes most clients send, in records of any size, with room. */
#define EARLY_DATA_SKIP_MAX (4 * RECORD_MAX_WIRE)

/* ---- key_schedule.c ---- */
int ks_handshake_secrets(certa_conn *c, const uint8_t *shared, size_t shared_len);
int ks_application_secrets(certa_conn *c);
int ks_finished_mac(certa_conn *c, const uint8_t *base_secret, uint8_t *out);
int ks_next_traffic_secret(certa_conn *c, uint8_t *secret);
void ks_wipe(certa_conn *c);

/* Early secret from the PSK when resuming (c->resumed), else from zeros. */
int ks_early_secret(hash_alg h, const uint8_t *psk, uint8_t *early);
/* The PSK binder (§4.2.11.2) over the hash of the truncated ClientHello. */
int ks_binder(hash_alg h, const uint8_t *psk, const uint8_t *truncated_hash, uint8_t *out);
/* resumption_master_secret: call with the transcript through the client's Finished. */
int ks_resumption_secret(certa_conn *c, uint8_t *out);
/* The PSK a ticket stands for: HKDF-Expand-Label(rms, "resumption", nonce). */
int ks_ticket_psk(hash_alg h, const uint8_t *rms, const uint8_t *nonce, size_t nonce_len,
                  uint8_t *psk);

/* client_early_traffic_secret (§7.1) from the PSK and Hash(ClientHello). */
int ks_client_early_secret(hash_alg h, const uint8_t *psk, const uint8_t *hello_hash, uint8_t *out);

#define DEFAULT_EARLY_AGE_WINDOW 10
#define DEFAULT_REPLAY_CAPACITY 16384
#define MAX_EARLY_DATA (1u << 24)
/* ---- keylog.c: NSS key-log lines for certa_config_set_keylog ---- */
bool keylog_on(const certa_conn *c);
void keylog_secret(certa_conn *c, const char *label, const uint8_t *secret, size_t len);
void keylog_tls13_handshake(certa_conn *c);   /* both handshake traffic secrets */
void keylog_tls13_application(certa_conn *c); /* both application secrets, exporter */
int keylog_tls13_early(certa_conn *c, hash_alg h, const uint8_t *psk, const uint8_t *hello_hash);
void keylog_tls12(certa_conn *c); /* CLIENT_RANDOM <cr> <master secret> */

/* ---- early_data.c: 0-RTT (RFC 8446 §4.2.10, §8) ---- */
/* What a server learns from the PSK it accepted, for deciding on early data. */
typedef struct early_offer {
    bool offered;            /* the ClientHello carries early_data */
    uint32_t obfuscated_age; /* of the accepted identity */
    session_state s;         /* the ticket's state (PSK zeroized) */
    uint8_t ticket_id[32];   /* SHA-256 of the ticket */
} early_offer;
/* Server: accept the early data or say why not (traced; never fails the
 * handshake unless out of memory). Sets c->early_accepted / early_rejected. */
int early_server_decide(certa_conn *c, const early_offer *o);
/* Server: EndOfEarlyData. */
int early_on_end_of_early_data(certa_conn *c, const uint8_t *msg, size_t len);
/* Client: early_data in ClientHello when the offered session allows it. */
bool early_client_offers(const certa_conn *c);
/* Client: after ClientHello, keys the early direction. */
int early_client_start(certa_conn *c);
/* Client: the EndOfEarlyData (with the early keys), before its Finished. */
int early_client_end(certa_conn *c);
void early_store_free(certa_config *cfg);
/* The built-in anti-replay store: 1 first use of id (recorded for keep
 * seconds from now), 0 seen, -1 full or no memory. (bench/bench_replay.c
 * measures it directly.) */
int early_replay_builtin(certa_config *cfg, const uint8_t id[32], uint32_t keep, int64_t now);

/* ---- exporter.c ---- */
/* Keep what the exporters need once the handshake state goes. */
void exporter_keep_tls12(certa_conn *c);
int exporter_keep_tls13(certa_conn *c, const uint8_t *transcript_hash);

/* ---- session.c: tickets, stored sessions, the client cache ---- */
/* Encodes s (with its ticket, if any) into b. */
void session_encode(builder *b, const session_state *s);
/* Decodes a stored session; the ticket points into the input. 0 or -1. */
int session_decode(const uint8_t *data, size_t len, session_state *s);
/* Seals s (without ticket) under the config's ticket key into b. */
int ticket_seal(const certa_config *cfg, const session_state *s, builder *b);
/* Opens a ticket this config sealed; -1 if it is not one (or was altered). */
int ticket_open(const certa_config *cfg, const uint8_t *ticket, size_t len, session_state *s);
/* Client cache: keeps a copy of blob for name; take returns the newest
 * (removed from the cache, the caller frees it). */
void session_cache_put(certa_config *cfg, const char *name, const uint8_t *blob, size_t len);
uint8_t *session_cache_take(certa_config *cfg, const char *name, size_t *len);
void session_cache_clear(session_cache *cache);
/* Server: sends the configured tickets at the end of a handshake. */
int send_session_tickets(certa_conn *c);
/* Client: a NewSessionTicket after the handshake. */
int on_new_session_ticket(certa_conn *c, cursor *body);

/* ---- signatures over the transcript (cert_verify.c) ---- */
int cv_content(certa_conn *c, bool server_side, uint8_t *out, size_t *len);

/* ---- TLS 1.2 (tls12_key_schedule.c, tls12_common.c) ---- */
/* What only a TLS 1.2 handshake needs, allocated when 1.2 is chosen and
 * dropped when it completes, so a connection does not carry it. */
typedef struct tls12_handshake {
    uint8_t server_random[32];
    /* client write key, server write key, client IV, server IV (RFC 5246
     * §6.3), from ClientKeyExchange until both ChangeCipherSpecs */
    uint8_t key_block[2 * 32 + 2 * 12];
    bool hs_log_on; /* keep the handshake messages: a CertificateVerify signs them */
    builder hs_log;
    uint8_t *peer_share; /* client: the server's ECDHE point, until ClientKeyExchange */
    size_t peer_share_len;
    uint8_t *new_ticket; /* client: a NewSessionTicket kept until Finished verifies */
    size_t new_ticket_len;
    uint32_t new_ticket_lifetime;
} tls12_handshake;
/* Allocates c->t12 (0, or CERTA_E_NOMEM after failing the connection). */
int tls12_handshake_start(certa_conn *c);
/* Zeroizes and frees c->t12. */
void tls12_handshake_free(certa_conn *c);
#define TLS12_MASTER_LEN 48
#define TLS12_FINISHED_LEN 12
#define EXT_EXTENDED_MASTER_SECRET 23
#define EXT_SESSION_TICKET 35
#define EXT_RENEGOTIATION_INFO 0xff01
#define TLS_EMPTY_RENEGOTIATION_INFO_SCSV 0x00ff
#define HS_HELLO_REQUEST 0
#define HS_SERVER_KEY_EXCHANGE 12
#define HS_SERVER_HELLO_DONE 14
#define HS_CLIENT_KEY_EXCHANGE 16
/* The signature schemes certa offers and accepts in TLS 1.2. */
extern const uint16_t tls12_sig_schemes[];
extern const size_t tls12_sig_schemes_count;
/* Does the scheme sign with the key type a suite's authentication needs? */
bool tls12_scheme_matches_auth(uint16_t scheme, suite_auth auth);
/* Master secret from the pre-master secret: extended (RFC 7627, over the
 * transcript through ClientKeyExchange) or classic (over the randoms). */
int tls12_master_secret(certa_conn *c, const uint8_t *pms, size_t pms_len);
/* The key block from the master secret and the randoms. */
int tls12_key_block(certa_conn *c);
int tls12_set_tx(certa_conn *c);
int tls12_set_rx(certa_conn *c);
/* verify_data over the transcript so far (RFC 5246 §7.4.9). */
int tls12_finished_data(certa_conn *c, bool client, uint8_t out[TLS12_FINISHED_LEN]);
int tls12_send_finished(certa_conn *c);
int tls12_check_finished(certa_conn *c, const uint8_t *msg, size_t len);
/* tls12_renegotiation_probe.c: keeps a Finished's verify_data (ours or the
 * peer's); the server's answer to the probe's ClientHello, or its alert
 * (each ends the connection with the verdict). */
void reneg_keep_verify_data(certa_conn *c, bool ours, const uint8_t data[TLS12_FINISHED_LEN]);
int reneg_probe_on_message(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len);
int reneg_probe_on_alert(certa_conn *c, uint8_t level, uint8_t desc);
/* A plaintext ChangeCipherSpec, then our keys are on. */
int tls12_send_ccs(certa_conn *c);
/* The peer's ChangeCipherSpec: its keys are on from the next record. */
int tls12_on_ccs(certa_conn *c, const uint8_t *data, size_t len);
/* Certificate message (RFC 5246 §7.4.2) with our chain, or empty. */
int tls12_build_certificate(certa_conn *c, builder *b);
/* Signs / verifies a CertificateVerify over the handshake log. */
int tls12_send_certificate_verify(certa_conn *c);
int tls12_verify_certificate_verify(certa_conn *c, const uint8_t *msg, size_t len);
/* Server: why a ticket it sealed cannot resume this connection in version
 * (CERTA_TLS13 or CERTA_TLS12), or NULL; one set of rules for both. */
const char *ticket_unusable(const certa_conn *c, const session_state *s, uint16_t version);
/* Server: a NewSessionTicket (RFC 5077) for this session. */
int tls12_send_ticket(certa_conn *c);
/* Client: a TLS 1.2 NewSessionTicket, kept until the server's Finished
 * verifies, then stored as a session. */
int tls12_on_new_session_ticket(certa_conn *c, const uint8_t *msg, size_t len);
int tls12_store_session(certa_conn *c);
/* Both sides: the handshake completed. */
void tls12_connected(certa_conn *c);
int tls12_client_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len);
int tls12_server_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len);
/* Client: a ServerHello that chose TLS 1.2 (parsed by tls13_client.c). */
typedef struct server_hello {
    uint16_t legacy_version;
    const uint8_t *random;
    cursor session_id;
    uint16_t suite;
    uint8_t compression;
    ext_list exts;
} server_hello;
int tls12_client_server_hello(certa_conn *c, const server_hello *sh, const uint8_t *msg,
                              size_t len);

/* Client: an ALPN extension from the server (EncryptedExtensions in 1.3,
 * ServerHello in 1.2) checked against what we offered, into c->alpn. */
int client_read_alpn(certa_conn *c, cursor e);
/* The versions a client offers. */
bool client_offers_tls13(const certa_conn *c);
bool client_offers_tls12(const certa_conn *c);

/* ---- the state tables (client.c / server.c) ---- */
typedef int (*message_handler)(certa_conn *c, const uint8_t *msg, size_t len);
typedef struct transition {
    conn_state state;
    uint8_t type;
    message_handler handle;
} transition;
/* Runs the handler for (c->state, type), or fails with unexpected_message
 * naming what was awaited. */
int run_transition(certa_conn *c, const transition *table, size_t count, uint8_t type,
                   const uint8_t *msg, size_t len, const char *peer, const char *awaited);
/* SHA-256("HelloRetryRequest"): a ServerHello with this random is an HRR. */
extern const uint8_t hello_retry_random[32];

/* ---- client.c / server.c ---- */
int client_start(certa_conn *c);
/* Takes a stored session (blob, owned and freed) to offer, if usable. */
void client_offer_session(certa_conn *c, uint8_t *blob, size_t len);
int client_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len);
int server_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len);
/* post-handshake messages (both sides) */
int post_handshake_handle(certa_conn *c, uint8_t type, const uint8_t *msg, size_t len);

/* ---- extensions.c ---- */
/* Splits an extensions block (the contents of the vector); duplicates ->
 * illegal_parameter; malformed or too many -> decode_error. Fails the
 * connection with a sentence naming the message. */
int ext_parse(certa_conn *c, const char *message, cursor *block, ext_list *out);
/* A ClientHello's block, which may hold any number of extensions (up to
 * the 64 KiB block): every one is checked for duplicates, but only the
 * types the server reads are kept in out. */
int ext_parse_client_hello(certa_conn *c, cursor *block, ext_list *out);
const cursor *ext_find(const ext_list *l, uint16_t type);
int peer_certificate_parse(certa_conn *c, cursor *body);
int peer_certificate_check(certa_conn *c);

/* ---- revocation.c ---- */
/* The config's CRL set now, with a reference (NULL if none). */
crl_set *config_crls_acquire(certa_config *cfg);
void crl_set_release(crl_set *s);
size_t crl_set_items(const crl_set *s, const uint8_t *const **der, const size_t **lens);
/* The set's prepared CRLs, in the order of crl_set_items (x509/crl_index.h). */
struct crl_index *const *crl_set_indexes(const crl_set *s);
void config_crls_free(certa_config *cfg);
/* The mode that applies to c's peer (DEFAULT resolved). */
certa_revocation conn_revocation_mode(const certa_conn *c, size_t crl_count);
/* Traces a non-fatal finding and keeps the first for certa_conn_revocation_note. */
void conn_revocation_note(certa_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
bool is_ip_literal(const char *name);
int verify_peer_cv(certa_conn *c, cursor *body);
int build_certificate(certa_conn *c, builder *b, const uint8_t *context, size_t context_len);
int send_certificate_verify(certa_conn *c);
/* A message of scheme || signature (CertificateVerify in both versions). */
int send_signature_message(certa_conn *c, uint8_t type, uint16_t scheme, const uint8_t *sig,
                           size_t sig_len);
/* Client: the server's Certificate (either version): parsed, non-empty,
 * checked (pins, trust, name), into the transcript. */
int client_on_server_certificate(certa_conn *c, const uint8_t *msg, size_t len);
/* The same for a Certificate body that came compressed: msg (the
 * CompressedCertificate as received) is what goes into the transcript. */
int client_on_server_certificate_body(certa_conn *c, const uint8_t *body, size_t body_len,
                                      const uint8_t *msg, size_t len);
/* Our Certificate (c->id's chain, or none) with the request context: a
 * CompressedCertificate when c->cert_compress_alg is set and compression
 * makes it smaller (with an empty context, compressed once per identity
 * and algorithm and kept in the config). Fails the connection on error. */
int send_own_certificate(certa_conn *c, const uint8_t *context, size_t context_len);
/* The peer's CompressedCertificate (msg: the whole message): checked
 * against what we offered and the handshake message cap, decompressed
 * into *body (malloc'd, the caller frees it). Fails the connection with
 * unexpected_message (compression off here), illegal_parameter (an
 * algorithm not offered), decode_error or bad_certificate. */
int open_peer_compressed_certificate(certa_conn *c, const uint8_t *msg, size_t len, uint8_t **body,
                                     size_t *body_len);
/* The compress_certificate extension (ClientHello, CertificateRequest)
 * with the config's algorithms; nothing when compression is off. */
void put_cert_compression(const certa_config *cfg, builder *b);
/* The peer's compress_certificate extension, if any, into
 * c->cert_compress_alg (ignored when compression is off here). */
int read_cert_compression(certa_conn *c, const ext_list *exts, const char *message);
/* Client: traces a CertificateRequest and keeps the CA names it lists
 * (may be NULL) for certa_conn_requested_ca_*. */
void certificate_request_seen(certa_conn *c, const cursor *ca_names);
void trace_resumed_server(certa_conn *c);
int send_finished(certa_conn *c, const uint8_t *base_secret);
int check_finished(certa_conn *c, const uint8_t *base_secret, const uint8_t *msg, size_t len);

struct client_hello;
/* ---- ECH (RFC 9849): ech_common.c, ech_server.c, ech_client.c ---- */
#define EXT_ENCRYPTED_CLIENT_HELLO 0xfe0d
#define ALERT_ECH_REQUIRED 121
#define ECH_TYPE_OUTER 0
#define ECH_TYPE_INNER 1
#define ECH_CONFIRMATION_LEN 8
/* §7.2: the acceptance confirmation, HKDF-Expand-Label(HKDF-Extract(0,
 * inner_random), label, Transcript-Hash(th || msg), 8), where msg is the
 * ServerHello / HelloRetryRequest (header and body) with the confirmation
 * bytes zeroed; hrr picks the "hrr ech accept confirmation" label. */
int ech_accept_confirmation(hash_alg h, const uint8_t inner_random[32], const transcript *th,
                            const uint8_t *msg, size_t len, bool hrr, uint8_t out[8]);
/* Server: ECH on a ClientHello (first, or second after HRR). With an
 * inner hello to use instead of msg, *inner is a malloc'd handshake
 * message (header and body, freed by the caller); else NULL. Sets
 * c->ech_status, c->ech_confirm, c->ech_send_retry, c->ech_outer_name.
 * Fails the connection on a malformed or undecryptable extension. */
int ech_server_on_hello(certa_conn *c, const struct client_hello *ch, const uint8_t *msg,
                        size_t len, bool first, uint8_t **inner, size_t *inner_len);
/* The same, then next with the hello to go on with: the inner one (parsed,
 * freed after next returns) or ch itself. */
typedef int (*ech_hello_handler)(certa_conn *c, struct client_hello *ch, const uint8_t *msg,
                                 size_t len);
int ech_server_dispatch(certa_conn *c, struct client_hello *ch, const uint8_t *msg, size_t len,
                        bool first, ech_hello_handler next);
/* Server: the encrypted_client_hello extension of EncryptedExtensions
 * (retry_configs), when c->ech_send_retry. */
void ech_server_put_retry_configs(const certa_conn *c, builder *b);
void ech_conn_free(certa_conn *c);
void ech_handshake_done(certa_conn *c); /* drops the HPKE state */
void ech_config_free(certa_config *cfg);
/* Client (ech_client.c). */
int ech_client_start(certa_conn *c);         /* at client_start: real ECH or GREASE */
bool ech_client_offers(const certa_conn *c); /* real ECH offered (not GREASE) */
/* The inner hello's extension (type inner), or GREASE's outer extension. */
void ech_client_put_inner_extension(builder *b);
int ech_client_put_grease(certa_conn *c, builder *b, size_t shares_len);
/* The real SNI (inner), or the public name (outer). */
const char *ech_client_public_name(const certa_conn *c);
const uint8_t *ech_client_outer_random(const certa_conn *c);
/* Encodes the inner hello body (EncodedClientHelloInner, §5.1, padded
 * §6.1.3) into enc. */
int ech_client_encode_inner(const certa_conn *c, const uint8_t *inner, size_t inner_len,
                            builder *enc);
/* The outer extension with a zero payload of payload_len; *payload_off is
 * where it starts in b. */
void ech_client_put_outer_extension(certa_conn *c, builder *b, size_t payload_len,
                                    size_t *payload_off);
/* Seals enc with outer (ClientHelloOuterAAD: payload still zero) as AAD
 * into the payload. */
int ech_client_seal(certa_conn *c, uint8_t *outer, size_t outer_len, size_t payload_off,
                    const builder *enc);
/* Keeps the outer hello message (header and body) sent, for the outer transcript. */
int ech_client_keep_outer(certa_conn *c, const uint8_t *msg, size_t len);
/* On HelloRetryRequest (transcript holds message_hash(inner1)), before HRR
 * is added: decides; on rejection rebuilds the transcript for the outer. */
int ech_client_on_hrr(certa_conn *c, const uint8_t *msg, size_t len, const ext_list *exts);
/* On ServerHello, before it is added to the transcript (started). */
int ech_client_on_server_hello(certa_conn *c, const uint8_t *msg, size_t len);
/* EncryptedExtensions' encrypted_client_hello (retry_configs). */
int ech_client_on_retry_configs(certa_conn *c, cursor body);
/* After the server's Finished verified: fail with ech_required if rejected. */
int ech_client_check_rejected(certa_conn *c);
/* Real ECH offered and the server's first answer rejected it. */
bool ech_client_rejected(const certa_conn *c);
/* With pins, ECH rejected and the public name's certificate neither pinned
 * nor verified by trust anchors: the retry configs are dropped (they cannot
 * be trusted) and the handshake fails saying so; returns c->error. */
int ech_client_public_name_unverified(certa_conn *c, const char *key_pin);

/* ---- client_fingerprint.c: JA4/JA3 of the ClientHellos received ---- */
void conn_keep_client_fingerprint(certa_conn *c, unsigned which, const uint8_t *msg, size_t len);
void conn_drop_client_fingerprints(certa_conn *c);

/* ---- client_hello.c: the server's first look at a ClientHello ---- */
/* What the server learned from one ClientHello. */
typedef struct client_hello {
    cursor ext_block; /* the raw extensions, for the HelloRetryRequest fingerprint */
    uint16_t legacy_version;
    const uint8_t *random;
    cursor session_id;
    cursor suites;
    cursor compression;
    ext_list exts;
    cursor groups; /* supported_groups list */
    cursor shares; /* key_share client_shares */
    cursor share_for_choice;
} client_hello;

/* record_size_limit (record_size_limit.c, RFC 8449). */
uint16_t rsl_content_limit(uint16_t value, uint16_t version);
uint16_t rsl_own_value(const certa_config *cfg, uint16_t version);
int rsl_read(certa_conn *c, cursor body, const char *message, uint16_t *value);
void rsl_put(builder *b, uint16_t value);
int rsl_server_read(certa_conn *c, const client_hello *ch);
void rsl_server_apply(certa_conn *c); /* both directions, once the answer is sent */
int rsl_client_read(certa_conn *c, cursor body, const char *message);
bool list_has_u16(cursor list, uint16_t v);
/* A vector (1- or 2-byte length) of u16 values: non-empty, even-sized. */
bool u16_list(cursor ext, int prefix_width, cursor *out);
int parse_client_hello(certa_conn *c, const uint8_t *msg, size_t len, client_hello *ch);
int read_server_name(certa_conn *c, const client_hello *ch);
int choose_alpn(certa_conn *c, const client_hello *ch);
/* Chooses the version and hands the hello to the TLS 1.3 or 1.2 server. */
int server_on_first_client_hello(certa_conn *c, const uint8_t *msg, size_t len);
int tls13_server_hello(certa_conn *c, client_hello *ch, const uint8_t *msg, size_t len);
int tls12_server_hello(certa_conn *c, client_hello *ch, const uint8_t *msg, size_t len);
/* DistinguishedName vector of the trust anchors (empty vector, or nothing
 * unless always, when they do not fit in 8 KiB). */
void put_ca_names(certa_conn *c, builder *b, bool always);

#endif
