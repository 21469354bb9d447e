/* Internal: TLS certificate compression (RFC 8879) — the algorithm table,
 * and the CompressedCertificate message in both directions. Pure
 * computation (zlib and brotli from the system libraries): the engine
 * decides when to use it (tls13_client.c, tls13_server.c). */
#ifndef CERTA_TLS_CERT_COMPRESSION_H
#define CERTA_TLS_CERT_COMPRESSION_H

#include "wire/cursor.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS_COMPRESSED_CERTIFICATE 25
#define EXT_COMPRESS_CERTIFICATE 27
/* The algorithms certa implements (the size of per-algorithm caches). */
#define CERT_CODECS 2

typedef struct cert_codec {
    uint16_t id; /* RFC 8879 CertificateCompressionAlgorithm */
    const char *name;
    /* in[0..len) into a malloc'd *out (the caller frees it); 0 or -1. */
    int (*compress)(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len);
    /* A complete stream in[0..len) into out[0..expected): one of
     * cert_decompress_status. Never writes past expected bytes. */
    int (*decompress)(const uint8_t *in, size_t len, uint8_t *out, size_t expected);
} cert_codec;

/* Table index of an algorithm, or -1 if certa does not implement it. */
int cert_codec_index(uint16_t id);
const cert_codec *cert_codec_at(int index);
/* By name ("zlib", "brotli"; len bytes, not NUL-terminated), or NULL. */
const cert_codec *cert_codec_by_name(const char *name, size_t len);

typedef enum cert_decompress_status {
    CD_OK = 0,
    CD_MALFORMED,   /* the message does not parse: decode_error */
    CD_NOT_OFFERED, /* an algorithm we did not offer: illegal_parameter */
    CD_TOO_LARGE,   /* uncompressed_length over the cap: bad_certificate */
    CD_TOO_LONG,    /* decompresses to more than uncompressed_length: bad_certificate */
    CD_TOO_SHORT,   /* to fewer bytes: bad_certificate */
    CD_CORRUPT,     /* not a valid stream, or bytes after its end: bad_certificate */
    CD_OVER_BUDGET, /* the decoder wanted more memory than allowed: bad_certificate */
    CD_NOMEM,       /* our allocation failed: internal_error */
} cert_decompress_status;

typedef struct cert_decompressed {
    uint16_t alg;
    uint32_t uncompressed_len; /* as declared (also when decompression failed) */
    size_t compressed_len;
    uint8_t *body; /* malloc'd Certificate message body (body_len bytes), only on CD_OK */
    size_t body_len;
} cert_decompressed;

/* A CompressedCertificate body (without the handshake header) from the
 * peer: the algorithm must be one of offered[0..n_offered), the declared
 * length at most max_len (the handshake message cap: the allocation is
 * never larger), and the stream must decode to exactly that many bytes.
 * On failure out->body is NULL. */
cert_decompress_status compressed_certificate_open(const uint16_t *offered, size_t n_offered,
                                                   size_t max_len, const uint8_t *msg, size_t len,
                                                   cert_decompressed *out);

/* A CompressedCertificate body for a Certificate body: algorithm,
 * uncompressed_length, the compressed bytes. 0, or -1 (allocation or the
 * library failed, or the body is over 2^24 - 1 bytes). */
int compressed_certificate_build(const cert_codec *codec, const uint8_t *body, size_t len,
                                 uint8_t **out, size_t *out_len);

/* The first algorithm in the peer's compress_certificate extension (its
 * order of preference) that ours[0..n) allows (0 if none); false if the
 * extension is malformed (decode_error). */
bool cert_compression_choose(cursor ext, const uint16_t *ours, size_t n, uint16_t *chosen);

#endif
