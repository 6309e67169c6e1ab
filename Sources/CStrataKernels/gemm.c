// StrataNN's single-precision matrix product, with kernels chosen at run time from the
// processor's feature bits (never from a table of models, which is how a distribution's
// OpenBLAS falls back to SSE3 kernels on a CPU newer than itself).
//
// The structure is the one of GotoBLAS and BLIS (Goto & van de Geijn 2008, "Anatomy of
// high-performance matrix multiplication"; Van Zee & van de Geijn 2015): for each chunk of
// kc terms, op(A) is packed into panels of MR rows and op(B) into panels of NR columns, so
// a micro-kernel reads both contiguously and keeps an MR × NR block of C in registers.
// A's panel (MR × kc) stays in L1 while the micro-kernel sweeps B's panels, which stay in
// L2 (kc × nc); the sizes come from the cache sizes the OS reports. Transposed operands
// are read in place by the packing, and the packing and the blocks of C are spread over
// Strata's worker pool.
#include "CStrataKernels.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef float gemm_f4 __attribute__((ext_vector_type(4)));

/// What a tile of C ends with after its last chunk of terms (a convolution's epilogue, in
/// registers before the store): row r plus `bias`[r] (unless NULL), clamped to [lo, hi],
/// plus `residual`[r · ldr + j] (unless NULL). The pointers are the tile's own.
typedef struct {
    const float *bias;
    float lo, hi;
    const float *residual;
    long ldr;
} gemm_tail;

/// One micro-kernel: C[0..<rows, 0..<cols] = alpha · Σ_p Ap[p] ⊗ Bp[p] + beta · C, where
/// C is read only if `read_c`, then finished by `tail` unless it is NULL. A is a packed
/// panel (MR floats a term) where `lda` is 0, or A's rows in place, `lda` apart; term p of
/// B is NR floats at bp + p·ldb.
typedef void (*gemm_kernel)(int rows, long kc, const float *ap, long lda, const float *bp, long ldb, float *c, long ldc,
                            float alpha, float beta, int read_c, int cols, const gemm_tail *tail);

/// Copies `height` (≤ MR) rows of A, `lda` apart, `kc` terms each, into a panel (term p
/// at to[p·MR + r]; rows past `height` zeros): a transposing copy, with AVX-512's gathers
/// (14 rows: 1370×384×1536 on one core 80–85 → 91–96 GFLOP/s; AVX2's gathers of 6 rows
/// were slower than the scalar copy).
typedef void (*gemm_packer)(const float *from, long lda, long kc, int mr, int height, float *to);

/// Copies B's columns [j0, j0 + cols), terms [p0, p0 + kc) (transposed in place when
/// `trans`) into panels of `nr` columns (term p of panel q at dst[q·nr·kc + p·nr]).
typedef void (*gemm_b_packer)(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc, int nr, float *dst);

typedef struct {
    int mr, nr;
    gemm_kernel kernel;
    gemm_packer pack_rows;
    gemm_b_packer pack_b;
} gemm_path;

static void pack_rows_generic(const float *from, long lda, long kc, int mr, int height, float *to) {
    for (long r = 0; r < height; r++)
        for (long p = 0; p < kc; p++) to[p * mr + r] = from[r * lda + p];
    for (long r = height; r < mr; r++)
        for (long p = 0; p < kc; p++) to[p * mr + r] = 0;
}

// MARK: - Micro-kernels

// A kernel's block for a constant row count and A packed or in place, so the accumulators
// live in registers and the loads of A take no branch.
#define GEMM_CALL(prefix, R)                                                                                    \
    if (lda) prefix##_block(R, 1, kc, ap, lda, bp, ldb, c, ldc, alpha, beta, read_c, cols, tail);               \
    else prefix##_block(R, 0, kc, ap, 0, bp, ldb, c, ldc, alpha, beta, read_c, cols, tail);                     \
    break;
#define GEMM_CASE(prefix, R) case R: GEMM_CALL(prefix, R)

/// The portable kernel (clang's vector extensions: SSE2 on any x86-64, NEON on arm64):
/// 4 rows × 8 columns, eight 4-wide accumulators.
enum { generic_mr = 4, generic_nr = 8 };

