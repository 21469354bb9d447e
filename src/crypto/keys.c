/* Loading, matching and describing keys. */
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "crypto/internal.h"
#include "wire/der.h"

/* Encrypted keys are not supported: refuse rather than prompt on a tty. */
static int no_password(char *buf, int size, int rwflag, void *u) {
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

crypto_key *key_from_pem(const char *pem, size_t len) {
    if (pem == NULL || len == 0 || len > INT_MAX) return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    if (bio == NULL) {
        ERR_clear_error();
        return NULL;
    }
    /* Takes the first PRIVATE KEY / RSA PRIVATE KEY / EC PRIVATE KEY block,
     * skipping any others (certificates, EC PARAMETERS). */
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    ERR_clear_error();
    return key;
}

/* ---- per-key extras (internal.h) ----
 * One ex_data slot per EVP_PKEY holds a key_extra. Keys may be shared
 * between threads (configurations), so the slot and the fields that are
 * filled in lazily are read and written under extra_lock; what the lock
 * guards is cheap (the costly objects are made outside it). */
#define SIGN_PROTOS 4

typedef struct key_extra {
    key_info info;
    bool info_known;
    bool pooled;             /* EC public key from key_from_spki: key_free recycles it */
    bool on_token;           /* PKCS#11 engine key (token_keys.c): no duplicates */
    EVP_PKEY_CTX *verify;    /* pooled keys: verify context on the key itself */
    atomic_bool verify_busy; /* a thread is using (or making) verify */
    struct {
        uint16_t scheme;
        EVP_PKEY_CTX *ctx; /* on a duplicate of the key, never used directly */
    } sign[SIGN_PROTOS];
} key_extra;

static pthread_once_t extra_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t extra_lock = PTHREAD_MUTEX_INITIALIZER;
static int extra_index = -1;

static void extra_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                       void *argp) {
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    key_extra *x = ptr;
    if (x == NULL) return;
    /* x->verify references the key, so it was freed before the key could
     * go (key_destroy); the sign prototypes hold their own duplicates. */
    for (size_t i = 0; i < SIGN_PROTOS; i++)
        EVP_PKEY_CTX_free(x->sign[i].ctx);
    free(x);
}

/* EVP_PKEY_dup copies ex_data pointers; a duplicate starts without extras. */
static int extra_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from, void **from_d, int idx,
                     long argl, void *argp) {
    (void)to;
    (void)from;
    (void)idx;
    (void)argl;
    (void)argp;
    *from_d = NULL;
    return 1;
}

static void extra_init(void) {
    extra_index = EVP_PKEY_get_ex_new_index(0, NULL, NULL, extra_dup, extra_free);
}

static bool extra_ready(void) {
    return pthread_once(&extra_once, extra_init) == 0 && extra_index >= 0;
}

/* Under extra_lock: the key's extras, created if create and missing. */
static key_extra *extra_get_locked(const EVP_PKEY *key, bool create) {
    key_extra *x = EVP_PKEY_get_ex_data(key, extra_index);
    if (x != NULL || !create) return x;
    x = calloc(1, sizeof *x);
    if (x == NULL) return NULL;
    /* ex_data is bookkeeping next to the key material, not the key. */
    if (EVP_PKEY_set_ex_data((EVP_PKEY *)key, extra_index, x) != 1) {
        free(x);
        ERR_clear_error();
        return NULL;
    }
    return x;
}

static const char *const ec_curves[] = {"P-256", "P-384", "P-521"};
#define EC_CURVES (sizeof ec_curves / sizeof ec_curves[0])

/* An RSA-PSS key's restrictions: the parameters of its SubjectPublicKeyInfo
 * (absent = none). libcrypto keeps them inside the key; its encoding of
 * the public key is the one place they can be read without provider
 * specifics. */
static void pss_restrictions(const EVP_PKEY *key, key_info *out) {
    unsigned char *der = NULL;
    int n = i2d_PUBKEY((EVP_PKEY *)key, &der);
    cursor all, spki, alg, oid;
    out->pss_bad = true;
    if (n > 0) {
        cur_init(&all, der, (size_t)n);
        if (der_get(&all, DER_SEQUENCE, &spki) && der_get(&spki, DER_SEQUENCE, &alg) &&
            der_get(&alg, DER_OID, &oid)) {
            out->pss_restricted = !cur_empty(&alg);
            out->pss_bad = out->pss_restricted && pss_params_parse(alg, &out->pss) != 0;
        }
    }
    OPENSSL_free(der);
}

