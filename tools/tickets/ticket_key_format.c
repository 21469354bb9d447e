/* The ticket-key format (see ticket_key_file.h): parsing and formatting,
 * no I/O, shared by the key file and the Redis store, and fuzzed
 * (fuzz/fuzz_ticket_keys.c). */
#include "tickets/ticket_key_file.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"

#define HEADER "certa-ticket-keys 1"

void tkf_zero(tkf_keys *k) {
    crypto_zero(k, sizeof *k);
}

static int hexval(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

int tkf_parse(const char *text, size_t len, const char *origin, tkf_keys *out, char *why,
              size_t cap) {
    memset(out, 0, sizeof *out);
    char line[256];
    unsigned long lineno = 0;
    bool header = false;
    int rc = 0;
    size_t pos = 0;
    while (rc == 0 && pos < len) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        size_t n = end - pos;
        lineno++;
        if (n >= sizeof line) {
            snprintf(why, cap, "%s line %lu is too long", origin, lineno);
            rc = -1;
            break;
        }
        memcpy(line, text + pos, n);
        line[n] = 0;
        pos = end < len ? end + 1 : end;
        if (n && line[n - 1] == '\r') line[--n] = 0;
        if (line[0] == '#' || line[0] == 0) continue;
        if (!header) {
            if (strcmp(line, HEADER) != 0) {
                snprintf(why, cap,
                         "%s line %lu: expected '" HEADER "' (a ticket-key file made by certa "
                         "ticket-keys)",
                         origin, lineno);
                rc = -1;
            }
            header = true;
            continue;
        }
        long long epoch;
        char hex[80];
        if (sscanf(line, "key %lld %79s", &epoch, hex) != 2 || strlen(hex) != 64 || epoch < 0) {
            snprintf(why, cap, "%s line %lu: expected 'key EPOCH HEX64'", origin, lineno);
            rc = -1;
            break;
        }
        if (out->count == TKF_MAX) {
            snprintf(why, cap, "%s holds more than %d keys: certa ticket-keys rotate --keep N",
                     origin, TKF_MAX);
            rc = -1;
            break;
        }
        for (int i = 0; i < 32 && rc == 0; i++) {
            int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
            if (hi < 0 || lo < 0) {
                snprintf(why, cap, "%s line %lu: the key is not hexadecimal", origin, lineno);
                rc = -1;
            } else {
                out->key[out->count][i] = (uint8_t)(hi << 4 | lo);
            }
        }
        if (rc) break;
        out->epoch[out->count++] = epoch;
        crypto_zero(hex, sizeof hex);
    }
    crypto_zero(line, sizeof line);
    if (rc == 0 && out->count == 0) {
        snprintf(why, cap, "%s holds no key%s", origin, header ? "" : " (nor the header)");
        rc = -1;
    }
    if (rc) tkf_zero(out);
    return rc;
}

char *tkf_format(const tkf_keys *k, size_t *len) {
    size_t cap = 128 + k->count * 96, n = 0;
    char *out = malloc(cap);
    if (!out) return NULL;
    n += (size_t)snprintf(out + n, cap - n,
                          "# certa session-ticket keys: secret, keep it mode 0600\n" HEADER "\n");
    for (size_t i = 0; i < k->count; i++) {
        n += (size_t)snprintf(out + n, cap - n, "key %lld ", (long long)k->epoch[i]);
        for (int b = 0; b < 32; b++)
            n += (size_t)snprintf(out + n, cap - n, "%02x", k->key[i][b]);
        n += (size_t)snprintf(out + n, cap - n, "\n");
    }
    *len = n;
    return out;
}

int tkf_add_random(tkf_keys *k, int64_t epoch) {
    if (k->count == TKF_MAX) { /* the oldest makes room */
        crypto_zero(k->key[0], 32);
        memmove(&k->key[0], &k->key[1], (TKF_MAX - 1) * sizeof k->key[0]);
        memmove(&k->epoch[0], &k->epoch[1], (TKF_MAX - 1) * sizeof k->epoch[0]);
        k->count--;
    }
    if (crypto_random(k->key[k->count], 32) != 0) return -1;
    k->epoch[k->count++] = epoch;
    return 0;
}

void tkf_keep_newest(tkf_keys *k, size_t keep) {
    size_t drop = k->count > keep ? k->count - keep : 0;
    if (!drop) return;
    crypto_zero(k->key, drop * sizeof k->key[0]);
    memmove(&k->key[0], &k->key[drop], (k->count - drop) * sizeof k->key[0]);
    memmove(&k->epoch[0], &k->epoch[drop], (k->count - drop) * sizeof k->epoch[0]);
    k->count -= drop;
    crypto_zero(&k->key[k->count], drop * sizeof k->key[0]);
}
