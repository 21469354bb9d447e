/* The ECH key the ECH fuzz targets open hellos with: fixed (derived from a
 * constant), so that runs reproduce. Include after tls/ech_open.h. */
#ifndef CERTA_FUZZ_ECH_KEY_H
#define CERTA_FUZZ_ECH_KEY_H

#include <stdlib.h>

static const ech_suite fuzz_ech_suite = {HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM};

/* config_id 7, X25519, the one suite above, public name public.example. */
static void fuzz_ech_key_make(ech_key *key) {
    uint8_t ikm[32] = {1, 2, 3}, sk[32], pk[32], cfg[128];
    builder b;
    bld_init_fixed(&b, cfg, sizeof cfg);
    if (hpke_derive_keypair(HPKE_KEM_X25519_HKDF_SHA256, ikm, sizeof ikm, sk, pk) != 0 ||
        ech_config_build(&b, 7, HPKE_KEM_X25519_HKDF_SHA256, pk, 32, &fuzz_ech_suite, 1, 0,
                         "public.example") != 0 ||
        ech_key_init(key, sk, 32, cfg, b.len) != 0)
        abort();
}

/* The key, made on first use. */
static const ech_key *fuzz_ech_key(void) {
    static ech_key key;
    static bool ready;
    if (!ready) fuzz_ech_key_make(&key);
    ready = true;
    return &key;
}

#endif
