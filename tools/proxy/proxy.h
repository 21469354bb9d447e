/* certa proxy: a mutual-TLS sidecar (terminate TLS in front of a plaintext
 * service, or bridge a plaintext client into TLS). Shared declarations of
 * proxy_main.c (options, configs and their reload, signals), proxy_loop.c
 * (the per-worker epoll loop and connection state) and proxy_log.c (one line
 * per connection, text or JSON). */
#ifndef CERTA_PROXY_H
#define CERTA_PROXY_H

#include "common/cidr.h"
#include "common/cli_common.h"
#include "common/ech_cli.h"
#include "common/keylog_file.h"
#include "revocation/ocsp_stapler.h"

#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>

typedef enum proxy_mode {
    PROXY_TERMINATE = 0, /* TLS in from the listener, plaintext out to --backend */
    PROXY_BRIDGE         /* plaintext in from the listener, TLS out to --upstream */
} proxy_mode;

typedef enum proxy_log_format { PROXY_LOG_TEXT = 0, PROXY_LOG_JSON } proxy_log_format;

#define PROXY_MAX_RULES 64
#define PROXY_MAX_ADDRS 8

/* A resolved address to connect to (the backend or the upstream). */
typedef struct proxy_addr {
    struct sockaddr_storage sa;
    socklen_t len;
} proxy_addr;

/* --deny-ja4 / --allow-ja4 (proxy_ja4.c): sorted JA4 values and JA4_a
 * prefixes, each NUL-terminated. */
typedef struct proxy_ja4_list {
    char (*entries)[37];
    size_t count, cap;
} proxy_ja4_list;

typedef struct proxy_opts {
    proxy_mode mode;
    const char *listen;
    const char *target;     /* --backend or --upstream, as given */
    cli_pairs pairs;        /* --cert/--key, repeatable: the first is the default */
    bool sni_strict;        /* terminate: refuse a server_name no certificate is for */
    cli_ech_keys ech;       /* terminate: --ech-key/--ech-config pairs */
    const char *client_ca;  /* terminate: trust for client certificates */
    const char *trust;      /* bridge: trust for the upstream's certificate */
    const char *servername; /* bridge: SNI and name to verify (default: the host) */
    const char *rules[PROXY_MAX_RULES];
    size_t rule_count;
    const char *pins[PROXY_MAX_RULES]; /* bridge: --pin */
    size_t pin_count;
    bool insecure;   /* bridge: --insecure (development only) */
    int client_auth; /* certa_client_auth, or -1 = default */
    const char *alpn, *ciphers, *groups;
    cli_tls_opts tls;   /* --profile, --min-version, --max-version, --allow-no-ems */
    cli_ocsp_opts ocsp; /* terminate mode: --ocsp FILE, --ocsp-fetch */
    long workers;
    long max_conns, max_handshakes;
    bool max_conns_given; /* --max-conns was on the command line */
    int handshake_timeout_ms, idle_timeout_ms, drain_timeout_ms;
    int connect_timeout_ms;
    proxy_log_format log_format;
    bool quiet;   /* no per-connection lines (start-up, reload and errors still logged) */
    long tickets; /* terminate: session tickets per handshake (0 = no resumption) */
    /* Made at start-up (rotating every 6 h) or read from --ticket-keys, and
     * set on every config built, reloads included, so that tickets survive
     * a certificate rotation. */
    certa_ticket_keys *ticket_keys;
    const char *ticket_key_file; /* --ticket-keys FILE (a fleet's), or NULL */
    const char *store;           /* --store redis://... (a fleet's keys), or NULL */
    bool proxy_protocol;         /* terminate: --proxy-protocol (v2 header to the backend) */
    /* terminate: --accept-proxy-protocol: each connection starts with a
     * PROXY v1/v2 header from a load balancer at one of these addresses
     * (--accept-proxy-protocol-from; default loopback); others are refused */
    bool accept_proxy_protocol;
    cidr_list proxy_protocol_from;
    char proxy_protocol_from_text[256]; /* as given, for the start-up line */
    const char *metrics;                /* --metrics HOST:PORT (Prometheus), or NULL */
    long early_data;         /* terminate: --early-data BYTES (0-RTT accepted), 0 = off */
    long early_window;       /* --early-data-window SECONDS; 0: the library default */
    long ticket_rotation;    /* --ticket-rotation SECONDS (default 21600) */
    long ticket_lifetime;    /* --ticket-lifetime SECONDS (default 7200) */
    const char *keylog_path; /* --keylog FILE (else SSLKEYLOGFILE) */
    cli_keylog *keylog;      /* the open key log, set on every config built */
    /* terminate: clients judged by the JA4 of each ClientHello */
    proxy_ja4_list ja4_deny, ja4_allow;
    bool ja4_log_only; /* --ja4-log-only: log "would refuse", admit */
    bool log_ja3;      /* --log-ja3: ja3= next to ja4= in the close line */
    /* --acme (proxy_acme.h): the proxy obtains its own certificate; or NULL */
    struct proxy_acme_opts *acme;
    /* --spiffe-socket: the certificate, key and trust bundles come from the
     * SPIFFE Workload API stream instead of files */
    const char *spiffe_socket;
    struct spiffe_source *spiffe;
} proxy_opts;

