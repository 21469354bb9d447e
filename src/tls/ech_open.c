/* The client-facing server's half of ECH (RFC 9849 §5, §7.1): open the
 * ClientHelloOuter's encrypted_client_hello with one of our keys, then turn
 * the EncodedClientHelloInner back into ClientHelloInner — the outer
 * legacy_session_id, ech_outer_extensions expanded from the outer hello in
 * one linear pass (Appendix A of the RFC), padding checked zero — and check
 * that it is an inner hello that offers TLS 1.3 only. */
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tls/ech_open.h"
#include "tls/tls.h"

#define ECH_MAX_HELLO_EXTENSIONS 128
#define ECH_INFO_PREFIX "tls ech" /* and a zero byte */
#define ECH_TYPE_OUTER 0
#define ECH_TYPE_INNER 1

/* A ClientHello's fields, split but not interpreted. */
typedef struct hello_view {
    const uint8_t *head; /* legacy_version and random: 34 bytes */
    cursor session_id, cipher_suites, compression;
    size_t n_ext;
    uint16_t type[ECH_MAX_HELLO_EXTENSIONS];
    cursor body[ECH_MAX_HELLO_EXTENSIONS];
    cursor whole[ECH_MAX_HELLO_EXTENSIONS]; /* type, length and body */
    cursor rest;                            /* after the extensions */
} hello_view;

static int hello_split(const uint8_t *msg, size_t len, hello_view *h) {
    cursor c, exts;
    cur_init(&c, msg, len);
    h->n_ext = 0;
    if (!cur_bytes(&c, 34, &h->head) || !cur_vec8(&c, &h->session_id) || h->session_id.len > 32 ||
        !cur_vec16(&c, &h->cipher_suites) || !cur_vec8(&c, &h->compression) ||
        !cur_vec16(&c, &exts))
        return -1;
    while (!cur_empty(&exts)) {
        if (h->n_ext == ECH_MAX_HELLO_EXTENSIONS) return -1;
        const uint8_t *start = exts.data;
        if (!cur_u16(&exts, &h->type[h->n_ext]) || !cur_vec16(&exts, &h->body[h->n_ext])) return -1;
        cur_init(&h->whole[h->n_ext], start, 4 + h->body[h->n_ext].len);
        h->n_ext++;
    }
    h->rest = c;
    return 0;
}

typedef struct ech_outer_ext {
    ech_suite suite;
    uint8_t config_id;
    cursor enc, payload;
} ech_outer_ext;

static int fail(const char **why, const char *sentence, int alert) {
    *why = sentence;
    return -alert;
}

/* ---- rebuilding ClientHelloInner ---- */

typedef struct inner_checks {
    bool ech_inner, versions_seen, outer_used;
} inner_checks;

/* supported_versions of a ClientHello: TLS 1.3 or later only (GREASE
 * values, 0x?a?a, are above 0x0304 too). */
static bool only_tls13_or_later(cursor body) {
    cursor list;
    if (!cur_vec8(&body, &list) || !cur_empty(&body) || list.len == 0 || list.len % 2 != 0)
        return false;
    uint16_t v;
    while (cur_u16(&list, &v))
        if (v < 0x0304) return false;
    return true;
}

/* Appends one extension of the rebuilt hello, with the checks on it. */
static int put_ext(builder *b, uint16_t type, cursor body, cursor whole, inner_checks *chk,
                   const char **why) {
    if (type == EXT_SUPPORTED_VERSIONS) {
        if (!only_tls13_or_later(body))
            return fail(why, "the ClientHelloInner offers TLS 1.2 or earlier (RFC 9849 §7.1)",
                        ALERT_ILLEGAL_PARAMETER);
        chk->versions_seen = true;
    }
    bld_bytes(b, whole.data, whole.len);
    return 0;
}

/* ech_outer_extensions: each referenced type is the next extension of that
 * type in the outer hello, in order, each at most once, never ECH itself. */
