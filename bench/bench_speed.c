/* Handshake and bulk-data rates, certa vs OpenSSL libssl, in one process and
 * one thread over in-memory transports, each next to the rate libcrypto's
 * unavoidable operations allow (the bound).
 *
 *   bench_speed handshake   handshake_full{,_secp256r1,_rsa2048}, handshake_resumed,
 *                           handshake_full_{p521,x448,ffdhe2048} (also: groups),
 *                           handshake_full_tls12, handshake_resumed_tls12
 *   bench_speed resumed     handshake_resumed, handshake_0rtt, handshake_resumed_tls12
 *   bench_speed 0rtt        handshake_0rtt: resumed with 1 KiB of early data, both
 *                           libraries' anti-replay on
 *   bench_speed tls12       handshake_full_tls12, handshake_resumed_tls12
 *   bench_speed ocsp        handshake_full_ocsp (also in handshake): the server
 *                           staples an OCSP response, the client validates it
 *   bench_speed ech         handshake_full_ech (also in handshake): ECH accepted,
 *                           next to handshake_full, certa only
 *   bench_speed pkcs11      handshake_full_pkcs11 (also in handshake): the server's
 *                           P-256 key in a SoftHSM token (made in a temporary
 *                           directory), next to handshake_full, certa only
 *   bench_speed bulk        bulk_16k_{aes128gcm,chacha20poly1305}
 *
 * Duration per measurement: BENCH_SECONDS (default 2), split into
 * BENCH_ROUNDS (default 5) alternating rounds, best round kept. */
#include "bench.h"
#include "lib_chain.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/hpke.h"
#include "tls/ech_config.h"
#include "x509/cert.h"
#include "x509/issue.h"
#include "x509/ocsp.h"

/* The TLS 1.2 cases' suite (OpenSSL's name; certa takes it too). */
#define TLS12_SUITE "ECDHE-ECDSA-AES128-GCM-SHA256"

static double secs;
/* Each case alternates the libraries (and its bound) over BENCH_ROUNDS
 * rounds of BENCH_SECONDS/rounds each and keeps each one's best round: a
 * burst of load from elsewhere on a shared machine then costs a round, not
 * the comparison. */
static int rounds;

typedef double (*rate_fn)(bench_setup *b);
typedef double (*bound_fn)(bench_setup *b, const void *arg, double *parts);

static void best_of(bench_setup *b, rate_fn certa, rate_fn ossl, bound_fn bound,
                    const void *bound_arg, double out[3], double parts[4]) {
    double save = secs;
    secs = save / rounds;
    out[0] = out[1] = out[2] = 0;
    for (int r = 0; r < rounds; r++) {
        double c = certa(b), o = ossl(b), p[4] = {0}, k = bound ? bound(b, bound_arg, p) : 0;
        if (c > out[0]) out[0] = c;
        if (o > out[1]) out[1] = o;
        if (k > out[2]) {
            out[2] = k;
            if (parts) memcpy(parts, p, sizeof p);
        }
    }
    secs = save;
}

static void die(const char *what) {
    fprintf(stderr, "bench_speed: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(1);
}

/* ---- handshakes ---------------------------------------------------------- */

static double certa_handshake_rate(bench_setup *b) {
    long n = 0;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            certa_conn *cli = certa_client_new(b->certa_cli, "localhost");
            certa_conn *srv = certa_server_new(b->certa_srv);
            if (!cli || !srv || !certa_pair_handshake(cli, srv)) {
                fprintf(stderr, "certa handshake failed: %s / %s\n",
                        cli ? certa_conn_error_text(cli) : "-",
                        srv ? certa_conn_error_text(srv) : "-");
                exit(1);
            }
            certa_conn_free(cli);
            certa_conn_free(srv);
        }
        t = now_seconds();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

static double ossl_handshake_rate(bench_setup *b) {
    long n = 0;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            ossl_pair p;
            if (ossl_pair_new(&p, b->ossl_cli, b->ossl_srv) != 0 || !ossl_pair_handshake(&p))
                die("libssl handshake failed");
            ossl_pair_free(&p);
        }
        t = now_seconds();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

/* ---- the crypto bound of a handshake ------------------------------------ */
/* Per handshake, neither library can avoid: two ephemeral key generations
 * (with the public encoding), two agreements (each decoding the peer's
 * share), one CertificateVerify signature and its verification. Each is timed
 * here in its cheapest EVP form (contexts prepared once, signing a
 * precomputed digest), so the bound is a true ceiling. */

typedef struct kex_bench {
    const char *keytype; /* "X25519", "X448", "EC" or "DH" */
    const char *group;   /* curve or FFDHE group; NULL for X25519/X448 */
    EVP_PKEY_CTX *gen;
    EVP_PKEY *peer; /* one object, its public value replaced per agreement */
} kex_bench;

static void kex_bench_init(kex_bench *k, const char *group) {
    memset(k, 0, sizeof *k);
    if (!strcmp(group, "x25519") || !strcmp(group, "x448")) {
        k->keytype = !strcmp(group, "x25519") ? "X25519" : "X448";
    } else {
        k->keytype = !strncmp(group, "ffdhe", 5) ? "DH" : "EC";
        k->group = ossl_group_name(group);
    }
    k->gen = EVP_PKEY_CTX_new_from_name(NULL, k->keytype, NULL);
    if (!k->gen || EVP_PKEY_keygen_init(k->gen) != 1 ||
        (k->group && EVP_PKEY_CTX_set_group_name(k->gen, k->group) != 1))
        die("keygen init");
}

static void kex_bench_free(kex_bench *k) {
    EVP_PKEY_CTX_free(k->gen);
    EVP_PKEY_free(k->peer);
}

static EVP_PKEY *kex_gen(kex_bench *k, uint8_t *pub, size_t *pub_len) {
    EVP_PKEY *key = NULL;
    if (EVP_PKEY_keygen(k->gen, &key) != 1) die("keygen");
    size_t n = 0;
    if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, 1024, &n) !=
        1)
        die("encode");
    *pub_len = n;
    return key;
}

/* The peer's share in the cheapest form EVP allows: one key object with our
 * key's parameters, reused, only its public value set per agreement (what
 * both libraries may do at best). A new reference each call. */
static EVP_PKEY *kex_peer(kex_bench *k, EVP_PKEY *ours, const uint8_t *pub, size_t len) {
    if (!k->peer) {
        k->peer = EVP_PKEY_new();
        if (!k->peer || EVP_PKEY_copy_parameters(k->peer, ours) != 1) die("peer key");
    }
    if (EVP_PKEY_set1_encoded_public_key(k->peer, pub, len) != 1 || EVP_PKEY_up_ref(k->peer) != 1)
        die("peer key");
    return k->peer;
}

static void kex_agree(kex_bench *k, EVP_PKEY *priv, EVP_PKEY *peer) {
    uint8_t secret[1024];
    size_t n = sizeof secret;
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
    if (!ctx || EVP_PKEY_derive_init(ctx) != 1 ||
        (!strcmp(k->keytype, "DH") && EVP_PKEY_CTX_set_dh_pad(ctx, 1) != 1) ||
        EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) != 1 || EVP_PKEY_derive(ctx, secret, &n) != 1)
        die("derive");
    EVP_PKEY_CTX_free(ctx);
}

/* Seconds per call of op, run for about secs/4. */
#define TIME_OP(result, body)                                                                      \
    do {                                                                                           \
        long n_ = 0;                                                                               \
        double t0_ = now_seconds(), t_;                                                            \
        do {                                                                                       \
            for (int i_ = 0; i_ < 8; i_++, n_++) {                                                 \
                body;                                                                              \
            }                                                                                      \
            t_ = now_seconds();                                                                    \
        } while (t_ - t0_ < secs / 4);                                                             \
        (result) = (t_ - t0_) / (double)n_;                                                        \
    } while (0)

