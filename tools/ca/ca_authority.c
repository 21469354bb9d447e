/* certa ca init and certa ca renew: the CA certificates themselves.
 *
 *   certa ca init DIR [--name NAME] [--ttl 8760h] [--path-len N]
 *   certa ca init DIR --intermediate --parent PDIR [--name NAME] [--ttl 4380h]
 *                [--path-len N] [--permit-dns NAME]... [--exclude-dns NAME]...
 *                [--permit-uri HOST]... [--exclude-uri HOST]...
 *   certa ca renew DIR [--ttl T] [--parent PDIR] [--path-len N]
 *
 * A root signs itself; an intermediate is signed by the CA in PDIR (its
 * key, under PDIR's lock) and recorded in PDIR's serials.txt like any
 * certificate PDIR issues. An intermediate's DIR also holds chain.crt —
 * its own certificate, then its parent's chain.crt if the parent is an
 * intermediate too: every certificate between a leaf and the root, which
 * `ca issue` appends to each leaf's NAME.crt so that servers send the whole
 * chain — and parent (the parent directory, for renew).
 *
 * Renewal keeps the key, the subject, the path length and the name
 * constraints: certificates issued before carry the same issuer name and
 * authorityKeyIdentifier, and their signatures check under the new CA
 * certificate as under the old, so they verify with either anchor while
 * each is valid. The old certificate is kept as ca.prev.crt. */
#include "ca/ca_store.h"
#include "common/cli_common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ca_crypto.h"
#include "crypto/crypto.h"
#include "wire/der.h"
#include "wire/der_build.h"
#include "x509/cert.h"
#include "x509/extensions.h"
#include "x509/issue.h"
#include "x509/pem.h"

#define SKEW_SECONDS 300 /* notBefore this far in the past */
#define MAX_CONSTRAINTS 32
#define MAX_PATH_LEN 8

/* What a CA certificate says about the CA beyond its name and key. */
typedef struct ca_profile {
    int path_len; /* -1: no pathLenConstraint */
    const char *permit_dns[MAX_CONSTRAINTS], *exclude_dns[MAX_CONSTRAINTS];
    const char *permit_uri[MAX_CONSTRAINTS], *exclude_uri[MAX_CONSTRAINTS];
    size_t n_permit_dns, n_exclude_dns, n_permit_uri, n_exclude_uri;
    char *owned[4 * MAX_CONSTRAINTS]; /* copies read from a certificate */
    size_t n_owned;
} ca_profile;

static void profile_free(ca_profile *pr) {
    for (size_t i = 0; i < pr->n_owned; i++)
        free(pr->owned[i]);
    pr->n_owned = 0;
}

static bool add_name(const char **list, size_t *n, const char *name, const char *opt) {
    if (*n == MAX_CONSTRAINTS) {
        cli_err("ca: at most %d %s", MAX_CONSTRAINTS, opt);
        return false;
    }
    list[(*n)++] = name;
    return true;
}

/* A constraint base: a DNS name ("example.org"); a URI host may also be a
 * domain with a leading dot (".example.org"). No wildcards. */
static bool constraint_ok(const char *opt, const char *v, bool dot_allowed) {
    char why[200];
    const char *name = dot_allowed && v[0] == '.' ? v + 1 : v;
    if (strchr(v, '*') || !x509_check_dns_name(name, why, sizeof why)) {
        cli_err("ca init: %s '%s': %s", opt, v,
                strchr(v, '*') ? "a constraint covers subdomains by itself: no wildcard" : why);
        return false;
    }
    return true;
}

static bool parse_path_len(const char *v, int *out) {
    long n;
    if (!cli_parse_long(v, 0, MAX_PATH_LEN, &n)) {
        cli_err("ca: --path-len: expected 0 to %d (how many intermediate CAs may follow), got "
                "'%s'",
                MAX_PATH_LEN, v);
        return false;
    }
    *out = (int)n;
    return true;
}

