/* Reload retries and certificate descriptions (see rotation.h). */
#include "common/rotation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certa.h"
#include "common/cli_common.h"
#include "x509/pem.h"

bool reload_retry_failed(reload_retry *rr, int64_t now_ms, const char *why) {
    bool news = rr->waiting_since_ms == 0 || strcmp(rr->last_why, why) != 0;
    if (rr->waiting_since_ms == 0) rr->waiting_since_ms = now_ms;
    rr->failures++;
    rr->next_retry_ms = now_ms + ROTATION_RETRY_MS;
    snprintf(rr->last_why, sizeof rr->last_why, "%s", why);
    return news;
}

int64_t reload_retry_succeeded(reload_retry *rr, int64_t now_ms) {
    int64_t waited = rr->waiting_since_ms ? now_ms - rr->waiting_since_ms : 0;
    memset(rr, 0, sizeof *rr);
    return waited;
}

bool reload_retry_due(const reload_retry *rr, int64_t now_ms) {
    return rr->waiting_since_ms != 0 && now_ms >= rr->next_retry_ms;
}

int reload_retry_timeout_ms(const reload_retry *rr, int64_t now_ms, int cap) {
    if (rr->waiting_since_ms == 0) return cap;
    int64_t wait = rr->next_retry_ms - now_ms;
    if (wait < 0) wait = 0;
    return wait < cap ? (int)wait : cap;
}

void rotation_describe_cert(const char *path, char *out, size_t cap) {
    char *pem = NULL;
    size_t len = 0, pos = 0;
    uint8_t *der = NULL;
    size_t der_len = 0;
    certa_cert_summary s;
    if (read_file(path, &pem, &len) == 0 &&
        pem_next(pem, len, &pos, "CERTIFICATE", &der, &der_len) == 1 &&
        certa_cert_summarize(der, der_len, &s) == CERTA_OK) {
        char na[64], serial[48];
        cli_format_time(s.not_after, na, sizeof na);
        if (certa_cert_serial(der, der_len, serial, sizeof serial) != CERTA_OK)
            snprintf(serial, sizeof serial, "?");
        snprintf(out, cap, "%s, serial %s, not after %s", s.subject[0] ? s.subject : "(empty)",
                 serial, na);
    } else {
        snprintf(out, cap, "unreadable");
    }
    free(der);
    free(pem);
}
