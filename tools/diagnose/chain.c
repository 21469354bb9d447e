/* certa diagnose: the certificate chain as the server sent it — order,
 * duplicates, a missing intermediate (fetched from the top certificate's
 * AIA caIssuers URL to name it), validation against the trust set for the
 * name with the library's own sentence, expiry against the certificate's
 * lifetime, key size, names, must-staple and revocation URLs. */
#include "diagnose/diagnose.h"
#include "common/cert_judge.h"
#include "http/http_mini.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define G_CHAIN "certificate chain"
#define G_CERT "certificate"

/* "3 days", "30 hours", "12 minutes". */
static void span(int64_t secs, char *out, size_t cap) {
    if (secs < 0) secs = -secs;
    if (secs >= 2 * 86400)
        snprintf(out, cap, "%lld days", (long long)(secs / 86400));
    else if (secs >= 2 * 3600)
        snprintf(out, cap, "%lld hours", (long long)(secs / 3600));
    else
        snprintf(out, cap, "%lld minutes", (long long)(secs / 60));
}

static bool leaf_has_name(const certa_cert_details *d, const char *name) {
    return cert_has_name(d->dns_names, d->ip_addresses, name);
}

static bool has_finding(const diag_report *r, const char *id) {
    for (size_t i = 0; i < r->count; i++)
        if (!strcmp(r->items[i].id, id)) return true;
    return false;
}

static int verify(diag_ctx *ctx, const uint8_t *const *ders, const size_t *lens, size_t n,
                  int64_t at, certa_verify_result *res) {
    certa_verify_params vp;
    memset(&vp, 0, sizeof vp);
    vp.purpose = CERTA_PURPOSE_SERVER;
    const char *name = ctx->servername ? ctx->servername : ctx->host;
    if (cli_is_ip_literal(name))
        vp.ip = name;
    else
        vp.dns_name = name;
    vp.time = at;
    return certa_verify_chain(ctx->trust, ders, lens, n, &vp, res);
}

/* The chain sent was incomplete: fetch the top certificate's issuer from
 * its AIA caIssuers URL and see whether it completes the path. */
static bool find_missing(diag_ctx *ctx, diag_report *r, const tls_probe *p,
                         const certa_cert_details *top, const certa_verify_result *first) {
    if (!top->ca_issuers_url[0] || p->chain_len >= PROBE_MAX_CHAIN) return false;
    uint8_t *der = NULL;
    size_t len = 0;
    char why[256];
    diag_progress(ctx, "fetching the missing issuer (AIA)");
    if (http_get(top->ca_issuers_url, ctx->timeout_ms, HTTP_MINI_MAX_BODY, &der, &len, why,
                 sizeof why) != 0) {
        diag_addf(r, "CHAIN-INCOMPLETE", G_CHAIN, SEV_FAIL,
                  "the chain is incomplete: an intermediate is missing", first->text,
                  "add the intermediate certificate(s) after the leaf in the server's certificate "
                  "file",
                  "the top certificate names its issuer at %s, which could not be fetched (%s)",
                  top->ca_issuers_url, why);
        return true;
    }
    certa_cert_summary s;
    if (certa_cert_summarize(der, len, &s) != 0) {
        free(der);
        return false;
    }
    const uint8_t *ders[PROBE_MAX_CHAIN + 1];
    size_t lens[PROBE_MAX_CHAIN + 1];
    for (size_t i = 0; i < p->chain_len; i++) {
        ders[i] = p->chain[i];
        lens[i] = p->chain_lens[i];
    }
    ders[p->chain_len] = der;
    lens[p->chain_len] = len;
    certa_verify_result res;
    bool completes = verify(ctx, ders, lens, p->chain_len + 1, 0, &res) == CERTA_OK;
    char fix[512];
    snprintf(fix, sizeof fix,
             "add the intermediate '%s' (from %s) after the leaf in the server's certificate file",
             s.subject, top->ca_issuers_url);
    diag_addf(r, "CHAIN-INCOMPLETE", G_CHAIN, SEV_FAIL,
              "the chain is incomplete: an intermediate is missing", first->text, fix,
              "the server sent %zu certificate%s; '%s' (fetched from the AIA caIssuers URL %s) "
              "%s",
              p->chain_len, p->chain_len == 1 ? "" : "s", s.subject, top->ca_issuers_url,
              completes ? "completes the path to a trusted root"
                        : "is the missing issuer, but the path still does not validate");
    free(der);
    return true;
}

