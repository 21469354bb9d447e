/* The key log file (keylog_file.h). */
#include "common/keylog_file.h"

#include "common/cli_common.h"
#include "crypto/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_keylog_opt(int argc, char **argv, int *i, const char *cmd, const char **path) {
    const char *v = NULL;
    int m = cli_opt(argc, argv, i, "--keylog", &v);
    if (m <= 0) return m;
    if (!*v) {
        cli_err("%s: --keylog wants a file name", cmd);
        return -1;
    }
    *path = v;
    return 1;
}

bool cli_keylog_open(const char *cmd, const char *path, cli_keylog *k) {
    k->fd = -1;
    k->path = k->from = NULL;
    const char *from = "--keylog";
    if (!path) {
        path = getenv("SSLKEYLOGFILE");
        from = "SSLKEYLOGFILE";
        if (!path || !*path) return true;
    }
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        cli_err("%s: key log %s (%s): cannot open it: %s", cmd, path, from, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        cli_err("%s: key log %s (%s): %s", cmd, path, from, strerror(errno));
        close(fd);
        return false;
    }
    /* A FIFO or a terminal is the user's own business; a file others can
     * read hands them the traffic. */
    if (S_ISREG(st.st_mode) && (st.st_mode & 077)) {
        cli_err("%s: key log %s (%s) is open to group or others (mode %04o): it holds "
                "secrets that decrypt the traffic; chmod 600 it or choose a new file",
                cmd, path, from, (unsigned)(st.st_mode & 07777));
        close(fd);
        return false;
    }
    if (S_ISDIR(st.st_mode)) { /* not reached: open(O_WRONLY) fails on a directory */
        cli_err("%s: key log %s (%s) is a directory", cmd, path, from);
        close(fd);
        return false;
    }
    k->fd = fd;
    k->path = path;
    k->from = from;
    return true;
}

void cli_keylog_warning(const cli_keylog *k, char *out, size_t cap) {
    snprintf(out, cap, "key log %s (%s): anyone with this file can decrypt the traffic", k->path,
             k->from);
}

static void write_line(void *arg, const char *line) {
    const cli_keylog *k = arg;
    char buf[512];
    size_t n = strlen(line);
    if (n + 1 > sizeof buf) return; /* not reached: lines are at most 225 bytes */
    memcpy(buf, line, n);
    buf[n++] = '\n';
    ssize_t w;
    do
        w = write(k->fd, buf, n); /* one write: whole lines, never interleaved */
    while (w < 0 && errno == EINTR);
    crypto_zero(buf, sizeof buf);
}

void cli_keylog_attach(certa_config *cfg, cli_keylog *k) {
    if (k->fd >= 0) certa_config_set_keylog(cfg, write_line, k);
}

void cli_keylog_close(cli_keylog *k) {
    if (k->fd >= 0) close(k->fd);
    k->fd = -1;
}
