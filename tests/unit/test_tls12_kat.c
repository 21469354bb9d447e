/* TLS 1.2 known answers: the PRF (RFC 5246 §5) against the published
 * P_SHA256 / P_SHA384 vectors and against libcrypto's EVP_KDF "TLS1-PRF"; the
 * master secret, extended (RFC 7627) and classic, and the key block, against
 * what libssl derived on the other end of an in-memory handshake, both
 * directions; the AEAD record layer (RFC 5246 §6.2.3.3, RFC 5288, RFC 7905)
 * round-tripped, tampered, and checked against libssl's own records. */
#include "certa.h"
#include "crypto/crypto.h"
#include "lib_certs.h"
#include "lib_ossl.h"
#include "record/record.h"
#include "testlib.h"
#include "tls/tls.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

/* ---- the PRF ---- */

/* The TLS 1.2 PRF test vectors posted to the IETF TLS working group list,
 * https://www.ietf.org/mail-archive/web/tls/current/msg03416.html (also
 * carried by BearSSL's test/test_crypto.c and other implementations' KATs):
 * label "test label", output lengths 100 (SHA-256) and 148 (SHA-384). */
static const struct {
    hash_alg hash;
    const char *name, *secret, *seed, *out;
} prf_vectors[] = {
    {HASH_SHA256, "P_SHA256", "9bbe436ba940f017b17652849a71db35",
     "a0ba9f936cda311827a6f796ffd5198c",
     "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14"
     "baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e"
     "5a5110fff70187347b66"},
    {HASH_SHA384, "P_SHA384", "b80b733d6ceefcdc71566ea48e5567df",
     "cd665cf6a8447dd6ff8b27555edb7465",
     "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c"
     "9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abf"
     "dad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a2685430"
     "8d5eaa3be85e0990703d73e56f"},
};

/* libcrypto's TLS1-PRF: P_<digest>(secret, label || seed1 || seed2). */
static bool ossl_prf(hash_alg h, const uint8_t *secret, size_t secret_len, const char *label,
                     const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
                     uint8_t *out, size_t out_len) {
    uint8_t seed[1024];
    size_t ll = strlen(label), n = ll + seed1_len + seed2_len;
    if (n > sizeof seed) return false;
    memcpy(seed, label, ll);
    if (seed1_len) memcpy(seed + ll, seed1, seed1_len);
    if (seed2_len) memcpy(seed + ll + seed1_len, seed2, seed2_len);
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
    EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    OSSL_PARAM params[4];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
                                                 h == HASH_SHA384 ? "SHA384" : "SHA256", 0);
    params[1] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)secret, secret_len);
    params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, n);
    params[3] = OSSL_PARAM_construct_end();
    bool ok = kctx && EVP_KDF_derive(kctx, out, out_len, params) == 1;
    EVP_KDF_CTX_free(kctx);
    EVP_KDF_free(kdf);
    return ok;
}