static double handshake_bound(bench_setup *b, double *parts) {
    kex_bench k;
    kex_bench_init(&k, b->group);
    uint8_t pub[1024], pub2[1024];
    size_t pub_len, pub2_len;
    double t_gen, t_agree, t_sign, t_verify;
    TIME_OP(t_gen, EVP_PKEY_free(kex_gen(&k, pub, &pub_len)));
    EVP_PKEY *a = kex_gen(&k, pub, &pub_len), *bk = kex_gen(&k, pub2, &pub2_len);
    TIME_OP(t_agree, {
        EVP_PKEY *peer = kex_peer(&k, a, pub2, pub2_len);
        kex_agree(&k, a, peer);
        EVP_PKEY_free(peer);
    });
    EVP_PKEY_free(a);
    EVP_PKEY_free(bk);
    kex_bench_free(&k);

    /* Signature over a precomputed SHA-256 digest (the CertificateVerify
     * content is ~130 bytes; hashing it is negligible). */
    BIO *kb = BIO_new_mem_buf(b->key_pem, -1);
    EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
    BIO_free(kb);
    if (!key) die("key");
    bool rsa = EVP_PKEY_is_a(key, "RSA");
    EVP_PKEY_CTX *sctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    EVP_PKEY_CTX *vctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
    if (!sctx || !vctx || EVP_PKEY_sign_init(sctx) != 1 || EVP_PKEY_verify_init(vctx) != 1 ||
        EVP_PKEY_CTX_set_signature_md(sctx, EVP_sha256()) != 1 ||
        EVP_PKEY_CTX_set_signature_md(vctx, EVP_sha256()) != 1)
        die("sign init");
    if (rsa) {
        EVP_PKEY_CTX *c2[2] = {sctx, vctx};
        for (int i = 0; i < 2; i++)
            if (EVP_PKEY_CTX_set_rsa_padding(c2[i], RSA_PKCS1_PSS_PADDING) != 1 ||
                EVP_PKEY_CTX_set_rsa_pss_saltlen(c2[i], RSA_PSS_SALTLEN_DIGEST) != 1 ||
                EVP_PKEY_CTX_set_rsa_mgf1_md(c2[i], EVP_sha256()) != 1)
                die("pss");
    }
    uint8_t digest[32], sig[512];
    memset(digest, 0x5a, sizeof digest);
    size_t sig_len = sizeof sig;
    TIME_OP(t_sign, {
        sig_len = sizeof sig;
        if (EVP_PKEY_sign(sctx, sig, &sig_len, digest, 32) != 1) die("sign");
    });
    TIME_OP(t_verify, {
        if (EVP_PKEY_verify(vctx, sig, sig_len, digest, 32) != 1) die("verify");
    });
    EVP_PKEY_CTX_free(sctx);
    EVP_PKEY_CTX_free(vctx);
    EVP_PKEY_free(key);
    parts[0] = t_gen;
    parts[1] = t_agree;
    parts[2] = t_sign;
    parts[3] = t_verify;
    return 1.0 / (2 * t_gen + 2 * t_agree + t_sign + t_verify);
}

static double full_bound(bench_setup *b, const void *arg, double *parts) {
    (void)arg;
    return handshake_bound(b, parts);
}

/* Resumption skips the signature and its verification. */
static double resumed_bound(bench_setup *b, const void *arg, double *parts) {
    (void)arg;
    handshake_bound(b, parts);
    return 1.0 / (2 * parts[0] + 2 * parts[1]);
}

/* The setting of a handshake case: TLS 1.3 with TLS_AES_128_GCM_SHA256, or
 * TLS 1.2 only with suite12. */
static void case_setup(bench_setup *b, const char *kind, const char *group, const char *suite12) {
    if (bench_setup_init(b, kind, group, "TLS_AES_128_GCM_SHA256") != 0) die("setup");
    if (suite12 && bench_setup_tls12(b, suite12) != 0) die("setup (TLS 1.2)");
}

/* One handshake of each library, before a case is measured: it negotiates
 * the version the case is named for. Writes the suites to certa_suite and
 * ossl_suite (for the details line). */
static void check_version(bench_setup *b, const char **certa_suite, const char **ossl_suite) {
    uint16_t want = b->tls12 ? CERTA_TLS12 : CERTA_TLS13;
    certa_conn *cli = certa_client_new(b->certa_cli, "localhost");
    certa_conn *srv = certa_server_new(b->certa_srv);
    certa_info info;
    if (!cli || !srv || !certa_pair_handshake(cli, srv) || certa_conn_info(cli, &info) != 0)
        die("certa handshake (version check)");
    if (info.version != want) die("certa did not negotiate the case's TLS version");
    if (strcmp(certa_group_name(info.group), b->group) != 0)
        die("certa did not use the case's key-exchange group");
    *certa_suite = certa_cipher_suite_name(info.cipher_suite);
    certa_conn_free(cli);
    certa_conn_free(srv);
    ossl_pair p;
    if (ossl_pair_new(&p, b->ossl_cli, b->ossl_srv) != 0 || !ossl_pair_handshake(&p))
        die("libssl handshake (version check)");
    if (SSL_version(p.cli) != (b->tls12 ? TLS1_2_VERSION : TLS1_3_VERSION))
        die("libssl did not negotiate the case's TLS version");
    int nid = !strcmp(b->group, "x25519")      ? NID_X25519
              : !strcmp(b->group, "x448")      ? NID_X448
              : !strcmp(b->group, "secp256r1") ? NID_X9_62_prime256v1
              : !strcmp(b->group, "secp521r1") ? NID_secp521r1
              : !strcmp(b->group, "ffdhe2048") ? NID_ffdhe2048
                                               : NID_secp384r1;
    if (SSL_get_negotiated_group(p.cli) != nid)
        die("libssl did not use the case's key-exchange group");
    *ossl_suite = SSL_CIPHER_get_name(SSL_get_current_cipher(p.cli));
    ossl_pair_free(&p);
}

static void handshake_case(const char *name, const char *kind, const char *group,
                           const char *suite12) {
    bench_setup b;
    case_setup(&b, kind, group, suite12);
    const char *cs, *os;
    check_version(&b, &cs, &os);
    /* Warm up both (first-use fetches, caches). */
    double save = secs;
    secs = 0.1;
    certa_handshake_rate(&b);
    ossl_handshake_rate(&b);
    secs = save;
    double r[3], parts[4];
    best_of(&b, certa_handshake_rate, ossl_handshake_rate, full_bound, NULL, r, parts);
    double c = r[0], o = r[1], bound = r[2];
    printf("%s certa=%.0f openssl=%.0f ratio=%.2f bound=%.0f of_bound=%.1f%% "
           "openssl_of_bound=%.1f%%\n",
           name, c, o, c / o, bound, 100 * c / bound, 100 * o / bound);
    fprintf(stderr,
            "  %s: handshakes/s, %s, %s cert, %s, certa %s, libssl %s; bound parts (us): "
            "keygen %.1f x2, agree %.1f x2, sign %.1f, verify %.1f\n",
            name, b.tls12 ? "TLS 1.2" : "TLS 1.3", kind, group, cs, os, parts[0] * 1e6,
            parts[1] * 1e6, parts[2] * 1e6, parts[3] * 1e6);
    fflush(stdout);
    bench_setup_free(&b);
}

/* ---- resumed handshakes (PSK with (EC)DHE) ------------------------------- */
/* Each side's client offers the newest session it holds and keeps the new
 * ticket the server sends (one per handshake on both libraries), as a real
 * client reconnecting over and over would. */

static double certa_resumed_rate(bench_setup *b) {
    if (!b->certa_session && !(b->certa_session = malloc(CERTA_SESSION_MAX))) die("malloc");
    uint8_t *session = b->certa_session;
    size_t session_len = b->certa_session_len;
    long n = 0;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            certa_conn *cli = session_len ? certa_client_new_resume(b->certa_cli, "localhost",
                                                                    session, session_len)
                                          : certa_client_new(b->certa_cli, "localhost");
            certa_conn *srv = certa_server_new(b->certa_srv);
            if (!cli || !srv || !certa_pair_handshake(cli, srv)) die("certa resumed handshake");
            certa_info info;
            certa_conn_info(cli, &info);
            if (session_len && !info.resumed) die("certa did not resume");
            if (certa_conn_session(cli, session, CERTA_SESSION_MAX, &session_len) != 0)
                die("certa: no session ticket");
            certa_conn_free(cli);
            certa_conn_free(srv);
        }
        t = now_seconds();
    } while (t - t0 < secs);
    b->certa_session_len = session_len;
    return (double)n / (t - t0);
}

