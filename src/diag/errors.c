/* The error model: every CERTA_E_* code has a stable name and a generic
 * sentence (cause and fix). Connections add detail with their own sentence;
 * these texts are the fallback and what certa_error_text() returns. */
#include "certa.h"

#include <stddef.h>

typedef struct error_entry {
    const char *name;
    const char *text;
} error_entry;

static const error_entry error_table[CERTA_E_COUNT] = {
    [CERTA_OK] = {"CERTA_OK", "no error"},
    [CERTA_E_NOMEM] = {"CERTA_E_NOMEM", "out of memory: free memory or lower the connection count"},
    [CERTA_E_INVALID_ARGUMENT] = {"CERTA_E_INVALID_ARGUMENT",
                                  "an argument was invalid: check the call's parameters"},
    [CERTA_E_FILE] = {"CERTA_E_FILE", "a file could not be read: check the path and permissions"},
    [CERTA_E_BAD_PEM] = {"CERTA_E_BAD_PEM",
                         "no usable PEM block was found: check that the file is PEM "
                         "(-----BEGIN ...-----) and not DER or empty"},
    [CERTA_E_BAD_KEY] = {"CERTA_E_BAD_KEY",
                         "the private key could not be read: use an unencrypted PEM key "
                         "(PKCS#8, SEC1 EC, PKCS#1 RSA or Ed25519)"},
    [CERTA_E_KEY_MISMATCH] = {"CERTA_E_KEY_MISMATCH",
                              "the private key does not belong to the certificate: pass the key "
                              "that was used to request this certificate"},
    [CERTA_E_UNKNOWN_NAME] = {"CERTA_E_UNKNOWN_NAME",
                              "a cipher suite, group or protocol name was not recognised: see "
                              "`certa help` for the names certa knows"},
    [CERTA_E_BAD_PIN] = {"CERTA_E_BAD_PIN",
                         "a pin must be sha256:BASE64 of a 32-byte SHA-256 of the server's "
                         "SubjectPublicKeyInfo"},
    [CERTA_E_CONFIG] = {"CERTA_E_CONFIG", "the configuration is incomplete: a server needs a "
                                          "certificate and its private key"},
    [CERTA_E_STATE] = {"CERTA_E_STATE", "the call is not valid in the connection's current state"},
    [CERTA_E_INTERNAL] = {"CERTA_E_INTERNAL", "internal error in certa: please report it"},
    [CERTA_E_CRYPTO] = {"CERTA_E_CRYPTO",
                        "a cryptographic operation failed in libcrypto: check the key and the "
                        "OpenSSL installation"},
    [CERTA_E_DECODE] = {"CERTA_E_DECODE",
                        "a message from the peer was malformed: the peer is not speaking TLS "
                        "correctly (or is not TLS at all)"},
    [CERTA_E_ILLEGAL_PARAMETER] = {"CERTA_E_ILLEGAL_PARAMETER",
                                   "the peer sent a value that is not allowed here: the peer's TLS "
                                   "implementation is faulty"},
    [CERTA_E_UNEXPECTED_MESSAGE] = {"CERTA_E_UNEXPECTED_MESSAGE",
                                    "the peer sent a message that is not allowed at this point of "
                                    "the protocol"},
    [CERTA_E_RECORD_OVERFLOW] = {"CERTA_E_RECORD_OVERFLOW",
                                 "the peer sent a record larger than TLS allows"},
    [CERTA_E_BAD_RECORD_MAC] = {"CERTA_E_BAD_RECORD_MAC",
                                "a record failed authentication: data was corrupted or tampered "
                                "with in transit, or the peers disagree on keys"},
    [CERTA_E_NO_COMMON_CIPHER] = {"CERTA_E_NO_COMMON_CIPHER",
                                  "the peers share no cipher suite: allow more suites on one side"},
    [CERTA_E_NO_COMMON_GROUP] = {"CERTA_E_NO_COMMON_GROUP",
                                 "the peers share no key-exchange group: allow more groups on one "
                                 "side (x25519, secp256r1, secp384r1, secp521r1, x448)"},
    [CERTA_E_NO_COMMON_SIGALG] = {"CERTA_E_NO_COMMON_SIGALG",
                                  "the peer accepts no signature scheme that fits this "
                                  "certificate's key: use an ECDSA, RSA or Ed25519 certificate the "
                                  "peer supports"},
    [CERTA_E_PROTOCOL_VERSION] = {"CERTA_E_PROTOCOL_VERSION",
                                  "the peer does not speak TLS 1.3: upgrade it or enable TLS 1.3 "
                                  "there"},
    [CERTA_E_DOWNGRADE] = {"CERTA_E_DOWNGRADE",
                           "the server's random carries the TLS 1.3 downgrade sentinel: a "
                           "middlebox or attacker is forcing an older TLS version"},
    [CERTA_E_MISSING_EXTENSION] = {"CERTA_E_MISSING_EXTENSION",
                                   "the peer left out an extension TLS 1.3 requires"},
    [CERTA_E_UNSUPPORTED_EXTENSION] = {"CERTA_E_UNSUPPORTED_EXTENSION",
                                       "the peer answered with an extension that was not offered"},
    [CERTA_E_NO_ALPN] = {"CERTA_E_NO_ALPN",
                         "the peers share no application protocol (ALPN): make the lists overlap"},
    [CERTA_E_BAD_SIGNATURE] = {"CERTA_E_BAD_SIGNATURE",
                               "the peer's CertificateVerify signature is invalid: the peer does "
                               "not hold the private key of the certificate it sent"},
    [CERTA_E_BAD_FINISHED] = {"CERTA_E_BAD_FINISHED",
                              "the peer's Finished message did not verify: the handshake was "
                              "altered in transit or the peer computed different keys"},
    [CERTA_E_BAD_CERTIFICATE] = {"CERTA_E_BAD_CERTIFICATE",
                                 "the peer's certificate could not be parsed or uses an "
                                 "unsupported key"},
    [CERTA_E_PIN_MISMATCH] = {"CERTA_E_PIN_MISMATCH",
                              "the peer's public key matches none of the pinned keys: the server "
                              "key changed, or this is not the server you meant"},
    [CERTA_E_NO_PEER_AUTH] =
        {"CERTA_E_NO_PEER_AUTH",
         "no way to authenticate the server is configured: pass --pin "
         "sha256:... (or --insecure to skip authentication, for testing only)"},
    [CERTA_E_HANDSHAKE_TOO_BIG] = {"CERTA_E_HANDSHAKE_TOO_BIG",
                                   "a handshake message exceeded the configured size cap: raise "
                                   "the cap if the peer's certificate chain is legitimately large"},
    [CERTA_E_PEER_ALERT] = {"CERTA_E_PEER_ALERT", "the peer aborted the connection with an alert"},
    [CERTA_E_PEER_CLOSED] = {"CERTA_E_PEER_CLOSED",
                             "the peer closed the connection without close_notify (the data may "
                             "be truncated)"},
    [CERTA_E_TIMEOUT] = {"CERTA_E_TIMEOUT",
                         "the peer did not answer in time: check that it is a TLS endpoint and "
                         "reachable"},
    [CERTA_E_IO] = {"CERTA_E_IO", "a socket operation failed: check the network path"},
    [CERTA_E_CERT_MALFORMED] = {"CERTA_E_CERT_MALFORMED",
                                "a certificate is not valid DER X.509: re-issue it"},
    [CERTA_E_CERT_EXPIRED] = {"CERTA_E_CERT_EXPIRED", "a certificate has expired: renew it"},
    [CERTA_E_CERT_NOT_YET_VALID] = {"CERTA_E_CERT_NOT_YET_VALID",
                                    "a certificate is not valid yet: check the clocks or wait"},
    [CERTA_E_CERT_UNKNOWN_ISSUER] = {"CERTA_E_CERT_UNKNOWN_ISSUER",
                                     "no path to a trusted root: add the issuing CA to the trust "
                                     "bundle, or send the intermediate certificates"},
    [CERTA_E_CERT_SELF_SIGNED] = {"CERTA_E_CERT_SELF_SIGNED",
                                  "the certificate is self-signed and not in the trust bundle: "
                                  "trust it explicitly or use a CA-issued certificate"},
    [CERTA_E_CERT_BAD_SIGNATURE] = {"CERTA_E_CERT_BAD_SIGNATURE",
                                    "a certificate's signature does not verify with its issuer's "
                                    "key: the chain is corrupt or forged"},
    [CERTA_E_CERT_NOT_CA] = {"CERTA_E_CERT_NOT_CA",
                             "an issuing certificate is not a CA (basicConstraints/keyUsage): "
                             "re-issue it as a CA"},
    [CERTA_E_CERT_PATH_LENGTH] = {"CERTA_E_CERT_PATH_LENGTH",
                                  "the chain is longer than a CA's pathLenConstraint or the "
                                  "depth limit allows"},
    [CERTA_E_CERT_PURPOSE] = {"CERTA_E_CERT_PURPOSE",
                              "a certificate's key usage does not allow this purpose (server or "
                              "client authentication): re-issue it with the right extKeyUsage"},
    [CERTA_E_CERT_NAME_MISMATCH] = {"CERTA_E_CERT_NAME_MISMATCH",
                                    "the certificate is not valid for the requested name: connect "
                                    "with the name it was issued for, or re-issue it"},
    [CERTA_E_CERT_NAME_CONSTRAINTS] = {"CERTA_E_CERT_NAME_CONSTRAINTS",
                                       "a name in the chain is outside what an issuing CA is "
                                       "allowed to certify (name constraints)"},
    [CERTA_E_CERT_WEAK_ALGORITHM] = {"CERTA_E_CERT_WEAK_ALGORITHM",
                                     "a certificate uses a weak or unsupported algorithm (SHA-1, "
                                     "RSA under 2048 bits): re-issue it"},
    [CERTA_E_CERT_UNKNOWN_CRITICAL] = {"CERTA_E_CERT_UNKNOWN_CRITICAL",
                                       "a certificate has a critical extension certa does not "
                                       "understand, so it must be refused"},
    [CERTA_E_CERT_POLICY] = {"CERTA_E_CERT_POLICY",
                             "the chain's certificate policies cannot be satisfied"},
    [CERTA_E_CERT_REVOKED] = {"CERTA_E_CERT_REVOKED",
                              "a certificate has been revoked by its issuer: replace it"},
    [CERTA_E_CERT_TOO_COMPLEX] = {"CERTA_E_CERT_TOO_COMPLEX",
                                  "path building gave up after its work limit: the peer sent too "
                                  "many or too tangled certificates"},
    [CERTA_E_TRUST_EMPTY] = {"CERTA_E_TRUST_EMPTY",
                             "no trust anchors are loaded: pass --trust FILE|DIR, or install "
                             "the system bundle (ca-certificates)"},
    [CERTA_E_CERTIFICATE_REQUIRED] = {"CERTA_E_CERTIFICATE_REQUIRED",
                                      "this server requires a client certificate and none was "
                                      "sent: configure the client's certificate and key"},
    [CERTA_E_IDENTITY_NOT_ALLOWED] = {"CERTA_E_IDENTITY_NOT_ALLOWED",
                                      "the peer's verified identity is not allowed by this "
                                      "endpoint's rules: add an allow rule or use another "
                                      "identity"},
    [CERTA_E_BAD_RULE] = {"CERTA_E_BAD_RULE",
                          "an allow rule must be spiffe://domain/path, spiffe://domain/prefix/*, "
                          "dns:NAME or sha256:BASE64"},
    [CERTA_E_NO_EXTENDED_MASTER_SECRET] = {"CERTA_E_NO_EXTENDED_MASTER_SECRET",
                                           "the TLS 1.2 peer does not support the extended master "
                                           "secret (RFC 7627), which certa requires: upgrade the "
                                           "peer, or allow it explicitly (--allow-no-ems)"},
    [CERTA_E_RENEGOTIATION] = {"CERTA_E_RENEGOTIATION",
                               "the peer tried to renegotiate, which certa never does: open a new "
                               "connection instead"},
    [CERTA_E_INAPPROPRIATE_FALLBACK] = {"CERTA_E_INAPPROPRIATE_FALLBACK",
                                        "the client retried with an older TLS version although "
                                        "the server supports a newer one: something on the path "
                                        "interfered with the first attempt"},
    [CERTA_E_CERT_STATUS] = {"CERTA_E_CERT_STATUS",
                             "the certificate's revocation status could not be established: "
                             "the stapled OCSP response is missing (must-staple), invalid or "
                             "stale, or (revocation require) no fresh CRL covers it — staple a "
                             "fresh response, or publish and load a fresh CRL"},
    [CERTA_E_CERT_TRANSPARENCY] = {"CERTA_E_CERT_TRANSPARENCY",
                                   "the certificate lacks enough valid Signed Certificate "
                                   "Timestamps from the configured CT logs: have it logged in "
                                   "more logs (of distinct operators), or add the logs that "
                                   "signed its SCTs to the log list"},
    [CERTA_E_RENEGOTIATION_ACCEPTED] = {"CERTA_E_RENEGOTIATION_ACCEPTED",
                                        "the server accepted a renegotiation (secure, RFC 5746): "
                                        "client-initiated renegotiation is a denial-of-service "
                                        "lever: refuse it on the server"},
    [CERTA_E_RENEGOTIATION_INSECURE] = {"CERTA_E_RENEGOTIATION_INSECURE",
                                        "the server accepted an insecure renegotiation (no RFC "
                                        "5746): update its TLS library or refuse renegotiation"},
    [CERTA_E_RENEGOTIATION_REFUSED] = {"CERTA_E_RENEGOTIATION_REFUSED",
                                       "the server refused the renegotiation"},
    [CERTA_E_ECH_REJECTED] = {"CERTA_E_ECH_REJECTED",
                              "the server did not accept Encrypted Client Hello: retry with the "
                              "ECH configs it sent (certa_conn_ech_retry_configs), or without ECH "
                              "if it sent none"},
    [CERTA_E_ECH_CONFIG] = {"CERTA_E_ECH_CONFIG",
                            "an ECH config or key cannot be used: pass an ECHConfigList / "
                            "ECHConfig of version 0xfe0d with its matching private key (certa ech "
                            "keygen makes both)"},
    [CERTA_E_UNRECOGNIZED_NAME] = {"CERTA_E_UNRECOGNIZED_NAME",
                                   "the server has no certificate for the server name the client "
                                   "asked for (SNI): connect with one of its names, or add a "
                                   "certificate for this one"},
};

