/* certa proxy in ECH split mode (RFC 9849 §3.1): a client-facing server
 * that holds the ECH keys but no certificate. Each connection's
 * ClientHelloOuter is opened (ech_split_hello.c); the ClientHelloInner,
 * re-framed as records, goes to the backend its server_name names
 * (--ech-backend NAME=HOST:PORT), which answers it with the acceptance
 * confirmation and runs the handshake; from then on bytes are relayed both
 * ways untouched — TLS is never terminated here. A hello without ECH, or one
 * none of the keys opens, goes unchanged to --ech-public-backend (a server
 * for the public name that holds the same keys and so sends retry_configs),
 * or is refused with an alert when there is none. After a backend's
 * HelloRetryRequest the client's second ClientHelloOuter is opened with the
 * first one's HPKE context (RFC 9849 §7.1.1) and its inner hello forwarded
 * the same way.
 *
 * SIGHUP reads the key files again (a rotation: the new pair first).
 *
 * One thread per connection (at most --max-conns), blocking only in poll. */
#include <errno.h>
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
#include <unistd.h>

#include "common/cli_common.h"
#include "common/ech_files.h"
#include "crypto/crypto.h"
#include "proxy/ech_split_hello.h"
#include "proxy/proxy_ech_split.h"
#include "tls/tls.h"

#define SPLIT_MAX_KEYS 8
#define SPLIT_MAX_BACKENDS 64
#define SPLIT_BUF 16384
#define SPLIT_ACC (4 * (SPLIT_HELLO_MAX + 5 * 8)) /* a hello in records, and a CCS */

typedef struct split_backend {
    char name[256]; /* lower case */
    char host[256], port[16];
} split_backend;

typedef struct split_opts {
    const char *listen;
    const char *key[SPLIT_MAX_KEYS], *config[SPLIT_MAX_KEYS];
    size_t keys, configs;
    split_backend backends[SPLIT_MAX_BACKENDS];
    size_t n_backends;
    split_backend public_backend; /* host "" when not given */
    int handshake_timeout_ms, idle_timeout_ms, connect_timeout_ms;
    long max_conns;
    bool quiet;
    bool trial; /* --ech-trial-decryption */
} split_opts;

static struct {
    split_opts o;
    /* Replaced by a SIGHUP reload under the write lock; connections read
     * them under the read lock (only while a ClientHello is opened). */
    pthread_rwlock_t keys_lock;
    ech_key keys[SPLIT_MAX_KEYS];
    size_t n_keys;
    volatile sig_atomic_t reload;
    atomic_long conns;
    atomic_ulong next_id;
    volatile sig_atomic_t stop;
} S;

bool proxy_ech_split_wanted(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strncmp(argv[i], "--ech-backend", 13) || !strncmp(argv[i], "--ech-public-backend", 20))
            return true;
    return false;
}

void proxy_ech_split_usage(FILE *out) {
    fputs("\n"
          "ECH split mode (RFC 9849: the client-facing server holds the ECH keys, the\n"
          "backends the certificates; TLS is not terminated here):\n"
          "  certa proxy --listen ADDR:PORT --ech-key FILE --ech-config FILE\n"
          "              --ech-backend NAME=HOST:PORT [--ech-backend ...]\n"
          "              [--ech-public-backend HOST:PORT] [--handshake-timeout SEC]\n"
          "              [--idle-timeout SEC] [--connect-timeout SEC] [--max-conns N] [--quiet]\n"
          "              [--ech-trial-decryption]\n"
          "  --ech-backend NAME=HOST:PORT  where a ClientHelloInner for server_name NAME goes\n"
          "                      (the inner hello, re-framed; then bytes both ways)\n"
          "  --ech-public-backend HOST:PORT  where hellos without ECH, or that no key opens,\n"
          "                      go unchanged (a server for the public name with the same\n"
          "                      keys, to send retry_configs); without it they are refused\n"
          "  after a backend's HelloRetryRequest the client's second ClientHelloOuter is\n"
          "  opened with the first one's HPKE context and forwarded the same way;\n"
          "  --ech-trial-decryption  a hello whose config_id matches no key is also tried\n"
          "                      with the others (RFC 9849 section 7.1; off: GREASE costs no DH)\n"
          "  SIGHUP reads the --ech-key/--ech-config files again (a failed reload keeps\n"
          "  the keys in use)\n",
          out);
}

/* "certa proxy: ech-split: ..." on stderr. */
#define split_log(...) cli_log("proxy", "ech-split", __VA_ARGS__)

