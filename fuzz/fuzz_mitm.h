/* A real certa client and server in memory with a tampering man in the middle,
 * for fuzz/fuzz_server_after_hello.c and fuzz/fuzz_client_after_hello.c.
 *
 * The fuzz input is a program for the man in the middle: for each record one
 * side sends (the tampered side), one operation byte and its operands decide
 * whether the record passes, is corrupted, replaced, dropped, re-typed,
 * truncated, split, sent in clear, or preceded by an inserted record or raw
 * bytes. The MITM decrypts protected records and re-encrypts them after the
 * change, so the fuzzer edits *plaintext* handshake messages and reaches the
 * encrypted handshake states (EncryptedExtensions, Certificate,
 * CertificateVerify, Finished, post-handshake messages) instead of stopping
 * at bad_record_mac. It uses the receiver's current traffic secret, read from
 * the engine's internal struct (tls/tls.h): the receiver holds the secret
 * it will decrypt with, which is the one the sender encrypted with. When the
 * input runs out, every record passes: an empty program is a clean handshake.
 *
 * Randomness and time are deterministic (rand.c under CERTA_FUZZ, a fixed
 * time_fn), and the stream restarts for every input, so a crash reproduces
 * from its input alone. */
#ifndef CERTA_FUZZ_MITM_H
#define CERTA_FUZZ_MITM_H

#include "certa.h"
#include "crypto/crypto.h"
#include "fuzz_identity.h"
#include "record/record.h"
#include "tls/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fuzz program, read front to back; zeros once exhausted ---- */
typedef struct fz_input {
    const uint8_t *p;
    size_t n;
} fz_input;

static uint8_t fz_u8(fz_input *in) {
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}
static uint16_t fz_u16(fz_input *in) {
    uint16_t hi = fz_u8(in);
    return (uint16_t)(hi << 8 | fz_u8(in));
}
/* Up to max bytes of fuzz data: a length byte, then that many bytes (fewer
 * if the input ends). */
static size_t fz_bytes(fz_input *in, uint8_t *out, size_t max) {
    size_t want = fz_u8(in);
    if (want > 0 && (want & 0x80)) want = (want & 0x7f) << 4; /* up to 2 KiB in steps */
    if (want > max) want = max;
    if (want > in->n) want = in->n;
    memcpy(out, in->p, want);
    in->p += want;
    in->n -= want;
    return want;
}

/* ---- fixed environment ---- */
static int64_t fz_time(void *arg) {
    (void)arg;
    return 1790000000; /* inside the fuzz certificate's validity */
}

enum { FZ_VARIANTS = 4 };

/* Four config pairs: 0 default; 1 the server takes only P-256 (the client's
 * x25519 share draws a HelloRetryRequest); 2 mutual TLS (the server requires
 * a client certificate); 3 ChaCha20/AES-256 and P-384 only. */
static void fz_configs(int v, certa_config **client, certa_config **server) {
    static certa_config *cc[FZ_VARIANTS], *sc[FZ_VARIANTS];
    if (!cc[v]) {
        certa_config *c = certa_config_new(), *s = certa_config_new();
        certa_config_set_insecure(c, true);
        certa_config_set_alpn(c, "h2,http/1.1");
        certa_config_set_alpn(s, "http/1.1");
        certa_config_set_time_fn(c, fz_time, NULL);
        certa_config_set_time_fn(s, fz_time, NULL);
        certa_config_set_cert_chain_pem(s, fuzz_cert_pem, strlen(fuzz_cert_pem));
        certa_config_set_private_key_pem(s, fuzz_key_pem, strlen(fuzz_key_pem));
        if (v == 1) certa_config_set_groups(s, "secp256r1");
        if (v == 2) {
            certa_config_set_client_auth(s, CERTA_CLIENT_AUTH_REQUIRE);
            certa_config_set_insecure(s, true);
            certa_config_set_cert_chain_pem(c, fuzz_cert_pem, strlen(fuzz_cert_pem));
            certa_config_set_private_key_pem(c, fuzz_key_pem, strlen(fuzz_key_pem));
        }
        if (v == 3) {
            certa_config_set_ciphers(c, "TLS_CHACHA20_POLY1305_SHA256,TLS_AES_256_GCM_SHA384");
            certa_config_set_groups(c, "secp384r1,x25519");
            certa_config_set_groups(s, "secp384r1");
        }
        cc[v] = c;
        sc[v] = s;
    }
    *client = cc[v];
    *server = sc[v];
}

/* ---- the man in the middle ---- */
typedef struct fz_dir {
    uint8_t secret[CRYPTO_MAX_HASH]; /* what open/seal are keyed with */
    bool keyed;
    record_protection open, seal;
    size_t records; /* records seen from the sender */
} fz_dir;

static void fz_dir_clear(fz_dir *d) {
    record_protection_clear(&d->open);
    record_protection_clear(&d->seal);
}

