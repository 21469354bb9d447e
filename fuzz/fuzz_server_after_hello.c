/* The server engine after a valid ClientHello: a real certa client and server
 * run in memory, and the input is a program for a man in the middle that
 * edits the client's records after its first ClientHello (decrypting and
 * re-encrypting protected ones, so the fuzzer edits plaintext messages: the
 * second ClientHello after HelloRetryRequest, client Certificate,
 * CertificateVerify, Finished, application data, alerts, KeyUpdate; in TLS
 * 1.2 ClientKeyExchange, Certificate, CertificateVerify, ChangeCipherSpec,
 * Finished). The first byte picks the configuration (TLS 1.3: plain,
 * HelloRetryRequest, mutual TLS, ChaCha20/P-384; TLS 1.2: ECDSA, RSA, mutual
 * TLS, ticket resumption, SHA-384) and the delivery chunk size. See
 * fuzz_mitm.h. */
#include "fuzz_mitm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fz_run(data, size, true);
}
