/* certa scan: the policy — what is judged ok, warn or fail for each
 * endpoint — from defaults, a certa profile, or a "key = value" file
 * (docs/scan.md lists the keys), and the judgement of one result by it. */
#include "scan/scan.h"
#include "common/cert_judge.h"
#include "wire/cursor.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *scan_sev_name(scan_sev s) {
    static const char *const names[] = {"ok", "info", "warn", "fail"};
    return s <= SCAN_FAIL ? names[s] : "?";
}

void scan_add_finding(scan_result *r, const char *id, scan_sev sev, const char *fmt, ...) {
    if (r->finding_count == SCAN_MAX_FINDINGS) return;
    scan_finding *f = &r->findings[r->finding_count++];
    f->id = id;
    f->sev = sev;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->text, sizeof f->text, fmt, ap);
    va_end(ap);
    if (sev > r->worst) r->worst = sev;
}

void scan_policy_default(scan_policy *p) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "default");
    p->min_rsa_bits = CERT_MIN_RSA_BITS;
    p->min_ec_bits = CERT_MIN_EC_BITS;
    p->max_validity_days = 398; /* the CA/Browser Forum's limit for public TLS */
    p->warn_fraction = CERT_LIFETIME_WARN_FRACTION;
    p->fail_fraction = 1.0 / 6.0;
    p->warn_days = 0;
    p->fail_days = 7;
    p->min_tls_version = CERTA_TLS12;
    p->wildcard = SCAN_INFO;
    p->self_signed = SCAN_FAIL;
    p->name_mismatch = SCAN_FAIL;
    p->untrusted = SCAN_FAIL;
    p->unreachable = SCAN_FAIL;
    p->old_tls = SCAN_WARN;
}

bool scan_policy_profile(scan_policy *p, const char *name, char *why, size_t cap) {
    certa_config *cfg = certa_config_new();
    if (!cfg || certa_config_set_profile(cfg, name) != CERTA_OK) {
        snprintf(why, cap, "%s", cfg ? certa_config_error_text(cfg) : "out of memory");
        certa_config_free(cfg);
        return false;
    }
    certa_config_free(cfg);
    snprintf(p->name, sizeof p->name, "profile %s", name);
    /* The profile's TLS floor; the high-security one also asks for larger
     * keys, shorter certificates and no wildcards. */
    if (!strcmp(name, "internal") || !strcmp(name, "iot") || !strcmp(name, "high-security"))
        p->min_tls_version = CERTA_TLS13;
    if (!strcmp(name, "legacy")) p->old_tls = SCAN_INFO;
    if (!strcmp(name, "high-security")) {
        p->min_rsa_bits = 3072;
        p->min_ec_bits = 256;
        p->max_validity_days = 90;
        p->fail_days = 14;
        p->wildcard = SCAN_WARN;
    }
    return true;
}

/* ---- the file: "key = value" lines ---- */

static bool parse_sev(const char *v, scan_sev *out) {
    static const char *const names[] = {"allow", "info", "warn", "fail"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(v, names[i])) {
            *out = (scan_sev)(i == 0 ? SCAN_OK : i);
            return true;
        }
    return false;
}

static bool parse_fraction(const char *v, double *out) {
    /* "1/3" or "0.33" */
    unsigned a, b;
    char extra;
    if (sscanf(v, "%u/%u%c", &a, &b, &extra) == 2 && b && a <= b) {
        *out = (double)a / b;
        return true;
    }
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || d < 0 || d > 1) return false;
    *out = d;
    return true;
}

