/* The shared, read-only-once-used configuration. */
#include "tls/ticket_keys.h"
#include "tls/tls.h"
#include "x509/cert.h"
#include "x509/pem.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t default_time(void *arg) {
    (void)arg;
    return (int64_t)time(NULL);
}

static int default_random(void *arg, uint8_t *out, size_t len) {
    (void)arg;
    return crypto_random(out, len);
}

certa_config *certa_config_new(void) {
    certa_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    cfg->ids = calloc(1, sizeof *cfg->ids); /* grows as identities are added */
    if (!cfg->ids) {
        free(cfg);
        return NULL;
    }
    cfg->id_cap = 1;
    atomic_init(&cfg->refs, 1);
    atomic_init(&cfg->frozen, false);
    static const uint16_t default_ciphers[] = {CERTA_TLS_AES_128_GCM_SHA256,
                                               CERTA_TLS_AES_256_GCM_SHA384,
                                               CERTA_TLS_CHACHA20_POLY1305_SHA256};
    /* Post-quantum first (a client sends its share and an x25519 one). */
    static const uint16_t default_groups[] = {CERTA_GROUP_X25519MLKEM768, CERTA_GROUP_X25519,
                                              CERTA_GROUP_SECP256R1, CERTA_GROUP_SECP384R1};
    memcpy(cfg->ciphers, default_ciphers, sizeof default_ciphers);
    cfg->cipher_count = 3;
    /* TLS 1.2 (when enabled): ECDSA before RSA, AES-GCM before ChaCha20. */
    static const uint16_t default_ciphers12[] = {
        CERTA_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        CERTA_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        CERTA_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        CERTA_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        CERTA_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        CERTA_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256};
    memcpy(cfg->ciphers12, default_ciphers12, sizeof default_ciphers12);
    cfg->cipher12_count = sizeof default_ciphers12 / sizeof default_ciphers12[0];
    cfg->min_version = CERTA_TLS13;
    cfg->max_version = CERTA_TLS13;
    cfg->require_ems = true;
    cfg->min_rsa_bits = DEFAULT_MIN_RSA_BITS;
    cfg->min_ec_bits = DEFAULT_MIN_EC_BITS;
    memcpy(cfg->groups, default_groups, sizeof default_groups);
    cfg->group_count = sizeof default_groups / sizeof default_groups[0];
    cfg->max_handshake = DEFAULT_MAX_HANDSHAKE;
    cfg->max_chain = DEFAULT_MAX_CHAIN;
    cfg->max_verify_work = DEFAULT_MAX_VERIFY_WORK;
    cfg->max_idle_records = DEFAULT_MAX_IDLE_RECORDS;
    cfg->time_fn = default_time;
    cfg->random_fn = default_random;
    cfg->id_count = 1; /* slot 0: the pair from load_cert_chain/load_private_key */
    pthread_mutex_init(&cfg->trust_lock, NULL);
    cfg->tickets = DEFAULT_TICKETS;
    cfg->ticket_lifetime = DEFAULT_TICKET_LIFETIME;
    cfg->ticket_keys = ticket_keys_default(); /* its own, rotating every 6 h */
    cfg->cache.cap = DEFAULT_SESSION_CACHE;
    pthread_mutex_init(&cfg->cache.lock, NULL);
    /* Offering to decompress costs nothing until a peer compresses; brotli
     * compresses certificates best. */
    cfg->cert_comp[0] = CERTA_CERT_COMPRESSION_BROTLI;
    cfg->cert_comp[1] = CERTA_CERT_COMPRESSION_ZLIB;
    cfg->cert_comp_count = 2;
    for (size_t i = 0; i < MAX_IDENTITIES; i++)
        for (size_t j = 0; j < CERT_CODECS; j++)
            atomic_init(&cfg->cert_cache[i][j].ready, false);
    pthread_mutex_init(&cfg->cert_cache_lock, NULL);
    ocsp_sig_cache_init(&cfg->ocsp_cache);
    pthread_mutex_init(&cfg->crl_lock, NULL);
    cfg->early_age_window = DEFAULT_EARLY_AGE_WINDOW;
    cfg->replay_capacity = DEFAULT_REPLAY_CAPACITY;
    pthread_mutex_init(&cfg->replay_lock, NULL);
    return cfg;
}

