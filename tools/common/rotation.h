/* What serve and proxy share when their certificate files rotate: a reload
 * that failed (a writer that replaces the certificate and then the key, so
 * that for a moment they do not match; a file caught half-written) is
 * retried at a bounded interval until it loads, the previous config serving
 * meanwhile; each reason is logged once, not once per retry; and what was
 * loaded is described (subject, serial, not after) for the log. */
#ifndef CERTA_TOOLS_ROTATION_H
#define CERTA_TOOLS_ROTATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROTATION_RETRY_MS 1000 /* a failed reload is tried again this often */

typedef struct reload_retry {
    int64_t waiting_since_ms; /* 0: the last reload succeeded */
    int64_t next_retry_ms;
    unsigned failures; /* in a row */
    char last_why[800];
} reload_retry;

/* A reload failed for why: schedules the next attempt. True when why is
 * news (the first failure, or another reason than the last) and should be
 * logged. */
bool reload_retry_failed(reload_retry *rr, int64_t now_ms, const char *why);
/* A reload succeeded: how long it waited for loadable files (0 when it did
 * not), and the retry is off. */
int64_t reload_retry_succeeded(reload_retry *rr, int64_t now_ms);
bool reload_retry_due(const reload_retry *rr, int64_t now_ms);
/* ms until the retry is due (>= 0), or cap when none is pending. */
int reload_retry_timeout_ms(const reload_retry *rr, int64_t now_ms, int cap);

/* "CN=web, serial 1A2B..., not after 2026-12-05 10:00:00 UTC" for the first
 * certificate in a PEM file, or "unreadable" with the reason. */
void rotation_describe_cert(const char *path, char *out, size_t cap);

#endif
