/* RFC 8448 §3 -> §4: the ticket of the "Simple 1-RTT Handshake" resumed by
 * the "Resumed 0-RTT Handshake", reproduced byte for byte with certa's own
 * resumption code (TLS_AES_128_GCM_SHA256):
 *
 *   §3  the NewSessionTicket record (the library's record layer seals the
 *       message to the trace's bytes and opens them), on_new_session_ticket()
 *       on that message from the §3 resumption_master_secret -> the stored
 *       session (session_decode) holds the trace's PSK, ticket, age_add and
 *       lifetime; ks_ticket_psk() with the ticket's nonce -> the PSK.
 *   §4  ks_early_secret(PSK) -> early secret; the binder key; ks_binder() over
 *       the hash of the ClientHello truncated before its binders list -> the
 *       binder inside the trace's ClientHello; x25519 from the §4 keys ->
 *       ECDHE; ks_handshake_secrets() on a connection that resumed with the
 *       PSK -> handshake secret, both handshake traffic secrets, master
 *       secret; the server's EE+Finished record opened with the library's
 *       record layer; ks_finished_mac() for both Finished;
 *       ks_application_secrets() -> both application traffic secrets; the
 *       client Finished record; ks_resumption_secret() -> §4's
 *       resumption_master_secret.
 *
 * The expected values are the RFC's (RFC 8448 §3 and §4, as printed there;
 * copied from public test suites that vendor them: Botan's
 * src/tests/test_tls_cipher_state.cpp, fizz's key scheduler tests, and others,
 * and cross-checked here against each other: a binder, a Finished or an AEAD
 * tag cannot match by accident). §4's trace also has 0-RTT data; certa
 * sends none, but EndOfEarlyData is part of §4's transcript and is fed as-is. */
#include "crypto/crypto.h"
#include "record/record.h"
#include "testlib.h"
#include "tls/tls.h"

/* ---- §3 ---- */
static const char *S3_RES_MASTER = "7d f2 35 f2 03 1d 2a 05 12 87 d0 2b 02 41 b0 bf"
                                   "da f8 6c c8 56 23 1f 2d 5a ba 46 c4 34 ec 19 6c";
static const char *S3_S_AP_TRAFFIC = "a1 1a f9 f0 55 31 f8 56 ad 47 11 6b 45 a9 50 32"
                                     "82 04 b4 f4 4b fb 6b 3a 4b 4f 1f 3f cb 63 16 43";
/* {server} construct a NewSessionTicket handshake message */
static const char *S3_NEW_SESSION_TICKET =
    "04 00 00 c9 00 00 00 1e fa d6 aa c5 02 00 00 00 b2 2c 03 5d 82 93 59 ee 5f"
    "f7 af 4e c9 00 00 00 00 26 2a 64 94 dc 48 6d 2c 8a 34 cb 33 fa 90 bf 1b 00"
    "70 ad 3c 49 88 83 c9 36 7c 09 a2 be 78 5a bc 55 cd 22 60 97 a3 a9 82 11 72"
    "83 f8 2a 03 a1 43 ef d3 ff 5d d3 6d 64 e8 61 be 7f d6 1d 28 27 db 27 9c ce"
    "14 50 77 d4 54 a3 66 4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc 67 d2 ae"
    "a7 05 29 51 3e 3d a2 67 7f a5 90 6c 5b 3f 7d 8f 92 f2 28 bd a4 0d da 72 14"
    "70 f9 fb f2 97 b5 ae a6 17 64 6f ac 5c 03 27 2e 97 07 27 c6 21 a7 91 41 ef"
    "5f 7d e6 50 5e 5b fb c3 88 e9 33 43 69 40 93 93 4a e4 d3 57 00 08 00 2a 00"
    "04 00 00 04 00";
/* {server} send handshake record (the ticket, under server_application_traffic_secret_0) */
static const char *S3_NST_RECORD =
    "17 03 03 00 de 3a 6b 8f 90 41 4a 97 d6 95 9c 34 87 68 0d e5 13 4a 2b 24 0e"
    "6c ff ac 11 6e 95 d4 1d 6a f8 f6 b5 80 dc f3 d1 1d 63 c7 58 db 28 9a 01 59"
    "40 25 2f 55 71 3e 06 1d c1 3e 07 88 91 a3 8e fb cf 57 53 ad 8e f1 70 ad 3c"
    "73 53 d1 6d 9d a7 73 b9 ca 7f 2b 9f a1 b6 c0 d4 a3 d0 3f 75 e0 9c 30 ba 1e"
    "62 97 2a c4 6f 75 f7 b9 81 be 63 43 9b 29 99 ce 13 06 46 15 13 98 91 d5 e4"
    "c5 b4 06 f1 6e 3f c1 81 a7 7c a4 75 84 00 25 db 2f 0a 77 f8 1b 5a b0 5b 94"
    "c0 13 46 75 5f 69 23 2c 86 51 9d 86 cb ee ac 87 aa c3 47 d1 43 f9 60 5d 64"
    "f6 50 db 4d 02 3e 70 e9 52 ca 49 fe 51 37 12 1c 74 bc 26 97 68 7e 24 87 46"
    "d6 df 35 30 05 f3 bc e1 86 96 12 9c 81 53 55 6b 3b 6c 67 79 b3 7b f1 59 85"
    "68 4f";
