/* X.509 path validation (RFC 5280 §6, with the Web PKI profile where the
 * two differ): path building by bounded depth-first backtracking from the
 * leaf through an unordered pool of intermediates to a trust anchor, and a
 * sentence for the failure that explains the most.
 *
 * Per certificate: DER and extensions strictly parsed, no unknown critical
 * extension, validity at the validation time, key policy (RSA >= 2048,
 * named NIST curves, Ed25519), signature algorithm consistency; issuers
 * need critical basicConstraints cA, keyCertSign when keyUsage is present,
 * a subjectKeyIdentifier, an extKeyUsage (if any) allowing the purpose, and
 * their pathLenConstraint respected. Per path: signatures (SHA-1 refused;
 * the anchor's own signature is not checked) and name constraints applied
 * to the names of every certificate below the constraining CA. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certa.h"
#include "crypto/crypto.h"
#include "wire/der.h"
#include "x509/cert.h"
#include "x509/crl.h"
#include "x509/ocsp.h"
#include "x509/extensions.h"
#include "x509/names.h"
#include "x509/trust.h"
#include "x509/verify.h"

#define DEFAULT_MAX_DEPTH 10
#define DEFAULT_MAX_WORK 1000
#define MAX_STEPS 20000      /* path-building node expansions */
#define MAX_NC_CHECKS 262144 /* name x subtree comparisons per path */
#define MAX_NODES 4096

enum { SIG_UNKNOWN = 0, SIG_OK, SIG_BAD, SIG_WEAK, SIG_UNSUPPORTED };

typedef struct node {
    x509_cert cert;
    x509_exts ext;
    bool parsed;
    bool anchor;
    bool self_issued; /* subject == issuer */
    bool skip;        /* a duplicate of another node */
    size_t index;     /* input chain index, or SIZE_MAX for anchors */
    crypto_key *key;
    bool key_loaded;
    int check;     /* -1 not yet, else CERTA_OK or the code */
    char why[200]; /* the failed check, after the certificate's description */
    char subject[256];
} node;

typedef struct vctx {
    node *nodes;
    size_t n;
    const certa_verify_params *p;
    int64_t now;
    unsigned max_inter; /* logical intermediates allowed */
    unsigned work, max_work;
    unsigned long steps;
    unsigned long nc_checks;
    uint8_t *sig;   /* n x n: SIG_* of child (row) by issuer (column) */
    uint8_t *memo;  /* failed (node, depth, nsi) */
    uint8_t *named; /* n x n: 0 unknown, 1 child's issuer names the candidate, 2 not */
    size_t path[CERTA_MAX_PATH];
    bool aborted;
    unsigned loop_skips, final_fails;
    int best_code, best_depth;
    char best[512];
    x509_crl *crls; /* params->crl_count, parsed */
    bool *crl_ok;
    crl_index *const *ix; /* prepared CRLs (a config's set), or NULL */
    bool leaf_is_anchor;  /* the leaf is itself trusted (directly pinned by the user) */
    uint32_t unknown;     /* path positions whose revocation status is unknown */
    char unknown_text[384];
} vctx;

/* ---- text ---------------------------------------------------------------- */

static void civil(int64_t t, char *out, size_t cap) {
    int64_t z = (t >= 0 ? t : t - 86399) / 86400 + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    if (m <= 2) y++;
    int64_t secs = ((t % 86400) + 86400) % 86400;
    if (secs == 0)
        snprintf(out, cap, "%04lld-%02lld-%02lld", (long long)y, (long long)m, (long long)d);
    else
        snprintf(out, cap, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld UTC", (long long)y,
                 (long long)m, (long long)d, (long long)(secs / 3600), (long long)(secs / 60 % 60),
                 (long long)(secs % 60));
}

static void span(int64_t secs, char *out, size_t cap) {
    long long v;
    const char *unit;
    if (secs < 120) {
        v = secs;
        unit = "second";
    } else if (secs < 2 * 3600) {
        v = secs / 60;
        unit = "minute";
    } else if (secs < 2 * 86400) {
        v = secs / 3600;
        unit = "hour";
    } else {
        v = secs / 86400;
        unit = "day";
    }
    snprintf(out, cap, "%lld %s%s", v, unit, v == 1 ? "" : "s");
}

static const char *subject_of(node *nd) {
    if (nd->subject[0]) return nd->subject;
    if (!nd->parsed) {
        snprintf(nd->subject, sizeof nd->subject, "(unparsable certificate)");
        return nd->subject;
    }
    char big[1024];
    if (x509_name_to_string(&nd->cert.subject, big, sizeof big) != 0)
        snprintf(big, sizeof big, "(unprintable name)");
    if (big[0] == '\0') snprintf(big, sizeof big, "(empty subject)");
    size_t n = strlen(big);
    if (n >= sizeof nd->subject) {
        memcpy(big + sizeof nd->subject - 4, "...", 4);
        n = sizeof nd->subject - 1;
    }
    memcpy(nd->subject, big, n + 1);
    return nd->subject;
}

static const char *role_of(const vctx *v, const node *nd) {
    if (nd == &v->nodes[0]) return "leaf";
    return nd->anchor ? "trust anchor" : "intermediate";
}

/* Records a failure found at path position depth; keeps the most
 * informative one: the deepest, and at equal depth anything over "no
 * issuer". */
static void fail(vctx *v, int depth, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail(vctx *v, int depth, int code, const char *fmt, ...) {
    bool take = v->best_code == CERTA_OK || depth > v->best_depth ||
                (depth == v->best_depth && v->best_code == CERTA_E_CERT_UNKNOWN_ISSUER &&
                 code != CERTA_E_CERT_UNKNOWN_ISSUER);
    if (!take) return;
    v->best_code = code;
    v->best_depth = depth;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->best, sizeof v->best, fmt, ap);
    va_end(ap);
}

static void node_fail(vctx *v, int depth, node *nd) {
    fail(v, depth, nd->check, "%s '%s' %s", role_of(v, nd), subject_of(nd), nd->why);
}

/* ---- per-certificate checks ---------------------------------------------- */

static bool name_empty(const cursor *name) {
    return name->len == 2; /* 30 00 */
}