/* The subtrees of a certificate's nameConstraints, into pr (copies). */
static bool read_subtrees(cursor subtrees, bool permitted, ca_profile *pr) {
    while (subtrees.len > 0) {
        cursor sub, value;
        uint8_t tag;
        if (!der_get(&subtrees, DER_SEQUENCE, &sub) || !x509_next_general_name(&sub, &tag, &value))
            return false;
        if ((tag != GN_DNS && tag != GN_URI) || pr->n_owned == 4 * MAX_CONSTRAINTS) {
            cli_err("ca renew: the CA certificate has a name constraint of a kind certa ca does "
                    "not write (only DNS and URI bases): renew it with the tool that made it");
            return false;
        }
        char *copy = malloc(value.len + 1);
        if (!copy) return false;
        memcpy(copy, value.data, value.len);
        copy[value.len] = 0;
        pr->owned[pr->n_owned++] = copy;
        const char **list = tag == GN_DNS ? (permitted ? pr->permit_dns : pr->exclude_dns)
                                          : (permitted ? pr->permit_uri : pr->exclude_uri);
        size_t *n = tag == GN_DNS ? (permitted ? &pr->n_permit_dns : &pr->n_exclude_dns)
                                  : (permitted ? &pr->n_permit_uri : &pr->n_exclude_uri);
        if (!add_name(list, n, copy, "name constraints")) return false;
    }
    return true;
}

static bool profile_of_cert(const x509_cert *cert, ca_profile *pr) {
    memset(pr, 0, sizeof *pr);
    x509_exts e;
    char why[200];
    if (x509_parse_extensions(cert, &e, why, sizeof why) != X509_EXT_OK || !e.ca) {
        cli_err("ca renew: the CA certificate's extensions do not read as a CA's (%s)", why);
        return false;
    }
    pr->path_len = e.path_len;
    if (e.has_permitted && !read_subtrees(e.nc_permitted, true, pr)) return false;
    if (e.has_excluded && !read_subtrees(e.nc_excluded, false, pr)) return false;
    return true;
}

static void profile_to_params(const ca_profile *pr, x509_issue_params *p) {
    p->is_ca = true;
    p->path_len = pr->path_len;
    p->nc_permit_dns = pr->permit_dns;
    p->n_nc_permit_dns = pr->n_permit_dns;
    p->nc_exclude_dns = pr->exclude_dns;
    p->n_nc_exclude_dns = pr->n_exclude_dns;
    p->nc_permit_uri = pr->permit_uri;
    p->n_nc_permit_uri = pr->n_permit_uri;
    p->nc_exclude_uri = pr->exclude_uri;
    p->n_nc_exclude_uri = pr->n_exclude_uri;
}

static void describe_profile(const ca_profile *pr, char *out, size_t cap) {
    size_t len = 0;
    out[0] = 0;
    if (pr->path_len >= 0)
        len += (size_t)snprintf(out, cap, "pathLen %d", pr->path_len);
    else
        len += (size_t)snprintf(out, cap, "no path length limit");
    struct {
        const char *what;
        const char *const *v;
        size_t n;
    } parts[] = {{"permitted DNS", pr->permit_dns, pr->n_permit_dns},
                 {"excluded DNS", pr->exclude_dns, pr->n_exclude_dns},
                 {"permitted URI hosts", pr->permit_uri, pr->n_permit_uri},
                 {"excluded URI hosts", pr->exclude_uri, pr->n_exclude_uri}};
    for (size_t k = 0; k < 4; k++) {
        if (!parts[k].n || len + 1 >= cap) continue;
        len += (size_t)snprintf(out + len, cap - len, "; %s:", parts[k].what);
        for (size_t i = 0; i < parts[k].n && len + 1 < cap; i++)
            len += (size_t)snprintf(out + len, cap - len, " %s", parts[k].v[i]);
    }
}