static void lifetime(diag_report *r, const certa_cert_summary *s, size_t index, int64_t now) {
    char left[64], total[64], ago[64];
    int64_t life = s->not_after - s->not_before;
    span(life, total, sizeof total);
    const char *who = index == 0 ? "the server's certificate" : "an intermediate";
    if (now > s->not_after) {
        span(now - s->not_after, ago, sizeof ago);
        /* validation already said it in the library's words when it is the
         * first problem; say it here for the others */
        if (!has_finding(r, "CERT-EXPIRED"))
            diag_addf(r, "CERT-EXPIRED", G_CERT, SEV_FAIL, "a certificate in the chain has expired",
                      "clients refuse an expired certificate", "renew it", "%s '%s' expired %s ago",
                      who, s->subject, ago);
        return;
    }
    if (now < s->not_before) {
        span(s->not_before - now, ago, sizeof ago);
        if (!has_finding(r, "CERT-NOT-YET-VALID"))
            diag_addf(r, "CERT-NOT-YET-VALID", G_CERT, SEV_FAIL, "a certificate is not valid yet",
                      "clients refuse it until its notBefore",
                      "check the clock of the CA that issued it, or wait",
                      "%s '%s' becomes valid in %s", who, s->subject, ago);
        return;
    }
    span(s->not_after - now, left, sizeof left);
    if (index != 0) return;
    if (cert_lifetime_due(s->not_before, s->not_after, now))
        diag_addf(r, "CERT-LIFETIME", G_CERT, SEV_WARN, "the certificate is due for renewal",
                  "less than a third of its lifetime is left: automated renewal usually happens "
                  "by then, so it may have failed",
                  "renew the certificate and check the renewal job",
                  "expires in %s of a %s lifetime: renewal should have happened", left, total);
    else
        diag_addf(r, "CERT-LIFETIME", G_CERT, SEV_OK, "the certificate is well within its lifetime",
                  NULL, NULL, "expires in %s of a %s lifetime", left, total);
}

