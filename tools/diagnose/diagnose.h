/* certa diagnose: what the probes share — the target and its connection
 * budget, the finding list, and each probe module's entry points. */
#ifndef CERTA_TOOLS_DIAGNOSE_H
#define CERTA_TOOLS_DIAGNOSE_H

#include "common/cli_common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ---- findings (findings.c) ---- */

typedef enum diag_severity { SEV_OK = 0, SEV_INFO, SEV_WARN, SEV_FAIL } diag_severity;

typedef struct diag_finding {
    const char *id;    /* stable: docs/diagnose.md lists them all */
    const char *group; /* the heading it is printed under */
    diag_severity severity;
    char *summary;  /* one line */
    char *evidence; /* what was seen */
    char *cause;    /* why it matters ("" for ok/info) */
    char *fix;      /* what to do ("" for ok/info) */
} diag_finding;

typedef struct diag_report {
    diag_finding *items;
    size_t count, cap;
} diag_report;

const char *diag_severity_name(diag_severity s);
/* Adds a finding. cause and fix may be NULL. A library sentence that holds
 * both ("... expired on X: renew it") may be passed as cause with fix NULL:
 * it is split at its last ": ". */
void diag_add(diag_report *r, const char *id, const char *group, diag_severity sev,
              const char *summary, const char *evidence, const char *cause, const char *fix);
/* The same with a printf evidence. */
void diag_addf(diag_report *r, const char *id, const char *group, diag_severity sev,
               const char *summary, const char *cause, const char *fix, const char *evidence_fmt,
               ...) __attribute__((format(printf, 8, 9)));
bool diag_has(const diag_report *r, diag_severity at_least);
void diag_report_free(diag_report *r);

/* What the run was about, for the report's head. */
typedef struct diag_meta {
    const char *target, *address, *servername;
    int64_t started; /* seconds since the epoch */
    int64_t duration_ms, tcp_ms;
    unsigned connections, max_connections;
} diag_meta;
void diag_print_text(FILE *out, const diag_report *r, const diag_meta *m);
/* JSON (docs/diagnose.schema.json); false if it could not be built. */
bool diag_print_json(FILE *out, const diag_report *r, const diag_meta *m);

/* ---- the target and its budget (diagnose.c) ---- */

typedef struct diag_ctx {
    const char *target;
    char host[256], port[8];
    const char *servername; /* SNI and name to verify; NULL for an IP literal */
    const char *trust_path; /* NULL: system bundle */
    const char *cert, *key; /* client certificate */
    int timeout_ms;         /* per connection */
    unsigned max_conns, used_conns;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char address[128]; /* "127.0.0.1:8443" */
    int64_t first_tcp_ms;
    bool progress;          /* a progress line on stderr (a TTY) */
    unsigned skipped;       /* probes not run: the budget was spent */
    bool hello_answered;    /* a raw ClientHello got a ServerHello or HRR */
    char skipped_what[256]; /* which probes the budget cut ("TLS 1.2 groups, ...") */
    /* From the TLS 1.2 cipher-suite probe: what its first ServerKeyExchange
     * named, and whether ECDHE / DHE suites were accepted. */
    uint16_t ske_group_first, ske_sig_first;
    bool ecdhe_accepted, dhe_accepted;
    certa_trust *trust;
} diag_ctx;

/* A TCP connection to the resolved address within the timeout, counted
 * against the budget. The fd (blocking), -1 on failure (why set), -2 when
 * the budget is spent. *tcp_ms (optional) gets the connect time. */
int diag_connect(diag_ctx *ctx, int64_t *tcp_ms, char *why, size_t cap);
bool diag_budget_left(const diag_ctx *ctx, unsigned n);
/* For the probes that enumerate (suites, groups): one more connection
 * leaves LIST_RESERVE for the single probes after them (weak and broken
 * TLS 1.2 suites, fallback SCSV, the large ClientHello, the weak signature
 * and DH checks). */
#define LIST_RESERVE 7
bool diag_list_budget_left(const diag_ctx *ctx);
/* A probe not run for want of budget: counted and named in BUDGET. */
void diag_skip(diag_ctx *ctx, const char *what);
void diag_progress(diag_ctx *ctx, const char *what);

/* ---- TLS probes with certa's own client (probe_tls.c) ---- */

#define PROBE_MAX_CHAIN 16

typedef struct tls_probe {
    /* asked for */
    uint16_t min_version, max_version; /* 0: 1.2..1.3 */
    const char *ciphers, *groups, *alpn;
    bool verify;       /* validate against ctx->trust (else insecure) */
    bool client_cert;  /* present ctx->cert/key if given */
    bool wait_tickets; /* read after the handshake until a ticket arrives */
    bool early_data;   /* config allows 0-RTT; send a little if the session allows */
    bool renegotiate;  /* TLS 1.2: certa_conn_probe_renegotiation after the handshake */
    certa_config *cfg; /* reuse (resumption); NULL: a new one, freed after */
    /* seen */
    bool connected, done;
    int error;
    char error_name[48], error_text[640];
    uint8_t alert_sent, alert_received;
    certa_info info;
    char alpn_buf[64];
    size_t chain_len;
    uint8_t *chain[PROBE_MAX_CHAIN];
    size_t chain_lens[PROBE_MAX_CHAIN];
    bool cert_requested, got_ticket, staple_seen, staple_good, early_sent;
    unsigned ticket_lifetime;
    char staple_text[512], revocation_note[512];
    char ca_names[512]; /* what the CertificateRequest lists: " (N): CN=a; CN=b" */
    int64_t tcp_ms, handshake_ms;
    bool reneg_sent; /* the renegotiation ClientHello went out */
    int reneg_error; /* CERTA_E_RENEGOTIATION_*, another failure (closed), 0: no answer */
    char reneg_text[320];
} tls_probe;

