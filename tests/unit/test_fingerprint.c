/* JA4, JA4_r and JA3 of ClientHellos: every row of
 * ../shared/testdata/ja4/vectors.tsv (FoxIO's reference values, tshark's JA3;
 * $CERTA_JA4_TESTDATA overrides the directory), the corner cases JA4.md spells
 * out (no ALPN, non-alphanumeric ALPN, no signature algorithms, nothing but
 * GREASE), malformed hellos refused, and the server's kept fingerprints of
 * both ClientHellos of a HelloRetryRequest handshake. */
#include "certa.h"
#include "lib_certs.h"
#include "lib_pair.h"
#include "testlib.h"

#include <stdbool.h>

/* ---- the vectors file ---- */

static size_t unhex_into(const char *hex, size_t hex_len, uint8_t *out) {
    size_t n = 0;
    for (size_t i = 0; i + 1 < hex_len; i += 2) {
        unsigned v;
        if (sscanf(hex + i, "%2x", &v) != 1) break;
        out[n++] = (uint8_t)v;
    }
    return n;
}

static int vector_rows(void) {
    const char *dir = getenv("CERTA_JA4_TESTDATA");
    char path[512];
    snprintf(path, sizeof path, "%s/vectors.tsv", dir ? dir : "../shared/testdata/ja4");
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        CHECK(0, "JA4 vectors at %s (set CERTA_JA4_TESTDATA)", path);
        return 0;
    }
    static char line[65536];
    int rows = 0;
    bool header = true;
    while (fgets(line, sizeof line, f)) {
        if (header) {
            header = false;
            continue;
        }
        line[strcspn(line, "\r\n")] = '\0';
        char *col[7];
        int n = 0;
        for (char *p = line; n < 7; n++) {
            col[n] = p;
            char *tab = strchr(p, '\t');
            if (tab == NULL) {
                n++;
                break;
            }
            *tab = '\0';
            p = tab + 1;
        }
        if (n != 7) continue;
        static uint8_t msg[32768];
        size_t len = unhex_into(col[2], strlen(col[2]), msg);
        certa_fingerprint fp;
        int rc = certa_fingerprint_client_hello(msg, len, &fp);
        CHECK(rc == CERTA_OK && strcmp(fp.ja4, col[3]) == 0, "%s: JA4 %s (want %s)", col[0], fp.ja4,
              col[3]);
        CHECK(rc == CERTA_OK && strcmp(fp.ja4_r, col[4]) == 0, "%s: JA4_r", col[0]);
        CHECK(rc == CERTA_OK && strcmp(fp.ja3, col[6]) == 0, "%s: JA3 string %s", col[0], fp.ja3);
        CHECK(rc == CERTA_OK && strcmp(fp.ja3_md5, col[5]) == 0, "%s: JA3 %s (want %s)", col[0],
              fp.ja3_md5, col[5]);
        CHECK(!fp.truncated, "%s: raw strings whole", col[0]);
        rows++;
    }
    fclose(f);
    return rows;
}

/* ---- hand-built ClientHellos for the corner cases ---- */

typedef struct hello {
    uint8_t b[4096];
    size_t n;
} hello;

static void put8(hello *h, unsigned v) {
    h->b[h->n++] = (uint8_t)v;
}
static void put16(hello *h, unsigned v) {
    put8(h, v >> 8);
    put8(h, v & 0xff);
}

/* A ClientHello with the given suites and extensions (each extension:
 * type, then its body bytes). */
typedef struct ext {
    unsigned type;
    const uint8_t *body;
    size_t len;
} ext;

static hello make_hello(unsigned version, const unsigned *suites, size_t n_suites, const ext *exts,
                        size_t n_exts) {
    hello h = {.n = 0};
    put8(&h, 1);
    put8(&h, 0), put16(&h, 0); /* length, filled below */
    put16(&h, version);
    for (int i = 0; i < 32; i++)
        put8(&h, i);
    put8(&h, 0); /* session id */
    put16(&h, (unsigned)(2 * n_suites));
    for (size_t i = 0; i < n_suites; i++)
        put16(&h, suites[i]);
    put8(&h, 1), put8(&h, 0); /* null compression */
    if (n_exts > 0) {
        size_t at = h.n;
        put16(&h, 0);
        for (size_t i = 0; i < n_exts; i++) {
            put16(&h, exts[i].type);
            put16(&h, (unsigned)exts[i].len);
            memcpy(h.b + h.n, exts[i].body, exts[i].len);
            h.n += exts[i].len;
        }
        h.b[at] = (uint8_t)((h.n - at - 2) >> 8);
        h.b[at + 1] = (uint8_t)(h.n - at - 2);
    }
    size_t body = h.n - 4;
    h.b[1] = (uint8_t)(body >> 16), h.b[2] = (uint8_t)(body >> 8), h.b[3] = (uint8_t)body;
    return h;
}

