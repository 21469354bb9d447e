/* Small helpers shared by the certa subcommands. */
#include "common/cli_common.h"
#include "revocation/ct_logs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

void cli_err(const char *fmt, ...) {
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "certa: %s\n", line);
}

int cli_opt(int argc, char **argv, int *i, const char *name, const char **val) {
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != 0) return 0;
    if (*i + 1 >= argc) {
        cli_err("%s needs a value", name);
        return -1;
    }
    *i += 1;
    *val = argv[*i];
    return 1;
}

int64_t cli_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool cli_parse_long(const char *s, long min, long max, long *out) {
    if (!s || !*s) return false;
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !end || *end || v < min || v > max) return false;
    *out = v;
    return true;
}

bool cli_parse_seconds(const char *s, int *out_ms) {
    if (!s || !*s) return false;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || !end || *end || !isfinite(v) || v <= 0 || v > 86400) return false;
    long ms = (long)(v * 1000.0);
    *out_ms = ms < 1 ? 1 : (int)ms;
    return true;
}

static bool copy_str(char *dst, size_t cap, const char *src, size_t len) {
    if (len + 1 > cap) return false;
    memcpy(dst, src, len);
    dst[len] = 0;
    return true;
}

bool cli_split_host_port(const char *arg, char *host, size_t host_cap, char *port, size_t port_cap,
                         const char *default_port) {
    if (!arg || !*arg) return false;
    const char *port_str = NULL;
    if (arg[0] == '[') {
        const char *close = strchr(arg, ']');
        if (!close || close == arg + 1) return false;
        if (!copy_str(host, host_cap, arg + 1, (size_t)(close - arg - 1))) return false;
        if (close[1] == ':')
            port_str = close + 2;
        else if (close[1] != 0)
            return false;
    } else {
        const char *colon = strrchr(arg, ':');
        if (colon && strchr(arg, ':') != colon) {
            /* Several colons without brackets: a bare IPv6 literal, no port. */
            if (!copy_str(host, host_cap, arg, strlen(arg))) return false;
        } else if (colon) {
            if (colon == arg) return false;
            if (!copy_str(host, host_cap, arg, (size_t)(colon - arg))) return false;
            port_str = colon + 1;
        } else {
            if (!copy_str(host, host_cap, arg, strlen(arg))) return false;
        }
    }
    if (!port_str) {
        if (!default_port) return false;
        port_str = default_port;
    }
    long p;
    if (!cli_parse_long(port_str, 0, 65535, &p)) return false;
    snprintf(port, port_cap, "%ld", p);
    return true;
}

bool cli_is_ip_literal(const char *s) {
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

void cli_format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t cap) {
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(out, cap, "%s:%u", ip, ntohs(in->sin_port));
    } else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
        snprintf(out, cap, "[%s]:%u", ip, ntohs(in6->sin6_port));
    } else {
        snprintf(out, cap, "(unknown address)");
    }
}

void cli_format_time(int64_t t, char *out, size_t cap) {
    time_t tt = (time_t)t;
    struct tm tm;
    if ((int64_t)tt != t || !gmtime_r(&tt, &tm)) {
        snprintf(out, cap, "(time %lld)", (long long)t);
        return;
    }
    strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

const char *cli_version_name(uint16_t version) {
    switch (version) {
    case CERTA_TLS13:
        return "TLSv1.3";
    case CERTA_TLS12:
        return "TLSv1.2";
    case 0:
        return "(none)";
    default:
        return "unknown";
    }
}

void cli_describe_alert(const certa_conn *conn, char *out, size_t cap) {
    uint8_t sent = certa_conn_alert_sent(conn);
    uint8_t recvd = certa_conn_alert_received(conn);
    if (sent != 255)
        snprintf(out, cap, "alert %s", certa_alert_name(sent));
    else if (recvd != 255)
        snprintf(out, cap, "alert %s from the peer", certa_alert_name(recvd));
    else
        snprintf(out, cap, "no alert");
}

int cli_set_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0) return -1;
    return fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- the sans-I/O loop's socket side ---- */

size_t cli_link_pending(cli_link *l) {
    const uint8_t *p;
    return certa_conn_outgoing(l->conn, &p);
}

