/* HPKE (RFC 9180) against Appendix A's base-mode vectors: for each suite of
 * our KEMs, KDFs and AEADs the appendix has (A.1-A.5 and A.7's export-only
 * AEAD), DeriveKeyPair for both key pairs, the sender's enc from ikmE, the
 * recipient's context (key, base_nonce, exporter_secret), every encryption
 * (sequence numbers 0, 1, 2, 4, 255, 256: seal on the sender, open on the
 * recipient) and every export on both sides. Then the refusals: a flipped
 * byte in ct, aad or enc; invalid public keys; a P-256 scalar out of range;
 * and a random key pair's round trip. */
#include "crypto/crypto.h"
#include "crypto/hpke.h"
#include "hpke_vectors.h"
#include "testlib.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

static bool hex_eq(const uint8_t *got, size_t n, const char *hex) {
    test_buf want = test_hex(hex);
    return want.n == n && memcmp(got, want.b, n) == 0;
}

/* The context's key, the size RFC 9180 gives Nk. */
static size_t nk_of(unsigned aead) {
    return aead == HPKE_AEAD_AES_128_GCM ? 16 : aead == HPKE_AEAD_EXPORT_ONLY ? 0 : 32;
}

static size_t nh_of(unsigned kdf) {
    return kdf == HPKE_KDF_HKDF_SHA256 ? 32 : kdf == HPKE_KDF_HKDF_SHA384 ? 48 : 64;
}