/* ---- options ---- */

static bool parse_target(const char *arg, split_backend *b) {
    return cli_split_host_port(arg, b->host, sizeof b->host, b->port, sizeof b->port, NULL) &&
           b->port[0] != '\0';
}

static bool add_file(const char **list, size_t *n, const char *v) {
    if (*n == SPLIT_MAX_KEYS || !*v) {
        cli_err("proxy: --ech-key and --ech-config want a file each (at most %d pairs)",
                SPLIT_MAX_KEYS);
        return false;
    }
    list[(*n)++] = v;
    return true;
}

static bool seconds_opt(const char *name, const char *v, int *ms) {
    if (cli_parse_seconds(v, ms)) return true;
    cli_err("proxy: %s wants seconds, not '%s'", name, v);
    return false;
}

static int parse_opts(int argc, char **argv, split_opts *o) {
    memset(o, 0, sizeof *o);
    o->handshake_timeout_ms = 10000;
    o->idle_timeout_ms = 300000;
    o->connect_timeout_ms = 5000;
    o->max_conns = 1024;
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            proxy_ech_split_usage(stdout);
            return 1;
        } else if (!strcmp(argv[i], "--quiet")) {
            o->quiet = true;
        } else if (!strcmp(argv[i], "--ech-trial-decryption")) {
            o->trial = true;
        } else if ((m = cli_opt(argc, argv, &i, "--listen", &v)) != 0) {
            if (m < 0) return -1;
            o->listen = v;
        } else if ((m = cli_opt(argc, argv, &i, "--ech-key", &v)) != 0) {
            if (m < 0 || !add_file(o->key, &o->keys, v)) return -1;
        } else if ((m = cli_opt(argc, argv, &i, "--ech-config", &v)) != 0) {
            if (m < 0 || !add_file(o->config, &o->configs, v)) return -1;
        } else if ((m = cli_opt(argc, argv, &i, "--ech-backend", &v)) != 0) {
            const char *eq = m > 0 ? strchr(v, '=') : NULL;
            split_backend *b = &o->backends[o->n_backends];
            if (eq == NULL || eq == v || (size_t)(eq - v) >= sizeof b->name ||
                o->n_backends == SPLIT_MAX_BACKENDS || !parse_target(eq + 1, b)) {
                cli_err("proxy: --ech-backend wants NAME=HOST:PORT (at most %d), not '%s'",
                        SPLIT_MAX_BACKENDS, m > 0 ? v : "");
                return -1;
            }
            for (size_t k = 0; k < (size_t)(eq - v); k++)
                b->name[k] = (char)((v[k] >= 'A' && v[k] <= 'Z') ? v[k] + 32 : v[k]);
            o->n_backends++;
        } else if ((m = cli_opt(argc, argv, &i, "--ech-public-backend", &v)) != 0) {
            if (m < 0 || !parse_target(v, &o->public_backend)) {
                cli_err("proxy: --ech-public-backend wants HOST:PORT");
                return -1;
            }
        } else if ((m = cli_opt(argc, argv, &i, "--handshake-timeout", &v)) != 0) {
            if (m < 0 || !seconds_opt("--handshake-timeout", v, &o->handshake_timeout_ms))
                return -1;
        } else if ((m = cli_opt(argc, argv, &i, "--idle-timeout", &v)) != 0) {
            if (m < 0 || !seconds_opt("--idle-timeout", v, &o->idle_timeout_ms)) return -1;
        } else if ((m = cli_opt(argc, argv, &i, "--connect-timeout", &v)) != 0) {
            if (m < 0 || !seconds_opt("--connect-timeout", v, &o->connect_timeout_ms)) return -1;
        } else if ((m = cli_opt(argc, argv, &i, "--max-conns", &v)) != 0) {
            if (m < 0 || !cli_parse_long(v, 1, 1000000, &o->max_conns)) {
                cli_err("proxy: --max-conns wants a number from 1 to 1000000");
                return -1;
            }
        } else {
            cli_err("proxy: '%s' is not an option of ECH split mode (see certa proxy --help)",
                    argv[i]);
            return -1;
        }
    }
    if (o->listen == NULL || o->keys == 0 || o->keys != o->configs || o->n_backends == 0) {
        cli_err("proxy: ECH split mode needs --listen, --ech-key/--ech-config pairs and at "
                "least one --ech-backend NAME=HOST:PORT");
        return -1;
    }
    return 0;
}

/* ---- sockets ---- */

