/* certa scan: --csv, one row per endpoint (RFC 4180 quoting). */
#include "scan/scan.h"

#include <stdio.h>
#include <string.h>

static void field(FILE *out, const char *s, bool last) {
    bool quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote) fputc('"', out);
    for (; *s; s++) {
        if (*s == '"') fputc('"', out);
        fputc(*s, out);
    }
    if (quote) fputc('"', out);
    fputc(last ? '\n' : ',', out);
}

void scan_report_csv(FILE *out, const scan_report *rep) {
    fputs("endpoint,address,verdict,status,tls_version,group,subject,issuer,serial,key_type,"
          "signature_algorithm,not_before,not_after,days_left,lifetime_left,dns_names,spiffe_id,"
          "chain_valid,findings,error\n",
          out);
    for (size_t i = 0; i < rep->targets->count; i++) {
        const scan_result *r = &rep->results[i];
        const scan_target *t = &rep->targets->items[i];
        char nb[32] = "", na[32] = "", days[24] = "", life[24] = "", ids[512] = "";
        if (r->has_leaf) {
            cli_format_time(r->leaf.not_before, nb, sizeof nb);
            cli_format_time(r->leaf.not_after, na, sizeof na);
            int64_t left = r->leaf.not_after - r->scanned_at;
            int64_t lt = r->leaf.not_after - r->leaf.not_before;
            snprintf(days, sizeof days, "%.1f", (double)left / 86400);
            snprintf(life, sizeof life, "%.3f",
                     lt > 0 && left > 0 ? (double)left / (double)lt : 0.0);
        }
        for (size_t k = 0; k < r->finding_count; k++)
            snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s:%s", ids[0] ? " " : "",
                     r->findings[k].id, scan_sev_name(r->findings[k].sev));
        field(out, t->spec, false);
        field(out, t->address, false);
        field(out, scan_sev_name(r->worst == SCAN_INFO ? SCAN_OK : r->worst), false);
        field(out, scan_status_name(r->status), false);
        field(out, r->version ? cli_version_name(r->version) : "", false);
        field(out, r->group ? certa_group_name(r->group) : "", false);
        field(out, r->has_leaf ? r->leaf.subject : "", false);
        field(out, r->has_leaf ? r->leaf.issuer : "", false);
        field(out, r->has_leaf ? r->leaf.serial : "", false);
        field(out, r->has_leaf ? r->leaf.key_type : "", false);
        field(out, r->has_leaf ? r->leaf.sig_alg : "", false);
        field(out, nb, false);
        field(out, na, false);
        field(out, days, false);
        field(out, life, false);
        field(out, r->has_leaf ? r->leaf.dns_names : "", false);
        field(out, r->has_leaf ? r->leaf.spiffe_id : "", false);
        field(out, r->has_leaf ? (r->verify_code == CERTA_OK ? "true" : "false") : "", false);
        field(out, ids, false);
        field(out, r->error, true);
    }
}
