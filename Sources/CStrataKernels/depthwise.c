// Depthwise convolution, one plane at a time. The plane is first copied into a
// zero-padded scratch plane wide and tall enough for whole blocks of outputs, so every
// output is computed in registers, eight per register, with no bounds tests (at MiDaS's
// sizes, border pixels done one by one took as long as all the rest).
//
// The scratch plane is split by column phase for strided windows: at stride s, row r holds
// s rows of its own, the columns ≡ 0, 1, … (mod s) one after the other. Each tap then
// reads eight consecutive floats of one phase, so a strided window costs what a unit one
// does (a stride-2 load of sixteen floats and two shuffles per tap ran MiDaS's stride-2
// layers at a third of the speed). Dilation is an offset per tap in the same tables.
//
// Blocks are eight independent sums, so the multiply-adds of one tap do not wait on each
// other's latency: eight rows of one register on planes up to 8 wide, four rows of two
// up to 16, two rows of four (32 columns) beyond. The bias, the clamp and the residual are
// applied as a block is copied out of its staging rows into the output.
#include "CStrataKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

/// The scratch plane of the calling thread, grown as needed and kept for the next plane
/// (a calloc per plane cost as much as an 8×8 plane's arithmetic). `*fresh` says whether
/// it must be zeroed: not when the last plane had the same geometry `key`, whose copies
/// wrote the same floats and left the zeros around them.
static float *depthwise_scratch(size_t count, const long key[8], int *fresh) {
    static _Thread_local float *buffer = NULL;
    static _Thread_local size_t capacity = 0;
    static _Thread_local long last[8] = { -1, -1, -1, -1, -1, -1, -1, -1 };
    *fresh = 0;
    if (count > capacity) {
        free(buffer);
        buffer = aligned_alloc(32, (count * sizeof(float) + 31) / 32 * 32);
        capacity = buffer ? count : 0;
        *fresh = 1;
    }
    if (memcmp(last, key, sizeof(last)) != 0) *fresh = 1;
    memcpy(last, key, sizeof(last));
    return buffer;
}

/// `n` floats from `from` to `to`, eight at a time (the rows here are tens of floats: a
/// memcpy call per row cost more than the row's arithmetic on 8×8 planes).
__attribute__((target("avx2,fma"), always_inline))
static inline void depthwise_copy(float *to, const float *from, long n) {
    long k = 0;
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(to + k, _mm256_loadu_ps(from + k));
    for (; k < n; k++) to[k] = from[k];
}

/// One padded row of `s` · `phase` floats (input row `from` of `iw` at column `pl`, zeros
/// around it) into `to` as `s` phases of `phase` floats, through `line` (a row of that
/// length) when `s` > 1. Only the input's floats are written: the zeros around them stay
/// from the last plane of the same geometry.
__attribute__((target("avx2,fma")))
static void depthwise_row(float *to, const float *from, int iw, int pl, int s, long phase, float *line) {
    const long total = s * phase;
    long n = iw;
    if (pl + n > total) n = total - pl;
    if (n <= 0) return;
    if (s == 1) {
        depthwise_copy(to + pl, from, n);
        return;
    }
    depthwise_copy(line + pl, from, n);
    if (s == 2) {
        // Sixteen floats into eight even and eight odd ones.
        long q = 0;
        for (; q + 8 <= phase; q += 8) {
            const __m256 a = _mm256_loadu_ps(line + 2 * q), b = _mm256_loadu_ps(line + 2 * q + 8);
            const __m256 even = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)), odd = _mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
            _mm256_storeu_ps(to + q, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), _MM_SHUFFLE(3, 1, 2, 0))));
            _mm256_storeu_ps(to + phase + q, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(odd), _MM_SHUFFLE(3, 1, 2, 0))));
        }
        for (; q < phase; q++) {
            to[q] = line[2 * q];
            to[phase + q] = line[2 * q + 1];
        }
        return;
    }
    for (int p = 0; p < s; p++)
        for (long q = 0; q < phase; q++) to[p * phase + q] = line[q * s + p];
}

