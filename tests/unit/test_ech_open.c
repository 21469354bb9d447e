/* ECHConfig (RFC 9849 §4) and the client-facing server's decryption (§5,
 * §7.1). ECHConfigList parsing with the RFC's skipping rules (another
 * version, a mandatory extension, an IPv4-looking public_name), malformed
 * lists, choose, build; then ClientHelloOuters built here the way a client
 * does — an EncodedClientHelloInner with ech_outer_extensions and zero
 * padding, sealed with hpke_seal under ClientHelloOuterAAD — opened by
 * ech_open_client_hello, the inner checked byte for byte against the hello
 * the client meant; then every malformed case with its alert, trial
 * decryption, a foreign key, and the second ClientHello after HRR. Last,
 * certa proxy's split-mode first flight (tools/proxy/ech_split_hello.c): the
 * same hellos in TLS records, fragmented, incomplete, with bytes after them,
 * refused, and the inner hello re-framed for the backend. */
#include "crypto/crypto.h"
#include "crypto/hpke.h"
#include "testlib.h"
#include "tls/ech_config.h"
#include "tls/ech_open.h"
#include "tls/tls.h"

#include "../../tools/proxy/ech_split_hello.c"

/* ---- ECHConfig ---- */

static const ech_suite suites[2] = {{HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM},
                                    {HPKE_KDF_HKDF_SHA256, HPKE_AEAD_CHACHA20_POLY1305}};

static size_t make_config(uint8_t *out, size_t cap, uint8_t id, uint16_t kem, const uint8_t *pk,
                          const char *name) {
    builder b;
    bld_init_fixed(&b, out, cap);
    if (ech_config_build(&b, id, kem, pk, hpke_kem_enc_len(kem), suites, 2, 0, name) != 0) return 0;
    return b.len;
}

/* A config with arbitrary version, extensions and name, assembled by hand. */
static size_t raw_config(uint8_t *out, size_t cap, uint16_t version, const char *name,
                         uint16_t ext_type, bool two_exts) {
    builder b;
    uint8_t pk[32] = {9};
    bld_init_fixed(&b, out, cap);
    bld_u16(&b, version);
    bld_open(&b, 2);
    bld_u8(&b, 7);
    bld_u16(&b, HPKE_KEM_X25519_HKDF_SHA256);
    bld_open(&b, 2);
    bld_bytes(&b, pk, 32);
    bld_close(&b);
    bld_open(&b, 2);
    bld_u16(&b, HPKE_KDF_HKDF_SHA256);
    bld_u16(&b, HPKE_AEAD_AES_128_GCM);
    bld_close(&b);
    bld_u8(&b, 0);
    bld_open(&b, 1);
    bld_bytes(&b, name, strlen(name));
    bld_close(&b);
    bld_open(&b, 2);
    if (ext_type != 0) {
        for (int i = 0; i < (two_exts ? 2 : 1); i++) {
            bld_u16(&b, ext_type);
            bld_u16(&b, 0);
        }
    }
    bld_close(&b);
    bld_close(&b);
    return bld_ok(&b) ? b.len : 0;
}

static size_t list_of(uint8_t *out, size_t cap, const uint8_t *a, size_t an, const uint8_t *b2,
                      size_t bn) {
    builder b;
    bld_init_fixed(&b, out, cap);
    bld_open(&b, 2);
    bld_bytes(&b, a, an);
    bld_bytes(&b, b2, bn);
    bld_close(&b);
    return bld_ok(&b) ? b.len : 0;
}