/* {server} derive secret "tls13 resumption" (the PSK; §4's early-secret IKM) */
static const char *PSK = "4e cd 0e b6 ec 3b 4d 87 f5 d6 02 8f 92 2c a4 c5"
                         "85 1a 27 7f d4 13 11 c9 e6 2d 2c 94 92 e1 c4 f3";

/* ---- §4 ---- */
static const char *CLIENT_PRIV = "bf f9 11 88 28 38 46 dd 6a 21 34 ef 71 80 ca 2b"
                                 "0b 14 fb 10 dc e7 07 b5 09 8c 0d dd c8 13 b2 df";
static const char *CLIENT_PUB = "e4 ff b6 8a c0 5f 8d 96 c9 9d a2 66 98 34 6c 6b"
                                "e1 64 82 ba dd da fe 05 1a 66 b4 f1 8d 66 8f 0b";
static const char *SERVER_PRIV = "de 5b 44 76 e7 b4 90 b2 65 2d 33 8a cb f2 94 80"
                                 "66 f2 55 f9 44 0e 23 b9 8f c6 98 35 29 8d c1 07";
static const char *SERVER_PUB = "12 17 61 ee 42 c3 33 e1 b9 e7 7b 60 dd 57 c2 05"
                                "3c d9 45 12 ab 47 f1 15 e8 6e ff 50 94 2c ea 31";
static const char *EARLY_SECRET = "9b 21 88 e9 b2 fc 6d 64 d7 1d c3 29 90 0e 20 bb"
                                  "41 91 50 00 f6 78 aa 83 9c bb 79 7c b7 d8 33 2c";
static const char *BINDER_KEY = "69 fe 13 1a 3b ba d5 d6 3c 64 ee bc c3 0e 39 5b"
                                "9d 81 07 72 6a 13 d0 74 e3 89 db c8 a4 e4 72 56";
/* {client} construct a ClientHello handshake message (512 octets; the trace
 * prints its first 477 octets, the part the binder covers, and then all of
 * it; pre_shared_key is last: identity = §3's ticket, binder at the end). */
static const char *CLIENT_HELLO =
    "01 00 01 fc 03 03 1b c3 ce b6 bb e3 9c ff 93 83 55 b5 a5 0a db 6d b2 1b 7a"
    "6a f6 49 d7 b4 bc 41 9d 78 76 48 7d 95 00 00 06 13 01 13 03 13 02 01 00 01"
    "cd 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14"
    "00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 33 00 26 00"
    "24 00 1d 00 20 e4 ff b6 8a c0 5f 8d 96 c9 9d a2 66 98 34 6c 6b e1 64 82 ba"
    "dd da fe 05 1a 66 b4 f1 8d 66 8f 0b 00 2a 00 00 00 2b 00 03 02 03 04 00 0d"
    "00 20 00 1e 04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02"
    "01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01 00 15 00 57"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 29 00 dd 00 b8 00 b2 2c 03 5d 82 93"
    "59 ee 5f f7 af 4e c9 00 00 00 00 26 2a 64 94 dc 48 6d 2c 8a 34 cb 33 fa 90"
    "bf 1b 00 70 ad 3c 49 88 83 c9 36 7c 09 a2 be 78 5a bc 55 cd 22 60 97 a3 a9"
    "82 11 72 83 f8 2a 03 a1 43 ef d3 ff 5d d3 6d 64 e8 61 be 7f d6 1d 28 27 db"
    "27 9c ce 14 50 77 d4 54 a3 66 4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc"
    "67 d2 ae a7 05 29 51 3e 3d a2 67 7f a5 90 6c 5b 3f 7d 8f 92 f2 28 bd a4 0d"
    "da 72 14 70 f9 fb f2 97 b5 ae a6 17 64 6f ac 5c 03 27 2e 97 07 27 c6 21 a7"
    "91 41 ef 5f 7d e6 50 5e 5b fb c3 88 e9 33 43 69 40 93 93 4a e4 d3 57 fa d6"
    "aa cb 00 21 20 3a dd 4f b2 d8 fd f8 22 a0 ca 3c f7 67 8e f5 e8 8d ae 99 01"
    "41 c5 92 4d 57 bb 6f a3 1b 9e 5f 9d";
