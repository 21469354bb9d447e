/* Internal accessors over a certa_trust (implemented in trust.c), used by
 * path validation (verify.c) to enumerate the trust anchors. */
#ifndef CERTA_X509_TRUST_H
#define CERTA_X509_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "certa.h"

/* Number of anchors held. */
size_t trust_anchor_count(const certa_trust *trust);
/* DER of anchor i (< trust_anchor_count), valid as long as trust lives;
 * NULL if out of range. *len receives its length. */
const uint8_t *trust_anchor_der(const certa_trust *trust, size_t i, size_t *len);

#endif
