/* A certificate's state directory (see state_dir.h). */
#include "renew/state_dir.h"

#include "common/atomic_write.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wire/cursor.h"
#include "x509/pem.h"

static void fsync_dir(const char *path) {
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int state_dir_open(state_dir *s, const char *path, char *why, size_t cap) {
    memset(s, 0, sizeof *s);
    if (snprintf(s->path, sizeof s->path, "%s", path) >= (int)sizeof s->path) {
        snprintf(why, cap, "the state directory's path is too long");
        return -1;
    }
    char rel[STATE_PATH_MAX + 16];
    snprintf(rel, sizeof rel, "%s/releases", path);
    if ((mkdir(path, 0700) != 0 && errno != EEXIST) || (mkdir(rel, 0755) != 0 && errno != EEXIST)) {
        snprintf(why, cap, "cannot create the state directory %.900s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

void state_dir_close(state_dir *s) {
    free(s->config_text);
    s->config_text = NULL;
}

int state_config_parse(char *text, size_t len, char **args, int max, char *why, size_t cap) {
    cursor c;
    cur_init(&c, (const uint8_t *)text, len);
    int n = 0, line_no = 0;
    while (!cur_empty(&c)) {
        line_no++;
        const uint8_t *start = c.data, *b;
        size_t l = 0;
        uint8_t ch;
        while (cur_peek_u8(&c, &ch) && ch != '\n')
            cur_skip(&c, 1), l++;
        cur_skip(&c, 1); /* the newline, if any */
        cursor line;
        while (l > 0 && (start[l - 1] == '\r' || start[l - 1] == ' ' || start[l - 1] == '\t'))
            l--;
        cur_init(&line, start, l);
        while (cur_peek_u8(&line, &ch) && (ch == ' ' || ch == '\t'))
            cur_skip(&line, 1);
        if (cur_empty(&line) || (cur_peek_u8(&line, &ch) && ch == '#')) continue;
        size_t left = cur_left(&line);
        if (!cur_bytes(&line, left, &b) || left < 3 || b[0] != '-' || b[1] != '-') {
            snprintf(why, cap, "line %d is not an option (--flag [value])", line_no);
            return -1;
        }
        char *p = (char *)b; /* text is ours to split */
        size_t k = 0;
        while (k < left && p[k] != ' ' && p[k] != '\t')
            k++;
        for (size_t z = 0; z < left; z++)
            if (p[z] == 0) {
                snprintf(why, cap, "line %d has a NUL byte", line_no);
                return -1;
            }
        if (n + (k < left ? 2 : 1) > max) {
            snprintf(why, cap, "more than %d options", max);
            return -1;
        }
        args[n++] = p;
        if (k < left) {
            p[k] = 0;
            size_t v = k + 1;
            while (v < left && (p[v] == ' ' || p[v] == '\t'))
                v++;
            p[left] = 0; /* where the (trimmed) line ended: \n, \r, blank or the text's NUL */
            args[n++] = p + v;
        } else {
            p[left] = 0;
        }
    }
    return n;
}

int state_config_read(state_dir *s, char *why, size_t cap) {
    char path[STATE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/config", s->path);
    char *text = NULL;
    size_t len = 0;
    if (read_file(path, &text, &len) != 0) {
        if (errno == ENOENT) return 0;
        snprintf(why, cap, "cannot read %.900s: %s", path, strerror(errno));
        return -1;
    }
    if (len > STATE_CONFIG_MAX) {
        free(text);
        snprintf(why, cap, "%.900s is larger than %d bytes", path, STATE_CONFIG_MAX);
        return -1;
    }
    char *t = realloc(text, len + 1); /* room for the NUL after the last line */
    if (!t) {
        free(text);
        snprintf(why, cap, "out of memory");
        return -1;
    }
    t[len] = 0;
    free(s->config_text);
    s->config_text = t;
    char sub[200];
    int n = state_config_parse(t, len, s->args + 1, STATE_CONFIG_ARGS, sub, sizeof sub);
    if (n < 0) {
        snprintf(why, cap, "%.900s: %s", path, sub);
        return -1;
    }
    s->args[0] = "config";
    s->argc = n + 1;
    s->args[s->argc] = NULL;
    return 1;
}

int state_config_write(const state_dir *s, char *const *args, int n, char *why, size_t cap) {
    char path[STATE_PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/config", s->path);
    size_t total = 64;
    for (int i = 0; i < n; i++)
        total += strlen(args[i]) + 2;
    char *text = malloc(total), *p = text;
    if (!text) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    p += sprintf(p, "# certa renew: this certificate's options\n");
    for (int i = 0; i < n; i++) {
        if (strchr(args[i], '\n') || strchr(args[i], '\r')) {
            snprintf(why, cap, "the value '%.200s' has a line break", args[i]);
            free(text);
            return -1;
        }
        bool flag = !strncmp(args[i], "--", 2);
        if (flag && i > 0) *p++ = '\n';
        if (!flag) *p++ = ' ';
        p += sprintf(p, "%s", args[i]);
    }
    *p++ = '\n';
    int rc = atomic_write_file(path, text, (size_t)(p - text), 0600, why, cap);
    free(text);
    return rc;
}

int state_current_cert(const state_dir *s, char **pem, size_t *len, char *why, size_t cap) {
    char path[STATE_PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/current/cert.pem", s->path);
    if (read_file(path, pem, len) == 0) return 1;
    if (errno == ENOENT) return 0;
    snprintf(why, cap, "cannot read %.900s: %s", path, strerror(errno));
    return -1;
}

/* The N of a symlink "releases/N" (0 if it is not one). */
static long link_release(const state_dir *s, const char *name) {
    char path[STATE_PATH_MAX + 16], target[256];
    snprintf(path, sizeof path, "%s/%s", s->path, name);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = 0;
    if (strncmp(target, "releases/", 9) != 0) return 0;
    char *end;
    long r = strtol(target + 9, &end, 10);
    return *end || r <= 0 ? 0 : r;
}

long state_current_release(const state_dir *s) {
    return link_release(s, "current");
}

/* Points STATE/name at releases/N with one rename. */
static int swap_link(const state_dir *s, const char *name, long n, char *why, size_t cap) {
    char link[STATE_PATH_MAX + 64], tmp[STATE_PATH_MAX + 64], target[64];
    snprintf(link, sizeof link, "%s/%s", s->path, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", s->path, name, (long)getpid());
    snprintf(target, sizeof target, "releases/%ld", n);
    unlink(tmp);
    if (symlink(target, tmp) != 0 || rename(tmp, link) != 0) {
        snprintf(why, cap, "cannot point %.900s at %s: %s", link, target, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void remove_release(const state_dir *s, long n) {
    char dir[STATE_PATH_MAX + 64], f[STATE_PATH_MAX + 80];
    snprintf(dir, sizeof dir, "%s/releases/%ld", s->path, n);
    snprintf(f, sizeof f, "%s/cert.pem", dir);
    unlink(f);
    snprintf(f, sizeof f, "%s/key.pem", dir);
    unlink(f);
    rmdir(dir);
}

int state_install(state_dir *s, const char *chain, size_t chain_len, const char *key_pem,
                  size_t key_len, long *release, char *why, size_t cap) {
    char rel[STATE_PATH_MAX + 16];
    snprintf(rel, sizeof rel, "%s/releases", s->path);
    long top = 0;
    DIR *d = opendir(rel);
    if (!d) {
        snprintf(why, cap, "cannot read %.900s: %s", rel, strerror(errno));
        return -1;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        long n = strtol(e->d_name, &end, 10);
        if (!*end && n > top) top = n;
    }
    closedir(d);
    long cur = state_current_release(s), n = top + 1;
    char dir[STATE_PATH_MAX + 64], key_path[STATE_PATH_MAX + 80], cert_path[STATE_PATH_MAX + 80];
    snprintf(dir, sizeof dir, "%s/%ld", rel, n);
    snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
    snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
    if (mkdir(dir, 0755) != 0) {
        snprintf(why, cap, "cannot create %.900s: %s", dir, strerror(errno));
        return -1;
    }
    if (atomic_write_file(key_path, key_pem, key_len, 0600, why, cap) != 0 ||
        atomic_write_file(cert_path, chain, chain_len, 0644, why, cap) != 0) {
        remove_release(s, n);
        return -1;
    }
    fsync_dir(dir);
    fsync_dir(rel);
    /* previous first: should the swap below fail, current is still whole. */
    if (cur > 0 && swap_link(s, "previous", cur, why, cap) != 0) {
        remove_release(s, n);
        return -1;
    }
    if (swap_link(s, "current", n, why, cap) != 0) {
        remove_release(s, n);
        return -1;
    }
    fsync_dir(s->path);
    /* Releases other than current and previous are no one's any more. */
    if ((d = opendir(rel))) {
        long old[64];
        size_t k = 0;
        while ((e = readdir(d)) && k < 64) {
            char *end;
            long r = strtol(e->d_name, &end, 10);
            if (!*end && r > 0 && r != n && r != cur) old[k++] = r;
        }
        closedir(d);
        for (size_t i = 0; i < k; i++)
            remove_release(s, old[i]);
    }
    *release = n;
    return 0;
}
