/* Revocation policy of a config: its mode and its CRLs, and the handshake's
 * judgement of the peer's chain (both sides, TLS 1.3 and 1.2).
 *
 * The CRLs form an immutable, reference-counted set. Adding or reloading
 * builds a new set and swaps the pointer under crl_lock; a handshake takes
 * a reference for the length of its chain validation, so a reload never
 * changes a list under a validation in progress and the old set goes away
 * with its last user. */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/dir_list.h"
#include "tls/tls.h"
#include "x509/crl.h"
#include "x509/crl_index.h"
#include "x509/pem.h"

#define MAX_CRLS 1024 /* CRLs in one set */
#define MAX_CRL_DIR_FILES 4096

struct crl_set {
    atomic_int refs;
    size_t count;
    uint8_t **der;
    size_t *lens;
    crl_index **ix; /* each CRL parsed, sorted and its signature remembered (crl_index.h) */
};

static void set_free(crl_set *s) {
    if (!s) return;
    for (size_t i = 0; i < s->count; i++) {
        free(s->der[i]);
        if (s->ix[i]) crl_index_destroy(s->ix[i]);
        free(s->ix[i]);
    }
    free(s->der);
    free(s->lens);
    free(s->ix);
    free(s);
}

void crl_set_release(crl_set *s) {
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) set_free(s);
}

crl_set *config_crls_acquire(certa_config *cfg) {
    pthread_mutex_lock(&cfg->crl_lock);
    crl_set *s = cfg->crls;
    if (s) atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&cfg->crl_lock);
    return s;
}

size_t crl_set_items(const crl_set *s, const uint8_t *const **der, const size_t **lens) {
    *der = s ? (const uint8_t *const *)s->der : NULL;
    *lens = s ? s->lens : NULL;
    return s ? s->count : 0;
}

crl_index *const *crl_set_indexes(const crl_set *s) {
    return s ? s->ix : NULL;
}

/* A new empty set with room for cap CRLs. */
static crl_set *set_new(size_t cap) {
    crl_set *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    atomic_init(&s->refs, 1);
    s->der = calloc(cap ? cap : 1, sizeof *s->der);
    s->lens = calloc(cap ? cap : 1, sizeof *s->lens);
    s->ix = calloc(cap ? cap : 1, sizeof *s->ix);
    if (!s->der || !s->lens || !s->ix) {
        set_free(s);
        return NULL;
    }
    return s;
}

/* Takes ownership of der (freed on failure). */
static int set_push(certa_config *cfg, crl_set *s, size_t cap, uint8_t *der, size_t len,
                    const char *where) {
    crl_index *ix = malloc(sizeof *ix);
    if (!ix) {
        free(der);
        return CERTA_E_NOMEM;
    }
    if (crl_index_init(ix, der, len) != 0) {
        free(ix);
        free(der);
        return config_err(cfg, CERTA_E_CONFIG,
                          "%s is not a DER CertificateList (RFC 5280 §5): fetch the CRL again, or "
                          "check the file",
                          where);
    }
    if (s->count == cap) {
        crl_index_destroy(ix);
        free(ix);
        free(der);
        return config_err(cfg, CERTA_E_CONFIG, "more than %d CRLs", MAX_CRLS);
    }
    s->der[s->count] = der;
    s->ix[s->count] = ix;
    s->lens[s->count++] = len;
    return CERTA_OK;
}

static bool same_crls(const crl_set *a, const crl_set *b) {
    size_t na = a ? a->count : 0, nb = b ? b->count : 0;
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (a->lens[i] != b->lens[i] || memcmp(a->der[i], b->der[i], a->lens[i]) != 0) return false;
    return true;
}

/* Swaps next in as the config's set (next's reference passes to the
 * config). New contents mark the time: sessions authenticated before it
 * are not resumed (their peer is checked against the new CRLs); the same
 * CRLs loaded again (a reload, a refetch) change nothing. */
static void set_install(certa_config *cfg, crl_set *next) {
    pthread_mutex_lock(&cfg->crl_lock);
    crl_set *old = cfg->crls;
    cfg->crls = next;
    pthread_mutex_unlock(&cfg->crl_lock);
    if (!same_crls(old, next)) atomic_store(&cfg->crls_changed, cfg->time_fn(cfg->time_arg));
    crl_set_release(old);
}