__attribute__((always_inline))
static inline void generic_block(const int R, const int in_place, long kc, const float *ap, long lda, const float *bp, long ldb, float *c, long ldc, float alpha,
                                 float beta, int read_c, int cols, const gemm_tail *tail) {
    gemm_f4 acc[2 * generic_mr];
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < 2 * R; i++) acc[i] = (gemm_f4)0;
    for (long p = 0; p < kc; p++) {
        gemm_f4 b0, b1;
        memcpy(&b0, bp + ldb * p, sizeof b0);
        memcpy(&b1, bp + ldb * p + 4, sizeof b1);
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < R; r++) {
            const gemm_f4 a = (gemm_f4)(in_place ? ap[r * lda + p] : ap[generic_mr * p + r]);
            acc[2 * r] += a * b0;
            acc[2 * r + 1] += a * b1;
        }
    }
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < R; r++) {
        float row[generic_nr];
        memcpy(row, &acc[2 * r], sizeof acc[0]);
        memcpy(row + 4, &acc[2 * r + 1], sizeof acc[0]);
        float *q = c + r * ldc;
        for (int j = 0; j < cols; j++) {
            float x = read_c ? alpha * row[j] + beta * q[j] : alpha * row[j];
            if (tail) {
                if (tail->bias) x += tail->bias[r];
                x = x < tail->lo ? tail->lo : (x > tail->hi ? tail->hi : x);
                if (tail->residual) x += tail->residual[r * tail->ldr + j];
            }
            q[j] = x;
        }
    }
}

static void generic_kernel(int rows, long kc, const float *ap, long lda, const float *bp, long ldb, float *c, long ldc, float alpha, float beta,
                          int read_c, int cols, const gemm_tail *tail) {
    switch (rows) {
    GEMM_CASE(generic, 4)
    GEMM_CASE(generic, 3)
    GEMM_CASE(generic, 2)
    default: GEMM_CALL(generic, 1)
    }
}

#if defined(__x86_64__)
/// AVX2 with FMA: 6 rows × 16 columns, twelve accumulators, two registers of B and one
/// broadcast of A (fifteen of the sixteen registers).
enum { avx2_mr = 6, avx2_nr = 16 };

__attribute__((target("avx2,fma"), always_inline))
static inline void avx2_block(const int R, const int in_place, long kc, const float *ap, long lda, const float *bp, long ldb, float *c, long ldc, float alpha,
                              float beta, int read_c, int cols, const gemm_tail *tail) {
    __m256 acc[2 * avx2_mr];
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < 2 * R; i++) acc[i] = _mm256_setzero_ps();
    for (long p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_loadu_ps(bp + ldb * p), b1 = _mm256_loadu_ps(bp + ldb * p + 8);
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < R; r++) {
            const __m256 a = _mm256_broadcast_ss(in_place ? ap + r * lda + p : ap + avx2_mr * p + r);
            acc[2 * r] = _mm256_fmadd_ps(a, b0, acc[2 * r]);
            acc[2 * r + 1] = _mm256_fmadd_ps(a, b1, acc[2 * r + 1]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const __m256 lo = _mm256_set1_ps(tail ? tail->lo : 0), hi = _mm256_set1_ps(tail ? tail->hi : 0);
    if (cols == avx2_nr) {
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < R; r++)
            _Pragma("clang loop unroll(full)")
            for (int v = 0; v < 2; v++) {
                float *q = c + r * ldc + 8 * v;
                __m256 x = _mm256_mul_ps(va, acc[2 * r + v]);
                if (read_c) x = _mm256_fmadd_ps(vb, _mm256_loadu_ps(q), x);
                if (tail) {
                    // max/min with x second: a NaN in x stays NaN, as the scalar clamp keeps it.
                    if (tail->bias) x = _mm256_add_ps(x, _mm256_broadcast_ss(tail->bias + r));
                    x = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
                    if (tail->residual) x = _mm256_add_ps(x, _mm256_loadu_ps(tail->residual + r * tail->ldr + 8 * v));
                }
                _mm256_storeu_ps(q, x);
            }
        return;
    }
    // A ragged edge: lanes past `cols` masked off, in memory and in registers.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols), lane), m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(cols - 8), lane);
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < R; r++)
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < 2; v++) {
            float *q = c + r * ldc + 8 * v;
            const __m256i m = v ? m1 : m0;
            __m256 x = _mm256_mul_ps(va, acc[2 * r + v]);
            if (read_c) x = _mm256_fmadd_ps(vb, _mm256_maskload_ps(q, m), x);
            if (tail) {
                if (tail->bias) x = _mm256_add_ps(x, _mm256_broadcast_ss(tail->bias + r));
                x = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
                if (tail->residual) x = _mm256_add_ps(x, _mm256_maskload_ps(tail->residual + r * tail->ldr + 8 * v, m));
            }
            _mm256_maskstore_ps(q, m, x);
        }
}

