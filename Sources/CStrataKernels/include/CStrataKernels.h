// What Swift cannot say itself, for Strata's hot loops (inline, so a call costs one
// instruction) and for its memory policy.
#pragma once

#include <stdint.h>

/// Asks the cache for the line holding `address`, to be read soon (no fault if invalid).
static inline void strata_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }

/// Puts every thread of the process that runs real-time (SCHED_FIFO or SCHED_RR) back to
/// normal scheduling; returns how many it changed. Some libraries switch threads to
/// real-time on their own when the process runs as root (SVT-AV1's encoder does, for its
/// caller and its workers), which starves everything else on the machine. Linux; 0 elsewhere.
int strata_drop_realtime_threads(void);

/// Makes glibc keep freed blocks of up to 256 MiB in the heap for reuse instead of
/// returning them to the kernel (which hands them back as fresh pages to fault in and
/// zero), and keeps up to 1 GiB of freed heap before trimming it. Applied once per process,
/// whoever calls first; later calls cost one atomic load. Swift does not import mallopt's
/// parameter macros. A no-op elsewhere.
void strata_keep_freed_memory(void);

/// The instruction sets Strata's run-time-selected kernels are written for, from the most
/// portable: a kernel asked for one the processor lacks runs the best it has instead.
enum {
    STRATA_ISA_GENERIC = 0,  ///< Portable C (any processor).
    STRATA_ISA_AVX2 = 1,     ///< x86-64 with AVX2 and FMA.
    STRATA_ISA_AVX512 = 2    ///< x86-64 with AVX-512 F, BW, DQ and VL.
};

/// The most capable of the STRATA_ISA_ values this processor runs, from its CPUID feature
/// bits (never from a table of models).
int strata_isa_supported(void);

/// Euler steps of the `count` particles at (`xs`[k], `ys`[k]) along velocity fields held
/// per pixel centre as (right, down) pairs (`w` × `h` pairs), step j along `uv`[j], read
/// bilinearly (rows and, unless `wrap`, columns clamped at the border; with `wrap` columns
/// go round, and so does the new x): each step adds `sign` (±1) times the velocity there. `steps` steps in place, or with
/// `keep` every step's positions: after step j at `xs` + j·`stride` (and `ys` alike).
/// Particles go in chunks through all the steps, so their positions stay in cache. Every
/// `isa` gives the same bits.
void strata_fluid_trace(float *xs, float *ys, long count, long stride, int steps, int keep, const float *const *uv, int w,
                        int h, int wrap, float sign, int isa);

/// For each particle, how many of up to `limit` Euler steps (as strata_fluid_trace takes
/// them) it makes before the pixel it rounds to is off the image or not `inside`: `limit`
/// for one that stays, into `steps`[k].
void strata_fluid_exit_steps(const float *xs, const float *ys, long count, int limit, const uint8_t *inside,
                             const float *const *uv, int w, int h, int wrap, float sign, int isa, int32_t *steps);

/// Rows `row0`..<`row1` of one semi-Lagrangian step of a velocity field by itself: at each
/// pixel `inside`, the field (pairs, as strata_fluid_trace reads it) sampled bilinearly at
/// the departure point, the pixel less `sign` times its own velocity (`sign` −1 runs the
/// flow back in time); 0 elsewhere. Into `out`, laid out as `uv`.
void strata_fluid_advect_field(const float *uv, float *out, int w, int h, int wrap, float sign, const uint8_t *inside, int row0,
                               int row1);

/// Adds each particle's colour (`colours`, four floats a particle, the last 1) times
/// `weight` (and `weights`[k], unless NULL) bilinearly into the four pixels around its
/// position (`xs`[k], `ys`[k]) in `sums`, and, unless `xs2` is NULL, times `weight2` (and
/// `weights2`[k]) around (`xs2`[k], `ys2`[k]). `sums` holds the image's rows `row0`..<`row0 +
/// rows` (`w` four-float pixels a row); corners on other rows or off the image's columns
/// (after wrapping them, with `wrap`) are dropped.
void strata_fluid_splat(const float *xs, const float *ys, float weight, const float *weights, const float *xs2, const float *ys2,
                        float weight2, const float *weights2, long count, const float *colours, float *sums, int w, int row0, int rows,
                        int wrap);

/// For each particle k, the colour splatted at its own pixel `region`[k], summed over
/// `sums` and `sums2` (unless NULL) in that order, divided by the weight there (its
/// `colours` entry where the weight is below 1e-6), as three values of `bits` (8 or 16:
/// uint8_t or uint16_t) in `out`[3k…3k+2]; clears those pixels of both. The sums hold pixels
/// from `first` on (four floats each).
void strata_fluid_resolve(float *sums, float *sums2, long first, const int32_t *region, const float *colours, long count, void *out,
                          int bits);

