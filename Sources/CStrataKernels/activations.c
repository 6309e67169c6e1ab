// The engine's exponential-based activations, vectorised for the instruction set chosen at
// run time: softmax over rows (attention's scores, a classifier's logits: the maximum, then
// exp(x − max) and its sum, then the scaling) and GELU (x · Φ(x), a ViT's MLP). The
// exponential is the Cephes polynomial of StrataNN's exp8 (2 ulp on e^x for normal
// results), here with fused multiply-adds where the processor has them.
#include "CStrataKernels.h"

#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// Where the polynomial holds: e^x a normal float.
static const float softmax_low = -87.33654f;

/// The body of e^x on a vector of floats, one definition for both widths: the polynomial
/// of softmax_exp1 below, fused; the caller defines SET1_I, the integer broadcast.
#define SOFTMAX_EXP_BODY(VEC, SET1, ADD, SUB, MUL, FMA, CAST_I, CAST_F, ADD_I, SUB_I, SLL)                      \
    const VEC magic = SET1(12582912.0f);                                                                              \
    const VEC n = SUB(FMA(x, SET1(1.44269504f), magic), magic);                                                       \
    const VEC r = FMA(n, SET1(2.1219444e-4f), FMA(n, SET1(-0.693359375f), x));                                        \
    VEC p = SET1(1.98756915e-4f);                                                                                     \
    p = FMA(p, r, SET1(1.39819995e-3f));                                                                              \
    p = FMA(p, r, SET1(8.3334519e-3f));                                                                               \
    p = FMA(p, r, SET1(4.16657959e-2f));                                                                              \
    p = FMA(p, r, SET1(1.66666655e-1f));                                                                              \
    p = FMA(p, r, SET1(5.00000012e-1f));                                                                              \
    const VEC e = ADD(FMA(MUL(p, r), r, r), SET1(1.0f));                                                              \
    const __typeof__(CAST_I(magic)) bits = SUB_I(CAST_I(ADD(n, magic)), CAST_I(magic));                               \
    return MUL(e, CAST_F(SLL(ADD_I(bits, SET1_I(127)), 23)));

/// The portable path: one float at a time through the same polynomial (no fusing).
static inline float softmax_exp1(float x) {
    const float magic = 12582912.0f;
    const float n = (x * 1.44269504f + magic) - magic;
    const float r = x - n * 0.693359375f + n * 2.1219444e-4f;
    float p = 1.98756915e-4f;
    p = p * r + 1.39819995e-3f;
    p = p * r + 8.3334519e-3f;
    p = p * r + 4.16657959e-2f;
    p = p * r + 1.66666655e-1f;
    p = p * r + 5.00000012e-1f;
    const float e = p * r * r + r + 1.0f;
    union { float f; int32_t i; } scale = {.f = n + magic}, base = {.f = magic};
    union { int32_t i; float f; } two = {.i = (scale.i - base.i + 127) << 23};
    return e * two.f;
}

static void softmax_row_generic(float *row, long length) {
    float m = -INFINITY, low = INFINITY;
    for (long j = 0; j < length; j++) {
        m = row[j] > m ? row[j] : m;
        low = row[j] < low ? row[j] : low;
    }
    const int vector = low - m >= softmax_low;
    float sum = 0;
    for (long j = 0; j < length; j++) {
        const float e = vector ? softmax_exp1(row[j] - m) : expf(row[j] - m);
        row[j] = e;
        sum += e;
    }
    const float inverse = 1.0f / sum;
    for (long j = 0; j < length; j++) row[j] *= inverse;
}

/// erf by Abramowitz and Stegun 7.1.26 (1.5e-7 in exact arithmetic) on |z|, capped at 9.3
/// where e^(−z²) leaves the exponential's domain and erf is 1 to float precision.
static inline float gelu1(float x) {
    const float z = x * 0.70710678f;
    float a = z < 0 ? -z : z;
    a = a > 9.3f ? 9.3f : a;
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    float poly = 1.061405429f;
    poly = poly * t - 1.453152027f;
    poly = poly * t + 1.421413741f;
    poly = poly * t - 0.284496736f;
    poly = poly * t + 0.254829592f;
    float erf = 1.0f - poly * t * softmax_exp1(-(a * a));
    erf = z < 0 ? -erf : erf;
    return 0.5f * x * (1.0f + erf);
}

