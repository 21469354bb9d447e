/* TLS certificate compression (RFC 8879): zlib (RFC 1950) and brotli
 * (RFC 7932) through the system libraries, one table entry each, and the
 * CompressedCertificate message. Decompression is bounded three ways: the
 * declared uncompressed_length must fit the handshake message cap before
 * anything is allocated, the decoders write into exactly that many bytes,
 * and brotli's own allocations come from a fixed budget (a stream can
 * declare windows and tables far larger than the output it makes). */
#include "tls/cert_compression.h"

#include <brotli/decode.h>
#include <brotli/encode.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- zlib ---- */

static int zlib_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len) {
    uLongf cap = compressBound((uLong)len);
    uint8_t *buf = malloc(cap);
    if (!buf) return -1;
    if (compress2(buf, &cap, in, (uLong)len, Z_BEST_COMPRESSION) != Z_OK) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = cap;
    return 0;
}

static int zlib_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t expected) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) return CD_NOMEM;
    z.next_in = (Bytef *)(uintptr_t)in; /* zlib does not write through next_in */
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)expected;
    int r = inflate(&z, Z_FINISH);
    int status;
    if (r == Z_STREAM_END) {
        status = z.avail_in != 0 ? CD_CORRUPT : z.avail_out != 0 ? CD_TOO_SHORT : CD_OK;
    } else if (r == Z_MEM_ERROR) {
        status = CD_NOMEM;
    } else if ((r == Z_BUF_ERROR || r == Z_OK) && z.avail_out == 0) {
        /* Out of room: one byte more says whether the stream has more. */
        uint8_t spare;
        z.next_out = &spare;
        z.avail_out = 1;
        r = inflate(&z, Z_FINISH);
        status = z.avail_out == 0 ? CD_TOO_LONG : r == Z_STREAM_END ? CD_OK : CD_CORRUPT;
        if (status == CD_OK && z.avail_in != 0) status = CD_CORRUPT;
    } else {
        status = CD_CORRUPT; /* Z_DATA_ERROR, Z_NEED_DICT, or the input ended early */
    }
    inflateEnd(&z);
    return status;
}

/* ---- brotli ---- */

static int brotli_compress(const uint8_t *in, size_t len, uint8_t **out, size_t *out_len) {
    size_t cap = BrotliEncoderMaxCompressedSize(len);
    if (cap == 0) return -1;
    uint8_t *buf = malloc(cap);
    if (!buf) return -1;
    /* The smallest window that holds the message: a peer's decoder sizes
     * its ring buffer from it. */
    int lgwin = BROTLI_MIN_WINDOW_BITS;
    while (lgwin < BROTLI_MAX_WINDOW_BITS && ((size_t)1 << lgwin) - 16 < len)
        lgwin++;
    if (!BrotliEncoderCompress(BROTLI_MAX_QUALITY, lgwin, BROTLI_MODE_GENERIC, len, in, &cap,
                               buf)) {
        free(buf);
        return -1;
    }
    *out = buf;
    *out_len = cap;
    return 0;
}

/* The decoder's allocations, counted against a budget. */
typedef struct alloc_budget {
    size_t left;
    bool refused;
} alloc_budget;

typedef union alloc_header {
    size_t size;
    max_align_t align;
} alloc_header;

static void *budget_alloc(void *opaque, size_t size) {
    alloc_budget *b = opaque;
    if (size > b->left || sizeof(alloc_header) + size > b->left) {
        b->refused = true;
        return NULL;
    }
    alloc_header *h = malloc(sizeof *h + size);
    if (!h) return NULL;
    h->size = sizeof *h + size;
    b->left -= h->size;
    return h + 1;
}

static void budget_free(void *opaque, void *p) {
    if (!p) return;
    alloc_budget *b = opaque;
    alloc_header *h = (alloc_header *)p - 1;
    b->left += h->size;
    free(h);
}

/* Huffman tables for the most trees a stream may declare take about 3.5
 * MB; the ring buffer is at most the output rounded up to a power of two. */
#define BROTLI_TABLE_BUDGET ((size_t)4 << 20)

