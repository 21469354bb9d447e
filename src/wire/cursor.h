/* Bounds-checked reading (cursor) and writing (builder) of wire formats.
 *
 * Every read either succeeds completely or fails and leaves the cursor
 * unchanged; nothing in certa reads protocol bytes any other way. */
#ifndef CERTA_WIRE_CURSOR_H
#define CERTA_WIRE_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cursor {
    const uint8_t *data;
    size_t len;
} cursor;

void cur_init(cursor *c, const uint8_t *data, size_t len);
size_t cur_left(const cursor *c);
bool cur_empty(const cursor *c);
bool cur_u8(cursor *c, uint8_t *out);
bool cur_u16(cursor *c, uint16_t *out);
bool cur_u24(cursor *c, uint32_t *out);
bool cur_u32(cursor *c, uint32_t *out);
bool cur_u64(cursor *c, uint64_t *out);
/* Takes n bytes: *out points into the cursor's buffer. */
bool cur_bytes(cursor *c, size_t n, const uint8_t **out);
bool cur_copy(cursor *c, uint8_t *out, size_t n);
bool cur_skip(cursor *c, size_t n);
/* Takes n bytes as a sub-cursor. */
bool cur_sub(cursor *c, size_t n, cursor *out);
/* Takes a vector with a 1, 2 or 3 byte length prefix as a sub-cursor. */
bool cur_vec8(cursor *c, cursor *out);
bool cur_vec16(cursor *c, cursor *out);
bool cur_vec24(cursor *c, cursor *out);
/* Peeks without consuming. */
bool cur_peek_u8(const cursor *c, uint8_t *out);

/* Builder: appends to a growable heap buffer or to a fixed caller buffer.
 * Errors (overflow, allocation failure, unclosed/overlong vectors) are
 * sticky: check bld_ok() once at the end. */
#define BLD_MAX_DEPTH 8

typedef struct builder {
    uint8_t *buf;
    size_t len;
    size_t cap;
    bool fixed; /* caller's buffer: never reallocated or freed */
    bool failed;
    int depth;
    size_t open_at[BLD_MAX_DEPTH]; /* offset of the length prefix */
    uint8_t open_width[BLD_MAX_DEPTH];
} builder;

void bld_init_fixed(builder *b, uint8_t *buf, size_t cap);
void bld_init_alloc(builder *b, size_t initial_cap);
bool bld_ok(const builder *b);
void bld_u8(builder *b, uint8_t v);
void bld_u16(builder *b, uint16_t v);
void bld_u24(builder *b, uint32_t v);
void bld_u32(builder *b, uint32_t v);
void bld_u64(builder *b, uint64_t v);
void bld_bytes(builder *b, const void *data, size_t n);
void bld_zeros(builder *b, size_t n);
/* Reserves n bytes and returns where to write them (NULL on failure). */
uint8_t *bld_reserve(builder *b, size_t n);
/* Opens a vector with a width-byte (1, 2, 3 or 4) length prefix ... */
void bld_open(builder *b, int width);
/* ... and fills in its length. */
void bld_close(builder *b);
/* Heap builder: hands the buffer to the caller (who frees it). */
uint8_t *bld_take(builder *b, size_t *len);
/* Heap builder: gives the memory back and leaves an empty, usable builder,
 * WITHOUT zeroizing — only for buffers that held nothing secret (e.g.
 * records already sealed). */
void bld_release(builder *b);
/* Heap builder: frees (after zeroizing) the buffer. */
void bld_free(builder *b);

#endif
