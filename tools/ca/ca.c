/* certa ca: a small development CA for short-lived workload identities
 * (SPIFFE IDs, DNS names, IP addresses), with revocation and CRLs.
 *
 *   certa ca init DIR [--name NAME] [--ttl 8760h]
 *   certa ca issue DIR --out NAME (--spiffe ID | --dns NAME | --ip ADDR)...
 *                  [--client | --server] [--ttl 24h] [--key-type p256]
 *   certa ca revoke DIR SERIAL [--reason REASON]
 *   certa ca crl DIR [--ttl 24h]
 *   certa ca ocsp DIR --port N [--signer NAME]   (the responder: ca_ocsp.c)
 *
 * DIR holds ca.key (PKCS#8 PEM, 0600), ca.crt, serials.txt (one line per
 * issued certificate: serial, not-after, file, identities), revoked.txt
 * (serial, revocation time, reason), crlnumber and ca.crl. Commands that
 * change the state take an exclusive lock on DIR. */
#include "ca/ca_store.h"
#include "common/cli_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ca_crypto.h"
#include "crypto/crypto.h"
#include "x509/cert.h"
#include "x509/issue.h"
#include "wire/der_build.h"
#include "x509/pem.h"

int cmd_ca(int argc, char **argv);

#define SKEW_SECONDS 300 /* notBefore this far in the past */
#define MAX_SANS 64

/* ---- small helpers ---- */

void ca_usage(FILE *out) {
    fputs("usage: certa ca <command> DIR [options]\n"
          "\n"
          "  init DIR [--name \"certa dev CA\"] [--ttl 8760h] [--path-len 1]\n"
          "      create a CA: DIR/ca.key (ECDSA P-256), DIR/ca.crt (self-signed root);\n"
          "      --key pkcs11:token=T;object=K?pin-source=file:F keeps the CA key on a\n"
          "      PKCS#11 token instead (ca.key then holds the URI, and every command that\n"
          "      signs uses the token; --pkcs11-module SO names the module)\n"
          "      --path-len: how many intermediate levels may follow (default 1)\n"
          "  init DIR --intermediate --parent PDIR [--name NAME] [--ttl 4380h]\n"
          "        [--path-len 0] [--permit-dns NAME]... [--exclude-dns NAME]...\n"
          "        [--permit-uri HOST]... [--exclude-uri HOST]...\n"
          "      an intermediate CA signed by the CA in PDIR, with name constraints\n"
          "      (a DNS base covers the name and its subdomains; a URI host such as a\n"
          "      SPIFFE trust domain, or .domain for its subdomains). DIR/chain.crt is\n"
          "      its certificate then PDIR's chain: `issue` appends it to each NAME.crt\n"
          "  renew DIR [--ttl T] [--parent PDIR] [--path-len N]\n"
          "      a new CA certificate for the same key, subject and constraints (the\n"
          "      old one kept as DIR/ca.prev.crt): what it issued verifies under both;\n"
          "      an intermediate is signed again by its parent (recorded at init)\n"
          "  issue DIR --out NAME (--spiffe ID | --dns NAME | --ip ADDR)...\n"
          "        [--client | --server] [--ttl 24h] [--key-type p256|p384|ed25519|rsa2048]\n"
          "        [--cn NAME | --empty-subject] [--crl-url URL] [--ocsp-url URL]\n"
          "        [--must-staple] [--force]\n"
          "      issue a workload identity: NAME.key and NAME.crt (both purposes unless\n"
          "      --client or --server; from an intermediate, NAME.crt holds the chain\n"
          "      after the leaf); at most one --spiffe ID. --ocsp-url puts the\n"
          "      OCSP responder in authorityInfoAccess (what serve --ocsp-fetch asks);\n"
          "      --must-staple adds the TLS Feature status_request (RFC 7633): clients\n"
          "      refuse the certificate without a valid stapled OCSP response\n"
          "  issue DIR --out NAME --ocsp-signing [--cn NAME] [--ttl 24h]\n"
          "      a delegated OCSP responder certificate (RFC 6960 §4.2.2.2):\n"
          "      extKeyUsage OCSPSigning only and id-pkix-ocsp-nocheck; keep it short\n"
          "  revoke DIR SERIAL [--reason keyCompromise|superseded|cessationOfOperation|\n"
          "        affiliationChanged|unspecified]\n"
          "      mark a certificate revoked (SERIAL in hex, as printed by issue)\n"
          "  crl DIR [--ttl 24h]\n"
          "      write DIR/ca.crl (PEM) listing every revoked certificate\n"
          "  ocsp DIR --port N [--bind 127.0.0.1] [--signer NAME] [--ttl 1h]\n"
          "      an OCSP responder over HTTP answering from DIR's records (see\n"
          "      certa ca ocsp --help); --signer NAME signs with a delegated responder\n"
          "      certificate made by issue --ocsp-signing\n"
          "\n"
          "TTLs: a number and a unit (s, m, h, d), optionally combined: 90s, 15m, 24h,\n"
          "7d, 1h30m.\n",
          out);
}

