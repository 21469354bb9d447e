/* libFuzzer target: what the ACME client reads from a CA (tools/acme/
 * acme_json.c, compiled in; cJSON parses, this code checks): the input as a
 * directory, an order, an authorization, an account, a problem document
 * (into a full and a tiny buffer) and a Retry-After value; and as the first
 * record a tls-alpn-01 validator sends (tools/acme/challenge_hello.c). What
 * is taken must hold what the client relies on: https URLs without control
 * characters, base64url tokens, bounded counts, NUL-terminated text. */
#define _XOPEN_SOURCE 700 /* strptime, as acme_json.c wants it */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../tools/acme/acme_json.c"
#include "../tools/acme/challenge_hello.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(const char *u) {
    if (!*u) return;
    if (strncasecmp(u, "https://", 8) != 0 || strlen(u) >= ACME_URL_MAX) abort();
    for (; *u; u++)
        if ((unsigned char)*u < 0x20) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    char why[256], out[1024], tiny[16];
    acme_directory d;
    if (acme_parse_directory(text, size, &d, why, sizeof why) == 0) {
        check_url(d.new_nonce);
        check_url(d.new_order);
        check_url(d.key_change);
        if (!d.new_nonce[0] || !d.new_account[0] || !d.new_order[0]) abort();
    }
    acme_order o;
    if (acme_parse_order(text, size, &o, why, sizeof why) == 0) {
        if (o.n_authz > ACME_MAX_IDENTIFIERS) abort();
        for (size_t i = 0; i < o.n_authz; i++)
            check_url(o.authz[i]);
        check_url(o.finalize);
        if (o.status == ACME_STATUS_VALID && !o.certificate[0]) abort();
        acme_order_free(&o);
    }
    acme_authz a;
    if (acme_parse_authz(text, size, &a, why, sizeof why) == 0) {
        if (a.n_challenges > ACME_MAX_CHALLENGES) abort();
        for (size_t i = 0; i < a.n_challenges; i++) {
            check_url(a.challenges[i].url);
            if (a.challenges[i].token[0] && !acme_token_ok(a.challenges[i].token)) abort();
            if (strchr(a.challenges[i].token, '/') || strchr(a.challenges[i].token, '.')) abort();
        }
    }
    acme_status s;
    acme_parse_account_status(text, size, &s, why, sizeof why);
    acme_problem_sentence(text, size, 400, 5, out, sizeof out);
    if (strlen(out) >= sizeof out) abort();
    acme_problem_sentence(text, size, 0, -1, tiny, sizeof tiny);
    if (strlen(tiny) >= sizeof tiny) abort();
    acme_problem_type(text, size, tiny, sizeof tiny);
    acme_parse_retry_after(text, 1700000000);
    cursor msg;
    if (challenge_first_client_hello(data, size, &msg) == 1 &&
        (msg.data < data || msg.data + msg.len > data + size || msg.len < 4))
        abort();
    free(text);
    return 0;
}
