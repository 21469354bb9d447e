/* certa fingerprint: TLS records -> ClientHello messages, through the
 * cursor API. Stateless: each call reads the stream from its first byte
 * (a hello is a few kilobytes and the stream is bounded by tcp_streams.c). */
#include "fingerprint/hello_finder.h"

#include "wire/cursor.h"

#include <string.h>

#define RECORD_CHANGE_CIPHER_SPEC 20
#define RECORD_HANDSHAKE 22
#define HANDSHAKE_CLIENT_HELLO 1
/* A plaintext record holds at most 2^14 bytes (RFC 8446 5.1); a little
 * slack for peers that overshoot. */
#define RECORD_MAX (16384 + 256)

/* The type and body length of the handshake header gathered in msg (4 bytes). */
static size_t header_body_len(const uint8_t *msg, uint8_t *type) {
    cursor h;
    uint32_t body = 0;
    cur_init(&h, msg, 4);
    cur_u8(&h, type);
    cur_u24(&h, &body);
    return body;
}

hello_status hello_find(const uint8_t *stream, size_t len, unsigned skip, uint8_t *msg,
                        size_t msg_cap, size_t *msg_len) {
    cursor c;
    cur_init(&c, stream, len);
    unsigned found = 0; /* complete ClientHellos passed */
    size_t have = 0;    /* bytes of the current handshake message gathered in msg */
    *msg_len = 0;
    for (;;) {
        uint8_t type, major, minor;
        uint16_t rec_len;
        cursor rec;
        cursor save = c;
        if (!cur_u8(&c, &type) || !cur_u8(&c, &major) || !cur_u8(&c, &minor) ||
            !cur_u16(&c, &rec_len)) {
            if (found == 0 && have == 0 && cur_left(&save) > 0) {
                /* Judge the first bytes early: a stream that is not TLS is
                 * dropped without waiting for more. */
                uint8_t first;
                cur_peek_u8(&save, &first);
                if (first != RECORD_HANDSHAKE) return HELLO_NOT_TLS;
            }
            return HELLO_NEED_MORE;
        }
        /* found == 0 && have == 0 only at the stream's first record. */
        if (major != 3 || rec_len == 0 || rec_len > RECORD_MAX)
            return found || have ? HELLO_END : HELLO_NOT_TLS;
        if (type == RECORD_CHANGE_CIPHER_SPEC && found > 0 && have == 0) {
            if (!cur_skip(&c, rec_len)) return HELLO_NEED_MORE;
            continue; /* middlebox compatibility, between the two hellos */
        }
        if (type != RECORD_HANDSHAKE) return found ? HELLO_END : HELLO_NOT_TLS;
        if (!cur_sub(&c, rec_len, &rec)) {
            /* The record is incomplete; still, its first byte says whether
             * a ClientHello starts here. */
            uint8_t hs_type;
            if (have == 0 && cur_left(&c) > 0 && cur_peek_u8(&c, &hs_type) &&
                hs_type != HANDSHAKE_CLIENT_HELLO)
                return found ? HELLO_END : HELLO_NOT_TLS;
            return HELLO_NEED_MORE;
        }
        /* Gather the record's bytes into the message; one record may end a
         * message and start the next. */
        while (!cur_empty(&rec)) {
            uint8_t hs_type;
            size_t want = have < 4 ? 4 - have : 4 + header_body_len(msg, &hs_type) - have;
            size_t take = cur_left(&rec) < want ? cur_left(&rec) : want;
            if (have + take > msg_cap) return HELLO_TOO_BIG;
            if (!cur_copy(&rec, msg + have, take)) return HELLO_END;
            have += take;
            if (have < 4) continue;
            size_t body = header_body_len(msg, &hs_type);
            if (hs_type != HANDSHAKE_CLIENT_HELLO) return found ? HELLO_END : HELLO_NOT_TLS;
            if (4 + body > msg_cap) return HELLO_TOO_BIG;
            if (have == 4 + body) {
                if (found == skip) {
                    *msg_len = have;
                    return HELLO_FOUND;
                }
                found++;
                have = 0;
            }
        }
    }
}
