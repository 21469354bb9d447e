/* certa diagnose: the finding list and its two renderings, text for a
 * person (grouped, wrapped to 80 columns) and JSON for a program
 * (docs/diagnose.schema.json; the field set is stable). */
#include "diagnose/diagnose.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const char *diag_severity_name(diag_severity s) {
    switch (s) {
    case SEV_OK:
        return "ok";
    case SEV_INFO:
        return "info";
    case SEV_WARN:
        return "warn";
    case SEV_FAIL:
        return "fail";
    }
    return "info";
}

static char *dup_or_empty(const char *s) {
    return strdup(s ? s : "");
}

void diag_add(diag_report *r, const char *id, const char *group, diag_severity sev,
              const char *summary, const char *evidence, const char *cause, const char *fix) {
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 32;
        diag_finding *more = realloc(r->items, cap * sizeof *more);
        if (!more) return;
        r->items = more;
        r->cap = cap;
    }
    diag_finding *f = &r->items[r->count];
    f->id = id;
    f->group = group;
    f->severity = sev;
    f->summary = dup_or_empty(summary);
    f->evidence = dup_or_empty(evidence);
    /* The library's sentences say cause and fix in one: "...: renew it". */
    const char *split = (cause && !fix) ? strstr(cause, ": ") : NULL;
    for (const char *s = split; s; s = strstr(s + 1, ": "))
        split = s;
    if (split) {
        f->cause = strndup(cause, (size_t)(split - cause));
        f->fix = strdup(split + 2);
    } else {
        f->cause = dup_or_empty(cause);
        f->fix = dup_or_empty(fix);
    }
    if (!f->summary || !f->evidence || !f->cause || !f->fix) {
        free(f->summary), free(f->evidence), free(f->cause), free(f->fix);
        return;
    }
    r->count++;
}

void diag_addf(diag_report *r, const char *id, const char *group, diag_severity sev,
               const char *summary, const char *cause, const char *fix, const char *fmt, ...) {
    char ev[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev, sizeof ev, fmt, ap);
    va_end(ap);
    diag_add(r, id, group, sev, summary, ev, cause, fix);
}

bool diag_has(const diag_report *r, diag_severity at_least) {
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].severity >= at_least) return true;
    return false;
}

void diag_report_free(diag_report *r) {
    for (size_t i = 0; i < r->count; i++) {
        free(r->items[i].summary);
        free(r->items[i].evidence);
        free(r->items[i].cause);
        free(r->items[i].fix);
    }
    free(r->items);
    memset(r, 0, sizeof *r);
}

/* Prints text after a label, wrapped at 80 columns with the continuation
 * indented to the text's column. */
