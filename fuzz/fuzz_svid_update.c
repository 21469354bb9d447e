/* libFuzzer target: the judging of a Workload API X.509-SVID update
 * (tools/spiffe/svid_update.c, compiled in) — the DER chain split, the
 * PKCS#8 key against the leaf, the bundles, the federated map's keys.
 * Input: u16-length-prefixed SPIFFE ID, chain, key and bundle, then pairs
 * of u16-prefixed trust domain IDs and bundles. What is taken must be
 * whole (chain, key and bundle PEM all present, the ID as given); what is
 * refused leaves nothing held and says why. The same pairs, with the
 * bundle keyed by the own trust domain, are then a FetchX509Bundles map
 * (svid_bundles_build), put into the SVID when it was taken: never its
 * chain or key changed, a refused set leaving the held one. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/spiffe/svid_update.c"

static bool take(cursor *c, cursor *out) {
    return cur_vec16(c, out);
}

/* Every bundle of a set: PEM whole, the parts adding up to federated_pem. */
static void check_set(const svid_update *u) {
    size_t total = 0;
    for (size_t i = 0; i < u->federated_count; i++) {
        if (!u->federated[i].pem || strlen(u->federated[i].pem) != u->federated[i].len) abort();
        total += u->federated[i].len;
    }
    if (total != u->federated_len || strlen(u->federated_pem) != u->federated_len) abort();
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
    } else if (!u.chain_pem || !u.key_pem || !u.bundle_pem || !u.federated_pem ||
               strcmp(u.spiffe_id, idtext) != 0 || strlen(u.key_pem) != u.key_len) {
        abort();
    }
    /* The pairs: federated bundles of the SVID, then (with the bundle
     * keyed by the own trust domain's bare name) a FetchX509Bundles map. */
    char tdtext[SVID_MAX_FEDERATED + 1][300];
    const char *keys[SVID_MAX_FEDERATED + 1];
    const uint8_t *vals[SVID_MAX_FEDERATED + 1];
    size_t lens[SVID_MAX_FEDERATED + 1], n = 0;
    const char *own = r == 0 ? u.trust_domain : "example.org";
    snprintf(tdtext[0], sizeof tdtext[0], "%s", own);
    keys[n] = tdtext[0];
    vals[n] = bundle.data;
    lens[n++] = bundle.len;
    cursor td, fed;
    while (n <= SVID_MAX_FEDERATED && take(&in, &td) && take(&in, &fed)) {
        if (td.len >= sizeof tdtext[n]) break;
        memcpy(tdtext[n], td.data, td.len);
        tdtext[n][td.len] = 0;
        if (r == 0) {
            size_t before = u.federated_len;
            if (svid_update_add_federated(&u, tdtext[n], fed.data, fed.len, why, sizeof why) != 0 &&
                u.federated_len != before)
                abort(); /* a refused bundle adds nothing */
        }
        keys[n] = tdtext[n];
        vals[n] = fed.data;
        lens[n++] = fed.len;
    }
    if (r == 0) check_set(&u);
    svid_update b;
    why[0] = 0;
    if (svid_bundles_build(&b, own, keys, vals, lens, n, why, sizeof why) != 0) {
        if (!why[0] || b.bundle_pem || b.federated_pem || b.federated_count) abort();
    } else {
        if (!b.bundle_pem || strlen(b.bundle_pem) != b.bundle_len || strcmp(b.trust_domain, own))
            abort();
        check_set(&b);
        if (r == 0) {
            char *chain_pem = u.chain_pem, *key_pem = u.key_pem, *bundle_pem = u.bundle_pem;
            if (svid_update_take_bundles(&u, &b, 0, why, sizeof why) == 0) {
                if (u.chain_pem != chain_pem || u.key_pem != key_pem) abort(); /* bundles only */
                check_set(&u);
            } else if (u.bundle_pem != bundle_pem) {
                abort(); /* refused: the held set stays */
            }
        } else {
            svid_update_free(&b);
        }
    }
    if (r == 0) svid_update_free(&u);
    return 0;
}
