/* Revocation in handshakes, in memory: CRLs made by libcrypto's X509_CRL
 * API (not by certa) revoke a client certificate, a server certificate;
 * stale CRLs under prefer and require; require without data; CRLs swapped
 * into a config already in use; the config API's refusals. Once in TLS 1.3
 * and once in TLS 1.2. */
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "certa.h"
#include "lib_chain.h"
#include "lib_pair.h"
#include "testlib.h"

static test_cert root, server_leaf, billing, web;
static certa_trust *trust;
static uint16_t version;

static void make_pki(void) {
    chain_opts ca = chain_ca_opts("Revocation Test Root");
    tc_make(&root, &ca, NULL);
    chain_opts s = chain_leaf_opts("localhost", "DNS:localhost");
    tc_make(&server_leaf, &s, &root);
    chain_opts b = chain_leaf_opts("billing", "URI:spiffe://prod.example/billing");
    b.eku = "clientAuth";
    tc_make(&billing, &b, &root);
    chain_opts w = chain_leaf_opts("web", "URI:spiffe://prod.example/web");
    w.eku = "clientAuth";
    tc_make(&web, &w, &root);
    trust = certa_trust_new();
    certa_trust_add_pem(trust, root.pem, strlen(root.pem));
}

/* A PEM CRL from root revoking `revoked` (or nothing), valid from now +
 * this_off to now + next_off seconds; malloc'd. */
static char *make_crl(const test_cert *revoked, int reason, long this_off, long next_off) {
    X509_CRL *crl = X509_CRL_new();
    X509_CRL_set_version(crl, 1);
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(root.x509));
    time_t now = time(NULL);
    ASN1_TIME *t = ASN1_TIME_adj(NULL, now, 0, this_off),
              *n = ASN1_TIME_adj(NULL, now, 0, next_off);
    X509_CRL_set1_lastUpdate(crl, t);
    X509_CRL_set1_nextUpdate(crl, n);
    if (revoked) {
        X509_REVOKED *r = X509_REVOKED_new();
        X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked->x509));
        X509_REVOKED_set_revocationDate(r, t);
        ASN1_ENUMERATED *e = ASN1_ENUMERATED_new();
        ASN1_ENUMERATED_set(e, reason);
        X509_REVOKED_add1_ext_i2d(r, NID_crl_reason, e, 0, 0);
        ASN1_ENUMERATED_free(e);
        X509_CRL_add0_revoked(crl, r);
    }
    ASN1_INTEGER *num = ASN1_INTEGER_new();
    ASN1_INTEGER_set(num, 7);
    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0);
    ASN1_INTEGER_free(num);
    X509_CRL_sort(crl);
    X509_CRL_sign(crl, root.key, EVP_sha256());
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509_CRL(bio, crl);
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    char *out = malloc((size_t)len + 1);
    memcpy(out, data, (size_t)len);
    out[len] = 0;
    BIO_free(bio);
    ASN1_TIME_free(t);
    ASN1_TIME_free(n);
    X509_CRL_free(crl);
    return out;
}

static certa_config *new_cfg(void) {
    certa_config *cfg = certa_config_new();
    certa_config_set_versions(cfg, version, version);
    return cfg;
}

static certa_config *server_cfg(const char *crl, certa_revocation mode) {
    certa_config *cfg = new_cfg();
    pair_use_identity(cfg, &server_leaf);
    certa_config_set_trust(cfg, trust);
    certa_config_set_client_auth(cfg, CERTA_CLIENT_AUTH_REQUIRE);
    if (crl) certa_config_add_crl_pem(cfg, crl, strlen(crl));
    certa_config_set_revocation(cfg, mode);
    return cfg;
}

static certa_config *client_cfg(const test_cert *id, const char *crl, certa_revocation mode) {
    certa_config *cfg = new_cfg();
    certa_config_set_trust(cfg, trust);
    if (id) pair_use_identity(cfg, id);
    if (crl) certa_config_add_crl_pem(cfg, crl, strlen(crl));
    certa_config_set_revocation(cfg, mode);
    return cfg;
}

static pair run(certa_config *c, certa_config *s) {
    pair p = {certa_client_new(c, "localhost"), certa_server_new(s)};
    pair_pump(&p);
    return p;
}

