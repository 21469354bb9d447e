/* Unit tests for src/crypto: known answers where a standard publishes them
 * (hashes, AEAD, x25519 low-order points, Ed25519, base64), round trips with
 * keys generated here otherwise, and malformed input everywhere. The test
 * itself uses libcrypto only to make keys and to produce an rsa_pkcs1
 * signature (which the library verifies but never makes). */
#include <pthread.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "crypto/crypto.h"
#include "pq/mlkem.h"
#include "testlib.h"

/* ------------------------------------------------------------------ misc */
static void test_misc(void) {
    uint8_t a[32] = {0}, b[32] = {0};
    CHECK(crypto_random(a, sizeof a) == 0 && crypto_random(b, sizeof b) == 0, "random bytes");
    CHECK(memcmp(a, b, 32) != 0, "two 32-byte random draws differ");
    CHECK(crypto_random(a, 0) == 0, "zero-length random draw");
    crypto_zero(a, sizeof a);
    CHECK(memcmp(a, (uint8_t[32]){0}, 32) == 0, "crypto_zero clears the buffer");

    uint8_t x[5] = {1, 2, 3, 4, 5}, y[5] = {1, 2, 3, 4, 5};
    CHECK(crypto_equal_ct(x, y, 5), "equal_ct: equal buffers");
    y[4] ^= 0x80;
    CHECK(!crypto_equal_ct(x, y, 5), "equal_ct: last byte differs");
    y[4] ^= 0x80;
    y[0] ^= 1;
    CHECK(!crypto_equal_ct(x, y, 5), "equal_ct: first byte differs");
    CHECK(crypto_equal_ct(x, y, 0), "equal_ct: empty ranges are equal");
}

