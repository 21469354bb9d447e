/* Shared helpers for the benchmarks: see bench.h. */
#include "bench.h"
#include "lib_certs.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bench_seconds(double def) {
    const char *s = getenv("BENCH_SECONDS");
    double v = s ? atof(s) : 0;
    return v > 0 ? v : def;
}

const char *ossl_group_name(const char *g) {
    return !strcmp(g, "secp256r1") ? "P-256" : !strcmp(g, "secp384r1") ? "P-384" : g;
}

static int spki_pin(const char *cert_pem, char *out, size_t cap) {
    BIO *bio = BIO_new_mem_buf(cert_pem, -1);
    X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);
    if (!x) return -1;
    unsigned char *der = NULL;
    int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
    X509_free(x);
    if (n <= 0) return -1;
    unsigned char md[32];
    unsigned int mdlen = 0;
    int ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
    OPENSSL_free(der);
    if (!ok || cap < 8 + 45) return -1;
    memcpy(out, "sha256:", 7);
    EVP_EncodeBlock((unsigned char *)out + 7, md, 32);
    return 0;
}

static SSL_CTX *ossl_ctx(bool server, const bench_setup *b) {
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_ciphersuites(ctx, b->suite);
    SSL_CTX_set1_groups_list(ctx, ossl_group_name(b->group));
    if (server) {
        /* Full handshakes: no tickets on either library (certa's are off in
         * bench_setup_init), like-for-like work; bench_setup_resumption
         * turns them back on for handshake_resumed. */
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        BIO *cb = BIO_new_mem_buf(b->cert_pem, -1), *kb = BIO_new_mem_buf(b->key_pem, -1);
        X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
        EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
        int ok =
            x && k && SSL_CTX_use_certificate(ctx, x) == 1 && SSL_CTX_use_PrivateKey(ctx, k) == 1;
        X509_free(x);
        EVP_PKEY_free(k);
        BIO_free(cb);
        BIO_free(kb);
        if (!ok) {
            SSL_CTX_free(ctx);
            return NULL;
        }
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    return ctx;
}

int bench_setup_init(bench_setup *b, const char *kind, const char *group, const char *suite) {
    memset(b, 0, sizeof *b);
    b->kind = kind;
    b->group = group;
    b->suite = suite;
    if (test_make_cert(kind, "localhost", &b->cert_pem, &b->key_pem) != 0) return -1;
    if (spki_pin(b->cert_pem, b->pin, sizeof b->pin) != 0) return -1;
    b->certa_srv = certa_config_new();
    b->certa_cli = certa_config_new();
    if (!b->certa_srv || !b->certa_cli) return -1;
    if (certa_config_set_cert_chain_pem(b->certa_srv, b->cert_pem, strlen(b->cert_pem)) ||
        certa_config_set_private_key_pem(b->certa_srv, b->key_pem, strlen(b->key_pem)) ||
        certa_config_set_ciphers(b->certa_srv, suite) ||
        certa_config_set_groups(b->certa_srv, group) ||
        certa_config_set_ciphers(b->certa_cli, suite) ||
        certa_config_set_groups(b->certa_cli, group) || certa_config_add_pin(b->certa_cli, b->pin))
        return -1;
    certa_config_set_tickets(b->certa_srv, 0);
    certa_config_set_session_cache(b->certa_cli, 0);
    b->ossl_srv = ossl_ctx(true, b);
    b->ossl_cli = ossl_ctx(false, b);
    return b->ossl_srv && b->ossl_cli ? 0 : -1;
}

void bench_setup_resumption(bench_setup *b) {
    certa_config_set_tickets(b->certa_srv, 1);
    SSL_CTX_set_num_tickets(b->ossl_srv, 1);
    SSL_CTX_clear_options(b->ossl_srv, SSL_OP_NO_TICKET);
    /* libssl's client keeps TLS 1.3 tickets only in client cache mode. */
    SSL_CTX_set_session_cache_mode(b->ossl_cli, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL);
}

int bench_setup_tls12(bench_setup *b, const char *suite12) {
    if (certa_config_set_versions(b->certa_srv, CERTA_TLS12, CERTA_TLS12) ||
        certa_config_set_versions(b->certa_cli, CERTA_TLS12, CERTA_TLS12) ||
        certa_config_set_ciphers(b->certa_srv, suite12) ||
        certa_config_set_ciphers(b->certa_cli, suite12))
        return -1;
    SSL_CTX *ctx[2] = {b->ossl_srv, b->ossl_cli};
    for (int i = 0; i < 2; i++)
        if (SSL_CTX_set_min_proto_version(ctx[i], TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_max_proto_version(ctx[i], TLS1_2_VERSION) != 1 ||
            SSL_CTX_set_cipher_list(ctx[i], suite12) != 1)
            return -1;
    /* In TLS 1.2 the client's supported_groups also names the curves it
     * accepts in the server's ECDSA certificate (RFC 8422 §5.1): both
     * clients list the key-share group, then P-256 for the certificate; the
     * servers keep the case's group alone, so ECDHE is still that group. */
    if (strcmp(b->group, "secp256r1") != 0) {
        char list[64];
        snprintf(list, sizeof list, "%s,secp256r1", b->group);
        if (certa_config_set_groups(b->certa_cli, list)) return -1;
        snprintf(list, sizeof list, "%s:P-256", ossl_group_name(b->group));
        if (SSL_CTX_set1_groups_list(b->ossl_cli, list) != 1) return -1;
    }
    /* In TLS 1.2 libssl's server would otherwise put every session in its
     * internal cache (with SSL_OP_NO_TICKET: a session ID per full
     * handshake; with tickets: as well as the ticket), work certa does not
     * do. Off, libssl resumes from its stateless tickets only, like certa. */
    SSL_CTX_set_session_cache_mode(b->ossl_srv, SSL_SESS_CACHE_OFF);
    b->suite = suite12;
    b->tls12 = true;
    return 0;
}

void bench_setup_free(bench_setup *b) {
    free(b->certa_session);
    SSL_SESSION_free(b->ossl_session);
    certa_config_free(b->certa_srv);
    certa_config_free(b->certa_cli);
    SSL_CTX_free(b->ossl_srv);
    SSL_CTX_free(b->ossl_cli);
    free(b->cert_pem);
    free(b->key_pem);
    memset(b, 0, sizeof *b);
}

int certa_move(certa_conn *from, certa_conn *to) {
    const uint8_t *p;
    size_t n = certa_conn_outgoing(from, &p);
    if (n == 0) return 0;
    size_t off = 0;
    while (off < n) {
        size_t used = 0;
        if (certa_conn_recv(to, p + off, n - off, &used) != CERTA_OK) return -1;
        if (used == 0) break;
        off += used;
    }
    certa_conn_outgoing_done(from, off);
    return off > 0 ? 1 : 0;
}

bool certa_pair_handshake(certa_conn *cli, certa_conn *srv) {
    for (int round = 0; round < 16; round++) {
        int a = certa_move(cli, srv);
        int b = certa_move(srv, cli);
        if (a < 0 || b < 0 || certa_conn_failed(cli) || certa_conn_failed(srv)) return false;
        if (certa_conn_handshake_done(cli) && certa_conn_handshake_done(srv)) {
            /* Anything the server still queued after its Finished (none in
             * TLS 1.3 without tickets) goes across too. */
            certa_move(srv, cli);
            certa_move(cli, srv);
            return true;
        }
        if (a == 0 && b == 0) return false;
    }
    return false;
}

/* certa client + server in memory, the server's early data drained as it
 * comes (the engine takes no more input while some waits); how much early
 * data the server read into *early, or false on failure. */
bool certa_pair_0rtt(certa_conn *cli, certa_conn *srv, size_t *early) {
    uint8_t buf[4096];
    *early = 0;
    for (int round = 0; round < 16; round++) {
        int a = certa_move(cli, srv);
        for (size_t n; (n = certa_conn_read_early(srv, buf, sizeof buf)) > 0;) {
            *early += n;
            a = a < 0 ? a : certa_move(cli, srv);
        }
        int b = certa_move(srv, cli);
        if (a < 0 || b < 0 || certa_conn_failed(cli) || certa_conn_failed(srv)) return false;
        if (certa_conn_handshake_done(cli) && certa_conn_handshake_done(srv)) {
            certa_move(srv, cli); /* the ticket */
            return true;
        }
        if (a == 0 && b == 0) return false;
    }
    return false;
}

int ossl_pair_new(ossl_pair *p, SSL_CTX *cli_ctx, SSL_CTX *srv_ctx) {
    BIO *a = NULL, *b = NULL;
    p->cli = SSL_new(cli_ctx);
    p->srv = SSL_new(srv_ctx);
    if (!p->cli || !p->srv || BIO_new_bio_pair(&a, 65536, &b, 65536) != 1) {
        SSL_free(p->cli);
        SSL_free(p->srv);
        return -1;
    }
    SSL_set_bio(p->cli, a, a);
    SSL_set_bio(p->srv, b, b);
    SSL_set_connect_state(p->cli);
    SSL_set_accept_state(p->srv);
    return 0;
}

bool ossl_pair_handshake(ossl_pair *p) {
    for (int round = 0; round < 16; round++) {
        int rc = SSL_do_handshake(p->cli);
        int rs = SSL_do_handshake(p->srv);
        if (rc == 1 && rs == 1) return true;
        int ec = rc == 1 ? SSL_ERROR_NONE : SSL_get_error(p->cli, rc);
        int es = rs == 1 ? SSL_ERROR_NONE : SSL_get_error(p->srv, rs);
        if ((ec != SSL_ERROR_NONE && ec != SSL_ERROR_WANT_READ) ||
            (es != SSL_ERROR_NONE && es != SSL_ERROR_WANT_READ)) {
            ERR_print_errors_fp(stderr);
            return false;
        }
    }
    return false;
}

void ossl_pair_free(ossl_pair *p) {
    SSL_free(p->cli);
    SSL_free(p->srv);
    p->cli = p->srv = NULL;
}
