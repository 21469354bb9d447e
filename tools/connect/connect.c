/* certa connect: a TLS 1.3 (or 1.2) client with a readable handshake trace. After
 * the handshake, stdin goes to the server and the server's data to stdout;
 * at the end of stdin certa sends close_notify and prints what the server
 * still sends until it closes. */
#include "common/cli_common.h"
#include "common/ech_cli.h"
#include "common/keylog_file.h"
#include "revocation/crl_fetcher.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_PINS 32
#define MAX_TRUST 16
#define DEFAULT_TIMEOUT_MS 10000
/* Stop reading stdin while this much is queued for the server. */
#define OUT_HIGH_WATER (256 * 1024)

typedef struct connect_opts {
    const char *target;
    char host[256];
    char port[8];
    const char *servername;
    const char *pins[MAX_PINS];
    int pin_count;
    bool insecure;
    const char *trust[MAX_TRUST];
    int trust_count;
    const char *expect[MAX_PINS]; /* allow rules on the server's identity */
    int expect_count;
    const char *cert, *key; /* client certificate, if the server asks */
    const char *alpn, *groups, *ciphers;
    int timeout_ms;
    bool quiet;
    const char *session_file; /* --session: offered if stored, rewritten after */
    const char *early_file;   /* --early-data: sent as 0-RTT when the session allows */
    cli_tls_opts tls;         /* --profile, --min-version, --max-version, --allow-no-ems */
    cli_ekm ekm;              /* --export-keying-material LABEL:LEN */
    const char *keylog;       /* --keylog FILE (else SSLKEYLOGFILE) */
    uint8_t *ech_list;        /* --ech-config: the ECHConfigList (malloc'd), or NULL */
    size_t ech_list_len;
    bool ech_grease; /* --ech-grease */
} connect_opts;

/* A --session file: this line, then the session bytes (certa_conn_session).
 * The line keeps us from overwriting a file that is not ours. */
static const char session_magic[] = "certa session 1\n";
#define SESSION_MAGIC_LEN (sizeof session_magic - 1)

/* What became of the stored session; the trace callback's argument. */
typedef struct stored_session {
    const connect_opts *o;
    uint8_t *blob; /* the stored session read from the file, NULL if none */
    size_t len;
    bool writable; /* the file is ours (or absent): the new session may go there */
} stored_session;

static void connect_usage(FILE *out) {
    fputs("usage: certa connect HOST:PORT [--trust FILE|DIR | --pin sha256:B64 | --insecure]\n"
          "                     [options]\n"
          "\n"
          "  HOST is a name, an IPv4 address or [IPv6]; PORT defaults to 443\n"
          "The server is authenticated by one of:\n"
          "  (default)           its certificate chain, validated against the system trust\n"
          "                      bundle for the server name (or the IP address)\n"
          "  --trust FILE|DIR    ... against these trust anchors instead (PEM bundle or a\n"
          "                      directory of them; repeatable)\n"
          "  --pin sha256:B64    its key's SPKI pin, whatever its certificate says\n"
          "                      (repeatable; any one may match)\n"
          "  --insecure          nothing: any key is accepted (NOT authenticated)\n"
          "  --expect RULE       and then its verified identity must match a rule\n"
          "                      (repeatable): spiffe://td/path, spiffe://td/prefix/*,\n"
          "                      dns:NAME, sha256:PIN\n"
          "Options:\n"
          "  --servername NAME   name to send (SNI) and to verify (default: HOST; an IP\n"
          "                      address is verified but never sent as SNI)\n"
          "  --cert FILE --key FILE  client certificate and key, if the server asks; --key\n"
          "                      may be a PKCS#11 URI (pkcs11:token=T;object=K?pin-source=\n"
          "                      file:F) for a key that stays on a token\n"
          "  --pkcs11-module SO  PKCS#11 module for URIs without module-path (default\n"
          "                      $PKCS11_MODULE_PATH, else p11-kit-proxy.so, else SoftHSM)\n"
          "  --alpn LIST         protocols to offer, e.g. h2,http/1.1\n"
          "  --groups LIST       key exchange groups; the first gets a key share\n"
          "                      (x25519, secp256r1, secp384r1, secp521r1, x448)\n"
          "  --ciphers LIST      cipher suites in preference order (TLS 1.3 and 1.2 names)\n"
          "  --export-keying-material LABEL:LEN  print LEN exported bytes (RFC 8446 7.5 /\n"
          "                      RFC 5705, no context) as 'Keying material: HEX' on stderr,\n"
          "                      like openssl's -keymatexport LABEL -keymatexportlen LEN\n"
          "  --keylog FILE       append the session secrets to FILE (NSS key log format;\n"
          "                      SSLKEYLOGFILE is read when this is not given) so Wireshark\n"
          "                      can decrypt a capture; created 0600, a file others can\n"
          "                      read is refused. Anyone with it can decrypt the traffic\n",
          out);
    cli_tls_usage(out, 22);
    fputs("  --timeout SEC       limit for connect + handshake, and for the server to\n"
          "                      close after the end of stdin (default 10)\n"
          "  --session FILE      resume: offer the session stored in FILE (if there is\n"
          "                      one and it is still usable), and store the newest session\n"
          "                      the server sends in FILE (mode 0600; it holds a secret).\n"
          "                      A resumed handshake skips the certificates and keeps the\n"
          "                      server identity verified when the session was made; an\n"
          "                      unusable FILE means a full handshake, not a failure\n"
          "  --early-data FILE   send FILE's content (at most 16 MiB) as 0-RTT early data\n"
          "                      when the --session ticket allows it, else (or when the\n"
          "                      server rejects it) right after the handshake; the summary\n"
          "                      says which. Early data can be replayed: only for requests\n"
          "                      that are safe to repeat\n"
          "  --ech-config FILE|BASE64  offer Encrypted Client Hello (RFC 9849) with this\n"
          "                      ECHConfigList (a file, binary or base64; or base64 as\n"
          "                      given, as in a DNS HTTPS record): the real server name\n"
          "                      travels encrypted, the config's public name in clear. A\n"
          "                      server that rejects it is authenticated for the public\n"
          "                      name, and if it sends new configs the connection is\n"
          "                      retried once with them; no session or early data is\n"
          "                      offered with ECH\n"
          "  --ech-grease        without --ech-config, send a GREASE ECH extension (random\n"
          "                      bytes shaped like ECH, ignored by servers)\n"
          "  --quiet             no trace or summary, only data and errors\n",
          out);
}

