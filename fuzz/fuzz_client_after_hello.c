/* The client engine against a real certa server in memory, with a man in the
 * middle that edits the server's records (ServerHello or HelloRetryRequest,
 * then the encrypted EncryptedExtensions, CertificateRequest, Certificate,
 * CertificateVerify, Finished, NewSessionTicket/KeyUpdate, application data),
 * decrypting and re-encrypting protected ones so edits land in plaintext
 * messages; in TLS 1.2 ServerHello, Certificate, ServerKeyExchange,
 * CertificateRequest, ServerHelloDone, NewSessionTicket, ChangeCipherSpec and
 * the protected Finished. The first byte picks the configuration and the
 * delivery chunk size. See fuzz_mitm.h. */
#include "fuzz_mitm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fz_run(data, size, false);
}
