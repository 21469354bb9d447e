/* Secret hygiene: every heap block freed while a handshake runs, and while
 * the connections and configs are freed, is searched for the secrets it must
 * no longer hold — the server's private key (PEM text, PKCS#8 DER, the raw
 * P-256 scalar), the client's ephemeral x25519 key, the handshake and
 * application traffic secrets with the record keys and IVs derived from them,
 * and application data sent both ways. A freed block still holding one is a
 * failure naming the secret and the block size. Resumption too: a full
 * handshake (two tickets into the client cache) and a resumed one, with the
 * resumption_master_secrets (c->resumption_secret), every ticket's PSK (cache
 * entries, c->session, c->offered, the server's c->psk), the early secret and
 * binder key the PSK derives, the resumed handshake's secrets and the
 * server's ticket key as needles, through certa_config_free of both configs.
 * TLS 1.2 too (tls12_check): a full handshake with a NewSessionTicket and a
 * resumption from it, with both sides' master secrets, key blocks, record
 * keys and ECDHE keys, the pre-master secret, the ticket key and data.
 * HPKE (hpke_check): RFC 9180's X25519 and P-256 keys, the context's key,
 * base_nonce and exporter_secret, an export and the plaintext. ECH's
 * decryption (ech_open_check): the ECH private key, the HPKE key and the
 * inner hello's server name through ech_open_client_hello and the wipes.
 *
 * How frees are seen: in a plain build this binary defines malloc, free,
 * calloc and realloc (glibc lets the executable interpose them; libcerta.a is
 * linked in statically and libcrypto binds to them too) and forwards to
 * __libc_*; free looks at malloc_usable_size(p) bytes first, realloc at the
 * old block when it moves. Under ASan (make test-asan) the allocator is
 * ASan's, so the same check runs from a sanitizer free hook
 * (__sanitizer_install_malloc_and_free_hooks), which runs before the block is
 * poisoned.
 *
 * The detector is checked first: a block freed with a secret in it must be
 * caught, and the same block zeroized must not be.
 *
 * Constant-time comparisons (review note, not asserted here): Finished is
 * checked in handshake_common.c check_finished() with crypto_equal_ct(); AEAD
 * tags are checked by libcrypto (EVP_DecryptFinal_ex); x25519 all-zero
 * results in kex.c with crypto_equal_ct(). tests/unit/test_zeroize.c greps
 * nothing: a grep cannot tell a secret comparison from a public one. */
#define _GNU_SOURCE 1 /* dladdr */
#include "certa.h"
#include "crypto/crypto.h"
#include "crypto/hpke.h"
#include "hpke_vectors.h"
#include "lib_certs.h"
#include "lib_pair.h"
#include "testlib.h"
#include "pq/mlkem.h"
#include "tls/ticket_keys.h"
#include "tls/ech_open.h"
#include "tls/tls.h"
#include "wire/cursor.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <dlfcn.h>
#include <execinfo.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define ZT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ZT_ASAN 1
#endif
#endif

/* ---- needles and the scanner (no heap use in here) ---- */
#define MAX_NEEDLES 32
#define MAX_HITS 16
typedef struct needle {
    const char *name;
    uint8_t bytes[128];
    size_t len;
} needle;
static needle needles[MAX_NEEDLES];
static size_t needle_count;
static volatile bool armed;
static struct {
    const char *name;
    size_t block;
    void *caller;
} hits[MAX_HITS];
static size_t hit_count, frees_seen;

static void add_needle(const char *name, const void *p, size_t len) {
    if (needle_count == MAX_NEEDLES || len < 12 || len > sizeof needles[0].bytes) abort();
    needles[needle_count].name = name;
    memcpy(needles[needle_count].bytes, p, len);
    needles[needle_count].len = len;
    needle_count++;
}

static bool contains(const uint8_t *hay, size_t n, const uint8_t *nd, size_t len) {
    if (len > n) return false;
    for (size_t i = 0; i + len <= n; i++)
        if (hay[i] == nd[0] && memcmp(hay + i, nd, len) == 0) return true;
    return false;
}

static void inspect(const void *p, size_t n, void *caller) {
    frees_seen++;
    for (size_t k = 0; k < needle_count; k++) {
        if (!contains(p, n, needles[k].bytes, needles[k].len)) continue;
        if (hit_count < MAX_HITS) {
            hits[hit_count].name = needles[k].name;
            hits[hit_count].block = n;
            hits[hit_count].caller = caller;
        }
        hit_count++;
    }
}

#ifdef ZT_ASAN
/* From <sanitizer/allocator_interface.h>, which gcc does not always ship. */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
int __sanitizer_get_ownership(const volatile void *p);
size_t __sanitizer_get_allocated_size(const volatile void *p);
/* The code that called free: the first frame past this hook and ASan's
 * runtime (backtrace() is primed in install() so it does not allocate here). */
static void *asan_caller(void) {
    void *bt[16];
    int n = backtrace(bt, 16);
    for (int i = 1; i < n; i++) {
        Dl_info info;
        if (dladdr(bt[i], &info) && info.dli_fname && strstr(info.dli_fname, "asan")) continue;
        if (i > 1) return bt[i];
    }
    return NULL;
}
static void free_hook(const volatile void *p) {
    if (!armed || p == NULL || !__sanitizer_get_ownership(p)) return;
    armed = false; /* no recursion */
    inspect((const void *)p, __sanitizer_get_allocated_size(p), asan_caller());
    armed = true;
}
static void malloc_hook(const volatile void *p, size_t n) {
    (void)p;
    (void)n;
}
static void install(void) {
    void *bt[4];
    backtrace(bt, 4);
    __sanitizer_install_malloc_and_free_hooks(malloc_hook, free_hook);
}
#else
#include <malloc.h>
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

