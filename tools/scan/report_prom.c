/* certa scan: --prom FILE, a Prometheus textfile (node_exporter's
 * textfile collector), written atomically. Metric names: docs/scan.md. */
#include "scan/scan.h"
#include "common/atomic_write.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A label value, escaped as the exposition format asks. */
static void label(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            fputc('\\', f);
        else if (*s == '\n') {
            fputs("\\n", f);
            continue;
        }
        fputc(*s, f);
    }
}

static void labels(FILE *f, const scan_target *t, const scan_result *r) {
    fputs("{endpoint=\"", f);
    label(f, t->spec);
    fputs("\",subject=\"", f);
    label(f, r->has_leaf ? r->leaf.subject : "");
    fputs("\",serial=\"", f);
    label(f, r->has_leaf ? r->leaf.serial : "");
    fputc('"', f);
}

bool scan_report_prom(const char *path, const scan_report *rep, char *why, size_t cap) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        snprintf(why, cap, "out of memory");
        return false;
    }
    const scan_targets *ts = rep->targets;
    fputs("# HELP certa_cert_not_after_seconds The leaf certificate's notAfter (Unix time).\n"
          "# TYPE certa_cert_not_after_seconds gauge\n",
          f);
    for (size_t i = 0; i < ts->count; i++)
        if (rep->results[i].has_leaf) {
            fputs("certa_cert_not_after_seconds", f);
            labels(f, &ts->items[i], &rep->results[i]);
            fprintf(f, "} %lld\n", (long long)rep->results[i].leaf.not_after);
        }
    fputs("# HELP certa_cert_days_left Days until the leaf certificate expires (negative: "
          "expired).\n# TYPE certa_cert_days_left gauge\n",
          f);
    for (size_t i = 0; i < ts->count; i++)
        if (rep->results[i].has_leaf) {
            fputs("certa_cert_days_left", f);
            labels(f, &ts->items[i], &rep->results[i]);
            fprintf(f, "} %.2f\n",
                    (double)(rep->results[i].leaf.not_after - rep->results[i].scanned_at) / 86400);
        }
    fputs("# HELP certa_scan_endpoint_up 1 if the endpoint completed a TLS handshake.\n"
          "# TYPE certa_scan_endpoint_up gauge\n",
          f);
    for (size_t i = 0; i < ts->count; i++) {
        fputs("certa_scan_endpoint_up{endpoint=\"", f);
        label(f, ts->items[i].spec);
        fprintf(f, "\",status=\"%s\"} %d\n", scan_status_name(rep->results[i].status),
                rep->results[i].status == SCAN_TLS);
    }
    fputs("# HELP certa_scan_findings_total Findings of the last scan per endpoint and "
          "severity.\n# TYPE certa_scan_findings_total gauge\n",
          f);
    for (size_t i = 0; i < ts->count; i++) {
        const scan_result *r = &rep->results[i];
        unsigned n[4] = {0};
        for (size_t k = 0; k < r->finding_count; k++)
            n[r->findings[k].sev]++;
        for (int s = SCAN_INFO; s <= SCAN_FAIL; s++) {
            fputs("certa_scan_findings_total", f);
            labels(f, &ts->items[i], r);
            fprintf(f, ",severity=\"%s\"} %u\n", scan_sev_name((scan_sev)s), n[s]);
        }
    }
    fprintf(f,
            "# HELP certa_scan_duration_seconds How long the last scan took.\n"
            "# TYPE certa_scan_duration_seconds gauge\ncerta_scan_duration_seconds %.3f\n"
            "# HELP certa_scan_endpoints Endpoints in the last scan.\n"
            "# TYPE certa_scan_endpoints gauge\ncerta_scan_endpoints %zu\n"
            "# HELP certa_scan_timestamp_seconds When the last scan started (Unix time).\n"
            "# TYPE certa_scan_timestamp_seconds gauge\ncerta_scan_timestamp_seconds %lld\n",
            rep->stats->duration_ms / 1000.0, ts->count, (long long)rep->started);
    if (fclose(f) != 0) {
        free(buf);
        snprintf(why, cap, "out of memory");
        return false;
    }
    bool ok = atomic_write_file(path, buf, len, 0644, why, cap) == 0;
    free(buf);
    return ok;
}
