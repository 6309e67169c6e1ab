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

