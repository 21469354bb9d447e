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
 * TLS 1.2 (variants 4-8) has no traffic secrets: each side's key block
 * (c->t12->key_block, from ClientKeyExchange or a resumed ServerHello until the
 * handshake completes) is copied as soon as it exists, and every record a
 * side sends after its ChangeCipherSpec is opened with the sender's keys and
 * sealed again with the receiver's (RFC 5246 AEAD framing: the outer type is
 * the real type, AES-GCM carries an 8-byte explicit nonce), so the fuzzer
 * edits ClientKeyExchange, CertificateVerify, Finished, ServerKeyExchange,
 * NewSessionTicket and ChangeCipherSpec in plaintext too.
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

enum { FZ_VARIANTS = 9, FZ_RESUME12 = 7 };

/* Config pairs. TLS 1.3: 0 default; 1 the server takes only P-256 (the
 * client's x25519 share draws a HelloRetryRequest); 2 mutual TLS (the server
 * requires a client certificate); 3 ChaCha20/AES-256 and P-384 only.
 * TLS 1.2 (the client offers 1.2 and 1.3, the server only 1.2): 4 ECDHE_ECDSA
 * AES-128-GCM; 5 ECDHE_RSA ChaCha20-Poly1305 with an RSA certificate; 6 mutual
 * TLS (client Certificate and CertificateVerify); 7 resumption of a 1.2 ticket
 * (abbreviated handshake, see fz_session12); 8 a 1.2-only client against a
 * 1.2+1.3 server (downgrade sentinel written, not checked) with
 * AES-256-GCM-SHA384 (the SHA-384 PRF) over P-384. */