static void check_vector(const hpke_vector *v) {
    uint16_t kem = (uint16_t)v->kem, kdf = (uint16_t)v->kdf, aead = (uint16_t)v->aead;
    test_buf info = test_hex(v->info), ikm_e = test_hex(v->ikm_e), ikm_r = test_hex(v->ikm_r);
    test_buf pk_rm = test_hex(v->pk_rm), sk_rm = test_hex(v->sk_rm), enc_want = test_hex(v->enc);
    size_t npk = hpke_kem_enc_len(kem);
    uint8_t sk[HPKE_MAX_PRIVATE], pk[HPKE_MAX_ENC];

    CHECK(hpke_kem_supported(kem) && npk == pk_rm.n, "%s: KEM supported, Npk %zu", v->name, npk);
    CHECK(hpke_suite_supported(kdf, aead) == (aead != HPKE_AEAD_EXPORT_ONLY),
          "%s: suite supported for sealing: %s", v->name,
          aead == HPKE_AEAD_EXPORT_ONLY ? "no (export-only)" : "yes");
    CHECK(hpke_derive_keypair(kem, ikm_e.b, ikm_e.n, sk, pk) == 0 && hex_eq(sk, 32, v->sk_em) &&
              hex_eq(pk, npk, v->pk_em),
          "%s: DeriveKeyPair(ikmE) = skEm, pkEm", v->name);
    CHECK(hpke_derive_keypair(kem, ikm_r.b, ikm_r.n, sk, pk) == 0 && hex_eq(sk, 32, v->sk_rm) &&
              hex_eq(pk, npk, v->pk_rm),
          "%s: DeriveKeyPair(ikmR) = skRm, pkRm", v->name);
    CHECK(hpke_public_from_private(kem, sk_rm.b, sk_rm.n, pk) == 0 && hex_eq(pk, npk, v->pk_rm),
          "%s: the public key of skRm is pkRm", v->name);

    hpke_ctx s, r;
    uint8_t enc[HPKE_MAX_ENC];
    CHECK(hpke_setup_base_sender_with_ikm(&s, kem, kdf, aead, pk_rm.b, pk_rm.n, info.b, info.n,
                                          ikm_e.b, ikm_e.n, enc) == 0 &&
              hex_eq(enc, npk, v->enc),
          "%s: SetupBaseS from ikmE gives enc", v->name);
    CHECK(hpke_setup_base_recipient(&r, kem, kdf, aead, enc_want.b, enc_want.n, sk_rm.b, sk_rm.n,
                                    info.b, info.n) == 0,
          "%s: SetupBaseR", v->name);
    size_t nk = nk_of(aead), nh = nh_of(kdf);
    CHECK((nk == 0 ||
           (hex_eq(r.key, nk, v->key) && hex_eq(r.base_nonce, HPKE_NONCE, v->base_nonce))) &&
              hex_eq(r.exporter_secret, nh, v->exporter_secret),
          "%s: recipient's key, base_nonce, exporter_secret", v->name);
    CHECK(memcmp(s.key, r.key, sizeof s.key) == 0 &&
              memcmp(s.base_nonce, r.base_nonce, HPKE_NONCE) == 0 &&
              memcmp(s.exporter_secret, r.exporter_secret, nh) == 0,
          "%s: sender's context equals the recipient's", v->name);

    for (unsigned i = 0; i < v->n_enc; i++) {
        const hpke_enc_vector *e = &v->enc_v[i];
        test_buf pt = test_hex(e->pt), aad = test_hex(e->aad), ct = test_hex(e->ct);
        uint8_t out[256], back[256];
        /* Both contexts are at the vector's sequence number (the messages in
         * between are not in the appendix: the counter is set directly). */
        s.seq = r.seq = e->seq;
        CHECK(hpke_seal(&s, aad.b, aad.n, pt.b, pt.n, out) == 0 &&
                  hex_eq(out, pt.n + HPKE_TAG, e->ct),
              "%s: seal seq %u", v->name, e->seq);
        CHECK(s.seq == e->seq + 1u, "%s: seal advances seq %u", v->name, e->seq);
        test_buf bad = ct;
        bad.b[bad.n - 1] ^= 1;
        CHECK(hpke_open(&r, aad.b, aad.n, bad.b, bad.n, back) == -1 && r.seq == e->seq,
              "%s: open seq %u refuses a flipped tag bit and keeps seq", v->name, e->seq);
        test_buf bad_aad = aad;
        bad_aad.b[0] ^= 0x80;
        CHECK(hpke_open(&r, bad_aad.b, bad_aad.n, ct.b, ct.n, back) == -1,
              "%s: open seq %u refuses another aad", v->name, e->seq);
        CHECK(hpke_open(&r, aad.b, aad.n, ct.b, ct.n, back) == 0 && back[0] == pt.b[0] &&
                  memcmp(back, pt.b, pt.n) == 0 && r.seq == e->seq + 1u,
              "%s: open seq %u gives pt", v->name, e->seq);
    }
    if (aead == HPKE_AEAD_EXPORT_ONLY) {
        uint8_t out[64];
        CHECK(hpke_seal(&s, NULL, 0, (const uint8_t *)"x", 1, out) == -1,
              "%s: an export-only context refuses to seal", v->name);
    }

    for (unsigned i = 0; i < 3; i++) {
        const hpke_export_vector *x = &v->exp_v[i];
        test_buf c = test_hex(x->context);
        uint8_t out1[64], out2[64];
        CHECK(hpke_export(&s, c.b, c.n, out1, x->len) == 0 && hex_eq(out1, x->len, x->value) &&
                  hpke_export(&r, c.b, c.n, out2, x->len) == 0 && hex_eq(out2, x->len, x->value),
              "%s: export %u (context of %zu bytes, L %u) on both sides", v->name, i, c.n, x->len);
    }

    /* A flipped byte in enc: another shared secret (X25519) or not a point (P-256). */
    test_buf enc_bad = enc_want;
    enc_bad.b[enc_bad.n / 2] ^= 0x01;
    hpke_ctx r2;
    int rc = hpke_setup_base_recipient(&r2, kem, kdf, aead, enc_bad.b, enc_bad.n, sk_rm.b, sk_rm.n,
                                       info.b, info.n);
    CHECK(rc == -1 || memcmp(r2.exporter_secret, r.exporter_secret, nh) != 0,
          "%s: a changed enc gives no context or another one", v->name);
    CHECK(hpke_setup_base_recipient(&r2, kem, kdf, aead, enc_want.b, enc_want.n - 1, sk_rm.b,
                                    sk_rm.n, info.b, info.n) == -1,
          "%s: an enc one byte short is refused", v->name);
    hpke_ctx_wipe(&s);
    hpke_ctx_wipe(&r);
    hpke_ctx_wipe(&r2);
    static const uint8_t zeros[sizeof(hpke_ctx)];
    CHECK(memcmp(&s, zeros, sizeof s) == 0 && hpke_export(&s, NULL, 0, sk, 32) == -1,
          "%s: a wiped context is all zeros and exports nothing", v->name);
}

