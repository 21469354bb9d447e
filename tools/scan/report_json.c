/* certa scan: --json, one document: the run, then one object per endpoint
 * (docs/scan.schema.json), and with --diff the changes. */
#include "scan/scan.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *str_list(const char *list) {
    cJSON *a = cJSON_CreateArray();
    char copy[1024];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *save = NULL, *t = strtok_r(copy, ", ", &save); a && t;
         t = strtok_r(NULL, ", ", &save))
        cJSON_AddItemToArray(a, cJSON_CreateString(t));
    return a;
}

static void add_time(cJSON *o, const char *key, int64_t t) {
    char s[64];
    cli_format_time(t, s, sizeof s);
    cJSON_AddStringToObject(o, key, s);
}

static cJSON *leaf_json(const scan_result *r) {
    const scan_cert *c = &r->leaf;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "subject", c->subject);
    cJSON_AddStringToObject(o, "issuer", c->issuer);
    cJSON_AddStringToObject(o, "serial", c->serial);
    cJSON_AddItemToObject(o, "dns_names", str_list(c->dns_names));
    cJSON_AddItemToObject(o, "ip_addresses", str_list(c->ip_addresses));
    if (c->spiffe_id[0])
        cJSON_AddStringToObject(o, "spiffe_id", c->spiffe_id);
    else
        cJSON_AddNullToObject(o, "spiffe_id");
    cJSON_AddStringToObject(o, "key_type", c->key_type);
    cJSON_AddNumberToObject(o, "key_bits", c->key_bits);
    cJSON_AddStringToObject(o, "spki_sha256", c->spki_sha256);
    cJSON_AddStringToObject(o, "signature_algorithm", c->sig_alg);
    add_time(o, "not_before", c->not_before);
    add_time(o, "not_after", c->not_after);
    cJSON_AddNumberToObject(o, "not_after_unix", (double)c->not_after);
    int64_t left = c->not_after - r->scanned_at, life = c->not_after - c->not_before;
    cJSON_AddNumberToObject(o, "days_left", (double)(left / 864) / 100.0);
    double f = life > 0 && left > 0 ? (double)left / (double)life : 0;
    cJSON_AddNumberToObject(o, "lifetime_left", (double)(long)((f > 1 ? 1 : f) * 1000) / 1000.0);
    cJSON_AddBoolToObject(o, "self_issued", c->self_issued);
    return o;
}

static cJSON *endpoint_json(const scan_target *t, const scan_result *r) {
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "target", t->spec);
    cJSON_AddStringToObject(o, "host", t->host);
    cJSON_AddNumberToObject(o, "port", atoi(t->port));
    if (t->sni[0])
        cJSON_AddStringToObject(o, "servername", t->sni);
    else
        cJSON_AddNullToObject(o, "servername");
    cJSON_AddStringToObject(o, "address", t->address);
    cJSON_AddStringToObject(o, "status", scan_status_name(r->status));
    cJSON_AddStringToObject(o, "verdict",
                            scan_sev_name(r->worst == SCAN_INFO ? SCAN_OK : r->worst));
    cJSON_AddStringToObject(o, "error", r->error);
    cJSON_AddNumberToObject(o, "connect_ms", (double)r->connect_ms);
    cJSON_AddNumberToObject(o, "handshake_ms", (double)r->handshake_ms);
    if (r->version) {
        cJSON *tls = cJSON_AddObjectToObject(o, "tls");
        cJSON_AddStringToObject(tls, "version", cli_version_name(r->version));
        cJSON_AddStringToObject(tls, "cipher_suite", certa_cipher_suite_name(r->suite));
        cJSON_AddStringToObject(tls, "group", r->group ? certa_group_name(r->group) : "");
        if (r->alpn[0])
            cJSON_AddStringToObject(tls, "alpn", r->alpn);
        else
            cJSON_AddNullToObject(tls, "alpn");
        cJSON_AddStringToObject(tls, "ocsp_staple", r->staple_good ? "good" : "none");
        if (r->tls12_accepted >= 0)
            cJSON_AddBoolToObject(tls, "tls12_accepted", r->tls12_accepted == 1);
        else
            cJSON_AddNullToObject(tls, "tls12_accepted");
    } else {
        cJSON_AddNullToObject(o, "tls");
    }
    if (r->has_leaf) {
        cJSON_AddItemToObject(o, "leaf", leaf_json(r));
        cJSON *chain = cJSON_AddArrayToObject(o, "chain");
        for (size_t k = 1; k < r->chain_len && k <= SCAN_MAX_CHAIN; k++) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "subject", r->chain[k - 1].subject);
            cJSON_AddStringToObject(c, "issuer", r->chain[k - 1].issuer);
            cJSON_AddStringToObject(c, "key_type", r->chain[k - 1].key_type);
            add_time(c, "not_after", r->chain[k - 1].not_after);
            cJSON_AddItemToArray(chain, c);
        }
        cJSON_AddBoolToObject(o, "chain_valid", r->verify_code == CERTA_OK);
        cJSON_AddStringToObject(o, "chain_error",
                                r->verify_code ? certa_error_name(r->verify_code) : "");
    } else {
        cJSON_AddNullToObject(o, "leaf");
    }
    cJSON *fs = cJSON_AddArrayToObject(o, "findings");
    for (size_t k = 0; k < r->finding_count; k++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "id", r->findings[k].id);
        cJSON_AddStringToObject(f, "severity", scan_sev_name(r->findings[k].sev));
        cJSON_AddStringToObject(f, "text", r->findings[k].text);
        cJSON_AddItemToArray(fs, f);
    }
    return o;
}

bool scan_report_json(FILE *out, const scan_report *rep) {
    cJSON *root = cJSON_CreateObject();
    if (!root) return false;
    cJSON_AddStringToObject(root, "schema", "certa-scan/1");
    cJSON_AddStringToObject(root, "certa_version", CERTA_CLI_VERSION);
    add_time(root, "started", rep->started);
    cJSON_AddNumberToObject(root, "duration_ms", (double)rep->stats->duration_ms);
    cJSON_AddNumberToObject(root, "max_in_flight", rep->stats->max_in_flight);
    cJSON_AddNumberToObject(root, "peak_rss_kb", (double)rep->stats->peak_rss_kb);
    cJSON_AddStringToObject(root, "policy", rep->policy->name);
    size_t n[4] = {0};
    cJSON *list = cJSON_AddArrayToObject(root, "endpoints");
    for (size_t i = 0; i < rep->targets->count; i++) {
        n[rep->results[i].worst]++;
        cJSON_AddItemToArray(list, endpoint_json(&rep->targets->items[i], &rep->results[i]));
    }
    cJSON *sum = cJSON_AddObjectToObject(root, "summary");
    cJSON_AddNumberToObject(sum, "endpoints", (double)rep->targets->count);
    cJSON_AddNumberToObject(sum, "ok", (double)(n[SCAN_OK] + n[SCAN_INFO]));
    cJSON_AddNumberToObject(sum, "warn", (double)n[SCAN_WARN]);
    cJSON_AddNumberToObject(sum, "fail", (double)n[SCAN_FAIL]);
    if (rep->diff) {
        cJSON *d = cJSON_AddArrayToObject(root, "diff");
        for (size_t i = 0; i < rep->diff->count; i++) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "change", scan_change_name(rep->diff->items[i].change));
            cJSON_AddStringToObject(c, "target", rep->diff->items[i].target);
            cJSON_AddStringToObject(c, "detail", rep->diff->items[i].detail);
            cJSON_AddItemToArray(d, c);
        }
    }
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return false;
    fprintf(out, "%s\n", text);
    free(text);
    return true;
}
