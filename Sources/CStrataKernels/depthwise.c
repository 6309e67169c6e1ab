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
#endif

void strata_depthwise_planes(const float *x, int channels, int ih, int iw, const float *w, int kh, int kw,
                             int sh, int sw, int dh, int dw, int pt, int pl, float *y, int oh, int ow,
                             const float *bias, float lo, float hi, const float *residual) {
#if defined(__x86_64__)
    const long in = (long)ih * iw, out = (long)oh * ow;
    for (int c = 0; c < channels; c++)
        depthwise_plane(x + c * in, ih, iw, w + (long)c * kh * kw, kh, kw, sh, sw, dh, dw, pt, pl, y + c * out, oh, ow,
                        bias ? bias[c] : 0.0f, lo, hi, residual ? residual + c * out : NULL);
#else
    (void)x; (void)channels; (void)ih; (void)iw; (void)w; (void)kh; (void)kw; (void)sh; (void)sw; (void)dh; (void)dw;
    (void)pt; (void)pl; (void)y; (void)oh; (void)ow; (void)bias; (void)lo; (void)hi; (void)residual;
#endif
}
