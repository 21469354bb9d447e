/* certa acme: an RFC 8555 client. `issue` obtains a certificate (account,
 * order, challenges, finalize, chain check, install), `revoke` revokes
 * one, `account` registers, shows or rolls over the account key. The
 * protocol is in acme_client.c (transport), acme_account.c, acme_order.c,
 * acme_cert.c and the challenge_*.c responders; this file is options and
 * files. */
#include "acme/acme_account.h"
#include "acme/acme_cert.h"
#include "acme/acme_client.h"
#include "acme/acme_issue.h"
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

typedef struct acme_opts {
    const char *sub; /* issue, revoke, account */
    const char *out, *cert_file;
    acme_issue_opts issue; /* the CA, the account, and for issue the order */
    int reason;
    bool rollover;
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
          "On any failure nothing in DIR changes. (certa renew keeps a certificate renewed.)\n"
          "\n"
          "  --out DIR           where cert.pem and key.pem go (created if missing); the\n"
          "                      account key defaults to DIR/account.key\n",
          out);
    acme_issue_usage(out);
    fputs("revoke:\n"
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

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, acme_opts *o) {
    memset(o, 0, sizeof *o);
    acme_issue_opts_init(&o->issue);
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
        if (!strcmp(a, "--rollover")) {
            o->rollover = true;
            continue;
        }
        if ((m = acme_issue_option(argc, argv, &i, "acme", &o->issue)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--out", &v)) != 0 ||
            (m = cli_opt(argc, argv, &i, "--cert", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!*v) {
                cli_err("acme: %s needs a value", a);
                return CLI_EXIT_USAGE;
            }
            *(!strcmp(a, "--out") ? &o->out : &o->cert_file) = v;
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
    if (!o->issue.directory) {
        cli_err("acme %s: --directory URL is required", o->sub);
        return CLI_EXIT_USAGE;
    }
    if (!!o->issue.account.eab_kid != !!o->issue.account.eab_hmac) {
        cli_err("acme: --eab-kid and --eab-hmac go together");
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(o->sub, "issue")) {
        if (!o->out) {
            cli_err("acme issue: --domain, --challenge and --out are required");
            return CLI_EXIT_USAGE;
        }
        if (!acme_issue_opts_check(&o->issue, "acme issue")) return CLI_EXIT_USAGE;
    } else if (!o->issue.account_key) {
        cli_err("acme %s: --account-key FILE is required", o->sub);
        return CLI_EXIT_USAGE;
    } else if (!strcmp(o->sub, "revoke") && !o->cert_file) {
        cli_err("acme revoke: --cert FILE is required");
        return CLI_EXIT_USAGE;
    }
    return -1;
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
    crypto_key *account = NULL;
    acme_issued got = {0};
    int rc = CLI_EXIT_FAIL;
    const acme_issue_opts *io = &o->issue;
    if (acme_issue_open_account(io, io->account_key ? io->account_key : acct_path, true, false, &c,
                                &account, why, sizeof why) != 0)
        goto out;
    if (acme_issue_obtain(io, &c, NULL, &got, why, sizeof why) != 0) goto out;
    /* Both written (and fsynced) beside their targets first, so that a
     * failure leaves the installed pair as it was; then two renames, the
     * key first: a reader that sees the new certificate finds its key.
     * (certa renew will swap a directory instead, in one rename.) */
    char key_new[4200], cert_new[4200];
    snprintf(key_new, sizeof key_new, "%s.new", key_path);
    snprintf(cert_new, sizeof cert_new, "%s.new", cert_path);
    if (atomic_write_file(key_new, got.key_pem, got.key_len, 0600, why, sizeof why) != 0) goto out;
    if (atomic_write_file(cert_new, got.chain, got.chain_len, 0644, why, sizeof why) != 0) {
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
    char na[64];
    cli_format_time(got.leaf.not_after, na, sizeof na);
    printf("certa: issued for %s%s: %s (leaf + %zu CA certificate%s, valid until %s), %s (%s)\n",
           io->domains[0], io->n_domains > 1 ? " and more" : "", cert_path, got.count - 1,
           got.count == 2 ? "" : "s", na, key_path, got.key_desc);
    printf("certa: %s via %s in %lld ms (%u requests, %u badNonce retried)\n", got.leaf.issuer,
           acme_challenge_name(io->challenge), (long long)(cli_now_ms() - start), c.requests,
           c.bad_nonces);
    rc = CLI_EXIT_OK;
out:
    if (rc != CLI_EXIT_OK) cli_err("acme issue: %s", why);
    acme_issued_free(&got);
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
    if (acme_issue_open_account(&o->issue, o->issue.account_key, false, true, &c, &account, why,
                                sizeof why) != 0)
        goto out;
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
    if (acme_issue_open_account(&o->issue, o->issue.account_key, true, false, &c, &account, why,
                                sizeof why) != 0)
        goto out;
    printf("certa: account %s\n", c.kid);
    if (o->rollover) {
        snprintf(new_path, sizeof new_path, "%s.new", o->issue.account_key);
        /* Saved before the CA knows it: a crash after the CA switched
         * still leaves the key that now owns the account. */
        if (!(fresh = key_generate(KEYGEN_P256)) ||
            acme_account_key_write(new_path, fresh, why, sizeof why) != 0)
            goto out;
        if (acme_account_rollover(&c, fresh, why, sizeof why) != 0) {
            remove(new_path);
            goto out;
        }
        if (rename(new_path, o->issue.account_key) != 0) {
            snprintf(why, sizeof why,
                     "the CA moved the account to the new key, but it could not "
                     "replace %.900s: it is in %.900s (%s)",
                     o->issue.account_key, new_path, strerror(errno));
            goto out;
        }
        printf("certa: account key rolled over: %s holds the new key\n", o->issue.account_key);
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