/* Transcript-Hash(Truncate(ClientHello)): the "binder hash". */
static const char *BINDER_HASH = "63 22 4b 2e 45 73 f2 d3 45 4c a8 4b 9d 00 9a 04"
                                 "f6 be 9e 05 71 1a 83 96 47 3a ef a0 1e 92 4a 14";
static const char *BINDER = "3a dd 4f b2 d8 fd f8 22 a0 ca 3c f7 67 8e f5 e8"
                            "8d ae 99 01 41 c5 92 4d 57 bb 6f a3 1b 9e 5f 9d";
static const char *HASH_CH = "08 ad 0f a0 5d 7c 72 33 b1 77 5b a2 ff 9f 4c 5b"
                             "8b 59 27 6b 7f 22 7f 13 a9 76 24 5f 5d 96 09 13";
static const char *SERVER_HELLO =
    "02 00 00 5c 03 03 3c cf d2 de c8 90 22 27 63 47 2a e8 13 67 77 c9 d7 35 87"
    "77 bb 66 e9 1e a5 12 24 95 f5 59 ea 2d 00 13 01 00 00 34 00 29 00 02 00 00"
    "00 33 00 24 00 1d 00 20 12 17 61 ee 42 c3 33 e1 b9 e7 7b 60 dd 57 c2 05 3c"
    "d9 45 12 ab 47 f1 15 e8 6e ff 50 94 2c ea 31 00 2b 00 02 03 04";
static const char *ENCRYPTED_EXTENSIONS =
    "08 00 00 28 00 26 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01"
    "02 01 03 01 04 00 1c 00 02 40 01 00 00 00 00 00 2a 00 00";
static const char *SERVER_FINISHED = "14 00 00 20 48 d3 e0 e1 b3 d9 07 c6 ac ff 14 5e 16 09 03 88"
                                     "c7 7b 05 c0 50 b6 34 ab 1a 88 bb d0 dd 1a 34 b2";
static const char *END_OF_EARLY_DATA = "05 00 00 00";
static const char *CLIENT_FINISHED = "14 00 00 20 72 30 a9 c9 52 c2 5c d6 13 8f c5 e6 62 83 08 c4"
                                     "1c 53 35 dd 81 b9 f9 6b ce a5 0f d3 2b da 41 6d";
/* {server} send handshake record: EncryptedExtensions and Finished. */
static const char *SERVER_HS_RECORD =
    "17 03 03 00 61 dc 48 23 7b 4b 87 9f 50 d0 d4 d2 62 ea 8b 47 16 eb 40 dd c1"
    "eb 95 7e 11 12 6e 8a 71 49 c2 d0 12 d3 7a 71 15 95 7e 64 ce 30 00 8b 9e 03"
    "23 f2 c0 5a 9c 1c 77 b4 f3 78 49 a6 95 ab 25 50 60 a3 3f ee 77 0c a9 5c b8"
    "48 6b fd 08 43 b8 70 24 86 5c a3 5c c4 1c 4e 51 5c 64 dc b1 36 9f 98 63 5b"
    "c7 a5";
/* {client} send handshake record: Finished (under the handshake key). */
static const char *CLIENT_FINISHED_RECORD =
    "17 03 03 00 35 00 f8 b4 67 d1 4c f2 2a 4b 3f 0b 6a e0 d8 e6 cc 8d 08 e0 db"
    "35 15 ef 5c 2b df 19 22 ea fb b7 00 09 96 47 16 d8 34 fb 70 c3 d2 a5 6c 5b"
    "1f 5f 6b db a6 c3 33 cf";

static const char *ECDHE = "f4 41 94 75 6f f9 ec 9d 25 18 06 35 d6 6e a6 82"
                           "4c 6a b3 bf 17 99 77 be 37 f7 23 57 0e 7c cb 2e";
static const char *DERIVED_EARLY = "5f 17 90 bb d8 2c 5e 7d 37 6e d2 e1 e5 2f 8e 60"
                                   "38 c9 34 6d b6 1b 43 be 9a 52 f7 7e f3 99 8e 80";
static const char *HANDSHAKE_SECRET = "00 5c b1 12 fd 8e b4 cc c6 23 bb 88 a0 7c 64 b3"
                                      "ed e1 60 53 63 fc 7d 0d f8 c7 ce 4f f0 fb 4a e6";