void *malloc(size_t n) {
    return __libc_malloc(n);
}
void *calloc(size_t a, size_t b) {
    return __libc_calloc(a, b);
}
void free(void *p) {
    if (p != NULL && armed) {
        armed = false;
        inspect(p, malloc_usable_size(p), __builtin_return_address(0));
        armed = true;
    }
    __libc_free(p);
}
void *realloc(void *p, size_t n) {
    if (p == NULL || !armed) return __libc_realloc(p, n);
    /* The old block is released only if the data moves: look first, and
     * count what was found only then. */
    armed = false;
    size_t before = hit_count, seen = frees_seen;
    inspect(p, malloc_usable_size(p), __builtin_return_address(0));
    void *q = __libc_realloc(p, n);
    if (q == p || q == NULL) {
        hit_count = before;
        frees_seen = seen;
    }
    armed = true;
    return q;
}
static void install(void) {}
#endif

static bool in_libcrypto(void *caller) {
    Dl_info info;
    return dladdr(caller, &info) && info.dli_fname && strstr(info.dli_fname, "libcrypto");
}

/* Prints the hits; returns how many were freed by code other than libcrypto
 * (certa's own, or the C library on its behalf). */
static size_t report_hits(const char *what) {
    size_t own = 0;
    for (size_t i = 0; i < hit_count && i < MAX_HITS; i++) {
        bool lc = in_libcrypto(hits[i].caller);
        own += !lc;
        printf("# %s: a freed %zu-byte block still held %s (freed by %s at %p)\n", what,
               hits[i].block, hits[i].name, lc ? "libcrypto" : "certa", hits[i].caller);
    }
    return hit_count > MAX_HITS ? own + (hit_count - MAX_HITS) : own;
}

/* ---- the detector itself must catch a block freed with a secret in it ---- */
static void self_check(void) {
    static const char canary[] = "SELF-CHECK-CANARY-0123456789abcdef";
    needle_count = 0;
    add_needle("the self-check canary", canary, sizeof canary - 1);
    void *(*volatile do_malloc)(size_t) = malloc;
    void (*volatile do_free)(void *) = free;

    hit_count = 0;
    armed = true;
    char *p = do_malloc(100);
    memcpy(p + 10, canary, sizeof canary);
    do_free(p);
    armed = false;
    CHECK(hit_count == 1, "detector: a block freed with a secret in it is caught (%zu hits)",
          hit_count);

    hit_count = 0;
    armed = true;
    p = do_malloc(100);
    memcpy(p + 10, canary, sizeof canary);
    crypto_zero(p, 100);
    do_free(p);
    armed = false;
    CHECK(hit_count == 0, "detector: the same block zeroized before free is not flagged");

    /* The builder (handshake messages, transcript pieces, outgoing records)
     * zeroizes when it grows and when it is freed. */
    hit_count = 0;
    armed = true;
    builder b;
    bld_init_alloc(&b, 16);
    bld_bytes(&b, (const uint8_t *)canary, sizeof canary - 1); /* grows: old buffer freed */
    for (int i = 0; i < 40; i++)
        bld_bytes(&b, (const uint8_t *)canary, sizeof canary - 1);
    bld_free(&b);
    armed = false;
    CHECK(hit_count == 0, "builder: buffers are zeroized when they grow and on bld_free");
    report_hits("builder");
    hit_count = 0;
}

/* ---- a full handshake in memory with everything secret as a needle ---- */
static uint8_t secrets[4][CRYPTO_MAX_HASH];
static const char *secret_names[4] = {
    "the client handshake traffic secret", "the server handshake traffic secret",
    "the client application traffic secret", "the server application traffic secret"};
static const char *key_names[4] = {
    "the client handshake record key", "the server handshake record key",
    "the client application record key", "the server application record key"};
static const char *iv_names[4] = {"the client handshake IV", "the server handshake IV",
                                  "the client application IV", "the server application IV"};

/* The secrets as the server holds them after answering the ClientHello. */
static void capture_secrets(const certa_conn *server) {
    memcpy(secrets[0], server->client_hs_secret, 32);
    memcpy(secrets[1], server->server_hs_secret, 32);
    memcpy(secrets[2], server->client_app_secret, 32);
    memcpy(secrets[3], server->server_app_secret, 32);
    static const uint8_t zeros[32];
    for (int i = 0; i < 4; i++) {
        CHECK(memcmp(secrets[i], zeros, 32) != 0, "captured %s (non-zero)", secret_names[i]);
        uint8_t key[16], iv[12];
        hkdf_expand_label(HASH_SHA256, secrets[i], "key", NULL, 0, key, sizeof key);
        hkdf_expand_label(HASH_SHA256, secrets[i], "iv", NULL, 0, iv, sizeof iv);
        add_needle(secret_names[i], secrets[i], 32);
        add_needle(key_names[i], key, sizeof key);
        add_needle(iv_names[i], iv, sizeof iv);
    }
}

static char key_pem_copy[4096];
static char cert_pem_copy[8192];

