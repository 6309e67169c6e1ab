// The C API of CStrataVision.h on OpenCV. Exceptions never cross it: each entry point
// catches them and answers −1.
#include "CStrataVision.h"

#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

/// `count` points given as x, y pairs.
static std::vector<cv::Point2d> pairs(const float *xy, int count) {
    std::vector<cv::Point2d> points(count);
    for (int i = 0; i < count; i++) points[i] = cv::Point2d(xy[2 * i], xy[2 * i + 1]);
    return points;
}

int strata_vision_track(const uint8_t *gray0, const uint8_t *gray1, int width, int height, int max_points, double quality,
                        double min_distance, float *points0, float *points1) {
    try {
        if (width <= 0 || height <= 0 || max_points <= 0) return 0;
        const cv::Mat a(height, width, CV_8UC1, const_cast<uint8_t *>(gray0));
        const cv::Mat b(height, width, CV_8UC1, const_cast<uint8_t *>(gray1));
        std::vector<cv::Point2f> corners;
        cv::goodFeaturesToTrack(a, corners, max_points, quality, min_distance);
        if (corners.empty()) return 0;
        // Sub-pixel corners: the pose's accuracy starts here.
        cv::cornerSubPix(a, corners, cv::Size(5, 5), cv::Size(-1, -1),
                         cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 30, 0.01));
        std::vector<cv::Point2f> forward, back;
        std::vector<uchar> ok, okBack;
        std::vector<float> error;
        const cv::Size window(21, 21);
        cv::calcOpticalFlowPyrLK(a, b, corners, forward, ok, error, window, 3);
        cv::calcOpticalFlowPyrLK(b, a, forward, back, okBack, error, window, 3);
        int count = 0;
        for (size_t i = 0; i < corners.size(); i++) {
            if (!ok[i] || !okBack[i]) continue;
            const float dx = back[i].x - corners[i].x, dy = back[i].y - corners[i].y;
            if (dx * dx + dy * dy > 0.25f) continue;
            if (forward[i].x < 0 || forward[i].y < 0 || forward[i].x > width - 1 || forward[i].y > height - 1) continue;
            points0[2 * count] = corners[i].x;
            points0[2 * count + 1] = corners[i].y;
            points1[2 * count] = forward[i].x;
            points1[2 * count + 1] = forward[i].y;
            count++;
        }
        return count;
    } catch (...) {
        return -1;
    }
}

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
