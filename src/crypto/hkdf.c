/* HKDF (RFC 5869) on top of hmac.c, and TLS 1.3's HKDF-Expand-Label and
 * Derive-Secret (RFC 8446 §7.1). */
#include <string.h>

#include "crypto/internal.h"

int hkdf_extract(hash_alg h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                 size_t ikm_len, uint8_t *prk) {
    size_t hl = hash_len(h);
    if (hl == 0 || prk == NULL || (ikm == NULL && ikm_len > 0) || (salt == NULL && salt_len > 0))
        return -1;
    /* An absent salt is HashLen zero bytes. */
    static const uint8_t zeros[CRYPTO_MAX_HASH];
    if (salt_len == 0) {
        salt = zeros;
        salt_len = hl;
    }
    return hmac(h, salt, salt_len, ikm, ikm_len, prk);
}

int hkdf_expand(hash_alg h, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                size_t info_len, uint8_t *out, size_t out_len) {
    size_t hl = hash_len(h);
    if (hl == 0 || prk == NULL || out == NULL || (info == NULL && info_len > 0)) return -1;
    if (out_len > 255 * hl) return -1;
    if (out_len == 0) return 0;

    hmac_key k;
    if (hmac_key_init(&k, h, prk, prk_len) != 0) return -1;
    uint8_t t[CRYPTO_MAX_HASH];
    size_t t_len = 0, done = 0;
    int rc = 0;
    for (uint8_t counter = 1; done < out_len; counter++) {
        /* T(i) = HMAC(PRK, T(i-1) | info | i) */
        const uint8_t *parts[3] = {t, info, &counter};
        size_t lens[3] = {t_len, info_len, 1};
        if (hmac_key_mac(&k, 3, parts, lens, t) != 0) {
            rc = -1;
            break;
        }
        t_len = hl;
        size_t n = out_len - done < hl ? out_len - done : hl;
        memcpy(out + done, t, n);
        done += n;
    }
    crypto_zero(t, sizeof t);
    hmac_key_free(&k);
    if (rc != 0) crypto_zero(out, out_len);
    return rc;
}

int hkdf_expand_label(hash_alg h, const uint8_t *secret, const char *label, const uint8_t *context,
                      size_t context_len, uint8_t *out, size_t out_len) {
    static const char prefix[] = "tls13 ";
    size_t hl = hash_len(h);
    if (hl == 0 || secret == NULL || label == NULL || out == NULL) return -1;
    if (context == NULL && context_len > 0) return -1;
    size_t label_len = strlen(label);
    size_t full_label = sizeof prefix - 1 + label_len;
    /* struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } */
    if (full_label > 255 || context_len > 255 || out_len > 0xffff) return -1;

    uint8_t info[2 + 1 + 255 + 1 + 255];
    size_t n = 0;
    info[n++] = (uint8_t)(out_len >> 8);
    info[n++] = (uint8_t)out_len;
    info[n++] = (uint8_t)full_label;
    memcpy(info + n, prefix, sizeof prefix - 1);
    n += sizeof prefix - 1;
    memcpy(info + n, label, label_len);
    n += label_len;
    info[n++] = (uint8_t)context_len;
    if (context_len > 0) memcpy(info + n, context, context_len);
    n += context_len;
    return hkdf_expand(h, secret, hl, info, n, out, out_len);
}

int derive_secret(hash_alg h, const uint8_t *secret, const char *label,
                  const uint8_t *transcript_hash, uint8_t *out) {
    size_t hl = hash_len(h);
    if (hl == 0 || transcript_hash == NULL) return -1;
    return hkdf_expand_label(h, secret, label, transcript_hash, hl, out, hl);
}