/* Returns -1 to continue, or an exit code. */
static int parse_args(int argc, char **argv, connect_opts *o) {
    memset(o, 0, sizeof *o);
    o->timeout_ms = DEFAULT_TIMEOUT_MS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            connect_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (!strcmp(a, "--insecure") || !strcmp(a, "-k")) {
            o->insecure = true;
            continue;
        }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            o->quiet = true;
            continue;
        }
        if ((m = cli_tls_opt(argc, argv, &i, "connect", &o->tls)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--pin", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (o->pin_count == MAX_PINS) {
                cli_err("too many --pin options (at most %d)", MAX_PINS);
                return CLI_EXIT_USAGE;
            }
            o->pins[o->pin_count++] = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--expect", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (o->expect_count == MAX_PINS) {
                cli_err("too many --expect options (at most %d)", MAX_PINS);
                return CLI_EXIT_USAGE;
            }
            o->expect[o->expect_count++] = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--trust", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (o->trust_count == MAX_TRUST) {
                cli_err("too many --trust options (at most %d)", MAX_TRUST);
                return CLI_EXIT_USAGE;
            }
            o->trust[o->trust_count++] = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--cert", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->cert = v;
            continue;
        }
        if ((m = cli_pkcs11_module_opt(argc, argv, &i)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--key", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->key = v;
            continue;
        }
        if ((m = cli_keylog_opt(argc, argv, &i, "connect", &o->keylog)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_ekm_opt(argc, argv, &i, "connect", &o->ekm)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            continue;
        }
        if (!strcmp(a, "--ech-grease")) {
            o->ech_grease = true;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--ech-config", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            free(o->ech_list);
            o->ech_list = NULL;
            if (!cli_ech_config_arg("connect", v, &o->ech_list, &o->ech_list_len))
                return CLI_EXIT_USAGE;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--servername", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!*v || strlen(v) > 253) {
                cli_err("--servername must be a host name of 1 to 253 characters");
                return CLI_EXIT_USAGE;
            }
            o->servername = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--alpn", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!*v) {
                cli_err("--alpn needs at least one protocol name, e.g. h2,http/1.1");
                return CLI_EXIT_USAGE;
            }
            o->alpn = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--session", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!*v) {
                cli_err("--session needs a file name");
                return CLI_EXIT_USAGE;
            }
            o->session_file = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--early-data", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!*v) {
                cli_err("--early-data needs a file name");
                return CLI_EXIT_USAGE;
            }
            o->early_file = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--groups", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->groups = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--ciphers", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            o->ciphers = v;
            continue;
        }
        if ((m = cli_opt(argc, argv, &i, "--timeout", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (!cli_parse_seconds(v, &o->timeout_ms)) {
                cli_err("--timeout wants a number of seconds between 0 and 86400, not '%s'", v);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (a[0] == '-' && a[1] != 0) {
            cli_err("connect: unknown option '%s' (see certa connect --help)", a);
            return CLI_EXIT_USAGE;
        }
        if (o->target) {
            cli_err("connect: one HOST:PORT only ('%s' and '%s' given)", o->target, a);
            return CLI_EXIT_USAGE;
        }
        o->target = a;
    }
    if (!o->target) {
        cli_err("connect: which server? give HOST:PORT");
        connect_usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!cli_split_host_port(o->target, o->host, sizeof o->host, o->port, sizeof o->port, "443") ||
        !strcmp(o->port, "0")) {
        cli_err("connect: '%s' is not HOST:PORT (write IPv6 addresses as [::1]:PORT; the port is "
                "1 to 65535)",
                o->target);
        return CLI_EXIT_USAGE;
    }
    int ways = (o->pin_count > 0) + o->insecure + (o->trust_count > 0);
    if (ways > 1) {
        cli_err("connect: --trust, --pin and --insecure are different ways to authenticate the "
                "server: choose one");
        return CLI_EXIT_USAGE;
    }
    if (!o->cert != !o->key) {
        cli_err("connect: a client certificate needs both --cert FILE and --key FILE");
        return CLI_EXIT_USAGE;
    }
    if (!cli_tls_finish("connect", &o->tls)) return CLI_EXIT_USAGE;
    return -1;
}

static void trace_line(void *arg, const char *line) {
    stored_session *ss = arg;
    static const char refused[] = "  stored session not offered: ";
    if (ss->blob && !strncmp(line, refused, sizeof refused - 1)) {
        /* Said even with --quiet: the user asked for resumption. */
        cli_err("--session %s: the stored session is not usable (%s): full handshake",
                ss->o->session_file, line + sizeof refused - 1);
    }
    if (!ss->o->quiet) fprintf(stderr, "* %s\n", line);
}

/* Reads the --session file into ss. A missing or empty file is the first
 * run; anything else wrong is said on stderr, and the handshake is full. */
static void session_load(const connect_opts *o, stored_session *ss) {
    memset(ss, 0, sizeof *ss);
    ss->o = o;
    ss->writable = true;
    int fd = open(o->session_file, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            cli_err("--session %s: cannot read it (%s): full handshake, and no session will be "
                    "stored there",
                    o->session_file, strerror(errno));
            ss->writable = false;
        }
        return;
    }
    static uint8_t buf[SESSION_MAGIC_LEN + CERTA_SESSION_MAX + 1];
    size_t len = 0;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            cli_err("--session %s: cannot read it (%s): full handshake, and no session will be "
                    "stored there",
                    o->session_file, strerror(errno));
            ss->writable = false;
            close(fd);
            return;
        }
        if (n == 0 || (len += (size_t)n) == sizeof buf) break;
    }
    close(fd);
    if (len == 0) return; /* an empty file: nothing stored yet */
    if (len < SESSION_MAGIC_LEN || memcmp(buf, session_magic, SESSION_MAGIC_LEN) != 0) {
        cli_err("--session %s: not a certa session file: full handshake, and the file is left "
                "as it is",
                o->session_file);
        ss->writable = false;
    } else if (len == sizeof buf || len == SESSION_MAGIC_LEN) {
        cli_err("--session %s: the stored session is %s: full handshake", o->session_file,
                len == SESSION_MAGIC_LEN ? "empty" : "too large");
    } else {
        ss->len = len - SESSION_MAGIC_LEN;
        ss->blob = malloc(ss->len);
        if (ss->blob) memcpy(ss->blob, buf + SESSION_MAGIC_LEN, ss->len);
    }
    memset(buf, 0, sizeof buf); /* it held a secret */
}