static void config_tests(void) {
    uint8_t sk[32], pk[32], cfg[256], other[256], list[600];
    CHECK(hpke_generate_keypair(HPKE_KEM_X25519_HKDF_SHA256, sk, pk) == 0, "key pair");
    size_t n1 = make_config(cfg, sizeof cfg, 3, HPKE_KEM_X25519_HKDF_SHA256, pk, "public.example");
    /* version(2) length(2) id(1) kem(2) pk(2+32) suites(2+8) max(1) name(1+14) exts(2) */
    CHECK(n1 == 4 + 1 + 2 + 34 + 10 + 1 + 15 + 2 && cfg[0] == 0xfe && cfg[1] == 0x0d &&
              cfg[2] == 0 && cfg[3] == n1 - 4,
          "build: one ECHConfig of %zu bytes, version 0xfe0d", n1);
    ech_config out[4];
    size_t n = 0;
    /* Built straight into a list (inside the caller's open vector). */
    builder lb;
    bld_init_fixed(&lb, list, sizeof list);
    bld_open(&lb, 2);
    int in_list = ech_config_build(&lb, 3, HPKE_KEM_X25519_HKDF_SHA256, pk, 32, suites, 2, 0,
                                   "public.example");
    bld_close(&lb);
    CHECK(in_list == 0 && bld_ok(&lb) && lb.len == n1 + 2 && memcmp(list + 2, cfg, n1) == 0,
          "build inside an open list vector: the same bytes");
    size_t ln = list_of(list, sizeof list, cfg, n1, NULL, 0);
    CHECK(ech_config_list_parse(list, ln, out, 4, &n) == 0 && n == 1 && out[0].config_id == 3 &&
              out[0].kem == HPKE_KEM_X25519_HKDF_SHA256 && out[0].public_key_len == 32 &&
              memcmp(out[0].public_key, pk, 32) == 0 && out[0].n_suites == 2 &&
              out[0].suites[1].aead == HPKE_AEAD_CHACHA20_POLY1305 &&
              strcmp(out[0].public_name, "public.example") == 0 && out[0].raw == list + 2 &&
              out[0].raw_len == n1,
          "parse: the built config comes back, raw points into the list");

    /* Skipped: another version, an unknown mandatory extension, an IPv4-like name. */
    size_t o = raw_config(other, sizeof other, 0xfe0c, "public.example", 0, false);
    ln = list_of(list, sizeof list, other, o, cfg, n1);
    CHECK(ech_config_list_parse(list, ln, out, 4, &n) == 0 && n == 1 && out[0].config_id == 3,
          "parse: a config of version 0xfe0c is skipped, the next is kept");
    o = raw_config(other, sizeof other, ECH_VERSION, "public.example", 0xfe01, false);
    ln = list_of(list, sizeof list, other, o, cfg, n1);
    CHECK(ech_config_list_parse(list, ln, out, 4, &n) == 0 && n == 1 && out[0].config_id == 3,
          "parse: a config with an unknown mandatory extension is skipped");
    o = raw_config(other, sizeof other, ECH_VERSION, "public.example", 0x0a0a, false);
    ln = list_of(list, sizeof list, other, o, cfg, n1);
    CHECK(ech_config_list_parse(list, ln, out, 4, &n) == 0 && n == 2 && out[0].config_id == 7,
          "parse: an unknown optional extension is fine");
    o = raw_config(other, sizeof other, ECH_VERSION, "public.example", 0x0a0a, true);
    ln = list_of(list, sizeof list, other, o, cfg, n1);
    CHECK(ech_config_list_parse(list, ln, out, 4, &n) == -1,
          "parse: two extensions of one type are malformed");
    static const char *bad_names[] = {"192.0.2.1", "host.0x1f", "host.0X", "host.123",
                                      ".example",  "example.",  "a..b",    "-a.example"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        o = raw_config(other, sizeof other, ECH_VERSION, bad_names[i], 0, false);
        ln = list_of(list, sizeof list, other, o, cfg, n1);
        CHECK(ech_config_list_parse(list, ln, out, 4, &n) == 0 && n == 1 && out[0].config_id == 3,
              "parse: public_name \"%s\" is skipped", bad_names[i]);
    }
    CHECK(ech_public_name_valid((const uint8_t *)"a1.0xg", 6) &&
              ech_public_name_valid((const uint8_t *)"ech.example.net", 15),
          "public names \"a1.0xg\" and \"ech.example.net\" are valid");
    ech_config one;
    CHECK(make_config(other, sizeof other, 1, HPKE_KEM_X25519_HKDF_SHA256, pk, "10.0.0.1") == 0,
          "build refuses an IPv4 public name");

    /* Malformed lists. */
    ln = list_of(list, sizeof list, cfg, n1, NULL, 0);
    CHECK(ech_config_list_parse(list, ln - 1, out, 4, &n) == -1, "parse: a truncated list");
    list[1]--;
    CHECK(ech_config_list_parse(list, ln - 1, out, 4, &n) == -1,
          "parse: a config longer than its list");
    uint8_t empty[2] = {0, 0};
    CHECK(ech_config_list_parse(empty, 2, out, 4, &n) == -1, "parse: an empty list");
    memcpy(other, cfg, n1);
    other[3]++; /* contents one byte longer than what follows */
    CHECK(ech_config_parse(other, n1, &one) == -1, "parse one: a length past the end");
    other[3] -= 2; /* one byte of contents left unread */
    CHECK(ech_config_parse(other, n1 - 1, &one) == -1, "parse one: contents that do not add up");
    CHECK(ech_config_parse(cfg, n1, &one) == 0 && one.config_id == 3, "parse one: ok");

    /* Choose: the first config whose KEM and a suite we support. */
    ech_config cs[3];
    memset(cs, 0, sizeof cs);
    cs[0].kem = 0x0012; /* P-521 */
    cs[0].public_key_len = 133;
    cs[0].n_suites = 1;
    cs[0].suites[0] = suites[0];
    cs[1].kem = HPKE_KEM_P256_HKDF_SHA256;
    cs[1].public_key_len = 65;
    cs[1].n_suites = 2;
    cs[1].suites[0] = (ech_suite){0x0004, HPKE_AEAD_AES_128_GCM};
    cs[1].suites[1] = (ech_suite){HPKE_KDF_HKDF_SHA384, HPKE_AEAD_AES_256_GCM};
    cs[2] = cs[1];
    size_t idx;
    ech_suite s;
    CHECK(ech_config_choose(cs, 3, &idx, &s) == 0 && idx == 1 && s.kdf == HPKE_KDF_HKDF_SHA384 &&
              s.aead == HPKE_AEAD_AES_256_GCM,
          "choose: skips a P-521 config and an unknown KDF, takes the config's next suite");
    cs[1].public_key_len = 32;
    cs[2].suites[1].aead = HPKE_AEAD_EXPORT_ONLY;
    CHECK(ech_config_choose(cs, 3, &idx, &s) == -1,
          "choose: a key of the wrong size and an export-only suite: none");
}

/* ---- ClientHelloOuter, as a client builds it ---- */

