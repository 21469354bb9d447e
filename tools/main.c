/* certa: the command-line tool. Dispatches to one file per subcommand.
 *
 * Subcommands other than serve and connect are referenced weakly, so the
 * tool links (and says so) when one of them is not part of the build. */
#include "common/cli_common.h"

#include <stdio.h>
#include <string.h>

int cmd_proxy(int argc, char **argv) __attribute__((weak));
int cmd_verify(int argc, char **argv) __attribute__((weak));
int cmd_ca(int argc, char **argv) __attribute__((weak));
int cmd_diagnose(int argc, char **argv) __attribute__((weak));
int cmd_ticket_keys(int argc, char **argv) __attribute__((weak));
int cmd_fingerprint(int argc, char **argv) __attribute__((weak));
int cmd_acme(int argc, char **argv) __attribute__((weak));
int cmd_renew(int argc, char **argv) __attribute__((weak));
int cmd_scan(int argc, char **argv) __attribute__((weak));
int cmd_ech(int argc, char **argv) __attribute__((weak));
int cmd_svid(int argc, char **argv) __attribute__((weak));

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command *commands(size_t *count) {
    static command table[16]; /* room for the commands to come */
    static size_t n;
    if (n == 0) {
        table[n++] = (command){"serve", cmd_serve,
                               "a TLS 1.3 (and 1.2) server: echo, or a small HTTP/1.1 responder"};
        table[n++] =
            (command){"connect", cmd_connect,
                      "a TLS 1.3 (and 1.2) client with a handshake trace; relays stdin/stdout"};
        table[n++] = (command){"proxy", cmd_proxy,
                               "a mutual-TLS sidecar in front of a service, or for a client"};
        table[n++] =
            (command){"verify", cmd_verify, "validate a certificate chain and explain the result"};
        table[n++] = (command){"ca", cmd_ca, "a small development CA: short-lived certificates"};
        table[n++] = (command){"diagnose", cmd_diagnose,
                               "say why a handshake with an endpoint fails, or what is weak"};
        table[n++] = (command){"ticket-keys", cmd_ticket_keys,
                               "session-ticket keys a fleet of servers shares, and rotates"};
        table[n++] = (command){"fingerprint", cmd_fingerprint,
                               "JA4, JA4_r and JA3 of every ClientHello in a capture file"};
        table[n++] = (command){"scan", cmd_scan,
                               "an inventory of many endpoints: certificates, expiry, policy"};
        table[n++] = (command){"acme", cmd_acme,
                               "certificates from an ACME CA (RFC 8555): issue, revoke, account"};
        table[n++] = (command){"renew", cmd_renew,
                               "keep ACME certificates renewed (ARI, RFC 9773): daemon or --once"};
        table[n++] =
            (command){"ech", cmd_ech, "ECH keys and configs (RFC 9849): keygen, show, check"};
        table[n++] = (command){"svid", cmd_svid,
                               "an X.509-SVID from the SPIFFE Workload API, written as files"};
    }
    *count = n;
    return table;
}

static void usage(FILE *out) {
    size_t n;
    const command *t = commands(&n);
    fputs("certa " CERTA_CLI_VERSION " - TLS 1.3 (and 1.2) for machine identity\n"
          "\n"
          "usage: certa <command> [options]     (certa <command> --help for its options)\n"
          "\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < n; i++)
        if (t[i].run) fprintf(out, "  %-12s %s\n", t[i].name, t[i].summary);
    fputs("  version      print the version\n"
          "  help         this text (help profiles: what each --profile sets)\n"
          "\n"
          "examples:\n"
          "  certa serve --cert server.crt --key server.key --port 8443\n"
          "  certa connect 127.0.0.1:8443 --pin sha256:BASE64\n"
          "  certa connect example.com:443 --alpn h2,http/1.1\n"
          "  certa serve --cert server.crt --key server.key --http --alpn http/1.1\n"
          "\n"
          "certa serve / connect options:\n"
          "  certa serve --cert FILE --key FILE [--host 127.0.0.1] [--port 8443]\n"
          "              [--alpn LIST] [--http] [--ciphers LIST] [--groups LIST]\n"
          "              [--max-conns N] [--trace] [--quiet]\n"
          "  certa connect HOST:PORT [--trust FILE|DIR | --pin sha256:B64 | --insecure]\n"
          "              [--servername NAME] [--cert FILE --key FILE] [--alpn LIST]\n"
          "              [--groups LIST] [--ciphers LIST] [--timeout SEC] [--quiet]\n"
          "              (default: the chain is validated against the system bundle)\n"
          "\n"
          "versions and profiles (serve, connect and proxy):\n"
          "  [--profile NAME] [--min-version 1.2|1.3] [--max-version 1.2|1.3] [--allow-no-ems]\n"
          "  default: TLS 1.3 only. A profile is applied first, then the explicit options.\n"
          "  --allow-no-ems lets TLS 1.2 peers without the extended master secret in:\n"
          "  for legacy peers only (a warning is printed)\n"
          "  certa help profiles says what each profile sets\n",
          out);
    for (size_t i = 0; certa_profile_name(i); i++)
        fprintf(out, "%s%s", i ? ", " : "  profiles: ", certa_profile_name(i));
    fputs("\n"
          "\n"
          "lists are comma-separated, in preference order:\n"
          "  ciphers: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
          "TLS_CHACHA20_POLY1305_SHA256;\n"
          "           on request (or with --profile iot) TLS_AES_128_CCM_SHA256;\n"
          "           TLS 1.2 (ECDHE + AEAD): ECDHE-ECDSA-AES128-GCM-SHA256,\n"
          "           ECDHE-ECDSA-AES256-GCM-SHA384, ECDHE-ECDSA-CHACHA20-POLY1305 and the\n"
          "           same three with ECDHE-RSA (or their TLS_ECDHE_... names)\n"
          "  groups:  x25519, secp256r1 (P-256), secp384r1 (P-384); on request also\n"
          "           secp521r1 (P-521) and x448\n"
          "  certificate keys (--cert/--key): ECDSA P-256/P-384/P-521, Ed25519, Ed448,\n"
          "           RSA and RSA-PSS (rsa_pss_pss_*; one with PSS parameters signs only\n"
          "           with their hash)\n"
          "  alpn:    e.g. h2,http/1.1\n",
          out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("certa %s\n", CERTA_CLI_VERSION);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        if (argc > 2 && !strcmp(argv[2], "profiles")) {
            fputs("profiles for --profile NAME (certa serve, connect, proxy); explicit options\n"
                  "given with one override what it sets:\n",
                  stdout);
            cli_profiles_usage(stdout);
            return CLI_EXIT_OK;
        }
        usage(stdout);
        return CLI_EXIT_OK;
    }
    size_t n;
    const command *t = commands(&n);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(cmd, t[i].name) != 0) continue;
        if (!t[i].run) {
            cli_err("'%s' is not part of this build of certa", cmd);
            return CLI_EXIT_USAGE;
        }
        return t[i].run(argc - 1, argv + 1);
    }
    cli_err("unknown command '%s' (certa help lists the commands)", cmd);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