/* Writes the connection's newest session to the --session file: a
 * temporary file (0600) beside it, renamed over it. */
static void session_save(const certa_conn *conn, const stored_session *ss) {
    const connect_opts *o = ss->o;
    if (!ss->writable) return;
    static uint8_t buf[SESSION_MAGIC_LEN + CERTA_SESSION_MAX];
    size_t len = 0;
    int r = certa_conn_session(conn, buf + SESSION_MAGIC_LEN, CERTA_SESSION_MAX, &len);
    if (r == CERTA_E_STATE) {
        if (!o->quiet)
            fprintf(stderr, "* session:           the server sent no session ticket; %s %s\n",
                    o->session_file, ss->blob ? "kept as it was" : "not written");
        return;
    }
    if (r) {
        cli_err("--session %s: cannot get the session (%s)", o->session_file, certa_error_name(r));
        return;
    }
    memcpy(buf, session_magic, SESSION_MAGIC_LEN);
    len += SESSION_MAGIC_LEN;
    size_t plen = strlen(o->session_file);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        cli_err("out of memory");
        goto out;
    }
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", o->session_file);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        cli_err("--session %s: cannot create %s: %s", o->session_file, tmp, strerror(errno));
        goto out;
    }
    bool ok = fchmod(fd, 0600) == 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t n = write(fd, buf + off, len - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ok = false;
            break;
        }
        off += (size_t)n;
    }
    if (ok && fsync(fd) != 0) ok = false;
    int err = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        err = errno;
    }
    if (ok && rename(tmp, o->session_file) != 0) {
        ok = false;
        err = errno;
    }
    if (!ok) {
        cli_err("--session %s: cannot store the session: %s", o->session_file, strerror(err));
        unlink(tmp);
    } else if (!o->quiet) {
        fprintf(stderr, "* session:           stored in %s\n", o->session_file);
    }
out:
    free(tmp);
    memset(buf, 0, sizeof buf);
}

/* Connects a non-blocking TCP socket to host:port within the deadline.
 * Returns the fd, or -1 after printing why. */
static int tcp_connect(const connect_opts *o, int64_t deadline) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    int gai = getaddrinfo(o->host, o->port, &hints, &res);
    if (gai != 0) {
        cli_err("cannot resolve '%s': %s", o->host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, last_err = 0;
    char addr[128] = "";
    bool timed_out = false;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        cli_format_addr(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr);
        if (!o->quiet) fprintf(stderr, "* connecting to %s ...\n", addr);
        int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (s < 0) {
            last_err = errno;
            continue;
        }
        if (cli_set_nonblocking(s) < 0) {
            last_err = errno;
            close(s);
            continue;
        }
        int r = connect(s, ai->ai_addr, ai->ai_addrlen);
        if (r < 0 && errno == EINPROGRESS) {
            for (;;) {
                int64_t left = deadline - cli_now_ms();
                if (left <= 0) {
                    timed_out = true;
                    errno = ETIMEDOUT;
                    r = -1;
                    break;
                }
                struct pollfd p = {.fd = s, .events = POLLOUT, .revents = 0};
                int pr = poll(&p, 1, (int)left);
                if (pr < 0 && errno == EINTR) continue;
                if (pr < 0) {
                    r = -1;
                    break;
                }
                if (pr == 0) continue; /* re-check the deadline */
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) soerr = errno;
                errno = soerr;
                r = soerr ? -1 : 0;
                break;
            }
        }
        if (r < 0) {
            last_err = errno;
            if (!o->quiet) fprintf(stderr, "* %s: %s\n", addr, strerror(last_err));
            close(s);
            if (timed_out) break;
            continue;
        }
        fd = s;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (timed_out)
            cli_err("cannot connect to %s: no answer within %.1f s", o->target,
                    o->timeout_ms / 1000.0);
        else
            cli_err("cannot connect to %s: %s", o->target,
                    last_err ? strerror(last_err) : "no usable address");
    }
    return fd;
}