void certa_config_free(certa_config *cfg) {
    if (!cfg) return;
    if (atomic_fetch_sub(&cfg->refs, 1) != 1) return;
    for (size_t i = 0; i < cfg->id_count; i++)
        identity_clear(&cfg->ids[i]);
    free(cfg->ids);
    certa_trust_free(cfg->owned_trust);
    spiffe_bundles_free(cfg);
    pthread_mutex_destroy(&cfg->trust_lock);
    session_cache_clear(&cfg->cache);
    pthread_mutex_destroy(&cfg->cache.lock);
    early_store_free(cfg);
    pthread_mutex_destroy(&cfg->replay_lock);
    for (size_t i = 0; i < MAX_IDENTITIES; i++)
        for (size_t j = 0; j < CERT_CODECS; j++) {
            free(cfg->cert_cache[i][j].msg);
            free(cfg->cert_cache[i][j].stapled);
        }
    pthread_mutex_destroy(&cfg->cert_cache_lock);
    ocsp_sig_cache_destroy(&cfg->ocsp_cache);
    certa_ticket_keys_free(cfg->ticket_keys);
    config_crls_free(cfg);
    config_ct_logs_free(cfg);
    ech_config_free(cfg);
    crypto_zero(cfg, sizeof *cfg);
    free(cfg);
}

int config_random(const certa_config *cfg, uint8_t *out, size_t len) {
    return cfg->random_fn(cfg->random_arg, out, len) == 0 ? 0 : CERTA_E_CRYPTO;
}

int config_err(certa_config *cfg, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cfg->error, sizeof cfg->error, fmt, ap);
    va_end(ap);
    return code;
}

int config_load_file(certa_config *cfg, const char *path,
                     int (*setter)(certa_config *, const char *, size_t)) {
    CHECK_MUTABLE(cfg);
    char *text;
    size_t len;
    if (!path || read_file(path, &text, &len) != 0)
        return config_err(cfg, CERTA_E_FILE, "cannot read '%s': check the path and permissions",
                          path ? path : "(none)");
    int r = setter(cfg, text, len);
    crypto_zero(text, len);
    free(text);
    if (r != CERTA_OK) {
        char detail[sizeof cfg->error];
        snprintf(detail, sizeof detail, "%s", cfg->error);
        snprintf(cfg->error, sizeof cfg->error, "%.80s: %.170s", path, detail);
    }
    return r;
}

/* Splits a comma-separated list, calling fn on each trimmed item. */
static int for_each_item(const char *list, int (*fn)(void *, const char *, size_t), void *arg) {
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *start = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > start && isspace((unsigned char)end[-1]))
            end--;
        if (end > start) {
            int r = fn(arg, start, (size_t)(end - start));
            if (r) return r;
        }
    }
    return 0;
}

typedef struct name_value {
    const char *name;
    uint16_t value;
} name_value;

