/* certa renew's pure parts: the schedule (thirds, halves under 10 days, the
 * ARI window with a random point inside it, jitter, never past expiry) with
 * a supplied random source; the ARI certID (RFC 9773 §4.1's example), RFC
 * 3339 times and renewalInfo objects; the state directory's config lines. */
#include "../../tools/acme/jws.c"
#include "../../tools/renew/ari.c"
#include "../../tools/renew/schedule.c"
#include "testlib.h"

#include <time.h>

#include "crypto/ca_crypto.h"
#include "x509/issue.h"

/* state_config_parse (state_dir.c links alone, with atomic_write.c). */
#include "../../tools/common/atomic_write.c"
#include "../../tools/renew/state_dir.c"

#define DAY 86400

static uint64_t fixed_value;
static uint64_t fixed(void *ctx) {
    (void)ctx;
    return fixed_value;
}

static void test_thirds_and_halves(void) {
    renew_basis b;
    int64_t nb = 1800000000, na = nb + 90 * DAY, L = 90 * DAY;
    fixed_value = 0;
    int64_t at = renew_schedule(nb, na, NULL, fixed, NULL, &b);
    CHECK(at == na - L / 3 && b == RENEW_BASIS_THIRD,
          "90-day certificate, no jitter: renews when a third is left (day 60)");
    fixed_value = L / 20;
    at = renew_schedule(nb, na, NULL, fixed, NULL, &b);
    CHECK(at == na - L / 3 - L / 20, "the largest jitter: a twentieth of the lifetime earlier");
    fixed_value = L / 20 + 1; /* wraps to 0 */
    CHECK(renew_schedule(nb, na, NULL, fixed, NULL, &b) == na - L / 3,
          "jitter never moves the time later than the rule");
    fixed_value = 0;
    at = renew_schedule(nb, nb + 6 * DAY, NULL, fixed, NULL, &b);
    CHECK(at == nb + 3 * DAY && b == RENEW_BASIS_HALF,
          "6-day certificate: renews when half is left (day 3)");
    at = renew_schedule(nb, nb + 10 * DAY, NULL, fixed, NULL, &b);
    CHECK(b == RENEW_BASIS_THIRD && at == nb + 10 * DAY - 10 * DAY / 3,
          "exactly 10 days is not short: a third");
    at = renew_schedule(nb, nb + 10 * DAY - 1, NULL, fixed, NULL, &b);
    CHECK(b == RENEW_BASIS_HALF, "a second under 10 days: half");
    at = renew_schedule(nb, nb + 20, NULL, fixed, NULL, &b);
    CHECK(at == nb + 10, "20-second certificate: at 10 s");
    fixed_value = UINT64_MAX;
    at = renew_schedule(nb, nb + 1, NULL, fixed, NULL, &b);
    CHECK(at < nb + 1, "1-second certificate: before expiry");
    at = renew_schedule(nb, nb - 5, NULL, fixed, NULL, &b);
    CHECK(at < nb - 5, "not_after before not_before: at once, before expiry");

    renew_rng rng = {42};
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    bool inside = true;
    for (int i = 0; i < 2000; i++) {
        at = renew_schedule(nb, na, NULL, renew_rng_next, &rng, &b);
        inside &= at <= na - L / 3 && at >= na - L / 3 - L / 20;
        lo = at < lo ? at : lo;
        hi = at > hi ? at : hi;
    }
    CHECK(inside && hi - lo > L / 25,
          "2000 random draws: all inside [due - L/20, due], spread %lld s", (long long)(hi - lo));
    renew_rng a = {7}, c = {7};
    CHECK(renew_schedule(nb, na, NULL, renew_rng_next, &a, &b) ==
              renew_schedule(nb, na, NULL, renew_rng_next, &c, &b),
          "the same seed gives the same time (runs on one certificate agree)");
}

static void test_ari_window(void) {
    renew_basis b;
    int64_t nb = 1800000000, na = nb + 90 * DAY;
    renew_window w = {nb + 50 * DAY, nb + 52 * DAY};
    fixed_value = 0;
    CHECK(renew_schedule(nb, na, &w, fixed, NULL, &b) == w.start && b == RENEW_BASIS_ARI,
          "ARI: a draw of 0 is the window's start");
    fixed_value = (uint64_t)(w.end - w.start);
    CHECK(renew_schedule(nb, na, &w, fixed, NULL, &b) == w.end, "ARI: the largest draw is its end");
    renew_rng rng = {99};
    bool inside = true;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (int i = 0; i < 2000; i++) {
        int64_t at = renew_schedule(nb, na, &w, renew_rng_next, &rng, &b);
        inside &= at >= w.start && at <= w.end;
        lo = at < lo ? at : lo;
        hi = at > hi ? at : hi;
    }
    CHECK(inside && hi - lo > DAY, "ARI: 2000 draws inside the window, spread over %lld s",
          (long long)(hi - lo));
    renew_window late = {na + DAY, na + 2 * DAY};
    fixed_value = 12345;
    CHECK(renew_schedule(nb, na, &late, fixed, NULL, &b) == na - 1,
          "ARI: a window after expiry is cut to before expiry");
    renew_window past = {nb + DAY, nb + DAY + 60};
    CHECK(renew_schedule(nb, na, &past, fixed, NULL, &b) <= nb + DAY + 60,
          "ARI: a window in the past gives a time in the past (renew now)");
    renew_window bad = {nb + 60 * DAY, nb + 59 * DAY};
    fixed_value = 0;
    CHECK(renew_schedule(nb, na, &bad, fixed, NULL, &b) == na - 30 * DAY && b == RENEW_BASIS_THIRD,
          "ARI: a window ending before it starts is ignored (a third)");
}