static double ossl_resumed_rate(bench_setup *b) {
    SSL_SESSION *session = b->ossl_session;
    long n = 0;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            ossl_pair p;
            if (ossl_pair_new(&p, b->ossl_cli, b->ossl_srv) != 0) die("libssl pair");
            if (session && SSL_set_session(p.cli, session) != 1) die("SSL_set_session");
            if (!ossl_pair_handshake(&p)) die("libssl resumed handshake");
            if (session && !SSL_session_reused(p.cli)) die("libssl did not resume");
            /* TLS 1.3: takes in the NewSessionTicket, which follows the
             * handshake (in TLS 1.2 it came before the server's Finished). */
            uint8_t byte;
            if (!b->tls12) SSL_read(p.cli, &byte, 1);
            SSL_SESSION *next = SSL_get1_session(p.cli);
            if (!next) die("libssl: no session");
            SSL_SESSION_free(session);
            session = next;
            /* Freed without a shutdown, libssl marks the session not resumable. */
            SSL_set_shutdown(p.cli, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
            ossl_pair_free(&p);
        }
        t = now_seconds();
    } while (t - t0 < secs);
    b->ossl_session = session;
    return (double)n / (t - t0);
}

/* ---- 0-RTT: resumed with 1 KiB of early data ---------------------------- */
/* As handshake_resumed, and the client sends EARLY_BYTES of early data
 * behind its ClientHello, which the server must accept (anti-replay on:
 * certa's built-in store; libssl's default, single-use tickets through its
 * server session cache) and read whole before the handshake completes. */

#define EARLY_BYTES 1024
static uint8_t early_payload[EARLY_BYTES];

static double certa_0rtt_rate(bench_setup *b) {
    if (!b->certa_session && !(b->certa_session = malloc(CERTA_SESSION_MAX))) die("malloc");
    uint8_t *session = b->certa_session;
    size_t session_len = b->certa_session_len;
    long n = 0;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            certa_conn *cli = session_len ? certa_client_new_resume(b->certa_cli, "localhost",
                                                                    session, session_len)
                                          : certa_client_new(b->certa_cli, "localhost");
            certa_conn *srv = certa_server_new(b->certa_srv);
            if (!cli || !srv) die("certa 0-RTT: no memory");
            if (session_len &&
                certa_conn_write_early(cli, early_payload, sizeof early_payload) != CERTA_OK)
                die("certa_conn_write_early");
            size_t early = 0;
            if (!certa_pair_0rtt(cli, srv, &early)) die("certa 0-RTT handshake");
            certa_info info;
            certa_conn_info(srv, &info);
            if (session_len && (!info.resumed || !info.early_data_accepted || early != EARLY_BYTES))
                die("certa did not accept the early data");
            if (certa_conn_session(cli, session, CERTA_SESSION_MAX, &session_len) != 0)
                die("certa: no session ticket");
            certa_conn_free(cli);
            certa_conn_free(srv);
        }
        t = now_seconds();
    } while (t - t0 < secs);
    b->certa_session_len = session_len;
    return (double)n / (t - t0);
}

/* libssl's server reads its early data with SSL_read_early_data until it
 * finishes; the client's SSL_do_handshake in between answers the server's
 * flight (EndOfEarlyData, Finished). */
static bool ossl_read_all_early(ossl_pair *p, size_t *early) {
    uint8_t buf[4096];
    *early = 0;
    for (int round = 0; round < 16; round++) {
        size_t got = 0;
        int r = SSL_read_early_data(p->srv, buf, sizeof buf, &got);
        if (r == SSL_READ_EARLY_DATA_FINISH) return true;
        if (r == SSL_READ_EARLY_DATA_SUCCESS) {
            *early += got;
            continue;
        }
        if (SSL_get_error(p->srv, 0) != SSL_ERROR_WANT_READ) return false;
        int rc = SSL_do_handshake(p->cli);
        if (rc != 1 && SSL_get_error(p->cli, rc) != SSL_ERROR_WANT_READ) return false;
    }
    return false;
}

static double ossl_0rtt_rate(bench_setup *b) {
    SSL_SESSION *session = b->ossl_session;
    long n = 0;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            ossl_pair p;
            if (ossl_pair_new(&p, b->ossl_cli, b->ossl_srv) != 0) die("libssl pair");
            if (session) {
                size_t written = 0, early = 0;
                if (SSL_set_session(p.cli, session) != 1 ||
                    SSL_write_early_data(p.cli, early_payload, sizeof early_payload, &written) !=
                        1 ||
                    written != EARLY_BYTES)
                    die("SSL_write_early_data");
                if (!ossl_read_all_early(&p, &early)) die("SSL_read_early_data");
                if (!ossl_pair_handshake(&p)) die("libssl 0-RTT handshake");
                if (!SSL_session_reused(p.cli) ||
                    SSL_get_early_data_status(p.srv) != SSL_EARLY_DATA_ACCEPTED ||
                    early != EARLY_BYTES)
                    die("libssl did not accept the early data");
            } else if (!ossl_pair_handshake(&p)) {
                die("libssl handshake");
            }
            uint8_t byte;
            SSL_read(p.cli, &byte, 1); /* takes in the NewSessionTicket */
            SSL_SESSION *next = SSL_get1_session(p.cli);
            if (!next) die("libssl: no session");
            SSL_SESSION_free(session);
            session = next;
            /* Freed without a shutdown, libssl marks the session not
             * resumable — on the server too, where anti-replay keeps it in
             * the cache (stateful tickets). */
            SSL_set_shutdown(p.cli, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
            SSL_set_shutdown(p.srv, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
            ossl_pair_free(&p);
        }
        t = now_seconds();
    } while (t - t0 < secs);
    b->ossl_session = session;
    return (double)n / (t - t0);
}

static void zero_rtt_setup(bench_setup *b) {
    case_setup(b, "p256", "x25519", NULL);
    bench_setup_resumption(b);
    memset(early_payload, 'e', sizeof early_payload);
    certa_config_set_max_early_data(b->certa_srv, 16384);
    certa_config_set_max_early_data(b->certa_cli, 16384);
    /* Records live 24 s: room for the rate this runs at (40 B each). */
    certa_config_set_replay_capacity(b->certa_srv, 1u << 19);
    SSL_CTX_set_max_early_data(b->ossl_srv, 16384);
    if (SSL_CTX_get_options(b->ossl_srv) & SSL_OP_NO_ANTI_REPLAY) die("libssl anti-replay is off");
}

static void zero_rtt_case(const char *name) {
    bench_setup b;
    zero_rtt_setup(&b);

    const char *cs, *os;
    check_version(&b, &cs, &os);
    double save = secs;
    secs = 0.1;
    certa_0rtt_rate(&b);
    ossl_0rtt_rate(&b);
    secs = save;
    double r[3];
    best_of(&b, certa_0rtt_rate, ossl_0rtt_rate, resumed_bound, NULL, r, NULL);
    double c = r[0], o = r[1], bound = r[2];
    printf("%s certa=%.0f openssl=%.0f ratio=%.2f bound=%.0f of_bound=%.1f%% "
           "openssl_of_bound=%.1f%%\n",
           name, c, o, c / o, bound, 100 * c / bound, 100 * o / bound);
    fprintf(stderr,
            "  %s: resumed handshakes/s with %d bytes of 0-RTT early data accepted and read "
            "(PSK + x25519, certa %s, libssl %s; anti-replay on: certa's built-in store, "
            "libssl's single-use tickets in its session cache); bound = 2 keygen + 2 agreement\n",
            name, EARLY_BYTES, cs, os);
    fflush(stdout);
    bench_setup_free(&b);
}

/* TLS 1.2 resumption (RFC 5077 abbreviated handshake) has no key exchange
 * and no signature: none of the bound's operations, so that case prints no
 * bound. */
