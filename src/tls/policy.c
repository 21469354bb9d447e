/* Identity policy: allow rules on the verified peer (SPIFFE ID, SPIFFE
 * trust-domain or path prefix, DNS SAN, SPKI pin), and the peer identity
 * the rules and the user see. */
#include "tls/tls.h"
#include "x509/cert.h"
#include "x509/extensions.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* spiffe://trust-domain[/path]: lowercase trust domain of [a-z0-9.-_]. */
static bool spiffe_trust_domain_ok(const char *id) {
    const char *td = id + strlen("spiffe://");
    size_t n = 0;
    for (; td[n] && td[n] != '/'; n++) {
        char ch = td[n];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' ||
              ch == '_'))
            return false;
    }
    return n > 0;
}

int certa_config_add_allow(certa_config *cfg, const char *rule) {
    CHECK_MUTABLE(cfg);
    if (!rule) return CERTA_E_INVALID_ARGUMENT;
    if (cfg->rule_count == MAX_RULES)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "at most %d allow rules", MAX_RULES);
    allow_rule r;
    memset(&r, 0, sizeof r);
    size_t len = strlen(rule);
    if (len == 0 || len >= sizeof r.value) goto bad;
    snprintf(r.text, sizeof r.text, "%s", rule);
    if (!strncmp(rule, "spiffe://", 9)) {
        if (!spiffe_trust_domain_ok(rule)) goto bad;
        const char *star = strchr(rule, '*');
        if (star) {
            /* only a final star after a slash: the rule names a path prefix */
            if (star != rule + len - 1 || star[-1] != '/') goto bad;
            r.kind = RULE_SPIFFE_PREFIX;
            memcpy(r.value, rule, len - 1); /* keeps the trailing '/' */
        } else {
            r.kind = RULE_SPIFFE_EXACT;
            memcpy(r.value, rule, len);
        }
    } else if (!strncmp(rule, "dns:", 4) && len > 4) {
        r.kind = RULE_DNS;
        memcpy(r.value, rule + 4, len - 4);
    } else if (!strncmp(rule, "sha256:", 7)) {
        uint8_t pin[48];
        if (base64_decode(rule + 7, len - 7, pin, sizeof pin) != 32) goto bad;
        r.kind = RULE_PIN;
        memcpy(r.pin, pin, 32);
    } else {
        goto bad;
    }
    cfg->rules[cfg->rule_count++] = r;
    return CERTA_OK;
bad:
    return config_err(cfg, CERTA_E_BAD_RULE,
                      "'%.100s' is not an allow rule: use spiffe://domain/path, "
                      "spiffe://domain/prefix/*, dns:NAME or sha256:BASE64",
                      rule);
}

int peer_identity_fill(const uint8_t *der, size_t len, certa_peer_identity *id) {
    memset(id, 0, sizeof *id);
    x509_cert cert;
    if (x509_parse(&cert, der, len) != 0) return -1;
    id->present = true;
    x509_name_to_string(&cert.subject, id->subject, sizeof id->subject);
    x509_name_to_string(&cert.issuer, id->issuer, sizeof id->issuer);
    x509_spki_pin(&cert, id->spki_sha256, sizeof id->spki_sha256);
    id->not_after = cert.not_after;
    x509_exts exts;
    if (x509_parse_extensions(&cert, &exts, NULL, 0) != X509_EXT_OK || !exts.has_san) return 0;
    cursor names = exts.san, value;
    uint8_t tag;
    size_t used = 0;
    while (x509_next_general_name(&names, &tag, &value)) {
        if (tag == GN_URI && !id->spiffe_id[0] && value.len > 9 &&
            value.len < sizeof id->spiffe_id && !memcmp(value.data, "spiffe://", 9)) {
            memcpy(id->spiffe_id, value.data, value.len);
            id->spiffe_id[value.len] = 0;
        } else if (tag == GN_DNS && value.len > 0 && used + value.len + 2 < sizeof id->dns_names &&
                   !memchr(value.data, 0, value.len)) {
            if (used) id->dns_names[used++] = ',';
            memcpy(id->dns_names + used, value.data, value.len);
            used += value.len;
            id->dns_names[used] = 0;
        }
    }
    return 0;
}

