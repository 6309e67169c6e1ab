// The surface-fluid loop's inner loops (StrataFluid's FluidLoop): particles stepped along a
// velocity field, splatted, and the splats normalised. The step has AVX-512 and AVX2 paths
// (gathers of the field); every path gives the portable one's result to the bit, since each
// does the same multiplies and adds in the same order and none is fused.
#include "CStrataKernels.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#pragma STDC FP_CONTRACT OFF
#pragma clang fp contract(off)

static int best_isa(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")
        && __builtin_cpu_supports("avx512vl"))
        return STRATA_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return STRATA_ISA_AVX2;
#endif
    return STRATA_ISA_GENERIC;
}

int strata_isa_supported(void) {
    static atomic_int known = -1;
    int value = atomic_load_explicit(&known, memory_order_relaxed);
    if (value < 0) {
        value = best_isa();
        atomic_store_explicit(&known, value, memory_order_relaxed);
    }
    return value;
}

/// ⌊x⌋ for positions within a few image widths (no libm call).
static inline int floor_int(float x) {
    int t = (int)x;
    return (float)t > x ? t - 1 : t;
}

/// The (u, v) pair at (px, py), bilinear between pixel centres: rows clamped at the border,
/// columns too unless `wrap`, where they go round (once: points lie within a width of the
/// image). The one definition of a lookup, which the vector steps repeat lane by lane.
static inline void sample_pair(const float *uv, int w, int h, int wrap, float px, float py, float out[2]) {
    int ix = floor_int(px), iy = floor_int(py);
    float ax = px - (float)ix, ay = py - (float)iy;
    int x0 = ix, x1 = ix + 1;
    if (wrap) {
        if (x0 < 0) x0 += w; else if (x0 >= w) x0 -= w;
        if (x1 < 0) x1 += w; else if (x1 >= w) x1 -= w;
    } else {
        x0 = x0 < 0 ? 0 : (x0 > w - 1 ? w - 1 : x0);
        x1 = x1 < 0 ? 0 : (x1 > w - 1 ? w - 1 : x1);
    }
    int y0 = iy < 0 ? 0 : (iy > h - 1 ? h - 1 : iy);
    int y1 = iy + 1 < 0 ? 0 : (iy + 1 > h - 1 ? h - 1 : iy + 1);
    const float *a = uv + 2 * ((long)y0 * w + x0), *b = uv + 2 * ((long)y0 * w + x1);
    const float *c = uv + 2 * ((long)y1 * w + x0), *d = uv + 2 * ((long)y1 * w + x1);
    float bx = 1.0f - ax, by = 1.0f - ay;
    for (int k = 0; k < 2; k++) {
        float top = a[k] * bx + b[k] * ax, bottom = c[k] * bx + d[k] * ax;
        out[k] = top * by + bottom * ay;
    }
}

static void advance_generic(float *xs, float *ys, long from, long count, const float *uv, int w, int h, int wrap, float sign) {
    const float span = (float)w;
    for (long k = from; k < count; k++) {
        float v[2];
        sample_pair(uv, w, h, wrap, xs[k], ys[k], v);
        float nx = xs[k] + sign * v[0], ny = ys[k] + sign * v[1];
        if (wrap) {
            if (nx < 0) nx += span; else if (nx >= span) nx -= span;
        }
        xs[k] = nx;
        ys[k] = ny;
    }
}

#if defined(__x86_64__)
/// The (u, v) pairs at eight pixels `index`, as eight u and eight v: two gathers of 64-bit
/// pairs (half the elements of gathering u and v apart), then the pairs taken apart.
__attribute__((target("avx2,fma"), always_inline))
static inline void gather_avx2(const float *uv, __m256i index, __m256 *u, __m256 *v) {
    __m256 lo = _mm256_castpd_ps(_mm256_i32gather_pd((const double *)uv, _mm256_castsi256_si128(index), 8));
    __m256 hi = _mm256_castpd_ps(_mm256_i32gather_pd((const double *)uv, _mm256_extracti128_si256(index, 1), 8));
    // Within each 128-bit lane: u0 u1 u4 u5 | u2 u3 u6 u7; then the 64-bit blocks reordered.
    __m256 us = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)), vs = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
    *u = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(us), _MM_SHUFFLE(3, 1, 2, 0)));
    *v = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(vs), _MM_SHUFFLE(3, 1, 2, 0)));
}