static const name_value cipher_names[] = {
    {"TLS_AES_128_GCM_SHA256", CERTA_TLS_AES_128_GCM_SHA256},
    {"TLS_AES_256_GCM_SHA384", CERTA_TLS_AES_256_GCM_SHA384},
    {"TLS_CHACHA20_POLY1305_SHA256", CERTA_TLS_CHACHA20_POLY1305_SHA256},
    {"TLS_AES_128_CCM_SHA256", CERTA_TLS_AES_128_CCM_SHA256},
    {"aes128gcm", CERTA_TLS_AES_128_GCM_SHA256},
    {"aes256gcm", CERTA_TLS_AES_256_GCM_SHA384},
    {"chacha20poly1305", CERTA_TLS_CHACHA20_POLY1305_SHA256},
    {"aes128ccm", CERTA_TLS_AES_128_CCM_SHA256},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", CERTA_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", CERTA_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
     CERTA_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", CERTA_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", CERTA_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     CERTA_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
    {"ECDHE-ECDSA-AES128-GCM-SHA256", CERTA_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
    {"ECDHE-ECDSA-AES256-GCM-SHA384", CERTA_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
    {"ECDHE-ECDSA-CHACHA20-POLY1305", CERTA_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256},
    {"ECDHE-RSA-AES128-GCM-SHA256", CERTA_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
    {"ECDHE-RSA-AES256-GCM-SHA384", CERTA_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
    {"ECDHE-RSA-CHACHA20-POLY1305", CERTA_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256},
    {NULL, 0},
};

static const name_value group_names[] = {
    {"x25519", CERTA_GROUP_X25519},
    {"X25519", CERTA_GROUP_X25519},
    {"secp256r1", CERTA_GROUP_SECP256R1},
    {"P-256", CERTA_GROUP_SECP256R1},
    {"prime256v1", CERTA_GROUP_SECP256R1},
    {"secp384r1", CERTA_GROUP_SECP384R1},
    {"P-384", CERTA_GROUP_SECP384R1},
    {"secp521r1", CERTA_GROUP_SECP521R1},
    {"P-521", CERTA_GROUP_SECP521R1},
    {"x448", CERTA_GROUP_X448},
    {"X448", CERTA_GROUP_X448},
    {"X25519MLKEM768", CERTA_GROUP_X25519MLKEM768},
    {"x25519mlkem768", CERTA_GROUP_X25519MLKEM768},
    {"SecP256r1MLKEM768", CERTA_GROUP_SECP256R1MLKEM768},
    {"secp256r1mlkem768", CERTA_GROUP_SECP256R1MLKEM768},
    {"SecP384r1MLKEM1024", CERTA_GROUP_SECP384R1MLKEM1024},
    {"secp384r1mlkem1024", CERTA_GROUP_SECP384R1MLKEM1024},
    {"ffdhe2048", CERTA_GROUP_FFDHE2048},
    {"ffdhe3072", CERTA_GROUP_FFDHE3072},
    {"ffdhe4096", CERTA_GROUP_FFDHE4096},
    {"ffdhe6144", CERTA_GROUP_FFDHE6144},
    {"ffdhe8192", CERTA_GROUP_FFDHE8192},
    {NULL, 0},
};

typedef struct list_builder {
    const name_value *names;
    uint16_t *out;
    size_t count, cap;
    const char *bad;
    size_t bad_len;
} list_builder;

static int add_named(void *arg, const char *item, size_t len) {
    list_builder *lb = arg;
    for (const name_value *nv = lb->names; nv->name; nv++) {
        if (strlen(nv->name) == len && strncmp(nv->name, item, len) == 0) {
            for (size_t i = 0; i < lb->count; i++)
                if (lb->out[i] == nv->value) return 0; /* repeated: keep first */
            if (lb->count == lb->cap) return CERTA_E_INVALID_ARGUMENT;
            lb->out[lb->count++] = nv->value;
            return 0;
        }
    }
    lb->bad = item;
    lb->bad_len = len;
    return CERTA_E_UNKNOWN_NAME;
}

static int set_named_list(certa_config *cfg, const char *list, const name_value *names,
                          uint16_t *dst, size_t *dst_count, const char *what) {
    CHECK_MUTABLE(cfg);
    if (!list) return CERTA_E_INVALID_ARGUMENT;
    uint16_t tmp[MAX_CIPHERS];
    list_builder lb = {names, tmp, 0, dst == cfg->groups ? MAX_GROUPS : MAX_CIPHERS, NULL, 0};
    int r = for_each_item(list, add_named, &lb);
    if (r == CERTA_E_UNKNOWN_NAME) {
        char known[200] = "";
        for (const name_value *nv = names; nv->name; nv++) {
            if (strlen(known) + strlen(nv->name) + 3 >= sizeof known) break;
            if (known[0]) strcat(known, ", ");
            strcat(known, nv->name);
        }
        snprintf(cfg->error, sizeof cfg->error, "unknown %s '%.*s': known names are %s", what,
                 (int)(lb.bad_len > 60 ? 60 : lb.bad_len), lb.bad, known);
        return r;
    }
    if (r) return r;
    if (lb.count == 0)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "the %s list is empty", what);
    memcpy(dst, tmp, lb.count * sizeof tmp[0]);
    *dst_count = lb.count;
    return CERTA_OK;
}

/* One list names suites of either version; each version named replaces
 * that version's list, keeping the order given. */
int certa_config_set_ciphers(certa_config *cfg, const char *list) {
    uint16_t all[MAX_CIPHERS];
    size_t n = 0;
    int r = set_named_list(cfg, list, cipher_names, all, &n, "cipher suite");
    if (r) return r;
    uint16_t v13[MAX_CIPHERS], v12[MAX_CIPHERS];
    size_t n13 = 0, n12 = 0;
    for (size_t i = 0; i < n; i++) {
        if (cipher_suite_find(all[i])->version == CERTA_TLS13)
            v13[n13++] = all[i];
        else
            v12[n12++] = all[i];
    }
    if (n13 > MAX_LIST)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "at most %d TLS 1.3 cipher suites",
                          MAX_LIST);
    if (n13) {
        memcpy(cfg->ciphers, v13, n13 * sizeof v13[0]);
        cfg->cipher_count = n13;
    }
    if (n12) {
        memcpy(cfg->ciphers12, v12, n12 * sizeof v12[0]);
        cfg->cipher12_count = n12;
    }
    return CERTA_OK;
}

int certa_config_set_versions(certa_config *cfg, uint16_t min, uint16_t max) {
    CHECK_MUTABLE(cfg);
    bool known =
        (min == CERTA_TLS12 || min == CERTA_TLS13) && (max == CERTA_TLS12 || max == CERTA_TLS13);
    if (!known)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "unsupported TLS version range 0x%04x-0x%04x: certa speaks TLS 1.2 "
                          "(0x0303) and TLS 1.3 (0x0304)",
                          min, max);
    if (min > max)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "the minimum TLS version is above the maximum: swap them");
    cfg->min_version = min;
    cfg->max_version = max;
    return CERTA_OK;
}

