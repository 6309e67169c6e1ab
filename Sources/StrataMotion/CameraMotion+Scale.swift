import Foundation
import StrataCore

/// Metric scale: motion alone knows lengths up to one factor, which a known length fixes.
extension CameraMotion {
    /// The motion with every length times `factor` (poses' translations, points): in metres
    /// when `factor` is metres per unit of the motion.
    public func scaled(by factor: Double) -> CameraMotion {
        var scaled = self
        scaled.poses = poses.map { $0.map { CameraPose(rotation: $0.rotation, translation: $0.translation * factor) } }
        scaled.points = points.map { $0 * factor }
        return scaled
    }
}

extension CameraMotion {
    /// Metres per unit of this motion when the camera's first and last placed positions lie
    /// `metres` apart; nil when fewer than two frames are placed or they coincide.
    public func metresPerUnit(firstToLast metres: Double) -> Double? {
        let centres = poses.compactMap { $0?.centre }
        guard centres.count >= 2, metres > 0 else { return nil }
        let apart = (centres.last! - centres.first!).norm
        return apart > 0 ? metres / apart : nil
    }
}

extension CameraMotion {
    /// Metres per unit of this motion when the camera was carried `metres` above a flat
    /// ground that its sparse points see (a walk, a car, a drone over a field); nil when no
    /// such ground is found.
    ///
    /// The ground is the plane that most points below the cameras lie on (RANSAC over
    /// triples, fixed seed) whose normal is within 25° of the cameras' mean down axis (image
    /// rows grow downwards, in the pinhole and the equirect model alike): walls and the
    /// ceiling do not qualify, nor does a plane with points beneath it (a row of features
    /// at one height on the walls, a table top: a ground has nothing under it). Its offset
    /// is the median over its inliers; the camera's height is the median of the placed
    /// centres' distances to it.
    public func metresPerUnit(cameraHeight metres: Double) -> Double? {
        guard metres > 0, let height = groundHeight() else { return nil }
        return metres / height
    }

    /// The camera's height above the ground plane in this motion's units (see
    /// ``metresPerUnit(cameraHeight:)``), or nil.
    func groundHeight() -> Double? {
        let placed = poses.compactMap { $0 }
        guard !placed.isEmpty, points.count >= 12 else { return nil }
        let down = placed.reduce(Vector3.zero) { $0 + $1.transposed(Vector3(0, 1, 0)) }.unit
        let centre = placed.reduce(Vector3.zero) { $0 + $1.centre } / Double(placed.count)
        // Points below the cameras, and how far below: the scale of the tolerance.
        let below = points.filter { ($0 - centre).dot(down) > 0 }
        guard below.count >= 12 else { return nil }
        let depths = below.map { ($0 - centre).dot(down) }.sorted()
        let tolerance = 0.03 * depths[depths.count / 2]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var best: (normal: Vector3, inliers: [Vector3])?
        let minimumCosine = cos(25 * Double.pi / 180)
        for _ in 0..<500 {
            let (a, b, c) = (below[next(below.count)], below[next(below.count)], below[next(below.count)])
            let cross = (b - a).cross(c - a)
            guard cross.norm > 0 else { continue }
            var normal = cross.unit
            if normal.dot(down) < 0 { normal = -normal }
            guard normal.dot(down) >= minimumCosine else { continue }
            let offset = normal.dot(a)
            let inliers = below.filter { abs(normal.dot($0) - offset) < tolerance }
            if inliers.count > (best?.inliers.count ?? 0) { best = (normal, inliers) }
        }
        guard let best, best.inliers.count >= max(12, below.count / 20) else { return nil }
        let offsets = best.inliers.map { best.normal.dot($0) }.sorted()
        let offset = offsets[offsets.count / 2]
        // A ground has nothing under it: a plane with points beyond it (a row of features
        // at one height on the walls, a table top) is not the ground.
        let beneath = below.filter { best.normal.dot($0) > offset + 3 * tolerance }.count
        guard beneath <= best.inliers.count / 10 else { return nil }
        // The plane lies below every camera it is measured from.
        let heights = placed.map { offset - best.normal.dot($0.centre) }.sorted()
        let height = heights[heights.count / 2]
        return heights[0] > 0 ? height : nil
    }
}
