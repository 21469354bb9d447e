/* Which code src/pq runs: its AVX2 functions (x86-64, compiled with
 * per-function target attributes, so the rest of the build stays baseline
 * x86-64) or the portable C. The AVX2 path is taken when the CPU (and the
 * OS, for the YMM state) supports AVX2 (and POPCNT, which every AVX2 CPU
 * has), unless the environment variable
 * CERTA_NO_AVX2 is set to a non-empty value other than "0" (read once), or
 * a test asked for the portable path. Both paths compute the same bytes;
 * tests run both. */
#ifndef CERTA_PQ_CPU_H
#define CERTA_PQ_CPU_H

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define PQ_HAVE_AVX2_CODE 1
#define PQ_AVX2 __attribute__((target("avx2")))
#else
#define PQ_HAVE_AVX2_CODE 0
#endif

/* 1 when the AVX2 functions are to be used. */
int pq_avx2(void);
/* Test hook: 1 forces the portable path from now on, 0 returns to the
 * default (AVX2 when available). */
void pq_force_portable(int on);

#endif