/// Outputs `R` rows × `V` registers of eight from `origin` (the block's first tap in the
/// scratch plane): tap (i, j) reads `origin + rows[i] + columns[j]`, output row r `step`
/// further per row. Stored to `out` (row stride `os`).
__attribute__((target("avx2,fma"), always_inline))
static inline void depthwise_block(const float *origin, const long *rows, const long *columns, long step, const float *w,
                                   int kh, int kw, const int R, const int V, float *out, long os) {
    __m256 acc[8];
    for (int k = 0; k < R * V; k++) acc[k] = _mm256_setzero_ps();
    for (int i = 0; i < kh; i++) {
        const float *line = origin + rows[i];
        for (int j = 0; j < kw; j++) {
            const __m256 weight = _mm256_set1_ps(w[i * kw + j]);
            const float *p = line + columns[j];
            for (int r = 0; r < R; r++)
                for (int v = 0; v < V; v++)
                    acc[r * V + v] = _mm256_fmadd_ps(weight, _mm256_loadu_ps(p + r * step + 8 * v), acc[r * V + v]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int v = 0; v < V; v++) _mm256_storeu_ps(out + r * os + 8 * v, acc[r * V + v]);
}

/// `n` staged outputs into `y`, each plus `bias`, clamped to [`lo`, `hi`], plus the residual `r` (or none).
__attribute__((target("avx2,fma"), always_inline))
static inline void depthwise_finish(float *y, const float *staged, long n, float bias, float lo, float hi, const float *r) {
    const __m256 b = _mm256_set1_ps(bias), l = _mm256_set1_ps(lo), h = _mm256_set1_ps(hi);
    long k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(_mm256_loadu_ps(staged + k), b), l), h);
        if (r) v = _mm256_add_ps(v, _mm256_loadu_ps(r + k));
        _mm256_storeu_ps(y + k, v);
    }
    for (; k < n; k++) {
        float v = staged[k] + bias;
        v = v < lo ? lo : (v > hi ? hi : v);
        y[k] = r ? v + r[k] : v;
    }
}

__attribute__((target("avx2,fma")))
static void depthwise_plane(const float *x, int ih, int iw, const float *w, int kh, int kw, int sh, int sw, int dh, int dw,
                            int pt, int pl, float *y, int oh, int ow, float bias, float lo, float hi, const float *residual) {
    const int vectors = (ow + 7) / 8;
    const int V = vectors == 1 ? 1 : vectors == 2 ? 2 : 4, R = 8 / V;
    const int blocks = (vectors + V - 1) / V, wide = blocks * V * 8, tall = (oh + R - 1) / R * R;
    // Scratch rows: every padded input row a block reads, each as `sw` phases of `phase`
    // floats, a phase long enough for the widest block's last tap (plus a register's worth).
    const long phase = wide + ((long)(kw - 1) * dw) / sw + 8, pitch = sw * phase;
    const long ph = (long)(tall - 1) * sh + (long)(kh - 1) * dh + 1;
    const long key[8] = { pitch, ph, pt, pl, ih, iw, sw, sh };
    int fresh;
    float *padded = depthwise_scratch((size_t)(pitch * ph) + (size_t)R * wide + (size_t)pitch, key, &fresh);
    if (!padded) return;
    float *staged = padded + pitch * ph, *line = staged + (size_t)R * wide;
    if (fresh) memset(padded, 0, (size_t)(pitch * ph + R * wide + pitch) * sizeof(float));
    for (long r = 0; r < ph; r++) {
        const long sy = r - pt;
        if (sy >= 0 && sy < ih) depthwise_row(padded + r * pitch, x + sy * iw, iw, pl, sw, phase, line);
    }
    long rows[16], columns[16];
    for (int i = 0; i < kh && i < 16; i++) rows[i] = (long)i * dh * pitch;
    for (int j = 0; j < kw && j < 16; j++) columns[j] = (long)((j * dw) % sw) * phase + (j * dw) / sw;
    const long step = (long)sh * pitch;
    for (int oy = 0; oy < tall; oy += R) {
        for (int b = 0; b < blocks; b++) {
            const int ox = b * V * 8;
            // Staged, then copied: stores straight into the output ran three times slower
            // (their addresses alias the scratch plane's loads modulo 4 KiB).
            const float *origin = padded + oy * step + ox;
            if (V == 1) depthwise_block(origin, rows, columns, step, w, kh, kw, 8, 1, staged, V * 8);
            else if (V == 2) depthwise_block(origin, rows, columns, step, w, kh, kw, 4, 2, staged, V * 8);
            else depthwise_block(origin, rows, columns, step, w, kh, kw, 2, 4, staged, V * 8);
            const long n = ow - ox < V * 8 ? ow - ox : V * 8;
            for (int r = 0; r < R && oy + r < oh; r++) {
                const long at = (long)(oy + r) * ow + ox;
                depthwise_finish(y + at, staged + (long)r * V * 8, n, bias, lo, hi, residual ? residual + at : NULL);
            }
        }
    }
}