/* State shared by all workers. */
/* Counters for --metrics (proxy_metrics.c): bumped by the workers, read by
 * the metrics thread; relaxed atomics (a scrape is a snapshot, not a
 * transaction). */
#define PROXY_HS_BUCKETS 10
#define PROXY_ERROR_SLOTS 128
/* The close line's reasons ("clean", "backend reset", ...), counted by
 * proxy_metrics_closed; anything else is the last slot, "other". */
#define PROXY_CLOSE_REASONS 18
/* --accept-proxy-protocol outcomes: a header taken (v1, v2, v2 LOCAL), or
 * the connection refused (invalid header, none in time, untrusted source) */
typedef enum proxy_pp_result {
    PROXY_PP_V1 = 0,
    PROXY_PP_V2,
    PROXY_PP_LOCAL,
    PROXY_PP_INVALID,
    PROXY_PP_TIMEOUT,
    PROXY_PP_UNTRUSTED,
    PROXY_PP_RESULTS
} proxy_pp_result;
typedef struct proxy_metrics {
    atomic_ulong hs_ok[2], hs_failed[2]; /* [0] TLS 1.3, [1] TLS 1.2 (or unknown) */
    atomic_ulong hs_resumed;
    atomic_ulong hs_bucket[PROXY_HS_BUCKETS]; /* by handshake time, cumulative at scrape */
    atomic_ulong hs_ms_sum;
    atomic_ulong bytes_in, bytes_out;
    atomic_ulong reloads_ok, reloads_failed;
    atomic_ulong refused[PROXY_ERROR_SLOTS];  /* failed handshakes by CERTA_E_* code */
    atomic_ulong refused_ja4;                 /* clients refused by --deny-ja4/--allow-ja4 */
    atomic_ulong ja4_would_refuse;            /* the same under --ja4-log-only */
    atomic_ulong pp_in[PROXY_PP_RESULTS];     /* --accept-proxy-protocol headers by result */
    atomic_ulong closed[PROXY_CLOSE_REASONS]; /* closed connections by the log's reason */
} proxy_metrics;

typedef struct proxy_shared {
    const proxy_opts *opts;
    char listen_host[256], listen_port[16];
    char target_host[256], target_port[16];
    char servername[256]; /* bridge: SNI sent, "" for an IP literal upstream */
    proxy_addr target_addrs[PROXY_MAX_ADDRS];
    size_t target_addr_count;

    /* The config for new connections; swapped by reloads. Connections hold
     * their own reference, so an old config lives until its last one ends. */
    pthread_mutex_t cfg_lock;
    certa_config *cfg;
    unsigned long cfg_generation;

    atomic_long conns;      /* open connections, all workers */
    atomic_long handshakes; /* connections still in their handshake */
    atomic_ulong next_id;
    atomic_int stopping; /* 1 once SIGTERM/SIGINT arrived */
    proxy_metrics metrics;
    _Atomic int64_t drain_until; /* monotonic ms deadline once stopping */
    struct proxy_acme *acme;     /* --acme: the certificate's own ACME client, or NULL */
} proxy_shared;

/* ---- proxy_metrics.c ---- */
/* Handshake outcomes, bytes, reloads for --metrics. */
void proxy_metrics_handshake(proxy_shared *sh, bool ok, uint16_t version, bool resumed, int64_t ms,
                             int code);
void proxy_metrics_bytes(proxy_shared *sh, uint64_t in, uint64_t out);
/* A client refused by its JA4 (or, with log_only, one that would have been). */
void proxy_metrics_ja4(proxy_shared *sh, bool log_only);
void proxy_metrics_proxy_header(proxy_shared *sh, proxy_pp_result result);
void proxy_metrics_closed(proxy_shared *sh, const char *reason);
/* --metrics HOST:PORT: serves GET /metrics (Prometheus text format) from a
 * thread of its own. 0, or -1 with why. */