__attribute__((target("avx2,fma")))
static void avx2_kernel(int rows, long kc, const float *ap, long lda, const float *bp, long ldb, float *c, long ldc, float alpha, float beta,
                          int read_c, int cols, const gemm_tail *tail) {
    // Each case a constant, so the accumulators live in registers.
    switch (rows) {
    GEMM_CASE(avx2, 6)
    GEMM_CASE(avx2, 5)
    GEMM_CASE(avx2, 4)
    GEMM_CASE(avx2, 3)
    GEMM_CASE(avx2, 2)
    default: GEMM_CALL(avx2, 1)
    }
}

/// AVX-512: 14 rows × 32 columns, 28 accumulators, two registers of B, A broadcast from
/// memory (30 of the 32 registers).
enum { avx512_mr = 14, avx512_nr = 32 };

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma"), always_inline))
static inline void avx512_block(const int R, const int in_place, long kc, const float *ap, long lda, const float *bp, long ldb, float *c, long ldc, float alpha,
                                float beta, int read_c, int cols, const gemm_tail *tail) {
    __m512 acc[2 * avx512_mr];
    _Pragma("clang loop unroll(full)")
    for (int i = 0; i < 2 * R; i++) acc[i] = _mm512_setzero_ps();
    for (long p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_loadu_ps(bp + ldb * p), b1 = _mm512_loadu_ps(bp + ldb * p + 16);
        _Pragma("clang loop unroll(full)")
        for (int r = 0; r < R; r++) {
            const __m512 a = _mm512_set1_ps(in_place ? ap[r * lda + p] : ap[avx512_mr * p + r]);
            acc[2 * r] = _mm512_fmadd_ps(a, b0, acc[2 * r]);
            acc[2 * r + 1] = _mm512_fmadd_ps(a, b1, acc[2 * r + 1]);
        }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const __m512 lo = _mm512_set1_ps(tail ? tail->lo : 0), hi = _mm512_set1_ps(tail ? tail->hi : 0);
    const __mmask16 m0 = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? 0xFFFF : cols > 16 ? (__mmask16)((1u << (cols - 16)) - 1) : 0;
    _Pragma("clang loop unroll(full)")
    for (int r = 0; r < R; r++)
        _Pragma("clang loop unroll(full)")
        for (int v = 0; v < 2; v++) {
            float *q = c + r * ldc + 16 * v;
            const __mmask16 m = v ? m1 : m0;
            __m512 x = _mm512_mul_ps(va, acc[2 * r + v]);
            if (read_c) x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m, q), x);
            if (tail) {
                // max/min with x second: a NaN in x stays NaN, as the scalar clamp keeps it.
                if (tail->bias) x = _mm512_add_ps(x, _mm512_set1_ps(tail->bias[r]));
                x = _mm512_min_ps(hi, _mm512_max_ps(lo, x));
                if (tail->residual) x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(m, tail->residual + r * tail->ldr + 16 * v));
            }
            _mm512_mask_storeu_ps(q, m, x);
        }
}

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
static void avx512_kernel(int rows, long kc, const float *ap, long lda, const float *bp, long ldb, float *c, long ldc, float alpha, float beta,
                          int read_c, int cols, const gemm_tail *tail) {
    switch (rows) {
    GEMM_CASE(avx512, 14)
    GEMM_CASE(avx512, 13)
    GEMM_CASE(avx512, 12)
    GEMM_CASE(avx512, 11)
    GEMM_CASE(avx512, 10)
    GEMM_CASE(avx512, 9)
    GEMM_CASE(avx512, 8)
    GEMM_CASE(avx512, 7)
    GEMM_CASE(avx512, 6)
    GEMM_CASE(avx512, 5)
    GEMM_CASE(avx512, 4)
    GEMM_CASE(avx512, 3)
    GEMM_CASE(avx512, 2)
    default: GEMM_CALL(avx512, 1)
    }
}
/// A term's rows gathered at once: lane r reads row r (lanes past `height` read nothing
/// and give 0), one masked store writes the term's MR floats.
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq")))
static void pack_rows_avx512(const float *from, long lda, long kc, int mr, int height, float *to) {
    const __m512i rows = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32((int)lda));
    const __mmask16 valid = (__mmask16)((1u << height) - 1), out = (__mmask16)((1u << mr) - 1);
    for (long p = 0; p < kc; p++)
        _mm512_mask_storeu_ps(to + p * mr, out, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), valid, rows, from + p, 4));
}

