/* certa serve: a TLS 1.3 (or 1.2) server for trying and debugging. One thread per
 * connection (bounded), each running the sans-I/O loop over a non-blocking
 * socket; echo mode or a small HTTP/1.1 responder; one summary line per
 * connection on stderr. */
#include "common/cli_common.h"
#include "common/ech_cli.h"
#include "revocation/crl_fetcher.h"
#include "revocation/ct_logs.h"
#include "common/change_watch.h"
#include "spiffe/workload_client.h"
#include "common/file_watch.h"
#include "common/keylog_file.h"
#include "common/rotation.h"
#include "tickets/ticket_key_file.h"
#include "tickets/ticket_store_redis.h"
#include "revocation/ocsp_stapler.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_ACTIVE 256
#define HANDSHAKE_TIMEOUT_MS 10000
#define IDLE_TIMEOUT_MS 60000
#define TICK_MS 250
/* Stop reading from a client while this much is queued for it. */
#define OUT_HIGH_WATER (256 * 1024)
#define HTTP_MAX_HEAD 8192

typedef struct serve_opts {
    cli_pairs pairs; /* --cert/--key, repeatable: the first is the default */
    bool sni_strict; /* refuse a server_name no certificate is for */
    const char *host;
    const char *port;
    const char *alpn, *ciphers, *groups;
    const char *client_ca;   /* trust for client certificates */
    const char *client_auth; /* require | optional | none */
    const char *allow[32];   /* allow rules on the client identity */
    int allow_count;
    bool http, quiet, trace;
    bool log_ja3;                /* --log-ja3: ja3= next to ja4= on each line */
    long max_conns;              /* 0 = no limit */
    long tickets;                /* session tickets per handshake (0 = no resumption) */
    long ticket_lifetime;        /* seconds; 0 = the library default */
    long early_data;             /* --early-data BYTES: 0-RTT accepted per connection */
    long early_window;           /* --early-data-window SECONDS; 0: the library default */
    cli_tls_opts tls;            /* --profile, --min-version, --max-version, --allow-no-ems */
    cli_ekm ekm;                 /* --export-keying-material LABEL:LEN, per connection */
    cli_ocsp_opts ocsp;          /* --ocsp FILE, --ocsp-fetch */
    const char *ticket_key_file; /* --ticket-keys FILE (a fleet's), or NULL */
    const char *store;           /* --store redis://... (a fleet's keys), or NULL */
    long ticket_rotation;        /* --ticket-rotation SECONDS; -1: the default (6 h) */
    /* --sct FILE, one per --cert pair, in order */
    const char *sct[CLI_MAX_PAIRS];
    size_t scts;
    const char *keylog; /* --keylog FILE (else SSLKEYLOGFILE) */
    cli_ech_keys ech;   /* --ech-key/--ech-config pairs */
    /* --spiffe-socket: certificate, key and client trust from the SPIFFE
     * Workload API stream instead of files */
    const char *spiffe_socket;
    spiffe_source *spiffe;
} serve_opts;

typedef struct serve_ctx {
    /* The config for new connections; swapped by reloads under cfg_lock.
     * Connections hold their own reference to the one they started with. */
    certa_config *cfg;
    bool http, quiet, trace, log_ja3;
    cli_ekm ekm;
    pthread_mutex_t cfg_lock;
    unsigned long generation;
    cli_keylog *keylog; /* --keylog / SSLKEYLOGFILE, attached to each config */
} serve_ctx;

typedef struct http_state {
    char head[HTTP_MAX_HEAD];
    size_t len;
    uint64_t body_left; /* request body bytes still to skip */
    bool close_after;   /* answer sent with Connection: close */
} http_state;

typedef struct conn_job {
    serve_ctx *ctx;
    unsigned long id;
    int fd;
    char peer[80];
    cli_link link;
    http_state http;
    uint64_t bytes_in, bytes_out;
    /* accepted 0-RTT data, held until the handshake completes (writes wait
     * for it), then handled like the rest */
    uint8_t *early;
    size_t early_len;
} conn_job;

static volatile sig_atomic_t g_stop;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cond = PTHREAD_COND_INITIALIZER;
static int g_active;
/* Threads that have finished, waiting to be joined (at most MAX_ACTIVE). */
static pthread_t g_done[MAX_ACTIVE];
static int g_done_count;

/* Joins the connection threads that have finished. */
static void reap_threads(void) {
    pthread_t done[MAX_ACTIVE];
    pthread_mutex_lock(&g_lock);
    int n = g_done_count;
    memcpy(done, g_done, (size_t)n * sizeof done[0]);
    g_done_count = 0;
    pthread_mutex_unlock(&g_lock);
    for (int i = 0; i < n; i++)
        pthread_join(done[i], NULL);
}

static volatile sig_atomic_t g_hup; /* SIGHUP: reload every file */

static void on_hup(int sig) {
    (void)sig;
    g_hup = 1;
}