/* ---- the post-quantum hybrid against certa's own x25519 ------------------ */
/* libssl 3.0 has no ML-KEM, so a hybrid line compares certa with itself:
 * the same handshake (P-256 certificate, TLS_AES_128_GCM_SHA256) with
 * X25519MLKEM768 as both sides run it by default (the client sends the
 * hybrid and an x25519 share, the server takes the hybrid) against x25519
 * alone, in alternating rounds. cost = x25519 rate / hybrid rate. */
static void hybrid_case(const char *name, bool resumed) {
    bench_setup pq, classic;
    case_setup(&pq, "p256", "x25519", NULL);
    case_setup(&classic, "p256", "x25519", NULL);
    if (certa_config_set_groups(pq.certa_srv, "X25519MLKEM768,x25519") ||
        certa_config_set_groups(pq.certa_cli, "X25519MLKEM768,x25519"))
        die("hybrid groups");
    if (resumed) {
        bench_setup_resumption(&pq);
        bench_setup_resumption(&classic);
    }
    rate_fn rate = resumed ? certa_resumed_rate : certa_handshake_rate;
    certa_conn *cli = certa_client_new(pq.certa_cli, "localhost");
    certa_conn *srv = certa_server_new(pq.certa_srv);
    certa_info info;
    if (!cli || !srv || !certa_pair_handshake(cli, srv) || certa_conn_info(cli, &info) != 0 ||
        info.group != CERTA_GROUP_X25519MLKEM768)
        die("the hybrid case did not negotiate X25519MLKEM768");
    certa_conn_free(cli);
    certa_conn_free(srv);
    double save = secs;
    secs = 0.1;
    rate(&pq);
    rate(&classic);
    secs = save;
    double best_pq = 0, best_classic = 0;
    secs = save / rounds;
    for (int r = 0; r < rounds; r++) {
        double a = rate(&pq), c = rate(&classic);
        if (a > best_pq) best_pq = a;
        if (c > best_classic) best_classic = c;
    }
    secs = save;
    printf("%s certa=%.0f certa_x25519=%.0f cost_vs_x25519=%.2f\n", name, best_pq, best_classic,
           best_classic / best_pq);
    fprintf(stderr,
            "  %s: %shandshakes/s, TLS 1.3, X25519MLKEM768 (client: hybrid + x25519 shares) vs "
            "x25519 alone, certa both; libssl 3.0 has no ML-KEM\n",
            name, resumed ? "resumed " : "");
    fflush(stdout);
    bench_setup_free(&pq);
    bench_setup_free(&classic);
}

static void resumed_case(const char *name, const char *kind, const char *group,
                         const char *suite12) {
    bench_setup b;
    case_setup(&b, kind, group, suite12);
    bench_setup_resumption(&b);
    const char *cs, *os;
    check_version(&b, &cs, &os);
    double save = secs;
    secs = 0.1;
    certa_resumed_rate(&b);
    ossl_resumed_rate(&b);
    secs = save;
    double r[3];
    best_of(&b, certa_resumed_rate, ossl_resumed_rate, b.tls12 ? NULL : resumed_bound, NULL, r,
            NULL);
    double c = r[0], o = r[1], bound = r[2];
    if (b.tls12) {
        printf("%s certa=%.0f openssl=%.0f ratio=%.2f\n", name, c, o, c / o);
        fprintf(stderr,
                "  %s: resumed handshakes/s (TLS 1.2 session ticket, abbreviated handshake, "
                "certa %s, libssl %s; the client offers the newest session it holds); no "
                "bound: no key exchange or signature\n",
                name, cs, os);
    } else {
        printf("%s certa=%.0f openssl=%.0f ratio=%.2f bound=%.0f of_bound=%.1f%% "
               "openssl_of_bound=%.1f%%\n",
               name, c, o, c / o, bound, 100 * c / bound, 100 * o / bound);
        fprintf(stderr,
                "  %s: resumed handshakes/s (PSK + %s, one ticket per handshake taken in by the "
                "client); bound = 2 keygen + 2 agreement\n",
                name, group);
    }
    fflush(stdout);
    bench_setup_free(&b);
}

/* ---- OCSP stapling: the staple check's cost ----------------------------- */
/* handshake_full authenticates the server by its pinned key, so a client
 * there has no issuer to check a staple against (it traces "not checked").
 * The OCSP case therefore has its own hierarchy: a CA (P-256) that issued
 * the server's leaf (P-256, "localhost") and signs its OCSP response
 * (responderID byKey, SHA-1 CertID, as CAs' responders answer); the client
 * trusts the CA. Three certa settings in alternating rounds, same suite and
 * group as handshake_full:
 *   full   handshake_full itself (pinned key)
 *   chain  the CA hierarchy, the server staples nothing ("OCSP staple: none")
 *   ocsp   the same, the server staples the response, the client validates it
 * chain -> ocsp is the staple (sent, parsed, its signature verified, CertID
 * and freshness checked); full -> chain is the path validation. */

typedef struct ocsp_bench {
    test_cert ca, leaf;
    certa_trust *trust;
    bench_setup full, chain, ocsp; /* chain and ocsp: certa configs only */
    uint8_t *resp;
    size_t resp_len;
} ocsp_bench;

/* A malloc'd PKCS#8 PEM of an EVP_PKEY (exits on failure). */
static char *key_pem(void *pkey) {
    BIO *b = BIO_new(BIO_s_mem());
    char *data, *out = NULL;
    long len = 0;
    if (b && PEM_write_bio_PrivateKey(b, pkey, NULL, NULL, 0, NULL, NULL))
        len = BIO_get_mem_data(b, &data);
    if (len > 0 && (out = malloc((size_t)len + 1)) != NULL) {
        memcpy(out, data, (size_t)len);
        out[len] = '\0';
    }
    BIO_free(b);
    if (!out) die("OCSP case: a key as PEM");
    return out;
}

static certa_config *ocsp_bench_config(bool server, const ocsp_bench *o) {
    certa_config *cfg = certa_config_new();
    if (!cfg || certa_config_set_ciphers(cfg, "TLS_AES_128_GCM_SHA256") ||
        certa_config_set_groups(cfg, "x25519"))
        die("OCSP case config");
    if (server) {
        char *key = key_pem(o->leaf.key);
        if (certa_config_set_cert_chain_pem(cfg, o->leaf.pem, strlen(o->leaf.pem)) ||
            certa_config_set_private_key_pem(cfg, key, strlen(key)))
            die(certa_config_error_text(cfg));
        free(key);
        certa_config_set_tickets(cfg, 0);
    } else {
        certa_config_set_trust(cfg, o->trust);
        certa_config_set_session_cache(cfg, 0);
    }
    return cfg;
}

/* A good OCSP response for the leaf, signed by the CA with certa's builder:
 * thisUpdate a minute ago, nextUpdate in a day. */
static void ocsp_bench_response(ocsp_bench *o) {
    x509_cert leaf, ca;
    if (x509_parse(&leaf, o->leaf.der, o->leaf.der_len) != 0 ||
        x509_parse(&ca, o->ca.der, o->ca.der_len) != 0)
        die("OCSP case: parse the certificates");
    char *pem = key_pem(o->ca.key);
    crypto_key *key = key_from_pem(pem, strlen(pem));
    free(pem);
    if (!key) die("OCSP case: CA key as a certa key");
    uint8_t name_hash[20], key_hash[20];
    if (hash_oneshot(HASH_SHA1, leaf.issuer.data, leaf.issuer.len, name_hash) != 0 ||
        ocsp_issuer_key_hash(&ca, HASH_SHA1, key_hash) != 0)
        die("OCSP case: CertID hashes");
    int64_t now = (int64_t)time(NULL);
    ocsp_build_single s = {.hash = HASH_SHA1,
                           .name_hash = name_hash,
                           .key_hash = key_hash,
                           .serial = leaf.serial.data,
                           .serial_len = leaf.serial.len,
                           .status = OCSP_GOOD,
                           .reason = -1,
                           .this_update = now - 60,
                           .next_update = now + 86400};
    builder b;
    bld_init_alloc(&b, 1024);
    if (ocsp_build_response(&b, &ca, key, &s, 1, now - 60, NULL, NULL, 0, NULL, 0) != 0 ||
        !bld_ok(&b) || !(o->resp = malloc(b.len)))
        die("OCSP case: build the response");
    memcpy(o->resp, b.buf, b.len);
    o->resp_len = b.len;
    bld_free(&b);
    key_free(key);
}

