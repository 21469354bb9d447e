/* certa ca ocsp DIR --port N: an OCSP responder (RFC 6960) over HTTP for
 * the CA in DIR, answering from the CA's own records: a serial listed in
 * revoked.txt is revoked (with its time and reason), one in serials.txt is
 * good, any other is unknown; a question about another CA's certificate
 * gets "unauthorized". Responses are signed with the CA key, or with a
 * delegated responder certificate (certa ca issue --ocsp-signing) given as
 * --signer NAME, which then travels in each response. The records are
 * re-read when they change, so a 'certa ca revoke' shows at the next
 * request. One request at a time, each bounded in size and time: this is
 * a responder for a development CA on loopback, not for the Internet. */
#include "ca/ca_store.h"
#include "common/cli_common.h"
#include "common/file_watch.h"
#include "http/http_mini.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "wire/cursor.h"
#include "x509/extensions.h"
#include "x509/ocsp.h"
#include "x509/pem.h"

#define REQUEST_TIMEOUT_MS 5000
#define MAX_SINGLES 16 /* CertIDs answered in one request */

static volatile sig_atomic_t g_stop;

static void on_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

/* The records, re-read when either file changes. */
typedef struct records {
    ca_revocation *revoked;
    size_t n_revoked;
    ca_issued *issued;
    size_t n_issued;
    file_stamp revoked_stamp, issued_stamp;
    bool loaded;
} records;

/* The responder's key and certificate: the CA's, or a delegate's. */
typedef struct signer {
    x509_cert cert;
    crypto_key *key;
    uint8_t *cert_der; /* the delegate's (NULL when the CA signs) */
    size_t cert_der_len;
    char name[512];
} signer;

typedef struct responder {
    ca_state ca;
    signer sig;
    int64_t ttl;
    records rec;
    unsigned long answered;
} responder;

static file_stamp record_stamp(const char *dir, const char *name) {
    char path[CA_PATH_CAP];
    return file_stamp_of(path_join(path, sizeof path, dir, name) ? path : NULL);
}

/* Re-reads the records if they changed; on a read error keeps the last
 * good ones (and says so) rather than answering from nothing. */
static void refresh_records(responder *r) {
    file_stamp rs = record_stamp(r->ca.dir, "revoked.txt");
    file_stamp is = record_stamp(r->ca.dir, "serials.txt");
    records *rec = &r->rec;
    if (rec->loaded && file_stamp_eq(&rs, &rec->revoked_stamp) &&
        file_stamp_eq(&is, &rec->issued_stamp))
        return;
    ca_revocation *rv;
    ca_issued *iv;
    size_t nr, ni;
    if (!ca_read_revoked(&r->ca, &rv, &nr)) {
        fprintf(stderr, "ocsp: keeping the records read before\n");
        return;
    }
    if (!ca_read_issued(&r->ca, &iv, &ni)) {
        free(rv);
        fprintf(stderr, "ocsp: keeping the records read before\n");
        return;
    }
    bool reload = rec->loaded;
    free(rec->revoked);
    free(rec->issued);
    rec->revoked = rv;
    rec->n_revoked = nr;
    rec->issued = iv;
    rec->n_issued = ni;
    rec->revoked_stamp = rs;
    rec->issued_stamp = is;
    rec->loaded = true;
    printf("ocsp: %s the CA's records: %zu issued, %zu revoked\n", reload ? "re-read" : "read", ni,
           nr);
    fflush(stdout);
}

static bool serial_is(const cursor *serial, const uint8_t *s, size_t len) {
    cursor v = *serial;
    while (v.len > 1 && v.data[0] == 0) { /* INTEGER contents may carry a sign byte */
        v.data++;
        v.len--;
    }
    return v.len == len && memcmp(v.data, s, len) == 0;
}

static const ca_revocation *find_revoked(const records *rec, const cursor *serial) {
    for (size_t i = 0; i < rec->n_revoked; i++)
        if (serial_is(serial, rec->revoked[i].serial, rec->revoked[i].serial_len))
            return &rec->revoked[i];
    return NULL;
}

static bool was_issued(const records *rec, const cursor *serial) {
    for (size_t i = 0; i < rec->n_issued; i++)
        if (serial_is(serial, rec->issued[i].serial, rec->issued[i].serial_len)) return true;
    return false;
}