static void handshake_check(void) {
    char *cert_pem = NULL, *key_pem = NULL;
    if (test_make_cert("p256", "localhost", &cert_pem, &key_pem) != 0) abort();
    snprintf(key_pem_copy, sizeof key_pem_copy, "%s", key_pem);
    snprintf(cert_pem_copy, sizeof cert_pem_copy, "%s", cert_pem);
    OPENSSL_cleanse(key_pem, strlen(key_pem));
    free(key_pem);
    free(cert_pem);

    needle_count = 0;
    /* The second line of the PEM: 64 characters of base64 of the key. */
    const char *line = strchr(key_pem_copy, '\n') + 1;
    add_needle("a line of the private key PEM", line, 64);
    /* PKCS#8 DER and the raw scalar, fetched with heap use cleaned up. */
    BIO *bio = BIO_new_mem_buf(key_pem_copy, -1);
    EVP_PKEY *pk = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);
    unsigned char *der = NULL;
    int der_len = i2d_PrivateKey(pk, &der);
    if (der_len > 0 && (size_t)der_len <= sizeof needles[0].bytes)
        add_needle("the private key DER", der, (size_t)der_len);
    else if (der_len > 48)
        add_needle("the private key DER (its end)", der + der_len - 48, 48);
    OPENSSL_clear_free(der, der_len > 0 ? (size_t)der_len : 0);
    BIGNUM *d = NULL;
    uint8_t scalar[32];
    if (EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
        BN_bn2binpad(d, scalar, sizeof scalar) == 32)
        add_needle("the private key scalar", scalar, sizeof scalar);
    BN_clear_free(d);
    EVP_PKEY_free(pk);
    OPENSSL_cleanse(scalar, sizeof scalar);
    CHECK(needle_count == 3, "needles: PEM line, PKCS#8 DER and P-256 scalar of the server key");

    char path[] = "/tmp/certa-zeroize-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, key_pem_copy, strlen(key_pem_copy)) != (ssize_t)strlen(key_pem_copy))
        abort();
    close(fd);

    static const char c2s[] = "CLIENT-TO-SERVER-APPLICATION-DATA-CANARY-31415";
    static const char s2c[] = "SERVER-TO-CLIENT-APPLICATION-DATA-CANARY-27182";
    add_needle("client application data", c2s, sizeof c2s - 1);
    add_needle("server application data", s2c, sizeof s2c - 1);

    /* Loading the key: certa reads the file into a buffer it zeroizes and
     * hands the PEM to libcrypto. OpenSSL 3.0's decoder (PEM_read_bio_PrivateKey
     * -> OSSL_DECODER -> d2i_ECPrivateKey) frees its own copies of the key
     * without cleansing them: reported below as notes, not failures, since
     * certa cannot reach them. Every block certa frees must be clean. */
    hit_count = 0;
    frees_seen = 0;
    armed = true;
    certa_config *scfg = certa_config_new(), *ccfg = certa_config_new();
    CHECK(certa_config_set_cert_chain_pem(scfg, cert_pem_copy, strlen(cert_pem_copy)) == 0,
          "server certificate loaded");
    CHECK(certa_config_load_private_key(scfg, path) == 0, "server private key loaded from a file");
    armed = false;
    size_t load_hits = hit_count, load_own = report_hits("loading the key");
    CHECK(load_own == 0,
          "loading the key: no block freed by certa held the key (%zu found; %zu more freed "
          "inside libcrypto's decoder, noted above)",
          load_own, load_hits - load_own);

    hit_count = 0;
    frees_seen = 0;
    armed = true;
    certa_config_set_insecure(ccfg, true);
    certa_config_set_groups(ccfg, "x25519");
    certa_config_set_ciphers(ccfg, "TLS_AES_128_GCM_SHA256");

    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    uint8_t eph[32];
    size_t eph_len = sizeof eph;
    armed = false;
    bool have_eph =
        p.client->kex_key != NULL &&
        EVP_PKEY_get_raw_private_key(kex_state_dh_key(p.client->kex_key), eph, &eph_len) == 1 &&
        eph_len == 32;
    CHECK(have_eph, "captured the client's ephemeral x25519 private key");
    if (have_eph) add_needle("the client's ephemeral x25519 key", eph, 32);
    OPENSSL_cleanse(eph, sizeof eph);
    armed = true;

    /* ClientHello to the server; its answer makes every traffic secret. */
    const uint8_t *out;
    size_t n = certa_conn_outgoing(p.client, &out), used = 0;
    certa_conn_recv(p.server, out, n, &used);
    certa_conn_outgoing_done(p.client, n);
    armed = false;
    capture_secrets(p.server);
    armed = true;

    pair_pump(&p);
    CHECK(certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server),
          "handshake completes (%s / %s)", certa_conn_error_text(p.client),
          certa_conn_error_text(p.server));
    certa_conn_write(p.client, (const uint8_t *)c2s, sizeof c2s - 1);
    pair_pump(&p);
    static uint8_t got[256];
    n = certa_conn_read(p.server, got, sizeof got);
    CHECK(n == sizeof c2s - 1 && memcmp(got, c2s, n) == 0, "server read the client's data");
    certa_conn_write(p.server, (const uint8_t *)s2c, sizeof s2c - 1);
    certa_conn_key_update(p.client, true);
    pair_pump(&p);
    n = certa_conn_read(p.client, got, sizeof got);
    CHECK(n == sizeof s2c - 1 && memcmp(got, s2c, n) == 0, "client read the server's data");
    certa_conn_close(p.client);
    pair_pump(&p);

    pair_free(&p);
    certa_config_free(ccfg);
    certa_config_free(scfg);
    armed = false;
    unlink(path);
    OPENSSL_cleanse(got, sizeof got);

    CHECK(frees_seen > 100, "the free hook saw the handshake's frees (%zu)", frees_seen);
    report_hits("handshake");
    CHECK(hit_count == 0,
          "no freed block held a private key, traffic secret, record key or application data "
          "(%zu found, %zu needles, %zu frees)",
          hit_count, needle_count, frees_seen);

    /* A failed handshake wipes too: a client that refuses the server's
     * certificate (pinned to another key) after the secrets exist. */
    hit_count = 0;
    frees_seen = 0;
    armed = true;
    armed = false;
    scfg = certa_config_new();
    ccfg = certa_config_new();
    certa_config_set_cert_chain_pem(scfg, cert_pem_copy, strlen(cert_pem_copy));
    certa_config_set_private_key_pem(scfg, key_pem_copy, strlen(key_pem_copy));
    certa_config_add_pin(ccfg, "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    armed = true;
    p.client = certa_client_new(ccfg, "localhost");
    p.server = certa_server_new(scfg);
    pair_pump(&p);
    CHECK(certa_conn_failed(p.client), "pinned client refuses the server (%s)",
          certa_conn_error_text(p.client));
    pair_free(&p);
    certa_config_free(ccfg);
    certa_config_free(scfg);
    armed = false;
    report_hits("failed handshake");
    CHECK(hit_count == 0, "failed handshake: no freed block held a secret (%zu found)", hit_count);
}

