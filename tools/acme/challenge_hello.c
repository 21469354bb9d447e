/* The first TLS record of a tls-alpn-01 validator, framed over the cursor
 * API (see challenge.h); the ClientHello itself is read by the library's
 * certa_fingerprint_client_hello. */
#include "acme/challenge.h"

int challenge_first_client_hello(const uint8_t *buf, size_t len, cursor *msg) {
    cursor c, rec, body;
    uint8_t type, hs_type;
    uint16_t version;
    uint32_t hs_len;
    cur_init(&c, buf, len);
    if (!cur_u8(&c, &type) || !cur_u16(&c, &version)) return len < 3 ? 0 : -1;
    if (type != 22) return -1; /* a handshake record */
    if (!cur_vec16(&c, &rec)) return len < CHALLENGE_HELLO_RECORD_MAX ? 0 : -1;
    body = rec;
    if (!cur_u8(&body, &hs_type) || hs_type != 1 || !cur_u24(&body, &hs_len) || hs_len != body.len)
        return -1;
    *msg = rec;
    return 1;
}