static void check_refusals(void) {
    uint8_t sk[32], pk[65], enc[65], sk2[32], pk2[65];
    hpke_ctx s, r;
    /* P-256: the order n itself and zero are not private keys. */
    test_buf n = test_hex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    uint8_t zero[32] = {0};
    CHECK(hpke_public_from_private(HPKE_KEM_P256_HKDF_SHA256, n.b, n.n, pk) == -1 &&
              hpke_public_from_private(HPKE_KEM_P256_HKDF_SHA256, zero, 32, pk) == -1,
          "P-256: 0 and n are refused as private keys");
    n.b[31] -= 1;
    CHECK(hpke_public_from_private(HPKE_KEM_P256_HKDF_SHA256, n.b, n.n, pk) == 0,
          "P-256: n - 1 is a private key");
    CHECK(hpke_public_from_private(HPKE_KEM_X25519_HKDF_SHA256, zero, 31, pk) == -1,
          "X25519: a 31-byte private key is refused");
    CHECK(!hpke_kem_supported(0x0011) && hpke_kem_enc_len(0x0011) == 0 &&
              !hpke_suite_supported(0x0004, HPKE_AEAD_AES_128_GCM) &&
              !hpke_suite_supported(HPKE_KDF_HKDF_SHA256, 0x0004),
          "P-384 KEM, unknown KDF and AEAD: unsupported");

    /* X25519: a low-order point as enc gives an all-zero DH, refused (§7.1.4). */
    CHECK(hpke_generate_keypair(HPKE_KEM_X25519_HKDF_SHA256, sk, pk) == 0, "X25519 key pair");
    CHECK(hpke_setup_base_recipient(&r, HPKE_KEM_X25519_HKDF_SHA256, HPKE_KDF_HKDF_SHA256,
                                    HPKE_AEAD_AES_128_GCM, zero, 32, sk, 32, NULL, 0) == -1,
          "X25519: the zero point as enc is refused");
    /* P-256: a point off the curve, and a compressed one. */
    CHECK(hpke_generate_keypair(HPKE_KEM_P256_HKDF_SHA256, sk2, pk2) == 0 && pk2[0] == 0x04,
          "P-256 key pair, uncompressed public key");
    uint8_t off[65];
    memcpy(off, pk2, 65);
    off[64] ^= 1;
    CHECK(hpke_setup_base_sender(&s, HPKE_KEM_P256_HKDF_SHA256, HPKE_KDF_HKDF_SHA256,
                                 HPKE_AEAD_AES_128_GCM, off, 65, NULL, 0, enc) == -1,
          "P-256: a point off the curve is refused as pkR");
    off[0] = 0x02;
    CHECK(hpke_setup_base_sender(&s, HPKE_KEM_P256_HKDF_SHA256, HPKE_KDF_HKDF_SHA256,
                                 HPKE_AEAD_AES_128_GCM, pk2, 33, NULL, 0, enc) == -1,
          "P-256: a 33-byte (compressed) pkR is refused");

    /* Random pairs, both KEMs, round trip with an info the size of an ECH one. */
    static const uint16_t kems[2] = {HPKE_KEM_X25519_HKDF_SHA256, HPKE_KEM_P256_HKDF_SHA256};
    uint8_t info[300];
    memset(info, 0x5a, sizeof info);
    for (int k = 0; k < 2; k++) {
        uint8_t *ksk = k == 0 ? sk : sk2, *kpk = k == 0 ? pk : pk2;
        size_t npk = hpke_kem_enc_len(kems[k]);
        uint8_t ct[64 + HPKE_TAG], pt[64];
        const uint8_t msg[] = "ClientHelloInner";
        bool ok =
            hpke_setup_base_sender(&s, kems[k], HPKE_KDF_HKDF_SHA384, HPKE_AEAD_AES_256_GCM, kpk,
                                   npk, info, sizeof info, enc) == 0 &&
            hpke_seal(&s, info, 10, msg, sizeof msg, ct) == 0 &&
            hpke_setup_base_recipient(&r, kems[k], HPKE_KDF_HKDF_SHA384, HPKE_AEAD_AES_256_GCM, enc,
                                      npk, ksk, 32, info, sizeof info) == 0 &&
            hpke_open(&r, info, 10, ct, sizeof msg + HPKE_TAG, pt) == 0 &&
            memcmp(pt, msg, sizeof msg) == 0;
        CHECK(ok, "KEM 0x%04x, HKDF-SHA384, AES-256-GCM: random keys round trip", kems[k]);
        info[0] ^= 1;
        CHECK(hpke_setup_base_recipient(&r, kems[k], HPKE_KDF_HKDF_SHA384, HPKE_AEAD_AES_256_GCM,
                                        enc, npk, ksk, 32, info, sizeof info) == 0 &&
                  hpke_open(&r, info, 10, ct, sizeof msg + HPKE_TAG, pt) == -1,
              "KEM 0x%04x: another info opens nothing", kems[k]);
        info[0] ^= 1;
        CHECK(hpke_open(&r, info, 10, ct, HPKE_TAG - 1, pt) == -1,
              "KEM 0x%04x: a ciphertext shorter than the tag is refused", kems[k]);
        s.seq = UINT64_MAX;
        CHECK(hpke_seal(&s, NULL, 0, msg, 1, ct) == -1,
              "KEM 0x%04x: an exhausted sequence number refuses to seal", kems[k]);
    }
    hpke_ctx_wipe(&s);
    hpke_ctx_wipe(&r);
    crypto_zero(sk, sizeof sk);
    crypto_zero(sk2, sizeof sk2);
}

