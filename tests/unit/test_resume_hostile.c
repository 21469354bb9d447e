/* A certa server against hostile resuming ClientHellos. The starting point
 * is a real one: certa's client, created with certa_client_new_resume from a
 * session of a full handshake, writes it (certa_conn_outgoing). The test
 * splits it into extensions, edits them, rebuilds the record and — where the
 * case is about something else than the binder — recomputes the binder with
 * the session's PSK (ks_binder over the truncated ClientHello), so each case
 * fails for the one reason it is about. Each case asserts the server's error
 * code and the alert it sends:
 *
 *   the hello rebuilt unchanged            resumes (checks the rebuilder)
 *   pre_shared_key not last                illegal_parameter
 *   2 identities, 1 binder (and 1 / 2)     illegal_parameter
 *   no psk_key_exchange_modes              missing_extension
 *   a 48-byte binder (SHA-256 PSK)         decrypt_error
 *   a 31-byte binder                       decode_error
 *   an empty identities list               decode_error
 *   a byte of the bound part changed       decrypt_error (binder)
 *   psk_ke only                            full handshake, no pre_shared_key
 *   an unknown identity, then the real one resumes with selected_identity 1
 * and, on the client side, stored sessions with times near INT64_MAX (once a
 * signed overflow in the ticket age) fall back to a full handshake. */
#include "certa.h"
#include "crypto/crypto.h"
#include "lib_certs.h"
#include "lib_pair.h"
#include "testlib.h"
#include "tls/tls.h"
#include "wire/cursor.h"

#define MAX_EXTS 32
typedef struct ext {
    uint16_t type;
    uint8_t data[2048];
    size_t len;
} ext;

/* A ClientHello: the fields before the extensions, then the extensions. */
typedef struct hello {
    uint8_t pre[512];
    size_t pre_len;
    ext exts[MAX_EXTS];
    size_t n;
} hello;

static certa_config *scfg, *ccfg;
static uint8_t session[CERTA_SESSION_MAX];
static size_t session_len;
static uint8_t psk[32];

/* Parses the record holding a ClientHello. */
static bool parse_hello(const uint8_t *rec, size_t n, hello *h) {
    cursor c, body, exts;
    uint8_t type, hs_type;
    uint16_t version, rec_len;
    memset(h, 0, sizeof *h);
    cur_init(&c, rec, n);
    if (!cur_u8(&c, &type) || type != CONTENT_HANDSHAKE || !cur_u16(&c, &version) ||
        !cur_u16(&c, &rec_len) || rec_len != c.len || !cur_u8(&c, &hs_type) ||
        hs_type != HS_CLIENT_HELLO || !cur_vec24(&c, &body) || !cur_empty(&c))
        return false;
    const uint8_t *start = body.data;
    cursor skip;
    if (!cur_skip(&body, 2 + 32) || !cur_vec8(&body, &skip) || !cur_vec16(&body, &skip) ||
        !cur_vec8(&body, &skip))
        return false;
    h->pre_len = (size_t)(body.data - start);
    memcpy(h->pre, start, h->pre_len);
    if (!cur_vec16(&body, &exts) || !cur_empty(&body)) return false;
    while (!cur_empty(&exts)) {
        cursor data;
        if (h->n == MAX_EXTS || !cur_u16(&exts, &h->exts[h->n].type) || !cur_vec16(&exts, &data) ||
            data.len > sizeof h->exts[0].data)
            return false;
        memcpy(h->exts[h->n].data, data.data, data.len);
        h->exts[h->n].len = data.len;
        h->n++;
    }
    return true;
}