typedef struct hello_spec {
    const char *sni;
    bool outer_ext;   /* ech_outer_extensions in the encoded inner */
    uint16_t refs[4]; /* its references */
    size_t n_refs;
    bool second_outer_ext; /* a second ech_outer_extensions */
    uint8_t pad_byte;      /* at the end of the padding */
    size_t pad;
    bool no_inner_ech;
    uint8_t inner_ech_type;
    bool tls12_inner;
    bool session_id_inner;
} hello_spec;

static void ext(builder *b, uint16_t type, const void *body, size_t n) {
    bld_u16(b, type);
    bld_open(b, 2);
    bld_bytes(b, body, n);
    bld_close(b);
}

static const uint8_t groups_body[] = {0, 4, 0, 0x1d, 0, 0x17};
static const uint8_t alpn_body[] = {0, 3, 2, 'h', '2'};
static const uint8_t key_share_body[] = {0, 8, 0, 0x1d, 0, 4, 1, 2, 3, 4};
static const uint8_t sigalgs_body[] = {0, 2, 4, 3};

static void sni_ext(builder *b, const char *name) {
    bld_u16(b, EXT_SERVER_NAME);
    bld_open(b, 2);
    bld_open(b, 2);
    bld_u8(b, 0);
    bld_open(b, 2);
    bld_bytes(b, name, strlen(name));
    bld_close(b);
    bld_close(b);
    bld_close(b);
}

static void hello_head(builder *b, uint8_t random_byte, const uint8_t *sid, size_t sid_len) {
    bld_u16(b, 0x0303);
    for (int i = 0; i < 32; i++)
        bld_u8(b, random_byte);
    bld_open(b, 1);
    bld_bytes(b, sid, sid_len);
    bld_close(b);
    bld_open(b, 2);
    bld_u16(b, 0x1301);
    bld_u16(b, 0x1303);
    bld_close(b);
    bld_open(b, 1);
    bld_u8(b, 0);
    bld_close(b);
}

static const uint8_t outer_sid[32] = {0xaa, 0xbb, 0xcc, 1, 2, 3};

/* The inner hello the client means (what the server must rebuild) and the
 * encoded one it encrypts. Extensions: server_name, supported_groups,
 * key_share, supported_versions, encrypted_client_hello(inner); the
 * encoded one refers to supported_groups and key_share by
 * ech_outer_extensions when spec->outer_ext. */
static void inner_hellos(const hello_spec *sp, builder *want, builder *enc) {
    const uint8_t versions13[] = {4, 0x0a, 0x0a, 3, 4}, versions12[] = {4, 3, 4, 3, 3};
    const uint8_t ech_inner[] = {sp->inner_ech_type};
    hello_head(want, 0x11, outer_sid, sizeof outer_sid);
    hello_head(enc, 0x11, outer_sid, sp->session_id_inner ? 8 : 0);
    bld_open(want, 2);
    bld_open(enc, 2);
    sni_ext(want, sp->sni);
    sni_ext(enc, sp->sni);
    ext(want, EXT_SUPPORTED_GROUPS, groups_body, sizeof groups_body);
    ext(want, EXT_KEY_SHARE, key_share_body, sizeof key_share_body);
    if (sp->outer_ext) {
        bld_u16(enc, EXT_ECH_OUTER_EXTENSIONS);
        bld_open(enc, 2);
        bld_open(enc, 1);
        for (size_t i = 0; i < sp->n_refs; i++)
            bld_u16(enc, sp->refs[i]);
        bld_close(enc);
        bld_close(enc);
        if (sp->second_outer_ext) {
            const uint8_t again[] = {2, 0, EXT_ALPN};
            ext(enc, EXT_ECH_OUTER_EXTENSIONS, again, sizeof again);
        }
    } else {
        ext(enc, EXT_SUPPORTED_GROUPS, groups_body, sizeof groups_body);
        ext(enc, EXT_KEY_SHARE, key_share_body, sizeof key_share_body);
    }
    const uint8_t *v = sp->tls12_inner ? versions12 : versions13;
    ext(want, EXT_SUPPORTED_VERSIONS, v, 5);
    ext(enc, EXT_SUPPORTED_VERSIONS, v, 5);
    if (!sp->no_inner_ech) {
        ext(want, ECH_VERSION, ech_inner, 1);
        ext(enc, ECH_VERSION, ech_inner, 1);
    }
    bld_close(want);
    bld_close(enc);
    bld_zeros(enc, sp->pad);
    if (sp->pad > 0) enc->buf[enc->len - 1] = sp->pad_byte;
}

/* The ClientHelloOuter: server_name (public name), supported_groups, ALPN,
 * key_share, supported_versions, signature_algorithms, then
 * encrypted_client_hello with the payload sealed under the outer hello with
 * a zeroed payload (ClientHelloOuterAAD). Returns the outer length. */
