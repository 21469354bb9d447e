/* Directory listing for trust and CRL directories (see dir_list.h). */
#include "io/dir_list.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool has_ext(const char *name, const char *const *exts) {
    size_t n = strlen(name);
    for (size_t i = 0; exts[i]; i++) {
        size_t e = strlen(exts[i]);
        if (n > e && strcmp(name + n - e, exts[i]) == 0) return true;
    }
    return false;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void dir_list_free(dir_list *l) {
    for (size_t i = 0; l->paths && i < l->count; i++)
        free(l->paths[i]);
    free(l->paths);
    l->paths = NULL;
    l->count = 0;
}

int dir_list_read(dir_list *out, const char *dir, const char *const *exts, size_t max) {
    out->paths = NULL;
    out->count = 0;
    DIR *d = opendir(dir);
    if (!d) return -1;
    size_t cap = 0, dl = strlen(dir);
    bool slash = dl > 0 && dir[dl - 1] == '/';
    int rc = 0;
    struct dirent *e;
    while (out->count < max && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_ext(e->d_name, exts)) continue;
        size_t plen = dl + 1 + strlen(e->d_name) + 1;
        char *path = malloc(plen);
        if (!path) {
            rc = -2;
            break;
        }
        snprintf(path, plen, "%s%s%s", dir, slash ? "" : "/", e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) { /* a dangling link, a directory */
            free(path);
            continue;
        }
        if (out->count == cap) {
            size_t ncap = cap ? cap * 2 : 32;
            char **np = realloc(out->paths, ncap * sizeof *np);
            if (!np) {
                free(path);
                rc = -2;
                break;
            }
            out->paths = np;
            cap = ncap;
        }
        out->paths[out->count++] = path;
    }
    closedir(d);
    if (rc != 0) {
        dir_list_free(out);
        return rc;
    }
    if (out->count) qsort(out->paths, out->count, sizeof *out->paths, cmp_str);
    return 0;
}