static void prf_known_answers(void) {
    for (size_t i = 0; i < sizeof prf_vectors / sizeof prf_vectors[0]; i++) {
        test_buf secret = test_hex(prf_vectors[i].secret), seed = test_hex(prf_vectors[i].seed),
                 want = test_hex(prf_vectors[i].out);
        uint8_t out[256];
        int r = tls12_prf(prf_vectors[i].hash, secret.b, secret.n, "test label", seed.b, seed.n,
                          NULL, 0, out, want.n);
        CHECK(r == 0 && memcmp(out, want.b, want.n) == 0,
              "tls12_prf %s matches the IETF TLS list vector (%zu bytes)", prf_vectors[i].name,
              want.n);
        /* the seed split in two (as the engine passes the randoms) changes nothing */
        memset(out, 0, sizeof out);
        r = tls12_prf(prf_vectors[i].hash, secret.b, secret.n, "test label", seed.b, 5, seed.b + 5,
                      seed.n - 5, out, want.n);
        CHECK(r == 0 && memcmp(out, want.b, want.n) == 0,
              "tls12_prf %s with the seed in two pieces gives the same output",
              prf_vectors[i].name);
        uint8_t ref[256];
        CHECK(ossl_prf(prf_vectors[i].hash, secret.b, secret.n, "test label", seed.b, seed.n, NULL,
                       0, ref, want.n) &&
                  memcmp(ref, want.b, want.n) == 0,
              "(libcrypto's TLS1-PRF agrees with the %s vector too)", prf_vectors[i].name);
    }
    /* several lengths, both hashes, against libcrypto: block boundaries
     * (32, 48 bytes), the master secret (48), Finished (12), key blocks. */
    static const size_t lens[] = {1, 12, 31, 32, 33, 47, 48, 49, 64, 72, 88, 100, 200, 500};
    uint8_t secret[48], r1[32], r2[32];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)(i * 7 + 3);
    for (size_t i = 0; i < 32; i++) {
        r1[i] = (uint8_t)(0xa0 + i);
        r2[i] = (uint8_t)(0x11 * i);
    }
    for (int h = 0; h < 2; h++) {
        hash_alg alg = h ? HASH_SHA384 : HASH_SHA256;
        int bad = 0;
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            uint8_t a[500], b[500];
            int r =
                tls12_prf(alg, secret, sizeof secret, "key expansion", r1, 32, r2, 32, a, lens[i]);
            if (r != 0 ||
                !ossl_prf(alg, secret, sizeof secret, "key expansion", r1, 32, r2, 32, b,
                          lens[i]) ||
                memcmp(a, b, lens[i]) != 0) {
                printf("# %s length %zu differs from libcrypto\n", h ? "SHA-384" : "SHA-256",
                       lens[i]);
                bad++;
            }
        }
        CHECK(bad == 0, "tls12_prf %s equals libcrypto's TLS1-PRF at %zu lengths (1..500 bytes)",
              h ? "SHA-384" : "SHA-256", sizeof lens / sizeof lens[0]);
    }
    /* The PRF gathers label and seeds without a buffer: long seeds work. */
    uint8_t long1[400], long2[300], big[100], ref[100];
    for (size_t i = 0; i < sizeof long1; i++)
        long1[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof long2; i++)
        long2[i] = (uint8_t)(i * 13 + 1);
    CHECK(tls12_prf(HASH_SHA256, secret, sizeof secret, "x", long1, sizeof long1, long2,
                    sizeof long2, big, sizeof big) == 0 &&
              ossl_prf(HASH_SHA256, secret, sizeof secret, "x", long1, sizeof long1, long2,
                       sizeof long2, ref, sizeof ref) &&
              memcmp(big, ref, sizeof big) == 0,
          "tls12_prf with 700 bytes of seed equals libcrypto's");
}

/* ---- the AEAD record layer ---- */

static const struct {
    aead_alg aead;
    const char *name;
} aeads[] = {{AEAD_AES128GCM, "AES-128-GCM"},
             {AEAD_AES256GCM, "AES-256-GCM"},
             {AEAD_CHACHA20POLY1305, "ChaCha20-Poly1305"}};

