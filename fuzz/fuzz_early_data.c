/* The server's 0-RTT states (src/tls/early_data.c, conn.c): a real certa
 * client resumes a session whose ticket allows early data and sends some
 * (its length and bytes from the input) behind its ClientHello; then the
 * input is a program of records for the server, sealed with the client's
 * early key (application data, handshake messages such as a malformed
 * EndOfEarlyData), or plaintext, or raw bytes; then the real client and
 * server finish as they can. Byte 0 picks the anti-replay store's answer
 * (first use, seen, unavailable) and so whether the server is in the
 * accepted state (ST_SERVER_WAIT_EOED) or skipping rejected records.
 * Oracle: the store's answer decides acceptance; early data reaches
 * certa_conn_read_early only when it was accepted, never more than the
 * allowed bytes, and certa_conn_read returns nothing before the handshake
 * is done. Time and randomness are fixed. Seeds: fuzz/corpus/early_data/. */
#include "certa.h"
#include "crypto/crypto.h"
#include "fuzz_fixed.h"
#include "fuzz_identity.h"
#include "tls/tls.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

#define MAX_EARLY 1024
static const char server_name[] = "fuzz.example";
static int replay_answer;

static int fz_replay(void *arg, const uint8_t *id, size_t id_len, uint32_t keep) {
    (void)arg;
    (void)id;
    (void)id_len;
    (void)keep;
    return replay_answer;
}

static certa_config *server_config(void) {
    static certa_config *cfg;
    if (!cfg) {
        static const uint8_t key[32] = {0x30, 0x52, 0x54, 0x54};
        cfg = certa_config_new();
        certa_config_set_cert_chain_pem(cfg, fuzz_cert_pem, strlen(fuzz_cert_pem));
        certa_config_set_private_key_pem(cfg, fuzz_key_pem, strlen(fuzz_key_pem));
        certa_config_set_random_fn(cfg, fixed_random, NULL);
        certa_config_set_time_fn(cfg, fixed_time, NULL);
        certa_config_set_ticket_key(cfg, key);
        certa_config_set_max_early_data(cfg, MAX_EARLY);
        certa_config_set_replay_store(cfg, fz_replay, NULL);
    }
    return cfg;
}

static certa_config *client_config(void) {
    static certa_config *cfg;
    if (!cfg) {
        cfg = certa_config_new();
        certa_config_set_insecure(cfg, true);
        certa_config_set_session_cache(cfg, 0);
        certa_config_set_random_fn(cfg, fixed_random, NULL);
        certa_config_set_time_fn(cfg, fixed_time, NULL);
        certa_config_set_max_early_data(cfg, MAX_EARLY);
    }
    return cfg;
}

static size_t early_read;

/* The server's early data and ordinary data, as the oracle wants them. */
static void drain(certa_conn *s, certa_conn *c) {
    uint8_t buf[2048];
    size_t n;
    while ((n = certa_conn_read_early(s, buf, sizeof buf)) > 0)
        early_read += n;
    while ((n = certa_conn_read(s, buf, sizeof buf)) > 0)
        CHECK(certa_conn_handshake_done(s));
    while (certa_conn_read(c, buf, sizeof buf) > 0) {
    }
}

/* Moves bytes both ways (acknowledging what was taken) for a few rounds. */
static void pump(certa_conn *c, certa_conn *s) {
    for (int round = 0; round < 20; round++) {
        bool moved = false;
        certa_conn *from[2] = {c, s}, *to[2] = {s, c};
        for (int d = 0; d < 2; d++) {
            const uint8_t *out;
            size_t n = certa_conn_outgoing(from[d], &out), used = 0;
            if (!n) continue;
            certa_conn_recv(to[d], out, n, &used);
            certa_conn_outgoing_done(from[d], certa_conn_failed(to[d]) || !used ? n : used);
            moved = true;
        }
        drain(s, c);
        if (!moved) return;
    }
}

static uint8_t session[CERTA_SESSION_MAX];
static size_t session_len;

static void make_session(void) {
    certa_conn *c = certa_client_new(client_config(), server_name);
    certa_conn *s = certa_server_new(server_config());
    pump(c, s);
    certa_conn_session(c, session, sizeof session, &session_len);
    certa_conn_free(c);
    certa_conn_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!session_len) make_session();
    CHECK(session_len > 0);
    if (size < 2) return 0;
    replay_answer = data[0] % 3 == 0 ? 1 : data[0] % 3 == 1 ? 0 : -1;
    size_t early_len = data[1] * 4u; /* at most 1020: within MAX_EARLY */
    data += 2;
    size -= 2;
    if (early_len > size) early_len = size;
    early_read = 0;
    certa_conn *c = certa_client_new_resume(client_config(), server_name, session, session_len);
    certa_conn *s = certa_server_new(server_config());
    CHECK(certa_conn_early_allowed(c) == MAX_EARLY);
    CHECK(certa_conn_write_early(c, data, early_len) == CERTA_OK);
    data += early_len;
    size -= early_len;
    /* The client's ClientHello and early data, delivered. */
    const uint8_t *out;
    size_t n = certa_conn_outgoing(c, &out), used = 0;
    certa_conn_recv(s, out, n, &used);
    drain(s, c);
    certa_conn_outgoing_done(c, n);
    /* The program: [kind][len][bytes]... */
    record_protection rp;
    memset(&rp, 0, sizeof rp);
    rp.aead.encrypt = true;
    const cipher_suite *suite = cipher_suite_find(c->offered->suite);
    CHECK(record_set_secret(&rp, suite->aead, suite->hash, c->client_early_secret) == 0);
    rp.seq = c->early_seq;
    builder b;
    bld_init_alloc(&b, 512);
    while (size >= 2 && !certa_conn_failed(s)) {
        uint8_t kind = data[0];
        size_t len = data[1] * 4u;
        data += 2;
        size -= 2;
        if (len > size) len = size;
        b.len = 0;
        switch (kind % 4) {
        case 0:
            record_write(&rp, &b, CONTENT_APPLICATION_DATA, data, len);
            break;
        case 1:
            record_write(&rp, &b, CONTENT_HANDSHAKE, data, len);
            break;
        case 2: /* plaintext record of the type kind says */
            bld_u8(&b, (uint8_t)(kind >> 2));
            bld_u16(&b, 0x0303);
            bld_u16(&b, (uint16_t)len);
            bld_bytes(&b, data, len);
            break;
        default:
            bld_bytes(&b, data, len);
            break;
        }
        data += len;
        size -= len;
        for (size_t off = 0; bld_ok(&b) && off < b.len && !certa_conn_failed(s);) {
            used = 0;
            certa_conn_recv(s, b.buf + off, b.len - off, &used);
            drain(s, c);
            if (!used) break;
            off += used;
        }
    }
    bld_free(&b);
    record_protection_clear(&rp);
    pump(c, s);
    certa_info si;
    certa_conn_info(s, &si);
    CHECK(early_read <= MAX_EARLY);
    if (!si.early_data_accepted) CHECK(early_read == 0);
    /* Everything else about the ClientHello is fixed: the store decides. */
    CHECK(si.early_data_accepted == (replay_answer == 1));
    certa_conn_free(c);
    certa_conn_free(s);
    return 0;
}