/* Whether a CertID names this CA as the issuer (both hashes, in the
 * request's own hash algorithm). */
static bool asks_this_ca(const responder *r, const ocsp_cert_id *id) {
    uint8_t name_hash[64], key_hash[64];
    size_t hl = hash_len(id->hash);
    if (hl == 0 || hl > sizeof name_hash || id->name_hash.len != hl || id->key_hash.len != hl)
        return false;
    if (hash_oneshot(id->hash, r->ca.cert.subject.data, r->ca.cert.subject.len, name_hash) != 0 ||
        ocsp_issuer_key_hash(&r->ca.cert, id->hash, key_hash) != 0)
        return false;
    return memcmp(name_hash, id->name_hash.data, hl) == 0 &&
           memcmp(key_hash, id->key_hash.data, hl) == 0;
}

static void serial_hex(const cursor *serial, char *out, size_t cap) {
    static const char digits[] = "0123456789ABCDEF";
    cursor v = *serial;
    while (v.len > 1 && v.data[0] == 0) {
        v.data++;
        v.len--;
    }
    size_t o = 0;
    for (size_t i = 0; i < v.len && o + 3 <= cap; i++) {
        out[o++] = digits[v.data[i] >> 4];
        out[o++] = digits[v.data[i] & 15];
    }
    if (cap) out[o < cap ? o : cap - 1] = 0;
}

/* GET /{url-encoding of base64 of DER} (RFC 6960 §A.1). */
static bool decode_get_path(const char *path, uint8_t *out, size_t cap, size_t *len) {
    while (*path == '/')
        path++;
    size_t n = strlen(path);
    char *b64 = malloc(n + 1);
    if (!b64) return false;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (path[i] == '%' && i + 2 < n + 1 && sscanf(path + i + 1, "%2x", &v) == 1) {
            b64[o++] = (char)v;
            i += 2;
        } else {
            b64[o++] = path[i];
        }
    }
    int d = base64_decode(b64, o, out, cap);
    free(b64);
    if (d <= 0) return false;
    *len = (size_t)d;
    return true;
}

/* Builds the answer to one request body; *log gets what was said. */
static int answer(responder *r, const uint8_t *req, size_t req_len, builder *out, char *log,
                  size_t log_cap) {
    ocsp_request q;
    memset(&q, 0, sizeof q);
    if (ocsp_request_parse(&q, req, req_len) != 0) {
        snprintf(log, log_cap, "a malformed request: answered malformedRequest");
        return ocsp_build_error(out, OCSP_MALFORMED_REQUEST);
    }
    if (q.count > MAX_SINGLES) {
        snprintf(log, log_cap,
                 "%zu certificates in one request (at most %d): answered "
                 "malformedRequest",
                 q.count, MAX_SINGLES);
        return ocsp_build_error(out, OCSP_MALFORMED_REQUEST);
    }
    refresh_records(r);
    ocsp_build_single singles[MAX_SINGLES];
    int64_t now = (int64_t)time(NULL);
    /* Never promise beyond the signer's own validity. */
    int64_t next = now + r->ttl;
    if (next > r->sig.cert.not_after) next = r->sig.cert.not_after;
    cursor list = q.requests;
    size_t n = 0, used = 0;
    ocsp_cert_id id;
    log[0] = 0;
    while (n < q.count && ocsp_request_next(&list, &id)) {
        char hex[2 * CA_MAX_SERIAL + 1];
        serial_hex(&id.serial, hex, sizeof hex);
        if (!asks_this_ca(r, &id)) {
            snprintf(log, log_cap, "serial %s of another CA: answered unauthorized", hex);
            return ocsp_build_error(out, OCSP_UNAUTHORIZED);
        }
        ocsp_build_single *s = &singles[n++];
        memset(s, 0, sizeof *s);
        s->hash = id.hash;
        s->name_hash = id.name_hash.data;
        s->key_hash = id.key_hash.data;
        s->serial = id.serial.data;
        s->serial_len = id.serial.len;
        s->reason = -1;
        s->this_update = now;
        s->next_update = next;
        const ca_revocation *rv = find_revoked(&r->rec, &id.serial);
        char what[160];
        if (rv) {
            s->status = OCSP_REVOKED;
            s->revocation_time = rv->revoked_at;
            s->reason = rv->reason;
            char when[64];
            cli_format_time(rv->revoked_at, when, sizeof when);
            snprintf(what, sizeof what, "revoked (%s, on %s)", ca_reason_name(rv->reason), when);
        } else if (was_issued(&r->rec, &id.serial)) {
            s->status = OCSP_GOOD;
            snprintf(what, sizeof what, "good");
        } else {
            s->status = OCSP_UNKNOWN;
            snprintf(what, sizeof what, "unknown (not issued by this CA)");
        }
        int w =
            snprintf(log + used, log_cap - used, "%sserial %s: %s", used ? "; " : "", hex, what);
        if (w > 0) used = used + (size_t)w < log_cap ? used + (size_t)w : log_cap - 1;
    }
    const uint8_t *certs[1] = {r->sig.cert_der};
    size_t lens[1] = {r->sig.cert_der_len};
    size_t nc = r->sig.cert_der ? 1 : 0;
    if (ocsp_build_response(out, &r->sig.cert, r->sig.key, singles, n, now, certs, lens, nc,
                            q.nonce.len ? q.nonce.data : NULL, q.nonce.len) != 0) {
        snprintf(log, log_cap, "cannot sign the response: answered internalError");
        bld_free(out);
        bld_init_alloc(out, 64);
        return ocsp_build_error(out, OCSP_INTERNAL_ERROR);
    }
    return 0;
}