static bool same_bytes(const cursor *a, const cursor *b) {
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Name comparison (RFC 5280 §7.1): DER bytes first; otherwise RDN by RDN,
 * with UTF8String / PrintableString / IA5String values compared after
 * folding ASCII case and collapsing (and trimming) white space, so that an
 * issuer re-encoded in another string type still chains. */
static bool str_tag(uint8_t t) {
    return t == DER_UTF8_STRING || t == DER_PRINTABLE_STRING || t == DER_IA5_STRING;
}

/* Writes the normalised form of v (ASCII case folded, white space runs
 * collapsed to one space, trimmed) to out; false if it does not fit. */
static bool normalise(const cursor *v, uint8_t *out, size_t cap, size_t *len) {
    size_t n = 0;
    bool pending_space = false;
    for (size_t i = 0; i < v->len; i++) {
        uint8_t c = v->data[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            pending_space = n > 0;
            continue;
        }
        if (pending_space) {
            if (n >= cap) return false;
            out[n++] = ' ';
            pending_space = false;
        }
        if (n >= cap) return false;
        out[n++] = (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
    }
    *len = n;
    return true;
}

static bool value_equal(uint8_t ta, const cursor *a, uint8_t tb, const cursor *b) {
    if (ta == tb && same_bytes(a, b)) return true;
    if (!str_tag(ta) || !str_tag(tb)) return false;
    uint8_t na[256], nb[256];
    size_t la, lb;
    if (!normalise(a, na, sizeof na, &la) || !normalise(b, nb, sizeof nb, &lb)) return false;
    return la == lb && memcmp(na, nb, la) == 0;
}

static bool atv_read(cursor *rdn, cursor *oid, uint8_t *tag, cursor *val) {
    cursor atv;
    return der_get(rdn, DER_SEQUENCE, &atv) && der_get(&atv, DER_OID, oid) &&
           der_any(&atv, tag, val) && cur_empty(&atv);
}

static bool rdn_equal(cursor a, cursor b) {
    size_t na = 0, nb = 0;
    cursor t, oid, val;
    uint8_t tag;
    for (t = a; !cur_empty(&t); na++)
        if (!atv_read(&t, &oid, &tag, &val)) return false;
    for (t = b; !cur_empty(&t); nb++)
        if (!atv_read(&t, &oid, &tag, &val)) return false;
    if (na != nb || na > 16) return false;
    /* every attribute of a has an equal one in b (sizes are equal and SETs
     * in a valid Name hold distinct attributes) */
    while (!cur_empty(&a)) {
        cursor oa, va, ob, vb, tb = b;
        uint8_t ga, gb;
        if (!atv_read(&a, &oa, &ga, &va)) return false;
        bool found = false;
        while (!found && !cur_empty(&tb)) {
            if (!atv_read(&tb, &ob, &gb, &vb)) return false;
            found = same_bytes(&oa, &ob) && value_equal(ga, &va, gb, &vb);
        }
        if (!found) return false;
    }
    return true;
}

static bool names_equal(const cursor *a, const cursor *b) {
    if (same_bytes(a, b)) return true;
    cursor ca = *a, cb = *b, ra, rb;
    if (!der_get(&ca, DER_SEQUENCE, &ra) || !der_get(&cb, DER_SEQUENCE, &rb)) return false;
    while (!cur_empty(&ra) && !cur_empty(&rb)) {
        cursor x, y;
        if (!der_get(&ra, DER_SET, &x) || !der_get(&rb, DER_SET, &y)) return false;
        if (!rdn_equal(x, y)) return false;
    }
    return cur_empty(&ra) && cur_empty(&rb);
}

#define WHY(code, ...)                                                                             \
    do {                                                                                           \
        snprintf(nd->why, sizeof nd->why, __VA_ARGS__);                                            \
        return code;                                                                               \
    } while (0)

static bool nc_subtrees_valid(cursor subtrees) {
    uint8_t tag;
    cursor val;
    while (!cur_empty(&subtrees)) {
        if (!x509_next_subtree(&subtrees, &tag, &val)) return false;
        if (tag == GN_DNS && !nc_dns_constraint_valid(val.data, val.len)) return false;
        if (tag == GN_IP && !nc_ip_constraint_valid(val.data, val.len)) return false;
        if (tag == GN_RFC822 && val.len == 0) return false;
    }
    return true;
}

static int check_common(vctx *v, node *nd) {
    x509_cert *c = &nd->cert;
    x509_exts *e = &nd->ext;
    char why[160];
    if (!nd->parsed) WHY(CERTA_E_CERT_MALFORMED, "is not valid DER X.509");
    if (c->version != 3)
        WHY(CERTA_E_CERT_MALFORMED, "is an X.509 v%d certificate; v3 is required", c->version);
    if (!same_bytes(&c->tbs_sig_alg, &c->sig_alg))
        WHY(CERTA_E_CERT_MALFORMED,
            "names a different signature algorithm inside its signed part than outside it");
    const cursor *sn = &c->serial;
    if (!nd->anchor && ((sn->data[0] & 0x80) || (sn->len == 1 && sn->data[0] == 0) ||
                        sn->len > (sn->data[0] == 0 ? 21u : 20u)))
        WHY(CERTA_E_CERT_MALFORMED,
            "has a serial number that is not a positive integer of at most 20 bytes");
    int rc = x509_parse_extensions(c, e, why, sizeof why);
    if (rc == X509_EXT_UNKNOWN_CRITICAL) WHY(CERTA_E_CERT_UNKNOWN_CRITICAL, "has %s", why);
    if (rc != X509_EXT_OK) WHY(CERTA_E_CERT_MALFORMED, "has %s", why);
    if (name_empty(&c->issuer)) WHY(CERTA_E_CERT_MALFORMED, "has an empty issuer name");
    rc = x509_key_policy(c->spki.data, c->spki.len, why, sizeof why);
    if (rc == -1) WHY(CERTA_E_CERT_WEAK_ALGORITHM, "has %s", why);
    if (rc != 0) WHY(CERTA_E_CERT_MALFORMED, "has %s", why);
    if (e->has_aki && e->aki_critical)
        WHY(CERTA_E_CERT_MALFORMED,
            "marks authorityKeyIdentifier critical, which RFC 5280 forbids");
    if (e->has_ski && e->ski_critical)
        WHY(CERTA_E_CERT_MALFORMED, "marks subjectKeyIdentifier critical, which RFC 5280 forbids");
    if (e->has_aia && e->aia_critical)
        WHY(CERTA_E_CERT_MALFORMED, "marks authorityInfoAccess critical, which RFC 5280 forbids");
    char when[64], rel[32];
    if (v->now < c->not_before) {
        civil(c->not_before, when, sizeof when);
        span(c->not_before - v->now, rel, sizeof rel);
        WHY(CERTA_E_CERT_NOT_YET_VALID, "is not valid until %s (in %s)", when, rel);
    }
    if (v->now > c->not_after) {
        civil(c->not_after, when, sizeof when);
        span(v->now - c->not_after, rel, sizeof rel);
        WHY(CERTA_E_CERT_EXPIRED, "expired on %s (%s ago): renew it", when, rel);
    }
    return CERTA_OK;
}

/* CA/B BR 7.1.4.3: a commonName beside a SAN copies one of its entries.
 * certa does not demand the copy (many private certificates carry a
 * descriptive CN), but refuses the forms that can only be near-misses: a CN
 * that equals a dNSName except for letter case, a CN with non-ASCII
 * characters (dNSNames are ASCII), and an IP address written in any but its
 * canonical form (hex, leading zeros, upper case, uncompressed IPv6). */
static const char *cn_near_miss(const node *nd) {
    x509_cn_iter it;
    uint8_t t, tag;
    cursor cn, val;
    if (!x509_cn_begin(&nd->cert.subject, &it)) return NULL;
    while (x509_cn_next(&it, &t, &cn)) {
        for (size_t i = 0; i < cn.len; i++)
            if (cn.data[i] >= 0x80) return "a commonName with non-ASCII characters";
        cursor san = nd->ext.san;
        while (!cur_empty(&san) && x509_next_general_name(&san, &tag, &val)) {
            if (tag != GN_DNS || val.len != cn.len || same_bytes(&cn, &val)) continue;
            bool ci = true;
            for (size_t i = 0; i < cn.len && ci; i++) {
                uint8_t a = cn.data[i], b = val.data[i];
                if (a >= 'A' && a <= 'Z') a = (uint8_t)(a + 32);
                if (b >= 'A' && b <= 'Z') b = (uint8_t)(b + 32);
                ci = a == b;
            }
            if (ci) return "a commonName that differs from its dNSName in letter case";
        }
        char text[64], canon[64];
        if (cn.len == 0 || cn.len >= sizeof text) continue;
        memcpy(text, cn.data, cn.len);
        text[cn.len] = '\0';
        unsigned char addr[16];
        struct in_addr a4;
        bool v6 = strchr(text, ':') != NULL;
        if (v6 ? inet_pton(AF_INET6, text, addr) == 1
               : (strspn(text, "0123456789abcdefABCDEFxX.") == cn.len && inet_aton(text, &a4))) {
            if (!v6) memcpy(addr, &a4, 4);
            if (inet_ntop(v6 ? AF_INET6 : AF_INET, addr, canon, sizeof canon) &&
                strcmp(canon, text) != 0)
                return "a commonName with an IP address not in canonical form";
        }
    }
    return NULL;
}

static int check_leaf(vctx *v, node *nd) {
    int rc = check_common(v, nd);
    if (rc != CERTA_OK) return rc;
    x509_exts *e = &nd->ext;
    bool server = v->p->purpose == CERTA_PURPOSE_SERVER;
    const char *what = server ? "server" : "client";
    /* A self-signed certificate the user put in the trust set itself (what
     * `openssl req -x509` makes, marked CA) is accepted as its own leaf. */
    if (e->has_bc && e->ca && !v->leaf_is_anchor)
        WHY(CERTA_E_CERT_PURPOSE, "is a CA certificate (basicConstraints cA), not one for a TLS %s",
            what);
    if (e->has_ku && (e->ku & KU_KEY_CERT_SIGN) && !(e->has_bc && e->ca))
        WHY(CERTA_E_CERT_PURPOSE, "has keyUsage keyCertSign but is not a CA");
    if (e->has_ku && !(e->ku & KU_DIGITAL_SIGNATURE))
        WHY(CERTA_E_CERT_PURPOSE,
            "has a keyUsage without digitalSignature, which TLS 1.3 authentication needs");
    if (e->has_nc) WHY(CERTA_E_CERT_MALFORMED, "has nameConstraints, which only a CA may carry");
    if (e->has_eku && !e->eku_any && !(server ? e->eku_server : e->eku_client))
        WHY(CERTA_E_CERT_PURPOSE, "has an extKeyUsage without %s",
            server ? "serverAuth" : "clientAuth");
    if (!nd->self_issued && (!e->has_aki || !e->aki_has_keyid))
        WHY(CERTA_E_CERT_MALFORMED, "has no authorityKeyIdentifier keyIdentifier");
    bool empty_subject = name_empty(&nd->cert.subject);
    if (empty_subject && (!e->has_san || !e->san_critical))
        WHY(CERTA_E_CERT_MALFORMED,
            "has an empty subject and no critical subjectAltName (RFC 5280 §4.2.1.6)");
    if (!empty_subject && e->has_san && e->san_critical)
        WHY(CERTA_E_CERT_MALFORMED,
            "marks subjectAltName critical although its subject is not empty");
    /* A Web PKI rule for server certificates; client identities (people's
     * names, workload labels) may carry any commonName. */
    const char *cn_bad = server && e->has_san ? cn_near_miss(nd) : NULL;
    if (cn_bad) WHY(CERTA_E_CERT_MALFORMED, "has %s (CA/B BR 7.1.4.3)", cn_bad);
    return CERTA_OK;
}

static int check_ca(vctx *v, node *nd) {
    int rc = check_common(v, nd);
    if (rc != CERTA_OK) return rc;
    x509_exts *e = &nd->ext;
    bool server = v->p->purpose == CERTA_PURPOSE_SERVER;
    if (!e->has_bc) WHY(CERTA_E_CERT_NOT_CA, "has no basicConstraints, so it is not a CA");
    if (!e->ca) WHY(CERTA_E_CERT_NOT_CA, "is not a CA (basicConstraints cA is false)");
    if (!e->bc_critical)
        WHY(CERTA_E_CERT_NOT_CA, "is a CA whose basicConstraints is not marked critical");
    if (e->has_ku && !(e->ku & KU_KEY_CERT_SIGN))
        WHY(CERTA_E_CERT_NOT_CA, "has a keyUsage without keyCertSign, so it may not issue");
    if (name_empty(&nd->cert.subject)) WHY(CERTA_E_CERT_MALFORMED, "is a CA with an empty subject");
    if (!e->has_ski) WHY(CERTA_E_CERT_MALFORMED, "is a CA without a subjectKeyIdentifier");
    if (e->has_aki) {
        if (!e->aki_has_keyid)
            WHY(CERTA_E_CERT_MALFORMED, "has an authorityKeyIdentifier without keyIdentifier");
        if (e->aki_has_issuer || e->aki_has_serial)
            WHY(CERTA_E_CERT_MALFORMED,
                "has an authorityKeyIdentifier with authorityCertIssuer/SerialNumber");
        if (nd->self_issued && nd->anchor && !same_bytes(&e->aki_keyid, &e->ski)) {
            /* A self-signed root's AKI names its own key. */
            WHY(CERTA_E_CERT_MALFORMED,
                "has an authorityKeyIdentifier that differs from its subjectKeyIdentifier");
        }
    } else if (!nd->anchor && !nd->self_issued) {
        WHY(CERTA_E_CERT_MALFORMED, "has no authorityKeyIdentifier");
    }
    if (e->has_eku && !e->eku_any && !(server ? e->eku_server : e->eku_client))
        WHY(CERTA_E_CERT_PURPOSE, "has an extKeyUsage that does not allow %s",
            server ? "serverAuth" : "clientAuth");
    if (e->has_nc && ((e->has_permitted && !nc_subtrees_valid(e->nc_permitted)) ||
                      (e->has_excluded && !nc_subtrees_valid(e->nc_excluded))))
        WHY(CERTA_E_CERT_MALFORMED, "has a malformed nameConstraints entry");
    return CERTA_OK;
}

static int node_check(vctx *v, node *nd) {
    if (nd->check < 0) nd->check = nd == &v->nodes[0] ? check_leaf(v, nd) : check_ca(v, nd);
    return nd->check;
}

/* ---- peer names ---------------------------------------------------------- */

/* Lists the leaf's names for the mismatch sentence. */
static void list_names(const node *leaf, uint8_t want, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    cursor san = leaf->ext.san;
    uint8_t tag;
    cursor val;
    while (leaf->ext.has_san && !cur_empty(&san) && x509_next_general_name(&san, &tag, &val)) {
        if (tag != want) continue;
        char item[64];
        if (tag == GN_IP) {
            if (val.len == 4)
                snprintf(item, sizeof item, "%u.%u.%u.%u", val.data[0], val.data[1], val.data[2],
                         val.data[3]);
            else {
                size_t k = 0;
                for (size_t i = 0; i < 16; i += 2)
                    k += (size_t)snprintf(item + k, sizeof item - k, "%s%x", i ? ":" : "",
                                          (unsigned)(val.data[i] << 8 | val.data[i + 1]));
            }
        } else {
            size_t l = val.len < sizeof item - 1 ? val.len : sizeof item - 1;
            memcpy(item, val.data, l);
            item[l] = '\0';
            for (size_t i = 0; i < l; i++)
                if (item[i] < 0x20 || item[i] > 0x7e) item[i] = '?';
        }
        int w = snprintf(out + n, cap - n, "%s%s", n ? ", " : "", item);
        if (w < 0 || (size_t)w >= cap - n) {
            if (cap > 4) memcpy(out + cap - 4, "...", 4);
            return;
        }
        n += (size_t)w;
    }
}

static int check_peer_name(vctx *v, node *leaf) {
    const certa_verify_params *p = v->p;
    x509_exts *e = &leaf->ext;
    const char *dns = p->dns_name, *ip = p->ip;
    uint8_t addr[16];
    int alen = 0;
    if (dns && (alen = ip_parse(dns, addr)) > 0) {
        ip = dns; /* an address given as a host name is matched as an address */
        dns = NULL;
    } else if (ip) {
        alen = ip_parse(ip, addr);
        if (alen == 0) {
            fail(v, 0, CERTA_E_CERT_NAME_MISMATCH, "'%s' is not an IP address", ip);
            return -1;
        }
    }
    uint8_t tag;
    cursor val, san;
    char names[256];
    if (dns) {
        size_t dl = strlen(dns);
        if (!dns_name_valid((const uint8_t *)dns, dl, false)) {
            fail(v, 0, CERTA_E_CERT_NAME_MISMATCH, "'%s' is not a valid DNS host name", dns);
            return -1;
        }
        bool any_dns = false;
        san = e->san;
        while (e->has_san && !cur_empty(&san) && x509_next_general_name(&san, &tag, &val)) {
            if (tag != GN_DNS) continue;
            any_dns = true;
            if (dns_name_match(val.data, val.len, dns)) goto dns_ok;
        }
        if (!e->has_san && p->cn_fallback) {
            x509_cn_iter it;
            if (x509_cn_begin(&leaf->cert.subject, &it))
                while (x509_cn_next(&it, &tag, &val))
                    if (dns_name_match(val.data, val.len, dns)) goto dns_ok;
        }
        if (!any_dns) {
            fail(v, 0, CERTA_E_CERT_NAME_MISMATCH,
                 "leaf '%s' has no DNS name in subjectAltName%s, so it is not valid for %s",
                 subject_of(leaf), p->cn_fallback ? " or matching commonName" : "", dns);
            return -1;
        }
        list_names(leaf, GN_DNS, names, sizeof names);
        fail(v, 0, CERTA_E_CERT_NAME_MISMATCH, "leaf '%s' is valid for %s, not for %s",
             subject_of(leaf), names, dns);
        return -1;
    }
dns_ok:
    if (ip) {
        san = e->san;
        while (e->has_san && !cur_empty(&san) && x509_next_general_name(&san, &tag, &val))
            if (tag == GN_IP && val.len == (size_t)alen && memcmp(val.data, addr, val.len) == 0)
                goto ip_ok;
        list_names(leaf, GN_IP, names, sizeof names);
        fail(v, 0, CERTA_E_CERT_NAME_MISMATCH,
             "leaf '%s' is valid for %s%s, not for the address %s", subject_of(leaf),
             names[0] ? "the addresses " : "no IP address", names, ip);
        return -1;
    }
ip_ok:
    if (p->spiffe_id) {
        size_t sl = strlen(p->spiffe_id);
        if (!spiffe_id_valid((const uint8_t *)p->spiffe_id, sl)) {
            fail(v, 0, CERTA_E_CERT_NAME_MISMATCH, "'%s' is not a valid SPIFFE ID", p->spiffe_id);
            return -1;
        }
        san = e->san;
        while (e->has_san && !cur_empty(&san) && x509_next_general_name(&san, &tag, &val))
            if (tag == GN_URI && val.len == sl && memcmp(val.data, p->spiffe_id, sl) == 0 &&
                spiffe_id_valid(val.data, val.len))
                goto spiffe_ok;
        list_names(leaf, GN_URI, names, sizeof names);
        fail(v, 0, CERTA_E_CERT_NAME_MISMATCH, "leaf '%s' has the URI names %s, not %s",
             subject_of(leaf), names[0] ? names : "(none)", p->spiffe_id);
        return -1;
    }
spiffe_ok:
    if (p->email) {
        size_t el = strlen(p->email);
        const uint8_t *em = (const uint8_t *)p->email;
        if (!nc_email_valid(em, el)) {
            fail(v, 0, CERTA_E_CERT_NAME_MISMATCH, "'%s' is not a valid email address", p->email);
            return -1;
        }
        san = e->san;
        while (e->has_san && !cur_empty(&san) && x509_next_general_name(&san, &tag, &val))
            if (tag == GN_RFC822 && nc_email_valid(val.data, val.len) &&
                nc_email_match(em, el, val.data, val.len))
                return 0;
        list_names(leaf, GN_RFC822, names, sizeof names);
        fail(v, 0, CERTA_E_CERT_NAME_MISMATCH, "leaf '%s' has the email addresses %s, not %s",
             subject_of(leaf), names[0] ? names : "(none)", p->email);
        return -1;
    }
    return 0;
}

/* ---- name constraints ---------------------------------------------------- */

/* Is the Name (element) within the directoryName subtree c (element)? RDN
 * by RDN prefix comparison of the DER. */
static bool dn_within(cursor name, cursor c) {
    cursor nr, cr, a, b;
    if (!der_get(&name, DER_SEQUENCE, &nr) || !der_get(&c, DER_SEQUENCE, &cr)) return false;
    while (!cur_empty(&cr)) {
        if (!der_get_element(&cr, DER_SET, &b, NULL)) return false;
        if (!der_get_element(&nr, DER_SET, &a, NULL)) return false;
        if (!same_bytes(&a, &b)) return false;
    }
    return true;
}

/* Does one name of form tag satisfy / violate subtree (ctag, cval)?
 * Returns 1 match, 0 no match, -1 the name cannot be judged. */
static int nc_match(uint8_t tag, const cursor *val, const cursor *cval, bool excluded) {
    switch (tag) {
    case GN_DNS:
        if (!dns_name_valid(val->data, val->len, true)) return -1;
        return excluded ? nc_dns_excludes(val->data, val->len, cval->data, cval->len)
                        : nc_dns_permits(val->data, val->len, cval->data, cval->len);
    case GN_IP:
        return nc_ip_match(val->data, val->len, cval->data, cval->len);
    case GN_RFC822:
        if (!nc_email_valid(val->data, val->len)) return -1;
        return nc_email_match(val->data, val->len, cval->data, cval->len);
    case GN_URI:
        return nc_uri_match(val->data, val->len, cval->data, cval->len);
    case GN_DIRECTORY:
        return dn_within(*val, *cval);
    default:
        return -1; /* otherName and the rest: not processed */
    }
}

/* Checks one name against a CA's constraints. 0 ok, else sets *what. */
static int nc_name(vctx *v, const x509_exts *ca, uint8_t tag, const cursor *val,
                   const char **what) {
    uint8_t ctag;
    cursor cval, subs;
    if (ca->has_excluded) {
        subs = ca->nc_excluded;
        while (!cur_empty(&subs) && x509_next_subtree(&subs, &ctag, &cval)) {
            if (ctag != tag) continue;
            if (++v->nc_checks > MAX_NC_CHECKS) return -2;
            int m = nc_match(tag, val, &cval, true);
            if (m != 0) {
                *what = m < 0 ? "cannot be checked against an excluded subtree"
                              : "is in an excluded subtree";
                return -1;
            }
        }
    }
    if (ca->has_permitted) {
        bool any = false;
        subs = ca->nc_permitted;
        while (!cur_empty(&subs) && x509_next_subtree(&subs, &ctag, &cval)) {
            if (ctag != tag) continue;
            any = true;
            if (++v->nc_checks > MAX_NC_CHECKS) return -2;
            int m = nc_match(tag, val, &cval, false);
            if (m < 0) {
                *what = "cannot be checked against the permitted subtrees";
                return -1;
            }
            if (m == 1) return 0;
        }
        if (any) {
            *what = "is outside the permitted subtrees";
            return -1;
        }
    }
    return 0;
}

static void name_text(uint8_t tag, const cursor *val, char *out, size_t cap) {
    if (tag == GN_IP && val->len == 4) {
        snprintf(out, cap, "IP address %u.%u.%u.%u", val->data[0], val->data[1], val->data[2],
                 val->data[3]);
    } else if (tag == GN_IP) {
        snprintf(out, cap, "an IPv6 address");
    } else if (tag == GN_DNS || tag == GN_RFC822 || tag == GN_URI) {
        int l = val->len > 100 ? 100 : (int)val->len;
        snprintf(out, cap, "%s '%.*s'",
                 tag == GN_DNS   ? "DNS name"
                 : tag == GN_URI ? "URI"
                                 : "email",
                 l, (const char *)val->data);
        for (char *q = out; *q; q++)
            if (*q < 0x20 || *q > 0x7e) *q = '?';
    } else if (tag == GN_DIRECTORY) {
        snprintf(out, cap, "its directory name");
    } else {
        snprintf(out, cap, "a name of a form certa does not check (tag 0x%02x)", tag);
    }
}

/* The names of cert (below CA) against CA's constraints. */
static int nc_cert(vctx *v, node *cert, bool is_leaf, node *ca, int depth) {
    const x509_exts *nc = &ca->ext;
    const x509_exts *e = &cert->ext;
    const char *what = NULL;
    uint8_t tag;
    cursor val;
    char nm[160];
    uint8_t addr[16]; /* val may point here when we jump to bad: keep it in scope */
    int rc;
    if (!name_empty(&cert->cert.subject)) {
        rc = nc_name(v, nc, GN_DIRECTORY, &cert->cert.subject, &what);
        if (rc != 0) {
            val = cert->cert.subject;
            tag = GN_DIRECTORY;
            goto bad;
        }
    }
    if (e->has_san) {
        cursor san = e->san;
        while (!cur_empty(&san) && x509_next_general_name(&san, &tag, &val)) {
            rc = nc_name(v, nc, tag, &val, &what);
            if (rc != 0) goto bad;
        }
    } else if (is_leaf) {
        /* No SAN: a commonName that looks like a host name or address is
         * held to the DNS / IP constraints, as a peer might match it. */
        x509_cn_iter it;
        uint8_t t;
        cursor cn;
        if (x509_cn_begin(&cert->cert.subject, &it))
            while (x509_cn_next(&it, &t, &cn)) {
                char buf[64];
                int alen = 0;
                if (cn.len < sizeof buf) {
                    memcpy(buf, cn.data, cn.len);
                    buf[cn.len] = '\0';
                    alen = ip_parse(buf, addr);
                }
                if (alen > 0) {
                    tag = GN_IP;
                    cur_init(&val, addr, (size_t)alen);
                } else if (dns_name_valid(cn.data, cn.len, true)) {
                    tag = GN_DNS;
                    val = cn;
                } else {
                    continue;
                }
                rc = nc_name(v, nc, tag, &val, &what);
                if (rc != 0) goto bad;
            }
    }
    return 0;
bad:
    if (rc == -2) {
        v->aborted = true;
        fail(v, depth, CERTA_E_CERT_TOO_COMPLEX,
             "checking the name constraints of '%s' needs more than %d comparisons", subject_of(ca),
             MAX_NC_CHECKS);
        return -1;
    }
    name_text(tag, &val, nm, sizeof nm);
    fail(v, depth, CERTA_E_CERT_NAME_CONSTRAINTS, "%s '%s': %s %s of %s '%s'", role_of(v, cert),
         subject_of(cert), nm, what, role_of(v, ca), subject_of(ca));
    return -1;
}

static crypto_key *node_key(node *nd);

/* A serial number as hex, shortened to its first 16 digits and "..." when longer. */
/* Subjects may be long: the note is cut to its buffer, on purpose. */
__attribute__((format(printf, 2, 3))) static void note_unknown(vctx *v, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->unknown_text, sizeof v->unknown_text, fmt, ap);
    va_end(ap);
}

/* Revocation of path[i] (i < len - 1) against the CRLs of its issuer: -1 if
 * a CRL from it lists the certificate (refused whatever the mode, even from
 * a stale CRL: a revocation is never undone); otherwise 0, with path[i]
 * marked in v->unknown (and the first such reason in v->unknown_text) when
 * no usable fresh CRL from the issuer vouches for it. */
static int crl_check(vctx *v, size_t i, int depth) {
    node *c = &v->nodes[v->path[i]], *is = &v->nodes[v->path[i + 1]];
    char when[64], rel[32];
    const char *why = NULL;
    char stale[96] = "";
    bool vouched = false;
    for (size_t k = 0; k < v->p->crl_count; k++) {
        x509_crl *crl = &v->crls[k];
        if (!v->crl_ok[k] || !names_equal(&crl->issuer, &c->cert.issuer)) continue;
        crypto_key *key = node_key(is);
        if (key == NULL || v->work >= v->max_work) continue;
        v->work++;
        if (v->ix ? crl_index_verify(v->ix[k], &is->cert, key) != 0
                  : sig_verify_x509(crl->sig_alg.data, crl->sig_alg.len, key, crl->tbs.data,
                                    crl->tbs.len, crl->sig.data, crl->sig.len) != 0)
            continue; /* another CA's CRL under the same name, or a forged one */
        const char *bad = NULL;
        if (!same_bytes(&crl->tbs_sig_alg, &crl->sig_alg))
            bad = "names different signature algorithms inside and outside its signed part";
        else if (!crl->has_crl_number)
            bad = "has no CRL number (RFC 5280 §5.2.3)";
        else if (crl->crl_number_critical)
            bad = "marks its CRL number critical (RFC 5280 §5.2.3)";
        else if (crl->unknown_critical)
            bad = "has a critical extension certa does not process";
        else if (is->ext.has_ku && !(is->ext.ku & KU_CRL_SIGN))
            bad = "is signed by a key whose keyUsage lacks cRLSign";
        else if (crl->this_update > v->now)
            bad = "is not yet valid (thisUpdate is in the future)";
        int64_t t = 0;
        int reason = -1;
        bool listed = v->ix ? crl_index_find(v->ix[k], &c->cert.serial, &t, &reason)
                            : x509_crl_find(crl, &c->cert.serial, &t, &reason);
        if (!bad && listed) {
            char serial[2 * 20 + 4], age[32];
            x509_serial_short(&c->cert.serial, serial, sizeof serial);
            civil(t, when, sizeof when);
            span(v->now > t ? v->now - t : 0, rel, sizeof rel);
            span(v->now > crl->this_update ? v->now - crl->this_update : 0, age, sizeof age);
            fail(v, depth, CERTA_E_CERT_REVOKED,
                 "%s '%s' (serial %s) was revoked on %s (%s ago, %s), per the CRL from '%s' "
                 "issued %s ago: it needs a new certificate",
                 role_of(v, c), subject_of(c), serial, when, rel,
                 reason >= 0 ? ocsp_reason_name(reason) : "no reason given", subject_of(is), age);
            return -1;
        }
        if (!bad && crl->has_next_update && crl->next_update < v->now) {
            span(v->now - crl->next_update, rel, sizeof rel);
            snprintf(stale, sizeof stale, "is out of date (its nextUpdate passed %s ago)", rel);
            bad = stale;
        }
        if (bad)
            why = bad;
        else
            vouched = true;
    }
    if (vouched) return 0;
    if (i < 32) v->unknown |= 1u << i;
    if (v->unknown_text[0] == '\0') {
        if (why)
            note_unknown(v,
                         "the revocation status of %s '%s' is unknown: the CRL of '%s' %s: publish "
                         "a fresh CRL (certa ca crl) and reload it",
                         role_of(v, c), subject_of(c), subject_of(is), why);
        else
            note_unknown(
                v,
                "the revocation status of %s '%s' is unknown: no CRL from its issuer '%s' is "
                "loaded (--crl)",
                role_of(v, c), subject_of(c), subject_of(is));
    }
    return 0;
}

/* The mode a verification runs in: DEFAULT is PREFER with CRLs, else OFF. */
static certa_revocation revocation_mode(const certa_verify_params *p) {
    if (p->revocation != CERTA_REVOCATION_DEFAULT) return p->revocation;
    return p->crl_count ? CERTA_REVOCATION_PREFER : CERTA_REVOCATION_OFF;
}

/* Checks that apply to a complete path path[0..len). */
static int final_checks(vctx *v, size_t len) {
    v->unknown = 0;
    v->unknown_text[0] = '\0';
    for (size_t i = 0; i + 1 < len && revocation_mode(v->p) != CERTA_REVOCATION_OFF; i++)
        if (crl_check(v, i, (int)len) != 0) return -1;
    for (size_t j = 1; j < len; j++) {
        node *ca = &v->nodes[v->path[j]];
        if (!ca->ext.has_nc) continue;
        for (size_t i = 0; i < j; i++) {
            node *c = &v->nodes[v->path[i]];
            if (i > 0 && c->self_issued) continue; /* RFC 5280 §6.1.3 (b) */
            if (nc_cert(v, c, i == 0, ca, (int)len) != 0) return -1;
        }
    }
    return 0;
}

/* ---- path building ------------------------------------------------------- */

static crypto_key *node_key(node *nd) {
    if (!nd->key_loaded) {
        nd->key_loaded = true;
        nd->key = key_from_spki(nd->cert.spki.data, nd->cert.spki.len);
    }
    return nd->key;
}

/* SIG_* for child signed by issuer; memoised. */
static int sig_check(vctx *v, size_t child, size_t issuer) {
    uint8_t *slot = &v->sig[child * v->n + issuer];
    if (*slot != SIG_UNKNOWN) return *slot;
    if (v->work >= v->max_work) {
        v->aborted = true;
        return SIG_UNKNOWN;
    }
    v->work++;
    node *c = &v->nodes[child];
    crypto_key *key = node_key(&v->nodes[issuer]);
    int rc = key == NULL
                 ? -1
                 : sig_verify_x509(c->cert.sig_alg.data, c->cert.sig_alg.len, key, c->cert.tbs.data,
                                   c->cert.tbs.len, c->cert.sig.data, c->cert.sig.len);
#ifdef CERTA_FUZZ
    if (rc == -1) rc = 0; /* let the fuzzer past signatures */
#endif
    *slot = rc == 0 ? SIG_OK : rc == -3 ? SIG_WEAK : rc == -2 ? SIG_UNSUPPORTED : SIG_BAD;
    return *slot;
}

static bool issued_by(vctx *v, size_t child, size_t issuer) {
    uint8_t *slot = &v->named[child * v->n + issuer];
    if (*slot == 0)
        *slot = names_equal(&v->nodes[issuer].cert.subject, &v->nodes[child].cert.issuer) ? 1 : 2;
    return *slot == 1;
}

static bool aki_hint(const node *child, const node *issuer) {
    return child->ext.has_aki && child->ext.aki_has_keyid && issuer->ext.has_ski &&
           same_bytes(&child->ext.aki_keyid, &issuer->ext.ski);
}

static size_t memo_index(const vctx *v, size_t node_i, size_t depth, unsigned nsi) {
    return (node_i * CERTA_MAX_PATH + depth) * CERTA_MAX_PATH +
           (nsi < CERTA_MAX_PATH ? nsi : CERTA_MAX_PATH - 1);
    (void)v;
}

/* Extends path[0..depth] (path[depth] is the current certificate; nsi
 * non-self-issued intermediates on it). 1 = a valid path was found and is
 * in path[], 0 = none from here, -1 = aborted. */
static int extend(vctx *v, size_t depth, unsigned nsi, size_t *out_len) {
    size_t cur_i = v->path[depth];
    node *cur = &v->nodes[cur_i];
    if (++v->steps > MAX_STEPS) {
        v->aborted = true;
        return -1;
    }
    bool candidates = false;
    int pos = (int)depth + 1;
    for (int pass = 0; pass < 4; pass++) {
        bool want_anchor = pass < 2, want_hint = (pass % 2) == 0;
        for (size_t j = 1; j < v->n; j++) {
            node *is = &v->nodes[j];
            if (is->skip || !is->parsed || is->anchor != want_anchor) continue;
            if (!issued_by(v, cur_i, j)) continue;
            /* Extensions are parsed by the check; the AKI/SKI hint needs them. */
            if (node_check(v, is) == CERTA_OK) {
                if (aki_hint(cur, is) != want_hint) continue;
            } else if (!want_hint) {
                continue; /* a failing candidate is reported once */
            }
            bool on_path = false;
            for (size_t k = 0; k <= depth; k++)
                if (v->path[k] == j) on_path = true;
            if (on_path) {
                v->loop_skips++;
                continue;
            }
            candidates = true;
            if (depth + 2 > CERTA_MAX_PATH) {
                fail(v, pos, CERTA_E_CERT_PATH_LENGTH,
                     "the path from the leaf through '%s' is longer than %d certificates",
                     subject_of(is), CERTA_MAX_PATH);
                continue;
            }
            if (node_check(v, is) != CERTA_OK) {
                node_fail(v, pos, is);
                continue;
            }
            if (is->ext.path_len >= 0 && nsi > (unsigned)is->ext.path_len) {
                fail(v, pos, CERTA_E_CERT_PATH_LENGTH,
                     "%s '%s' allows %d intermediate%s below it (pathLenConstraint), the path has "
                     "%u",
                     role_of(v, is), subject_of(is), is->ext.path_len,
                     is->ext.path_len == 1 ? "" : "s", nsi);
                continue;
            }
            unsigned new_nsi = nsi + (is->anchor || is->self_issued ? 0u : 1u);
            if (new_nsi > v->max_inter) {
                fail(v, pos, CERTA_E_CERT_PATH_LENGTH,
                     "the path through '%s' needs more than the %u intermediate%s allowed "
                     "(maximum depth %u)",
                     subject_of(is), v->max_inter, v->max_inter == 1 ? "" : "s", v->max_inter + 2);
                continue;
            }
            int s = sig_check(v, cur_i, j);
            if (s == SIG_UNKNOWN) return -1; /* out of work */
            if (s != SIG_OK) {
                if (s == SIG_WEAK)
                    fail(v, (int)depth, CERTA_E_CERT_WEAK_ALGORITHM,
                         "%s '%s' is signed with SHA-1, which is refused as weak", role_of(v, cur),
                         subject_of(cur));
                else if (s == SIG_UNSUPPORTED)
                    fail(v, (int)depth, CERTA_E_CERT_WEAK_ALGORITHM,
                         "%s '%s' is signed with an unsupported or malformed signature algorithm",
                         role_of(v, cur), subject_of(cur));
                else
                    fail(v, pos, CERTA_E_CERT_BAD_SIGNATURE,
                         "the signature on %s '%s' does not verify with the key of %s '%s'",
                         role_of(v, cur), subject_of(cur), role_of(v, is), subject_of(is));
                continue;
            }
            v->path[depth + 1] = j;
            if (is->anchor) {
                if (final_checks(v, depth + 2) == 0) {
                    *out_len = depth + 2;
                    return 1;
                }
                v->final_fails++;
                if (v->aborted) return -1;
                continue;
            }
            size_t mi = memo_index(v, j, depth + 1, new_nsi);
            if (v->memo[mi]) continue;
            unsigned loops = v->loop_skips, finals = v->final_fails;
            int r = extend(v, depth + 1, new_nsi, out_len);
            if (r != 0) return r;
            if (loops == v->loop_skips && finals == v->final_fails) v->memo[mi] = 1;
        }
    }
    if (!candidates) {
        if (depth == 0 && cur->self_issued)
            fail(v, 0, CERTA_E_CERT_SELF_SIGNED,
                 "leaf '%s' is self-signed and not in the trust bundle: add it to the bundle to "
                 "trust it",
                 subject_of(cur));
        else if (depth == 0)
            fail(v, 0, CERTA_E_CERT_UNKNOWN_ISSUER,
                 "no issuer for '%s' in the trust bundle or the chain sent by the peer: the peer "
                 "is probably not sending its intermediate",
                 subject_of(cur));
        else if (cur->self_issued)
            fail(v, (int)depth, CERTA_E_CERT_UNKNOWN_ISSUER,
                 "the chain ends at the root '%s', which is not in the trust bundle: add it to "
                 "the bundle if it should be trusted",
                 subject_of(cur));
        else {
            char iss[160];
            if (x509_name_to_string(&cur->cert.issuer, iss, sizeof iss) != 0)
                snprintf(iss, sizeof iss, "(long name)");
            fail(v, (int)depth, CERTA_E_CERT_UNKNOWN_ISSUER,
                 "no issuer for %s '%s' in the trust bundle or the chain sent by the peer: its "
                 "issuer '%s' is not a trust anchor",
                 role_of(v, cur), subject_of(cur), iss);
        }
    }
    return 0;
}

static int finish(certa_verify_result *r, int code, const char *text) {
    r->code = code;
    snprintf(r->text, sizeof r->text, "%s", text);
    return code;
}

int certa_verify_chain(const certa_trust *trust, const uint8_t *const *chain, const size_t *lens,
                       size_t count, const certa_verify_params *params,
                       certa_verify_result *result) {
    return x509_verify_chain_indexed(trust, chain, lens, count, params, NULL, result);
}

int x509_verify_chain_indexed(const certa_trust *trust, const uint8_t *const *chain,
                              const size_t *lens, size_t count, const certa_verify_params *params,
                              crl_index *const *indexes, certa_verify_result *result) {
    if (result == NULL) return CERTA_E_INVALID_ARGUMENT;
    memset(result, 0, sizeof *result);
    if (trust == NULL || chain == NULL || lens == NULL || count == 0 || params == NULL)
        return finish(result, CERTA_E_INVALID_ARGUMENT,
                      "certa_verify_chain needs a trust set, a chain with a leaf and parameters");
    size_t anchors = trust_anchor_count(trust);
    if (anchors == 0)
        return finish(result, CERTA_E_TRUST_EMPTY,
                      "no trust anchors are loaded, so no certificate can be verified: load a CA "
                      "bundle (certa_trust_load) or the system bundle (certa_trust_load_system)");
    if (count + anchors > MAX_NODES)
        return finish(result, CERTA_E_CERT_TOO_COMPLEX,
                      "too many certificates to consider (chain plus trust anchors)");
    vctx v;
    memset(&v, 0, sizeof v);
    v.p = params;
    v.n = count + anchors;
    v.now = params->time ? params->time : (int64_t)time(NULL);
    unsigned depth = params->max_depth ? params->max_depth : DEFAULT_MAX_DEPTH;
    v.max_inter = depth >= 2 ? depth - 2 : 0;
    v.max_work = params->max_work ? params->max_work : DEFAULT_MAX_WORK;
    v.nodes = calloc(v.n, sizeof *v.nodes);
    v.sig = calloc(v.n * v.n, 1);
    v.memo = calloc(v.n * CERTA_MAX_PATH * CERTA_MAX_PATH, 1);
    v.named = calloc(v.n * v.n, 1);
    if (params->crl_count) {
        v.crls = calloc(params->crl_count, sizeof *v.crls);
        v.crl_ok = calloc(params->crl_count, sizeof *v.crl_ok);
    }
    int code;
    if (!v.nodes || !v.sig || !v.memo || !v.named ||
        (params->crl_count && (!v.crls || !v.crl_ok || !params->crls || !params->crl_lens))) {
        code = finish(result, CERTA_E_NOMEM, "out of memory");
        goto out;
    }
    v.ix = indexes;
    for (size_t k = 0; k < params->crl_count; k++) {
        if (indexes) { /* parsed when the set was made */
            v.crl_ok[k] = indexes[k] != NULL;
            if (indexes[k]) v.crls[k] = indexes[k]->crl;
        } else {
            v.crl_ok[k] = params->crls[k] != NULL &&
                          x509_crl_parse(&v.crls[k], params->crls[k], params->crl_lens[k]) == 0;
        }
    }
    for (size_t i = 0; i < v.n; i++) {
        node *nd = &v.nodes[i];
        const uint8_t *der;
        size_t len;
        if (i < count) {
            der = chain[i];
            len = lens[i];
            nd->index = i;
        } else {
            der = trust_anchor_der(trust, i - count, &len);
            nd->anchor = true;
            nd->index = SIZE_MAX;
        }
        nd->check = -1;
        nd->parsed = der != NULL && x509_parse(&nd->cert, der, len) == 0;
        if (nd->parsed) nd->self_issued = same_bytes(&nd->cert.subject, &nd->cert.issuer);
    }
    /* Duplicates: a pool certificate equal to the leaf, an anchor or an
     * earlier pool certificate is not considered again. */
    for (size_t i = 1; i < v.n; i++) {
        node *a = &v.nodes[i];
        if (!a->parsed) continue;
        for (size_t j = 0; j < v.n && !a->skip; j++) {
            node *b = &v.nodes[j];
            if (j == i || !b->parsed || !same_bytes(&a->cert.der, &b->cert.der)) continue;
            if (a->anchor) {
                if (b->anchor && j < i) a->skip = true; /* the first anchor copy stays */
            } else if (b->anchor || j < i) {
                a->skip = true; /* the anchor, the leaf or the first pool copy stays */
            }
        }
    }

    node *leaf = &v.nodes[0];
    /* A leaf that is itself a trust anchor is trusted by presence. */
    bool leaf_trusted = false;
    for (size_t j = count; j < v.n && leaf->parsed; j++)
        if (same_bytes(&v.nodes[j].cert.der, &leaf->cert.der)) leaf_trusted = true;

    v.leaf_is_anchor = leaf_trusted;
    if (node_check(&v, leaf) != CERTA_OK) {
        node_fail(&v, 0, leaf);
    } else {
        /* Trust first, then the name: for a chain that fails both, "no
         * path to a trusted root" (e.g. self-signed) is the fix to make. */
        size_t len = 0;
        int r;
        if (leaf_trusted) {
            r = 1;
            len = 1;
            v.path[0] = 0;
        } else {
            v.path[0] = 0;
            r = extend(&v, 0, 0, &len);
        }
        if (r == 1) {
            v.best_code = CERTA_OK; /* dead ends met on the way no longer matter */
            if (check_peer_name(&v, leaf) != 0) r = 0;
        }
        if (r == 1) {
            result->path_len = len;
            for (size_t k = 0; k < len; k++) {
                node *nd = &v.nodes[v.path[k]];
                result->path_index[k] = nd->index;
                snprintf(result->path_subject[k], sizeof result->path_subject[k], "%s",
                         subject_of(nd));
            }
            result->revocation_unknown = v.unknown;
            snprintf(result->revocation_text, sizeof result->revocation_text, "%s", v.unknown_text);
            if (v.unknown && revocation_mode(params) == CERTA_REVOCATION_REQUIRE) {
                char why[sizeof v.unknown_text + 64];
                snprintf(why, sizeof why, "%s (revocation is required)", v.unknown_text);
                code = finish(result, CERTA_E_CERT_STATUS, why);
                goto out;
            }
            code = finish(result, CERTA_OK, "");
            char sub[200];
            snprintf(sub, sizeof sub, "%s", result->path_subject[len - 1]);
            if (snprintf(result->text, sizeof result->text,
                         "leaf '%s' verified through %zu certificate%s to trust anchor '%s'",
                         result->path_subject[0], len, len == 1 ? "" : "s", sub) < 0)
                result->text[0] = '\0';
            goto out;
        }
        if (v.aborted && v.best_code != CERTA_E_CERT_TOO_COMPLEX) {
            char prev[512];
            snprintf(prev, sizeof prev, "%s", v.best_code ? v.best : "");
            v.best_code = CERTA_E_CERT_TOO_COMPLEX;
            if (snprintf(v.best, sizeof v.best,
                         "path building gave up after %u signature checks and %lu steps without "
                         "finding a valid path%s%s",
                         v.work, v.steps, prev[0] ? "; the best lead: " : "", prev) < 0)
                v.best[0] = '\0';
        }
    }
    if (v.best_code == CERTA_OK) {
        v.best_code = CERTA_E_CERT_UNKNOWN_ISSUER;
        snprintf(v.best, sizeof v.best, "no path to a trust anchor");
    }
    code = finish(result, v.best_code, v.best);
out:
    if (v.nodes)
        for (size_t i = 0; i < v.n; i++)
            key_free(v.nodes[i].key);
    free(v.nodes);
    free(v.sig);
    free(v.memo);
    free(v.named);
    free(v.crls);
    free(v.crl_ok);
    return code;
}
