/* Noticing that files changed (certificates, keys, trust, CRLs, OCSP
 * responses, a CA's records): a stamp per path (device, inode, size,
 * mtime), polled by the commands that reload (proxy, serve, ca ocsp). A
 * replacement by rename shows as a new inode, an edit in place as a new
 * size or mtime, a change of mode as a new ctime; a directory shows files
 * added or removed. */
#ifndef CERTA_TOOLS_FILE_WATCH_H
#define CERTA_TOOLS_FILE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

typedef struct file_stamp {
    bool ok; /* the path existed */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    struct timespec ctime; /* also a chmod (a key file made readable by others) */
} file_stamp;

file_stamp file_stamp_of(const char *path);
bool file_stamp_eq(const file_stamp *a, const file_stamp *b);

/* Enough for every --cert, --key, --ocsp and --sct (CLI_MAX_PAIRS each), --crl, the trust
 * and the ticket keys. */
#define WATCH_MAX 1280

typedef struct watch_set {
    const char *path[WATCH_MAX];
    file_stamp seen[WATCH_MAX];
    bool changed[WATCH_MAX]; /* in the last watch_changed */
    size_t count;
} watch_set;

/* Adds a path (NULL is ignored); false when the set is full. */
bool watch_add(watch_set *ws, const char *path);
/* Records the current stamps. */
void watch_snapshot(watch_set *ws);
/* How many watched files changed since the last snapshot (which is
 * updated), their names in which (comma-separated), each marked in
 * ws->changed. */
size_t watch_changed(watch_set *ws, char *which, size_t cap);
/* Whether any watched file differs from the last snapshot, which is left as
 * it was (a change noticed now, taken once it has settled). */
bool watch_differs(const watch_set *ws);

#endif
