/* Trust anchors per SPIFFE trust domain (certa_config_add_spiffe_bundle):
 * with them a peer's SPIFFE ID picks the anchors its chain is validated
 * against, so a federated domain's CA vouches only for its own IDs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"

#define MAX_SPIFFE_BUNDLES 64

struct spiffe_bundle {
    char trust_domain[256]; /* "example.org" */
    certa_trust *trust;
};

/* "spiffe://example.org/path" or "spiffe://example.org" -> "example.org"
 * (length in *len); the input without the scheme otherwise. */
static const char *domain_of(const char *id, size_t *len) {
    if (!strncmp(id, "spiffe://", 9)) id += 9;
    *len = strcspn(id, "/");
    return id;
}

int certa_config_add_spiffe_bundle(certa_config *cfg, const char *trust_domain, const char *pem,
                                   size_t len) {
    CHECK_MUTABLE(cfg);
    if (!trust_domain) return CERTA_E_INVALID_ARGUMENT;
    size_t td_len;
    const char *td = domain_of(trust_domain, &td_len);
    if (td_len == 0 || td_len >= sizeof cfg->spiffe_bundles[0].trust_domain || td[td_len] != 0)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "'%.100s' is not a trust domain: write spiffe://example.org",
                          trust_domain);
    for (size_t i = 0; i < td_len; i++) {
        char ch = td[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
              ch == '_'))
            return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                              "'%.100s' is not a trust domain: lowercase letters, digits, '.', "
                              "'-' and '_' only",
                              trust_domain);
    }
    char what[300];
    snprintf(what, sizeof what, "the bundle of trust domain %s", td);
    certa_trust *t;
    int r = trust_from_pem(cfg, what, pem, len, &t);
    if (r != CERTA_OK) return r;
    for (size_t i = 0; i < cfg->spiffe_bundle_count; i++)
        if (!strcmp(cfg->spiffe_bundles[i].trust_domain, td)) {
            certa_trust_free(cfg->spiffe_bundles[i].trust);
            cfg->spiffe_bundles[i].trust = t;
            return CERTA_OK;
        }
    if (cfg->spiffe_bundle_count == MAX_SPIFFE_BUNDLES) {
        certa_trust_free(t);
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "more than %d SPIFFE trust domains",
                          MAX_SPIFFE_BUNDLES);
    }
    struct spiffe_bundle *grown =
        realloc(cfg->spiffe_bundles, (cfg->spiffe_bundle_count + 1) * sizeof *grown);
    if (!grown) {
        certa_trust_free(t);
        return CERTA_E_NOMEM;
    }
    cfg->spiffe_bundles = grown;
    memcpy(grown[cfg->spiffe_bundle_count].trust_domain, td, td_len + 1);
    grown[cfg->spiffe_bundle_count].trust = t;
    cfg->spiffe_bundle_count++;
    return CERTA_OK;
}

const certa_trust *spiffe_bundle_for(const certa_config *cfg, const char *spiffe_id,
                                     bool *none_for_td) {
    *none_for_td = false;
    if (!cfg->spiffe_bundle_count || !spiffe_id || !spiffe_id[0]) return NULL;
    size_t len;
    const char *td = domain_of(spiffe_id, &len);
    for (size_t i = 0; i < cfg->spiffe_bundle_count; i++)
        if (strlen(cfg->spiffe_bundles[i].trust_domain) == len &&
            !memcmp(cfg->spiffe_bundles[i].trust_domain, td, len))
            return cfg->spiffe_bundles[i].trust;
    *none_for_td = true;
    return NULL;
}

void spiffe_bundles_free(certa_config *cfg) {
    for (size_t i = 0; i < cfg->spiffe_bundle_count; i++)
        certa_trust_free(cfg->spiffe_bundles[i].trust);
    free(cfg->spiffe_bundles);
    cfg->spiffe_bundles = NULL;
    cfg->spiffe_bundle_count = 0;
}