static void info_compute(const EVP_PKEY *key, key_info *out) {
    static const struct {
        const char *name;
        key_type type;
    } types[] = {{"EC", KEY_EC},           {"RSA", KEY_RSA},     {"RSA-PSS", KEY_RSA_PSS},
                 {"ED25519", KEY_ED25519}, {"ED448", KEY_ED448}, {"X25519", KEY_X25519}};
    *out = (key_info){.type = KEY_OTHER, .bits = EVP_PKEY_get_bits(key)};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (EVP_PKEY_is_a(key, types[i].name)) {
            out->type = types[i].type;
            break;
        }
    if (out->type == KEY_EC) {
        /* libcrypto reports curves by SN ("prime256v1") or NIST name. */
        static const char *const sn[EC_CURVES] = {"prime256v1", "secp384r1", "secp521r1"};
        char name[64];
        size_t n = 0;
        if (EVP_PKEY_get_group_name(key, name, sizeof name, &n) == 1) {
            for (size_t i = 0; i < EC_CURVES; i++)
                if (strcmp(name, sn[i]) == 0 || strcmp(name, ec_curves[i]) == 0)
                    out->curve = ec_curves[i];
        }
    }
    if (out->type == KEY_RSA_PSS) pss_restrictions(key, out);
    ERR_clear_error();
}

void key_info_get(const EVP_PKEY *key, key_info *out) {
    if (key == NULL) {
        *out = (key_info){.type = KEY_UNKNOWN};
        return;
    }
    if (!extra_ready()) {
        info_compute(key, out);
        return;
    }
    pthread_mutex_lock(&extra_lock);
    key_extra *x = extra_get_locked(key, false);
    bool known = x != NULL && x->info_known;
    if (known) *out = x->info;
    pthread_mutex_unlock(&extra_lock);
    if (known) return;
    info_compute(key, out);
    pthread_mutex_lock(&extra_lock);
    x = extra_get_locked(key, true);
    if (x != NULL) {
        x->info = *out;
        x->info_known = true;
    }
    pthread_mutex_unlock(&extra_lock);
}

EVP_PKEY_CTX *key_sign_ctx(EVP_PKEY *key, uint16_t scheme, key_ctx_maker make, const void *arg) {
    if (key == NULL || !extra_ready()) return NULL;
    EVP_PKEY_CTX *out = NULL;
    pthread_mutex_lock(&extra_lock);
    key_extra *x = extra_get_locked(key, false);
    if (x != NULL && x->on_token) { /* the engine's keys do not survive EVP_PKEY_dup */
        pthread_mutex_unlock(&extra_lock);
        return NULL;
    }
    for (size_t i = 0; x != NULL && i < SIGN_PROTOS && x->sign[i].ctx != NULL; i++)
        if (x->sign[i].scheme == scheme) {
            out = EVP_PKEY_CTX_dup(x->sign[i].ctx);
            pthread_mutex_unlock(&extra_lock);
            return out;
        }
    pthread_mutex_unlock(&extra_lock);

    /* First signature under this scheme: prepare a prototype on a duplicate
     * of the key (a context on the key itself would keep it alive). */
    EVP_PKEY *dup = EVP_PKEY_dup(key);
    EVP_PKEY_CTX *proto = dup != NULL ? make(dup, arg) : NULL;
    EVP_PKEY_free(dup); /* proto holds its own reference */
    if (proto == NULL) {
        ERR_clear_error();
        return NULL;
    }
    pthread_mutex_lock(&extra_lock);
    x = extra_get_locked(key, true);
    for (size_t i = 0; x != NULL && i < SIGN_PROTOS; i++) {
        if (x->sign[i].ctx == NULL) {
            x->sign[i].scheme = scheme;
            x->sign[i].ctx = proto;
            proto = NULL;
        }
        if (x->sign[i].scheme == scheme) { /* ours, or another thread's */
            out = EVP_PKEY_CTX_dup(x->sign[i].ctx);
            break;
        }
    }
    pthread_mutex_unlock(&extra_lock);
    EVP_PKEY_CTX_free(proto); /* not kept: no slot left, or another thread's was */
    ERR_clear_error();
    return out;
}