// The AVX-512 path reads the input plane in place: masked loads give the zeros left and
// right of it (a masked-off lane neither reads nor faults), rows above and below it read a
// row of zeros, so there is no padded copy, no staging and no branch in the sums; each
// block's outputs go straight to `y`. Sixteen outputs a register; at stride 2, two
// registers of input and one two-source permute give the even columns. The masks depend
// only on the geometry, so they are made once for all planes.

/// Lanes whose input column `first` + lane lies in [0, `iw`).
static inline uint16_t depthwise_lanes(long first, int iw) {
    const long lo = first < 0 ? -first : 0, hi = iw - first < 16 ? iw - first : 16;
    if (hi <= lo) return 0;
    return (uint16_t)(((1u << hi) - 1) & ~((1u << lo) - 1));
}

/// A row of zeros at least `count` floats long, the calling thread's, kept for its next call.
static const float *depthwise_zeros(long count) {
    static _Thread_local float *zeros = NULL;
    static _Thread_local long capacity = 0;
    if (count > capacity) {
        free(zeros);
        zeros = calloc((size_t)count, sizeof(float));
        capacity = zeros ? count : 0;
    }
    return zeros;
}

/// `R` output rows from `oy` × `V` registers from column `ox` (their masks at `masks`, the
/// second register's at stride 2 at `masks2`, `kw` a register): bias, the sums over the
/// taps, the clamp and the residual, stored under the output's own mask.
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl"), always_inline))
static inline void depthwise_block512(const float *x, int ih, int iw, const float *zeros, const float *w, int kh, int kw, int sh,
                                      int dh, int dw, int pt, int pl, const uint16_t *masks, const uint16_t *masks2, int oy, int ox,
                                      int oh, int ow, const int R, const int V, const int stride2, float bias, float lo, float hi,
                                      const float *residual, float *y) {
    static const int even[16] = { 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30 };
    const __m512i pick = _mm512_loadu_si512(even);
    __m512 acc[16];
    for (int k = 0; k < R * V; k++) acc[k] = _mm512_set1_ps(bias);
    for (int i = 0; i < kh; i++) {
        const float *rows[8];
        for (int r = 0; r < R; r++) {
            const long iy = (long)(oy + r) * sh + (long)i * dh - pt;
            rows[r] = oy + r < oh && iy >= 0 && iy < ih ? x + iy * iw : zeros;
        }
        for (int j = 0; j < kw; j++) {
            const __m512 weight = _mm512_set1_ps(w[i * kw + j]);
            for (int v = 0; v < V; v++) {
                const __mmask16 m = masks[v * kw + j];
                // The register's first input column (left of the plane at its left edge:
                // those lanes are masked off, the address never read).
                const long col = (stride2 ? 2L : 1L) * (ox + 16 * v) + (long)j * dw - pl;
                for (int r = 0; r < R; r++) {
                    const float *p = (const float *)((uintptr_t)rows[r] + (uintptr_t)(col * (long)sizeof(float)));
                    __m512 in;
                    if (stride2) {
                        const __m512 a = _mm512_maskz_loadu_ps(m, p), b = _mm512_maskz_loadu_ps(masks2[v * kw + j], p + 16);
                        in = _mm512_permutex2var_ps(a, pick, b);
                    } else {
                        in = _mm512_maskz_loadu_ps(m, p);
                    }
                    acc[r * V + v] = _mm512_fmadd_ps(weight, in, acc[r * V + v]);
                }
            }
        }
    }
    const __m512 l = _mm512_set1_ps(lo), h = _mm512_set1_ps(hi);
    for (int r = 0; r < R; r++) {
        if (oy + r >= oh) break;
        for (int v = 0; v < V; v++) {
            const int at = ox + 16 * v;
            if (at >= ow) break;
            const __mmask16 store = ow - at >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (ow - at)) - 1);
            __m512 out = _mm512_min_ps(_mm512_max_ps(acc[r * V + v], l), h);
            const long o = (long)(oy + r) * ow + at;
            if (residual) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(store, residual + o));
            _mm512_mask_storeu_ps(y + o, store, out);
        }
    }
}

