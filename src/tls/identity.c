/* Our own identities (certificate chain + private key, possibly several)
 * and the trust set used to validate the peer's. */
#include "tls/tls.h"
#include "x509/cert.h"
#include "x509/extensions.h"
#include "x509/names.h"
#include "x509/pem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void identity_clear(identity *id) {
    for (size_t i = 0; i < id->count; i++)
        free(id->chain[i]);
    free(id->chain);
    free(id->lens);
    free(id->names);
    free(id->ocsp);
    free(id->sct_list);
    key_free(id->key);
    memset(id, 0, sizeof *id);
}

bool identity_complete(const identity *id) {
    return id->count > 0 && id->key != NULL;
}

/* The key must belong to the leaf, whichever of the two is loaded last. */
static int check_pair(certa_config *cfg, const crypto_key *key, const identity *chain) {
    if (!key || chain->count == 0) return CERTA_OK;
    x509_cert leaf;
    if (x509_parse(&leaf, chain->chain[0], chain->lens[0]) != 0)
        return config_err(cfg, CERTA_E_BAD_CERTIFICATE, "the leaf certificate is malformed");
    crypto_key *pub = key_from_spki(leaf.spki.data, leaf.spki.len);
    bool ok = pub && key_pair_matches(key, pub);
    key_free(pub);
    if (!ok)
        return config_err(cfg, CERTA_E_KEY_MISMATCH,
                          "the private key does not belong to the certificate: pass the key "
                          "that was used to request this certificate (the previous one is kept)");
    return CERTA_OK;
}

static int chain_append(identity *id, uint8_t *der, size_t len) {
    uint8_t **d = realloc(id->chain, (id->count + 1) * sizeof *d);
    if (!d) return -1;
    id->chain = d;
    size_t *l = realloc(id->lens, (id->count + 1) * sizeof *l);
    if (!l) return -1;
    id->lens = l;
    id->chain[id->count] = der;
    id->lens[id->count] = len;
    id->count++;
    return 0;
}

/* The leaf's DNS SANs that are valid host names or wildcard patterns, kept
 * so a handshake matches SNI without parsing the certificate again. */
static int read_leaf_names(identity *id) {
    x509_cert leaf;
    x509_exts exts;
    if (x509_parse(&leaf, id->chain[0], id->lens[0]) != 0 ||
        x509_parse_extensions(&leaf, &exts, NULL, 0) != X509_EXT_OK || !exts.has_san)
        return 0; /* no names: the identity can still be the default */
    size_t total = 0;
    for (int pass = 0; pass < 2; pass++) {
        cursor names = exts.san, value;
        uint8_t tag;
        size_t used = 0;
        while (x509_next_general_name(&names, &tag, &value)) {
            if (tag != GN_DNS || !dns_name_valid(value.data, value.len, true)) continue;
            if (pass == 1) {
                memcpy(id->names + used, value.data, value.len);
                id->names[used + value.len] = 0;
                id->name_count++;
            }
            used += value.len + 1;
        }
        if (pass == 0) {
            if (used == 0) return 0;
            total = used;
            id->names = malloc(total);
            if (!id->names) return -1;
        }
    }
    return 0;
}

/* Parses every CERTIFICATE block into out (which starts empty). */
static int parse_chain(certa_config *cfg, const char *pem, size_t len, identity *out) {
    size_t pos = 0;
    uint8_t *der;
    size_t der_len;
    int r;
    while ((r = pem_next(pem, len, &pos, "CERTIFICATE", &der, &der_len)) == 1) {
        x509_cert cert;
        if (x509_parse(&cert, der, der_len) != 0) {
            free(der);
            identity_clear(out);
            return config_err(cfg, CERTA_E_BAD_CERTIFICATE,
                              "certificate %zu in the chain is malformed DER", out->count + 1);
        }
        if (chain_append(out, der, der_len) != 0) {
            free(der);
            identity_clear(out);
            return CERTA_E_NOMEM;
        }
    }
    if (r < 0 || out->count == 0) {
        identity_clear(out);
        return config_err(cfg, CERTA_E_BAD_PEM,
                          "no CERTIFICATE PEM block found: the file must contain "
                          "-----BEGIN CERTIFICATE----- blocks, leaf first");
    }
    if (read_leaf_names(out) != 0) {
        identity_clear(out);
        return CERTA_E_NOMEM;
    }
    return CERTA_OK;
}

