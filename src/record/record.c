/* Record protection: see record.h. */
#include "record/record.h"

#include "certa.h"

#include <string.h>

int record_set_secret(record_protection *rp, aead_alg aead, hash_alg hash, const uint8_t *secret) {
    uint8_t key[CRYPTO_MAX_KEY];
    size_t key_len = aead_key_len(aead);
    /* The cipher context is kept across traffic-secret changes (handshake ->
     * application -> KeyUpdate): only its key is replaced. */
    if (hkdf_expand_label(hash, secret, "key", NULL, 0, key, key_len) != 0 ||
        hkdf_expand_label(hash, secret, "iv", NULL, 0, rp->iv, sizeof rp->iv) != 0 ||
        aead_rekey(&rp->aead, aead, key, rp->aead.encrypt) != 0) {
        crypto_zero(key, sizeof key);
        record_protection_clear(rp);
        return CERTA_E_CRYPTO;
    }
    crypto_zero(key, sizeof key);
    rp->seq = 0;
    rp->on = true;
    return 0;
}

size_t record_tls12_iv_len(aead_alg aead) {
    return aead == AEAD_CHACHA20POLY1305 ? CRYPTO_AEAD_NONCE : 4;
}

int record_set_keys_tls12(record_protection *rp, aead_alg aead, const uint8_t *key,
                          const uint8_t *iv) {
    size_t iv_len = record_tls12_iv_len(aead);
    if (aead_rekey(&rp->aead, aead, key, rp->aead.encrypt) != 0) {
        record_protection_clear(rp);
        return CERTA_E_CRYPTO;
    }
    memset(rp->iv, 0, sizeof rp->iv);
    memcpy(rp->iv, iv, iv_len);
    rp->seq = 0;
    rp->on = true;
    rp->tls12 = true;
    rp->explicit_iv = aead == AEAD_CHACHA20POLY1305 ? 0 : 8;
    return 0;
}

void record_protection_clear(record_protection *rp) {
    bool encrypt = rp->aead.encrypt;
    aead_free(&rp->aead);
    crypto_zero(rp, sizeof *rp);
    rp->aead.encrypt = encrypt; /* the direction is fixed for the connection */
}