/* A connected socket to b within the connect timeout, or -1 with why. */
static int connect_to(const split_backend *b, char *why, size_t cap) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    int gr = getaddrinfo(b->host, b->port, &hints, &res);
    if (gr != 0) {
        snprintf(why, cap, "cannot resolve %s: %s", b->host, gai_strerror(gr));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        if (cli_set_nonblocking(fd) != 0) {
            close(fd);
            fd = -1;
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc != 0 && errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            int err = 0;
            socklen_t len = sizeof err;
            rc = poll(&p, 1, S.o.connect_timeout_ms) == 1 &&
                         getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0
                     ? 0
                     : -1;
            if (rc != 0) errno = err ? err : ETIMEDOUT;
        }
        if (rc != 0) {
            snprintf(why, cap, "cannot connect to %s:%s: %s", b->host, b->port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* Writes all of data to a non-blocking socket, waiting in poll. */
static bool send_all(int fd, const uint8_t *data, size_t len, int timeout_ms) {
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) return false;
        struct pollfd p = {fd, POLLOUT, 0};
        if (poll(&p, 1, timeout_ms) <= 0) return false;
    }
    return true;
}

/* A client's second ClientHelloOuter (after the backend's
 * HelloRetryRequest), gathered until it opens with the first one's context;
 * then its inner hello (and what followed it) goes to the backend. 1 = done,
 * 0 = more needed, -1 = refused (reason set, the alert sent). */
static int second_hello(int client, int backend, ech_open_state *st, uint8_t *acc, size_t *acc_len,
                        const char **reason) {
    split_hello h;
    pthread_rwlock_rdlock(&S.keys_lock);
    split_client_hello(S.keys, S.n_keys, acc, *acc_len, false, S.o.trial, st, &h);
    pthread_rwlock_unlock(&S.keys_lock);
    if (h.verdict == SPLIT_NEED_MORE) {
        if (*acc_len < SPLIT_ACC) return 0;
        h.verdict = SPLIT_REFUSE;
        h.alert = ALERT_DECODE_ERROR;
        h.why = "the client's second ClientHello records are too large";
    }
    if (h.verdict != SPLIT_INNER) {
        uint8_t alert[7];
        split_alert_record(h.alert, alert);
        send_all(client, alert, sizeof alert, 1000);
        *reason = h.why;
        return -1;
    }
    bool ok = send_all(backend, h.out.buf, h.out.len, S.o.idle_timeout_ms) &&
              send_all(backend, acc + h.consumed, *acc_len - h.consumed, S.o.idle_timeout_ms);
    bld_free(&h.out);
    crypto_zero(acc, *acc_len);
    *acc_len = 0;
    if (!ok) *reason = "backend write failed";
    return ok ? 1 : -1;
}

/* Relays both ways until both directions have ended (or idle timeout):
 * EOF on one side half-closes the other. The backend's first 43 bytes are
 * held until they say whether it sent a HelloRetryRequest; if it did and
 * st holds the first hello's context, the client's next hello is opened
 * with it (second_hello) instead of passing through. Returns the reason
 * for the log. */
static const char *relay(int client, int backend, ech_open_state *st, uint64_t *up,
                         uint64_t *down) {
    uint8_t buf[2][SPLIT_BUF];
    size_t len[2] = {0, 0}, off[2] = {0, 0}, acc_len = 0;
    bool eof[2] = {false, false}, first_seen = false, await_second = false;
    uint8_t *acc = NULL;            /* the second ClientHello while it arrives */
    int fds[2] = {client, backend}; /* direction d reads fds[d], writes fds[1 - d] */
    const char *reason = NULL;
    while (reason == NULL) {
        if (eof[0] && eof[1] && len[0] == off[0] && len[1] == off[1]) {
            reason = "clean";
            break;
        }
        bool hold = !first_seen; /* the backend's first bytes, not sent yet */
        struct pollfd p[2] = {{client, 0, 0}, {backend, 0, 0}};
        for (int d = 0; d < 2; d++) {
            bool room = d == 1 && hold ? len[1] < sizeof buf[1] : off[d] == len[d];
            if (off[d] < len[d] && !(d == 1 && hold)) p[1 - d].events |= POLLOUT;
            if (room && !eof[d]) p[d].events |= POLLIN;
        }
        int pr = poll(p, 2, S.o.idle_timeout_ms);
        if (pr == 0) {
            reason = "idle timeout";
            break;
        }
        if (pr < 0) {
            if (errno != EINTR) reason = "poll failed";
            continue;
        }
        for (int d = 0; d < 2 && reason == NULL; d++) {
            if ((p[d].events & POLLIN) && (p[d].revents & (POLLIN | POLLHUP | POLLERR))) {
                size_t at = d == 1 && hold ? len[1] : 0;
                ssize_t n = recv(fds[d], buf[d] + at, sizeof buf[d] - at, 0);
                if (n > 0) {
                    if (at == 0) off[d] = 0;
                    len[d] = at + (size_t)n;
                    *(d == 0 ? up : down) += (uint64_t)n;
                } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
                    eof[d] = true;
                    shutdown(fds[1 - d], SHUT_WR);
                }
            }
            if (d == 1 && hold && (len[1] >= 43 || eof[1])) {
                first_seen = true;
                hold = false;
                /* Without a context (the public backend's hello) it just passes. */
                if (split_is_hello_retry(buf[1], len[1]) == 1 && st != NULL && st->have_context) {
                    await_second = true;
                    acc = malloc(SPLIT_ACC);
                    if (acc == NULL) reason = "out of memory";
                }
            }
            if (d == 0 && await_second && off[0] < len[0]) {
                /* The client's bytes after the HelloRetryRequest: its second hello. */
                size_t n = len[0] - off[0];
                if (n > SPLIT_ACC - acc_len) n = SPLIT_ACC - acc_len;
                memcpy(acc + acc_len, buf[0] + off[0], n);
                acc_len += n;
                off[0] += n;
                int r = second_hello(client, backend, st, acc, &acc_len, &reason);
                if (r < 0 && reason != NULL) break;
                if (r > 0) await_second = false;
                continue;
            }
            if (off[d] < len[d] && !(d == 1 && hold) &&
                (p[1 - d].revents & (POLLOUT | POLLERR | POLLHUP))) {
                ssize_t n = send(fds[1 - d], buf[d] + off[d], len[d] - off[d], MSG_NOSIGNAL);
                if (n > 0)
                    off[d] += (size_t)n;
                else if (n < 0 && errno != EAGAIN && errno != EINTR)
                    reason = d == 0 ? "backend write failed" : "client write failed";
            }
        }
        if (reason == NULL && await_second && eof[0])
            reason = "the client closed before its second ClientHello was complete";
    }
    if (acc != NULL) {
        crypto_zero(acc, SPLIT_ACC);
        free(acc);
    }
    return reason;
}