static int expand_outer(builder *b, cursor body, const hello_view *outer, inner_checks *chk,
                        const char **why) {
    cursor list;
    if (chk->outer_used)
        return fail(why, "the EncodedClientHelloInner has two ech_outer_extensions",
                    ALERT_ILLEGAL_PARAMETER);
    chk->outer_used = true;
    if (!cur_vec8(&body, &list) || !cur_empty(&body) || list.len < 2 || list.len % 2 != 0)
        return fail(why, "the ech_outer_extensions list is malformed", ALERT_DECODE_ERROR);
    size_t i = 0;
    uint16_t want;
    while (cur_u16(&list, &want)) {
        if (want == ECH_VERSION)
            return fail(why, "ech_outer_extensions refers to encrypted_client_hello",
                        ALERT_ILLEGAL_PARAMETER);
        while (i < outer->n_ext && outer->type[i] != want)
            i++;
        if (i == outer->n_ext)
            return fail(why,
                        "ech_outer_extensions refers to an extension the ClientHelloOuter does "
                        "not have (or has earlier, or only once)",
                        ALERT_ILLEGAL_PARAMETER);
        int rc = put_ext(b, want, outer->body[i], outer->whole[i], chk, why);
        if (rc != 0) return rc;
        i++;
    }
    return 0;
}

static int decode_inner(const uint8_t *encoded, size_t len, const hello_view *outer, builder *b,
                        const char **why) {
    hello_view *in = malloc(sizeof *in);
    int rc = 0;
    if (in == NULL)
        return fail(why, "out of memory decoding ClientHelloInner", ALERT_INTERNAL_ERROR);
    if (hello_split(encoded, len, in) != 0) {
        rc = fail(why, "the EncodedClientHelloInner is not a ClientHello", ALERT_DECODE_ERROR);
        goto out;
    }
    if (in->session_id.len != 0) {
        rc = fail(why, "the EncodedClientHelloInner has a legacy_session_id (it must be empty)",
                  ALERT_ILLEGAL_PARAMETER);
        goto out;
    }
    uint8_t any = 0;
    for (size_t i = 0; i < in->rest.len; i++)
        any |= in->rest.data[i];
    if (any != 0) {
        rc = fail(why, "the EncodedClientHelloInner's padding is not all zeros",
                  ALERT_ILLEGAL_PARAMETER);
        goto out;
    }
    inner_checks chk = {false, false, false};
    bld_bytes(b, in->head, 34);
    bld_open(b, 1);
    bld_bytes(b, outer->session_id.data, outer->session_id.len);
    bld_close(b);
    bld_open(b, 2);
    bld_bytes(b, in->cipher_suites.data, in->cipher_suites.len);
    bld_close(b);
    bld_open(b, 1);
    bld_bytes(b, in->compression.data, in->compression.len);
    bld_close(b);
    bld_open(b, 2);
    for (size_t i = 0; i < in->n_ext && rc == 0; i++) {
        if (in->type[i] == EXT_ECH_OUTER_EXTENSIONS) {
            rc = expand_outer(b, in->body[i], outer, &chk, why);
            continue;
        }
        if (in->type[i] == ECH_VERSION) {
            if (in->body[i].len != 1 || in->body[i].data[0] != ECH_TYPE_INNER || chk.ech_inner) {
                rc = fail(why,
                          "the ClientHelloInner's encrypted_client_hello is not one of type inner",
                          ALERT_ILLEGAL_PARAMETER);
                break;
            }
            chk.ech_inner = true;
        }
        rc = put_ext(b, in->type[i], in->body[i], in->whole[i], &chk, why);
    }
    bld_close(b);
    if (rc == 0 && !chk.ech_inner)
        rc = fail(why, "the ClientHelloInner has no encrypted_client_hello of type inner",
                  ALERT_ILLEGAL_PARAMETER);
    if (rc == 0 && !chk.versions_seen)
        rc = fail(why, "the ClientHelloInner has no supported_versions (it offers TLS 1.2)",
                  ALERT_ILLEGAL_PARAMETER);
    if (rc == 0 && !bld_ok(b))
        rc = fail(why, "the ClientHelloInner does not fit its buffer", ALERT_INTERNAL_ERROR);
out:
    crypto_zero(in, sizeof *in);
    free(in);
    return rc;
}

/* ---- opening ---- */

static int parse_ech_ext(cursor body, ech_outer_ext *e, const char **why) {
    uint8_t type;
    if (!cur_u8(&body, &type))
        return fail(why, "the encrypted_client_hello extension is empty", ALERT_DECODE_ERROR);
    if (type == ECH_TYPE_INNER)
        return fail(why, "a ClientHello from the network has an inner encrypted_client_hello",
                    ALERT_ILLEGAL_PARAMETER);
    if (type != ECH_TYPE_OUTER)
        return fail(why, "the encrypted_client_hello type is neither outer nor inner",
                    ALERT_ILLEGAL_PARAMETER);
    if (!cur_u16(&body, &e->suite.kdf) || !cur_u16(&body, &e->suite.aead) ||
        !cur_u8(&body, &e->config_id) || !cur_vec16(&body, &e->enc) ||
        !cur_vec16(&body, &e->payload) || e->payload.len == 0 || !cur_empty(&body))
        return fail(why, "the encrypted_client_hello extension is malformed", ALERT_DECODE_ERROR);
    return 0;
}

