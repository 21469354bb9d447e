/* Ephemeral key exchange for TLS NamedGroups: x25519 (0x001d), x448
 * (0x001e), secp256r1/384r1/521r1 (0x0017-0x0019) and the RFC 7919 finite
 * field groups ffdhe2048 to ffdhe8192 (0x0100-0x0104). Peer shares are checked
 * strictly: exact length, uncompressed form, point on the curve; an all-zero
 * x25519/x448 result is refused (RFC 8446 §7.4.2); an FFDHE share must be
 * 1 < Y < p-1 (RFC 8446 §4.2.8.1) and its secret keeps its leading zeros
 * (§7.4.1).
 *
 * Cost notes (OpenSSL 3.0): creating an EVP_PKEY_CTX by name or from a key
 * fetches the key manager from the provider store (~15k instructions), so
 * each thread keeps one prepared keygen context per group (reused with
 * EVP_PKEY_keygen, as libcrypto allows); a peer share is imported the way
 * libssl does it, by copying our key's parameters (for EC the already built
 * curve group, instead of EC_GROUP_new_by_curve_name per import) and setting
 * the encoded point. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/err.h>

#include "crypto/internal.h"
#include "pq/mlkem.h"

#define GROUP_SECP256R1 0x0017
#define GROUP_SECP384R1 0x0018
#define GROUP_SECP521R1 0x0019
#define GROUP_X25519 0x001d
#define GROUP_X448 0x001e
#define GROUP_FFDHE2048 0x0100
#define GROUP_FFDHE3072 0x0101
#define GROUP_FFDHE4096 0x0102
#define GROUP_FFDHE6144 0x0103
#define GROUP_FFDHE8192 0x0104
#define GROUP_SECP256R1MLKEM768 0x11eb
#define GROUP_X25519MLKEM768 0x11ec
#define GROUP_SECP384R1MLKEM1024 0x11ed

typedef enum group_kind {
    KIND_ECX,   /* X25519 / X448, named by keytype, raw public keys */
    KIND_EC,    /* NIST curve, uncompressed point */
    KIND_FFDHE, /* RFC 7919 group, Y padded to the size of p */
    KIND_HYBRID /* ML-KEM with an (EC)DH group (draft-ietf-tls-ecdhe-mlkem) */
} group_kind;

typedef struct group_info {
    uint16_t id;
    group_kind kind;
    const char *keytype; /* "X25519", "X448", "EC" or "DH" (hybrid: its ECDH part's) */
    const char *name;    /* the curve or FFDHE group name libcrypto knows */
    size_t pub_len;      /* hybrid: of the ECDH part */
    size_t secret_len;   /* hybrid: of the ECDH part */
    /* hybrid only */
    uint16_t ecdh;  /* the ECDH group */
    mlkem_kind kem; /* the ML-KEM parameter set */
    bool kem_first; /* X25519MLKEM768 puts ML-KEM first in shares and secret */
} group_info;

static const group_info groups[] = {
    {GROUP_X25519, KIND_ECX, "X25519", "X25519", 32, 32, 0, MLKEM768, false},
    {GROUP_SECP256R1, KIND_EC, "EC", "P-256", 65, 32, 0, MLKEM768, false},
    {GROUP_SECP384R1, KIND_EC, "EC", "P-384", 97, 48, 0, MLKEM768, false},
    /* P-521: coordinates are 66 bytes; the shared x-coordinate too (RFC 8446 7.4.2). */
    {GROUP_SECP521R1, KIND_EC, "EC", "P-521", 133, 66, 0, MLKEM768, false},
    {GROUP_X448, KIND_ECX, "X448", "X448", 56, 56, 0, MLKEM768, false},
    /* FFDHE: share and secret are both the size of p (RFC 8446 4.2.8.1, 7.4.1). */
    {GROUP_FFDHE2048, KIND_FFDHE, "DH", "ffdhe2048", 256, 256, 0, MLKEM768, false},
    {GROUP_FFDHE3072, KIND_FFDHE, "DH", "ffdhe3072", 384, 384, 0, MLKEM768, false},
    {GROUP_FFDHE4096, KIND_FFDHE, "DH", "ffdhe4096", 512, 512, 0, MLKEM768, false},
    {GROUP_FFDHE6144, KIND_FFDHE, "DH", "ffdhe6144", 768, 768, 0, MLKEM768, false},
    {GROUP_FFDHE8192, KIND_FFDHE, "DH", "ffdhe8192", 1024, 1024, 0, MLKEM768, false},
    /* Hybrids: shares and secret are the concatenation of the two parts, the
     * ECDH part first except in X25519MLKEM768 (draft-ietf-tls-ecdhe-mlkem 3). */
    {GROUP_X25519MLKEM768, KIND_HYBRID, "X25519", "X25519", 32, 32, GROUP_X25519, MLKEM768, true},
    {GROUP_SECP256R1MLKEM768, KIND_HYBRID, "EC", "P-256", 65, 32, GROUP_SECP256R1, MLKEM768, false},
    {GROUP_SECP384R1MLKEM1024, KIND_HYBRID, "EC", "P-384", 97, 48, GROUP_SECP384R1, MLKEM1024,
     false},
};