/* ---------------------------------------------------------------- hashes */
static void test_hashes(void) {
    static const struct {
        hash_alg h;
        size_t len;
        const char *abc;
    } v[] = {
        {HASH_SHA256, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {HASH_SHA384, 48,
         "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
         "8086072ba1e7cc2358baeca134c825a7"},
        {HASH_SHA512, 64,
         "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
         "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
        {HASH_SHA1, 20, "a9993e364706816aba3e25717850c26c9cd0d89d"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        uint8_t out[CRYPTO_MAX_HASH], cur[CRYPTO_MAX_HASH], cur2[CRYPTO_MAX_HASH];
        CHECK(hash_len(v[i].h) == v[i].len, "hash %zu: length %zu", i, v[i].len);
        CHECK(hash_oneshot(v[i].h, (const uint8_t *)"abc", 3, out) == 0, "hash %zu: one-shot", i);
        CHECK_HEX(out, v[i].len, v[i].abc, "hash %zu: FIPS 180 \"abc\" known answer", i);

        /* A transcript: current() does not end it, and pieces add up. */
        transcript t;
        CHECK(transcript_init(&t, v[i].h) == 0, "hash %zu: transcript init", i);
        CHECK(transcript_update(&t, (const uint8_t *)"a", 1) == 0, "hash %zu: update a", i);
        CHECK(transcript_current(&t, cur) == 0, "hash %zu: current after \"a\"", i);
        CHECK(transcript_update(&t, NULL, 0) == 0, "hash %zu: empty update", i);
        CHECK(transcript_update(&t, (const uint8_t *)"bc", 2) == 0, "hash %zu: update bc", i);
        CHECK(transcript_current(&t, cur) == 0 && transcript_current(&t, cur2) == 0,
              "hash %zu: current twice", i);
        CHECK_HEX(cur, v[i].len, v[i].abc, "hash %zu: transcript equals one-shot", i);
        CHECK(memcmp(cur, cur2, v[i].len) == 0, "hash %zu: current() is repeatable", i);
        transcript_free(&t);
        transcript_free(&t); /* idempotent */
    }
    uint8_t out[CRYPTO_MAX_HASH];
    transcript t;
    CHECK(hash_len(HASH_COUNT) == 0, "unknown hash has no length");
    CHECK(hash_oneshot(HASH_COUNT, (const uint8_t *)"abc", 3, out) != 0, "unknown hash refused");
    CHECK(transcript_init(&t, HASH_COUNT) != 0, "unknown transcript hash refused");
    CHECK(transcript_update(&t, (const uint8_t *)"a", 1) != 0, "update of a failed transcript");
    CHECK(transcript_current(&t, out) != 0, "current of a failed transcript");
}

/* ------------------------------------------------------------- HKDF-Label */
static void test_expand_label(void) {
    uint8_t secret[48] = {7}, out[64];
    char label[300];
    memset(label, 'a', sizeof label);
    label[249] = '\0'; /* "tls13 " + 249 = 255: the longest allowed */
    CHECK(hkdf_expand_label(HASH_SHA256, secret, label, NULL, 0, out, 32) == 0,
          "expand_label: 255-byte full label accepted");
    label[249] = 'a';
    label[250] = '\0';
    CHECK(hkdf_expand_label(HASH_SHA256, secret, label, NULL, 0, out, 32) != 0,
          "expand_label: 256-byte full label refused");
    uint8_t ctx[256] = {0};
    CHECK(hkdf_expand_label(HASH_SHA256, secret, "x", ctx, 255, out, 32) == 0,
          "expand_label: 255-byte context accepted");
    CHECK(hkdf_expand_label(HASH_SHA256, secret, "x", ctx, 256, out, 32) != 0,
          "expand_label: 256-byte context refused");
    CHECK(hkdf_expand_label(HASH_SHA256, secret, NULL, NULL, 0, out, 32) != 0,
          "expand_label: NULL label refused");

    /* Expand-Label must equal HKDF-Expand with the HkdfLabel built by hand. */
    uint8_t a[16], b[16];
    static const uint8_t info[] = {0x00, 0x10, 0x09, 't', 'l', 's', '1',
                                   '3',  ' ',  'k',  'e', 'y', 0x00};
    CHECK(hkdf_expand_label(HASH_SHA384, secret, "key", NULL, 0, a, 16) == 0 &&
              hkdf_expand(HASH_SHA384, secret, 48, info, sizeof info, b, 16) == 0,
          "expand_label SHA-384 and expand agree (run)");
    CHECK(memcmp(a, b, 16) == 0, "expand_label builds the RFC 8446 HkdfLabel");
}

/* ------------------------------------------------------------------ AEAD */
static void aead_kat(const char *name, aead_alg alg, const char *key_hex, const char *nonce_hex,
                     const char *aad_hex, const char *pt_hex, const char *ct_hex,
                     const char *tag_hex) {
    test_buf key = test_hex(key_hex), nonce = test_hex(nonce_hex), aad = test_hex(aad_hex);
    test_buf pt = test_hex(pt_hex), ct = test_hex(ct_hex), tag = test_hex(tag_hex);
    uint8_t out[512], back[512];
    aead_ctx e, d;
    CHECK(key.n == aead_key_len(alg), "%s: key length", name);
    CHECK(aead_init(&e, alg, key.b, true) == 0 && aead_init(&d, alg, key.b, false) == 0, "%s: init",
          name);
    CHECK(aead_seal(&e, nonce.b, aad.b, aad.n, pt.b, pt.n, out) == 0, "%s: seal", name);
    CHECK(memcmp(out, ct.b, ct.n) == 0 && memcmp(out + pt.n, tag.b, 16) == 0,
          "%s: ciphertext and tag are the known answer", name);
    CHECK(aead_open(&d, nonce.b, aad.b, aad.n, out, pt.n + 16, back) == 0, "%s: open", name);
    CHECK(memcmp(back, pt.b, pt.n) == 0, "%s: open gives the plaintext", name);

    /* Every kind of tampering fails with -1 and leaves no plaintext. */
    out[0] ^= 1;
    memset(back, 0x55, sizeof back);
    CHECK(aead_open(&d, nonce.b, aad.b, aad.n, out, pt.n + 16, back) == -1,
          "%s: flipped ciphertext bit -> -1", name);
    CHECK(back[0] == 0 && back[pt.n - 1] == 0, "%s: failed open zeroes the output", name);
    out[0] ^= 1;
    out[pt.n + 15] ^= 0x80;
    CHECK(aead_open(&d, nonce.b, aad.b, aad.n, out, pt.n + 16, back) == -1,
          "%s: flipped tag bit -> -1", name);
    out[pt.n + 15] ^= 0x80;
    if (aad.n > 0) {
        aad.b[0] ^= 1;
        CHECK(aead_open(&d, nonce.b, aad.b, aad.n, out, pt.n + 16, back) == -1,
              "%s: changed AAD -> -1", name);
        aad.b[0] ^= 1;
    }
    nonce.b[11] ^= 1;
    CHECK(aead_open(&d, nonce.b, aad.b, aad.n, out, pt.n + 16, back) == -1, "%s: other nonce -> -1",
          name);
    nonce.b[11] ^= 1;
    CHECK(aead_open(&d, nonce.b, aad.b, aad.n, out, pt.n + 15, back) == -1,
          "%s: truncated record -> -1", name);
    CHECK(aead_open(&d, nonce.b, aad.b, aad.n, out, 15, back) == -1, "%s: shorter than a tag -> -1",
          name);
    CHECK(aead_open(&d, nonce.b, aad.b, aad.n, out, pt.n + 16, back) == 0,
          "%s: the untampered record still opens", name);

    /* In place, both directions. */
    uint8_t io[512];
    memcpy(io, pt.b, pt.n);
    CHECK(aead_seal(&e, nonce.b, aad.b, aad.n, io, pt.n, io) == 0, "%s: seal in place", name);
    CHECK(memcmp(io, ct.b, ct.n) == 0 && memcmp(io + pt.n, tag.b, 16) == 0,
          "%s: in-place seal is the known answer", name);
    CHECK(aead_open(&d, nonce.b, aad.b, aad.n, io, pt.n + 16, io) == 0, "%s: open in place", name);
    CHECK(memcmp(io, pt.b, pt.n) == 0, "%s: in-place open gives the plaintext", name);

    /* Direction is fixed at init. */
    CHECK(aead_seal(&d, nonce.b, aad.b, aad.n, pt.b, pt.n, out) != 0,
          "%s: a decrypt context refuses to seal", name);
    CHECK(aead_open(&e, nonce.b, aad.b, aad.n, io, pt.n + 16, back) == -2,
          "%s: an encrypt context refuses to open (-2)", name);
    aead_free(&e);
    aead_free(&d);
    aead_free(&d); /* idempotent */
}

static void test_aead(void) {
    /* RFC 8439 §2.8.2 */
    aead_kat("ChaCha20-Poly1305 RFC 8439 2.8.2", AEAD_CHACHA20POLY1305,
             "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
             "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
             "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
             "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
             "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
             "637265656e20776f756c642062652069742e",
             "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
             "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
             "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
             "3ff4def08e4b7a9de576d26586cec64b6116",
             "1ae10b594f09e26a7e902ecbd0600691");
    /* The Galois/Counter Mode spec (McGrew & Viega), test cases 3, 4 and 16. */
    static const char *gcm_pt = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                                "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
    aead_kat("AES-128-GCM test case 3", AEAD_AES128GCM, "feffe9928665731c6d6a8f9467308308",
             "cafebabefacedbaddecaf888", "", gcm_pt,
             "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
             "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
             "4d5c2af327cd64a62cf35abd2ba6fab4");
    static const char *gcm_pt60 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
                                  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39";
    aead_kat("AES-128-GCM test case 4", AEAD_AES128GCM, "feffe9928665731c6d6a8f9467308308",
             "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", gcm_pt60,
             "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
             "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
             "5bc94fbc3221a5db94fae95ae7121a47");
    aead_kat("AES-256-GCM test case 16", AEAD_AES256GCM,
             "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
             "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", gcm_pt60,
             "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
             "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
             "76fc6ece0f4e1768cddf8853bb2d551b");

    /* AES-128-CCM, 12-byte nonce, 16-byte tag: Wycheproof aes_ccm_test.json
     * (ivSize 96, tagSize 128), tcId 2, 9, 11 and 34. */
    aead_kat("AES-128-CCM Wycheproof 2", AEAD_AES128CCM, "384ea416ac3c2f51a76e7d8226346d4e",
             "b30c084727ad1c592ac21d12", "", "35", "d7", "6be3fd13b7065afc19e3b8a3b96b39fb");
    aead_kat("AES-128-CCM Wycheproof 9", AEAD_AES128CCM, "42e38abef2dd7573248c5aefb3ecca54",
             "064b3cfbe04d94d4d5c19b30", "",
             "2c763b9ec84903bcbb8aec15e678a3a955e4870edbf62d9d3c81c4f9ed6154877875779ca33cce8f"
             "73a55ca7af1d8d817fc6baac00ef962c5a0da339ce81427a3d59",
             "4ca01b5b2a5e57bcc1a4b7f63f049dc477e3ee2e5c268efb346ff95b7dcd67f86ed0f11bb17c1dd7"
             "fb511d2f37b9684550c0d84be0f10030ccc4e0de5b74ef92ea54",
             "c5a57dd6fa16aa9de8de20e6bd321396");
    aead_kat("AES-128-CCM Wycheproof 11", AEAD_AES128CCM, "9415f925bcb41dc25e86c826dbc8bf68",
             "bdffaa763b916ff0ee3f3ce4", "705d676cd8a94451", "feb36167eafc02c8e2bd6e13817686ba",
             "08db327a88be7b48f430fd7bfccdf502", "b7c249f810adacf99abded1f3b9130f2");
    aead_kat("AES-128-CCM Wycheproof 34", AEAD_AES128CCM, "875b0b4a84150524eb1f50f9d8de1388",
             "fdc5014ed1ad706129d57322", "35a6d9829c8449c4402e385cc5c6fe98",
             "2f575dfb2dbe9d238de576fc63e4ac32", "3469c3ff738aa32aacc1ac48d89b1d75",
             "fa68720a3171a54c4b3690bffde7b610");
    /* ... and tcId 1 and 10: an empty message, the tag alone. */
    static const struct {
        const char *key, *nonce, *aad, *tag;
    } ccm_empty[] = {
        {"bedcfb5a011ebc84600fcb296c15af0d", "438a547a94ea88dce46c6c85", "",
         "25d1a38495a7dea45bda049705627d10"},
        {"59ab7ec1c02bb206af5a9131f1134311", "5508f5cea197386986d92dbe", "a43d39f78a2e9a8a",
         "09ec70faae333537a7314929ddfb525b"},
    };
    for (size_t i = 0; i < 2; i++) {
        test_buf k = test_hex(ccm_empty[i].key), n = test_hex(ccm_empty[i].nonce);
        test_buf ad = test_hex(ccm_empty[i].aad), tag = test_hex(ccm_empty[i].tag);
        aead_ctx e, d;
        uint8_t out[16];
        CHECK(aead_init(&e, AEAD_AES128CCM, k.b, true) == 0 &&
                  aead_init(&d, AEAD_AES128CCM, k.b, false) == 0 &&
                  aead_seal(&e, n.b, ad.b, ad.n, NULL, 0, out) == 0 && memcmp(out, tag.b, 16) == 0,
              "AES-128-CCM Wycheproof %s: empty message, the tag is the known answer",
              i ? "10" : "1");
        CHECK(aead_open(&d, n.b, ad.b, ad.n, tag.b, 16, NULL) == 0,
              "AES-128-CCM Wycheproof %s: the tag opens", i ? "10" : "1");
        tag.b[0] ^= 0x40;
        CHECK(aead_open(&d, n.b, ad.b, ad.n, tag.b, 16, NULL) == -1,
              "AES-128-CCM Wycheproof %s: a flipped tag bit -> -1", i ? "10" : "1");
        aead_free(&e);
        aead_free(&d);
    }

    /* Empty plaintext (a record with only a tag) and many records on one
     * keyed context, for each algorithm. */
    for (aead_alg alg = 0; alg < AEAD_COUNT; alg++) {
        uint8_t key[32], nonce[12] = {0}, tag_only[16], msg[300], sealed[316], back[300];
        crypto_random(key, sizeof key);
        aead_ctx e, d;
        CHECK(aead_init(&e, alg, key, true) == 0 && aead_init(&d, alg, key, false) == 0,
              "alg %d: init", (int)alg);
        CHECK(aead_seal(&e, nonce, NULL, 0, NULL, 0, tag_only) == 0, "alg %d: seal empty",
              (int)alg);
        CHECK(aead_open(&d, nonce, NULL, 0, tag_only, 16, NULL) == 0, "alg %d: open empty",
              (int)alg);
        tag_only[3] ^= 4;
        CHECK(aead_open(&d, nonce, NULL, 0, tag_only, 16, NULL) == -1,
              "alg %d: empty record with a bad tag -> -1", (int)alg);
        int ok = 1;
        for (int seq = 0; seq < 50; seq++) {
            nonce[11] = (uint8_t)seq;
            size_t len = (size_t)seq * 6;
            for (size_t i = 0; i < len; i++)
                msg[i] = (uint8_t)(i * 7 + (size_t)seq);
            uint8_t aad[5] = {0x17, 3, 3, (uint8_t)((len + 16) >> 8), (uint8_t)(len + 16)};
            if (aead_seal(&e, nonce, aad, 5, msg, len, sealed) != 0 ||
                aead_open(&d, nonce, aad, 5, sealed, len + 16, back) != 0 ||
                memcmp(back, msg, len) != 0)
                ok = 0;
        }
        CHECK(ok, "alg %d: 50 records of growing size round-trip on one context", (int)alg);
        /* A gathered plaintext (record content + content type byte, as the
         * record layer seals it) is the same record as the contiguous one. */
        static const uint8_t type = 0x17;
        uint8_t joined[301], one[317], two[317];
        memcpy(joined, msg, 200);
        joined[200] = type;
        CHECK(aead_seal(&e, nonce, NULL, 0, joined, 201, one) == 0 &&
                  aead_seal_gather(&e, nonce, NULL, 0, msg, 200, &type, 1, two) == 0 &&
                  memcmp(one, two, 217) == 0,
              "alg %d: seal_gather(in, tail) = seal(in || tail)", (int)alg);
        memcpy(two, msg, 200); /* in place: in is out */
        CHECK(aead_seal_gather(&e, nonce, NULL, 0, two, 200, &type, 1, two) == 0 &&
                  memcmp(one, two, 217) == 0,
              "alg %d: seal_gather in place", (int)alg);
        CHECK(aead_rekey(&d, alg, key, false) == 0 &&
                  aead_open(&d, nonce, NULL, 0, two, 217, back) == 0 &&
                  memcmp(back, joined, 201) == 0,
              "alg %d: rekeyed context opens it", (int)alg);
        aead_free(&e);
        aead_free(&d);
    }
    aead_ctx bad;
    uint8_t key[32] = {0};
    CHECK(aead_key_len(AEAD_AES128GCM) == 16 && aead_key_len(AEAD_AES256GCM) == 32 &&
              aead_key_len(AEAD_CHACHA20POLY1305) == 32 && aead_key_len(AEAD_AES128CCM) == 16 &&
              aead_key_len(AEAD_COUNT) == 0,
          "AEAD key lengths");
    CHECK(aead_init(&bad, AEAD_COUNT, key, true) != 0, "unknown AEAD refused");
    CHECK(aead_init(&bad, AEAD_AES128GCM, NULL, true) != 0, "AEAD without a key refused");
}

/* ---------------------------------------------------------- key exchange */
/* The FFDHE secret as plain modular arithmetic: peer_y ^ x mod p, padded to
 * the size of p — an independent check of kex_derive's padding. */
static bool ffdhe_secret_by_bn(kex_state *k, const uint8_t *peer, size_t len, uint8_t *out) {
    BIGNUM *x = NULL, *p = NULL, *y = BN_bin2bn(peer, (int)len, NULL), *s = BN_new();
    BN_CTX *bc = BN_CTX_new();
    bool ok = y && s && bc &&
              EVP_PKEY_get_bn_param(kex_state_dh_key(k), OSSL_PKEY_PARAM_PRIV_KEY, &x) == 1 &&
              EVP_PKEY_get_bn_param(kex_state_dh_key(k), OSSL_PKEY_PARAM_FFC_P, &p) == 1 &&
              BN_mod_exp(s, y, x, p, bc) == 1 && BN_bn2binpad(s, out, (int)len) == (int)len;
    BN_clear_free(x);
    BN_free(p);
    BN_free(y);
    BN_clear_free(s);
    BN_CTX_free(bc);
    return ok;
}

/* RFC 7919 groups in TLS 1.3 (RFC 8446 4.2.8.1, 7.4.1). */
static void test_ffdhe(void) {
    static const struct {
        uint16_t id;
        size_t len;
    } ff[] = {{0x0100, 256}, {0x0101, 384}, {0x0102, 512}, {0x0103, 768}, {0x0104, 1024}};
    for (size_t g = 0; g < 5; g++) {
        uint16_t id = ff[g].id;
        size_t n = ff[g].len;
        kex_state *a = NULL, *b = NULL;
        uint8_t pa[CRYPTO_MAX_PUBKEY], pb[CRYPTO_MAX_PUBKEY], sa[CRYPTO_MAX_SHARED],
            sb[CRYPTO_MAX_SHARED], bn[CRYPTO_MAX_SHARED];
        size_t la = 0, lb = 0, na = 0, nb = 0;
        CHECK(kex_group_supported(id) && kex_group_is_ffdhe(id), "ffdhe 0x%04x supported", id);
        CHECK(kex_generate(id, &a, pa, &la) == 0 && kex_generate(id, &b, pb, &lb) == 0,
              "ffdhe 0x%04x: two key pairs", id);
        CHECK(la == n && lb == n, "ffdhe 0x%04x: the share is the size of p (%zu bytes)", id, n);
        CHECK(kex_derive(id, a, pb, lb, sa, &na) == 0 && kex_derive(id, b, pa, la, sb, &nb) == 0 &&
                  na == n && nb == n && memcmp(sa, sb, n) == 0,
              "ffdhe 0x%04x: both sides derive the same %zu-byte secret", id, n);
        CHECK(ffdhe_secret_by_bn(a, pb, lb, bn) && memcmp(bn, sa, n) == 0,
              "ffdhe 0x%04x: the secret is y^x mod p", id);

        /* 1 < Y < p-1, and exactly the size of p. */
        uint8_t y[CRYPTO_MAX_PUBKEY];
        memset(y, 0, n);
        CHECK(kex_derive(id, a, y, n, sa, &na) != 0, "ffdhe 0x%04x: Y = 0 refused", id);
        y[n - 1] = 1;
        CHECK(kex_derive(id, a, y, n, sa, &na) != 0, "ffdhe 0x%04x: Y = 1 refused", id);
        y[n - 1] = 2;
        CHECK(kex_derive(id, a, y, n, sa, &na) == 0, "ffdhe 0x%04x: Y = 2 accepted", id);
        memset(y, 0xff, n);
        CHECK(kex_derive(id, a, y, n, sa, &na) != 0, "ffdhe 0x%04x: Y = 2^k - 1 > p refused", id);
        BIGNUM *p = NULL;
        CHECK(EVP_PKEY_get_bn_param(kex_state_dh_key(a), OSSL_PKEY_PARAM_FFC_P, &p) == 1 &&
                  BN_bn2binpad(p, y, (int)n) == (int)n && y[n - 1] == 0xff,
              "ffdhe 0x%04x: p read back (it ends in 64 one bits)", id);
        BN_free(p);
        CHECK(kex_derive(id, a, y, n, sa, &na) != 0, "ffdhe 0x%04x: Y = p refused", id);
        y[n - 1] = 0xfe;
        CHECK(kex_derive(id, a, y, n, sa, &na) != 0, "ffdhe 0x%04x: Y = p - 1 refused", id);
        y[n - 1] = 0xfd;
        CHECK(kex_derive(id, a, y, n, sa, &na) == 0, "ffdhe 0x%04x: Y = p - 2 accepted", id);
        CHECK(kex_derive(id, a, pb + 1, lb - 1, sa, &na) != 0,
              "ffdhe 0x%04x: an unpadded (short) share refused", id);
        CHECK(kex_derive(0x001d, a, pb, lb, sa, &na) != 0,
              "ffdhe 0x%04x: its key used as x25519 refused", id);
        kex_free(a);
        kex_free(b);
    }

    /* A secret whose first byte is zero keeps it (TLS 1.2's DH strips it;
     * TLS 1.3 does not). About 1 in 256 exchanges has one: try up to 4096. */
    kex_state *peer = NULL, *k = NULL;
    uint8_t pp[CRYPTO_MAX_PUBKEY], pk[CRYPTO_MAX_PUBKEY], s[CRYPTO_MAX_SHARED],
        bn[CRYPTO_MAX_SHARED];
    size_t lp = 0, lk = 0, ls = 0;
    bool found = false, all_ok = kex_generate(0x0100, &peer, pp, &lp) == 0;
    for (int i = 0; all_ok && !found && i < 4096; i++) {
        all_ok =
            kex_generate(0x0100, &k, pk, &lk) == 0 && kex_derive(0x0100, k, pp, lp, s, &ls) == 0;
        if (all_ok && s[0] == 0) {
            found = true;
            CHECK(ls == 256 && ffdhe_secret_by_bn(k, pp, lp, bn) && memcmp(bn, s, 256) == 0,
                  "ffdhe2048: a secret with a leading zero byte is kept at 256 bytes");
        }
        kex_free(k);
        k = NULL;
    }
    CHECK(all_ok && found, "ffdhe2048: an exchange with a leading zero byte was seen");
    kex_free(peer);
}

/* The post-quantum hybrids (draft-ietf-tls-ecdhe-mlkem): sizes, the order
 * of the halves (checked against ML-KEM decapsulation and libcrypto's own
 * ECDH on the parts), and each malformed share refused. */
static void test_hybrid(void) {
    static const struct {
        uint16_t id;
        const char *name;
        mlkem_kind kem;
        size_t ecdh_len, ecdh_secret, client_len, server_len, secret_len;
        bool kem_first;
    } hy[] = {
        {0x11ec, "X25519MLKEM768", MLKEM768, 32, 32, 1216, 1120, 64, true},
        {0x11eb, "SecP256r1MLKEM768", MLKEM768, 65, 32, 1249, 1153, 64, false},
        {0x11ed, "SecP384r1MLKEM1024", MLKEM1024, 97, 48, 1665, 1665, 80, false},
    };
    for (size_t g = 0; g < sizeof hy / sizeof hy[0]; g++) {
        uint16_t id = hy[g].id;
        const char *nm = hy[g].name;
        size_t ek_len = mlkem_ek_bytes(hy[g].kem), ct_len = mlkem_ct_bytes(hy[g].kem);
        kex_state *cl = NULL;
        uint8_t cs[CRYPTO_MAX_PUBKEY], ss_[CRYPTO_MAX_PUBKEY], s1[CRYPTO_MAX_SHARED],
            s2[CRYPTO_MAX_SHARED], bad[CRYPTO_MAX_PUBKEY + 1];
        size_t cl_len = 0, sv_len = 0, n1 = 0, n2 = 0;
        CHECK(kex_group_supported(id) && kex_group_is_hybrid(id) && kex_group_tls13_only(id),
              "%s: a TLS 1.3-only hybrid", nm);
        CHECK(kex_generate(id, &cl, cs, &cl_len) == 0 && cl_len == hy[g].client_len,
              "%s: client share %zu bytes", nm, cl_len);
        CHECK(kex_respond(id, cs, cl_len, ss_, &sv_len, s1, &n1) == 0 &&
                  sv_len == hy[g].server_len && n1 == hy[g].secret_len,
              "%s: server share %zu bytes, secret %zu bytes", nm, sv_len, n1);
        CHECK(kex_derive(id, cl, ss_, sv_len, s2, &n2) == 0 && n2 == n1 && !memcmp(s1, s2, n1),
              "%s: both sides derive the same secret", nm);

        /* The ML-KEM half: decapsulating the server's ciphertext with the
         * client's prepared key gives the secret's ML-KEM part. */
        const uint8_t *ct = hy[g].kem_first ? ss_ : ss_ + hy[g].ecdh_len;
        uint8_t k[32];
        CHECK(mlkem_decaps_prepared(kex_state_kem_key(cl), ct, k) == 0 &&
                  !memcmp(k, hy[g].kem_first ? s1 : s1 + hy[g].ecdh_secret, 32),
              "%s: ML-KEM part of the secret = Decaps(prepared dk, ct), %s", nm,
              hy[g].kem_first ? "first" : "after the ECDH part");
        /* The ECDH half, with libcrypto directly. */
        const uint8_t *srv_ecdh = hy[g].kem_first ? ss_ + ct_len : ss_;
        EVP_PKEY *ours = kex_state_dh_key(cl), *peer = EVP_PKEY_new();
        uint8_t dh[66];
        size_t dh_len = sizeof dh;
        EVP_PKEY_CTX *dc = EVP_PKEY_CTX_new(ours, NULL);
        bool dh_ok = peer && EVP_PKEY_copy_parameters(peer, ours) == 1 &&
                     EVP_PKEY_set1_encoded_public_key(peer, srv_ecdh, hy[g].ecdh_len) == 1 && dc &&
                     EVP_PKEY_derive_init(dc) == 1 && EVP_PKEY_derive_set_peer(dc, peer) == 1 &&
                     EVP_PKEY_derive(dc, dh, &dh_len) == 1 && dh_len == hy[g].ecdh_secret;
        CHECK(dh_ok && !memcmp(dh, hy[g].kem_first ? s1 + 32 : s1, dh_len),
              "%s: ECDH part of the secret matches libcrypto's, %s", nm,
              hy[g].kem_first ? "last" : "first");
        EVP_PKEY_CTX_free(dc);
        EVP_PKEY_free(peer);

        /* The classical share beside it: the hybrid's own ECDH key, reused,
         * still usable once the hybrid state is gone. */
        uint16_t ecdh = id == 0x11ec ? 0x001d : id == 0x11eb ? 0x0017 : 0x0018;
        kex_state *side = NULL;
        uint8_t sp[CRYPTO_MAX_PUBKEY], sa[CRYPTO_MAX_PUBKEY], x1[CRYPTO_MAX_SHARED],
            x2[CRYPTO_MAX_SHARED];
        size_t sp_len = 0, sa_len = 0, x1_len = 0, x2_len = 0;
        CHECK(kex_generate_beside(ecdh, cl, &side, sp, &sp_len) == 0 && side != NULL &&
                  sp_len == hy[g].ecdh_len &&
                  !memcmp(sp, hy[g].kem_first ? cs + ek_len : cs, sp_len) &&
                  kex_state_dh_key(side) == kex_state_dh_key(cl),
              "%s: the share beside it (0x%04x) reuses its ECDH key", nm, ecdh);
        CHECK(kex_respond(ecdh, sp, sp_len, sa, &sa_len, x1, &x1_len) == 0 &&
                  kex_derive(ecdh, side, sa, sa_len, x2, &x2_len) == 0 && x1_len == x2_len &&
                  !memcmp(x1, x2, x1_len),
              "%s: the share beside it makes a working exchange", nm);
        kex_state *other = NULL;
        CHECK(kex_generate_beside(0x001e, cl, &other, sp, &sp_len) == 0 && sp_len == 56 &&
                  kex_state_dh_key(other) != kex_state_dh_key(cl),
              "%s: a share of another group beside it gets a fresh key", nm);
        kex_free(other);

        /* Malformed client shares: the server refuses (illegal_parameter). */
        memcpy(bad, cs, cl_len);
        CHECK(kex_respond(id, bad, cl_len - 1, ss_, &sv_len, s1, &n1) == KEX_BAD_PEER &&
                  kex_respond(id, bad, cl_len + 1, ss_, &sv_len, s1, &n1) == KEX_BAD_PEER &&
                  kex_respond(id, bad, 0, ss_, &sv_len, s1, &n1) == KEX_BAD_PEER,
              "%s: client shares one byte short, one long, empty: refused", nm);
        uint8_t *ek = hy[g].kem_first ? bad : bad + hy[g].ecdh_len;
        ek[0] = 0xff; /* the first 12-bit coefficient of t-hat becomes 0x?ff / 4095 >= q */
        ek[1] |= 0x0f;
        CHECK(kex_respond(id, bad, cl_len, ss_, &sv_len, s1, &n1) == KEX_BAD_PEER,
              "%s: an encapsulation key failing the FIPS 203 7.2 modulus check: refused", nm);
        memcpy(bad, cs, cl_len);
        uint8_t *ec = hy[g].kem_first ? bad + ek_len : bad;
        memset(ec, 0, hy[g].ecdh_len);
        if (!hy[g].kem_first) ec[0] = 0x04; /* (0, 0): not on the curve */
        CHECK(kex_respond(id, bad, cl_len, ss_, &sv_len, s1, &n1) == KEX_BAD_PEER,
              "%s: an all-zero ECDH half: refused", nm);

        /* Malformed server shares: the client refuses, except a tampered
         * ciphertext, which implicit rejection turns into another secret. */
        CHECK(kex_respond(id, cs, cl_len, ss_, &sv_len, s1, &n1) == 0, "%s: a new answer", nm);
        memcpy(bad, ss_, sv_len);
        CHECK(kex_derive(id, cl, bad, sv_len - 1, s2, &n2) != 0 &&
                  kex_derive(id, cl, bad, sv_len + 1, s2, &n2) != 0,
              "%s: server shares of the wrong length: refused", nm);
        bad[hy[g].kem_first ? 5 : hy[g].ecdh_len + 5] ^= 1;
        CHECK(kex_derive(id, cl, bad, sv_len, s2, &n2) == 0 && n2 == n1 && memcmp(s1, s2, n1) != 0,
              "%s: a tampered ciphertext derives another secret (implicit rejection)", nm);
        memcpy(bad, ss_, sv_len);
        ec = hy[g].kem_first ? bad + ct_len : bad;
        memset(ec, 0, hy[g].ecdh_len);
        if (!hy[g].kem_first) ec[0] = 0x04;
        CHECK(kex_derive(id, cl, bad, sv_len, s2, &n2) != 0,
              "%s: an all-zero ECDH half in the server's share: refused", nm);
        kex_free(cl);
        CHECK(kex_derive(ecdh, side, sa, sa_len, x2, &x2_len) == 0 && !memcmp(x1, x2, x1_len),
              "%s: the share beside it outlives the hybrid state", nm);
        kex_free(side);
    }
}

static void test_kex(void) {
    static const struct {
        uint16_t id;
        size_t pub_len, secret_len;
    } groups[] = {
        {0x001d, 32, 32}, {0x0017, 65, 32}, {0x0018, 97, 48}, {0x0019, 133, 66}, {0x001e, 56, 56}};
    const size_t ngroups = sizeof groups / sizeof groups[0];
    for (size_t g = 0; g < ngroups; g++) {
        uint16_t id = groups[g].id;
        kex_state *a = NULL, *b = NULL;
        uint8_t pa[CRYPTO_MAX_PUBKEY], pb[CRYPTO_MAX_PUBKEY];
        uint8_t sa[CRYPTO_MAX_SHARED], sb[CRYPTO_MAX_SHARED];
        size_t la = 0, lb = 0, na = 0, nb = 0;
        CHECK(kex_group_supported(id), "group 0x%04x supported", id);
        CHECK(kex_generate(id, &a, pa, &la) == 0 && kex_generate(id, &b, pb, &lb) == 0,
              "group 0x%04x: two key pairs", id);
        CHECK(la == groups[g].pub_len && lb == groups[g].pub_len,
              "group 0x%04x: key_share is %zu bytes", id, groups[g].pub_len);
        bool ecx = id == 0x001d || id == 0x001e;
        CHECK(ecx || (pa[0] == 0x04 && pb[0] == 0x04), "group 0x%04x: uncompressed point form", id);
        CHECK(memcmp(pa, pb, la) != 0, "group 0x%04x: the two shares differ", id);
        CHECK(kex_derive(id, a, pb, lb, sa, &na) == 0 && kex_derive(id, b, pa, la, sb, &nb) == 0,
              "group 0x%04x: both sides derive", id);
        CHECK(na == groups[g].secret_len && nb == na && memcmp(sa, sb, na) == 0,
              "group 0x%04x: the shared secrets agree (%zu bytes)", id, na);

        /* Malformed peer shares. */
        uint8_t bad[CRYPTO_MAX_PUBKEY + 1];
        memcpy(bad, pb, lb);
        CHECK(kex_derive(id, a, bad, lb - 1, sa, &na) != 0, "group 0x%04x: short share", id);
        bad[lb] = 0;
        CHECK(kex_derive(id, a, bad, lb + 1, sa, &na) != 0, "group 0x%04x: long share", id);
        CHECK(kex_derive(id, a, bad, 0, sa, &na) != 0, "group 0x%04x: empty share", id);
        CHECK(kex_derive(id, a, NULL, lb, sa, &na) != 0, "group 0x%04x: NULL share", id);
        if (!ecx) {
            bad[lb - 1] ^= 1; /* y no longer matches x */
            CHECK(kex_derive(id, a, bad, lb, sa, &na) != 0, "group 0x%04x: point not on the curve",
                  id);
            bad[lb - 1] ^= 1;
            bad[0] = 0x02 | (bad[lb - 1] & 1); /* compressed tag, uncompressed length */
            CHECK(kex_derive(id, a, bad, lb, sa, &na) != 0,
                  "group 0x%04x: non-uncompressed form tag", id);
            CHECK(kex_derive(id, a, bad, 1 + (lb - 1) / 2, sa, &na) != 0,
                  "group 0x%04x: compressed point", id);
            memset(bad, 0, lb);
            bad[0] = 0x04;
            CHECK(kex_derive(id, a, bad, lb, sa, &na) != 0, "group 0x%04x: (0,0)", id);
            memset(bad + 1, 0xff, lb - 1);
            CHECK(kex_derive(id, a, bad, lb, sa, &na) != 0, "group 0x%04x: coordinates >= p", id);
            bad[0] = 0x00;
            CHECK(kex_derive(id, a, bad, 1, sa, &na) != 0, "group 0x%04x: point at infinity", id);
        }
        /* A key of another group is refused. */
        uint16_t other = groups[(g + 1) % ngroups].id;
        CHECK(kex_derive(other, a, pb, lb, sa, &na) != 0,
              "group 0x%04x: key used with group 0x%04x refused", id, other);
        kex_free(a);
        kex_free(b);
    }

    /* x25519 points of small order give an all-zero secret: refused.
     * (u = 0, u = 1, u = p - 1, and a point of order 8.) */
    static const char *low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    };
    kex_state *k = NULL;
    uint8_t pub[32], s[CRYPTO_MAX_SHARED];
    size_t pl = 0, sl = 0;
    CHECK(kex_generate(0x001d, &k, pub, &pl) == 0, "x25519 key for low-order tests");
    for (size_t i = 0; i < 4; i++) {
        test_buf p = test_hex(low_order[i]);
        memset(s, 0xaa, sizeof s);
        CHECK(kex_derive(0x001d, k, p.b, p.n, s, &sl) != 0, "x25519 low-order point %zu refused",
              i);
    }
    kex_free(k);

    /* x448: u = 0 and u = 1 give an all-zero secret: refused too. */
    uint8_t pub448[56], low448[56];
    CHECK(kex_generate(0x001e, &k, pub448, &pl) == 0 && pl == 56, "x448 key for low-order tests");
    for (int u = 0; u < 2; u++) {
        memset(low448, 0, sizeof low448);
        low448[0] = (uint8_t)u;
        CHECK(kex_derive(0x001e, k, low448, sizeof low448, s, &sl) != 0,
              "x448 low-order point u=%d refused", u);
    }
    kex_free(k);

    /* RFC 7748 §6.1 Diffie-Hellman known answer. */
    test_buf alice = test_hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    test_buf bob_pub = test_hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    CHECK(kex_x25519_from_raw(alice.b, &k) == 0, "RFC 7748 Alice's key");
    CHECK(kex_derive(0x001d, k, bob_pub.b, bob_pub.n, s, &sl) == 0, "RFC 7748 derive");
    CHECK_HEX(s, sl, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742",
              "RFC 7748 6.1 shared secret");
    kex_free(k);

    /* secp521r1 and x448: both sides of an exchange agree, and a share of
     * the wrong length is refused. */
    static const uint16_t more_groups[] = {0x0019, 0x001e};
    for (size_t g = 0; g < sizeof more_groups / sizeof more_groups[0]; g++) {
        kex_state *ka = NULL, *kb = NULL;
        uint8_t pa[CRYPTO_MAX_PUBKEY], pb[CRYPTO_MAX_PUBKEY], sa[CRYPTO_MAX_SHARED],
            sb[CRYPTO_MAX_SHARED];
        size_t pal = 0, pbl = 0, sal = 0, sbl = 0;
        CHECK(kex_generate(more_groups[g], &ka, pa, &pal) == 0 &&
                  kex_generate(more_groups[g], &kb, pb, &pbl) == 0,
              "group 0x%04x: two key shares", more_groups[g]);
        CHECK(kex_derive(more_groups[g], ka, pb, pbl, sa, &sal) == 0 &&
                  kex_derive(more_groups[g], kb, pa, pal, sb, &sbl) == 0 && sal == sbl &&
                  sal == (more_groups[g] == 0x0019 ? 66u : 56u) && memcmp(sa, sb, sal) == 0,
              "group 0x%04x: both sides derive the same %zu-byte secret", more_groups[g], sal);
        CHECK(kex_derive(more_groups[g], ka, pb, pbl - 1, sa, &sal) != 0,
              "group 0x%04x: a share one byte short is refused", more_groups[g]);
        kex_free(ka);
        kex_free(kb);
    }
    test_ffdhe();
    test_hybrid();
    CHECK(!kex_group_supported(0x001a) && !kex_group_supported(0x0105) && !kex_group_supported(0),
          "unsupported groups are reported as such");
    CHECK(kex_generate(0x001a, &k, pub, &pl) != 0, "unsupported group: no key");
}

/* ------------------------------------------------------------ signatures */
/* Test keys, made with libcrypto and passed to the library as PEM and SPKI
 * (which also exercises keys.c). */
typedef struct {
    const char *name, *describe;
    crypto_key *priv, *pub;
} test_key;

static EVP_PKEY *make_key(const char *type, const char *group, int bits) {
    EVP_PKEY *key = NULL;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (ctx == NULL || EVP_PKEY_keygen_init(ctx) != 1) goto out;
    if (group != NULL && EVP_PKEY_CTX_set_group_name(ctx, group) != 1) goto out;
    if (bits > 0 && EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits) != 1) goto out;
    EVP_PKEY_keygen(ctx, &key);
out:
    EVP_PKEY_CTX_free(ctx);
    return key;
}

/* PEM of the private key: PKCS#8, or the traditional form (SEC1 / PKCS#1). */
static size_t to_pem(EVP_PKEY *key, bool traditional, char *out, size_t cap) {
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = traditional ? PEM_write_bio_PrivateKey_traditional(bio, key, NULL, NULL, 0, NULL, NULL)
                         : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    size_t len = 0;
    if (ok == 1 && n > 0 && (size_t)n < cap) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
        len = (size_t)n;
    }
    BIO_free(bio);
    return len;
}