__attribute__((target("avx2,fma")))
static long advance_avx2(float *xs, float *ys, long count, const float *uv, int w, int h, int wrap, float sign) {
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1), width = _mm256_set1_epi32(w);
    const __m256i lastX = _mm256_set1_epi32(w - 1), lastY = _mm256_set1_epi32(h - 1);
    const __m256 ones = _mm256_set1_ps(1), s = _mm256_set1_ps(sign), span = _mm256_set1_ps((float)w), zeros = _mm256_setzero_ps();
    long k = 0;
    for (; k + 8 <= count; k += 8) {
        __m256 qx = _mm256_loadu_ps(xs + k), qy = _mm256_loadu_ps(ys + k);
        __m256 fx = _mm256_floor_ps(qx), fy = _mm256_floor_ps(qy);
        __m256i ix = _mm256_cvttps_epi32(fx), iy = _mm256_cvttps_epi32(fy);
        __m256 ax = _mm256_sub_ps(qx, fx), ay = _mm256_sub_ps(qy, fy);
        __m256i x0 = ix, x1 = _mm256_add_epi32(ix, one);
        if (wrap) {
            // Below 0: + w; at or past w: − w.
            x0 = _mm256_add_epi32(x0, _mm256_and_si256(_mm256_cmpgt_epi32(zero, x0), width));
            x0 = _mm256_sub_epi32(x0, _mm256_andnot_si256(_mm256_cmpgt_epi32(width, x0), width));
            x1 = _mm256_add_epi32(x1, _mm256_and_si256(_mm256_cmpgt_epi32(zero, x1), width));
            x1 = _mm256_sub_epi32(x1, _mm256_andnot_si256(_mm256_cmpgt_epi32(width, x1), width));
        } else {
            x0 = _mm256_min_epi32(_mm256_max_epi32(x0, zero), lastX);
            x1 = _mm256_min_epi32(_mm256_max_epi32(x1, zero), lastX);
        }
        __m256i y0 = _mm256_min_epi32(_mm256_max_epi32(iy, zero), lastY);
        __m256i y1 = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(iy, one), zero), lastY);
        __m256i r0 = _mm256_mullo_epi32(y0, width), r1 = _mm256_mullo_epi32(y1, width);
        __m256 au, av, bu, bv, cu, cv, du, dv;
        gather_avx2(uv, _mm256_add_epi32(r0, x0), &au, &av);
        gather_avx2(uv, _mm256_add_epi32(r0, x1), &bu, &bv);
        gather_avx2(uv, _mm256_add_epi32(r1, x0), &cu, &cv);
        gather_avx2(uv, _mm256_add_epi32(r1, x1), &du, &dv);
        __m256 bx = _mm256_sub_ps(ones, ax), by = _mm256_sub_ps(ones, ay);
        __m256 topX = _mm256_add_ps(_mm256_mul_ps(au, bx), _mm256_mul_ps(bu, ax));
        __m256 topY = _mm256_add_ps(_mm256_mul_ps(av, bx), _mm256_mul_ps(bv, ax));
        __m256 bottomX = _mm256_add_ps(_mm256_mul_ps(cu, bx), _mm256_mul_ps(du, ax));
        __m256 bottomY = _mm256_add_ps(_mm256_mul_ps(cv, bx), _mm256_mul_ps(dv, ax));
        __m256 nx = _mm256_add_ps(qx, _mm256_mul_ps(s, _mm256_add_ps(_mm256_mul_ps(topX, by), _mm256_mul_ps(bottomX, ay))));
        __m256 ny = _mm256_add_ps(qy, _mm256_mul_ps(s, _mm256_add_ps(_mm256_mul_ps(topY, by), _mm256_mul_ps(bottomY, ay))));
        if (wrap) {
            __m256 below = _mm256_cmp_ps(nx, zeros, _CMP_LT_OQ);
            __m256 past = _mm256_andnot_ps(below, _mm256_cmp_ps(nx, span, _CMP_GE_OQ));
            nx = _mm256_blendv_ps(nx, _mm256_add_ps(nx, span), below);
            nx = _mm256_blendv_ps(nx, _mm256_sub_ps(nx, span), past);
        }
        _mm256_storeu_ps(xs + k, nx);
        _mm256_storeu_ps(ys + k, ny);
    }
    return k;
}

