/* Trust anchors: a deduplicated set of DER certificates loaded from PEM.
 *
 * Storage is one growing byte arena holding every anchor's DER back to back
 * and a small index (offset, length, hash) per anchor. The set is built
 * once and then read-only, so pointers handed out by trust_anchor_der()
 * stay valid until the next add or certa_trust_free().
 *
 * Loading rules:
 *  - certa_trust_add_pem() and a bundle file are all-or-nothing: every
 *    CERTIFICATE block must decode and parse with x509_parse(), else nothing
 *    from that text is kept and the error names the block number.
 *  - A directory loads each *.pem / *.crt / *.cer file on its own (sorted by
 *    name); a file that fails is skipped and reported in
 *    certa_trust_error_text() while the others load. If no certificate
 *    loads at all, the load fails.
 *  - The system bundle skips a block our parser refuses (reported in the
 *    error text) rather than losing every root for one odd certificate.
 */
#include "x509/trust.h"

#include "io/dir_list.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certa.h"
#include "x509/cert.h"
#include "x509/pem.h"

#define TRUST_SYSTEM_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define TRUST_MAX_ANCHORS 100000
#define TRUST_MAX_DIR_FILES 10000

typedef struct anchor {
    size_t off;
    uint32_t len;
    uint32_t hash;
} anchor;

struct certa_trust {
    uint8_t *buf; /* DER of every anchor, back to back */
    size_t buf_len, buf_cap;
    anchor *items;
    size_t count, cap;
    char err[512];
};

certa_trust *certa_trust_new(void) {
    return calloc(1, sizeof(certa_trust));
}

void certa_trust_free(certa_trust *trust) {
    if (!trust) return;
    free(trust->buf);
    free(trust->items);
    free(trust);
}

size_t certa_trust_count(const certa_trust *trust) {
    return trust ? trust->count : 0;
}

const char *certa_trust_error_text(const certa_trust *trust) {
    return trust ? trust->err : "";
}

size_t trust_anchor_count(const certa_trust *trust) {
    return certa_trust_count(trust);
}

const uint8_t *trust_anchor_der(const certa_trust *trust, size_t i, size_t *len) {
    if (len) *len = 0;
    if (!trust || i >= trust->count) return NULL;
    if (len) *len = trust->items[i].len;
    return trust->buf + trust->items[i].off;
}

/* ---- error text -------------------------------------------------------- */

static void err_set(certa_trust *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void err_set(certa_trust *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof t->err, fmt, ap);
    va_end(ap);
}

/* Appends "; <detail>" to buf (or sets it when empty), truncating with "...". */
static void text_append(char *buf, size_t cap, const char *detail) {
    size_t n = strlen(buf);
    if (n + 4 >= cap) return;
    int w = snprintf(buf + n, cap - n, "%s%s", n ? "; " : "", detail);
    if (w < 0 || (size_t)w >= cap - n) memcpy(buf + cap - 4, "...", 4);
}

static void err_append(certa_trust *t, const char *detail) {
    text_append(t->err, sizeof t->err, detail);
}

/* ---- the set ------------------------------------------------------------ */

