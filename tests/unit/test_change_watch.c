/* The inotify watcher of serve and proxy (tools/common/change_watch.c,
 * compiled in), in a temporary directory: a file renamed into place, a
 * write in place, the Kubernetes ..data symlink swap, two writes in a row
 * seen as one change once they settle, and the poll alone
 * (CERTA_NO_INOTIFY) noticing a change within its interval. Time is the
 * caller's (now_ms), so the debounce is checked without sleeping on it. */
#include "../../tools/common/change_watch.c"
#include "../../tools/common/file_watch.c"
#include "testlib.h"

#include <poll.h>
#include <stdio.h>
#include <time.h>

static char dir[256];

static void put(const char *name, const char *text) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void path(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Waits (really) up to 1 s for the inotify descriptor to have events. */
static bool readable(const change_watch *cw) {
    struct pollfd p = {.fd = change_watch_fd(cw), .events = POLLIN, .revents = 0};
    return p.fd >= 0 && poll(&p, 1, 1000) == 1;
}

static void test_rename_and_write(void) {
    char crt[512], key[512], tmp[512];
    path(crt, sizeof crt, "tls.crt");
    path(key, sizeof key, "tls.key");
    path(tmp, sizeof tmp, "tls.crt.new");
    put("tls.crt", "one");
    put("tls.key", "one");
    watch_set ws;
    memset(&ws, 0, sizeof ws);
    watch_add(&ws, crt);
    watch_add(&ws, key);
    watch_snapshot(&ws);
    change_watch *cw = change_watch_new(&ws, 200, 1000);
    CHECK(cw && change_watch_notifies(cw), "inotify is in use");
    char which[600];
    int64_t t = 1000000;
    CHECK(change_watch_check(cw, t, which, sizeof which) == 0, "nothing changed yet");

    /* A rename into place: an event at once, the change once settled. */
    put("tls.crt.new", "two");
    rename(tmp, crt);
    CHECK(readable(cw), "the rename wakes the watcher");
    CHECK(change_watch_check(cw, t + 10, which, sizeof which) == 0,
          "within the debounce: not yet reported");
    CHECK(change_watch_timeout_ms(cw, t + 10) <= 200, "asks to be called back by the debounce");
    /* The key in place a moment later: the same change. */
    put("tls.key", "two!");
    CHECK(readable(cw), "the write in place wakes the watcher");
    CHECK(change_watch_check(cw, t + 150, which, sizeof which) == 0,
          "a second event restarts the quiet time");
    CHECK(change_watch_check(cw, t + 360, which, sizeof which) == 2 && ws.changed[0] &&
              ws.changed[1],
          "both files reported as one change once quiet (%s)", which);
    CHECK(change_watch_check(cw, t + 2000, which, sizeof which) == 0, "reported once");
    change_watch_free(cw);
}

static void test_data_symlink_swap(void) {
    char p1[512], p2[512], data[512], tmp[512], link[512];
    path(p1, sizeof p1, "..2026_a");
    path(p2, sizeof p2, "..2026_b");
    path(data, sizeof data, "..data");
    path(tmp, sizeof tmp, "..data_tmp");
    path(link, sizeof link, "ca.crt");
    mkdir(p1, 0700);
    mkdir(p2, 0700);
    put("..2026_a/ca.crt", "a");
    put("..2026_b/ca.crt", "bb");
    CHECK(symlink("..2026_a", data) == 0 && symlink("..data/ca.crt", link) == 0,
          "the Kubernetes layout");
    watch_set ws;
    memset(&ws, 0, sizeof ws);
    watch_add(&ws, link);
    watch_snapshot(&ws);
    change_watch *cw = change_watch_new(&ws, 200, 1000);
    char which[600];
    int64_t t = 5000000;
    CHECK(symlink("..2026_b", tmp) == 0 && rename(tmp, data) == 0, "..data swapped");
    CHECK(readable(cw), "the swap in the directory wakes the watcher");
    CHECK(change_watch_check(cw, t, which, sizeof which) == 0, "settling");
    CHECK(change_watch_check(cw, t + 250, which, sizeof which) == 1 && ws.changed[0],
          "ca.crt changed through ..data (%s)", which);
    /* The old target directory goes: no change to ca.crt itself. */
    char old[512];
    path(old, sizeof old, "..2026_a/ca.crt");
    unlink(old);
    rmdir(p1);
    (void)readable(cw);
    change_watch_check(cw, t + 300, which, sizeof which);
    CHECK(change_watch_check(cw, t + 2000, which, sizeof which) == 0,
          "removing the old directory changes nothing watched");
    change_watch_free(cw);
}

static void test_poll_only(void) {
    char f[512];
    path(f, sizeof f, "polled.pem");
    put("polled.pem", "x");
    setenv("CERTA_NO_INOTIFY", "1", 1);
    watch_set ws;
    memset(&ws, 0, sizeof ws);
    watch_add(&ws, f);
    watch_snapshot(&ws);
    change_watch *cw = change_watch_new(&ws, 200, 1000);
    unsetenv("CERTA_NO_INOTIFY");
    CHECK(cw && !change_watch_notifies(cw) && change_watch_fd(cw) < 0, "poll only");
    char which[600];
    int64_t t = 9000000;
    change_watch_check(cw, t, which, sizeof which); /* the first poll */
    put("polled.pem", "changed");
    CHECK(change_watch_check(cw, t + 500, which, sizeof which) == 0, "not polled again yet");
    CHECK(change_watch_check(cw, t + 1000, which, sizeof which) == 0,
          "the poll sees it, then waits for it to settle");
    CHECK(change_watch_check(cw, t + 1200, which, sizeof which) == 1, "reported after settling");
    change_watch_free(cw);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/certa-change-watch.XXXXXX");
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    test_rename_and_write();
    test_data_symlink_swap();
    test_poll_only();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    TEST_EXIT();
}