static const group_info *group_find(uint16_t id) {
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (groups[i].id == id) return &groups[i];
    return NULL;
}

bool kex_group_supported(uint16_t group) {
    return group_find(group) != NULL;
}

bool kex_group_is_ffdhe(uint16_t group) {
    const group_info *g = group_find(group);
    return g != NULL && g->kind == KIND_FFDHE;
}

bool kex_group_is_hybrid(uint16_t group) {
    const group_info *g = group_find(group);
    return g != NULL && g->kind == KIND_HYBRID;
}

bool kex_group_tls13_only(uint16_t group) {
    const group_info *g = group_find(group);
    return g != NULL && (g->kind == KIND_FFDHE || g->kind == KIND_HYBRID);
}

/* ---- per-thread prepared keygen contexts ----
 * An EVP_PKEY_CTX is not safe to share between threads, so each thread gets
 * its own, created on first use and freed when the thread exits (the
 * pthread key destructor); the main thread's stay until process exit. */
#define NGROUPS (sizeof groups / sizeof groups[0])
typedef struct kex_thread {
    EVP_PKEY_CTX *keygen[NGROUPS];
    EVP_PKEY *peer[NGROUPS]; /* public key object reused for peer shares */
} kex_thread;

static pthread_once_t kex_once = PTHREAD_ONCE_INIT;
static pthread_key_t kex_key;
static bool kex_key_ok;
static _Thread_local kex_thread *kex_tls;

static void kex_thread_free(void *p) {
    kex_thread *t = p;
    for (size_t i = 0; i < NGROUPS; i++) {
        EVP_PKEY_CTX_free(t->keygen[i]);
        EVP_PKEY_free(t->peer[i]);
    }
    free(t);
    kex_tls = NULL;
}

static void kex_once_init(void) {
    kex_key_ok = pthread_key_create(&kex_key, kex_thread_free) == 0;
}

static EVP_PKEY_CTX *keygen_new(const group_info *g) {
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, g->keytype, NULL);
    if (pctx == NULL || EVP_PKEY_keygen_init(pctx) != 1 ||
        (g->kind != KIND_ECX && EVP_PKEY_CTX_set_group_name(pctx, g->name) != 1)) {
        EVP_PKEY_CTX_free(pctx);
        return NULL;
    }
    return pctx;
}

/* This thread's cache, or NULL if it cannot be had (then callers fall back
 * to per-call objects). */
static kex_thread *kex_thread_get(void) {
    kex_thread *t = kex_tls;
    if (t != NULL) return t;
    if (pthread_once(&kex_once, kex_once_init) != 0 || !kex_key_ok) return NULL;
    t = calloc(1, sizeof *t);
    if (t == NULL) return NULL;
    if (pthread_setspecific(kex_key, t) != 0) {
        free(t);
        return NULL;
    }
    kex_tls = t;
    return t;
}

/* This thread's keygen context for g, or NULL (then the caller makes one). */
static EVP_PKEY_CTX *keygen_cached(const group_info *g) {
    kex_thread *t = kex_thread_get();
    if (t == NULL) return NULL;
    size_t i = (size_t)(g - groups);
    if (t->keygen[i] == NULL) t->keygen[i] = keygen_new(g);
    return t->keygen[i];
}

/* A failed keygen may leave the context in any state: drop it. */
static void keygen_discard(const group_info *g, EVP_PKEY_CTX *pctx) {
    kex_thread *t = kex_tls;
    size_t i = (size_t)(g - groups);
    if (t != NULL && t->keygen[i] == pctx) t->keygen[i] = NULL;
    EVP_PKEY_CTX_free(pctx);
}

