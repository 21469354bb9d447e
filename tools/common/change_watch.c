/* inotify-driven change detection over a watch_set (see change_watch.h). */
#include "common/change_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define CW_MAX_DIRS 256
/* A directory that never goes quiet (a busy log beside the certificates)
 * still gets its files compared this often. */
#define CW_SETTLE_CAP_FACTOR 5

/* What wakes the watcher: anything that can replace or alter a file in the
 * directory, or the directory itself going away (a swapped-out `..2026_…`). */
#define CW_EVENTS                                                                                  \
    (IN_CLOSE_WRITE | IN_MODIFY | IN_ATTRIB | IN_CREATE | IN_DELETE | IN_MOVED_FROM |              \
     IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

typedef struct watched_dir {
    int wd;
    bool needed; /* by the last refresh */
    char path[PATH_MAX];
} watched_dir;

struct change_watch {
    watch_set *ws;
    int fd;
    int debounce_ms, poll_ms;
    bool pending;
    int64_t first_event_ms, last_event_ms;
    int64_t next_poll_ms;
    watched_dir dirs[CW_MAX_DIRS];
    size_t ndirs;
};

static void dir_of(const char *path, char *out, size_t cap) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(out, cap, ".");
    else if (slash == path)
        snprintf(out, cap, "/");
    else
        snprintf(out, cap, "%.*s", (int)(slash - path), path);
}

static void watch_dir(change_watch *cw, const char *dir) {
    for (size_t i = 0; i < cw->ndirs; i++)
        if (!strcmp(cw->dirs[i].path, dir)) {
            cw->dirs[i].needed = true;
            return;
        }
    if (cw->ndirs == CW_MAX_DIRS) return; /* the poll covers the rest */
    int wd = inotify_add_watch(cw->fd, dir, CW_EVENTS | IN_ONLYDIR);
    if (wd < 0) return; /* missing for now: retried after the next change or poll */
    for (size_t i = 0; i < cw->ndirs; i++)
        if (cw->dirs[i].wd == wd) { /* the same directory by another name */
            cw->dirs[i].needed = true;
            return;
        }
    cw->dirs[cw->ndirs].wd = wd;
    cw->dirs[cw->ndirs].needed = true;
    snprintf(cw->dirs[cw->ndirs].path, sizeof cw->dirs[0].path, "%s", dir);
    cw->ndirs++;
}

/* The directories that matter now: each path's own (a rename or a swapped
 * symlink there), the one its symlinks resolve to (a write there), and a
 * watched directory itself (a CRL or trust directory). */
static void refresh_dirs(change_watch *cw) {
    if (cw->fd < 0) return;
    for (size_t i = 0; i < cw->ndirs; i++)
        cw->dirs[i].needed = false;
    char dir[PATH_MAX], real[PATH_MAX];
    for (size_t i = 0; i < cw->ws->count; i++) {
        const char *p = cw->ws->path[i];
        dir_of(p, dir, sizeof dir);
        watch_dir(cw, dir);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) watch_dir(cw, p);
        if (realpath(p, real)) {
            dir_of(real, dir, sizeof dir);
            watch_dir(cw, dir);
        }
    }
    /* A symlink that resolves elsewhere now: its old target is not ours. */
    for (size_t i = 0; i < cw->ndirs;)
        if (!cw->dirs[i].needed) {
            inotify_rm_watch(cw->fd, cw->dirs[i].wd);
            cw->dirs[i] = cw->dirs[--cw->ndirs];
        } else {
            i++;
        }
}

change_watch *change_watch_new(watch_set *ws, int debounce_ms, int poll_ms) {
    change_watch *cw = calloc(1, sizeof *cw);
    if (!cw) return NULL;
    cw->ws = ws;
    cw->debounce_ms = debounce_ms;
    cw->poll_ms = poll_ms;
    /* CERTA_NO_INOTIFY=1: the poll alone, as on a system without inotify (tests). */
    const char *off = getenv("CERTA_NO_INOTIFY");
    bool use = ws->count && !(off && *off && strcmp(off, "0") != 0);
    cw->fd = use ? inotify_init1(IN_NONBLOCK | IN_CLOEXEC) : -1;
    refresh_dirs(cw);
    if (cw->fd >= 0 && cw->ndirs == 0) { /* nothing could be watched: poll only */
        close(cw->fd);
        cw->fd = -1;
    }
    return cw;
}

void change_watch_free(change_watch *cw) {
    if (!cw) return;
    if (cw->fd >= 0) close(cw->fd);
    free(cw);
}

int change_watch_fd(const change_watch *cw) {
    return cw ? cw->fd : -1;
}

bool change_watch_notifies(const change_watch *cw) {
    return cw && cw->fd >= 0;
}

static int64_t settle_at(const change_watch *cw) {
    int64_t quiet = cw->last_event_ms + cw->debounce_ms;
    int64_t cap = cw->first_event_ms + (int64_t)cw->debounce_ms * CW_SETTLE_CAP_FACTOR;
    return quiet < cap ? quiet : cap;
}

int change_watch_timeout_ms(const change_watch *cw, int64_t now_ms) {
    int64_t at = cw->next_poll_ms;
    if (cw->pending && settle_at(cw) < at) at = settle_at(cw);
    int64_t wait = at - now_ms;
    if (wait < 0) wait = 0;
    if (wait > cw->poll_ms) wait = cw->poll_ms;
    return (int)wait;
}

static void note_event(change_watch *cw, int64_t now_ms) {
    if (!cw->pending) cw->first_event_ms = now_ms;
    cw->pending = true;
    cw->last_event_ms = now_ms;
}

/* False when wd is not ours any more (a watch refresh_dirs removed). */
static bool forget_wd(change_watch *cw, int wd) {
    for (size_t i = 0; i < cw->ndirs; i++)
        if (cw->dirs[i].wd == wd) {
            cw->dirs[i] = cw->dirs[--cw->ndirs];
            return true;
        }
    return false;
}

static void drain_events(change_watch *cw, int64_t now_ms) {
    if (cw->fd < 0) return;
    _Alignas(struct inotify_event) char buf[8192];
    for (;;) {
        ssize_t n = read(cw->fd, buf, sizeof buf);
        if (n <= 0) return; /* EAGAIN: drained */
        for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
            struct inotify_event ev;
            memcpy(&ev, buf + off, sizeof ev);
            /* IN_IGNORED: the directory went away (a change), or this
             * watcher dropped the watch itself (none). */
            if (!(ev.mask & IN_IGNORED) || forget_wd(cw, ev.wd)) note_event(cw, now_ms);
            off += (ssize_t)(sizeof(struct inotify_event) + ev.len);
        }
    }
}

size_t change_watch_check(change_watch *cw, int64_t now_ms, char *which, size_t cap) {
    if (cap) which[0] = 0;
    drain_events(cw, now_ms);
    if (now_ms >= cw->next_poll_ms) {
        cw->next_poll_ms = now_ms + cw->poll_ms;
        if (!cw->pending && watch_differs(cw->ws)) note_event(cw, now_ms);
        refresh_dirs(cw); /* a directory that appeared since */
    }
    if (!cw->pending || now_ms < settle_at(cw)) return 0;
    cw->pending = false;
    size_t changed = watch_changed(cw->ws, which, cap);
    if (changed) refresh_dirs(cw); /* symlinks may resolve elsewhere now */
    return changed;
}
