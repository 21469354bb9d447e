/* ACME JSON objects (see acme_json.h). */
#define _XOPEN_SOURCE 700 /* strptime for Retry-After dates */
#include "acme/acme_json.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define PROBLEM_PREFIX "urn:ietf:params:acme:error:"

static cJSON *parse(const char *json, size_t len) {
    return json && len ? cJSON_ParseWithLength(json, len) : NULL;
}

static const char *str(const cJSON *o, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : NULL;
}

/* Text that may go into a request line or a header: no control
 * characters (no header injection) and no spaces. */
static bool printable(const char *s, bool url) {
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f || (url && *p == ' ')) return false;
    return true;
}

static bool url_ok(const char *s) {
    return s && strlen(s) < ACME_URL_MAX && strncasecmp(s, "https://", 8) == 0 &&
           printable(s, true);
}

/* Copies a string member; an https URL when url. false when absent, too
 * long or not a URL. */
static bool take(const cJSON *o, const char *name, char *out, size_t cap, bool url) {
    const char *s = str(o, name);
    if (!s || strlen(s) >= cap || !printable(s, url)) return false;
    if (url && !url_ok(s)) return false;
    strcpy(out, s);
    return true;
}

const char *acme_status_name(acme_status s) {
    static const char *names[] = {"unknown", "pending",     "ready",   "processing", "valid",
                                  "invalid", "deactivated", "expired", "revoked"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

static acme_status status_of(const cJSON *o) {
    const char *s = str(o, "status");
    if (!s) return ACME_STATUS_UNKNOWN;
    for (int i = 1; i <= ACME_STATUS_REVOKED; i++)
        if (!strcmp(s, acme_status_name((acme_status)i))) return (acme_status)i;
    return ACME_STATUS_UNKNOWN;
}

int acme_parse_directory(const char *json, size_t len, acme_directory *d, char *why, size_t cap) {
    memset(d, 0, sizeof *d);
    cJSON *o = parse(json, len);
    int r = -1;
    if (!cJSON_IsObject(o)) {
        snprintf(why, cap, "the directory is not a JSON object");
    } else if (!take(o, "newNonce", d->new_nonce, sizeof d->new_nonce, true)) {
        snprintf(why, cap, "the directory has no https newNonce URL");
    } else if (!take(o, "newAccount", d->new_account, sizeof d->new_account, true)) {
        snprintf(why, cap, "the directory has no https newAccount URL");
    } else if (!take(o, "newOrder", d->new_order, sizeof d->new_order, true)) {
        snprintf(why, cap, "the directory has no https newOrder URL");
    } else {
        take(o, "revokeCert", d->revoke_cert, sizeof d->revoke_cert, true);
        take(o, "keyChange", d->key_change, sizeof d->key_change, true);
        take(o, "renewalInfo", d->renewal_info, sizeof d->renewal_info, true);
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(o, "meta");
        if (cJSON_IsObject(meta)) {
            take(meta, "termsOfService", d->terms_of_service, sizeof d->terms_of_service, false);
            d->eab_required =
                cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "externalAccountRequired"));
        }
        r = 0;
    }
    cJSON_Delete(o);
    return r;
}

/* The "error" member of an order or a challenge, as a sentence. */
static void object_error(const cJSON *o, char *out, size_t cap) {
    out[0] = 0;
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");
    if (!cJSON_IsObject(e)) return;
    char *text = cJSON_PrintUnformatted(e);
    if (text) acme_problem_sentence(text, strlen(text), 0, -1, out, cap);
    free(text);
}

void acme_order_free(acme_order *o) {
    free(o->authz);
    o->authz = NULL;
    o->n_authz = 0;
}

