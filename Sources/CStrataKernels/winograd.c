// Winograd convolutions for 3×3 kernels at stride 1: F(2×2, 3×3) and F(4×4, 3×3).
#include "CStrataKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Winograd F(2×2, 3×3) for 3×3 convolutions at stride 1 (Lavin & Gray, 2016): each 2×2
// block of outputs comes from a 4×4 block of input through 16 products instead of 36, so
// the sums over input channels become 16 matrix products of a quarter of the direct
// arithmetic's size (2.25× fewer multiply-adds). The transforms below work on eight
// neighbouring tiles of a row at once, one register each.
//
//   weights  U = G g Gᵀ    G  = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1]
//   input    V = Bᵀ d B    Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]
//   output   Y = Aᵀ M A    Aᵀ = [1 1 1 0; 0 1 −1 −1]

/// U for weights `w` (`m` × `channels` × 3 × 3): `u[ξ][o][c]`, ξ = 4·row + column of U.
static void winograd_weights(const float *w, int m, int channels, float *u) {
    const long plane = (long)m * channels;
    for (int o = 0; o < m; o++)
        for (int c = 0; c < channels; c++) {
            const float *g = w + ((long)o * channels + c) * 9;
            float t[4][3];
            for (int j = 0; j < 3; j++) {
                t[0][j] = g[j];
                t[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
                t[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
                t[3][j] = g[6 + j];
            }
            for (int i = 0; i < 4; i++) {
                const float a = t[i][0], b = t[i][1], d = t[i][2];
                const float row[4] = { a, 0.5f * (a + b + d), 0.5f * (a - b + d), d };
                for (int j = 0; j < 4; j++) u[(long)(4 * i + j) * plane + (long)o * channels + c] = row[j];
            }
        }
}

#if defined(__x86_64__)
/// The first `n` (< 8 possible) floats of `x`, plus `residual`'s (or none), stored at `to`:
/// masked moves, since staging the row in memory and copying it out stalled every load on
/// a store it could not forward from (70% of F(4×4)'s output transform at 148 columns).
__attribute__((target("avx2,fma"), always_inline))
static inline void winograd_store_part(float *to, const float *residual, __m256 x, int n) {
    const __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(n < 8 ? n : 8), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    if (residual) x = _mm256_add_ps(x, _mm256_maskload_ps(residual, mask));
    _mm256_maskstore_ps(to, mask, x);
}

/// Columns 2t and 2t + 1 of sixteen floats from `p` (t = 0…7): the even and the odd ones.
__attribute__((target("avx2,fma"), always_inline))
static inline void winograd_split(const float *p, __m256 *even, __m256 *odd) {
    const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8);
    *even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0))), _MM_SHUFFLE(3, 1, 2, 0)));
    *odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1))), _MM_SHUFFLE(3, 1, 2, 0)));
}