static void ocsp_bench_init(ocsp_bench *o) {
    memset(o, 0, sizeof *o);
    chain_opts ca = chain_ca_opts("certa bench CA");
    ca.self_signed = true;
    chain_opts leaf = chain_leaf_opts("localhost", "DNS:localhost");
    if (tc_make(&o->ca, &ca, NULL) != 0 || tc_make(&o->leaf, &leaf, &o->ca) != 0)
        die("OCSP case: certificates");
    if (!(o->trust = certa_trust_new()) ||
        certa_trust_add_pem(o->trust, o->ca.pem, strlen(o->ca.pem)) != 0)
        die("OCSP case: trust set");
    ocsp_bench_response(o);
    case_setup(&o->full, "p256", "x25519", NULL);
    o->chain.certa_srv = ocsp_bench_config(true, o);
    o->chain.certa_cli = ocsp_bench_config(false, o);
    o->ocsp.certa_srv = ocsp_bench_config(true, o);
    o->ocsp.certa_cli = ocsp_bench_config(false, o);
    if (certa_config_set_ocsp_response(o->ocsp.certa_srv, o->resp, o->resp_len) != 0)
        die(certa_config_error_text(o->ocsp.certa_srv));
}

static void ocsp_bench_free(ocsp_bench *o) {
    bench_setup_free(&o->full);
    certa_config_free(o->chain.certa_srv);
    certa_config_free(o->chain.certa_cli);
    certa_config_free(o->ocsp.certa_srv);
    certa_config_free(o->ocsp.certa_cli);
    certa_trust_free(o->trust);
    tc_free(&o->leaf);
    tc_free(&o->ca);
    free(o->resp);
}

typedef struct trace_buf {
    char text[8192];
    size_t len;
} trace_buf;

static void trace_collect(void *arg, const char *line) {
    trace_buf *t = arg;
    int n = snprintf(t->text + t->len, sizeof t->text - t->len, "%s\n", line);
    if (n > 0)
        t->len = t->len + (size_t)n < sizeof t->text ? t->len + (size_t)n : sizeof t->text - 1;
}

/* One traced handshake of setting b before it is timed: the client verified
 * the server's chain, and its trace says "OCSP staple: " followed by want. */
static void ocsp_bench_check(bench_setup *b, const char *what, const char *want) {
    certa_conn *cli = certa_client_new(b->certa_cli, "localhost");
    certa_conn *srv = certa_server_new(b->certa_srv);
    trace_buf t = {.len = 0};
    if (cli) certa_conn_set_trace(cli, trace_collect, &t);
    certa_peer_identity id;
    certa_info info;
    if (!cli || !srv || !certa_pair_handshake(cli, srv)) {
        fprintf(stderr, "bench_speed: %s handshake failed: %s / %s\n", what,
                cli ? certa_conn_error_text(cli) : "-", srv ? certa_conn_error_text(srv) : "-");
        exit(1);
    }
    if (certa_conn_info(cli, &info) != 0 || info.version != CERTA_TLS13 ||
        info.group != CERTA_GROUP_X25519 || certa_conn_peer_identity(cli, &id) != 0 || !id.verified)
        die("OCSP case: not a verified TLS 1.3 x25519 handshake");
    const char *line = strstr(t.text, "OCSP staple: ");
    if (!line || strncmp(line + 13, want, strlen(want)) != 0 ||
        (!strcmp(want, "'") && !strstr(line, " is good, per ")) ||
        *certa_conn_revocation_note(cli)) {
        fprintf(stderr, "bench_speed: %s: the client's trace does not say the staple was %s:\n%s",
                what, !strcmp(want, "'") ? "checked and good" : "absent", t.text);
        exit(1);
    }
    const char *end = strchr(line, '\n');
    fprintf(stderr, "  %s: client trace: %.*s\n", what, end ? (int)(end - line) : (int)strlen(line),
            line);
    certa_conn_free(cli);
    certa_conn_free(srv);
}

/* Seconds per ocsp_check_cached of the case's response, with no cache
 * (what the first handshake to meet a staple pays: a P-256 verification)
 * or a warm one (what each handshake after it pays). */
static double ocsp_check_seconds(const ocsp_bench *o, bool warm) {
    x509_cert leaf, ca;
    if (x509_parse(&leaf, o->leaf.der, o->leaf.der_len) != 0 ||
        x509_parse(&ca, o->ca.der, o->ca.der_len) != 0)
        die("OCSP case: parse the certificates");
    ocsp_sig_cache cache;
    ocsp_sig_cache_init(&cache);
    ocsp_result res;
    int64_t now = (int64_t)time(NULL);
    if (warm && ocsp_check_cached(o->resp, o->resp_len, &leaf, &ca, now, &cache, &res) != OCSP_OK)
        die("OCSP case: the response is not good");
    double best = 0;
    for (int r = 0; r < rounds; r++) {
        long n = 0;
        double t0 = now_seconds(), t;
        do {
            for (int i = 0; i < 16; i++, n++)
                if (ocsp_check_cached(o->resp, o->resp_len, &leaf, &ca, now, warm ? &cache : NULL,
                                      &res) != OCSP_OK)
                    die("OCSP case: the response is not good");
            t = now_seconds();
        } while (t - t0 < 0.05);
        double per = (t - t0) / (double)n;
        if (best == 0 || per < best) best = per;
    }
    ocsp_sig_cache_destroy(&cache);
    return best;
}

/* Handshake rates of n settings, measured in alternating rounds (a warm-up
 * first), the best round of each kept: a burst of load on the machine costs
 * one round of each, not the comparison. */
static void best_alternating(bench_setup **set, int n, double *best) {
    double save = secs;
    secs = 0.1;
    for (int i = 0; i < n; i++) {
        certa_handshake_rate(set[i]);
        best[i] = 0;
    }
    secs = save / rounds;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n; i++) {
            double v = certa_handshake_rate(set[i]);
            if (v > best[i]) best[i] = v;
        }
    secs = save;
}

static void ocsp_case(const char *name) {
    ocsp_bench o;
    ocsp_bench_init(&o);
    ocsp_bench_check(&o.chain, "chain (no staple)", "none");
    ocsp_bench_check(&o.ocsp, "ocsp", "'");
    bench_setup *set[3] = {&o.full, &o.chain, &o.ocsp};
    double best[3];
    best_alternating(set, 3, best);
    double full = best[0], chain = best[1], ocsp = best[2];
    /* The staple's own time (ocsp - chain, per handshake) as a share of
     * handshake_full's. */
    double staple = (1 / ocsp - 1 / chain) * full;
    /* The first handshake to meet a staple verifies its signature: that
     * handshake's staple time, estimated as the above plus the difference
     * between an uncached and a cached ocsp_check. */
    double cold = ocsp_check_seconds(&o, false), warm = ocsp_check_seconds(&o, true);
    double first = staple + (cold - warm) * full;
    printf("%s certa=%.0f handshake_full=%.0f handshake_full_chain=%.0f cost_vs_full=%.2f "
           "cost_vs_chain=%.3f staple_of_full=%.1f%% first_staple_of_full=%.1f%%\n",
           name, ocsp, full, chain, full / ocsp, chain / ocsp, 100 * staple, 100 * first);
    fprintf(stderr,
            "  %s: handshakes/s, TLS 1.3, x25519, P-256 leaf; certa only (best of %d "
            "alternating rounds): full = handshake_full (pinned key), chain = leaf issued by a "
            "trusted P-256 CA, nothing stapled, ocsp = the same with a %zu-byte OCSP response "
            "stapled and validated (CA-signed, byKey, SHA-1 CertID); cost_vs_full = "
            "handshake_full/ocsp rate, cost_vs_chain = chain/ocsp rate, staple_of_full = "
            "(1/ocsp - 1/chain) * full (the staple's time per handshake, limit 10%%); "
            "ocsp_check %.1f us uncached, %.1f us with its signature cached: "
            "first_staple_of_full adds the difference (the first handshake to meet a staple "
            "verifies its signature; the next ones until it is refreshed do not)\n",
            name, rounds, o.resp_len, cold * 1e6, warm * 1e6);
    fflush(stdout);
    ocsp_bench_free(&o);
}