static const char *vname(void) {
    return version == CERTA_TLS13 ? "1.3" : "1.2";
}

static void handshakes(void) {
    char *revoke_billing = make_crl(&billing, 1 /* keyCompromise */, -60, 3600);
    char *stale = make_crl(NULL, 0, -7200, -3600);
    char *revoke_server = make_crl(&server_leaf, 4 /* superseded */, -60, 3600);

    /* a revoked client certificate: the server refuses it */
    certa_config *s = server_cfg(revoke_billing, CERTA_REVOCATION_DEFAULT);
    certa_config *c = client_cfg(&billing, NULL, CERTA_REVOCATION_DEFAULT);
    pair p = run(c, s);
    const char *t = certa_conn_error_text(p.server);
    CHECK(certa_conn_error(p.server) == CERTA_E_CERT_REVOKED && strstr(t, "keyCompromise") &&
              strstr(t, "(serial ") && strstr(t, "per the CRL from 'CN=Revocation Test Root"),
          "TLS %s: revoked client certificate refused with serial, reason and source: %s", vname(),
          t);
    CHECK(!certa_conn_handshake_done(p.client), "TLS %s: ... and the client does not connect",
          vname());
    pair_free(&p);
    certa_config_free(c);

    /* another client of the same CA gets in, with no note */
    c = client_cfg(&web, NULL, CERTA_REVOCATION_DEFAULT);
    p = run(c, s);
    CHECK(certa_conn_handshake_done(p.server) && !*certa_conn_revocation_note(p.server),
          "TLS %s: a client the CRL does not list connects, no revocation note", vname());
    pair_free(&p);

    /* the config is in use now; a new CRL revoking web is swapped in */
    char *revoke_web = make_crl(&web, 5, -60, 3600);
    CHECK(certa_config_add_crl_pem(s, revoke_web, strlen(revoke_web)) == CERTA_OK &&
              certa_config_crl_count(s) == 2,
          "TLS %s: a CRL added to a config in use", vname());
    /* a new client config: the first one holds a session, which resumption
     * declines only once the CRL set is newer than it (by the second) */
    certa_config_free(c);
    c = client_cfg(&web, NULL, CERTA_REVOCATION_DEFAULT);
    p = run(c, s);
    CHECK(certa_conn_error(p.server) == CERTA_E_CERT_REVOKED &&
              strstr(certa_conn_error_text(p.server), "cessationOfOperation"),
          "TLS %s: ... and the next handshake refuses the newly revoked client", vname());
    pair_free(&p);
    CHECK(certa_config_reload_crls(s, NULL, 0) == CERTA_OK && certa_config_crl_count(s) == 0,
          "TLS %s: reload_crls with no paths empties the set", vname());
    p = run(c, s);
    CHECK(certa_conn_handshake_done(p.server), "TLS %s: ... and the client is let in again",
          vname());
    pair_free(&p);
    certa_config_free(c);
    certa_config_free(s);
    free(revoke_web);

    /* stale CRL: prefer notes, require refuses */
    s = server_cfg(stale, CERTA_REVOCATION_PREFER);
    c = client_cfg(&web, NULL, CERTA_REVOCATION_DEFAULT);
    p = run(c, s);
    CHECK(certa_conn_handshake_done(p.server) &&
              strstr(certa_conn_revocation_note(p.server), "out of date"),
          "TLS %s: prefer: a stale CRL is a note, not a refusal: %s", vname(),
          certa_conn_revocation_note(p.server));
    pair_free(&p);
    certa_config_free(s);
    s = server_cfg(stale, CERTA_REVOCATION_REQUIRE);
    p = run(c, s);
    CHECK(certa_conn_error(p.server) == CERTA_E_CERT_STATUS &&
              strstr(certa_conn_error_text(p.server), "revocation is required"),
          "TLS %s: require: a stale CRL refuses the client (CERTA_E_CERT_STATUS)", vname());
    pair_free(&p);
    certa_config_free(s);
    s = server_cfg(stale, CERTA_REVOCATION_OFF);
    p = run(c, s);
    CHECK(certa_conn_handshake_done(p.server) && !*certa_conn_revocation_note(p.server),
          "TLS %s: off: the CRL is not consulted", vname());
    pair_free(&p);
    certa_config_free(s);
    certa_config_free(c);

    /* the client's side: a revoked server certificate; require without data */
    s = server_cfg(NULL, CERTA_REVOCATION_DEFAULT);
    certa_config_set_client_auth(s, CERTA_CLIENT_AUTH_NONE);
    c = client_cfg(NULL, revoke_server, CERTA_REVOCATION_DEFAULT);
    p = run(c, s);
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_REVOKED &&
              strstr(certa_conn_error_text(p.client), "superseded"),
          "TLS %s: the client refuses a revoked server certificate", vname());
    pair_free(&p);
    certa_config_free(c);
    c = client_cfg(NULL, NULL, CERTA_REVOCATION_REQUIRE);
    p = run(c, s);
    t = certa_conn_error_text(p.client);
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_STATUS &&
              strstr(t, "no CRL from its issuer") && strstr(t, "no OCSP staple was sent"),
          "TLS %s: require with neither CRL nor staple: refused, saying both are missing: %s",
          vname(), t);
    pair_free(&p);
    certa_config_free(c);
    c = client_cfg(NULL, revoke_billing, CERTA_REVOCATION_REQUIRE);
    p = run(c, s);
    CHECK(certa_conn_handshake_done(p.client),
          "TLS %s: require with a fresh CRL that does not list the server: connected", vname());
    pair_free(&p);
    certa_config_free(c);
    c = client_cfg(NULL, NULL, CERTA_REVOCATION_DEFAULT);
    p = run(c, s);
    CHECK(certa_conn_handshake_done(p.client) && !*certa_conn_revocation_note(p.client),
          "TLS %s: a default client without CRLs connects with no note (only a staple would "
          "speak)",
          vname());
    pair_free(&p);
    certa_config_free(c);
    certa_config_free(s);
    free(revoke_billing);
    free(stale);
    free(revoke_server);
}

