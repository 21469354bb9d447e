/* certa diagnose HOST:PORT: connect to an endpoint, say why a handshake
 * fails or what is weak when it succeeds, and how to fix it. Options and
 * the order of the probes; each connection counts against --max-conns and
 * they are made one after the other, never in parallel. */
#include "diagnose/diagnose.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_TIMEOUT_MS 5000
#define DEFAULT_MAX_CONNS 30

#define G_CONN "connection"
#define G_PROTO "protocols"
#define G_GROUPS "key exchange"
#define G_ALPN "application protocols (ALPN)"
#define G_RESUME "resumption and 0-RTT"
#define G_CLIENT "client certificates"
#define G_REVOC "OCSP stapling"
#define G_ROBUST "robustness and downgrade protection"

static void diagnose_usage(FILE *out) {
    fputs("usage: certa diagnose HOST:PORT [options]\n"
          "\n"
          "Probes the endpoint and reports findings (ok, info, warn, fail), each with\n"
          "its evidence, cause and fix: versions (TLS 1.3, 1.2; SSLv3, TLS 1.0, 1.1),\n"
          "cipher suites and the server's preference, groups (post-quantum hybrids,\n"
          "HelloRetryRequest), the chain as sent, validation, expiry, OCSP staple, ALPN,\n"
          "resumption and 0-RTT, client-certificate requests, downgrade protection,\n"
          "renegotiation, TLS 1.2 groups and signature schemes (TLS 1.2 and 1.3).\n"
          "\n"
          "  --servername NAME   name to send (SNI) and to verify (default: HOST)\n"
          "  --trust FILE|DIR    trust anchors to validate against (default: the system\n"
          "                      bundle)\n"
          "  --cert FILE --key FILE  a client certificate, for a server requiring one\n"
          "                      (--key may be a pkcs11: URI: see certa connect)\n"
          "  --json              the report as JSON (docs/diagnose.schema.json)\n"
          "  --max-conns N       at most N connections, one at a time (default 30)\n"
          "  --timeout SEC       per connection (default 5)\n"
          "\n"
          "exit status: 0 no fail finding, 1 at least one, 2 could not run\n",
          out);
}

bool diag_budget_left(const diag_ctx *ctx, unsigned n) {
    return ctx->used_conns + n <= ctx->max_conns;
}

bool diag_list_budget_left(const diag_ctx *ctx) {
    return diag_budget_left(ctx, 1 + LIST_RESERVE);
}

void diag_skip(diag_ctx *ctx, const char *what) {
    ctx->skipped++;
    if (strstr(ctx->skipped_what, what)) return;
    size_t n = strlen(ctx->skipped_what);
    snprintf(ctx->skipped_what + n, sizeof ctx->skipped_what - n, "%s%s", n ? ", " : "", what);
}

void diag_progress(diag_ctx *ctx, const char *what) {
    if (!ctx->progress) return;
    fprintf(stderr, "\r\033[K[%u/%u] %s ...", ctx->used_conns, ctx->max_conns, what);
    fflush(stderr);
}

static int connect_one(const struct sockaddr *sa, socklen_t len, int timeout_ms, int *err) {
    int s = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        *err = errno;
        return -1;
    }
    int fl = fcntl(s, F_GETFL);
    (void)fcntl(s, F_SETFL, fl | O_NONBLOCK);
    int r = connect(s, sa, len);
    if (r < 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = s, .events = POLLOUT, .revents = 0};
        int64_t end = cli_now_ms() + timeout_ms;
        for (;;) {
            int64_t left = end - cli_now_ms();
            int pr = left > 0 ? poll(&p, 1, (int)left) : 0;
            if (pr < 0 && errno == EINTR) continue;
            if (pr == 0) {
                *err = ETIMEDOUT;
                close(s);
                return -1;
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (pr < 0 || getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) soerr = errno;
            r = soerr ? -1 : 0;
            errno = soerr;
            break;
        }
    }
    if (r < 0) {
        *err = errno;
        close(s);
        return -1;
    }
    (void)fcntl(s, F_SETFL, fl);
    return s;
}

