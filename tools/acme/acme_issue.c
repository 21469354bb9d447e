/* Obtaining a certificate (see acme_issue.h). */
#include "acme/acme_issue.h"

#include "acme/acme_cert.h"
#include "common/cli_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/issue.h"

void acme_issue_opts_init(acme_issue_opts *o) {
    memset(o, 0, sizeof *o);
    o->timeout_ms = ACME_ISSUE_DEFAULT_TIMEOUT_MS;
    o->key_type = KEYGEN_P256;
}

void acme_issue_usage(FILE *out) {
    fputs("  --directory URL     the CA's ACME directory (https://)\n"
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
          "  --key-type TYPE     the certificate's key: p256 (default), p384, rsa2048\n"
          "  --chain-trust FILE  the CA's issuing roots (PEM) the chain must validate\n"
          "                      against (default: the system bundle)\n"
          "  --account-key FILE  the account key (EC P-256, ES256); created 0600 on first\n"
          "                      use\n"
          "  --agree-tos         agree to the CA's terms of service (required by most CAs)\n"
          "  --email ADDR        contact address for the account\n"
          "  --eab-kid KID --eab-hmac KEY  External Account Binding (RFC 8555 7.3.4):\n"
          "                      the key id and base64url MAC key the CA gave you\n"
          "  --timeout SEC       deadline for one run against the CA (default 300)\n"
          "  --verbose           each request, answer status, poll and challenge on stderr\n",
          out);
}

static int parse_port(const char *cmd, const char *v, const char *name, int *out) {
    long n;
    if (!cli_parse_long(v, 1, 65535, &n)) {
        cli_err("%s: %s must be a port number (1-65535)", cmd, name);
        return -1;
    }
    *out = (int)n;
    return 0;
}

int acme_issue_option(int argc, char **argv, int *i, const char *cmd, acme_issue_opts *o) {
    const char *a = argv[*i], *v = NULL;
    int m;
    if (!strcmp(a, "--agree-tos")) {
        o->account.agree_tos = true;
        return 1;
    }
    if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
        o->verbose = o->responder.verbose = true;
        return 1;
    }
    static const struct {
        const char *flag;
        size_t off;
    } strs[] = {
        {"--directory", offsetof(acme_issue_opts, directory)},
        {"--ca-bundle", offsetof(acme_issue_opts, ca_bundle)},
        {"--account-key", offsetof(acme_issue_opts, account_key)},
        {"--chain-trust", offsetof(acme_issue_opts, chain_trust)},
        {"--webroot", offsetof(acme_issue_opts, responder.webroot)},
        {"--dns-hook", offsetof(acme_issue_opts, responder.dns_hook)},
        {"--listen", offsetof(acme_issue_opts, responder.listen_addr)},
        {"--email", offsetof(acme_issue_opts, account.email)},
        {"--eab-kid", offsetof(acme_issue_opts, account.eab_kid)},
        {"--eab-hmac", offsetof(acme_issue_opts, account.eab_hmac)},
    };
    for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++) {
        if ((m = cli_opt(argc, argv, i, strs[k].flag, &v)) != 0) {
            if (m < 0) return -1;
            if (!*v) {
                cli_err("%s: %s needs a value", cmd, strs[k].flag);
                return -1;
            }
            *(const char **)((char *)o + strs[k].off) = v;
            return 1;
        }
    }
    if ((m = cli_opt(argc, argv, i, "--domain", &v)) != 0) {
        if (m < 0) return -1;
        char why[200];
        x509_ip ip;
        if (!x509_parse_ip(v, &ip) && !x509_check_dns_name(v, why, sizeof why)) {
            cli_err("%s: --domain '%s' is neither an IP address nor a DNS name: %s", cmd, v, why);
            return -1;
        }
        if (o->n_domains == ACME_MAX_IDENTIFIERS) {
            cli_err("%s: at most %d --domain", cmd, ACME_MAX_IDENTIFIERS);
            return -1;
        }
        o->domains[o->n_domains++] = v;
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--challenge", &v)) != 0) {
        if (m < 0) return -1;
        if (!acme_challenge_from_name(v, &o->challenge)) {
            cli_err("%s: --challenge must be http-01, tls-alpn-01 or dns-01", cmd);
            return -1;
        }
        o->challenge_set = true;
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--http-port", &v)) != 0)
        return m < 0 || parse_port(cmd, v, "--http-port", &o->responder.http_port) ? -1 : 1;
    if ((m = cli_opt(argc, argv, i, "--tls-port", &v)) != 0)
        return m < 0 || parse_port(cmd, v, "--tls-port", &o->responder.tls_port) ? -1 : 1;
    if ((m = cli_opt(argc, argv, i, "--key-type", &v)) != 0) {
        if (m < 0) return -1;
        if (!strcmp(v, "p256"))
            o->key_type = KEYGEN_P256;
        else if (!strcmp(v, "p384"))
            o->key_type = KEYGEN_P384;
        else if (!strcmp(v, "rsa2048"))
            o->key_type = KEYGEN_RSA2048;
        else {
            cli_err("%s: --key-type must be p256, p384 or rsa2048", cmd);
            return -1;
        }
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--timeout", &v)) != 0) {
        if (m < 0 || !cli_parse_seconds(v, &o->timeout_ms)) {
            if (m > 0) cli_err("%s: --timeout must be a number of seconds", cmd);
            return -1;
        }
        return 1;
    }
    return 0;
}