__attribute__((target("avx2,fma")))
static void winograd_input(const float *padded, int channels, int ph, int pw, int ty, int tiles, float *v, long vstride, long column) {
    for (int c = 0; c < channels; c++) {
        for (int t0 = 0; t0 < tiles; t0 += 8) {
            __m256 d[4][4];
            for (int r = 0; r < 4; r++) {
                const float *p = padded + ((long)c * ph + 2 * ty + r) * pw + 2 * t0;
                winograd_split(p, &d[r][0], &d[r][1]);
                winograd_split(p + 2, &d[r][2], &d[r][3]);
            }
            __m256 s[4][4];
            for (int r = 0; r < 4; r++) {
                s[r][0] = _mm256_sub_ps(d[r][0], d[r][2]);
                s[r][1] = _mm256_add_ps(d[r][1], d[r][2]);
                s[r][2] = _mm256_sub_ps(d[r][2], d[r][1]);
                s[r][3] = _mm256_sub_ps(d[r][1], d[r][3]);
            }
            for (int k = 0; k < 4; k++) {
                const __m256 rows[4] = { _mm256_sub_ps(s[0][k], s[2][k]), _mm256_add_ps(s[1][k], s[2][k]),
                                         _mm256_sub_ps(s[2][k], s[1][k]), _mm256_sub_ps(s[1][k], s[3][k]) };
                for (int i = 0; i < 4; i++) _mm256_storeu_ps(v + (long)(4 * i + k) * vstride + (long)c * column + t0, rows[i]);
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static void winograd_output(const float *mt, int m, long mstride, long column, int ty, int tiles, const float *bias, float lo, float hi,
                            const float *residual, float *y, int oh, int ow) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const long plane = (long)oh * ow;
    for (int o = 0; o < m; o++) {
        const __m256 b = _mm256_set1_ps(bias ? bias[o] : 0.0f);
        for (int t0 = 0; t0 < tiles; t0 += 8) {
            __m256 q[4][4];
            for (int i = 0; i < 4; i++)
                for (int k = 0; k < 4; k++) q[i][k] = _mm256_loadu_ps(mt + (long)(4 * i + k) * mstride + (long)o * column + t0);
            __m256 s[4][2];
            for (int i = 0; i < 4; i++) {
                s[i][0] = _mm256_add_ps(_mm256_add_ps(q[i][0], q[i][1]), q[i][2]);
                s[i][1] = _mm256_sub_ps(_mm256_sub_ps(q[i][1], q[i][2]), q[i][3]);
            }
            for (int i = 0; i < 2; i++) {
                const int row = 2 * ty + i;
                if (row >= oh) break;
                __m256 left, right;
                if (i == 0) {
                    left = _mm256_add_ps(_mm256_add_ps(s[0][0], s[1][0]), s[2][0]);
                    right = _mm256_add_ps(_mm256_add_ps(s[0][1], s[1][1]), s[2][1]);
                } else {
                    left = _mm256_sub_ps(_mm256_sub_ps(s[1][0], s[2][0]), s[3][0]);
                    right = _mm256_sub_ps(_mm256_sub_ps(s[1][1], s[2][1]), s[3][1]);
                }
                left = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(left, b), vlo), vhi);
                right = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(right, b), vlo), vhi);
                // Tiles t0…t0+7 give columns 2t0…2t0+15: left, right, left, right, …
                const __m256 lo4 = _mm256_unpacklo_ps(left, right), hi4 = _mm256_unpackhi_ps(left, right);
                const __m256 first = _mm256_permute2f128_ps(lo4, hi4, 0x20), second = _mm256_permute2f128_ps(lo4, hi4, 0x31);
                float *out = y + o * plane + (long)row * ow + 2 * t0;
                const float *r = residual ? residual + o * plane + (long)row * ow + 2 * t0 : NULL;
                const int n = ow - 2 * t0 < 16 ? ow - 2 * t0 : 16;
                if (n == 16) {
                    _mm256_storeu_ps(out, r ? _mm256_add_ps(first, _mm256_loadu_ps(r)) : first);
                    _mm256_storeu_ps(out + 8, r ? _mm256_add_ps(second, _mm256_loadu_ps(r + 8)) : second);
                } else {
                    winograd_store_part(out, r, first, n);
                    if (n > 8) winograd_store_part(out + 8, r ? r + 8 : NULL, second, n - 8);
                }
            }
        }
    }
}
#endif



// Winograd F(4×4, 3×3): each 4×4 block of outputs comes from a 6×6 block of input
// through 36 products instead of 144 (4× fewer multiply-adds than direct, 1.78× fewer than
// F(2×2, 3×3)), and the transformed tiles take 2.25 floats an output instead of 4, so the
// transforms move less memory too. The points are 0, ±1, ±2 and ∞ (Lavin & Gray's set);
// its rounding error grows with the 8s and 5s below but stays near 1e-6 of the output's
// scale at the channel counts of depth networks (the kernel tests bound it).
//
//   weights  U = G g Gᵀ    G  = [¼ 0 0; −⅙ −⅙ −⅙; −⅙ ⅙ −⅙; 1/24 1/12 ⅙; 1/24 −1/12 ⅙; 0 0 1]
//   input    V = Bᵀ d B    Bᵀ = [4 0 −5 0 1 0; 0 −4 −4 1 1 0; 0 4 −4 −1 1 0;
//                                0 −2 −1 2 1 0; 0 2 −1 −2 1 0; 0 4 0 −5 0 1]
//   output   Y = Aᵀ M A    Aᵀ = [1 1 1 1 1 0; 0 1 −1 2 −2 0; 0 1 1 4 4 0; 0 1 −1 8 −8 1]
//
// Eight neighbouring tiles are transformed at once, one register each. Their columns are
// four apart, so four loads of eight floats hold columns 0…3 of all eight tiles; a 4×4
// transpose within each 128-bit lane gathers column j of tiles (0, 2, 4, 6 | 1, 3, 5, 7)
// into one register. The tiles stay in that order through the products (any order of the
// products' columns does), and the same transpose puts the outputs back in place.