/* The parent may sign a CA with path length child_len? Says why not. */
static bool parent_allows(const ca_state *parent, int child_len) {
    x509_exts e;
    if (x509_parse_extensions(&parent->cert, &e, NULL, 0) != X509_EXT_OK || !e.ca) {
        cli_err("the parent %s is not a CA certificate", parent->dir);
        return false;
    }
    if (e.path_len == 0) {
        cli_err("the parent CA in %s has pathLenConstraint 0: it may issue leaf certificates "
                "only. Renew it with room for an intermediate: certa ca renew %s --path-len 1",
                parent->dir, parent->dir);
        return false;
    }
    if (e.path_len > 0 && (child_len < 0 || child_len >= e.path_len)) {
        cli_err("the parent CA in %s allows %d more CA level%s below it: give the intermediate "
                "--path-len %d or less",
                parent->dir, e.path_len - 1, e.path_len - 1 == 1 ? "" : "s", e.path_len - 1);
        return false;
    }
    return true;
}

/* PEM of the certificate, then the parent's chain.crt when it has one. */
static bool write_chain(const char *dir, const char *pem, size_t pem_len, const char *parent_dir) {
    char chain[CA_PATH_CAP], parent_chain[CA_PATH_CAP];
    if (!path_join(chain, sizeof chain, dir, "chain.crt") ||
        !path_join(parent_chain, sizeof parent_chain, parent_dir, "chain.crt"))
        return false;
    char *up = NULL;
    size_t up_len = 0;
    if (exists(parent_chain) && read_file(parent_chain, &up, &up_len) != 0) {
        cli_err("cannot read %s", parent_chain);
        return false;
    }
    char *all = malloc(pem_len + up_len + 1);
    if (!all) {
        free(up);
        return false;
    }
    memcpy(all, pem, pem_len);
    if (up_len) memcpy(all + pem_len, up, up_len);
    bool ok = write_file(chain, all, pem_len + up_len, 0644, false);
    free(all);
    free(up);
    return ok;
}

/* Records a CA certificate PDIR issued in PDIR's serials.txt. */
static bool record_issued(const char *parent_dir, const uint8_t *serial, size_t serial_len,
                          int64_t not_after, const char *crt, const char *subject) {
    char serials[CA_PATH_CAP], hex[64], line[CA_PATH_CAP + 700];
    if (!path_join(serials, sizeof serials, parent_dir, "serials.txt")) return false;
    hex_upper(serial, serial_len, hex, sizeof hex);
    snprintf(line, sizeof line, "%s\t%lld\t%s\tCA:%s\n", hex, (long long)not_after, crt, subject);
    return append_line(serials, line);
}

/* ---- init ---- */