/* An (EC)DH key pair of group g; its public encoding in pub. */
static int dh_generate(const group_info *g, EVP_PKEY **priv, uint8_t *pub, size_t *pub_len) {
    *priv = NULL;
    EVP_PKEY *key = NULL;
#ifdef CERTA_FUZZ
    /* Fuzz builds: the x25519 key comes straight from the deterministic
     * crypto_random stream; EC keys come from libcrypto's keygen, whose RAND
     * is that same stream in fuzz builds (rand.c), so both reproduce. */
    if (g->id == GROUP_X25519) {
        uint8_t raw[32];
        if (crypto_random(raw, sizeof raw) != 0) goto fail;
        key = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, raw, sizeof raw);
        crypto_zero(raw, sizeof raw);
        if (key == NULL) goto fail;
    }
#endif
    if (key == NULL) {
        EVP_PKEY_CTX *pctx = keygen_cached(g);
        if (pctx != NULL) {
            if (EVP_PKEY_keygen(pctx, &key) != 1) {
                keygen_discard(g, pctx);
                key = NULL;
                goto fail;
            }
        } else {
            pctx = keygen_new(g);
            int ok = pctx != NULL && EVP_PKEY_keygen(pctx, &key) == 1;
            EVP_PKEY_CTX_free(pctx);
            if (!ok) {
                key = NULL;
                goto fail;
            }
        }
    }

    size_t n = 0;
    if (g->kind != KIND_ECX) {
        /* EC public keys encode uncompressed unless told otherwise; DH ones
         * as Y left-padded with zeros to the size of p. */
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                            CRYPTO_MAX_PUBKEY, &n) != 1)
            goto fail;
        if (n != g->pub_len || (g->kind == KIND_EC && pub[0] != 0x04)) goto fail;
    } else {
        n = g->pub_len;
        if (EVP_PKEY_get_raw_public_key(key, pub, &n) != 1 || n != g->pub_len) goto fail;
    }
    *priv = key;
    *pub_len = n;
    return 0;
fail:
    EVP_PKEY_free(key);
    ERR_clear_error();
    return -1;
}

/* (The public kex_x25519_from_raw is with the kex_state functions below.) */

/* RFC 8446 4.2.8.1: 1 < Y < p-1, so Y is neither 0, 1 nor p-1 (the values
 * that confine the secret to {1, p-1}) nor out of the field. The RFC 7919
 * primes are safe primes, so every other Y has order q or 2q and no
 * subgroup check is needed. Y is public: a variable-time compare is fine. */
static bool ffdhe_share_in_range(EVP_PKEY *priv, const uint8_t *y, size_t len) {
    BIGNUM *p = NULL, *yv = BN_bin2bn(y, (int)len, NULL);
    bool ok = false;
    if (yv != NULL && EVP_PKEY_get_bn_param(priv, OSSL_PKEY_PARAM_FFC_P, &p) == 1 &&
        BN_sub_word(p, 1) == 1)
        ok = BN_cmp(yv, BN_value_one()) > 0 && BN_cmp(yv, p) < 0;
    BN_free(yv);
    BN_free(p);
    return ok;
}

/* The peer's share as an EVP_PKEY with our key's parameters (a new
 * reference: the caller frees it), or NULL if it is malformed or invalid.
 * For the NIST curves, setting the encoded point (EC_POINT_oct2point)
 * refuses coordinates outside the field and points not on the curve; the
 * exact uncompressed length rules out the point at infinity; P-256 and
 * P-384 have cofactor 1, so every such point has the group order: that is
 * the full public-key validation of SP 800-56A §5.6.2.3.3 that a separate
 * EVP_PKEY_public_check would repeat.
 *
 * Each thread keeps one public-key object per group and only replaces its
 * point (a peer share is public; the object holds nothing else), as
 * EVP_PKEY_new + EVP_PKEY_copy_parameters cost ~15k instructions. It is
 * referenced only while kex_derive runs. */
static EVP_PKEY *peer_key(const group_info *g, EVP_PKEY *priv, const uint8_t *peer,
                          size_t peer_len) {
    if (peer == NULL || peer_len != g->pub_len) return NULL;
    if (g->kind == KIND_EC && peer[0] != 0x04) return NULL; /* TLS 1.3: uncompressed only */
    if (g->kind == KIND_FFDHE && !ffdhe_share_in_range(priv, peer, peer_len)) return NULL;
    kex_thread *t = kex_thread_get();
    size_t i = (size_t)(g - groups);
    if (t != NULL && t->peer[i] != NULL) {
        if (EVP_PKEY_set1_encoded_public_key(t->peer[i], peer, peer_len) != 1) {
            /* Refused; drop the object rather than trust its state. */
            EVP_PKEY_free(t->peer[i]);
            t->peer[i] = NULL;
            return NULL;
        }
        if (EVP_PKEY_up_ref(t->peer[i]) != 1) return NULL;
        return t->peer[i];
    }
    EVP_PKEY *key = EVP_PKEY_new();
    if (key == NULL || EVP_PKEY_copy_parameters(key, priv) != 1 ||
        EVP_PKEY_set1_encoded_public_key(key, peer, peer_len) != 1) {
        EVP_PKEY_free(key);
        return NULL;
    }
    if (t != NULL && EVP_PKEY_up_ref(key) == 1) t->peer[i] = key;
    return key;
}

