/* RFC 8448 §3 "Simple 1-RTT Handshake", reproduced byte for byte with the
 * crypto layer: x25519, the whole key schedule (TLS_AES_128_GCM_SHA256),
 * transcript hashes over the trace's handshake messages, traffic keys and
 * IVs, Finished values, and the trace's protected records (seal and open).
 * Every expected value is copied from the RFC's trace (rfc8448_simple.h). */
#include "crypto/crypto.h"
#include "rfc8448_simple.h"
#include "testlib.h"

/* nonce = iv XOR (64-bit sequence number, left-padded) — RFC 8446 §5.3 */
static void make_nonce(const uint8_t iv[12], uint64_t seq, uint8_t nonce[12]) {
    memcpy(nonce, iv, 12);
    for (int i = 0; i < 8; i++)
        nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
}

/* Seals inner plaintext (content || type) into a record and compares with the
 * trace; then opens the trace's record (in place) and compares. */
static void check_record(const char *name, const uint8_t *key, const uint8_t *iv, uint64_t seq,
                         const uint8_t *content, size_t content_len, uint8_t type,
                         const char *record_hex) {
    test_buf record = test_hex(record_hex);
    uint8_t inner[1024], sealed[1024 + 5 + CRYPTO_AEAD_TAG], nonce[12];
    memcpy(inner, content, content_len);
    inner[content_len] = type;
    size_t inner_len = content_len + 1;
    size_t ct_len = inner_len + CRYPTO_AEAD_TAG;
    sealed[0] = 0x17;
    sealed[1] = 0x03;
    sealed[2] = 0x03;
    sealed[3] = (uint8_t)(ct_len >> 8);
    sealed[4] = (uint8_t)ct_len;
    make_nonce(iv, seq, nonce);

    aead_ctx enc, dec;
    CHECK(aead_init(&enc, AEAD_AES128GCM, key, true) == 0, "%s: seal context", name);
    CHECK(aead_seal(&enc, nonce, sealed, 5, inner, inner_len, sealed + 5) == 0, "%s: seal", name);
    CHECK(record.n == 5 + ct_len && memcmp(sealed, record.b, record.n) == 0,
          "%s: sealed record equals the trace's bytes", name);

    CHECK(aead_init(&dec, AEAD_AES128GCM, key, false) == 0, "%s: open context", name);
    int rc = aead_open(&dec, nonce, record.b, 5, record.b + 5, record.n - 5, record.b + 5);
    CHECK(rc == 0, "%s: the trace's record opens (in place)", name);
    CHECK(rc == 0 && record.n == 5 + ct_len && memcmp(record.b + 5, inner, inner_len) == 0,
          "%s: opened plaintext equals content || type", name);

    /* The same record one sequence number later must not authenticate. */
    test_buf again = test_hex(record_hex);
    uint8_t out[1024];
    make_nonce(iv, seq + 1, nonce);
    CHECK(aead_open(&dec, nonce, again.b, 5, again.b + 5, again.n - 5, out) == -1,
          "%s: the record does not open at sequence %llu", name, (unsigned long long)seq + 1);
    aead_free(&enc);
    aead_free(&dec);
}

