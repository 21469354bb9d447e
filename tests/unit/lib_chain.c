/* Test helper: certificate hierarchies made with libcrypto's X509 API. */
#include "lib_chain.h"
#include "lib_certs.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "x509/cert.h"

chain_opts chain_ca_opts(const char *cn) {
    return (chain_opts){.cn = cn,
                        .org = "Certa Tests",
                        .ca = 1,
                        .path_len = -1,
                        .key_usage = "critical,keyCertSign,cRLSign"};
}

chain_opts chain_leaf_opts(const char *cn, const char *san) {
    return (chain_opts){.cn = cn,
                        .org = "Certa Tests",
                        .ca = 0,
                        .path_len = -1,
                        .key_usage = "critical,digitalSignature",
                        .eku = "serverAuth",
                        .san = san};
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value) {
    if (!value) return 0;
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, ctx, nid, value);
    if (!ext) {
        fprintf(stderr, "lib_chain: bad extension %s = %s\n", OBJ_nid2sn(nid), value);
        ERR_print_errors_fp(stderr);
        return -1;
    }
    int ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static char *to_pem(X509 *x) {
    BIO *b = BIO_new(BIO_s_mem());
    if (!b) return NULL;
    char *out = NULL;
    if (PEM_write_bio_X509(b, x)) {
        char *data;
        long len = BIO_get_mem_data(b, &data);
        if (len >= 0 && (out = malloc((size_t)len + 1)) != NULL) {
            memcpy(out, data, (size_t)len);
            out[len] = '\0';
        }
    }
    BIO_free(b);
    return out;
}

int tc_make(test_cert *out, const chain_opts *o, const test_cert *issuer) {
    static long serial = 1000;
    memset(out, 0, sizeof *out);
    const char *kind = o->key ? o->key : "p256";
    EVP_PKEY *key = test_make_key(kind);
    X509 *x = X509_new();
    if (!key || !x) goto fail;
    bool self = o->self_signed || !issuer;
    X509 *ix = self ? x : issuer->x509;
    EVP_PKEY *ikey = self ? key : issuer->key;

    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), ++serial);
    int64_t now = (int64_t)time(NULL);
    int64_t nb = o->not_before ? o->not_before : now - 3600;
    int64_t na = o->not_after ? o->not_after : now + 30 * 86400;
    if (!ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) ||
        !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na))
        goto fail;
    X509_NAME *name = X509_get_subject_name(x);
    if (o->org && !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                                              (const unsigned char *)o->org, -1, -1, 0))
        goto fail;
    if (o->cn && !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                             (const unsigned char *)o->cn, -1, -1, 0))
        goto fail;
    if (!X509_set_issuer_name(x, X509_get_subject_name(ix)) || !X509_set_pubkey(x, key)) goto fail;

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ix, x, NULL, NULL, 0);
    if (o->ca >= 0) {
        char bc[64];
        if (o->path_len >= 0)
            snprintf(bc, sizeof bc, "critical,CA:%s,pathlen:%d", o->ca ? "TRUE" : "FALSE",
                     o->path_len);
        else
            snprintf(bc, sizeof bc, "%sCA:%s", o->ca ? "critical," : "", o->ca ? "TRUE" : "FALSE");
        if (add_ext(x, &ctx, NID_basic_constraints, bc)) goto fail;
    }
    if (add_ext(x, &ctx, NID_key_usage, o->key_usage) ||
        add_ext(x, &ctx, NID_ext_key_usage, o->eku) ||
        add_ext(x, &ctx, NID_subject_alt_name, o->san) ||
        add_ext(x, &ctx, NID_name_constraints, o->name_constraints) ||
        add_ext(x, &ctx, NID_tlsfeature, o->tls_feature) ||
        add_ext(x, &ctx, NID_info_access, o->aia) ||
        add_ext(x, &ctx, NID_subject_key_identifier, "hash"))
        goto fail;
    if (!self && add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always")) goto fail;

    const char *md = test_cert_md(self ? kind : issuer->kind);
    if (X509_sign(x, ikey, o->sha1 ? EVP_sha1() : md ? EVP_get_digestbyname(md) : NULL) <= 0)
        goto fail;

    int dl = i2d_X509(x, NULL);
    if (dl <= 0) goto fail;
    out->der = malloc((size_t)dl);
    if (!out->der) goto fail;
    uint8_t *p = out->der;
    i2d_X509(x, &p);
    out->der_len = (size_t)dl;
    out->pem = to_pem(x);
    if (!out->pem) goto fail;
    x509_cert parsed;
    if (x509_parse(&parsed, out->der, out->der_len) != 0 ||
        x509_name_to_string(&parsed.subject, out->subject, sizeof out->subject) != 0) {
        fprintf(stderr, "lib_chain: certa cannot parse the certificate for %s\n",
                o->cn ? o->cn : "?");
        goto fail;
    }
    out->x509 = x;
    out->key = key;
    out->kind = kind;
    return 0;
fail:
    fprintf(stderr, "lib_chain: cannot make the certificate for %s\n", o->cn ? o->cn : "?");
    ERR_print_errors_fp(stderr);
    free(out->der);
    free(out->pem);
    memset(out, 0, sizeof *out);
    X509_free(x);
    EVP_PKEY_free(key);
    return -1;
}

void tc_free(test_cert *c) {
    if (!c) return;
    X509_free(c->x509);
    EVP_PKEY_free(c->key);
    free(c->der);
    free(c->pem);
    memset(c, 0, sizeof *c);
}

int chain_make(test_chain *c, const chain_opts *root, const chain_opts *inter,
               const chain_opts *leaf) {
    memset(c, 0, sizeof *c);
    chain_opts r = root ? *root : chain_ca_opts("Test Root CA");
    chain_opts i = inter ? *inter : chain_ca_opts("Test Intermediate CA");
    chain_opts l = leaf ? *leaf : chain_leaf_opts("leaf.example.com", "DNS:leaf.example.com");
    r.self_signed = true;
    if (tc_make(&c->root, &r, NULL) || tc_make(&c->inter, &i, &c->root) ||
        tc_make(&c->leaf, &l, &c->inter)) {
        chain_free(c);
        return -1;
    }
    return 0;
}

void chain_free(test_chain *c) {
    if (!c) return;
    tc_free(&c->root);
    tc_free(&c->inter);
    tc_free(&c->leaf);
}