/// U for weights `w` (`m` × `channels` × 3 × 3): `u[ξ][o][c]`, ξ = 6·row + column of U.
static void winograd4_weights(const float *w, int m, int channels, float *u) {
    static const double G[6][3] = {{1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                   {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
    const long plane = (long)m * channels;
    for (int o = 0; o < m; o++)
        for (int c = 0; c < channels; c++) {
            const float *g = w + ((long)o * channels + c) * 9;
            // In double, so the weights carry no rounding of their own beyond the last one.
            double t[6][3];
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 3; j++) t[i][j] = G[i][0] * g[j] + G[i][1] * g[3 + j] + G[i][2] * g[6 + j];
            for (int i = 0; i < 6; i++)
                for (int k = 0; k < 6; k++)
                    u[(long)(6 * i + k) * plane + (long)o * channels + c] = (float)(t[i][0] * G[k][0] + t[i][1] * G[k][1] + t[i][2] * G[k][2]);
        }
}

#if defined(__x86_64__)
/// A 4×4 transpose within each 128-bit lane of `x[0…3]` (its own inverse).
__attribute__((target("avx2,fma"), always_inline))
static inline void lane_transpose4(__m256 x[4]) {
    const __m256 t0 = _mm256_unpacklo_ps(x[0], x[1]), t1 = _mm256_unpackhi_ps(x[0], x[1]);
    const __m256 t2 = _mm256_unpacklo_ps(x[2], x[3]), t3 = _mm256_unpackhi_ps(x[2], x[3]);
    x[0] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
    x[1] = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
    x[2] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
    x[3] = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
}

/// Bᵀ applied to six values: the rows of Bᵀ as sums that share their parts.
__attribute__((target("avx2,fma"), always_inline))
static inline void winograd4_bt(const __m256 x[6], __m256 y[6]) {
    const __m256 four = _mm256_set1_ps(4.0f), five = _mm256_set1_ps(5.0f), two = _mm256_set1_ps(2.0f);
    const __m256 a = _mm256_fnmadd_ps(four, x[2], x[4]), b = _mm256_fnmadd_ps(four, x[1], x[3]);
    const __m256 c = _mm256_sub_ps(x[4], x[2]), d = _mm256_mul_ps(two, _mm256_sub_ps(x[3], x[1]));
    y[0] = _mm256_fmadd_ps(four, x[0], _mm256_fnmadd_ps(five, x[2], x[4]));
    y[1] = _mm256_add_ps(a, b);
    y[2] = _mm256_sub_ps(a, b);
    y[3] = _mm256_add_ps(c, d);
    y[4] = _mm256_sub_ps(c, d);
    y[5] = _mm256_fmadd_ps(four, x[1], _mm256_fnmadd_ps(five, x[3], x[5]));
}

/// Aᵀ applied to six values.
__attribute__((target("avx2,fma"), always_inline))
static inline void winograd4_at(const __m256 x[6], __m256 y[4]) {
    const __m256 a = _mm256_add_ps(x[1], x[2]), b = _mm256_sub_ps(x[1], x[2]);
    const __m256 c = _mm256_add_ps(x[3], x[4]), d = _mm256_sub_ps(x[3], x[4]);
    y[0] = _mm256_add_ps(_mm256_add_ps(x[0], a), c);
    y[1] = _mm256_fmadd_ps(_mm256_set1_ps(2.0f), d, b);
    y[2] = _mm256_fmadd_ps(_mm256_set1_ps(4.0f), c, a);
    y[3] = _mm256_add_ps(_mm256_fmadd_ps(_mm256_set1_ps(8.0f), d, b), x[5]);
}

__attribute__((target("avx2,fma")))
static void winograd4_input(const float *padded, int channels, int ph, int pw, int ty, int tiles, float *v, long vstride, long column) {
    // Columns 4…5 of tile t are columns 0…1 of tile t + 1: lanes (1, 3, 5, 7 | 2, 4, 6, 8).
    const __m256i next = _mm256_setr_epi32(4, 5, 6, 7, 1, 2, 3, 0);
    for (int c = 0; c < channels; c++) {
        for (int t0 = 0; t0 < tiles; t0 += 8) {
            __m256 s[6][6];
            for (int r = 0; r < 6; r++) {
                const float *p = padded + ((long)c * ph + 4 * ty + r) * pw + 4 * t0;
                __m256 d[6];
                for (int k = 0; k < 4; k++) d[k] = _mm256_loadu_ps(p + 8 * k);
                lane_transpose4(d);
                d[4] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[0], next), _mm256_broadcast_ss(p + 32), 0x80);
                d[5] = _mm256_blend_ps(_mm256_permutevar8x32_ps(d[1], next), _mm256_broadcast_ss(p + 33), 0x80);
                winograd4_bt(d, s[r]);  // along the row: s[r][k] = Σ_j d[r][j] Bᵀ[k][j]
            }
            for (int k = 0; k < 6; k++) {
                const __m256 column6[6] = {s[0][k], s[1][k], s[2][k], s[3][k], s[4][k], s[5][k]};
                __m256 rows[6];
                winograd4_bt(column6, rows);  // down the column: V[i][k] = Σ_r Bᵀ[i][r] s[r][k]
                for (int i = 0; i < 6; i++) _mm256_storeu_ps(v + (long)(6 * i + k) * vstride + (long)c * column + t0, rows[i]);
            }
        }
    }
}