static crypto_key *spki_of(EVP_PKEY *key, uint8_t *der_out, size_t *der_len) {
    unsigned char *der = NULL;
    int n = i2d_PUBKEY(key, &der);
    crypto_key *pub = n > 0 ? key_from_spki(der, (size_t)n) : NULL;
    if (der_out != NULL && n > 0 && (size_t)n <= *der_len) {
        memcpy(der_out, der, (size_t)n);
        *der_len = (size_t)n;
    }
    OPENSSL_free(der);
    return pub;
}

enum { K_P256, K_P384, K_P521, K_RSA, K_RSAPSS, K_ED25519, K_ED448, K_COUNT };

static const uint16_t schemes[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806,
                                   0x0807, 0x0808, 0x0809, 0x080a, 0x080b, 0x0401,
                                   0x0501, 0x0601, 0x0203, 0x0201, 0x0000, 0xffff};
#define N_SCHEMES (sizeof schemes / sizeof schemes[0])

/* The specification of sig_scheme_fits_key: which key may sign with which
 * scheme (rsa_pkcs1_* and the SHA-1 schemes never). */
static bool expected_fit(int k, uint16_t s) {
    switch (s) {
    case 0x0403:
        return k == K_P256;
    case 0x0503:
        return k == K_P384;
    case 0x0603:
        return k == K_P521;
    case 0x0804:
    case 0x0805:
    case 0x0806:
        return k == K_RSA;
    case 0x0809:
    case 0x080a:
    case 0x080b:
        return k == K_RSAPSS;
    case 0x0807:
        return k == K_ED25519;
    case 0x0808:
        return k == K_ED448;
    default:
        return false;
    }
}