static void serve_one(responder *r, int fd, const char *peer) {
    char method[8];
    char *path = NULL;
    uint8_t *body = NULL;
    size_t body_len = 0;
    if (http_read_request(fd, REQUEST_TIMEOUT_MS, HTTP_MINI_MAX_BODY, method, &path, &body,
                          &body_len) != 0) {
        printf("ocsp: %s: no complete HTTP request within %d s (or over %d bytes): dropped\n", peer,
               REQUEST_TIMEOUT_MS / 1000, HTTP_MINI_MAX_BODY);
        fflush(stdout);
        free(path);
        free(body);
        return;
    }
    const uint8_t *req = NULL;
    size_t req_len = 0;
    uint8_t *decoded = NULL;
    if (!strcmp(method, "POST")) {
        req = body;
        req_len = body_len;
    } else if (!strcmp(method, "GET")) {
        size_t cap = strlen(path);
        decoded = malloc(cap + 1);
        if (decoded && decode_get_path(path, decoded, cap + 1, &req_len)) req = decoded;
    } else {
        http_write_response(fd, 405, "text/plain", (const uint8_t *)"use GET or POST\n", 16);
        printf("ocsp: %s: %s is not an OCSP request method: answered HTTP 405\n", peer, method);
        fflush(stdout);
        free(path);
        free(body);
        return;
    }
    builder out;
    bld_init_alloc(&out, 1024);
    char log[1024];
    if (req)
        answer(r, req, req_len, &out, log, sizeof log);
    else {
        snprintf(log, sizeof log, "a GET without a base64 request: answered malformedRequest");
        ocsp_build_error(&out, OCSP_MALFORMED_REQUEST);
    }
    if (bld_ok(&out) &&
        http_write_response(fd, 200, "application/ocsp-response", out.buf, out.len) == 0) {
        r->answered++;
        printf("ocsp: %s: %s\n", peer, log);
    } else {
        printf("ocsp: %s: could not send the answer (%s)\n", peer, log);
    }
    fflush(stdout);
    bld_free(&out);
    free(decoded);
    free(path);
    free(body);
}

/* --signer NAME: NAME.crt and NAME.key, a responder certificate this CA
 * issued with OCSPSigning (certa ca issue --ocsp-signing). */