/// 8-bit RGB samples of a loop frame at the fluid's pixels: for particle k at pixel
/// `region`[k], each channel's still + `alpha`[k] · (`moved`/(2^bits − 1) − still) (the
/// still's own value where `moved` equals `stillQ`, the still in `bits`), rounded as
/// Strata's 8-bit conversion rounds, into `out` (interleaved RGB rows of `width` pixels,
/// `stride` bytes apart). `moved` (uint8_t for 8 `bits`, uint16_t for 16), `stillQ` and
/// `still` hold three values a particle; with `grey` only the first, written to all three
/// samples. `region` ascends.
void strata_fluid_compose8(const void *moved, int bits, const uint16_t *stillQ, const float *still, const float *alpha,
                           const int32_t *region, long count, int grey, int width, long stride, uint8_t *out);


/// Depthwise convolution of `channels` planes on a processor with AVX2 and FMA at least:
/// plane c of `y` (`oh` × `ow`) = the `kh` × `kw` filter c of `w` (both at most 16) slid
/// over plane c of `x` (`ih` × `iw`) with strides `sh`, `sw`, dilations `dh`, `dw` and
/// leading pads `pt`, `pl` (taps outside `x` read zero), then given `bias[c]` (or none),
/// clamped to [`lo`, `hi`] and given `residual` (laid out as `y`, or none). Every output is
/// computed in registers: on the AVX-512 path (`isa`, at column strides 1 and 2) sixteen at
/// a time from the plane in place, its edges masked; otherwise eight at a time from a
/// zero-padded copy of the plane that the calling thread keeps for its next call.
void strata_depthwise_planes(const float *x, int channels, int ih, int iw, const float *w, int kh, int kw,
                             int sh, int sw, int dh, int dw, int pt, int pl, float *y, int oh, int ow,
                             const float *bias, float lo, float hi, const float *residual, int isa);

/// Copies the planes of `x` (`channels` × `ih` × `iw`) into `padded` (`channels` × `ph` ×
/// `pw`) with their first row at `pt` and first column at `pl` (≥ 0), zeros around them.
void strata_conv_pad(const float *x, int channels, int ih, int iw, int pt, int pl, float *padded, int ph, int pw);
/// Rows [`row0`, `row0` + `rows`) of those padded planes alone, into `padded` (`channels` ×
/// `rows` × `pw`): a band's window of the input, padded where it is used.
void strata_conv_pad_rows(const float *x, int channels, int ih, int iw, int pt, int pl, int row0, int rows, float *padded, int pw);

/// One band of a parallel loop: `band` of the loop's bands, with the caller's `context`.
typedef void (*strata_band_fn)(void *context, long band);

/// Runs `body(context, b)` for every b in 0..<`bands`, each once, on the calling thread and
/// `threads` − 1 of Strata's workers (created on first use; between loops they spin for
/// 200 µs, then sleep), and returns 1 when all are done. Returns 0 without running any
/// where it cannot: fewer than two threads, or another loop already running (from another
/// thread, or from inside a band of this one); the caller then runs its loop another way.
int strata_pool_run(long bands, int threads, strata_band_fn body, void *context);

/// Softmax in place over `count` rows of `length` floats each: exp(x − max) / Σ exp(x − max),
/// on `isa`'s vectors (lowered to what the processor has). A row whose values span more
/// than the fast exponential's domain (masked logits, −∞) takes libm's expf.
void strata_softmax_rows(int isa, float *rows, long count, long length);

/// GELU, x · Φ(x) = x · (1 + erf(x / √2)) / 2, of `count` floats from `x` into `y` (which may
/// be `x`), on `isa`'s vectors: erf by Abramowitz and Stegun 7.1.26, within 5e-7 of libm's.
void strata_gelu(int isa, const float *x, float *y, long count);

/// C = alpha · op(A) · op(B) + beta · C for row-major matrices with row strides `lda`,
/// `ldb`, `ldc`; op(A) is m × k (A transposed in place when `trans_a`), op(B) k × n. The
/// kernel is `isa`'s (lowered to what the processor has); `threads` > 1 spreads the
/// packing and the blocks of C over Strata's pool (run on the calling thread alone where
/// the pool is busy). Where beta is 0, C is written without being read.
void strata_gemm(int isa, int threads, long m, long n, long k, float alpha, const float *a, long lda, int trans_a,
                 const float *b, long ldb, int trans_b, float beta, float *c, long ldc);

