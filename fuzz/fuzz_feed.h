/* The engine targets' input loop: data fed to a connection in chunks of
 * chunk bytes (so record and message reassembly across transport reads is
 * exercised), draining what it reads and writes, then the end of input. */
#ifndef CERTA_FUZZ_FEED_H
#define CERTA_FUZZ_FEED_H

#include "certa.h"

static void fuzz_feed(certa_conn *c, const uint8_t *data, size_t size, size_t chunk) {
    size_t off = 0;
    uint8_t app[4096];
    while (off < size && !certa_conn_failed(c)) {
        size_t n = size - off < chunk ? size - off : chunk, used = 0;
        certa_conn_recv(c, data + off, n, &used);
        while (certa_conn_read(c, app, sizeof app) > 0) {
        }
        const uint8_t *out;
        certa_conn_outgoing_done(c, certa_conn_outgoing(c, &out));
        if (used == 0 && !certa_conn_failed(c)) break;
        off += used;
    }
    certa_conn_recv_eof(c);
}

#endif
