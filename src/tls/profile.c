/* Configuration profiles: one table of named settings (versions, cipher
 * suites, groups, minimum key sizes), applied by certa_config_set_profile;
 * the descriptions the CLI prints come from the same table. Also the key
 * size checks on our own and the peer's certificate keys. */
#include "tls/tls.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct profile {
    const char *name;
    const char *purpose;
    uint16_t min_version, max_version;
    uint16_t ciphers13[MAX_LIST + 1]; /* 0-terminated, preference order */
    uint16_t ciphers12[MAX_CIPHERS + 1];
    uint16_t groups[MAX_LIST + 1];
    unsigned min_rsa_bits, min_ec_bits;
    const char *note; /* said after the settings, or NULL */
} profile;

#define S13_AES128 CERTA_TLS_AES_128_GCM_SHA256
#define S13_AES256 CERTA_TLS_AES_256_GCM_SHA384
#define S13_CHACHA CERTA_TLS_CHACHA20_POLY1305_SHA256
#define S13_CCM CERTA_TLS_AES_128_CCM_SHA256
#define S12_EC_AES128 CERTA_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
#define S12_EC_AES256 CERTA_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
#define S12_EC_CHACHA CERTA_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
#define S12_RSA_AES128 CERTA_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
#define S12_RSA_AES256 CERTA_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
#define S12_RSA_CHACHA CERTA_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
#define G_X25519 CERTA_GROUP_X25519
#define G_P256 CERTA_GROUP_SECP256R1
#define G_P384 CERTA_GROUP_SECP384R1
#define G_X25519MLKEM768 CERTA_GROUP_X25519MLKEM768
#define G_P384MLKEM1024 CERTA_GROUP_SECP384R1MLKEM1024

/* Every profile sets every field here, so one profile after another leaves
 * nothing of the first. The TLS 1.2 list of a TLS 1.3-only profile is what
 * a later certa_config_set_versions that enables 1.2 would use. */
static const profile profiles[] = {
    {
        .name = "public",
        .purpose = "Internet-facing services",
        .min_version = CERTA_TLS12,
        .max_version = CERTA_TLS13,
        .ciphers13 = {S13_AES128, S13_AES256, S13_CHACHA},
        .ciphers12 = {S12_EC_AES128, S12_EC_AES256, S12_EC_CHACHA, S12_RSA_AES128, S12_RSA_AES256},
        .groups = {G_X25519MLKEM768, G_X25519, G_P256, G_P384},
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .note = "AEAD suites only; ECDSA (P-256) certificates preferred: TLS 1.2 lists the "
                "ECDSA suites first",
    },
    {
        .name = "internal",
        .purpose = "service-to-service traffic between modern peers",
        .min_version = CERTA_TLS13,
        .max_version = CERTA_TLS13,
        .ciphers13 = {S13_AES128, S13_AES256, S13_CHACHA},
        .ciphers12 = {S12_EC_AES128, S12_EC_AES256, S12_EC_CHACHA, S12_RSA_AES128, S12_RSA_AES256,
                      S12_RSA_CHACHA},
        .groups = {G_X25519MLKEM768, G_X25519, G_P256, G_P384},
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
    },
    {
        .name = "legacy",
        .purpose = "older peers that cannot be upgraded",
        .min_version = CERTA_TLS12,
        .max_version = CERTA_TLS13,
        .ciphers13 = {S13_AES128, S13_AES256, S13_CHACHA},
        .ciphers12 = {S12_EC_AES128, S12_EC_AES256, S12_EC_CHACHA, S12_RSA_AES128, S12_RSA_AES256,
                      S12_RSA_CHACHA},
        .groups = {G_X25519MLKEM768, G_X25519, G_P256, G_P384},
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .note = "All six certa TLS 1.2 suites, ECDHE-RSA included; RSA 2048 accepted. Still "
                "ECDHE and AEAD only, and the extended master secret stays required "
                "(--allow-no-ems for a peer without it)",
    },
    {
        .name = "iot",
        .purpose = "constrained devices",
        .min_version = CERTA_TLS13,
        .max_version = CERTA_TLS13,
        .ciphers13 = {S13_CHACHA, S13_AES128, S13_AES256, S13_CCM},
        .ciphers12 = {S12_EC_CHACHA, S12_RSA_CHACHA, S12_EC_AES128, S12_RSA_AES128},
        /* the hybrid's 1.2 KB share is costly on a constrained link:
         * accepted, never sent first */
        .groups = {G_X25519, G_P256, G_X25519MLKEM768},
        .min_rsa_bits = 2048,
        .min_ec_bits = 256,
        .note = "ChaCha20-Poly1305 first, for devices without AES hardware; "
                "TLS_AES_128_CCM_SHA256 (TLS 1.3 only, off in every other profile) last, for "
                "devices whose radio or MCU does AES-CCM in hardware and offers nothing else",
    },
    {
        .name = "high-security",
        .purpose = "the strictest baseline: 192-bit-class algorithms and keys",
        .min_version = CERTA_TLS13,
        .max_version = CERTA_TLS13,
        .ciphers13 = {S13_AES256},
        .ciphers12 = {S12_EC_AES256, S12_RSA_AES256},
        .groups = {G_P384MLKEM1024, G_P384},
        .min_rsa_bits = 3072,
        .min_ec_bits = 384,
        .note = "AES-256-GCM only; P-384, with ML-KEM-1024 first (SecP384r1MLKEM1024)",
    },
};
#define PROFILE_COUNT (sizeof profiles / sizeof profiles[0])