/* The record for h (the handshake message starts at byte 5). */
static size_t build_hello(const hello *h, uint8_t *out, size_t cap) {
    size_t ext_len = 0;
    for (size_t i = 0; i < h->n; i++)
        ext_len += 4 + h->exts[i].len;
    size_t body_len = h->pre_len + 2 + ext_len, rec_len = 4 + body_len;
    if (5 + rec_len > cap) abort();
    uint8_t *p = out;
    *p++ = CONTENT_HANDSHAKE;
    *p++ = 3;
    *p++ = 1;
    *p++ = (uint8_t)(rec_len >> 8);
    *p++ = (uint8_t)rec_len;
    *p++ = HS_CLIENT_HELLO;
    *p++ = (uint8_t)(body_len >> 16);
    *p++ = (uint8_t)(body_len >> 8);
    *p++ = (uint8_t)body_len;
    memcpy(p, h->pre, h->pre_len);
    p += h->pre_len;
    *p++ = (uint8_t)(ext_len >> 8);
    *p++ = (uint8_t)ext_len;
    for (size_t i = 0; i < h->n; i++) {
        *p++ = (uint8_t)(h->exts[i].type >> 8);
        *p++ = (uint8_t)h->exts[i].type;
        *p++ = (uint8_t)(h->exts[i].len >> 8);
        *p++ = (uint8_t)h->exts[i].len;
        memcpy(p, h->exts[i].data, h->exts[i].len);
        p += h->exts[i].len;
    }
    return (size_t)(p - out);
}

static ext *find_ext(hello *h, uint16_t type) {
    for (size_t i = 0; i < h->n; i++)
        if (h->exts[i].type == type) return &h->exts[i];
    return NULL;
}

static void remove_ext(hello *h, uint16_t type) {
    for (size_t i = 0; i < h->n; i++)
        if (h->exts[i].type == type) {
            memmove(&h->exts[i], &h->exts[i + 1], (h->n - i - 1) * sizeof h->exts[0]);
            h->n--;
            return;
        }
}

/* The identity (ticket and obfuscated age) the client offered. */
static uint8_t ticket[1024];
static size_t ticket_len;
static uint32_t ticket_age;

static bool read_identity(hello *h) {
    ext *e = find_ext(h, EXT_PRE_SHARED_KEY);
    cursor c, ids, t;
    if (!e) return false;
    cur_init(&c, e->data, e->len);
    if (!cur_vec16(&c, &ids) || !cur_vec16(&ids, &t) || !cur_u32(&ids, &ticket_age) ||
        !cur_empty(&ids) || t.len > sizeof ticket)
        return false;
    memcpy(ticket, t.data, t.len);
    ticket_len = t.len;
    return true;
}

/* pre_shared_key with the given identities (NULL ticket = an unknown one)
 * and binders of the given lengths (zeros until bind()). */
static void set_psk_ext(hello *h, size_t n_ids, const bool *real, size_t n_binders,
                        const size_t *binder_lens) {
    ext *e = find_ext(h, EXT_PRE_SHARED_KEY);
    if (!e) abort();
    builder b;
    bld_init_alloc(&b, 1024);
    bld_open(&b, 2);
    for (size_t i = 0; i < n_ids; i++) {
        bld_open(&b, 2);
        if (real[i]) {
            bld_bytes(&b, ticket, ticket_len);
        } else {
            for (size_t k = 0; k < ticket_len; k++)
                bld_u8(&b, (uint8_t)(k * 31 + 7));
        }
        bld_close(&b);
        bld_u32(&b, ticket_age);
    }
    bld_close(&b);
    bld_open(&b, 2);
    for (size_t i = 0; i < n_binders; i++) {
        bld_open(&b, 1);
        bld_zeros(&b, binder_lens[i]);
        bld_close(&b);
    }
    bld_close(&b);
    if (!bld_ok(&b) || b.len > sizeof e->data) abort();
    memcpy(e->data, b.buf, b.len);
    e->len = b.len;
    bld_free(&b);
}

/* Writes the real binder (over this hello, truncated before its binders
 * list) into binder slot `which`; pre_shared_key must be last. */
