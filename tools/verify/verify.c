/* certa verify: validate a certificate chain against trust anchors for a
 * name, time and purpose, and explain the result.
 *
 *   exit 0  the chain is valid; the verified path is printed
 *   exit 1  the chain is not valid; the reason is printed
 *   exit 2  usage error or unreadable input
 */
#include "common/cli_common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "x509/cert.h"
#include "x509/ocsp.h"
#include "x509/pem.h"
#include "x509/trust.h"

#define MAX_INPUT_CERTS 64
#define MAX_TRUST_ARGS 16
#define MAX_UNTRUSTED_ARGS 16

static void verify_usage(FILE *out) {
    fputs("usage: certa verify [--trust FILE|DIR]... [--untrusted FILE]...\n"
          "                    [--host NAME | --ip ADDR | --spiffe ID]\n"
          "                    [--purpose server|client] [--at TIME] [--cn-fallback]\n"
          "                    [--crl FILE]... [--ocsp FILE] [--revocation off|prefer|require]\n"
          "                    LEAF.pem\n"
          "\n"
          "Validates the certificate chain in LEAF.pem (the leaf first, then any\n"
          "intermediates; or one DER certificate) against trust anchors, and explains\n"
          "the result.\n"
          "\n"
          "  --trust FILE|DIR   trust anchors: a PEM bundle, or a directory of *.pem,\n"
          "                     *.crt and *.cer files (repeatable; default: the system\n"
          "                     bundle /etc/ssl/certs/ca-certificates.crt)\n"
          "  --untrusted FILE   more intermediates, PEM, in any order (repeatable)\n"
          "  --host NAME        the leaf must be valid for this DNS name (wildcards per\n"
          "                     RFC 6125; an IP literal is treated as --ip)\n"
          "  --ip ADDR          ... or for this IPv4/IPv6 address (IP SAN)\n"
          "  --spiffe ID        ... or for this SPIFFE ID (URI SAN spiffe://domain/path)\n"
          "  --purpose P        server (extKeyUsage serverAuth, default) or client\n"
          "  --at TIME          validate at this RFC 3339 time instead of now, e.g.\n"
          "                     2026-11-23T10:00:00Z or 2026-11-23T12:00:00+02:00\n"
          "  --cn-fallback      match --host against the subject CN when the leaf has\n"
          "                     no subjectAltName (legacy certificates)\n"
          "  --crl FILE         CRLs (PEM \"X509 CRL\" blocks, or one DER CRL; repeatable):\n"
          "                     a certificate on the path that its issuer's CRL lists is\n"
          "                     refused, with serial, time and reason\n"
          "  --ocsp FILE        a DER OCSP response (RFC 6960) for the leaf, e.g. from\n"
          "                     openssl ocsp -respout: checked against the leaf and its\n"
          "                     issuer on the verified path (signer, CertID, freshness);\n"
          "                     revoked or invalid is refused\n"
          "  --revocation MODE  prefer (the default with --crl or --ocsp): a certificate\n"
          "                     with no usable fresh CRL (or, for the leaf, no good\n"
          "                     --ocsp) is warned about; require: it is refused; off:\n"
          "                     neither is consulted\n"
          "\n"
          "exit status: 0 valid (the verified path is printed), 1 not valid (the\n"
          "reason is printed), 2 usage error or unreadable input\n",
          out);
}

/* ---- RFC 3339 ------------------------------------------------------------ */

static bool digits(const char *s, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_leap(int y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Strict RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM),
 * 'T' and 'Z' in either case. A leap second (:60) counts as the next second.
 * Fractions are truncated. */
static bool parse_rfc3339(const char *s, int64_t *out, const char **why) {
    int y, mo, d, h, mi, se;
    *why = "expected YYYY-MM-DDTHH:MM:SSZ or an offset like +02:00";
    if (strlen(s) < 20) return false;
    if (!digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || !digits(s + 11, 2, &h) ||
        s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12) {
        *why = "month out of range";
        return false;
    }
    if (d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y))) {
        *why = "day out of range for the month";
        return false;
    }
    if (h > 23 || mi > 59 || se > 60) {
        *why = "time of day out of range";
        return false;
    }
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9') {
            *why = "a fraction of a second needs digits";
            return false;
        }
        while (*p >= '0' && *p <= '9')
            p++;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (!digits(p + 1, 2, &oh) || p[3] != ':' || !digits(p + 4, 2, &om)) {
            *why = "the offset must be +HH:MM or -HH:MM";
            return false;
        }
        if (oh > 23 || om > 59) {
            *why = "offset out of range";
            return false;
        }
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        *why = "a time zone is required: Z or an offset like +02:00";
        return false;
    }
    if (*p) {
        *why = "unexpected text after the time";
        return false;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off;
    if (t <= 0) {
        *why = "the time must be after 1970-01-01T00:00:00Z";
        return false;
    }
    *out = t;
    return true;
}

