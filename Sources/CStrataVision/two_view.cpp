// Two views: the relative pose, the pure-turn model and triangulation (OpenCV's calib3d).
// Exceptions never cross the C API: each entry point catches them and answers −1.
#include "CStrataVision.h"
#include "points.hpp"

#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

int strata_vision_relative_pose(const float *points0, const float *points1, int count, double fx, double fy, double cx, double cy,
                                double threshold, double *rotation, double *translation, uint8_t *inliers) {
    try {
        if (count < 5) return 0;
        const std::vector<cv::Point2d> p0 = pairs(points0, count), p1 = pairs(points1, count);
        const cv::Mat k = (cv::Mat_<double>(3, 3) << fx, 0, cx, 0, fy, cy, 0, 0, 1);
        cv::Mat mask;
        const cv::Mat e = cv::findEssentialMat(p0, p1, k, cv::RANSAC, 0.999, threshold, mask);
        // Several solutions come stacked (3k × 3) when the five-point solver finds them
        // equally good; the first is OpenCV's pick, as recoverPose takes it.
        if (e.rows < 3 || e.cols != 3) return 0;
        cv::Mat r, t;
        const int good = cv::recoverPose(e.rowRange(0, 3), p0, p1, k, r, t, mask);
        if (good <= 0) return 0;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) rotation[3 * i + j] = r.at<double>(i, j);
            translation[i] = t.at<double>(i, 0);
        }
        if (inliers)
            for (int i = 0; i < count; i++) inliers[i] = mask.at<uchar>(i) ? 1 : 0;
        return good;
    } catch (...) {
        return -1;
    }
}

int strata_vision_rotation_only(const float *points0, const float *points1, int count, double fx, double fy, double cx, double cy,
                                double threshold, double *rotation, double *median_error) {
    try {
        if (count < 4) return 0;
        const std::vector<cv::Point2d> p0 = pairs(points0, count), p1 = pairs(points1, count);
        cv::Mat mask;
        const cv::Mat h = cv::findHomography(p0, p1, cv::RANSAC, threshold, mask);
        if (h.empty()) return 0;
        std::vector<double> errors(count);
        for (int i = 0; i < count; i++) {
            const cv::Mat x = (cv::Mat_<double>(3, 1) << p0[i].x, p0[i].y, 1.0);
            const cv::Mat y = h * x;
            const double w = y.at<double>(2);
            const double dx = y.at<double>(0) / w - p1[i].x, dy = y.at<double>(1) / w - p1[i].y;
            errors[i] = std::sqrt(dx * dx + dy * dy);
        }
        std::nth_element(errors.begin(), errors.begin() + count / 2, errors.end());
        *median_error = errors[count / 2];
        // K⁻¹·H·K is a rotation up to scale for a pure turn: its nearest rotation by SVD.
        const cv::Mat k = (cv::Mat_<double>(3, 3) << fx, 0, cx, 0, fy, cy, 0, 0, 1);
        const cv::Mat m = k.inv() * h * k;
        cv::SVD svd(m);
        cv::Mat r = svd.u * svd.vt;
        if (cv::determinant(r) < 0) r = -r;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) rotation[3 * i + j] = r.at<double>(i, j);
        return cv::countNonZero(mask);
    } catch (...) {
        return -1;
    }
}

/// [R | t] from a pose's 12 doubles (R row-major, then t).
static cv::Mat projection(const double *pose) {
    cv::Mat m(3, 4, CV_64F);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++) m.at<double>(i, j) = pose[3 * i + j];
        m.at<double>(i, 3) = pose[9 + i];
    }
    return m;
}