static size_t outer_hello(hpke_ctx *ctx, const ech_config *cfg, ech_suite suite,
                          const uint8_t *enc_key, size_t enc_len, const uint8_t *encoded,
                          size_t encoded_len, uint8_t *out, size_t cap) {
    builder b;
    const uint8_t versions[] = {2, 3, 4};
    bld_init_fixed(&b, out, cap);
    hello_head(&b, 0x22, outer_sid, sizeof outer_sid);
    bld_open(&b, 2);
    sni_ext(&b, "public.example");
    ext(&b, EXT_SUPPORTED_GROUPS, groups_body, sizeof groups_body);
    ext(&b, EXT_ALPN, alpn_body, sizeof alpn_body);
    ext(&b, EXT_KEY_SHARE, key_share_body, sizeof key_share_body);
    ext(&b, EXT_SUPPORTED_VERSIONS, versions, sizeof versions);
    ext(&b, EXT_SIGNATURE_ALGORITHMS, sigalgs_body, sizeof sigalgs_body);
    bld_u16(&b, ECH_VERSION);
    bld_open(&b, 2);
    bld_u8(&b, 0);
    bld_u16(&b, suite.kdf);
    bld_u16(&b, suite.aead);
    bld_u8(&b, cfg->config_id);
    bld_open(&b, 2);
    bld_bytes(&b, enc_key, enc_len);
    bld_close(&b);
    bld_open(&b, 2);
    size_t payload_at = b.len;
    bld_zeros(&b, encoded_len + HPKE_TAG);
    bld_close(&b);
    bld_close(&b);
    bld_close(&b);
    if (!bld_ok(&b) || hpke_seal(ctx, out, b.len, encoded, encoded_len, out + payload_at) != 0)
        return 0;
    return b.len;
}

typedef struct server {
    uint8_t sk[32], pk[65];
    uint8_t cfg[256];
    size_t cfg_len;
    ech_key key;
} server;

static void server_init(server *s, uint16_t kem, uint8_t id) {
    CHECK(hpke_generate_keypair(kem, s->sk, s->pk) == 0, "server key pair (KEM 0x%04x)", kem);
    s->cfg_len = make_config(s->cfg, sizeof s->cfg, id, kem, s->pk, "public.example");
    CHECK(ech_key_init(&s->key, s->sk, hpke_kem_private_len(kem), s->cfg, s->cfg_len) == 0,
          "ech_key_init (KEM 0x%04x, config_id %u)", kem, id);
}

/* The client's side: seal inner hellos to cfg and build the outer one. */
typedef struct client {
    hpke_ctx ctx;
    uint8_t enc[HPKE_MAX_ENC];
    size_t enc_len;
    uint8_t outer[2048];
    size_t outer_len;
    builder want;
} client;

static bool make_client_hello(client *c, const ech_config *cfg, ech_suite suite,
                              const hello_spec *sp, bool second) {
    builder enc;
    bld_init_alloc(&enc, 256);
    bld_init_alloc(&c->want, 256);
    inner_hellos(sp, &c->want, &enc);
    if (!second) {
        uint8_t info[8 + 256];
        memcpy(info, "tls ech", 8);
        memcpy(info + 8, cfg->raw, cfg->raw_len);
        c->enc_len = hpke_kem_enc_len(cfg->kem);
        if (hpke_setup_base_sender(&c->ctx, cfg->kem, suite.kdf, suite.aead, cfg->public_key,
                                   cfg->public_key_len, info, 8 + cfg->raw_len, c->enc) != 0)
            return false;
    }
    c->outer_len = outer_hello(&c->ctx, cfg, suite, c->enc, second ? 0 : c->enc_len, enc.buf,
                               enc.len, c->outer, sizeof c->outer);
    bld_free(&enc);
    return bld_ok(&c->want) && c->outer_len > 0;
}

static const hello_spec good = {"secret.example",
                                true,
                                {EXT_SUPPORTED_GROUPS, EXT_KEY_SHARE},
                                2,
                                false,
                                0,
                                37,
                                false,
                                1,
                                false,
                                false};

/* Opens spec's hello and returns the result; on OK checks the inner. */
static int open_spec(const server *s, size_t n_keys, const hello_spec *sp, const char **why,
                     bool *inner_ok) {
    client c;
    ech_config cfg;
    ech_suite suite = suites[1];
    *inner_ok = false;
    if (ech_config_parse(s->cfg, s->cfg_len, &cfg) != 0 ||
        !make_client_hello(&c, &cfg, suite, sp, false))
        return 999;
    builder inner;
    bld_init_alloc(&inner, 256);
    ech_open_state st;
    memset(&st, 0, sizeof st);
    int rc =
        ech_open_client_hello(&s->key, n_keys, c.outer, c.outer_len, true, false, &st, &inner, why);
    *inner_ok = rc == ECH_OPEN_OK && inner.len == c.want.len &&
                memcmp(inner.buf, c.want.buf, inner.len) == 0;
    bld_free(&inner);
    bld_free(&c.want);
    hpke_ctx_wipe(&c.ctx);
    hpke_ctx_wipe(&st.hpke);
    return rc;
}