static bool load_delegate(responder *r, const char *name) {
    char crt[CA_PATH_CAP], keyp[CA_PATH_CAP];
    if (snprintf(crt, sizeof crt, "%s.crt", name) >= (int)sizeof crt ||
        snprintf(keyp, sizeof keyp, "%s.key", name) >= (int)sizeof keyp) {
        cli_err("ca ocsp: --signer path too long");
        return false;
    }
    char *pem = NULL;
    size_t pem_len = 0, pos = 0;
    if (read_file(crt, &pem, &pem_len) != 0) {
        cli_err("ca ocsp: cannot read the responder certificate %s (make one with 'certa ca "
                "issue %s --out %s --ocsp-signing')",
                crt, r->ca.dir, name);
        return false;
    }
    int got = pem_next(pem, pem_len, &pos, "CERTIFICATE", &r->sig.cert_der, &r->sig.cert_der_len);
    free(pem);
    if (got != 1 || x509_parse(&r->sig.cert, r->sig.cert_der, r->sig.cert_der_len) != 0) {
        cli_err("ca ocsp: %s does not hold a readable PEM certificate", crt);
        return false;
    }
    if (x509_name_to_string(&r->sig.cert.subject, r->sig.name, sizeof r->sig.name) != 0)
        snprintf(r->sig.name, sizeof r->sig.name, "(unprintable name)");
    x509_exts e;
    char why[256] = "";
    crypto_key *ca_pub = key_from_spki(r->ca.cert.spki.data, r->ca.cert.spki.len);
    bool signed_by_ca =
        ca_pub && r->sig.cert.issuer.len == r->ca.cert.subject.len &&
        !memcmp(r->sig.cert.issuer.data, r->ca.cert.subject.data, r->ca.cert.subject.len) &&
        sig_verify_x509(r->sig.cert.sig_alg.data, r->sig.cert.sig_alg.len, ca_pub,
                        r->sig.cert.tbs.data, r->sig.cert.tbs.len, r->sig.cert.sig.data,
                        r->sig.cert.sig.len) == 0;
    key_free(ca_pub);
    if (!signed_by_ca) {
        cli_err("ca ocsp: %s ('%s') was not issued by the CA in %s ('%s'): clients would refuse "
                "its answers",
                crt, r->sig.name, r->ca.dir, r->ca.subject);
        return false;
    }
    if (x509_parse_extensions(&r->sig.cert, &e, why, sizeof why) != X509_EXT_OK) {
        cli_err("ca ocsp: %s has %s", crt, why);
        return false;
    }
    if (!e.eku_ocsp_signing) {
        cli_err("ca ocsp: %s ('%s') lacks extKeyUsage OCSPSigning, so clients would refuse its "
                "answers: issue one with 'certa ca issue %s --out NAME --ocsp-signing'",
                crt, r->sig.name, r->ca.dir);
        return false;
    }
    int64_t now = (int64_t)time(NULL);
    if (now < r->sig.cert.not_before || now >= r->sig.cert.not_after) {
        char when[64];
        cli_format_time(now < r->sig.cert.not_before ? r->sig.cert.not_before
                                                     : r->sig.cert.not_after,
                        when, sizeof when);
        cli_err("ca ocsp: the responder certificate %s %s %s: issue a new one", crt,
                now < r->sig.cert.not_before ? "is not valid before" : "expired on", when);
        return false;
    }
    char *key_pem = NULL;
    size_t key_len = 0;
    if (read_file(keyp, &key_pem, &key_len) != 0) {
        cli_err("ca ocsp: cannot read the responder key %s", keyp);
        return false;
    }
    r->sig.key = key_from_pem(key_pem, key_len);
    crypto_zero(key_pem, key_len);
    free(key_pem);
    crypto_key *pub =
        r->sig.key ? key_from_spki(r->sig.cert.spki.data, r->sig.cert.spki.len) : NULL;
    bool match = pub && key_pair_matches(r->sig.key, pub);
    key_free(pub);
    if (!match) {
        cli_err("ca ocsp: %s is not the key of %s", keyp, crt);
        return false;
    }
    return true;
}

static void ocsp_usage(FILE *out) {
    fputs("usage: certa ca ocsp DIR --port N [--bind 127.0.0.1] [--signer NAME] [--ttl 1h]\n"
          "  answer OCSP requests (RFC 6960, HTTP GET and POST) for the CA in DIR from its\n"
          "  records: revoked (with time and reason), good, or unknown (not issued here).\n"
          "  --port N       TCP port (0: any free one, printed at start)\n"
          "  --bind ADDR    address to listen on (default 127.0.0.1)\n"
          "  --signer NAME  sign with NAME.crt/NAME.key, a delegated responder certificate\n"
          "                 from 'certa ca issue DIR --out NAME --ocsp-signing' (default:\n"
          "                 the CA key itself)\n"
          "  --ttl 1h       how long each answer stays valid (nextUpdate; default 1h)\n"
          "Revocations ('certa ca revoke') show at the next request. Stop with Ctrl-C.\n",
          out);
}

