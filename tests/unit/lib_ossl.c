/* Test helper: see lib_ossl.h. */
#include "lib_ossl.h"

#include <openssl/pem.h>

void use_pem(SSL_CTX *ctx, const char *cert, const char *key) {
    BIO *cb = BIO_new_mem_buf(cert, -1), *kb = BIO_new_mem_buf(key, -1);
    X509 *x = PEM_read_bio_X509(cb, NULL, NULL, NULL);
    EVP_PKEY *k = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    SSL_CTX_use_certificate(ctx, x);
    SSL_CTX_use_PrivateKey(ctx, k);
    X509_free(x);
    EVP_PKEY_free(k);
    BIO_free(cb);
    BIO_free(kb);
}

peer ossl_peer(SSL_CTX *ctx, bool server) {
    peer p;
    p.ssl = SSL_new(ctx);
    p.to_ssl = BIO_new(BIO_s_mem());
    p.from_ssl = BIO_new(BIO_s_mem());
    BIO_up_ref(p.to_ssl);
    BIO_up_ref(p.from_ssl);
    SSL_set_bio(p.ssl, p.to_ssl, p.from_ssl);
    if (server)
        SSL_set_accept_state(p.ssl);
    else
        SSL_set_connect_state(p.ssl);
    return p;
}

void peer_free(peer *p) {
    SSL_set_shutdown(p->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(p->ssl);
    BIO_free(p->to_ssl);
    BIO_free(p->from_ssl);
}

void pump_reading_early(certa_conn *c, peer *p, char *early, size_t cap) {
    uint8_t buf[32768];
    size_t have = 0;
    for (int round = 0; round < 50; round++) {
        bool moved = false;
        if (!SSL_is_init_finished(p->ssl)) SSL_do_handshake(p->ssl);
        int n;
        while ((n = BIO_read(p->from_ssl, buf, sizeof buf)) > 0) {
            size_t off = 0;
            while (off < (size_t)n) {
                size_t used = 0;
                if (certa_conn_recv(c, buf + off, (size_t)n - off, &used) != 0) break;
                off += used;
                size_t got = 0;
                if (early) {
                    got = certa_conn_read_early(c, (uint8_t *)early + have, cap - 1 - have);
                    have += got;
                }
                if (!used && !got) break;
            }
            moved = true;
        }
        const uint8_t *out;
        size_t len = certa_conn_outgoing(c, &out);
        if (len) {
            BIO_write(p->to_ssl, out, (int)len);
            certa_conn_outgoing_done(c, len);
            moved = true;
        }
        if (!moved) break;
    }
    if (early) early[have] = '\0';
}

void pump(certa_conn *c, peer *p) {
    pump_reading_early(c, p, NULL, 0);
}
