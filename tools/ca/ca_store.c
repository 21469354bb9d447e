/* The CA directory: its files, its state lists, serial and TTL text. */
#include "ca/ca_store.h"
#include "common/atomic_write.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cli_common.h"
#include "crypto/ca_crypto.h"
#include "x509/pem.h"

/* "90s", "15m", "24h", "7d", "1h30m" -> seconds (1 .. CA_MAX_TTL). */
bool parse_ttl(const char *s, int64_t *out) {
    if (!s || !*s) return false;
    int64_t total = 0;
    while (*s) {
        if (*s < '0' || *s > '9') return false;
        int64_t v = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (*s - '0');
            if (v > CA_MAX_TTL) return false;
            s++;
        }
        int64_t unit;
        switch (*s) {
        case 's':
            unit = 1;
            break;
        case 'm':
            unit = 60;
            break;
        case 'h':
            unit = 3600;
            break;
        case 'd':
            unit = 86400;
            break;
        default:
            return false;
        }
        s++;
        if (v > CA_MAX_TTL / unit) return false;
        total += v * unit;
        if (total > CA_MAX_TTL) return false;
    }
    if (total <= 0) return false;
    *out = total;
    return true;
}

/* "365 days", "23h 59m", "4m 30s", "12s"; negative values read "... ago". */
void fmt_duration(int64_t secs, char *out, size_t cap) {
    bool ago = secs < 0;
    int64_t s = ago ? -secs : secs;
    if (s >= 2 * 86400) {
        int64_t d = s / 86400, h = s % 86400 / 3600;
        if (d < 30 && h)
            snprintf(out, cap, "%lld days %lldh", (long long)d, (long long)h);
        else
            snprintf(out, cap, "%lld days", (long long)d);
    } else if (s >= 3600) {
        snprintf(out, cap, "%lldh %02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
    } else if (s >= 60) {
        snprintf(out, cap, "%lldm %02llds", (long long)(s / 60), (long long)(s % 60));
    } else {
        snprintf(out, cap, "%llds", (long long)s);
    }
    if (ago) {
        size_t n = strlen(out);
        snprintf(out + n, cap > n ? cap - n : 0, " ago");
    }
}

/* Serial text -> canonical uppercase hex: whole bytes without leading zero
 * bytes, as OpenSSL prints serials ("0E4F..."); colons, spaces and a 0x
 * prefix allowed. false if not hex, zero or over 20 bytes. */
bool normalize_serial(const char *in, char *out, size_t cap) {
    if (!in) return false;
    if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) in += 2;
    size_t n = 0;
    bool leading = true;
    for (; *in; in++) {
        char c = *in;
        if (c == ':' || c == ' ') continue;
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v = c - 'A' + 10;
        else
            return false;
        if (leading && v == 0) continue;
        leading = false;
        if (n + 1 >= cap || n >= 40) return false;
        out[n++] = "0123456789ABCDEF"[v];
    }
    if (n == 0) return false;
    if (n % 2) { /* an odd digit count: the first byte's high nibble is 0 */
        if (n + 1 >= cap) return false;
        memmove(out + 1, out, n);
        out[0] = '0';
        n++;
    }
    out[n] = 0;
    return true;
}

/* Hex (canonical, from normalize_serial) -> big-endian bytes. */
size_t serial_bytes(const char *hex, uint8_t *out, size_t cap) {
    size_t len = strlen(hex), n = (len + 1) / 2;
    if (n > cap) return 0;
    memset(out, 0, n);
    for (size_t i = 0; i < len; i++) {
        char c = hex[len - 1 - i];
        int v = c <= '9' ? c - '0' : c - 'A' + 10;
        out[n - 1 - i / 2] |= (uint8_t)(v << (4 * (i % 2)));
    }
    return n;
}

bool path_join(char *out, size_t cap, const char *dir, const char *name) {
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap;
}

