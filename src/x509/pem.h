/* PEM decoding (RFC 7468): finds "-----BEGIN <label>-----" blocks. */
#ifndef CERTA_X509_PEM_H
#define CERTA_X509_PEM_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the next block with the given label (e.g. "CERTIFICATE") from
 * text starting at *pos. On success returns 1, sets *der and *der_len to a
 * malloc'd buffer and advances *pos past the block; returns 0 when no more
 * blocks, -1 on a malformed block. */
int pem_next(const char *text, size_t len, size_t *pos, const char *label, uint8_t **der,
             size_t *der_len);

/* Reads a whole file into a NUL-terminated malloc'd buffer; 0 or -1. */
int read_file(const char *path, char **out, size_t *len);

#endif