int key_mark_on_token(EVP_PKEY *key) {
    if (!extra_ready()) return -1;
    pthread_mutex_lock(&extra_lock);
    key_extra *x = extra_get_locked(key, true);
    if (x != NULL) x->on_token = true;
    pthread_mutex_unlock(&extra_lock);
    return x != NULL ? 0 : -1;
}

bool key_on_token(const crypto_key *key) {
    if (key == NULL || !extra_ready()) return false;
    pthread_mutex_lock(&extra_lock);
    key_extra *x = extra_get_locked(key, false);
    bool on = x != NULL && x->on_token;
    pthread_mutex_unlock(&extra_lock);
    return on;
}

EVP_PKEY_CTX *key_verify_ctx_take(EVP_PKEY *key, key_ctx_maker make, const void *arg) {
    if (key == NULL || !extra_ready()) return NULL;
    pthread_mutex_lock(&extra_lock);
    key_extra *x = extra_get_locked(key, false);
    pthread_mutex_unlock(&extra_lock);
    /* pooled and verify are set before the key is handed out / while the
     * flag is held; a second concurrent user finds the flag set and makes
     * its own context. */
    if (x == NULL || !x->pooled || atomic_exchange(&x->verify_busy, true)) return NULL;
    if (x->verify == NULL) {
        x->verify = make(key, arg);
        ERR_clear_error();
    }
    if (x->verify == NULL) atomic_store(&x->verify_busy, false);
    return x->verify;
}

void key_verify_ctx_put(EVP_PKEY *key) {
    key_extra *x = EVP_PKEY_get_ex_data(key, extra_index);
    if (x != NULL) atomic_store(&x->verify_busy, false);
}

/* ---- recycled EC public keys ----
 * A new EVP_PKEY with the curve's parameters costs ~30k instructions
 * (EVP_PKEY_copy_parameters: the type lookup above plus EC_GROUP_dup) and
 * ~3k to free, once per handshake for the peer's certificate key. key_free
 * therefore keeps up to POOL_MAX such keys per curve and thread (they hold
 * only public data), and key_from_spki takes one and replaces its point
 * with EVP_PKEY_set1_encoded_public_key, which validates it exactly as for a
 * new key; a key whose point was refused is freed, not reused. */
#define POOL_MAX 8
typedef struct key_pool {
    EVP_PKEY *keys[EC_CURVES][POOL_MAX];
    size_t n[EC_CURVES];
} key_pool;

static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static pthread_key_t pool_key;
static bool pool_key_ok;
static _Thread_local key_pool *pool_tls;

/* Really frees a key, its own verify context first (it holds a reference). */
static void key_destroy(EVP_PKEY *key) {
    if (extra_ready()) {
        key_extra *x = EVP_PKEY_get_ex_data(key, extra_index);
        if (x != NULL && x->verify != NULL) {
            EVP_PKEY_CTX *v = x->verify;
            x->verify = NULL;
            EVP_PKEY_CTX_free(v);
        }
    }
    EVP_PKEY_free(key);
}

static void pool_free(void *p) {
    key_pool *pool = p;
    pool_tls = NULL;
    for (size_t c = 0; c < EC_CURVES; c++)
        for (size_t i = 0; i < pool->n[c]; i++)
            key_destroy(pool->keys[c][i]);
    free(pool);
}

static void pool_once_init(void) {
    pool_key_ok = pthread_key_create(&pool_key, pool_free) == 0;
}

static key_pool *pool_get(bool create) {
    key_pool *pool = pool_tls;
    if (pool != NULL || !create) return pool;
    if (pthread_once(&pool_once, pool_once_init) != 0 || !pool_key_ok) return NULL;
    pool = calloc(1, sizeof *pool);
    if (pool == NULL) return NULL;
    if (pthread_setspecific(pool_key, pool) != 0) {
        free(pool);
        return NULL;
    }
    pool_tls = pool;
    return pool;
}

static size_t curve_index(const char *curve) {
    for (size_t i = 0; i < EC_CURVES; i++)
        if (curve == ec_curves[i] || strcmp(curve, ec_curves[i]) == 0) return i;
    return EC_CURVES;
}