static void open_tests(void) {
    static const uint16_t kems[2] = {HPKE_KEM_X25519_HKDF_SHA256, HPKE_KEM_P256_HKDF_SHA256};
    server s;
    const char *why = NULL;
    bool ok;
    for (int k = 0; k < 2; k++) {
        if (k) ech_key_wipe(&s.key); /* it holds its prepared HPKE key */
        server_init(&s, kems[k], 5);
        int rc = open_spec(&s, 1, &good, &why, &ok);
        CHECK(rc == ECH_OPEN_OK && ok,
              "KEM 0x%04x: the ClientHelloInner comes back byte for byte: outer session id, "
              "supported_groups and key_share expanded in place, padding gone (%d: %s)",
              kems[k], rc, why ? why : "");
    }
    hello_spec sp = good;
    sp.outer_ext = false;
    sp.pad = 0;
    CHECK(open_spec(&s, 1, &sp, &why, &ok) == ECH_OPEN_OK && ok,
          "no ech_outer_extensions and no padding: the inner comes back");
    sp = good;
    ech_key_wipe(&s.key);
    CHECK(ech_key_init(&s.key, s.sk, 31, s.cfg, s.cfg_len) == -1 &&
              ech_key_init(&s.key, s.pk + 1, 32, s.cfg, s.cfg_len) == -1,
          "ech_key_init refuses a short private key and one that is not the config's");
    CHECK(ech_key_init(&s.key, s.sk, 32, s.cfg, s.cfg_len) == 0, "ech_key_init again");

    /* Malformed inner hellos: the alert for each. */
    struct {
        const char *what;
        hello_spec sp;
        int want;
    } bad[] = {
        {"non-zero padding", good, -ALERT_ILLEGAL_PARAMETER},
        {"a reference to an extension the outer lacks", good, -ALERT_ILLEGAL_PARAMETER},
        {"a reference to encrypted_client_hello", good, -ALERT_ILLEGAL_PARAMETER},
        {"an extension referenced twice", good, -ALERT_ILLEGAL_PARAMETER},
        {"references out of the outer's order", good, -ALERT_ILLEGAL_PARAMETER},
        {"two ech_outer_extensions", good, -ALERT_ILLEGAL_PARAMETER},
        {"an empty ech_outer_extensions", good, -ALERT_DECODE_ERROR},
        {"no inner encrypted_client_hello", good, -ALERT_ILLEGAL_PARAMETER},
        {"an encrypted_client_hello of type outer inside", good, -ALERT_ILLEGAL_PARAMETER},
        {"an inner that offers TLS 1.2", good, -ALERT_ILLEGAL_PARAMETER},
        {"a legacy_session_id in the encoded inner", good, -ALERT_ILLEGAL_PARAMETER},
    };
    bad[0].sp.pad_byte = 1;
    bad[1].sp.refs[1] = EXT_COOKIE;
    bad[2].sp.refs[1] = ECH_VERSION;
    bad[3].sp.refs[1] = EXT_SUPPORTED_GROUPS;
    bad[4].sp.refs[0] = EXT_KEY_SHARE;
    bad[4].sp.refs[1] = EXT_SUPPORTED_GROUPS;
    bad[5].sp.second_outer_ext = true;
    bad[6].sp.n_refs = 0;
    bad[7].sp.no_inner_ech = true;
    bad[8].sp.inner_ech_type = 0;
    bad[9].sp.tls12_inner = true;
    bad[10].sp.session_id_inner = true;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = open_spec(&s, 1, &bad[i].sp, &why, &ok);
        CHECK(rc == bad[i].want && why != NULL, "%s: alert %d (%s)", bad[i].what, -rc,
              why ? why : "");
    }

    /* Trial decryption: a config_id no key has opens with the key only when asked. */
    server s2;
    server_init(&s2, HPKE_KEM_X25519_HKDF_SHA256, 9);
    ech_key keys[2] = {s2.key, s.key};
    keys[1].config.config_id = 200; /* the key's own id differs from the hello's (5) */
    keys[1].config.raw = keys[1].config_storage;
    keys[0].config.raw = keys[0].config_storage;
    {
        client c;
        ech_config cfg;
        builder inner;
        bld_init_alloc(&inner, 256);
        CHECK(ech_config_parse(s.cfg, s.cfg_len, &cfg) == 0 &&
                  make_client_hello(&c, &cfg, suites[0], &good, false),
              "a hello for config 5");
        /* By default only a matching config_id is tried (a GREASE hello costs no DH). */
        int rc =
            ech_open_client_hello(keys, 2, c.outer, c.outer_len, true, false, NULL, &inner, &why);
        CHECK(rc == ECH_OPEN_NOT_DECRYPTED && inner.len == 0,
              "no trial decryption by default: no key has config_id 5, not decrypted (%s)", why);
        rc = ech_open_client_hello(keys, 2, c.outer, c.outer_len, true, true, NULL, &inner, &why);
        CHECK(rc == ECH_OPEN_OK && inner.len == c.want.len &&
                  memcmp(inner.buf, c.want.buf, inner.len) == 0,
              "trial decryption (opted in): no key has config_id 5; the second key opens it (%s)",
              why);
        bld_free(&inner);
        /* Only the other server's key: not decrypted, the outer goes on. */
        bld_init_alloc(&inner, 256);
        rc = ech_open_client_hello(&s2.key, 1, c.outer, c.outer_len, true, false, NULL, &inner,
                                   &why);
        CHECK(rc == ECH_OPEN_NOT_DECRYPTED && inner.len == 0,
              "a foreign key: ECH_OPEN_NOT_DECRYPTED, nothing written (%s)", why);
        /* A flipped byte of the outer hello (outside the payload): AAD mismatch. */
        c.outer[40] ^= 1;
        rc =
            ech_open_client_hello(&s.key, 1, c.outer, c.outer_len, true, false, NULL, &inner, &why);
        CHECK(rc == ECH_OPEN_NOT_DECRYPTED, "a changed ClientHelloOuter does not decrypt");
        c.outer[40] ^= 1;
        bld_free(&inner);
        bld_free(&c.want);
        hpke_ctx_wipe(&c.ctx);
    }

    /* Malformed outer hellos and extensions. */
    {
        builder b, inner;
        uint8_t buf[512];
        bld_init_alloc(&inner, 64);
        const uint8_t bodies[][12] = {
            {1},                            /* type inner from the network */
            {2, 0, 1, 0, 1, 5, 0, 0, 0, 1}, /* unknown type */
            {0, 0, 1, 0, 1, 5, 0, 0, 0},    /* payload length missing its byte */
            {0, 0, 1, 0, 1, 5, 0, 0, 0, 0}, /* empty payload */
        };
        const size_t lens[] = {1, 10, 9, 10};
        const int want[] = {-ALERT_ILLEGAL_PARAMETER, -ALERT_ILLEGAL_PARAMETER, -ALERT_DECODE_ERROR,
                            -ALERT_DECODE_ERROR};
        for (size_t i = 0; i < 4; i++) {
            bld_init_fixed(&b, buf, sizeof buf);
            hello_head(&b, 0x33, NULL, 0);
            bld_open(&b, 2);
            ext(&b, ECH_VERSION, bodies[i], lens[i]);
            bld_close(&b);
            int rc = ech_open_client_hello(&s.key, 1, buf, b.len, true, false, NULL, &inner, &why);
            CHECK(rc == want[i], "outer encrypted_client_hello case %zu: alert %d (%s)", i, -rc,
                  why ? why : "");
        }
        bld_init_fixed(&b, buf, sizeof buf);
        hello_head(&b, 0x33, NULL, 0);
        bld_open(&b, 2);
        ext(&b, ECH_VERSION, bodies[1], 10);
        ext(&b, ECH_VERSION, bodies[1], 10);
        bld_close(&b);
        CHECK(ech_open_client_hello(&s.key, 1, buf, b.len, true, false, NULL, &inner, &why) ==
                  -ALERT_ILLEGAL_PARAMETER,
              "two encrypted_client_hello extensions: illegal_parameter");
        CHECK(ech_open_client_hello(&s.key, 1, buf, b.len - 1, true, false, NULL, &inner, &why) ==
                  -ALERT_DECODE_ERROR,
              "a truncated ClientHelloOuter: decode_error");
        bld_init_fixed(&b, buf, sizeof buf);
        hello_head(&b, 0x33, NULL, 0);
        bld_open(&b, 2);
        ext(&b, EXT_ALPN, alpn_body, sizeof alpn_body);
        bld_close(&b);
        CHECK(ech_open_client_hello(&s.key, 1, buf, b.len, true, false, NULL, &inner, &why) ==
                  ECH_OPEN_ABSENT,
              "no encrypted_client_hello: ECH_OPEN_ABSENT");
        ech_open_state st = {.have_context = true};
        CHECK(ech_open_client_hello(&s.key, 1, buf, b.len, false, false, &st, &inner, &why) ==
                  -ALERT_MISSING_EXTENSION,
              "second ClientHello without it after acceptance: missing_extension");
        bld_free(&inner);
    }

    /* HelloRetryRequest: the second ClientHelloOuter with the same context. */
    {
        client c;
        ech_config cfg;
        builder inner;
        ech_open_state st;
        memset(&st, 0, sizeof st);
        bld_init_alloc(&inner, 256);
        CHECK(ech_config_parse(s.cfg, s.cfg_len, &cfg) == 0 &&
                  make_client_hello(&c, &cfg, suites[1], &good, false),
              "first hello");
        int rc =
            ech_open_client_hello(&s.key, 1, c.outer, c.outer_len, true, false, &st, &inner, &why);
        CHECK(rc == ECH_OPEN_OK && st.have_context && st.config_id == 5 &&
                  st.suite.aead == HPKE_AEAD_CHACHA20_POLY1305 && st.hpke.seq == 1,
              "first hello opened, the context kept at seq 1");
        bld_free(&c.want);
        hello_spec sp2 = good;
        sp2.sni = "secret2.example";
        CHECK(make_client_hello(&c, &cfg, suites[1], &sp2, true), "second hello, empty enc");
        ech_open_state saved = st;
        bld_free(&inner);
        bld_init_alloc(&inner, 256);
        /* A byte of the payload flipped: decrypt_error, the context unchanged. */
        c.outer[c.outer_len - 1] ^= 1;
        rc =
            ech_open_client_hello(&s.key, 1, c.outer, c.outer_len, false, false, &st, &inner, &why);
        CHECK(rc == -ALERT_DECRYPT_ERROR && st.hpke.seq == 1,
              "second hello that does not open: decrypt_error (%s)", why);
        c.outer[c.outer_len - 1] ^= 1;
        st.config_id = 6;
        rc =
            ech_open_client_hello(&s.key, 1, c.outer, c.outer_len, false, false, &st, &inner, &why);
        CHECK(rc == -ALERT_ILLEGAL_PARAMETER,
              "second hello with another config_id: illegal_parameter");
        st = saved;
        st.suite.aead = HPKE_AEAD_AES_128_GCM;
        rc =
            ech_open_client_hello(&s.key, 1, c.outer, c.outer_len, false, false, &st, &inner, &why);
        CHECK(rc == -ALERT_ILLEGAL_PARAMETER, "second hello with another suite: illegal_parameter");
        st = saved;
        rc =
            ech_open_client_hello(&s.key, 1, c.outer, c.outer_len, false, false, &st, &inner, &why);
        CHECK(rc == ECH_OPEN_OK && inner.len == c.want.len &&
                  memcmp(inner.buf, c.want.buf, inner.len) == 0 && st.hpke.seq == 2,
              "second hello: the second ClientHelloInner comes back (seq 2) (%s)", why);
        ech_open_state none;
        memset(&none, 0, sizeof none);
        CHECK(ech_open_client_hello(&s.key, 1, c.outer, c.outer_len, false, false, &none, &inner,
                                    &why) == ECH_OPEN_NOT_DECRYPTED,
              "second hello when the first was not accepted: not decrypted");
        /* The first hello again but with a non-empty enc where the second needs none. */
        bld_free(&c.want);
        CHECK(make_client_hello(&c, &cfg, suites[1], &good, false), "a hello with an enc");
        st = saved;
        rc =
            ech_open_client_hello(&s.key, 1, c.outer, c.outer_len, false, false, &st, &inner, &why);
        CHECK(rc == -ALERT_ILLEGAL_PARAMETER,
              "second hello with a non-empty enc: illegal_parameter");
        bld_free(&c.want);
        bld_free(&inner);
        hpke_ctx_wipe(&c.ctx);
        hpke_ctx_wipe(&st.hpke);
        hpke_ctx_wipe(&saved.hpke);
    }
    ech_key_wipe(&s.key);
    ech_key_wipe(&s2.key);
}