int acme_parse_order(const char *json, size_t len, acme_order *ord, char *why, size_t cap) {
    memset(ord, 0, sizeof *ord);
    cJSON *o = parse(json, len);
    int r = -1;
    const cJSON *az = cJSON_GetObjectItemCaseSensitive(o, "authorizations");
    int n = cJSON_IsArray(az) ? cJSON_GetArraySize(az) : -1;
    if (!cJSON_IsObject(o)) {
        snprintf(why, cap, "the order is not a JSON object");
    } else if ((ord->status = status_of(o)) == ACME_STATUS_UNKNOWN) {
        snprintf(why, cap, "the order has no known status");
    } else if (n < 0 || n > ACME_MAX_IDENTIFIERS) {
        snprintf(why, cap, "the order's authorizations are not a list of at most %d",
                 ACME_MAX_IDENTIFIERS);
    } else if (!take(o, "finalize", ord->finalize, sizeof ord->finalize, true)) {
        snprintf(why, cap, "the order has no https finalize URL");
    } else if (n > 0 && !(ord->authz = calloc((size_t)n, sizeof *ord->authz))) {
        snprintf(why, cap, "out of memory");
    } else {
        r = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, az) {
            if (!cJSON_IsString(it) || !url_ok(it->valuestring)) {
                snprintf(why, cap, "an authorization URL of the order is not an https URL");
                r = -1;
                break;
            }
            strcpy(ord->authz[ord->n_authz++], it->valuestring);
        }
        if (r == 0 && ord->status == ACME_STATUS_VALID &&
            !take(o, "certificate", ord->certificate, sizeof ord->certificate, true)) {
            snprintf(why, cap, "the order is valid but has no https certificate URL");
            r = -1;
        }
        object_error(o, ord->error, sizeof ord->error);
    }
    if (r != 0) acme_order_free(ord);
    cJSON_Delete(o);
    return r;
}

bool acme_token_ok(const char *t) {
    size_t n = strlen(t);
    if (n < 16 || n > ACME_TOKEN_MAX) return false;
    for (const char *p = t; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return true;
}

int acme_parse_authz(const char *json, size_t len, acme_authz *a, char *why, size_t cap) {
    memset(a, 0, sizeof *a);
    cJSON *o = parse(json, len);
    int r = -1;
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "identifier");
    const cJSON *chs = cJSON_GetObjectItemCaseSensitive(o, "challenges");
    if (!cJSON_IsObject(o)) {
        snprintf(why, cap, "the authorization is not a JSON object");
    } else if ((a->status = status_of(o)) == ACME_STATUS_UNKNOWN) {
        snprintf(why, cap, "the authorization has no known status");
    } else if (!cJSON_IsObject(id) || !take(id, "type", a->id_type, sizeof a->id_type, false) ||
               !take(id, "value", a->id_value, sizeof a->id_value, false) ||
               (strcmp(a->id_type, "dns") && strcmp(a->id_type, "ip"))) {
        snprintf(why, cap, "the authorization's identifier is not a dns or ip identifier");
    } else if (!cJSON_IsArray(chs)) {
        snprintf(why, cap, "the authorization has no list of challenges");
    } else {
        a->wildcard = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "wildcard"));
        r = 0;
        const cJSON *it;
        cJSON_ArrayForEach(it, chs) {
            if (a->n_challenges == ACME_MAX_CHALLENGES) break; /* the rest are not for us */
            acme_challenge *c = &a->challenges[a->n_challenges];
            memset(c, 0, sizeof *c);
            if (!cJSON_IsObject(it) || !take(it, "type", c->type, sizeof c->type, false) ||
                !take(it, "url", c->url, sizeof c->url, true))
                continue; /* a challenge we cannot use; others may do */
            const char *tok = str(it, "token");
            if (tok && acme_token_ok(tok)) strcpy(c->token, tok);
            c->status = status_of(it);
            object_error(it, c->error, sizeof c->error);
            a->n_challenges++;
        }
    }
    cJSON_Delete(o);
    return r;
}

acme_status acme_json_status(const char *json, size_t len) {
    cJSON *o = parse(json, len);
    acme_status s = cJSON_IsObject(o) ? status_of(o) : ACME_STATUS_UNKNOWN;
    cJSON_Delete(o);
    return s;
}

int acme_parse_account_status(const char *json, size_t len, acme_status *s, char *why, size_t cap) {
    cJSON *o = parse(json, len);
    *s = cJSON_IsObject(o) ? status_of(o) : ACME_STATUS_UNKNOWN;
    cJSON_Delete(o);
    if (*s == ACME_STATUS_UNKNOWN) {
        snprintf(why, cap, "the account object has no known status");
        return -1;
    }
    return 0;
}

void acme_problem_type(const char *json, size_t len, char *out, size_t cap) {
    out[0] = 0;
    cJSON *o = parse(json, len);
    const char *t = cJSON_IsObject(o) ? str(o, "type") : NULL;
    if (t && strlen(t) < cap) strcpy(out, t);
    cJSON_Delete(o);
}

