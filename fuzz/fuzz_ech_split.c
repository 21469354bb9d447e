/* certa proxy's ECH split mode, the client's first (and, after a
 * HelloRetryRequest, second) flight as it arrives from the network
 * (tools/proxy/ech_split_hello.c, compiled in): records gathered into a
 * ClientHello, ChangeCipherSpec records before a second one, then
 * ech_open_client_hello. Byte 0: bit 0 picks the first or the second
 * hello (the second with a state that has a context); the rest is the
 * stream. Properties: a sentence with every verdict; consumed within the
 * input; an inner verdict's output is whole records, CCS or handshake. */
#include <stdlib.h>
#include <string.h>

#include "../tools/proxy/ech_split_hello.c"
#include "fuzz_ech_key.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const ech_key *key = fuzz_ech_key();
    if (size < 1) return 0;
    bool first = (data[0] & 1) == 0;
    uint8_t *in = malloc(size - 1 ? size - 1 : 1); /* exactly the input: ASan sees overreads */
    CHECK(in != NULL);
    memcpy(in, data + 1, size - 1);
    ech_open_state st;
    memset(&st, 0, sizeof st);
    st.have_context = !first;
    st.suite.kdf = HPKE_KDF_HKDF_SHA256;
    st.suite.aead = HPKE_AEAD_AES_128_GCM;
    st.config_id = 7;
    split_hello h;
    split_client_hello(key, 1, in, size - 1, first, false, &st, &h);
    CHECK(h.verdict == SPLIT_NEED_MORE || h.why != NULL);
    CHECK(h.consumed <= size - 1);
    if (h.verdict == SPLIT_INNER) {
        cursor c;
        cur_init(&c, h.out.buf, h.out.len);
        uint8_t type;
        uint16_t version, len;
        cursor frag;
        while (cur_u8(&c, &type) && cur_u16(&c, &version) && cur_u16(&c, &len)) {
            CHECK(type == 20 || type == 22);
            CHECK(cur_sub(&c, len, &frag));
        }
        CHECK(cur_empty(&c));
        bld_free(&h.out);
    }
    hpke_ctx_wipe(&st.hpke);
    free(in);
    return 0;
}
