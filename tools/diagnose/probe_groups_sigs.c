/* certa diagnose: which TLS 1.2 key exchange groups and which signature
 * schemes (TLS 1.2 and 1.3) the server accepts, with raw ClientHellos.
 * TLS 1.2: the ServerKeyExchange names the group and the scheme, so the
 * list is offered, the chosen one removed, and again (the first answer
 * comes free from the cipher-suite probe). TLS 1.3 encrypts the
 * CertificateVerify: one scheme fitting the certificate's key is offered at
 * a time with an x25519 share, and a ServerHello says it is accepted. The
 * weak ones (SHA-1 in TLS 1.2, RSA PKCS#1 v1.5 in TLS 1.3, DH primes under
 * 2048 bits) are asked first: the budget may not last for the rest. */
#include "diagnose/diagnose.h"

#include <stdio.h>
#include <string.h>

#define G_GROUPS "key exchange"

static const uint16_t ecdhe_suites[] = {0xc02b, 0xc02c, 0xc02f, 0xc030, 0xcca9, 0xcca8,
                                        0xc009, 0xc00a, 0xc013, 0xc014, 0xc023, 0xc024,
                                        0xc027, 0xc028, 0xc012, 0xc011};
static const uint16_t dhe_suites[] = {0x009e, 0x009f, 0xccaa, 0x0033, 0x0039, 0x0067, 0x006b};
static const uint16_t ec_groups12[] = {0x001d, 0x0017, 0x0018, 0x0019};
static const uint16_t ffdhe_groups[] = {0x0100, 0x0101, 0x0102, 0x0103, 0x0104};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The schemes that can sign with the leaf's key, strongest first. */
typedef enum key_kind {
    KEY_UNKNOWN,
    KEY_RSA,
    KEY_RSA_PSS,
    KEY_ECDSA,
    KEY_ED25519,
    KEY_ED448
} key_kind;

static key_kind kind_of(const char *key_type) {
    if (!key_type) return KEY_UNKNOWN;
    if (!strncmp(key_type, "RSA-PSS", 7) || !strncmp(key_type, "RSASSA-PSS", 10))
        return KEY_RSA_PSS;
    if (!strncmp(key_type, "RSA", 3)) return KEY_RSA;
    if (!strncmp(key_type, "ECDSA", 5)) return KEY_ECDSA;
    if (!strncmp(key_type, "Ed25519", 7)) return KEY_ED25519;
    if (!strncmp(key_type, "Ed448", 5)) return KEY_ED448;
    return KEY_UNKNOWN;
}

static size_t tls12_candidates(key_kind k, uint16_t *out) {
    static const uint16_t rsa[] = {0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601};
    static const uint16_t pss[] = {0x0809, 0x080a, 0x080b};
    static const uint16_t ec[] = {0x0403, 0x0503, 0x0603};
    static const uint16_t all[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807,
                                   0x0808, 0x0809, 0x080a, 0x080b, 0x0401, 0x0501, 0x0601};
    const uint16_t *src = all;
    size_t n = N(all);
    switch (k) {
    case KEY_RSA:
        src = rsa, n = N(rsa);
        break;
    case KEY_RSA_PSS:
        src = pss, n = N(pss);
        break;
    case KEY_ECDSA:
        src = ec, n = N(ec);
        break;
    case KEY_ED25519:
        out[0] = 0x0807;
        return 1;
    case KEY_ED448:
        out[0] = 0x0808;
        return 1;
    case KEY_UNKNOWN:
        break;
    }
    memcpy(out, src, n * sizeof *src);
    return n;
}

/* SHA-1 schemes a key could sign with in TLS 1.2. */
static size_t sha1_schemes(key_kind k, uint16_t *out) {
    size_t n = 0;
    if (k == KEY_RSA || k == KEY_UNKNOWN) out[n++] = 0x0201;
    if (k == KEY_ECDSA || k == KEY_UNKNOWN) out[n++] = 0x0203;
    return n;
}