int diag_connect(diag_ctx *ctx, int64_t *tcp_ms, char *why, size_t cap) {
    if (!diag_budget_left(ctx, 1)) {
        ctx->skipped++;
        snprintf(why, cap, "the --max-conns budget of %u connections is spent", ctx->max_conns);
        return -2;
    }
    int err = 0;
    int64_t t0 = cli_now_ms();
    if (ctx->addr_len == 0) {
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_socktype = SOCK_STREAM;
        int gai = getaddrinfo(ctx->host, ctx->port, &hints, &res);
        if (gai != 0) {
            snprintf(why, cap, "cannot resolve '%s': %s", ctx->host, gai_strerror(gai));
            return -1;
        }
        int fd = -1;
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            if (!diag_budget_left(ctx, 1)) break;
            ctx->used_conns++;
            fd = connect_one(ai->ai_addr, ai->ai_addrlen, ctx->timeout_ms, &err);
            cli_format_addr(ai->ai_addr, ai->ai_addrlen, ctx->address, sizeof ctx->address);
            if (fd >= 0) {
                memcpy(&ctx->addr, ai->ai_addr, ai->ai_addrlen);
                ctx->addr_len = ai->ai_addrlen;
            }
        }
        freeaddrinfo(res);
        if (fd < 0) {
            snprintf(why, cap, "cannot connect to %s: %s", ctx->target,
                     err == ETIMEDOUT ? "no answer in time" : strerror(err));
            return -1;
        }
        ctx->first_tcp_ms = cli_now_ms() - t0;
        if (tcp_ms) *tcp_ms = ctx->first_tcp_ms;
        return fd;
    }
    ctx->used_conns++;
    int fd = connect_one((const struct sockaddr *)&ctx->addr, ctx->addr_len, ctx->timeout_ms, &err);
    if (fd < 0) {
        snprintf(why, cap, "cannot connect to %s: %s", ctx->address,
                 err == ETIMEDOUT ? "no answer in time" : strerror(err));
        return -1;
    }
    if (tcp_ms) *tcp_ms = cli_now_ms() - t0;
    return fd;
}

typedef struct diag_opts {
    diag_ctx ctx;
    bool json;
} diag_opts;

/* Returns -1 to go on, or an exit code. */
static int parse_args(int argc, char **argv, diag_opts *o) {
    diag_ctx *c = &o->ctx;
    c->timeout_ms = DEFAULT_TIMEOUT_MS;
    c->max_conns = DEFAULT_MAX_CONNS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m;
        long n;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            diagnose_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--servername", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!*v || strlen(v) > 253) {
                cli_err("diagnose: --servername must be a host name of 1 to 253 characters");
                return CLI_EXIT_USAGE;
            }
            c->servername = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--trust", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            c->trust_path = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--cert", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            c->cert = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--key", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            c->key = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--max-conns", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!cli_parse_long(v, 1, 1000, &n)) {
                cli_err("diagnose: --max-conns wants a number of connections from 1 to 1000, "
                        "not '%s'",
                        v);
                return CLI_EXIT_USAGE;
            }
            c->max_conns = (unsigned)n;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--timeout", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!cli_parse_seconds(v, &c->timeout_ms) || c->timeout_ms <= 0) {
                cli_err("diagnose: --timeout wants a number of seconds above 0, not '%s'", v);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (a[0] == '-' && a[1]) {
            cli_err("diagnose: unknown option '%s' (see certa diagnose --help)", a);
            return CLI_EXIT_USAGE;
        }
        if (c->target) {
            cli_err("diagnose: one HOST:PORT only ('%s' and '%s' given)", c->target, a);
            return CLI_EXIT_USAGE;
        }
        c->target = a;
    }
    if (!c->target) {
        cli_err("diagnose: which endpoint? give HOST:PORT");
        diagnose_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!cli_split_host_port(c->target, c->host, sizeof c->host, c->port, sizeof c->port, "443") ||
        !strcmp(c->port, "0")) {
        cli_err("diagnose: '%s' is not HOST:PORT (write IPv6 addresses as [::1]:PORT; the port "
                "is 1 to 65535)",
                c->target);
        return CLI_EXIT_USAGE;
    }
    if (!c->cert != !c->key) {
        cli_err("diagnose: a client certificate needs both --cert FILE and --key FILE");
        return CLI_EXIT_USAGE;
    }
    if (!c->servername && !cli_is_ip_literal(c->host)) c->servername = c->host;
    return -1;
}

