/* Small helpers shared by the certa subcommands. */
#ifndef CERTA_CLI_COMMON_H
#define CERTA_CLI_COMMON_H

#include "certa.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define CERTA_CLI_VERSION CERTA_VERSION

/* Exit codes. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

/* Subcommands (one file each). */
int cmd_serve(int argc, char **argv);
int cmd_connect(int argc, char **argv);
int cmd_ca_ocsp(int argc, char **argv); /* certa ca ocsp: the OCSP responder */

/* Option parsing: if argv[*i] is "--name VALUE" or "--name=VALUE", sets
 * *val (advancing *i past VALUE) and returns 1; a missing value is reported
 * and returns -1; another argument returns 0. */
int cli_opt(int argc, char **argv, int *i, const char *name, const char **val);

/* "certa CMD: AREA: message" on stderr: the line of a background helper
 * (the OCSP stapler, the CRL fetcher, the ticket store). */
void cli_log(const char *cmd, const char *area, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Where cli_log lines go instead (certa proxy --log-format json: its own
 * log lines, event = AREA); NULL = stderr as above. Set before the helpers start. */
typedef void (*cli_log_sink)(const char *area, const char *msg);
void cli_log_set_sink(cli_log_sink sink);

/* Prints "certa: <message>" to stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic clock in milliseconds. */
int64_t cli_now_ms(void);

/* Parses a decimal integer in [min, max]; false if malformed or out of range. */
bool cli_parse_long(const char *s, long min, long max, long *out);
/* Parses a positive number of seconds (fractions allowed, up to a day) to ms. */
bool cli_parse_seconds(const char *s, int *out_ms);

/* Splits "host:port", "[v6]:port" or "[v6]" / "host" (default_port then used).
 * host gets the host without brackets. */
bool cli_split_host_port(const char *arg, char *host, size_t host_cap, char *port, size_t port_cap,
                         const char *default_port);
/* True if s is an IPv4 or IPv6 literal. */
bool cli_is_ip_literal(const char *s);

/* "127.0.0.1:443" / "[::1]:443" for a socket address. */
void cli_format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t cap);

/* "2026-11-23 16:44:36 UTC" */
void cli_format_time(int64_t t, char *out, size_t cap);

/* "TLSv1.3" etc. */
const char *cli_version_name(uint16_t version);

/* The alert part of a failure: "alert handshake_failure", "alert
 * protocol_version from the peer" or "no alert". */
void cli_describe_alert(const certa_conn *conn, char *out, size_t cap);

int cli_set_nonblocking(int fd);

/* For the servers' accept loops: SIGPIPE ignored, SIGINT and SIGTERM to
 * on_stop without SA_RESTART (so that poll() wakes up to see it). */
void cli_catch_stop_signals(void (*on_stop)(int));

/* A non-blocking listening TCP socket on host ("127.0.0.1", "::1", "[::1]")
 * and port ("0": any free one), SO_REUSEADDR (and SO_REUSEPORT if asked);
 * bound gets the address actually bound ("127.0.0.1:40123"). The fd, or
 * -1 with why ("cannot listen on 127.0.0.1 port 80: Permission denied"). */
int cli_listen(const char *host, const char *port, int backlog, bool reuse_port, char *bound,
               size_t bound_cap, char *why, size_t why_cap);

/* A connection over a non-blocking socket: the sans-I/O loop's buffers. */
typedef struct cli_link {
    certa_conn *conn;
    int fd;
    uint8_t in[16384 + 512];
    size_t in_off, in_len; /* received bytes not yet taken by the engine */
    bool tcp_eof;          /* the socket reached end of file */
    int io_errno;          /* last socket error, 0 if none */
} cli_link;

/* Sends what the engine has queued, as much as the socket takes without
 * blocking. 0 = ok (maybe partial), -1 = socket error (io_errno set). */
int cli_link_send(cli_link *l);
/* Bytes the engine still has to send. */
size_t cli_link_pending(cli_link *l);
/* Reads what the socket has into the input buffer (only when it is empty).
 * 1 = got bytes, 0 = nothing now, -1 = socket error; tcp_eof set at EOF. */
int cli_link_read(cli_link *l);
/* Feeds buffered input to the engine until it is all taken or decrypted
 * data waits to be read. Returns CERTA_OK or the engine's error. */
int cli_link_feed(cli_link *l);
/* Best effort: deliver queued bytes (e.g. a fatal alert) within max_ms. */
void cli_link_drain_out(cli_link *l, int max_ms);
/* After our close_notify: half-close, then read and drop what the peer still
 * sends for up to max_ms so close() does not reset the connection. */
void cli_link_linger(cli_link *l, int max_ms);

/* ---- protocol versions and profiles (serve, connect, proxy) ---- */