/* A new chain replaces the old one only if it parses and fits the key. */
int certa_config_set_cert_chain_pem(certa_config *cfg, const char *pem, size_t len) {
    CHECK_MUTABLE(cfg);
    identity fresh = {0};
    int r = parse_chain(cfg, pem, len, &fresh);
    if (!r) r = check_pair(cfg, cfg->ids[0].key, &fresh);
    if (r) {
        identity_clear(&fresh);
        return r;
    }
    fresh.key = cfg->ids[0].key; /* a config always has slot 0 (config.c) */
    cfg->ids[0].key = NULL;
    identity_clear(&cfg->ids[0]);
    cfg->ids[0] = fresh;
    return CERTA_OK;
}

int certa_config_set_private_key_pem(certa_config *cfg, const char *pem, size_t len) {
    CHECK_MUTABLE(cfg);
    crypto_key *key = key_from_pem(pem, len);
    if (!key) return config_err(cfg, CERTA_E_BAD_KEY, "%s", certa_error_text(CERTA_E_BAD_KEY));
    int r = check_pair(cfg, key, &cfg->ids[0]);
    if (r) {
        key_free(key);
        return r;
    }
    key_free(cfg->ids[0].key);
    cfg->ids[0].key = key;
    return CERTA_OK;
}

/* A token key: its own sentence on failure (what to fix), never the PIN. */
static int key_from_uri(certa_config *cfg, const char *uri, crypto_key **key) {
    char why[512];
    if (key_from_pkcs11_uri(uri, NULL, key, why, sizeof why) != 0)
        return config_err(cfg, CERTA_E_BAD_KEY, "%s", why);
    return CERTA_OK;
}

int certa_config_set_private_key_uri(certa_config *cfg, const char *uri) {
    CHECK_MUTABLE(cfg);
    crypto_key *key = NULL;
    int r = key_from_uri(cfg, uri, &key);
    if (!r) r = check_pair(cfg, key, &cfg->ids[0]);
    if (r) {
        key_free(key);
        return r;
    }
    key_free(cfg->ids[0].key);
    cfg->ids[0].key = key;
    return CERTA_OK;
}

int certa_config_load_cert_chain(certa_config *cfg, const char *path) {
    return config_load_file(cfg, path, certa_config_set_cert_chain_pem);
}

int certa_config_load_private_key(certa_config *cfg, const char *path) {
    return config_load_file(cfg, path, certa_config_set_private_key_pem);
}

/* Adds a pair: the key from PEM, or (key_uri not NULL) from a token. */
static int add_identity(certa_config *cfg, const char *chain_pem, size_t chain_len,
                        const char *key_pem, size_t key_len, const char *key_uri) {
    CHECK_MUTABLE(cfg);
    if (cfg->id_count > MAX_IDENTITIES) /* slot 0 and MAX_IDENTITIES added ones */
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "at most %d added identities per config",
                          MAX_IDENTITIES);
    if (cfg->id_count == cfg->id_cap) { /* grow by doubling: a server may hold many names */
        size_t cap = cfg->id_cap * 2 > MAX_IDENTITIES + 1 ? MAX_IDENTITIES + 1 : cfg->id_cap * 2;
        identity *grown = realloc(cfg->ids, cap * sizeof *grown);
        if (!grown) return CERTA_E_NOMEM;
        memset(grown + cfg->id_cap, 0, (cap - cfg->id_cap) * sizeof *grown);
        cfg->ids = grown;
        cfg->id_cap = cap;
    }
    identity fresh = {0};
    int r = parse_chain(cfg, chain_pem, chain_len, &fresh);
    if (r) return r;
    if (key_uri) {
        r = key_from_uri(cfg, key_uri, &fresh.key);
        if (r) {
            identity_clear(&fresh);
            return r;
        }
    } else {
        fresh.key = key_from_pem(key_pem, key_len);
    }
    if (!fresh.key) {
        identity_clear(&fresh);
        return config_err(cfg, CERTA_E_BAD_KEY, "%s", certa_error_text(CERTA_E_BAD_KEY));
    }
    crypto_key *key = fresh.key;
    r = check_pair(cfg, key, &fresh);
    if (r) {
        identity_clear(&fresh);
        return r;
    }
    cfg->ids[cfg->id_count++] = fresh;
    return CERTA_OK;
}