static const char *version_label(uint16_t v) {
    return cli_version_name(v);
}

/* The first handshake failed: say why in the library's words. */
static void handshake_failed(diag_report *r, const tls_probe *p) {
    char alert[96] = "no alert";
    if (p->alert_received != 255)
        snprintf(alert, sizeof alert, "alert %s from the server",
                 certa_alert_name(p->alert_received));
    else if (p->alert_sent != 255)
        snprintf(alert, sizeof alert, "alert %s sent", certa_alert_name(p->alert_sent));
    diag_addf(r, "TLS-HANDSHAKE", G_CONN, SEV_FAIL, "no TLS 1.2 or 1.3 handshake completes",
              p->error_text, NULL, "%s (%s)", p->error_name, alert);
}

static void protocols(diag_ctx *ctx, diag_report *r, const tls_probe *main_p, bool *tls13,
                      bool *tls12, uint16_t *sig12) {
    *tls13 = main_p->done && main_p->info.version == CERTA_TLS13;
    *tls12 = main_p->done && main_p->info.version == CERTA_TLS12;
    if (*tls13) {
        diag_add(r, "PROTO-TLS13", G_PROTO, SEV_OK, "TLS 1.3 is supported",
                 "a TLS 1.2-or-1.3 client got TLS 1.3", NULL, NULL);
        tls_probe p12 = {.min_version = CERTA_TLS12, .max_version = CERTA_TLS12};
        diag_progress(ctx, "TLS 1.2");
        if (tls_probe_run(ctx, &p12)) {
            /* A handshake that got as far as a 1.2 ServerHello counts, even if
             * something after it (a certificate) failed. */
            *tls12 = p12.done || p12.info.version == CERTA_TLS12 || p12.chain_len > 0;
            *sig12 = p12.info.peer_sig_scheme;
            if (*tls12)
                diag_add(r, "PROTO-TLS12", G_PROTO, SEV_INFO, "TLS 1.2 is supported too",
                         "a TLS 1.2-only client completed a handshake", NULL, NULL);
            else
                diag_addf(r, "PROTO-TLS12", G_PROTO, SEV_INFO, "TLS 1.2 is not supported", NULL,
                          NULL, "a TLS 1.2-only client was refused: %s", p12.error_text);
        }
        tls_probe_clear(&p12);
    } else if (*tls12) {
        diag_add(r, "PROTO-TLS13", G_PROTO, SEV_WARN, "TLS 1.3 is not supported",
                 "a client offering TLS 1.3 and 1.2 got TLS 1.2",
                 "TLS 1.3 is faster (one round trip less), always forward secret and encrypts "
                 "the certificate",
                 "enable TLS 1.3 on the server (nginx: ssl_protocols TLSv1.2 TLSv1.3)");
        diag_add(r, "PROTO-TLS12", G_PROTO, SEV_INFO, "TLS 1.2 is supported",
                 "the handshake used TLS 1.2", NULL, NULL);
        *sig12 = main_p->info.peer_sig_scheme;
    }
}

static void alpn_probes(diag_ctx *ctx, diag_report *r) {
    static const char *const protos[] = {"h2", "http/1.1"};
    char seen[256] = "";
    int accepted = 0, refused = 0, ignored = 0;
    for (size_t i = 0; i < 2; i++) {
        if (!diag_budget_left(ctx, 1)) {
            ctx->skipped++;
            return;
        }
        tls_probe p = {.alpn = protos[i]};
        diag_progress(ctx, "ALPN");
        if (!tls_probe_run(ctx, &p)) return;
        const char *what;
        if (p.done && p.info.alpn && !strcmp(p.info.alpn, protos[i])) {
            what = "accepted";
            accepted++;
        } else if (p.error == CERTA_E_NO_ALPN || p.alert_received == 120) {
            what = "refused (no_application_protocol)";
            refused++;
        } else if (p.done && !p.info.alpn) {
            what = "not negotiated (the server ignores ALPN)";
            ignored++;
        } else {
            what = "the handshake failed";
        }
        snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s%s: %s", i ? "; " : "",
                 protos[i], what);
        tls_probe_clear(&p);
    }
    if (accepted)
        diag_add(r, "ALPN", G_ALPN, SEV_INFO, "application protocols the server accepts", seen,
                 NULL, NULL);
    else if (refused)
        diag_add(r, "ALPN-NO-OVERLAP", G_ALPN, SEV_WARN,
                 "the server accepts neither h2 nor http/1.1", seen,
                 "browsers and HTTP clients offer only these: the server ends their handshakes "
                 "with no_application_protocol",
                 "add h2 and/or http/1.1 to the server's ALPN list (or do not require ALPN)");
    else if (ignored == 2)
        diag_add(r, "ALPN", G_ALPN, SEV_INFO, "the server does not negotiate ALPN", seen, NULL,
                 NULL);
}