/* A new set holding the config's current CRLs, with room for extra more. */
static crl_set *set_copy(certa_config *cfg, size_t extra, size_t *cap) {
    crl_set *cur = config_crls_acquire(cfg);
    size_t have = cur ? cur->count : 0;
    *cap = have + extra > MAX_CRLS ? MAX_CRLS : have + extra;
    crl_set *s = set_new(*cap);
    for (size_t i = 0; s && i < have && i < *cap; i++) {
        uint8_t *der = malloc(cur->lens[i]);
        if (der) memcpy(der, cur->der[i], cur->lens[i]);
        if (!der || set_push(cfg, s, *cap, der, cur->lens[i], "a CRL") != CERTA_OK) {
            set_free(s);
            s = NULL;
        }
    }
    crl_set_release(cur);
    return s;
}

/* Every "X509 CRL" block of text, or text itself as one DER CRL when it
 * has none and allow_der. */
static int set_add_text(certa_config *cfg, crl_set *s, size_t cap, const char *text, size_t len,
                        bool allow_der, const char *where) {
    size_t pos = 0, found = 0;
    for (;;) {
        uint8_t *der = NULL;
        size_t der_len = 0;
        int r = pem_next(text, len, &pos, "X509 CRL", &der, &der_len);
        if (r == 0) break;
        if (r < 0)
            return config_err(
                cfg, CERTA_E_CONFIG,
                "%s: X509 CRL block %zu is malformed PEM (bad base64, or no END line)", where,
                found + 1);
        int rc = set_push(cfg, s, cap, der, der_len, where);
        if (rc != CERTA_OK) return rc;
        found++;
    }
    if (found) return CERTA_OK;
    if (allow_der && len >= 2 && (uint8_t)text[0] == 0x30) {
        uint8_t *der = malloc(len);
        if (!der) return CERTA_E_NOMEM;
        memcpy(der, text, len);
        return set_push(cfg, s, cap, der, len, where);
    }
    return config_err(cfg, CERTA_E_CONFIG, "%s holds no \"-----BEGIN X509 CRL-----\" block%s",
                      where, allow_der ? " (nor a DER CRL)" : "");
}

int certa_config_set_revocation(certa_config *cfg, certa_revocation mode) {
    if (!cfg || mode < CERTA_REVOCATION_DEFAULT || mode > CERTA_REVOCATION_REQUIRE)
        return CERTA_E_INVALID_ARGUMENT;
    CHECK_MUTABLE(cfg);
    cfg->revocation = mode;
    return CERTA_OK;
}

int certa_config_add_crl_der(certa_config *cfg, const uint8_t *der, size_t len) {
    if (!cfg || !der || len == 0) return CERTA_E_INVALID_ARGUMENT;
    size_t cap;
    crl_set *s = set_copy(cfg, 1, &cap);
    uint8_t *copy = malloc(len);
    if (!s || !copy) {
        free(copy);
        set_free(s);
        return CERTA_E_NOMEM;
    }
    memcpy(copy, der, len);
    int rc = set_push(cfg, s, cap, copy, len, "the CRL");
    if (rc != CERTA_OK) {
        set_free(s);
        return rc;
    }
    set_install(cfg, s);
    return CERTA_OK;
}

int certa_config_add_crl_pem(certa_config *cfg, const char *pem, size_t len) {
    if (!cfg || !pem) return CERTA_E_INVALID_ARGUMENT;
    size_t cap;
    crl_set *s = set_copy(cfg, MAX_CRLS, &cap);
    if (!s) return CERTA_E_NOMEM;
    int rc = set_add_text(cfg, s, cap, pem, len, false, "the PEM text");
    if (rc != CERTA_OK) {
        set_free(s);
        return rc;
    }
    set_install(cfg, s);
    return CERTA_OK;
}

static int add_file(certa_config *cfg, crl_set *s, size_t cap, const char *path) {
    char *text;
    size_t len;
    if (read_file(path, &text, &len) != 0)
        return config_err(cfg, CERTA_E_FILE, "cannot read the CRL file '%.200s': %s", path,
                          strerror(errno));
    int rc = set_add_text(cfg, s, cap, text, len, true, path);
    free(text);
    return rc;
}

