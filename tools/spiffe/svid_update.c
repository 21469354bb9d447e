/* Judging one X.509-SVID update (see svid_update.h). */
#include "spiffe/svid_update.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certa.h"
#include "crypto/crypto.h"
#include "wire/cursor.h"
#include "wire/der.h"
#include "x509/pem.h"
#include "x509/issue.h"

static int fail(char *why, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, cap, fmt, ap);
    va_end(ap);
    return -1;
}

/* Splits concatenated DER certificates (each a definite-length SEQUENCE,
 * nothing between or after them); up to max of them into der/lens. The
 * count, or -1 for bytes that are not such a sequence. */
static int split_der_certs(const uint8_t *data, size_t len, const uint8_t **der, size_t *lens,
                           size_t max) {
    cursor c, element, contents;
    cur_init(&c, data, len);
    size_t n = 0;
    while (!cur_empty(&c)) {
        if (n == max || !der_get_element(&c, DER_SEQUENCE, &element, &contents)) return -1;
        der[n] = element.data;
        lens[n] = element.len;
        n++;
    }
    return (int)n;
}

/* Appends each certificate as PEM to *pem (malloc'd, grown). 0 or -1. */
static int append_pem(char **pem, size_t *pem_len, const uint8_t *const *der, const size_t *lens,
                      size_t n) {
    for (size_t i = 0; i < n; i++) {
        char *one = NULL;
        size_t one_len = 0;
        if (x509_pem_encode("CERTIFICATE", der[i], lens[i], &one, &one_len) != 0) return -1;
        char *grown = realloc(*pem, *pem_len + one_len + 1);
        if (!grown) {
            free(one);
            return -1;
        }
        memcpy(grown + *pem_len, one, one_len + 1);
        *pem = grown;
        *pem_len += one_len;
        free(one);
    }
    if (!*pem) *pem = calloc(1, 1); /* "" for an empty list */
    return *pem ? 0 : -1;
}

/* A bundle's certificates: each must be X.509 and a CA. what names it in
 * the sentence. The count, or -1 with why. */
static int read_bundle(const uint8_t *data, size_t len, const char *what, const uint8_t **der,
                       size_t *lens, char *why, size_t cap) {
    int n = split_der_certs(data, len, der, lens, SVID_MAX_BUNDLE);
    if (n < 0)
        return fail(why, cap,
                    "%s is not a list of DER certificates (or holds more than %d): the agent "
                    "sent a malformed bundle",
                    what, SVID_MAX_BUNDLE);
    if (n == 0) return fail(why, cap, "%s is empty: the agent sent no CA certificates", what);
    for (int i = 0; i < n; i++) {
        certa_cert_details d;
        if (certa_cert_inspect(der[i], lens[i], &d) != CERTA_OK)
            return fail(why, cap, "certificate %d of %s is not X.509", i + 1, what);
        if (!d.is_ca)
            return fail(why, cap, "certificate %d of %s is not a CA certificate", i + 1, what);
    }
    return n;
}

/* The first spiffe:// URI of a ", "-separated list, into out. */
static void first_spiffe_uri(const char *uris, char *out, size_t cap) {
    out[0] = 0;
    for (const char *p = uris; *p;) {
        size_t n = strcspn(p, ",");
        if (n > 9 && !strncmp(p, "spiffe://", 9)) {
            snprintf(out, cap, "%.*s", (int)n, p);
            return;
        }
        p += n;
        while (*p == ',' || *p == ' ')
            p++;
    }
}

void svid_update_free(svid_update *u) {
    if (u->key_pem) {
        crypto_zero(u->key_pem, u->key_len);
        free(u->key_pem);
    }
    free(u->chain_pem);
    free(u->bundle_pem);
    free(u->federated_pem);
    for (size_t i = 0; i < u->federated_count; i++)
        free(u->federated[i].pem);
    memset(u, 0, sizeof *u);
}

/* The chain (leaf first) validates for spiffe_id against bundle_pem, for
 * clientAuth or, an SVID for serving only, serverAuth. 0, or -1 with why
 * ("the SVID ID <what>: ..."). */
