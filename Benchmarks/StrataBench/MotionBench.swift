import Foundation
import StrataCore
import StrataIO
import StrataMotion

/// The relative pose of two frames (`StrataMotion.RelativePose`), for an evaluation script
/// to compare with a trajectory (`Benchmarks/motion_eval.py`): one JSON line with R
/// (row-major), the unit t, the corners tracked and the inliers, and the time taken.
///
///     strata-bench motion FIRST SECOND FX FY CX CY     (CX, CY with pixel centres at half-integers;
///                                                      THRESHOLD=pixels for RANSAC, default RelativePose's)
enum MotionBench {
    static func run(_ first: String, _ second: String, fx: Double, fy: Double, cx: Double, cy: Double) throws {
        let a = try ImageFile.read(URL(fileURLWithPath: first)), b = try ImageFile.read(URL(fileURLWithPath: second))
        let k = PinholeIntrinsics(fx: fx, fy: fy, cx: cx, cy: cy, width: a.width, height: a.height)
        let start = DispatchTime.now()
        let threshold = ProcessInfo.processInfo.environment["THRESHOLD"].flatMap(Double.init)
        let pose = try threshold.map { try RelativePose.estimate(a, b, intrinsics: k, threshold: $0) } ?? RelativePose.estimate(a, b, intrinsics: k)
        let seconds = StrataBench.seconds(since: start)
        let rotation = pose.rotation.map { String(format: "%.9f", $0) }.joined(separator: ", ")
        print(String(format: "{\"rotation\": [%@], \"translation\": [%.9f, %.9f, %.9f], \"tracked\": %d, \"inliers\": %d, \"parallax\": %.3f, \"rotation_only\": %@, \"seconds\": %.3f}",
                     rotation, pose.translation.x, pose.translation.y, pose.translation.z, pose.tracked, pose.inliers, pose.parallax,
                     pose.isRotationOnly ? "true" : "false", seconds))
    }
}