/* Key files: our PEM is what libcrypto reads as the same key, and a key
 * libcrypto wrote (PKCS#8, and SEC1 for P-256) reads back as its raw bytes. */
static void check_pem(void) {
    static const uint16_t kems[2] = {HPKE_KEM_X25519_HKDF_SHA256, HPKE_KEM_P256_HKDF_SHA256};
    static const char *names[2] = {"X25519", "P-256"};
    for (int k = 0; k < 2; k++) {
        uint8_t sk[32], pk[65], sk2[32];
        uint16_t kem = 0;
        size_t len = 0;
        CHECK(hpke_generate_keypair(kems[k], sk, pk) == 0, "%s: key pair", names[k]);
        char *pem = hpke_private_key_to_pem(kems[k], sk, 32, &len);
        CHECK(pem != NULL && strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0 &&
                  strlen(pem) == len,
              "%s: written as PKCS#8 PEM", names[k]);
        CHECK(pem != NULL && hpke_private_key_from_pem(pem, len, &kem, sk2) == 0 &&
                  kem == kems[k] && memcmp(sk, sk2, 32) == 0,
              "%s: read back: the same KEM and key", names[k]);
        /* libcrypto's reading of our file has our public key. */
        BIO *bio = BIO_new_mem_buf(pem, (int)len);
        EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
        bool same = false;
        if (key != NULL && k == 0) {
            uint8_t pub[32];
            size_t n = sizeof pub;
            same = EVP_PKEY_get_raw_public_key(key, pub, &n) == 1 && n == 32 &&
                   memcmp(pub, pk, 32) == 0;
        } else if (key != NULL) {
            unsigned char *enc = NULL;
            size_t n = EVP_PKEY_get1_encoded_public_key(key, &enc);
            same = n == 65 && memcmp(enc, pk, 65) == 0;
            OPENSSL_free(enc);
        }
        CHECK(same, "%s: libcrypto reads our PEM as the key with our public key", names[k]);
        /* libcrypto writes a SEC1 or PKCS#8 file; we read it. */
        BIO *out = BIO_new(BIO_s_mem());
        char *data = NULL;
        int ok = k == 1 ? PEM_write_bio_PrivateKey_traditional(out, key, NULL, NULL, 0, NULL, NULL)
                        : PEM_write_bio_PrivateKey(out, key, NULL, NULL, 0, NULL, NULL);
        long dn = BIO_get_mem_data(out, &data);
        memset(sk2, 0, 32);
        CHECK(ok == 1 && dn > 0 && hpke_private_key_from_pem(data, (size_t)dn, &kem, sk2) == 0 &&
                  kem == kems[k] && memcmp(sk, sk2, 32) == 0,
              "%s: libcrypto's %s file reads as the same key", names[k],
              k == 1 ? "SEC1" : "PKCS#8");
        BIO_free(out);
        BIO_free(bio);
        EVP_PKEY_free(key);
        crypto_zero(pem, len);
        free(pem);
    }
    /* Another key type: an Ed25519 PKCS#8 file is refused. */
    EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    BIO *out = BIO_new(BIO_s_mem());
    char *data = NULL;
    uint8_t sk[32];
    uint16_t kem;
    long dn = (ed != NULL && PEM_write_bio_PrivateKey(out, ed, NULL, NULL, 0, NULL, NULL) == 1)
                  ? BIO_get_mem_data(out, &data)
                  : 0;
    CHECK(dn > 0 && hpke_private_key_from_pem(data, (size_t)dn, &kem, sk) == -1,
          "an Ed25519 key file is not an HPKE key");
    CHECK(hpke_private_key_from_pem("not a key", 9, &kem, sk) == -1, "text that is not PEM");
    BIO_free(out);
    EVP_PKEY_free(ed);
}

int main(void) {
    for (size_t i = 0; i < sizeof hpke_vectors / sizeof hpke_vectors[0]; i++)
        check_vector(&hpke_vectors[i]);
    check_refusals();
    check_pem();
    return test_failures ? 1 : 0;
}
