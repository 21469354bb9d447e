/* Certificate Transparency in the handshake (RFC 6962): the config's logs
 * and policy, the signed_certificate_timestamp extension both ways, and
 * the judgement of the peer leaf's SCTs once its chain is validated.
 *
 * An SCT may come from three places — embedded in the leaf (a
 * precert_entry: signed over the issuer's key hash and the TBSCertificate
 * without the SCT list), the TLS extension or a stapled OCSP response (an
 * x509_entry: over the leaf's DER). Each is judged on its own (known log,
 * signature, time, the log's state) and traced; the policy then counts the
 * distinct operators of the valid ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"
#include "wire/der_build.h"
#include "x509/cert.h"
#include "x509/sct.h"

#define MAX_CT_LOGS 256
/* SCTs judged per leaf (all sources): bounds the signature checks. */
#define MAX_SCTS_JUDGED 32
/* How far ahead of our clock an SCT's timestamp may be. */
#define SCT_SKEW_MS (300 * 1000LL)
/* A leaf valid this long or less needs 2 operators, a longer one 3. */
#define SCT_SHORT_LIFETIME (180 * 86400LL)
/* certa_conn_sct_note: the verdict (subject, operators) and the rule */
#define SCT_NOTE_MAX 720

static char *dup_text(const char *s) {
    return strdup(s ? s : "");
}

int certa_config_add_ct_log(certa_config *cfg, const certa_ct_log *log) {
    CHECK_MUTABLE(cfg);
    if (!log || !log->key || !log->key_len)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "a CT log needs its public key");
    const char *name = log->description && *log->description ? log->description : "?";
    if (!log->operator_name || !*log->operator_name)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "CT log '%s' has no operator name: SCTs are counted per operator", name);
    if (cfg->ct_log_count == MAX_CT_LOGS)
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT, "more than %d CT logs", MAX_CT_LOGS);
    crypto_key *key = key_from_spki(log->key, log->key_len);
    char kind[64] = "an unreadable key";
    if (key) key_describe(key, kind, sizeof kind);
    key_family fam = KEY_FAMILY_OTHER;
    int bits = key ? key_size_bits(key, &fam) : 0;
    bool fits =
        key && ((fam == KEY_FAMILY_EC && sig_scheme_fits_key(0x0403, key)) ||
                (fam == KEY_FAMILY_RSA && bits >= 2048 && sig_scheme_fits_key_tls12(0x0401, key)));
    if (!fits) {
        key_free(key);
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "CT log '%s' has %s; RFC 6962 logs sign with ECDSA P-256 or RSA "
                          "(2048 bits or more)",
                          name, kind);
    }
    uint8_t id[32];
    if (hash_oneshot(HASH_SHA256, log->key, log->key_len, id) != 0) {
        key_free(key);
        return config_err(cfg, CERTA_E_CRYPTO, "hashing CT log '%s''s key failed", name);
    }
    if (log->log_id && memcmp(log->log_id, id, 32) != 0) {
        key_free(key);
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "CT log '%s': its log ID is not the SHA-256 of its key (RFC 6962 "
                          "§3.2): the log list is damaged",
                          name);
    }
    for (size_t i = 0; i < cfg->ct_log_count; i++)
        if (!memcmp(cfg->ct_logs[i].id, id, 32)) {
            key_free(key);
            return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                              "CT log '%s' is listed twice (also as '%s')", name,
                              cfg->ct_logs[i].description);
        }
    ct_log *grown = realloc(cfg->ct_logs, (cfg->ct_log_count + 1) * sizeof *grown);
    if (!grown) {
        key_free(key);
        return CERTA_E_NOMEM;
    }
    cfg->ct_logs = grown;
    ct_log *l = &grown[cfg->ct_log_count];
    memset(l, 0, sizeof *l);
    memcpy(l->id, id, 32);
    l->key = key;
    l->operator_name = dup_text(log->operator_name);
    l->description = dup_text(name);
    l->not_after_start = log->not_after_start;
    l->not_after_end = log->not_after_end;
    l->retired_at = log->retired_at;
    cfg->ct_log_count++;
    if (!l->operator_name || !l->description) return CERTA_E_NOMEM; /* freed with the config */
    return CERTA_OK;
}

size_t certa_config_ct_log_count(const certa_config *cfg) {
    return cfg ? cfg->ct_log_count : 0;
}

void config_ct_logs_free(certa_config *cfg) {
    for (size_t i = 0; i < cfg->ct_log_count; i++) {
        key_free(cfg->ct_logs[i].key);
        free(cfg->ct_logs[i].operator_name);
        free(cfg->ct_logs[i].description);
    }
    free(cfg->ct_logs);
    cfg->ct_logs = NULL;
    cfg->ct_log_count = 0;
}

