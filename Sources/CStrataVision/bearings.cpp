// Two views of a spherical (360°) camera: the relative pose from bearing vectors.
//
// OpenCV's five-point solver takes pixels of a pinhole camera, which cannot hold a ray
// behind the camera, and a 360° camera's best parallax lies to its sides and behind it. The
// epipolar constraint b₁ᵀ·E·b₀ = 0 holds for unit rays in any direction, so the essential
// matrix comes from the linear eight-point algorithm on the rays themselves (unit vectors
// are already well conditioned: no normalisation is needed) in RANSAC, as OpenVSLAM and
// OpenMVG do for spherical cameras. OpenCV decomposes it. Exceptions never cross the C API.
#include "CStrataVision.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

struct Ray {
    double x, y, z;
};

/// The essential matrix that best fits the pairs `which` in the least-squares sense, made
/// rank two with two equal singular values; empty if they are degenerate.
cv::Matx33d eight_point(const std::vector<Ray> &r0, const std::vector<Ray> &r1, const std::vector<int> &which, bool *ok) {
    cv::Mat a((int)which.size(), 9, CV_64F);
    for (int row = 0; row < (int)which.size(); row++) {
        const Ray &p = r0[which[row]], &q = r1[which[row]];
        double *m = a.ptr<double>(row);
        const double u[3] = {q.x, q.y, q.z}, v[3] = {p.x, p.y, p.z};
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) m[3 * i + j] = u[i] * v[j];
    }
    cv::Mat w, u, vt;
    cv::SVD::compute(a, w, u, vt, cv::SVD::FULL_UV);
    cv::Matx33d e;
    for (int i = 0; i < 9; i++) e.val[i] = vt.at<double>(8, i);
    cv::Matx33d eu, evt;
    cv::Matx31d ew;
    cv::SVD::compute(e, ew, eu, evt);
    const double s = (ew(0) + ew(1)) / 2;
    *ok = s > 1e-12;
    return eu * cv::Matx33d(s, 0, 0, 0, s, 0, 0, 0, 0) * evt;
}

/// The sine of the larger angle between a ray and the epipolar plane the other ray and E give.
double epipolar_error(const cv::Matx33d &e, const Ray &p, const Ray &q) {
    const cv::Vec3d b0(p.x, p.y, p.z), b1(q.x, q.y, q.z);
    const cv::Vec3d n1 = e * b0, n0 = e.t() * b1;
    const double d = std::abs(b1.dot(n1));
    const double l1 = cv::norm(n1), l0 = cv::norm(n0);
    if (l1 < 1e-15 || l0 < 1e-15) return 1;
    return std::max(d / l1, d / l0);
}

/// The depths along both rays at which the camera pair (R, t) sees them meet, least squares:
/// λ₁·b₁ = λ₀·R·b₀ + t.
void ray_depths(const cv::Matx33d &r, const cv::Vec3d &t, const Ray &p, const Ray &q, double *l0, double *l1) {
    const cv::Vec3d a = r * cv::Vec3d(p.x, p.y, p.z), b(q.x, q.y, q.z);
    // Minimise |λ₀·a − λ₁·b + t|²: the normal equations of two unknowns.
    const double aa = a.dot(a), bb = b.dot(b), ab = a.dot(b), at = a.dot(t), bt = b.dot(t);
    const double det = aa * bb - ab * ab;
    if (std::abs(det) < 1e-12) {
        *l0 = *l1 = -1;
        return;
    }
    *l0 = (ab * bt - bb * at) / det;
    *l1 = (aa * bt - ab * at) / det;
}

} // namespace

int strata_vision_relative_pose_bearings(const double *bearings0, const double *bearings1, int count, double threshold,
                                         int iterations, double *rotation, double *translation, uint8_t *inliers) {
    try {
        if (count < 8) return 0;
        std::vector<Ray> r0(count), r1(count);
        for (int i = 0; i < count; i++) {
            r0[i] = {bearings0[3 * i], bearings0[3 * i + 1], bearings0[3 * i + 2]};
            r1[i] = {bearings1[3 * i], bearings1[3 * i + 1], bearings1[3 * i + 2]};
        }
        // A fixed seed: every shard of a run draws the same samples and finds the same pose.
        cv::RNG rng(0x5354524154414ULL);
        std::vector<int> sample(8), best;
        for (int it = 0; it < iterations; it++) {
            for (int s = 0; s < 8; s++) {
                int pick;
                do { pick = (int)rng.uniform(0, count); } while (std::find(sample.begin(), sample.begin() + s, pick) != sample.begin() + s);
                sample[s] = pick;
            }
            bool ok;
            const cv::Matx33d e = eight_point(r0, r1, sample, &ok);
            if (!ok) continue;
            std::vector<int> agreed;
            for (int i = 0; i < count; i++)
                if (epipolar_error(e, r0[i], r1[i]) <= threshold) agreed.push_back(i);
            if (agreed.size() > best.size()) best.swap(agreed);
        }
        if (best.size() < 8) return 0;
        // Refit on every inlier, then take the inliers of the refit.
        bool ok;
        const cv::Matx33d e = eight_point(r0, r1, best, &ok);
        if (!ok) return 0;
        std::vector<int> agreed;
        for (int i = 0; i < count; i++)
            if (epipolar_error(e, r0[i], r1[i]) <= threshold) agreed.push_back(i);
        if (agreed.size() < 8) return 0;
        // Of the four poses E allows, the one that puts most inliers ahead along both rays.
        cv::Mat ra, rb, t;
        cv::decomposeEssentialMat(cv::Mat(e), ra, rb, t);
        const cv::Matx33d rs[2] = {cv::Matx33d(ra), cv::Matx33d(rb)};
        const cv::Vec3d ts[2] = {cv::Vec3d(t), -cv::Vec3d(t)};
        int chosen = -1, most = 0;
        for (int c = 0; c < 4; c++) {
            int ahead = 0;
            for (int i : agreed) {
                double l0, l1;
                ray_depths(rs[c / 2], ts[c % 2], r0[i], r1[i], &l0, &l1);
                if (l0 > 0 && l1 > 0) ahead++;
            }
            if (ahead > most) {
                most = ahead;
                chosen = c;
            }
        }
        if (chosen < 0) return 0;
        const cv::Matx33d &r = rs[chosen / 2];
        const cv::Vec3d &tt = ts[chosen % 2];
        for (int i = 0; i < 9; i++) rotation[i] = r.val[i];
        for (int i = 0; i < 3; i++) translation[i] = tt[i];
        if (inliers) {
            std::fill(inliers, inliers + count, 0);
            for (int i : agreed) {
                double l0, l1;
                ray_depths(r, tt, r0[i], r1[i], &l0, &l1);
                inliers[i] = l0 > 0 && l1 > 0 ? 1 : 0;
            }
        }
        return most;
    } catch (...) {
        return -1;
    }
}
