/* DER writing (X.690 §10) on top of the builder: definite, minimal-length
 * encoding, single-byte tags, the primitive types X.509 and CRLs need.
 *
 * Constructed elements are opened and closed in LIFO order:
 *
 *   der_open(b, DER_SEQUENCE);
 *   der_put_integer_u64(b, 2);
 *   der_close(b);
 *
 * der_open writes the tag and a one-byte length placeholder and pushes the
 * element on the builder's own stack of open vectors (marked as DER, width
 * 0); der_close fills in the length and, when the contents reached 128 bytes
 * or more, moves them forward to make room for the long form. So an open
 * element keeps the builder "not ok" (bld_ok() false) until it is closed,
 * der_close refuses to close a bld_open vector (and bld_close a non-empty DER
 * element), and nesting shares BLD_MAX_DEPTH (8) with bld_open: build deep
 * values (extension values) in a builder of their own and add them whole.
 * Failures are sticky, like every builder error: check bld_ok() once at the
 * end. */
#ifndef CERTA_WIRE_DER_BUILD_H
#define CERTA_WIRE_DER_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/cursor.h"
#include "wire/der.h"

/* Opens an element whose contents follow (SEQUENCE, SET, [n] constructed,
 * or e.g. an OCTET STRING wrapping an extension value) ... */
void der_open(builder *b, uint8_t tag);
/* ... and closes the innermost one. */
void der_close(builder *b);

/* Writes a DER length (minimal form). */
void der_put_length(builder *b, size_t len);
/* One element with the given tag and contents. */
void der_put(builder *b, uint8_t tag, const uint8_t *contents, size_t len);

/* INTEGER from an unsigned big-endian magnitude: leading zero bytes are
 * dropped, a 0x00 is prepended when the high bit is set (so the value stays
 * positive); an empty or all-zero magnitude encodes 0. */
void der_put_integer(builder *b, const uint8_t *magnitude, size_t len);
void der_put_integer_u64(builder *b, uint64_t v);
/* Same rules with an implicit tag (e.g. DER_CONTEXT(0) for a key id). */
void der_put_integer_tagged(builder *b, uint8_t tag, const uint8_t *magnitude, size_t len);

void der_put_bool(builder *b, bool v);
void der_put_null(builder *b);

/* OBJECT IDENTIFIER from its encoded contents (e.g. {0x55, 0x1d, 0x11}). */
void der_put_oid(builder *b, const uint8_t *contents, size_t len);
/* OBJECT IDENTIFIER from dotted text ("2.5.29.17"). Malformed text (fewer
 * than two arcs, first arc > 2, second arc > 39 under 0/1, empty arcs,
 * leading zeros, arcs over 64 bits) fails the builder. */
void der_put_oid_text(builder *b, const char *dotted);
/* Encodes dotted text into out; returns the length or 0 when malformed or
 * out is too small. */
size_t der_oid_from_text(const char *dotted, uint8_t *out, size_t cap);

/* BIT STRING of whole bytes (unused bits 0), e.g. a subjectPublicKey. */
void der_put_bitstring(builder *b, const uint8_t *bytes, size_t len);
/* BIT STRING for a NamedBitList (keyUsage): bit i of `bits` is the ASN.1
 * bit i (bit 0 = the first, most significant bit of the first byte).
 * Trailing zero bits are removed as X.690 §11.2.2 requires. */
void der_put_named_bits(builder *b, uint32_t bits);

void der_put_octet_string(builder *b, const uint8_t *bytes, size_t len);

/* Character strings. The contents are checked against the type's alphabet
 * (PrintableString: A-Z a-z 0-9 space '()+,-./:=?; IA5String: 7-bit
 * ASCII; UTF8String: well-formed UTF-8 without NUL or surrogates); a
 * violation fails the builder. */
void der_put_utf8_string(builder *b, const char *s, size_t len);
void der_put_printable_string(builder *b, const char *s, size_t len);
void der_put_ia5_string(builder *b, const char *s, size_t len);
/* IA5String contents with an implicit tag (GeneralName dNSName [2], URI [6]). */
void der_put_ia5_tagged(builder *b, uint8_t tag, const char *s, size_t len);

bool der_is_printable(const char *s, size_t len);
bool der_is_ia5(const char *s, size_t len);
bool der_is_utf8(const char *s, size_t len);

/* Time as RFC 5280 §4.1.2.5 wants it: UTCTime (YYMMDDHHMMSSZ) for years
 * 1950-2049, GeneralizedTime (YYYYMMDDHHMMSSZ) otherwise. Years 0-9999. */
void der_put_time(builder *b, int64_t epoch_seconds);
void der_put_utc_time(builder *b, int64_t epoch_seconds);         /* 1950-2049 only */
void der_put_generalized_time(builder *b, int64_t epoch_seconds); /* 0000-9999 */

/* Civil date of epoch seconds (proleptic Gregorian, UTC). */
void der_civil_from_epoch(int64_t t, int64_t *year, int *mon, int *day, int *hour, int *min,
                          int *sec);

#endif
