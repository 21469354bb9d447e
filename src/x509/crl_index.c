/* CRLs prepared for repeated lookups (see crl_index.h). */
#include "x509/crl_index.h"

#include <stdlib.h>
#include <string.h>

static int cmp_serial(const cursor *a, const cursor *b) {
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    return memcmp(a->data, b->data, a->len);
}

/* qsort's view of a (serial, rest) pair: by its serial. */
static int cmp_pair(const void *a, const void *b) {
    return cmp_serial(a, b);
}

int crl_index_init(crl_index *ix, const uint8_t *der, size_t len) {
    memset(ix, 0, sizeof *ix);
    if (x509_crl_parse(&ix->crl, der, len) != 0) return -1;
    pthread_mutex_init(&ix->lock, NULL);
    cursor list = ix->crl.revoked, s, rest;
    size_t n = 0;
    while (x509_crl_next_entry(&list, &s, &rest))
        n++;
    if (n) {
        cursor *pairs = malloc(2 * n * sizeof *pairs);
        ix->serials = malloc(n * sizeof *ix->serials);
        ix->rests = malloc(n * sizeof *ix->rests);
        if (!pairs || !ix->serials || !ix->rests) {
            free(pairs);
            crl_index_destroy(ix);
            return -1;
        }
        /* (serial, rest) side by side, sorted as pairs of cursors */
        list = ix->crl.revoked;
        for (size_t i = 0; x509_crl_next_entry(&list, &s, &rest); i++) {
            pairs[2 * i] = s;
            pairs[2 * i + 1] = rest;
        }
        qsort(pairs, n, 2 * sizeof *pairs, cmp_pair);
        for (size_t i = 0; i < n; i++) {
            ix->serials[i] = pairs[2 * i];
            ix->rests[i] = pairs[2 * i + 1];
        }
        free(pairs);
    }
    ix->count = n;
    return 0;
}

void crl_index_destroy(crl_index *ix) {
    free(ix->serials);
    free(ix->rests);
    pthread_mutex_destroy(&ix->lock);
    memset(ix, 0, sizeof *ix);
}

bool crl_index_find(const crl_index *ix, const cursor *serial, int64_t *when, int *reason) {
    size_t lo = 0, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = cmp_serial(&ix->serials[mid], serial);
        if (c == 0) {
            x509_crl_entry_details(ix->rests[mid], when, reason);
            return true;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

int crl_index_verify(crl_index *ix, const x509_cert *issuer, crypto_key *key) {
    uint8_t h[32];
    if (hash_oneshot(HASH_SHA256, issuer->spki.data, issuer->spki.len, h) != 0) return -1;
    pthread_mutex_lock(&ix->lock);
    bool known = ix->verified && memcmp(ix->signer, h, sizeof h) == 0;
    pthread_mutex_unlock(&ix->lock);
    if (known) return 0;
    if (sig_verify_x509(ix->crl.sig_alg.data, ix->crl.sig_alg.len, key, ix->crl.tbs.data,
                        ix->crl.tbs.len, ix->crl.sig.data, ix->crl.sig.len) != 0)
        return -1;
    pthread_mutex_lock(&ix->lock);
    ix->verified = true;
    memcpy(ix->signer, h, sizeof h);
    pthread_mutex_unlock(&ix->lock);
    return 0;
}
