/* tls-alpn-01 (RFC 8737): certa's own TLS server on the validation port,
 * with one self-signed validation certificate per identifier, each carrying
 * the critical acmeIdentifier extension with the SHA-256 of its key
 * authorization. The listener is made for this alone, on the tools' side:
 * it reads the first record's ClientHello itself (framing over the cursor
 * API, the hello through certa_fingerprint_client_hello), drops a client
 * that does not offer acme-tls/1 or names no identifier of ours before
 * anything is sent, and only then hands the bytes to a certa server whose
 * config holds that identifier's certificate alone, with ALPN acme-tls/1
 * only. So the validation certificate goes to nobody else, and the library
 * needs no notion of it (its SNI index skips certificates with an unknown
 * critical extension, as this one is to it). For an IP identifier the
 * ClientHello names the reverse-DNS form (RFC 8738 §6). */
#include "acme/challenge.h"

#include "common/cli_common.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "crypto/ca_crypto.h"
#include "wire/cursor.h"
#include "x509/issue.h"

#define ACME_TLS_ALPN "acme-tls/1"

#define RECORD_MAX CHALLENGE_HELLO_RECORD_MAX

typedef struct alpn_identity {
    certa_config *cfg;
    char sni[256]; /* the name the validator sends */
} alpn_identity;

typedef struct alpn_responder {
    challenge_responder base;
    alpn_identity *ids;
    size_t n;
    int fd, stop_pipe[2];
    pthread_t thread;
    bool running, verbose;
} alpn_responder;

/* Does a comma-separated ALPN list (as the fingerprint has it) hold
 * exactly acme-tls/1? */
static bool offers_acme_tls(const char *list) {
    size_t n = strlen(ACME_TLS_ALPN);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !memcmp(p, ACME_TLS_ALPN, n)) return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

/* Which identity a validator's server_name asks for. */
static const alpn_identity *by_sni(const alpn_responder *a, const char *sni) {
    for (size_t i = 0; i < a->n; i++)
        if (!strcasecmp(a->ids[i].sni, sni)) return &a->ids[i];
    return NULL;
}

/* One handshake within 5 s, then close. */
static void answer_one(alpn_responder *a, int cfd) {
    cli_set_nonblocking(cfd);
    int64_t deadline = cli_now_ms() + 5000;
    uint8_t buf[RECORD_MAX];
    size_t got = 0;
    cursor msg;
    int fr = 0;
    while (fr == 0 && cli_now_ms() < deadline) {
        struct pollfd p = {.fd = cfd, .events = POLLIN};
        if (poll(&p, 1, (int)(deadline - cli_now_ms())) <= 0) continue;
        ssize_t r = recv(cfd, buf + got, sizeof buf - got, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) return;
        if (r > 0) got += (size_t)r;
        fr = challenge_first_client_hello(buf, got, &msg);
    }
    certa_fingerprint fp;
    if (fr != 1 || certa_fingerprint_client_hello(msg.data, msg.len, &fp) != CERTA_OK) {
        if (a->verbose) fprintf(stderr, "* tls-alpn-01: no usable ClientHello: dropped\n");
        return;
    }
    const alpn_identity *id = by_sni(a, fp.server_name);
    bool ok = id && offers_acme_tls(fp.alpn);
    if (a->verbose)
        fprintf(stderr, "* tls-alpn-01: ClientHello for '%s' offering '%s': %s\n", fp.server_name,
                fp.alpn,
                ok    ? "answered"
                : !id ? "dropped (not one of our identifiers)"
                      : "dropped (no acme-tls/1)");
    if (!ok) return;
    certa_conn *conn = certa_server_new(id->cfg);
    if (!conn) return;
    size_t off = 0;
    while (!certa_conn_failed(conn) && !certa_conn_handshake_done(conn)) {
        while (off < got) {
            size_t used = 0;
            if (certa_conn_recv(conn, buf + off, got - off, &used) != CERTA_OK || !used) break;
            off += used;
        }
        if (off >= got) off = got = 0;
        const uint8_t *out;
        size_t pending = certa_conn_outgoing(conn, &out);
        int64_t left = deadline - cli_now_ms();
        if (left <= 0 || certa_conn_failed(conn) || certa_conn_handshake_done(conn)) break;
        struct pollfd p = {.fd = cfd, .events = POLLIN | (pending ? POLLOUT : 0)};
        if (poll(&p, 1, (int)left) <= 0) continue;
        if (pending && (p.revents & POLLOUT)) {
            ssize_t w = send(cfd, out, pending, MSG_NOSIGNAL);
            if (w > 0)
                certa_conn_outgoing_done(conn, (size_t)w);
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                break;
        }
        if (got == 0 && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
            ssize_t r = recv(cfd, buf, sizeof buf, 0);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) break;
            if (r > 0) got = (size_t)r;
        }
    }
    certa_fd_flush(conn, cfd); /* the last flight, or the alert */
    certa_conn_free(conn);
}

