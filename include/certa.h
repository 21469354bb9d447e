/*
 * certa — TLS 1.3 (and, when asked for, TLS 1.2) for machine identity.
 *
 * The whole public API. The engine is sans-I/O: it never touches a socket,
 * a clock or a file during a connection. The caller moves bytes:
 *
 *   certa_config *cfg = certa_config_new();
 *   certa_config_load_cert_chain(cfg, "server.crt"); ...     (build once)
 *   certa_conn *c = certa_server_new(cfg);                   (per connection)
 *   loop:
 *     read bytes from the socket  -> certa_conn_recv(c, buf, n, &used)
 *     certa_conn_outgoing(c, &p)  -> write them to the socket,
 *                                    then certa_conn_outgoing_done(c, n)
 *     certa_conn_read(c, ...)     -> application data from the peer
 *     certa_conn_write(c, ...)    -> application data to the peer
 *
 * A config is frozen by the first connection made from it and may then be
 * shared read-only by any number of connections and threads.
 *
 * Every failure is a stable CERTA_E_* code, the TLS alert it maps to, and a
 * sentence naming the cause and the fix (certa_conn_error_text()).
 */
#ifndef CERTA_H
#define CERTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The library's version. CERTA_VERSION_MAJOR is the ABI's: a release that
 * breaks the ABI (a removed or changed function, a struct the caller
 * allocates changing size or layout other than by fields appended at the
 * end) raises it, and with it the shared library's soname (libcerta.so.N).
 * certa_version() is the version of the library actually loaded. */
#define CERTA_VERSION_MAJOR 0
#define CERTA_VERSION_MINOR 1
#define CERTA_VERSION_PATCH 0
#define CERTA_VERSION "0.1.0"
const char *certa_version(void);