static bool dns_listed(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && strncasecmp(p, name, n) == 0) return true;
        p += len + (end ? 1 : 0);
    }
    return false;
}

/* id->spki_sha256 ("sha256:BASE64") against a raw 32-byte pin. */
static bool spki_is(const certa_peer_identity *id, const uint8_t pin[32]) {
    char text[64] = "sha256:";
    if (base64_encode(pin, 32, text + 7, sizeof text - 7) < 0) return false;
    return strlen(id->spki_sha256) == strlen(text) &&
           crypto_equal_ct(id->spki_sha256, text, strlen(text));
}

bool pins_match(const certa_config *cfg, const char *spki_sha256) {
    certa_peer_identity id;
    snprintf(id.spki_sha256, sizeof id.spki_sha256, "%s", spki_sha256);
    for (size_t i = 0; i < cfg->pin_count; i++)
        if (spki_is(&id, cfg->pins[i])) return true;
    return false;
}

static bool rule_matches(const certa_peer_identity *id, const allow_rule *r) {
    switch (r->kind) {
    case RULE_SPIFFE_EXACT:
        return id->spiffe_id[0] && !strcmp(id->spiffe_id, r->value);
    case RULE_SPIFFE_PREFIX:
        return id->spiffe_id[0] && !strncmp(id->spiffe_id, r->value, strlen(r->value));
    case RULE_DNS:
        return dns_listed(id->dns_names, r->value);
    case RULE_PIN:
        return spki_is(id, r->pin);
    }
    return false;
}

bool policy_allows(const certa_config *cfg, const certa_peer_identity *id) {
    if (cfg->rule_count == 0) return true;
    for (size_t i = 0; i < cfg->rule_count; i++)
        if (id->present && rule_matches(id, &cfg->rules[i])) return true;
    return false;
}

/* "spiffe://…", else the DNS names, else the subject. */
const char *identity_label(const certa_peer_identity *id) {
    if (id->spiffe_id[0]) return id->spiffe_id;
    if (id->dns_names[0]) return id->dns_names;
    return id->subject[0] ? id->subject : "(empty subject)";
}

int policy_check(certa_conn *c) {
    const certa_config *cfg = c->cfg;
    if (cfg->rule_count == 0) return 0;
    const char *who = c->is_server ? "client" : "server";
    char allowed[200] = "";
    size_t used = 0;
    for (size_t i = 0; i < cfg->rule_count; i++) {
        if (c->peer.present && rule_matches(&c->peer, &cfg->rules[i])) {
            conn_trace(c, "  %s %s allowed by rule %s", who, identity_label(&c->peer),
                       cfg->rules[i].text);
            return 0;
        }
        int n = snprintf(allowed + used, sizeof allowed - used, "%s%s", i ? ", " : "",
                         cfg->rules[i].text);
        if (n < 0 || (size_t)n >= sizeof allowed - used) break;
        used += (size_t)n;
    }
    if (!c->peer.present)
        return conn_fail(c, CERTA_E_IDENTITY_NOT_ALLOWED, 49,
                         "the %s presented no certificate, but this endpoint only allows: %s", who,
                         allowed);
    return conn_fail(c, CERTA_E_IDENTITY_NOT_ALLOWED, 49,
                     "%s %s is not allowed on this %s; allowed: %s", who, identity_label(&c->peer),
                     c->is_server ? "listener" : "connection", allowed);
}

int certa_conn_peer_identity(const certa_conn *c, certa_peer_identity *id) {
    if (!c || !id) return CERTA_E_INVALID_ARGUMENT;
    *id = c->peer;
    return 0;
}
