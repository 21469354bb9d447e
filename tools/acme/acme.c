/* certa acme: an RFC 8555 client. `issue` obtains a certificate (account,
 * order, challenges, finalize, chain check, install), `revoke` revokes
 * one, `account` registers, shows or rolls over the account key. The
 * protocol is in acme_client.c (transport), acme_account.c, acme_order.c,
 * acme_cert.c and the challenge_*.c responders; this file is options and
 * files. */
#include "acme/acme_account.h"
#include "acme/acme_cert.h"
#include "acme/acme_client.h"
#include "acme/acme_order.h"
#include "common/atomic_write.h"
#include "common/cli_common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ca_crypto.h"
#include "x509/issue.h"
#include "x509/pem.h"

#define MAX_DOMAINS ACME_MAX_IDENTIFIERS
#define DEFAULT_TIMEOUT_MS 300000

typedef struct acme_opts {
    const char *sub; /* issue, revoke, account */
    const char *directory, *ca_bundle, *account_key, *out, *chain_trust, *cert_file;
    const char *domains[MAX_DOMAINS];
    size_t n_domains;
    acme_challenge_kind challenge;
    bool challenge_set;
    challenge_opts responder;
    keygen_type key_type;
    acme_account_opts account;
    int timeout_ms;
    int reason;
    bool rollover, verbose;
} acme_opts;

static void acme_usage(FILE *out) {
    fputs("usage: certa acme issue --directory URL --domain NAME [--domain NAME ...]\n"
          "                        --challenge http-01|tls-alpn-01|dns-01 --out DIR --agree-tos\n"
          "                        [options]\n"
          "       certa acme revoke --directory URL --cert FILE --account-key FILE [--reason N]\n"
          "       certa acme account --directory URL --account-key FILE [--agree-tos]\n"
          "                          [--email ADDR] [--eab-kid KID --eab-hmac KEY] [--rollover]\n"
          "\n"
          "issue: obtains a certificate from an ACME CA (RFC 8555) and writes DIR/cert.pem\n"
          "(the leaf, then the chain) and DIR/key.pem (mode 0600), each atomically, only\n"
          "once the chain has been checked: the leaf is for the new key, and it validates\n"
          "with certa's own path validation for every --domain against the CA's roots.\n"
          "On any failure nothing in DIR changes.\n"
          "\n"
          "  --directory URL     the CA's ACME directory (https://)\n"
          "  --ca-bundle FILE    trust anchors for the CA's HTTPS server (default: the\n"
          "                      system bundle)\n"
          "  --domain NAME       a DNS name or an IP address (repeatable; the first is the\n"
          "                      subject CN)\n"
          "  --challenge TYPE    http-01: answer on --http-port N (default 80), or write\n"
          "                      the token into --webroot DIR; tls-alpn-01 (RFC 8737):\n"
          "                      certa's TLS server answers acme-tls/1 on --tls-port N\n"
          "                      (default 443); dns-01: --dns-hook CMD is run as\n"
          "                      'CMD add|remove _acme-challenge.NAME VALUE'\n"
          "  --listen ADDR       address the http-01/tls-alpn-01 listener binds (default\n"
          "                      0.0.0.0)\n"
          "  --out DIR           where cert.pem and key.pem go (created if missing)\n"
          "  --key-type TYPE     the certificate's key: p256 (default), p384, rsa2048\n"
          "  --chain-trust FILE  the CA's issuing roots (PEM) the chain must validate\n"
          "                      against (default: the system bundle)\n"
          "  --account-key FILE  the account key (EC P-256, ES256); created 0600 on first\n"
          "                      use (default for issue: DIR/account.key)\n"
          "  --agree-tos         agree to the CA's terms of service (required by most CAs)\n"
          "  --email ADDR        contact address for the account\n"
          "  --eab-kid KID --eab-hmac KEY  External Account Binding (RFC 8555 7.3.4):\n"
          "                      the key id and base64url MAC key the CA gave you\n"
          "  --timeout SEC       deadline for the whole run (default 300)\n"
          "  --verbose           each request, answer status, poll and challenge on stderr\n"
          "revoke:\n"
          "  --cert FILE         the certificate (PEM; its first certificate is revoked)\n"
          "  --reason N          CRLReason code (0 unspecified, 1 keyCompromise, 4\n"
          "                      superseded, 5 cessationOfOperation, ...)\n"
          "account:\n"
          "  registers the account key (or finds its account) and prints the account URL;\n"
          "  --rollover          replaces the account key with a new one (RFC 8555 7.3.5):\n"
          "                      the new key is written to FILE.new first, moved over FILE\n"
          "                      once the CA has accepted it\n"
          "Errors from the CA are shown as a sentence with the problem type\n"
          "(urn:ietf:params:acme:error:...). badNonce answers are retried, Retry-After is\n"
          "honoured while polling.\n",
          out);
}

