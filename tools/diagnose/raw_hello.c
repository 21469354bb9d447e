/* certa diagnose: the raw ClientHello (built with the builder) and the
 * parser of the server's first answer (cursor API; fuzz/fuzz_diagnose.c).
 * Only the answer's first message is read: a ServerHello (or
 * HelloRetryRequest) says version, suite and group, an alert says no. */
#include "diagnose/diagnose.h"
#include "wire/cursor.h"

#include <string.h>

static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};
static const uint8_t downgrade_prefix[7] = {'D', 'O', 'W', 'N', 'G', 'R', 'D'};

/* What a client without TLS 1.3 offers for signatures (TLS 1.2). */
static const uint16_t usual_sigs[] = {0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0807,
                                      0x0808, 0x0401, 0x0501, 0x0601, 0x0201, 0x0203};

int raw_build_hello(const raw_hello *h, const char *sni, uint8_t *out, size_t cap, size_t *len) {
    builder b;
    bld_init_fixed(&b, out, cap);
    bld_u8(&b, 22); /* handshake record */
    bld_u16(&b, h->record_version);
    bld_open(&b, 2);
    bld_u8(&b, 1); /* ClientHello */
    bld_open(&b, 3);
    size_t hello_start = b.len;
    bld_u16(&b, h->legacy_version);
    uint8_t *random = bld_reserve(&b, 32);
    if (random) {
        for (int i = 0; i < 32; i++)
            random[i] = (uint8_t)(0x5a ^ (i * 37));
    }
    bld_u8(&b, 0); /* empty session id */
    bld_open(&b, 2);
    for (size_t i = 0; i < h->suite_count; i++)
        bld_u16(&b, h->suites[i]);
    if (h->fallback_scsv) bld_u16(&b, 0x5600);
    bld_close(&b);
    bld_u8(&b, 1); /* compression methods: null only */
    bld_u8(&b, 0);
    bld_open(&b, 2); /* extensions */
    if (sni && *sni) {
        bld_u16(&b, 0);
        bld_open(&b, 2);
        bld_open(&b, 2);
        bld_u8(&b, 0);
        bld_open(&b, 2);
        bld_bytes(&b, sni, strlen(sni));
        bld_close(&b);
        bld_close(&b);
        bld_close(&b);
    }
    if (h->group_count) {
        bld_u16(&b, 10); /* supported_groups */
        bld_open(&b, 2);
        bld_open(&b, 2);
        for (size_t i = 0; i < h->group_count; i++)
            bld_u16(&b, h->groups[i]);
        bld_close(&b);
        bld_close(&b);
        bld_u16(&b, 11); /* ec_point_formats: uncompressed */
        bld_u16(&b, 2);
        bld_u8(&b, 1);
        bld_u8(&b, 0);
    }
    if (h->legacy_version >= 0x0303) {
        bld_u16(&b, 13); /* signature_algorithms */
        bld_open(&b, 2);
        bld_open(&b, 2);
        if (h->sig_count) {
            for (size_t i = 0; i < h->sig_count; i++)
                bld_u16(&b, h->sigs[i]);
        } else {
            for (size_t i = 0; i < sizeof usual_sigs / sizeof usual_sigs[0]; i++)
                bld_u16(&b, usual_sigs[i]);
        }
        bld_close(&b);
        bld_close(&b);
    }
    bld_u16(&b, 23); /* extended_master_secret */
    bld_u16(&b, 0);
    if (h->reneg_info) {
        bld_u16(&b, 0xff01);
        bld_u16(&b, 1);
        bld_u8(&b, 0);
    }
    if (h->tls13) {
        bld_u16(&b, 43); /* supported_versions: 1.3, 1.2 */
        bld_u16(&b, 5);
        bld_u8(&b, 4);
        bld_u16(&b, 0x0304);
        bld_u16(&b, 0x0303);
        /* No share at all (unless x25519_share): a server that has a group
         * in common must ask for it by name in a HelloRetryRequest, which
         * also names its cipher suite — no key needs generating to learn
         * either. */
        bld_u16(&b, 51);
        bld_open(&b, 2);
        bld_open(&b, 2);
        if (h->x25519_share) {
            /* 32 bytes are an x25519 public value whatever they hold: the
             * server answers with a ServerHello or an alert, and that is all
             * a probe that holds no key reads. */
            bld_u16(&b, 0x001d);
            bld_u16(&b, 32);
            for (int i = 0; i < 32; i++)
                bld_u8(&b, (uint8_t)(0x42 + i * 7));
        }
        bld_close(&b);
        bld_close(&b);
        bld_u16(&b, 45); /* psk_key_exchange_modes: psk_dhe_ke */
        bld_u16(&b, 2);
        bld_u8(&b, 1);
        bld_u8(&b, 1);
    }
    size_t hello_len = b.len - hello_start;
    if (h->pad_to > hello_len + 4 + 4) {
        bld_u16(&b, 21); /* padding (RFC 7685) */
        size_t n = h->pad_to - hello_len - 4 - 4;
        bld_u16(&b, (uint16_t)n);
        bld_zeros(&b, n);
    }
    bld_close(&b);
    bld_close(&b);
    bld_close(&b);
    if (!bld_ok(&b)) return -1;
    *len = b.len;
    return 0;
}

