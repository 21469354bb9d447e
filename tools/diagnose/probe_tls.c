/* certa diagnose: probes that run certa's own client with a restricted
 * config — versions, suites, groups, ALPN, tickets and early data,
 * insecure to see whatever chain is sent, or verifying against the trust
 * set to get the library's own verdict and sentence. */
#include "diagnose/diagnose.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads what the trace says that the public API does not: what the OCSP
 * staple said, in the library's words (evidence for a person). */
static void probe_trace(void *arg, const char *line) {
    tls_probe *p = arg;
    static const char staple[] = "  OCSP staple: ";
    if (!strncmp(line, staple, sizeof staple - 1)) {
        const char *t = line + sizeof staple - 1;
        p->staple_seen = strcmp(t, "none") != 0;
        snprintf(p->staple_text, sizeof p->staple_text, "%s", t);
    }
}

/* A CertificateRequest and tickets, from the API. */
static void observe(certa_conn *conn, tls_probe *p) {
    p->cert_requested = certa_conn_cert_requested(conn);
    uint32_t lifetime = certa_conn_ticket_lifetime(conn);
    if (lifetime) {
        p->got_ticket = true;
        p->ticket_lifetime = lifetime;
    }
}

certa_config *tls_probe_config(diag_ctx *ctx, const tls_probe *p, char *why, size_t cap) {
    certa_config *cfg = certa_config_new();
    if (!cfg) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    int r = certa_config_set_versions(cfg, p->min_version ? p->min_version : CERTA_TLS12,
                                      p->max_version ? p->max_version : CERTA_TLS13);
    /* Every suite and group certa has, unless the probe narrows them. */
    if (!r)
        r = certa_config_set_ciphers(
            cfg, p->ciphers ? p->ciphers
                            : "TLS_AES_128_GCM_SHA256,TLS_AES_256_GCM_SHA384,"
                              "TLS_CHACHA20_POLY1305_SHA256,TLS_AES_128_CCM_SHA256,"
                              "ECDHE-ECDSA-AES128-GCM-SHA256,ECDHE-ECDSA-AES256-GCM-SHA384,"
                              "ECDHE-ECDSA-CHACHA20-POLY1305,ECDHE-RSA-AES128-GCM-SHA256,"
                              "ECDHE-RSA-AES256-GCM-SHA384,ECDHE-RSA-CHACHA20-POLY1305");
    if (!r && p->groups) r = certa_config_set_groups(cfg, p->groups);
    if (!r && p->alpn) r = certa_config_set_alpn(cfg, p->alpn);
    /* Legacy peers are what a diagnosis is for: see them, then judge. */
    certa_config_set_require_ems(cfg, false);
    if (!r) r = certa_config_set_min_key_bits(cfg, 2048, 256);
    if (!r && p->client_cert && ctx->cert) {
        r = certa_config_load_cert_chain(cfg, ctx->cert);
        if (!r) r = cli_load_private_key(cfg, ctx->key); /* a file or a pkcs11: URI */
    }
    if (!r) {
        if (p->verify)
            certa_config_set_trust(cfg, ctx->trust);
        else
            certa_config_set_insecure(cfg, true);
    }
    if (!r && p->early_data) certa_config_set_max_early_data(cfg, 1024);
    if (r) {
        const char *t = certa_config_error_text(cfg);
        snprintf(why, cap, "%s", *t ? t : certa_error_text(r));
        certa_config_free(cfg);
        return NULL;
    }
    return cfg;
}

/* After the handshake: read for up to ms (tickets, or the server's alert
 * about our certificate), dropping application data. */
static void read_after(certa_conn *conn, int fd, tls_probe *p, int ms) {
    int64_t end = cli_now_ms() + ms;
    uint8_t buf[4096], sink[4096];
    while (!certa_conn_failed(conn) && !certa_conn_peer_closed(conn)) {
        observe(conn, p);
        if (p->wait_tickets && p->got_ticket && !p->cert_requested) break;
        int64_t left = end - cli_now_ms();
        if (left <= 0) break;
        struct pollfd pf = {.fd = fd, .events = POLLIN, .revents = 0};
        int pr = poll(&pf, 1, (int)left);
        if (pr < 0 && errno == EINTR) continue;
        if (pr <= 0) break;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            (void)certa_conn_recv_eof(conn);
            break;
        }
        size_t off = 0;
        while (off < (size_t)n) {
            size_t used = 0;
            if (certa_conn_recv(conn, buf + off, (size_t)n - off, &used) != CERTA_OK) break;
            off += used;
            while (certa_conn_read(conn, sink, sizeof sink) > 0) {
            }
            if (used == 0 && off < (size_t)n) break;
        }
    }
}

/* The CA names of a CertificateRequest: "(2): CN=a; CN=b" or ": none
 * named", as the trace line writes them. */
static void keep_ca_names(certa_conn *conn, tls_probe *p) {
    size_t n = certa_conn_requested_ca_count(conn);
    if (!p->cert_requested) return;
    if (n == 0) {
        snprintf(p->ca_names, sizeof p->ca_names, ": none named");
        return;
    }
    int len = snprintf(p->ca_names, sizeof p->ca_names, " (%zu): ", n);
    for (size_t i = 0; i < n && len > 0 && (size_t)len < sizeof p->ca_names; i++) {
        char name[256];
        if (certa_conn_requested_ca_name(conn, i, name, sizeof name) != CERTA_OK)
            snprintf(name, sizeof name, "(unreadable)");
        size_t left = sizeof p->ca_names - (size_t)len;
        if (strlen(name) + 8 > left) {
            snprintf(p->ca_names + len, left, "%s...", i ? "; " : "");
            break;
        }
        len += snprintf(p->ca_names + len, left, "%s%s", i ? "; " : "", name);
    }
}

