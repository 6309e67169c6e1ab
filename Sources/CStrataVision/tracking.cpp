// Tracking corners from frame to frame: Shi–Tomasi corners and pyramidal Lucas–Kanade
// (OpenCV's imgproc and video). Exceptions never cross the C API: each entry point catches
// them and answers −1.
#include "CStrataVision.h"

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>

#include <vector>

/// Sub-pixel corners: the poses' accuracy starts here.
static void refine(const cv::Mat &image, std::vector<cv::Point2f> &corners) {
    if (corners.empty()) return;
    cv::cornerSubPix(image, corners, cv::Size(5, 5), cv::Size(-1, -1),
                     cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 30, 0.01));
}

/// Lucas–Kanade from `a` to `b` and back; `kept[i]` says whether corner i came back within
/// half a pixel and landed inside the image.
static void flow(const cv::Mat &a, const cv::Mat &b, const std::vector<cv::Point2f> &corners, std::vector<cv::Point2f> &forward,
                 std::vector<uchar> &kept) {
    std::vector<cv::Point2f> back;
    std::vector<uchar> okBack;
    std::vector<float> error;
    const cv::Size window(21, 21);
    cv::calcOpticalFlowPyrLK(a, b, corners, forward, kept, error, window, 3);
    cv::calcOpticalFlowPyrLK(b, a, forward, back, okBack, error, window, 3);
    for (size_t i = 0; i < corners.size(); i++) {
        const float dx = back[i].x - corners[i].x, dy = back[i].y - corners[i].y;
        const bool inside = forward[i].x >= 0 && forward[i].y >= 0 && forward[i].x <= b.cols - 1 && forward[i].y <= b.rows - 1;
        kept[i] = kept[i] && okBack[i] && dx * dx + dy * dy <= 0.25f && inside;
    }
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
        refine(a, corners);
        std::vector<cv::Point2f> forward;
        std::vector<uchar> kept;
        flow(a, b, corners, forward, kept);
        int count = 0;
        for (size_t i = 0; i < corners.size(); i++) {
            if (!kept[i]) continue;
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

int strata_vision_corners(const uint8_t *gray, int width, int height, int max_points, double quality, double min_distance,
                          const float *existing, int existing_count, float *points) {
    try {
        if (width <= 0 || height <= 0 || max_points <= 0) return 0;
        const cv::Mat image(height, width, CV_8UC1, const_cast<uint8_t *>(gray));
        // Not within min_distance of a corner already tracked.
        cv::Mat mask(height, width, CV_8UC1, cv::Scalar(255));
        for (int i = 0; i < existing_count; i++)
            cv::circle(mask, cv::Point(cvRound(existing[2 * i]), cvRound(existing[2 * i + 1])), cvRound(min_distance), cv::Scalar(0), -1);
        std::vector<cv::Point2f> corners;
        cv::goodFeaturesToTrack(image, corners, max_points, quality, min_distance, mask);
        refine(image, corners);
        for (size_t i = 0; i < corners.size(); i++) {
            points[2 * i] = corners[i].x;
            points[2 * i + 1] = corners[i].y;
        }
        return static_cast<int>(corners.size());
    } catch (...) {
        return -1;
    }
}

int strata_vision_flow(const uint8_t *gray0, const uint8_t *gray1, int width, int height, const float *points0, int count,
                       float *points1, uint8_t *kept) {
    try {
        if (count <= 0) return 0;
        const cv::Mat a(height, width, CV_8UC1, const_cast<uint8_t *>(gray0));
        const cv::Mat b(height, width, CV_8UC1, const_cast<uint8_t *>(gray1));
        std::vector<cv::Point2f> corners(count), forward;
        for (int i = 0; i < count; i++) corners[i] = cv::Point2f(points0[2 * i], points0[2 * i + 1]);
        std::vector<uchar> ok;
        flow(a, b, corners, forward, ok);
        int survived = 0;
        for (int i = 0; i < count; i++) {
            points1[2 * i] = forward[i].x;
            points1[2 * i + 1] = forward[i].y;
            kept[i] = ok[i] ? 1 : 0;
            survived += kept[i];
        }
        return survived;
    } catch (...) {
        return -1;
    }
}