static void resumption(diag_ctx *ctx, diag_report *r, certa_config *cfg, const tls_probe *first) {
    if (!first->got_ticket) {
        diag_add(r, "RESUMPTION", G_RESUME, SEV_INFO, "no session ticket",
                 "the server sent no NewSessionTicket within 300 ms of the handshake: every "
                 "connection is a full handshake",
                 NULL, NULL);
        return;
    }
    if (!diag_budget_left(ctx, 1)) {
        ctx->skipped++;
        return;
    }
    tls_probe p = {.cfg = cfg, .early_data = true, .client_cert = true};
    diag_progress(ctx, "resumption");
    if (!tls_probe_run(ctx, &p)) return;
    if (p.done && p.info.resumed)
        diag_addf(r, "RESUMPTION", G_RESUME, SEV_OK, "session resumption works", NULL, NULL,
                  "a ticket (lifetime hint %u s) was offered on the next connection and "
                  "accepted",
                  first->ticket_lifetime);
    else
        diag_addf(r, "RESUMPTION", G_RESUME, SEV_WARN, "session tickets are sent but not accepted",
                  "every client pays a full handshake although it holds a ticket",
                  "check that the ticket keys are shared by every server behind the address "
                  "and not rotated too fast",
                  "a ticket (lifetime hint %u s) was offered and %s", first->ticket_lifetime,
                  p.done ? "declined (full handshake)" : "the handshake failed");
    if (!p.early_sent)
        diag_add(r, "EARLY-DATA", G_RESUME, SEV_INFO, "0-RTT is not offered",
                 "the server's tickets do not allow early data", NULL, NULL);
    else if (p.info.early_data_accepted)
        diag_add(r, "EARLY-DATA", G_RESUME, SEV_INFO, "0-RTT early data is accepted",
                 "2 bytes of early data were accepted: it can be replayed, so the application "
                 "must only act on requests that are safe to repeat",
                 NULL, NULL);
    else
        diag_add(r, "EARLY-DATA", G_RESUME, SEV_INFO, "0-RTT early data is rejected",
                 "the ticket allowed early data, the server rejected it", NULL, NULL);
    tls_probe_clear(&p);
}

/* A client-initiated renegotiation after a TLS 1.2 handshake
 * (certa_conn_probe_renegotiation): refused is ok, accepted a warning
 * (secure) or a failure (insecure). */