int ca_init(int argc, char **argv) {
    const char *dir = NULL, *name = NULL, *ttl_s = NULL, *parent_dir = NULL, *key_uri = NULL;
    bool intermediate = false, path_len_given = false;
    ca_profile pr;
    memset(&pr, 0, sizeof pr);
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--name", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            name = v;
        } else if ((m = cli_opt(argc, argv, &i, "--ttl", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            ttl_s = v;
        } else if ((m = cli_opt(argc, argv, &i, "--key", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            if (strncmp(v, "pkcs11:", 7) != 0 || strchr(v, '\n')) {
                cli_err("ca init: --key takes a PKCS#11 URI (pkcs11:token=T;object=K?pin-source="
                        "file:F) for a CA key kept on a token; without it a P-256 key is made");
                return CLI_EXIT_USAGE;
            }
            key_uri = v;
        } else if ((m = cli_pkcs11_module_opt(argc, argv, &i)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
        } else if ((m = cli_opt(argc, argv, &i, "--parent", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            parent_dir = v;
        } else if ((m = cli_opt(argc, argv, &i, "--path-len", &v)) != 0) {
            if (m < 0 || !parse_path_len(v, &pr.path_len)) return CLI_EXIT_USAGE;
            path_len_given = true;
        } else if ((m = cli_opt(argc, argv, &i, "--permit-dns", &v)) != 0) {
            if (m < 0 || !constraint_ok("--permit-dns", v, false) ||
                !add_name(pr.permit_dns, &pr.n_permit_dns, v, "--permit-dns"))
                return CLI_EXIT_USAGE;
        } else if ((m = cli_opt(argc, argv, &i, "--exclude-dns", &v)) != 0) {
            if (m < 0 || !constraint_ok("--exclude-dns", v, false) ||
                !add_name(pr.exclude_dns, &pr.n_exclude_dns, v, "--exclude-dns"))
                return CLI_EXIT_USAGE;
        } else if ((m = cli_opt(argc, argv, &i, "--permit-uri", &v)) != 0) {
            if (m < 0 || !constraint_ok("--permit-uri", v, true) ||
                !add_name(pr.permit_uri, &pr.n_permit_uri, v, "--permit-uri"))
                return CLI_EXIT_USAGE;
        } else if ((m = cli_opt(argc, argv, &i, "--exclude-uri", &v)) != 0) {
            if (m < 0 || !constraint_ok("--exclude-uri", v, true) ||
                !add_name(pr.exclude_uri, &pr.n_exclude_uri, v, "--exclude-uri"))
                return CLI_EXIT_USAGE;
        } else if (!strcmp(argv[i], "--intermediate")) {
            intermediate = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ca_usage(stdout);
            return CLI_EXIT_OK;
        } else if (argv[i][0] == '-') {
            cli_err("ca init: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!dir) {
            dir = argv[i];
        } else {
            cli_err("ca init: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!dir) {
        cli_err("ca init: which directory? certa ca init DIR");
        return CLI_EXIT_USAGE;
    }
    if (intermediate != (parent_dir != NULL)) {
        cli_err(intermediate ? "ca init: --intermediate needs --parent DIR (the CA that signs it)"
                             : "ca init: --parent is for an intermediate: add --intermediate");
        return CLI_EXIT_USAGE;
    }
    /* A root leaves room for one level of intermediates; an intermediate
     * issues leaves only, unless told otherwise. */
    if (!path_len_given) pr.path_len = intermediate ? 0 : 1;
    if (!name) name = intermediate ? "certa dev intermediate CA" : "certa dev CA";
    if (!ttl_s) ttl_s = intermediate ? "4380h" : "8760h";
    int64_t ttl;
    if (!parse_ttl(ttl_s, &ttl)) {
        cli_err("ca init: bad --ttl '%s': use a number and a unit, e.g. 8760h, 365d, 90m", ttl_s);
        return CLI_EXIT_USAGE;
    }
    if (!*name || strlen(name) > 64 || !der_is_utf8(name, strlen(name))) {
        cli_err("ca init: --name must be 1-64 bytes of UTF-8 text");
        return CLI_EXIT_USAGE;
    }

    char crt[CA_PATH_CAP], keyp[CA_PATH_CAP], serials[CA_PATH_CAP], revoked[CA_PATH_CAP],
        parent_rec[CA_PATH_CAP];
    if (!path_join(crt, sizeof crt, dir, "ca.crt") ||
        !path_join(keyp, sizeof keyp, dir, "ca.key") ||
        !path_join(serials, sizeof serials, dir, "serials.txt") ||
        !path_join(revoked, sizeof revoked, dir, "revoked.txt") ||
        !path_join(parent_rec, sizeof parent_rec, dir, "parent")) {
        cli_err("path too long: %s", dir);
        return CLI_EXIT_USAGE;
    }
    if (exists(crt) || exists(keyp)) {
        cli_err("a CA already exists in %s (%s): refusing to overwrite it; use another "
                "directory or remove this one first",
                dir, exists(keyp) ? keyp : crt);
        return CLI_EXIT_FAIL;
    }
    if (mkdir(dir, 0700) != 0) {
        struct stat st;
        if (errno != EEXIST || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            cli_err("cannot create the directory %s: %s", dir, strerror(errno));
            return CLI_EXIT_FAIL;
        }
    }

    ca_state ca, parent;
    memset(&ca, 0, sizeof ca);
    memset(&parent, 0, sizeof parent);
    ca.dir = dir;
    ca.lock_fd = -1;
    parent.lock_fd = -1;
    int rc = CLI_EXIT_FAIL;
    uint8_t serial[X509_SERIAL_LEN];
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *pem = NULL, *key_pem = NULL;
    size_t pem_len = 0, key_pem_len = 0;
    crypto_key *key = NULL;
    if (!ca_lock(&ca)) goto done;
    /* Re-check under the lock: a concurrent init may have won. */
    if (exists(crt) || exists(keyp)) {
        cli_err("a CA already exists in %s: refusing to overwrite it", dir);
        goto done;
    }
    int64_t now = (int64_t)time(NULL);
    if (intermediate) {
        if (!ca_open(&parent, parent_dir) || !parent_allows(&parent, pr.path_len)) goto done;
        if (now + ttl > parent.cert.not_after) {
            char end[64];
            cli_format_time(parent.cert.not_after, end, sizeof end);
            cli_err("--ttl %s would outlive the parent CA, which expires on %s: use a shorter "
                    "--ttl, or renew the parent first (certa ca renew %s --ttl ...)",
                    ttl_s, end, parent_dir);
            goto done;
        }
    }
    if (key_uri) {
        char why[512];
        if (key_from_pkcs11_uri(key_uri, NULL, &key, why, sizeof why) != 0) {
            cli_err("ca init: --key: %s", why);
            goto done;
        }
    } else {
        key = key_generate(KEYGEN_P256);
    }
    if (!key || x509_random_serial(serial) != 0) {
        cli_err("cannot generate the CA key");
        goto done;
    }
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.subject_cn = name;
    p.not_before = now - SKEW_SECONDS;
    p.not_after = now + ttl;
    profile_to_params(&pr, &p);
    if (intermediate) {
        p.issuer = parent.cert.subject.data;
        p.issuer_len = parent.cert.subject.len;
        p.issuer_key_id = parent.key_id;
        p.issuer_key_id_len = parent.key_id_len;
        if (p.not_before < parent.cert.not_before) p.not_before = parent.cert.not_before;
    }
    if (x509_issue(&p, key, intermediate ? parent.key : key, &der, &der_len) != 0 ||
        x509_pem_encode("CERTIFICATE", der, der_len, &pem, &pem_len) != 0) {
        cli_err("cannot build the CA certificate");
        goto done;
    }
    if (key_uri) { /* ca.key names the token's key; the key itself stays there */
        key_pem_len = strlen(key_uri) + 1;
        key_pem = malloc(key_pem_len + 1);
        if (!key_pem) goto done;
        snprintf(key_pem, key_pem_len + 1, "%s\n", key_uri);
    } else if (key_private_pem(key, &key_pem, &key_pem_len) != 0) {
        cli_err("cannot encode the CA key");
        goto done;
    }
    if (!write_file(keyp, key_pem, key_pem_len, 0600, true)) goto done;
    if (!write_file(crt, pem, pem_len, 0644, true)) {
        unlink(keyp);
        goto done;
    }
    if (!exists(serials)) append_line(serials, "# serial\tnot_after\tfile\tidentities\n");
    if (!exists(revoked)) append_line(revoked, "# serial\trevoked_at\treason\n");
    char real_parent[PATH_MAX] = "";
    if (intermediate) {
        if (!realpath(parent_dir, real_parent))
            snprintf(real_parent, sizeof real_parent, "%s", parent_dir);
        char rec[PATH_MAX + 2];
        int rl = snprintf(rec, sizeof rec, "%s\n", real_parent);
        if (!write_file(parent_rec, rec, (size_t)rl, 0644, false) ||
            !write_chain(dir, pem, pem_len, parent_dir) ||
            !record_issued(parent_dir, serial, sizeof serial, p.not_after, crt, name)) {
            cli_err("the intermediate was made but its chain or record was not written");
            goto done;
        }
    }

    char hex[64], when[64], left[64], prof[800];
    hex_upper(serial, sizeof serial, hex, sizeof hex);
    cli_format_time(p.not_after, when, sizeof when);
    fmt_duration(ttl, left, sizeof left);
    describe_profile(&pr, prof, sizeof prof);
    if (intermediate)
        printf("created intermediate CA \"%s\" in %s, signed by %s (%s)\n"
               "  certificate: %s\n"
               "  chain:       %s/chain.crt  (this CA up to, not including, the root: `ca issue`\n"
               "               appends it to each certificate, servers send it)\n"
               "  trust:       the root's ca.crt, as -CAfile / --trust\n",
               name, dir, parent.subject, parent_dir, crt, dir);
    else
        printf("created CA \"%s\" in %s\n"
               "  certificate: %s  (the trust anchor: give it to verifiers as -CAfile / --trust)\n",
               name, dir, crt);
    printf("  private key: %s  (ECDSA P-256, PKCS#8, mode 0600: keep it secret)\n"
           "  serial:      %s\n"
           "  subject:     CN=%s\n"
           "  constraints: %s\n"
           "  not after:   %s (expires in %s)\n"
           "next: certa ca issue %s --out NAME --dns localhost --spiffe spiffe://example.org/app\n",
           keyp, hex, name, prof, when, left, dir);
    rc = CLI_EXIT_OK;
done:
    if (key_pem) {
        crypto_zero(key_pem, key_pem_len);
        free(key_pem);
    }
    free(pem);
    free(der);
    key_free(key);
    ca_close(&parent);
    ca_close(&ca);
    return rc;
}

/* ---- renew ---- */

static bool read_parent_record(const char *dir, char *out, size_t cap) {
    char rec[CA_PATH_CAP];
    char *text = NULL;
    size_t len = 0;
    if (!path_join(rec, sizeof rec, dir, "parent") || !exists(rec) ||
        read_file(rec, &text, &len) != 0)
        return false;
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        len--;
    bool ok = len > 0 && len < cap;
    if (ok) {
        memcpy(out, text, len);
        out[len] = 0;
    }
    free(text);
    return ok;
}

int ca_renew(int argc, char **argv) {
    const char *dir = NULL, *ttl_s = NULL, *parent_dir = NULL;
    int new_path_len = -2; /* -2: keep */
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--ttl", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            ttl_s = v;
        } else if ((m = cli_opt(argc, argv, &i, "--parent", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            parent_dir = v;
        } else if ((m = cli_opt(argc, argv, &i, "--path-len", &v)) != 0) {
            if (m < 0 || !parse_path_len(v, &new_path_len)) return CLI_EXIT_USAGE;
        } else if (argv[i][0] == '-') {
            cli_err("ca renew: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!dir) {
            dir = argv[i];
        } else {
            cli_err("ca renew: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!dir) {
        cli_err("ca renew: which CA? certa ca renew DIR [--ttl 8760h]");
        return CLI_EXIT_USAGE;
    }
    int64_t ttl = 0;
    if (ttl_s && !parse_ttl(ttl_s, &ttl)) {
        cli_err("ca renew: bad --ttl '%s': use a number and a unit, e.g. 8760h, 365d", ttl_s);
        return CLI_EXIT_USAGE;
    }
    char crt[CA_PATH_CAP], prev[CA_PATH_CAP], recorded[PATH_MAX];
    if (!path_join(crt, sizeof crt, dir, "ca.crt") ||
        !path_join(prev, sizeof prev, dir, "ca.prev.crt")) {
        cli_err("path too long: %s", dir);
        return CLI_EXIT_USAGE;
    }
    ca_state ca, parent;
    memset(&parent, 0, sizeof parent);
    parent.lock_fd = -1;
    ca_profile pr;
    memset(&pr, 0, sizeof pr);
    int rc = CLI_EXIT_FAIL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    char *pem = NULL;
    size_t pem_len = 0;
    if (!ca_open(&ca, dir) || !profile_of_cert(&ca.cert, &pr)) goto done;
    if (new_path_len != -2) pr.path_len = new_path_len;
    bool root = ca.cert.issuer.len == ca.cert.subject.len &&
                memcmp(ca.cert.issuer.data, ca.cert.subject.data, ca.cert.subject.len) == 0;
    if (!root) {
        if (!parent_dir && read_parent_record(dir, recorded, sizeof recorded))
            parent_dir = recorded;
        if (!parent_dir) {
            cli_err("ca renew: %s is an intermediate and no parent is recorded: give --parent "
                    "DIR (the CA that signed it)",
                    dir);
            goto done;
        }
        if (!ca_open(&parent, parent_dir)) goto done;
        if (parent.cert.subject.len != ca.cert.issuer.len ||
            memcmp(parent.cert.subject.data, ca.cert.issuer.data, ca.cert.issuer.len) != 0) {
            cli_err("ca renew: %s (%s) did not sign %s (its issuer is another name)", parent_dir,
                    parent.subject, crt);
            goto done;
        }
        if (!parent_allows(&parent, pr.path_len)) goto done;
    }
    int64_t now = (int64_t)time(NULL);
    if (!ttl) ttl = ca.cert.not_after - ca.cert.not_before; /* the same lifetime again */
    if (ttl < 60) ttl = 60;
    int64_t not_after = now + ttl;
    if (!root && not_after > parent.cert.not_after) {
        char end[64];
        cli_format_time(parent.cert.not_after, end, sizeof end);
        cli_err("the renewed certificate would outlive its parent, which expires on %s: renew "
                "the parent first, or give a shorter --ttl",
                end);
        goto done;
    }
    uint8_t serial[X509_SERIAL_LEN];
    if (x509_random_serial(serial) != 0) goto done;
    x509_issue_params p;
    memset(&p, 0, sizeof p);
    p.serial = serial;
    p.serial_len = sizeof serial;
    p.subject = ca.cert.subject.data; /* byte for byte: issued certificates name it */
    p.subject_len = ca.cert.subject.len;
    p.not_before = now - SKEW_SECONDS;
    p.not_after = not_after;
    profile_to_params(&pr, &p);
    if (!root) {
        p.issuer = parent.cert.subject.data;
        p.issuer_len = parent.cert.subject.len;
        p.issuer_key_id = parent.key_id;
        p.issuer_key_id_len = parent.key_id_len;
        if (p.not_before < parent.cert.not_before) p.not_before = parent.cert.not_before;
    }
    if (x509_issue(&p, ca.key, root ? ca.key : parent.key, &der, &der_len) != 0 ||
        x509_pem_encode("CERTIFICATE", der, der_len, &pem, &pem_len) != 0) {
        cli_err("cannot build the renewed CA certificate");
        goto done;
    }
    /* The old certificate stays usable (and on disk) until it expires. */
    if (!write_file(prev, ca.cert_pem, ca.cert_pem_len, 0644, false) ||
        !write_file(crt, pem, pem_len, 0644, false))
        goto done;
    if (!root && (!write_chain(dir, pem, pem_len, parent_dir) ||
                  !record_issued(parent_dir, serial, sizeof serial, not_after, crt, ca.subject))) {
        cli_err("the CA certificate was renewed but its chain or record was not written");
        goto done;
    }
    char hex[64], when[64], old_end[64], prof[800], kid[2 * X509_MAX_KEY_ID + 1];
    hex_upper(serial, sizeof serial, hex, sizeof hex);
    hex_upper(ca.key_id, ca.key_id_len, kid, sizeof kid);
    cli_format_time(not_after, when, sizeof when);
    cli_format_time(ca.cert.not_after, old_end, sizeof old_end);
    describe_profile(&pr, prof, sizeof prof);
    printf("renewed the CA certificate in %s (%s)\n"
           "  certificate: %s  (serial %s, not after %s)\n"
           "  previous:    %s  (valid until %s)\n"
           "  key:         the same (key id %s): certificates issued before verify under\n"
           "               either certificate while it is valid; hand the new one to verifiers\n"
           "  constraints: %s\n",
           dir, root ? "a root, signed by itself" : parent.subject, crt, hex, when, prev, old_end,
           kid, prof);
    if (!root) printf("  chain:       %s/chain.crt rewritten\n", dir);
    rc = CLI_EXIT_OK;
done:
    free(pem);
    free(der);
    profile_free(&pr);
    ca_close(&parent);
    ca_close(&ca);
    return rc;
}
