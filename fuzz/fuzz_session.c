/* Session resumption parsers (src/tls/session.c) and the handshake that
 * uses them. Byte 0 of the input picks the mode; the rest is the payload:
 *
 *   0  session_decode(payload). Oracle: a decoded session re-encodes
 *      (session_encode) to exactly the payload, its PSK is the suite's hash
 *      length and its ticket lies inside the payload.
 *   1  ticket_open(payload) with the server config's fixed ticket key (any
 *      result); then the payload as the *plaintext* of a ticket: if it
 *      decodes as a ticket-less session it is sealed (ticket_seal) and
 *      ticket_open must give the same session back; if not, the sealed
 *      bytes must not open.
 *   2  certa_client_new_resume(payload) — a stored session as an
 *      application would hand it back — and an in-memory handshake with a
 *      certa server (fixed identity and ticket key). Oracle: if both sides
 *      finish, they agree on whether the session was resumed.
 *   3  the payload as a session sealed into a ticket by the server's key,
 *      offered by a client holding the same session (so the binder is right
 *      and the server's checks on the ticket's contents — suite, times,
 *      server name, the identity it carries — are what the fuzzer drives);
 *      the client dials the session's server name. Same oracle as 2.
 *
 * Randomness (rand.c under CERTA_FUZZ, restarted for every input, and a fixed
 * random_fn) and time are deterministic; the client has no session cache, so
 * no state carries over between inputs.
 *
 * Seeds (fuzz/corpus/session/) come from a real handshake between the same
 * configs: run the built target with FUZZ_SESSION_SEEDS=DIR set and it writes
 * decode_session (0x00 + the client's stored session), open_ticket (0x01 + the
 * ticket inside it), resume (0x02 + the session) and sealed_session (0x03 +
 * the ticket's plaintext, opened with the server's key) to DIR and exits:
 *   scripts/fuzz.sh session   # builds build-fuzz/fuzz/fuzz_session
 *   FUZZ_SESSION_SEEDS=fuzz/corpus/session build-fuzz/fuzz/fuzz_session
 * (it checks that the stored session really resumes before exiting 0).
 * far_future_issued is the first crash this target found: a session issued
 * in the year ~1.1 billion, whose ticket age overflowed (now - issued) * 1000
 * in put_psk_extensions; session_decode refuses such times now. */
#include "certa.h"
#include "crypto/crypto.h"
#include "fuzz_fixed.h"
#include "fuzz_identity.h"
#include "tls/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

static const char server_name[] = "fuzz.example";

static certa_config *server_config(void) {
    static certa_config *cfg;
    if (!cfg) {
        static const uint8_t key[32] = {0x66, 0x75, 0x7a, 0x7a, 0x20, 0x74, 0x69, 0x63,
                                        0x6b, 0x65, 0x74, 0x20, 0x6b, 0x65, 0x79, 0x21};
        cfg = certa_config_new();
        certa_config_set_cert_chain_pem(cfg, fuzz_cert_pem, strlen(fuzz_cert_pem));
        certa_config_set_private_key_pem(cfg, fuzz_key_pem, strlen(fuzz_key_pem));
        certa_config_set_random_fn(cfg, fixed_random, NULL);
        certa_config_set_time_fn(cfg, fixed_time, NULL);
        certa_config_set_ticket_key(cfg, key);
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
    }
    return cfg;
}

static void pump(certa_conn *client, certa_conn *server) {
    certa_conn *from[2] = {client, server}, *to[2] = {server, client};
    for (int round = 0; round < 16; round++) {
        bool moved = false;
        for (int d = 0; d < 2; d++) {
            const uint8_t *out;
            size_t n = certa_conn_outgoing(from[d], &out);
            if (n) {
                size_t used = 0;
                certa_conn_recv(to[d], out, n, &used);
                certa_conn_outgoing_done(from[d], n);
                moved = true;
            }
        }
        if (!moved) return;
    }
}

/* A handshake with a client offering session (or none); returns the client
 * after the handshake for the caller to inspect, or NULL. */
static void handshake(const char *name, const uint8_t *session, size_t len,
                      certa_conn **client_out) {
    certa_conn *client = session ? certa_client_new_resume(client_config(), name, session, len)
                                 : certa_client_new(client_config(), name);
    certa_conn *server = certa_server_new(server_config());
    pump(client, server);
    if (certa_conn_handshake_done(client) && certa_conn_handshake_done(server)) {
        certa_info ci, si;
        certa_conn_info(client, &ci);
        certa_conn_info(server, &si);
        CHECK(ci.resumed == si.resumed);
        static const uint8_t ping[] = "ping";
        uint8_t buf[8];
        certa_conn_write(client, ping, sizeof ping);
        pump(client, server);
        CHECK(certa_conn_read(server, buf, sizeof buf) == sizeof ping);
    }
    certa_conn_recv_eof(server);
    certa_conn_free(server);
    if (client_out)
        *client_out = client;
    else
        certa_conn_free(client);
}