int strata_vision_triangulate(const double *pose0, const double *pose1, const float *points0, const float *points1, int count,
                              double fx, double fy, double cx, double cy, double *xyz) {
    try {
        if (count <= 0) return 0;
        const cv::Mat k = (cv::Mat_<double>(3, 3) << fx, 0, cx, 0, fy, cy, 0, 0, 1);
        const cv::Mat p0 = k * projection(pose0), p1 = k * projection(pose1);
        cv::Mat a(2, count, CV_64F), b(2, count, CV_64F), x;
        for (int i = 0; i < count; i++) {
            a.at<double>(0, i) = points0[2 * i];
            a.at<double>(1, i) = points0[2 * i + 1];
            b.at<double>(0, i) = points1[2 * i];
            b.at<double>(1, i) = points1[2 * i + 1];
        }
        cv::triangulatePoints(p0, p1, a, b, x);
        for (int i = 0; i < count; i++) {
            const double w = x.at<double>(3, i);
            for (int c = 0; c < 3; c++) xyz[3 * i + c] = w != 0 ? x.at<double>(c, i) / w : NAN;
        }
        return count;
    } catch (...) {
        return -1;
    }
}

int strata_vision_absolute_pose(const double *xyz, const float *points, int count, double fx, double fy, double cx, double cy,
                                double threshold, int use_guess, double *rotation, double *translation, uint8_t *inliers) {
    try {
        if (count < 6) return 0;
        std::vector<cv::Point3d> world(count);
        for (int i = 0; i < count; i++) world[i] = cv::Point3d(xyz[3 * i], xyz[3 * i + 1], xyz[3 * i + 2]);
        const std::vector<cv::Point2d> image = pairs(points, count);
        const cv::Mat k = (cv::Mat_<double>(3, 3) << fx, 0, cx, 0, fy, cy, 0, 0, 1);
        cv::Mat r(3, 3, CV_64F, rotation), rvec, tvec(3, 1, CV_64F, translation);
        cv::Rodrigues(r, rvec);
        std::vector<int> chosen;
        // EPnP inside RANSAC (or refinement from the guess), then Levenberg–Marquardt on the inliers.
        if (!cv::solvePnPRansac(world, image, k, cv::noArray(), rvec, tvec, use_guess != 0, 200, threshold, 0.999, chosen,
                                use_guess ? cv::SOLVEPNP_ITERATIVE : cv::SOLVEPNP_EPNP) ||
            chosen.size() < 6)
            return 0;
        std::vector<cv::Point3d> w;
        std::vector<cv::Point2d> p;
        for (int i : chosen) {
            w.push_back(world[i]);
            p.push_back(image[i]);
        }
        cv::solvePnPRefineLM(w, p, k, cv::noArray(), rvec, tvec);
        cv::Mat refined;
        cv::Rodrigues(rvec, refined);
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) rotation[3 * i + j] = refined.at<double>(i, j);
            translation[i] = tvec.at<double>(i, 0);
        }
        if (inliers) {
            std::fill(inliers, inliers + count, 0);
            for (int i : chosen) inliers[i] = 1;
        }
        return static_cast<int>(chosen.size());
    } catch (...) {
        return -1;
    }
}

int strata_vision_similarity(const double *from, const double *to, int count, double *scale, double *rotation, double *translation) {
    try {
        if (count < 3) return 0;
        const cv::Mat a(count, 3, CV_64F, const_cast<double *>(from)), b(count, 3, CV_64F, const_cast<double *>(to));
        double s = 0;
        const cv::Mat m = cv::estimateAffine3D(a, b, &s, true);
        if (m.empty() || !(s > 0)) return 0;
        *scale = s;
        // The 3 × 4 answer is [R | t] in some OpenCV versions and [s·R | t] in others: the
        // cube root of the block's determinant tells which.
        const double d = std::cbrt(cv::determinant(m.colRange(0, 3)));
        if (!(d > 0)) return 0;
        for (int i = 0; i < 3; i++) {
            for (int j = 0; j < 3; j++) rotation[3 * i + j] = m.at<double>(i, j) / d;
            translation[i] = m.at<double>(i, 3);
        }
        return 1;
    } catch (...) {
        return -1;
    }
}
