/* JSON Web Signatures for ACME (RFC 8555 §6.2, RFC 7515): ES256 with the
 * account key (P-256), HS256 for External Account Binding (§7.3.4), the
 * account key as a JWK (RFC 7517/7518) and its thumbprint (RFC 7638), and
 * base64url without padding. The JSON around them is built by the caller
 * (cJSON); only the JWK's canonical form, which the thumbprint hashes, is
 * written here, because its member order and spacing are fixed. */
#ifndef CERTA_TOOLS_ACME_JWS_H
#define CERTA_TOOLS_ACME_JWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

#define JWS_THUMBPRINT_LEN 43 /* base64url of SHA-256, without '=' */
#define JWS_JWK_MAX 256

/* base64url of in into out (NUL-terminated): the length, or -1 if cap is short. */
int b64url_encode(const uint8_t *in, size_t len, char *out, size_t cap);
/* Decodes base64url (no padding, no other characters): the length, or -1. */
int b64url_decode(const char *in, size_t len, uint8_t *out, size_t cap);

/* The public JWK of an EC P-256 or P-384 key, canonical (RFC 7638 §3.2:
 * members crv, kty, x, y in that order, no whitespace). 0 or -1. */
int jws_jwk(const crypto_key *key, char *out, size_t cap);
/* The RFC 7638 thumbprint of a canonical JWK text / of a key. 0 or -1. */
int jws_thumbprint_of_jwk(const char *jwk, char out[JWS_THUMBPRINT_LEN + 1]);
int jws_thumbprint(const crypto_key *key, char out[JWS_THUMBPRINT_LEN + 1]);

/* The flattened JSON serialization {"protected":..,"payload":..,"signature":..}
 * of payload (NULL: "", a POST-as-GET) under protected_json, signed ES256
 * with key (P-256) / HS256 with mac_key. malloc'd text, or NULL. */
char *jws_sign_es256(crypto_key *key, const char *protected_json, const char *payload);
char *jws_sign_hs256(const uint8_t *mac_key, size_t key_len, const char *protected_json,
                     const char *payload);

/* ECDSA signatures as JWS has them (R || S, each n bytes) from DER and
 * back. 0 or -1. */
int jws_ecdsa_der_to_raw(const uint8_t *der, size_t len, uint8_t *raw, size_t n);
int jws_ecdsa_raw_to_der(const uint8_t *raw, size_t n, uint8_t *der, size_t cap, size_t *len);
/* Checks an ES256 signature (raw, 64 bytes) over signing_input under key:
 * 0 valid, -1 not. For tests and for checking what we sign. */
int jws_verify_es256(crypto_key *key, const char *signing_input, const uint8_t sig[64]);

#endif