__attribute__((target("avx2,fma")))
static void winograd4_output(const float *mt, int m, long mstride, long column, int ty, int tiles, const float *bias, float lo, float hi,
                             const float *residual, float *y, int oh, int ow) {
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const long plane = (long)oh * ow;
    for (int o = 0; o < m; o++) {
        const __m256 b = _mm256_set1_ps(bias ? bias[o] : 0.0f);
        for (int t0 = 0; t0 < tiles; t0 += 8) {
            __m256 s[4][6];
            for (int k = 0; k < 6; k++) {
                __m256 q[6], part[4];
                for (int i = 0; i < 6; i++) q[i] = _mm256_loadu_ps(mt + (long)(6 * i + k) * mstride + (long)o * column + t0);
                winograd4_at(q, part);  // down the column: s[y][k] = Σ_i Aᵀ[y][i] M[i][k]
                for (int yy = 0; yy < 4; yy++) s[yy][k] = part[yy];
            }
            for (int yy = 0; yy < 4; yy++) {
                const int row = 4 * ty + yy;
                if (row >= oh) break;
                __m256 out[4];
                winograd4_at(s[yy], out);  // along the row: Y[y][x] = Σ_k s[y][k] Aᵀ[x][k]
                for (int x = 0; x < 4; x++) out[x] = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(out[x], b), vlo), vhi);
                // Columns x of tiles (0, 2, 4, 6 | 1, 3, 5, 7) back to columns 4·t0 … 4·t0 + 31.
                lane_transpose4(out);
                float *to = y + o * plane + (long)row * ow + 4 * t0;
                const float *r = residual ? residual + o * plane + (long)row * ow + 4 * t0 : NULL;
                const int n = ow - 4 * t0 < 32 ? ow - 4 * t0 : 32;
                if (n == 32) {
                    for (int k = 0; k < 4; k++) _mm256_storeu_ps(to + 8 * k, r ? _mm256_add_ps(out[k], _mm256_loadu_ps(r + 8 * k)) : out[k]);
                } else {
                    for (int k = 0; k < 4 && 8 * k < n; k++) winograd_store_part(to + 8 * k, r ? r + 8 * k : NULL, out[k], n - 8 * k);
                }
            }
        }
    }
}
#endif

// MARK: - Entry points (tile 2: F(2×2, 3×3); tile 4: F(4×4, 3×3))

void strata_winograd_weights(int tile, const float *w, int m, int channels, float *u) {
    if (tile == 4) winograd4_weights(w, m, channels, u);
    else winograd_weights(w, m, channels, u);
}

void strata_winograd_input(int tile, const float *padded, int channels, int ph, int pw, int ty, int tiles, float *v, long vstride, long column) {
#if defined(__x86_64__)
    if (tile == 4) winograd4_input(padded, channels, ph, pw, ty, tiles, v, vstride, column);
    else winograd_input(padded, channels, ph, pw, ty, tiles, v, vstride, column);
#else
    (void)tile; (void)padded; (void)channels; (void)ph; (void)pw; (void)ty; (void)tiles; (void)v; (void)vstride; (void)column;
#endif
}

void strata_winograd_output(int tile, const float *mt, int m, long mstride, long column, int ty, int tiles, const float *bias, float lo, float hi,
                            const float *residual, float *y, int oh, int ow) {
#if defined(__x86_64__)
    if (tile == 4) winograd4_output(mt, m, mstride, column, ty, tiles, bias, lo, hi, residual, y, oh, ow);
    else winograd_output(mt, m, mstride, column, ty, tiles, bias, lo, hi, residual, y, oh, ow);
#else
    (void)tile; (void)mt; (void)m; (void)mstride; (void)column; (void)ty; (void)tiles; (void)bias; (void)lo; (void)hi; (void)residual; (void)y;
    (void)oh; (void)ow;
#endif
}
