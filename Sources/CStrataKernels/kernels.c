// Most kernels are inline functions in include/CStrataKernels.h; what needs state is here.
#include "CStrataKernels.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#if defined(__linux__)
#include <dirent.h>
#include <sched.h>
#include <stdlib.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

int strata_drop_realtime_threads(void) {
    int changed = 0;
#if defined(__linux__)
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks) return 0;
    struct dirent *entry;
    while ((entry = readdir(tasks)) != NULL) {
        if (entry->d_name[0] == '.') continue;
        pid_t tid = (pid_t)atoi(entry->d_name);
        int policy = sched_getscheduler(tid);
        if (policy == SCHED_FIFO || policy == SCHED_RR) {
            struct sched_param normal = { .sched_priority = 0 };
            if (sched_setscheduler(tid, SCHED_OTHER, &normal) == 0) changed++;
        }
    }
    closedir(tasks);
#endif
    return changed;
}

void strata_keep_freed_memory(void) {
    static atomic_bool applied = false;
    if (atomic_load_explicit(&applied, memory_order_acquire)) return;
    if (atomic_exchange(&applied, true)) return;
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

#if defined(__x86_64__)
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#endif

// Direct convolution at stride 1 (MiDaS's and DPT's 3×3 layers): no column matrix. Each
// block of outputs — four output channels × sixteen pixels of a row, in eight registers —
// sums over every input channel and tap, reading the zero-padded input planes in place
// and the weights packed four output channels together, so one tap is two loads of
// inputs, four broadcasts of weights and eight multiply-adds. The bias and the activation
// are applied in registers before the block is stored.

/// Rows [row0, row0 + rows) of the planes of `x` (`channels` × `ih` × `iw`) placed in
/// padded planes at row `pt`, column `pl`, into `padded` (`channels` × `rows` × `pw`); only
/// the border around the input is zeroed (a memset of the whole padded input cost as much
/// as the copy).
void strata_conv_pad_rows(const float *x, int channels, int ih, int iw, int pt, int pl, int row0, int rows, float *padded, int pw) {
    for (int c = 0; c < channels; c++) {
        float *plane = padded + (long)c * rows * pw;
        for (int r = 0; r < rows; r++) {
            float *row = plane + (long)r * pw;
            const int sr = row0 + r - pt;
            if (sr < 0 || sr >= ih || pl >= pw) {
                memset(row, 0, (size_t)pw * sizeof(float));
                continue;
            }
            const int n = iw < pw - pl ? iw : pw - pl;
            memset(row, 0, (size_t)pl * sizeof(float));
            memcpy(row + pl, x + ((long)c * ih + sr) * iw, (size_t)n * sizeof(float));
            memset(row + pl + n, 0, (size_t)(pw - pl - n) * sizeof(float));
        }
    }
}

void strata_conv_pad(const float *x, int channels, int ih, int iw, int pt, int pl, float *padded, int ph, int pw) {
    strata_conv_pad_rows(x, channels, ih, iw, pt, pl, 0, ph, padded, pw);
}

/// Weights `w` (`m` × `channels` × `kh` × `kw`) regrouped by blocks of four output
/// channels: [m / 4][channels][kh][kw][4], then the last m mod 4 channels as they are.
void strata_conv_pack_weights(const float *w, int m, int channels, int kh, int kw, float *packed) {
    const long taps = (long)channels * kh * kw;
    const int full = m / 4 * 4;
    for (int o = 0; o < full; o += 4)
        for (long t = 0; t < taps; t++)
            for (int k = 0; k < 4; k++) packed[(long)o * taps + t * 4 + k] = w[(long)(o + k) * taps + t];
    memcpy(packed + (long)full * taps, w + (long)full * taps, (size_t)((m - full) * taps) * sizeof(float));
}

#if defined(__x86_64__)
/// `M` output channels × `V` registers of eight pixels at output row `oy`, column `ox`;
/// `wp` points at the block's packed weights (`M` per tap), `y` at its first output.
__attribute__((target("avx2,fma"), always_inline))
static inline void conv_block(const float *padded, int channels, int ph, int pw, const float *wp, int kh, int kw,
                              int oy, int ox, const int M, const int V, const float *bias, __m256 lo, __m256 hi,
                              const float *residual, float *y, long plane) {
    __m256 acc[8];
    for (int k = 0; k < M * V; k++) acc[k] = _mm256_setzero_ps();
    for (int c = 0; c < channels; c++) {
        const float *origin = padded + ((long)c * ph + oy) * pw + ox;
        for (int i = 0; i < kh; i++) {
            const float *line = origin + (long)i * pw;
            for (int j = 0; j < kw; j++) {
                __m256 in[2];
                for (int v = 0; v < V; v++) in[v] = _mm256_loadu_ps(line + j + 8 * v);
                for (int k = 0; k < M; k++) {
                    const __m256 weight = _mm256_broadcast_ss(wp + k);
                    for (int v = 0; v < V; v++) acc[k * V + v] = _mm256_fmadd_ps(weight, in[v], acc[k * V + v]);
                }
                wp += M;
            }
        }
    }
    for (int k = 0; k < M; k++) {
        const __m256 b = _mm256_set1_ps(bias ? bias[k] : 0.0f);
        for (int v = 0; v < V; v++) {
            __m256 value = _mm256_min_ps(_mm256_max_ps(_mm256_add_ps(acc[k * V + v], b), lo), hi);
            if (residual) value = _mm256_add_ps(value, _mm256_loadu_ps(residual + k * plane + 8 * v));
            _mm256_storeu_ps(y + k * plane + 8 * v, value);
        }
    }
}

__attribute__((target("avx2,fma")))
static void conv_direct_rows(const float *padded, int channels, int ph, int pw, const float *packed, int m, int kh, int kw,
                             const float *bias, float lo, float hi, const float *residual, float *y, int oh, int ow, int row0, int row1) {
    const long taps = (long)channels * kh * kw, plane = (long)oh * ow;
    const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
    const int full = m / 4 * 4;
    // Columns in blocks of sixteen, then eight; a last partial block of eight is computed
    // into `stage` (one row per output channel) and copied.
    float stage[4 * 8] __attribute__((aligned(32)));
    for (int oy = row0; oy < row1; oy++) {
        int ox = 0;
        for (; ox + 16 <= ow; ox += 16) {
            for (int o = 0; o < full; o += 4)
                conv_block(padded, channels, ph, pw, packed + (long)o * taps, kh, kw, oy, ox, 4, 2, bias ? bias + o : NULL, vlo, vhi,
                           residual ? residual + o * plane + (long)oy * ow + ox : NULL, y + o * plane + (long)oy * ow + ox, plane);
            for (int o = full; o < m; o++)
                conv_block(padded, channels, ph, pw, packed + (long)o * taps, kh, kw, oy, ox, 1, 2, bias ? bias + o : NULL, vlo, vhi,
                           residual ? residual + o * plane + (long)oy * ow + ox : NULL, y + o * plane + (long)oy * ow + ox, plane);
        }
        for (; ox < ow; ox += 8) {
            const int n = ow - ox < 8 ? ow - ox : 8;
            for (int o = 0; o < m; o += (o < full ? 4 : 1)) {
                const int M = o < full ? 4 : 1;
                float *target = n == 8 ? y + o * plane + (long)oy * ow + ox : stage;
                const long targetPlane = n == 8 ? plane : 8;
                // A partial block gets its residual below, as it is copied out.
                const float *r = residual && n == 8 ? residual + o * plane + (long)oy * ow + ox : NULL;
                if (M == 4) conv_block(padded, channels, ph, pw, packed + (long)o * taps, kh, kw, oy, ox, 4, 1, bias ? bias + o : NULL, vlo, vhi, r, target, targetPlane);
                else conv_block(padded, channels, ph, pw, packed + (long)o * taps, kh, kw, oy, ox, 1, 1, bias ? bias + o : NULL, vlo, vhi, r, target, targetPlane);
                if (n < 8)
                    for (int k = 0; k < M; k++) {
                        float *to = y + (o + k) * plane + (long)oy * ow + ox;
                        const float *from = residual ? residual + (o + k) * plane + (long)oy * ow + ox : NULL;
                        for (int j = 0; j < n; j++) to[j] = stage[k * 8 + j] + (from ? from[j] : 0.0f);
                    }
            }
        }
    }
}
#endif

void strata_conv_direct_rows(const float *padded, int channels, int ph, int pw, const float *packed, int m, int kh, int kw,
                             const float *bias, float lo, float hi, const float *residual, float *y, int oh, int ow, int row0, int row1) {
#if defined(__x86_64__)
    conv_direct_rows(padded, channels, ph, pw, packed, m, kh, kw, bias, lo, hi, residual, y, oh, ow, row0, row1);
#else
    (void)padded; (void)channels; (void)ph; (void)pw; (void)packed; (void)m; (void)kh; (void)kw; (void)bias; (void)lo;
    (void)hi; (void)residual; (void)y; (void)oh; (void)ow; (void)row0; (void)row1;
#endif
}

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
void strata_winograd_weights(const float *w, int m, int channels, float *u) {
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
    float stage[16] __attribute__((aligned(32)));
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
                    _mm256_store_ps(stage, first);
                    _mm256_store_ps(stage + 8, second);
                    for (int j = 0; j < n; j++) out[j] = stage[j] + (r ? r[j] : 0.0f);
                }
            }
        }
    }
}
#endif

void strata_winograd_input(const float *padded, int channels, int ph, int pw, int ty, int tiles, float *v, long vstride, long column) {
#if defined(__x86_64__)
    winograd_input(padded, channels, ph, pw, ty, tiles, v, vstride, column);
#else
    (void)padded; (void)channels; (void)ph; (void)pw; (void)ty; (void)tiles; (void)v; (void)vstride; (void)column;
#endif
}

void strata_winograd_output(const float *mt, int m, long mstride, long column, int ty, int tiles, const float *bias, float lo, float hi,
                            const float *residual, float *y, int oh, int ow) {
#if defined(__x86_64__)
    winograd_output(mt, m, mstride, column, ty, tiles, bias, lo, hi, residual, y, oh, ow);
#else
    (void)mt; (void)m; (void)mstride; (void)column; (void)ty; (void)tiles; (void)bias; (void)lo; (void)hi; (void)residual; (void)y; (void)oh; (void)ow;
#endif
}