int certa_config_set_sct_policy(certa_config *cfg, certa_sct_policy policy) {
    CHECK_MUTABLE(cfg);
    if (policy < CERTA_SCT_DEFAULT || policy > CERTA_SCT_REQUIRE) return CERTA_E_INVALID_ARGUMENT;
    cfg->sct_policy = policy;
    return CERTA_OK;
}

static certa_sct_policy effective_policy(const certa_config *cfg) {
    if (cfg->sct_policy != CERTA_SCT_DEFAULT) return cfg->sct_policy;
    return cfg->ct_log_count ? CERTA_SCT_REPORT : CERTA_SCT_OFF;
}

int certa_config_set_identity_sct_list(certa_config *cfg, size_t index, const uint8_t *list,
                                       size_t len) {
    CHECK_MUTABLE(cfg);
    if (!list && len) return CERTA_E_INVALID_ARGUMENT;
    if (index >= cfg->id_count || cfg->ids[index].count == 0)
        return config_err(cfg, CERTA_E_CONFIG,
                          "no certificate %zu to send SCTs for: load the certificate first", index);
    cursor items;
    if (list && !sct_list_open(list, len, &items))
        return config_err(cfg, CERTA_E_INVALID_ARGUMENT,
                          "the SCT list is not a TLS-encoded SignedCertificateTimestampList "
                          "(RFC 6962 §3.3: a 2-byte length, then SCTs each with a 2-byte length)");
    uint8_t *copy = NULL;
    if (list) {
        if (!(copy = malloc(len))) return CERTA_E_NOMEM;
        memcpy(copy, list, len);
    }
    identity *id = &cfg->ids[index];
    free(id->sct_list);
    id->sct_list = copy;
    id->sct_list_len = copy ? len : 0;
    return CERTA_OK;
}

int certa_config_set_sct_list(certa_config *cfg, const uint8_t *list, size_t len) {
    return certa_config_set_identity_sct_list(cfg, 0, list, len);
}

const char *certa_conn_sct_note(const certa_conn *conn) {
    return conn && conn->sct_note ? conn->sct_note : "";
}

/* ---- the extension ---- */

bool sct_wanted(const certa_config *cfg) {
    certa_sct_policy p = effective_policy(cfg);
    return p == CERTA_SCT_REQUIRE || (p == CERTA_SCT_REPORT && cfg->ct_log_count);
}

void sct_put_request(const certa_config *cfg, builder *b) {
    if (!sct_wanted(cfg)) return;
    bld_u16(b, EXT_SCT);
    bld_u16(b, 0);
}

void sct_put_list(certa_conn *c, builder *b) {
    c->sct_sent = c->sct_requested && !c->resumed && c->id && c->id->sct_list;
    if (!c->sct_sent) return;
    bld_u16(b, EXT_SCT);
    bld_open(b, 2);
    bld_bytes(b, c->id->sct_list, c->id->sct_list_len);
    bld_close(b);
}

int sct_receive(certa_conn *c, cursor list, const char *where) {
    cursor items;
    if (c->is_server || !sct_wanted(c->cfg))
        return conn_fail(c, CERTA_E_UNSUPPORTED_EXTENSION, ALERT_UNSUPPORTED_EXTENSION,
                         "the peer's %s carries signed_certificate_timestamp, which was not "
                         "requested",
                         where);
    if (c->peer_sct)
        return conn_fail(c, CERTA_E_ILLEGAL_PARAMETER, ALERT_ILLEGAL_PARAMETER,
                         "the server sent a second SCT list (in its %s)", where);
    if (!sct_list_open(list.data, list.len, &items))
        return conn_fail(c, CERTA_E_DECODE, ALERT_DECODE_ERROR,
                         "the server's SCT list (signed_certificate_timestamp in its %s) is "
                         "malformed",
                         where);
    if (!(c->peer_sct = malloc(list.len)))
        return conn_fail(c, CERTA_E_NOMEM, ALERT_INTERNAL_ERROR, NULL);
    memcpy(c->peer_sct, list.data, list.len);
    c->peer_sct_len = list.len;
    return 0;
}

/* ---- judging the peer's SCTs ---- */