#endif

static void pack_b(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc, int nr, float *dst);
#if defined(__x86_64__)
static void pack_b_avx2(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc, int nr, float *dst);
static void pack_b_avx512(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc, int nr, float *dst);
#endif

static gemm_path gemm_path_for(int isa) {
#if defined(__x86_64__)
    const int best = strata_isa_supported();
    if (isa > best) isa = best;
    if (isa == STRATA_ISA_AVX512) return (gemm_path){avx512_mr, avx512_nr, avx512_kernel, pack_rows_avx512, pack_b_avx512};
    if (isa == STRATA_ISA_AVX2) return (gemm_path){avx2_mr, avx2_nr, avx2_kernel, pack_rows_generic, pack_b_avx2};
#endif
    (void)isa;
    return (gemm_path){generic_mr, generic_nr, generic_kernel, pack_rows_generic, pack_b};
}

// MARK: - Blocking

/// The cache sizes the OS reports (glibc reads them from CPUID), with common ones where it
/// reports none.
/// Read once: glibc answers with CPUID, which a virtual machine's hypervisor traps.
static void gemm_caches(long *l1, long *l2) {
    static atomic_long known1 = 0, known2 = 0;
    long a = atomic_load_explicit(&known1, memory_order_relaxed), b = atomic_load_explicit(&known2, memory_order_relaxed);
    if (!a || !b) {
#if defined(_SC_LEVEL1_DCACHE_SIZE)
        a = sysconf(_SC_LEVEL1_DCACHE_SIZE);
        b = sysconf(_SC_LEVEL2_CACHE_SIZE);
#endif
        a = a >= (16 << 10) ? a : 32 << 10;
        b = b >= (64 << 10) ? b : 256 << 10;
        atomic_store_explicit(&known1, a, memory_order_relaxed);
        atomic_store_explicit(&known2, b, memory_order_relaxed);
    }
    *l1 = a;
    *l2 = b;
}

/// The blocking for `isa` and k terms: the micro-kernel's rows and columns, the terms in a
/// chunk and the columns of B packed at once.
static void gemm_blocking(int isa, long k, long *mr, long *nr, long *kc, long *nc) {
    const gemm_path path = gemm_path_for(isa);
    long l1, l2;
    gemm_caches(&l1, &l2);
    // A's panel in three quarters of L1 (B's rows pass through, one at a time), up to 384
    // terms: longer chunks gained nothing measurable and load C less often only past it.
    long kc_max = l1 * 3 / 4 / (path.mr * (long)sizeof(float)) / 8 * 8;
    if (kc_max < 64) kc_max = 64;
    if (kc_max > 384) kc_max = 384;
    // Equal chunks: a short last one would load and store C for little work.
    const long chunks = k <= 0 ? 1 : (k + kc_max - 1) / kc_max;
    long chunk = k <= 0 ? kc_max : (k + chunks - 1) / chunks;
    // B's panels for one chunk in three quarters of L2.
    long columns = l2 * 3 / 4 / (chunk * (long)sizeof(float)) / path.nr * path.nr;
    if (columns < path.nr) columns = path.nr;
    *mr = path.mr;
    *nr = path.nr;
    *kc = chunk;
    *nc = columns;
}

