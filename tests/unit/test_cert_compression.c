/* Certificate compression (RFC 8879): the codecs and the CompressedCertificate
 * parser on hostile input (length mismatches both ways, a declared length
 * over the cap, garbage, trailing bytes, decompression bombs, algorithms not
 * offered); handshakes in memory with each algorithm, preference order, off
 * on either side, client certificates, and the per-identity cache; and a man
 * in the middle that re-encrypts the handshake flight to swap in hostile
 * CompressedCertificate messages, which must fail with the alert RFC 8879
 * names — and to show that the message goes into the transcript as sent. */
#include "certa.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "record/record.h"
#include "testlib.h"
#include "tls/tls.h"

#include <brotli/encode.h>
#include <zlib.h>

static test_cert root, server_leaf, client_leaf;
static certa_trust *trust;

static void make_pki(void) {
    chain_opts ca = chain_ca_opts("Compression Test Root");
    tc_make(&root, &ca, NULL);
    chain_opts s = chain_leaf_opts("localhost", "DNS:localhost");
    tc_make(&server_leaf, &s, &root);
    chain_opts c = chain_leaf_opts("client", "URI:spiffe://test.example/client");
    c.eku = "clientAuth";
    tc_make(&client_leaf, &c, &root);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, root.pem, strlen(root.pem));
}

static certa_config *server_cfg(const char *compression, certa_client_auth auth) {
    certa_config *cfg = certa_config_new();
    pair_use_identity(cfg, &server_leaf);
    certa_config_set_trust(cfg, trust);
    certa_config_set_client_auth(cfg, auth);
    if (compression) certa_config_set_cert_compression(cfg, compression);
    return cfg;
}

static certa_config *client_cfg(const char *compression, bool with_identity) {
    certa_config *cfg = certa_config_new();
    certa_config_set_trust(cfg, trust);
    if (with_identity) pair_use_identity(cfg, &client_leaf);
    if (compression) certa_config_set_cert_compression(cfg, compression);
    return cfg;
}

static pair handshake(certa_config *c, certa_config *s) {
    pair p = {certa_client_new(c, "localhost"), certa_server_new(s)};
    pair_pump(&p);
    return p;
}

/* The TLS 1.3 Certificate body certa sends for one certificate. */
static size_t certificate_body(const test_cert *tc, uint8_t *out, size_t cap) {
    builder b;
    bld_init_fixed(&b, out, cap);
    bld_u8(&b, 0);
    bld_open(&b, 3);
    bld_open(&b, 3);
    bld_bytes(&b, tc->der, tc->der_len);
    bld_close(&b);
    bld_u16(&b, 0);
    bld_close(&b);
    return bld_ok(&b) ? b.len : 0;
}

/* alg || uncompressed_length || vec24(stream) */
static size_t compressed_msg(uint16_t alg, uint32_t declared, const uint8_t *stream, size_t len,
                             uint8_t *out, size_t cap) {
    builder b;
    bld_init_fixed(&b, out, cap);
    bld_u16(&b, alg);
    bld_u24(&b, declared);
    bld_open(&b, 3);
    bld_bytes(&b, stream, len);
    bld_close(&b);
    return bld_ok(&b) ? b.len : 0;
}

static const uint16_t both[] = {CERTA_CERT_COMPRESSION_BROTLI, CERTA_CERT_COMPRESSION_ZLIB};

static cert_decompress_status open_msg(const uint16_t *offered, size_t n, size_t max,
                                       const uint8_t *msg, size_t len, cert_decompressed *d) {
    cert_decompress_status st = compressed_certificate_open(offered, n, max, msg, len, d);
    if (st != CD_OK && d->body) printf("# body left allocated on failure\n");
    return st;
}

