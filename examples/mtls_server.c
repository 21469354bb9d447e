/* A mutual-TLS server on certa with an allow rule: only clients whose
 * certificate chains to CLIENT_CA.pem *and* whose identity matches RULE
 * (e.g. spiffe://example.org/frontend, spiffe://example.org/ns/{*} with a
 * star, dns:NAME or sha256:PIN) get in; the others are refused in the
 * handshake (access_denied) with a sentence naming who they were.
 *
 *   mtls_server PORT CERT.pem KEY.pem CLIENT_CA.pem RULE [CONNECTIONS]
 *
 * Greets each admitted client by its verified identity, one at a time;
 * exits after CONNECTIONS (default: never). Blocking sockets, with the
 * library's fd helpers. */
#include <certa.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listen_on(const char *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)atoi(port)),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 16) != 0)
        return -1;
    return fd;
}

static void serve_one(certa_config *cfg, int fd) {
    certa_conn *conn = certa_server_new(cfg);
    if (!conn) return;
    if (certa_fd_handshake(conn, fd, 10000) != CERTA_OK) {
        /* the refusal is already queued as an alert; say why here too */
        printf("refused: %s\n", certa_conn_error_text(conn));
        certa_fd_flush(conn, fd);
    } else {
        certa_peer_identity id;
        memset(&id, 0, sizeof id);
        certa_conn_peer_identity(conn, &id);
        const char *who = id.spiffe_id[0] ? id.spiffe_id : id.subject;
        printf("admitted: %s\n", who);
        char greeting[400];
        int n = snprintf(greeting, sizeof greeting, "hello %s\n", who);
        if (certa_conn_write(conn, (const uint8_t *)greeting, (size_t)n) == CERTA_OK)
            certa_conn_close(conn);
        certa_fd_flush(conn, fd);
    }
    fflush(stdout);
    certa_conn_free(conn);
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s PORT CERT.pem KEY.pem CLIENT_CA.pem RULE [CONNECTIONS]\n",
                argv[0]);
        return 2;
    }
    long remaining = argc > 6 ? atol(argv[6]) : -1;
    certa_config *cfg = certa_config_new();
    if (!cfg || certa_config_load_cert_chain(cfg, argv[2]) != CERTA_OK ||
        certa_config_load_private_key(cfg, argv[3]) != CERTA_OK ||
        certa_config_load_trust(cfg, argv[4]) != CERTA_OK ||
        certa_config_add_allow(cfg, argv[5]) != CERTA_OK) {
        fprintf(stderr, "config: %s\n", cfg ? certa_config_error_text(cfg) : "no memory");
        return 1;
    }
    /* a client without a certificate is refused with certificate_required */
    certa_config_set_client_auth(cfg, CERTA_CLIENT_AUTH_REQUIRE);
    int lfd = listen_on(argv[1]);
    if (lfd < 0) {
        perror("listen");
        return 1;
    }
    printf("listening on 127.0.0.1:%s, admitting %s (library %s)\n", argv[1], argv[5],
           certa_version());
    fflush(stdout);
    for (; remaining != 0; remaining -= remaining > 0) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) continue;
        serve_one(cfg, fd);
        close(fd);
    }
    close(lfd);
    certa_config_free(cfg);
    return 0;
}
