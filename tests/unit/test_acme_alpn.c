/* The tls-alpn-01 responder (tools/acme/challenge_tls_alpn.c, compiled in)
 * against libssl clients over loopback: a validator offering acme-tls/1 for
 * our name gets the validation certificate — acme-tls/1 negotiated, the
 * name (or, for an IP identifier asked by its reverse name, RFC 8738 §6,
 * the address) in its SAN, the critical acmeIdentifier holding SHA-256 of
 * the key authorization (RFC 8737 §3) — and a client offering another
 * protocol, no ALPN, or asking for another name gets not one byte back. */
#include "../../tools/acme/challenge_hello.c"
#include "../../tools/acme/challenge_tls_alpn.c"
#include "../../tools/acme/tls_alpn_validation.c"
#include "../../tools/common/cli_common.c"
#include "../../tools/revocation/ct_logs.c"
#include "testlib.h"

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static int port_of(int fd) {
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    return getsockname(fd, (struct sockaddr *)&a, &l) == 0 ? ntohs(a.sin_port) : -1;
}

static int dial(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

static SSL *client(SSL_CTX *ctx, const char *alpn, const char *sni) {
    SSL *s = SSL_new(ctx);
    if (alpn) {
        uint8_t wire[64];
        size_t n = strlen(alpn);
        wire[0] = (uint8_t)n;
        memcpy(wire + 1, alpn, n);
        SSL_set_alpn_protos(s, wire, (unsigned)n + 1);
    }
    if (sni) SSL_set_tlsext_host_name(s, sni);
    return s;
}

/* Sends libssl's ClientHello over TCP and counts what comes back before the
 * responder closes (at most 3 s). */
static long bytes_back(SSL_CTX *ctx, int port, const char *alpn, const char *sni) {
    SSL *s = client(ctx, alpn, sni);
    BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
    SSL_set_bio(s, rb, wb);
    SSL_set_connect_state(s);
    SSL_do_handshake(s);
    char *hello;
    long n = BIO_get_mem_data(wb, &hello);
    int fd = dial(port);
    long got = -1;
    if (fd >= 0 && send(fd, hello, (size_t)n, 0) == n) {
        got = 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        char buf[4096];
        while (poll(&p, 1, 3000) > 0) {
            ssize_t r = recv(fd, buf, sizeof buf, 0);
            if (r <= 0) break;
            got += r;
        }
    }
    if (fd >= 0) close(fd);
    SSL_free(s);
    return got;
}

/* A full handshake; the server's certificate (caller frees) or NULL. */
static X509 *handshake(SSL_CTX *ctx, int port, const char *alpn, const char *sni, char *proto) {
    SSL *s = client(ctx, alpn, sni);
    int fd = dial(port);
    X509 *cert = NULL;
    SSL_set_fd(s, fd);
    proto[0] = 0;
    if (fd >= 0 && SSL_connect(s) == 1) {
        const unsigned char *p;
        unsigned pl;
        SSL_get0_alpn_selected(s, &p, &pl);
        snprintf(proto, 32, "%.*s", (int)pl, (const char *)p);
        cert = SSL_get1_peer_certificate(s);
    }
    SSL_free(s);
    if (fd >= 0) close(fd);
    return cert;
}

static bool has_acme_identifier(X509 *x, const char *key_authz) {
    uint8_t digest[32];
    hash_oneshot(HASH_SHA256, (const uint8_t *)key_authz, strlen(key_authz), digest);
    ASN1_OBJECT *oid = OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1);
    int at = X509_get_ext_by_OBJ(x, oid, -1);
    ASN1_OBJECT_free(oid);
    X509_EXTENSION *e = at >= 0 ? X509_get_ext(x, at) : NULL;
    ASN1_OCTET_STRING *v = e ? X509_EXTENSION_get_data(e) : NULL;
    return v && X509_EXTENSION_get_critical(e) && ASN1_STRING_length(v) == 34 &&
           !memcmp(ASN1_STRING_get0_data(v) + 2, digest, 32);
}

int main(void) {
    acme_token t[2];
    memset(t, 0, sizeof t);
    snprintf(t[0].ident, sizeof t[0].ident, "alpn.certa.test");
    snprintf(t[0].token, sizeof t[0].token, "DGyRejmCefe7v4NfDGDKfA");
    snprintf(t[0].key_authz, sizeof t[0].key_authz, "DGyRejmCefe7v4NfDGDKfA.thumbprint-one");
    snprintf(t[1].ident, sizeof t[1].ident, "127.0.0.1");
    t[1].is_ip = true;
    snprintf(t[1].token, sizeof t[1].token, "aaaaaaaaaaaaaaaaaaaaaa");
    snprintf(t[1].key_authz, sizeof t[1].key_authz, "aaaaaaaaaaaaaaaaaaaaaa.thumbprint-two");
    challenge_opts o = {.listen_addr = "127.0.0.1"};
    char why[256];
    /* Port 0 means the default (443) to the responder: try random high ports. */
    challenge_responder *r = NULL;
    for (int attempt = 0; attempt < 20 && !r; attempt++) {
        uint16_t rnd = 0;
        crypto_random((uint8_t *)&rnd, sizeof rnd);
        o.tls_port = 20000 + rnd % 40000;
        r = challenge_tls_alpn_start(&o, t, 2, why, sizeof why);
    }
    CHECK(r != NULL, "the responder starts on a free loopback port (%s)", r ? "ok" : why);
    if (!r) TEST_EXIT();
    int port = port_of(((alpn_responder *)r)->fd);

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    char proto[32];
    X509 *x = handshake(ctx, port, "acme-tls/1", "alpn.certa.test", proto);
    CHECK(x && !strcmp(proto, "acme-tls/1") &&
              X509_check_host(x, "alpn.certa.test", 0, 0, NULL) == 1 &&
              has_acme_identifier(x, t[0].key_authz),
          "acme-tls/1 for our name: negotiated, the validation certificate for the name with the "
          "critical acmeIdentifier = SHA-256(key authorization)");
    X509_free(x);
    x = handshake(ctx, port, "acme-tls/1", "1.0.0.127.in-addr.arpa", proto);
    CHECK(x && X509_check_ip_asc(x, "127.0.0.1", 0) == 1 && has_acme_identifier(x, t[1].key_authz),
          "an IP identifier asked by its reverse name: its own certificate, IP SAN 127.0.0.1");
    X509_free(x);
    CHECK(bytes_back(ctx, port, "h2", "alpn.certa.test") == 0,
          "a client offering h2 only gets nothing back (no ServerHello, no certificate)");
    CHECK(bytes_back(ctx, port, NULL, "alpn.certa.test") == 0,
          "a client offering no ALPN gets nothing back");
    CHECK(bytes_back(ctx, port, "acme-tls/1", "other.certa.test") == 0,
          "acme-tls/1 for a name not in the order: nothing back");
    CHECK(bytes_back(ctx, port, "acme-tls/1", "alpn.certa.test") > 100,
          "... while the same hello for our name is answered (the check above can fail)");
    SSL_CTX_free(ctx);
    challenge_stop(r);
    TEST_EXIT();
}