/* "expires in 12 days", "expires in 1 day (30 hours)", "expires in 0 days (5 hours)". */
static void describe_remaining(int64_t secs, char *out, size_t cap) {
    long long days = secs / 86400, hours = secs / 3600, minutes = secs / 60;
    if (days >= 2)
        snprintf(out, cap, "expires in %lld days", days);
    else if (hours >= 2)
        snprintf(out, cap, "expires in %lld day%s (%lld hours)", days, days == 1 ? "" : "s", hours);
    else
        snprintf(out, cap, "expires in 0 days (%lld minutes)", minutes);
}

/* The --early-data file and what became of it. */
typedef struct early_send {
    uint8_t *data;
    size_t len;
    bool sent_early; /* went as 0-RTT after the ClientHello */
    const char *why_not;
} early_send;

#define EARLY_FILE_MAX (16u << 20)

/* Reads the --early-data file; false (after saying why) if it cannot. */
static bool early_load(const char *path, early_send *es) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        cli_err("--early-data %s: %s", path, strerror(errno));
        return false;
    }
    size_t cap = 4096;
    es->data = malloc(cap);
    es->len = 0;
    for (size_t n; es->data && (n = fread(es->data + es->len, 1, cap - es->len, f)) > 0;) {
        es->len += n;
        if (es->len == cap && cap <= EARLY_FILE_MAX) {
            uint8_t *more = realloc(es->data, cap * 2);
            if (!more) {
                free(es->data);
                es->data = NULL;
            }
            es->data = more;
            cap *= 2;
        }
    }
    bool err = ferror(f) != 0;
    fclose(f);
    if (!es->data || err || es->len > EARLY_FILE_MAX) {
        cli_err("--early-data %s: %s", path,
                !es->data ? "out of memory"
                : err     ? "read error"
                          : "over 16 MiB");
        free(es->data);
        es->data = NULL;
        return false;
    }
    return true;
}

static void print_early(const certa_info *info, const early_send *es) {
    if (!es->data) return;
    if (es->sent_early && info->early_data_accepted)
        fprintf(stderr, "* early data:        %zu bytes sent as 0-RTT, accepted\n", es->len);
    else if (es->sent_early)
        fprintf(stderr,
                "* early data:        %zu bytes sent as 0-RTT, rejected by the server: sent "
                "again after the handshake\n",
                es->len);
    else
        fprintf(stderr,
                "* early data:        %zu bytes sent after the handshake (not as 0-RTT: %s)\n",
                es->len, es->why_not);
}

static void print_summary(const certa_conn *conn, int64_t hs_ms, bool name_is_ip) {
    certa_info info;
    if (certa_conn_info(conn, &info) != 0) return;
    FILE *e = stderr;
    fprintf(e, "* --- handshake summary\n");
    fprintf(e, "* protocol:          %s\n", cli_version_name(info.version));
    fprintf(e, "* cipher suite:      %s\n", certa_cipher_suite_name(info.cipher_suite));
    fprintf(e, "* key exchange:      %s\n", certa_group_name(info.group));
    fprintf(e, "* ALPN:              %s\n", info.alpn ? info.alpn : "(none)");
    if (info.resumed)
        fprintf(e, "* server signature:  (none: resumed)\n");
    else
        fprintf(e, "* server signature:  %s\n", certa_sig_scheme_name(info.peer_sig_scheme));
    fprintf(e, "* HelloRetryRequest: %s\n", info.hello_retry ? "yes" : "no");
    if (info.resumed)
        fprintf(e, "* resumed:           yes (session ticket)\n");
    else if (info.session_offered)
        fprintf(e, "* resumed:           no (the server declined the stored session: full "
                   "handshake)\n");
    else
        fprintf(e, "* resumed:           no\n");
    if (!info.server_name || name_is_ip)
        fprintf(e, "* server name (SNI): (not sent)\n");
    else
        fprintf(e, "* server name (SNI): %s\n", info.server_name);
    certa_ech_status ech = certa_conn_ech_status(conn);
    if (ech == CERTA_ECH_ACCEPTED)
        fprintf(e,
                "* ECH:               accepted: %s was sent encrypted, the public name %s in "
                "clear; the server was authenticated for %s\n",
                info.server_name ? info.server_name : "(no name)", certa_conn_ech_outer_name(conn),
                info.server_name ? info.server_name : "its address");
    else if (ech == CERTA_ECH_GREASE)
        fprintf(e, "* ECH:               GREASE sent (no config: nothing encrypted)\n");
    certa_peer_identity id;
    if (certa_conn_peer_identity(conn, &id) == 0 && id.present) {
        fprintf(e, "* server identity:   %s%s\n",
                id.verified ? "verified" : "NOT verified (--insecure)",
                info.resumed ? " (in the full handshake the session came from)" : "");
        const char *note = certa_conn_revocation_note(conn);
        if (*note) fprintf(e, "* revocation:        WARNING: %s\n", note);
        if (id.spiffe_id[0]) fprintf(e, "*   SPIFFE ID:       %s\n", id.spiffe_id);
        if (id.dns_names[0]) fprintf(e, "*   DNS names:       %s\n", id.dns_names);
        if (info.resumed) {
            /* No certificate on this connection: what the session remembers. */
            char na[64];
            cli_format_time(id.not_after, na, sizeof na);
            fprintf(e, "*   subject:         %s\n", id.subject[0] ? id.subject : "(empty)");
            fprintf(e, "*   issuer:          %s\n", id.issuer[0] ? id.issuer : "(empty)");
            fprintf(e, "*   not after:       %s\n", na);
            fprintf(e, "*   SPKI pin:        %s\n", id.spki_sha256);
        }
    }
    size_t len = 0;
    const uint8_t *der = certa_conn_peer_cert(conn, 0, &len);
    certa_cert_summary s;
    if (info.resumed) {
        fprintf(e, "* certificate:       none sent (resumed)\n");
    } else if (der && certa_cert_summarize(der, len, &s) == 0) {
        char nb[64], na[64], rel[96];
        cli_format_time(s.not_before, nb, sizeof nb);
        cli_format_time(s.not_after, na, sizeof na);
        int64_t now = (int64_t)time(NULL);
        if (now > s.not_after)
            snprintf(rel, sizeof rel, "EXPIRED %lld days ago",
                     (long long)((now - s.not_after) / 86400));
        else if (now < s.not_before)
            snprintf(rel, sizeof rel, "NOT YET VALID; expires in %lld days",
                     (long long)((s.not_after - now) / 86400));
        else
            describe_remaining(s.not_after - now, rel, sizeof rel);
        fprintf(e, "* certificate:       %zu in the chain; the server's:\n", info.peer_cert_count);
        fprintf(e, "*   subject:         %s\n", s.subject[0] ? s.subject : "(empty)");
        fprintf(e, "*   issuer:          %s\n", s.issuer[0] ? s.issuer : "(empty)");
        char serial[48];
        if (certa_cert_serial(der, len, serial, sizeof serial) == CERTA_OK)
            fprintf(e, "*   serial:          %s\n", serial);
        fprintf(e, "*   not before:      %s\n", nb);
        fprintf(e, "*   not after:       %s (%s)\n", na, rel);
        fprintf(e, "*   key type:        %s\n", s.key_type);
        fprintf(e, "*   SPKI pin:        %s\n", s.spki_sha256);
        if (info.peer_cert_compression)
            fprintf(e, "*   compressed:      certificate %zu bytes, compressed to %zu with %s\n",
                    info.peer_cert_uncompressed_len, info.peer_cert_compressed_len,
                    certa_cert_compression_name(info.peer_cert_compression));
        else
            fprintf(e, "*   compressed:      no (sent as a plain Certificate)\n");
    } else {
        fprintf(e, "* certificate:       %zu in the chain (the leaf could not be summarized)\n",
                info.peer_cert_count);
    }
    fprintf(e, "* handshake time:    %lld ms\n", (long long)hs_ms);
    fprintf(e, "* ---\n");
}