/* Runs one handshake as asked. false when no connection was made (budget
 * spent or TCP failure: error_text says which). */
bool tls_probe_run(diag_ctx *ctx, tls_probe *p);
/* The config a probe would make, to share between probes (resumption):
 * set it as p->cfg of each, free it after. NULL with why on failure. */
certa_config *tls_probe_config(diag_ctx *ctx, const tls_probe *p, char *why, size_t cap);
void tls_probe_clear(tls_probe *p);

/* ---- raw ClientHello probes (probe_raw.c) ---- */

typedef struct raw_hello {
    uint16_t record_version; /* version in the record header */
    uint16_t legacy_version; /* ClientHello.legacy_version */
    const uint16_t *suites;
    size_t suite_count;
    const uint16_t *groups;
    size_t group_count;
    bool tls13;           /* supported_versions {1.3, 1.2} and an empty key_share */
    const uint16_t *sigs; /* signature_algorithms; sig_count 0: the usual list */
    size_t sig_count;
    bool fallback_scsv;
    bool reneg_info;   /* empty renegotiation_info extension */
    bool x25519_share; /* tls13: an x25519 key share (a point of no one's key), not empty */
    bool want_ske;     /* read on to a TLS 1.2 ServerKeyExchange */
    size_t pad_to;     /* padding extension up to this ClientHello size; 0: none */
    bool split;        /* send in two TCP segments, 20 ms apart */
} raw_hello;

typedef enum raw_outcome {
    RAW_SERVER_HELLO = 0,
    RAW_HELLO_RETRY,
    RAW_ALERT,
    RAW_CLOSED,  /* the server closed without an answer */
    RAW_TIMEOUT, /* no answer in time */
    RAW_GARBAGE, /* the answer is not TLS */
    RAW_NO_CONN, /* no connection (budget, TCP) */
} raw_outcome;

/* What came back, parsed by raw_parse_answer (cursor API). */
typedef struct raw_answer {
    raw_outcome outcome;
    uint8_t alert_level, alert;
    uint16_t version;      /* negotiated: supported_versions, else legacy_version */
    uint16_t suite, group; /* group: HRR's or key_share's selected group */
    uint8_t random[32];
    bool reneg_info;      /* the server sent renegotiation_info */
    bool downgrade_tls12; /* random ends "DOWNGRD\1" */
    bool downgrade_tls11; /* random ends "DOWNGRD\0" */
    /* want_ske: what a TLS 1.2 ServerKeyExchange said */
    bool ske_seen;
    uint16_t ske_group; /* ECDHE named group */
    uint16_t ske_sig;   /* signature scheme (TLS 1.2) */
    unsigned dh_bits;   /* DHE: size of the prime */
} raw_answer;

int raw_build_hello(const raw_hello *h, const char *sni, uint8_t *out, size_t cap, size_t *len);
/* Parses the server's first flight bytes: 1 = complete (a ServerHello,
 * HRR or alert, in a; with want_ske a TLS 1.2 ServerHello is complete at
 * its ServerKeyExchange or at a message that shows there is none), 0 = need
 * more bytes, -1 = not TLS. */
int raw_parse_answer(const uint8_t *data, size_t len, bool want_ske, raw_answer *a);
/* Connects, sends the hello, reads the answer. */
void raw_probe(diag_ctx *ctx, const raw_hello *h, raw_answer *a);
const char *raw_suite_name(uint16_t suite);

/* The probe groups (probe_raw.c): legacy versions, TLS 1.2 and 1.3 suites
 * and preference, groups, fallback SCSV, sentinel, renegotiation_info, a
 * split ClientHello over 1,500 bytes. tls13/tls12: what the TLS probes found. */
void raw_probes(diag_ctx *ctx, diag_report *r, bool tls13, bool tls12);

/* ---- TLS 1.2 groups, signature schemes (probe_groups_sigs.c) ---- */

/* After raw_probes (which fill ctx's ServerKeyExchange fields): TLS 1.2
 * groups and DH prime, TLS 1.2 and 1.3 signature schemes, the weak first.
 * leaf_key_type: certa_cert_details.key_type of the leaf (NULL: unknown);
 * sig13_seen: the scheme of the TLS 1.3 handshake's CertificateVerify. */
void groups_sigs_probes(diag_ctx *ctx, diag_report *r, bool tls13, bool tls12,
                        const char *leaf_key_type, uint16_t sig13_seen);

/* ---- the chain and the certificate (chain.c) ---- */

void chain_analyse(diag_ctx *ctx, diag_report *r, const tls_probe *p);

#endif