/* What a user can do about a problem type (the part after the prefix). */
static const char *hint_for(const char *type) {
    static const struct {
        const char *type, *hint;
    } hints[] = {
        {"rateLimited", "the CA limits how often this may be asked: wait and try again"},
        {"externalAccountRequired",
         "this CA needs External Account Binding: pass --eab-kid and --eab-hmac from the CA"},
        {"userActionRequired", "the CA's terms changed: read them and agree with --agree-tos"},
        {"unauthorized", "the CA does not accept this account or name"},
        {"incorrectResponse", "the CA reached the challenge but the answer was wrong"},
        {"connection", "the CA could not reach the challenge responder: check ports and firewall"},
        {"dns", "the CA's DNS lookup failed: check the name and the DNS hook"},
        {"rejectedIdentifier", "the CA will not issue for this identifier"},
        {"accountDoesNotExist", "no account for this key: register it (certa acme account)"},
        {"badCSR", "the CA refused the certificate request"},
        {"caa", "a CAA record forbids this CA for the name"},
        {"tls", "the CA's TLS connection to the responder failed"},
    };
    if (strncmp(type, PROBLEM_PREFIX, strlen(PROBLEM_PREFIX)) != 0) return NULL;
    type += strlen(PROBLEM_PREFIX);
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
        if (!strcmp(type, hints[i].type)) return hints[i].hint;
    return NULL;
}

/* Appends to out (keeps it NUL-terminated, cuts when full). */
static void add(char *out, size_t cap, const char *fmt, const char *a, const char *b) {
    size_t n = strlen(out);
    if (n + 1 >= cap) return;
    snprintf(out + n, cap - n, fmt, a, b);
}

/* Printable text of a server string, at most 300 bytes. */
static void clean(const char *in, char *out, size_t cap) {
    size_t n = 0;
    for (; in && *in && n + 1 < cap && n < 300; in++)
        out[n++] = ((unsigned char)*in < 0x20 || *in == 0x7f) ? ' ' : *in;
    out[n] = 0;
}

void acme_problem_sentence(const char *json, size_t len, int http_status, long retry_after_s,
                           char *out, size_t cap) {
    if (cap == 0) return;
    out[0] = 0;
    cJSON *o = parse(json, len);
    const char *type = cJSON_IsObject(o) ? str(o, "type") : NULL;
    char status[32] = "", t[320], d[320];
    if (http_status > 0) snprintf(status, sizeof status, ", HTTP %d", http_status);
    if (!type) {
        if (http_status > 0)
            snprintf(out, cap, "the ACME server answered HTTP %d without a problem document",
                     http_status);
        else
            snprintf(out, cap, "the ACME server reported an error without a problem type");
    } else {
        clean(type, t, sizeof t);
        clean(str(o, "detail"), d, sizeof d);
        add(out, cap, "%s%s", d[0] ? d : "no detail given", " (");
        add(out, cap, "%s%s)", t, status);
        const cJSON *subs = cJSON_GetObjectItemCaseSensitive(o, "subproblems");
        const cJSON *sp;
        int k = 0;
        if (!cJSON_IsArray(subs)) subs = NULL;
        cJSON_ArrayForEach(sp, subs) {
            if (k++ == 8) break;
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(sp, "identifier");
            char idv[300], st[320], sd[320];
            clean(cJSON_IsObject(id) ? str(id, "value") : NULL, idv, sizeof idv);
            clean(str(sp, "type"), st, sizeof st);
            clean(str(sp, "detail"), sd, sizeof sd);
            add(out, cap, "; for %s: %s", idv[0] ? idv : "(no identifier)", sd);
            add(out, cap, " (%s)%s", st, "");
        }
        const char *hint = hint_for(type);
        if (hint) add(out, cap, ": %s%s", hint, "");
    }
    if (retry_after_s >= 0) {
        char ra[48];
        snprintf(ra, sizeof ra, "%ld s", retry_after_s);
        add(out, cap, "; the server says retry after %s%s", ra, "");
    }
    cJSON_Delete(o);
}

long acme_parse_retry_after(const char *v, int64_t now) {
    char *end;
    long s = strtol(v, &end, 10);
    if (end != v && *end == 0 && s >= 0) return s > 86400 ? 86400 : s;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!rest || *rest) return -1;
    int64_t t = (int64_t)timegm(&tm);
    return t <= now ? 0 : (long)(t - now > 86400 ? 86400 : t - now);
}
