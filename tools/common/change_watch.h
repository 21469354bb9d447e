/* Noticing at once that watched files changed: inotify on the directories
 * that hold them (so a file renamed into place, or the Kubernetes layout
 * where `tls.crt -> ..data/tls.crt` and the `..data` symlink is swapped, is
 * seen, not only writes to the file itself), and on the directories their
 * symlinks resolve to. An event only wakes the watcher: what changed is
 * still decided by the stamps (file_watch.h), taken after a short quiet
 * time (the debounce) so that a writer replacing a certificate and then its
 * key is seen as one change. The stamp poll stays as the fallback: without
 * inotify (no support, out of watches) and for filesystems where it does not
 * fire (network mounts), every poll_ms. CERTA_NO_INOTIFY=1 in the
 * environment leaves inotify off (the poll alone). Linux only, like the tools. */
#ifndef CERTA_TOOLS_CHANGE_WATCH_H
#define CERTA_TOOLS_CHANGE_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/file_watch.h"

#define CHANGE_WATCH_DEBOUNCE_MS 200 /* a two-step writer's steps land within this */
#define CHANGE_WATCH_POLL_MS 1000    /* the stamp poll (and what inotify misses) */

typedef struct change_watch change_watch;

/* Watches ws's paths, changes counted from its last watch_snapshot. ws must
 * outlive the watcher. NULL only when out of memory. */
change_watch *change_watch_new(watch_set *ws, int debounce_ms, int poll_ms);
void change_watch_free(change_watch *cw);

/* The inotify descriptor to poll for POLLIN, or -1 (poll fallback only). */
int change_watch_fd(const change_watch *cw);
/* True when inotify is in use (for the start-up line). */
bool change_watch_notifies(const change_watch *cw);
/* How long the caller may sleep before calling change_watch_check again
 * (ms, >= 0, at most poll_ms). */
int change_watch_timeout_ms(const change_watch *cw, int64_t now_ms);
/* Reads pending events; once the debounce has passed without new ones (or
 * the poll found a stamp change that has since settled), compares the
 * stamps: returns how many files changed, their names in which (as
 * watch_changed), each marked in ws->changed. 0 meanwhile. */
size_t change_watch_check(change_watch *cw, int64_t now_ms, char *which, size_t cap);

#endif
