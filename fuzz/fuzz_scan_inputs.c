/* libFuzzer target: what certa scan parses (tools/scan/, compiled in) —
 * a targets file and a policy file, both text from anyone, and the serial
 * number and signature algorithm of a certificate any server sends. The
 * first byte picks the parser; each must return an answer, not crash, and
 * what it reports must fit its buffers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/common/cert_judge.c"
#include "../tools/common/cli_common.c"
#include "../tools/revocation/ct_logs.c"
#include "../tools/scan/cert_facts.c"
#include "../tools/scan/policy.c"
#include "../tools/scan/targets.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    /* A copy of exactly size - 1 bytes: reading past it is caught by ASan. */
    size_t n = size - 1;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) return 0;
    memcpy(buf, data + 1, n);
    char why[512];
    switch (data[0] % 3) {
    case 0: {
        scan_targets t = {0};
        bool ok = scan_targets_parse(&t, buf, n, why, sizeof why);
        for (size_t i = 0; ok && i < t.count; i++) {
            const scan_target *x = &t.items[i];
            if (!x->host[0] || atoi(x->port) < 1 || atoi(x->port) > 65535 ||
                strlen(x->spec) >= sizeof x->spec)
                abort();
        }
        if (!ok && strlen(why) >= sizeof why) abort();
        scan_targets_free(&t);
        break;
    }
    case 1: {
        scan_policy p;
        scan_policy_default(&p);
        if (scan_policy_parse(&p, buf, n, why, sizeof why) &&
            (p.fail_fraction > p.warn_fraction || p.warn_fraction > 1 || p.fail_fraction < 0))
            abort();
        break;
    }
    default: {
        char serial[96], alg[40];
        if (scan_cert_serial_sigalg(buf, n, serial, sizeof serial, alg, sizeof alg) &&
            (strlen(serial) >= sizeof serial || strlen(alg) >= sizeof alg))
            abort();
        break;
    }
    }
    free(buf);
    return 0;
}
