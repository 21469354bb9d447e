/* ACME orders (see acme_order.h). */
#include "acme/acme_order.h"

#include "acme/csr.h"
#include "acme/jws.h"
#include "common/cli_common.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "x509/issue.h"

static const char *const challenge_names[] = {"http-01", "tls-alpn-01", "dns-01"};

bool acme_challenge_from_name(const char *name, acme_challenge_kind *out) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(name, challenge_names[i])) {
            *out = (acme_challenge_kind)i;
            return true;
        }
    return false;
}

const char *acme_challenge_name(acme_challenge_kind k) {
    return (unsigned)k < 3 ? challenge_names[k] : "?";
}

static acme_status status_fn(const char *body, size_t len) {
    return acme_json_status(body, len);
}

static char *new_order_payload(const acme_order_request *q) {
    cJSON *p = cJSON_CreateObject();
    cJSON *ids = cJSON_AddArrayToObject(p, "identifiers");
    for (size_t i = 0; i < q->n_names; i++) {
        cJSON *id = cJSON_CreateObject();
        cJSON_AddStringToObject(id, "type", cli_is_ip_literal(q->names[i]) ? "ip" : "dns");
        cJSON_AddStringToObject(id, "value", q->names[i]);
        cJSON_AddItemToArray(ids, id);
    }
    if (q->replaces && *q->replaces) cJSON_AddStringToObject(p, "replaces", q->replaces);
    char *s = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    return s;
}

/* The pending authorizations' tokens for the chosen challenge. */
typedef struct pending {
    acme_token *tokens;
    char (*challenge_url)[ACME_URL_MAX];
    char (*authz_url)[ACME_URL_MAX];
    size_t n;
} pending;

static void pending_free(pending *p) {
    if (p->tokens) crypto_zero(p->tokens, p->n * sizeof *p->tokens);
    free(p->tokens);
    free(p->challenge_url);
    free(p->authz_url);
}

static int collect(acme_client *c, const acme_order *ord, const acme_order_request *q, pending *p,
                   char *why, size_t cap) {
    const char *want = acme_challenge_name(q->challenge);
    char thumb[JWS_THUMBPRINT_LEN + 1];
    if (jws_thumbprint(c->key, thumb) != 0) {
        snprintf(why, cap, "cannot compute the account key's thumbprint");
        return -1;
    }
    size_t n = ord->n_authz ? ord->n_authz : 1;
    p->tokens = calloc(n, sizeof *p->tokens);
    p->challenge_url = calloc(n, sizeof *p->challenge_url);
    p->authz_url = calloc(n, sizeof *p->authz_url);
    if (!p->tokens || !p->challenge_url || !p->authz_url) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < ord->n_authz; i++) {
        acme_reply r;
        acme_authz az;
        char sub[512];
        if (acme_post(c, ord->authz[i], NULL, false, NULL, &r, why, cap) != 0) return -1;
        int pr = acme_parse_authz((const char *)r.http.body, r.http.body_len, &az, sub, sizeof sub);
        acme_reply_free(&r);
        if (pr != 0) {
            snprintf(why, cap, "%s: %s", ord->authz[i], sub);
            return -1;
        }
        if (az.status == ACME_STATUS_VALID) continue; /* authorized earlier */
        if (az.status != ACME_STATUS_PENDING) {
            snprintf(why, cap, "the authorization for %s is %s, not pending", az.id_value,
                     acme_status_name(az.status));
            return -1;
        }
        const acme_challenge *ch = NULL;
        for (size_t k = 0; k < az.n_challenges && !ch; k++)
            if (!strcmp(az.challenges[k].type, want) && az.challenges[k].token[0])
                ch = &az.challenges[k];
        if (!ch) {
            char offered[200] = "";
            for (size_t k = 0; k < az.n_challenges; k++)
                snprintf(offered + strlen(offered), sizeof offered - strlen(offered), "%s%s",
                         k ? ", " : "", az.challenges[k].type);
            snprintf(why, cap,
                     "the CA offers no %s challenge for %s (it offers: %s): choose one "
                     "of those with --challenge",
                     want, az.id_value, offered[0] ? offered : "none");
            return -1;
        }
        acme_token *t = &p->tokens[p->n];
        snprintf(t->ident, sizeof t->ident, "%s%.250s", az.wildcard ? "*." : "", az.id_value);
        t->is_ip = !strcmp(az.id_type, "ip");
        snprintf(t->token, sizeof t->token, "%s", ch->token);
        snprintf(t->key_authz, sizeof t->key_authz, "%s.%s", ch->token, thumb);
        strcpy(p->challenge_url[p->n], ch->url);
        strcpy(p->authz_url[p->n], ord->authz[i]);
        p->n++;
    }
    return 0;
}