/* ---- input --------------------------------------------------------------- */

#define MAX_CRL_ARGS 16

typedef struct cert_list {
    uint8_t *der[MAX_INPUT_CERTS];
    size_t len[MAX_INPUT_CERTS];
    size_t count;
} cert_list;

static void cert_list_free(cert_list *l) {
    for (size_t i = 0; i < l->count; i++)
        free(l->der[i]);
    l->count = 0;
}

/* Appends every PEM block labelled label ("CERTIFICATE", "X509 CRL") of
 * path, or the file itself when it has none and is DER (a SEQUENCE); what
 * names the items in messages. Returns 0 or -1 (reported). */
static int read_der_items(cert_list *l, const char *path, const char *label, const char *what) {
    char *text = NULL;
    size_t len = 0;
    if (read_file(path, &text, &len) != 0) {
        cli_err("cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    size_t pos = 0, found = 0;
    int rc = 0;
    for (;;) {
        uint8_t *der = NULL;
        size_t der_len = 0;
        int r = pem_next(text, len, &pos, label, &der, &der_len);
        if (r == 0) break;
        if (r < 0) {
            cli_err("%s: %s block %zu is malformed PEM (bad base64, or no END line)", path, label,
                    found + 1);
            rc = -1;
            break;
        }
        if (l->count == MAX_INPUT_CERTS) {
            free(der);
            cli_err("%s: too many %ss (at most %d in all)", path, what, MAX_INPUT_CERTS);
            rc = -1;
            break;
        }
        l->der[l->count] = der;
        l->len[l->count++] = der_len;
        found++;
    }
    if (rc == 0 && found == 0) {
        if (len >= 2 && (uint8_t)text[0] == 0x30 && l->count < MAX_INPUT_CERTS &&
            (l->der[l->count] = malloc(len)) != NULL) {
            memcpy(l->der[l->count], text, len);
            l->len[l->count++] = len;
        } else {
            cli_err("%s: no \"-----BEGIN %s-----\" block found (nor a DER %s)", path, label, what);
            rc = -1;
        }
    }
    free(text);
    return rc;
}

/* ---- output -------------------------------------------------------------- */

static void describe_expiry(int64_t not_after, int64_t at, char *out, size_t cap) {
    int64_t d = not_after - at;
    if (d < 0)
        snprintf(out, cap, "expired");
    else if (d >= 86400)
        snprintf(out, cap, "expires in %lld day%s", (long long)(d / 86400),
                 d / 86400 == 1 ? "" : "s");
    else if (d >= 3600)
        snprintf(out, cap, "expires in %lld hour%s", (long long)(d / 3600),
                 d / 3600 == 1 ? "" : "s");
    else
        snprintf(out, cap, "expires in %lld minutes", (long long)(d / 60));
}

/* Finds the DER of path element i: the input certificate it came from, or
 * the trust anchor with that subject. */
/* The DER of path[i]: from the input chain, or the trust anchor with its subject. */
static const uint8_t *path_der(const certa_verify_result *r, size_t i, const cert_list *chain,
                               const certa_trust *trust, size_t *len) {
    size_t idx = r->path_index[i];
    if (idx < chain->count) {
        *len = chain->len[idx];
        return chain->der[idx];
    }
    size_t n = trust_anchor_count(trust);
    for (size_t k = 0; k < n; k++) {
        const uint8_t *der = trust_anchor_der(trust, k, len);
        certa_cert_summary s;
        if (der && certa_cert_summarize(der, *len, &s) == CERTA_OK &&
            strcmp(s.subject, r->path_subject[i]) == 0)
            return der;
    }
    return NULL;
}

static bool path_summary(const certa_verify_result *r, size_t i, const cert_list *chain,
                         const certa_trust *trust, certa_cert_summary *s) {
    size_t len = 0;
    const uint8_t *der = path_der(r, i, chain, trust, &len);
    return der && certa_cert_summarize(der, len, s) == CERTA_OK;
}

/* --ocsp FILE against the verified leaf and its issuer at time at:
 * 0 good, 1 no status to rely on (stale, unknown, or for another
 * certificate), -1 refused (revoked, or not a valid answer). */
static int check_ocsp(const char *path, const certa_verify_result *r, const cert_list *chain,
                      const certa_trust *trust, int64_t at, char *text, size_t cap) {
    char *der = NULL;
    size_t len = 0, ilen = 0;
    if (read_file(path, &der, &len) != 0) {
        snprintf(text, cap, "--ocsp %s: cannot read the file", path);
        return -1;
    }
    const uint8_t *issuer_der = r->path_len >= 2 ? path_der(r, 1, chain, trust, &ilen) : NULL;
    x509_cert leaf, issuer;
    int rc = -1;
    if (!issuer_der || x509_parse(&leaf, chain->der[0], chain->len[0]) != 0 ||
        x509_parse(&issuer, issuer_der, ilen) != 0) {
        snprintf(text, cap, "--ocsp %s: the leaf's issuer is not on the verified path", path);
    } else {
        ocsp_result res;
        ocsp_outcome o = ocsp_check((const uint8_t *)der, len, &leaf, &issuer, at, &res);
        snprintf(text, cap, "%s", res.text);
        rc = o == OCSP_OK                                                     ? 0
             : o == OCSP_E_STALE || o == OCSP_E_UNKNOWN || o == OCSP_E_FUTURE ? 1
                                                                              : -1;
    }
    free(der);
    return rc;
}

static void print_path(const certa_verify_result *r, const cert_list *chain,
                       const certa_trust *trust, int64_t at) {
    printf("verified: %s\n", r->path_len ? r->path_subject[0] : "?");
    for (size_t i = 0; i < r->path_len && i < CERTA_MAX_PATH; i++) {
        const char *role = i == 0 ? "leaf" : i + 1 == r->path_len ? "root" : "intermediate";
        certa_cert_summary s;
        char when[64] = "", expiry[64] = "";
        if (path_summary(r, i, chain, trust, &s)) {
            cli_format_time(s.not_after, when, sizeof when);
            describe_expiry(s.not_after, at, expiry, sizeof expiry);
        }
        printf("  %zu %-12s %s\n", i, role, r->path_subject[i]);
        if (when[0])
            printf("    %*s not after %s (%s)%s\n", 12, "", when, expiry,
                   r->path_index[i] == SIZE_MAX ? ", trust anchor" : "");
    }
}

/* Decides the revocation outcome of a valid chain: CLI_EXIT_OK with the
 * lines to print after the path in out, or CLI_EXIT_FAIL (reported). */
static int check_revocation(const certa_verify_result *r, const cert_list *chain,
                            const certa_trust *trust, int64_t at, certa_revocation mode,
                            const char *ocsp_path, size_t crl_count, char *out, size_t cap) {
    out[0] = 0;
    if (mode == CERTA_REVOCATION_OFF) return CLI_EXIT_OK;
    size_t used = 0;
    int ocsp = 1; /* no OCSP status */
    char text[800] = "";
    if (ocsp_path) {
        ocsp = check_ocsp(ocsp_path, r, chain, trust, at, text, sizeof text);
        if (ocsp < 0) {
            cli_err("verification failed: %s", text);
            return CLI_EXIT_FAIL;
        }
        used = (size_t)snprintf(out, cap, "ocsp: %s%s\n", ocsp == 0 ? "" : "warning: ", text);
        if (used >= cap) used = cap - 1;
    }
    uint32_t unknown = r->revocation_unknown;
    if (ocsp == 0) unknown &= ~1u; /* a good OCSP answer vouches for the leaf */
    if (mode == CERTA_REVOCATION_REQUIRE && unknown) {
        size_t i = 0;
        while (!(unknown & (1u << i)))
            i++;
        bool leaf_ocsp = i == 0 && ocsp_path;
        cli_err("verification failed: revocation status required: %s'%s' has %s%s%s",
                i == 0 ? "the leaf " : "", r->path_subject[i],
                leaf_ocsp ? "neither a fresh CRL from its issuer nor a good --ocsp answer"
                          : "no fresh CRL from its issuer (give it with --crl)",
                leaf_ocsp ? ": " : "", leaf_ocsp ? text : "");
        return CLI_EXIT_FAIL;
    }
    if (unknown && r->revocation_text[0])
        snprintf(out + used, cap - used, "revocation: warning: %s\n", r->revocation_text);
    else if (crl_count)
        snprintf(out + used, cap - used, "revocation: not listed by %zu CRL%s%s\n", crl_count,
                 crl_count == 1 ? "" : "s",
                 unknown ? " (issuers without one are not checked)" : "");
    return CLI_EXIT_OK;
}

/* ---- command ------------------------------------------------------------- */

int cmd_verify(int argc, char **argv) {
    const char *trust_paths[MAX_TRUST_ARGS], *untrusted[MAX_UNTRUSTED_ARGS];
    size_t ntrust = 0, nuntrusted = 0, ncrl_args = 0;
    const char *crl_paths[MAX_CRL_ARGS];
    const char *host = NULL, *ip = NULL, *spiffe = NULL, *purpose = "server", *at_arg = NULL;
    const char *leaf_path = NULL, *revocation = NULL, *ocsp_path = NULL;
    bool cn_fallback = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            verify_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--cn-fallback")) {
            cn_fallback = true;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--trust", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (ntrust == MAX_TRUST_ARGS) {
                cli_err("too many --trust options (at most %d)", MAX_TRUST_ARGS);
                return CLI_EXIT_USAGE;
            }
            trust_paths[ntrust++] = v;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--crl", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (ncrl_args == MAX_CRL_ARGS) {
                cli_err("too many --crl options (at most %d)", MAX_CRL_ARGS);
                return CLI_EXIT_USAGE;
            }
            crl_paths[ncrl_args++] = v;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--untrusted", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (nuntrusted == MAX_UNTRUSTED_ARGS) {
                cli_err("too many --untrusted options (at most %d)", MAX_UNTRUSTED_ARGS);
                return CLI_EXIT_USAGE;
            }
            untrusted[nuntrusted++] = v;
            continue;
        }
        const char **slot = NULL;
        if ((r = cli_opt(argc, argv, &i, "--host", &v)) != 0)
            slot = &host;
        else if ((r = cli_opt(argc, argv, &i, "--ip", &v)) != 0)
            slot = &ip;
        else if ((r = cli_opt(argc, argv, &i, "--spiffe", &v)) != 0)
            slot = &spiffe;
        else if ((r = cli_opt(argc, argv, &i, "--purpose", &v)) != 0)
            slot = &purpose;
        else if ((r = cli_opt(argc, argv, &i, "--at", &v)) != 0)
            slot = &at_arg;
        else if ((r = cli_opt(argc, argv, &i, "--revocation", &v)) != 0)
            slot = &revocation;
        else if ((r = cli_opt(argc, argv, &i, "--ocsp", &v)) != 0)
            slot = &ocsp_path;
        if (slot) {
            if (r < 0) return CLI_EXIT_USAGE;
            *slot = v;
            continue;
        }
        if (a[0] == '-' && a[1] != '\0') {
            cli_err("verify: unknown option '%s' (see certa verify --help)", a);
            return CLI_EXIT_USAGE;
        }
        if (leaf_path) {
            cli_err("verify: one LEAF.pem only (got '%s' and '%s'); pass intermediates with "
                    "--untrusted",
                    leaf_path, a);
            return CLI_EXIT_USAGE;
        }
        leaf_path = a;
    }
    if (!leaf_path) {
        cli_err("verify: which certificate? (certa verify [options] LEAF.pem)");
        verify_usage(stderr);
        return CLI_EXIT_USAGE;
    }

    certa_verify_params params = {0};
    if (!strcmp(purpose, "server"))
        params.purpose = CERTA_PURPOSE_SERVER;
    else if (!strcmp(purpose, "client"))
        params.purpose = CERTA_PURPOSE_CLIENT;
    else {
        cli_err("verify: --purpose must be server or client, not '%s'", purpose);
        return CLI_EXIT_USAGE;
    }
    if ((host != NULL) + (ip != NULL) + (spiffe != NULL) > 1) {
        cli_err("verify: give one of --host, --ip and --spiffe");
        return CLI_EXIT_USAGE;
    }
    if (host && !*host) {
        cli_err("verify: --host needs a name");
        return CLI_EXIT_USAGE;
    }
    if (host && cli_is_ip_literal(host)) { /* an address given as a host: match IP SANs */
        ip = host;
        host = NULL;
    }
    if (ip && !cli_is_ip_literal(ip)) {
        cli_err("verify: --ip '%s' is not an IPv4 or IPv6 address", ip);
        return CLI_EXIT_USAGE;
    }
    if (spiffe && strncmp(spiffe, "spiffe://", 9) != 0) {
        cli_err("verify: --spiffe '%s' is not a SPIFFE ID (spiffe://trust-domain/path)", spiffe);
        return CLI_EXIT_USAGE;
    }
    int64_t at = (int64_t)time(NULL);
    if (at_arg) {
        const char *why = "";
        if (!parse_rfc3339(at_arg, &at, &why)) {
            cli_err("verify: --at '%s' is not an RFC 3339 time: %s (e.g. 2026-11-23T10:00:00Z)",
                    at_arg, why);
            return CLI_EXIT_USAGE;
        }
    }
    params.dns_name = host;
    params.ip = ip;
    params.spiffe_id = spiffe;
    params.time = at;
    params.cn_fallback = cn_fallback;
    if (revocation) {
        if (!strcmp(revocation, "off"))
            params.revocation = CERTA_REVOCATION_OFF;
        else if (!strcmp(revocation, "prefer"))
            params.revocation = CERTA_REVOCATION_PREFER;
        else if (!strcmp(revocation, "require"))
            params.revocation = CERTA_REVOCATION_REQUIRE;
        else {
            cli_err("verify: --revocation must be off, prefer or require, not '%s'", revocation);
            return CLI_EXIT_USAGE;
        }
    }

    /* Inputs: the leaf (and whatever follows it), then --untrusted. */
    int rc = CLI_EXIT_USAGE;
    cert_list chain = {0}, crls = {0};
    certa_trust *trust = certa_trust_new();
    if (!trust) {
        cli_err("out of memory");
        return CLI_EXIT_USAGE;
    }
    if (read_der_items(&chain, leaf_path, "CERTIFICATE", "certificate") != 0) goto out;
    for (size_t i = 0; i < nuntrusted; i++)
        if (read_der_items(&chain, untrusted[i], "CERTIFICATE", "certificate") != 0) goto out;
    for (size_t i = 0; i < ncrl_args; i++)
        if (read_der_items(&crls, crl_paths[i], "X509 CRL", "CRL") != 0) goto out;
    const uint8_t *crl_ders[MAX_INPUT_CERTS];
    for (size_t i = 0; i < crls.count; i++)
        crl_ders[i] = crls.der[i];
    params.crls = crl_ders;
    params.crl_lens = crls.len;
    params.crl_count = crls.count;
    /* Under require the leaf may be vouched for by --ocsp instead of a CRL:
     * the validator reports what is unknown, and the mode is applied here. */
    certa_revocation mode = params.revocation;
    if (mode == CERTA_REVOCATION_DEFAULT)
        mode = crls.count || ocsp_path ? CERTA_REVOCATION_PREFER : CERTA_REVOCATION_OFF;
    if (ocsp_path && mode == CERTA_REVOCATION_REQUIRE) params.revocation = CERTA_REVOCATION_PREFER;

    if (ntrust == 0) {
        int r = certa_trust_load_system(trust);
        if (r != CERTA_OK) {
            cli_err("verify: no trust anchors: %s", certa_trust_error_text(trust));
            goto out;
        }
    }
    for (size_t i = 0; i < ntrust; i++) {
        int r = certa_trust_load(trust, trust_paths[i]);
        if (r != CERTA_OK) {
            cli_err("verify: --trust %s: %s (%s)", trust_paths[i], certa_trust_error_text(trust),
                    certa_error_name(r));
            goto out;
        }
        if (certa_trust_error_text(trust)[0])
            cli_err("warning: --trust %s: %s", trust_paths[i], certa_trust_error_text(trust));
    }

    const uint8_t *ders[MAX_INPUT_CERTS];
    for (size_t i = 0; i < chain.count; i++)
        ders[i] = chain.der[i];
    certa_verify_result result;
    memset(&result, 0, sizeof result);
    int code = certa_verify_chain(trust, ders, chain.len, chain.count, &params, &result);
    char revocation_lines[1800];
    if (code == CERTA_OK &&
        check_revocation(&result, &chain, trust, at, mode, ocsp_path, crls.count, revocation_lines,
                         sizeof revocation_lines) != CLI_EXIT_OK) {
        rc = CLI_EXIT_FAIL;
    } else if (code == CERTA_OK) {
        print_path(&result, &chain, trust, at);
        char when[64];
        cli_format_time(at, when, sizeof when);
        const char *what = host ? "host " : ip ? "address " : spiffe ? "SPIFFE ID " : "";
        const char *name = host ? host : ip ? ip : spiffe ? spiffe : "";
        printf("checked: %s%s%spurpose %s, at %s, against %zu trust anchor%s\n", what, name,
               *name ? ", " : "", purpose, when, certa_trust_count(trust),
               certa_trust_count(trust) == 1 ? "" : "s");
        fputs(revocation_lines, stdout);
        rc = CLI_EXIT_OK;
    } else {
        cli_err("verification failed: %s (%s)",
                result.text[0] ? result.text : certa_error_text(code), certa_error_name(code));
        rc = CLI_EXIT_FAIL;
    }
out:
    cert_list_free(&chain);
    cert_list_free(&crls);
    certa_trust_free(trust);
    return rc;
}
