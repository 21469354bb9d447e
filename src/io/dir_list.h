/* The files of a directory that trust and CRL loading read (trust.c,
 * revocation.c): regular files (or links to them) whose names end in one
 * of the given extensions, not hidden, in name order (a stable load
 * order), full paths, at most max of them. */
#ifndef CERTA_IO_DIR_LIST_H
#define CERTA_IO_DIR_LIST_H

#include <stddef.h>

typedef struct dir_list {
    char **paths; /* "dir/name", malloc'd each */
    size_t count;
} dir_list;

/* exts: NULL-terminated, e.g. {".pem", ".crt", NULL}. 0, or -1 the
 * directory cannot be opened (errno kept), -2 out of memory. An empty
 * list is 0 with count 0. */
int dir_list_read(dir_list *out, const char *dir, const char *const *exts, size_t max);
void dir_list_free(dir_list *l);

#endif
