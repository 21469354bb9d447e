/* Encrypted Client Hello in the engine (RFC 9849), certa client and server in
 * memory. The server holds a certificate for the public name and one for the
 * real name, so the certificate served shows which hello it used.
 *  - the client's outer hello, opened here with ech_open_client_hello as a
 *    server would: public name as SNI, no ALPN, the inner hello with the real
 *    SNI, ALPN and TLS 1.3 only, padded to a multiple of 32;
 *  - accepted (also across a HelloRetryRequest), both sides say so, the
 *    inner name picks the certificate;
 *  - the acceptance confirmation: a ServerHello whose last random bytes are
 *    altered is a rejection to the client (and then a bad transcript);
 *  - rejected: a stale config gets retry_configs, ech_required, and a retry
 *    with them is accepted; a server without keys sends none;
 *  - split mode: the inner hello handed to a key-less server (as a front end
 *    forwards it) gets the confirmation the client checks;
 *  - GREASE completes against servers with and without keys;
 *  - API refusals. */
#include "crypto/crypto.h"
#include "crypto/hpke.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"
#include "tls/ech_config.h"
#include "tls/ech_open.h"
#include "x509/cert.h"

static test_cert root, pub_cert, sec_cert;
static certa_trust *trust;

typedef struct ech_pair {
    uint8_t sk[32];
    uint8_t config[256]; /* one ECHConfig */
    size_t config_len;
    uint8_t list[258]; /* an ECHConfigList of it */
    size_t list_len;
} ech_pair;
static ech_pair cur, stale;

static void make_ech(ech_pair *e, uint8_t id) {
    uint8_t pk[32];
    ech_suite suites[1] = {{HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM}};
    hpke_generate_keypair(HPKE_KEM_X25519_HKDF_SHA256, e->sk, pk);
    builder b;
    bld_init_fixed(&b, e->config, sizeof e->config);
    ech_config_build(&b, id, HPKE_KEM_X25519_HKDF_SHA256, pk, 32, suites, 1, 32, "public.example");
    e->config_len = b.len;
    bld_init_fixed(&b, e->list, sizeof e->list);
    bld_open(&b, 2);
    bld_bytes(&b, e->config, e->config_len);
    bld_close(&b);
    e->list_len = b.len;
}

static void make_pki(void) {
    chain_opts ca = chain_ca_opts("ECH Test Root");
    tc_make(&root, &ca, NULL);
    chain_opts o = chain_leaf_opts("public", "DNS:public.example");
    tc_make(&pub_cert, &o, &root);
    o = chain_leaf_opts("secret", "DNS:secret.example");
    tc_make(&sec_cert, &o, &root);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, root.pem, strlen(root.pem));
    make_ech(&cur, 7);
    make_ech(&stale, 9);
}

static certa_config *server_cfg(bool ech, const char *groups) {
    certa_config *cfg = certa_config_new();
    pair_use_identity(cfg, &pub_cert); /* the default */
    pair_use_identity(cfg, &sec_cert);
    certa_config_set_alpn(cfg, "h2,http/1.1");
    if (groups) certa_config_set_groups(cfg, groups);
    if (ech)
        CHECK(certa_config_add_ech_key(cfg, cur.sk, 32, cur.config, cur.config_len, true) == 0,
              "server: certa_config_add_ech_key");
    return cfg;
}

static certa_config *client_cfg(const ech_pair *e, bool grease, const char *groups) {
    certa_config *cfg = certa_config_new();
    certa_config_set_trust(cfg, trust);
    certa_config_set_session_cache(cfg, 0);
    certa_config_set_alpn(cfg, "h2");
    if (groups) certa_config_set_groups(cfg, groups);
    if (e) certa_config_set_ech_config_list(cfg, e->list, e->list_len);
    certa_config_set_ech_grease(cfg, grease);
    return cfg;
}

static bool served(const pair *p, const test_cert *cert) {
    size_t len = 0;
    const uint8_t *der = certa_conn_peer_cert(p->client, 0, &len);
    return der && len == cert->der_len && !memcmp(der, cert->der, len);
}

static bool both_done(const pair *p) {
    return certa_conn_handshake_done(p->client) && certa_conn_handshake_done(p->server);
}

static pair run(certa_config *c, certa_config *s) {
    pair p = {certa_client_new(c, "secret.example"), certa_server_new(s)};
    pair_pump(&p);
    return p;
}

