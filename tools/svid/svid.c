/* certa svid fetch: one X.509-SVID from the SPIFFE Workload API, written
 * as files for tools that want them, in spiffe-helper's layout: svid.pem
 * (the chain, leaf first), svid_key.pem (PKCS#8, 0600), svid_bundle.pem
 * (the own trust domain's CAs) and, when the agent sends any,
 * federated_bundle.pem. The bundles are FetchX509Bundles' when the agent
 * offers it (one more call, the newer word), else the X509SVIDResponse's.
 * Each file is replaced atomically, the key first,
 * so a reader never sees a torn file (a reader of both may see the new
 * key beside the old certificate for a moment: serve and proxy wait for a
 * matching pair). */
#include "common/atomic_write.h"
#include "common/cli_common.h"
#include "spiffe/workload_client.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void svid_usage(FILE *out) {
    fputs("usage: certa svid fetch [--spiffe-socket unix:///PATH] --out DIR [--timeout SEC]\n"
          "\n"
          "Fetches one X.509-SVID from the SPIFFE Workload API (a SPIRE agent) and writes\n"
          "spiffe-helper's files into DIR: svid.pem (certificate chain), svid_key.pem\n"
          "(PKCS#8 key, mode 0600), svid_bundle.pem (trust bundle) and, when the agent\n"
          "sends federated bundles, federated_bundle.pem. The update is checked first\n"
          "(the key belongs to the certificate, the chain validates against the bundle)\n"
          "and nothing is written when it fails. The bundles come from FetchX509Bundles\n"
          "when the agent offers it, else from the SVID response; the output says which.\n"
          "\n"
          "  --spiffe-socket ADDR   the agent's socket, unix:///PATH (default, or env:\n"
          "                         $SPIFFE_ENDPOINT_SOCKET)\n"
          "  --out DIR              where to write the files (created if missing)\n"
          "  --timeout SEC          give up after this long (default 10)\n"
          "\n"
          "For serve and proxy, --spiffe-socket takes the stream directly: no files.\n",
          out);
}

static int write_one(const char *dir, const char *name, const char *data, size_t len, mode_t mode) {
    char path[4200], why[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (atomic_write_file(path, data, len, mode, why, sizeof why) != 0) {
        cli_err("svid fetch: %s", why);
        return -1;
    }
    return 0;
}

static int svid_fetch(int argc, char **argv) {
    const char *socket_arg = NULL, *out = NULL, *v = NULL;
    int timeout_ms = 10000;
    for (int i = 2; i < argc; i++) {
        int r;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            svid_usage(stdout);
            return CLI_EXIT_OK;
        }
        if ((r = cli_opt(argc, argv, &i, "--spiffe-socket", &socket_arg)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--out", &out)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((r = cli_opt(argc, argv, &i, "--timeout", &v)) != 0) {
            if (r < 0) return CLI_EXIT_USAGE;
            if (!cli_parse_seconds(v, &timeout_ms)) {
                cli_err("svid fetch: --timeout: expected a number of seconds, got '%s'", v);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        cli_err("svid fetch: unknown option '%s' (see certa svid --help)", argv[i]);
        return CLI_EXIT_USAGE;
    }
    if (!out) {
        cli_err("svid fetch: --out DIR is required");
        return CLI_EXIT_USAGE;
    }
    char target[128], why[1400];
    if (!spiffe_socket_target(socket_arg, target, sizeof target, why, sizeof why)) {
        cli_err("svid fetch: %s", why);
        return CLI_EXIT_USAGE;
    }
    svid_update u;
    char source[1100];
    if (spiffe_fetch_once(target, timeout_ms, &u, source, sizeof source, why, sizeof why) != 0) {
        cli_err("svid fetch: %s", why);
        return CLI_EXIT_FAIL;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        cli_err("svid fetch: cannot create %s: %s", out, strerror(errno));
        svid_update_free(&u);
        return CLI_EXIT_FAIL;
    }
    int rc = CLI_EXIT_OK;
    if (write_one(out, "svid_key.pem", u.key_pem, u.key_len, 0600) != 0 ||
        write_one(out, "svid.pem", u.chain_pem, u.chain_len, 0644) != 0 ||
        write_one(out, "svid_bundle.pem", u.bundle_pem, u.bundle_len, 0644) != 0 ||
        (u.federated_count &&
         write_one(out, "federated_bundle.pem", u.federated_pem, u.federated_len, 0644) != 0))
        rc = CLI_EXIT_FAIL;
    if (rc == CLI_EXIT_OK) {
        char desc[700];
        svid_update_describe(&u, time(NULL), desc, sizeof desc);
        printf("%s: wrote %s/svid.pem, svid_key.pem, svid_bundle.pem%s\n%s\n", desc, out,
               u.federated_count ? ", federated_bundle.pem" : "", source);
    }
    svid_update_free(&u);
    return rc;
}

int cmd_svid(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        svid_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "fetch")) return svid_fetch(argc, argv);
    cli_err("svid: unknown subcommand '%s' (certa svid fetch ...)", argv[1]);
    return CLI_EXIT_USAGE;
}