/// strata_gemm, then, where `finish` is not 0, each tile of C finished while it is still in
/// cache: row i plus `bias`[i] (unless NULL), clamped to [`lo`, `hi`], plus the residual
/// (unless NULL; row i at `residual` + i · `ldr`), as a convolution ends.
void strata_gemm_finished(int isa, int threads, long m, long n, long k, float alpha, const float *a, long lda, int trans_a,
                          const float *b, long ldb, int trans_b, float beta, float *c, long ldc, int finish, const float *bias,
                          float lo, float hi, const float *residual, long ldr);

/// Regroups convolution weights `w` (`m` × `channels` × `kh` × `kw`) for
/// `strata_conv_direct_rows`: blocks of four output channels interleaved per tap, then the
/// last `m` mod 4 channels as they are. `packed` holds as many floats as `w`.
void strata_conv_pack_weights(const float *w, int m, int channels, int kh, int kw, float *packed);

/// Output rows `row0`..<`row1` of a stride-1 convolution on a processor with AVX2 and FMA
/// only: `y` (`m` × `oh` × `ow`) from the zero-padded input `padded` (`channels` × `ph` ×
/// `pw`, with `ph` ≥ `oh` + `kh` − 1 and `pw` ≥ `ow` rounded up to 8, + `kw` − 1) and the
/// packed weights; each output gets `bias` (or none), is clamped to [`lo`, `hi`], and gets
/// `residual` (laid out as `y`, or none) added.
void strata_conv_direct_rows(const float *padded, int channels, int ph, int pw, const float *packed, int m, int kh, int kw,
                             const float *bias, float lo, float hi, const float *residual, float *y, int oh, int ow, int row0, int row1);

/// Winograd F(t×t, 3×3) for 3×3 convolutions at stride 1, t = `tile` (2 or 4): the
/// weights for `w` (`m` × `channels` × 3 × 3) as `u[ξ][o][c]` for the (t + 2)² positions ξ
/// of a transformed tile.
void strata_winograd_weights(int tile, const float *w, int m, int channels, float *u);

/// The transformed input tiles of tile row `ty` (tiles 0..<`tiles`, a multiple of 8; tile
/// i reads rows t·ty … t·ty + t + 1, columns t·i … t·i + t + 1 of the zero-padded input
/// `padded`, `channels` × `ph` × `pw`, `pw` ≥ t·`tiles` + 2): position ξ of channel c at
/// `v[ξ · vstride + c · column + i']`. With t = 4 the tiles of each group of eight are
/// stored in the order (0, 2, 4, 6, 1, 3, 5, 7); the output transform expects that order.
/// AVX2 and FMA only.
void strata_winograd_input(int tile, const float *padded, int channels, int ph, int pw, int ty, int tiles, float *v, long vstride,
                           long column);

/// Output rows t·ty … t·ty + t − 1 of `y` (`m` × `oh` × `ow`) from the products `mt`
/// (position ξ of output channel o at `mt[ξ · mstride + o · column + i']`, tiles in the
/// input transform's order), plus `bias` (or none), clamped to [`lo`, `hi`], plus
/// `residual` (laid out as `y`, or none). AVX2 and FMA only.
void strata_winograd_output(int tile, const float *mt, int m, long mstride, long column, int ty, int tiles, const float *bias, float lo,
                            float hi, const float *residual, float *y, int oh, int ow);

/// One neighbour's matching costs for a plane sweep: for each of the `count` planes from
/// `first` (of `planes`; threads take disjoint ranges), the
/// neighbour (`width` × `height`, grey) is warped into the reference through the plane's
/// homography (`homographies`, 9 doubles a plane, row-major, from a reference pixel index
/// (x, y, 1) to the neighbour's), and 1 − ZNCC over (2·`radius` + 1)² windows is added to
/// `cost_sum`[d·w·h + y·w + x] (plane by plane: each plane's sums are contiguous), with 1
/// added to `cost_count` there. Windows reaching
/// outside the neighbour add nothing; windows flatter than `minimum_variance` (in either
/// image) add the neutral 1.
void strata_sweep_cost(const float *reference, const float *neighbour, int width, int height, const double *homographies, int planes,
                       int first, int count, int radius, float minimum_variance, float *cost_sum, uint16_t *cost_count);

/// Semi-global matching over a cost volume (`cost`[(y·w + x)·planes + d]): the sums over
/// four paths (left, right, up, down) of path costs with a penalty `p1` for a step of one
/// plane and `p2` for a larger jump, into `aggregated` (same layout).
void strata_sgm(const float *cost, int width, int height, int planes, float p1, float p2, float *aggregated);