static void list_add(char *buf, size_t cap, const char *item) {
    size_t n = strlen(buf);
    snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", item);
}

static const char *sig_name(uint16_t s) {
    if (s == 0x0201) return "rsa_pkcs1_sha1";
    if (s == 0x0203) return "ecdsa_sha1";
    return certa_sig_scheme_name(s);
}

static const char *group_name(uint16_t g) {
    return certa_group_name(g);
}

static bool remove_one(uint16_t *list, size_t *n, uint16_t v) {
    size_t k = 0;
    for (size_t i = 0; i < *n; i++)
        if (list[i] != v) list[k++] = list[i];
    bool found = k != *n;
    *n = k;
    return found;
}

/* One TLS 1.2 ClientHello read up to its ServerKeyExchange. */
static void probe12(diag_ctx *ctx, const uint16_t *suites, size_t ns, const uint16_t *groups,
                    size_t ng, const uint16_t *sigs, size_t nsig, raw_answer *a) {
    raw_hello h = {.record_version = 0x0301,
                   .legacy_version = 0x0303,
                   .suites = suites,
                   .suite_count = ns,
                   .groups = groups,
                   .group_count = ng,
                   .sigs = sigs,
                   .sig_count = nsig,
                   .reneg_info = true,
                   .want_ske = true};
    raw_probe(ctx, &h, a);
}

static bool took12(const raw_answer *a) {
    return a->outcome == RAW_SERVER_HELLO && a->version == 0x0303 && a->ske_seen;
}

static void groups12(diag_ctx *ctx, diag_report *r, key_kind k) {
    uint16_t offer[N(ec_groups12)], chosen[N(ec_groups12)];
    size_t n = N(ec_groups12), got = 0;
    memcpy(offer, ec_groups12, sizeof offer);
    bool complete = false;
    if (ctx->ske_group_first && remove_one(offer, &n, ctx->ske_group_first))
        chosen[got++] = ctx->ske_group_first;
    while (ctx->ecdhe_accepted && n > 0) {
        if (!diag_budget_left(ctx, 1)) {
            diag_skip(ctx, "TLS 1.2 groups");
            break;
        }
        raw_answer a;
        probe12(ctx, ecdhe_suites, N(ecdhe_suites), offer, n, NULL, 0, &a);
        if (a.outcome == RAW_NO_CONN) break;
        if (!took12(&a) || !remove_one(offer, &n, a.ske_group)) {
            complete = true;
            break;
        }
        chosen[got++] = a.ske_group;
        if (n == 0) complete = true;
    }
    /* RFC 8422 5.1: supported_groups also names the curves a client can
     * verify, so an ECDSA server may refuse once its own curve is gone. */
    const char *ecdsa_note = k == KEY_ECDSA && complete && n > 0
                                 ? "; the rest were refused, as a server with an ECDSA "
                                   "certificate may once its certificate's curve is no longer "
                                   "offered (RFC 8422 5.1)"
                                 : "";
    if (got) {
        char list[256] = "";
        for (size_t i = 0; i < got; i++)
            list_add(list, sizeof list, group_name(chosen[i]));
        diag_addf(r, "GROUPS-TLS12", G_GROUPS, SEV_INFO, "TLS 1.2 ECDHE groups accepted", NULL,
                  NULL,
                  "%s, in the order the server chose them (x25519, secp256r1, secp384r1, "
                  "secp521r1 offered)%s%s",
                  list, ecdsa_note, complete ? "" : " (list cut short by --max-conns)");
    }
}