static void codec_tests(void) {
    static uint8_t body[8192], msg[16384], stream[16384];
    size_t body_len = certificate_body(&server_leaf, body, sizeof body);
    CHECK(body_len > 300, "a Certificate body of %zu bytes to compress", body_len);
    for (int i = 0; i < CERT_CODECS; i++) {
        const cert_codec *codec = cert_codec_at(i);
        uint8_t *packed;
        size_t packed_len;
        CHECK(compressed_certificate_build(codec, body, body_len, &packed, &packed_len) == 0,
              "%s: CompressedCertificate built (%zu bytes for %zu)", codec->name, packed_len,
              body_len);
        cert_decompressed d;
        cert_decompress_status st = open_msg(both, 2, 65536, packed, packed_len, &d);
        CHECK(st == CD_OK && d.alg == codec->id && d.body_len == body_len &&
                  !memcmp(d.body, body, body_len) && d.compressed_len == packed_len - 8,
              "%s: opens to the same %zu bytes", codec->name, body_len);
        free(d.body);
        /* The stream alone, to re-frame it. */
        size_t slen = packed_len - 8;
        memcpy(stream, packed + 8, slen);
        free(packed);

        size_t n = compressed_msg(codec->id, (uint32_t)body_len + 1, stream, slen, msg, sizeof msg);
        CHECK(open_msg(both, 2, 65536, msg, n, &d) == CD_TOO_SHORT,
              "%s: declared one byte longer than the stream makes: CD_TOO_SHORT", codec->name);
        n = compressed_msg(codec->id, (uint32_t)body_len - 1, stream, slen, msg, sizeof msg);
        CHECK(open_msg(both, 2, 65536, msg, n, &d) == CD_TOO_LONG,
              "%s: declared one byte shorter: CD_TOO_LONG (nothing written past it)", codec->name);
        n = compressed_msg(codec->id, 0, stream, slen, msg, sizeof msg);
        CHECK(open_msg(both, 2, 65536, msg, n, &d) == CD_TOO_LONG, "%s: declared 0: CD_TOO_LONG",
              codec->name);
        n = compressed_msg(codec->id, (uint32_t)body_len, stream, slen, msg, sizeof msg);
        CHECK(open_msg(both, 2, body_len - 1, msg, n, &d) == CD_TOO_LARGE &&
                  d.uncompressed_len == body_len,
              "%s: declared length one over the cap: CD_TOO_LARGE before decompressing",
              codec->name);
        CHECK(open_msg(both, 2, body_len, msg, n, &d) == CD_OK, "%s: exactly at the cap: CD_OK",
              codec->name);
        free(d.body);
        n = compressed_msg(codec->id, 0xffffff, stream, slen, msg, sizeof msg);
        CHECK(open_msg(both, 2, 65536, msg, n, &d) == CD_TOO_LARGE,
              "%s: declared 16 MiB against a 64 KiB cap: CD_TOO_LARGE", codec->name);
        n = compressed_msg(codec->id, (uint32_t)body_len, stream, slen - 1, msg, sizeof msg);
        CHECK(open_msg(both, 2, 65536, msg, n, &d) == CD_CORRUPT,
              "%s: stream cut short by one byte: CD_CORRUPT", codec->name);
        stream[slen] = 0;
        n = compressed_msg(codec->id, (uint32_t)body_len, stream, slen + 1, msg, sizeof msg);
        CHECK(open_msg(both, 2, 65536, msg, n, &d) == CD_CORRUPT,
              "%s: a byte after the stream's end: CD_CORRUPT", codec->name);
        uint8_t garbage[300];
        for (size_t k = 0; k < sizeof garbage; k++)
            garbage[k] = (uint8_t)(k * 131 + 7);
        n = compressed_msg(codec->id, (uint32_t)body_len, garbage, sizeof garbage, msg, sizeof msg);
        st = open_msg(both, 2, 65536, msg, n, &d);
        CHECK(st == CD_CORRUPT || st == CD_TOO_LONG || st == CD_TOO_SHORT,
              "%s: garbage stream refused (status %d)", codec->name, st);
        uint16_t other = codec->id == CERTA_CERT_COMPRESSION_ZLIB ? CERTA_CERT_COMPRESSION_BROTLI
                                                                  : CERTA_CERT_COMPRESSION_ZLIB;
        n = compressed_msg(codec->id, (uint32_t)body_len, stream, slen, msg, sizeof msg);
        CHECK(open_msg(&other, 1, 65536, msg, n, &d) == CD_NOT_OFFERED && d.alg == codec->id,
              "%s: valid but not offered: CD_NOT_OFFERED", codec->name);
    }

    /* Decompression bombs: 16 MiB of zeros compress to a few KB; declared as
     * a 4000-byte certificate they must stop at 4000 bytes (or the budget). */
    size_t big = 16u << 20;
    uint8_t *zeros = calloc(1, big);
    uLongf zlen = compressBound(big);
    uint8_t *zbomb = malloc(zlen);
    compress2(zbomb, &zlen, zeros, big, 9);
    size_t n = compressed_msg(CERTA_CERT_COMPRESSION_ZLIB, 4000, zbomb, zlen, msg, sizeof msg);
    cert_decompressed d;
    CHECK(n && open_msg(both, 2, 65536, msg, n, &d) == CD_TOO_LONG,
          "zlib bomb (16 MiB in %lu bytes) declared 4000: CD_TOO_LONG", (unsigned long)zlen);
    size_t blen = BrotliEncoderMaxCompressedSize(big);
    uint8_t *bbomb = malloc(blen);
    BrotliEncoderCompress(5, 24, BROTLI_MODE_GENERIC, big, zeros, &blen, bbomb);
    n = compressed_msg(CERTA_CERT_COMPRESSION_BROTLI, 4000, bbomb, blen, msg, sizeof msg);
    cert_decompress_status st = open_msg(both, 2, 65536, msg, n, &d);
    CHECK(n && (st == CD_TOO_LONG || st == CD_OVER_BUDGET),
          "brotli bomb (16 MiB, 16 MiB window, in %zu bytes) declared 4000: refused (status %d)",
          blen, st);
    free(zeros);
    free(zbomb);
    free(bbomb);

    /* Framing. */
    uint8_t tiny[] = {0, 2, 0, 0, 10, 0, 0, 0};
    CHECK(open_msg(both, 2, 65536, tiny, sizeof tiny, &d) == CD_MALFORMED,
          "an empty compressed_certificate_message: CD_MALFORMED");
    uint8_t cut[] = {0, 2, 0, 0, 10, 0, 0, 5, 1, 2};
    CHECK(open_msg(both, 2, 65536, cut, sizeof cut, &d) == CD_MALFORMED,
          "a vector longer than the message: CD_MALFORMED");
    uint8_t zstd[] = {0, 3, 0, 0, 10, 0, 0, 1, 0};
    CHECK(open_msg(both, 2, 65536, zstd, sizeof zstd, &d) == CD_NOT_OFFERED,
          "zstd (3), which certa does not implement: CD_NOT_OFFERED");

    /* The extension: our preference first, among what the peer lists. */
    uint16_t chosen;
    uint8_t peer_lists[] = {4, 0, 1, 0, 2};
    cursor e;
    cur_init(&e, peer_lists, sizeof peer_lists);
    CHECK(cert_compression_choose(e, both, 2, &chosen) && chosen == CERTA_CERT_COMPRESSION_ZLIB,
          "peer lists zlib,brotli; we allow brotli,zlib: the peer's first, zlib");
    uint8_t unknown_first[] = {4, 0x40, 0, 0, 2};
    cur_init(&e, unknown_first, sizeof unknown_first);
    CHECK(cert_compression_choose(e, both, 2, &chosen) && chosen == CERTA_CERT_COMPRESSION_BROTLI,
          "peer lists 16384,brotli: the unknown one skipped, brotli");
    uint8_t only_zstd[] = {2, 0, 3};
    cur_init(&e, only_zstd, sizeof only_zstd);
    CHECK(cert_compression_choose(e, both, 2, &chosen) && chosen == 0,
          "peer lists only zstd: none chosen, no error");
    uint8_t odd[] = {3, 0, 1, 0}, empty[] = {0}, trailing[] = {2, 0, 1, 9};
    cur_init(&e, odd, sizeof odd);
    bool a = cert_compression_choose(e, both, 2, &chosen);
    cur_init(&e, empty, sizeof empty);
    bool b = cert_compression_choose(e, both, 2, &chosen);
    cur_init(&e, trailing, sizeof trailing);
    bool c = cert_compression_choose(e, both, 2, &chosen);
    CHECK(!a && !b && !c, "odd-length, empty and trailing-byte lists are malformed");
}