static void on_signal(int sig) {
    if (g_stop && sig == SIGINT) { /* a second Ctrl-C: the user insists */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    g_stop = 1;
}

static void serve_usage(FILE *out) {
    fputs("usage: certa serve --cert FILE --key FILE [--cert FILE --key FILE ...] [options]\n"
          "\n"
          "  --cert FILE        certificate chain, PEM, leaf first\n"
          "  --key FILE         private key, PEM (PKCS#8, SEC1 EC, PKCS#1 RSA): ECDSA\n"
          "                     P-256/P-384/P-521, Ed25519, Ed448, RSA, RSA-PSS; or a\n"
          "                     PKCS#11 URI (pkcs11:token=T;object=K?pin-source=file:F)\n"
          "                     for a key that stays on a token (HSM, SoftHSM)\n"
          "  --pkcs11-module SO PKCS#11 module for URIs without module-path (default\n"
          "                     $PKCS11_MODULE_PATH, else p11-kit-proxy.so, else SoftHSM)\n"
          "                     Repeat the pair for more names: each client gets the\n"
          "                     certificate whose DNS SAN matches its server_name (SNI;\n"
          "                     \"*.example.com\" covers one label), else the first pair\n"
          "  --sni-strict       refuse a client whose server_name no certificate is for\n"
          "                     (alert unrecognized_name); without SNI, the first pair\n"
          "  --spiffe-socket unix:///PATH | env\n"
          "                     the certificate, key and client trust (the SVID's bundle\n"
          "                     and federated ones) from a SPIFFE Workload API agent\n"
          "                     instead of --cert/--key/--client-ca (env: the socket in\n"
          "                     SPIFFE_ENDPOINT_SOCKET); each new SVID is applied whole,\n"
          "                     client certificates are required (--client-auth to\n"
          "                     change); an unreachable agent leaves the last SVID serving\n"
          "  --host ADDR        address to listen on, IPv4 or IPv6 (default 127.0.0.1)\n"
          "  --port N           port (default 8443; 0 picks a free one)\n"
          "  --client-ca FILE   ask for client certificates and validate them (clientAuth)\n"
          "                     against these trust anchors (PEM file or directory)\n"
          "  --client-auth MODE require (default with --client-ca) | optional | none;\n"
          "                     without a certificate, require answers certificate_required\n"
          "  --allow RULE       accept only clients matching a rule (repeatable):\n"
          "                     spiffe://td/path, spiffe://td/prefix/*, dns:NAME, sha256:PIN\n"
          "  --alpn LIST        protocols to accept, e.g. h2,http/1.1; a client offering\n"
          "                     none of them is refused with no_application_protocol\n"
          "                     (with --http: http/1.1 by default, and h2 is refused)\n"
          "  --keylog FILE      append the session secrets to FILE (NSS key log format,\n"
          "                     as SSLKEYLOGFILE, which is read when this is not given)\n"
          "                     so Wireshark can decrypt a capture; created 0600, a file\n"
          "                     others can read is refused. Anyone with it can decrypt\n"
          "                     the traffic: for debugging only\n"
          "  --export-keying-material LABEL:LEN\n"
          "                     print LEN exported bytes per connection (RFC 8446 7.5 /\n"
          "                     RFC 5705), like openssl's -keymatexport/-keymatexportlen\n"
          "  --http             answer HTTP/1.1 requests with the negotiated parameters\n"
          "                     (default: echo the bytes back); GET /keyupdate first\n"
          "                     sends a KeyUpdate asking the client to update too\n"
          "  --ciphers LIST     cipher suites in preference order (TLS 1.3 and 1.2 names)\n"
          "  --groups LIST      key exchange groups in preference order\n",
          out);
    cli_ocsp_usage(out);
    fputs("  --sct FILE         SCTs to send clients that ask (signed_certificate_timestamp;\n"
          "                     a TLS-encoded SignedCertificateTimestampList), one per\n"
          "                     --cert pair, in order\n",
          out);
    cli_tls_usage(out, 21);
    cli_ech_keys_usage(out);
    fputs("  --tickets N        session tickets sent after each handshake (0 to 8, default\n"
          "                     2; 0 = no resumption); a client that comes back with one\n"
          "                     skips the certificate exchange (still a fresh key\n"
          "                     exchange, never 0-RTT) and keeps the identity verified\n"
          "                     by its full handshake\n"
          "  --ticket-keys FILE session-ticket keys shared by a fleet (certa ticket-keys\n"
          "                     new/rotate FILE; reread when it changes) instead of this\n"
          "                     process's own, rotating every 6 h\n"
          "  --store redis://HOST:PORT[/DB] | unix:/PATH\n"
          "                     share the ticket keys (and their rotation) with every\n"
          "                     server given the same Redis; Redis down: local keys\n"
          "  --ticket-rotation SEC  a new ticket key this often (default 21600)\n"
          "  --ticket-lifetime SEC  how long a ticket, and the identity check behind\n"
          "                     it, may be resumed (default 7200, at most 604800)\n"
          "  --early-data BYTES accept up to BYTES of 0-RTT early data per resumed\n"
          "                     connection (1 to 16777216; default off), once per ticket\n"
          "                     in this process (anti-replay), with a fresh ticket age;\n"
          "                     it is answered (echoed) like ordinary data. Early data can\n"
          "                     be replayed: only for requests that are safe to repeat\n"
          "  --early-data-window SEC  how far a client's ticket age may be from ours\n"
          "                     for its early data to count as fresh (default 10); a\n"
          "                     ClientHello replayed later is refused for its age\n"
          "  --max-conns N      exit after N connections (for tests)\n"
          "  --trace            print each connection's handshake trace\n"
          "  --log-ja3          add the client's JA3 (MD5) to each line, next to its JA4\n"
          "  --quiet            print only failures\n"
          "\n"
          "Prints \"listening on HOST:PORT\" once ready, then one line per connection\n"
          "(resumed=yes when the client resumed a session; early_data=N bytes accepted,\n"
          "or early_data=rejected), ending with the client's ClientHello fingerprint:\n"
          "ja4=..., and ja4_retry=... for a second hello after a HelloRetryRequest.\n"
          "Certificate, key, --client-ca, --sct, --ocsp, --crl and --ticket-keys files\n"
          "are watched (inotify on their directories, polled every second too) and\n"
          "reloaded for new connections when they change, or on SIGHUP; a pair that does\n"
          "not match yet is refused, logged once and retried every second, the old pair\n"
          "serving meanwhile. Stops cleanly on SIGINT or SIGTERM.\n",
          out);
}

/* Is name one of the comma-separated protocols of list (exactly, as ALPN compares)? */
static bool alpn_list_has(const char *list, const char *name) {
    size_t n = strlen(name);
    for (const char *p = list;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !memcmp(p, name, n)) return true;
        if (!end) return false;
        p = end + 1;
    }
}