static void keep_result(certa_conn *conn, tls_probe *p) {
    observe(conn, p);
    keep_ca_names(conn, p);
    p->error = certa_conn_failed(conn) ? certa_conn_error(conn) : p->error;
    if (p->error) {
        snprintf(p->error_name, sizeof p->error_name, "%s", certa_error_name(p->error));
        const char *t = certa_conn_failed(conn) ? certa_conn_error_text(conn) : "";
        snprintf(p->error_text, sizeof p->error_text, "%s", *t ? t : certa_error_text(p->error));
    }
    p->alert_sent = certa_conn_alert_sent(conn);
    p->alert_received = certa_conn_alert_received(conn);
    if (certa_conn_info(conn, &p->info) == 0 && p->info.alpn) {
        snprintf(p->alpn_buf, sizeof p->alpn_buf, "%s", p->info.alpn);
        p->info.alpn = p->alpn_buf;
    } else {
        p->info.alpn = NULL;
    }
    p->info.server_name = NULL; /* points into the connection */
    p->info.cert_name = NULL;
    for (size_t i = 0; i < PROBE_MAX_CHAIN; i++) {
        size_t len = 0;
        const uint8_t *der = certa_conn_peer_cert(conn, i, &len);
        if (!der) break;
        p->chain[i] = malloc(len);
        if (!p->chain[i]) break;
        memcpy(p->chain[i], der, len);
        p->chain_lens[i] = len;
        p->chain_len = i + 1;
    }
    p->staple_good = p->info.peer_staple_good;
    snprintf(p->revocation_note, sizeof p->revocation_note, "%s", certa_conn_revocation_note(conn));
}

/* After a TLS 1.2 handshake: one renegotiation ClientHello, and what the
 * server does within the timeout. */
static void renegotiate(diag_ctx *ctx, certa_conn *conn, int fd, tls_probe *p) {
    if (certa_conn_probe_renegotiation(conn) != CERTA_OK || certa_fd_flush(conn, fd) != CERTA_OK)
        return;
    p->reneg_sent = true;
    read_after(conn, fd, p, ctx->timeout_ms);
    p->reneg_error = certa_conn_failed(conn) ? certa_conn_error(conn) : CERTA_OK;
    snprintf(p->reneg_text, sizeof p->reneg_text, "%s", certa_conn_error_text(conn));
}

bool tls_probe_run(diag_ctx *ctx, tls_probe *p) {
    char why[512] = "";
    bool own_cfg = p->cfg == NULL;
    certa_config *cfg = own_cfg ? tls_probe_config(ctx, p, why, sizeof why) : p->cfg;
    if (!cfg) {
        p->error = CERTA_E_CONFIG;
        snprintf(p->error_text, sizeof p->error_text, "%s", why);
        return false;
    }
    int fd = diag_connect(ctx, &p->tcp_ms, why, sizeof why);
    if (fd < 0) {
        p->error = fd == -2 ? CERTA_E_STATE : CERTA_E_IO;
        snprintf(p->error_name, sizeof p->error_name, "%s", certa_error_name(p->error));
        snprintf(p->error_text, sizeof p->error_text, "%s", why);
        if (own_cfg) certa_config_free(cfg);
        return false;
    }
    p->connected = true;
    certa_conn *conn = certa_client_new(cfg, ctx->servername);
    if (!conn) {
        close(fd);
        if (own_cfg) certa_config_free(cfg);
        p->error = CERTA_E_NOMEM;
        return true;
    }
    certa_conn_set_trace(conn, probe_trace, p);
    if (p->early_data && certa_conn_early_allowed(conn) > 0 &&
        certa_conn_write_early(conn, (const uint8_t *)"\r\n", 2) == CERTA_OK)
        p->early_sent = true;
    int64_t t0 = cli_now_ms();
    p->error = certa_fd_handshake(conn, fd, ctx->timeout_ms);
    p->handshake_ms = cli_now_ms() - t0;
    p->done = p->error == CERTA_OK;
    observe(conn, p);
    /* TLS 1.3: a server refusing our (empty) certificate says so after our
     * Finished; tickets come after the handshake too. */
    if (p->done && (p->wait_tickets || p->cert_requested))
        read_after(conn, fd, p, p->cert_requested ? 400 : 300);
    if (p->done && p->renegotiate) renegotiate(ctx, conn, fd, p);
    keep_result(conn, p);
    if (p->done && !certa_conn_failed(conn)) {
        (void)certa_conn_close(conn);
        (void)certa_fd_flush(conn, fd);
    }
    certa_conn_free(conn);
    close(fd);
    if (own_cfg) certa_config_free(cfg);
    return true;
}

void tls_probe_clear(tls_probe *p) {
    for (size_t i = 0; i < p->chain_len; i++)
        free(p->chain[i]);
    p->chain_len = 0;
}