bool exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Writes a whole file with the given mode. exclusive: refuse an existing
 * file; otherwise replace it atomically (common/atomic_write.c). */
bool write_file(const char *path, const void *data, size_t len, mode_t mode, bool exclusive) {
    if (!exclusive) {
        char why[CA_PATH_CAP + 128];
        if (atomic_write_file(path, data, len, mode, why, sizeof why) == 0) return true;
        cli_err("%s", why);
        return false;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0) {
        cli_err("cannot create %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = fchmod(fd, mode) == 0 && write_all_fd(fd, data, len) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0) ok = false;
    if (!ok) {
        cli_err("cannot write %s: %s", path, strerror(saved ? saved : errno));
        unlink(path);
    }
    return ok;
}

/* Appends one line to a state file (created 0600 if missing). */
bool append_line(const char *path, const char *line) {
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        cli_err("cannot open %s: %s", path, strerror(errno));
        return false;
    }
    size_t len = strlen(line);
    ssize_t w = write(fd, line, len);
    bool ok = w == (ssize_t)len && fsync(fd) == 0;
    if (close(fd) != 0) ok = false;
    if (!ok) cli_err("cannot append to %s: %s", path, strerror(errno));
    return ok;
}

void ca_close(ca_state *ca) {
    free(ca->cert_pem);
    free(ca->cert_der);
    key_free(ca->key);
    if (ca->lock_fd >= 0) close(ca->lock_fd); /* releases the lock */
    memset(ca, 0, sizeof *ca);
    ca->lock_fd = -1;
}

bool ca_lock(ca_state *ca) {
    ca->lock_fd = open(ca->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (ca->lock_fd < 0) {
        cli_err("cannot open the CA directory %s: %s", ca->dir, strerror(errno));
        return false;
    }
    if (flock(ca->lock_fd, LOCK_EX) != 0) {
        cli_err("cannot lock %s: %s", ca->dir, strerror(errno));
        return false;
    }
    return true;
}

bool ca_open(ca_state *ca, const char *dir) {
    memset(ca, 0, sizeof *ca);
    ca->lock_fd = -1;
    ca->dir = dir;
    char crt[CA_PATH_CAP], keyp[CA_PATH_CAP];
    if (!path_join(crt, sizeof crt, dir, "ca.crt") ||
        !path_join(keyp, sizeof keyp, dir, "ca.key")) {
        cli_err("path too long: %s", dir);
        return false;
    }
    if (!exists(crt)) {
        cli_err("no CA in %s (%s is missing): create one with 'certa ca init %s'", dir, crt, dir);
        return false;
    }
    if (!ca_lock(ca)) return false;
    if (read_file(crt, &ca->cert_pem, &ca->cert_pem_len) != 0) {
        cli_err("cannot read %s", crt);
        return false;
    }
    size_t pos = 0;
    if (pem_next(ca->cert_pem, ca->cert_pem_len, &pos, "CERTIFICATE", &ca->cert_der,
                 &ca->cert_der_len) != 1 ||
        x509_parse(&ca->cert, ca->cert_der, ca->cert_der_len) != 0) {
        cli_err("%s does not hold a readable PEM certificate", crt);
        return false;
    }
    char *key_pem = NULL;
    size_t key_len = 0;
    if (read_file(keyp, &key_pem, &key_len) != 0) {
        cli_err("cannot read the CA key %s", keyp);
        return false;
    }
    if (key_len > 7 && !strncmp(key_pem, "pkcs11:", 7)) {
        /* A CA key kept on a token (ca init --key pkcs11:...): ca.key holds its URI. */
        char uri[4096];
        size_t n = strcspn(key_pem, "\r\n");
        char why[512] = "";
        if (n < key_len && n >= sizeof uri) n = sizeof uri; /* refused below */
        if (n < sizeof uri) {
            memcpy(uri, key_pem, n);
            uri[n] = 0;
            if (key_from_pkcs11_uri(uri, NULL, &ca->key, why, sizeof why) != 0) ca->key = NULL;
            crypto_zero(uri, sizeof uri);
        }
        crypto_zero(key_pem, key_len);
        free(key_pem);
        if (!ca->key) {
            cli_err("the CA key named in %s (a PKCS#11 URI) cannot be used: %s", keyp,
                    *why ? why : "the URI is too long");
            return false;
        }
    } else {
        ca->key = key_from_pem(key_pem, key_len);
        crypto_zero(key_pem, key_len);
        free(key_pem);
    }
    if (!ca->key) {
        cli_err("%s is not a usable private key (unencrypted PKCS#8, SEC1 or PKCS#1 PEM)", keyp);
        return false;
    }
    crypto_key *pub = key_from_spki(ca->cert.spki.data, ca->cert.spki.len);
    bool match = pub && key_pair_matches(ca->key, pub);
    key_free(pub);
    if (!match) {
        cli_err("%s does not belong to %s: the CA directory is inconsistent", keyp, crt);
        return false;
    }
    if (x509_cert_key_id(&ca->cert, ca->key_id, &ca->key_id_len) != 0) {
        cli_err("cannot read the key identifier of %s", crt);
        return false;
    }
    if (x509_name_to_string(&ca->cert.subject, ca->subject, sizeof ca->subject) != 0)
        snprintf(ca->subject, sizeof ca->subject, "(unprintable name)");
    return true;
}

static const struct {
    const char *name;
    int code;
} reasons[] = {
    {"unspecified", 0},        {"keyCompromise", 1},      {"cACompromise", 2},
    {"affiliationChanged", 3}, {"superseded", 4},         {"cessationOfOperation", 5},
    {"certificateHold", 6},    {"privilegeWithdrawn", 9},
};

const char *ca_reason_name(int code) {
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].code == code) return reasons[i].name;
    return "unspecified";
}