static void test_signatures(void) {
    static const struct {
        const char *name, *type, *group, *describe;
        int bits;
    } specs[K_COUNT] = {
        [K_P256] = {"P-256", "EC", "P-256", "ECDSA P-256", 0},
        [K_P384] = {"P-384", "EC", "P-384", "ECDSA P-384", 0},
        [K_P521] = {"P-521", "EC", "P-521", "ECDSA P-521", 0},
        [K_RSA] = {"RSA", "RSA", NULL, "RSA 2048", 2048},
        [K_RSAPSS] = {"RSA-PSS", "RSA-PSS", NULL, "RSA-PSS 2048", 2048},
        [K_ED25519] = {"Ed25519", "ED25519", NULL, "Ed25519", 0},
        [K_ED448] = {"Ed448", "ED448", NULL, "Ed448", 0},
    };
    test_key keys[K_COUNT];
    EVP_PKEY *raw[K_COUNT];
    for (int k = 0; k < K_COUNT; k++) {
        char pem[8192], desc[64];
        raw[k] = make_key(specs[k].type, specs[k].group, specs[k].bits);
        size_t len = raw[k] ? to_pem(raw[k], false, pem, sizeof pem) : 0;
        keys[k].name = specs[k].name;
        keys[k].priv = len ? key_from_pem(pem, len) : NULL;
        keys[k].pub = raw[k] ? spki_of(raw[k], NULL, NULL) : NULL;
        CHECK(keys[k].priv != NULL, "%s: private key from PKCS#8 PEM", specs[k].name);
        CHECK(keys[k].pub != NULL, "%s: public key from SPKI", specs[k].name);
        key_describe(keys[k].priv, desc, sizeof desc);
        CHECK(strcmp(desc, specs[k].describe) == 0, "%s: described as \"%s\" (got \"%s\")",
              specs[k].name, specs[k].describe, desc);
        CHECK(key_pair_matches(keys[k].priv, keys[k].pub), "%s: private matches its public",
              specs[k].name);
    }

    /* Traditional PEM forms: SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY". */
    for (int k = K_P256; k <= K_RSA; k += K_RSA - K_P256) {
        char pem[8192];
        size_t len = to_pem(raw[k], true, pem, sizeof pem);
        const char *tag = k == K_RSA ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY";
        CHECK(len > 0 && strstr(pem, tag) != NULL, "%s: traditional PEM written", keys[k].name);
        crypto_key *t = key_from_pem(pem, len);
        CHECK(t != NULL && key_pair_matches(t, keys[k].pub), "%s: loaded from traditional PEM",
              keys[k].name);
        key_free(t);
    }

    /* Pairs that do not match. */
    CHECK(!key_pair_matches(keys[K_P256].priv, keys[K_P384].pub), "P-256 key vs P-384 public");
    CHECK(!key_pair_matches(keys[K_RSA].priv, keys[K_P256].pub), "RSA key vs EC public");
    EVP_PKEY *other = make_key("EC", "P-256", 0);
    crypto_key *other_pub = spki_of(other, NULL, NULL);
    CHECK(!key_pair_matches(keys[K_P256].priv, other_pub), "P-256 key vs another P-256 public");
    CHECK(!key_pair_matches(NULL, other_pub), "NULL private key matches nothing");

    /* Truth table. */
    int table_ok = 1;
    for (int k = 0; k < K_COUNT; k++)
        for (size_t s = 0; s < N_SCHEMES; s++)
            if (sig_scheme_fits_key(schemes[s], keys[k].priv) != expected_fit(k, schemes[s])) {
                table_ok = 0;
                printf("# fits_key(0x%04x, %s) wrong\n", schemes[s], keys[k].name);
            }
    CHECK(table_ok, "sig_scheme_fits_key truth table (%d keys x %zu schemes)", (int)K_COUNT,
          N_SCHEMES);
    CHECK(!sig_scheme_fits_key(0x0403, NULL), "fits_key with no key");

    /* Sign and verify for every fitting pair. */
    const uint8_t msg[] = "TLS 1.3, server CertificateVerify\0 transcript hash goes here";
    for (int k = 0; k < K_COUNT; k++) {
        for (size_t s = 0; s < N_SCHEMES; s++) {
            uint16_t sc = schemes[s];
            if (!expected_fit(k, sc)) continue;
            uint8_t sig[CRYPTO_MAX_SIG];
            size_t sig_len = sizeof sig;
            CHECK(sig_sign(sc, keys[k].priv, msg, sizeof msg, sig, &sig_len) == 0,
                  "%s/0x%04x: sign", keys[k].name, sc);
            CHECK(sig_verify(sc, keys[k].pub, msg, sizeof msg, sig, sig_len) == 0,
                  "%s/0x%04x: verifies with the SPKI public key", keys[k].name, sc);
            CHECK(sig_verify(sc, keys[k].priv, msg, sizeof msg, sig, sig_len) == 0,
                  "%s/0x%04x: verifies with the private key object", keys[k].name, sc);
            sig[sig_len / 2] ^= 0x10;
            CHECK(sig_verify(sc, keys[k].pub, msg, sizeof msg, sig, sig_len) == -1,
                  "%s/0x%04x: a flipped signature bit -> -1", keys[k].name, sc);
            sig[sig_len / 2] ^= 0x10;
            CHECK(sig_verify(sc, keys[k].pub, msg, sizeof msg - 1, sig, sig_len) == -1,
                  "%s/0x%04x: another message -> -1", keys[k].name, sc);
            CHECK(sig_verify(sc, keys[k].pub, msg, sizeof msg, sig, sig_len - 1) == -1,
                  "%s/0x%04x: a truncated signature -> -1", keys[k].name, sc);
            CHECK(sig_verify(sc, other_pub, msg, sizeof msg, sig, sig_len) == -1,
                  "%s/0x%04x: another key -> -1", keys[k].name, sc);
            size_t small = (size_t)EVP_PKEY_get_size(raw[k]) - 1;
            CHECK(sig_sign(sc, keys[k].priv, msg, sizeof msg, sig, &small) != 0,
                  "%s/0x%04x: too little room for the signature is refused", keys[k].name, sc);
        }
    }

    /* RSA-PSS signatures use salt length = hash length: check by verifying
     * one of ours with libcrypto set up exactly that way. */
    {
        uint8_t sig[CRYPTO_MAX_SIG];
        size_t sig_len = sizeof sig;
        CHECK(sig_sign(0x0805, keys[K_RSA].priv, msg, sizeof msg, sig, &sig_len) == 0,
              "rsa_pss_rsae_sha384: sign for the salt-length check");
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        EVP_PKEY_CTX *p = NULL;
        int ok = EVP_DigestVerifyInit_ex(m, &p, "SHA384", NULL, NULL, raw[K_RSA], NULL) == 1 &&
                 EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) == 1 &&
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(p, 48) == 1 &&
                 EVP_DigestVerify(m, sig, sig_len, msg, sizeof msg) == 1;
        EVP_MD_CTX_free(m);
        CHECK(ok, "rsa_pss_rsae_sha384: libcrypto verifies it with salt length 48");
    }

    /* rsa_pkcs1_*: verify only. Signatures made here with libcrypto. */
    static const struct {
        uint16_t scheme;
        const char *md;
    } pkcs1[] = {{0x0401, "SHA256"}, {0x0501, "SHA384"}, {0x0601, "SHA512"}};
    for (size_t i = 0; i < 3; i++) {
        uint8_t sig[CRYPTO_MAX_SIG];
        size_t sig_len = sizeof sig;
        EVP_MD_CTX *m = EVP_MD_CTX_new();
        int made = EVP_DigestSignInit_ex(m, NULL, pkcs1[i].md, NULL, NULL, raw[K_RSA], NULL) == 1 &&
                   EVP_DigestSign(m, sig, &sig_len, msg, sizeof msg) == 1;
        EVP_MD_CTX_free(m);
        CHECK(made, "0x%04x: libcrypto made a PKCS#1 v1.5 signature", pkcs1[i].scheme);
        CHECK(sig_verify(pkcs1[i].scheme, keys[K_RSA].pub, msg, sizeof msg, sig, sig_len) == 0,
              "0x%04x: verifies", pkcs1[i].scheme);
        sig[0] ^= 1;
        CHECK(sig_verify(pkcs1[i].scheme, keys[K_RSA].pub, msg, sizeof msg, sig, sig_len) == -1,
              "0x%04x: flipped bit -> -1", pkcs1[i].scheme);
        sig[0] ^= 1;
        CHECK(sig_verify(0x0804 + (uint16_t)i, keys[K_RSA].pub, msg, sizeof msg, sig, sig_len) ==
                  -1,
              "0x%04x signature is not a valid PSS signature", pkcs1[i].scheme);
        size_t cap = sizeof sig;
        CHECK(sig_sign(pkcs1[i].scheme, keys[K_RSA].priv, msg, sizeof msg, sig, &cap) != 0,
              "0x%04x: signing is refused (verify only)", pkcs1[i].scheme);
    }

    /* Scheme and key disagree; unknown scheme. */
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    CHECK(sig_sign(0x0403, keys[K_P256].priv, msg, sizeof msg, sig, &sig_len) == 0,
          "P-256 signature for mismatch tests");
    CHECK(sig_verify(0x0503, keys[K_P256].pub, msg, sizeof msg, sig, sig_len) == -1,
          "ecdsa_secp384r1_sha384 with a P-256 key -> -1");
    CHECK(sig_verify(0x0804, keys[K_P256].pub, msg, sizeof msg, sig, sig_len) == -1,
          "rsa_pss_rsae with an EC key -> -1");
    CHECK(sig_verify(0x0809, keys[K_RSA].pub, msg, sizeof msg, sig, sig_len) == -1,
          "rsa_pss_pss with an rsaEncryption key -> -1");
    CHECK(sig_verify(0xfefe, keys[K_P256].pub, msg, sizeof msg, sig, sig_len) == -2,
          "unknown scheme -> -2");
    CHECK(sig_verify(0x0403, keys[K_P256].pub, msg, sizeof msg, sig, 0) == -1,
          "empty signature -> -1");
    uint8_t garbage[72];
    memset(garbage, 0x30, sizeof garbage);
    CHECK(sig_verify(0x0403, keys[K_P256].pub, msg, sizeof msg, garbage, sizeof garbage) == -1,
          "malformed DER ECDSA signature -> -1");
    sig_len = sizeof sig;
    CHECK(sig_sign(0x0503, keys[K_P256].priv, msg, sizeof msg, sig, &sig_len) != 0,
          "signing with a scheme that does not fit the key is refused");

    for (int k = 0; k < K_COUNT; k++) {
        key_free(keys[k].priv);
        key_free(keys[k].pub);
        EVP_PKEY_free(raw[k]);
    }
    key_free(other_pub);
    EVP_PKEY_free(other);
}