/// As gather_avx2, sixteen pixels.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"), always_inline))
static inline void gather_avx512(const float *uv, __m512i index, __m512 *u, __m512 *v) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512 lo = _mm512_castpd_ps(_mm512_i32gather_pd(_mm512_castsi512_si256(index), (const double *)uv, 8));
    __m512 hi = _mm512_castpd_ps(_mm512_i32gather_pd(_mm512_extracti64x4_epi64(index, 1), (const double *)uv, 8));
    *u = _mm512_permutex2var_ps(lo, even, hi);
    *v = _mm512_permutex2var_ps(lo, odd, hi);
}

__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
static long advance_avx512(float *xs, float *ys, long count, const float *uv, int w, int h, int wrap, float sign) {
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1), width = _mm512_set1_epi32(w);
    const __m512i lastX = _mm512_set1_epi32(w - 1), lastY = _mm512_set1_epi32(h - 1);
    const __m512 ones = _mm512_set1_ps(1), s = _mm512_set1_ps(sign), span = _mm512_set1_ps((float)w), zeros = _mm512_setzero_ps();
    long k = 0;
    for (; k + 16 <= count; k += 16) {
        __m512 qx = _mm512_loadu_ps(xs + k), qy = _mm512_loadu_ps(ys + k);
        __m512 fx = _mm512_roundscale_ps(qx, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        __m512 fy = _mm512_roundscale_ps(qy, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
        __m512i ix = _mm512_cvttps_epi32(fx), iy = _mm512_cvttps_epi32(fy);
        __m512 ax = _mm512_sub_ps(qx, fx), ay = _mm512_sub_ps(qy, fy);
        __m512i x0 = ix, x1 = _mm512_add_epi32(ix, one);
        if (wrap) {
            x0 = _mm512_mask_add_epi32(x0, _mm512_cmplt_epi32_mask(x0, zero), x0, width);
            x0 = _mm512_mask_sub_epi32(x0, _mm512_cmpge_epi32_mask(x0, width), x0, width);
            x1 = _mm512_mask_add_epi32(x1, _mm512_cmplt_epi32_mask(x1, zero), x1, width);
            x1 = _mm512_mask_sub_epi32(x1, _mm512_cmpge_epi32_mask(x1, width), x1, width);
        } else {
            x0 = _mm512_min_epi32(_mm512_max_epi32(x0, zero), lastX);
            x1 = _mm512_min_epi32(_mm512_max_epi32(x1, zero), lastX);
        }
        __m512i y0 = _mm512_min_epi32(_mm512_max_epi32(iy, zero), lastY);
        __m512i y1 = _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(iy, one), zero), lastY);
        __m512i r0 = _mm512_mullo_epi32(y0, width), r1 = _mm512_mullo_epi32(y1, width);
        __m512 au, av, bu, bv, cu, cv, du, dv;
        gather_avx512(uv, _mm512_add_epi32(r0, x0), &au, &av);
        gather_avx512(uv, _mm512_add_epi32(r0, x1), &bu, &bv);
        gather_avx512(uv, _mm512_add_epi32(r1, x0), &cu, &cv);
        gather_avx512(uv, _mm512_add_epi32(r1, x1), &du, &dv);
        __m512 bx = _mm512_sub_ps(ones, ax), by = _mm512_sub_ps(ones, ay);
        __m512 topX = _mm512_add_ps(_mm512_mul_ps(au, bx), _mm512_mul_ps(bu, ax));
        __m512 topY = _mm512_add_ps(_mm512_mul_ps(av, bx), _mm512_mul_ps(bv, ax));
        __m512 bottomX = _mm512_add_ps(_mm512_mul_ps(cu, bx), _mm512_mul_ps(du, ax));
        __m512 bottomY = _mm512_add_ps(_mm512_mul_ps(cv, bx), _mm512_mul_ps(dv, ax));
        __m512 nx = _mm512_add_ps(qx, _mm512_mul_ps(s, _mm512_add_ps(_mm512_mul_ps(topX, by), _mm512_mul_ps(bottomX, ay))));
        __m512 ny = _mm512_add_ps(qy, _mm512_mul_ps(s, _mm512_add_ps(_mm512_mul_ps(topY, by), _mm512_mul_ps(bottomY, ay))));
        if (wrap) {
            __mmask16 below = _mm512_cmp_ps_mask(nx, zeros, _CMP_LT_OQ);
            __mmask16 past = _mm512_cmp_ps_mask(nx, span, _CMP_GE_OQ) & (__mmask16)~below;
            nx = _mm512_mask_add_ps(nx, below, nx, span);
            nx = _mm512_mask_sub_ps(nx, past, nx, span);
        }
        _mm512_storeu_ps(xs + k, nx);
        _mm512_storeu_ps(ys + k, ny);
    }
    return k;
}
#endif

