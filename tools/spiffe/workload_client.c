/* The Workload API over gRPC's C core (see workload_client.h). */
#include "spiffe/workload_client.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/slice.h>
#include <grpc/support/alloc.h>
#include <grpc/support/time.h>

#include "common/cli_common.h"
#include "crypto/crypto.h"
#include "spiffe/workload_response.h"

#define FETCH_X509_SVID "/SpiffeWorkloadAPI/FetchX509SVID"
#define FETCH_X509_BUNDLES "/SpiffeWorkloadAPI/FetchX509Bundles"

bool spiffe_socket_target(const char *arg, char *target, size_t cap, char *why, size_t why_cap) {
    if (arg && !strcmp(arg, "env")) arg = NULL; /* --spiffe-socket env */
    const char *from = arg ? "--spiffe-socket" : "SPIFFE_ENDPOINT_SOCKET";
    if (!arg) arg = getenv("SPIFFE_ENDPOINT_SOCKET");
    if (!arg || !*arg) {
        snprintf(why, why_cap,
                 "no Workload API socket: give --spiffe-socket unix:///PATH or set "
                 "SPIFFE_ENDPOINT_SOCKET (the SPIRE agent's is often "
                 "unix:///run/spire/sockets/agent.sock)");
        return false;
    }
    const char *path = arg;
    if (!strncmp(arg, "unix://", 7))
        path = arg + 7; /* unix:///run/x.sock: an empty authority, then the path */
    else if (!strncmp(arg, "unix:", 5))
        path = arg + 5;
    if (path[0] != '/' || strlen(path) > 107) {
        snprintf(why, why_cap,
                 "%s '%s' is not a Unix socket address: write unix:///absolute/path (TCP "
                 "Workload API endpoints are not supported)",
                 from, arg);
        return false;
    }
    snprintf(target, cap, "unix:%s", path);
    return true;
}

void svid_update_describe(const svid_update *u, int64_t now, char *out, size_t cap) {
    char left[64], at[64];
    svid_format_remaining(u->not_after - now, left, sizeof left);
    cli_format_time(u->not_after, at, sizeof at);
    snprintf(out, cap, "SVID %s (serial %s) %s%s at %s", u->spiffe_id, u->serial,
             u->not_after >= now ? "expires in " : "", left, at);
}

/* ---- one streaming call (FetchX509SVID or FetchX509Bundles) ---- */

/* Called with each message's bytes (zeroized after: an SVID's carry its
 * key); returns false to end the call. */
typedef bool (*on_message_fn)(void *arg, const uint8_t *msg, size_t len);

enum { TAG_START = 1, TAG_STATUS, TAG_MESSAGE };

/* The byte buffer's bytes, in one slice the caller owns and zeroizes. */
static grpc_slice buffer_bytes(grpc_byte_buffer *bb) {
    grpc_byte_buffer_reader rd;
    grpc_slice all = grpc_empty_slice();
    if (grpc_byte_buffer_reader_init(&rd, bb)) {
        all = grpc_byte_buffer_reader_readall(&rd);
        grpc_byte_buffer_reader_destroy(&rd);
    }
    return all;
}

/* Runs one call of method (its request is empty: X509SVIDRequest and
 * X509BundlesRequest have no fields) until the stream ends, on_message says
 * stop, *stop is set, or deadline_ms (monotonic, 0 = none) passes. Returns
 * the number of messages that arrived; why and *ended get the status when
 * the call ended. */