/* ---- resumption: PSKs, resumption secrets, stored sessions, ticket key ---- */

/* The PSK of an encoded session (a client's c->session or cache entry). */
static bool session_psk(const uint8_t *blob, size_t len, uint8_t *psk) {
    session_state s;
    if (!blob || session_decode(blob, len, &s) != 0 || s.psk_len != 32) return false;
    memcpy(psk, s.psk, 32);
    crypto_zero(&s, sizeof s);
    return true;
}

static void deliver_client_hello(pair *p) {
    const uint8_t *out;
    size_t n = certa_conn_outgoing(p->client, &out), used = 0;
    certa_conn_recv(p->server, out, n, &used);
    certa_conn_outgoing_done(p->client, n);
}

/* No needles, hits or frees counted, the hook disarmed; a server config
 * with the test key and a client config (insecure, AES-128-GCM). */
static void fresh_configs(certa_config **scfg, certa_config **ccfg) {
    needle_count = 0;
    hit_count = 0;
    frees_seen = 0;
    armed = false;
    *scfg = certa_config_new();
    *ccfg = certa_config_new();
    certa_config_set_cert_chain_pem(*scfg, cert_pem_copy, strlen(cert_pem_copy));
    certa_config_set_private_key_pem(*scfg, key_pem_copy, strlen(key_pem_copy));
    certa_config_set_insecure(*ccfg, true);
    certa_config_set_ciphers(*ccfg, "TLS_AES_128_GCM_SHA256");
}

/* ---- X25519MLKEM768: the client's prepared ML-KEM key ---- */

/* The hybrid client keeps keygen's s-hat, t-hat, A-hat, H(ek) and z
 * (pq/mlkem.h's mlkem_dkey) in its key share until ServerHello: the secret
 * parts (s-hat, z) and the x25519 half must be wiped when it is freed, and
 * the handshake's traffic secrets as in handshake_check. */
static void hybrid_check(void) {
    certa_config *scfg, *ccfg;
    fresh_configs(&scfg, &ccfg);
    certa_config_set_groups(ccfg, "x25519mlkem768");
    armed = true;
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    armed = false;
    const mlkem_dkey *key = p.client->kex_key ? kex_state_kem_key(p.client->kex_key) : NULL;
    uint8_t eph[32];
    size_t eph_len = sizeof eph;
    bool have =
        key != NULL && key->kind == MLKEM768 &&
        EVP_PKEY_get_raw_private_key(kex_state_dh_key(p.client->kex_key), eph, &eph_len) == 1 &&
        eph_len == 32;
    CHECK(have, "hybrid: captured the client's prepared ML-KEM-768 key and x25519 key");
    if (have) {
        add_needle("the client's ML-KEM z", key->z, 32);
        add_needle("the client's ML-KEM s-hat[0] (first 32 coefficients)", key->v, 64);
        add_needle("the client's ML-KEM s-hat[2] (last 32 coefficients)", key->v + 3 * 256 - 32,
                   64);
        add_needle("the client's hybrid x25519 key", eph, 32);
    }
    OPENSSL_cleanse(eph, sizeof eph);
    armed = true;
    deliver_client_hello(&p);
    armed = false;
    capture_secrets(p.server);
    armed = true;
    pair_pump(&p);
    armed = false;
    certa_info ci;
    certa_conn_info(p.client, &ci);
    CHECK(certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server) &&
              ci.group == 0x11ec && p.client->kex_key == NULL,
          "hybrid: handshake over X25519MLKEM768 (group 0x%04x), the client's key share freed "
          "(%s / %s)",
          ci.group, certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    armed = true;
    pair_free(&p);
    certa_config_free(ccfg);
    certa_config_free(scfg);
    armed = false;
    report_hits("hybrid handshake");
    CHECK(hit_count == 0,
          "hybrid: no freed block held the ML-KEM key (s-hat, z), the x25519 key or a traffic "
          "secret (%zu found, %zu needles, %zu frees)",
          hit_count, needle_count, frees_seen);
}

