/* Test helper: certa's client and server connected in memory. */
#include "lib_pair.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pair_pump_rounds(pair *p, int max_rounds, pair_ack ack) {
    for (int round = 0; round < max_rounds; round++) {
        bool moved = false;
        certa_conn *from[2] = {p->client, p->server}, *to[2] = {p->server, p->client};
        for (int d = 0; d < 2; d++) {
            const uint8_t *out;
            size_t n = certa_conn_outgoing(from[d], &out);
            if (n) {
                size_t used = 0;
                certa_conn_recv(to[d], out, n, &used);
                certa_conn_outgoing_done(from[d], ack == PAIR_ACK_USED && used ? used : n);
                moved = true;
            }
        }
        if (!moved) return round;
    }
    return max_rounds;
}

void pair_pump(pair *p) {
    pair_pump_rounds(p, 20, PAIR_ACK_ALL);
}

void pair_free(pair *p) {
    certa_conn_free(p->client);
    certa_conn_free(p->server);
}

char *tc_key_pem(const test_cert *c) {
    BIO *b = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(b, c->key, NULL, NULL, 0, NULL, NULL);
    char *data;
    long len = BIO_get_mem_data(b, &data);
    char *out = malloc((size_t)len + 1);
    memcpy(out, data, (size_t)len);
    out[len] = 0;
    BIO_free(b);
    return out;
}

int pair_use_identity(certa_config *cfg, const test_cert *c) {
    char *k = tc_key_pem(c);
    int r = certa_config_add_identity_pem(cfg, c->pem, strlen(c->pem), k, strlen(k));
    if (r) printf("# identity: %s\n", certa_config_error_text(cfg));
    free(k);
    return r;
}