/* -------------------------- P-521, Ed448, RSA-PSS keys: against libcrypto */
/* A signature made by libcrypto itself (EVP_DigestSign; RSA-PSS with MGF1
 * of the same hash and salt length = hash length, as RFC 8446 says). */
static size_t libcrypto_sign(EVP_PKEY *key, const char *md, int salt, const uint8_t *msg,
                             size_t len, uint8_t *sig, size_t cap) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    size_t n = cap;
    bool pss = EVP_PKEY_is_a(key, "RSA-PSS") || (EVP_PKEY_is_a(key, "RSA") && salt >= 0);
    bool ok = m != NULL && EVP_DigestSignInit_ex(m, &p, md, NULL, NULL, key, NULL) == 1 &&
              (!pss || (EVP_PKEY_CTX_set_rsa_padding(p, RSA_PKCS1_PSS_PADDING) == 1 &&
                        EVP_PKEY_CTX_set_rsa_pss_saltlen(p, salt) == 1)) &&
              EVP_DigestSign(m, sig, &n, msg, len) == 1;
    EVP_MD_CTX_free(m);
    return ok ? n : 0;
}

/* Does libcrypto accept it: RSA-PSS with the given salt length. */
static bool libcrypto_accepts(EVP_PKEY *key, const char *md, int salt, const uint8_t *msg,
                              size_t len, const uint8_t *sig, size_t sl) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    bool pss = EVP_PKEY_is_a(key, "RSA-PSS");
    bool ok = m != NULL && EVP_DigestVerifyInit_ex(m, &p, md, NULL, NULL, key, NULL) == 1 &&
              (!pss || EVP_PKEY_CTX_set_rsa_pss_saltlen(p, salt) == 1) &&
              EVP_DigestVerify(m, sig, sl, msg, len) == 1;
    EVP_MD_CTX_free(m);
    return ok;
}

