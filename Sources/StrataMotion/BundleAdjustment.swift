import CStrataVision
import StrataCore

/// Bundle adjustment through Ceres (`CStrataVision`): poses and points refined together to
/// minimise the reprojection error, robustly (Huber), with the intrinsics fixed.
struct BundleAdjustment {
    /// The cameras' poses; those marked `fixed` stay put.
    var poses: [CameraPose]
    var fixed: [Bool]
    var points: [Vector3]
    /// Camera index, point index and where the camera saw the point (Strata's pixel convention).
    var observations: [(camera: Int32, point: Int32, xy: SIMD2<Double>)] = []

    /// Runs the adjustment; returns the root mean square residual in pixels. One thread:
    /// Ceres's threads sum the normal equations in an order that depends on their number, and
    /// every shard of a run, on any machine, must place the cameras to the same bit.
    /// The focal length's factor when it is refined too (nil: fixed).
    var focalScale: Double?

    mutating func solve(_ k: PinholeIntrinsics, huber: Double = 1, iterations: Int = 50) throws -> Double {
        var packedPoses = poses.flatMap(\.packed)
        var packedPoints = points.flatMap { [$0.x, $0.y, $0.z] }
        let cameras = observations.map(\.camera), indices = observations.map(\.point)
        let xy = observations.flatMap { [$0.xy.x, $0.xy.y] }
        let fixedBytes = fixed.map { UInt8($0 ? 1 : 0) }
        var focal = focalScale ?? 1
        let rms = withUnsafeMutablePointer(to: &focal) { focal in
            strata_vision_bundle_adjust(&packedPoses, Int32(poses.count), &packedPoints, Int32(points.count), cameras, indices, xy,
                                        Int32(observations.count), k.fx, k.fy, k.cx, k.cy, fixedBytes, huber, Int32(iterations),
                                        1, focalScale == nil ? nil : focal)
        }
        if focalScale != nil { focalScale = focal }
        guard rms >= 0 else { throw MotionError("bundle adjustment failed (\(poses.count) cameras, \(points.count) points)") }
        poses = (0..<poses.count).map { CameraPose(packed: packedPoses[(12 * $0)..<(12 * $0 + 12)]) }
        points = (0..<points.count).map { Vector3(packedPoints[3 * $0], packedPoints[3 * $0 + 1], packedPoints[3 * $0 + 2]) }
        return rms
    }

    /// Runs the adjustment for a spherical camera, each observation's pixel turned into its
    /// ray; with `pointsFixed` only the free cameras move. Returns the root mean square
    /// error in pixels of the equator.
    mutating func solve(_ sphere: SphericalCamera, huber: Double = 1, iterations: Int = 50, pointsFixed: Bool = false) throws -> Double {
        var packedPoses = poses.flatMap(\.packed)
        var packedPoints = points.flatMap { [$0.x, $0.y, $0.z] }
        let cameras = observations.map(\.camera), indices = observations.map(\.point)
        let rays = observations.flatMap { o -> [Double] in
            let b = sphere.bearing(SIMD2(Float(o.xy.x), Float(o.xy.y)))
            return [b.x, b.y, b.z]
        }
        let fixedBytes = fixed.map { UInt8($0 ? 1 : 0) }
        let rms = strata_vision_bundle_adjust_bearings(&packedPoses, Int32(poses.count), &packedPoints, Int32(points.count), cameras, indices,
                                                       rays, Int32(observations.count), sphere.pixelsPerRadian, fixedBytes,
                                                       pointsFixed ? 1 : 0, huber, Int32(iterations), 1)
        guard rms >= 0 else { throw MotionError("bundle adjustment failed (\(poses.count) cameras, \(points.count) points)") }
        poses = (0..<poses.count).map { CameraPose(packed: packedPoses[(12 * $0)..<(12 * $0 + 12)]) }
        points = (0..<points.count).map { Vector3(packedPoints[3 * $0], packedPoints[3 * $0 + 1], packedPoints[3 * $0 + 2]) }
        return rms
    }
}