static int parse_port(const char *v, const char *name, int *out) {
    long n;
    if (!cli_parse_long(v, 1, 65535, &n)) {
        cli_err("acme: %s must be a port number (1-65535)", name);
        return -1;
    }
    *out = (int)n;
    return 0;
}

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, acme_opts *o) {
    memset(o, 0, sizeof *o);
    o->timeout_ms = DEFAULT_TIMEOUT_MS;
    o->key_type = KEYGEN_P256;
    o->reason = -1;
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        acme_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    o->sub = argv[1];
    if (strcmp(o->sub, "issue") && strcmp(o->sub, "revoke") && strcmp(o->sub, "account")) {
        cli_err("acme: unknown subcommand '%s' (issue, revoke, account)", o->sub);
        return CLI_EXIT_USAGE;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            acme_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--agree-tos")) {
            o->account.agree_tos = true;
            continue;
        }
        if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
            o->verbose = true;
            continue;
        }
        if (!strcmp(a, "--rollover")) {
            o->rollover = true;
            continue;
        }
#define STR_OPT(flag, field)                                                                       \
    if ((m = cli_opt(argc, argv, &i, flag, &v)) != 0) {                                            \
        if (m < 0) return CLI_EXIT_USAGE;                                                          \
        if (!*v) {                                                                                 \
            cli_err("acme: %s needs a value", flag);                                               \
            return CLI_EXIT_USAGE;                                                                 \
        }                                                                                          \
        field = v;                                                                                 \
        continue;                                                                                  \
    }
        STR_OPT("--directory", o->directory)
        STR_OPT("--ca-bundle", o->ca_bundle)
        STR_OPT("--account-key", o->account_key)
        STR_OPT("--out", o->out)
        STR_OPT("--chain-trust", o->chain_trust)
        STR_OPT("--cert", o->cert_file)
        STR_OPT("--webroot", o->responder.webroot)
        STR_OPT("--dns-hook", o->responder.dns_hook)
        STR_OPT("--listen", o->responder.listen_addr)
        STR_OPT("--email", o->account.email)
        STR_OPT("--eab-kid", o->account.eab_kid)
        STR_OPT("--eab-hmac", o->account.eab_hmac)