static bool key_has_suite(const ech_key *k, ech_suite s) {
    if (!hpke_suite_supported(s.kdf, s.aead)) return false;
    for (size_t i = 0; i < k->config.n_suites; i++)
        if (k->config.suites[i].kdf == s.kdf && k->config.suites[i].aead == s.aead) return true;
    return false;
}

/* SetupBaseR with this key and Open; on failure ctx is wiped. */
static bool try_key(const ech_key *k, const ech_outer_ext *e, const uint8_t *aad, size_t aad_len,
                    uint8_t *pt, hpke_ctx *ctx) {
    uint8_t info[sizeof ECH_INFO_PREFIX + sizeof k->config_storage];
    if (!key_has_suite(k, e->suite) || k->config.raw_len > sizeof k->config_storage) return false;
    memcpy(info, ECH_INFO_PREFIX, sizeof ECH_INFO_PREFIX); /* with its NUL: the zero byte */
    memcpy(info + sizeof ECH_INFO_PREFIX, k->config.raw, k->config.raw_len);
    bool ok = hpke_setup_base_recipient_key(ctx, k->hpke, e->suite.kdf, e->suite.aead, e->enc.data,
                                            e->enc.len, info,
                                            sizeof ECH_INFO_PREFIX + k->config.raw_len) == 0 &&
              hpke_open(ctx, aad, aad_len, e->payload.data, e->payload.len, pt) == 0;
    if (!ok) hpke_ctx_wipe(ctx);
    return ok;
}

/* The first ClientHello: the keys for its config_id, then a few others. */
static bool open_first(const ech_key *keys, size_t n_keys, bool trial, const ech_outer_ext *e,
                       const uint8_t *aad, size_t aad_len, uint8_t *pt, hpke_ctx *ctx) {
    for (size_t i = 0; i < n_keys; i++)
        if (keys[i].config.config_id == e->config_id && try_key(&keys[i], e, aad, aad_len, pt, ctx))
            return true;
    /* RFC 9849 §7.1 allows trying the others (for clients that randomize
     * config_id), but then every GREASE hello costs a DH per key: opt-in. */
    if (!trial) return false;
    size_t tried = 0;
    for (size_t i = 0; i < n_keys && tried < ECH_TRIAL_MAX; i++) {
        if (keys[i].config.config_id == e->config_id || !key_has_suite(&keys[i], e->suite))
            continue;
        tried++;
        if (try_key(&keys[i], e, aad, aad_len, pt, ctx)) return true;
    }
    return false;
}

