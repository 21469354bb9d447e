/* certa scan: what its parts share — targets, one endpoint's facts and
 * findings, the policy, and each module's entry points. */
#ifndef CERTA_TOOLS_SCAN_H
#define CERTA_TOOLS_SCAN_H

#include "common/cli_common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

/* ---- targets (targets.c) ---- */

typedef struct scan_target {
    char spec[540]; /* "HOST:PORT[,SNI]" as the results name it */
    char host[256]; /* without brackets */
    char port[8];
    char sni[256]; /* "" : the host when it is a name, none for an IP literal */
    struct sockaddr_storage addr;
    socklen_t addr_len; /* 0: not resolved (error says why) */
    char address[128];  /* "127.0.0.1:8443" */
    size_t host_index;  /* into the distinct addresses, for the per-host cap */
    char error[400];    /* why it could not be resolved */
} scan_target;

typedef struct scan_targets {
    scan_target *items;
    size_t count, cap;
} scan_targets;

/* One target: "HOST:PORT[,SNI]" or "[V6]:PORT[,SNI]", where PORT may be a
 * list "443,8443,9000-9010" (an SNI is never all digits). Appends one
 * target per port; false with why. */
bool scan_targets_add_spec(scan_targets *t, const char *spec, size_t len, char *why, size_t cap);
/* A targets file's text: one spec a line, '#' starts a comment, blank lines
 * skipped. false with why ("line 3: ...") at the first bad line. */
bool scan_targets_parse(scan_targets *t, const uint8_t *text, size_t len, char *why, size_t cap);
/* Resolves every target (numeric first, then getaddrinfo; error set when
 * not) and numbers the distinct addresses. Returns how many there are. */
size_t scan_targets_resolve(scan_targets *t);
void scan_targets_free(scan_targets *t);

/* ---- one endpoint's result ---- */

typedef enum scan_sev { SCAN_OK = 0, SCAN_INFO, SCAN_WARN, SCAN_FAIL } scan_sev;
const char *scan_sev_name(scan_sev s);

typedef enum scan_status {
    SCAN_PENDING = 0,
    SCAN_TLS,        /* the handshake completed */
    SCAN_TLS_FAILED, /* TLS answered, the handshake failed */
    SCAN_REFUSED,    /* connection refused */
    SCAN_TIMEOUT,    /* connect or handshake timed out */
    SCAN_NOT_TLS,    /* the peer answered with something else */
    SCAN_CLOSED,     /* the peer closed before the handshake was done */
    SCAN_UNRESOLVED, /* no address */
    SCAN_ERROR,      /* another socket error */
} scan_status;
const char *scan_status_name(scan_status s);

typedef struct scan_finding {
    const char *id;
    scan_sev sev;
    char text[300];
} scan_finding;

#define SCAN_MAX_FINDINGS 16
#define SCAN_MAX_CHAIN 8

/* Facts of one certificate (cert_facts.c). */
typedef struct scan_cert {
    char subject[256], issuer[256];
    char serial[96];  /* hex, colon-free, lower case */
    char sig_alg[40]; /* "ecdsa-with-SHA256" */
    char key_type[32];
    unsigned key_bits;
    char spki_sha256[64];
    char dns_names[1024], ip_addresses[256], spiffe_id[256];
    int64_t not_before, not_after;
    bool self_issued, is_ca;
} scan_cert;

typedef struct scan_chain_entry {
    char subject[256], issuer[256];
    int64_t not_after;
    char key_type[32];
} scan_chain_entry;

typedef struct scan_result {
    scan_status status;
    char error[300];
    int64_t connect_ms, handshake_ms;
    uint16_t version, group, suite;
    char alpn[32];
    bool has_leaf;
    scan_cert leaf;
    size_t chain_len;                       /* certificates sent, leaf included */
    scan_chain_entry chain[SCAN_MAX_CHAIN]; /* after the leaf */
    int verify_code;                        /* certa_verify_chain's */
    char verify_text[512];
    bool staple_good;
    /* the second handshake, TLS 1.2 only, after a TLS 1.3 one (when asked):
     * 1 accepted, 0 refused, -1 not tried or no answer */
    int tls12_accepted;
    int64_t scanned_at;
    scan_finding findings[SCAN_MAX_FINDINGS];
    size_t finding_count;
    scan_sev worst;
} scan_result;

