/* ECHConfigList and ECHConfig parsing (src/tls/ech_config.c), as a client
 * reads them from DNS or retry_configs and certa's key loader from files.
 * Properties: every kept config's raw lies inside the input and parses on
 * its own to the same fields; a usable public_name passes the name check; a
 * config without extensions builds back to its raw bytes; choose returns a
 * config and suite that exist and that we support. */
#include <stdlib.h>
#include <string.h>

#include "tls/ech_config.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint8_t *copy = malloc(size ? size : 1); /* exactly size bytes: ASan sees any overread */
    if (copy == NULL) return 0;
    memcpy(copy, data, size);
    ech_config cfgs[8];
    size_t n = 0;
    if (ech_config_list_parse(copy, size, cfgs, 8, &n) == 0) {
        CHECK(n <= 8);
        for (size_t i = 0; i < n; i++) {
            const ech_config *c = &cfgs[i];
            CHECK(c->raw >= copy && c->raw + c->raw_len <= copy + size);
            CHECK(ech_public_name_valid((const uint8_t *)c->public_name, strlen(c->public_name)));
            ech_config again;
            CHECK(ech_config_parse(c->raw, c->raw_len, &again) == 0);
            CHECK(again.config_id == c->config_id && again.kem == c->kem &&
                  again.n_suites == c->n_suites && strcmp(again.public_name, c->public_name) == 0);
            uint8_t out[1024];
            builder b;
            bld_init_fixed(&b, out, sizeof out);
            if (c->n_suites < ECH_MAX_SUITES &&
                ech_config_build(&b, c->config_id, c->kem, c->public_key, c->public_key_len,
                                 c->suites, c->n_suites, c->max_name_length, c->public_name) == 0 &&
                b.len == c->raw_len) /* the same length: the raw config has no extensions */
                CHECK(memcmp(out, c->raw, b.len) == 0);
        }
        size_t idx;
        ech_suite s;
        if (ech_config_choose(cfgs, n, &idx, &s) == 0)
            CHECK(idx < n && hpke_kem_supported(cfgs[idx].kem) &&
                  hpke_suite_supported(s.kdf, s.aead));
    } else {
        CHECK(n == 0);
    }
    ech_config one;
    int rc = ech_config_parse(copy, size, &one);
    CHECK(rc >= -1 && rc <= 1);
    free(copy);
    return 0;
}