bool acme_issue_opts_check(const acme_issue_opts *o, const char *cmd) {
    if (!o->directory) {
        cli_err("%s: --directory URL is required", cmd);
        return false;
    }
    if (!!o->account.eab_kid != !!o->account.eab_hmac) {
        cli_err("%s: --eab-kid and --eab-hmac go together", cmd);
        return false;
    }
    if (!o->n_domains || !o->challenge_set) {
        cli_err("%s: --domain and --challenge are required", cmd);
        return false;
    }
    if (o->responder.webroot && o->challenge != ACME_CHALLENGE_HTTP01) {
        cli_err("%s: --webroot is for --challenge http-01", cmd);
        return false;
    }
    if (o->challenge == ACME_CHALLENGE_DNS01 && !o->responder.dns_hook) {
        cli_err("%s: --challenge dns-01 needs --dns-hook CMD", cmd);
        return false;
    }
    return true;
}

int acme_issue_open_account(const acme_issue_opts *o, const char *key_path, bool create,
                            bool only_existing, acme_client *c, crypto_key **key, char *why,
                            size_t cap) {
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

int acme_issue_obtain(const acme_issue_opts *o, acme_client *c, const char *replaces,
                      acme_issued *out, char *why, size_t cap) {
    memset(out, 0, sizeof *out);
    crypto_key *cert_key = key_generate(o->key_type);
    if (!cert_key) {
        snprintf(why, cap, "cannot generate the certificate key");
        return -1;
    }
    int rc = -1;
    acme_order_request q = {.names = o->domains,
                            .n_names = o->n_domains,
                            .challenge = o->challenge,
                            .responder = o->responder,
                            .cert_key = cert_key,
                            .replaces = replaces};
    if (acme_order_issue(c, &q, &out->chain, &out->chain_len, why, cap) != 0) goto out;
    if (acme_chain_check(out->chain, out->chain_len, cert_key, o->domains, o->n_domains,
                         o->chain_trust, &out->leaf, &out->count, why, cap) != 0)
        goto out;
    if (key_private_pem(cert_key, &out->key_pem, &out->key_len) != 0) {
        snprintf(why, cap, "cannot encode the certificate key");
        goto out;
    }
    key_describe(cert_key, out->key_desc, sizeof out->key_desc);
    rc = 0;
out:
    key_free(cert_key);
    if (rc != 0) acme_issued_free(out);
    return rc;
}

void acme_issued_free(acme_issued *r) {
    if (r->key_pem) {
        crypto_zero(r->key_pem, r->key_len);
        free(r->key_pem);
    }
    free(r->chain);
    memset(r, 0, sizeof *r);
}