void certa_config_get_versions(const certa_config *cfg, uint16_t *min, uint16_t *max) {
    if (min) *min = cfg ? cfg->min_version : 0;
    if (max) *max = cfg ? cfg->max_version : 0;
}

void certa_config_set_require_ems(certa_config *cfg, bool require) {
    if (cfg && !atomic_load(&cfg->frozen)) cfg->require_ems = require;
}

int certa_config_set_groups(certa_config *cfg, const char *list) {
    return set_named_list(cfg, list, group_names, cfg ? cfg->groups : NULL,
                          cfg ? &cfg->group_count : NULL, "group");
}

typedef struct alpn_builder {
    builder b;
    bool bad;
} alpn_builder;

static int add_alpn(void *arg, const char *item, size_t len) {
    alpn_builder *ab = arg;
    if (len > 255) {
        ab->bad = true;
        return CERTA_E_INVALID_ARGUMENT;
    }
    bld_u8(&ab->b, (uint8_t)len);
    bld_bytes(&ab->b, item, len);
    return bld_ok(&ab->b) ? 0 : CERTA_E_INVALID_ARGUMENT;
}

int certa_config_set_alpn(certa_config *cfg, const char *list) {
    CHECK_MUTABLE(cfg);
    if (!list) return CERTA_E_INVALID_ARGUMENT;
    uint8_t tmp[ALPN_WIRE_MAX];
    alpn_builder ab;
    ab.bad = false;
    bld_init_fixed(&ab.b, tmp, sizeof tmp);
    if (for_each_item(list, add_alpn, &ab) != 0)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "ALPN list '%.100s' is too long (each protocol at most 255 bytes, all "
                          "together at most 512)",
                          list);
    memcpy(cfg->alpn_wire, tmp, ab.b.len);
    cfg->alpn_wire_len = ab.b.len;
    return CERTA_OK;
}

typedef struct codec_list {
    uint16_t algs[CERT_CODECS];
    size_t count;
    const char *bad;
    size_t bad_len;
} codec_list;

