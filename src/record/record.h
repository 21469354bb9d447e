/* TLS 1.3 record protection (RFC 8446 §5): framing, AEAD with a per-record
 * nonce (iv XOR sequence number), inner content type and padding. */
#ifndef CERTA_RECORD_H
#define CERTA_RECORD_H

#include "crypto/crypto.h"
#include "wire/cursor.h"

#define RECORD_HEADER_LEN 5
#define RECORD_MAX_PLAINTEXT 16384          /* 2^14 */
#define RECORD_MAX_CIPHERTEXT (16384 + 256) /* 2^14 + 256 */
#define RECORD_MAX_WIRE (RECORD_HEADER_LEN + RECORD_MAX_CIPHERTEXT)

#define CONTENT_CHANGE_CIPHER_SPEC 20
#define CONTENT_ALERT 21
#define CONTENT_HANDSHAKE 22
#define CONTENT_APPLICATION_DATA 23

/* One direction's protection state. Off (plaintext) until keys are set. */
typedef struct record_protection {
    aead_ctx aead;
    uint8_t iv[CRYPTO_AEAD_NONCE];
    uint64_t seq;
    bool on;
} record_protection;

/* Keys the direction from a traffic secret: key and iv by
 * HKDF-Expand-Label(secret, "key"/"iv", "", len). Resets the sequence. */
int record_set_secret(record_protection *rp, aead_alg aead, hash_alg hash, const uint8_t *secret);
void record_protection_clear(record_protection *rp);

/* Appends records carrying data of the given content type to out,
 * fragmenting at 2^14 bytes. Returns 0 or a CERTA_E_* code. */
int record_write(record_protection *rp, builder *out, uint8_t type, const uint8_t *data,
                 size_t len);

/* Opens a whole record (header + body) in place. On success *type is the
 * (inner) content type and the plaintext is body[0 .. *plain_len).
 * Returns 0 or CERTA_E_BAD_RECORD_MAC / CERTA_E_RECORD_OVERFLOW /
 * CERTA_E_UNEXPECTED_MESSAGE / CERTA_E_DECODE. */
int record_open(record_protection *rp, const uint8_t header[RECORD_HEADER_LEN], uint8_t *body,
                size_t body_len, uint8_t *type, size_t *plain_len);
/* The same, reading the body from src and writing the plaintext to out
 * (one pass; src and out must not overlap unless equal). */
int record_open_from(record_protection *rp, const uint8_t header[RECORD_HEADER_LEN],
                     const uint8_t *src, size_t body_len, uint8_t *out, uint8_t *type,
                     size_t *plain_len);

#endif