// MARK: - Packing

/// Rows [i0, i0 + rows) of op(A), terms [p0, p0 + kc), as MR-row panels: term p of panel
/// q at dst[q·MR·kc + p·MR + r]; rows past the end are zeros.
static void pack_a(const gemm_path *path, const float *a, long lda, int trans, long i0, long rows, long p0, long kc, float *dst) {
    const int mr = path->mr;
    // The gathers index rows with 32-bit offsets.
    const int gather = lda * (long)mr < (1L << 31);
    for (long q = 0; q * mr < rows; q++) {
        float *to = dst + q * mr * kc;
        const long r0 = i0 + q * mr, height = rows - q * mr < mr ? rows - q * mr : mr;
        if (trans) {
            // op(A)[i][p] = a[p·lda + i]: a term's MR rows lie side by side.
            for (long p = 0; p < kc; p++) {
                const float *from = a + (p0 + p) * lda + r0;
                long r = 0;
                for (; r < height; r++) to[p * mr + r] = from[r];
                for (; r < mr; r++) to[p * mr + r] = 0;
            }
        } else {
            (gather ? path->pack_rows : pack_rows_generic)(a + r0 * lda + p0, lda, kc, mr, (int)height, to);
        }
    }
}

/// Columns [j0, j0 + cols) of op(B), terms [p0, p0 + kc), as NR-column panels: term p of
/// panel q at dst[q·NR·kc + p·NR + j]; columns past the end are zeros.
/// `vectors` × 4 floats from `from` to `to`, four at a time, inline.
__attribute__((always_inline))
static inline void pack_copy(float *to, const float *from, int vectors) {
    for (int v = 0; v < vectors; v++) {
        gemm_f4 x;
        memcpy(&x, from + 4 * v, sizeof x);
        memcpy(to + 4 * v, &x, sizeof x);
    }
}

__attribute__((always_inline))
static inline void pack_b_body(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc, int nr, float *dst) {
    const long panels = (cols + nr - 1) / nr, full = cols / nr;
    if (!trans) {
        // Term by term, so B's rows are read front to back (each row's panels in turn).
        for (long p = 0; p < kc; p++) {
            const float *from = b + (p0 + p) * ldb + j0;
            // Sizes known to the compiler, copied as vectors: a memcpy of 128 bytes stays a
            // library call at the baseline ISA (a fifth of 64×4096×576's time).
            switch (nr) {
            case 32: for (long q = 0; q < full; q++) pack_copy(dst + q * nr * kc + p * nr, from + q * nr, 8); break;
            case 16: for (long q = 0; q < full; q++) pack_copy(dst + q * nr * kc + p * nr, from + q * nr, 4); break;
            default: for (long q = 0; q < full; q++) pack_copy(dst + q * nr * kc + p * nr, from + q * nr, nr / 4); break;
            }
            if (full < panels) {
                float *to = dst + full * nr * kc + p * nr;
                const long width = cols - full * nr;
                for (long j = 0; j < nr; j++) to[j] = j < width ? from[full * nr + j] : 0.0f;
            }
        }
        return;
    }
    // op(B)[p][j] = b[j·ldb + p]: a column's terms lie side by side.
    for (long q = 0; q < panels; q++) {
        float *to = dst + q * nr * kc;
        const long c0 = j0 + q * nr, width = cols - q * nr < nr ? cols - q * nr : nr;
        for (long j = 0; j < width; j++) {
            const float *from = b + (c0 + j) * ldb + p0;
            for (long p = 0; p < kc; p++) to[p * nr + j] = from[p];
        }
        for (long j = width; j < nr; j++)
            for (long p = 0; p < kc; p++) to[p * nr + j] = 0;
    }
}

/// B's panels, on the baseline ISA.
static void pack_b(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc, int nr, float *dst) {
    pack_b_body(b, ldb, trans, j0, cols, p0, kc, nr, dst);
}