static void renegotiation(diag_ctx *ctx, diag_report *r) {
    if (!diag_budget_left(ctx, 1)) {
        diag_skip(ctx, "renegotiation");
        return;
    }
    tls_probe p = {.min_version = CERTA_TLS12, .max_version = CERTA_TLS12, .renegotiate = true};
    diag_progress(ctx, "renegotiation");
    if (!tls_probe_run(ctx, &p) || !p.reneg_sent) {
        tls_probe_clear(&p);
        return;
    }
    switch (p.reneg_error) {
    case CERTA_E_RENEGOTIATION_ACCEPTED:
        diag_add(r, "RENEGOTIATION", G_ROBUST, SEV_WARN,
                 "the server accepts client-initiated renegotiation (secure, RFC 5746)",
                 "after a TLS 1.2 handshake, a renegotiation ClientHello was answered with a "
                 "ServerHello proving both Finished messages",
                 "any client can make the server redo the expensive half of a handshake over "
                 "and over on one connection: a denial-of-service lever",
                 "refuse client-initiated renegotiation (OpenSSL 3 does by default; openssl "
                 "s_server: drop -client_renegotiation; nginx and certa never allow it)");
        break;
    case CERTA_E_RENEGOTIATION_INSECURE:
        diag_add(r, "RENEGOTIATION", G_ROBUST, SEV_FAIL,
                 "the server accepts an insecure renegotiation",
                 "after a TLS 1.2 handshake, a renegotiation ClientHello was answered with a "
                 "ServerHello lacking RFC 5746's proof of the first handshake",
                 "a man in the middle can splice his own handshake in front of a victim's "
                 "(CVE-2009-3555)",
                 "update the server's TLS library and refuse renegotiation");
        break;
    case CERTA_E_RENEGOTIATION_REFUSED:
        diag_addf(r, "RENEGOTIATION", G_ROBUST, SEV_OK, "client-initiated renegotiation is refused",
                  NULL, NULL, "after a TLS 1.2 handshake, a renegotiation ClientHello: %s",
                  p.reneg_text);
        break;
    case CERTA_OK:
        diag_addf(r, "RENEGOTIATION", G_ROBUST, SEV_INFO, "no answer to a renegotiation attempt",
                  NULL, NULL,
                  "after a TLS 1.2 handshake, a renegotiation ClientHello got no answer within "
                  "%d ms (neither refused nor accepted)",
                  ctx->timeout_ms);
        break;
    default:
        diag_addf(r, "RENEGOTIATION", G_ROBUST, SEV_OK, "client-initiated renegotiation is refused",
                  NULL, NULL,
                  "after a TLS 1.2 handshake, a renegotiation ClientHello ended the connection: "
                  "%s",
                  p.reneg_text);
    }
    tls_probe_clear(&p);
}

static void client_auth(const diag_ctx *ctx, diag_report *r, const tls_probe *p) {
    if (!p->cert_requested) return;
    bool refused = p->error == CERTA_E_CERTIFICATE_REQUIRED || p->alert_received == 116 ||
                   p->alert_received == 40 || p->alert_received == 42;
    /* " (2): CN=a; CN=b" or ": none named", as the trace says it */
    const char *cas = p->ca_names[0] ? p->ca_names : ": not seen";
    if (ctx->cert)
        diag_addf(r, "CLIENT-AUTH", G_CLIENT, SEV_INFO, "the server asks for a client certificate",
                  NULL, NULL, "the --cert certificate was %s; certificate authorities%s",
                  p->done && !p->error ? "accepted" : "refused", cas);
    else if (refused)
        diag_addf(r, "CLIENT-AUTH-REQUIRED", G_CLIENT, SEV_WARN,
                  "the server requires a client certificate",
                  "clients without a certificate from the CAs it trusts are refused, and the "
                  "probes after the handshake could not run",
                  "give certa diagnose --cert FILE --key FILE to look past it",
                  "a CertificateRequest came (certificate authorities%s), and our empty "
                  "Certificate was answered with: %s",
                  cas, p->error_text);
    else
        diag_addf(r, "CLIENT-AUTH", G_CLIENT, SEV_INFO,
                  "the server asks for an optional client certificate", NULL, NULL,
                  "a CertificateRequest came (certificate authorities%s), and the handshake went "
                  "on without one",
                  cas);
}

static void staple(diag_report *r, const tls_probe *seen, const tls_probe *ver) {
    if (!seen->staple_seen && !ver->staple_seen) {
        diag_add(r, "OCSP-STAPLE", G_REVOC, SEV_INFO, "no OCSP staple",
                 "the server sent no OCSP response with its certificate: clients must ask the "
                 "CA themselves (or do not check)",
                 NULL, NULL);
        return;
    }
    if (ver->staple_good) {
        diag_add(r, "OCSP-STAPLE", G_REVOC, SEV_OK, "a valid OCSP staple", ver->staple_text, NULL,
                 NULL);
    } else if (ver->error == CERTA_E_CERT_STATUS || ver->error == CERTA_E_CERT_REVOKED) {
        diag_add(r, "OCSP-STAPLE-INVALID", G_REVOC, SEV_FAIL, "the OCSP staple is refused",
                 certa_error_name(ver->error), ver->error_text, NULL);
    } else if (strstr(ver->revocation_note, "OCSP staple")) {
        diag_add(r, "OCSP-STAPLE-INVALID", G_REVOC, SEV_FAIL,
                 "the OCSP staple gives no status (expired or unknown)", ver->revocation_note,
                 "clients that require revocation status (and every client of a must-staple "
                 "certificate) refuse the connection",
                 "have the server fetch a fresh OCSP response before the old one's nextUpdate "
                 "(certa serve --ocsp-fetch, nginx ssl_stapling on)");
    } else {
        diag_add(r, "OCSP-STAPLE", G_REVOC, SEV_INFO, "an OCSP staple, not checked",
                 "the chain did not validate, so the staple could not be judged", NULL, NULL);
    }
}

