/* ACME transport: directory, nonces, signed POSTs, polling (acme_client.h). */
#include "acme/acme_client.h"

#include "acme/jws.h"
#include "common/cli_common.h"
#include "http/http_parse.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JOSE_JSON "application/jose+json"

static void sleep_ms(int64_t ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Picks up Replay-Nonce, Location and Retry-After from an answer. */
static void read_headers(acme_client *c, acme_reply *r) {
    char v[ACME_URL_MAX];
    r->location[0] = 0;
    r->retry_after = -1;
    if (http_header_value(r->http.head, r->http.head_len, "Replay-Nonce", v, sizeof v)) {
        /* base64url only (§6.5.1): anything else is not kept */
        bool ok = v[0] && strlen(v) < sizeof c->nonce;
        for (const char *p = v; ok && *p; p++)
            ok = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                 *p == '-' || *p == '_';
        if (ok) strcpy(c->nonce, v);
    }
    if (http_header_value(r->http.head, r->http.head_len, "Location", v, sizeof v))
        snprintf(r->location, sizeof r->location, "%s", v);
    if (http_header_value(r->http.head, r->http.head_len, "Retry-After", v, sizeof v))
        r->retry_after = acme_parse_retry_after(v, (int64_t)time(NULL));
}

/* One request with what is left of the deadline (at most 30 s). */
static int request(acme_client *c, const char *method, const char *url, const char *body,
                   const char *accept, acme_reply *r, char *why, size_t cap) {
    memset(r, 0, sizeof *r);
    int64_t left = c->deadline_ms - cli_now_ms();
    if (left <= 0) {
        snprintf(why, cap, "the deadline passed before %s %s", method, url);
        return -1;
    }
    c->http.timeout_ms = (int)(left < 30000 ? left : 30000);
    c->requests++;
    if (https_request(&c->http, method, url, body ? JOSE_JSON : NULL, (const uint8_t *)body,
                      body ? strlen(body) : 0, accept, &r->http, why, cap) != 0)
        return -1;
    read_headers(c, r);
    if (c->verbose) fprintf(stderr, "* %s %s: %d\n", method, url, r->http.status);
    r->status = r->http.status;
    /* A NUL after the body, for the JSON parser and PEM readers. */
    uint8_t *b = realloc(r->http.body, r->http.body_len + 1);
    if (!b) {
        acme_reply_free(r);
        snprintf(why, cap, "out of memory");
        return -1;
    }
    b[r->http.body_len] = 0;
    r->http.body = b;
    return 0;
}

void acme_reply_free(acme_reply *r) {
    http_answer_free(&r->http);
}

int acme_client_open(acme_client *c, const char *directory_url, const char *ca_bundle,
                     int timeout_ms, bool verbose, char *why, size_t cap) {
    memset(c, 0, sizeof *c);
    c->verbose = verbose;
    c->deadline_ms = cli_now_ms() + timeout_ms;
    if (strlen(directory_url) >= sizeof c->directory_url) {
        snprintf(why, cap, "the directory URL is too long");
        return -1;
    }
    strcpy(c->directory_url, directory_url);
    if (https_client_init(&c->http, ca_bundle, 30000, ACME_MAX_BODY, why, cap) != 0) return -1;
    acme_reply r;
    char sub[600];
    if (request(c, "GET", directory_url, NULL, NULL, &r, sub, sizeof sub) != 0) {
        snprintf(why, cap, "cannot read the ACME directory %s: %s", directory_url, sub);
        acme_client_close(c);
        return -1;
    }
    int rc = -1;
    if (r.status != 200)
        snprintf(why, cap, "the ACME directory %s answered HTTP %d", directory_url, r.status);
    else if (acme_parse_directory((const char *)r.http.body, r.http.body_len, &c->dir, sub,
                                  sizeof sub) != 0)
        snprintf(why, cap, "the ACME directory %s is not usable: %s", directory_url, sub);
    else
        rc = 0;
    acme_reply_free(&r);
    if (rc != 0) acme_client_close(c);
    return rc;
}

void acme_client_close(acme_client *c) {
    https_client_free(&c->http);
}

int acme_client_jwk(const acme_client *c, char *out, size_t cap) {
    return jws_jwk(c->key, out, cap);
}

static int fetch_nonce(acme_client *c, char *why, size_t cap) {
    acme_reply r;
    char sub[600];
    if (request(c, "HEAD", c->dir.new_nonce, NULL, NULL, &r, sub, sizeof sub) != 0) {
        snprintf(why, cap, "cannot get a nonce from %s: %s", c->dir.new_nonce, sub);
        return -1;
    }
    acme_reply_free(&r);
    if (!c->nonce[0]) {
        snprintf(why, cap, "%s sent no Replay-Nonce", c->dir.new_nonce);
        return -1;
    }
    return 0;
}

/* The signed body for url: protected {alg, kid|jwk, nonce, url}. */
static char *signed_body(acme_client *c, const char *url, const char *payload, bool use_jwk) {
    cJSON *p = cJSON_CreateObject();
    char jwk[JWS_JWK_MAX];
    char *prot = NULL, *out = NULL;
    cJSON_AddStringToObject(p, "alg", "ES256");
    if (c->kid[0] && !use_jwk) {
        cJSON_AddStringToObject(p, "kid", c->kid);
    } else if (jws_jwk(c->key, jwk, sizeof jwk) == 0) {
        cJSON_AddItemToObject(p, "jwk", cJSON_Parse(jwk));
    }
    cJSON_AddStringToObject(p, "nonce", c->nonce);
    cJSON_AddStringToObject(p, "url", url);
    prot = cJSON_PrintUnformatted(p);
    if (prot) out = jws_sign_es256(c->key, prot, payload);
    free(prot);
    cJSON_Delete(p);
    return out;
}

int acme_post(acme_client *c, const char *url, const char *payload, bool use_jwk,
              const char *accept, acme_reply *r, char *why, size_t cap) {
    c->last_problem[0] = 0;
    unsigned busy_retries = 0;
    for (unsigned attempt = 0;; attempt++) {
        if (!c->nonce[0] && fetch_nonce(c, why, cap) != 0) return -1;
        char *body = signed_body(c, url, payload, use_jwk);
        c->nonce[0] = 0; /* used up, whatever the answer */
        if (!body) {
            snprintf(why, cap, "cannot sign the request (JWS ES256)");
            return -1;
        }
        char sub[600];
        int rc = request(c, "POST", url, body, accept, r, sub, sizeof sub);
        free(body);
        if (rc != 0) {
            snprintf(why, cap, "POST %s: %s", url, sub);
            return -1;
        }
        if (r->status < 400) return 0;
        char type[128];
        acme_problem_type((const char *)r->http.body, r->http.body_len, type, sizeof type);
        if (!strcmp(type, "urn:ietf:params:acme:error:badNonce") &&
            attempt < ACME_BAD_NONCE_RETRIES) {
            c->bad_nonces++;
            if (c->verbose)
                fprintf(stderr, "* badNonce from %s: retrying with a fresh nonce\n", url);
            acme_reply_free(r);
            continue; /* the answer carried a fresh nonce (or the next loop asks) */
        }
        /* A busy server (503, or 429 for a short while) names when to come
         * back: within ACME_RETRY_AFTER_MAX and the deadline, wait and ask
         * again (a new nonce: this one is spent). Longer waits are the
         * caller's (a rate limit of an hour is an error now). */
        if ((r->status == 503 || r->status == 429) && r->retry_after >= 0 &&
            r->retry_after <= ACME_RETRY_AFTER_MAX && busy_retries < 3 &&
            cli_now_ms() + r->retry_after * 1000 < c->deadline_ms) {
            busy_retries++;
            if (c->verbose)
                fprintf(stderr, "* %s answered HTTP %d with Retry-After %ld: waiting\n", url,
                        r->status, r->retry_after);
            sleep_ms(r->retry_after * 1000);
            acme_reply_free(r);
            continue;
        }
        snprintf(c->last_problem, sizeof c->last_problem, "%s", type);
        char sentence[1024];
        acme_problem_sentence((const char *)r->http.body, r->http.body_len, r->status,
                              r->retry_after, sentence, sizeof sentence);
        snprintf(why, cap, "the ACME server refused POST %s: %s", url, sentence);
        acme_reply_free(r);
        return -1;
    }
}

int acme_poll(acme_client *c, const char *url, acme_status_fn status_of, acme_reply *r, char *why,
              size_t cap) {
    int64_t backoff = 100;
    for (;;) {
        if (acme_post(c, url, NULL, false, NULL, r, why, cap) != 0) return -1;
        acme_status s = status_of((const char *)r->http.body, r->http.body_len);
        if (s != ACME_STATUS_PENDING && s != ACME_STATUS_PROCESSING) return 0;
        int64_t wait = r->retry_after >= 0 ? (int64_t)r->retry_after * 1000 : backoff;
        acme_reply_free(r);
        if (cli_now_ms() + wait >= c->deadline_ms) {
            snprintf(why, cap, "%s was still %s when the deadline came (raise --timeout)", url,
                     acme_status_name(s));
            return -1;
        }
        if (c->verbose)
            fprintf(stderr, "* %s is %s: asking again in %.2f s\n", url, acme_status_name(s),
                    wait / 1000.0);
        sleep_ms(wait);
        backoff = backoff * 2 > 4000 ? 4000 : backoff * 2;
    }
}