#if defined(__x86_64__)
/// The same compiled for AVX2 (32-byte moves) and for AVX-512, where each panel's row is
/// two 64-byte moves (the baseline's eight 16-byte ones made packing a third of
/// 64×4096×576's time, against a quarter now).
__attribute__((target("avx2")))
static void pack_b_avx2(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc, int nr, float *dst) {
    pack_b_body(b, ldb, trans, j0, cols, p0, kc, nr, dst);
}

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq")))
static void pack_b_avx512(const float *b, long ldb, int trans, long j0, long cols, long p0, long kc, int nr, float *dst) {
    pack_b_body(b, ldb, trans, j0, cols, p0, kc, nr, dst);
}
#endif

// MARK: - The product

/// A thread's packing buffer, grown as needed and kept for its next product.
static float *gemm_buffer(int which, size_t count) {
    static _Thread_local float *buffers[2] = {NULL, NULL};
    static _Thread_local size_t capacity[2] = {0, 0};
    if (count > capacity[which]) {
        free(buffers[which]);
        buffers[which] = aligned_alloc(64, (count * sizeof(float) + 63) / 64 * 64);
        capacity[which] = buffers[which] ? count : 0;
    }
    return buffers[which];
}

typedef struct {
    gemm_path path;
    long m, n, k, kc, nc;
    float alpha, beta;
    const float *a, *b;
    long lda, ldb, ldc;
    int ta, tb;
    float *c;
    // The chunk being computed: terms [p0, p0 + kc_now), columns [j0, j0 + cols).
    long p0, kc_now, j0, cols;
    float *packed_b;
    // Work split: row blocks of `block_rows` (a multiple of MR) × groups of B's panels.
    long block_rows, row_blocks, panels_per_group;
    /// L2's size as the OS reports it.
    long l2;
    /// What each tile of C is finished with once its last chunk of terms is in (none where
    /// `finish` is 0): a bias per row, a clamp, a residual.
    int finish;
    const float *bias, *residual;
    float lo, hi;
    long ldr;
} gemm_job;

/// The tail for C's tile at row `i`, column `j` (NULL where nothing finishes it).
static inline const gemm_tail *gemm_tail_at(const gemm_job *job, long i, long j, gemm_tail *tail) {
    if (!job->finish) return NULL;
    *tail = (gemm_tail){job->bias ? job->bias + i : NULL, job->lo, job->hi, job->residual ? job->residual + i * job->ldr + j : NULL,
                        job->ldr};
    return tail;
}

static void gemm_pack_b_band(void *context, long band) {
    gemm_job *job = context;
    const long nr = job->path.nr, first = band * job->panels_per_group * nr;
    if (first >= job->cols) return;
    const long span = job->panels_per_group * nr, cols = job->cols - first < span ? job->cols - first : span;
    job->path.pack_b(job->b, job->ldb, job->tb, job->j0 + first, cols, job->p0, job->kc_now, (int)nr, job->packed_b + first * job->kc_now);
}

/// The widest B (in a chunk) for which A is read in place rather than packed.
static const long gemm_in_place_columns = 64;

/// One block of rows against one group of B's panels: the rows' A packed here, into the
/// thread's buffer (it stays in L2, each panel of it in L1 while the kernel sweeps B's
/// panels), so A is read once from memory per chunk and never written back there.
static void gemm_compute_band(void *context, long band) {
    gemm_job *job = context;
    const long mr = job->path.mr, nr = job->path.nr, kc = job->kc_now;
    const long rb = band % job->row_blocks, group = band / job->row_blocks;
    const long r_first = rb * job->block_rows;
    const long rows_here = job->m - r_first < job->block_rows ? job->m - r_first : job->block_rows;
    const long panels = (job->cols + nr - 1) / nr, q_first = group * job->panels_per_group;
    const long q_end = q_first + job->panels_per_group < panels ? q_first + job->panels_per_group : panels;
    // A's rows in place when B has so few panels that a packed A would be read once or
    // twice: packing it would cost more than it saves.
    const int in_place = !job->ta && panels * nr <= gemm_in_place_columns;
    float *packed = NULL;
    if (!in_place) {
        packed = gemm_buffer(0, (size_t)job->block_rows * kc);
        if (!packed) abort();
        pack_a(&job->path, job->a, job->lda, job->ta, r_first, rows_here, job->p0, kc, packed);
    }
    const int first_chunk = job->p0 == 0;
    const float beta = first_chunk ? job->beta : 1.0f;
    const int read_c = !first_chunk || job->beta != 0.0f;
    for (long r = 0; r < rows_here; r += mr) {
        const int rows = (int)(rows_here - r < mr ? rows_here - r : mr);
        const float *ap = in_place ? job->a + (r_first + r) * job->lda + job->p0 : packed + r * kc;
        for (long q = q_first; q < q_end; q++) {
            const long j = q * nr;
            const int cols = (int)(job->cols - j < nr ? job->cols - j : nr);
            float *c = job->c + (r_first + r) * job->ldc + job->j0 + j;
            gemm_tail tail;
            const gemm_tail *t = job->p0 + kc >= job->k ? gemm_tail_at(job, r_first + r, job->j0 + j, &tail) : NULL;
            job->path.kernel(rows, kc, ap, in_place ? job->lda : 0, job->packed_b + q * nr * kc, nr, c, job->ldc, job->alpha, beta,
                             read_c, cols, t);
        }
    }
}