static int verify_against(const uint8_t *const *der, const size_t *lens, size_t n,
                          const char *spiffe_id, const char *bundle_pem, size_t bundle_len,
                          int64_t now, const char *what, char *why, size_t cap) {
    certa_trust *t = certa_trust_new();
    int r = t ? certa_trust_add_pem(t, bundle_pem, bundle_len) : CERTA_E_NOMEM;
    certa_verify_params vp;
    memset(&vp, 0, sizeof vp);
    vp.purpose = CERTA_PURPOSE_CLIENT;
    vp.spiffe_id = spiffe_id;
    vp.time = now;
    certa_verify_result vr;
    snprintf(vr.text, sizeof vr.text, "out of memory");
    if (r == CERTA_OK) r = certa_verify_chain(t, der, lens, n, &vp, &vr);
    if (r == CERTA_E_CERT_PURPOSE) { /* an SVID for serving only */
        vp.purpose = CERTA_PURPOSE_SERVER;
        r = certa_verify_chain(t, der, lens, n, &vp, &vr);
    }
    certa_trust_free(t);
    if (r == CERTA_OK) return 0;
    return fail(why, cap, "the SVID %s %s: %s (%s)", spiffe_id, what, vr.text, certa_error_name(r));
}

/* The key is the leaf's: loaded beside the chain into a scratch config,
 * whose own check is the one serve and proxy rely on. */
static int check_pair(const svid_update *u, char *why, size_t cap) {
    certa_config *cfg = certa_config_new();
    if (!cfg) return fail(why, cap, "out of memory");
    int r = certa_config_set_cert_chain_pem(cfg, u->chain_pem, u->chain_len);
    if (r == CERTA_OK) r = certa_config_set_private_key_pem(cfg, u->key_pem, u->key_len);
    int out = 0;
    if (r == CERTA_E_KEY_MISMATCH)
        out = fail(why, cap,
                   "the SVID's private key does not belong to its certificate "
                   "(CERTA_E_KEY_MISMATCH): the agent sent a mismatched pair");
    else if (r != CERTA_OK)
        out = fail(why, cap, "the SVID's certificate or PKCS#8 key does not load: %s (%s)",
                   certa_config_error_text(cfg), certa_error_name(r));
    certa_config_free(cfg);
    return out;
}

int svid_update_build(svid_update *u, const char *spiffe_id, const uint8_t *chain, size_t chain_len,
                      const uint8_t *key, size_t key_len, const uint8_t *bundle, size_t bundle_len,
                      int64_t now, char *why, size_t cap) {
    memset(u, 0, sizeof *u);
    char idwhy[200];
    if (!spiffe_id || !x509_check_spiffe_id(spiffe_id, idwhy, sizeof idwhy))
        return fail(why, cap, "the SVID's spiffe_id '%.300s' is not a SPIFFE ID: %s",
                    spiffe_id ? spiffe_id : "", spiffe_id ? idwhy : "missing");
    snprintf(u->spiffe_id, sizeof u->spiffe_id, "%s", spiffe_id);
    size_t td_len = strcspn(spiffe_id + 9, "/");
    snprintf(u->trust_domain, sizeof u->trust_domain, "%.*s", (int)td_len, spiffe_id + 9);

    const uint8_t *der[SVID_MAX_BUNDLE];
    size_t lens[SVID_MAX_BUNDLE];
    int n = split_der_certs(chain, chain_len, der, lens, SVID_MAX_CHAIN);
    if (n <= 0) {
        svid_update_free(u);
        return fail(why, cap, "the x509_svid of %s is %s: the agent sent a malformed SVID",
                    spiffe_id, n == 0 ? "empty" : "not a list of at most 10 DER certificates");
    }
    certa_cert_details d;
    certa_cert_summary s;
    for (int i = 0; i < n; i++)
        if (certa_cert_inspect(der[i], lens[i], &d) != CERTA_OK) {
            svid_update_free(u);
            return fail(why, cap, "certificate %d of the SVID %s is not X.509", i + 1, spiffe_id);
        }
    certa_cert_inspect(der[0], lens[0], &d);
    char leaf_id[2049];
    first_spiffe_uri(d.uris, leaf_id, sizeof leaf_id);
    if (d.is_ca) {
        svid_update_free(u);
        return fail(why, cap,
                    "the SVID's leaf certificate for %s is a CA certificate: the agent sent a "
                    "malformed SVID",
                    spiffe_id);
    }
    if (strcmp(leaf_id, spiffe_id) != 0) {
        svid_update_free(u);
        return fail(why, cap,
                    "the SVID's leaf certificate %s, not %s: the agent's spiffe_id and "
                    "certificate disagree",
                    leaf_id[0] ? "names another ID" : "has no SPIFFE ID", spiffe_id);
    }
    certa_cert_summarize(der[0], lens[0], &s);
    u->not_before = s.not_before;
    u->not_after = s.not_after;
    if (certa_cert_serial(der[0], lens[0], u->serial, sizeof u->serial) != CERTA_OK)
        snprintf(u->serial, sizeof u->serial, "?");
    if (append_pem(&u->chain_pem, &u->chain_len, der, lens, (size_t)n) != 0) {
        svid_update_free(u);
        return fail(why, cap, "out of memory");
    }
    /* A chain to verify below, kept aside: der/lens are reused for the bundle. */
    const uint8_t *chain_der[SVID_MAX_CHAIN];
    size_t chain_lens[SVID_MAX_CHAIN];
    memcpy(chain_der, der, (size_t)n * sizeof der[0]);
    memcpy(chain_lens, lens, (size_t)n * sizeof lens[0]);
    size_t chain_count = (size_t)n;

    if (key_len == 0 || x509_pem_encode("PRIVATE KEY", key, key_len, &u->key_pem, &u->key_len)) {
        svid_update_free(u);
        return fail(why, cap, "the SVID %s comes without its x509_svid_key: the agent sent no key",
                    spiffe_id);
    }
    if (check_pair(u, why, cap) != 0) {
        svid_update_free(u);
        return -1;
    }

    char what[300];
    snprintf(what, sizeof what, "the bundle of %s", spiffe_id);
    n = read_bundle(bundle, bundle_len, what, der, lens, why, cap);
    if (n < 0 || append_pem(&u->bundle_pem, &u->bundle_len, der, lens, (size_t)n) != 0) {
        if (n >= 0) fail(why, cap, "out of memory");
        svid_update_free(u);
        return -1;
    }
    u->federated_pem = calloc(1, 1);

    /* The SVID must validate against its own trust domain's bundle, as its
     * peers will validate it. */
    if (!u->federated_pem ||
        verify_against(chain_der, chain_lens, chain_count, spiffe_id, u->bundle_pem, u->bundle_len,
                       now, "does not validate against its own bundle", why, cap) != 0) {
        if (!u->federated_pem) fail(why, cap, "out of memory");
        svid_update_free(u);
        return -1;
    }
    return 0;
}