static const profile *profile_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < PROFILE_COUNT; i++)
        if (!strcmp(profiles[i].name, name)) return &profiles[i];
    return NULL;
}

static size_t list_len(const uint16_t *list) {
    size_t n = 0;
    while (list[n])
        n++;
    return n;
}

int certa_config_set_profile(certa_config *cfg, const char *name) {
    CHECK_MUTABLE(cfg);
    const profile *p = profile_find(name);
    if (!p) {
        char known[160] = "";
        for (size_t i = 0; i < PROFILE_COUNT; i++) {
            size_t used = strlen(known);
            snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "", profiles[i].name);
        }
        return config_err(cfg, CERTA_E_UNKNOWN_NAME,
                          "unknown profile '%.60s': known profiles are %s", name ? name : "(null)",
                          known);
    }
    cfg->min_version = p->min_version;
    cfg->max_version = p->max_version;
    cfg->cipher_count = list_len(p->ciphers13);
    memcpy(cfg->ciphers, p->ciphers13, cfg->cipher_count * sizeof cfg->ciphers[0]);
    cfg->cipher12_count = list_len(p->ciphers12);
    memcpy(cfg->ciphers12, p->ciphers12, cfg->cipher12_count * sizeof cfg->ciphers12[0]);
    cfg->group_count = list_len(p->groups);
    memcpy(cfg->groups, p->groups, cfg->group_count * sizeof cfg->groups[0]);
    cfg->min_rsa_bits = p->min_rsa_bits;
    cfg->min_ec_bits = p->min_ec_bits;
    cfg->require_ems = true;
    cfg->profile = p->name;
    return CERTA_OK;
}

int certa_config_set_min_key_bits(certa_config *cfg, unsigned rsa_bits, unsigned ec_bits) {
    CHECK_MUTABLE(cfg);
    if (rsa_bits < 2048 || rsa_bits > 16384 || ec_bits < 256 || ec_bits > 521)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "minimum key sizes must be 2048 to 16384 bits for RSA and 256 to 521 "
                          "for EC (certa never accepts smaller keys), not %u and %u",
                          rsa_bits, ec_bits);
    cfg->min_rsa_bits = rsa_bits;
    cfg->min_ec_bits = ec_bits;
    cfg->profile = NULL; /* the sentences no longer name a profile */
    return CERTA_OK;
}

const char *certa_profile_name(size_t index) {
    return index < PROFILE_COUNT ? profiles[index].name : NULL;
}

/* ---- descriptions, built once from the table ---- */

static char descriptions[PROFILE_COUNT][900];
static pthread_once_t descriptions_once = PTHREAD_ONCE_INIT;

static void append(char *buf, size_t cap, const char *fmt, const char *arg) {
    size_t used = strlen(buf);
    if (used < cap) snprintf(buf + used, cap - used, fmt, arg);
}

static void append_list(char *buf, size_t cap, const char *label, const uint16_t *list,
                        const char *(*name)(uint16_t)) {
    append(buf, cap, "%s", label);
    for (size_t i = 0; list[i]; i++)
        append(buf, cap, i ? ", %s" : "%s", name(list[i]));
    append(buf, cap, "%s", "; ");
}

