/* Encrypted Client Hello in the engine. The first input byte picks a chunk
 * size (byte + 1) and the case (byte % 4):
 * 0 a client offering ECH, fed the rest as the server's bytes (rejection,
 *   retry_configs, the HelloRetryRequest's extension, ech_required);
 * 1 a client sending GREASE ECH, the same way;
 * 2 a server holding an ECH key, fed the rest as the client's bytes;
 * 3 that server fed a real ClientHelloOuter (made by case 0's client, which
 *   the key opens) with the rest XORed into it, so the inner hello, its
 *   decryption and the confirmation path are reached.
 * The ECH key pair is derived from a fixed seed, randomness is fixed: every
 * input replays the same way. */
#include "certa.h"
#include "crypto/hpke.h"
#include "fuzz_feed.h"
#include "fuzz_fixed.h"
#include "fuzz_identity.h"
#include "tls/ech_config.h"

#include <stdlib.h>
#include <string.h>

static uint8_t ech_sk[32], ech_cfg[128], ech_list[130];
static size_t ech_cfg_len, ech_list_len;

static void make_ech_key(void) {
    if (ech_cfg_len) return;
    uint8_t pk[32], ikm[32];
    memset(ikm, 0x42, sizeof ikm);
    hpke_derive_keypair(HPKE_KEM_X25519_HKDF_SHA256, ikm, sizeof ikm, ech_sk, pk);
    ech_suite suite = {HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM};
    builder b;
    bld_init_fixed(&b, ech_cfg, sizeof ech_cfg);
    ech_config_build(&b, 5, HPKE_KEM_X25519_HKDF_SHA256, pk, 32, &suite, 1, 32, "public.example");
    ech_cfg_len = b.len;
    bld_init_fixed(&b, ech_list, sizeof ech_list);
    bld_open(&b, 2);
    bld_bytes(&b, ech_cfg, ech_cfg_len);
    bld_close(&b);
    ech_list_len = b.len;
}

static certa_config *config(int which) {
    static certa_config *cfgs[3];
    certa_config *cfg = cfgs[which];
    if (cfg) return cfg;
    make_ech_key();
    cfg = cfgs[which] = certa_config_new();
    certa_config_set_alpn(cfg, "h2,http/1.1");
    certa_config_set_random_fn(cfg, fixed_random, NULL);
    certa_config_set_time_fn(cfg, fixed_time, NULL);
    if (which == 0) {
        certa_config_set_insecure(cfg, true);
        certa_config_set_ech_config_list(cfg, ech_list, ech_list_len);
    } else if (which == 1) {
        certa_config_set_insecure(cfg, true);
        certa_config_set_ech_grease(cfg, true);
    } else {
        certa_config_set_cert_chain_pem(cfg, fuzz_cert_pem, strlen(fuzz_cert_pem));
        certa_config_set_private_key_pem(cfg, fuzz_key_pem, strlen(fuzz_key_pem));
        certa_config_add_ech_key(cfg, ech_sk, 32, ech_cfg, ech_cfg_len, true);
    }
    return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t chunk = (size_t)data[0] + 1;
    int which = data[0] % 4;
    data++;
    size--;
    if (which < 2) {
        certa_conn *c = certa_client_new(config(which), "secret.example");
        const uint8_t *hello;
        certa_conn_outgoing_done(c, certa_conn_outgoing(c, &hello));
        fuzz_feed(c, data, size, chunk);
        certa_conn_free(c);
        return 0;
    }
    uint8_t *input = NULL;
    size_t input_len = size;
    if (which == 3) { /* a real outer hello, then the rest, with the input XORed in */
        certa_conn *client = certa_client_new(config(0), "secret.example");
        const uint8_t *hello;
        size_t n = certa_conn_outgoing(client, &hello);
        input_len = n > size ? n : size;
        input = calloc(1, input_len);
        if (input) {
            memcpy(input, hello, n);
            for (size_t i = 0; i < size; i++)
                input[i] ^= data[i];
        }
        certa_conn_free(client);
        if (!input) return 0;
        data = input;
    }
    certa_conn *s = certa_server_new(config(2));
    fuzz_feed(s, data, input_len, chunk);
    certa_conn_free(s);
    free(input);
    return 0;
}