/* The (EC)DH secret of our key priv and the peer's share. */
static int dh_derive(const group_info *g, EVP_PKEY *priv, const uint8_t *peer, size_t peer_len,
                     uint8_t *secret, size_t *secret_len) {
    if (!EVP_PKEY_is_a(priv, g->keytype)) return -1;

    uint8_t buf[CRYPTO_MAX_PUBKEY];
    size_t n = sizeof buf;
    int rc = -1;
    EVP_PKEY_CTX *pctx = NULL;
    EVP_PKEY *pk = peer_key(g, priv, peer, peer_len);
    if (pk == NULL) goto out;
    pctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    /* validate_peer = 0: peer_key() has validated the point (for x25519
     * libcrypto's check only asks whether a public key is present). DH
     * keeps the secret's leading zeros only when asked (RFC 8446 7.4.1). */
    if (pctx == NULL || EVP_PKEY_derive_init(pctx) != 1 ||
        (g->kind == KIND_FFDHE && EVP_PKEY_CTX_set_dh_pad(pctx, 1) != 1) ||
        EVP_PKEY_derive_set_peer_ex(pctx, pk, 0) != 1 || EVP_PKEY_derive(pctx, buf, &n) != 1 ||
        n != g->secret_len)
        goto out;
    if (g->kind == KIND_ECX) {
        /* A low-order peer point gives all zeros; libcrypto refuses it too. */
        static const uint8_t zeros[56];
        if (crypto_equal_ct(buf, zeros, n)) goto out;
    }
    memcpy(secret, buf, n);
    *secret_len = n;
    rc = 0;
out:
    crypto_zero(buf, sizeof buf);
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_free(pk);
    ERR_clear_error();
    return rc;
}

/* ---- the key exchange state and the public operations ---- */

struct kex_state {
    uint16_t group;
    EVP_PKEY *dh;        /* our (EC)DH private key (a hybrid's ECDH part) */
    mlkem_dkey *kem_key; /* a hybrid client's prepared ML-KEM decapsulation key (heap,
                          * zeroized): keygen's A-hat, s-hat and t-hat, kept for decaps */
};

/* A hybrid's ECDH group entry (keygen contexts and peer objects are shared
 * with the plain group). */
static const group_info *ecdh_part(const group_info *g) {
    return g->kind == KIND_HYBRID ? group_find(g->ecdh) : g;
}

/* The hybrid share sizes: ours as a client (ek), the server's (ct). */
static size_t hybrid_client_share_len(const group_info *g) {
    return mlkem_ek_bytes(g->kem) + g->pub_len;
}
static size_t hybrid_server_share_len(const group_info *g) {
    return mlkem_ct_bytes(g->kem) + g->pub_len;
}

/* The hybrid secret: the two halves' secrets in the group's order. */
static void hybrid_secret(const group_info *g, const uint8_t ss[MLKEM_SS_BYTES], const uint8_t *dh,
                          size_t dh_len, uint8_t *secret, size_t *secret_len) {
    const uint8_t *first = g->kem_first ? ss : dh, *second = g->kem_first ? dh : ss;
    size_t first_len = g->kem_first ? MLKEM_SS_BYTES : dh_len;
    memcpy(secret, first, first_len);
    memcpy(secret + first_len, second, MLKEM_SS_BYTES + dh_len - first_len);
    *secret_len = MLKEM_SS_BYTES + dh_len;
}