/* The secret the receiver decrypts with now, or NULL if it reads plaintext. */
static const uint8_t *fz_receiver_secret(const certa_conn *r) {
    if (!r->rx.on || r->suite == NULL) return NULL;
    switch (r->state) {
    case ST_SERVER_WAIT_CERT:
    case ST_SERVER_WAIT_CV:
    case ST_SERVER_WAIT_FINISHED:
        return r->client_hs_secret;
    case ST_CLIENT_WAIT_EE:
    case ST_CLIENT_WAIT_CERT_CR:
    case ST_CLIENT_WAIT_CERT:
    case ST_CLIENT_WAIT_CV:
    case ST_CLIENT_WAIT_FINISHED:
        return r->server_hs_secret;
    case ST_CONNECTED:
        return r->is_server ? r->client_app_secret : r->server_app_secret;
    default:
        return NULL;
    }
}

/* Rekeys open/seal when the receiver's secret changed. */
static bool fz_dir_sync(fz_dir *d, const certa_conn *r) {
    const uint8_t *s = fz_receiver_secret(r);
    if (s == NULL) return false;
    size_t hl = hash_len(r->suite->hash);
    if (d->keyed && memcmp(d->secret, s, hl) == 0) return true;
    d->open.aead.encrypt = false;
    d->seal.aead.encrypt = true;
    if (record_set_secret(&d->open, r->suite->aead, r->suite->hash, s) != 0 ||
        record_set_secret(&d->seal, r->suite->aead, r->suite->hash, s) != 0) {
        d->keyed = false;
        return false;
    }
    memcpy(d->secret, s, hl);
    d->keyed = true;
    return true;
}

/* Application data: the server echoes up to 1 KiB per run; the client
 * closes once it has read an echo. */
static size_t fz_echoed;
static bool fz_client_read;

static void fz_deliver(certa_conn *r, const uint8_t *data, size_t len, size_t chunk) {
    size_t off = 0;
    uint8_t app[4096];
    while (off < len && !certa_conn_failed(r)) {
        size_t n = len - off < chunk ? len - off : chunk, used = 0, got;
        certa_conn_recv(r, data + off, n, &used);
        while ((got = certa_conn_read(r, app, sizeof app)) > 0) {
            if (r->is_server && fz_echoed < 1024) {
                certa_conn_write(r, app, got);
                fz_echoed += got;
            }
            if (!r->is_server) fz_client_read = true;
        }
        if (used == 0 && !certa_conn_failed(r)) break;
        off += used;
    }
}

/* Frames content as one record to the receiver: sealed under the MITM's
 * seal state when protected, else in clear (outer type = type). */
static void fz_send_record(fz_dir *d, certa_conn *r, bool protect, uint8_t type,
                           const uint8_t *content, size_t len, size_t chunk) {
    builder b;
    bld_init_alloc(&b, len + 64);
    if (protect) {
        record_write(&d->seal, &b, type, content, len);
    } else {
        bld_u8(&b, type);
        bld_u16(&b, 0x0303);
        bld_u16(&b, (uint16_t)len);
        bld_bytes(&b, content, len);
    }
    if (bld_ok(&b)) fz_deliver(r, b.buf, b.len, chunk);
    bld_free(&b);
}

enum { FZ_CONTENT_MAX = RECORD_MAX_PLAINTEXT + 512 };

/* One record from the sender, tampered by the program and delivered. */
static void fz_forward_record(fz_dir *d, certa_conn *r, const uint8_t *rec, size_t rec_len,
                              bool tamper, fz_input *in, size_t chunk) {
    static uint8_t content[FZ_CONTENT_MAX], extra[FZ_CONTENT_MAX];
    uint8_t type = rec[0];
    size_t len = rec_len - RECORD_HEADER_LEN;
    bool protect = false;
    memcpy(content, rec + RECORD_HEADER_LEN, len);
    if (type == CONTENT_APPLICATION_DATA && fz_dir_sync(d, r)) {
        uint8_t inner;
        size_t plain;
        uint64_t seq = d->open.seq;
        if (record_open(&d->open, rec, content, len, &inner, &plain) == 0) {
            type = inner;
            len = plain;
            protect = true;
        } else {
            d->open.seq = seq;
            memcpy(content, rec + RECORD_HEADER_LEN, len); /* pass the ciphertext as is */
        }
    }
    d->records++;
    if (!tamper) {
        if (protect)
            fz_send_record(d, r, true, type, content, len, chunk);
        else
            fz_deliver(r, rec, rec_len, chunk);
        return;
    }
    uint8_t op = fz_u8(in);
    switch (op % 12) {
    case 0:
    case 1:
        break; /* pass */
    case 2:    /* flip bits in one byte */
        if (len) content[fz_u16(in) % len] ^= (uint8_t)(fz_u8(in) | 1);
        break;
    case 3: /* overwrite a byte */
        if (len) content[fz_u16(in) % len] = fz_u8(in);
        break;
    case 4: /* replace the content */
        len = fz_bytes(in, content, FZ_CONTENT_MAX);
        break;
    case 5: { /* insert a record before this one, same protection */
        uint8_t t = fz_u8(in);
        size_t n = fz_bytes(in, extra, FZ_CONTENT_MAX);
        fz_send_record(d, r, protect, (uint8_t)(20 + t % 4), extra, n, chunk);
        break;
    }
    case 6:
        return; /* drop */
    case 7:
        type = fz_u8(in);
        break;
    case 8: { /* truncate, or append fuzz bytes */
        uint16_t v = fz_u16(in);
        if (v & 0x8000)
            len += fz_bytes(in, content + len, FZ_CONTENT_MAX - len);
        else
            len = len ? v % len : 0;
        break;
    }
    case 9: { /* split into two records */
        size_t at = len ? fz_u16(in) % len : 0;
        fz_send_record(d, r, protect, type, content, at, chunk);
        memmove(content, content + at, len - at);
        len -= at;
        break;
    }
    case 10:
        protect = !protect;
        break; /* in clear instead of protected, or the reverse */
    case 11: { /* raw bytes on the wire first */
        size_t n = fz_bytes(in, extra, FZ_CONTENT_MAX);
        fz_deliver(r, extra, n, chunk);
        break;
    }
    }
    if (certa_conn_failed(r)) return;
    if (len > 0xffff - 256) len = 0xffff - 256;
    if (protect || type != rec[0] || len != rec_len - RECORD_HEADER_LEN ||
        memcmp(content, rec + RECORD_HEADER_LEN, len) != 0)
        fz_send_record(d, r, protect, type, content, len, chunk);
    else
        fz_deliver(r, rec, rec_len, chunk);
}