static bool parse_server_hello(cursor *m, raw_answer *a) {
    uint16_t legacy;
    const uint8_t *random;
    cursor sid, exts;
    uint8_t comp;
    if (!cur_u16(m, &legacy) || !cur_bytes(m, 32, &random) || !cur_vec8(m, &sid) ||
        !cur_u16(m, &a->suite) || !cur_u8(m, &comp))
        return false;
    memcpy(a->random, random, 32);
    a->version = legacy;
    a->outcome = memcmp(random, hrr_random, 32) == 0 ? RAW_HELLO_RETRY : RAW_SERVER_HELLO;
    a->downgrade_tls12 = !memcmp(random + 24, downgrade_prefix, 7) && random[31] == 1;
    a->downgrade_tls11 = !memcmp(random + 24, downgrade_prefix, 7) && random[31] == 0;
    if (cur_empty(m)) return true; /* no extensions (TLS 1.0-1.2) */
    if (!cur_vec16(m, &exts) || !cur_empty(m)) return false;
    while (!cur_empty(&exts)) {
        uint16_t type, v;
        cursor body;
        if (!cur_u16(&exts, &type) || !cur_vec16(&exts, &body)) return false;
        if (type == 43) {
            if (!cur_u16(&body, &v)) return false;
            a->version = v;
        } else if (type == 51) {
            if (!cur_u16(&body, &v)) return false;
            a->group = v;
        } else if (type == 0xff01) {
            a->reneg_info = true;
        }
    }
    return true;
}

static bool is_ecdhe(uint16_t suite) {
    return (suite >= 0xc001 && suite <= 0xc038) || suite == 0xcca8 || suite == 0xcca9;
}
static bool is_dhe(uint16_t suite) {
    static const uint16_t dhe[] = {0x0033, 0x0039, 0x0067, 0x006b, 0x009e, 0x009f, 0xccaa};
    for (size_t i = 0; i < sizeof dhe / sizeof dhe[0]; i++)
        if (dhe[i] == suite) return true;
    return false;
}

/* ServerKeyExchange (RFC 8422 5.4, RFC 5246 7.4.3): the ECDHE group or the
 * DH prime's size, and (TLS 1.2) the signature scheme. */
static void parse_server_key_exchange(cursor *m, raw_answer *a) {
    cursor point, p, g, ys, sig;
    uint8_t curve_type;
    uint16_t group = 0, scheme = 0;
    unsigned dh_bits = 0;
    if (is_ecdhe(a->suite)) {
        if (!cur_u8(m, &curve_type) || curve_type != 3 || !cur_u16(m, &group) ||
            !cur_vec8(m, &point))
            return;
    } else if (is_dhe(a->suite)) {
        if (!cur_vec16(m, &p) || !cur_vec16(m, &g) || !cur_vec16(m, &ys)) return;
        uint8_t lead = 0;
        while (cur_left(&p) && cur_u8(&p, &lead) && lead == 0) {
        }
        if (lead) {
            dh_bits = (unsigned)cur_left(&p) * 8 + 8;
            for (uint8_t top = 0x80; top && !(lead & top); top >>= 1)
                dh_bits--;
        }
    } else {
        return;
    }
    if (a->version >= 0x0303 && (!cur_u16(m, &scheme) || !cur_vec16(m, &sig))) return;
    a->ske_seen = true;
    a->ske_group = group;
    a->ske_sig = scheme;
    a->dh_bits = dh_bits;
}

#define RAW_HS_MAX 32768

int raw_parse_answer(const uint8_t *data, size_t len, bool want_ske, raw_answer *a) {
    memset(a, 0, sizeof *a);
    cursor in;
    cur_init(&in, data, len);
    uint8_t hs[RAW_HS_MAX];
    size_t hs_len = 0, consumed = 0;
    bool have_hello = false;
    while (!cur_empty(&in)) {
        uint8_t type;
        uint16_t version;
        cursor body;
        if (!cur_u8(&in, &type)) return 0;
        if (type != 21 && type != 22) return have_hello ? 1 : -1;
        if (!cur_u16(&in, &version)) return 0;
        if (version >> 8 != 3) return have_hello ? 1 : -1;
        if (!cur_vec16(&in, &body)) {
            /* a record header that announces more than a record may hold */
            uint16_t n;
            cursor peek = in;
            if (cur_u16(&peek, &n) && n > 16384 + 2048) return have_hello ? 1 : -1;
            return 0;
        }
        if (type == 21) {
            if (have_hello) return 1; /* the ServerHello is the answer */
            if (hs_len) return -1;    /* an alert inside a half message */
            if (!cur_u8(&body, &a->alert_level) || !cur_u8(&body, &a->alert)) return -1;
            a->outcome = RAW_ALERT;
            return 1;
        }
        size_t n = cur_left(&body);
        if (n > sizeof hs - hs_len) return have_hello ? 1 : -1;
        if (!cur_copy(&body, hs + hs_len, n)) return -1;
        hs_len += n;
        for (;;) {
            cursor msg, m;
            uint8_t mtype;
            uint32_t mlen;
            cur_init(&msg, hs + consumed, hs_len - consumed);
            if (!cur_u8(&msg, &mtype) || !cur_u24(&msg, &mlen)) break;
            if (mlen > sizeof hs - 4) return have_hello ? 1 : -1;
            if (!cur_sub(&msg, mlen, &m)) break;
            consumed += 4 + mlen;
            if (!have_hello) {
                if (mtype != 2 || !parse_server_hello(&m, a) || !cur_empty(&m)) return -1;
                have_hello = true;
                /* TLS 1.3 encrypts the rest; an HRR ends the flight */
                if (!want_ske || a->outcome != RAW_SERVER_HELLO || a->version > 0x0303) return 1;
                continue;
            }
            if (mtype == 12) {
                parse_server_key_exchange(&m, a);
                return 1;
            }
            /* Certificate, CertificateStatus come first; anything else
             * (ServerHelloDone: RSA key exchange) means no ServerKeyExchange */
            if (mtype != 11 && mtype != 22) return 1;
        }
    }
    return 0;
}