/* A recycled key of the curve, or NULL. */
static EVP_PKEY *pool_take(size_t curve) {
    key_pool *pool = pool_get(false);
    if (pool == NULL || pool->n[curve] == 0) return NULL;
    return pool->keys[curve][--pool->n[curve]];
}

/* Marks a new EC public key as recyclable (best effort). */
static void pool_mark(EVP_PKEY *key, size_t curve) {
    if (!extra_ready()) return;
    key_extra *x = calloc(1, sizeof *x);
    if (x == NULL) return;
    x->info = (key_info){.type = KEY_EC, .curve = ec_curves[curve], .bits = EVP_PKEY_get_bits(key)};
    x->info_known = true;
    x->pooled = true;
    atomic_init(&x->verify_busy, false);
    if (EVP_PKEY_set_ex_data(key, extra_index, x) != 1) { /* not yet shared: no lock */
        free(x);
        ERR_clear_error();
    }
}

/* key_free for a recyclable key: true if the pool took it. */
static bool pool_put(EVP_PKEY *key, const key_extra *x) {
    size_t c = curve_index(x->info.curve);
    key_pool *pool = c < EC_CURVES ? pool_get(true) : NULL;
    if (pool == NULL || pool->n[c] == POOL_MAX) return false;
    pool->keys[c][pool->n[c]++] = key;
    return true;
}

/* SubjectPublicKeyInfo decoding. d2i_PUBKEY goes through libcrypto 3's
 * OSSL_DECODER machinery, which builds a decoder chain by walking every
 * provider's decoders on each call (about 1.4 million instructions for a
 * P-256 key, more than an ECDSA verification); the handshake decodes the
 * peer's key on every connection. The common key types are therefore read
 * here with the strict DER cursor and handed to the key manager directly
 * (EVP_PKEY_fromdata / raw public keys), which applies the same checks as
 * the decoder (EC points must be on the curve). Anything else, or anything
 * not in the exact form expected, still goes to d2i_PUBKEY. */

static const uint8_t OID_EC_PUBLIC_KEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_P384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};
static const uint8_t OID_P521[] = {0x2b, 0x81, 0x04, 0x00, 0x23};
static const uint8_t OID_ED25519[] = {0x2b, 0x65, 0x70};
static const uint8_t OID_ED448[] = {0x2b, 0x65, 0x71};
static const uint8_t OID_X25519[] = {0x2b, 0x65, 0x6e};
static const uint8_t OID_RSA[] = {0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01};

#define OID_IS(cur, known) der_oid_equal(&(cur), (known), sizeof(known))

static EVP_PKEY *from_params(const char *type, const OSSL_PARAM *params) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) != 1 ||
        EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, (OSSL_PARAM *)params) != 1)
        key = NULL;
    EVP_PKEY_CTX_free(pctx);
    return key;
}

/* EC keys: importing by group name builds the curve group from scratch
 * (EC_GROUP_new_by_curve_name_ex, ~0.14M instructions for P-256, plus the
 * keymgmt fetch: ~0.2M per key in all). Instead a parameters-only key per
 * curve is made once per process and never changed afterwards; each new
 * public key copies its parameters (EC_GROUP_dup) and sets the encoded
 * point, which EC_POINT_oct2point checks (coordinates in the field, on the
 * curve), as libssl does for key shares. Keys come from the pool above when
 * it has one, which skips the copy. */
static pthread_once_t ec_once = PTHREAD_ONCE_INIT;
static EVP_PKEY *ec_templates[EC_CURVES];

static void ec_templates_make(void) {
    for (size_t i = 0; i < EC_CURVES; i++) {
        EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *t = NULL;
        if (pctx == NULL || EVP_PKEY_paramgen_init(pctx) != 1 ||
            EVP_PKEY_CTX_set_group_name(pctx, ec_curves[i]) != 1 ||
            EVP_PKEY_paramgen(pctx, &t) != 1)
            t = NULL;
        EVP_PKEY_CTX_free(pctx);
        ec_templates[i] = t;
    }
    ERR_clear_error();
}

static EVP_PKEY *ec_template(size_t curve) {
    if (pthread_once(&ec_once, ec_templates_make) != 0) return NULL;
    return ec_templates[curve];
}

