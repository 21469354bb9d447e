/* A blocking TLS client on certa, built against the installed library
 * (pkg-config: cc blocking_client.c $(pkg-config --cflags --libs certa);
 * CMake: find_package(certa) and certa::certa, see CMakeLists.txt).
 *
 *   blocking_client HOST PORT CA.pem [MESSAGE]
 *
 * Connects, verifies the server's certificate chain against CA.pem for
 * HOST, sends MESSAGE (default "hello"), prints what comes back. */
#include <certa.h>

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int tcp_connect(const char *host, const char *port) {
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
    if (getaddrinfo(host, port, &hints, &res) != 0) return -1;
    int fd = -1;
    for (ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s HOST PORT CA.pem [MESSAGE]\n", argv[0]);
        return 2;
    }
    const char *msg = argc > 4 ? argv[4] : "hello";
    certa_config *cfg = certa_config_new();
    if (!cfg || certa_config_load_trust(cfg, argv[3]) != CERTA_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[3], cfg ? certa_config_error_text(cfg) : "");
        return 1;
    }
    int fd = tcp_connect(argv[1], argv[2]);
    if (fd < 0) {
        fprintf(stderr, "cannot connect to %s:%s\n", argv[1], argv[2]);
        return 1;
    }
    certa_conn *conn = certa_client_new(cfg, argv[1]);
    certa_config_free(cfg); /* the connection keeps its own reference */
    int rc = 1;
    if (certa_fd_handshake(conn, fd, 10000) != CERTA_OK) {
        fprintf(stderr, "handshake failed: %s\n", certa_conn_error_text(conn));
    } else if (certa_conn_write(conn, (const uint8_t *)msg, strlen(msg)) != CERTA_OK ||
               certa_fd_flush(conn, fd) != CERTA_OK) {
        fprintf(stderr, "write failed: %s\n", certa_conn_error_text(conn));
    } else {
        uint8_t buf[4096], in[4096];
        for (;;) { /* read records until some application data comes */
            size_t n = certa_conn_read(conn, buf, sizeof buf);
            if (n > 0) {
                printf("%.*s\n", (int)n, (const char *)buf);
                rc = 0;
                break;
            }
            ssize_t got = recv(fd, in, sizeof in, 0);
            if (got <= 0) break;
            size_t used = 0;
            for (size_t off = 0; off < (size_t)got; off += used)
                if (certa_conn_recv(conn, in + off, (size_t)got - off, &used) != CERTA_OK ||
                    used == 0)
                    break;
        }
        certa_conn_close(conn);
        certa_fd_flush(conn, fd);
    }
    printf("library %s\n", certa_version());
    certa_conn_free(conn);
    close(fd);
    return rc;
}