int main(void) {
    const hash_alg H = HASH_SHA256;
    uint8_t zeros[32] = {0};
    uint8_t empty_hash[32], derived[32], early[32], hs[32], master[32];

    /* x25519, both directions. */
    test_buf cpriv = test_hex(CLIENT_PRIV), spriv = test_hex(SERVER_PRIV);
    test_buf cpub = test_hex(CLIENT_PUB), spub = test_hex(SERVER_PUB);
    kex_state *ck = NULL, *sk = NULL;
    CHECK(kex_x25519_from_raw(cpriv.b, &ck) == 0, "client x25519 key from raw bytes");
    CHECK(kex_x25519_from_raw(spriv.b, &sk) == 0, "server x25519 key from raw bytes");
    uint8_t ecdhe[CRYPTO_MAX_SHARED], ecdhe2[CRYPTO_MAX_SHARED];
    size_t ecdhe_len = 0, ecdhe2_len = 0;
    CHECK(kex_derive(0x001d, ck, spub.b, spub.n, ecdhe, &ecdhe_len) == 0,
          "client derives the shared secret");
    CHECK_HEX(ecdhe, ecdhe_len, ECDHE, "client's x25519 shared secret equals the trace's");
    CHECK(kex_derive(0x001d, sk, cpub.b, cpub.n, ecdhe2, &ecdhe2_len) == 0,
          "server derives the shared secret");
    CHECK_HEX(ecdhe2, ecdhe2_len, ECDHE, "server's x25519 shared secret equals the trace's");
    kex_free(ck);
    kex_free(sk);

    /* Early secret and the "derived" secret. */
    CHECK(hkdf_extract(H, NULL, 0, zeros, 32, early) == 0, "extract early secret");
    CHECK_HEX(early, 32, EARLY_SECRET, "early secret");
    CHECK(hash_oneshot(H, NULL, 0, empty_hash) == 0, "hash of the empty string");
    CHECK(derive_secret(H, early, "derived", empty_hash, derived) == 0, "derive 'derived'");
    CHECK_HEX(derived, 32, DERIVED_EARLY, "derived secret (from early)");

    /* Handshake secret from the trace's ECDHE output. */
    test_buf shared = test_hex(ECDHE);
    CHECK(hkdf_extract(H, derived, 32, shared.b, shared.n, hs) == 0, "extract handshake secret");
    CHECK_HEX(hs, 32, HANDSHAKE_SECRET, "handshake secret");

    /* Transcript over the trace's messages. */
    test_buf ch = test_hex(CLIENT_HELLO), sh = test_hex(SERVER_HELLO),
             ee = test_hex(ENCRYPTED_EXTENSIONS);
    test_buf cert = test_hex(CERTIFICATE), cv = test_hex(CERTIFICATE_VERIFY);
    test_buf sfin = test_hex(SERVER_FINISHED), cfin = test_hex(CLIENT_FINISHED);
    CHECK(ch.n == 196 && sh.n == 90 && ee.n == 40 && cert.n == 445 && cv.n == 136 && sfin.n == 36 &&
              cfin.n == 36,
          "handshake messages have the trace's lengths");
    transcript t;
    uint8_t h_ch_sh[32], h_ch_cv[32], h_ch_sf[32], h_ch_cf[32];
    CHECK(transcript_init(&t, H) == 0, "transcript init");
    CHECK(transcript_update(&t, ch.b, ch.n) == 0 && transcript_update(&t, sh.b, sh.n) == 0,
          "transcript: ClientHello, ServerHello");
    CHECK(transcript_current(&t, h_ch_sh) == 0, "transcript hash after ServerHello");
    CHECK_HEX(h_ch_sh, 32, HASH_CH_SH, "Transcript-Hash(ClientHello..ServerHello)");

    uint8_t c_hs[32], s_hs[32];
    CHECK(derive_secret(H, hs, "c hs traffic", h_ch_sh, c_hs) == 0, "derive c hs traffic");
    CHECK_HEX(c_hs, 32, C_HS_TRAFFIC, "client_handshake_traffic_secret");
    CHECK(derive_secret(H, hs, "s hs traffic", h_ch_sh, s_hs) == 0, "derive s hs traffic");
    CHECK_HEX(s_hs, 32, S_HS_TRAFFIC, "server_handshake_traffic_secret");

    uint8_t s_hs_key[16], s_hs_iv[12], c_hs_key[16], c_hs_iv[12];
    CHECK(hkdf_expand_label(H, s_hs, "key", NULL, 0, s_hs_key, 16) == 0, "server hs key");
    CHECK_HEX(s_hs_key, 16, S_HS_KEY, "server handshake write key");
    CHECK(hkdf_expand_label(H, s_hs, "iv", NULL, 0, s_hs_iv, 12) == 0, "server hs iv");
    CHECK_HEX(s_hs_iv, 12, S_HS_IV, "server handshake write iv");
    CHECK(hkdf_expand_label(H, c_hs, "key", NULL, 0, c_hs_key, 16) == 0, "client hs key");
    CHECK_HEX(c_hs_key, 16, C_HS_KEY, "client handshake write key");
    CHECK(hkdf_expand_label(H, c_hs, "iv", NULL, 0, c_hs_iv, 12) == 0, "client hs iv");
    CHECK_HEX(c_hs_iv, 12, C_HS_IV, "client handshake write iv");

    /* Server Finished over CH..CertificateVerify. */
    CHECK(transcript_update(&t, ee.b, ee.n) == 0 && transcript_update(&t, cert.b, cert.n) == 0 &&
              transcript_update(&t, cv.b, cv.n) == 0,
          "transcript: EE, Certificate, CertificateVerify");
    CHECK(transcript_current(&t, h_ch_cv) == 0, "transcript hash after CertificateVerify");
    uint8_t s_fin_key[32], c_fin_key[32], verify[32];
    CHECK(hkdf_expand_label(H, s_hs, "finished", NULL, 0, s_fin_key, 32) == 0,
          "server finished key");
    CHECK_HEX(s_fin_key, 32, S_FINISHED_KEY, "server finished_key");
    CHECK(hmac(H, s_fin_key, 32, h_ch_cv, 32, verify) == 0, "server verify_data");
    CHECK(memcmp(verify, sfin.b + 4, 32) == 0, "server Finished verify_data equals the trace's");

    CHECK(transcript_update(&t, sfin.b, sfin.n) == 0, "transcript: server Finished");
    CHECK(transcript_current(&t, h_ch_sf) == 0, "transcript hash after server Finished");
    CHECK_HEX(h_ch_sf, 32, HASH_CH_SF, "Transcript-Hash(ClientHello..server Finished)");

    /* Master secret and application traffic secrets. */
    CHECK(derive_secret(H, hs, "derived", empty_hash, derived) == 0, "derive 'derived' (hs)");
    CHECK_HEX(derived, 32, DERIVED_HS, "derived secret (from handshake)");
    CHECK(hkdf_extract(H, derived, 32, zeros, 32, master) == 0, "extract master secret");
    CHECK_HEX(master, 32, MASTER_SECRET, "master secret");
    uint8_t c_ap[32], s_ap[32], exp_master[32], res_master[32];
    CHECK(derive_secret(H, master, "c ap traffic", h_ch_sf, c_ap) == 0, "derive c ap traffic");
    CHECK_HEX(c_ap, 32, C_AP_TRAFFIC, "client_application_traffic_secret_0");
    CHECK(derive_secret(H, master, "s ap traffic", h_ch_sf, s_ap) == 0, "derive s ap traffic");
    CHECK_HEX(s_ap, 32, S_AP_TRAFFIC, "server_application_traffic_secret_0");
    CHECK(derive_secret(H, master, "exp master", h_ch_sf, exp_master) == 0, "derive exp master");
    CHECK_HEX(exp_master, 32, EXP_MASTER, "exporter_master_secret");

    uint8_t s_ap_key[16], s_ap_iv[12], c_ap_key[16], c_ap_iv[12];
    CHECK(hkdf_expand_label(H, s_ap, "key", NULL, 0, s_ap_key, 16) == 0, "server ap key");
    CHECK_HEX(s_ap_key, 16, S_AP_KEY, "server application write key");
    CHECK(hkdf_expand_label(H, s_ap, "iv", NULL, 0, s_ap_iv, 12) == 0, "server ap iv");
    CHECK_HEX(s_ap_iv, 12, S_AP_IV, "server application write iv");
    CHECK(hkdf_expand_label(H, c_ap, "key", NULL, 0, c_ap_key, 16) == 0, "client ap key");
    CHECK_HEX(c_ap_key, 16, C_AP_KEY, "client application write key");
    CHECK(hkdf_expand_label(H, c_ap, "iv", NULL, 0, c_ap_iv, 12) == 0, "client ap iv");
    CHECK_HEX(c_ap_iv, 12, C_AP_IV, "client application write iv");

    /* Client Finished over CH..server Finished. */
    CHECK(hkdf_expand_label(H, c_hs, "finished", NULL, 0, c_fin_key, 32) == 0,
          "client finished key");
    CHECK_HEX(c_fin_key, 32, C_FINISHED_KEY, "client finished_key");
    CHECK(hmac(H, c_fin_key, 32, h_ch_sf, 32, verify) == 0, "client verify_data");
    CHECK(crypto_equal_ct(verify, cfin.b + 4, 32),
          "client Finished verify_data equals the trace's");

    /* Resumption master secret over CH..client Finished. */
    CHECK(transcript_update(&t, cfin.b, cfin.n) == 0, "transcript: client Finished");
    CHECK(transcript_current(&t, h_ch_cf) == 0, "transcript hash after client Finished");
    CHECK_HEX(h_ch_cf, 32, HASH_CH_CF, "Transcript-Hash(ClientHello..client Finished)");
    CHECK(derive_secret(H, master, "res master", h_ch_cf, res_master) == 0, "derive res master");
    CHECK_HEX(res_master, 32, RES_MASTER, "resumption_master_secret");
    transcript_free(&t);

    /* The one-shot hash of all messages agrees with the running transcript. */
    uint8_t all[1024], oneshot[32];
    size_t n = 0;
    const test_buf *msgs[] = {&ch, &sh, &ee, &cert, &cv, &sfin, &cfin};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        memcpy(all + n, msgs[i]->b, msgs[i]->n);
        n += msgs[i]->n;
    }
    CHECK(hash_oneshot(H, all, n, oneshot) == 0, "one-shot hash of the transcript");
    CHECK_HEX(oneshot, 32, HASH_CH_CF, "one-shot hash equals the running transcript's");

    /* Protected records from the trace. */
    uint8_t flight[1024];
    size_t flight_len = 0;
    const test_buf *server_flight[] = {&ee, &cert, &cv, &sfin};
    for (size_t i = 0; i < 4; i++) {
        memcpy(flight + flight_len, server_flight[i]->b, server_flight[i]->n);
        flight_len += server_flight[i]->n;
    }
    check_record("server handshake flight", s_hs_key, s_hs_iv, 0, flight, flight_len, 0x16,
                 SERVER_HS_RECORD);
    check_record("client Finished", c_hs_key, c_hs_iv, 0, cfin.b, cfin.n, 0x16,
                 CLIENT_FINISHED_RECORD);
    uint8_t payload[50];
    for (int i = 0; i < 50; i++)
        payload[i] = (uint8_t)i;
    check_record("client application data", c_ap_key, c_ap_iv, 0, payload, 50, 0x17,
                 CLIENT_APP_RECORD);
    check_record("server application data", s_ap_key, s_ap_iv, 1, payload, 50, 0x17,
                 SERVER_APP_RECORD);
    TEST_EXIT();
}