static int parse_args(int argc, char **argv, serve_opts *o) {
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = "8443";
    o->tickets = 2;
    o->ticket_rotation = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            serve_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--http")) {
            o->http = true;
            continue;
        }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = true;
            continue;
        }
        if (!strcmp(a, "--trace")) {
            o->trace = true;
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
        if ((m = cli_pkcs11_module_opt(argc, argv, &i)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--spiffe-socket", &o->spiffe_socket)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_pair_opt(argc, argv, &i, "serve", &o->pairs)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_ocsp_opt(argc, argv, &i, "serve", &o->ocsp)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--sct", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!*v || o->scts == CLI_MAX_PAIRS) {
                cli_err("serve: --sct wants a file (one per --cert)");
                return CLI_EXIT_USAGE;
            }
            o->sct[o->scts++] = v;
            continue;
        }
        if ((m = cli_ech_keys_opt(argc, argv, &i, "serve", &o->ech)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_keylog_opt(argc, argv, &i, "serve", &o->keylog)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_ekm_opt(argc, argv, &i, "serve", &o->ekm)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_tls_opt(argc, argv, &i, "serve", &o->tls)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--allow", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (o->allow_count == 32) {
                cli_err("serve: at most 32 --allow rules");
                return CLI_EXIT_USAGE;
            }
            o->allow[o->allow_count++] = v;
            continue;
        }
        struct {
            const char *name;
            const char **dst;
        } opts[] = {{"--client-ca", &o->client_ca},
                    {"--client-auth", &o->client_auth},
                    {"--host", &o->host},
                    {"--port", &o->port},
                    {"--alpn", &o->alpn},
                    {"--ciphers", &o->ciphers},
                    {"--groups", &o->groups},
                    {"--max-conns", NULL},
                    {"--tickets", NULL},
                    {"--ticket-keys", &o->ticket_key_file},
                    {"--store", &o->store},
                    {"--ticket-rotation", NULL},
                    {"--ticket-lifetime", NULL},
                    {"--early-data", NULL},
                    {"--early-data-window", NULL}};
        bool matched = false;
        for (size_t k = 0; k < sizeof opts / sizeof opts[0] && !matched; k++) {
            m = cli_opt(argc, argv, &i, opts[k].name, &v);
            if (m < 0) return CLI_EXIT_USAGE;
            if (m == 0) continue;
            matched = true;
            if (opts[k].dst) {
                *opts[k].dst = v;
            } else if (!strcmp(opts[k].name, "--tickets")) {
                if (!cli_parse_long(v, 0, 8, &o->tickets)) {
                    cli_err("--tickets wants a number from 0 to 8, not '%s'", v);
                    return CLI_EXIT_USAGE;
                }
            } else if (!strcmp(opts[k].name, "--ticket-rotation")) {
                if (!cli_parse_long(v, 1, 604800L, &o->ticket_rotation)) {
                    cli_err("--ticket-rotation wants a number of seconds from 1 to 604800, not "
                            "'%s'",
                            v);
                    return CLI_EXIT_USAGE;
                }
            } else if (!strcmp(opts[k].name, "--early-data-window")) {
                if (!cli_parse_long(v, 1, 3600, &o->early_window)) {
                    cli_err("--early-data-window wants a number of seconds from 1 to 3600, not "
                            "'%s'",
                            v);
                    return CLI_EXIT_USAGE;
                }
            } else if (!strcmp(opts[k].name, "--early-data")) {
                if (!cli_parse_long(v, 1, 16777216L, &o->early_data)) {
                    cli_err("--early-data wants a number of bytes from 1 to 16777216, not '%s'", v);
                    return CLI_EXIT_USAGE;
                }
            } else if (!strcmp(opts[k].name, "--ticket-lifetime")) {
                if (!cli_parse_long(v, 1, 604800L, &o->ticket_lifetime)) {
                    cli_err("--ticket-lifetime wants a number of seconds from 1 to 604800 "
                            "(7 days, RFC 8446), not '%s'",
                            v);
                    return CLI_EXIT_USAGE;
                }
            } else if (!cli_parse_long(v, 1, 1000000000L, &o->max_conns)) {
                cli_err("--max-conns wants a positive number, not '%s'", v);
                return CLI_EXIT_USAGE;
            }
        }
        if (matched) {
            if (v && !*v) {
                cli_err("serve: %s needs a value", a);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (a[0] == '-')
            cli_err("serve: unknown option '%s' (see certa serve --help)", a);
        else
            cli_err("serve: unexpected argument '%s' (see certa serve --help)", a);
        return CLI_EXIT_USAGE;
    }
    if (o->spiffe_socket && (o->pairs.certs || o->pairs.keys)) {
        cli_err("serve: --spiffe-socket brings the certificate and key: give it or --cert/--key");
        return CLI_EXIT_USAGE;
    }
    if ((!o->pairs.certs || !o->pairs.keys) && !o->spiffe_socket) {
        cli_err("serve: --cert FILE and --key FILE are required (or --spiffe-socket)");
        serve_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!o->spiffe_socket && !cli_pairs_finish("serve", &o->pairs)) return CLI_EXIT_USAGE;
    if (!cli_ech_keys_finish("serve", &o->ech)) return CLI_EXIT_USAGE;
    if (o->client_auth && strcmp(o->client_auth, "require") && strcmp(o->client_auth, "optional") &&
        strcmp(o->client_auth, "none")) {
        cli_err("serve: --client-auth wants require, optional or none, not '%s'", o->client_auth);
        return CLI_EXIT_USAGE;
    }
    bool auth_on = o->client_auth ? strcmp(o->client_auth, "none") != 0
                                  : o->client_ca != NULL || o->spiffe_socket != NULL;
    if ((auth_on || o->allow_count) && !o->client_ca && !o->spiffe_socket) {
        cli_err("serve: client certificates need --client-ca FILE|DIR to validate them against");
        return CLI_EXIT_USAGE;
    }
    if (o->allow_count && !auth_on) {
        cli_err("serve: --allow needs client certificates (--client-auth require or optional)");
        return CLI_EXIT_USAGE;
    }
    long p;
    if (!cli_parse_long(o->port, 0, 65535, &p)) {
        cli_err("serve: --port wants a number from 0 to 65535, not '%s'", o->port);
        return CLI_EXIT_USAGE;
    }
    if (!*o->host) {
        cli_err("serve: --host is empty");
        return CLI_EXIT_USAGE;
    }
    if (!cli_tls_finish("serve", &o->tls)) return CLI_EXIT_USAGE;
    if (o->http && o->alpn && alpn_list_has(o->alpn, "h2")) {
        cli_err("serve: --http speaks HTTP/1.1 only, so it cannot accept h2 in --alpn: a "
                "client that negotiated h2 would get HTTP/1.1 answers it cannot read; drop h2 "
                "(--alpn http/1.1, the default with --http)");
        return CLI_EXIT_USAGE;
    }
    char swhy[300];
    if (o->ticket_key_file && o->store) {
        cli_err("serve: --ticket-keys and --store both name the fleet's ticket keys: give one");
        return CLI_EXIT_USAGE;
    }
    if (o->store && !store_url_ok(o->store, swhy, sizeof swhy)) {
        cli_err("serve: %s", swhy);
        return CLI_EXIT_USAGE;
    }
    return -1;
}

/* ---- logging ---- */

static void trace_line(void *arg, const char *line) {
    const conn_job *job = arg;
    fprintf(stderr, "* [#%lu] %s\n", job->id, line);
}

/* "; ja4=... [ja4_retry=...] [ja3=...]" for the client's hellos, "" if it
 * sent none that parsed. */
static void fingerprint_suffix(const certa_conn *conn, bool ja3, char *out, size_t cap) {
    out[0] = 0;
    size_t n = 0;
    static const char *const names[2][2] = {{"ja4", "ja3"}, {"ja4_retry", "ja3_retry"}};
    for (unsigned which = 0; which < 2; which++) {
        certa_fingerprint fp;
        if (certa_conn_client_fingerprint(conn, which, &fp) != CERTA_OK) break;
        int w = snprintf(out + n, cap - n, "%s%s=%s", which ? " " : "; ", names[which][0], fp.ja4);
        if (w > 0 && (size_t)w < cap - n) n += (size_t)w;
        if (ja3) {
            w = snprintf(out + n, cap - n, " %s=%s", names[which][1], fp.ja3_md5);
            if (w > 0 && (size_t)w < cap - n) n += (size_t)w;
        }
    }
}

/* The one line per connection. */
static void log_connection(const conn_job *job, bool hs_done, int64_t hs_ms, const char *ended) {
    const certa_conn *conn = job->link.conn;
    bool failed = certa_conn_failed(conn);
    int err = failed ? certa_conn_error(conn) : 0;
    /* A client that drops TCP after the handshake is worth a line, not an alarm. */
    bool alarming = failed && !(hs_done && err == CERTA_E_PEER_CLOSED);
    if (job->ctx->quiet && !alarming && hs_done) return;
    char line[1400];
    int n = snprintf(line, sizeof line, "conn #%lu from %s: ", job->id, job->peer);
    if (hs_done) {
        certa_info info;
        certa_conn_info(conn, &info);
        char early[40];
        if (info.early_data_accepted)
            snprintf(early, sizeof early, "early_data=%zu", info.early_data_bytes);
        else
            snprintf(early, sizeof early, "early_data=%s",
                     info.early_data_rejected ? "rejected" : "no");
        n += snprintf(line + n, sizeof line - (size_t)n,
                      "%s %s %s alpn=%s sni=%s hrr=%s resumed=%s cert=%s %s handshake=%lld ms; "
                      "in=%llu out=%llu bytes; ",
                      cli_version_name(info.version), certa_cipher_suite_name(info.cipher_suite),
                      certa_group_name(info.group), info.alpn ? info.alpn : "none",
                      info.server_name ? info.server_name : "none", info.hello_retry ? "yes" : "no",
                      info.resumed ? "yes" : "no", info.cert_name ? info.cert_name : "default",
                      early, (long long)hs_ms, (unsigned long long)job->bytes_in,
                      (unsigned long long)job->bytes_out);
        certa_peer_identity id;
        if (certa_conn_peer_identity(conn, &id) == 0 && id.present && n > 0 &&
            (size_t)n < sizeof line)
            n += snprintf(line + n, sizeof line - (size_t)n, "client=%s (%s); ",
                          id.spiffe_id[0]   ? id.spiffe_id
                          : id.dns_names[0] ? id.dns_names
                                            : id.subject,
                          id.verified ? "verified" : "NOT verified");
        const char *note = certa_conn_revocation_note(conn);
        if (*note && n > 0 && (size_t)n < sizeof line)
            n += snprintf(line + n, sizeof line - (size_t)n, "revocation warning: %s; ", note);
    } else {
        n += snprintf(line + n, sizeof line - (size_t)n,
                      "handshake failed after %lld ms: ", (long long)hs_ms);
    }
    if (n < 0 || (size_t)n >= sizeof line) n = (int)sizeof line - 1;
    if (failed) {
        char alert[96];
        cli_describe_alert(conn, alert, sizeof alert);
        snprintf(line + n, sizeof line - (size_t)n, "%s%s, %s: %s", hs_done ? "ended: " : "",
                 certa_error_name(err), alert, certa_conn_error_text(conn));
    } else {
        snprintf(line + n, sizeof line - (size_t)n, "%s%s", hs_done ? "ended: " : "", ended);
    }
    char fps[160], ech[300];
    fingerprint_suffix(conn, job->ctx->log_ja3, fps, sizeof fps);
    cli_ech_log_fields(conn, ech, sizeof ech);
    fprintf(stderr, "%s%s%s\n", line, fps, ech);
}

/* With --trace, early data the engine handed over, said when it is read —
 * before the handshake completes, which is when a replay would do its harm
 * — with its first bytes (as openssl s_server prints what it got). A trace
 * line: without --trace serve keeps to one line per connection. */
static void trace_early_read(const conn_job *job, const uint8_t *data, size_t len) {
    if (!job->ctx->trace) return;
    char shown[4 * 64 + 1];
    size_t k = 0;
    for (size_t i = 0; i < len && i < 64; i++)
        k += (size_t)snprintf(
            shown + k, sizeof shown - k,
            data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\' ? "%c" : "\\x%02x", data[i]);
    shown[k] = 0;
    fprintf(stderr,
            "* [#%lu] read %zu bytes of 0-RTT early data before the handshake completed: "
            "\"%s%s\n",
            job->id, len, shown, len > 64 ? "\"..." : "\"");
}

/* ---- HTTP/1.1 ---- */

static bool header_is(const char *line, size_t len, const char *name, const char **value,
                      size_t *vlen) {
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':') return false;
    const char *v = line + n + 1, *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return true;
}

static bool contains_token(const char *v, size_t len, const char *token) {
    size_t t = strlen(token);
    for (size_t i = 0; i + t <= len; i++)
        if (strncasecmp(v + i, token, t) == 0) return true;
    return false;
}

static int queue(conn_job *job, const void *data, size_t len) {
    int r = certa_conn_write(job->link.conn, data, len);
    if (!r) job->bytes_out += len;
    return r;
}

static int http_respond(conn_job *job, int status, const char *reason, bool head_only,
                        bool keep_alive) {
    char body[256];
    if (status == 200) {
        certa_info info;
        certa_conn_info(job->link.conn, &info);
        snprintf(body, sizeof body, "certa: %s %s %s alpn=%s\n", cli_version_name(info.version),
                 certa_cipher_suite_name(info.cipher_suite), certa_group_name(info.group),
                 info.alpn ? info.alpn : "none");
    } else {
        snprintf(body, sizeof body, "certa: %d %s\n", status, reason);
    }
    char resp[768];
    size_t blen = strlen(body);
    int n =
        snprintf(resp, sizeof resp,
                 "HTTP/1.1 %d %s\r\nServer: certa/" CERTA_CLI_VERSION
                 "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                 "Connection: %s\r\n\r\n%s",
                 status, reason, blen, keep_alive ? "keep-alive" : "close", head_only ? "" : body);
    int r = queue(job, resp, (size_t)n);
    if (r) return r;
    if (!keep_alive) {
        job->http.close_after = true;
        certa_conn_close(job->link.conn);
    }
    return 0;
}

/* Handles one complete request head of len bytes (ending in the blank line). */
static int http_request(conn_job *job, const char *head, size_t len) {
    const char *eol = memchr(head, '\n', len);
    size_t line_len = (size_t)(eol - head);
    char method[16], target[1024], version[16];
    char first[1100];
    if (line_len >= sizeof first) return http_respond(job, 414, "URI Too Long", false, false);
    memcpy(first, head, line_len);
    first[line_len] = 0;
    if (line_len && first[line_len - 1] == '\r') first[line_len - 1] = 0;
    if (sscanf(first, "%15s %1023s %15s", method, target, version) != 3 ||
        strncmp(version, "HTTP/1.", 7) != 0)
        return http_respond(job, 400, "Bad Request", false, false);
    bool keep_alive = strcmp(version, "HTTP/1.0") != 0;
    uint64_t body = 0;
    const char *p = eol + 1, *end = head + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *v;
        size_t vl;
        if (header_is(p, l, "Connection", &v, &vl)) {
            if (contains_token(v, vl, "close"))
                keep_alive = false;
            else if (contains_token(v, vl, "keep-alive"))
                keep_alive = true;
        } else if (header_is(p, l, "Content-Length", &v, &vl)) {
            char num[24];
            long long cl = -1;
            if (vl < sizeof num) {
                memcpy(num, v, vl);
                num[vl] = 0;
                char *e;
                cl = strtoll(num, &e, 10);
                if (*e || vl == 0) cl = -1;
            }
            if (cl < 0) return http_respond(job, 400, "Bad Request", false, false);
            body = (uint64_t)cl;
        } else if (header_is(p, l, "Transfer-Encoding", &v, &vl)) {
            return http_respond(job, 501, "Not Implemented", false, false);
        }
        p = nl ? nl + 1 : end;
    }
    job->http.body_left = body;
    /* A debugging aid (tlsfuzzer's test-tls13-keyupdate-from-server uses
     * it, as with tlslite's server): GET /keyupdate makes the server update
     * its keys, asking the client to update too, before it answers. */
    if (!strcmp(target, "/keyupdate")) {
        int r = certa_conn_key_update(job->link.conn, true);
        if (r) return r;
    }
    return http_respond(job, 200, "OK", !strcmp(method, "HEAD"), keep_alive);
}

