/* When one certificate is renewed (tools/renew/renew_plan.c, shared by
 * certa renew and certa proxy --acme), with the CA stubbed: the lifetime
 * rule for a 30-second and a 90-day certificate (half, third), the same
 * time on every look at one certificate, the CA's ARI window when the
 * directory offers renewalInfo (and the certID asked for), a CA that cannot
 * be reached or cannot answer falling back to the lifetime rule with a note,
 * and when to look again (the renewal time, or sooner to ask ARI again). */
#include "../../tools/acme/jws.c"
#include "../../tools/renew/ari.c"
#include "../../tools/renew/renew_plan.c"
#include "../../tools/renew/schedule.c"
#include "testlib.h"

#include <stdio.h>
#include <time.h>

#include "crypto/ca_crypto.h"
#include "x509/issue.h"

#define DAY 86400

/* ---- the CA, stubbed ---- */
static bool ca_down, offers_ari, ari_fails;
static ari_info ari_answer;
static long ari_retry_after;
static char asked_for[ARI_CERT_ID_MAX];

int acme_client_open(acme_client *c, const char *directory_url, const char *ca_bundle,
                     int timeout_ms, bool verbose, char *why, size_t cap) {
    (void)ca_bundle, (void)timeout_ms, (void)verbose;
    if (ca_down) {
        snprintf(why, cap, "cannot read the ACME directory %s: connection refused", directory_url);
        return -1;
    }
    if (offers_ari) snprintf(c->dir.renewal_info, sizeof c->dir.renewal_info, "https://ca/ari");
    return 0;
}
void acme_client_close(acme_client *c) {
    (void)c;
}
int ari_fetch(acme_client *c, const char *cert_id, ari_info *out, long *retry_after_s, char *why,
              size_t cap) {
    (void)c;
    snprintf(asked_for, sizeof asked_for, "%s", cert_id);
    if (ari_fails) {
        snprintf(why, cap, "renewalInfo: HTTP 500");
        return -1;
    }
    *out = ari_answer;
    *retry_after_s = ari_retry_after;
    return 0;
}

/* A certificate valid from nb for lifetime seconds, with an AKI (ARI needs one). */
static uint8_t *cert(int64_t nb, int64_t lifetime, uint8_t serial_byte, size_t *len) {
    uint8_t aki[20], serial[] = {0x01, serial_byte};
    memset(aki, 0x42, sizeof aki);
    crypto_key *k = key_generate(KEYGEN_P256);
    const char *dns[] = {"plan.example"};
    x509_issue_params p = {.serial = serial,
                           .serial_len = sizeof serial,
                           .subject_cn = "plan.example",
                           .not_before = nb,
                           .not_after = nb + lifetime,
                           .server_auth = true,
                           .dns = dns,
                           .n_dns = 1,
                           .issuer_key_id = aki,
                           .issuer_key_id_len = sizeof aki};
    uint8_t *der = NULL;
    if (!k || x509_issue(&p, k, k, &der, len) != 0) der = NULL;
    key_free(k);
    return der;
}

static acme_issue_opts io = {.directory = "https://ca/dir"};

static void test_lifetime_rule(void) {
    int64_t nb = 1800000000;
    size_t len;
    uint8_t *der = cert(nb, 30, 1, &len);
    renew_plan p, again, local;
    ca_down = offers_ari = ari_fails = false;
    CHECK(der && renew_plan_ask(&io, der, len, &p) == 0 && p.basis == RENEW_BASIS_HALF &&
              p.renew_at <= nb + 15 && p.renew_at >= nb + 15 - 1 && !p.note[0] &&
              p.not_after == nb + 30,
          "a 30 s certificate, no ARI offered: renews at half its lifetime, up to a twentieth (1 "
          "s) earlier "
          "(at %lld s)",
          der ? (long long)(p.renew_at - nb) : -1LL);
    CHECK(renew_plan_ask(&io, der, len, &again) == 0 && again.renew_at == p.renew_at,
          "the same time on every look at the same certificate");
    CHECK(renew_plan_local(der, len, &local) == 0 && local.renew_at == p.renew_at &&
              local.basis == p.basis,
          "renew_plan_local (no CA asked) agrees");
    CHECK(renew_plan_next_look(&p, nb + 1) == p.renew_at,
          "without ARI the next look is the renewal time itself");
    free(der);
    der = cert(nb, 90 * DAY, 2, &len);
    CHECK(der && renew_plan_ask(&io, der, len, &p) == 0 && p.basis == RENEW_BASIS_THIRD &&
              p.renew_at <= nb + 60 * DAY && p.renew_at >= nb + 60 * DAY - 90 * DAY / 20,
          "a 90-day certificate: a third of the lifetime left (day 60, up to 4.5 days earlier)");
    free(der);
    uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    CHECK(renew_plan_ask(&io, junk, sizeof junk, &p) < 0, "not a certificate: refused");
}

static void test_ari(void) {
    int64_t nb = 1800000000;
    size_t len;
    uint8_t *der = cert(nb, 90 * DAY, 3, &len);
    char id[ARI_CERT_ID_MAX], why[200];
    renew_plan p;
    ca_down = ari_fails = false;
    offers_ari = true;
    ari_answer.start = nb + 40 * DAY;
    ari_answer.end = nb + 41 * DAY;
    ari_retry_after = 3600;
    CHECK(der && ari_cert_id(der, len, id, sizeof id, why, sizeof why) == 0 &&
              renew_plan_ask(&io, der, len, &p) == 0 && p.basis == RENEW_BASIS_ARI &&
              p.renew_at >= ari_answer.start && p.renew_at <= ari_answer.end &&
              !strcmp(asked_for, id) && !strcmp(p.cert_id, id) && p.retry_after == 3600,
          "ARI offered: renews inside the CA's window (day 40-41, not day 60), having asked for "
          "the certificate's certID");
    CHECK(renew_plan_next_look(&p, nb) == nb + 3600,
          "... and looks again when Retry-After says (an hour), long before the window");
    ari_retry_after = 5;
    CHECK(renew_plan_ask(&io, der, len, &p) == 0 &&
              renew_plan_next_look(&p, nb) == nb + ARI_MIN_POLL,
          "a Retry-After of 5 s is polled no more often than every %d s", ARI_MIN_POLL);
    ari_fails = true;
    CHECK(renew_plan_ask(&io, der, len, &p) == 0 && p.basis == RENEW_BASIS_THIRD &&
              strstr(p.note, "HTTP 500") && renew_plan_next_look(&p, nb) == nb + ARI_DEFAULT_POLL,
          "renewalInfo failing: the lifetime rule, the reason noted, ARI asked again in 6 h");
    ari_fails = false;
    ca_down = true;
    CHECK(renew_plan_ask(&io, der, len, &p) == 0 && p.basis == RENEW_BASIS_THIRD &&
              strstr(p.note, "connection refused") && p.not_after == nb + 90 * DAY,
          "the CA unreachable: still a plan (the lifetime rule), the reason noted");
    free(der);
}

int main(void) {
    test_lifetime_rule();
    test_ari();
    TEST_EXIT();
}