int proxy_metrics_start(proxy_shared *sh, const char *addr, char *bound, size_t bound_cap,
                        char *why, size_t cap);
void proxy_metrics_stop(void);

/* ---- proxy_main.c ---- */
int cmd_proxy(int argc, char **argv);
/* Builds a config from the options' files; NULL with *why filled on failure. */
certa_config *proxy_build_config(const proxy_opts *o, char *why, size_t why_cap);

/* ---- proxy_loop.c ---- */
typedef struct proxy_worker proxy_worker;
/* Opens the listening sockets (one per worker, SO_REUSEPORT on one port).
 * Returns 0, or -1 with a message printed. bound gets "host:port". */
int proxy_workers_create(proxy_shared *sh, long count, proxy_worker **out, char *bound,
                         size_t bound_cap);
int proxy_workers_start(proxy_worker *w, long count);
void proxy_workers_join(proxy_worker *w, long count);
void proxy_workers_free(proxy_worker *w, long count);

/* ---- proxy_ja4.c ---- */
/* Adds LIST (comma-separated values and/or @FILE) to l; false with a
 * sentence in why for a malformed value or an unreadable file. */
bool proxy_ja4_list_add(proxy_ja4_list *l, const char *arg, const char *option, char *why,
                        size_t cap);
/* ja4 equals an entry, or begins with an entry that is a JA4_a. */
bool proxy_ja4_list_match(const proxy_ja4_list *l, const char *ja4);
void proxy_ja4_list_free(proxy_ja4_list *l);
/* Why the options refuse a client with this JA4 ("is on --deny-ja4"), or
 * NULL to admit it. */
const char *proxy_ja4_verdict(const proxy_opts *o, const char *ja4);

/* ---- proxy_log.c ---- */

/* Everything the close line says about one connection. */
typedef struct proxy_conn_record {
    unsigned long id;
    const char *mode; /* "terminate" / "bridge" */
    char peer[80];    /* the client's address (from a PROXY header when one was accepted) */
    char lb[80];      /* --accept-proxy-protocol: the load balancer's address, else "" */
    char target[80];  /* the backend or upstream address used, "" if none */
    bool handshake_done;
    char identity[320]; /* SPIFFE ID, DNS SAN or subject of the TLS peer, "" if none */
    bool identity_verified;
    const char *version; /* "TLSv1.3" or NULL */
    const char *suite;   /* cipher suite name or NULL */
    const char *group;   /* key-exchange group name or NULL */
    bool resumed;        /* the handshake resumed a session (no certificates) */
    /* terminate: the client's server_name and our certificate's DNS name it
     * matched (NULL = the default), both NULL without SNI; valid while the
     * line is logged (they point into the connection) */
    const char *sni;
    const char *cert;
    /* terminate: ECH's outcome ("accepted", "not-decrypted", NULL without it)
     * and the outer hello's server_name (the public name, never the real one) */
    const char *ech;
    const char *public_name;
    int64_t handshake_ms; /* -1 if the handshake did not finish */
    int64_t duration_ms;
    uint64_t bytes_in;      /* application bytes from the accepted peer */
    uint64_t bytes_out;     /* application bytes to the accepted peer */
    const char *reason;     /* "clean", "peer reset", "handshake failure", "timeout", ... */
    const char *error_name; /* "CERTA_E_..." or NULL */
    const char *detail;     /* the explanation, NULL if none (valid while logged) */
    size_t early_data;      /* 0-RTT bytes accepted and forwarded to the backend */
    bool early_rejected;    /* the client sent early data that was rejected */
    /* terminate: the JA4 (and JA3 MD5) of the client's ClientHello and of
     * its second one after a HelloRetryRequest; "" if none */
    char ja4[40], ja3[33];
    char ja4_retry[40], ja3_retry[33];
    bool log_ja3; /* --log-ja3 */
} proxy_conn_record;

void proxy_log_init(proxy_log_format fmt);
/* One line for a closed connection. */
void proxy_log_conn(const proxy_conn_record *r);
/* One line for an event ("listening", "reload", "reload-failed", "shutdown",
 * "error"); msg is the human sentence. Extra key/value string pairs follow
 * (NULL-terminated). */
void proxy_log_event(const char *event, const char *msg, ...);
/* The identity string of a TLS peer: SPIFFE ID, else first DNS SAN, else
 * subject; "" if the peer sent no certificate. */
void proxy_identity_string(const certa_conn *conn, char *out, size_t cap, bool *verified);

#endif