/* For profilers: n handshakes of the OCSP case (staple validated), or of
 * its chain setting without a staple (ocsp false). */
static void profile_ocsp(int n, bool ocsp) {
    ocsp_bench o;
    ocsp_bench_init(&o);
    bench_setup *b = ocsp ? &o.ocsp : &o.chain;
    ocsp_bench_check(b, ocsp ? "ocsp" : "chain (no staple)", ocsp ? "'" : "none");
    for (int i = 0; i < n; i++) {
        certa_conn *cli = certa_client_new(b->certa_cli, "localhost");
        certa_conn *srv = certa_server_new(b->certa_srv);
        if (!certa_pair_handshake(cli, srv)) die("certa handshake");
        certa_conn_free(cli);
        certa_conn_free(srv);
    }
    ocsp_bench_free(&o);
}

/* ---- CRLs ---------------------------------------------------------------- */

#define CRL_ENTRIES 10000

/* A CRL of the OCSP case's CA listing CRL_ENTRIES serials, none the leaf's
 * (a big CA's CRL: every check is a miss, the costly case). */
static void crl_bench_build(const ocsp_bench *o, uint8_t **der, size_t *len) {
    x509_cert ca;
    if (x509_parse(&ca, o->ca.der, o->ca.der_len) != 0) die("CRL case: parse the CA");
    char *pem = key_pem(o->ca.key);
    crypto_key *key = key_from_pem(pem, strlen(pem));
    free(pem);
    uint8_t key_id[X509_MAX_KEY_ID];
    size_t key_id_len;
    if (!key || x509_cert_key_id(&ca, key_id, &key_id_len) != 0) die("CRL case: CA key");
    static uint8_t serials[CRL_ENTRIES][16];
    static x509_revoked list[CRL_ENTRIES];
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < CRL_ENTRIES; i++) {
        if (crypto_random(serials[i], sizeof serials[i]) != 0) die("CRL case: random");
        serials[i][0] = (uint8_t)(0x40 | (serials[i][0] & 0x3f)); /* 16 bytes, positive */
        list[i] = (x509_revoked){serials[i], sizeof serials[i], now - 3600, 1};
    }
    x509_crl_params p = {.issuer = ca.subject.data,
                         .issuer_len = ca.subject.len,
                         .issuer_key_id = key_id,
                         .issuer_key_id_len = key_id_len,
                         .this_update = now - 60,
                         .next_update = now + 86400,
                         .crl_number = 1,
                         .revoked = list,
                         .n_revoked = CRL_ENTRIES};
    if (x509_crl_build(&p, key, der, len) != 0) die("CRL case: build the CRL");
    key_free(key);
}

/* A full handshake whose client checks the server's chain against a CRL of
 * CRL_ENTRIES entries (handshake_full_crl), next to the same chain without
 * a CRL (handshake_full_chain): the CRL's cost per handshake. */
static void crl_case(const char *name) {
    ocsp_bench o;
    ocsp_bench_init(&o);
    uint8_t *crl;
    size_t crl_len;
    crl_bench_build(&o, &crl, &crl_len);
    bench_setup with;
    memset(&with, 0, sizeof with);
    with.certa_srv = ocsp_bench_config(true, &o);
    with.certa_cli = ocsp_bench_config(false, &o);
    if (certa_config_add_crl_der(with.certa_cli, crl, crl_len) != 0 ||
        certa_config_set_revocation(with.certa_cli, CERTA_REVOCATION_REQUIRE) != 0)
        die(certa_config_error_text(with.certa_cli));
    /* require: the handshake fails unless the CRL was found, checked and fresh */
    ocsp_bench_check(&with, "crl (require)", "none");
    bench_setup *set[3] = {&o.full, &o.chain, &with};
    double best[3];
    best_alternating(set, 3, best);
    double full = best[0], chain = best[1], rate = best[2];
    printf("%s certa=%.0f handshake_full=%.0f handshake_full_chain=%.0f cost_vs_chain=%.3f "
           "crl_of_full=%.1f%%\n",
           name, rate, full, chain, chain / rate, 100 * (1 / rate - 1 / chain) * full);
    fprintf(stderr,
            "  %s: handshakes/s, TLS 1.3, x25519, P-256 leaf from a trusted P-256 CA; the "
            "client checks the chain against a %zu-byte CRL of %d entries (revocation "
            "require); crl_of_full = (1/crl - 1/chain) * handshake_full: the CRL's time per "
            "handshake as a share of a pinned full handshake\n",
            name, crl_len, CRL_ENTRIES);
    fflush(stdout);
    certa_config_free(with.certa_srv);
    certa_config_free(with.certa_cli);
    free(crl);
    ocsp_bench_free(&o);
}

/* ---- bulk data ----------------------------------------------------------- */

#define CHUNK 16384

static double certa_bulk_rate(bench_setup *b) {
    certa_conn *cli = certa_client_new(b->certa_cli, "localhost");
    certa_conn *srv = certa_server_new(b->certa_srv);
    if (!certa_pair_handshake(cli, srv)) die("certa handshake");
    static uint8_t data[CHUNK], sink[CHUNK];
    memset(data, 'x', sizeof data);
    long n = 0;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            if (certa_conn_write(cli, data, CHUNK) != CERTA_OK) die("certa write");
            size_t got = 0;
            const uint8_t *p;
            size_t len = certa_conn_outgoing(cli, &p), off = 0;
            while (off < len) {
                size_t used = 0;
                if (certa_conn_recv(srv, p + off, len - off, &used) != CERTA_OK) die("certa recv");
                off += used;
                got += certa_conn_read(srv, sink, sizeof sink);
            }
            certa_conn_outgoing_done(cli, len);
            got += certa_conn_read(srv, sink, sizeof sink);
            if (got != CHUNK) die("certa short read");
        }
        t = now_seconds();
    } while (t - t0 < secs);
    certa_conn_free(cli);
    certa_conn_free(srv);
    return (double)n * CHUNK / (t - t0) / 1e6;
}

static double ossl_bulk_rate(bench_setup *b) {
    ossl_pair p;
    if (ossl_pair_new(&p, b->ossl_cli, b->ossl_srv) != 0 || !ossl_pair_handshake(&p))
        die("libssl handshake");
    static uint8_t data[CHUNK], sink[CHUNK];
    memset(data, 'x', sizeof data);
    long n = 0;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            if (SSL_write(p.cli, data, CHUNK) != CHUNK) die("SSL_write");
            int got = 0;
            while (got < CHUNK) {
                int r = SSL_read(p.srv, sink, sizeof sink);
                if (r <= 0) die("SSL_read");
                got += r;
            }
        }
        t = now_seconds();
    } while (t - t0 < secs);
    ossl_pair_free(&p);
    return (double)n * CHUNK / (t - t0) / 1e6;
}

/* Raw EVP AEAD: seal then open one 16 KiB record (16384 bytes + the inner
 * content type byte, 5-byte AAD), keyed once, one nonce per record. */