static EVP_PKEY *ec_key(size_t curve, size_t coord, cursor pub) {
    if (pub.len != 1 + 2 * coord || pub.data[0] != 0x04) return NULL; /* uncompressed only */
    EVP_PKEY *key = pool_take(curve);
    if (key != NULL) {
        if (EVP_PKEY_set1_encoded_public_key(key, pub.data, pub.len) != 1) {
            key_destroy(key); /* refused; do not trust its state */
            return NULL;
        }
        return key;
    }
    const EVP_PKEY *tmpl = ec_template(curve);
    if (tmpl != NULL) {
        key = EVP_PKEY_new();
        if (key == NULL || EVP_PKEY_copy_parameters(key, tmpl) != 1 ||
            EVP_PKEY_set1_encoded_public_key(key, pub.data, pub.len) != 1) {
            EVP_PKEY_free(key);
            return NULL;
        }
        pool_mark(key, curve);
        return key;
    }
    /* No template (provider without EC paramgen): import by name. */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)ec_curves[curve], 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub.data, pub.len),
        OSSL_PARAM_construct_end(),
    };
    return from_params("EC", params);
}

/* A positive INTEGER in minimal form: its magnitude bytes. */
static bool der_positive_int(cursor *c, cursor *mag) {
    cursor v;
    if (!der_get(c, DER_INTEGER, &v) || v.len == 0 || (v.data[0] & 0x80)) return false;
    if (v.data[0] == 0) {
        if (v.len == 1 || !(v.data[1] & 0x80)) return false; /* zero, or not minimal */
        v.data++;
        v.len--;
    }
    *mag = v;
    return true;
}