static bool apply(scan_policy *p, const char *key, const char *v, char *why, size_t cap) {
    long n;
    struct {
        const char *key;
        unsigned *field;
        long min, max;
    } nums[] = {
        {"min_rsa_bits", &p->min_rsa_bits, 512, 16384},
        {"min_ec_bits", &p->min_ec_bits, 160, 521},
        {"max_validity_days", &p->max_validity_days, 0, 100000},
        {"warn_days", &p->warn_days, 0, 100000},
        {"fail_days", &p->fail_days, 0, 100000},
    };
    for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
        if (!strcmp(key, nums[i].key)) {
            if (!cli_parse_long(v, nums[i].min, nums[i].max, &n)) {
                snprintf(why, cap, "%s is a number from %ld to %ld, not '%.80s'", key, nums[i].min,
                         nums[i].max, v);
                return false;
            }
            *nums[i].field = (unsigned)n;
            return true;
        }
    struct {
        const char *key;
        scan_sev *field;
    } sevs[] = {
        {"wildcard", &p->wildcard},           {"self_signed", &p->self_signed},
        {"name_mismatch", &p->name_mismatch}, {"untrusted", &p->untrusted},
        {"unreachable", &p->unreachable},     {"old_tls", &p->old_tls},
    };
    for (size_t i = 0; i < sizeof sevs / sizeof sevs[0]; i++)
        if (!strcmp(key, sevs[i].key)) {
            if (!parse_sev(v, sevs[i].field)) {
                snprintf(why, cap, "%s is allow, info, warn or fail, not '%.80s'", key, v);
                return false;
            }
            return true;
        }
    if (!strcmp(key, "warn_fraction") || !strcmp(key, "fail_fraction")) {
        if (!parse_fraction(v, key[0] == 'w' ? &p->warn_fraction : &p->fail_fraction)) {
            snprintf(why, cap, "%s is a fraction like 1/3 or 0.33, not '%.80s'", key, v);
            return false;
        }
        return true;
    }
    if (!strcmp(key, "min_tls_version")) {
        if (!strcmp(v, "1.2"))
            p->min_tls_version = CERTA_TLS12;
        else if (!strcmp(v, "1.3"))
            p->min_tls_version = CERTA_TLS13;
        else {
            snprintf(why, cap, "min_tls_version is 1.2 or 1.3, not '%.80s'", v);
            return false;
        }
        return true;
    }
    if (!strcmp(key, "allowed_signature_algorithms")) {
        snprintf(p->allowed_sig_algs, sizeof p->allowed_sig_algs, "%s", v);
        return true;
    }
    if (!strcmp(key, "allowed_issuer")) { /* repeatable: one subject a line */
        size_t used = strlen(p->allowed_issuers);
        if (used + strlen(v) + 3 >= sizeof p->allowed_issuers) {
            snprintf(why, cap, "too many allowed_issuer lines");
            return false;
        }
        snprintf(p->allowed_issuers + used, sizeof p->allowed_issuers - used, "%s%s",
                 used ? "\n" : "", v);
        return true;
    }
    snprintf(why, cap, "unknown key '%.63s' (docs/scan.md lists the keys)", key);
    return false;
}

static size_t trim(const uint8_t **p, size_t n) {
    while (n && (**p == ' ' || **p == '\t')) {
        (*p)++;
        n--;
    }
    while (n && ((*p)[n - 1] == ' ' || (*p)[n - 1] == '\t' || (*p)[n - 1] == '\r'))
        n--;
    return n;
}