/* nonce = iv XOR (64-bit sequence number, left-padded with zeros). */
static void record_nonce(const record_protection *rp, uint8_t nonce[CRYPTO_AEAD_NONCE]) {
    memcpy(nonce, rp->iv, CRYPTO_AEAD_NONCE);
    for (int i = 0; i < 8; i++)
        nonce[CRYPTO_AEAD_NONCE - 1 - i] ^= (uint8_t)(rp->seq >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* TLS 1.2 nonce: GCM salt || explicit part (we send the sequence number,
 * which never repeats under one key); ChaCha20: as TLS 1.3. */
static void tls12_nonce(const record_protection *rp, const uint8_t *explicit_part,
                        uint8_t nonce[CRYPTO_AEAD_NONCE]) {
    if (rp->explicit_iv) {
        memcpy(nonce, rp->iv, 4);
        memcpy(nonce + 4, explicit_part, 8);
    } else {
        record_nonce(rp, nonce);
    }
}

/* seq_num || type || version || plaintext length (RFC 5246 §6.2.3.3). */
static void tls12_aad(const record_protection *rp, uint8_t type, size_t len, uint8_t aad[13]) {
    put_u64(aad, rp->seq);
    aad[8] = type;
    aad[9] = 0x03;
    aad[10] = 0x03;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

static int write_one_tls12(record_protection *rp, builder *out, uint8_t type, const uint8_t *data,
                           size_t len) {
    size_t wire_len = rp->explicit_iv + len + CRYPTO_AEAD_TAG;
    uint8_t *hdr = bld_reserve(out, RECORD_HEADER_LEN + wire_len);
    if (!hdr) return CERTA_E_NOMEM;
    hdr[0] = type;
    hdr[1] = 0x03;
    hdr[2] = 0x03;
    hdr[3] = (uint8_t)(wire_len >> 8);
    hdr[4] = (uint8_t)wire_len;
    uint8_t *explicit_part = hdr + RECORD_HEADER_LEN, nonce[CRYPTO_AEAD_NONCE], aad[13];
    if (rp->explicit_iv) put_u64(explicit_part, rp->seq);
    tls12_nonce(rp, explicit_part, nonce);
    tls12_aad(rp, type, len, aad);
    if (aead_seal_gather(&rp->aead, nonce, aad, sizeof aad, data, len, NULL, 0,
                         explicit_part + rp->explicit_iv) != 0)
        return CERTA_E_CRYPTO;
    rp->seq++;
    return 0;
}

static int write_one(record_protection *rp, builder *out, uint8_t type, const uint8_t *data,
                     size_t len) {
    if (rp->on && rp->tls12) return write_one_tls12(rp, out, type, data, len);
    if (!rp->on) {
        bld_u8(out, type);
        bld_u16(out, 0x0303);
        bld_u16(out, (uint16_t)len);
        bld_bytes(out, data, len);
        return bld_ok(out) ? 0 : CERTA_E_NOMEM;
    }
    /* TLSInnerPlaintext = content || type, no padding; then AEAD tag. */
    size_t inner_len = len + 1;
    size_t wire_len = inner_len + CRYPTO_AEAD_TAG;
    uint8_t *hdr = bld_reserve(out, RECORD_HEADER_LEN + wire_len);
    if (!hdr) return CERTA_E_NOMEM;
    hdr[0] = CONTENT_APPLICATION_DATA;
    hdr[1] = 0x03;
    hdr[2] = 0x03;
    hdr[3] = (uint8_t)(wire_len >> 8);
    hdr[4] = (uint8_t)wire_len;
    /* Sealed straight from the caller's buffer (out of place), the type
     * byte fed as a second piece: the plaintext is never copied. */
    uint8_t nonce[CRYPTO_AEAD_NONCE];
    record_nonce(rp, nonce);
    if (aead_seal_gather(&rp->aead, nonce, hdr, RECORD_HEADER_LEN, data, len, &type, 1,
                         hdr + RECORD_HEADER_LEN) != 0)
        return CERTA_E_CRYPTO;
    rp->seq++;
    return 0;
}

int record_write(record_protection *rp, builder *out, uint8_t type, const uint8_t *data,
                 size_t len) {
    size_t max = rp->on && rp->limit ? rp->limit : RECORD_MAX_PLAINTEXT;
    do {
        size_t n = len > max ? max : len;
        int err = write_one(rp, out, type, data, n);
        if (err) return err;
        data += n;
        len -= n;
    } while (len > 0);
    return 0;
}

int record_open(record_protection *rp, const uint8_t header[RECORD_HEADER_LEN], uint8_t *body,
                size_t body_len, uint8_t *type, size_t *plain_len) {
    return record_open_from(rp, header, body, body_len, body, type, plain_len);
}

/* The plaintext lands at body[0]: out of place straight there; in place
 * (src == body) it is decrypted where it lies, after the explicit nonce,
 * and moved down by those 8 bytes. */
static int open_tls12(record_protection *rp, const uint8_t header[RECORD_HEADER_LEN],
                      const uint8_t *src, size_t body_len, uint8_t *body, uint8_t *type,
                      size_t *plain_len) {
    if (body_len > RECORD_MAX_CIPHERTEXT) return CERTA_E_RECORD_OVERFLOW;
    if (body_len < (size_t)rp->explicit_iv + CRYPTO_AEAD_TAG) return CERTA_E_BAD_RECORD_MAC;
    size_t n = body_len - rp->explicit_iv - CRYPTO_AEAD_TAG;
    uint8_t nonce[CRYPTO_AEAD_NONCE], aad[13];
    tls12_nonce(rp, src, nonce);
    tls12_aad(rp, header[0], n, aad);
    const uint8_t *in = src + rp->explicit_iv;
    uint8_t *out = src == body ? body + rp->explicit_iv : body;
    int r = aead_open(&rp->aead, nonce, aad, sizeof aad, in, n + CRYPTO_AEAD_TAG, out);
    if (r == -1) return CERTA_E_BAD_RECORD_MAC;
    if (r != 0) return CERTA_E_CRYPTO;
    if (out != body) memmove(body, out, n);
    rp->seq++;
    if (n > (rp->limit ? rp->limit : RECORD_MAX_PLAINTEXT)) return CERTA_E_RECORD_OVERFLOW;
    *type = header[0];
    *plain_len = n;
    return 0;
}

int record_open_from(record_protection *rp, const uint8_t header[RECORD_HEADER_LEN],
                     const uint8_t *src, size_t body_len, uint8_t *body, uint8_t *type,
                     size_t *plain_len) {
    uint8_t outer = header[0];
    if (!rp->on || outer == CONTENT_CHANGE_CIPHER_SPEC) {
        /* Before keys, and the middlebox ChangeCipherSpec, travel in clear. */
        if (body_len > RECORD_MAX_PLAINTEXT) return CERTA_E_RECORD_OVERFLOW;
        if (src != body) memcpy(body, src, body_len);
        *type = outer;
        *plain_len = body_len;
        return 0;
    }
    if (rp->tls12) return open_tls12(rp, header, src, body_len, body, type, plain_len);
    if (outer != CONTENT_APPLICATION_DATA) return CERTA_E_UNEXPECTED_MESSAGE;
    if (body_len > RECORD_MAX_CIPHERTEXT) return CERTA_E_RECORD_OVERFLOW;
    if (body_len < CRYPTO_AEAD_TAG + 1) return CERTA_E_BAD_RECORD_MAC;
    uint8_t nonce[CRYPTO_AEAD_NONCE];
    record_nonce(rp, nonce);
    int r = aead_open(&rp->aead, nonce, header, RECORD_HEADER_LEN, src, body_len, body);
    if (r == -1) return CERTA_E_BAD_RECORD_MAC;
    if (r != 0) return CERTA_E_CRYPTO;
    rp->seq++;
    /* Strip zero padding; the last non-zero byte is the real type. The
     * padding counts too: TLSInnerPlaintext is at most 2^14 + 1 (§5.4). */
    size_t n = body_len - CRYPTO_AEAD_TAG;
    if (n > (size_t)(rp->limit ? rp->limit : RECORD_MAX_PLAINTEXT) + 1)
        return CERTA_E_RECORD_OVERFLOW; /* RFC 8449: the limit counts type and padding */
    while (n > 0 && body[n - 1] == 0)
        n--;
    if (n == 0) return CERTA_E_UNEXPECTED_MESSAGE; /* all padding, no type */
    *type = body[n - 1];
    n--;
    if (n > RECORD_MAX_PLAINTEXT) return CERTA_E_RECORD_OVERFLOW;
    *plain_len = n;
    return 0;
}