/* snprintf at *len, clamping *len to the buffer (output truncated). */
static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    if (*len + 1 >= cap) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    *len = *len + (size_t)n >= cap ? cap - 1 : *len + (size_t)n;
}

/* ---- issue ---- */

typedef struct issue_opts {
    const char *dir, *out, *ttl_s, *key_type, *cn, *crl_url, *ocsp_url;
    const char *spiffe;
    const char *dns[MAX_SANS];
    size_t n_dns;
    x509_ip ips[MAX_SANS];
    const char *ip_text[MAX_SANS];
    size_t n_ips;
    bool client, server, force, empty_subject;
    bool must_staple, ocsp_signing;
} issue_opts;

/* Last path segment of a (checked) SPIFFE ID. */
static const char *spiffe_last_segment(const char *id) {
    const char *slash = strrchr(id, '/');
    return slash ? slash + 1 : id;
}

static int parse_issue_args(int argc, char **argv, issue_opts *o) {
    memset(o, 0, sizeof *o);
    o->ttl_s = "24h";
    o->key_type = "p256";
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        char why[160];
        if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->out = v;
        } else if ((m = cli_opt(argc, argv, &i, "--spiffe", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (o->spiffe) {
                cli_err("ca issue: only one --spiffe ID per certificate (an X509-SVID has "
                        "exactly one URI SAN)");
                return CLI_EXIT_USAGE;
            }
            if (!x509_check_spiffe_id(v, why, sizeof why)) {
                cli_err("ca issue: bad SPIFFE ID '%s': %s", v, why);
                return CLI_EXIT_USAGE;
            }
            o->spiffe = v;
        } else if ((m = cli_opt(argc, argv, &i, "--dns", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (x509_parse_ip(v, &o->ips[0])) {
                cli_err("ca issue: '%s' is an IP address: use --ip %s", v, v);
                return CLI_EXIT_USAGE;
            }
            if (!x509_check_dns_name(v, why, sizeof why)) {
                cli_err("ca issue: bad DNS name '%s': %s", v, why);
                return CLI_EXIT_USAGE;
            }
            if (o->n_dns >= MAX_SANS) {
                cli_err("ca issue: at most %d --dns names", MAX_SANS);
                return CLI_EXIT_USAGE;
            }
            o->dns[o->n_dns++] = v;
        } else if ((m = cli_opt(argc, argv, &i, "--ip", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (o->n_ips >= MAX_SANS) {
                cli_err("ca issue: at most %d --ip addresses", MAX_SANS);
                return CLI_EXIT_USAGE;
            }
            if (!x509_parse_ip(v, &o->ips[o->n_ips])) {
                cli_err("ca issue: bad IP address '%s': use an IPv4 (10.0.0.1) or IPv6 (::1) "
                        "literal, without brackets or port",
                        v);
                return CLI_EXIT_USAGE;
            }
            o->ip_text[o->n_ips++] = v;
        } else if ((m = cli_opt(argc, argv, &i, "--ttl", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->ttl_s = v;
        } else if ((m = cli_opt(argc, argv, &i, "--key-type", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->key_type = v;
        } else if ((m = cli_opt(argc, argv, &i, "--cn", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->cn = v;
        } else if ((m = cli_opt(argc, argv, &i, "--crl-url", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->crl_url = v;
        } else if ((m = cli_opt(argc, argv, &i, "--ocsp-url", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->ocsp_url = v;
        } else if (!strcmp(argv[i], "--must-staple")) {
            o->must_staple = true;
        } else if (!strcmp(argv[i], "--ocsp-signing")) {
            o->ocsp_signing = true;
        } else if (!strcmp(argv[i], "--client")) {
            o->client = true;
        } else if (!strcmp(argv[i], "--server")) {
            o->server = true;
        } else if (!strcmp(argv[i], "--force")) {
            o->force = true;
        } else if (!strcmp(argv[i], "--empty-subject")) {
            o->empty_subject = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ca_usage(stdout);
            return -1;
        } else if (argv[i][0] == '-') {
            cli_err("ca issue: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!o->dir) {
            o->dir = argv[i];
        } else {
            cli_err("ca issue: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!o->dir) {
        cli_err("ca issue: which CA? certa ca issue DIR --out NAME --dns NAME");
        return CLI_EXIT_USAGE;
    }
    if (!o->out || !*o->out) {
        cli_err("ca issue: --out NAME is required (writes NAME.key and NAME.crt)");
        return CLI_EXIT_USAGE;
    }
    for (const char *c = o->out; *c; c++) {
        if ((unsigned char)*c < 0x20) {
            cli_err("ca issue: --out must not contain control characters");
            return CLI_EXIT_USAGE;
        }
    }
    if (o->ocsp_signing &&
        (o->spiffe || o->n_dns || o->n_ips || o->client || o->server || o->must_staple)) {
        cli_err("ca issue: --ocsp-signing makes an OCSP responder certificate: it takes no "
                "--spiffe/--dns/--ip, --client/--server or --must-staple");
        return CLI_EXIT_USAGE;
    }
    if (o->ocsp_signing && !o->cn && !o->empty_subject) o->cn = "certa OCSP responder";
    if (!o->ocsp_signing && !o->spiffe && o->n_dns == 0 && o->n_ips == 0) {
        cli_err("ca issue: give the identity: --spiffe ID, --dns NAME and/or --ip ADDR");
        return CLI_EXIT_USAGE;
    }
    if (o->cn && o->empty_subject) {
        cli_err("ca issue: --cn and --empty-subject contradict each other");
        return CLI_EXIT_USAGE;
    }
    if (o->cn && (!*o->cn || strlen(o->cn) > 64 || !der_is_utf8(o->cn, strlen(o->cn)))) {
        cli_err("ca issue: --cn must be 1-64 bytes of UTF-8 text");
        return CLI_EXIT_USAGE;
    }
    if (o->crl_url && (strncmp(o->crl_url, "http://", 7) != 0 || strlen(o->crl_url) > 1024 ||
                       !der_is_ia5(o->crl_url, strlen(o->crl_url)))) {
        cli_err("ca issue: --crl-url must be an http:// URL (RFC 5280 §4.2.1.13)");
        return CLI_EXIT_USAGE;
    }
    if (o->ocsp_url && (strncmp(o->ocsp_url, "http://", 7) != 0 || strlen(o->ocsp_url) > 1024 ||
                        !der_is_ia5(o->ocsp_url, strlen(o->ocsp_url)))) {
        cli_err("ca issue: --ocsp-url must be an http:// URL (RFC 6960 §A.1: OCSP over HTTP)");
        return CLI_EXIT_USAGE;
    }
    if (!o->client && !o->server) o->client = o->server = true;
    return CLI_EXIT_OK;
}

/* The CA's own name constraints (and those of the CAs above it, from
 * chain.crt) hold for what it issues: a certificate no verifier would accept
 * is refused here, with the verifier's sentence, rather than written. The
 * top certificate of chain.crt (or ca.crt) is the anchor, whose constraints
 * certa's path validation applies as well. Other verdicts are not this
 * check's business (a leaf for clients only, say), so only a name
 * constraint violation refuses. */
static bool within_name_constraints(const ca_state *ca, const uint8_t *der, size_t der_len,
                                    bool server) {
    char chain_path[CA_PATH_CAP];
    char *pem = NULL;
    size_t pem_len = 0;
    if (!path_join(chain_path, sizeof chain_path, ca->dir, "chain.crt") || !exists(chain_path) ||
        read_file(chain_path, &pem, &pem_len) != 0) {
        free(pem);
        pem = NULL;
    }
    const char *text = pem ? pem : ca->cert_pem;
    size_t text_len = pem ? pem_len : ca->cert_pem_len;
    enum { MAX_CHAIN = 8 };
    const uint8_t *chain[MAX_CHAIN + 1] = {der};
    size_t lens[MAX_CHAIN + 1] = {der_len};
    uint8_t *owned[MAX_CHAIN] = {0};
    size_t n = 0, pos = 0;
    while (n < MAX_CHAIN &&
           pem_next(text, text_len, &pos, "CERTIFICATE", &owned[n], &lens[n + 1]) == 1) {
        chain[n + 1] = owned[n];
        n++;
    }
    /* The anchor: the last PEM block of the file. */
    const char *last = NULL;
    for (const char *q = text; (q = strstr(q, "-----BEGIN CERTIFICATE-----")); q++)
        last = q;
    bool ok = true;
    certa_trust *anchor = certa_trust_new();
    if (n > 0 && last && anchor &&
        certa_trust_add_pem(anchor, last, text_len - (size_t)(last - text)) == CERTA_OK) {
        certa_verify_params vp;
        memset(&vp, 0, sizeof vp);
        vp.purpose = server ? CERTA_PURPOSE_SERVER : CERTA_PURPOSE_CLIENT;
        certa_verify_result vr;
        if (certa_verify_chain(anchor, chain, lens, n, &vp, &vr) == CERTA_E_CERT_NAME_CONSTRAINTS) {
            cli_err("ca issue: refused, the CA's name constraints do not allow these names: %s. "
                    "issue names within them, or from another CA",
                    vr.text);
            ok = false;
        }
    }
    certa_trust_free(anchor);
    for (size_t i = 0; i < n; i++)
        free(owned[i]);
    free(pem);
    return ok;
}

static int ca_issue(int argc, char **argv) {
    issue_opts o;
    int prc = parse_issue_args(argc, argv, &o);
    if (prc < 0) return CLI_EXIT_OK; /* --help */
    if (prc != CLI_EXIT_OK) return prc;
    int64_t ttl;
    if (!parse_ttl(o.ttl_s, &ttl)) {
        cli_err("ca issue: bad --ttl '%s': use a number and a unit, e.g. 90s, 15m, 24h, 7d",
                o.ttl_s);
        return CLI_EXIT_USAGE;
    }
    keygen_type kt;
    if (!keygen_type_from_name(o.key_type, &kt)) {
        cli_err("ca issue: unknown --key-type '%s': use p256, p384, ed25519 or rsa2048",
                o.key_type);
        return CLI_EXIT_USAGE;
    }
    char crt_path[CA_PATH_CAP], key_path[CA_PATH_CAP], serials[CA_PATH_CAP];
    if (snprintf(crt_path, sizeof crt_path, "%s.crt", o.out) >= (int)sizeof crt_path ||
        snprintf(key_path, sizeof key_path, "%s.key", o.out) >= (int)sizeof key_path ||
        !path_join(serials, sizeof serials, o.dir, "serials.txt")) {
        cli_err("path too long");
        return CLI_EXIT_USAGE;
    }
    if (!o.force && (exists(crt_path) || exists(key_path))) {
        cli_err("%s already exists: use --force to replace it, or another --out",
                exists(crt_path) ? crt_path : key_path);
        return CLI_EXIT_FAIL;
    }

    ca_state ca;
    if (!ca_open(&ca, o.dir)) {
        ca_close(&ca);
        return CLI_EXIT_FAIL;
    }
    int rc = CLI_EXIT_FAIL;
    crypto_key *key = NULL;
    uint8_t *der = NULL;
    char *pem = NULL, *key_pem = NULL;
    size_t der_len = 0, pem_len = 0, key_pem_len = 0;

    int64_t now = (int64_t)time(NULL);
    int64_t not_after = now + ttl;
    if (not_after > ca.cert.not_after) {
        char ca_end[64], max_left[64], want[64];
        cli_format_time(ca.cert.not_after, ca_end, sizeof ca_end);
        fmt_duration(ca.cert.not_after - now, max_left, sizeof max_left);
        fmt_duration(ttl, want, sizeof want);
        if (ca.cert.not_after <= now)
            cli_err("the CA certificate expired on %s: create a new CA (certa ca init)", ca_end);
        else
            cli_err("--ttl %s (%s) would outlive the CA, which expires on %s (in %s): use a "
                    "shorter --ttl, or create a CA with a longer one",
                    o.ttl_s, want, ca_end, max_left);
        goto done;
    }
    if (now < ca.cert.not_before) {
        cli_err("the CA certificate is not valid yet (check the clock)");
        goto done;
    }

    /* Subject. */
    const char *cn = NULL;
    char cn_buf[80];
    if (o.cn) {
        cn = o.cn;
    } else if (!o.empty_subject) {
        if (o.n_dns > 0 && strlen(o.dns[0]) <= 64)
            cn = o.dns[0];
        else if (o.spiffe && strlen(spiffe_last_segment(o.spiffe)) <= 64)
            cn = spiffe_last_segment(o.spiffe);
        else if (o.n_ips > 0) {
            snprintf(cn_buf, sizeof cn_buf, "%s", o.ip_text[0]);
            cn = cn_buf;
        }
    }

    uint8_t serial[X509_SERIAL_LEN];
    key = key_generate(kt);
    if (!key || x509_random_serial(serial) != 0) {
        cli_err("cannot generate a %s key", o.key_type);
        goto done;
    }
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.issuer = ca.cert.subject.data;
    p.issuer_len = ca.cert.subject.len;
    p.subject_cn = cn;
    p.not_before = now - SKEW_SECONDS;
    if (p.not_before < ca.cert.not_before) p.not_before = ca.cert.not_before;
    p.not_after = not_after;
    p.is_ca = false;
    p.path_len = -1;
    p.server_auth = o.server;
    p.client_auth = o.client;
    p.dns = o.dns;
    p.n_dns = o.n_dns;
    p.ips = o.ips;
    p.n_ips = o.n_ips;
    p.uris = o.spiffe ? &o.spiffe : NULL;
    p.n_uris = o.spiffe ? 1 : 0;
    p.issuer_key_id = ca.key_id;
    p.issuer_key_id_len = ca.key_id_len;
    p.crl_url = o.crl_url;
    p.ocsp_url = o.ocsp_url;
    p.must_staple = o.must_staple;
    p.ocsp_signing = o.ocsp_signing;
    if (x509_issue(&p, key, ca.key, &der, &der_len) != 0 ||
        x509_pem_encode("CERTIFICATE", der, der_len, &pem, &pem_len) != 0) {
        cli_err("cannot build the certificate (is the CA key a supported type?)");
        goto done;
    }
    if (!within_name_constraints(&ca, der, der_len, o.server)) goto done;
    if (key_private_pem(key, &key_pem, &key_pem_len) != 0) {
        cli_err("cannot encode the private key");
        goto done;
    }
    /* From an intermediate the file carries the chain up to the root, so
     * that a server sends it (what curl and openssl need to build the path). */
    char chain_path[CA_PATH_CAP];
    if (path_join(chain_path, sizeof chain_path, o.dir, "chain.crt") && exists(chain_path)) {
        char *chain = NULL;
        size_t chain_len = 0;
        char *full = NULL;
        if (read_file(chain_path, &chain, &chain_len) != 0 ||
            !(full = malloc(pem_len + chain_len + 1))) {
            cli_err("cannot read the CA's chain %s", chain_path);
            free(chain);
            goto done;
        }
        memcpy(full, pem, pem_len);
        memcpy(full + pem_len, chain, chain_len);
        full[pem_len + chain_len] = 0;
        free(chain);
        free(pem);
        pem = full;
        pem_len += chain_len;
    }
    /* --force replaces each file with one rename (a reader sees the old file
     * or the new, never a missing or partial one; serve and proxy wait until
     * key and certificate match again). */
    if (!write_file(key_path, key_pem, key_pem_len, 0600, !o.force)) goto done;
    if (!write_file(crt_path, pem, pem_len, 0644, !o.force)) {
        if (!o.force) unlink(key_path);
        goto done;
    }

    /* Identities, for the record and the summary (truncated if huge). */
    char sans[4096];
    size_t sl = 0;
    sans[0] = 0;
    for (size_t i = 0; i < o.n_dns; i++)
        appendf(sans, sizeof sans, &sl, "%sDNS:%s", sl ? ", " : "", o.dns[i]);
    for (size_t i = 0; i < o.n_ips; i++)
        appendf(sans, sizeof sans, &sl, "%sIP:%s", sl ? ", " : "", o.ip_text[i]);
    if (o.spiffe) appendf(sans, sizeof sans, &sl, "%sURI:%s", sl ? ", " : "", o.spiffe);

    char hex[64], line[CA_PATH_CAP + 4400];
    hex_upper(serial, sizeof serial, hex, sizeof hex);
    int ln = snprintf(line, sizeof line, "%s\t%lld\t%s\t%s\n", hex, (long long)not_after, crt_path,
                      sans);
    if (ln < 0 || (size_t)ln >= sizeof line) { /* truncated: keep one line per record */
        line[sizeof line - 2] = '\n';
        line[sizeof line - 1] = 0;
    }
    if (!append_line(serials, line)) {
        cli_err("the certificate was written but not recorded in %s: it cannot be revoked "
                "by serial until it is",
                serials);
        goto done;
    }

    x509_cert leaf;
    char subject[512] = "";
    if (x509_parse(&leaf, der, der_len) == 0)
        x509_name_to_string(&leaf.subject, subject, sizeof subject);
    char when[64], left[64], kdesc[64];
    cli_format_time(not_after, when, sizeof when);
    fmt_duration(ttl, left, sizeof left);
    key_describe(key, kdesc, sizeof kdesc);
    printf("issued %s for %s\n"
           "  certificate: %s\n"
           "  private key: %s  (%s, PKCS#8, mode 0600)\n"
           "  serial:      %s\n"
           "  subject:     %s\n"
           "  SANs:        %s%s\n"
           "  usage:       %s\n"
           "  issuer:      %s\n"
           "  not after:   %s (expires in %s)\n",
           o.ocsp_signing ? "an OCSP responder certificate"
           : o.spiffe     ? "an X509-SVID"
                          : "a certificate",
           o.ocsp_signing ? ca.subject
           : o.spiffe     ? o.spiffe
           : o.n_dns      ? o.dns[0]
                          : o.ip_text[0],
           crt_path, key_path, kdesc, hex,
           *subject ? subject : "(empty; the SAN extension is critical)", sl ? sans : "(none)",
           *subject || !sl ? "" : " [critical]",
           o.ocsp_signing         ? "OCSP responses for the CA (OCSPSigning, ocsp-nocheck)"
           : o.server && o.client ? "TLS server and client (serverAuth, clientAuth)"
           : o.server             ? "TLS server (serverAuth)"
                                  : "TLS client (clientAuth)",
           ca.subject, when, left);
    if (o.ocsp_url) printf("  OCSP:        %s\n", o.ocsp_url);
    if (o.must_staple)
        printf("  must-staple: yes (TLS Feature status_request: staple an OCSP response)\n");
    rc = CLI_EXIT_OK;
done:
    if (key_pem) {
        crypto_zero(key_pem, key_pem_len);
        free(key_pem);
    }
    free(pem);
    free(der);
    key_free(key);
    ca_close(&ca);
    return rc;
}

/* ---- revoke ---- */

static int ca_revoke(int argc, char **argv) {
    const char *dir = NULL, *serial_s = NULL, *reason_s = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--reason", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            reason_s = v;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ca_usage(stdout);
            return CLI_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            cli_err("ca revoke: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!dir) {
            dir = argv[i];
        } else if (!serial_s) {
            serial_s = argv[i];
        } else {
            cli_err("ca revoke: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!dir || !serial_s) {
        cli_err("ca revoke: certa ca revoke DIR SERIAL (the hex serial printed by ca issue)");
        return CLI_EXIT_USAGE;
    }
    char hex[64];
    if (!normalize_serial(serial_s, hex, sizeof hex)) {
        cli_err("ca revoke: bad serial '%s': give it in hex, e.g. 4F0A...; colons are fine",
                serial_s);
        return CLI_EXIT_USAGE;
    }
    int reason = 0;
    if (reason_s) {
        if (!ca_reason_code(reason_s, &reason)) {
            cli_err("ca revoke: unknown --reason '%s': use keyCompromise, superseded, "
                    "cessationOfOperation, affiliationChanged or unspecified",
                    reason_s);
            return CLI_EXIT_USAGE;
        }
    }
    ca_state ca;
    if (!ca_open(&ca, dir)) {
        ca_close(&ca);
        return CLI_EXIT_FAIL;
    }
    int rc = CLI_EXIT_FAIL;
    char serials[CA_PATH_CAP], revoked[CA_PATH_CAP], issued[8192], prev[256];
    if (!path_join(serials, sizeof serials, dir, "serials.txt") ||
        !path_join(revoked, sizeof revoked, dir, "revoked.txt")) {
        cli_err("path too long: %s", dir);
        goto done;
    }
    if (!find_serial(serials, hex, issued, sizeof issued)) {
        cli_err("serial %s was not issued by the CA in %s (see %s)", hex, dir, serials);
        goto done;
    }
    if (find_serial(revoked, hex, prev, sizeof prev)) {
        long long at = 0;
        char when[64] = "an earlier date";
        if (sscanf(prev, "%*s %lld", &at) == 1) cli_format_time(at, when, sizeof when);
        printf("serial %s was already revoked on %s; nothing to do\n", hex, when);
        rc = CLI_EXIT_OK;
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    char line[256];
    snprintf(line, sizeof line, "%s\t%lld\t%s\n", hex, (long long)now, ca_reason_name(reason));
    if (!append_line(revoked, line)) goto done;
    /* The record: serial, not_after, file, identities. */
    char file[CA_PATH_CAP] = "?", ids[4096] = "";
    {
        char *save = NULL;
        strtok_r(issued, "\t", &save);
        strtok_r(NULL, "\t", &save);
        const char *f = strtok_r(NULL, "\t", &save);
        const char *s = strtok_r(NULL, "\n", &save);
        if (f) snprintf(file, sizeof file, "%s", f);
        if (s) snprintf(ids, sizeof ids, "%s", s);
    }
    char when[64];
    cli_format_time(now, when, sizeof when);
    printf("revoked serial %s (%s)\n"
           "  certificate: %s\n"
           "  identities:  %s\n"
           "  revoked at:  %s\n"
           "next: certa ca crl %s  (publish the new CRL to the verifiers)\n",
           hex, ca_reason_name(reason), file, ids, when, dir);
    rc = CLI_EXIT_OK;
done:
    ca_close(&ca);
    return rc;
}

/* ---- crl ---- */

static int ca_crl(int argc, char **argv) {
    const char *dir = NULL, *ttl_s = "24h";
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--ttl", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            ttl_s = v;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ca_usage(stdout);
            return CLI_EXIT_OK;
        } else if (argv[i][0] == '-') {
            cli_err("ca crl: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!dir) {
            dir = argv[i];
        } else {
            cli_err("ca crl: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!dir) {
        cli_err("ca crl: which CA? certa ca crl DIR [--ttl 24h]");
        return CLI_EXIT_USAGE;
    }
    int64_t ttl;
    if (!parse_ttl(ttl_s, &ttl)) {
        cli_err("ca crl: bad --ttl '%s': use a number and a unit, e.g. 24h, 7d", ttl_s);
        return CLI_EXIT_USAGE;
    }
    ca_state ca;
    if (!ca_open(&ca, dir)) {
        ca_close(&ca);
        return CLI_EXIT_FAIL;
    }
    int rc = CLI_EXIT_FAIL;
    ca_revocation *records = NULL;
    x509_revoked *list = NULL;
    size_t n = 0;
    uint8_t *der = NULL;
    char *pem = NULL;
    size_t der_len = 0, pem_len = 0;
    char numpath[CA_PATH_CAP], crlpath[CA_PATH_CAP];
    if (!path_join(numpath, sizeof numpath, dir, "crlnumber") ||
        !path_join(crlpath, sizeof crlpath, dir, "ca.crl")) {
        cli_err("path too long: %s", dir);
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    if (now + ttl > ca.cert.not_after) {
        char ca_end[64];
        cli_format_time(ca.cert.not_after, ca_end, sizeof ca_end);
        cli_err("--ttl %s would make the CRL outlive the CA, which expires on %s: use a "
                "shorter --ttl",
                ttl_s, ca_end);
        goto done;
    }

    if (!ca_read_revoked(&ca, &records, &n)) goto done;
    if (n > 0 && !(list = calloc(n, sizeof *list))) {
        cli_err("out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        list[i].serial = records[i].serial;
        list[i].serial_len = records[i].serial_len;
        list[i].revoked_at = records[i].revoked_at;
        list[i].reason = records[i].reason;
    }

    /* CRL number: one more than the last. */
    unsigned long long number = 1;
    {
        FILE *nf = fopen(numpath, "r");
        if (nf) {
            unsigned long long last = 0;
            if (fscanf(nf, "%llu", &last) == 1 && last < (1ULL << 62)) number = last + 1;
            fclose(nf);
        }
    }
    x509_crl_params p;
    memset(&p, 0, sizeof p);
    p.issuer = ca.cert.subject.data;
    p.issuer_len = ca.cert.subject.len;
    p.issuer_key_id = ca.key_id;
    p.issuer_key_id_len = ca.key_id_len;
    p.this_update = now;
    p.next_update = now + ttl;
    p.crl_number = number;
    p.revoked = list;
    p.n_revoked = n;
    if (x509_crl_build(&p, ca.key, &der, &der_len) != 0 ||
        x509_pem_encode("X509 CRL", der, der_len, &pem, &pem_len) != 0) {
        cli_err("cannot build the CRL");
        goto done;
    }
    char num_text[32];
    snprintf(num_text, sizeof num_text, "%llu\n", number);
    if (!write_file(numpath, num_text, strlen(num_text), 0600, false)) goto done;
    if (!write_file(crlpath, pem, pem_len, 0644, false)) goto done;
    char when[64], left[64];
    cli_format_time(p.next_update, when, sizeof when);
    fmt_duration(ttl, left, sizeof left);
    printf("wrote %s\n"
           "  issuer:      %s\n"
           "  CRL number:  %llu\n"
           "  revoked:     %zu certificate%s\n"
           "  next update: %s (in %s: run certa ca crl again before then)\n",
           crlpath, ca.subject, number, n, n == 1 ? "" : "s", when, left);
    rc = CLI_EXIT_OK;
done:
    free(records);
    free(list);
    free(der);
    free(pem);
    ca_close(&ca);
    return rc;
}

/* ---- dispatch ---- */

int cmd_ca(int argc, char **argv) {
    if (argc < 2) {
        ca_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "init")) return ca_init(argc - 1, argv + 1);
    if (!strcmp(sub, "renew")) return ca_renew(argc - 1, argv + 1);
    if (!strcmp(sub, "issue")) return ca_issue(argc - 1, argv + 1);
    if (!strcmp(sub, "revoke")) return ca_revoke(argc - 1, argv + 1);
    if (!strcmp(sub, "crl")) return ca_crl(argc - 1, argv + 1);
    if (!strcmp(sub, "ocsp")) return cmd_ca_ocsp(argc - 1, argv + 1);
    if (!strcmp(sub, "help") || !strcmp(sub, "--help") || !strcmp(sub, "-h")) {
        ca_usage(stdout);
        return CLI_EXIT_OK;
    }
    cli_err("ca: unknown command '%s'", sub);
    ca_usage(stderr);
    return CLI_EXIT_USAGE;
}
