/* Certificate selection by SNI in memory: a server with several
 * certificates answers each server_name with the one whose DNS SAN matches
 * it (exactly, or by a one-label wildcard), and with the default (the first
 * usable one) otherwise; strict mode refuses an unknown name with
 * unrecognized_name; resumption holds to the same names. Everything once
 * in TLS 1.3 and once in TLS 1.2. */
#include "certa.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"

#include <stdbool.h>

static test_cert root, dflt, a_cert, multi, wild, many[64];
static certa_trust *trust;
static uint16_t version;

static void make_pki(void) {
    chain_opts ca = chain_ca_opts("SNI Test Root");
    tc_make(&root, &ca, NULL);
    chain_opts o = chain_leaf_opts("default", "DNS:default.example");
    tc_make(&dflt, &o, &root);
    o = chain_leaf_opts("a", "DNS:a.example.com");
    tc_make(&a_cert, &o, &root);
    /* A SAN that is not a usable host name must not confuse the others. */
    o = chain_leaf_opts("multi", "DNS:bad_name!,DNS:b.example.com,DNS:C.Example.com");
    tc_make(&multi, &o, &root);
    o = chain_leaf_opts("wild", "DNS:*.wild.example.com");
    tc_make(&wild, &o, &root);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, root.pem, strlen(root.pem));
}

/* Default first (loaded the classic way), then the others. */
static certa_config *server_cfg(bool strict) {
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, version, version);
    certa_config_set_cert_chain_pem(cfg, dflt.pem, strlen(dflt.pem));
    char *k = tc_key_pem(&dflt);
    certa_config_set_private_key_pem(cfg, k, strlen(k));
    free(k);
    pair_use_identity(cfg, &a_cert);
    pair_use_identity(cfg, &multi);
    pair_use_identity(cfg, &wild);
    certa_config_set_sni_strict(cfg, strict);
    return cfg;
}

/* verify: validate the chain for the name (else insecure, to see which
 * certificate a name that none is for gets). No session cache: every
 * connection shows its certificate (sessions are handed over explicitly). */
static certa_config *client_cfg(bool verify) {
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, version, version);
    certa_config_set_session_cache(cfg, 0);
    if (verify)
        certa_config_set_trust(cfg, trust);
    else
        certa_config_set_insecure(cfg, true);
    return cfg;
}

static pair run(certa_config *c, certa_config *s, const char *name) {
    pair p = {certa_client_new(c, name), certa_server_new(s)};
    pair_pump(&p);
    return p;
}

/* Did the client get cert as the server's leaf? */
static bool served(const pair *p, const test_cert *cert) {
    size_t len = 0;
    const uint8_t *der = certa_conn_peer_cert(p->client, 0, &len);
    return certa_conn_handshake_done(p->client) && certa_conn_handshake_done(p->server) && der &&
           len == cert->der_len && !memcmp(der, cert->der, len);
}

static const char *cert_name(const pair *p) {
    certa_info si;
    certa_conn_info(p->server, &si);
    return si.cert_name ? si.cert_name : "(none)";
}

static void expect(certa_config *c, certa_config *s, const char *sni, const test_cert *cert,
                   const char *name, const char *what) {
    pair p = run(c, s, sni);
    CHECK(served(&p, cert) && !strcmp(cert_name(&p), name ? name : "(none)"),
          "%s: SNI %s gets %s, cert_name %s (%s / %s)", what, sni ? sni : "(none)", cert->subject,
          cert_name(&p), certa_conn_error_text(p.client), certa_conn_error_text(p.server));
    pair_free(&p);
}

static char trace_buf[4096];
static void trace_into(void *arg, const char *line) {
    (void)arg;
    size_t n = strlen(trace_buf);
    snprintf(trace_buf + n, sizeof trace_buf - n, "%s\n", line);
}

