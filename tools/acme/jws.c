/* JWS ES256 / HS256, JWK and its thumbprint (see jws.h). */
#include "acme/jws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ca_crypto.h"
#include "wire/cursor.h"
#include "wire/der.h"
#include "wire/der_build.h"

#define SCHEME_ECDSA_P256_SHA256 0x0403

int b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap) {
    size_t need = (len + 2) / 3 * 4 + 1;
    char *tmp = malloc(need);
    if (!tmp) return -1;
    int n = base64_encode(in, len, tmp, need);
    int o = 0;
    for (int i = 0; n > 0 && i < n && tmp[i] != '='; i++) {
        if ((size_t)o + 1 >= cap) {
            free(tmp);
            return -1;
        }
        out[o++] = tmp[i] == '+' ? '-' : tmp[i] == '/' ? '_' : tmp[i];
    }
    free(tmp);
    if (n < 0 || cap == 0) return -1;
    out[o] = 0;
    return o;
}

int b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap) {
    if (len % 4 == 1) return -1;
    size_t padded = (len + 3) / 4 * 4;
    char *tmp = malloc(padded + 1);
    if (!tmp) return -1;
    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        if (ch == '-')
            ch = '+';
        else if (ch == '_')
            ch = '/';
        else if (ch == '+' || ch == '/' || ch == '=')
            ch = '!'; /* not base64url: let the decoder refuse it */
        tmp[i] = ch;
    }
    for (size_t i = len; i < padded; i++)
        tmp[i] = '=';
    int n = base64_decode(tmp, padded, out, cap);
    crypto_zero(tmp, padded); /* it may be a secret: the EAB MAC key */
    free(tmp);
    return n;
}

/* The EC point's coordinates from the key's SubjectPublicKeyInfo. */
static int ec_point(const crypto_key *key, uint8_t *x, uint8_t *y, size_t *n) {
    uint8_t *spki;
    size_t spki_len;
    if (key_spki_der(key, &spki, &spki_len) != 0) return -1;
    cursor c, seq, alg, bits;
    cur_init(&c, spki, spki_len);
    int r = -1;
    if (der_get(&c, DER_SEQUENCE, &seq) && der_get(&seq, DER_SEQUENCE, &alg) &&
        der_get_bitstring_bytes(&seq, &bits)) {
        uint8_t form;
        size_t coord = (bits.len - 1) / 2;
        if ((bits.len == 65 || bits.len == 97) && cur_u8(&bits, &form) && form == 4 &&
            cur_copy(&bits, x, coord) && cur_copy(&bits, y, coord)) {
            *n = coord;
            r = 0;
        }
    }
    free(spki);
    return r;
}

int jws_jwk(const crypto_key *key, char *out, size_t cap) {
    uint8_t x[48], y[48];
    size_t n;
    char xs[72], ys[72];
    if (ec_point(key, x, y, &n) != 0 || b64url_encode(x, n, xs, sizeof xs) < 0 ||
        b64url_encode(y, n, ys, sizeof ys) < 0)
        return -1;
    int w = snprintf(out, cap, "{\"crv\":\"%s\",\"kty\":\"EC\",\"x\":\"%s\",\"y\":\"%s\"}",
                     n == 32 ? "P-256" : "P-384", xs, ys);
    return w > 0 && (size_t)w < cap ? 0 : -1;
}

int jws_thumbprint_of_jwk(const char *jwk, char out[JWS_THUMBPRINT_LEN + 1]) {
    uint8_t h[32];
    if (hash_oneshot(HASH_SHA256, (const uint8_t *)jwk, strlen(jwk), h) != 0) return -1;
    return b64url_encode(h, sizeof h, out, JWS_THUMBPRINT_LEN + 1) == JWS_THUMBPRINT_LEN ? 0 : -1;
}

int jws_thumbprint(const crypto_key *key, char out[JWS_THUMBPRINT_LEN + 1]) {
    char jwk[JWS_JWK_MAX];
    return jws_jwk(key, jwk, sizeof jwk) == 0 ? jws_thumbprint_of_jwk(jwk, out) : -1;
}