static uint16_t peer_alg(const certa_conn *c, size_t *compressed, size_t *uncompressed) {
    certa_info info;
    certa_conn_info(c, &info);
    if (compressed) *compressed = info.peer_cert_compressed_len;
    if (uncompressed) *uncompressed = info.peer_cert_uncompressed_len;
    return info.peer_cert_compression;
}

static void handshake_tests(void) {
    certa_config *s = server_cfg(NULL, CERTA_CLIENT_AUTH_NONE);
    const char *names[] = {"zlib", "brotli"};
    uint16_t ids[] = {CERTA_CERT_COMPRESSION_ZLIB, CERTA_CERT_COMPRESSION_BROTLI};
    for (int i = 0; i < 2; i++) {
        certa_config *c = client_cfg(names[i], false);
        pair p = handshake(c, s);
        size_t clen, ulen, der_len = 0;
        uint16_t alg = peer_alg(p.client, &clen, &ulen);
        const uint8_t *der = certa_conn_peer_cert(p.client, 0, &der_len);
        CHECK(certa_conn_handshake_done(p.client) && certa_conn_handshake_done(p.server) &&
                  alg == ids[i] && clen < ulen && ulen == server_leaf.der_len + 9 && der &&
                  der_len == server_leaf.der_len && !memcmp(der, server_leaf.der, der_len),
              "client offers %s: the server's certificate arrives compressed (%zu -> %zu bytes), "
              "verified, the same DER: %s",
              names[i], ulen, clen, certa_conn_error_text(p.client));
        pair_free(&p);
        certa_config_free(c);
    }

    certa_config *c = client_cfg("zlib,brotli", false);
    pair p = handshake(c, s);
    CHECK(peer_alg(p.client, NULL, NULL) == CERTA_CERT_COMPRESSION_ZLIB,
          "client zlib,brotli, server brotli,zlib (default): the client's preference, zlib");
    pair_free(&p);
    certa_config *s_zlib = server_cfg("zlib", CERTA_CLIENT_AUTH_NONE);
    p = handshake(c, s_zlib);
    CHECK(certa_conn_handshake_done(p.client) &&
              peer_alg(p.client, NULL, NULL) == CERTA_CERT_COMPRESSION_ZLIB,
          "server allows zlib only: zlib");
    pair_free(&p);
    certa_config_free(c);
    certa_config_free(s_zlib);

    certa_config *c_off = client_cfg("off", false);
    p = handshake(c_off, s);
    CHECK(certa_conn_handshake_done(p.client) && peer_alg(p.client, NULL, NULL) == 0,
          "client with compression off: a plain Certificate");
    pair_free(&p);
    certa_config *s_off = server_cfg("off", CERTA_CLIENT_AUTH_NONE);
    certa_config *c_def = client_cfg(NULL, false);
    p = handshake(c_def, s_off);
    CHECK(certa_conn_handshake_done(p.client) && peer_alg(p.client, NULL, NULL) == 0,
          "server with compression off: a plain Certificate to a client that offers");
    pair_free(&p);
    certa_config *c_12 = client_cfg(NULL, false);
    certa_config_set_versions(c_12, CERTA_TLS12, CERTA_TLS12);
    certa_config *s_12 = server_cfg(NULL, CERTA_CLIENT_AUTH_NONE);
    certa_config_set_versions(s_12, CERTA_TLS12, CERTA_TLS13);
    p = handshake(c_12, s_12);
    CHECK(certa_conn_handshake_done(p.client) && peer_alg(p.client, NULL, NULL) == 0,
          "TLS 1.2: no compression (RFC 8879 is TLS 1.3 only)");
    pair_free(&p);
    certa_config_free(c_12);
    certa_config_free(s_12);

    /* Once per identity and algorithm: the config keeps the message. */
    int bi = cert_codec_index(CERTA_CERT_COMPRESSION_BROTLI);
    size_t slot = 1; /* pair_use_identity adds after slot 0 (load_cert_chain's) */
    const uint8_t *first = s->cert_cache[slot][bi].msg;
    p = handshake(c_def, s);
    CHECK(first && s->cert_cache[slot][bi].msg == first &&
              atomic_load(&s->cert_cache[slot][bi].ready) && !s->cert_cache[0][bi].msg,
          "a second handshake reuses the brotli message cached in the config for its identity");
    pair_free(&p);
    certa_config_free(c_def);
    certa_config_free(s_off);
    certa_config_free(c_off);
    certa_config_free(s);

    /* Client certificates, when the server's CertificateRequest offers. */
    certa_config *sm = server_cfg(NULL, CERTA_CLIENT_AUTH_REQUIRE);
    certa_config *cm = client_cfg(NULL, true);
    p = handshake(cm, sm);
    certa_peer_identity id;
    certa_conn_peer_identity(p.server, &id);
    CHECK(certa_conn_handshake_done(p.server) &&
              peer_alg(p.server, NULL, NULL) == CERTA_CERT_COMPRESSION_BROTLI && id.verified &&
              !strcmp(id.spiffe_id, "spiffe://test.example/client"),
          "mTLS: the client's certificate arrives compressed with brotli and verifies: %s",
          certa_conn_error_text(p.server));
    pair_free(&p);
    certa_config *sm_zlib = server_cfg("zlib", CERTA_CLIENT_AUTH_REQUIRE);
    p = handshake(cm, sm_zlib);
    CHECK(certa_conn_handshake_done(p.server) &&
              peer_alg(p.server, NULL, NULL) == CERTA_CERT_COMPRESSION_ZLIB,
          "mTLS: a server offering zlib only in CertificateRequest gets zlib");
    pair_free(&p);
    certa_config *cm_off = client_cfg("off", true);
    p = handshake(cm_off, sm);
    CHECK(certa_conn_handshake_done(p.server) && peer_alg(p.server, NULL, NULL) == 0,
          "mTLS: a client with compression off sends a plain Certificate");
    pair_free(&p);
    certa_config_free(sm);
    certa_config_free(sm_zlib);
    certa_config_free(cm);
    certa_config_free(cm_off);
}

