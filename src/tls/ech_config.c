/* ECHConfig / ECHConfigList (RFC 9849 §4): parsing with the RFC's skipping
 * rules, the client's choice of config and suite, and building one. */
#include <string.h>

#include "tls/ech_config.h"
#include "x509/names.h"

static bool hex_digit(uint8_t ch) {
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

bool ech_public_name_valid(const uint8_t *name, size_t len) {
    if (name == NULL || len == 0 || !dns_name_valid(name, len, false)) return false;
    size_t start = len;
    while (start > 0 && name[start - 1] != '.')
        start--;
    const uint8_t *last = name + start;
    size_t n = len - start;
    bool digits = true;
    for (size_t i = 0; i < n; i++)
        digits = digits && last[i] >= '0' && last[i] <= '9';
    if (digits) return false;
    if (n >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
        bool hex = true;
        for (size_t i = 2; i < n; i++)
            hex = hex && hex_digit(last[i]);
        if (hex) return false;
    }
    return true;
}

/* ECHConfigContents (version 0xfe0d): 0 usable, 1 skipped, -1 malformed. */
static int parse_contents(cursor c, ech_config *out) {
    cursor pk, suites, name, exts;
    if (!cur_u8(&c, &out->config_id) || !cur_u16(&c, &out->kem) || !cur_vec16(&c, &pk) ||
        pk.len == 0 || !cur_vec16(&c, &suites) || suites.len < 4 || suites.len % 4 != 0 ||
        !cur_u8(&c, &out->max_name_length) || !cur_vec8(&c, &name) || name.len == 0 ||
        !cur_vec16(&c, &exts) || !cur_empty(&c))
        return -1;
    int verdict = 0;
    /* Extensions: one of each type at most; an unknown mandatory one (high
     * bit set) makes the config unusable. None is known yet. */
    uint16_t seen[64];
    size_t n_seen = 0;
    while (!cur_empty(&exts)) {
        uint16_t type;
        cursor data;
        if (!cur_u16(&exts, &type) || !cur_vec16(&exts, &data)) return -1;
        for (size_t i = 0; i < n_seen; i++)
            if (seen[i] == type) return -1;
        if (n_seen < sizeof seen / sizeof seen[0]) seen[n_seen++] = type;
        if (type & 0x8000) verdict = 1;
    }
    if (pk.len > sizeof out->public_key)
        verdict = 1;
    else {
        memcpy(out->public_key, pk.data, pk.len);
        out->public_key_len = pk.len;
    }
    out->n_suites = 0;
    while (!cur_empty(&suites)) {
        ech_suite s;
        if (!cur_u16(&suites, &s.kdf) || !cur_u16(&suites, &s.aead)) return -1;
        if (out->n_suites < ECH_MAX_SUITES) out->suites[out->n_suites++] = s;
    }
    if (!ech_public_name_valid(name.data, name.len))
        verdict = 1;
    else {
        memcpy(out->public_name, name.data, name.len);
        out->public_name[name.len] = '\0';
    }
    return verdict;
}

/* One ECHConfig from c: 0 usable, 1 skipped, -1 malformed. */
static int parse_one(cursor *c, ech_config *out) {
    const uint8_t *start = c->data;
    uint16_t version;
    cursor contents;
    if (!cur_u16(c, &version) || !cur_vec16(c, &contents)) return -1;
    memset(out, 0, sizeof *out);
    out->raw = start;
    out->raw_len = 4 + contents.len;
    if (version != ECH_VERSION) return 1;
    return parse_contents(contents, out);
}

int ech_config_parse(const uint8_t *data, size_t len, ech_config *out) {
    if (data == NULL || out == NULL) return -1;
    cursor c;
    cur_init(&c, data, len);
    int rc = parse_one(&c, out);
    return rc >= 0 && !cur_empty(&c) ? -1 : rc;
}

int ech_config_list_parse(const uint8_t *list, size_t len, ech_config *out, size_t max, size_t *n) {
    if (list == NULL || n == NULL || (out == NULL && max > 0)) return -1;
    *n = 0;
    cursor c, configs;
    cur_init(&c, list, len);
    if (!cur_vec16(&c, &configs) || !cur_empty(&c) || configs.len == 0) return -1;
    while (!cur_empty(&configs)) {
        ech_config scratch;
        ech_config *slot = *n < max ? &out[*n] : &scratch;
        int rc = parse_one(&configs, slot);
        if (rc < 0) {
            *n = 0;
            return -1;
        }
        if (rc == 0 && *n < max) (*n)++;
    }
    return 0;
}

int ech_config_choose(const ech_config *configs, size_t n, size_t *index, ech_suite *suite) {
    if (configs == NULL || index == NULL || suite == NULL) return -1;
    for (size_t i = 0; i < n; i++) {
        const ech_config *cfg = &configs[i];
        if (!hpke_kem_supported(cfg->kem) || cfg->public_key_len != hpke_kem_enc_len(cfg->kem))
            continue;
        for (size_t j = 0; j < cfg->n_suites; j++) {
            if (!hpke_suite_supported(cfg->suites[j].kdf, cfg->suites[j].aead)) continue;
            *index = i;
            *suite = cfg->suites[j];
            return 0;
        }
    }
    return -1;
}

int ech_config_build(builder *b, uint8_t config_id, uint16_t kem, const uint8_t *pk, size_t pk_len,
                     const ech_suite *suites, size_t n_suites, uint8_t max_name_length,
                     const char *public_name) {
    if (b == NULL || pk == NULL || pk_len == 0 || pk_len != hpke_kem_enc_len(kem) ||
        suites == NULL || n_suites == 0 || n_suites > 0x3fff || public_name == NULL ||
        !ech_public_name_valid((const uint8_t *)public_name, strlen(public_name)))
        return -1;
    bld_u16(b, ECH_VERSION);
    bld_open(b, 2);
    bld_u8(b, config_id);
    bld_u16(b, kem);
    bld_open(b, 2);
    bld_bytes(b, pk, pk_len);
    bld_close(b);
    bld_open(b, 2);
    for (size_t i = 0; i < n_suites; i++) {
        bld_u16(b, suites[i].kdf);
        bld_u16(b, suites[i].aead);
    }
    bld_close(b);
    bld_u8(b, max_name_length);
    bld_open(b, 1);
    bld_bytes(b, public_name, strlen(public_name));
    bld_close(b);
    bld_u16(b, 0); /* extensions */
    bld_close(b);
    return b->failed ? -1 : 0; /* b may be inside a vector of the caller's (a list) */
}
