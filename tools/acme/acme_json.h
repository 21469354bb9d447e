/* The ACME server's JSON (RFC 8555 §7.1): the directory, orders,
 * authorizations with their challenges, and problem documents (RFC 7807)
 * turned into one sentence. Pure functions over text — cJSON parses, this
 * file checks what the client relies on (types, sizes, URL schemes, token
 * alphabets) — so that they can be fuzzed (fuzz/fuzz_acme_json.c). */
#ifndef CERTA_TOOLS_ACME_JSON_H
#define CERTA_TOOLS_ACME_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACME_URL_MAX 1024
#define ACME_MAX_IDENTIFIERS 100 /* Let's Encrypt's limit of names per order */
#define ACME_MAX_CHALLENGES 8
#define ACME_TOKEN_MAX 128

typedef struct acme_directory {
    char new_nonce[ACME_URL_MAX];
    char new_account[ACME_URL_MAX];
    char new_order[ACME_URL_MAX];
    char revoke_cert[ACME_URL_MAX];
    char key_change[ACME_URL_MAX];
    char renewal_info[ACME_URL_MAX];     /* RFC 9773 renewalInfo, "" if none */
    char terms_of_service[ACME_URL_MAX]; /* meta.termsOfService, "" if none */
    bool eab_required;                   /* meta.externalAccountRequired */
} acme_directory;

/* Object states (§7.1.6) that the client tells apart. */
typedef enum acme_status {
    ACME_STATUS_UNKNOWN = 0,
    ACME_STATUS_PENDING,
    ACME_STATUS_READY,
    ACME_STATUS_PROCESSING,
    ACME_STATUS_VALID,
    ACME_STATUS_INVALID,
    ACME_STATUS_DEACTIVATED,
    ACME_STATUS_EXPIRED,
    ACME_STATUS_REVOKED,
} acme_status;
const char *acme_status_name(acme_status s);

typedef struct acme_order {
    acme_status status;
    char finalize[ACME_URL_MAX];
    char certificate[ACME_URL_MAX]; /* once valid */
    size_t n_authz;
    char (*authz)[ACME_URL_MAX]; /* n_authz URLs, malloc'd (acme_order_free) */
    char error[768];             /* the order's problem, as a sentence, "" if none */
} acme_order;

typedef struct acme_challenge {
    char type[24];
    char url[ACME_URL_MAX];
    char token[ACME_TOKEN_MAX + 1];
    acme_status status;
    char error[768];
} acme_challenge;

typedef struct acme_authz {
    acme_status status;
    char id_type[8]; /* "dns" or "ip" */
    char id_value[256];
    bool wildcard;
    size_t n_challenges;
    acme_challenge challenges[ACME_MAX_CHALLENGES];
} acme_authz;

/* Each returns 0, or -1 with why ("the directory has no newOrder URL"). */
int acme_parse_directory(const char *json, size_t len, acme_directory *d, char *why, size_t cap);
int acme_parse_order(const char *json, size_t len, acme_order *o, char *why, size_t cap);
void acme_order_free(acme_order *o);
int acme_parse_authz(const char *json, size_t len, acme_authz *a, char *why, size_t cap);
/* The "status" of any object; UNKNOWN when the text has none. */
acme_status acme_json_status(const char *json, size_t len);
/* An account object's status (newAccount's answer). */
int acme_parse_account_status(const char *json, size_t len, acme_status *s, char *why, size_t cap);

/* A problem document as a sentence with its type, e.g. "the ACME server
 * refused the request: too many new orders recently (urn:ietf:params:acme:
 * error:rateLimited, HTTP 429); retry after 3600 s", with the subproblems
 * and a hint for the types a user can act on. json may be anything (a
 * server that sends HTML gets "HTTP 500 without a problem document").
 * retry_after_s < 0: none given. */
void acme_problem_sentence(const char *json, size_t len, int http_status, long retry_after_s,
                           char *out, size_t cap);
/* The problem's type ("urn:ietf:params:acme:error:badNonce") into out, ""
 * when the text is no problem document. */
void acme_problem_type(const char *json, size_t len, char *out, size_t cap);

/* Seconds from a Retry-After value (RFC 9110 §10.2.3: delta-seconds or an
 * HTTP-date, against now), capped at a day; -1 if it is neither. */
long acme_parse_retry_after(const char *value, int64_t now);

/* Tokens are base64url (RFC 8555 §8.1): true when t is 16..128 of them
 * (safe as a file name and in a URL path). */
bool acme_token_ok(const char *t);

#endif