static void test_cert_id(void) {
    /* RFC 9773 §4.1: keyIdentifier 69:88:5B:..:C8:D4, serial 0x0087654321. */
    uint8_t aki[20], serial[] = {0x87, 0x65, 0x43, 0x21};
    test_unhex("69885B6B87464041E1B37B847BA0AE2CDE01C8D4", aki, sizeof aki);
    crypto_key *k = key_generate(KEYGEN_P256);
    const char *dns[] = {"ari.example"};
    x509_issue_params p = {.serial = serial,
                           .serial_len = sizeof serial,
                           .subject_cn = "ari.example",
                           .not_before = 1800000000,
                           .not_after = 1800000000 + DAY,
                           .server_auth = true,
                           .dns = dns,
                           .n_dns = 1,
                           .issuer_key_id = aki,
                           .issuer_key_id_len = sizeof aki};
    uint8_t *der = NULL;
    size_t len = 0;
    char id[ARI_CERT_ID_MAX], why[200];
    CHECK(
        k && x509_issue(&p, k, k, &der, &len) == 0 &&
            ari_cert_id(der, len, id, sizeof id, why, sizeof why) == 0 &&
            !strcmp(id, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"),
        "certID of RFC 9773's example: aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE (the serial's 00 kept)");
    char tiny[20];
    CHECK(ari_cert_id(der, len, tiny, sizeof tiny, why, sizeof why) < 0, "a short buffer: refused");
    CHECK(ari_cert_id(der, len / 2, id, sizeof id, why, sizeof why) < 0 &&
              !strcmp(why, "not a certificate"),
          "a truncated certificate: refused");
    free(der);
    key_free(k);
}

static void test_times(void) {
    int64_t t;
    struct tm tm = {.tm_year = 2026 - 1900, .tm_mon = 11, .tm_mday = 4, .tm_hour = 18};
    int64_t want = (int64_t)timegm(&tm);
    CHECK(ari_parse_time("2026-12-04T18:00:00Z", 20, &t) == 0 && t == want, "RFC 3339 UTC");
    CHECK(ari_parse_time("2026-12-04T19:30:00.123456+01:30", 32, &t) == 0 && t == want,
          "a fraction and an offset");
    CHECK(ari_parse_time("2026-12-04t18:00:00z", 20, &t) == 0 && t == want, "lower-case t and z");
    CHECK(ari_parse_time("2024-02-29T00:00:00Z", 20, &t) == 0, "a leap day");
    CHECK(ari_parse_time("2026-02-29T00:00:00Z", 20, &t) < 0, "not a leap year: refused");
    CHECK(ari_parse_time("2026-12-04T18:00:00", 19, &t) < 0, "no offset: refused");
    CHECK(ari_parse_time("2026-12-04T18:00:00Zx", 21, &t) < 0, "trailing bytes: refused");
    CHECK(ari_parse_time("2026-12-04T18:00:00Z", 10, &t) < 0, "a prefix: refused");
    ari_info info;
    char why[200];
    const char *ok = "{\"suggestedWindow\":{\"start\":\"2026-12-04T18:00:00Z\",\"end\":"
                     "\"2026-12-05T18:00:00Z\"},\"explanationURL\":\"https://ca.example/why\"}";
    CHECK(ari_parse_renewal_info(ok, strlen(ok), &info, why, sizeof why) == 0 &&
              info.start == want && info.end == want + DAY &&
              !strcmp(info.explanation, "https://ca.example/why"),
          "renewalInfo: the window and the explanation");
    const char *rev = "{\"suggestedWindow\":{\"start\":\"2026-12-05T18:00:00Z\",\"end\":"
                      "\"2026-12-04T18:00:00Z\"}}";
    CHECK(ari_parse_renewal_info(rev, strlen(rev), &info, why, sizeof why) < 0 &&
              strstr(why, "ends before it starts"),
          "renewalInfo: a window ending before it starts is refused");
    CHECK(ari_parse_renewal_info("{}", 2, &info, why, sizeof why) < 0 &&
              strstr(why, "no suggestedWindow"),
          "renewalInfo: no window, refused");
}

static void test_config(void) {
    char text[] = "# comment\n--directory https://ca.example/dir\n\n  --agree-tos  \r\n"
                  "--dns-hook /usr/bin/hook --flag x\n";
    char *args[8], why[100];
    int n = state_config_parse(text, sizeof text - 1, args, 8, why, sizeof why);
    CHECK(n == 5 && !strcmp(args[0], "--directory") && !strcmp(args[1], "https://ca.example/dir") &&
              !strcmp(args[2], "--agree-tos") && !strcmp(args[3], "--dns-hook") &&
              !strcmp(args[4], "/usr/bin/hook --flag x"),
          "config: flags, values (the rest of the line), comments and blank lines");
    char bad[] = "--ok\nnot an option\n";
    CHECK(state_config_parse(bad, sizeof bad - 1, args, 8, why, sizeof why) < 0 &&
              strstr(why, "line 2"),
          "config: a line that is no option is refused, by number");
    char many[] = "--a 1\n--b 2\n--c 3\n";
    CHECK(state_config_parse(many, sizeof many - 1, args, 4, why, sizeof why) < 0,
          "config: more options than room: refused");
}

int main(void) {
    test_thirds_and_halves();
    test_ari_window();
    test_cert_id();
    test_times();
    test_config();
    TEST_EXIT();
}
