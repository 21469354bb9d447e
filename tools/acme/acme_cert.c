/* Checking and revoking issued certificates (see acme_cert.h). */
#include "acme/acme_cert.h"

#include "acme/jws.h"
#include "common/cli_common.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ca_crypto.h"
#include "x509/pem.h"

/* "sha256:BASE64" of the key's SPKI, as certa_cert_summary has it. */
static int key_pin(const crypto_key *key, char *out, size_t cap) {
    uint8_t *spki, h[32];
    size_t len;
    if (key_spki_der(key, &spki, &len) != 0) return -1;
    int r = hash_oneshot(HASH_SHA256, spki, len, h);
    free(spki);
    if (r != 0 || cap < 8) return -1;
    memcpy(out, "sha256:", 7);
    return base64_encode(h, sizeof h, out + 7, cap - 7) < 0 ? -1 : 0;
}

int acme_chain_check(const char *pem, size_t len, crypto_key *cert_key, const char *const *names,
                     size_t n, const char *trust_path, certa_cert_summary *leaf, size_t *count,
                     char *why, size_t cap) {
    uint8_t *der[CERTA_MAX_PATH];
    size_t lens[CERTA_MAX_PATH], k = 0, pos = 0;
    int rc = -1, pr;
    while (k < CERTA_MAX_PATH &&
           (pr = pem_next(pem, len, &pos, "CERTIFICATE", &der[k], &lens[k])) == 1)
        k++;
    *count = k;
    certa_trust *trust = NULL;
    char pin[64];
    if (pr < 0) {
        snprintf(why, cap, "the CA's answer holds a malformed PEM certificate");
        goto out;
    }
    if (k == 0) {
        snprintf(why, cap, "the CA's answer holds no PEM certificate");
        goto out;
    }
    if (certa_cert_summarize(der[0], lens[0], leaf) != 0) {
        snprintf(why, cap, "the CA's leaf certificate cannot be parsed");
        goto out;
    }
    if (key_pin(cert_key, pin, sizeof pin) != 0 || strcmp(pin, leaf->spki_sha256) != 0) {
        snprintf(why, cap,
                 "the certificate the CA returned is for another key (%s, ours is %s): "
                 "refused, nothing installed",
                 leaf->spki_sha256, pin);
        goto out;
    }
    trust = certa_trust_new();
    int tr = !trust       ? CERTA_E_NOMEM
             : trust_path ? certa_trust_load(trust, trust_path)
                          : certa_trust_load_system(trust);
    if (tr != CERTA_OK) {
        snprintf(why, cap, "cannot load the CA's roots%s%s: %s", trust_path ? " " : "",
                 trust_path ? trust_path : "", trust ? certa_trust_error_text(trust) : "");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        certa_verify_params p;
        certa_verify_result res;
        memset(&p, 0, sizeof p);
        p.purpose = CERTA_PURPOSE_SERVER;
        char probe[300];
        if (cli_is_ip_literal(names[i])) {
            p.ip = names[i];
        } else if (!strncmp(names[i], "*.", 2)) {
            /* A wildcard covers one label: check a name it stands for. */
            snprintf(probe, sizeof probe, "certa-wildcard-probe.%.250s", names[i] + 2);
            p.dns_name = probe;
        } else {
            p.dns_name = names[i];
        }
        if (certa_verify_chain(trust, (const uint8_t *const *)der, lens, k, &p, &res) != CERTA_OK) {
            snprintf(why, cap, "the chain the CA returned does not validate for %s: %s (%s)",
                     names[i], res.text[0] ? res.text : certa_error_text(res.code),
                     certa_error_name(res.code));
            goto out;
        }
    }
    rc = 0;
out:
    for (size_t i = 0; i < k; i++)
        free(der[i]);
    certa_trust_free(trust);
    return rc;
}

int acme_revoke(acme_client *c, const uint8_t *der, size_t len, int reason, char *why, size_t cap) {
    if (!c->dir.revoke_cert[0]) {
        snprintf(why, cap, "the CA's directory has no revokeCert URL");
        return -1;
    }
    size_t bcap = len * 4 / 3 + 8;
    char *b64 = malloc(bcap);
    if (!b64 || b64url_encode(der, len, b64, bcap) < 0) {
        free(b64);
        snprintf(why, cap, "out of memory");
        return -1;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "certificate", b64);
    if (reason >= 0) cJSON_AddNumberToObject(p, "reason", reason);
    free(b64);
    char *payload = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    acme_reply r;
    int rc = payload ? acme_post(c, c->dir.revoke_cert, payload, false, NULL, &r, why, cap) : -1;
    free(payload);
    if (rc == 0) acme_reply_free(&r);
    return rc;
}