static const char *HASH_CH_SH = "f7 36 cb 34 fe 25 e7 01 55 1b ee 6f d2 4c 1c c7"
                                "10 2a 7d af 94 05 cb 15 d9 7a af e1 6f 75 7d 03";
static const char *C_HS_TRAFFIC = "2f aa c0 8f 85 1d 35 fe a3 60 4f cb 4d e8 2d c6"
                                  "2c 9b 16 4a 70 97 4d 04 62 e2 7f 1a b2 78 70 0f";
static const char *S_HS_TRAFFIC = "fe 92 7a e2 71 31 2e 8b f0 27 5b 58 1c 54 ee f0"
                                  "20 45 0d c4 ec ff aa 05 a1 a3 5d 27 51 8e 78 03";
static const char *MASTER_SECRET = "e2 d3 2d 4e d6 6d d3 78 97 a0 e8 0c 84 10 75 03"
                                   "ce 58 bf 8a ad 4c b5 5a 50 02 d7 7e cb 89 0e ce";
static const char *S_HS_KEY = "27 c6 bd c0 a3 dc ea 39 a4 73 26 d7 9b c9 e4 ee";
static const char *S_HS_IV = "95 69 ec dd 4d 05 36 70 5e 9e f7 25";
static const char *C_HS_KEY = "b1 53 08 06 f4 ad fe ac 83 f1 41 30 32 bb fa 82";
static const char *C_HS_IV = "eb 50 c1 6b e7 65 4a bf 99 dd 06 d9";
static const char *HASH_CH_SF = "b0 ae ff c4 6a 2c fe 33 11 4e 6f d7 d5 1f 9f 04"
                                "b1 ca 3c 49 7d ab 08 93 4a 77 4a 9d 9a d7 db f3";
static const char *C_AP_TRAFFIC = "2a bb f2 b8 e3 81 d2 3d be be 1d d2 a7 d1 6a 8b"
                                  "f4 84 cb 49 50 d2 3f b7 fb 7f a8 54 70 62 d9 a1";
static const char *S_AP_TRAFFIC = "cc 21 f1 bf 8f eb 7d d5 fa 50 5b d9 c4 b4 68 a9"
                                  "98 4d 55 4a 99 3d c4 9e 6d 28 55 98 fb 67 26 91";
static const char *HASH_CH_CF = "c3 c1 22 e0 bd 90 7a 4a 3f f6 11 2d 8f d5 3d bf"
                                "89 c7 73 d9 55 2e 8b 6b 9d 56 d3 61 b3 a9 7b f6";
static const char *RES_MASTER = "5e 95 bd f1 f8 90 05 ea 2e 9a a0 ba 85 e7 28 e3"
                                "c1 9c 5f e0 c6 99 e3 f5 be e5 9f ae bd 0b 54 06";

static bool same(const uint8_t *a, size_t a_len, const test_buf *b) {
    return a_len == b->n && memcmp(a, b->b, a_len) == 0;
}

static int64_t trace_time(void *arg) {
    (void)arg;
    return 1500000000;
}

/* A connection object for calling the key schedule directly: only what the
 * functions under test read is set. Not from certa_*_new, so freed by hand. */
static certa_conn *bare_conn(certa_config *cfg) {
    certa_conn *c = calloc(1, sizeof *c);
    if (!c) abort();
    c->cfg = cfg;
    c->suite = cipher_suite_find(0x1301);
    c->tx.aead.encrypt = true; /* as conn_new does */
    return c;
}

static void bare_conn_free(certa_conn *c) {
    if (c->th_started) transcript_free(&c->th);
    record_protection_clear(&c->rx);
    record_protection_clear(&c->tx);
    if (c->session) {
        crypto_zero(c->session, c->session_len);
        free(c->session);
    }
    free(c->early_trace); /* trace lines kept while no trace function is set */
    crypto_zero(c, sizeof *c);
    free(c);
}

