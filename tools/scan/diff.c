/* certa scan --diff OLD.json: what changed since a previous --json output —
 * certificates new, rotated (serial or key changed), disappeared (the
 * endpoint no longer answers with one, or is no longer scanned) and newly
 * expiring (CERT-LIFETIME or CERT-EXPIRED now, not before). */
#include "scan/scan.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *scan_change_name(scan_change c) {
    static const char *const names[] = {"new", "rotated", "disappeared", "expiring"};
    return c <= CHANGE_EXPIRING ? names[c] : "?";
}

static void add(scan_diff *d, scan_change c, const char *target, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(scan_diff *d, scan_change c, const char *target, const char *fmt, ...) {
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        scan_diff_item *n = realloc(d->items, cap * sizeof *n);
        if (!n) return;
        d->items = n;
        d->cap = cap;
    }
    scan_diff_item *it = &d->items[d->count++];
    it->change = c;
    snprintf(it->target, sizeof it->target, "%s", target);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->detail, sizeof it->detail, fmt, ap);
    va_end(ap);
}

static const char *jstr(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool old_expiring(const cJSON *ep) {
    const cJSON *fs = cJSON_GetObjectItemCaseSensitive(ep, "findings"), *f;
    cJSON_ArrayForEach(f, fs) {
        const char *id = jstr(f, "id"), *sev = jstr(f, "severity");
        if (id && sev &&
            (!strcmp(id, "CERT-EXPIRED") ||
             (!strcmp(id, "CERT-LIFETIME") && strcmp(sev, "ok") != 0)))
            return true;
    }
    return false;
}

static bool now_expiring(const scan_result *r) {
    for (size_t k = 0; k < r->finding_count; k++)
        if (!strcmp(r->findings[k].id, "CERT-EXPIRED") ||
            (!strcmp(r->findings[k].id, "CERT-LIFETIME") && r->findings[k].sev >= SCAN_WARN))
            return true;
    return false;
}

bool scan_diff_load(scan_diff *d, const char *path, const scan_report *now, char *why, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, cap, "cannot read %s: %s", path, strerror(errno));
        return false;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char buf[65536];
    size_t n;
    while (m && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m);
    fclose(f);
    if (!m || fclose(m) != 0) {
        free(text);
        snprintf(why, cap, "out of memory");
        return false;
    }
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const char *schema = root ? jstr(root, "schema") : NULL;
    const cJSON *eps = root ? cJSON_GetObjectItemCaseSensitive(root, "endpoints") : NULL;
    if (!schema || strcmp(schema, "certa-scan/1") != 0 || !cJSON_IsArray(eps)) {
        cJSON_Delete(root);
        snprintf(why, cap, "%s is not a certa scan --json output (schema certa-scan/1)", path);
        return false;
    }
    const scan_targets *ts = now->targets;
    bool *matched = calloc(ts->count ? ts->count : 1, 1);
    const cJSON *ep;
    cJSON_ArrayForEach(ep, eps) {
        const char *target = jstr(ep, "target");
        if (!target) continue;
        const cJSON *leaf = cJSON_GetObjectItemCaseSensitive(ep, "leaf");
        const char *serial = cJSON_IsObject(leaf) ? jstr(leaf, "serial") : NULL;
        const char *spki = cJSON_IsObject(leaf) ? jstr(leaf, "spki_sha256") : NULL;
        size_t i = 0;
        while (i < ts->count && (matched[i] || strcmp(ts->items[i].spec, target) != 0))
            i++;
        if (i == ts->count) {
            if (serial) add(d, CHANGE_DISAPPEARED, target, "no longer scanned (serial %s)", serial);
            continue;
        }
        matched[i] = true;
        const scan_result *r = &now->results[i];
        if (!serial && r->has_leaf) {
            add(d, CHANGE_NEW, target, "serial %s, '%s'", r->leaf.serial, r->leaf.subject);
        } else if (serial && !r->has_leaf) {
            add(d, CHANGE_DISAPPEARED, target, "serial %s no longer seen: %s", serial,
                r->error[0] ? r->error : scan_status_name(r->status));
        } else if (serial && r->has_leaf) {
            bool ser = strcmp(serial, r->leaf.serial) != 0;
            bool key = spki && strcmp(spki, r->leaf.spki_sha256) != 0;
            if (ser || key)
                add(d, CHANGE_ROTATED, target, "%s, %s: serial %s -> %s",
                    ser ? "serial changed" : "serial unchanged",
                    key ? "key changed" : "key unchanged", serial, r->leaf.serial);
            if (now_expiring(r) && !old_expiring(ep))
                add(d, CHANGE_EXPIRING, target, "now due for renewal: notAfter %lld",
                    (long long)r->leaf.not_after);
        }
    }
    for (size_t i = 0; i < ts->count; i++)
        if (!matched[i] && now->results[i].has_leaf)
            add(d, CHANGE_NEW, ts->items[i].spec, "serial %s, '%s' (a new target)",
                now->results[i].leaf.serial, now->results[i].leaf.subject);
    free(matched);
    cJSON_Delete(root);
    return true;
}

void scan_diff_free(scan_diff *d) {
    free(d->items);
    d->items = NULL;
    d->count = d->cap = 0;
}
