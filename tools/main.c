/* certa: the command-line tool. Dispatches to one file per subcommand. */
#include "cli_common.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out) {
    fputs("certa " CERTA_CLI_VERSION " — TLS 1.3 for machine identity\n"
          "\n"
          "usage: certa <command> [options]\n"
          "\n"
          "commands:\n"
          "  serve     a TLS 1.3 server (echo or a small HTTP/1.1 responder)\n"
          "            certa serve --cert FILE --key FILE [--host 127.0.0.1] [--port 8443]\n"
          "                        [--alpn LIST] [--http] [--ciphers LIST] [--groups LIST]\n"
          "                        [--max-conns N] [--trace] [--quiet]\n"
          "  connect   a TLS 1.3 client with a readable handshake trace; stdin goes to\n"
          "            the server, the server's data to stdout\n"
          "            certa connect HOST:PORT (--pin sha256:B64 ... | --insecure)\n"
          "                        [--servername NAME] [--alpn LIST] [--groups LIST]\n"
          "                        [--ciphers LIST] [--timeout SEC] [--quiet]\n"
          "  version   print the version\n"
          "  help      this text (also: certa <command> --help)\n"
          "\n"
          "lists are comma-separated, in preference order:\n"
          "  ciphers: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
          "TLS_CHACHA20_POLY1305_SHA256\n"
          "  groups:  x25519, secp256r1 (P-256), secp384r1 (P-384)\n"
          "  alpn:    e.g. h2,http/1.1\n",
          out);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "connect")) return cmd_connect(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("certa %s\n", CERTA_CLI_VERSION);
        return CLI_EXIT_OK;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    cli_err("unknown command '%s'", cmd);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