static void *serve(void *arg) {
    alpn_responder *a = arg;
    for (;;) {
        struct pollfd p[2] = {{.fd = a->fd, .events = POLLIN},
                              {.fd = a->stop_pipe[0], .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (p[1].revents) break;
        int cfd = accept(a->fd, NULL, NULL);
        if (cfd < 0) continue;
        answer_one(a, cfd);
        close(cfd);
    }
    return NULL;
}

static void alpn_stop(challenge_responder *r) {
    alpn_responder *a = (alpn_responder *)r;
    if (a->running) {
        if (write(a->stop_pipe[1], "x", 1) < 0) {
        }
        pthread_join(a->thread, NULL);
    }
    if (a->fd >= 0) close(a->fd);
    if (a->stop_pipe[0] >= 0) close(a->stop_pipe[0]);
    if (a->stop_pipe[1] >= 0) close(a->stop_pipe[1]);
    for (size_t i = 0; i < a->n; i++)
        certa_config_free(a->ids[i].cfg);
    free(a->ids);
    free(a);
}

/* The validation certificate and key for one token (RFC 8737 §3), PEM. */
static int validation_identity(const acme_token *t, char **cert_pem, size_t *cert_len,
                               char **key_pem, size_t *key_len) {
    uint8_t digest[32], serial[X509_SERIAL_LEN];
    crypto_key *key = key_generate(KEYGEN_P256);
    if (!key) return -1;
    int rc = -1;
    x509_ip ip;
    const char *dns[1] = {t->ident};
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    if (hash_oneshot(HASH_SHA256, (const uint8_t *)t->key_authz, strlen(t->key_authz), digest) ==
            0 &&
        x509_random_serial(serial) == 0 && (!t->is_ip || x509_parse_ip(t->ident, &ip))) {
        int64_t now = (int64_t)time(NULL);
        p.serial = serial;
        p.serial_len = sizeof serial;
        p.subject_cn = "certa ACME tls-alpn-01 validation";
        p.not_before = now - 3600;
        p.not_after = now + 7 * 86400;
        p.server_auth = true;
        if (t->is_ip) {
            p.ips = &ip;
            p.n_ips = 1;
        } else {
            p.dns = dns;
            p.n_dns = 1;
        }
        p.acme_identifier = digest;
        uint8_t *der = NULL;
        size_t der_len;
        if (x509_issue(&p, key, key, &der, &der_len) == 0 &&
            x509_pem_encode("CERTIFICATE", der, der_len, cert_pem, cert_len) == 0) {
            if (key_private_pem(key, key_pem, key_len) == 0)
                rc = 0;
            else
                free(*cert_pem);
        }
        free(der);
    }
    key_free(key);
    return rc;
}

/* "1.0.0.127.in-addr.arpa" / the ip6.arpa nibbles (RFC 8738 §6). */
static bool reverse_name(const char *ip_text, char *out, size_t cap) {
    x509_ip ip;
    if (!x509_parse_ip(ip_text, &ip) || cap < 80) return false;
    size_t n = 0;
    out[0] = 0;
    if (ip.len == 4) {
        snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa", ip.addr[3], ip.addr[2], ip.addr[1],
                 ip.addr[0]);
        return true;
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[n++] = hex[ip.addr[i] & 15];
        out[n++] = '.';
        out[n++] = hex[ip.addr[i] >> 4];
        out[n++] = '.';
    }
    snprintf(out + n, cap - n, "ip6.arpa");
    return true;
}

challenge_responder *challenge_tls_alpn_start(const challenge_opts *o, const acme_token *t,
                                              size_t n, char *why, size_t cap) {
    alpn_responder *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    a->base.stop = alpn_stop;
    a->fd = a->stop_pipe[0] = a->stop_pipe[1] = -1;
    a->verbose = o->verbose;
    a->ids = calloc(n ? n : 1, sizeof *a->ids);
    int r = a->ids ? CERTA_OK : CERTA_E_NOMEM;
    const char *detail = "";
    for (size_t i = 0; i < n && r == CERTA_OK; i++) {
        alpn_identity *id = &a->ids[i];
        if (t[i].is_ip) {
            if (!reverse_name(t[i].ident, id->sni, sizeof id->sni)) {
                r = CERTA_E_INVALID_ARGUMENT;
                break;
            }
        } else {
            snprintf(id->sni, sizeof id->sni, "%s", t[i].ident);
        }
        a->n = i + 1;
        id->cfg = certa_config_new();
        r = id->cfg ? certa_config_set_alpn(id->cfg, ACME_TLS_ALPN) : CERTA_E_NOMEM;
        if (r == CERTA_OK) certa_config_set_cert_compression(id->cfg, "off");
        char *cert, *key;
        size_t cl, kl;
        if (r == CERTA_OK && validation_identity(&t[i], &cert, &cl, &key, &kl) != 0)
            r = CERTA_E_INTERNAL;
        else if (r == CERTA_OK) {
            r = certa_config_set_cert_chain_pem(id->cfg, cert, cl);
            if (r == CERTA_OK) r = certa_config_set_private_key_pem(id->cfg, key, kl);
            crypto_zero(key, kl);
            free(key);
            free(cert);
        }
        if (r != CERTA_OK && id->cfg) detail = certa_config_error_text(id->cfg);
    }
    if (r != CERTA_OK) {
        snprintf(why, cap, "tls-alpn-01: cannot make the validation certificates: %s",
                 *detail ? detail : certa_error_text(r));
        alpn_stop(&a->base);
        return NULL;
    }
    char port[16], bound[128], sub[256];
    snprintf(port, sizeof port, "%d", o->tls_port ? o->tls_port : 443);
    a->fd = cli_listen(o->listen_addr ? o->listen_addr : "0.0.0.0", port, 64, false, bound,
                       sizeof bound, sub, sizeof sub);
    if (a->fd < 0 || pipe(a->stop_pipe) != 0) {
        snprintf(why, cap, "tls-alpn-01: %s", a->fd < 0 ? sub : strerror(errno));
        alpn_stop(&a->base);
        return NULL;
    }
    if (pthread_create(&a->thread, NULL, serve, a) != 0) {
        snprintf(why, cap, "tls-alpn-01: cannot start the responder thread");
        alpn_stop(&a->base);
        return NULL;
    }
    a->running = true;
    if (o->verbose) fprintf(stderr, "* tls-alpn-01: answering acme-tls/1 on %s\n", bound);
    return &a->base;
}