static void resumption_check(void) {
    certa_config *scfg, *ccfg;
    fresh_configs(&scfg, &ccfg);
    CHECK(scfg->tickets == 2 && scfg->ticket_keys && scfg->ticket_keys->count == 1 &&
              ccfg->cache.cap > 0,
          "resumption: the server sends 2 tickets, has a ticket key; the client caches");
    add_needle("the server's ticket key", scfg->ticket_keys->keys[0].key, 32);

    /* A full handshake: the server sends two tickets, the client keeps
     * them in its cache (and the newest as c->session). */
    armed = true;
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump(&p);
    static const char c2s[] = "RESUMPTION-CLIENT-TO-SERVER-CANARY-16180";
    certa_conn_write(p.client, (const uint8_t *)c2s, sizeof c2s - 1);
    pair_pump(&p);
    armed = false;
    certa_info ci;
    certa_conn_info(p.client, &ci);
    CHECK(certa_conn_handshake_done(p.client) && !ci.resumed && p.client->session != NULL,
          "resumption: full handshake, the client holds a session (%s / %s)",
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    static const uint8_t zeros[CRYPTO_MAX_HASH];
    CHECK(memcmp(p.client->resumption_secret, zeros, 32) != 0,
          "captured the client's resumption_master_secret (c->resumption_secret)");
    add_needle("the first resumption_master_secret", p.client->resumption_secret, 32);
    uint8_t psk[32];
    size_t cached = 0;
    for (unsigned i = 0; i < ccfg->cache.cap && ccfg->cache.entries; i++) {
        session_cache_entry *e = &ccfg->cache.entries[i];
        if (e->blob && session_psk(e->blob, e->len, psk)) {
            add_needle(cached == 0 ? "the PSK of the first cached ticket"
                                   : "the PSK of the second cached ticket",
                       psk, 32);
            cached++;
        }
    }
    CHECK(cached == 2, "the client cache holds the 2 tickets of the full handshake (%zu)", cached);
    uint8_t early[32], binder_key[32], empty[32];
    bool have_psk = session_psk(p.client->session, p.client->session_len, psk);
    CHECK(have_psk, "the client's newest session (c->session) decodes");
    if (have_psk) {
        /* What the PSK derives before the handshake secret (stack only). */
        ks_early_secret(HASH_SHA256, psk, early);
        hash_oneshot(HASH_SHA256, NULL, 0, empty);
        derive_secret(HASH_SHA256, early, "res binder", empty, binder_key);
        add_needle("the early secret of the newest ticket", early, 32);
        add_needle("the binder key of the newest ticket", binder_key, 32);
    }
    add_needle("client application data (full handshake)", c2s, sizeof c2s - 1);
    armed = true;
    pair_free(&p);

    /* The resumed handshake: the client takes the newest ticket from the
     * cache (c->offered), the server opens it (c->psk). */
    p.client = certa_client_new(ccfg, "localhost");
    p.server = certa_server_new(scfg);
    armed = false;
    bool offered = p.client->offered != NULL;
    CHECK(offered, "resumed: the client offers a cached ticket (c->offered)");
    if (offered)
        CHECK(memcmp(p.client->offered->psk, psk, 32) == 0, "resumed: it offers the newest ticket");
    armed = true;
    deliver_client_hello(&p);
    armed = false;
    CHECK(p.server->resumed && memcmp(p.server->psk, psk, 32) == 0,
          "resumed: the server accepted the ticket (c->psk is its PSK)");
    add_needle("the resumed handshake's client handshake secret", p.server->client_hs_secret, 32);
    add_needle("the resumed handshake's server handshake secret", p.server->server_hs_secret, 32);
    add_needle("the resumed handshake's server application secret", p.server->server_app_secret,
               32);
    armed = true;
    pair_pump(&p);
    armed = false;
    certa_info si;
    certa_conn_info(p.client, &ci);
    certa_conn_info(p.server, &si);
    CHECK(certa_conn_handshake_done(p.client) && ci.resumed && si.resumed,
          "resumed: the handshake completes with the PSK (%s / %s)",
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    static const uint8_t none[CRYPTO_MAX_HASH];
    CHECK(p.client->offered == NULL && memcmp(p.client->psk, none, sizeof none) == 0 &&
              memcmp(p.server->psk, none, sizeof none) == 0,
          "resumed: after the handshake neither side keeps the PSK or the offered session");
    add_needle("the second resumption_master_secret", p.client->resumption_secret, 32);
    if (session_psk(p.client->session, p.client->session_len, psk))
        add_needle("the PSK of a ticket from the resumed handshake", psk, 32);
    armed = true;
    pair_free(&p);
    /* The client config still holds cached tickets (freed with it), and
     * the server config its ticket key (zeroized with it). */
    certa_config_free(ccfg);
    certa_config_free(scfg);
    armed = false;
    OPENSSL_cleanse(psk, sizeof psk);
    OPENSSL_cleanse(early, sizeof early);
    OPENSSL_cleanse(binder_key, sizeof binder_key);

    report_hits("resumption");
    CHECK(needle_count == 12, "resumption: 12 needles (%zu)", needle_count);
    CHECK(
        hit_count == 0,
        "resumption: no freed block held a PSK, resumption or early secret, binder key, "
        "traffic secret, application data or the ticket key, through certa_config_free (%zu found, "
        "%zu needles, %zu frees)",
        hit_count, needle_count, frees_seen);
}

/* ---- TLS 1.2: master secret, key block, pre-master secret, ticket ---- */

/* The TLS 1.2 secrets become needles the moment they exist: the pair is
 * moved one record at a time and, after each, whatever is new is copied
 * (unarmed) and added. A free inside the very call that derived a secret is
 * therefore not checked for that secret; every later free is, on both sides.
 * The pre-master secret (the ECDHE shared secret) is computed here from the
 * server's ephemeral key and the point in the client's ClientKeyExchange,
 * before the server reads it (the client derives it and frees its ECDHE key
 * in one call, so on the client side only later frees are checked). */
static struct { bool master[2], key_block[2], pms, eph[2]; } t12;

static bool nonzero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc != 0;
}

static void capture12(const certa_conn *c, const char *round) {
    static char names[2][8][96];
    int side = c->is_server;
    const char *who = side ? "server" : "client";
    size_t kbl = 2 * 16 + 2 * 4; /* AES-128-GCM */
    if (!t12.master[side] && nonzero(c->master_secret, TLS12_MASTER_LEN)) {
        snprintf(names[side][0], sizeof names[0][0], "the %s's TLS 1.2 master secret (%s)", who,
                 round);
        add_needle(names[side][0], c->master_secret, TLS12_MASTER_LEN);
        t12.master[side] = true;
    }
    if (!t12.key_block[side] && c->t12 && nonzero(c->t12->key_block, kbl)) {
        const uint8_t *kb = c->t12->key_block;
        snprintf(names[side][1], sizeof names[0][1], "the %s's TLS 1.2 key block (%s)", who, round);
        snprintf(names[side][2], sizeof names[0][2], "the client write key (%s, %s's)", round, who);
        snprintf(names[side][3], sizeof names[0][3], "the server write key (%s, %s's)", round, who);
        add_needle(names[side][1], kb, kbl);
        add_needle(names[side][2], kb, 16);
        add_needle(names[side][3], kb + 16, 16);
        t12.key_block[side] = true;
    }
    uint8_t raw[32];
    size_t raw_len = sizeof raw;
    if (!t12.eph[side] && c->kex_key && c->state != ST_CLIENT_WAIT_SH &&
        EVP_PKEY_get_raw_private_key(kex_state_dh_key(c->kex_key), raw, &raw_len) == 1 &&
        raw_len == 32) {
        snprintf(names[side][4], sizeof names[0][4], "the %s's x25519 key (%s)", who, round);
        add_needle(names[side][4], raw, 32);
        t12.eph[side] = true;
    }
    OPENSSL_cleanse(raw, sizeof raw);
}

/* The pre-master secret from a client record holding ClientKeyExchange,
 * with the server's ECDHE key, before the server reads it. */
static void pms_from_cke(const certa_conn *server, const uint8_t *rec, size_t len) {
    if (t12.pms || server->state != ST12_SERVER_WAIT_CKE || !server->kex_key || len < 5 ||
        rec[0] != CONTENT_HANDSHAKE)
        return;
    for (size_t off = 5; off + 4 <= len;) {
        size_t n = (size_t)rec[off + 1] << 16 | (size_t)rec[off + 2] << 8 | rec[off + 3];
        if (off + 4 + n > len) return;
        if (rec[off] == HS_CLIENT_KEY_EXCHANGE && n == 33 && rec[off + 4] == 32) {
            EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, rec + off + 5, 32);
            EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(kex_state_dh_key(server->kex_key), NULL);
            uint8_t pms[32];
            size_t pms_len = sizeof pms;
            if (peer && dc && EVP_PKEY_derive_init(dc) == 1 &&
                EVP_PKEY_derive_set_peer(dc, peer) == 1 &&
                EVP_PKEY_derive(dc, pms, &pms_len) == 1 && pms_len == 32) {
                add_needle("the TLS 1.2 pre-master secret", pms, 32);
                t12.pms = true;
            }
            EVP_PKEY_CTX_free(dc);
            EVP_PKEY_free(peer);
            OPENSSL_cleanse(pms, sizeof pms);
            return;
        }
        off += 4 + n;
    }
}

