/* ACME accounts (see acme_account.h). */
#include "acme/acme_account.h"

#include "acme/jws.h"
#include "common/atomic_write.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/ca_crypto.h"
#include "x509/pem.h"

int acme_account_key_write(const char *path, crypto_key *key, char *why, size_t cap) {
    char *pem;
    size_t len;
    if (key_private_pem(key, &pem, &len) != 0) {
        snprintf(why, cap, "cannot encode the account key");
        return -1;
    }
    int r = atomic_write_file(path, pem, len, 0600, why, cap);
    crypto_zero(pem, len);
    free(pem);
    return r;
}

crypto_key *acme_account_key_load(const char *path, bool create, bool *created, char *why,
                                  size_t cap) {
    *created = false;
    char *pem;
    size_t len;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT) {
        if (!create) {
            snprintf(why, cap, "no account key at %s", path);
            return NULL;
        }
        crypto_key *key = key_generate(KEYGEN_P256);
        if (!key) {
            snprintf(why, cap, "cannot generate an account key");
            return NULL;
        }
        if (acme_account_key_write(path, key, why, cap) != 0) {
            key_free(key);
            return NULL;
        }
        *created = true;
        return key;
    }
    if (read_file(path, &pem, &len) != 0) {
        snprintf(why, cap, "cannot read the account key %s: %s", path, strerror(errno));
        return NULL;
    }
    crypto_key *key = key_from_pem(pem, len);
    crypto_zero(pem, len);
    free(pem);
    char jwk[JWS_JWK_MAX];
    if (!key || jws_jwk(key, jwk, sizeof jwk) != 0 || !strstr(jwk, "P-256")) {
        snprintf(why, cap, "%s is not an EC P-256 private key (ACME accounts here sign ES256)",
                 path);
        key_free(key);
        return NULL;
    }
    if ((st.st_mode & 077) != 0)
        fprintf(stderr,
                "certa: WARNING: the account key %s is readable by others (mode %03o): "
                "chmod 600 it\n",
                path, (unsigned)(st.st_mode & 0777));
    return key;
}

/* The externalAccountBinding member (§7.3.4): HS256 over the account JWK. */
static cJSON *eab_binding(acme_client *c, const acme_account_opts *o, char *why, size_t cap) {
    uint8_t mac_key[256];
    int n = b64url_decode(o->eab_hmac, strlen(o->eab_hmac), mac_key, sizeof mac_key);
    if (n <= 0) {
        snprintf(why, cap, "--eab-hmac is not a base64url key");
        return NULL;
    }
    char jwk[JWS_JWK_MAX];
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "alg", "HS256");
    cJSON_AddStringToObject(p, "kid", o->eab_kid);
    cJSON_AddStringToObject(p, "url", c->dir.new_account);
    char *prot = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    char *jws = NULL;
    if (prot && jws_jwk(c->key, jwk, sizeof jwk) == 0)
        jws = jws_sign_hs256(mac_key, (size_t)n, prot, jwk);
    crypto_zero(mac_key, sizeof mac_key);
    free(prot);
    cJSON *out = jws ? cJSON_Parse(jws) : NULL;
    free(jws);
    if (!out) snprintf(why, cap, "cannot build the External Account Binding");
    return out;
}

int acme_account_register(acme_client *c, const acme_account_opts *o, acme_status *status,
                          bool *created, char *why, size_t cap) {
    *created = false;
    if (!o->only_existing && c->dir.terms_of_service[0] && !o->agree_tos) {
        snprintf(why, cap,
                 "the CA has terms of service (%s): read them and pass --agree-tos to agree",
                 c->dir.terms_of_service);
        return -1;
    }
    if (!o->only_existing && c->dir.eab_required && !o->eab_kid) {
        snprintf(why, cap,
                 "this CA requires External Account Binding: pass --eab-kid and "
                 "--eab-hmac (from the CA's account page)");
        return -1;
    }
    cJSON *p = cJSON_CreateObject();
    if (o->only_existing) {
        cJSON_AddTrueToObject(p, "onlyReturnExisting");
    } else {
        if (o->agree_tos) cJSON_AddTrueToObject(p, "termsOfServiceAgreed");
        if (o->email) {
            char mailto[320];
            snprintf(mailto, sizeof mailto, "mailto:%s", o->email);
            cJSON *contact = cJSON_AddArrayToObject(p, "contact");
            cJSON_AddItemToArray(contact, cJSON_CreateString(mailto));
        }
        if (o->eab_kid) {
            cJSON *eab = eab_binding(c, o, why, cap);
            if (!eab) {
                cJSON_Delete(p);
                return -1;
            }
            cJSON_AddItemToObject(p, "externalAccountBinding", eab);
        }
    }
    char *payload = cJSON_PrintUnformatted(p);
    cJSON_Delete(p);
    if (!payload) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    acme_reply r;
    int rc = acme_post(c, c->dir.new_account, payload, true, NULL, &r, why, cap);
    free(payload);
    if (rc != 0) return -1;
    rc = -1;
    if (!r.location[0] || strncmp(r.location, "https://", 8) != 0)
        snprintf(why, cap, "the CA's newAccount answer has no https Location (account URL)");
    else if (acme_parse_account_status((const char *)r.http.body, r.http.body_len, status, why,
                                       cap) == 0) {
        snprintf(c->kid, sizeof c->kid, "%s", r.location);
        *created = r.status == 201;
        rc = 0;
    }
    acme_reply_free(&r);
    return rc;
}

int acme_account_rollover(acme_client *c, crypto_key *new_key, char *why, size_t cap) {
    if (!c->dir.key_change[0]) {
        snprintf(why, cap,
                 "the CA's directory has no keyChange URL: it does not support key "
                 "rollover");
        return -1;
    }
    char old_jwk[JWS_JWK_MAX], new_jwk[JWS_JWK_MAX];
    if (jws_jwk(c->key, old_jwk, sizeof old_jwk) != 0 ||
        jws_jwk(new_key, new_jwk, sizeof new_jwk) != 0) {
        snprintf(why, cap, "the new account key is not an EC key");
        return -1;
    }
    /* Inner JWS: signed by the new key, jwk = the new key, no nonce. */
    cJSON *ip = cJSON_CreateObject();
    cJSON_AddStringToObject(ip, "alg", "ES256");
    cJSON_AddItemToObject(ip, "jwk", cJSON_Parse(new_jwk));
    cJSON_AddStringToObject(ip, "url", c->dir.key_change);
    cJSON *pl = cJSON_CreateObject();
    cJSON_AddStringToObject(pl, "account", c->kid);
    cJSON_AddItemToObject(pl, "oldKey", cJSON_Parse(old_jwk));
    char *prot = cJSON_PrintUnformatted(ip), *payload = cJSON_PrintUnformatted(pl);
    cJSON_Delete(ip);
    cJSON_Delete(pl);
    char *inner = prot && payload ? jws_sign_es256(new_key, prot, payload) : NULL;
    free(prot);
    free(payload);
    if (!inner) {
        snprintf(why, cap, "cannot sign the key change with the new key");
        return -1;
    }
    acme_reply r;
    int rc = acme_post(c, c->dir.key_change, inner, false, NULL, &r, why, cap);
    free(inner);
    if (rc != 0) return -1;
    acme_reply_free(&r);
    c->key = new_key;
    return 0;
}