static void build_descriptions(void) {
    for (size_t i = 0; i < PROFILE_COUNT; i++) {
        const profile *p = &profiles[i];
        char *d = descriptions[i];
        size_t cap = sizeof descriptions[i];
        append(d, cap, "For %s. ", p->purpose);
        append(d, cap, "%s; ",
               p->min_version == p->max_version
                   ? (p->max_version == CERTA_TLS13 ? "TLS 1.3 only" : "TLS 1.2 only")
                   : "TLS 1.2 and 1.3");
        append_list(d, cap, "TLS 1.3 suites: ", p->ciphers13, certa_cipher_suite_name);
        if (p->min_version <= CERTA_TLS12)
            append_list(d, cap, "TLS 1.2 suites: ", p->ciphers12, certa_cipher_suite_name);
        append_list(d, cap, "groups: ", p->groups, certa_group_name);
        char keys[96];
        snprintf(keys, sizeof keys, "certificate keys: RSA >= %u bits, EC >= %u bits",
                 p->min_rsa_bits, p->min_ec_bits);
        append(d, cap, "%s", keys);
        if (p->note) append(d, cap, ". %s", p->note);
    }
}

const char *certa_profile_description(const char *name) {
    const profile *p = profile_find(name);
    if (!p) return NULL;
    pthread_once(&descriptions_once, build_descriptions);
    return descriptions[p - profiles];
}

/* ---- key sizes ---- */

/* Is the key below the config's minimum for its family? If so, have gets
 * the key ("RSA 2048") and need the minimum ("at least 3072 bits"). */
static bool key_too_small(const certa_config *cfg, const crypto_key *key, char *have,
                          size_t have_cap, char *need, size_t need_cap) {
    key_family family;
    int bits = key_size_bits(key, &family);
    unsigned min = family == KEY_FAMILY_RSA  ? cfg->min_rsa_bits
                   : family == KEY_FAMILY_EC ? cfg->min_ec_bits
                                             : 0;
    if (min == 0 || bits <= 0 || (unsigned)bits >= min) return false;
    key_describe(key, have, have_cap);
    if (family == KEY_FAMILY_RSA)
        snprintf(need, need_cap, "at least %u bits", min);
    else
        snprintf(need, need_cap, "a curve of at least %u bits%s", min,
                 min <= 384 && min > 256 ? " (P-384)" : "");
    return true;
}

static void requirer(const certa_config *cfg, char *out, size_t cap) {
    if (cfg->profile)
        snprintf(out, cap, "the %s profile", cfg->profile);
    else
        snprintf(out, cap, "this configuration");
}

/* The first of our complete identities below the minimums: the sentence
 * into out (side: "server", "client" or NULL for "this"), true if one is. */
static bool own_key_too_small(const certa_config *cfg, const char *side, char *out, size_t cap) {
    for (size_t i = 0; i < cfg->id_count; i++) {
        const identity *id = &cfg->ids[i];
        if (!identity_complete(id)) continue;
        char have[48], need[64], who[48];
        if (!key_too_small(cfg, id->key, have, sizeof have, need, sizeof need)) continue;
        requirer(cfg, who, sizeof who);
        char whose[32] = "the";
        if (side) snprintf(whose, sizeof whose, "this %s's", side);
        snprintf(out, cap,
                 "%s certificate has an %s key; %s requires %s: reissue it with a larger key",
                 whose, have, who, need);
        return true;
    }
    return false;
}

int own_key_size_check(certa_conn *c) {
    char why[240];
    if (!own_key_too_small(c->cfg, c->is_server ? "server" : "client", why, sizeof why)) return 0;
    return conn_fail(c, CERTA_E_CONFIG, ALERT_HANDSHAKE_FAILURE, "%s", why);
}

int certa_config_check_key_sizes(certa_config *cfg) {
    if (!cfg) return CERTA_E_INVALID_ARGUMENT;
    char why[240];
    if (!own_key_too_small(cfg, NULL, why, sizeof why)) return CERTA_OK;
    return config_err(cfg, CERTA_E_CONFIG, "%s", why);
}

int peer_key_size_check(certa_conn *c) {
    char have[48], need[64], who[48];
    if (!key_too_small(c->cfg, c->peer_key, have, sizeof have, need, sizeof need)) return 0;
    requirer(c->cfg, who, sizeof who);
    return conn_fail(c, CERTA_E_CERT_WEAK_ALGORITHM, 71 /* insufficient_security */,
                     "the %s's certificate has an %s key; %s requires %s: reissue it with a "
                     "larger key",
                     c->is_server ? "client" : "server", have, who, need);
}
