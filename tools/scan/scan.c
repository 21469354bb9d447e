/* certa scan: an inventory of many endpoints — options, the run, and the
 * exit code by the worst finding. The engine is scan_loop.c, the verdicts
 * policy.c, the outputs report_*.c, --diff diff.c. */
#include "scan/scan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define EXIT_WARN 3
#define MAX_FILE (64u << 20)

const char *scan_status_name(scan_status s) {
    static const char *const names[] = {"pending", "tls",    "tls_failed", "refused", "timeout",
                                        "not_tls", "closed", "unresolved", "error"};
    return s <= SCAN_ERROR ? names[s] : "?";
}

static void usage(FILE *out) {
    fputs(
        "usage: certa scan [TARGET...] [--targets FILE] [options]\n"
        "\n"
        "An inventory of many endpoints: one TLS handshake each (thousands in flight,\n"
        "one epoll loop), the certificate each sends, and the findings that matter for\n"
        "renewal and policy. TARGET is HOST:PORT[,SNI] or [V6]:PORT[,SNI]; PORT may be\n"
        "a list 443,8443,9000-9010.\n"
        "\n"
        "options:\n"
        "  --targets FILE       targets, one a line ('#' comments); repeatable\n"
        "  --trust FILE|DIR     trust anchors for chain validation (default: the system\n"
        "                       bundle)\n"
        "  --json               one JSON document (docs/scan.schema.json) on stdout\n"
        "  --csv                one CSV row per endpoint on stdout\n"
        "  --prom FILE          also write a Prometheus textfile (node_exporter)\n"
        "  --policy FILE        the policy: key = value lines (docs/scan.md)\n"
        "  --profile NAME       a certa profile as the policy (certa help profiles);\n"
        "                       --policy then adjusts it\n"
        "  --diff OLD.json      new, rotated, disappeared and newly expiring\n"
        "                       certificates since a previous --json output\n"
        "  --concurrency N      handshakes in flight at most (default 512)\n"
        "  --per-host N         connections to one address at most (default 16)\n"
        "  --rate N             connections started per second at most (default: no\n"
        "                       limit; e.g. --rate 200 on a production network)\n"
        "  --connect-timeout S  TCP connect timeout, seconds (default 3)\n"
        "  --timeout S          handshake timeout after the connect (default 5)\n"
        "  --alpn LIST          ALPN protocols to offer (default: none)\n"
        "  --no-progress        no progress bar (it is shown on a TTY only)\n"
        "\n"
        "exit status: 0 no finding worse than info, 3 the worst is a warning,\n"
        "1 at least one failure (an unreachable endpoint fails unless the policy says\n"
        "unreachable = warn), 2 usage or setup error.\n"
        "\n"
        "examples:\n"
        "  certa scan 10.0.0.5:443,www.example.com 10.0.0.6:8443-8450\n"
        "  certa scan --targets fleet.txt --trust ca.pem --json > today.json\n"
        "  certa scan --targets fleet.txt --diff yesterday.json --prom /var/lib/node/certs.prom\n",
        out);
}

static bool read_file(const char *path, uint8_t **out, size_t *len, char *why, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    size_t n = 0, c = 4096;
    uint8_t *b = malloc(c);
    while (b) {
        size_t got = fread(b + n, 1, c - n, f);
        n += got;
        if (n < c) break;
        if (c >= MAX_FILE) {
            snprintf(why, cap, "%s is larger than 64 MiB", path);
            free(b);
            b = NULL;
            fclose(f);
            return false;
        }
        uint8_t *nb = realloc(b, c * 2);
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        c *= 2;
    }
    fclose(f);
    if (!b) {
        snprintf(why, cap, "out of memory");
        return false;
    }
    *out = b;
    *len = n;
    return true;
}