bool scan_policy_parse(scan_policy *p, const uint8_t *text, size_t len, char *why, size_t cap) {
    cursor c;
    cur_init(&c, text, len);
    for (unsigned line = 1; !cur_empty(&c); line++) {
        /* one line */
        size_t n = 0, left = cur_left(&c);
        const uint8_t *lp;
        cursor probe = c;
        uint8_t ch;
        while (n < left && cur_u8(&probe, &ch) && ch != '\n')
            n++;
        (void)cur_bytes(&c, n, &lp);
        (void)cur_skip(&c, n < left ? 1 : 0);
        size_t body = 0;
        while (body < n && lp[body] != '#')
            body++;
        body = trim(&lp, body);
        if (!body) continue;
        size_t eq = 0;
        while (eq < body && lp[eq] != '=')
            eq++;
        const uint8_t *kp = lp, *vp = lp + eq + 1;
        size_t kn = trim(&kp, eq), vn = eq < body ? trim(&vp, body - eq - 1) : 0;
        char key[64], val[512];
        if (eq == body || !kn || !vn || kn >= sizeof key || vn >= sizeof val) {
            snprintf(why, cap, "line %u: a line is 'key = value'", line);
            return false;
        }
        memcpy(key, kp, kn);
        key[kn] = 0;
        memcpy(val, vp, vn);
        val[vn] = 0;
        if (memchr(val, 0, vn) || memchr(key, 0, kn)) {
            snprintf(why, cap, "line %u: a NUL byte", line);
            return false;
        }
        char err[300];
        if (!apply(p, key, val, err, sizeof err)) {
            snprintf(why, cap, "line %u: %s", line, err);
            return false;
        }
    }
    if (p->fail_fraction > p->warn_fraction) {
        snprintf(why, cap, "fail_fraction is above warn_fraction");
        return false;
    }
    return true;
}

/* ---- judging one result ---- */

static bool listed(const char *list, const char *item, const char *seps) {
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *save = NULL, *t = strtok_r(copy, seps, &save); t; t = strtok_r(NULL, seps, &save)) {
        while (*t == ' ')
            t++;
        if (!strcasecmp(t, item)) return true;
    }
    return false;
}

static void reachability(const scan_policy *p, scan_result *r) {
    static const struct {
        scan_status status;
        const char *id;
    } ids[] = {
        {SCAN_REFUSED, "SCAN-REFUSED"},
        {SCAN_TIMEOUT, "SCAN-TIMEOUT"},
        {SCAN_NOT_TLS, "SCAN-NOT-TLS"},
        {SCAN_CLOSED, "SCAN-CLOSED"},
        {SCAN_UNRESOLVED, "SCAN-UNRESOLVED"},
        {SCAN_ERROR, "SCAN-CONNECT-ERROR"},
        {SCAN_TLS_FAILED, "SCAN-HANDSHAKE-FAILED"},
    };
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        if (ids[i].status == r->status)
            scan_add_finding(r, ids[i].id, p->unreachable ? p->unreachable : SCAN_INFO, "%s",
                             r->error);
}