static void dhe_prime(diag_ctx *ctx, diag_report *r) {
    if (!ctx->dhe_accepted) return;
    if (!diag_budget_left(ctx, 1)) {
        diag_skip(ctx, "TLS 1.2 DHE prime size");
        return;
    }
    raw_answer a;
    probe12(ctx, dhe_suites, N(dhe_suites), ffdhe_groups, N(ffdhe_groups), NULL, 0, &a);
    if (!took12(&a) || !a.dh_bits) return;
    if (a.dh_bits < 2048)
        diag_addf(r, "GROUPS-TLS12-WEAK", G_GROUPS, SEV_WARN, "DHE with a prime under 2048 bits",
                  "a DH prime under 2048 bits is within reach of a well-funded attacker "
                  "(Logjam, CVE-2015-4000), and 1024-bit primes shared by many servers have "
                  "been precomputed",
                  "use a 2048-bit or larger prime (an RFC 7919 ffdhe group) or drop the DHE "
                  "suites for ECDHE",
                  "%s used a %u-bit prime although ffdhe2048-8192 were offered",
                  raw_suite_name(a.suite), a.dh_bits);
    else
        diag_addf(r, "GROUPS-TLS12-DHE", G_GROUPS, SEV_INFO, "DHE prime size", NULL, NULL,
                  "%s used a %u-bit prime", raw_suite_name(a.suite), a.dh_bits);
}

static bool sig12_suites(const diag_ctx *ctx, const uint16_t **suites, size_t *ns) {
    *suites = ctx->ecdhe_accepted ? ecdhe_suites : dhe_suites;
    *ns = ctx->ecdhe_accepted ? N(ecdhe_suites) : N(dhe_suites);
    return ctx->ecdhe_accepted || ctx->dhe_accepted; /* else no ServerKeyExchange to read */
}

/* Does the server sign with SHA-1 when that is all a client offers? */
static void sha1_12(diag_ctx *ctx, key_kind k, char *weak, size_t weak_cap) {
    const uint16_t *suites;
    size_t ns;
    if (!sig12_suites(ctx, &suites, &ns)) return;
    if (!diag_budget_left(ctx, 1)) {
        diag_skip(ctx, "TLS 1.2 SHA-1 signatures");
        return;
    }
    uint16_t sha1[2];
    size_t n1 = sha1_schemes(k, sha1);
    raw_answer a;
    probe12(ctx, suites, ns, ec_groups12, N(ec_groups12), sha1, n1, &a);
    if (took12(&a) && (a.ske_sig == 0x0201 || a.ske_sig == 0x0203))
        list_add(weak, weak_cap, sig_name(a.ske_sig));
}

static void sigs12(diag_ctx *ctx, diag_report *r, key_kind k) {
    const uint16_t *suites;
    size_t ns;
    if (!sig12_suites(ctx, &suites, &ns)) return;
    raw_answer a;
    uint16_t offer[16], chosen[16];
    size_t n = tls12_candidates(k, offer), got = 0;
    bool complete = false;
    if (ctx->ske_sig_first && remove_one(offer, &n, ctx->ske_sig_first))
        chosen[got++] = ctx->ske_sig_first;
    while (n > 0) {
        if (!diag_budget_left(ctx, 1)) {
            diag_skip(ctx, "TLS 1.2 signature schemes");
            break;
        }
        probe12(ctx, suites, ns, ec_groups12, N(ec_groups12), offer, n, &a);
        if (a.outcome == RAW_NO_CONN) break;
        if (!took12(&a) || !remove_one(offer, &n, a.ske_sig)) {
            complete = true;
            break;
        }
        chosen[got++] = a.ske_sig;
        if (n == 0) complete = true;
    }
    if (!got) return;
    char list[512] = "";
    for (size_t i = 0; i < got; i++)
        list_add(list, sizeof list, sig_name(chosen[i]));
    diag_addf(r, "SIG-SCHEMES-TLS12", G_GROUPS, SEV_INFO,
              "TLS 1.2 signature schemes the server signs with", NULL, NULL,
              "%s, in the order the server chose them%s", list,
              complete ? "" : " (list cut short by --max-conns)");
}