#if defined(__x86_64__)
#define SET1_I _mm256_set1_epi32
__attribute__((target("avx2,fma"), always_inline))
static inline __m256 softmax_exp8(__m256 x) {
    SOFTMAX_EXP_BODY(__m256, _mm256_set1_ps, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_fmadd_ps, _mm256_castps_si256,
                     _mm256_castsi256_ps, _mm256_add_epi32, _mm256_sub_epi32, _mm256_slli_epi32)
}
#undef SET1_I

__attribute__((target("avx2,fma")))
static void softmax_row_avx2(float *row, long length) {
    __m256 vm = _mm256_set1_ps(-INFINITY), vl = _mm256_set1_ps(INFINITY);
    long j = 0;
    for (; j + 8 <= length; j += 8) {
        const __m256 x = _mm256_loadu_ps(row + j);
        vm = _mm256_max_ps(vm, x);
        vl = _mm256_min_ps(vl, x);
    }
    float lanes[8], lows[8];
    _mm256_storeu_ps(lanes, vm);
    _mm256_storeu_ps(lows, vl);
    float m = lanes[0], low = lows[0];
    for (int i = 1; i < 8; i++) {
        m = lanes[i] > m ? lanes[i] : m;
        low = lows[i] < low ? lows[i] : low;
    }
    for (; j < length; j++) {
        m = row[j] > m ? row[j] : m;
        low = row[j] < low ? row[j] : low;
    }
    if (!(low - m >= softmax_low)) {
        softmax_row_generic(row, length);
        return;
    }
    const __m256 shift = _mm256_set1_ps(m);
    __m256 vs = _mm256_setzero_ps();
    for (j = 0; j + 8 <= length; j += 8) {
        const __m256 e = softmax_exp8(_mm256_sub_ps(_mm256_loadu_ps(row + j), shift));
        _mm256_storeu_ps(row + j, e);
        vs = _mm256_add_ps(vs, e);
    }
    _mm256_storeu_ps(lanes, vs);
    float sum = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
    for (; j < length; j++) {
        const float e = softmax_exp1(row[j] - m);
        row[j] = e;
        sum += e;
    }
    const __m256 inverse = _mm256_set1_ps(1.0f / sum);
    for (j = 0; j + 8 <= length; j += 8) _mm256_storeu_ps(row + j, _mm256_mul_ps(_mm256_loadu_ps(row + j), inverse));
    for (; j < length; j++) row[j] *= 1.0f / sum;
}

__attribute__((target("avx2,fma")))
static void gelu_avx2(const float *x, float *y, long n) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i), z = _mm256_mul_ps(v, _mm256_set1_ps(0.70710678f));
        const __m256 a = _mm256_min_ps(_mm256_andnot_ps(sign, z), _mm256_set1_ps(9.3f));
        const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, _mm256_set1_ps(1.0f)));
        __m256 poly = _mm256_set1_ps(1.061405429f);
        poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-1.453152027f));
        poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(1.421413741f));
        poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(-0.284496736f));
        poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(0.254829592f));
        const __m256 e = softmax_exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
        const __m256 erf = _mm256_or_ps(_mm256_fnmadd_ps(_mm256_mul_ps(poly, t), e, _mm256_set1_ps(1.0f)), _mm256_and_ps(sign, z));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(_mm256_set1_ps(1.0f), erf)));
    }
    for (; i < n; i++) y[i] = gelu1(x[i]);
}

#define SET1_I _mm512_set1_epi32
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma"), always_inline))
static inline __m512 softmax_exp16(__m512 x) {
    SOFTMAX_EXP_BODY(__m512, _mm512_set1_ps, _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_fmadd_ps, _mm512_castps_si512,
                     _mm512_castsi512_ps, _mm512_add_epi32, _mm512_sub_epi32, _mm512_slli_epi32)
}
#undef SET1_I