static void report_handshake_failure(const certa_conn *conn, int r, const connect_opts *o,
                                     int io_errno) {
    char alert[96];
    if (certa_conn_failed(conn)) {
        cli_describe_alert(conn, alert, sizeof alert);
        int code = certa_conn_error(conn);
        cli_err("handshake failed: %s (%s, %s)", certa_conn_error_text(conn),
                certa_error_name(code), alert);
        return;
    }
    switch (r) {
    case CERTA_E_TIMEOUT:
        cli_err("handshake failed: the server did not complete the handshake within %.1f s: it "
                "may not speak TLS on this port, or be overloaded; raise --timeout if it is slow "
                "(CERTA_E_TIMEOUT, no alert)",
                o->timeout_ms / 1000.0);
        break;
    case CERTA_E_IO:
        cli_err("handshake failed: socket error: %s (CERTA_E_IO, no alert)",
                io_errno ? strerror(io_errno) : "unknown");
        break;
    case CERTA_E_PEER_CLOSED:
        cli_err("handshake failed: the server sent close_notify before the handshake finished "
                "(CERTA_E_PEER_CLOSED, no alert)");
        break;
    default:
        cli_err("handshake failed: %s (%s, no alert)", certa_error_text(r), certa_error_name(r));
        break;
    }
}

/* Writes all of buf to stdout. false if stdout is gone. */
static bool write_stdout(const uint8_t *buf, size_t n) {
    while (n > 0) {
        ssize_t w = write(STDOUT_FILENO, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT, .revents = 0};
            poll(&p, 1, 1000);
            continue;
        }
        if (w <= 0) return false;
        buf += w;
        n -= (size_t)w;
    }
    return true;
}