int certa_config_add_identity_pem(certa_config *cfg, const char *chain_pem, size_t chain_len,
                                  const char *key_pem, size_t key_len) {
    return add_identity(cfg, chain_pem, chain_len, key_pem, key_len, NULL);
}

int certa_config_add_identity_uri(certa_config *cfg, const char *chain_path, const char *key_uri) {
    CHECK_MUTABLE(cfg);
    char *chain = NULL;
    size_t chain_len;
    if (!key_uri) return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "no PKCS#11 URI for the key");
    if (!chain_path || read_file(chain_path, &chain, &chain_len) != 0)
        return config_err(cfg, CERTA_E_FILE, "cannot read '%s': check the path and permissions",
                          chain_path ? chain_path : "(none)");
    int r = add_identity(cfg, chain, chain_len, NULL, 0, key_uri);
    free(chain);
    return r;
}

int certa_config_add_identity_files(certa_config *cfg, const char *chain_path,
                                    const char *key_path) {
    CHECK_MUTABLE(cfg);
    char *chain = NULL, *key = NULL;
    size_t chain_len, key_len;
    if (!chain_path || read_file(chain_path, &chain, &chain_len) != 0)
        return config_err(cfg, CERTA_E_FILE, "cannot read '%s': check the path and permissions",
                          chain_path ? chain_path : "(none)");
    if (!key_path || read_file(key_path, &key, &key_len) != 0) {
        free(chain);
        return config_err(cfg, CERTA_E_FILE, "cannot read '%s': check the path and permissions",
                          key_path ? key_path : "(none)");
    }
    int r = certa_config_add_identity_pem(cfg, chain, chain_len, key, key_len);
    crypto_zero(key, key_len);
    free(key);
    free(chain);
    return r;
}

/* Does any certificate of the chain name one of the DNs as its issuer? */
static bool chain_matches_cas(const identity *id, cursor ca_names) {
    cursor dn;
    while (cur_vec16(&ca_names, &dn)) {
        for (size_t i = 0; i < id->count; i++) {
            x509_cert cert;
            if (x509_parse(&cert, id->chain[i], id->lens[i]) != 0) continue;
            if ((cert.issuer.len == dn.len && !memcmp(cert.issuer.data, dn.data, dn.len)) ||
                (cert.subject.len == dn.len && !memcmp(cert.subject.data, dn.data, dn.len)))
                return true;
        }
    }
    return false;
}

static bool scheme_known(uint16_t s, bool tls12) {
    const uint16_t *list = tls12 ? tls12_sig_schemes : tls13_sig_schemes;
    size_t n = tls12 ? tls12_sig_schemes_count : tls13_sig_schemes_count;
    for (size_t i = 0; i < n; i++)
        if (list[i] == s) return true;
    return false;
}

/* host already valid: the names were checked when loaded, so matching is a
 * length test and a case-insensitive compare per name. */
const char *identity_name_match_valid(const identity *id, const char *host, size_t hn) {
    const char *name = id->names;
    for (size_t i = 0; i < id->name_count; i++) {
        size_t n = strlen(name);
        if (dns_name_match_valid((const uint8_t *)name, n, (const uint8_t *)host, hn)) return name;
        name += n + 1;
    }
    return NULL;
}

bool sni_host_valid(const char *host, size_t *hn) {
    if (!host) return false;
    *hn = strlen(host);
    return dns_name_valid((const uint8_t *)host, *hn, false);
}

const char *identity_name_match(const identity *id, const char *host) {
    size_t hn;
    return sni_host_valid(host, &hn) ? identity_name_match_valid(id, host, hn) : NULL;
}