/* Moves records one at a time both ways, capturing after each. */
static void pump12(pair *p, const char *round) {
    static uint8_t buf[65536];
    for (int r = 0; r < 40; r++) {
        bool moved = false;
        for (int dir = 0; dir < 2; dir++) {
            certa_conn *s = dir ? p->server : p->client, *d = dir ? p->client : p->server;
            const uint8_t *out;
            size_t n = certa_conn_outgoing(s, &out);
            if (n == 0) continue;
            if (n > sizeof buf) n = sizeof buf;
            memcpy(buf, out, n);
            certa_conn_outgoing_done(s, n);
            moved = true;
            size_t off = 0;
            while (off < n && !certa_conn_failed(d)) {
                size_t one = n - off, used = 0;
                if (one >= RECORD_HEADER_LEN)
                    one = RECORD_HEADER_LEN + ((size_t)buf[off + 3] << 8 | buf[off + 4]);
                if (one > n - off) one = n - off;
                if (dir == 0) {
                    armed = false;
                    pms_from_cke(p->server, buf + off, one);
                    armed = true;
                }
                certa_conn_recv(d, buf + off, one, &used);
                armed = false;
                capture12(p->client, round);
                capture12(p->server, round);
                armed = true;
                if (used == 0) break;
                off += used;
            }
        }
        if (!moved) break;
    }
    crypto_zero(buf, sizeof buf);
}

static void tls12_round(certa_config *ccfg, certa_config *scfg, const char *round, bool resume,
                        const char *c2s, const char *s2c) {
    memset(&t12, 0, sizeof t12);
    armed = true;
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pump12(&p, round);
    certa_conn_write(p.client, (const uint8_t *)c2s, strlen(c2s));
    pump12(&p, round);
    static uint8_t got[256];
    size_t n = certa_conn_read(p.server, got, sizeof got);
    bool c2s_ok = n == strlen(c2s) && memcmp(got, c2s, n) == 0;
    certa_conn_write(p.server, (const uint8_t *)s2c, strlen(s2c));
    pump12(&p, round);
    n = certa_conn_read(p.client, got, sizeof got);
    bool s2c_ok = n == strlen(s2c) && memcmp(got, s2c, n) == 0;
    certa_conn_close(p.client);
    pump12(&p, round);
    armed = false;
    certa_info ci, si;
    certa_conn_info(p.client, &ci);
    certa_conn_info(p.server, &si);
    CHECK(certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server) &&
              ci.version == CERTA_TLS12 && si.version == CERTA_TLS12 && ci.resumed == resume &&
              si.resumed == resume && c2s_ok && s2c_ok,
          "TLS 1.2 %s: handshake (%s) and data both ways (%s / %s)", round,
          resume ? "resumed with the ticket" : "full", certa_conn_error_text(p.client),
          certa_conn_error_text(p.server));
    if (resume)
        CHECK(t12.key_block[0] && t12.key_block[1],
              "TLS 1.2 %s: captured both sides' key blocks as needles", round);
    else
        CHECK(t12.master[0] && t12.master[1] && t12.key_block[0] && t12.key_block[1] && t12.pms &&
                  t12.eph[0] && t12.eph[1],
              "TLS 1.2 %s: captured both sides' master secret, key block and ECDHE key, and the "
              "pre-master secret, as needles",
              round);
    CHECK(!nonzero(p.client->master_secret, sizeof p.client->master_secret) &&
              !nonzero(p.server->master_secret, sizeof p.server->master_secret) &&
              p.client->t12 == NULL && p.server->t12 == NULL,
          "TLS 1.2 %s: neither connection still holds the master secret or the 1.2 handshake "
          "state (key block)",
          round);
    OPENSSL_cleanse(got, sizeof got);
    armed = true;
    pair_free(&p);
    armed = false;
}

