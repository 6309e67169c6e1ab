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
    double *buffers = (double *)malloc(sizeof(double) * (n * 9 + (size_t)width));
    if (!buffers) return;
    double *running = buffers + 9 * n;
    double *r1 = buffers, *r2 = buffers + n, *w1 = buffers + 2 * n, *w2 = buffers + 3 * n, *rw = buffers + 4 * n;
    double *valid = buffers + 5 * n, *scratch = buffers + 6 * n, *sr1 = buffers + 7 * n, *sr2 = buffers + 8 * n;
    // The reference's window sums, once.
    for (size_t i = 0; i < n; i++) {
        r1[i] = reference[i];
        r2[i] = (double)reference[i] * reference[i];
    }
    box(r1, width, height, radius, sr1, scratch, running);
    box(r2, width, height, radius, sr2, scratch, running);
    const double area = (double)(2 * radius + 1) * (2 * radius + 1);
    for (int d = first; d < first + count && d < planes; d++) {
        const double *h = homographies + 9 * d;
        // The neighbour warped into the reference through the plane (bilinear; outside is invalid).
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                const size_t i = (size_t)y * width + x;
                const double z = h[6] * x + h[7] * y + h[8];
                const double u = (h[0] * x + h[1] * y + h[2]) / z, v = (h[3] * x + h[4] * y + h[5]) / z;
                if (!(z > 0) || !(u >= 0) || !(v >= 0) || u > width - 1 || v > height - 1) {
                    w1[i] = w2[i] = rw[i] = valid[i] = 0;
                    continue;
                }
                const int x0 = (int)u, y0 = (int)v;
                const int x1 = x0 + 1 < width ? x0 + 1 : x0, y1 = y0 + 1 < height ? y0 + 1 : y0;
                const double fx = u - x0, fy = v - y0;
                const float *a = neighbour + (size_t)y0 * width, *b = neighbour + (size_t)y1 * width;
                const double s = (a[x0] * (1 - fx) + a[x1] * fx) * (1 - fy) + (b[x0] * (1 - fx) + b[x1] * fx) * fy;
                w1[i] = s;
                w2[i] = s * s;
                rw[i] = s * reference[i];
                valid[i] = 1;
            }
        }
        box(valid, width, height, radius, valid, scratch, running);
        box(w1, width, height, radius, w1, scratch, running);
        box(w2, width, height, radius, w2, scratch, running);
        box(rw, width, height, radius, rw, scratch, running);
        for (size_t i = 0; i < n; i++) {
            // Only windows wholly inside the neighbour count.
            if (valid[i] < area - 0.5) continue;
            const double mr = sr1[i] / area, mw = w1[i] / area;
            const double vr = sr2[i] / area - mr * mr, vw = w2[i] / area - mw * mw;
            const double covariance = rw[i] / area - mr * mw;
            // Flat windows say nothing: a neutral cost, so that smoothness decides there.
            const double zncc = (vr < minimum_variance || vw < minimum_variance) ? 0 : covariance / sqrt(vr * vw);
            cost_sum[i * planes + d] += (float)(1 - zncc);
            cost_count[i * planes + d] += 1;
        }
    }
    free(buffers);
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