/* The data phase. Returns the exit code. */
static int relay(certa_conn *conn, int fd, const connect_opts *o) {
    cli_link l;
    memset(&l, 0, sizeof l);
    l.conn = conn;
    l.fd = fd;
    bool stdin_open = true, stdout_ok = true;
    int64_t last_rx = cli_now_ms();
    uint8_t buf[16384];
    int rc = CLI_EXIT_OK;

    for (;;) {
        /* Engine input, then the decrypted data it yields, until no progress. */
        int r = cli_link_feed(&l);
        for (size_t n; (n = certa_conn_read(conn, buf, sizeof buf)) > 0;) {
            if (stdout_ok && !write_stdout(buf, n)) {
                stdout_ok = false;
                if (errno != EPIPE) cli_err("cannot write to stdout: %s", strerror(errno));
                stdin_open = false; /* stop: close the connection politely */
            }
            if (!r) r = cli_link_feed(&l);
        }
        if (r) {
            cli_link_drain_out(&l, 1000);
            char alert[96];
            cli_describe_alert(conn, alert, sizeof alert);
            cli_err("connection failed: %s (%s, %s)", certa_conn_error_text(conn),
                    certa_error_name(certa_conn_error(conn)), alert);
            return CLI_EXIT_FAIL;
        }
        if (certa_conn_peer_closed(conn)) {
            /* The server is done: answer close_notify and stop. */
            certa_conn_close(conn);
            cli_link_drain_out(&l, 1000);
            if (!o->quiet) fprintf(stderr, "* the server closed the connection (close_notify)\n");
            break;
        }
        if (!stdin_open) certa_conn_close(conn); /* once; later calls do nothing */
        if (cli_link_send(&l) < 0) {
            cli_err("connection failed: socket error: %s (CERTA_E_IO)", strerror(l.io_errno));
            return CLI_EXIT_FAIL;
        }
        if (l.tcp_eof && l.in_len == 0) {
            certa_conn_recv_eof(conn);
            if (certa_conn_peer_closed(conn)) continue; /* handled above */
            cli_err("connection failed: %s (%s)", certa_conn_error_text(conn),
                    certa_error_name(certa_conn_error(conn)));
            return CLI_EXIT_FAIL;
        }

        struct pollfd p[2];
        int np = 0;
        bool want_out = cli_link_pending(&l) > 0;
        p[np++] = (struct pollfd){.fd = fd, .events = POLLIN | (want_out ? POLLOUT : 0)};
        int in_idx = -1;
        if (stdin_open && cli_link_pending(&l) < OUT_HIGH_WATER) {
            in_idx = np;
            p[np++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
        }
        int wait = -1;
        if (!stdin_open) { /* our close_notify is out: wait for the server, within limits */
            int64_t left = last_rx + o->timeout_ms - cli_now_ms();
            if (left <= 0) {
                cli_err("the server sent nothing for %.1f s after our close_notify and did not "
                        "close: giving up",
                        o->timeout_ms / 1000.0);
                rc = CLI_EXIT_FAIL;
                break;
            }
            wait = (int)left;
        }
        int pr = poll(p, (nfds_t)np, wait);
        if (pr < 0) {
            if (errno == EINTR) continue;
            cli_err("poll: %s", strerror(errno));
            return CLI_EXIT_FAIL;
        }
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            int rr = cli_link_read(&l);
            if (rr < 0) {
                cli_err("connection failed: socket error: %s (CERTA_E_IO)", strerror(l.io_errno));
                return CLI_EXIT_FAIL;
            }
            if (rr > 0 || l.tcp_eof) last_rx = cli_now_ms();
        }
        if (in_idx >= 0 && p[in_idx].revents) {
            if (p[in_idx].revents & POLLNVAL) {
                stdin_open = false;
                last_rx = cli_now_ms();
                continue;
            }
            ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) {
                if (n < 0) cli_err("reading stdin: %s", strerror(errno));
                stdin_open = false;
                last_rx = cli_now_ms(); /* the close wait starts now */
                continue;
            }
            r = certa_conn_write(conn, buf, (size_t)n);
            if (r) {
                cli_err("cannot send: %s (%s)", certa_conn_error_text(conn), certa_error_name(r));
                return CLI_EXIT_FAIL;
            }
        }
    }
    cli_link_linger(&l, 200);
    return rc;
}

/* Under require: is a certificate's status established by neither the
 * fetched CRLs (res), nor the staple (the leaf), nor the --crl files (the
 * engine checked those and noted nothing)? */
static bool still_unknown(const certa_verify_result *res, const certa_info *info,
                          const connect_opts *o, const certa_conn *conn) {
    uint32_t unknown = res->revocation_unknown;
    if (info->peer_staple_good) unknown &= ~1u;
    if (o->tls.crls && !certa_conn_revocation_note(conn)[0]) unknown = 0;
    return unknown != 0;
}

/* --crl-fetch, after the handshake and before any data: the CRLs the
 * server's chain names are fetched and the chain checked against them
 * (and the trust) again. true to go on; false (said why) to refuse. */
static bool check_fetched_crls(certa_conn *conn, const connect_opts *o, const char *name,
                               bool name_is_ip) {
    certa_info info;
    if (certa_conn_info(conn, &info) != CERTA_OK || info.resumed) {
        if (!o->quiet)
            fprintf(stderr, "* crl-fetch:         skipped (resumed: the chain was checked in the "
                            "full handshake)\n");
        return true;
    }
    if (o->pin_count || o->insecure) {
        fprintf(stderr, "certa: note: --crl-fetch checks a validated chain; with --pin or "
                        "--insecure there is none\n");
        return true;
    }
    const uint8_t *certs[CERTA_MAX_PATH];
    size_t lens[CERTA_MAX_PATH], n = 0;
    while (n < CERTA_MAX_PATH && (certs[n] = certa_conn_peer_cert(conn, n, &lens[n])) != NULL)
        n++;
    uint8_t **crls = NULL;
    size_t *crl_lens = NULL;
    size_t got = cli_crl_fetch_chain("connect", certs, lens, n, &crls, &crl_lens);
    certa_trust *trust = certa_trust_new();
    int r = !trust ? CERTA_E_NOMEM : o->trust_count ? CERTA_OK : certa_trust_load_system(trust);
    for (int i = 0; r == CERTA_OK && i < o->trust_count; i++)
        r = certa_trust_load(trust, o->trust[i]);
    certa_verify_params p;
    memset(&p, 0, sizeof p);
    p.purpose = CERTA_PURPOSE_SERVER;
    if (name_is_ip)
        p.ip = name;
    else
        p.dns_name = name;
    p.crls = (const uint8_t *const *)crls;
    p.crl_lens = crl_lens;
    p.crl_count = got;
    p.revocation = CERTA_REVOCATION_PREFER;
    certa_verify_result res;
    memset(&res, 0, sizeof res);
    if (r == CERTA_OK) r = certa_verify_chain(trust, certs, lens, n, &p, &res);
    bool go_on = true;
    if (r != CERTA_OK) {
        cli_err("the server's certificate was refused after the handshake (--crl-fetch): %s (%s)",
                res.text[0] ? res.text : certa_error_text(r), certa_error_name(r));
        go_on = false;
    } else if (o->tls.revocation == CERTA_REVOCATION_REQUIRE &&
               still_unknown(&res, &info, o, conn)) {
        cli_err("the server's certificate was refused after the handshake (--crl-fetch): %s "
                "(revocation is required) (CERTA_E_CERT_STATUS)",
                res.revocation_text[0] ? res.revocation_text
                                       : "no CRL could be fetched for its chain");
        go_on = false;
    } else if (!o->quiet) {
        fprintf(stderr, "* crl-fetch:         %zu CRL%s fetched; the chain is not listed%s\n", got,
                got == 1 ? "" : "s",
                res.revocation_unknown ? " (certificates without a fetched CRL not checked)" : "");
    }
    cli_crl_free_list(crls, crl_lens, got);
    certa_trust_free(trust);
    return go_on;
}