int cli_link_send(cli_link *l) {
    for (;;) {
        const uint8_t *p = NULL;
        size_t n = certa_conn_outgoing(l->conn, &p);
        if (n == 0) return 0;
        ssize_t w = send(l->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            certa_conn_outgoing_done(l->conn, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        l->io_errno = w < 0 ? errno : EIO;
        return -1;
    }
}

int cli_link_read(cli_link *l) {
    if (l->in_off < l->in_len || l->tcp_eof) return 0;
    l->in_off = l->in_len = 0;
    for (;;) {
        ssize_t n = recv(l->fd, l->in, sizeof l->in, 0);
        if (n > 0) {
            l->in_len = (size_t)n;
            return 1;
        }
        if (n == 0) {
            l->tcp_eof = true;
            return 0;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        l->io_errno = errno;
        return -1;
    }
}

int cli_link_feed(cli_link *l) {
    while (l->in_off < l->in_len) {
        size_t used = 0;
        int r = certa_conn_recv(l->conn, l->in + l->in_off, l->in_len - l->in_off, &used);
        l->in_off += used;
        if (r) return r;
        if (used == 0) break; /* decrypted data waits: the caller reads it first */
    }
    if (l->in_off == l->in_len) l->in_off = l->in_len = 0;
    return CERTA_OK;
}

void cli_link_drain_out(cli_link *l, int max_ms) {
    int64_t deadline = cli_now_ms() + max_ms;
    while (cli_link_pending(l) > 0) {
        if (cli_link_send(l) < 0) return;
        if (cli_link_pending(l) == 0) return;
        int64_t left = deadline - cli_now_ms();
        if (left <= 0) return;
        struct pollfd p = {.fd = l->fd, .events = POLLOUT, .revents = 0};
        if (poll(&p, 1, (int)left) < 0 && errno != EINTR) return;
    }
}

void cli_link_linger(cli_link *l, int max_ms) {
    shutdown(l->fd, SHUT_WR);
    int64_t deadline = cli_now_ms() + max_ms;
    uint8_t sink[4096];
    while (!l->tcp_eof) {
        int64_t left = deadline - cli_now_ms();
        if (left <= 0) return;
        struct pollfd p = {.fd = l->fd, .events = POLLIN, .revents = 0};
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return;
        ssize_t n = recv(l->fd, sink, sizeof sink, 0);
        if (n == 0) return;
        if (n < 0 && errno != EINTR && errno != EAGAIN) return;
    }
}

/* ---- exporters ---- */

int cli_ekm_opt(int argc, char **argv, int *i, const char *cmd, cli_ekm *e) {
    const char *v = NULL;
    int m = cli_opt(argc, argv, i, "--export-keying-material", &v);
    if (m <= 0) return m;
    const char *colon = strrchr(v, ':');
    char *end = NULL;
    unsigned long n = colon ? strtoul(colon + 1, &end, 10) : 0;
    if (!colon || colon == v || !end || *end || n < 1 || n > 1024) {
        cli_err("%s: --export-keying-material wants LABEL:LEN with LEN 1 to 1024, not '%s'", cmd,
                v);
        return -1;
    }
    e->label = v;
    e->label_len = (size_t)(colon - v);
    e->len = n;
    return 1;
}

void cli_ekm_print(FILE *out, const char *prefix, certa_conn *conn, const cli_ekm *e) {
    uint8_t km[1024];
    int r =
        certa_conn_export_keying_material(conn, km, e->len, e->label, e->label_len, NULL, 0, false);
    if (r != CERTA_OK) {
        fprintf(out, "%s--export-keying-material: %s (%s)\n", prefix, certa_error_text(r),
                certa_error_name(r));
        return;
    }
    char hex[2 * sizeof km + 1];
    for (size_t k = 0; k < e->len; k++)
        snprintf(hex + 2 * k, 3, "%02X", km[k]);
    fprintf(out, "%sKeying material: %s\n", prefix, hex);
    memset(km, 0, sizeof km);
}

/* ---- protocol versions and profiles ---- */

/* "1.2", "TLSv1.2", "tls1.2" (any case) and the same for 1.3; 0 if none. */
static uint16_t parse_version(const char *s) {
    if (!strncasecmp(s, "tlsv", 4))
        s += 4;
    else if (!strncasecmp(s, "tls", 3))
        s += 3;
    if (!strcmp(s, "1.2")) return CERTA_TLS12;
    if (!strcmp(s, "1.3")) return CERTA_TLS13;
    return 0;
}

int cli_tls_opt(int argc, char **argv, int *i, const char *cmd, cli_tls_opts *o) {
    const char *a = argv[*i], *v = NULL;
    if (!strcmp(a, "--allow-no-ems")) {
        o->allow_no_ems = true;
        return 1;
    }
    if (!strcmp(a, "--crl-fetch")) {
        o->crl_fetch = true;
        return 1;
    }
    if (!strcmp(a, "--require-sct")) {
        o->require_sct = true;
        return 1;
    }
    int m;
    if ((m = cli_opt(argc, argv, i, "--ct-logs", &v)) != 0) {
        if (m < 0) return -1;
        if (!*v) {
            cli_err("%s: --ct-logs wants a log-list file (v3 JSON)", cmd);
            return -1;
        }
        o->ct_logs = v;
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--crl", &v)) != 0) {
        if (m < 0) return -1;
        if (!*v || o->crls == CLI_MAX_CRLS) {
            cli_err("%s: --crl wants a file or directory (at most %d)", cmd, CLI_MAX_CRLS);
            return -1;
        }
        o->crl[o->crls++] = v;
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--revocation", &v)) != 0) {
        if (m < 0) return -1;
        if (!strcmp(v, "off"))
            o->revocation = CERTA_REVOCATION_OFF;
        else if (!strcmp(v, "prefer"))
            o->revocation = CERTA_REVOCATION_PREFER;
        else if (!strcmp(v, "require"))
            o->revocation = CERTA_REVOCATION_REQUIRE;
        else {
            cli_err("%s: --revocation must be off, prefer or require, not '%s'", cmd, v);
            return -1;
        }
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--record-size-limit", &v)) != 0) {
        if (m < 0) return -1;
        char *end = NULL;
        unsigned long n = strtoul(v, &end, 10);
        if (!*v || *end || n < 64 || n > 16384) {
            cli_err("%s: --record-size-limit wants a number of bytes from 64 to 16384, not '%s'",
                    cmd, v);
            return -1;
        }
        o->record_size_limit = (unsigned)n;
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--cert-compression", &v)) != 0) {
        if (m < 0) return -1;
        certa_config *probe = certa_config_new();
        int r = probe ? certa_config_set_cert_compression(probe, v) : CERTA_E_NOMEM;
        if (r != CERTA_OK)
            cli_err("%s: --cert-compression: %s (%s)", cmd,
                    probe ? certa_config_error_text(probe) : "out of memory", certa_error_name(r));
        certa_config_free(probe);
        if (r != CERTA_OK) return -1;
        o->cert_compression = v;
        return 1;
    }
    if ((m = cli_opt(argc, argv, i, "--profile", &v)) != 0) {
        if (m < 0) return -1;
        if (!*v) {
            cli_err("%s: --profile needs a name", cmd);
            return -1;
        }
        if (!certa_profile_description(v)) {
            /* The library's sentence, which lists the known profiles. */
            certa_config *probe = certa_config_new();
            int r = probe ? certa_config_set_profile(probe, v) : CERTA_E_NOMEM;
            cli_err("%s: --profile: %s (%s)", cmd,
                    probe ? certa_config_error_text(probe) : "out of memory", certa_error_name(r));
            certa_config_free(probe);
            return -1;
        }
        o->profile = v;
        return 1;
    }
    bool is_min = true;
    m = cli_opt(argc, argv, i, "--min-version", &v);
    if (m == 0) {
        is_min = false;
        m = cli_opt(argc, argv, i, "--max-version", &v);
    }
    if (m <= 0) return m;
    uint16_t ver = parse_version(v);
    if (!ver) {
        cli_err("%s: %s wants 1.2 or 1.3 (also written TLSv1.2, tls1.2), not '%s'", cmd,
                is_min ? "--min-version" : "--max-version", v);
        return -1;
    }
    if (is_min)
        o->min_version = ver;
    else
        o->max_version = ver;
    return 1;
}

bool cli_tls_finish(const char *cmd, const cli_tls_opts *o) {
    if (o->require_sct && !o->ct_logs) {
        cli_err("%s: --require-sct needs the logs to check SCTs against: --ct-logs FILE (a v3 "
                "log list; certa ships none)",
                cmd);
        return false;
    }
    if (o->min_version && o->max_version && o->min_version > o->max_version) {
        cli_err("%s: --min-version %s is above --max-version %s: swap them", cmd,
                cli_version_name(o->min_version), cli_version_name(o->max_version));
        return false;
    }
    if (o->allow_no_ems) {
        cli_err("%s: WARNING: --allow-no-ems: TLS 1.2 peers without the extended master secret "
                "(RFC 7627) will be accepted; such sessions are open to the triple-handshake "
                "attack. Use it only for a legacy peer that cannot be upgraded",
                cmd);
        /* Said once here, not at each (re)build of the config. */
        certa_config *probe = certa_config_new();
        char why[400];
        uint16_t min = 0, max = 0;
        if (probe && cli_tls_apply(probe, o, why, sizeof why) == CERTA_OK)
            certa_config_get_versions(probe, &min, &max);
        if (min > CERTA_TLS12)
            cli_err("%s: note: --allow-no-ems has no effect while TLS 1.2 is not enabled "
                    "(--min-version 1.2, or a profile with TLS 1.2)",
                    cmd);
        certa_config_free(probe);
    }
    return true;
}

int cli_tls_apply(certa_config *cfg, const cli_tls_opts *o, char *why, size_t cap) {
    int r;
    if (o->profile && (r = certa_config_set_profile(cfg, o->profile)) != CERTA_OK) {
        const char *t = certa_config_error_text(cfg);
        snprintf(why, cap, "--profile: %s (%s)", *t ? t : certa_error_text(r), certa_error_name(r));
        return r;
    }
    if (o->min_version || o->max_version) {
        uint16_t min, max;
        certa_config_get_versions(cfg, &min, &max);
        /* One end given: the other is the profile's (or the default),
         * moved along if the range would be empty. */
        if (o->min_version) min = o->min_version;
        if (o->max_version) max = o->max_version;
        if (min > max) {
            if (o->min_version && !o->max_version)
                max = min;
            else if (o->max_version && !o->min_version)
                min = max;
        }
        if ((r = certa_config_set_versions(cfg, min, max)) != CERTA_OK) {
            const char *t = certa_config_error_text(cfg);
            snprintf(why, cap, "--min-version/--max-version: %s (%s)", *t ? t : certa_error_text(r),
                     certa_error_name(r));
            return r;
        }
    }
    if (o->allow_no_ems) certa_config_set_require_ems(cfg, false);
    if (o->record_size_limit &&
        (r = certa_config_set_record_size_limit(cfg, o->record_size_limit)) != CERTA_OK) {
        snprintf(why, cap, "--record-size-limit: %s (%s)", certa_error_text(r),
                 certa_error_name(r));
        return r;
    }
    if (o->cert_compression &&
        (r = certa_config_set_cert_compression(cfg, o->cert_compression)) != CERTA_OK) {
        snprintf(why, cap, "--cert-compression: %s (%s)", certa_config_error_text(cfg),
                 certa_error_name(r));
        return r;
    }
    for (size_t k = 0; k < o->crls; k++)
        if ((r = certa_config_load_crls(cfg, o->crl[k])) != CERTA_OK) {
            snprintf(why, cap, "--crl %s: %s (%s)", o->crl[k], certa_config_error_text(cfg),
                     certa_error_name(r));
            return r;
        }
    /* --crl-fetch with nothing fetched yet must still notice unknown status
     * (the library's default is off for a server without CRLs). */
    int mode = o->revocation ? o->revocation : o->crl_fetch ? CERTA_REVOCATION_PREFER : 0;
    if (mode && (r = certa_config_set_revocation(cfg, (certa_revocation)mode)) != CERTA_OK) {
        snprintf(why, cap, "--revocation: %s (%s)", certa_config_error_text(cfg),
                 certa_error_name(r));
        return r;
    }
    ct_logs_loaded loaded;
    char ct_why[400];
    if (o->ct_logs && (r = ct_logs_load(cfg, o->ct_logs, &loaded, ct_why, sizeof ct_why))) {
        snprintf(why, cap, "--ct-logs %s (%s)", ct_why, certa_error_name(r));
        return r;
    }
    if (o->require_sct && (r = certa_config_set_sct_policy(cfg, CERTA_SCT_REQUIRE)) != CERTA_OK) {
        snprintf(why, cap, "--require-sct: %s (%s)", certa_error_text(r), certa_error_name(r));
        return r;
    }
    return CERTA_OK;
}

void cli_tls_usage(FILE *out, int indent) {
    static const char *const lines[][2] = {
        {"--record-size-limit N", ""},
        {"", "largest record plaintext to receive, 64..16384 bytes"},
        {"", "(RFC 8449; a peer's own limit is always honoured)"},
        {"--profile NAME", "a configuration profile (versions, suites, groups, key sizes);"},
        {"", "explicit options override it, whatever their order"},
        {"--min-version V", "lowest TLS version: 1.2 or 1.3 (also TLSv1.2, tls1.2)"},
        {"--max-version V", "highest TLS version (default: TLS 1.3 only; --max-version"},
        {"", "1.2 alone means TLS 1.2 only)"},
        {"--allow-no-ems", "TLS 1.2: accept peers without the extended master secret"},
        {"", "(RFC 7627). For legacy peers only: prints a warning"},
        {"--crl FILE|DIR", "CRLs the peer's chain is checked against (PEM or DER;"},
        {"", "a directory's *.crl/*.pem/*.der; repeatable): a revoked"},
        {"", "leaf or intermediate is refused, naming serial and reason"},
        {"--crl-fetch", "also fetch CRLs from the cRLDistributionPoints (HTTP) of"},
        {"", "our own chain and of peers whose status is unknown; kept"},
        {"", "fresh in the background (connect: fetched after the"},
        {"", "handshake, before any data is sent)"},
        {"--revocation MODE", "prefer (default with --crl, and on a client for the OCSP"},
        {"", "staple): unknown status is logged; require: refused;"},
        {"", "off: nothing is checked (must-staple still applies)"},
        {"--ct-logs FILE", "CT logs (v3 log-list JSON; certa ships none): the peer's"},
        {"", "SCTs (embedded, TLS extension, OCSP) are checked and traced"},
        {"--require-sct", "refuse a leaf without valid SCTs from 2 distinct log"},
        {"", "operators (3 for leaves valid over 180 days)"},
    };
    for (size_t k = 0; k < sizeof lines / sizeof lines[0]; k++)
        if (!*lines[k][1]) /* an option too long for its column: alone on its line */
            fprintf(out, "  %s\n", lines[k][0]);
        else
            fprintf(out, "  %-*s%s\n", indent - 2, lines[k][0], lines[k][1]);
    fprintf(out, "%*s", indent, "");
    for (size_t i = 0; certa_profile_name(i); i++)
        fprintf(out, "%s%s", i ? ", " : "profiles: ", certa_profile_name(i));
    fprintf(out, "\n%*s(certa help profiles says what each sets)\n", indent, "");
    fprintf(out, "  --cert-compression LIST\n");
    fprintf(out, "%*sTLS 1.3 certificate compression (RFC 8879): brotli,zlib\n", indent, "");
    fprintf(out, "%*s(the default), a subset in preference order, or off\n", indent, "");
}

/* Prints text from column indent, wrapped before column width. */
static void print_wrapped(FILE *out, const char *text, int indent, int width) {
    int col = indent;
    fprintf(out, "%*s", indent, "");
    while (*text) {
        while (*text == ' ')
            text++;
        size_t word = strcspn(text, " ");
        if (word == 0) break;
        if (col > indent && col + 1 + (int)word > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(text, 1, word, out);
        col += (int)word;
        text += word;
    }
    fputc('\n', out);
}

void cli_profiles_usage(FILE *out) {
    for (size_t i = 0; certa_profile_name(i); i++) {
        const char *name = certa_profile_name(i);
        fprintf(out, "  %s\n", name);
        print_wrapped(out, certa_profile_description(name), 6, 80);
    }
}

/* ---- certificate/key pairs ---- */

int cli_pair_opt(int argc, char **argv, int *i, const char *cmd, cli_pairs *p) {
    const char *v = NULL;
    bool is_cert = true;
    int m = cli_opt(argc, argv, i, "--cert", &v);
    if (m == 0) {
        is_cert = false;
        m = cli_opt(argc, argv, i, "--key", &v);
    }
    if (m <= 0) return m;
    const char *name = is_cert ? "--cert" : "--key";
    if (!*v) {
        cli_err("%s: %s needs a file", cmd, name);
        return -1;
    }
    size_t *n = is_cert ? &p->certs : &p->keys;
    if (*n == CLI_MAX_PAIRS) {
        cli_err("%s: at most %d %s options", cmd, CLI_MAX_PAIRS, name);
        return -1;
    }
    (is_cert ? p->cert : p->key)[(*n)++] = v;
    return 1;
}

bool cli_pairs_finish(const char *cmd, const cli_pairs *p) {
    if (p->certs == p->keys) return true;
    cli_err("%s: %zu --cert but %zu --key: give them in pairs (--cert FILE --key FILE, the "
            "first pair is the default certificate)",
            cmd, p->certs, p->keys);
    return false;
}

static int pair_failed(certa_config *cfg, int r, const char *what, char *why, size_t cap) {
    const char *t = certa_config_error_text(cfg);
    snprintf(why, cap, "%s: %s (%s)", what, *t ? t : certa_error_text(r), certa_error_name(r));
    return r;
}

bool cli_key_is_uri(const char *key) {
    return key != NULL && strncmp(key, "pkcs11:", 7) == 0;
}

int cli_load_private_key(certa_config *cfg, const char *key) {
    return cli_key_is_uri(key) ? certa_config_set_private_key_uri(cfg, key)
                               : certa_config_load_private_key(cfg, key);
}

int cli_add_identity(certa_config *cfg, const char *cert, const char *key) {
    return cli_key_is_uri(key) ? certa_config_add_identity_uri(cfg, cert, key)
                               : certa_config_add_identity_files(cfg, cert, key);
}

int cli_pkcs11_module_opt(int argc, char **argv, int *i) {
    const char *v;
    int m = cli_opt(argc, argv, i, "--pkcs11-module", &v);
    if (m <= 0) return m;
    if (!*v) {
        cli_err("--pkcs11-module needs the path of a PKCS#11 module (a .so)");
        return -1;
    }
    /* The library reads it where a URI names no module-path. */
    if (setenv("PKCS11_MODULE_PATH", v, 1) != 0) {
        cli_err("--pkcs11-module: out of memory");
        return -1;
    }
    return 1;
}

/* "pkcs11:...?pin-value=1234" must not reach a log or an error message. */
static const char *key_shown(const char *key) {
    return cli_key_is_uri(key) ? "(PKCS#11 URI)" : key;
}

int cli_pairs_load(certa_config *cfg, const cli_pairs *p, char *why, size_t cap) {
    int r;
    if (p->certs == 0) return CERTA_OK;
    if ((r = certa_config_load_cert_chain(cfg, p->cert[0])) != CERTA_OK)
        return pair_failed(cfg, r, "--cert", why, cap);
    if ((r = cli_load_private_key(cfg, p->key[0])) != CERTA_OK)
        return pair_failed(cfg, r, "--key", why, cap);
    for (size_t k = 1; k < p->certs; k++)
        if ((r = cli_add_identity(cfg, p->cert[k], p->key[k])) != CERTA_OK) {
            char what[600];
            snprintf(what, sizeof what, "--cert %.250s --key %.250s", p->cert[k],
                     key_shown(p->key[k]));
            return pair_failed(cfg, r, what, why, cap);
        }
    return CERTA_OK;
}

int cli_listen(const char *host, const char *port, int backlog, bool reuse_port, char *bound,
               size_t bound_cap, char *why, size_t why_cap) {
    char buf[256];
    size_t hl = host ? strlen(host) : 0;
    const char *name = host && *host ? host : NULL;
    if (name && host[0] == '[' && hl > 2 && host[hl - 1] == ']' && hl - 2 < sizeof buf) {
        memcpy(buf, host + 1, hl - 2); /* accept [::1] too */
        buf[hl - 2] = 0;
        name = buf;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(name, port, &hints, &res);
    if (gai != 0) {
        snprintf(why, why_cap, "cannot use the address '%s' port '%s': %s", host ? host : "*", port,
                 gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        int s =
            socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (s < 0) {
            err = errno;
            continue;
        }
        int one = 1;
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (reuse_port) setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
        if (bind(s, ai->ai_addr, ai->ai_addrlen) < 0 || listen(s, backlog) < 0) {
            err = errno;
            close(s);
            continue;
        }
        fd = s;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(why, why_cap, "cannot listen on %s port %s: %s", host ? host : "*", port,
                 err ? strerror(err) : "no usable address");
        return -1;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        cli_format_addr((struct sockaddr *)&ss, sl, bound, bound_cap);
    else
        snprintf(bound, bound_cap, "%s:%s", host ? host : "*", port);
    return fd;
}

void cli_catch_stop_signals(void (*on_stop)(int)) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static cli_log_sink log_sink;

void cli_log_set_sink(cli_log_sink sink) {
    log_sink = sink;
}

void cli_log(const char *cmd, const char *area, const char *fmt, ...) {
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (log_sink)
        log_sink(area, msg);
    else
        fprintf(stderr, "certa %s: %s: %s\n", cmd ? cmd : "", area, msg);
}
