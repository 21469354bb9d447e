/* SCRATCH, never committed: a stand-in for ech-hpke's parser until it lands. */
#include "tls/ech_open.h"
#include <string.h>
static int parse_one(cursor *c, ech_config *o, bool *ok) {
    uint16_t version; cursor contents;
    if (!cur_u16(c, &version) || !cur_vec16(c, &contents)) return -1;
    *ok = false;
    if (version != ECH_VERSION) return 0;
    memset(o, 0, sizeof *o);
    o->raw = contents.data - 4; o->raw_len = contents.len + 4;
    cursor pk, suites, name, exts;
    if (!cur_u8(&contents, &o->config_id) || !cur_u16(&contents, &o->kem) || !cur_vec16(&contents, &pk) ||
        !cur_vec16(&contents, &suites) || !cur_u8(&contents, &o->max_name_length) || !cur_vec8(&contents, &name) ||
        !cur_vec16(&contents, &exts) || !cur_empty(&contents)) return -1;
    if (pk.len > HPKE_MAX_ENC) return -1;
    memcpy(o->public_key, pk.data, pk.len); o->public_key_len = pk.len;
    while (!cur_empty(&suites)) { ech_suite s; if (!cur_u16(&suites,&s.kdf)||!cur_u16(&suites,&s.aead)) return -1; if (o->n_suites<ECH_MAX_SUITES) o->suites[o->n_suites++]=s; }
    memcpy(o->public_name, name.data, name.len); o->public_name[name.len]=0;
    *ok = true; return 0;
}
int ech_config_list_parse(const uint8_t *list, size_t len, ech_config *out, size_t max, size_t *n) {
    cursor c, l; cur_init(&c, list, len); *n = 0;
    if (!cur_vec16(&c, &l) || !cur_empty(&c)) return -1;
    while (!cur_empty(&l)) { ech_config tmp; bool ok; if (parse_one(&l, &tmp, &ok)) return -1; if (ok && *n < max) out[(*n)++] = tmp; }
    return 0;
}
int ech_config_choose(const ech_config *configs, size_t n, size_t *index, ech_suite *suite) {
    for (size_t i = 0; i < n; i++) { if (!hpke_kem_supported(configs[i].kem)) continue;
        for (size_t j = 0; j < configs[i].n_suites; j++) if (hpke_suite_supported(configs[i].suites[j].kdf, configs[i].suites[j].aead)) { *index=i; *suite=configs[i].suites[j]; return 0; } }
    return -1;
}
int ech_key_init(ech_key *k, const uint8_t *sk, size_t sk_len, const uint8_t *cfg, size_t cfg_len) {
    if (cfg_len > sizeof k->config_storage || sk_len > HPKE_MAX_PRIVATE) return -1;
    memcpy(k->config_storage, cfg, cfg_len);
    cursor c; cur_init(&c, k->config_storage, cfg_len); bool ok;
    if (parse_one(&c, &k->config, &ok) || !ok || !cur_empty(&c)) return -1;
    memcpy(k->private_key, sk, sk_len); k->private_key_len = sk_len; return 0;
}
int ech_open_client_hello(const ech_key *keys, size_t n_keys, const uint8_t *outer, size_t outer_len, bool first, ech_open_state *st, builder *inner, const char **why) {
    (void)keys;(void)n_keys;(void)outer;(void)outer_len;(void)first;(void)st;(void)inner; *why="scratch"; return ECH_OPEN_NOT_DECRYPTED;
}