/// One step of particles `from`..<`count`, on the best path up to `isa`.
static void advance(float *xs, float *ys, long count, const float *uv, int w, int h, int wrap, float sign, int isa) {
    long done = 0;
#if defined(__x86_64__)
    if (isa == STRATA_ISA_AVX512) done = advance_avx512(xs, ys, count, uv, w, h, wrap, sign);
    else if (isa == STRATA_ISA_AVX2) done = advance_avx2(xs, ys, count, uv, w, h, wrap, sign);
#else
    (void)isa;
#endif
    advance_generic(xs, ys, done, count, uv, w, h, wrap, sign);
}

/// Particles a chunk: their positions stay in the first-level cache through all the steps,
/// and the field they read in the second.
enum { TRACE_CHUNK = 2048 };

void strata_fluid_trace(float *xs, float *ys, long count, long stride, int steps, int keep, const float *const *uv, int w,
                        int h, int wrap, float sign, int isa) {
    if (isa > strata_isa_supported()) isa = strata_isa_supported();
    for (long first = 0; first < count; first += TRACE_CHUNK) {
        long chunk = count - first < TRACE_CHUNK ? count - first : TRACE_CHUNK;
        float *x = xs + first, *y = ys + first;
        for (int j = 1; j <= steps; j++) {
            if (keep) {
                memcpy(x + stride, x, chunk * sizeof(float));
                memcpy(y + stride, y, chunk * sizeof(float));
                x += stride;
                y += stride;
            }
            advance(x, y, chunk, uv[j - 1], w, h, wrap, sign, isa);
        }
    }
}

