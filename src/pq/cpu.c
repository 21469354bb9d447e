/* Runtime choice between src/pq's AVX2 and portable code (cpu.h). */
#include "pq/cpu.h"

#include <stdlib.h>
#include <string.h>

/* -1: not decided yet; 0 or 1 after. Races are benign: every thread
 * computes the same value. */
static int detected = -1;
static int forced_portable;

static int detect(void) {
#if PQ_HAVE_AVX2_CODE
    const char *env = getenv("CERTA_NO_AVX2");
    if (env != NULL && *env != 0 && strcmp(env, "0") != 0) return 0;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("popcnt") ? 1 : 0;
#else
    return 0;
#endif
}

int pq_avx2(void) {
    if (__atomic_load_n(&forced_portable, __ATOMIC_RELAXED)) return 0;
    int d = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (d < 0) {
        d = detect();
        __atomic_store_n(&detected, d, __ATOMIC_RELAXED);
    }
    return d;
}

void pq_force_portable(int on) {
    __atomic_store_n(&forced_portable, on ? 1 : 0, __ATOMIC_RELAXED);
}
