/* The client's first flight in ECH split mode (ech_split_hello.h). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "proxy/ech_split_hello.h"
#include "tls/tls.h"

#define REC_HANDSHAKE 22
#define REC_ALERT 21
#define REC_CCS 20
#define REC_MAX_PLAINTEXT 16384

static void refuse(split_hello *h, uint8_t alert, const char *why) {
    h->verdict = SPLIT_REFUSE;
    h->alert = alert;
    h->why = why;
}

/* The first host_name of a ClientHello body's server_name extension. */
static void inner_server_name(const uint8_t *body, size_t len, char *out, size_t cap) {
    cursor c, v, exts;
    out[0] = '\0';
    cur_init(&c, body, len);
    if (!cur_skip(&c, 34) || !cur_vec8(&c, &v) || !cur_vec16(&c, &v) || !cur_vec8(&c, &v) ||
        !cur_vec16(&c, &exts))
        return;
    while (!cur_empty(&exts)) {
        uint16_t type;
        cursor data, list, name;
        uint8_t kind;
        if (!cur_u16(&exts, &type) || !cur_vec16(&exts, &data)) return;
        if (type != EXT_SERVER_NAME) continue;
        if (!cur_vec16(&data, &list) || !cur_u8(&list, &kind) || kind != 0 ||
            !cur_vec16(&list, &name) || name.len == 0 || name.len >= cap)
            return;
        for (size_t i = 0; i < name.len; i++)
            out[i] = (char)tolower(name.data[i]);
        out[name.len] = '\0';
        return;
    }
}

void split_client_hello(const ech_key *keys, size_t n_keys, const uint8_t *in, size_t len,
                        bool first, bool trial, ech_open_state *st, split_hello *h) {
    memset(h, 0, sizeof *h);
    /* Gather the handshake message from as many records as it spans. */
    uint8_t *msg = malloc(SPLIT_HELLO_MAX);
    size_t msg_len = 0, need = 0, off = 0, ccs_end = 0;
    uint16_t rec_version = 0x0301;
    builder inner;
    bld_init_alloc(&inner, 0);
    cursor c;
    cur_init(&c, in, len);
    if (msg == NULL) {
        refuse(h, ALERT_INTERNAL_ERROR, "out of memory reading the ClientHello");
        goto out;
    }
    for (;;) {
        uint8_t type;
        uint16_t version, rlen;
        cursor frag;
        if (!cur_u8(&c, &type) || !cur_u16(&c, &version) || !cur_u16(&c, &rlen)) goto out;
        /* Before a second ClientHello, a compatibility-mode client may send
         * its ChangeCipherSpec (RFC 8446 §D.4): passed on as it is. */
        if (!first && type == REC_CCS && off == ccs_end && msg_len == 0 && rlen == 1) {
            if (!cur_skip(&c, 1)) goto out; /* NEED_MORE */
            off = ccs_end = len - cur_left(&c);
            continue;
        }
        if (type != REC_HANDSHAKE || (version >> 8) != 3 || rlen == 0 || rlen > REC_MAX_PLAINTEXT) {
            refuse(h, ALERT_UNEXPECTED_MESSAGE,
                   "the client's first record is not a TLS handshake record");
            goto out;
        }
        if (off == ccs_end) rec_version = version;
        if (!cur_sub(&c, rlen, &frag)) goto out; /* NEED_MORE */
        if (msg_len + frag.len > SPLIT_HELLO_MAX) {
            refuse(h, ALERT_DECODE_ERROR, "the client's ClientHello is too large");
            goto out;
        }
        memcpy(msg + msg_len, frag.data, frag.len);
        msg_len += frag.len;
        off = len - cur_left(&c);
        if (msg_len >= 4 && need == 0) {
            need = 4 + ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3]);
            if (msg[0] != 1) {
                refuse(h, ALERT_UNEXPECTED_MESSAGE,
                       "the client's first handshake message is not a ClientHello");
                goto out;
            }
            if (need > SPLIT_HELLO_MAX) {
                refuse(h, ALERT_DECODE_ERROR, "the client's ClientHello is too large");
                goto out;
            }
        }
        if (need != 0 && msg_len >= need) break;
    }
    if (msg_len != need) {
        refuse(h, ALERT_UNEXPECTED_MESSAGE,
               "the client's first records carry more than the ClientHello");
        goto out;
    }
    h->consumed = off;
    const char *why = NULL;
    int rc = ech_open_client_hello(keys, n_keys, msg + 4, need - 4, first, trial, st, &inner, &why);
    if (rc < 0) {
        refuse(h, (uint8_t)-rc, why);
        goto out;
    }
    h->ech_offered = rc != ECH_OPEN_ABSENT;
    if (rc != ECH_OPEN_OK && !first) {
        refuse(h, ALERT_ILLEGAL_PARAMETER, why);
        goto out;
    }
    if (rc != ECH_OPEN_OK) {
        h->verdict = SPLIT_PUBLIC;
        h->why = rc == ECH_OPEN_ABSENT ? "the ClientHello has no encrypted_client_hello" : why;
        goto out;
    }
    inner_server_name(inner.buf, inner.len, h->inner_name, sizeof h->inner_name);
    /* The inner hello as handshake records, in fragments of at most 16 KiB. */
    bld_init_alloc(&h->out, ccs_end + inner.len + 64);
    bld_bytes(&h->out, in, ccs_end);
    uint8_t hs_header[4] = {1, (uint8_t)(inner.len >> 16), (uint8_t)(inner.len >> 8),
                            (uint8_t)inner.len};
    size_t total = 4 + inner.len, done = 0;
    while (done < total) {
        size_t n = total - done < REC_MAX_PLAINTEXT ? total - done : REC_MAX_PLAINTEXT;
        bld_u8(&h->out, REC_HANDSHAKE);
        bld_u16(&h->out, rec_version);
        bld_u16(&h->out, (uint16_t)n);
        for (size_t i = done; i < done + n; i++)
            bld_u8(&h->out, i < 4 ? hs_header[i] : inner.buf[i - 4]);
        done += n;
    }
    if (!bld_ok(&h->out)) {
        bld_free(&h->out);
        refuse(h, ALERT_INTERNAL_ERROR, "out of memory re-framing the ClientHelloInner");
        goto out;
    }
    h->verdict = SPLIT_INNER;
    h->why = why;
out:
    bld_free(&inner);
    if (msg != NULL) crypto_zero(msg, msg_len);
    free(msg);
}

int split_is_hello_retry(const uint8_t *in, size_t len) {
    /* RFC 8446 §4.1.3: SHA-256("HelloRetryRequest") as ServerHello.random. */
    static const uint8_t hrr_random[32] = {0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11,
                                           0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
                                           0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e,
                                           0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
    if (len < 5 + 4 + 2 + 32) return -1;
    return in[0] == REC_HANDSHAKE && in[5] == 2 && memcmp(in + 11, hrr_random, 32) == 0;
}

void split_alert_record(uint8_t alert, uint8_t out[7]) {
    const uint8_t rec[7] = {REC_ALERT, 3, 3, 0, 2, 2, alert};
    memcpy(out, rec, 7);
}