/* Moves everything the sender has queued to the receiver, record by record. */
static bool fz_pump(certa_conn *s, certa_conn *r, fz_dir *d, bool tamper, size_t skip_records,
                    fz_input *in, size_t chunk) {
    const uint8_t *out;
    size_t n = certa_conn_outgoing(s, &out);
    if (n == 0) return false;
    uint8_t *copy = malloc(n);
    if (!copy) return false;
    memcpy(copy, out, n);
    certa_conn_outgoing_done(s, n);
    size_t off = 0;
    while (off + RECORD_HEADER_LEN <= n && !certa_conn_failed(r)) {
        size_t rl = RECORD_HEADER_LEN + ((size_t)copy[off + 3] << 8 | copy[off + 4]);
        if (off + rl > n) break;
        fz_forward_record(d, r, copy + off, rl, tamper && d->records >= skip_records, in, chunk);
        off += rl;
    }
    if (off < n && !certa_conn_failed(r)) fz_deliver(r, copy + off, n - off, chunk);
    free(copy);
    return true;
}

/* The whole run: handshake, one message each way, close. tamper_server_bound
 * picks the direction the program edits; the ClientHello is never edited. */
static int fz_run(const uint8_t *data, size_t size, bool tamper_server_bound) {
    crypto_fuzz_reset_random(0);
    fz_input in = {data, size};
    uint8_t setup = fz_u8(&in);
    size_t chunk = (setup >> 2) == 0 ? 65536 : (size_t)(setup >> 2) * 97;
    certa_config *ccfg, *scfg;
    fz_configs(setup % FZ_VARIANTS, &ccfg, &scfg);
    certa_conn *client = certa_client_new(ccfg, "fuzz.example");
    certa_conn *server = certa_server_new(scfg);
    fz_dir to_server, to_client;
    memset(&to_server, 0, sizeof to_server);
    memset(&to_client, 0, sizeof to_client);
    bool sent_app = false, closed = false;
    fz_echoed = 0;
    fz_client_read = false;
    for (int round = 0; round < 32; round++) {
        bool moved = fz_pump(client, server, &to_server, tamper_server_bound, 1, &in, chunk);
        moved |= fz_pump(server, client, &to_client, !tamper_server_bound, 0, &in, chunk);
        if (certa_conn_handshake_done(client) && !sent_app) {
            static const uint8_t ping[] = "ping";
            certa_conn_write(client, ping, sizeof ping);
            sent_app = moved = true;
        } else if (fz_client_read && !closed) {
            certa_conn_close(client);
            closed = moved = true;
        }
        if (!moved) break;
    }
    if (getenv("FUZZ_MITM_DEBUG"))
        fprintf(stderr, "variant %d: client %s%s %s | server %s%s %s\n", setup % FZ_VARIANTS,
                certa_conn_handshake_done(client) ? "done" : "-", sent_app ? "+app" : "",
                certa_conn_error_text(client), certa_conn_handshake_done(server) ? "done" : "-",
                certa_conn_peer_closed(server) ? "+closed"
                : fz_echoed                    ? "+echo"
                                               : "",
                certa_conn_error_text(server));
    certa_conn_recv_eof(server);
    certa_conn_recv_eof(client);
    certa_conn_free(client);
    certa_conn_free(server);
    fz_dir_clear(&to_server);
    fz_dir_clear(&to_client);
    return 0;
}

#endif