#ifdef __cplusplus
extern "C" {
#endif

/* ---- errors ------------------------------------------------------------ */

typedef enum certa_error {
    CERTA_OK = 0,
    /* local / usage */
    CERTA_E_NOMEM,
    CERTA_E_INVALID_ARGUMENT,
    CERTA_E_FILE,         /* a file could not be read */
    CERTA_E_BAD_PEM,      /* no usable PEM block */
    CERTA_E_BAD_KEY,      /* private key unreadable or unsupported */
    CERTA_E_KEY_MISMATCH, /* private key does not match the certificate */
    CERTA_E_UNKNOWN_NAME, /* unknown cipher suite / group / ALPN syntax */
    CERTA_E_BAD_PIN,      /* pin string is not sha256:BASE64 of 32 bytes */
    CERTA_E_CONFIG,       /* config incomplete (e.g. server without cert) */
    CERTA_E_STATE,        /* call not valid in this connection state */
    CERTA_E_INTERNAL,
    CERTA_E_CRYPTO, /* libcrypto refused an operation */
    /* protocol, detected locally */
    CERTA_E_DECODE, /* decode_error */
    CERTA_E_ILLEGAL_PARAMETER,
    CERTA_E_UNEXPECTED_MESSAGE,
    CERTA_E_RECORD_OVERFLOW,
    CERTA_E_BAD_RECORD_MAC,
    CERTA_E_NO_COMMON_CIPHER, /* handshake_failure */
    CERTA_E_NO_COMMON_GROUP,  /* handshake_failure */
    CERTA_E_NO_COMMON_SIGALG, /* handshake_failure */
    CERTA_E_PROTOCOL_VERSION, /* peer does not speak TLS 1.3 */
    CERTA_E_DOWNGRADE,        /* ServerHello.random downgrade sentinel */
    CERTA_E_MISSING_EXTENSION,
    CERTA_E_UNSUPPORTED_EXTENSION,
    CERTA_E_NO_ALPN,           /* no_application_protocol */
    CERTA_E_BAD_SIGNATURE,     /* CertificateVerify did not verify */
    CERTA_E_BAD_FINISHED,      /* Finished MAC mismatch */
    CERTA_E_BAD_CERTIFICATE,   /* peer certificate unparseable/unsupported */
    CERTA_E_PIN_MISMATCH,      /* peer key does not match any pin */
    CERTA_E_NO_PEER_AUTH,      /* client has neither pin nor insecure set */
    CERTA_E_HANDSHAKE_TOO_BIG, /* handshake message over the configured cap */
    CERTA_E_PEER_ALERT,        /* peer sent a fatal alert */
    CERTA_E_PEER_CLOSED,       /* transport closed without close_notify */
    CERTA_E_TIMEOUT,           /* used by the socket helpers and the CLI */
    CERTA_E_IO,                /* socket error (socket helpers, CLI) */
    /* certificate path validation (certa_verify_chain and the handshake) */
    CERTA_E_CERT_MALFORMED,        /* a certificate in the chain is not valid DER X.509 */
    CERTA_E_CERT_EXPIRED,          /* notAfter is before the validation time */
    CERTA_E_CERT_NOT_YET_VALID,    /* notBefore is after the validation time */
    CERTA_E_CERT_UNKNOWN_ISSUER,   /* no path to a trust anchor */
    CERTA_E_CERT_SELF_SIGNED,      /* self-signed leaf that is not trusted */
    CERTA_E_CERT_BAD_SIGNATURE,    /* a signature on the path does not verify */
    CERTA_E_CERT_NOT_CA,           /* an issuer lacks basicConstraints cA / keyCertSign */
    CERTA_E_CERT_PATH_LENGTH,      /* pathLenConstraint or max depth exceeded */
    CERTA_E_CERT_PURPOSE,          /* keyUsage / extKeyUsage do not allow the purpose */
    CERTA_E_CERT_NAME_MISMATCH,    /* the leaf is not valid for the requested name/IP/SPIFFE ID */
    CERTA_E_CERT_NAME_CONSTRAINTS, /* a name violates an issuer's name constraints */
    CERTA_E_CERT_WEAK_ALGORITHM,   /* SHA-1 signature, RSA < 2048, unsupported curve */
    CERTA_E_CERT_UNKNOWN_CRITICAL, /* an unknown critical extension */
    CERTA_E_CERT_POLICY,           /* certificate policy constraints not satisfiable */
    CERTA_E_CERT_REVOKED,          /* listed on a CRL */
    CERTA_E_CERT_TOO_COMPLEX,      /* path building exceeded its work budget */
    CERTA_E_TRUST_EMPTY,           /* no trust anchors loaded */
    /* mutual TLS and identity policy */
    CERTA_E_CERTIFICATE_REQUIRED, /* server requires a client certificate; none sent */
    CERTA_E_IDENTITY_NOT_ALLOWED, /* verified peer identity refused by the allow rules */
    CERTA_E_BAD_RULE,             /* an allow rule that cannot be parsed */
    /* TLS 1.2 */
    CERTA_E_NO_EXTENDED_MASTER_SECRET, /* peer lacks RFC 7627 extended master secret */
    CERTA_E_RENEGOTIATION,             /* peer tried to renegotiate (refused: no_renegotiation) */
    CERTA_E_INAPPROPRIATE_FALLBACK,    /* TLS_FALLBACK_SCSV from a client that could do better */
    /* server name indication */
    CERTA_E_UNRECOGNIZED_NAME, /* SNI-strict server has no certificate for the name asked */
    /* OCSP (RFC 6960, stapling RFC 6066 / RFC 8446, must-staple RFC 7633) */
    CERTA_E_CERT_STATUS, /* revocation status not established: staple missing (must-staple),
                            invalid or stale; no fresh CRL under REVOCATION_REQUIRE */
    /* Certificate Transparency (RFC 6962) */
    CERTA_E_CERT_TRANSPARENCY, /* too few valid SCTs under CERTA_SCT_REQUIRE */
    /* certa_conn_probe_renegotiation's verdicts (TLS 1.2, diagnostics) */
    CERTA_E_RENEGOTIATION_ACCEPTED, /* the server renegotiated, with RFC 5746's proof */
    CERTA_E_RENEGOTIATION_INSECURE, /* the server renegotiated without it */
    CERTA_E_RENEGOTIATION_REFUSED,  /* the server answered with an alert or close_notify */
    /* Encrypted Client Hello (RFC 9849) */
    CERTA_E_ECH_REJECTED, /* client: the server did not accept ECH (ech_required alert) */
    CERTA_E_ECH_CONFIG,   /* an ECHConfigList / ECH key that cannot be used */
    CERTA_E_COUNT
} certa_error;

/* The code's stable name, e.g. "CERTA_E_BAD_FINISHED". */
const char *certa_error_name(int code);
/* A generic sentence for the code (cause and fix) when no detail is known. */
const char *certa_error_text(int code);
/* Name of a TLS alert description, e.g. 40 -> "handshake_failure". */
const char *certa_alert_name(uint8_t alert);

/* ---- identifiers -------------------------------------------------------- */

#define CERTA_TLS13 0x0304
#define CERTA_TLS12 0x0303

#define CERTA_TLS_AES_128_GCM_SHA256 0x1301
#define CERTA_TLS_AES_256_GCM_SHA384 0x1302
#define CERTA_TLS_CHACHA20_POLY1305_SHA256 0x1303
/* AES-128-CCM with a 16-byte tag (RFC 8446 B.4): never offered by default;
 * certa_config_set_ciphers or the iot profile turns it on. */
#define CERTA_TLS_AES_128_CCM_SHA256 0x1304
/* TLS 1.2: ECDHE and AEAD only (RFC 5289, RFC 7905). */
#define CERTA_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 0xc02b
#define CERTA_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 0xc02c
#define CERTA_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 0xc02f
#define CERTA_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 0xc030
#define CERTA_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 0xcca8
#define CERTA_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 0xcca9

#define CERTA_GROUP_SECP256R1 0x0017
#define CERTA_GROUP_SECP384R1 0x0018
#define CERTA_GROUP_X25519 0x001d
#define CERTA_GROUP_SECP521R1 0x0019
#define CERTA_GROUP_X448 0x001e
/* RFC 7919 finite-field groups: TLS 1.3 only, never in a default list. */
#define CERTA_GROUP_FFDHE2048 0x0100
#define CERTA_GROUP_FFDHE3072 0x0101
#define CERTA_GROUP_FFDHE4096 0x0102
#define CERTA_GROUP_FFDHE6144 0x0103
#define CERTA_GROUP_FFDHE8192 0x0104
/* Post-quantum hybrids (draft-ietf-tls-ecdhe-mlkem), TLS 1.3 only:
 * ML-KEM (FIPS 203, written in src/pq/) with an ECDH group. */
#define CERTA_GROUP_SECP256R1MLKEM768 0x11eb
#define CERTA_GROUP_X25519MLKEM768 0x11ec
#define CERTA_GROUP_SECP384R1MLKEM1024 0x11ed

/* Signature schemes (RFC 8446 §4.2.3). All of them sign and verify in TLS
 * 1.3 and TLS 1.2 (where ECDSA names only the hash, and EdDSA comes with the
 * ECDHE_ECDSA suites and rsa_pss_pss with ECDHE_RSA). rsa_pss_pss_* need an
 * RSASSA-PSS key (id-RSASSA-PSS SubjectPublicKeyInfo); one with parameters
 * fits only the scheme of its hash. */
#define CERTA_SIG_ECDSA_SECP256R1_SHA256 0x0403
#define CERTA_SIG_ECDSA_SECP384R1_SHA384 0x0503
#define CERTA_SIG_ECDSA_SECP521R1_SHA512 0x0603
#define CERTA_SIG_RSA_PSS_RSAE_SHA256 0x0804
#define CERTA_SIG_RSA_PSS_RSAE_SHA384 0x0805
#define CERTA_SIG_RSA_PSS_RSAE_SHA512 0x0806
#define CERTA_SIG_ED25519 0x0807
#define CERTA_SIG_ED448 0x0808
#define CERTA_SIG_RSA_PSS_PSS_SHA256 0x0809
#define CERTA_SIG_RSA_PSS_PSS_SHA384 0x080a
#define CERTA_SIG_RSA_PSS_PSS_SHA512 0x080b
/* TLS 1.2 only (ServerKeyExchange, CertificateVerify); never in a TLS 1.3
 * CertificateVerify (RFC 8446 §4.4.3: refused with illegal_parameter). In
 * TLS 1.3 they name certificate signatures, and certa's ClientHello and
 * CertificateRequest list them after the schemes it signs with. */
#define CERTA_SIG_RSA_PKCS1_SHA256 0x0401
#define CERTA_SIG_RSA_PKCS1_SHA384 0x0501
#define CERTA_SIG_RSA_PKCS1_SHA512 0x0601

/* Certificate compression algorithms (RFC 8879). */
#define CERTA_CERT_COMPRESSION_ZLIB 1
#define CERTA_CERT_COMPRESSION_BROTLI 2

/* Human names ("TLS_AES_128_GCM_SHA256", "x25519", "ecdsa_secp256r1_sha256");
 * "unknown" for values certa does not know. */
const char *certa_cipher_suite_name(uint16_t suite);
const char *certa_group_name(uint16_t group);
const char *certa_sig_scheme_name(uint16_t scheme);
/* "zlib", "brotli" ("zstd" is known by name only; "unknown" otherwise). */
const char *certa_cert_compression_name(uint16_t alg);

/* ---- config ------------------------------------------------------------- */

typedef struct certa_config certa_config;
typedef struct certa_trust certa_trust; /* trust anchors: see path validation below */

certa_config *certa_config_new(void);
/* Drops the caller's reference; connections keep their own. */
void certa_config_free(certa_config *cfg);

/* Certificate chain (leaf first) and private key, PEM. Keys: PKCS#8 (RSA,
 * RSA-PSS with or without parameters, ECDSA P-256/P-384/P-521, Ed25519,
 * Ed448), SEC1 EC, PKCS#1 RSA. */
int certa_config_load_cert_chain(certa_config *cfg, const char *path);
int certa_config_load_private_key(certa_config *cfg, const char *path);
int certa_config_set_cert_chain_pem(certa_config *cfg, const char *pem, size_t len);
int certa_config_set_private_key_pem(certa_config *cfg, const char *pem, size_t len);
/* A private key that stays on a PKCS#11 token (smart card, HSM, SoftHSM),
 * named by an RFC 7512 URI, e.g.
 *   "pkcs11:token=web;object=server-key?pin-source=file:/run/secrets/pin"
 * Handshake signatures are made on the token (through libcrypto's engine
 * interface and the "pkcs11" engine, Debian's libengine-pkcs11-openssl);
 * the key never enters certa's memory. Attributes: token, object, id (and
 * the others of RFC 7512 §2.3, passed to the engine); pin-value or
 * pin-source (file:/path, its first line), never prompted for and never
 * logged; module-path, else $PKCS11_MODULE_PATH, else p11-kit-proxy.so,
 * else SoftHSM's libsofthsm2.so. On load the key makes one test signature
 * (ECDSA, or RSA-PSS for RSA keys, as TLS 1.3 needs) and is checked against
 * the certificate like a PEM key. Errors are CERTA_E_BAD_KEY with a
 * sentence in certa_config_error_text (missing module, wrong PIN, no such
 * object, a token that cannot sign RSA-PSS, ...). The token must stay
 * reachable while the config is used. */
int certa_config_set_private_key_uri(certa_config *cfg, const char *uri);

/* Protocol versions (CERTA_TLS12, CERTA_TLS13). The default is TLS 1.3
 * only; TLS 1.2 is an explicit choice (or comes with a profile). A client
 * allowing both offers both; a server allowing both picks 1.3 when the
 * client offers it, and marks a 1.2 ServerHello with the RFC 8446 §4.1.3
 * downgrade sentinel. CERTA_E_INVALID_ARGUMENT for min > max or unknown
 * versions. */
int certa_config_set_versions(certa_config *cfg, uint16_t min, uint16_t max);
/* The range a config allows now (after a profile or set_versions). */
void certa_config_get_versions(const certa_config *cfg, uint16_t *min, uint16_t *max);
/* TLS 1.2: require the extended master secret (RFC 7627; default true). A
 * peer without it is refused with a sentence saying so; turning this off
 * lets legacy peers in (and the trace says so on every such handshake). */
void certa_config_set_require_ems(certa_config *cfg, bool require);

/* Configuration profiles: one call sets the versions, the TLS 1.3 and 1.2
 * cipher suites, the groups and the minimum certificate key sizes (and
 * requires the extended master secret again). Without a profile the
 * defaults apply (TLS 1.3 only). Setters called after the profile override
 * what it set. The profiles:
 *   public        TLS 1.2 and 1.3, AEAD only; TLS 1.2 suites ECDSA first
 *                 (then ECDHE-RSA with AES-GCM); groups x25519, secp256r1,
 *                 secp384r1; RSA >= 2048, EC >= 256
 *   internal      TLS 1.3 only, otherwise the defaults
 *   legacy        TLS 1.2 and 1.3 with all six ECDHE+AEAD TLS 1.2 suites,
 *                 ECDHE-RSA included; RSA 2048 accepted
 *   iot           TLS 1.3 only, ChaCha20-Poly1305 first, then AES-GCM and,
 *                 last, TLS_AES_128_CCM_SHA256 (for devices with AES-CCM
 *                 hardware; the only profile that allows it); groups
 *                 x25519 and secp256r1
 *   high-security TLS 1.3 only, TLS_AES_256_GCM_SHA384 only, secp384r1
 *                 only, RSA keys >= 3072 bits and EC keys >= P-384
 * certa_profile_description() says the same, generated from the table the
 * profiles are applied from. An unknown name is CERTA_E_UNKNOWN_NAME with a
 * sentence listing the known profiles (certa_config_error_text). */
int certa_config_set_profile(certa_config *cfg, const char *name);
/* Profile names by index (0, 1, ...); NULL past the last one. */
const char *certa_profile_name(size_t index);
/* What the named profile sets, as one paragraph; NULL if unknown. */
const char *certa_profile_description(const char *name);
/* Minimum key sizes of certificate leaf keys, ours and the peer's (default
 * RSA 2048, EC 256; Ed25519 counts as EC 256, Ed448 as 448). A peer below
 * them fails the handshake with insufficient_security and a sentence
 * (CERTA_E_CERT_WEAK_ALGORITHM). A server whose own certificate is below
 * them fails each connection with CERTA_E_CONFIG and a sentence when the
 * ClientHello arrives, before anything is sent (a client's own certificate
 * is not checked against them; the server's check of it applies). Smaller
 * minimums than the defaults are refused (CERTA_E_INVALID_ARGUMENT). */
int certa_config_set_min_key_bits(certa_config *cfg, unsigned rsa_bits, unsigned ec_bits);
/* Checks the certificates loaded so far against those minimums (a
 * profile's, or set_min_key_bits'): CERTA_E_CONFIG with a sentence
 * (certa_config_error_text) naming the first key below them, so a program
 * can refuse at start-up what the server would refuse per connection. */
int certa_config_check_key_sizes(certa_config *cfg);

/* Comma-separated lists, in preference order. Unknown names are refused.
 * Cipher suites: TLS 1.3 names (TLS_AES_128_GCM_SHA256, ...; also
 * TLS_AES_128_CCM_SHA256, which is in no default list) and TLS 1.2
 * names (IANA TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 or OpenSSL
 * ECDHE-ECDSA-AES128-GCM-SHA256, ...) may be mixed; a list that names no
 * suite of one version leaves that version's suites as they were. */
int certa_config_set_ciphers(certa_config *cfg, const char *list);
/* Default X25519MLKEM768,x25519,secp256r1,secp384r1: post-quantum first (a
 * client whose first group is a hybrid also sends a share for its first
 * classical group, so a server without the hybrid needs no
 * HelloRetryRequest). Also SecP256r1MLKEM768, SecP384r1MLKEM1024 (TLS 1.3
 * only), secp521r1 (P-521), x448 and ffdhe2048/3072/4096/6144/8192 when
 * configured. The FFDHE groups are used
 * in TLS 1.3 only (a TLS 1.2 handshake skips them: certa has no DHE suites)
 * and cost far more than ECDHE (a 2048-bit share is 256 bytes, its key
 * agreement about 9 times the CPU of x25519's; 4096-bit: 48 times). */
int certa_config_set_groups(certa_config *cfg, const char *list);
int certa_config_set_alpn(certa_config *cfg, const char *list); /* h2,http/1.1 */
/* TLS certificate compression (RFC 8879, TLS 1.3 only): "brotli,zlib" (the
 * default), any order or subset of zlib and brotli, or "off" (also "none"
 * or ""). A client offers these algorithms in its ClientHello and a server
 * in its CertificateRequest: the peer may then send its certificate as a
 * CompressedCertificate, which is decompressed within bounds — the
 * declared length must be at most the handshake message cap
 * (set_max_handshake_size), the stream must produce exactly that many bytes
 * (else bad_certificate), and an algorithm that was not offered is
 * illegal_parameter; with compression off a CompressedCertificate is
 * unexpected_message. The list's order is our preference as the receiver.
 * Our own certificate is compressed only when the peer offered an
 * algorithm this list allows (the peer's first such choice: it
 * decompresses) and when it comes out smaller; a server compresses each identity's certificate
 * once per algorithm and keeps it in the config. certa_conn_info says
 * whether the peer's certificate came compressed. Unknown names are
 * CERTA_E_UNKNOWN_NAME. */
int certa_config_set_cert_compression(certa_config *cfg, const char *list);

/* Peer authentication for the client (full chain validation comes later):
 * an SPKI pin "sha256:BASE64" (SHA-256 of the DER SubjectPublicKeyInfo),
 * repeatable; or insecure mode, which accepts any certificate whose
 * CertificateVerify is valid. */
int certa_config_add_pin(certa_config *cfg, const char *pin);
void certa_config_set_insecure(certa_config *cfg, bool insecure);

/* Additional certificate/key pairs (up to 1024 added per config): when several
 * are configured, each handshake uses the first whose key fits what the
 * peer accepts (signature schemes, and certificate_authorities for client
 * certificates). The pair loaded by certa_config_load_cert_chain/private_key
 * is the first.
 *
 * A server picks by the client's server_name (SNI) first: among the pairs
 * whose leaf has a DNS subjectAltName matching it — exactly (ignoring case)
 * or as a wildcard "*.example.com", which stands for one whole left-most
 * label ("a.example.com", not "a.b.example.com" or "example.com") — the
 * first that fits the client; if none is for that name, or none of those
 * fits, or no server_name was sent, the first usable pair (the default).
 * The names are read when the pair is loaded (certificates without DNS
 * SANs can only be the default; the subject CN is not used). Each pair
 * costs 48 bytes in the config's table plus its DER chain, names and key:
 * about 3.6 KB of heap for an ECDSA P-256 leaf, once per config. A resumed
 * session skips the certificate: a ticket issued under a certificate for
 * its server name is declined (full handshake) once no certificate for
 * that name is chosen any more. certa_info.cert_name says which name
 * matched. */
int certa_config_add_identity_pem(certa_config *cfg, const char *chain_pem, size_t chain_len,
                                  const char *key_pem, size_t key_len);
int certa_config_add_identity_files(certa_config *cfg, const char *chain_path,
                                    const char *key_path);
/* The same with the key on a PKCS#11 token (see certa_config_set_private_key_uri). */
int certa_config_add_identity_uri(certa_config *cfg, const char *chain_path, const char *key_uri);
/* Server: refuse a client whose server_name no certificate is for (default
 * false: such a client gets the default certificate). The handshake fails
 * with the unrecognized_name alert and CERTA_E_UNRECOGNIZED_NAME ("no
 * certificate for 'x.example': the server has certificates for a.example,
 * b.example"); resumption is refused the same way. A client that sends no
 * server_name still gets the default certificate. */
void certa_config_set_sni_strict(certa_config *cfg, bool strict);

/* OCSP stapling (RFC 6066; TLS 1.3: RFC 8446 §4.4.2.1).
 *
 * Server: der is a DER OCSPResponse (RFC 6960) for the leaf of the pair
 * loaded by certa_config_load_cert_chain (index 0) or of the index-th pair
 * added with certa_config_add_identity_* (1, 2, ...). It is stapled to
 * every handshake whose client sends status_request — in TLS 1.3 in the
 * leaf's CertificateEntry, in TLS 1.2 as a CertificateStatus message —
 * until its nextUpdate (or 7 days after thisUpdate when it has none):
 * an expired response is never stapled. When the chain holds the issuer,
 * the response is checked first (its signer, CertID and freshness) and
 * refused with CERTA_E_CERT_STATUS and a sentence. Unlike other setters
 * these may be called on a config in use (a fetcher refreshing the
 * response): new handshakes staple the new one. der NULL clears it.
 *
 * Client: certa always sends status_request (as browsers do; 9 bytes) and
 * validates a stapled response after the chain: signed by the leaf's
 * issuer or by a responder certificate the issuer gave id-kp-OCSPSigning,
 * naming the leaf, thisUpdate no more than 5 minutes ahead, not past
 * nextUpdate. A staple saying revoked fails with CERTA_E_CERT_REVOKED
 * (certificate_revoked); one that is invalid (wrong signer, CertID,
 * signature) fails with CERTA_E_CERT_STATUS (bad_certificate_status_response);
 * one that is stale or "unknown" does too under CERTA_REVOCATION_REQUIRE,
 * and is only noted under PREFER (see certa_conn_revocation_note). A leaf
 * with the TLS Feature extension status_request (must-staple, RFC 7633)
 * and no valid fresh staple is refused in every mode, even OFF: the
 * certificate itself demands it. The trace says what the staple said
 * ("OCSP staple: good, per ..."). A client config remembers the staple
 * signatures it verified (the same staple comes on each connection to a
 * server until it is refreshed): a later check skips only that public-key
 * verification; signer, CertID, freshness and status are checked each time. */
int certa_config_set_ocsp_response(certa_config *cfg, const uint8_t *der, size_t len);
int certa_config_set_identity_ocsp_response(certa_config *cfg, size_t index, const uint8_t *der,
                                            size_t len);

/* Revocation policy for the peer's chain (leaf and intermediates; TLS 1.3
 * and 1.2; client and server certificates alike).
 *   OFF      nothing is checked (must-staple leaves still need their staple)
 *   PREFER   what is available is checked: a certificate a CRL (or the OCSP
 *            staple) says is revoked is refused (CERTA_E_CERT_REVOKED,
 *            certificate_revoked, naming serial, time, reason and source);
 *            a status that cannot be established (no CRL from the issuer,
 *            a CRL past its nextUpdate or unusable, a stale staple) is
 *            noted (certa_conn_revocation_note, the trace), not fatal
 *   REQUIRE  as PREFER, and a certificate whose status cannot be
 *            established from fresh data is refused (CERTA_E_CERT_STATUS,
 *            certificate_unknown); a server's leaf may be vouched for by
 *            its OCSP staple instead of a CRL
 *   DEFAULT  PREFER when CRLs are configured, or on a client (which always
 *            asks for a staple); OFF otherwise (a server without CRLs). */
typedef enum certa_revocation {
    CERTA_REVOCATION_DEFAULT = 0,
    CERTA_REVOCATION_OFF,
    CERTA_REVOCATION_PREFER,
    CERTA_REVOCATION_REQUIRE,
} certa_revocation;
int certa_config_set_revocation(certa_config *cfg, certa_revocation mode);
/* CRLs (RFC 5280 §5) the peer's chain is checked against: a CRL counts for
 * the certificates of the CA whose name it bears and whose key signed it.
 * add_crl_der adds one DER CRL, add_crl_pem every "X509 CRL" block,
 * load_crls what a file holds (PEM blocks or one DER CRL) or a directory's
 * *.crl, *.pem and *.der files. reload_crls REPLACES the config's CRLs with
 * what the paths hold (count 0: none). All may be called on a config in use:
 * the new set is swapped in atomically, new handshakes see it, handshakes
 * under way keep the one they started with; on error nothing changes. */
int certa_config_add_crl_der(certa_config *cfg, const uint8_t *der, size_t len);
int certa_config_add_crl_pem(certa_config *cfg, const char *pem, size_t len);
int certa_config_load_crls(certa_config *cfg, const char *path);
int certa_config_reload_crls(certa_config *cfg, const char *const *paths, size_t count);
/* reload_crls plus DER CRLs held in memory (e.g. fetched from a CRL
 * distribution point by the application), in one atomic replacement. */
int certa_config_replace_crls(certa_config *cfg, const char *const *paths, size_t count,
                              const uint8_t *const *ders, const size_t *lens, size_t der_count);
/* How many CRLs the config holds now. */
size_t certa_config_crl_count(const certa_config *cfg);

/* ---- Certificate Transparency (RFC 6962) ----
 * A client with CT logs configured sends the empty
 * signed_certificate_timestamp extension and, once the server's chain is
 * validated, checks every SCT it can find: embedded in the leaf (signed
 * over the precertificate: the issuer's key hash and the TBSCertificate
 * without the SCT extension), in the leaf's CertificateEntry (TLS 1.3) or
 * the ServerHello (TLS 1.2), and in a stapled OCSP response (both over the
 * whole leaf). A server with logs judges a client certificate's embedded
 * SCTs the same way. An SCT counts when its log is configured, its
 * signature verifies under the log's key, its time is not in the future
 * (5 minutes of skew), it was made before the log retired, and the leaf's
 * notAfter falls in the log's temporal interval. SCTs are not looked at
 * for a pinned or insecure peer.
 *
 * A log, as the v3 log-list JSON gives it (the tools read that file; the
 * library takes the logs one by one). certa ships no log list. */
typedef struct certa_ct_log {
    const uint8_t *key; /* DER SubjectPublicKeyInfo: ECDSA P-256 or RSA (2048 bits or more) */
    size_t key_len;
    const uint8_t *log_id;     /* 32 bytes, or NULL: SHA-256 of key, which it must equal */
    const char *operator_name; /* who runs the log: SCTs count once per operator */
    const char *description;   /* how traces and sentences name it */
    /* temporal_interval: only certificates whose notAfter is in
     * [not_after_start, not_after_end) (seconds since the epoch; 0: open) */
    int64_t not_after_start, not_after_end;
    int64_t retired_at; /* seconds; 0: not retired. Later SCTs do not count */
} certa_ct_log;
/* Copies the log into the config. CERTA_E_INVALID_ARGUMENT (with a
 * sentence) for a key that is not P-256 or RSA >= 2048, a log_id that is
 * not the key's hash, a missing operator name, or the same log twice. */
int certa_config_add_ct_log(certa_config *cfg, const certa_ct_log *log);
size_t certa_config_ct_log_count(const certa_config *cfg);
/* What the SCTs decide.
 *   OFF      not asked for, not checked
 *   REPORT   checked and reported (trace, certa_conn_sct_note), never fatal
 *   REQUIRE  a leaf without enough valid SCTs is refused
 *            (CERTA_E_CERT_TRANSPARENCY, certificate_unknown): a leaf
 *            valid for 180 days or less needs valid SCTs from at least 2
 *            distinct log operators, a longer-lived one from 3; the
 *            sentence says what each SCT was
 *   DEFAULT  REPORT when logs are configured, OFF otherwise. */
typedef enum certa_sct_policy {
    CERTA_SCT_DEFAULT = 0,
    CERTA_SCT_OFF,
    CERTA_SCT_REPORT,
    CERTA_SCT_REQUIRE,
} certa_sct_policy;
int certa_config_set_sct_policy(certa_config *cfg, certa_sct_policy policy);
/* Server: a TLS-encoded SignedCertificateTimestampList (RFC 6962 §3.3) for
 * the leaf of pair 0 (or of the index-th identity added), sent to clients
 * that ask (TLS 1.3: in the leaf's CertificateEntry; TLS 1.2: in the
 * ServerHello). Set it after the certificate: loading a new chain into the
 * slot clears it. CERTA_E_INVALID_ARGUMENT for a malformed list; list NULL
 * clears it. */
int certa_config_set_sct_list(certa_config *cfg, const uint8_t *list, size_t len);
int certa_config_set_identity_sct_list(certa_config *cfg, size_t index, const uint8_t *list,
                                       size_t len);

/* Peer chain validation (the default for clients; for servers when client
 * certificates are requested). The trust set is borrowed: it must outlive
 * the config. Without a trust set, a client uses the system bundle. */
void certa_config_set_trust(certa_config *cfg, const certa_trust *trust);
/* Loads a PEM file or directory into a trust set the config owns. */
int certa_config_load_trust(certa_config *cfg, const char *path);
/* The same from PEM text (every CERTIFICATE block), e.g. trust bundles a
 * SPIFFE Workload API agent streams; the config owns the set. */
int certa_config_load_trust_pem(certa_config *cfg, const char *pem, size_t len);
/* Trust anchors bound to one SPIFFE trust domain (trust_domain
 * "spiffe://example.org" or "example.org"; pem: its CA certificates), as a
 * Workload API agent hands out the own and federated bundles. Once any is
 * added, a peer whose leaf carries a spiffe:// ID is validated against its
 * trust domain's bundle only — a partner domain's CA cannot vouch for an
 * ID of ours — and refused (CERTA_E_CERT_UNKNOWN_ISSUER) when its domain
 * has none; peers without a SPIFFE ID use the trust set as before. Up to
 * 64 trust domains; adding one again replaces its bundle. */
int certa_config_add_spiffe_bundle(certa_config *cfg, const char *trust_domain, const char *pem,
                                   size_t len);

/* Server: ask for client certificates. REQUIRE refuses a client without one
 * (certificate_required alert); OPTIONAL validates one if sent. */
typedef enum certa_client_auth {
    CERTA_CLIENT_AUTH_NONE = 0,
    CERTA_CLIENT_AUTH_OPTIONAL,
    CERTA_CLIENT_AUTH_REQUIRE
} certa_client_auth;
void certa_config_set_client_auth(certa_config *cfg, certa_client_auth mode);

/* Allow rules on the verified peer identity; with none, any verified peer
 * is accepted. A rule is one of:
 *   spiffe://trust.domain/path        exact SPIFFE ID
 *   spiffe://trust.domain/prefix/{*}  any SPIFFE ID under that path prefix
 *   spiffe://trust.domain/{*}         any SPIFFE ID in the trust domain
 * (written here with braces around the star only to keep this a C comment)
 *   dns:name.example                  a DNS SAN (exact, case-insensitive)
 *   sha256:BASE64                     SPKI pin of the leaf
 * A peer that matches no rule fails the handshake with access_denied and a
 * sentence naming its identity and the allowed rules. */
int certa_config_add_allow(certa_config *cfg, const char *rule);

/* Limits against hostile peers, each with a safe default:
 * - one handshake message (certificate chains): default 64 KiB, at least 1 KiB;
 * - certificates the peer may send: default 10, at most 16;
 * - signature checks path building may spend on one chain: default 1000;
 * - records in a row that carry no data (KeyUpdate, empty records, warning
 *   alerts, tickets, ChangeCipherSpec): default 32.
 * Early data: certa_config_set_max_early_data. */
void certa_config_set_max_handshake_size(certa_config *cfg, size_t max);
void certa_config_set_max_chain_length(certa_config *cfg, unsigned max);
void certa_config_set_max_verify_work(certa_config *cfg, unsigned max);
void certa_config_set_max_idle_records(certa_config *cfg, unsigned max);
/* record_size_limit (RFC 8449): the largest record plaintext this side
 * accepts, 64 to 16384 bytes (CERTA_E_INVALID_ARGUMENT otherwise), for
 * constrained peers. A client always offers the extension (16384 unless
 * set), so that a server may answer with its own limit; a server answers
 * every client that offers it. Whatever is set, a peer's own limit is
 * honoured: records sent to it are cut to its size. */
int certa_config_set_record_size_limit(certa_config *cfg, unsigned bytes);

/* ---- session resumption (TLS 1.3 PSK with (EC)DHE, RFC 8446 §2.2) ----
 *
 * A server sends session tickets after each handshake; a client that comes
 * back with one skips the certificate exchange (no signature, no chain
 * validation) but still does a fresh key exchange (psk_dhe_ke only: forward
 * secrecy is kept for everything after the ClientHello; 0-RTT early data,
 * which has none, is off unless enabled: certa_config_set_max_early_data).
 *
 * A resumed connection carries the identity the full handshake verified:
 * certa_conn_peer_identity() returns it (certa_info.resumed is true and no
 * peer certificates are available). A ticket is refused — and a full
 * handshake done instead — once the peer's certificate has expired, once
 * the lifetime has passed since the full handshake that verified the peer
 * (resumption never stretches an identity check beyond it), when it was
 * issued for another server name, or when the identity no longer passes the
 * allow rules or the client-certificate requirement. */

/* Server: tickets sent after each handshake (default 2; 0 = no resumption). */
void certa_config_set_tickets(certa_config *cfg, unsigned count);
/* Lifetime of a ticket and of a resumable identity check, in seconds
 * (default 7200; at most 604800, RFC 8446 §4.6.1). */
void certa_config_set_ticket_lifetime(certa_config *cfg, uint32_t seconds);
/* Session-ticket keys (AES-256-GCM) that rotate. A ring seals each new
 * ticket with its newest key whose epoch has come and opens tickets under
 * every key it still holds; a key replaced by a newer one is kept until the
 * tickets it sealed have expired (the newer key's epoch + the ticket
 * lifetime), then erased (zeroized). By default each config has its own
 * ring: one random key, a new one every 6 hours (certa_config_set_ticket_rotation
 * changes that; 0 = never). Share one ring between configs (reloads) or
 * give several processes the same keys (a key file: certa_ticket_keys_set)
 * to let them resume each other's tickets. */
typedef struct certa_ticket_keys certa_ticket_keys;
/* A ring with one fresh random key, adding a new one every rotate_seconds
 * when it seals (0: only by certa_ticket_keys_rotate / _set). */
certa_ticket_keys *certa_ticket_keys_new(uint32_t rotate_seconds);
/* Drops the caller's reference (configs hold their own). */
void certa_ticket_keys_free(certa_ticket_keys *keys);
/* Replaces the keys: key[i] seals from epochs[i] (seconds since the epoch;
 * a future epoch lets a fleet hold a key before it is used). 1..32 keys. */
int certa_ticket_keys_set(certa_ticket_keys *keys, const uint8_t (*key)[32], const int64_t *epochs,
                          size_t count);
/* How often the ring adds a key by itself (seconds; 0: never). */
void certa_ticket_keys_set_rotation(certa_ticket_keys *keys, uint32_t seconds);
/* Adds a random key sealing from now; the older ones keep opening. */
int certa_ticket_keys_rotate(certa_ticket_keys *keys);
size_t certa_ticket_keys_count(const certa_ticket_keys *keys);
/* The clock certa_ticket_keys_rotate dates keys with (default time()). */
void certa_ticket_keys_set_time_fn(certa_ticket_keys *keys, int64_t (*fn)(void *arg), void *arg);
/* The ring the config's tickets use (the config takes a reference). */
int certa_config_set_ticket_keys(certa_config *cfg, certa_ticket_keys *keys);
/* How often the config's own ring rotates (seconds, default 21600; 0: never). */
void certa_config_set_ticket_rotation(certa_config *cfg, uint32_t seconds);
/* One fixed 32-byte key, not rotating (a ring holding only it). */
int certa_config_set_ticket_key(certa_config *cfg, const uint8_t key[32]);
/* Client: remember tickets per server name in the config (default 32
 * tickets, 0 = off); certa_client_new then offers one for its server name.
 * A ticket is offered once (RFC 8446 §C.4). The cache is shared safely by
 * the config's connections and threads. */
void certa_config_set_session_cache(certa_config *cfg, unsigned tickets);

/* ---- 0-RTT early data (RFC 8446 §2.3, §4.2.10, §8) ----
 *
 * Early data is sent before the handshake completes, under a key from the
 * resumed session only: it has no forward secrecy and an attacker can
 * replay it. Enable it only for requests that are safe to repeat.
 *
 * Server: certa_config_set_max_early_data(cfg, bytes) (0, the default:
 * off) makes tickets allow up to bytes of early data. A ClientHello's early
 * data is accepted only when its first PSK identity is the one resumed, the
 * ticket allows early data, the cipher suite, ALPN protocol and server name
 * are the ticket's, no HelloRetryRequest was needed, the client's ticket age
 * is within certa_config_set_early_data_window seconds (default 10) of the
 * server's, and the anti-replay store says this ticket's early data was not
 * accepted before. Otherwise it is rejected: its records are skipped and
 * the handshake goes on as a 1-RTT one (rejection never fails a handshake).
 * Accepted early data is read with certa_conn_read_early, never with
 * certa_conn_read: while a record of it is buffered, certa_conn_recv takes
 * no more input until it is read (as for ordinary data), so a server that
 * enables early data must call certa_conn_read_early. More than the allowed
 * bytes fails the connection with unexpected_message.
 *
 * Anti-replay. Guarantee: within one process, or within one Redis
 * deployment, early data is accepted at most once per ticket, and a
 * replayed ClientHello never has its early data accepted. The key is
 * SHA-256 of the ticket; the record is kept for 2 x (window + 1) + 2
 * seconds (24 by default) or until the ticket expires if sooner: a
 * ClientHello's ticket age is fixed, so after that a replay of it fails
 * the freshness check instead. (Only the ticket's own client, which holds
 * its PSK, could offer it again later with a fresh age; certa's clients
 * use a ticket once, RFC 8446 §C.4.) By default a built-in in-memory store is
 * used (shared by the config's connections and threads): a fixed table of
 * certa_config_set_replay_capacity entries (default 16384), 40 bytes each,
 * allocated on the first 0-RTT handshake; expired entries are reused, and
 * when the table is full early data is rejected (fail closed). It starts
 * refusing at about 75 % full: size it for the peak rate of 0-RTT
 * handshakes x the record's lifetime / 0.75 (default: ~500 per second). A store
 * shared by several processes (a fleet) is an interface: */
typedef int (*certa_replay_check_fn)(void *arg, const uint8_t *id, size_t id_len,
                                     uint32_t keep_seconds);
/* Returns 1 if id is new (and records it for keep_seconds), 0 if it was
 * seen, -1 if the store is unavailable (early data is then rejected). It
 * is called from the thread running the handshake and must not block long.
 * fn NULL: the built-in store. */
void certa_config_set_replay_store(certa_config *cfg, certa_replay_check_fn fn, void *arg);
void certa_config_set_replay_capacity(certa_config *cfg, unsigned entries);
/* Server: the most early data accepted per connection (and announced in
 * tickets); client: the most sent. 0 = off (default). At most 2^24. */
void certa_config_set_max_early_data(certa_config *cfg, uint32_t bytes);
/* Server: how far the client's ticket age may differ from the server's
 * (seconds, default 10, at least 1). */
void certa_config_set_early_data_window(certa_config *cfg, uint32_t seconds);
/* Reading and writing early data: certa_conn_read_early, certa_conn_write_early. */

/* Time (seconds since the epoch) and randomness; defaults: time(), RAND_bytes. */
typedef int64_t (*certa_time_fn)(void *arg);
typedef int (*certa_random_fn)(void *arg, uint8_t *out, size_t len); /* 0 = ok */
void certa_config_set_time_fn(certa_config *cfg, certa_time_fn fn, void *arg);
void certa_config_set_random_fn(certa_config *cfg, certa_random_fn fn, void *arg);

/* Key log, for decrypting a capture (Wireshark/tshark, like SSLKEYLOGFILE).
 * SECRET: a line lets anyone holding it and a capture of the connection
 * read all of its traffic; off unless set, never for production traffic.
 * fn gets one whole NSS key-log line, without newline, in the format
 *   LABEL <client_random, 64 hex digits> <secret, lowercase hex>
 * (the client_random is the ClientHello's, on both sides). Write it as-is
 * followed by "\n"; the buffer is zeroized when fn returns, so copy what
 * you keep. The labels are:
 *   TLS 1.3  CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET,
 *            CLIENT_TRAFFIC_SECRET_0, SERVER_TRAFFIC_SECRET_0, EXPORTER_SECRET;
 *            with 0-RTT (client sending, server accepting)
 *            CLIENT_EARLY_TRAFFIC_SECRET and EARLY_EXPORTER_SECRET
 *   TLS 1.2  CLIENT_RANDOM <client_random> <48-byte master secret>
 * for full and resumed handshakes and after a HelloRetryRequest, on client
 * and server: the same lines libssl's SSL_CTX_set_keylog_callback writes.
 * Secrets after a KeyUpdate (application_traffic_secret_N, N > 0) are not
 * logged, by NSS's convention: a decoder derives them from _0. fn is called
 * from the thread running the handshake, for every connection of the
 * config (possibly several at once), and must not call back into the
 * connection. Set before the config is first used; fn NULL turns it off. */
typedef void (*certa_keylog_fn)(void *arg, const char *line);
void certa_config_set_keylog(certa_config *cfg, certa_keylog_fn fn, void *arg);

/* Last error detail from a config call (a sentence), "" if none. */
const char *certa_config_error_text(const certa_config *cfg);

/* ---- connection ------------------------------------------------------- */

typedef struct certa_conn certa_conn;

/* A client for server_name (SNI; may be NULL or an IP literal, which is
 * not sent as SNI). The ClientHello is queued at once. */
certa_conn *certa_client_new(certa_config *cfg, const char *server_name);
certa_conn *certa_server_new(certa_config *cfg);
void certa_conn_free(certa_conn *conn);

/* Handshake trace: one line per event (message sent/received, parameters),
 * without trailing newline. */
typedef void (*certa_trace_fn)(void *arg, const char *line);
void certa_conn_set_trace(certa_conn *conn, certa_trace_fn fn, void *arg);

/* Feed bytes received from the transport. *used is set to how many were
 * taken; fewer than len means decrypted application data is waiting to be
 * read (backpressure): read it, then feed the rest. Returns CERTA_OK or the
 * error that failed the connection (an alert is then queued to send). */
int certa_conn_recv(certa_conn *conn, const uint8_t *data, size_t len, size_t *used);
/* Tell the engine the transport reached end of file. */
int certa_conn_recv_eof(certa_conn *conn);

/* Bytes waiting to be sent to the peer; after sending n of them, call
 * certa_conn_outgoing_done(conn, n). */
size_t certa_conn_outgoing(certa_conn *conn, const uint8_t **data);
void certa_conn_outgoing_done(certa_conn *conn, size_t n);

/* Decrypted application data. Returns bytes copied (0 if none yet). */
size_t certa_conn_read(certa_conn *conn, uint8_t *buf, size_t cap);
/* Queue application data (only once the handshake is done). */
int certa_conn_write(certa_conn *conn, const uint8_t *data, size_t len);
/* Server: accepted early data, once the ClientHello is processed and until
 * EndOfEarlyData. Returns bytes copied (0 if none buffered). */
size_t certa_conn_read_early(certa_conn *conn, uint8_t *buf, size_t cap);
/* Client (config with certa_config_set_max_early_data): queue early data
 * right after the ClientHello. Allowed only before the server's answer is
 * read, when the offered session's ticket allows early data, and within
 * its (and the config's) maximum; else CERTA_E_STATE (nothing queued).
 * certa_info.early_data_accepted / early_data_rejected say what the server
 * did; rejected early data was not delivered: send it again with
 * certa_conn_write once the handshake is done. */
int certa_conn_write_early(certa_conn *conn, const uint8_t *data, size_t len);
/* Client: may early data be written now (and how much)? 0 if not. */
size_t certa_conn_early_allowed(const certa_conn *conn);
/* Queue close_notify; no more writes after it. */
int certa_conn_close(certa_conn *conn);
/* Send a KeyUpdate; request_peer asks the peer to update its keys too. */
int certa_conn_key_update(certa_conn *conn, bool request_peer);

/* Diagnostics (certa diagnose): does a TLS 1.2 server accept a
 * client-initiated renegotiation? certa never renegotiates; on a client
 * connection whose TLS 1.2 handshake is complete this queues one
 * ClientHello (renegotiation_info with our Finished verify_data, RFC 5746)
 * under the connection's keys — send it, then keep feeding the server's
 * bytes. Its next word ends the connection with a verdict as the error:
 * CERTA_E_RENEGOTIATION_ACCEPTED (a ServerHello proving the first
 * handshake), CERTA_E_RENEGOTIATION_INSECURE (a ServerHello without that
 * proof), CERTA_E_RENEGOTIATION_REFUSED (a warning or fatal alert, or
 * close_notify); no alert is sent, close the transport. Silence or a closed
 * transport is the caller's to judge. Application data arriving meanwhile is
 * delivered. CERTA_E_STATE on a server, before the handshake, in TLS 1.3,
 * after close or a second call. */
int certa_conn_probe_renegotiation(certa_conn *conn);

/* Client, explicit resumption: the newest session the server gave this
 * connection (it arrives after the handshake, with the first data), as bytes
 * to store — they hold a secret: keep them like a private key. Sets *len;
 * CERTA_E_STATE if no ticket has arrived, CERTA_E_INVALID_ARGUMENT if cap is
 * too small (*len says how much is needed). */
int certa_conn_session(const certa_conn *conn, uint8_t *buf, size_t cap, size_t *len);
/* A client that offers a stored session (from certa_conn_session) to
 * server_name. An unusable session (malformed, expired, for another name or
 * cipher suite) is not offered; a server that declines gets a full
 * handshake. Either way the connection works as certa_client_new's.
 * The session carries the server identity as verified by the config that
 * made it; cfg's pins, insecure mode and allow rules are applied again, but
 * not its trust anchors: offer a session only under a config that trusts
 * what the original one trusted (the built-in cache never crosses configs). */
certa_conn *certa_client_new_resume(certa_config *cfg, const char *server_name,
                                    const uint8_t *session, size_t session_len);
#define CERTA_SESSION_MAX 8192 /* certa_conn_session never needs more */

bool certa_conn_handshake_done(const certa_conn *conn);
bool certa_conn_peer_closed(const certa_conn *conn); /* close_notify received */
bool certa_conn_failed(const certa_conn *conn);
int certa_conn_error(const certa_conn *conn);
/* The sentence for the failure: cause and fix. */
const char *certa_conn_error_text(const certa_conn *conn);
/* A non-fatal revocation finding about the peer's chain under
 * CERTA_REVOCATION_PREFER ("the revocation status of leaf 'CN=x' is
 * unknown: the CRL of 'CN=ca' is out of date ..."), or "" if there was none. */
const char *certa_conn_revocation_note(const certa_conn *conn);
/* The CT verdict on the peer's leaf ("2 valid SCTs from 2 operators
 * (Google, Cloudflare); a certificate of 90 days needs 2: met"), or "" when
 * SCTs were not checked. */
const char *certa_conn_sct_note(const certa_conn *conn);
/* Alert sent or received with the failure; 255 if none. */
uint8_t certa_conn_alert_sent(const certa_conn *conn);
uint8_t certa_conn_alert_received(const certa_conn *conn);

typedef struct certa_info {
    uint16_t version;
    uint16_t cipher_suite;
    uint16_t group;
    uint16_t peer_sig_scheme; /* scheme of the peer's CertificateVerify */
    bool hello_retry;         /* a HelloRetryRequest was used */
    const char *alpn;         /* negotiated protocol or NULL */
    const char *server_name;  /* SNI sent (client) or received (server), or NULL */
    size_t peer_cert_count;   /* certificates the peer sent */
    bool resumed;             /* a session ticket (PSK) was used: no certificates exchanged */
    bool session_offered;     /* client: a stored session was offered (resumed says if taken) */
    /* Server: the DNS name of our certificate that server_name matched
     * ("*.example.com" for "a.example.com"), NULL when no name matched and
     * the default certificate (the first usable one) was chosen. */
    const char *cert_name;
    /* The peer's certificate came as a CompressedCertificate (RFC 8879):
     * the algorithm (CERTA_CERT_COMPRESSION_*, 0 if it came uncompressed),
     * the compressed message body's size and the Certificate body's. */
    uint16_t peer_cert_compression;
    size_t peer_cert_compressed_len;
    size_t peer_cert_uncompressed_len;
    /* The peer's OCSP staple was checked and says good (its leaf's status
     * is established by it). */
    bool peer_staple_good;
    /* 0-RTT: the server accepted early data (server: it did); the client
     * offered (server: sent) early data that was rejected — not delivered,
     * resend it after the handshake; and how many bytes of it were sent
     * (client) or received (server). */
    bool early_data_accepted;
    bool early_data_rejected;
    size_t early_data_bytes;
    /* certa_info is allocated by callers: it does not grow within a major
     * version (DESIGN.md, The ABI). Later facts are functions below. */
} certa_info;
int certa_conn_info(const certa_conn *conn, certa_info *info);
/* Client: the lifetime hint (seconds) of the newest session ticket the
 * server sent on this connection, 0 if none came. */
uint32_t certa_conn_ticket_lifetime(const certa_conn *conn);
/* Client: the server sent a CertificateRequest (the CAs it named:
 * certa_conn_requested_ca_count). */
bool certa_conn_cert_requested(const certa_conn *conn);
/* Client: the certificate authorities a server's CertificateRequest named
 * (certificate_authorities, TLS 1.3 and 1.2), kept only when it named any:
 * how many, and one as text ("CN=Example CA, O=Example"). _name fails with
 * CERTA_E_INVALID_ARGUMENT past the count (buf ""), CERTA_E_DECODE for a
 * name it cannot read; the text is cut to cap. */
size_t certa_conn_requested_ca_count(const certa_conn *conn);
int certa_conn_requested_ca_name(const certa_conn *conn, size_t index, char *buf, size_t cap);

/* Keying-material exporter: RFC 8446 §7.5 in TLS 1.3, RFC 5705 in TLS 1.2
 * (with or without extended master secret). Fills out[0..out_len) from the
 * label (label_len bytes, no NUL inside, 1..249 bytes) and, if use_context,
 * the context (up to 65535 bytes; in TLS 1.3 no context equals an empty one).
 * CERTA_E_STATE before the handshake is complete or after a failure;
 * CERTA_E_INVALID_ARGUMENT for a reserved label (client finished, server
 * finished, master secret, extended master secret, key expansion), an empty
 * or oversized label, or out_len 0 or over 255 hash lengths. Both peers get
 * the same bytes for the same label and context. */
int certa_conn_export_keying_material(certa_conn *conn, uint8_t *out, size_t out_len,
                                      const char *label, size_t label_len, const uint8_t *context,
                                      size_t context_len, bool use_context);
/* The peer's identity as established by the handshake. */
typedef struct certa_peer_identity {
    bool present;        /* the peer sent a certificate */
    bool verified;       /* its chain validated against the trust set (or a pin matched) */
    char spiffe_id[256]; /* first spiffe:// URI SAN, "" if none */
    char dns_names[512]; /* DNS SANs, comma-separated */
    char subject[256];
    char issuer[256];
    char spki_sha256[64]; /* "sha256:BASE64" */
    int64_t not_after;
} certa_peer_identity;
int certa_conn_peer_identity(const certa_conn *conn, certa_peer_identity *id);

/* DER of the peer's certificate number index (0 = leaf), NULL if none. */
const uint8_t *certa_conn_peer_cert(const certa_conn *conn, size_t index, size_t *len);

/* ---- Encrypted Client Hello (RFC 9849) -------------------------------------
 *
 * TLS 1.3 only. A client given the server's ECHConfigList sends two
 * ClientHellos in one: ClientHelloOuter in clear (SNI = the config's
 * public_name, no ALPN, no session) carrying the real ClientHelloInner
 * (SNI, ALPN, everything else) encrypted with HPKE to the server's key.
 * The server that holds the key continues with the inner hello; one that
 * cannot decrypt it continues with the outer one, for the public name, and
 * sends its current configs (retry_configs). No 0-RTT and no resumption
 * while ECH is offered (a stored session is not offered). */

/* Server: one ECH key (the HPKE private key, raw: 32 bytes for X25519, 32
 * for P-256) with its ECHConfig (one config, as `certa ech keygen` writes
 * it). Repeatable, for rotation: every key decrypts; those with retry set
 * are sent in retry_configs to a client whose ECH could not be decrypted.
 * CERTA_E_ECH_CONFIG (with a sentence) when the config is malformed or the
 * key does not match its public key. */
int certa_config_add_ech_key(certa_config *cfg, const uint8_t *private_key, size_t key_len,
                             const uint8_t *ech_config, size_t config_len, bool retry);
/* Client: offer ECH with the first usable config of this ECHConfigList
 * (the wire form, as in DNS HTTPS records; not base64). CERTA_E_ECH_CONFIG
 * when it is malformed or holds no config certa can use. */
int certa_config_set_ech_config_list(certa_config *cfg, const uint8_t *list, size_t len);
/* Client: without a config, send a GREASE ECH extension (RFC 9849 §6.2):
 * random bytes that look like ECH, ignored by every server. Off by default. */
void certa_config_set_ech_grease(certa_config *cfg, bool on);
/* Server: a ClientHello whose ECH config_id matches none of the keys is
 * also tried with up to 4 of the others (trial decryption, RFC 9849 §7.1,
 * for clients that randomize config_id). Off by default: with it every
 * GREASE ECH hello costs the server a Diffie-Hellman per key. */
void certa_config_set_ech_trial_decryption(certa_config *cfg, bool on);

typedef enum certa_ech_status {
    CERTA_ECH_NONE = 0,      /* client: not offered; server: no ECH extension */
    CERTA_ECH_ACCEPTED,      /* the inner hello was used (server: decrypted it, or was
                                handed an inner hello by a split-mode front end) */
    CERTA_ECH_REJECTED,      /* client: offered, the server used the outer hello */
    CERTA_ECH_GREASE,        /* client: a GREASE extension was sent */
    CERTA_ECH_NOT_DECRYPTED, /* server: an ECH extension none of its keys opened
                                (a stale config, another server's, or GREASE) */
} certa_ech_status;
/* Where ECH stands on the connection (final once the server's first hello
 * message is processed). */
certa_ech_status certa_conn_ech_status(const certa_conn *conn);
/* A name for the status: "none", "accepted", "rejected", "GREASE", "not decrypted". */
const char *certa_ech_status_name(certa_ech_status status);
/* Client, after CERTA_E_ECH_REJECTED: the ECHConfigList the server sent
 * (retry_configs), authenticated by a handshake for the public name;
 * CERTA_E_STATE (NULL, 0) when it sent none. Valid until certa_conn_free.
 * Retry once, on a new connection, with certa_config_set_ech_config_list. */
int certa_conn_ech_retry_configs(const certa_conn *conn, const uint8_t **list, size_t *len);
/* The outer hello's server_name: server, what the ClientHelloOuter carried
 * (the public name) when ECH was offered, whether or not it decrypted;
 * client, the public name it sent. NULL without ECH. The inner (real) name
 * is certa_info.server_name. */
const char *certa_conn_ech_outer_name(const certa_conn *conn);

/* ---- client fingerprints (JA4, JA3) ------------------------------------ */

/* JA4 and JA4_r as FoxIO's technical_details/JA4.md defines them, and JA3
 * (string and MD5), of one ClientHello; GREASE values are left out, as both
 * definitions say. The raw strings are cut at CERTA_FINGERPRINT_RAW_MAX - 1
 * characters (truncated set); the hashes always cover every value. */
#define CERTA_FINGERPRINT_RAW_MAX 2048
typedef struct certa_fingerprint {
    char ja4[40];     /* "t13d1516h2_8daaf6152771_02713d6af862" */
    char ja3_md5[33]; /* lower-case hex */
    char ja4_r[CERTA_FINGERPRINT_RAW_MAX];
    char ja3[CERTA_FINGERPRINT_RAW_MAX]; /* "771,4865-4866-...,0-23-...,29-23-24,0" */
    bool truncated;
    /* What the hello asked for, for logs: the host_name of server_name ("" if
     * none; bytes outside printable ASCII as '?') and the offered ALPN
     * protocols, comma-separated in the order sent ("" if none; cut to fit). */
    char server_name[256];
    char alpn[256];
} certa_fingerprint;
/* From a ClientHello handshake message (type byte, 3-byte length, body; no
 * record header). CERTA_E_DECODE if it is not a well-formed ClientHello. */
int certa_fingerprint_client_hello(const uint8_t *msg, size_t len, certa_fingerprint *fp);
/* Server: keep the fingerprints of the ClientHellos each connection
 * receives (off by default; when on, about 80 bytes plus the two raw strings
 * per connection, until certa_conn_free). */
void certa_config_set_client_fingerprints(certa_config *cfg, bool keep);
/* Server: the fingerprints of the first ClientHello (which = 0) or of the
 * second, after a HelloRetryRequest (which = 1). Available as soon as
 * certa_conn_recv has taken that ClientHello — before the server's answer is
 * sent, so a caller may refuse a client by fingerprint by closing without
 * sending anything. CERTA_E_STATE if fingerprints are off on the config or
 * no such ClientHello was received. */
int certa_conn_client_fingerprint(const certa_conn *conn, unsigned which, certa_fingerprint *fp);
/* Server: frees the fingerprints kept so far, once the caller has taken what
 * it needs (a proxy holding thousands of connections keeps 70 bytes of each,
 * not the raw strings). A ClientHello still to come is kept as usual. */
void certa_conn_drop_client_fingerprints(certa_conn *conn);

/* ---- certificates -------------------------------------------------------- */

typedef struct certa_cert_summary {
    char subject[256];
    char issuer[256];
    int64_t not_before; /* seconds since the epoch */
    int64_t not_after;
    char key_type[32];    /* "ECDSA P-256", "RSA 2048", "Ed25519" */
    char spki_sha256[64]; /* "sha256:BASE64", usable as a pin */
} certa_cert_summary;
int certa_cert_summarize(const uint8_t *der, size_t len, certa_cert_summary *out);
/* A DER certificate's serial number as uppercase hex, leading zero bytes
 * dropped (as OpenSSL prints it), NUL-terminated; cap 48 always suffices.
 * CERTA_E_BAD_CERTIFICATE, or CERTA_E_INVALID_ARGUMENT when it does not fit. */
int certa_cert_serial(const uint8_t *der, size_t len, char *out, size_t cap);

/* What a certificate says beyond the summary, for reports (certa diagnose):
 * names, CA flag, must-staple and where its issuer, OCSP responder and CRL
 * are published. Text fields keep printable ASCII only ('?' for other
 * bytes); a list that does not fit whole is cut at the last name that did. */
typedef struct certa_cert_details {
    char subject_cn[256];     /* the subject's first commonName, "" if none */
    bool has_san;             /* a subjectAltName extension is present */
    char dns_names[1024];     /* DNS SANs, ", "-separated */
    char ip_addresses[256];   /* IP SANs */
    char uris[512];           /* URI SANs (SPIFFE IDs) */
    bool is_ca;               /* basicConstraints cA */
    bool self_issued;         /* subject and issuer are the same name */
    bool must_staple;         /* TLS Feature status_request (RFC 7633) */
    char ocsp_url[256];       /* authorityInfoAccess id-ad-ocsp, "" if none */
    char ca_issuers_url[256]; /* authorityInfoAccess id-ad-caIssuers */
    char crl_url[256];        /* the first http:// cRLDistributionPoints URI */
    char key_type[32];        /* as certa_cert_summary.key_type */
    unsigned key_bits;        /* RSA modulus or EC field size (Ed25519: 256) */
} certa_cert_details;
/* CERTA_E_BAD_CERTIFICATE for DER that is not a certificate (an unknown
 * critical extension is not an error here: it is for validation to judge). */
int certa_cert_inspect(const uint8_t *der, size_t len, certa_cert_details *out);

/* ---- X.509 path validation ------------------------------------------------ */

/* A set of trust anchors (root certificates). Read-only once built; may be
 * shared by configs and threads. */
certa_trust *certa_trust_new(void);
void certa_trust_free(certa_trust *trust);
/* Adds every CERTIFICATE block of a PEM text. */
int certa_trust_add_pem(certa_trust *trust, const char *pem, size_t len);
/* A PEM bundle file, or a directory whose *.pem / *.crt files are PEM. */
int certa_trust_load(certa_trust *trust, const char *path);
/* The system bundle (/etc/ssl/certs/ca-certificates.crt). */
int certa_trust_load_system(certa_trust *trust);
size_t certa_trust_count(const certa_trust *trust);
/* Detail of the last failed load, "" if none. */
const char *certa_trust_error_text(const certa_trust *trust);

typedef enum certa_purpose { CERTA_PURPOSE_SERVER = 0, CERTA_PURPOSE_CLIENT = 1 } certa_purpose;

typedef struct certa_verify_params {
    certa_purpose purpose; /* extKeyUsage serverAuth / clientAuth */
    const char *dns_name;  /* leaf must be valid for this DNS name (RFC 6125), or NULL */
    const char *ip;        /* ... or this IPv4/IPv6 address literal, or NULL */
    const char *spiffe_id; /* ... or this URI SAN spiffe://trust-domain/path, or NULL */
    int64_t time;          /* validation time, seconds since the epoch; 0 = now */
    bool cn_fallback;      /* match dns_name against the subject CN when there is no SAN */
    unsigned max_depth;    /* certificates on a path including leaf and anchor; 0 = 10 */
    unsigned max_work;     /* signature checks path building may spend; 0 = 1000 */
    const char
        *email; /* ... or this rfc822Name SAN (email address, client certificates), or NULL */
    /* DER CRLs (RFC 5280 §5). A certificate on the path is refused when a CRL
     * from its issuer (same name, signed by the issuer's key) lists it, or
     * when such a CRL is unusable; issuers without a CRL here are not checked. */
    const uint8_t *const *crls;
    const size_t *crl_lens;
    size_t crl_count;
    /* DEFAULT: PREFER when crls are given, else OFF. PREFER: a listed
     * certificate is refused; one whose issuer has no usable fresh CRL here
     * is marked in result->revocation_unknown. REQUIRE: that is refused too
     * (CERTA_E_CERT_STATUS). */
    certa_revocation revocation;
} certa_verify_params;

#define CERTA_MAX_PATH 16

typedef struct certa_verify_result {
    int code;                          /* CERTA_OK or a CERTA_E_CERT_* code */
    char text[512];                    /* the explanation: certificate (subject) and check */
    size_t path_len;                   /* verified path, leaf first, anchor last */
    size_t path_index[CERTA_MAX_PATH]; /* index into the input chain, or SIZE_MAX for anchors */
    char path_subject[CERTA_MAX_PATH][256];
    /* Revocation: bit i set = the status of path[i] could not be established
     * (anchors never are checked); revocation_text explains the first. */
    uint32_t revocation_unknown;
    char revocation_text[384];
} certa_verify_result;

/* Validates chain[0] (the leaf) using chain[1..count) as untrusted
 * intermediates in any order, against the trust anchors. Returns
 * result->code. */
int certa_verify_chain(const certa_trust *trust, const uint8_t *const *chain, const size_t *lens,
                       size_t count, const certa_verify_params *params,
                       certa_verify_result *result);

/* ---- blocking socket helpers --------------------------------------------- */

/* Drive the handshake over a connected blocking or non-blocking socket,
 * waiting at most timeout_ms in total (0 = no limit). */
int certa_fd_handshake(certa_conn *conn, int fd, int timeout_ms);
/* Send everything queued in the engine. */
int certa_fd_flush(certa_conn *conn, int fd);

#ifdef __cplusplus
}
#endif
#endif /* CERTA_H */
