/* In-memory handshakes between certa's client and server: every suite,
 * group and key type, HelloRetryRequest, ALPN, pins, KeyUpdate, close, and
 * tampering (a flipped bit must fail with bad_record_mac). */
#include "certa.h"
#include "testlib.h"
#include "lib_certs.h"
#include "lib_pair.h"

#include <stdbool.h>

static certa_config *server_config(const char *kind) {
    char *cert, *key;
    if (test_make_cert(kind, "localhost", &cert, &key) != 0) return NULL;
    certa_config *cfg = certa_config_new();
    int r1 = certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
    int r2 = certa_config_set_private_key_pem(cfg, key, strlen(key));
    if (r1 || r2) printf("# config: %s\n", certa_config_error_text(cfg));
    free(cert);
    free(key);
    return cfg;
}

static bool roundtrip(pair *p, const char *msg) {
    if (certa_conn_write(p->client, (const uint8_t *)msg, strlen(msg)) != 0) return false;
    pair_pump_rounds(p, 10, PAIR_ACK_USED);
    uint8_t buf[256];
    size_t n = certa_conn_read(p->server, buf, sizeof buf);
    if (n != strlen(msg) || memcmp(buf, msg, n) != 0) return false;
    if (certa_conn_write(p->server, buf, n) != 0) return false;
    pair_pump_rounds(p, 10, PAIR_ACK_USED);
    size_t m = certa_conn_read(p->client, buf, sizeof buf);
    return m == n && memcmp(buf, msg, m) == 0;
}

