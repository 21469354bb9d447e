/* Configuration profiles: what each one sets, setters after a profile
 * overriding it, unknown names, the descriptions, and minimum key sizes in
 * in-memory handshakes (the peer's certificate and our own). */
#include "certa.h"
#include "lib_certs.h"
#include "lib_pair.h"
#include "testlib.h"
#include "tls/tls.h"

typedef struct kp {
    char *cert, *key;
} kp;

static kp make(const char *kind) {
    kp k = {NULL, NULL};
    if (test_make_cert(kind, "localhost", &k.cert, &k.key) != 0)
        printf("# cannot make a %s certificate\n", kind);
    return k;
}

static void kp_free(kp *k) {
    free(k->cert);
    free(k->key);
}

static int use(certa_config *cfg, const kp *k) {
    int r = certa_config_set_cert_chain_pem(cfg, k->cert, strlen(k->cert));
    if (!r) r = certa_config_set_private_key_pem(cfg, k->key, strlen(k->key));
    if (r) printf("# identity: %s\n", certa_config_error_text(cfg));
    return r;
}

static bool has(const uint16_t *list, size_t n, uint16_t v) {
    for (size_t i = 0; i < n; i++)
        if (list[i] == v) return true;
    return false;
}

static certa_config *profiled(const char *name) {
    certa_config *cfg = certa_config_new();
    int r = certa_config_set_profile(cfg, name);
    CHECK(r == CERTA_OK, "set_profile(%s) succeeds (%s)", name, certa_config_error_text(cfg));
    return cfg;
}

