/* ACME Renewal Information (see ari.h). */
#include "renew/ari.h"

#include "acme/jws.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "wire/cursor.h"
#include "x509/cert.h"
#include "x509/extensions.h"

int ari_cert_id(const uint8_t *der, size_t len, char *out, size_t cap, char *why, size_t wcap) {
    x509_cert cert;
    x509_exts ext;
    char sub[200];
    if (x509_parse(&cert, der, len) != 0) {
        snprintf(why, wcap, "not a certificate");
        return -1;
    }
    if (x509_parse_extensions(&cert, &ext, sub, sizeof sub) != 0) {
        snprintf(why, wcap, "the certificate's extensions: %s", sub);
        return -1;
    }
    if (!ext.has_aki || !ext.aki_has_keyid || cur_left(&ext.aki_keyid) == 0) {
        snprintf(why, wcap, "the certificate has no authority key identifier (RFC 9773 needs it)");
        return -1;
    }
    if (cur_left(&cert.serial) == 0) {
        snprintf(why, wcap, "the certificate has an empty serial number");
        return -1;
    }
    cursor k = ext.aki_keyid, s = cert.serial;
    const uint8_t *kb, *sb;
    size_t kl = cur_left(&k), sl = cur_left(&s);
    if (kl > 64 || sl > 64 || !cur_bytes(&k, kl, &kb) || !cur_bytes(&s, sl, &sb)) {
        snprintf(why, wcap, "the key identifier or serial is longer than 64 bytes");
        return -1;
    }
    int n = b64url_encode(kb, kl, out, cap);
    if (n < 0 || (size_t)n + 2 > cap) {
        snprintf(why, wcap, "the certID does not fit");
        return -1;
    }
    out[n] = '.';
    if (b64url_encode(sb, sl, out + n + 1, cap - (size_t)n - 1) < 0) {
        snprintf(why, wcap, "the certID does not fit");
        return -1;
    }
    return 0;
}

/* n ASCII digits as a number; false if any is not a digit. */
static bool digits(cursor *c, int n, int *out) {
    int v = 0;
    for (int i = 0; i < n; i++) {
        uint8_t d;
        if (!cur_u8(c, &d) || d < '0' || d > '9') return false;
        v = v * 10 + (d - '0');
    }
    *out = v;
    return true;
}

static bool expect(cursor *c, const char *any_of) {
    uint8_t ch;
    if (!cur_u8(c, &ch)) return false;
    return ch && strchr(any_of, ch) != NULL;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method). */
static int64_t days_since_epoch(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int ari_parse_time(const char *text, size_t len, int64_t *out) {
    cursor c;
    cur_init(&c, (const uint8_t *)text, len);
    int year, mon, day, hour, min, sec;
    if (!digits(&c, 4, &year) || !expect(&c, "-") || !digits(&c, 2, &mon) || !expect(&c, "-") ||
        !digits(&c, 2, &day) || !expect(&c, "Tt ") || !digits(&c, 2, &hour) || !expect(&c, ":") ||
        !digits(&c, 2, &min) || !expect(&c, ":") || !digits(&c, 2, &sec))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] || hour > 23 || min > 59 || sec > 60)
        return -1;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mon == 2 && day == 29 && !leap) return -1;
    uint8_t ch;
    if (cur_peek_u8(&c, &ch) && ch == '.') { /* fractions: dropped */
        cur_skip(&c, 1);
        size_t n = 0;
        while (cur_peek_u8(&c, &ch) && ch >= '0' && ch <= '9')
            cur_skip(&c, 1), n++;
        if (n == 0) return -1;
    }
    int offset = 0;
    if (!cur_u8(&c, &ch)) return -1;
    if (ch == '+' || ch == '-') {
        int oh, om;
        if (!digits(&c, 2, &oh) || !expect(&c, ":") || !digits(&c, 2, &om) || oh > 23 || om > 59)
            return -1;
        offset = (ch == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else if (ch != 'Z' && ch != 'z') {
        return -1;
    }
    if (!cur_empty(&c)) return -1;
    if (sec == 60) sec = 59; /* a leap second: the second before will do */
    *out = days_since_epoch(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec - offset;
    return 0;
}

static bool time_member(const cJSON *o, const char *name, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) && ari_parse_time(v->valuestring, strlen(v->valuestring), out) == 0;
}

int ari_parse_renewal_info(const char *json, size_t len, ari_info *out, char *why, size_t cap) {
    memset(out, 0, sizeof *out);
    cJSON *o = cJSON_ParseWithLength(json, len);
    int rc = -1;
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(o, "suggestedWindow");
    if (!cJSON_IsObject(o)) {
        snprintf(why, cap, "the renewal information is not a JSON object");
    } else if (!cJSON_IsObject(w)) {
        snprintf(why, cap, "the renewal information has no suggestedWindow");
    } else if (!time_member(w, "start", &out->start) || !time_member(w, "end", &out->end)) {
        snprintf(why, cap, "the suggestedWindow's start and end are not RFC 3339 times");
    } else if (out->end < out->start) {
        snprintf(why, cap, "the suggestedWindow ends before it starts");
    } else {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "explanationURL");
        if (cJSON_IsString(e) && strlen(e->valuestring) < sizeof out->explanation) {
            const char *p = e->valuestring;
            bool printable = true;
            for (; *p; p++)
                if ((unsigned char)*p < 0x21 || (unsigned char)*p == 0x7f) printable = false;
            if (printable)
                snprintf(out->explanation, sizeof out->explanation, "%s", e->valuestring);
        }
        rc = 0;
    }
    cJSON_Delete(o);
    return rc;
}