#undef STR_OPT
        if ((m = cli_opt(argc, argv, &i, "--domain", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            char why[200];
            x509_ip ip;
            if (!x509_parse_ip(v, &ip) && !x509_check_dns_name(v, why, sizeof why)) {
                cli_err("acme: --domain '%s' is neither an IP address nor a DNS name: %s", v, why);
                return CLI_EXIT_USAGE;
            }
            if (o->n_domains == MAX_DOMAINS) {
                cli_err("acme: at most %d --domain", MAX_DOMAINS);
                return CLI_EXIT_USAGE;
            }
            o->domains[o->n_domains++] = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--challenge", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!acme_challenge_from_name(v, &o->challenge)) {
                cli_err("acme: --challenge must be http-01, tls-alpn-01 or dns-01");
                return CLI_EXIT_USAGE;
            }
            o->challenge_set = true;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--http-port", &v)) != 0) {
            if (m < 0 || parse_port(v, "--http-port", &o->responder.http_port))
                return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--tls-port", &v)) != 0) {
            if (m < 0 || parse_port(v, "--tls-port", &o->responder.tls_port)) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--key-type", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!strcmp(v, "p256"))
                o->key_type = KEYGEN_P256;
            else if (!strcmp(v, "p384"))
                o->key_type = KEYGEN_P384;
            else if (!strcmp(v, "rsa2048"))
                o->key_type = KEYGEN_RSA2048;
            else {
                cli_err("acme: --key-type must be p256, p384 or rsa2048");
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--timeout", &v)) != 0) {
            if (m < 0 || !cli_parse_seconds(v, &o->timeout_ms)) {
                if (m > 0) cli_err("acme: --timeout must be a number of seconds");
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--reason", &v)) != 0) {
            long n;
            if (m < 0 || !cli_parse_long(v, 0, 10, &n) || n == 7) {
                if (m > 0) cli_err("acme: --reason must be a CRLReason code (0-10, not 7)");
                return CLI_EXIT_USAGE;
            }
            o->reason = (int)n;
            continue;
        }
        cli_err("acme: unknown option '%s' (certa acme --help)", a);
        return CLI_EXIT_USAGE;
    }
    if (!o->directory) {
        cli_err("acme %s: --directory URL is required", o->sub);
        return CLI_EXIT_USAGE;
    }
    if (!!o->account.eab_kid != !!o->account.eab_hmac) {
        cli_err("acme: --eab-kid and --eab-hmac go together");
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(o->sub, "issue")) {
        if (!o->n_domains || !o->challenge_set || !o->out) {
            cli_err("acme issue: --domain, --challenge and --out are required");
            return CLI_EXIT_USAGE;
        }
        if (o->responder.webroot && o->challenge != ACME_CHALLENGE_HTTP01) {
            cli_err("acme issue: --webroot is for --challenge http-01");
            return CLI_EXIT_USAGE;
        }
        if (o->challenge == ACME_CHALLENGE_DNS01 && !o->responder.dns_hook) {
            cli_err("acme issue: --challenge dns-01 needs --dns-hook CMD");
            return CLI_EXIT_USAGE;
        }
    } else if (!o->account_key) {
        cli_err("acme %s: --account-key FILE is required", o->sub);
        return CLI_EXIT_USAGE;
    } else if (!strcmp(o->sub, "revoke") && !o->cert_file) {
        cli_err("acme revoke: --cert FILE is required");
        return CLI_EXIT_USAGE;
    }
    o->responder.verbose = o->verbose;
    return -1;
}

/* The account key, the directory and the account: ready for requests. */
static int open_account(const acme_opts *o, const char *key_path, bool create, bool only_existing,
                        acme_client *c, crypto_key **key, char *why, size_t cap) {
    bool created;
    *key = acme_account_key_load(key_path, create, &created, why, cap);
    if (!*key) return -1;
    if (created && o->verbose) fprintf(stderr, "* created the account key %s (0600)\n", key_path);
    if (acme_client_open(c, o->directory, o->ca_bundle, o->timeout_ms, o->verbose, why, cap) != 0)
        return -1;
    c->key = *key;
    acme_account_opts ao = o->account;
    acme_status st;
    bool new_account;
    /* A key seen before may have its account: look it up first, so that
     * later runs need no --agree-tos or EAB again. */
    ao.only_existing = !created || only_existing;
    int r = acme_account_register(c, &ao, &st, &new_account, why, cap);
    if (r != 0 && !only_existing && ao.only_existing &&
        !strcmp(c->last_problem, "urn:ietf:params:acme:error:accountDoesNotExist")) {
        ao.only_existing = false;
        r = acme_account_register(c, &ao, &st, &new_account, why, cap);
    }
    if (r != 0) return -1;
    if (st != ACME_STATUS_VALID) {
        snprintf(why, cap, "the account %s is %s", c->kid, acme_status_name(st));
        return -1;
    }
    if (o->verbose)
        fprintf(stderr, "* account %s (%s)\n", c->kid, new_account ? "created" : "existing");
    return 0;
}

static int cmd_issue(const acme_opts *o) {
    char why[2048], key_path[4096], cert_path[4096], acct_path[4096];
    int64_t start = cli_now_ms();
    if (mkdir(o->out, 0755) != 0 && errno != EEXIST) {
        cli_err("acme: --out %s: %s", o->out, strerror(errno));
        return CLI_EXIT_FAIL;
    }
    snprintf(key_path, sizeof key_path, "%s/key.pem", o->out);
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", o->out);
    snprintf(acct_path, sizeof acct_path, "%s/account.key", o->out);
    acme_client c;
    memset(&c, 0, sizeof c);
    crypto_key *account = NULL, *cert_key = NULL;
    char *chain = NULL, *key_pem = NULL;
    size_t chain_len = 0, key_len = 0, count = 0;
    int rc = CLI_EXIT_FAIL;
    if (open_account(o, o->account_key ? o->account_key : acct_path, true, false, &c, &account, why,
                     sizeof why) != 0)
        goto out;
    if (!(cert_key = key_generate(o->key_type))) {
        snprintf(why, sizeof why, "cannot generate the certificate key");
        goto out;
    }
    acme_order_request q = {.names = o->domains,
                            .n_names = o->n_domains,
                            .challenge = o->challenge,
                            .responder = o->responder,
                            .cert_key = cert_key};
    if (acme_order_issue(&c, &q, &chain, &chain_len, why, sizeof why) != 0) goto out;
    certa_cert_summary leaf;
    if (acme_chain_check(chain, chain_len, cert_key, o->domains, o->n_domains, o->chain_trust,
                         &leaf, &count, why, sizeof why) != 0)
        goto out;
    if (key_private_pem(cert_key, &key_pem, &key_len) != 0) {
        snprintf(why, sizeof why, "cannot encode the certificate key");
        goto out;
    }
    /* Both written (and fsynced) beside their targets first, so that a
     * failure leaves the installed pair as it was; then two renames, the
     * key first: a reader that sees the new certificate finds its key.
     * (certa renew will swap a directory instead, in one rename.) */
    char key_new[4200], cert_new[4200];
    snprintf(key_new, sizeof key_new, "%s.new", key_path);
    snprintf(cert_new, sizeof cert_new, "%s.new", cert_path);
    if (atomic_write_file(key_new, key_pem, key_len, 0600, why, sizeof why) != 0) goto out;
    if (atomic_write_file(cert_new, chain, chain_len, 0644, why, sizeof why) != 0) {
        unlink(key_new);
        goto out;
    }
    if (rename(key_new, key_path) != 0) {
        snprintf(why, sizeof why, "cannot install %.900s: %s", key_path, strerror(errno));
        unlink(key_new);
        unlink(cert_new);
        goto out;
    }
    if (rename(cert_new, cert_path) != 0) {
        snprintf(why, sizeof why,
                 "cannot install %.900s: %s (the new key is in place; the new certificate is "
                 "%.900s)",
                 cert_path, strerror(errno), cert_new);
        goto out;
    }
    char na[64], kd[32];
    cli_format_time(leaf.not_after, na, sizeof na);
    key_describe(cert_key, kd, sizeof kd);
    printf("certa: issued for %s%s: %s (leaf + %zu CA certificate%s, valid until %s), %s (%s)\n",
           o->domains[0], o->n_domains > 1 ? " and more" : "", cert_path, count - 1,
           count == 2 ? "" : "s", na, key_path, kd);
    printf("certa: %s via %s in %lld ms (%u requests, %u badNonce retried)\n", leaf.issuer,
           acme_challenge_name(o->challenge), (long long)(cli_now_ms() - start), c.requests,
           c.bad_nonces);
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK) cli_err("acme issue: %s", why);
    if (key_pem) {
        crypto_zero(key_pem, key_len);
        free(key_pem);
    }
    free(chain);
    key_free(cert_key);
    key_free(account);
    acme_client_close(&c);
    return rc;
}