/* Finds the end of a request head: the byte after "\r\n\r\n" or "\n\n". */
static size_t head_end(const char *buf, size_t len) {
    for (size_t i = 0; i + 1 < len; i++) {
        if (buf[i] != '\n') continue;
        if (buf[i + 1] == '\n') return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') return i + 3;
    }
    return 0;
}

static int http_input(conn_job *job, const uint8_t *data, size_t len) {
    http_state *h = &job->http;
    while (len > 0 && !h->close_after) {
        if (h->body_left > 0) { /* skip a request body */
            size_t n = h->body_left < len ? (size_t)h->body_left : len;
            h->body_left -= n;
            data += n;
            len -= n;
            continue;
        }
        size_t room = sizeof h->head - h->len;
        size_t n = len < room ? len : room;
        memcpy(h->head + h->len, data, n);
        h->len += n;
        data += n;
        len -= n;
        size_t end;
        while (!h->close_after && h->body_left == 0 && (end = head_end(h->head, h->len)) > 0) {
            int r = http_request(job, h->head, end);
            if (r) return r;
            memmove(h->head, h->head + end, h->len - end);
            h->len -= end;
            /* Body bytes already buffered are skipped here. */
            size_t skip = h->body_left < h->len ? (size_t)h->body_left : h->len;
            memmove(h->head, h->head + skip, h->len - skip);
            h->len -= skip;
            h->body_left -= skip;
        }
        if (h->len == sizeof h->head)
            return http_respond(job, 431, "Request Header Fields Too Large", false, false);
    }
    return 0;
}

