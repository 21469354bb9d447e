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
        if (h->sig_only) {
            bld_u16(&b, h->sig_only);
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
        /* No share at all: a server that has a group in common must ask
         * for it by name in a HelloRetryRequest, which also names its
         * cipher suite — no key needs generating to learn either. */
        bld_u16(&b, 51);
        bld_u16(&b, 2);
        bld_u16(&b, 0);
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

int raw_parse_answer(const uint8_t *data, size_t len, raw_answer *a) {
    memset(a, 0, sizeof *a);
    cursor in;
    cur_init(&in, data, len);
    uint8_t hs[4096];
    size_t hs_len = 0;
    while (!cur_empty(&in)) {
        uint8_t type;
        uint16_t version;
        cursor body;
        if (!cur_u8(&in, &type)) return 0;
        if (type != 21 && type != 22) return -1;
        if (!cur_u16(&in, &version)) return 0;
        if (version >> 8 != 3) return -1;
        if (!cur_vec16(&in, &body)) {
            /* a record header that announces more than a record may hold */
            uint16_t n;
            cursor peek = in;
            if (cur_u16(&peek, &n) && n > 16384 + 2048) return -1;
            return 0;
        }
        if (type == 21) {
            if (hs_len) return -1; /* an alert inside a half message */
            if (!cur_u8(&body, &a->alert_level) || !cur_u8(&body, &a->alert)) return -1;
            a->outcome = RAW_ALERT;
            return 1;
        }
        size_t n = cur_left(&body);
        if (n > sizeof hs - hs_len) n = sizeof hs - hs_len;
        if (!cur_copy(&body, hs + hs_len, n)) return -1;
        hs_len += n;
        cursor msg;
        cur_init(&msg, hs, hs_len);
        uint8_t mtype;
        uint32_t mlen;
        if (!cur_u8(&msg, &mtype) || !cur_u24(&msg, &mlen)) continue;
        if (mtype != 2 || mlen > sizeof hs - 4) return -1;
        cursor sh;
        if (!cur_sub(&msg, mlen, &sh)) {
            if (hs_len == sizeof hs) return -1;
            continue;
        }
        return parse_server_hello(&sh, a) && cur_empty(&sh) ? 1 : -1;
    }
    return 0;
}
