/* certa proxy: options, configs and their reload, signals. The main thread
 * parses the options, builds the first config, opens the listeners, starts
 * the workers (proxy_loop.c) and then waits for signals (a signalfd) and for
 * changes to the certificate, key, trust, CRL and OCSP files (inotify on
 * their directories, the stamp poll as a fallback: common/change_watch.h);
 * on a change it builds a new config and swaps it in for new connections
 * (established ones keep theirs: configs are refcounted). A new config that
 * fails to build — a key that does not match its certificate yet, a file
 * half-written — is refused with one log line per reason, the old one kept,
 * and tried again every second until it loads (common/rotation.h).
 * With --acme (proxy_acme.h) a thread of its own obtains and renews the
 * certificate; the main thread reloads when it says a new one is in place.
 * SIGTERM/SIGINT: stop accepting, drain up to --drain-timeout, exit 0. */
#include "proxy/proxy.h"
#include "proxy/proxy_ech_split.h"
#include "proxy/proxy_acme.h"

#include "revocation/crl_fetcher.h"
#include "common/change_watch.h"
#include "common/file_watch.h"
#include "common/rotation.h"
#include "common/sd_notify.h"
#include "spiffe/workload_client.h"
#include "tickets/ticket_key_file.h"
#include "tickets/ticket_store_redis.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

static void proxy_usage(FILE *out) {
    fputs("usage: certa proxy --listen ADDR:PORT (--backend ADDR:PORT | --upstream HOST:PORT) "
          "[options]\n"
          "\n"
          "A mutual-TLS sidecar. Terminate mode (--backend) accepts TLS and forwards the\n"
          "plaintext to a local service; bridge mode (--upstream) accepts plaintext and\n"
          "wraps each connection in TLS to the upstream.\n"
          "\n"
          "terminate mode:\n"
          "  --backend ADDR:PORT      plaintext service to forward to\n"
          "  --cert FILE --key FILE   the proxy's certificate chain and key (required);\n"
          "                           repeat the pair for more names: a client gets the\n"
          "                           one whose DNS SAN matches its server_name (SNI),\n"
          "                           else the first pair. All are watched and reloaded\n"
          "                           --key may be a PKCS#11 URI (pkcs11:token=T;object=K\n"
          "                           ?pin-source=file:F): the key stays on the token and\n"
          "                           is reloaded on SIGHUP only (it is not a file)\n"
          "  --pkcs11-module SO       PKCS#11 module for URIs without module-path\n"
          "  --spiffe-socket unix:///PATH | env\n"
          "                           take the certificate, key and trust bundles (the own\n"
          "                           trust domain's and federated ones) from a SPIFFE\n"
          "                           Workload API agent's stream instead of --cert/--key\n"
          "                           and --client-ca/--trust (env: SPIFFE_ENDPOINT_SOCKET);\n"
          "                           each new SVID is applied whole; an unreachable agent\n"
          "                           leaves the last good one serving (and logged with its\n"
          "                           expiry) while the proxy reconnects with backoff.\n"
          "                           Terminate mode then requires client certificates\n"
          "  --sni-strict             refuse a server_name no certificate is for (alert\n"
          "                           unrecognized_name); no SNI still gets the first pair\n"
          "  --client-ca FILE         trust for client certificates (file or directory)\n"
          "  --client-auth MODE       require | optional | none (default: require with\n"
          "                           --client-ca, else none)\n"
          "  --ticket-keys FILE       session-ticket keys shared by a fleet (certa\n"
          "                           ticket-keys new/rotate FILE; reread on change),\n"
          "                           instead of the proxy's own, rotating every 6 h\n"
          "  --store redis://HOST:PORT[/DB] | unix:/PATH\n"
          "                           share the ticket keys and their rotation with every\n"
          "                           proxy given the same Redis (Redis down: local keys)\n"
          "  --ticket-rotation SEC    a new ticket key this often (default 21600)\n"
          "  --ticket-lifetime SEC    how long a ticket resumes (default 7200)\n"
          "  --tickets N              session tickets sent after each handshake (0 to 8,\n"
          "                           default 2; 0 = no resumption). Their keys are made\n"
          "                           at start-up, rotate every 6 h and are kept across\n"
          "                           reloads, so clients resume after a certificate\n"
          "                           rotation (not after a restart, unless --ticket-keys;\n"
          "                           a change of --client-ca makes new keys)\n"
          "  --ocsp FILE, --ocsp-fetch  staple OCSP responses (below)\n"
          "  --early-data BYTES       accept up to BYTES of 0-RTT early data from resumed\n"
          "                           clients and forward it to the backend (it can be a\n"
          "                           replay across processes unless --store is shared:\n"
          "                           only for idempotent services; log: early_data=N)\n"
          "  --early-data-window SEC  how far a client's ticket age may be from ours for\n"
          "                           its early data to be fresh (default 10 s)\n"
          "  --proxy-protocol         send the backend a PROXY protocol v2 header first: the\n"
          "                           client's address, SNI, TLS version, cipher, client\n"
          "                           certificate CN and verified identity (TLV 0xE0)\n"
          "  --accept-proxy-protocol  each connection starts with a PROXY v1 or v2 header\n"
          "                           from a load balancer (HAProxy send-proxy[-v2]): its\n"
          "                           client address is the one logged and sent on with\n"
          "                           --proxy-protocol. A missing or invalid header, or none\n"
          "                           within --handshake-timeout, is refused and logged\n"
          "  --accept-proxy-protocol-from CIDR[,CIDR]\n"
          "                           the load balancers' addresses (repeatable; default\n"
          "                           127.0.0.0/8,::1); connections from others are refused\n"
          "  --allow RULE             accept only clients matching a rule (repeatable):\n"
          "                           spiffe://td/path, spiffe://td/prefix/*, dns:NAME,\n"
          "                           sha256:PIN\n"
          "  --deny-ja4 LIST          refuse clients whose ClientHello has one of these JA4\n"
          "                           fingerprints (alert access_denied before any answer)\n"
          "  --allow-ja4 LIST         admit only clients with one of these JA4s (deny wins)\n"
          "                           LIST: comma-separated, and/or @FILE (one or more per\n"
          "                           line, # comments); a value is a whole JA4 or its\n"
          "                           first part (t13d1516h2), which matches every JA4\n"
          "                           starting with it. Both hellos of a HelloRetryRequest\n"
          "                           are judged. Repeatable\n"
          "  --ja4-log-only           log \"would refuse\" (event ja4-would-refuse) instead\n"
          "  --log-ja3                ja3= (MD5) next to ja4= in each close line\n"
          "bridge mode (the upstream's session tickets are kept and offered on the next\n"
          "connections; a reload starts with none):\n"
          "  --upstream HOST:PORT     TLS server to connect to\n"
          "  --trust FILE             trust for the upstream's certificate (default: system)\n"
          "  --servername NAME        SNI and name to verify (default: HOST)\n"
          "  --expect RULE            accept only an upstream matching a rule (repeatable)\n"
          "  --cert FILE --key FILE   client certificate for mutual TLS (optional)\n"
          "  --pin sha256:B64         accept the upstream by SPKI pin (repeatable)\n"
          "  --insecure               accept any upstream certificate (development only)\n"
          "common:\n"
          "  --listen ADDR:PORT       where to accept connections (port 0: any free port)\n"
          "  --workers N              event-loop threads (default 2)\n"
          "  --max-conns N            concurrent connections (default 10000)\n"
          "  --max-handshakes N       concurrent handshakes; accepting pauses at the cap\n"
          "                           (default 256)\n"
          "  --handshake-timeout SEC  (default 10; also the outbound connect timeout)\n"
          "  --idle-timeout SEC       no data either way (default 300)\n"
          "  --drain-timeout SEC      on SIGTERM/SIGINT, wait for connections (default 10)\n"
          "  --alpn LIST --ciphers LIST --groups LIST\n"
          "  --keylog FILE            append the session secrets of every TLS connection to\n"
          "                           FILE (NSS key log format; SSLKEYLOGFILE is read when\n"
          "                           this is not given) for decrypting a capture; created\n"
          "                           0600, a file others can read is refused. Anyone with\n"
          "                           it can decrypt the traffic: for debugging only\n",
          out);
    cli_tls_usage(out, 27);
    fputs("Encrypted Client Hello (terminate mode):\n", out);
    cli_ech_keys_usage(out);
    proxy_acme_usage(out);
    fputs("OCSP stapling (terminate mode):\n", out);
    cli_ocsp_usage(out);
    fputs("  --log-format text|json   one line per connection on stderr (default text;\n"
          "                           resumed=true when the handshake resumed a session;\n"
          "                           terminate mode: ja4=, the client's JA4)\n"
          "  --quiet                  no per-connection lines\n"
          "\n"
          "SIGHUP reloads every file at once (systemctl reload; with Type=notify the proxy\n"
          "reports READY, RELOADING and STOPPING on NOTIFY_SOCKET).\n"
          "Certificate, key, trust, --crl and --ocsp files are watched (inotify on their\n"
          "directories, so a renamed-in file or a Kubernetes ..data swap is seen at once;\n"
          "polled every second as well) and reloaded 200 ms after they settle. A config\n"
          "that does not load (a key that does not match its certificate yet) is refused,\n"
          "logged once, the old one kept and retried every second until it loads; open\n"
          "connections keep theirs. A rotated certificate gets its OCSP response fetched anew.\n",
          out);
    proxy_ech_split_usage(out);
}

