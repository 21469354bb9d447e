/* ML-KEM's stack (src/pq/mlkem.c keeps everything there, no heap): after
 * keygen, encaps and decaps return, the stack they used is searched for the
 * secrets they handled — the seed's d, σ, s-hat (as the int16 coefficients
 * held while computing), m, K and r from G(m || H(ek)), and for a rejected
 * ciphertext the implicit-rejection key J(z || c). A copy left behind is a
 * failure naming the secret. The same pass measures how deep each operation
 * goes (the stack is painted first), for mlkem.h's stack figures.
 *
 * The detector is checked first: a function returning with a secret left in
 * a local buffer must be caught. The scan reads dead stack below the current
 * frame, so it is exempt from AddressSanitizer (which poisons some of it).
 * The figures are the bytes below deep_call's frame: the operation's own
 * frames, the library's and libc's (memcpy) included. */
#include "pq/cpu.h"
#include "pq/keccak.h"
#include "pq/mlkem.h"
#include "testlib.h"

#include <openssl/rand.h>

#define SCAN_BYTES (64 * 1024)
#define PAINT 0xa5

#if defined(__clang__) || defined(__GNUC__)
#define NO_ASAN __attribute__((no_sanitize_address, noinline))
#else
#define NO_ASAN
#endif
#define NOINLINE __attribute__((noinline))

typedef struct needle {
    const char *name;
    uint8_t bytes[32];
} needle;
static needle needles[8];
static int needle_count;
static const char *found[8];
static int found_count;
static size_t depth; /* deepest byte written below the scanner's frame */

static void add_needle(const char *name, const void *p) {
    needles[needle_count].name = name;
    memcpy(needles[needle_count].bytes, p, 32);
    needle_count++;
}

/* Fills the stack below with PAINT (a frame as large as the scan). */
NO_ASAN static void paint(void) {
    volatile uint8_t area[SCAN_BYTES];
    for (size_t i = 0; i < sizeof area; i++)
        area[i] = PAINT;
}

/* Operations run below a PAD-byte frame (deep_call), so that the scanner,
 * called from their caller, only overwrites the pad with its own frame. */
#define PAD 1024

/* Looks through the SCAN_BYTES below the pad for each needle, and for the
 * lowest byte no longer painted. */
NO_ASAN static void scan(void) {
    uintptr_t base = (uintptr_t)__builtin_frame_address(0);
    const volatile uint8_t *top = (const volatile uint8_t *)(base - PAD);
    const volatile uint8_t *low = (const volatile uint8_t *)(base - SCAN_BYTES + 512);
    found_count = 0;
    for (int k = 0; k < needle_count; k++) {
        for (const volatile uint8_t *p = low; p + 32 <= top; p++) {
            if (p[0] != needles[k].bytes[0]) continue;
            int i = 1;
            while (i < 32 && p[i] == needles[k].bytes[i])
                i++;
            if (i == 32) {
                found[found_count++] = needles[k].name;
                break;
            }
        }
    }
    const volatile uint8_t *p = low;
    while (p < top && *p == PAINT)
        p++;
    depth = (size_t)(top - p);
}

typedef void (*op_fn)(mlkem_kind k);

NOINLINE static void deep_call(op_fn fn, mlkem_kind k) {
    uint8_t pad[PAD];
    pad[0] = 0;
    __asm__ volatile("" : : "r"(pad) : "memory"); /* the pad stays in the frame */
    fn(k);
    __asm__ volatile("" : : "r"(pad) : "memory");
}

static uint8_t ek[MLKEM1024_EK_BYTES], dk[MLKEM1024_DK_BYTES], ct[MLKEM1024_CT_BYTES];
static uint8_t seed[64], m[32], ss[32];

NOINLINE static void leave_secret(mlkem_kind unused) {
    (void)unused;
    uint8_t buf[64];
    memcpy(buf + 7, needles[0].bytes, 32);
    __asm__ volatile("" : : "r"(buf) : "memory");
}

NOINLINE static void op_keygen(mlkem_kind k) {
    mlkem_keygen(k, seed, ek, dk);
}
NOINLINE static void op_encaps(mlkem_kind k) {
    if (mlkem_encaps(k, ek, m, ct, ss) != 0) abort();
}
NOINLINE static void op_decaps(mlkem_kind k) {
    if (mlkem_decaps(k, dk, ct, ss) != 0) abort();
}

static void report(const char *what, size_t *max_depth) {
    for (int i = 0; i < found_count; i++)
        printf("# %s: %s left on the stack\n", what, found[i]);
    if (depth > *max_depth) *max_depth = depth;
    CHECK(found_count == 0, "%s: none of %d secrets left on the stack (used %zu bytes)", what,
          needle_count, depth);
}