void chain_analyse(diag_ctx *ctx, diag_report *r, const tls_probe *p) {
    if (p->chain_len == 0) return;
    size_t n = p->chain_len;
    certa_cert_summary s[PROBE_MAX_CHAIN];
    certa_cert_details d[PROBE_MAX_CHAIN];
    for (size_t i = 0; i < n; i++) {
        if (certa_cert_summarize(p->chain[i], p->chain_lens[i], &s[i]) != 0 ||
            certa_cert_inspect(p->chain[i], p->chain_lens[i], &d[i]) != 0) {
            diag_addf(r, "CERT-MALFORMED", G_CHAIN, SEV_FAIL, "a certificate cannot be parsed",
                      certa_error_text(CERTA_E_CERT_MALFORMED), NULL,
                      "certificate %zu of %zu the server sent", i + 1, n);
            return;
        }
    }
    /* The chain as sent. */
    char sent[4096] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(sent + strlen(sent), sizeof sent - strlen(sent),
                 "%s%zu: '%.160s' (issuer '%.160s')", i ? "; " : "", i, s[i].subject, s[i].issuer);
    diag_add(r, "CHAIN-SENT", G_CHAIN, SEV_INFO, "the chain as the server sent it", sent, NULL,
             NULL);
    size_t dups = 0, disorder = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (p->chain_lens[i] == p->chain_lens[j] &&
                !memcmp(p->chain[i], p->chain[j], p->chain_lens[i]))
                dups++;
    for (size_t i = 0; i + 1 < n; i++)
        if (strcmp(s[i].issuer, s[i + 1].subject) != 0) disorder++;
    if (dups)
        diag_addf(r, "CHAIN-DUPLICATE", G_CHAIN, SEV_WARN, "the chain holds a certificate twice",
                  "duplicates cost bytes in every handshake and confuse some clients",
                  "remove the duplicate from the server's certificate file",
                  "%zu duplicate%s in %zu certificates", dups, dups == 1 ? "" : "s", n);
    if (disorder && !dups)
        diag_addf(r, "CHAIN-ORDER", G_CHAIN, SEV_WARN, "the chain is not in order",
                  "each certificate should be followed by its issuer (RFC 8446 4.4.2 allows "
                  "other orders, but older clients do not)",
                  "put the leaf first, then each issuer after the certificate it signed",
                  "%zu place%s where a certificate is not followed by its issuer", disorder,
                  disorder == 1 ? "" : "s");
    if (n > 1 && d[n - 1].self_issued)
        diag_addf(r, "CHAIN-ROOT-SENT", G_CHAIN, SEV_INFO, "the root certificate is sent too", NULL,
                  NULL, "'%s' is self-issued: clients must already have it", s[n - 1].subject);

    /* Validation against the trust set for the name. */
    const uint8_t *ders[PROBE_MAX_CHAIN];
    for (size_t i = 0; i < n; i++)
        ders[i] = p->chain[i];
    certa_verify_result res;
    int code = verify(ctx, ders, p->chain_lens, n, 0, &res);
    if (code == CERTA_OK) {
        diag_addf(r, "CERT-TRUST", G_CHAIN, SEV_OK, "the chain validates for the name", NULL, NULL,
                  "path to '%s' (%zu certificate%s)", res.path_subject[res.path_len - 1],
                  res.path_len, res.path_len == 1 ? "" : "s");
    } else {
        bool done = false;
        if (code == CERTA_E_CERT_UNKNOWN_ISSUER && !d[n - 1].self_issued)
            done = find_missing(ctx, r, p, &d[n - 1], &res);
        if (!done) {
            const cert_verdict_id *v = cert_verdict_for(code);
            /* The library's sentence; its generic text for the code as the
             * fix when the sentence names only the cause. */
            diag_add(r, v ? v->id : "CERT-INVALID", G_CHAIN, SEV_FAIL,
                     v ? v->summary : "the chain does not validate", certa_error_name(code),
                     res.text, strstr(res.text, ": ") ? NULL : certa_error_text(code));
        }
        /* The first problem hides the others: look again at a time inside
         * the leaf's validity, so a wrong name behind an expiry shows too. */
        if (code == CERTA_E_CERT_EXPIRED || code == CERTA_E_CERT_NOT_YET_VALID) {
            certa_verify_result again;
            int64_t mid = s[0].not_before + (s[0].not_after - s[0].not_before) / 2;
            int c2 = verify(ctx, ders, p->chain_lens, n, mid, &again);
            const cert_verdict_id *v = cert_verdict_for(c2);
            if (c2 != CERTA_OK && c2 != code && v && !has_finding(r, v->id))
                diag_add(r, v->id, G_CHAIN, SEV_FAIL, v->summary, certa_error_name(c2), again.text,
                         NULL);
        }
    }

    /* The leaf itself. */
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < n; i++)
        lifetime(r, &s[i], i, now);
    const char *name = ctx->servername ? ctx->servername : ctx->host;
    if (!has_finding(r, "CERT-NAME-MISMATCH") && !leaf_has_name(&d[0], name))
        diag_addf(r, "CERT-NAME-MISMATCH", G_CERT, SEV_FAIL, "the certificate is not for this name",
                  "clients check the name they asked for against the certificate's "
                  "subjectAltName",
                  "reissue the certificate with this name in its subjectAltName",
                  "'%s' is not among its names (DNS: %s; IP: %s)", name,
                  d[0].dns_names[0] ? d[0].dns_names : "none",
                  d[0].ip_addresses[0] ? d[0].ip_addresses : "none");
    bool rsa = !strncmp(d[0].key_type, "RSA", 3);
    unsigned min = rsa ? CERT_MIN_RSA_BITS : CERT_MIN_EC_BITS;
    if (d[0].key_bits && d[0].key_bits < min)
        diag_addf(r, "CERT-KEY-SIZE", G_CERT, SEV_FAIL, "the certificate's key is too small",
                  "keys below RSA 2048 or EC 256 bits can be broken and are refused by current "
                  "clients (certa included)",
                  "reissue it with an ECDSA P-256 or RSA 2048 (or larger) key", "%s",
                  d[0].key_type);
    else
        diag_addf(r, "CERT-KEY-SIZE", G_CERT, SEV_OK, "the key size is sufficient", NULL, NULL,
                  "%s", d[0].key_type);
    if (!d[0].has_san || (!d[0].dns_names[0] && !d[0].ip_addresses[0]))
        diag_addf(r, "CERT-NO-SAN", G_CERT, SEV_WARN, "the certificate names no host in its SAN",
                  "clients ignore the subject CN (RFC 6125; certa too): only subjectAltName "
                  "counts",
                  "reissue it with the host names as DNS subjectAltNames",
                  "subject CN '%s', no DNS or IP subjectAltName", d[0].subject_cn);
    else
        diag_addf(r, "CERT-NAMES", G_CERT, SEV_INFO, "the names the certificate is for", NULL, NULL,
                  "DNS: %s; IP: %s; CN: %s", d[0].dns_names[0] ? d[0].dns_names : "none",
                  d[0].ip_addresses[0] ? d[0].ip_addresses : "none",
                  d[0].subject_cn[0] ? d[0].subject_cn : "none");
    if (d[0].must_staple)
        diag_add(r, "CERT-MUST-STAPLE", G_CERT, SEV_INFO, "the certificate is must-staple",
                 "TLS Feature status_request (RFC 7633): clients require an OCSP staple", NULL,
                 NULL);
    if (d[0].ocsp_url[0] || d[0].crl_url[0])
        diag_addf(r, "CERT-REVOCATION-URLS", G_CERT, SEV_INFO,
                  "where the certificate's status is published", NULL, NULL, "OCSP: %s; CRL: %s",
                  d[0].ocsp_url[0] ? d[0].ocsp_url : "none",
                  d[0].crl_url[0] ? d[0].crl_url : "none");
    else if (!d[0].self_issued)
        diag_add(r, "CERT-REVOCATION-URLS", G_CERT, SEV_INFO,
                 "the certificate names no OCSP responder or CRL",
                 "no authorityInfoAccess OCSP URL, no cRLDistributionPoints: its revocation "
                 "cannot be checked",
                 NULL, NULL);
}