/* ---- a man in the middle for one flight ---- */

typedef struct edit {
    int kind;
    uint8_t from_type; /* the message to replace */
} edit;

enum {
    E_DECLARE_LONGER,
    E_DECLARE_SHORTER,
    E_DECLARE_OVER_CAP,
    E_GARBAGE,
    E_HUGE, /* a 70000-byte stream: the message itself is over the cap */
    E_ZLIB_UNOFFERED,
    E_ZSTD,
    E_TO_PLAIN,      /* CompressedCertificate -> the same certificate, uncompressed */
    E_TO_COMPRESSED, /* Certificate -> the same certificate, compressed with brotli */
};

/* The replacement for one handshake message (type + body), into out. */
static void rewrite(const edit *e, const uint8_t *msg, size_t len, builder *out) {
    if (msg[0] != e->from_type) {
        bld_bytes(out, msg, len);
        return;
    }
    static uint8_t body[65536], stream[70000];
    size_t body_len;
    uint16_t alg = CERTA_CERT_COMPRESSION_BROTLI;
    if (msg[0] == HS_CERTIFICATE) {
        body_len = len - 4;
        memcpy(body, msg + 4, body_len);
    } else {
        cert_decompressed d;
        if (compressed_certificate_open(both, 2, sizeof body, msg + 4, len - 4, &d) != CD_OK) {
            printf("# the MITM could not open the CompressedCertificate\n");
            bld_bytes(out, msg, len);
            return;
        }
        body_len = d.body_len;
        memcpy(body, d.body, body_len);
        alg = d.alg; /* keep what the sender chose */
        free(d.body);
    }
    uint8_t type = HS_COMPRESSED_CERTIFICATE;
    uint32_t declared = (uint32_t)body_len;
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    const uint8_t *data = NULL;
    size_t data_len = 0;
    if (e->kind == E_ZLIB_UNOFFERED) alg = CERTA_CERT_COMPRESSION_ZLIB;
    compressed_certificate_build(cert_codec_at(cert_codec_index(alg)), body, body_len, &packed,
                                 &packed_len);
    data = packed + 8;
    data_len = packed_len - 8;
    switch (e->kind) {
    case E_DECLARE_LONGER:
        declared++;
        break;
    case E_DECLARE_SHORTER:
        declared--;
        break;
    case E_DECLARE_OVER_CAP:
        declared = 70000; /* the default cap is 64 KiB */
        break;
    case E_GARBAGE:
        for (size_t k = 0; k < 200; k++)
            stream[k] = (uint8_t)(k * 37 + 11);
        data = stream;
        data_len = 200;
        break;
    case E_HUGE:
        memset(stream, 0, sizeof stream);
        data = stream;
        data_len = sizeof stream;
        break;
    case E_ZSTD:
        alg = 3;
        break;
    case E_TO_PLAIN:
        type = HS_CERTIFICATE;
        break;
    default:
        break;
    }
    bld_u8(out, type);
    bld_open(out, 3);
    if (type == HS_CERTIFICATE) {
        bld_bytes(out, body, body_len);
    } else {
        bld_u16(out, alg);
        bld_u24(out, declared);
        bld_open(out, 3);
        bld_bytes(out, data, data_len);
        bld_close(out);
    }
    bld_close(out);
    free(packed);
}

