// Strata's narrow C API over OpenCV's tracking and two-view geometry (Debian's
// libopencv-{core,imgproc,video,calib3d,features2d}-dev 4.6): what camera motion needs
// from a well-kept library, and nothing of OpenCV's types crosses it.
#ifndef CSTRATAVISION_H
#define CSTRATAVISION_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Corners of `gray0` (Shi–Tomasi, at most `max_points`, at least `min_distance` pixels
/// apart, `quality` of the strongest's response) tracked into `gray1` by pyramidal
/// Lucas–Kanade, kept where tracking back from `gray1` lands within half a pixel of where
/// it started. Both images are 8-bit, `width` × `height`, rows `width` bytes apart. Writes
/// the pairs as x, y (pixel centres at integers, OpenCV's convention) into `points0` and
/// `points1` (2 · max_points floats each) and returns how many; −1 if OpenCV failed.
int strata_vision_track(const uint8_t *gray0, const uint8_t *gray1, int width, int height, int max_points, double quality,
                        double min_distance, float *points0, float *points1);

/// The relative pose of two pinhole views from `count` matched points (x, y pairs in each
/// view, pixel centres at integers): the essential matrix by the five-point algorithm in
/// RANSAC (`threshold` pixels, 99.9% confidence), then the rotation R (row-major 3 × 3) and
/// unit translation t with X₁ = R·X₀ + t for a point's camera coordinates (x right, y down,
/// z forward), chosen by which puts the inliers in front of both cameras. `inliers` (count
/// bytes, or NULL) gets 1 for each inlier. Returns the inlier count, 0 when no pose is
/// found, −1 if OpenCV failed.
int strata_vision_relative_pose(const float *points0, const float *points1, int count, double fx, double fy, double cx, double cy,
                                double threshold, double *rotation, double *translation, uint8_t *inliers);

/// The rotation-only model of two pinhole views (a camera that turned without moving, or
/// whose step is too small against the scene's depth): the homography H = K·R·K⁻¹ fitted in
/// RANSAC (`threshold` pixels), R the rotation nearest K⁻¹·H·K (row-major 3 × 3, X₁ = R·X₀),
/// and `median_error` the median distance, in pixels, of all the second view's points from
/// where H sends the first's: near the tracking noise when nothing but a turn is seen.
/// Returns the homography's inlier count, 0 when none is found, −1 if OpenCV failed.
int strata_vision_rotation_only(const float *points0, const float *points1, int count, double fx, double fy, double cx, double cy,
                                double threshold, double *rotation, double *median_error);

#ifdef __cplusplus
}
#endif

#endif
