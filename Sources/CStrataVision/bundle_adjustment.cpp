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

} // namespace

double strata_vision_bundle_adjust(double *poses, int camera_count, double *points, int point_count, const int32_t *observed_camera,
                                   const int32_t *observed_point, const double *observed_xy, int observation_count, double fx,
                                   double fy, double cx, double cy, const uint8_t *fixed, double huber, int max_iterations,
                                   int threads, double *focal_scale) {
    try {
        if (camera_count <= 0 || point_count <= 0 || observation_count <= 0) return -1;
        // Angle-axis and translation for each camera, converted from and back to R | t.
        std::vector<double> cameras(6 * camera_count);
        for (int c = 0; c < camera_count; c++) {
            ceres::RotationMatrixToAngleAxis(ceres::RowMajorAdapter3x3(static_cast<const double *>(poses + 12 * c)), &cameras[6 * c]);
            for (int i = 0; i < 3; i++) cameras[6 * c + 3 + i] = poses[12 * c + 9 + i];
        }
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
        ceres::Solver::Options options;
        options.linear_solver_type = ceres::SPARSE_SCHUR;
        options.max_num_iterations = max_iterations;
        options.num_threads = threads > 0 ? threads : 1;
        options.logging_type = ceres::SILENT;
        options.minimizer_progress_to_stdout = false;
        ceres::Solver::Summary summary;
        ceres::Solve(options, &problem, &summary);
        if (!summary.IsSolutionUsable()) return -1;
        for (int c = 0; c < camera_count; c++) {
            double r[9];
            ceres::AngleAxisToRotationMatrix(&cameras[6 * c], ceres::RowMajorAdapter3x3(r));
            for (int i = 0; i < 9; i++) poses[12 * c + i] = r[i];
            for (int i = 0; i < 3; i++) poses[12 * c + 9 + i] = cameras[6 * c + 3 + i];
        }
        if (focal_scale) *focal_scale = focal;
        // The root mean square of the residuals, in pixels (the cost is half their squared sum).
        return std::sqrt(2 * summary.final_cost / observation_count);
    } catch (...) {
        return -1;
    }
}
