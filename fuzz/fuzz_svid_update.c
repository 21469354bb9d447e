/* libFuzzer target: the judging of a Workload API X.509-SVID update
 * (tools/spiffe/svid_update.c, compiled in) — the DER chain split, the
 * PKCS#8 key against the leaf, the bundles, the federated map's keys.
 * Input: u16-length-prefixed SPIFFE ID, chain, key and bundle, then pairs
 * of u16-prefixed trust domain IDs and bundles. What is taken must be
 * whole (chain, key and bundle PEM all present, the ID as given); what is
 * refused leaves nothing held and says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/spiffe/svid_update.c"

static bool take(cursor *c, cursor *out) {
    return cur_vec16(c, out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cursor in, id, chain, key, bundle;
    cur_init(&in, data, size);
    if (!take(&in, &id) || !take(&in, &chain) || !take(&in, &key) || !take(&in, &bundle)) return 0;
    char idtext[2100];
    if (id.len >= sizeof idtext) return 0;
    memcpy(idtext, id.data, id.len);
    idtext[id.len] = 0;
    svid_update u;
    char why[1200] = "";
    int r = svid_update_build(&u, idtext, chain.data, chain.len, key.data, key.len, bundle.data,
                              bundle.len, 0 /* now */, why, sizeof why);
    if (r != 0) {
        if (!why[0] || u.chain_pem || u.key_pem || u.bundle_pem) abort();
        return 0;
    }
    if (!u.chain_pem || !u.key_pem || !u.bundle_pem || !u.federated_pem ||
        strcmp(u.spiffe_id, idtext) != 0 || strlen(u.key_pem) != u.key_len)
        abort();
    cursor td, fed;
    while (take(&in, &td) && take(&in, &fed)) {
        char tdtext[300];
        if (td.len >= sizeof tdtext) break;
        memcpy(tdtext, td.data, td.len);
        tdtext[td.len] = 0;
        size_t before = u.federated_len;
        if (svid_update_add_federated(&u, tdtext, fed.data, fed.len, why, sizeof why) != 0 &&
            u.federated_len != before)
            abort(); /* a refused bundle adds nothing */
    }
    size_t total = 0;
    for (size_t i = 0; i < u.federated_count; i++) {
        if (!u.federated[i].pem || strlen(u.federated[i].pem) != u.federated[i].len) abort();
        total += u.federated[i].len;
    }
    if (total != u.federated_len || strlen(u.federated_pem) != u.federated_len) abort();
    svid_update_free(&u);
    return 0;
}