__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
static void softmax_row_avx512(float *row, long length) {
    __m512 vm = _mm512_set1_ps(-INFINITY), vl = _mm512_set1_ps(INFINITY);
    long j = 0;
    for (; j + 16 <= length; j += 16) {
        const __m512 x = _mm512_loadu_ps(row + j);
        vm = _mm512_max_ps(vm, x);
        vl = _mm512_min_ps(vl, x);
    }
    // The ragged end masked: lanes past it read as −∞ for the maximum, +∞ for the minimum.
    const __mmask16 tail = (__mmask16)((1u << (length - j)) - 1);
    if (tail) {
        vm = _mm512_max_ps(vm, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), tail, row + j));
        vl = _mm512_min_ps(vl, _mm512_mask_loadu_ps(_mm512_set1_ps(INFINITY), tail, row + j));
    }
    const float m = _mm512_reduce_max_ps(vm), low = _mm512_reduce_min_ps(vl);
    if (!(low - m >= softmax_low)) {
        softmax_row_generic(row, length);
        return;
    }
    const __m512 shift = _mm512_set1_ps(m);
    __m512 vs = _mm512_setzero_ps();
    for (j = 0; j + 16 <= length; j += 16) {
        const __m512 e = softmax_exp16(_mm512_sub_ps(_mm512_loadu_ps(row + j), shift));
        _mm512_storeu_ps(row + j, e);
        vs = _mm512_add_ps(vs, e);
    }
    if (tail) {
        const __m512 e = _mm512_maskz_mov_ps(tail, softmax_exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, row + j), shift)));
        _mm512_mask_storeu_ps(row + j, tail, e);
        vs = _mm512_add_ps(vs, e);
    }
    const __m512 inverse = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(vs));
    for (j = 0; j + 16 <= length; j += 16) _mm512_storeu_ps(row + j, _mm512_mul_ps(_mm512_loadu_ps(row + j), inverse));
    if (tail) _mm512_mask_storeu_ps(row + j, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, row + j), inverse));
}
__attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma")))
static void gelu_avx512(const float *x, float *y, long n) {
    const __m512 sign = _mm512_set1_ps(-0.0f);
    for (long i = 0; i < n; i += 16) {
        const __mmask16 lanes = n - i >= 16 ? 0xFFFF : (__mmask16)((1u << (n - i)) - 1);
        const __m512 v = _mm512_maskz_loadu_ps(lanes, x + i), z = _mm512_mul_ps(v, _mm512_set1_ps(0.70710678f));
        const __m512 a = _mm512_min_ps(_mm512_andnot_ps(sign, z), _mm512_set1_ps(9.3f));
        const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), a, _mm512_set1_ps(1.0f)));
        __m512 poly = _mm512_set1_ps(1.061405429f);
        poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-1.453152027f));
        poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(1.421413741f));
        poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(-0.284496736f));
        poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(0.254829592f));
        const __m512 e = softmax_exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(a, a)));
        const __m512 erf = _mm512_or_ps(_mm512_fnmadd_ps(_mm512_mul_ps(poly, t), e, _mm512_set1_ps(1.0f)), _mm512_and_ps(sign, z));
        _mm512_mask_storeu_ps(y + i, lanes, _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(_mm512_set1_ps(1.0f), erf)));
    }
}
#endif

void strata_softmax_rows(int isa, float *rows, long count, long length) {
    if (length <= 0) return;
#if defined(__x86_64__)
    const int best = strata_isa_supported();
    if (isa > best) isa = best;
    if (isa == STRATA_ISA_AVX512) {
        for (long r = 0; r < count; r++) softmax_row_avx512(rows + r * length, length);
        return;
    }
    if (isa == STRATA_ISA_AVX2) {
        for (long r = 0; r < count; r++) softmax_row_avx2(rows + r * length, length);
        return;
    }
#endif
    (void)isa;
    for (long r = 0; r < count; r++) softmax_row_generic(rows + r * length, length);
}

void strata_gelu(int isa, const float *x, float *y, long count) {
#if defined(__x86_64__)
    const int best = strata_isa_supported();
    if (isa > best) isa = best;
    if (isa == STRATA_ISA_AVX512) {
        gelu_avx512(x, y, count);
        return;
    }
    if (isa == STRATA_ISA_AVX2) {
        gelu_avx2(x, y, count);
        return;
    }
#endif
    (void)isa;
    for (long i = 0; i < count; i++) y[i] = gelu1(x[i]);
}
