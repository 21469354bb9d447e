/* An X509SVIDResponse (protobuf bytes off the Workload API stream) into a
 * judged svid_update: the first SVID (the default identity), its bundle,
 * and every federated bundle. */
#ifndef CERTA_TOOLS_WORKLOAD_RESPONSE_H
#define CERTA_TOOLS_WORKLOAD_RESPONSE_H

#include "spiffe/svid_update.h"

/* 0 with *u filled, or -1 with why (the whole update refused). */
int workload_response_read(const uint8_t *msg, size_t len, int64_t now, svid_update *u, char *why,
                           size_t cap);

#endif