static void bind(hello *h, size_t which) {
    ext *e = &h->exts[h->n - 1];
    uint8_t rec[4096];
    size_t n = build_hello(h, rec, sizeof rec);
    cursor c, ids, binders, b;
    cur_init(&c, e->data, e->len);
    if (!cur_vec16(&c, &ids) || !cur_vec16(&c, &binders)) abort();
    size_t binders_total = 2 + binders.len;
    uint8_t th[32];
    if (hash_oneshot(HASH_SHA256, rec + 5, n - 5 - binders_total, th) != 0) abort();
    for (size_t i = 0; i <= which; i++)
        if (!cur_vec8(&binders, &b)) abort();
    if (b.len != 32 || ks_binder(HASH_SHA256, psk, th, e->data + (b.data - e->data)) != 0) abort();
}

/* The resuming ClientHello certa's client writes. */
static bool real_hello(hello *h) {
    certa_conn *c = certa_client_new_resume(ccfg, "localhost", session, session_len);
    const uint8_t *out;
    size_t n = certa_conn_outgoing(c, &out);
    bool ok = parse_hello(out, n, h) && h->n > 0 && h->exts[h->n - 1].type == EXT_PRE_SHARED_KEY;
    certa_conn_free(c);
    return ok;
}

typedef struct outcome {
    int error;
    uint8_t alert;
    bool resumed;
    bool sh_psk; /* the ServerHello carries pre_shared_key */
    uint16_t selected;
    char why[320];
} outcome;

/* Feeds the hello to a new server; what it did. */
static outcome serve(const hello *h) {
    uint8_t rec[4096];
    size_t n = build_hello(h, rec, sizeof rec), used = 0;
    certa_conn *s = certa_server_new(scfg);
    certa_conn_recv(s, rec, n, &used);
    outcome o = {certa_conn_error(s), certa_conn_alert_sent(s), false, false, 0, ""};
    snprintf(o.why, sizeof o.why, "%s", certa_conn_error_text(s));
    certa_info si;
    certa_conn_info(s, &si);
    o.resumed = si.resumed;
    const uint8_t *out;
    size_t out_len = certa_conn_outgoing(s, &out);
    cursor c, body, exts, skip;
    uint8_t type = 0;
    cur_init(&c, out, out_len);
    if (o.error == 0 && cur_skip(&c, 5) && cur_u8(&c, &type) && type == HS_SERVER_HELLO &&
        cur_vec24(&c, &body) && cur_skip(&body, 2 + 32) && cur_vec8(&body, &skip) &&
        cur_skip(&body, 3) && cur_vec16(&body, &exts)) {
        while (!cur_empty(&exts)) {
            uint16_t t;
            cursor d;
            if (!cur_u16(&exts, &t) || !cur_vec16(&exts, &d)) break;
            if (t == EXT_PRE_SHARED_KEY) {
                o.sh_psk = true;
                cur_u16(&d, &o.selected);
            }
        }
    }
    certa_conn_free(s);
    return o;
}