/* Everything `from` has queued goes to `to`: records in clear as they are;
 * the encrypted handshake messages (under from's handshake secret) are
 * opened, rewritten, and sealed again under the same secret. */
static void forward_rewritten(certa_conn *from, certa_conn *to, const uint8_t *secret,
                              const edit *e) {
    const uint8_t *out;
    size_t n = certa_conn_outgoing(from, &out);
    record_protection open, seal;
    memset(&open, 0, sizeof open);
    memset(&seal, 0, sizeof seal);
    seal.aead.encrypt = true;
    record_set_secret(&open, from->suite->aead, from->suite->hash, secret);
    record_set_secret(&seal, from->suite->aead, from->suite->hash, secret);
    builder wire, hs, edited;
    bld_init_alloc(&wire, n + 1024);
    bld_init_alloc(&hs, n);
    bld_init_alloc(&edited, n + 1024);
    static uint8_t body[RECORD_MAX_CIPHERTEXT];
    for (size_t off = 0; off + RECORD_HEADER_LEN <= n;) {
        const uint8_t *rec = out + off;
        size_t rl = (size_t)rec[3] << 8 | rec[4];
        off += RECORD_HEADER_LEN + rl;
        if (rec[0] != CONTENT_APPLICATION_DATA) {
            bld_bytes(&wire, rec, RECORD_HEADER_LEN + rl);
            continue;
        }
        uint8_t type;
        size_t plain;
        memcpy(body, rec + RECORD_HEADER_LEN, rl);
        if (record_open(&open, rec, body, rl, &type, &plain) == 0 && type == CONTENT_HANDSHAKE)
            bld_bytes(&hs, body, plain);
        else
            printf("# the MITM could not open a record\n");
    }
    for (size_t off = 0; off + 4 <= hs.len;) {
        size_t len =
            4 + ((size_t)hs.buf[off + 1] << 16 | (size_t)hs.buf[off + 2] << 8 | hs.buf[off + 3]);
        rewrite(e, hs.buf + off, len, &edited);
        off += len;
    }
    record_write(&seal, &wire, CONTENT_HANDSHAKE, edited.buf, edited.len);
    certa_conn_outgoing_done(from, n);
    size_t used = 0;
    certa_conn_recv(to, wire.buf, wire.len, &used);
    bld_free(&wire);
    bld_free(&hs);
    bld_free(&edited);
    record_protection_clear(&open);
    record_protection_clear(&seal);
}