/// The planes at column stride 1 or 2 (rows step by `sh`), in blocks of up to 16
/// registers. False where the masks would not fit on the stack (planes over 1024 wide).
__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
static int depthwise_planes512(const float *x, int channels, int ih, int iw, const float *w, int kh, int kw, int sh, int sw, int dh,
                               int dw, int pt, int pl, float *y, int oh, int ow, const float *bias, float lo, float hi,
                               const float *residual) {
    const int vectors = (ow + 15) / 16, V = vectors >= 4 ? 4 : vectors;
    if (vectors > 64) return 0;
    uint16_t masks[64 * 16], masks2[64 * 16];
    for (int v = 0; v < vectors; v++)
        for (int j = 0; j < kw; j++) {
            const long first = (long)sw * 16 * v + (long)j * dw - pl;
            masks[v * kw + j] = depthwise_lanes(first, iw);
            masks2[v * kw + j] = depthwise_lanes(first + 16, iw);
        }
    const float *zeros = depthwise_zeros((long)sw * 16 * (vectors + 1) + (long)(kw - 1) * dw + 32);
    if (!zeros) return 0;
    const long in = (long)ih * iw, out = (long)oh * ow;
    for (int c = 0; c < channels; c++) {
        const float *xc = x + c * in, *wc = w + (long)c * kh * kw, *rc = residual ? residual + c * out : NULL;
        float *yc = y + c * out;
        const float b = bias ? bias[c] : 0.0f;
        for (int ox = 0; ox < ow; ox += 16 * V) {
            const int count = vectors - ox / 16 < V ? vectors - ox / 16 : V;
            const uint16_t *m = masks + (ox / 16) * kw, *m2 = masks2 + (ox / 16) * kw;
            // Each shape a block of its own, so the loops over rows, registers and the
            // stride unroll with constants.
#define DEPTHWISE_BLOCK(r, v, s2) \
    for (int oy = 0; oy < oh; oy += r) \
        depthwise_block512(xc, ih, iw, zeros, wc, kh, kw, sh, dh, dw, pt, pl, m, m2, oy, ox, oh, ow, r, v, s2, b, lo, hi, rc, yc)
            if (sw == 2) {
                if (count == 1) DEPTHWISE_BLOCK(8, 1, 1);
                else if (count == 2) DEPTHWISE_BLOCK(6, 2, 1);
                else if (count == 3) DEPTHWISE_BLOCK(4, 3, 1);
                else DEPTHWISE_BLOCK(4, 4, 1);
            } else {
                if (count == 1) DEPTHWISE_BLOCK(8, 1, 0);
                else if (count == 2) DEPTHWISE_BLOCK(6, 2, 0);
                else if (count == 3) DEPTHWISE_BLOCK(4, 3, 0);
                else DEPTHWISE_BLOCK(4, 4, 0);
            }
#undef DEPTHWISE_BLOCK
        }
    }
    return 1;
}
#endif

void strata_depthwise_planes(const float *x, int channels, int ih, int iw, const float *w, int kh, int kw,
                             int sh, int sw, int dh, int dw, int pt, int pl, float *y, int oh, int ow,
                             const float *bias, float lo, float hi, const float *residual, int isa) {
#if defined(__x86_64__)
    const long in = (long)ih * iw, out = (long)oh * ow;
    if (isa > strata_isa_supported()) isa = strata_isa_supported();
    if (isa >= STRATA_ISA_AVX512 && (sw == 1 || sw == 2)
        && depthwise_planes512(x, channels, ih, iw, w, kh, kw, sh, sw, dh, dw, pt, pl, y, oh, ow, bias, lo, hi, residual))
        return;
    for (int c = 0; c < channels; c++)
        depthwise_plane(x + c * in, ih, iw, w + (long)c * kh * kw, kh, kw, sh, sw, dh, dw, pt, pl, y + c * out, oh, ow,
                        bias ? bias[c] : 0.0f, lo, hi, residual ? residual + c * out : NULL);
#else
    (void)x; (void)channels; (void)ih; (void)iw; (void)w; (void)kh; (void)kw; (void)sh; (void)sw; (void)dh; (void)dw;
    (void)pt; (void)pl; (void)y; (void)oh; (void)ow; (void)bias; (void)lo; (void)hi; (void)residual; (void)isa;
#endif
}