/* An RSA-PSS key with the same modulus as key, restricted to md (and MGF1
 * with md) and a salt of at least salt bytes, through the key manager. */
static EVP_PKEY *restricted_copy(EVP_PKEY *key, const char *md, const char *mgf_md, int salt) {
    OSSL_PARAM *have = NULL, *all = NULL;
    EVP_PKEY *out = NULL;
    OSSL_PARAM extra[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_RSA_DIGEST, (char *)md, 0),
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_RSA_MGF1_DIGEST, (char *)mgf_md, 0),
        OSSL_PARAM_construct_int(OSSL_PKEY_PARAM_RSA_PSS_SALTLEN, &salt),
        OSSL_PARAM_construct_end(),
    };
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA-PSS", NULL);
    if (ctx && EVP_PKEY_todata(key, EVP_PKEY_KEYPAIR, &have) == 1 &&
        (all = OSSL_PARAM_merge(have, extra)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1)
        EVP_PKEY_fromdata(ctx, &out, EVP_PKEY_KEYPAIR, all);
    OSSL_PARAM_free(have);
    OSSL_PARAM_free(all);
    EVP_PKEY_CTX_free(ctx);
    return out;
}

/* The AlgorithmIdentifier contents of RSASSA-PSS with SHA-2 (hash_id 1 =
 * SHA-256, 2 = SHA-384, 3 = SHA-512), MGF1 with the same hash, salt < 128. */
static size_t pss_algid(uint8_t hash_id, uint8_t salt, uint8_t out[61]) {
    static const uint8_t head[] = {
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a, /* rsassaPss */
        0x30, 0x30,                                                       /* params */
        0xa0, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
        0x04, 0x02, 0x00, 0xa1, 0x1a, 0x30, 0x18, 0x06, 0x09, 0x2a, 0x86, 0x48,
        0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86,
        0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x00, 0xa2, 0x03, 0x02, 0x01, 0x00};
    memcpy(out, head, sizeof head);
    out[27] = hash_id; /* [0] hashAlgorithm */
    out[55] = hash_id; /* [1] MGF1's hash */
    out[60] = salt;
    return sizeof head;
}

static void test_new_schemes(void) {
    static const uint8_t msg[] = "signed by libcrypto, checked by certa";
    static const struct {
        const char *kind, *md;
        uint16_t scheme;
        int salt; /* RSA-PSS */
    } cases[] = {
        {"P-521", "SHA512", 0x0603, 0},    {"Ed448", NULL, 0x0808, 0},
        {"RSA-PSS", "SHA256", 0x0809, 32}, {"RSA-PSS", "SHA384", 0x080a, 48},
        {"RSA-PSS", "SHA512", 0x080b, 64},
    };
    EVP_PKEY *p521 = make_key("EC", "P-521", 0), *ed448 = make_key("ED448", NULL, 0);
    EVP_PKEY *pss = make_key("RSA-PSS", NULL, 2048);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        EVP_PKEY *raw = cases[i].kind[0] == 'P' ? p521 : cases[i].kind[0] == 'E' ? ed448 : pss;
        char pem[8192];
        size_t pl = raw ? to_pem(raw, false, pem, sizeof pem) : 0;
        crypto_key *priv = pl ? key_from_pem(pem, pl) : NULL, *pub = spki_of(raw, NULL, NULL);
        uint16_t sc = cases[i].scheme;
        uint8_t sig[CRYPTO_MAX_SIG];
        size_t sl =
            libcrypto_sign(raw, cases[i].md, cases[i].salt, msg, sizeof msg, sig, sizeof sig);
        CHECK(sl > 0 && priv && pub, "%s/0x%04x: libcrypto signs", cases[i].kind, sc);
        CHECK(sig_verify(sc, pub, msg, sizeof msg, sig, sl) == 0 &&
                  sig_verify_tls12(sc, pub, msg, sizeof msg, sig, sl) == 0,
              "%s/0x%04x: certa verifies libcrypto's signature (TLS 1.3 and 1.2)", cases[i].kind,
              sc);
        sig[sl - 2] ^= 0x04;
        CHECK(sig_verify(sc, pub, msg, sizeof msg, sig, sl) == -1 &&
                  sig_verify_tls12(sc, pub, msg, sizeof msg, sig, sl) == -1,
              "%s/0x%04x: libcrypto's signature with a flipped bit -> -1", cases[i].kind, sc);
        sl = sizeof sig;
        CHECK(sig_sign(sc, priv, msg, sizeof msg, sig, &sl) == 0 &&
                  libcrypto_accepts(raw, cases[i].md, cases[i].salt, msg, sizeof msg, sig, sl),
              "%s/0x%04x: libcrypto verifies certa's signature", cases[i].kind, sc);
        sl = sizeof sig;
        CHECK(sig_sign_tls12(sc, priv, msg, sizeof msg, sig, &sl) == 0 &&
                  libcrypto_accepts(raw, cases[i].md, cases[i].salt, msg, sizeof msg, sig, sl),
              "%s/0x%04x: ... and its TLS 1.2 signature", cases[i].kind, sc);
        CHECK(sig_scheme_fits_key_tls12(sc, priv), "%s/0x%04x: fits in TLS 1.2 too", cases[i].kind,
              sc);
        key_free(priv);
        key_free(pub);
    }
    /* TLS 1.2: ECDSA binds only the hash, so a P-521 key may sign
     * ecdsa_secp256r1_sha256 there, never in TLS 1.3. */
    {
        char pem[8192];
        size_t pl = to_pem(p521, false, pem, sizeof pem);
        crypto_key *priv = key_from_pem(pem, pl), *pub = spki_of(p521, NULL, NULL);
        uint8_t sig[CRYPTO_MAX_SIG];
        size_t sl = sizeof sig;
        CHECK(!sig_scheme_fits_key(0x0403, priv) && sig_scheme_fits_key_tls12(0x0403, priv),
              "P-521: 0x0403 fits in TLS 1.2 only");
        CHECK(sig_sign_tls12(0x0403, priv, msg, sizeof msg, sig, &sl) == 0 &&
                  libcrypto_accepts(p521, "SHA256", 0, msg, sizeof msg, sig, sl) &&
                  sig_verify(0x0403, pub, msg, sizeof msg, sig, sl) == -1,
              "P-521 + SHA-256: a TLS 1.2 signature libcrypto accepts, refused as TLS 1.3");
        key_free(priv);
        key_free(pub);
    }

    /* RSA-PSS keys with parameters (RFC 4055 3.1): only their hash. */
    static const struct {
        const char *md, *mgf;
        int salt;
        uint16_t fits; /* the one scheme that fits, 0 = none */
        const char *describe;
    } restricted[] = {
        {"SHA384", "SHA384", 48, 0x080a, "RSA-PSS 2048 (SHA-384 only)"},
        {"SHA256", "SHA256", 32, 0x0809, "RSA-PSS 2048 (SHA-256 only)"},
        {"SHA512", "SHA512", 20, 0x080b, "RSA-PSS 2048 (SHA-512 only)"},
        {"SHA256", "SHA256", 40, 0, "RSA-PSS 2048 (SHA-256 only)"}, /* salt > hash length */
        {"SHA256", "SHA1", 32, 0, "RSA-PSS 2048 (SHA-256 only)"},   /* MGF1 with SHA-1 */
    };
    for (size_t i = 0; i < sizeof restricted / sizeof restricted[0]; i++) {
        EVP_PKEY *rk =
            restricted_copy(pss, restricted[i].md, restricted[i].mgf, restricted[i].salt);
        char pem[8192], desc[64] = "";
        size_t pl = rk ? to_pem(rk, false, pem, sizeof pem) : 0;
        uint8_t spki[1024];
        size_t spki_len = sizeof spki;
        crypto_key *priv = pl ? key_from_pem(pem, pl) : NULL,
                   *pub = rk ? spki_of(rk, spki, &spki_len) : NULL;
        CHECK(priv && pub, "restricted %s/%s/%d: key from PEM and SPKI", restricted[i].md,
              restricted[i].mgf, restricted[i].salt);
        key_describe(priv, desc, sizeof desc);
        CHECK(!strcmp(desc, restricted[i].describe), "restricted %s/%s/%d: described as \"%s\"",
              restricted[i].md, restricted[i].mgf, restricted[i].salt, desc);
        bool table = true;
        for (size_t s = 0; s < N_SCHEMES; s++) {
            bool want = restricted[i].fits != 0 && schemes[s] == restricted[i].fits;
            table = table && sig_scheme_fits_key(schemes[s], priv) == want &&
                    sig_scheme_fits_key(schemes[s], pub) == want &&
                    sig_scheme_fits_key_tls12(schemes[s], priv) == want;
        }
        CHECK(table, "restricted %s/%s/%d: fits scheme 0x%04x alone (0: none)", restricted[i].md,
              restricted[i].mgf, restricted[i].salt, restricted[i].fits);
        if (restricted[i].fits) {
            uint8_t sig[CRYPTO_MAX_SIG];
            size_t sl = sizeof sig;
            int hl = restricted[i].md[3] == '2' ? 32 : restricted[i].md[3] == '3' ? 48 : 64;
            CHECK(sig_sign(restricted[i].fits, priv, msg, sizeof msg, sig, &sl) == 0 &&
                      libcrypto_accepts(rk, restricted[i].md, hl, msg, sizeof msg, sig, sl) &&
                      sig_verify(restricted[i].fits, pub, msg, sizeof msg, sig, sl) == 0,
                  "restricted %s: certa's signature verifies (libcrypto and certa)",
                  restricted[i].md);
            uint16_t other = restricted[i].fits == 0x0809 ? 0x080a : 0x0809;
            sl = sizeof sig;
            CHECK(sig_sign(other, priv, msg, sizeof msg, sig, &sl) != 0,
                  "restricted %s: signing 0x%04x is refused", restricted[i].md, other);
        }
        char why[160];
        int pol = x509_key_policy(spki, spki_len, why, sizeof why);
        bool sha1 = !strcmp(restricted[i].mgf, "SHA1");
        CHECK(sha1 ? pol == -1 && strstr(why, "SHA-1") : pol == 0,
              "restricted %s/%s: certificate key policy %s (%s)", restricted[i].md,
              restricted[i].mgf, sha1 ? "refuses it as SHA-1" : "accepts it", why);
        key_free(priv);
        key_free(pub);
        EVP_PKEY_free(rk);
    }

    /* X.509 signatures under an issuer key with parameters: the signature's
     * hash and salt must be within them (RFC 4055 3.3). pss signs; the same
     * modulus as a SHA-384 (salt >= 48) key is the restricted issuer. */
    {
        EVP_PKEY *r384 = restricted_copy(pss, "SHA384", "SHA384", 48);
        crypto_key *free_pub = spki_of(pss, NULL, NULL),
                   *r_pub = r384 ? spki_of(r384, NULL, NULL) : NULL;
        static const struct {
            uint8_t hash_id, salt;
            const char *md;
            bool restricted_ok;
        } xs[] = {{1, 32, "SHA256", false},
                  {2, 48, "SHA384", true},
                  {2, 40, "SHA384", false},
                  {2, 64, "SHA384", true},
                  {3, 64, "SHA512", false}};
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
            uint8_t alg[61], sig[CRYPTO_MAX_SIG];
            size_t al = pss_algid(xs[i].hash_id, xs[i].salt, alg);
            size_t sl = libcrypto_sign(pss, xs[i].md, xs[i].salt, msg, sizeof msg, sig, sizeof sig);
            CHECK(sl > 0 && r_pub &&
                      sig_verify_x509(alg, al, free_pub, msg, sizeof msg, sig, sl) == 0,
                  "X.509 RSASSA-PSS %s salt %d: verifies under a key without parameters", xs[i].md,
                  xs[i].salt);
            int r = sig_verify_x509(alg, al, r_pub, msg, sizeof msg, sig, sl);
            CHECK(r == (xs[i].restricted_ok ? 0 : -1),
                  "X.509 RSASSA-PSS %s salt %d under a SHA-384/salt>=48 issuer key: %s (%d)",
                  xs[i].md, xs[i].salt, xs[i].restricted_ok ? "valid" : "refused", r);
        }
        /* and a valid signature altered */
        uint8_t alg[61], sig[CRYPTO_MAX_SIG];
        size_t al = pss_algid(2, 48, alg);
        size_t sl = libcrypto_sign(pss, "SHA384", 48, msg, sizeof msg, sig, sizeof sig);
        sig[10] ^= 1;
        CHECK(sig_verify_x509(alg, al, r_pub, msg, sizeof msg, sig, sl) == -1,
              "X.509 RSASSA-PSS: an altered signature -> -1");
        key_free(free_pub);
        key_free(r_pub);
        EVP_PKEY_free(r384);
    }

    /* X.509 Ed448 and ecdsa-with-SHA512 on P-521 (RFC 8410, RFC 5758). */
    {
        static const uint8_t alg_ed448[] = {0x06, 0x03, 0x2b, 0x65, 0x71};
        static const uint8_t alg_ecdsa512[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
                                               0xce, 0x3d, 0x04, 0x03, 0x04};
        crypto_key *ed_pub = spki_of(ed448, NULL, NULL), *ec_pub = spki_of(p521, NULL, NULL);
        uint8_t sig[CRYPTO_MAX_SIG];
        size_t sl = libcrypto_sign(ed448, NULL, 0, msg, sizeof msg, sig, sizeof sig);
        CHECK(sig_verify_x509(alg_ed448, sizeof alg_ed448, ed_pub, msg, sizeof msg, sig, sl) == 0,
              "X.509 Ed448 signature verifies");
        CHECK(sig_verify_x509(alg_ed448, sizeof alg_ed448, ec_pub, msg, sizeof msg, sig, sl) == -1,
              "X.509 Ed448 algorithm with a P-521 key -> -1");
        sig[0] ^= 1;
        CHECK(sig_verify_x509(alg_ed448, sizeof alg_ed448, ed_pub, msg, sizeof msg, sig, sl) == -1,
              "X.509 Ed448: altered -> -1");
        sl = libcrypto_sign(p521, "SHA512", 0, msg, sizeof msg, sig, sizeof sig);
        CHECK(sig_verify_x509(alg_ecdsa512, sizeof alg_ecdsa512, ec_pub, msg, sizeof msg, sig,
                              sl) == 0,
              "X.509 ecdsa-with-SHA512 on P-521 verifies");
        uint8_t spki[200];
        size_t spki_len = sizeof spki;
        crypto_key *again = spki_of(ed448, spki, &spki_len);
        char why[160];
        CHECK(x509_key_policy(spki, spki_len, why, sizeof why) == 0,
              "certificate key policy accepts Ed448 (%s)", why);
        key_free(again);
        key_free(ed_pub);
        key_free(ec_pub);
    }
    EVP_PKEY_free(p521);
    EVP_PKEY_free(ed448);
    EVP_PKEY_free(pss);
}