/* A trust domain's ID: spiffe://example.org, no path. */
static bool trust_domain_id_ok(const char *id) {
    char probe[300], idwhy[200];
    if (!id || strncmp(id, "spiffe://", 9) != 0 || strchr(id + 9, '/') || strlen(id) > 264)
        return false;
    snprintf(probe, sizeof probe, "%s/x", id);
    return x509_check_spiffe_id(probe, idwhy, sizeof idwhy);
}

int svid_update_add_federated(svid_update *u, const char *trust_domain_id, const uint8_t *data,
                              size_t len, char *why, size_t cap) {
    if (!trust_domain_id_ok(trust_domain_id))
        return fail(why, cap,
                    "a federated bundle is keyed '%.300s', not a trust domain "
                    "(spiffe://example.org): the agent sent a malformed map",
                    trust_domain_id ? trust_domain_id : "");
    if (!strcmp(trust_domain_id + 9, u->trust_domain))
        return fail(why, cap,
                    "a federated bundle is keyed by the SVID's own trust domain %s: the agent "
                    "sent a malformed map",
                    trust_domain_id);
    if (u->federated_count == SVID_MAX_FEDERATED)
        return fail(why, cap, "more than %d federated bundles", SVID_MAX_FEDERATED);
    const uint8_t *der[SVID_MAX_BUNDLE];
    size_t lens[SVID_MAX_BUNDLE];
    char what[320];
    snprintf(what, sizeof what, "the federated bundle of %s", trust_domain_id);
    int n = read_bundle(data, len, what, der, lens, why, cap);
    if (n < 0) return -1;
    struct svid_federated *f = &u->federated[u->federated_count];
    for (size_t i = 0; i < u->federated_count; i++)
        if (!strcmp(u->federated[i].trust_domain_id, trust_domain_id))
            return fail(why, cap, "two federated bundles for %s: the agent sent a malformed map",
                        trust_domain_id);
    if (append_pem(&f->pem, &f->len, der, lens, (size_t)n) != 0 ||
        append_pem(&u->federated_pem, &u->federated_len, der, lens, (size_t)n) != 0) {
        free(f->pem);
        f->pem = NULL;
        return fail(why, cap, "out of memory");
    }
    snprintf(f->trust_domain_id, sizeof f->trust_domain_id, "%s", trust_domain_id);
    size_t dl = strlen(u->federated_domains);
    snprintf(u->federated_domains + dl, sizeof u->federated_domains - dl, "%s%s", dl ? ", " : "",
             trust_domain_id);
    u->federated_count++;
    return 0;
}

/* ---- a bundles update (FetchX509Bundles) ---- */

