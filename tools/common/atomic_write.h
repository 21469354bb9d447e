/* Files replaced in one step: written to a temporary file beside the
 * target (created with the final mode, so a key is never readable by
 * others, not even for a moment), fsynced, renamed over the target, and
 * the directory fsynced. A reader sees the old content or the new, never a
 * part. */
#ifndef CERTA_TOOLS_ATOMIC_WRITE_H
#define CERTA_TOOLS_ATOMIC_WRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* 0, or -1 with why ("cannot write /x/key.pem: Permission denied"); the
 * target is untouched on failure. */
int atomic_write_file(const char *path, const void *data, size_t len, mode_t mode, char *why,
                      size_t cap);
/* Writes all len bytes to fd (retrying short writes and EINTR); false with
 * errno set on failure. */
bool write_all_fd(int fd, const void *data, size_t len);

#endif
