/* HKDF (RFC 5869) on top of hmac.c, and TLS 1.3's HKDF-Expand-Label and
 * Derive-Secret (RFC 8446 §7.1). */
#include <pthread.h>
#include <string.h>

#include "crypto/internal.h"

/* Without a PSK, TLS 1.3's Early Secret = HKDF-Extract(0, 0^HashLen) and
 * Derive-Secret(Early Secret, "derived", "") are constants of the hash
 * (8 SHA compressions per handshake side); they are computed once per
 * process and returned when asked for again. Index 0 = SHA-256, 1 = SHA-384. */
static pthread_once_t consts_once = PTHREAD_ONCE_INIT;
static uint8_t early_zero[2][CRYPTO_MAX_HASH];
static uint8_t derived_early[2][CRYPTO_MAX_HASH];
static uint8_t empty_hash[2][CRYPTO_MAX_HASH];
/* HMAC keyed with derived_early: the salt of every handshake's
 * Handshake Secret extract (2 SHA compressions per handshake side). It is
 * as public as the constant it is made from. */
static hmac_key derived_early_key[2];
static bool consts_ok[2];

static int extract(hash_alg h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                   size_t ikm_len, uint8_t *prk);
static int expand_label(hash_alg h, const uint8_t *secret, const char *label,
                        const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len);

static void consts_make(void) {
    static const uint8_t zeros[CRYPTO_MAX_HASH];
    const hash_alg hs[2] = {HASH_SHA256, HASH_SHA384};
    for (int i = 0; i < 2; i++) {
        size_t hl = hash_len(hs[i]);
        consts_ok[i] = extract(hs[i], NULL, 0, zeros, hl, early_zero[i]) == 0 &&
                       hash_oneshot(hs[i], NULL, 0, empty_hash[i]) == 0 &&
                       expand_label(hs[i], early_zero[i], "derived", empty_hash[i], hl,
                                    derived_early[i], hl) == 0 &&
                       hmac_key_init(&derived_early_key[i], hs[i], derived_early[i], hl) == 0;
    }
}

/* Index into the tables, or -1 when h has none or they failed. */
static int consts_index(hash_alg h) {
    int i = h == HASH_SHA256 ? 0 : h == HASH_SHA384 ? 1 : -1;
    if (i < 0 || pthread_once(&consts_once, consts_make) != 0 || !consts_ok[i]) return -1;
    return i;
}

static bool all_zero(const uint8_t *p, size_t len) {
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= p[i];
    return acc == 0;
}

int hkdf_extract(hash_alg h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                 size_t ikm_len, uint8_t *prk) {
    size_t hl = hash_len(h);
    int i;
    if (salt_len == 0 && ikm != NULL && ikm_len == hl && prk != NULL && all_zero(ikm, hl) &&
        (i = consts_index(h)) >= 0) {
        memcpy(prk, early_zero[i], hl);
        return 0;
    }
    if (salt != NULL && salt_len == hl && prk != NULL && (ikm != NULL || ikm_len == 0) &&
        (i = consts_index(h)) >= 0 && crypto_equal_ct(salt, derived_early[i], hl)) {
        const uint8_t *parts[1] = {ikm};
        size_t lens[1] = {ikm_len};
        return hmac_key_mac(&derived_early_key[i], 1, parts, lens, prk);
    }
    return extract(h, salt, salt_len, ikm, ikm_len, prk);
}

static int extract(hash_alg h, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
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
    return expand_label(h, secret, label, context, context_len, out, out_len);
}

static int expand_label(hash_alg h, const uint8_t *secret, const char *label,
                        const uint8_t *context, size_t context_len, uint8_t *out, size_t out_len) {
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
    int i;
    if (secret != NULL && label != NULL && out != NULL && strcmp(label, "derived") == 0 &&
        (i = consts_index(h)) >= 0 && crypto_equal_ct(transcript_hash, empty_hash[i], hl) &&
        crypto_equal_ct(secret, early_zero[i], hl)) {
        memcpy(out, derived_early[i], hl);
        return 0;
    }
    return hkdf_expand_label(h, secret, label, transcript_hash, hl, out, hl);
}