/* The hello as TLS handshake records: cuts (offsets into the handshake
 * message) start new records; extra bytes follow. */
static size_t records(const uint8_t *body, size_t body_len, const size_t *cuts, size_t n_cuts,
                      const uint8_t *extra, size_t extra_len, uint8_t *out, size_t cap) {
    uint8_t msg[2048];
    size_t mlen = 4 + body_len, o = 0, at = 0;
    msg[0] = 1;
    msg[1] = (uint8_t)(body_len >> 16);
    msg[2] = (uint8_t)(body_len >> 8);
    msg[3] = (uint8_t)body_len;
    memcpy(msg + 4, body, body_len);
    for (size_t k = 0; k <= n_cuts; k++) {
        size_t end = k < n_cuts ? cuts[k] : mlen;
        if (o + 5 + (end - at) > cap) return 0;
        out[o++] = 22;
        out[o++] = 3;
        out[o++] = 1;
        out[o++] = (uint8_t)((end - at) >> 8);
        out[o++] = (uint8_t)(end - at);
        memcpy(out + o, msg + at, end - at);
        o += end - at;
        at = end;
    }
    if (o + extra_len > cap) return 0;
    if (extra_len > 0) memcpy(out + o, extra, extra_len);
    return o + extra_len;
}

static void split_tests(void) {
    server s, s2;
    client c;
    ech_config cfg;
    server_init(&s, HPKE_KEM_X25519_HKDF_SHA256, 5);
    server_init(&s2, HPKE_KEM_X25519_HKDF_SHA256, 5);
    CHECK(ech_config_parse(s.cfg, s.cfg_len, &cfg) == 0 &&
              make_client_hello(&c, &cfg, suites[0], &good, false),
          "split: a ClientHelloOuter");
    static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
    uint8_t in[3000];
    const size_t cuts[3] = {3, 100, 101};
    size_t n = records(c.outer, c.outer_len, cuts, 3, ccs, sizeof ccs, in, sizeof in);
    ech_open_state st;
    split_hello h;
    memset(&st, 0, sizeof st);
    split_client_hello(&s.key, 1, in, n, true, false, &st, &h);
    /* The backend's records: one record, the outer's version, the inner message. */
    bool framed = h.verdict == SPLIT_INNER && h.out.len == 5 + 4 + c.want.len &&
                  h.out.buf[0] == 22 && h.out.buf[1] == 3 && h.out.buf[2] == 1 &&
                  (size_t)(h.out.buf[3] << 8 | h.out.buf[4]) == 4 + c.want.len &&
                  h.out.buf[5] == 1 && memcmp(h.out.buf + 9, c.want.buf, c.want.len) == 0;
    CHECK(framed && h.consumed == n - sizeof ccs && strcmp(h.inner_name, "secret.example") == 0,
          "split: a hello in 4 records (one of 1 byte) and a CCS after it: the inner hello as "
          "one record for the backend, inner name secret.example, the CCS left to forward (%s)",
          h.why ? h.why : "");
    bld_free(&h.out);
    hpke_ctx_wipe(&st.hpke);
    bool all_more = true;
    for (size_t k = 0; k < n - sizeof ccs; k++) {
        split_client_hello(&s.key, 1, in, k, true, false, &st, &h);
        all_more = all_more && h.verdict == SPLIT_NEED_MORE;
    }
    CHECK(all_more, "split: every shorter prefix of the records asks for more");
    split_client_hello(&s2.key, 1, in, n, true, false, &st, &h);
    CHECK(h.verdict == SPLIT_PUBLIC && h.ech_offered && h.why != NULL &&
              strstr(h.why, "no ECH key") != NULL,
          "split: another server's key: to the public backend (%s)", h.why ? h.why : "");
    in[0] = 23;
    split_client_hello(&s.key, 1, in, n, true, false, &st, &h);
    CHECK(h.verdict == SPLIT_REFUSE && h.alert == ALERT_UNEXPECTED_MESSAGE,
          "split: an application_data record first: unexpected_message");
    /* Handshake bytes after the ClientHello in its record. */
    uint8_t body[2048];
    memcpy(body, c.outer, c.outer_len);
    n = records(body, c.outer_len, NULL, 0, NULL, 0, in, sizeof in);
    in[3] = (uint8_t)((n - 5 + 1) >> 8);
    in[4] = (uint8_t)(n - 5 + 1);
    in[n] = 0;
    split_client_hello(&s.key, 1, in, n + 1, true, false, &st, &h);
    CHECK(h.verdict == SPLIT_REFUSE && h.alert == ALERT_UNEXPECTED_MESSAGE,
          "split: a byte after the ClientHello in its record: unexpected_message");
    bld_free(&c.want);
    hpke_ctx_wipe(&c.ctx);
    /* After a HelloRetryRequest: a CCS and the second ClientHelloOuter, opened
     * with the first's context; the CCS goes first to the backend. */
    CHECK(make_client_hello(&c, &cfg, suites[0], &good, false), "split: a first hello");
    n = records(c.outer, c.outer_len, NULL, 0, NULL, 0, in, sizeof in);
    memset(&st, 0, sizeof st);
    split_client_hello(&s.key, 1, in, n, true, false, &st, &h);
    CHECK(h.verdict == SPLIT_INNER && st.have_context, "split: first hello opened, context kept");
    bld_free(&h.out);
    bld_free(&c.want);
    hello_spec second = good;
    second.sni = "secret2.example";
    CHECK(make_client_hello(&c, &cfg, suites[0], &second, true), "split: the second hello");
    memcpy(in, ccs, sizeof ccs);
    n = sizeof ccs +
        records(c.outer, c.outer_len, NULL, 0, NULL, 0, in + sizeof ccs, sizeof in - sizeof ccs);
    ech_open_state saved = st;
    split_client_hello(&s.key, 1, in, n, false, false, &st, &h);
    CHECK(h.verdict == SPLIT_INNER && h.out.len == sizeof ccs + 5 + 4 + c.want.len &&
              memcmp(h.out.buf, ccs, sizeof ccs) == 0 &&
              memcmp(h.out.buf + sizeof ccs + 9, c.want.buf, c.want.len) == 0 &&
              strcmp(h.inner_name, "secret2.example") == 0 && h.consumed == n,
          "split: CCS and the second hello: the CCS, then the second inner hello (%s)",
          h.why ? h.why : "");
    bld_free(&h.out);
    in[n - 1] ^= 1;
    st = saved;
    split_client_hello(&s.key, 1, in, n, false, false, &st, &h);
    CHECK(h.verdict == SPLIT_REFUSE && h.alert == ALERT_DECRYPT_ERROR,
          "split: a tampered second hello: decrypt_error");
    split_client_hello(&s.key, 1, in, sizeof ccs + 3, false, false, &st, &h);
    CHECK(h.verdict == SPLIT_NEED_MORE, "split: a CCS and part of a record: more");
    bld_free(&c.want);
    hpke_ctx_wipe(&c.ctx);
    hpke_ctx_wipe(&st.hpke);
    hpke_ctx_wipe(&saved.hpke);
    /* A malformed inner hello: its alert. */
    hello_spec bad = good;
    bad.pad_byte = 9;
    CHECK(make_client_hello(&c, &cfg, suites[0], &bad, false), "split: a hello with bad padding");
    n = records(c.outer, c.outer_len, NULL, 0, NULL, 0, in, sizeof in);
    split_client_hello(&s.key, 1, in, n, true, false, &st, &h);
    CHECK(h.verdict == SPLIT_REFUSE && h.alert == ALERT_ILLEGAL_PARAMETER,
          "split: non-zero padding in the inner hello: illegal_parameter");
    bld_free(&c.want);
    hpke_ctx_wipe(&c.ctx);
    hpke_ctx_wipe(&st.hpke);
    /* The backend's first record: HelloRetryRequest or not. */
    uint8_t sh[43] = {22, 3, 3, 0, 90, 2, 0, 0, 86, 3, 3};
    CHECK(split_is_hello_retry(sh, 42) == -1 && split_is_hello_retry(sh, 43) == 0,
          "split: 42 bytes are too few to tell; a ServerHello is not a HelloRetryRequest");
    static const uint8_t hrr[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
                                    0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
                                    0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
    memcpy(sh + 11, hrr, 32);
    CHECK(split_is_hello_retry(sh, 43) == 1, "split: the HelloRetryRequest random is recognised");
    uint8_t alert[7];
    split_alert_record(ALERT_UNRECOGNIZED_NAME, alert);
    CHECK(alert[0] == 21 && alert[4] == 2 && alert[5] == 2 && alert[6] == 112,
          "split: a fatal unrecognized_name alert record");
    ech_key_wipe(&s.key);
    ech_key_wipe(&s2.key);
}

int main(void) {
    config_tests();
    open_tests();
    split_tests();
    return test_failures ? 1 : 0;
}