static void selection(void) {
    certa_config *s = server_cfg(false), *v = client_cfg(true), *ins = client_cfg(false);
    /* Verified clients: each name gets a certificate valid for it. */
    expect(v, s, "a.example.com", &a_cert, "a.example.com", "exact match");
    expect(v, s, "A.EXAMPLE.com", &a_cert, "a.example.com", "exact match ignores case");
    expect(v, s, "c.example.com", &multi, "C.Example.com", "second usable SAN of a certificate");
    expect(v, s, "x.wild.example.com", &wild, "*.wild.example.com", "wildcard match");
    expect(v, s, "default.example", &dflt, "default.example", "the default's own name");
    /* Names no certificate is for: the default (an insecure client, since
     * it is not valid for them). */
    expect(ins, s, "x.y.wild.example.com", &dflt, NULL, "wildcard is one label only");
    expect(ins, s, "wild.example.com", &dflt, NULL, "wildcard does not match its parent");
    expect(ins, s, "other.example", &dflt, NULL, "unknown name: fallback to the default");
    expect(ins, s, "bad_name!", &dflt, NULL, "an invalid SAN matches nothing");
    expect(ins, s, NULL, &dflt, NULL, "no SNI: the default");
    expect(ins, s, "127.0.0.1", &dflt, NULL, "IP literal (not sent as SNI): the default");
    pair p = run(v, s, "other.example");
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_NAME_MISMATCH,
          "a verifying client refuses the default for a name it is not for (%s)",
          certa_error_name(certa_conn_error(p.client)));
    pair_free(&p);

    /* The trace says which certificate was chosen and why. */
    p.client = certa_client_new(v, "x.wild.example.com");
    p.server = certa_server_new(s);
    trace_buf[0] = 0;
    certa_conn_set_trace(p.server, trace_into, NULL);
    pair_pump(&p);
    /* (sent as a CompressedCertificate: certa offers compression itself) */
    CHECK(strstr(trace_buf, "Certificate (1 certificate, DNS *.wild.example.com matches SNI "
                            "x.wild.example.com") != NULL,
          "trace names the matching certificate");
    pair_free(&p);
    p.client = certa_client_new(ins, "other.example");
    p.server = certa_server_new(s);
    trace_buf[0] = 0;
    certa_conn_set_trace(p.server, trace_into, NULL);
    pair_pump(&p);
    CHECK(strstr(trace_buf, "the default (DNS default.example): none is for SNI other.example") !=
              NULL,
          "trace says the default was used, and why");
    pair_free(&p);
    certa_config_free(s);

    /* Without a classic default, the first added identity is the default. */
    s = certa_config_new();
    certa_config_set_versions(s, version, version);
    pair_use_identity(s, &wild);
    pair_use_identity(s, &a_cert);
    expect(ins, s, "nothing.example", &wild, NULL, "first added identity is the default");
    expect(v, s, "a.example.com", &a_cert, "a.example.com", "and a later one is chosen by name");
    certa_config_free(s);
    certa_config_free(v);
    certa_config_free(ins);
}

static void strict(void) {
    certa_config *s = server_cfg(true), *v = client_cfg(true), *ins = client_cfg(false);
    expect(v, s, "a.example.com", &a_cert, "a.example.com", "strict: known name served");
    expect(v, s, "y.wild.example.com", &wild, "*.wild.example.com", "strict: wildcard served");
    expect(ins, s, NULL, &dflt, NULL, "strict: no SNI still gets the default");
    pair p = run(ins, s, "unknown.example");
    CHECK(certa_conn_error(p.server) == CERTA_E_UNRECOGNIZED_NAME &&
              certa_conn_alert_sent(p.server) == 112,
          "strict: unknown name refused with unrecognized_name (%s, alert %u)",
          certa_error_name(certa_conn_error(p.server)), certa_conn_alert_sent(p.server));
    CHECK(!strcmp(certa_conn_error_text(p.server),
                  "no certificate for 'unknown.example': the server has certificates for "
                  "default.example, a.example.com, b.example.com, C.Example.com, "
                  "*.wild.example.com"),
          "the sentence lists the names: %s", certa_conn_error_text(p.server));
    CHECK(certa_conn_alert_received(p.client) == 112 &&
              certa_conn_error(p.client) == CERTA_E_PEER_ALERT &&
              strstr(certa_conn_error_text(p.client), "unrecognized_name") != NULL,
          "the client sees unrecognized_name: %s", certa_conn_error_text(p.client));
    pair_free(&p);
    p = run(ins, s, "z.y.wild.example.com");
    CHECK(certa_conn_error(p.server) == CERTA_E_UNRECOGNIZED_NAME,
          "strict: a name two labels under a wildcard is unknown");
    pair_free(&p);
    certa_config_free(s);

    /* Many names: the list in the sentence stays bounded. */
    s = certa_config_new();
    certa_config_set_versions(s, version, version);
    for (int i = 0; i < 64; i++)
        pair_use_identity(s, &many[i]);
    certa_config_set_sni_strict(s, true);
    expect(v, s, "host50.many.example", &many[50], "host50.many.example", "64 identities: #50");
    p = run(ins, s, "nope.example");
    CHECK(certa_conn_error(p.server) == CERTA_E_UNRECOGNIZED_NAME &&
              strstr(certa_conn_error_text(p.server), "host0.many.example, host1.many.example") &&
              strstr(certa_conn_error_text(p.server), " more"),
          "64 names: the sentence shortens the list: %s", certa_conn_error_text(p.server));
    pair_free(&p);
    certa_config_free(s);
    certa_config_free(v);
    certa_config_free(ins);
}

static bool resumed(const pair *p) {
    certa_info ci, si;
    certa_conn_info(p->client, &ci);
    certa_conn_info(p->server, &si);
    return certa_conn_handshake_done(p->server) && ci.resumed && si.resumed;
}

