/* The server engine fed arbitrary bytes as if from a client. The first
 * input byte picks a chunk size (byte + 1) so record and message reassembly
 * across transport reads is exercised too, and the configuration (byte % 3):
 * 0 TLS 1.3 only (the default), 1 TLS 1.2 and 1.3 (a 1.2 ClientHello gets
 * the 1.2 server and the downgrade sentinel), 2 TLS 1.2 only without
 * requiring the extended master secret (the classic master secret too).
 * Configurations 1 and 2 hold a second certificate, chosen by SNI. */
#include "certa.h"
#include "fuzz_feed.h"
#include "fuzz_fixed.h"
#include "fuzz_identity.h"

#include <stdlib.h>
#include <string.h>

static certa_config *server_config(int variant) {
    static certa_config *cfgs[3];
    certa_config *cfg = cfgs[variant];
    if (!cfg) {
        cfg = cfgs[variant] = certa_config_new();
        if (variant == 1) certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS13);
        if (variant == 2) {
            certa_config_set_versions(cfg, CERTA_TLS12, CERTA_TLS12);
            certa_config_set_require_ems(cfg, false);
        }
        certa_config_set_cert_chain_pem(cfg, fuzz_cert_pem, strlen(fuzz_cert_pem));
        certa_config_set_private_key_pem(cfg, fuzz_key_pem, strlen(fuzz_key_pem));
        if (variant > 0)
            certa_config_add_identity_pem(cfg, fuzz_sni_cert_pem, strlen(fuzz_sni_cert_pem),
                                          fuzz_sni_key_pem, strlen(fuzz_sni_key_pem));
        certa_config_set_alpn(cfg, "h2,http/1.1");
        certa_config_set_random_fn(cfg, fixed_random, NULL);
        certa_config_set_time_fn(cfg, fixed_time, NULL);
    }
    return cfg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    size_t chunk = (size_t)data[0] + 1;
    int variant = data[0] % 3;
    data++;
    size--;
    certa_conn *c = certa_server_new(server_config(variant));
    fuzz_feed(c, data, size, chunk);
    certa_conn_free(c);
    return 0;
}
