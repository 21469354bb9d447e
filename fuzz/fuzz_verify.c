/* libFuzzer target: path validation over fuzzed chains.
 *
 * The input is up to 4 consecutive DER SEQUENCEs: the first is the leaf,
 * the last is trusted (added to a trust set as PEM), the ones between are
 * the untrusted pool; with a single blob it is both leaf and anchor. The
 * first byte after them (if any) picks the reference name (DNS, IP, SPIFFE
 * ID, email) and purpose. Built with -DCERTA_FUZZ, invalid signatures are
 * accepted so the fuzzer reaches the checks behind them. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certa.h"
#include "crypto/crypto.h"
#include "wire/der.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *to_pem(const uint8_t *der, size_t len, size_t *out_len) {
    size_t b64 = (len + 2) / 3 * 4;
    size_t cap = b64 + b64 / 64 + 128;
    char *pem = malloc(cap), *line = malloc(b64 + 1);
    if (!pem || !line) {
        free(pem);
        free(line);
        return NULL;
    }
    int n = base64_encode(der, len, line, b64 + 1);
    size_t o = 0;
    if (n < 0) n = 0;
    o += (size_t)snprintf(pem + o, cap - o, "-----BEGIN CERTIFICATE-----\n");
    for (int i = 0; i < n; i += 64) {
        int l = n - i < 64 ? n - i : 64;
        memcpy(pem + o, line + i, (size_t)l);
        o += (size_t)l;
        pem[o++] = '\n';
    }
    o += (size_t)snprintf(pem + o, cap - o, "-----END CERTIFICATE-----\n");
    free(line);
    *out_len = o;
    return pem;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *blobs[4];
    size_t lens[4], count = 0;
    cursor in;
    cur_init(&in, data, size);
    while (count < 4) {
        cursor el;
        if (!der_get_element(&in, DER_SEQUENCE, &el, NULL)) break;
        blobs[count] = el.data;
        lens[count] = el.len;
        count++;
    }
    if (count == 0) return 0;
    uint8_t mode = 0;
    cur_u8(&in, &mode);

    certa_trust *trust = certa_trust_new();
    if (!trust) return 0;
    size_t pem_len = 0;
    char *pem = to_pem(blobs[count - 1], lens[count - 1], &pem_len);
    if (pem) certa_trust_add_pem(trust, pem, pem_len);
    free(pem);

    certa_verify_params p;
    memset(&p, 0, sizeof p);
    p.time = 1750000000;
    p.purpose = (mode & 0x80) ? CERTA_PURPOSE_CLIENT : CERTA_PURPOSE_SERVER;
    switch (mode & 7) {
    case 0:
        p.dns_name = "example.com";
        break;
    case 1:
        p.ip = "192.0.2.1";
        break;
    case 2:
        p.ip = "2001:db8::1";
        break;
    case 3:
        p.spiffe_id = "spiffe://example.org/service";
        break;
    case 4:
        p.email = "user@example.com";
        break;
    case 5:
        p.dns_name = "foo.bar.example.com";
        p.cn_fallback = true;
        break;
    default:
        break;
    }
    if (mode & 0x40) p.max_depth = 3;
    if (mode & 0x20) p.max_work = 4;
    /* CRLs: the pool blobs double as (mostly malformed) CRLs. */
    if (mode & 0x10) {
        p.crls = blobs;
        p.crl_lens = lens;
        p.crl_count = count;
    }
    certa_verify_result r;
    size_t n = count > 1 ? count - 1 : 1;
    int code = certa_verify_chain(trust, blobs, lens, n, &p, &r);
    if (code != r.code) abort();
    if (code == CERTA_OK && (r.path_len == 0 || r.path_len > CERTA_MAX_PATH)) abort();
    if (code != CERTA_OK && r.text[0] == '\0') abort(); /* every failure explains itself */
    if (strlen(r.text) >= sizeof r.text) abort();
    certa_trust_free(trust);
    return 0;
}