static void handshake_case(const char *kind, const char *suite, const char *client_groups,
                           const char *server_groups, bool expect_hrr) {
    certa_config *scfg = server_config(kind);
    certa_config *ccfg = certa_config_new();
    certa_config_set_insecure(ccfg, true);
    certa_config_set_ciphers(ccfg, suite);
    certa_config_set_ciphers(scfg, suite); /* TLS_AES_128_CCM_SHA256 is off by default */
    if (client_groups) certa_config_set_groups(ccfg, client_groups);
    if (server_groups) certa_config_set_groups(scfg, server_groups);
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump_rounds(&p, 20, PAIR_ACK_USED);
    bool done = certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server);
    CHECK(done, "handshake %s %s client=%s server=%s: %s / %s", kind, suite,
          client_groups ? client_groups : "default", server_groups ? server_groups : "default",
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    certa_info ci, si;
    certa_conn_info(p.client, &ci);
    certa_conn_info(p.server, &si);
    CHECK(ci.hello_retry == expect_hrr && si.hello_retry == expect_hrr,
          "hello retry %s as expected (%d/%d)", expect_hrr ? "used" : "not used", ci.hello_retry,
          si.hello_retry);
    CHECK(strcmp(certa_cipher_suite_name(ci.cipher_suite), suite) == 0 &&
              ci.cipher_suite == si.cipher_suite && ci.group == si.group,
          "both sides agree on %s / %s", certa_cipher_suite_name(ci.cipher_suite),
          certa_group_name(ci.group));
    CHECK(done && roundtrip(&p, "hello certa"), "data round trip %s %s", kind, suite);
    pair_free(&p);
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

/* The post-quantum defaults and the hybrids: which group each pairing
 * settles on, and whether it took a HelloRetryRequest. */
static void hybrid_cases(void) {
    static const struct {
        const char *client, *server;
        uint16_t group;
        bool hrr;
        const char *what;
    } cases[] = {
        {NULL, NULL, CERTA_GROUP_X25519MLKEM768, false, "defaults: X25519MLKEM768"},
        {"SecP256r1MLKEM768,secp256r1", "SecP256r1MLKEM768", CERTA_GROUP_SECP256R1MLKEM768, false,
         "SecP256r1MLKEM768"},
        {"SecP384r1MLKEM1024,secp384r1", "SecP384r1MLKEM1024", CERTA_GROUP_SECP384R1MLKEM1024,
         false, "SecP384r1MLKEM1024"},
        {NULL, "x25519", CERTA_GROUP_X25519, false,
         "a classical server takes the client's second (x25519) share"},
        {"x25519", NULL, CERTA_GROUP_X25519, false,
         "a classical client: the server does not force the hybrid by HelloRetryRequest"},
        {"x25519,X25519MLKEM768", "X25519MLKEM768", CERTA_GROUP_X25519MLKEM768, true,
         "a hybrid-only server asks for the hybrid"},
        {NULL, "secp256r1", CERTA_GROUP_SECP256R1, true,
         "a P-256-only server asks for P-256 (neither share fits)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        certa_config *scfg = server_config("p256"), *ccfg = certa_config_new();
        certa_config_set_insecure(ccfg, true);
        if (cases[i].client) certa_config_set_groups(ccfg, cases[i].client);
        if (cases[i].server) certa_config_set_groups(scfg, cases[i].server);
        pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
        pair_pump_rounds(&p, 20, PAIR_ACK_USED);
        certa_info ci, si;
        bool done = certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server) &&
                    certa_conn_info(p.client, &ci) == 0 && certa_conn_info(p.server, &si) == 0;
        CHECK(done && ci.group == cases[i].group && si.group == cases[i].group &&
                  ci.hello_retry == cases[i].hrr && si.hello_retry == cases[i].hrr,
              "%s: %s%s (%s)", cases[i].what, done ? certa_group_name(ci.group) : "failed",
              done && ci.hello_retry ? " after a HelloRetryRequest" : "",
              done ? "" : certa_conn_error_text(p.client));
        CHECK(done && roundtrip(&p, "post-quantum"), "%s: data round trip", cases[i].what);
        pair_free(&p);
        certa_config_free(ccfg);
        certa_config_free(scfg);
    }
}

/* A fresh connected pair over a P-256 server; the client trusts by pin or
 * insecure as the caller configured ccfg. */
static pair connect_pair(certa_config *ccfg, certa_config *scfg) {
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump_rounds(&p, 20, PAIR_ACK_USED);
    return p;
}

static void pin_cases(void) {
    char *cert, *key;
    test_make_cert("p256", "pinned.example", &cert, &key);
    certa_config *scfg = certa_config_new();
    certa_config_set_cert_chain_pem(scfg, cert, strlen(cert));
    certa_config_set_private_key_pem(scfg, key, strlen(key));
    /* The pin of the leaf, as certa_cert_summarize reports it. */
    certa_config *probe = certa_config_new();
    certa_config_set_insecure(probe, true);
    pair p = connect_pair(probe, scfg);
    size_t der_len = 0;
    const uint8_t *der = certa_conn_peer_cert(p.client, 0, &der_len);
    certa_cert_summary sum;
    CHECK(der && certa_cert_summarize(der, der_len, &sum) == 0, "summarize the peer certificate");
    CHECK(strstr(sum.subject, "pinned.example") != NULL, "subject names the CN: %s", sum.subject);
    pair_free(&p);
    certa_config_free(probe);

    certa_config *good = certa_config_new();
    CHECK(certa_config_add_pin(good, sum.spki_sha256) == 0, "pin accepted: %s", sum.spki_sha256);
    p = connect_pair(good, scfg);
    CHECK(certa_conn_handshake_done(p.client), "right pin: handshake succeeds");
    pair_free(&p);

    certa_config *bad = certa_config_new();
    certa_config_add_pin(bad, "sha256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    p = connect_pair(bad, scfg);
    CHECK(certa_conn_error(p.client) == CERTA_E_PIN_MISMATCH,
          "wrong pin: CERTA_E_PIN_MISMATCH (%s)", certa_error_name(certa_conn_error(p.client)));
    CHECK(certa_conn_alert_sent(p.client) == 42, "wrong pin: client sent bad_certificate");
    CHECK(certa_conn_alert_received(p.server) == 42, "server saw bad_certificate");
    CHECK(strstr(certa_conn_error_text(p.client), sum.spki_sha256) != NULL,
          "explanation names the server's actual pin: %s", certa_conn_error_text(p.client));
    pair_free(&p);

    certa_config *fresh = certa_config_new();
    CHECK(certa_config_add_pin(fresh, "sha256:short") == CERTA_E_BAD_PIN, "malformed pin refused");
    CHECK(certa_config_add_pin(fresh, "md5:AAAA") == CERTA_E_BAD_PIN, "non-sha256 pin refused");
    certa_config_free(fresh);

    /* No pin, no insecure: the default is chain validation against the
     * system bundle, which a self-signed test certificate cannot pass. */
    certa_config *none = certa_config_new();
    p = connect_pair(none, scfg);
    int code = certa_conn_error(p.client);
    CHECK(code == CERTA_E_CERT_SELF_SIGNED || code == CERTA_E_CERT_UNKNOWN_ISSUER ||
              code == CERTA_E_TRUST_EMPTY,
          "default client validates the chain and refuses a self-signed server (%s)",
          certa_error_name(code));
    CHECK(!certa_conn_handshake_done(p.server), "and the server does not complete");
    pair_free(&p);
    certa_config *noname = certa_config_new();
    certa_conn *c = certa_client_new(noname, NULL);
    const uint8_t *out;
    CHECK(certa_conn_failed(c) && certa_conn_outgoing(c, &out) == 0,
          "validating client without a server name refuses before sending: %s",
          certa_conn_error_text(c));
    certa_conn_free(c);
    certa_config_free(noname);
    certa_config_free(none);
    certa_config_free(good);
    certa_config_free(bad);
    certa_config_free(scfg);
    free(cert);
    free(key);
}

static void alpn_cases(void) {
    certa_config *scfg = server_config("p256");
    certa_config_set_alpn(scfg, "h2,http/1.1");
    certa_config *ccfg = certa_config_new();
    certa_config_set_insecure(ccfg, true);
    certa_config_set_alpn(ccfg, "http/1.1,foo");
    pair p = connect_pair(ccfg, scfg);
    certa_info ci, si;
    certa_conn_info(p.client, &ci);
    certa_conn_info(p.server, &si);
    CHECK(ci.alpn && si.alpn && !strcmp(ci.alpn, "http/1.1") && !strcmp(si.alpn, "http/1.1"),
          "ALPN overlap negotiated http/1.1");
    CHECK(si.server_name && !strcmp(si.server_name, "localhost"), "server saw SNI localhost");
    pair_free(&p);
    certa_config *other = certa_config_new();
    certa_config_set_insecure(other, true);
    certa_config_set_alpn(other, "foo");
    p = connect_pair(other, scfg);
    CHECK(certa_conn_error(p.server) == CERTA_E_NO_ALPN, "no ALPN overlap: server CERTA_E_NO_ALPN");
    CHECK(certa_conn_alert_received(p.client) == 120, "client got no_application_protocol");
    pair_free(&p);
    certa_config_free(other);
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

static void post_handshake_cases(void) {
    certa_config *scfg = server_config("p256");
    certa_config *ccfg = certa_config_new();
    certa_config_set_insecure(ccfg, true);
    pair p = connect_pair(ccfg, scfg);
    CHECK(certa_conn_key_update(p.client, true) == 0, "client KeyUpdate(update_requested)");
    CHECK(roundtrip(&p, "after key update"), "data flows both ways after KeyUpdate");
    CHECK(certa_conn_key_update(p.server, false) == 0, "server KeyUpdate");
    CHECK(roundtrip(&p, "after second key update"), "data flows after server KeyUpdate");

    /* Large write: fragmented into 2^14-byte records, read back whole. */
    static uint8_t big[100000], back[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (uint8_t)(i * 7);
    CHECK(certa_conn_write(p.client, big, sizeof big) == 0, "100 kB write queued");
    const uint8_t *out;
    size_t n = certa_conn_outgoing(p.client, &out), got = 0, off = 0;
    while (off < n) { /* feed in odd-sized pieces, reading as backpressure requires */
        size_t chunk = n - off < 777 ? n - off : 777, used = 0;
        if (certa_conn_recv(p.server, out + off, chunk, &used) != 0) break;
        off += used;
        got += certa_conn_read(p.server, back + got, sizeof back - got);
    }
    certa_conn_outgoing_done(p.client, n);
    got += certa_conn_read(p.server, back + got, sizeof back - got);
    CHECK(got == sizeof big && memcmp(big, back, sizeof big) == 0,
          "100 kB arrive intact through fragmentation and backpressure (%zu)", got);

    /* Tampering: flip a bit in a record's ciphertext. */
    certa_conn_write(p.client, (const uint8_t *)"tamper", 6);
    n = certa_conn_outgoing(p.client, &out);
    uint8_t copy[64];
    memcpy(copy, out, n);
    copy[n - 3] ^= 1;
    certa_conn_outgoing_done(p.client, n);
    size_t used;
    CHECK(certa_conn_recv(p.server, copy, n, &used) == CERTA_E_BAD_RECORD_MAC,
          "flipped bit: CERTA_E_BAD_RECORD_MAC");
    CHECK(certa_conn_alert_sent(p.server) == 20, "server sends bad_record_mac");
    pair_free(&p);

    /* A KeyUpdate flood (no application data between) is cut off. */
    p = connect_pair(ccfg, scfg);
    int updates = 0;
    for (; updates < 40 && !certa_conn_failed(p.server); updates++) {
        certa_conn_key_update(p.client, false);
        pair_pump_rounds(&p, 5, PAIR_ACK_USED);
    }
    CHECK(certa_conn_failed(p.server) && updates == 33,
          "server cuts off a KeyUpdate flood after 32 (%d sent): %s", updates,
          certa_conn_error_text(p.server));
    pair_free(&p);
    p = connect_pair(ccfg, scfg);
    for (int i = 0; i < 100; i++) {
        certa_conn_key_update(p.client, false);
        pair_pump_rounds(&p, 5, PAIR_ACK_USED);
        if (i % 10 == 9) roundtrip(&p, "data between updates");
    }
    CHECK(!certa_conn_failed(p.server), "KeyUpdates interleaved with data are fine (100 sent)");
    pair_free(&p);

    /* close_notify ends the stream cleanly. */
    p = connect_pair(ccfg, scfg);
    certa_conn_close(p.client);
    CHECK(certa_conn_write(p.client, (const uint8_t *)"x", 1) == CERTA_E_STATE,
          "no writes after close_notify");
    pair_pump_rounds(&p, 5, PAIR_ACK_USED);
    CHECK(certa_conn_peer_closed(p.server), "server saw close_notify");
    CHECK(certa_conn_recv_eof(p.server) == 0, "EOF after close_notify is clean");
    pair_free(&p);

    /* EOF without close_notify is a truncation. */
    p = connect_pair(ccfg, scfg);
    CHECK(certa_conn_recv_eof(p.client) == CERTA_E_PEER_CLOSED,
          "EOF without close_notify reported");
    pair_free(&p);

    /* Byte-at-a-time handshake. */
    certa_conn *c = certa_client_new(ccfg, "localhost"), *s = certa_server_new(scfg);
    for (int round = 0; round < 10; round++) {
        certa_conn *from[2] = {c, s}, *to[2] = {s, c};
        for (int d = 0; d < 2; d++) {
            n = certa_conn_outgoing(from[d], &out);
            for (size_t i = 0; i < n; i++)
                certa_conn_recv(to[d], out + i, 1, &used);
            certa_conn_outgoing_done(from[d], n);
        }
    }
    CHECK(certa_conn_handshake_done(c) && certa_conn_handshake_done(s),
          "handshake fed one byte at a time completes");
    certa_conn_free(c);
    certa_conn_free(s);
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

static void config_cases(void) {
    certa_config *cfg = certa_config_new();
    CHECK(certa_config_set_ciphers(cfg, "TLS_AES_128_GCM_SHA256,RC4") == CERTA_E_UNKNOWN_NAME,
          "unknown cipher refused");
    CHECK(strstr(certa_config_error_text(cfg), "RC4") != NULL, "error names it: %s",
          certa_config_error_text(cfg));
    CHECK(certa_config_set_groups(cfg, "brainpoolP256r1") == CERTA_E_UNKNOWN_NAME,
          "unknown group refused");
    CHECK(certa_config_load_cert_chain(cfg, "/nonexistent/cert.pem") == CERTA_E_FILE,
          "missing file: CERTA_E_FILE");
    CHECK(certa_config_set_cert_chain_pem(cfg, "garbage", 7) == CERTA_E_BAD_PEM, "not PEM refused");
    char *c1, *k1, *c2, *k2;
    test_make_cert("p256", "a", &c1, &k1);
    test_make_cert("p256", "b", &c2, &k2);
    certa_config_set_cert_chain_pem(cfg, c1, strlen(c1));
    CHECK(certa_config_set_private_key_pem(cfg, k2, strlen(k2)) == CERTA_E_KEY_MISMATCH,
          "key of another certificate: CERTA_E_KEY_MISMATCH");
    certa_conn *s = certa_server_new(cfg);
    CHECK(certa_conn_error(s) == CERTA_E_CONFIG, "server without a usable key refuses to start");
    CHECK(certa_config_set_alpn(cfg, "h2") == CERTA_E_STATE, "config frozen once used");
    certa_conn_free(s);
    certa_config_free(cfg);
    free(c1);
    free(k1);
    free(c2);
    free(k2);
}

/* Each certificate key signs with the scheme it fits, in TLS 1.3 and 1.2,
 * as the server and as a client certificate (the server verifies it). */
static void scheme_case(const char *kind, uint16_t want, uint16_t version) {
    certa_config *scfg = server_config(kind), *ccfg = server_config(kind);
    certa_config_set_insecure(ccfg, true);
    certa_config_set_insecure(scfg, true); /* accepts the client's self-signed certificate */
    certa_config_set_client_auth(scfg, CERTA_CLIENT_AUTH_REQUIRE);
    certa_config_set_versions(ccfg, version, version);
    certa_config_set_versions(scfg, version, version);
    /* RFC 8422 5.1.1: a TLS 1.2 ECDSA certificate's curve must be a group the
     * client names, so a P-521 server needs a client offering secp521r1. */
    if (!strcmp(kind, "p521")) certa_config_set_groups(ccfg, "x25519,secp521r1");
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump_rounds(&p, 20, PAIR_ACK_USED);
    bool done = certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server);
    const char *v = version == CERTA_TLS12 ? "TLS 1.2" : "TLS 1.3";
    CHECK(done, "%s %s mutual: %s / %s", v, kind, certa_conn_error_text(p.client),
          certa_conn_error_text(p.server));
    certa_info ci, si;
    certa_conn_info(p.client, &ci);
    certa_conn_info(p.server, &si);
    CHECK(done && ci.peer_sig_scheme == want && si.peer_sig_scheme == want,
          "%s %s: both sign with %s (server %s, client %s)", v, kind, certa_sig_scheme_name(want),
          certa_sig_scheme_name(ci.peer_sig_scheme), certa_sig_scheme_name(si.peer_sig_scheme));
    CHECK(done && roundtrip(&p, "signed"), "%s %s: data round trip", v, kind);
    pair_free(&p);
    certa_config_free(ccfg);
    certa_config_free(scfg);
}

/* TLS_AES_128_CCM_SHA256: chosen only when both sides allow it. */
static void ccm_cases(void) {
    handshake_case("p256", "TLS_AES_128_CCM_SHA256", NULL, NULL, false);
    handshake_case("ed448", "TLS_AES_128_CCM_SHA256", "secp256r1", NULL, false);
    /* a server with the defaults does not take a CCM-only client */
    certa_config *scfg = server_config("p256"), *ccfg = certa_config_new();
    certa_config_set_insecure(ccfg, true);
    certa_config_set_ciphers(ccfg, "TLS_AES_128_CCM_SHA256");
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump_rounds(&p, 20, PAIR_ACK_USED);
    CHECK(certa_conn_error(p.server) == CERTA_E_NO_COMMON_CIPHER,
          "CCM-only client vs default server: %s", certa_error_name(certa_conn_error(p.server)));
    pair_free(&p);
    certa_config_free(scfg);
    /* the iot profile takes it */
    scfg = server_config("p256");
    certa_config_set_profile(scfg, "iot");
    p = (pair){certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump_rounds(&p, 20, PAIR_ACK_USED);
    certa_info si;
    CHECK(certa_conn_handshake_done(p.server) && certa_conn_info(p.server, &si) == 0 &&
              si.cipher_suite == CERTA_TLS_AES_128_CCM_SHA256 && roundtrip(&p, "ccm"),
          "CCM-only client vs iot server: TLS_AES_128_CCM_SHA256 (%s)",
          certa_conn_error_text(p.server));
    pair_free(&p);
    certa_config_free(scfg);
    certa_config_free(ccfg);
}

int main(void) {
    static const struct {
        const char *kind;
        uint16_t scheme13, scheme12;
    } schemes[] = {
        {"p521", CERTA_SIG_ECDSA_SECP521R1_SHA512, CERTA_SIG_ECDSA_SECP521R1_SHA512},
        {"ed25519", CERTA_SIG_ED25519, CERTA_SIG_ED25519},
        {"ed448", CERTA_SIG_ED448, CERTA_SIG_ED448},
        {"rsapss", CERTA_SIG_RSA_PSS_PSS_SHA256, CERTA_SIG_RSA_PSS_PSS_SHA256},
        {"rsapss384", CERTA_SIG_RSA_PSS_PSS_SHA384, CERTA_SIG_RSA_PSS_PSS_SHA384},
        {"rsa2048", CERTA_SIG_RSA_PSS_RSAE_SHA256, CERTA_SIG_RSA_PSS_RSAE_SHA256},
    };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        scheme_case(schemes[i].kind, schemes[i].scheme13, CERTA_TLS13);
        scheme_case(schemes[i].kind, schemes[i].scheme12, CERTA_TLS12);
    }
    ccm_cases();
    pin_cases();
    alpn_cases();
    post_handshake_cases();
    config_cases();
    const char *kinds[] = {"p256", "p384", "rsa2048", "ed25519"};
    const char *suites[] = {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                            "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_CCM_SHA256"};
    for (size_t k = 0; k < 4; k++)
        for (size_t s = 0; s < 4; s++)
            handshake_case(kinds[k], suites[s], NULL, NULL, false);
    handshake_case("p256", "TLS_AES_128_GCM_SHA256", "secp256r1", NULL, false);
    hybrid_cases();
    handshake_case("p256", "TLS_AES_128_GCM_SHA256", "secp384r1", NULL, false);
    handshake_case("p256", "TLS_AES_256_GCM_SHA384", "x25519,secp256r1", "secp256r1", true);
    handshake_case("rsa2048", "TLS_AES_128_GCM_SHA256", "x25519,secp384r1", "secp384r1", true);
    TEST_EXIT();
}