int cmd_diagnose(int argc, char **argv) {
    diag_opts o;
    memset(&o, 0, sizeof o);
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    diag_ctx *ctx = &o.ctx;
    ctx->progress = isatty(STDERR_FILENO);
    ctx->trust = certa_trust_new();
    if (!ctx->trust) {
        cli_err("out of memory");
        return CLI_EXIT_USAGE;
    }
    int tr = ctx->trust_path ? certa_trust_load(ctx->trust, ctx->trust_path)
                             : certa_trust_load_system(ctx->trust);
    if (tr != CERTA_OK) {
        const char *t = certa_trust_error_text(ctx->trust);
        cli_err("diagnose: --trust %s: %s", ctx->trust_path ? ctx->trust_path : "(system bundle)",
                *t ? t : certa_error_text(tr));
        certa_trust_free(ctx->trust);
        return CLI_EXIT_USAGE;
    }
    int64_t t0 = cli_now_ms();
    diag_report r = {0};
    diag_meta m = {.target = ctx->target,
                   .servername = ctx->servername,
                   .started = (int64_t)time(NULL),
                   .max_connections = ctx->max_conns};

    /* 1. The first handshake, insecure so any chain is seen; its config
     *    keeps the tickets for the resumption probe. */
    tls_probe first = {.wait_tickets = true, .client_cert = true, .alpn = "h2,http/1.1"};
    char why[512];
    certa_config *resume_cfg = tls_probe_config(ctx, &first, why, sizeof why);
    if (!resume_cfg) {
        cli_err("diagnose: %s", why);
        certa_trust_free(ctx->trust);
        return CLI_EXIT_USAGE;
    }
    certa_config_set_max_early_data(resume_cfg, 1024);
    first.cfg = resume_cfg;
    diag_progress(ctx, "connecting");
    bool ran = tls_probe_run(ctx, &first);
    if (!ran) {
        diag_addf(&r, "CONN-TCP", G_CONN, SEV_FAIL, "the endpoint cannot be reached", NULL,
                  "check the host, the port and any firewall in between", "%s", first.error_text);
        rc = CLI_EXIT_USAGE;
        goto report;
    }
    if (!first.done && first.alert_received == 120 && diag_budget_left(ctx, 1)) {
        /* no_application_protocol: the rest is worth seeing without ALPN
         * (the ALPN probes say what is wrong with it). */
        tls_probe_clear(&first);
        certa_config_free(resume_cfg);
        first = (tls_probe){.wait_tickets = true, .client_cert = true};
        resume_cfg = tls_probe_config(ctx, &first, why, sizeof why);
        if (resume_cfg) {
            certa_config_set_max_early_data(resume_cfg, 1024);
            first.cfg = resume_cfg;
            tls_probe_run(ctx, &first);
        }
    }
    m.tcp_ms = ctx->first_tcp_ms;
    diag_addf(&r, "CONN-TCP", G_CONN, SEV_OK, "the endpoint is reachable", NULL, NULL,
              "TCP connect to %s in %lld ms; first handshake in %lld ms", ctx->address,
              (long long)first.tcp_ms, (long long)first.handshake_ms);
    if (!first.done && first.chain_len == 0) handshake_failed(&r, &first);
    if (first.error == CERTA_E_TIMEOUT && first.chain_len == 0) {
        /* A server that says nothing would make every probe wait as long. */
        rc = CLI_EXIT_FAIL;
        goto report;
    }

    /* 2. Versions, the engine's view of groups and signatures. */
    bool tls13 = false, tls12 = false;
    uint16_t sig12 = 0;
    protocols(ctx, &r, &first, &tls13, &tls12, &sig12);
    if (first.done) {
        if (first.info.version == CERTA_TLS13) {
            if (first.info.hello_retry)
                diag_addf(&r, "GROUPS-HRR", G_GROUPS, SEV_WARN,
                          "the server forces a HelloRetryRequest",
                          "a client sending X25519MLKEM768 and x25519 shares pays an extra round "
                          "trip on every connection",
                          "let the server accept x25519 (or X25519MLKEM768) without asking "
                          "again",
                          "the key shares offered were refused; the server asked for %s",
                          certa_group_name(first.info.group));
            else
                diag_addf(&r, "GROUPS-HRR", G_GROUPS, SEV_OK,
                          "no HelloRetryRequest for a usual client", NULL, NULL,
                          "the server took the %s share at once",
                          certa_group_name(first.info.group));
        }
        char sigs[160];
        snprintf(sigs, sizeof sigs, "%s: %s%s%s", version_label(first.info.version),
                 certa_sig_scheme_name(first.info.peer_sig_scheme),
                 sig12 && first.info.version == CERTA_TLS13 ? "; TLS 1.2: " : "",
                 sig12 && first.info.version == CERTA_TLS13 ? certa_sig_scheme_name(sig12) : "");
        diag_add(&r, "SIG-SCHEMES", G_GROUPS, SEV_INFO, "signature schemes the server signed with",
                 sigs, NULL, NULL);
    }
    client_auth(ctx, &r, &first);

    /* 3. The chain as sent and the certificate. */
    chain_analyse(ctx, &r, &first);

    /* 4. The library's own verdict (and the staple), verifying. */
    tls_probe ver = {.verify = true, .client_cert = true};
    if (first.chain_len && diag_budget_left(ctx, 1)) {
        diag_progress(ctx, "validation");
        tls_probe_run(ctx, &ver);
        staple(&r, &first, &ver);
    }
    tls_probe_clear(&ver);

    /* 5. ALPN, resumption. */
    if (first.done || first.chain_len) alpn_probes(ctx, &r);
    if (first.done) resumption(ctx, &r, resume_cfg, &first);

    /* 6. On the wire; then TLS 1.2 groups and signature schemes, with what
     *    the budget leaves. */
    if (tls12) renegotiation(ctx, &r);
    raw_probes(ctx, &r, tls13, tls12 || !first.done);
    certa_cert_details leaf;
    bool leaf_known = first.chain_len &&
                      certa_cert_inspect(first.chain[0], first.chain_lens[0], &leaf) == CERTA_OK;
    groups_sigs_probes(ctx, &r, tls13, tls12 || (!first.done && ctx->hello_answered),
                       leaf_known ? leaf.key_type : NULL,
                       first.done && first.info.version == CERTA_TLS13 ? first.info.peer_sig_scheme
                                                                       : 0);
    if (ctx->skipped)
        diag_addf(&r, "BUDGET", G_CONN, SEV_INFO, "some probes did not run", NULL, NULL,
                  "%u probe%s skipped%s%s%s: the --max-conns budget of %u connections was spent",
                  ctx->skipped, ctx->skipped == 1 ? "" : "s", ctx->skipped_what[0] ? " (" : "",
                  ctx->skipped_what, ctx->skipped_what[0] ? ")" : "", ctx->max_conns);
    rc = diag_has(&r, SEV_FAIL) ? CLI_EXIT_FAIL : CLI_EXIT_OK;

report:
    if (ctx->progress) fputs("\r\033[K", stderr);
    m.address = ctx->address[0] ? ctx->address : ctx->target;
    m.connections = ctx->used_conns;
    m.duration_ms = cli_now_ms() - t0;
    if (o.json) {
        if (!diag_print_json(stdout, &r, &m)) {
            cli_err("diagnose: out of memory");
            rc = CLI_EXIT_USAGE;
        }
    } else {
        diag_print_text(stdout, &r, &m);
    }
    tls_probe_clear(&first);
    certa_config_free(resume_cfg);
    diag_report_free(&r);
    certa_trust_free(ctx->trust);
    return rc;
}