static void resumption(void) {
    uint8_t key[32];
    for (int i = 0; i < 32; i++)
        key[i] = (uint8_t)(i * 5 + 3);
    certa_config *s = server_cfg(false), *ins = client_cfg(false);
    certa_config_set_ticket_key(s, key);
    pair p = run(ins, s, "a.example.com");
    uint8_t blob[CERTA_SESSION_MAX];
    size_t len = 0;
    CHECK(served(&p, &a_cert) && certa_conn_session(p.client, blob, sizeof blob, &len) == 0,
          "resumption: a session from a.example.com");
    pair_free(&p);

    /* A reload with the same names: resumes, and still reports the match. */
    certa_config *same = server_cfg(false);
    certa_config_set_ticket_key(same, key);
    p.client = certa_client_new_resume(ins, "a.example.com", blob, len);
    p.server = certa_server_new(same);
    pair_pump(&p);
    CHECK(resumed(&p) && !strcmp(cert_name(&p), "a.example.com"),
          "same names after a reload: resumed (cert_name %s)", cert_name(&p));
    pair_free(&p);

    /* A reload that dropped a.example.com: the ticket is declined, and the
     * full handshake gives the default. */
    certa_config *gone = certa_config_new();
    certa_config_set_versions(gone, version, version);
    pair_use_identity(gone, &dflt);
    pair_use_identity(gone, &wild);
    certa_config_set_ticket_key(gone, key);
    p.client = certa_client_new_resume(ins, "a.example.com", blob, len);
    p.server = certa_server_new(gone);
    trace_buf[0] = 0;
    certa_conn_set_trace(p.server, trace_into, NULL);
    pair_pump(&p);
    CHECK(!resumed(&p) && served(&p, &dflt) &&
              strstr(trace_buf, "no longer has a certificate for its server name"),
          "certificate for the name gone: ticket declined, full handshake with the default");
    pair_free(&p);

    /* Strict and gone: refused, ticket or not. */
    certa_config_free(gone);
    gone = certa_config_new();
    certa_config_set_versions(gone, version, version);
    pair_use_identity(gone, &dflt);
    certa_config_set_ticket_key(gone, key);
    certa_config_set_sni_strict(gone, true);
    p.client = certa_client_new_resume(ins, "a.example.com", blob, len);
    p.server = certa_server_new(gone);
    pair_pump(&p);
    CHECK(certa_conn_error(p.server) == CERTA_E_UNRECOGNIZED_NAME &&
              certa_conn_alert_received(p.client) == 112,
          "strict server without the name: a ticket does not get past unrecognized_name");
    pair_free(&p);

    /* A session made with the default (no name matched) resumes on the
     * default as before. */
    p = run(ins, s, "other.example");
    len = 0;
    certa_conn_session(p.client, blob, sizeof blob, &len);
    pair_free(&p);
    p.client = certa_client_new_resume(ins, "other.example", blob, len);
    p.server = certa_server_new(same);
    pair_pump(&p);
    CHECK(resumed(&p) && !strcmp(cert_name(&p), "(none)"),
          "a session on the default resumes on the default");
    pair_free(&p);
    certa_config_free(gone);
    certa_config_free(same);
    certa_config_free(s);
    certa_config_free(ins);
}

static void limits(void) {
    certa_config *s = certa_config_new();
    char *k = tc_key_pem(&a_cert);
    int r = 0, n = 0;
    while (r == 0 && n < 2000) {
        r = certa_config_add_identity_pem(s, a_cert.pem, strlen(a_cert.pem), k, strlen(k));
        if (r == 0) n++;
    }
    CHECK(n == 1024 && r == CERTA_E_INVALID_ARGUMENT &&
              strstr(certa_config_error_text(s), "at most 1024"),
          "1024 identities per config, the next refused (%d: %s)", n, certa_config_error_text(s));
    free(k);
    certa_config_free(s);
}

int main(void) {
    make_pki();
    for (int i = 0; i < 64; i++) {
        char cn[32], san[64];
        snprintf(cn, sizeof cn, "host%d", i);
        snprintf(san, sizeof san, "DNS:host%d.many.example", i);
        chain_opts o = chain_leaf_opts(cn, san);
        tc_make(&many[i], &o, &root);
    }
    const uint16_t versions[] = {CERTA_TLS13, CERTA_TLS12};
    for (int i = 0; i < 2; i++) {
        version = versions[i];
        printf("# pass: %s\n", version == CERTA_TLS12 ? "TLS 1.2" : "TLS 1.3");
        selection();
        strict();
        resumption();
    }
    limits();
    for (int i = 0; i < 64; i++)
        tc_free(&many[i]);
    tc_free(&root);
    tc_free(&dflt);
    tc_free(&a_cert);
    tc_free(&multi);
    tc_free(&wild);
    certa_trust_free(trust);
    TEST_EXIT();
}