const char *certa_error_name(int code) {
    if (code < 0 || code >= CERTA_E_COUNT || !error_table[code].name) return "CERTA_E_UNKNOWN";
    return error_table[code].name;
}

const char *certa_error_text(int code) {
    if (code < 0 || code >= CERTA_E_COUNT || !error_table[code].text) return "unknown error";
    return error_table[code].text;
}

const char *certa_alert_name(uint8_t alert) {
    switch (alert) {
    case 0:
        return "close_notify";
    case 10:
        return "unexpected_message";
    case 20:
        return "bad_record_mac";
    case 22:
        return "record_overflow";
    case 40:
        return "handshake_failure";
    case 42:
        return "bad_certificate";
    case 43:
        return "unsupported_certificate";
    case 44:
        return "certificate_revoked";
    case 45:
        return "certificate_expired";
    case 46:
        return "certificate_unknown";
    case 47:
        return "illegal_parameter";
    case 48:
        return "unknown_ca";
    case 49:
        return "access_denied";
    case 50:
        return "decode_error";
    case 51:
        return "decrypt_error";
    case 70:
        return "protocol_version";
    case 71:
        return "insufficient_security";
    case 80:
        return "internal_error";
    case 86:
        return "inappropriate_fallback";
    case 90:
        return "user_canceled";
    case 100:
        return "no_renegotiation";
    case 109:
        return "missing_extension";
    case 110:
        return "unsupported_extension";
    case 112:
        return "unrecognized_name";
    case 113:
        return "bad_certificate_status_response";
    case 115:
        return "unknown_psk_identity";
    case 116:
        return "certificate_required";
    case 120:
        return "no_application_protocol";
    case 121:
        return "ech_required";
    case 255:
        return "none";
    default:
        return "unknown_alert";
    }
}