int cmd_ca_ocsp(int argc, char **argv) {
    const char *dir = NULL, *port = NULL, *bind_addr = "127.0.0.1", *signer_name = NULL,
               *ttl_s = "1h";
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = cli_opt(argc, argv, &i, "--port", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            port = v;
        } else if ((m = cli_opt(argc, argv, &i, "--bind", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            bind_addr = v;
        } else if ((m = cli_opt(argc, argv, &i, "--signer", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            signer_name = v;
        } else if ((m = cli_opt(argc, argv, &i, "--ttl", &v)) != 0) {
            if (m < 0) return CLI_EXIT_USAGE;
            ttl_s = v;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            ocsp_usage(stdout);
            return CLI_EXIT_OK;
        } else if (argv[i][0] == '-' && argv[i][1] != 0) {
            cli_err("ca ocsp: unknown option '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        } else if (!dir) {
            dir = argv[i];
        } else {
            cli_err("ca ocsp: unexpected argument '%s'", argv[i]);
            return CLI_EXIT_USAGE;
        }
    }
    long port_n;
    if (!dir || !port) {
        cli_err("ca ocsp: certa ca ocsp DIR --port N (the port of the --ocsp-url the CA put in "
                "its certificates)");
        return CLI_EXIT_USAGE;
    }
    if (!cli_parse_long(port, 0, 65535, &port_n)) {
        cli_err("ca ocsp: bad --port '%s': a number from 0 to 65535", port);
        return CLI_EXIT_USAGE;
    }
    responder r;
    memset(&r, 0, sizeof r);
    if (!parse_ttl(ttl_s, &r.ttl) || r.ttl > 7 * 86400) {
        cli_err("ca ocsp: bad --ttl '%s': a number and a unit up to 7d, e.g. 15m, 1h", ttl_s);
        return CLI_EXIT_USAGE;
    }
    int rc = CLI_EXIT_FAIL, lfd = -1;
    if (!ca_open(&r.ca, dir)) goto done;
    ca_unlock(&r.ca); /* the CA stays loaded; records are read under a shared lock */
    if (signer_name) {
        if (!load_delegate(&r, signer_name)) goto done;
    } else {
        r.sig.cert = r.ca.cert;
        r.sig.key = r.ca.key;
        snprintf(r.sig.name, sizeof r.sig.name, "%s", r.ca.subject);
    }
    refresh_records(&r);
    if (!r.rec.loaded) goto done;
    char bound[128], why[512];
    lfd = cli_listen(bind_addr, port, 64, false, bound, sizeof bound, why, sizeof why);
    if (lfd < 0) {
        cli_err("ca ocsp: %s", why);
        goto done;
    }
    cli_catch_stop_signals(on_signal);
    char ttl_text[64];
    fmt_duration(r.ttl, ttl_text, sizeof ttl_text);
    printf("OCSP responder for '%s' on http://%s/\n"
           "  signing with: %s%s\n"
           "  answers valid for %s\n",
           r.ca.subject, bound, r.sig.name,
           signer_name ? " (delegated, OCSPSigning)" : " (the CA key)", ttl_text);
    fflush(stdout);
    while (!g_stop) {
        struct pollfd p = {.fd = lfd, .events = POLLIN, .revents = 0};
        if (poll(&p, 1, 1000) <= 0) continue;
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept(lfd, (struct sockaddr *)&ss, &sl);
        if (fd < 0) continue;
        char peer[128];
        cli_format_addr((struct sockaddr *)&ss, sl, peer, sizeof peer);
        serve_one(&r, fd, peer);
        close(fd);
    }
    printf("ocsp: stopped after %lu answer%s\n", r.answered, r.answered == 1 ? "" : "s");
    rc = CLI_EXIT_OK;
done:
    if (lfd >= 0) close(lfd);
    if (r.sig.key != r.ca.key) key_free(r.sig.key);
    free(r.sig.cert_der);
    free(r.rec.revoked);
    free(r.rec.issued);
    ca_close(&r.ca);
    return rc;
}
