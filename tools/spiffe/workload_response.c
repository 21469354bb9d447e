/* X509SVIDResponse -> svid_update (see workload_response.h). */
#include "spiffe/workload_response.h"

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "workload.pb-c.h"

static int not_protobuf(const char *what, size_t len, char *why, size_t cap) {
    snprintf(why, cap,
             "an %s of %zu bytes does not decode as protobuf: the agent sent a malformed message",
             what, len);
    return -1;
}

int workload_response_read(const uint8_t *msg, size_t len, int64_t now, svid_update *u, char *why,
                           size_t cap) {
    memset(u, 0, sizeof *u);
    X509SVIDResponse *r = x509_svidresponse__unpack(NULL, len, msg);
    if (!r) return not_protobuf("X509SVIDResponse", len, why, cap);
    int rc = -1;
    if (r->n_svids == 0) {
        snprintf(why, cap,
                 "an X509SVIDResponse holds no SVID: the agent has no identity for this workload "
                 "(is it registered?)");
    } else {
        const X509SVID *s = r->svids[0];
        rc = svid_update_build(u, s->spiffe_id, s->x509_svid.data, s->x509_svid.len,
                               s->x509_svid_key.data, s->x509_svid_key.len, s->bundle.data,
                               s->bundle.len, now, why, cap);
        for (size_t i = 0; rc == 0 && i < r->n_federated_bundles; i++) {
            const X509SVIDResponse__FederatedBundlesEntry *e = r->federated_bundles[i];
            rc = svid_update_add_federated(u, e->key, e->value.data, e->value.len, why, cap);
        }
        if (rc != 0) svid_update_free(u);
    }
    /* The keys' bytes, unpacked copies included, do not outlive the message. */
    for (size_t i = 0; i < r->n_svids; i++)
        if (r->svids[i]->x509_svid_key.data)
            crypto_zero(r->svids[i]->x509_svid_key.data, r->svids[i]->x509_svid_key.len);
    x509_svidresponse__free_unpacked(r, NULL);
    return rc;
}

int workload_bundles_read(const uint8_t *msg, size_t len, const char *own_trust_domain,
                          svid_update *b, char *why, size_t cap) {
    memset(b, 0, sizeof *b);
    X509BundlesResponse *r = x509_bundles_response__unpack(NULL, len, msg);
    if (!r) return not_protobuf("X509BundlesResponse", len, why, cap);
    int rc = -1;
    if (r->n_bundles > SVID_MAX_FEDERATED + 1) {
        snprintf(why, cap, "an X509BundlesResponse holds %zu bundles, more than %d", r->n_bundles,
                 SVID_MAX_FEDERATED + 1);
    } else {
        const char *keys[SVID_MAX_FEDERATED + 1];
        const uint8_t *values[SVID_MAX_FEDERATED + 1];
        size_t lens[SVID_MAX_FEDERATED + 1];
        for (size_t i = 0; i < r->n_bundles; i++) {
            keys[i] = r->bundles[i]->key;
            values[i] = r->bundles[i]->value.data;
            lens[i] = r->bundles[i]->value.len;
        }
        rc = svid_bundles_build(b, own_trust_domain, keys, values, lens, r->n_bundles, why, cap);
    }
    x509_bundles_response__free_unpacked(r, NULL);
    return rc;
}
