/* RFC 5869 Appendix A: every test case, PRK and OKM byte for byte. */
#include "crypto/crypto.h"
#include "testlib.h"

typedef struct {
    const char *name;
    hash_alg hash;
    const char *ikm, *salt, *info;
    size_t l;
    const char *prk, *okm;
} vector;

static const vector vectors[] = {
    {"A.1 basic SHA-256", HASH_SHA256, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
     "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
     "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    {"A.2 long inputs SHA-256", HASH_SHA256,
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     82, "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    {"A.3 zero-length salt/info SHA-256", HASH_SHA256,
     "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
    {"A.4 basic SHA-1", HASH_SHA1, "0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9", 42, "9b6c18c432a7bf8f0e71c8eb88f4b30baa2ba243",
     "085a01ea1b10f36933068b56efa5ad81a4f14b822f5b091568a9cdd4f155fda2c22e422478d305f3f896"},
    {"A.5 long inputs SHA-1", HASH_SHA1,
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     82, "8adae09a2a307059478d309b26c4115a224cfaf6",
     "0bd770a74d1160f7c9f12cd5912a06ebff6adcae899d92191fe4305673ba2ffe"
     "8fa3f1a4e5ad79f3f334b3b202b2173c486ea37ce3d397ed034c7f9dfeb15c5e"
     "927336d0441f4c4300e2cff0d0900b52d3b4"},
    {"A.6 zero-length salt/info SHA-1", HASH_SHA1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
     "", "", 42, "da8c8a73c7fa77288ec6f5e7c297786aa0d32d01",
     "0ac1af7002b3d761d1e55298da9d0506b9ae52057220a306e07b6b87e8df21d0ea00033de03984d34918"},
    {"A.7 no salt SHA-1", HASH_SHA1, "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", NULL, "", 42,
     "2adccada18779e7c2077ad2eb19d3f3e731385dd",
     "2c91117204d745f3500d636a62f64f0ab3bae548aa53d423b0d1f27ebba6f5e5673a081d70cce7acfc48"},
};

int main(void) {
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const vector *v = &vectors[i];
        uint8_t ikm[128], salt[128], info[128], prk[CRYPTO_MAX_HASH], okm[128];
        size_t ikm_len = test_unhex(v->ikm, ikm, sizeof ikm);
        size_t salt_len = v->salt ? test_unhex(v->salt, salt, sizeof salt) : 0;
        size_t info_len = test_unhex(v->info, info, sizeof info);
        memset(prk, 0xaa, sizeof prk);
        memset(okm, 0xaa, sizeof okm);
        int rc = hkdf_extract(v->hash, v->salt ? salt : NULL, salt_len, ikm, ikm_len, prk);
        CHECK(rc == 0, "%s: extract succeeds", v->name);
        CHECK_HEX(prk, hash_len(v->hash), v->prk, "%s: PRK", v->name);
        rc = hkdf_expand(v->hash, prk, hash_len(v->hash), info, info_len, okm, v->l);
        CHECK(rc == 0, "%s: expand succeeds", v->name);
        CHECK_HEX(okm, v->l, v->okm, "%s: OKM", v->name);
        CHECK(okm[v->l] == 0xaa, "%s: expand writes exactly L bytes", v->name);
    }

    /* Output limit: 255 * HashLen is the most HKDF-Expand can produce. */
    uint8_t prk[32] = {1}, big[255 * 32 + 1];
    CHECK(hkdf_expand(HASH_SHA256, prk, 32, NULL, 0, big, 255 * 32) == 0,
          "expand to 255*HashLen succeeds");
    CHECK(hkdf_expand(HASH_SHA256, prk, 32, NULL, 0, big, 255 * 32 + 1) != 0,
          "expand beyond 255*HashLen is refused");
    CHECK(hkdf_extract(HASH_COUNT, NULL, 0, prk, 32, big) != 0, "unknown hash is refused");

    /* RFC 4231 test case 2 for hmac() itself (key shorter than a block) and
     * test case 6 (key longer than a block, hashed first). */
    uint8_t mac[CRYPTO_MAX_HASH];
    const char *jefe = "what do ya want for nothing?";
    CHECK(hmac(HASH_SHA256, (const uint8_t *)"Jefe", 4, (const uint8_t *)jefe, strlen(jefe), mac) ==
              0,
          "hmac SHA-256 succeeds");
    CHECK_HEX(mac, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
              "RFC 4231 case 2 HMAC-SHA-256");
    CHECK(hmac(HASH_SHA512, (const uint8_t *)"Jefe", 4, (const uint8_t *)jefe, strlen(jefe), mac) ==
              0,
          "hmac SHA-512 succeeds");
    CHECK_HEX(mac, 64,
              "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
              "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
              "RFC 4231 case 2 HMAC-SHA-512");
    uint8_t key6[131];
    memset(key6, 0xaa, sizeof key6);
    const char *msg6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    CHECK(hmac(HASH_SHA384, key6, sizeof key6, (const uint8_t *)msg6, strlen(msg6), mac) == 0,
          "hmac SHA-384 long key succeeds");
    CHECK_HEX(mac, 48,
              "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f3cd11f05033ac4c6"
              "0c2ef6ab4030fe8296248df163f44952",
              "RFC 4231 case 6 HMAC-SHA-384");
    TEST_EXIT();
}
