/* Fetching renewal information (see ari.h): the one part of ARI that does
 * I/O, kept apart so that the parsing links alone into tests and fuzzers. */
#include "renew/ari.h"

#include "http/http_parse.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int ari_fetch(acme_client *c, const char *cert_id, ari_info *out, long *retry_after_s, char *why,
              size_t cap) {
    *retry_after_s = -1;
    char url[ACME_URL_MAX + ARI_CERT_ID_MAX + 2];
    const char *base = c->dir.renewal_info;
    size_t bl = strlen(base);
    snprintf(url, sizeof url, "%s%s%s", base, bl && base[bl - 1] == '/' ? "" : "/", cert_id);
    http_answer a;
    char sub[1024];
    if (https_request(&c->http, "GET", url, NULL, NULL, 0, "application/json", &a, sub,
                      sizeof sub) != 0) {
        snprintf(why, cap, "cannot fetch the renewal information %.300s: %s", url, sub);
        return -1;
    }
    c->requests++;
    char ra[128];
    if (http_header_value(a.head, a.head_len, "Retry-After", ra, sizeof ra))
        *retry_after_s = acme_parse_retry_after(ra, (int64_t)time(NULL));
    int rc = -1;
    if (a.status != 200) {
        acme_problem_sentence((const char *)a.body, a.body_len, a.status, *retry_after_s, sub,
                              sizeof sub);
        snprintf(why, cap, "the renewal information %.300s: %s", url, sub);
    } else if (ari_parse_renewal_info((const char *)a.body, a.body_len, out, sub, sizeof sub) !=
               0) {
        snprintf(why, cap, "%.300s: %s", url, sub);
    } else {
        rc = 0;
    }
    http_answer_free(&a);
    return rc;
}
