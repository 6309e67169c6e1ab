// Plane-sweep stereo: the matching cost of a reference image against a neighbour over a
// set of planes (ZNCC over a window, through each plane's homography), and semi-global
// matching over the resulting cost volume. Portable C: the loops are row-wise and the
// compiler vectorises what it can; the sweep's cost is the warp and three box sums a plane.
#include "CStrataKernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/// Sums of `values` over (2r + 1)-wide windows along each row, into `out` (clamped windows
/// at the ends count only what lies inside; the caller's counts say how much).
static void box_rows(const double *values, int width, int height, int r, double *out) {
    for (int y = 0; y < height; y++) {
        const double *row = values + (size_t)y * width;
        double *o = out + (size_t)y * width;
        double sum = 0;
        for (int x = 0; x < r && x < width; x++) sum += row[x];
        for (int x = 0; x < width; x++) {
            if (x + r < width) sum += row[x + r];
            if (x - r - 1 >= 0) sum -= row[x - r - 1];
            o[x] = sum;
        }
    }
}

/// Box sums of `values` over (2r + 1)² windows, into `out` (which may be `values`): rows
/// into `scratch` (w·h doubles), then columns row by row through `running` (w doubles).
static void box(const double *values, int width, int height, int r, double *out, double *scratch, double *running) {
    box_rows(values, width, height, r, scratch);
    for (int x = 0; x < width; x++) running[x] = 0;
    for (int y = 0; y < r && y < height; y++)
        for (int x = 0; x < width; x++) running[x] += scratch[(size_t)y * width + x];
    for (int y = 0; y < height; y++) {
        const double *add = y + r < height ? scratch + (size_t)(y + r) * width : NULL;
        const double *drop = y - r - 1 >= 0 ? scratch + (size_t)(y - r - 1) * width : NULL;
        double *o = out + (size_t)y * width;
        for (int x = 0; x < width; x++) {
            if (add) running[x] += add[x];
            if (drop) running[x] -= drop[x];
            o[x] = running[x];
        }
    }
}