static void test_tables(void) {
    certa_config *cfg = profiled("public");
    CHECK(cfg->min_version == CERTA_TLS12 && cfg->max_version == CERTA_TLS13,
          "public: TLS 1.2 and 1.3");
    bool ecdsa_first = cfg->cipher12_count >= 3;
    bool seen_rsa = false;
    for (size_t i = 0; i < cfg->cipher12_count; i++) {
        const cipher_suite *s = cipher_suite_find(cfg->ciphers12[i]);
        if (!s || s->version != CERTA_TLS12 || s->auth == AUTH_ANY) ecdsa_first = false;
        if (s && s->auth == AUTH_RSA) seen_rsa = true;
        if (s && s->auth == AUTH_ECDSA && seen_rsa) ecdsa_first = false;
    }
    CHECK(ecdsa_first && cipher_suite_find(cfg->ciphers12[0])->auth == AUTH_ECDSA,
          "public: TLS 1.2 suites ECDSA first (%zu suites)", cfg->cipher12_count);
    CHECK(cfg->group_count == 4 && cfg->groups[0] == CERTA_GROUP_X25519MLKEM768 &&
              cfg->groups[1] == CERTA_GROUP_X25519 && cfg->groups[2] == CERTA_GROUP_SECP256R1 &&
              cfg->groups[3] == CERTA_GROUP_SECP384R1,
          "public: groups X25519MLKEM768, x25519, secp256r1, secp384r1");
    CHECK(cfg->cipher_count == 3 && cfg->min_rsa_bits == 2048 && cfg->min_ec_bits == 256,
          "public: three TLS 1.3 AEAD suites, RSA >= 2048, EC >= 256");
    certa_config_free(cfg);

    cfg = profiled("internal");
    CHECK(cfg->min_version == CERTA_TLS13 && cfg->max_version == CERTA_TLS13,
          "internal: TLS 1.3 only");
    certa_config_free(cfg);

    cfg = profiled("legacy");
    CHECK(cfg->min_version == CERTA_TLS12 && cfg->max_version == CERTA_TLS13,
          "legacy: TLS 1.2 and 1.3");
    CHECK(cfg->cipher12_count == 6 &&
              has(cfg->ciphers12, 6, CERTA_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) &&
              has(cfg->ciphers12, 6, CERTA_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256) &&
              has(cfg->ciphers12, 6, CERTA_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384),
          "legacy: all six TLS 1.2 suites, ECDHE-RSA included");
    CHECK(cfg->min_rsa_bits == 2048, "legacy: RSA 2048 accepted");
    certa_config_free(cfg);

    cfg = profiled("iot");
    CHECK(cfg->min_version == CERTA_TLS13 && cfg->max_version == CERTA_TLS13 &&
              cfg->ciphers[0] == CERTA_TLS_CHACHA20_POLY1305_SHA256,
          "iot: TLS 1.3 only, ChaCha20-Poly1305 first");
    CHECK(cfg->cipher_count == 4 && cfg->ciphers[3] == CERTA_TLS_AES_128_CCM_SHA256,
          "iot: TLS_AES_128_CCM_SHA256 allowed, last");
    certa_config_free(cfg);
    const char *iot = certa_profile_description("iot");
    CHECK(iot && strstr(iot, "TLS 1.3 suites: TLS_CHACHA20_POLY1305_SHA256, "
                             "TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
                             "TLS_AES_128_CCM_SHA256;"),
          "iot: the description lists CCM among the suites: %s", iot ? iot : "(null)");
    /* CCM is in no other profile, and not in the defaults. */
    bool ccm_elsewhere = false;
    for (size_t i = 0; certa_profile_name(i); i++) {
        if (!strcmp(certa_profile_name(i), "iot")) continue;
        cfg = profiled(certa_profile_name(i));
        ccm_elsewhere =
            ccm_elsewhere || has(cfg->ciphers, cfg->cipher_count, CERTA_TLS_AES_128_CCM_SHA256);
        certa_config_free(cfg);
    }
    cfg = certa_config_new();
    ccm_elsewhere =
        ccm_elsewhere || has(cfg->ciphers, cfg->cipher_count, CERTA_TLS_AES_128_CCM_SHA256);
    CHECK(!ccm_elsewhere, "CCM is off by default and in every profile but iot");
    CHECK(certa_config_set_ciphers(cfg, "TLS_AES_128_CCM_SHA256,TLS_AES_128_GCM_SHA256") == 0 &&
              cfg->cipher_count == 2 && cfg->ciphers[0] == CERTA_TLS_AES_128_CCM_SHA256,
          "--ciphers turns CCM on (first when named first)");
    CHECK(certa_config_set_ciphers(cfg, "aes128ccm") == 0 && cfg->cipher_count == 1,
          "short name aes128ccm");
    certa_config_free(cfg);

    cfg = profiled("high-security");
    CHECK(cfg->min_version == CERTA_TLS13 && cfg->max_version == CERTA_TLS13,
          "high-security: TLS 1.3 only");
    CHECK(cfg->cipher_count == 1 && cfg->ciphers[0] == CERTA_TLS_AES_256_GCM_SHA384,
          "high-security: TLS_AES_256_GCM_SHA384 only");
    CHECK(cfg->group_count == 2 && cfg->groups[0] == CERTA_GROUP_SECP384R1MLKEM1024 &&
              cfg->groups[1] == CERTA_GROUP_SECP384R1,
          "high-security: SecP384r1MLKEM1024, then secp384r1");
    CHECK(cfg->min_rsa_bits == 3072 && cfg->min_ec_bits == 384,
          "high-security: RSA >= 3072, EC >= 384");
    certa_config_free(cfg);

    cfg = certa_config_new();
    CHECK(cfg->min_version == CERTA_TLS13 && cfg->max_version == CERTA_TLS13 &&
              cfg->min_rsa_bits == 2048 && cfg->min_ec_bits == 256 && cfg->require_ems,
          "no profile: TLS 1.3 only, RSA >= 2048, EC >= 256, EMS required");
    certa_config_free(cfg);
}