static void fz_configs(int v, certa_config **client, certa_config **server) {
    static certa_config *cc[FZ_VARIANTS], *sc[FZ_VARIANTS];
    if (!cc[v]) {
        certa_config *c = certa_config_new(), *s = certa_config_new();
        certa_config_set_insecure(c, true);
        certa_config_set_alpn(c, "h2,http/1.1");
        certa_config_set_alpn(s, "http/1.1");
        certa_config_set_time_fn(c, fz_time, NULL);
        certa_config_set_time_fn(s, fz_time, NULL);
        if (v == 5) {
            certa_config_set_cert_chain_pem(s, fuzz_rsa_cert_pem, strlen(fuzz_rsa_cert_pem));
            certa_config_set_private_key_pem(s, fuzz_rsa_key_pem, strlen(fuzz_rsa_key_pem));
        } else {
            certa_config_set_cert_chain_pem(s, fuzz_cert_pem, strlen(fuzz_cert_pem));
            certa_config_set_private_key_pem(s, fuzz_key_pem, strlen(fuzz_key_pem));
        }
        if (v >= 4) {
            certa_config_set_versions(c, CERTA_TLS12, CERTA_TLS13);
            certa_config_set_versions(s, CERTA_TLS12, CERTA_TLS12);
        }
        if (v == 4) certa_config_set_ciphers(s, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256");
        if (v == 5) certa_config_set_ciphers(s, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");
        if (v == 8) {
            certa_config_set_versions(c, CERTA_TLS12, CERTA_TLS12);
            certa_config_set_versions(s, CERTA_TLS12, CERTA_TLS13);
            certa_config_set_ciphers(c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384");
            certa_config_set_groups(c, "secp384r1,secp256r1"); /* P-256: the certificate */
            certa_config_set_groups(s, "secp384r1");
        }
        if (v == 1) certa_config_set_groups(s, "secp256r1");
        if (v == 2 || v == 6) {
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
    /* TLS 1.2: the sender has sent its ChangeCipherSpec (what follows is
     * protected); open/seal keyed from the key blocks */
    bool ccs12, open12, seal12;
} fz_dir;

/* TLS 1.2 key blocks, [0] the client's and [1] the server's, copied the
 * first time each is seen (the engine wipes it when the handshake ends). */
static struct fz_kb {
    uint8_t block[sizeof(((tls12_handshake *)0)->key_block)];
    const cipher_suite *suite;
    bool ok;
} fz_kb[2];

static void fz_capture_key_block(const certa_conn *c) {
    struct fz_kb *k = &fz_kb[c->is_server];
    if (k->ok || c->version != CERTA_TLS12 || c->suite == NULL || c->t12 == NULL) return;
    uint8_t acc = 0;
    for (size_t i = 0; i < sizeof c->t12->key_block; i++)
        acc |= c->t12->key_block[i];
    if (acc == 0) return;
    memcpy(k->block, c->t12->key_block, sizeof k->block);
    k->suite = c->suite;
    k->ok = true;
}

/* Keys rp with the write keys of the client (client_write) or the server
 * from key block k (RFC 5246 §6.3 order: keys, then IVs). */
static bool fz_key12(record_protection *rp, const struct fz_kb *k, bool client_write,
                     bool encrypt) {
    if (!k->ok) return false;
    size_t kl = aead_key_len(k->suite->aead), il = record_tls12_iv_len(k->suite->aead);
    rp->aead.encrypt = encrypt;
    return record_set_keys_tls12(rp, k->suite->aead, k->block + (client_write ? 0 : kl),
                                 k->block + 2 * kl + (client_write ? 0 : il)) == 0;
}

static void fz_dir_clear(fz_dir *d) {
    record_protection_clear(&d->open);
    record_protection_clear(&d->seal);
}

/* The secret the receiver decrypts with now, or NULL if it reads plaintext. */
static const uint8_t *fz_receiver_secret(const certa_conn *r) {
    if (!r->rx.on || r->suite == NULL || r->version == CERTA_TLS12) return NULL;
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

/* TLS 1.2: after the sender's ChangeCipherSpec, opens with the sender's
 * keys; seals with the receiver's (the sender's if the receiver has none).
 * Keyed then, not before: the receiver's key block exists once it has had
 * the records before that ChangeCipherSpec (a tampered ClientKeyExchange
 * gives the two sides different ones). */
static bool fz_open12(fz_dir *d, const certa_conn *s, const certa_conn *r, const uint8_t *rec,
                      uint8_t *content, size_t *len) {
    fz_capture_key_block(s);
    fz_capture_key_block(r);
    if (!d->ccs12) return false;
    if (!d->seal12)
        d->seal12 =
            fz_key12(&d->seal, fz_kb[r->is_server].ok ? &fz_kb[r->is_server] : &fz_kb[s->is_server],
                     !s->is_server, true);
    if (!d->open12) d->open12 = fz_key12(&d->open, &fz_kb[s->is_server], !s->is_server, false);
    if (!d->open12) return false;
    uint8_t inner;
    size_t plain;
    uint64_t seq = d->open.seq;
    if (record_open(&d->open, rec, content, *len, &inner, &plain) == 0) {
        *len = plain;
        return true;
    }
    d->open.seq = seq;
    memcpy(content, rec + RECORD_HEADER_LEN, *len); /* pass the ciphertext as is */
    return false;
}

/* One record from the sender, tampered by the program and delivered. */
static void fz_forward_record(fz_dir *d, const certa_conn *s, certa_conn *r, const uint8_t *rec,
                              size_t rec_len, bool tamper, fz_input *in, size_t chunk) {
    static uint8_t content[FZ_CONTENT_MAX], extra[FZ_CONTENT_MAX];
    uint8_t type = rec[0];
    size_t len = rec_len - RECORD_HEADER_LEN;
    bool protect = false;
    memcpy(content, rec + RECORD_HEADER_LEN, len);
    if (s->version == CERTA_TLS12) {
        if (type != CONTENT_CHANGE_CIPHER_SPEC) protect = fz_open12(d, s, r, rec, content, &len);
        if (type == CONTENT_CHANGE_CIPHER_SPEC) d->ccs12 = true;
    } else if (type == CONTENT_APPLICATION_DATA && fz_dir_sync(d, r)) {
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
        fz_forward_record(d, s, r, copy + off, rl, tamper && d->records >= skip_records, in, chunk);
        off += rl;
    }
    if (off < n && !certa_conn_failed(r)) fz_deliver(r, copy + off, n - off, chunk);
    free(copy);
    return true;
}

static void fz_reset_run(fz_dir *to_server, fz_dir *to_client) {
    memset(to_server, 0, sizeof *to_server);
    memset(to_client, 0, sizeof *to_client);
    memset(fz_kb, 0, sizeof fz_kb);
}

/* Variant 7's TLS 1.2 session: one clean full handshake, made once (then
 * the random stream restarts, so every input still replays alone). */
static const uint8_t *fz_session12(size_t *len) {
    static uint8_t blob[CERTA_SESSION_MAX];
    static size_t blob_len;
    static bool done;
    if (!done) {
        done = true;
        certa_config *ccfg, *scfg;
        fz_configs(FZ_RESUME12, &ccfg, &scfg);
        crypto_fuzz_reset_random(0);
        certa_conn *client = certa_client_new(ccfg, "fuzz.example");
        certa_conn *server = certa_server_new(scfg);
        fz_dir a, b;
        fz_reset_run(&a, &b);
        fz_input none = {NULL, 0};
        for (int round = 0; round < 16; round++) {
            bool moved = fz_pump(client, server, &a, false, 0, &none, 65536);
            moved |= fz_pump(server, client, &b, false, 0, &none, 65536);
            if (!moved) break;
        }
        if (certa_conn_session(client, blob, sizeof blob, &blob_len) != 0) blob_len = 0;
        if (blob_len == 0) fprintf(stderr, "fuzz_mitm: no TLS 1.2 session for variant 7\n");
        certa_conn_free(client);
        certa_conn_free(server);
        fz_dir_clear(&a);
        fz_dir_clear(&b);
        crypto_fuzz_reset_random(0);
    }
    *len = blob_len;
    return blob;
}

/* The whole run: handshake, one message each way, close. tamper_server_bound
 * picks the direction the program edits; the ClientHello is never edited.
 * The first byte is setup: variant = setup % FZ_VARIANTS, and the rest picks
 * the chunk size records are delivered in. */
static int fz_run(const uint8_t *data, size_t size, bool tamper_server_bound) {
    size_t session_len;
    const uint8_t *session = fz_session12(&session_len);
    crypto_fuzz_reset_random(0);
    fz_input in = {data, size};
    uint8_t setup = fz_u8(&in);
    size_t rest = setup / FZ_VARIANTS;
    size_t chunk = rest == 0 ? 65536 : rest * 211;
    int variant = setup % FZ_VARIANTS;
    certa_config *ccfg, *scfg;
    fz_configs(variant, &ccfg, &scfg);
    /* No ticket from an earlier input: the input alone decides the run. */
    session_cache_clear(&ccfg->cache);
    certa_conn *client = variant == FZ_RESUME12
                             ? certa_client_new_resume(ccfg, "fuzz.example", session, session_len)
                             : certa_client_new(ccfg, "fuzz.example");
    certa_conn *server = certa_server_new(scfg);
    fz_dir to_server, to_client;
    fz_reset_run(&to_server, &to_client);
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
        fprintf(stderr, "variant %d (TLS %s%s): client %s%s %s | server %s%s %s\n", variant,
                client->version == CERTA_TLS12 ? "1.2" : "1.3", client->resumed ? ", resumed" : "",
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