/* What keeps an SCT from counting: the trace's words and the refusal's. */
typedef enum sct_problem {
    SCT_VALID = 0,
    SCT_MALFORMED,
    SCT_LIST_MALFORMED,
    SCT_NOT_V1,
    SCT_UNKNOWN_LOG,
    SCT_FUTURE,
    SCT_RETIRED,
    SCT_INTERVAL,
    SCT_NO_ISSUER,
    SCT_NO_ENTRY,
    SCT_BAD_SIGNATURE,
    SCT_UNSUPPORTED,
} sct_problem;

static const struct {
    const char *text, *brief;
} problems[] = {
    [SCT_VALID] = {"valid", "valid"},
    [SCT_MALFORMED] = {"malformed", "malformed"},
    [SCT_LIST_MALFORMED] = {"a malformed SCT list", "malformed list"},
    [SCT_NOT_V1] = {"an SCT version other than v1 (ignored)", "not v1"},
    [SCT_UNKNOWN_LOG] = {"from a log that is not in the configured log list", "unknown log"},
    [SCT_FUTURE] = {"timestamped in the future", "timestamp in the future"},
    [SCT_RETIRED] = {"made after the log retired on ", "made after its log retired"},
    [SCT_INTERVAL] = {"the log does not take certificates expiring when this one does (its "
                      "temporal interval)",
                      "outside the log's temporal interval"},
    [SCT_NO_ISSUER] = {"cannot be checked: the leaf's issuer is not known (the leaf is itself "
                       "trusted)",
                       "issuer unknown"},
    [SCT_NO_ENTRY] = {"cannot be checked: the certificate could not be re-encoded",
                      "unreadable certificate"},
    [SCT_BAD_SIGNATURE] = {"invalid signature (not signed by this log over this certificate)",
                           "invalid signature"},
    [SCT_UNSUPPORTED] = {"unsupported signature algorithm (RFC 6962 logs use SHA-256 with "
                         "ECDSA or RSA)",
                         "unsupported algorithm"},
};

typedef struct judged {
    const char *source;
    const ct_log *log; /* NULL: not a configured log */
    uint8_t log_id[8]; /* the first bytes, for naming an unknown log */
    uint64_t timestamp;
    bool parsed;
    sct_problem problem;
    char detail[96]; /* a date in a problem */
} judged;

typedef struct judge_ctx {
    certa_conn *c;
    const x509_cert *leaf;
    const uint8_t *issuer_key_hash; /* NULL: no issuer known */
    builder precert_tbs;            /* made on first use */
    bool precert_tried;
    judged items[MAX_SCTS_JUDGED];
    size_t count, ignored;
} judge_ctx;

static void format_ms(uint64_t ms, char *out, size_t cap) {
    int64_t y;
    int mo, d, h, mi, s;
    der_civil_from_epoch((int64_t)(ms / 1000), &y, &mo, &d, &h, &mi, &s);
    snprintf(out, cap, "%04lld-%02d-%02d %02d:%02d:%02d UTC", (long long)y, mo, d, h, mi, s);
}

static const ct_log *find_log(const certa_config *cfg, const uint8_t *id) {
    for (size_t i = 0; i < cfg->ct_log_count; i++)
        if (!memcmp(cfg->ct_logs[i].id, id, 32)) return &cfg->ct_logs[i];
    return NULL;
}

/* The signature check of one parsed SCT. */
static sct_problem check_signature(judge_ctx *j, const sct *s, const ct_log *log, bool embedded) {
    builder data;
    bld_init_alloc(&data, 1024);
    int r = -1;
    if (embedded) {
        if (!j->issuer_key_hash) {
            bld_free(&data);
            return SCT_NO_ISSUER;
        }
        if (!j->precert_tried) {
            j->precert_tried = true;
            bld_init_alloc(&j->precert_tbs, j->leaf->tbs.len);
            if (sct_precert_tbs(j->leaf, &j->precert_tbs) != 0) bld_free(&j->precert_tbs);
        }
        if (j->precert_tbs.len)
            r = sct_signed_data(s, SCT_ENTRY_PRECERT, j->issuer_key_hash, j->precert_tbs.buf,
                                j->precert_tbs.len, &data);
    } else {
        r = sct_signed_data(s, SCT_ENTRY_X509, NULL, j->leaf->der.data, j->leaf->der.len, &data);
    }
    if (r != 0) {
        bld_free(&data);
        return SCT_NO_ENTRY;
    }
    r = sct_verify(s, log->key, data.buf, data.len);
    bld_free(&data);
    return r == SCT_VERIFY_OK              ? SCT_VALID
           : r == SCT_VERIFY_BAD_SIGNATURE ? SCT_BAD_SIGNATURE
                                           : SCT_UNSUPPORTED;
}