static double aead_bound(const char *cipher_name) {
    EVP_CIPHER *cipher = EVP_CIPHER_fetch(NULL, cipher_name, NULL);
    EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
    static uint8_t key[32], iv[12], aad[5] = {23, 3, 3, 0x40, 0x11};
    static uint8_t buf[CHUNK + 1 + 16];
    if (!cipher || !enc || !dec || EVP_EncryptInit_ex(enc, cipher, NULL, key, iv) != 1 ||
        EVP_DecryptInit_ex(dec, cipher, NULL, key, iv) != 1)
        die("aead init");
    long n = 0;
    int outl;
    double t0 = now_seconds(), t;
    do {
        for (int i = 0; i < 16; i++, n++) {
            iv[11] = (uint8_t)n;
            if (EVP_EncryptInit_ex(enc, NULL, NULL, NULL, iv) != 1 ||
                EVP_EncryptUpdate(enc, NULL, &outl, aad, 5) != 1 ||
                EVP_EncryptUpdate(enc, buf, &outl, buf, CHUNK + 1) != 1 ||
                EVP_EncryptFinal_ex(enc, buf + outl, &outl) != 1 ||
                EVP_CIPHER_CTX_ctrl(enc, EVP_CTRL_AEAD_GET_TAG, 16, buf + CHUNK + 1) != 1)
                die("seal");
            if (EVP_DecryptInit_ex(dec, NULL, NULL, NULL, iv) != 1 ||
                EVP_DecryptUpdate(dec, NULL, &outl, aad, 5) != 1 ||
                EVP_DecryptUpdate(dec, buf, &outl, buf, CHUNK + 1) != 1 ||
                EVP_CIPHER_CTX_ctrl(dec, EVP_CTRL_AEAD_SET_TAG, 16, buf + CHUNK + 1) != 1 ||
                EVP_DecryptFinal_ex(dec, buf + outl, &outl) != 1)
                die("open");
        }
        t = now_seconds();
    } while (t - t0 < secs);
    EVP_CIPHER_CTX_free(enc);
    EVP_CIPHER_CTX_free(dec);
    EVP_CIPHER_free(cipher);
    return (double)n * CHUNK / (t - t0) / 1e6;
}

static double bulk_bound(bench_setup *b, const void *evp_name, double *parts) {
    (void)b;
    (void)parts;
    return aead_bound(evp_name);
}

static void bulk_case(const char *name, const char *suite, const char *evp_name) {
    bench_setup b;
    if (bench_setup_init(&b, "p256", "x25519", suite) != 0) die("setup");
    double save = secs;
    secs = 0.1;
    certa_bulk_rate(&b);
    ossl_bulk_rate(&b);
    aead_bound(evp_name);
    secs = save;
    double r[3];
    best_of(&b, certa_bulk_rate, ossl_bulk_rate, bulk_bound, evp_name, r, NULL);
    double c = r[0], o = r[1], bound = r[2];
    printf("%s certa=%.0f openssl=%.0f ratio=%.2f bound=%.0f of_bound=%.1f%% "
           "openssl_of_bound=%.1f%%\n",
           name, c, o, c / o, bound, 100 * c / bound, 100 * o / bound);
    fprintf(stderr,
            "  %s: MB/s (10^6 bytes) of application data, 16 KiB writes, one direction, "
            "sender and receiver in one thread; bound = EVP seal+open of the same records\n",
            name);
    fflush(stdout);
    bench_setup_free(&b);
}

/* For profilers: a fixed number of handshakes of one library. */
/* ---- the server's key on a PKCS#11 token --------------------------------- */
/* handshake_full with the server's P-256 key imported into a SoftHSM token
 * made for the run (SOFTHSM2_CONF in a temporary directory; softhsm2-util
 * and pkcs11-tool do the setup) and used through certa_config_set_private_
 * key_uri, next to handshake_full itself (the same key from PEM), in
 * alternating rounds. The difference is the engine and module: every
 * CertificateVerify goes through libp11's ECDSA method to C_Sign. */
#define SOFTHSM_MODULE "/usr/lib/softhsm/libsofthsm2.so"

/* Runs a shell command quietly; false if it failed. */
static bool quiet(const char *cmd, const char *dir) {
    char line[2048];
    snprintf(line, sizeof line, "cd '%s' && { %s; } >>setup.log 2>&1", dir, cmd);
    return system(line) == 0;
}

