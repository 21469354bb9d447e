/* certa scan: the aligned table — one line of truth per endpoint — and,
 * with --diff, the changes since the previous scan. */
#include "scan/scan.h"

#include <stdio.h>
#include <string.h>

/* The subject's CN when it has one (the table's short name). */
static void short_name(const char *subject, char *out, size_t cap) {
    const char *cn = strstr(subject, "CN=");
    if (!cn) {
        snprintf(out, cap, "%.60s", subject);
        return;
    }
    cn += 3;
    int n = (int)strcspn(cn, ",");
    snprintf(out, cap, "%.*s", n > 60 ? 60 : n, cn);
}

static const char *verdict(const scan_result *r) {
    return r->worst == SCAN_FAIL ? "FAIL" : r->worst == SCAN_WARN ? "WARN" : "ok";
}

void scan_report_table(FILE *out, const scan_report *rep) {
    size_t w = 8;
    for (size_t i = 0; i < rep->targets->count; i++) {
        size_t l = strlen(rep->targets->items[i].spec);
        if (l > w) w = l;
    }
    if (w > 48) w = 48;
    fprintf(out, "%-*s  %-4s  %-7s  %-28s  %-12s  %-10s  %5s  %4s  %s\n", (int)w, "ENDPOINT",
            "VERDICT", "TLS", "SUBJECT", "KEY", "NOT AFTER", "DAYS", "LIFE", "FINDINGS");
    size_t counts[4] = {0};
    for (size_t i = 0; i < rep->targets->count; i++) {
        const scan_result *r = &rep->results[i];
        counts[r->worst]++;
        char name[64] = "-", date[40] = "-", days[24] = "-", life[16] = "-", ids[256] = "";
        if (r->has_leaf) {
            short_name(r->leaf.subject, name, sizeof name);
            char t[64];
            cli_format_time(r->leaf.not_after, t, sizeof t);
            snprintf(date, sizeof date, "%.10s", t);
            int64_t left = r->leaf.not_after - r->scanned_at;
            snprintf(days, sizeof days, "%lld",
                     (long long)(left / 86400 - (left < 0 ? 1 : 0)) % 1000000);
            int64_t lt = r->leaf.not_after - r->leaf.not_before;
            double f = lt > 0 && left > 0 ? (double)left / (double)lt : 0;
            snprintf(life, sizeof life, "%.0f%%", (f > 1 ? 1 : f) * 100);
        }
        for (size_t k = 0; k < r->finding_count; k++)
            if (r->findings[k].sev >= SCAN_WARN)
                snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", ids[0] ? "," : "",
                         r->findings[k].id);
        if (!ids[0]) snprintf(ids, sizeof ids, "-");
        fprintf(out, "%-*.*s  %-7s  %-7s  %-28.28s  %-12.12s  %-10s  %5s  %4s  %s\n", (int)w,
                (int)w, rep->targets->items[i].spec, verdict(r),
                r->version ? cli_version_name(r->version) : "-", name,
                r->has_leaf ? r->leaf.key_type : "-", date, days, life, ids);
    }
    fprintf(out,
            "\n%zu endpoints: %zu ok, %zu warn, %zu fail (%.2f s, %u in flight at most, "
            "policy %s)\n",
            rep->targets->count, counts[SCAN_OK] + counts[SCAN_INFO], counts[SCAN_WARN],
            counts[SCAN_FAIL], rep->stats->duration_ms / 1000.0, rep->stats->max_in_flight,
            rep->policy->name);
    if (rep->diff) {
        fprintf(out, "\nchanges since the previous scan: %zu\n", rep->diff->count);
        for (size_t i = 0; i < rep->diff->count; i++)
            fprintf(out, "  %-11s %s  %s\n", scan_change_name(rep->diff->items[i].change),
                    rep->diff->items[i].target, rep->diff->items[i].detail);
    }
}