static void forward(certa_conn *from, certa_conn *to) {
    const uint8_t *out;
    size_t n = certa_conn_outgoing(from, &out), used = 0;
    certa_conn_recv(to, out, n, &used);
    certa_conn_outgoing_done(from, n);
}

/* The client's view of a server flight rewritten by e. */
static void server_flight_case(certa_config *c, certa_config *s, edit e, int code, uint8_t alert,
                               const char *what) {
    pair p = {certa_client_new(c, "localhost"), certa_server_new(s)};
    forward(p.client, p.server);
    forward_rewritten(p.server, p.client, p.server->server_hs_secret, &e);
    CHECK(certa_conn_error(p.client) == code && certa_conn_alert_sent(p.client) == alert,
          "%s: %s, alert %s: %s", what, certa_error_name(code), certa_alert_name(alert),
          certa_conn_error_text(p.client));
    pair_free(&p);
}

/* The server's view of a client flight (mTLS) rewritten by e. */
static void client_flight_case(certa_config *c, certa_config *s, edit e, int code, uint8_t alert,
                               const char *what) {
    pair p = {certa_client_new(c, "localhost"), certa_server_new(s)};
    forward(p.client, p.server);
    forward(p.server, p.client);
    forward_rewritten(p.client, p.server, p.server->client_hs_secret, &e);
    CHECK(certa_conn_error(p.server) == code && certa_conn_alert_sent(p.server) == alert,
          "%s: %s, alert %s: %s", what, certa_error_name(code), certa_alert_name(alert),
          certa_conn_error_text(p.server));
    pair_free(&p);
}