static void pkcs11_case(const char *name) {
    char dir[] = "/tmp/certa-bench-pkcs11.XXXXXX";
    if (access(SOFTHSM_MODULE, R_OK) != 0 || system("command -v softhsm2-util pkcs11-tool "
                                                    ">/dev/null 2>&1") != 0) {
        fprintf(stderr, "  %s: not measured: needs softhsm2 and opensc (pkcs11-tool)\n", name);
        return;
    }
    if (!mkdtemp(dir)) die("pkcs11 case: mkdtemp");
    bench_setup full, token;
    case_setup(&full, "p256", "x25519", NULL);
    case_setup(&token, "p256", "x25519", NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/softhsm2.conf", dir);
    FILE *f = fopen(path, "w");
    if (!f) die("pkcs11 case: softhsm2.conf");
    fprintf(f, "directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", dir);
    fclose(f);
    setenv("SOFTHSM2_CONF", path, 1);
    snprintf(path, sizeof path, "%s/key.pem", dir);
    if (!(f = fopen(path, "w")) || fputs(token.key_pem, f) < 0 || fclose(f) != 0)
        die("pkcs11 case: key.pem");
    bool ok =
        quiet("softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 5678", dir) &&
        quiet("openssl pkcs8 -topk8 -nocrypt -in key.pem -outform DER -out key.p8 && "
              "openssl pkey -in key.pem -pubout -outform DER -out key.pub && rm key.pem",
              dir) &&
        quiet("pkcs11-tool --module " SOFTHSM_MODULE " --login --pin 1234 --write-object key.p8 "
              "--type privkey --id 01 --label server && pkcs11-tool --module " SOFTHSM_MODULE
              " --login --pin 1234 --write-object key.pub --type pubkey --id 01 --label server",
              dir);
    if (!ok) die("pkcs11 case: token setup (see setup.log in the kept directory)");
    certa_config *srv = certa_config_new();
    if (!srv || certa_config_set_cert_chain_pem(srv, token.cert_pem, strlen(token.cert_pem)) ||
        certa_config_set_private_key_uri(
            srv,
            "pkcs11:token=bench;object=server?module-path=" SOFTHSM_MODULE "&pin-value=1234") ||
        certa_config_set_ciphers(srv, token.suite) || certa_config_set_groups(srv, token.group))
        die(srv ? certa_config_error_text(srv) : "pkcs11 case: config");
    certa_config_set_tickets(srv, 0);
    certa_config_free(token.certa_srv);
    token.certa_srv = srv;
    const char *cs, *os;
    check_version(&token, &cs, &os);
    bench_setup *set[2] = {&full, &token};
    double best[2];
    best_alternating(set, 2, best);
    printf("%s certa=%.0f handshake_full=%.0f cost_vs_full=%.2f\n", name, best[1], best[0],
           best[0] / best[1]);
    fprintf(stderr,
            "  %s: handshakes/s, TLS 1.3, x25519, %s, P-256 server key in a SoftHSM token "
            "(libp11 engine, CertificateVerify by C_Sign) vs the same key from PEM "
            "(handshake_full), certa only, best of %d alternating rounds; cost_vs_full = "
            "handshake_full rate / token rate\n",
            name, cs, rounds);
    fflush(stdout);
    bench_setup_free(&full);
    bench_setup_free(&token);
    char rm[600];
    snprintf(rm, sizeof rm, "rm -rf '%s'", dir);
    if (system(rm) != 0) fprintf(stderr, "  %s: could not remove %s\n", name, dir);
}

/* handshake_full with Encrypted Client Hello accepted (X25519 HPKE,
 * HKDF-SHA256, AES-128-GCM): the client seals its inner hello, the server
 * opens it; certa only (libssl has no ECH), alternating with handshake_full. */
/* ech: a handshake_full setup (p256, x25519) whose configs have one X25519
 * ECH key (server) and its ECHConfigList (client). */
static void ech_setup(bench_setup *ech) {
    case_setup(ech, "p256", "x25519", NULL);
    uint8_t sk[32], pk[32], config[256], list[258];
    ech_suite suite = {HPKE_KDF_HKDF_SHA256, HPKE_AEAD_AES_128_GCM};
    builder b;
    bld_init_fixed(&b, config, sizeof config);
    if (hpke_generate_keypair(HPKE_KEM_X25519_HKDF_SHA256, sk, pk) != 0 ||
        ech_config_build(&b, 1, HPKE_KEM_X25519_HKDF_SHA256, pk, 32, &suite, 1, 32,
                         "public.example") != 0)
        die("ech case: key");
    size_t config_len = b.len;
    bld_init_fixed(&b, list, sizeof list);
    bld_open(&b, 2);
    bld_bytes(&b, config, config_len);
    bld_close(&b);
    if (certa_config_add_ech_key(ech->certa_srv, sk, 32, config, config_len, true) != 0 ||
        certa_config_set_ech_config_list(ech->certa_cli, list, b.len) != 0)
        die("ech case: config");
}

static void ech_case(const char *name) {
    bench_setup full, ech;
    case_setup(&full, "p256", "x25519", NULL);
    ech_setup(&ech);
    const char *cs, *os;
    check_version(&ech, &cs, &os);
    certa_conn *cli = certa_client_new(ech.certa_cli, "localhost");
    certa_conn *srv = certa_server_new(ech.certa_srv);
    if (!certa_pair_handshake(cli, srv) || certa_conn_ech_status(cli) != CERTA_ECH_ACCEPTED)
        die("ech case: ECH not accepted");
    certa_conn_free(cli);
    certa_conn_free(srv);
    bench_setup *set[2] = {&full, &ech};
    double best[2];
    best_alternating(set, 2, best);
    printf("%s certa=%.0f handshake_full=%.0f cost_vs_full=%.2f\n", name, best[1], best[0],
           best[0] / best[1]);
    fprintf(stderr,
            "  %s: handshakes/s, TLS 1.3, x25519, %s, ECH accepted (HPKE X25519 / HKDF-SHA256 / "
            "AES-128-GCM, the inner hello's key share referenced) vs handshake_full, certa only "
            "(libssl 3.0 has no ECH), best of %d alternating rounds; cost_vs_full = "
            "handshake_full rate / ECH rate\n",
            name, cs, rounds);
    fflush(stdout);
    bench_setup_free(&full);
    bench_setup_free(&ech);
}

static void profile_handshakes(const char *lib, int n, const char *kind, const char *group,
                               const char *suite12, bool with_ech) {
    bench_setup b;
    if (with_ech)
        ech_setup(&b);
    else
        case_setup(&b, kind, group, suite12);
    for (int i = 0; i < n; i++) {
        if (!strcmp(lib, "certa")) {
            certa_conn *cli = certa_client_new(b.certa_cli, "localhost");
            certa_conn *srv = certa_server_new(b.certa_srv);
            if (!certa_pair_handshake(cli, srv)) die("certa handshake");
            certa_conn_free(cli);
            certa_conn_free(srv);
        } else {
            ossl_pair p;
            if (ossl_pair_new(&p, b.ossl_cli, b.ossl_srv) != 0 || !ossl_pair_handshake(&p))
                die("libssl handshake");
            ossl_pair_free(&p);
        }
    }
    bench_setup_free(&b);
}

int main(int argc, char **argv) {
    secs = bench_seconds(2);
    const char *env_rounds = getenv("BENCH_ROUNDS");
    rounds = env_rounds && atoi(env_rounds) > 0 ? atoi(env_rounds) : 5;
    const char *what = argc > 1 ? argv[1] : "all";
    /* TLS 1.2 variants: profile12, profile-resumed12. */
    bool p12 = !strcmp(what, "profile12") || !strcmp(what, "profile-resumed12");
    const char *suite12 = p12 ? TLS12_SUITE : NULL;
    if (!strcmp(what, "profile-resumed") || !strcmp(what, "profile-resumed12")) {
        /* profile-resumed[12] certa|openssl N */
        if (argc < 4) die("usage: bench_speed profile-resumed[12] certa|openssl N");
        bench_setup b;
        case_setup(&b, "p256", "x25519", suite12);
        bench_setup_resumption(&b);
        secs = 0;
        for (int i = 0; i < atoi(argv[3]); i++) /* 16 resumed handshakes each */
            !strcmp(argv[2], "certa") ? certa_resumed_rate(&b) : ossl_resumed_rate(&b);
        bench_setup_free(&b);
        return 0;
    }
    if (!strcmp(what, "profile-0rtt")) { /* profile-0rtt certa|openssl N: for perf */
        if (argc < 4) die("usage: bench_speed profile-0rtt certa|openssl N");
        bench_setup b;
        zero_rtt_setup(&b);
        secs = 0;
        for (int i = 0; i < atoi(argv[3]); i++) /* 16 0-RTT handshakes each */
            !strcmp(argv[2], "certa") ? certa_0rtt_rate(&b) : ossl_0rtt_rate(&b);
        bench_setup_free(&b);
        return 0;
    }
    if (!strcmp(what, "profile") || !strcmp(what, "profile12")) {
        /* profile[12] certa|openssl N [kind group] */
        if (argc < 4) die("usage: bench_speed profile[12] certa|openssl N [p256|rsa2048 group]");
        profile_handshakes(argv[2], atoi(argv[3]), argc > 4 ? argv[4] : "p256",
                           argc > 5 ? argv[5] : "x25519", suite12, false);
        return 0;
    }
    if (!strcmp(what, "profile-ech")) { /* profile-ech N: handshake_full_ech, for callgrind */
        if (argc < 3) die("usage: bench_speed profile-ech N");
        profile_handshakes("certa", atoi(argv[2]), "p256", "x25519", NULL, true);
        return 0;
    }
    if (!strcmp(what, "profile-ocsp") || !strcmp(what, "profile-chain")) {
        /* profile-ocsp|profile-chain N: the OCSP case with / without its staple */
        if (argc < 3) die("usage: bench_speed profile-ocsp|profile-chain N");
        profile_ocsp(atoi(argv[2]), !strcmp(what, "profile-ocsp"));
        return 0;
    }
    bool all = !strcmp(what, "all");
    if (all || !strcmp(what, "handshake")) {
        handshake_case("handshake_full", "p256", "x25519", NULL);
        handshake_case("handshake_full_secp256r1", "p256", "secp256r1", NULL);
        handshake_case("handshake_full_rsa2048", "rsa2048", "x25519", NULL);
    }
    if (all || !strcmp(what, "handshake") || !strcmp(what, "pkcs11"))
        pkcs11_case("handshake_full_pkcs11");
    if (all || !strcmp(what, "handshake") || !strcmp(what, "ech")) ech_case("handshake_full_ech");
    if (all || !strcmp(what, "handshake") || !strcmp(what, "ocsp"))
        ocsp_case("handshake_full_ocsp");
    if (all || !strcmp(what, "handshake") || !strcmp(what, "crl")) crl_case("handshake_full_crl");
    if (all || !strcmp(what, "handshake") || !strcmp(what, "pq")) {
        hybrid_case("handshake_full_x25519mlkem768", false);
        hybrid_case("handshake_resumed_x25519mlkem768", true);
    }
    if (all || !strcmp(what, "handshake") || !strcmp(what, "groups")) {
        /* the opt-in groups (README "Key-exchange groups") */
        handshake_case("handshake_full_p521", "p256", "secp521r1", NULL);
        handshake_case("handshake_full_x448", "p256", "x448", NULL);
        handshake_case("handshake_full_ffdhe2048", "p256", "ffdhe2048", NULL);
    }
    if (all || !strcmp(what, "handshake") || !strcmp(what, "resumed"))
        resumed_case("handshake_resumed", "p256", "x25519", NULL);
    if (all || !strcmp(what, "handshake") || !strcmp(what, "resumed") || !strcmp(what, "0rtt"))
        zero_rtt_case("handshake_0rtt");
    if (all || !strcmp(what, "handshake") || !strcmp(what, "tls12"))
        handshake_case("handshake_full_tls12", "p256", "x25519", TLS12_SUITE);
    if (all || !strcmp(what, "handshake") || !strcmp(what, "resumed") || !strcmp(what, "tls12"))
        resumed_case("handshake_resumed_tls12", "p256", "x25519", TLS12_SUITE);
    if (all || !strcmp(what, "bulk")) {
        bulk_case("bulk_16k_aes128gcm", "TLS_AES_128_GCM_SHA256", "AES-128-GCM");
        bulk_case("bulk_16k_chacha20poly1305", "TLS_CHACHA20_POLY1305_SHA256", "ChaCha20-Poly1305");
    }
    return 0;
}