static void record_round_trip(void) {
    for (size_t a = 0; a < sizeof aeads / sizeof aeads[0]; a++) {
        aead_alg alg = aeads[a].aead;
        uint8_t key[32], iv[12];
        for (size_t i = 0; i < sizeof key; i++)
            key[i] = (uint8_t)(0x30 + i);
        for (size_t i = 0; i < sizeof iv; i++)
            iv[i] = (uint8_t)(0xc0 + i);
        record_protection w, r;
        memset(&w, 0, sizeof w);
        memset(&r, 0, sizeof r);
        w.aead.encrypt = true;
        r.aead.encrypt = false;
        CHECK(record_set_keys_tls12(&w, alg, key, iv) == 0 &&
                  record_set_keys_tls12(&r, alg, key, iv) == 0 && w.tls12 && w.on,
              "%s: record_set_keys_tls12 keys both directions", aeads[a].name);
        size_t explicit_len = alg == AEAD_CHACHA20POLY1305 ? 0 : 8;
        CHECK(w.explicit_iv == explicit_len && record_tls12_iv_len(alg) == (explicit_len ? 4 : 12),
              "%s: %zu explicit nonce bytes per record, %zu IV bytes from the key block",
              aeads[a].name, explicit_len, explicit_len ? (size_t)4 : (size_t)12);
        /* types and sizes: empty, small, one full record, one that fragments */
        static uint8_t data[RECORD_MAX_PLAINTEXT + 100];
        for (size_t i = 0; i < sizeof data; i++)
            data[i] = (uint8_t)(i * 31);
        static const struct {
            uint8_t type;
            size_t len;
        } cases[] = {{CONTENT_HANDSHAKE, 16},
                     {CONTENT_APPLICATION_DATA, 0},
                     {CONTENT_ALERT, 2},
                     {CONTENT_APPLICATION_DATA, RECORD_MAX_PLAINTEXT},
                     {CONTENT_APPLICATION_DATA, RECORD_MAX_PLAINTEXT + 100}};
        int bad = 0;
        for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
            builder b;
            bld_init_alloc(&b, 0);
            uint64_t seq0 = w.seq;
            if (record_write(&w, &b, cases[k].type, data, cases[k].len) != 0 || !bld_ok(&b)) {
                bad++;
                bld_free(&b);
                continue;
            }
            size_t off = 0, got = 0;
            uint64_t seq = seq0;
            while (off + RECORD_HEADER_LEN <= b.len) {
                uint8_t *h = b.buf + off;
                size_t body = (size_t)h[3] << 8 | h[4];
                size_t frag = cases[k].len - got > RECORD_MAX_PLAINTEXT ? RECORD_MAX_PLAINTEXT
                                                                        : cases[k].len - got;
                /* the outer type is the real type; length = explicit + data + tag */
                if (h[0] != cases[k].type || h[1] != 3 || h[2] != 3 ||
                    body != explicit_len + frag + CRYPTO_AEAD_TAG)
                    bad++;
                /* GCM's explicit nonce is the sequence number (never repeats) */
                if (explicit_len) {
                    uint64_t e = 0;
                    for (int i = 0; i < 8; i++)
                        e = e << 8 | h[RECORD_HEADER_LEN + i];
                    if (e != seq) bad++;
                }
                uint8_t type;
                size_t plain;
                if (record_open(&r, h, h + RECORD_HEADER_LEN, body, &type, &plain) != 0 ||
                    type != cases[k].type || plain != frag ||
                    memcmp(h + RECORD_HEADER_LEN, data + got, frag) != 0)
                    bad++;
                got += frag;
                off += RECORD_HEADER_LEN + body;
                seq++;
            }
            if (off != b.len || got != cases[k].len || r.seq != w.seq || w.seq != seq) bad++;
            bld_free(&b);
        }
        CHECK(bad == 0,
              "%s: records of 0, 2, 16, 16384 and 16484 bytes (fragmented) open to the same type "
              "and data, outer type real, length and explicit nonce as RFC 5246/5288/7905 say",
              aeads[a].name);

        /* tampering: a ciphertext bit, the outer type (AAD), a replay (the
         * sequence number is in the AAD), a record too short for a tag */
        builder b;
        bld_init_alloc(&b, 0);
        record_write(&w, &b, CONTENT_APPLICATION_DATA, data, 40);
        uint8_t rec[256];
        size_t n = b.len;
        memcpy(rec, b.buf, n);
        bld_free(&b);
        uint8_t type, copy[256];
        size_t plain;
        uint64_t seq = r.seq;
        memcpy(copy, rec, n);
        copy[RECORD_HEADER_LEN + explicit_len + 3] ^= 0x01;
        int e1 =
            record_open(&r, copy, copy + RECORD_HEADER_LEN, n - RECORD_HEADER_LEN, &type, &plain);
        r.seq = seq;
        memcpy(copy, rec, n);
        copy[0] = CONTENT_HANDSHAKE;
        int e2 =
            record_open(&r, copy, copy + RECORD_HEADER_LEN, n - RECORD_HEADER_LEN, &type, &plain);
        r.seq = seq;
        memcpy(copy, rec, n);
        int e3 =
            record_open(&r, copy, copy + RECORD_HEADER_LEN, n - RECORD_HEADER_LEN, &type, &plain);
        memcpy(copy, rec, n);
        int e4 = record_open(&r, copy, copy + RECORD_HEADER_LEN, n - RECORD_HEADER_LEN, &type,
                             &plain); /* the same record again */
        memcpy(copy, rec, n);
        int e5 = record_open(&r, copy, copy + RECORD_HEADER_LEN, explicit_len + 15, &type, &plain);
        CHECK(e1 == CERTA_E_BAD_RECORD_MAC && e2 == CERTA_E_BAD_RECORD_MAC && e3 == 0 &&
                  e4 == CERTA_E_BAD_RECORD_MAC && e5 == CERTA_E_BAD_RECORD_MAC,
              "%s: a flipped ciphertext bit, a changed outer type and a replayed record are "
              "bad_record_mac; the untouched record opens (%d %d %d %d %d)",
              aeads[a].name, e1, e2, e3, e4, e5);
        record_protection_clear(&w);
        record_protection_clear(&r);
    }
}