/// Operands up to this size (A and B together) are read in place, unpacked: they sit in
/// L2 already, and packing such a product costs as much as computing it.
static const long gemm_direct_bytes = 192 << 10;

/// Rows [first, first + rows) of a product read in place, A and B unpacked (only a ragged
/// last panel of B is copied, into the thread's buffer, since the kernel loads whole panels).
static void gemm_direct_rows(const gemm_job *job, long first, long rows) {
    const long mr = job->path.mr, nr = job->path.nr, n = job->n, full = n / nr;
    for (long p0 = 0; p0 < job->k; p0 += job->kc) {
        const long terms = job->k - p0 < job->kc ? job->k - p0 : job->kc;
        const int first_chunk = p0 == 0;
        const float beta = first_chunk ? job->beta : 1.0f;
        const int read_c = !first_chunk || job->beta != 0.0f;
        float *edge = NULL;
        if (full * nr < n) {
            edge = gemm_buffer(1, (size_t)nr * terms);
            if (!edge) abort();
            job->path.pack_b(job->b, job->ldb, 0, full * nr, n - full * nr, p0, terms, (int)nr, edge);
        }
        // A few rows (attention's blocks of queries): each panel of B is loaded into L1 once
        // and swept by every row panel, whose rows stay in L2. Many rows: each row panel
        // sweeps B (in L2), so A is read once.
        const int columns_outer = rows * terms * (long)sizeof(float) <= job->l2 / 4;
        const long panels = (n + nr - 1) / nr, row_panels = (rows + mr - 1) / mr;
        for (long outer = 0; outer < (columns_outer ? panels : row_panels); outer++) {
            for (long inner = 0; inner < (columns_outer ? row_panels : panels); inner++) {
                const long q = columns_outer ? outer : inner, i = first + (columns_outer ? inner : outer) * mr;
                const int height = (int)(first + rows - i < mr ? first + rows - i : mr);
                const int cols = (int)(n - q * nr < nr ? n - q * nr : nr);
                const float *bp = q < full ? job->b + p0 * job->ldb + q * nr : edge;
                gemm_tail tail;
                const gemm_tail *t = p0 + terms >= job->k ? gemm_tail_at(job, i, q * nr, &tail) : NULL;
                job->path.kernel(height, terms, job->a + i * job->lda + p0, job->lda, bp, q < full ? job->ldb : nr,
                                 job->c + i * job->ldc + q * nr, job->ldc, job->alpha, beta, read_c, cols, t);
            }
        }
    }
}

static void gemm_direct_band(void *context, long band) {
    const gemm_job *job = context;
    const long first = band * job->block_rows;
    gemm_direct_rows(job, first, job->m - first < job->block_rows ? job->m - first : job->block_rows);
}

static void gemm_run(long bands, int threads, strata_band_fn body, gemm_job *job) {
    if (threads > 1 && bands > 1 && strata_pool_run(bands, threads, body, job)) return;
    for (long b = 0; b < bands; b++) body(job, b);
}