static void judge_one(judge_ctx *j, cursor serialized, const char *source, bool embedded) {
    if (j->count == MAX_SCTS_JUDGED) {
        j->ignored++;
        return;
    }
    judged *it = &j->items[j->count++];
    memset(it, 0, sizeof *it);
    it->source = source;
    sct s;
    int p = sct_parse(serialized, &s);
    if (p == SCT_PARSE_VERSION) {
        it->problem = SCT_NOT_V1;
        return;
    }
    if (p != SCT_PARSE_OK) {
        it->problem = SCT_MALFORMED;
        return;
    }
    it->parsed = true;
    it->timestamp = s.timestamp;
    memcpy(it->log_id, s.log_id, sizeof it->log_id);
    const certa_config *cfg = j->c->cfg;
    it->log = find_log(cfg, s.log_id);
    int64_t now = cfg->time_fn(cfg->time_arg);
    const x509_cert *leaf = j->leaf;
    if (!it->log) {
        it->problem = SCT_UNKNOWN_LOG;
    } else if (s.timestamp > (uint64_t)now * 1000 + SCT_SKEW_MS) {
        it->problem = SCT_FUTURE;
    } else if (it->log->retired_at && s.timestamp >= (uint64_t)it->log->retired_at * 1000) {
        format_ms((uint64_t)it->log->retired_at * 1000, it->detail, sizeof it->detail);
        it->problem = SCT_RETIRED;
    } else if ((it->log->not_after_start && leaf->not_after < it->log->not_after_start) ||
               (it->log->not_after_end && leaf->not_after >= it->log->not_after_end)) {
        it->problem = SCT_INTERVAL;
    } else {
        it->problem = check_signature(j, &s, it->log, embedded);
    }
}

static int judge_list(judge_ctx *j, const uint8_t *data, size_t len, const char *source,
                      bool embedded) {
    cursor items, one;
    if (!sct_list_open(data, len, &items)) {
        if (j->count < MAX_SCTS_JUDGED) {
            judged *it = &j->items[j->count++];
            memset(it, 0, sizeof *it);
            it->source = source;
            it->problem = SCT_LIST_MALFORMED;
        }
        return -1;
    }
    while (sct_list_next(&items, &one))
        judge_one(j, one, source, embedded);
    return 0;
}

/* "log 'X' (operator Y), 2026-...: valid" for one SCT. */
static void describe(const judged *it, char *out, size_t cap) {
    char when[40] = "";
    if (it->parsed) format_ms(it->timestamp, when, sizeof when);
    size_t n = 0;
    if (it->log)
        n = (size_t)snprintf(out, cap, "log '%s' (operator %s), %s: ", it->log->description,
                             it->log->operator_name, when);
    else if (it->parsed)
        n = (size_t)snprintf(out, cap,
                             "log ID %02x%02x%02x%02x%02x%02x%02x%02x..., %s: ", it->log_id[0],
                             it->log_id[1], it->log_id[2], it->log_id[3], it->log_id[4],
                             it->log_id[5], it->log_id[6], it->log_id[7], when);
    if (n >= cap) return;
    snprintf(out + n, cap - n, "%s%s", problems[it->problem].text, it->detail);
}

/* The distinct operators of the valid SCTs, "A, B" into names. */
static size_t count_operators(const judge_ctx *j, char *names, size_t cap) {
    const char *seen[MAX_SCTS_JUDGED];
    size_t n = 0;
    names[0] = 0;
    for (size_t i = 0; i < j->count; i++) {
        const judged *it = &j->items[i];
        if (it->problem != SCT_VALID) continue;
        bool dup = false;
        for (size_t k = 0; k < n && !dup; k++)
            dup = !strcmp(seen[k], it->log->operator_name);
        if (dup) continue;
        seen[n++] = it->log->operator_name;
        size_t used = strlen(names);
        snprintf(names + used, cap - used, "%s%s", used ? ", " : "", it->log->operator_name);
    }
    return n;
}

