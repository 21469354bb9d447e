/* An X509SVIDResponse (protobuf bytes off the Workload API stream) into a
 * judged svid_update: the first SVID (the default identity), its bundle,
 * and every federated bundle; an X509BundlesResponse into a judged bundle
 * set. */
#ifndef CERTA_TOOLS_WORKLOAD_RESPONSE_H
#define CERTA_TOOLS_WORKLOAD_RESPONSE_H

#include "spiffe/svid_update.h"

/* 0 with *u filled, or -1 with why (the whole update refused). */
int workload_response_read(const uint8_t *msg, size_t len, int64_t now, svid_update *u, char *why,
                           size_t cap);
/* An X509BundlesResponse (FetchX509Bundles) for a workload of
 * own_trust_domain into *b's bundle fields (svid_bundles_build). 0, or -1
 * with why (the whole set refused). */
int workload_bundles_read(const uint8_t *msg, size_t len, const char *own_trust_domain,
                          svid_update *b, char *why, size_t cap);

#endif