/* The ClientHello message of the client's first flight (one record). */
static bool first_hello(certa_conn *client, uint8_t *out, size_t cap, size_t *len) {
    const uint8_t *d;
    size_t n = certa_conn_outgoing(client, &d);
    if (n < 9 || d[0] != 22) return false;
    size_t rec = (size_t)d[3] << 8 | d[4];
    if (rec + 5 > n || rec > cap) return false;
    memcpy(out, d + 5, rec);
    *len = rec;
    return true;
}

/* An extension's body in a ClientHello body, or NULL. */
static const uint8_t *find_ext(const uint8_t *body, size_t len, uint16_t type, size_t *ext_len) {
    cursor c, sid, suites, comp, exts, e;
    const uint8_t *skip;
    cur_init(&c, body, len);
    if (!cur_bytes(&c, 34, &skip) || !cur_vec8(&c, &sid) || !cur_vec16(&c, &suites) ||
        !cur_vec8(&c, &comp) || !cur_vec16(&c, &exts))
        return NULL;
    uint16_t t;
    while (cur_u16(&exts, &t) && cur_vec16(&exts, &e))
        if (t == type) {
            *ext_len = e.len;
            return e.data;
        }
    return NULL;
}

static bool has_bytes(const uint8_t *d, size_t n, const char *s) {
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(d + i, s, k)) return true;
    return false;
}

static void outer_hello(void) {
    certa_config *c = client_cfg(&cur, false, NULL);
    certa_conn *client = certa_client_new(c, "secret.example");
    uint8_t msg[8192];
    size_t len = 0;
    CHECK(first_hello(client, msg, sizeof msg, &len) && msg[0] == 1,
          "the client's first flight is a ClientHello");
    const uint8_t *body = msg + 4;
    size_t body_len = len - 4, n = 0;
    const uint8_t *sni = find_ext(body, body_len, 0, &n);
    CHECK(sni && has_bytes(sni, n, "public.example"), "outer SNI is the public name");
    CHECK(!has_bytes(msg, len, "secret.example") && !has_bytes(msg, len, "h2"),
          "neither the real name nor the ALPN protocol appears in the outer hello");
    CHECK(find_ext(body, body_len, 16, &n) == NULL, "the outer hello has no ALPN");
    const uint8_t *ech = find_ext(body, body_len, 0xfe0d, &n);
    /* type, kdf, aead, config_id, enc (2 + 32), payload length */
    CHECK(ech && n > 42 && ech[0] == 0 && ech[5] == 7 && ech[6] == 0 && ech[7] == 32,
          "outer encrypted_client_hello: type outer, config 7, a 32-byte enc");
    size_t payload = ech ? (size_t)ech[40] << 8 | ech[41] : 0;
    CHECK(payload > HPKE_TAG && (payload - HPKE_TAG) % 32 == 0,
          "EncodedClientHelloInner is padded to a multiple of 32 (%zu bytes)", payload - HPKE_TAG);

    ech_key key;
    memset(&key, 0, sizeof key);
    CHECK(ech_key_init(&key, cur.sk, 32, cur.config, cur.config_len) == 0, "ech_key_init");
    ech_open_state st;
    memset(&st, 0, sizeof st);
    builder inner;
    bld_init_alloc(&inner, 1024);
    const char *why = NULL;
    int r = ech_open_client_hello(&key, 1, body, body_len, true, false, &st, &inner, &why);
    CHECK(r == ECH_OPEN_OK, "ech_open_client_hello opens the client's outer hello (%d, %s)", r,
          why ? why : "");
    if (r == ECH_OPEN_OK) {
        sni = find_ext(inner.buf, inner.len, 0, &n);
        CHECK(sni && has_bytes(sni, n, "secret.example"), "inner SNI is the real name");
        const uint8_t *alpn = find_ext(inner.buf, inner.len, 16, &n);
        CHECK(alpn && has_bytes(alpn, n, "h2"), "inner hello carries the ALPN list");
        const uint8_t *sv = find_ext(inner.buf, inner.len, 43, &n);
        CHECK(sv && n == 3 && sv[1] == 3 && sv[2] == 4, "inner hello offers TLS 1.3 only");
        const uint8_t *ie = find_ext(inner.buf, inner.len, 0xfe0d, &n);
        CHECK(ie && n == 1 && ie[0] == 1, "inner hello has the inner encrypted_client_hello");
        CHECK(memcmp(inner.buf + 2, body + 2, 32) != 0, "inner and outer randoms differ");
        CHECK(inner.buf[34] == body[34] && !memcmp(inner.buf + 35, body + 35, body[34]),
              "the inner hello's legacy_session_id is the outer one's (copied by the server)");
    }
    bld_free(&inner);
    hpke_ctx_wipe(&st.hpke);
    ech_key_wipe(&key);
    CHECK(certa_conn_ech_status(client) == CERTA_ECH_NONE, "client: undecided before the answer");
    certa_conn_free(client);
    certa_config_free(c);
}