/* Builds the client config; returns NULL after printing why (*usage set
 * when the arguments were at fault rather than a file). */
static certa_config *build_config(const connect_opts *o, certa_trust **trust_out, bool *usage) {
    *usage = false;
    *trust_out = NULL;
    certa_config *cfg = certa_config_new();
    if (!cfg) {
        cli_err("out of memory");
        return NULL;
    }
    int r = 0;
    const char *what = NULL, *arg = NULL;
    char why[400];
    /* The profile and versions first: the explicit options below override it.
     * With --crl-fetch the CRLs come after the handshake, so a required
     * status is enforced then (check_fetched_crls), not by the engine. */
    if (o->early_file) certa_config_set_max_early_data(cfg, EARLY_FILE_MAX);
    cli_tls_opts tls = o->tls;
    if (tls.crl_fetch && tls.revocation == CERTA_REVOCATION_REQUIRE)
        tls.revocation = CERTA_REVOCATION_PREFER;
    if ((r = cli_tls_apply(cfg, &tls, why, sizeof why)) != 0) {
        cli_err("connect: %s", why);
        certa_config_free(cfg);
        *usage = true;
        return NULL;
    }
    for (int i = 0; i < o->pin_count && !r; i++) {
        what = "--pin";
        r = certa_config_add_pin(cfg, o->pins[i]);
    }
    if (!r && o->insecure) certa_config_set_insecure(cfg, true);
    for (int i = 0; i < o->expect_count && !r; i++) {
        what = "--expect";
        r = certa_config_add_allow(cfg, o->expect[i]);
    }
    if (!r && o->alpn) {
        what = "--alpn";
        r = certa_config_set_alpn(cfg, o->alpn);
    }
    if (!r && o->ech_list) {
        what = "--ech-config";
        r = certa_config_set_ech_config_list(cfg, o->ech_list, o->ech_list_len);
    }
    if (!r) certa_config_set_ech_grease(cfg, o->ech_grease);
    if (!r && o->groups) {
        what = "--groups";
        r = certa_config_set_groups(cfg, o->groups);
    }
    if (!r && o->ciphers) {
        what = "--ciphers";
        r = certa_config_set_ciphers(cfg, o->ciphers);
    }
    if (r) {
        const char *t = certa_config_error_text(cfg);
        cli_err("%s: %s (%s)", what, *t ? t : certa_error_text(r), certa_error_name(r));
        certa_config_free(cfg);
        *usage = true;
        return NULL;
    }
    if (o->cert) {
        what = "--cert";
        r = certa_config_load_cert_chain(cfg, o->cert);
        if (!r) {
            what = "--key";
            r = cli_load_private_key(cfg, o->key);
        }
        if (!r) {
            what = "--cert";
            r = certa_config_check_key_sizes(cfg);
        }
        if (r) {
            const char *t = certa_config_error_text(cfg);
            cli_err("%s: %s (%s)", what, *t ? t : certa_error_text(r), certa_error_name(r));
            certa_config_free(cfg);
            return NULL;
        }
    }
    if (o->trust_count > 0) {
        /* Several --trust paths go into one set; the config borrows it. */
        certa_trust *t = certa_trust_new();
        if (!t) {
            cli_err("out of memory");
            certa_config_free(cfg);
            return NULL;
        }
        for (int i = 0; i < o->trust_count && !r; i++) {
            arg = o->trust[i];
            r = certa_trust_load(t, arg);
        }
        if (r) {
            const char *text = certa_trust_error_text(t);
            cli_err("--trust %s: %s (%s)", arg, *text ? text : certa_error_text(r),
                    certa_error_name(r));
            certa_trust_free(t);
            certa_config_free(cfg);
            return NULL;
        }
        certa_config_set_trust(cfg, t);
        *trust_out = t;
    }
    return cfg;
}

/* One connection; with retry, an ECH rejection that came with the server's
 * retry_configs hands them back (malloc'd) for a second attempt. */
