/* certa fingerprint: reading a capture file (pcap or pcapng) with libpcap,
 * packet by packet. The only file here that calls libpcap. */
#ifndef CERTA_FINGERPRINT_CAPTURE_FILE_H
#define CERTA_FINGERPRINT_CAPTURE_FILE_H

#include "fingerprint/packet_decode.h"

#include <stddef.h>
#include <stdint.h>

typedef struct capture_file capture_file;

typedef struct capture_packet {
    const uint8_t *data; /* valid until the next capture_next */
    size_t caplen, wire_len;
    int64_t sec;
    long usec;
    uint64_t number; /* 1 for the first packet, as tshark's frame.number */
} capture_packet;

/* Opens path ("-" = standard input); NULL with a sentence in why when the
 * file cannot be read or its link type is not one packet_decode knows. */
capture_file *capture_open(const char *path, char *why, size_t cap);
capture_link capture_file_link(const capture_file *f);
/* 1 = *p filled, 0 = end of file, -1 = a read error (why filled). */
int capture_next(capture_file *f, capture_packet *p, char *why, size_t cap);
void capture_close(capture_file *f);

#endif
