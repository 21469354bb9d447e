/* tls-alpn-01 validation identities (see tls_alpn_validation.h). */
#include "acme/tls_alpn_validation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "crypto/ca_crypto.h"
#include "x509/issue.h"

typedef struct alpn_identity {
    certa_config *cfg;
    char sni[256]; /* the name the validator sends */
} alpn_identity;

struct tls_alpn_set {
    alpn_identity *ids;
    size_t n;
};

bool tls_alpn_offers_acme(const char *list) {
    size_t n = strlen(ACME_TLS_ALPN);
    for (const char *p = list; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len == n && !memcmp(p, ACME_TLS_ALPN, n)) return true;
        if (!end) break;
        p = end + 1;
    }
    return false;
}

certa_config *tls_alpn_set_match(const tls_alpn_set *s, const certa_fingerprint *fp,
                                 const char **why_not) {
    const alpn_identity *id = NULL;
    for (size_t i = 0; s && i < s->n && !id; i++)
        if (!strcasecmp(s->ids[i].sni, fp->server_name)) id = &s->ids[i];
    if (!id) {
        *why_not = "not one of our identifiers";
        return NULL;
    }
    if (!tls_alpn_offers_acme(fp->alpn)) {
        *why_not = "no acme-tls/1";
        return NULL;
    }
    *why_not = "";
    return id->cfg;
}

void tls_alpn_set_free(tls_alpn_set *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++)
        certa_config_free(s->ids[i].cfg);
    free(s->ids);
    free(s);
}

/* The validation certificate and key for one token (RFC 8737 §3), PEM. */
static int validation_identity(const acme_token *t, char **cert_pem, size_t *cert_len,
                               char **key_pem, size_t *key_len) {
    uint8_t digest[32], serial[X509_SERIAL_LEN];
    crypto_key *key = key_generate(KEYGEN_P256);
    if (!key) return -1;
    int rc = -1;
    x509_ip ip;
    const char *dns[1] = {t->ident};
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    if (hash_oneshot(HASH_SHA256, (const uint8_t *)t->key_authz, strlen(t->key_authz), digest) ==
            0 &&
        x509_random_serial(serial) == 0 && (!t->is_ip || x509_parse_ip(t->ident, &ip))) {
        int64_t now = (int64_t)time(NULL);
        p.serial = serial;
        p.serial_len = sizeof serial;
        p.subject_cn = "certa ACME tls-alpn-01 validation";
        p.not_before = now - 3600;
        p.not_after = now + 7 * 86400;
        p.server_auth = true;
        if (t->is_ip) {
            p.ips = &ip;
            p.n_ips = 1;
        } else {
            p.dns = dns;
            p.n_dns = 1;
        }
        p.acme_identifier = digest;
        uint8_t *der = NULL;
        size_t der_len;
        if (x509_issue(&p, key, key, &der, &der_len) == 0 &&
            x509_pem_encode("CERTIFICATE", der, der_len, cert_pem, cert_len) == 0) {
            if (key_private_pem(key, key_pem, key_len) == 0)
                rc = 0;
            else
                free(*cert_pem);
        }
        free(der);
    }
    key_free(key);
    return rc;
}

/* "1.0.0.127.in-addr.arpa" / the ip6.arpa nibbles (RFC 8738 §6). */
static bool reverse_name(const char *ip_text, char *out, size_t cap) {
    x509_ip ip;
    if (!x509_parse_ip(ip_text, &ip) || cap < 80) return false;
    size_t n = 0;
    out[0] = 0;
    if (ip.len == 4) {
        snprintf(out, cap, "%u.%u.%u.%u.in-addr.arpa", ip.addr[3], ip.addr[2], ip.addr[1],
                 ip.addr[0]);
        return true;
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        out[n++] = hex[ip.addr[i] & 15];
        out[n++] = '.';
        out[n++] = hex[ip.addr[i] >> 4];
        out[n++] = '.';
    }
    snprintf(out + n, cap - n, "ip6.arpa");
    return true;
}

tls_alpn_set *tls_alpn_set_new(const acme_token *t, size_t n, char *why, size_t cap) {
    tls_alpn_set *s = calloc(1, sizeof *s);
    if (s) s->ids = calloc(n ? n : 1, sizeof *s->ids);
    if (!s || !s->ids) {
        free(s);
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    int r = CERTA_OK;
    const char *detail = "";
    for (size_t i = 0; i < n && r == CERTA_OK; i++) {
        alpn_identity *id = &s->ids[i];
        if (t[i].is_ip) {
            if (!reverse_name(t[i].ident, id->sni, sizeof id->sni)) {
                r = CERTA_E_INVALID_ARGUMENT;
                break;
            }
        } else {
            snprintf(id->sni, sizeof id->sni, "%s", t[i].ident);
        }
        s->n = i + 1;
        id->cfg = certa_config_new();
        r = id->cfg ? certa_config_set_alpn(id->cfg, ACME_TLS_ALPN) : CERTA_E_NOMEM;
        if (r == CERTA_OK) certa_config_set_cert_compression(id->cfg, "off");
        char *cert, *key;
        size_t cl, kl;
        if (r == CERTA_OK && validation_identity(&t[i], &cert, &cl, &key, &kl) != 0)
            r = CERTA_E_INTERNAL;
        else if (r == CERTA_OK) {
            r = certa_config_set_cert_chain_pem(id->cfg, cert, cl);
            if (r == CERTA_OK) r = certa_config_set_private_key_pem(id->cfg, key, kl);
            crypto_zero(key, kl);
            free(key);
            free(cert);
        }
        if (r != CERTA_OK && id->cfg) detail = certa_config_error_text(id->cfg);
    }
    if (r != CERTA_OK) {
        snprintf(why, cap, "tls-alpn-01: cannot make the validation certificates: %s",
                 *detail ? detail : certa_error_text(r));
        tls_alpn_set_free(s);
        return NULL;
    }
    return s;
}