int jws_ecdsa_der_to_raw(const uint8_t *der, size_t len, uint8_t *raw, size_t n) {
    cursor c, seq, v[2];
    cur_init(&c, der, len);
    if (!der_get(&c, DER_SEQUENCE, &seq) || !cur_empty(&c) || !der_get(&seq, DER_INTEGER, &v[0]) ||
        !der_get(&seq, DER_INTEGER, &v[1]) || !cur_empty(&seq))
        return -1;
    for (int i = 0; i < 2; i++) {
        uint8_t b;
        while (v[i].len > n && cur_peek_u8(&v[i], &b) && b == 0)
            cur_u8(&v[i], &b);
        if (v[i].len > n) return -1;
        memset(raw + i * n, 0, n - v[i].len);
        memcpy(raw + i * n + (n - v[i].len), v[i].data, v[i].len);
    }
    return 0;
}

int jws_ecdsa_raw_to_der(const uint8_t *raw, size_t n, uint8_t *der, size_t cap, size_t *len) {
    builder b;
    bld_init_fixed(&b, der, cap);
    der_open(&b, DER_SEQUENCE);
    der_put_integer(&b, raw, n);
    der_put_integer(&b, raw + n, n);
    der_close(&b);
    if (!bld_ok(&b)) return -1;
    *len = b.len;
    return 0;
}

/* "B64(protected).B64(payload)" (malloc'd) and, later, the JSON around it. */
static char *signing_input(const char *protected_json, const char *payload, size_t *dot) {
    size_t pl = strlen(protected_json), yl = payload ? strlen(payload) : 0;
    size_t cap = (pl + 2) / 3 * 4 + (yl + 2) / 3 * 4 + 4;
    char *s = malloc(cap);
    if (!s) return NULL;
    int a = b64url_encode((const uint8_t *)protected_json, pl, s, cap);
    if (a < 0) goto fail;
    s[a] = '.';
    int b = b64url_encode((const uint8_t *)(payload ? payload : ""), yl, s + a + 1, cap - a - 1);
    if (b < 0) goto fail;
    *dot = (size_t)a;
    return s;
fail:
    free(s);
    return NULL;
}

static char *flattened(const char *input, size_t dot, const uint8_t *sig, size_t sig_len) {
    char sigs[200];
    if (b64url_encode(sig, sig_len, sigs, sizeof sigs) < 0) return NULL;
    size_t cap = strlen(input) + strlen(sigs) + 64;
    char *out = malloc(cap);
    if (!out) return NULL;
    snprintf(out, cap, "{\"protected\":\"%.*s\",\"payload\":\"%s\",\"signature\":\"%s\"}", (int)dot,
             input, input + dot + 1, sigs);
    return out;
}

char *jws_sign_es256(crypto_key *key, const char *protected_json, const char *payload) {
    size_t dot;
    char *input = signing_input(protected_json, payload, &dot);
    if (!input) return NULL;
    uint8_t der[CRYPTO_MAX_SIG], raw[64];
    size_t der_len = sizeof der;
    char *out = NULL;
    if (sig_sign(SCHEME_ECDSA_P256_SHA256, key, (const uint8_t *)input, strlen(input), der,
                 &der_len) == 0 &&
        jws_ecdsa_der_to_raw(der, der_len, raw, 32) == 0)
        out = flattened(input, dot, raw, sizeof raw);
    free(input);
    return out;
}

char *jws_sign_hs256(const uint8_t *mac_key, size_t key_len, const char *protected_json,
                     const char *payload) {
    size_t dot;
    char *input = signing_input(protected_json, payload, &dot);
    if (!input) return NULL;
    uint8_t mac[32];
    char *out = NULL;
    if (hmac(HASH_SHA256, mac_key, key_len, (const uint8_t *)input, strlen(input), mac) == 0)
        out = flattened(input, dot, mac, sizeof mac);
    crypto_zero(mac, sizeof mac);
    free(input);
    return out;
}

int jws_verify_es256(crypto_key *key, const char *input, const uint8_t sig[64]) {
    uint8_t der[80];
    size_t len;
    if (jws_ecdsa_raw_to_der(sig, 32, der, sizeof der, &len) != 0) return -1;
    return sig_verify(SCHEME_ECDSA_P256_SHA256, key, (const uint8_t *)input, strlen(input), der,
                      len) == 0
               ? 0
               : -1;
}
