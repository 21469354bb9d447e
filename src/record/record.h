/* Record protection for TLS 1.3 (RFC 8446 §5: AEAD with nonce = iv XOR
 * sequence number, inner content type and padding) and TLS 1.2 AEAD (RFC
 * 5246 §6.2.3.3: AES-GCM with a 4-byte implicit salt and an 8-byte explicit
 * nonce in each record, RFC 5288; ChaCha20-Poly1305 with the TLS 1.3 nonce
 * and no explicit part, RFC 7905; additional data = seq || type || version
 * || length). */
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
    bool tls12;          /* TLS 1.2 framing: outer type is the real type */
    uint8_t explicit_iv; /* TLS 1.2 AES-GCM: 8 explicit nonce bytes per record */
    /* record_size_limit (RFC 8449), in content bytes per protected record
     * (the TLS 1.3 type byte not counted); 0 = 2^14. Kept across rekeys. */
    uint16_t limit;
} record_protection;

/* Keys the direction from a traffic secret: key and iv by
 * HKDF-Expand-Label(secret, "key"/"iv", "", len). Resets the sequence. */
int record_set_secret(record_protection *rp, aead_alg aead, hash_alg hash, const uint8_t *secret);
void record_protection_clear(record_protection *rp);
/* TLS 1.2: keys a direction from the key block's key and IV (4 bytes for
 * AES-GCM, 12 for ChaCha20-Poly1305). Resets the sequence. */
int record_set_keys_tls12(record_protection *rp, aead_alg aead, const uint8_t *key,
                          const uint8_t *iv);
/* IV bytes a TLS 1.2 suite takes from the key block. */
size_t record_tls12_iv_len(aead_alg aead);

/* Appends records carrying data of the given content type to out,
 * fragmenting at 2^14 bytes (at rp->limit for protected records). Returns 0 or a CERTA_E_* code. */
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
