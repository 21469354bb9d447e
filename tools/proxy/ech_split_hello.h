/* certa proxy's ECH split mode, the part without sockets: the client's
 * first flight (TLS records carrying a ClientHelloOuter) in, a verdict out —
 * forward the decrypted ClientHelloInner, re-framed as records, to the
 * backend its server_name names; pass the bytes unchanged to the public
 * name's backend; or refuse with an alert. After a backend's
 * HelloRetryRequest (recognised here too), the client's second
 * ClientHelloOuter the same way with the first one's HPKE context. */
#ifndef CERTA_PROXY_ECH_SPLIT_HELLO_H
#define CERTA_PROXY_ECH_SPLIT_HELLO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/ech_open.h"
#include "wire/cursor.h"

#define SPLIT_HELLO_MAX (65536 + 4) /* a ClientHello's largest handshake message */

typedef enum split_verdict {
    SPLIT_NEED_MORE = 0, /* the ClientHello is not complete yet: read more */
    SPLIT_INNER,         /* ECH opened: send out (the inner hello's records) to name's backend */
    SPLIT_PUBLIC,        /* no ECH, or none of our keys opened it: the public name's backend */
    SPLIT_REFUSE         /* send the alert and close */
} split_verdict;

typedef struct split_hello {
    split_verdict verdict;
    uint8_t alert;        /* SPLIT_REFUSE: the alert description */
    const char *why;      /* a sentence for the log (every verdict but NEED_MORE) */
    char inner_name[256]; /* SPLIT_INNER: the inner server_name ("" if none) */
    bool ech_offered;     /* the hello has an encrypted_client_hello extension */
    size_t consumed;      /* bytes of the client's stream the ClientHello's records took */
    builder out;          /* SPLIT_INNER: handshake records with ClientHelloInner (heap) */
} split_hello;

/* Looks at the client's first len bytes (first: its first ClientHello,
 * trial: with trial decryption, ech_open_client_hello's;
 * otherwise its second, after a HelloRetryRequest, opened with st's context
 * and preceded perhaps by a ChangeCipherSpec record, which is kept; a second
 * hello that does not open is refused). On SPLIT_INNER out holds the records
 * (the outer's record version, 16 KiB fragments); the caller forwards
 * in[consumed ..] after them unchanged, and bld_free()s out. */
void split_client_hello(const ech_key *keys, size_t n_keys, const uint8_t *in, size_t len,
                        bool first, bool trial, ech_open_state *st, split_hello *h);
/* The backend's first bytes: 1 if they begin a HelloRetryRequest, 0 if a
 * ServerHello or anything else, -1 if fewer than the 43 bytes needed. */
int split_is_hello_retry(const uint8_t *in, size_t len);
/* A fatal plaintext alert record (7 bytes) with this description. */
void split_alert_record(uint8_t alert, uint8_t out[7]);

#endif