void strata_fluid_exit_steps(const float *xs, const float *ys, long count, int limit, const uint8_t *inside,
                             const float *const *uv, int w, int h, int wrap, float sign, int isa, int32_t *steps) {
    if (isa > strata_isa_supported()) isa = strata_isa_supported();
    float x[TRACE_CHUNK], y[TRACE_CHUNK];
    for (long first = 0; first < count; first += TRACE_CHUNK) {
        long chunk = count - first < TRACE_CHUNK ? count - first : TRACE_CHUNK;
        memcpy(x, xs + first, chunk * sizeof(float));
        memcpy(y, ys + first, chunk * sizeof(float));
        int32_t *out = steps + first;
        for (long k = 0; k < chunk; k++) out[k] = limit;
        for (int j = 1; j <= limit; j++) {
            advance(x, y, chunk, uv[j - 1], w, h, wrap, sign, isa);
            for (long k = 0; k < chunk; k++) {
                // The pixel the particle is in, by rounding (columns round the panorama);
                // without branches, as particles leave at random.
                int px = floor_int(x[k] + 0.5f), py = floor_int(y[k] + 0.5f);
                if (wrap) px += (px < 0 ? w : 0) - (px >= w ? w : 0);
                int on = px >= 0 && px < w && py >= 0 && py < h;
                int cx = px < 0 ? 0 : (px > w - 1 ? w - 1 : px), cy = py < 0 ? 0 : (py > h - 1 ? h - 1 : py);
                int in = on & (inside[(long)cy * w + cx] != 0);
                out[k] = out[k] == limit && !in ? j - 1 : out[k];
            }
        }
    }
}

typedef float float4 __attribute__((vector_size(16)));

typedef float float8 __attribute__((vector_size(32)));
typedef int32_t int8v __attribute__((vector_size(32)));
typedef uint8_t uchar8 __attribute__((vector_size(8)));

/// One particle's colour `c` added bilinearly around (px, py) into `acc`, which holds image
/// rows `row0`..<`row0 + rows`: corners on other rows are dropped. Where both columns are on
/// the image and side by side (all but the border and the panorama's seam), each row's two
/// pixels take one 32-byte add: half the read-modify-writes, the same bits.
__attribute__((always_inline))
static inline void splat_one(float4 *acc, float px, float py, float4 c, int w, int row0, int rows, int wrap) {
    int x0 = floor_int(px), y0 = floor_int(py);
    float ax = px - (float)x0, ay = py - (float)y0;
    int x1 = x0 + 1, x = x0;
    if (wrap) {
        if (x < 0) x += w; else if (x >= w) x -= w;
        if (x1 < 0) x1 += w; else if (x1 >= w) x1 -= w;
    }
    int in0 = x >= 0 && x < w, in1 = x1 >= 0 && x1 < w;
    // The two rows within the window (unsigned: below row0 wraps past `rows`).
    int top = y0 - row0, bottom = top + 1;
    int onTop = (unsigned)top < (unsigned)rows, onBottom = (unsigned)bottom < (unsigned)rows;
    float bx = 1.0f - ax, by = 1.0f - ay;
    if (in0 && in1 && x1 == x + 1) {
        float8 colour = {c[0], c[1], c[2], c[3], c[0], c[1], c[2], c[3]};
        float top0 = bx * by, top1 = ax * by, bottom0 = bx * ay, bottom1 = ax * ay;
        if (onTop) {
            float8 sum, weights = {top0, top0, top0, top0, top1, top1, top1, top1};
            float4 *pair = acc + (long)top * w + x;
            memcpy(&sum, pair, sizeof sum);
            sum += colour * weights;
            memcpy(pair, &sum, sizeof sum);
        }
        if (onBottom) {
            float8 sum, weights = {bottom0, bottom0, bottom0, bottom0, bottom1, bottom1, bottom1, bottom1};
            float4 *pair = acc + (long)bottom * w + x;
            memcpy(&sum, pair, sizeof sum);
            sum += colour * weights;
            memcpy(pair, &sum, sizeof sum);
        }
        return;
    }
    if (onTop) {
        float4 *row = acc + (long)top * w;
        if (in0) row[x] += c * (bx * by);
        if (in1) row[x1] += c * (ax * by);
    }
    if (onBottom) {
        float4 *row = acc + (long)bottom * w;
        if (in0) row[x] += c * (bx * ay);
        if (in1) row[x1] += c * (ax * ay);
    }
}