static void tls12_check(void) {
    needle_count = 0;
    hit_count = 0;
    frees_seen = 0;
    armed = false;
    certa_config *scfg = certa_config_new(), *ccfg = certa_config_new();
    certa_config_set_cert_chain_pem(scfg, cert_pem_copy, strlen(cert_pem_copy));
    certa_config_set_private_key_pem(scfg, key_pem_copy, strlen(key_pem_copy));
    certa_config_set_versions(scfg, CERTA_TLS12, CERTA_TLS12);
    certa_config_set_versions(ccfg, CERTA_TLS12, CERTA_TLS13);
    certa_config_set_insecure(ccfg, true);
    /* x25519 for ECDHE; P-256 listed for the certificate's curve (RFC 8422) */
    certa_config_set_groups(ccfg, "x25519,secp256r1");
    certa_config_set_ciphers(ccfg, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
    add_needle("the server's ticket key (TLS 1.2)", scfg->ticket_keys->keys[0].key, 32);
    static const char c2s[] = "TLS12-CLIENT-TO-SERVER-CANARY-57721";
    static const char s2c[] = "TLS12-SERVER-TO-CLIENT-CANARY-69314";
    add_needle("TLS 1.2 client application data", c2s, sizeof c2s - 1);
    add_needle("TLS 1.2 server application data", s2c, sizeof s2c - 1);
    /* full handshake: the server's NewSessionTicket lands in the client cache */
    tls12_round(ccfg, scfg, "full handshake", false, c2s, s2c);
    size_t full_needles = needle_count;
    /* resumed from the cached ticket (its secret is the master secret above) */
    tls12_round(ccfg, scfg, "resumption", true, c2s, s2c);
    armed = true;
    certa_config_free(ccfg);
    certa_config_free(scfg);
    armed = false;
    report_hits("TLS 1.2");
    /* 3 + 11 (2 masters, 2 x 3 key block pieces, 2 ECDHE keys, the
     * pre-master secret); resumption: the 2 masters from the ticket, 2 x 3
     * key block pieces, the client's unused TLS 1.3 key share */
    CHECK(full_needles == 14 && needle_count == 23,
          "TLS 1.2: %zu needles after the full handshake (14), %zu after resumption (23)",
          full_needles, needle_count);
    CHECK(hit_count == 0,
          "TLS 1.2: no freed block held the master secret, a key block or record key, the "
          "pre-master secret, an ECDHE key, application data or the ticket key, through "
          "certa_config_free (%zu found, %zu needles, %zu frees)",
          hit_count, needle_count, frees_seen);
}

/* ---- HPKE (ECH's sealing): both KEMs, RFC 9180's A.1 and A.3 keys ----
 * The private keys (skR, skE), the context's key, base_nonce and
 * exporter_secret, an export and the plaintext must not survive in a freed
 * block: through setup on both sides, seal, open, export and the wipes. */
static void hpke_check(void) {
    for (size_t i = 0; i < sizeof hpke_vectors / sizeof hpke_vectors[0]; i++) {
        const hpke_vector *v = &hpke_vectors[i];
        if (v->kdf != HPKE_KDF_HKDF_SHA256 || v->aead != HPKE_AEAD_AES_128_GCM) continue;
        test_buf info = test_hex(v->info), ikm_e = test_hex(v->ikm_e), pk_r = test_hex(v->pk_rm);
        test_buf sk_r = test_hex(v->sk_rm), sk_e = test_hex(v->sk_em), key = test_hex(v->key);
        test_buf nonce = test_hex(v->base_nonce), exp = test_hex(v->exporter_secret);
        static const uint8_t pt[] = "ClientHelloInner: the secret server_name";
        uint8_t enc[HPKE_MAX_ENC], ct[sizeof pt + HPKE_TAG], back[sizeof pt], out[32];
        needle_count = 0;
        hit_count = frees_seen = 0;
        add_needle("HPKE skR", sk_r.b, sk_r.n);
        add_needle("HPKE skE", sk_e.b, sk_e.n);
        add_needle("HPKE key", key.b, key.n);
        add_needle("HPKE base_nonce", nonce.b, nonce.n);
        add_needle("HPKE exporter_secret", exp.b, exp.n);
        add_needle("the HPKE plaintext", pt, sizeof pt - 1);
        hpke_ctx s, r;
        armed = true;
        bool ok = hpke_setup_base_sender_with_ikm(&s, (uint16_t)v->kem, HPKE_KDF_HKDF_SHA256,
                                                  HPKE_AEAD_AES_128_GCM, pk_r.b, pk_r.n, info.b,
                                                  info.n, ikm_e.b, ikm_e.n, enc) == 0 &&
                  hpke_seal(&s, NULL, 0, pt, sizeof pt, ct) == 0 &&
                  hpke_setup_base_recipient(
                      &r, (uint16_t)v->kem, HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM, enc,
                      hpke_kem_enc_len((uint16_t)v->kem), sk_r.b, sk_r.n, info.b, info.n) == 0 &&
                  hpke_open(&r, NULL, 0, ct, sizeof ct, back) == 0 &&
                  hpke_export(&r, NULL, 0, out, sizeof out) == 0;
        add_needle("an HPKE export", out, sizeof out);
        uint8_t pk[HPKE_MAX_ENC];
        ok = ok && hpke_public_from_private((uint16_t)v->kem, sk_r.b, sk_r.n, pk) == 0;
        hpke_ctx_wipe(&s);
        hpke_ctx_wipe(&r);
        armed = false;
        CHECK(ok && memcmp(back, pt, sizeof pt) == 0, "%s: HPKE round trip", v->name);
        report_hits("HPKE");
        CHECK(hit_count == 0,
              "%s: no freed block held skR, skE, the key, base_nonce, exporter_secret, an export "
              "or the plaintext (%zu found, %zu frees)",
              v->name, hit_count, frees_seen);
        crypto_zero(back, sizeof back);
    }
}

/* ---- ECH's server side: ech_open_client_hello ----
 * A ClientHelloOuter sealed to an ECH key is opened and its inner hello
 * rebuilt; then the key is wiped. No freed block may hold the ECH private
 * key, the HPKE context's key, or the inner hello's server name (the
 * decrypted EncodedClientHelloInner and the rebuilt hello both carry it). */
static void ech_open_check(void) {
    static const char inner_name[] = "the-real-server-name.example";
    static const ech_suite suite = {HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM};
    uint8_t sk[32], pk[32], cfg[128], enc[32], info[8 + 128];
    builder b;
    ech_key *key = calloc(1, sizeof *key);
    bool ok = key != NULL && hpke_generate_keypair(HPKE_KEM_X25519_HKDF_SHA256, sk, pk) == 0;
    bld_init_fixed(&b, cfg, sizeof cfg);
    ok = ok &&
         ech_config_build(&b, 1, HPKE_KEM_X25519_HKDF_SHA256, pk, 32, &suite, 1, 0,
                          "public.example") == 0 &&
         ech_key_init(key, sk, 32, cfg, b.len) == 0;
    /* EncodedClientHelloInner: server_name, supported_versions (1.3), ECH inner. */
    uint8_t encoded[256], outer[512];
    builder e;
    bld_init_fixed(&e, encoded, sizeof encoded);
    bld_u16(&e, 0x0303);
    bld_zeros(&e, 32);
    bld_u8(&e, 0);
    bld_u16(&e, 2);
    bld_u16(&e, 0x1301);
    bld_u8(&e, 1);
    bld_u8(&e, 0);
    bld_open(&e, 2);
    bld_u16(&e, EXT_SERVER_NAME);
    bld_open(&e, 2);
    bld_open(&e, 2);
    bld_u8(&e, 0);
    bld_open(&e, 2);
    bld_bytes(&e, inner_name, sizeof inner_name - 1);
    bld_close(&e);
    bld_close(&e);
    bld_close(&e);
    static const uint8_t versions[] = {0, 43, 0, 3, 2, 3, 4}, inner_ext[] = {0xfe, 0x0d, 0, 1, 1};
    bld_bytes(&e, versions, sizeof versions);
    bld_bytes(&e, inner_ext, sizeof inner_ext);
    bld_close(&e);
    bld_zeros(&e, 16);
    /* The outer hello around it, the payload sealed under the zeroed AAD. */
    hpke_ctx ctx;
    memcpy(info, "tls ech", 8);
    memcpy(info + 8, key->config.raw, key->config.raw_len);
    ok = ok && bld_ok(&e) &&
         hpke_setup_base_sender(&ctx, HPKE_KEM_X25519_HKDF_SHA256, suite.kdf, suite.aead, pk, 32,
                                info, 8 + key->config.raw_len, enc) == 0;
    builder o;
    bld_init_fixed(&o, outer, sizeof outer);
    bld_u16(&o, 0x0303);
    bld_zeros(&o, 32);
    bld_u8(&o, 0);
    bld_u16(&o, 2);
    bld_u16(&o, 0x1301);
    bld_u8(&o, 1);
    bld_u8(&o, 0);
    bld_open(&o, 2);
    bld_u16(&o, ECH_VERSION);
    bld_open(&o, 2);
    bld_u8(&o, 0);
    bld_u16(&o, suite.kdf);
    bld_u16(&o, suite.aead);
    bld_u8(&o, 1);
    bld_open(&o, 2);
    bld_bytes(&o, enc, 32);
    bld_close(&o);
    bld_open(&o, 2);
    size_t at = o.len;
    bld_zeros(&o, e.len + HPKE_TAG);
    bld_close(&o);
    bld_close(&o);
    bld_close(&o);
    ok = ok && bld_ok(&o) && hpke_seal(&ctx, outer, o.len, encoded, e.len, outer + at) == 0;
    hpke_ctx_wipe(&ctx);
    crypto_zero(encoded, sizeof encoded);
    needle_count = 0;
    hit_count = frees_seen = 0;
    add_needle("the ECH private key", sk, 32);
    add_needle("the inner server name", inner_name, sizeof inner_name - 1);
    builder inner;
    ech_open_state st;
    memset(&st, 0, sizeof st);
    const char *why = NULL;
    armed = true;
    bld_init_alloc(&inner, 64);
    int rc = ok ? ech_open_client_hello(key, 1, outer, o.len, true, false, &st, &inner, &why) : -1;
    armed = false;
    if (rc == ECH_OPEN_OK) add_needle("the ECH context's AEAD key", st.hpke.key, 16);
    armed = true;
    hpke_ctx_wipe(&st.hpke);
    bld_free(&inner);
    ech_key_wipe(key);
    free(key);
    armed = false;
    crypto_zero(sk, sizeof sk);
    CHECK(rc == ECH_OPEN_OK, "ech_open: the sealed ClientHelloOuter opens (%s)", why ? why : "");
    report_hits("ech_open");
    CHECK(hit_count == 0,
          "ech_open: no freed block held the ECH private key, the HPKE key or the inner server "
          "name (%zu found, %zu frees)",
          hit_count, frees_seen);
}

int main(void) {
    install();
    self_check();
    handshake_check();
    hybrid_check();
    resumption_check();
    tls12_check();
    hpke_check();
    ech_open_check();
    OPENSSL_cleanse(key_pem_copy, sizeof key_pem_copy);
    TEST_EXIT();
}
