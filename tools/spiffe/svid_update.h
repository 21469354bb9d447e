/* One X.509-SVID update from the Workload API, judged before anything uses
 * it: the chain (concatenated DER, leaf first) parses and its leaf carries
 * the SPIFFE ID the agent named, the PKCS#8 key belongs to that leaf, the
 * bundle and each federated bundle are DER certificates, and the chain
 * validates against the SVID's own bundle. What passes is held as PEM, the
 * form certa's config and spiffe-helper's files take, so an update is
 * applied whole or not at all: never a key beside another key's
 * certificate. No gRPC or protobuf here (the client unpacks), so the
 * judging is fuzzed on its own (fuzz/fuzz_svid_update.c). */
#ifndef CERTA_TOOLS_SVID_UPDATE_H
#define CERTA_TOOLS_SVID_UPDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SVID_MAX_CHAIN 10   /* certificates in one SVID chain (the engine's default too) */
#define SVID_MAX_BUNDLE 256 /* CA certificates in one trust domain's bundle */
#define SVID_MAX_FEDERATED 32

typedef struct svid_update {
    char spiffe_id[2049];
    char trust_domain[256]; /* "example.org" of spiffe://example.org/... */
    char *chain_pem;        /* leaf first */
    size_t chain_len;
    char *key_pem; /* "PRIVATE KEY" (PKCS#8); zeroized when freed */
    size_t key_len;
    char *bundle_pem; /* the SVID's own trust domain's CAs */
    size_t bundle_len;
    char *federated_pem; /* every federated bundle's CAs, "" when none (for files) */
    size_t federated_len;
    size_t federated_count;
    struct svid_federated {        /* each federated bundle, for anchors per trust domain */
        char trust_domain_id[265]; /* "spiffe://example.org" */
        char *pem;
        size_t len;
    } federated[SVID_MAX_FEDERATED];
    char federated_domains[512];   /* "spiffe://a.example, spiffe://b.example" */
    int64_t not_before, not_after; /* the leaf's */
    char serial[48];
} svid_update;

/* Judges the parts of one X509SVID (now: seconds since the epoch, for the
 * validity check). 0 with *u filled, or -1 with a sentence in why (what is
 * wrong and whose fault); *u is then empty. */
int svid_update_build(svid_update *u, const char *spiffe_id, const uint8_t *chain, size_t chain_len,
                      const uint8_t *key, size_t key_len, const uint8_t *bundle, size_t bundle_len,
                      int64_t now, char *why, size_t cap);
/* Adds a federated bundle (key: the trust domain's ID, "spiffe://example.org").
 * 0, or -1 with why (the update as a whole is then to be refused). */
int svid_update_add_federated(svid_update *u, const char *trust_domain_id, const uint8_t *der,
                              size_t len, char *why, size_t cap);
void svid_update_free(svid_update *u);

/* A bundles update (FetchX509Bundles' X509BundlesResponse map: keys
 * "spiffe://TD" or "TD", values concatenated DER CA certificates), judged
 * for a workload of own_trust_domain: every key a trust domain, once; every
 * value CA certificates; the own trust domain's bundle present. Into *b's
 * trust_domain, bundle and federated fields (no chain or key). 0, or -1
 * with why (nothing held in *b). */
int svid_bundles_build(svid_update *b, const char *own_trust_domain, const char *const *keys,
                       const uint8_t *const *values, const size_t *lens, size_t n, char *why,
                       size_t cap);
/* Puts b's bundles (from svid_bundles_build) into u, the SVID held, in
 * place of its own: only if u's chain still validates against b's own
 * bundle. Chain and key never change. b is consumed either way. 0, or -1
 * with why (u untouched). */
int svid_update_take_bundles(svid_update *u, svid_update *b, int64_t now, char *why, size_t cap);

/* "59m 58s", "2h 3m", "3d 4h", "expired 12s ago" */
void svid_format_remaining(int64_t seconds, char *out, size_t cap);

#endif
