/* The algorithms certa speaks, their wire values and human names. */
#include "tls/tls.h"

static const cipher_suite suites[] = {
    {CERTA_TLS_AES_128_GCM_SHA256, "TLS_AES_128_GCM_SHA256", AEAD_AES128GCM, HASH_SHA256,
     CERTA_TLS13, AUTH_ANY},
    {CERTA_TLS_AES_256_GCM_SHA384, "TLS_AES_256_GCM_SHA384", AEAD_AES256GCM, HASH_SHA384,
     CERTA_TLS13, AUTH_ANY},
    {CERTA_TLS_CHACHA20_POLY1305_SHA256, "TLS_CHACHA20_POLY1305_SHA256", AEAD_CHACHA20POLY1305,
     HASH_SHA256, CERTA_TLS13, AUTH_ANY},
    {CERTA_TLS_AES_128_CCM_SHA256, "TLS_AES_128_CCM_SHA256", AEAD_AES128CCM, HASH_SHA256,
     CERTA_TLS13, AUTH_ANY},
    {CERTA_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
     AEAD_AES128GCM, HASH_SHA256, CERTA_TLS12, AUTH_ECDSA},
    {CERTA_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
     AEAD_AES256GCM, HASH_SHA384, CERTA_TLS12, AUTH_ECDSA},
    {CERTA_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
     "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", AEAD_CHACHA20POLY1305, HASH_SHA256,
     CERTA_TLS12, AUTH_ECDSA},
    {CERTA_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
     AEAD_AES128GCM, HASH_SHA256, CERTA_TLS12, AUTH_RSA},
    {CERTA_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
     AEAD_AES256GCM, HASH_SHA384, CERTA_TLS12, AUTH_RSA},
    {CERTA_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
     "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", AEAD_CHACHA20POLY1305, HASH_SHA256, CERTA_TLS12,
     AUTH_RSA},
};

const cipher_suite *cipher_suite_find(uint16_t id) {
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].id == id) return &suites[i];
    return NULL;
}

/* The schemes a TLS 1.3 CertificateVerify may use, in the order certa
 * offers them: the ones most certificates have first (P-256, P-384,
 * Ed25519, RSA-PSS with rsaEncryption keys), each new one beside its
 * family (P-521 after P-384, Ed448 after Ed25519), and rsa_pss_pss after
 * rsa_pss_rsae, whose keys are far more common. A peer picks the first of
 * its own preference that fits its key, so the order only decides between
 * schemes of one key. */
const uint16_t tls13_sig_schemes[] = {
    CERTA_SIG_ECDSA_SECP256R1_SHA256,
    CERTA_SIG_ECDSA_SECP384R1_SHA384,
    CERTA_SIG_ECDSA_SECP521R1_SHA512,
    CERTA_SIG_ED25519,
    CERTA_SIG_ED448,
    CERTA_SIG_RSA_PSS_RSAE_SHA256,
    CERTA_SIG_RSA_PSS_RSAE_SHA384,
    CERTA_SIG_RSA_PSS_RSAE_SHA512,
    CERTA_SIG_RSA_PSS_PSS_SHA256,
    CERTA_SIG_RSA_PSS_PSS_SHA384,
    CERTA_SIG_RSA_PSS_PSS_SHA512,
};
const size_t tls13_sig_schemes_count = sizeof tls13_sig_schemes / sizeof tls13_sig_schemes[0];

/* Listed after those in a TLS 1.3 signature_algorithms (ClientHello,
 * CertificateRequest) because they name certificate signatures — most CAs
 * still sign with PKCS#1 v1.5 — but never a CertificateVerify (RFC 8446
 * §4.2.3; certa sends no separate signature_algorithms_cert). */
const uint16_t tls13_cert_only_schemes[] = {
    CERTA_SIG_RSA_PKCS1_SHA256,
    CERTA_SIG_RSA_PKCS1_SHA384,
    CERTA_SIG_RSA_PKCS1_SHA512,
};
const size_t tls13_cert_only_schemes_count =
    sizeof tls13_cert_only_schemes / sizeof tls13_cert_only_schemes[0];

const char *certa_cipher_suite_name(uint16_t id) {
    const cipher_suite *s = cipher_suite_find(id);
    return s ? s->name : "unknown";
}

const char *certa_group_name(uint16_t group) {
    switch (group) {
    case CERTA_GROUP_X25519:
        return "x25519";
    case CERTA_GROUP_SECP256R1:
        return "secp256r1";
    case CERTA_GROUP_SECP384R1:
        return "secp384r1";
    case CERTA_GROUP_SECP521R1:
        return "secp521r1";
    case CERTA_GROUP_X448:
        return "x448";
    case CERTA_GROUP_X25519MLKEM768:
        return "X25519MLKEM768";
    case CERTA_GROUP_SECP256R1MLKEM768:
        return "SecP256r1MLKEM768";
    case CERTA_GROUP_SECP384R1MLKEM1024:
        return "SecP384r1MLKEM1024";
    case CERTA_GROUP_FFDHE2048:
        return "ffdhe2048";
    case CERTA_GROUP_FFDHE3072:
        return "ffdhe3072";
    case CERTA_GROUP_FFDHE4096:
        return "ffdhe4096";
    case CERTA_GROUP_FFDHE6144:
        return "ffdhe6144";
    case CERTA_GROUP_FFDHE8192:
        return "ffdhe8192";
    default:
        return "unknown";
    }
}