void scan_judge(const scan_policy *p, const scan_target *t, scan_result *r, int64_t now) {
    r->finding_count = 0;
    r->worst = SCAN_OK;
    if (r->status != SCAN_TLS) reachability(p, r);
    if (r->status == SCAN_TLS && r->version && r->version < p->min_tls_version && p->old_tls)
        scan_add_finding(r, "TLS-VERSION", p->old_tls, "negotiated %s; the policy asks for %s",
                         cli_version_name(r->version), cli_version_name(p->min_tls_version));
    if (r->status == SCAN_TLS && r->version == CERTA_TLS13 && r->tls12_accepted == 1 &&
        p->min_tls_version == CERTA_TLS13 && p->old_tls)
        scan_add_finding(r, "TLS-VERSION", p->old_tls,
                         "negotiated TLSv1.3, but a TLS 1.2-only handshake is accepted too; the "
                         "policy asks for TLSv1.3");
    if (!r->has_leaf) return;
    const scan_cert *c = &r->leaf;
    const char *name = t->sni[0] ? t->sni : t->host;

    /* expiry and the lifetime */
    double left = cert_lifetime_left(c->not_before, c->not_after, now);
    int64_t days = (c->not_after - now) / 86400;
    if (now > c->not_after) {
        scan_add_finding(r, "CERT-EXPIRED", SCAN_FAIL,
                         "a certificate in the chain has expired: "
                         "the server's certificate expired %lld days ago: renew it",
                         (long long)((now - c->not_after) / 86400));
    } else if (now < c->not_before) {
        scan_add_finding(r, "CERT-NOT-YET-VALID", SCAN_FAIL,
                         "a certificate is not valid yet: valid from %lld days from now",
                         (long long)((c->not_before - now) / 86400));
    } else if (left < p->fail_fraction || days < (int64_t)p->fail_days) {
        scan_add_finding(r, "CERT-LIFETIME", SCAN_FAIL,
                         "the certificate is due for renewal: %lld days left, %.0f%% of its "
                         "lifetime (the policy fails under %u days or %.0f%%)",
                         (long long)days, left * 100, p->fail_days, p->fail_fraction * 100);
    } else if (left < p->warn_fraction || (p->warn_days && days < (int64_t)p->warn_days)) {
        scan_add_finding(r, "CERT-LIFETIME", SCAN_WARN,
                         "the certificate is due for renewal: %lld days left, %.0f%% of its "
                         "lifetime: renewal should have happened",
                         (long long)days, left * 100);
    }
    int64_t validity = (c->not_after - c->not_before) / 86400;
    if (p->max_validity_days && validity > (int64_t)p->max_validity_days)
        scan_add_finding(r, "CERT-VALIDITY", SCAN_WARN,
                         "valid for %lld days; the policy allows %u at most", (long long)validity,
                         p->max_validity_days);

    /* the chain's verdict against the trust set, and the checks the
     * first failure may hide */
    bool self_signed = c->self_issued && r->chain_len == 1;
    if (self_signed && p->self_signed)
        scan_add_finding(r, "CERT-SELF-SIGNED", p->self_signed,
                         "the certificate is self-signed: '%s'", c->subject);
    if (!cert_has_name(c->dns_names, c->ip_addresses, name) && p->name_mismatch)
        scan_add_finding(r, "CERT-NAME-MISMATCH", p->name_mismatch,
                         "the certificate is not for this name: '%s' is not among its names "
                         "(DNS: %s; IP: %s)",
                         name, c->dns_names[0] ? c->dns_names : "none",
                         c->ip_addresses[0] ? c->ip_addresses : "none");
    if (r->verify_code != CERTA_OK) {
        const cert_verdict_id *v = cert_verdict_for(r->verify_code);
        const char *id = v ? v->id : "CERT-INVALID";
        bool said = false;
        for (size_t i = 0; i < r->finding_count; i++)
            if (!strcmp(r->findings[i].id, id)) said = true;
        if (!said && strcmp(id, "CERT-SELF-SIGNED") != 0 && strcmp(id, "CERT-NAME-MISMATCH") != 0)
            scan_add_finding(r, id, !strcmp(id, "CERT-UNTRUSTED") ? p->untrusted : SCAN_FAIL,
                             "%s: %s", v ? v->summary : "the chain does not validate",
                             r->verify_text);
    }

    /* key, signature, issuer, wildcard */
    bool rsa = !strncmp(c->key_type, "RSA", 3);
    unsigned min = rsa ? p->min_rsa_bits : p->min_ec_bits;
    if (c->key_bits && c->key_bits < min)
        scan_add_finding(r, "CERT-KEY-SIZE", SCAN_FAIL,
                         "the certificate's key is too small: %s (the policy asks for %u bits)",
                         c->key_type, min);
    bool weak_sig =
        strstr(c->sig_alg, "SHA1") || strstr(c->sig_alg, "sha1") || strstr(c->sig_alg, "md5");
    if (p->allowed_sig_algs[0] ? !listed(p->allowed_sig_algs, c->sig_alg, ",") : weak_sig)
        scan_add_finding(r, "CERT-SIGNATURE-ALGORITHM", SCAN_FAIL,
                         "signed with %s, which the policy does not allow", c->sig_alg);
    if (p->allowed_issuers[0] && !listed(p->allowed_issuers, c->issuer, "\n"))
        scan_add_finding(r, "CERT-ISSUER", SCAN_FAIL, "issued by '%s', not an allowed issuer",
                         c->issuer);
    if (p->wildcard && strstr(c->dns_names, "*."))
        scan_add_finding(r, "CERT-WILDCARD", p->wildcard, "a wildcard certificate: %s",
                         c->dns_names);
}