static void corner_cases(void) {
    certa_fingerprint fp;
    static const unsigned suites[] = {0x1301, 0x0a0a, 0x1302};
    static const uint8_t alpn_h2[] = {0, 3, 2, 'h', '2'};
    static const uint8_t alpn_bin[] = {0, 3, 2, 0x30, 0xab};
    static const uint8_t alpn_one[] = {0, 2, 1, 'x'};
    static const uint8_t alpn_empty_first[] = {0, 4, 0, 2, 'h', '2'};
    static const uint8_t sni[] = {0, 6, 0, 0, 3, 'a', '.', 'b'};
    static const uint8_t versions[] = {4, 0x3a, 0x3a, 0x03, 0x04};
    static const uint8_t sigs[] = {0, 4, 0x08, 0x04, 0x04, 0x03};
    static const uint8_t empty[1] = {0};

    /* No ALPN, no SNI, no signature algorithms: "00", "i", JA4_c without
     * the "_" part; GREASE (suite 0x0a0a, version 0x3a3a) left out. */
    ext e1[] = {{0x002b, versions, sizeof versions}, {0x0017, empty, 0}};
    hello h = make_hello(0x0303, suites, 3, e1, 2);
    CHECK(certa_fingerprint_client_hello(h.b, h.n, &fp) == CERTA_OK &&
              strncmp(fp.ja4, "t13i020200_", 11) == 0,
          "no SNI, no ALPN, GREASE suite and version ignored: %s", fp.ja4);
    CHECK(strcmp(fp.ja4_r, "t13i020200_1301,1302_0017,002b") == 0,
          "JA4_r without signature algorithms has no third '_': %s", fp.ja4_r);
    CHECK(strcmp(fp.ja3, "771,4865-4866,43-23,,") == 0, "JA3 with empty groups and formats: %s",
          fp.ja3);

    ext e2[] = {{0x0000, sni, sizeof sni}, {0x0010, alpn_h2, sizeof alpn_h2}};
    h = make_hello(0x0303, suites, 3, e2, 2);
    CHECK(certa_fingerprint_client_hello(h.b, h.n, &fp) == CERTA_OK &&
              strncmp(fp.ja4, "t12d0202h2_", 11) == 0 && strcmp(fp.ja4 + 24, "000000000000") == 0,
          "only SNI and ALPN: JA4_c is twelve zeros (%s)", fp.ja4);

    ext e3[] = {{0x0010, alpn_bin, sizeof alpn_bin}, {0x000d, sigs, sizeof sigs}};
    h = make_hello(0x0303, suites, 3, e3, 2);
    CHECK(certa_fingerprint_client_hello(h.b, h.n, &fp) == CERTA_OK &&
              strncmp(fp.ja4, "t12i02023b_", 11) == 0,
          "ALPN 0x30 0xab: the hex form's first and last digit, \"3b\" (%s)", fp.ja4);
    CHECK(strcmp(fp.ja4_r, "t12i02023b_1301,1302_000d_0804,0403") == 0,
          "signature algorithms in the order sent: %s", fp.ja4_r);
    CHECK(strcmp(fp.alpn, "0?") == 0 && fp.server_name[0] == '\0',
          "a non-printable ALPN byte shows as '?'; no SNI is \"\" (%s)", fp.alpn);

    ext e4[] = {{0x0010, alpn_one, sizeof alpn_one}};
    h = make_hello(0x0301, suites, 3, e4, 1);
    CHECK(certa_fingerprint_client_hello(h.b, h.n, &fp) == CERTA_OK &&
              strncmp(fp.ja4, "t10i0201xx_", 11) == 0,
          "one-character ALPN is first and last; TLS 1.0 is \"10\" (%s)", fp.ja4);

    ext e5[] = {{0x0010, alpn_empty_first, sizeof alpn_empty_first}};
    h = make_hello(0x0300, suites, 3, e5, 1);
    CHECK(certa_fingerprint_client_hello(h.b, h.n, &fp) == CERTA_OK &&
              strncmp(fp.ja4, "ts3i020100_", 11) == 0,
          "an empty first ALPN value is \"00\"; SSL 3.0 is \"s3\" (%s)", fp.ja4);

    static const unsigned grease_only[] = {0x2a2a};
    h = make_hello(0x0303, grease_only, 1, NULL, 0);
    CHECK(certa_fingerprint_client_hello(h.b, h.n, &fp) == CERTA_OK &&
              strcmp(fp.ja4, "t12i000000_000000000000_000000000000") == 0,
          "nothing but GREASE and no extensions: %s", fp.ja4);

    /* Malformed: refused, the structure cleared. */
    h = make_hello(0x0303, suites, 3, e1, 2);
    CHECK(certa_fingerprint_client_hello(h.b, h.n - 1, &fp) == CERTA_E_DECODE && fp.ja4[0] == 0,
          "a truncated ClientHello is a decode error");
    h.b[0] = 2;
    CHECK(certa_fingerprint_client_hello(h.b, h.n, &fp) == CERTA_E_DECODE,
          "a ServerHello is not a ClientHello");
    CHECK(certa_fingerprint_client_hello(NULL, 0, &fp) == CERTA_E_INVALID_ARGUMENT,
          "NULL message refused");

    /* 1,000 suites: the raw strings are cut, the hashes are not. */
    static unsigned many[1000];
    for (unsigned i = 0; i < 1000; i++)
        many[i] = 0x1000 + i;
    static hello big;
    big = make_hello(0x0303, many, 1000, NULL, 0);
    CHECK(certa_fingerprint_client_hello(big.b, big.n, &fp) == CERTA_OK && fp.truncated &&
              strlen(fp.ja3) == CERTA_FINGERPRINT_RAW_MAX - 1 &&
              strncmp(fp.ja4, "t12i990000_", 11) == 0,
          "1,000 suites: count capped at 99, raw strings cut at %d (%s)",
          CERTA_FINGERPRINT_RAW_MAX - 1, fp.ja4);
}