bool identities_know_name(const certa_config *cfg, const char *host) {
    size_t hn;
    if (!sni_host_valid(host, &hn)) return false;
    for (size_t i = 0; i < cfg->id_count; i++)
        if (identity_complete(&cfg->ids[i]) && identity_name_match_valid(&cfg->ids[i], host, hn))
            return true;
    return false;
}

/* "a.example, b.example, and 3 more" into out: what the server has. */
static void list_names(const certa_config *cfg, char *out, size_t cap) {
    size_t used = 0, left_out = 0;
    out[0] = 0;
    for (size_t i = 0; i < cfg->id_count; i++) {
        const identity *id = &cfg->ids[i];
        if (!identity_complete(id)) continue;
        const char *name = id->names;
        for (size_t k = 0; k < id->name_count; k++, name += strlen(name) + 1) {
            size_t n = strlen(name);
            if (left_out || used + n + 24 >= cap) {
                left_out++;
                continue;
            }
            used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? ", " : "", name);
        }
    }
    if (left_out) snprintf(out + used, cap - used, " and %zu more", left_out);
    if (!out[0]) snprintf(out, cap, "no DNS names at all");
}

int sni_strict_check(certa_conn *c) {
    if (!c->cfg->sni_strict || !c->server_name[0] || identities_know_name(c->cfg, c->server_name))
        return 0;
    char names[200];
    list_names(c->cfg, names, sizeof names);
    return conn_fail(c, CERTA_E_UNRECOGNIZED_NAME, ALERT_UNRECOGNIZED_NAME,
                     "no certificate for '%.64s': the server has certificates for %s",
                     c->server_name, names);
}

const identity *identity_first(const certa_config *cfg, const char *server_name) {
    const identity *any = NULL;
    for (size_t i = 0; i < cfg->id_count; i++) {
        const identity *id = &cfg->ids[i];
        if (!identity_complete(id)) continue;
        if (identity_name_match(id, server_name)) return id;
        if (!any) any = id;
    }
    return any;
}

void identity_choice_note(const certa_conn *c, char *out, size_t cap) {
    out[0] = 0;
    if (!c->server_name[0]) return;
    if (c->cert_name)
        snprintf(out, cap, ", DNS %s matches SNI %s", c->cert_name, c->server_name);
    else
        snprintf(out, cap, ", the default%s%s%s: none is for SNI %s",
                 c->id->name_count ? " (DNS " : "", c->id->name_count ? c->id->names : "",
                 c->id->name_count ? ")" : "", c->server_name);
}

/* One pass over the identities; by_name: only those with a certificate for
 * that (valid) host name. */
static const identity *choose_pass(const certa_config *cfg, cursor peer_schemes,
                                   const cursor *ca_names, const char *by_name, uint16_t *scheme,
                                   bool tls12) {
    size_t by_len = by_name ? strlen(by_name) : 0;
    for (size_t i = 0; i < cfg->id_count; i++) {
        const identity *id = &cfg->ids[i];
        if (!identity_complete(id)) continue;
        if (by_name && !identity_name_match_valid(id, by_name, by_len)) continue;
        if (ca_names && !chain_matches_cas(id, *ca_names)) continue;
        /* The peer's first scheme that fits; in TLS 1.2, where ECDSA names
         * only the hash, the one of the key's own curve first (P-521 signs
         * with SHA-512 when the peer allows it, as in TLS 1.3). */
        cursor list = peer_schemes;
        uint16_t s, first = 0;
        while (cur_u16(&list, &s)) {
            if (!scheme_known(s, tls12)) continue;
            bool own = sig_scheme_fits_key(s, id->key);
            if (tls12 && !first && sig_scheme_fits_key_tls12(s, id->key)) first = s;
            if (own) {
                *scheme = s;
                return id;
            }
        }
        if (first) {
            *scheme = first;
            return id;
        }
    }
    return NULL;
}

static const identity *choose_among(const certa_config *cfg, cursor peer_schemes,
                                    const cursor *ca_names, const char *by_name, uint16_t *scheme,
                                    bool tls12) {
    const identity *id = NULL;
    if (ca_names && ca_names->len)
        id = choose_pass(cfg, peer_schemes, ca_names, by_name, scheme, tls12);
    return id ? id : choose_pass(cfg, peer_schemes, NULL, by_name, scheme, tls12);
}