static int add_codec(void *arg, const char *item, size_t len) {
    codec_list *l = arg;
    const cert_codec *codec = cert_codec_by_name(item, len);
    if (!codec) {
        l->bad = item;
        l->bad_len = len;
        return CERTA_E_UNKNOWN_NAME;
    }
    for (size_t i = 0; i < l->count; i++)
        if (l->algs[i] == codec->id) return 0; /* repeated: keep first */
    l->algs[l->count++] = codec->id;           /* at most CERT_CODECS distinct ones */
    return 0;
}

int certa_config_set_cert_compression(certa_config *cfg, const char *list) {
    CHECK_MUTABLE(cfg);
    if (!list) return CERTA_E_INVALID_ARGUMENT;
    codec_list l = {{0}, 0, NULL, 0};
    if (strcmp(list, "off") != 0 && strcmp(list, "none") != 0 &&
        for_each_item(list, add_codec, &l) != 0)
        return config_err(cfg, CERTA_E_UNKNOWN_NAME,
                          "unknown certificate compression algorithm '%.*s': known are zlib and "
                          "brotli (or off)",
                          (int)(l.bad_len > 60 ? 60 : l.bad_len), l.bad);
    memcpy(cfg->cert_comp, l.algs, sizeof l.algs);
    cfg->cert_comp_count = l.count;
    return CERTA_OK;
}

int certa_config_add_pin(certa_config *cfg, const char *pin) {
    CHECK_MUTABLE(cfg);
    if (!pin) return CERTA_E_INVALID_ARGUMENT;
    uint8_t hash[48];
    if (strncmp(pin, "sha256:", 7) != 0 ||
        base64_decode(pin + 7, strlen(pin + 7), hash, sizeof hash) != 32)
        return config_err(cfg, CERTA_E_BAD_PIN,
                          "'%.80s' is not a pin: expected sha256:BASE64 of the SHA-256 of the "
                          "server's SubjectPublicKeyInfo (44 base64 characters)",
                          pin);
    if (cfg->pin_count == MAX_PINS)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "at most 16 pins");
    memcpy(cfg->pins[cfg->pin_count++], hash, 32);
    return CERTA_OK;
}

void certa_config_set_insecure(certa_config *cfg, bool insecure) {
    if (cfg && !atomic_load(&cfg->frozen)) cfg->insecure = insecure;
}

void certa_config_set_max_handshake_size(certa_config *cfg, size_t max) {
    if (cfg && !atomic_load(&cfg->frozen) && max >= 1024) cfg->max_handshake = max;
}

void certa_config_set_max_chain_length(certa_config *cfg, unsigned max) {
    if (cfg && !atomic_load(&cfg->frozen) && max >= 1)
        cfg->max_chain = max > MAX_PEER_CERTS ? MAX_PEER_CERTS : max;
}

void certa_config_set_max_verify_work(certa_config *cfg, unsigned max) {
    if (cfg && !atomic_load(&cfg->frozen) && max >= 1) cfg->max_verify_work = max;
}

int certa_config_set_record_size_limit(certa_config *cfg, unsigned bytes) {
    CHECK_MUTABLE(cfg);
    if (bytes < 64 || bytes > RECORD_MAX_PLAINTEXT)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "record_size_limit %u is outside 64 to 16384 bytes (RFC 8449)", bytes);
    cfg->record_size_limit = (uint16_t)bytes;
    return CERTA_OK;
}

void certa_config_set_max_idle_records(certa_config *cfg, unsigned max) {
    if (cfg && !atomic_load(&cfg->frozen) && max >= 1) cfg->max_idle_records = max;
}

void certa_config_set_time_fn(certa_config *cfg, certa_time_fn fn, void *arg) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->time_fn = fn ? fn : default_time;
    cfg->time_arg = arg;
}

void certa_config_set_random_fn(certa_config *cfg, certa_random_fn fn, void *arg) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->random_fn = fn ? fn : default_random;
    cfg->random_arg = arg;
}

const char *certa_config_error_text(const certa_config *cfg) {
    return cfg ? cfg->error : "";
}