static challenge_responder *start_responder(const acme_order_request *q, const pending *p,
                                            char *why, size_t cap) {
    switch (q->challenge) {
    case ACME_CHALLENGE_HTTP01:
        return challenge_http_start(&q->responder, p->tokens, p->n, why, cap);
    case ACME_CHALLENGE_TLS_ALPN01:
        return challenge_tls_alpn_start(&q->responder, p->tokens, p->n, why, cap);
    case ACME_CHALLENGE_DNS01:
        return challenge_dns_start(&q->responder, p->tokens, p->n, why, cap);
    }
    return NULL;
}

/* Tells the CA to validate each pending authorization, then waits for them. */
static int authorize(acme_client *c, const acme_order_request *q, const pending *p, char *why,
                     size_t cap) {
    for (size_t i = 0; i < p->n; i++) {
        acme_reply r;
        if (acme_post(c, p->challenge_url[i], "{}", false, NULL, &r, why, cap) != 0) return -1;
        acme_reply_free(&r);
    }
    for (size_t i = 0; i < p->n; i++) {
        acme_reply r;
        acme_authz az;
        char sub[512];
        if (acme_poll(c, p->authz_url[i], status_fn, &r, why, cap) != 0) return -1;
        int pr = acme_parse_authz((const char *)r.http.body, r.http.body_len, &az, sub, sizeof sub);
        acme_reply_free(&r);
        if (pr != 0) {
            snprintf(why, cap, "%s: %s", p->authz_url[i], sub);
            return -1;
        }
        if (az.status == ACME_STATUS_VALID) continue;
        const char *err = "";
        for (size_t k = 0; k < az.n_challenges; k++)
            if (az.challenges[k].error[0]) err = az.challenges[k].error;
        snprintf(why, cap, "the CA refused the %s challenge for %s (authorization %s): %s",
                 acme_challenge_name(q->challenge), p->tokens[i].ident, acme_status_name(az.status),
                 err[0] ? err : "no reason given");
        return -1;
    }
    return 0;
}

/* The CSR for the order's names. */
static int build_csr(const acme_order_request *q, char **b64) {
    const char *dns[ACME_MAX_IDENTIFIERS];
    x509_ip ips[ACME_MAX_IDENTIFIERS];
    size_t nd = 0, ni = 0;
    for (size_t i = 0; i < q->n_names && i < ACME_MAX_IDENTIFIERS; i++) {
        if (x509_parse_ip(q->names[i], &ips[ni]))
            ni++;
        else
            dns[nd++] = q->names[i];
    }
    uint8_t *der;
    size_t len;
    if (acme_csr_build(q->cert_key, dns, nd, ips, ni, &der, &len) != 0) return -1;
    size_t cap = len * 4 / 3 + 8;
    *b64 = malloc(cap);
    int r = *b64 ? b64url_encode(der, len, *b64, cap) : -1;
    free(der);
    if (r < 0) {
        free(*b64);
        *b64 = NULL;
        return -1;
    }
    return 0;
}