static const identity *choose(const certa_config *cfg, cursor peer_schemes, const cursor *ca_names,
                              const char *server_name, uint16_t *scheme, bool tls12) {
    bool by_name = server_name && server_name[0] && identities_know_name(cfg, server_name);
    if (by_name) {
        const identity *id = choose_among(cfg, peer_schemes, ca_names, server_name, scheme, tls12);
        /* Strict: never a certificate for another name, even when the ones
         * for this name do not fit the client. */
        if (id || cfg->sni_strict) return id;
    }
    return choose_among(cfg, peer_schemes, ca_names, NULL, scheme, tls12);
}

const identity *identity_choose(const certa_config *cfg, cursor peer_schemes,
                                const cursor *ca_names, const char *server_name, uint16_t *scheme) {
    return choose(cfg, peer_schemes, ca_names, server_name, scheme, false);
}

const identity *identity_choose_tls12(const certa_config *cfg, cursor peer_schemes,
                                      const cursor *ca_names, uint16_t *scheme) {
    return choose(cfg, peer_schemes, ca_names, NULL, scheme, true);
}

void certa_config_set_sni_strict(certa_config *cfg, bool strict) {
    if (cfg && !atomic_load(&cfg->frozen)) cfg->sni_strict = strict;
}

void certa_config_set_trust(certa_config *cfg, const certa_trust *trust) {
    if (!cfg || atomic_load(&cfg->frozen)) return;
    cfg->trust = trust;
}

/* The config's own trust set becomes t (the previous one freed). */
static void adopt_trust(certa_config *cfg, certa_trust *t) {
    certa_trust_free(cfg->owned_trust);
    cfg->owned_trust = t;
    cfg->trust = t;
}

int certa_config_load_trust(certa_config *cfg, const char *path) {
    CHECK_MUTABLE(cfg);
    certa_trust *t = certa_trust_new();
    if (!t) return CERTA_E_NOMEM;
    int r = certa_trust_load(t, path);
    if (r) {
        config_err(cfg, r, "%s", certa_trust_error_text(t));
        certa_trust_free(t);
        return r;
    }
    adopt_trust(cfg, t);
    return CERTA_OK;
}

int trust_from_pem(certa_config *cfg, const char *what, const char *pem, size_t len,
                   certa_trust **out) {
    *out = NULL;
    if (!pem) return CERTA_E_INVALID_ARGUMENT;
    certa_trust *t = certa_trust_new();
    if (!t) return CERTA_E_NOMEM;
    int r = certa_trust_add_pem(t, pem, len);
    if (r == CERTA_OK && certa_trust_count(t) == 0) r = CERTA_E_TRUST_EMPTY;
    if (r) {
        config_err(cfg, r, "%s: %s", what,
                   *certa_trust_error_text(t) ? certa_trust_error_text(t)
                                              : "the PEM text holds no CERTIFICATE block");
        certa_trust_free(t);
        return r;
    }
    *out = t;
    return CERTA_OK;
}

int certa_config_load_trust_pem(certa_config *cfg, const char *pem, size_t len) {
    CHECK_MUTABLE(cfg);
    certa_trust *t;
    int r = trust_from_pem(cfg, "trust anchors", pem, len, &t);
    if (r == CERTA_OK) adopt_trust(cfg, t);
    return r;
}

void certa_config_set_client_auth(certa_config *cfg, certa_client_auth mode) {
    if (cfg && !atomic_load(&cfg->frozen)) cfg->client_auth = mode;
}

const certa_trust *config_trust(certa_config *cfg) {
    pthread_mutex_lock(&cfg->trust_lock);
    if (!cfg->trust) {
        certa_trust *t = certa_trust_new();
        if (t && certa_trust_load_system(t) == CERTA_OK) {
            cfg->owned_trust = t;
            cfg->trust = t;
        } else {
            certa_trust_free(t);
        }
    }
    const certa_trust *t = cfg->trust;
    pthread_mutex_unlock(&cfg->trust_lock);
    return t;
}