static int run_call(const char *target, const char *method_name, int64_t deadline_ms,
                    const atomic_int *stop, on_message_fn on_message, void *arg, char *why,
                    size_t cap, grpc_status_code *ended) {
    grpc_channel_credentials *creds = grpc_insecure_credentials_create();
    grpc_channel *ch = grpc_channel_create(target, creds, NULL);
    grpc_channel_credentials_release(creds);
    grpc_completion_queue *cq = grpc_completion_queue_create_for_next(NULL);
    grpc_slice method = grpc_slice_from_static_string(method_name);
    grpc_call *call = grpc_channel_create_call(ch, NULL, GRPC_PROPAGATE_DEFAULTS, cq, method, NULL,
                                               gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
    grpc_metadata md;
    memset(&md, 0, sizeof md);
    md.key = grpc_slice_from_static_string("workload.spiffe.io");
    md.value = grpc_slice_from_static_string("true");
    grpc_slice empty = grpc_empty_slice(); /* the request has no fields */
    grpc_byte_buffer *request = grpc_raw_byte_buffer_create(&empty, 1);
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_status_code status = GRPC_STATUS_UNKNOWN;
    grpc_slice details = grpc_empty_slice();
    grpc_byte_buffer *msg = NULL;

    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = &md;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    int pending = 0;
    if (grpc_call_start_batch(call, ops, 4, (void *)(intptr_t)TAG_START, NULL) == GRPC_CALL_OK)
        pending++;
    grpc_op st;
    memset(&st, 0, sizeof st);
    st.op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    st.data.recv_status_on_client.trailing_metadata = &trailing;
    st.data.recv_status_on_client.status = &status;
    st.data.recv_status_on_client.status_details = &details;
    bool status_pending = false;
    if (grpc_call_start_batch(call, &st, 1, (void *)(intptr_t)TAG_STATUS, NULL) == GRPC_CALL_OK) {
        pending++;
        status_pending = true;
    }
    grpc_op rm;
    memset(&rm, 0, sizeof rm);
    rm.op = GRPC_OP_RECV_MESSAGE;
    rm.data.recv_message.recv_message = &msg;
    bool reading =
        grpc_call_start_batch(call, &rm, 1, (void *)(intptr_t)TAG_MESSAGE, NULL) == GRPC_CALL_OK;
    if (reading) pending++;

    int messages = 0;
    bool cancelled = false;
    while (pending > 0) {
        gpr_timespec tick =
            gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_millis(200, GPR_TIMESPAN));
        grpc_event ev = grpc_completion_queue_next(cq, tick, NULL);
        if (!cancelled && (atomic_load(stop) || (deadline_ms && cli_now_ms() >= deadline_ms))) {
            grpc_call_cancel(call, NULL); /* the pending ops complete, failed */
            cancelled = true;
        }
        if (ev.type != GRPC_OP_COMPLETE) continue;
        pending--;
        intptr_t tag = (intptr_t)ev.tag;
        if (tag == TAG_STATUS) status_pending = false;
        if (tag != TAG_MESSAGE) continue;
        if (!ev.success || !msg) continue; /* the stream ended: the status follows */
        grpc_slice bytes = buffer_bytes(msg);
        grpc_byte_buffer_destroy(msg);
        msg = NULL;
        bool more = on_message(arg, GRPC_SLICE_START_PTR(bytes), GRPC_SLICE_LENGTH(bytes));
        crypto_zero(GRPC_SLICE_START_PTR(bytes), GRPC_SLICE_LENGTH(bytes));
        grpc_slice_unref(bytes);
        messages++;
        if (!more && !cancelled) {
            grpc_call_cancel(call, NULL);
            cancelled = true;
        }
        if (!cancelled && grpc_call_start_batch(call, &rm, 1, (void *)(intptr_t)TAG_MESSAGE,
                                                NULL) == GRPC_CALL_OK)
            pending++;
    }
    (void)status_pending;
    if (ended) *ended = status;
    if (msg) grpc_byte_buffer_destroy(msg);
    char *d = grpc_slice_to_c_string(details);
    if (status == GRPC_STATUS_UNAVAILABLE)
        snprintf(why, cap, "the Workload API at %s is unreachable (%s)", target,
                 d && *d ? d : "UNAVAILABLE");
    else
        snprintf(why, cap, "the Workload API at %s ended the stream: gRPC status %d%s%s", target,
                 (int)status, d && *d ? ", " : "", d ? d : "");
    gpr_free(d);
    grpc_slice_unref(details);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_byte_buffer_destroy(request);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(cq);
    while (grpc_completion_queue_next(cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
           GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(cq);
    grpc_channel_destroy(ch);
    return messages;
}

/* ---- one SVID, once ---- */

typedef struct fetch_once_state {
    svid_update *out;
    bool got;
    char why[1200];
} fetch_once_state;

static bool fetch_once_message(void *arg, const uint8_t *msg, size_t len) {
    fetch_once_state *f = arg;
    char why[1024];
    if (workload_response_read(msg, len, time(NULL), f->out, why, sizeof why) != 0)
        snprintf(f->why, sizeof f->why, "refused the agent's update: %s", why);
    else
        f->got = true; /* the buffers are the caller's */
    return false;
}

/* The agent's bundles, once, into the SVID just fetched (as the servers
 * take a bundles update: judged, the SVID still valid under them). */
static bool fetch_bundles_message(void *arg, const uint8_t *msg, size_t len) {
    fetch_once_state *f = arg;
    svid_update b;
    char why[1024];
    if (workload_bundles_read(msg, len, f->out->trust_domain, &b, why, sizeof why) != 0 ||
        svid_update_take_bundles(f->out, &b, time(NULL), why, sizeof why) != 0)
        snprintf(f->why, sizeof f->why, "refused: %s", why);
    else
        f->got = true;
    return false;
}

int spiffe_fetch_once(const char *target, int timeout_ms, svid_update *out, char *source,
                      size_t source_cap, char *why, size_t cap) {
    memset(out, 0, sizeof *out);
    grpc_init();
    fetch_once_state f = {.out = out, .got = false, .why = ""};
    atomic_int never = 0;
    char ended[1200];
    int64_t deadline = cli_now_ms() + timeout_ms;
    run_call(target, FETCH_X509_SVID, deadline, &never, fetch_once_message, &f, ended, sizeof ended,
             NULL);
    if (!f.got) {
        grpc_shutdown();
        snprintf(why, cap, "%s", f.why[0] ? f.why : ended);
        return -1;
    }
    /* FetchX509Bundles is the newer word on the bundles when the agent
     * offers it (the same rule as the servers': the newest message wins);
     * without it, or with a set refused, the SVID response's stay. */
    fetch_once_state fb = {.out = out, .got = false, .why = ""};
    grpc_status_code status = GRPC_STATUS_OK;
    run_call(target, FETCH_X509_BUNDLES, deadline, &never, fetch_bundles_message, &fb, ended,
             sizeof ended, &status);
    grpc_shutdown();
    if (fb.got)
        snprintf(source, source_cap, "bundles from FetchX509Bundles");
    else if (status == GRPC_STATUS_UNIMPLEMENTED)
        snprintf(source, source_cap,
                 "bundles from the X509SVIDResponse (the agent does not offer FetchX509Bundles)");
    else
        snprintf(source, source_cap, "bundles from the X509SVIDResponse (FetchX509Bundles: %.900s)",
                 fb.why[0] ? fb.why : ended);
    return 0;
}

/* ---- the stream, in a thread, for the servers ---- */

struct spiffe_source {
    char target[128];
    const char *cmd;
    pthread_t thread, bundles; /* FetchX509SVID's and FetchX509Bundles' */
    bool started, bundles_started;
    atomic_int stop;
    int efd; /* eventfd: a new SVID is waiting */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    svid_update held; /* the last good SVID, spiffe_id "" before the first */
    unsigned long generation;
    unsigned long trust_generation; /* bumped when the bundles change */
    unsigned long trust_seen;       /* what spiffe_source_trust_changed last saw */
    char last_failure[1200];
};

/* Do a and b carry the same bundles (own and federated, per trust domain)?
 * In any order: the agent's map may come in another each time (Go's
 * protobuf does not sort maps), which is no change of trust. */
static bool same_bundles(const svid_update *a, const svid_update *b) {
    if (a->bundle_len != b->bundle_len || memcmp(a->bundle_pem, b->bundle_pem, a->bundle_len) ||
        a->federated_count != b->federated_count || strcmp(a->trust_domain, b->trust_domain))
        return false;
    for (size_t i = 0; i < a->federated_count; i++) {
        const struct svid_federated *fa = &a->federated[i], *fb = NULL;
        for (size_t j = 0; !fb && j < b->federated_count; j++)
            if (!strcmp(fa->trust_domain_id, b->federated[j].trust_domain_id))
                fb = &b->federated[j];
        if (!fb || fa->len != fb->len || memcmp(fa->pem, fb->pem, fa->len)) return false;
    }
    return true;
}

static void say(spiffe_source *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(spiffe_source *s, const char *fmt, ...) {
    char line[2000];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cli_log(s->cmd, "spiffe", "%s", line);
}

/* What the SVID held is, for the log lines: "SVID ... expires in ...", or
 * that none is held yet. Under the lock. */
static void held_description(spiffe_source *s, char *out, size_t cap) {
    if (s->held.spiffe_id[0])
        svid_update_describe(&s->held, time(NULL), out, cap);
    else
        snprintf(out, cap, "no SVID held yet");
}

static bool source_message(void *arg, const uint8_t *msg, size_t len) {
    spiffe_source *s = arg;
    svid_update update, *u = &update;
    char why[1024], desc[600];
    if (workload_response_read(msg, len, time(NULL), &update, why, sizeof why) != 0) u = NULL;
    pthread_mutex_lock(&s->lock);
    if (!u) {
        held_description(s, desc, sizeof desc);
        snprintf(s->last_failure, sizeof s->last_failure, "refused the agent's update: %s", why);
        pthread_mutex_unlock(&s->lock);
        say(s, "refused an update from the Workload API, keeping the %s: %s", desc, why);
        return true; /* the stream goes on: the next update may be good */
    }
    /* The newest message wins: this SVID's bundles replace those held, a
     * bundles update's included (see workload_client.h). */
    if (s->held.spiffe_id[0] && !same_bundles(&s->held, u)) s->trust_generation++;
    svid_update_free(&s->held);
    s->held = *u;
    s->generation++;
    held_description(s, desc, sizeof desc);
    char fed[700] = "";
    if (s->held.federated_count)
        snprintf(fed, sizeof fed, "; federated bundles: %s", s->held.federated_domains);
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    uint64_t one = 1;
    if (write(s->efd, &one, sizeof one) < 0) { /* a counter at its maximum is still readable */
    }
    say(s, "new %s%s", desc, fed);
    return true;
}

/* One X509BundlesResponse: judged against the SVID held (its trust
 * domain's bundle present, the SVID still valid under it), then the held
 * SVID's bundles are replaced — chain and key stay — and the servers
 * rebuild their config as for a new SVID. */
static bool bundles_message(void *arg, const uint8_t *msg, size_t len) {
    spiffe_source *s = arg;
    char why[1024], desc[600];
    pthread_mutex_lock(&s->lock);
    held_description(s, desc, sizeof desc);
    if (!s->held.spiffe_id[0]) {
        pthread_mutex_unlock(&s->lock);
        /* Nothing to judge it against; the first SVID brings its own set. */
        say(s, "FetchX509Bundles: a bundles update before the first SVID is set aside (the "
               "SVID's own bundles will serve)");
        return true;
    }
    svid_update b;
    bool changed = false;
    int r = workload_bundles_read(msg, len, s->held.trust_domain, &b, why, sizeof why);
    if (r == 0) {
        changed = !same_bundles(&s->held, &b);
        r = svid_update_take_bundles(&s->held, &b, time(NULL), why, sizeof why);
    }
    if (r != 0) {
        snprintf(s->last_failure, sizeof s->last_failure, "refused the agent's bundles: %s", why);
        pthread_mutex_unlock(&s->lock);
        say(s, "refused a bundles update from the Workload API, keeping the %s and its bundles: %s",
            desc, why);
        return true;
    }
    if (!changed) { /* the same set again (a reconnect): nothing to rebuild */
        pthread_mutex_unlock(&s->lock);
        return true;
    }
    s->trust_generation++;
    s->generation++;
    char fed[600];
    snprintf(fed, sizeof fed, "%s", s->held.federated_count ? s->held.federated_domains : "none");
    pthread_cond_broadcast(&s->changed);
    pthread_mutex_unlock(&s->lock);
    uint64_t one = 1;
    if (write(s->efd, &one, sizeof one) < 0) {
    }
    say(s, "new bundles for the %s (FetchX509Bundles; the SVID unchanged); federated bundles: %s",
        desc, fed);
    return true;
}

/* Sleeps ms in steps, returning early when asked to stop. */
static void nap(spiffe_source *s, int ms) {
    for (int slept = 0; slept < ms && !atomic_load(&s->stop); slept += 100) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* One stream, called again and again with backoff until stopped. label
 * prefixes its log lines ("" for the SVID stream). false from an agent
 * without the method (UNIMPLEMENTED): the caller's stream ends. */
static void stream_loop(spiffe_source *s, const char *method, on_message_fn on_message,
                        const char *label, bool optional) {
    int backoff = SPIFFE_BACKOFF_MIN_MS;
    while (!atomic_load(&s->stop)) {
        char ended[1200];
        grpc_status_code status = GRPC_STATUS_OK;
        int got =
            run_call(s->target, method, 0, &s->stop, on_message, s, ended, sizeof ended, &status);
        if (atomic_load(&s->stop)) break;
        if (optional && status == GRPC_STATUS_UNIMPLEMENTED) {
            say(s, "%sthe agent does not offer it (%s): the bundles come with the SVIDs only",
                label, ended);
            return;
        }
        if (got > 0) backoff = SPIFFE_BACKOFF_MIN_MS; /* it worked: a quick reconnect */
        char desc[600];
        pthread_mutex_lock(&s->lock);
        held_description(s, desc, sizeof desc);
        bool have = s->held.spiffe_id[0] != 0;
        if (!optional) {
            snprintf(s->last_failure, sizeof s->last_failure, "%s", ended);
            pthread_cond_broadcast(&s->changed);
        }
        pthread_mutex_unlock(&s->lock);
        if (have)
            say(s, "%s%s; still serving with the %s; reconnecting in %d ms", label, ended, desc,
                backoff);
        else
            say(s, "%s%s; no SVID yet; reconnecting in %d ms", label, ended, backoff);
        nap(s, backoff);
        backoff = backoff * 2 > SPIFFE_BACKOFF_MAX_MS ? SPIFFE_BACKOFF_MAX_MS : backoff * 2;
    }
}

static void *source_thread(void *arg) {
    stream_loop(arg, FETCH_X509_SVID, source_message, "", false);
    return NULL;
}

static void *bundles_thread(void *arg) {
    stream_loop(arg, FETCH_X509_BUNDLES, bundles_message, "FetchX509Bundles: ", true);
    return NULL;
}

spiffe_source *spiffe_source_start(const char *target, const char *cmd) {
    spiffe_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    snprintf(s->target, sizeof s->target, "%s", target);
    s->cmd = cmd;
    s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->changed, NULL);
    grpc_init();
    if (s->efd < 0 || pthread_create(&s->thread, NULL, source_thread, s) != 0) {
        spiffe_source_stop(s);
        return NULL;
    }
    s->started = true;
    if (pthread_create(&s->bundles, NULL, bundles_thread, s) != 0) {
        spiffe_source_stop(s);
        return NULL;
    }
    s->bundles_started = true;
    return s;
}

int spiffe_source_wait(spiffe_source *s, int timeout_ms, bool (*stop)(void), char *why,
                       size_t cap) {
    int64_t until = cli_now_ms() + timeout_ms;
    pthread_mutex_lock(&s->lock);
    while (!s->held.spiffe_id[0] && cli_now_ms() < until && !(stop && stop())) {
        /* Short steps: the caller's stop (a signal) is looked at in between. */
        struct timespec step;
        clock_gettime(CLOCK_REALTIME, &step);
        step.tv_nsec += 200 * 1000000L;
        if (step.tv_nsec >= 1000000000L) {
            step.tv_sec++;
            step.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->changed, &s->lock, &step);
    }
    bool have = s->held.spiffe_id[0] != 0;
    if (!have && cli_now_ms() < until)
        snprintf(why, cap, "stopped while waiting for the first SVID from the Workload API");
    else if (!have)
        snprintf(why, cap, "no SVID from the Workload API within %d s: %s", timeout_ms / 1000,
                 s->last_failure[0] ? s->last_failure : "no answer");
    pthread_mutex_unlock(&s->lock);
    return have ? 0 : -1;
}

int spiffe_source_fd(const spiffe_source *s) {
    return s->efd;
}

int spiffe_source_apply(spiffe_source *s, certa_config *cfg, bool trust, char *desc,
                        size_t desc_cap) {
    uint64_t count;
    if (read(s->efd, &count, sizeof count) < 0) { /* nothing new: the same SVID again */
    }
    pthread_mutex_lock(&s->lock);
    held_description(s, desc, desc_cap);
    int r = CERTA_E_CONFIG;
    if (s->held.spiffe_id[0]) {
        r = certa_config_set_cert_chain_pem(cfg, s->held.chain_pem, s->held.chain_len);
        if (r == CERTA_OK)
            r = certa_config_set_private_key_pem(cfg, s->held.key_pem, s->held.key_len);
        /* The own bundle is the trust set (peers without a SPIFFE ID too);
         * each trust domain's bundle vouches for its own IDs only. */
        const svid_update *h = &s->held;
        if (r == CERTA_OK && trust)
            r = certa_config_load_trust_pem(cfg, h->bundle_pem, h->bundle_len);
        if (r == CERTA_OK && trust)
            r = certa_config_add_spiffe_bundle(cfg, h->trust_domain, h->bundle_pem, h->bundle_len);
        for (size_t i = 0; r == CERTA_OK && trust && i < h->federated_count; i++)
            r = certa_config_add_spiffe_bundle(cfg, h->federated[i].trust_domain_id,
                                               h->federated[i].pem, h->federated[i].len);
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

bool spiffe_source_trust_changed(spiffe_source *s) {
    pthread_mutex_lock(&s->lock);
    bool changed = s->trust_generation != s->trust_seen;
    s->trust_seen = s->trust_generation;
    pthread_mutex_unlock(&s->lock);
    return changed;
}

void spiffe_source_stop(spiffe_source *s) {
    if (!s) return;
    atomic_store(&s->stop, 1);
    if (s->started) pthread_join(s->thread, NULL);
    if (s->bundles_started) pthread_join(s->bundles, NULL);
    grpc_shutdown();
    svid_update_free(&s->held);
    if (s->efd >= 0) close(s->efd);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->changed);
    free(s);
}