/* §3: the ticket, its record, and the session a client keeps from it. */
static void section3(certa_config *cfg) {
    const hash_alg H = HASH_SHA256;
    test_buf nst = test_hex(S3_NEW_SESSION_TICKET), record = test_hex(S3_NST_RECORD);
    test_buf rms = test_hex(S3_RES_MASTER), s_ap = test_hex(S3_S_AP_TRAFFIC);
    CHECK(nst.n == 205 && record.n == 5 + 222, "§3 NewSessionTicket: 205 octets, record 227");

    /* The record layer: sealing the message gives the trace's record, and
     * the trace's record opens to the message. */
    record_protection tx = {0}, rx = {0};
    tx.aead.encrypt = true; /* the direction, as conn_new sets it */
    builder out;
    bld_init_alloc(&out, 512);
    CHECK(record_set_secret(&tx, AEAD_AES128GCM, H, s_ap.b) == 0 &&
              record_write(&tx, &out, CONTENT_HANDSHAKE, nst.b, nst.n) == 0,
          "§3: seal the NewSessionTicket under server_application_traffic_secret_0");
    CHECK(same(out.buf, out.len, &record), "§3: the sealed ticket record equals the trace's bytes");
    bld_free(&out);
    uint8_t type = 0;
    size_t plain_len = 0;
    test_buf rec = record;
    CHECK(record_set_secret(&rx, AEAD_AES128GCM, H, s_ap.b) == 0 &&
              record_open(&rx, rec.b, rec.b + 5, rec.n - 5, &type, &plain_len) == 0 &&
              type == CONTENT_HANDSHAKE && same(rec.b + 5, plain_len, &nst),
          "§3: the trace's ticket record opens to the NewSessionTicket");
    record_protection_clear(&tx);
    record_protection_clear(&rx);

    /* The PSK from the ticket's nonce. */
    cursor body, nonce, ticket;
    uint32_t lifetime = 0, age_add = 0;
    cur_init(&body, nst.b + 4, nst.n - 4);
    CHECK(cur_u32(&body, &lifetime) && cur_u32(&body, &age_add) && cur_vec8(&body, &nonce) &&
              cur_vec16(&body, &ticket) && nonce.len == 2 && nonce.data[0] == 0 &&
              nonce.data[1] == 0 && ticket.len == 178 && lifetime == 30 && age_add == 0xfad6aac5,
          "§3 NewSessionTicket: lifetime 30 s, age_add fad6aac5, nonce 00 00, 178-byte ticket");
    uint8_t psk[32];
    CHECK(ks_ticket_psk(H, rms.b, nonce.data, nonce.len, psk) == 0,
          "ks_ticket_psk(resumption_master_secret, nonce)");
    CHECK_HEX(psk, 32, PSK, "§3: the ticket's PSK equals the trace's (\"tls13 resumption\")");
    uint8_t other[32];
    static const uint8_t nonce1[2] = {0, 1};
    CHECK(ks_ticket_psk(H, rms.b, nonce1, 2, other) == 0 && memcmp(other, psk, 32) != 0,
          "another nonce gives another PSK");

    /* The client side: on_new_session_ticket() stores a session holding
     * the trace's PSK and ticket. */
    certa_conn *c = bare_conn(cfg);
    memcpy(c->resumption_secret, rms.b, 32);
    snprintf(c->server_name, sizeof c->server_name, "server");
    c->auth_time = trace_time(NULL) - 5;
    cur_init(&body, nst.b + 4, nst.n - 4);
    CHECK(on_new_session_ticket(c, &body) == 0 && c->session && c->session_len > 0,
          "on_new_session_ticket accepts the trace's ticket (%s)", c->error_text);
    session_state s;
    CHECK(c->session && session_decode(c->session, c->session_len, &s) == 0,
          "the stored session decodes");
    CHECK(c->session && s.suite == 0x1301 && s.lifetime == 30 && s.age_add == 0xfad6aac5 &&
              s.issued == trace_time(NULL) && s.auth_time == c->auth_time &&
              !strcmp(s.server_name, "server"),
          "stored session: suite, lifetime, age_add, issue time, auth time, server name");
    CHECK_HEX(s.psk, s.psk_len, PSK, "stored session: its PSK equals the trace's");
    CHECK(c->session && s.ticket_len == ticket.len && !memcmp(s.ticket, ticket.data, ticket.len),
          "stored session: its ticket is the trace's, byte for byte");
    crypto_zero(&s, sizeof s);
    size_t cached_len = 0;
    uint8_t *cached = session_cache_take(cfg, "server", &cached_len);
    CHECK(cached && c->session && cached_len == c->session_len &&
              !memcmp(cached, c->session, cached_len),
          "the client cache got the same session under the server name");
    if (cached) {
        crypto_zero(cached, cached_len);
        free(cached);
    }
    bare_conn_free(c);
}