/* ---- the server's kept fingerprints ---- */

static certa_config *server_config(bool keep) {
    char *cert, *key;
    if (test_make_cert("p256", "localhost", &cert, &key) != 0) return NULL;
    certa_config *cfg = certa_config_new();
    certa_config_set_cert_chain_pem(cfg, cert, strlen(cert));
    certa_config_set_private_key_pem(cfg, key, strlen(key));
    certa_config_set_groups(cfg, "secp256r1");
    certa_config_set_client_fingerprints(cfg, keep);
    free(cert);
    free(key);
    return cfg;
}

static void server_side(void) {
    certa_config *scfg = server_config(true);
    certa_config *ccfg = certa_config_new();
    certa_config_set_insecure(ccfg, true);
    certa_config_set_alpn(ccfg, "h2,http/1.1");
    /* The client's first shares are for x25519-based groups only, so the
     * server (P-256 only) asks again: two ClientHellos. */
    certa_config_set_groups(ccfg, "x25519,secp256r1");
    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};

    /* The first flight as the client sends it, fingerprinted independently:
     * one record, 5-byte header, then the ClientHello. */
    const uint8_t *out;
    size_t n = certa_conn_outgoing(p.client, &out);
    certa_fingerprint direct, kept;
    CHECK(n > 5 && certa_fingerprint_client_hello(out + 5, n - 5, &direct) == CERTA_OK,
          "the client's ClientHello record fingerprints (%s)", direct.ja4);
    CHECK(certa_conn_client_fingerprint(p.server, 0, &kept) == CERTA_E_STATE,
          "nothing kept before a ClientHello arrived");
    pair_pump(&p);
    CHECK(certa_conn_handshake_done(p.server), "handshake with HelloRetryRequest: %s",
          certa_conn_error_text(p.server));
    CHECK(certa_conn_client_fingerprint(p.server, 0, &kept) == CERTA_OK &&
              strcmp(kept.ja4, direct.ja4) == 0 && strcmp(kept.ja3, direct.ja3) == 0 &&
              strcmp(kept.ja4_r, direct.ja4_r) == 0 && strcmp(kept.ja3_md5, direct.ja3_md5) == 0,
          "the server's kept fingerprint of ClientHello 1 is the one computed from the wire");
    CHECK(strncmp(kept.ja4, "t13d", 4) == 0 && strncmp(kept.ja4 + 8, "h2", 2) == 0,
          "TLS 1.3, SNI, ALPN h2 in JA4_a (%s)", kept.ja4);
    CHECK(strcmp(kept.server_name, "localhost") == 0 && strcmp(kept.alpn, "h2,http/1.1") == 0,
          "the hello's server name and ALPN list kept (%s, %s)", kept.server_name, kept.alpn);
    certa_fingerprint second;
    CHECK(certa_conn_client_fingerprint(p.server, 1, &second) == CERTA_OK &&
              strncmp(second.ja4, "t13d", 4) == 0,
          "ClientHello 2 (after HelloRetryRequest) fingerprinted too (%s)", second.ja4);
    CHECK(certa_conn_client_fingerprint(p.server, 2, &second) == CERTA_E_STATE,
          "no third ClientHello");
    certa_conn_drop_client_fingerprints(p.server);
    CHECK(certa_conn_client_fingerprint(p.server, 0, &kept) == CERTA_E_STATE &&
              certa_conn_client_fingerprint(p.server, 1, &kept) == CERTA_E_STATE,
          "dropped fingerprints are gone");
    pair_free(&p);
    certa_config_free(scfg);

    scfg = server_config(false);
    p = (pair){certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump(&p);
    CHECK(certa_conn_handshake_done(p.server) &&
              certa_conn_client_fingerprint(p.server, 0, &kept) == CERTA_E_STATE,
          "fingerprints off by default: none kept");
    pair_free(&p);
    certa_config_free(scfg);
    certa_config_free(ccfg);
}

int main(void) {
    int rows = vector_rows();
    CHECK(rows >= 10, "%d JA4 vector rows checked", rows);
    corner_cases();
    server_side();
    return test_failures ? 1 : 0;
}