/* After an alert: half-close and drop what the client still sends for a
 * moment, so that close() does not reset the connection before the alert
 * is read. */
static void linger_close(int fd) {
    char sink[4096];
    int64_t until = cli_now_ms() + 500;
    shutdown(fd, SHUT_WR);
    for (int64_t left; (left = until - cli_now_ms()) > 0;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0 || recv(fd, sink, sizeof sink, 0) <= 0) break;
    }
}

typedef struct split_conn {
    int fd;
    unsigned long id;
    char peer[128];
} split_conn;

static const split_backend *backend_for(const char *name) {
    for (size_t i = 0; i < S.o.n_backends; i++)
        if (!strcmp(S.o.backends[i].name, name)) return &S.o.backends[i];
    return NULL;
}

/* Reads the client's first flight until split_client_hello decides. */
static void read_first_flight(int fd, uint8_t *in, size_t cap, size_t *len, ech_open_state *st,
                              split_hello *h) {
    int64_t deadline = cli_now_ms() + S.o.handshake_timeout_ms;
    *len = 0;
    for (;;) {
        pthread_rwlock_rdlock(&S.keys_lock);
        split_client_hello(S.keys, S.n_keys, in, *len, true, S.o.trial, st, h);
        pthread_rwlock_unlock(&S.keys_lock);
        if (h->verdict != SPLIT_NEED_MORE) return;
        int64_t left = deadline - cli_now_ms();
        struct pollfd p = {fd, POLLIN, 0};
        if (*len == cap || left <= 0 || poll(&p, 1, (int)left) <= 0) {
            h->verdict = SPLIT_REFUSE;
            h->alert = ALERT_DECODE_ERROR;
            h->why = *len == cap ? "the client's ClientHello records are too large"
                                 : "no complete ClientHello within the handshake timeout";
            return;
        }
        ssize_t n = recv(fd, in + *len, cap - *len, 0);
        if (n <= 0 && (n == 0 || (errno != EAGAIN && errno != EINTR))) {
            h->verdict = SPLIT_REFUSE;
            h->alert = 0;
            h->why = "the client closed before its ClientHello was complete";
            return;
        }
        if (n > 0) *len += (size_t)n;
    }
}