__attribute__((always_inline))
static inline void splat(const float *xs, const float *ys, float weight, const float *weights, const float *xs2, const float *ys2,
                         float weight2, const float *weights2, long count, const float *colours, float *sums, int w, int row0, int rows, int wrap) {
    float4 *acc = (float4 *)sums;
    for (long k = 0; k < count; k++) {
        float4 c;
        memcpy(&c, colours + 4 * k, sizeof c);
        splat_one(acc, xs[k], ys[k], c * (weights ? weight * weights[k] : weight), w, row0, rows, wrap);
        if (xs2) splat_one(acc, xs2[k], ys2[k], c * (weights2 ? weight2 * weights2[k] : weight2), w, row0, rows, wrap);
    }
}

#if defined(__x86_64__)
/// The same, where the 32-byte adds are single AVX instructions.
__attribute__((target("avx2,fma")))
static void splat_avx2(const float *xs, const float *ys, float weight, const float *weights, const float *xs2, const float *ys2,
                       float weight2, const float *weights2, long count, const float *colours, float *sums, int w, int row0, int rows, int wrap) {
    splat(xs, ys, weight, weights, xs2, ys2, weight2, weights2, count, colours, sums, w, row0, rows, wrap);
}
#endif

void strata_fluid_splat(const float *xs, const float *ys, float weight, const float *weights, const float *xs2, const float *ys2,
                        float weight2, const float *weights2, long count, const float *colours, float *sums, int w, int row0, int rows, int wrap) {
#if defined(__x86_64__)
    if (strata_isa_supported() >= STRATA_ISA_AVX2) {
        splat_avx2(xs, ys, weight, weights, xs2, ys2, weight2, weights2, count, colours, sums, w, row0, rows, wrap);
        return;
    }
#endif
    splat(xs, ys, weight, weights, xs2, ys2, weight2, weights2, count, colours, sums, w, row0, rows, wrap);
}

void strata_fluid_resolve(float *sums, float *sums2, long first, const int32_t *region, const float *colours, long count, void *out,
                          int bits) {
    float4 *acc = (float4 *)sums - first, *acc2 = sums2 ? (float4 *)sums2 - first : NULL;
    const float top = bits == 8 ? 255.0f : 65535.0f;
    for (long k = 0; k < count; k++) {
        float4 sum = acc[region[k]];
        acc[region[k]] = (float4){0, 0, 0, 0};
        if (acc2) {
            sum += acc2[region[k]];
            acc2[region[k]] = (float4){0, 0, 0, 0};
        }
        float4 c;
        if (sum[3] > 1e-6f) {
            c = sum / sum[3];
        } else {
            memcpy(&c, colours + 4 * k, sizeof c);
        }
        for (int ch = 0; ch < 3; ch++) {
            float v = c[ch] < 0 ? 0 : (c[ch] > 1 ? 1 : c[ch]);
            if (bits == 8) ((uint8_t *)out)[3 * k + ch] = (uint8_t)(v * top + 0.5f);
            else ((uint16_t *)out)[3 * k + ch] = (uint16_t)(v * top + 0.5f);
        }
    }
}

/// Particles composed a chunk: their samples first, in a loop over contiguous arrays that
/// the compiler vectorises, then scattered to their pixels.
enum { COMPOSE_CHUNK = 512 };