int ech_open_client_hello(const ech_key *keys, size_t n_keys, const uint8_t *outer,
                          size_t outer_len, bool first, bool trial, ech_open_state *st,
                          builder *inner, const char **why) {
    static const char *ignored;
    if (why == NULL) why = &ignored;
    *why = NULL;
    if (outer == NULL || inner == NULL || (keys == NULL && n_keys > 0) || (!first && st == NULL))
        return fail(why, "ech_open_client_hello was called without its arguments",
                    ALERT_INTERNAL_ERROR);
    hello_view *ov = malloc(sizeof *ov);
    uint8_t *aad = NULL, *pt = NULL;
    size_t pt_len = 0;
    int rc;
    if (ov == NULL) return fail(why, "out of memory opening ECH", ALERT_INTERNAL_ERROR);
    if (hello_split(outer, outer_len, ov) != 0 || !cur_empty(&ov->rest)) {
        rc = fail(why, "the ClientHelloOuter is malformed", ALERT_DECODE_ERROR);
        goto out;
    }
    size_t at = ov->n_ext;
    for (size_t i = 0; i < ov->n_ext; i++) {
        if (ov->type[i] != ECH_VERSION) continue;
        if (at != ov->n_ext) {
            rc = fail(why, "the ClientHello has two encrypted_client_hello extensions",
                      ALERT_ILLEGAL_PARAMETER);
            goto out;
        }
        at = i;
    }
    bool have_context = st != NULL && st->have_context;
    if (at == ov->n_ext) {
        rc = first || !have_context
                 ? ECH_OPEN_ABSENT
                 : fail(why,
                        "the second ClientHello has no encrypted_client_hello, but the first's "
                        "was accepted",
                        ALERT_MISSING_EXTENSION);
        goto out;
    }
    ech_outer_ext e;
    rc = parse_ech_ext(ov->body[at], &e, why);
    if (rc != 0) goto out;
    if (!first && !have_context) {
        *why = "ECH was not accepted for the first ClientHello: the second is not decrypted";
        rc = ECH_OPEN_NOT_DECRYPTED;
        goto out;
    }
    if (!first && (e.suite.kdf != st->suite.kdf || e.suite.aead != st->suite.aead ||
                   e.config_id != st->config_id || e.enc.len != 0)) {
        rc = fail(why,
                  "the second ClientHello's encrypted_client_hello changed its cipher suite or "
                  "config_id, or has an enc",
                  ALERT_ILLEGAL_PARAMETER);
        goto out;
    }

    /* ClientHelloOuterAAD: the outer hello with the payload's bytes zeroed. */
    aad = malloc(outer_len);
    if (aad == NULL) {
        rc = fail(why, "out of memory opening ECH", ALERT_INTERNAL_ERROR);
        goto out;
    }
    memcpy(aad, outer, outer_len);
    memset(aad + (size_t)(e.payload.data - outer), 0, e.payload.len);
    bool opened = false;
    hpke_ctx ctx;
    if (e.payload.len >= HPKE_TAG) {
        pt_len = e.payload.len - HPKE_TAG;
        pt = malloc(pt_len > 0 ? pt_len : 1);
        if (pt == NULL) {
            rc = fail(why, "out of memory opening ECH", ALERT_INTERNAL_ERROR);
            goto out;
        }
        if (first)
            opened = open_first(keys, n_keys, trial, &e, aad, outer_len, pt, &ctx);
        else
            opened = hpke_open(&st->hpke, aad, outer_len, e.payload.data, e.payload.len, pt) == 0;
    }
    if (!opened) {
        if (first) {
            *why = "no ECH key opened the encrypted_client_hello (another or an old ECHConfig, "
                   "or GREASE): going on with ClientHelloOuter";
            rc = ECH_OPEN_NOT_DECRYPTED;
        } else {
            rc = fail(why, "the second ClientHello's encrypted_client_hello does not decrypt",
                      ALERT_DECRYPT_ERROR);
        }
        goto out;
    }
    if (first && st != NULL) {
        st->hpke = ctx;
        st->suite = e.suite;
        st->config_id = e.config_id;
        st->have_context = true;
    }
    if (first) hpke_ctx_wipe(&ctx);
    rc = decode_inner(pt, pt_len, ov, inner, why);
    if (rc == 0) *why = "ECH accepted: ClientHelloInner decrypted";
out:
    if (pt != NULL) {
        crypto_zero(pt, pt_len);
        free(pt);
    }
    free(aad);
    free(ov);
    return rc;
}

int ech_key_init(ech_key *k, const uint8_t *private_key, size_t private_key_len,
                 const uint8_t *ech_config, size_t config_len) {
    if (k == NULL) return -1;
    memset(k, 0, sizeof *k);
    const uint8_t *pk = NULL;
    size_t pk_len = 0;
    if (private_key == NULL || ech_config == NULL || config_len > sizeof k->config_storage ||
        private_key_len > sizeof k->private_key)
        return -1;
    memcpy(k->config_storage, ech_config, config_len);
    if (ech_config_parse(k->config_storage, config_len, &k->config) != 0 ||
        !hpke_kem_supported(k->config.kem) ||
        private_key_len != hpke_kem_private_len(k->config.kem) ||
        (k->hpke = hpke_key_new(k->config.kem, private_key, private_key_len)) == NULL ||
        (pk = hpke_key_public(k->hpke, &pk_len)) == NULL || k->config.public_key_len != pk_len ||
        memcmp(pk, k->config.public_key, k->config.public_key_len) != 0) {
        ech_key_wipe(k);
        return -1;
    }
    memcpy(k->private_key, private_key, private_key_len);
    k->private_key_len = private_key_len;
    k->retry = true;
    return 0;
}

void ech_key_wipe(ech_key *k) {
    if (k == NULL) return;
    hpke_key_free(k->hpke);
    crypto_zero(k, sizeof *k);
}