bool ca_reason_code(const char *name, int *code) {
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++) {
        if (!strcasecmp(name, reasons[i].name)) {
            *code = reasons[i].code;
            return true;
        }
    }
    return false;
}

/* Finds the serial (canonical hex) in a state file; copies the line. */
bool find_serial(const char *path, const char *hex, char *line_out, size_t cap) {
    FILE *f = fopen(path, "r");
    if (!f) return false;
    char line[8192];
    bool found = false;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char first[64];
        size_t n = strcspn(line, "\t \n");
        if (n == 0 || n >= sizeof first) continue;
        memcpy(first, line, n);
        first[n] = 0;
        char canon[64];
        if (normalize_serial(first, canon, sizeof canon) && !strcmp(canon, hex)) {
            if (line_out) snprintf(line_out, cap, "%s", line);
            found = true;
            break;
        }
    }
    fclose(f);
    return found;
}

void ca_unlock(ca_state *ca) {
    if (ca->lock_fd >= 0) close(ca->lock_fd);
    ca->lock_fd = -1;
}

/* Reads the lines of DIR/NAME that are not comments, calling take for
 * each, under a shared lock (writers append under the exclusive one). */
static bool read_records(const ca_state *ca, const char *name,
                         bool (*take)(void *arg, const char *path, unsigned long lineno,
                                      const char *line),
                         void *arg) {
    char path[CA_PATH_CAP];
    if (!path_join(path, sizeof path, ca->dir, name)) {
        cli_err("path too long: %s", ca->dir);
        return false;
    }
    int lock = -1; /* unless the caller holds the exclusive lock already */
    if (ca->lock_fd < 0 && (lock = open(ca->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
        flock(lock, LOCK_SH);
    FILE *f = fopen(path, "r");
    bool ok = true;
    if (!f && errno != ENOENT) {
        cli_err("cannot read %s: %s", path, strerror(errno));
        ok = false;
    }
    char line[8192];
    unsigned long lineno = 0;
    while (ok && f && fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n') continue;
        if (lineno > CA_MAX_RECORDS) {
            cli_err("%s has more than %d lines", path, CA_MAX_RECORDS);
            ok = false;
        } else {
            ok = take(arg, path, lineno, line);
        }
    }
    if (f) fclose(f);
    if (lock >= 0) close(lock);
    return ok;
}

/* A growing array of fixed-size records. */
typedef struct record_list {
    void *items;
    size_t count, cap, size;
} record_list;

static void *record_add(record_list *l) {
    if (l->count == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 16;
        void *n = realloc(l->items, ncap * l->size);
        if (!n) {
            cli_err("out of memory");
            return NULL;
        }
        l->items = n;
        l->cap = ncap;
    }
    void *slot = (uint8_t *)l->items + l->count++ * l->size;
    memset(slot, 0, l->size);
    return slot;
}

/* The serial at the start of line, as bytes; false if it is not one. */
static bool line_serial(const char *line, uint8_t *out, size_t *len) {
    char first[64], canon[64];
    size_t n = strcspn(line, "\t \n");
    if (n == 0 || n >= sizeof first) return false;
    memcpy(first, line, n);
    first[n] = 0;
    if (!normalize_serial(first, canon, sizeof canon)) return false;
    *len = serial_bytes(canon, out, CA_MAX_SERIAL);
    return *len != 0;
}

static bool take_revoked(void *arg, const char *path, unsigned long lineno, const char *line) {
    record_list *l = arg;
    char reason_s[64] = "unspecified";
    long long at;
    uint8_t serial[CA_MAX_SERIAL];
    size_t serial_len;
    if (!line_serial(line, serial, &serial_len) ||
        sscanf(line, "%*s %lld %63s", &at, reason_s) < 1) {
        cli_err("%s line %lu is malformed: expected 'SERIAL<TAB>EPOCH<TAB>REASON'", path, lineno);
        return false;
    }
    ca_revocation *r = record_add(l);
    if (!r) return false;
    memcpy(r->serial, serial, serial_len);
    r->serial_len = serial_len;
    r->revoked_at = at;
    if (!ca_reason_code(reason_s, &r->reason)) r->reason = 0;
    return true;
}

static bool take_issued(void *arg, const char *path, unsigned long lineno, const char *line) {
    record_list *l = arg;
    long long not_after;
    uint8_t serial[CA_MAX_SERIAL];
    size_t serial_len;
    if (!line_serial(line, serial, &serial_len) || sscanf(line, "%*s %lld", &not_after) != 1) {
        cli_err("%s line %lu is malformed: expected 'SERIAL<TAB>NOT_AFTER<TAB>FILE<TAB>IDS'", path,
                lineno);
        return false;
    }
    ca_issued *r = record_add(l);
    if (!r) return false;
    memcpy(r->serial, serial, serial_len);
    r->serial_len = serial_len;
    r->not_after = not_after;
    return true;
}

bool ca_read_revoked(const ca_state *ca, ca_revocation **out, size_t *count) {
    record_list l = {NULL, 0, 0, sizeof(ca_revocation)};
    bool ok = read_records(ca, "revoked.txt", take_revoked, &l);
    if (!ok) {
        free(l.items);
        l.items = NULL;
        l.count = 0;
    }
    *out = l.items;
    *count = l.count;
    return ok;
}

bool ca_read_issued(const ca_state *ca, ca_issued **out, size_t *count) {
    record_list l = {NULL, 0, 0, sizeof(ca_issued)};
    bool ok = read_records(ca, "serials.txt", take_issued, &l);
    if (!ok) {
        free(l.items);
        l.items = NULL;
        l.count = 0;
    }
    *out = l.items;
    *count = l.count;
    return ok;
}

void hex_upper(const uint8_t *p, size_t n, char *out, size_t cap) {
    static const char digits[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n && o + 2 < cap; i++) {
        out[o++] = digits[p[i] >> 4];
        out[o++] = digits[p[i] & 15];
    }
    if (cap) out[o < cap ? o : cap - 1] = 0;
}
