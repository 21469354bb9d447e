/* File stamps and watch sets (see file_watch.h). */
#include "common/file_watch.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

file_stamp file_stamp_of(const char *path) {
    file_stamp s;
    memset(&s, 0, sizeof s);
    struct stat st;
    if (path && stat(path, &st) == 0) {
        s.ok = true;
        s.dev = st.st_dev;
        s.ino = st.st_ino;
        s.size = st.st_size;
        s.mtime = st.st_mtim;
        s.ctime = st.st_ctim;
    }
    return s;
}

bool file_stamp_eq(const file_stamp *a, const file_stamp *b) {
    return a->ok == b->ok && a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
           a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

bool watch_add(watch_set *ws, const char *path) {
    if (!path) return true;
    if (ws->count == WATCH_MAX) return false;
    ws->path[ws->count++] = path;
    return true;
}

void watch_snapshot(watch_set *ws) {
    for (size_t i = 0; i < ws->count; i++) {
        ws->seen[i] = file_stamp_of(ws->path[i]);
        ws->changed[i] = false;
    }
}

size_t watch_changed(watch_set *ws, char *which, size_t cap) {
    size_t changed = 0;
    if (cap) which[0] = 0;
    for (size_t i = 0; i < ws->count; i++) {
        file_stamp now = file_stamp_of(ws->path[i]);
        ws->changed[i] = !file_stamp_eq(&now, &ws->seen[i]);
        if (!ws->changed[i]) continue;
        size_t len = strlen(which);
        if (len + 1 < cap) snprintf(which + len, cap - len, "%s%s", len ? ", " : "", ws->path[i]);
        ws->seen[i] = now;
        changed++;
    }
    return changed;
}

bool watch_differs(const watch_set *ws) {
    for (size_t i = 0; i < ws->count; i++) {
        file_stamp now = file_stamp_of(ws->path[i]);
        if (!file_stamp_eq(&now, &ws->seen[i])) return true;
    }
    return false;
}