static void decode_mode(const uint8_t *data, size_t size) {
    session_state s;
    if (session_decode(data, size, &s) != 0) return;
    const cipher_suite *suite = cipher_suite_find(s.suite);
    CHECK(suite && s.psk_len == hash_len(suite->hash));
    CHECK(s.ticket_len == 0 || (s.ticket >= data && s.ticket + s.ticket_len <= data + size));
    builder b;
    bld_init_alloc(&b, size + 16);
    session_encode(&b, &s);
    CHECK(bld_ok(&b) && b.len == size && memcmp(b.buf, data, size) == 0);
    bld_free(&b);
}

static void ticket_mode(const uint8_t *data, size_t size) {
    certa_config *cfg = server_config();
    session_state s, back;
    if (ticket_open(cfg, data, size, &s) == 0) CHECK(s.ticket_len == 0);
    /* The payload as a ticket's plaintext. */
    bool valid = session_decode(data, size, &s) == 0 && s.ticket_len == 0;
    if (!valid) return;
    builder sealed, again;
    bld_init_alloc(&sealed, size + 64);
    CHECK(ticket_seal(cfg, &s, &sealed) == 0 && bld_ok(&sealed));
    CHECK(ticket_open(cfg, sealed.buf, sealed.len, &back) == 0 || sealed.len > 4096);
    if (sealed.len <= 4096) {
        bld_init_alloc(&again, size + 16);
        session_encode(&again, &back);
        CHECK(bld_ok(&again) && again.len == size && memcmp(again.buf, data, size) == 0);
        bld_free(&again);
        /* One bit flipped anywhere: it no longer opens. */
        sealed.buf[data[0] % sealed.len] ^= 0x10;
        CHECK(ticket_open(cfg, sealed.buf, sealed.len, &back) != 0);
    }
    bld_free(&sealed);
}

static void sealed_session_mode(const uint8_t *data, size_t size) {
    session_state s;
    if (session_decode(data, size, &s) != 0 || s.ticket_len != 0) return;
    builder ticket, blob;
    bld_init_alloc(&ticket, size + 64);
    if (ticket_seal(server_config(), &s, &ticket) == 0 && bld_ok(&ticket) && ticket.len <= 0xffff) {
        s.ticket = ticket.buf;
        s.ticket_len = ticket.len;
        bld_init_alloc(&blob, size + ticket.len + 16);
        session_encode(&blob, &s);
        if (bld_ok(&blob)) handshake(s.server_name, blob.buf, blob.len, NULL);
        bld_free(&blob);
    }
    bld_free(&ticket);
}

static void write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *data,
                       size_t len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fputc(mode, f) == EOF || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "fuzz_session: cannot write %s\n", path);
        exit(1);
    }
    fprintf(stderr, "fuzz_session: wrote %s (%zu bytes)\n", path, len + 1);
}

/* FUZZ_SESSION_SEEDS=DIR: a full handshake, then the seeds from its session. */
static void write_seeds(const char *dir) {
    crypto_fuzz_reset_random(0);
    certa_conn *client = NULL;
    handshake(server_name, NULL, 0, &client);
    static uint8_t blob[CERTA_SESSION_MAX];
    size_t len = 0;
    session_state s, plain;
    if (certa_conn_session(client, blob, sizeof blob, &len) != CERTA_OK ||
        session_decode(blob, len, &s) != 0 ||
        ticket_open(server_config(), s.ticket, s.ticket_len, &plain) != 0) {
        fprintf(stderr, "fuzz_session: the handshake left no usable session (%s)\n",
                certa_conn_error_text(client));
        exit(1);
    }
    certa_conn_free(client);
    builder b;
    bld_init_alloc(&b, 512);
    session_encode(&b, &plain);
    write_seed(dir, "decode_session", 0, blob, len);
    write_seed(dir, "open_ticket", 1, s.ticket, s.ticket_len);
    write_seed(dir, "resume", 2, blob, len);
    write_seed(dir, "sealed_session", 3, b.buf, b.len);
    bld_free(&b);
    /* The seed must really resume. */
    crypto_fuzz_reset_random(0);
    handshake(server_name, blob, len, &client);
    certa_info ci;
    certa_conn_info(client, &ci);
    certa_conn_free(client);
    if (!ci.resumed) {
        fprintf(stderr, "fuzz_session: the stored session did not resume\n");
        exit(1);
    }
    exit(0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    const char *dir = getenv("FUZZ_SESSION_SEEDS");
    if (dir && *dir) write_seeds(dir);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    crypto_fuzz_reset_random(0);
    uint8_t mode = data[0] % 4;
    data++;
    size--;
    switch (mode) {
    case 0:
        decode_mode(data, size);
        break;
    case 1:
        ticket_mode(data, size);
        break;
    case 2:
        handshake(server_name, data, size, NULL);
        break;
    default:
        sealed_session_mode(data, size);
        break;
    }
    return 0;
}