static int brotli_decompress(const uint8_t *in, size_t len, uint8_t *out, size_t expected) {
    alloc_budget budget = {BROTLI_TABLE_BUDGET + 2 * expected + 65536, false};
    BrotliDecoderState *s = BrotliDecoderCreateInstance(budget_alloc, budget_free, &budget);
    if (!s) return CD_NOMEM;
    size_t avail_in = len, avail_out = expected;
    const uint8_t *next_in = in;
    uint8_t *next_out = out;
    BrotliDecoderResult r =
        BrotliDecoderDecompressStream(s, &avail_in, &next_in, &avail_out, &next_out, NULL);
    if (r == BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) {
        /* Out of room: one byte more says whether the stream has more. */
        uint8_t spare;
        size_t one = 1;
        uint8_t *p = &spare;
        r = BrotliDecoderDecompressStream(s, &avail_in, &next_in, &one, &p, NULL);
        if (one == 0) r = BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT;
    }
    int status;
    switch (r) {
    case BROTLI_DECODER_RESULT_SUCCESS:
        status = avail_in != 0 ? CD_CORRUPT : avail_out != 0 ? CD_TOO_SHORT : CD_OK;
        break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT:
        status = CD_TOO_LONG;
        break;
    case BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT:
        status = CD_CORRUPT; /* the stream ends early */
        break;
    default:
        status = budget.refused ? CD_OVER_BUDGET : CD_CORRUPT;
        break;
    }
    BrotliDecoderDestroyInstance(s);
    return status;
}

/* ---- the table ---- */

static const cert_codec codecs[CERT_CODECS] = {
    {1, "zlib", zlib_compress, zlib_decompress},
    {2, "brotli", brotli_compress, brotli_decompress},
};

int cert_codec_index(uint16_t id) {
    for (int i = 0; i < CERT_CODECS; i++)
        if (codecs[i].id == id) return i;
    return -1;
}

const cert_codec *cert_codec_at(int index) {
    return index >= 0 && index < CERT_CODECS ? &codecs[index] : NULL;
}

const cert_codec *cert_codec_by_name(const char *name, size_t len) {
    for (int i = 0; i < CERT_CODECS; i++)
        if (strlen(codecs[i].name) == len && !strncmp(codecs[i].name, name, len)) return &codecs[i];
    return NULL;
}

const char *certa_cert_compression_name(uint16_t alg) {
    const cert_codec *c = cert_codec_at(cert_codec_index(alg));
    if (c) return c->name;
    return alg == 3 ? "zstd" : "unknown";
}

/* ---- the message ---- */

static bool listed(const uint16_t *list, size_t n, uint16_t v) {
    for (size_t i = 0; i < n; i++)
        if (list[i] == v) return true;
    return false;
}

cert_decompress_status compressed_certificate_open(const uint16_t *offered, size_t n_offered,
                                                   size_t max_len, const uint8_t *msg, size_t len,
                                                   cert_decompressed *out) {
    memset(out, 0, sizeof *out);
    cursor body, data;
    cur_init(&body, msg, len);
    uint32_t declared;
    if (!cur_u16(&body, &out->alg) || !cur_u24(&body, &declared) || !cur_vec24(&body, &data) ||
        data.len == 0 || !cur_empty(&body))
        return CD_MALFORMED;
    out->uncompressed_len = declared;
    out->compressed_len = data.len;
    const cert_codec *codec = cert_codec_at(cert_codec_index(out->alg));
    if (!codec || !listed(offered, n_offered, out->alg)) return CD_NOT_OFFERED;
    if (declared > max_len) return CD_TOO_LARGE;
    uint8_t *buf = malloc(declared ? declared : 1);
    if (!buf) return CD_NOMEM;
    int status = codec->decompress(data.data, data.len, buf, declared);
    if (status != CD_OK) {
        free(buf); /* holds only what the peer sent: public */
        return (cert_decompress_status)status;
    }
    out->body = buf;
    out->body_len = declared;
    return CD_OK;
}

int compressed_certificate_build(const cert_codec *codec, const uint8_t *body, size_t len,
                                 uint8_t **out, size_t *out_len) {
    if (len > 0xffffff) return -1;
    uint8_t *packed;
    size_t packed_len;
    if (codec->compress(body, len, &packed, &packed_len) != 0) return -1;
    builder b;
    bld_init_alloc(&b, packed_len + 8);
    bld_u16(&b, codec->id);
    bld_u24(&b, (uint32_t)len);
    bld_open(&b, 3);
    bld_bytes(&b, packed, packed_len);
    bld_close(&b);
    free(packed);
    if (!bld_ok(&b)) {
        bld_free(&b);
        return -1;
    }
    *out = bld_take(&b, out_len);
    return *out ? 0 : -1;
}

bool cert_compression_choose(cursor ext, const uint16_t *ours, size_t n, uint16_t *chosen) {
    cursor list;
    *chosen = 0;
    if (!cur_vec8(&ext, &list) || !cur_empty(&ext) || list.len < 2 || list.len % 2) return false;
    /* The peer decompresses: its order of preference wins (as tlslite-ng
     * and tlsfuzzer expect), among the algorithms we allow. */
    uint16_t alg;
    while (cur_u16(&list, &alg))
        if (listed(ours, n, alg)) {
            *chosen = alg;
            break;
        }
    return true;
}
