import Foundation
import StrataCore

/// Metric scale: motion alone knows lengths up to one factor, which a known length fixes —
/// the camera's height above the ground, or a scale given outright.
extension CameraMotion {
    /// The ground under the cameras: the plane through the most sparse points below them
    /// (a seeded RANSAC over point triples, the plane within 20° of level as the cameras
    /// hold themselves, inliers within 2% of the points' median distance), as a unit normal
    /// pointing up towards the cameras and the cameras' mean height above it in the
    /// motion's unit. Nil when fewer than 20 points agree on such a plane.
    public func ground() -> (normal: Vector3, height: Double, inliers: Int)? {
        let centres = poses.compactMap { $0?.centre }
        guard !centres.isEmpty, points.count >= 20 else { return nil }
        let mean = centres.reduce(Vector3.zero, +) / Double(centres.count)
        // The cameras' own down (their y axis, in the world), averaged.
        let down = poses.compactMap { $0?.transposed(Vector3(0, 1, 0)) }.reduce(Vector3.zero, +).unit
        let below = points.filter { (($0 - mean) * down).sum() > 0 }
        guard below.count >= 20 else { return nil }
        var distances = points.map { ($0 - mean).norm }
        distances.sort()
        let tolerance = 0.02 * distances[distances.count / 2]
        var seed: UInt64 = 0x2545F4914F6CDD1D
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        var best: (normal: Vector3, offset: Double, count: Int)?
        for _ in 0..<300 {
            let (a, b, c) = (below[next(below.count)], below[next(below.count)], below[next(below.count)])
            let cross = Vector3((b - a).y * (c - a).z - (b - a).z * (c - a).y, (b - a).z * (c - a).x - (b - a).x * (c - a).z,
                                (b - a).x * (c - a).y - (b - a).y * (c - a).x)
            guard cross.norm > 1e-12 else { continue }
            var normal = cross.unit
            if (normal * down).sum() > 0 { normal = -normal }  // up, towards the cameras
            guard -(normal * down).sum() > cos(20 * Double.pi / 180) else { continue }
            let offset = (normal * a).sum()
            let count = below.filter { abs(($0 * normal).sum() - offset) < tolerance }.count
            if count > best?.count ?? 0 { best = (normal, offset, count) }
        }
        guard let plane = best, plane.count >= 20 else { return nil }
        // The inliers' mean offset, and the cameras' mean height above it.
        let inliers = below.filter { abs(($0 * plane.normal).sum() - plane.offset) < tolerance }
        let offset = inliers.reduce(0) { $0 + ($1 * plane.normal).sum() } / Double(inliers.count)
        let height = centres.reduce(0) { $0 + ($1 * plane.normal).sum() - offset } / Double(centres.count)
        guard height > 0 else { return nil }
        return (plane.normal, height, inliers.count)
    }

    /// The motion with every length times `factor` (poses' translations, points): in metres
    /// when `factor` is metres per unit of the motion.
    public func scaled(by factor: Double) -> CameraMotion {
        var scaled = self
        scaled.poses = poses.map { $0.map { CameraPose(rotation: $0.rotation, translation: $0.translation * factor) } }
        scaled.points = points.map { $0 * factor }
        return scaled
    }
}
