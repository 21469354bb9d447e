/* certa proxy --acme: the proxy obtains and renews its own certificate.
 * A thread of its own runs the ACME client (tools/acme/) and the renewal
 * schedule (tools/renew/renew_plan.h) against a state directory laid out
 * as certa renew's (tools/renew/state_dir.h: account.key, releases/N,
 * current -> releases/N), so a restart serves the stored certificate
 * without ordering again. tls-alpn-01 is answered on the proxy's own TLS
 * listener: while an order is pending, a worker reads each new
 * connection's first ClientHello before the engine does, and one that
 * offers acme-tls/1 for a pending identifier gets a connection made from
 * that identifier's validation config (tools/acme/tls_alpn_validation.h)
 * instead of being proxied. Until there is a first certificate, every other
 * handshake is refused with a log line saying so. A new certificate is
 * installed and the main thread told (proxy_acme_fd), which reloads the
 * config for new handshakes; established connections keep theirs. */
#ifndef CERTA_PROXY_ACME_H
#define CERTA_PROXY_ACME_H

#include "acme/acme_issue.h"
#include "proxy/proxy.h"
#include "renew/state_dir.h"

#include <stdio.h>

#define PROXY_ACME_RETRY_FIRST_MS 2000       /* a failed order is tried again after this, */
#define PROXY_ACME_RETRY_MAX_MS (600 * 1000) /* doubling up to this */
/* A certificate not due is looked at again (the CA asked) within this. */
#define PROXY_ACME_LOOK_MAX_MS (3600 * 1000)

typedef struct proxy_acme_opts {
    acme_issue_opts issue; /* directory, names, CA bundle, account; tls-alpn-01 */
    const char *state;     /* --acme-state DIR, or NULL for the default */
    char state_path[STATE_PATH_MAX];
    char cert_path[STATE_PATH_MAX + 32], key_path[STATE_PATH_MAX + 32];
    char account_path[STATE_PATH_MAX + 32];
} proxy_acme_opts;

/* One --acme* option (or --agree-tos) at argv[*i]: 1 taken, 0 not ours, -1
 * bad (reported). The options live in storage of this module; po->acme
 * points at them once one is seen. */
int proxy_acme_option(int argc, char **argv, int *i, proxy_opts *po);
/* After all options: checks the combination, resolves the state directory
 * and makes its current pair the proxy's --cert/--key. 0, or an exit code. */
int proxy_acme_finish(proxy_opts *po);
/* The --acme options' --help lines. */
void proxy_acme_usage(FILE *out);

typedef struct proxy_acme proxy_acme;

/* Opens the state directory; *have_cert: a stored certificate is there to
 * serve. NULL with why. */
proxy_acme *proxy_acme_new(proxy_shared *sh, proxy_acme_opts *o, bool *have_cert, char *why,
                           size_t cap);
/* Logs what the proxy starts with: the stored certificate (reused, no new
 * order), or none yet (refusing handshakes until the order completes;
 * why_unusable: why a stored one did not load, or NULL). */
void proxy_acme_log_start(proxy_acme *a, bool serving, const char *why_unusable);
/* Starts the ordering and renewal thread (once the listener is up: the
 * validator connects to it). 0, or -1 with why. */
int proxy_acme_start(proxy_acme *a, char *why, size_t cap);
/* Readable when a new certificate is installed: drain it with
 * proxy_acme_drain, then reload. */
int proxy_acme_fd(const proxy_acme *a);
void proxy_acme_drain(proxy_acme *a);
/* Stops the thread (an order in flight is abandoned at exit). */
void proxy_acme_stop(proxy_acme *a);

/* ---- the workers' side (any thread) ---- */
/* A config with no certificate, for connections accepted before the
 * first one: they are refused once their ClientHello is read. */
certa_config *proxy_acme_waiting_config(proxy_acme *a);
/* Must a new connection's ClientHello be read before the engine sees it
 * (a challenge is pending, or there is no certificate yet)? */
bool proxy_acme_peeking(proxy_acme *a, bool have_cfg);
/* A connection that answers the tls-alpn-01 challenge this ClientHello
 * asks for, or NULL when it asks for none of ours. */
certa_conn *proxy_acme_validation_conn(proxy_acme *a, const certa_fingerprint *fp);
/* Why a handshake is refused while there is no certificate. */
const char *proxy_acme_waiting_sentence(const proxy_acme *a);

#endif