static int add_dir(certa_config *cfg, crl_set *s, size_t cap, const char *dir) {
    static const char *const exts[] = {".crl", ".pem", ".der", NULL};
    dir_list files;
    int lr = dir_list_read(&files, dir, exts, MAX_CRL_DIR_FILES);
    if (lr == -1)
        return config_err(cfg, CERTA_E_FILE, "cannot open the CRL directory '%.200s': %s", dir,
                          strerror(errno));
    if (lr != 0) return CERTA_E_NOMEM;
    int rc = files.count
                 ? CERTA_OK
                 : config_err(cfg, CERTA_E_CONFIG,
                              "the CRL directory '%.200s' has no *.crl, *.pem or *.der file", dir);
    for (size_t i = 0; rc == CERTA_OK && i < files.count; i++)
        rc = add_file(cfg, s, cap, files.paths[i]);
    dir_list_free(&files);
    return rc;
}

/* Adds what path holds (a file, or a directory's CRL files) to s. */
static int add_path(certa_config *cfg, crl_set *s, size_t cap, const char *path) {
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return config_err(cfg, CERTA_E_FILE, "cannot read the CRLs at '%.200s': %s",
                          path ? path : "(none)", strerror(errno));
    return S_ISDIR(st.st_mode) ? add_dir(cfg, s, cap, path) : add_file(cfg, s, cap, path);
}

int certa_config_load_crls(certa_config *cfg, const char *path) {
    if (!cfg || !path) return CERTA_E_INVALID_ARGUMENT;
    size_t cap;
    crl_set *s = set_copy(cfg, MAX_CRLS, &cap);
    if (!s) return CERTA_E_NOMEM;
    int rc = add_path(cfg, s, cap, path);
    if (rc != CERTA_OK) {
        set_free(s);
        return rc;
    }
    set_install(cfg, s);
    return CERTA_OK;
}

int certa_config_replace_crls(certa_config *cfg, const char *const *paths, size_t count,
                              const uint8_t *const *ders, const size_t *lens, size_t der_count) {
    if (!cfg || (count && !paths) || (der_count && (!ders || !lens)))
        return CERTA_E_INVALID_ARGUMENT;
    crl_set *s = set_new(MAX_CRLS);
    if (!s) return CERTA_E_NOMEM;
    int rc = CERTA_OK;
    for (size_t i = 0; rc == CERTA_OK && i < count; i++)
        rc = add_path(cfg, s, MAX_CRLS, paths[i]);
    for (size_t i = 0; rc == CERTA_OK && i < der_count; i++) {
        uint8_t *copy = ders[i] && lens[i] ? malloc(lens[i]) : NULL;
        if (!copy) {
            rc = ders[i] && lens[i] ? CERTA_E_NOMEM : CERTA_E_INVALID_ARGUMENT;
            break;
        }
        memcpy(copy, ders[i], lens[i]);
        rc = set_push(cfg, s, MAX_CRLS, copy, lens[i], "a CRL given in memory");
    }
    if (rc != CERTA_OK) {
        set_free(s);
        return rc;
    }
    set_install(cfg, s);
    return CERTA_OK;
}

int certa_config_reload_crls(certa_config *cfg, const char *const *paths, size_t count) {
    return certa_config_replace_crls(cfg, paths, count, NULL, NULL, 0);
}

size_t certa_config_crl_count(const certa_config *cfg) {
    if (!cfg) return 0;
    crl_set *s = config_crls_acquire((certa_config *)cfg);
    size_t n = s ? s->count : 0;
    crl_set_release(s);
    return n;
}

void config_crls_free(certa_config *cfg) {
    crl_set_release(cfg->crls);
    cfg->crls = NULL;
    pthread_mutex_destroy(&cfg->crl_lock);
}

certa_revocation conn_revocation_mode(const certa_conn *c, size_t crl_count) {
    if (c->cfg->revocation != CERTA_REVOCATION_DEFAULT) return c->cfg->revocation;
    return crl_count || !c->is_server ? CERTA_REVOCATION_PREFER : CERTA_REVOCATION_OFF;
}

void conn_revocation_note(certa_conn *c, const char *fmt, ...) {
    char text[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    conn_trace(c, "  revocation: %s (not fatal: revocation prefer)", text);
    if (c->revocation_note) return; /* the first finding is the one kept */
    size_t n = strlen(text);
    if ((c->revocation_note = malloc(n + 1)) != NULL) memcpy(c->revocation_note, text, n + 1);
}

const char *certa_conn_revocation_note(const certa_conn *conn) {
    return conn && conn->revocation_note ? conn->revocation_note : "";
}