static void hostile_cases(void) {
    hello h;
    CHECK(real_hello(&h) && read_identity(&h),
          "certa's client writes a resuming ClientHello (%zu extensions, pre_shared_key last, "
          "a %zu-byte ticket)",
          h.n, ticket_len);
    outcome o = serve(&h);
    CHECK(o.error == 0 && o.resumed && o.sh_psk && o.selected == 0,
          "the hello parsed and rebuilt unchanged resumes (selected_identity 0)");

    /* pre_shared_key not last: moved before the key share. */
    hello x = h;
    ext psk_ext = x.exts[x.n - 1];
    for (size_t i = x.n - 1; i > 0; i--)
        x.exts[i] = x.exts[i - 1];
    x.exts[0] = psk_ext;
    o = serve(&x);
    CHECK(o.error == CERTA_E_ILLEGAL_PARAMETER && o.alert == ALERT_ILLEGAL_PARAMETER &&
              strstr(o.why, "not the last"),
          "pre_shared_key not last: illegal_parameter (%s)", o.why);

    /* Identities and binders in different numbers. */
    bool real2[2] = {true, true};
    size_t lens2[2] = {32, 32};
    x = h;
    set_psk_ext(&x, 2, real2, 1, lens2);
    bind(&x, 0);
    o = serve(&x);
    CHECK(o.error == CERTA_E_ILLEGAL_PARAMETER && o.alert == ALERT_ILLEGAL_PARAMETER &&
              strstr(o.why, "2 pre-shared keys but 1 binders"),
          "2 identities, 1 binder: illegal_parameter (%s)", o.why);
    x = h;
    set_psk_ext(&x, 1, real2, 2, lens2);
    bind(&x, 0);
    o = serve(&x);
    CHECK(o.error == CERTA_E_ILLEGAL_PARAMETER && o.alert == ALERT_ILLEGAL_PARAMETER &&
              strstr(o.why, "1 pre-shared keys but 2 binders"),
          "1 identity, 2 binders: illegal_parameter (%s)", o.why);

    /* No psk_key_exchange_modes. */
    x = h;
    remove_ext(&x, EXT_PSK_KEY_EXCHANGE_MODES);
    bind(&x, 0);
    o = serve(&x);
    CHECK(o.error == CERTA_E_MISSING_EXTENSION && o.alert == ALERT_MISSING_EXTENSION &&
              strstr(o.why, "psk_key_exchange_modes"),
          "pre_shared_key without psk_key_exchange_modes: missing_extension (%s)", o.why);

    /* Binders of the wrong length. */
    size_t len48 = 48, len31 = 31;
    x = h;
    set_psk_ext(&x, 1, real2, 1, &len48);
    o = serve(&x);
    CHECK(o.error == CERTA_E_BAD_FINISHED && o.alert == ALERT_DECRYPT_ERROR &&
              strstr(o.why, "binder does not verify"),
          "a 48-byte binder for a SHA-256 PSK: decrypt_error (%s)", o.why);
    x = h;
    set_psk_ext(&x, 1, real2, 1, &len31);
    o = serve(&x);
    CHECK(o.error == CERTA_E_DECODE && o.alert == ALERT_DECODE_ERROR &&
              strstr(o.why, "malformed PSK binder"),
          "a 31-byte binder (under the 32-byte minimum): decode_error (%s)", o.why);

    /* No identities at all. */
    x = h;
    set_psk_ext(&x, 0, real2, 1, lens2);
    o = serve(&x);
    CHECK(o.error == CERTA_E_DECODE && o.alert == ALERT_DECODE_ERROR &&
              strstr(o.why, "malformed pre_shared_key"),
          "an empty identities list: decode_error (%s)", o.why);

    /* The bound part changed after binding (one bit of the random). */
    x = h;
    x.pre[2 + 7] ^= 0x01;
    o = serve(&x);
    CHECK(o.error == CERTA_E_BAD_FINISHED && o.alert == ALERT_DECRYPT_ERROR &&
              strstr(o.why, "binder does not verify"),
          "a ClientHello altered after binding: decrypt_error (%s)", o.why);

    /* psk_ke only (no forward secrecy): certa does a full handshake. */
    x = h;
    ext *modes = find_ext(&x, EXT_PSK_KEY_EXCHANGE_MODES);
    CHECK(modes && modes->len == 2 && modes->data[0] == 1 && modes->data[1] == 1,
          "certa's client offers psk_dhe_ke only");
    if (modes) modes->data[1] = 0; /* psk_ke */
    bind(&x, 0);
    o = serve(&x);
    CHECK(o.error == 0 && !o.resumed && !o.sh_psk,
          "psk_ke only: a full handshake, no pre_shared_key in ServerHello (error %d)", o.error);
    /* psk_ke and psk_dhe_ke: resumed. */
    x = h;
    modes = find_ext(&x, EXT_PSK_KEY_EXCHANGE_MODES);
    if (modes) {
        modes->data[0] = 2;
        modes->data[1] = 0;
        modes->data[2] = 1;
        modes->len = 3;
    }
    bind(&x, 0);
    o = serve(&x);
    CHECK(o.error == 0 && o.resumed && o.sh_psk, "psk_ke and psk_dhe_ke: resumed (error %d)",
          o.error);

    /* An identity the server cannot open, then the real one. */
    bool unknown_first[2] = {false, true};
    x = h;
    set_psk_ext(&x, 2, unknown_first, 2, lens2);
    bind(&x, 1);
    o = serve(&x);
    CHECK(o.error == 0 && o.resumed && o.sh_psk && o.selected == 1,
          "an unknown identity, then the real one: resumed with selected_identity 1 (error %d, "
          "selected %u)",
          o.error, o.selected);
    /* The same, but the real one's binder left wrong (zeros). */
    x = h;
    set_psk_ext(&x, 2, unknown_first, 2, lens2);
    bind(&x, 0);
    o = serve(&x);
    CHECK(o.error == CERTA_E_BAD_FINISHED && o.alert == ALERT_DECRYPT_ERROR &&
              strstr(o.why, "binder does not verify"),
          "the binder checked is the selected identity's: decrypt_error (%s)", o.why);
}