static int cmd_revoke(const acme_opts *o) {
    char why[2048];
    char *pem = NULL;
    size_t len, pos = 0, der_len;
    uint8_t *der = NULL;
    acme_client c;
    memset(&c, 0, sizeof c);
    crypto_key *account = NULL;
    int rc = CLI_EXIT_FAIL;
    if (read_file(o->cert_file, &pem, &len) != 0 ||
        pem_next(pem, len, &pos, "CERTIFICATE", &der, &der_len) != 1) {
        snprintf(why, sizeof why, "--cert %s: no PEM certificate in it", o->cert_file);
        goto out;
    }
    if (open_account(o, o->account_key, false, true, &c, &account, why, sizeof why) != 0) goto out;
    if (acme_revoke(&c, der, der_len, o->reason, why, sizeof why) != 0) goto out;
    certa_cert_summary s;
    if (certa_cert_summarize(der, der_len, &s) == 0)
        printf("certa: revoked %s (%s, issued by %s)\n", o->cert_file, s.subject, s.issuer);
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK) cli_err("acme revoke: %s", why);
    free(pem);
    free(der);
    key_free(account);
    acme_client_close(&c);
    return rc;
}

static int cmd_account(const acme_opts *o) {
    char why[2048], new_path[4200];
    acme_client c;
    memset(&c, 0, sizeof c);
    crypto_key *account = NULL, *fresh = NULL;
    int rc = CLI_EXIT_FAIL;
    if (open_account(o, o->account_key, true, false, &c, &account, why, sizeof why) != 0) goto out;
    printf("certa: account %s\n", c.kid);
    if (o->rollover) {
        snprintf(new_path, sizeof new_path, "%s.new", o->account_key);
        /* Saved before the CA knows it: a crash after the CA switched
         * still leaves the key that now owns the account. */
        if (!(fresh = key_generate(KEYGEN_P256)) ||
            acme_account_key_write(new_path, fresh, why, sizeof why) != 0)
            goto out;
        if (acme_account_rollover(&c, fresh, why, sizeof why) != 0) {
            remove(new_path);
            goto out;
        }
        if (rename(new_path, o->account_key) != 0) {
            snprintf(why, sizeof why,
                     "the CA moved the account to the new key, but it could not "
                     "replace %.900s: it is in %.900s (%s)",
                     o->account_key, new_path, strerror(errno));
            goto out;
        }
        printf("certa: account key rolled over: %s holds the new key\n", o->account_key);
    }
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK) cli_err("acme account: %s", why);
    key_free(account);
    key_free(fresh);
    acme_client_close(&c);
    return rc;
}

int cmd_acme(int argc, char **argv) {
    acme_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(o.sub, "issue")) return cmd_issue(&o);
    if (!strcmp(o.sub, "revoke")) return cmd_revoke(&o);
    return cmd_account(&o);
}