static int judge(judge_ctx *j, certa_sct_policy policy, const char *whose) {
    certa_conn *c = j->c;
    size_t valid = 0;
    for (size_t i = 0; i < j->count; i++) {
        char line[300];
        describe(&j->items[i], line, sizeof line);
        conn_trace(c, "  SCT %zu (%s): %s", i + 1, j->items[i].source, line);
        if (j->items[i].problem == SCT_VALID) valid++;
    }
    if (j->ignored) conn_trace(c, "  SCTs: %zu more not looked at", j->ignored);
    char operators[256];
    size_t ops = count_operators(j, operators, sizeof operators);
    int64_t lifetime = j->leaf->not_after - j->leaf->not_before;
    size_t need = lifetime <= SCT_SHORT_LIFETIME ? 2 : 3;
    long long days = (long long)((lifetime + 86399) / 86400);
    char subject[200], verdict[600];
    if (x509_name_to_string(&j->leaf->subject, subject, sizeof subject) != 0) strcpy(subject, "?");
    if (valid == 0)
        snprintf(verdict, sizeof verdict, "leaf '%s' has no valid SCT%s", subject,
                 j->count ? "" : " (none was sent)");
    else
        snprintf(verdict, sizeof verdict, "leaf '%s' has %zu valid SCT%s (from operator%s %s)",
                 subject, valid, valid == 1 ? "" : "s", ops == 1 ? "" : "s", operators);
    bool met = ops >= need;
    free(c->sct_note);
    c->sct_note = malloc(SCT_NOTE_MAX);
    if (c->sct_note)
        snprintf(c->sct_note, SCT_NOTE_MAX,
                 "%s; certificates of %lld days need %zu from distinct "
                 "operators: %s",
                 verdict, days, need, met ? "met" : "not met");
    conn_trace(c, "  CT: %s", certa_conn_sct_note(c));
    if (met || policy != CERTA_SCT_REQUIRE) return 0;
    /* What the others were, in a few words each (the trace has it all). */
    char others[200] = "";
    for (size_t i = 0, n = 0; i < j->count && n + 1 < sizeof others; i++) {
        const judged *it = &j->items[i];
        if (it->problem == SCT_VALID) continue;
        char log[48] = "";
        if (it->log)
            snprintf(log, sizeof log, ", log '%s'", it->log->description);
        else if (it->parsed)
            snprintf(log, sizeof log, ", %02x%02x%02x%02x", it->log_id[0], it->log_id[1],
                     it->log_id[2], it->log_id[3]);
        n +=
            (size_t)snprintf(others + n, sizeof others - n, "%sSCT %zu (%s%s)",
                             n ? ", " : "; not counted: ", i + 1, problems[it->problem].brief, log);
    }
    const char *fix = c->cfg->ct_log_count
                          ? "log it in more logs of distinct operators, or add its logs to "
                            "--ct-logs"
                          : "no CT logs are configured (--ct-logs)";
    return conn_fail(c, CERTA_E_CERT_TRANSPARENCY, ALERT_CERTIFICATE_UNKNOWN,
                     "the %s's certificate was refused: %s; certificates of %lld days need %zu "
                     "from distinct operators%s: %s",
                     whose, verdict, days, need, others, fix);
}

int sct_check(certa_conn *c) {
    if (c->sct_checked) return 0;
    c->sct_checked = true;
    const certa_config *cfg = c->cfg;
    certa_sct_policy policy = effective_policy(cfg);
    if (policy == CERTA_SCT_OFF || c->peer_cert_count == 0) return 0;
    const char *whose = c->is_server ? "client" : "server";
    if (cfg->pin_count || cfg->insecure || !c->peer.verified) {
        conn_trace(c, "  SCTs: not checked (the %s's key is pinned or not verified)", whose);
        return 0;
    }
    judge_ctx j;
    memset(&j, 0, sizeof j);
    j.c = c;
    x509_cert leaf, issuer;
    if (x509_parse(&leaf, c->peer_certs[0], c->peer_cert_lens[0]) != 0)
        return conn_fail(c, CERTA_E_INTERNAL, ALERT_INTERNAL_ERROR, NULL);
    j.leaf = &leaf;
    uint8_t key_hash[32];
    bool have_issuer = c->peer_issuer &&
                       x509_parse(&issuer, c->peer_issuer, c->peer_issuer_len) == 0 &&
                       hash_oneshot(HASH_SHA256, issuer.spki.data, issuer.spki.len, key_hash) == 0;
    if (have_issuer) j.issuer_key_hash = key_hash;
    cursor list = {NULL, 0};
    int found = sct_list_from_cert(&leaf, &list);
    if (found != 0) judge_list(&j, list.data, found > 0 ? list.len : 0, "embedded", true);
    if (c->peer_sct) judge_list(&j, c->peer_sct, c->peer_sct_len, "TLS extension", false);
    list.len = 0;
    found = c->peer_ocsp && have_issuer
                ? sct_list_from_ocsp(c->peer_ocsp, c->peer_ocsp_len, &leaf, &issuer, &list)
                : 0;
    if (found != 0) judge_list(&j, list.data, found > 0 ? list.len : 0, "OCSP response", false);
    int r = judge(&j, policy, whose);
    bld_free(&j.precert_tbs);
    return r;
}
