/* The CA directory that certa ca commands share (init, issue, revoke, crl,
 * ocsp): DIR holds ca.key (PKCS#8 PEM, 0600), ca.crt, serials.txt (one
 * line per issued certificate: serial, not-after, file, identities),
 * revoked.txt (serial, revocation time, reason), crlnumber and ca.crl.
 * Commands that change the state take an exclusive lock on DIR; readers
 * that stay running (the OCSP responder) take a shared one per read. */
#ifndef CERTA_TOOLS_CA_STORE_H
#define CERTA_TOOLS_CA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "crypto/crypto.h"
#include "x509/cert.h"
#include "x509/issue.h"

#define CA_PATH_CAP 4096
#define CA_MAX_TTL (100LL * 366 * 86400) /* a century */
#define CA_MAX_SERIAL 20                 /* RFC 5280 §4.1.2.2 */
#define CA_MAX_RECORDS 100000            /* lines of serials.txt / revoked.txt */

typedef struct ca_state {
    const char *dir;
    int lock_fd;
    char *cert_pem;
    size_t cert_pem_len;
    uint8_t *cert_der;
    size_t cert_der_len;
    x509_cert cert;
    crypto_key *key;
    uint8_t key_id[X509_MAX_KEY_ID];
    size_t key_id_len;
    char subject[512];
} ca_state;

/* Opens DIR (ca.crt, ca.key, checked to belong together) and holds an
 * exclusive lock on it until ca_close; false with the reason printed. */
bool ca_open(ca_state *ca, const char *dir);
/* Gives the lock back but keeps the CA loaded (a long-running reader). */
void ca_unlock(ca_state *ca);
/* The exclusive lock alone, on ca->dir (init, before the CA exists). */
bool ca_lock(ca_state *ca);
void ca_close(ca_state *ca);

/* One line of revoked.txt. */
typedef struct ca_revocation {
    uint8_t serial[CA_MAX_SERIAL];
    size_t serial_len;
    int64_t revoked_at;
    int reason; /* CRLReason code */
} ca_revocation;

/* One line of serials.txt. */
typedef struct ca_issued {
    uint8_t serial[CA_MAX_SERIAL];
    size_t serial_len;
    int64_t not_after;
} ca_issued;

/* The CA's revoked.txt and serials.txt as lists (a missing file is an
 * empty list), read under a shared lock unless ca holds its exclusive one:
 * true with *out malloc'd (NULL when empty), false with the reason printed
 * (a malformed line names its number). */
bool ca_read_revoked(const ca_state *ca, ca_revocation **out, size_t *count);
bool ca_read_issued(const ca_state *ca, ca_issued **out, size_t *count);

/* CRLReason codes and their RFC 5280 names. */
const char *ca_reason_name(int code);
bool ca_reason_code(const char *name, int *code); /* case-insensitive */

/* "90s", "15m", "24h", "7d", "1h30m" -> seconds (1 .. CA_MAX_TTL). */
bool parse_ttl(const char *s, int64_t *out);
/* "365 days", "23h 59m", "4m 30s", "12s"; negative values read "... ago". */
void fmt_duration(int64_t secs, char *out, size_t cap);

/* Serial text -> canonical uppercase hex: whole bytes without leading zero
 * bytes, as OpenSSL prints serials ("0E4F..."); colons, spaces and a 0x
 * prefix allowed. false if not hex, zero or over 20 bytes. */
bool normalize_serial(const char *in, char *out, size_t cap);
/* Hex (canonical, from normalize_serial) -> big-endian bytes; 0 if too long. */
size_t serial_bytes(const char *hex, uint8_t *out, size_t cap);
/* Finds the serial (canonical hex) in a state file; copies the line. */
bool find_serial(const char *path, const char *hex, char *line_out, size_t cap);

/* Bytes as uppercase hex, as serials are printed. */
void hex_upper(const uint8_t *p, size_t n, char *out, size_t cap);

/* The CA certificates: init (a root, or an intermediate signed by a parent
 * CA directory) and renew (the same key, a new certificate); ca_authority.c. */
void ca_usage(FILE *out);
int ca_init(int argc, char **argv);
int ca_renew(int argc, char **argv);

/* Files. */
bool path_join(char *out, size_t cap, const char *dir, const char *name);
bool exists(const char *path);
/* Writes a whole file with the given mode. exclusive: refuse an existing
 * file; otherwise replace it atomically (temporary file + rename). */
bool write_file(const char *path, const void *data, size_t len, mode_t mode, bool exclusive);
/* Appends one line to a state file (created 0600 if missing). */
bool append_line(const char *path, const char *line);

#endif