static EVP_PKEY *rsa_key(cursor bits) {
    cursor seq, n, e;
    if (!der_get(&bits, DER_SEQUENCE, &seq) || !cur_empty(&bits)) return NULL;
    if (!der_positive_int(&seq, &n) || !der_positive_int(&seq, &e) || !cur_empty(&seq)) return NULL;
    EVP_PKEY *key = NULL;
    BIGNUM *bn_n = BN_bin2bn(n.data, (int)n.len, NULL);
    BIGNUM *bn_e = BN_bin2bn(e.data, (int)e.len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    OSSL_PARAM *params = NULL;
    if (bn_n != NULL && bn_e != NULL && bld != NULL &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1 &&
        (params = OSSL_PARAM_BLD_to_param(bld)) != NULL)
        key = from_params("RSA", params);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return key;
}

/* NULL when the SPKI is not one of the forms handled here. */
static EVP_PKEY *spki_fast(const uint8_t *spki, size_t len) {
    cursor all, body, alg, oid, bits;
    cur_init(&all, spki, len);
    if (!der_get(&all, DER_SEQUENCE, &body) || !cur_empty(&all)) return NULL;
    if (!der_get(&body, DER_SEQUENCE, &alg) || !der_get(&alg, DER_OID, &oid)) return NULL;
    if (!der_get_bitstring_bytes(&body, &bits) || !cur_empty(&body)) return NULL;
    if (OID_IS(oid, OID_EC_PUBLIC_KEY)) {
        cursor curve;
        if (!der_get(&alg, DER_OID, &curve) || !cur_empty(&alg)) return NULL;
        if (OID_IS(curve, OID_P256)) return ec_key(0, 32, bits);
        if (OID_IS(curve, OID_P384)) return ec_key(1, 48, bits);
        if (OID_IS(curve, OID_P521)) return ec_key(2, 66, bits);
        return NULL;
    }
    if (OID_IS(oid, OID_ED25519) || OID_IS(oid, OID_X25519)) {
        if (!cur_empty(&alg) || bits.len != 32) return NULL; /* parameters must be absent */
        return EVP_PKEY_new_raw_public_key_ex(NULL, OID_IS(oid, OID_ED25519) ? "ED25519" : "X25519",
                                              NULL, bits.data, bits.len);
    }
    if (OID_IS(oid, OID_ED448)) {
        if (!cur_empty(&alg) || bits.len != 57) return NULL;
        return EVP_PKEY_new_raw_public_key_ex(NULL, "ED448", NULL, bits.data, bits.len);
    }
    if (OID_IS(oid, OID_RSA)) {
        cursor null;
        if (!der_get(&alg, DER_NULL, &null) || null.len != 0 || !cur_empty(&alg)) return NULL;
        return rsa_key(bits);
    }
    return NULL;
}

crypto_key *key_from_spki(const uint8_t *spki, size_t len) {
    if (spki == NULL || len == 0 || len > LONG_MAX) return NULL;
    EVP_PKEY *key = spki_fast(spki, len);
    if (key == NULL) {
        const unsigned char *p = spki;
        key = d2i_PUBKEY(NULL, &p, (long)len);
        if (key != NULL && p != spki + len) { /* trailing bytes */
            EVP_PKEY_free(key);
            key = NULL;
        }
    }
    ERR_clear_error();
    return key;
}

bool key_pair_matches(const crypto_key *priv, const crypto_key *pub) {
    if (priv == NULL || pub == NULL) return false;
    int r = EVP_PKEY_eq(priv, pub);
    ERR_clear_error();
    return r == 1;
}

void key_describe(const crypto_key *key, char *out, size_t cap) {
    if (out == NULL || cap == 0) return;
    if (key == NULL) {
        snprintf(out, cap, "no key");
        return;
    }
    if (EVP_PKEY_is_a(key, "RSA")) {
        snprintf(out, cap, "RSA %d", EVP_PKEY_get_bits(key));
    } else if (EVP_PKEY_is_a(key, "RSA-PSS")) {
        key_info info;
        key_info_get(key, &info);
        static const char *const hash_names[] = {"SHA-256", "SHA-384", "SHA-512", "SHA-1"};
        if (info.pss_restricted && !info.pss_bad && info.pss.hash < HASH_COUNT)
            snprintf(out, cap, "RSA-PSS %d (%s only)", info.bits, hash_names[info.pss.hash]);
        else
            snprintf(out, cap, "RSA-PSS %d", EVP_PKEY_get_bits(key));
    } else if (EVP_PKEY_is_a(key, "EC")) {
        char name[64];
        size_t n = 0;
        if (EVP_PKEY_get_group_name(key, name, sizeof name, &n) != 1) {
            snprintf(out, cap, "ECDSA (unnamed curve, %d bits)", EVP_PKEY_get_bits(key));
        } else {
            static const struct {
                const char *sn, *nist;
            } curves[] = {{"prime256v1", "P-256"}, {"secp384r1", "P-384"}, {"secp521r1", "P-521"}};
            const char *shown = name;
            for (size_t i = 0; i < sizeof curves / sizeof curves[0]; i++)
                if (strcmp(name, curves[i].sn) == 0 || strcmp(name, curves[i].nist) == 0)
                    shown = curves[i].nist;
            snprintf(out, cap, "ECDSA %s", shown);
        }
    } else if (EVP_PKEY_is_a(key, "ED25519")) {
        snprintf(out, cap, "Ed25519");
    } else if (EVP_PKEY_is_a(key, "ED448")) {
        snprintf(out, cap, "Ed448");
    } else if (EVP_PKEY_is_a(key, "X25519")) {
        snprintf(out, cap, "X25519");
    } else {
        const char *type = EVP_PKEY_get0_type_name(key);
        snprintf(out, cap, "%s %d", type ? type : "unknown key", EVP_PKEY_get_bits(key));
    }
    ERR_clear_error();
}

int key_size_bits(const crypto_key *key, key_family *family) {
    key_family f = KEY_FAMILY_OTHER;
    int bits = 0;
    if (key == NULL) {
        /* nothing */
    } else if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
        f = KEY_FAMILY_RSA;
        bits = EVP_PKEY_get_bits(key);
    } else if (EVP_PKEY_is_a(key, "EC")) {
        f = KEY_FAMILY_EC;
        bits = EVP_PKEY_get_bits(key);
    } else if (EVP_PKEY_is_a(key, "ED25519")) {
        f = KEY_FAMILY_EC;
        bits = 256;
    } else if (EVP_PKEY_is_a(key, "ED448")) {
        f = KEY_FAMILY_EC;
        bits = 448;
    }
    ERR_clear_error();
    if (family) *family = f;
    return bits > 0 ? bits : 0;
}

void key_free(crypto_key *key) {
    if (key == NULL) return;
    /* Whoever frees a key is its last user, so its extras need no lock. */
    key_extra *x = extra_ready() ? EVP_PKEY_get_ex_data(key, extra_index) : NULL;
    if (x != NULL && x->pooled && pool_put(key, x)) return;
    key_destroy(key); /* EVP_PKEY_free clears private material */
}