static void test_overrides(void) {
    certa_config *cfg = profiled("high-security");
    CHECK(certa_config_set_ciphers(cfg, "TLS_AES_128_GCM_SHA256") == 0 && cfg->cipher_count == 1 &&
              cfg->ciphers[0] == CERTA_TLS_AES_128_GCM_SHA256,
          "set_ciphers after a profile replaces its suites");
    CHECK(certa_config_set_groups(cfg, "x25519") == 0 && cfg->groups[0] == CERTA_GROUP_X25519,
          "set_groups after a profile replaces its groups");
    CHECK(certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS13) == 0 &&
              cfg->min_version == CERTA_TLS12,
          "set_versions after a profile replaces its versions");
    CHECK(certa_config_set_min_key_bits(cfg, 2048, 256) == 0 && cfg->min_rsa_bits == 2048 &&
              cfg->min_ec_bits == 256,
          "set_min_key_bits after a profile replaces its minimums");
    certa_config_set_require_ems(cfg, false);
    CHECK(!cfg->require_ems, "set_require_ems(false) after a profile wins");
    certa_config_free(cfg);

    cfg = certa_config_new();
    certa_config_set_groups(cfg, "x25519");
    certa_config_set_require_ems(cfg, false);
    certa_config_set_profile(cfg, "high-security");
    CHECK(cfg->groups[0] == CERTA_GROUP_SECP384R1MLKEM1024 && cfg->group_count == 2 &&
              cfg->require_ems,
          "a profile set after a setter replaces what the setter set");
    certa_config_set_profile(cfg, "public");
    CHECK(cfg->cipher_count == 3 && cfg->min_rsa_bits == 2048 && cfg->group_count == 4,
          "a second profile leaves nothing of the first");
    CHECK(certa_config_set_min_key_bits(cfg, 1024, 256) == CERTA_E_INVALID_ARGUMENT &&
              cfg->min_rsa_bits == 2048,
          "minimums below the defaults are refused: %s", certa_config_error_text(cfg));
    certa_config_free(cfg);
}

