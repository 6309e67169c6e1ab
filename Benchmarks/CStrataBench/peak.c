// The processor's own peak, for BENCHMARKS.md's "share of peak" column: the FMA rate of
// registers alone, timed with the monotonic clock.
#include "CStrataBench.h"

#include <time.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#if defined(__x86_64__)
__attribute__((target("avx512f,fma")))
static double peak512(long iterations) {
    __m512 a[12];
    const __m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
    for (int i = 0; i < 12; i++) a[i] = _mm512_set1_ps((float)i);
    const double start = now();
    for (long n = 0; n < iterations; n++) {
        for (int i = 0; i < 12; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
        __asm__ volatile("" : "+v"(a[0]), "+v"(a[1]), "+v"(a[2]), "+v"(a[3]), "+v"(a[4]), "+v"(a[5]));
    }
    const double seconds = now() - start;
    float sink[16];
    __m512 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm512_add_ps(s, a[i]);
    _mm512_storeu_ps(sink, s);
    __asm__ volatile("" : : "r"(sink) : "memory");
    return (double)iterations * 12 * 16 * 2 / seconds;
}

__attribute__((target("avx2,fma")))
static double peak256(long iterations) {
    __m256 a[12];
    const __m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
    for (int i = 0; i < 12; i++) a[i] = _mm256_set1_ps((float)i);
    const double start = now();
    for (long n = 0; n < iterations; n++) {
        for (int i = 0; i < 12; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
        __asm__ volatile("" : "+x"(a[0]), "+x"(a[1]), "+x"(a[2]), "+x"(a[3]), "+x"(a[4]), "+x"(a[5]));
    }
    const double seconds = now() - start;
    float sink[8];
    __m256 s = a[0];
    for (int i = 1; i < 12; i++) s = _mm256_add_ps(s, a[i]);
    _mm256_storeu_ps(sink, s);
    __asm__ volatile("" : : "r"(sink) : "memory");
    return (double)iterations * 12 * 8 * 2 / seconds;
}
#endif

double strata_bench_fma_peak(int isa, long iterations) {
#if defined(__x86_64__)
    if (isa >= 2) return peak512(iterations);
    if (isa == 1) return peak256(iterations);
#endif
    (void)isa;
    (void)iterations;
    return 0;
}