int cmd_scan(int argc, char **argv) {
    scan_targets targets = {0};
    scan_options o = {.concurrency = 512,
                      .per_host = 16,
                      .connect_timeout_ms = 3000,
                      .handshake_timeout_ms = 5000};
    const char *trust_path = NULL, *prom = NULL, *policy_path = NULL, *profile = NULL,
               *diff_path = NULL;
    bool json = false, csv = false, no_progress = false;
    int rc = CLI_EXIT_USAGE;
    char why[512];
    uint8_t *text = NULL;
    size_t len;
    for (int i = 1; i < argc; i++) {
        const char *v;
        long n;
        int m;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            scan_targets_free(&targets);
            return CLI_EXIT_OK;
        }
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--csv")) {
            csv = true;
        } else if (!strcmp(argv[i], "--no-progress")) {
            no_progress = true;
        } else if (!strcmp(argv[i], "--tls12-check")) {
            o.check_tls12 = true;
        } else if ((m = cli_opt(argc, argv, &i, "--targets", &v)) != 0) {
            if (m < 0) goto out;
            if (!read_file(v, &text, &len, why, sizeof why)) {
                cli_err("scan: %s", why);
                goto out;
            }
            bool ok = scan_targets_parse(&targets, text, len, why, sizeof why);
            free(text);
            text = NULL;
            if (!ok) {
                cli_err("scan: %s: %s", v, why);
                goto out;
            }
        } else if ((m = cli_opt(argc, argv, &i, "--trust", &trust_path)) != 0) {
            if (m < 0) goto out;
        } else if ((m = cli_opt(argc, argv, &i, "--prom", &prom)) != 0) {
            if (m < 0) goto out;
        } else if ((m = cli_opt(argc, argv, &i, "--policy", &policy_path)) != 0) {
            if (m < 0) goto out;
        } else if ((m = cli_opt(argc, argv, &i, "--profile", &profile)) != 0) {
            if (m < 0) goto out;
        } else if ((m = cli_opt(argc, argv, &i, "--diff", &diff_path)) != 0) {
            if (m < 0) goto out;
        } else if ((m = cli_opt(argc, argv, &i, "--alpn", &o.alpn)) != 0) {
            if (m < 0) goto out;
        } else if ((m = cli_opt(argc, argv, &i, "--concurrency", &v)) != 0) {
            if (m < 0 || !cli_parse_long(v, 1, 100000, &n)) {
                cli_err("scan: --concurrency is 1 to 100000");
                goto out;
            }
            o.concurrency = (unsigned)n;
        } else if ((m = cli_opt(argc, argv, &i, "--per-host", &v)) != 0) {
            if (m < 0 || !cli_parse_long(v, 1, 100000, &n)) {
                cli_err("scan: --per-host is 1 to 100000");
                goto out;
            }
            o.per_host = (unsigned)n;
        } else if ((m = cli_opt(argc, argv, &i, "--rate", &v)) != 0) {
            char *end;
            o.rate = m > 0 ? strtod(v, &end) : -1;
            if (m < 0 || end == v || (*end && strcmp(end, "/s") != 0) || o.rate < 0 ||
                o.rate > 1e6) {
                cli_err("scan: --rate is connections per second (e.g. 200 or 200/s)");
                goto out;
            }
        } else if ((m = cli_opt(argc, argv, &i, "--connect-timeout", &v)) != 0) {
            if (m < 0 || !cli_parse_seconds(v, &o.connect_timeout_ms)) {
                cli_err("scan: --connect-timeout is seconds");
                goto out;
            }
        } else if ((m = cli_opt(argc, argv, &i, "--timeout", &v)) != 0) {
            if (m < 0 || !cli_parse_seconds(v, &o.handshake_timeout_ms)) {
                cli_err("scan: --timeout is seconds");
                goto out;
            }
        } else if (argv[i][0] == '-') {
            cli_err("scan: unknown option '%s' (certa scan --help)", argv[i]);
            goto out;
        } else if (!scan_targets_add_spec(&targets, argv[i], strlen(argv[i]), why, sizeof why)) {
            cli_err("scan: %s", why);
            goto out;
        }
    }
    if (json && csv) {
        cli_err("scan: --json or --csv, not both");
        goto out;
    }
    if (targets.count == 0) {
        cli_err("scan: no targets (HOST:PORT arguments or --targets FILE)");
        usage(stderr);
        goto out;
    }
    scan_policy policy;
    scan_policy_default(&policy);
    if (profile && !scan_policy_profile(&policy, profile, why, sizeof why)) {
        cli_err("scan: --profile: %s", why);
        goto out;
    }
    if (policy_path) {
        if (!read_file(policy_path, &text, &len, why, sizeof why)) {
            cli_err("scan: --policy: %s", why);
            goto out;
        }
        bool ok = scan_policy_parse(&policy, text, len, why, sizeof why);
        free(text);
        text = NULL;
        if (!ok) {
            cli_err("scan: --policy %s: %s", policy_path, why);
            goto out;
        }
        snprintf(policy.name, sizeof policy.name, "%s", policy_path);
    }
    if (policy.min_tls_version == CERTA_TLS13) o.check_tls12 = true;
    o.trust = certa_trust_new();
    int tr = o.trust ? (trust_path ? certa_trust_load(o.trust, trust_path)
                                   : certa_trust_load_system(o.trust))
                     : CERTA_E_NOMEM;
    if (tr != CERTA_OK) {
        cli_err("scan: --trust %s: %s", trust_path ? trust_path : "(system bundle)",
                o.trust && *certa_trust_error_text(o.trust) ? certa_trust_error_text(o.trust)
                                                            : certa_error_text(tr));
        goto out;
    }
    o.progress = !no_progress && isatty(STDERR_FILENO);
    scan_targets_resolve(&targets);
    scan_result *results = calloc(targets.count, sizeof *results);
    if (!results) {
        cli_err("scan: out of memory");
        goto out;
    }
    scan_stats stats = {0};
    int64_t started = (int64_t)time(NULL);
    if (!scan_run(&targets, &o, results, &stats, why, sizeof why)) {
        cli_err("scan: %s", why);
        free(results);
        goto out;
    }
    int64_t now = (int64_t)time(NULL);
    scan_sev worst = SCAN_OK;
    for (size_t i = 0; i < targets.count; i++) {
        scan_judge(&policy, &targets.items[i], &results[i], now);
        if (results[i].worst > worst) worst = results[i].worst;
    }
    scan_report rep = {.targets = &targets,
                       .results = results,
                       .policy = &policy,
                       .stats = &stats,
                       .started = started};
    scan_diff diff = {0};
    if (diff_path) {
        if (!scan_diff_load(&diff, diff_path, &rep, why, sizeof why)) {
            cli_err("scan: --diff: %s", why);
            free(results);
            goto out;
        }
        rep.diff = &diff;
    }
    rc = worst == SCAN_FAIL ? CLI_EXIT_FAIL : worst == SCAN_WARN ? EXIT_WARN : CLI_EXIT_OK;
    if (json) {
        if (!scan_report_json(stdout, &rep)) {
            cli_err("scan: cannot build the JSON report");
            rc = CLI_EXIT_USAGE;
        }
    } else if (csv) {
        scan_report_csv(stdout, &rep);
    } else {
        scan_report_table(stdout, &rep);
    }
    if (prom && !scan_report_prom(prom, &rep, why, sizeof why)) {
        cli_err("scan: --prom: %s", why);
        rc = CLI_EXIT_USAGE;
    }
    fflush(stdout);
    scan_diff_free(&diff);
    free(results);
out:
    free(text);
    if (o.trust) certa_trust_free(o.trust);
    scan_targets_free(&targets);
    return rc;
}