void scan_add_finding(scan_result *r, const char *id, scan_sev sev, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- certificate facts (cert_facts.c) ---- */

/* Serial number (hex) and signature algorithm of a DER certificate, read
 * with the cursor API; false when it is not a certificate. */
bool scan_cert_serial_sigalg(const uint8_t *der, size_t len, char *serial, size_t serial_cap,
                             char *sig_alg, size_t sig_cap);
/* Everything a scan reports about one certificate. */
bool scan_cert_facts(const uint8_t *der, size_t len, scan_cert *out);

/* ---- policy (policy.c) ---- */

typedef struct scan_policy {
    char name[64]; /* "default", a profile's name or the file's path */
    unsigned min_rsa_bits, min_ec_bits;
    unsigned max_validity_days;          /* 0: not checked */
    double warn_fraction, fail_fraction; /* of the lifetime left */
    unsigned warn_days, fail_days;       /* days left */
    uint16_t min_tls_version;
    char allowed_sig_algs[512]; /* ", "-separated, "" = any but MD5 and SHA-1 */
    char allowed_issuers[1024]; /* "; "-separated subjects, "" = any */
    scan_sev wildcard, self_signed, name_mismatch, untrusted, unreachable, old_tls;
} scan_policy;

void scan_policy_default(scan_policy *p);
/* A certa profile (certa_profile_name) as a policy: its TLS versions and key
 * minimums, stricter lifetimes for high-security. false with why. */
bool scan_policy_profile(scan_policy *p, const char *name, char *why, size_t cap);
/* The policy file's text (docs/scan.md: "key = value" lines, '#'
 * comments), applied over p. false with why ("line 4: ..."). */
bool scan_policy_parse(scan_policy *p, const uint8_t *text, size_t len, char *why, size_t cap);
/* The findings for one result, by the policy. */
void scan_judge(const scan_policy *p, const scan_target *t, scan_result *r, int64_t now);

/* ---- the engine (scan_loop.c) ---- */

typedef struct scan_options {
    unsigned concurrency; /* global cap */
    unsigned per_host;    /* cap per address */
    int connect_timeout_ms, handshake_timeout_ms;
    double rate; /* connections started per second; 0 = no limit */
    const char *alpn;
    bool check_tls12; /* a TLS 1.2-only handshake after a TLS 1.3 one */
    bool progress;    /* a progress bar on stderr */
    certa_trust *trust;
} scan_options;

typedef struct scan_stats {
    unsigned max_in_flight;
    int64_t duration_ms;
    size_t peak_rss_kb;
} scan_stats;

/* Scans every target, filling results[i] for targets->items[i]. false with
 * why when the scan could not run at all. */
bool scan_run(const scan_targets *t, const scan_options *o, scan_result *results, scan_stats *stats,
              char *why, size_t cap);

/* ---- reports (report_*.c) ---- */

typedef struct scan_report {
    const scan_targets *targets;
    const scan_result *results;
    const scan_policy *policy;
    const scan_stats *stats;
    int64_t started;
    struct scan_diff *diff; /* NULL unless --diff */
} scan_report;

void scan_report_table(FILE *out, const scan_report *r);
bool scan_report_json(FILE *out, const scan_report *r);
void scan_report_csv(FILE *out, const scan_report *r);
bool scan_report_prom(const char *path, const scan_report *r, char *why, size_t cap);

/* ---- --diff (diff.c) ---- */

typedef enum scan_change {
    CHANGE_NEW = 0,
    CHANGE_ROTATED,
    CHANGE_DISAPPEARED,
    CHANGE_EXPIRING,
} scan_change;
const char *scan_change_name(scan_change c);

typedef struct scan_diff_item {
    scan_change change;
    char target[540];
    char detail[400];
} scan_diff_item;

typedef struct scan_diff {
    scan_diff_item *items;
    size_t count, cap;
} scan_diff;

/* Compares this scan with a previous --json output. false with why. */
bool scan_diff_load(scan_diff *d, const char *old_json_path, const scan_report *now, char *why,
                    size_t cap);
void scan_diff_free(scan_diff *d);

#endif
