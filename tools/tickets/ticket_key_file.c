/* The fleet's ticket-key file and `certa ticket-keys` (see ticket_key_file.h).
 *
 *   certa ticket-keys new FILE [--force]
 *   certa ticket-keys rotate FILE [--in DURATION] [--keep N]
 *   certa ticket-keys show FILE */
#include "tickets/ticket_key_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "x509/pem.h"

int tkf_read(const char *path, tkf_keys *out, char *why, size_t cap) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, cap,
                 "cannot open the ticket-key file %s: %s (make one with certa ticket-keys new %s)",
                 path, strerror(errno), path);
        return -1;
    }
    struct stat st;
    bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    close(fd);
    if (!regular) {
        snprintf(why, cap, "the ticket-key file %s is not a regular file", path);
        return -1;
    }
    if (st.st_mode & 077) {
        snprintf(why, cap,
                 "the ticket-key file %s is readable by group or others (mode %04o): anyone "
                 "who reads it can decrypt every resumed session; chmod 600 %s",
                 path, (unsigned)(st.st_mode & 07777), path);
        return -1;
    }
    char *text = NULL;
    size_t len = 0;
    if (st.st_size > 64 * 1024 || read_file(path, &text, &len) != 0) {
        snprintf(why, cap, "cannot read the ticket-key file %s", path);
        return -1;
    }
    int rc = tkf_parse(text, len, path, out, why, cap);
    crypto_zero(text, len);
    free(text);
    return rc;
}

int tkf_write(const char *path, const tkf_keys *k, char *why, size_t cap) {
    char tmp[4200];
    if (snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        snprintf(why, cap, "path too long: %s", path);
        return -1;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(why, cap, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t len = 0;
    char *text = tkf_format(k, &len);
    bool ok = text && fchmod(fd, 0600) == 0;
    for (size_t off = 0; ok && off < len;) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        ok = w > 0;
        if (ok) off += (size_t)w;
    }
    if (text) {
        crypto_zero(text, len);
        free(text);
    }
    ok = ok && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0) ok = false;
    if (!ok) {
        snprintf(why, cap, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

int tkf_load(const char *path, certa_ticket_keys *ring, char *why, size_t cap) {
    tkf_keys k;
    if (tkf_read(path, &k, why, cap) != 0) return -1;
    int r = certa_ticket_keys_set(ring, (const uint8_t(*)[32])k.key, k.epoch, k.count);
    tkf_zero(&k);
    if (r != CERTA_OK) {
        snprintf(why, cap, "%s: the keys were refused (%s)", path, certa_error_name(r));
        return -1;
    }
    return 0;
}

certa_ticket_keys *tkf_ring(const char *path, char *why, size_t cap) {
    certa_ticket_keys *ring = certa_ticket_keys_new(0);
    if (!ring) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    if (tkf_load(path, ring, why, cap) != 0) {
        certa_ticket_keys_free(ring);
        return NULL;
    }
    return ring;
}

/* ---- certa ticket-keys ---- */

static void usage(FILE *out) {
    fputs("usage: certa ticket-keys <command> FILE [options]\n"
          "\n"
          "Session-ticket keys for a fleet: every certa serve / proxy given\n"
          "--ticket-keys FILE seals new tickets with the newest key whose epoch has come\n"
          "and opens tickets under any key in the file, so members behind one name\n"
          "resume each other's sessions. They reread the file when it changes.\n"
          "\n"
          "  new FILE [--force]          a file with one fresh random key (mode 0600)\n"
          "  rotate FILE [--in SECONDS] [--keep N]\n"
          "                              add a fresh key sealing from now (or SECONDS from\n"
          "                              now, so every member has it before it is used);\n"
          "                              keep the newest N keys (default 4: older tickets\n"
          "                              then fail over to a full handshake)\n"
          "  show FILE                   the keys' epochs and ids (never the keys)\n"
          "Run rotate from cron (e.g. every 6 h) and copy the file to every member.\n",
          out);
}

int cmd_ticket_keys(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    const char *sub = argv[1], *path = NULL;
    bool force = false;
    long in = 0, keep = 4;
    for (int i = 2; i < argc; i++) {
        const char *v;
        int m;
        if (!strcmp(argv[i], "--force")) {
            force = true;
        } else if ((m = cli_opt(argc, argv, &i, "--in", &v)) != 0) {
            if (m < 0 || !cli_parse_long(v, 0, 7 * 86400, &in)) {
                cli_err("ticket-keys: --in wants seconds from 0 to 604800");
                return CLI_EXIT_USAGE;
            }
        } else if ((m = cli_opt(argc, argv, &i, "--keep", &v)) != 0) {
            if (m < 0 || !cli_parse_long(v, 1, TKF_MAX, &keep)) {
                cli_err("ticket-keys: --keep wants a number from 1 to %d", TKF_MAX);
                return CLI_EXIT_USAGE;
            }
        } else if (argv[i][0] == '-') {
            cli_err("ticket-keys: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!path) {
            path = argv[i];
        } else {
            cli_err("ticket-keys: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    if (!path || (strcmp(sub, "new") && strcmp(sub, "rotate") && strcmp(sub, "show"))) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    char why[600];
    tkf_keys k;
    memset(&k, 0, sizeof k);
    int64_t now = (int64_t)time(NULL);
    int rc = CLI_EXIT_FAIL;
    if (!strcmp(sub, "new")) {
        struct stat st;
        if (!force && lstat(path, &st) == 0) {
            cli_err("ticket-keys: %s exists: rotate it (certa ticket-keys rotate %s), or "
                    "--force to replace every key (all tickets then fail over to a full "
                    "handshake)",
                    path, path);
            return CLI_EXIT_FAIL;
        }
        if (tkf_add_random(&k, now) == 0 && tkf_write(path, &k, why, sizeof why) == 0) {
            printf("wrote %s: 1 key, sealing from now (mode 0600)\n", path);
            rc = CLI_EXIT_OK;
        } else {
            cli_err("ticket-keys: %s", why);
        }
    } else if (tkf_read(path, &k, why, sizeof why) != 0) {
        cli_err("ticket-keys: %s", why);
    } else if (!strcmp(sub, "show")) {
        for (size_t i = 0; i < k.count; i++) {
            uint8_t h[32];
            hash_oneshot(HASH_SHA256, k.key[i], 32, h);
            char when[64];
            cli_format_time(k.epoch[i], when, sizeof when);
            printf("key %zu: seals from %s%s (fingerprint %02x%02x%02x%02x)\n", i + 1, when,
                   k.epoch[i] > now ? ", not yet" : "", h[0], h[1], h[2], h[3]);
        }
        rc = CLI_EXIT_OK;
    } else {
        int64_t at = now + in;
        if (tkf_add_random(&k, at) != 0) {
            cli_err("ticket-keys: no randomness");
        } else {
            size_t drop = k.count > (size_t)keep ? k.count - (size_t)keep : 0;
            tkf_keep_newest(&k, (size_t)keep);
            if (tkf_write(path, &k, why, sizeof why) == 0) {
                char when[64];
                cli_format_time(at, when, sizeof when);
                printf("rotated %s: a new key seals from %s; %zu key%s kept%s\n", path, when,
                       k.count, k.count == 1 ? "" : "s",
                       drop ? " (the oldest dropped: their tickets fail over to a full handshake)"
                            : "");
                rc = CLI_EXIT_OK;
            } else {
                cli_err("ticket-keys: %s", why);
            }
        }
    }
    tkf_zero(&k);
    return rc;
}
