// Helpers shared by CStrataVision's sources (not part of its C API).
#pragma once

#include <opencv2/core.hpp>

#include <vector>

/// `count` points given as x, y pairs.
inline std::vector<cv::Point2d> pairs(const float *xy, int count) {
    std::vector<cv::Point2d> points(count);
    for (int i = 0; i < count; i++) points[i] = cv::Point2d(xy[2 * i], xy[2 * i + 1]);
    return points;
}