static int64_t fake_now;
static int64_t fake_time(void *arg) {
    (void)arg;
    return fake_now;
}

/* A session made before the CRLs changed does not let a since-revoked
 * client skip the check: the server declines it and validates again. */
static void resumption_rechecks(void) {
    fake_now = (int64_t)time(NULL);
    certa_config *s = server_cfg(NULL, CERTA_REVOCATION_PREFER);
    certa_config_set_time_fn(s, fake_time, NULL);
    certa_config *c = client_cfg(&web, NULL, CERTA_REVOCATION_DEFAULT);
    pair p = run(c, s);
    pair_pump(&p); /* the tickets */
    CHECK(certa_conn_handshake_done(p.server), "TLS %s: full handshake, session stored", vname());
    pair_free(&p);
    p = run(c, s);
    certa_info info;
    CHECK(certa_conn_info(p.server, &info) == 0 && info.resumed,
          "TLS %s: the session resumes while the CRLs are unchanged", vname());
    pair_free(&p);
    fake_now += 10;
    char *revoke_web = make_crl(&web, 1, -60, 3600);
    certa_config_add_crl_pem(s, revoke_web, strlen(revoke_web));
    p = run(c, s);
    CHECK(certa_conn_error(p.server) == CERTA_E_CERT_REVOKED,
          "TLS %s: after a CRL revoking the client is loaded, its session is declined and the "
          "full handshake refuses it: %s",
          vname(), certa_conn_error_text(p.server));
    pair_free(&p);
    free(revoke_web);
    certa_config_free(c);
    certa_config_free(s);
}

/* The client side: a stored session skips the server's chain, so it is not
 * offered once the client's CRLs change; the same CRLs loaded again change
 * nothing. */