static void test_unknown_and_descriptions(void) {
    certa_config *cfg = certa_config_new();
    int r = certa_config_set_profile(cfg, "paranoid");
    const char *t = certa_config_error_text(cfg);
    CHECK(r == CERTA_E_UNKNOWN_NAME, "unknown profile: CERTA_E_UNKNOWN_NAME");
    CHECK(strstr(t, "unknown profile 'paranoid'") && strstr(t, "public") && strstr(t, "internal") &&
              strstr(t, "legacy") && strstr(t, "iot") && strstr(t, "high-security"),
          "its sentence lists the known profiles: %s", t);
    CHECK(cfg->min_version == CERTA_TLS13 && cfg->cipher_count == 3,
          "an unknown profile changes nothing");
    CHECK(certa_config_set_profile(cfg, NULL) == CERTA_E_UNKNOWN_NAME, "a NULL name is refused");
    certa_config_free(cfg);

    size_t n = 0;
    bool all = true;
    while (certa_profile_name(n)) {
        const char *d = certa_profile_description(certa_profile_name(n));
        if (!d || strlen(d) < 40) all = false;
        n++;
    }
    CHECK(n == 5 && all, "five profiles, each with a description (%zu)", n);
    const char *hs = certa_profile_description("high-security");
    CHECK(hs && strstr(hs, "TLS 1.3 only") && strstr(hs, "TLS_AES_256_GCM_SHA384") &&
              strstr(hs, "secp384r1") && strstr(hs, "3072") && !strstr(hs, "TLS_AES_128"),
          "high-security's description is its table row: %s", hs ? hs : "(null)");
    const char *pub = certa_profile_description("public");
    CHECK(pub && strstr(pub, "TLS 1.2 and 1.3") &&
              strstr(pub, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
          "public's description lists its TLS 1.2 suites");
    CHECK(!certa_profile_description("nope") && !certa_profile_name(n),
          "no description for an unknown name, no name past the last");
}

/* ---- handshakes ---- */

static pair run(certa_config *ccfg, certa_config *scfg) {
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump(&p);
    return p;
}

static void done(pair *p, certa_config *a, certa_config *b) {
    pair_free(p);
    certa_config_free(a);
    certa_config_free(b);
}

static certa_config *server_with(const char *profile, const kp *k) {
    certa_config *cfg = profile ? profiled(profile) : certa_config_new();
    use(cfg, k);
    return cfg;
}

static certa_config *client_insecure(const char *profile) {
    certa_config *cfg = profile ? profiled(profile) : certa_config_new();
    certa_config_set_insecure(cfg, true); /* the key size check comes first anyway */
    return cfg;
}

static bool both_done(const pair *p) {
    return certa_conn_handshake_done(p->client) && certa_conn_handshake_done(p->server);
}

static void test_handshakes(void) {
    kp rsa2048 = make("rsa2048"), rsa3072 = make("rsa3072"), p256 = make("p256"),
       p384 = make("p384");

    certa_config *c = client_insecure("high-security"), *s = server_with(NULL, &rsa2048);
    pair p = run(c, s);
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_WEAK_ALGORITHM,
          "high-security client refuses an RSA 2048 server (%s)",
          certa_error_name(certa_conn_error(p.client)));
    CHECK(strstr(certa_conn_error_text(p.client),
                 "the server's certificate has an RSA 2048 key; the high-security profile "
                 "requires at least 3072 bits: reissue it with a larger key") != NULL,
          "the sentence: %s", certa_conn_error_text(p.client));
    CHECK(certa_conn_alert_sent(p.client) == 71 && certa_conn_alert_received(p.server) == 71,
          "alert insufficient_security");
    done(&p, c, s);

    c = client_insecure("high-security");
    s = server_with(NULL, &rsa3072);
    p = run(c, s);
    certa_info info;
    memset(&info, 0, sizeof info);
    certa_conn_info(p.client, &info);
    CHECK(both_done(&p) && info.version == CERTA_TLS13 &&
              info.cipher_suite == CERTA_TLS_AES_256_GCM_SHA384 &&
              info.group == CERTA_GROUP_SECP384R1,
          "high-security client accepts RSA 3072: TLS 1.3, AES-256-GCM, secp384r1 (%s)",
          certa_conn_error_text(p.client));
    done(&p, c, s);

    c = client_insecure("high-security");
    s = server_with(NULL, &p384);
    p = run(c, s);
    CHECK(both_done(&p), "high-security client accepts ECDSA P-384 (%s)",
          certa_conn_error_text(p.client));
    done(&p, c, s);

    c = client_insecure("high-security");
    s = server_with(NULL, &p256);
    p = run(c, s);
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_WEAK_ALGORITHM &&
              strstr(certa_conn_error_text(p.client), "has an ECDSA P-256 key") &&
              strstr(certa_conn_error_text(p.client), "384"),
          "high-security client refuses ECDSA P-256: %s", certa_conn_error_text(p.client));
    done(&p, c, s);

    /* A setter after the profile wins in the handshake too. */
    c = client_insecure("high-security");
    certa_config_set_min_key_bits(c, 2048, 256);
    s = server_with(NULL, &rsa2048);
    p = run(c, s);
    CHECK(both_done(&p), "high-security + set_min_key_bits(2048, 256) accepts RSA 2048 (%s)",
          certa_conn_error_text(p.client));
    done(&p, c, s);
    c = client_insecure(NULL);
    certa_config_set_min_key_bits(c, 4096, 256);
    s = server_with(NULL, &rsa3072);
    p = run(c, s);
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_WEAK_ALGORITHM &&
              strstr(certa_conn_error_text(p.client), "this configuration requires at least 4096"),
          "without a profile the sentence names the configuration: %s",
          certa_conn_error_text(p.client));
    done(&p, c, s);

    /* A high-security server and client certificates. */
    for (int k = 0; k < 2; k++) {
        c = certa_config_new();
        certa_config_set_insecure(c, true);
        use(c, k == 0 ? &p256 : &p384);
        s = server_with("high-security", &p384);
        certa_config_set_client_auth(s, CERTA_CLIENT_AUTH_REQUIRE);
        certa_config_set_insecure(s, true); /* any client certificate, but its key size */
        p = run(c, s);
        if (k == 0) {
            CHECK(certa_conn_error(p.server) == CERTA_E_CERT_WEAK_ALGORITHM &&
                      strstr(certa_conn_error_text(p.server),
                             "the client's certificate has an ECDSA P-256 key; the "
                             "high-security profile requires"),
                  "high-security server refuses a P-256 client certificate: %s",
                  certa_conn_error_text(p.server));
            CHECK(certa_conn_alert_received(p.client) == 71,
                  "the client got insufficient_security");
        } else {
            CHECK(both_done(&p), "high-security server accepts a P-384 client certificate (%s)",
                  certa_conn_error_text(p.server));
        }
        done(&p, c, s);
    }

    /* Our own certificate below the profile's minimum. */
    c = client_insecure(NULL);
    s = server_with("high-security", &rsa2048);
    p = run(c, s);
    CHECK(certa_conn_error(p.server) == CERTA_E_CONFIG &&
              strstr(certa_conn_error_text(p.server),
                     "this server's certificate has an RSA 2048 key; the high-security profile "
                     "requires at least 3072 bits"),
          "a high-security server with an RSA 2048 certificate fails with CERTA_E_CONFIG: %s",
          certa_conn_error_text(p.server));
    CHECK(!certa_conn_handshake_done(p.client), "and its client gets no handshake");
    done(&p, c, s);

    /* The same check, asked of the config (for start-up). */
    s = server_with("high-security", &rsa2048);
    CHECK(certa_config_check_key_sizes(s) == CERTA_E_CONFIG &&
              strstr(certa_config_error_text(s),
                     "the certificate has an RSA 2048 key; the high-security profile requires at "
                     "least 3072 bits"),
          "check_key_sizes: %s", certa_config_error_text(s));
    certa_config_free(s);
    s = server_with("high-security", &rsa3072);
    CHECK(certa_config_check_key_sizes(s) == CERTA_OK, "check_key_sizes accepts RSA 3072");
    certa_config_free(s);
    s = server_with(NULL, &rsa2048);
    CHECK(certa_config_check_key_sizes(s) == CERTA_OK, "check_key_sizes: RSA 2048 by default");
    certa_config_free(s);

    /* Versions on the wire. */
    c = client_insecure("internal");
    s = server_with("internal", &p256);
    p = run(c, s);
    memset(&info, 0, sizeof info);
    certa_conn_info(p.server, &info);
    CHECK(both_done(&p) && info.version == CERTA_TLS13, "internal profile negotiates TLS 1.3 (%s)",
          certa_conn_error_text(p.server));
    done(&p, c, s);

    c = client_insecure(NULL);
    certa_config_set_versions(c, CERTA_TLS12, CERTA_TLS12);
    s = server_with("internal", &p256);
    p = run(c, s);
    CHECK(certa_conn_error(p.server) == CERTA_E_PROTOCOL_VERSION,
          "internal server refuses a TLS 1.2-only client (%s)",
          certa_error_name(certa_conn_error(p.server)));
    done(&p, c, s);

    c = client_insecure("public");
    s = server_with("public", &p256);
    p = run(c, s);
    memset(&info, 0, sizeof info);
    certa_conn_info(p.client, &info);
    CHECK(both_done(&p) && info.version == CERTA_TLS13,
          "public client and server prefer TLS 1.3 (%s)", certa_conn_error_text(p.client));
    done(&p, c, s);

    c = client_insecure("public");
    certa_config_set_versions(c, CERTA_TLS12, CERTA_TLS12);
    s = server_with("public", &p256);
    p = run(c, s);
    memset(&info, 0, sizeof info);
    certa_conn_info(p.client, &info);
    CHECK(both_done(&p) && info.version == CERTA_TLS12 &&
              info.cipher_suite == CERTA_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
          "public, TLS 1.2: ECDHE-ECDSA-AES128-GCM first (%s, %s)",
          certa_cipher_suite_name(info.cipher_suite), certa_conn_error_text(p.client));
    done(&p, c, s);

    c = client_insecure(NULL);
    certa_config_set_versions(c, CERTA_TLS12, CERTA_TLS12);
    certa_config_set_ciphers(c, "ECDHE-RSA-CHACHA20-POLY1305");
    s = server_with("legacy", &rsa2048);
    p = run(c, s);
    memset(&info, 0, sizeof info);
    certa_conn_info(p.server, &info);
    CHECK(both_done(&p) && info.version == CERTA_TLS12 &&
              info.cipher_suite == CERTA_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
          "legacy server with RSA 2048 serves ECDHE-RSA-CHACHA20 over TLS 1.2 (%s)",
          certa_conn_error_text(p.server));
    done(&p, c, s);

    c = client_insecure(NULL);
    certa_config_set_versions(c, CERTA_TLS12, CERTA_TLS12);
    certa_config_set_ciphers(c, "ECDHE-RSA-CHACHA20-POLY1305");
    s = server_with("public", &rsa2048);
    certa_config_set_versions(s, CERTA_TLS12, CERTA_TLS13);
    p = run(c, s);
    CHECK(!both_done(&p) && certa_conn_error(p.server) == CERTA_E_NO_COMMON_CIPHER,
          "public leaves ECDHE-RSA-CHACHA20 out (%s)",
          certa_error_name(certa_conn_error(p.server)));
    done(&p, c, s);

    kp_free(&rsa2048);
    kp_free(&rsa3072);
    kp_free(&p256);
    kp_free(&p384);
}

int main(void) {
    test_tables();
    test_overrides();
    test_unknown_and_descriptions();
    test_handshakes();
    TEST_EXIT();
}