/* ---- one connection ---- */

static int app_input(conn_job *job, const uint8_t *data, size_t len) {
    job->bytes_in += len;
    if (job->ctx->http) return http_input(job, data, len);
    if (certa_conn_peer_closed(job->link.conn)) return 0;
    return queue(job, data, len); /* echo */
}

static void run_connection(conn_job *job) {
    cli_link *l = &job->link;
    certa_conn *conn = l->conn;
    int64_t start = cli_now_ms(), hs_ms = 0, last_activity = start;
    bool hs_done = false;
    const char *ended = "closed";
    uint8_t buf[16384];

    for (;;) {
        int r = cli_link_feed(l);
        for (size_t n; !r && (n = certa_conn_read_early(conn, buf, sizeof buf)) > 0;) {
            uint8_t *more = realloc(job->early, job->early_len + n);
            if (!more) {
                r = CERTA_E_NOMEM;
                break;
            }
            memcpy(more + job->early_len, buf, n);
            job->early = more;
            job->early_len += n;
            trace_early_read(job, buf, n);
            r = cli_link_feed(l);
        }
        /* Handshake done: the 0-RTT data first, before any ordinary data
         * the same input brought (it came before it; and while that is
         * unread the engine holds back a close_notify behind it). */
        if (!hs_done && certa_conn_handshake_done(conn)) {
            hs_done = true;
            if (!r && job->early_len) {
                r = app_input(job, job->early, job->early_len);
                free(job->early);
                job->early = NULL;
                job->early_len = 0;
            }
            hs_ms = cli_now_ms() - start;
            last_activity = cli_now_ms();
            if (job->ctx->ekm.label) {
                char prefix[48];
                snprintf(prefix, sizeof prefix, "conn #%lu: ", job->id);
                cli_ekm_print(stderr, prefix, conn, &job->ctx->ekm);
            }
        }
        for (size_t n; !r && (n = certa_conn_read(conn, buf, sizeof buf)) > 0;) {
            r = app_input(job, buf, n);
            if (!r) r = cli_link_feed(l);
        }
        if (r || certa_conn_failed(conn)) {
            cli_link_drain_out(l, 1000); /* deliver the alert */
            break;
        }
        if (certa_conn_peer_closed(conn)) {
            certa_conn_close(conn);
            cli_link_drain_out(l, 2000);
            ended = "closed by the client (close_notify)";
            break;
        }
        if (cli_link_send(l) < 0) {
            ended = "socket error while sending";
            break;
        }
        if (job->http.close_after && cli_link_pending(l) == 0) {
            ended = "closed after the response (Connection: close)";
            break;
        }
        if (l->tcp_eof && l->in_len == 0) {
            certa_conn_recv_eof(conn);
            if (certa_conn_peer_closed(conn)) continue;
            break; /* failed: logged below */
        }
        int64_t now = cli_now_ms();
        int64_t deadline = hs_done ? last_activity + IDLE_TIMEOUT_MS : start + HANDSHAKE_TIMEOUT_MS;
        if (now >= deadline) {
            ended = hs_done ? "idle timeout (60 s): closed" : "handshake timeout (10 s)";
            if (hs_done) {
                certa_conn_close(conn);
                cli_link_drain_out(l, 1000);
            }
            break;
        }
        if (g_stop) {
            ended = "server stopping";
            if (hs_done) {
                certa_conn_close(conn);
                cli_link_drain_out(l, 1000);
            }
            break;
        }
        size_t pending = cli_link_pending(l);
        struct pollfd p = {.fd = l->fd, .events = 0, .revents = 0};
        if (pending > 0) p.events |= POLLOUT;
        if (pending < OUT_HIGH_WATER) p.events |= POLLIN;
        int wait = deadline - now < TICK_MS ? (int)(deadline - now) : TICK_MS;
        int pr = poll(&p, 1, wait);
        if (pr < 0 && errno != EINTR) {
            ended = "poll failed";
            break;
        }
        if (pr > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            int rr = cli_link_read(l);
            if (rr < 0) {
                ended = "socket error while receiving";
                break;
            }
            if (rr > 0) last_activity = cli_now_ms();
        }
    }
    if (!hs_done) hs_ms = cli_now_ms() - start;
    if (!hs_done && !certa_conn_failed(conn)) {
        /* Timeout, stop or socket error before the handshake finished. */
        char why[160];
        snprintf(why, sizeof why, "%s%s%s", ended, l->io_errno ? ": " : "",
                 l->io_errno ? strerror(l->io_errno) : "");
        char fps[160];
        fingerprint_suffix(conn, job->ctx->log_ja3, fps, sizeof fps);
        fprintf(stderr, "conn #%lu from %s: handshake failed after %lld ms: %s%s\n", job->id,
                job->peer, (long long)hs_ms, why, fps);
        return;
    }
    if (certa_conn_close(conn) == 0 && cli_link_pending(l) > 0) cli_link_drain_out(l, 500);
    /* Half-close and drain briefly, so that close() does not reset the
     * connection before the peer has read our last bytes (or alert). */
    if (!l->io_errno) cli_link_linger(l, 500);
    char why[192];
    if (l->io_errno && !certa_conn_failed(conn)) {
        snprintf(why, sizeof why, "%s: %s", ended, strerror(l->io_errno));
        ended = why;
    }
    log_connection(job, hs_done, hs_ms, ended);
}

static void *conn_thread(void *arg) {
    conn_job *job = arg;
    pthread_mutex_lock(&job->ctx->cfg_lock);
    job->link.conn = certa_server_new(job->ctx->cfg); /* takes a reference */
    pthread_mutex_unlock(&job->ctx->cfg_lock);
    if (!job->link.conn) {
        fprintf(stderr, "conn #%lu from %s: out of memory\n", job->id, job->peer);
    } else {
        if (job->ctx->trace) certa_conn_set_trace(job->link.conn, trace_line, job);
        run_connection(job);
        cli_crl_fetch_learn_conn(job->link.conn); /* status unknown: fetch for the next */
        certa_conn_free(job->link.conn);
    }
    close(job->fd);
    free(job->early);
    free(job);
    pthread_mutex_lock(&g_lock);
    g_active--;
    g_done[g_done_count++] = pthread_self();
    pthread_cond_broadcast(&g_cond);
    pthread_mutex_unlock(&g_lock);
    return NULL;
}

/* ---- listening ---- */

static int open_listener(const serve_opts *o, char *where, size_t where_cap) {
    char why[512];
    int fd = cli_listen(o->host, o->port, 128, false, where, where_cap, why, sizeof why);
    if (fd < 0) cli_err("serve: %s", why);
    return fd;
}

/* The config for new connections, from the options and the files as they
 * are now; NULL with why (and *err, the failing step's code) when it cannot
 * be built. *usage: a bad name or list (exit 2), not an unusable file. */