static int connect_run(const connect_opts *opts, uint8_t **retry, size_t *retry_len) {
    connect_opts o = *opts;
    int rc;
    bool usage;
    certa_trust *trust = NULL; /* must outlive the config and the connection */
    certa_config *cfg = build_config(&o, &trust, &usage);
    if (!cfg) return usage ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
    cli_keylog keylog; /* outlives the connection, which holds the config */
    if (!cli_keylog_open("connect", o.keylog, &keylog)) {
        certa_config_free(cfg);
        certa_trust_free(trust);
        return CLI_EXIT_FAIL;
    }
    cli_keylog_attach(cfg, &keylog);
    if (keylog.fd >= 0) {
        char warn[600];
        cli_keylog_warning(&keylog, warn, sizeof warn);
        cli_err("connect: warning: %s", warn);
    }
    if (o.insecure)
        fprintf(stderr, "certa: WARNING: --insecure: the server's identity will NOT be checked; "
                        "anyone on the path can impersonate it. Use --pin or --trust for "
                        "anything that matters.\n");

    /* The name to verify; the engine never sends an IP address as SNI. */
    const char *name = o.servername ? o.servername : o.host;
    bool name_is_ip = cli_is_ip_literal(name);
    int64_t start = cli_now_ms();
    int64_t deadline = start + o.timeout_ms;
    int fd = tcp_connect(&o, deadline);
    if (fd < 0) {
        certa_config_free(cfg);
        certa_trust_free(trust);
        cli_keylog_close(&keylog);
        return CLI_EXIT_FAIL;
    }
    int64_t tcp_done = cli_now_ms();
    if (!o.quiet) fprintf(stderr, "* TCP connected in %lld ms\n", (long long)(tcp_done - start));

    early_send es = {0};
    if (o.early_file && !early_load(o.early_file, &es)) {
        close(fd);
        certa_config_free(cfg);
        certa_trust_free(trust);
        cli_keylog_close(&keylog);
        return CLI_EXIT_FAIL;
    }
    stored_session ss = {.o = &o};
    if (o.session_file) session_load(&o, &ss);
    certa_conn *conn =
        ss.blob ? certa_client_new_resume(cfg, name, ss.blob, ss.len) : certa_client_new(cfg, name);
    certa_config_free(cfg); /* the connection keeps its own reference */
    if (!conn) {
        cli_err("out of memory");
        close(fd);
        certa_trust_free(trust);
        free(ss.blob);
        free(es.data);
        cli_keylog_close(&keylog);
        return CLI_EXIT_FAIL;
    }
    if (!o.quiet) {
        if (o.pin_count > 0)
            fprintf(stderr, "* the server must present a key matching %d pin%s\n", o.pin_count,
                    o.pin_count == 1 ? "" : "s");
        else if (!o.insecure)
            fprintf(stderr, "* the server's chain will be validated against %s for %s %s\n",
                    o.trust_count ? "the --trust anchors" : "the system trust bundle",
                    name_is_ip ? "IP address" : "name", name);
    }
    /* Replays the ClientHello lines; with --quiet only a refused session is said. */
    if (!o.quiet || ss.blob) certa_conn_set_trace(conn, trace_line, &ss);
    if (es.data) { /* 0-RTT right behind the ClientHello, when the ticket allows */
        size_t allowed = certa_conn_early_allowed(conn);
        es.why_not = !ss.blob           ? "no stored --session"
                     : allowed == 0     ? "the stored session does not allow early data"
                     : allowed < es.len ? "the file is larger than the ticket allows"
                                        : NULL;
        es.sent_early = !es.why_not && certa_conn_write_early(conn, es.data, es.len) == CERTA_OK;
        if (!es.why_not && !es.sent_early) es.why_not = "the engine refused it";
    }

    int left = (int)(deadline - cli_now_ms());
    if (left < 1) left = 1;
    errno = 0;
    int r = certa_fd_handshake(conn, fd, left);
    int io_errno = errno;
    int64_t hs_ms = cli_now_ms() - tcp_done;
    const uint8_t *retry_list;
    size_t retry_list_len;
    if (r != CERTA_OK) {
        report_handshake_failure(conn, r, &o, io_errno);
        rc = CLI_EXIT_FAIL;
        if (retry && certa_conn_error(conn) == CERTA_E_ECH_REJECTED &&
            certa_conn_ech_retry_configs(conn, &retry_list, &retry_list_len) == CERTA_OK &&
            (*retry = malloc(retry_list_len)) != NULL) {
            memcpy(*retry, retry_list, retry_list_len);
            *retry_len = retry_list_len;
        }
    } else if (o.tls.crl_fetch && !check_fetched_crls(conn, &o, name, name_is_ip)) {
        certa_conn_close(conn); /* nothing was sent: the connection ends here */
        certa_fd_flush(conn, fd);
        rc = CLI_EXIT_FAIL;
    } else {
        if (!o.quiet) print_summary(conn, hs_ms, name_is_ip);
        certa_info info;
        certa_conn_info(conn, &info);
        bool early_failed = false;
        if (!o.quiet) print_early(&info, &es);
        if (o.ekm.label) cli_ekm_print(stderr, "* ", conn, &o.ekm);
        /* Early data not delivered goes now, as ordinary data. */
        if (es.data && !(es.sent_early && info.early_data_accepted) &&
            (r = certa_conn_write(conn, es.data, es.len)) != CERTA_OK) {
            cli_err("cannot send the --early-data file: %s (%s)", certa_conn_error_text(conn),
                    certa_error_name(r));
            early_failed = true;
        }
        /* The relay reads until the server closes: tickets come with its
         * first records after the handshake. */
        rc = early_failed ? CLI_EXIT_FAIL : relay(conn, fd, &o);
        if (o.session_file) session_save(conn, &ss);
    }
    if (ss.blob) {
        memset(ss.blob, 0, ss.len);
        free(ss.blob);
    }
    free(es.data);
    certa_conn_free(conn);
    close(fd);
    certa_trust_free(trust);
    cli_keylog_close(&keylog);
    return rc;
}

int cmd_connect(int argc, char **argv) {
    connect_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) {
        free(o.ech_list);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);
    uint8_t *retry = NULL;
    size_t retry_len = 0;
    rc = connect_run(&o, &retry, &retry_len);
    if (retry) { /* RFC 9849 §6.1.6: once, never again from a retry */
        if (!o.quiet)
            fprintf(stderr, "* ECH rejected: retrying once with the server's retry_configs\n");
        free(o.ech_list);
        o.ech_list = retry;
        o.ech_list_len = retry_len;
        rc = connect_run(&o, NULL, NULL);
    }
    free(o.ech_list);
    return rc;
}