/* ---- against libssl ---- */

/* What certa derived, copied while it exists (the engine wipes the master
 * secret and key block when the handshake completes). */
typedef struct captured {
    uint8_t master[TLS12_MASTER_LEN];
    uint8_t key_block[sizeof(((tls12_handshake *)0)->key_block)];
    bool have_master, have_key_block;
} captured;

static bool nonzero(const uint8_t *p, size_t n) {
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc != 0;
}

static void capture(const certa_conn *c, captured *k) {
    if (c->version != CERTA_TLS12) return;
    if (!k->have_master && nonzero(c->master_secret, TLS12_MASTER_LEN)) {
        memcpy(k->master, c->master_secret, TLS12_MASTER_LEN);
        k->have_master = true;
    }
    if (!k->have_key_block && c->t12 && nonzero(c->t12->key_block, sizeof c->t12->key_block)) {
        memcpy(k->key_block, c->t12->key_block, sizeof k->key_block);
        k->have_key_block = true;
    }
}

/* Moves bytes both ways, one record at a time into certa, capturing its
 * secrets after each. */
static void pump_capturing(certa_conn *c, peer *p, captured *k) {
    uint8_t buf[32768];
    for (int round = 0; round < 50; round++) {
        bool moved = false;
        if (!SSL_is_init_finished(p->ssl)) SSL_do_handshake(p->ssl);
        int n;
        while ((n = BIO_read(p->from_ssl, buf, sizeof buf)) > 0) {
            size_t off = 0;
            while (off < (size_t)n) {
                size_t used = 0, left = (size_t)n - off, one = left;
                if (left >= RECORD_HEADER_LEN)
                    one = RECORD_HEADER_LEN + ((size_t)buf[off + 3] << 8 | buf[off + 4]);
                int r = certa_conn_recv(c, buf + off, one < left ? one : left, &used);
                capture(c, k);
                if (r != 0 || !used) break;
                off += used;
            }
            moved = true;
        }
        const uint8_t *out;
        size_t len = certa_conn_outgoing(c, &out);
        capture(c, k);
        if (len) {
            BIO_write(p->to_ssl, out, (int)len);
            certa_conn_outgoing_done(c, len);
            moved = true;
        }
        if (!moved) break;
    }
}