static void wrapped(FILE *out, const char *label, const char *text) {
    const int width = 80, indent = 14;
    fprintf(out, "%*s%-*s", 4, "", indent - 4, label);
    int col = indent;
    const char *p = text;
    while (*p) {
        const char *w = p;
        while (*w && *w != ' ')
            w++;
        int len = (int)(w - p);
        if (col > indent && col + 1 + len > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, (size_t)len, out);
        col += len;
        p = w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

static diag_severity worst(const diag_report *r) {
    diag_severity w = SEV_OK;
    for (size_t i = 0; i < r->count; i++)
        if (r->items[i].severity > w) w = r->items[i].severity;
    return w;
}

void diag_print_text(FILE *out, const diag_report *r, const diag_meta *m) {
    fprintf(out, "certa diagnose %s (%s%s%s)\n", m->target, m->address,
            m->servername ? ", name " : "", m->servername ? m->servername : "");
    /* Groups in a fixed order, then any other in the order first added. */
    static const char *const order[] = {"connection",
                                        "protocols",
                                        "cipher suites",
                                        "key exchange",
                                        "certificate chain",
                                        "certificate",
                                        "OCSP stapling",
                                        "client certificates",
                                        "application protocols (ALPN)",
                                        "resumption and 0-RTT",
                                        "robustness and downgrade protection"};
    const char *seen[64];
    size_t groups = 0;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++)
        for (size_t i = 0; i < r->count; i++)
            if (!strcmp(r->items[i].group, order[k])) {
                seen[groups++] = order[k];
                break;
            }
    for (size_t i = 0; i < r->count && groups < 64; i++) {
        size_t g = 0;
        while (g < groups && strcmp(seen[g], r->items[i].group) != 0)
            g++;
        if (g == groups) seen[groups++] = r->items[i].group;
    }
    for (size_t g = 0; g < groups; g++) {
        fprintf(out, "\n%s\n", seen[g]);
        for (size_t i = 0; i < r->count; i++) {
            const diag_finding *f = &r->items[i];
            if (strcmp(f->group, seen[g]) != 0) continue;
            char head[16];
            snprintf(head, sizeof head, "[%s]", diag_severity_name(f->severity));
            fprintf(out, "  %-7s %s: ", head, f->id);
            /* the summary on the same line, wrapped under itself */
            int col = 2 + 8 + (int)strlen(f->id) + 2;
            bool line_start = true;
            for (const char *p = f->summary; *p;) {
                while (*p == ' ')
                    p++;
                const char *w = p;
                while (*w && *w != ' ')
                    w++;
                int len = (int)(w - p);
                if (!len) break;
                if (!line_start && col + 1 + len > 80) {
                    fprintf(out, "\n%*s", 14, "");
                    col = 14;
                    line_start = true;
                }
                if (!line_start) {
                    fputc(' ', out);
                    col++;
                }
                fwrite(p, 1, (size_t)len, out);
                col += len;
                line_start = false;
                p = w;
            }
            fputc('\n', out);
            if (*f->evidence) wrapped(out, "seen:", f->evidence);
            if (*f->cause && f->severity >= SEV_WARN) wrapped(out, "why:", f->cause);
            if (*f->fix && f->severity >= SEV_WARN) wrapped(out, "fix:", f->fix);
        }
    }
    size_t n[4] = {0};
    for (size_t i = 0; i < r->count; i++)
        n[r->items[i].severity]++;
    fprintf(out, "\nverdict: %s — %zu fail, %zu warn, %zu info, %zu ok (%u connection%s, %.2f s)\n",
            diag_severity_name(worst(r) == SEV_INFO ? SEV_OK : worst(r)), n[SEV_FAIL], n[SEV_WARN],
            n[SEV_INFO], n[SEV_OK], m->connections, m->connections == 1 ? "" : "s",
            m->duration_ms / 1000.0);
}

bool diag_print_json(FILE *out, const diag_report *r, const diag_meta *m) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return false;
    char started[64];
    cli_format_time(m->started, started, sizeof started);
    diag_severity w = worst(r);
    bool ok =
        cJSON_AddStringToObject(root, "schema", "certa-diagnose/1") &&
        cJSON_AddStringToObject(root, "certa_version", CERTA_CLI_VERSION) &&
        cJSON_AddStringToObject(root, "target", m->target) &&
        cJSON_AddStringToObject(root, "address", m->address) &&
        (m->servername ? cJSON_AddStringToObject(root, "servername", m->servername) != NULL
                       : cJSON_AddNullToObject(root, "servername") != NULL) &&
        cJSON_AddStringToObject(root, "started", started) &&
        cJSON_AddNumberToObject(root, "duration_ms", (double)m->duration_ms) &&
        cJSON_AddNumberToObject(root, "tcp_connect_ms", (double)m->tcp_ms) &&
        cJSON_AddNumberToObject(root, "connections", m->connections) &&
        cJSON_AddNumberToObject(root, "max_connections", m->max_connections) &&
        cJSON_AddStringToObject(root, "verdict", diag_severity_name(w == SEV_INFO ? SEV_OK : w)) &&
        cJSON_AddNumberToObject(root, "exit_code", w == SEV_FAIL ? 1 : 0);
    cJSON *list = ok ? cJSON_AddArrayToObject(root, "findings") : NULL;
    for (size_t i = 0; list && i < r->count; i++) {
        const diag_finding *f = &r->items[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(list, o)) {
            cJSON_Delete(o);
            list = NULL;
            break;
        }
        if (!cJSON_AddStringToObject(o, "id", f->id) ||
            !cJSON_AddStringToObject(o, "group", f->group) ||
            !cJSON_AddStringToObject(o, "severity", diag_severity_name(f->severity)) ||
            !cJSON_AddStringToObject(o, "summary", f->summary) ||
            !cJSON_AddStringToObject(o, "evidence", f->evidence) ||
            !cJSON_AddStringToObject(o, "cause", f->cause) ||
            !cJSON_AddStringToObject(o, "fix", f->fix))
            list = NULL;
    }
    char *text = list ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return false;
    fprintf(out, "%s\n", text);
    free(text);
    return true;
}
