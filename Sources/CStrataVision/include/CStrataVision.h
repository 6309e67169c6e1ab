// Strata's narrow C API over OpenCV's tracking and multi-view geometry (Debian's
// libopencv-{core,imgproc,video,calib3d,features2d}-dev 4.6) and Ceres's bundle adjustment
// (libceres-dev 2.1): what camera motion needs from well-kept libraries, and nothing of
// their types crosses it.
//
// Poses are world-to-camera, 12 doubles: R row-major then t, with X_cam = R·X + t in
// OpenCV's camera coordinates (x right, y down, z forward). Pixel coordinates come out of
// the tracking functions with pixel centres at integers (OpenCV's convention); the geometry
// takes points and principal point in any one convention (Strata passes its own, centres
// at half-integers, with its own principal point).
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

/// New corners of `gray` (Shi–Tomasi, sub-pixel), at most `max_points`, none within
/// `min_distance` pixels of another or of the `existing_count` points of `existing` (x, y
/// pairs). Writes x, y pairs into `points` and returns how many; −1 if OpenCV failed.
int strata_vision_corners(const uint8_t *gray, int width, int height, int max_points, double quality, double min_distance,
                          const float *existing, int existing_count, float *points);

/// The `count` points of `points0` in `gray0` tracked into `gray1` (pyramidal Lucas–Kanade
/// there and back): `points1` gets where each landed and `kept` 1 where it came back within
/// half a pixel inside the image, else 0. Returns how many were kept; −1 if OpenCV failed.
int strata_vision_flow(const uint8_t *gray0, const uint8_t *gray1, int width, int height, const float *points0, int count,
                       float *points1, uint8_t *kept);

/// The `count` points seen at `points0` by a camera at `pose0` and at `points1` by one at
/// `pose1` (both of the given intrinsics), triangulated linearly (DLT): x, y, z for each in
/// `xyz` (NaN for a point at infinity). Returns `count`; −1 if OpenCV failed.
int strata_vision_triangulate(const double *pose0, const double *pose1, const float *points0, const float *points1, int count,
                              double fx, double fy, double cx, double cy, double *xyz);

/// The pose of a camera that sees the `count` world points `xyz` at `points`: EPnP in
/// RANSAC (`threshold` pixels), or from the pose given in `rotation` and `translation` when
/// `use_guess`, then refined by Levenberg–Marquardt on the inliers. Writes the pose back and
/// 1 or 0 for each point into `inliers` (or NULL). Returns the inlier count, 0 when no pose
/// is found, −1 if OpenCV failed.
int strata_vision_absolute_pose(const double *xyz, const float *points, int count, double fx, double fy, double cx, double cy,
                                double threshold, int use_guess, double *rotation, double *translation, uint8_t *inliers);

/// The similarity (scale s, rotation R row-major, translation t) that best maps the `count`
/// points `from` onto `to` (x, y, z each) in the least-squares sense: Umeyama's closed form.
/// Returns 1, 0 when there are fewer than three points or they are degenerate, −1 if OpenCV failed.
int strata_vision_similarity(const double *from, const double *to, int count, double *scale, double *rotation, double *translation);

/// Bundle adjustment: the `camera_count` poses (12 doubles each, see above) and the
/// `point_count` points (x, y, z) that minimise the squared reprojection errors of the
/// `observation_count` observations (camera `observed_camera[i]` sees point
/// `observed_point[i]` at `observed_xy[2i]`, `observed_xy[2i + 1]`), under a Huber loss of
/// `huber` pixels (none if 0). Cameras with `fixed[c]` set stay where they are (they fix the
/// gauge: at least two, or one and the scale). The principal point is fixed, and so is the
/// focal length unless `focal_scale` is given: then fx and fy are both multiplied by it,
/// starting from its value, and it comes back refined. Writes the refined poses and points
/// back; returns the root mean square residual in pixels, −1 on failure.
double strata_vision_bundle_adjust(double *poses, int camera_count, double *points, int point_count, const int32_t *observed_camera,
                                   const int32_t *observed_point, const double *observed_xy, int observation_count, double fx,
                                   double fy, double cx, double cy, const uint8_t *fixed, double huber, int max_iterations,
                                   int threads, double *focal_scale);

/// The relative pose of two views of a spherical (360°) camera from `count` matched unit
/// rays (x, y, z each, camera axes as above, any direction): the essential matrix by the
/// eight-point algorithm on the rays in RANSAC (`iterations` draws of a fixed seed; a pair
/// agrees when both rays lie within `threshold`, the sine of an angle, of the epipolar
/// plane the other gives), refitted on its inliers, then the R and unit t (X₁ = R·X₀ + t)
/// that put most of them ahead along both rays. `inliers` (count bytes, or NULL) gets 1 for
/// each such pair. Returns their count, 0 when no pose is found, −1 if OpenCV failed.
int strata_vision_relative_pose_bearings(const double *bearings0, const double *bearings1, int count, double threshold,
                                         int iterations, double *rotation, double *translation, uint8_t *inliers);

/// Bundle adjustment of a spherical (360°) camera: as `strata_vision_bundle_adjust`, with
/// each observation a unit ray (`observed_bearing`, x, y, z) and its error the chord from
/// it to the ray towards the point, in pixels of the panorama's equator
/// (`pixels_per_radian`). With `points_fixed`, only the free cameras move (a frame placed on
/// known points). Returns the root mean square residual in those pixels, −1 on failure.
double strata_vision_bundle_adjust_bearings(double *poses, int camera_count, double *points, int point_count,
                                            const int32_t *observed_camera, const int32_t *observed_point, const double *observed_bearing,
                                            int observation_count, double pixels_per_radian, const uint8_t *fixed, int points_fixed,
                                            double huber, int max_iterations, int threads);

#ifdef __cplusplus
}
#endif

#endif