/* RFC 8032 §7.4 "blank": Ed448 over the empty message, a known answer. */
static void test_ed448_kat(void) {
    test_buf der = test_hex("3047020100300506032b6571043b0439"
                            "6c82a562cb808d10d632be89c8513ebf6c929f34ddfa8c9f63c9960ef6e348a3"
                            "528c8a3fcc2f044e39a3fc5b94492f8f032e7549a20098f95b");
    char b64[128], pem[256];
    int n = base64_encode(der.b, der.n, b64, sizeof b64);
    int len = snprintf(pem, sizeof pem,
                       "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", b64);
    crypto_key *k = n > 0 ? key_from_pem(pem, (size_t)len) : NULL;
    char desc[32] = "";
    key_describe(k, desc, sizeof desc);
    CHECK(k != NULL && !strcmp(desc, "Ed448"), "RFC 8032 7.4 key from PKCS#8 PEM (%s)", desc);
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    CHECK(sig_sign(0x0808, k, NULL, 0, sig, &sig_len) == 0, "Ed448: sign the empty message");
    CHECK_HEX(sig, sig_len,
              "533a37f6bbe457251f023c0d88f976ae2dfb504a843e34d2074fd823d41a591f"
              "2b233f034f628281f2fd7a22ddd47d7828c59bd0a21bfd3980ff0d2028d4b18a"
              "9df63e006c5d1c2d345b925d8dc00b4104852db99ac5c7cdda8530a113a0f4db"
              "b61149f05a7363268c71d95808ff2e652600",
              "RFC 8032 7.4 blank signature");
    test_buf spki = test_hex("3043300506032b6571033a00"
                             "5fd7449b59b461fd2ce787ec616ad46a1da1342485a70e1f8a0ea75d80e96778"
                             "edf124769b46c7061bd6783df1e50f6cd1fa1abeafe8256180");
    crypto_key *pub = key_from_spki(spki.b, spki.n);
    CHECK(pub != NULL && key_pair_matches(k, pub), "RFC 8032 7.4 public key (SPKI) matches");
    CHECK(sig_verify(0x0808, pub, NULL, 0, sig, sig_len) == 0, "RFC 8032 7.4 signature verifies");
    CHECK(sig_verify(0x0807, pub, NULL, 0, sig, sig_len) == -1, "... not as ed25519");
    sig[113] ^= 0x01;
    CHECK(sig_verify(0x0808, pub, NULL, 0, sig, sig_len) == -1, "... and not altered");
    CHECK(key_from_spki(spki.b, spki.n - 1) == NULL, "a truncated Ed448 SPKI is refused");
    key_free(pub);
    key_free(k);
}

/* RFC 8032 §7.1 test 1: Ed25519 is deterministic, so signing is a known
 * answer. The key goes in as PKCS#8 PEM built here with our base64. */