static void client_resumption_rechecks(void) {
    fake_now = (int64_t)time(NULL);
    char *none = make_crl(NULL, 0, -60, 3600);
    certa_config *s = server_cfg(NULL, CERTA_REVOCATION_OFF);
    char path[] = "/tmp/certa-client-crl-XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (f) {
        fputs(none, f);
        fclose(f);
    }
    certa_config *c = client_cfg(&web, NULL, CERTA_REVOCATION_PREFER);
    certa_config_set_time_fn(c, fake_time, NULL);
    CHECK(f && certa_config_load_crls(c, path) == CERTA_OK, "TLS %s: client: a CRL file loaded",
          vname());
    pair p = run(c, s);
    pair_pump(&p); /* the tickets */
    CHECK(certa_conn_handshake_done(p.client), "TLS %s: client: full handshake, session stored",
          vname());
    pair_free(&p);
    fake_now += 10;
    const char *paths[] = {path};
    CHECK(certa_config_reload_crls(c, paths, 1) == CERTA_OK && certa_config_crl_count(c) == 1,
          "TLS %s: client: the unchanged CRL file reloaded", vname());
    p = run(c, s);
    certa_info info;
    CHECK(certa_conn_info(p.client, &info) == 0 && info.resumed,
          "TLS %s: client: ... the session still resumes (the CRL set did not change since)",
          vname());
    pair_free(&p);
    fake_now += 10;
    char *revoke_server = make_crl(&server_leaf, 1, -60, 3600);
    certa_config_add_crl_pem(c, revoke_server, strlen(revoke_server));
    p = run(c, s);
    CHECK(certa_conn_error(p.client) == CERTA_E_CERT_REVOKED &&
              certa_conn_info(p.client, &info) == 0 && !info.session_offered,
          "TLS %s: client: after a CRL revoking the server is loaded, the session is not offered "
          "and the full handshake refuses the server: %s",
          vname(), certa_conn_error_text(p.client));
    pair_free(&p);
    unlink(path);
    free(none);
    free(revoke_server);
    certa_config_free(c);
    certa_config_free(s);
}

static void config_api(void) {
    certa_config *cfg = certa_config_new();
    static const uint8_t junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
    CHECK(certa_config_add_crl_der(cfg, junk, sizeof junk) == CERTA_E_CONFIG &&
              strstr(certa_config_error_text(cfg), "CertificateList") &&
              certa_config_crl_count(cfg) == 0,
          "a DER that is not a CRL is refused and nothing is added");
    CHECK(certa_config_add_crl_pem(cfg, "hello", 5) == CERTA_E_CONFIG,
          "PEM text without an X509 CRL block is refused");
    CHECK(certa_config_set_revocation(cfg, (certa_revocation)9) == CERTA_E_INVALID_ARGUMENT,
          "an unknown revocation mode is refused");
    char dir[] = "/tmp/certa-crl-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "temporary directory");
    char *a = make_crl(&web, 1, -60, 3600), *b = make_crl(NULL, 0, -60, 3600);
    char pa[64], pb[64], pc[64];
    snprintf(pa, sizeof pa, "%s/a.crl", dir);
    snprintf(pb, sizeof pb, "%s/b.pem", dir);
    snprintf(pc, sizeof pc, "%s/notes.txt", dir);
    FILE *f = fopen(pa, "w");
    fputs(a, f);
    fclose(f);
    f = fopen(pb, "w");
    fputs(b, f);
    fclose(f);
    f = fopen(pc, "w");
    fputs("not a CRL, and not named like one", f);
    fclose(f);
    CHECK(certa_config_load_crls(cfg, dir) == CERTA_OK && certa_config_crl_count(cfg) == 2,
          "load_crls on a directory reads its *.crl and *.pem files (and skips the rest)");
    CHECK(certa_config_load_crls(cfg, pa) == CERTA_OK && certa_config_crl_count(cfg) == 3,
          "load_crls on a file adds to what is there");
    const char *paths[] = {pb};
    CHECK(certa_config_reload_crls(cfg, paths, 1) == CERTA_OK && certa_config_crl_count(cfg) == 1,
          "reload_crls replaces the set");
    const char *missing[] = {"/nonexistent/x.crl"};
    CHECK(certa_config_reload_crls(cfg, missing, 1) == CERTA_E_FILE &&
              certa_config_crl_count(cfg) == 1,
          "a reload that fails changes nothing");
    unlink(pa);
    unlink(pb);
    unlink(pc);
    rmdir(dir);
    free(a);
    free(b);
    certa_config_free(cfg);
}

int main(void) {
    make_pki();
    version = CERTA_TLS13;
    handshakes();
    resumption_rechecks();
    client_resumption_rechecks();
    version = CERTA_TLS12;
    handshakes();
    resumption_rechecks();
    client_resumption_rechecks();
    config_api();
    tc_free(&root);
    tc_free(&server_leaf);
    tc_free(&billing);
    tc_free(&web);
    certa_trust_free(trust);
    return test_failures ? 1 : 0;
}