static uint32_t fnv1a(const uint8_t *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Adds a copy of der unless an identical certificate is present. Returns 1
 * added, 0 duplicate, -1 out of memory / too many. */
static int trust_add_der(certa_trust *t, const uint8_t *der, size_t len) {
    if (len == 0 || len > UINT32_MAX) return -1;
    uint32_t h = fnv1a(der, len);
    for (size_t i = 0; i < t->count; i++) {
        const anchor *a = &t->items[i];
        if (a->hash == h && a->len == len && memcmp(t->buf + a->off, der, len) == 0) return 0;
    }
    if (t->count >= TRUST_MAX_ANCHORS) return -1;
    if (t->count == t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        anchor *n = realloc(t->items, ncap * sizeof *n);
        if (!n) return -1;
        t->items = n;
        t->cap = ncap;
    }
    if (len > t->buf_cap - t->buf_len) {
        size_t ncap = t->buf_cap ? t->buf_cap : 4096;
        while (len > ncap - t->buf_len) {
            if (ncap > SIZE_MAX / 2) return -1;
            ncap *= 2;
        }
        uint8_t *n = realloc(t->buf, ncap);
        if (!n) return -1;
        t->buf = n;
        t->buf_cap = ncap;
    }
    memcpy(t->buf + t->buf_len, der, len);
    t->items[t->count++] = (anchor){.off = t->buf_len, .len = (uint32_t)len, .hash = h};
    t->buf_len += len;
    return 1;
}

/* Drops anchors added after a checkpoint (all-or-nothing loads). */
static void trust_rollback(certa_trust *t, size_t count, size_t buf_len) {
    t->count = count;
    t->buf_len = buf_len;
}

/* Adds every CERTIFICATE block of pem. source names the text in messages
 * ("bundle.pem", "the PEM text"). lenient: skip blocks that fail (they are
 * reported) instead of failing the whole text. *parsed counts blocks that
 * parsed (duplicates included). Returns CERTA_OK or an error with t->err
 * set; on error nothing from this text is kept. */
static int trust_add_text(certa_trust *t, const char *pem, size_t len, const char *source,
                          bool lenient, size_t *parsed) {
    size_t count0 = t->count, buf0 = t->buf_len;
    size_t pos = 0, block = 0, good = 0, skipped = 0;
    int rc = CERTA_OK;
    *parsed = 0;
    for (;;) {
        uint8_t *der = NULL;
        size_t der_len = 0;
        int r = pem_next(pem, len, &pos, "CERTIFICATE", &der, &der_len);
        if (r == 0) break;
        block++;
        if (r < 0) {
            /* A broken block ends the scan: pem_next cannot resynchronise. */
            char msg[300];
            snprintf(msg, sizeof msg,
                     "%s: CERTIFICATE block %zu is malformed PEM (bad base64, or no matching "
                     "END line)",
                     source, block);
            if (lenient) {
                err_append(t, msg);
                skipped++;
                break;
            }
            err_set(t, "%s", msg);
            rc = CERTA_E_BAD_PEM;
            goto fail;
        }
        x509_cert cert;
        if (x509_parse(&cert, der, der_len) != 0) {
            free(der);
            char msg[300];
            snprintf(msg, sizeof msg,
                     "%s: CERTIFICATE block %zu is not a valid DER X.509 certificate", source,
                     block);
            if (lenient) {
                err_append(t, msg);
                skipped++;
                continue;
            }
            err_set(t, "%s", msg);
            rc = CERTA_E_CERT_MALFORMED;
            goto fail;
        }
        int a = trust_add_der(t, der, der_len);
        free(der);
        if (a < 0) {
            err_set(t, "%s: out of memory (or over %d anchors) adding certificate %zu", source,
                    TRUST_MAX_ANCHORS, block);
            rc = CERTA_E_NOMEM;
            goto fail;
        }
        good++;
    }
    if (good == 0) {
        if (skipped == 0) err_set(t, "%s: no \"-----BEGIN CERTIFICATE-----\" block found", source);
        rc = CERTA_E_BAD_PEM;
        goto fail;
    }
    *parsed = good;
    return CERTA_OK;
fail:
    trust_rollback(t, count0, buf0);
    return rc;
}

int certa_trust_add_pem(certa_trust *trust, const char *pem, size_t len) {
    if (!trust || (!pem && len)) return CERTA_E_INVALID_ARGUMENT;
    trust->err[0] = '\0';
    size_t parsed;
    return trust_add_text(trust, pem ? pem : "", len, "PEM text", false, &parsed);
}

/* Reads and adds one file. Returns CERTA_OK or an error with t->err set. */
static int trust_load_file(certa_trust *t, const char *path, bool lenient, size_t *parsed) {
    char *text = NULL;
    size_t len = 0;
    *parsed = 0;
    if (read_file(path, &text, &len) != 0) {
        err_set(t, "cannot read %s: %s", path, strerror(errno));
        return CERTA_E_FILE;
    }
    int rc = trust_add_text(t, text, len, path, lenient, parsed);
    free(text);
    return rc;
}

static int trust_load_dir(certa_trust *t, const char *dir) {
    static const char *const exts[] = {".pem", ".crt", ".cer", NULL};
    dir_list files;
    int lr = dir_list_read(&files, dir, exts, TRUST_MAX_DIR_FILES);
    if (lr == -1) {
        err_set(t, "cannot open directory %s: %s", dir, strerror(errno));
        return CERTA_E_FILE;
    }
    if (lr != 0) {
        err_set(t, "out of memory listing %s", dir);
        return CERTA_E_NOMEM;
    }
    int rc = CERTA_OK;
    if (files.count == 0) {
        err_set(t, "no *.pem, *.crt or *.cer files in directory %s", dir);
        rc = CERTA_E_TRUST_EMPTY;
        goto done;
    }
    size_t loaded = 0, failed = 0;
    char problems[sizeof t->err] = "";
    for (size_t i = 0; i < files.count; i++) {
        size_t parsed = 0;
        int r = trust_load_file(t, files.paths[i], false, &parsed);
        if (r == CERTA_E_NOMEM) {
            rc = r;
            goto done;
        }
        if (r != CERTA_OK) {
            failed++;
            text_append(problems, sizeof problems, t->err);
            continue;
        }
        loaded += parsed;
    }
    if (loaded == 0) {
        err_set(t, "no certificate loaded from directory %s%s%s", dir, problems[0] ? ": " : "",
                problems);
        rc = CERTA_E_TRUST_EMPTY;
    } else if (failed) {
        err_set(t, "%zu file%s in %s skipped: %s", failed, failed == 1 ? "" : "s", dir, problems);
    } else {
        t->err[0] = '\0';
    }
done:
    dir_list_free(&files);
    return rc;
}

int certa_trust_load(certa_trust *trust, const char *path) {
    if (!trust || !path || !*path) return CERTA_E_INVALID_ARGUMENT;
    trust->err[0] = '\0';
    struct stat st;
    if (stat(path, &st) != 0) {
        err_set(trust, "cannot read %s: %s", path, strerror(errno));
        return CERTA_E_FILE;
    }
    if (S_ISDIR(st.st_mode)) return trust_load_dir(trust, path);
    size_t parsed;
    return trust_load_file(trust, path, false, &parsed);
}

int certa_trust_load_system(certa_trust *trust) {
    if (!trust) return CERTA_E_INVALID_ARGUMENT;
    trust->err[0] = '\0';
    struct stat st;
    if (stat(TRUST_SYSTEM_BUNDLE, &st) != 0) {
        err_set(trust,
                "the system trust bundle %s is missing (%s): install the ca-certificates "
                "package (apt-get install ca-certificates) or pass trust anchors explicitly",
                TRUST_SYSTEM_BUNDLE, strerror(errno));
        return CERTA_E_TRUST_EMPTY;
    }
    size_t parsed;
    int rc = trust_load_file(trust, TRUST_SYSTEM_BUNDLE, true, &parsed);
    if (rc == CERTA_E_BAD_PEM) {
        char detail[sizeof trust->err];
        memcpy(detail, trust->err, sizeof detail);
        err_set(trust,
                "no usable certificate in the system trust bundle %s (%s): reinstall "
                "ca-certificates (update-ca-certificates --fresh)",
                TRUST_SYSTEM_BUNDLE, detail);
        return CERTA_E_TRUST_EMPTY;
    }
    return rc;
}