/* Client: ML-KEM keygen from a fresh 64-byte seed, and the ECDH key. */
static int hybrid_generate(const group_info *g, kex_state *k, uint8_t *pub, size_t *pub_len) {
    size_t ek_len = mlkem_ek_bytes(g->kem);
    if (hybrid_client_share_len(g) > CRYPTO_MAX_PUBKEY) return -1;
    k->kem_key = malloc(mlkem_dkey_bytes(g->kem));
    if (k->kem_key == NULL) return -1;
    uint8_t seed[MLKEM_SEED_BYTES], ecdh_pub[CRYPTO_MAX_ECDH_PUBKEY];
    size_t ecdh_len = 0;
    int r = crypto_random(seed, sizeof seed);
    uint8_t *ek = g->kem_first ? pub : pub + g->pub_len;
    if (r == 0) mlkem_keygen_prepared(g->kem, seed, ek, k->kem_key);
    crypto_zero(seed, sizeof seed);
    if (r == 0) r = dh_generate(ecdh_part(g), &k->dh, ecdh_pub, &ecdh_len);
    if (r != 0 || ecdh_len != g->pub_len) return -1;
    memcpy(g->kem_first ? pub + ek_len : pub, ecdh_pub, ecdh_len);
    *pub_len = hybrid_client_share_len(g);
    return 0;
}

/* Client: the server's ct ‖ ECDH share (or ECDH ‖ ct) into the secret. */
static int hybrid_derive(const group_info *g, kex_state *k, const uint8_t *peer, size_t peer_len,
                         uint8_t *secret, size_t *secret_len) {
    size_t ct_len = mlkem_ct_bytes(g->kem);
    if (peer == NULL || peer_len != hybrid_server_share_len(g) || k->kem_key == NULL) return -1;
    const uint8_t *ct = g->kem_first ? peer : peer + g->pub_len;
    const uint8_t *ecdh = g->kem_first ? peer + ct_len : peer;
    uint8_t ss[MLKEM_SS_BYTES], dh[CRYPTO_MAX_ECDH_SECRET];
    size_t dh_len = 0;
    int r = mlkem_decaps_prepared(k->kem_key, ct, ss);
    if (r == 0) r = dh_derive(ecdh_part(g), k->dh, ecdh, g->pub_len, dh, &dh_len);
    if (r == 0) {
        hybrid_secret(g, ss, dh, dh_len, secret, secret_len);
    }
    crypto_zero(ss, sizeof ss);
    crypto_zero(dh, sizeof dh);
    return r;
}

/* Server: encapsulate to the client's ek (refused if it fails FIPS 203's
 * modulus check), answer its ECDH share with our own. */
static int hybrid_respond(const group_info *g, const uint8_t *peer, size_t peer_len, uint8_t *pub,
                          size_t *pub_len, uint8_t *secret, size_t *secret_len) {
    size_t ek_len = mlkem_ek_bytes(g->kem), ct_len = mlkem_ct_bytes(g->kem);
    if (peer == NULL || peer_len != hybrid_client_share_len(g)) return KEX_BAD_PEER;
    if (hybrid_server_share_len(g) > CRYPTO_MAX_PUBKEY) return KEX_FAILED;
    const uint8_t *ek = g->kem_first ? peer : peer + g->pub_len;
    const uint8_t *peer_ecdh = g->kem_first ? peer + ek_len : peer;
    uint8_t m[32], ss[MLKEM_SS_BYTES], dh[CRYPTO_MAX_ECDH_SECRET], ecdh_pub[CRYPTO_MAX_ECDH_PUBKEY];
    size_t dh_len = 0, ecdh_len = 0;
    EVP_PKEY *ours = NULL;
    int r = crypto_random(m, sizeof m) == 0 ? 0 : KEX_FAILED;
    uint8_t *ct = g->kem_first ? pub : pub + g->pub_len;
    if (r == 0 && mlkem_encaps(g->kem, ek, m, ct, ss) != 0) r = KEX_BAD_PEER;
    if (r == 0 &&
        (dh_generate(ecdh_part(g), &ours, ecdh_pub, &ecdh_len) != 0 || ecdh_len != g->pub_len))
        r = KEX_FAILED;
    if (r == 0 && dh_derive(ecdh_part(g), ours, peer_ecdh, g->pub_len, dh, &dh_len) != 0)
        r = KEX_BAD_PEER;
    if (r == 0) {
        memcpy(g->kem_first ? pub + ct_len : pub, ecdh_pub, ecdh_len);
        *pub_len = hybrid_server_share_len(g);
        hybrid_secret(g, ss, dh, dh_len, secret, secret_len);
    }
    EVP_PKEY_free(ours);
    crypto_zero(m, sizeof m);
    crypto_zero(ss, sizeof ss);
    crypto_zero(dh, sizeof dh);
    return r;
}