/* Stored sessions whose times would overflow the ticket age or expiry
 * arithmetic: refused as malformed, a full handshake (no UB under UBSan). */
static void far_times(void) {
    static const uint64_t values[] = {0x0080000068b13b80ULL, 0x7fffffffffffffffULL,
                                      0x8000000000000000ULL, 0xffffffffffffffffULL};
    static const size_t offsets[] = {3, 11}; /* auth_time, issued */
    bool all = true;
    for (size_t o = 0; o < 2; o++)
        for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
            uint8_t bad[CERTA_SESSION_MAX];
            memcpy(bad, session, session_len);
            for (int i = 0; i < 8; i++)
                bad[offsets[o] + (size_t)i] = (uint8_t)(values[v] >> (56 - 8 * i));
            session_state s;
            bool refused = session_decode(bad, session_len, &s) != 0;
            pair p = {certa_client_new_resume(ccfg, "localhost", bad, session_len),
                      certa_server_new(scfg)};
            pair_pump(&p);
            certa_info ci;
            certa_conn_info(p.client, &ci);
            bool ok = refused && certa_conn_handshake_done(p.client) && !ci.resumed;
            if (!ok)
                printf("# %s = %016llx: %s\n", o ? "issued" : "auth_time",
                       (unsigned long long)values[v],
                       refused ? certa_conn_error_text(p.client) : "decoded");
            all = all && ok;
            pair_free(&p);
        }
    CHECK(all, "stored sessions with auth_time or issued past year 9999 (or negative) are "
               "refused: full handshakes");
}

int main(void) {
    char *cert_pem = NULL, *key_pem = NULL;
    if (test_make_cert("p256", "localhost", &cert_pem, &key_pem) != 0) abort();
    scfg = certa_config_new();
    ccfg = certa_config_new();
    certa_config_set_cert_chain_pem(scfg, cert_pem, strlen(cert_pem));
    certa_config_set_private_key_pem(scfg, key_pem, strlen(key_pem));
    certa_config_set_insecure(ccfg, true);
    certa_config_set_session_cache(ccfg, 0);
    free(cert_pem);
    free(key_pem);

    pair p = {certa_client_new(ccfg, "localhost"), certa_server_new(scfg)};
    pair_pump(&p);
    session_state s;
    CHECK(certa_conn_handshake_done(p.client) &&
              certa_conn_session(p.client, session, sizeof session, &session_len) == CERTA_OK &&
              session_decode(session, session_len, &s) == 0 && s.psk_len == 32,
          "a full handshake leaves a session with a SHA-256 PSK (%s)",
          certa_conn_error_text(p.client));
    memcpy(psk, s.psk, 32);
    pair_free(&p);

    hostile_cases();
    far_times();

    certa_config_free(ccfg);
    certa_config_free(scfg);
    TEST_EXIT();
}