void strata_gemm(int isa, int threads, long m, long n, long k, float alpha, const float *a, long lda, int trans_a,
                 const float *b, long ldb, int trans_b, float beta, float *c, long ldc) {
    strata_gemm_finished(isa, threads, m, n, k, alpha, a, lda, trans_a, b, ldb, trans_b, beta, c, ldc, 0, NULL, 0, 0, NULL, 0);
}

void strata_gemm_finished(int isa, int threads, long m, long n, long k, float alpha, const float *a, long lda, int trans_a,
                          const float *b, long ldb, int trans_b, float beta, float *c, long ldc, int finish, const float *bias,
                          float lo, float hi, const float *residual, long ldr) {
    if (m <= 0 || n <= 0) return;
    gemm_job job = {.path = gemm_path_for(isa), .m = m, .n = n, .k = k, .alpha = alpha, .beta = beta, .a = a, .b = b,
                    .lda = lda, .ldb = ldb, .ldc = ldc, .ta = trans_a, .tb = trans_b, .c = c,
                    .finish = finish, .bias = bias, .residual = residual, .lo = lo, .hi = hi, .ldr = ldr};
    if (k <= 0 || alpha == 0.0f) {
        // No terms: C = beta · C (0 where beta is 0, whatever C held).
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        if (finish)
            for (long i = 0; i < m; i++)
                for (long j = 0; j < n; j++) {
                    float x = c[i * ldc + j] + (bias ? bias[i] : 0.0f);
                    x = x < lo ? lo : (x > hi ? hi : x);
                    c[i * ldc + j] = residual ? x + residual[i * ldr + j] : x;
                }
        return;
    }
    long mr, nr;
    gemm_blocking(isa, k, &mr, &nr, &job.kc, &job.nc);
    if (threads < 1) threads = 1;
    long l1;
    gemm_caches(&l1, &job.l2);
    const long l2 = job.l2;
    // Operands read in place where B stays in L2 from one row panel to the next (and A is
    // read once anyway): small products, and a few rows against a B of a few hundred KB,
    // as attention's blocks of queries against one head's keys or values.
    if (!trans_a && !trans_b && ((m * k + k * n) * (long)sizeof(float) <= gemm_direct_bytes || k * n * (long)sizeof(float) <= l2 / 2)) {
        const long row_panels = (m + mr - 1) / mr;
        const long bands = row_panels < 2 * threads ? row_panels : 2 * threads;
        job.block_rows = (row_panels + bands - 1) / bands * mr;
        gemm_run((m + job.block_rows - 1) / job.block_rows, threads, gemm_direct_band, &job);
        return;
    }
    // Row blocks of up to eight panels (A's block in L2), as many for every thread: a
    // thread left with one block more than the others would finish last by that block.
    const long row_panels = (m + mr - 1) / mr;
    const long blocks = threads * ((row_panels + 8 * threads - 1) / (8 * threads));
    long per_block = (row_panels + blocks - 1) / blocks;
    if (per_block < 1) per_block = 1;
    job.block_rows = per_block * mr;
    job.row_blocks = (m + job.block_rows - 1) / job.block_rows;
    for (long p0 = 0; p0 < k; p0 += job.kc) {
        job.p0 = p0;
        job.kc_now = k - p0 < job.kc ? k - p0 : job.kc;
        for (long j0 = 0; j0 < n; j0 += job.nc) {
            job.j0 = j0;
            job.cols = n - j0 < job.nc ? n - j0 : job.nc;
            const long panels = (job.cols + nr - 1) / nr;
            job.packed_b = gemm_buffer(1, (size_t)panels * nr * job.kc_now);
            if (!job.packed_b) abort();
            // B's panels packed in groups, one band each.
            job.panels_per_group = (panels + threads - 1) / threads;
            gemm_run((panels + job.panels_per_group - 1) / job.panels_per_group, threads, gemm_pack_b_band, &job);
            // Split the columns too when there are too few row blocks for the threads.
            const long groups = job.row_blocks >= 2 * threads ? 1 : (2 * threads + job.row_blocks - 1) / job.row_blocks;
            job.panels_per_group = (panels + groups - 1) / groups;
            const long used = (panels + job.panels_per_group - 1) / job.panels_per_group;
            gemm_run(job.row_blocks * used, threads, gemm_compute_band, &job);
        }
    }
}