static certa_config *build_config(const serve_opts *o, bool *usage, int *err, char *why,
                                  size_t cap) {
    *usage = false;
    *err = CERTA_E_NOMEM;
    certa_config *cfg = certa_config_new();
    if (!cfg) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    int r;
    const char *what;
    /* The profile and versions first: the explicit options below override it. */
    if ((r = cli_tls_apply(cfg, &o->tls, why, cap)) != 0) {
        certa_config_free(cfg);
        *usage = true;
        *err = r;
        return NULL;
    }
    char svid[600];
    if (o->spiffe) { /* the SVID held, with its bundles as client trust unless --client-ca */
        r = spiffe_source_apply(o->spiffe, cfg, !o->client_ca, svid, sizeof svid);
        if (r != CERTA_OK)
            snprintf(why, cap, "the %s: %s (%s)", svid, certa_config_error_text(cfg),
                     certa_error_name(r));
    } else {
        r = cli_pairs_load(cfg, &o->pairs, why, cap);
    }
    if (r != 0) {
        certa_config_free(cfg);
        *err = r;
        return NULL;
    }
    for (size_t k = 0; k < o->scts; k++)
        if ((r = ct_sct_list_load(cfg, k, o->sct[k], why, cap)) != 0) {
            char tmp[600];
            snprintf(tmp, sizeof tmp, "--sct %s", why);
            snprintf(why, cap, "%s", tmp);
            certa_config_free(cfg);
            *err = r;
            return NULL;
        }
    if ((r = cli_ech_keys_apply(cfg, &o->ech, why, cap)) != 0) {
        certa_config_free(cfg);
        *err = r;
        return NULL;
    }
    certa_config_set_sni_strict(cfg, o->sni_strict);
    certa_config_set_client_fingerprints(cfg, true); /* ja4= on every line */
    if (o->ciphers && (r = certa_config_set_ciphers(cfg, o->ciphers)) != 0)
        what = "--ciphers";
    else if (o->groups && (r = certa_config_set_groups(cfg, o->groups)) != 0)
        what = "--groups";
    else if (o->alpn && (r = certa_config_set_alpn(cfg, o->alpn)) != 0)
        what = "--alpn";
    /* --http answers in HTTP/1.1: say so to a client that offers it. */
    else if (!o->alpn && o->http && (r = certa_config_set_alpn(cfg, "http/1.1")) != 0)
        what = "--http";
    else if (o->client_ca && (r = certa_config_load_trust(cfg, o->client_ca)) != 0)
        what = "--client-ca";
    else if ((r = certa_config_check_key_sizes(cfg)) != 0)
        what = "--cert";
    else {
        for (int k = 0; k < o->allow_count; k++)
            if ((r = certa_config_add_allow(cfg, o->allow[k])) != 0) break;
        what = "--allow";
        if (r == 0) {
            certa_client_auth mode = CERTA_CLIENT_AUTH_NONE;
            if (o->client_auth ? !strcmp(o->client_auth, "require")
                               : o->client_ca != NULL || o->spiffe != NULL)
                mode = CERTA_CLIENT_AUTH_REQUIRE;
            else if (o->client_auth && !strcmp(o->client_auth, "optional"))
                mode = CERTA_CLIENT_AUTH_OPTIONAL;
            certa_config_set_client_auth(cfg, mode);
            certa_config_set_tickets(cfg, (unsigned)o->tickets);
            certa_config_set_max_early_data(cfg, (uint32_t)o->early_data);
            if (o->early_window > 0)
                certa_config_set_early_data_window(cfg, (uint32_t)o->early_window);
            /* A fleet sharing ticket keys shares the replay record too. */
            if (o->early_data > 0 && o->store)
                certa_config_set_replay_store(cfg, store_replay_check, NULL);
            if (o->ticket_lifetime > 0)
                certa_config_set_ticket_lifetime(cfg, (uint32_t)o->ticket_lifetime);
            *err = CERTA_OK;
            return cfg;
        }
    }
    const char *t = certa_config_error_text(cfg);
    snprintf(why, cap, "%s: %s (%s)", what, *t ? t : certa_error_text(r), certa_error_name(r));
    certa_config_free(cfg);
    /* A bad name or list is a usage error; an unusable file is not. */
    *usage = r == CERTA_E_UNKNOWN_NAME || r == CERTA_E_INVALID_ARGUMENT || r == CERTA_E_BAD_RULE;
    *err = r;
    return NULL;
}

/* Swaps in the --crl files' new contents, or keeps the old set and says why. */
static void reload_crls(certa_config *cfg, const serve_opts *o, const char *which) {
    int r = cli_crl_install(cfg, &o->tls); /* the files, and what --crl-fetch holds */
    if (r == CERTA_OK)
        fprintf(stderr, "serve: %s changed: reloaded the CRLs (%zu) for new connections\n", which,
                certa_config_crl_count(cfg));
    else
        fprintf(stderr, "serve: %s changed but does not load, keeping the previous CRLs: %s (%s)\n",
                which, certa_config_error_text(cfg), certa_error_name(r));
}

/* The fetcher got a new CRL: onto the config in use, under its lock. */
typedef struct crl_target {
    serve_ctx *ctx;
    const serve_opts *o;
} crl_target;

static void crls_fetched(void *arg) {
    crl_target *t = arg;
    pthread_mutex_lock(&t->ctx->cfg_lock);
    int r = cli_crl_install(t->ctx->cfg, &t->o->tls);
    if (r != CERTA_OK)
        fprintf(stderr, "serve: fetched CRLs not installed: %s (%s)\n",
                certa_config_error_text(t->ctx->cfg), certa_error_name(r));
    pthread_mutex_unlock(&t->ctx->cfg_lock);
}

/* Where the stapler's responses go: the config in use, under its lock. */
static int set_staple(void *arg, size_t index, const uint8_t *der, size_t len, char *why,
                      size_t cap) {
    serve_ctx *ctx = arg;
    pthread_mutex_lock(&ctx->cfg_lock);
    int r = certa_config_set_identity_ocsp_response(ctx->cfg, index, der, len);
    if (r) snprintf(why, cap, "%s (%s)", certa_config_error_text(ctx->cfg), certa_error_name(r));
    pthread_mutex_unlock(&ctx->cfg_lock);
    return r ? -1 : 0;
}

/* A new config from the files as they are now, swapped in for new
 * handshakes (connections keep the config they started with: each holds a
 * reference). Refused — a key that does not match its certificate yet, a
 * file caught half-written — the old config serves on and rr says when to
 * try again; each reason is logged once. */
static bool reload_config(serve_ctx *ctx, const serve_opts *o, certa_ticket_keys *ring,
                          const char *which, reload_retry *rr) {
    char why[700];
    bool usage;
    int err;
    certa_config *cfg = build_config(o, &usage, &err, why, sizeof why);
    if (cfg && certa_config_set_ticket_keys(cfg, ring) != CERTA_OK) {
        snprintf(why, sizeof why, "cannot keep the session ticket keys (out of memory)");
        certa_config_free(cfg);
        cfg = NULL;
    }
    if (!cfg) {
        if (reload_retry_failed(rr, cli_now_ms(), why))
            fprintf(stderr,
                    "serve: %s changed: reload refused%s, keeping the previous certificate and "
                    "retrying every %d ms: %s\n",
                    which,
                    err == CERTA_E_KEY_MISMATCH
                        ? " while the key does not match the certificate (waiting for a matching "
                          "pair)"
                        : "",
                    ROTATION_RETRY_MS, why);
        return false;
    }
    if (ctx->keylog) cli_keylog_attach(cfg, ctx->keylog);
    pthread_mutex_lock(&ctx->cfg_lock);
    cli_ocsp_apply(cfg); /* the staples the stapler holds, onto the new config */
    certa_config *old = ctx->cfg;
    ctx->cfg = cfg;
    unsigned long gen = ++ctx->generation;
    pthread_mutex_unlock(&ctx->cfg_lock);
    certa_config_free(old);   /* connections made from it keep their own reference */
    cli_ocsp_files_changed(); /* --ocsp files reread; a rotated leaf is fetched for anew */
    unsigned tries = rr->failures;
    int64_t waited = reload_retry_succeeded(rr, cli_now_ms());
    char waitnote[160] = "";
    if (waited > 0)
        snprintf(waitnote, sizeof waitnote,
                 " after waiting %lld ms and %u refused attempt%s for loadable files",
                 (long long)waited, tries, tries == 1 ? "" : "s");
    fprintf(stderr,
            "serve: %s changed: reloaded the config (generation %lu) for new connections%s\n",
            which, gen, waitnote);
    for (size_t i = 0; i < o->pairs.certs; i++) {
        char d[400];
        rotation_describe_cert(o->pairs.cert[i], d, sizeof d);
        fprintf(stderr, "serve:   loaded %s: %s\n", o->pairs.cert[i], d);
    }
    return true;
}

