// Bundle adjustment on Ceres (Debian's libceres-dev 2.1): the cameras' poses and the
// points' positions that minimise the reprojection error, robustly. Exceptions never cross
// the C API.
#include "CStrataVision.h"

#include <ceres/ceres.h>
#include <ceres/rotation.h>

#include <cmath>
#include <vector>

namespace {

/// The reprojection error of one observation: a pinhole camera of known intrinsics, its pose
/// as an angle-axis rotation and a translation (world to camera, x right, y down, z forward).
struct Reprojection {
    double x, y, fx, fy, cx, cy;

    template <typename T> bool operator()(const T *camera, const T *point, const T *focal, T *residual) const {
        T p[3];
        ceres::AngleAxisRotatePoint(camera, point, p);
        p[0] += camera[3];
        p[1] += camera[4];
        p[2] += camera[5];
        residual[0] = T(fx) * focal[0] * p[0] / p[2] + T(cx) - T(x);
        residual[1] = T(fy) * focal[0] * p[1] / p[2] + T(cy) - T(y);
        return true;
    }
};

/// The error of one observation by a spherical (360°) camera: the unit ray to the point,
/// less the unit ray observed, in pixels of the panorama's equator (`scale` pixels a
/// radian). Three residuals of which only two are free: the chord between the rays, which
/// is their angle to within a part in 10⁴ at the errors that count.
struct RayError {
    double x, y, z, scale;

    template <typename T> bool operator()(const T *camera, const T *point, T *residual) const {
        T p[3];
        ceres::AngleAxisRotatePoint(camera, point, p);
        p[0] += camera[3];
        p[1] += camera[4];
        p[2] += camera[5];
        const T length = ceres::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
        residual[0] = T(scale) * (p[0] / length - T(x));
        residual[1] = T(scale) * (p[1] / length - T(y));
        residual[2] = T(scale) * (p[2] / length - T(z));
        return true;
    }
};

/// The cameras' angle-axis rotations and translations, from poses of 12 doubles.
std::vector<double> angle_axis(const double *poses, int camera_count) {
    std::vector<double> cameras(6 * camera_count);
    for (int c = 0; c < camera_count; c++) {
        ceres::RotationMatrixToAngleAxis(ceres::RowMajorAdapter3x3(static_cast<const double *>(poses + 12 * c)), &cameras[6 * c]);
        for (int i = 0; i < 3; i++) cameras[6 * c + 3 + i] = poses[12 * c + 9 + i];
    }
    return cameras;
}

/// Solves `problem` (Schur on the points, one thread unless told) and writes the cameras
/// back as poses; false when Ceres found no usable solution.
bool solve(ceres::Problem &problem, std::vector<double> &cameras, double *poses, int camera_count, int max_iterations, int threads,
           double *final_cost) {
    ceres::Solver::Options options;
    options.linear_solver_type = ceres::SPARSE_SCHUR;
    options.max_num_iterations = max_iterations;
    options.num_threads = threads > 0 ? threads : 1;
    options.logging_type = ceres::SILENT;
    options.minimizer_progress_to_stdout = false;
    ceres::Solver::Summary summary;
    ceres::Solve(options, &problem, &summary);
    if (!summary.IsSolutionUsable()) return false;
    for (int c = 0; c < camera_count; c++) {
        double r[9];
        ceres::AngleAxisToRotationMatrix(&cameras[6 * c], ceres::RowMajorAdapter3x3(r));
        for (int i = 0; i < 9; i++) poses[12 * c + i] = r[i];
        for (int i = 0; i < 3; i++) poses[12 * c + 9 + i] = cameras[6 * c + 3 + i];
    }
    *final_cost = summary.final_cost;
    return true;
}

} // namespace

double strata_vision_bundle_adjust(double *poses, int camera_count, double *points, int point_count, const int32_t *observed_camera,
                                   const int32_t *observed_point, const double *observed_xy, int observation_count, double fx,
                                   double fy, double cx, double cy, const uint8_t *fixed, double huber, int max_iterations,
                                   int threads, double *focal_scale) {
    try {
        if (camera_count <= 0 || point_count <= 0 || observation_count <= 0) return -1;
        std::vector<double> cameras = angle_axis(poses, camera_count);
        ceres::Problem problem;
        double focal = focal_scale ? *focal_scale : 1;
        for (int o = 0; o < observation_count; o++) {
            const int c = observed_camera[o], p = observed_point[o];
            if (c < 0 || c >= camera_count || p < 0 || p >= point_count) return -1;
            auto *cost = new ceres::AutoDiffCostFunction<Reprojection, 2, 6, 3, 1>(
                new Reprojection{observed_xy[2 * o], observed_xy[2 * o + 1], fx, fy, cx, cy});
            problem.AddResidualBlock(cost, huber > 0 ? new ceres::HuberLoss(huber) : nullptr, &cameras[6 * c], points + 3 * p, &focal);
        }
        for (int c = 0; c < camera_count; c++)
            if (fixed && fixed[c] && problem.HasParameterBlock(&cameras[6 * c])) problem.SetParameterBlockConstant(&cameras[6 * c]);
        if (!focal_scale) problem.SetParameterBlockConstant(&focal);
        double cost;
        if (!solve(problem, cameras, poses, camera_count, max_iterations, threads, &cost)) return -1;
        if (focal_scale) *focal_scale = focal;
        // The root mean square of the residuals, in pixels (the cost is half their squared sum).
        return std::sqrt(2 * cost / observation_count);
    } catch (...) {
        return -1;
    }
}

double strata_vision_bundle_adjust_bearings(double *poses, int camera_count, double *points, int point_count,
                                            const int32_t *observed_camera, const int32_t *observed_point, const double *observed_bearing,
                                            int observation_count, double pixels_per_radian, const uint8_t *fixed, int points_fixed,
                                            double huber, int max_iterations, int threads) {
    try {
        if (camera_count <= 0 || point_count <= 0 || observation_count <= 0) return -1;
        std::vector<double> cameras = angle_axis(poses, camera_count);
        ceres::Problem problem;
        for (int o = 0; o < observation_count; o++) {
            const int c = observed_camera[o], p = observed_point[o];
            if (c < 0 || c >= camera_count || p < 0 || p >= point_count) return -1;
            const double *b = observed_bearing + 3 * o;
            auto *cost = new ceres::AutoDiffCostFunction<RayError, 3, 6, 3>(new RayError{b[0], b[1], b[2], pixels_per_radian});
            problem.AddResidualBlock(cost, huber > 0 ? new ceres::HuberLoss(huber) : nullptr, &cameras[6 * c], points + 3 * p);
        }
        for (int c = 0; c < camera_count; c++)
            if (fixed && fixed[c] && problem.HasParameterBlock(&cameras[6 * c])) problem.SetParameterBlockConstant(&cameras[6 * c]);
        if (points_fixed)
            for (int p = 0; p < point_count; p++)
                if (problem.HasParameterBlock(points + 3 * p)) problem.SetParameterBlockConstant(points + 3 * p);
        double cost;
        if (!solve(problem, cameras, poses, camera_count, max_iterations, threads, &cost)) return -1;
        return std::sqrt(2 * cost / observation_count);
    } catch (...) {
        return -1;
    }
}