static void accepted(const char *what, const char *client_groups, const char *server_groups) {
    certa_config *s = server_cfg(true, server_groups), *c = client_cfg(&cur, false, client_groups);
    pair p = run(c, s);
    certa_info ci, si;
    certa_conn_info(p.client, &ci);
    certa_conn_info(p.server, &si);
    CHECK(both_done(&p) && served(&p, &sec_cert),
          "%s: handshake done with the real name's certificate (%s / %s)", what,
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    CHECK(certa_conn_ech_status(p.client) == CERTA_ECH_ACCEPTED &&
              certa_conn_ech_status(p.server) == CERTA_ECH_ACCEPTED,
          "%s: both sides say accepted", what);
    CHECK(si.server_name && !strcmp(si.server_name, "secret.example") && ci.alpn &&
              !strcmp(ci.alpn, "h2"),
          "%s: the server saw the inner SNI and ALPN", what);
    const char *so = certa_conn_ech_outer_name(p.server), *co = certa_conn_ech_outer_name(p.client);
    CHECK(so && !strcmp(so, "public.example") && co && !strcmp(co, "public.example"),
          "%s: the outer name is the public name on both sides", what);
    CHECK(client_groups == NULL || ci.hello_retry, "%s: HelloRetryRequest as arranged", what);
    pair_free(&p);
    certa_config_free(s);
    certa_config_free(c);
}

/* A client whose config_id no server key has (here: the server key's public
 * key published under id 77): the server matches config_id only, by
 * default, so it tries no key — no DH for a hello it cannot open — and
 * sends retry_configs. (Trial decryption, opted into, opens hellos whose
 * config_id was randomized over the right ECHConfig: test_ech_open.) */
static void no_trial_by_default(void) {
    ech_pair other = cur;
    uint8_t pk[32];
    ech_suite suites[1] = {{HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM}};
    builder b;
    bld_init_fixed(&b, other.config, sizeof other.config);
    CHECK(hpke_public_from_private(HPKE_KEM_X25519_HKDF_SHA256, cur.sk, 32, pk) == 0 &&
              ech_config_build(&b, 77, HPKE_KEM_X25519_HKDF_SHA256, pk, 32, suites, 1, 32,
                               "public.example") == 0,
          "no trial: a config of the server's key with config_id 77");
    other.config_len = b.len;
    bld_init_fixed(&b, other.list, sizeof other.list);
    bld_open(&b, 2);
    bld_bytes(&b, other.config, other.config_len);
    bld_close(&b);
    other.list_len = b.len;
    certa_config *s = server_cfg(true, NULL), *c = client_cfg(&other, false, NULL);
    pair p = run(c, s);
    const uint8_t *retry = NULL;
    size_t retry_len = 0;
    CHECK(certa_conn_ech_status(p.server) == CERTA_ECH_NOT_DECRYPTED &&
              certa_conn_ech_status(p.client) == CERTA_ECH_REJECTED &&
              certa_conn_ech_retry_configs(p.client, &retry, &retry_len) == 0,
          "no trial decryption by default: config_id 77 is not decrypted, the client is sent "
          "retry_configs (%s)",
          certa_conn_error_text(p.client));
    pair_free(&p);
    certa_config_free(s);
    certa_config_free(c);
}

/* With --pin (the real server's key) a rejected ECH handshake is for the
 * public name, which the pin does not name: its certificate is verified
 * against the trust anchors (RFC 9849 §6.1.7) and the retry offered; with
 * no trust anchors the retry configs cannot be trusted: no retry, and the
 * error says why instead of "pin mismatch". */
static void rejected_with_pin(void) {
    x509_cert leaf;
    char pin[64];
    CHECK(x509_parse(&leaf, sec_cert.der, sec_cert.der_len) == 0 &&
              x509_spki_pin(&leaf, pin, sizeof pin) == 0,
          "pin: the real server's SPKI pin");
    for (int with_trust = 0; with_trust < 2; with_trust++) {
        certa_config *s = server_cfg(true, NULL), *c = certa_config_new();
        certa_config_set_session_cache(c, 0);
        certa_config_add_pin(c, pin);
        certa_trust *none = certa_trust_new();
        certa_config_set_trust(c, with_trust ? trust : none);
        certa_config_set_ech_config_list(c, stale.list, stale.list_len);
        pair p = run(c, s);
        const uint8_t *list = NULL;
        size_t len = 0;
        const char *t = certa_conn_error_text(p.client);
        if (with_trust)
            CHECK(certa_conn_error(p.client) == CERTA_E_ECH_REJECTED &&
                      certa_conn_alert_sent(p.client) == 121 &&
                      certa_conn_ech_retry_configs(p.client, &list, &len) == 0,
                  "pin and trust anchors: the public name verified, ech_required and "
                  "retry_configs (%s: %s)",
                  certa_error_name(certa_conn_error(p.client)), t);
        else
            CHECK(certa_conn_error(p.client) != CERTA_E_PIN_MISMATCH &&
                      certa_conn_alert_sent(p.client) != 121 &&
                      certa_conn_ech_retry_configs(p.client, &list, &len) != 0 &&
                      strstr(t, "ECH was not accepted") && strstr(t, "matches no pin") &&
                      strstr(t, "public.example"),
                  "pin, no trust anchors: ECH rejected, not a pin mismatch; no retry configs "
                  "(%s: %s)",
                  certa_error_name(certa_conn_error(p.client)), t);
        pair_free(&p);
        certa_config_free(s);
        certa_config_free(c);
        certa_trust_free(none);
    }
}

/* Flips a bit in the last 8 bytes of ServerHello.random on its way. */
static void tampered_confirmation(void) {
    certa_config *s = server_cfg(true, NULL), *c = client_cfg(&cur, false, NULL);
    pair p = {certa_client_new(c, "secret.example"), certa_server_new(s)};
    const uint8_t *d;
    size_t n = certa_conn_outgoing(p.client, &d), used = 0;
    certa_conn_recv(p.server, d, n, &used);
    certa_conn_outgoing_done(p.client, n);
    n = certa_conn_outgoing(p.server, &d);
    uint8_t *copy = malloc(n);
    memcpy(copy, d, n);
    /* record header 5, handshake header 4, legacy_version 2, random: byte 31 */
    copy[5 + 4 + 2 + 31] ^= 1;
    certa_conn_outgoing_done(p.server, n);
    certa_conn_recv(p.client, copy, n, &used);
    free(copy);
    pair_pump(&p);
    CHECK(!certa_conn_handshake_done(p.client) &&
              certa_conn_ech_status(p.client) == CERTA_ECH_REJECTED,
          "an altered confirmation reads as a rejection and the handshake fails (%s)",
          certa_error_name(certa_conn_error(p.client)));
    pair_free(&p);
    certa_config_free(s);
    certa_config_free(c);
}

static void rejected(void) {
    certa_config *s = server_cfg(true, NULL), *c = client_cfg(&stale, false, NULL);
    pair p = run(c, s);
    const uint8_t *list = NULL;
    size_t len = 0;
    CHECK(certa_conn_error(p.client) == CERTA_E_ECH_REJECTED &&
              certa_conn_alert_sent(p.client) == 121,
          "stale config: CERTA_E_ECH_REJECTED with ech_required (%s, alert %u)",
          certa_error_name(certa_conn_error(p.client)), certa_conn_alert_sent(p.client));
    CHECK(strstr(certa_conn_error_text(p.client),
                 "for secret.example (public name public.example)") &&
              strstr(certa_conn_error_text(p.client), "retry with them"),
          "the sentence names both names and the fix: %s", certa_conn_error_text(p.client));
    CHECK(served(&p, &pub_cert), "the rejected handshake authenticated the public name");
    CHECK(certa_conn_ech_status(p.server) == CERTA_ECH_NOT_DECRYPTED, "server: not decrypted");
    CHECK(certa_conn_ech_retry_configs(p.client, &list, &len) == 0 && len == cur.list_len &&
              !memcmp(list, cur.list, len),
          "retry_configs are the server's current config list");
    uint8_t *retry = malloc(len);
    memcpy(retry, list, len);
    pair_free(&p);
    certa_config_free(c);
    c = client_cfg(NULL, false, NULL);
    certa_config_set_ech_config_list(c, retry, len);
    free(retry);
    p = run(c, s);
    CHECK(both_done(&p) && certa_conn_ech_status(p.client) == CERTA_ECH_ACCEPTED &&
              served(&p, &sec_cert),
          "a retry with the retry_configs is accepted");
    pair_free(&p);
    certa_config_free(c);

    /* Allow rules are for the real server: a rejection still ends in
     * ech_required (and the retry), not in the rules refusing the public name. */
    c = client_cfg(&stale, false, NULL);
    certa_config_add_allow(c, "dns:secret.example");
    p = run(c, s);
    CHECK(certa_conn_error(p.client) == CERTA_E_ECH_REJECTED,
          "with an allow rule for the real name, a rejection is still CERTA_E_ECH_REJECTED (%s)",
          certa_error_name(certa_conn_error(p.client)));
    pair_free(&p);
    certa_config_free(c);
    c = client_cfg(&cur, false, NULL);
    certa_config_add_allow(c, "dns:secret.example");
    p = run(c, s);
    CHECK(both_done(&p), "and the allow rule holds for the accepted handshake (%s)",
          certa_conn_error_text(p.client));
    pair_free(&p);
    certa_config_free(c);
    certa_config_free(s);

    /* A server without ECH: rejected, no retry_configs, another sentence. */
    s = server_cfg(false, NULL);
    c = client_cfg(&cur, false, NULL);
    p = run(c, s);
    CHECK(certa_conn_error(p.client) == CERTA_E_ECH_REJECTED &&
              certa_conn_ech_retry_configs(p.client, &list, &len) == CERTA_E_STATE &&
              strstr(certa_conn_error_text(p.client), "sent no ECH configs"),
          "a server without ECH keys: rejected, no retry_configs (%s)",
          certa_conn_error_text(p.client));
    pair_free(&p);
    certa_config_free(s);
    certa_config_free(c);
}

/* A split-mode front end decrypts the outer hello and forwards the inner
 * one to a backend without keys, which confirms it. */
static void split_backend(void) {
    certa_config *s = server_cfg(false, NULL), *c = client_cfg(&cur, false, NULL);
    pair p = {certa_client_new(c, "secret.example"), certa_server_new(s)};
    uint8_t msg[8192];
    size_t len = 0;
    first_hello(p.client, msg, sizeof msg, &len);
    certa_conn_outgoing_done(p.client, len + 5);
    ech_key key;
    memset(&key, 0, sizeof key);
    ech_key_init(&key, cur.sk, 32, cur.config, cur.config_len);
    ech_open_state st;
    memset(&st, 0, sizeof st);
    builder fwd;
    bld_init_alloc(&fwd, 2048);
    bld_zeros(&fwd, 9); /* record and handshake headers, filled in below */
    const char *why;
    int r = ech_open_client_hello(&key, 1, msg + 4, len - 4, true, false, &st, &fwd, &why);
    size_t body = fwd.len - 9;
    uint8_t hdr[9] = {22,
                      3,
                      1,
                      (uint8_t)((body + 4) >> 8),
                      (uint8_t)(body + 4),
                      1,
                      0,
                      (uint8_t)(body >> 8),
                      (uint8_t)body};
    if (r == ECH_OPEN_OK) memcpy(fwd.buf, hdr, 9);
    size_t used = 0;
    if (r == ECH_OPEN_OK) certa_conn_recv(p.server, fwd.buf, fwd.len, &used);
    bld_free(&fwd);
    hpke_ctx_wipe(&st.hpke);
    ech_key_wipe(&key);
    pair_pump(&p);
    CHECK(r == ECH_OPEN_OK && both_done(&p) && served(&p, &sec_cert) &&
              certa_conn_ech_status(p.client) == CERTA_ECH_ACCEPTED &&
              certa_conn_ech_status(p.server) == CERTA_ECH_ACCEPTED,
          "split mode: a key-less backend confirms the forwarded inner hello, the client accepts "
          "(%d %d %d %d; %s / %s)",
          r, both_done(&p), certa_conn_ech_status(p.client), certa_conn_ech_status(p.server),
          certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    pair_free(&p);
    certa_config_free(s);
    certa_config_free(c);
}

static void grease(void) {
    for (int keys = 0; keys < 2; keys++) {
        certa_config *s = server_cfg(keys, NULL), *c = client_cfg(NULL, true, NULL);
        pair p = run(c, s);
        CHECK(both_done(&p) && certa_conn_ech_status(p.client) == CERTA_ECH_GREASE &&
                  certa_conn_ech_status(p.server) == CERTA_ECH_NOT_DECRYPTED,
              "GREASE against a server %s ECH keys: handshake completes (%s)",
              keys ? "with" : "without", certa_conn_error_text(p.client));
        pair_free(&p);
        certa_config_free(s);
        certa_config_free(c);
    }
}

static void api(void) {
    certa_config *cfg = certa_config_new();
    uint8_t junk[8] = {0, 6, 1, 2, 3, 4, 5, 6};
    CHECK(certa_config_set_ech_config_list(cfg, junk, sizeof junk) == CERTA_E_ECH_CONFIG,
          "a malformed ECHConfigList: CERTA_E_ECH_CONFIG");
    uint8_t wrong[32];
    memset(wrong, 7, sizeof wrong);
    CHECK(certa_config_add_ech_key(cfg, wrong, 32, cur.config, cur.config_len, true) ==
              CERTA_E_ECH_CONFIG,
          "a key that does not match the config: CERTA_E_ECH_CONFIG (%s)",
          certa_config_error_text(cfg));
    /* Several keys (rotation): the array moves, each config stays usable. */
    for (int i = 0; i < 5; i++)
        certa_config_add_ech_key(cfg, i % 2 ? stale.sk : cur.sk, 32,
                                 i % 2 ? stale.config : cur.config,
                                 i % 2 ? stale.config_len : cur.config_len, i == 0);
    certa_config_free(cfg);
    certa_config *s = certa_config_new();
    pair_use_identity(s, &pub_cert);
    pair_use_identity(s, &sec_cert);
    certa_config_add_ech_key(s, stale.sk, 32, stale.config, stale.config_len, false);
    certa_config_add_ech_key(s, cur.sk, 32, cur.config, cur.config_len, true);
    certa_config *c = client_cfg(&stale, false, NULL);
    pair p = run(c, s);
    CHECK(both_done(&p) && certa_conn_ech_status(p.client) == CERTA_ECH_ACCEPTED,
          "after a rotation the older key still decrypts");
    pair_free(&p);
    certa_config_free(c);
    certa_config_free(s);
    /* A stored session is not offered with ECH (no GREASE PSK in the outer hello). */
    s = server_cfg(true, NULL);
    c = client_cfg(NULL, false, NULL);
    p = run(c, s);
    pair_pump(&p); /* the tickets */
    uint8_t blob[4096];
    size_t blob_len = 0;
    int got = certa_conn_session(p.client, blob, sizeof blob, &blob_len);
    pair_free(&p);
    certa_config_free(c);
    c = client_cfg(&cur, false, NULL);
    p.client = certa_client_new_resume(c, "secret.example", blob, blob_len);
    p.server = certa_server_new(s);
    pair_pump(&p);
    certa_info ri;
    certa_conn_info(p.client, &ri);
    CHECK(got == 0 && both_done(&p) && certa_conn_ech_status(p.client) == CERTA_ECH_ACCEPTED &&
              !ri.resumed && !ri.session_offered,
          "with ECH a stored session is not offered: a full handshake, ECH accepted");
    pair_free(&p);
    certa_config_free(c);
    certa_config_free(s);
    /* A TLS 1.2-only client must not quietly drop the ECH it was given. */
    c = client_cfg(&cur, false, NULL);
    certa_config_set_versions(c, CERTA_TLS12, CERTA_TLS12);
    certa_conn *lone = certa_client_new(c, "secret.example");
    CHECK(lone && certa_conn_error(lone) == CERTA_E_CONFIG &&
              strstr(certa_conn_error_text(lone), "needs TLS 1.3"),
          "ECH with TLS 1.2 only: refused before anything is sent (%s)",
          lone ? certa_conn_error_text(lone) : "NULL");
    certa_conn_free(lone);
    certa_config_free(c);
    CHECK(!strcmp(certa_ech_status_name(CERTA_ECH_NOT_DECRYPTED), "not decrypted") &&
              !strcmp(certa_alert_name(121), "ech_required"),
          "names: status and alert");
}

int main(void) {
    make_pki();
    outer_hello();
    accepted("accepted", NULL, NULL);
    accepted("accepted across a HelloRetryRequest", "x25519,secp384r1", "secp384r1");
    tampered_confirmation();
    rejected();
    no_trial_by_default();
    rejected_with_pin();
    split_backend();
    grease();
    api();
    certa_trust_free(trust);
    tc_free(&root);
    tc_free(&pub_cert);
    tc_free(&sec_cert);
    return test_failures ? 1 : 0;
}