/* --spiffe-socket: the Workload API stream's thread, and its first SVID. */
static int serve_spiffe_start(serve_opts *o, char *why, size_t cap) {
    char target[128];
    if (!spiffe_socket_target(o->spiffe_socket, target, sizeof target, why, cap)) return -1;
    if (!(o->spiffe = spiffe_source_start(target, "serve"))) {
        snprintf(why, cap, "--spiffe-socket: out of memory");
        return -1;
    }
    return spiffe_source_wait(o->spiffe, SPIFFE_FIRST_SVID_WAIT_MS, NULL, why, cap);
}

/* The command, once parse_args has filled o. */
static int serve_run(int argc, char **argv, serve_opts *po) {
    serve_opts o;
    int rc = parse_args(argc, argv, &o);
    *po = o;
    if (rc >= 0) return rc;

    bool usage = false;
    int berr;
    char owhy[1400];
    int sr = o.spiffe_socket ? serve_spiffe_start(&o, owhy, sizeof owhy) : 0;
    po->spiffe = o.spiffe; /* stopped by cmd_serve, whichever way this returns */
    if (sr != 0) {
        cli_err("serve: %s", owhy);
        return CLI_EXIT_FAIL;
    }
    certa_config *cfg = build_config(&o, &usage, &berr, owhy, sizeof owhy);
    if (!cfg) {
        cli_err("serve: %s", owhy);
        return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    }
    uint32_t rotation = o.ticket_rotation > 0 ? (uint32_t)o.ticket_rotation : 6 * 3600;
    uint32_t lifetime = o.ticket_lifetime > 0 ? (uint32_t)o.ticket_lifetime : 7200;
    /* One ticket-key ring for the process, on every config (reloads too):
     * tickets issued before a certificate rotation still resume after it. A
     * fleet's ring is filled by the store's thread or from --ticket-keys. */
    certa_ticket_keys *ring = NULL;
    if (o.ticket_key_file)
        ring = tkf_ring(o.ticket_key_file, owhy, sizeof owhy);
    else
        ring = certa_ticket_keys_new(rotation);
    int kr = ring ? certa_config_set_ticket_keys(cfg, ring) : CERTA_E_FILE;
    if (kr != CERTA_OK) {
        if (o.ticket_key_file)
            cli_err("serve: --ticket-keys: %s", ring ? certa_error_name(kr) : owhy);
        else
            cli_err("serve: session ticket keys: %s", certa_error_name(ring ? kr : CERTA_E_NOMEM));
        certa_ticket_keys_free(ring);
        certa_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    if (o.store &&
        store_start(o.store, ring, rotation, lifetime, "serve", owhy, sizeof owhy) != 0) {
        cli_err("serve: %s", owhy);
        store_stop();
        certa_ticket_keys_free(ring);
        certa_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    certa_ticket_keys *fleet_keys = o.ticket_key_file ? ring : NULL; /* reread in place */
    serve_ctx ctx = {.cfg = cfg,
                     .http = o.http,
                     .quiet = o.quiet,
                     .trace = o.trace,
                     .log_ja3 = o.log_ja3,
                     .ekm = o.ekm};
    pthread_mutex_init(&ctx.cfg_lock, NULL);
    if (cli_ocsp_start(&o.ocsp, &o.pairs, set_staple, &ctx, "serve", owhy, sizeof owhy) != 0) {
        cli_err("serve: %s", owhy);
        cli_ocsp_stop();
        store_stop();
        certa_ticket_keys_free(ring);
        certa_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    crl_target crl_to = {&ctx, &o};
    if (o.tls.crl_fetch &&
        cli_crl_fetch_start("serve", (const char *const *)o.pairs.cert, o.pairs.certs, crls_fetched,
                            &crl_to, owhy, sizeof owhy) != 0) {
        cli_err("serve: %s", owhy);
        cli_ocsp_stop();
        store_stop();
        certa_ticket_keys_free(ring);
        certa_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    cli_keylog keylog;
    if (!cli_keylog_open("serve", o.keylog, &keylog)) {
        cli_ocsp_stop();
        cli_crl_fetch_stop();
        store_stop();
        certa_ticket_keys_free(ring);
        certa_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    cli_keylog_attach(cfg, &keylog);
    ctx.keylog = &keylog; /* on every config a reload builds too */
    if (keylog.fd >= 0) {
        char warn[600];
        cli_keylog_warning(&keylog, warn, sizeof warn);
        cli_err("serve: warning: %s", warn);
    }

    cli_catch_stop_signals(on_signal);
    struct sigaction hup;
    memset(&hup, 0, sizeof hup);
    hup.sa_handler = on_hup;
    sigaction(SIGHUP, &hup, NULL);

    char where[128];
    int lfd = open_listener(&o, where, sizeof where);
    if (lfd < 0) {
        cli_ocsp_stop();
        cli_crl_fetch_stop();
        store_stop();
        certa_ticket_keys_free(ring);
        certa_config_free(cfg);
        cli_keylog_close(&keylog);
        return CLI_EXIT_FAIL;
    }
    char certs[400] = "";
    if (o.pairs.certs > 1 || o.sni_strict)
        snprintf(certs, sizeof certs, "; %zu certificate%s chosen by SNI, default %.200s%s",
                 o.pairs.certs, o.pairs.certs == 1 ? "" : "s", o.pairs.cert[0],
                 o.sni_strict ? ", strict: unknown names refused" : "");
    fprintf(stderr, "listening on %s (%s mode%s)\n", where, o.http ? "HTTP/1.1" : "echo", certs);

    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_JOINABLE);
    pthread_attr_setstacksize(&attr, 512 * 1024);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP); /* the main thread's: it wakes poll there */

    /* Certificates, keys, --client-ca and --sct files rebuild the config
     * (new handshakes get it, running ones keep theirs); --crl files swap
     * the CRL set in place; --ticket-keys are reread into the ring. Noticed
     * by inotify on their directories at once, by a stamp poll otherwise. */
    watch_set ws;
    memset(&ws, 0, sizeof ws);
    for (size_t i = 0; i < o.pairs.certs; i++) {
        watch_add(&ws, o.pairs.cert[i]);
        if (!cli_key_is_uri(o.pairs.key[i])) /* a token key: reloaded on SIGHUP only */
            watch_add(&ws, o.pairs.key[i]);
    }
    watch_add(&ws, o.client_ca);
    for (size_t i = 0; i < o.scts; i++)
        watch_add(&ws, o.sct[i]);
    size_t crl_from = ws.count;
    for (size_t i = 0; i < o.tls.crls; i++)
        watch_add(&ws, o.tls.crl[i]);
    size_t crl_end = ws.count;
    for (size_t i = 0; i < o.ocsp.files; i++) /* reread into the config in use */
        watch_add(&ws, o.ocsp.file[i]);
    size_t ocsp_end = ws.count;
    watch_add(&ws, o.ticket_key_file); /* last, when given */
    watch_snapshot(&ws);
    change_watch *cw = change_watch_new(&ws, CHANGE_WATCH_DEBOUNCE_MS, CHANGE_WATCH_POLL_MS);
    if (!cw) {
        cli_err("serve: out of memory");
        close(lfd);
        cli_ocsp_stop();
        cli_crl_fetch_stop();
        store_stop();
        certa_ticket_keys_free(ring);
        certa_config_free(cfg);
        return CLI_EXIT_FAIL;
    }
    if (!o.quiet && ws.count)
        fprintf(stderr, "serve: watching %zu file%s for changes (%s)\n", ws.count,
                ws.count == 1 ? "" : "s",
                change_watch_notifies(cw) ? "inotify on their directories, and polled every second"
                                          : "polled every second: inotify is off or unavailable");
    reload_retry rr;
    memset(&rr, 0, sizeof rr);

    unsigned long accepted = 0;
    bool svid_new = false; /* the Workload API sent an SVID: a new config */
    while (!g_stop && (o.max_conns == 0 || accepted < (unsigned long)o.max_conns)) {
        reap_threads();
        char which[600];
        size_t changed = change_watch_check(cw, cli_now_ms(), which, sizeof which);
        bool rebuild = false, crls = false, staples = false, keys = false;
        for (size_t i = 0; changed && i < ws.count; i++) {
            if (!ws.changed[i]) continue;
            if (i < crl_from)
                rebuild = true;
            else if (i < crl_end)
                crls = true;
            else if (i < ocsp_end)
                staples = true;
            else
                keys = true;
        }
        if (g_hup) {
            g_hup = 0;
            fprintf(stderr, "serve: SIGHUP: reloading every file\n");
            watch_changed(&ws, which, sizeof which); /* read now, whatever changed */
            snprintf(which, sizeof which, "(SIGHUP)");
            rebuild = true;
            keys = o.ticket_key_file != NULL;
        }
        if (svid_new) {
            svid_new = false;
            if (!rebuild) snprintf(which, sizeof which, "(SPIFFE Workload API update)");
            rebuild = true;
            /* New anchors (a federated CA rotated out, say): a peer verified
             * under the old ones must not come back through a ticket, so the
             * new config gets new ticket keys (a fleet's ring is not ours). */
            certa_ticket_keys *fresh = NULL;
            if (spiffe_source_trust_changed(o.spiffe) && !o.client_ca && !o.ticket_key_file &&
                !o.store && (fresh = certa_ticket_keys_new(rotation)) != NULL) {
                certa_ticket_keys_free(ring); /* configs in use keep theirs */
                ring = fresh;
            }
        }
        if (rebuild) {
            reload_config(&ctx, &o, ring, which, &rr); /* the CRLs are read anew too */
        } else if (reload_retry_due(&rr, cli_now_ms())) {
            reload_config(&ctx, &o, ring, "(retry)", &rr);
        } else if (crls) {
            reload_crls(ctx.cfg, &o, which); /* only this thread swaps ctx.cfg */
        }
        if (staples && !rebuild) cli_ocsp_files_changed(); /* a rebuild rereads them too */
        if (keys) {
            if (tkf_load(o.ticket_key_file, fleet_keys, owhy, sizeof owhy) == 0)
                fprintf(stderr, "serve: %s changed: reread the ticket keys (%zu)\n",
                        o.ticket_key_file, certa_ticket_keys_count(fleet_keys));
            else
                fprintf(stderr, "serve: %s changed but %s; keeping the previous keys\n",
                        o.ticket_key_file, owhy);
        }
        int64_t now = cli_now_ms();
        int wait = reload_retry_timeout_ms(&rr, now, change_watch_timeout_ms(cw, now));
        if (wait > TICK_MS) wait = TICK_MS;
        pthread_mutex_lock(&g_lock);
        bool full = g_active >= MAX_ACTIVE;
        pthread_mutex_unlock(&g_lock);
        /* Full: wait for a slot (the kernel queues new clients meanwhile),
         * still noticing file changes. */
        struct pollfd p[3] = {
            {.fd = full ? -1 : lfd, .events = POLLIN, .revents = 0},
            {.fd = change_watch_fd(cw), .events = POLLIN, .revents = 0},
            {.fd = o.spiffe ? spiffe_source_fd(o.spiffe) : -1, .events = POLLIN, .revents = 0}};
        int pr = poll(p, 3, wait);
        if (pr > 0 && (p[2].revents & POLLIN)) svid_new = true;
        if (pr <= 0 || !(p[0].revents & POLLIN)) continue; /* re-check g_stop and the files */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOMEM || errno == ENOBUFS) {
                cli_err("serve: accept: %s (waiting)", strerror(errno));
                struct timespec ts = {0, 100 * 1000000L};
                nanosleep(&ts, NULL);
            }
            continue;
        }
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        accepted++;
        conn_job *job = calloc(1, sizeof *job);
        if (!job || cli_set_nonblocking(fd) < 0) {
            cli_err("serve: cannot take connection #%lu: %s", accepted,
                    job ? strerror(errno) : "out of memory");
            free(job);
            close(fd);
            continue;
        }
        job->ctx = &ctx;
        job->id = accepted;
        job->fd = fd;
        job->link.fd = fd;
        cli_format_addr((struct sockaddr *)&ss, sl, job->peer, sizeof job->peer);
        pthread_mutex_lock(&g_lock);
        g_active++;
        pthread_mutex_unlock(&g_lock);
        pthread_t t;
        pthread_sigmask(SIG_BLOCK, &block, &old);
        int err = pthread_create(&t, &attr, conn_thread, job);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (err) {
            cli_err("serve: cannot start a thread for connection #%lu: %s", accepted,
                    strerror(err));
            close(fd);
            free(job);
            pthread_mutex_lock(&g_lock);
            g_active--;
            pthread_mutex_unlock(&g_lock);
        }
    }
    close(lfd);
    pthread_attr_destroy(&attr);

    /* Let running connections finish (they watch g_stop and their timeouts). */
    pthread_mutex_lock(&g_lock);
    while (g_active > 0)
        pthread_cond_wait(&g_cond, &g_lock);
    pthread_mutex_unlock(&g_lock);
    reap_threads(); /* every thread has fully exited before the process does */
    change_watch_free(cw);
    cli_ocsp_stop();
    cli_crl_fetch_stop();
    store_stop();
    certa_config_free(ctx.cfg); /* the one in use: earlier ones went with their connections */
    certa_ticket_keys_free(ring);
    pthread_mutex_destroy(&ctx.cfg_lock);
    cli_keylog_close(&keylog);
    if (!o.quiet || g_stop)
        fprintf(stderr, "certa serve: stopped after %lu connection%s%s\n", accepted,
                accepted == 1 ? "" : "s", g_stop ? " (signal)" : "");
    return CLI_EXIT_OK;
}
int cmd_serve(int argc, char **argv) {
    serve_opts o;
    memset(&o, 0, sizeof o);
    int rc = serve_run(argc, argv, &o);
    spiffe_source_stop(o.spiffe); /* after every connection: none uses an SVID any more */
    return rc;
}

_Static_assert(WATCH_MAX >= 4 * CLI_MAX_PAIRS + CLI_MAX_CRLS + 2, "every watched file fits");