/* --export-keying-material LABEL:LEN (RFC 8446 7.5 / RFC 5705). */
typedef struct cli_ekm {
    const char *label; /* NULL: not asked for; the label is label[0 .. label_len) */
    size_t label_len, len;
} cli_ekm;
/* Parses the option like cli_opt (1 taken, 0 not this option, -1 reported). */
int cli_ekm_opt(int argc, char **argv, int *i, const char *cmd, cli_ekm *e);
/* Writes "PREFIXKeying material: HEX" to out, as openssl prints it. */
void cli_ekm_print(FILE *out, const char *prefix, certa_conn *conn, const cli_ekm *e);

#define CLI_MAX_CRLS 16

/* What --profile, --min-version, --max-version, --allow-no-ems,
 * --cert-compression, --record-size-limit, --crl, --crl-fetch, --revocation,
 * --ct-logs and --require-sct asked for. */
typedef struct cli_tls_opts {
    const char *profile;           /* NULL: the library defaults */
    uint16_t min_version;          /* 0: not given */
    uint16_t max_version;          /* 0: not given */
    bool allow_no_ems;             /* --allow-no-ems */
    const char *cert_compression;  /* --cert-compression LIST|off; NULL: the default */
    unsigned record_size_limit;    /* --record-size-limit N (RFC 8449); 0: not given */
    const char *crl[CLI_MAX_CRLS]; /* --crl FILE|DIR, repeatable */
    size_t crls;
    int revocation; /* --revocation off|prefer|require as certa_revocation; 0: not given */
    bool crl_fetch; /* --crl-fetch: CRLs from distribution points (crl_fetcher.h) */
    /* --ct-logs FILE: CT logs (v3 log-list JSON) the peer's SCTs are checked
     * against; --require-sct: refuse a leaf without enough valid SCTs */
    const char *ct_logs;
    bool require_sct;
} cli_tls_opts;

/* If argv[*i] is one of these options, parses it into o (advancing *i past
 * its value) and returns 1; a bad or missing value is reported (with the
 * command's name) and returns -1: exit with CLI_EXIT_USAGE; any other
 * argument returns 0. */
int cli_tls_opt(int argc, char **argv, int *i, const char *cmd, cli_tls_opts *o);
/* Checks what cli_tls_opt gathered once all arguments are read (min above
 * max), and prints the --allow-no-ems warning. false: exit with
 * CLI_EXIT_USAGE (reported). */
bool cli_tls_finish(const char *cmd, const cli_tls_opts *o);
/* Applies the options to cfg: the profile first, then the explicit flags,
 * whatever their order on the command line. Returns CERTA_OK, or the
 * failing call's code with a sentence in why. */
int cli_tls_apply(certa_config *cfg, const cli_tls_opts *o, char *why, size_t cap);
/* The options' lines for a command's --help (indent: the column of the
 * descriptions). */
void cli_tls_usage(FILE *out, int indent);
/* Each profile's name and what it sets (from the library's table). */
void cli_profiles_usage(FILE *out);

/* ---- certificate/key pairs (serve, proxy) ---- */

#define CLI_MAX_PAIRS 256

/* Repeated --cert FILE and --key FILE: the n-th --key goes with the n-th
 * --cert; the first pair is the default certificate, the others are chosen
 * by the client's server_name (SNI). */
typedef struct cli_pairs {
    const char *cert[CLI_MAX_PAIRS];
    const char *key[CLI_MAX_PAIRS];
    size_t certs, keys;
} cli_pairs;

/* If argv[*i] is --cert or --key, records it in p (advancing *i past its
 * value) and returns 1; a missing or empty value, or too many, is reported
 * (with the command's name) and returns -1; any other argument returns 0. */
int cli_pair_opt(int argc, char **argv, int *i, const char *cmd, cli_pairs *p);
/* As many --key as --cert? false: reported, exit with CLI_EXIT_USAGE. */
bool cli_pairs_finish(const char *cmd, const cli_pairs *p);
/* Loads every pair into cfg (the first with certa_config_load_cert_chain /
 * load_private_key, the others with certa_config_add_identity_files).
 * Returns CERTA_OK, or the failing call's code with why = "--cert FILE:
 * sentence (CODE)" (for the first pair "--cert: ..." / "--key: ..." as
 * before several were possible). */
int cli_pairs_load(certa_config *cfg, const cli_pairs *p, char *why, size_t cap);

/* --key values: a file, or a PKCS#11 URI ("pkcs11:...", RFC 7512) for a
 * key that stays on a token (certa_config_set_private_key_uri). */
bool cli_key_is_uri(const char *key);
int cli_load_private_key(certa_config *cfg, const char *key);
int cli_add_identity(certa_config *cfg, const char *cert, const char *key);
/* --pkcs11-module PATH: the module for URIs without module-path (it sets
 * PKCS11_MODULE_PATH, which the library reads). 1, 0 or -1 as cli_opt. */
int cli_pkcs11_module_opt(int argc, char **argv, int *i);

#endif