static void test_ed25519_kat(void) {
    test_buf der = test_hex("302e020100300506032b657004220420"
                            "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
    char b64[128], pem[256];
    int n = base64_encode(der.b, der.n, b64, sizeof b64);
    CHECK(n == 64, "base64 of the 48-byte PKCS#8 key is 64 characters");
    int len = snprintf(pem, sizeof pem,
                       "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", b64);
    crypto_key *k = key_from_pem(pem, (size_t)len);
    CHECK(k != NULL, "RFC 8032 test 1 key from PEM");
    char desc[32];
    key_describe(k, desc, sizeof desc);
    CHECK(strcmp(desc, "Ed25519") == 0, "described as Ed25519");
    uint8_t sig[CRYPTO_MAX_SIG];
    size_t sig_len = sizeof sig;
    CHECK(sig_sign(0x0807, k, NULL, 0, sig, &sig_len) == 0, "sign the empty message");
    CHECK_HEX(sig, sig_len,
              "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
              "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
              "RFC 8032 7.1 test 1 signature");
    /* The public key as an SPKI. */
    test_buf spki = test_hex("302a300506032b6570032100"
                             "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    crypto_key *pub = key_from_spki(spki.b, spki.n);
    CHECK(pub != NULL && key_pair_matches(k, pub), "RFC 8032 public key matches");
    CHECK(sig_verify(0x0807, pub, NULL, 0, sig, sig_len) == 0, "RFC 8032 signature verifies");
    spki.b[spki.n] = 0;
    CHECK(key_from_spki(spki.b, spki.n + 1) == NULL, "SPKI with a trailing byte is refused");
    CHECK(key_from_spki(spki.b, spki.n - 1) == NULL, "truncated SPKI is refused");
    key_free(pub);
    key_free(k);
}

static void test_bad_keys(void) {
    static const char *bad[] = {
        "",
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMRE\n",
        "-----BEGIN CERTIFICATE-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v\n-----END CERTIFICATE-----\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        crypto_key *k = key_from_pem(bad[i], strlen(bad[i]));
        CHECK(k == NULL, "malformed PEM %zu refused", i);
        key_free(k);
    }
    CHECK(key_from_pem(NULL, 10) == NULL, "NULL PEM refused");

    /* An encrypted key is refused without asking for a password. */
    EVP_PKEY *key = make_key("EC", "P-256", 0);
    BIO *bio = BIO_new(BIO_s_mem());
    int ok = PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_128_cbc(), "pw", 2, NULL, NULL);
    char *data = NULL;
    long n = BIO_get_mem_data(bio, &data);
    CHECK(ok == 1 && n > 0, "encrypted PKCS#8 written");
    CHECK(key_from_pem(data, (size_t)n) == NULL, "encrypted PKCS#8 refused");
    BIO_free(bio);
    EVP_PKEY_free(key);

    uint8_t junk[40];
    memset(junk, 0x30, sizeof junk);
    CHECK(key_from_spki(junk, sizeof junk) == NULL, "garbage SPKI refused");
    char desc[32];
    key_describe(NULL, desc, sizeof desc);
    CHECK(strcmp(desc, "no key") == 0, "key_describe(NULL)");
    key_free(NULL);
}

/* ---------------------------------------------------------------- base64 */
static void test_base64(void) {
    static const char *vec[][2] = {{"", ""},
                                   {"f", "Zg=="},
                                   {"fo", "Zm8="},
                                   {"foo", "Zm9v"},
                                   {"foob", "Zm9vYg=="},
                                   {"fooba", "Zm9vYmE="},
                                   {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
        char enc[32];
        uint8_t dec[32];
        size_t pl = strlen(vec[i][0]), el = strlen(vec[i][1]);
        int n = base64_encode((const uint8_t *)vec[i][0], pl, enc, sizeof enc);
        CHECK(n == (int)el && memcmp(enc, vec[i][1], el) == 0 && enc[el] == '\0',
              "RFC 4648 encode \"%s\" -> \"%s\"", vec[i][0], vec[i][1]);
        n = base64_decode(vec[i][1], el, dec, sizeof dec);
        CHECK(n == (int)pl && memcmp(dec, vec[i][0], pl) == 0, "RFC 4648 decode \"%s\"", vec[i][1]);
    }
    /* All 256 byte values round-trip. */
    uint8_t all[256], back[256];
    char enc[400];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    int n = base64_encode(all, 256, enc, sizeof enc);
    CHECK(n == 344, "256 bytes encode to 344 characters");
    CHECK(base64_decode(enc, (size_t)n, back, sizeof back) == 256 && memcmp(all, back, 256) == 0,
          "256 byte values round-trip");
    CHECK(strspn(enc, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == 344,
          "encoding uses the standard alphabet");
    CHECK(base64_decode("+/+/", 4, back, sizeof back) == 3 && back[0] == 0xfb && back[1] == 0xff &&
              back[2] == 0xbf,
          "'+' and '/' decode to 62 and 63");

    static const char *bad[] = {
        "Zg=",      /* length not a multiple of 4 */
        "Zg",       /* no padding */
        "Zm9v\n",   /* whitespace is not skipped */
        "Zm 9",     /* space */
        "Zm9-",     /* URL-safe alphabet */
        "Zm9_",     /* URL-safe alphabet */
        "Z===",     /* three padding characters */
        "====",     /* only padding */
        "Zg==Zm9v", /* padding in the middle */
        "Zm=v",     /* '=' then data */
        "Zh==",     /* non-zero unused bits */
        "Zm9=",     /* non-zero unused bits (one '=') */
        "Zm9v\x80xyz", "Zm\0v",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = i == sizeof bad / sizeof bad[0] - 1 ? 4 : strlen(bad[i]);
        uint8_t out[16];
        CHECK(base64_decode(bad[i], len, out, sizeof out) == -1, "bad base64 %zu refused", i);
    }
    uint8_t small[2];
    char tiny[4];
    CHECK(base64_decode("Zm9v", 4, small, sizeof small) == -1, "decode: output too small");
    CHECK(base64_encode((const uint8_t *)"foo", 3, tiny, 3) == -1, "encode: output too small");
    CHECK(base64_encode((const uint8_t *)"foo", 3, tiny, 4) == 4, "encode: exact fit, no NUL");
}

/* ------------------------------------------- reused key objects (keys.c) */
/* Peer EC keys are recycled by key_free and re-pointed by key_from_spki;
 * signing keys keep prepared contexts that each signature copies. */
typedef struct {
    crypto_key *key;
    crypto_key *pub;
    uint16_t scheme;
    int failures;
} sign_job;

static void *sign_worker(void *arg) {
    sign_job *j = arg;
    for (int i = 0; i < 20; i++) {
        uint8_t msg[40], sig[600];
        size_t sl = sizeof sig;
        memset(msg, i, sizeof msg);
        if (sig_sign(j->scheme, j->key, msg, sizeof msg, sig, &sl) != 0 ||
            sig_verify(j->scheme, j->pub, msg, sizeof msg, sig, sl) != 0)
            j->failures++;
    }
    return NULL;
}

/* Does libcrypto itself accept the signature (EVP_DigestVerify)? */
static bool libcrypto_verifies(EVP_PKEY *key, const char *md, bool pss, const uint8_t *msg,
                               size_t len, const uint8_t *sig, size_t sl) {
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    bool ok = m != NULL && EVP_DigestVerifyInit_ex(m, &pctx, md, NULL, NULL, key, NULL) == 1 &&
              (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1)) &&
              EVP_DigestVerify(m, sig, sl, msg, len) == 1;
    EVP_MD_CTX_free(m);
    return ok;
}

static void test_key_reuse(void) {
    EVP_PKEY *a = make_key("EC", "P-256", 0), *b = make_key("EC", "P-256", 0);
    char pem[8192];
    size_t len = a ? to_pem(a, false, pem, sizeof pem) : 0;
    crypto_key *priv_a = len ? key_from_pem(pem, len) : NULL;
    len = b ? to_pem(b, false, pem, sizeof pem) : 0;
    crypto_key *priv_b = len ? key_from_pem(pem, len) : NULL;
    CHECK(priv_a != NULL && priv_b != NULL, "reuse: two P-256 keys");

    static const uint8_t msg[] = "reuse of key objects";
    uint8_t sig_a[128], sig_b[128];
    size_t la = sizeof sig_a, lb = sizeof sig_b;
    CHECK(sig_sign(0x0403, priv_a, msg, sizeof msg, sig_a, &la) == 0 &&
              sig_sign(0x0403, priv_b, msg, sizeof msg, sig_b, &lb) == 0,
          "reuse: both keys sign");
    CHECK(libcrypto_verifies(a, "SHA256", false, msg, sizeof msg, sig_a, la),
          "reuse: libcrypto accepts the ECDSA signature");

    /* Key A's public object, used, freed (kept for reuse), then B's. */
    uint8_t der_b[200];
    size_t der_b_len = sizeof der_b;
    crypto_key *pub = spki_of(a, NULL, NULL);
    CHECK(pub != NULL && sig_verify(0x0403, pub, msg, sizeof msg, sig_a, la) == 0,
          "reuse: A's signature verifies under A");
    key_free(pub);
    crypto_key *pub_b = spki_of(b, der_b, &der_b_len);
    CHECK(pub_b != NULL && sig_verify(0x0403, pub_b, msg, sizeof msg, sig_b, lb) == 0,
          "reuse: B's signature verifies under B (recycled object %s)",
          pub_b == pub ? "reused" : "not reused");
    CHECK(sig_verify(0x0403, pub_b, msg, sizeof msg, sig_a, la) == -1,
          "reuse: A's signature fails under B's recycled key");
    CHECK(key_pair_matches(priv_b, pub_b) && !key_pair_matches(priv_a, pub_b),
          "reuse: recycled key matches B only");
    key_free(pub_b);

    /* A point off the curve, given to a recycled object, is refused; a good
     * key afterwards still works. */
    uint8_t bad[200];
    memcpy(bad, der_b, der_b_len);
    bad[der_b_len - 1] ^= 1; /* last byte of y */
    CHECK(key_from_spki(bad, der_b_len) == NULL, "reuse: off-curve point refused");
    pub_b = key_from_spki(der_b, der_b_len);
    CHECK(pub_b != NULL && sig_verify(0x0403, pub_b, msg, sizeof msg, sig_b, lb) == 0,
          "reuse: good key after a refused one");
    key_free(pub_b);

    /* One signing key, several schemes (one prepared context each), from
     * several threads at once. */
    EVP_PKEY *r = make_key("RSA", NULL, 2048);
    len = r ? to_pem(r, false, pem, sizeof pem) : 0;
    crypto_key *priv_r = len ? key_from_pem(pem, len) : NULL;
    crypto_key *pub_r = r ? spki_of(r, NULL, NULL) : NULL;
    crypto_key *pub_a = spki_of(a, NULL, NULL);
    CHECK(priv_r != NULL && pub_r != NULL && pub_a != NULL, "reuse: RSA key");
    uint8_t sig_r[512];
    size_t lr = sizeof sig_r;
    CHECK(sig_sign(0x0805, priv_r, msg, sizeof msg, sig_r, &lr) == 0 &&
              libcrypto_verifies(r, "SHA384", true, msg, sizeof msg, sig_r, lr),
          "reuse: rsa_pss_rsae_sha384 signature accepted by libcrypto");
    CHECK(sig_verify(0x0804, pub_r, msg, sizeof msg, sig_r, lr) == -1,
          "reuse: PSS SHA-384 signature fails as SHA-256");
    sign_job jobs[4] = {{priv_a, pub_a, 0x0403, 0},
                        {priv_r, pub_r, 0x0804, 0},
                        {priv_r, pub_r, 0x0806, 0},
                        {priv_a, pub_a, 0x0403, 0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        CHECK(pthread_create(&th[i], NULL, sign_worker, &jobs[i]) == 0, "reuse: thread %d", i);
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(jobs[i].failures == 0, "reuse: thread %d (scheme 0x%04x) signed and verified 20", i,
              jobs[i].scheme);
    }
    key_free(pub_a);
    key_free(pub_r);
    key_free(priv_r);
    key_free(priv_a);
    key_free(priv_b);
    EVP_PKEY_free(a);
    EVP_PKEY_free(b);
    EVP_PKEY_free(r);

    /* HKDF-Extract with the constant salt of the Handshake Secret (keyed
     * once per process) equals plain HMAC. */
    static const uint8_t zeros[48];
    for (int h = 0; h < 2; h++) {
        hash_alg alg = h ? HASH_SHA384 : HASH_SHA256;
        size_t hl = hash_len(alg);
        uint8_t early[48], empty[48], salt[48], ikm[48], fast[48], slow[48];
        CHECK(hkdf_extract(alg, NULL, 0, zeros, hl, early) == 0 &&
                  hash_oneshot(alg, NULL, 0, empty) == 0 &&
                  derive_secret(alg, early, "derived", empty, salt) == 0,
              "extract: derived salt (%zu)", hl);
        memset(ikm, 0x5a, sizeof ikm);
        CHECK(hkdf_extract(alg, salt, hl, ikm, hl, fast) == 0 &&
                  hmac(alg, salt, hl, ikm, hl, slow) == 0 && memcmp(fast, slow, hl) == 0,
              "extract with the constant salt equals HMAC (%zu)", hl);
    }
}

int main(void) {
    test_misc();
    test_hashes();
    test_expand_label();
    test_aead();
    test_kex();
    test_signatures();
    test_new_schemes();
    test_ed448_kat();
    test_key_reuse();
    test_ed25519_kat();
    test_bad_keys();
    test_base64();
    TEST_EXIT();
}