/* TLS 1.3: is a ClientHello offering only this scheme answered? */
static raw_outcome probe13(diag_ctx *ctx, uint16_t scheme) {
    static const uint16_t suites13[] = {0x1301, 0x1302, 0x1303};
    static const uint16_t x25519[] = {0x001d};
    raw_hello h = {.record_version = 0x0301,
                   .legacy_version = 0x0303,
                   .suites = suites13,
                   .suite_count = N(suites13),
                   .groups = x25519,
                   .group_count = 1,
                   .sigs = &scheme,
                   .sig_count = 1,
                   .tls13 = true,
                   .x25519_share = true};
    raw_answer a;
    raw_probe(ctx, &h, &a);
    if (a.outcome == RAW_SERVER_HELLO && a.version != 0x0304) return RAW_GARBAGE;
    return a.outcome;
}

static void sigs13(diag_ctx *ctx, diag_report *r, key_kind k, uint16_t seen, char *weak,
                   size_t weak_cap) {
    uint16_t cand[4];
    size_t n = 0;
    if (k == KEY_RSA) {
        cand[n++] = 0x0401; /* forbidden in a TLS 1.3 CertificateVerify: asked first */
        cand[n++] = 0x0804;
        cand[n++] = 0x0805;
        cand[n++] = 0x0806;
    } else if (k == KEY_RSA_PSS) {
        cand[n++] = 0x0809;
        cand[n++] = 0x080a;
        cand[n++] = 0x080b;
    }
    char list[256] = "", refused[256] = "";
    if (seen) list_add(list, sizeof list, sig_name(seen));
    bool complete = true;
    for (size_t i = 0; i < n; i++) {
        if (cand[i] == seen) continue;
        if (!diag_budget_left(ctx, 1)) {
            diag_skip(ctx, "TLS 1.3 signature schemes");
            complete = false;
            break;
        }
        raw_outcome o = probe13(ctx, cand[i]);
        if (o == RAW_NO_CONN) {
            complete = false;
            break;
        }
        if (o == RAW_SERVER_HELLO) {
            list_add(list, sizeof list, sig_name(cand[i]));
            if (cand[i] == 0x0401) list_add(weak, weak_cap, "rsa_pkcs1_sha256 in TLS 1.3");
        } else {
            list_add(refused, sizeof refused, sig_name(cand[i]));
        }
    }
    if (!list[0]) return;
    diag_addf(r, "SIG-SCHEMES-TLS13", G_GROUPS, SEV_INFO,
              "TLS 1.3 signature schemes the server accepts", NULL, NULL, "%s%s%s%s%s", list,
              refused[0] ? "; refused when offered alone: " : "", refused,
              n ? "" : " (the only scheme for this certificate's key)",
              complete ? "" : " (list cut short by --max-conns)");
}

void groups_sigs_probes(diag_ctx *ctx, diag_report *r, bool tls13, bool tls12,
                        const char *leaf_key_type, uint16_t sig13_seen) {
    key_kind k = kind_of(leaf_key_type);
    char weak[256] = "";
    /* The weak first, then the lists. */
    if (tls12) {
        diag_progress(ctx, "TLS 1.2 SHA-1 signatures");
        sha1_12(ctx, k, weak, sizeof weak);
    }
    if (tls13) {
        diag_progress(ctx, "TLS 1.3 signature schemes");
        sigs13(ctx, r, k, sig13_seen, weak, sizeof weak);
    }
    if (weak[0])
        diag_addf(r, "SIG-SCHEMES-WEAK", G_GROUPS, SEV_WARN, "weak signature schemes accepted",
                  "SHA-1 signatures are open to chosen-prefix collisions (SLOTH, CVE-2015-7575), "
                  "and TLS 1.3 forbids RSA PKCS#1 v1.5 in CertificateVerify (RFC 8446 4.4.3)",
                  "remove them from the server's signature algorithms (OpenSSL: "
                  "SignatureAlgorithms / -sigalgs; nginx: ssl_conf_command SignatureAlgorithms)",
                  "the server signed with: %s", weak);
    if (!tls12) return;
    diag_progress(ctx, "TLS 1.2 groups");
    dhe_prime(ctx, r);
    groups12(ctx, r, k);
    diag_progress(ctx, "TLS 1.2 signature schemes");
    sigs12(ctx, r, k);
}
