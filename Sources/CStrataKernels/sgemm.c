// A single-threaded sgemm for the small products convolutions make: Winograd's 16
// products per band of tiles (32–64 channels × ~128 tiles) and 1×1 convolutions on
// planes of 8×8 or 16×16 pixels (hundreds of channels × 64–256 pixels). OpenBLAS spends
// a third or more of such a call on its own overhead; this reached 65–85 GFLOP/s on one
// core where OpenBLAS reached 50–75 (the figures are in BENCHMARKS.md).
#include "CStrataKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>

/// One block of C, `R` rows × 16 columns, over `kc` terms: 2R accumulators (twelve at
/// most, with two registers of B and one broadcast of A: fifteen of the sixteen), B from a
/// packed panel of 16 floats per term. Stores `columns` (≤ 16) of each row, added to C
/// unless `first`.
__attribute__((target("avx2,fma"), always_inline))
static inline void sgemm_block(const int R, long kc, const float *a, long lda, const float *panel, float *c, long ldc,
                               int first, int columns) {
    __m256 acc[12];
    for (int i = 0; i < 2 * R; i++) acc[i] = _mm256_setzero_ps();
    for (long p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(panel + 16 * p), b1 = _mm256_load_ps(panel + 16 * p + 8);
        for (int r = 0; r < R; r++) {
            const __m256 ar = _mm256_broadcast_ss(a + r * lda + p);
            acc[2 * r] = _mm256_fmadd_ps(ar, b0, acc[2 * r]);
            acc[2 * r + 1] = _mm256_fmadd_ps(ar, b1, acc[2 * r + 1]);
        }
    }
    if (columns == 16) {
        for (int r = 0; r < R; r++)
            for (int v = 0; v < 2; v++) {
                float *q = c + r * ldc + 8 * v;
                _mm256_storeu_ps(q, first ? acc[2 * r + v] : _mm256_add_ps(_mm256_loadu_ps(q), acc[2 * r + v]));
            }
        return;
    }
    float stage[16] __attribute__((aligned(32)));
    for (int r = 0; r < R; r++) {
        _mm256_store_ps(stage, acc[2 * r]);
        _mm256_store_ps(stage + 8, acc[2 * r + 1]);
        for (int j = 0; j < columns; j++) c[r * ldc + j] = first ? stage[j] : c[r * ldc + j] + stage[j];
    }
}

/// Rows 0..<m against one packed panel, in blocks of six; the last 7 or 8 rows as two
/// blocks (of four and three or four), since a block of one or two rows leaves most of
/// the multiply-add units idle.
__attribute__((target("avx2,fma"), always_inline))
static inline void sgemm_rows(long m, long kc, const float *a, long lda, const float *panel, float *c, long ldc, int first, int columns) {
    for (long i = 0; i < m;) {
        const long left = m - i;
        const int rows = left >= 9 || left == 6 ? 6 : left > 6 ? 4 : (int)left;
        const float *ai = a + i * lda;
        float *ci = c + i * ldc;
        // Each case a constant, so the accumulators live in registers.
        switch (rows) {
        case 6: sgemm_block(6, kc, ai, lda, panel, ci, ldc, first, columns); break;
        case 5: sgemm_block(5, kc, ai, lda, panel, ci, ldc, first, columns); break;
        case 4: sgemm_block(4, kc, ai, lda, panel, ci, ldc, first, columns); break;
        case 3: sgemm_block(3, kc, ai, lda, panel, ci, ldc, first, columns); break;
        case 2: sgemm_block(2, kc, ai, lda, panel, ci, ldc, first, columns); break;
        default: sgemm_block(1, kc, ai, lda, panel, ci, ldc, first, columns); break;
        }
        i += rows;
    }
}

/// The calling thread's panel buffer, grown as needed and kept for its next product.
static float *sgemm_panels(size_t count) {
    static _Thread_local float *buffer = NULL;
    static _Thread_local size_t capacity = 0;
    if (count > capacity) {
        free(buffer);
        buffer = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
        capacity = buffer ? count : 0;
    }
    return buffer;
}

__attribute__((target("avx2,fma")))
static int sgemm_avx2(long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    // Terms in equal chunks of at most 256 (a short last chunk would reload C for little work).
    const long chunks = (k + 255) / 256, kc_max = (k + chunks - 1) / chunks;
    // Columns per packed chunk of B: about 128 KiB of it, so it stays in L2 while every row
    // block of A passes over it; one 16-column panel (≤ 16 KiB) stays in L1 meanwhile.
    long nc = (32768 / kc_max) / 16 * 16;
    if (nc < 16) nc = 16;
    float *packed = sgemm_panels((size_t)kc_max * nc);
    if (!packed) return 0;
    const long row_block = 48;
    for (long j0 = 0; j0 < n; j0 += nc) {
        const long columns = n - j0 < nc ? n - j0 : nc, panels = (columns + 15) / 16;
        for (long p0 = 0; p0 < k; p0 += kc_max) {
            const long kc = k - p0 < kc_max ? k - p0 : kc_max;
            // Panel q: columns j0 + 16q … of every term, contiguous, zeros past the last column.
            for (long q = 0; q < panels; q++) {
                const long width = columns - 16 * q < 16 ? columns - 16 * q : 16;
                float *to = packed + q * 16 * kc;
                const float *from = b + p0 * ldb + j0 + 16 * q;
                if (width == 16) {
                    for (long p = 0; p < kc; p++) {
                        _mm256_store_ps(to + 16 * p, _mm256_loadu_ps(from + p * ldb));
                        _mm256_store_ps(to + 16 * p + 8, _mm256_loadu_ps(from + p * ldb + 8));
                    }
                } else {
                    for (long p = 0; p < kc; p++)
                        for (long j = 0; j < 16; j++) to[16 * p + j] = j < width ? from[p * ldb + j] : 0.0f;
                }
            }
            // Rows in blocks of 48, so a block's A (48 × kc) stays in L2 across the panels.
            for (long i0 = 0; i0 < m; i0 += row_block) {
                const long rows = m - i0 < row_block ? m - i0 : row_block;
                for (long q = 0; q < panels; q++) {
                    const long width = columns - 16 * q < 16 ? columns - 16 * q : 16;
                    sgemm_rows(rows, kc, a + i0 * lda + p0, lda, packed + q * 16 * kc, c + i0 * ldc + j0 + 16 * q, ldc, p0 == 0, (int)width);
                }
            }
        }
    }
    return 1;
}
#endif

int strata_sgemm(long m, long n, long k, const float *a, long lda, const float *b, long ldb, float *c, long ldc) {
    if (m <= 0 || n <= 0 || k <= 0 || !strata_has_avx2_fma()) return 0;
#if defined(__x86_64__)
    return sgemm_avx2(m, n, k, a, lda, b, ldb, c, ldc);
#else
    (void)a; (void)lda; (void)b; (void)ldb; (void)c; (void)ldc;
    return 0;
#endif
}