/* s-hat's first 16 coefficients as keygen/decaps hold them: centred int16. */
static void s_hat_needle(const uint8_t *dk_pke, uint8_t out[32]) {
    for (int i = 0; i < 16; i++) {
        int v = i % 2 ? dk_pke[3 * (i / 2) + 1] >> 4 | dk_pke[3 * (i / 2) + 2] << 4
                      : dk_pke[3 * (i / 2)] | (dk_pke[3 * (i / 2) + 1] & 0x0f) << 8;
        int16_t c = (int16_t)(v > 3329 / 2 ? v - 3329 : v);
        memcpy(out + 2 * i, &c, 2);
    }
}

static void check_kind(mlkem_kind kind, const char *name, size_t use[3]) {
    char what[64];
    uint8_t g[64], buf[64], ekh[32];
    const size_t k = kind == MLKEM768 ? 3 : 4, ek_len = 384 * k + 32;
    if (RAND_bytes(seed, 64) != 1 || RAND_bytes(m, 32) != 1) abort();

    needle_count = 0;
    add_needle("d", seed);
    memcpy(buf, seed, 32);
    buf[32] = (uint8_t)k;
    sha3_512(buf, 33, g);
    add_needle("sigma", g + 32);
    paint();
    deep_call(op_keygen, kind);
    scan();
    s_hat_needle(dk, buf);
    add_needle("s-hat", buf); /* known only now: searched in the decaps pass below too */
    snprintf(what, sizeof what, "%s keygen", name);
    report(what, &use[0]);

    needle_count = 0;
    add_needle("m", m);
    memcpy(buf, m, 32);
    sha3_256(ek, ek_len, buf + 32);
    sha3_512(buf, 64, g);
    add_needle("K", g);
    add_needle("r", g + 32);
    paint();
    deep_call(op_encaps, kind);
    scan();
    snprintf(what, sizeof what, "%s encaps", name);
    report(what, &use[1]);

    add_needle("s-hat", (s_hat_needle(dk, buf), buf)); /* m' = m, K', r' as above */
    paint();
    deep_call(op_decaps, kind);
    scan();
    snprintf(what, sizeof what, "%s decaps", name);
    report(what, &use[2]);

    ct[5] ^= 1; /* rejected: the secret is J(z || c) */
    keccak_sponge j;
    shake256_init(&j);
    keccak_absorb(&j, dk + mlkem_dk_bytes(kind) - 32, 32);
    keccak_absorb(&j, ct, mlkem_ct_bytes(kind));
    keccak_squeeze(&j, ekh, 32);
    needle_count = 0;
    add_needle("K-bar", ekh);
    s_hat_needle(dk, buf);
    add_needle("s-hat", buf);
    paint();
    deep_call(op_decaps, kind);
    scan();
    snprintf(what, sizeof what, "%s decaps (rejected ciphertext)", name);
    report(what, &use[2]);
    CHECK(memcmp(ss, ekh, 32) == 0, "%s: the rejected ciphertext gave J(z || c)", name);
}

int main(void) {
    /* Warm up: the first calls resolve libc symbols (memcpy, memset), and the
     * dynamic linker's resolver uses stack that is not ML-KEM's. */
    if (RAND_bytes(seed, 64) != 1 || RAND_bytes(m, 32) != 1) abort();
    op_keygen(MLKEM768);
    op_encaps(MLKEM768);
    op_decaps(MLKEM768);

    /* The detector: a secret left in a returning function's buffer. */
    needle_count = 0;
    uint8_t canary[32];
    for (int i = 0; i < 32; i++)
        canary[i] = (uint8_t)(0xc3 ^ (i * 29));
    add_needle("canary", canary);
    paint();
    deep_call(leave_secret, MLKEM768);
    scan();
    CHECK(found_count == 1, "detector: a secret left in a dead stack frame is found");

    /* Both paths (pq/cpu.h): the portable one, then the default (AVX2 when
     * the CPU has it, whose four-way Keccak buffers take more). */
    size_t use768[3] = {0}, use1024[3] = {0}, worst = 0;
    for (int path = 0; path < 2; path++) {
        pq_force_portable(path == 0);
        const char *name = path == 0 ? "portable" : pq_avx2() ? "AVX2" : "default (portable)";
        check_kind(MLKEM768, "ML-KEM-768", use768);
        check_kind(MLKEM1024, "ML-KEM-1024", use1024);
        printf("# stack use (bytes), %s: 768 keygen %zu encaps %zu decaps %zu; "
               "1024 keygen %zu encaps %zu decaps %zu\n",
               name, use768[0], use768[1], use768[2], use1024[0], use1024[1], use1024[2]);
        if (use1024[2] > worst) worst = use1024[2];
    }
    pq_force_portable(0);
#if defined(__SANITIZE_ADDRESS__)
    const size_t limit = 24 * 1024; /* ASan's redzones around every local */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    const size_t limit = 24 * 1024;
#else
    const size_t limit = 16 * 1024;
#endif
#else
    const size_t limit = 16 * 1024;
#endif
    CHECK(worst < limit,
          "ML-KEM-1024 decaps uses under %zu KiB of stack on either path (%zu bytes)", limit / 1024,
          worst);
    TEST_EXIT();
}