/* ---- configs ---- */

/* The code of the step that failed the last proxy_build_config (main thread). */
static int g_build_error;

static bool cfg_step(certa_config *cfg, int r, const char *what, const char *arg, char *why,
                     size_t cap) {
    if (r == CERTA_OK) return true;
    g_build_error = r;
    const char *detail = certa_config_error_text(cfg);
    snprintf(why, cap, "%s %s: %s (%s)", what, arg,
             detail && *detail ? detail : certa_error_text(r), certa_error_name(r));
    return false;
}

certa_config *proxy_build_config(const proxy_opts *o, char *why, size_t cap) {
    certa_config *cfg = certa_config_new();
    if (!cfg) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    /* The profile and versions first: the explicit options below override it. */
    int r = cli_tls_apply(cfg, &o->tls, why, cap);
    bool ok = r == CERTA_OK;
    const cli_pairs *pp = &o->pairs;
    /* Every pair, each reload: a rotation of any of them is picked up. */
    for (size_t i = 0; ok && i < pp->certs; i++)
        ok = i == 0
                 ? cfg_step(cfg, certa_config_load_cert_chain(cfg, pp->cert[0]), "certificate",
                            pp->cert[0], why, cap) &&
                       cfg_step(cfg, cli_load_private_key(cfg, pp->key[0]), "private key",
                                cli_key_is_uri(pp->key[0]) ? "(PKCS#11 URI)" : pp->key[0], why, cap)
                 : cfg_step(cfg, cli_add_identity(cfg, pp->cert[i], pp->key[i]),
                            "certificate and key", pp->cert[i], why, cap);
    if (ok && o->spiffe) { /* the SVID held, and its bundles unless trust files are given */
        char desc[600];
        bool trust = o->mode == PROXY_TERMINATE ? !o->client_ca : !o->trust;
        ok = cfg_step(cfg, spiffe_source_apply(o->spiffe, cfg, trust, desc, sizeof desc), "the",
                      desc, why, cap);
    }
    if (ok && (pp->certs || o->spiffe))
        ok = cfg_step(cfg, certa_config_check_key_sizes(cfg), "certificate",
                      pp->certs ? pp->cert[0] : "(SVID)", why, cap);
    if (ok && o->ech.keys) {
        int er = cli_ech_keys_apply(cfg, &o->ech, why, cap);
        ok = er == CERTA_OK;
    }
    certa_config_set_sni_strict(cfg, o->sni_strict);
    /* terminate: ja4= in the log, and --deny-ja4/--allow-ja4 */
    certa_config_set_client_fingerprints(cfg, o->mode == PROXY_TERMINATE);
    if (ok && o->ciphers)
        ok = cfg_step(cfg, certa_config_set_ciphers(cfg, o->ciphers), "ciphers", o->ciphers, why,
                      cap);
    if (ok && o->groups)
        ok = cfg_step(cfg, certa_config_set_groups(cfg, o->groups), "groups", o->groups, why, cap);
    if (ok && o->alpn)
        ok = cfg_step(cfg, certa_config_set_alpn(cfg, o->alpn), "alpn", o->alpn, why, cap);
    if (o->keylog) cli_keylog_attach(cfg, o->keylog);
    if (o->mode == PROXY_TERMINATE) {
        if (ok && o->client_ca)
            ok = cfg_step(cfg, certa_config_load_trust(cfg, o->client_ca), "client CA",
                          o->client_ca, why, cap);
        if (ok) {
            int mode = o->client_auth >= 0 ? o->client_auth
                                           : (o->client_ca || o->spiffe ? CERTA_CLIENT_AUTH_REQUIRE
                                                                        : CERTA_CLIENT_AUTH_NONE);
            certa_config_set_client_auth(cfg, (certa_client_auth)mode);
        }
        certa_config_set_tickets(cfg, (unsigned)o->tickets);
        certa_config_set_ticket_lifetime(cfg, (uint32_t)o->ticket_lifetime);
        if (o->early_data > 0) {
            certa_config_set_max_early_data(cfg, (uint32_t)o->early_data);
            if (o->early_window > 0)
                certa_config_set_early_data_window(cfg, (uint32_t)o->early_window);
            /* A fleet sharing keys shares the replay record too. */
            if (o->store) certa_config_set_replay_store(cfg, store_replay_check, NULL);
        }
    } else {
        if (ok && o->trust)
            ok = cfg_step(cfg, certa_config_load_trust(cfg, o->trust), "trust", o->trust, why, cap);
        for (size_t i = 0; ok && i < o->pin_count; i++)
            ok = cfg_step(cfg, certa_config_add_pin(cfg, o->pins[i]), "pin", o->pins[i], why, cap);
        if (ok && o->insecure) certa_config_set_insecure(cfg, true);
    }
    for (size_t i = 0; ok && i < o->rule_count; i++)
        ok = cfg_step(cfg, certa_config_add_allow(cfg, o->rules[i]), "rule", o->rules[i], why, cap);
    /* CRLs fetched from distribution points join the --crl files. */
    if (ok && o->tls.crl_fetch)
        ok = cfg_step(cfg, cli_crl_install(cfg, &o->tls), "fetched CRLs", "--crl-fetch", why, cap);
    /* The process's ticket key, on every config (reloads too): tickets
     * issued before a certificate rotation still resume after it. */
    if (ok)
        ok = cfg_step(cfg, certa_config_set_ticket_keys(cfg, o->ticket_keys), "ticket keys",
                      o->ticket_key_file ? o->ticket_key_file : "(random)", why, cap);
    if (!ok) {
        certa_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* Where the stapler's responses go: the config in use, under its lock. */
static int set_staple(void *arg, size_t index, const uint8_t *der, size_t len, char *why,
                      size_t cap) {
    proxy_shared *sh = arg;
    pthread_mutex_lock(&sh->cfg_lock);
    int r = sh->cfg ? certa_config_set_identity_ocsp_response(sh->cfg, index, der, len) : 0;
    if (r) snprintf(why, cap, "%s (%s)", certa_config_error_text(sh->cfg), certa_error_name(r));
    pthread_mutex_unlock(&sh->cfg_lock);
    return r ? -1 : 0;
}

/* The fetcher got a new CRL: onto the config in use, under its lock. */
static void crls_fetched(void *arg) {
    proxy_shared *sh = arg;
    pthread_mutex_lock(&sh->cfg_lock);
    int r = sh->cfg ? cli_crl_install(sh->cfg, &sh->opts->tls) : CERTA_OK;
    if (r != CERTA_OK) {
        char msg[700];
        snprintf(msg, sizeof msg, "fetched CRLs not installed: %s (%s)",
                 certa_config_error_text(sh->cfg), certa_error_name(r));
        proxy_log_event("error", msg, (const char *)NULL);
    }
    pthread_mutex_unlock(&sh->cfg_lock);
}

/* What the new config holds, for its log line: each pair's certificate. */
static void describe_pairs(const proxy_opts *o, char *out, size_t cap) {
    size_t len = 0;
    out[0] = 0;
    for (size_t i = 0; i < o->pairs.certs && len + 1 < cap; i++) {
        char d[400];
        rotation_describe_cert(o->pairs.cert[i], d, sizeof d);
        snprintf(out + len, cap - len, "%s%s: %s", i ? "; " : "", o->pairs.cert[i], d);
        len = strlen(out);
    }
}

/* True when the new config is in place; false when it was refused and the
 * previous one kept (rr then says when to try again). */
static bool try_reload(proxy_shared *sh, const char *which, reload_retry *rr) {
    char why[700];
    g_build_error = 0;
    certa_config *cfg = proxy_build_config(sh->opts, why, sizeof why);
    if (!cfg) {
        /* A pair being replaced in two steps: certificate first, key after (or
         * the reverse). Never loaded; the old pair serves until they match. */
        bool mismatch = g_build_error == CERTA_E_KEY_MISMATCH;
        if (reload_retry_failed(rr, cli_now_ms(), why)) {
            char msg[1000];
            snprintf(msg, sizeof msg,
                     "reload refused%s, keeping the previous config and retrying every %d ms: %s",
                     mismatch ? " while the key does not match the certificate (waiting for a "
                                "matching pair)"
                              : "",
                     ROTATION_RETRY_MS, why);
            proxy_log_event(mismatch ? "reload-waiting" : "reload-failed", msg, "files", which,
                            (const char *)NULL);
            /* Counted per reason, like the log line, not per retry. */
            atomic_fetch_add(&sh->metrics.reloads_failed, 1);
        }
        return false;
    }
    pthread_mutex_lock(&sh->cfg_lock);
    /* Under the lock: a response the stapler keeps meanwhile goes to the new config. */
    cli_ocsp_apply(cfg);
    certa_config *old = sh->cfg;
    sh->cfg = cfg;
    unsigned long gen = ++sh->cfg_generation;
    pthread_mutex_unlock(&sh->cfg_lock);
    atomic_fetch_add(&sh->metrics.reloads_ok, 1);
    certa_config_free(old); /* connections made from it keep their own reference */
    unsigned tries = rr->failures;
    int64_t waited = reload_retry_succeeded(rr, cli_now_ms());
    char msg[2400], genbuf[24], loaded[1800], waitnote[160] = "";
    describe_pairs(sh->opts, loaded, sizeof loaded);
    if (waited > 0)
        snprintf(waitnote, sizeof waitnote,
                 " (after waiting %lld ms and %u refused attempt%s for loadable files)",
                 (long long)waited, tries, tries == 1 ? "" : "s");
    snprintf(genbuf, sizeof genbuf, "%lu", gen);
    snprintf(msg, sizeof msg, "reloaded the config (generation %lu) for new connections%s%s%s", gen,
             waitnote, loaded[0] ? ": " : "", loaded);
    proxy_log_event("reload", msg, "files", which, "generation", genbuf, (const char *)NULL);
    return true;
}

/* ---- options ---- */

static bool parse_secs(const char *name, const char *v, int *out) {
    if (!cli_parse_seconds(v, out)) {
        cli_err("%s: expected a number of seconds (up to 86400), got '%s'", name, v);
        return false;
    }
    return true;
}

static bool parse_count(const char *name, const char *v, long min, long max, long *out) {
    if (!cli_parse_long(v, min, max, out)) {
        cli_err("%s: expected a whole number from %ld to %ld, got '%s'", name, min, max, v);
        return false;
    }
    return true;
}

/* 0 = ok, else an exit code. */
static int parse_opts(int argc, char **argv, proxy_opts *o) {
    memset(o, 0, sizeof *o);
    o->client_auth = -1;
    o->workers = 2;
    o->max_conns = 10000;
    o->max_handshakes = 256;
    o->handshake_timeout_ms = 10000;
    o->idle_timeout_ms = 300000;
    o->drain_timeout_ms = 10000;
    o->tickets = 2;
    o->ticket_rotation = 6 * 3600;
    o->ticket_lifetime = 7200;
    const char *backend = NULL, *upstream = NULL;
    bool tickets_given = false, pp_from_given = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        int r;
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            proxy_usage(stdout);
            return -1;
        }
        if (!strcmp(a, "--insecure")) {
            o->insecure = true;
            continue;
        }
        if ((r = cli_tls_opt(argc, argv, &i, "proxy", &o->tls)) < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if (!strcmp(a, "--quiet")) {
            o->quiet = true;
            continue;
        }
        if (!strcmp(a, "--accept-proxy-protocol")) {
            o->accept_proxy_protocol = true;
            continue;
        }
        if (!strcmp(a, "--proxy-protocol")) {
            o->proxy_protocol = true;
            continue;
        }
        if (!strcmp(a, "--ja4-log-only")) {
            o->ja4_log_only = true;
            continue;
        }
        if (!strcmp(a, "--log-ja3")) {
            o->log_ja3 = true;
            continue;
        }
        if (!strcmp(a, "--sni-strict")) {
            o->sni_strict = true;
            continue;
        }
        if ((r = cli_pkcs11_module_opt(argc, argv, &i)) < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if ((r = proxy_acme_option(argc, argv, &i, o)) < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if ((r = cli_pair_opt(argc, argv, &i, "proxy", &o->pairs)) < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if ((r = cli_ech_keys_opt(argc, argv, &i, "proxy", &o->ech)) < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if ((r = cli_keylog_opt(argc, argv, &i, "proxy", &o->keylog_path)) < 0)
            return CLI_EXIT_USAGE;
        if (r > 0) continue;
        if ((r = cli_ocsp_opt(argc, argv, &i, "proxy", &o->ocsp)) < 0) return CLI_EXIT_USAGE;
        if (r > 0) continue;
#define OPT(name)                                                                                  \
    if ((r = cli_opt(argc, argv, &i, name, &v)) < 0) return CLI_EXIT_USAGE;                        \
    if (r > 0)
        /* Options that just name a value. */
        struct {
            const char *name;
            const char **dst;
        } simple[] = {{"--listen", &o->listen},   {"--backend", &backend},
                      {"--upstream", &upstream},  {"--client-ca", &o->client_ca},
                      {"--trust", &o->trust},     {"--servername", &o->servername},
                      {"--alpn", &o->alpn},       {"--ciphers", &o->ciphers},
                      {"--groups", &o->groups},   {"--ticket-keys", &o->ticket_key_file},
                      {"--metrics", &o->metrics}, {"--store", &o->store}};
        bool taken = false;
        for (size_t k = 0; k < sizeof simple / sizeof simple[0] && !taken; k++) {
            if ((r = cli_opt(argc, argv, &i, simple[k].name, &v)) < 0) return CLI_EXIT_USAGE;
            if (r > 0) {
                *simple[k].dst = v;
                taken = true;
            }
        }
        if (taken) continue;
        OPT("--spiffe-socket") {
            o->spiffe_socket = v;
            continue;
        }
        OPT("--client-auth") {
            if (!strcmp(v, "require"))
                o->client_auth = CERTA_CLIENT_AUTH_REQUIRE;
            else if (!strcmp(v, "optional"))
                o->client_auth = CERTA_CLIENT_AUTH_OPTIONAL;
            else if (!strcmp(v, "none"))
                o->client_auth = CERTA_CLIENT_AUTH_NONE;
            else {
                cli_err("--client-auth: expected require, optional or none, got '%s'", v);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        bool is_allow = false;
        OPT("--accept-proxy-protocol-from") {
            char cwhy[200];
            if (!cidr_list_add(&o->proxy_protocol_from, v, cwhy, sizeof cwhy)) {
                cli_err("--accept-proxy-protocol-from: %s", cwhy);
                return CLI_EXIT_USAGE;
            }
            size_t tl = strlen(o->proxy_protocol_from_text);
            snprintf(o->proxy_protocol_from_text + tl, sizeof o->proxy_protocol_from_text - tl,
                     "%s%s", tl ? "," : "", v);
            pp_from_given = true;
            continue;
        }
        OPT("--allow") is_allow = true;
        if (!is_allow) {
            OPT("--expect") is_allow = true;
        }
        if (is_allow) {
            if (o->rule_count == PROXY_MAX_RULES) {
                cli_err("at most %d --allow/--expect rules", PROXY_MAX_RULES);
                return CLI_EXIT_USAGE;
            }
            o->rules[o->rule_count++] = v;
            continue;
        }
        bool deny = false, allow = false;
        OPT("--deny-ja4") deny = true;
        if (!deny) {
            OPT("--allow-ja4") allow = true;
        }
        if (deny || allow) {
            char why[700];
            const char *name = deny ? "--deny-ja4" : "--allow-ja4";
            if (!proxy_ja4_list_add(deny ? &o->ja4_deny : &o->ja4_allow, v, name, why,
                                    sizeof why)) {
                cli_err("%s", why);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        OPT("--pin") {
            if (o->pin_count == PROXY_MAX_RULES) {
                cli_err("at most %d --pin options", PROXY_MAX_RULES);
                return CLI_EXIT_USAGE;
            }
            o->pins[o->pin_count++] = v;
            continue;
        }
        OPT("--early-data-window") {
            if (!parse_count("--early-data-window", v, 1, 3600, &o->early_window))
                return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--early-data") {
            if (!parse_count("--early-data", v, 1, 16777216, &o->early_data)) return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--ticket-rotation") {
            if (!parse_count("--ticket-rotation", v, 1, 604800, &o->ticket_rotation))
                return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--ticket-lifetime") {
            if (!parse_count("--ticket-lifetime", v, 1, 604800, &o->ticket_lifetime))
                return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--tickets") {
            if (!parse_count("--tickets", v, 0, 8, &o->tickets)) return CLI_EXIT_USAGE;
            tickets_given = true;
            continue;
        }
        OPT("--workers") {
            if (!parse_count("--workers", v, 1, 256, &o->workers)) return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--max-conns") {
            if (!parse_count("--max-conns", v, 1, 1000000, &o->max_conns)) return CLI_EXIT_USAGE;
            o->max_conns_given = true;
            continue;
        }
        OPT("--max-handshakes") {
            if (!parse_count("--max-handshakes", v, 1, 1000000, &o->max_handshakes))
                return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--handshake-timeout") {
            if (!parse_secs("--handshake-timeout", v, &o->handshake_timeout_ms))
                return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--idle-timeout") {
            if (!parse_secs("--idle-timeout", v, &o->idle_timeout_ms)) return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--drain-timeout") {
            if (!parse_secs("--drain-timeout", v, &o->drain_timeout_ms)) return CLI_EXIT_USAGE;
            continue;
        }
        OPT("--log-format") {
            if (!strcmp(v, "text"))
                o->log_format = PROXY_LOG_TEXT;
            else if (!strcmp(v, "json"))
                o->log_format = PROXY_LOG_JSON;
            else {
                cli_err("--log-format: expected text or json, got '%s'", v);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
#undef OPT
        cli_err("unknown option '%s' (see certa proxy --help)", a);
        return CLI_EXIT_USAGE;
    }
    o->connect_timeout_ms = o->handshake_timeout_ms;
    if (!cli_tls_finish("proxy", &o->tls)) return CLI_EXIT_USAGE;
    if (!o->listen) {
        cli_err("--listen ADDR:PORT is required");
        return CLI_EXIT_USAGE;
    }
    if (!!backend == !!upstream) {
        cli_err("give exactly one of --backend (terminate TLS) or --upstream (bridge into TLS)");
        return CLI_EXIT_USAGE;
    }
    o->mode = backend ? PROXY_TERMINATE : PROXY_BRIDGE;
    o->target = backend ? backend : upstream;
    int acme_rc = proxy_acme_finish(o); /* its state's current pair becomes --cert/--key */
    if (acme_rc) return acme_rc;
    if (o->ticket_key_file && o->store) {
        cli_err("--ticket-keys and --store both name the fleet's ticket keys: give one");
        return CLI_EXIT_USAGE;
    }
    char swhy[300];
    if (o->store && !store_url_ok(o->store, swhy, sizeof swhy)) {
        cli_err("%s", swhy);
        return CLI_EXIT_USAGE;
    }
    if (o->mode == PROXY_BRIDGE && o->early_data) {
        cli_err("--early-data accepts 0-RTT from TLS clients: it needs terminate mode (--backend)");
        return CLI_EXIT_USAGE;
    }
    if (o->mode == PROXY_BRIDGE && (o->ja4_deny.count || o->ja4_allow.count || o->ja4_log_only)) {
        cli_err("--deny-ja4, --allow-ja4 and --ja4-log-only judge TLS clients by their "
                "ClientHello: they need terminate mode (--backend)");
        return CLI_EXIT_USAGE;
    }
    if (o->ja4_log_only && !o->ja4_deny.count && !o->ja4_allow.count) {
        cli_err("--ja4-log-only logs the clients --deny-ja4 or --allow-ja4 would refuse: give "
                "one of them");
        return CLI_EXIT_USAGE;
    }
    if (o->mode == PROXY_BRIDGE && o->proxy_protocol) {
        cli_err("--proxy-protocol tells a backend who the TLS client is: it needs terminate mode "
                "(--backend)");
        return CLI_EXIT_USAGE;
    }
    if (pp_from_given && !o->accept_proxy_protocol) {
        cli_err("--accept-proxy-protocol-from names the load balancers trusted to send PROXY "
                "headers: give --accept-proxy-protocol too");
        return CLI_EXIT_USAGE;
    }
    if (o->mode == PROXY_BRIDGE && o->accept_proxy_protocol) {
        cli_err("--accept-proxy-protocol reads a load balancer's PROXY header ahead of TLS: it "
                "needs terminate mode (--backend)");
        return CLI_EXIT_USAGE;
    }
    if (o->accept_proxy_protocol && !pp_from_given) {
        char cwhy[200];
        cidr_list_add(&o->proxy_protocol_from, "127.0.0.0/8,::1", cwhy, sizeof cwhy);
        snprintf(o->proxy_protocol_from_text, sizeof o->proxy_protocol_from_text,
                 "127.0.0.0/8,::1");
    }
    if (o->mode == PROXY_BRIDGE && (o->ocsp.files || o->ocsp.fetch)) {
        cli_err("--ocsp and --ocsp-fetch staple a response to the proxy's own server certificate: "
                "they need terminate mode (--backend)");
        return CLI_EXIT_USAGE;
    }
    if (!cli_ech_keys_finish("proxy", &o->ech)) return CLI_EXIT_USAGE;
    if (o->ech.keys && o->mode != PROXY_TERMINATE) {
        cli_err("--ech-key and --ech-config decrypt clients' Encrypted Client Hello: they need "
                "terminate mode (--backend)");
        return CLI_EXIT_USAGE;
    }
    if (o->pairs.certs != o->pairs.keys) {
        cli_err("--cert and --key go together (%zu --cert, %zu --key): give them in pairs",
                o->pairs.certs, o->pairs.keys);
        return CLI_EXIT_USAGE;
    }
    if (o->spiffe_socket && o->acme) {
        cli_err("--spiffe-socket and --acme both bring the certificate: give one");
        return CLI_EXIT_USAGE;
    }
    if (o->spiffe_socket && o->pairs.certs) {
        cli_err("--spiffe-socket brings the certificate and key: give it or --cert/--key, not "
                "both");
        return CLI_EXIT_USAGE;
    }
    bool spiffe = o->spiffe_socket != NULL; /* client certificates trusted from its bundles */
    if (o->mode == PROXY_TERMINATE) {
        if (!o->pairs.certs && !spiffe) {
            cli_err("terminate mode needs --cert and --key (or --acme to obtain them, or "
                    "--spiffe-socket)");
            return CLI_EXIT_USAGE;
        }
        if (o->trust || o->servername || o->pin_count || o->insecure) {
            cli_err("--trust, --servername, --pin and --insecure are for bridge mode "
                    "(--upstream); terminate mode uses --client-ca");
            return CLI_EXIT_USAGE;
        }
        if (o->client_auth > CERTA_CLIENT_AUTH_NONE && !o->client_ca && !spiffe) {
            cli_err("--client-auth %s needs --client-ca FILE to validate client certificates",
                    o->client_auth == CERTA_CLIENT_AUTH_REQUIRE ? "require" : "optional");
            return CLI_EXIT_USAGE;
        }
        if (o->rule_count &&
            ((!o->client_ca && !spiffe) || o->client_auth == CERTA_CLIENT_AUTH_NONE)) {
            cli_err("--allow rules apply to client certificates: give --client-ca (and not "
                    "--client-auth none)");
            return CLI_EXIT_USAGE;
        }
    } else {
        if (o->client_ca || o->client_auth >= 0) {
            cli_err("--client-ca and --client-auth are for terminate mode (--backend); bridge "
                    "mode uses --trust");
            return CLI_EXIT_USAGE;
        }
        if (o->sni_strict) {
            cli_err("--sni-strict is for terminate mode (--backend): it refuses clients by the "
                    "server name they ask for");
            return CLI_EXIT_USAGE;
        }
        if (tickets_given) {
            cli_err("--tickets is for terminate mode (--backend): in bridge mode the upstream "
                    "sends the tickets");
            return CLI_EXIT_USAGE;
        }
    }
    return 0;
}

/* ---- the command ---- */

/* Each connection needs two descriptors: raise the soft limit to the hard
 * one and say so when --max-conns cannot be reached. */
/* Descriptors this process has open now. */
static long open_descriptors(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return 16; /* a guess: stdio, logs */
    long n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n - 1; /* the directory's own */
}

/* Raises the soft descriptor limit to the hard one, and caps --max-conns
 * to what it allows: a proxied connection takes two descriptors, each
 * worker a few (epoll, listener), and those already open count too. A
 * connection the proxy cannot serve is better left in the backlog than
 * accepted, handshaken and dropped for want of a descriptor. */
static void raise_fd_limit(proxy_opts *o) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur == RLIM_INFINITY) return;
    long in_use = open_descriptors(), reserve = 4 * o->workers + 32;
    long room = (long)rl.rlim_cur - in_use - reserve;
    long allowed = room > 2 ? room / 2 : 1;
    char msg[300];
    if (o->max_conns > allowed) {
        if (o->max_conns_given)
            snprintf(msg, sizeof msg,
                     "the descriptor limit (%llu, %ld in use) allows %ld proxied connections: "
                     "--max-conns %ld is capped to %ld (raise ulimit -n for more); clients "
                     "beyond it wait in the listen backlog",
                     (unsigned long long)rl.rlim_cur, in_use, allowed, o->max_conns, allowed);
        else
            snprintf(msg, sizeof msg,
                     "at most %ld proxied connections at once (what the descriptor limit %llu "
                     "allows); clients beyond it wait in the listen backlog",
                     allowed, (unsigned long long)rl.rlim_cur);
        proxy_log_event(o->max_conns_given ? "warning" : "limits", msg, (const char *)NULL);
        o->max_conns = allowed;
    }
}

/* The process's ticket keys: --ticket-keys FILE, else a ring of its own
 * rotating every 6 h. NULL after saying why. */
static certa_ticket_keys *make_ticket_keys(const proxy_opts *o) {
    char why[700];
    certa_ticket_keys *ring = o->ticket_key_file
                                  ? tkf_ring(o->ticket_key_file, why, sizeof why)
                                  : certa_ticket_keys_new((uint32_t)o->ticket_rotation);
    if (!ring) cli_err("--ticket-keys: %s", o->ticket_key_file ? why : "out of memory");
    return ring;
}

/* A certificate rotation keeps the ticket keys: clients resume. New client
 * trust does not: a client identity verified under the old anchors must
 * not come back through a ticket (a fleet's key file or store is the
 * fleet's to rotate). */
static void renew_ticket_keys_for_trust(proxy_opts *po) {
    if (po->ticket_key_file || po->store) return;
    certa_ticket_keys *fresh = certa_ticket_keys_new((uint32_t)po->ticket_rotation);
    if (fresh) {
        certa_ticket_keys_free(po->ticket_keys); /* configs in use keep theirs */
        po->ticket_keys = fresh;
    } else {
        proxy_log_event("error", "cannot make new session ticket keys; keeping the old",
                        (const char *)NULL);
    }
}

/* A SIGTERM or SIGINT is waiting (blocked until the signalfd reads it). */
static bool stop_pending(void) {
    sigset_t p;
    return sigpending(&p) == 0 && (sigismember(&p, SIGTERM) == 1 || sigismember(&p, SIGINT) == 1);
}

/* --spiffe-socket: the Workload API stream's thread, and its first SVID
 * (the proxy has nothing to serve before it). 0, or -1 with why. */
static int proxy_spiffe_start(proxy_opts *o, char *why, size_t cap) {
    char target[128];
    if (!spiffe_socket_target(o->spiffe_socket, target, sizeof target, why, cap)) return -1;
    o->spiffe = spiffe_source_start(target, "proxy");
    if (!o->spiffe) {
        snprintf(why, cap, "--spiffe-socket: out of memory");
        return -1;
    }
    return spiffe_source_wait(o->spiffe, SPIFFE_FIRST_SVID_WAIT_MS, stop_pending, why, cap);
}

static void on_signal(int sig) {
    (void)sig; /* delivered through the signalfd; the handler is never run */
}

/* A start that failed after the helpers began: stops them (each stop is a
 * no-op for one that never started) and gives everything back. */
static int start_failed(proxy_shared *sh, proxy_opts *o) {
    proxy_metrics_stop();
    spiffe_source_stop(o->spiffe);
    o->spiffe = NULL;
    cli_ocsp_stop();
    cli_crl_fetch_stop();
    store_stop();
    proxy_acme_stop(sh->acme);
    sh->acme = NULL;
    certa_config_free(sh->cfg);
    sh->cfg = NULL;
    certa_ticket_keys_free(o->ticket_keys);
    o->ticket_keys = NULL;
    if (o->keylog) cli_keylog_close(o->keylog);
    return CLI_EXIT_FAIL;
}

/* The OCSP stapler's, CRL fetcher's and ticket store's lines, as the proxy's own. */
static void log_helper_line(const char *area, const char *msg) {
    proxy_log_event(area, msg, (const char *)NULL);
}

/* The command, once parse_opts has filled *po. */
static int proxy_run(int argc, char **argv, proxy_opts *po) {
    int pr = parse_opts(argc, argv, po);
    if (pr < 0) return CLI_EXIT_OK;
    if (pr) return pr;
    proxy_log_init(po->log_format);
    if (po->log_format == PROXY_LOG_JSON) cli_log_set_sink(log_helper_line); /* one JSON per line */

    static proxy_shared sh; /* outlives the worker threads */
    memset(&sh, 0, sizeof sh);
    sh.opts = po;
    pthread_mutex_init(&sh.cfg_lock, NULL);
    if (!cli_split_host_port(po->listen, sh.listen_host, sizeof sh.listen_host, sh.listen_port,
                             sizeof sh.listen_port, NULL)) {
        cli_err("--listen: expected ADDR:PORT, got '%s'", po->listen);
        return CLI_EXIT_USAGE;
    }
    if (!cli_split_host_port(po->target, sh.target_host, sizeof sh.target_host, sh.target_port,
                             sizeof sh.target_port, NULL)) {
        cli_err("%s: expected HOST:PORT, got '%s'",
                po->mode == PROXY_TERMINATE ? "--backend" : "--upstream", po->target);
        return CLI_EXIT_USAGE;
    }
    if (po->mode == PROXY_BRIDGE) {
        const char *sn = po->servername ? po->servername : sh.target_host;
        /* An IP literal is not sent as SNI; the engine then checks the IP. */
        snprintf(sh.servername, sizeof sh.servername, "%s", sn);
    }

    /* Resolve the target once (all addresses, tried in order per connection). */
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gr = getaddrinfo(sh.target_host, sh.target_port, &hints, &res);
    if (gr != 0) {
        cli_err("cannot resolve %s: %s", po->target, gai_strerror(gr));
        return CLI_EXIT_FAIL;
    }
    for (struct addrinfo *ai = res; ai && sh.target_addr_count < PROXY_MAX_ADDRS;
         ai = ai->ai_next) {
        if (ai->ai_addrlen > sizeof sh.target_addrs[0].sa) continue;
        memcpy(&sh.target_addrs[sh.target_addr_count].sa, ai->ai_addr, ai->ai_addrlen);
        sh.target_addrs[sh.target_addr_count].len = ai->ai_addrlen;
        sh.target_addr_count++;
    }
    freeaddrinfo(res);

    /* One key log for the process (every config, reloads too, writes to it). */
    static cli_keylog keylog; /* outlives the worker threads */
    if (!cli_keylog_open("proxy", po->keylog_path, &keylog)) return CLI_EXIT_FAIL;
    po->keylog = &keylog;
    if (keylog.fd >= 0) {
        char warn[600];
        cli_keylog_warning(&keylog, warn, sizeof warn);
        proxy_log_event("warning", warn, "keylog", keylog.path, (const char *)NULL);
    }

    /* Signals go to this thread only (its signalfd): blocked before any
     * thread starts (store, stapler, CRL fetcher, workers), which inherit the
     * mask, so that no other thread takes a SIGTERM meant for the drain. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    /* One ticket-key ring for the process: every config (reloads too) gets it. */
    if (!(po->ticket_keys = make_ticket_keys(po))) {
        cli_keylog_close(&keylog);
        return CLI_EXIT_FAIL;
    }
    char why[700];
    if (po->store && store_start(po->store, po->ticket_keys, (uint32_t)po->ticket_rotation,
                                 (uint32_t)po->ticket_lifetime, "proxy", why, sizeof why) != 0) {
        cli_err("%s", why);
        return start_failed(&sh, po);
    }

    if (po->spiffe_socket && proxy_spiffe_start(po, why, sizeof why) != 0) {
        cli_err("%s", why);
        return start_failed(&sh, po);
    }
    bool acme_cert = false; /* --acme: a stored certificate to serve */
    if (po->acme && !(sh.acme = proxy_acme_new(&sh, po->acme, &acme_cert, why, sizeof why))) {
        cli_err("--acme: %s", why);
        return start_failed(&sh, po);
    }
    sh.cfg = !po->acme || acme_cert ? proxy_build_config(po, why, sizeof why) : NULL;
    if (!sh.cfg && !po->acme) {
        cli_err("%s", why);
        return start_failed(&sh, po);
    }
    if (po->acme) proxy_acme_log_start(sh.acme, sh.cfg != NULL, acme_cert && !sh.cfg ? why : NULL);

    if (cli_ocsp_start(&po->ocsp, &po->pairs, set_staple, &sh, "proxy", why, sizeof why) != 0) {
        cli_err("%s", why);
        return start_failed(&sh, po);
    }

    if (po->tls.crl_fetch &&
        cli_crl_fetch_start("proxy", (const char *const *)po->pairs.cert, po->pairs.certs,
                            crls_fetched, &sh, why, sizeof why) != 0) {
        cli_err("%s", why);
        return start_failed(&sh, po);
    }

    raise_fd_limit(po);

    watch_set ws;
    memset(&ws, 0, sizeof ws);
    for (size_t i = 0; i < po->pairs.certs && !po->acme; i++) { /* --acme says when it installs */
        watch_add(&ws, po->pairs.cert[i]);
        if (!cli_key_is_uri(po->pairs.key[i])) /* a token key: reloaded on SIGHUP only */
            watch_add(&ws, po->pairs.key[i]);
    }
    size_t trust_idx = ws.count;
    const char *trust_path = po->mode == PROXY_TERMINATE ? po->client_ca : po->trust;
    if (trust_path)
        watch_add(&ws, trust_path);
    else
        trust_idx = WATCH_MAX - 1;            /* never a path: nothing to notice */
    for (size_t i = 0; i < po->tls.crls; i++) /* a new CRL is picked up like a new certificate */
        watch_add(&ws, po->tls.crl[i]);
    for (size_t i = 0; i < po->ocsp.files; i++)
        watch_add(&ws, po->ocsp.file[i]);
    size_t tk_idx = WATCH_MAX - 1; /* --ticket-keys: reread in place, not a reload */
    if (po->ticket_key_file) {
        tk_idx = ws.count;
        watch_add(&ws, po->ticket_key_file);
    }
    watch_snapshot(&ws); /* a change from here on is noticed once the watcher runs */

    if (po->metrics) { /* before any connection, so that every one is counted */
        char mbound[128], mwhy[400];
        if (proxy_metrics_start(&sh, po->metrics, mbound, sizeof mbound, mwhy, sizeof mwhy) != 0) {
            cli_err("%s", mwhy);
            return start_failed(&sh, po);
        }
        char mmsg[200];
        snprintf(mmsg, sizeof mmsg, "metrics on http://%s/metrics", mbound);
        proxy_log_event("metrics", mmsg, "metrics", mbound, (const char *)NULL);
    }
    proxy_worker *workers = NULL;
    char bound[96] = "";
    if (proxy_workers_create(&sh, po->workers, &workers, bound, sizeof bound) < 0) {
        return start_failed(&sh, po);
    }
    char msg[600], nworkers[24];
    snprintf(nworkers, sizeof nworkers, "%ld", po->workers);
    char target[300];
    snprintf(target, sizeof target, "%s:%s", sh.target_host, sh.target_port);
    if (po->mode == PROXY_TERMINATE)
        snprintf(msg, sizeof msg, "listening on %s: TLS in, plaintext to backend %s", bound,
                 target);
    else
        snprintf(msg, sizeof msg, "listening on %s: plaintext in, TLS to upstream %s", bound,
                 target);
    if (po->accept_proxy_protocol) {
        size_t ml = strlen(msg);
        snprintf(msg + ml, sizeof msg - ml, "; PROXY v1/v2 headers required, from %s",
                 po->proxy_protocol_from_text);
    }
    if (proxy_workers_start(workers, po->workers) < 0) {
        atomic_store(&sh.drain_until, cli_now_ms());
        atomic_store(&sh.stopping, 1);
        proxy_workers_join(workers, po->workers);
        proxy_metrics_stop();
        proxy_workers_free(workers, po->workers);
        return start_failed(&sh, po);
    }
    proxy_log_event("listening", msg, "listen", bound,
                    po->mode == PROXY_TERMINATE ? "backend" : "upstream", target, "workers",
                    nworkers, (const char *)NULL);
    if (sh.acme && proxy_acme_start(sh.acme, why, sizeof why) != 0)
        proxy_log_event("error", why, (const char *)NULL);
    char ready[700];
    snprintf(ready, sizeof ready, "READY=1\nSTATUS=%s", msg);
    sd_notify_send(ready); /* systemd Type=notify: accepting now */

    /* Signals pending since the mask was set are read from here too. */
    int sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    change_watch *cw = change_watch_new(&ws, CHANGE_WATCH_DEBOUNCE_MS, CHANGE_WATCH_POLL_MS);
    if (sfd < 0 || !cw) {
        proxy_log_event("error", sfd < 0 ? "signalfd failed" : "out of memory", (const char *)NULL);
        if (sfd >= 0) close(sfd);
        change_watch_free(cw);
        atomic_store(&sh.drain_until, cli_now_ms());
        atomic_store(&sh.stopping, 1);
        proxy_workers_join(workers, po->workers);
        proxy_metrics_stop();
        proxy_workers_free(workers, po->workers);
        return start_failed(&sh, po);
    }
    {
        char how[200];
        snprintf(how, sizeof how, "%zu file%s watched (%s)", ws.count, ws.count == 1 ? "" : "s",
                 change_watch_notifies(cw) ? "inotify on their directories, and polled every second"
                                           : "polled every second: inotify is off or unavailable");
        if (ws.count) proxy_log_event("watching", how, (const char *)NULL);
    }
    reload_retry rr;
    memset(&rr, 0, sizeof rr);
    for (;;) {
        int64_t now = cli_now_ms();
        int wait = reload_retry_timeout_ms(&rr, now, change_watch_timeout_ms(cw, now));
        struct pollfd pf[4] = {
            {.fd = sfd, .events = POLLIN, .revents = 0},
            {.fd = change_watch_fd(cw), .events = POLLIN, .revents = 0},
            {.fd = sh.acme ? proxy_acme_fd(sh.acme) : -1, .events = POLLIN, .revents = 0},
            {.fd = po->spiffe ? spiffe_source_fd(po->spiffe) : -1, .events = POLLIN, .revents = 0}};
        int pr = poll(pf, 4, wait); /* a negative fd is skipped */
        if (pr < 0 && errno != EINTR) break;
        int sig = 0;
        struct signalfd_siginfo si;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) /* the strongest one wins */
            if (sig != SIGTERM && sig != SIGINT) sig = (int)si.ssi_signo;
        if (sig == SIGTERM || sig == SIGINT) {
            snprintf(msg, sizeof msg,
                     "%s: no longer accepting; draining connections for up to %d ms",
                     sig == SIGTERM ? "SIGTERM" : "SIGINT", po->drain_timeout_ms);
            proxy_log_event("shutdown", msg, (const char *)NULL);
            sd_notify_send("STOPPING=1");
            atomic_store(&sh.drain_until, cli_now_ms() + po->drain_timeout_ms);
            atomic_store(&sh.stopping, 1);
            break;
        }
        if (pf[2].revents & POLLIN) { /* --acme installed a new certificate */
            proxy_acme_drain(sh.acme);
            try_reload(&sh, "(acme)", &rr);
        }
        if (pf[3].revents & POLLIN) { /* a new SVID: a new config, as for rotated files */
            bool bundles = spiffe_source_trust_changed(po->spiffe);
            if (bundles && (po->mode == PROXY_BRIDGE ? !po->trust : !po->client_ca))
                renew_ticket_keys_for_trust(po);
            try_reload(&sh, "(SPIFFE Workload API update)", &rr);
            continue;
        }
        char which[600];
        size_t changed = change_watch_check(cw, cli_now_ms(), which, sizeof which);
        if (sig == SIGHUP) { /* reload everything, changed or not (systemctl reload) */
            sd_notify_reloading();
            proxy_log_event("sighup", "SIGHUP: reloading every file", (const char *)NULL);
            watch_changed(&ws, which, sizeof which); /* what changed is read now */
            if (po->ticket_key_file) ws.changed[tk_idx] = true;
            changed = 2; /* not the ticket keys alone */
            snprintf(which, sizeof which, "(SIGHUP)");
        }
        if (!changed) {
            if (reload_retry_due(&rr, cli_now_ms())) { /* the files did not load last time */
                if (try_reload(&sh, "(retry)", &rr)) cli_ocsp_files_changed();
            }
            continue;
        }
        bool trust_changed = ws.changed[trust_idx];
        if (trust_path && trust_changed) renew_ticket_keys_for_trust(po);
        if (po->ticket_key_file && ws.changed[tk_idx]) {
            char kwhy[700];
            if (tkf_load(po->ticket_key_file, po->ticket_keys, kwhy, sizeof kwhy) == 0)
                proxy_log_event("ticket-keys", "reread the ticket keys for every connection",
                                "file", po->ticket_key_file, (const char *)NULL);
            else
                proxy_log_event("error", kwhy, "file", po->ticket_key_file, (const char *)NULL);
        }
        if (changed == 1 && po->ticket_key_file && ws.changed[tk_idx]) continue; /* keys alone */
        try_reload(&sh, which, &rr); /* refused: retried every ROTATION_RETRY_MS */
        cli_ocsp_files_changed();    /* new --ocsp files; a rotated leaf is fetched for anew */
        if (sig == SIGHUP) sd_notify_send(ready);
    }
    close(sfd);
    change_watch_free(cw);
    proxy_workers_join(workers, po->workers);
    proxy_acme_stop(sh.acme); /* after the workers: they ask it about challenges */
    sh.acme = NULL;
    proxy_metrics_stop();
    proxy_workers_free(workers, po->workers);
    cli_ocsp_stop();
    cli_crl_fetch_stop();
    store_stop();
    spiffe_source_stop(po->spiffe);
    po->spiffe = NULL;
    pthread_mutex_lock(&sh.cfg_lock);
    certa_config_free(sh.cfg);
    sh.cfg = NULL;
    pthread_mutex_unlock(&sh.cfg_lock);
    certa_ticket_keys_free(po->ticket_keys);
    cli_keylog_close(&keylog);
    proxy_log_event("stopped", "all connections closed; exiting", (const char *)NULL);
    return CLI_EXIT_OK;
}

int cmd_proxy(int argc, char **argv) {
    if (proxy_ech_split_wanted(argc, argv)) return proxy_ech_split_main(argc, argv);
    proxy_opts o;
    int rc = proxy_run(argc, argv, &o);
    proxy_ja4_list_free(&o.ja4_deny);
    proxy_ja4_list_free(&o.ja4_allow);
    return rc;
}

_Static_assert(WATCH_MAX >= 3 * CLI_MAX_PAIRS + CLI_MAX_CRLS + 1, "every watched file fits");