void strata_sweep_cost(const float *reference, const float *neighbour, int width, int height, const double *homographies, int planes,
                       int first, int count, int radius, float minimum_variance, float *cost_sum, uint16_t *cost_count) {
    const size_t n = (size_t)width * height;
    // The reference's window sums, once per call (doubles: the variance subtracts squares).
    double *buffers = (double *)malloc(sizeof(double) * (n * 5 + (size_t)width));
    // Per plane, in floats: the warped neighbour and its validity, then four row sums.
    float *floats = (float *)malloc(sizeof(float) * n * 6);
    double *col = (double *)malloc(sizeof(double) * 4 * (size_t)width);  // four running column sums
    if (!buffers || !floats || !col) {
        free(buffers);
        free(floats);
        free(col);
        return;
    }
    double *r1 = buffers, *r2 = buffers + n, *scratch = buffers + 2 * n, *sr1 = buffers + 3 * n, *sr2 = buffers + 4 * n;
    double *running = buffers + 5 * n;
    for (size_t i = 0; i < n; i++) {
        r1[i] = reference[i];
        r2[i] = (double)reference[i] * reference[i];
    }
    box(r1, width, height, radius, sr1, scratch, running);
    box(r2, width, height, radius, sr2, scratch, running);
    float *warped = floats, *valid = floats + n;
    float *row_valid = floats + 2 * n, *row_w = floats + 3 * n, *row_ww = floats + 4 * n, *row_rw = floats + 5 * n;
    const float area = (float)((2 * radius + 1) * (2 * radius + 1));
    for (int d = first; d < first + count && d < planes; d++) {
        const double *h = homographies + 9 * d;
        // The neighbour warped into the reference through the plane (bilinear; outside is
        // invalid), the homography's three rows stepped along each row of pixels.
        for (int y = 0; y < height; y++) {
            double nu = h[1] * y + h[2], nv = h[4] * y + h[5], nz = h[7] * y + h[8];
            for (int x = 0; x < width; x++, nu += h[0], nv += h[3], nz += h[6]) {
                const size_t i = (size_t)y * width + x;
                const double u = nu / nz, v = nv / nz;
                if (!(nz > 0) || !(u >= 0) || !(v >= 0) || u > width - 1 || v > height - 1) {
                    warped[i] = valid[i] = 0;
                    continue;
                }
                const int x0 = (int)u, y0 = (int)v;
                const int x1 = x0 + 1 < width ? x0 + 1 : x0, y1 = y0 + 1 < height ? y0 + 1 : y0;
                const float fx = (float)(u - x0), fy = (float)(v - y0);
                const float *a = neighbour + (size_t)y0 * width, *b = neighbour + (size_t)y1 * width;
                warped[i] = (a[x0] * (1 - fx) + a[x1] * fx) * (1 - fy) + (b[x0] * (1 - fx) + b[x1] * fx) * fy;
                valid[i] = 1;
            }
        }
        // Window sums along each row: validity, w, w², r·w (sliding, in one pass).
        for (int y = 0; y < height; y++) {
            const size_t o = (size_t)y * width;
            // Running in doubles, so the sliding sums do not drift along the row.
            double sv = 0, sw = 0, sww = 0, srw = 0;
            for (int x = 0; x < radius && x < width; x++) {
                sv += valid[o + x];
                sw += warped[o + x];
                sww += (double)warped[o + x] * warped[o + x];
                srw += (double)reference[o + x] * warped[o + x];
            }
            for (int x = 0; x < width; x++) {
                if (x + radius < width) {
                    const size_t k = o + x + radius;
                    sv += valid[k];
                    sw += warped[k];
                    sww += (double)warped[k] * warped[k];
                    srw += (double)reference[k] * warped[k];
                }
                if (x - radius - 1 >= 0) {
                    const size_t k = o + x - radius - 1;
                    sv -= valid[k];
                    sw -= warped[k];
                    sww -= (double)warped[k] * warped[k];
                    srw -= (double)reference[k] * warped[k];
                }
                row_valid[o + x] = (float)sv;
                row_w[o + x] = (float)sw;
                row_ww[o + x] = (float)sww;
                row_rw[o + x] = (float)srw;
            }
        }
        // Down the columns, row by row, and the cost where the window is whole (into this
        // plane's own slice of the sums: contiguous, as the rows are).
        float *plane_sum = cost_sum + (size_t)d * n;
        uint16_t *plane_count = cost_count + (size_t)d * n;
        double *cv = col, *cw = col + width, *cww = col + 2 * width, *crw = col + 3 * width;
        for (int x = 0; x < 4 * width; x++) col[x] = 0;
        for (int y = 0; y < radius && y < height; y++) {
            const size_t o = (size_t)y * width;
            for (int x = 0; x < width; x++) {
                cv[x] += row_valid[o + x];
                cw[x] += row_w[o + x];
                cww[x] += row_ww[o + x];
                crw[x] += row_rw[o + x];
            }
        }
        for (int y = 0; y < height; y++) {
            const size_t add = (size_t)(y + radius) * width, drop = (size_t)(y - radius - 1) * width, o = (size_t)y * width;
            const int adding = y + radius < height, dropping = y - radius - 1 >= 0;
            for (int x = 0; x < width; x++) {
                if (adding) {
                    cv[x] += row_valid[add + x];
                    cw[x] += row_w[add + x];
                    cww[x] += row_ww[add + x];
                    crw[x] += row_rw[add + x];
                }
                if (dropping) {
                    cv[x] -= row_valid[drop + x];
                    cw[x] -= row_w[drop + x];
                    cww[x] -= row_ww[drop + x];
                    crw[x] -= row_rw[drop + x];
                }
                // Only windows wholly inside the neighbour count.
                if (cv[x] < area - 0.5) continue;
                const size_t i = o + x;
                const double mr = sr1[i] / area, mw = cw[x] / area;
                const double vr = sr2[i] / area - mr * mr, vw = cww[x] / area - mw * mw;
                const double covariance = crw[x] / area - mr * mw;
                // Flat windows say nothing: a neutral cost, so that smoothness decides there.
                const double zncc = (vr < minimum_variance || vw < minimum_variance) ? 0 : covariance / sqrt(vr * vw);
                plane_sum[i] += (float)(1 - zncc);
                plane_count[i] += 1;
            }
        }
    }
    free(buffers);
    free(floats);
    free(col);
}

void strata_sgm(const float *cost, int width, int height, int planes, float p1, float p2, float *aggregated) {
    const size_t n = (size_t)width * height;
    memset(aggregated, 0, sizeof(float) * n * planes);
    float *previous = (float *)malloc(sizeof(float) * planes), *current = (float *)malloc(sizeof(float) * planes);
    if (!previous || !current) {
        free(previous);
        free(current);
        return;
    }
    // Four paths: left to right, right to left, top to bottom, bottom to top.
    const int paths[4][2] = {{1, 0}, {-1, 0}, {0, 1}, {0, -1}};
    for (int p = 0; p < 4; p++) {
        const int dx = paths[p][0], dy = paths[p][1];
        const int lines = dx != 0 ? height : width, length = dx != 0 ? width : height;
        for (int line = 0; line < lines; line++) {
            float previous_min = 0;
            for (int step = 0; step < length; step++) {
                int x, y;
                if (dx != 0) {
                    y = line;
                    x = dx > 0 ? step : width - 1 - step;
                } else {
                    x = line;
                    y = dy > 0 ? step : height - 1 - step;
                }
                const float *c = cost + ((size_t)y * width + x) * planes;
                float minimum = INFINITY;
                for (int d = 0; d < planes; d++) {
                    float l = c[d];
                    if (step > 0) {
                        float best = previous[d];
                        if (d > 0 && previous[d - 1] + p1 < best) best = previous[d - 1] + p1;
                        if (d + 1 < planes && previous[d + 1] + p1 < best) best = previous[d + 1] + p1;
                        if (previous_min + p2 < best) best = previous_min + p2;
                        l += best - previous_min;
                    }
                    current[d] = l;
                    if (l < minimum) minimum = l;
                }
                float *a = aggregated + ((size_t)y * width + x) * planes;
                for (int d = 0; d < planes; d++) a[d] += current[d];
                float *swap = previous;
                previous = current;
                current = swap;
                previous_min = minimum;
            }
        }
    }
    free(previous);
    free(current);
}