void strata_fluid_compose8(const void *moved, int bits, const uint16_t *stillQ, const float *still, const float *alpha,
                           const int32_t *region, long count, int grey, int width, long stride, uint8_t *out) {
    const float unit = bits == 8 ? 1.0f / 255.0f : 1.0f / 65535.0f, magic = 8388608.0f;
    // The row of the pixel at hand, followed as the region ascends (a division a row, not a pixel).
    long row = count > 0 ? region[0] / width : 0, rowStart = row * width;
    float fluid[3 * COMPOSE_CHUNK], a[3 * COMPOSE_CHUNK];
    uint8_t samples[3 * COMPOSE_CHUNK];
    for (long first = 0; first < count; first += COMPOSE_CHUNK) {
        long m = count - first < COMPOSE_CHUNK ? count - first : COMPOSE_CHUNK;
        const float *before = still + 3 * first;
        const uint16_t *q = stillQ + 3 * first;
        // The stored colours as floats, each sample's alpha beside it, and where the stored
        // colour is the still's, the still's own value exactly (fluid = before, a = 0).
        if (bits == 8) {
            const uint8_t *stored = (const uint8_t *)moved + 3 * first;
            for (long i = 0; i < 3 * m; i++) fluid[i] = (float)stored[i];
            for (long i = 0; i < 3 * m; i++) a[i] = stored[i] == q[i] ? 0.0f : 1.0f;
        } else {
            const uint16_t *stored = (const uint16_t *)moved + 3 * first;
            for (long i = 0; i < 3 * m; i++) fluid[i] = (float)stored[i];
            for (long i = 0; i < 3 * m; i++) a[i] = stored[i] == q[i] ? 0.0f : 1.0f;
        }
        for (long k = 0; k < m; k++) {
            float ak = alpha[first + k];
            a[3 * k] *= ak;
            a[3 * k + 1] *= ak;
            a[3 * k + 2] *= ak;
        }
        // Eight samples at a time, in clang's vector types (SSE2 or NEON at least); the
        // rounding is the one below, lane by lane.
        long i = 0;
        for (; i + 8 <= 3 * m; i += 8) {
            float8 b, f, w;
            memcpy(&b, before + i, sizeof b);
            memcpy(&f, fluid + i, sizeof f);
            memcpy(&w, a + i, sizeof w);
            float8 mixed = b + w * (f * unit - b);
            int8v keep = w == 0.0f;
            float8 v = (float8)(((int8v)b & keep) | ((int8v)mixed & ~keep));
            float8 scaled = v * 255.0f;
            scaled = (float8)((int8v)scaled & (scaled > 0.0f));
            int8v under = scaled < 255.0f;
            scaled = (float8)(((int8v)scaled & under) | ((int8v)(float8){255, 255, 255, 255, 255, 255, 255, 255} & ~under));
            int8v word = (int8v)(scaled + magic) & 0xFF;
            uchar8 bytes = __builtin_convertvector(word, uchar8);
            memcpy(samples + i, &bytes, sizeof bytes);
        }
        for (; i < 3 * m; i++) {
            float mixed = before[i] + a[i] * (fluid[i] * unit - before[i]);
            float v = a[i] == 0.0f ? before[i] : mixed;
            // As Strata's 8-bit conversion everywhere: clamped (NaN to 0), scaled, rounded to
            // nearest by adding 2^23.
            float s = v * 255.0f;
            s = s > 0 ? s : 0;
            s = s < 255.0f ? s : 255.0f;
            float r = s + magic;
            uint32_t word;
            memcpy(&word, &r, sizeof word);
            samples[i] = (uint8_t)(word & 0xFF);
        }
        // Runs of consecutive pixels on one row (most of a fluid) go as one copy.
        const int32_t *pixels = region + first;
        for (long k = 0; k < m;) {
            long i = pixels[k];
            if (i >= rowStart + width) {
                row = i / width;
                rowStart = row * width;
            }
            uint8_t *pixel = out + row * stride + 3 * (i - rowStart);
            if (grey) {
                pixel[0] = pixel[1] = pixel[2] = samples[3 * k];
                k++;
                continue;
            }
            long run = 1;
            while (k + run < m && pixels[k + run] == i + run && i + run < rowStart + width) run++;
            memcpy(pixel, samples + 3 * k, 3 * run);
            k += run;
        }
    }
}

void strata_fluid_advect_field(const float *uv, float *out, int w, int h, int wrap, float sign, const uint8_t *inside, int row0,
                               int row1) {
    for (int y = row0; y < row1; y++) {
        for (int x = 0; x < w; x++) {
            long i = (long)y * w + x;
            if (!inside[i]) {
                out[2 * i] = out[2 * i + 1] = 0;
                continue;
            }
            // The departure point, one step against the flow (with the flow, going back in time).
            sample_pair(uv, w, h, wrap, (float)x - sign * uv[2 * i], (float)y - sign * uv[2 * i + 1], out + 2 * i);
        }
    }
}
