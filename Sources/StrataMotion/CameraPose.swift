import Foundation
import StrataCore

/// Where a camera stood and where it looked: world to camera, X_cam = R · X + t, in
/// OpenCV's and COLMAP's camera axes (x right, y down, z forward).
public struct CameraPose: Sendable, Equatable {
    /// R, row-major.
    public var rotation: [Double]
    /// t.
    public var translation: Vector3

    public init(rotation: [Double], translation: Vector3) {
        precondition(rotation.count == 9)
        self.rotation = rotation
        self.translation = translation
    }

    /// The camera at the world's origin, looking down the world's z.
    public static let identity = CameraPose(rotation: [1, 0, 0, 0, 1, 0, 0, 0, 1], translation: .zero)

    /// The camera's centre in world coordinates: −Rᵀ · t.
    public var centre: Vector3 { -transposed(translation) }

    /// A world point in this camera's coordinates.
    public func transform(_ x: Vector3) -> Vector3 { rotated(x) + translation }

    /// R · v.
    public func rotated(_ v: Vector3) -> Vector3 {
        Vector3(rotation[0] * v.x + rotation[1] * v.y + rotation[2] * v.z,
                rotation[3] * v.x + rotation[4] * v.y + rotation[5] * v.z,
                rotation[6] * v.x + rotation[7] * v.y + rotation[8] * v.z)
    }

    /// Rᵀ · v: a direction in camera coordinates in world coordinates.
    public func transposed(_ v: Vector3) -> Vector3 {
        Vector3(rotation[0] * v.x + rotation[3] * v.y + rotation[6] * v.z,
                rotation[1] * v.x + rotation[4] * v.y + rotation[7] * v.z,
                rotation[2] * v.x + rotation[5] * v.y + rotation[8] * v.z)
    }

    /// The pose of the camera relative to this one: X_this = (this · other⁻¹) · X_other.
    public func relative(to other: CameraPose) -> CameraPose {
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 {
            for j in 0..<3 { r[3 * i + j] = (0..<3).reduce(0) { $0 + rotation[3 * i + $1] * other.rotation[3 * j + $1] } }
        }
        let pose = CameraPose(rotation: r, translation: .zero)
        return CameraPose(rotation: r, translation: translation - pose.rotated(other.translation))
    }

    /// The rotation's angle, in degrees: from its cosine (the trace) and its sine (the
    /// antisymmetric part) together, as acos alone loses small angles to rounding.
    public var angleDegrees: Double {
        let r = rotation
        let cosine = (r[0] + r[4] + r[8] - 1) / 2
        let sine = Vector3(r[7] - r[5], r[2] - r[6], r[3] - r[1]).norm / 2
        return atan2(sine, cosine) * 180 / .pi
    }

    /// R as a unit quaternion (w, x, y, z) with w ≥ 0 (COLMAP's and TUM's order differ;
    /// each writer orders it).
    public var quaternion: (w: Double, x: Double, y: Double, z: Double) {
        let r = rotation
        let trace = r[0] + r[4] + r[8]
        var q: (w: Double, x: Double, y: Double, z: Double)
        // The largest of the four candidates, for accuracy (Shepperd's method).
        if trace > 0 {
            let s = (trace + 1).squareRoot() * 2
            q = (0.25 * s, (r[7] - r[5]) / s, (r[2] - r[6]) / s, (r[3] - r[1]) / s)
        } else if r[0] > r[4], r[0] > r[8] {
            let s = (1 + r[0] - r[4] - r[8]).squareRoot() * 2
            q = ((r[7] - r[5]) / s, 0.25 * s, (r[1] + r[3]) / s, (r[2] + r[6]) / s)
        } else if r[4] > r[8] {
            let s = (1 + r[4] - r[0] - r[8]).squareRoot() * 2
            q = ((r[2] - r[6]) / s, (r[1] + r[3]) / s, 0.25 * s, (r[5] + r[7]) / s)
        } else {
            let s = (1 + r[8] - r[0] - r[4]).squareRoot() * 2
            q = ((r[3] - r[1]) / s, (r[2] + r[6]) / s, (r[5] + r[7]) / s, 0.25 * s)
        }
        let norm = (q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z).squareRoot() * (q.w < 0 ? -1 : 1)
        return (q.w / norm, q.x / norm, q.y / norm, q.z / norm)
    }

    /// The inverse pose: camera to world (Rᵀ, −Rᵀ · t).
    public var inverse: CameraPose {
        let r = rotation
        let transposed = [r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8]]
        return CameraPose(rotation: transposed, translation: centre)
    }

    /// R then t, 12 doubles: what CStrataVision takes.
    var packed: [Double] { rotation + [translation.x, translation.y, translation.z] }

    init(packed p: ArraySlice<Double>) {
        let p = Array(p)
        self.init(rotation: Array(p[0..<9]), translation: Vector3(p[9], p[10], p[11]))
    }
}

extension SIMD where Scalar: FloatingPoint {
    /// The Euclidean length.
    var norm: Scalar { (self * self).sum().squareRoot() }
    /// The vector scaled to unit length.
    var unit: Self { self / Self(repeating: norm) }
}
