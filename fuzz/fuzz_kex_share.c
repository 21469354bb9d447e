/* Key shares of every group as a peer may send them: the server's answer
 * (kex_respond) to a fuzzed client share, and the client's derivation
 * (kex_derive) from a fuzzed server share, for the hybrids (ML-KEM ek / ct
 * parsing, the modulus check, decapsulation input) and the (EC)DH groups.
 *
 * Input: byte 0 picks the group, byte 1 the direction (even: we are the
 * server, odd: the client), the rest is the peer's share. Any result is
 * allowed; on success the outputs must have the group's sizes, and the two
 * sides of a real exchange built from the fuzzed input must agree. */
#include "certa.h"
#include "crypto/crypto.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) abort();                                                                      \
    } while (0)

static const uint16_t groups[] = {
    CERTA_GROUP_X25519MLKEM768, CERTA_GROUP_SECP256R1MLKEM768, CERTA_GROUP_SECP384R1MLKEM1024,
    CERTA_GROUP_X25519,         CERTA_GROUP_SECP256R1,         CERTA_GROUP_SECP384R1,
    CERTA_GROUP_X448,           CERTA_GROUP_SECP521R1,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    uint16_t g = groups[data[0] % (sizeof groups / sizeof groups[0])];
    bool as_server = (data[1] & 1) == 0;
    const uint8_t *peer = data + 2;
    size_t peer_len = size - 2;
    uint8_t pub[CRYPTO_MAX_PUBKEY], secret[CRYPTO_MAX_SHARED], secret2[CRYPTO_MAX_SHARED];
    size_t pub_len = 0, secret_len = 0, secret2_len = 0;
    if (as_server) {
        int r = kex_respond(g, peer, peer_len, pub, &pub_len, secret, &secret_len);
        CHECK(r == 0 || r == KEX_BAD_PEER || r == KEX_FAILED);
        if (r == 0) CHECK(pub_len > 0 && pub_len <= CRYPTO_MAX_PUBKEY && secret_len > 0);
        return 0;
    }
    kex_state *st = NULL;
    CHECK(kex_generate(g, &st, pub, &pub_len) == 0);
    (void)kex_derive(g, st, peer, peer_len, secret, &secret_len);
    /* And a real answer to our share derives the server's secret. */
    uint8_t answer[CRYPTO_MAX_PUBKEY];
    size_t answer_len = 0;
    CHECK(kex_respond(g, pub, pub_len, answer, &answer_len, secret, &secret_len) == 0);
    CHECK(kex_derive(g, st, answer, answer_len, secret2, &secret2_len) == 0);
    CHECK(secret2_len == secret_len && memcmp(secret, secret2, secret_len) == 0);
    kex_free(st);
    return 0;
}