int kex_generate(uint16_t group, kex_state **st, uint8_t *pub, size_t *pub_len) {
    const group_info *g = group_find(group);
    if (st == NULL) return -1;
    *st = NULL;
    if (g == NULL || pub == NULL || pub_len == NULL) return -1;
    kex_state *k = calloc(1, sizeof *k);
    if (k == NULL) return -1;
    k->group = group;
    int r = g->kind == KIND_HYBRID ? hybrid_generate(g, k, pub, pub_len)
                                   : dh_generate(g, &k->dh, pub, pub_len);
    if (r != 0) {
        kex_free(k);
        return -1;
    }
    *st = k;
    return 0;
}

int kex_generate_beside(uint16_t group, const kex_state *hybrid, kex_state **st, uint8_t *pub,
                        size_t *pub_len) {
    const group_info *h = hybrid ? group_find(hybrid->group) : NULL;
    const group_info *g = group_find(group);
    if (h == NULL || h->kind != KIND_HYBRID || h->ecdh != group || g == NULL ||
        hybrid->dh == NULL || st == NULL || pub == NULL || pub_len == NULL)
        return kex_generate(group, st, pub, pub_len);
    /* The same ephemeral key, shared by reference: whichever share the
     * server takes, the exchange is the one it would be had we sent that
     * share alone, and a second keygen (a third of a hybrid's client cost)
     * is saved. */
    *st = NULL;
    size_t n = 0;
    bool raw = g->kind == KIND_ECX;
    if (raw ? EVP_PKEY_get_raw_public_key(hybrid->dh, pub, &(size_t){g->pub_len}) != 1
            : EVP_PKEY_get_octet_string_param(hybrid->dh, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub,
                                              CRYPTO_MAX_PUBKEY, &n) != 1 ||
                  n != g->pub_len)
        return kex_generate(group, st, pub, pub_len);
    kex_state *k = calloc(1, sizeof *k);
    if (k == NULL || EVP_PKEY_up_ref(hybrid->dh) != 1) {
        free(k);
        return -1;
    }
    k->group = group;
    k->dh = hybrid->dh;
    *st = k;
    *pub_len = g->pub_len;
    return 0;
}

int kex_derive(uint16_t group, kex_state *st, const uint8_t *peer, size_t peer_len, uint8_t *secret,
               size_t *secret_len) {
    const group_info *g = group_find(group);
    if (g == NULL || st == NULL || st->group != group || st->dh == NULL || secret == NULL ||
        secret_len == NULL)
        return -1;
    if (g->kind == KIND_HYBRID) return hybrid_derive(g, st, peer, peer_len, secret, secret_len);
    return dh_derive(g, st->dh, peer, peer_len, secret, secret_len);
}

int kex_respond(uint16_t group, const uint8_t *peer, size_t peer_len, uint8_t *pub, size_t *pub_len,
                uint8_t *secret, size_t *secret_len) {
    const group_info *g = group_find(group);
    if (g == NULL || pub == NULL || pub_len == NULL || secret == NULL || secret_len == NULL)
        return KEX_FAILED;
    if (g->kind == KIND_HYBRID)
        return hybrid_respond(g, peer, peer_len, pub, pub_len, secret, secret_len);
    kex_state *st = NULL;
    int r = kex_generate(group, &st, pub, pub_len) == 0 ? 0 : KEX_FAILED;
    if (r == 0 && kex_derive(group, st, peer, peer_len, secret, secret_len) != 0) r = KEX_BAD_PEER;
    kex_free(st);
    return r;
}

void kex_free(kex_state *st) {
    if (st == NULL) return;
    EVP_PKEY_free(st->dh);
    if (st->kem_key) {
        crypto_zero(st->kem_key, mlkem_dkey_bytes(st->kem_key->kind));
        free(st->kem_key);
    }
    free(st);
}

crypto_key *kex_state_dh_key(const kex_state *st) {
    return st ? st->dh : NULL;
}

const mlkem_dkey *kex_state_kem_key(const kex_state *st) {
    return st ? st->kem_key : NULL;
}

int kex_x25519_from_raw(const uint8_t priv[32], kex_state **out) {
    if (priv == NULL || out == NULL) return -1;
    *out = calloc(1, sizeof **out);
    if (*out == NULL) return -1;
    (*out)->group = GROUP_X25519;
    (*out)->dh = EVP_PKEY_new_raw_private_key_ex(NULL, "X25519", NULL, priv, 32);
    if ((*out)->dh == NULL) {
        ERR_clear_error();
        kex_free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