const char *certa_sig_scheme_name(uint16_t scheme) {
    switch (scheme) {
    case CERTA_SIG_ECDSA_SECP256R1_SHA256:
        return "ecdsa_secp256r1_sha256";
    case CERTA_SIG_ECDSA_SECP384R1_SHA384:
        return "ecdsa_secp384r1_sha384";
    case CERTA_SIG_ECDSA_SECP521R1_SHA512:
        return "ecdsa_secp521r1_sha512";
    case CERTA_SIG_RSA_PSS_RSAE_SHA256:
        return "rsa_pss_rsae_sha256";
    case CERTA_SIG_RSA_PSS_RSAE_SHA384:
        return "rsa_pss_rsae_sha384";
    case CERTA_SIG_RSA_PSS_RSAE_SHA512:
        return "rsa_pss_rsae_sha512";
    case CERTA_SIG_RSA_PSS_PSS_SHA256:
        return "rsa_pss_pss_sha256";
    case CERTA_SIG_RSA_PSS_PSS_SHA384:
        return "rsa_pss_pss_sha384";
    case CERTA_SIG_RSA_PSS_PSS_SHA512:
        return "rsa_pss_pss_sha512";
    case CERTA_SIG_ED25519:
        return "ed25519";
    case CERTA_SIG_ED448:
        return "ed448";
    case CERTA_SIG_RSA_PKCS1_SHA256:
        return "rsa_pkcs1_sha256";
    case CERTA_SIG_RSA_PKCS1_SHA384:
        return "rsa_pkcs1_sha384";
    case CERTA_SIG_RSA_PKCS1_SHA512:
        return "rsa_pkcs1_sha512";
    default:
        return "unknown";
    }
}

uint8_t alert_for_error(int code) {
    switch (code) {
    case CERTA_E_DECODE:
        return ALERT_DECODE_ERROR;
    case CERTA_E_ILLEGAL_PARAMETER:
        return ALERT_ILLEGAL_PARAMETER;
    case CERTA_E_UNEXPECTED_MESSAGE:
        return ALERT_UNEXPECTED_MESSAGE;
    case CERTA_E_RECORD_OVERFLOW:
        return ALERT_RECORD_OVERFLOW;
    case CERTA_E_BAD_RECORD_MAC:
        return ALERT_BAD_RECORD_MAC;
    case CERTA_E_NO_COMMON_CIPHER:
    case CERTA_E_NO_COMMON_GROUP:
    case CERTA_E_NO_COMMON_SIGALG:
        return ALERT_HANDSHAKE_FAILURE;
    case CERTA_E_PROTOCOL_VERSION:
        return ALERT_PROTOCOL_VERSION;
    case CERTA_E_DOWNGRADE:
        return ALERT_ILLEGAL_PARAMETER;
    case CERTA_E_NO_EXTENDED_MASTER_SECRET:
        return ALERT_HANDSHAKE_FAILURE;
    case CERTA_E_RENEGOTIATION:
        return ALERT_NO_RENEGOTIATION;
    case CERTA_E_INAPPROPRIATE_FALLBACK:
        return ALERT_INAPPROPRIATE_FALLBACK;
    case CERTA_E_UNRECOGNIZED_NAME:
        return ALERT_UNRECOGNIZED_NAME;
    case CERTA_E_MISSING_EXTENSION:
        return ALERT_MISSING_EXTENSION;
    case CERTA_E_UNSUPPORTED_EXTENSION:
        return ALERT_UNSUPPORTED_EXTENSION;
    case CERTA_E_NO_ALPN:
        return ALERT_NO_APPLICATION_PROTOCOL;
    case CERTA_E_BAD_SIGNATURE:
    case CERTA_E_BAD_FINISHED:
        return ALERT_DECRYPT_ERROR;
    case CERTA_E_BAD_CERTIFICATE:
    case CERTA_E_PIN_MISMATCH:
        return ALERT_BAD_CERTIFICATE;
    case CERTA_E_HANDSHAKE_TOO_BIG:
        return ALERT_DECODE_ERROR;
    case CERTA_E_CERT_EXPIRED:
    case CERTA_E_CERT_NOT_YET_VALID:
        return 45; /* certificate_expired */
    case CERTA_E_CERT_UNKNOWN_ISSUER:
    case CERTA_E_CERT_SELF_SIGNED:
    case CERTA_E_TRUST_EMPTY:
        return 48; /* unknown_ca */
    case CERTA_E_CERT_REVOKED:
        return 44; /* certificate_revoked */
    case CERTA_E_CERT_STATUS:
        return ALERT_BAD_CERTIFICATE_STATUS_RESPONSE;
    case CERTA_E_CERT_PURPOSE:
    case CERTA_E_CERT_WEAK_ALGORITHM:
    case CERTA_E_CERT_UNKNOWN_CRITICAL:
        return ALERT_UNSUPPORTED_CERTIFICATE;
    case CERTA_E_CERT_MALFORMED:
    case CERTA_E_CERT_BAD_SIGNATURE:
    case CERTA_E_CERT_NOT_CA:
    case CERTA_E_CERT_PATH_LENGTH:
    case CERTA_E_CERT_NAME_MISMATCH:
    case CERTA_E_CERT_NAME_CONSTRAINTS:
    case CERTA_E_CERT_POLICY:
    case CERTA_E_CERT_TOO_COMPLEX:
        return ALERT_BAD_CERTIFICATE;
    case CERTA_E_CERTIFICATE_REQUIRED:
        return 116; /* certificate_required */
    case CERTA_E_ECH_REJECTED:
        return ALERT_ECH_REQUIRED;
    case CERTA_E_IDENTITY_NOT_ALLOWED:
        return 49; /* access_denied */
    case CERTA_E_PEER_ALERT:
    case CERTA_E_PEER_CLOSED:
        return ALERT_NONE;
    default:
        return ALERT_INTERNAL_ERROR;
    }
}
