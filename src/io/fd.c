/* Blocking socket helpers: drive a sans-I/O connection over a file
 * descriptor with poll(). They never read past the record that completes
 * the handshake, so whatever the peer sends next (application data, a
 * NewSessionTicket) stays in the socket for the caller's own loop. */
#include "certa.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RECORD_HEADER 5

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1 = no deadline: wait forever). */
static int remaining_ms(int64_t deadline) {
    if (deadline < 0) return -1;
    int64_t left = deadline - now_ms();
    if (left <= 0) return 0;
    return left > INT_MAX ? INT_MAX : (int)left;
}

static bool is_nonblocking(int fd) {
    int fl = fcntl(fd, F_GETFL);
    return fl >= 0 && (fl & O_NONBLOCK);
}

/* Waits for events on fd until deadline. 1 = ready, 0 = timed out,
 * -1 = poll failed. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int ms = remaining_ms(deadline);
        int r = poll(&p, 1, ms);
        if (r > 0) return 1;
        if (r == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/* send() without SIGPIPE on sockets, write() on anything else. */
static ssize_t put(int fd, const uint8_t *p, size_t n, bool *not_socket) {
    if (!*not_socket) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w >= 0 || errno != ENOTSOCK) return w;
        *not_socket = true;
    }
    return write(fd, p, n);
}

static int flush_until(certa_conn *conn, int fd, int64_t deadline) {
    bool not_socket = false;
    for (;;) {
        const uint8_t *p = NULL;
        size_t n = certa_conn_outgoing(conn, &p);
        if (n == 0) return CERTA_OK;
        ssize_t w = put(fd, p, n, &not_socket);
        if (w > 0) {
            certa_conn_outgoing_done(conn, (size_t)w);
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            /* On a blocking socket EAGAIN means SO_SNDTIMEO ran out. */
            if (!is_nonblocking(fd)) return CERTA_E_TIMEOUT;
            int r = wait_fd(fd, POLLOUT, deadline);
            if (r == 0) return CERTA_E_TIMEOUT;
            if (r < 0) return CERTA_E_IO;
            continue;
        }
        return CERTA_E_IO;
    }
}

int certa_fd_flush(certa_conn *conn, int fd) {
    if (!conn || fd < 0) return CERTA_E_INVALID_ARGUMENT;
    return flush_until(conn, fd, -1);
}

/* After a failure: try to deliver the queued alert, briefly. */
static int fail_with_alert(certa_conn *conn, int fd, int err) {
    int64_t deadline = now_ms() + 1000;
    (void)flush_until(conn, fd, deadline);
    return err;
}

int certa_fd_handshake(certa_conn *conn, int fd, int timeout_ms) {
    if (!conn || fd < 0 || timeout_ms < 0) return CERTA_E_INVALID_ARGUMENT;
    int64_t deadline = timeout_ms > 0 ? now_ms() + timeout_ms : -1;
    uint8_t buf[4096];
    uint8_t hdr[RECORD_HEADER];
    size_t hdr_got = 0;   /* bytes of the current record header read */
    size_t body_left = 0; /* bytes of the current record body still to read */

    for (;;) {
        if (certa_conn_failed(conn)) return fail_with_alert(conn, fd, certa_conn_error(conn));
        int r = flush_until(conn, fd, deadline);
        if (r) return r;
        if (certa_conn_handshake_done(conn)) return CERTA_OK;

        /* Read exactly up to the end of the current record. */
        size_t want = hdr_got < RECORD_HEADER ? RECORD_HEADER - hdr_got : body_left;
        if (want > sizeof buf) want = sizeof buf;
        uint8_t *dst = hdr_got < RECORD_HEADER ? hdr + hdr_got : buf;

        int ready = wait_fd(fd, POLLIN, deadline);
        if (ready == 0) return CERTA_E_TIMEOUT;
        if (ready < 0) return CERTA_E_IO;
        ssize_t got = read(fd, dst, want);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            return CERTA_E_IO;
        }
        if (got == 0) {
            r = certa_conn_recv_eof(conn);
            if (r) return fail_with_alert(conn, fd, r);
            /* EOF after close_notify: the peer ended the handshake politely. */
            return certa_conn_handshake_done(conn) ? CERTA_OK : CERTA_E_PEER_CLOSED;
        }

        size_t used = 0;
        if (hdr_got < RECORD_HEADER) {
            hdr_got += (size_t)got;
            if (hdr_got < RECORD_HEADER) continue;
            /* The engine checks the header (type, length) as soon as it has it. */
            r = certa_conn_recv(conn, hdr, RECORD_HEADER, &used);
            if (r) return fail_with_alert(conn, fd, r);
            body_left = (size_t)hdr[3] << 8 | hdr[4];
        } else {
            r = certa_conn_recv(conn, buf, (size_t)got, &used);
            if (r) return fail_with_alert(conn, fd, r);
            body_left -= (size_t)got;
        }
        if (body_left == 0) hdr_got = 0; /* next record */
        if (certa_conn_peer_closed(conn) && !certa_conn_handshake_done(conn)) {
            /* close_notify during the handshake: nothing more will come. */
            (void)flush_until(conn, fd, deadline);
            return CERTA_E_PEER_CLOSED;
        }
    }
}
