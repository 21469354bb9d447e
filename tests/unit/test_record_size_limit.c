/* record_size_limit (RFC 8449) between certa's client and server, in TLS
 * 1.3 and 1.2: each side's records are cut to the size the other announced,
 * counted on the wire, and the data still arrives whole. */
#include "certa.h"
#include "lib_certs.h"
#include "lib_pair.h"
#include "testlib.h"

static certa_config *server_config(uint16_t version, unsigned limit) {
    char *cert, *key;
    certa_config *cfg = certa_config_new();
    test_make_cert("p256", "localhost", &cert, &key);
    certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
    certa_config_set_private_key_pem(cfg, key, strlen(key));
    free(cert);
    free(key);
    certa_config_set_versions(cfg, version, version);
    if (limit) certa_config_set_record_size_limit(cfg, limit);
    return cfg;
}

static certa_config *client_config(uint16_t version, unsigned limit) {
    certa_config *cfg = certa_config_new();
    certa_config_set_insecure(cfg, true);
    certa_config_set_versions(cfg, version, version);
    if (limit) certa_config_set_record_size_limit(cfg, limit);
    return cfg;
}

/* Writes n bytes on `from`, walks the records it queued (their count and
 * largest body), hands them to `to` and reads them back. */
static bool send_and_measure(certa_conn *from, certa_conn *to, size_t n, size_t *records,
                             size_t *largest) {
    uint8_t *data = malloc(n), *back = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 7);
    bool ok = certa_conn_write(from, data, n) == CERTA_OK;
    const uint8_t *wire;
    size_t len = certa_conn_outgoing(from, &wire), off = 0;
    *records = *largest = 0;
    while (ok && off + 5 <= len) {
        size_t body = (size_t)wire[off + 3] << 8 | wire[off + 4];
        (*records)++;
        if (body > *largest) *largest = body;
        off += 5 + body;
    }
    ok = ok && off == len;
    /* Fed with backpressure: a record's data must be read before the next. */
    size_t fed = 0, got = 0;
    while (ok && (fed < len || got < n)) {
        size_t used = 0;
        if (fed < len) ok = certa_conn_recv(to, wire + fed, len - fed, &used) == CERTA_OK;
        fed += used;
        size_t r = certa_conn_read(to, back + got, n - got);
        got += r;
        if (used == 0 && r == 0) break;
    }
    certa_conn_outgoing_done(from, len);
    ok = ok && got == n && memcmp(data, back, n) == 0;
    free(data);
    free(back);
    return ok;
}

static void run(uint16_t version, const char *vname) {
    /* Tag (16) plus, in TLS 1.3, the inner content type byte; TLS 1.2
     * AES-GCM adds its 8-byte explicit nonce. */
    size_t over = version == CERTA_TLS13 ? 17 : 24;
    certa_config *s = server_config(version, 200), *cl = client_config(version, 100);
    pair p = {certa_client_new(cl, "localhost"), certa_server_new(s)};
    pair_pump(&p);
    CHECK(certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server),
          "%s: both limits announced, handshake done (%s)", vname, certa_conn_error_text(p.client));
    size_t records, largest;
    CHECK(send_and_measure(p.server, p.client, 1000, &records, &largest) && largest == 100 + over &&
              records == 10,
          "%s: server -> client: 1000 bytes in %zu records of at most %zu bytes (client's limit "
          "100)",
          vname, records, largest);
    CHECK(send_and_measure(p.client, p.server, 1000, &records, &largest) && largest == 200 + over &&
              records == 5,
          "%s: client -> server: 1000 bytes in %zu records of at most %zu bytes (server's limit "
          "200)",
          vname, records, largest);
    pair_free(&p);

    /* A client with no limit set still offers the extension (2^14), so the
     * server's 200 binds it, while the server's records go at full size. */
    certa_config *plain = client_config(version, 0);
    p = (pair){certa_client_new(plain, "localhost"), certa_server_new(s)};
    pair_pump(&p);
    CHECK(certa_conn_handshake_done(p.client) &&
              send_and_measure(p.client, p.server, 1000, &records, &largest) &&
              largest == 200 + over && records == 5,
          "%s: unconfigured client: its records cut to the server's 200 (%zu bytes)", vname,
          largest);
    CHECK(send_and_measure(p.server, p.client, 40000, &records, &largest) &&
              largest == 16384 + over && records == 3,
          "%s: and the server's records to it go at 2^14 (%zu bytes)", vname, largest);
    pair_free(&p);

    /* The client's limit alone, the server unconfigured: it answers 2^14. */
    certa_config *s_default = server_config(version, 0);
    p = (pair){certa_client_new(cl, "localhost"), certa_server_new(s_default)};
    pair_pump(&p);
    CHECK(certa_conn_handshake_done(p.client) &&
              send_and_measure(p.server, p.client, 300, &records, &largest) &&
              largest == 100 + over && records == 3,
          "%s: an unconfigured server honours the client's 100", vname);
    CHECK(send_and_measure(p.client, p.server, 20000, &records, &largest) &&
              largest == 16384 + over,
          "%s: and allows full records itself", vname);
    pair_free(&p);
    certa_config_free(s);
    certa_config_free(s_default);
    certa_config_free(cl);
    certa_config_free(plain);
}

int main(void) {
    run(CERTA_TLS13, "TLS 1.3");
    run(CERTA_TLS12, "TLS 1.2");
    certa_config *cfg = certa_config_new();
    CHECK(certa_config_set_record_size_limit(cfg, 63) == CERTA_E_INVALID_ARGUMENT &&
              strstr(certa_config_error_text(cfg), "64 to 16384") != NULL,
          "63 refused: %s", certa_config_error_text(cfg));
    CHECK(certa_config_set_record_size_limit(cfg, 16385) == CERTA_E_INVALID_ARGUMENT,
          "16385 refused");
    CHECK(certa_config_set_record_size_limit(cfg, 64) == CERTA_OK &&
              certa_config_set_record_size_limit(cfg, 16384) == CERTA_OK,
          "64 and 16384 accepted");
    certa_config_free(cfg);
    TEST_EXIT();
}