int svid_bundles_build(svid_update *b, const char *own_trust_domain, const char *const *keys,
                       const uint8_t *const *values, const size_t *lens, size_t n, char *why,
                       size_t cap) {
    memset(b, 0, sizeof *b);
    snprintf(b->trust_domain, sizeof b->trust_domain, "%s", own_trust_domain);
    b->federated_pem = calloc(1, 1);
    if (!b->federated_pem) return fail(why, cap, "out of memory");
    int r = 0;
    for (size_t i = 0; r == 0 && i < n; i++) {
        /* The spec keys the map by the trust domain's SPIFFE ID; its
         * name alone ("example.org") is taken too, as SPIFFE's libraries do. */
        char id[300];
        const char *k = keys[i] ? keys[i] : "";
        snprintf(id, sizeof id, "%s%.280s", strncmp(k, "spiffe://", 9) ? "spiffe://" : "", k);
        if (strlen(k) > 264 || !trust_domain_id_ok(id))
            r = fail(why, cap,
                     "a bundle is keyed '%.300s', not a trust domain (spiffe://example.org or "
                     "example.org): the agent sent a malformed map",
                     k);
        else if (strcmp(id + 9, own_trust_domain) != 0) {
            r = svid_update_add_federated(b, id, values[i], lens[i], why, cap);
        } else if (b->bundle_pem) {
            r = fail(why, cap, "two bundles for %s: the agent sent a malformed map", id);
        } else {
            const uint8_t *der[SVID_MAX_BUNDLE];
            size_t dlens[SVID_MAX_BUNDLE];
            char what[320];
            snprintf(what, sizeof what, "the bundle of %s", id);
            int m = read_bundle(values[i], lens[i], what, der, dlens, why, cap);
            r = m < 0 ? -1 : append_pem(&b->bundle_pem, &b->bundle_len, der, dlens, (size_t)m);
            if (m >= 0 && r != 0) fail(why, cap, "out of memory");
        }
    }
    if (r == 0 && !b->bundle_pem)
        r = fail(why, cap,
                 "the bundles update holds no bundle for the workload's own trust domain "
                 "spiffe://%s: the agent sent an incomplete set",
                 own_trust_domain);
    if (r != 0) {
        svid_update_free(b);
        return -1;
    }
    return 0;
}

int svid_update_take_bundles(svid_update *u, svid_update *b, int64_t now, char *why, size_t cap) {
    int out = 0;
    if (strcmp(u->trust_domain, b->trust_domain) != 0)
        out = fail(why, cap, "the bundles update is for trust domain %s, the SVID held is of %s",
                   b->trust_domain, u->trust_domain);
    /* The SVID held must still validate against its trust domain's new
     * bundle: a set that would orphan it is the agent's mistake. */
    uint8_t *der[SVID_MAX_CHAIN];
    size_t lens[SVID_MAX_CHAIN], n = 0, pos = 0;
    while (out == 0 && n < SVID_MAX_CHAIN &&
           pem_next(u->chain_pem, u->chain_len, &pos, "CERTIFICATE", &der[n], &lens[n]) == 1)
        n++;
    if (out == 0 && verify_against((const uint8_t *const *)der, lens, n, u->spiffe_id,
                                   b->bundle_pem, b->bundle_len, now,
                                   "held would not validate against its trust domain's new bundle",
                                   why, cap) != 0)
        out = -1;
    for (size_t i = 0; i < n; i++)
        free(der[i]);
    if (out != 0) {
        svid_update_free(b);
        return -1;
    }
    /* Chain, key, ID and validity stay; the bundle fields are b's. */
    free(u->bundle_pem);
    free(u->federated_pem);
    for (size_t i = 0; i < u->federated_count; i++)
        free(u->federated[i].pem);
    u->bundle_pem = b->bundle_pem;
    u->bundle_len = b->bundle_len;
    u->federated_pem = b->federated_pem;
    u->federated_len = b->federated_len;
    u->federated_count = b->federated_count;
    memcpy(u->federated, b->federated, sizeof u->federated);
    memcpy(u->federated_domains, b->federated_domains, sizeof u->federated_domains);
    memset(b, 0, sizeof *b);
    return 0;
}

void svid_format_remaining(int64_t s, char *out, size_t cap) {
    if (s < 0) {
        char ago[48];
        svid_format_remaining(-s, ago, sizeof ago);
        snprintf(out, cap, "expired %s ago", ago);
    } else if (s < 60)
        snprintf(out, cap, "%llds", (long long)s);
    else if (s < 3600)
        snprintf(out, cap, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 86400)
        snprintf(out, cap, "%lldh %02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    else
        snprintf(out, cap, "%lldd %lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}