static void *conn_main(void *arg) {
    split_conn *c = arg;
    size_t cap = SPLIT_ACC, len = 0;
    uint8_t *in = malloc(cap);
    ech_open_state st;
    memset(&st, 0, sizeof st);
    split_hello h;
    memset(&h, 0, sizeof h);
    int backend = -1;
    uint64_t up = 0, down = 0;
    const char *reason = "out of memory", *ech = "none";
    char why[512] = "", target[300] = "-";
    if (in == NULL) goto out;
    read_first_flight(c->fd, in, cap, &len, &st, &h);
    const split_backend *b = NULL;
    if (h.verdict == SPLIT_INNER) {
        ech = "accepted";
        b = backend_for(h.inner_name);
        if (b == NULL) {
            h.verdict = SPLIT_REFUSE;
            h.alert = ALERT_UNRECOGNIZED_NAME;
            h.why = "ECH opened, but no --ech-backend is for the inner server_name";
        }
    } else if (h.verdict == SPLIT_PUBLIC) {
        ech = h.ech_offered ? "not-decrypted" : "none";
        if (S.o.public_backend.host[0] != '\0') {
            b = &S.o.public_backend;
        } else {
            h.verdict = SPLIT_REFUSE;
            h.alert = ALERT_HANDSHAKE_FAILURE;
            h.why = h.ech_offered ? "no ECH key opened the hello, and there is no "
                                    "--ech-public-backend for it (the retry_configs path)"
                                  : "the hello has no ECH, and there is no --ech-public-backend "
                                    "for it";
        }
    } else if (h.verdict == SPLIT_REFUSE) {
        ech = "refused";
    }
    if (h.verdict == SPLIT_REFUSE) {
        if (h.alert != 0) {
            uint8_t alert[7];
            split_alert_record(h.alert, alert);
            send_all(c->fd, alert, sizeof alert, 1000);
        }
        linger_close(c->fd);
        snprintf(why, sizeof why, "refused: %s", h.why ? h.why : "");
        reason = why;
        goto out;
    }
    snprintf(target, sizeof target, "%s:%s", b->host, b->port);
    backend = connect_to(b, why, sizeof why);
    if (backend < 0) {
        uint8_t alert[7];
        split_alert_record(ALERT_INTERNAL_ERROR, alert);
        send_all(c->fd, alert, sizeof alert, 1000);
        reason = why;
        goto out;
    }
    /* The inner hello's records, or the client's own bytes, then the rest. */
    bool sent = h.verdict == SPLIT_INNER
                    ? send_all(backend, h.out.buf, h.out.len, S.o.idle_timeout_ms) &&
                          send_all(backend, in + h.consumed, len - h.consumed, S.o.idle_timeout_ms)
                    : send_all(backend, in, len, S.o.idle_timeout_ms);
    if (!sent) {
        reason = "backend write failed";
        goto out;
    }
    up = len;
    reason = relay(c->fd, backend, h.verdict == SPLIT_INNER ? &st : NULL, &up, &down);
out:
    if (!S.o.quiet || strncmp(reason, "clean", 5) != 0)
        split_log("split #%lu %s ech=%s backend=%s bytes_in=%llu bytes_out=%llu: %s", c->id,
                  c->peer, ech, target, (unsigned long long)up, (unsigned long long)down, reason);
    if (h.verdict == SPLIT_INNER || h.out.buf != NULL) bld_free(&h.out);
    hpke_ctx_wipe(&st.hpke);
    if (in != NULL) {
        crypto_zero(in, len);
        free(in);
    }
    if (backend >= 0) close(backend);
    close(c->fd);
    free(c);
    atomic_fetch_sub(&S.conns, 1);
    return NULL;
}

static void on_stop(int sig) {
    (void)sig;
    S.stop = 1;
}

static void on_hup(int sig) {
    (void)sig;
    S.reload = 1;
}

/* Every --ech-key/--ech-config pair into keys; 0, or -1 with why. */
static int load_keys(ech_key *keys, char *why, size_t cap) {
    for (size_t i = 0; i < S.o.keys; i++) {
        if (ech_files_load_key(S.o.key[i], S.o.config[i], &keys[i], why, cap) != 0) {
            for (size_t j = 0; j < i; j++)
                ech_key_wipe(&keys[j]);
            return -1;
        }
    }
    return 0;
}

/* SIGHUP: the key files read again; a pair that does not load keeps the
 * keys in use (logged). Connections opening a hello meanwhile wait. */
