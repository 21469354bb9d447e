/* certa fingerprint: the ClientHello(s) at the start of a TCP stream. A
 * client's stream begins with handshake records carrying ClientHello (one
 * message may span several records, and several TCP segments); after a
 * HelloRetryRequest a second ClientHello follows, perhaps after a
 * ChangeCipherSpec. Anything else ends the search. No libpcap here. */
#ifndef CERTA_FINGERPRINT_HELLO_FINDER_H
#define CERTA_FINGERPRINT_HELLO_FINDER_H

#include <stddef.h>
#include <stdint.h>

typedef enum hello_status {
    HELLO_FOUND = 0, /* the message is in msg */
    HELLO_NEED_MORE, /* the stream so far is a client's start, cut short */
    HELLO_END,       /* no further ClientHello in this stream */
    HELLO_NOT_TLS,   /* the stream does not start with a ClientHello */
    HELLO_TOO_BIG,   /* the message does not fit in msg_cap */
} hello_status;

/* Looks in the first len bytes of a stream for ClientHello number skip + 1
 * (0: the first). On HELLO_FOUND, msg[0 .. *msg_len) is the handshake
 * message (type, 3-byte length, body) as certa_fingerprint_client_hello
 * takes it. */
hello_status hello_find(const uint8_t *stream, size_t len, unsigned skip, uint8_t *msg,
                        size_t msg_cap, size_t *msg_len);

#endif
