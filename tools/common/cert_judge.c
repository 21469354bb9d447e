/* The certificate judgements diagnose and scan share (cert_judge.h). */
#include "common/cert_judge.h"
#include "common/cli_common.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const cert_verdict_id verdicts[] = {
    {CERTA_E_CERT_EXPIRED, "CERT-EXPIRED", "a certificate in the chain has expired"},
    {CERTA_E_CERT_NOT_YET_VALID, "CERT-NOT-YET-VALID", "a certificate is not valid yet"},
    {CERTA_E_CERT_NAME_MISMATCH, "CERT-NAME-MISMATCH", "the certificate is not for this name"},
    {CERTA_E_CERT_SELF_SIGNED, "CERT-SELF-SIGNED", "the certificate is self-signed"},
    {CERTA_E_CERT_UNKNOWN_ISSUER, "CERT-UNTRUSTED", "the chain leads to no trusted root"},
    {CERTA_E_CERT_WEAK_ALGORITHM, "CERT-WEAK-ALGORITHM", "a weak key or signature algorithm"},
    {CERTA_E_CERT_BAD_SIGNATURE, "CERT-BAD-SIGNATURE", "a signature on the chain is wrong"},
    {CERTA_E_CERT_PURPOSE, "CERT-PURPOSE", "the certificate is not for TLS servers"},
    {CERTA_E_CERT_NOT_CA, "CERT-ISSUER-NOT-CA", "an issuer is not a CA"},
    {CERTA_E_CERT_REVOKED, "CERT-REVOKED", "a certificate is revoked"},
    {CERTA_E_CERT_MALFORMED, "CERT-MALFORMED", "a certificate is malformed"},
    {CERTA_E_CERT_NAME_CONSTRAINTS, "CERT-NAME-CONSTRAINTS", "a name violates a constraint"},
    {CERTA_E_CERT_PATH_LENGTH, "CERT-PATH-LENGTH", "the path is too long"},
};

const cert_verdict_id *cert_verdict_for(int code) {
    for (size_t i = 0; i < sizeof verdicts / sizeof verdicts[0]; i++)
        if (verdicts[i].code == code) return &verdicts[i];
    return NULL;
}

double cert_lifetime_left(int64_t not_before, int64_t not_after, int64_t now) {
    int64_t life = not_after - not_before;
    if (life <= 0 || now >= not_after) return 0;
    if (now <= not_before) return 1;
    return (double)(not_after - now) / (double)life;
}

bool cert_lifetime_due(int64_t not_before, int64_t not_after, int64_t now) {
    /* integer arithmetic, as diagnose always did: left * 3 < lifetime */
    return now <= not_after && (not_after - now) * 3 < not_after - not_before;
}

bool cert_name_matches(const char *pattern, const char *name) {
    if (!strcasecmp(pattern, name)) return true;
    if (strncmp(pattern, "*.", 2) != 0) return false;
    const char *dot = strchr(name, '.');
    return dot && dot != name && !strcasecmp(pattern + 1, dot);
}

bool cert_has_name(const char *dns_names, const char *ip_addresses, const char *name) {
    bool ip = cli_is_ip_literal(name);
    char list[1024];
    snprintf(list, sizeof list, "%s", ip ? ip_addresses : dns_names);
    for (char *save = NULL, *t = strtok_r(list, ", ", &save); t; t = strtok_r(NULL, ", ", &save))
        if (ip ? !strcasecmp(t, name) : cert_name_matches(t, name)) return true;
    return false;
}