static void reload_keys(void) {
    char why[1024];
    ech_key *fresh = calloc(SPLIT_MAX_KEYS, sizeof *fresh);
    if (fresh == NULL || load_keys(fresh, why, sizeof why) != 0) {
        split_log("reload failed, the keys in use are kept: %s", fresh ? why : "out of memory");
        free(fresh);
        return;
    }
    pthread_rwlock_wrlock(&S.keys_lock);
    for (size_t i = 0; i < S.o.keys; i++) {
        ech_key_wipe(&S.keys[i]);
        S.keys[i] = fresh[i];
        S.keys[i].config.raw = S.keys[i].config_storage; /* it pointed into fresh */
    }
    pthread_rwlock_unlock(&S.keys_lock);
    /* The keys moved into S.keys (their prepared HPKE keys with them). */
    crypto_zero(fresh, SPLIT_MAX_KEYS * sizeof *fresh);
    free(fresh);
    split_log("reloaded %zu ECH key%s", S.o.keys, S.o.keys == 1 ? "" : "s");
}

int proxy_ech_split_main(int argc, char **argv) {
    int prc = parse_opts(argc, argv, &S.o);
    if (prc != 0) return prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    char why[1024];
    pthread_rwlock_init(&S.keys_lock, NULL);
    if (load_keys(S.keys, why, sizeof why) != 0) {
        cli_err("proxy: %s", why);
        return CLI_EXIT_FAIL;
    }
    S.n_keys = S.o.keys;
    char host[256], port[16], bound[300];
    if (!cli_split_host_port(S.o.listen, host, sizeof host, port, sizeof port, NULL) || !port[0]) {
        cli_err("proxy: --listen wants ADDR:PORT, not '%s'", S.o.listen);
        return CLI_EXIT_USAGE;
    }
    int lfd = cli_listen(host, port, 512, false, bound, sizeof bound, why, sizeof why);
    if (lfd < 0) {
        cli_err("proxy: %s", why);
        return CLI_EXIT_FAIL;
    }
    cli_catch_stop_signals(on_stop);
    struct sigaction hup;
    memset(&hup, 0, sizeof hup);
    hup.sa_handler = on_hup;
    sigaction(SIGHUP, &hup, NULL);
    char backends[600] = "";
    for (size_t i = 0; i < S.o.n_backends; i++) {
        size_t at = strlen(backends);
        snprintf(backends + at, sizeof backends - at, "%s%s=%s:%s", i ? ", " : "",
                 S.o.backends[i].name, S.o.backends[i].host, S.o.backends[i].port);
    }
    char public_to[300] = "hellos without ECH (or that no key opens) refused";
    if (S.o.public_backend.host[0])
        snprintf(public_to, sizeof public_to, "hellos without ECH to %s:%s",
                 S.o.public_backend.host, S.o.public_backend.port);
    split_log("listening on %s: ECH split mode, %zu key%s, backends %s; %s", bound, S.n_keys,
              S.n_keys == 1 ? "" : "s", backends, public_to);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    while (!S.stop) {
        if (S.reload) {
            S.reload = 0;
            reload_keys();
        }
        struct pollfd p = {lfd, POLLIN, 0};
        if (poll(&p, 1, 500) <= 0) continue;
        struct sockaddr_storage sa;
        socklen_t sl = sizeof sa;
        int fd = accept(lfd, (struct sockaddr *)&sa, &sl);
        if (fd < 0) continue;
        if (atomic_load(&S.conns) >= S.o.max_conns || cli_set_nonblocking(fd) != 0) {
            close(fd);
            continue;
        }
        split_conn *c = calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->fd = fd;
        c->id = atomic_fetch_add(&S.next_id, 1) + 1;
        cli_format_addr((struct sockaddr *)&sa, sl, c->peer, sizeof c->peer);
        atomic_fetch_add(&S.conns, 1);
        pthread_t t;
        if (pthread_create(&t, &attr, conn_main, c) != 0) {
            atomic_fetch_sub(&S.conns, 1);
            close(fd);
            free(c);
        }
    }
    close(lfd);
    /* Let connections in flight finish for a moment; the process then ends. */
    for (int i = 0; i < 50 && atomic_load(&S.conns) > 0; i++)
        usleep(100000);
    split_log("stopped");
    for (size_t i = 0; i < S.n_keys; i++)
        ech_key_wipe(&S.keys[i]);
    pthread_attr_destroy(&attr);
    return CLI_EXIT_OK;
}