static void hostile_tests(void) {
    certa_config *s = server_cfg(NULL, CERTA_CLIENT_AUTH_NONE);
    certa_config *c = client_cfg("brotli", false);
    const uint8_t cc = HS_COMPRESSED_CERTIFICATE;
    server_flight_case(c, s, (edit){E_DECLARE_LONGER, cc}, CERTA_E_BAD_CERTIFICATE, 42,
                       "server declares one byte more than it compressed");
    server_flight_case(c, s, (edit){E_DECLARE_SHORTER, cc}, CERTA_E_BAD_CERTIFICATE, 42,
                       "server declares one byte less");
    server_flight_case(c, s, (edit){E_DECLARE_OVER_CAP, cc}, CERTA_E_HANDSHAKE_TOO_BIG, 42,
                       "server declares 70000 bytes (cap 64 KiB)");
    server_flight_case(c, s, (edit){E_GARBAGE, cc}, CERTA_E_BAD_CERTIFICATE, 42,
                       "server sends a garbage brotli stream");
    server_flight_case(c, s, (edit){E_HUGE, cc}, CERTA_E_HANDSHAKE_TOO_BIG, 42,
                       "server sends a 70000-byte CompressedCertificate (cap 64 KiB): refused "
                       "from its header");
    server_flight_case(c, s, (edit){E_ZLIB_UNOFFERED, cc}, CERTA_E_ILLEGAL_PARAMETER, 47,
                       "server uses zlib, the client offered brotli only");
    server_flight_case(c, s, (edit){E_ZSTD, cc}, CERTA_E_ILLEGAL_PARAMETER, 47,
                       "server names zstd (3), never offered");
    /* The transcript holds the message as sent: the server signed over its
     * CompressedCertificate, so the same certificate uncompressed (or the
     * other way round) no longer matches its CertificateVerify. */
    server_flight_case(c, s, (edit){E_TO_PLAIN, cc}, CERTA_E_BAD_SIGNATURE, 51,
                       "CompressedCertificate swapped for the same certificate uncompressed");
    certa_config *s_off = server_cfg("off", CERTA_CLIENT_AUTH_NONE);
    server_flight_case(c, s_off, (edit){E_TO_COMPRESSED, HS_CERTIFICATE}, CERTA_E_BAD_SIGNATURE, 51,
                       "Certificate swapped for the same certificate compressed");
    certa_config *c_off = client_cfg("off", false);
    server_flight_case(c_off, s_off, (edit){E_TO_COMPRESSED, HS_CERTIFICATE},
                       CERTA_E_UNEXPECTED_MESSAGE, 10,
                       "CompressedCertificate to a client with compression off");
    certa_config_free(c_off);
    certa_config_free(c);
    certa_config_free(s);

    certa_config *sm = server_cfg("zlib", CERTA_CLIENT_AUTH_REQUIRE);
    certa_config *cm = client_cfg(NULL, true);
    client_flight_case(cm, sm, (edit){E_DECLARE_SHORTER, cc}, CERTA_E_BAD_CERTIFICATE, 42,
                       "client certificate declared one byte short");
    client_flight_case(cm, sm, (edit){E_GARBAGE, cc}, CERTA_E_BAD_CERTIFICATE, 42,
                       "client certificate as a garbage stream");
    client_flight_case(cm, sm, (edit){E_ZSTD, cc}, CERTA_E_ILLEGAL_PARAMETER, 47,
                       "client certificate with zstd, which the server did not offer");
    certa_config *sm_off = server_cfg("off", CERTA_CLIENT_AUTH_REQUIRE);
    client_flight_case(cm, sm_off, (edit){E_TO_COMPRESSED, HS_CERTIFICATE},
                       CERTA_E_UNEXPECTED_MESSAGE, 10,
                       "CompressedCertificate to a server whose CertificateRequest did not offer");
    certa_config_free(sm_off);
    certa_config_free(s_off);
    certa_config_free(sm);
    certa_config_free(cm);
}

int main(void) {
    make_pki();
    codec_tests();
    handshake_tests();
    hostile_tests();
    certa_trust_free(trust);
    tc_free(&root);
    tc_free(&server_leaf);
    tc_free(&client_leaf);
    TEST_EXIT();
}