static hash_alg suite_hash(const char *ossl_suite) {
    return strstr(ossl_suite, "SHA384") ? HASH_SHA384 : HASH_SHA256;
}

static aead_alg suite_aead(const char *ossl_suite) {
    if (strstr(ossl_suite, "CHACHA20")) return AEAD_CHACHA20POLY1305;
    return strstr(ossl_suite, "AES256") ? AEAD_AES256GCM : AEAD_AES128GCM;
}

/* One handshake, certa as client or server, libssl the other side; checks
 * the master secret (EMS or not) and the key block against libssl and the
 * records against libssl's in both directions. */
static void versus_libssl(bool certa_client, const char *suite, bool ems, const char *cert,
                          const char *key) {
    const char *who = certa_client ? "certa client, libssl server" : "libssl client, certa server";
    SSL_CTX *ctx = SSL_CTX_new(certa_client ? TLS_server_method() : TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_cipher_list(ctx, suite);
    if (!ems) SSL_CTX_set_options(ctx, SSL_OP_NO_EXTENDED_MASTER_SECRET);
    if (certa_client) use_pem(ctx, cert, key);
    peer p = ossl_peer(ctx, certa_client);
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS13);
    if (!ems) certa_config_set_require_ems(cfg, false);
    certa_conn *c;
    if (certa_client) {
        certa_config_set_insecure(cfg, true);
        c = certa_client_new(cfg, "localhost");
    } else {
        certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
        certa_config_set_private_key_pem(cfg, key, strlen(key));
        SSL_set_tlsext_host_name(p.ssl, "localhost");
        c = certa_server_new(cfg);
    }
    captured k;
    memset(&k, 0, sizeof k);
    pump_capturing(c, &p, &k);
    bool done = certa_conn_handshake_done(c) && SSL_is_init_finished(p.ssl) &&
                SSL_version(p.ssl) == TLS1_2_VERSION;
    CHECK(done && c->ems == ems && SSL_get_extms_support(p.ssl) == (ems ? 1 : 0),
          "%s, %s, %s: TLS 1.2 handshake, extended master secret %s on both sides: %s", who, suite,
          ems ? "EMS" : "no EMS", ems ? "used" : "not used", certa_conn_error_text(c));
    uint8_t ossl_master[TLS12_MASTER_LEN], cr[32], sr[32];
    size_t ml = SSL_SESSION_get_master_key(SSL_get_session(p.ssl), ossl_master, sizeof ossl_master);
    SSL_get_client_random(p.ssl, cr, sizeof cr);
    SSL_get_server_random(p.ssl, sr, sizeof sr);
    CHECK(done && k.have_master && ml == TLS12_MASTER_LEN &&
              memcmp(k.master, ossl_master, TLS12_MASTER_LEN) == 0,
          "%s, %s: certa's %s master secret equals libssl's", who, suite,
          ems ? "extended (RFC 7627: PRF(pms, \"extended master secret\", session_hash))"
              : "classic (PRF(pms, \"master secret\", client_random || server_random))");
    CHECK(!nonzero(c->master_secret, sizeof c->master_secret) && c->t12 == NULL,
          "%s: the master secret is wiped and the 1.2 handshake state (key block) is freed once "
          "the handshake is complete",
          who);
    /* the key block, recomputed by libcrypto from libssl's master secret */
    hash_alg h = suite_hash(suite);
    aead_alg alg = suite_aead(suite);
    size_t kl = aead_key_len(alg), il = record_tls12_iv_len(alg), kbl = 2 * kl + 2 * il;
    uint8_t kb[sizeof k.key_block];
    bool kb_ok =
        ossl_prf(h, ossl_master, sizeof ossl_master, "key expansion", sr, 32, cr, 32, kb, kbl);
    CHECK(kb_ok && k.have_key_block && memcmp(kb, k.key_block, kbl) == 0,
          "%s, %s: certa's key block (%zu bytes) equals PRF(master, \"key expansion\", "
          "server_random || client_random) from libssl's master secret",
          who, suite, kbl);

    /* records: libssl writes, an independent record_protection keyed from
     * that key block opens; the reverse into libssl. Each side's first
     * protected record was its Finished (sequence number 0). */
    const uint8_t *cw_key = kb, *sw_key = kb + kl, *cw_iv = kb + 2 * kl, *sw_iv = kb + 2 * kl + il;
    const uint8_t *ossl_key = certa_client ? sw_key : cw_key,
                  *ossl_iv = certa_client ? sw_iv : cw_iv;
    const uint8_t *our_key = certa_client ? cw_key : sw_key, *our_iv = certa_client ? cw_iv : sw_iv;
    record_protection rd, wr;
    memset(&rd, 0, sizeof rd);
    memset(&wr, 0, sizeof wr);
    wr.aead.encrypt = true;
    static const char from_ossl[] = "a record sealed by libssl", from_us[] = "a record sealed here";
    bool opened = false, read_back = false;
    if (done && record_set_keys_tls12(&rd, alg, ossl_key, ossl_iv) == 0 &&
        record_set_keys_tls12(&wr, alg, our_key, our_iv) == 0) {
        rd.seq = wr.seq = 1;
        SSL_write(p.ssl, from_ossl, sizeof from_ossl);
        uint8_t rec[512];
        int n = BIO_read(p.from_ssl, rec, sizeof rec);
        uint8_t type;
        size_t plain;
        opened = n > RECORD_HEADER_LEN && rec[0] == CONTENT_APPLICATION_DATA &&
                 (size_t)n == RECORD_HEADER_LEN + ((size_t)rec[3] << 8 | rec[4]) &&
                 record_open(&rd, rec, rec + RECORD_HEADER_LEN, (size_t)n - RECORD_HEADER_LEN,
                             &type, &plain) == 0 &&
                 type == CONTENT_APPLICATION_DATA && plain == sizeof from_ossl &&
                 memcmp(rec + RECORD_HEADER_LEN, from_ossl, plain) == 0;
        builder b;
        bld_init_alloc(&b, 0);
        if (record_write(&wr, &b, CONTENT_APPLICATION_DATA, (const uint8_t *)from_us,
                         sizeof from_us) == 0 &&
            bld_ok(&b)) {
            BIO_write(p.to_ssl, b.buf, (int)b.len);
            char got[64];
            int m = SSL_read(p.ssl, got, sizeof got);
            read_back = m == (int)sizeof from_us && memcmp(got, from_us, sizeof from_us) == 0;
        }
        bld_free(&b);
    }
    CHECK(opened,
          "%s, %s: record_open (keys from the key block, sequence 1) opens libssl's "
          "application data record",
          who, suite);
    CHECK(read_back, "%s, %s: libssl's SSL_read accepts a record from record_write", who, suite);
    record_protection_clear(&rd);
    record_protection_clear(&wr);
    certa_conn_free(c);
    certa_config_free(cfg);
    peer_free(&p);
    SSL_CTX_free(ctx);
}

int main(void) {
    prf_known_answers();
    record_round_trip();
    char *cert, *key;
    if (test_make_cert("p256", "localhost", &cert, &key) != 0) {
        CHECK(0, "test certificate");
        TEST_EXIT();
    }
    static const char *suites[] = {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
                                   "ECDHE-ECDSA-CHACHA20-POLY1305"};
    for (int client = 1; client >= 0; client--) {
        for (size_t i = 0; i < 3; i++)
            versus_libssl(client, suites[i], true, cert, key);
        versus_libssl(client, suites[0], false, cert, key);
        versus_libssl(client, suites[1], false, cert, key);
    }
    free(cert);
    free(key);
    TEST_EXIT();
}
