/* Strict DER reading on top of the cursor API: definite, minimal lengths,
 * single-byte tags only (all X.509 needs), no trailing garbage where the
 * caller asks for completeness. */
#ifndef CERTA_WIRE_DER_H
#define CERTA_WIRE_DER_H

#include "wire/cursor.h"

#define DER_BOOLEAN 0x01
#define DER_INTEGER 0x02
#define DER_BIT_STRING 0x03
#define DER_OCTET_STRING 0x04
#define DER_NULL 0x05
#define DER_OID 0x06
#define DER_UTF8_STRING 0x0c
#define DER_PRINTABLE_STRING 0x13
#define DER_T61_STRING 0x14
#define DER_IA5_STRING 0x16
#define DER_UTC_TIME 0x17
#define DER_GENERALIZED_TIME 0x18
#define DER_UNIVERSAL_STRING 0x1c
#define DER_BMP_STRING 0x1e
#define DER_SEQUENCE 0x30
#define DER_SET 0x31
#define DER_CONTEXT(n) (0x80 | (n))      /* [n] IMPLICIT primitive */
#define DER_CONTEXT_CONS(n) (0xa0 | (n)) /* [n] constructed */

/* Reads one element of any tag: *tag, contents in *out. */
bool der_any(cursor *c, uint8_t *tag, cursor *out);
/* Reads one element of the given tag (fails, consuming nothing, if the
 * next element has another tag). */
bool der_get(cursor *c, uint8_t tag, cursor *out);
/* Same, and also returns the whole element (header + contents). */
bool der_get_element(cursor *c, uint8_t tag, cursor *element, cursor *contents);
/* Optional element: *present says whether it was there. */
bool der_get_optional(cursor *c, uint8_t tag, cursor *out, bool *present);
bool der_peek_tag(const cursor *c, uint8_t *tag);
/* INTEGER that fits in int64 (minimal encoding enforced). */
bool der_get_int64(cursor *c, int64_t *out);
/* BIT STRING with zero unused bits; *out holds the bytes after that octet. */
bool der_get_bitstring_bytes(cursor *c, cursor *out);
/* BOOLEAN (DER: 0x00 or 0xff only). */
bool der_get_bool(cursor *c, bool *out);
/* UTCTime or GeneralizedTime (the form RFC 5280 requires: Z, seconds) to
 * seconds since the epoch. */
bool der_get_time(cursor *c, int64_t *out);
/* Compares an OID's contents (no tag/length) with a known encoding. */
bool der_oid_equal(const cursor *oid, const uint8_t *known, size_t known_len);

#endif