static int finalize(acme_client *c, const acme_order_request *q, const char *order_url,
                    acme_order *ord, char *why, size_t cap) {
    char *csr;
    if (build_csr(q, &csr) != 0) {
        snprintf(why, cap, "cannot build the certificate request");
        return -1;
    }
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "csr", csr);
    free(csr);
    char *payload = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    acme_reply r;
    int rc = payload ? acme_post(c, ord->finalize, payload, false, NULL, &r, why, cap) : -1;
    free(payload);
    if (rc != 0) return -1;
    acme_reply_free(&r);
    /* processing -> valid (Retry-After honoured by the poll) */
    if (acme_poll(c, order_url, status_fn, &r, why, cap) != 0) return -1;
    char sub[512];
    acme_order_free(ord);
    rc = acme_parse_order((const char *)r.http.body, r.http.body_len, ord, sub, sizeof sub);
    acme_reply_free(&r);
    if (rc != 0) {
        snprintf(why, cap, "the finalized order: %s", sub);
        return -1;
    }
    if (ord->status != ACME_STATUS_VALID) {
        snprintf(why, cap, "the order is %s after finalize: %s", acme_status_name(ord->status),
                 ord->error[0] ? ord->error : "no reason given");
        return -1;
    }
    return 0;
}

int acme_order_issue(acme_client *c, const acme_order_request *q, char **chain_pem, size_t *len,
                     char *why, size_t cap) {
    *chain_pem = NULL;
    char *payload = new_order_payload(q);
    acme_reply r;
    if (!payload || acme_post(c, c->dir.new_order, payload, false, NULL, &r, why, cap) != 0) {
        free(payload);
        return -1;
    }
    free(payload);
    char order_url[ACME_URL_MAX], sub[512];
    acme_order ord;
    snprintf(order_url, sizeof order_url, "%s", r.location);
    int rc = acme_parse_order((const char *)r.http.body, r.http.body_len, &ord, sub, sizeof sub);
    acme_reply_free(&r);
    if (rc != 0 || strncmp(order_url, "https://", 8) != 0) {
        snprintf(why, cap, "the new order: %s", rc ? sub : "no https Location");
        if (rc == 0) acme_order_free(&ord);
        return -1;
    }
    if (c->verbose) fprintf(stderr, "* order %s: %s\n", order_url, acme_status_name(ord.status));
    rc = -1;
    pending p = {0};
    if (ord.status == ACME_STATUS_PENDING) {
        if (collect(c, &ord, q, &p, why, cap) != 0) goto out;
        if (p.n > 0) {
            challenge_responder *resp = start_responder(q, &p, why, cap);
            if (!resp) goto out;
            int ar = authorize(c, q, &p, why, cap);
            challenge_stop(resp);
            if (ar != 0) goto out;
        }
        /* pending -> ready once every authorization is valid */
        if (acme_poll(c, order_url, status_fn, &r, why, cap) != 0) goto out;
        acme_order_free(&ord);
        int pr =
            acme_parse_order((const char *)r.http.body, r.http.body_len, &ord, sub, sizeof sub);
        acme_reply_free(&r);
        if (pr != 0) {
            snprintf(why, cap, "the order: %s", sub);
            goto out;
        }
    }
    if (ord.status == ACME_STATUS_READY) {
        if (finalize(c, q, order_url, &ord, why, cap) != 0) goto out;
    } else if (ord.status != ACME_STATUS_VALID) {
        snprintf(why, cap, "the order is %s: %s", acme_status_name(ord.status),
                 ord.error[0] ? ord.error : "no reason given");
        goto out;
    }
    if (acme_post(c, ord.certificate, NULL, false, "application/pem-certificate-chain", &r, why,
                  cap) != 0)
        goto out;
    *chain_pem = (char *)r.http.body; /* NUL-terminated by the client */
    *len = r.http.body_len;
    r.http.body = NULL;
    acme_reply_free(&r);
    rc = 0;
out:
    pending_free(&p);
    acme_order_free(&ord);
    return rc;
}