/* §4: binder, early secret, and the PSK-with-ECDHE handshake. */
static void section4(certa_config *cfg) {
    const hash_alg H = HASH_SHA256;
    test_buf psk = test_hex(PSK), ch = test_hex(CLIENT_HELLO), sh = test_hex(SERVER_HELLO);
    test_buf ee = test_hex(ENCRYPTED_EXTENSIONS), sfin = test_hex(SERVER_FINISHED);
    test_buf eoed = test_hex(END_OF_EARLY_DATA), cfin = test_hex(CLIENT_FINISHED);
    test_buf nst = test_hex(S3_NEW_SESSION_TICKET);
    CHECK(ch.n == 512 && sh.n == 96 && ee.n == 44 && sfin.n == 36 && cfin.n == 36,
          "§4 messages have the trace's lengths (ClientHello 512 octets)");

    /* Early secret and binder key from the PSK. */
    uint8_t early[32], empty[32], binder_key[32], derived[32];
    CHECK(ks_early_secret(H, psk.b, early) == 0, "ks_early_secret(PSK)");
    CHECK_HEX(early, 32, EARLY_SECRET, "§4: early secret from the PSK");
    uint8_t zero_early[32], zeros[32] = {0}, plain_early[32];
    CHECK(ks_early_secret(H, NULL, zero_early) == 0 &&
              hkdf_extract(H, NULL, 0, zeros, 32, plain_early) == 0 &&
              !memcmp(zero_early, plain_early, 32) && memcmp(zero_early, early, 32),
          "ks_early_secret(NULL) is the no-PSK early secret (zeros), not the PSK's");
    CHECK(hash_oneshot(H, NULL, 0, empty) == 0 &&
              derive_secret(H, early, "res binder", empty, binder_key) == 0,
          "derive \"res binder\"");
    CHECK_HEX(binder_key, 32, BINDER_KEY, "§4: binder key");
    CHECK(derive_secret(H, early, "derived", empty, derived) == 0, "derive \"derived\" (early)");
    CHECK_HEX(derived, 32, DERIVED_EARLY, "§4: derived secret (from the PSK's early secret)");

    /* The ClientHello's pre_shared_key: last extension, one identity (the
     * §3 ticket), one 32-byte binder ending the message. */
    const uint8_t *ext_psk = ch.b + ch.n - (4 + 2 + 2 + 178 + 4 + 2 + 1 + 32);
    cursor body, ticket;
    uint32_t obfuscated = 0;
    cur_init(&body, ext_psk, ch.n - (size_t)(ext_psk - ch.b));
    uint16_t ext_type = 0, ext_len = 0, ids_len = 0, binders_len = 0;
    uint8_t binder_len = 0;
    bool parsed = cur_u16(&body, &ext_type) && cur_u16(&body, &ext_len) &&
                  cur_u16(&body, &ids_len) && cur_vec16(&body, &ticket) &&
                  cur_u32(&body, &obfuscated) && cur_u16(&body, &binders_len) &&
                  cur_u8(&body, &binder_len) && body.len == 32;
    CHECK(parsed && ext_type == EXT_PRE_SHARED_KEY && ext_len == 2 + 184 + 2 + 33 &&
              ids_len == 184 && binders_len == 33 && binder_len == 32,
          "§4 ClientHello ends with pre_shared_key: one identity, one 32-byte binder");
    CHECK(parsed && ticket.len == 178 && !memcmp(ticket.data, nst.b + 4 + 4 + 4 + 3 + 2, 178),
          "§4: the offered identity is §3's ticket");
    CHECK(parsed && obfuscated - 0xfad6aac5u < 10000,
          "§4: obfuscated_ticket_age minus §3's age_add is a plausible age (%u ms)",
          (unsigned)(obfuscated - 0xfad6aac5u));

    /* The binder: over the ClientHello up to (not including) the binders
     * list, i.e. without its last 2 + 1 + 32 bytes. */
    size_t truncated = ch.n - (2 + 1 + 32);
    CHECK(truncated == 477, "the truncated ClientHello is the trace's 477 octets");
    uint8_t th[32], binder[32];
    CHECK(hash_oneshot(H, ch.b, truncated, th) == 0, "hash of the truncated ClientHello");
    CHECK_HEX(th, 32, BINDER_HASH, "§4: Transcript-Hash(Truncate(ClientHello)) (binder hash)");
    CHECK(ks_binder(H, psk.b, th, binder) == 0, "ks_binder(PSK, binder hash)");
    CHECK_HEX(binder, 32, BINDER, "§4: the binder equals the trace's");
    CHECK(memcmp(binder, ch.b + ch.n - 32, 32) == 0,
          "§4: the binder equals the bytes in the ClientHello's pre_shared_key");
    /* The client's way of hashing it: header and body through a transcript
     * without copying (write_binder uses transcript_current_with). */
    transcript t;
    uint8_t th2[32];
    CHECK(transcript_init(&t, H) == 0 &&
              transcript_current_with(&t, ch.b, 4, ch.b + 4, truncated - 4, th2) == 0 &&
              !memcmp(th, th2, 32),
          "transcript_current_with(header, truncated body) gives the same binder hash");
    transcript_free(&t);
    uint8_t wrong_psk[32], wrong[32];
    memcpy(wrong_psk, psk.b, 32);
    wrong_psk[31] ^= 1;
    CHECK(ks_binder(H, wrong_psk, th, wrong) == 0 && memcmp(wrong, binder, 32) != 0,
          "a PSK one bit off gives another binder");

    uint8_t full_hash[32];
    CHECK(hash_oneshot(H, ch.b, ch.n, full_hash) == 0, "hash of the whole ClientHello");
    CHECK_HEX(full_hash, 32, HASH_CH, "§4: Transcript-Hash(ClientHello) with the binder");

    /* ECDHE from the §4 key pairs; the public keys are the ones in the
     * hellos. */
    test_buf cpriv = test_hex(CLIENT_PRIV), spriv = test_hex(SERVER_PRIV);
    test_buf cpub = test_hex(CLIENT_PUB), spub = test_hex(SERVER_PUB);
    bool cpub_in = false, spub_in = false;
    for (size_t i = 0; i + 32 <= ch.n; i++)
        cpub_in = cpub_in || !memcmp(ch.b + i, cpub.b, 32);
    for (size_t i = 0; i + 32 <= sh.n; i++)
        spub_in = spub_in || !memcmp(sh.b + i, spub.b, 32);
    CHECK(cpub_in && spub_in, "§4: the key shares carry the trace's public keys");
    kex_state *ck = NULL, *sk = NULL;
    uint8_t ecdhe[CRYPTO_MAX_SHARED], ecdhe2[CRYPTO_MAX_SHARED];
    size_t ecdhe_len = 0, ecdhe2_len = 0;
    CHECK(kex_x25519_from_raw(cpriv.b, &ck) == 0 && kex_x25519_from_raw(spriv.b, &sk) == 0,
          "§4 x25519 keys from raw bytes");
    CHECK(kex_derive(0x001d, ck, spub.b, spub.n, ecdhe, &ecdhe_len) == 0 &&
              kex_derive(0x001d, sk, cpub.b, cpub.n, ecdhe2, &ecdhe2_len) == 0,
          "§4: both sides derive the shared secret");
    CHECK_HEX(ecdhe, ecdhe_len, ECDHE, "§4: client's x25519 shared secret");
    CHECK_HEX(ecdhe2, ecdhe2_len, ECDHE, "§4: server's x25519 shared secret");
    kex_free(ck);
    kex_free(sk);

    /* The key schedule of a connection that resumed with the PSK. */
    certa_conn *c = bare_conn(cfg);
    c->resumed = true;
    memcpy(c->psk, psk.b, 32);
    CHECK(transcript_add(c, ch.b, ch.n) == 0 && transcript_start(c) == 0 &&
              transcript_add(c, sh.b, sh.n) == 0,
          "transcript: ClientHello (kept until the suite is known), ServerHello");
    uint8_t h[32];
    CHECK(transcript_hash(c, h) == 0, "transcript hash after ServerHello");
    CHECK_HEX(h, 32, HASH_CH_SH, "§4: Transcript-Hash(ClientHello..ServerHello)");
    CHECK(ks_handshake_secrets(c, ecdhe, ecdhe_len) == 0, "ks_handshake_secrets (resumed)");
    CHECK_HEX(c->handshake_secret, 32, HANDSHAKE_SECRET,
              "§4: handshake secret (PSK early secret + ECDHE)");
    CHECK_HEX(c->client_hs_secret, 32, C_HS_TRAFFIC, "§4: client_handshake_traffic_secret");
    CHECK_HEX(c->server_hs_secret, 32, S_HS_TRAFFIC, "§4: server_handshake_traffic_secret");
    CHECK_HEX(c->master_secret, 32, MASTER_SECRET, "§4: master secret");
    uint8_t key[16], iv[12];
    CHECK(hkdf_expand_label(H, c->server_hs_secret, "key", NULL, 0, key, 16) == 0 &&
              hkdf_expand_label(H, c->server_hs_secret, "iv", NULL, 0, iv, 12) == 0,
          "server handshake key and iv");
    CHECK_HEX(key, 16, S_HS_KEY, "§4: server handshake write key");
    CHECK_HEX(iv, 12, S_HS_IV, "§4: server handshake write iv");
    CHECK(hkdf_expand_label(H, c->client_hs_secret, "key", NULL, 0, key, 16) == 0 &&
              hkdf_expand_label(H, c->client_hs_secret, "iv", NULL, 0, iv, 12) == 0,
          "client handshake key and iv");
    CHECK_HEX(key, 16, C_HS_KEY, "§4: client handshake write key");
    CHECK_HEX(iv, 12, C_HS_IV, "§4: client handshake write iv");

    /* Not resumed, the same inputs give another handshake secret. */
    certa_conn *plain = bare_conn(cfg);
    CHECK(transcript_add(plain, ch.b, ch.n) == 0 && transcript_start(plain) == 0 &&
              transcript_add(plain, sh.b, sh.n) == 0 &&
              ks_handshake_secrets(plain, ecdhe, ecdhe_len) == 0 &&
              memcmp(plain->handshake_secret, c->handshake_secret, 32) != 0,
          "without c->resumed the PSK is not used (another handshake secret)");
    bare_conn_free(plain);

    /* The server's flight: one record with EE and Finished. */
    test_buf rec = test_hex(SERVER_HS_RECORD);
    uint8_t type = 0;
    size_t plain_len = 0;
    CHECK(conn_set_rx(c, c->server_hs_secret) == 0 &&
              record_open(&c->rx, rec.b, rec.b + 5, rec.n - 5, &type, &plain_len) == 0 &&
              type == CONTENT_HANDSHAKE && plain_len == ee.n + sfin.n &&
              !memcmp(rec.b + 5, ee.b, ee.n) && !memcmp(rec.b + 5 + ee.n, sfin.b, sfin.n),
          "§4: the server's handshake record opens to EncryptedExtensions + Finished");
    CHECK(transcript_add(c, ee.b, ee.n) == 0, "transcript: EncryptedExtensions");
    uint8_t mac[32];
    CHECK(ks_finished_mac(c, c->server_hs_secret, mac) == 0 && !memcmp(mac, sfin.b + 4, 32),
          "§4: server Finished verify_data (ks_finished_mac) equals the trace's");
    CHECK(transcript_add(c, sfin.b, sfin.n) == 0 && transcript_hash(c, h) == 0,
          "transcript: server Finished");
    CHECK_HEX(h, 32, HASH_CH_SF, "§4: Transcript-Hash(ClientHello..server Finished)");
    uint8_t c_hs[32];
    memcpy(c_hs, c->client_hs_secret, 32);
    CHECK(ks_application_secrets(c) == 0, "ks_application_secrets");
    CHECK_HEX(c->client_app_secret, 32, C_AP_TRAFFIC, "§4: client_application_traffic_secret_0");
    CHECK_HEX(c->server_app_secret, 32, S_AP_TRAFFIC, "§4: server_application_traffic_secret_0");

    /* The client's Finished (after EndOfEarlyData, part of §4's transcript). */
    CHECK(transcript_add(c, eoed.b, eoed.n) == 0, "transcript: EndOfEarlyData");
    CHECK(ks_finished_mac(c, c_hs, mac) == 0 && !memcmp(mac, cfin.b + 4, 32),
          "§4: client Finished verify_data (ks_finished_mac) equals the trace's");
    builder out;
    bld_init_alloc(&out, 128);
    test_buf cfin_rec = test_hex(CLIENT_FINISHED_RECORD);
    CHECK(conn_set_tx(c, c_hs) == 0 &&
              record_write(&c->tx, &out, CONTENT_HANDSHAKE, cfin.b, cfin.n) == 0 &&
              same(out.buf, out.len, &cfin_rec),
          "§4: the client Finished record sealed by the record layer equals the trace's");
    bld_free(&out);
    CHECK(transcript_add(c, cfin.b, cfin.n) == 0 && transcript_hash(c, h) == 0,
          "transcript: client Finished");
    CHECK_HEX(h, 32, HASH_CH_CF, "§4: Transcript-Hash(ClientHello..client Finished)");
    uint8_t rms[32];
    CHECK(ks_resumption_secret(c, rms) == 0, "ks_resumption_secret");
    CHECK_HEX(rms, 32, RES_MASTER, "§4: resumption_master_secret");

    ks_wipe(c);
    static const uint8_t none[CRYPTO_MAX_HASH];
    CHECK(!memcmp(c->psk, none, sizeof none) && !memcmp(c->resumption_secret, none, sizeof none) &&
              !memcmp(c->master_secret, none, sizeof none),
          "ks_wipe clears the PSK, the resumption secret and the master secret");
    bare_conn_free(c);
}

int main(void) {
    certa_config *cfg = certa_config_new();
    certa_config_set_time_fn(cfg, trace_time, NULL);
    section3(cfg);
    section4(cfg);
    certa_config_free(cfg);
    TEST_EXIT();
}
