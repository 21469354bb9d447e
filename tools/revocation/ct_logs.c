/* The v3 CT log-list JSON, read with cJSON (Debian libcjson-dev). */
#include "revocation/ct_logs.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "x509/pem.h"

#define LOG_LIST_MAX (16 * 1024 * 1024)

bool ct_parse_time(const char *s, int64_t *out) {
    int y, mo, d, h, mi, sec, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
        n != 19)
        return false;
    const char *rest = s + n;
    if (*rest == '.') {
        rest++;
        if (*rest < '0' || *rest > '9') return false;
        while (*rest >= '0' && *rest <= '9')
            rest++;
    }
    if (strcmp(rest, "Z") != 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 60)
        return false;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = (int64_t)timegm(&tm);
    return true;
}

static const char *string_of(const cJSON *obj, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* state: {"usable": {"timestamp": ...}} and the like. Returns its name
 * ("" when absent) and, for retired, the time into *retired_at. */
static const char *log_state(const cJSON *log, int64_t *retired_at, bool *ok) {
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(log, "state");
    *ok = true;
    if (!state) return "";
    const cJSON *which = cJSON_IsObject(state) ? state->child : NULL;
    if (!which || !which->string) {
        *ok = false;
        return "";
    }
    if (!strcmp(which->string, "retired"))
        *ok = ct_parse_time(string_of(which, "timestamp"), retired_at);
    return which->string;
}

typedef struct loader {
    certa_config *cfg;
    const char *path;
    ct_logs_loaded *out;
    char *why;
    size_t cap;
} loader;

static int fail(loader *ld, int code, const char *op, const char *log, const char *what) {
    if (op)
        snprintf(ld->why, ld->cap, "%s: operator '%s', log '%s': %s", ld->path, op, log ? log : "?",
                 what);
    else
        snprintf(ld->why, ld->cap, "%s: %s", ld->path, what);
    return code;
}

static int add_log(loader *ld, const char *op, const cJSON *log) {
    const char *desc = string_of(log, "description");
    const char *key_b64 = string_of(log, "key"), *id_b64 = string_of(log, "log_id");
    uint8_t key[4096], id[64];
    int key_len = key_b64 ? base64_decode(key_b64, strlen(key_b64), key, sizeof key) : -1;
    int id_len = id_b64 ? base64_decode(id_b64, strlen(id_b64), id, sizeof id) : -1;
    if (key_len <= 0)
        return fail(ld, CERTA_E_INVALID_ARGUMENT, op, desc, "no \"key\" (base64 of the DER key)");
    if (id_b64 && id_len != 32)
        return fail(ld, CERTA_E_INVALID_ARGUMENT, op, desc, "\"log_id\" is not base64 of 32 bytes");
    certa_ct_log l;
    memset(&l, 0, sizeof l);
    bool ok;
    const char *state = log_state(log, &l.retired_at, &ok);
    if (!ok)
        return fail(ld, CERTA_E_INVALID_ARGUMENT, op, desc,
                    "a malformed \"state\" (want e.g. {\"usable\": {\"timestamp\": ...}})");
    if (!strcmp(state, "pending") || !strcmp(state, "rejected")) {
        ld->out->skipped++;
        return CERTA_OK;
    }
    const cJSON *ti = cJSON_GetObjectItemCaseSensitive(log, "temporal_interval");
    if (ti && (!ct_parse_time(string_of(ti, "start_inclusive"), &l.not_after_start) ||
               !ct_parse_time(string_of(ti, "end_exclusive"), &l.not_after_end)))
        return fail(ld, CERTA_E_INVALID_ARGUMENT, op, desc,
                    "a malformed \"temporal_interval\" (RFC 3339 start_inclusive, "
                    "end_exclusive)");
    l.key = key;
    l.key_len = (size_t)key_len;
    l.log_id = id_b64 ? id : NULL;
    l.operator_name = op;
    l.description = desc ? desc : "(no description)";
    int r = certa_config_add_ct_log(ld->cfg, &l);
    if (r != CERTA_OK) return fail(ld, r, NULL, NULL, certa_config_error_text(ld->cfg));
    ld->out->logs++;
    return CERTA_OK;
}

static int add_operators(loader *ld, const cJSON *root) {
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(root, "operators");
    if (!cJSON_IsArray(ops))
        return fail(ld, CERTA_E_INVALID_ARGUMENT, NULL, NULL,
                    "no \"operators\" array: not a v3 CT log list");
    const cJSON *op;
    cJSON_ArrayForEach(op, ops) {
        const char *name = string_of(op, "name");
        if (!name || !*name)
            return fail(ld, CERTA_E_INVALID_ARGUMENT, NULL, NULL, "an operator without a name");
        size_t before = ld->out->logs;
        static const char *const kinds[] = {"logs", "tiled_logs"};
        for (size_t k = 0; k < 2; k++) {
            const cJSON *logs = cJSON_GetObjectItemCaseSensitive(op, kinds[k]), *log;
            if (logs && !cJSON_IsArray(logs))
                return fail(ld, CERTA_E_INVALID_ARGUMENT, name, kinds[k], "not an array");
            cJSON_ArrayForEach(log, logs) {
                int r = add_log(ld, name, log);
                if (r != CERTA_OK) return r;
            }
        }
        if (ld->out->logs > before) ld->out->operators++;
    }
    return CERTA_OK;
}

int ct_sct_list_load(certa_config *cfg, size_t index, const char *path, char *why, size_t cap) {
    char *data = NULL;
    size_t len = 0;
    if (read_file(path, &data, &len) != 0) {
        snprintf(why, cap, "%s: cannot be read", path);
        return CERTA_E_FILE;
    }
    int r = certa_config_set_identity_sct_list(cfg, index, (const uint8_t *)data, len);
    if (r != CERTA_OK)
        snprintf(why, cap, "%s: %s (%s)", path, certa_config_error_text(cfg), certa_error_name(r));
    free(data);
    return r;
}

int ct_logs_load(certa_config *cfg, const char *path, ct_logs_loaded *out, char *why, size_t cap) {
    loader ld = {cfg, path, out, why, cap};
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    if (read_file(path, &text, &len) != 0)
        return fail(&ld, CERTA_E_FILE, NULL, NULL, "cannot be read");
    if (len > LOG_LIST_MAX) {
        free(text);
        return fail(&ld, CERTA_E_INVALID_ARGUMENT, NULL, NULL, "over 16 MiB: not a log list");
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        char what[96];
        snprintf(what, sizeof what, "not valid JSON (at byte %zu)",
                 end && end >= text ? (size_t)(end - text) : (size_t)0);
        free(text);
        return fail(&ld, CERTA_E_INVALID_ARGUMENT, NULL, NULL, what);
    }
    int r = add_operators(&ld, root);
    cJSON_Delete(root);
    free(text);
    if (r == CERTA_OK && out->logs == 0)
        return fail(&ld, CERTA_E_INVALID_ARGUMENT, NULL, NULL, "lists no usable log");
    return r;
}
